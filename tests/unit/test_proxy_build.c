/* lib/proxy builder: every form and every malformation produces exactly the expected bytes,
 * HAProxy 2.6.12's sender output is reproduced byte for byte (captures in
 * shared/research/interop.md §1a and peers.md §2.8), and a short cap never overflows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/proxy.h"

#define SIG_HEX "0d0a0d0a000d0a515549540a"

/* ---- helpers --------------------------------------------------------------------------- */

/* Hex text (spaces ignored) to bytes; returns the byte count. */
static size_t hex_bytes(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            v = *p - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            assert_true(n < cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1); /* odd digit count is a typo in the test */
    return n;
}

static void print_hex(const char *label, const uint8_t *b, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", label, n);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", b[i]);
    fprintf(stderr, "\n");
}

/* Builds spec and asserts the result equals expected_hex byte for byte. */
static void assert_builds(const pp_build_spec *spec, const char *expected_hex)
{
    static uint8_t expected[70000], got[70000];
    size_t n = hex_bytes(expected_hex, expected, sizeof expected);
    ssize_t r = pp_build(spec, got, sizeof got);
    if (r != (ssize_t)n || memcmp(got, expected, n) != 0) {
        print_hex("expected", expected, n);
        if (r > 0)
            print_hex("actual", got, (size_t)r);
        fail_msg("built %zd bytes, expected %zu", r, n);
    }
}

static void assert_builds_text(const pp_build_spec *spec, const char *expected)
{
    char got[256];
    ssize_t r = pp_build(spec, (uint8_t *)got, sizeof got - 1);
    assert_true(r > 0);
    got[r] = '\0';
    assert_string_equal(got, expected);
}

static pp_endpoint ep(const char *text)
{
    pp_endpoint e;
    assert_int_equal(pp_endpoint_parse(text, &e), 0);
    return e;
}

static pp_build_spec spec_v2(uint8_t command, uint8_t family, uint8_t transport)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.command = command;
    s.family = family;
    s.transport = transport;
    return s;
}

static pp_build_tlv tlv_str(uint8_t type, const char *s)
{
    return PP_BUILD_TLV(type, (const uint8_t *)s, strlen(s));
}

static pp_build_tlv tlv_crc(void)
{
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
    t.crc_auto = true;
    return t;
}

/* ---- defaults -------------------------------------------------------------------------- */

static void test_R_V2_02_R_V2_05_spec_init_sends_version_2_proxy_no_overrides(void **state)
{
    (void)state;
    pp_build_spec s;
    memset(&s, 0x5a, sizeof s);
    pp_build_spec_init(&s);
    assert_int_equal(s.version, 2);
    assert_int_equal(s.command, PP_CMD_PROXY);
    assert_int_equal(s.family, PP_FAM_INET);
    assert_int_equal(s.transport, PP_TRANS_STREAM);
    assert_int_equal(s.ver_cmd_override, -1);
    assert_int_equal(s.fam_override, -1);
    assert_int_equal(s.len_override, -1);
    assert_int_equal(s.len_delta, 0);
    assert_null(s.sig_override);
    assert_null(s.tlvs);
    assert_null(s.ssl);
    assert_null(s.v1_text);
    assert_null(s.v1_unknown_tail);
    assert_false(s.crc_corrupt);
    assert_false(s.crc_little_endian);
    assert_false(s.unix_raw);
    /* R-V2-02: the version nibble is 2; EC-V2-01 layout with zero addresses */
    assert_builds(&s, SIG_HEX "21 11 000c 00000000 00000000 0000 0000");
    /* R-V2-05: without an override, LOCAL and PROXY give 0x20 and 0x21 (the command is masked
     * to its nibble, so no command value can change the version nibble) */
    s.command = PP_CMD_LOCAL;
    assert_builds(&s, SIG_HEX "20 11 000c 00000000 00000000 0000 0000");
}

/* ---- v1 -------------------------------------------------------------------------------- */

static void test_EC_V1_36_tcp4_line_edge_ports(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    s.src = ep("192.0.2.1:0");
    s.dst = ep("198.51.100.2:65535");
    assert_builds_text(&s, "PROXY TCP4 192.0.2.1 198.51.100.2 0 65535\r\n");
    s.src = ep("255.255.255.255:65535");
    s.dst = ep("255.255.255.255:65535");
    assert_builds_text(&s, "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"); /* A.1, 56 bytes */
    s.src = ep("0.0.0.0:1");
    s.dst = ep("10.0.0.1:443");
    assert_builds_text(&s, "PROXY TCP4 0.0.0.0 10.0.0.1 1 443\r\n"); /* R-V1-14: no leading zeros */
}

