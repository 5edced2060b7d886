/* Interop: real HAProxy (Debian's haproxy) in front of ppbroker with real mosquitto clients
 * (issue 3 "README shows HAProxy in front", issue 4 item 7): send-proxy-v2 carries the
 * client's address, HAProxy's LOCAL health checks are accepted, and with TLS offloaded to
 * HAProxy (verify required + send-proxy-v2-ssl-cn) the client certificate's CN becomes the
 * MQTT username while a certificate from another CA never gets through. The TLS-offload
 * haproxy.cfg and ppbroker listener are the blocks of docs/ppbroker.md, run as written (ports
 * and certificate paths substituted) and checked with `haproxy -c`. */
#include "common.h"

#include <netinet/in.h>
#include <stdlib.h>

#include "net/loop.h"

static bh B;
static char pki[256], evil[256];
static ts_proc hap;
static char hap_plain[64], hap_tls[64], hap_reenc[64], hap_opt[64], hap_log[400];
static char body[1 << 18];

/* A port the kernel considers free right now (HAProxy needs a fixed one); HAProxy's start is
 * retried on a bind failure, so a port taken in between costs a retry, not a flaky test. */
static int free_port(void)
{
    pn_addr a, bound;
    pn_addr_parse("127.0.0.1:0", &a);
    int fd = pn_listen(&a, 1, 0, &bound, NULL, 0);
    if (fd < 0)
        return -1;
    close(fd);
    return pn_addr_port(&bound);
}

/* The fenced block after `<!-- tls-offload:NAME` in docs/ppbroker.md: the test runs the
 * documentation's own TLS-offload example, so the doc cannot rot. */
static int doc_block(const char *name, char *out, size_t cap)
{
    static char doc[1 << 17];
    ssize_t n = ts_read_file(PPC_SOURCE_DIR "/docs/ppbroker.md", doc, sizeof(doc));
    char marker[128];
    snprintf(marker, sizeof(marker), "<!-- tls-offload:%s ", name);
    const char *m = n > 0 ? strstr(doc, marker) : NULL;
    const char *open = m ? strstr(m, "```\n") : NULL;
    const char *close = open ? strstr(open + 4, "\n```") : NULL;
    if (!close || (size_t)(close - open - 4 + 2) > cap)
        return -1;
    size_t len = (size_t)(close - (open + 4)) + 1; /* keep the last newline */
    memcpy(out, open + 4, len);
    out[len] = '\0';
    return 0;
}

/* Replace every `from` in text (capacity cap) by `to`. */
static int replace_all(char *text, size_t cap, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to);
    int count = 0;
    for (char *p = strstr(text, from); p; p = strstr(p + tl, from)) {
        size_t rest = strlen(p + fl);
        if ((size_t)(p - text) + tl + rest + 1 > cap)
            return -1;
        memmove(p + tl, p + fl, rest + 1);
        memcpy(p, to, tl);
        count++;
    }
    return count;
}

static char doc_hap[4096], doc_pp[2048];
static char hap_cfg[400];

