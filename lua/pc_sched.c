/* The coroutine scheduler (see sched.h). */
#include "pc_sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

enum task_state { T_READY, T_WAITING, T_DONE };

struct pc_task {
    pc_run *run;
    lua_State *co;
    int co_ref;
    enum task_state state;
    int nargs;            /* arguments for the first resume */
    bool started;
    /* what it waits for */
    int wait_fd;
    uint64_t wait_timer;
    pc_task *join_target;
    /* result */
    bool ok;
    int err_ref;
    int result_ref;       /* first return value (main task) */
    pc_task *next_ready;
    pc_task *run_next;    /* all tasks of a run */
    int handle_ref;       /* the Lua handle table (for join) */
};

struct cleanup {
    void *obj;
    pc_run_cleanup_fn fn;
    struct cleanup *next;
};

struct pc_run {
    pc_sched *s;
    char *label;
    pc_run_status status;
    uint64_t started_ms, deadline_ms;
    uint64_t timeout_timer;
    uint64_t budget, instr;
    pc_task *tasks, *main;
    char *error_text;
    int error_ref;
    struct cleanup *cleanups;
    pc_sbuf transcript;
    pc_sbuf wire;
    int conn_ids;
    pc_run *next_run;
};

struct pc_sched {
    lua_State *L;
    pn_loop *loop;
    pc_task *ready_head, *ready_tail;
    pc_run *runs;
    size_t live_tasks;
};

static const char SCHED_KEY = 'S';

/* ---- helpers ----------------------------------------------------------------------- */

static pc_task **extra(lua_State *co)
{
    return (pc_task **)lua_getextraspace(co);
}

pc_sched *pc_sched_of(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &SCHED_KEY);
    pc_sched *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return s;
}

pn_loop *pc_sched_loop(pc_sched *s)
{
    return s->loop;
}

static void make_ready(pc_task *t)
{
    if (t->state == T_READY || t->state == T_DONE)
        return;
    t->state = T_READY;
    t->next_ready = NULL;
    pc_sched *s = t->run->s;
    if (s->ready_tail)
        s->ready_tail->next_ready = t;
    else
        s->ready_head = t;
    s->ready_tail = t;
}

static void unlink_ready(pc_task *t)
{
    pc_sched *s = t->run->s;
    pc_task *prev = NULL;
    for (pc_task *p = s->ready_head; p; prev = p, p = p->next_ready) {
        if (p != t)
            continue;
        if (prev)
            prev->next_ready = p->next_ready;
        else
            s->ready_head = p->next_ready;
        if (s->ready_tail == p)
            s->ready_tail = prev;
        break;
    }
    t->next_ready = NULL;
}

static void clear_wait(pc_task *t)
{
    pn_loop *loop = t->run->s->loop;
    if (t->wait_fd >= 0) {
        pn_loop_unwatch(loop, t->wait_fd);
        t->wait_fd = -1;
    }
    if (t->wait_timer) {
        pn_timer_cancel(loop, t->wait_timer);
        t->wait_timer = 0;
    }
    t->join_target = NULL;
}

static void on_fd(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop, (void)fd, (void)events;
    pc_task *t = udata;
    clear_wait(t);
    make_ready(t);
}

static void on_timer(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    pc_task *t = udata;
    t->wait_timer = 0;
    clear_wait(t);
    make_ready(t);
}

/* Keep the first line (the message) and the traceback lines that point into scenario
 * files; drop our own runtime's frames and C frames. */
static char *trim_traceback(const char *tb)
{
    pc_sbuf out = {0};
    const char *p = tb;
    bool first = true, in_tb = false;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char *line = pc_strndup(p, n);
        p += n + (eol ? 1 : 0);
        bool keep;
        if (first)
            keep = true;
        else if (strncmp(line, "stack traceback:", 16) == 0) {
            in_tb = true;
            keep = true;
        } else if (!in_tb)
            keep = true; /* multi-line message */
        else
            keep = strstr(line, "[C]") == NULL && strstr(line, PC_INTERNAL_CHUNK) == NULL &&
                   strstr(line, "(...tail calls...)") == NULL;
        if (keep) {
            if (!first)
                pc_sbuf_puts(&out, "\n");
            pc_sbuf_puts(&out, line);
        }
        first = false;
        free(line);
    }
    /* a bare "stack traceback:" with nothing under it says nothing */
    size_t tl = strlen("\nstack traceback:");
    if (out.len >= tl && strcmp(out.data + out.len - tl, "\nstack traceback:") == 0) {
        out.len -= tl;
        out.data[out.len] = '\0';
    }
    pc_sbuf_cstr(&out);
    return out.data;
}

