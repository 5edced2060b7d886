/* proxysend --listen (the validator) fed by proxysend's own sender and by raw sockets:
 * each sender defect shows up as its finding with its requirement ID; --forward relays the
 * stream with the header stripped (or kept); --relay prepends a header built from the real
 * client and passes half-closes on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "psit.h"

/* Start a one-connection validator, run one sender, return the validator's JSON report. */
static void judge(const char *const *sender_args, char *report, size_t cap, int *listen_exit)
{
    char addr[64];
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--count", "1", "--json", "--timeout", "2s", NULL},
                      "report", addr, sizeof addr);
    const char *args[40];
    size_t n = 0;
    for (; sender_args[n] && n < 36; n++)
        args[n] = sender_args[n];
    args[n++] = "--timeout";
    args[n++] = "3s";
    args[n++] = addr;
    args[n] = NULL;
    ts_proc s;
    psit_spawn(&s, args, "sender", "sender.err");
    char path[600];
    psit_path(path, sizeof path, "report");
    if (ts_wait_line(path, "\"conn\":1", PSIT_WAIT_MS, report, cap) != 0)
        fail_msg("no report: %s", ts_last_error());
    *listen_exit = psit_exit_code(&l);
    ts_stop(&s, 2000, NULL);
}

static void assert_finding(const char *report, const char *name, const char *id)
{
    char needle[200];
    snprintf(needle, sizeof needle, "\"id\":\"%s\",", id);
    const char *at = strstr(report, needle);
    snprintf(needle, sizeof needle, "\"name\":\"%s\"", name);
    if (!at || !strstr(report, needle))
        fail_msg("finding %s (%s) missing from report:\n%s", name, id, report);
}

static void test_valid_header_in_one_write_has_no_findings(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--src", "198.51.100.9:51000", "--tlv", "alpn=mqtt", "--tlv", "crc32c", "--mqtt-connect",
                           NULL},
          r, sizeof r, &code);
    assert_int_equal(code, 0);
    assert_non_null(strstr(r, "\"valid\":true"));
    assert_non_null(strstr(r, "\"src\":\"198.51.100.9:51000\""));
    assert_non_null(strstr(r, "\"alpn\":\"mqtt\""));
    assert_non_null(strstr(r, "\"crc32c\":\"ok\""));
    assert_non_null(strstr(r, "\"findings\":[]"));
}

static void test_R_GEN_09_split_header_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--split", "10", "--delay", "300ms", NULL}, r, sizeof r, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r, "\"valid\":true"));
    assert_non_null(strstr(r, "\"first_read\":10"));
    assert_finding(r, "sender.split_header", "R-GEN-09");
}

static void test_R_CRC_06_wrong_crc_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--tlv", "crc32c", "--mutate", "crc-corrupt", NULL}, r, sizeof r, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r, "\"error\":\"crc32c.mismatch\""));
    assert_finding(r, "crc32c.mismatch", "R-CRC-05");
}

static void test_A_12_verify_zero_without_certificate_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--profile", "haproxy-v2-ssl-cn", NULL}, r, sizeof r, &code);
    assert_int_equal(code, 0); /* a warning, not a failure */
    assert_finding(r, "sender.verify_zero_without_cert", "A-12");
}

static void test_R_V2_14_local_with_address_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--profile", "aws-nlb-healthcheck", NULL}, r, sizeof r, &code);
    assert_non_null(strstr(r, "\"command\":\"LOCAL\""));
    assert_finding(r, "sender.local_with_address", "R-V2-14");
}

static void test_R_V1_17_nginx_tcp6_with_ipv4_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--profile", "nginx-v1", "--src", "[2001:db8::7]:40006", NULL}, r, sizeof r, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r, "\"valid\":false"));
    assert_finding(r, "sender.tcp6_with_ipv4", "R-V1-17");
}

static void test_R_V1_09_unknown_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"-1", "--family", "unix", NULL}, r, sizeof r, &code);
    assert_non_null(strstr(r, "\"valid\":true"));
    assert_finding(r, "sender.v1_unknown", "R-V1-09");
}

