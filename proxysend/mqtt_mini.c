/* Minimal MQTT 3.1 / 3.1.1 / 5.0 encoders for CONNECT, PUBLISH, SUBSCRIBE and a CONNACK
 * decoder: what a sender needs to prove a header was accepted. */
#include "mqtt_mini.h"

#include <string.h>

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool overflow;
} wbuf;

static void put(wbuf *w, const void *v, size_t n)
{
    if (w->len + n > w->cap) {
        w->overflow = true;
        return;
    }
    memcpy(w->p + w->len, v, n);
    w->len += n;
}

static void put8(wbuf *w, uint8_t v) { put(w, &v, 1); }

static void put16(wbuf *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}

static void put_str(wbuf *w, const char *s, size_t n)
{
    put16(w, (uint16_t)n);
    put(w, s, n);
}

/* Fixed header + body: the body is first written at offset 5, then moved behind the real
 * variable-length Remaining Length. */
static ssize_t finish(uint8_t first, uint8_t *buf, size_t cap, size_t body_len, bool overflow)
{
    if (overflow || body_len > 268435455)
        return -1;
    uint8_t rl[4];
    size_t n = 0, x = body_len;
    do {
        uint8_t b = x % 128;
        x /= 128;
        rl[n++] = (uint8_t)(x ? b | 0x80 : b);
    } while (x);
    if (1 + n + body_len > cap)
        return -1;
    memmove(buf + 1 + n, buf + 5, body_len);
    buf[0] = first;
    memcpy(buf + 1, rl, n);
    return (ssize_t)(1 + n + body_len);
}

ssize_t ps_mqtt_encode_connect(const ps_mqtt_connect *c, uint8_t *buf, size_t cap)
{
    if (cap < 5)
        return -1;
    wbuf w = {buf + 5, 0, cap - 5, false};
    if (c->version == 3)
        put_str(&w, "MQIsdp", 6);
    else
        put_str(&w, "MQTT", 4);
    put8(&w, (uint8_t)c->version);
    uint8_t flags = c->clean ? 0x02 : 0;
    if (c->username)
        flags |= 0x80;
    if (c->password)
        flags |= 0x40;
    put8(&w, flags);
    put16(&w, (uint16_t)c->keep_alive);
    if (c->version == 5)
        put8(&w, 0); /* no properties */
    put_str(&w, c->client_id ? c->client_id : "", c->client_id ? strlen(c->client_id) : 0);
    if (c->username)
        put_str(&w, c->username, strlen(c->username));
    if (c->password)
        put_str(&w, c->password, strlen(c->password));
    return finish(0x10, buf, cap, w.len, w.overflow);
}

ssize_t ps_mqtt_encode_publish(int version, const char *topic, const uint8_t *msg, size_t msglen, int qos,
                               uint16_t packet_id, uint8_t *buf, size_t cap)
{
    if (cap < 5)
        return -1;
    wbuf w = {buf + 5, 0, cap - 5, false};
    put_str(&w, topic, strlen(topic));
    if (qos > 0)
        put16(&w, packet_id);
    if (version == 5)
        put8(&w, 0);
    put(&w, msg, msglen);
    return finish((uint8_t)(0x30 | (qos << 1)), buf, cap, w.len, w.overflow);
}

ssize_t ps_mqtt_encode_subscribe(int version, const char *topic, int qos, uint16_t packet_id, uint8_t *buf,
                                 size_t cap)
{
    if (cap < 5)
        return -1;
    wbuf w = {buf + 5, 0, cap - 5, false};
    put16(&w, packet_id);
    if (version == 5)
        put8(&w, 0);
    put_str(&w, topic, strlen(topic));
    put8(&w, (uint8_t)qos);
    return finish(0x82, buf, cap, w.len, w.overflow);
}

int ps_mqtt_decode_connack(const uint8_t *buf, size_t len, ps_connack *out)
{
    if (len < 1)
        return 0;
    if (buf[0] != 0x20)
        return -1;
    size_t rl = 0, mult = 1, i = 1;
    for (;; i++) {
        if (i >= len)
            return 0;
        if (i > 4)
            return -1;
        rl += (size_t)(buf[i] & 0x7f) * mult;
        mult *= 128;
        if (!(buf[i] & 0x80))
            break;
    }
    size_t hdr = i + 1;
    if (rl < 2)
        return -1;
    if (len < hdr + 2)
        return 0;
    if (buf[hdr] & 0xFE)
        return -1;
    out->session_present = buf[hdr] & 1;
    out->code = buf[hdr + 1];
    out->packet_len = hdr + rl;
    return 1;
}

const char *ps_mqtt_connack_name(uint8_t code, int version)
{
    if (version == 5) {
        switch (code) {
        case 0x00: return "success";
        case 0x80: return "unspecified error";
        case 0x81: return "malformed packet";
        case 0x82: return "protocol error";
        case 0x84: return "unsupported protocol version";
        case 0x85: return "client identifier not valid";
        case 0x86: return "bad user name or password";
        case 0x87: return "not authorized";
        case 0x88: return "server unavailable";
        case 0x89: return "server busy";
        case 0x8A: return "banned";
        default: return "other";
        }
    }
    switch (code) {
    case 0: return "connection accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "reserved";
    }
}
