/* lib/proxy CRC32C: the Castagnoli check value, both implementations (SSE4.2 and table)
 * against each other, the zeroed-field header CRC, the Appendix A.3 vectors, HAProxy's
 * 182-byte header and every EC-C case (R-CRC-01..08). */
#include "test_proxy_helpers.h"

#include "proxy/parse_internal.h" /* pp_crc32c_table_only */

static uint8_t buf[70000];
static pp_header h;

static ssize_t parse_hex(const char *hex, const pp_options *o)
{
    size_t n = unhex(hex, buf, sizeof buf);
    return parse_checked(buf, n, o, &h);
}

#define A31_HEX SIG_HEX "21110013 7f000001 7f000001 002a 0539 030004 d3a55d3b"
#define A31_SWAPPED_HEX SIG_HEX "21110013 7f000001 7f000001 002a 0539 030004 3b5da5d3"
#define A32_HEX SIG_HEX "20000007 030004 a9b87e8f"
#define A33_HEX                                                                                    \
    SIG_HEX "21210035" "00000000000000000000000000000001" "00000000000000000000000000000001"        \
            "0001 0002" "040000" "030004 11a29f90" "010004 6d717474"

static void test_R_CRC_01_check_value(void **state)
{
    (void)state;
    assert_int_equal(pp_crc32c((const uint8_t *)"123456789", 9), 0xE3069283);
    assert_int_equal(pp_crc32c_table_only((const uint8_t *)"123456789", 9), 0xE3069283);
    assert_int_equal(pp_crc32c(NULL, 0), 0);
    /* RFC 3720 B.4: 32 bytes of zeros, of 0xff */
    uint8_t z[32];
    memset(z, 0, sizeof z);
    assert_int_equal(pp_crc32c(z, 32), 0x8A9136AA);
    memset(z, 0xff, sizeof z);
    assert_int_equal(pp_crc32c(z, 32), 0x62A8AB43);
}

static void test_R_CRC_05_hardware_and_table_agree(void **state)
{
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < 4096; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    /* every length up to 300 at every alignment 0..7, then a few long ones */
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len <= 300; len++)
            assert_int_equal(pp_crc32c(buf + off, len), pp_crc32c_table_only(buf + off, len));
    /* around the three-lane blocks of long inputs (768 bytes), and much longer */
    for (size_t off = 0; off < 3; off++)
        for (size_t len = 700; len <= 2400; len++)
            assert_int_equal(pp_crc32c(buf + off, len), pp_crc32c_table_only(buf + off, len));
    assert_int_equal(pp_crc32c(buf, 4096), pp_crc32c_table_only(buf, 4096));
}

static void test_R_CRC_05_header_crc_zeroes_the_field_without_copying(void **state)
{
    (void)state;
    static uint8_t copy[4096];
    for (size_t i = 0; i < sizeof copy; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    /* every hole position, across word and lane boundaries of every path */
    for (size_t len = 0; len <= 300; len += len < 40 ? 1 : 7) {
        for (size_t off = 0; off + 4 <= len; off++) {
            memcpy(copy, buf, len);
            memset(copy + off, 0, 4);
            assert_int_equal(pp_crc32c_header(buf, len, off), pp_crc32c_table_only(copy, len));
        }
    }
    assert_int_equal(pp_crc32c_header(buf, 10, 8), pp_crc32c(buf, 10)); /* no room: nothing zeroed */
    assert_int_equal(buf[0], 3); /* the input is never written */
    /* a hole inside the long and short three-lane blocks */
    for (size_t i = 0; i < 4096; i++)
        buf[i] = (uint8_t)(i * 13 + 1);
    const size_t holes[] = {0, 5, 47, 140, 143, 255, 256, 510, 767, 800, 2000, 4092};
    for (size_t k = 0; k < sizeof holes / sizeof holes[0]; k++) {
        memcpy(copy, buf, 4096);
        memset(copy + holes[k], 0, 4);
        assert_int_equal(pp_crc32c_header(buf, 4096, holes[k]), pp_crc32c_table_only(copy, 4096));
        size_t off = holes[k] % 996;
        memcpy(copy, buf, 1000);
        memset(copy + off, 0, 4);
        assert_int_equal(pp_crc32c_header(buf, 1000, off), pp_crc32c_table_only(copy, 1000));
    }
}

static void test_EC_C_01_R_CRC_06_a31_tcp4_crc_last(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(A31_HEX, NULL), 35);
    assert_true(h.crc_present);
    assert_true(h.crc_ok);
    uint32_t v;
    assert_true(pp_get_crc32c(&h, &v));
    assert_int_equal(v, 0xD3A55D3B);
    assert_int_equal(h.idx.crc32c, 28);
    assert_int_equal(pp_crc32c_header(buf, 35, 31), 0xD3A55D3B);
}