static int start_haproxy(void)
{
    char offload[64], tlspp[64], pem[400], text[8192], cert[8192], key[4096], path[400];
    if (bh_listener_address(&B, "tls_offload", offload, sizeof(offload)) != 0 ||
        bh_listener_address(&B, "tlspp", tlspp, sizeof(tlspp)) != 0)
        return -1;
    /* HAProxy wants certificate and key in one PEM (the doc's haproxy.pem) */
    snprintf(pem, sizeof(pem), "%s/haproxy.pem", pki);
    snprintf(path, sizeof(path), "%s/server.pem", pki);
    ssize_t cl = ts_read_file(path, cert, sizeof(cert));
    snprintf(path, sizeof(path), "%s/server.key", pki);
    ssize_t kl = ts_read_file(path, key, sizeof(key));
    if (cl <= 0 || kl <= 0 || (size_t)(cl + kl) >= sizeof(cert))
        return -1;
    memcpy(cert + cl, key, (size_t)kl + 1);
    if (ts_write_file(pem, cert, (size_t)(cl + kl)) != 0)
        return -1;
    snprintf(hap_log, sizeof(hap_log), "%s/haproxy.log", pki);
    snprintf(hap_cfg, sizeof(hap_cfg), "%s/haproxy.cfg", pki);
    for (int attempt = 0; attempt < 5; attempt++) {
        int p1 = free_port(), p2 = free_port(), p3 = free_port(), p4 = free_port();
        if (p1 <= 0 || p2 <= 0 || p3 <= 0 || p4 <= 0 || p1 == p2 || p2 == p3 || p1 == p3 || p4 == p1 ||
            p4 == p2 || p4 == p3)
            continue;
        snprintf(hap_opt, sizeof(hap_opt), "127.0.0.1:%d", p4);
        snprintf(hap_plain, sizeof(hap_plain), "127.0.0.1:%d", p1);
        snprintf(hap_tls, sizeof(hap_tls), "127.0.0.1:%d", p2);
        snprintf(hap_reenc, sizeof(hap_reenc), "127.0.0.1:%d", p3);
        /* the doc's TLS-offload haproxy.cfg with this test's ports and certificates ... */
        snprintf(text, sizeof(text), "%s", doc_hap);
        if (replace_all(text, sizeof(text), "127.0.0.1:8883", hap_tls) != 1 ||
            replace_all(text, sizeof(text), "127.0.0.1:1885", offload) != 1 ||
            replace_all(text, sizeof(text), "/etc/ppbroker/tls", pki) != 2)
            return -1;
        /* ... plus a plain frontend with send-proxy-v2 and LOCAL health checks, and one whose
         * server is ppbroker's TLS listener: HAProxy sends the header in clear, then TLS */
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used,
                 "\nfrontend plain\n"
                 "    bind %s\n"
                 "    default_backend to_pp\n"
                 "backend to_pp\n"
                 "    server b %s send-proxy-v2 check check-send-proxy inter 100ms\n"
                 "frontend reenc\n"
                 "    bind %s\n"
                 "    default_backend to_tlspp\n"
                 "backend to_tlspp\n"
                 "    server b %s ssl verify required ca-file %s/ca.pem verifyhost localhost send-proxy-v2\n"
                 "frontend optional_cert\n"
                 "    bind %s ssl crt %s ca-file %s/ca.pem verify optional\n"
                 "    default_backend to_offload\n"
                 "backend to_offload\n"
                 "    server b %s send-proxy-v2-ssl-cn\n",
                 hap_plain, B.pp, hap_reenc, tlspp, pki, hap_opt, pem, pki, offload);
        if (ts_write_file(hap_cfg, text, strlen(text)) != 0)
            return -1;
        const char *argv[] = {"/usr/sbin/haproxy", "-db", "-f", hap_cfg, NULL};
        if (ts_spawn(&hap, argv, NULL, hap_log, hap_log) != 0)
            return -1;
        /* ready when every frontend accepts; a bind failure makes HAProxy exit instead */
        const char *fronts[4] = {hap_plain, hap_tls, hap_reenc, hap_opt};
        int fds[4] = {-1, -1, -1, -1}, up = 0;
        uint64_t deadline = pn_now_ms() + 5000;
        while (ts_alive(&hap) && pn_now_ms() < deadline && up < 4) {
            for (int i = 0; i < 4; i++)
                if (fds[i] < 0 && (fds[i] = ts_connect(fronts[i], NULL, 200)) >= 0)
                    up++;
        }
        for (int i = 0; i < 4; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (up == 4 && ts_alive(&hap))
            return 0;
        ts_stop(&hap, 2000, NULL);
    }
    return -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (access("/usr/sbin/haproxy", X_OK) != 0 || access("/usr/bin/mosquitto_pub", X_OK) != 0) {
        fprintf(stderr, "haproxy and mosquitto-clients are needed (scripts/deps.sh test)\n");
        return -1;
    }
    if (ts_tmpdir("broker-hap", pki, sizeof(pki)) != 0 || ts_tmpdir("broker-hap-evil", evil, sizeof(evil)) != 0)
        return -1;
    ts_leaf leaves[] = {{.name = "server", .cn = "localhost", .is_server = true}, {.name = "alice", .cn = "alice"}};
    ts_leaf other[] = {{.name = "mallory", .cn = "alice"}};
    if (ts_pki_make(pki, "ppc test CA", leaves, 2) != 0 || ts_pki_make(evil, "other CA", other, 1) != 0)
        return -1;
    /* ppbroker with the doc's TLS-offload listener, on a free port */
    if (doc_block("haproxy.cfg", doc_hap, sizeof(doc_hap)) != 0 || doc_block("ppbroker.conf", doc_pp, sizeof(doc_pp)) != 0) {
        fprintf(stderr, "docs/ppbroker.md lacks the tls-offload blocks\n");
        return -1;
    }
    char listener[4096];
    snprintf(listener, sizeof(listener), "%s", doc_pp);
    if (replace_all(listener, sizeof(listener), "127.0.0.1:1885", "127.0.0.1:0") != 1)
        return -1;
    /* and a TLS listener with the PROXY header in clear before the handshake (item 2) */
    size_t used = strlen(listener);
    snprintf(listener + used, sizeof(listener) - used,
             "listener.ssl.tlspp = 127.0.0.1:0\n"
             "listener.ssl.tlspp.certfile = %s/server.pem\n"
             "listener.ssl.tlspp.keyfile = %s/server.key\n"
             "listener.ssl.tlspp.proxy_protocol = on\n",
             pki, pki);
    if (bh_start(&B, listener, NULL) != 0)
        return -1;
    return start_haproxy();
}

