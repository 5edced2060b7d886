/* One-line packet summaries for logs and transcripts. */
#include "mqtt_internal.h"

#include <stdarg.h>
#include <stdio.h>

#define QUOTE_MAX 64 /* longer strings are cut and marked with "..." */

typedef struct out {
    char *buf;
    size_t cap, len;
} out;

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    if (o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* A string in quotes, printable ASCII as is, anything else as \xNN. */
static void put_quoted(out *o, mqtt_bytes b)
{
    put(o, "\"");
    size_t n = b.len < QUOTE_MAX ? b.len : QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = b.ptr[i];
        if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\')
            put(o, "%c", c);
        else
            put(o, "\\x%02x", c);
    }
    put(o, b.len > QUOTE_MAX ? "...\"" : "\"");
}

static void put_props(out *o, const mqtt_props *pr)
{
    if (!pr->raw.len)
        return;
    mqtt_prop_iter it;
    mqtt_prop p;
    size_t n = 0;
    mqtt_prop_iter_init(&it, pr);
    while (mqtt_prop_next(&it, &p) > 0)
        n++;
    put(o, " props=%zu", n);
}

static void put_reason(out *o, uint8_t code)
{
    put(o, " reason=0x%02x(%s)", code, mqtt_reason_name(code));
}

size_t mqtt_packet_summary(const mqtt_packet *p, char *buf, size_t cap)
{
    out o = { buf, cap, 0 };
    if (cap)
        buf[0] = 0;
    bool v5 = p->level == MQTT_V5;
    put(&o, "%s", mqtt_type_name(p->type));
    switch (p->type) {
    case MQTT_CONNECT: {
        const mqtt_connect *c = &p->connect;
        put(&o, " level=%u client_id=", c->protocol_level);
        put_quoted(&o, c->client_id);
        put(&o, " clean=%d keep_alive=%u", c->clean_start, c->keep_alive);
        if (c->will) {
            put(&o, " will=");
            put_quoted(&o, c->will_topic);
            put(&o, "(qos%u%s)", c->will_qos, c->will_retain ? ",retain" : "");
        }
        if (c->has_username) {
            put(&o, " user=");
            put_quoted(&o, c->username);
        }
        if (c->has_password)
            put(&o, " password=%zuB", c->password.len);
        put_props(&o, &c->props);
        break;
    }
    case MQTT_CONNACK:
        put(&o, " session_present=%d", p->connack.session_present);
        if (v5)
            put_reason(&o, p->connack.reason);
        else
            put(&o, " rc=%u(%s)", p->connack.reason, mqtt_connack_v3_name(p->connack.reason));
        put_props(&o, &p->connack.props);
        break;
    case MQTT_PUBLISH:
        put(&o, " qos=%u", p->publish.qos);
        if (p->publish.qos)
            put(&o, " id=%u", p->publish.packet_id);
        if (p->publish.dup)
            put(&o, " dup=1");
        if (p->publish.retain)
            put(&o, " retain=1");
        put(&o, " topic=");
        put_quoted(&o, p->publish.topic);
        put(&o, " payload=%zuB", p->publish.payload.len);
        put_props(&o, &p->publish.props);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        put(&o, " id=%u", p->ack.packet_id);
        if (v5)
            put_reason(&o, p->ack.reason);
        put_props(&o, &p->ack.props);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        put(&o, " id=%u filters=%u", p->subscribe.packet_id, p->subscribe.count);
        mqtt_sub_iter it;
        mqtt_sub_entry e;
        mqtt_sub_iter_init(&it, p);
        for (int i = 0; i < 4 && mqtt_sub_next(&it, &e) > 0; i++) {
            put(&o, " ");
            put_quoted(&o, e.filter);
            if (p->type == MQTT_SUBSCRIBE)
                put(&o, "(qos%u)", e.qos);
        }
        if (p->subscribe.count > 4)
            put(&o, " ...");
        put_props(&o, &p->subscribe.props);
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: {
        put(&o, " id=%u", p->suback.packet_id);
        if (p->suback.reasons.len)
            put(&o, " codes=");
        size_t n = p->suback.reasons.len < 16 ? p->suback.reasons.len : 16;
        for (size_t i = 0; i < n; i++)
            put(&o, "%s%02x", i ? "," : "", p->suback.reasons.ptr[i]);
        if (p->suback.reasons.len > n)
            put(&o, ",...");
        put_props(&o, &p->suback.props);
        break;
    }
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (v5) {
            put_reason(&o, p->disconnect.reason);
            put_props(&o, &p->disconnect.props);
        }
        break;
    default:
        break;
    }
    return o.len;
}