static void test_EC_C_02_R_CRC_07_a32_local_unspec(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(A32_HEX, NULL), 23);
    assert_true(h.crc_ok);
    assert_false(h.use_carried);
}

static void test_EC_C_03_a33_crc_in_the_middle(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(A33_HEX, NULL), 69);
    assert_true(h.crc_ok);
    pp_bytes alpn;
    assert_true(pp_get_alpn(&h, &alpn));
    assert_int_equal(alpn.len, 4);
}

static void test_EC_C_04_R_CRC_06_one_bit_flipped(void **state)
{
    (void)state;
    size_t n = unhex(A31_HEX, buf, sizeof buf);
    for (int bit = 0; bit < 32; bit++) {
        buf[31 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_pp_result(parse_checked(buf, n, NULL, &h), PP_ERR_CRC_MISMATCH);
        buf[31 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    assert_pp_result(parse_checked(buf, n, NULL, &h), 35);
}

static void test_EC_C_05_covered_byte_changed(void **state)
{
    (void)state;
    size_t n = unhex(A31_HEX, buf, sizeof buf);
    for (size_t i = 16; i < 28; i++) { /* every address and port byte */
        buf[i] ^= 0x40;
        assert_pp_result(parse_checked(buf, n, NULL, &h), PP_ERR_CRC_MISMATCH);
        buf[i] ^= 0x40;
    }
}

static void test_EC_C_06_A_10_little_endian_crc(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(A31_SWAPPED_HEX, NULL), PP_ERR_CRC_MISMATCH);
}

static void test_EC_C_07_R_CRC_01_bad_lengths(void **state)
{
    (void)state;
    const char *bad[] = {SIG_HEX "2111000f 7f000001 7f000001 002a 0539 030000",
                         SIG_HEX "21110012 7f000001 7f000001 002a 0539 030003 d3a55d",
                         SIG_HEX "21110014 7f000001 7f000001 002a 0539 030005 d3a55d3b00",
                         SIG_HEX "21110017 7f000001 7f000001 002a 0539 030008 d3a55d3bd3a55d3b"};
    for (size_t i = 0; i < 4; i++)
        assert_pp_result(parse_hex(bad[i], NULL), PP_ERR_CRC_BAD_LENGTH);
}

static void test_EC_C_08_A_15_two_crc_tlvs(void **state)
{
    (void)state;
    /* both values computed with both fields zeroed */
    size_t n = unhex(SIG_HEX "2111001a 7f000001 7f000001 002a 0539 030004 00000000 030004 00000000", buf, sizeof buf);
    uint32_t crc = pp_crc32c(buf, n);
    for (int k = 0; k < 2; k++)
        for (int b = 0; b < 4; b++)
            buf[31 + 7 * k + b] = (uint8_t)(crc >> (24 - 8 * b));
    assert_pp_result(parse_checked(buf, n, NULL, &h), PP_ERR_TLV_DUPLICATE);
    /* allowed: the first is checked with only its own field zeroed, as HAProxy does: fails */
    const pp_options allow = {.allow_tlv_duplicates = true};
    assert_pp_result(parse_checked(buf, n, &allow, &h), PP_ERR_CRC_MISMATCH);
}

static void test_EC_C_09_payload_not_covered(void **state)
{
    (void)state;
    size_t n = unhex(A31_HEX "100c00044d5154540402003c0000", buf, sizeof buf);
    assert_pp_result(parse_checked(buf, n, NULL, &h), 35);
    buf[40] ^= 0xFF;
    assert_pp_result(parse_checked(buf, n, NULL, &h), 35);
}

static void test_EC_C_10_R_CRC_08_receiver_without_crc_support(void **state)
{
    (void)state;
    const pp_options skip = {.skip_crc32c = true};
    assert_pp_result(parse_hex(A31_SWAPPED_HEX, &skip), 35);
    assert_true(h.crc_present);
    assert_false(h.crc_ok); /* not verified */
    assert_pp_result(parse_hex(SIG_HEX "21110014 7f000001 7f000001 002a 0539 030005 d3a55d3b00", &skip), 36);
}

static void test_EC_C_11_builder_crc_verifies(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_build_tlv tlvs[3];
    tlvs[0] = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
    tlvs[0].crc_auto = true;
    tlvs[1] = PP_BUILD_TLV(PP_TLV_ALPN, (const uint8_t *)"mqtt", 4);
    tlvs[2] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"broker.example", 14);
    for (size_t ntlvs = 1; ntlvs <= 3; ntlvs++) {
        s.tlvs = tlvs;
        s.ntlvs = ntlvs;
        ssize_t n = pp_build(&s, buf, sizeof buf);
        assert_true(n > 0);
        assert_pp_result(parse_checked(buf, (size_t)n, NULL, &h), n);
        assert_true(h.crc_present && h.crc_ok);
    }
}

static void test_R_CRC_05_required_by_policy(void **state)
{
    (void)state;
    const pp_options req = {.require_crc32c = true};
    assert_pp_result(parse_hex(A31_HEX, &req), 35);
    assert_pp_result(parse_hex(SIG_HEX "2111000c 7f000001 7f000001 002a 0539", &req), PP_ERR_CRC_MISSING);
    const pp_options req_skip = {.require_crc32c = true, .skip_tlvs = true};
    assert_pp_result(parse_hex(A31_HEX, &req_skip), PP_ERR_CRC_MISSING); /* an unread CRC proves nothing */
}

static void test_haproxy_all_options_crc(void **state)
{
    (void)state;
    assert_pp_result(parse_hex(HAPROXY_V2_ALL_OPTIONS_HEX, NULL), 182);
    assert_true(h.crc_ok);
    assert_int_equal(pp_crc32c_header(buf, 182, 31), 0x3496417d);
    buf[100] ^= 1;
    assert_pp_result(parse_checked(buf, 182, NULL, &h), PP_ERR_CRC_MISMATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_CRC_01_check_value),
        cmocka_unit_test(test_R_CRC_05_hardware_and_table_agree),
        cmocka_unit_test(test_R_CRC_05_header_crc_zeroes_the_field_without_copying),
        cmocka_unit_test(test_EC_C_01_R_CRC_06_a31_tcp4_crc_last),
        cmocka_unit_test(test_EC_C_02_R_CRC_07_a32_local_unspec),
        cmocka_unit_test(test_EC_C_03_a33_crc_in_the_middle),
        cmocka_unit_test(test_EC_C_04_R_CRC_06_one_bit_flipped),
        cmocka_unit_test(test_EC_C_05_covered_byte_changed),
        cmocka_unit_test(test_EC_C_06_A_10_little_endian_crc),
        cmocka_unit_test(test_EC_C_07_R_CRC_01_bad_lengths),
        cmocka_unit_test(test_EC_C_08_A_15_two_crc_tlvs),
        cmocka_unit_test(test_EC_C_09_payload_not_covered),
        cmocka_unit_test(test_EC_C_10_R_CRC_08_receiver_without_crc_support),
        cmocka_unit_test(test_EC_C_11_builder_crc_verifies),
        cmocka_unit_test(test_R_CRC_05_required_by_policy),
        cmocka_unit_test(test_haproxy_all_options_crc),
    };
    return cmocka_run_group_tests_name("proxy_crc32c", tests, NULL, NULL);
}
