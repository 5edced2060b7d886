/* Interop: real HAProxy (Debian's haproxy) in front of ppbroker with real mosquitto clients
 * (issue 3 "README shows HAProxy in front", issue 4 item 7): send-proxy-v2 carries the
 * client's address, HAProxy's LOCAL health checks are accepted, and with TLS offloaded to
 * HAProxy (verify required + send-proxy-v2-ssl-cn) the client certificate's CN becomes the
 * MQTT username while a certificate from another CA never gets through. */
#include "common.h"

#include <netinet/in.h>
#include <stdlib.h>

#include "net/loop.h"

static bh B;
static char pki[256], evil[256];
static ts_proc hap;
static char hap_plain[64], hap_tls[64], hap_log[400];
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

static int start_haproxy(void)
{
    char cn_addr[64], cfg[400], pem[400], text[4096], cert[8192], key[4096];
    if (bh_listener_address(&B, "cn", cn_addr, sizeof(cn_addr)) != 0)
        return -1;
    /* HAProxy wants certificate and key in one PEM */
    snprintf(pem, sizeof(pem), "%s/haproxy.pem", pki);
    snprintf(cfg, sizeof(cfg), "%s/server.pem", pki);
    ssize_t cl = ts_read_file(cfg, cert, sizeof(cert));
    snprintf(cfg, sizeof(cfg), "%s/server.key", pki);
    ssize_t kl = ts_read_file(cfg, key, sizeof(key));
    if (cl <= 0 || kl <= 0)
        return -1;
    memcpy(cert + cl, key, (size_t)kl + 1);
    if (ts_write_file(pem, cert, (size_t)(cl + kl)) != 0)
        return -1;
    snprintf(hap_log, sizeof(hap_log), "%s/haproxy.log", pki);
    for (int attempt = 0; attempt < 5; attempt++) {
        int p1 = free_port(), p2 = free_port();
        if (p1 <= 0 || p2 <= 0 || p1 == p2)
            continue;
        snprintf(hap_plain, sizeof(hap_plain), "127.0.0.1:%d", p1);
        snprintf(hap_tls, sizeof(hap_tls), "127.0.0.1:%d", p2);
        snprintf(text, sizeof(text),
                 "defaults\n"
                 "    mode tcp\n"
                 "    timeout connect 5s\n"
                 "    timeout client 30s\n"
                 "    timeout server 30s\n"
                 "frontend plain\n"
                 "    bind %s\n"
                 "    default_backend to_pp\n"
                 "backend to_pp\n"
                 "    server b %s send-proxy-v2 check check-send-proxy inter 100ms\n"
                 "frontend tls\n"
                 "    bind %s ssl crt %s ca-file %s/ca.pem verify required\n"
                 "    default_backend to_cn\n"
                 "backend to_cn\n"
                 "    server b %s send-proxy-v2-ssl-cn\n",
                 hap_plain, B.pp, hap_tls, pem, pki, cn_addr);
        snprintf(cfg, sizeof(cfg), "%s/haproxy.cfg", pki);
        if (ts_write_file(cfg, text, strlen(text)) != 0)
            return -1;
        const char *argv[] = {"/usr/sbin/haproxy", "-db", "-f", cfg, NULL};
        if (ts_spawn(&hap, argv, NULL, hap_log, hap_log) != 0)
            return -1;
        /* ready when both frontends accept; a bind failure makes HAProxy exit instead */
        int fd1 = -1, fd2 = -1;
        uint64_t deadline = pn_now_ms() + 5000;
        while (ts_alive(&hap) && pn_now_ms() < deadline && (fd1 < 0 || fd2 < 0)) {
            if (fd1 < 0)
                fd1 = ts_connect(hap_plain, NULL, 200);
            if (fd2 < 0)
                fd2 = ts_connect(hap_tls, NULL, 200);
        }
        if (fd1 >= 0)
            close(fd1);
        if (fd2 >= 0)
            close(fd2);
        if (fd1 >= 0 && fd2 >= 0 && ts_alive(&hap))
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
    if (bh_start(&B,
                 "listener.tcp.cn = 127.0.0.1:0\n"
                 "listener.tcp.cn.proxy_protocol = on\n"
                 "listener.tcp.cn.proxy_protocol_use_cn_as_username = on\n",
                 NULL) != 0)
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
    assert_int_equal(ts_spawn(&p, leaf ? tls : plain, NULL, NULL, NULL), 0);
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

static void test_R_SSL_08_haproxy_tls_offload_cn_becomes_username(void **state)
{
    (void)state;
    assert_int_equal(pub(hap_tls, "hap-alice", pki, "alice"), 0);
    char ev[8192];
    close_event("hap-alice", ev, sizeof(ev));
    assert_non_null(strstr(ev, "\"username\":\"alice\""));
    assert_non_null(strstr(ev, "\"username_source\":\"cn\""));
    assert_non_null(strstr(ev, "\"cert_verified\":true"));
}

static void test_haproxy_certificate_from_other_ca_never_reaches_broker(void **state)
{
    (void)state;
    char cert[400];
    snprintf(cert, sizeof(cert), "%s/mallory.pem", evil);
    assert_int_equal(access(cert, R_OK), 0); /* the client fails on the CA, not on a missing file */
    assert_true(pub(hap_tls, "hap-mallory", evil, "mallory") != 0);
    assert_int_equal(bh_get(&B, "/api/v1/events?since=0", body, sizeof(body)), 200);
    assert_null(strstr(body, "\"client_id\":\"hap-mallory\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_GEN_03_haproxy_send_proxy_v2_carries_client_address),
        cmocka_unit_test(test_R_V2_07_haproxy_local_health_checks_accepted),
        cmocka_unit_test(test_R_SSL_08_haproxy_tls_offload_cn_becomes_username),
        cmocka_unit_test(test_haproxy_certificate_from_other_ca_never_reaches_broker),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
