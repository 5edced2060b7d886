/* ppbroker engine: hostile input never ends the broker. Seeded (reproducible) mutations of a
 * valid conversation and random bytes after CONNECT, fed in random pieces: every run must end
 * with the client either still served or closed with a stable reason, the engine must stay
 * usable for another client, and (under -DPPC_SANITIZE=ON) nothing may read out of bounds. */
#include "test_broker_engine_helpers.h"

static uint32_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t conversation(uint8_t level, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    mqtt_packet p;
    mqtt_prop expiry = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 10 };
    connect_args a = { .level = level, .client_id = "fuzz", .clean = false, .keep_alive = 30,
                       .will_topic = "w/t", .will_payload = "bye", .will_qos = 1,
                       .props = level == MQTT_V5 ? &expiry : NULL, .nprops = level == MQTT_V5 ? 1 : 0 };
    h_build_connect(&a, &p);
    n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    mqtt_sub_entry en[2] = { { .filter = mqtt_cstr("f/#"), .options = 2 }, { .filter = mqtt_cstr("+/x"), .options = 1 } };
    mqtt_packet_init(&p, MQTT_SUBSCRIBE);
    p.subscribe.packet_id = 3;
    p.subscribe.list = en;
    p.subscribe.list_count = 2;
    n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    mqtt_prop alias = { .id = MQTT_PROP_TOPIC_ALIAS, .u = 2 };
    for (uint8_t q = 0; q < 3; q++) {
        mqtt_packet_init(&p, MQTT_PUBLISH);
        p.publish.topic = mqtt_cstr("f/x");
        p.publish.payload = mqtt_cstr("data");
        p.publish.qos = q;
        p.publish.retain = q == 1;
        p.publish.packet_id = q ? (uint16_t)(20 + q) : 0;
        if (level == MQTT_V5) {
            p.publish.props.list = &alias;
            p.publish.props.count = 1;
        }
        n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    }
    mqtt_packet_init(&p, MQTT_PUBREL);
    p.ack.packet_id = 22;
    n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    mqtt_packet_init(&p, MQTT_UNSUBSCRIBE);
    p.subscribe.packet_id = 4;
    p.subscribe.list = en;
    p.subscribe.list_count = 1;
    n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    mqtt_packet_init(&p, MQTT_PINGREQ);
    n += (size_t)mqtt_encode(buf + n, cap - n, level, &p);
    return n;
}

static void feed_in_pieces(fconn *f, const uint8_t *b, size_t n)
{
    size_t pos = 0;
    while (pos < n && !f->closed) {
        size_t take = 1 + rnd() % 40;
        if (take > n - pos)
            take = n - pos;
        int rc = h_input(f, b + pos, take);
        assert_true(rc == 0 || rc == -1);
        assert_true(rc == 0 || f->closed);
        pos += take;
    }
}

static void check_outcome(fconn *f)
{
    if (f->closed) /* a stable name: an MQTT error or one of engine.h's reasons */
        assert_true(strlen(f->reason) > 3 && strchr(f->reason, ' ') == NULL);
    /* whatever the engine sent is well-formed MQTT in the version the engine settled on */
    f->level = br_client_protocol_version(f->c) == MQTT_V5 ? MQTT_V5 : MQTT_V311;
    mqtt_packet p;
    while (h_next(f, &p))
        ;
}

static void test_mutated_conversations_never_break_the_engine(void **state)
{
    (void)state;
    rng_state = 0x9e3779b9u;
    uint8_t base[2048], mut[2048];
    for (int round = 0; round < 1000; round++) {
        uint8_t level = round % 2 ? MQTT_V5 : MQTT_V311;
        size_t n = conversation(level, base, sizeof base);
        memcpy(mut, base, n);
        int edits = 1 + (int)(rnd() % 4);
        for (int k = 0; k < edits; k++) {
            size_t at = rnd() % n;
            switch (rnd() % 3) {
            case 0: mut[at] = (uint8_t)rnd(); break;              /* flip a byte */
            case 1: mut[at] ^= (uint8_t)(1u << (rnd() % 8)); break; /* flip a bit */
            default: n = at + 1; break;                            /* truncate */
            }
        }
        h_start(NULL);
        fconn *watch = h_client(MQTT_V5, "watch", true);
        h_subscribe(watch, "#", 2);
        fconn *f = h_attach();
        f->level = level;
        feed_in_pieces(f, mut, n);
        check_outcome(f);
        h_detach(f, "eof");
        /* the engine still serves others */
        fconn *g = h_client(level, "after", true);
        h_input_hex(g, "c0 00");
        mqtt_packet p;
        while (h_next(watch, &p))
            ;
        h_expect_type(g, &p, MQTT_PINGRESP);
        h_stop();
    }
}

static void test_random_bytes_after_connect(void **state)
{
    (void)state;
    rng_state = 12345;
    uint8_t junk[512];
    for (int round = 0; round < 500; round++) {
        uint8_t level = round % 2 ? MQTT_V5 : MQTT_V311;
        h_start(NULL);
        fconn *f = h_client(level, "r", true);
        size_t n = 1 + rnd() % sizeof junk;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)rnd();
        feed_in_pieces(f, junk, n);
        check_outcome(f);
        h_stop();
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_mutated_conversations_never_break_the_engine, h_teardown),
        cmocka_unit_test_teardown(test_random_bytes_after_connect, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
