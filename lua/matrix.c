/* ppconform matrix: the suite against several targets, one table.
 *
 * Each target runs as a child `ppconform run --profile NAME --json FILE` (so one target's
 * trouble cannot disturb another's run). A target that crashes ends its run with "target
 * down" errors for the cases after the crash; those cases are run again, one at a time
 * (-j 1), in fresh runs (a pool of them, rerun_pool) until every case has a verdict of its
 * own: an ERROR counts only for the case a fresh run started with, so "this case crashes
 * the target" is decided by running it alone on a new one; the others get what they earn.
 * The results become one Markdown table (stable: verdicts and counts only, so it can be
 * committed and compared) and one self-contained HTML page (Expected/Actual on demand).
 * The rendering is matrix_render.c's; with --senders, both documents also carry the
 * real-sender record (matrix_senders.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "common.h"
#include "json.h"
#include "matrix.h"

extern char **environ;

int pc_matrix_main(int argc, char **argv);

#define MAX_RERUNS 1000             /* crash re-runs per target */
#define RUN_DEADLINE_S 900          /* one child run */
#define MAX_REPORT (64u << 20)      /* a JSON report we are willing to read */

static void usage(FILE *f)
{
    fputs("Usage: ppconform matrix --targets NAME[,NAME...] [--md FILE] [--html FILE] [--senders FILE] [OPTIONS]\n"
          "                        [SELECTOR...] [-- RUN-OPTIONS...]\n"
          "\n"
          "Runs the suite against each target (a profile name under lua/targets, e.g. ppbroker,\n"
          "mosquitto, haproxy-mosquitto, nginx-mosquitto, rabbitmq, aedes, or a profile file) as\n"
          "a child `ppconform run`, re-runs the cases a crashing target could not answer, and\n"
          "writes one table: rows are cases grouped by requirement, columns are targets.\n"
          "\n"
          "  --targets LIST      comma-separated profile names or files (at most 16)\n"
          "  --md FILE           the Markdown table (verdicts only: stable, fit to commit)\n"
          "  --html FILE         a self-contained HTML page (Expected/Actual under each cell)\n"
          "  --senders FILE      add a \"Real senders (proxysend --listen)\" section to both: the JSON\n"
          "                      record of what real HAProxy and nginx send, as written by\n"
          "                      scripts/sender-findings.py (docs/sender-findings.json); shown as recorded\n"
          "  --workdir DIR       keep each run's JSON report and log there, and in DIR/tmp the runs'\n"
          "                      temporary files (the directory of a target that died is kept)\n"
          "                      (default: a temp dir, removed)\n"
          "  --ppconform PATH    the runner to start (default: this program, or ppconform next to it)\n"
          "  -j, --jobs N        cases in parallel in each first run (default 4)\n"
          "  SELECTOR...         which cases, as for `ppconform run` (default: all)\n"
          "  -- RUN-OPTIONS      options passed to every `ppconform run` (e.g. --timeout-scale 2)\n"
          "\n"
          "Exit status: 0 every run completed (the verdicts are findings, not failures);\n"
          "2 usage error; 3 a target could not be run (did not start, no report).\n",
          f);
}

static char *dup_field(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *s = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return s;
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    pc_sbuf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < MAX_REPORT)
        pc_sbuf_add(&b, chunk, n);
    fclose(f);
    *len = b.len;
    pc_sbuf_cstr(&b);
    return b.data;
}

static mx_case *find_case(matrix *m, const char *id, bool create)
{
    for (size_t i = 0; i < m->ncases; i++)
        if (strcmp(m->cases[i].id, id) == 0)
            return &m->cases[i];
    if (!create)
        return NULL;
    if (m->ncases == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->cases = pc_xrealloc(m->cases, m->cap * sizeof *m->cases);
    }
    mx_case *c = &m->cases[m->ncases++];
    memset(c, 0, sizeof *c);
    c->id = pc_strdup(id);
    return c;
}

static void free_result(mx_result *r)
{
    free(r->verdict);
    free(r->reason);
    free(r->failed.message);
    free(r->failed.expected);
    free(r->failed.actual);
    memset(r, 0, sizeof *r);
}

