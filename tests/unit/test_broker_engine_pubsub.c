/* ppbroker engine: PUBLISH at QoS 0/1/2 between fake clients, SUBSCRIBE/UNSUBSCRIBE with
 * wildcards, retained messages, inflight bounds and queueing, ACL hook. */
#include "test_broker_engine_helpers.h"

static void test_MQTT_4_3_qos0_qos1_qos2_flows_between_two_clients(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        uint8_t level = v ? MQTT_V5 : MQTT_V311;
        h_start(NULL);
        fconn *sub = h_client(level, "sub", true);
        fconn *pub = h_client(level, "pub", true);
        h_subscribe(sub, "a/b", 2);
        mqtt_packet p;

        /* QoS 0: delivered, nothing to acknowledge */
        h_publish(pub, "a/b", "zero", 0, false, 0);
        h_expect_nothing(pub);
        h_expect_publish(sub, &p, "a/b", "zero", 0);
        assert_false(p.publish.retain);

        /* QoS 1: PUBACK to the publisher, delivery with a packet id, PUBACK from the subscriber */
        h_publish(pub, "a/b", "one", 1, false, 11);
        h_expect_type(pub, &p, MQTT_PUBACK);
        assert_int_equal(p.ack.packet_id, 11);
        assert_int_equal(p.ack.reason, 0);
        h_expect_publish(sub, &p, "a/b", "one", 1);
        uint16_t id1 = p.publish.packet_id;
        assert_true(id1 != 0);
        assert_false(p.publish.dup);
        h_ack(sub, MQTT_PUBACK, id1);

        /* QoS 2: PUBREC, PUBREL, PUBCOMP on both sides */
        h_publish(pub, "a/b", "two", 2, false, 12);
        h_expect_type(pub, &p, MQTT_PUBREC);
        assert_int_equal(p.ack.packet_id, 12);
        h_expect_publish(sub, &p, "a/b", "two", 2);
        uint16_t id2 = p.publish.packet_id;
        assert_true(id2 != 0 && id2 != id1);
        /* MQTT-4.3.3-2 (method B): the resent PUBLISH with DUP is not delivered twice */
        mqtt_packet dupp;
        mqtt_packet_init(&dupp, MQTT_PUBLISH);
        dupp.publish.topic = mqtt_cstr("a/b");
        dupp.publish.payload = mqtt_cstr("two");
        dupp.publish.qos = 2;
        dupp.publish.dup = true;
        dupp.publish.packet_id = 12;
        h_send_pkt(pub, &dupp);
        h_expect_type(pub, &p, MQTT_PUBREC);
        h_expect_nothing(sub);
        h_ack(pub, MQTT_PUBREL, 12);
        h_expect_type(pub, &p, MQTT_PUBCOMP);
        assert_int_equal(p.ack.packet_id, 12);
        assert_int_equal(p.ack.reason, 0);
        /* subscriber side */
        h_ack(sub, MQTT_PUBREC, id2);
        h_expect_type(sub, &p, MQTT_PUBREL);
        assert_int_equal(p.ack.packet_id, id2);
        h_ack(sub, MQTT_PUBCOMP, id2);
        h_expect_nothing(sub);

        /* after PUBREL the id is free: the same id is a new message again */
        h_publish(pub, "a/b", "two-again", 2, false, 12);
        h_expect_type(pub, &p, MQTT_PUBREC);
        h_expect_publish(sub, &p, "a/b", "two-again", 2);

        br_engine_stats st;
        br_engine_stats_get(H.e, &st);
        assert_int_equal(st.messages_received, 4);
        assert_int_equal(st.messages_sent, 4);
        h_stop();
    }
}

static void test_MQTT_3_8_4_6_delivery_qos_is_the_minimum(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *s0 = h_client(MQTT_V311, "s0", true);
    fconn *s1 = h_client(MQTT_V311, "s1", true);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_subscribe(s0, "t", 0);
    h_subscribe(s1, "t", 1);
    mqtt_packet p;
    h_publish(pub, "t", "x", 2, false, 5);
    h_expect_type(pub, &p, MQTT_PUBREC);
    h_expect_publish(s0, &p, "t", "x", 0);
    h_expect_publish(s1, &p, "t", "x", 1);
    h_publish(pub, "t", "y", 0, false, 0);
    h_expect_publish(s1, &p, "t", "y", 0);
    h_stop();
}

