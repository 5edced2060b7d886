/* lib/proxy TLVs: the framework (R-TLV-*), each registered TLV (R-ALPN, R-AUTH, R-UID,
 * R-NOOP, R-NETNS, R-RSV), the SSL TLV (R-SSL-*), the cloud TLVs (AWS 0xEA, Azure 0xEE,
 * GCP 0xE0), every EC-T and EC-SSL edge case, Appendix A.4 and HAProxy's real SSL headers. */
#include "test_proxy_helpers.h"

#define FIXED4 "21" "11" /* PROXY TCP4 */
#define ADDR4 "7f000001" "7f000001" "002a" "0539"

static uint8_t buf[70000];
static pp_header h;

/* PROXY TCP4 with the given TLV hex after the address block. */
static ssize_t parse_tlvs(const char *tlv_hex, const pp_options *o)
{
    static char body[140000];
    snprintf(body, sizeof body, "%s%s", ADDR4, tlv_hex);
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, body);
    return parse_checked(buf, n, o, &h);
}

static ssize_t parse_hex(const char *hex, const pp_options *o)
{
    size_t n = unhex(hex, buf, sizeof buf);
    return parse_checked(buf, n, o, &h);
}

static void assert_bytes_eq(pp_bytes got, const char *want)
{
    size_t n = strlen(want);
    if (got.len != n || (n && memcmp(got.ptr, want, n) != 0))
        fail_msg("got %zu bytes \"%.*s\", want \"%s\"", got.len, (int)got.len, (const char *)got.ptr, want);
}

/* ---- the framework ---------------------------------------------------------------------- */

static void test_EC_T_01_R_TLV_01_R_AUTH_01_a4_valid_authority(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 0005 3132333435", NULL), 36);
    pp_bytes v;
    assert_true(pp_get_authority(&h, &v));
    assert_bytes_eq(v, "12345");
    assert_int_equal(h.tlv_count, 1);
    assert_int_equal(h.idx.authority, 28);
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, &h);
    assert_true(pp_tlv_next(&it, &t));
    assert_int_equal(t.type, PP_TLV_AUTHORITY);
    assert_int_equal(t.len, 5);
    assert_ptr_equal(t.value, buf + 31);
    assert_false(pp_tlv_next(&it, &t));
}

static void test_EC_T_02_R_TLV_06_a4_overrun(void **state)
{
    (void)state;
    /* len stays 0x14, the TLV claims 10 bytes: the next bytes are not the header's */
    assert_pp_result(parse_hex(SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 000a 3132333435 3132333435",
                               NULL),
                     PP_ERR_TLV_OVERRUN);
    const pp_options skip = {.skip_tlvs = true};
    assert_pp_result(parse_hex(SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 000a 3132333435 3132333435",
                               &skip),
                     36); /* a skipping receiver may accept, reading nothing past 16 + len */
}

static void test_EC_T_03_R_TLV_07_a4_stray_byte(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 0004 31323334 35", NULL),
                     PP_ERR_TLV_FRAGMENT);
}

static void test_EC_T_04_R_TLV_07_two_byte_area(void **state)
{
    (void)state;
    assert_pp_result(parse_tlvs("0100", NULL), PP_ERR_TLV_FRAGMENT);
    assert_pp_result(parse_tlvs("01", NULL), PP_ERR_TLV_FRAGMENT);
    assert_pp_result(parse_tlvs("010000 01", NULL), PP_ERR_TLV_FRAGMENT);
}

static void test_EC_T_05_R_TLV_03_R_RSV_04_unassigned_types_ignored(void **state)
{
    (void)state;
    assert_pp_result(parse_tlvs("000001aa 060000 1f0002bbbb 290001cc 310000 df0003dddddd", NULL), 28 + 25);
    assert_int_equal(h.tlv_count, 6);
    /* they carry no meaning, so repeating them is no ambiguity */
    assert_pp_result(parse_tlvs("060000 060001aa", NULL), 28 + 7);
    assert_false(h.has_duplicate);
    pp_bytes v;
    assert_true(pp_tlv_find(&h, 0x06, &v)); /* first occurrence */
    assert_int_equal(v.len, 0);
}

