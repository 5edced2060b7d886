/* Integration: MQTT through ppbroker between real clients (issue 3 item 4): publish and
 * subscribe at QoS 0, 1 and 2 with the full flows, wildcards, retained and will messages,
 * over the plain listener and over the PROXY listener. */
#include "common.h"

#include <stdlib.h>

static bh B;
static mq_packet *P;

static int group_setup(void **state)
{
    (void)state;
    P = malloc(sizeof(*P));
    return P ? bh_start(&B, NULL, NULL) : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(P);
    return bh_stop(&B) == 0 ? 0 : -1;
}

static int open_client(const char *addr, bool proxied, int version, const char *cid)
{
    mq_connect_opts o = {.version = version, .client_id = cid, .clean = true};
    uint8_t h[64];
    size_t hl = proxied ? v2_tcp4(h) : 0;
    int code = -1;
    ts_end end;
    int fd = mq_open(addr, proxied ? h : NULL, hl, &o, &code, &end);
    if (fd < 0)
        fail_msg("%s: no CONNACK (%s)", cid, ts_end_name(end));
    assert_int_equal(code, 0);
    return fd;
}

static void send_pkt(int fd, const uint8_t *b, size_t n)
{
    assert_true(n > 0);
    assert_int_equal(ts_send_all(fd, b, n, 2000), 0);
}

static void expect_type(int fd, uint8_t type)
{
    ts_end e = mq_read_packet(fd, P, 5000);
    if (e != TS_END_COUNT)
        fail_msg("expected packet type %u, got %s", type, ts_end_name(e));
    if (P->type != type)
        fail_msg("expected packet type %u, got %u", type, P->type);
}

static void subscribe(int fd, int version, const char *filter, int qos)
{
    uint8_t b[512];
    send_pkt(fd, b, mq_subscribe(b, sizeof(b), version, 1, filter, qos));
    expect_type(fd, 9); /* SUBACK */
    assert_int_equal(P->body[P->len - 1], qos); /* granted QoS */
}

/* One message from pub to sub at QoS qos, every acknowledgement on both sides. */
static void exchange(int pub, int sub, int version, const char *topic, int qos)
{
    uint8_t b[1024];
    static const char payload[] = "payload-\x00\x01\xff-bytes"; /* NUL and 0xFF pass intact */
    size_t plen = sizeof(payload) - 1;
    send_pkt(pub, b, mq_publish(b, sizeof(b), version, topic, payload, plen, qos, false, 7));
    if (qos == 1) {
        expect_type(pub, 4); /* PUBACK */
    } else if (qos == 2) {
        expect_type(pub, 5); /* PUBREC */
        send_pkt(pub, b, mq_ack(b, sizeof(b), 6, 7));
        expect_type(pub, 7); /* PUBCOMP */
    }
    expect_type(sub, 3);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, version, &v));
    assert_string_equal(v.topic, topic);
    assert_int_equal(v.qos, qos);
    assert_int_equal(v.payload_len, plen);
    assert_memory_equal(v.payload, payload, plen);
    if (qos == 1) {
        send_pkt(sub, b, mq_ack(b, sizeof(b), 4, v.pid));
    } else if (qos == 2) {
        uint16_t pid = v.pid;
        send_pkt(sub, b, mq_ack(b, sizeof(b), 5, pid));
        expect_type(sub, 6); /* PUBREL */
        send_pkt(sub, b, mq_ack(b, sizeof(b), 7, pid));
    }
}

static void qos_test(int version, int qos, bool proxied)
{
    char cid[96], topic[64];
    snprintf(topic, sizeof(topic), "t/v%d/q%d/%s", version, qos, proxied ? "pp" : "plain");
    snprintf(cid, sizeof(cid), "sub-%s", topic);
    const char *addr = proxied ? B.pp : B.plain;
    int sub = open_client(addr, proxied, version, cid);
    subscribe(sub, version, topic, qos);
    snprintf(cid, sizeof(cid), "pub-%s", topic);
    int pub = open_client(addr, proxied, version, cid);
    exchange(pub, sub, version, topic, qos);
    disconnect_and_wait(pub);
    disconnect_and_wait(sub);
}

static void test_mqtt311_qos0(void **state) { (void)state; qos_test(4, 0, false); }
static void test_mqtt311_qos1(void **state) { (void)state; qos_test(4, 1, false); }
static void test_mqtt311_qos2(void **state) { (void)state; qos_test(4, 2, false); }
static void test_mqtt5_qos0(void **state) { (void)state; qos_test(5, 0, false); }
static void test_mqtt5_qos1(void **state) { (void)state; qos_test(5, 1, false); }
static void test_mqtt5_qos2(void **state) { (void)state; qos_test(5, 2, false); }
/* R-V2-37: after the header the stream is MQTT, whole flows included. */
static void test_R_V2_37_qos2_through_proxy_listener(void **state) { (void)state; qos_test(4, 2, true); }
static void test_R_V1_28_mqtt5_qos1_through_proxy_listener(void **state) { (void)state; qos_test(5, 1, true); }