static int group_teardown(void **state)
{
    (void)state;
    ts_exit ex;
    ts_stop(&hap, 5000, &ex);
    ts_rmtree(pki);
    ts_rmtree(evil);
    return bh_stop(&B) == 0 ? 0 : -1;
}

static void host_port(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    snprintf(host, hcap, "%.*s", (int)(colon - addr), addr);
    snprintf(port, pcap, "%s", colon + 1);
}

/* mosquitto_pub to addr: plain (leaf NULL), TLS without a client certificate (leaf ""), or
 * TLS with dir/leaf.pem; its exit code. */
static int pub(const char *addr, const char *cid, const char *dir, const char *leaf)
{
    char host[64], port[16], ca[400], cert[400], key[400];
    host_port(addr, host, sizeof(host), port, sizeof(port));
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    snprintf(cert, sizeof(cert), "%s/%s.pem", dir, leaf ? leaf : "");
    snprintf(key, sizeof(key), "%s/%s.key", dir, leaf ? leaf : "");
    const char *plain[] = {"/usr/bin/mosquitto_pub", "-h", host, "-p", port, "-i", cid, "-t", "hap/t", "-m", "x", NULL};
    const char *tls[] = {"/usr/bin/mosquitto_pub", "-h", host, "-p", port, "-i", cid, "-t", "hap/t", "-m", "x",
                         "--cafile", ca, "--cert", cert, "--key", key, NULL};
    ts_proc p;
    ts_exit ex;
    const char *anon[] = {"/usr/bin/mosquitto_pub", "-h", host, "-p", port, "-i", cid, "-t", "hap/t", "-m", "x",
                          "--cafile", ca, NULL};
    assert_int_equal(ts_spawn(&p, !leaf ? plain : !*leaf ? anon : tls, NULL, NULL, NULL), 0);
    assert_int_equal(ts_wait_exit(&p, 15000, &ex), 0);
    return ex.exited ? ex.code : -1;
}

/* The client's "close" event (its one final event). */
static void close_event(const char *cid, char *out, size_t cap)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    uint64_t deadline = pn_now_ms() + 5000;
    const char *ev = NULL;
    do {
        if (bh_get(&B, "/api/v1/events?since=0", body, sizeof(body)) != 200)
            continue;
        for (const char *p = strstr(body, "\"type\":\"close\""); p && !ev; p = strstr(p + 1, "\"type\":\"close\"")) {
            const char *start = p;
            while (start > body && strncmp(start, "{\"seq\"", 6) != 0)
                start--;
            const char *end = strstr(p, "},{\"seq\"");
            size_t len = end ? (size_t)(end - start) : strlen(start);
            char *one = strndup(start, len);
            if (strstr(one, needle)) {
                snprintf(out, cap, "%s", one);
                ev = out;
            }
            free(one);
        }
    } while (!ev && pn_now_ms() < deadline);
    if (!ev)
        fail_msg("no close event for %s", cid);
}