static void test_EC_T_06_R_RSV_01_R_RSV_03_reserved_ranges_ignored(void **state)
{
    (void)state;
    assert_pp_result(parse_tlvs("e10001aa ef0000 f00000 f70001bb f80000 ff0002cccc", NULL), 28 + 22);
    assert_int_equal(h.tlv_count, 6);
    pp_bytes v;
    assert_true(pp_tlv_find(&h, 0xff, &v));
    assert_int_equal(v.len, 2);
    assert_false(pp_tlv_find(&h, 0xfe, &v));
}

static void test_EC_T_07_R_TLV_05_zero_length_tlvs(void **state)
{
    (void)state;
    /* every type with an empty value, except the two whose layout needs bytes */
    assert_pp_result(parse_tlvs("010000 020000 040000 050000 300000 e00000 ea0000 ee0000 210000 ff0000", NULL),
                     28 + 30);
    pp_bytes v;
    assert_true(pp_get_alpn(&h, &v));
    assert_int_equal(v.len, 0);
    assert_non_null(v.ptr);
    uint64_t id;
    assert_false(pp_get_gcp_psc_id(&h, &id)); /* present, but not 8 bytes: no value */
    assert_false(pp_get_aws_vpce_id(&h, &v));
    assert_pp_result(parse_tlvs("030000", NULL), PP_ERR_CRC_BAD_LENGTH); /* R-CRC-01 */
    assert_pp_result(parse_tlvs("200000", NULL), PP_ERR_SSL_TOO_SHORT);  /* R-SSL-01 */
}

static void fill_noop(char *hex, size_t len)
{
    sprintf(hex, "04%04zx", len);
    memset(hex + 6, '0', 2 * len);
    hex[6 + 2 * len] = '\0';
}

static void test_EC_T_08_R_NOOP_01_R_NOOP_02_noop_padding_anywhere(void **state)
{
    (void)state;
    static char hex[3 * 2 * 5000 + 64];
    const size_t sizes[] = {1, 100, 4096};
    for (size_t i = 0; i < 3; i++) {
        char noop[2 * 4096 + 8];
        fill_noop(noop, sizes[i]);
        /* start, middle and end, all at once: NOOP may repeat */
        snprintf(hex, sizeof hex, "%s 010004 6d717474 %s 020001 61 %s", noop, noop, noop);
        ssize_t want = (ssize_t)(28 + 3 * (3 + sizes[i]) + 7 + 4);
        assert_pp_result(parse_tlvs(hex, NULL), want);
        assert_false(h.has_duplicate);
        pp_bytes v;
        assert_true(pp_get_noop(&h, &v));
        assert_int_equal(v.len, sizes[i]);
        assert_true(pp_get_alpn(&h, &v));
        assert_bytes_eq(v, "mqtt");
    }
}

static void test_EC_T_09_R_NOOP_01_five_thousand_noops(void **state)
{
    (void)state;
    static char hex[5000 * 6 + 1];
    for (int i = 0; i < 5000; i++)
        memcpy(hex + 6 * i, "040000", 6);
    hex[5000 * 6] = '\0';
    assert_pp_result(parse_tlvs(hex, NULL), 28 + 15000);
    assert_int_equal(h.tlv_count, 5000);
    size_t n = 0;
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, &h);
    while (pp_tlv_next(&it, &t))
        n++;
    assert_int_equal(n, 5000);
}

