/* tests/integration/broker/mqttc: hand-built MQTT packets (see mqttc.h). */
#include "mqttc.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct wbuf {
    uint8_t *p;
    size_t len, cap;
} wbuf;

static void put(wbuf *w, const void *d, size_t n)
{
    if (w->len + n <= w->cap)
        memcpy(w->p + w->len, d, n);
    w->len += n;
}
static void put8(wbuf *w, uint8_t v) { put(w, &v, 1); }
static void put16(wbuf *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(w, b, 2);
}
static void putstr(wbuf *w, const char *s)
{
    size_t n = strlen(s);
    put16(w, (uint16_t)n);
    put(w, s, n);
}

/* Fixed header + varint length in front of body[0..n). */
static size_t frame(uint8_t *buf, size_t cap, uint8_t first, const uint8_t *body, size_t n)
{
    uint8_t hdr[5];
    size_t h = 0;
    hdr[h++] = first;
    size_t x = n;
    do {
        uint8_t d = x % 128;
        x /= 128;
        hdr[h++] = (uint8_t)(d | (x ? 0x80 : 0));
    } while (x);
    if (h + n > cap)
        return 0;
    memcpy(buf, hdr, h);
    if (n > 0)
        memcpy(buf + h, body, n);
    return h + n;
}

size_t mq_connect(uint8_t *buf, size_t cap, const mq_connect_opts *o)
{
    uint8_t body[2048];
    wbuf w = {body, 0, sizeof(body)};
    int v = o->version ? o->version : 4;
    putstr(&w, "MQTT");
    put8(&w, (uint8_t)v);
    uint8_t flags = 0;
    if (o->clean)
        flags |= 0x02;
    if (o->will_topic) {
        flags |= 0x04 | (uint8_t)((o->will_qos & 3) << 3);
        if (o->will_retain)
            flags |= 0x20;
    }
    if (o->password)
        flags |= 0x40;
    if (o->username)
        flags |= 0x80;
    put8(&w, flags);
    put16(&w, o->keepalive ? o->keepalive : 60);
    if (v == 5)
        put8(&w, 0); /* no properties */
    putstr(&w, o->client_id ? o->client_id : "");
    if (o->will_topic) {
        if (v == 5)
            put8(&w, 0);
        putstr(&w, o->will_topic);
        putstr(&w, o->will_payload ? o->will_payload : "");
    }
    if (o->username)
        putstr(&w, o->username);
    if (o->password)
        putstr(&w, o->password);
    return w.len > w.cap ? 0 : frame(buf, cap, 0x10, body, w.len);
}

size_t mq_subscribe(uint8_t *buf, size_t cap, int version, uint16_t pid, const char *filter, int qos)
{
    uint8_t body[1024];
    wbuf w = {body, 0, sizeof(body)};
    put16(&w, pid);
    if (version == 5)
        put8(&w, 0);
    putstr(&w, filter);
    put8(&w, (uint8_t)qos);
    return w.len > w.cap ? 0 : frame(buf, cap, 0x82, body, w.len);
}

size_t mq_publish(uint8_t *buf, size_t cap, int version, const char *topic, const void *payload, size_t plen,
                  int qos, bool retain, uint16_t pid)
{
    uint8_t body[MQ_MAX_PACKET];
    wbuf w = {body, 0, sizeof(body)};
    putstr(&w, topic);
    if (qos > 0)
        put16(&w, pid);
    if (version == 5)
        put8(&w, 0);
    put(&w, payload, plen);
    uint8_t first = (uint8_t)(0x30 | (qos << 1) | (retain ? 1 : 0));
    return w.len > w.cap ? 0 : frame(buf, cap, first, body, w.len);
}

size_t mq_ack(uint8_t *buf, size_t cap, uint8_t type, uint16_t pid)
{
    uint8_t body[2] = {(uint8_t)(pid >> 8), (uint8_t)pid};
    uint8_t first = (uint8_t)(type << 4) | (type == 6 ? 0x02 : 0);
    return frame(buf, cap, first, body, 2);
}

size_t mq_disconnect(uint8_t *buf, size_t cap)
{
    return frame(buf, cap, 0xE0, NULL, 0);
}

ts_end mq_read_packet(int fd, mq_packet *p, int timeout_ms)
{
    uint8_t b;
    size_t got;
    ts_end e = ts_read(fd, &b, 1, 1, timeout_ms, &got);
    if (e != TS_END_COUNT)
        return e;
    p->type = b >> 4;
    p->flags = b & 15;
    size_t len = 0, mult = 1;
    for (int i = 0; i < 4; i++) {
        e = ts_read(fd, &b, 1, 1, timeout_ms, &got);
        if (e != TS_END_COUNT)
            return e;
        len += (b & 127) * mult;
        mult *= 128;
        if (!(b & 128))
            break;
    }
    if (len > sizeof(p->body))
        return TS_END_ERROR;
    p->len = len;
    if (len == 0)
        return TS_END_COUNT;
    return ts_read(fd, p->body, sizeof(p->body), len, timeout_ms, &got);
}

bool mq_parse_publish(const mq_packet *p, int version, mq_publish_view *out)
{
    if (p->type != 3 || p->len < 2)
        return false;
    size_t tl = (size_t)p->body[0] << 8 | p->body[1];
    if (2 + tl > p->len || tl >= sizeof(out->topic))
        return false;
    memcpy(out->topic, p->body + 2, tl);
    out->topic[tl] = '\0';
    size_t pos = 2 + tl;
    out->qos = (p->flags >> 1) & 3;
    out->retain = p->flags & 1;
    out->pid = 0;
    if (out->qos > 0) {
        if (pos + 2 > p->len)
            return false;
        out->pid = (uint16_t)(p->body[pos] << 8 | p->body[pos + 1]);
        pos += 2;
    }
    if (version == 5) {
        /* property length (a varint) and the properties: skipped */
        size_t plen = 0, mult = 1;
        for (int i = 0; i < 4 && pos < p->len; i++) {
            uint8_t b = p->body[pos++];
            plen += (b & 127) * mult;
            mult *= 128;
            if (!(b & 128))
                break;
        }
        pos += plen;
        if (pos > p->len)
            return false;
    }
    out->payload = p->body + pos;
    out->payload_len = p->len - pos;
    return true;
}

int mq_open(const char *addr, const uint8_t *prefix, size_t plen, const mq_connect_opts *o, int *code, ts_end *end)
{
    int fd = ts_connect(addr, NULL, 3000);
    if (fd < 0) {
        if (end)
            *end = TS_END_ERROR;
        return -1;
    }
    /* prefix and CONNECT in one write (the coalesced delivery shape, EC-V1-34) */
    uint8_t *buf = malloc(plen + 4096);
    if (!buf) {
        close(fd);
        if (end)
            *end = TS_END_ERROR;
        return -1;
    }
    size_t n = 0;
    if (prefix) {
        memcpy(buf, prefix, plen);
        n = plen;
    }
    n += mq_connect(buf + n, 4096, o);
    int sent = ts_send_all(fd, buf, n, 5000);
    free(buf);
    if (sent != 0) {
        close(fd);
        if (end)
            *end = TS_END_ERROR;
        return -1;
    }
    mq_packet *p = malloc(sizeof(*p));
    ts_end e = p ? mq_read_packet(fd, p, 5000) : TS_END_ERROR;
    if (end)
        *end = e;
    if (e != TS_END_COUNT || p->type != 2 || p->len < 2) {
        free(p);
        close(fd);
        return -1;
    }
    *code = p->body[1];
    free(p);
    return fd;
}
