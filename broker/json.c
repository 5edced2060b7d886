/* broker/json: bounded JSON writer (see json.h). */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jb_init(jbuf *jb, size_t limit)
{
    memset(jb, 0, sizeof(*jb));
    jb->limit = limit ? limit : 1u << 20;
}

void jb_free(jbuf *jb)
{
    free(jb->p);
    jb->p = NULL;
    jb->len = jb->cap = 0;
}

char *jb_take(jbuf *jb)
{
    if (jb->failed) {
        jb_free(jb);
        return NULL;
    }
    if (!jb->p)
        jb_append(jb, "", 0);
    char *out = jb->p;
    jb->p = NULL;
    jb->len = jb->cap = 0;
    return out;
}

static bool reserve(jbuf *jb, size_t extra)
{
    if (jb->failed)
        return false;
    size_t need = jb->len + extra + 1;
    if (need > jb->limit) {
        jb->failed = true;
        return false;
    }
    if (need <= jb->cap)
        return true;
    size_t cap = jb->cap ? jb->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > jb->limit)
        cap = jb->limit;
    char *p = realloc(jb->p, cap);
    if (!p) {
        jb->failed = true;
        return false;
    }
    jb->p = p;
    jb->cap = cap;
    return true;
}

void jb_append(jbuf *jb, const char *s, size_t n)
{
    if (!reserve(jb, n))
        return;
    memcpy(jb->p + jb->len, s, n);
    jb->len += n;
    jb->p[jb->len] = '\0';
}

void jb_printf(jbuf *jb, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        jb->failed = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        jb_append(jb, small, (size_t)n);
        return;
    }
    if (!reserve(jb, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(jb->p + jb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    jb->len += (size_t)n;
}

/* Comma before a value or key, unless it directly follows a key. */
static void before_value(jbuf *jb)
{
    if (jb->after_key) {
        jb->after_key = false;
        return;
    }
    if (jb->depth > 0) {
        if (jb->need_comma[jb->depth - 1])
            jb_append(jb, ",", 1);
        jb->need_comma[jb->depth - 1] = true;
    }
}

static void open_level(jbuf *jb, char c)
{
    before_value(jb);
    jb_append(jb, &c, 1);
    if (jb->depth >= JB_MAX_DEPTH) {
        jb->failed = true;
        return;
    }
    jb->need_comma[jb->depth++] = false;
}

static void close_level(jbuf *jb, char c)
{
    if (jb->depth > 0)
        jb->depth--;
    jb->after_key = false;
    jb_append(jb, &c, 1);
}

void jb_obj(jbuf *jb) { open_level(jb, '{'); }
void jb_obj_end(jbuf *jb) { close_level(jb, '}'); }
void jb_arr(jbuf *jb) { open_level(jb, '['); }
void jb_arr_end(jbuf *jb) { close_level(jb, ']'); }

static void put_escaped(jbuf *jb, const char *s, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    jb_append(jb, "\"", 1);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* the common case: a run of printable ASCII needing no escape, copied at once */
        size_t run = i;
        while (run < n && u[run] >= 0x20 && u[run] < 0x7f && u[run] != '"' && u[run] != '\\')
            run++;
        if (run > i) {
            jb_append(jb, (const char *)&u[i], run - i);
            i = run;
            continue;
        }
        unsigned char c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            jb_append(jb, e, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
            jb_append(jb, e, 6);
            i++;
        } else {
            /* Pass well-formed UTF-8 through; escape any other byte as \u00XX so the
             * output stays valid JSON whatever a peer sent (CN, ALPN, client ids). */
            size_t need = (c >= 0xf0 && c <= 0xf4) ? 4 : (c >= 0xe0) ? 3 : (c >= 0xc2 && c <= 0xdf) ? 2 : 0;
            bool ok = need > 0 && i + need <= n;
            for (size_t k = 1; ok && k < need; k++)
                ok = (u[i + k] & 0xc0) == 0x80;
            if (ok) {
                jb_append(jb, (const char *)&u[i], need);
                i += need;
            } else {
                char e[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
                jb_append(jb, e, 6);
                i++;
            }
        }
    }
    jb_append(jb, "\"", 1);
}

void jb_key(jbuf *jb, const char *key)
{
    before_value(jb);
    put_escaped(jb, key, strlen(key));
    jb_append(jb, ":", 1);
    jb->after_key = true;
}

void jb_str(jbuf *jb, const char *s)
{
    if (!s) {
        jb_null(jb);
        return;
    }
    jb_strn(jb, s, strlen(s));
}

void jb_strn(jbuf *jb, const char *s, size_t n)
{
    before_value(jb);
    put_escaped(jb, s, n);
}

void jb_hex(jbuf *jb, const uint8_t *p, size_t n)
{
    static const char hexd[] = "0123456789abcdef";
    before_value(jb);
    jb_append(jb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char h[2] = {hexd[p[i] >> 4], hexd[p[i] & 15]};
        jb_append(jb, h, 2);
    }
    jb_append(jb, "\"", 1);
}

void jb_i64(jbuf *jb, int64_t v)
{
    before_value(jb);
    jb_printf(jb, "%lld", (long long)v);
}

void jb_u64(jbuf *jb, uint64_t v)
{
    before_value(jb);
    jb_printf(jb, "%llu", (unsigned long long)v);
}

void jb_bool(jbuf *jb, bool v)
{
    before_value(jb);
    jb_append(jb, v ? "true" : "false", v ? 4 : 5);
}

void jb_null(jbuf *jb)
{
    before_value(jb);
    jb_append(jb, "null", 4);
}

void jb_raw_value(jbuf *jb, const char *json)
{
    before_value(jb);
    jb_append(jb, json, strlen(json));
}