static void test_EC_T_10_A_15_duplicate_authority(void **state)
{
    (void)state;
    const pp_options allow = {.allow_tlv_duplicates = true};
    assert_pp_result(parse_tlvs("020001 61 020001 62", NULL), PP_ERR_TLV_DUPLICATE);
    assert_pp_result(parse_tlvs("020001 61 020001 62", &allow), 28 + 8);
    assert_true(h.has_duplicate); /* reported even when allowed */
    assert_int_equal(h.duplicate_type, PP_TLV_AUTHORITY);
    pp_bytes v;
    assert_true(pp_get_authority(&h, &v));
    assert_bytes_eq(v, "a"); /* first wins */
    /* every type that carries meaning counts */
    const char *dups[] = {"010000 010000", "050000 050000", "300000 300000", "e00008 0000000000000000 e00008 0000000000000000",
                          "ea000101 ea000101", "ee00050100000000 ee00050100000000", "2000050000000000 2000050000000000"};
    for (size_t i = 0; i < sizeof dups / sizeof dups[0]; i++)
        assert_pp_result(parse_tlvs(dups[i], NULL), PP_ERR_TLV_DUPLICATE);
}

static void test_EC_T_11_R_TLV_06_value_cannot_fit(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    memset(buf + n, 0, 65535 - 12);
    buf[n] = PP_TLV_NOOP;
    buf[n + 1] = buf[n + 2] = 0xFF; /* 65535 bytes of value, 65520 left */
    buf[14] = buf[15] = 0xFF;
    assert_pp_result(parse_checked(buf, PP_V2_MAX_LEN, NULL, &h), PP_ERR_TLV_OVERRUN);
}

static void test_EC_T_12_R_ALPN_01_alpn_values(void **state)
{
    (void)state;
    const char *alpn[] = {"010004 6d717474", "010002 6832", "010000", "010003 ff00c3"};
    const size_t lens[] = {4, 2, 0, 3};
    for (size_t i = 0; i < 4; i++) {
        assert_pp_result(parse_tlvs(alpn[i], NULL), (ssize_t)(28 + 3 + lens[i]));
        pp_bytes v;
        assert_true(pp_get_alpn(&h, &v));
        assert_int_equal(v.len, lens[i]);
        assert_ptr_equal(v.ptr, buf + 31);
    }
}

static void test_EC_T_13_R_AUTH_01_authority_values(void **state)
{
    (void)state;
    pp_bytes v;
    assert_pp_result(parse_tlvs("02000f 62c3bc636865722e6578616d706c65", NULL), 28 + 18); /* bücher.example */
    assert_true(pp_get_authority(&h, &v));
    assert_int_equal(v.len, 15);
    assert_pp_result(parse_tlvs("020002 c328", NULL), 28 + 5); /* invalid UTF-8: opaque bytes */
    assert_pp_result(parse_tlvs("020003 610062", NULL), 28 + 6);
    assert_true(pp_get_authority(&h, &v));
    assert_int_equal(v.len, 3); /* not cut at the NUL */
    static char hex[2 * 300 + 16];
    for (size_t len = 255; len <= 256; len++) {
        sprintf(hex, "02%04zx", len);
        memset(hex + 6, '6', 2 * len);
        hex[6 + 2 * len] = '\0';
        assert_pp_result(parse_tlvs(hex, NULL), (ssize_t)(28 + 3 + len));
        assert_true(pp_get_authority(&h, &v));
        assert_int_equal(v.len, len);
    }
}

static void test_EC_T_14_EC_T_15_R_UID_02_unique_id_sizes(void **state)
{
    (void)state;
    static char hex[2 * 200 + 16];
    pp_bytes v;
    const pp_options allow = {.allow_long_unique_id = true};
    const size_t ok[] = {0, 1, 128};
    for (size_t i = 0; i < 3; i++) {
        sprintf(hex, "05%04zx", ok[i]);
        memset(hex + 6, 'a', 2 * ok[i]);
        hex[6 + 2 * ok[i]] = '\0';
        assert_pp_result(parse_tlvs(hex, NULL), (ssize_t)(28 + 3 + ok[i]));
        assert_true(pp_get_unique_id(&h, &v));
        assert_int_equal(v.len, ok[i]);
    }
    sprintf(hex, "05%04x", 129);
    memset(hex + 6, 'a', 2 * 129);
    hex[6 + 2 * 129] = '\0';
    assert_pp_result(parse_tlvs(hex, NULL), PP_ERR_TLV_UNIQUE_ID_TOO_LONG); /* A-14, as HAProxy */
    assert_pp_result(parse_tlvs(hex, &allow), 28 + 3 + 129);
    assert_true(pp_get_unique_id(&h, &v));
    assert_int_equal(v.len, 129);
}

