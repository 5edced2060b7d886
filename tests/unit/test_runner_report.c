/* The report writers (lua/report_files.c, lua/report_text.c): the JSON report validated
 * against the schema we ship (lua/report.schema.json, with python3-jsonschema), the JUnit
 * report compared with a golden file, and the terminal summary line.
 * PPC_UPDATE_GOLDEN=1 rewrites the golden file. */
#include <setjmp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "report.h"

extern char **environ;

#define GOLDEN PPC_SOURCE_DIR "/tests/integration/runner/golden/junit.xml"
#define SCHEMA PPC_SOURCE_DIR "/lua/report.schema.json"

static pc_case cases[6];
static pc_result results[6];

static void fill(pc_case *c, const char *id, const char *suite, pc_level level, const char *ref)
{
    memset(c, 0, sizeof *c);
    c->id = pc_strdup(id);
    c->suite_id = pc_strdup(suite);
    c->suite_title = pc_strdup(suite);
    c->title = pc_printf("title of %s", id);
    c->file = pc_strdup("detection.lua");
    c->line = 10;
    c->level = level;
    c->severity = pc_strdup("high");
    c->timeout_ms = 10000;
    pc_strv_push(&c->refs, ref);
    pc_strv_push(&c->tags, "detection");
    pc_strv_push(&c->requires, "listener.pp");
}

static int setup(void **state)
{
    (void)state;
    fill(&cases[0], "DET-001", "DET", PC_LEVEL_MUST, "R-GEN-14");
    fill(&cases[1], "DET-002", "DET", PC_LEVEL_MUST, "R-DET-04");
    fill(&cases[2], "DET-003", "DET", PC_LEVEL_SHOULD, "R-V1-08");
    fill(&cases[3], "V2-001", "V2", PC_LEVEL_MUST, "R-V2-03");
    fill(&cases[4], "V2-002", "V2", PC_LEVEL_MUST, "R-V2-06");
    fill(&cases[5], "V2-003", "V2", PC_LEVEL_MUST, "R-V2-13");
    pc_verdict v[6] = {PC_PASS, PC_FAIL, PC_WARN, PC_SKIP, PC_ERROR, PC_XFAIL};
    for (int i = 0; i < 6; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].c = &cases[i];
        results[i].verdict = v[i];
        results[i].duration_ms = 10 * (i + 1);
        results[i].repeats = 1;
    }
    pc_result_add_check(&results[0], true, "CONNACK after a valid header", "CONNACK", "CONNACK (reason 0x00)",
                        "scenarios/detection.lua:20", NULL, PC_LEVEL_MUST);
    pc_result_add_check(&results[1], false, "closed with no CONNACK", "close (fin or rst) with no data before it",
                        "received CONNACK <\"20 02\"> & more", "scenarios/detection.lua:23", "R-GEN-14", PC_LEVEL_MUST);
    results[1].reason = pc_strdup("closed with no CONNACK");
    results[1].repro = pc_strdup("ppconform run 'DET-002' --seed 7");
    pc_result_add_check(&results[2], false, "UNKNOWN accepted", "CONNACK", "connection closed (FIN)",
                        "scenarios/detection.lua:99", NULL, PC_LEVEL_SHOULD);
    results[3].reason = pc_strdup("the target lacks capability listener.pp2");
    results[4].reason = pc_strdup("scenarios/v2.lua:5: attempt to index a nil value");
    results[4].error_trace = pc_strdup("scenarios/v2.lua:5: attempt to index a nil value\nstack traceback:\n\tscenarios/v2.lua:5: in function <scenarios/v2.lua:3>");
    pc_result_add_info(&results[4], "rejection", "closed");
    results[5].known_reason = pc_strdup("broker issue #12");
    pc_result_add_check(&results[5], false, "family 0x41 refused", "close", "CONNACK", NULL, NULL, PC_LEVEL_MUST);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 6; i++)
        pc_result_free(&results[i]);
    pc_case *heap = pc_xmalloc(sizeof cases);
    memcpy(heap, cases, sizeof cases);
    pc_catalog cat = {heap, 6, 6};
    pc_catalog_free(&cat); /* frees the strings and the heap copy */
    return 0;
}

