/* ppbroker engine: MQTT 5 features (receive maximum both ways, maximum packet size both ways,
 * topic aliases, subscription options and identifiers, property forwarding), malformed input
 * closing with the right reason code, and input split at every byte boundary. */
#include "test_broker_engine_helpers.h"

static void test_MQTT_3_3_4_9_inbound_receive_maximum_exceeded(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.receive_maximum = 2;
    h_start(&o);
    fconn *f = h_client(MQTT_V5, "rm", true);
    mqtt_packet p;
    h_publish(f, "t", "1", 2, false, 1);
    h_expect_type(f, &p, MQTT_PUBREC);
    h_publish(f, "t", "2", 2, false, 2);
    h_expect_type(f, &p, MQTT_PUBREC);
    /* completing one frees a slot */
    h_ack(f, MQTT_PUBREL, 1);
    h_expect_type(f, &p, MQTT_PUBCOMP);
    h_publish(f, "t", "3", 2, false, 3);
    h_expect_type(f, &p, MQTT_PUBREC);
    /* two awaiting PUBREL: the next QoS 2 exceeds the maximum we announced */
    h_publish(f, "t", "4", 2, false, 4);
    h_expect_type(f, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED);
    assert_string_equal(f->reason, "mqtt.receive_maximum_exceeded");
    h_stop();
}

static void test_MQTT_3_3_4_7_outbound_respects_client_receive_maximum(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *sub = h_attach();
    mqtt_prop rm = { .id = MQTT_PROP_RECEIVE_MAXIMUM, .u = 1 };
    connect_args a = { .level = MQTT_V5, .client_id = "sub", .clean = true, .props = &rm, .nprops = 1 };
    mqtt_packet p;
    h_connect_raw(sub, &a, &p);
    h_subscribe(sub, "t", 1);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    h_publish(pub, "t", "a", 1, false, 1);
    h_publish(pub, "t", "b", 1, false, 2);
    h_expect_publish(sub, &p, "t", "a", 1);
    h_expect_nothing(sub); /* only one unacknowledged at a time */
    h_ack(sub, MQTT_PUBACK, p.publish.packet_id);
    h_expect_publish(sub, &p, "t", "b", 1);
    h_stop();
}

static void test_MQTT_3_1_2_25_client_maximum_packet_size_drops_larger_messages(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *sub = h_attach();
    mqtt_prop mps = { .id = MQTT_PROP_MAXIMUM_PACKET_SIZE, .u = 32 };
    connect_args a = { .level = MQTT_V5, .client_id = "small", .clean = true, .props = &mps, .nprops = 1 };
    mqtt_packet p;
    h_connect_raw(sub, &a, &p);
    h_subscribe(sub, "t", 1);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    h_publish(pub, "t", "this payload makes the packet larger than 32 bytes", 1, false, 1);
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_expect_nothing(sub);
    assert_false(sub->closed);
    h_publish(pub, "t", "fits", 1, false, 2);
    h_expect_publish(sub, &p, "t", "fits", 1);
    h_stop();
}

static void test_MQTT_3_3_2_7_topic_alias_set_use_and_invalid(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *sub = h_client(MQTT_V5, "sub", true);
    h_subscribe(sub, "long/topic/name", 0);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    mqtt_prop alias = { .id = MQTT_PROP_TOPIC_ALIAS, .u = 3 };
    mqtt_packet p;
    h_publish_props(pub, "long/topic/name", "set", 0, false, 0, &alias, 1);
    h_expect_publish(sub, &p, "long/topic/name", "set", 0);
    assert_false(mqtt_props_has(&p.publish.props, MQTT_PROP_TOPIC_ALIAS)); /* one hop only */
    h_publish_props(pub, "", "use", 0, false, 0, &alias, 1);
    h_expect_publish(sub, &p, "long/topic/name", "use", 0);

    /* an alias never set */
    mqtt_prop unknown = { .id = MQTT_PROP_TOPIC_ALIAS, .u = 4 };
    h_publish_props(pub, "", "x", 0, false, 0, &unknown, 1);
    h_expect_type(pub, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_TOPIC_ALIAS_INVALID);
    assert_string_equal(pub->reason, "mqtt.topic_alias_invalid");

    /* above the maximum announced in CONNACK (10) */
    fconn *pub2 = h_client(MQTT_V5, "pub2", true);
    mqtt_prop big = { .id = MQTT_PROP_TOPIC_ALIAS, .u = 11 };
    h_publish_props(pub2, "a", "x", 0, false, 0, &big, 1);
    h_expect_type(pub2, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_TOPIC_ALIAS_INVALID);
    h_stop();
}

