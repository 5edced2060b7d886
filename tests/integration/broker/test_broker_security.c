/* Integration: identity and IP-level security on PROXY listeners (issue 4 items 3-6):
 * CN as username only from a verified SSL TLV, the require/fallback policy, trusted proxies,
 * allowed_sources on carried and real addresses, required CRC32C, max_connections. */
#include "common.h"

#include <stdlib.h>

static bh B;
static char body[1 << 18];

static int group_setup(void **state)
{
    (void)state;
    return bh_start(&B,
                    "listener.tcp.cn = 127.0.0.1:0\n"
                    "listener.tcp.cn.proxy_protocol = on\n"
                    "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n"
                    "listener.tcp.cnfb = 127.0.0.1:0\n"
                    "listener.tcp.cnfb.proxy_protocol = on\n"
                    "listener.tcp.cnfb.proxy_protocol_use_cn_as_username = on\n"
                    "listener.tcp.cnfb.proxy_protocol_cn_policy = fallback\n"
                    "listener.tcp.trusted = 0.0.0.0:0\n"
                    "listener.tcp.trusted.proxy_protocol = on\n"
                    "listener.tcp.trusted.proxy_protocol_trusted_proxies = 127.0.0.1/32\n"
                    "listener.tcp.allowed = 127.0.0.1:0\n"
                    "listener.tcp.allowed.proxy_protocol = on\n"
                    "listener.tcp.allowed.allowed_sources = 203.0.113.0/24\n"
                    "listener.tcp.allowedplain = 0.0.0.0:0\n"
                    "listener.tcp.allowedplain.allowed_sources = 127.0.0.2/32\n"
                    "listener.tcp.crc = 127.0.0.1:0\n"
                    "listener.tcp.crc.proxy_protocol = on\n"
                    "listener.tcp.crc.proxy_protocol_require_crc32c = on\n"
                    "listener.tcp.max1 = 127.0.0.1:0\n"
                    "listener.tcp.max1.max_connections = 1\n",
                    NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return bh_stop(&B) == 0 ? 0 : -1;
}

static void addr_of(const char *name, char *out, size_t cap)
{
    assert_int_equal(bh_listener_address(&B, name, out, cap), 0);
}

/* 0.0.0.0:P listeners are reached through a chosen loopback address. */
static void via(const char *name, const char *ip, char *out, size_t cap)
{
    char a[64];
    addr_of(name, a, sizeof(a));
    snprintf(out, cap, "%s%s", ip, strrchr(a, ':'));
}

static size_t ssl_header(uint8_t *out, size_t cap, uint8_t client, uint32_t verify, const char *cn, bool top_level_cn)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv subs[1] = {PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)cn, strlen(cn))};
    pp_build_ssl ssl = {.client = client, .verify = verify, .subs = subs, .nsubs = top_level_cn ? 0 : 1};
    pp_build_tlv t[2] = {PP_BUILD_TLV(PP_TLV_SSL, NULL, 0), PP_BUILD_TLV(0x22, (const uint8_t *)cn, strlen(cn))};
    s.tlvs = t;
    s.ntlvs = top_level_cn ? 2 : 1;
    s.ssl = &ssl;
    ssize_t n = pp_build(&s, out, cap);
    assert_true(n > 0);
    return (size_t)n;
}

/* CONNECT (with username "connect-user") after prefix from src_ip; CONNACK code or -1. */
static int attempt(const char *addr, const char *src_ip, const void *prefix, size_t plen, const char *cid, int *keep)
{
    int fd = ts_connect(addr, src_ip, 3000);
    assert_true(fd >= 0);
    uint8_t buf[2048];
    size_t n = 0;
    if (prefix) {
        memcpy(buf, prefix, plen);
        n = plen;
    }
    mq_connect_opts o = {.version = 4, .client_id = cid, .clean = true, .username = "connect-user"};
    n += mq_connect(buf + n, sizeof(buf) - n, &o);
    assert_int_equal(ts_send_all(fd, buf, n, 2000), 0);
    mq_packet *p = malloc(sizeof(*p));
    ts_end e = mq_read_packet(fd, p, 5000);
    int code = (e == TS_END_COUNT && p->type == 2) ? p->body[1] : -1;
    free(p);
    if (code == 0 && keep) {
        *keep = fd;
        return code;
    }
    if (code == 0)
        disconnect_and_wait(fd);
    else
        close(fd);
    return code;
}