/* Is this ERROR only the shadow of a crash (not the case's own verdict)? Any ERROR may be
 * collateral: a case in flight with the crashing one, or
 * the next case after a crash the runner had not seen yet. Only a case that ran first, alone,
 * on a fresh target owns its ERROR; every other one is run again that way. */
static bool target_down(const mx_result *r, bool first_round)
{
    if (!r->verdict || strcmp(r->verdict, "ERROR") != 0)
        return false;
    if (r->reason && strstr(r->reason, "not run: the target is down"))
        return true;
    /* the runner may not see a death in time (a process still exiting answers its liveness
     * check while its listener is gone), so any ERROR counts, not only those of runs it saw die */
    return first_round || !r->first_in_run;
}

/* Read one JSON report into the matrix (column ti). Returns 0, or -1 with *err. */
static int load_report(matrix *m, size_t ti, const char *path, int round, const char *first_id, char **err)
{
    size_t len;
    char *text = read_text(path, &len);
    if (!text) {
        *err = pc_printf("no report %s: %s", path, strerror(errno));
        return -1;
    }
    lua_State *L = luaL_newstate();
    int rc = pc_json_decode(L, text, len);
    free(text);
    if (rc < 0 || !lua_istable(L, -1)) {
        *err = pc_printf("bad report %s: %s", path, rc < 0 ? lua_tostring(L, -1) : "not an object");
        lua_close(L);
        return -1;
    }
    int top = lua_gettop(L);
    lua_getfield(L, top, "target");
    if (lua_istable(L, -1)) {
        char *v = dup_field(L, -1, "version");
        if (v) {
            free(m->t[ti].version);
            m->t[ti].version = v;
        }
        char *e = dup_field(L, -1, "error");
        if (e && strstr(e, "died")) {
            m->t[ti].crashes++;
        } else if (e) {
            /* the target never started: no verdict in this report is about it */
            *err = pc_printf("%s", e);
            free(e);
            lua_close(L);
            return -1;
        }
        free(e);
    }
    lua_pop(L, 1);
    lua_getfield(L, top, "cases");
    if (!lua_istable(L, -1)) {
        *err = pc_printf("report %s has no cases", path);
        lua_close(L);
        return -1;
    }
    int cases = lua_gettop(L);
    lua_Integer n = luaL_len(L, cases);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, cases, i);
        int ci = lua_gettop(L);
        char *id = dup_field(L, ci, "id");
        if (!id) {
            lua_pop(L, 1);
            continue;
        }
        mx_case *c = find_case(m, id, true);
        bool first = first_id && strcmp(first_id, id) == 0;
        free(id);
        if (!c->title) {
            c->title = dup_field(L, ci, "title");
            c->level = dup_field(L, ci, "level");
            lua_getfield(L, ci, "refs");
            pc_sbuf refs = {0};
            if (lua_istable(L, -1)) {
                lua_Integer nr = luaL_len(L, -1);
                for (lua_Integer k = 1; k <= nr; k++) {
                    lua_geti(L, -1, k);
                    if (lua_isstring(L, -1)) {
                        if (k == 1)
                            c->first_ref = pc_strdup(lua_tostring(L, -1));
                        pc_sbuf_printf(&refs, "%s%s", refs.len ? ", " : "", lua_tostring(L, -1));
                    }
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
            c->refs = pc_strdup(pc_sbuf_cstr(&refs));
            pc_sbuf_free(&refs);
        }
        mx_result *r = &c->res[ti];
        free_result(r);
        r->verdict = dup_field(L, ci, "verdict");
        r->reason = dup_field(L, ci, "reason");
        if (!r->reason)
            r->reason = dup_field(L, ci, "error");
        r->rounds = round;
        r->first_in_run = first;
        lua_getfield(L, ci, "checks");
        if (lua_istable(L, -1)) {
            lua_Integer nc = luaL_len(L, -1);
            for (lua_Integer k = 1; k <= nc; k++) {
                lua_geti(L, -1, k);
                lua_getfield(L, -1, "ok");
                bool ok = lua_toboolean(L, -1);
                lua_pop(L, 1);
                if (!ok) {
                    r->failed.message = dup_field(L, -1, "message");
                    r->failed.expected = dup_field(L, -1, "expected");
                    r->failed.actual = dup_field(L, -1, "actual");
                    lua_pop(L, 1);
                    break;
                }
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 2);
    }
    lua_close(L);
    return 0;
}

/* One child `ppconform run ...` with its output in log. */
typedef struct mx_child {
    pid_t pid;
    char *json, *log, *err;
    int code;                       /* exit code, or -1 (err says why) */
} mx_child;

static void spawn_child(matrix *m, pc_strv *args, mx_child *ch)
{
    char **argv = pc_xcalloc(args->count + 1, sizeof *argv);
    for (size_t i = 0; i < args->count; i++)
        argv[i] = args->items[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, ch->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&ch->pid, m->self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(argv);
    if (rc != 0) {
        ch->pid = 0;
        ch->code = -1;
        ch->err = pc_printf("cannot start %s: %s", m->self, strerror(rc));
    }
}

/* Wait for every child, each bounded: a run that hangs gets SIGTERM (the runner then stops
 * its target), SIGKILL 15 s later. */
static void wait_children(mx_child *ch, size_t n)
{
    size_t left = 0;
    for (size_t i = 0; i < n; i++)
        left += ch[i].pid > 0;
    for (int waited_ms = 0; left > 0; waited_ms += 50) {
        for (size_t i = 0; i < n; i++) {
            if (ch[i].pid <= 0)
                continue;
            int status = 0;
            pid_t r = waitpid(ch[i].pid, &status, WNOHANG);
            if (r == 0) {
                if (waited_ms == RUN_DEADLINE_S * 1000)
                    kill(ch[i].pid, SIGTERM);
                else if (waited_ms == RUN_DEADLINE_S * 1000 + 15000)
                    kill(ch[i].pid, SIGKILL);
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            ch[i].pid = 0;
            left--;
            if (r < 0) {
                ch[i].code = -1;
                ch[i].err = pc_printf("waitpid: %s", strerror(errno));
            } else if (WIFEXITED(status)) {
                ch[i].code = WEXITSTATUS(status);
            } else {
                ch[i].code = -1;
                ch[i].err = pc_printf("the run ended by signal %d%s", WTERMSIG(status),
                                      waited_ms >= RUN_DEADLINE_S * 1000 ? " (it did not end within its deadline)" : "");
            }
        }
        if (left > 0) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

static void push_run_args(matrix *m, const mx_target *T, pc_strv *args, const char *json, const char *jobs)
{
    pc_strv_push(args, "ppconform");
    pc_strv_push(args, "run");
    pc_strv_push(args, "--profile");
    pc_strv_push(args, T->profile);
    pc_strv_push(args, "--json");
    pc_strv_push(args, json);
    pc_strv_push(args, "--color");
    pc_strv_push(args, "never");
    pc_strv_push(args, "-j");
    pc_strv_push(args, jobs);
    for (size_t i = 0; i < m->extra.count; i++)
        pc_strv_push(args, m->extra.items[i]);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One re-run slot: a child `ppconform run -j 1` on its own fresh target, and its cases. */
typedef struct mx_slot {
    mx_child ch;
    pc_strv ids;
    uint64_t started;
    int seq;
    bool busy;
} mx_slot;

/* Wait until the child of one busy slot ends; returns its index. Each is bounded like
 * wait_children: SIGTERM at its deadline, SIGKILL 15 s later. */
static size_t wait_any(mx_slot *s, size_t n)
{
    for (;;) {
        uint64_t now = now_ms();
        for (size_t i = 0; i < n; i++) {
            mx_child *ch = &s[i].ch;
            uint64_t waited = now - s[i].started;
            if (!s[i].busy || ch->pid <= 0)
                continue;
            int status = 0;
            pid_t r = waitpid(ch->pid, &status, WNOHANG);
            if (r == 0 || (r < 0 && errno == EINTR)) {
                if (waited >= RUN_DEADLINE_S * 1000u + 15000u)
                    kill(ch->pid, SIGKILL);
                else if (waited >= RUN_DEADLINE_S * 1000u)
                    kill(ch->pid, SIGTERM);
                continue;
            }
            ch->pid = 0;
            if (r < 0) {
                ch->code = -1;
                ch->err = pc_printf("waitpid: %s", strerror(errno));
            } else if (WIFEXITED(status)) {
                ch->code = WEXITSTATUS(status);
            } else {
                ch->code = -1;
                ch->err = pc_printf("the run ended by signal %d%s", WTERMSIG(status),
                                    waited >= RUN_DEADLINE_S * 1000u ? " (it did not end within its deadline)" : "");
            }
            return i;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Read a finished child's report into column ti (round: which run it was; first_id: the
 * case it ran first, on a fresh target). A run that failed marks the target failed. */
static void finish_child(matrix *m, size_t ti, mx_child *ch, int round, const char *first_id)
{
    mx_target *T = &m->t[ti];
    T->runs++;
    char *err = ch->err;
    ch->err = NULL;
    if (!err && (ch->code == 0 || ch->code == 1 || ch->code == 3))
        load_report(m, ti, ch->json, round, first_id, &err);
    else if (!err)
        err = pc_printf("ppconform run exited %d (see %s)", ch->code, ch->log);
    if (err && T->ok) {
        /* the run itself failed: name it, with the end of its log */
        size_t n;
        char *text = read_text(ch->log, &n);
        T->error = pc_printf("%s%s%s", err, text ? "\n" : "", text ? text + (n > 1500 ? n - 1500 : 0) : "");
        free(text);
        T->ok = false;
    }
    free(err);
    free(ch->json);
    free(ch->log);
    ch->json = ch->log = NULL;
}

static bool held_by_a_run(const mx_slot *s, size_t n, const char *id)
{
    for (size_t k = 0; k < n; k++)
        if (s[k].busy && pc_strv_contains(&s[k].ids, id))
            return true;
    return false;
}

/* The crash re-runs: a pool of up to `width` one-at-a-time runs, each on a fresh target and
 * each given a share of the cases left (catalog order) that no other run holds. A run ends at
 * its first crash; the cases it could not answer go back to the queue as soon as it ends,
 * so no run waits for a slower one. The case a run starts with owns its verdict, ERROR
 * included (target_down): every run settles at least that one, so the pool always ends. */
static void rerun_pool(matrix *m, size_t ti, int width)
{
    mx_target *T = &m->t[ti];
    mx_slot s[8];
    memset(s, 0, sizeof s);
    size_t running = 0;
    int seq = 0;
    for (;;) {
        pc_strv queue = {0};
        if (T->ok)
            for (size_t i = 0; i < m->ncases; i++)
                if (target_down(&m->cases[i].res[ti], false) && !held_by_a_run(s, (size_t)width, m->cases[i].id))
                    pc_strv_push(&queue, m->cases[i].id);
        size_t idle = (size_t)width - running, pos = 0;
        size_t share = idle ? (queue.count + idle - 1) / idle : 0;
        for (int k = 0; k < width && pos < queue.count && T->ok; k++) {
            if (s[k].busy)
                continue;
            if (seq >= MAX_RERUNS) {
                T->error = pc_printf("%zu cases still had no verdict after %d crash re-runs", queue.count, MAX_RERUNS);
                T->ok = false;
                break;
            }
            mx_slot *x = &s[k];
            memset(&x->ch, 0, sizeof x->ch);
            x->seq = ++seq;
            x->ch.json = pc_printf("%s/%s.r%d.json", m->workdir, T->name, x->seq);
            x->ch.log = pc_printf("%s/%s.r%d.log", m->workdir, T->name, x->seq);
            pc_strv args = {0};
            push_run_args(m, T, &args, x->ch.json, "1");
            size_t to = pos + share < queue.count ? pos + share : queue.count;
            for (; pos < to; pos++) {
                pc_strv_push(&args, queue.items[pos]);
                pc_strv_push(&x->ids, queue.items[pos]);
            }
            fprintf(stderr, "matrix: %s: re-run %d after a crash: %zu cases from %s (%zu waiting, %zu other runs busy)\n",
                    T->name, x->seq, x->ids.count, x->ids.items[0], queue.count - pos, running);
            spawn_child(m, &args, &x->ch);
            pc_strv_free(&args);
            if (x->ch.pid <= 0) { /* it did not start: the target fails, with the reason */
                finish_child(m, ti, &x->ch, x->seq, x->ids.items[0]);
                pc_strv_free(&x->ids);
                continue;
            }
            x->started = now_ms();
            x->busy = true;
            running++;
        }
        pc_strv_free(&queue);
        if (running == 0)
            break;
        size_t k = wait_any(s, (size_t)width);
        finish_child(m, ti, &s[k].ch, s[k].seq, s[k].ids.items[0]);
        pc_strv_free(&s[k].ids);
        s[k].busy = false;
        running--;
    }
}

/* All runs for target ti: the suite (-j jobs), then the crash re-runs (rerun_pool) until
 * every case has a verdict of its own. */
static void run_target(matrix *m, size_t ti)
{
    mx_target *T = &m->t[ti];
    T->ok = true;
    int width = atoi(m->jobs);
    if (width < 1)
        width = 1;
    if (width > 8)
        width = 8;
    fprintf(stderr, "matrix: %s: run 1\n", T->name);
    mx_child ch;
    memset(&ch, 0, sizeof ch);
    ch.json = pc_printf("%s/%s.r0.json", m->workdir, T->name);
    ch.log = pc_printf("%s/%s.r0.log", m->workdir, T->name);
    pc_strv args = {0};
    push_run_args(m, T, &args, ch.json, m->jobs);
    for (size_t i = 0; i < m->selectors.count; i++)
        pc_strv_push(&args, m->selectors.items[i]);
    spawn_child(m, &args, &ch);
    pc_strv_free(&args);
    wait_children(&ch, 1);
    finish_child(m, ti, &ch, 0, NULL);
    if (T->ok)
        rerun_pool(m, ti, width);
}

static int case_cmp(const void *a, const void *b)
{
    const mx_case *x = a, *y = b;
    int r = strcmp(x->first_ref ? x->first_ref : "~", y->first_ref ? y->first_ref : "~");
    return r ? r : strcmp(x->id, y->id);
}

static int write_out(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) == EOF) {
        fprintf(stderr, "ppconform matrix: cannot write %s: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* The runner to start: this program when it is ppconform, else ppconform next to it. */
static char *find_runner(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash && strcmp(slash + 1, "ppconform") == 0)
        return pc_strdup(self);
    if (slash)
        *slash = '\0';
    return pc_printf("%s/ppconform", self);
}

/* Remove the temporary work directory: only the reports and logs we wrote, then the dir. */
static void rm_workdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        bool ours = (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) || (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0);
        if (!ours)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int pc_matrix_main(int argc, char **argv)
{
    matrix m = {0};
    m.jobs = "4";
    const char *targets = NULL, *md = NULL, *html = NULL, *workdir = NULL, *runner = NULL, *senders = NULL;
    int i = 0;
    if (argc > 0 && strcmp(argv[0], "matrix") == 0)
        i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--") == 0) {
            for (i++; i < argc; i++)
                pc_strv_push(&m.extra, argv[i]);
            break;
        } else if (v && strcmp(a, "--targets") == 0) {
            targets = v, i++;
        } else if (v && strcmp(a, "--md") == 0) {
            md = v, i++;
        } else if (v && strcmp(a, "--html") == 0) {
            html = v, i++;
        } else if (v && strcmp(a, "--senders") == 0) {
            senders = v, i++;
        } else if (v && strcmp(a, "--workdir") == 0) {
            workdir = v, i++;
        } else if (v && strcmp(a, "--ppconform") == 0) {
            runner = v, i++;
        } else if (v && (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0)) {
            m.jobs = v, i++;
        } else if (a[0] != '-') {
            pc_strv_push(&m.selectors, a);
        } else {
            fprintf(stderr, "ppconform matrix: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            pc_strv_free(&m.extra);
            return 2;
        }
    }
    if (!targets || !*targets) {
        fprintf(stderr, "ppconform matrix: --targets is required\n");
        usage(stderr);
        pc_strv_free(&m.extra);
        return 2;
    }
    if (senders) {
        /* read it before the runs: a bad record is a usage error, found in a second */
        char *err = NULL;
        m.senders = mx_senders_load(senders, &err);
        if (!m.senders) {
            fprintf(stderr, "ppconform matrix: --senders: %s\n", err);
            free(err);
            pc_strv_free(&m.extra);
            return 2;
        }
    }
    char *list = pc_strdup(targets);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (m.ntargets == MAX_TARGETS) {
            fprintf(stderr, "ppconform matrix: at most %d targets\n", MAX_TARGETS);
            free(list);
            return 2;
        }
        mx_target *T = &m.t[m.ntargets++];
        T->profile = pc_strdup(tok);
        /* a column name: the profile's base name without .lua */
        const char *base = strrchr(tok, '/') ? strrchr(tok, '/') + 1 : tok;
        size_t n = strlen(base);
        T->name = n > 4 && strcmp(base + n - 4, ".lua") == 0 ? pc_strndup(base, n - 4) : pc_strdup(base);
    }
    free(list);
    char *self = runner ? pc_strdup(runner) : find_runner();
    m.self = self;
    char tmp[PATH_MAX] = "";
    if (!workdir) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/ppconform-matrix-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp)) {
            fprintf(stderr, "ppconform matrix: mkdtemp %s: %s\n", tmp, strerror(errno));
            return 2;
        }
        workdir = tmp;
    } else if (mkdir(workdir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "ppconform matrix: mkdir %s: %s\n", workdir, strerror(errno));
        return 2;
    }
    m.workdir = workdir;
    /* The runs' temporary files, a dead target's kept directory included (Aedes dies on
     * purpose, ~150 times a matrix), go under the work directory: removed with it, or kept
     * beside the reports when --workdir names it. */
    char *child_tmp = pc_printf("%s/tmp", workdir);
    if ((mkdir(child_tmp, 0755) < 0 && errno != EEXIST) || setenv("TMPDIR", child_tmp, 1) < 0) {
        fprintf(stderr, "ppconform matrix: %s: %s\n", child_tmp, strerror(errno));
        free(child_tmp);
        if (tmp[0])
            rm_workdir(tmp);
        return 2;
    }

    for (size_t ti = 0; ti < m.ntargets; ti++)
        run_target(&m, ti);
    qsort(m.cases, m.ncases, sizeof *m.cases, case_cmp);

    int rc = 0;
    if (md) {
        char *text = mx_render_md(&m);
        if (write_out(md, text) < 0)
            rc = 2;
        free(text);
    }
    if (html) {
        char *text = mx_render_html(&m);
        if (write_out(html, text) < 0)
            rc = 2;
        free(text);
    }
    for (size_t ti = 0; ti < m.ntargets; ti++) {
        mx_target *T = &m.t[ti];
        fprintf(stderr, "matrix: %-18s %s, %d run%s; PASS %zu FAIL %zu WARN %zu SKIP %zu ERROR %zu\n", T->name,
                T->ok ? "completed" : "FAILED", T->runs, T->runs == 1 ? "" : "s", mx_count_verdict(&m, ti, "PASS"),
                mx_count_verdict(&m, ti, "FAIL"), mx_count_verdict(&m, ti, "WARN"), mx_count_verdict(&m, ti, "SKIP"),
                mx_count_verdict(&m, ti, "ERROR"));
        if (!T->ok) {
            fprintf(stderr, "matrix: %s: %s\n", T->name, T->error ? T->error : "run failed");
            if (rc == 0)
                rc = 3;
        }
    }
    if (tmp[0]) {
        pc_rmtree(child_tmp);
        rm_workdir(tmp);
    }
    free(child_tmp);
    for (size_t c = 0; c < m.ncases; c++) {
        free(m.cases[c].id);
        free(m.cases[c].title);
        free(m.cases[c].level);
        free(m.cases[c].first_ref);
        free(m.cases[c].refs);
        for (size_t ti = 0; ti < m.ntargets; ti++)
            free_result(&m.cases[c].res[ti]);
    }
    free(m.cases);
    for (size_t ti = 0; ti < m.ntargets; ti++) {
        free(m.t[ti].name);
        free(m.t[ti].profile);
        free(m.t[ti].version);
        free(m.t[ti].error);
    }
    pc_strv_free(&m.extra);
    pc_strv_free(&m.selectors);
    mx_senders_free(m.senders);
    free(self);
    return rc;
}
