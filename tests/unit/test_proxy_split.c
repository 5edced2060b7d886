/* lib/proxy parser over split input (R-GEN-10, R-V1-22, R-V1-24, R-V1-27, R-V2-32..34):
 * every valid vector is cut at every offset and fed byte by byte; every prefix must be
 * "need more" with out untouched, and the whole input must give the one-shot result. Every
 * invalid vector must fail at the earliest byte the grammar allows, and with the same error
 * for every longer input. Each prefix is parsed from an exact-size heap copy, so an
 * over-read is an ASan error. */
#include "test_proxy_helpers.h"

typedef struct vector {
    const char *name;
    const char *hex;  /* or NULL */
    const char *text; /* v1 lines */
    pp_options opts;
} vector;

#define UNIX_BLOCK_HEX /* "/run/a.sock" and "/run/b.sock", NUL-padded to 108 bytes each */ \
    "2f72756e2f612e736f636b00000000000000000000000000000000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "0000000000000000000000002f72756e2f622e736f636b00000000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000" \
    "000000000000000000000000000000000000000000000000"

static const vector valid[] = {
    {"A.1 47", NULL, "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", {0}},
    {"A.1 56", NULL, "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", {0}},
    {"A.1 104", NULL,
     "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", {0}},
    {"A.1 15", NULL, "PROXY UNKNOWN\r\n", {0}},
    {"A.1 107", NULL,
     "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n", {0}},
    {"HAProxy send-proxy", NULL, "PROXY TCP4 127.0.0.1 127.0.0.1 39892 18830\r\n", {0}},
    {"HAProxy send-proxy TCP6", NULL, "PROXY TCP6 ::1 ::1 51294 18830\r\n", {0}},
    {"HAProxy mapped", NULL, "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::1 1 65535\r\n", {0}},
    {"UNKNOWNxyz allowed", NULL, "PROXY UNKNOWNxyz\r\n", {.v1_allow_unknown_suffix = true}},
    {"HAProxy send-proxy-v2", HAPROXY_V2_TCP4_HEX, NULL, {0}},
    {"HAProxy send-proxy-v2 TCP6",
     SIG_HEX "21210024" "00000000000000000000000000000001" "00000000000000000000000000000001" "d8d24991", NULL, {0}},
    {"HAProxy LOCAL", HAPROXY_V2_LOCAL_HEX, NULL, {0}},
    {"HAProxy ssl-cn", HAPROXY_V2_SSL_CN_HEX, NULL, {0}},
    {"HAProxy no certificate", HAPROXY_V2_NO_CERT_HEX, NULL, {0}},
    {"HAProxy self-signed", HAPROXY_V2_SELF_SIGNED_HEX, NULL, {0}},
    {"HAProxy all options", HAPROXY_V2_ALL_OPTIONS_HEX, NULL, {0}},
    {"HAProxy all options, CRC required", HAPROXY_V2_ALL_OPTIONS_HEX, NULL, {.require_crc32c = true}},
    {"A.3.1", SIG_HEX "21110013 7f000001 7f000001 002a 0539 030004 d3a55d3b", NULL, {0}},
    {"A.3.2", SIG_HEX "20000007 030004 a9b87e8f", NULL, {0}},
    {"A.3.3",
     SIG_HEX "21210035" "00000000000000000000000000000001" "00000000000000000000000000000001" "0001 0002"
             "040000" "030004 11a29f90" "010004 6d717474",
     NULL, {0}},
    {"A.4 valid", SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 0005 3132333435", NULL, {0}},
    {"EC-V2-08 LOCAL with block", SIG_HEX "2011000c cb007107 7f000001 9c40 075b", NULL, {0}},
    {"EC-V2-04 UNIX", SIG_HEX "213100d8" UNIX_BLOCK_HEX, NULL, {0}},
    {"EC-V2-17 undefined 0x10", SIG_HEX "2110000c 7f000001 7f000001 002a 0539", NULL, {0}},
    {"skip_tlvs garbage", SIG_HEX "21110010 7f000001 7f000001 002a 0539 ff0fff01", NULL, {.skip_tlvs = true}},
};

/* Same header: every field, views compared as offsets from raw. */
static void assert_same_header(const pp_header *a, const pp_header *b)
{
    assert_int_equal(a->version, b->version);
    assert_int_equal(a->command, b->command);
    assert_int_equal(a->family, b->family);
    assert_int_equal(a->transport, b->transport);
    assert_int_equal(a->ver_cmd, b->ver_cmd);
    assert_int_equal(a->fam_byte, b->fam_byte);
    assert_int_equal(a->v1_unknown, b->v1_unknown);
    assert_int_equal(a->use_carried, b->use_carried);
    assert_int_equal(a->header_len, b->header_len);
    const pp_endpoint *ea[2] = {&a->src, &a->dst}, *eb[2] = {&b->src, &b->dst};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ea[i]->family, eb[i]->family);
        assert_memory_equal(ea[i]->ip, eb[i]->ip, 16);
        assert_int_equal(ea[i]->port, eb[i]->port);
        assert_int_equal(ea[i]->unix_path ? ea[i]->unix_path - a->raw : -1,
                         eb[i]->unix_path ? eb[i]->unix_path - b->raw : -1);
    }
    assert_int_equal(a->v1_unknown_tail.len, b->v1_unknown_tail.len);
    assert_int_equal(a->tlvs.len, b->tlvs.len);
    if (a->tlvs.ptr || b->tlvs.ptr)
        assert_int_equal(a->tlvs.ptr - a->raw, b->tlvs.ptr - b->raw);
    assert_memory_equal(&a->idx, &b->idx, sizeof a->idx);
    assert_int_equal(a->crc_present, b->crc_present);
    assert_int_equal(a->crc_ok, b->crc_ok);
    assert_int_equal(a->has_duplicate, b->has_duplicate);
    assert_int_equal(a->duplicate_type, b->duplicate_type);
    assert_int_equal(a->tlv_count, b->tlv_count);
}