static void test_EC_V1_36_tcp6_line_is_inet_ntop_compressed(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    s.family = PP_FAM_INET6;
    s.src = ep("[2001:DB8:0:0:0:0:0:1]:56324");
    s.dst = ep("[2001:db8:0:0:1:0:0:2]:443");
    assert_builds_text(&s, "PROXY TCP6 2001:db8::1 2001:db8::1:0:0:2 56324 443\r\n");
    s.src = ep("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
    s.dst = s.src;
    assert_builds_text(&s, "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                           "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"); /* A.1, 104 bytes */
    s.src = ep("[::]:0");
    s.dst = ep("[::1]:1");
    assert_builds_text(&s, "PROXY TCP6 :: ::1 0 1\r\n");
}

static void test_R_V1_05_unknown_short_form(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    s.family = PP_FAM_UNIX;
    /* HAProxy send-proxy from a unix-socket client: 5052 4f58 5920 554e 4b4e 4f57 4e0d 0a */
    assert_builds(&s, "5052 4f58 5920 554e 4b4e 4f57 4e0d 0a");
    s.family = PP_FAM_UNSPEC;
    assert_builds_text(&s, "PROXY UNKNOWN\r\n");
}

static void test_R_V1_07_unknown_with_tail(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    s.family = PP_FAM_UNSPEC;
    s.v1_unknown_tail = " ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535";
    uint8_t buf[200];
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, PP_V1_MAX_LEN); /* EC-V1-05: the 107-byte worst case */
    assert_memory_equal(buf, "PROXY UNKNOWN ffff:", 19);
    assert_memory_equal(buf + n - 2, "\r\n", 2);
    s.v1_unknown_tail = "xyz"; /* EC-V1-33: no space, as written */
    assert_builds_text(&s, "PROXY UNKNOWNxyz\r\n");
}

static void test_v1_text_written_verbatim(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    s.v1_text = "PROXY TCP4 192.168.000.001 1.2.3.4 080 443\n"; /* EC-V1-18, EC-V1-23, EC-V1-10 */
    assert_builds_text(&s, "PROXY TCP4 192.168.000.001 1.2.3.4 080 443\n");
    s.v1_text = "PROXY TCP4 1.2.3.4"; /* no CRLF added */
    assert_builds_text(&s, "PROXY TCP4 1.2.3.4");
}

static void test_build_v1_convenience(void **state)
{
    (void)state;
    uint8_t buf[128];
    pp_endpoint a = ep("127.0.0.1:39892"), b = ep("127.0.0.1:18830");
    ssize_t n = pp_build_v1(&a, &b, buf, sizeof buf);
    /* HAProxy send-proxy capture (interop.md §1a) */
    static const char cap[] = "PROXY TCP4 127.0.0.1 127.0.0.1 39892 18830\r\n";
    assert_int_equal(n, strlen(cap));
    assert_memory_equal(buf, cap, strlen(cap));

    pp_endpoint c = ep("[::1]:51294"), d = ep("[::1]:18830");
    n = pp_build_v1(&c, &d, buf, sizeof buf);
    static const char cap6[] = "PROXY TCP6 ::1 ::1 51294 18830\r\n";
    assert_int_equal(n, strlen(cap6));
    assert_memory_equal(buf, cap6, strlen(cap6));

    /* a mixed pair becomes TCP6 with the IPv4 side mapped, as HAProxy does */
    pp_endpoint e = ep("192.0.2.1:1000");
    n = pp_build_v1(&e, &d, buf, sizeof buf);
    static const char mixed[] = "PROXY TCP6 ::ffff:192.0.2.1 ::1 1000 18830\r\n";
    assert_int_equal(n, strlen(mixed));
    assert_memory_equal(buf, mixed, strlen(mixed));

    pp_endpoint u = ep("unix:/run/mqtt.sock");
    n = pp_build_v1(&u, &b, buf, sizeof buf);
    assert_int_equal(n, 15);
    assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
}

/* ---- v2 valid forms -------------------------------------------------------------------- */

static void test_haproxy_send_proxy_v2_tcp4(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:53670");
    s.dst = ep("127.0.0.1:18833");
    assert_builds(&s, "0d0a 0d0a 000d 0a51 5549 540a 2111 000c 7f00 0001 7f00 0001 d1a6 4991");
}

static void test_haproxy_send_proxy_v2_tcp6(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET6, PP_TRANS_STREAM);
    s.src = ep("[::1]:55506");
    s.dst = ep("[::1]:18833");
    assert_builds(&s, SIG_HEX "21 21 0024"
                              "00000000000000000000000000000001 00000000000000000000000000000001 d8d2 4991");
}

static void test_EC_V2_27_R_V2_14_R_V2_27_local_unspec_health_check(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.src = ep("10.0.0.1:1"); /* ignored: UNSPEC has no address block */
    assert_builds(&s, "0d0a0d0a000d0a515549540a 20 00 0000");
}

static void test_haproxy_health_check_local_with_ssl_tlv(void **state)
{
    (void)state;
    /* peers.md §2.8: send-proxy-v2-ssl-cn + check: LOCAL, UNSPEC, len 8, SSL client=0 verify=0 */
    pp_build_ssl ssl = {.client = 0, .verify = 0};
    pp_build_tlv tlvs[] = {PP_BUILD_TLV(PP_TLV_SSL, NULL, 0)};
    pp_build_spec s = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.tlvs = tlvs;
    s.ntlvs = 1;
    s.ssl = &ssl;
    assert_builds(&s, "0d0a0d0a000d0a515549540a 20 00 0008 | 20 0005 00 00000000");
}

