/* Small helpers shared by the runner's C files. */
#include "common.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *pc_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fputs("ppconform: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *pc_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        fputs("ppconform: out of memory\n", stderr);
        abort();
    }
    return p;
}

void *pc_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fputs("ppconform: out of memory\n", stderr);
        abort();
    }
    return q;
}

char *pc_strdup(const char *s)
{
    return s ? pc_strndup(s, strlen(s)) : NULL;
}

char *pc_strndup(const char *s, size_t n)
{
    char *d = pc_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pc_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = pc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void pc_strv_push_owned(pc_strv *v, char *s)
{
    if (v->count == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 8;
        v->items = pc_xrealloc(v->items, v->cap * sizeof *v->items);
    }
    v->items[v->count++] = s;
}

void pc_strv_push(pc_strv *v, const char *s)
{
    pc_strv_push_owned(v, pc_strdup(s));
}

void pc_strv_free(pc_strv *v)
{
    for (size_t i = 0; i < v->count; i++)
        free(v->items[i]);
    free(v->items);
    memset(v, 0, sizeof *v);
}

bool pc_strv_contains(const pc_strv *v, const char *s)
{
    for (size_t i = 0; i < v->count; i++)
        if (strcmp(v->items[i], s) == 0)
            return true;
    return false;
}

char *pc_strv_join(const pc_strv *v, const char *sep)
{
    pc_sbuf b = {0};
    for (size_t i = 0; i < v->count; i++) {
        if (i)
            pc_sbuf_puts(&b, sep);
        pc_sbuf_puts(&b, v->items[i]);
    }
    pc_sbuf_cstr(&b);
    return b.data;
}

void pc_sbuf_add(pc_sbuf *b, const void *p, size_t n)
{
    if (b->max && b->len + n > b->max) {
        b->truncated = true;
        n = b->max > b->len ? b->max - b->len : 0;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = pc_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void pc_sbuf_puts(pc_sbuf *b, const char *s)
{
    pc_sbuf_add(b, s, strlen(s));
}

void pc_sbuf_printf(pc_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char small[512];
    char *s = (size_t)n < sizeof small ? small : pc_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    pc_sbuf_add(b, s, (size_t)n);
    if (s != small)
        free(s);
}

void pc_sbuf_free(pc_sbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

const char *pc_sbuf_cstr(pc_sbuf *b)
{
    if (!b->data)
        pc_sbuf_add(b, "", 0);
    return b->data;
}

int64_t pc_parse_duration_ms(const char *text)
{
    if (!text || !*text)
        return -1;
    char *end;
    double v = strtod(text, &end);
    if (end == text || v < 0 || v > 1e9)
        return -1;
    double mult = 1000;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60000;
    else
        return -1;
    return (int64_t)(v * mult + 0.5);
}

bool pc_glob(const char *pattern, const char *text)
{
    return fnmatch(pattern, text, 0) == 0;
}
