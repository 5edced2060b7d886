/* lib/net/addr: "ip:port" text forms both ways, CIDR parsing and matching, CIDR lists.
 * CIDR lists are how receivers express trusted PROXY senders (R-SEC-02). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "net/addr.h"

static void roundtrip(const char *in, const char *expect)
{
    pn_addr a;
    char buf[PN_ADDR_TEXT_MAX];
    assert_int_equal(pn_addr_parse(in, &a), 0);
    assert_string_equal(pn_addr_to_text(&a, buf, sizeof buf), expect);
}

static void test_parse_ipv4_and_ipv6_with_port(void **state)
{
    (void)state;
    pn_addr a;
    roundtrip("127.0.0.1:1883", "127.0.0.1:1883");
    roundtrip("0.0.0.0:0", "0.0.0.0:0");
    roundtrip("[::1]:8883", "[::1]:8883");
    roundtrip("[2001:DB8:0:0::1]:65535", "[2001:db8::1]:65535");
    roundtrip("[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.1]:1");
    assert_int_equal(pn_addr_parse("10.1.2.3:4567", &a), 0);
    assert_int_equal(pn_addr_family(&a), AF_INET);
    assert_int_equal(pn_addr_port(&a), 4567);
    pn_addr_set_port(&a, 99);
    assert_int_equal(pn_addr_port(&a), 99);
    char ip[PN_ADDR_TEXT_MAX];
    assert_string_equal(pn_addr_ip_text(&a, ip, sizeof ip), "10.1.2.3");
    assert_int_equal(pn_addr_parse("[fe80::2]:7", &a), 0);
    assert_int_equal(pn_addr_family(&a), AF_INET6);
    assert_string_equal(pn_addr_ip_text(&a, ip, sizeof ip), "fe80::2");
}

static void test_parse_rejects_bad_text(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", "127.0.0.1", "127.0.0.1:", ":1883", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:18a3",
        "127.0.0.1:123456", "127.0.0.1: 1883", " 127.0.0.1:1883", "127.0.0.01:1883", "256.0.0.1:1",
        "1.2.3:4", "::1:1883", "[::1]", "[::1]:", "[::1]1883", "[127.0.0.1]:1883", "[::1:1883",
        "[::1]]:1883", "[::g]:1", "localhost:1883", "127.0.0.1:1883x", "[::1]:80:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pn_addr a;
        if (pn_addr_parse(bad[i], &a) != -1)
            fail_msg("accepted bad address '%s'", bad[i]);
        assert_int_equal(pn_addr_family(&a), AF_UNSPEC);
    }
    pn_addr a;
    assert_int_equal(pn_addr_parse(NULL, &a), -1);
    char buf[PN_ADDR_TEXT_MAX];
    assert_string_equal(pn_addr_to_text(&a, buf, sizeof buf), "?");
}

static void test_to_text_never_overflows_small_buffer(void **state)
{
    (void)state;
    pn_addr a;
    char small[8];
    assert_int_equal(pn_addr_parse("[2001:db8::1234]:65535", &a), 0);
    assert_string_equal(pn_addr_to_text(&a, small, sizeof small), "?");
    assert_string_equal(pn_addr_ip_text(&a, small, sizeof small), "?");
}

static void test_from_ip_bytes_and_mapped_equality(void **state)
{
    (void)state;
    pn_addr v4, mapped, unmapped, b;
    assert_int_equal(pn_addr_from_ip("192.0.2.7", 10, &v4), 0);
    assert_int_equal(pn_addr_from_ip("[::ffff:192.0.2.7]", 10, &mapped), 0);
    assert_int_equal(pn_addr_from_ip("::1", 1, &b), 0);
    assert_int_equal(pn_addr_from_ip("[1.2.3.4]", 1, &b), -1);
    assert_true(pn_addr_same_ip(&v4, &mapped));
    assert_true(pn_addr_equal(&v4, &mapped));
    pn_addr_unmap(&mapped, &unmapped);
    assert_int_equal(pn_addr_family(&unmapped), AF_INET);
    assert_int_equal(pn_addr_port(&unmapped), 10);
    const uint8_t raw[4] = {198, 51, 100, 1};
    assert_int_equal(pn_addr_from_bytes(AF_INET, raw, 443, &b), 0);
    char buf[PN_ADDR_TEXT_MAX];
    assert_string_equal(pn_addr_to_text(&b, buf, sizeof buf), "198.51.100.1:443");
    size_t n;
    assert_memory_equal(pn_addr_ip_bytes(&b, &n), raw, 4);
    assert_int_equal(n, 4);
    assert_false(pn_addr_same_ip(&b, &v4));
    assert_int_equal(pn_addr_from_bytes(AF_UNIX, raw, 1, &b), -1);
}

static void cidr_ok(const char *text, const char *canon)
{
    pn_cidr c;
    char buf[64];
    if (pn_cidr_parse(text, &c) != 0)
        fail_msg("rejected CIDR '%s'", text);
    assert_string_equal(pn_cidr_to_text(&c, buf, sizeof buf), canon);
}

static void test_R_SEC_02_cidr_parse_forms(void **state)
{
    (void)state;
    cidr_ok("127.0.0.0/8", "127.0.0.0/8");
    cidr_ok("10.1.2.3/8", "10.0.0.0/8"); /* host bits cleared */
    cidr_ok("192.0.2.1", "192.0.2.1/32");
    cidr_ok("0.0.0.0/0", "0.0.0.0/0");
    cidr_ok("::1/128", "::1/128");
    cidr_ok("::1", "::1/128");
    cidr_ok("2001:db8:abcd::/47", "2001:db8:abcc::/47");
    cidr_ok("::/0", "::/0");
    static const char *bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::1/129", "10.0.0.0/08",
                                "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0.0/8/8", "10.0.0/8", "10.0.0.0/-1",
                                "10.0.0.0/1000", "[::1]/128", "host/8", "10.0.0.0/a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pn_cidr c;
        if (pn_cidr_parse(bad[i], &c) != -1)
            fail_msg("accepted bad CIDR '%s'", bad[i]);
    }
}

