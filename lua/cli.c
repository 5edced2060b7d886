/* Command-line front end (see cli.h and `ppconform --help`). */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "model.h"
#include "report.h"
#include "runner.h"
#include "pc_select.h"
#include "state.h"

#ifndef PPC_VERSION
#define PPC_VERSION "0.1.0"
#endif
#ifndef PPC_SOURCE_DIR
#define PPC_SOURCE_DIR "."
#endif

static const char USAGE[] =
    "Usage: ppconform [run] [OPTIONS] [SELECTOR...]\n"
    "       ppconform run --list [--json] [SELECTOR...]\n"
    "       ppconform coverage [--requirements FILE] [--scenarios DIR] [--json]\n"
    "       ppconform decode HEX|FILE\n"
    "       ppconform mutate [--quirk NAME]... [SELECTOR...]   (each ppbroker quirk must be caught)\n"
    "       ppconform matrix --targets A,B,... [--md FILE] [--html FILE] [--senders FILE] [SELECTOR...]\n"
    "\n"
    "Runs PROXY-protocol conformance scenarios (Lua) against an MQTT broker or a proxy chain.\n"
    "With no target it starts ppbroker (next to this program) and runs every scenario.\n"
    "\n"
    "Selectors (a leading '!' excludes):\n"
    "  DET-001, 'DET-*'     case ids (globs)      ref:R-V2-*   cited requirement ids\n"
    "  tag:NAME             tags                  suite:ID     suites\n"
    "  MUST, level:SHOULD   levels                file:GLOB    scenario files\n"
    "\n"
    "Target:\n"
    "  --target HOST:PORT   test any system there (it is the \"pp\" listener; no oracle)\n"
    "  --profile FILE       a target profile (Lua) instead of ppbroker\n"
    "  --listener NAME=HOST:PORT   another listener of --target (plain=..., pp2=...)\n"
    "  --capability NAME[=V] / --no-capability NAME   adjust what the target claims\n"
    "  --broker PATH        the ppbroker binary;  --quirk NAME  start ppbroker with a defect\n"
    "  --keep-target        keep ppbroker's temporary directory (config, log)\n"
    "\n"
    "Running:\n"
    "  --scenarios PATH     scenario directory or file (repeatable; default: the source tree's)\n"
    "  -j, --jobs N         cases in parallel (default 8)\n"
    "  --repeat N           run each case N times (the worst verdict counts; disagreement is shown)\n"
    "  --timeout-scale F    multiply every deadline and timeout by F\n"
    "  --seed N             seed for the cases' random choices (printed with every failure)\n"
    "  --budget N           Lua instructions per case before it is stopped (default 500000000)\n"
    "  --set KEY=VALUE      a scenario parameter (t:opt(KEY) in the scenario)\n"
    "  --known-failures FILE  lines \"ID-GLOB reason\": failures become XFAIL, passes XPASS\n"
    "  --fail-on must|should|any   which verdicts fail the run (default must)\n"
    "\n"
    "Output:\n"
    "  --list [--json|--markdown]  list the selected cases; never touches the network\n"
    "  --json FILE  --junit FILE  --html FILE   reports ('-' = stdout for --json)\n"
    "  --evidence DIR       per failed case: transcript.txt, capture.pcap, repro.sh\n"
    "  -v, --verbose        show passing checks too;  --color auto|always|never\n"
    "  -h, --help  --version\n"
    "\n"
    "Verdicts: PASS, FAIL (a MUST/PROFILE check failed), WARN (SHOULD), INFO (MAY/INFO,\n"
    "recorded only), SKIP (the target lacks a capability), XFAIL/XPASS (known failures),\n"
    "ERROR (the harness or the target could not give a verdict).\n"
    "\n"
    "Exit status:\n"
    "  0  every selected case met the --fail-on gate\n"
    "  1  conformance failures (FAIL; WARN with --fail-on should; XPASS with --fail-on any)\n"
    "  2  usage error, or a scenario or profile failed to load\n"
    "  3  target or harness error (the target did not start or crashed, a case ended in ERROR)\n"
    "  4  the selectors matched no case\n"
    "  When several apply: 2, then 4, then 3, then 1.\n";

