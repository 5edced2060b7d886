/* lib/proxy parser, version 2 fixed header and address block: every R-V2 and R-DET rule and
 * EC-V2 edge case of shared/spec/requirements.md §1.3, §1.5 and §3.4, the HAProxy reg-test
 * vectors and HAProxy's real send-proxy-v2 bytes (shared/research/interop.md §1a). */
#include "test_proxy_helpers.h"

#define ADDR4 "7f000001" "7f000001" "002a" "0539" /* 127.0.0.1:42 -> 127.0.0.1:1337 */
#define ADDR6                                                                                      \
    "20010db8000000000000000000000001" "20010db8000000000000000000000002" "0001" "0002"

static uint8_t buf[70000];

static ssize_t parse_v2(uint8_t vc, uint8_t fam, const char *body, const pp_options *o, pp_header *h)
{
    size_t n = v2_header(buf, sizeof buf, vc, fam, body);
    return parse_checked(buf, n, o, h);
}

static void assert_v4(const pp_endpoint *ep, uint32_t addr, uint16_t port)
{
    uint8_t want[16] = {(uint8_t)(addr >> 24), (uint8_t)(addr >> 16), (uint8_t)(addr >> 8), (uint8_t)addr};
    assert_int_equal(ep->family, PP_FAM_INET);
    assert_memory_equal(ep->ip, want, 16);
    assert_int_equal(ep->port, port);
}

static void assert_no_address(const pp_header *h)
{
    static const pp_endpoint none;
    assert_false(h->use_carried);
    assert_int_equal(h->src.family, PP_FAM_UNSPEC);
    assert_int_equal(h->dst.family, PP_FAM_UNSPEC);
    assert_memory_equal(h->src.ip, none.ip, 16);
    assert_memory_equal(h->dst.ip, none.ip, 16);
    assert_null(h->src.unix_path);
}

/* ---- accepted headers ------------------------------------------------------------------- */

static void test_EC_V2_01_R_V2_16_R_V2_21_reg_test_tcp4(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x11, ADDR4, NULL, &h), 28);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.command, PP_CMD_PROXY);
    assert_int_equal(h.family, PP_FAM_INET);
    assert_int_equal(h.transport, PP_TRANS_STREAM);
    assert_int_equal(h.ver_cmd, 0x21);
    assert_int_equal(h.fam_byte, 0x11);
    assert_true(h.use_carried);
    assert_v4(&h.src, 0x7f000001, 42);
    assert_v4(&h.dst, 0x7f000001, 1337);
    assert_int_equal(h.header_len, 28);
    assert_ptr_equal(h.raw, buf);
    assert_ptr_equal(h.tlvs.ptr, buf + 28);
    assert_int_equal(h.tlvs.len, 0);
    assert_int_equal(h.tlv_count, 0);
    assert_false(h.crc_present);
}

static void test_EC_V2_02_R_V2_17_R_V2_30_tcp6(void **state)
{
    (void)state;
    pp_header h;
    uint8_t want_src[16], want_dst[16];
    unhex("20010db8000000000000000000000001", want_src, 16);
    unhex("20010db8000000000000000000000002", want_dst, 16);
    assert_pp_result(parse_v2(0x21, 0x21, ADDR6, NULL, &h), 52);
    assert_int_equal(h.family, PP_FAM_INET6);
    assert_int_equal(h.src.family, PP_FAM_INET6);
    assert_memory_equal(h.src.ip, want_src, 16);
    assert_memory_equal(h.dst.ip, want_dst, 16);
    assert_int_equal(h.src.port, 1);
    assert_int_equal(h.dst.port, 2);
    assert_ptr_equal(h.tlvs.ptr, buf + 52);
}