static void test_R_UID_01_long_unique_id_reported(void **state)
{
    (void)state;
    char uid[300] = "unique-id=hex:";
    for (int i = 0; i < 129; i++)
        strcat(uid, "41");
    char r[16384];
    int code;
    judge((const char *[]){"--tlv", uid, NULL}, r, sizeof r, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r, "\"error\":\"tlv.unique_id_too_long\""));
    assert_finding(r, "sender.unique_id_too_long", "R-UID-01");
}

static void test_R_GEN_01_no_header_reported(void **state)
{
    (void)state;
    char r[16384];
    int code;
    judge((const char *[]){"--no-header", "--mqtt-connect", NULL}, r, sizeof r, &code);
    assert_int_equal(code, 1);
    assert_non_null(strstr(r, "\"error\":\"detect.not_proxy\""));
}

static void test_R_GEN_12_silent_sender_times_out(void **state)
{
    (void)state;
    char addr[64];
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--count", "1", "--json", "--timeout", "300ms",
                                           NULL},
                      "report", addr, sizeof addr);
    int fd = ts_connect(addr, NULL, PSIT_WAIT_MS);
    assert_true(fd >= 0);
    ts_send_str(fd, "PROXY TCP4 ", PSIT_WAIT_MS); /* a prefix, then nothing */
    char path[600], r[8192];
    psit_path(path, sizeof path, "report");
    assert_int_equal(ts_wait_line(path, "\"conn\":1", PSIT_WAIT_MS, r, sizeof r), 0);
    assert_non_null(strstr(r, "\"error\":\"header.timeout\""));
    assert_int_equal(psit_exit_code(&l), 1);
    size_t got;
    assert_int_not_equal(ts_expect_close(fd, PSIT_WAIT_MS, &got), TS_END_TIMEOUT);
    close(fd);
}