static void test_haproxy_send_proxy_v2_ssl_cn_alice(void **state)
{
    (void)state;
    pp_build_tlv subs[] = {tlv_str(PP_SSL_VERSION, "TLSv1.3"), tlv_str(PP_SSL_CN, "alice")};
    pp_build_ssl ssl = {.client = PP_CLIENT_SSL | PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS,
                        .verify = 0, .subs = subs, .nsubs = 2};
    pp_build_tlv tlvs[] = {PP_BUILD_TLV(PP_TLV_SSL, NULL, 0)};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:51194");
    s.dst = ep("127.0.0.1:18834");
    s.tlvs = tlvs;
    s.ntlvs = 1;
    s.ssl = &ssl;
    assert_builds(&s, "0d0a 0d0a 000d 0a51 5549 540a 2111 0026"
                      "7f00 0001 7f00 0001 c7fa 4992 2000 1707"
                      "0000 0000 2100 0754 4c53 7631 2e33 2200"
                      "0561 6c69 6365");

    /* no client certificate: client 0x01, verify still 0, no CN */
    ssl.client = PP_CLIENT_SSL;
    ssl.nsubs = 1;
    assert_builds(&s, SIG_HEX "2111 001e 7f000001 7f000001 c7fa 4992"
                              "20 000f 01 00000000 21 0007 544c5376312e33");

    /* untrusted self-signed certificate: verify 0x12 big-endian */
    pp_build_tlv subs2[] = {tlv_str(PP_SSL_VERSION, "TLSv1.3"), tlv_str(PP_SSL_CN, "mallory")};
    ssl.client = 0x07;
    ssl.verify = 0x12;
    ssl.subs = subs2;
    ssl.nsubs = 2;
    assert_builds(&s, SIG_HEX "2111 0028 7f000001 7f000001 c7fa 4992"
                              "20 0019 07 00000012 21 0007 544c5376312e33 22 0007 6d616c6c6f7279");
}

static void test_haproxy_ssl_cn_with_alpn_device_0042(void **state)
{
    (void)state;
    /* peers.md §2.8: ALPN sent automatically before SSL, CN "device-0042" */
    pp_build_tlv subs[] = {tlv_str(PP_SSL_VERSION, "TLSv1.3"), tlv_str(PP_SSL_CN, "device-0042")};
    pp_build_ssl ssl = {.client = 0x07, .verify = 0, .subs = subs, .nsubs = 2};
    pp_build_tlv tlvs[] = {tlv_str(PP_TLV_ALPN, "mqtt"), PP_BUILD_TLV(PP_TLV_SSL, NULL, 0)};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:40268");
    s.dst = ep("127.0.0.1:18443");
    s.tlvs = tlvs;
    s.ntlvs = 2;
    s.ssl = &ssl;
    assert_builds(&s, "0d0a0d0a000d0a515549540a 21 11 0033 7f000001 7f000001 9d4c 480b"
                      "01 0004 6d717474"
                      "20 001d 07 00000000"
                      "21 0007 544c5376312e33  22 000b 6465766963652d30303432");
}

/* HAProxy 2.6.12 proxy-v2-options ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,
 * unique-id: the 182-byte capture whose CRC32C is 34 96 41 7d (interop.md §1a). */
static void test_R_CRC_02_04_haproxy_all_options_182_bytes(void **state)
{
    (void)state;
    pp_build_tlv subs[] = {
        tlv_str(PP_SSL_VERSION, "TLSv1.3"),      tlv_str(PP_SSL_CN, "alice"),
        tlv_str(PP_SSL_KEY_ALG, "RSA2048"),      tlv_str(PP_SSL_SIG_ALG, "RSA-SHA256"),
        tlv_str(PP_SSL_CIPHER, "TLS_AES_256_GCM_SHA384"),
    };
    pp_build_ssl ssl = {.client = 0x07, .verify = 0, .subs = subs, .nsubs = 5};
    pp_build_tlv tlvs[] = {
        tlv_crc(),
        tlv_str(PP_TLV_ALPN, "mqtt"),
        tlv_str(PP_TLV_AUTHORITY, "broker.example"),
        tlv_str(PP_TLV_UNIQUE_ID, "7F000001:DFEA_7F000001:4993_6B09CF9F_0006:17AD"),
        PP_BUILD_TLV(PP_TLV_SSL, NULL, 0),
    };
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:57322");
    s.dst = ep("127.0.0.1:18835");
    s.tlvs = tlvs;
    s.ntlvs = 5;
    s.ssl = &ssl;
    assert_builds(&s, "0d0a 0d0a 000d 0a51 5549 540a 2111 00a6"
                      "7f00 0001 7f00 0001 dfea 4993 0300 0434"
                      "9641 7d01 0004 6d71 7474 0200 0e62 726f"
                      "6b65 722e 6578 616d 706c 6505 002e 3746"
                      "3030 3030 3031 3a44 4645 415f 3746 3030"
                      "3030 3031 3a34 3939 335f 3642 3039 4346"
                      "3946 5f30 3030 363a 3137 4144 2000 4707"
                      "0000 0000 2100 0754 4c53 7631 2e33 2200"
                      "0561 6c69 6365 2500 0752 5341 3230 3438"
                      "2400 0a52 5341 2d53 4841 3235 3623 0016"
                      "544c 535f 4145 535f 3235 365f 4743 4d5f"
                      "5348 4133 3834");
}

/* peers.md §2.8 second all-options run (SNI "opts", CN device-0042): the CRC c3d08ccb the
 * researcher recomputed must come out of the same spec shape. */