static void test_MQTT_4_7_wildcards_and_dollar_topics(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *hash = h_client(MQTT_V311, "hash", true);
    fconn *plus = h_client(MQTT_V311, "plus", true);
    fconn *sys = h_client(MQTT_V311, "sys", true);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_subscribe(hash, "#", 0);
    h_subscribe(plus, "sport/+/player1", 0);
    h_subscribe(sys, "$SYS/#", 0);
    mqtt_packet p;

    h_publish(pub, "sport/tennis/player1", "a", 0, false, 0);
    h_expect_publish(hash, &p, "sport/tennis/player1", "a", 0);
    h_expect_publish(plus, &p, "sport/tennis/player1", "a", 0);
    h_expect_nothing(sys);

    h_publish(pub, "sport/tennis/player2", "b", 0, false, 0);
    h_expect_publish(hash, &p, "sport/tennis/player2", "b", 0);
    h_expect_nothing(plus);

    /* MQTT-4.7.2-1: '#' and '+' at the start do not match topics starting with '$' */
    h_publish(pub, "$SYS/uptime", "c", 0, false, 0);
    h_expect_nothing(hash);
    h_expect_publish(sys, &p, "$SYS/uptime", "c", 0);

    /* overlapping subscriptions of one session: one delivery (MQTT 5 3.3.4) */
    h_subscribe_opts(hash, 2, "sport/#", 1, 0, 1);
    h_publish(pub, "sport/x", "d", 1, false, 3);
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_expect_publish(hash, &p, "sport/x", "d", 1);
    h_expect_nothing(hash);

    /* UNSUBSCRIBE stops deliveries; UNSUBACK echoes the id */
    mqtt_packet u;
    mqtt_packet_init(&u, MQTT_UNSUBSCRIBE);
    mqtt_sub_entry en = { .filter = mqtt_cstr("sport/+/player1") };
    u.subscribe.packet_id = 9;
    u.subscribe.list = &en;
    u.subscribe.list_count = 1;
    h_send_pkt(plus, &u);
    h_expect_type(plus, &p, MQTT_UNSUBACK);
    assert_int_equal(p.suback.packet_id, 9);
    h_publish(pub, "sport/tennis/player1", "e", 0, false, 0);
    h_expect_nothing(plus);
    h_stop();
}

static void test_MQTT_3_8_4_suback_per_filter_results(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_client(MQTT_V5, "a", true);
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_SUBSCRIBE);
    mqtt_sub_entry en[3];
    memset(en, 0, sizeof en);
    en[0].filter = mqtt_cstr("ok/+");
    en[0].options = 2;
    en[1].filter = mqtt_cstr("$share/g/x"); /* shared subscriptions are not offered */
    en[1].options = 1;
    en[2].filter = mqtt_cstr("also/ok");
    en[2].options = 1;
    p.subscribe.packet_id = 77;
    p.subscribe.list = en;
    p.subscribe.list_count = 3;
    h_send_pkt(a, &p);
    mqtt_packet ack;
    h_expect_type(a, &ack, MQTT_SUBACK);
    assert_int_equal(ack.suback.packet_id, 77);
    assert_int_equal(ack.suback.reasons.len, 3);
    assert_int_equal(ack.suback.reasons.ptr[0], 2);
    assert_int_equal(ack.suback.reasons.ptr[1], MQTT_RC_SHARED_SUBS_NOT_SUPPORTED);
    assert_int_equal(ack.suback.reasons.ptr[2], 1);

    /* v5 UNSUBACK: success and "no subscription existed" */
    mqtt_packet u;
    mqtt_packet_init(&u, MQTT_UNSUBSCRIBE);
    mqtt_sub_entry ue[2] = { { .filter = mqtt_cstr("ok/+") }, { .filter = mqtt_cstr("never") } };
    u.subscribe.packet_id = 78;
    u.subscribe.list = ue;
    u.subscribe.list_count = 2;
    h_send_pkt(a, &u);
    h_expect_type(a, &ack, MQTT_UNSUBACK);
    assert_int_equal(ack.suback.reasons.len, 2);
    assert_int_equal(ack.suback.reasons.ptr[0], MQTT_RC_SUCCESS);
    assert_int_equal(ack.suback.reasons.ptr[1], MQTT_RC_NO_SUBSCRIPTION_EXISTED);

    /* a malformed filter makes the SUBSCRIBE malformed: DISCONNECT and close */
    assert_int_equal(h_input_hex(a, "82 0a 00 05 00 00 04 61 23 2f 62 00"), -1); /* "a#/b" */
    h_expect_type(a, &ack, MQTT_DISCONNECT);
    assert_int_equal(ack.disconnect.reason, MQTT_RC_TOPIC_FILTER_INVALID);
    assert_string_equal(a->reason, "mqtt.bad_topic_filter");
    h_stop();
}

