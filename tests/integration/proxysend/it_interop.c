/* Interop: proxysend --listen fed by real HAProxy (send-proxy, send-proxy-v2,
 * send-proxy-v2-ssl-cn with a client certificate made at test time with the openssl CLI)
 * and real nginx (stream proxy_protocol on), giving the expected findings; proxysend's
 * profiles reproduce the bytes those senders emitted; --pcap-out read back by tshark.
 * Every server is started in the foreground and stopped by its PID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "psit.h"

static bool have(const char *path)
{
    return access(path, X_OK) == 0;
}

/* Run a shell command line (fixed strings built by the test), bounded by timeout(1). */
static void sh(const char *cmd)
{
    char full[4096];
    snprintf(full, sizeof full, "cd '%s' && timeout 60 sh -c '%s' >>sh.log 2>&1", psit_dir, cmd);
    if (system(full) != 0)
        fail_msg("command failed: %s (see %s/sh.log)", cmd, psit_dir);
}

static void make_pki(void)
{
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt "
       "-days 1 -subj /CN=psend-ca && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr "
       "-subj /CN=localhost && "
       "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 && "
       "cat server.crt server.key > server-full.pem && "
       "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout alice.key -out alice.csr "
       "-subj /CN=alice && "
       "openssl x509 -req -in alice.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out alice.crt -days 1");
}

/* Wait for report number n of the validator and return its line. */
static void report_line(unsigned n, char *line, size_t cap)
{
    char path[600], needle[32];
    psit_path(path, sizeof path, "report");
    snprintf(needle, sizeof needle, "{\"conn\":%u,", n);
    if (ts_wait_line(path, needle, PSIT_WAIT_MS, line, cap) != 0)
        fail_msg("no report %u: %s", n, ts_last_error());
}

static void assert_has(const char *report, const char *needle)
{
    if (!strstr(report, needle))
        fail_msg("'%s' missing from report:\n%s", needle, report);
}

/* A plain client from 127.0.0.5: returns its local port. */
static unsigned plain_client(unsigned port)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", port);
    int fd = ts_connect(target, "127.0.0.5", PSIT_WAIT_MS);
    assert_true(fd >= 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(fd, (struct sockaddr *)&me, &ml);
    ts_send_str(fd, "hello", PSIT_WAIT_MS);
    size_t got;
    ts_expect_close(fd, PSIT_WAIT_MS, &got); /* the validator closes after its report */
    close(fd);
    return ntohs(me.sin_port);
}

/* The header bytes proxysend's profile gives for the same inputs (dry run, JSON). */
static void profile_hex(const char *const *args, char *hex, size_t cap)
{
    assert_int_equal(psit_run(args, "dry", "dry.err"), 0);
    char out[8192];
    psit_read("dry", out, sizeof out);
    assert_true(ts_json_get(out, "header_hex", hex, cap) > 0);
}

