/* Private helpers of lib/mqtt: a bounds-checked reader and a counting writer. Not installed. */
#ifndef PP_MQTT_INTERNAL_H
#define PP_MQTT_INTERNAL_H

#include "mqtt/mqtt.h"

#include <string.h>

/* Reader over [p, end): every read checks the bound and fails with MQTT_ERR_FIELD_OVERRUN. */
typedef struct mqtt_reader {
    const uint8_t *p, *end;
} mqtt_reader;

static inline size_t rd_left(const mqtt_reader *r) { return (size_t)(r->end - r->p); }

static inline int rd_u8(mqtt_reader *r, uint8_t *v)
{
    if (rd_left(r) < 1)
        return MQTT_ERR_FIELD_OVERRUN;
    *v = *r->p++;
    return 0;
}

static inline int rd_u16(mqtt_reader *r, uint16_t *v)
{
    if (rd_left(r) < 2)
        return MQTT_ERR_FIELD_OVERRUN;
    *v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return 0;
}

static inline int rd_u32(mqtt_reader *r, uint32_t *v)
{
    if (rd_left(r) < 4)
        return MQTT_ERR_FIELD_OVERRUN;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return 0;
}

/* Variable Byte Integer inside a packet: running out of bytes is an overrun, not "need more". */
static inline int rd_varint(mqtt_reader *r, uint32_t *v)
{
    int n = mqtt_varint_decode(r->p, rd_left(r), v);
    if (n == 0)
        return MQTT_ERR_FIELD_OVERRUN;
    if (n < 0)
        return n;
    r->p += n;
    return 0;
}

/* Two-byte length prefix then that many bytes (Binary Data, or a string before UTF-8 checks). */
static inline int rd_bin(mqtt_reader *r, mqtt_bytes *out)
{
    uint16_t n = 0;
    int rc = rd_u16(r, &n);
    if (rc < 0)
        return rc;
    if (rd_left(r) < n)
        return MQTT_ERR_FIELD_OVERRUN;
    out->ptr = r->p;
    out->len = n;
    r->p += n;
    return 0;
}

/* UTF-8 Encoded String (MQTT-1.5.4-1, -2). */
static inline int rd_str(mqtt_reader *r, mqtt_bytes *out)
{
    int rc = rd_bin(r, out);
    if (rc < 0)
        return rc;
    return mqtt_utf8_valid(out->ptr, out->len) ? 0 : MQTT_ERR_INVALID_UTF8;
}

/* Writer into [buf, buf+cap): counts past the end instead of writing, so one pass with
 * cap 0 sizes a packet and a second pass writes it. invalid marks unrepresentable input. */
typedef struct mqtt_writer {
    uint8_t *buf;
    size_t cap, pos;
    bool invalid;
} mqtt_writer;

static inline void wr_u8(mqtt_writer *w, uint8_t v)
{
    if (w->pos < w->cap)
        w->buf[w->pos] = v;
    w->pos++;
}

static inline void wr_u16(mqtt_writer *w, uint16_t v)
{
    wr_u8(w, (uint8_t)(v >> 8));
    wr_u8(w, (uint8_t)v);
}

static inline void wr_u32(mqtt_writer *w, uint32_t v)
{
    wr_u16(w, (uint16_t)(v >> 16));
    wr_u16(w, (uint16_t)v);
}

static inline void wr_raw(mqtt_writer *w, const uint8_t *p, size_t n)
{
    if (n && w->pos < w->cap) {
        size_t room = w->cap - w->pos;
        memcpy(w->buf + w->pos, p, n < room ? n : room);
    }
    w->pos += n;
}

static inline void wr_varint(mqtt_writer *w, uint32_t v)
{
    if (v > MQTT_MAX_REMAINING) {
        w->invalid = true;
        return;
    }
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        wr_u8(w, v ? (uint8_t)(b | 0x80) : b);
    } while (v);
}

static inline void wr_bin(mqtt_writer *w, mqtt_bytes b)
{
    if (b.len > 0xFFFF) {
        w->invalid = true;
        return;
    }
    wr_u16(w, (uint16_t)b.len);
    wr_raw(w, b.ptr, b.len);
}

static inline size_t varint_size(uint32_t v)
{
    return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/* Property block content (list or raw) into w. */
void mqtt_props_write(mqtt_writer *w, const mqtt_props *props);
/* Topic filter check without the $share syntax (MQTT 3.x, and the inner filter of a share). */
int mqtt_plain_filter_check(const uint8_t *s, size_t len);

#endif
