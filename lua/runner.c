/* Running cases against a target (see runner.h). The target profile's start() runs as a
 * task of its own (it polls with deadlines); then up to -j case runs share the loop. */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "core.h"
#include "net/loop.h"
#include "pc_sched.h"

#define DEFAULT_BUDGET 500000000ull /* VM instructions per case */

typedef struct job {
    size_t result;      /* index into results */
    int rep;
    pc_run *run;
    int t_ref;          /* the case's test context */
} job;

typedef struct runner {
    pc_state *st;
    const pc_runner_opts *o;
    int profile_ref, target_ref;
    char run_prefix[32];
    unsigned counter;
} runner;

static void push_opts(lua_State *L, const pc_runner_opts *o)
{
    lua_newtable(L);
    lua_pushnumber(L, o->timeout_scale);
    lua_setfield(L, -2, "scale");
    if (o->address) {
        lua_pushstring(L, o->address);
        lua_setfield(L, -2, "address");
    }
    if (o->broker) {
        lua_pushstring(L, o->broker);
        lua_setfield(L, -2, "broker");
    }
    lua_pushboolean(L, o->keep);
    lua_setfield(L, -2, "keep");
    lua_newtable(L);
    for (size_t i = 0; i < o->quirks.count; i++) {
        lua_pushstring(L, o->quirks.items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "quirks");
    lua_newtable(L);
    for (size_t i = 0; i < o->listeners.count; i++) {
        const char *eq = strchr(o->listeners.items[i], '=');
        if (!eq)
            continue;
        lua_pushlstring(L, o->listeners.items[i], (size_t)(eq - o->listeners.items[i]));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "listeners");
}

static char *lua_field_text(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *s = lua_isstring(L, -1) ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return s;
}

/* Start the target: P.start(h) as a task with a deadline. */
static int start_target(runner *R, pc_target_info *info)
{
    pc_state *st = R->st;
    lua_State *L = st->L;
    char err[1024];
    const char *profile = R->o->profile ? R->o->profile : (R->o->address ? "address" : "ppbroker");
    if (pc_state_load_target(st, profile, err, sizeof err) < 0) {
        info->error = pc_strdup(err);
        return -1;
    }
    R->profile_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->profile_ref);
    lua_getfield(L, -1, "start");
    if (!lua_isfunction(L, -1)) {
        info->error = pc_printf("target profile %s has no start function", profile);
        lua_pop(L, 2);
        return -1;
    }
    lua_remove(L, -2);
    lua_newtable(L); /* h */
    pc_open_host(L);
    lua_setfield(L, -2, "host");
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->core_ref);
    lua_setfield(L, -2, "core");
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->json_ref);
    lua_setfield(L, -2, "json");
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->oracle_ref);
    lua_setfield(L, -2, "oracle");
    push_opts(L, R->o);
    lua_setfield(L, -2, "opts");
    /* generous: RabbitMQ's VM alone takes 10-30 s to come up on a loaded 2-core machine */
    pc_run *run = pc_run_new(st->sched, "target start", (int64_t)(90000 * R->o->timeout_scale), 0);
    pc_run_start(run, L, 1);
    pc_sched_run_until(st->sched, run);
    if (pc_run_status_of(run) != PC_RUN_OK) {
        const char *e = pc_run_error_text(run);
        info->error = pc_printf("cannot start the target (%s): %s", profile, e ? e : "unknown error");
        pc_run_free(run);
        return -1;
    }
    pc_run_push_result(run, L);
    pc_run_free(run);
    if (!lua_istable(L, -1)) {
        info->error = pc_printf("target profile %s: start() must return a table", profile);
        lua_pop(L, 1);
        return -1;
    }
    int t = lua_gettop(L);
    /* capability overrides from the command line */
    lua_getfield(L, t, "capabilities");
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, t, "capabilities");
    }
    for (size_t i = 0; i < R->o->caps_add.count; i++) {
        const char *c = R->o->caps_add.items[i], *eq = strchr(c, '=');
        if (eq) {
            lua_pushlstring(L, c, (size_t)(eq - c));
            lua_pushstring(L, eq + 1);
        } else {
            lua_pushstring(L, c);
            lua_pushboolean(L, 1);
        }
        lua_settable(L, -3);
    }
    for (size_t i = 0; i < R->o->caps_del.count; i++) {
        lua_pushnil(L);
        lua_setfield(L, -2, R->o->caps_del.items[i]);
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "listeners");
    if (!lua_istable(L, -1)) {
        lua_newtable(L);
        lua_setfield(L, t, "listeners");
    }
    lua_pop(L, 1);
    /* what the profile had to give up (e.g. listeners this build refused) */
    lua_getfield(L, t, "notes");
    if (lua_istable(L, -1)) {
        lua_Integer nn = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= nn; i++) {
            lua_geti(L, -1, i);
            fprintf(stderr, "ppconform: target note: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    info->name = lua_field_text(L, t, "name");
    info->version = lua_field_text(L, t, "version");
    R->target_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* P.alive(T) -> ok, how */
static bool target_alive(runner *R, char **how)
{
    lua_State *L = R->st->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->profile_ref);
    lua_getfield(L, -1, "alive");
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1);
        return true;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->target_ref);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) {
        lua_pop(L, 1);
        return true;
    }
    bool alive = lua_toboolean(L, -2);
    if (!alive && how)
        *how = pc_strdup(lua_isstring(L, -1) ? lua_tostring(L, -1) : "exited");
    lua_pop(L, 2);
    return alive;
}