static bool match(const char *cidr, const char *ip)
{
    pn_cidr c;
    pn_addr a;
    assert_int_equal(pn_cidr_parse(cidr, &c), 0);
    assert_int_equal(pn_addr_from_ip(ip, 0, &a), 0);
    return pn_cidr_match(&c, &a);
}

static void test_R_SEC_02_cidr_match(void **state)
{
    (void)state;
    assert_true(match("127.0.0.0/8", "127.0.0.1"));
    assert_true(match("127.0.0.0/8", "127.255.255.255"));
    assert_false(match("127.0.0.0/8", "128.0.0.1"));
    assert_true(match("10.0.0.0/9", "10.127.0.1"));
    assert_false(match("10.0.0.0/9", "10.128.0.1"));
    assert_true(match("192.0.2.1", "192.0.2.1"));
    assert_false(match("192.0.2.1", "192.0.2.2"));
    assert_true(match("0.0.0.0/0", "203.0.113.9"));
    assert_true(match("::1/128", "::1"));
    assert_false(match("::1/128", "::2"));
    assert_true(match("2001:db8::/32", "2001:db8:ffff::1"));
    assert_false(match("2001:db8::/33", "2001:db8:8000::1"));
    /* families do not mix, except IPv4-mapped IPv6 peers against IPv4 CIDRs */
    assert_false(match("::/0", "127.0.0.1"));
    assert_false(match("0.0.0.0/0", "::1"));
    assert_true(match("127.0.0.0/8", "::ffff:127.0.0.9"));
    assert_false(match("127.0.0.0/8", "::ffff:10.0.0.9"));
    assert_false(match("127.0.0.0/8", "::127.0.0.9")); /* IPv4-compatible is not mapped */
    pn_cidr c;
    assert_int_equal(pn_cidr_parse("198.51.100.0/24", &c), 0);
    const uint8_t raw[4] = {198, 51, 100, 77};
    assert_true(pn_cidr_match_bytes(&c, AF_INET, raw));
}

