/* lib/mqtt encode -> decode round trips over randomized valid packets of every type and
 * version (fixed seed, so a failure reproduces), plus size and buffer-bound checks. */
#include "test_mqtt_helpers.h"

#include <stdio.h>

#define ITERATIONS 4000
#define MAX_PROPS 48
#define MAX_ENTRIES 6

static uint64_t rng = 0x5eed0f9c0ffee123ULL; /* fixed seed */

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }
static bool coin(void) { return rnd() & 1; }

typedef struct gen {
    uint8_t arena[32768];
    size_t used;
    mqtt_prop props[3][MAX_PROPS]; /* packet, will, spare */
    mqtt_sub_entry entries[MAX_ENTRIES];
    uint8_t reasons[MAX_ENTRIES];
} gen;

static uint8_t *take(gen *g, size_t n)
{
    assert_true(g->used + n <= sizeof g->arena);
    uint8_t *p = g->arena + g->used;
    g->used += n;
    return p;
}

/* UTF-8 text from a small alphabet with 1- to 4-byte characters; no wildcards, no NUL. */
static mqtt_bytes rnd_text(gen *g, size_t min_chars, size_t max_chars, bool allow_slash)
{
    static const char *const alphabet[] = { "a", "b", "z", "0", "-", " ", "$", "/", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
    size_t nchars = min_chars + below((uint32_t)(max_chars - min_chars + 1));
    uint8_t *start = g->arena + g->used;
    size_t len = 0;
    for (size_t i = 0; i < nchars; i++) {
        const char *c = alphabet[below(sizeof alphabet / sizeof alphabet[0])];
        if (!allow_slash && c[0] == '/')
            c = "s";
        size_t cl = strlen(c);
        memcpy(take(g, cl), c, cl);
        len += cl;
    }
    return (mqtt_bytes){ start, len };
}

static mqtt_bytes rnd_bin(gen *g, size_t max)
{
    size_t n = below((uint32_t)max + 1);
    uint8_t *p = take(g, n);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
    return (mqtt_bytes){ p, n };
}

static mqtt_bytes rnd_filter(gen *g, bool allow_shared)
{
    uint8_t *start = g->arena + g->used;
    size_t len = 0;
    if (allow_shared && below(4) == 0) {
        memcpy(take(g, 7), "$share/", 7);
        len += 7 + rnd_text(g, 1, 4, false).len;
        *take(g, 1) = '/';
        len++;
    }
    size_t levels = 1 + below(4);
    for (size_t l = 0; l < levels; l++) {
        if (l) {
            *take(g, 1) = '/';
            len++;
        }
        uint32_t k = below(6);
        if (k == 0) {
            *take(g, 1) = '+';
            len++;
        } else if (k == 1 && l == levels - 1) {
            *take(g, 1) = '#';
            len++;
        } else {
            len += rnd_text(g, 1, 5, false).len;
        }
    }
    return (mqtt_bytes){ start, len };
}

/* Random valid properties for ctx, in identifier order; repeatable ones up to 3 times. */
static size_t rnd_props(gen *g, uint8_t ctx, mqtt_prop *list)
{
    size_t n = 0;
    bool have_method = false;
    for (uint8_t id = 1; id <= 0x2A; id++) {
        if (!mqtt_prop_allowed(id, ctx) || below(3) != 0)
            continue;
        if (id == MQTT_PROP_AUTH_DATA && !have_method)
            continue;
        size_t times = mqtt_prop_repeatable(id, ctx) ? 1 + below(3) : 1;
        for (size_t k = 0; k < times; k++) {
            mqtt_prop *p = &list[n++];
            memset(p, 0, sizeof *p);
            p->id = id;
            switch (mqtt_prop_kind(id)) {
            case MQTT_PK_BYTE: p->u = below(2); break;
            case MQTT_PK_U16: p->u = 1 + below(65535); break;
            case MQTT_PK_U32: p->u = 1 + rnd(); break;
            case MQTT_PK_VARINT: p->u = 1 + below(MQTT_MAX_REMAINING); break;
            case MQTT_PK_STRING:
                p->s = id == MQTT_PROP_RESPONSE_TOPIC ? rnd_text(g, 1, 6, true) : rnd_text(g, 0, 6, true);
                break;
            case MQTT_PK_BINARY: p->s = rnd_bin(g, 10); break;
            case MQTT_PK_PAIR: p->s = rnd_text(g, 0, 4, true); p->v = rnd_text(g, 0, 4, true); break;
            }
        }
        if (id == MQTT_PROP_AUTH_METHOD)
            have_method = true;
    }
    assert_true(n <= MAX_PROPS);
    return n;
}

static void set_props(mqtt_props *pr, const mqtt_prop *list, size_t n)
{
    pr->list = list;
    pr->count = n;
}

static uint8_t pick(const uint8_t *codes, size_t n) { return codes[below((uint32_t)n)]; }

static const uint8_t CONNACK_V5[] = { 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                                      0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F };
static const uint8_t PUBACK_V5[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
static const uint8_t PUBREL_V5[] = { 0x00, 0x92 };
static const uint8_t SUBACK_V5[] = { 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2 };
static const uint8_t SUBACK_V3[] = { 0x00, 0x01, 0x02, 0x80 };
static const uint8_t UNSUBACK_V5[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91 };
static const uint8_t DISCONNECT_V5[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E,
                                         0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B,
                                         0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2 };
static const uint8_t AUTH_V5[] = { 0x00, 0x18, 0x19 };
#define PICK(a) pick(a, sizeof a)

static void rnd_packet(gen *g, uint8_t level, uint8_t type, mqtt_packet *p)
{
    bool v5 = level == MQTT_V5;
    mqtt_packet_init(p, type);
    switch (type) {
    case MQTT_CONNECT: {
        mqtt_connect *c = &p->connect;
        c->protocol_level = level;
        c->clean_start = coin();
        c->keep_alive = (uint16_t)rnd();
        c->client_id = rnd_text(g, level == MQTT_V31 ? 1 : 0, level == MQTT_V31 ? 5 : 12, true);
        if (level == MQTT_V311 && !c->clean_start && c->client_id.len == 0)
            c->client_id = mqtt_cstr("id");
        c->will = coin();
        if (c->will) {
            c->will_qos = (uint8_t)below(3);
            c->will_retain = coin();
            c->will_topic = rnd_text(g, 1, 8, true);
            c->will_payload = rnd_bin(g, 40);
            if (v5)
                set_props(&c->will_props, g->props[1], rnd_props(g, MQTT_PROP_CTX_WILL, g->props[1]));
        }
        c->has_username = coin();
        c->has_password = coin() && (v5 || c->has_username);
        if (c->has_username)
            c->username = rnd_text(g, 0, 8, true);
        if (c->has_password)
            c->password = rnd_bin(g, 16);
        if (v5)
            set_props(&c->props, g->props[0], rnd_props(g, MQTT_CONNECT, g->props[0]));
        break;
    }
    case MQTT_CONNACK:
        p->connack.reason = v5 ? PICK(CONNACK_V5) : (uint8_t)below(6);
        p->connack.session_present = coin() && p->connack.reason == 0;
        if (v5)
            set_props(&p->connack.props, g->props[0], rnd_props(g, MQTT_CONNACK, g->props[0]));
        break;
    case MQTT_PUBLISH: {
        mqtt_publish *pb = &p->publish;
        pb->qos = (uint8_t)below(3);
        pb->dup = pb->qos && coin();
        pb->retain = coin();
        pb->packet_id = pb->qos ? (uint16_t)(1 + below(65535)) : 0;
        pb->payload = rnd_bin(g, 300);
        size_t n = v5 ? rnd_props(g, MQTT_PUBLISH, g->props[0]) : 0;
        bool has_alias = false;
        for (size_t i = 0; i < n; i++)
            has_alias |= g->props[0][i].id == MQTT_PROP_TOPIC_ALIAS;
        pb->topic = has_alias && coin() ? (mqtt_bytes){ g->arena, 0 } : rnd_text(g, 1, 10, true);
        if (v5)
            set_props(&pb->props, g->props[0], n);
        break;
    }
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        p->ack.packet_id = (uint16_t)(1 + below(65535));
        if (v5) {
            p->ack.reason = type <= MQTT_PUBREC ? PICK(PUBACK_V5) : PICK(PUBREL_V5);
            set_props(&p->ack.props, g->props[0], rnd_props(g, type, g->props[0]));
        }
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        size_t n = 1 + below(MAX_ENTRIES);
        for (size_t i = 0; i < n; i++) {
            mqtt_sub_entry *e = &g->entries[i];
            memset(e, 0, sizeof *e);
            e->filter = rnd_filter(g, v5);
            if (type == MQTT_SUBSCRIBE) {
                bool shared = e->filter.len > 7 && memcmp(e->filter.ptr, "$share/", 7) == 0;
                e->options = v5 ? mqtt_sub_options((uint8_t)below(3), !shared && coin(), coin(), (uint8_t)below(3))
                                : (uint8_t)below(3);
            }
        }
        p->subscribe.packet_id = (uint16_t)(1 + below(65535));
        p->subscribe.list = g->entries;
        p->subscribe.list_count = n;
        if (v5)
            set_props(&p->subscribe.props, g->props[0], rnd_props(g, type, g->props[0]));
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK: {
        size_t n = 1 + below(MAX_ENTRIES);
        for (size_t i = 0; i < n; i++)
            g->reasons[i] = type == MQTT_SUBACK ? (v5 ? PICK(SUBACK_V5) : PICK(SUBACK_V3)) : PICK(UNSUBACK_V5);
        p->suback.packet_id = (uint16_t)(1 + below(65535));
        if (v5 || type == MQTT_SUBACK)
            p->suback.reasons = (mqtt_bytes){ g->reasons, n };
        if (v5)
            set_props(&p->suback.props, g->props[0], rnd_props(g, type, g->props[0]));
        break;
    }
    case MQTT_DISCONNECT:
    case MQTT_AUTH:
        if (v5) {
            mqtt_reasoned *r = type == MQTT_AUTH ? &p->auth : &p->disconnect;
            r->reason = type == MQTT_AUTH ? PICK(AUTH_V5) : PICK(DISCONNECT_V5);
            set_props(&r->props, g->props[0], rnd_props(g, type, g->props[0]));
        }
        break;
    default:
        break;
    }
}

static bool same(mqtt_bytes a, mqtt_bytes b) { return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0); }

/* The decoded block holds exactly the generated list, in order. */
static void check_props(const mqtt_props *want, const mqtt_props *got)
{
    mqtt_prop_iter it;
    mqtt_prop_iter_init(&it, got);
    mqtt_prop p;
    for (size_t i = 0; i < want->count; i++) {
        assert_int_equal(mqtt_prop_next(&it, &p), 1);
        assert_int_equal(p.id, want->list[i].id);
        assert_int_equal(p.u, want->list[i].u);
        assert_true(same(p.s, want->list[i].s));
        assert_true(same(p.v, want->list[i].v));
    }
    assert_int_equal(mqtt_prop_next(&it, &p), 0);
}

static void check_fields(uint8_t level, const mqtt_packet *w, const mqtt_packet *d)
{
    bool v5 = level == MQTT_V5;
    assert_int_equal(d->type, w->type);
    switch (w->type) {
    case MQTT_CONNECT: {
        const mqtt_connect *a = &w->connect, *b = &d->connect;
        assert_int_equal(b->protocol_level, level);
        assert_true(th_eq(b->protocol_name, level == MQTT_V31 ? "MQIsdp" : "MQTT"));
        assert_int_equal(b->clean_start, a->clean_start);
        assert_int_equal(b->keep_alive, a->keep_alive);
        assert_true(same(b->client_id, a->client_id));
        assert_int_equal(b->will, a->will);
        assert_int_equal(b->will_qos, a->will_qos);
        assert_int_equal(b->will_retain, a->will_retain);
        assert_true(same(b->will_topic, a->will_topic));
        assert_true(same(b->will_payload, a->will_payload));
        assert_int_equal(b->has_username, a->has_username);
        assert_int_equal(b->has_password, a->has_password);
        assert_true(same(b->username, a->username));
        assert_true(same(b->password, a->password));
        if (v5) {
            check_props(&a->props, &b->props);
            check_props(&a->will_props, &b->will_props);
        }
        break;
    }
    case MQTT_CONNACK:
        assert_int_equal(d->connack.session_present, w->connack.session_present);
        assert_int_equal(d->connack.reason, w->connack.reason);
        if (v5)
            check_props(&w->connack.props, &d->connack.props);
        break;
    case MQTT_PUBLISH:
        assert_int_equal(d->publish.qos, w->publish.qos);
        assert_int_equal(d->publish.dup, w->publish.dup);
        assert_int_equal(d->publish.retain, w->publish.retain);
        assert_int_equal(d->publish.packet_id, w->publish.packet_id);
        assert_true(same(d->publish.topic, w->publish.topic));
        assert_true(same(d->publish.payload, w->publish.payload));
        if (v5)
            check_props(&w->publish.props, &d->publish.props);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
        assert_int_equal(d->ack.packet_id, w->ack.packet_id);
        assert_int_equal(d->ack.reason, w->ack.reason);
        if (v5)
            check_props(&w->ack.props, &d->ack.props);
        break;
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE: {
        assert_int_equal(d->subscribe.packet_id, w->subscribe.packet_id);
        assert_int_equal(d->subscribe.count, w->subscribe.list_count);
        mqtt_sub_iter it;
        mqtt_sub_entry e;
        mqtt_sub_iter_init(&it, d);
        for (size_t i = 0; i < w->subscribe.list_count; i++) {
            assert_int_equal(mqtt_sub_next(&it, &e), 1);
            assert_true(same(e.filter, w->subscribe.list[i].filter));
            assert_int_equal(e.options, w->subscribe.list[i].options);
        }
        assert_int_equal(mqtt_sub_next(&it, &e), 0);
        if (v5)
            check_props(&w->subscribe.props, &d->subscribe.props);
        break;
    }
    case MQTT_SUBACK:
    case MQTT_UNSUBACK:
        assert_int_equal(d->suback.packet_id, w->suback.packet_id);
        assert_true(same(d->suback.reasons, w->suback.reasons));
        if (v5)
            check_props(&w->suback.props, &d->suback.props);
        break;
    case MQTT_DISCONNECT:
        assert_int_equal(d->disconnect.reason, w->disconnect.reason);
        if (v5)
            check_props(&w->disconnect.props, &d->disconnect.props);
        break;
    case MQTT_AUTH:
        assert_int_equal(d->auth.reason, w->auth.reason);
        check_props(&w->auth.props, &d->auth.props);
        break;
    default:
        break;
    }
}

static void test_randomized_encode_decode_round_trips(void **state)
{
    (void)state;
    static gen g;
    static uint8_t out[65536], again[65536];
    static const uint8_t levels[] = { MQTT_V31, MQTT_V311, MQTT_V5 };
    for (int iter = 0; iter < ITERATIONS; iter++) {
        g.used = 0;
        uint8_t level = levels[iter % 3];
        uint8_t type = (uint8_t)(1 + (iter / 3) % (level == MQTT_V5 ? 15 : 14));
        mqtt_packet want, got, got2;
        rnd_packet(&g, level, type, &want);

        ssize_t size = mqtt_encode_size(level, &want);
        ssize_t n = mqtt_encode(out, sizeof out, level, &want);
        if (n <= 0 || n != size)
            fail_msg("iteration %d (%s, level %u): encode %zd, size %zd", iter, mqtt_type_name(type), level, n, size);
        assert_int_equal(mqtt_encode(out, (size_t)n - 1, level, &want), MQTT_ENC_NO_SPACE);

        ssize_t r = mqtt_decode(out, (size_t)n, level, &got);
        if (r != n)
            fail_msg("iteration %d (%s, level %u): decode gave %zd (%s) for %zd bytes", iter,
                     mqtt_type_name(type), level, r, mqtt_error_name((int)r), n);
        assert_int_equal(mqtt_decode(out, (size_t)n - 1, level, &got2), MQTT_NEED_MORE);
        check_fields(level, &want, &got);

        /* decoded views re-encode to the same bytes (properties and entries copied raw) */
        ssize_t n2 = mqtt_encode(again, sizeof again, level, &got);
        assert_int_equal(n2, n);
        assert_memory_equal(again, out, (size_t)n);
    }
}

/* A few fixed encodings, byte for byte. */
static void test_known_encodings(void **state)
{
    (void)state;
    uint8_t out[64];
    mqtt_packet p;

    /* Requirements Appendix A.2, built rather than typed */
    mqtt_packet_init(&p, MQTT_CONNECT);
    p.connect.clean_start = true;
    p.connect.keep_alive = 60;
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), 14);
    assert_memory_equal(out, "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V5, &p), 15);
    assert_memory_equal(out, "\x10\x0d\x00\x04MQTT\x05\x02\x00\x3c\x00\x00\x00", 15);

    mqtt_packet_init(&p, MQTT_PUBREL);
    p.ack.packet_id = 0x0102;
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), 4);
    assert_memory_equal(out, "\x62\x02\x01\x02", 4);
    p.ack.reason = 0x92;
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V5, &p), 5);
    assert_memory_equal(out, "\x62\x03\x01\x02\x92", 5);

    mqtt_packet_init(&p, MQTT_DISCONNECT);
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V5, &p), 2);
    assert_memory_equal(out, "\xe0\x00", 2);
    mqtt_packet_init(&p, MQTT_PINGREQ);
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), 2);
    assert_memory_equal(out, "\xc0\x00", 2);

    mqtt_packet_init(&p, MQTT_CONNACK);
    p.connack.reason = 0x84;
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V5, &p), 5);
    assert_memory_equal(out, "\x20\x03\x00\x84\x00", 5);
    p.connack.reason = MQTT_V3_BAD_PROTOCOL_VERSION;
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), 4);
    assert_memory_equal(out, "\x20\x02\x00\x01", 4);
}

