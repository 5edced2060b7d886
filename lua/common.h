/* lua/common.h: small helpers shared by the runner's C files (strings, vectors, durations). */
#ifndef PC_COMMON_H
#define PC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable list of owned C strings. */
typedef struct pc_strv {
    char **items;
    size_t count, cap;
} pc_strv;

void pc_strv_push(pc_strv *v, const char *s);           /* copies s */
void pc_strv_push_owned(pc_strv *v, char *s);           /* takes s */
void pc_strv_free(pc_strv *v);
bool pc_strv_contains(const pc_strv *v, const char *s);
char *pc_strv_join(const pc_strv *v, const char *sep);  /* malloc'd */

/* Remove path and everything below it (no symlink is followed). 0, or -1 with errno. */
int pc_rmtree(const char *path);
char *pc_strdup(const char *s);                          /* NULL stays NULL; aborts on OOM */
char *pc_strndup(const char *s, size_t n);
char *pc_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* malloc'd */
void *pc_xmalloc(size_t n);                              /* aborts on OOM */
void *pc_xcalloc(size_t n, size_t size);
void *pc_xrealloc(void *p, size_t n);

/* A growable byte buffer (for reports and transcripts); bounded by max (0 = unbounded). */
typedef struct pc_sbuf {
    char *data;
    size_t len, cap, max;
    bool truncated;
} pc_sbuf;
void pc_sbuf_add(pc_sbuf *b, const void *p, size_t n);
void pc_sbuf_puts(pc_sbuf *b, const char *s);
void pc_sbuf_printf(pc_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pc_sbuf_free(pc_sbuf *b);
const char *pc_sbuf_cstr(pc_sbuf *b);                   /* NUL-terminated view */

/* "3s", "250ms", "1.5s", "2m", or a bare number of seconds. Milliseconds, or -1 when bad. */
int64_t pc_parse_duration_ms(const char *text);

/* Case-sensitive glob with '*' and '?' (fnmatch without special '/' handling). */
bool pc_glob(const char *pattern, const char *text);

#endif
