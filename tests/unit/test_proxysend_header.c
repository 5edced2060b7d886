/* proxysend header building: profiles reproduce real senders' bytes (captures in
 * shared/research/interop.md §1a and peers.md §1b/§2.8), TLV options land in order, and each
 * named malformation changes exactly what it says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "opts.h"
#include "send.h"

#define ARGV(...) ((char *[]){"proxysend", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"proxysend", __VA_ARGS__}) / sizeof(char *)))

static uint8_t out[PS_HEADER_CAP];

/* Parse argv, build against the given socket addresses, return the length (or -1). */
#define BUILD(sock_src, sock_dst, ...) build(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), sock_src, sock_dst)
static ssize_t build(int argc, char **argv, const char *sock_src, const char *sock_dst)
{
    ps_opts o;
    char err[512];
    assert_int_equal(ps_opts_parse(argc, argv, &o, err, sizeof err), 0);
    pp_endpoint s, d;
    assert_int_equal(pp_endpoint_parse(sock_src, &s), 0);
    assert_int_equal(pp_endpoint_parse(sock_dst, &d), 0);
    ssize_t n = ps_header_build(&o, &s, &d, out, sizeof out, err, sizeof err);
    ps_opts_free(&o);
    return n;
}

static void assert_hex(ssize_t n, const char *hex)
{
    size_t want_len;
    uint8_t *want = ps_parse_hex(hex, &want_len);
    assert_non_null(want);
    assert_int_equal(n, (ssize_t)want_len);
    assert_memory_equal(out, want, want_len);
    free(want);
}

#define SIG "0d0a0d0a000d0a515549540a"

/* interop.md §1a: HAProxy 2.6.12 send-proxy-v2-ssl-cn, client certificate CN=alice. */
static void test_profile_haproxy_v2_ssl_cn_matches_capture(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "haproxy-v2-ssl-cn", "--src", "127.0.0.1:51194",
                      "--dst", "127.0.0.1:18834", "--tlv", "ssl-cn=alice", "--dry-run");
    assert_hex(n, SIG "2111 0026 7f000001 7f000001 c7fa 4992 2000 1707 00000000 2100 0754 4c53 7631 2e33"
                      "2200 0561 6c69 6365");
}

/* interop.md §1a: the same frontend, client without a certificate: client 0x01, verify 0. */
static void test_A_12_profile_haproxy_v2_ssl_cn_without_certificate(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "haproxy-v2-ssl-cn", "--src", "127.0.0.1:51194",
                      "--dst", "127.0.0.1:18834", "--dry-run");
    assert_hex(n, SIG "2111 001e 7f000001 7f000001 c7fa 4992 20 000f 01 00000000 21 0007 544c5376312e33");
}

/* interop.md §1a: untrusted self-signed certificate: verify 0x12. */
static void test_profile_haproxy_v2_ssl_cn_untrusted_verify(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "haproxy-v2-ssl-cn", "--src", "127.0.0.1:51194",
                      "--dst", "127.0.0.1:18834", "--tlv", "ssl-cn=mallory", "--tlv", "ssl-verify=18", "--dry-run");
    assert_hex(n, SIG "2111 0028 7f000001 7f000001 c7fa 4992 20 0019 07 00000012 21 0007 544c5376312e33"
                      "22 0007 6d616c6c6f7279");
}

/* interop.md §1a: send-proxy-v2 (no TLVs), from the socket's own addresses. */
static void test_profile_haproxy_v2_from_socket(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:53670", "127.0.0.1:18833", "--profile", "haproxy-v2", "h:1");
    assert_hex(n, SIG "2111 000c 7f000001 7f000001 d1a6 4991");
}

static void test_profile_haproxy_v2_ipv6(void **state)
{
    (void)state;
    ssize_t n = BUILD("[::1]:55506", "[::1]:18833", "--profile", "haproxy-v2", "h:1");
    assert_hex(n, SIG "2121 0024 00000000000000000000000000000001 00000000000000000000000000000001 d8d2 4991");
}

