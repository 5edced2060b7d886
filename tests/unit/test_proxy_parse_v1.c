/* lib/proxy parser, version 1 text lines: every R-V1 rule and EC-V1 edge case of
 * shared/spec/requirements.md §1.4 and §3.3, the Appendix A.1 lines and HAProxy's real
 * send-proxy bytes (shared/research/interop.md §1a). */
#include "test_proxy_helpers.h"

static const pp_options reject_mapped = {.v1_reject_mapped_ipv4 = true};
static const pp_options allow_suffix = {.v1_allow_unknown_suffix = true};

static void assert_ipv4(const pp_endpoint *ep, uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    const uint8_t want[16] = {a, b, c, d};
    assert_int_equal(ep->family, PP_FAM_INET);
    assert_memory_equal(ep->ip, want, 16); /* the unused 12 bytes are zero */
    assert_int_equal(ep->port, port);
}

static void assert_ipv6_text(const char *field, const char *canonical_hex)
{
    char line[200];
    uint8_t want[16];
    pp_header h;
    snprintf(line, sizeof line, "PROXY TCP6 %s ::1 1 2\r\n", field);
    ssize_t r = parse_text(line, NULL, &h);
    if (r <= 0)
        fail_msg("%s: %s", field, pp_error_name((int)r));
    assert_int_equal(unhex(canonical_hex, want, sizeof want), 16);
    assert_int_equal(h.src.family, PP_FAM_INET6);
    assert_memory_equal(h.src.ip, want, 16);
}

/* ---- Appendix A.1 and the accepted forms ------------------------------------------------ */

static void test_EC_V1_01_R_V1_02_R_V1_12_a1_47_byte_line(void **state)
{
    (void)state;
    const char *line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
    pp_header h;
    assert_pp_result(parse_text(line, NULL, &h), 47);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.command, PP_CMD_PROXY);
    assert_int_equal(h.family, PP_FAM_INET);
    assert_int_equal(h.transport, PP_TRANS_STREAM);
    assert_true(h.use_carried);
    assert_false(h.v1_unknown);
    assert_int_equal(h.header_len, 47);
    assert_ptr_equal(h.raw, (const uint8_t *)line);
    assert_ipv4(&h.src, 192, 168, 0, 1, 56324); /* R-V1-12: source first, then destination */
    assert_ipv4(&h.dst, 192, 168, 0, 11, 443);
    assert_int_equal(h.tlv_count, 0);
    assert_int_equal(h.tlvs.len, 0);
}

static void test_EC_V1_02_R_V1_13_max_tcp4_line_56_bytes(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", NULL, &h), 56);
    assert_ipv4(&h.src, 255, 255, 255, 255, 65535);
    assert_ipv4(&h.dst, 255, 255, 255, 255, 65535);
}

static void test_EC_V1_03_R_V1_15_max_tcp6_line_104_bytes(void **state)
{
    (void)state;
    pp_header h;
    const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_pp_result(parse_text("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                                "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
                                NULL, &h),
                     104);
    assert_int_equal(h.family, PP_FAM_INET6);
    assert_int_equal(h.src.family, PP_FAM_INET6);
    assert_memory_equal(h.src.ip, ones, 16);
    assert_memory_equal(h.dst.ip, ones, 16);
    assert_int_equal(h.dst.port, 65535);
}

static void test_EC_V1_04_R_V1_08_short_unknown_keeps_real_endpoints(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY UNKNOWN\r\n", NULL, &h), 15);
    assert_true(h.v1_unknown);
    assert_false(h.use_carried); /* R-V1-08: as if no header had been sent */
    assert_int_equal(h.family, PP_FAM_UNSPEC);
    assert_int_equal(h.transport, PP_TRANS_UNSPEC);
    assert_int_equal(h.src.family, PP_FAM_UNSPEC);
    assert_int_equal(h.dst.family, PP_FAM_UNSPEC);
    assert_int_equal(h.v1_unknown_tail.len, 0);
}

