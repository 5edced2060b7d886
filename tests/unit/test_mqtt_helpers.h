/* Shared by tests/unit/test_mqtt_*.c: write packets as readable hex with quoted ASCII,
 * e.g. "00 04 'MQTT' 04 02 00 3c", and decode them. */
#ifndef TEST_MQTT_HELPERS_H
#define TEST_MQTT_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/mqtt.h"

typedef struct tbuf {
    uint8_t b[8192];
    size_t n;
} tbuf;

/* Hex pairs (spaces ignored), 'quoted ASCII', and { ... }: a Variable Byte Integer with the
 * length of the enclosed bytes, then those bytes (for v5 property blocks). Aborts the test
 * on bad syntax or overflow. *pos is advanced past what was parsed. */
static inline size_t th_hex_at(const char **pos, uint8_t *out, size_t cap, bool nested)
{
    const char *s = *pos;
    size_t n = 0;
    while (*s) {
        if (*s == ' ' || *s == '\n') {
            s++;
        } else if (*s == '}') {
            assert_true(nested);
            s++;
            break;
        } else if (*s == '{') {
            uint8_t inner[4096];
            s++;
            size_t k = th_hex_at(&s, inner, sizeof inner, true);
            assert_true(n + 4 + k <= cap);
            ssize_t vl = mqtt_varint_encode(out + n, 4, (uint32_t)k);
            assert_true(vl > 0);
            n += (size_t)vl;
            memcpy(out + n, inner, k);
            n += k;
        } else if (*s == '\'') {
            s++;
            while (*s && *s != '\'') {
                assert_true(n < cap);
                out[n++] = (uint8_t)*s++;
            }
            assert_true(*s == '\'');
            s++;
        } else {
            char pair[3] = { s[0], s[1], 0 };
            char *end;
            assert_true(s[1] != 0);
            unsigned long v = strtoul(pair, &end, 16);
            assert_true(end == pair + 2);
            assert_true(n < cap);
            out[n++] = (uint8_t)v;
            s += 2;
        }
    }
    *pos = s;
    return n;
}

static inline size_t th_hex(const char *s, uint8_t *out, size_t cap)
{
    return th_hex_at(&s, out, cap, false);
}

/* The whole packet given in hex. */
static inline ssize_t th_decode_hex(tbuf *t, uint8_t level, const char *hex, mqtt_packet *p)
{
    t->n = th_hex(hex, t->b, sizeof t->b);
    return mqtt_decode(t->b, t->n, level, p);
}

/* First byte + a correct remaining length + body given in hex. */
static inline ssize_t th_decode_body(tbuf *t, uint8_t level, uint8_t first, const char *body,
                                     mqtt_packet *p)
{
    uint8_t tmp[sizeof t->b];
    size_t blen = th_hex(body, tmp, sizeof tmp);
    t->b[0] = first;
    ssize_t vl = mqtt_varint_encode(t->b + 1, 4, (uint32_t)blen);
    assert_true(vl > 0);
    assert_true(1 + (size_t)vl + blen <= sizeof t->b);
    memcpy(t->b + 1 + vl, tmp, blen);
    t->n = 1 + (size_t)vl + blen;
    return mqtt_decode(t->b, t->n, level, p);
}

static inline bool th_eq(mqtt_bytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

#define assert_bytes_equal(b, s) assert_true(th_eq((b), (s)))

#endif