static void test_MQTT_3_8_3_3_no_local_and_retain_as_published(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_client(MQTT_V5, "a", true);
    fconn *b = h_client(MQTT_V5, "b", true);
    h_subscribe_opts(a, 1, "chat", 0x04 | 0x01, 0, 1); /* No Local, QoS 1 */
    h_subscribe_opts(b, 1, "chat", 0x08 | 0x01, 0, 1); /* Retain As Published, QoS 1 */
    mqtt_packet p;
    h_publish(a, "chat", "from-a", 0, true, 0);
    h_expect_nothing(a); /* not back to its publisher */
    h_expect_publish(b, &p, "chat", "from-a", 0);
    assert_true(p.publish.retain); /* RETAIN kept as published */
    h_publish(b, "chat", "from-b", 0, false, 0);
    h_expect_publish(a, &p, "chat", "from-b", 0);
    h_expect_publish(b, &p, "chat", "from-b", 0); /* b has no No Local: it sees its own */
    h_stop();
}

static void test_MQTT_3_3_1_9_retain_handling_0_1_2(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    h_publish(pub, "r", "kept", 0, true, 0);
    fconn *s = h_client(MQTT_V5, "s", true);
    mqtt_packet p;
    /* 2: never */
    h_subscribe_opts(s, 1, "r", 0x20, 0, 0);
    h_expect_nothing(s);
    /* 1: only when the subscription is new: it exists now, so nothing */
    h_subscribe_opts(s, 2, "r", 0x10, 0, 0);
    h_expect_nothing(s);
    /* 0: always */
    h_subscribe_opts(s, 3, "r", 0x00, 0, 0);
    h_expect_publish(s, &p, "r", "kept", 0);
    /* 1 on a new filter: sent */
    h_subscribe_opts(s, 4, "+", 0x10, 0, 0);
    h_expect_publish(s, &p, "r", "kept", 0);
    h_stop();
}

static void test_MQTT_3_3_4_3_subscription_identifiers_and_forwarded_properties(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *s = h_client(MQTT_V5, "s", true);
    h_subscribe_opts(s, 1, "a/+", 1, 42, 1);
    h_subscribe_opts(s, 2, "a/#", 1, 7, 1);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    mqtt_prop props[4] = {
        { .id = MQTT_PROP_CONTENT_TYPE, .s = mqtt_cstr("text/plain") },
        { .id = MQTT_PROP_USER_PROPERTY, .s = mqtt_cstr("k"), .v = mqtt_cstr("v") },
        { .id = MQTT_PROP_MESSAGE_EXPIRY, .u = 100 },
        { .id = MQTT_PROP_RESPONSE_TOPIC, .s = mqtt_cstr("reply/here") },
    };
    h_publish_props(pub, "a/b", "hello", 1, false, 1, props, 4);
    mqtt_packet p;
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_expect_publish(s, &p, "a/b", "hello", 1);
    h_expect_nothing(s); /* overlapping subscriptions: one message, both identifiers */
    assert_int_equal(p.publish.props.subscription_id_count, 2);
    mqtt_prop_iter it;
    mqtt_prop_iter_init(&it, &p.publish.props);
    mqtt_prop pr;
    uint32_t ids[2] = { 0, 0 };
    int nids = 0;
    while (mqtt_prop_next(&it, &pr) == 1)
        if (pr.id == MQTT_PROP_SUBSCRIPTION_ID && nids < 2)
            ids[nids++] = pr.u;
    assert_true((ids[0] == 42 && ids[1] == 7) || (ids[0] == 7 && ids[1] == 42));
    assert_int_equal(p.publish.props.content_type.len, 10);
    assert_int_equal(p.publish.props.user_property_count, 1);
    assert_int_equal(p.publish.props.response_topic.len, 10);
    assert_true(mqtt_props_has(&p.publish.props, MQTT_PROP_MESSAGE_EXPIRY));
    assert_true(p.publish.props.message_expiry >= 99 && p.publish.props.message_expiry <= 100);

    /* a v3.1.1 subscriber gets the same message without properties */
    fconn *old = h_client(MQTT_V311, "old", true);
    h_subscribe(old, "a/b", 0);
    h_publish_props(pub, "a/b", "again", 0, false, 0, props, 4);
    h_expect_publish(old, &p, "a/b", "again", 0);

    /* a client must not send a Subscription Identifier in PUBLISH (MQTT-3.3.4-6) */
    mqtt_prop sid = { .id = MQTT_PROP_SUBSCRIPTION_ID, .u = 5 };
    h_publish_props(pub, "a/b", "bad", 0, false, 0, &sid, 1);
    h_expect_type(pub, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_PROTOCOL_ERROR);
    h_stop();
}

