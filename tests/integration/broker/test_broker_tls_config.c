/* Integration: TLS listener files (issue 4 item 1): an unreadable certificate or key file, a
 * file that is not PEM, and a key that does not match its certificate each stop ppbroker
 * with exit 2 before anything is bound, naming the listener and the file; --check-config
 * says the same. Certificates are made at test time (ts_pki_make). */
#include "common.h"

#include <sys/stat.h>

static char pki[256], tmp[256];
static char out[400], errf[400];

static int group_setup(void **state)
{
    (void)state;
    if (ts_tmpdir("broker-tlscfg", tmp, sizeof(tmp)) != 0 || ts_tmpdir("broker-tlscfg-pki", pki, sizeof(pki)) != 0)
        return -1;
    snprintf(out, sizeof(out), "%s/stdout", tmp);
    snprintf(errf, sizeof(errf), "%s/stderr", tmp);
    ts_leaf leaves[] = {{.name = "server", .cn = "localhost", .is_server = true}, {.name = "alice", .cn = "alice"}};
    if (ts_pki_make(pki, "ppc test CA", leaves, 2) != 0) {
        fprintf(stderr, "pki: %s\n", ts_last_error());
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    ts_rmtree(tmp);
    ts_rmtree(pki);
    return 0;
}

/* A config with one ssl listener "tls" using cert and key; ppbroker's exit code, with or
 * without --check-config, stderr in errf. */
static int run_with(const char *cert, const char *key, bool check_only)
{
    char conf[400], text[1400];
    snprintf(conf, sizeof(conf), "%s/tls.conf", tmp);
    snprintf(text, sizeof(text),
             "listener.ssl.tls = 127.0.0.1:0\n"
             "listener.ssl.tls.certfile = %s\n"
             "listener.ssl.tls.keyfile = %s\n",
             cert, key);
    assert_int_equal(ts_write_file(conf, text, strlen(text)), 0);
    char ready[400];
    snprintf(ready, sizeof(ready), "%s/ready", tmp);
    unlink(ready);
    const char *run[] = {bh_ppbroker(), "-c", conf, "--ready-file", ready, NULL};
    const char *check[] = {bh_ppbroker(), "--check-config", "-c", conf, NULL};
    unlink(out);
    unlink(errf);
    ts_proc p;
    assert_int_equal(ts_spawn(&p, check_only ? check : run, NULL, out, errf), 0);
    ts_exit ex;
    if (ts_wait_exit(&p, 20000, &ex) != 0) {
        ts_stop(&p, 5000, &ex);
        fail_msg("ppbroker kept running with cert %s key %s", cert, key);
    }
    assert_true(ex.exited);
    if (!check_only)
        assert_int_not_equal(access(ready, F_OK), 0); /* nothing was bound: no ready file */
    return ex.code;
}

static void stderr_has(const char *needle)
{
    char buf[8192];
    assert_true(ts_read_file(errf, buf, sizeof(buf)) >= 0);
    if (!strstr(buf, needle))
        fail_msg("stderr lacks '%s':\n%s", needle, buf);
}

/* Both the broker and --check-config refuse with exit 2 and every needle in stderr. */
static void refused(const char *cert, const char *key, const char *n1, const char *n2)
{
    for (int check = 0; check < 2; check++) {
        assert_int_equal(run_with(cert, key, check == 1), 2);
        stderr_has("listener.ssl.tls");
        stderr_has(n1);
        if (n2)
            stderr_has(n2);
    }
}

static void path_in(const char *dir, const char *name, char *outp, size_t cap)
{
    snprintf(outp, cap, "%s/%s", dir, name);
}

static void test_good_pair_check_config_ok(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(pki, "server.pem", cert, sizeof(cert));
    path_in(pki, "server.key", key, sizeof(key));
    assert_int_equal(run_with(cert, key, true), 0); /* the control: the same config is fine */
    char buf[512];
    assert_true(ts_read_file(out, buf, sizeof(buf)) > 0);
    assert_non_null(strstr(buf, "configuration OK"));
}

static void test_missing_certificate_file_exit_2_names_it(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(tmp, "no-such-cert.pem", cert, sizeof(cert));
    path_in(pki, "server.key", key, sizeof(key));
    refused(cert, key, cert, "listener.ssl.tls.certfile: cannot read");
}

static void test_missing_key_file_exit_2_names_it(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(pki, "server.pem", cert, sizeof(cert));
    path_in(tmp, "no-such-key.pem", key, sizeof(key));
    refused(cert, key, key, "listener.ssl.tls.keyfile: cannot read");
}

static void test_unreadable_key_file_exit_2_names_it(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(pki, "server.pem", cert, sizeof(cert));
    if (geteuid() != 0) {
        /* mode 000 only stops a non-root reader */
        path_in(tmp, "locked.key", key, sizeof(key));
        char text[4096];
        char src[400];
        path_in(pki, "server.key", src, sizeof(src));
        ssize_t n = ts_read_file(src, text, sizeof(text));
        assert_true(n > 0);
        assert_int_equal(ts_write_file(key, text, (size_t)n), 0);
        assert_int_equal(chmod(key, 0), 0);
        refused(cert, key, key, "Permission denied");
    }
    /* a directory where the key should be: unreadable for root too */
    path_in(tmp, "keydir", key, sizeof(key));
    mkdir(key, 0700);
    refused(cert, key, key, NULL);
}

static void test_certificate_file_not_pem_exit_2_names_it(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(tmp, "garbage.pem", cert, sizeof(cert));
    assert_int_equal(ts_write_file(cert, "not a certificate\n", 18), 0);
    path_in(pki, "server.key", key, sizeof(key));
    refused(cert, key, cert, "bad certificate file");
}

static void test_key_not_matching_certificate_exit_2_names_both(void **state)
{
    (void)state;
    char cert[400], key[400];
    path_in(pki, "server.pem", cert, sizeof(cert));
    path_in(pki, "alice.key", key, sizeof(key)); /* a valid key, of another certificate */
    char want[900];
    snprintf(want, sizeof(want), "key %s does not match certificate %s", key, cert);
    refused(cert, key, want, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_pair_check_config_ok),
        cmocka_unit_test(test_missing_certificate_file_exit_2_names_it),
        cmocka_unit_test(test_missing_key_file_exit_2_names_it),
        cmocka_unit_test(test_unreadable_key_file_exit_2_names_it),
        cmocka_unit_test(test_certificate_file_not_pem_exit_2_names_it),
        cmocka_unit_test(test_key_not_matching_certificate_exit_2_names_both),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
