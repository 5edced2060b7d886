/* Unit tests for broker/config: every key of the ppbroker contract and every error path.
 * Errors must name file:line, the key and the reason (issue 3: "An unknown key or bad value
 * is an error naming file:line, key and reason"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "proxy/proxy.h"

static char tmpdir[256];
static char readable[300];

static int setup_files(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ppc-cfgtest-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(readable, sizeof(readable), "%s/file.pem", tmpdir);
    FILE *f = fopen(readable, "w");
    if (!f)
        return -1;
    fputs("x\n", f);
    fclose(f);
    return 0;
}

static int teardown_files(void **state)
{
    (void)state;
    unlink(readable);
    rmdir(tmpdir);
    return 0;
}

static ppb_config cfg;
static char err[PPB_ERR_MAX];

static int parse(const char *text)
{
    err[0] = '\0';
    return ppb_config_parse(text, strlen(text), "t.conf", &cfg, err, sizeof(err));
}

static void expect_ok(const char *text)
{
    int rc = parse(text);
    if (rc != 0)
        fail_msg("expected OK, got error: %s", err);
}

static void expect_err(const char *text, const char *want)
{
    int rc = parse(text);
    if (rc == 0)
        fail_msg("expected error '%s', got OK", want);
    if (!strstr(err, want))
        fail_msg("expected error containing\n  '%s'\ngot\n  '%s'", want, err);
}

#define L "listener.tcp.pp = 127.0.0.1:0\n"

/* ---- defaults and valid keys --------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    expect_ok(L);
    assert_int_equal(cfg.nlisteners, 1);
    const ppb_listener_config *l = &cfg.listeners[0];
    assert_string_equal(l->name, "pp");
    assert_int_equal(l->kind, PPB_LISTENER_TCP);
    assert_string_equal(l->address_text, "127.0.0.1:0");
    assert_false(l->proxy_protocol);
    assert_int_equal(l->pp_versions, PP_ALLOW_V1 | PP_ALLOW_V2);
    assert_int_equal(l->pp_timeout_ms, 5000);
    assert_int_equal(l->max_connections, 10000);
    assert_false(l->use_cn_as_username);
    assert_int_equal(l->cn_policy, PPB_CN_REQUIRE);
    assert_false(l->trusted_proxies.set);
    assert_false(l->require_crc32c);
    assert_false(l->allowed_sources.set);
    assert_true(cfg.allow_anonymous);
    assert_string_equal(cfg.password_file, "");
    assert_string_equal(cfg.acl_file, "");
    assert_int_equal(cfg.log_level, PPB_LOG_INFO);
    assert_int_equal(cfg.log_format, PPB_LOG_TEXT);
    assert_false(cfg.has_admin);
    assert_int_equal(cfg.max_packet_size, 1048576);
    assert_int_equal(cfg.max_inflight_messages, 20);
    assert_int_equal(cfg.max_queued_messages, 1000);
}

static void test_comments_blank_lines_spaces(void **state)
{
    (void)state;
    expect_ok("# a comment\n\n   \t\n  listener.tcp.a   =   127.0.0.1:1883  \r\n# end");
    assert_string_equal(cfg.listeners[0].address_text, "127.0.0.1:1883");
}

static void test_listener_addresses(void **state)
{
    (void)state;
    expect_ok("listener.tcp.v6 = [::1]:0\nlistener.tcp.v4 = 0.0.0.0:65535\nlistener.tcp.x-y_1 = 127.0.0.2:1\n");
    assert_int_equal(cfg.nlisteners, 3);
    assert_string_equal(cfg.listeners[0].address_text, "[::1]:0");
    assert_int_equal(pn_addr_family(&cfg.listeners[0].addr), AF_INET6);
    assert_int_equal(pn_addr_port(&cfg.listeners[1].addr), 65535);
    assert_non_null(ppb_config_listener(&cfg, "x-y_1"));
    assert_null(ppb_config_listener(&cfg, "nope"));
}

static void test_R_GEN_13_proxy_protocol_keys(void **state)
{
    (void)state;
    expect_ok(L "listener.tcp.pp.proxy_protocol = on\n"
                "listener.tcp.pp.proxy_protocol_versions = 2\n"
                "listener.tcp.pp.proxy_protocol_timeout = 3000ms\n"
                "listener.tcp.pp.max_connections = 7\n");
    const ppb_listener_config *l = &cfg.listeners[0];
    assert_true(l->proxy_protocol);
    assert_int_equal(l->pp_versions, PP_ALLOW_V2);
    assert_int_equal(l->pp_timeout_ms, 3000);
    assert_int_equal(l->max_connections, 7);
    expect_ok(L "listener.tcp.pp.proxy_protocol = off\nlistener.tcp.pp.proxy_protocol_versions = 1\n");
    assert_false(cfg.listeners[0].proxy_protocol);
    assert_int_equal(cfg.listeners[0].pp_versions, PP_ALLOW_V1);
    expect_ok(L "listener.tcp.pp.proxy_protocol_versions = 2, 1\nlistener.tcp.pp.proxy_protocol_timeout = 60s\n");
    assert_int_equal(cfg.listeners[0].pp_versions, PP_ALLOW_V1 | PP_ALLOW_V2);
    assert_int_equal(cfg.listeners[0].pp_timeout_ms, 60000);
}

static void test_option_before_address(void **state)
{
    (void)state;
    expect_ok("listener.tcp.pp.proxy_protocol = on\nlistener.tcp.pp = 127.0.0.1:0\n");
    assert_true(cfg.listeners[0].proxy_protocol);
    assert_int_equal(cfg.listeners[0].first_line, 1);
}

static void test_issue4_keys(void **state)
{
    (void)state;
    expect_ok(L "listener.tcp.pp.proxy_protocol_use_cn_as_username = on\n"
                "listener.tcp.pp.proxy_protocol_cn_policy = fallback\n"
                "listener.tcp.pp.proxy_protocol_trusted_proxies = 127.0.0.1/32, 10.0.0.0/8,::1\n"
                "listener.tcp.pp.proxy_protocol_require_crc32c = on\n"
                "listener.tcp.pp.allowed_sources = 203.0.113.0/24\n");
    const ppb_listener_config *l = &cfg.listeners[0];
    assert_true(l->use_cn_as_username);
    assert_int_equal(l->cn_policy, PPB_CN_FALLBACK);
    assert_true(l->trusted_proxies.set);
    assert_int_equal(l->trusted_proxies.list.count, 3);
    assert_true(l->require_crc32c);
    assert_int_equal(l->allowed_sources.list.count, 1);
    pn_addr a;
    assert_int_equal(pn_addr_parse("10.9.8.7:1", &a), 0);
    assert_true(pn_cidr_list_match(&l->trusted_proxies.list, &a));
    assert_int_equal(pn_addr_parse("127.0.0.2:1", &a), 0);
    assert_false(pn_cidr_list_match(&l->trusted_proxies.list, &a));
    expect_ok(L "listener.tcp.pp.proxy_protocol_cn_policy = require\n");
    assert_int_equal(cfg.listeners[0].cn_policy, PPB_CN_REQUIRE);
}

static void test_ssl_listener_keys(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof(text),
             "listener.ssl.tls = 127.0.0.1:0\n"
             "listener.ssl.tls.certfile = %s\n"
             "listener.ssl.tls.keyfile = %s\n"
             "listener.ssl.tls.cafile = %s\n"
             "listener.ssl.tls.require_certificate = on\n"
             "listener.ssl.tls.use_identity_as_username = on\n"
             "listener.ssl.tls.tls_version_min = tlsv1.3\n"
             "listener.ssl.tls.proxy_protocol = on\n"
             "listener.ssl.tls.proxy_protocol_use_cn_as_username = off\n",
             readable, readable, readable);
    expect_ok(text);
    const ppb_listener_config *l = &cfg.listeners[0];
    assert_int_equal(l->kind, PPB_LISTENER_SSL);
    assert_string_equal(l->certfile, readable);
    assert_string_equal(l->keyfile, readable);
    assert_string_equal(l->cafile, readable);
    assert_true(l->require_certificate);
    assert_true(l->use_identity_as_username);
    assert_int_equal(l->tls_version_min, PPB_TLS_1_3);
    assert_true(l->proxy_protocol);
    snprintf(text, sizeof(text),
             "listener.ssl.tls = [::1]:0\nlistener.ssl.tls.certfile = %s\nlistener.ssl.tls.keyfile = %s\n"
             "listener.ssl.tls.tls_version_min = TLSv1.2\n",
             readable, readable);
    expect_ok(text);
    assert_int_equal(cfg.listeners[0].tls_version_min, PPB_TLS_1_2);
    assert_false(cfg.listeners[0].require_certificate);
}

static void test_global_keys(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof(text),
             L "allow_anonymous = off\npassword_file = %s\nacl_file = %s\nlog.console.level = debug\n"
               "log.format = json\nadmin.listener = 127.0.0.1:0\nmax_packet_size = 128\n"
               "max_inflight_messages = 65535\nmax_queued_messages = 0\n",
             readable, readable);
    expect_ok(text);
    assert_false(cfg.allow_anonymous);
    assert_string_equal(cfg.password_file, readable);
    assert_string_equal(cfg.acl_file, readable);
    assert_int_equal(cfg.log_level, PPB_LOG_DEBUG);
    assert_int_equal(cfg.log_format, PPB_LOG_JSON);
    assert_true(cfg.has_admin);
    assert_string_equal(cfg.admin_text, "127.0.0.1:0");
    assert_int_equal(cfg.max_packet_size, 128);
    assert_int_equal(cfg.max_inflight_messages, 65535);
    assert_int_equal(cfg.max_queued_messages, 0);
    expect_ok(L "log.console.level = info\nlog.format = text\nallow_anonymous = on\nadmin.listener = [::1]:8080\n"
                "max_packet_size = 268435455\n");
    assert_int_equal(cfg.log_level, PPB_LOG_INFO);
    assert_int_equal(cfg.max_packet_size, 268435455);
    assert_string_equal(cfg.admin_text, "[::1]:8080");
    expect_ok(L "log.console.level = warning\n");
    assert_int_equal(cfg.log_level, PPB_LOG_WARNING);
    expect_ok(L "log.console.level = error\n");
    assert_int_equal(cfg.log_level, PPB_LOG_ERROR);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_R_GEN_12_timeout_below_3s_refused(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 2999ms\n",
               "t.conf:2: listener.tcp.pp.proxy_protocol_timeout: below 3s is refused");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 2s\n", "R-GEN-12");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 0s\n", "below 3s");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 5\n",
               "t.conf:2: listener.tcp.pp.proxy_protocol_timeout: expected a duration with a unit");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 5m\n", "expected a duration with a unit");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = -5s\n", "expected a duration with a unit");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 05s\n", "expected a duration with a unit");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 3601s\n", "duration too long");
    expect_err(L "listener.tcp.pp.proxy_protocol_timeout = 99999999999999999999s\n", "duration too long");
}

static void test_bad_booleans(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.proxy_protocol = yes\n", "t.conf:2: listener.tcp.pp.proxy_protocol: expected on or off");
    expect_err(L "listener.tcp.pp.proxy_protocol = ON\n", "expected on or off");
    expect_err(L "listener.tcp.pp.proxy_protocol_use_cn_as_username = 1\n", "expected on or off");
    expect_err(L "listener.tcp.pp.proxy_protocol_require_crc32c = true\n", "expected on or off");
    expect_err(L "allow_anonymous = maybe\n", "t.conf:2: allow_anonymous: expected on or off");
}

static void test_bad_versions(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.proxy_protocol_versions = 3\n",
               "t.conf:2: listener.tcp.pp.proxy_protocol_versions: unknown PROXY protocol version");
    expect_err(L "listener.tcp.pp.proxy_protocol_versions = 1,,2\n", "unknown PROXY protocol version");
    expect_err(L "listener.tcp.pp.proxy_protocol_versions = ,\n", "expected 1, 2 or 1,2");
    expect_err(L "listener.tcp.pp.proxy_protocol_versions = v2\n", "unknown PROXY protocol version");
}

static void test_bad_addresses(void **state)
{
    (void)state;
    expect_err("listener.tcp.a = 127.0.0.1\n", "t.conf:1: listener.tcp.a: expected IP:PORT");
    expect_err("listener.tcp.a = 127.0.0.1:65536\n", "expected IP:PORT");
    expect_err("listener.tcp.a = localhost:1883\n", "expected IP:PORT");
    expect_err("listener.tcp.a = ::1:1883\n", "expected IP:PORT");
    expect_err("listener.tcp.a = 256.1.1.1:1\n", "expected IP:PORT");
    expect_err(L "admin.listener = nowhere\n", "t.conf:2: admin.listener: expected IP:PORT");
}

static void test_bad_cidrs(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.proxy_protocol_trusted_proxies = 10.0.0.0/33\n",
               "t.conf:2: listener.tcp.pp.proxy_protocol_trusted_proxies: ");
    expect_err(L "listener.tcp.pp.proxy_protocol_trusted_proxies = 10.0.0.0/33\n", "10.0.0.0/33");
    expect_err(L "listener.tcp.pp.allowed_sources = nonsense\n", "t.conf:2: listener.tcp.pp.allowed_sources: ");
    expect_err(L "listener.tcp.pp.allowed_sources = ,\n", "listener.tcp.pp.allowed_sources");
}

static void test_bad_numbers(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.max_connections = 0\n", "t.conf:2: listener.tcp.pp.max_connections: out of range");
    expect_err(L "listener.tcp.pp.max_connections = 1000001\n", "out of range");
    expect_err(L "listener.tcp.pp.max_connections = ten\n", "expected a decimal integer");
    expect_err(L "listener.tcp.pp.max_connections = -1\n", "expected a decimal integer");
    expect_err(L "max_packet_size = 127\n", "t.conf:2: max_packet_size: out of range (128..268435455)");
    expect_err(L "max_packet_size = 268435456\n", "out of range");
    expect_err(L "max_inflight_messages = 0\n", "t.conf:2: max_inflight_messages: out of range (1..65535)");
    /* main.c narrows the value to the engine's uint16_t window: 65536 would wrap to 0 */
    expect_err(L "max_inflight_messages = 65536\n", "t.conf:2: max_inflight_messages: out of range (1..65535)");
    expect_err(L "max_inflight_messages = 4294967296\n", "t.conf:2: max_inflight_messages: out of range (1..65535)");
    expect_err(L "max_inflight_messages = 99999999999999999999999\n", "out of range (1..65535)");
    expect_err(L "max_queued_messages = 1000001\n", "t.conf:2: max_queued_messages: out of range");
    expect_err(L "max_queued_messages = 99999999999999999999999\n", "out of range");
}

