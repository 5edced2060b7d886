/* ppbroker engine: wills, keep-alive, persistent sessions (queue, redelivery), takeover,
 * session expiry, will delay and the session listing for the admin API. Timers are driven
 * through the real event loop with pn_loop_run_once and a deadline. */
#include "test_broker_engine_helpers.h"

static fconn *will_client(uint8_t level, const char *id, const char *topic, const char *payload,
                          const mqtt_prop *will_props, size_t nwp, const mqtt_prop *props, size_t np)
{
    fconn *f = h_attach();
    connect_args a = { .level = level, .client_id = id, .clean = true, .will_topic = topic,
                       .will_payload = payload, .will_qos = 1, .will_props = will_props,
                       .nwill_props = nwp, .props = props, .nprops = np };
    mqtt_packet ack;
    h_connect_raw(f, &a, &ack);
    assert_int_equal(ack.connack.reason, 0);
    return f;
}

static void test_MQTT_3_1_2_8_will_published_on_abnormal_close(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *watch = h_client(MQTT_V311, "watch", true);
    h_subscribe(watch, "wills/#", 1);
    fconn *dev = will_client(MQTT_V311, "dev", "wills/dev", "gone", NULL, 0, NULL, 0);
    h_expect_nothing(watch);
    h_detach(dev, "eof"); /* connection lost without DISCONNECT */
    mqtt_packet p;
    h_expect_publish(watch, &p, "wills/dev", "gone", 1);
    assert_false(p.publish.retain);

    /* the same with a protocol error: the engine closes, the will goes out */
    fconn *dev2 = will_client(MQTT_V311, "dev2", "wills/dev2", "broken", NULL, 0, NULL, 0);
    h_input_hex(dev2, "30 02 00"); /* truncated PUBLISH body then... */
    h_input_hex(dev2, "05");       /* topic length 5 past the end: field overrun */
    assert_true(dev2->closed);
    h_expect_publish(watch, &p, "wills/dev2", "broken", 1);
    h_stop();
}

static void test_MQTT_3_14_4_3_no_will_after_disconnect_but_v5_0x04_sends_it(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *watch = h_client(MQTT_V5, "watch", true);
    h_subscribe(watch, "wills/#", 1);
    fconn *dev = will_client(MQTT_V311, "dev", "wills/dev", "gone", NULL, 0, NULL, 0);
    h_disconnect(dev, 0);
    h_expect_nothing(watch);

    fconn *dev5 = will_client(MQTT_V5, "dev5", "wills/dev5", "gone5", NULL, 0, NULL, 0);
    h_disconnect(dev5, 0);
    h_expect_nothing(watch);

    fconn *dev5w = will_client(MQTT_V5, "dev5w", "wills/dev5w", "with-will", NULL, 0, NULL, 0);
    h_disconnect(dev5w, MQTT_RC_DISCONNECT_WITH_WILL);
    mqtt_packet p;
    h_expect_publish(watch, &p, "wills/dev5w", "with-will", 1);
    h_stop();
}

static void test_MQTT_3_1_2_24_keepalive_expiry_closes_and_sends_will(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *watch = h_client(MQTT_V311, "watch", true);
    h_subscribe(watch, "wills/#", 0);
    fconn *f = h_attach();
    connect_args a = { .level = MQTT_V5, .client_id = "ka", .clean = true, .keep_alive = 1,
                       .will_topic = "wills/ka", .will_payload = "silent" };
    mqtt_packet p;
    h_connect_raw(f, &a, &p);
    assert_int_equal(p.connack.reason, 0);
    /* a PINGREQ keeps it alive; then silence for 1.5 s closes it */
    h_input_hex(f, "c0 00");
    h_expect_type(f, &p, MQTT_PINGRESP);
    assert_true(h_run_until_closed(f, 5000));
    assert_string_equal(f->reason, "keep_alive_timeout");
    h_expect_type(f, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_KEEP_ALIVE_TIMEOUT);
    h_expect_publish(watch, &p, "wills/ka", "silent", 0);
    h_stop();
}

