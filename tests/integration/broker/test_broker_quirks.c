/* Integration: every `--quirk` changes ppbroker's behaviour observably (issue 7 item 7).
 * Each case sends the same bytes to a correct broker and to one with the quirk on, and
 * asserts the correct outcome on the first and the defective one on the second. */
#include "common.h"

#include <stdlib.h>

#include "net/loop.h"

#define EXTRA                                                                                      \
    "listener.tcp.cn = 127.0.0.1:0\n"                                                              \
    "listener.tcp.cn.proxy_protocol = on\n"                                                        \
    "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n"                                     \
    "listener.tcp.t3 = 127.0.0.1:0\n"                                                              \
    "listener.tcp.t3.proxy_protocol = on\n"                                                        \
    "listener.tcp.t3.proxy_protocol_timeout = 3s\n"

static bh GOOD;
static char body[1 << 18];

static int group_setup(void **state)
{
    (void)state;
    return bh_start(&GOOD, EXTRA, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return bh_stop(&GOOD) == 0 ? 0 : -1;
}

static void start_quirk(bh *h, const char *quirk)
{
    const char *q[] = {quirk, NULL};
    assert_int_equal(bh_start(h, EXTRA, q), 0);
    assert_int_equal(bh_get(h, "/api/v1/status", body, sizeof(body)), 200);
    char want[96];
    snprintf(want, sizeof(want), "\"quirks\":[\"%s\"]", quirk);
    assert_non_null(strstr(body, want)); /* active quirks are visible */
}

/* prefix + CONNECT: the CONNACK code, or -1 when the broker closes without one. The
 * session (if any) is left for the caller to inspect through *fd_out (closed if NULL). */
static int try_connect(const char *addr, const void *prefix, size_t plen, const char *cid, int *fd_out)
{
    mq_connect_opts o = {.version = 4, .client_id = cid, .clean = true, .username = "connect-user"};
    int code = -1;
    ts_end end;
    int fd = mq_open(addr, prefix, plen, &o, &code, &end);
    if (fd < 0)
        return -1;
    if (fd_out)
        *fd_out = fd;
    else
        disconnect_and_wait(fd);
    return code;
}

static void session_field(bh *h, const char *cid, const char *key, char *out, size_t cap)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    assert_int_equal(bh_wait_body(h, "/api/v1/sessions", needle, 5000, body, sizeof(body)), 0);
    assert_true(ts_json_get(strstr(body, needle), key, out, cap) >= 0);
}

static void test_EC_S_10_accept_missing_header(void **state)
{
    (void)state;
    assert_int_equal(try_connect(GOOD.pp, NULL, 0, "q1", NULL), -1);
    bh q;
    start_quirk(&q, "accept-missing-header");
    assert_int_equal(try_connect(q.pp, NULL, 0, "q1", NULL), 0);
    assert_int_equal(bh_stop(&q), 0);
}

static void test_R_GEN_14_accept_header_on_plain_listener(void **state)
{
    (void)state;
    uint8_t h[64];
    size_t n = v1_tcp4(h);
    assert_int_equal(try_connect(GOOD.plain, h, n, "q2", NULL), -1);
    bh q;
    start_quirk(&q, "accept-header-on-plain-listener");
    int fd = -1;
    assert_int_equal(try_connect(q.plain, h, n, "q2", &fd), 0);
    char peer[64];
    session_field(&q, "q2", "attributed_peer", peer, sizeof(peer));
    assert_string_equal(peer, "203.0.113.7:40000"); /* the spoofed address was believed */
    disconnect_and_wait(fd);
    assert_int_equal(bh_stop(&q), 0);
}