static void test_haproxy_senders_reported_correctly(void **state)
{
    (void)state;
    if (!have("/usr/sbin/haproxy"))
        skip();
    make_pki();
    char addr[64];
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--json", "--count", "6", "--timeout", "5s", NULL},
                      "report", addr, sizeof addr);
    unsigned p1 = psit_free_port(), p2 = psit_free_port(), p3 = psit_free_port(), p4 = psit_free_port(),
             p5 = psit_free_port();
    char cfg[8192], path[600];
    snprintf(cfg, sizeof cfg,
             "global\n    maxconn 64\n"
             "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
             "frontend fe_v1\n    bind 127.0.0.1:%u\n    default_backend be_v1\n"
             "backend be_v1\n    server sink %s send-proxy\n"
             "frontend fe_v2\n    bind 127.0.0.1:%u\n    default_backend be_v2\n"
             "backend be_v2\n    server sink %s send-proxy-v2\n"
             "frontend fe_tls\n    bind 127.0.0.1:%u ssl crt %s/server-full.pem ca-file %s/ca.crt verify optional\n"
             "    default_backend be_tls\n"
             "backend be_tls\n    server sink %s send-proxy-v2-ssl-cn\n"
             "frontend fe_all\n    bind 127.0.0.1:%u ssl crt %s/server-full.pem ca-file %s/ca.crt verify optional"
             " alpn mqtt\n"
             "    unique-id-format %%{+X}o\\ %%ci:%%cp_%%fi:%%fp_%%Ts_%%rt:%%pid\n"
             "    default_backend be_all\n"
             "backend be_all\n    server sink %s send-proxy-v2 proxy-v2-options "
             "ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id\n"
             "frontend fe_ssl\n    bind 127.0.0.1:%u ssl crt %s/server-full.pem ca-file %s/ca.crt verify optional\n"
             "    default_backend be_ssl\n"
             "backend be_ssl\n    server sink %s send-proxy-v2-ssl\n",
             p1, addr, p2, addr, p3, psit_dir, psit_dir, addr, p4, psit_dir, psit_dir, addr, p5, psit_dir, psit_dir,
             addr);
    psit_path(path, sizeof path, "haproxy.cfg");
    ts_write_file(path, cfg, strlen(cfg));
    char log[600];
    psit_path(log, sizeof log, "haproxy.log");
    ts_proc h;
    assert_int_equal(ts_spawn(&h, (const char *[]){"/usr/sbin/haproxy", "-f", path, "-db", NULL}, NULL, log, log), 0);
    psit_wait_port(p1, &h);
    psit_wait_port(p2, &h);
    psit_wait_port(p3, &h);
    psit_wait_port(p4, &h);
    psit_wait_port(p5, &h);

    char r[16384], want[128];
    /* send-proxy: a TCP4 line with the real client and HAProxy's frontend address */
    unsigned cport = plain_client(p1);
    report_line(1, r, sizeof r);
    assert_has(r, "\"valid\":true");
    assert_has(r, "\"version\":1");
    snprintf(want, sizeof want, "\"src\":\"127.0.0.5:%u\",\"dst\":\"127.0.0.1:%u\"", cport, p1);
    assert_has(r, want);
    assert_has(r, "\"fails\":0");

    /* send-proxy-v2: INET, no TLVs, one write */
    cport = plain_client(p2);
    report_line(2, r, sizeof r);
    assert_has(r, "\"version\":2");
    snprintf(want, sizeof want, "\"src\":\"127.0.0.5:%u\",\"dst\":\"127.0.0.1:%u\"", cport, p2);
    assert_has(r, want);
    assert_has(r, "\"list\":[]");
    assert_has(r, "\"findings\":[]");

    /* send-proxy-v2-ssl-cn with a client certificate: SSL TLV, CN alice, verified */
    char cert[600], key[600], target[64];
    psit_path(cert, sizeof cert, "alice.crt");
    psit_path(key, sizeof key, "alice.key");
    snprintf(target, sizeof target, "127.0.0.1:%u", p3);
    ts_proc c;
    psit_spawn(&c, (const char *[]){"--no-header", "--tls", "--cert", cert, "--key", key, "--bind", "127.0.0.5",
                                    "--hex", "68656c6c6f", "--timeout", "3s", target, NULL},
               "client", "client.err");
    report_line(3, r, sizeof r);
    ts_stop(&c, 2000, NULL);
    assert_has(r, "\"ssl\":{\"client\":7,\"verify\":0,\"cert_verified\":true");
    assert_has(r, "\"cn\":\"alice\"");
    assert_has(r, "\"fails\":0,\"warns\":0");
    /* proxysend's profile gives exactly HAProxy's bytes for the same inputs */
    char got_hex[4096], src[64], prof[4096];
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    assert_true(ts_json_get(r, "src", src, sizeof src) > 0);
    char dst[64];
    snprintf(dst, sizeof dst, "127.0.0.1:%u", p3);
    profile_hex((const char *[]){"--profile", "haproxy-v2-ssl-cn", "--src", src, "--dst", dst, "--tlv",
                                 "ssl-cn=alice", "--dry-run", "--json", NULL},
                prof, sizeof prof);
    assert_string_equal(prof, got_hex);

    /* no client certificate: HAProxy still sends verify = 0 */
    psit_spawn(&c, (const char *[]){"--no-header", "--tls", "--bind", "127.0.0.5", "--hex", "68656c6c6f", "--timeout",
                                    "3s", target, NULL},
               "client", "client.err");
    report_line(4, r, sizeof r);
    ts_stop(&c, 2000, NULL);
    assert_has(r, "\"client\":1,\"verify\":0,\"cert_verified\":false");
    assert_has(r, "\"id\":\"A-12\",");
    assert_has(r, "sender.verify_zero_without_cert");
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    assert_true(ts_json_get(r, "src", src, sizeof src) > 0);
    profile_hex((const char *[]){"--profile", "haproxy-v2-ssl-cn", "--src", src, "--dst", dst, "--dry-run", "--json",
                                 NULL},
                prof, sizeof prof);
    assert_string_equal(prof, got_hex);

    /* every proxy-v2-option: CRC32C, ALPN, AUTHORITY (SNI), UNIQUE_ID, SSL with five
     * sub-TLVs; the profile puts the same values in HAProxy's order with the same CRC */
    snprintf(target, sizeof target, "127.0.0.1:%u", p4);
    psit_spawn(&c, (const char *[]){"--no-header", "--tls", "--cert", cert, "--key", key, "--sni", "broker.example",
                                    "--alpn", "mqtt", "--hex", "68656c6c6f", "--timeout", "3s", target, NULL},
               "client", "client.err");
    report_line(5, r, sizeof r);
    ts_stop(&c, 2000, NULL);
    assert_has(r, "\"valid\":true");
    assert_has(r, "\"crc32c\":\"ok\"");
    assert_has(r, "\"alpn\":\"mqtt\"");
    assert_has(r, "\"authority\":\"broker.example\"");
    char uid[300], cipher[128], sig[128], kalg[128];
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    assert_true(ts_json_get(r, "src", src, sizeof src) > 0);
    assert_true(ts_json_get(r, "unique_id_hex", uid, sizeof uid) > 0);
    assert_true(ts_json_get(r, "cipher", cipher, sizeof cipher) > 0);
    assert_true(ts_json_get(r, "sig_alg", sig, sizeof sig) > 0);
    assert_true(ts_json_get(r, "key_alg", kalg, sizeof kalg) > 0);
    snprintf(dst, sizeof dst, "127.0.0.1:%u", p4);
    char t_uid[340], t_cipher[160], t_sig[160], t_kalg[160];
    snprintf(t_uid, sizeof t_uid, "unique-id=hex:%s", uid);
    snprintf(t_cipher, sizeof t_cipher, "ssl-cipher=%s", cipher);
    snprintf(t_sig, sizeof t_sig, "ssl-sig-alg=%s", sig);
    snprintf(t_kalg, sizeof t_kalg, "ssl-key-alg=%s", kalg);
    /* given in a different order on purpose: the profile sorts them as HAProxy does */
    profile_hex((const char *[]){"--profile", "haproxy-v2-ssl-cn", "--src", src, "--dst", dst, "--tlv", t_cipher,
                                 "--tlv", t_sig, "--tlv", t_kalg, "--tlv", "ssl-cn=alice", "--tlv", t_uid, "--tlv",
                                 "authority=broker.example", "--tlv", "alpn=mqtt", "--tlv", "crc32c", "--dry-run",
                                 "--json", NULL},
                prof, sizeof prof);
    assert_string_equal(prof, got_hex);

    /* send-proxy-v2-ssl with a client certificate: VERSION only, client 0x07 */
    snprintf(target, sizeof target, "127.0.0.1:%u", p5);
    psit_spawn(&c, (const char *[]){"--no-header", "--tls", "--cert", cert, "--key", key, "--hex", "68656c6c6f",
                                    "--timeout", "3s", target, NULL},
               "client", "client.err");
    report_line(6, r, sizeof r);
    ts_stop(&c, 2000, NULL);
    assert_has(r, "\"ssl\":{\"client\":7,\"verify\":0,\"cert_verified\":true,\"version\":\"TLSv1.3\"}");
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    assert_true(ts_json_get(r, "src", src, sizeof src) > 0);
    snprintf(dst, sizeof dst, "127.0.0.1:%u", p5);
    profile_hex((const char *[]){"--profile", "haproxy-v2-ssl", "--src", src, "--dst", dst, "--tlv",
                                 "ssl-client=ssl,cert-conn,cert-sess", "--dry-run", "--json", NULL},
                prof, sizeof prof);
    assert_string_equal(prof, got_hex);

    assert_int_equal(psit_exit_code(&l), 0);
    ts_stop(&h, 5000, NULL);
}