static void stop_target(runner *R, pc_target_info *info)
{
    lua_State *L = R->st->L;
    if (R->target_ref == LUA_NOREF)
        return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->profile_ref);
    lua_getfield(L, -1, "stop");
    lua_remove(L, -2);
    if (lua_isfunction(L, -1)) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, R->target_ref);
        pc_open_host(L);
        if (lua_pcall(L, 2, 2, 0) == LUA_OK) {
            info->stop_status = lua_isstring(L, -2) ? pc_strdup(lua_tostring(L, -2)) : NULL;
            if (lua_toboolean(L, -1))
                info->crashed = true;
            lua_pop(L, 2);
        } else {
            info->stop_status = pc_printf("stop failed: %s", lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    } else
        lua_pop(L, 1);
    luaL_unref(L, LUA_REGISTRYINDEX, R->target_ref);
    R->target_ref = LUA_NOREF;
}

/* A process that dies closes its sockets a moment before waitpid can see it gone, so a case
 * that ends on the reset its target's death caused may be checked in that moment. A case that
 * did not pass is checked again for a short while (the loop keeps running the other cases)
 * before it is called the target's own verdict: a crash is then reported during the case
 * that caused it, every time. */
#define DEATH_GRACE_MS 20

static bool target_alive_settled(runner *R, bool suspect, char **how)
{
    if (!target_alive(R, how))
        return false;
    if (!suspect)
        return true;
    for (uint64_t end = pn_now_ms() + DEATH_GRACE_MS; pn_now_ms() < end;) {
        pc_sched_step(R->st->sched, 2);
        if (!target_alive(R, how))
            return false;
    }
    return true;
}

/* A target that died keeps its files (state.keep = true, read by every profile's stop): its
 * log is the only account of why. Returns a copy of state.log, or NULL when it has none. */
static char *keep_target_files(runner *R)
{
    lua_State *L = R->st->L;
    if (R->target_ref == LUA_NOREF)
        return NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->target_ref);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "keep");
    lua_getfield(L, -1, "log");
    char *log = lua_type(L, -1) == LUA_TSTRING ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 2);
    return log;
}

/* The first required capability the target lacks, or NULL. */
static const char *missing_capability(runner *R, const pc_case *c)
{
    lua_State *L = R->st->L;
    const char *missing = NULL;
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->target_ref);
    lua_getfield(L, -1, "capabilities");
    for (size_t i = 0; i < c->requires.count && !missing; i++) {
        lua_getfield(L, -1, c->requires.items[i]);
        if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1)))
            missing = c->requires.items[i];
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return missing;
}