static void free_task(pc_task *t)
{
    lua_State *L = t->run->s->L;
    clear_wait(t);
    unlink_ready(t);
    if (t->state != T_DONE) {
        t->state = T_DONE;
        t->run->s->live_tasks--;
    }
    if (t->co) {
        *extra(t->co) = NULL;
#if LUA_VERSION_RELEASE_NUM >= 50406
        lua_closethread(t->co, L);
#else
        lua_resetthread(t->co);
#endif
        t->co = NULL;
    }
    luaL_unref(L, LUA_REGISTRYINDEX, t->co_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, t->err_ref);
    luaL_unref(L, LUA_REGISTRYINDEX, t->result_ref);
    if (t->handle_ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, t->handle_ref);
        if (lua_istable(L, -1)) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "done");
        }
        lua_pop(L, 1);
        luaL_unref(L, LUA_REGISTRYINDEX, t->handle_ref);
    }
    free(t);
}

/* ---- hooks ------------------------------------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    pc_task *t = *extra(L);
    if (!t || !t->run)
        return;
    pc_run *r = t->run;
    r->instr += PC_HOOK_STEP;
    if (r->budget && r->instr > r->budget) {
        r->status = PC_RUN_BUDGET;
        char msg[128];
        snprintf(msg, sizeof msg, "instruction budget of %llu exhausted (a runaway loop in the scenario?)",
                 (unsigned long long)r->budget);
        luaL_error(L, "%s", msg);
    }
    if (r->deadline_ms && pn_now_ms() > r->deadline_ms) {
        r->status = PC_RUN_TIMEOUT;
        luaL_error(L, "case timeout while running Lua code (a busy loop?)");
    }
}

/* ---- tasks ------------------------------------------------------------------------- */

/* Pops a function and nargs args from L; creates a task in run r. */
static pc_task *task_new(pc_run *r, lua_State *L, int nargs)
{
    pc_task *t = pc_xcalloc(1, sizeof *t);
    t->run = r;
    t->wait_fd = -1;
    t->err_ref = t->result_ref = t->handle_ref = LUA_NOREF;
    t->co = lua_newthread(L);
    t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* pops the thread */
    *extra(t->co) = t;
    lua_sethook(t->co, count_hook, LUA_MASKCOUNT, PC_HOOK_STEP);
    lua_xmove(L, t->co, nargs + 1);
    t->nargs = nargs;
    t->state = T_WAITING;
    t->run_next = r->tasks;
    r->tasks = t;
    r->s->live_tasks++;
    make_ready(t);
    return t;
}

static void run_finish(pc_run *r, pc_run_status st)
{
    if (r->status == PC_RUN_RUNNING)
        r->status = st;
    if (r->timeout_timer) {
        pn_timer_cancel(r->s->loop, r->timeout_timer);
        r->timeout_timer = 0;
    }
    /* stop every task still alive; keep the task records until pc_run_free */
    for (pc_task *t = r->tasks; t; t = t->run_next) {
        if (t->state == T_DONE)
            continue;
        clear_wait(t);
        unlink_ready(t);
        t->state = T_DONE;
        r->s->live_tasks--;
        if (t->co) {
            *extra(t->co) = NULL;
#if LUA_VERSION_RELEASE_NUM >= 50406
            lua_closethread(t->co, r->s->L);
#else
            lua_resetthread(t->co);
#endif
        }
    }
    /* release sockets and other per-run resources */
    while (r->cleanups) {
        struct cleanup *c = r->cleanups;
        r->cleanups = c->next;
        c->fn(c->obj);
        free(c);
    }
}