/* HAProxy `send-proxy-v2 check`: the health check's LOCAL header equals the
 * haproxy-healthcheck profile and carries no finding (LOCAL with UNSPEC, R-V2-14). */
static void test_EC_V2_27_haproxy_healthcheck_matches_profile(void **state)
{
    (void)state;
    if (!have("/usr/sbin/haproxy"))
        skip();
    char addr[64];
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--json", "--count", "1", "--timeout", "5s", NULL},
                      "report", addr, sizeof addr);
    unsigned p1 = psit_free_port();
    char cfg[2048], path[600], log[600];
    snprintf(cfg, sizeof cfg,
             "global\n    maxconn 16\n"
             "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 5s\n    timeout server 5s\n"
             "frontend fe_dummy\n    bind 127.0.0.1:%u\n    default_backend be_check\n"
             "backend be_check\n    server sink %s send-proxy-v2 check inter 200ms\n",
             p1, addr);
    psit_path(path, sizeof path, "haproxy-check.cfg");
    ts_write_file(path, cfg, strlen(cfg));
    psit_path(log, sizeof log, "haproxy-check.log");
    ts_proc h;
    assert_int_equal(ts_spawn(&h, (const char *[]){"/usr/sbin/haproxy", "-f", path, "-db", NULL}, NULL, log, log), 0);
    char r[8192], got_hex[256], prof[256];
    report_line(1, r, sizeof r);
    ts_stop(&h, 5000, NULL);
    assert_has(r, "\"command\":\"LOCAL\"");
    assert_has(r, "\"findings\":[]");
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    profile_hex((const char *[]){"--profile", "haproxy-healthcheck", "--dry-run", "--json", NULL}, prof, sizeof prof);
    assert_string_equal(prof, got_hex);
    assert_int_equal(psit_exit_code(&l), 0);
}