static const pc_report_meta META = {
    .tool_version = "0.1.0", .target_name = "ppbroker", .target_version = "0.1.0", .target_error = NULL,
    .seed = 7, .timeout_scale = 1.0, .duration_ms = 1234, .started = "2026-01-01T00:00:00Z", .gate = "must",
    .exit_code = 3,
};

/* Run argv; returns the exit status, or -1 when it could not start. */
static int run(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int validate(const char *json_path)
{
    /* Debian's python3 with python3-jsonschema (scripts/deps.sh installs both): not whatever
     * python3 comes first on PATH, which may lack the module. */
    char *argv[] = {"/usr/bin/python3", "-c",
                    "import json,sys,jsonschema\n"
                    "jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))\n",
                    SCHEMA, (char *)json_path, NULL};
    return run(argv);
}

static void test_json_report_matches_the_schema(void **state)
{
    (void)state;
    pc_sbuf b = {0};
    pc_report_json_buf(&b, results, 6, &META);
    char path[128];
    snprintf(path, sizeof path, "/tmp/ppc-report-%d.json", (int)getpid());
    assert_int_equal(pc_report_write_file(path, &b), 0);
    assert_int_equal(validate(path), 0);
    assert_non_null(strstr(b.data, "\"verdict\":\"FAIL\""));
    assert_non_null(strstr(b.data, "\"fail\":1"));
    assert_non_null(strstr(b.data, "\"actual\":\"received CONNACK <\\\"20 02\\\"> & more\""));
    /* and the check can fail: a report with a made-up verdict is refused */
    char *bad = pc_strdup(b.data);
    char *v = strstr(bad, "\"verdict\":\"PASS\"");
    assert_non_null(v);
    memcpy(v, "\"verdict\":\"MAYB\"", 16);
    pc_sbuf bb = {0};
    pc_sbuf_puts(&bb, bad);
    assert_int_equal(pc_report_write_file(path, &bb), 0);
    assert_int_not_equal(validate(path), 0);
    unlink(path);
    free(bad);
    pc_sbuf_free(&bb);
    pc_sbuf_free(&b);
}

static void test_junit_report_matches_the_golden_file(void **state)
{
    (void)state;
    pc_sbuf b = {0};
    pc_report_junit_buf(&b, results, 6, &META);
    if (getenv("PPC_UPDATE_GOLDEN")) {
        assert_int_equal(pc_report_write_file(GOLDEN, &b), 0);
    }
    FILE *f = fopen(GOLDEN, "rb");
    assert_non_null(f);
    char golden[16384];
    size_t n = fread(golden, 1, sizeof golden - 1, f);
    fclose(f);
    golden[n] = '\0';
    assert_string_equal(b.data, golden);
    /* the golden file is well-formed XML (xmllint from libxml2-utils, installed by deps.sh) */
    char *argv[] = {"xmllint", "--noout", GOLDEN, NULL};
    assert_int_equal(run(argv), 0);
    pc_sbuf_free(&b);
}

static void test_html_report_is_self_contained(void **state)
{
    (void)state;
    pc_sbuf b = {0};
    pc_report_html_buf(&b, results, 6, &META);
    assert_non_null(strstr(b.data, "<td class=\"FAIL\">FAIL</td>"));
    assert_null(strstr(b.data, "http://"));
    assert_null(strstr(b.data, "<script src"));
    assert_non_null(strstr(b.data, "received CONNACK &lt;&quot;20 02&quot;&gt; &amp; more"));
    pc_sbuf_free(&b);
}

static void test_terminal_tree_ends_with_the_summary_line(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pc_report_terminal(f, results, 6, &META, false, false);
    fclose(f);
    assert_non_null(strstr(buf, "DET  "));
    assert_non_null(strstr(buf, "        Expected: close (fin or rst) with no data before it\n"));
    assert_non_null(strstr(buf, "          Actual: received CONNACK"));
    assert_non_null(strstr(buf, "repro: ppconform run 'DET-002' --seed 7"));
    const char *last = buf + len - 1;
    while (last > buf && last[-1] != '\n')
        last--;
    assert_string_equal(last, "1 passed, 1 failed, 1 skipped, 1 warning, 1 expected failure, 1 error\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_report_matches_the_schema),
        cmocka_unit_test(test_junit_report_matches_the_golden_file),
        cmocka_unit_test(test_html_report_is_self_contained),
        cmocka_unit_test(test_terminal_tree_ends_with_the_summary_line),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