/* interop.md §1a: send-proxy (v1). */
static void test_profile_haproxy_v1(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:39892", "127.0.0.1:18830", "--profile", "haproxy-v1", "h:1");
    assert_int_equal(n, 44);
    assert_memory_equal(out, "PROXY TCP4 127.0.0.1 127.0.0.1 39892 18830\r\n", 44);
}

/* peers.md §2.8: TLVs in HAProxy's order whatever the command-line order; SSL sub-TLVs
 * VERSION, CN, KEY_ALG, SIG_ALG, CIPHER. */
static void test_profile_haproxy_orders_tlvs(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "haproxy-v2-ssl-cn", "--src", "127.0.0.1:40280",
                      "--dst", "127.0.0.1:18443", "--tlv", "ssl-cipher=C", "--tlv", "ssl-sig-alg=S", "--tlv",
                      "ssl-key-alg=K", "--tlv", "ssl-cn=device-0042", "--tlv", "unique-id=U", "--tlv",
                      "authority=opts", "--tlv", "alpn=mqtt", "--dry-run");
    assert_hex(n, SIG "2111 004a 7f000001 7f000001 9d58 480b"
                      "01 0004 6d717474" /* ALPN */
                      "02 0004 6f707473" /* AUTHORITY */
                      "05 0001 55"       /* UNIQUE_ID */
                      "20 0029 07 00000000 21 0007 544c5376312e33 22 000b 6465766963652d30303432"
                      "25 0001 4b 24 0001 53 23 0001 43");
}

/* peers.md §2.8: health check of a send-proxy-v2-ssl-cn server: LOCAL, UNSPEC, SSL client 0. */
static void test_EC_V2_27_profile_haproxy_healthcheck(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:37340", "127.0.0.1:18838", "--profile", "haproxy-healthcheck", "h:1");
    assert_hex(n, SIG "20 00 0000");
    n = BUILD("127.0.0.1:37340", "127.0.0.1:18838", "--profile", "haproxy-healthcheck", "--tlv", "ssl", "h:1");
    assert_hex(n, SIG "20 00 0008 20 0005 00 00000000");
    /* send-proxy check (v1): a real line with the check's own addresses (R-V1-11) */
    n = BUILD("127.0.0.1:37340", "127.0.0.1:18838", "--profile", "haproxy-healthcheck", "-1", "h:1");
    assert_int_equal(n, 44);
    assert_memory_equal(out, "PROXY TCP4 127.0.0.1 127.0.0.1 37340 18838\r\n", 44);
}

/* peers.md §1b: the real AWS NLB header from ranch's parse_v2_regression_test. */
static void test_profile_aws_nlb_matches_capture(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "aws-nlb", "--src", "172.31.7.113:51442", "--dst",
                      "172.31.10.31:80", "--dry-run");
    assert_hex(n, SIG "2111 0054 ac1f0771 ac1f0a1f c8f2 0050 03 0004 e8d6892d"
                      "ea 0017 01 767063652d3038643262663135666163353030316339"
                      "04 0024 000000000000000000000000000000000000000000000000000000000000000000000000");
}

static void test_profile_aws_nlb_healthcheck_local_with_inet_block(void **state)
{
    (void)state;
    ssize_t n = BUILD("10.0.0.5:43210", "10.0.1.9:1883", "--profile", "aws-nlb-healthcheck", "h:1");
    assert_hex(n, SIG "2011 000c 0a000005 0a000109 a8ca 075b");
}

/* interop.md §2: nginx relaying an IPv6 client onto an IPv4 listener writes TCP6 + IPv4. */
static void test_profile_nginx_v1_mixed_family_bug(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--profile", "nginx-v1", "--src", "[2001:db8::7]:40006",
                      "--dst", "127.0.0.1:18843", "--dry-run");
    const char *want = "PROXY TCP6 2001:db8::7 127.0.0.1 40006 18843\r\n";
    assert_int_equal(n, (ssize_t)strlen(want));
    assert_memory_equal(out, want, strlen(want));
    n = BUILD("127.0.0.1:59214", "127.0.0.1:18842", "--profile", "nginx-v1", "h:1");
    assert_memory_equal(out, "PROXY TCP4 127.0.0.1 127.0.0.1 59214 18842\r\n", (size_t)n);
}