static void test_nginx_senders_reported_correctly(void **state)
{
    (void)state;
    if (!have("/usr/sbin/nginx") || access("/usr/lib/nginx/modules/ngx_stream_module.so", R_OK) != 0)
        skip();
    char addr[64];
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--json", "--count", "2", "--timeout", "5s", NULL},
                      "report", addr, sizeof addr);
    unsigned n1 = psit_free_port(), n2 = psit_free_port();
    char cfg[4096], path[600], errlog[600];
    psit_path(errlog, sizeof errlog, "nginx-error.log");
    snprintf(cfg, sizeof cfg,
             "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\n"
             "pid %s/nginx.pid;\nerror_log %s info;\n"
             "events { worker_connections 64; }\n"
             "stream {\n"
             "    server { listen 127.0.0.1:%u; proxy_pass %s; proxy_protocol on; }\n"
             "    server { listen 127.0.0.1:%u proxy_protocol; set_real_ip_from 127.0.0.1;\n"
             "             proxy_pass %s; proxy_protocol on; }\n"
             "}\n",
             psit_dir, errlog, n1, addr, n2, addr);
    psit_path(path, sizeof path, "nginx.conf");
    ts_write_file(path, cfg, strlen(cfg));
    char out[600];
    psit_path(out, sizeof out, "nginx.out");
    ts_proc ng;
    assert_int_equal(ts_spawn(&ng, (const char *[]){"/usr/sbin/nginx", "-e", errlog, "-c", path, "-g",
                                                    /* one process: a stop by PID (even SIGKILL after a
                                                       failed assertion) leaves no orphaned worker */
                                                    "daemon off; master_process off;",
                                                    NULL},
                              NULL, out, out),
                     0);
    psit_wait_port(n1, &ng);
    psit_wait_port(n2, &ng);

    /* proxy_protocol on: a v1 TCP4 line, no findings */
    char r[16384], want[128];
    unsigned cport = plain_client(n1);
    report_line(1, r, sizeof r);
    assert_has(r, "\"valid\":true");
    snprintf(want, sizeof want, "\"src\":\"127.0.0.5:%u\",\"dst\":\"127.0.0.1:%u\"", cport, n1);
    assert_has(r, want);
    assert_has(r, "\"fails\":0");

    /* relay of an IPv6 client onto this IPv4 listener: TCP6 with an IPv4 destination */
    char target[64], dst[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", n2);
    snprintf(dst, sizeof dst, "127.0.0.1:%u", n2);
    ts_proc c;
    psit_spawn(&c, (const char *[]){"-1", "--src", "[2001:db8::7]:40006", "--timeout", "3s", target, NULL}, "client",
               "client.err");
    report_line(2, r, sizeof r);
    ts_stop(&c, 2000, NULL);
    assert_has(r, "\"valid\":false");
    assert_has(r, "sender.tcp6_with_ipv4");
    assert_has(r, "\"id\":\"R-V1-17\",");
    char got_hex[4096], prof[4096];
    assert_true(ts_json_get(r, "header_hex", got_hex, sizeof got_hex) > 0);
    profile_hex((const char *[]){"--profile", "nginx-v1", "--src", "[2001:db8::7]:40006", "--dst", dst, "--dry-run",
                                 "--json", NULL},
                prof, sizeof prof);
    assert_string_equal(prof, got_hex);

    assert_int_equal(psit_exit_code(&l), 1); /* the relay line is a FAIL */
    ts_stop(&ng, 5000, NULL);
}