static void test_R_CRC_03_haproxy_all_options_device_0042(void **state)
{
    (void)state;
    pp_build_tlv subs[] = {
        tlv_str(PP_SSL_VERSION, "TLSv1.3"),      tlv_str(PP_SSL_CN, "device-0042"),
        tlv_str(PP_SSL_KEY_ALG, "RSA2048"),      tlv_str(PP_SSL_SIG_ALG, "RSA-SHA256"),
        tlv_str(PP_SSL_CIPHER, "TLS_AES_256_GCM_SHA384"),
    };
    pp_build_ssl ssl = {.client = 0x07, .verify = 0, .subs = subs, .nsubs = 5};
    pp_build_tlv tlvs[] = {
        tlv_crc(),
        tlv_str(PP_TLV_ALPN, "mqtt"),
        tlv_str(PP_TLV_AUTHORITY, "opts"),
        tlv_str(PP_TLV_UNIQUE_ID, "7F000001:9D58_7F000001:480B_6B09D0FA_0001"),
        PP_BUILD_TLV(PP_TLV_SSL, NULL, 0),
    };
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:40280");
    s.dst = ep("127.0.0.1:18443");
    s.tlvs = tlvs;
    s.ntlvs = 5;
    s.ssl = &ssl;
    uint8_t buf[256];
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 16 + 0x9d);
    static const uint8_t crc[] = {0x03, 0x00, 0x04, 0xc3, 0xd0, 0x8c, 0xcb};
    assert_memory_equal(buf + 28, crc, sizeof crc);
}

static void test_EC_C_11_crc_vectors_appendix_a3(void **state)
{
    (void)state;
    pp_build_tlv crc_only[] = {tlv_crc()};
    /* A.3.1: PROXY TCP4 127.0.0.1:42 -> 127.0.0.1:1337, CRC last */
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:42");
    s.dst = ep("127.0.0.1:1337");
    s.tlvs = crc_only;
    s.ntlvs = 1;
    assert_builds(&s, SIG_HEX "21 11 00 13 7f 00 00 01 7f 00 00 01 00 2a 05 39 03 00 04 d3 a5 5d 3b");

    /* A.3.2: LOCAL/UNSPEC with only a CRC (no other TLV) */
    pp_build_spec l = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    l.tlvs = crc_only;
    l.ntlvs = 1;
    assert_builds(&l, SIG_HEX "20 00 00 07 03 00 04 a9 b8 7e 8f");

    /* A.3.3: CRC in the middle: NOOP(0), CRC, ALPN "mqtt" on TCP6 ::1 */
    pp_build_tlv mid[] = {PP_BUILD_TLV(PP_TLV_NOOP, NULL, 0), tlv_crc(), tlv_str(PP_TLV_ALPN, "mqtt")};
    pp_build_spec m = spec_v2(PP_CMD_PROXY, PP_FAM_INET6, PP_TRANS_STREAM);
    m.src = ep("[::1]:1");
    m.dst = ep("[::1]:2");
    m.tlvs = mid;
    m.ntlvs = 3;
    assert_builds(&m, SIG_HEX "21 21 00 35 00000000000000000000000000000001 00000000000000000000000000000001"
                              "00 01 00 02 04 00 00 03 00 04 11 a2 9f 90 01 00 04 6d 71 74 74");
}

static void test_EC_C_08_two_crc_tlvs_each_computed_with_both_zeroed(void **state)
{
    (void)state;
    pp_build_tlv two[] = {tlv_crc(), tlv_str(PP_TLV_ALPN, "mqtt"), tlv_crc()};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.tlvs = two;
    s.ntlvs = 3;
    uint8_t buf[64], zeroed[64];
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 28 + 7 + 7 + 7);
    memcpy(zeroed, buf, (size_t)n);
    memset(zeroed + 31, 0, 4);
    memset(zeroed + 45, 0, 4);
    uint32_t crc = pp_crc32c(zeroed, (size_t)n);
    uint8_t be[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8), (uint8_t)crc};
    assert_memory_equal(buf + 31, be, 4);
    assert_memory_equal(buf + 45, be, 4);
}

static void test_R_V2_18_unix_paths_nul_padded_to_108(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_UNIX, PP_TRANS_STREAM);
    s.src = ep("unix:/run/a.sock");
    s.dst = ep("unix:/run/b.sock");
    uint8_t buf[300];
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 232); /* EC-V2-04: 16 + 216 */
    assert_int_equal(buf[12], 0x21);
    assert_int_equal(buf[13], 0x31);
    assert_int_equal(buf[14], 0x00);
    assert_int_equal(buf[15], 0xd8);
    assert_memory_equal(buf + 16, "/run/a.sock", 11);
    assert_memory_equal(buf + 124, "/run/b.sock", 11);
    for (size_t i = 16 + 11; i < 124; i++)
        assert_int_equal(buf[i], 0);
    for (size_t i = 124 + 11; i < 232; i++)
        assert_int_equal(buf[i], 0);

    /* UNIX DGRAM 0x32, and a 108-byte path with no NUL at all (EC-V2-05) */
    char longpath[PP_UNIX_PATH_LEN + 1];
    memset(longpath, 'p', PP_UNIX_PATH_LEN);
    longpath[PP_UNIX_PATH_LEN] = '\0';
    s.transport = PP_TRANS_DGRAM;
    s.src.unix_path = (const uint8_t *)longpath;
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 232);
    assert_int_equal(buf[13], 0x32);
    assert_memory_equal(buf + 16, longpath, PP_UNIX_PATH_LEN);
    assert_memory_equal(buf + 124, "/run/b.sock", 11);
}

