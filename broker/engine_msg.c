/* broker/engine_msg: refcounted application messages shared by sessions, wills and the
 * retained store. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "net/loop.h"

br_msg *br_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                   size_t payload_len, uint8_t qos, bool retain, mqtt_bytes props_raw,
                   bool has_expiry, uint32_t expiry_s)
{
    br_msg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->refs = 1;
    m->topic = malloc(topic_len + 1);
    m->payload = malloc(payload_len ? payload_len : 1);
    if (props_raw.len) {
        m->props = malloc(props_raw.len);
        if (m->props)
            memcpy(m->props, props_raw.ptr, props_raw.len);
    }
    if (!m->topic || !m->payload || (props_raw.len && !m->props)) {
        free(m->topic);
        free(m->payload);
        free(m->props);
        free(m);
        return NULL;
    }
    memcpy(m->topic, topic, topic_len);
    m->topic[topic_len] = '\0';
    m->topic_len = topic_len;
    if (payload_len)
        memcpy(m->payload, payload, payload_len);
    m->payload_len = payload_len;
    m->props_len = props_raw.len;
    m->qos = qos;
    m->retain = retain;
    if (has_expiry)
        m->expire_at_ms = pn_now_ms() + (uint64_t)expiry_s * 1000u;
    return m;
}

br_msg *br_msg_ref(br_msg *m)
{
    if (m)
        m->refs++;
    return m;
}

void br_msg_unref(br_msg *m)
{
    if (!m || --m->refs > 0)
        return;
    free(m->topic);
    free(m->payload);
    free(m->props);
    free(m);
}

bool br_msg_expired(const br_msg *m, uint64_t now_ms)
{
    return m->expire_at_ms != 0 && now_ms >= m->expire_at_ms;
}

size_t br_props_forwardable(mqtt_bytes raw, uint8_t *out)
{
    mqtt_prop_iter it;
    mqtt_prop_iter_init_raw(&it, raw);
    size_t n = 0;
    for (;;) {
        const uint8_t *start = it.p;
        mqtt_prop prop;
        if (mqtt_prop_next(&it, &prop) <= 0)
            break;
        switch (prop.id) {
        case MQTT_PROP_TOPIC_ALIAS:
        case MQTT_PROP_SUBSCRIPTION_ID:
        case MQTT_PROP_MESSAGE_EXPIRY:
        case MQTT_PROP_WILL_DELAY:
            break;
        default:
            memcpy(out + n, start, (size_t)(it.p - start));
            n += (size_t)(it.p - start);
        }
    }
    return n;
}