static void test_EC_V1_05_R_V1_07_R_V1_21_unknown_107_bytes_accepted(void **state)
{
    (void)state;
    const char *line = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       "65535 65535\r\n";
    assert_int_equal(strlen(line), 107);
    pp_header h;
    assert_pp_result(parse_text(line, NULL, &h), 107);
    assert_true(h.v1_unknown);
    assert_false(h.use_carried);
    /* R-V1-07: the fields are ignored, kept only as a view for logs */
    assert_int_equal(h.v1_unknown_tail.len, 107 - 15);
    assert_memory_equal(h.v1_unknown_tail.ptr, line + 13, 107 - 15);
}

static void test_EC_V1_06_unknown_with_printable_garbage(void **state)
{
    (void)state;
    pp_header h;
    const char *garbage = "PROXY UNKNOWN !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~ \r\n";
    assert_pp_result(parse_text(garbage, NULL, &h), (ssize_t)strlen(garbage));
    assert_true(h.v1_unknown);
    /* bytes >= 0x80 and control bytes other than NUL/CR/LF are "anything" too (R-V1-07) */
    assert_pp_result(parse_text("PROXY UNKNOWN \x80\xff\x01\x7f\r\n", NULL, &h), 20);
    assert_pp_result(parse_text("PROXY UNKNOWN a\tb\r\n", NULL, &h), 19);
}

static void test_EC_V1_19_R_V1_13_ipv4_edge_values(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 0.0.0.0 255.255.255.255 1 2\r\n", NULL, &h), 40);
    assert_ipv4(&h.src, 0, 0, 0, 0, 1);
    assert_ipv4(&h.dst, 255, 255, 255, 255, 2);
    assert_pp_result(parse_text("PROXY TCP4 10.0.100.199 1.20.3.249 1 2\r\n", NULL, &h), 40);
    assert_ipv4(&h.src, 10, 0, 100, 199, 1);
    assert_ipv4(&h.dst, 1, 20, 3, 249, 2);
}

static void test_EC_V1_21_R_V1_18_ports_0_and_65535(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", NULL, &h), 36);
    assert_int_equal(h.src.port, 0);
    assert_int_equal(h.dst.port, 65535);
    assert_pp_result(parse_text("PROXY TCP6 ::1 ::2 65535 0\r\n", NULL, &h), 28);
    assert_int_equal(h.src.port, 65535);
    assert_int_equal(h.dst.port, 0);
}

static void test_EC_V1_26_R_V1_15_ipv6_forms_accepted(void **state)
{
    (void)state;
    assert_ipv6_text("::1", "00000000000000000000000000000001");
    assert_ipv6_text("::", "00000000000000000000000000000000");
    assert_ipv6_text("2001:db8::1", "20010db8000000000000000000000001");
    assert_ipv6_text("2001:DB8::1", "20010db8000000000000000000000001");
    assert_ipv6_text("2001:Db8:0:0:0:0:0:1", "20010db8000000000000000000000001");
    assert_ipv6_text("2001:0db8:0000:0000:0000:ff00:0042:8329", "20010db8000000000000ff0000428329");
    assert_ipv6_text("1::", "00010000000000000000000000000000");
    assert_ipv6_text("1:2:3:4:5:6:7::", "00010002000300040005000600070000");
    assert_ipv6_text("::2:3:4:5:6:7:8", "00000002000300040005000600070008");
    assert_ipv6_text("fe80::a:b", "fe80" "0000" "0000" "0000" "0000" "0000" "000a" "000b");
}