static void test_EC_T_16_R_NETNS_01_netns(void **state)
{
    (void)state;
    pp_bytes v;
    assert_pp_result(parse_tlvs("300007 6e6f2d73756368", NULL), 28 + 10);
    assert_true(pp_get_netns(&h, &v));
    assert_bytes_eq(v, "no-such");
}

static void test_EC_T_17_R_TLV_08_ssl_subtypes_at_top_level(void **state)
{
    (void)state;
    assert_pp_result(parse_tlvs("210007 544c5376312e33 220005 616c696365 280000", NULL), 28 + 21);
    pp_ssl_info si;
    assert_false(pp_get_ssl(&h, &si)); /* not inside 0x20: no SSL meaning */
    assert_int_equal(h.tlv_count, 3);
}

static void test_EC_T_18_R_TLV_02_tlvs_after_unix_block(void **state)
{
    (void)state;
    static char hex[2 * 216 + 64];
    memset(hex, '0', 2 * 216);
    strcpy(hex + 2 * 216, "010004 6d717474");
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x31, hex);
    assert_pp_result(parse_checked(buf, n, NULL, &h), 239);
    assert_ptr_equal(h.tlvs.ptr, buf + 232);
    assert_int_equal(h.idx.alpn, 232);
    pp_bytes v;
    assert_true(pp_get_alpn(&h, &v));
    assert_bytes_eq(v, "mqtt");
}

static void test_EC_T_19_tlv_header_split(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4 "010004 6d717474 020001 61");
    for (size_t k = 28; k < n; k++) /* inside and between the 3-byte TLV headers */
        assert_pp_result(parse_checked(buf, k, NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_checked(buf, n, NULL, &h), (ssize_t)n);
    assert_int_equal(h.tlv_count, 2);
}

static void test_EC_T_20_local_with_tlvs(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x20, 0x11, ADDR4 "020001 61");
    assert_pp_result(parse_checked(buf, n, NULL, &h), (ssize_t)n);
    assert_false(h.use_carried);
    pp_bytes v;
    assert_true(pp_get_authority(&h, &v));
    assert_bytes_eq(v, "a");
}

/* ---- cloud TLVs ------------------------------------------------------------------------- */

static void test_R_RSV_01_cloud_tlvs(void **state)
{
    (void)state;
    pp_bytes v;
    uint32_t linkid;
    uint64_t psc;
    assert_pp_result(parse_tlvs("ea0017 01 767063652d3038643262663135666163353030316339", NULL), 28 + 26);
    assert_true(pp_get_aws_vpce_id(&h, &v));
    assert_bytes_eq(v, "vpce-08d2bf15fac5001c9");
    assert_pp_result(parse_tlvs("ee0005 01 78563412", NULL), 28 + 8);
    assert_true(pp_get_azure_linkid(&h, &linkid));
    assert_int_equal(linkid, 0x12345678); /* little-endian */
    assert_pp_result(parse_tlvs("e00008 0102030405060708", NULL), 28 + 11);
    assert_true(pp_get_gcp_psc_id(&h, &psc));
    assert_true(psc == 0x0102030405060708ull); /* big-endian */
    /* other subtypes or sizes are not these values */
    assert_pp_result(parse_tlvs("ea0002 0261 ee0004 01785634 e00007 01020304050607", NULL), 28 + 22);
    assert_false(pp_get_aws_vpce_id(&h, &v));
    assert_false(pp_get_azure_linkid(&h, &linkid));
    assert_false(pp_get_gcp_psc_id(&h, &psc));
    assert_true(pp_tlv_find(&h, PP_TLV_AWS, &v)); /* still there as raw TLVs */
    assert_int_equal(v.len, 2);
}

