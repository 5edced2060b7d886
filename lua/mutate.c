/* `ppconform mutate`: run the selected cases against ppbroker once clean and once per
 * quirk (a deliberate defect). A quirk is caught when some case that passed on the clean
 * broker fails (FAIL, WARN or ERROR) with the quirk on. Proves the suite can fail; the
 * report lists which cases catch which quirk. Exit 0 when every quirk is caught, 1 when
 * one survives, 2 usage/load, 3 when the clean run itself does not pass or cannot start.
 * Each run's target files (its log among them) live in a directory of ours; they are kept,
 * and the log's path and last lines printed, when that target died or did not start. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "json.h"
#include "model.h"
#include "pc_select.h"
#include "runner.h"
#include "report.h"
#include "state.h"

#ifndef PPC_SOURCE_DIR
#define PPC_SOURCE_DIR "."
#endif

static bool failed(pc_verdict v)
{
    return v == PC_FAIL || v == PC_WARN || v == PC_ERROR;
}

/* The profile's quirk list (P.quirks). */
static void profile_quirks(pc_state *st, const char *profile, pc_strv *out)
{
    char err[512];
    if (pc_state_load_target(st, profile, err, sizeof err) < 0)
        return;
    lua_State *L = st->L;
    lua_getfield(L, -1, "quirks");
    if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            if (lua_isstring(L, -1))
                pc_strv_push(out, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 2);
}

/* ---- the targets' files: kept when a target dies -------------------------------------------
 * Profiles make their directory with host.tmpdir (under $TMPDIR) and remove it at the end
 * unless --keep; a target that exits 1 (an ASan report, a fatal error) is no crash to them,
 * so its log went with it. Each run here gets --keep and its own $TMPDIR below `root`. */
typedef struct keep_area {
    char root[PATH_MAX - 64], run[PATH_MAX];
    char *saved_tmpdir; /* $TMPDIR before a run (NULL: unset) */
} keep_area;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void keep_area_open(keep_area *k)
{
    const char *base = getenv("TMPDIR");
    snprintf(k->root, sizeof k->root, "%s/ppconform-mutate-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(k->root)) {
        fprintf(stderr, "ppconform mutate: mkdtemp %s: %s (a dead target's log will not be kept)\n", k->root,
                strerror(errno));
        k->root[0] = '\0';
    }
}

/* Before a run: its own directory becomes $TMPDIR, and the target keeps its files. */
static void keep_area_enter(keep_area *k, pc_runner_opts *o, const char *tag)
{
    k->run[0] = '\0';
    if (!k->root[0])
        return;
    char safe[64];
    size_t n = 0;
    for (const char *p = tag; *p && n + 1 < sizeof safe; p++)
        safe[n++] = (*p == '/' || *p == '.') ? '_' : *p;
    safe[n] = '\0';
    snprintf(k->run, sizeof k->run, "%s/%s", k->root, safe);
    if (mkdir(k->run, 0700) < 0 && errno != EEXIST) {
        k->run[0] = '\0';
        return;
    }
    const char *cur = getenv("TMPDIR");
    k->saved_tmpdir = cur ? pc_strdup(cur) : NULL;
    setenv("TMPDIR", k->run, 1);
    o->keep = true;
}

