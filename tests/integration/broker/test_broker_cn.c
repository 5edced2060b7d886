/* Integration: every CN-as-username decision (issue 4 item 3) over real sockets, each seen as
 * a `cn_decision` event in the admin API (reason, outcome) and as a log line: the verified CN
 * taken, refusals with v5 reason 0x87 and 3.1.1 return code 5 under `require`, the CONNECT
 * username kept under `fallback`, and CNs with NUL, control characters or over 256 bytes
 * refused. R-SSL-02 / A-12: only client 0x07-style flags with verify 0 prove a certificate. */
#include "common.h"

#include <stdlib.h>

static bh B;
static char body[1 << 18];
static mq_packet *P;

static int group_setup(void **state)
{
    (void)state;
    P = malloc(sizeof(*P));
    if (!P)
        return -1;
    return bh_start(&B,
                    "listener.tcp.cn = 127.0.0.1:0\n"
                    "listener.tcp.cn.proxy_protocol = on\n"
                    "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n"
                    "listener.tcp.cnfb = 127.0.0.1:0\n"
                    "listener.tcp.cnfb.proxy_protocol = on\n"
                    "listener.tcp.cnfb.proxy_protocol_use_cn_as_username = on\n"
                    "listener.tcp.cnfb.proxy_protocol_cn_policy = fallback\n",
                    NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    free(P);
    return bh_stop(&B) == 0 ? 0 : -1;
}

/* v2 PROXY TCP4 with an SSL TLV (client, verify); the CN goes inside it as sub-TLV 0x22, or
 * (top_level) next to it as a top-level 0x22 TLV. */
static size_t cn_header(uint8_t *out, size_t cap, uint8_t client, uint32_t verify, const void *cn, size_t cnlen,
                        bool top_level)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv subs[1] = {PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)cn, cnlen)};
    pp_build_ssl ssl = {.client = client, .verify = verify, .subs = subs, .nsubs = top_level ? 0 : 1};
    pp_build_tlv t[2] = {PP_BUILD_TLV(PP_TLV_SSL, NULL, 0), PP_BUILD_TLV(0x22, (const uint8_t *)cn, cnlen)};
    s.tlvs = t;
    s.ntlvs = top_level ? 2 : 1;
    s.ssl = &ssl;
    ssize_t n = pp_build(&s, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

typedef struct outcome {
    int code;       /* CONNACK code (3.1.1 return code / v5 reason), -1 = none */
    char peer[64];  /* our socket as the broker's real_peer */
    char event[8192]; /* the connection's cn_decision event */
} outcome;

/* The event of `type` from real_peer `peer`, polled from the admin API with a deadline. */
static void event_of(const char *peer, const char *type, char *out, size_t cap)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\"real_peer\":\"%s\",\"type\":\"%s\"", peer, type);
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", needle, 5000, body, sizeof(body)), 0);
    const char *hit = strstr(body, needle);
    const char *start = hit;
    while (start > body && strncmp(start, "{\"seq\"", 6) != 0)
        start--;
    const char *end = strstr(hit, "},{\"seq\"");
    size_t len = end ? (size_t)(end - start) + 1 : strlen(start);
    if (len >= cap)
        len = cap - 1;
    memcpy(out, start, len);
    out[len] = '\0';
}

/* Header + CONNECT (username "connect-user") in one write on listener; the CONNACK and the
 * connection's cn_decision event. A served client is disconnected afterwards unless keep. */