/* `ppconform matrix` lives in matrix.c (the interop engineer's); bound weakly so the
 * runner builds with or without it. */
int pc_matrix_main(int argc, char **argv) __attribute__((weak));

static volatile int interrupted;
static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static const char *default_scenarios(void)
{
    const char *e = getenv("PPCONFORM_SCENARIOS");
    if (e && *e)
        return e;
    if (access(PPC_SOURCE_DIR "/scenarios", R_OK) == 0)
        return PPC_SOURCE_DIR "/scenarios";
    return "scenarios";
}

static void now_rfc3339(char *buf, size_t cap)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ppconform: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'ppconform --help'.\n");
    return PC_EXIT_USAGE;
}

static bool parse_uint(const char *s, unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

typedef struct run_args {
    pc_runner_opts o;
    pc_strv selectors, scenarios;
    bool list, list_json, list_md, verbose;
    const char *json, *junit, *html, *evidence, *known_file;
    int color; /* -1 auto */
    int gate;
    pc_sbuf repro;
} run_args;

static void free_args(run_args *a)
{
    pc_strv_free(&a->selectors);
    pc_strv_free(&a->scenarios);
    pc_strv_free(&a->o.listeners);
    pc_strv_free(&a->o.quirks);
    pc_strv_free(&a->o.caps_add);
    pc_strv_free(&a->o.caps_del);
    pc_strv_free(&a->o.sets);
    pc_sbuf_free(&a->repro);
}

/* Fill a from the command line: -1 when fine, else the exit code (a usage error). */
static int parse_run_args(int argc, char **argv, run_args *ap)
{
    run_args a = *ap;
#define FAIL_USAGE(fmt, x)                                          \
    do {                                                            \
        *ap = a;                                                    \
        return usage_error(fmt, x);                                 \
    } while (0)
    a.o.jobs = 8;
    a.o.repeat = 1;
    a.o.timeout_scale = 1.0;
    a.o.seed = (unsigned long long)time(NULL) % 100000;
    a.color = -1;
    a.gate = PC_GATE_MUST;
    bool seed_given = false;
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--list") == 0)
            a.list = true;
    pc_sbuf_puts(&a.repro, "ppconform run");
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL()                                                  \
    do {                                                            \
        if (!val)                                                   \
            FAIL_USAGE("%s needs a value", arg);                    \
        i++;                                                        \
    } while (0)
        unsigned long long u;
        if (strcmp(arg, "--list") == 0)
            continue;
        else if (strcmp(arg, "--json") == 0 && a.list)
            a.list_json = true;
        else if (strcmp(arg, "--markdown") == 0 && a.list)
            a.list_md = true;
        else if (strcmp(arg, "--json") == 0) { NEED_VAL(); a.json = val; }
        else if (strcmp(arg, "--junit") == 0) { NEED_VAL(); a.junit = val; }
        else if (strcmp(arg, "--html") == 0) { NEED_VAL(); a.html = val; }
        else if (strcmp(arg, "--evidence") == 0) { NEED_VAL(); a.evidence = val; }
        else if (strcmp(arg, "--known-failures") == 0) { NEED_VAL(); a.known_file = val; }
        else if (strcmp(arg, "--scenarios") == 0) { NEED_VAL(); pc_strv_push(&a.scenarios, val);
            pc_sbuf_printf(&a.repro, " --scenarios '%s'", val); }
        else if (strcmp(arg, "--target") == 0 || strcmp(arg, "-t") == 0) { NEED_VAL(); a.o.address = val;
            pc_sbuf_printf(&a.repro, " --target %s", val); }
        else if (strcmp(arg, "--profile") == 0) { NEED_VAL(); a.o.profile = val;
            pc_sbuf_printf(&a.repro, " --profile '%s'", val); }
        else if (strcmp(arg, "--listener") == 0) { NEED_VAL();
            if (!strchr(val, '=')) FAIL_USAGE("--listener wants NAME=HOST:PORT, not '%s'", val);
            pc_strv_push(&a.o.listeners, val); pc_sbuf_printf(&a.repro, " --listener %s", val); }
        else if (strcmp(arg, "--capability") == 0) { NEED_VAL(); pc_strv_push(&a.o.caps_add, val);
            pc_sbuf_printf(&a.repro, " --capability '%s'", val); }
        else if (strcmp(arg, "--no-capability") == 0) { NEED_VAL(); pc_strv_push(&a.o.caps_del, val);
            pc_sbuf_printf(&a.repro, " --no-capability '%s'", val); }
        else if (strcmp(arg, "--set") == 0) { NEED_VAL();
            if (!strchr(val, '=')) FAIL_USAGE("--set wants KEY=VALUE, not '%s'", val);
            pc_strv_push(&a.o.sets, val); pc_sbuf_printf(&a.repro, " --set '%s'", val); }
        else if (strcmp(arg, "--quirk") == 0) { NEED_VAL(); pc_strv_push(&a.o.quirks, val);
            pc_sbuf_printf(&a.repro, " --quirk %s", val); }
        else if (strcmp(arg, "--broker") == 0) { NEED_VAL(); a.o.broker = val;
            pc_sbuf_printf(&a.repro, " --broker '%s'", val); }
        else if (strcmp(arg, "--keep-target") == 0) a.o.keep = true;
        else if (strcmp(arg, "-j") == 0 || strcmp(arg, "--jobs") == 0) { NEED_VAL();
            if (!parse_uint(val, &u) || u < 1 || u > 256) FAIL_USAGE("-j wants 1..256, not '%s'", val);
            a.o.jobs = (int)u; }
        else if (strcmp(arg, "--repeat") == 0) { NEED_VAL();
            if (!parse_uint(val, &u) || u < 1 || u > 10000) FAIL_USAGE("--repeat wants 1..10000, not '%s'", val);
            a.o.repeat = (int)u; }
        else if (strcmp(arg, "--budget") == 0) { NEED_VAL();
            if (!parse_uint(val, &u) || u < 1000) FAIL_USAGE("--budget wants a number >= 1000, not '%s'", val);
            a.o.budget = u; }
        else if (strcmp(arg, "--seed") == 0) { NEED_VAL();
            if (!parse_uint(val, &u)) FAIL_USAGE("--seed wants a number, not '%s'", val);
            a.o.seed = u; seed_given = true; }
        else if (strcmp(arg, "--timeout-scale") == 0) { NEED_VAL();
            char *end; double f = strtod(val, &end);
            if (*end || !(f >= 0.1 && f <= 100)) FAIL_USAGE("--timeout-scale wants 0.1..100, not '%s'", val);
            a.o.timeout_scale = f; pc_sbuf_printf(&a.repro, " --timeout-scale %s", val); }
        else if (strcmp(arg, "--fail-on") == 0) { NEED_VAL();
            a.gate = pc_gate_from_name(val);
            if (a.gate < 0) FAIL_USAGE("--fail-on wants must, should or any, not '%s'", val); }
        else if (strcmp(arg, "--color") == 0) { NEED_VAL();
            a.color = strcmp(val, "always") == 0 ? 1 : strcmp(val, "never") == 0 ? 0 : strcmp(val, "auto") == 0 ? -1 : -2;
            if (a.color == -2) FAIL_USAGE("--color wants auto, always or never, not '%s'", val); }
        else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) a.verbose = true;
        else if (arg[0] == '-' && arg[1] == '-')
            FAIL_USAGE("unknown option %s", arg);
        else if (arg[0] == '-' && arg[1] && arg[1] != '-' && strcmp(arg, "-") != 0)
            FAIL_USAGE("unknown option %s", arg);
        else {
            char err[256];
            if (!pc_selector_valid(arg, err, sizeof err))
                FAIL_USAGE("%s", err);
            pc_strv_push(&a.selectors, arg);
        }
#undef NEED_VAL
    }
    (void)seed_given;
    *ap = a;
    return -1;