static void test_MQTT_3_3_2_4_payload_format_invalid_refused(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *s = h_client(MQTT_V5, "s", true);
    h_subscribe(s, "t", 1);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    mqtt_prop pf = { .id = MQTT_PROP_PAYLOAD_FORMAT, .u = 1 };
    h_publish_props(pub, "t", "\xff\xfe", 1, false, 1, &pf, 1);
    mqtt_packet p;
    h_expect_type(pub, &p, MQTT_PUBACK);
    assert_int_equal(p.ack.reason, MQTT_RC_PAYLOAD_FORMAT_INVALID);
    h_expect_nothing(s);
    h_stop();
}

/* ---- malformed input ------------------------------------------------------------------------- */

static void test_malformed_packets_close_with_their_reason_code(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *reason;
        uint8_t code;
    } cases[] = {
        { "32 06 00 01 61 00 00 00", "mqtt.zero_packet_id", MQTT_RC_PROTOCOL_ERROR },     /* QoS 1 id 0 */
        { "30 05 00 01 2b 00 41", "mqtt.topic_wildcard_in_publish", MQTT_RC_TOPIC_NAME_INVALID },
        { "36 00", "mqtt.bad_qos", MQTT_RC_MALFORMED_PACKET },                          /* QoS 3 */
        { "62 02 00", "", 0 },                                                          /* incomplete: no close */
        { "c1 00", "mqtt.bad_fixed_flags", MQTT_RC_MALFORMED_PACKET },
        { "c0 01 00", "", 0xff },                                                       /* see below */
        { "20 03 00 00 00", "mqtt.unexpected_packet", MQTT_RC_PROTOCOL_ERROR },            /* CONNACK from a client */
        { "30 07 00 04 61 ed a0 80 00", "mqtt.invalid_utf8", MQTT_RC_MALFORMED_PACKET },                                         /* surrogate: invalid UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h_start(NULL);
        fconn *f = h_client(MQTT_V5, "m", true);
        int rc = h_input_hex(f, cases[i].hex);
        mqtt_packet p;
        if (cases[i].reason[0] == 0 && cases[i].code == 0) {
            assert_int_equal(rc, 0);
            assert_false(f->closed);
        } else if (cases[i].code == 0xff) {
            /* PINGREQ with a body: the codec decides (trailing bytes); either way it closes */
            assert_int_equal(rc, -1);
            assert_true(f->closed);
            assert_true(strncmp(f->reason, "mqtt.", 5) == 0);
        } else {
            assert_int_equal(rc, -1);
            assert_true(f->closed);
            if (strncmp(f->reason, cases[i].reason, strlen(cases[i].reason)) != 0)
                fail_msg("case %zu: close reason %s, want %s", i, f->reason, cases[i].reason);
            h_expect_type(f, &p, MQTT_DISCONNECT);
            if (cases[i].code)
                assert_int_equal(p.disconnect.reason, cases[i].code);
            else
                assert_true(p.disconnect.reason >= 0x80);
        }
        h_stop();
    }
}

/* ---- split input ------------------------------------------------------------------------------ */

/* A whole client conversation: CONNECT v5, SUBSCRIBE, PUBLISH QoS 0/1/2 to itself, PUBREL,
 * PINGREQ, DISCONNECT. Returns its length. */
static size_t build_script(uint8_t *buf, size_t cap)
{
    size_t n = 0;
    mqtt_packet p;
    connect_args a = { .level = MQTT_V5, .client_id = "split", .clean = true, .keep_alive = 60 };
    h_build_connect(&a, &p);
    ssize_t w = mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
    assert_true(w > 0);
    n += (size_t)w;
    mqtt_sub_entry en = { .filter = mqtt_cstr("s/#"), .options = 2 };
    mqtt_packet_init(&p, MQTT_SUBSCRIBE);
    p.subscribe.packet_id = 1;
    p.subscribe.list = &en;
    p.subscribe.list_count = 1;
    w = mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
    n += (size_t)w;
    for (uint8_t q = 0; q < 3; q++) {
        mqtt_packet_init(&p, MQTT_PUBLISH);
        p.publish.topic = mqtt_cstr("s/x");
        p.publish.payload = mqtt_cstr("payload-with-some-length");
        p.publish.qos = q;
        p.publish.packet_id = q ? (uint16_t)(10 + q) : 0;
        w = mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
        n += (size_t)w;
    }
    mqtt_packet_init(&p, MQTT_PUBREL);
    p.ack.packet_id = 12;
    n += (size_t)mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
    mqtt_packet_init(&p, MQTT_PINGREQ);
    n += (size_t)mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
    mqtt_packet_init(&p, MQTT_DISCONNECT);
    n += (size_t)mqtt_encode(buf + n, cap - n, MQTT_V5, &p);
    return n;
}

