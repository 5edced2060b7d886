/* Helpers shared by the runner's integration tests: start tiny_broker, run ppconform as a
 * child (by PID, with a deadline), read verdicts out of its JSON report. */
#ifndef IT_COMMON_H
#define IT_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "support.h"

static char it_dir[512];

static inline void it_tmpdir(void)
{
    if (!it_dir[0])
        assert_int_equal(ts_tmpdir("runner-it", it_dir, sizeof it_dir), 0);
}

/* Start tiny_broker MODE; its address goes to addr. */
static inline void it_start_tiny(const char *mode, ts_proc *p, char *addr, size_t cap)
{
    it_tmpdir();
    char ready[700], log[700];
    snprintf(ready, sizeof ready, "%s/tiny-%s.addr", it_dir, mode);
    snprintf(log, sizeof log, "%s/tiny-%s.log", it_dir, mode);
    unlink(ready);
    const char *argv[] = {PPC_BIN_DIR "/tiny_broker", mode, ready, NULL};
    assert_int_equal(ts_spawn(p, argv, NULL, log, log), 0);
    assert_int_equal(ts_wait_line(ready, NULL, 10000, addr, cap), 0);
}

/* Run ppconform with args (NULL-terminated); returns its exit code. Output in out_path. */
static inline int it_run_ppconform(const char *const *args, const char *out_path)
{
    const char *argv[64];
    size_t n = 0;
    argv[n++] = PPC_BIN_DIR "/ppconform";
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    ts_proc p;
    assert_int_equal(ts_spawn(&p, argv, NULL, out_path, out_path), 0);
    ts_exit ex;
    if (ts_wait_exit(&p, 180000, &ex) < 0) {
        ts_stop(&p, 2000, &ex);
        fail_msg("ppconform did not finish in time");
    }
    assert_true(ex.exited);
    return ex.code;
}

/* The verdict of case id in a JSON report ("" when absent). */
static inline const char *it_verdict(const char *json_path, const char *id)
{
    static char out[32];
    static char buf[1 << 20];
    out[0] = '\0';
    ssize_t n = ts_read_file(json_path, buf, sizeof buf);
    assert_true(n > 0);
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    assert_int_equal(pc_json_decode(L, buf, (size_t)n), 0);
    const char *code = "local r, id = ...\n"
                       "for _, c in ipairs(r.cases) do if c.id == id then return c.verdict end end\n"
                       "return ''\n";
    assert_int_equal(luaL_loadstring(L, code), LUA_OK);
    lua_insert(L, -2);
    lua_pushstring(L, id);
    assert_int_equal(lua_pcall(L, 2, 1, 0), LUA_OK);
    snprintf(out, sizeof out, "%s", lua_tostring(L, -1));
    lua_close(L);
    return out;
}

static inline bool it_file_contains(const char *path, const char *needle)
{
    static char buf[1 << 20];
    ssize_t n = ts_read_file(path, buf, sizeof buf);
    return n > 0 && strstr(buf, needle) != NULL;
}

#endif