static void test_MQTT_3_3_1_retained_set_replace_delete_and_delivery(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    mqtt_packet p;
    h_publish(pub, "r/1", "first", 1, true, 1);
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_publish(pub, "r/1", "second", 1, true, 2); /* replaces */
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_publish(pub, "r/2", "other", 0, true, 0);
    h_publish(pub, "$sys/r", "dollar", 0, true, 0);

    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.retained, 3);

    /* MQTT-3.3.1-6: a new subscription gets the retained message, RETAIN set (MQTT-3.3.1-8) */
    fconn *sub = h_client(MQTT_V311, "sub", true);
    h_subscribe(sub, "r/1", 1);
    h_expect_publish(sub, &p, "r/1", "second", 1);
    assert_true(p.publish.retain);
    h_ack(sub, MQTT_PUBACK, p.publish.packet_id);
    h_expect_nothing(sub);

    /* a live publish with RETAIN goes out with RETAIN 0 to existing subscribers (MQTT-3.3.1-9) */
    h_publish(pub, "r/1", "third", 0, true, 0);
    h_expect_publish(sub, &p, "r/1", "third", 0);
    assert_false(p.publish.retain);

    /* wildcard subscription: both retained r/ topics, not the $ one */
    fconn *w = h_client(MQTT_V311, "w", true);
    h_subscribe(w, "#", 0);
    int got = 0;
    while (h_next(w, &p)) {
        assert_int_equal(p.type, MQTT_PUBLISH);
        assert_true(p.publish.retain);
        assert_false(p.publish.topic.len > 0 && p.publish.topic.ptr[0] == '$');
        got++;
    }
    assert_int_equal(got, 2);

    /* MQTT-3.3.1-10: an empty retained payload deletes it (and is delivered as usual) */
    h_publish(pub, "r/1", "", 0, true, 0);
    fconn *late = h_client(MQTT_V311, "late", true);
    h_subscribe(late, "r/1", 0);
    h_expect_nothing(late);
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.retained, 2);
    h_stop();
}

static void test_inflight_bound_queues_then_drains_in_order(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.max_inflight = 2;
    o.max_queued = 3;
    h_start(&o);
    fconn *sub = h_client(MQTT_V311, "sub", true);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_subscribe(sub, "q", 1);
    mqtt_packet p;
    char payload[16];
    for (int i = 0; i < 7; i++) {
        snprintf(payload, sizeof payload, "m%d", i);
        h_publish(pub, "q", payload, 1, false, (uint16_t)(i + 1));
        h_expect_type(pub, &p, MQTT_PUBACK);
    }
    /* two in flight, three queued, two dropped (queue bound) */
    uint16_t ids[2];
    h_expect_publish(sub, &p, "q", "m0", 1);
    ids[0] = p.publish.packet_id;
    h_expect_publish(sub, &p, "q", "m1", 1);
    ids[1] = p.publish.packet_id;
    h_expect_nothing(sub);
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.messages_dropped, 2);

    /* each PUBACK opens one slot; order is kept (MQTT-4.6.0) */
    h_ack(sub, MQTT_PUBACK, ids[0]);
    h_expect_publish(sub, &p, "q", "m2", 1);
    h_ack(sub, MQTT_PUBACK, ids[1]);
    h_expect_publish(sub, &p, "q", "m3", 1);
    uint16_t id3 = p.publish.packet_id;
    h_expect_nothing(sub);
    h_ack(sub, MQTT_PUBACK, id3);
    h_expect_publish(sub, &p, "q", "m4", 1);
    h_expect_nothing(sub);
    h_stop();
}

static void test_send_buffer_full_keeps_qos1_queued_until_writable(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *sub = h_client(MQTT_V311, "sub", true);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_subscribe(sub, "q", 1);
    mqtt_packet p;
    sub->out_limit = sub->out_len; /* the transport's buffer is full */
    h_publish(pub, "q", "held", 1, false, 1);
    h_expect_type(pub, &p, MQTT_PUBACK);
    h_publish(pub, "q", "lost", 0, false, 0); /* QoS 0 is dropped, never queued */
    h_expect_nothing(sub);
    assert_false(sub->closed);
    sub->out_limit = FC_OUT_MAX;
    br_engine_writable(H.e, sub->c);
    h_expect_publish(sub, &p, "q", "held", 1);
    h_expect_nothing(sub);
    h_stop();
}

static bool deny_secret(void *ud, const char *username, const char *client_id, const struct sockaddr *addr,
                        const char *topic, br_acl_access access)
{
    (void)ud;
    (void)username;
    (void)client_id;
    (void)addr;
    (void)access;
    return strncmp(topic, "secret", 6) != 0;
}

