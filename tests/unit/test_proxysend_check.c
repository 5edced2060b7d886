/* proxysend --listen's judge on byte vectors: each sender defect gives its finding and
 * requirement ID, and a clean header (HAProxy's real bytes) gives none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "header.h"
#include "opts.h"

static ps_check_result res;

static void judge_bytes(const uint8_t *buf, size_t len, size_t first_read, enum ps_read_end end)
{
    ps_check_input in = {.buf = buf, .len = len, .first_read = first_read, .reads = first_read < len ? 2 : 1,
                         .end = end};
    ps_check(&in, &res);
}

/* Build with proxysend's own options (socket 127.0.0.1:40000 -> 127.0.0.1:1883), then judge
 * as if it arrived in one read. */
#define JUDGE(...) judge_args(sizeof((char *[]){"proxysend", __VA_ARGS__}) / sizeof(char *), \
                              (char *[]){"proxysend", __VA_ARGS__, NULL})
static uint8_t hdr[PS_HEADER_CAP];
static size_t hdr_len;
static void judge_args(size_t argc, char **argv)
{
    ps_opts o;
    char err[256];
    assert_int_equal(ps_opts_parse((int)argc, argv, &o, err, sizeof err), 0);
    pp_endpoint s, d;
    pp_endpoint_parse("127.0.0.1:40000", &s);
    pp_endpoint_parse("127.0.0.1:1883", &d);
    ssize_t n = ps_header_build(&o, &s, &d, hdr, sizeof hdr, err, sizeof err);
    ps_opts_free(&o);
    assert_true(n > 0);
    hdr_len = (size_t)n;
    judge_bytes(hdr, hdr_len, hdr_len, PS_END_COMPLETE);
}

static void assert_finding(const char *name, const char *id, enum ps_severity sev)
{
    const ps_finding *f = ps_check_find(&res, name);
    if (!f)
        fail_msg("finding %s missing (%zu findings)", name, res.nfindings);
    assert_string_equal(f->id, id);
    assert_int_equal(f->severity, sev);
}

/* interop.md §1a: HAProxy send-proxy-v2, one segment: nothing to report. */
static void test_haproxy_v2_capture_is_clean(void **state)
{
    (void)state;
    static const uint8_t cap[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
                                  0x00, 0x0c, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xd1, 0xa6, 0x49, 0x91};
    judge_bytes(cap, sizeof cap, sizeof cap, PS_END_COMPLETE);
    assert_int_equal(res.rc, 28);
    assert_int_equal(res.nfindings, 0);
}

static void test_R_GEN_09_header_not_in_first_read(void **state)
{
    (void)state;
    JUDGE("h:1");
    judge_bytes(hdr, hdr_len, 10, PS_END_COMPLETE);
    assert_finding("sender.split_header", "R-GEN-09", PS_SEV_FAIL);
    assert_int_equal(res.fails, 1);
}

static void test_R_V1_09_unknown(void **state)
{
    (void)state;
    JUDGE("-1", "--family", "unix", "h:1");
    assert_true(res.rc > 0);
    assert_finding("sender.v1_unknown", "R-V1-09", PS_SEV_WARN);
}

static void test_R_V2_14_proxy_unspec_and_local_with_address(void **state)
{
    (void)state;
    JUDGE("--family", "unspec", "h:1");
    assert_finding("sender.proxy_unspec", "R-V2-14", PS_SEV_WARN);
    JUDGE("--profile", "aws-nlb-healthcheck", "h:1");
    assert_finding("sender.local_with_address", "R-V2-14", PS_SEV_WARN);
    JUDGE("--profile", "haproxy-healthcheck", "h:1");
    assert_null(ps_check_find(&res, "sender.local_with_address"));
}

