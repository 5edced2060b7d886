/* ppconform end to end: verdicts and exit codes against a right, a wrong and a silent
 * tiny broker, against ppbroker (and one of its quirks), evidence files, and the
 * usage/load/target errors of the exit-code contract. */
#include "it_common.h"

#include <sys/stat.h>

static ts_proc good, wrong, silent;
static char good_addr[64], wrong_addr[64], silent_addr[64];

static int setup(void **state)
{
    (void)state;
    it_start_tiny("good", &good, good_addr, sizeof good_addr);
    it_start_tiny("wrong", &wrong, wrong_addr, sizeof wrong_addr);
    it_start_tiny("silent", &silent, silent_addr, sizeof silent_addr);
    /* what the runs keep (a dead target's files) lands in our directory, removed at the end */
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s/tmp", it_dir);
    if (mkdir(tmp, 0700) != 0 || setenv("TMPDIR", tmp, 1) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&good, 3000, NULL);
    ts_stop(&wrong, 3000, NULL);
    ts_stop(&silent, 3000, NULL);
    ts_rmtree(it_dir);
    return 0;
}

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", it_dir, name);
}

/* A run's output as a string (static: valid until the next call). */
static char *read_text(const char *path)
{
    static char text[1 << 16];
    ssize_t n = ts_read_file(path, text, sizeof text - 1);
    assert_true(n > 0);
    text[n] = '\0';
    return text;
}

static void test_R_GEN_14_right_receiver_passes_with_exit_0(void **state)
{
    (void)state;
    char json[700], out[700];
    path_in(json, sizeof json, "good.json");
    path_in(out, sizeof out, "good.out");
    const char *args[] = {"run", "--target", good_addr, "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua",
                          "--json", json, "-j", "4", NULL};
    assert_int_equal(it_run_ppconform(args, out), 0);
    assert_string_equal(it_verdict(json, "DET-001"), "PASS");
    assert_string_equal(it_verdict(json, "DET-005"), "PASS");
    assert_string_equal(it_verdict(json, "DET-010"), "SKIP"); /* no plain listener declared */
    assert_true(it_file_contains(out, "9 passed, 0 failed, 2 skipped"));
}

static void test_decode_shows_the_header_and_the_mqtt_after_it(void **state)
{
    (void)state;
    char out[700];
    path_in(out, sizeof out, "decode.out");
    /* A.3.1 (CRC32C 0xD3A55D3B) followed by a 14-byte CONNECT */
    const char *ok[] = {"decode", "0d0a0d0a000d0a515549540a211100137f0000017f000001002a053903000 4d3a55d3b",
                        "100c00044d5154540402003c0000", NULL};
    assert_int_equal(it_run_ppconform(ok, out), 0);
    assert_true(it_file_contains(out, "PROXY v2 header, 35 bytes"));
    assert_true(it_file_contains(out, "MQTT CONNECT, 14 bytes"));
    const char *bad[] = {"decode", "50524f585920544350342031302e302e302e3030312031302e302e302e3220312032 0d0a", NULL};
    assert_int_equal(it_run_ppconform(bad, out), 1);
    assert_true(it_file_contains(out, "v1.leading_zero"));
    const char *junk[] = {"decode", "zz", NULL};
    assert_int_equal(it_run_ppconform(junk, out), 2);
}

static void test_real_json_report_matches_the_schema(void **state)
{
    (void)state;
    char json[700], out[700];
    path_in(json, sizeof json, "good.json"); /* written by the first test */
    path_in(out, sizeof out, "schema.out");
    ts_proc p;
    const char *argv[] = {"python3", "-c",
                          "import json,sys\n"
                          "try:\n import jsonschema\nexcept ImportError:\n sys.exit(77)\n"
                          "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))\n",
                          PPC_SOURCE_DIR "/lua/report.schema.json", json, NULL};
    if (ts_spawn(&p, argv, NULL, out, out) != 0)
        skip(); /* no python3 */
    ts_exit ex;
    assert_int_equal(ts_wait_exit(&p, 30000, &ex), 0);
    if (ex.exited && ex.code == 77)
        skip();
    assert_true(ex.exited && ex.code == 0);
}