static void try_cn(const char *listener, int version, const uint8_t *h, size_t hl, const char *cid, outcome *o,
                   int *keep)
{
    char addr[64];
    assert_int_equal(bh_listener_address(&B, listener, addr, sizeof(addr)), 0);
    int fd = ts_connect(addr, NULL, 3000);
    assert_true(fd >= 0);
    local_text(fd, o->peer, sizeof(o->peer));
    uint8_t buf[2048];
    assert_true(hl < sizeof(buf) / 2);
    memcpy(buf, h, hl);
    mq_connect_opts co = {.version = version, .client_id = cid, .clean = true, .username = "connect-user"};
    size_t n = hl + mq_connect(buf + hl, sizeof(buf) - hl, &co);
    assert_int_equal(ts_send_all(fd, buf, n, 2000), 0);
    ts_end e = mq_read_packet(fd, P, 5000);
    o->code = (e == TS_END_COUNT && P->type == 2) ? P->body[1] : -1;
    event_of(o->peer, "cn_decision", o->event, sizeof(o->event));
    if (o->code == 0 && keep) {
        *keep = fd;
        return;
    }
    if (o->code == 0) {
        disconnect_and_wait(fd);
        return;
    }
    /* a refusal: the broker closes after its CONNACK */
    size_t got = 0;
    ts_end c = ts_expect_close(fd, 5000, &got);
    assert_true(c == TS_END_FIN || c == TS_END_RST);
    close(fd);
}

static void expect_field(const char *json, const char *key, const char *want)
{
    char v[512];
    if (ts_json_get(json, key, v, sizeof(v)) < 0)
        fail_msg("no %s in %s", key, json);
    if (strcmp(v, want) != 0)
        fail_msg("%s: expected '%s', got '%s' in %s", key, want, v, json);
}

static void session_user(const char *cid, const char *user, const char *source)
{
    char needle[128], v[512];
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    assert_int_equal(bh_wait_body(&B, "/api/v1/sessions", needle, 5000, body, sizeof(body)), 0);
    const char *s = strstr(body, needle);
    assert_true(ts_json_get(s, "username", v, sizeof(v)) >= 0);
    assert_string_equal(v, user);
    assert_true(ts_json_get(s, "username_source", v, sizeof(v)) >= 0);
    assert_string_equal(v, source);
}

/* The broker's log file has a line for this connection's cn_decision with that reason. */
static void logged(const char *peer, const char *reason)
{
    static char text[1 << 20];
    char want_peer[96], want_reason[96];
    snprintf(want_peer, sizeof(want_peer), "\"real_peer\":\"%s\"", peer);
    snprintf(want_reason, sizeof(want_reason), "\"reason\":\"%s\"", reason);
    ssize_t n = ts_read_file(B.log, text, sizeof(text));
    assert_true(n > 0);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strstr(line, "\"type\":\"cn_decision\"") && strstr(line, want_peer) && strstr(line, want_reason))
            return;
    fail_msg("no cn_decision log line for %s with %s in %s", peer, reason, B.log);
}

static void test_R_SSL_08_verified_cn_taken_and_logged(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 0, "alice", 5, false);
    outcome o;
    int fd = -1;
    try_cn("cn", 4, h, n, "cn-alice", &o, &fd);
    assert_int_equal(o.code, 0);
    expect_field(o.event, "reason", "cn.ok");
    expect_field(o.event, "outcome", "cn_username");
    expect_field(o.event, "username", "alice");
    session_user("cn-alice", "alice", "cn"); /* not the CONNECT's "connect-user" */
    logged(o.peer, "cn.ok");
    disconnect_and_wait(fd);
}

static void test_R_SSL_02_A_12_unverified_cn_v5_reason_0x87(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 18, "alice", 5, false); /* verify 18: self-signed */
    outcome o;
    try_cn("cn", 5, h, n, "cn-v5-v18", &o, NULL);
    assert_int_equal(o.code, 0x87);
    expect_field(o.event, "reason", "cn.unverified");
    expect_field(o.event, "outcome", "refused");
    logged(o.peer, "cn.unverified");
    n = cn_header(h, sizeof(h), 0x01, 0, "alice", 5, false); /* HAProxy without a certificate */
    try_cn("cn", 5, h, n, "cn-v5-c01", &o, NULL);
    assert_int_equal(o.code, 0x87);
    expect_field(o.event, "reason", "cn.unverified");
}

static void test_R_SSL_02_A_12_unverified_cn_311_return_code_5(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 18, "alice", 5, false);
    outcome o;
    try_cn("cn", 4, h, n, "cn-311-v18", &o, NULL);
    assert_int_equal(o.code, 5);
    expect_field(o.event, "reason", "cn.unverified");
    n = cn_header(h, sizeof(h), 0x01, 0, "alice", 5, false);
    try_cn("cn", 4, h, n, "cn-311-c01", &o, NULL);
    assert_int_equal(o.code, 5);
    expect_field(o.event, "outcome", "refused");
}