/* The last lines of a log (at most its last 2 KiB), each prefixed, to stderr. */
static void print_tail(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    char buf[2048 + 1];
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    long from = size > 2048 ? size - 2048 : 0;
    size_t n = 0;
    if (size > 0 && fseek(f, from, SEEK_SET) == 0)
        n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *line = buf;
    if (from > 0) { /* start at a whole line */
        char *nl = strchr(buf, '\n');
        line = nl ? nl + 1 : buf;
    }
    for (char *save = NULL, *l = strtok_r(line, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        fprintf(stderr, "  | %s\n", l);
}

/* The *.log files one level down (each profile's own directory), printed with their tails. */
static int show_logs(const char *run)
{
    int found = 0;
    DIR *d = opendir(run);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", run, e->d_name);
        DIR *sd = opendir(sub);
        if (!sd)
            continue;
        for (struct dirent *f; (f = readdir(sd));) {
            size_t len = strlen(f->d_name);
            if (len < 5 || strcmp(f->d_name + len - 4, ".log") != 0)
                continue;
            char path[PATH_MAX + 256];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            fprintf(stderr, "ppconform mutate: the target's log is kept: %s; it ends:\n", path);
            print_tail(path);
            found++;
        }
        closedir(sd);
    }
    closedir(d);
    return found;
}

/* After a run: a dead target's files stay (and its log is shown), anything else goes. */
static void keep_area_leave(keep_area *k, bool target_died)
{
    if (!k->run[0])
        return;
    if (k->saved_tmpdir)
        setenv("TMPDIR", k->saved_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    free(k->saved_tmpdir);
    k->saved_tmpdir = NULL;
    if (target_died) {
        if (!show_logs(k->run))
            fprintf(stderr, "ppconform mutate: the target's files are kept in %s (no *.log there)\n", k->run);
    } else
        nftw(k->run, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    k->run[0] = '\0';
}

static void keep_area_close(keep_area *k)
{
    if (k->root[0])
        rmdir(k->root); /* fails, as it should, when a run's files were kept */
}

/* One run of the cases; *died: the target died, crashed or did not start. */
static int run_once(pc_state *st, pc_catalog *cat, size_t *idx, size_t n, pc_runner_opts *o, const char *quirk,
                    pc_result *res, char **err, keep_area *k)
{
    pc_strv_free(&o->quirks);
    if (quirk)
        pc_strv_push(&o->quirks, quirk);
    keep_area_enter(k, o, quirk ? quirk : "clean");
    pc_target_info info = {0};
    int rc = pc_runner_run(st, cat, idx, n, o, res, &info);
    bool died = rc < 0 || info.error || info.crashed;
    if (rc < 0 || (info.error && !quirk)) {
        *err = pc_strdup(info.error ? info.error : "the target did not start");
        rc = -1;
    }
    if (died && quirk)
        fprintf(stderr, "ppconform mutate: with quirk %s %s\n", quirk, info.error ? info.error : "the target died");
    else if (died)
        fprintf(stderr, "ppconform mutate: %s\n", *err);
    keep_area_leave(k, died);
    pc_target_info_free(&info);
    return rc;
}

int pc_cmd_mutate(int argc, char **argv)
{
    pc_runner_opts o;
    memset(&o, 0, sizeof o);
    o.jobs = 8;
    o.repeat = 1;
    o.timeout_scale = 1.0;
    o.seed = 1;
    pc_strv quirks = {0}, sels = {0}, scen = {0};
    const char *json = NULL, *profile = "ppbroker";
    int rc = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quirk") == 0 && v) { pc_strv_push(&quirks, v); i++; }
        else if (strcmp(a, "--scenarios") == 0 && v) { pc_strv_push(&scen, v); i++; }
        else if (strcmp(a, "--json") == 0 && v) { json = v; i++; }
        else if (strcmp(a, "--broker") == 0 && v) { o.broker = v; i++; }
        else if (strcmp(a, "--profile") == 0 && v) { profile = v; o.profile = v; i++; }
        else if ((strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) && v) { o.jobs = atoi(v) > 0 ? atoi(v) : 1; i++; }
        else if (strcmp(a, "--timeout-scale") == 0 && v) { o.timeout_scale = atof(v) > 0 ? atof(v) : 1.0; i++; }
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            printf("Usage: ppconform mutate [--quirk NAME]... [--scenarios PATH] [--json FILE] [-j N] [SELECTOR...]\n"
                   "Runs the cases against ppbroker clean, then once per quirk (default: every quirk the\n"
                   "profile lists) and reports which cases catch which quirk.\n"
                   "Exit: 0 every quirk caught, 1 a quirk survived, 2 usage/load error, 3 the clean run\n"
                   "failed or the target did not start.\n");
            goto out;
        } else if (a[0] == '-') {
            fprintf(stderr, "ppconform mutate: unknown option %s\n", a);
            rc = 2;
            goto out;
        } else {
            char err[256];
            if (!pc_selector_valid(a, err, sizeof err)) {
                fprintf(stderr, "ppconform mutate: %s\n", err);
                rc = 2;
                goto out;
            }
            pc_strv_push(&sels, a);
        }
    }
    char err[2048];
    pc_state *st = pc_state_new(err, sizeof err);
    if (!st) {
        fprintf(stderr, "ppconform: %s\n", err);
        rc = 3;
        goto out;
    }
    if (scen.count == 0) {
        const char *e = getenv("PPCONFORM_SCENARIOS");
        pc_strv_push(&scen, e && *e ? e : access(PPC_SOURCE_DIR "/scenarios", R_OK) == 0 ? PPC_SOURCE_DIR "/scenarios" : "scenarios");
    }
    pc_catalog cat = {0};
    if (pc_state_load(st, (const char *const *)scen.items, scen.count, &cat, err, sizeof err) < 0) {
        fprintf(stderr, "ppconform: cannot load scenarios: %s\n", err);
        rc = 2;
        goto free_state;
    }
    if (quirks.count == 0)
        profile_quirks(st, profile, &quirks);
    if (quirks.count == 0) {
        fprintf(stderr, "ppconform mutate: no quirks (give --quirk NAME or a profile with P.quirks)\n");
        rc = 2;
        goto free_state;
    }
    size_t *idx = pc_xcalloc(cat.count ? cat.count : 1, sizeof *idx), n = 0;
    for (size_t i = 0; i < cat.count; i++)
        if (pc_select((const char *const *)sels.items, sels.count, &cat.cases[i]))
            idx[n++] = i;
    if (n == 0) {
        fprintf(stderr, "ppconform mutate: no case matches the selectors\n");
        free(idx);
        rc = 4;
        goto free_state;
    }
    pc_result *base = pc_xcalloc(n, sizeof *base), *res = pc_xcalloc(n, sizeof *res);
    char *why = NULL;
    keep_area keep = {0};
    keep_area_open(&keep);
    fprintf(stderr, "clean run: %zu cases\n", n);
    if (run_once(st, &cat, idx, n, &o, NULL, base, &why, &keep) < 0)
        rc = 3;
    size_t baseline_failures = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (failed(base[i].verdict)) {
            baseline_failures++;
            printf("clean run: %s is %s (it cannot catch anything)\n", base[i].c->id, pc_verdict_name(base[i].verdict));
        }
    pc_sbuf js = {0};
    pc_sbuf_printf(&js, "{\"cases\":%zu,\"baseline_failures\":%zu,\"quirks\":[", n, baseline_failures);
    size_t caught = 0;
    for (size_t q = 0; q < quirks.count && rc == 0; q++) {
        fprintf(stderr, "quirk %s ...\n", quirks.items[q]);
        free(why);
        why = NULL;
        pc_strv by = {0};
        if (run_once(st, &cat, idx, n, &o, quirks.items[q], res, &why, &keep) < 0) {
            printf("quirk %-34s could not run: %s\n", quirks.items[q], why);
            rc = 3;
        } else {
            for (size_t i = 0; i < n; i++)
                if (failed(res[i].verdict) && !failed(base[i].verdict))
                    pc_strv_push(&by, res[i].c->id);
            char *list = pc_strv_join(&by, ", ");
            if (by.count)
                printf("quirk %-34s caught by %zu case%s: %s\n", quirks.items[q], by.count, by.count == 1 ? "" : "s", list);
            else
                printf("quirk %-34s SURVIVED: no case failed\n", quirks.items[q]);
            free(list);
            caught += by.count > 0;
        }
        pc_sbuf_printf(&js, "%s{\"quirk\":", q ? "," : "");
        pc_json_str(&js, quirks.items[q]);
        pc_sbuf_puts(&js, ",\"caught_by\":[");
        for (size_t k = 0; k < by.count; k++) {
            pc_sbuf_puts(&js, k ? "," : "");
            pc_json_str(&js, by.items[k]);
        }
        pc_sbuf_puts(&js, "]}");
        pc_strv_free(&by);
        for (size_t i = 0; i < n; i++)
            pc_result_free(&res[i]);
    }
    pc_sbuf_printf(&js, "],\"caught\":%zu,\"total\":%zu}\n", caught, quirks.count);
    if (rc == 0) {
        printf("%zu of %zu quirks caught\n", caught, quirks.count);
        if (baseline_failures)
            rc = 3;
        else if (caught < quirks.count)
            rc = 1;
    }
    keep_area_close(&keep);
    if (json && pc_report_write_file(json, &js) < 0)
        fprintf(stderr, "ppconform mutate: cannot write %s\n", json);
    pc_sbuf_free(&js);
    free(why);
    for (size_t i = 0; i < n; i++)
        pc_result_free(&base[i]);
    free(base);
    free(res);
    free(idx);
free_state:
    for (size_t i = 0; i < cat.count; i++)
        cat.cases[i].lua_ref = -2;
    pc_state_free(st);
    pc_catalog_free(&cat);
out:
    pc_strv_free(&quirks);
    pc_strv_free(&sels);
    pc_strv_free(&scen);
    pc_strv_free(&o.quirks);
    return rc;
}
