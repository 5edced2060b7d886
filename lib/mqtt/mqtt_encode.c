/* Encoders: any mqtt_packet into a caller buffer, for 3.1, 3.1.1 and 5.0. Values are written as
 * given, so callers can also build invalid packets on purpose; mqtt_decode is the validator. */
#include "mqtt_internal.h"

void mqtt_packet_init(mqtt_packet *pkt, uint8_t type)
{
    memset(pkt, 0, sizeof *pkt);
    pkt->type = type;
    if (type == MQTT_PUBREL || type == MQTT_SUBSCRIBE || type == MQTT_UNSUBSCRIBE)
        pkt->flags = 0x2;
}

static size_t props_len(const mqtt_props *props)
{
    mqtt_writer w = { NULL, 0, 0, false };
    mqtt_props_write(&w, props);
    return w.pos;
}

/* Property Length + block (5.0 only). */
static void write_props(mqtt_writer *w, const mqtt_props *props)
{
    size_t n = props_len(props);
    if (n > MQTT_MAX_REMAINING) {
        w->invalid = true;
        return;
    }
    wr_varint(w, (uint32_t)n);
    mqtt_props_write(w, props);
}

static void write_connect(mqtt_writer *w, uint8_t level, const mqtt_connect *c)
{
    bool v5 = level == MQTT_V5;
    mqtt_bytes name = c->protocol_name;
    if (!name.ptr)
        name = mqtt_cstr(level == MQTT_V31 ? "MQIsdp" : "MQTT");
    wr_bin(w, name);
    wr_u8(w, level);
    uint8_t flags = (uint8_t)((c->flags & MQTT_CF_RESERVED) | (c->clean_start ? MQTT_CF_CLEAN : 0) |
                              (c->will ? MQTT_CF_WILL : 0) | ((c->will_qos & 3) << 3) |
                              (c->will_retain ? MQTT_CF_WILL_RETAIN : 0) |
                              (c->has_password ? MQTT_CF_PASSWORD : 0) |
                              (c->has_username ? MQTT_CF_USERNAME : 0));
    wr_u8(w, flags);
    wr_u16(w, c->keep_alive);
    if (v5)
        write_props(w, &c->props);
    wr_bin(w, c->client_id);
    if (c->will) {
        if (v5)
            write_props(w, &c->will_props);
        wr_bin(w, c->will_topic);
        wr_bin(w, c->will_payload);
    }
    if (c->has_username)
        wr_bin(w, c->username);
    if (c->has_password)
        wr_bin(w, c->password);
}

/* Reason code and properties, in the shortest form 5.0 allows (3.4.2.1, 3.14.2.1, 3.15.2.1). */
static void write_reason_props(mqtt_writer *w, uint8_t reason, const mqtt_props *props)
{
    size_t n = props_len(props);
    if (reason == 0 && n == 0)
        return;
    wr_u8(w, reason);
    if (n)
        write_props(w, props);
}

static void write_entries(mqtt_writer *w, const mqtt_packet *pkt)
{
    const mqtt_subscribe *s = &pkt->subscribe;
    if (!s->list) {
        wr_raw(w, s->entries.ptr, s->entries.len);
        return;
    }
    for (size_t i = 0; i < s->list_count; i++) {
        wr_bin(w, s->list[i].filter);
        if (pkt->type == MQTT_SUBSCRIBE)
            wr_u8(w, s->list[i].options);
    }
}

static void write_body(mqtt_writer *w, uint8_t level, const mqtt_packet *pkt)
{
    bool v5 = level == MQTT_V5;
    switch (pkt->type) {
    case MQTT_CONNECT:
        write_connect(w, pkt->connect.protocol_level ? pkt->connect.protocol_level : level, &pkt->connect);
        break;
    case MQTT_CONNACK:
        wr_u8(w, pkt->connack.session_present ? 1 : 0);
        wr_u8(w, pkt->connack.reason);
        if (v5)
            write_props(w, &pkt->connack.props);
        break;
    case MQTT_PUBLISH:
        wr_bin(w, pkt->publish.topic);
        if (pkt->publish.qos > 0)
            wr_u16(w, pkt->publish.packet_id);
        if (v5)
            write_props(w, &pkt->publish.props);
        wr_raw(w, pkt->publish.payload.ptr, pkt->publish.payload.len);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        wr_u16(w, pkt->ack.packet_id);
        if (v5)
            write_reason_props(w, pkt->ack.reason, &pkt->ack.props);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        wr_u16(w, pkt->subscribe.packet_id);
        if (v5)
            write_props(w, &pkt->subscribe.props);
        write_entries(w, pkt);
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        wr_u16(w, pkt->suback.packet_id);
        if (v5)
            write_props(w, &pkt->suback.props);
        if (v5 || pkt->type == MQTT_SUBACK)
            wr_raw(w, pkt->suback.reasons.ptr, pkt->suback.reasons.len);
        break;
    case MQTT_PINGREQ:
    case MQTT_PINGRESP:
        break;
    case MQTT_DISCONNECT:
        if (v5)
            write_reason_props(w, pkt->disconnect.reason, &pkt->disconnect.props);
        break;
    case MQTT_AUTH:
        if (v5)
            write_reason_props(w, pkt->auth.reason, &pkt->auth.props);
        break;
    default:
        w->invalid = true;
        break;
    }
}

static uint8_t first_byte(const mqtt_packet *pkt)
{
    uint8_t flags = 0;
    if (pkt->type == MQTT_PUBLISH)
        flags = (uint8_t)((pkt->publish.dup ? 8 : 0) | ((pkt->publish.qos & 3) << 1) |
                          (pkt->publish.retain ? 1 : 0));
    else if (pkt->type == MQTT_PUBREL || pkt->type == MQTT_SUBSCRIBE || pkt->type == MQTT_UNSUBSCRIBE)
        flags = 0x2; /* MQTT-2.2.2-1 */
    return (uint8_t)(pkt->type << 4 | flags);
}

/* Body length (first pass, nothing written), or MQTT_ENC_INVALID. */
static ssize_t body_size(uint8_t level, const mqtt_packet *pkt)
{
    mqtt_writer w = { NULL, 0, 0, false };
    write_body(&w, level, pkt);
    if (w.invalid || w.pos > MQTT_MAX_REMAINING)
        return MQTT_ENC_INVALID;
    return (ssize_t)w.pos;
}

ssize_t mqtt_encode_size(uint8_t level, const mqtt_packet *pkt)
{
    ssize_t body = body_size(level, pkt);
    if (body < 0)
        return body;
    return (ssize_t)(1 + varint_size((uint32_t)body) + (size_t)body);
}

ssize_t mqtt_encode(uint8_t *buf, size_t cap, uint8_t level, const mqtt_packet *pkt)
{
    ssize_t body = body_size(level, pkt);
    if (body < 0)
        return body;
    size_t total = 1 + varint_size((uint32_t)body) + (size_t)body;
    if (total > cap)
        return MQTT_ENC_NO_SPACE;
    mqtt_writer w = { buf, cap, 0, false };
    wr_u8(&w, first_byte(pkt));
    wr_varint(&w, (uint32_t)body);
    write_body(&w, level, pkt);
    return (ssize_t)w.pos;
}