static void test_R_SSL_08_cn_with_nul_refused_not_truncated(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 0, "admin\0evil", 10, false);
    outcome o;
    try_cn("cn", 4, h, n, "cn-nul", &o, NULL);
    assert_int_equal(o.code, 5);
    expect_field(o.event, "reason", "cn.nul");
    assert_null(strstr(o.event, "\"username\":\"admin\""));
    logged(o.peer, "cn.nul");
}

static void test_R_SSL_08_cn_with_control_characters_refused(void **state)
{
    (void)state;
    static const struct {
        const char *cn;
        size_t len;
    } bad[] = {{"ali\x01" "ce", 5}, {"alice\n", 6}, {"ali\x7f" "ce", 5}, {"ali\xc2\x85" "ce", 6} /* C1 NEL */};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t h[512];
        size_t n = cn_header(h, sizeof(h), 0x07, 0, bad[i].cn, bad[i].len, false);
        char cid[32];
        snprintf(cid, sizeof(cid), "cn-ctl-%zu", i);
        outcome o;
        try_cn("cn", i % 2 ? 5 : 4, h, n, cid, &o, NULL);
        assert_int_equal(o.code, i % 2 ? 0x87 : 5);
        expect_field(o.event, "reason", "cn.control_char");
    }
}

static void test_R_SSL_08_cn_length_limit_256(void **state)
{
    (void)state;
    char cn[258];
    memset(cn, 'a', sizeof(cn));
    uint8_t h[1024];
    size_t n = cn_header(h, sizeof(h), 0x07, 0, cn, 257, false);
    outcome o;
    try_cn("cn", 4, h, n, "cn-257", &o, NULL);
    assert_int_equal(o.code, 5);
    expect_field(o.event, "reason", "cn.too_long");
    logged(o.peer, "cn.too_long");
    /* exactly at the limit: taken whole */
    n = cn_header(h, sizeof(h), 0x07, 0, cn, 256, false);
    int fd = -1;
    try_cn("cn", 4, h, n, "cn-256", &o, &fd);
    assert_int_equal(o.code, 0);
    cn[256] = '\0';
    session_user("cn-256", cn, "cn");
    disconnect_and_wait(fd);
}

static void test_EC_T_17_top_level_0x22_not_a_cn(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 0, "admin", 5, true);
    outcome o;
    try_cn("cn", 5, h, n, "cn-top", &o, NULL);
    assert_int_equal(o.code, 0x87);
    expect_field(o.event, "reason", "cn.missing");
    assert_null(strstr(o.event, "\"username\":\"admin\""));
    /* under fallback the CONNECT username is kept, never the top-level value */
    int fd = -1;
    try_cn("cnfb", 4, h, n, "cn-top-fb", &o, &fd);
    assert_int_equal(o.code, 0);
    expect_field(o.event, "reason", "cn.missing");
    session_user("cn-top-fb", "connect-user", "connect");
    disconnect_and_wait(fd);
}

static void test_cn_policy_fallback_keeps_connect_username_and_says_why(void **state)
{
    (void)state;
    uint8_t h[512];
    size_t n = cn_header(h, sizeof(h), 0x07, 18, "alice", 5, false);
    outcome o;
    int fd = -1;
    try_cn("cnfb", 5, h, n, "cn-fb-v5", &o, &fd);
    assert_int_equal(o.code, 0);
    expect_field(o.event, "reason", "cn.unverified");
    expect_field(o.event, "outcome", "connect_username");
    assert_non_null(strstr(o.event, "policy fallback"));
    session_user("cn-fb-v5", "connect-user", "connect");
    logged(o.peer, "cn.unverified");
    disconnect_and_wait(fd);
    /* and a verified CN still wins over the CONNECT username under fallback */
    n = cn_header(h, sizeof(h), 0x07, 0, "alice", 5, false);
    try_cn("cnfb", 4, h, n, "cn-fb-ok", &o, &fd);
    assert_int_equal(o.code, 0);
    session_user("cn-fb-ok", "alice", "cn");
    disconnect_and_wait(fd);
}

