/* proxysend option parsing: every option lands in the struct, every bad value is refused
 * with exit status 2 and a message naming the option and the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

#define ARGV(...) ((char *[]){"proxysend", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"proxysend", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(o, err, ...) ps_opts_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (o), (err), sizeof(err))

static void test_defaults_target_only(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "127.0.0.1:1883"), 0);
    assert_int_equal(o.mode, PS_MODE_SEND);
    assert_string_equal(o.target, "127.0.0.1:1883");
    assert_int_equal(o.version, 0);
    assert_int_equal(o.command, -1);
    assert_int_equal(o.family, PS_FAM_UNSET);
    assert_null(o.src);
    assert_null(o.dst);
    assert_int_equal(o.timeout_ms, 5000);
    assert_int_equal(o.mqtt_version, 4);
    assert_int_equal(o.expect, PS_EXPECT_NONE);
    ps_opts_free(&o);
}

static void test_options_after_target_are_parsed(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "127.0.0.1:1883", "-1", "--expect", "close"), 0);
    assert_int_equal(o.version, 1);
    assert_int_equal(o.expect, PS_EXPECT_CLOSE);
    ps_opts_free(&o);
}

static void test_header_options(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "-2", "--command", "local", "--family", "udp6", "--src", "[2001:db8::1]:4000",
                           "--dst", "unix:/run/x.sock", "--bind", "127.0.0.5", "h:1"),
                     0);
    assert_int_equal(o.version, 2);
    assert_int_equal(o.command, PP_CMD_LOCAL);
    assert_int_equal(o.family, PS_FAM_UDP6);
    assert_string_equal(o.src, "[2001:db8::1]:4000");
    assert_string_equal(o.dst, "unix:/run/x.sock");
    assert_string_equal(o.bind, "127.0.0.5");
    ps_opts_free(&o);
}

static void test_bad_family_names_option_and_value(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--family", "tcp5", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--family"));
    assert_non_null(strstr(err, "tcp5"));
    ps_opts_free(&o);
}

static void test_bad_src_names_option_and_value(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--src", "999.1.1.1:80", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--src"));
    assert_non_null(strstr(err, "999.1.1.1:80"));
    ps_opts_free(&o);
}

static void test_text_tlvs_and_hex_values(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--tlv", "alpn=mqtt", "--tlv", "authority=broker.example", "--tlv",
                           "unique-id=hex:00ff", "--tlv", "netns=blue", "h:1"),
                     0);
    assert_int_equal(o.ntlvs, 4);
    assert_int_equal(o.tlvs[0].type, PP_TLV_ALPN);
    assert_memory_equal(o.tlvs[0].value, "mqtt", 4);
    assert_int_equal(o.tlvs[1].type, PP_TLV_AUTHORITY);
    assert_int_equal(o.tlvs[1].len, 14);
    assert_int_equal(o.tlvs[2].type, PP_TLV_UNIQUE_ID);
    assert_int_equal(o.tlvs[2].len, 2);
    assert_int_equal(o.tlvs[2].value[1], 0xff);
    assert_int_equal(o.tlvs[3].type, PP_TLV_NETNS);
    ps_opts_free(&o);
}

static void test_crc_noop_and_raw_tlvs(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--tlv", "crc32c", "--tlv", "crc32c=deadbeef", "--tlv", "noop=36", "--tlv",
                           "0xE1=0102", "--tlv", "ssl-0x29=aa", "h:1"),
                     0);
    assert_int_equal(o.tlvs[0].kind, PS_TLV_CRC_AUTO);
    assert_int_equal(o.tlvs[1].kind, PS_TLV_PLAIN);
    assert_int_equal(o.tlvs[1].len, 4);
    assert_int_equal(o.tlvs[1].value[0], 0xde);
    assert_int_equal(o.tlvs[2].type, PP_TLV_NOOP);
    assert_int_equal(o.tlvs[2].len, 36);
    assert_int_equal(o.tlvs[3].type, 0xE1);
    assert_int_equal(o.tlvs[3].len, 2);
    assert_int_equal(o.tlvs[4].kind, PS_TLV_SSL_SUB);
    assert_int_equal(o.tlvs[4].type, 0x29);
    ps_opts_free(&o);
}

static void test_cloud_tlvs_encodings(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--tlv", "aws-vpce=vpce-1", "--tlv", "azure-linkid=0x01020304", "--tlv",
                           "gcp-psc=0x0102030405060708", "h:1"),
                     0);
    /* AWS 0xEA: subtype 0x01, then the ASCII id */
    assert_int_equal(o.tlvs[0].type, 0xEA);
    assert_int_equal(o.tlvs[0].len, 7);
    assert_memory_equal(o.tlvs[0].value, "\x01vpce-1", 7);
    /* Azure 0xEE: subtype 0x01, LINKID little-endian */
    assert_int_equal(o.tlvs[1].type, 0xEE);
    assert_memory_equal(o.tlvs[1].value, "\x01\x04\x03\x02\x01", 5);
    /* GCP 0xE0: big-endian uint64 */
    assert_int_equal(o.tlvs[2].type, 0xE0);
    assert_memory_equal(o.tlvs[2].value, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    ps_opts_free(&o);
}