typedef struct run_result {
    uint8_t out[4096];
    size_t out_len;
    char reason[96];
    bool closed;
} run_result;

/* Feed script in pieces given by cuts (sorted offsets), record what the engine did. */
static void run_split(const uint8_t *script, size_t n, const size_t *cuts, size_t ncuts, run_result *r)
{
    h_start(NULL);
    fconn *f = h_attach();
    size_t pos = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? cuts[i] : n;
        if (end > pos && !f->closed)
            h_input(f, script + pos, end - pos);
        pos = end;
    }
    assert_true(f->out_len <= sizeof r->out);
    memcpy(r->out, f->out, f->out_len);
    r->out_len = f->out_len;
    r->closed = f->closed;
    snprintf(r->reason, sizeof r->reason, "%s", f->reason);
    h_stop();
}

static void test_R_GEN_10_split_input_at_every_boundary_gives_the_same_result(void **state)
{
    (void)state;
    uint8_t script[1024];
    size_t n = build_script(script, sizeof script);
    run_result whole, part;
    run_split(script, n, NULL, 0, &whole);
    assert_true(whole.closed);
    assert_string_equal(whole.reason, "client_disconnect");
    /* CONNACK, SUBACK, 3 deliveries, PUBACK, PUBREC, PUBCOMP, PINGRESP at least */
    assert_true(whole.out_len > 40);

    for (size_t k = 1; k < n; k++) {
        size_t cuts[1] = { k };
        run_split(script, n, cuts, 1, &part);
        if (part.out_len != whole.out_len || memcmp(part.out, whole.out, whole.out_len) != 0 ||
            strcmp(part.reason, whole.reason) != 0)
            fail_msg("split at %zu of %zu: different output or close (%s)", k, n, part.reason);
    }
    /* one byte at a time */
    size_t *cuts = malloc(n * sizeof *cuts);
    assert_non_null(cuts);
    for (size_t k = 0; k < n - 1; k++)
        cuts[k] = k + 1;
    run_split(script, n, cuts, n - 1, &part);
    free(cuts);
    assert_int_equal(part.out_len, whole.out_len);
    assert_memory_equal(part.out, whole.out, whole.out_len);
    assert_string_equal(part.reason, whole.reason);
}

static void test_split_malformed_input_closes_the_same_way(void **state)
{
    (void)state;
    /* CONNECT then a PUBLISH with a 5-byte remaining length */
    uint8_t script[64];
    size_t n = h_hex("10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 01 63 30 80 80 80 80 01", script, sizeof script);
    run_result whole, part;
    run_split(script, n, NULL, 0, &whole);
    assert_string_equal(whole.reason, "mqtt.malformed_remaining_length");
    for (size_t k = 1; k < n; k++) {
        size_t cuts[1] = { k };
        run_split(script, n, cuts, 1, &part);
        assert_string_equal(part.reason, whole.reason);
        assert_int_equal(part.out_len, whole.out_len);
        assert_memory_equal(part.out, whole.out, whole.out_len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_MQTT_3_3_4_9_inbound_receive_maximum_exceeded, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_4_7_outbound_respects_client_receive_maximum, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_25_client_maximum_packet_size_drops_larger_messages, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_2_7_topic_alias_set_use_and_invalid, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_8_3_3_no_local_and_retain_as_published, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_1_9_retain_handling_0_1_2, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_4_3_subscription_identifiers_and_forwarded_properties, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_2_4_payload_format_invalid_refused, h_teardown),
        cmocka_unit_test_teardown(test_malformed_packets_close_with_their_reason_code, h_teardown),
        cmocka_unit_test_teardown(test_R_GEN_10_split_input_at_every_boundary_gives_the_same_result, h_teardown),
        cmocka_unit_test_teardown(test_split_malformed_input_closes_the_same_way, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