static void test_EC_V2_03_A_18_dgram_used_or_refused_by_policy(void **state)
{
    (void)state;
    pp_header h;
    const pp_options no_dgram = {.reject_dgram = true};
    assert_pp_result(parse_v2(0x21, 0x12, ADDR4 "aa", NULL, &h), PP_ERR_TLV_FRAGMENT); /* len covers 1 extra */
    assert_pp_result(parse_v2(0x21, 0x12, ADDR4, NULL, &h), 28);
    assert_true(h.use_carried);
    assert_int_equal(h.transport, PP_TRANS_DGRAM);
    assert_v4(&h.src, 0x7f000001, 42);
    assert_pp_result(parse_v2(0x21, 0x22, ADDR6, NULL, &h), 52);
    assert_true(h.use_carried);
    assert_pp_result(parse_v2(0x21, 0x12, ADDR4, &no_dgram, &h), PP_ERR_V2_DGRAM_REJECTED);
    assert_pp_result(parse_v2(0x21, 0x22, ADDR6, &no_dgram, &h), PP_ERR_V2_DGRAM_REJECTED);
    assert_pp_result(parse_v2(0x21, 0x32, "", &no_dgram, &h), PP_ERR_V2_DGRAM_REJECTED);
    /* LOCAL ignores the family, the policy included */
    assert_pp_result(parse_v2(0x20, 0x12, ADDR4, &no_dgram, &h), 28);
}

/* 216-byte UNIX block from two paths (NUL-padded), as hex. */
static void unix_block(char *hex, const char *a, const char *b)
{
    char *p = hex;
    for (int side = 0; side < 2; side++) {
        const char *s = side ? b : a;
        for (size_t i = 0; i < PP_UNIX_PATH_LEN; i++)
            p += sprintf(p, "%02x", i < strlen(s) ? (unsigned char)s[i] : 0);
    }
    *p = '\0';
}

static void test_EC_V2_04_R_V2_18_unix_paths(void **state)
{
    (void)state;
    static char hex[2 * 216 + 1 + 32];
    unix_block(hex, "/run/a.sock", "/run/b.sock");
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x31, hex, NULL, &h), 232);
    assert_true(h.use_carried);
    assert_int_equal(h.src.family, PP_FAM_UNIX);
    assert_ptr_equal(h.src.unix_path, buf + 16);
    assert_ptr_equal(h.dst.unix_path, buf + 16 + 108);
    assert_string_equal((const char *)h.src.unix_path, "/run/a.sock");
    char text[600];
    assert_string_equal(pp_endpoint_addr_str(&h.dst, text, sizeof text), "/run/b.sock");
    assert_ptr_equal(h.tlvs.ptr, buf + 232); /* exactly 216 bytes skipped (R-V2-28) */
    assert_pp_result(parse_v2(0x21, 0x32, hex, NULL, &h), 232);
    assert_int_equal(h.transport, PP_TRANS_DGRAM);
}

static void test_EC_V2_05_A_07_unix_path_without_nul(void **state)
{
    (void)state;
    static char hex[2 * 216 + 1];
    char path[109];
    memset(path, 'p', 108);
    path[108] = '\0';
    unix_block(hex, path, path);
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x31, hex, NULL, &h), 232);
    char text[600];
    pp_endpoint_addr_str(&h.src, text, sizeof text);
    assert_int_equal(strlen(text), 108); /* the 108 bytes, not one byte more */
    pp_endpoint_addr_str(&h.src, text, 10);  /* a short buffer is cut, never overrun */
    assert_int_equal(strlen(text), 9);
}

static void test_EC_V2_06_A_07_abstract_and_empty_unix_paths(void **state)
{
    (void)state;
    static char hex[2 * 216 + 1];
    char abstract[12] = "\0hidden";
    unix_block(hex, "", "");
    memcpy(hex, "00", 2);
    /* src: leading NUL then "hidden" */
    for (int i = 1; i < 7; i++)
        sprintf(hex + 2 * i, "%02x", (unsigned char)abstract[i]);
    hex[14] = '0'; /* sprintf wrote a NUL at hex[14]: restore the digit */
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x31, hex, NULL, &h), 232);
    char text[600];
    assert_string_equal(pp_endpoint_addr_str(&h.src, text, sizeof text), "@hidden");
    assert_string_equal(pp_endpoint_addr_str(&h.dst, text, sizeof text), ""); /* all zeros */
}

static void test_EC_V2_07_R_V2_23_local_unspec_health_check(void **state)
{
    (void)state;
    pp_header h;
    uint8_t b[16];
    assert_int_equal(unhex(HAPROXY_V2_LOCAL_HEX, b, sizeof b), 16);
    assert_pp_result(parse_checked(b, 16, NULL, &h), 16);
    assert_int_equal(h.command, PP_CMD_LOCAL);
    assert_no_address(&h); /* R-V2-07: the real endpoints */
}