static void test_getters_on_v1_and_absent(void **state)
{
    (void)state;
    pp_bytes v;
    pp_ssl_info si;
    uint32_t u32;
    assert_pp_result(parse_text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", NULL, &h), 32);
    assert_false(pp_get_alpn(&h, &v));
    assert_false(pp_get_ssl(&h, &si));
    assert_false(pp_get_crc32c(&h, &u32));
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, &h);
    assert_false(pp_tlv_next(&it, &t));
    assert_pp_result(parse_tlvs("", NULL), 28);
    assert_false(pp_get_authority(&h, &v));
    assert_false(pp_tlv_find(&h, 0x42, &v));
}

static void test_tlv_past_offset_65535_still_found(void **state)
{
    (void)state;
    /* a NOOP pushes ALPN past what pp_tlv_index (uint16_t) can hold: getters search */
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    size_t noop = 65535 - 12 - 3 - 7;
    buf[n] = PP_TLV_NOOP;
    buf[n + 1] = (uint8_t)(noop >> 8);
    buf[n + 2] = (uint8_t)noop;
    memset(buf + n + 3, 0, noop);
    memcpy(buf + n + 3 + noop, "\x01\x00\x04mqtt", 7);
    buf[14] = buf[15] = 0xFF;
    assert_pp_result(parse_checked(buf, PP_V2_MAX_LEN, NULL, &h), PP_V2_MAX_LEN);
    assert_int_equal(h.idx.alpn, 0);
    pp_bytes v;
    assert_true(pp_get_alpn(&h, &v));
    assert_bytes_eq(v, "mqtt");
    assert_ptr_equal(v.ptr, buf + PP_V2_MAX_LEN - 4);
}

/* ---- SSL -------------------------------------------------------------------------------- */

static void test_EC_SSL_01_R_SSL_01_plain_tcp_client(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200005 00 00000000", NULL), 28 + 8);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client, 0);
    assert_int_equal(si.verify, 0);
    assert_int_equal(si.subtlvs.len, 0);
    assert_null(si.version.ptr);
    assert_false(pp_ssl_cert_verified(&si)); /* not TLS at all */
}

static void test_EC_SSL_02_R_SSL_05_R_SSL_09_version_and_cipher(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200028 01 0000000a 210007 544c5376312e33 230016 544c535f4145535f3132385f47434d5f534841323536",
                                NULL),
                     28 + 43);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client, PP_CLIENT_SSL);
    assert_int_equal(si.verify, 10);
    assert_bytes_eq(si.version, "TLSv1.3");
    assert_bytes_eq(si.cipher, "TLS_AES_128_GCM_SHA256");
    assert_false(pp_ssl_cert_verified(&si));
}

static void test_EC_SSL_03_R_SSL_06_R_SSL_03_verified_certificate(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200013 07 00000000 22000b 6578616d706c652e636f6d", NULL), 28 + 22);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client, PP_CLIENT_SSL | PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS);
    assert_bytes_eq(si.cn, "example.com");
    assert_true(pp_ssl_cert_verified(&si));
}

static void test_EC_SSL_04_R_SSL_07_resumed_session(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200005 05 00000000", NULL), 28 + 8);
    assert_true(pp_get_ssl(&h, &si));
    assert_true(pp_ssl_cert_verified(&si)); /* CERT_SESS counts */
}

static void test_EC_SSL_05_verification_error_is_not_authentication(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200005 03 00000014", NULL), 28 + 8);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.verify, 0x14);
    assert_false(pp_ssl_cert_verified(&si));
}

static void test_EC_SSL_06_A_12_verify_zero_without_cert_flags(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_hex(HAPROXY_V2_NO_CERT_HEX, NULL), 46); /* HAProxy's real output */
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client, PP_CLIENT_SSL);
    assert_int_equal(si.verify, 0);
    assert_null(si.cn.ptr);
    assert_false(pp_ssl_cert_verified(&si));
}