static void user_of(const char *cid, char *user, size_t cap, char *src, size_t scap)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    assert_int_equal(bh_wait_body(&B, "/api/v1/sessions", needle, 5000, body, sizeof(body)), 0);
    const char *p = strstr(body, needle);
    assert_true(ts_json_get(p, "username", user, cap) >= 0);
    assert_true(ts_json_get(p, "username_source", src, scap) >= 0);
}

static void test_EC_SSL_03_verified_cn_becomes_username(void **state)
{
    (void)state;
    char a[64], user[64], src[32];
    addr_of("cn", a, sizeof(a));
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x07, 0, "alice", false);
    int fd = -1;
    assert_int_equal(attempt(a, NULL, h, n, "cn-ok", &fd), 0);
    user_of("cn-ok", user, sizeof(user), src, sizeof(src));
    assert_string_equal(user, "alice");
    assert_string_equal(src, "cn");
    disconnect_and_wait(fd);
}

static void test_R_SSL_02_unverified_cn_refused_with_not_authorized(void **state)
{
    (void)state;
    char a[64];
    addr_of("cn", a, sizeof(a));
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x07, 18, "alice", false); /* verify = 18: self-signed */
    assert_int_equal(attempt(a, NULL, h, n, "cn-v18", NULL), 5);
    n = ssl_header(h, sizeof(h), 0x01, 0, "alice", false); /* HAProxy without a certificate */
    assert_int_equal(attempt(a, NULL, h, n, "cn-c01", NULL), 5);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "cn.unverified", 5000, body, sizeof(body)), 0);
}

static void test_EC_T_17_top_level_0x22_is_not_a_cn(void **state)
{
    (void)state;
    char a[64];
    addr_of("cn", a, sizeof(a));
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x07, 0, "admin", true); /* verified SSL TLV, CN outside it */
    assert_int_equal(attempt(a, NULL, h, n, "cn-top", NULL), 5);
}

static void test_cn_with_nul_refused(void **state)
{
    (void)state;
    char a[64];
    addr_of("cn", a, sizeof(a));
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv subs[1] = {PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)"admin\0evil", 10)};
    pp_build_ssl ssl = {.client = 0x07, .verify = 0, .subs = subs, .nsubs = 1};
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
    s.tlvs = &t;
    s.ntlvs = 1;
    s.ssl = &ssl;
    uint8_t h[256];
    ssize_t n = pp_build(&s, h, sizeof(h));
    assert_true(n > 0);
    assert_int_equal(attempt(a, NULL, h, (size_t)n, "cn-nul", NULL), 5);
}

static void test_cn_policy_fallback_keeps_connect_username(void **state)
{
    (void)state;
    char a[64], user[64], src[32];
    addr_of("cnfb", a, sizeof(a));
    uint8_t h[256];
    size_t n = ssl_header(h, sizeof(h), 0x01, 0, "alice", false);
    int fd = -1;
    assert_int_equal(attempt(a, NULL, h, n, "cn-fb", &fd), 0);
    user_of("cn-fb", user, sizeof(user), src, sizeof(src));
    assert_string_equal(user, "connect-user");
    assert_string_equal(src, "connect");
    disconnect_and_wait(fd);
}

static void test_EC_S_09_header_from_untrusted_proxy_refused(void **state)
{
    (void)state;
    char inside[64], outside[64];
    via("trusted", "127.0.0.1", inside, sizeof(inside));
    via("trusted", "127.0.0.2", outside, sizeof(outside));
    uint8_t h[64];
    size_t n = v2_tcp4(h);
    assert_int_equal(attempt(inside, "127.0.0.1", h, n, "trusted-in", NULL), 0);
    assert_int_equal(attempt(outside, "127.0.0.2", h, n, "trusted-out", NULL), -1);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "\"reason\":\"untrusted_proxy\"", 5000, body, sizeof(body)), 0);
    assert_non_null(strstr(body, "R-GEN-15"));
    /* logged as a spoofing attempt, naming the real peer and the source it claimed */
    static char log[1 << 20];
    assert_true(ts_read_file(B.log, log, sizeof(log)) > 0);
    bool seen = false;
    for (char *line = strtok(log, "\n"); line && !seen; line = strtok(NULL, "\n"))
        seen = strstr(line, "\"type\":\"security_reject\"") && strstr(line, "\"reason\":\"untrusted_proxy\"") &&
               strstr(line, "spoofing") && strstr(line, "\"real_peer\":\"127.0.0.2:") &&
               strstr(line, "\"src\":\"203.0.113.7:40000\"");
    if (!seen)
        fail_msg("no spoofing log line for 127.0.0.2 claiming 203.0.113.7 in %s", B.log);
}