static void test_R_GEN_03_haproxy_send_proxy_v2_carries_client_address(void **state)
{
    (void)state;
    assert_int_equal(pub(hap_plain, "hap-plain", NULL, NULL), 0);
    char ev[8192];
    close_event("hap-plain", ev, sizeof(ev));
    assert_non_null(strstr(ev, "\"outcome\":\"served\""));
    assert_non_null(strstr(ev, "\"used_carried\":true"));
    char real[64], attributed[64], src[64];
    assert_true(ts_json_get(ev, "real_peer", real, sizeof(real)) > 0);
    assert_true(ts_json_get(ev, "attributed_peer", attributed, sizeof(attributed)) > 0);
    assert_true(ts_json_get(ev, "src", src, sizeof(src)) > 0);
    assert_string_equal(attributed, src);       /* the mosquitto_pub socket, as HAProxy saw it */
    assert_string_not_equal(attributed, real);  /* not HAProxy's own connection */
}

static void test_R_V2_07_haproxy_local_health_checks_accepted(void **state)
{
    (void)state;
    /* check-send-proxy makes every check a LOCAL header; ppbroker accepts it (no reject) */
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", "\"command\":\"LOCAL\"", 10000, body, sizeof(body)), 0);
    assert_int_equal(bh_get(&B, "/api/v1/rejections", body, sizeof(body)), 200);
    assert_null(strstr(body, "\"command\":\"LOCAL\""));
}

/* PROXY before TLS from a real sender: HAProxy `send-proxy-v2` towards an `ssl` server (the
 * ppbroker TLS listener) writes the header in clear, then does TLS; ppbroker attributes the
 * connection to the mosquitto_pub socket HAProxy saw. */
static void test_haproxy_send_proxy_v2_before_tls_to_ssl_listener(void **state)
{
    (void)state;
    assert_int_equal(pub(hap_reenc, "hap-reenc", NULL, NULL), 0);
    char ev[8192];
    close_event("hap-reenc", ev, sizeof(ev));
    assert_non_null(strstr(ev, "\"listener\":\"tlspp\""));
    assert_non_null(strstr(ev, "\"outcome\":\"served\""));
    assert_non_null(strstr(ev, "\"used_carried\":true"));
    char real[64], attributed[64], src[64];
    assert_true(ts_json_get(ev, "real_peer", real, sizeof(real)) > 0);
    assert_true(ts_json_get(ev, "attributed_peer", attributed, sizeof(attributed)) > 0);
    assert_true(ts_json_get(ev, "src", src, sizeof(src)) > 0);
    assert_string_equal(attributed, src);
    assert_string_not_equal(attributed, real);
}

/* mosquitto_sub with alice's certificate through HAProxy: while it is connected, its
 * ppbroker session's username is alice (from the CN, not from CONNECT); alice's
 * mosquitto_pub then reaches it, and the subscriber exits after that one message. */