static void test_EC_V2_08_R_V2_28_local_with_address_block_aws_nlb(void **state)
{
    (void)state;
    pp_header h;
    /* EC-S-11 too: forged 203.0.113.7 must never be used */
    size_t n = v2_header(buf, sizeof buf, 0x20, 0x11, "cb007107 7f000001 9c40 075b");
    memcpy(buf + n, "\x10\x0c", 2); /* CONNECT follows */
    assert_pp_result(parse_checked(buf, n + 2, NULL, &h), 28);
    assert_no_address(&h);
    assert_int_equal(h.family, PP_FAM_INET); /* as announced, for logs (R-V2-29) */
    /* the announced block is skipped, not read as TLVs */
    assert_ptr_equal(h.tlvs.ptr, buf + 28);
    assert_int_equal(h.tlvs.len, 0);
    assert_int_equal(h.tlv_count, 0);
}

static void test_EC_V2_09_R_TLV_02_local_tcp6_block_then_tlvs(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x20, 0x21, ADDR6 "010004 6d717474", NULL, &h), 59);
    assert_no_address(&h);
    assert_ptr_equal(h.tlvs.ptr, buf + 52);
    assert_int_equal(h.tlv_count, 1);
    pp_bytes alpn;
    assert_true(pp_get_alpn(&h, &alpn));
    assert_memory_equal(alpn.ptr, "mqtt", 4);
}

static void test_EC_V2_10_A_06_local_unspec_with_tlvs_only(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x20, 0x00, "010004 6d717474 040000", NULL, &h), 26);
    assert_no_address(&h);
    assert_ptr_equal(h.tlvs.ptr, buf + 16);
    assert_int_equal(h.tlv_count, 2);
}

static void test_EC_V2_11_A_04_local_with_invalid_family(void **state)
{
    (void)state;
    pp_header h;
    const pp_options strict_local = {.reject_local_bad_family = true};
    assert_pp_result(parse_v2(0x20, 0x40, "", NULL, &h), 16);
    assert_no_address(&h);
    assert_pp_result(parse_v2(0x20, 0xF3, "", NULL, &h), 16);
    /* an invalid family has no block, so what follows byte 16 is TLVs (here malformed) */
    assert_pp_result(parse_v2(0x20, 0x13, ADDR4, NULL, &h), PP_ERR_TLV_OVERRUN);
    assert_pp_result(parse_v2(0x20, 0x40, "", &strict_local, &h), PP_ERR_V2_BAD_FAMILY);
    assert_pp_result(parse_v2(0x20, 0xF3, "", &strict_local, &h), PP_ERR_V2_BAD_FAMILY);
    assert_pp_result(parse_v2(0x20, 0x13, "", &strict_local, &h), PP_ERR_V2_BAD_TRANSPORT);
}

static void test_EC_V2_12_R_V2_24_R_V2_15_proxy_unspec(void **state)
{
    (void)state;
    pp_header h;
    const pp_options strict = {.reject_unspec_proxy = true};
    const pp_options skip = {.skip_tlvs = true};
    assert_pp_result(parse_v2(0x21, 0x00, "", NULL, &h), 16);
    assert_no_address(&h); /* accepted with the real endpoints */
    assert_pp_result(parse_v2(0x21, 0x00, "", &strict, &h), PP_ERR_V2_UNSPEC_REJECTED);
    /* with 12 garbage bytes: they are TLVs after a 0-byte block, here malformed ... */
    assert_pp_result(parse_v2(0x21, 0x00, ADDR4, NULL, &h), PP_ERR_TLV_OVERRUN);
    /* ... and when TLVs are skipped, accepted without ever using them as an address */
    assert_pp_result(parse_v2(0x21, 0x00, ADDR4, &skip, &h), 28);
    assert_no_address(&h);
}

static void test_EC_V2_13_R_V2_03_version_nibble(void **state)
{
    (void)state;
    const uint8_t bad[] = {0x01, 0x11, 0x31, 0xF1, 0x00, 0x02, 0x10};
    for (size_t i = 0; i < sizeof bad; i++) {
        pp_header h;
        assert_pp_result(parse_v2(bad[i], 0x11, ADDR4, NULL, &h), PP_ERR_V2_BAD_VERSION);
        /* refused on byte 13 itself */
        assert_pp_result(parse_checked(buf, 13, NULL, &h), PP_ERR_V2_BAD_VERSION);
    }
}