static size_t vector_bytes(const vector *v, uint8_t *out, size_t cap)
{
    if (v->text) {
        size_t n = strlen(v->text);
        assert_true(n <= cap);
        memcpy(out, v->text, n);
        return n;
    }
    return unhex(v->hex, out, cap);
}

/* R-GEN-10, R-V2-33, EC-F-04, EC-F-05, EC-T-19: two segments cut at every offset. */
static void test_R_GEN_10_EC_F_05_every_cut_of_every_valid_vector(void **state)
{
    (void)state;
    static uint8_t in[8192], rx[8192 + 64];
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        const vector *v = &valid[i];
        size_t n = vector_bytes(v, in, sizeof in);
        pp_header whole, part;
        ssize_t r = parse_checked(in, n, &v->opts, &whole);
        if (r != (ssize_t)n)
            fail_msg("%s: one-shot parse gave %zd (%s)", v->name, r, pp_error_name((int)r));
        for (size_t cut = 0; cut < n; cut++) {
            /* a receiver's buffer: the first segment, then the rest appended */
            memcpy(rx, in, cut);
            ssize_t first = parse_checked(rx, cut, &v->opts, &part);
            if (first != PP_NEED_MORE)
                fail_msg("%s: cut at %zu gave %zd (%s)", v->name, cut, first, pp_error_name((int)first));
            memcpy(rx + cut, in + cut, n - cut);
            memcpy(rx + n, "\x10\x0c\x00\x04MQTT", 8); /* payload behind the header changes nothing */
            assert_pp_result(parse_checked(rx, n + 8, &v->opts, &part), r);
            assert_same_header(&whole, &part);
        }
    }
}

/* EC-F-04, EC-F-05, R-V1-24: one byte at a time, parsing the growing prefix each time. */
static void test_EC_F_04_R_V1_24_byte_by_byte(void **state)
{
    (void)state;
    static uint8_t in[8192];
    for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
        const vector *v = &valid[i];
        size_t n = vector_bytes(v, in, sizeof in);
        pp_header whole, h;
        ssize_t r = pp_parse(in, n, &v->opts, &whole);
        assert_pp_result(r, (ssize_t)n);
        ssize_t last = PP_NEED_MORE;
        size_t got = 0;
        for (got = 1; got <= n && last == PP_NEED_MORE; got++)
            last = parse_checked(in, got, &v->opts, &h);
        if (last != r || got - 1 != n)
            fail_msg("%s: complete after %zu of %zu bytes with %zd", v->name, got - 1, n, last);
        assert_same_header(&whole, &h);
    }
}