static void test_EC_SSL_07_R_SSL_01_value_shorter_than_5(void **state)
{
    (void)state;
    const char *short_values[] = {"200000", "200001 07", "200002 0700", "200003 070000", "200004 07000000"};
    for (size_t i = 0; i < 5; i++)
        assert_pp_result(parse_tlvs(short_values[i], NULL), PP_ERR_SSL_TOO_SHORT);
    const pp_options skip = {.skip_tlvs = true};
    assert_pp_result(parse_tlvs("200004 07000000", &skip), 28 + 7); /* or ignore it, never over-read */
}

static void test_EC_SSL_08_R_SSL_15_sub_tlv_overrun(void **state)
{
    (void)state;
    /* the sub-TLV claims 8 bytes: one past the SSL value, still inside the header */
    assert_pp_result(parse_tlvs("20000f 01 00000000 210008 544c5376312e33 040000", NULL), PP_ERR_SSL_SUB_OVERRUN);
}

static void test_EC_SSL_09_R_SSL_15_stray_bytes_in_ssl_value(void **state)
{
    (void)state;
    assert_pp_result(parse_tlvs("200007 01 00000000 2100", NULL), PP_ERR_SSL_SUB_FRAGMENT);
    assert_pp_result(parse_tlvs("200006 01 00000000 21", NULL), PP_ERR_SSL_SUB_FRAGMENT);
}

static void test_EC_SSL_10_R_SSL_04_unknown_subtypes_ignored(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200015 01 00000000 290001 aa 2f0000 010002 bbbb 210001 31", NULL), 28 + 24);
    assert_true(pp_get_ssl(&h, &si));
    assert_bytes_eq(si.version, "1");
    size_t n = 0;
    pp_tlv_iter it;
    pp_tlv t;
    pp_ssl_iter_init(&it, si.subtlvs);
    while (pp_tlv_next(&it, &t))
        n++;
    assert_int_equal(n, 4); /* the iterator still shows them, in wire order */
    /* and they may repeat */
    assert_pp_result(parse_tlvs("20000b 01 00000000 290000 290000", NULL), 28 + 14);
}

static void test_EC_SSL_11_R_SSL_01_packed_layout(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("20000a 07 01020304 220002 6869", NULL), 28 + 13);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.verify, 0x01020304); /* at value offset 1, big-endian */
    assert_bytes_eq(si.cn, "hi");             /* sub-TLVs at offset 5, no padding */
    assert_ptr_equal(si.subtlvs.ptr, buf + 28 + 3 + 5);
}

/* R-SSL-10 SIG_ALG, R-SSL-11 KEY_ALG, R-SSL-12 GROUP, R-SSL-13 SIG_SCHEME: each exposed. */
static void test_EC_SSL_12_R_SSL_10_to_13_new_subtypes(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200046 01 00000000"
                                " 26000e 5832353531394d4c4b454d373638"
                                " 270016 65636473615f7365637032353672315f736861323536"
                                " 24000a 5253412d534841323536"
                                " 250007 52534132303438",
                                NULL),
                     28 + 73);
    assert_true(pp_get_ssl(&h, &si));
    assert_bytes_eq(si.group, "X25519MLKEM768");
    assert_bytes_eq(si.sig_scheme, "ecdsa_secp256r1_sha256");
    assert_bytes_eq(si.sig_alg, "RSA-SHA256");
    assert_bytes_eq(si.key_alg, "RSA2048");
}

static void test_EC_SSL_13_EC_SSL_15_client_cert_large_and_malformed(void **state)
{
    (void)state;
    static char hex[2 * 1600 + 64];
    size_t cert = 1500; /* not DER at all: the parser treats it as opaque (R-SSL-14) */
    sprintf(hex, "20%04zx 07 00000000 28%04zx", 5 + 3 + cert, cert);
    size_t at = strlen(hex);
    memset(hex + at, 'f', 2 * cert);
    hex[at + 2 * cert] = '\0';
    assert_pp_result(parse_tlvs(hex, NULL), (ssize_t)(28 + 3 + 5 + 3 + cert));
    assert_true(h.header_len > 536); /* */
    pp_ssl_info si;
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client_cert.len, cert);
}