static void test_R_SSL_08_haproxy_tls_offload_cn_becomes_username(void **state)
{
    (void)state;
    char host[64], port[16], ca[400], cert[400], key[400];
    host_port(hap_tls, host, sizeof(host), port, sizeof(port));
    snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
    snprintf(cert, sizeof(cert), "%s/alice.pem", pki);
    snprintf(key, sizeof(key), "%s/alice.key", pki);
    const char *sub[] = {"/usr/bin/mosquitto_sub", "-h", host, "-p", port, "-i", "hap-alice-sub", "-t", "hap/#",
                         "-C", "1", "--cafile", ca, "--cert", cert, "--key", key, NULL};
    ts_proc p;
    char sub_out[400];
    snprintf(sub_out, sizeof(sub_out), "%s/sub.out", pki);
    assert_int_equal(ts_spawn(&p, sub, NULL, sub_out, sub_out), 0);
    /* the session, subscribed: {"client_id":"hap-alice-sub","username":"alice","username_source":"cn",...} */
    const char *needle = "\"client_id\":\"hap-alice-sub\",\"username\":\"alice\",\"username_source\":\"cn\"";
    uint64_t deadline = pn_now_ms() + 10000;
    long long subs = 0;
    while (subs != 1 && pn_now_ms() < deadline) {
        if (bh_wait_body(&B, "/api/v1/sessions", needle, 10000, body, sizeof(body)) != 0)
            break;
        ts_json_get_int(strstr(body, needle), "subscriptions", &subs);
    }
    if (subs != 1) {
        ts_stop(&p, 2000, NULL);
        fail_msg("no subscribed session with username alice from the CN:\n%s", body);
    }
    char listener[64];
    assert_true(ts_json_get(strstr(body, needle), "listener", listener, sizeof(listener)) > 0);
    assert_string_equal(listener, "tls_offload");
    assert_int_equal(pub(hap_tls, "hap-alice", pki, "alice"), 0);
    ts_exit ex;
    if (ts_wait_exit(&p, 10000, &ex) != 0) {
        ts_stop(&p, 2000, NULL);
        fail_msg("mosquitto_sub did not get alice's message");
    }
    assert_true(ex.exited && ex.code == 0);
    char ev[8192];
    close_event("hap-alice", ev, sizeof(ev));
    assert_non_null(strstr(ev, "\"username\":\"alice\""));
    assert_non_null(strstr(ev, "\"username_source\":\"cn\""));
    assert_non_null(strstr(ev, "\"cert_verified\":true"));
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", "\"type\":\"cn_decision\"", 5000, body, sizeof(body)), 0);
    assert_non_null(strstr(body, "\"reason\":\"cn.ok\""));
}

/* A-12 with a real HAProxy: `verify optional` and a client without a certificate makes
 * HAProxy send an SSL TLV with client = 0x01 (SSL only) and verify = 0. That is not a verified
 * certificate, so the CONNECT is refused (policy require) and the decision says why. */
static void test_A_12_haproxy_no_client_certificate_verify_0_refused(void **state)
{
    (void)state;
    assert_true(pub(hap_opt, "hap-nocert", pki, "") != 0);
    char ev[8192];
    close_event("hap-nocert", ev, sizeof(ev));
    assert_null(strstr(ev, "\"outcome\":\"served\""));
    assert_non_null(strstr(ev, "\"listener\":\"tls_offload\""));
    long long client = -1, verify = -1, conn = -1;
    char ssl[1024];
    assert_true(ts_json_get(ev, "ssl", ssl, sizeof(ssl)) > 0);
    assert_true(ts_json_get_int(ssl, "client", &client));
    assert_true(ts_json_get_int(ssl, "verify", &verify));
    assert_int_equal(client, 0x01); /* HAProxy's no-certificate output */
    assert_int_equal(verify, 0);
    assert_true(ts_json_get_int(ev, "conn", &conn));
    char needle[96];
    snprintf(needle, sizeof(needle), "\"conn\":%lld,\"listener\":\"tls_offload\"", conn);
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", needle, 5000, body, sizeof(body)), 0);
    bool refused = false;
    for (const char *q = strstr(body, needle); q && !refused; q = strstr(q + 1, needle)) {
        const char *end = strstr(q, "},{\"seq\"");
        size_t len = end ? (size_t)(end - q) : strlen(q);
        char *one = strndup(q, len);
        refused = strstr(one, "\"type\":\"cn_decision\"") && strstr(one, "\"reason\":\"cn.unverified\"") &&
                  strstr(one, "\"outcome\":\"refused\"");
        free(one);
    }
    assert_true(refused);
}

/* With a certificate from another CA (even with CN alice), HAProxy's handshake fails: not
 * one event on ppbroker's tls_offload listener from the attempt, not even a header. */