static size_t crc_header(uint8_t *out, size_t cap, bool corrupt)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
    t.crc_auto = true;
    s.tlvs = &t;
    s.ntlvs = 1;
    s.crc_corrupt = corrupt;
    ssize_t n = pp_build(&s, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_R_CRC_06_ignore_crc32c(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = crc_header(h, sizeof(h), false);
    assert_int_equal(try_connect(GOOD.pp, h, n, "q3ok", NULL), 0); /* a right CRC passes */
    n = crc_header(h, sizeof(h), true);
    assert_int_equal(try_connect(GOOD.pp, h, n, "q3", NULL), -1);
    assert_int_equal(bh_wait_body(&GOOD, "/api/v1/rejections", "crc32c.mismatch", 5000, body, sizeof(body)), 0);
    bh q;
    start_quirk(&q, "ignore-crc32c");
    assert_int_equal(try_connect(q.pp, h, n, "q3", NULL), 0);
    assert_int_equal(bh_stop(&q), 0);
}

static size_t ssl_header(uint8_t *out, size_t cap, uint8_t client, uint32_t verify, const char *cn, size_t cnlen)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv subs[2] = {PP_BUILD_TLV(PP_SSL_VERSION, (const uint8_t *)"TLSv1.3", 7),
                            PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)cn, cnlen)};
    pp_build_ssl ssl = {.client = client, .verify = verify, .subs = subs, .nsubs = 2};
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
    s.tlvs = &t;
    s.ntlvs = 1;
    s.ssl = &ssl;
    ssize_t n = pp_build(&s, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

/* HAProxy's no-certificate case: client 0x01, verify 0 (A-12, EC-SSL-06). */
static void test_R_SSL_02_trust_unverified_cn(void **state)
{
    (void)state;
    char cn[128];
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x07, 0, "alice", 5);
    int fd = -1;
    char addr[64];
    assert_int_equal(bh_listener_address(&GOOD, "cn", addr, sizeof(addr)), 0);
    assert_int_equal(try_connect(addr, h, n, "q4ok", &fd), 0); /* verified: CN is the username */
    session_field(&GOOD, "q4ok", "username", cn, sizeof(cn));
    assert_string_equal(cn, "alice");
    disconnect_and_wait(fd);
    n = ssl_header(h, sizeof(h), 0x01, 0, "alice", 5);
    assert_int_equal(try_connect(addr, h, n, "q4", NULL), 5); /* refused: not authorized */
    bh q;
    start_quirk(&q, "trust-unverified-cn");
    assert_int_equal(bh_listener_address(&q, "cn", addr, sizeof(addr)), 0);
    assert_int_equal(try_connect(addr, h, n, "q4", &fd), 0);
    session_field(&q, "q4", "username", cn, sizeof(cn));
    assert_string_equal(cn, "alice");
    disconnect_and_wait(fd);
    assert_int_equal(bh_stop(&q), 0);
}

/* Mosquitto turns "admin\0evil" into "admin" (peers.md #31). */
static void test_R_SSL_08_cn_nul_truncate(void **state)
{
    (void)state;
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x07, 0, "admin\0evil", 10);
    char addr[64], user[64];
    assert_int_equal(bh_listener_address(&GOOD, "cn", addr, sizeof(addr)), 0);
    assert_int_equal(try_connect(addr, h, n, "q5", NULL), 5);
    assert_int_equal(bh_wait_body(&GOOD, "/api/v1/rejections", "cn.nul", 5000, body, sizeof(body)), 0);
    bh q;
    start_quirk(&q, "cn-nul-truncate");
    assert_int_equal(bh_listener_address(&q, "cn", addr, sizeof(addr)), 0);
    int fd = -1;
    assert_int_equal(try_connect(addr, h, n, "q5", &fd), 0);
    session_field(&q, "q5", "username", user, sizeof(user));
    assert_string_equal(user, "admin");
    disconnect_and_wait(fd);
    assert_int_equal(bh_stop(&q), 0);
}

static void test_R_V1_25_lenient_v1_grammar(void **state)
{
    (void)state;
    static const char bare_lf[] = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 1883\n";
    static const char zeros[] = "PROXY TCP4 203.0.113.007 192.0.2.1 40000 1883\r\n";
    assert_int_equal(try_connect(GOOD.pp, bare_lf, sizeof(bare_lf) - 1, "q6", NULL), -1);
    assert_int_equal(try_connect(GOOD.pp, zeros, sizeof(zeros) - 1, "q6", NULL), -1);
    bh q;
    start_quirk(&q, "lenient-v1-grammar");
    assert_int_equal(try_connect(q.pp, bare_lf, sizeof(bare_lf) - 1, "q6", NULL), 0);
    assert_int_equal(try_connect(q.pp, zeros, sizeof(zeros) - 1, "q6b", NULL), 0);
    assert_int_equal(bh_stop(&q), 0);
}

