/* mqtt_decode: one framed packet into mqtt_packet views, with every structural and
 * semantic rule of MQTT 3.1 / 3.1.1 / 5.0 that can be judged from the packet alone. */
#include "mqtt_internal.h"

#define TRY(expr) do { int rc_ = (expr); if (rc_ < 0) return rc_; } while (0)

/* Property Length then the block, validated for ctx (MQTT 5.0 2.2.2). */
static int read_props(mqtt_reader *r, uint8_t ctx, mqtt_props *out)
{
    uint32_t n;
    TRY(rd_varint(r, &n));
    if (rd_left(r) < n)
        return MQTT_ERR_FIELD_OVERRUN;
    mqtt_bytes raw = { r->p, n };
    r->p += n;
    return mqtt_props_parse(raw, ctx, out);
}

static bool in_list(uint8_t code, const uint8_t *list, size_t n)
{
    return memchr(list, code, n) != NULL;
}

/* Reason codes each v5 packet type may carry (MQTT 5.0 3.2.2.2, 3.4.2.1, ... 3.15.2.1). */
static bool reason_ok(uint8_t type, uint8_t code)
{
    static const uint8_t connack[] = { 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                       0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F };
    static const uint8_t puback[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
    static const uint8_t pubrel[] = { 0x00, 0x92 };
    static const uint8_t suback[] = { 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2 };
    static const uint8_t unsuback[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 };
    static const uint8_t disconnect[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E,
                                          0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B,
                                          0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2 };
    static const uint8_t auth[] = { 0x00, 0x18, 0x19 };
    switch (type) {
    case MQTT_CONNACK: return in_list(code, connack, sizeof connack);
    case MQTT_PUBACK:
    case MQTT_PUBREC: return in_list(code, puback, sizeof puback);
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: return in_list(code, pubrel, sizeof pubrel);
    case MQTT_SUBACK: return in_list(code, suback, sizeof suback);
    case MQTT_UNSUBACK: return in_list(code, unsuback, sizeof unsuback);
    case MQTT_DISCONNECT: return in_list(code, disconnect, sizeof disconnect);
    case MQTT_AUTH: return in_list(code, auth, sizeof auth);
    default: return false;
    }
}

static bool bytes_eq(mqtt_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && memcmp(b.ptr, s, n) == 0;
}

static int decode_connect(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_connect *c = &pkt->connect;
    TRY(rd_bin(r, &c->protocol_name));
    TRY(rd_u8(r, &c->protocol_level));
    pkt->level = c->protocol_level;
    bool name_mqtt = bytes_eq(c->protocol_name, "MQTT"), name_31 = bytes_eq(c->protocol_name, "MQIsdp");
    if (!name_mqtt && !name_31)
        return MQTT_ERR_BAD_PROTOCOL_NAME; /* MQTT-3.1.2-1 */
    if ((name_31 && c->protocol_level != MQTT_V31) ||
        (name_mqtt && c->protocol_level != MQTT_V311 && c->protocol_level != MQTT_V5))
        return MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL; /* MQTT-3.1.2-2 */
    bool v5 = c->protocol_level == MQTT_V5;

    TRY(rd_u8(r, &c->flags));
    uint8_t f = c->flags;
    c->clean_start = f & MQTT_CF_CLEAN;
    c->will = f & MQTT_CF_WILL;
    c->will_qos = (f & MQTT_CF_WILL_QOS_MASK) >> 3;
    c->will_retain = f & MQTT_CF_WILL_RETAIN;
    c->has_username = f & MQTT_CF_USERNAME;
    c->has_password = f & MQTT_CF_PASSWORD;
    if (f & MQTT_CF_RESERVED)
        return MQTT_ERR_BAD_CONNECT_FLAGS; /* MQTT-3.1.2-3 */
    if (!c->will && (c->will_qos || c->will_retain))
        return MQTT_ERR_BAD_CONNECT_FLAGS; /* MQTT-3.1.2-11, -13, -15 */
    if (c->will_qos == 3)
        return MQTT_ERR_BAD_QOS; /* MQTT-3.1.2-14 */
    if (!v5 && c->has_password && !c->has_username)
        return MQTT_ERR_BAD_CONNECT_FLAGS; /* MQTT-3.1.2-22 (3.1.1 only; 5.0 allows it) */
    TRY(rd_u16(r, &c->keep_alive));
    if (v5)
        TRY(read_props(r, MQTT_CONNECT, &c->props));

    TRY(rd_str(r, &c->client_id));
    if (c->protocol_level == MQTT_V311 && c->client_id.len == 0 && !c->clean_start)
        return MQTT_ERR_BAD_CLIENT_ID; /* MQTT-3.1.3-8 */
    if (c->protocol_level == MQTT_V31 && (c->client_id.len == 0 || c->client_id.len > MQTT_V31_MAX_CLIENT_ID))
        return MQTT_ERR_BAD_CLIENT_ID; /* MQTT 3.1: 1 to 23 characters */
    if (c->will) {
        if (v5)
            TRY(read_props(r, MQTT_PROP_CTX_WILL, &c->will_props));
        TRY(rd_str(r, &c->will_topic));
        TRY(mqtt_topic_name_check(c->will_topic.ptr, c->will_topic.len)); /* MQTT-3.1.3-11 */
        TRY(rd_bin(r, &c->will_payload));
    }
    if (c->has_username)
        TRY(rd_str(r, &c->username)); /* MQTT-3.1.3-11 */
    if (c->has_password)
        TRY(rd_bin(r, &c->password));
    return 0;
}

static int decode_connack(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_connack *c = &pkt->connack;
    uint8_t ack;
    TRY(rd_u8(r, &ack));
    TRY(rd_u8(r, &c->reason));
    c->session_present = ack & 1;
    if (ack & 0xFE)
        return MQTT_ERR_BAD_CONNACK_FLAGS; /* MQTT-3.2.2-1 */
    if (pkt->level == MQTT_V5) {
        if (!reason_ok(MQTT_CONNACK, c->reason))
            return MQTT_ERR_BAD_REASON_CODE;
        if (c->session_present && c->reason >= 0x80)
            return MQTT_ERR_BAD_CONNACK_FLAGS; /* MQTT-3.2.2-6 */
        return read_props(r, MQTT_CONNACK, &c->props);
    }
    if (c->reason > MQTT_V3_NOT_AUTHORIZED)
        return MQTT_ERR_BAD_REASON_CODE;
    if (c->session_present && c->reason != 0)
        return MQTT_ERR_BAD_CONNACK_FLAGS; /* MQTT-3.2.2-4 */
    return 0;
}

static int decode_publish(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_publish *p = &pkt->publish;
    p->dup = pkt->flags & 0x8;
    p->qos = (pkt->flags >> 1) & 3;
    p->retain = pkt->flags & 1;
    if (p->dup && p->qos == 0)
        return MQTT_ERR_DUP_ON_QOS0; /* MQTT-3.3.1-2 */
    TRY(rd_str(r, &p->topic));
    if (p->topic.len > 0)
        TRY(mqtt_topic_name_check(p->topic.ptr, p->topic.len)); /* MQTT-3.3.2-2 */
    if (p->qos > 0) {
        TRY(rd_u16(r, &p->packet_id));
        if (p->packet_id == 0)
            return MQTT_ERR_ZERO_PACKET_ID; /* MQTT-2.2.1-3 */
    }
    if (pkt->level == MQTT_V5)
        TRY(read_props(r, MQTT_PUBLISH, &p->props));
    /* MQTT-4.7.3-1 (3.1.1); 5.0 3.3.2.1: empty only together with a Topic Alias */
    if (p->topic.len == 0 && !mqtt_props_has(&p->props, MQTT_PROP_TOPIC_ALIAS))
        return MQTT_ERR_BAD_TOPIC_NAME;
    p->payload = (mqtt_bytes){ r->p, rd_left(r) };
    r->p = r->end;
    return 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP (MQTT 5.0 3.4.2: reason and properties may be omitted). */
static int decode_ack(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_ack *a = &pkt->ack;
    TRY(rd_u16(r, &a->packet_id));
    if (a->packet_id == 0)
        return MQTT_ERR_ZERO_PACKET_ID;
    if (pkt->level != MQTT_V5 || rd_left(r) == 0)
        return 0;
    TRY(rd_u8(r, &a->reason));
    if (!reason_ok(pkt->type, a->reason))
        return MQTT_ERR_BAD_REASON_CODE;
    if (rd_left(r) == 0)
        return 0;
    return read_props(r, pkt->type, &a->props);
}

/* SUBSCRIBE / UNSUBSCRIBE entries: count them and check each one. */
static int check_entries(mqtt_packet *pkt)
{
    mqtt_subscribe *s = &pkt->subscribe;
    bool v5 = pkt->level == MQTT_V5, sub = pkt->type == MQTT_SUBSCRIBE;
    mqtt_reader r = { s->entries.ptr, s->entries.ptr + s->entries.len };
    if (rd_left(&r) == 0)
        return MQTT_ERR_NO_TOPIC_FILTERS; /* MQTT-3.8.3-3, MQTT-3.10.3-2 */
    while (rd_left(&r) > 0) {
        mqtt_bytes f;
        TRY(rd_str(&r, &f));
        int shared = 0;
        if (v5) {
            shared = mqtt_shared_parse(f.ptr, f.len, NULL, NULL);
            TRY(shared);
        }
        if (!shared)
            TRY(mqtt_plain_filter_check(f.ptr, f.len));
        if (sub) {
            uint8_t o;
            TRY(rd_u8(&r, &o));
            if ((o & 3) == 3)
                return MQTT_ERR_BAD_QOS; /* MQTT-3.8.3-4 (3.1.1) */
            if (o & (v5 ? 0xC0 : 0xFC))
                return MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS; /* reserved bits: MQTT-3.8.3-5 */
            if (((o >> 4) & 3) == 3)
                return MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS; /* retain handling 3: 5.0 3.8.3.1 */
            if (shared && (o & 4))
                return MQTT_ERR_NO_LOCAL_ON_SHARED; /* MQTT-3.8.3-4 (5.0) */
        }
        if (s->count < UINT32_MAX)
            s->count++;
    }
    return 0;
}

static int decode_subscribe(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_subscribe *s = &pkt->subscribe;
    TRY(rd_u16(r, &s->packet_id));
    if (s->packet_id == 0)
        return MQTT_ERR_ZERO_PACKET_ID; /* MQTT-2.2.1-3 */
    if (pkt->level == MQTT_V5)
        TRY(read_props(r, pkt->type, &s->props));
    s->entries = (mqtt_bytes){ r->p, rd_left(r) };
    r->p = r->end;
    return check_entries(pkt);
}

static int decode_suback(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_suback *s = &pkt->suback;
    bool v5 = pkt->level == MQTT_V5;
    TRY(rd_u16(r, &s->packet_id));
    if (s->packet_id == 0)
        return MQTT_ERR_ZERO_PACKET_ID;
    if (v5)
        TRY(read_props(r, pkt->type, &s->props));
    s->reasons = (mqtt_bytes){ r->p, rd_left(r) };
    r->p = r->end;
    if (pkt->type == MQTT_UNSUBACK && !v5)
        return s->reasons.len ? MQTT_ERR_TRAILING_BYTES : 0; /* 3.x UNSUBACK has no payload */
    if (s->reasons.len == 0)
        return MQTT_ERR_NO_TOPIC_FILTERS; /* one code per filter, and there is at least one */
    for (size_t i = 0; i < s->reasons.len; i++) {
        uint8_t c = s->reasons.ptr[i];
        bool ok = v5 ? reason_ok(pkt->type, c) : (c <= 2 || c == 0x80); /* 3.1.1 3.9.3 */
        if (!ok)
            return MQTT_ERR_BAD_REASON_CODE;
    }
    return 0;
}

/* DISCONNECT and AUTH (5.0 3.14.2, 3.15.2: an empty body means success, no properties). */
static int decode_reasoned(mqtt_reader *r, mqtt_packet *pkt)
{
    mqtt_reasoned *d = pkt->type == MQTT_AUTH ? &pkt->auth : &pkt->disconnect;
    if (pkt->level != MQTT_V5 || rd_left(r) == 0)
        return 0;
    TRY(rd_u8(r, &d->reason));
    if (!reason_ok(pkt->type, d->reason))
        return MQTT_ERR_BAD_REASON_CODE;
    if (rd_left(r) == 0)
        return 0;
    return read_props(r, pkt->type, &d->props);
}

ssize_t mqtt_decode(const uint8_t *buf, size_t len, uint8_t level, mqtt_packet *pkt)
{
    memset(pkt, 0, sizeof *pkt);
    size_t total = 0;
    ssize_t n = mqtt_frame(buf, len, 0, &pkt->type, &pkt->flags, &total);
    if (n <= 0)
        return n;
    pkt->level = level;
    pkt->raw = buf;
    pkt->total_len = total;
    uint32_t remaining = 0;
    int len_bytes = mqtt_varint_decode(buf + 1, len - 1, &remaining); /* > 0: framed above */
    pkt->header_len = 1 + (size_t)len_bytes;
    pkt->remaining_len = remaining;
    if (pkt->type != MQTT_CONNECT && level != MQTT_V31 && level != MQTT_V311 && level != MQTT_V5)
        return MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL;

    mqtt_reader r = { buf + pkt->header_len, buf + total };
    int rc;
    switch (pkt->type) {
    case MQTT_CONNECT: rc = decode_connect(&r, pkt); break;
    case MQTT_CONNACK: rc = decode_connack(&r, pkt); break;
    case MQTT_PUBLISH: rc = decode_publish(&r, pkt); break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: rc = decode_ack(&r, pkt); break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: rc = decode_subscribe(&r, pkt); break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: rc = decode_suback(&r, pkt); break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP: rc = 0; break;
    case MQTT_DISCONNECT: rc = decode_reasoned(&r, pkt); break;
    case MQTT_AUTH:
        rc = level == MQTT_V5 ? decode_reasoned(&r, pkt) : MQTT_ERR_RESERVED_TYPE;
        break;
    default: rc = MQTT_ERR_RESERVED_TYPE; break;
    }
    if (rc < 0)
        return rc;
    if (r.p != r.end)
        return MQTT_ERR_TRAILING_BYTES;
    return (ssize_t)total;
}

void mqtt_sub_iter_init(mqtt_sub_iter *it, const mqtt_packet *pkt)
{
    if (pkt->type != MQTT_SUBSCRIBE && pkt->type != MQTT_UNSUBSCRIBE) {
        it->p = it->end = NULL; /* other union members are not entries: iterate nothing */
        it->with_options = false;
        return;
    }
    it->p = pkt->subscribe.entries.ptr;
    it->end = it->p ? it->p + pkt->subscribe.entries.len : NULL;
    it->with_options = pkt->type == MQTT_SUBSCRIBE;
}

int mqtt_sub_next(mqtt_sub_iter *it, mqtt_sub_entry *out)
{
    if (!it->p || it->p >= it->end)
        return 0;
    mqtt_reader r = { it->p, it->end };
    memset(out, 0, sizeof *out);
    TRY(rd_bin(&r, &out->filter));
    if (it->with_options) {
        TRY(rd_u8(&r, &out->options));
        out->qos = out->options & 3;
        out->no_local = out->options & 4;
        out->retain_as_published = out->options & 8;
        out->retain_handling = (out->options >> 4) & 3;
    }
    it->p = r.p;
    return 1;
}
