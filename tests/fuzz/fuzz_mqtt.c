/* libFuzzer target for lib/mqtt. The first input byte picks the protocol level (3, 4, 5);
 * the rest is a byte stream framed packet by packet. Every packet that decodes is
 * re-encoded and decoded again, and the key fields must survive; iterators and topic
 * helpers run over whatever the decoder accepted. Any crash, sanitizer report or abort
 * is a finding. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt.h"

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "fuzz_mqtt: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                     \
        }                                                                                \
    } while (0)

static bool same(mqtt_bytes a, mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Walk every property; a block the decoder accepted never fails to iterate. */
static size_t walk_props(const mqtt_props *pr)
{
    mqtt_prop_iter it;
    mqtt_prop p;
    size_t n = 0;
    int rc;
    mqtt_prop_iter_init(&it, pr);
    while ((rc = mqtt_prop_next(&it, &p)) > 0) {
        CHECK(mqtt_props_has(pr, p.id));
        n++;
    }
    CHECK(rc == 0);
    return n;
}

static void exercise_entries(const mqtt_packet *p)
{
    mqtt_sub_iter it;
    mqtt_sub_entry e, prev = { { NULL, 0 }, 0, 0, false, false, 0 };
    uint32_t n = 0;
    mqtt_sub_iter_init(&it, p);
    while (mqtt_sub_next(&it, &e) > 0) {
        CHECK(mqtt_topic_filter_check(e.filter.ptr, e.filter.len) == 0 || p->level != MQTT_V5);
        if (prev.filter.ptr)
            (void)mqtt_topic_match(prev.filter.ptr, prev.filter.len, e.filter.ptr, e.filter.len);
        prev = e;
        n++;
    }
    CHECK(n == p->subscribe.count);
}

static void compare(const mqtt_packet *a, const mqtt_packet *b)
{
    CHECK(a->type == b->type);
    switch (a->type) {
    case MQTT_CONNECT:
        CHECK(a->connect.protocol_level == b->connect.protocol_level);
        CHECK(same(a->connect.protocol_name, b->connect.protocol_name));
        CHECK(a->connect.flags == b->connect.flags);
        CHECK(a->connect.keep_alive == b->connect.keep_alive);
        CHECK(same(a->connect.client_id, b->connect.client_id));
        CHECK(same(a->connect.will_topic, b->connect.will_topic));
        CHECK(same(a->connect.will_payload, b->connect.will_payload));
        CHECK(same(a->connect.username, b->connect.username));
        CHECK(same(a->connect.password, b->connect.password));
        CHECK(same(a->connect.props.raw, b->connect.props.raw));
        CHECK(same(a->connect.will_props.raw, b->connect.will_props.raw));
        break;
    case MQTT_CONNACK:
        CHECK(a->connack.session_present == b->connack.session_present);
        CHECK(a->connack.reason == b->connack.reason);
        CHECK(same(a->connack.props.raw, b->connack.props.raw));
        break;
    case MQTT_PUBLISH:
        CHECK(a->publish.qos == b->publish.qos && a->publish.dup == b->publish.dup &&
              a->publish.retain == b->publish.retain);
        CHECK(a->publish.packet_id == b->publish.packet_id);
        CHECK(same(a->publish.topic, b->publish.topic));
        CHECK(same(a->publish.payload, b->publish.payload));
        CHECK(same(a->publish.props.raw, b->publish.props.raw));
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        CHECK(a->ack.packet_id == b->ack.packet_id && a->ack.reason == b->ack.reason);
        CHECK(same(a->ack.props.raw, b->ack.props.raw));
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        CHECK(a->subscribe.packet_id == b->subscribe.packet_id);
        CHECK(a->subscribe.count == b->subscribe.count);
        CHECK(same(a->subscribe.entries, b->subscribe.entries));
        CHECK(same(a->subscribe.props.raw, b->subscribe.props.raw));
        break;
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        CHECK(a->suback.packet_id == b->suback.packet_id);
        CHECK(same(a->suback.reasons, b->suback.reasons));
        CHECK(same(a->suback.props.raw, b->suback.props.raw));
        break;
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        CHECK(a->disconnect.reason == b->disconnect.reason);
        CHECK(same(a->disconnect.props.raw, b->disconnect.props.raw));
        break;
    default:
        break;
    }
}