static void test_EC_V2_14_R_V2_06_command_nibble(void **state)
{
    (void)state;
    for (unsigned c = 2; c <= 0xF; c++) {
        pp_header h;
        assert_pp_result(parse_v2((uint8_t)(0x20 | c), 0x11, ADDR4, NULL, &h), PP_ERR_V2_BAD_COMMAND);
        assert_pp_result(parse_checked(buf, 13, NULL, &h), PP_ERR_V2_BAD_COMMAND);
    }
}

static void test_EC_V2_15_R_V2_13_family_nibble(void **state)
{
    (void)state;
    for (unsigned f = 4; f <= 0xF; f++) {
        pp_header h;
        assert_pp_result(parse_v2(0x21, (uint8_t)(f << 4 | 1), ADDR4, NULL, &h), PP_ERR_V2_BAD_FAMILY);
        assert_pp_result(parse_checked(buf, 14, NULL, &h), PP_ERR_V2_BAD_FAMILY);
    }
}

static void test_EC_V2_16_R_V2_20_transport_nibble(void **state)
{
    (void)state;
    const uint8_t bad[] = {0x13, 0x1F, 0x23, 0x03, 0x33};
    for (size_t i = 0; i < sizeof bad; i++) {
        pp_header h;
        assert_pp_result(parse_v2(0x21, bad[i], ADDR4, NULL, &h), PP_ERR_V2_BAD_TRANSPORT);
        assert_pp_result(parse_checked(buf, 14, NULL, &h), PP_ERR_V2_BAD_TRANSPORT);
    }
}

static void test_EC_V2_17_A_08_R_V2_25_undefined_combinations(void **state)
{
    (void)state;
    const pp_options strict = {.reject_unspec_proxy = true};
    /* family nibble only (no transport): the family's block is still skipped */
    const struct { uint8_t fam; const char *body; size_t len; } combos[] = {
        {0x01, "", 16}, {0x02, "", 16}, {0x10, ADDR4, 28}, {0x20, ADDR6, 52}, {0x30, NULL, 232},
    };
    static char unix_hex[2 * 216 + 1];
    unix_block(unix_hex, "/a", "/b");
    for (size_t i = 0; i < sizeof combos / sizeof combos[0]; i++) {
        pp_header h;
        const char *body = combos[i].body ? combos[i].body : unix_hex;
        assert_pp_result(parse_v2(0x21, combos[i].fam, body, NULL, &h), (ssize_t)combos[i].len);
        assert_no_address(&h); /* never the address bytes (R-V2-25 fallback) */
        assert_int_equal(h.fam_byte, combos[i].fam);
        assert_pp_result(parse_v2(0x21, combos[i].fam, body, &strict, &h), PP_ERR_V2_UNSPEC_REJECTED);
        assert_pp_result(parse_checked(buf, 14, &strict, &h), PP_ERR_V2_UNSPEC_REJECTED);
    }
}

static void test_EC_V2_18_R_V2_01_each_signature_byte(void **state)
{
    (void)state;
    for (size_t i = 0; i < PP_V2_SIG_LEN; i++) {
        size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
        buf[i] = i == 4 ? 0x20 : (uint8_t)(buf[i] ^ 0x01);
        pp_header h;
        ssize_t want = i == 0 ? PP_ERR_NOT_PROXY : PP_ERR_V2_BAD_SIGNATURE;
        assert_pp_result(parse_checked(buf, n, NULL, &h), want);
        /* refused on the corrupted byte itself, and "need more" just before it */
        assert_pp_result(parse_checked(buf, i + 1, NULL, &h), want);
        if (i > 0)
            assert_pp_result(parse_checked(buf, i, NULL, &h), PP_NEED_MORE);
    }
}

static void test_EC_V2_19_R_DET_02_A_03_version_nibble_is_masked(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x11, ADDR4, NULL, &h), 28); /* 0x21, not just the 0x20 of §2.2 */
    assert_pp_result(parse_v2(0x20, 0x11, ADDR4, NULL, &h), 28);
}