static void test_acl_hook_denies_publish_and_subscribe(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.acl_check = deny_secret;
    h_start(&o);
    fconn *sub = h_client(MQTT_V5, "sub", true);
    fconn *pub = h_client(MQTT_V5, "pub", true);
    h_subscribe_opts(sub, 1, "secret/x", 1, 0, MQTT_RC_NOT_AUTHORIZED);
    const recorded_event *ev = h_find_event(BR_EV_ACL_DENY, sub);
    assert_non_null(ev);
    assert_string_equal(ev->topic, "secret/x");
    h_subscribe(sub, "#", 1);
    mqtt_packet p;
    h_publish(pub, "secret/y", "no", 1, false, 4);
    h_expect_type(pub, &p, MQTT_PUBACK);
    assert_int_equal(p.ack.reason, MQTT_RC_NOT_AUTHORIZED);
    h_expect_nothing(sub);
    assert_non_null(h_find_event(BR_EV_ACL_DENY, pub));
    h_publish(pub, "open", "yes", 1, false, 5);
    h_expect_type(pub, &p, MQTT_PUBACK);
    assert_int_equal(p.ack.reason, 0);
    h_expect_publish(sub, &p, "open", "yes", 1);
    /* v5: no subscriber at all -> 0x10 */
    h_ack(sub, MQTT_PUBACK, p.publish.packet_id);
    mqtt_packet u;
    mqtt_packet_init(&u, MQTT_UNSUBSCRIBE);
    mqtt_sub_entry en = { .filter = mqtt_cstr("#") };
    u.subscribe.packet_id = 2;
    u.subscribe.list = &en;
    u.subscribe.list_count = 1;
    h_send_pkt(sub, &u);
    h_expect_type(sub, &p, MQTT_UNSUBACK);
    h_publish(pub, "open", "nobody", 1, false, 6);
    h_expect_type(pub, &p, MQTT_PUBACK);
    assert_int_equal(p.ack.reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
    h_stop();
}

static void test_bounds_on_subscriptions_and_retained_store(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.max_subscriptions = 1;
    o.max_retained = 1;
    h_start(&o);
    fconn *a = h_client(MQTT_V5, "a", true);
    h_subscribe_opts(a, 1, "one", 1, 0, 1);
    h_subscribe_opts(a, 2, "two", 1, 0, MQTT_RC_QUOTA_EXCEEDED);
    h_subscribe_opts(a, 3, "one", 0, 0, 0); /* replacing an existing one is not a new one */
    fconn *b = h_client(MQTT_V311, "b", true);
    h_subscribe_opts(b, 1, "x", 0, 0, 0);
    h_subscribe_opts(b, 2, "y", 0, 0, 0x80);

    h_publish(b, "r/1", "kept", 0, true, 0);
    h_publish(b, "r/2", "not-kept", 0, true, 0);
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.retained, 1);
    fconn *c = h_client(MQTT_V311, "c", true);
    h_subscribe(c, "r/+", 0);
    mqtt_packet p;
    h_expect_publish(c, &p, "r/1", "kept", 0);
    h_expect_nothing(c);
    h_stop();
}

static void test_large_publish_in_small_pieces_is_delivered_intact(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *sub = h_client(MQTT_V311, "sub", true);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_subscribe(sub, "big", 1);
    static char payload[100001];
    for (size_t i = 0; i < sizeof payload - 1; i++)
        payload[i] = (char)('a' + i % 26);
    payload[sizeof payload - 1] = 0;
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBLISH);
    p.publish.topic = mqtt_cstr("big");
    p.publish.payload = mqtt_cstr(payload);
    p.publish.qos = 1;
    p.publish.packet_id = 9;
    static uint8_t wire[100100];
    ssize_t n = mqtt_encode(wire, sizeof wire, MQTT_V311, &p);
    assert_true(n > 100000);
    for (ssize_t off = 0; off < n; off += 997)
        assert_int_equal(h_input(pub, wire + off, (size_t)(n - off < 997 ? n - off : 997)), 0);
    h_expect_type(pub, &p, MQTT_PUBACK);
    assert_int_equal(p.ack.packet_id, 9);
    h_expect_publish(sub, &p, "big", payload, 1);
    h_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_MQTT_4_3_qos0_qos1_qos2_flows_between_two_clients, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_8_4_6_delivery_qos_is_the_minimum, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_4_7_wildcards_and_dollar_topics, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_8_4_suback_per_filter_results, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_3_1_retained_set_replace_delete_and_delivery, h_teardown),
        cmocka_unit_test_teardown(test_inflight_bound_queues_then_drains_in_order, h_teardown),
        cmocka_unit_test_teardown(test_send_buffer_full_keeps_qos1_queued_until_writable, h_teardown),
        cmocka_unit_test_teardown(test_acl_hook_denies_publish_and_subscribe, h_teardown),
        cmocka_unit_test_teardown(test_bounds_on_subscriptions_and_retained_store, h_teardown),
        cmocka_unit_test_teardown(test_large_publish_in_small_pieces_is_delivered_intact, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
