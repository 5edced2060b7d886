/* The runner's Lua state (see state.h). */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core.h"

/* Stop a scenario file that loops while merely declaring. */
#define LOAD_BUDGET 50000000u
static unsigned long load_instr;
static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    load_instr += PC_HOOK_STEP;
    if (load_instr > LOAD_BUDGET)
        luaL_error(L, "instruction budget exhausted while loading (declarations must not loop forever)");
}

static int l_print(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            fputc('\t', stderr);
        fputs(luaL_tolstring(L, i, NULL), stderr);
        lua_pop(L, 1);
    }
    fputc('\n', stderr);
    return 0;
}

static int load_chunk(lua_State *L, const char *text, size_t len, const char *chunkname, int env_idx)
{
    int rc = luaL_loadbufferx(L, text, len, chunkname, "t");
    if (rc != LUA_OK)
        return rc;
    if (env_idx) {
        lua_pushvalue(L, env_idx);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return LUA_OK;
}

int pc_state_load_internal(pc_state *st, const char *name, int nargs, char *err, size_t errcap)
{
    lua_State *L = st->L;
    const pc_embedded *e = pc_embedded_find(name);
    if (!e) {
        snprintf(err, errcap, "internal module %s is missing from this build", name);
        lua_pop(L, nargs);
        return -1;
    }
    char chunk[256];
    snprintf(chunk, sizeof chunk, "@" PC_INTERNAL_CHUNK "/%s", name);
    if (load_chunk(L, e->text, e->len, chunk, 0) != LUA_OK) {
        snprintf(err, errcap, "%s", lua_tostring(L, -1));
        lua_pop(L, 1 + nargs);
        return -1;
    }
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
        snprintf(err, errcap, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

int pc_state_load_target(pc_state *st, const char *name, char *err, size_t errcap)
{
    lua_State *L = st->L;
    char emb[256];
    snprintf(emb, sizeof emb, "targets/%s.lua", name);
    if (!strchr(name, '/') && pc_embedded_find(emb))
        return pc_state_load_internal(st, emb, 0, err, errcap);
    if (luaL_loadfilex(L, name, "t") != LUA_OK) {
        snprintf(err, errcap, "target profile: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(err, errcap, "target profile %s: %s", name, lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errcap, "target profile %s must return a table", name);
        lua_pop(L, 1);
        return -1;
    }
    return 0;
}

/* require() for target profiles: the shared helpers embedded from lua/targets/lib
 * (require "targets.util" -> targets/lib/util.lua), each loaded once per state. A profile
 * given as a file path gets the embedded copy too, so it needs nothing beside it on disk. */
static int l_target_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, lua_upvalueindex(1), name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    const char *leaf = strncmp(name, "targets.", 8) == 0 ? name + 8 : "";
    int ok = *leaf && strlen(leaf) <= 64;
    for (const char *p = leaf; *p; p++)
        if (!(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
            ok = 0;
    if (!ok)
        return luaL_error(L, "require '%s': a target profile can require only targets.NAME "
                             "(lua/targets/lib/NAME.lua)", name);
    char emb[96], chunk[128];
    snprintf(emb, sizeof emb, "targets/lib/%s.lua", leaf);
    const pc_embedded *e = pc_embedded_find(emb);
    if (!e)
        return luaL_error(L, "require '%s': no module %s in this build", name, emb);
    snprintf(chunk, sizeof chunk, "@" PC_INTERNAL_CHUNK "/%s", emb);
    if (load_chunk(L, e->text, e->len, chunk, 0) != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, lua_upvalueindex(1), name);
    return 1;
}

/* require() for scenarios: our modules, or helper files under the scenario directory. */
static int l_sandbox_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    pc_state *st = lua_touserdata(L, lua_upvalueindex(1));
    const char *short_name = strncmp(name, "ppconform.", 10) == 0 ? name + 10 : name;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    lua_getfield(L, -1, short_name);
    if (!lua_isnil(L, -1))
        return 1;
    lua_pop(L, 1);
    /* a helper file: scenarios/<name with dots as slashes>.lua */
    for (const char *p = short_name; *p; p++)
        if (!(*p == '.' || *p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9')))
            return luaL_error(L, "require: bad module name '%s'", name);
    char rel[PATH_MAX], path[2 * PATH_MAX + 8];
    snprintf(rel, sizeof rel, "%s", short_name);
    for (char *p = rel; *p; p++)
        if (*p == '.')
            *p = '/';
    snprintf(path, sizeof path, "%s/%s.lua", st->scenario_dir ? st->scenario_dir : ".", rel);
    if (luaL_loadfilex(L, path, "t") != LUA_OK)
        return luaL_error(L, "require '%s': no such module (ours: proxy, mqtt, pcap, tls, json; "
                             "or a file %s): %s", name, path, lua_tostring(L, -1));
    lua_newtable(L); /* its own env, reading through the sandbox */
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->sandbox_ref);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_setupvalue(L, -2, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, short_name);
    return 1;
}

static void cache_module(lua_State *L, pc_state *st, const char *name, lua_CFunction open)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    open(L);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

static void build_sandbox(pc_state *st)
{
    lua_State *L = st->L;
    lua_newtable(L);
    static const char *const base[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen",
        "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type",
        "xpcall", "_VERSION", "string", "table", "math", "utf8", "coroutine", NULL,
    };
    for (int i = 0; base[i]; i++) {
        lua_getglobal(L, base[i]);
        lua_setfield(L, -2, base[i]);
    }
    lua_pushcfunction(L, l_print);
    lua_setfield(L, -2, "print");
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, l_sandbox_require, 1);
    lua_setfield(L, -2, "require");
    /* declarations */
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->declare_ref);
    const char *decl[] = {"suite", "case", "requirement", NULL};
    for (int i = 0; decl[i]; i++) {
        lua_getfield(L, -1, decl[i]);
        lua_setfield(L, -3, decl[i]);
    }
    lua_pop(L, 1);
    /* modules as globals too */
    const char *mods[] = {"proxy", "mqtt", "pcap", "tls", "json", NULL};
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    for (int i = 0; mods[i]; i++) {
        lua_getfield(L, -1, mods[i]);
        lua_setfield(L, -3, mods[i]);
    }
    lua_pop(L, 1);
    st->sandbox_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Lua seeds math.random from the time in seconds and the state's address; under ASan the
 * allocator hands out the same address in every process, so two runs started in the same
 * second drew the same "random" ports (targets.util.free_port) and one target answered on
 * the other's port. Seed from the kernel's entropy instead. */
static void seed_math_random(lua_State *L)
{
    uint64_t s[2];
    if (getrandom(s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32);
        s[1] = (uint64_t)getpid() * 0x9E3779B97F4A7C15ull;
    }
    lua_getglobal(L, "math");
    lua_getfield(L, -1, "randomseed");
    lua_pushinteger(L, (lua_Integer)s[0]);
    lua_pushinteger(L, (lua_Integer)s[1]);
    lua_call(L, 2, 0);
    lua_pop(L, 1);
}

pc_state *pc_state_new(char *err, size_t errcap)
{
    pc_state *st = pc_xcalloc(1, sizeof *st);
    lua_State *L = luaL_newstate();
    if (!L) {
        snprintf(err, errcap, "cannot create a Lua state");
        free(st);
        return NULL;
    }
    st->L = L;
    /* The real globals (for our own modules): base, string, table, math, utf8, coroutine,
     * debug (for line numbers). No io, no os, no package. */
    luaL_requiref(L, "_G", luaopen_base, 1);
    luaL_requiref(L, "string", luaopen_string, 1);
    luaL_requiref(L, "table", luaopen_table, 1);
    luaL_requiref(L, "math", luaopen_math, 1);
    luaL_requiref(L, "utf8", luaopen_utf8, 1);
    luaL_requiref(L, "coroutine", luaopen_coroutine, 1);
    luaL_requiref(L, "debug", luaopen_debug, 1);
    lua_pop(L, 7);
    seed_math_random(L);
    lua_pushnil(L);
    lua_setglobal(L, "dofile");
    lua_pushnil(L);
    lua_setglobal(L, "loadfile");
    /* the profiles' require (scenarios get their own in the sandbox) */
    lua_newtable(L);
    lua_pushcclosure(L, l_target_require, 1);
    lua_setglobal(L, "require");

    st->loop = pn_loop_new(256);
    if (!st->loop) {
        snprintf(err, errcap, "cannot create the event loop: %s", strerror(errno));
        lua_close(L);
        free(st);
        return NULL;
    }
    st->sched = pc_sched_new(L, st->loop);

    lua_newtable(L);
    st->modcache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    cache_module(L, st, "json", pc_open_json);
    cache_module(L, st, "proxy", pc_open_proxy);
    cache_module(L, st, "mqtt", pc_open_mqtt);
    cache_module(L, st, "pcap", pc_open_pcap);
    cache_module(L, st, "tls", pc_open_tls);

    lua_newtable(L);
    pc_sched_register(L);
    pc_core_sock_register(L);
    st->core_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    lua_getfield(L, -1, "json");
    st->json_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);

    if (pc_state_load_internal(st, "ppconform/declare.lua", 0, err, errcap) < 0)
        goto fail;
    st->declare_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->core_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    lua_getfield(L, -1, "mqtt");
    lua_remove(L, -2);
    if (pc_state_load_internal(st, "ppconform/runtime.lua", 2, err, errcap) < 0)
        goto fail;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->modcache_ref);
    lua_getfield(L, -1, "tls");
    lua_getfield(L, -1, "client");
    lua_setfield(L, -4, "tls_client");
    lua_pop(L, 2);
    st->runtime_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->core_ref);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->json_ref);
    if (pc_state_load_internal(st, "ppconform/oracle.lua", 2, err, errcap) < 0)
        goto fail;
    st->oracle_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    build_sandbox(st);
    return st;
fail:
    pc_state_free(st);
    return NULL;
}

