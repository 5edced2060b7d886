/* Wire primitives shared by the decoder and encoder: Variable Byte Integers and MQTT UTF-8. */
#include "mqtt/mqtt.h"

ssize_t mqtt_varint_encode(uint8_t *buf, size_t cap, uint32_t value)
{
    if (value > MQTT_MAX_REMAINING)
        return MQTT_ENC_INVALID;
    size_t n = 0;
    do {
        uint8_t b = value & 0x7F;
        value >>= 7;
        if (value)
            b |= 0x80;
        if (n >= cap)
            return MQTT_ENC_NO_SPACE;
        buf[n++] = b;
    } while (value);
    return (ssize_t)n;
}

int mqtt_varint_decode(const uint8_t *buf, size_t len, uint32_t *value)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= len)
            return 0;
        uint8_t b = buf[i];
        v |= (uint32_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            /* MQTT-1.5.5-1: minimum number of bytes, so a last byte of 0 after others is wrong */
            if (i > 0 && b == 0)
                return MQTT_ERR_MALFORMED_VARINT;
            if (value)
                *value = v;
            return (int)(i + 1);
        }
    }
    return MQTT_ERR_MALFORMED_VARINT;
}

bool mqtt_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c == 0)
            return false; /* MQTT-1.5.4-2 */
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0) {
            need = 1; cp = c & 0x1F; min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            need = 2; cp = c & 0x0F; min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            need = 3; cp = c & 0x07; min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < need)
            return false;
        for (size_t k = 1; k <= need; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false; /* overlong, out of range, surrogate (MQTT-1.5.4-1) */
        i += need + 1;
    }
    return true;
}