static void test_EC_V2_20_R_V2_36_length_too_small(void **state)
{
    (void)state;
    const struct { uint8_t fam; uint16_t len; } bad[] = {
        {0x11, 0}, {0x11, 11}, {0x12, 11}, {0x21, 12}, {0x21, 35}, {0x22, 0}, {0x31, 215}, {0x32, 12}, {0x10, 11},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v2_header(buf, sizeof buf, 0x21, bad[i].fam, "");
        buf[14] = (uint8_t)(bad[i].len >> 8);
        buf[15] = (uint8_t)bad[i].len;
        pp_header h;
        /* known from the 16 fixed bytes: no need to wait for the block */
        assert_pp_result(parse_checked(buf, 16, NULL, &h), PP_ERR_V2_LENGTH_TOO_SMALL);
    }
    /* LOCAL ignores the family (R-V2-07): a short block is skipped by len, not refused */
    pp_header h;
    assert_pp_result(parse_v2(0x20, 0x11, "", NULL, &h), 16);
    assert_pp_result(parse_v2(0x20, 0x21, "0102030405", NULL, &h), 21);
    assert_int_equal(h.tlvs.len, 0);
}

static void test_EC_V2_21_R_V2_26_little_endian_length(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    buf[14] = 0x0C;
    buf[15] = 0x00; /* 3072, big-endian */
    pp_header h;
    assert_pp_result(parse_checked(buf, n, NULL, &h), PP_NEED_MORE); /* never parsed as len 12 */
    const pp_options small = {.max_header = 1024};
    assert_pp_result(parse_checked(buf, n, &small, &h), PP_ERR_TOO_LARGE);
}

static void test_EC_V2_22_R_V2_21_port_byte_order(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x11, "c0000201 c6336402 0000 ffff", NULL, &h), 28);
    assert_v4(&h.src, 0xc0000201, 0);
    assert_v4(&h.dst, 0xc6336402, 65535);
    assert_pp_result(parse_v2(0x21, 0x11, ADDR4, NULL, &h), 28);
    assert_int_equal(h.src.port, 42); /* 00 2A, not 10752 */
}

static void test_EC_V2_23_mapped_ipv6_block(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x21, "00000000000000000000ffffc0000201 00000000000000000000000000000001 0050 01bb",
                              NULL, &h),
                     52);
    assert_int_equal(h.src.family, PP_FAM_INET6); /* kept as IPv6, as carried */
    char text[64];
    assert_string_equal(pp_endpoint_addr_str(&h.src, text, sizeof text), "::ffff:192.0.2.1");
}

static void test_EC_V2_24_A_02_largest_header(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    /* one NOOP filling len = 65535: 12 + 3 + 65520 */
    buf[n] = PP_TLV_NOOP;
    buf[n + 1] = (uint8_t)(65520 >> 8);
    buf[n + 2] = (uint8_t)(65520 & 0xFF);
    memset(buf + n + 3, 0xEE, 65520);
    buf[14] = buf[15] = 0xFF;
    pp_header h;
    assert_pp_result(parse_checked(buf, PP_V2_MAX_LEN, NULL, &h), PP_V2_MAX_LEN);
    assert_int_equal(h.header_len, 65551);
    assert_int_equal(h.tlv_count, 1);
    assert_pp_result(parse_checked(buf, PP_V2_MAX_LEN - 1, NULL, &h), PP_NEED_MORE);
    const pp_options limited = {.max_header = 4096};
    assert_pp_result(parse_checked(buf, 16, &limited, &h), PP_ERR_TOO_LARGE);
}

static void test_EC_V2_25_R_DET_02_partial_start_waits(void **state)
{
    (void)state;
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    assert_int_equal(n, 28);
    for (size_t k = 1; k < 28; k++) {
        pp_header h;
        assert_pp_result(parse_checked(buf, k, NULL, &h), PP_NEED_MORE);
    }
}

