/* The coroutine scheduler (lua/pc_sched.c): waits with deadlines on the real event loop,
 * sub-tasks and joins, errors with tracebacks trimmed to scenario lines, the instruction
 * budget, the case timeout, and misuse of coroutine.yield. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <lauxlib.h>

#include "pc_sched.h"
#include "state.h"

static pc_state *st;

static int setup(void **state)
{
    (void)state;
    char err[512];
    st = pc_state_new(err, sizeof err);
    if (!st)
        fprintf(stderr, "%s\n", err);
    return st ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pc_state_free(st);
    return 0;
}

/* Run a chunk (named like a scenario file) as a case body: `local core = ...`. */
static pc_run *run_chunk(const char *code, int64_t timeout_ms, uint64_t budget)
{
    lua_State *L = st->L;
    assert_int_equal(luaL_loadbufferx(L, code, strlen(code), "@scenarios/sched_test.lua", "t"), LUA_OK);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->core_ref);
    pc_run *r = pc_run_new(st->sched, "test", timeout_ms, budget);
    pc_run_start(r, L, 1);
    pc_sched_run_until(st->sched, r);
    return r;
}

static const char *result_string(pc_run *r)
{
    static char buf[256];
    lua_State *L = st->L;
    pc_run_push_result(r, L);
    snprintf(buf, sizeof buf, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "(nil)");
    lua_pop(L, 1);
    return buf;
}

static void test_tasks_wake_in_deadline_order(void **state)
{
    (void)state;
    pc_run *r = run_chunk(
        "local core = ...\n"
        "local order = {}\n"
        "local function sleeper(name, ms) core.sleep_until(core.now() + ms); order[#order + 1] = name end\n"
        "local a = core.spawn(sleeper, 'a', 60)\n"
        "local b = core.spawn(sleeper, 'b', 5)\n"
        "local c = core.spawn(sleeper, 'c', 30)\n"
        "for _, h in ipairs { a, b, c } do assert(core.join(h, core.now() + 5000)) end\n"
        "return table.concat(order, ',')\n",
        10000, 0);
    if (pc_run_status_of(r) != PC_RUN_OK)
        fprintf(stderr, "error: %s\n", pc_run_error_text(r));
    assert_int_equal(pc_run_status_of(r), PC_RUN_OK);
    assert_string_equal(result_string(r), "b,c,a");
    pc_run_free(r);
}

static void test_join_respects_its_deadline(void **state)
{
    (void)state;
    pc_run *r = run_chunk(
        "local core = ...\n"
        "local h = core.spawn(function() core.sleep_until(core.now() + 5000) end)\n"
        "local done = core.join(h, core.now() + 20)\n"
        "return done and 'joined' or 'deadline'\n",
        10000, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_OK);
    assert_string_equal(result_string(r), "deadline");
    pc_run_free(r);
}

static void test_error_in_a_subtask_ends_the_run_with_a_trimmed_traceback(void **state)
{
    (void)state;
    pc_run *r = run_chunk(
        "local core = ...\n"
        "core.spawn(function()\n"
        "  core.sleep_until(core.now() + 5)\n"
        "  error('boom in a sub-task')\n"
        "end)\n"
        "core.sleep_until(core.now() + 5000)\n",
        10000, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_ERROR);
    const char *text = pc_run_error_text(r);
    assert_non_null(text);
    assert_non_null(strstr(text, "scenarios/sched_test.lua:4: boom in a sub-task"));
    assert_null(strstr(text, "[C]"));
    pc_run_free(r);
}

static void test_runaway_loop_is_stopped_by_the_budget(void **state)
{
    (void)state;
    pc_run *r = run_chunk("local x = 0\nwhile true do x = x + 1 end\n", 10000, 200000);
    assert_int_equal(pc_run_status_of(r), PC_RUN_BUDGET);
    assert_non_null(strstr(pc_run_error_text(r), "instruction budget"));
    pc_run_free(r);
}

static void test_case_timeout_aborts_a_waiting_case(void **state)
{
    (void)state;
    pc_run *r = run_chunk("local core = ...\ncore.sleep_until(core.now() + 600000)\nreturn 'woke'\n", 50, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_TIMEOUT);
    assert_non_null(strstr(pc_run_error_text(r), "case timeout"));
    assert_int_equal(pc_sched_live_tasks(st->sched), 0);
    pc_run_free(r);
}

static void test_bare_coroutine_yield_is_an_error_not_a_hang(void **state)
{
    (void)state;
    pc_run *r = run_chunk("coroutine.yield()\nreturn 'never'\n", 10000, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_ERROR);
    assert_non_null(strstr(pc_run_error_text(r), "outside the ppconform API"));
    pc_run_free(r);
}

static void test_waiting_inside_a_user_coroutine_is_refused(void **state)
{
    (void)state;
    pc_run *r = run_chunk(
        "local core = ...\n"
        "local co = coroutine.wrap(function() core.sleep_until(core.now() + 10) end)\n"
        "co()\n",
        10000, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_ERROR);
    assert_non_null(strstr(pc_run_error_text(r), "not inside a coroutine"));
    pc_run_free(r);
}

static void test_stop_tables_are_kept_as_error_values(void **state)
{
    (void)state;
    pc_run *r = run_chunk("error({ __stop = 'fail' }, 0)\n", 10000, 0);
    assert_int_equal(pc_run_status_of(r), PC_RUN_ERROR);
    lua_rawgeti(st->L, LUA_REGISTRYINDEX, pc_run_error_ref(r));
    assert_true(lua_istable(st->L, -1));
    lua_getfield(st->L, -1, "__stop");
    assert_string_equal(lua_tostring(st->L, -1), "fail");
    lua_pop(st->L, 2);
    pc_run_free(r);
}

static void test_concurrent_runs_share_the_loop(void **state)
{
    (void)state;
    lua_State *L = st->L;
    const char *code = "local core = ...\ncore.sleep_until(core.now() + 30)\nreturn core.run_label()\n";
    pc_run *runs[3];
    const char *labels[3] = {"one", "two", "three"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(luaL_loadbufferx(L, code, strlen(code), "@x.lua", "t"), LUA_OK);
        lua_rawgeti(L, LUA_REGISTRYINDEX, st->core_ref);
        runs[i] = pc_run_new(st->sched, labels[i], 10000, 0);
        pc_run_start(runs[i], L, 1);
    }
    while (!pc_run_done(runs[0]) || !pc_run_done(runs[1]) || !pc_run_done(runs[2]))
        pc_sched_step(st->sched, 1000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pc_run_status_of(runs[i]), PC_RUN_OK);
        assert_string_equal(result_string(runs[i]), labels[i]);
        pc_run_free(runs[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks_wake_in_deadline_order),
        cmocka_unit_test(test_join_respects_its_deadline),
        cmocka_unit_test(test_error_in_a_subtask_ends_the_run_with_a_trimmed_traceback),
        cmocka_unit_test(test_runaway_loop_is_stopped_by_the_budget),
        cmocka_unit_test(test_case_timeout_aborts_a_waiting_case),
        cmocka_unit_test(test_bare_coroutine_yield_is_an_error_not_a_hang),
        cmocka_unit_test(test_waiting_inside_a_user_coroutine_is_refused),
        cmocka_unit_test(test_stop_tables_are_kept_as_error_values),
        cmocka_unit_test(test_concurrent_runs_share_the_loop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
