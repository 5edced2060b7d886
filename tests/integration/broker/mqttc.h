/* tests/integration/broker/mqttc: a deliberately tiny MQTT 3.1.1/5.0 client for the broker's
 * integration tests. Packets are built by hand from the specification's byte layouts, so
 * the tests do not trust the codec the broker itself uses. Every read has a deadline. */
#ifndef MQTTC_H
#define MQTTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "support.h"

#define MQ_MAX_PACKET 65536

typedef struct mq_connect_opts {
    int version;              /* 4 (3.1.1, default) or 5 */
    const char *client_id;
    const char *username;     /* NULL = none */
    const char *password;     /* NULL = none */
    bool clean;               /* Clean Session (3.1.1) / Clean Start (5.0) */
    uint16_t keepalive;       /* seconds; 0 = 60 */
    const char *will_topic;   /* NULL = no will */
    const char *will_payload;
    int will_qos;
    bool will_retain;
} mq_connect_opts;

size_t mq_connect(uint8_t *buf, size_t cap, const mq_connect_opts *o);
size_t mq_subscribe(uint8_t *buf, size_t cap, int version, uint16_t pid, const char *filter, int qos);
size_t mq_publish(uint8_t *buf, size_t cap, int version, const char *topic, const void *payload, size_t plen,
                  int qos, bool retain, uint16_t pid);
/* PUBACK 4, PUBREC 5, PUBREL 6, PUBCOMP 7 */
size_t mq_ack(uint8_t *buf, size_t cap, uint8_t type, uint16_t pid);
size_t mq_disconnect(uint8_t *buf, size_t cap);

typedef struct mq_packet {
    uint8_t type, flags;
    uint8_t body[MQ_MAX_PACKET];
    size_t len;
} mq_packet;

/* One whole packet within timeout_ms. TS_END_COUNT when one arrived. */
ts_end mq_read_packet(int fd, mq_packet *p, int timeout_ms);

typedef struct mq_publish_view {
    char topic[256];
    const uint8_t *payload;
    size_t payload_len;
    int qos;
    bool retain;
    uint16_t pid;
} mq_publish_view;
bool mq_parse_publish(const mq_packet *p, int version, mq_publish_view *out);

/* Connect to addr, send prefix (a PROXY header, may be NULL) and CONNECT in one write, read
 * the CONNACK. Returns the fd and the CONNACK code in *code (3.1.1 return code / v5 reason),
 * or -1 (no CONNACK: *end says how the wait ended). */
int mq_open(const char *addr, const uint8_t *prefix, size_t plen, const mq_connect_opts *o, int *code,
            ts_end *end);

#endif