static void test_wildcards(void **state)
{
    (void)state;
    int sub = open_client(B.plain, false, 4, "wild-sub");
    subscribe(sub, 4, "w/+/c", 0);
    int sub2 = open_client(B.plain, false, 4, "wild-sub2");
    subscribe(sub2, 4, "w/#", 1);
    int pub = open_client(B.plain, false, 4, "wild-pub");
    exchange(pub, sub, 4, "w/b/c", 0);
    expect_type(sub2, 3); /* the same message through w/# */
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_string_equal(v.topic, "w/b/c");
    disconnect_and_wait(pub);
    disconnect_and_wait(sub);
    disconnect_and_wait(sub2);
}

static void test_retained_message_delivered_to_late_subscriber(void **state)
{
    (void)state;
    uint8_t b[512];
    int pub = open_client(B.plain, false, 4, "ret-pub");
    send_pkt(pub, b, mq_publish(b, sizeof(b), 4, "r/state", "on", 2, 1, true, 3));
    expect_type(pub, 4);
    disconnect_and_wait(pub);
    int sub = open_client(B.pp, true, 5, "ret-sub");
    uint8_t s[512];
    send_pkt(sub, s, mq_subscribe(s, sizeof(s), 5, 1, "r/#", 1));
    /* SUBACK and the retained PUBLISH, in that order */
    expect_type(sub, 9);
    expect_type(sub, 3);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 5, &v));
    assert_string_equal(v.topic, "r/state");
    assert_true(v.retain);
    assert_int_equal(v.payload_len, 2);
    assert_memory_equal(v.payload, "on", 2);
    send_pkt(sub, s, mq_ack(s, sizeof(s), 4, v.pid));
    disconnect_and_wait(sub);
    /* clear it: an empty retained message deletes the retained state */
    pub = open_client(B.plain, false, 4, "ret-clear");
    send_pkt(pub, b, mq_publish(b, sizeof(b), 4, "r/state", "", 0, 1, true, 4));
    expect_type(pub, 4);
    disconnect_and_wait(pub);
}

static void test_will_published_when_client_vanishes(void **state)
{
    (void)state;
    int sub = open_client(B.plain, false, 4, "will-sub");
    subscribe(sub, 4, "will/#", 0);
    mq_connect_opts o = {.version = 4, .client_id = "will-owner", .clean = true,
                         .will_topic = "will/owner", .will_payload = "gone", .will_qos = 0};
    uint8_t h[64];
    size_t hl = v1_tcp4(h);
    int code;
    ts_end end;
    int owner = mq_open(B.pp, h, hl, &o, &code, &end);
    assert_true(owner >= 0);
    assert_int_equal(code, 0);
    close(owner); /* no DISCONNECT: the will must go out */
    expect_type(sub, 3);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_string_equal(v.topic, "will/owner");
    assert_int_equal(v.payload_len, 4);
    assert_memory_equal(v.payload, "gone", 4);
    disconnect_and_wait(sub);
}

static void test_will_not_published_after_disconnect(void **state)
{
    (void)state;
    int sub = open_client(B.plain, false, 4, "will2-sub");
    subscribe(sub, 4, "will2/#", 0);
    mq_connect_opts o = {.version = 4, .client_id = "will2-owner", .clean = true,
                         .will_topic = "will2/owner", .will_payload = "gone"};
    int code;
    ts_end end;
    int owner = mq_open(B.plain, NULL, 0, &o, &code, &end);
    assert_true(owner >= 0);
    disconnect_and_wait(owner);
    /* a marker message proves ordering: if the will had gone out it would arrive first */
    int pub = open_client(B.plain, false, 4, "will2-pub");
    uint8_t b[256];
    send_pkt(pub, b, mq_publish(b, sizeof(b), 4, "will2/marker", "m", 1, 0, false, 0));
    expect_type(sub, 3);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_string_equal(v.topic, "will2/marker");
    disconnect_and_wait(pub);
    disconnect_and_wait(sub);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mqtt311_qos0),
        cmocka_unit_test(test_mqtt311_qos1),
        cmocka_unit_test(test_mqtt311_qos2),
        cmocka_unit_test(test_mqtt5_qos0),
        cmocka_unit_test(test_mqtt5_qos1),
        cmocka_unit_test(test_mqtt5_qos2),
        cmocka_unit_test(test_R_V2_37_qos2_through_proxy_listener),
        cmocka_unit_test(test_R_V1_28_mqtt5_qos1_through_proxy_listener),
        cmocka_unit_test(test_wildcards),
        cmocka_unit_test(test_retained_message_delivered_to_late_subscriber),
        cmocka_unit_test(test_will_published_when_client_vanishes),
        cmocka_unit_test(test_will_not_published_after_disconnect),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