static void test_ssl_parts(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--tlv", "ssl-client=ssl,cert-conn", "--tlv", "ssl-verify=18", "--tlv",
                           "ssl-version=TLSv1.3", "--tlv", "ssl-cn=alice", "--tlv", "ssl-cipher=X", "--tlv",
                           "ssl-sig-alg=RSA-SHA256", "--tlv", "ssl-key-alg=RSA2048", "--tlv", "ssl-group=x25519",
                           "--tlv", "ssl-sig-scheme=rsa_pss_rsae_sha256", "--tlv", "ssl-client-cert=/tmp/c.pem",
                           "h:1"),
                     0);
    assert_int_equal(o.tlvs[0].kind, PS_TLV_SSL_CLIENT);
    assert_int_equal(o.tlvs[0].number, PP_CLIENT_SSL | PP_CLIENT_CERT_CONN);
    assert_int_equal(o.tlvs[1].kind, PS_TLV_SSL_VERIFY);
    assert_int_equal(o.tlvs[1].number, 18);
    static const uint8_t subs[] = {PP_SSL_VERSION, PP_SSL_CN, PP_SSL_CIPHER, PP_SSL_SIG_ALG, PP_SSL_KEY_ALG,
                                   PP_SSL_GROUP, PP_SSL_SIG_SCHEME};
    for (size_t i = 0; i < sizeof subs; i++) {
        assert_int_equal(o.tlvs[2 + i].kind, PS_TLV_SSL_SUB);
        assert_int_equal(o.tlvs[2 + i].type, subs[i]);
    }
    assert_int_equal(o.tlvs[9].kind, PS_TLV_SSL_CERT_FILE);
    assert_string_equal((const char *)o.tlvs[9].value, "/tmp/c.pem");
    ps_opts_free(&o);
}

static void test_bad_tlvs_refused(void **state)
{
    (void)state;
    static const char *bad[][2] = {
        {"colour=red", "colour"}, {"alpn", "alpn"}, {"azure-linkid=-1", "azure-linkid"},
        {"ssl-client=ssl,bogus", "ssl-client"}, {"0x1FF=00", "0x1FF"}, {"0xEA=zz", "0xEA"},
        {"crc32c=xyz", "crc32c"}, {"ssl-verify=abc", "ssl-verify"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_opts o;
        char err[512];
        assert_int_equal(PARSE(&o, err, "--tlv", (char *)bad[i][0], "h:1"), PS_EXIT_USAGE);
        assert_non_null(strstr(err, "--tlv"));
        assert_non_null(strstr(err, bad[i][1]));
        ps_opts_free(&o);
    }
}

static void test_v1_with_tlv_refused(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "-1", "--tlv", "alpn=x", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "version 1"));
    ps_opts_free(&o);
}

static void test_mutations(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--mutate", "bad-signature=3", "--mutate", "version=1", "--mutate", "command=2",
                           "--mutate", "family-byte=0x41", "--mutate", "len=7", "--mutate", "len-delta=-3", "--mutate",
                           "tlv-len=alpn:99", "--mutate", "crc-corrupt", "--mutate", "crc-little-endian", "h:1"),
                     0);
    assert_int_equal(o.nmutations, 9);
    assert_int_equal(o.mutations[0].kind, PS_MUT_BAD_SIGNATURE);
    assert_int_equal(o.mutations[0].value, 3);
    assert_int_equal(o.mutations[3].value, 0x41);
    assert_int_equal(o.mutations[5].value, -3);
    assert_int_equal(o.mutations[6].type, PP_TLV_ALPN);
    assert_int_equal(o.mutations[6].value, 99);
    ps_opts_free(&o);

    assert_int_equal(PARSE(&o, err, "-1", "--mutate", "v1-leading-zeros", "--mutate", "v1-double-space", "--mutate",
                           "v1-lf-only", "--mutate", "v1-overlong=120", "--mutate", "v1-lowercase", "h:1"),
                     0);
    assert_int_equal(o.mutations[3].value, 120);
    ps_opts_free(&o);
}