static void test_R_GEN_14_guessing_receiver_fails_with_exit_1_and_evidence(void **state)
{
    (void)state;
    char json[700], out[700], ev[700], pcap[800], repro[800];
    path_in(json, sizeof json, "wrong.json");
    path_in(out, sizeof out, "wrong.out");
    path_in(ev, sizeof ev, "evidence");
    const char *args[] = {"run", "--target", wrong_addr, "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua",
                          "--json", json, "--evidence", ev, "--seed", "42", NULL};
    assert_int_equal(it_run_ppconform(args, out), 1);
    assert_string_equal(it_verdict(json, "DET-001"), "FAIL");
    assert_string_equal(it_verdict(json, "DET-004"), "PASS");
    assert_true(it_file_contains(out, "Expected: close (fin or rst) with no data before it"));
    assert_true(it_file_contains(out, "Actual: received CONNACK (reason 0x00)"));
    assert_true(it_file_contains(out, "repro: ppconform run --target"));
    snprintf(pcap, sizeof pcap, "%s/DET-001/capture.pcap", ev);
    snprintf(repro, sizeof repro, "%s/DET-001/repro.sh", ev);
    assert_true(access(pcap, R_OK) == 0);
    assert_true(it_file_contains(repro, "'DET-001' --seed 42"));
}

static void test_silent_receiver_fails_the_positive_cases(void **state)
{
    (void)state;
    char json[700], out[700];
    path_in(json, sizeof json, "silent.json");
    path_in(out, sizeof out, "silent.out");
    const char *args[] = {"run", "--target", silent_addr, "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua",
                          "--json", json, "DET-004", "DET-002", NULL};
    assert_int_equal(it_run_ppconform(args, out), 1);
    assert_string_equal(it_verdict(json, "DET-004"), "FAIL");
    assert_string_equal(it_verdict(json, "DET-002"), "PASS"); /* silence is an allowed outcome */
    assert_true(it_file_contains(out, "nothing before the deadline"));
}