/* Start one execution of a case: make its context, then a run with case.run(t). */
static int start_job(runner *R, const pc_case *c, job *j)
{
    pc_state *st = R->st;
    lua_State *L = st->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->runtime_ref);
    lua_getfield(L, -1, "new_context");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->lua_ref);
    lua_newtable(L); /* env */
    lua_rawgeti(L, LUA_REGISTRYINDEX, R->target_ref);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "target");
    lua_getfield(L, -1, "oracle");
    lua_setfield(L, -3, "oracle");
    lua_pop(L, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->oracle_ref);
    lua_getfield(L, -1, "none");
    lua_setfield(L, -3, "oracle_none");
    lua_pop(L, 1);
    lua_pushinteger(L, (lua_Integer)R->o->seed);
    lua_setfield(L, -2, "seed");
    lua_newtable(L);
    for (size_t i = 0; i < R->o->sets.count; i++) {
        const char *kv = R->o->sets.items[i], *eq = strchr(kv, '=');
        if (!eq)
            continue;
        lua_pushlstring(L, kv, (size_t)(eq - kv));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
    }
    lua_setfield(L, -2, "opts");
    lua_pushnumber(L, R->o->timeout_scale);
    lua_setfield(L, -2, "scale");
    lua_pushfstring(L, "%s%d", R->run_prefix, (int)++R->counter);
    lua_setfield(L, -2, "run_id");
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        fprintf(stderr, "ppconform: internal error making a context: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    j->t_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int64_t timeout = (int64_t)((double)c->timeout_ms * R->o->timeout_scale);
    j->run = pc_run_new(st->sched, c->id, timeout, R->o->budget ? R->o->budget : DEFAULT_BUDGET);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->lua_ref);
    lua_getfield(L, -1, "run");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, j->t_ref);
    pc_run_start(j->run, L, 1);
    return 0;
}

static char *opt_str(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *s = lua_isstring(L, -1) ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return s;
}

/* Copy what the case recorded in t into a result, and judge it. */
static void collect(runner *R, job *j, pc_result *r)
{
    lua_State *L = R->st->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, j->t_ref);
    int t = lua_gettop(L);
    lua_getfield(L, t, "_checks");
    lua_Integer n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        int ci = lua_gettop(L);
        lua_getfield(L, ci, "ok");
        bool ok = lua_toboolean(L, -1);
        lua_pop(L, 1);
        char *msg = opt_str(L, ci, "message"), *exp = opt_str(L, ci, "expected"),
             *act = opt_str(L, ci, "actual"), *wh = opt_str(L, ci, "where"), *ref = opt_str(L, ci, "ref"),
             *lvl = opt_str(L, ci, "level");
        int level = pc_level_from_name(lvl);
        pc_result_add_check(r, ok, msg, exp, act, wh, ref, level < 0 ? r->c->level : (pc_level)level);
        free(msg), free(exp), free(act), free(wh), free(ref), free(lvl);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, t, "_infos");
    n = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        lua_geti(L, -1, 1);
        lua_geti(L, -2, 2);
        pc_result_add_info(r, lua_tostring(L, -2), lua_tostring(L, -1));
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
    char *skip = opt_str(L, t, "_skip");
    lua_pop(L, 1);

    pc_run_status st = pc_run_status_of(j->run);
    bool stopped = false;
    char *stop_kind = NULL;
    int eref = pc_run_error_ref(j->run);
    if (eref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, eref);
        if (lua_istable(L, -1)) {
            stop_kind = opt_str(L, lua_gettop(L), "__stop");
            stopped = stop_kind != NULL;
        }
        lua_pop(L, 1);
    }
    if (st == PC_RUN_OK || (st == PC_RUN_ERROR && stopped && strcmp(stop_kind, "fail") == 0)) {
        r->verdict = pc_verdict_from_checks(r);
        if (st == PC_RUN_ERROR && r->verdict <= PC_INFO) {
            /* stopped by a failed check of a MAY/INFO level: still not an error */
        }
    } else if (stopped && strcmp(stop_kind, "skip") == 0) {
        r->verdict = PC_SKIP;
        r->reason = pc_strdup(skip ? skip : "skipped by the case");
    } else {
        r->verdict = PC_ERROR;
        const char *text = pc_run_error_text(j->run);
        r->reason = pc_strdup(st == PC_RUN_TIMEOUT ? "case timeout" : st == PC_RUN_BUDGET ? "instruction budget exhausted"
                                                                                          : "Lua error");
        r->error_trace = pc_strdup(text ? text : "(no message)");
        /* the first line is the best one-line reason */
        const char *nl = r->error_trace ? strchr(r->error_trace, '\n') : NULL;
        free(r->reason);
        r->reason = r->error_trace ? pc_strndup(r->error_trace, nl ? (size_t)(nl - r->error_trace) : strlen(r->error_trace))
                                   : pc_strdup("error");
    }
    if (!r->reason)
        for (size_t i = 0; i < r->nchecks; i++)
            if (!r->checks[i].ok) {
                r->reason = pc_strdup(r->checks[i].message);
                break;
            }
    free(skip);
    free(stop_kind);
    r->duration_ms = pc_run_elapsed_ms(j->run);
    /* evidence travels with the result */
    pc_sbuf *tr = pc_run_transcript(j->run), *w = pc_run_wire(j->run);
    r->transcript = *tr;
    memset(tr, 0, sizeof *tr);
    r->wire = *w;
    memset(w, 0, sizeof *w);
    luaL_unref(L, LUA_REGISTRYINDEX, j->t_ref);
    pc_run_free(j->run);
    j->run = NULL;
}