static void test_bad_enums(void **state)
{
    (void)state;
    expect_err(L "log.console.level = verbose\n", "t.conf:2: log.console.level: expected debug, info, warning or error");
    expect_err(L "log.format = xml\n", "t.conf:2: log.format: expected json or text");
    expect_err(L "listener.tcp.pp.proxy_protocol_cn_policy = maybe\n",
               "t.conf:2: listener.tcp.pp.proxy_protocol_cn_policy: expected require or fallback");
}

static void test_unknown_keys(void **state)
{
    (void)state;
    expect_err(L "listener.tcp.pp.proxy_protocl = on\n",
               "t.conf:2: listener.tcp.pp.proxy_protocl: unknown listener option 'proxy_protocl'");
    expect_err(L "allow_anonymus = on\n", "t.conf:2: allow_anonymus: unknown key");
    expect_err("listener.ws.a = 127.0.0.1:0\n", "t.conf:1: listener.ws.a: unknown listener kind");
    expect_err(L "listener.tcp.pp.certfile = /x\n", "t.conf:2: listener.tcp.pp.certfile: only valid on listener.ssl");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_err(L "just words\n", "t.conf:2: expected 'key = value'");
    expect_err(L " = on\n", "t.conf:2: missing key before '='");
    expect_err(L "allow_anonymous =\n", "t.conf:2: allow_anonymous: empty value");
    expect_err(L "bad key = on\n", "t.conf:2: bad key");
    expect_err("listener.tcp. = 127.0.0.1:0\n", "t.conf:1: listener.tcp.: bad listener name");
    expect_err("listener.tcp.a/b = 127.0.0.1:0\n", "t.conf:1: bad key");
    static const char with_nul[] = L "allow_anonymous = on\0x\n";
    err[0] = '\0';
    assert_int_equal(ppb_config_parse(with_nul, sizeof(with_nul) - 1, "t.conf", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "t.conf:2: NUL byte"));
    char *longline = malloc(5000);
    memset(longline, 'a', 4999);
    longline[4999] = '\0';
    expect_err(longline, "t.conf:1: line too long");
    free(longline);
}