#undef FAIL_USAGE
}

static int run_with_args(run_args *ap);

static int cmd_run(int argc, char **argv)
{
    run_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_run_args(argc, argv, &a);
    if (rc < 0)
        rc = run_with_args(&a);
    free_args(&a);
    return rc;
}

static int run_with_args(run_args *ap)
{
    run_args a = *ap;
    a.o.repro_prefix = pc_sbuf_cstr(&a.repro);
    if (a.color == -1)
        a.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    a.o.progress = !a.list && isatty(STDERR_FILENO);

    pc_known known = {0};
    char err[2048];
    if (a.known_file) {
        if (pc_known_load(a.known_file, &known, err, sizeof err) < 0) {
            *ap = a;
            return usage_error("%s", err);
        }
        a.o.known = &known;
    }
    pc_state *st = pc_state_new(err, sizeof err);
    if (!st) {
        fprintf(stderr, "ppconform: %s\n", err);
        pc_known_free(&known);
        *ap = a;
        return PC_EXIT_HARNESS;
    }
    if (a.scenarios.count == 0)
        pc_strv_push(&a.scenarios, default_scenarios());
    pc_catalog cat = {0};
    if (pc_state_load(st, (const char *const *)a.scenarios.items, a.scenarios.count, &cat, err, sizeof err) < 0) {
        fprintf(stderr, "ppconform: cannot load scenarios: %s\n", err);
        pc_state_free(st);
        for (size_t i = 0; i < cat.count; i++)
            cat.cases[i].lua_ref = -2;
        pc_catalog_free(&cat);
        pc_known_free(&known);
        *ap = a;
        return PC_EXIT_USAGE;
    }
    size_t *idx = pc_xcalloc(cat.count ? cat.count : 1, sizeof *idx);
    size_t n = 0;
    for (size_t i = 0; i < cat.count; i++)
        if (pc_select((const char *const *)a.selectors.items, a.selectors.count, &cat.cases[i]))
            idx[n++] = i;
    int rc = PC_EXIT_OK;
    if (n == 0) {
        fprintf(stderr, "ppconform: no case matches the selectors (%zu cases loaded)\n", cat.count);
        rc = PC_EXIT_NOTHING;
        goto out;
    }
    if (a.list) {
        if (a.list_md) {
            pc_sbuf b = {0};
            pc_catalog_markdown(&b, &cat, idx, n);
            fwrite(b.data, 1, b.len, stdout);
            pc_sbuf_free(&b);
        } else if (a.list_json) {
            pc_sbuf b = {0};
            pc_catalog_json(&b, &cat, idx, n);
            fwrite(b.data, 1, b.len, stdout);
            pc_sbuf_free(&b);
        } else
            for (size_t i = 0; i < n; i++) {
                const pc_case *c = &cat.cases[idx[i]];
                char *refs = pc_strv_join(&c->refs, ",");
                printf("%-24s %-7s %-40s %s\n", c->id, pc_level_name(c->level), c->title, refs);
                free(refs);
            }
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    char started[32];
    now_rfc3339(started, sizeof started);
    uint64_t t0 = pn_now_ms();
    pc_result *results = pc_xcalloc(n, sizeof *results);
    pc_target_info info = {0};
    a.o.interrupted = &interrupted;
    int ran = pc_runner_run(st, &cat, idx, n, &a.o, results, &info);
    pc_report_meta m = {
        .tool_version = PPC_VERSION, .target_name = info.name ? info.name : (a.o.address ? a.o.address : "ppbroker"),
        .target_version = info.version, .target_error = info.error, .seed = a.o.seed,
        .timeout_scale = a.o.timeout_scale, .duration_ms = (long long)(pn_now_ms() - t0), .started = started,
        .gate = a.gate == PC_GATE_MUST ? "must" : a.gate == PC_GATE_SHOULD ? "should" : "any",
    };
    if (ran < 0) {
        fprintf(stderr, "ppconform: %s\n", info.error ? info.error : "cannot start the target");
        for (size_t i = 0; i < n; i++) {
            results[i].verdict = PC_ERROR;
            results[i].reason = pc_strdup("not run: the target did not start");
        }
    }
    if (a.evidence)
        for (size_t i = 0; i < n; i++) {
            pc_verdict v = results[i].verdict;
            if (v == PC_FAIL || v == PC_WARN || v == PC_ERROR || v == PC_XPASS)
                if (pc_evidence_write(a.evidence, &results[i], err, sizeof err) < 0)
                    fprintf(stderr, "ppconform: evidence for %s: %s\n", results[i].c->id, err);
        }
    pc_summary s;
    pc_summarize(results, n, &s);
    rc = pc_exit_code(&s, (pc_gate)a.gate, ran < 0 || info.error != NULL);
    m.exit_code = rc;
    /* a machine report on stdout ('-') sends the human one to stderr */
    bool machine_stdout = (a.json && strcmp(a.json, "-") == 0) || (a.junit && strcmp(a.junit, "-") == 0) ||
                          (a.html && strcmp(a.html, "-") == 0);
    FILE *human = machine_stdout ? stderr : stdout;
    if (ran == 0)
        pc_report_terminal(human, results, n, &m, a.color && !machine_stdout, a.verbose);
    else {
        char *line = pc_summary_line(&s);
        fprintf(human, "%s\n", line);
        free(line);
    }
    struct { const char *path; void (*fn)(pc_sbuf *, const pc_result *, size_t, const pc_report_meta *); } outs[] = {
        {a.json, pc_report_json_buf}, {a.junit, pc_report_junit_buf}, {a.html, pc_report_html_buf},
    };
    for (size_t k = 0; k < 3; k++) {
        if (!outs[k].path)
            continue;
        pc_sbuf b = {0};
        outs[k].fn(&b, results, n, &m);
        if (pc_report_write_file(outs[k].path, &b) < 0) {
            fprintf(stderr, "ppconform: cannot write %s: %s\n", outs[k].path, strerror(errno));
            if (rc == PC_EXIT_OK || rc == PC_EXIT_FAIL)
                rc = PC_EXIT_HARNESS;
        }
        pc_sbuf_free(&b);
    }
    if (interrupted && rc != PC_EXIT_USAGE)
        rc = PC_EXIT_HARNESS;
    for (size_t i = 0; i < n; i++)
        pc_result_free(&results[i]);
    free(results);
    pc_target_info_free(&info);
out:
    free(idx);
    for (size_t i = 0; i < cat.count; i++)
        cat.cases[i].lua_ref = -2;
    pc_state_free(st);
    pc_catalog_free(&cat);
    pc_known_free(&known);
    *ap = a;
    return rc;
}

int pc_cli_main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
        fputs(USAGE, stdout);
        return PC_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("ppconform %s\n", PPC_VERSION);
        return PC_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "decode") == 0)
        return pc_cmd_decode(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "coverage") == 0)
        return pc_cmd_coverage(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "mutate") == 0)
        return pc_cmd_mutate(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "matrix") == 0) {
        if (!pc_matrix_main) {
            fprintf(stderr, "ppconform: 'matrix' is not part of this build\n");
            return PC_EXIT_USAGE;
        }
        return pc_matrix_main(argc - 1, argv + 1);
    }
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(USAGE, stdout);
            return PC_EXIT_OK;
        }
    if (argc >= 2 && argv[1][0] != '-' && !strchr(argv[1], '-') && !strchr(argv[1], ':') &&
        !strchr(argv[1], '*') && pc_level_from_name(argv[1]) < 0)
        return usage_error("unknown command '%s' (run, coverage, decode, mutate, matrix)", argv[1]);
    return cmd_run(argc - 1, argv + 1);
}