/* Fold a repeat into the result kept so far: the worst verdict wins; disagreement is noted. */
static void fold(pc_result *acc, pc_result *rep, int *counts)
{
    counts[rep->verdict]++;
    if (acc->repeats == 0 || rep->verdict > acc->verdict) {
        const pc_case *c = acc->c;
        int repeats = acc->repeats;
        pc_result_free(acc);
        *acc = *rep;
        acc->c = c;
        acc->repeats = repeats;
    } else
        pc_result_free(rep);
    acc->repeats++;
}

static void progress(const pc_runner_opts *o, size_t done, size_t total, const char *id)
{
    if (!o->progress)
        return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, total, id ? id : "");
    fflush(stderr);
}

int pc_runner_run(pc_state *st, const pc_catalog *cat, const size_t *idx, size_t n,
                  const pc_runner_opts *o, pc_result *results, pc_target_info *info)
{
    (void)cat;
    runner R = {st, o, LUA_NOREF, LUA_NOREF, "", 0};
    snprintf(R.run_prefix, sizeof R.run_prefix, "%x%x-", (unsigned)getpid() & 0xfff,
             (unsigned)time(NULL) & 0xffff);
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].c = &cat->cases[idx[i]];
    }
    if (start_target(&R, info) < 0)
        return -1;

    int repeat = o->repeat > 0 ? o->repeat : 1;
    int jobs = o->jobs > 0 ? o->jobs : 1;
    size_t total = n * (size_t)repeat, next = 0, finished = 0;
    int (*counts)[PC_VERDICT_COUNT] = pc_xcalloc(n ? n : 1, sizeof *counts);
    job *active = pc_xcalloc((size_t)jobs, sizeof *active);
    size_t nactive = 0;
    bool target_down = false;
    char *down_how = NULL;

    bool stopping = false;
    while (finished < total) {
        if (o->interrupted && *o->interrupted && !stopping) {
            stopping = true; /* no new cases; the running ones end as ERROR */
            for (size_t k = 0; k < nactive; k++)
                pc_run_abort(active[k].run, PC_RUN_ERROR, "interrupted (SIGINT/SIGTERM)");
        }
        /* fill free slots */
        while (nactive < (size_t)jobs && next < total && !target_down && !stopping) {
            size_t ri = next / (size_t)repeat;
            int rep = (int)(next % (size_t)repeat);
            next++;
            const pc_case *c = results[ri].c;
            const char *missing = missing_capability(&R, c);
            if (missing) {
                pc_result tmp = {.c = c, .verdict = PC_SKIP};
                tmp.reason = pc_printf("the target lacks capability %s", missing);
                fold(&results[ri], &tmp, counts[ri]);
                finished++;
                continue;
            }
            job *j = &active[nactive];
            j->result = ri;
            j->rep = rep;
            if (start_job(&R, c, j) < 0) {
                pc_result tmp = {.c = c, .verdict = PC_ERROR};
                tmp.reason = pc_strdup("internal error starting the case");
                fold(&results[ri], &tmp, counts[ri]);
                finished++;
                continue;
            }
            nactive++;
            progress(o, finished, total, c->id);
        }
        if (nactive == 0) {
            if (next >= total || target_down || stopping)
                break;
            continue;
        }
        pc_sched_step(st->sched, 200);
        for (size_t k = 0; k < nactive;) {
            job *j = &active[k];
            if (!pc_run_done(j->run)) {
                k++;
                continue;
            }
            pc_result tmp = {.c = results[j->result].c};
            collect(&R, j, &tmp);
            char *how = NULL;
            bool suspect = tmp.verdict == PC_FAIL || tmp.verdict == PC_ERROR;
            if (!target_alive_settled(&R, suspect, &how)) {
                target_down = true;
                tmp.verdict = PC_ERROR;
                free(tmp.reason);
                tmp.reason = pc_printf("the target died during this case: %s", how);
                /* several cases can finish in the pass that sees the crash: keep the first cause */
                if (down_how)
                    free(how);
                else
                    down_how = how;
            }
            fold(&results[j->result], &tmp, counts[j->result]);
            finished++;
            progress(o, finished, total, NULL);
            active[k] = active[--nactive];
        }
    }
    /* anything not run because the target died */
    for (size_t i = 0; i < n; i++)
        if (results[i].repeats == 0) {
            results[i].verdict = PC_ERROR;
            results[i].reason = stopping ? pc_strdup("not run: interrupted")
                                         : pc_printf("not run: the target is down (%s)", down_how ? down_how : "?");
            results[i].repeats = 1;
        }
    for (size_t i = 0; i < n; i++) {
        int kinds = 0;
        for (int v = 0; v < PC_VERDICT_COUNT; v++)
            kinds += counts[i][v] > 0;
        if (kinds > 1) {
            pc_sbuf b = {0};
            for (int v = 0; v < PC_VERDICT_COUNT; v++)
                if (counts[i][v])
                    pc_sbuf_printf(&b, "%s%s x%d", b.len ? ", " : "", pc_verdict_name((pc_verdict)v), counts[i][v]);
            results[i].flaky = (char *)pc_sbuf_cstr(&b);
        }
        if (o->known)
            pc_known_apply(o->known, &results[i]);
        if (o->repro_prefix)
            results[i].repro = pc_printf("%s '%s' --seed %llu", o->repro_prefix, results[i].c->id,
                                         (unsigned long long)o->seed);
    }
    if (o->progress)
        fprintf(stderr, "\r\033[K");
    if (target_down) {
        info->crashed = true;
        char *log = keep_target_files(&R);
        info->error = pc_printf("the target died: %s%s%s%s", down_how ? down_how : "?", log ? " (its log, kept: " : "",
                                log ? log : "", log ? ")" : "");
        free(log);
    }
    stop_target(&R, info);
    if (info->crashed && !info->error)
        info->error = pc_printf("the target crashed (%s)", info->stop_status ? info->stop_status : "?");
    free(down_how);
    free(counts);
    free(active);
    luaL_unref(st->L, LUA_REGISTRYINDEX, R.profile_ref);
    return 0;
}

void pc_target_info_free(pc_target_info *t)
{
    free(t->name);
    free(t->version);
    free(t->description);
    free(t->stop_status);
    free(t->error);
    memset(t, 0, sizeof *t);
}