/* CVE-2021-23409 class: no header, no timeout. Waiting past the 3 s timeout is the check. */
static void test_R_GEN_12_no_header_timeout(void **state)
{
    (void)state;
    char good_t3[64], q_t3[64];
    bh q;
    start_quirk(&q, "no-header-timeout");
    assert_int_equal(bh_listener_address(&GOOD, "t3", good_t3, sizeof(good_t3)), 0);
    assert_int_equal(bh_listener_address(&q, "t3", q_t3, sizeof(q_t3)), 0);
    int g = ts_connect(good_t3, NULL, 2000), b = ts_connect(q_t3, NULL, 2000);
    assert_true(g >= 0 && b >= 0);
    size_t got;
    ts_end e = ts_expect_close(g, 8000, &got);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    /* the correct broker closed at its timeout (>= 3 s after connect); the quirky one not */
    e = ts_expect_close(b, 1000, &got);
    assert_int_equal(e, TS_END_TIMEOUT);
    close(g);
    close(b);
    assert_int_equal(bh_stop(&q), 0);
}

/* v1 decoded before its CRLF: the first part is taken as the whole header (R-V1-22). */
static void test_R_GEN_11_decode_before_complete(void **state)
{
    (void)state;
    static const char part1[] = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 188";
    uint8_t part2[128] = "3\r\n";
    mq_connect_opts o = {.version = 4, .client_id = "q8", .clean = true};
    size_t n2 = 3 + mq_connect(part2 + 3, sizeof(part2) - 3, &o);
    bh q;
    start_quirk(&q, "decode-before-complete");
    bh *brokers[2] = {&GOOD, &q};
    for (int i = 0; i < 2; i++) {
        int fd = ts_connect(brokers[i]->pp, NULL, 2000);
        assert_true(fd >= 0);
        char real[64];
        local_text(fd, real, sizeof(real));
        assert_int_equal(ts_send_all(fd, part1, sizeof(part1) - 1, 2000), 0);
        if (i == 0) {
            /* correct: still waiting for the CRLF with all 42 bytes held */
            assert_int_equal(bh_wait_conn(brokers[i], real, "proxy", (long long)sizeof(part1) - 1, 5000), 0);
        } else {
            /* defect: the header was accepted from a partial line (port 188) */
            assert_int_equal(bh_wait_conn(brokers[i], real, "mqtt", -1, 5000), 0);
        }
        assert_int_equal(ts_send_all(fd, part2, n2, 2000), 0);
        mq_packet *p = malloc(sizeof(*p));
        ts_end e = mq_read_packet(fd, p, 5000);
        if (i == 0) {
            assert_int_equal(e, TS_END_COUNT);
            assert_int_equal(p->type, 2);
        } else {
            assert_true(e == TS_END_FIN || e == TS_END_RST); /* "3\r\n" reached MQTT */
        }
        free(p);
        close(fd);
    }
    assert_int_equal(bh_stop(&q), 0);
}