static void test_MQTT_3_1_2_4_persistent_session_resumes_with_queue_and_redelivery(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        uint8_t level = v ? MQTT_V5 : MQTT_V311;
        h_start(NULL);
        mqtt_prop expiry = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 300 };
        fconn *s1 = h_attach();
        connect_args a = { .level = level, .client_id = "persist", .clean = false,
                           .props = v ? &expiry : NULL, .nprops = v ? 1 : 0 };
        mqtt_packet p;
        h_connect_raw(s1, &a, &p);
        assert_false(p.connack.session_present);
        h_subscribe(s1, "q/#", 2);
        fconn *pub = h_client(level, "pub", true);

        /* one QoS 1 in flight unacknowledged, one QoS 2 at PUBREL stage, then offline */
        h_publish(pub, "q/1", "inflight", 1, false, 1);
        h_expect_type(pub, &p, MQTT_PUBACK);
        h_expect_publish(s1, &p, "q/1", "inflight", 1);
        uint16_t id_q1 = p.publish.packet_id;
        h_publish(pub, "q/2", "rel", 2, false, 2);
        h_expect_type(pub, &p, MQTT_PUBREC);
        h_ack(pub, MQTT_PUBREL, 2);
        h_expect_type(pub, &p, MQTT_PUBCOMP);
        h_expect_publish(s1, &p, "q/2", "rel", 2);
        uint16_t id_q2 = p.publish.packet_id;
        h_ack(s1, MQTT_PUBREC, id_q2);
        h_expect_type(s1, &p, MQTT_PUBREL);
        h_detach(s1, "eof");

        /* while offline: QoS 1 and 2 are queued, QoS 0 is not */
        h_publish(pub, "q/3", "queued1", 1, false, 3);
        h_expect_type(pub, &p, MQTT_PUBACK);
        h_publish(pub, "q/4", "dropped0", 0, false, 0);
        h_publish(pub, "q/5", "queued2", 2, false, 5);
        h_expect_type(pub, &p, MQTT_PUBREC);
        h_ack(pub, MQTT_PUBREL, 5);
        h_expect_type(pub, &p, MQTT_PUBCOMP);

        br_engine_stats st;
        br_engine_stats_get(H.e, &st);
        assert_int_equal(st.sessions, 2);

        fconn *s2 = h_attach();
        h_connect_raw(s2, &a, &p);
        assert_int_equal(p.connack.reason, 0);
        assert_true(p.connack.session_present); /* MQTT-3.2.2-2 */
        /* MQTT-4.4.0-1: unacknowledged PUBLISH again with DUP, PUBREL again, then the queue */
        h_expect_publish(s2, &p, "q/1", "inflight", 1);
        assert_true(p.publish.dup);
        assert_int_equal(p.publish.packet_id, id_q1);
        h_expect_type(s2, &p, MQTT_PUBREL);
        assert_int_equal(p.ack.packet_id, id_q2);
        h_expect_publish(s2, &p, "q/3", "queued1", 1);
        assert_false(p.publish.dup);
        h_expect_publish(s2, &p, "q/5", "queued2", 2);
        h_expect_nothing(s2);
        /* the subscription survived too */
        h_publish(pub, "q/6", "live", 0, false, 0);
        h_expect_publish(s2, &p, "q/6", "live", 0);
        h_stop();
    }
}

static void test_MQTT_3_1_2_6_clean_session_discards_state(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *s1 = h_client(MQTT_V311, "c", false);
    h_subscribe(s1, "x", 1);
    h_detach(s1, "eof");
    fconn *s2 = h_attach();
    connect_args a = { .client_id = "c", .clean = true };
    mqtt_packet p;
    h_connect_raw(s2, &a, &p);
    assert_false(p.connack.session_present);
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_publish(pub, "x", "m", 0, false, 0);
    h_expect_nothing(s2);
    /* clean session ends with its connection: no session left behind */
    h_detach(s2, "eof");
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.sessions, 1);
    h_stop();
}