static void test_EC_SSL_14_R_SSL_08_utf8_cn(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_tlvs("200017 07 00000000 22000f 62c3bc636865722e6578616d706c65", NULL), 28 + 26);
    assert_true(pp_get_ssl(&h, &si));
    assert_bytes_eq(si.cn, "b\xc3\xbc" "cher.example");
}

static void test_A_15_duplicate_ssl_subtype(void **state)
{
    (void)state;
    const pp_options allow = {.allow_tlv_duplicates = true};
    const char *hex = "200017 07 00000000 220005 616c696365 220007 6d616c6c6f7279";
    assert_pp_result(parse_tlvs(hex, NULL), PP_ERR_SSL_SUB_DUPLICATE);
    assert_pp_result(parse_tlvs(hex, &allow), 28 + 26);
    assert_true(h.has_duplicate);
    assert_int_equal(h.duplicate_type, PP_SSL_CN);
    pp_ssl_info si;
    assert_true(pp_get_ssl(&h, &si));
    assert_bytes_eq(si.cn, "alice"); /* first wins */
}

static void test_haproxy_send_proxy_v2_ssl_cn(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_hex(HAPROXY_V2_SSL_CN_HEX "68656c6c6f", NULL), 54);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.client, 0x07);
    assert_int_equal(si.verify, 0);
    assert_bytes_eq(si.version, "TLSv1.3");
    assert_bytes_eq(si.cn, "alice");
    assert_true(pp_ssl_cert_verified(&si));
}

static void test_haproxy_self_signed_client(void **state)
{
    (void)state;
    pp_ssl_info si;
    assert_pp_result(parse_hex(HAPROXY_V2_SELF_SIGNED_HEX, NULL), 56);
    assert_true(pp_get_ssl(&h, &si));
    assert_int_equal(si.verify, 18); /* X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT */
    assert_bytes_eq(si.cn, "mallory");
    assert_false(pp_ssl_cert_verified(&si)); /* the CN must not be trusted */
}