static void test_EC_V2_06_unix_raw_abstract_name(void **state)
{
    (void)state;
    uint8_t src[PP_UNIX_PATH_LEN] = {0, 'a', 'b', 's'}, dst[PP_UNIX_PATH_LEN];
    memset(dst, 0, sizeof dst);
    dst[107] = 'z'; /* bytes after the first NUL are kept verbatim */
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_UNIX, PP_TRANS_STREAM);
    s.unix_raw = true;
    s.src.unix_path = src;
    s.dst.unix_path = dst;
    uint8_t buf[300];
    assert_int_equal(pp_build(&s, buf, sizeof buf), 232);
    assert_memory_equal(buf + 16, src, sizeof src);
    assert_memory_equal(buf + 124, dst, sizeof dst);
}

static void test_EC_V2_03_dgram_and_unspec_combos(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_DGRAM);
    s.src = ep("192.0.2.1:53");
    s.dst = ep("192.0.2.2:5353");
    assert_builds(&s, SIG_HEX "21 12 000c c0000201 c0000202 0035 14e9");
    /* EC-V2-12: PROXY/UNSPEC, len 0 */
    pp_build_spec u = spec_v2(PP_CMD_PROXY, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    assert_builds(&u, SIG_HEX "21 00 0000");
    /* EC-V2-17: INET family with UNSPEC transport still carries the 12-byte block */
    pp_build_spec t = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_UNSPEC);
    assert_builds(&t, SIG_HEX "21 10 000c 00000000 00000000 0000 0000");
    /* EC-V2-08: LOCAL with an address block (AWS NLB style) */
    pp_build_spec a = spec_v2(PP_CMD_LOCAL, PP_FAM_INET, PP_TRANS_STREAM);
    a.src = ep("203.0.113.7:40000");
    assert_builds(&a, SIG_HEX "20 11 000c cb007107 00000000 9c40 0000");
}

static void test_EC_V2_23_inet_endpoint_mapped_in_inet6_block(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET6, PP_TRANS_STREAM);
    s.src = ep("192.0.2.1:1");
    s.dst = ep("[2001:db8::2]:2");
    assert_builds(&s, SIG_HEX "21 21 0024 00000000000000000000ffffc0000201 20010db8000000000000000000000002 0001 0002");
}

static void test_tlvs_in_given_order_with_zero_filled_noop(void **state)
{
    (void)state;
    uint8_t gcp[8] = {0, 0, 0, 0, 0, 0, 0x12, 0x34};
    uint8_t aws[] = {0x01, 'v', 'p', 'c', 'e'};
    pp_build_tlv tlvs[] = {
        tlv_str(PP_TLV_NETNS, "ns1"),   PP_BUILD_TLV(PP_TLV_NOOP, NULL, 5),
        PP_BUILD_TLV(PP_TLV_GCP, gcp, 8), PP_BUILD_TLV(PP_TLV_AWS, aws, 5),
        PP_BUILD_TLV(0xF8, NULL, 0),    tlv_str(PP_TLV_ALPN, "h2"),
    };
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.tlvs = tlvs;
    s.ntlvs = 6;
    assert_builds(&s, SIG_HEX "21 11 0035 00000000 00000000 0000 0000"
                              "30 0003 6e7331  04 0005 0000000000  e0 0008 0000000000001234"
                              "ea 0005 0176706365  f8 0000  01 0002 6832");
}

static void test_EC_SSL_11_verify_big_endian_and_subs_in_given_order(void **state)
{
    (void)state;
    pp_build_tlv subs[] = {tlv_str(PP_SSL_CIPHER, "X"), tlv_str(PP_SSL_VERSION, "TLSv1.2"),
                           tlv_str(0x29, ""), tlv_str(PP_SSL_GROUP, "X25519MLKEM768")};
    pp_build_ssl ssl = {.client = PP_CLIENT_SSL | PP_CLIENT_CERT_CONN, .verify = 0x01020304,
                        .subs = subs, .nsubs = 4};
    pp_build_tlv tlvs[] = {PP_BUILD_TLV(PP_TLV_SSL, NULL, 0)};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.tlvs = tlvs;
    s.ntlvs = 1;
    s.ssl = &ssl;
    assert_builds(&s, SIG_HEX "21 00 002a 20 0027 03 01020304"
                              "23 0001 58  21 0007 544c5376312e32  29 0000"
                              "26 000e 5832353531394d4c4b454d373638");
    /* an SSL TLV with an explicit value ignores spec.ssl */
    uint8_t raw[] = {0x01, 0, 0, 0};
    tlvs[0] = PP_BUILD_TLV(PP_TLV_SSL, raw, sizeof raw); /* EC-SSL-07: value of 4 bytes */
    assert_builds(&s, SIG_HEX "21 00 0007 20 0004 01000000");
}

static void test_R_UID_01_unique_id_at_the_128_byte_limit(void **state)
{
    (void)state;
    uint8_t id[129];
    memset(id, 'u', sizeof id);
    pp_build_tlv tlvs[] = {PP_BUILD_TLV(PP_TLV_UNIQUE_ID, id, PP_UNIQUE_ID_MAX)};
    pp_build_spec s = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.tlvs = tlvs;
    s.ntlvs = 1;
    uint8_t buf[300];
    assert_int_equal(pp_build(&s, buf, sizeof buf), 16 + 3 + 128);
    assert_int_equal(buf[15], 131);
    assert_int_equal(buf[17], 0x00);
    assert_int_equal(buf[18], 0x80);
    /* EC-T-15: 129 bytes only when explicitly asked for (a receiver-side test input) */
    tlvs[0].len = 129;
    assert_int_equal(pp_build(&s, buf, sizeof buf), 16 + 3 + 129);
    assert_int_equal(buf[18], 0x81);
}

