/* Temporary: entry points whose implementation lands in the next commits. They fail cleanly. */
#include "mqtt/mqtt.h"

#include <string.h>

void mqtt_prop_iter_init(mqtt_prop_iter *it, const mqtt_props *props) { it->p = props->raw.ptr; it->end = props->raw.ptr + props->raw.len; }
void mqtt_prop_iter_init_raw(mqtt_prop_iter *it, mqtt_bytes raw) { it->p = raw.ptr; it->end = raw.ptr + raw.len; }
int mqtt_prop_next(mqtt_prop_iter *it, mqtt_prop *out) { (void)it; (void)out; return 0; }
int mqtt_user_prop_next(mqtt_prop_iter *it, mqtt_bytes *key, mqtt_bytes *value) { (void)it; (void)key; (void)value; return 0; }
uint8_t mqtt_prop_kind(uint8_t id) { (void)id; return MQTT_PK_NONE; }
const char *mqtt_prop_name(uint8_t id) { (void)id; return NULL; }
bool mqtt_prop_allowed(uint8_t id, uint8_t ctx) { (void)id; (void)ctx; return false; }
bool mqtt_prop_repeatable(uint8_t id, uint8_t ctx) { (void)id; (void)ctx; return false; }
int mqtt_props_parse(mqtt_bytes raw, uint8_t ctx, mqtt_props *out) { (void)raw; (void)ctx; (void)out; return MQTT_ERR_PROTOCOL; }
void mqtt_sub_iter_init(mqtt_sub_iter *it, const mqtt_packet *pkt) { it->p = it->end = NULL; it->with_options = pkt->type == MQTT_SUBSCRIBE; }
int mqtt_sub_next(mqtt_sub_iter *it, mqtt_sub_entry *out) { (void)it; (void)out; return 0; }
ssize_t mqtt_decode(const uint8_t *buf, size_t len, uint8_t level, mqtt_packet *pkt) { (void)buf; (void)len; (void)level; memset(pkt, 0, sizeof *pkt); return MQTT_ERR_PROTOCOL; }
void mqtt_packet_init(mqtt_packet *pkt, uint8_t type) { memset(pkt, 0, sizeof *pkt); pkt->type = type; }
ssize_t mqtt_encode(uint8_t *buf, size_t cap, uint8_t level, const mqtt_packet *pkt) { (void)buf; (void)cap; (void)level; (void)pkt; return MQTT_ENC_INVALID; }
ssize_t mqtt_encode_size(uint8_t level, const mqtt_packet *pkt) { (void)level; (void)pkt; return MQTT_ENC_INVALID; }
ssize_t mqtt_props_encode(uint8_t *buf, size_t cap, const mqtt_prop *list, size_t count) { (void)buf; (void)cap; (void)list; (void)count; return MQTT_ENC_INVALID; }
int mqtt_topic_name_check(const uint8_t *s, size_t len) { (void)s; (void)len; return MQTT_ERR_PROTOCOL; }
int mqtt_topic_filter_check(const uint8_t *s, size_t len) { (void)s; (void)len; return MQTT_ERR_PROTOCOL; }
bool mqtt_topic_match(const uint8_t *f, size_t fl, const uint8_t *t, size_t tl) { (void)f; (void)fl; (void)t; (void)tl; return false; }
int mqtt_shared_parse(const uint8_t *s, size_t len, mqtt_bytes *group, mqtt_bytes *filter) { (void)s; (void)len; (void)group; (void)filter; return 0; }