typedef struct bad_vector {
    const char *name;
    const char *hex;
    const char *text;
    pp_options opts;
    size_t fail_at; /* the earliest prefix length that must fail */
    int err;
} bad_vector;

static const bad_vector invalid[] = {
    {"EC-S-01 MQTT 3.1.1 CONNECT", "100c00044d5154540402003c0000", NULL, {0}, 1, PP_ERR_NOT_PROXY},
    {"EC-S-03 MQTT 5 CONNECT", "100d00044d5154540502003c000000", NULL, {0}, 1, PP_ERR_NOT_PROXY},
    {"EC-S-04 TLS ClientHello", "160301020001000001fc0303", NULL, {0}, 1, PP_ERR_NOT_PROXY},
    {"EC-S-05 HTTP", NULL, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", {0}, 1, PP_ERR_NOT_PROXY},
    {"EC-S-07 v1 on v2-only", NULL, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", {.versions = PP_ALLOW_V2}, 1,
     PP_ERR_VERSION_NOT_ALLOWED},
    {"EC-S-07 v2 on v1-only", HAPROXY_V2_TCP4_HEX, NULL, {.versions = PP_ALLOW_V1}, 1, PP_ERR_VERSION_NOT_ALLOWED},
    {"PRXY", NULL, "PRXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", {0}, 3, PP_ERR_NOT_PROXY},
    {"EC-V1-16 PROXYTCP4", NULL, "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n", {0}, 6, PP_ERR_V1_BAD_SEPARATOR},
    {"EC-V1-13 PROXY  TCP4", NULL, "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", {0}, 7, PP_ERR_V1_BAD_SEPARATOR},
    {"EC-V1-15 TCP5", NULL, "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", {0}, 10, PP_ERR_V1_BAD_PROTOCOL},
    {"EC-V1-14 tcp4", NULL, "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", {0}, 7, PP_ERR_V1_BAD_PROTOCOL},
    {"EC-V1-33 UNKNOWNxyz", NULL, "PROXY UNKNOWNxyz\r\n", {0}, 14, PP_ERR_V1_UNKNOWN_SUFFIX},
    {"EC-V1-10 bare LF", NULL, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\nGET", {0}, 31, PP_ERR_V1_BAD_TERMINATOR},
    {"EC-V1-11 bare CR", NULL, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rGET", {0}, 32, PP_ERR_V1_BAD_TERMINATOR},
    {"EC-V1-31 control byte", NULL, "PROXY TCP4 1.2.\x01" "3.4 5.6.7.8 1 2\r\n", {0}, 16, PP_ERR_V1_BAD_CHAR},
    {"EC-V1-31 high byte", NULL, "PROXY TCP6 ::\xc3\xbc 5.6.7.8 1 2\r\n", {0}, 14, PP_ERR_V1_BAD_CHAR},
    {"EC-V1-07 108-byte line", NULL,
     "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n",
     {0}, 107, PP_ERR_V1_TOO_LONG},
    {"EC-V1-18 leading zero (after CRLF, R-V1-22)", NULL, "PROXY TCP4 010.0.0.1 5.6.7.8 1 2\r\n", {0}, 34,
     PP_ERR_V1_LEADING_ZERO},
    {"EC-V1-17 mismatch (after CRLF)", NULL, "PROXY TCP4 ::1 ::1 1 2\r\n", {0}, 24, PP_ERR_V1_FAMILY_MISMATCH},
    {"EC-V2-18 signature byte 2", "0d0b0d0a000d0a515549540a2111000c7f0000017f000001d1a64991", NULL, {0}, 2,
     PP_ERR_V2_BAD_SIGNATURE},
    {"EC-V2-18 signature NUL", "0d0a0d0a200d0a515549540a2111000c7f0000017f000001d1a64991", NULL, {0}, 5,
     PP_ERR_V2_BAD_SIGNATURE},
    {"EC-V2-18 signature byte 12", "0d0a0d0a000d0a515549540b2111000c7f0000017f000001d1a64991", NULL, {0}, 12,
     PP_ERR_V2_BAD_SIGNATURE},
    {"EC-V2-13 version", SIG_HEX "1111000c7f0000017f000001d1a64991", NULL, {0}, 13, PP_ERR_V2_BAD_VERSION},
    {"EC-V2-14 command", SIG_HEX "2211000c7f0000017f000001d1a64991", NULL, {0}, 13, PP_ERR_V2_BAD_COMMAND},
    {"EC-V2-15 family", SIG_HEX "2141000c7f0000017f000001d1a64991", NULL, {0}, 14, PP_ERR_V2_BAD_FAMILY},
    {"EC-V2-16 transport", SIG_HEX "2113000c7f0000017f000001d1a64991", NULL, {0}, 14, PP_ERR_V2_BAD_TRANSPORT},
    {"EC-V2-12 UNSPEC by policy", SIG_HEX "21000000", NULL, {.reject_unspec_proxy = true}, 14,
     PP_ERR_V2_UNSPEC_REJECTED},
    {"A-18 DGRAM by policy", SIG_HEX "2112000c7f0000017f000001d1a64991", NULL, {.reject_dgram = true}, 14,
     PP_ERR_V2_DGRAM_REJECTED},
    {"EC-V2-20 length too small", SIG_HEX "2111000b7f0000017f000001d1a649", NULL, {0}, 16, PP_ERR_V2_LENGTH_TOO_SMALL},
    {"A-02 over max_header", SIG_HEX "2111ffff7f0000017f000001d1a64991", NULL, {.max_header = 1024}, 16,
     PP_ERR_TOO_LARGE},
    {"EC-T-02 overrun (whole header)", SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 000a 3132333435 3132333435",
     NULL, {0}, 36, PP_ERR_TLV_OVERRUN},
    {"EC-T-03 fragment", SIG_HEX "21110014 7f000001 7f000001 002a 0539 02 0004 31323334 35", NULL, {0}, 36,
     PP_ERR_TLV_FRAGMENT},
    {"EC-C-06 swapped CRC", SIG_HEX "21110013 7f000001 7f000001 002a 0539 030004 3b5da5d3", NULL, {0}, 35,
     PP_ERR_CRC_MISMATCH},
};

/* R-V1-27, EC-S-02, EC-V2-18: refused at the earliest byte, and the same error after it. */
static void test_R_V1_27_EC_S_02_invalid_input_fails_at_the_earliest_byte(void **state)
{
    (void)state;
    static uint8_t in[1024];
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        const bad_vector *v = &invalid[i];
        size_t n;
        if (v->text) {
            n = strlen(v->text);
            memcpy(in, v->text, n);
        } else {
            n = unhex(v->hex, in, sizeof in);
        }
        if (v->fail_at > n)
            fail_msg("%s: fail_at %zu beyond its %zu bytes", v->name, v->fail_at, n);
        for (size_t k = 0; k <= n; k++) {
            pp_header h;
            ssize_t r = parse_checked(in, k, &v->opts, &h);
            ssize_t want = k < v->fail_at ? PP_NEED_MORE : v->err;
            if (r != want)
                fail_msg("%s: %zu bytes gave %zd (%s), want %zd (%s)", v->name, k, r, pp_error_name((int)r), want,
                         pp_error_name((int)want));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_GEN_10_EC_F_05_every_cut_of_every_valid_vector),
        cmocka_unit_test(test_EC_F_04_R_V1_24_byte_by_byte),
        cmocka_unit_test(test_R_V1_27_EC_S_02_invalid_input_fails_at_the_earliest_byte),
    };
    return cmocka_run_group_tests_name("proxy_split", tests, NULL, NULL);
}