static void test_R_V2_26_length_counts_everything_after_byte_16(void **state)
{
    (void)state;
    pp_build_tlv pad[] = {PP_BUILD_TLV(PP_TLV_NOOP, NULL, 65535 - 12 - 3)};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.tlvs = pad;
    s.ntlvs = 1;
    static uint8_t out[PP_V2_MAX_LEN]; /* EC-V2-24: the largest header, len 65535 */
    assert_int_equal(pp_build(&s, out, sizeof out), PP_V2_MAX_LEN);
    assert_int_equal(out[14], 0xff);
    assert_int_equal(out[15], 0xff);
    /* one byte more cannot be announced without an override */
    pad[0].len++;
    static uint8_t out2[PP_V2_MAX_LEN + 1];
    assert_int_equal(pp_build(&s, out2, sizeof out2), -1);
    s.len_override = 0xffff;
    assert_int_equal(pp_build(&s, out2, sizeof out2), PP_V2_MAX_LEN + 1);
}

/* ---- v2 malformations ------------------------------------------------------------------ */

static void test_EC_V2_18_signature_override(void **state)
{
    (void)state;
    uint8_t sig[PP_V2_SIG_LEN];
    memcpy(sig, PP_V2_SIGNATURE, sizeof sig);
    sig[4] = 0x20; /* the NUL replaced by a space */
    pp_build_spec s = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.sig_override = sig;
    assert_builds(&s, "0d0a0d0a200d0a515549540a 20 00 0000");
}

static void test_EC_V2_13_14_ver_cmd_override(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.ver_cmd_override = 0x22; /* R-V2-05 broken on purpose: command 2 */
    assert_builds(&s, SIG_HEX "22 11 000c 00000000 00000000 0000 0000");
    s.ver_cmd_override = 0x11; /* version 1 */
    assert_builds(&s, SIG_HEX "11 11 000c 00000000 00000000 0000 0000");
    s.ver_cmd_override = 0x00;
    assert_builds(&s, SIG_HEX "00 11 000c 00000000 00000000 0000 0000");
}

static void test_EC_V2_15_fam_override_keeps_spec_family_block(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("1.2.3.4:5");
    s.fam_override = 0x41;
    assert_builds(&s, SIG_HEX "21 41 000c 01020304 00000000 0005 0000");
    s.fam_override = 0x13; /* EC-V2-16: transport 3 */
    assert_builds(&s, SIG_HEX "21 13 000c 01020304 00000000 0005 0000");
    s.fam_override = 0x21; /* says INET6, carries an INET block */
    assert_builds(&s, SIG_HEX "21 21 000c 01020304 00000000 0005 0000");
}

static void test_EC_V2_20_21_length_override_and_delta(void **state)
{
    (void)state;
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.len_override = 11; /* EC-V2-20: too small for INET */
    assert_builds(&s, SIG_HEX "21 11 000b 00000000 00000000 0000 0000");
    s.len_override = 0x0c00; /* EC-V2-21: little-endian mistake */
    assert_builds(&s, SIG_HEX "21 11 0c00 00000000 00000000 0000 0000");
    s.len_override = -1;
    s.len_delta = 1; /* EC-F-14 */
    assert_builds(&s, SIG_HEX "21 11 000d 00000000 00000000 0000 0000");
    s.len_delta = -1; /* EC-F-15 */
    assert_builds(&s, SIG_HEX "21 11 000b 00000000 00000000 0000 0000");
    s.len_delta = -13; /* below zero: not expressible */
    uint8_t buf[64];
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    s.len_override = 0; /* the absolute value wins over the delta */
    assert_builds(&s, SIG_HEX "21 11 0000 00000000 00000000 0000 0000");
}

static void test_EC_T_02_03_tlv_len_override_still_writes_value(void **state)
{
    (void)state;
    pp_build_tlv t = tlv_str(PP_TLV_AUTHORITY, "12345");
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:42");
    s.dst = ep("127.0.0.1:1337");
    s.tlvs = &t;
    s.ntlvs = 1;
    /* A.4 valid vector */
    assert_builds(&s, SIG_HEX "21 11 00 14 7F000001 7F000001 002A 0539 02 00 05 31 32 33 34 35");
    /* A.4 overrun: the TLV claims 10 bytes, the header (len 0x14) holds 5 */
    t.len_override = 10;
    assert_builds(&s, SIG_HEX "21 11 00 14 7F000001 7F000001 002A 0539 02 00 0A 31 32 33 34 35");
    /* A.4 stray byte: the TLV claims 4, leaving 1 byte over */
    t.len_override = 4;
    assert_builds(&s, SIG_HEX "21 11 00 14 7F000001 7F000001 002A 0539 02 00 04 31 32 33 34 35");
}

static void test_EC_C_07_crc_tlv_with_wrong_length(void **state)
{
    (void)state;
    pp_build_tlv t = tlv_crc();
    t.len_override = 5; /* the 4 computed bytes are still written */
    pp_build_spec s = spec_v2(PP_CMD_LOCAL, PP_FAM_UNSPEC, PP_TRANS_UNSPEC);
    s.tlvs = &t;
    s.ntlvs = 1;
    uint8_t buf[64];
    assert_int_equal(pp_build(&s, buf, sizeof buf), 23);
    assert_int_equal(buf[17], 0);
    assert_int_equal(buf[18], 5);
    uint8_t raw[3] = {1, 2, 3};
    pp_build_tlv three = PP_BUILD_TLV(PP_TLV_CRC32C, raw, 3); /* a raw 3-byte CRC value */
    s.tlvs = &three;
    assert_builds(&s, SIG_HEX "20 00 0006 03 0003 010203");
}