static void test_EC_V1_29_A_09_embedded_ipv4_default_and_policy(void **state)
{
    (void)state;
    /* what HAProxy emits for a v4 client on a v6 listener: accepted by default */
    assert_ipv6_text("::ffff:192.0.2.1", "00000000000000000000ffffc0000201");
    assert_ipv6_text("1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304");
    assert_ipv6_text("::1.2.3.4", "00000000000000000000000001020304");
    assert_text_error("PROXY TCP6 ::ffff:192.0.2.1 ::1 80 443\r\n", &reject_mapped, PP_ERR_V1_BAD_ADDRESS);
    assert_text_error("PROXY TCP6 ::1 ::ffff:192.0.2.1 80 443\r\n", &reject_mapped, PP_ERR_V1_BAD_ADDRESS);
    /* the dotted tail follows the IPv4 rules, and takes the place of exactly two groups */
    assert_text_error("PROXY TCP6 ::ffff:192.0.2.01 ::1 80 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP6 ::ffff:192.0.2 ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
    assert_text_error("PROXY TCP6 1:2:3:4:5:6:7:1.2.3.4 ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
    assert_text_error("PROXY TCP6 ::1.2.3.4:1 ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
    /* A.1: the maximal embedded form is 116 bytes, over the 107-byte limit (R-V1-23) */
    const char *a1_116 = "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
                         "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n";
    assert_int_equal(strlen(a1_116), 116);
    assert_text_error(a1_116, NULL, PP_ERR_V1_TOO_LONG);
}

static void test_EC_V1_30_R_V1_16_non_maximal_compression_accepted(void **state)
{
    (void)state;
    assert_ipv6_text("1:0:0:2::3", "00010000000000020000000000000003");
    assert_ipv6_text("0:0:1::", "00000000000100000000000000000000");
}

static void test_EC_V1_32_R_V1_07_unknown_tail_forms(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY UNKNOWN \r\n", NULL, &h), 16);
    assert_int_equal(h.v1_unknown_tail.len, 1);
    assert_pp_result(parse_text("PROXY UNKNOWN 1.2.3.4\r\n", NULL, &h), 23);
    assert_false(h.use_carried);
    assert_int_equal(h.src.family, PP_FAM_UNSPEC);
}

static void test_EC_V1_33_A_19_unknown_suffix_by_policy(void **state)
{
    (void)state;
    pp_header h;
    assert_text_error("PROXY UNKNOWNxyz\r\n", NULL, PP_ERR_V1_UNKNOWN_SUFFIX);
    assert_pp_result(parse_text("PROXY UNKNOWNxyz\r\n", &allow_suffix, &h), 18);
    assert_true(h.v1_unknown);
    assert_int_equal(h.v1_unknown_tail.len, 3);
    assert_memory_equal(h.v1_unknown_tail.ptr, "xyz", 3);
}

static void test_EC_V1_34_R_V1_28_unknown_then_connect_in_one_segment(void **state)
{
    (void)state;
    uint8_t buf[64];
    memcpy(buf, "PROXY UNKNOWN\r\n", 15);
    static const uint8_t connect[14] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0, 0};
    memcpy(buf + 15, connect, sizeof connect);
    pp_header h;
    assert_pp_result(parse_checked(buf, 15 + sizeof connect, NULL, &h), 15);
    /* the next byte is the first application byte, untouched */
    assert_memory_equal(buf + h.header_len, connect, sizeof connect);
}

static void test_R_V1_28_tcp4_line_then_payload(void **state)
{
    (void)state;
    const char *in = "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nPROXY TCP4 9.9.9.9 9.9.9.9 9 9\r\n";
    pp_header h;
    assert_pp_result(parse_text(in, NULL, &h), 32);
    assert_ipv4(&h.src, 1, 2, 3, 4, 1); /* EC-F-13: the second line is application data */
}

static void test_EC_V1_35_R_DET_03_seven_bytes_are_not_refused(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY T", NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_text("P", NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_text("PROXY UNKNOW", NULL, &h), PP_NEED_MORE);
}

static void test_R_DET_05_first_byte_P_means_v1(void **state)
{
    (void)state;
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", NULL, &h), 32);
    assert_int_equal(h.version, 1);
}

static void test_EC_V1_36_R_V1_05_builder_lines_parse(void **state)
{
    (void)state;
    uint8_t buf[PP_V1_MAX_LEN];
    pp_endpoint src = {.family = PP_FAM_INET, .ip = {192, 0, 2, 1}, .port = 0};
    pp_endpoint dst = {.family = PP_FAM_INET, .ip = {198, 51, 100, 2}, .port = 65535};
    ssize_t n = pp_build_v1(&src, &dst, buf, sizeof buf);
    assert_true(n > 0);
    pp_header h;
    assert_pp_result(parse_checked(buf, (size_t)n, NULL, &h), n);
    assert_ipv4(&h.src, 192, 0, 2, 1, 0);
    assert_ipv4(&h.dst, 198, 51, 100, 2, 65535);
    /* a UNIX connection becomes UNKNOWN */
    pp_endpoint ux = {.family = PP_FAM_UNIX};
    n = pp_build_v1(&ux, &ux, buf, sizeof buf);
    assert_true(n > 0);
    assert_pp_result(parse_checked(buf, (size_t)n, NULL, &h), n);
    assert_true(h.v1_unknown);
}

static void test_haproxy_send_proxy_capture(void **state)
{
    (void)state;
    pp_header h;
    /* interop.md §1a: fe_v1 over IPv4 with "hello", over IPv6, a unix-socket client, a check */
    const char *v4 = "PROXY TCP4 127.0.0.1 127.0.0.1 39892 18830\r\nhello";
    assert_pp_result(parse_text(v4, NULL, &h), 44);
    assert_ipv4(&h.src, 127, 0, 0, 1, 39892);
    assert_ipv4(&h.dst, 127, 0, 0, 1, 18830);
    assert_memory_equal(v4 + h.header_len, "hello", 5);
    assert_pp_result(parse_text("PROXY TCP6 ::1 ::1 51294 18830\r\n", NULL, &h), 32);
    assert_int_equal(h.src.ip[15], 1);
    assert_int_equal(h.src.port, 51294);
    uint8_t unknown[15];
    assert_int_equal(unhex("50524f585920554e4b4e4f574e0d0a", unknown, sizeof unknown), 15);
    assert_pp_result(parse_checked(unknown, 15, NULL, &h), 15);
    assert_true(h.v1_unknown);
    assert_pp_result(parse_text("PROXY TCP4 127.0.0.1 127.0.0.1 37340 18838\r\n", NULL, &h), 44);
}

/* ---- terminator and length -------------------------------------------------------------- */

static void test_EC_V1_07_R_V1_23_108_byte_line_too_long(void **state)
{
    (void)state;
    const char *line = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
                       "65535 655350\r\n";
    assert_int_equal(strlen(line), 108);
    assert_text_error(line, NULL, PP_ERR_V1_TOO_LONG);
    /* decided at byte 107: no CRLF can end within 107 bytes any more */
    pp_header h;
    assert_pp_result(parse_checked((const uint8_t *)line, 106, NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_checked((const uint8_t *)line, 107, NULL, &h), PP_ERR_V1_TOO_LONG);
}

static void test_EC_V1_08_cr_at_107_lf_at_108(void **state)
{
    (void)state;
    char line[109];
    memcpy(line, "PROXY UNKNOWN ", 14);
    memset(line + 14, 'x', 106 - 14);
    line[106] = '\r';
    line[107] = '\n';
    line[108] = '\0';
    assert_text_error(line, NULL, PP_ERR_V1_TOO_LONG);
}

static void test_EC_V1_09_R_V1_26_500_bytes_without_crlf(void **state)
{
    (void)state;
    char line[507];
    memcpy(line, "PROXY ", 6);
    memset(line + 6, 'A', 500);
    line[506] = '\0';
    assert_text_error(line, NULL, PP_ERR_V1_BAD_PROTOCOL); /* "AAAA" is no protocol */
    memcpy(line, "PROXY TCP4 ", 11);
    memset(line + 11, '1', 495);
    assert_text_error(line, NULL, PP_ERR_V1_TOO_LONG);
    memcpy(line, "PROXY UNKNOWN ", 14);
    assert_text_error(line, NULL, PP_ERR_V1_TOO_LONG);
}

static void test_EC_V1_10_R_V1_25_bare_lf(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n", NULL, PP_ERR_V1_BAD_TERMINATOR);
    assert_text_error("PROXY UNKNOWN\n", NULL, PP_ERR_V1_BAD_TERMINATOR);
    assert_text_error("PROXY UNKNOWN x\ny\r\n", NULL, PP_ERR_V1_BAD_TERMINATOR);
}

static void test_EC_V1_11_bare_cr_then_payload(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\rGET", NULL, PP_ERR_V1_BAD_TERMINATOR);
    assert_text_error("PROXY UNKNOWN\rX", NULL, PP_ERR_V1_BAD_TERMINATOR);
    /* a CR alone at the end may still be followed by LF */
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r", NULL, PP_NEED_MORE);
}

static void test_EC_V1_12_R_V1_20_reversed_lf_cr(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n\r", NULL, PP_ERR_V1_BAD_TERMINATOR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\r\n", NULL, PP_ERR_V1_BAD_TERMINATOR);
}

static void test_R_V1_22_nothing_decoded_before_crlf(void **state)
{
    (void)state;
    /* every field is wrong, but until the line ends nothing is decoded, so no verdict */
    assert_text_error("PROXY TCP4 999.1.1.01 ::1 080 99999", NULL, PP_NEED_MORE);
    assert_text_error("PROXY TCP4 999.1.1.01 ::1 080 99999\r", NULL, PP_NEED_MORE);
    assert_text_error("PROXY TCP4 999.1.1.01 ::1 080 99999\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
}

static void test_R_V1_24_R_V1_21_line_in_pieces_is_tolerated(void **state)
{
    (void)state;
    /* we tolerate a line whose CRLF was not in the first read (R-GEN-10 recommends it) */
    const char *line = "PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n";
    pp_header h;
    for (size_t k = 0; k < strlen(line); k++)
        assert_pp_result(parse_checked((const uint8_t *)line, k, NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_text(line, NULL, &h), (ssize_t)strlen(line));
}

/* ---- grammar errors --------------------------------------------------------------------- */

static void test_EC_V1_13_R_V1_03_separators(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4  1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY  TCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443 \r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY TCP4 1.2.3.4\t5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY\tTCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8  80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error(" PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_NOT_PROXY);
}

static void test_EC_V1_14_R_V1_02_lower_case(void **state)
{
    (void)state;
    assert_text_error("proxy TCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_NOT_PROXY);
    assert_text_error("Proxy TCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_NOT_PROXY);
    assert_text_error("PROXY tcp4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_PROTOCOL);
    assert_text_error("PROXY unknown\r\n", NULL, PP_ERR_V1_BAD_PROTOCOL);
}

static void test_EC_V1_15_R_V1_04_unknown_protocol_tokens(void **state)
{
    (void)state;
    const char *bad[] = {"PROXY TCP5 1.2.3.4 5.6.7.8 80 443\r\n", "PROXY UDP4 1.2.3.4 5.6.7.8 80 443\r\n",
                         "PROXY TCP 1.2.3.4 5.6.7.8 80 443\r\n",  "PROXY UNIX 1.2.3.4 5.6.7.8 80 443\r\n",
                         "PROXY TCP46 1.2.3.4 5.6.7.8 80 443\r\n", "PROXY UNKNOWM\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_text_error(bad[i], NULL, PP_ERR_V1_BAD_PROTOCOL);
}

static void test_EC_V1_16_proxy_without_space_or_fields(void **state)
{
    (void)state;
    assert_text_error("PROXYTCP4 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PROXY \r\n", NULL, PP_ERR_V1_BAD_PROTOCOL);
    assert_text_error("PROXY TCP4\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
    assert_text_error("PROXY TCP4 \r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
}

static void test_EC_V1_17_R_V1_17_family_mismatch(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 ::1 ::1 80 443\r\n", NULL, PP_ERR_V1_FAMILY_MISMATCH);
    assert_text_error("PROXY TCP6 1.2.3.4 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_FAMILY_MISMATCH);
    assert_text_error("PROXY TCP4 1.2.3.4 2001:db8::1 80 443\r\n", NULL, PP_ERR_V1_FAMILY_MISMATCH);
    assert_text_error("PROXY TCP6 ::1 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_FAMILY_MISMATCH);
}

static void test_EC_V1_18_R_V1_14_leading_zero_octets(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 192.168.000.001 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP4 010.0.0.1 5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP4 1.2.3.4 1.2.3.04 80 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP4 00.2.3.4 1.2.3.4 80 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
}

static void test_EC_V1_20_R_V1_13_invalid_ipv4(void **state)
{
    (void)state;
    const char *bad[] = {"256.0.0.1", "1.2.3",     "1.2.3.4.5", "1..2.3",     ".1.2.3",
                         "1.2.3.",    "+1.2.3.4",  "0x7f.0.0.1", "3232235521", "1.2.3.4a",
                         "1.2.3.1000", "1.2.3.-1", "1.2.3.999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[100];
        snprintf(line, sizeof line, "PROXY TCP4 %s 5.6.7.8 80 443\r\n", bad[i]);
        assert_text_error(line, NULL, PP_ERR_V1_BAD_ADDRESS);
    }
    /* "1.2.3.4 " inside a field: the extra space is a separator error */
    assert_text_error("PROXY TCP4 1.2.3.4  5.6.7.8 80 443\r\n", NULL, PP_ERR_V1_BAD_SEPARATOR);
}

static void test_EC_V1_22_R_V1_18_invalid_ports(void **state)
{
    (void)state;
    const char *bad[] = {"65536", "99999", "-1", "+80", "8a", "0x50", "123456", "6553 5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[100];
        snprintf(line, sizeof line, "PROXY TCP4 1.2.3.4 5.6.7.8 %s 443\r\n", bad[i]);
        pp_header h;
        ssize_t r = parse_text(line, NULL, &h);
        if (r != PP_ERR_V1_BAD_PORT && !(i == 7 && r == PP_ERR_V1_FIELD_COUNT))
            fail_msg("%s: %s", bad[i], pp_error_name((int)r));
    }
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 \r\n", NULL, PP_ERR_V1_BAD_SEPARATOR); /* empty */
}

static void test_EC_V1_23_R_V1_19_port_leading_zeros(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 080 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 00 443\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 0000000000080\r\n", NULL, PP_ERR_V1_LEADING_ZERO);
}

static void test_EC_V1_24_R_V1_18_port_integer_wrap(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 4294967376 443\r\n", NULL, PP_ERR_V1_BAD_PORT);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 18446744073709551696\r\n", NULL, PP_ERR_V1_BAD_PORT);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 65616\r\n", NULL, PP_ERR_V1_BAD_PORT); /* 65536 + 80 */
}

static void test_EC_V1_25_R_V1_12_field_count(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
    assert_text_error("PROXY TCP4 1.2.3.4\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443 8\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
    assert_text_error("PROXY TCP6 ::1 ::2 80 443 ::3\r\n", NULL, PP_ERR_V1_FIELD_COUNT);
}

static void test_EC_V1_27_R_V1_15_invalid_ipv6(void **state)
{
    (void)state;
    const char *bad[] = {"1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::1", "g::1",
                         "1:2::3:",  "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7", "1:::2",  "1:2:3:4::5:6:7:8",
                         ":",        "1:2:3:4:5:6:7:",   "1 :2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char line[100];
        snprintf(line, sizeof line, "PROXY TCP6 %s ::1 80 443\r\n", bad[i]);
        pp_header h;
        ssize_t r = parse_text(line, NULL, &h);
        if (r != PP_ERR_V1_BAD_ADDRESS && !(r == PP_ERR_V1_BAD_SEPARATOR || r == PP_ERR_V1_FIELD_COUNT))
            fail_msg("%s: %s", bad[i], pp_error_name((int)r));
        assert_true(r < 0);
    }
}

static void test_EC_V1_28_zone_bracket_prefix(void **state)
{
    (void)state;
    assert_text_error("PROXY TCP6 fe80::1%eth0 ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
    assert_text_error("PROXY TCP6 [::1] ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
    assert_text_error("PROXY TCP6 ::1/128 ::1 80 443\r\n", NULL, PP_ERR_V1_BAD_ADDRESS);
}

static void test_EC_V1_31_R_V1_01_R_V1_26_nul_control_and_high_bytes(void **state)
{
    (void)state;
    pp_header h;
    const uint8_t nul[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 80 443\r\n";
    assert_pp_result(parse_checked(nul, sizeof nul - 1, NULL, &h), PP_ERR_V1_BAD_CHAR);
    const uint8_t nul_unknown[] = "PROXY UNKNOWN a\0b\r\n";
    assert_pp_result(parse_checked(nul_unknown, sizeof nul_unknown - 1, NULL, &h), PP_ERR_V1_BAD_CHAR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 4\x80" "3\r\n", NULL, PP_ERR_V1_BAD_CHAR);
    assert_text_error("PROXY TCP6 ::1 ::\xff 80 443\r\n", NULL, PP_ERR_V1_BAD_CHAR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\x7f\r\n", NULL, PP_ERR_V1_BAD_CHAR);
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 \x01" "443\r\n", NULL, PP_ERR_V1_BAD_CHAR);
}

/* Every byte outside printable ASCII, at every position of a TCP4 and a TCP6 line body. */
static void test_EC_V1_31_every_bad_byte_at_every_position(void **state)
{
    (void)state;
    const char *lines[] = {"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
                           "PROXY TCP6 2001:db8::1 2001:db8:0:1::2 56324 443\r\n"};
    for (size_t l = 0; l < 2; l++) {
        uint8_t line[64];
        size_t n = strlen(lines[l]);
        for (size_t pos = 11; pos < n - 2; pos++) {
            for (unsigned c = 0; c < 256; c++) {
                if (c >= 0x20 && c < 0x7f)
                    continue;
                memcpy(line, lines[l], n);
                line[pos] = (uint8_t)c;
                int want = c == '\r' || c == '\n' ? PP_ERR_V1_BAD_TERMINATOR
                           : c == '\t'            ? PP_ERR_V1_BAD_SEPARATOR
                                                  : PP_ERR_V1_BAD_CHAR;
                ssize_t r = pp_parse(line, n, NULL, &(pp_header){0});
                if (r != want)
                    fail_msg("byte 0x%02x at %zu of \"%s\": %s", c, pos, lines[l], pp_error_name((int)r));
            }
        }
    }
}

static void test_R_V1_27_errors_come_as_early_as_the_bytes_allow(void **state)
{
    (void)state;
    pp_header h;
    /* a control byte is refused when it arrives, long before any CRLF */
    const char *line = "PROXY TCP4 1.2.3.4\x01";
    assert_pp_result(parse_checked((const uint8_t *)line, strlen(line) - 1, NULL, &h), PP_NEED_MORE);
    assert_pp_result(parse_checked((const uint8_t *)line, strlen(line), NULL, &h), PP_ERR_V1_BAD_CHAR);
    assert_text_error("PROXY TCP5", NULL, PP_ERR_V1_BAD_PROTOCOL);
    assert_text_error("PROXY  ", NULL, PP_ERR_V1_BAD_SEPARATOR);
    assert_text_error("PRX", NULL, PP_ERR_NOT_PROXY);
}

/* ---- policy ---------------------------------------------------------------------------- */

static void test_R_DET_01_v1_on_a_v2_only_listener(void **state)
{
    (void)state;
    const pp_options v2_only = {.versions = PP_ALLOW_V2};
    const pp_options v1_only = {.versions = PP_ALLOW_V1};
    assert_text_error("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n", &v2_only, PP_ERR_VERSION_NOT_ALLOWED);
    assert_text_error("P", &v2_only, PP_ERR_VERSION_NOT_ALLOWED);
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n", &v1_only, &h), 35);
}

static void test_A_02_max_header_below_107(void **state)
{
    (void)state;
    const pp_options small = {.max_header = 40};
    pp_header h;
    assert_pp_result(parse_text("PROXY TCP4 1.2.3.4 5.6.7.8 80 443\r\n", &small, &h), 35);
    assert_text_error("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", &small, PP_ERR_TOO_LARGE);
}

static void test_describe_v1_lines(void **state)
{
    (void)state;
    pp_header h;
    char text[1024];
    assert_pp_result(parse_text("PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 56324 443\r\n", NULL, &h), 51);
    size_t w = pp_header_describe(&h, text, sizeof text);
    assert_int_equal(w, strlen(text));
    assert_non_null(strstr(text, "protocol:    TCP6"));
    assert_non_null(strstr(text, "source:      2001:db8::1 port 56324"));
    assert_non_null(strstr(text, "destination: ::ffff:192.0.2.1 port 443"));
    assert_pp_result(parse_text("PROXY UNKNOWN a\x01" "b\r\n", NULL, &h), 19);
    pp_header_describe(&h, text, sizeof text);
    assert_non_null(strstr(text, "protocol:    UNKNOWN"));
    assert_non_null(strstr(text, "tail:        \" a\\x01b\" (ignored)")); /* escaped for logs */
    assert_int_equal(pp_tlv_summary(&h, text, sizeof text), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_V1_01_R_V1_02_R_V1_12_a1_47_byte_line),
        cmocka_unit_test(test_EC_V1_02_R_V1_13_max_tcp4_line_56_bytes),
        cmocka_unit_test(test_EC_V1_03_R_V1_15_max_tcp6_line_104_bytes),
        cmocka_unit_test(test_EC_V1_04_R_V1_08_short_unknown_keeps_real_endpoints),
        cmocka_unit_test(test_EC_V1_05_R_V1_07_R_V1_21_unknown_107_bytes_accepted),
        cmocka_unit_test(test_EC_V1_06_unknown_with_printable_garbage),
        cmocka_unit_test(test_EC_V1_19_R_V1_13_ipv4_edge_values),
        cmocka_unit_test(test_EC_V1_21_R_V1_18_ports_0_and_65535),
        cmocka_unit_test(test_EC_V1_26_R_V1_15_ipv6_forms_accepted),
        cmocka_unit_test(test_EC_V1_29_A_09_embedded_ipv4_default_and_policy),
        cmocka_unit_test(test_EC_V1_30_R_V1_16_non_maximal_compression_accepted),
        cmocka_unit_test(test_EC_V1_32_R_V1_07_unknown_tail_forms),
        cmocka_unit_test(test_EC_V1_33_A_19_unknown_suffix_by_policy),
        cmocka_unit_test(test_EC_V1_34_R_V1_28_unknown_then_connect_in_one_segment),
        cmocka_unit_test(test_R_V1_28_tcp4_line_then_payload),
        cmocka_unit_test(test_EC_V1_35_R_DET_03_seven_bytes_are_not_refused),
        cmocka_unit_test(test_R_DET_05_first_byte_P_means_v1),
        cmocka_unit_test(test_EC_V1_36_R_V1_05_builder_lines_parse),
        cmocka_unit_test(test_haproxy_send_proxy_capture),
        cmocka_unit_test(test_EC_V1_07_R_V1_23_108_byte_line_too_long),
        cmocka_unit_test(test_EC_V1_08_cr_at_107_lf_at_108),
        cmocka_unit_test(test_EC_V1_09_R_V1_26_500_bytes_without_crlf),
        cmocka_unit_test(test_EC_V1_10_R_V1_25_bare_lf),
        cmocka_unit_test(test_EC_V1_11_bare_cr_then_payload),
        cmocka_unit_test(test_EC_V1_12_R_V1_20_reversed_lf_cr),
        cmocka_unit_test(test_R_V1_22_nothing_decoded_before_crlf),
        cmocka_unit_test(test_R_V1_24_R_V1_21_line_in_pieces_is_tolerated),
        cmocka_unit_test(test_EC_V1_13_R_V1_03_separators),
        cmocka_unit_test(test_EC_V1_14_R_V1_02_lower_case),
        cmocka_unit_test(test_EC_V1_15_R_V1_04_unknown_protocol_tokens),
        cmocka_unit_test(test_EC_V1_16_proxy_without_space_or_fields),
        cmocka_unit_test(test_EC_V1_17_R_V1_17_family_mismatch),
        cmocka_unit_test(test_EC_V1_18_R_V1_14_leading_zero_octets),
        cmocka_unit_test(test_EC_V1_20_R_V1_13_invalid_ipv4),
        cmocka_unit_test(test_EC_V1_22_R_V1_18_invalid_ports),
        cmocka_unit_test(test_EC_V1_23_R_V1_19_port_leading_zeros),
        cmocka_unit_test(test_EC_V1_24_R_V1_18_port_integer_wrap),
        cmocka_unit_test(test_EC_V1_25_R_V1_12_field_count),
        cmocka_unit_test(test_EC_V1_27_R_V1_15_invalid_ipv6),
        cmocka_unit_test(test_EC_V1_28_zone_bracket_prefix),
        cmocka_unit_test(test_EC_V1_31_R_V1_01_R_V1_26_nul_control_and_high_bytes),
        cmocka_unit_test(test_EC_V1_31_every_bad_byte_at_every_position),
        cmocka_unit_test(test_R_V1_27_errors_come_as_early_as_the_bytes_allow),
        cmocka_unit_test(test_R_DET_01_v1_on_a_v2_only_listener),
        cmocka_unit_test(test_A_02_max_header_below_107),
        cmocka_unit_test(test_describe_v1_lines),
    };
    return cmocka_run_group_tests_name("proxy_parse_v1", tests, NULL, NULL);
}