static void test_haproxy_all_options_182_bytes(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(HAPROXY_V2_ALL_OPTIONS_HEX, NULL), 182);
    assert_int_equal(h.tlv_count, 5);
    pp_bytes v;
    uint32_t crc;
    assert_true(pp_get_crc32c(&h, &crc));
    assert_int_equal(crc, 0x3496417d);
    assert_true(h.crc_present && h.crc_ok);
    assert_true(pp_get_alpn(&h, &v));
    assert_bytes_eq(v, "mqtt");
    assert_true(pp_get_authority(&h, &v));
    assert_bytes_eq(v, "broker.example");
    assert_true(pp_get_unique_id(&h, &v));
    assert_bytes_eq(v, "7F000001:DFEA_7F000001:4993_6B09CF9F_0006:17AD");
    pp_ssl_info si;
    assert_true(pp_get_ssl(&h, &si));
    assert_bytes_eq(si.cn, "alice");
    assert_bytes_eq(si.key_alg, "RSA2048");
    assert_bytes_eq(si.sig_alg, "RSA-SHA256");
    assert_bytes_eq(si.cipher, "TLS_AES_256_GCM_SHA384");
    /* HAProxy's order is not numeric: the iterator keeps the wire order */
    const uint8_t order[] = {0x21, 0x22, 0x25, 0x24, 0x23};
    pp_tlv_iter it;
    pp_tlv t;
    size_t k = 0;
    pp_ssl_iter_init(&it, si.subtlvs);
    while (pp_tlv_next(&it, &t))
        assert_int_equal(t.type, order[k++]);
    assert_int_equal(k, 5);
    char line[512];
    size_t w = pp_tlv_summary(&h, line, sizeof line);
    assert_int_equal(w, strlen(line));
    assert_string_equal(line, "alpn=mqtt authority=broker.example unique_id=7F000001:DFEA_7F000001:4993_6B09CF9F_0006:17AD "
                              "ssl{client=0x07 verify=0 version=TLSv1.3 cn=alice cipher=TLS_AES_256_GCM_SHA384 "
                              "sig_alg=RSA-SHA256 key_alg=RSA2048} crc32c=ok");
    assert_int_equal(pp_tlv_summary(&h, line, 8), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_T_01_R_TLV_01_R_AUTH_01_a4_valid_authority),
        cmocka_unit_test(test_EC_T_02_R_TLV_06_a4_overrun),
        cmocka_unit_test(test_EC_T_03_R_TLV_07_a4_stray_byte),
        cmocka_unit_test(test_EC_T_04_R_TLV_07_two_byte_area),
        cmocka_unit_test(test_EC_T_05_R_TLV_03_R_RSV_04_unassigned_types_ignored),
        cmocka_unit_test(test_EC_T_06_R_RSV_01_R_RSV_03_reserved_ranges_ignored),
        cmocka_unit_test(test_EC_T_07_R_TLV_05_zero_length_tlvs),
        cmocka_unit_test(test_EC_T_08_R_NOOP_01_R_NOOP_02_noop_padding_anywhere),
        cmocka_unit_test(test_EC_T_09_R_NOOP_01_five_thousand_noops),
        cmocka_unit_test(test_EC_T_10_A_15_duplicate_authority),
        cmocka_unit_test(test_EC_T_11_R_TLV_06_value_cannot_fit),
        cmocka_unit_test(test_EC_T_12_R_ALPN_01_alpn_values),
        cmocka_unit_test(test_EC_T_13_R_AUTH_01_authority_values),
        cmocka_unit_test(test_EC_T_14_EC_T_15_R_UID_02_unique_id_sizes),
        cmocka_unit_test(test_EC_T_16_R_NETNS_01_netns),
        cmocka_unit_test(test_EC_T_17_R_TLV_08_ssl_subtypes_at_top_level),
        cmocka_unit_test(test_EC_T_18_R_TLV_02_tlvs_after_unix_block),
        cmocka_unit_test(test_EC_T_19_tlv_header_split),
        cmocka_unit_test(test_EC_T_20_local_with_tlvs),
        cmocka_unit_test(test_R_RSV_01_cloud_tlvs),
        cmocka_unit_test(test_getters_on_v1_and_absent),
        cmocka_unit_test(test_tlv_past_offset_65535_still_found),
        cmocka_unit_test(test_EC_SSL_01_R_SSL_01_plain_tcp_client),
        cmocka_unit_test(test_EC_SSL_02_R_SSL_05_R_SSL_09_version_and_cipher),
        cmocka_unit_test(test_EC_SSL_03_R_SSL_06_R_SSL_03_verified_certificate),
        cmocka_unit_test(test_EC_SSL_04_R_SSL_07_resumed_session),
        cmocka_unit_test(test_EC_SSL_05_verification_error_is_not_authentication),
        cmocka_unit_test(test_EC_SSL_06_A_12_verify_zero_without_cert_flags),
        cmocka_unit_test(test_EC_SSL_07_R_SSL_01_value_shorter_than_5),
        cmocka_unit_test(test_EC_SSL_08_R_SSL_15_sub_tlv_overrun),
        cmocka_unit_test(test_EC_SSL_09_R_SSL_15_stray_bytes_in_ssl_value),
        cmocka_unit_test(test_EC_SSL_10_R_SSL_04_unknown_subtypes_ignored),
        cmocka_unit_test(test_EC_SSL_11_R_SSL_01_packed_layout),
        cmocka_unit_test(test_EC_SSL_12_R_SSL_10_to_13_new_subtypes),
        cmocka_unit_test(test_EC_SSL_13_EC_SSL_15_client_cert_large_and_malformed),
        cmocka_unit_test(test_EC_SSL_14_R_SSL_08_utf8_cn),
        cmocka_unit_test(test_A_15_duplicate_ssl_subtype),
        cmocka_unit_test(test_haproxy_send_proxy_v2_ssl_cn),
        cmocka_unit_test(test_haproxy_self_signed_client),
        cmocka_unit_test(test_haproxy_all_options_182_bytes),
    };
    return cmocka_run_group_tests_name("proxy_tlv", tests, NULL, NULL);
}