static void test_EC_C_04_06_crc_corrupt_and_byte_swapped(void **state)
{
    (void)state;
    pp_build_tlv crc_only[] = {tlv_crc()};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.src = ep("127.0.0.1:42");
    s.dst = ep("127.0.0.1:1337");
    s.tlvs = crc_only;
    s.ntlvs = 1;
    s.crc_little_endian = true; /* A.3.1 swapped */
    assert_builds(&s, SIG_HEX "21 11 00 13 7f000001 7f000001 002a 0539 03 0004 3b 5d a5 d3");
    s.crc_little_endian = false;
    s.crc_corrupt = true; /* one bit flipped: d3a55d3b -> d3a55d3a */
    assert_builds(&s, SIG_HEX "21 11 00 13 7f000001 7f000001 002a 0539 03 0004 d3 a5 5d 3a");
}

static void test_R_CRC_04_crc_covers_override_bytes(void **state)
{
    (void)state;
    pp_build_tlv crc_only[] = {tlv_crc()};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET, PP_TRANS_STREAM);
    s.fam_override = 0x41;
    s.tlvs = crc_only;
    s.ntlvs = 1;
    uint8_t buf[64];
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 35);
    assert_int_equal(pp_crc32c_header(buf, (size_t)n, 31),
                     (uint32_t)buf[31] << 24 | (uint32_t)buf[32] << 16 | (uint32_t)buf[33] << 8 | buf[34]);
}

/* ---- bounds ---------------------------------------------------------------------------- */

/* For every cap below the real size: -1, and not one byte past cap touched. */
static void assert_cap_respected(const pp_build_spec *s)
{
    static uint8_t buf[4096];
    ssize_t full = pp_build(s, buf, sizeof buf);
    assert_true(full > 0 && full < (ssize_t)sizeof buf);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        memset(buf, 0xA5, sizeof buf);
        assert_int_equal(pp_build(s, buf, cap), -1);
        for (size_t i = cap; i < (size_t)full + 16; i++)
            assert_int_equal(buf[i], 0xA5);
    }
    assert_int_equal(pp_build(s, buf, (size_t)full), full);
}

static void test_EC_V2_28_cap_too_small_never_overflows(void **state)
{
    (void)state;
    pp_build_tlv subs[] = {tlv_str(PP_SSL_VERSION, "TLSv1.3"), tlv_str(PP_SSL_CN, "alice")};
    pp_build_ssl ssl = {.client = 7, .subs = subs, .nsubs = 2};
    pp_build_tlv tlvs[] = {tlv_crc(), tlv_str(PP_TLV_ALPN, "mqtt"), PP_BUILD_TLV(PP_TLV_SSL, NULL, 0),
                           PP_BUILD_TLV(PP_TLV_NOOP, NULL, 300)};
    pp_build_spec s = spec_v2(PP_CMD_PROXY, PP_FAM_INET6, PP_TRANS_STREAM);
    s.tlvs = tlvs;
    s.ntlvs = 4;
    s.ssl = &ssl;
    assert_cap_respected(&s);
    s.family = PP_FAM_UNIX;
    s.src = ep("unix:/tmp/x");
    assert_cap_respected(&s);

    pp_build_spec v1;
    pp_build_spec_init(&v1);
    v1.version = 1;
    v1.family = PP_FAM_INET6;
    v1.src = ep("[2001:db8::1]:65535");
    assert_cap_respected(&v1);
    v1.family = PP_FAM_UNSPEC;
    v1.v1_unknown_tail = " whatever";
    assert_cap_respected(&v1);
    v1.v1_text = "free text";
    assert_cap_respected(&v1);
}

static void test_unexpressible_specs_refused(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    uint8_t buf[64];
    s.version = 3;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    s.version = 0;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    /* overrides a byte or a 16-bit field cannot hold */
    pp_build_spec_init(&s);
    s.ver_cmd_override = 0x100;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    pp_build_spec_init(&s);
    s.fam_override = 0x111;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    pp_build_spec_init(&s);
    s.len_override = 0x10000;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    pp_build_tlv t = PP_BUILD_TLV(PP_TLV_NOOP, NULL, 0);
    t.len_override = 0x10000;
    pp_build_spec_init(&s);
    s.tlvs = &t;
    s.ntlvs = 1;
    assert_int_equal(pp_build(&s, buf, sizeof buf), -1);
    t.len_override = 0xFFFF; /* the largest announceable value is fine */
    assert_int_equal(pp_build(&s, buf, sizeof buf), 31);
}

/* ---- pp_endpoint_parse ----------------------------------------------------------------- */