static void set_error(pc_run *r, lua_State *co, pc_run_status st)
{
    lua_State *L = r->s->L;
    if (r->error_ref != LUA_NOREF)
        return; /* the first error wins */
    const char *msg = NULL;
    if (lua_type(co, -1) == LUA_TSTRING)
        msg = lua_tostring(co, -1);
    else if (luaL_callmeta(co, -1, "__tostring")) {
        msg = lua_tostring(co, -1);
        lua_pop(co, 1);
    }
    if (msg || lua_type(co, -1) != LUA_TTABLE) {
        luaL_traceback(co, co, msg ? msg : "(error object is not a string)", 0);
        free(r->error_text);
        r->error_text = trim_traceback(lua_tostring(co, -1));
        lua_pop(co, 1);
    }
    lua_pushvalue(co, -1);
    lua_xmove(co, L, 1);
    r->error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (r->status == PC_RUN_RUNNING)
        r->status = st;
}

static void wake_joiners(pc_task *done)
{
    for (pc_task *t = done->run->tasks; t; t = t->run_next)
        if (t->state == T_WAITING && t->join_target == done) {
            clear_wait(t);
            make_ready(t);
        }
}

static void resume(pc_task *t)
{
    pc_run *r = t->run;
    lua_State *L = r->s->L;
    int nargs = t->started ? 0 : t->nargs;
    t->started = true;
    t->state = T_WAITING; /* a wait call sets up what wakes it */
    int nres = 0;
    int rc = lua_resume(t->co, L, nargs, &nres);
    if (rc == LUA_YIELD) {
        lua_pop(t->co, nres);
        if (t->wait_fd < 0 && !t->wait_timer && !t->join_target && t->state == T_WAITING) {
            /* coroutine.yield() straight from the case body: nothing would ever wake it */
            lua_pushstring(t->co, "coroutine.yield() outside the ppconform API: a case may not yield to the runner");
            set_error(r, t->co, PC_RUN_ERROR);
            run_finish(r, PC_RUN_ERROR);
        }
        return;
    }
    t->state = T_DONE;
    r->s->live_tasks--;
    if (rc == LUA_OK) {
        t->ok = true;
        if (nres > 0) {
            lua_pushvalue(t->co, -nres);
            lua_xmove(t->co, L, 1);
            t->result_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
        lua_pop(t->co, nres);
        if (t->handle_ref != LUA_NOREF) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, t->handle_ref);
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "done");
            lua_pop(L, 1);
        }
        wake_joiners(t);
        if (t == r->main)
            run_finish(r, PC_RUN_OK);
        return;
    }
    pc_run_status st = r->status != PC_RUN_RUNNING ? r->status : PC_RUN_ERROR;
    set_error(r, t->co, st);
    run_finish(r, st);
}

/* ---- public: scheduler ------------------------------------------------------------- */

pc_sched *pc_sched_new(lua_State *L, pn_loop *loop)
{
    pc_sched *s = pc_xcalloc(1, sizeof *s);
    s->L = L;
    s->loop = loop;
    /* threads copy their creator's extra space: the main state's must say "no task" */
    *extra(L) = NULL;
    lua_pushlightuserdata(L, s);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &SCHED_KEY);
    return s;
}

void pc_sched_free(pc_sched *s)
{
    if (!s)
        return;
    while (s->runs)
        pc_run_free(s->runs);
    lua_pushnil(s->L);
    lua_rawsetp(s->L, LUA_REGISTRYINDEX, &SCHED_KEY);
    free(s);
}

size_t pc_sched_live_tasks(const pc_sched *s)
{
    return s->live_tasks;
}

size_t pc_sched_step(pc_sched *s, int max_wait_ms)
{
    /* resume what is ready now; tasks made ready meanwhile run in this pass too */
    while (s->ready_head) {
        pc_task *t = s->ready_head;
        s->ready_head = t->next_ready;
        if (!s->ready_head)
            s->ready_tail = NULL;
        t->next_ready = NULL;
        if (t->state != T_READY)
            continue;
        resume(t);
    }
    if (s->live_tasks == 0)
        return 0;
    pn_loop_run_once(s->loop, s->ready_head ? 0 : max_wait_ms);
    return s->live_tasks;
}