static void test_haproxy_certificate_from_other_ca_never_reaches_broker(void **state)
{
    (void)state;
    char cert[400];
    snprintf(cert, sizeof(cert), "%s/mallory.pem", evil);
    assert_int_equal(access(cert, R_OK), 0); /* the client fails on the CA, not on a missing file */
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", "\"seq\"", 5000, body, sizeof(body)), 0);
    char next[32];
    assert_true(ts_json_get(body, "next", next, sizeof(next)) > 0);
    assert_true(pub(hap_tls, "hap-mallory", evil, "mallory") != 0);
    /* a control through the same HAProxy afterwards: its events prove the ring is current */
    assert_int_equal(pub(hap_tls, "hap-after-mallory", pki, "alice"), 0);
    char ev[8192], path[64];
    close_event("hap-after-mallory", ev, sizeof(ev));
    snprintf(path, sizeof(path), "/api/v1/events?since=%s", next);
    assert_int_equal(bh_get(&B, path, body, sizeof(body)), 200);
    assert_null(strstr(body, "\"client_id\":\"hap-mallory\""));
    /* exactly the control's connection on tls_offload: header, CN decision, CONNACK, close */
    int n = 0;
    for (const char *q = strstr(body, "\"listener\":\"tls_offload\""); q; q = strstr(q + 1, "\"listener\":\"tls_offload\""))
        n++;
    char conn_needle[64];
    long long conn = -1;
    assert_true(ts_json_get_int(ev, "conn", &conn));
    snprintf(conn_needle, sizeof(conn_needle), "\"conn\":%lld,\"listener\":\"tls_offload\"", conn);
    int mine = 0;
    for (const char *q = strstr(body, conn_needle); q; q = strstr(q + 1, conn_needle))
        mine++;
    assert_true(mine > 0);
    assert_int_equal(n, mine);
}

/* The documentation's example is valid for HAProxy 2.6 (`haproxy -c`) and ppbroker
 * (`--check-config`), exactly as written, and has what TLS offload needs. */
static void test_doc_tls_offload_example_checks(void **state)
{
    (void)state;
    assert_non_null(strstr(doc_hap, " ssl crt "));
    assert_non_null(strstr(doc_hap, " ca-file "));
    assert_non_null(strstr(doc_hap, " verify required"));
    assert_non_null(strstr(doc_hap, " send-proxy-v2-ssl-cn"));
    assert_non_null(strstr(doc_pp, ".proxy_protocol_use_cn_as_username = on"));
    assert_non_null(strstr(doc_pp, ".proxy_protocol_trusted_proxies = "));
    /* the config HAProxy runs in this test: the doc's with paths and ports substituted */
    char log[400];
    snprintf(log, sizeof(log), "%s/haproxy-check.log", pki);
    const char *argv[] = {"/usr/sbin/haproxy", "-c", "-f", hap_cfg, NULL};
    ts_proc p;
    ts_exit ex;
    assert_int_equal(ts_spawn(&p, argv, NULL, log, log), 0);
    assert_int_equal(ts_wait_exit(&p, 15000, &ex), 0);
    if (!ex.exited || ex.code != 0) {
        char text[4096] = "";
        ts_read_file(log, text, sizeof(text));
        fail_msg("haproxy -c failed on the doc's example:\n%s", text);
    }
    /* ppbroker's block verbatim (port 1885: --check-config binds nothing) */
    char conf[400];
    snprintf(conf, sizeof(conf), "%s/doc-ppbroker.conf", pki);
    assert_int_equal(ts_write_file(conf, doc_pp, strlen(doc_pp)), 0);
    const char *check[] = {bh_ppbroker(), "--check-config", "-c", conf, NULL};
    assert_int_equal(ts_spawn(&p, check, NULL, log, log), 0);
    assert_int_equal(ts_wait_exit(&p, 15000, &ex), 0);
    assert_true(ex.exited);
    assert_int_equal(ex.code, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_GEN_03_haproxy_send_proxy_v2_carries_client_address),
        cmocka_unit_test(test_R_V2_07_haproxy_local_health_checks_accepted),
        cmocka_unit_test(test_haproxy_send_proxy_v2_before_tls_to_ssl_listener),
        cmocka_unit_test(test_R_SSL_08_haproxy_tls_offload_cn_becomes_username),
        cmocka_unit_test(test_haproxy_certificate_from_other_ca_never_reaches_broker),
        cmocka_unit_test(test_A_12_haproxy_no_client_certificate_verify_0_refused),
        cmocka_unit_test(test_doc_tls_offload_example_checks),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
