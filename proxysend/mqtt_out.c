/* CONNECT/PUBLISH/SUBSCRIBE encoding and CONNACK decoding through lib/mqtt. */
#include "mqtt_out.h"

#include <string.h>

#include "mqtt/mqtt.h"

static mqtt_bytes str_bytes(const char *s)
{
    mqtt_bytes b = {(const uint8_t *)s, s ? strlen(s) : 0};
    return b;
}

static ssize_t encode(uint8_t *buf, size_t cap, int version, const mqtt_packet *pkt)
{
    ssize_t n = mqtt_encode(buf, cap, (uint8_t)version, pkt);
    return n < 0 ? -1 : n;
}

ssize_t ps_mqtt_encode_connect(const ps_mqtt_connect *c, uint8_t *buf, size_t cap)
{
    mqtt_packet pkt;
    mqtt_packet_init(&pkt, MQTT_CONNECT);
    mqtt_connect *k = &pkt.connect;
    k->protocol_level = (uint8_t)c->version;
    k->clean_start = c->clean;
    k->keep_alive = (uint16_t)c->keep_alive;
    k->client_id = str_bytes(c->client_id ? c->client_id : "");
    k->has_username = c->username != NULL;
    k->username = str_bytes(c->username);
    k->has_password = c->password != NULL;
    k->password = str_bytes(c->password);
    return encode(buf, cap, c->version, &pkt);
}

ssize_t ps_mqtt_encode_publish(int version, const char *topic, const uint8_t *msg, size_t msglen, int qos,
                               uint16_t packet_id, uint8_t *buf, size_t cap)
{
    mqtt_packet pkt;
    mqtt_packet_init(&pkt, MQTT_PUBLISH);
    pkt.publish.qos = (uint8_t)qos;
    pkt.publish.topic = str_bytes(topic);
    pkt.publish.packet_id = qos ? packet_id : 0;
    pkt.publish.payload = (mqtt_bytes){msg, msglen};
    return encode(buf, cap, version, &pkt);
}

ssize_t ps_mqtt_encode_subscribe(int version, const char *topic, int qos, uint16_t packet_id, uint8_t *buf,
                                 size_t cap)
{
    mqtt_packet pkt;
    mqtt_packet_init(&pkt, MQTT_SUBSCRIBE);
    mqtt_sub_entry e = {.filter = str_bytes(topic), .options = mqtt_sub_options((uint8_t)qos, false, false, 0)};
    pkt.subscribe.packet_id = packet_id;
    pkt.subscribe.list = &e;
    pkt.subscribe.list_count = 1;
    return encode(buf, cap, version, &pkt);
}

int ps_mqtt_decode_connack(const uint8_t *buf, size_t len, int version, ps_connack *out)
{
    if (len == 0)
        return 0;
    if (buf[0] != 0x20) /* CONNACK type and flags */
        return -1;
    mqtt_packet pkt;
    ssize_t n = mqtt_decode(buf, len, (uint8_t)version, &pkt);
    if (n == MQTT_NEED_MORE)
        return 0;
    if (n < 0 || pkt.type != MQTT_CONNACK)
        return -1;
    out->session_present = pkt.connack.session_present;
    out->code = pkt.connack.reason;
    out->packet_len = (size_t)n;
    return 1;
}

const char *ps_mqtt_connack_name(uint8_t code, int version)
{
    return version == 5 ? mqtt_reason_name(code) : mqtt_connack_v3_name(code);
}
