/* Fixed-header framing: decides as early as the bytes allow whether a packet is plausible. */
#include "mqtt/mqtt.h"

/* Flags every type must carry (MQTT-2.2.2-1); PUBLISH is free apart from QoS 3. */
static int check_fixed_flags(uint8_t type, uint8_t flags)
{
    switch (type) {
    case 0:
        return MQTT_ERR_RESERVED_TYPE;
    case MQTT_PUBLISH:
        return ((flags >> 1) & 3) == 3 ? MQTT_ERR_BAD_QOS : 0;
    case MQTT_PUBREL:
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        return flags == 0x2 ? 0 : MQTT_ERR_BAD_FIXED_FLAGS;
    default:
        return flags == 0 ? 0 : MQTT_ERR_BAD_FIXED_FLAGS;
    }
}

ssize_t mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet,
                   uint8_t *type, uint8_t *flags, size_t *total_len)
{
    if (len == 0)
        return MQTT_NEED_MORE;
    uint8_t t = buf[0] >> 4, f = buf[0] & 0x0F;
    if (type)
        *type = t;
    if (flags)
        *flags = f;
    int rc = check_fixed_flags(t, f);
    if (rc < 0)
        return rc;

    uint32_t remaining;
    int n = mqtt_varint_decode(buf + 1, len - 1, &remaining);
    if (n == MQTT_ERR_MALFORMED_VARINT)
        return MQTT_ERR_MALFORMED_REMAINING_LENGTH;
    if (n == 0)
        return MQTT_NEED_MORE;
    size_t total = 1 + (size_t)n + remaining;
    if (total_len)
        *total_len = total;
    if (max_packet == 0 || max_packet > MQTT_MAX_PACKET)
        max_packet = MQTT_MAX_PACKET;
    if (total > max_packet)
        return MQTT_ERR_PACKET_TOO_LARGE;
    if (len < total)
        return MQTT_NEED_MORE;
    return (ssize_t)total;
}