static void test_tlv_order_kept_without_profile(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--src", "192.0.2.1:1", "--dst", "192.0.2.2:2", "--tlv", "noop=2",
                      "--tlv", "0xE1=ab", "--tlv", "azure-linkid=1", "--tlv", "gcp-psc=2", "--tlv", "netns=n",
                      "--dry-run");
    assert_hex(n, SIG "2111 002c c0000201 c0000202 0001 0002 04 0002 0000 e1 0001 ab ee 0005 01 01000000"
                      "e0 0008 0000000000000002 30 0001 6e");
}

static void test_R_V2_14_local_defaults_to_unspec(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--command", "local", "h:1");
    assert_hex(n, SIG "2000 0000");
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--command", "local", "--family", "tcp4", "h:1");
    assert_hex(n, SIG "2011 000c 7f000001 7f000001 0001 0002");
}

static void test_family_overrides(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--family", "udp4", "h:1");
    assert_hex(n, SIG "2112 000c 7f000001 7f000001 0001 0002");
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--family", "unspec", "h:1");
    assert_hex(n, SIG "2100 0000");
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--family", "tcp6", "h:1");
    assert_hex(n, SIG "2121 0024 00000000000000000000ffff7f000001 00000000000000000000ffff7f000001 0001 0002");
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "-1", "--family", "udp4", "h:1");
    assert_memory_equal(out, "PROXY UNKNOWN\r\n", 15);
    assert_int_equal(n, 15);
}

static void test_v2_malformations(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "bad-signature", "h:1");
    assert_int_equal(n, 28);
    assert_int_equal(out[11], 0x0b);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "version=1", "h:1");
    assert_int_equal(out[12], 0x11);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "command=2", "h:1");
    assert_int_equal(out[12], 0x22);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "family-byte=0x41", "h:1");
    assert_int_equal(out[13], 0x41);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "len-delta=1", "h:1");
    assert_int_equal(out[15], 13);
    assert_int_equal(n, 28);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--mutate", "len=4", "h:1");
    assert_int_equal(out[15], 4);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--tlv", "alpn=mqtt", "--mutate", "tlv-len=alpn:200", "h:1");
    assert_int_equal(out[30], 200);
    assert_int_equal(n, 35);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--tlv", "alpn=mqtt", "--mutate", "tlv-len=0x30:1", "h:1");
    assert_int_equal(n, -1); /* no such TLV: refused, not silently ignored */
}

static void test_R_CRC_05_crc_variants(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--tlv", "crc32c", "h:1");
    assert_int_equal(n, 35);
    uint8_t good[4];
    memcpy(good, out + 31, 4);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--tlv", "crc32c", "--mutate", "crc-corrupt", "h:1");
    assert_memory_not_equal(out + 31, good, 4);
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--tlv", "crc32c", "--mutate", "crc-little-endian", "h:1");
    uint8_t swapped[4] = {good[3], good[2], good[1], good[0]};
    assert_memory_equal(out + 31, swapped, 4);
}

static void test_v1_malformations(void **state)
{
    (void)state;
    const char *src = "10.0.0.1:40000", *dst = "10.0.0.2:1883";
    ssize_t n = BUILD(src, dst, "-1", "--mutate", "v1-leading-zeros", "h:1");
    const char *w = "PROXY TCP4 010.000.000.001 010.000.000.002 40000 01883\r\n";
    assert_int_equal(n, (ssize_t)strlen(w));
    assert_memory_equal(out, w, strlen(w));
    n = BUILD(src, dst, "-1", "--mutate", "v1-double-space", "h:1");
    w = "PROXY  TCP4 10.0.0.1 10.0.0.2 40000 1883\r\n";
    assert_memory_equal(out, w, strlen(w));
    n = BUILD(src, dst, "-1", "--mutate", "v1-lf-only", "h:1");
    w = "PROXY TCP4 10.0.0.1 10.0.0.2 40000 1883\n";
    assert_int_equal(n, (ssize_t)strlen(w));
    assert_memory_equal(out, w, strlen(w));
    n = BUILD(src, dst, "-1", "--mutate", "v1-lowercase", "h:1");
    assert_memory_equal(out, "proxy TCP4", 10);
    n = BUILD(src, dst, "-1", "--mutate", "v1-overlong", "h:1");
    assert_int_equal(n, 108);
    assert_memory_equal(out + 106, "\r\n", 2);
    n = BUILD(src, dst, "-1", "--mutate", "v1-unknown-tail= a b", "h:1");
    assert_memory_equal(out, "PROXY UNKNOWN a b\r\n", (size_t)n);
    n = BUILD(src, dst, "-1", "--mutate", "v1-text=PROXY TCP5 x\\r\\n", "h:1");
    assert_memory_equal(out, "PROXY TCP5 x\r\n", (size_t)n);
}