/* --forward strips the header; --keep-header passes it on. */
static void forward_case(bool keep)
{
    char baddr[64], addr[64];
    int bl = psit_listen(baddr, sizeof baddr);
    ts_proc l;
    const char *args[] = {"--listen", "127.0.0.1:0", "--count", "1", "--forward", baddr, keep ? "--keep-header" : "--json",
                          NULL};
    psit_start_server(&l, args, "report", addr, sizeof addr);
    int c = ts_connect(addr, "127.0.0.7", PSIT_WAIT_MS);
    assert_true(c >= 0);
    ts_send_all(c, "PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\nhello", 47, PSIT_WAIT_MS);
    int b = psit_accept(bl);
    char buf[256];
    size_t got;
    size_t want = keep ? 47 : 5;
    assert_int_equal(ts_read(b, buf, sizeof buf, want, PSIT_WAIT_MS, &got), TS_END_COUNT);
    assert_memory_equal(buf + want - 5, "hello", 5);
    if (keep)
        assert_memory_equal(buf, "PROXY TCP4 192.0.2.1", 20);
    /* backend -> client, then the client's half-close reaches the backend */
    ts_send_str(b, "world", PSIT_WAIT_MS);
    assert_int_equal(ts_read(c, buf, sizeof buf, 5, PSIT_WAIT_MS, &got), TS_END_COUNT);
    assert_memory_equal(buf, "world", 5);
    shutdown(c, SHUT_WR);
    assert_int_equal(ts_read(b, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    close(b);
    assert_int_equal(ts_read(c, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    close(c);
    assert_int_equal(psit_exit_code(&l), 0);
    close(bl);
}

static void test_forward_strips_header(void **state)
{
    (void)state;
    forward_case(false);
}

static void test_forward_keep_header(void **state)
{
    (void)state;
    forward_case(true);
}

/* --relay: the header carries the real client (127.0.0.5:port) and the address it reached;
 * data flows both ways; a half-close is passed on. */
static void test_relay_builds_header_from_client(void **state)
{
    (void)state;
    char baddr[64], addr[64];
    int bl = psit_listen(baddr, sizeof baddr);
    ts_proc r;
    psit_start_server(&r, (const char *[]){"--relay", "127.0.0.1:0", "--to", baddr, "--tlv", "alpn=mqtt", "--count",
                                           "1", NULL},
                      "relay", addr, sizeof addr);
    int c = ts_connect(addr, "127.0.0.5", PSIT_WAIT_MS);
    assert_true(c >= 0);
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    getsockname(c, (struct sockaddr *)&me, &ml);
    int b = psit_accept(bl);
    ts_send_str(c, "ping", PSIT_WAIT_MS);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    ssize_t rc = psit_read_header(b, buf, sizeof buf, &len, &first, &h);
    assert_true(rc > 0);
    assert_memory_equal(h.src.ip, "\x7f\x00\x00\x05", 4);
    assert_int_equal(h.src.port, ntohs(me.sin_port));
    assert_int_equal(h.dst.port, atoi(strrchr(addr, ':') + 1));
    pp_bytes alpn;
    assert_true(pp_get_alpn(&h, &alpn));
    size_t got;
    if (len < (size_t)rc + 4) {
        ts_read(b, buf + len, sizeof buf - len, (size_t)rc + 4 - len, PSIT_WAIT_MS, &got);
        len += got;
    }
    assert_memory_equal(buf + rc, "ping", 4);
    shutdown(c, SHUT_WR);
    assert_int_equal(ts_read(b, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    ts_send_str(b, "pong", PSIT_WAIT_MS);
    close(b);
    char out[16];
    assert_int_equal(ts_read(c, out, sizeof out, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    assert_int_equal(got, 4);
    assert_memory_equal(out, "pong", 4);
    close(c);
    assert_int_equal(psit_exit_code(&r), 0);
    close(bl);
}

/* --relay -1: a v1 line from the real client; a client reset reaches the backend as a reset. */
static void test_relay_v1_and_reset_propagation(void **state)
{
    (void)state;
    char baddr[64], addr[64];
    int bl = psit_listen(baddr, sizeof baddr);
    ts_proc r;
    psit_start_server(&r, (const char *[]){"--relay", "127.0.0.1:0", "--to", baddr, "-1", "--count", "1", NULL},
                      "relay", addr, sizeof addr);
    int c = ts_connect(addr, "127.0.0.6", PSIT_WAIT_MS);
    assert_true(c >= 0);
    int b = psit_accept(bl);
    uint8_t buf[256];
    size_t len, first;
    pp_header h;
    assert_true(psit_read_header(b, buf, sizeof buf, &len, &first, &h) > 0);
    assert_int_equal(h.version, 1);
    assert_memory_equal(buf, "PROXY TCP4 127.0.0.6 127.0.0.1 ", 31);
    psit_close_rst(c);
    size_t got;
    assert_int_equal(ts_read(b, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_RST);
    close(b);
    assert_int_equal(psit_exit_code(&r), 0);
    close(bl);
}

/* --relay serves more connections at once than its old poll() table held (64): 100 clients
 * stay connected together, each backend connection's header names its own client, and bytes
 * still flow both ways on every pair. */
static void test_relay_serves_100_connections_at_once(void **state)
{
    (void)state;
    enum { N = 100 };
    char baddr[64], addr[64], count[8];
    int bl = psit_listen(baddr, sizeof baddr);
    snprintf(count, sizeof count, "%d", N);
    ts_proc r;
    psit_start_server(&r, (const char *[]){"--relay", "127.0.0.1:0", "--to", baddr, "-1", "--quiet", "--count", count,
                                           NULL},
                      "relay", addr, sizeof addr);
    int c[N], b[N];
    for (int i = 0; i < N; i++) {
        c[i] = ts_connect(addr, "127.0.0.8", PSIT_WAIT_MS);
        assert_true(c[i] >= 0);
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        getsockname(c[i], (struct sockaddr *)&me, &ml);
        b[i] = psit_accept(bl);
        uint8_t buf[256];
        size_t len, first;
        pp_header h;
        assert_true(psit_read_header(b[i], buf, sizeof buf, &len, &first, &h) > 0);
        assert_int_equal(h.src.port, ntohs(me.sin_port));
    }
    for (int i = 0; i < N; i++) {
        char msg[16], buf[16];
        size_t got, n = (size_t)snprintf(msg, sizeof msg, "c%03d", i);
        ts_send_all(c[i], msg, n, PSIT_WAIT_MS);
        assert_int_equal(ts_read(b[i], buf, sizeof buf, n, PSIT_WAIT_MS, &got), TS_END_COUNT);
        assert_memory_equal(buf, msg, n);
        msg[0] = 'b';
        ts_send_all(b[i], msg, n, PSIT_WAIT_MS);
        assert_int_equal(ts_read(c[i], buf, sizeof buf, n, PSIT_WAIT_MS, &got), TS_END_COUNT);
        assert_memory_equal(buf, msg, n);
    }
    for (int i = 0; i < N; i++) {
        close(c[i]);
        close(b[i]);
    }
    assert_int_equal(psit_exit_code(&r), 0);
    close(bl);
}

/* --listen --forward keeps more connections open at once than its old poll() table held
 * (64): 100 senders stay connected, each relayed to its own backend connection with the
 * header stripped, and every header is reported valid. */
static void test_listen_forwards_100_connections_at_once(void **state)
{
    (void)state;
    enum { N = 100 };
    static const char line[] = "PROXY TCP4 192.0.2.1 192.0.2.2 1000 2000\r\nhi";
    char baddr[64], addr[64], count[8];
    int bl = psit_listen(baddr, sizeof baddr);
    snprintf(count, sizeof count, "%d", N);
    ts_proc l;
    psit_start_server(&l, (const char *[]){"--listen", "127.0.0.1:0", "--count", count, "--json", "--forward", baddr,
                                           NULL},
                      "report", addr, sizeof addr);
    int c[N], b[N];
    for (int i = 0; i < N; i++) {
        c[i] = ts_connect(addr, "127.0.0.9", PSIT_WAIT_MS);
        assert_true(c[i] >= 0);
        assert_int_equal(ts_send_all(c[i], line, sizeof line - 1, PSIT_WAIT_MS), 0);
        b[i] = psit_accept(bl);
        char buf[8];
        size_t got;
        assert_int_equal(ts_read(b[i], buf, sizeof buf, 2, PSIT_WAIT_MS, &got), TS_END_COUNT);
        assert_memory_equal(buf, "hi", 2);
    }
    for (int i = 0; i < N; i++) {
        close(c[i]);
        close(b[i]);
    }
    assert_int_equal(psit_exit_code(&l), 0); /* exits once all N have ended (--count) */
    static char report[1 << 20];
    psit_read("report", report, sizeof report - 1);
    int valid = 0;
    for (const char *at = report; (at = strstr(at, "\"valid\":true,")); at++)
        valid++;
    assert_int_equal(valid, N);
    close(bl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_valid_header_in_one_write_has_no_findings, psit_after),
        cmocka_unit_test_teardown(test_R_GEN_09_split_header_reported, psit_after),
        cmocka_unit_test_teardown(test_R_CRC_06_wrong_crc_reported, psit_after),
        cmocka_unit_test_teardown(test_A_12_verify_zero_without_certificate_reported, psit_after),
        cmocka_unit_test_teardown(test_R_V2_14_local_with_address_reported, psit_after),
        cmocka_unit_test_teardown(test_R_V1_17_nginx_tcp6_with_ipv4_reported, psit_after),
        cmocka_unit_test_teardown(test_R_V1_09_unknown_reported, psit_after),
        cmocka_unit_test_teardown(test_R_UID_01_long_unique_id_reported, psit_after),
        cmocka_unit_test_teardown(test_R_GEN_01_no_header_reported, psit_after),
        cmocka_unit_test_teardown(test_R_GEN_12_silent_sender_times_out, psit_after),
        cmocka_unit_test_teardown(test_forward_strips_header, psit_after),
        cmocka_unit_test_teardown(test_forward_keep_header, psit_after),
        cmocka_unit_test_teardown(test_relay_builds_header_from_client, psit_after),
        cmocka_unit_test_teardown(test_relay_v1_and_reset_propagation, psit_after),
        cmocka_unit_test_teardown(test_relay_serves_100_connections_at_once, psit_after),
        cmocka_unit_test_teardown(test_listen_forwards_100_connections_at_once, psit_after),
    };
    return cmocka_run_group_tests(tests, psit_setup, psit_teardown);
}
