/* ppconform selectors, known failures and verdict/exit-code rules (lua/pc_select.c,
 * lua/model.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model.h"
#include "pc_select.h"

static pc_case make_case(const char *id, const char *suite, pc_level level, const char *refs, const char *tags)
{
    pc_case c;
    memset(&c, 0, sizeof c);
    c.id = (char *)id;
    c.suite_id = (char *)suite;
    c.file = (char *)"detection.lua";
    c.level = level;
    char buf[256];
    if (refs) {
        snprintf(buf, sizeof buf, "%s", refs);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
            pc_strv_push(&c.refs, t);
    }
    if (tags) {
        snprintf(buf, sizeof buf, "%s", tags);
        for (char *t = strtok(buf, ","); t; t = strtok(NULL, ","))
            pc_strv_push(&c.tags, t);
    }
    return c;
}

static void free_case(pc_case *c)
{
    pc_strv_free(&c->refs);
    pc_strv_free(&c->tags);
}

static void test_selector_id_globs(void **state)
{
    (void)state;
    pc_case c = make_case("DET-001", "DET", PC_LEVEL_MUST, "R-GEN-14", "security");
    assert_true(pc_selector_match("DET-001", &c));
    assert_true(pc_selector_match("DET-*", &c));
    assert_true(pc_selector_match("*-00?", &c));
    assert_false(pc_selector_match("DET-002", &c));
    assert_false(pc_selector_match("V1-*", &c));
    free_case(&c);
}

static void test_selector_ref_tag_level_suite_file(void **state)
{
    (void)state;
    pc_case c = make_case("V2-010", "V2", PC_LEVEL_SHOULD, "R-V2-13,R-DET-02", "v2,slow");
    assert_true(pc_selector_match("ref:R-V2-*", &c));
    assert_true(pc_selector_match("ref:R-DET-02", &c));
    assert_false(pc_selector_match("ref:R-V1-*", &c));
    assert_true(pc_selector_match("tag:slow", &c));
    assert_false(pc_selector_match("tag:security", &c));
    assert_true(pc_selector_match("SHOULD", &c));
    assert_true(pc_selector_match("level:should", &c));
    assert_false(pc_selector_match("MUST", &c));
    assert_true(pc_selector_match("suite:V*", &c));
    assert_true(pc_selector_match("file:detect*", &c));
    free_case(&c);
}

static void test_selection_or_of_positives_and_not_of_negatives(void **state)
{
    (void)state;
    pc_case a = make_case("DET-001", "DET", PC_LEVEL_MUST, "R-GEN-14", "security");
    pc_case b = make_case("V1-014", "V1", PC_LEVEL_MUST, "R-V1-14", "v1");
    const char *none[] = {NULL};
    assert_true(pc_select(none, 0, &a)); /* nothing given: everything */
    const char *two[] = {"DET-*", "ref:R-V1-14"};
    assert_true(pc_select(two, 2, &a));
    assert_true(pc_select(two, 2, &b));
    const char *neg[] = {"!tag:security"};
    assert_false(pc_select(neg, 1, &a));
    assert_true(pc_select(neg, 1, &b));
    const char *mixed[] = {"MUST", "!DET-*"};
    assert_false(pc_select(mixed, 2, &a));
    assert_true(pc_select(mixed, 2, &b));
    free_case(&a);
    free_case(&b);
}

static void test_selector_validation_names_the_problem(void **state)
{
    (void)state;
    char err[256];
    assert_true(pc_selector_valid("ref:R-V2-*", err, sizeof err));
    assert_false(pc_selector_valid("level:OFTEN", err, sizeof err));
    assert_non_null(strstr(err, "OFTEN"));
    assert_false(pc_selector_valid("colour:red", err, sizeof err));
    assert_non_null(strstr(err, "unknown selector kind"));
    assert_false(pc_selector_valid("tag:", err, sizeof err));
    assert_false(pc_selector_valid("!", err, sizeof err));
}