static void test_EC_V2_26_R_V2_37_bytes_after_header_are_payload(void **state)
{
    (void)state;
    /* A.4: data after the header that looks like a TLV is application data */
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4 "0200053132333435");
    memcpy(buf + n, "\x02\x00\x05" "12345", 8);
    pp_header h;
    assert_pp_result(parse_checked(buf, n + 8, NULL, &h), (ssize_t)n);
    assert_int_equal(h.tlv_count, 1);
    /* EC-F-13: a second header right after is payload too */
    n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    v2_header(buf + n, sizeof buf - n, 0x21, 0x11, "01020304 05060708 0001 0002");
    assert_pp_result(parse_checked(buf, 2 * n, NULL, &h), 28);
    assert_v4(&h.src, 0x7f000001, 42);
}

static void test_EC_V2_27_R_V2_04_builder_local_parses(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.command = PP_CMD_LOCAL;
    s.family = PP_FAM_UNSPEC;
    s.transport = PP_TRANS_UNSPEC;
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 16);
    pp_header h;
    assert_pp_result(parse_checked(buf, 16, NULL, &h), 16);
    assert_int_equal(h.ver_cmd, 0x20);
    assert_int_equal(h.fam_byte, 0x00);
}

static void test_EC_V2_28_R_V2_26_builder_length_is_exact(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.family = PP_FAM_INET6;
    s.src.family = s.dst.family = PP_FAM_INET6;
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(n, 52);
    assert_int_equal(buf[14] << 8 | buf[15], 36);
    pp_header h;
    assert_pp_result(parse_checked(buf, (size_t)n, NULL, &h), 52);
}

static void test_R_V2_10_R_V2_11_R_V2_19_R_V2_22_family_bytes_and_blocks(void **state)
{
    (void)state;
    static char unix_hex[2 * 216 + 1];
    unix_block(unix_hex, "/x", "/y");
    const struct { uint8_t fam; const char *body; uint8_t family, transport; size_t block; } rows[] = {
        {0x00, "", PP_FAM_UNSPEC, PP_TRANS_UNSPEC, 0},  {0x11, ADDR4, PP_FAM_INET, PP_TRANS_STREAM, 12},
        {0x12, ADDR4, PP_FAM_INET, PP_TRANS_DGRAM, 12}, {0x21, ADDR6, PP_FAM_INET6, PP_TRANS_STREAM, 36},
        {0x22, ADDR6, PP_FAM_INET6, PP_TRANS_DGRAM, 36}, {0x31, NULL, PP_FAM_UNIX, PP_TRANS_STREAM, 216},
        {0x32, NULL, PP_FAM_UNIX, PP_TRANS_DGRAM, 216},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        pp_header h;
        const char *body = rows[i].body ? rows[i].body : unix_hex;
        assert_pp_result(parse_v2(0x21, rows[i].fam, body, NULL, &h), (ssize_t)(16 + rows[i].block));
        assert_int_equal(h.family, rows[i].family);
        assert_int_equal(h.transport, rows[i].transport);
        assert_int_equal(h.use_carried, rows[i].fam != 0x00);
        assert_ptr_equal(h.tlvs.ptr, buf + 16 + rows[i].block);
    }
}

static void test_R_V2_09_R_V2_07_R_V2_29_proxy_uses_local_ignores(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x11, ADDR4, NULL, &h), 28);
    assert_true(h.use_carried);
    assert_pp_result(parse_v2(0x20, 0x11, ADDR4, NULL, &h), 28);
    assert_no_address(&h);
}

static void test_R_V2_33_R_V2_32_no_address_before_whole_header(void **state)
{
    (void)state;
    /* parse_checked asserts that out stays untouched for every "need more" */
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x21, ADDR6 "0400020000");
    for (size_t k = 0; k < n; k++) {
        pp_header h;
        assert_pp_result(parse_checked(buf, k, NULL, &h), PP_NEED_MORE);
    }
    pp_header h;
    assert_pp_result(parse_checked(buf, n, NULL, &h), (ssize_t)n); /* and then in one go */
}

static void test_R_V2_34_A_01_truncated_header_is_for_the_caller(void **state)
{
    (void)state;
    /* EC-F-08: len 12 with 6 address bytes, then EOF: the parser can only say "need more";
     * the caller turns EOF into header.truncated */
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    pp_header h;
    assert_pp_result(parse_checked(buf, n - 6, NULL, &h), PP_NEED_MORE);
    assert_string_equal(pp_error_name(PP_ERR_TRUNCATED), "header.truncated");
    (void)n;
}

