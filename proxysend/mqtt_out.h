/* The MQTT packets proxysend writes after the header and the CONNACK it waits for: a thin
 * adapter over lib/mqtt's encoder and decoder, shaped for the command line. */
#ifndef PROXYSEND_MQTT_OUT_H
#define PROXYSEND_MQTT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct ps_mqtt_connect {
    int version;            /* 3 = 3.1 ("MQIsdp"), 4 = 3.1.1, 5 = 5.0 */
    const char *client_id;
    const char *username;   /* NULL = absent */
    const char *password;   /* NULL = absent */
    unsigned keep_alive;
    bool clean;
} ps_mqtt_connect;

/* Each returns the packet length written into buf, or -1 (cap too small, unrepresentable). */
ssize_t ps_mqtt_encode_connect(const ps_mqtt_connect *c, uint8_t *buf, size_t cap);
ssize_t ps_mqtt_encode_publish(int version, const char *topic, const uint8_t *msg, size_t msglen, int qos,
                               uint16_t packet_id, uint8_t *buf, size_t cap);
ssize_t ps_mqtt_encode_subscribe(int version, const char *topic, int qos, uint16_t packet_id, uint8_t *buf,
                                 size_t cap);

typedef struct ps_connack {
    bool session_present;
    uint8_t code;           /* return code (3.x) or reason code (5.0) */
    size_t packet_len;      /* fixed header included */
} ps_connack;

/* Decode a CONNACK at the start of buf for protocol version 3/4/5. 1 = decoded, 0 = need
 * more bytes, -1 = not a (valid) CONNACK. */
int ps_mqtt_decode_connack(const uint8_t *buf, size_t len, int version, ps_connack *out);
/* Name of a CONNACK code ("accepted", "not_authorized", ...). */
const char *ps_mqtt_connack_name(uint8_t code, int version);

#endif