static void test_raw_and_no_header(void **state)
{
    (void)state;
    ssize_t n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--raw-header", "0d0a 0d0a", "h:1");
    assert_hex(n, "0d0a0d0a");
    n = BUILD("127.0.0.1:1", "127.0.0.1:2", "--no-header", "h:1");
    assert_int_equal(n, 0);
}

static size_t plan(const char *const *args, int argc, size_t hlen, size_t copies, size_t total, size_t *ends)
{
    ps_opts o;
    char err[256];
    char *argv[16] = {"proxysend"};
    for (int i = 0; i < argc; i++)
        argv[i + 1] = (char *)args[i];
    argv[argc + 1] = "h:1";
    assert_int_equal(ps_opts_parse(argc + 2, argv, &o, err, sizeof err), 0);
    size_t n = ps_plan_pieces(&o, hlen, copies, total, ends, 200);
    ps_opts_free(&o);
    return n;
}

static void test_R_GEN_09_delivery_pieces(void **state)
{
    (void)state;
    size_t ends[200];
    /* default: the header in one write, the payload in the next */
    assert_int_equal(plan(NULL, 0, 28, 1, 42, ends), 2);
    assert_int_equal(ends[0], 28);
    assert_int_equal(ends[1], 42);
    assert_int_equal(plan((const char *[]){"--coalesce"}, 1, 28, 1, 42, ends), 1);
    assert_int_equal(plan((const char *[]){"--header-twice"}, 1, 28, 2, 70, ends), 3);
    assert_int_equal(ends[1], 56);
    assert_int_equal(plan((const char *[]){"--split", "1,12,99"}, 2, 28, 1, 42, ends), 3);
    assert_int_equal(ends[0], 1);
    assert_int_equal(ends[1], 12);
    assert_int_equal(ends[2], 42);
    assert_int_equal(plan((const char *[]){"--byte-at-a-time"}, 1, 16, 1, 30, ends), 17);
    assert_int_equal(ends[15], 16);
    assert_int_equal(ends[16], 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_haproxy_v2_ssl_cn_matches_capture),
        cmocka_unit_test(test_A_12_profile_haproxy_v2_ssl_cn_without_certificate),
        cmocka_unit_test(test_profile_haproxy_v2_ssl_cn_untrusted_verify),
        cmocka_unit_test(test_profile_haproxy_v2_from_socket),
        cmocka_unit_test(test_profile_haproxy_v2_ipv6),
        cmocka_unit_test(test_profile_haproxy_v1),
        cmocka_unit_test(test_profile_haproxy_orders_tlvs),
        cmocka_unit_test(test_EC_V2_27_profile_haproxy_healthcheck),
        cmocka_unit_test(test_profile_aws_nlb_matches_capture),
        cmocka_unit_test(test_profile_aws_nlb_healthcheck_local_with_inet_block),
        cmocka_unit_test(test_profile_nginx_v1_mixed_family_bug),
        cmocka_unit_test(test_tlv_order_kept_without_profile),
        cmocka_unit_test(test_R_V2_14_local_defaults_to_unspec),
        cmocka_unit_test(test_family_overrides),
        cmocka_unit_test(test_v2_malformations),
        cmocka_unit_test(test_R_CRC_05_crc_variants),
        cmocka_unit_test(test_v1_malformations),
        cmocka_unit_test(test_raw_and_no_header),
        cmocka_unit_test(test_R_GEN_09_delivery_pieces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