static void test_bad_mutations_refused(void **state)
{
    (void)state;
    static const char *bad[] = {"version=16", "len=70000", "tlv-len=alpn", "bad-signature=12", "crc-corrupt=1",
                                "frobnicate", "family-byte=300"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ps_opts o;
        char err[512];
        assert_int_equal(PARSE(&o, err, "--mutate", (char *)bad[i], "h:1"), PS_EXIT_USAGE);
        assert_non_null(strstr(err, "--mutate"));
        assert_non_null(strstr(err, bad[i]));
        ps_opts_free(&o);
    }
    ps_opts o;
    char err[512];
    /* v1 text malformations need -1, binary ones -2 */
    assert_int_equal(PARSE(&o, err, "--mutate", "v1-lf-only", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "-1", "--mutate", "len=3", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
}

static void test_R_GEN_09_delivery_options(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--split", "1,12,16", "--delay", "250ms", "--pre-delay", "2.5s", "--header-twice",
                           "--half-close", "h:1"),
                     0);
    assert_int_equal(o.nsplits, 3);
    assert_int_equal(o.splits[2], 16);
    assert_int_equal(o.delay_ms, 250);
    assert_int_equal(o.pre_delay_ms, 2500);
    assert_true(o.header_twice);
    assert_true(o.half_close);
    ps_opts_free(&o);

    assert_int_equal(PARSE(&o, err, "--split", "12,5", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--split"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--split", "0", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--delay", "soon", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "soon"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--coalesce", "--byte-at-a-time", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
}

static void test_payload_options_keep_order(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--mqtt-connect", "--mqtt-version", "5", "--client-id", "c1", "--username", "u",
                           "--password", "p", "--keep-alive", "30", "--publish", "a/b=hi", "--subscribe", "a/#",
                           "--qos", "1", "--hex", "e000", "--file", "/etc/hostname", "--stdin", "h:1"),
                     0);
    assert_int_equal(o.npayloads, 6);
    assert_int_equal(o.payloads[0].kind, PS_PAY_MQTT_CONNECT);
    assert_int_equal(o.payloads[1].kind, PS_PAY_PUBLISH);
    assert_int_equal(o.payloads[2].kind, PS_PAY_SUBSCRIBE);
    assert_int_equal(o.payloads[3].kind, PS_PAY_HEX);
    assert_int_equal(o.payloads[3].len, 2);
    assert_int_equal(o.payloads[4].kind, PS_PAY_FILE);
    assert_int_equal(o.payloads[5].kind, PS_PAY_STDIN);
    assert_int_equal(o.mqtt_version, 5);
    assert_int_equal(o.keep_alive, 30);
    assert_int_equal(o.qos, 1);
    ps_opts_free(&o);

    assert_int_equal(PARSE(&o, err, "--mqtt-version", "6", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--mqtt-version"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--hex", "abc", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
}

static void test_tls_options_need_tls(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--tls", "--cert", "c.pem", "--key", "k.pem", "--cafile", "ca.pem", "--sni", "x",
                           "--alpn", "mqtt", "h:1"),
                     0);
    assert_true(o.tls);
    assert_string_equal(o.alpn, "mqtt");
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--cafile", "ca.pem", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--tls", "--cert", "c.pem", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
}