static void test_endpoint_parse_forms(void **state)
{
    (void)state;
    pp_endpoint e;
    assert_int_equal(pp_endpoint_parse("1.2.3.4:80", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET);
    assert_memory_equal(e.ip, "\x01\x02\x03\x04", 4);
    assert_int_equal(e.port, 80);

    assert_int_equal(pp_endpoint_parse("[2001:db8::1]:443", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET6);
    assert_memory_equal(e.ip, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    assert_int_equal(e.port, 443);

    assert_int_equal(pp_endpoint_parse("1.2.3.4", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET);
    assert_int_equal(e.port, 0);

    assert_int_equal(pp_endpoint_parse("::1", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET6);
    assert_int_equal(e.ip[15], 1);
    assert_int_equal(e.port, 0);

    assert_int_equal(pp_endpoint_parse("[::1]", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET6);

    assert_int_equal(pp_endpoint_parse("::ffff:192.0.2.1", &e), 0);
    assert_int_equal(e.family, PP_FAM_INET6);
    assert_int_equal(e.ip[10], 0xff);

    assert_int_equal(pp_endpoint_parse("0.0.0.0:65535", &e), 0);
    assert_int_equal(e.port, 65535);

    static const char text[] = "unix:/run/mqtt.sock";
    assert_int_equal(pp_endpoint_parse(text, &e), 0);
    assert_int_equal(e.family, PP_FAM_UNIX);
    assert_ptr_equal(e.unix_path, (const uint8_t *)text + 5);
}

static void test_endpoint_parse_rejects(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",           "1.2.3.4:",      "1.2.3.4:65536", "1.2.3.4:-1",  "1.2.3.4:8a",
        "1.2.3.4:+80", "256.0.0.1:80", "1.2.3:80",      "[::1]:",      "[::1",
        "[::1]x",     "[1.2.3.4]:80",  "::1::2",        "unix:",       "host.example:80",
        "1.2.3.4:123456", "[::1]:80:80", "1.2.3.4 :80", NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pp_endpoint e;
        memset(&e, 0x77, sizeof e);
        if (pp_endpoint_parse(bad[i], &e) != -1)
            fail_msg("accepted \"%s\"", bad[i] ? bad[i] : "(null)");
        assert_int_equal(e.family, 0x77); /* out untouched on failure */
    }
    char longpath[5 + PP_UNIX_PATH_LEN + 2];
    memcpy(longpath, "unix:", 5);
    memset(longpath + 5, 'p', PP_UNIX_PATH_LEN + 1);
    longpath[sizeof longpath - 1] = '\0';
    pp_endpoint e;
    assert_int_equal(pp_endpoint_parse(longpath, &e), -1);
    longpath[sizeof longpath - 2] = '\0'; /* exactly 108 bytes is fine */
    assert_int_equal(pp_endpoint_parse(longpath, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_V2_02_R_V2_05_spec_init_sends_version_2_proxy_no_overrides),
        cmocka_unit_test(test_EC_V1_36_tcp4_line_edge_ports),
        cmocka_unit_test(test_EC_V1_36_tcp6_line_is_inet_ntop_compressed),
        cmocka_unit_test(test_R_V1_05_unknown_short_form),
        cmocka_unit_test(test_R_V1_07_unknown_with_tail),
        cmocka_unit_test(test_v1_text_written_verbatim),
        cmocka_unit_test(test_build_v1_convenience),
        cmocka_unit_test(test_haproxy_send_proxy_v2_tcp4),
        cmocka_unit_test(test_haproxy_send_proxy_v2_tcp6),
        cmocka_unit_test(test_EC_V2_27_R_V2_14_R_V2_27_local_unspec_health_check),
        cmocka_unit_test(test_haproxy_health_check_local_with_ssl_tlv),
        cmocka_unit_test(test_haproxy_send_proxy_v2_ssl_cn_alice),
        cmocka_unit_test(test_haproxy_ssl_cn_with_alpn_device_0042),
        cmocka_unit_test(test_R_CRC_02_04_haproxy_all_options_182_bytes),
        cmocka_unit_test(test_R_CRC_03_haproxy_all_options_device_0042),
        cmocka_unit_test(test_EC_C_11_crc_vectors_appendix_a3),
        cmocka_unit_test(test_EC_C_08_two_crc_tlvs_each_computed_with_both_zeroed),
        cmocka_unit_test(test_R_V2_18_unix_paths_nul_padded_to_108),
        cmocka_unit_test(test_EC_V2_06_unix_raw_abstract_name),
        cmocka_unit_test(test_EC_V2_03_dgram_and_unspec_combos),
        cmocka_unit_test(test_EC_V2_23_inet_endpoint_mapped_in_inet6_block),
        cmocka_unit_test(test_tlvs_in_given_order_with_zero_filled_noop),
        cmocka_unit_test(test_EC_SSL_11_verify_big_endian_and_subs_in_given_order),
        cmocka_unit_test(test_R_UID_01_unique_id_at_the_128_byte_limit),
        cmocka_unit_test(test_R_V2_26_length_counts_everything_after_byte_16),
        cmocka_unit_test(test_EC_V2_18_signature_override),
        cmocka_unit_test(test_EC_V2_13_14_ver_cmd_override),
        cmocka_unit_test(test_EC_V2_15_fam_override_keeps_spec_family_block),
        cmocka_unit_test(test_EC_V2_20_21_length_override_and_delta),
        cmocka_unit_test(test_EC_T_02_03_tlv_len_override_still_writes_value),
        cmocka_unit_test(test_EC_C_07_crc_tlv_with_wrong_length),
        cmocka_unit_test(test_EC_C_04_06_crc_corrupt_and_byte_swapped),
        cmocka_unit_test(test_R_CRC_04_crc_covers_override_bytes),
        cmocka_unit_test(test_EC_V2_28_cap_too_small_never_overflows),
        cmocka_unit_test(test_unexpressible_specs_refused),
        cmocka_unit_test(test_endpoint_parse_forms),
        cmocka_unit_test(test_endpoint_parse_rejects),
    };
    return cmocka_run_group_tests_name("proxy_build", tests, NULL, NULL);
}