/* Identity options the broker could not honour are configuration errors (exit 2 naming the
 * key), from the broker and from --check-config: use_cn_as_username without proxy_protocol
 * would be ignored and let every CONNECT username through; with use_identity_as_username on
 * the same listener, which identity wins would be a guess. */
static void test_cn_as_username_config_errors(void **state)
{
    (void)state;
    char dir[256], conf[400], errf[400], pem[400], key[400];
    assert_int_equal(ts_tmpdir("broker-cncfg", dir, sizeof(dir)), 0);
    ts_leaf leaves[] = {{.name = "server", .cn = "localhost", .is_server = true}};
    assert_int_equal(ts_pki_make(dir, "ppc test CA", leaves, 1), 0);
    snprintf(conf, sizeof(conf), "%s/cn.conf", dir);
    snprintf(errf, sizeof(errf), "%s/stderr", dir);
    snprintf(pem, sizeof(pem), "%s/server.pem", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    char both[2048];
    snprintf(both, sizeof(both),
             "listener.ssl.two = 127.0.0.1:0\n"
             "listener.ssl.two.certfile = %s\n"
             "listener.ssl.two.keyfile = %s\n"
             "listener.ssl.two.cafile = %s/ca.pem\n"
             "listener.ssl.two.use_identity_as_username = on\n"
             "listener.ssl.two.proxy_protocol = on\n"
             "listener.ssl.two.proxy_protocol_use_cn_as_username = on\n",
             pem, key, dir);
    const struct {
        const char *text, *want;
    } bad[] = {
        {"listener.tcp.open = 127.0.0.1:0\n"
         "listener.tcp.open.proxy_protocol_use_cn_as_username = on\n",
         "listener.tcp.open.proxy_protocol_use_cn_as_username: needs listener.tcp.open.proxy_protocol = on"},
        {both, "listener.ssl.two.use_identity_as_username: cannot be combined with proxy_protocol_use_cn_as_username"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        assert_int_equal(ts_write_file(conf, bad[k].text, strlen(bad[k].text)), 0);
        const char *run[] = {bh_ppbroker(), "-c", conf, NULL};
        const char *check[] = {bh_ppbroker(), "--check-config", "-c", conf, NULL};
        const char *const *argvs[] = {run, check};
        for (size_t i = 0; i < 2; i++) {
            unlink(errf);
            ts_proc p;
            ts_exit ex;
            assert_int_equal(ts_spawn(&p, argvs[i], NULL, errf, errf), 0);
            if (ts_wait_exit(&p, 15000, &ex) != 0) {
                ts_stop(&p, 5000, &ex);
                fail_msg("ppbroker accepted:\n%s", bad[k].text);
            }
            assert_true(ex.exited);
            assert_int_equal(ex.code, 2);
            char buf[2048];
            assert_true(ts_read_file(errf, buf, sizeof(buf)) > 0);
            if (!strstr(buf, bad[k].want))
                fail_msg("stderr lacks '%s':\n%s", bad[k].want, buf);
        }
    }
    ts_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_SSL_08_verified_cn_taken_and_logged),
        cmocka_unit_test(test_R_SSL_02_A_12_unverified_cn_v5_reason_0x87),
        cmocka_unit_test(test_R_SSL_02_A_12_unverified_cn_311_return_code_5),
        cmocka_unit_test(test_R_SSL_08_cn_with_nul_refused_not_truncated),
        cmocka_unit_test(test_R_SSL_08_cn_with_control_characters_refused),
        cmocka_unit_test(test_R_SSL_08_cn_length_limit_256),
        cmocka_unit_test(test_EC_T_17_top_level_0x22_not_a_cn),
        cmocka_unit_test(test_cn_policy_fallback_keeps_connect_username_and_says_why),
        cmocka_unit_test(test_cn_as_username_config_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