static void test_R_V2_35_skip_tlvs_leaves_area_unparsed(void **state)
{
    (void)state;
    const pp_options skip = {.skip_tlvs = true};
    pp_header h;
    assert_pp_result(parse_v2(0x21, 0x11, ADDR4 "ff0fff 01", &skip, &h), 32); /* garbage */
    assert_int_equal(h.tlvs.len, 4);
    assert_int_equal(h.tlv_count, 0);
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, &h);
    assert_false(pp_tlv_next(&it, &t)); /* nothing was parsed, nothing is offered */
    pp_bytes v;
    assert_false(pp_tlv_find(&h, 0xff, &v));
}

static void test_R_DET_04_R_DET_06_non_proxy_first_bytes(void **state)
{
    (void)state;
    pp_header h;
    uint8_t b[32];
    /* A.2: MQTT 3.1.1 and 5 CONNECT, TLS ClientHello, HTTP: refused on byte 1 (EC-S-01..05) */
    size_t n = unhex("100c00044d5154540402003c0000", b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), PP_ERR_NOT_PROXY);
    assert_pp_result(parse_checked(b, 1, NULL, &h), PP_ERR_NOT_PROXY);
    n = unhex("100d00044d5154540502003c000000", b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), PP_ERR_NOT_PROXY);
    n = unhex("160301020001", b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), PP_ERR_NOT_PROXY);
    assert_text_error("GET / HTTP/1.1\r\n", NULL, PP_ERR_NOT_PROXY);
    /* R-DET-06: the NUL at signature byte 5 is just a byte */
    n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    assert_int_equal(buf[4], 0x00);
    assert_pp_result(parse_checked(buf, n, NULL, &h), 28);
}

static void test_R_DET_01_v2_on_a_v1_only_listener(void **state)
{
    (void)state;
    const pp_options v1_only = {.versions = PP_ALLOW_V1};
    const pp_options both = {.versions = PP_ALLOW_V1 | PP_ALLOW_V2};
    size_t n = v2_header(buf, sizeof buf, 0x21, 0x11, ADDR4);
    pp_header h;
    assert_pp_result(parse_checked(buf, n, &v1_only, &h), PP_ERR_VERSION_NOT_ALLOWED);
    assert_pp_result(parse_checked(buf, 1, &v1_only, &h), PP_ERR_VERSION_NOT_ALLOWED);
    assert_pp_result(parse_checked(buf, n, &both, &h), 28); /* EC-S-08 */
}

static void test_haproxy_send_proxy_v2_capture(void **state)
{
    (void)state;
    pp_header h;
    uint8_t b[300];
    size_t n = unhex(HAPROXY_V2_TCP4_HEX "68656c6c6f", b, sizeof b); /* + "hello" */
    assert_pp_result(parse_checked(b, n, NULL, &h), 28);
    assert_v4(&h.src, 0x7f000001, 53670);
    assert_v4(&h.dst, 0x7f000001, 18833);
    assert_memory_equal(b + 28, "hello", 5);
    assert_int_equal(h.tlv_count, 0); /* no TLVs without proxy-v2-options */
    n = unhex(SIG_HEX "21210024" "00000000000000000000000000000001" "00000000000000000000000000000001"
                      "d8d24991",
              b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), 52);
    assert_int_equal(h.src.port, 0xd8d2);
    /* unix-socket client and health check: LOCAL/UNSPEC, length 0 */
    n = unhex(HAPROXY_V2_LOCAL_HEX, b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), 16);
    assert_no_address(&h);
}

