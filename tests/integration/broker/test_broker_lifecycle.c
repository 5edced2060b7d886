/* Integration: ppbroker as a program: exit statuses of the contract (0 on SIGTERM/SIGINT,
 * 2 for config and usage errors before anything is bound, 3 when a listener cannot bind),
 * --check-config, --help, --version, the ready file, and `ppbroker passwd`. */
#include "common.h"

#include <signal.h>
#include <stdlib.h>

static char tmp[256];
static char out[400], errf[400];

static int setup(void **state)
{
    (void)state;
    if (ts_tmpdir("broker-life", tmp, sizeof(tmp)) != 0)
        return -1;
    snprintf(out, sizeof(out), "%s/stdout", tmp);
    snprintf(errf, sizeof(errf), "%s/stderr", tmp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_rmtree(tmp);
    return 0;
}

/* Run ppbroker with args to completion; returns its exit code. */
static int run(const char *const *args, const char *stdin_text)
{
    const char *argv[32];
    size_t n = 0;
    argv[n++] = bh_ppbroker();
    for (size_t i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    unlink(out);
    unlink(errf);
    ts_proc p;
    if (stdin_text) {
        /* ts_spawn reads /dev/null: feed stdin through a shell redirect from a file */
        char in[400], cmd[2048];
        snprintf(in, sizeof(in), "%s/stdin", tmp);
        assert_int_equal(ts_write_file(in, stdin_text, strlen(stdin_text)), 0);
        size_t k = (size_t)snprintf(cmd, sizeof(cmd), "exec");
        for (size_t i = 0; argv[i]; i++)
            k += (size_t)snprintf(cmd + k, sizeof(cmd) - k, " '%s'", argv[i]);
        snprintf(cmd + k, sizeof(cmd) - k, " < '%s'", in);
        const char *sh[] = {"/bin/sh", "-c", cmd, NULL};
        assert_int_equal(ts_spawn(&p, sh, NULL, out, errf), 0);
    } else {
        assert_int_equal(ts_spawn(&p, argv, NULL, out, errf), 0);
    }
    ts_exit ex;
    assert_int_equal(ts_wait_exit(&p, 20000, &ex), 0);
    assert_true(ex.exited);
    return ex.code;
}

static void file_contains(const char *path, const char *needle)
{
    char buf[8192];
    assert_true(ts_read_file(path, buf, sizeof(buf)) >= 0);
    if (!strstr(buf, needle))
        fail_msg("%s lacks '%s':\n%s", path, needle, buf);
}

static const char *write_conf(const char *name, const char *text)
{
    static char path[400];
    snprintf(path, sizeof(path), "%s/%s", tmp, name);
    assert_int_equal(ts_write_file(path, text, strlen(text)), 0);
    return path;
}

static void test_sigterm_and_sigint_exit_0(void **state)
{
    (void)state;
    bh h;
    assert_int_equal(bh_start(&h, NULL, NULL), 0);
    /* a live client, to stop with connections open */
    mq_connect_opts o = {.version = 5, .client_id = "live", .clean = true};
    int code;
    ts_end end;
    int fd = mq_open(h.plain, NULL, 0, &o, &code, &end);
    assert_true(fd >= 0);
    int idle = ts_connect(h.pp, NULL, 2000); /* one still in the header stage */
    assert_true(idle >= 0);
    assert_int_equal(bh_stop(&h), 0);
    /* the v5 client was told (DISCONNECT 0x8B) or at least closed */
    size_t got;
    mq_packet *p = malloc(sizeof(*p));
    ts_end e = mq_read_packet(fd, p, 5000);
    if (e == TS_END_COUNT) {
        assert_int_equal(p->type, 14);
    } else {
        assert_true(e == TS_END_FIN || e == TS_END_RST);
    }
    free(p);
    e = ts_expect_close(idle, 5000, &got);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    close(fd);
    close(idle);

    assert_int_equal(bh_start(&h, NULL, NULL), 0);
    assert_int_equal(kill(h.proc.pid, SIGINT), 0);
    ts_exit ex;
    assert_int_equal(ts_wait_exit(&h.proc, 10000, &ex), 0);
    assert_true(ex.exited);
    assert_int_equal(ex.code, 0);
    bh_stop(&h);
}

static void test_ready_file_names_every_listener(void **state)
{
    (void)state;
    bh h;
    assert_int_equal(bh_start(&h, NULL, NULL), 0);
    char json[8192], pid[32];
    assert_true(ts_read_file(h.ready, json, sizeof(json)) > 0);
    assert_true(ts_json_get(json, "pid", pid, sizeof(pid)) > 0);
    assert_int_equal(atoi(pid), h.proc.pid);
    assert_non_null(strstr(json, "\"version\":\"0.1.0\""));
    assert_non_null(strstr(json, "\"pp\":{\"kind\":\"tcp\""));
    assert_non_null(strstr(json, "\"proxy_protocol\":true"));
    assert_non_null(strstr(h.pp, "127.0.0.1:"));
    assert_string_not_equal(h.pp, "127.0.0.1:0"); /* port 0 resolved to the real port */
    assert_int_equal(bh_stop(&h), 0);
}

static void test_R_GEN_12_config_error_exit_2_names_file_line_key(void **state)
{
    (void)state;
    const char *conf = write_conf("bad.conf", "listener.tcp.pp = 127.0.0.1:0\n"
                                              "listener.tcp.pp.proxy_protocol_timeout = 1s\n");
    const char *args[] = {"-c", conf, NULL};
    assert_int_equal(run(args, NULL), 2);
    char want[512];
    snprintf(want, sizeof(want), "%s:2: listener.tcp.pp.proxy_protocol_timeout: below 3s is refused", conf);
    file_contains(errf, want);
    const char *check[] = {"--check-config", "-c", conf, NULL};
    assert_int_equal(run(check, NULL), 2);
    file_contains(errf, want);
}

static void test_check_config_ok_and_example(void **state)
{
    (void)state;
    const char *args[] = {"--check-config", "-c", PPC_SOURCE_DIR "/broker/ppbroker.conf.example", NULL};
    assert_int_equal(run(args, NULL), 0);
    file_contains(out, "configuration OK");
}

/* --check-config loads what the config names: ACL, password file, TLS key pair. */
static void test_check_config_loads_named_files(void **state)
{
    (void)state;
    char acl[400], pw[400], text[1200];
    snprintf(acl, sizeof(acl), "%s/bad.acl", tmp);
    snprintf(pw, sizeof(pw), "%s/bad.passwd", tmp);
    assert_int_equal(ts_write_file(acl, "topic read a\nbogus\n", 19), 0);
    assert_int_equal(ts_write_file(pw, "alice:not-a-hash\n", 17), 0);
    snprintf(text, sizeof(text), "listener.tcp.a = 127.0.0.1:0\nacl_file = %s\n", acl);
    const char *conf = write_conf("acl.conf", text);
    const char *a1[] = {"--check-config", "-c", conf, NULL};
    assert_int_equal(run(a1, NULL), 2);
    char want[512];
    snprintf(want, sizeof(want), "%s:2: unknown keyword 'bogus'", acl);
    file_contains(errf, want);
    const char *a2[] = {"-c", conf, NULL}; /* and the broker itself refuses to start */
    assert_int_equal(run(a2, NULL), 2);
    file_contains(errf, want);
    snprintf(text, sizeof(text), "listener.tcp.a = 127.0.0.1:0\npassword_file = %s\n", pw);
    conf = write_conf("pw.conf", text);
    const char *a3[] = {"--check-config", "-c", conf, NULL};
    assert_int_equal(run(a3, NULL), 2);
    file_contains(errf, pw);
}

static void test_usage_errors_exit_2(void **state)
{
    (void)state;
    const char *conf = write_conf("ok.conf", "listener.tcp.a = 127.0.0.1:0\n");
    const char *a1[] = {"-c", conf, "--quirk", "no-such-quirk", NULL};
    assert_int_equal(run(a1, NULL), 2);
    file_contains(errf, "unknown quirk 'no-such-quirk'");
    const char *a2[] = {NULL};
    assert_int_equal(run(a2, NULL), 2);
    file_contains(errf, "-c FILE is required");
    const char *a3[] = {"-c", conf, "--bogus", NULL};
    assert_int_equal(run(a3, NULL), 2);
    const char *a4[] = {"-c", "/nonexistent/x.conf", NULL};
    assert_int_equal(run(a4, NULL), 2);
    file_contains(errf, "/nonexistent/x.conf: cannot open");
}

static void test_help_and_version(void **state)
{
    (void)state;
    const char *h[] = {"--help", NULL};
    assert_int_equal(run(h, NULL), 0);
    file_contains(out, "--check-config");
    file_contains(out, "last-duplicate-tlv-wins");
    const char *v[] = {"--version", NULL};
    assert_int_equal(run(v, NULL), 0);
    file_contains(out, "ppbroker 0.1.0");
}

static void test_bind_failure_exit_3_names_listener(void **state)
{
    (void)state;
    bh h;
    assert_int_equal(bh_start(&h, NULL, NULL), 0);
    char conf_text[256];
    snprintf(conf_text, sizeof(conf_text), "listener.tcp.clash = %s\n", h.plain);
    const char *conf = write_conf("clash.conf", conf_text);
    const char *args[] = {"-c", conf, NULL};
    assert_int_equal(run(args, NULL), 3);
    file_contains(errf, "listener.tcp.clash (");
    file_contains(errf, "in use");
    assert_int_equal(bh_stop(&h), 0);
}

static void test_passwd_helper_and_login(void **state)
{
    (void)state;
    char pw[400];
    snprintf(pw, sizeof(pw), "%s/passwd", tmp);
    const char *a1[] = {"passwd", pw, "alice", NULL};
    assert_int_equal(run(a1, "s3cret\n"), 0);
    const char *a2[] = {"passwd", pw, "bob", NULL};
    assert_int_equal(run(a2, "hunter2\n"), 0);
    assert_int_equal(run(a1, "n3w\n"), 0); /* replaces alice */
    char text[4096];
    assert_true(ts_read_file(pw, text, sizeof(text)) > 0);
    assert_non_null(strstr(text, "alice:$pbkdf2-sha256$"));
    assert_non_null(strstr(text, "bob:$pbkdf2-sha256$"));
    assert_null(strstr(strstr(text, "alice:") + 1, "alice:")); /* one entry per user */
    assert_int_equal(run(a1, ""), 2); /* empty password refused */
    const char *bad[] = {"passwd", pw, "a:b", NULL};
    assert_int_equal(run(bad, "x\n"), 2);

    char extra[600];
    snprintf(extra, sizeof(extra), "allow_anonymous = off\npassword_file = %s\n", pw);
    bh h;
    assert_int_equal(bh_start(&h, extra, NULL), 0);
    mq_connect_opts o = {.version = 4, .client_id = "pw", .clean = true, .username = "alice", .password = "n3w"};
    int code;
    ts_end end;
    int fd = mq_open(h.plain, NULL, 0, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 0);
    disconnect_and_wait(fd);
    o.password = "s3cret"; /* the replaced password */
    fd = mq_open(h.plain, NULL, 0, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 4); /* bad user name or password */
    close(fd);
    o.username = NULL;
    o.password = NULL;
    fd = mq_open(h.plain, NULL, 0, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 5); /* not authorized: anonymous off */
    close(fd);
    assert_int_equal(bh_stop(&h), 0);
}

static void test_log_line_per_connection_outcome(void **state)
{
    (void)state;
    bh h;
    assert_int_equal(bh_start(&h, NULL, NULL), 0);
    int fd = ts_connect(h.pp, NULL, 2000);
    assert_true(fd >= 0);
    char real[64];
    local_text(fd, real, sizeof(real));
    assert_int_equal(ts_send_all(fd, CONNECT_311, sizeof(CONNECT_311), 2000), 0);
    size_t got;
    ts_end e = ts_expect_close(fd, 5000, &got);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    close(fd);
    char needle[128], line[4096];
    snprintf(needle, sizeof(needle), "\"real_peer\":\"%s\",\"type\":\"proxy_reject\"", real);
    assert_int_equal(ts_wait_line(h.log, needle, 5000, line, sizeof(line)), 0);
    assert_non_null(strstr(line, "\"reason\":\"detect.not_proxy\""));
    assert_non_null(strstr(line, "\"listener\":\"pp\""));
    assert_non_null(strstr(line, "\"outcome\":\"refused\""));
    assert_int_equal(bh_stop(&h), 0);
}

static void test_text_log_format_key_value(void **state)
{
    (void)state;
    bh h;
    assert_int_equal(bh_start_config(&h,
                                     "listener.tcp.pp = 127.0.0.1:0\n"
                                     "listener.tcp.pp.proxy_protocol = on\n"
                                     "admin.listener = 127.0.0.1:0\n"
                                     "log.format = text\n",
                                     NULL),
                     0);
    int fd = ts_connect(h.pp, NULL, 2000);
    assert_true(fd >= 0);
    char real[64];
    local_text(fd, real, sizeof(real));
    static const char bad[] = "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n";
    assert_int_equal(ts_send_all(fd, bad, sizeof(bad) - 1, 2000), 0);
    size_t got;
    ts_end e = ts_expect_close(fd, 5000, &got);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    close(fd);
    char needle[128], line[4096];
    snprintf(needle, sizeof(needle), "real_peer=%s", real);
    assert_int_equal(ts_wait_line(h.log, needle, 5000, line, sizeof(line)), 0);
    assert_non_null(strstr(line, "level=warning event=proxy_reject"));
    assert_non_null(strstr(line, "listener=pp"));
    assert_non_null(strstr(line, "reason=v1.leading_zero"));
    assert_non_null(strstr(line, "outcome=refused"));
    assert_non_null(strstr(line, "message=\"")); /* values with spaces are quoted */
    assert_int_equal(bh_stop(&h), 0);
}

static void test_unwritable_log_file_exit_2(void **state)
{
    (void)state;
    const char *conf = write_conf("log.conf", "listener.tcp.a = 127.0.0.1:0\n");
    const char *args[] = {"-c", conf, "--log-file", "/nonexistent/dir/ppbroker.log", NULL};
    assert_int_equal(run(args, NULL), 2);
    file_contains(errf, "--log-file /nonexistent/dir/ppbroker.log");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_and_sigint_exit_0),
        cmocka_unit_test(test_ready_file_names_every_listener),
        cmocka_unit_test(test_R_GEN_12_config_error_exit_2_names_file_line_key),
        cmocka_unit_test(test_check_config_ok_and_example),
        cmocka_unit_test(test_check_config_loads_named_files),
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_help_and_version),
        cmocka_unit_test(test_bind_failure_exit_3_names_listener),
        cmocka_unit_test(test_passwd_helper_and_login),
        cmocka_unit_test(test_log_line_per_connection_outcome),
        cmocka_unit_test(test_text_log_format_key_value),
        cmocka_unit_test(test_unwritable_log_file_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