static void test_expect_forms(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--expect", "connack=0x05", "h:1"), 0);
    assert_int_equal(o.expect, PS_EXPECT_CONNACK);
    assert_int_equal(o.expect_code, 5);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--expect", "connack", "h:1"), 0);
    assert_int_equal(o.expect_code, -1);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--expect", "bytes:20020000", "--timeout", "1.5s", "h:1"), 0);
    assert_int_equal(o.expect, PS_EXPECT_BYTES);
    assert_int_equal(o.expect_len, 4);
    assert_int_equal(o.timeout_ms, 1500);
    ps_opts_free(&o);
    const char *kinds[] = {"close", "fin", "rst", "silence"};
    const enum ps_expect_kind want[] = {PS_EXPECT_CLOSE, PS_EXPECT_FIN, PS_EXPECT_RST, PS_EXPECT_SILENCE};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(PARSE(&o, err, "--expect", (char *)kinds[i], "h:1"), 0);
        assert_int_equal(o.expect, want[i]);
        ps_opts_free(&o);
    }
    assert_int_equal(PARSE(&o, err, "--expect", "connack=256", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "connack=256"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--expect", "banner", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--timeout", "0", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
}

static void test_profiles(void **state)
{
    (void)state;
    static const char *names[] = {"haproxy-v1", "haproxy-v2", "haproxy-v2-ssl", "haproxy-v2-ssl-cn",
                                  "haproxy-healthcheck", "nginx-v1", "aws-nlb", "aws-nlb-healthcheck"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ps_opts o;
        char err[512];
        assert_int_equal(PARSE(&o, err, "--profile", (char *)names[i], "--dry-run"), 0);
        assert_string_equal(ps_profile_name(o.profile), names[i]);
        ps_opts_free(&o);
    }
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--profile", "envoy", "h:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "envoy"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--profile", "nginx-v1", "-2", "h:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--profile", "haproxy-healthcheck", "-1", "h:1"), 0);
    ps_opts_free(&o);
}

static void test_modes(void **state)
{
    (void)state;
    ps_opts o;
    char err[512];
    assert_int_equal(PARSE(&o, err, "--listen", "127.0.0.1:0", "--forward", "127.0.0.1:1883", "--keep-header",
                           "--count", "3", "--json", "--ready-file", "/tmp/r"),
                     0);
    assert_int_equal(o.mode, PS_MODE_LISTEN);
    assert_int_equal(o.count, 3);
    assert_true(o.keep_header);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--relay", "127.0.0.1:0", "--to", "127.0.0.1:1883", "-1"), 0);
    assert_int_equal(o.mode, PS_MODE_RELAY);
    assert_string_equal(o.forward, "127.0.0.1:1883");
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--relay", "127.0.0.1:0"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--to"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--listen", "127.0.0.1:0", "--relay", "127.0.0.1:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--count", "0", "--listen", "x:1"), PS_EXIT_USAGE);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--json"), PS_EXIT_USAGE); /* no target */
    assert_non_null(strstr(err, "HOST:PORT"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--dry-run"), 0);
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "a:1", "b:2"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "b:2"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--frobnicate", "a:1"), PS_EXIT_USAGE);
    assert_non_null(strstr(err, "--frobnicate"));
    ps_opts_free(&o);
    assert_int_equal(PARSE(&o, err, "--help"), 0);
    assert_int_equal(o.mode, PS_MODE_HELP);
    ps_opts_free(&o);
}

static void test_small_parsers(void **state)
{
    (void)state;
    unsigned ms;
    assert_int_equal(ps_parse_duration_ms("300", &ms), 0);
    assert_int_equal(ms, 300);
    assert_int_equal(ps_parse_duration_ms("2s", &ms), 0);
    assert_int_equal(ms, 2000);
    assert_int_equal(ps_parse_duration_ms("1m", &ms), 0);
    assert_int_equal(ms, 60000);
    assert_int_equal(ps_parse_duration_ms("-1s", &ms), -1);
    assert_int_equal(ps_parse_duration_ms("3h", &ms), -1);
    size_t n;
    uint8_t *b = ps_parse_hex("0x0d0a 0D:0A", &n);
    assert_non_null(b);
    assert_int_equal(n, 4);
    assert_memory_equal(b, "\r\n\r\n", 4);
    free(b);
    assert_null(ps_parse_hex("abc", &n));
    assert_null(ps_parse_hex("zz", &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_target_only),
        cmocka_unit_test(test_options_after_target_are_parsed),
        cmocka_unit_test(test_header_options),
        cmocka_unit_test(test_bad_family_names_option_and_value),
        cmocka_unit_test(test_bad_src_names_option_and_value),
        cmocka_unit_test(test_text_tlvs_and_hex_values),
        cmocka_unit_test(test_crc_noop_and_raw_tlvs),
        cmocka_unit_test(test_cloud_tlvs_encodings),
        cmocka_unit_test(test_ssl_parts),
        cmocka_unit_test(test_bad_tlvs_refused),
        cmocka_unit_test(test_v1_with_tlv_refused),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_bad_mutations_refused),
        cmocka_unit_test(test_R_GEN_09_delivery_options),
        cmocka_unit_test(test_payload_options_keep_order),
        cmocka_unit_test(test_tls_options_need_tls),
        cmocka_unit_test(test_expect_forms),
        cmocka_unit_test(test_profiles),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_small_parsers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
