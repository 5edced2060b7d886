/* Payload assembly: each --mqtt-connect/--publish/--subscribe/--hex/--file/--stdin adds its
 * bytes, in the order given. */
#include "payload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_out.h"

typedef struct growbuf {
    uint8_t *p;
    size_t len, cap;
} growbuf;

static int reserve(growbuf *g, size_t more)
{
    if (g->len + more > PS_PAYLOAD_MAX)
        return -1;
    if (g->len + more <= g->cap)
        return 0;
    size_t ncap = g->cap ? g->cap : 256;
    while (ncap < g->len + more)
        ncap *= 2;
    uint8_t *n = realloc(g->p, ncap);
    if (!n)
        return -1;
    g->p = n;
    g->cap = ncap;
    return 0;
}

static int append(growbuf *g, const void *v, size_t n)
{
    if (reserve(g, n))
        return -1;
    memcpy(g->p + g->len, v, n);
    g->len += n;
    return 0;
}

static int append_stream(growbuf *g, FILE *f)
{
    uint8_t chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (append(g, chunk, n))
            return -1;
    return ferror(f) ? -1 : 0;
}

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

int ps_payload_build(const ps_opts *o, uint8_t **out, size_t *len, char *err, size_t errcap)
{
    growbuf g = {0};
    uint16_t packet_id = 1;
    for (size_t i = 0; i < o->npayloads; i++) {
        const ps_payload_part *p = &o->payloads[i];
        int rc = 0;
        switch (p->kind) {
        case PS_PAY_HEX:
            rc = append(&g, p->bytes, p->len);
            break;
        case PS_PAY_FILE: {
            FILE *f = fopen(p->text, "rb");
            if (!f) {
                free(g.p);
                return fail(err, errcap, "--file '%s': %s", p->text, strerror(errno));
            }
            rc = append_stream(&g, f);
            fclose(f);
            if (rc) {
                free(g.p);
                return fail(err, errcap, "--file '%s': unreadable or larger than %u bytes", p->text, PS_PAYLOAD_MAX);
            }
            break;
        }
        case PS_PAY_STDIN:
            rc = append_stream(&g, stdin);
            break;
        case PS_PAY_MQTT_CONNECT: {
            ps_mqtt_connect c = {.version = o->mqtt_version, .client_id = o->client_id, .username = o->username,
                                 .password = o->password, .keep_alive = o->keep_alive, .clean = true};
            uint8_t pkt[4096];
            ssize_t n = ps_mqtt_encode_connect(&c, pkt, sizeof pkt);
            rc = n < 0 ? -1 : append(&g, pkt, (size_t)n);
            break;
        }
        case PS_PAY_PUBLISH: {
            /* TOPIC=MESSAGE (message optional) */
            const char *eq = strchr(p->text, '=');
            char topic[1024];
            size_t tl = eq ? (size_t)(eq - p->text) : strlen(p->text);
            if (tl >= sizeof topic) {
                free(g.p);
                return fail(err, errcap, "--publish '%s': topic too long", p->text);
            }
            memcpy(topic, p->text, tl);
            topic[tl] = '\0';
            const char *msg = eq ? eq + 1 : "";
            size_t need = strlen(msg) + tl + 16;
            uint8_t *pkt = malloc(need);
            ssize_t n = pkt ? ps_mqtt_encode_publish(o->mqtt_version, topic, (const uint8_t *)msg, strlen(msg),
                                                     o->qos, packet_id++, pkt, need)
                            : -1;
            rc = n < 0 ? -1 : append(&g, pkt, (size_t)n);
            free(pkt);
            break;
        }
        case PS_PAY_SUBSCRIBE: {
            uint8_t pkt[2048];
            ssize_t n = ps_mqtt_encode_subscribe(o->mqtt_version, p->text, o->qos, packet_id++, pkt, sizeof pkt);
            if (n < 0) {
                free(g.p);
                return fail(err, errcap, "--subscribe '%s': topic too long", p->text);
            }
            rc = append(&g, pkt, (size_t)n);
            break;
        }
        }
        if (rc) {
            free(g.p);
            return fail(err, errcap, "payload larger than %u bytes or out of memory", PS_PAYLOAD_MAX);
        }
    }
    *out = g.p;
    *len = g.len;
    return 0;
}