static void test_allowed_sources_on_carried_address(void **state)
{
    (void)state;
    char a[64];
    addr_of("allowed", a, sizeof(a));
    uint8_t h[64];
    size_t n = v2_tcp4(h); /* 203.0.113.7: inside 203.0.113.0/24 */
    assert_int_equal(attempt(a, NULL, h, n, "allowed-in", NULL), 0);
    h[16] = 198; /* 198.0.113.7: outside */
    assert_int_equal(attempt(a, NULL, h, n, "allowed-out", NULL), -1);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "\"reason\":\"source_not_allowed\"", 5000, body, sizeof(body)), 0);
}

static void test_allowed_sources_on_real_address(void **state)
{
    (void)state;
    char in[64], out[64];
    via("allowedplain", "127.0.0.2", in, sizeof(in));
    via("allowedplain", "127.0.0.1", out, sizeof(out));
    assert_int_equal(attempt(in, "127.0.0.2", NULL, 0, "plain-in", NULL), 0);
    assert_int_equal(attempt(out, "127.0.0.1", NULL, 0, "plain-out", NULL), -1);
}

static void test_R_CRC_06_required_crc32c(void **state)
{
    (void)state;
    char a[64];
    addr_of("crc", a, sizeof(a));
    uint8_t h[64];
    size_t n = v2_tcp4(h);
    assert_int_equal(attempt(a, NULL, h, n, "crc-none", NULL), -1);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "crc32c.missing", 5000, body, sizeof(body)), 0);
    /* requirements.md A.3.1: PROXY TCP4 127.0.0.1:42 -> 127.0.0.1:1337 with a valid CRC */
    static const uint8_t a31[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
                                  0x21, 0x11, 0x00, 0x13, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01,
                                  0x00, 0x2a, 0x05, 0x39, 0x03, 0x00, 0x04, 0xd3, 0xa5, 0x5d, 0x3b};
    assert_int_equal(attempt(a, NULL, a31, sizeof(a31), "crc-ok", NULL), 0);
    uint8_t swapped[sizeof(a31)];
    memcpy(swapped, a31, sizeof(a31));
    swapped[31] = 0x3b, swapped[32] = 0x5d, swapped[33] = 0xa5, swapped[34] = 0xd3; /* EC-C-06 */
    assert_int_equal(attempt(a, NULL, swapped, sizeof(swapped), "crc-swapped", NULL), -1);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "crc32c.mismatch", 5000, body, sizeof(body)), 0);
}

static void test_max_connections(void **state)
{
    (void)state;
    char a[64];
    addr_of("max1", a, sizeof(a));
    int first;
    assert_int_equal(attempt(a, NULL, NULL, 0, "max-first", &first), 0);
    assert_int_equal(attempt(a, NULL, NULL, 0, "max-second", NULL), -1);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "\"reason\":\"max_connections\"", 5000, body, sizeof(body)), 0);
    disconnect_and_wait(first);
    assert_int_equal(attempt(a, NULL, NULL, 0, "max-third", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_SSL_03_verified_cn_becomes_username),
        cmocka_unit_test(test_R_SSL_02_unverified_cn_refused_with_not_authorized),
        cmocka_unit_test(test_EC_T_17_top_level_0x22_is_not_a_cn),
        cmocka_unit_test(test_cn_with_nul_refused),
        cmocka_unit_test(test_cn_policy_fallback_keeps_connect_username),
        cmocka_unit_test(test_EC_S_09_header_from_untrusted_proxy_refused),
        cmocka_unit_test(test_allowed_sources_on_carried_address),
        cmocka_unit_test(test_allowed_sources_on_real_address),
        cmocka_unit_test(test_R_CRC_06_required_crc32c),
        cmocka_unit_test(test_max_connections),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