static void test_known_failures_turn_fail_into_xfail_and_pass_into_xpass(void **state)
{
    (void)state;
    pc_known k;
    char err[256];
    assert_int_equal(pc_known_parse("# comment\n\nDET-00*  broker issue #12\n  # indented comment\nV1-*\tlenient grammar\n", &k,
                                    err, sizeof err), 0);
    assert_int_equal(k.count, 2);
    assert_string_equal(k.reasons[0], "broker issue #12");
    pc_case c = make_case("DET-003", "DET", PC_LEVEL_MUST, NULL, NULL);
    pc_result r = {.c = &c, .verdict = PC_FAIL};
    pc_known_apply(&k, &r);
    assert_int_equal(r.verdict, PC_XFAIL);
    assert_string_equal(r.known_reason, "broker issue #12");
    pc_result p = {.c = &c, .verdict = PC_PASS};
    pc_known_apply(&k, &p);
    assert_int_equal(p.verdict, PC_XPASS);
    pc_case other = make_case("TLV-001", "TLV", PC_LEVEL_MUST, NULL, NULL);
    pc_result o = {.c = &other, .verdict = PC_FAIL};
    pc_known_apply(&k, &o);
    assert_int_equal(o.verdict, PC_FAIL);
    pc_result_free(&r);
    pc_result_free(&p);
    pc_result_free(&o);
    pc_known_free(&k);
    assert_int_equal(pc_known_parse("DET-001\n", &k, err, sizeof err), -1);
    assert_non_null(strstr(err, "line 1"));
}

static void test_verdict_from_checks_follows_the_level(void **state)
{
    (void)state;
    pc_case c = make_case("X-1", "X", PC_LEVEL_MUST, NULL, NULL);
    pc_result r = {.c = &c};
    pc_result_add_check(&r, true, "fine", NULL, NULL, NULL, NULL, PC_LEVEL_MUST);
    assert_int_equal(pc_verdict_from_checks(&r), PC_PASS);
    pc_result_add_check(&r, false, "may", NULL, NULL, NULL, NULL, PC_LEVEL_MAY);
    assert_int_equal(pc_verdict_from_checks(&r), PC_INFO);
    pc_result_add_check(&r, false, "should", NULL, NULL, NULL, NULL, PC_LEVEL_SHOULD);
    assert_int_equal(pc_verdict_from_checks(&r), PC_WARN);
    pc_result_add_check(&r, false, "must", "x", "y", NULL, NULL, PC_LEVEL_MUST);
    assert_int_equal(pc_verdict_from_checks(&r), PC_FAIL);
    pc_result_free(&r);
}

static void test_exit_codes_and_summary_line(void **state)
{
    (void)state;
    pc_summary s = {0};
    s.total = 46;
    s.by_verdict[PC_PASS] = 42;
    s.by_verdict[PC_FAIL] = 1;
    s.by_verdict[PC_SKIP] = 3;
    char *line = pc_summary_line(&s);
    assert_string_equal(line, "42 passed, 1 failed, 3 skipped");
    free(line);
    assert_int_equal(pc_exit_code(&s, PC_GATE_MUST, false), PC_EXIT_FAIL);
    assert_int_equal(pc_exit_code(&s, PC_GATE_MUST, true), PC_EXIT_HARNESS);
    s.by_verdict[PC_FAIL] = 0;
    s.by_verdict[PC_WARN] = 2;
    assert_int_equal(pc_exit_code(&s, PC_GATE_MUST, false), PC_EXIT_OK);
    assert_int_equal(pc_exit_code(&s, PC_GATE_SHOULD, false), PC_EXIT_FAIL);
    s.by_verdict[PC_WARN] = 0;
    s.by_verdict[PC_XPASS] = 1;
    assert_int_equal(pc_exit_code(&s, PC_GATE_SHOULD, false), PC_EXIT_OK);
    assert_int_equal(pc_exit_code(&s, PC_GATE_ANY, false), PC_EXIT_FAIL);
    s.by_verdict[PC_ERROR] = 1;
    assert_int_equal(pc_exit_code(&s, PC_GATE_MUST, false), PC_EXIT_HARNESS);
    line = pc_summary_line(&s);
    assert_string_equal(line, "42 passed, 0 failed, 3 skipped, 1 unexpected pass, 1 error");
    free(line);
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(pc_parse_duration_ms("3s"), 3000);
    assert_int_equal(pc_parse_duration_ms("250ms"), 250);
    assert_int_equal(pc_parse_duration_ms("1.5s"), 1500);
    assert_int_equal(pc_parse_duration_ms("2"), 2000);
    assert_int_equal(pc_parse_duration_ms("1m"), 60000);
    assert_int_equal(pc_parse_duration_ms("3 s"), -1);
    assert_int_equal(pc_parse_duration_ms("-1s"), -1);
    assert_int_equal(pc_parse_duration_ms("fast"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selector_id_globs),
        cmocka_unit_test(test_selector_ref_tag_level_suite_file),
        cmocka_unit_test(test_selection_or_of_positives_and_not_of_negatives),
        cmocka_unit_test(test_selector_validation_names_the_problem),
        cmocka_unit_test(test_known_failures_turn_fail_into_xfail_and_pass_into_xpass),
        cmocka_unit_test(test_verdict_from_checks_follows_the_level),
        cmocka_unit_test(test_exit_codes_and_summary_line),
        cmocka_unit_test(test_durations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