static void test_MQTT_3_1_4_3_takeover_closes_old_connection_v5_0x8E(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *watch = h_client(MQTT_V311, "watch", true);
    h_subscribe(watch, "wills/#", 0);
    mqtt_prop expiry = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 60 };
    fconn *old = h_attach();
    connect_args a = { .level = MQTT_V5, .client_id = "same", .clean = false, .props = &expiry, .nprops = 1,
                       .will_topic = "wills/same", .will_payload = "old-will" };
    mqtt_packet p;
    h_connect_raw(old, &a, &p);
    h_subscribe(old, "keep", 1);

    fconn *neu = h_attach();
    connect_args b = { .level = MQTT_V5, .client_id = "same", .clean = false, .props = &expiry, .nprops = 1 };
    h_connect_raw(neu, &b, &p);
    assert_int_equal(p.connack.reason, 0);
    assert_true(p.connack.session_present);
    assert_true(old->closed);
    assert_string_equal(old->reason, "session_taken_over");
    h_expect_type(old, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_SESSION_TAKEN_OVER);
    /* the old connection ended without DISCONNECT: its will goes out */
    h_expect_publish(watch, &p, "wills/same", "old-will", 0);
    /* the transport detaching the old connection later does not touch the new one */
    h_detach(old, "closed_by_server");
    fconn *pub = h_client(MQTT_V311, "pub", true);
    h_publish(pub, "keep", "still-here", 1, false, 1);
    h_expect_publish(neu, &p, "keep", "still-here", 1);

    /* 3.1.1 takeover: no DISCONNECT packet, just the close */
    fconn *o4 = h_client(MQTT_V311, "same4", true);
    fconn *n4 = h_client(MQTT_V311, "same4", true);
    assert_true(o4->closed);
    assert_string_equal(o4->reason, "session_taken_over");
    h_expect_nothing(o4);
    assert_true(br_client_connected(n4->c));
    h_stop();
}

static void test_MQTT_3_1_2_11_2_session_expiry_and_will_delay(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *watch = h_client(MQTT_V311, "watch", true);
    h_subscribe(watch, "wills/#", 0);

    /* will delay 1 s, session expiry 60 s: the will waits for the delay */
    mqtt_prop expiry = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 60 };
    mqtt_prop delay = { .id = MQTT_PROP_WILL_DELAY, .u = 1 };
    fconn *d = will_client(MQTT_V5, "delayed", "wills/delayed", "late", &delay, 1, &expiry, 1);
    h_detach(d, "eof");
    h_expect_nothing(watch);
    assert_true(h_run_until_output(watch, 5000));
    mqtt_packet p;
    h_expect_publish(watch, &p, "wills/delayed", "late", 0);

    /* reconnecting before the delay cancels the will (MQTT-3.1.3-9) */
    mqtt_prop delay10 = { .id = MQTT_PROP_WILL_DELAY, .u = 10 };
    fconn *r1 = will_client(MQTT_V5, "back", "wills/back", "never", &delay10, 1, &expiry, 1);
    h_detach(r1, "eof");
    fconn *r2 = h_attach();
    connect_args a = { .level = MQTT_V5, .client_id = "back", .clean = false, .props = &expiry, .nprops = 1 };
    h_connect_raw(r2, &a, &p);
    assert_true(p.connack.session_present);
    h_detach(r2, "eof");

    /* session expiry 1 s with a longer will delay: the will goes when the session ends */
    mqtt_prop exp1 = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 1 };
    fconn *e1 = will_client(MQTT_V5, "short", "wills/short", "at-expiry", &delay10, 1, &exp1, 1);
    h_detach(e1, "eof");
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    size_t before = st.sessions;
    assert_true(h_run_until_output(watch, 5000));
    h_expect_publish(watch, &p, "wills/short", "at-expiry", 0);
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.sessions, before - 1);
    h_expect_nothing(watch); /* and "back"'s cancelled will never came */

    /* v5 session expiry above the server maximum is capped and announced */
    h_stop();
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.session_expiry_max = 100;
    h_start(&o);
    mqtt_prop big = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 0xFFFFFFFFu };
    fconn *c = h_attach();
    connect_args ca = { .level = MQTT_V5, .client_id = "cap", .clean = true, .props = &big, .nprops = 1 };
    h_connect_raw(c, &ca, &p);
    assert_true(mqtt_props_has(&p.connack.props, MQTT_PROP_SESSION_EXPIRY));
    assert_int_equal(p.connack.props.session_expiry, 100);
    h_stop();
}