static void test_A_12_verify_zero_without_certificate(void **state)
{
    (void)state;
    JUDGE("--profile", "haproxy-v2-ssl-cn", "h:1");
    assert_finding("sender.verify_zero_without_cert", "A-12", PS_SEV_WARN);
    JUDGE("--profile", "haproxy-v2-ssl-cn", "--tlv", "ssl-cn=alice", "h:1");
    assert_null(ps_check_find(&res, "sender.verify_zero_without_cert"));
    assert_null(ps_check_find(&res, "sender.cn_unverified"));
    JUDGE("--tlv", "ssl-client=ssl", "--tlv", "ssl-cn=mallory", "h:1");
    assert_finding("sender.cn_unverified", "A-12", PS_SEV_WARN);
}

static void test_R_V1_17_nginx_relay_shape(void **state)
{
    (void)state;
    static const char line[] = "PROXY TCP6 2001:db8::7 127.0.0.1 40006 18843\r\n";
    judge_bytes((const uint8_t *)line, strlen(line), strlen(line), PS_END_INVALID);
    assert_true(res.rc < 0);
    assert_finding("sender.tcp6_with_ipv4", "R-V1-17", PS_SEV_FAIL);
}

static void test_R_CRC_05_wrong_crc(void **state)
{
    (void)state;
    JUDGE("--tlv", "crc32c", "--mutate", "crc-corrupt", "h:1");
    assert_int_equal(res.rc, PP_ERR_CRC_MISMATCH);
    assert_finding("crc32c.mismatch", "R-CRC-05", PS_SEV_FAIL);
    JUDGE("--tlv", "crc32c", "h:1");
    assert_int_equal(res.nfindings, 0);
}

static void test_R_UID_01_unique_id_over_128(void **state)
{
    (void)state;
    char uid[300] = "unique-id=hex:";
    for (int i = 0; i < 129; i++)
        strcat(uid, "41");
    JUDGE("--tlv", uid, "h:1");
    assert_int_equal(res.rc, PP_ERR_TLV_UNIQUE_ID_TOO_LONG);
    assert_finding("sender.unique_id_too_long", "R-UID-01", PS_SEV_FAIL);
}

static void test_A_18_dgram_and_R_GEN_18_large_header(void **state)
{
    (void)state;
    JUDGE("--family", "udp4", "h:1");
    assert_finding("sender.dgram_on_stream", "A-18", PS_SEV_WARN);
    JUDGE("--tlv", "noop=600", "h:1");
    assert_finding("sender.header_over_536", "R-GEN-18", PS_SEV_INFO);
    assert_int_equal(res.fails, 0);
}

static void test_R_GEN_01_nothing_or_partial(void **state)
{
    (void)state;
    judge_bytes(NULL, 0, 0, PS_END_TIMEOUT);
    assert_finding("sender.no_header", "R-GEN-01", PS_SEV_FAIL);
    judge_bytes((const uint8_t *)"PROXY TCP4 1.2", 14, 14, PS_END_EOF);
    assert_int_equal(res.rc, PP_ERR_TRUNCATED);
    assert_non_null(ps_check_find(&res, "header.truncated"));
    judge_bytes((const uint8_t *)"PROXY TCP4 1.2", 14, 14, PS_END_TIMEOUT);
    assert_non_null(ps_check_find(&res, "header.timeout"));
    judge_bytes((const uint8_t *)"\x10\x0c\x00\x04MQTT", 8, 8, PS_END_INVALID);
    assert_int_equal(res.rc, PP_ERR_NOT_PROXY);
    assert_non_null(ps_check_find(&res, "detect.not_proxy"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_haproxy_v2_capture_is_clean),
        cmocka_unit_test(test_R_GEN_09_header_not_in_first_read),
        cmocka_unit_test(test_R_V1_09_unknown),
        cmocka_unit_test(test_R_V2_14_proxy_unspec_and_local_with_address),
        cmocka_unit_test(test_A_12_verify_zero_without_certificate),
        cmocka_unit_test(test_R_V1_17_nginx_relay_shape),
        cmocka_unit_test(test_R_CRC_05_wrong_crc),
        cmocka_unit_test(test_R_UID_01_unique_id_over_128),
        cmocka_unit_test(test_A_18_dgram_and_R_GEN_18_large_header),
        cmocka_unit_test(test_R_GEN_01_nothing_or_partial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