void pc_state_free(pc_state *st)
{
    if (!st)
        return;
    pc_sched_free(st->sched);
    if (st->L)
        lua_close(st->L);
    if (st->loop)
        pn_loop_free(st->loop);
    free(st->scenario_dir);
    free(st);
}

/* ---- scenario files ------------------------------------------------------------------ */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(const char *dir, const char *rel, pc_strv *out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char child_rel[2 * PATH_MAX], child[4 * PATH_MAX];
        snprintf(child_rel, sizeof child_rel, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        snprintf(child, sizeof child, "%s/%s", dir, child_rel);
        struct stat sb;
        if (stat(child, &sb) < 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (strcmp(child_rel, "lib") != 0)
                collect(dir, child_rel, out);
        } else {
            size_t n = strlen(e->d_name);
            if (n > 4 && strcmp(e->d_name + n - 4, ".lua") == 0 && strcmp(child_rel, "requirements.lua") != 0)
                pc_strv_push(out, child);
        }
    }
    closedir(d);
}

static int run_file(pc_state *st, const char *path, char *err, size_t errcap)
{
    lua_State *L = st->L;
    char chunk[PATH_MAX + 1];
    /* names in tracebacks and check locations: relative to the working directory */
    char cwd[PATH_MAX];
    const char *shown = path;
    if (getcwd(cwd, sizeof cwd)) {
        size_t n = strlen(cwd);
        if (strncmp(path, cwd, n) == 0 && path[n] == '/')
            shown = path + n + 1;
    }
    snprintf(chunk, sizeof chunk, "@%s", shown);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    pc_sbuf text = {.max = 16u << 20};
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        pc_sbuf_add(&text, buf, n);
    fclose(f);
    lua_newtable(L); /* the file's env */
    lua_newtable(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->sandbox_ref);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    int env = lua_gettop(L);
    int rc = load_chunk(L, pc_sbuf_cstr(&text), text.len, chunk, env);
    pc_sbuf_free(&text);
    if (rc == LUA_OK) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, st->declare_ref);
        lua_getfield(L, -1, "set_file");
        lua_pushstring(L, path);
        lua_call(L, 1, 0);
        lua_pop(L, 1);
        load_instr = 0;
        lua_sethook(L, load_hook, LUA_MASKCOUNT, PC_HOOK_STEP);
        rc = lua_pcall(L, 0, 0, 0);
        lua_sethook(L, NULL, 0, 0);
    }
    if (rc != LUA_OK) {
        snprintf(err, errcap, "%s", lua_tostring(L, -1));
        lua_pop(L, 2);
        return -1;
    }
    lua_pop(L, 1);
    return 0;
}