static void test_R_SEC_02_cidr_list(void **state)
{
    (void)state;
    pn_cidr_list l;
    char err[128];
    pn_addr a;
    assert_int_equal(pn_cidr_list_parse("127.0.0.0/8, ::1,\t10.0.0.0/8 ", &l, err, sizeof err), 0);
    assert_int_equal(l.count, 3);
    assert_int_equal(pn_addr_from_ip("10.9.9.9", 0, &a), 0);
    assert_true(pn_cidr_list_match(&l, &a));
    assert_int_equal(pn_addr_from_ip("::1", 0, &a), 0);
    assert_true(pn_cidr_list_match(&l, &a));
    assert_int_equal(pn_addr_from_ip("::ffff:127.1.2.3", 0, &a), 0);
    assert_true(pn_cidr_list_match(&l, &a));
    assert_int_equal(pn_addr_from_ip("192.0.2.1", 0, &a), 0);
    assert_false(pn_cidr_list_match(&l, &a));

    assert_int_equal(pn_cidr_list_parse("  ", &l, err, sizeof err), 0);
    assert_int_equal(l.count, 0);
    assert_false(pn_cidr_list_match(&l, &a)); /* empty list matches nothing */

    assert_int_equal(pn_cidr_list_parse("127.0.0.0/8, 10.0.0.0/33", &l, err, sizeof err), -1);
    assert_string_equal(err, "bad CIDR '10.0.0.0/33' (item 2)");
    assert_int_equal(l.count, 0);
    assert_int_equal(pn_cidr_list_parse("127.0.0.0/8,,::1", &l, err, sizeof err), -1);
    assert_string_equal(err, "empty CIDR (item 2)");
    assert_int_equal(pn_cidr_list_parse("127.0.0.0/8,", &l, err, sizeof err), -1);

    /* the bound: PN_CIDR_LIST_MAX items fit, one more is an error */
    char big[PN_CIDR_LIST_MAX * 16 + 32] = "";
    for (int i = 0; i < PN_CIDR_LIST_MAX; i++) {
        char item[16];
        snprintf(item, sizeof item, "%s10.0.%d.0/24", i ? "," : "", i);
        strcat(big, item);
    }
    assert_int_equal(pn_cidr_list_parse(big, &l, err, sizeof err), 0);
    assert_int_equal(l.count, PN_CIDR_LIST_MAX);
    strcat(big, ",10.1.0.0/16");
    assert_int_equal(pn_cidr_list_parse(big, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than"));
    char huge[200];
    memset(huge, '1', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(pn_cidr_list_parse(huge, &l, err, sizeof err), -1);
}

/* Random text from an address-ish alphabet: parsers answer 0 or -1, never overread. */
static void test_random_text_never_crashes(void **state)
{
    (void)state;
    static const char alphabet[] = "0123456789abcdef.:[]/%, \tx";
    srand(11);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rand() % 60;
        char *text = malloc(len + 1); /* exact size: any overread is caught */
        for (size_t i = 0; i < len; i++)
            text[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        text[len] = '\0';
        pn_addr a;
        pn_cidr c;
        pn_cidr_list l;
        char err[64], out[PN_ADDR_TEXT_MAX];
        int rc = pn_addr_parse(text, &a);
        assert_true(rc == 0 || rc == -1);
        if (rc == 0) {
            /* what parses prints back to something that parses to the same address */
            pn_addr b;
            assert_int_equal(pn_addr_parse(pn_addr_to_text(&a, out, sizeof out), &b), 0);
            assert_true(pn_addr_equal(&a, &b));
        }
        rc = pn_cidr_parse(text, &c);
        assert_true(rc == 0 || rc == -1);
        rc = pn_cidr_list_parse(text, &l, err, sizeof err);
        assert_true(rc == 0 || rc == -1);
        assert_true(l.count <= PN_CIDR_LIST_MAX);
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ipv4_and_ipv6_with_port),
        cmocka_unit_test(test_parse_rejects_bad_text),
        cmocka_unit_test(test_to_text_never_overflows_small_buffer),
        cmocka_unit_test(test_from_ip_bytes_and_mapped_equality),
        cmocka_unit_test(test_R_SEC_02_cidr_parse_forms),
        cmocka_unit_test(test_R_SEC_02_cidr_match),
        cmocka_unit_test(test_R_SEC_02_cidr_list),
        cmocka_unit_test(test_random_text_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
