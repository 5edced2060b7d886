/* The few MQTT packets proxysend writes and reads. Private to proxysend: lib/mqtt had no
 * encoders yet when this was written; swap these for lib/mqtt calls once it lands. */
#ifndef PROXYSEND_MQTT_MINI_H
#define PROXYSEND_MQTT_MINI_H

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

/* Each returns the packet length written into buf, or -1 if cap is too small. */
ssize_t ps_mqtt_encode_connect(const ps_mqtt_connect *c, uint8_t *buf, size_t cap);
ssize_t ps_mqtt_encode_publish(int version, const char *topic, const uint8_t *msg, size_t msglen, int qos,
                               uint16_t packet_id, uint8_t *buf, size_t cap);
ssize_t ps_mqtt_encode_subscribe(int version, const char *topic, int qos, uint16_t packet_id, uint8_t *buf,
                                 size_t cap);

typedef struct ps_connack {
    bool session_present;
    uint8_t code;           /* return code (3.1.1) or reason code (5.0) */
    size_t packet_len;      /* fixed header included */
} ps_connack;

/* Decode a CONNACK at the start of buf. 1 = decoded, 0 = need more bytes, -1 = not a CONNACK
 * (or malformed). */
int ps_mqtt_decode_connack(const uint8_t *buf, size_t len, ps_connack *out);
/* Human name of a CONNACK code ("accepted", "not authorized", ...). */
const char *ps_mqtt_connack_name(uint8_t code, int version);

#endif