static void test_duplicates_and_structure(void **state)
{
    (void)state;
    expect_err(L "allow_anonymous = on\nallow_anonymous = off\n", "t.conf:3: allow_anonymous: set twice (first at line 2)");
    expect_err(L "listener.tcp.pp = 127.0.0.1:1\n", "t.conf:2: listener.tcp.pp: set twice (first at line 1)");
    expect_err(L "listener.ssl.pp = 127.0.0.1:1\n", "t.conf:2: listener.ssl.pp: listener name 'pp' is already used");
    expect_err("listener.tcp.pp.proxy_protocol = on\n", "t.conf:1: listener.tcp.pp: no address");
    expect_err("allow_anonymous = on\n", "t.conf: no listener configured");
    expect_err("", "no listener configured");
    char text[4096];
    size_t n = 0;
    for (int i = 0; i < PPB_MAX_LISTENERS + 1; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "listener.tcp.l%d = 127.0.0.1:0\n", i);
    expect_err(text, "t.conf:33: listener.tcp.l32: too many listeners");
}

static void test_ssl_requirements(void **state)
{
    (void)state;
    expect_err("listener.ssl.tls = 127.0.0.1:0\n", "t.conf:1: listener.ssl.tls: an ssl listener needs certfile and keyfile");
    char text[2048];
    snprintf(text, sizeof(text),
             "listener.ssl.tls = 127.0.0.1:0\nlistener.ssl.tls.certfile = %s\nlistener.ssl.tls.keyfile = %s\n"
             "listener.ssl.tls.require_certificate = on\n",
             readable, readable);
    expect_err(text, "require_certificate = on needs a cafile");
    expect_err("listener.ssl.tls = 127.0.0.1:0\nlistener.ssl.tls.certfile = /nonexistent/c.pem\n",
               "t.conf:2: listener.ssl.tls.certfile: cannot read '/nonexistent/c.pem'");
    expect_err("listener.ssl.tls = 127.0.0.1:0\nlistener.ssl.tls.tls_version_min = sslv3\n",
               "t.conf:2: listener.ssl.tls.tls_version_min: expected tlsv1.2 or tlsv1.3");
    expect_err("listener.ssl.tls = 127.0.0.1:0\nlistener.ssl.tls.require_certificate = sure\n", "expected on or off");
    expect_err("listener.ssl.tls = 127.0.0.1:0\nlistener.ssl.tls.use_identity_as_username = sure\n", "expected on or off");
}