static char *field_str(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *s = lua_type(L, -1) == LUA_TSTRING ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return s;
}

static void field_strv(lua_State *L, int idx, const char *k, pc_strv *out)
{
    lua_getfield(L, idx, k);
    if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            if (lua_type(L, -1) == LUA_TSTRING)
                pc_strv_push(out, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static const char *rel_to(const char *path, const char *dir)
{
    size_t n = dir ? strlen(dir) : 0;
    if (n && strncmp(path, dir, n) == 0 && path[n] == '/')
        return path + n + 1;
    return path;
}

int pc_state_load(pc_state *st, const char *const *paths, size_t npaths, pc_catalog *cat,
                  char *err, size_t errcap)
{
    lua_State *L = st->L;
    pc_strv files = {0};
    for (size_t i = 0; i < npaths; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) < 0) {
            snprintf(err, errcap, "scenarios: cannot read %s: %s", paths[i], strerror(errno));
            pc_strv_free(&files);
            return -1;
        }
        if (S_ISDIR(sb.st_mode)) {
            if (!st->scenario_dir)
                st->scenario_dir = pc_strdup(paths[i]);
            pc_strv sub = {0};
            collect(paths[i], "", &sub);
            qsort(sub.items, sub.count, sizeof(char *), cmp_str);
            for (size_t k = 0; k < sub.count; k++)
                pc_strv_push(&files, sub.items[k]);
            pc_strv_free(&sub);
        } else {
            if (!st->scenario_dir) {
                char *d = pc_strdup(paths[i]);
                char *slash = strrchr(d, '/');
                if (slash)
                    *slash = '\0';
                else
                    strcpy(d, ".");
                st->scenario_dir = d;
            }
            pc_strv_push(&files, paths[i]);
        }
    }
    for (size_t i = 0; i < files.count; i++)
        if (run_file(st, files.items[i], err, errcap) < 0) {
            pc_strv_free(&files);
            return -1;
        }
    pc_strv_free(&files);

    lua_rawgeti(L, LUA_REGISTRYINDEX, st->declare_ref);
    lua_getfield(L, -1, "finish");
    lua_call(L, 0, 1);
    int list = lua_gettop(L);
    lua_Integer n = luaL_len(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, list, i);
        int ci = lua_gettop(L);
        char *id = field_str(L, ci, "id");
        if (pc_catalog_find(cat, id)) {
            char *file = field_str(L, ci, "file");
            lua_getfield(L, ci, "line");
            snprintf(err, errcap, "%s:%d: case id %s is declared twice", file ? file : "?",
                     (int)lua_tointeger(L, -1), id);
            free(file);
            free(id);
            lua_settop(L, list - 2);
            return -1;
        }
        pc_case *c = pc_catalog_add(cat);
        c->id = id;
        c->title = field_str(L, ci, "title");
        c->description = field_str(L, ci, "description");
        c->interpretation = field_str(L, ci, "interpretation");
        char *file = field_str(L, ci, "file");
        c->file = pc_strdup(file ? rel_to(file, st->scenario_dir) : "?");
        free(file);
        lua_getfield(L, ci, "line");
        c->line = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        char *level = field_str(L, ci, "level");
        c->level = (pc_level)pc_level_from_name(level);
        free(level);
        c->severity = field_str(L, ci, "severity");
        field_strv(L, ci, "refs", &c->refs);
        field_strv(L, ci, "tags", &c->tags);
        field_strv(L, ci, "requires", &c->requires);
        lua_getfield(L, ci, "timeout");
        c->timeout_ms = 10000;
        if (lua_type(L, -1) == LUA_TNUMBER)
            c->timeout_ms = (int64_t)(lua_tonumber(L, -1) * 1000);
        else if (lua_type(L, -1) == LUA_TSTRING) {
            int64_t ms = pc_parse_duration_ms(lua_tostring(L, -1));
            if (ms < 0) {
                snprintf(err, errcap, "%s:%d: case %s: bad timeout '%s'", c->file, c->line, c->id, lua_tostring(L, -1));
                lua_settop(L, list - 2);
                return -1;
            }
            c->timeout_ms = ms;
        }
        lua_pop(L, 1);
        lua_getfield(L, ci, "suite");
        c->suite_id = field_str(L, -1, "id");
        c->suite_title = field_str(L, -1, "title");
        lua_pop(L, 1);
        c->lua_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the case table */
    }
    lua_settop(L, list - 2);
    return 0;
}

int pc_state_load_requirements(pc_state *st, const char *path, char *err, size_t errcap)
{
    if (run_file(st, path, err, errcap) < 0)
        return -1;
    lua_rawgeti(st->L, LUA_REGISTRYINDEX, st->declare_ref);
    lua_getfield(st->L, -1, "requirements");
    lua_call(st->L, 0, 1);
    lua_remove(st->L, -2);
    return 0;
}