/* The encoder writes what it is given, so tests can build invalid packets on purpose. */
static void test_encoder_builds_invalid_packets_on_request(void **state)
{
    (void)state;
    uint8_t out[64];
    mqtt_packet p, d;
    mqtt_packet_init(&p, MQTT_CONNECT);
    p.connect.flags = MQTT_CF_RESERVED;
    p.connect.client_id = mqtt_cstr("c");
    ssize_t n = mqtt_encode(out, sizeof out, MQTT_V311, &p);
    assert_true(n > 0);
    assert_int_equal(mqtt_decode(out, (size_t)n, MQTT_V311, &d), MQTT_ERR_BAD_CONNECT_FLAGS);

    mqtt_packet_init(&p, MQTT_PUBLISH);
    p.publish.qos = 3;
    p.publish.topic = mqtt_cstr("t");
    n = mqtt_encode(out, sizeof out, MQTT_V311, &p);
    assert_true(n > 0);
    assert_int_equal(mqtt_decode(out, (size_t)n, MQTT_V311, &d), MQTT_ERR_BAD_QOS);

    mqtt_packet_init(&p, MQTT_PUBLISH);
    p.publish.topic = mqtt_cstr("a/#");
    n = mqtt_encode(out, sizeof out, MQTT_V311, &p);
    assert_int_equal(mqtt_decode(out, (size_t)n, MQTT_V311, &d), MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
}

static void test_encoder_rejects_unrepresentable_input(void **state)
{
    (void)state;
    uint8_t out[64];
    mqtt_packet p;
    mqtt_packet_init(&p, 0);
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), MQTT_ENC_INVALID);
    mqtt_packet_init(&p, MQTT_PUBLISH);
    static uint8_t big[70000];
    p.publish.topic = (mqtt_bytes){ big, sizeof big }; /* over the 65535 string limit */
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), MQTT_ENC_INVALID);
    assert_int_equal(mqtt_encode_size(MQTT_V311, &p), MQTT_ENC_INVALID);
    /* a large payload is fine: 3-byte remaining length */
    p.publish.topic = mqtt_cstr("t");
    p.publish.payload = (mqtt_bytes){ big, sizeof big };
    assert_int_equal(mqtt_encode_size(MQTT_V311, &p), 1 + 3 + 3 + 70000);
    assert_int_equal(mqtt_encode(out, sizeof out, MQTT_V311, &p), MQTT_ENC_NO_SPACE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_randomized_encode_decode_round_trips),
        cmocka_unit_test(test_known_encodings),
        cmocka_unit_test(test_encoder_builds_invalid_packets_on_request),
        cmocka_unit_test(test_encoder_rejects_unrepresentable_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