static const mqtt_props *props_of(const mqtt_packet *p)
{
    switch (p->type) {
    case MQTT_CONNECT: return &p->connect.props;
    case MQTT_CONNACK: return &p->connack.props;
    case MQTT_PUBLISH: return &p->publish.props;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP: return &p->ack.props;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE: return &p->subscribe.props;
    case MQTT_SUBACK: case MQTT_UNSUBACK: return &p->suback.props;
    case MQTT_DISCONNECT: case MQTT_AUTH: return &p->disconnect.props;
    default: return NULL;
    }
}

static void round_trip(const mqtt_packet *p)
{
    uint8_t level = p->level;
    ssize_t size = mqtt_encode_size(level, p);
    CHECK(size > 0 && (size_t)size <= p->total_len); /* re-encoding never grows a valid packet */
    uint8_t *buf = malloc((size_t)size);
    CHECK(buf);
    CHECK(mqtt_encode(buf, (size_t)size - 1, level, p) == MQTT_ENC_NO_SPACE);
    CHECK(mqtt_encode(buf, (size_t)size, level, p) == size);
    mqtt_packet q;
    ssize_t r = mqtt_decode(buf, (size_t)size, level, &q);
    if (r != size) {
        fprintf(stderr, "fuzz_mqtt: re-decode of %s failed: %s\n", mqtt_type_name(p->type), mqtt_error_name((int)r));
        abort();
    }
    compare(p, &q);
    /* a re-encoded packet is canonical: encoding it again gives the same bytes */
    uint8_t *again = malloc((size_t)size);
    CHECK(again);
    CHECK(mqtt_encode(again, (size_t)size, level, &q) == size);
    CHECK(memcmp(again, buf, (size_t)size) == 0);
    free(again);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t level = (uint8_t)(MQTT_V31 + data[0] % 3);
    data++;
    size--;

    size_t off = 0;
    while (off < size) {
        uint8_t type = 0, flags = 0;
        size_t total = 0;
        ssize_t n = mqtt_frame(data + off, size - off, 0, &type, &flags, &total);
        if (n <= 0)
            break;
        CHECK((size_t)n == total && (size_t)n <= size - off);
        mqtt_packet p;
        ssize_t r = mqtt_decode(data + off, (size_t)n, level, &p);
        CHECK(r == n || r < 0);
        if (r < 0) {
            CHECK(mqtt_error_from_name(mqtt_error_name((int)r)) == (int)r);
            (void)mqtt_error_reason((int)r);
            (void)mqtt_error_connack_v3((int)r);
        } else {
            const mqtt_props *pr = props_of(&p);
            if (pr)
                walk_props(pr);
            if (p.type == MQTT_CONNECT && p.connect.will)
                walk_props(&p.connect.will_props);
            if (p.type == MQTT_SUBSCRIBE || p.type == MQTT_UNSUBSCRIBE)
                exercise_entries(&p);
            if (p.type == MQTT_PUBLISH && p.publish.topic.len)
                CHECK(mqtt_topic_name_check(p.publish.topic.ptr, p.publish.topic.len) == 0);
            char line[160], tiny[9];
            size_t ln = mqtt_packet_summary(&p, line, sizeof line);
            CHECK(ln < sizeof line && strlen(line) == ln);
            CHECK(mqtt_packet_summary(&p, tiny, sizeof tiny) < sizeof tiny);
            if (p.type == MQTT_CONNECT)
                level = p.level; /* the connection continues in the CONNECT's version */
            round_trip(&p);
        }
        off += (size_t)n;
    }

    /* topic helpers over the raw remainder: split it in two and match */
    size_t half = size / 2;
    int fc = mqtt_topic_filter_check(data, half);
    int tc = mqtt_topic_name_check(data + half, size - half);
    bool m = mqtt_topic_match(data, half, data + half, size - half);
    if (fc == 0 && tc == 0 && m) {
        mqtt_bytes g, f;
        int shared = mqtt_shared_parse(data, half, &g, &f);
        CHECK(shared >= 0);
    }
    return 0;
}