static void test_every_verdict_comes_out_as_designed(void **state)
{
    (void)state;
    char json[700], out[700], known[700];
    path_in(json, sizeof json, "fx.json");
    path_in(out, sizeof out, "fx.out");
    path_in(known, sizeof known, "known.txt");
    assert_int_equal(ts_write_file(known, "FX-KNOWN  tracked as issue #1\n", 30), 0);
    const char *args[] = {"run", "--target", good_addr, "--scenarios", PPC_FIXTURES "/verdicts.lua", "--json", json,
                          "--known-failures", known, "--budget", "3000000", "--set", "color=blue", "-j", "8", NULL};
    assert_int_equal(it_run_ppconform(args, out), 3); /* ERROR cases outrank failures */
    struct { const char *id, *verdict; } want[] = {
        {"FX-PASS", "PASS"}, {"FX-FAIL", "FAIL"}, {"FX-REQUIRE", "FAIL"}, {"FX-WARN", "WARN"},
        {"FX-INFO", "INFO"}, {"FX-SKIP", "SKIP"}, {"FX-SKIP-CAP", "SKIP"}, {"FX-ERROR-LUA", "ERROR"},
        {"FX-ERROR-LOOP", "ERROR"}, {"FX-ERROR-TIMEOUT", "ERROR"}, {"FX-SPAWN", "PASS"}, {"FX-ONE-OF", "PASS"},
        {"FX-KNOWN", "XFAIL"}, {"FX-OPT", "PASS"}, {"FX-SPLIT", "PASS"}, {"FX-SILENCE", "PASS"},
        {"FX-OBSERVE", "PASS"}, {"FX-SILENCE-FAIL", "FAIL"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *v = it_verdict(json, want[i].id);
        if (strcmp(v, want[i].verdict) != 0)
            fail_msg("%s: verdict %s, expected %s", want[i].id, v, want[i].verdict);
    }
    assert_true(it_file_contains(out, "verdicts.lua:38: attempt to index a nil value"));
    assert_true(it_file_contains(out, "the target lacks capability feature.teleport"));
    assert_true(it_file_contains(out, "instruction budget"));
    assert_true(it_file_contains(out, "case timeout"));
    assert_false(it_file_contains(out, "never reached"));
    /* the gate: without the ERROR cases, failures give 1; --fail-on decides about WARN */
    const char *fail_args[] = {"run", "--target", good_addr, "--scenarios", PPC_FIXTURES "/verdicts.lua",
                               "FX-PASS", "FX-FAIL", NULL};
    assert_int_equal(it_run_ppconform(fail_args, out), 1);
    const char *warn_args[] = {"run", "--target", good_addr, "--scenarios", PPC_FIXTURES "/verdicts.lua",
                               "FX-PASS", "FX-WARN", "FX-INFO", NULL};
    assert_int_equal(it_run_ppconform(warn_args, out), 0);
    const char *warn_gate[] = {"run", "--target", good_addr, "--scenarios", PPC_FIXTURES "/verdicts.lua",
                               "--fail-on", "should", "FX-PASS", "FX-WARN", NULL};
    assert_int_equal(it_run_ppconform(warn_gate, out), 1);
}

static void test_exit_codes_for_usage_load_nothing_and_target_errors(void **state)
{
    (void)state;
    char out[700], bad[700];
    path_in(out, sizeof out, "codes.out");
    const char *nothing[] = {"run", "--target", good_addr, "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua",
                             "NO-SUCH-*", NULL};
    assert_int_equal(it_run_ppconform(nothing, out), 4);
    const char *usage[] = {"run", "--frobnicate", NULL};
    assert_int_equal(it_run_ppconform(usage, out), 2);
    const char *badsel[] = {"run", "level:OFTEN", NULL};
    assert_int_equal(it_run_ppconform(badsel, out), 2);
    path_in(bad, sizeof bad, "broken.lua");
    assert_int_equal(ts_write_file(bad, "case { id = 'X' \n", 17), 0);
    const char *load[] = {"run", "--target", good_addr, "--scenarios", bad, NULL};
    assert_int_equal(it_run_ppconform(load, out), 2);
    assert_true(it_file_contains(out, "broken.lua"));
    const char *listing[] = {"run", "--list", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua", NULL};
    assert_int_equal(it_run_ppconform(listing, out), 0);
    assert_true(it_file_contains(out, "DET-001"));
    /* a target nobody listens on: every case is an ERROR, exit 3 */
    const char *down[] = {"run", "--target", "127.0.0.1:1", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua",
                          "DET-001", NULL};
    assert_int_equal(it_run_ppconform(down, out), 3);
    assert_true(it_file_contains(out, "cannot connect"));
}

static void test_a_target_crash_is_an_error_with_exit_3(void **state)
{
    (void)state;
    char json[700], out[700];
    path_in(json, sizeof json, "crash.json");
    path_in(out, sizeof out, "crash.out");
    const char *args[] = {"run", "--profile", PPC_FIXTURES "/crash_profile.lua", "--scenarios",
                          PPC_SOURCE_DIR "/scenarios/detection.lua", "-j", "1", "--json", json, "DET-004", "DET-005", NULL};
    assert_int_equal(it_run_ppconform(args, out), 3);
    /* The crash resets our connection while the process is still exiting: the case sees the
     * RST (FAIL) or the target already dead (ERROR); the run always names the crash. */
    const char *v = it_verdict(json, "DET-004");
    assert_true(strcmp(v, "ERROR") == 0 || strcmp(v, "FAIL") == 0);
    assert_string_not_equal(it_verdict(json, "DET-005"), "PASS");
    assert_true(it_file_contains(out, "signal 11"));
    assert_true(it_file_contains(out, "(crash)"));
}

/* The OS may give two of a run's connections the same source address and port; ppbroker's
 * events are keyed by that address, so events_for(conn) must keep only the events logged
 * after the connection's watermark, of its own connection id. The fixtures reuse one
 * 127.0.0.N:port deliberately against tiny_broker "events" (a miniature event API), once
 * with the earlier connection logged before, once with it logged late. */
static void test_oracle_events_of_a_reused_source_port_belong_to_the_newest_connection(void **state)
{
    (void)state;
    char json[700], out[700];
    path_in(json, sizeof json, "events.json");
    path_in(out, sizeof out, "events.out");
    const char *args[] = {"run", "--profile", PPC_FIXTURES "/events_profile.lua", "--scenarios",
                          PPC_FIXTURES "/oracle_events.lua", "--json", json, NULL};
    int rc = it_run_ppconform(args, out);
    if (rc != 0)
        fail_msg("ppconform exited %d; see %s", rc, out);
    assert_string_equal(it_verdict(json, "ORC-REUSED-PORT"), "PASS");
    assert_string_equal(it_verdict(json, "ORC-LATE-EVENTS"), "PASS");
}

/* A target that exits 1 (as ppbroker does on an ASan report) is no crash to its profile,
 * which removes its directory: mutate must keep the log and show how it ends. */
static void test_mutate_keeps_and_shows_the_log_of_a_target_that_died(void **state)
{
    (void)state;
    char out[700], tmp[700];
    path_in(out, sizeof out, "die.out");
    path_in(tmp, sizeof tmp, "die-tmp");
    assert_int_equal(mkdir(tmp, 0700), 0);
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", tmp, 1); /* the kept files land in our test directory */
    const char *args[] = {"mutate", "--profile", PPC_FIXTURES "/dying_profile.lua", "--scenarios",
                          PPC_SOURCE_DIR "/scenarios/detection.lua", "--quirk", "none", "DET-004", NULL};
    int rc = it_run_ppconform(args, out);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    assert_int_equal(rc, 3);
    assert_true(it_file_contains(out, "the target died: exit 1"));
    assert_true(it_file_contains(out, "the target's log is kept: "));
    assert_true(it_file_contains(out, "| tiny_broker: ERROR: deliberate fixture failure"));
    /* the path printed is the log itself, still there */
    char *p = strstr(read_text(out), "the target's log is kept: ");
    assert_non_null(p);
    p += strlen("the target's log is kept: ");
    char *end = strstr(p, "; it ends:");
    assert_non_null(end);
    *end = '\0';
    assert_int_equal(strncmp(p, tmp, strlen(tmp)), 0);
    assert_true(it_file_contains(p, "deliberate fixture failure"));
}

/* `ppconform run` against a target that dies: the run names the death and where the target's
 * log was kept (the profile would have removed it), and the log is really there. */
static void test_run_keeps_and_names_the_log_of_a_target_that_died(void **state)
{
    (void)state;
    char out[700];
    path_in(out, sizeof out, "run-die.out");
    const char *args[] = {"run", "--profile", PPC_FIXTURES "/dying_profile.lua", "--scenarios",
                          PPC_SOURCE_DIR "/scenarios/detection.lua", "DET-004", NULL};
    int rc = it_run_ppconform(args, out);
    assert_int_equal(rc, 3);
    const char *key = "(its log, kept: ";
    char *p = strstr(read_text(out), "the target died: exit 1 (its log, kept: ");
    assert_non_null(p);
    p = strstr(p, key) + strlen(key);
    char *end = strchr(p, ')');
    assert_non_null(end);
    *end = '\0';
    assert_true(it_file_contains(p, "deliberate fixture failure"));
    /* the kept directory is ours to remove */
    char *slash = strrchr(p, '/');
    assert_non_null(slash);
    *slash = '\0';
    ts_rmtree(p);
}

/* DET-004 ends the moment the dying target's exit resets its connection, often before waitpid
 * can tell: the runner still reports the death during that case (ERROR), not a FAIL. Five
 * runs, since without the runner's grace check this went either way. */
static void test_a_death_that_ends_the_case_is_reported_during_it(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        char json[700], out[700];
        path_in(json, sizeof json, "death.json");
        path_in(out, sizeof out, "death.out");
        const char *args[] = {"run", "--profile", PPC_FIXTURES "/dying_profile.lua", "--scenarios",
                              PPC_SOURCE_DIR "/scenarios/detection.lua", "--json", json, "DET-004", NULL};
        assert_int_equal(it_run_ppconform(args, out), 3);
        assert_string_equal(it_verdict(json, "DET-004"), "ERROR");
        assert_true(it_file_contains(out, "the target died during this case: exit 1"));
    }
}

/* host.spawn's env= (added and replaced variables) and cwd=: the fixture profile refuses to
 * start unless its shell child saw both, so exit 0 here means they arrived. */
static void test_profile_spawn_env_and_cwd(void **state)
{
    (void)state;
    char out[700];
    path_in(out, sizeof out, "spawn-env.out");
    const char *args[] = {"run", "--profile", PPC_FIXTURES "/spawn_env_profile.lua", "--scenarios",
                          PPC_FIXTURES "/verdicts.lua", "FX-PASS", NULL};
    int rc = it_run_ppconform(args, out);
    if (rc != 0)
        print_error("%s\n", read_text(out));
    assert_int_equal(rc, 0);
}

/* The draws of math.random in a profile (free ports) differ between two runs started at once:
 * each Lua state is seeded from the kernel's entropy. */
static void test_two_runs_draw_different_random_ports(void **state)
{
    (void)state;
    char draws[2][128];
    for (int i = 0; i < 2; i++) {
        char out[700];
        path_in(out, sizeof out, i ? "rand2.out" : "rand1.out");
        const char *args[] = {"run", "--profile", PPC_FIXTURES "/random_profile.lua", "--scenarios",
                              PPC_FIXTURES "/verdicts.lua", NULL};
        assert_int_equal(it_run_ppconform(args, out), 3); /* the profile refuses to start */
        const char *p = strstr(read_text(out), "draws ");
        assert_non_null(p);
        size_t len = strcspn(p, "\n");
        assert_true(len < sizeof draws[i]);
        memcpy(draws[i], p, len);
        draws[i][len] = '\0';
    }
    assert_string_not_equal(draws[0], draws[1]);
}

static void test_against_ppbroker_and_a_quirk(void **state)
{
    (void)state;
    if (access(PPC_BIN_DIR "/ppbroker", X_OK) != 0)
        skip();
    char json[700], out[700];
    path_in(json, sizeof json, "ppbroker.json");
    path_in(out, sizeof out, "ppbroker.out");
    const char *args[] = {"run", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua", "--json", json, NULL};
    int rc = it_run_ppconform(args, out);
    if (rc != 0)
        fail_msg("ppconform against ppbroker exited %d; see %s", rc, out);
    assert_string_equal(it_verdict(json, "DET-004"), "PASS");
    assert_string_equal(it_verdict(json, "DET-010"), "PASS");
    const char *quirk[] = {"run", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua", "--json", json,
                           "--quirk", "accept-missing-header", NULL};
    assert_int_equal(it_run_ppconform(quirk, out), 1);
    assert_string_equal(it_verdict(json, "DET-001"), "FAIL");
}

static void test_mutate_reports_caught_and_surviving_quirks(void **state)
{
    (void)state;
    if (access(PPC_BIN_DIR "/ppbroker", X_OK) != 0)
        skip();
    char out[700], json[700];
    path_in(out, sizeof out, "mutate.out");
    path_in(json, sizeof json, "mutate.json");
    const char *caught[] = {"mutate", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua", "--quirk",
                            "accept-missing-header", "--quirk", "close-on-local", "--json", json, NULL};
    assert_int_equal(it_run_ppconform(caught, out), 0);
    assert_true(it_file_contains(out, "accept-missing-header              caught by"));
    assert_true(it_file_contains(out, "DET-001"));
    assert_true(it_file_contains(out, "2 of 2 quirks caught"));
    assert_true(it_file_contains(json, "\"caught\":2"));
    /* detection.lua alone has no CRC case: that quirk must be reported as surviving */
    const char *survives[] = {"mutate", "--scenarios", PPC_SOURCE_DIR "/scenarios/detection.lua", "--quirk",
                              "ignore-crc32c", NULL};
    assert_int_equal(it_run_ppconform(survives, out), 1);
    assert_true(it_file_contains(out, "SURVIVED"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_GEN_14_right_receiver_passes_with_exit_0),
        cmocka_unit_test(test_real_json_report_matches_the_schema),
        cmocka_unit_test(test_decode_shows_the_header_and_the_mqtt_after_it),
        cmocka_unit_test(test_R_GEN_14_guessing_receiver_fails_with_exit_1_and_evidence),
        cmocka_unit_test(test_silent_receiver_fails_the_positive_cases),
        cmocka_unit_test(test_every_verdict_comes_out_as_designed),
        cmocka_unit_test(test_exit_codes_for_usage_load_nothing_and_target_errors),
        cmocka_unit_test(test_a_target_crash_is_an_error_with_exit_3),
        cmocka_unit_test(test_oracle_events_of_a_reused_source_port_belong_to_the_newest_connection),
        cmocka_unit_test(test_mutate_keeps_and_shows_the_log_of_a_target_that_died),
        cmocka_unit_test(test_run_keeps_and_names_the_log_of_a_target_that_died),
        cmocka_unit_test(test_a_death_that_ends_the_case_is_reported_during_it),
        cmocka_unit_test(test_profile_spawn_env_and_cwd),
        cmocka_unit_test(test_two_runs_draw_different_random_ports),
        cmocka_unit_test(test_against_ppbroker_and_a_quirk),
        cmocka_unit_test(test_mutate_reports_caught_and_surviving_quirks),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
