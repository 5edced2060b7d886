/* broker/json: a tiny bounded JSON writer for the admin API, events and log lines.
 * Commas are placed automatically from a small nesting stack, strings are escaped, and
 * the buffer never grows past its limit (overflow sets `failed`, callers check it once). */
#ifndef PPB_JSON_H
#define PPB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JB_MAX_DEPTH 16

typedef struct jbuf {
    char *p;
    size_t len, cap, limit;
    bool failed;
    int depth;
    bool need_comma[JB_MAX_DEPTH];
    bool after_key;
} jbuf;

void jb_init(jbuf *jb, size_t limit);
void jb_free(jbuf *jb);
/* Hand the text over to the caller (NUL-terminated, malloc'd); the jbuf is reset. */
char *jb_take(jbuf *jb);

void jb_obj(jbuf *jb);
void jb_obj_end(jbuf *jb);
void jb_arr(jbuf *jb);
void jb_arr_end(jbuf *jb);
void jb_key(jbuf *jb, const char *key);

void jb_str(jbuf *jb, const char *s);             /* NULL writes null */
void jb_strn(jbuf *jb, const char *s, size_t n);  /* bytes; non-UTF-8 and controls escaped */
void jb_hex(jbuf *jb, const uint8_t *p, size_t n);/* "0a1b..." */
void jb_i64(jbuf *jb, int64_t v);
void jb_u64(jbuf *jb, uint64_t v);
void jb_bool(jbuf *jb, bool v);
void jb_null(jbuf *jb);
/* Pre-rendered JSON value (an object or array from another jbuf). */
void jb_raw_value(jbuf *jb, const char *json);

/* Raw text, no comma handling (for non-JSON uses such as Prometheus output). */
void jb_append(jbuf *jb, const char *s, size_t n);
void jb_printf(jbuf *jb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