void pc_sched_run_until(pc_sched *s, pc_run *r)
{
    while (!pc_run_done(r))
        pc_sched_step(s, 1000);
}

/* ---- public: runs ------------------------------------------------------------------ */

static void on_run_timeout(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    pc_run *r = udata;
    r->timeout_timer = 0;
    if (r->status != PC_RUN_RUNNING)
        return;
    char *msg = pc_printf("case timeout: still running after %llu ms",
                          (unsigned long long)(pn_now_ms() - r->started_ms));
    pc_run_abort(r, PC_RUN_TIMEOUT, msg);
    free(msg);
}

pc_run *pc_run_new(pc_sched *s, const char *label, int64_t timeout_ms, uint64_t budget)
{
    pc_run *r = pc_xcalloc(1, sizeof *r);
    r->s = s;
    r->label = pc_strdup(label ? label : "");
    r->error_ref = LUA_NOREF;
    r->budget = budget;
    r->started_ms = pn_now_ms();
    r->transcript.max = 256 * 1024;
    r->wire.max = 2 * 1024 * 1024;
    if (timeout_ms > 0) {
        r->deadline_ms = r->started_ms + (uint64_t)timeout_ms;
        r->timeout_timer = pn_timer_add(s->loop, (uint64_t)timeout_ms, on_run_timeout, r);
    }
    r->next_run = s->runs;
    s->runs = r;
    return r;
}

int pc_run_start(pc_run *r, lua_State *L, int nargs)
{
    r->main = task_new(r, L, nargs);
    return 0;
}

pc_run_status pc_run_status_of(const pc_run *r) { return r->status; }
bool pc_run_done(const pc_run *r) { return r->status != PC_RUN_RUNNING; }
const char *pc_run_error_text(const pc_run *r) { return r->error_text; }
int pc_run_error_ref(const pc_run *r) { return r->error_ref; }
const char *pc_run_label(const pc_run *r) { return r->label; }
int64_t pc_run_elapsed_ms(const pc_run *r) { return (int64_t)(pn_now_ms() - r->started_ms); }
pc_sbuf *pc_run_transcript(pc_run *r) { return &r->transcript; }
pc_sbuf *pc_run_wire(pc_run *r) { return &r->wire; }
int pc_run_next_conn_id(pc_run *r) { return ++r->conn_ids; }
uint64_t pc_run_started_ms(const pc_run *r) { return r->started_ms; }

void pc_run_push_result(pc_run *r, lua_State *L)
{
    if (r->main && r->main->result_ref != LUA_NOREF)
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->main->result_ref);
    else
        lua_pushnil(L);
}

void pc_run_abort(pc_run *r, pc_run_status why, const char *text)
{
    if (r->status != PC_RUN_RUNNING)
        return;
    if (text && !r->error_text)
        r->error_text = pc_strdup(text);
    run_finish(r, why);
}

void pc_run_attach(pc_run *r, void *obj, pc_run_cleanup_fn fn)
{
    struct cleanup *c = pc_xcalloc(1, sizeof *c);
    c->obj = obj;
    c->fn = fn;
    c->next = r->cleanups;
    r->cleanups = c;
}

void pc_run_detach(pc_run *r, void *obj)
{
    for (struct cleanup **pp = &r->cleanups; *pp; pp = &(*pp)->next)
        if ((*pp)->obj == obj) {
            struct cleanup *c = *pp;
            *pp = c->next;
            free(c);
            return;
        }
}

void pc_run_free(pc_run *r)
{
    if (!r)
        return;
    if (r->status == PC_RUN_RUNNING)
        run_finish(r, PC_RUN_ERROR);
    while (r->tasks) {
        pc_task *t = r->tasks;
        r->tasks = t->run_next;
        free_task(t);
    }
    for (pc_run **pp = &r->s->runs; *pp; pp = &(*pp)->next_run)
        if (*pp == r) {
            *pp = r->next_run;
            break;
        }
    luaL_unref(r->s->L, LUA_REGISTRYINDEX, r->error_ref);
    free(r->label);
    free(r->error_text);
    pc_sbuf_free(&r->transcript);
    pc_sbuf_free(&r->wire);
    free(r);
}