static void test_unreadable_files(void **state)
{
    (void)state;
    expect_err(L "password_file = /nonexistent/passwd\n", "t.conf:2: password_file: cannot read '/nonexistent/passwd'");
    expect_err(L "acl_file = /nonexistent/acl\n", "t.conf:2: acl_file: cannot read '/nonexistent/acl'");
}

static void test_load_from_file(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof(path), "%s/ppbroker.conf", tmpdir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# ok\nlistener.tcp.a = 127.0.0.1:0\nlistener.tcp.a.proxy_protocol = sometimes\n", f);
    fclose(f);
    assert_int_equal(ppb_config_load(path, &cfg, err, sizeof(err)), -1);
    char want[512];
    snprintf(want, sizeof(want), "%s:3: listener.tcp.a.proxy_protocol: expected on or off", path);
    assert_string_equal(err, want);
    unlink(path);
    assert_int_equal(ppb_config_load("/nonexistent/ppbroker.conf", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/ppbroker.conf: cannot open"));
}

static void test_example_config_is_valid(void **state)
{
    (void)state;
    int rc = ppb_config_load(PPC_SOURCE_DIR "/broker/ppbroker.conf.example", &cfg, err, sizeof(err));
    if (rc != 0)
        fail_msg("shipped example config refused: %s", err);
    assert_int_equal(cfg.nlisteners, 2);
    assert_true(cfg.listeners[0].proxy_protocol);
    assert_false(cfg.listeners[1].proxy_protocol);
    assert_true(cfg.has_admin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_comments_blank_lines_spaces),
        cmocka_unit_test(test_listener_addresses),
        cmocka_unit_test(test_R_GEN_13_proxy_protocol_keys),
        cmocka_unit_test(test_option_before_address),
        cmocka_unit_test(test_issue4_keys),
        cmocka_unit_test(test_ssl_listener_keys),
        cmocka_unit_test(test_global_keys),
        cmocka_unit_test(test_R_GEN_12_timeout_below_3s_refused),
        cmocka_unit_test(test_bad_booleans),
        cmocka_unit_test(test_bad_versions),
        cmocka_unit_test(test_bad_addresses),
        cmocka_unit_test(test_bad_cidrs),
        cmocka_unit_test(test_bad_numbers),
        cmocka_unit_test(test_bad_enums),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_duplicates_and_structure),
        cmocka_unit_test(test_ssl_requirements),
        cmocka_unit_test(test_unreadable_files),
        cmocka_unit_test(test_load_from_file),
        cmocka_unit_test(test_example_config_is_valid),
    };
    return cmocka_run_group_tests(tests, setup_files, teardown_files);
}