static void test_MQTT_3_14_2_2_disconnect_cannot_set_expiry_after_zero(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *f = h_client(MQTT_V5, "z", true);
    mqtt_packet d;
    mqtt_packet_init(&d, MQTT_DISCONNECT);
    mqtt_prop e = { .id = MQTT_PROP_SESSION_EXPIRY, .u = 30 };
    d.disconnect.props.list = &e;
    d.disconnect.props.count = 1;
    assert_int_equal(h_send_pkt(f, &d), -1);
    mqtt_packet p;
    h_expect_type(f, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_PROTOCOL_ERROR);
    assert_string_equal(f->reason, "mqtt.protocol_error");
    h_stop();
}

typedef struct listing {
    int n, connected;
    char ids[4][32];
    char users[4][32];
    const char *sources[4];
    void *conns[4];
} listing;

static void collect(void *ud, const br_session_info *s)
{
    listing *l = ud;
    if (l->n >= 4)
        return;
    snprintf(l->ids[l->n], sizeof l->ids[0], "%s", s->client_id);
    snprintf(l->users[l->n], sizeof l->users[0], "%s", s->username ? s->username : "");
    l->sources[l->n] = s->username_source;
    l->conns[l->n] = s->conn;
    if (s->connected)
        l->connected++;
    l->n++;
}

static void test_session_listing_for_admin_api(void **state)
{
    (void)state;
    h_start(NULL);
    br_client_info info = { .forced_username = "alice", .username_source = "cn" };
    fconn *a = h_attach_info(&info);
    connect_args ca = { .level = MQTT_V5, .client_id = "with-cn", .clean = true };
    mqtt_packet p;
    h_connect_raw(a, &ca, &p);
    fconn *b = h_client(MQTT_V311, "offline", false);
    h_detach(b, "eof");
    fconn *pending = h_attach(); /* no CONNECT yet: not a session */
    (void)pending;
    listing l;
    memset(&l, 0, sizeof l);
    br_engine_foreach_session(H.e, collect, &l);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.connected, 1);
    assert_string_equal(l.ids[0], "with-cn"); /* connected ones first */
    assert_string_equal(l.users[0], "alice");
    assert_string_equal(l.sources[0], "cn");
    assert_ptr_equal(l.conns[0], a);
    assert_string_equal(l.ids[1], "offline");
    assert_null(l.conns[1]);
    assert_string_equal(l.sources[1], "none");
    h_stop();
}

static void test_shutdown_sends_v5_disconnect_0x8B(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_client(MQTT_V5, "a", true);
    fconn *b = h_client(MQTT_V311, "b", true);
    fconn *c = h_attach();
    br_engine_shutdown(H.e);
    mqtt_packet p;
    h_expect_type(a, &p, MQTT_DISCONNECT);
    assert_int_equal(p.disconnect.reason, MQTT_RC_SERVER_SHUTTING_DOWN);
    assert_string_equal(a->reason, "server_shutting_down");
    h_expect_nothing(b);
    assert_true(b->closed);
    assert_true(c->closed);
    h_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_MQTT_3_1_2_8_will_published_on_abnormal_close, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_14_4_3_no_will_after_disconnect_but_v5_0x04_sends_it, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_24_keepalive_expiry_closes_and_sends_will, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_4_persistent_session_resumes_with_queue_and_redelivery, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_6_clean_session_discards_state, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_4_3_takeover_closes_old_connection_v5_0x8E, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_11_2_session_expiry_and_will_delay, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_14_2_2_disconnect_cannot_set_expiry_after_zero, h_teardown),
        cmocka_unit_test_teardown(test_session_listing_for_admin_api, h_teardown),
        cmocka_unit_test_teardown(test_shutdown_sends_v5_disconnect_0x8B, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