/* Mosquitto's second read overwrites the address block (peers.md #28). */
static void test_R_V2_33_wrong_address_on_split(void **state)
{
    (void)state;
    uint8_t stream[128];
    size_t hl = v2_tcp4(stream);
    mq_connect_opts o = {.version = 4, .client_id = "q9", .clean = true};
    size_t n = hl + mq_connect(stream + hl, sizeof(stream) - hl, &o);
    bh q;
    start_quirk(&q, "wrong-address-on-split");
    bh *brokers[2] = {&GOOD, &q};
    for (int i = 0; i < 2; i++) {
        int fd = ts_connect(brokers[i]->pp, NULL, 2000);
        assert_true(fd >= 0);
        char real[64], peer[64];
        local_text(fd, real, sizeof(real));
        assert_int_equal(ts_send_all(fd, stream, 20, 2000), 0); /* cut inside the address block */
        assert_int_equal(bh_wait_conn(brokers[i], real, "proxy", 20, 5000), 0);
        assert_int_equal(ts_send_all(fd, stream + 20, n - 20, 2000), 0);
        mq_packet *p = malloc(sizeof(*p));
        assert_int_equal(mq_read_packet(fd, p, 5000), TS_END_COUNT);
        assert_int_equal(p->type, 2);
        free(p);
        session_field(brokers[i], "q9", "attributed_peer", peer, sizeof(peer));
        if (i == 0)
            assert_string_equal(peer, "203.0.113.7:40000");
        else
            assert_string_not_equal(peer, "203.0.113.7:40000");
        disconnect_and_wait(fd);
    }
    assert_int_equal(bh_stop(&q), 0);
}

static void test_R_V2_07_close_on_local(void **state)
{
    (void)state;
    static const uint8_t local[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00};
    assert_int_equal(try_connect(GOOD.pp, local, sizeof(local), "q10", NULL), 0);
    bh q;
    start_quirk(&q, "close-on-local");
    assert_int_equal(try_connect(q.pp, local, sizeof(local), "q10", NULL), -1);
    assert_int_equal(bh_stop(&q), 0);
}

static void test_R_V2_06_accept_unknown_command(void **state)
{
    (void)state;
    uint8_t h[64];
    size_t n = v2_tcp4(h);
    h[12] = 0x22; /* command 2 */
    assert_int_equal(try_connect(GOOD.pp, h, n, "q11", NULL), -1);
    assert_int_equal(bh_wait_body(&GOOD, "/api/v1/rejections", "v2.bad_command", 5000, body, sizeof(body)), 0);
    bh q;
    start_quirk(&q, "accept-unknown-command");
    assert_int_equal(try_connect(q.pp, h, n, "q11", NULL), 0);
    assert_int_equal(bh_stop(&q), 0);
}

static void test_A_15_last_duplicate_tlv_wins(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv t[2] = {PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"first.example", 13),
                         PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"second.example", 14)};
    s.tlvs = t;
    s.ntlvs = 2;
    uint8_t h[256];
    ssize_t n = pp_build(&s, h, sizeof(h));
    assert_true(n > 0);
    assert_int_equal(try_connect(GOOD.pp, h, (size_t)n, "q12", NULL), -1);
    assert_int_equal(bh_wait_body(&GOOD, "/api/v1/rejections", "tlv.duplicate", 5000, body, sizeof(body)), 0);
    bh q;
    start_quirk(&q, "last-duplicate-tlv-wins");
    int fd = -1;
    assert_int_equal(try_connect(q.pp, h, (size_t)n, "q12", &fd), 0);
    char auth[64];
    session_field(&q, "q12", "authority", auth, sizeof(auth));
    assert_string_equal(auth, "second.example");
    disconnect_and_wait(fd);
    assert_int_equal(bh_stop(&q), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_S_10_accept_missing_header),
        cmocka_unit_test(test_R_GEN_14_accept_header_on_plain_listener),
        cmocka_unit_test(test_R_CRC_06_ignore_crc32c),
        cmocka_unit_test(test_R_SSL_02_trust_unverified_cn),
        cmocka_unit_test(test_R_SSL_08_cn_nul_truncate),
        cmocka_unit_test(test_R_V1_25_lenient_v1_grammar),
        cmocka_unit_test(test_R_GEN_12_no_header_timeout),
        cmocka_unit_test(test_R_GEN_11_decode_before_complete),
        cmocka_unit_test(test_R_V2_33_wrong_address_on_split),
        cmocka_unit_test(test_R_V2_07_close_on_local),
        cmocka_unit_test(test_R_V2_06_accept_unknown_command),
        cmocka_unit_test(test_A_15_last_duplicate_tlv_wins),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