/* --pcap-out: tshark decodes the PROXY header from proxysend's synthetic capture. */
static void pcap_case(const char *const *args, const char *const *needles)
{
    char addr[64], pcap[600];
    int lfd = psit_listen(addr, sizeof addr);
    psit_path(pcap, sizeof pcap, "x.pcap");
    const char *all[40];
    size_t n = 0;
    for (; args[n]; n++)
        all[n] = args[n];
    all[n++] = "--pcap-out";
    all[n++] = pcap;
    all[n++] = "--expect";
    all[n++] = "close"; /* FIN, or RST when the payload was still unread at close */
    all[n++] = addr;
    all[n] = NULL;
    ts_proc p;
    psit_spawn(&p, all, "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    assert_true(psit_read_header(fd, buf, sizeof buf, &len, &first, &h) > 0);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    close(lfd);
    ts_proc t;
    char tout[600];
    psit_path(tout, sizeof tout, "tshark.txt");
    unlink(tout);
    assert_int_equal(ts_spawn(&t, (const char *[]){"/usr/bin/tshark", "-r", pcap, "-V", NULL}, NULL, tout, NULL), 0);
    ts_exit ex;
    assert_int_equal(ts_wait_exit(&t, 60000, &ex), 0);
    assert_int_equal(ex.code, 0);
    for (size_t i = 0; needles[i]; i++)
        psit_assert_contains("tshark.txt", needles[i]);
}

static void test_pcap_out_decoded_by_tshark(void **state)
{
    (void)state;
    if (!have("/usr/bin/tshark"))
        skip();
    pcap_case((const char *[]){"--src", "203.0.113.7:40000", "--dst", "198.51.100.1:1883", "--tlv", "alpn=mqtt",
                               "--tlv", "authority=broker.example", "--mqtt-connect", NULL},
              (const char *[]){"PROXY Protocol", "Source Address: 203.0.113.7", "Source Port: 40000",
                               "Destination Address: 198.51.100.1", "Destination Port: 1883", "ALPN",
                               "Value: 6d717474" /* "mqtt" */, "AUTHORITY", NULL});
    pcap_case((const char *[]){"-1", "--src", "192.0.2.9:4242", "--hex", "e000", NULL},
              (const char *[]){"PROXY v1 magic", "Protocol: TCP4", "Source Address: 192.0.2.9", "Source Port: 4242",
                               NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_haproxy_senders_reported_correctly, psit_after),
        cmocka_unit_test_teardown(test_EC_V2_27_haproxy_healthcheck_matches_profile, psit_after),
        cmocka_unit_test_teardown(test_nginx_senders_reported_correctly, psit_after),
        cmocka_unit_test_teardown(test_pcap_out_decoded_by_tshark, psit_after),
    };
    return cmocka_run_group_tests(tests, psit_setup, psit_teardown);
}
