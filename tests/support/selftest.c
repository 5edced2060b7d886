/* Self-test of tests/support: the helpers other tests rely on must themselves be right
 * (a helper that misreports a crash or a RST would make every test built on it useless). */
#include <setjmp.h>
#include <signal.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/sock.h"
#include "net/tls.h"
#include "support.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    return ts_tmpdir("selftest", dir, sizeof dir);
}

static int teardown(void **state)
{
    (void)state;
    ts_stop_all();
    return ts_rmtree(dir);
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void test_spawn_output_env_and_stop_by_sigterm(void **state)
{
    (void)state;
    char out[512], line[256];
    path_in(out, sizeof out, "out.txt");
    const char *argv[] = {"/bin/sh", "-c", "echo \"value=$PPC_SELFTEST\"; echo err >&2; exec tail -f /dev/null", NULL};
    const char *env[] = {"PPC_SELFTEST=42", NULL};
    ts_proc p;
    assert_int_equal(ts_spawn(&p, argv, env, out, out), 0);
    assert_true(p.pid > 0);
    assert_int_equal(ts_wait_line(out, "value=", 5000, line, sizeof line), 0);
    assert_string_equal(line, "value=42");
    assert_int_equal(ts_wait_line(out, "err", 5000, NULL, 0), 0); /* stderr shares the file */
    assert_true(ts_alive(&p));
    ts_exit ex;
    assert_int_equal(ts_stop(&p, 5000, &ex), 0);
    assert_true(ex.signaled);
    assert_int_equal(ex.signo, SIGTERM);
    assert_false(ex.crashed);
    assert_false(ex.killed);
    assert_false(ts_alive(&p));
    /* stopping again reports the same outcome */
    assert_int_equal(ts_stop(&p, 100, &ex), 0);
    assert_int_equal(ex.signo, SIGTERM);
}

static void test_exit_code_and_crash_classified(void **state)
{
    (void)state;
    ts_proc p;
    ts_exit ex;
    char buf[64];
    const char *exit3[] = {"/bin/sh", "-c", "exit 3", NULL};
    assert_int_equal(ts_spawn(&p, exit3, NULL, NULL, NULL), 0);
    assert_int_equal(ts_wait_exit(&p, 5000, &ex), 0);
    assert_true(ex.exited);
    assert_int_equal(ex.code, 3);
    assert_string_equal(ts_exit_text(&ex, buf, sizeof buf), "exit 3");

    const char *segv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    assert_int_equal(ts_spawn(&p, segv, NULL, NULL, NULL), 0);
    assert_int_equal(ts_wait_exit(&p, 5000, &ex), 0);
    assert_true(ex.signaled);
    assert_int_equal(ex.signo, SIGSEGV);
    assert_true(ex.crashed);
    assert_string_equal(ts_exit_text(&ex, buf, sizeof buf), "signal 11 (crash)");

    const char *missing[] = {"/nonexistent/ppc-binary", NULL};
    /* posix_spawn reports exec failure either as an error or as exit 127 */
    if (ts_spawn(&p, missing, NULL, NULL, NULL) == 0) {
        assert_int_equal(ts_wait_exit(&p, 5000, &ex), 0);
        assert_true(ex.exited);
        assert_int_equal(ex.code, 127);
    } else {
        assert_non_null(strstr(ts_last_error(), "No such file"));
    }
}

static void test_sigterm_ignored_then_killed_at_deadline(void **state)
{
    (void)state;
    char out[512];
    path_in(out, sizeof out, "armed.txt");
    const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo armed; exec tail -f /dev/null", NULL};
    ts_proc p;
    ts_exit ex;
    assert_int_equal(ts_spawn(&p, argv, NULL, out, NULL), 0);
    assert_int_equal(ts_wait_line(out, "armed", 5000, NULL, 0), 0);
    assert_int_equal(ts_wait_exit(&p, 50, &ex), -1); /* still running */
    assert_int_equal(ts_stop(&p, 200, &ex), 0);
    assert_true(ex.killed);
    assert_int_equal(ex.signo, SIGKILL);
    assert_false(ex.crashed);
}

static void test_child_starts_with_clean_signal_mask(void **state)
{
    (void)state;
    /* Block SIGTERM here (as pn_loop_on_signal does); the child must still die of it. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, &old);
    char out[512];
    path_in(out, sizeof out, "mask.txt");
    const char *argv[] = {"/bin/sh", "-c", "echo up; exec tail -f /dev/null", NULL};
    ts_proc p;
    ts_exit ex;
    assert_int_equal(ts_spawn(&p, argv, NULL, out, NULL), 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    assert_int_equal(ts_wait_line(out, "up", 5000, NULL, 0), 0);
    assert_int_equal(ts_stop(&p, 5000, &ex), 0);
    assert_int_equal(ex.signo, SIGTERM);
    assert_false(ex.killed);
}

static void test_wait_line_and_json_with_deadlines(void **state)
{
    (void)state;
    char path[512], buf[256];
    path_in(path, sizeof path, "partial.json");
    assert_int_equal(ts_wait_line(path, NULL, 30, buf, sizeof buf), -1);
    assert_non_null(strstr(ts_last_error(), "never appeared"));
    assert_int_equal(ts_write_file(path, "{\"a\": [1, \"}\"", 13), 0);
    assert_int_equal(ts_wait_json_file(path, 30, buf, sizeof buf), -1); /* incomplete */
    assert_int_equal(ts_wait_line(path, NULL, 30, buf, sizeof buf), -1); /* no newline yet */
    assert_int_equal(ts_write_file(path, "{\"a\": [1, \"}\"]}\n", 16), 0);
    assert_int_equal(ts_wait_json_file(path, 1000, buf, sizeof buf), 0);
    assert_string_equal(buf, "{\"a\": [1, \"}\"]}");
    assert_int_equal(ts_wait_line(path, "\"a\"", 1000, buf, sizeof buf), 0);
    /* a writer in another process, seen without sleeping */
    char out[512];
    path_in(out, sizeof out, "late.txt");
    char script[1200];
    snprintf(script, sizeof script, "printf 'first\\nsec' > %s; printf 'ond\\n' >> %s", out, out);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    ts_proc p;
    assert_int_equal(ts_spawn(&p, argv, NULL, NULL, NULL), 0);
    assert_int_equal(ts_wait_line(out, "sec", 5000, buf, sizeof buf), 0);
    assert_string_equal(buf, "second");
    assert_int_equal(ts_wait_exit(&p, 5000, NULL), 0);
}

static void test_rmtree_removes_nested(void **state)
{
    (void)state;
    char sub[512], file[600], t[256];
    assert_int_equal(ts_tmpdir("rm", t, sizeof t), 0);
    snprintf(sub, sizeof sub, "%s/a/b", t);
    snprintf(file, sizeof file, "%s/a", t);
    assert_int_equal(mkdir(file, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(file, sizeof file, "%s/f", sub);
    assert_int_equal(ts_write_file(file, "x", 1), 0);
    assert_int_equal(ts_rmtree(t), 0);
    struct stat st;
    assert_int_equal(stat(t, &st), -1);
    assert_int_equal(ts_rmtree(t), 0); /* already gone is fine */
    assert_int_equal(ts_rmtree("/"), -1);
}

static void test_sockets_count_fin_rst_timeout(void **state)
{
    (void)state;
    pn_addr any, bound;
    char err[256], dst[PN_ADDR_TEXT_MAX], buf[64];
    size_t got;
    assert_int_equal(pn_addr_from_ip("127.0.0.1", 0, &any), 0);
    int lfd = pn_listen(&any, 8, 0, &bound, err, sizeof err);
    assert_true(lfd >= 0);
    pn_addr_to_text(&bound, dst, sizeof dst);

    int c = ts_connect(dst, "127.0.0.3", 5000);
    assert_true(c >= 0);
    pn_addr peer;
    char ip[64];
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    int s = pn_accept(lfd, &peer);
    assert_true(s >= 0);
    assert_string_equal(pn_addr_ip_text(&peer, ip, sizeof ip), "127.0.0.3");
    assert_int_equal(ts_send_str(s, "hello world", 5000), 0);
    assert_int_equal(ts_read(c, buf, sizeof buf, 5, 5000, &got), TS_END_COUNT);
    assert_int_equal(got, 5);
    assert_int_equal(ts_read_until(c, buf, sizeof buf, "ld", 2, 5000, &got), TS_END_COUNT);
    assert_memory_equal(buf, " world", 6);
    assert_int_equal(ts_read(c, buf, sizeof buf, 1, 30, &got), TS_END_TIMEOUT);
    assert_int_equal(got, 0);
    assert_int_equal(ts_expect_close(c, 30, &got), TS_END_TIMEOUT);
    shutdown(s, SHUT_WR);
    assert_int_equal(ts_expect_close(c, 5000, &got), TS_END_FIN);
    assert_int_equal(got, 0);
    close(s);
    close(c);

    c = ts_connect(dst, NULL, 5000);
    assert_true(c >= 0);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    s = pn_accept(lfd, NULL);
    assert_true(s >= 0);
    assert_int_equal(ts_send_str(s, "bye", 5000), 0);
    assert_int_equal(ts_read(c, buf, sizeof buf, 3, 5000, &got), TS_END_COUNT);
    pn_close_rst(s);
    assert_int_equal(ts_read(c, buf, sizeof buf, 0, 5000, &got), TS_END_RST);
    close(c);
    close(lfd);

    /* nothing listens on the old port any more */
    assert_int_equal(ts_connect(dst, NULL, 5000), -1);
    assert_non_null(strstr(ts_last_error(), "refused"));
    assert_int_equal(ts_connect("nonsense", NULL, 100), -1);
}

static void test_json_extraction(void **state)
{
    (void)state;
    const char *j = "{\"note\": \"say \\\"id\\\": 9\", \"id\": 7, \"sessions\": [{\"user\": \"a\\u0041\"},"
                    " {\"user\": \"b\"}], \"ok\": true, \"empty\": [], \"nested\": {\"x\": {\"y\": \"z\"}}}";
    char out[64];
    long long v;
    assert_true(ts_json_get_int(j, "id", &v)); /* the "id": inside the string is skipped */
    assert_int_equal(v, 7);
    assert_int_equal(ts_json_get(j, "user", out, sizeof out), 2);
    assert_string_equal(out, "aA");
    assert_int_equal(ts_json_get(j, "ok", out, sizeof out), 4);
    assert_string_equal(out, "true");
    assert_int_equal(ts_json_get(j, "x", out, sizeof out), 10);
    assert_string_equal(out, "{\"y\": \"z\"}");
    assert_int_equal(ts_json_array_len(j, "sessions"), 2);
    assert_int_equal(ts_json_array_len(j, "empty"), 0);
    assert_int_equal(ts_json_array_len(j, "id"), -1);
    assert_int_equal(ts_json_get(j, "missing", out, sizeof out), -1);
    assert_int_equal(ts_json_get(j, "note", out, 4), -2);
    assert_false(ts_json_get_int(j, "user", &v));
    assert_int_equal(ts_json_get("{\"a\": \"unterminated", "a", out, sizeof out), -1);
}

static void test_tls_helpers_with_test_pki(void **state)
{
    (void)state;
    char ca[300], cert[300], key[300], err[256], buf[16];
    const ts_leaf leaves[] = {{.name = "server", .cn = "localhost", .is_server = true}};
    assert_int_equal(ts_pki_make(dir, "Selftest CA", leaves, 1), 0);
    snprintf(ca, sizeof ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    pn_tls_server_opts so = {.cert_file = cert, .key_file = key};
    pn_tls_client_opts co = {.ca_file = ca, .verify_peer = true, .sni = "localhost"};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    assert_non_null(sctx);
    assert_non_null(cctx);

    pn_addr any, bound;
    assert_int_equal(pn_addr_from_ip("127.0.0.1", 0, &any), 0);
    int lfd = pn_listen(&any, 4, 0, &bound, err, sizeof err);
    char dst[PN_ADDR_TEXT_MAX];
    int c = ts_connect(pn_addr_to_text(&bound, dst, sizeof dst), NULL, 5000);
    assert_true(c >= 0);
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 5000), 1);
    int s = pn_accept(lfd, NULL);
    assert_true(s >= 0);
    pn_tls *ct = pn_tls_new(cctx, c, NULL, err, sizeof err);
    pn_tls *st = pn_tls_new(sctx, s, NULL, err, sizeof err);
    /* one thread drives both ends: each side runs until it waits for the other */
    assert_int_equal(ts_tls_handshake(ct, c, 30), -1); /* ClientHello out, waits for the server */
    assert_non_null(strstr(ts_last_error(), "timeout"));
    assert_int_equal(ts_tls_handshake(st, s, 30), -1); /* server flight out, waits for Finished */
    assert_int_equal(ts_tls_handshake(ct, c, 5000), 0);
    assert_int_equal(ts_tls_handshake(st, s, 5000), 0);
    size_t got;
    assert_int_equal(ts_tls_send_all(ct, c, "hello", 5, 5000), 0);
    assert_int_equal(ts_tls_read(st, s, buf, sizeof buf, 5, 5000, &got), TS_END_COUNT);
    assert_memory_equal(buf, "hello", 5);
    assert_int_equal(ts_tls_read(st, s, buf, sizeof buf, 1, 30, &got), TS_END_TIMEOUT);
    pn_tls_shutdown(ct);
    assert_int_equal(ts_tls_read(st, s, buf, sizeof buf, 1, 5000, &got), TS_END_FIN);
    pn_tls_free(ct);
    pn_tls_free(st);
    close(c);
    close(s);
    close(lfd);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_output_env_and_stop_by_sigterm),
        cmocka_unit_test(test_exit_code_and_crash_classified),
        cmocka_unit_test(test_sigterm_ignored_then_killed_at_deadline),
        cmocka_unit_test(test_child_starts_with_clean_signal_mask),
        cmocka_unit_test(test_wait_line_and_json_with_deadlines),
        cmocka_unit_test(test_rmtree_removes_nested),
        cmocka_unit_test(test_sockets_count_fin_rst_timeout),
        cmocka_unit_test(test_json_extraction),
        cmocka_unit_test(test_tls_helpers_with_test_pki),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