/* ---- waits (called from C functions running inside a task) ------------------------ */

static pc_task *current_task(lua_State *L)
{
    pc_task *t = *extra(L);
    if (!t || t->co != L || t->state == T_DONE)
        return NULL;
    return t;
}

pc_run *pc_current_run(lua_State *L)
{
    pc_task *t = *extra(L);
    return t ? t->run : NULL;
}

int pc_wait(lua_State *L, int fd, int events, uint64_t deadline_ms)
{
    return pc_wait_k(L, fd, events, deadline_ms, NULL, 0);
}

int pc_wait_k(lua_State *L, int fd, int events, uint64_t deadline_ms, lua_KFunction k, lua_KContext ctx)
{
    pc_task *t = current_task(L);
    if (!t)
        return luaL_error(L, "network calls and waits must run in a case or in a t:spawn task, "
                             "not inside a coroutine of the scenario's own");
    pn_loop *loop = t->run->s->loop;
    if (fd >= 0) {
        if (pn_loop_interest(loop, fd) >= 0)
            return luaL_error(L, "two tasks wait on the same connection at once");
        if (pn_loop_watch(loop, fd, events, on_fd, t) < 0)
            return luaL_error(L, "cannot watch fd %d: %s", fd, strerror(errno));
        t->wait_fd = fd;
    }
    uint64_t now = pn_now_ms();
    uint64_t ms = deadline_ms > now ? deadline_ms - now : 0;
    t->wait_timer = pn_timer_add(loop, ms, on_timer, t);
    t->state = T_WAITING;
    if (k)
        return lua_yieldk(L, 0, ctx, k);
    return lua_yield(L, 0);
}

/* ---- Lua API ----------------------------------------------------------------------- */

static int l_now(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)pn_now_ms());
    return 1;
}

static int l_sleep_until(lua_State *L)
{
    lua_Integer deadline = luaL_checkinteger(L, 1);
    return pc_wait(L, -1, 0, deadline < 0 ? 0 : (uint64_t)deadline);
}

/* spawn(fn, ...) -> handle table {done=false} */
static int l_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    pc_task *cur = current_task(L);
    if (!cur)
        return luaL_error(L, "t:spawn must be called from a running case");
    int nargs = lua_gettop(L) - 1;
    lua_newtable(L);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "done");
    lua_pushvalue(L, -1);
    int href = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_insert(L, 1); /* handle below fn and args */
    pc_task *t = task_new(cur->run, L, nargs);
    t->handle_ref = href;
    lua_pushlightuserdata(L, t);
    lua_setfield(L, 1, "_task");
    return 1;
}

static int join_done(lua_State *L, int status, lua_KContext ctx)
{
    (void)status, (void)ctx;
    lua_getfield(L, 1, "done");
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
}

/* join(handle, deadline) -> true when done (false on deadline) */
static int l_join(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer deadline = luaL_checkinteger(L, 2);
    lua_getfield(L, 1, "done");
    bool done = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (done || (uint64_t)deadline <= pn_now_ms()) {
        lua_pushboolean(L, done);
        return 1;
    }
    lua_getfield(L, 1, "_task");
    pc_task *target = lua_touserdata(L, -1);
    lua_pop(L, 1);
    pc_task *cur = current_task(L);
    if (!cur || !target)
        return luaL_error(L, "join outside a running case");
    cur->join_target = target;
    return pc_wait_k(L, -1, 0, (uint64_t)deadline, join_done, 0);
}

/* note(text): a line in the current run's transcript */
static int l_note(lua_State *L)
{
    const char *text = luaL_checkstring(L, 1);
    pc_run *r = pc_current_run(L);
    if (r)
        pc_sbuf_printf(&r->transcript, "%8.3fs    %s\n", (double)(pn_now_ms() - r->started_ms) / 1e3, text);
    return 0;
}

static int l_run_label(lua_State *L)
{
    pc_run *r = pc_current_run(L);
    lua_pushstring(L, r ? r->label : "");
    return 1;
}

void pc_sched_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"now", l_now}, {"sleep_until", l_sleep_until}, {"spawn", l_spawn},
        {"join", l_join}, {"run_label", l_run_label}, {"note", l_note}, {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
