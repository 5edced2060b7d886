/* Integration: the ACL file decides by attributed address and username (issue 4 item 5):
 * a denial a subscriber can observe, grants by the PROXY-carried source, acl_deny events. */
#include "common.h"

#include <stdlib.h>

static bh B;
static char dir[256];
static mq_packet *P;
static char body[1 << 18];

static int group_setup(void **state)
{
    (void)state;
    P = malloc(sizeof(*P));
    if (!P || ts_tmpdir("broker-acl", dir, sizeof(dir)) != 0)
        return -1;
    char acl[400], extra[800];
    snprintf(acl, sizeof(acl), "%s/acl", dir);
    static const char rules[] = "topic read public/#\n"
                                "user alice\n"
                                "topic readwrite alice/#\n"
                                "source 203.0.113.0/24\n"
                                "topic write public/sensors/+\n";
    if (ts_write_file(acl, rules, sizeof(rules) - 1) != 0)
        return -1;
    snprintf(extra, sizeof(extra),
             "acl_file = %s\n"
             "listener.tcp.cn = 127.0.0.1:0\n"
             "listener.tcp.cn.proxy_protocol = on\n"
             "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n",
             acl);
    return bh_start(&B, extra, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    free(P);
    ts_rmtree(dir);
    return bh_stop(&B) == 0 ? 0 : -1;
}

static int client(const char *addr, bool proxied, const char *cid, const char *user)
{
    mq_connect_opts o = {.version = 4, .client_id = cid, .clean = true, .username = user};
    uint8_t h[64];
    size_t hl = proxied ? v2_tcp4(h) : 0; /* carried source 203.0.113.7 */
    int code;
    ts_end end;
    int fd = mq_open(addr, proxied ? h : NULL, hl, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 0);
    return fd;
}

static uint8_t suback(int fd, const char *filter)
{
    uint8_t b[256];
    size_t n = mq_subscribe(b, sizeof(b), 4, 1, filter, 0);
    assert_int_equal(ts_send_all(fd, b, n, 2000), 0);
    assert_int_equal(mq_read_packet(fd, P, 5000), TS_END_COUNT);
    assert_int_equal(P->type, 9);
    return P->body[P->len - 1];
}

static void publish(int fd, const char *topic, const char *payload)
{
    uint8_t b[256];
    size_t n = mq_publish(b, sizeof(b), 4, topic, payload, strlen(payload), 0, false, 0);
    assert_int_equal(ts_send_all(fd, b, n, 2000), 0);
}

static void test_subscription_denied_gets_suback_0x80(void **state)
{
    (void)state;
    int sub = client(B.plain, false, "acl-sub1", NULL);
    assert_int_equal(suback(sub, "public/#"), 0x00);
    assert_int_equal(suback(sub, "secret/#"), 0x80);
    assert_int_equal(suback(sub, "#"), 0x80); /* wider than public/# */
    disconnect_and_wait(sub);
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", "\"type\":\"acl_deny\"", 5000, body, sizeof(body)), 0);
}

static void test_publish_allowed_by_carried_source_only(void **state)
{
    (void)state;
    int sub = client(B.plain, false, "acl-sub2", NULL);
    assert_int_equal(suback(sub, "public/#"), 0x00);
    int direct = client(B.plain, false, "acl-direct", NULL);   /* real peer 127.0.0.1: not granted */
    int proxied = client(B.pp, true, "acl-proxied", NULL);     /* attributed to 203.0.113.7: granted */
    publish(direct, "public/sensors/1", "denied");
    publish(proxied, "public/sensors/2", "allowed");
    /* the subscriber sees the allowed message and never the denied one (sent before it) */
    assert_int_equal(mq_read_packet(sub, P, 5000), TS_END_COUNT);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_string_equal(v.topic, "public/sensors/2");
    assert_int_equal(v.payload_len, 7);
    disconnect_and_wait(direct);
    disconnect_and_wait(proxied);
    disconnect_and_wait(sub);
}

static void test_user_rules(void **state)
{
    (void)state;
    int alice = client(B.plain, false, "acl-alice", "alice");
    assert_int_equal(suback(alice, "alice/#"), 0x00);
    int bob = client(B.plain, false, "acl-bob", "bob");
    assert_int_equal(suback(bob, "alice/#"), 0x80);
    publish(bob, "alice/inbox", "from bob");     /* denied */
    publish(alice, "alice/inbox", "from alice"); /* allowed, and alice hears it */
    assert_int_equal(mq_read_packet(alice, P, 5000), TS_END_COUNT);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_int_equal(v.payload_len, 10);
    assert_memory_equal(v.payload, "from alice", 10);
    disconnect_and_wait(alice);
    disconnect_and_wait(bob);
}

/* v2 header from 203.0.113.7 with a verified SSL TLV whose CN is cn. */
static size_t cn_header(uint8_t *out, size_t cap, const char *cn)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv subs[1] = {PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)cn, strlen(cn))};
    pp_build_ssl ssl = {.client = 0x07, .verify = 0, .subs = subs, .nsubs = 1};
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
    s.tlvs = &t;
    s.ntlvs = 1;
    s.ssl = &ssl;
    ssize_t n = pp_build(&s, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

/* The CN-derived username decides authorization, not the CONNECT's: CN alice with CONNECT
 * username bob gets alice/#; CN bob with CONNECT username alice does not. */
static void test_R_SSL_08_acl_uses_cn_derived_username(void **state)
{
    (void)state;
    char addr[64];
    assert_int_equal(bh_listener_address(&B, "cn", addr, sizeof(addr)), 0);
    uint8_t h[256];
    int code;
    ts_end end;
    mq_connect_opts o = {.version = 4, .client_id = "acl-cn-alice", .clean = true, .username = "bob"};
    size_t hl = cn_header(h, sizeof(h), "alice");
    int alice = mq_open(addr, h, hl, &o, &code, &end);
    assert_true(alice >= 0);
    assert_int_equal(code, 0);
    assert_int_equal(suback(alice, "alice/#"), 0x00);
    o.client_id = "acl-cn-bob";
    o.username = "alice";
    hl = cn_header(h, sizeof(h), "bob");
    int bob = mq_open(addr, h, hl, &o, &code, &end);
    assert_true(bob >= 0);
    assert_int_equal(code, 0);
    assert_int_equal(suback(bob, "alice/#"), 0x80);
    publish(bob, "alice/inbox", "spoofed"); /* denied: bob is bob, whatever CONNECT said */
    publish(alice, "alice/inbox", "mine");
    assert_int_equal(mq_read_packet(alice, P, 5000), TS_END_COUNT);
    mq_publish_view v;
    assert_true(mq_parse_publish(P, 4, &v));
    assert_int_equal(v.payload_len, 4);
    assert_memory_equal(v.payload, "mine", 4);
    disconnect_and_wait(alice);
    disconnect_and_wait(bob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscription_denied_gets_suback_0x80),
        cmocka_unit_test(test_publish_allowed_by_carried_source_only),
        cmocka_unit_test(test_user_rules),
        cmocka_unit_test(test_R_SSL_08_acl_uses_cn_derived_username),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