static void test_describe_v2_header(void **state)
{
    (void)state;
    pp_header h;
    uint8_t b[300];
    size_t n = unhex(HAPROXY_V2_ALL_OPTIONS_HEX, b, sizeof b);
    assert_pp_result(parse_checked(b, n, NULL, &h), 182);
    char text[4096];
    size_t w = pp_header_describe(&h, text, sizeof text);
    assert_int_equal(w, strlen(text));
    assert_non_null(strstr(text, "command:     PROXY (0x21)"));
    assert_non_null(strstr(text, "source:      127.0.0.1 port 57322"));
    assert_non_null(strstr(text, "destination: 127.0.0.1 port 18835"));
    assert_non_null(strstr(text, "0x3496417d (verified)"));
    assert_non_null(strstr(text, "\"broker.example\""));
    assert_non_null(strstr(text, "0x22 CN          len 5     \"alice\""));
    /* bounded: a small buffer is cut and NUL-terminated */
    char small[20];
    w = pp_header_describe(&h, small, sizeof small);
    assert_int_equal(w, 19);
    assert_int_equal(strlen(small), 19);
    assert_int_equal(pp_header_describe(&h, small, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_V2_01_R_V2_16_R_V2_21_reg_test_tcp4),
        cmocka_unit_test(test_EC_V2_02_R_V2_17_R_V2_30_tcp6),
        cmocka_unit_test(test_EC_V2_03_A_18_dgram_used_or_refused_by_policy),
        cmocka_unit_test(test_EC_V2_04_R_V2_18_unix_paths),
        cmocka_unit_test(test_EC_V2_05_A_07_unix_path_without_nul),
        cmocka_unit_test(test_EC_V2_06_A_07_abstract_and_empty_unix_paths),
        cmocka_unit_test(test_EC_V2_07_R_V2_23_local_unspec_health_check),
        cmocka_unit_test(test_EC_V2_08_R_V2_28_local_with_address_block_aws_nlb),
        cmocka_unit_test(test_EC_V2_09_R_TLV_02_local_tcp6_block_then_tlvs),
        cmocka_unit_test(test_EC_V2_10_A_06_local_unspec_with_tlvs_only),
        cmocka_unit_test(test_EC_V2_11_A_04_local_with_invalid_family),
        cmocka_unit_test(test_EC_V2_12_R_V2_24_R_V2_15_proxy_unspec),
        cmocka_unit_test(test_EC_V2_13_R_V2_03_version_nibble),
        cmocka_unit_test(test_EC_V2_14_R_V2_06_command_nibble),
        cmocka_unit_test(test_EC_V2_15_R_V2_13_family_nibble),
        cmocka_unit_test(test_EC_V2_16_R_V2_20_transport_nibble),
        cmocka_unit_test(test_EC_V2_17_A_08_R_V2_25_undefined_combinations),
        cmocka_unit_test(test_EC_V2_18_R_V2_01_each_signature_byte),
        cmocka_unit_test(test_EC_V2_19_R_DET_02_A_03_version_nibble_is_masked),
        cmocka_unit_test(test_EC_V2_20_R_V2_36_length_too_small),
        cmocka_unit_test(test_EC_V2_21_R_V2_26_little_endian_length),
        cmocka_unit_test(test_EC_V2_22_R_V2_21_port_byte_order),
        cmocka_unit_test(test_EC_V2_23_mapped_ipv6_block),
        cmocka_unit_test(test_EC_V2_24_A_02_largest_header),
        cmocka_unit_test(test_EC_V2_25_R_DET_02_partial_start_waits),
        cmocka_unit_test(test_EC_V2_26_R_V2_37_bytes_after_header_are_payload),
        cmocka_unit_test(test_EC_V2_27_R_V2_04_builder_local_parses),
        cmocka_unit_test(test_EC_V2_28_R_V2_26_builder_length_is_exact),
        cmocka_unit_test(test_R_V2_10_R_V2_11_R_V2_19_R_V2_22_family_bytes_and_blocks),
        cmocka_unit_test(test_R_V2_09_R_V2_07_R_V2_29_proxy_uses_local_ignores),
        cmocka_unit_test(test_R_V2_33_R_V2_32_no_address_before_whole_header),
        cmocka_unit_test(test_R_V2_34_A_01_truncated_header_is_for_the_caller),
        cmocka_unit_test(test_R_V2_35_skip_tlvs_leaves_area_unparsed),
        cmocka_unit_test(test_R_DET_04_R_DET_06_non_proxy_first_bytes),
        cmocka_unit_test(test_R_DET_01_v2_on_a_v1_only_listener),
        cmocka_unit_test(test_haproxy_send_proxy_v2_capture),
        cmocka_unit_test(test_describe_v2_header),
    };
    return cmocka_run_group_tests_name("proxy_parse_v2", tests, NULL, NULL);
}
