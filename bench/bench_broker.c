/* bench_broker: ppbroker against Debian's mosquitto, in the same run, with the same client.
 *
 * Figures (issue 3, item 5):
 *   connect   connections per second for the whole cycle: connect, PROXY v2 header (ppbroker
 *             only; mosquitto has no PROXY support and gets a plain CONNECT), CONNECT,
 *             CONNACK, DISCONNECT, the broker's close; N concurrent slots.
 *   qos0/qos1 PUBLISH messages per second DELIVERED to a subscriber (payload 64 bytes by
 *             default; QoS 1 with a window of unacknowledged PUBLISHes).
 *   idle      resident memory (VmRSS) per idle connection: 10,000 connections that each
 *             completed header + CONNECT/CONNACK; (after - before) / count.
 * Each figure runs on a freshly started broker, for every round; brokers alternate order
 * between rounds and the table shows the median over rounds with [min..max].
 *
 * The brokers are children of this program: pinned to one CPU (the load generator pins
 * itself to another), with RLIMIT_NOFILE raised, stopped by PID. ppbroker gets a temporary
 * config (one PROXY listener on 127.0.0.1:0) and --ready-file; mosquitto a config with
 * `listener PORT 127.0.0.1`, `allow_anonymous true`, `max_connections -1`, in the foreground.
 *
 * Not a test: never registered with ctest. Usage: bench_broker --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_broker_load.h"
#include "bench_broker_proc.h"

#ifndef BB_BUILD_TYPE
#define BB_BUILD_TYPE "unknown"
#endif

#define MAX_ROUNDS 15
#define NOFILE_WANT 65536

/* ---- options ---------------------------------------------------------------------------- */

enum { FIG_CONNECT, FIG_QOS0, FIG_QOS1, FIG_IDLE, FIG_COUNT };
static const char *const FIG_KEYS[FIG_COUNT] = {"connect", "qos0", "qos1", "idle"};
enum { T_PPBROKER, T_MOSQUITTO, T_COUNT };
static const char *const T_NAMES[T_COUNT] = {"ppbroker", "mosquitto"};

typedef struct options {
    const char *bin[T_COUNT];
    bool fig[FIG_COUNT];
    bool target[T_COUNT];
    int rounds;
    uint64_t duration_ms, warmup_ms;
    size_t slots, sources, idle_conns, idle_concurrency, payload, window, e2e;
    int broker_cpu, client_cpu;
    bool broker_logs, keep, tlvs;
    const char *perf_dir;   /* record each broker with perf while it is measured */
    int quota_pct;          /* --broker-quota: each broker gets this % of one CPU (0 = no limit) */
    const char *quota_procs; /* the quota cgroup's cgroup.procs, set by main */
} options;

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: bench_broker [options]\n"
            "\n"
            "Measures ppbroker and mosquitto in one run with the same load generator and prints\n"
            "both figures and their ratio (ppbroker / mosquitto).\n"
            "\n"
            "  --ppbroker PATH      ppbroker binary (default: next to this program)\n"
            "  --mosquitto PATH     mosquitto binary (default /usr/sbin/mosquitto)\n"
            "  --only LIST          figures: connect,qos0,qos1,idle (default all)\n"
            "  --targets LIST       ppbroker,mosquitto (default both)\n"
            "  --rounds N           rounds, brokers alternating (default 3; median reported)\n"
            "  --duration S         measurement window per figure (default 5)\n"
            "  --warmup MS          load before the window opens (default 500)\n"
            "  --slots N            concurrent connection slots for connect (default 64)\n"
            "  --sources N          client source addresses 127.0.0.2.. (default 16)\n"
            "  --idle N             idle connections for the memory figure (default 10000)\n"
            "  --payload N          PUBLISH payload bytes (default 64, at least 8)\n"
            "  --window N           QoS 1 unacknowledged PUBLISHes (default 64)\n"
            "  --e2e N              messages published beyond the newest delivered (default 500)\n"
            "  --broker-cpu N       CPU for the brokers (default 0; -1 = no pinning)\n"
            "  --client-cpu N       CPU for this load generator (default 1; -1 = no pinning)\n"
            "  --broker-quota PCT   run each broker in a CPU cgroup limited to PCT%% of one CPU, so\n"
            "                       the broker, not this generator, is the bottleneck and conn/s is\n"
            "                       what the broker does with that budget (needs root and a cgroup\n"
            "                       cpu controller, v2 or v1; default: no limit)\n"
            "  --tlvs               ppbroker's header carries HAProxy's TLVs for a TLS frontend\n"
            "                       (CRC32C, ALPN, AUTHORITY, UNIQUE_ID, SSL{VERSION, CN}): 140 bytes\n"
            "                       instead of 28\n"
            "  --broker-logs        keep the brokers' per-connection log lines (default: warnings\n"
            "                       and errors only, for both)\n"
            "  --keep               keep the temporary directory (configs, broker logs)\n"
            "  --perf DIR           run `perf record --call-graph dwarf -p BROKER_PID` during each\n"
            "                       measurement into DIR/TARGET-FIGURE-rN.data (perf runs on the\n"
            "                       client CPU; figures taken this way find hot spots, do not quote them)\n");
}

static bool parse_list(const char *text, const char *const *names, size_t count, bool *out)
{
    memset(out, 0, count * sizeof(bool));
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < count && strcmp(tok, names[i]) != 0)
            i++;
        if (i == count) {
            fprintf(stderr, "bench_broker: unknown name '%s'\n", tok);
            return false;
        }
        out[i] = true;
    }
    return true;
}

static bool parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max) {
        fprintf(stderr, "bench_broker: '%s' is not a number in %zu..%zu\n", text, min, max);
        return false;
    }
    *out = (size_t)v;
    return true;
}

static int parse_cli(int argc, char **argv, options *o)
{
    static char self_dir_bin[4096 + 16];
    memset(o, 0, sizeof(*o));
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(self_dir_bin, sizeof(self_dir_bin), "%s/ppbroker", self);
        o->bin[T_PPBROKER] = self_dir_bin;
    }
    o->bin[T_MOSQUITTO] = "/usr/sbin/mosquitto";
    for (int i = 0; i < FIG_COUNT; i++)
        o->fig[i] = true;
    o->target[T_PPBROKER] = o->target[T_MOSQUITTO] = true;
    o->rounds = 3;
    o->duration_ms = 5000;
    o->warmup_ms = 500;
    o->slots = 64;
    o->sources = 16;
    o->idle_conns = 10000;
    o->idle_concurrency = 128;
    o->payload = 64;
    o->window = 64;
    o->e2e = 500;
    o->broker_cpu = 0;
    o->client_cpu = 1;

    static const struct option opts[] = {
        {"ppbroker", required_argument, NULL, 'p'}, {"mosquitto", required_argument, NULL, 'm'},
        {"only", required_argument, NULL, 'o'},     {"targets", required_argument, NULL, 't'},
        {"rounds", required_argument, NULL, 'r'},   {"duration", required_argument, NULL, 'd'},
        {"warmup", required_argument, NULL, 'w'},   {"slots", required_argument, NULL, 's'},
        {"sources", required_argument, NULL, 'S'},  {"idle", required_argument, NULL, 'i'},
        {"payload", required_argument, NULL, 'P'},  {"window", required_argument, NULL, 'W'},
        {"e2e", required_argument, NULL, 'e'},      {"broker-cpu", required_argument, NULL, 'b'},
        {"client-cpu", required_argument, NULL, 'c'}, {"broker-logs", no_argument, NULL, 'L'},
        {"keep", no_argument, NULL, 'k'},           {"help", no_argument, NULL, 'h'},
        {"perf", required_argument, NULL, 'F'},     {"tlvs", no_argument, NULL, 'T'},
        {"broker-quota", required_argument, NULL, 'Q'},
        {NULL, 0, NULL, 0},
    };
    size_t v;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': o->bin[T_PPBROKER] = optarg; break;
        case 'm': o->bin[T_MOSQUITTO] = optarg; break;
        case 'o': if (!parse_list(optarg, FIG_KEYS, FIG_COUNT, o->fig)) return 2; break;
        case 't': if (!parse_list(optarg, T_NAMES, T_COUNT, o->target)) return 2; break;
        case 'r': if (!parse_size(optarg, 1, MAX_ROUNDS, &v)) return 2; o->rounds = (int)v; break;
        case 'd': if (!parse_size(optarg, 1, 3600, &v)) return 2; o->duration_ms = v * 1000; break;
        case 'w': if (!parse_size(optarg, 0, 60000, &v)) return 2; o->warmup_ms = v; break;
        case 's': if (!parse_size(optarg, 1, 10000, &o->slots)) return 2; break;
        case 'S': if (!parse_size(optarg, 1, BB_MAX_SOURCES, &o->sources)) return 2; break;
        case 'i': if (!parse_size(optarg, 1, 60000, &o->idle_conns)) return 2; break;
        case 'P': if (!parse_size(optarg, 8, 65536, &o->payload)) return 2; break;
        case 'W': if (!parse_size(optarg, 1, 60000, &o->window)) return 2; break;
        case 'e': if (!parse_size(optarg, 1, 100000, &o->e2e)) return 2; break;
        case 'b': o->broker_cpu = atoi(optarg); break;
        case 'c': o->client_cpu = atoi(optarg); break;
        case 'L': o->broker_logs = true; break;
        case 'k': o->keep = true; break;
        case 'F': o->perf_dir = optarg; break;
        case 'T': o->tlvs = true; break;
        case 'Q': if (!parse_size(optarg, 1, 100, &v)) return 2; o->quota_pct = (int)v; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* ---- brokers ---------------------------------------------------------------------------- */

typedef struct broker {
    int kind;
    bb_proc proc;
    bb_target target;
    char log_path[512];
} broker;

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fputs(text, f) < 0 ? -1 : 0;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/* The "address" of the first listener in ppbroker's ready file. */
static int ready_file_address(const char *path, pn_addr *out)
{
    char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *key = "\"address\":\"";
    char *p = strstr(buf, key);
    if (!p)
        return -1;
    p += strlen(key);
    char *end = strchr(p, '"');
    if (!end)
        return -1;
    *end = '\0';
    return pn_addr_parse(p, out);
}

/* A port the kernel says is free right now, for mosquitto's listener line. */
static int free_port(uint16_t *port)
{
    pn_addr any, bound;
    pn_addr_parse("127.0.0.1:0", &any);
    int fd = pn_listen(&any, 1, 0, &bound, NULL, 0);
    if (fd < 0)
        return -1;
    *port = pn_addr_port(&bound);
    close(fd);
    return 0;
}

static int broker_start(broker *b, int kind, const options *o, const char *dir, char *err, size_t errcap)
{
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->target.name = T_NAMES[kind];
    char conf[512], ready[512], text[1024];
    snprintf(b->log_path, sizeof(b->log_path), "%s/%s.log", dir, T_NAMES[kind]);
    if (kind == T_PPBROKER) {
        snprintf(conf, sizeof(conf), "%s/ppbroker.conf", dir);
        snprintf(ready, sizeof(ready), "%s/ppbroker.ready", dir);
        unlink(ready);
        snprintf(text, sizeof(text),
                 "# bench_broker: one PROXY listener, defaults for everything else\n"
                 "listener.tcp.bench = 127.0.0.1:0\n"
                 "listener.tcp.bench.proxy_protocol = on\n"
                 "listener.tcp.bench.max_connections = %zu\n"
                 "allow_anonymous = on\n"
                 "log.console.level = %s\n",
                 o->idle_conns + 1000, o->broker_logs ? "info" : "warning");
        if (write_file(conf, text) != 0) {
            snprintf(err, errcap, "cannot write %.150s", conf);
            return -1;
        }
        char *argv[] = {(char *)o->bin[kind], "-c", conf, "--ready-file", ready, NULL};
        if (bb_proc_start(&b->proc, argv, o->broker_cpu, NOFILE_WANT, b->log_path, o->quota_procs, err, errcap) != 0)
            return -1;
        if (bb_wait_ready_file(&b->proc, dir, ready, 10000, err, errcap) != 0 ||
            ready_file_address(ready, &b->target.addr) != 0) {
            if (!err[0])
                snprintf(err, errcap, "no listener address in %.150s", ready);
            bb_proc_stop(&b->proc);
            return -1;
        }
        b->target.proxy = true;
        b->target.tlvs = o->tlvs;
    } else {
        uint16_t port;
        if (free_port(&port) != 0) {
            snprintf(err, errcap, "no free port");
            return -1;
        }
        snprintf(conf, sizeof(conf), "%s/mosquitto.conf", dir);
        snprintf(text, sizeof(text),
                 "# bench_broker: plain listener, defaults for everything else\n"
                 "listener %u 127.0.0.1\n"
                 "allow_anonymous true\n"
                 "max_connections -1\n"
                 "persistence false\n"
                 "log_dest stderr\n"
                 "%s",
                 port, o->broker_logs ? "" : "log_type error\nlog_type warning\n");
        if (write_file(conf, text) != 0) {
            snprintf(err, errcap, "cannot write %.150s", conf);
            return -1;
        }
        char *argv[] = {(char *)o->bin[kind], "-c", conf, NULL};
        if (bb_proc_start(&b->proc, argv, o->broker_cpu, NOFILE_WANT, b->log_path, o->quota_procs, err, errcap) != 0)
            return -1;
        pn_addr_from_ip("127.0.0.1", port, &b->target.addr);
        if (bb_wait_port(&b->proc, &b->target.addr, 10000, err, errcap) != 0) {
            bb_proc_stop(&b->proc);
            return -1;
        }
        b->target.proxy = false;
    }
    b->target.pid = b->proc.pid;
    if (o->quota_procs && !bb_quota_check_procs(o->quota_procs, b->proc.pid)) {
        snprintf(err, errcap, "the broker (pid %d) is not in the --broker-quota cgroup", (int)b->proc.pid);
        bb_proc_stop(&b->proc);
        return -1;
    }
    return 0;
}

/* Stop by PID; a non-zero exit is worth a line (a broker that crashed under load). */
static void broker_stop(broker *b)
{
    bool died = bb_proc_exited(&b->proc);
    int st = bb_proc_stop(&b->proc);
    if (died || st != 0)
        fprintf(stderr, "bench_broker: %s %s (exit %d); its log: %s\n", b->target.name,
                died ? "had exited during the measurement" : "did not stop cleanly", st, b->log_path);
}

/* perf record attached to the broker, on the load generator's CPU so the broker's CPU only
 * runs the broker. The warm-up gives it time to attach before the window opens. */
static void perf_start(bb_proc *perf, const options *o, pid_t broker_pid, const char *target, const char *fig,
                       int round)
{
    char pid[16], out[600], log[600], err[BB_ERR_MAX];
    snprintf(pid, sizeof(pid), "%d", (int)broker_pid);
    snprintf(out, sizeof(out), "%s/%s-%s-r%d.data", o->perf_dir, target, fig, round);
    snprintf(log, sizeof(log), "%s/%s-%s-r%d.log", o->perf_dir, target, fig, round);
    /* DWARF call graphs: libc has no frame pointers, and the cost of the broker's calls into
     * libc (printf, malloc, strlen) belongs to the broker function that made them. */
    char *argv[] = {"/usr/bin/perf", "record", "-q", "-F", "999", "--call-graph", "dwarf,16384",
                    "-p", pid, "-o", out, NULL};
    if (bb_proc_start(perf, argv, o->client_cpu, 1024, log, NULL, err, sizeof(err)) != 0)
        fprintf(stderr, "bench_broker: perf: %s\n", err);
}

/* ---- results ---------------------------------------------------------------------------- */

typedef struct sample {
    bool ok;
    double value;        /* conn/s, msg/s, bytes per connection */
    double per_cpu;      /* value per broker CPU-second (conn, msg), 0 for idle */
    double broker_cpu;   /* broker CPU utilisation inside the window (1.0 = one core) */
    double broker_wait;  /* share of the window the broker was runnable but not running */
    double client_cpu, client_wait;
    char note[200];      /* latency, losses, ... */
    char error[BB_ERR_MAX];
} sample;

static sample results[FIG_COUNT][T_COUNT][MAX_ROUNDS];

static void usage_shares(sample *s, const bb_usage *broker, const bb_usage *self, double seconds, double count)
{
    if (seconds <= 0)
        return;
    s->broker_cpu = broker->run_s / seconds;
    s->broker_wait = broker->wait_s / seconds;
    s->client_cpu = self->run_s / seconds;
    s->client_wait = self->wait_s / seconds;
    s->per_cpu = broker->run_s > 0 ? count / broker->run_s : 0;
}

static void measure(pn_loop *loop, int fig, const broker *b, const options *o, sample *s)
{
    memset(s, 0, sizeof(*s));
    const bb_target *t = &b->target;
    if (fig == FIG_CONNECT) {
        bb_cycle_result r;
        bb_run_cycle(loop, t, o->sources, o->slots, o->warmup_ms, o->duration_ms, &r);
        s->ok = r.seconds > 0 && r.done > 0;
        s->value = s->ok ? (double)r.done / r.seconds : 0;
        usage_shares(s, &r.broker, &r.self, r.seconds, (double)r.done);
        snprintf(s->note, sizeof(s->note),
                 "cycle p50 %.2f ms p99 %.2f ms, failed cycles %" PRIu64 ", cycles in the whole run %" PRIu64,
                 r.p50_ms, r.p99_ms, r.errors, r.done_all);
        if (r.errors)
            snprintf(s->error, sizeof(s->error), "%s", r.first_error);
    } else if (fig == FIG_QOS0 || fig == FIG_QOS1) {
        bb_pub_result r;
        bb_run_pubsub(loop, t, o->sources, fig == FIG_QOS0 ? 0 : 1, o->payload, o->window, o->e2e, o->warmup_ms,
                      o->duration_ms, &r);
        s->ok = r.ok && (fig == FIG_QOS0 || r.lost == 0);
        s->value = r.seconds > 0 ? (double)r.delivered / r.seconds : 0;
        usage_shares(s, &r.broker, &r.self, r.seconds, (double)r.delivered);
        snprintf(s->note, sizeof(s->note), "sent %" PRIu64 " received %" PRIu64 " lost %" PRIu64 " reordered %" PRIu64,
                 r.sent, r.received, r.lost, r.reordered);
        if (!r.ok)
            snprintf(s->error, sizeof(s->error), "%s", r.error);
        else if (fig == FIG_QOS1 && r.lost)
            snprintf(s->error, sizeof(s->error), "QoS 1 messages lost");
    } else {
        bb_idle_result r;
        bb_run_idle(loop, t, o->sources, o->idle_conns, o->idle_concurrency, &r);
        s->ok = r.ok;
        s->value = r.bytes_per_conn;
        snprintf(s->note, sizeof(s->note),
                 "%zu conns in %.2f s; VmRSS %ld -> %ld KiB, RssAnon %ld -> %ld KiB (%.0f B/conn)", r.connections,
                 r.seconds, r.rss_before_kib, r.rss_after_kib, r.anon_before_kib, r.anon_after_kib,
                 r.connections ? (double)(r.anon_after_kib - r.anon_before_kib) * 1024.0 / (double)r.connections : 0);
        if (!r.ok)
            snprintf(s->error, sizeof(s->error), "%s", r.error);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct summary {
    int n;
    double median, min, max;
} summary;

/* Median [min..max] over the rounds that succeeded; per_cpu picks the per-CPU-second figure. */
static summary summarize(int fig, int t, int rounds, bool per_cpu)
{
    double v[MAX_ROUNDS];
    summary s = {0, 0, 0, 0};
    for (int r = 0; r < rounds; r++)
        if (results[fig][t][r].ok)
            v[s.n++] = per_cpu ? results[fig][t][r].per_cpu : results[fig][t][r].value;
    if (!s.n)
        return s;
    qsort(v, (size_t)s.n, sizeof(v[0]), cmp_double);
    s.median = s.n % 2 ? v[s.n / 2] : (v[s.n / 2 - 1] + v[s.n / 2]) / 2;
    s.min = v[0];
    s.max = v[s.n - 1];
    return s;
}

/* ---- environment ------------------------------------------------------------------------ */

static void first_line_of(const char *cmd, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(out, (int)cap, p))
        out[strcspn(out, "\n")] = '\0';
    pclose(p);
}

static void cpu_model(char *out, size_t cap)
{
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *colon = strchr(line, ':');
            if (colon) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                colon[strcspn(colon, "\n")] = '\0';
                snprintf(out, cap, "%s", colon);
            }
            break;
        }
    }
    fclose(f);
}

static void loadavg(char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

static void print_environment(const options *o, rlim_t nofile, bool pinned)
{
    char cpu[256], load[128], ver[T_COUNT][256];
    struct utsname u;
    uname(&u);
    cpu_model(cpu, sizeof(cpu));
    loadavg(load, sizeof(load));
    for (int t = 0; t < T_COUNT; t++) {
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "'%s' %s 2>&1", o->bin[t], t == T_PPBROKER ? "--version" : "-h");
        first_line_of(cmd, ver[t], sizeof(ver[t]));
    }
    printf("environment\n");
    printf("  CPU            %s, %ld online CPUs\n", cpu, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  kernel         %s %s %s\n", u.sysname, u.release, u.machine);
    printf("  build          %s (CMAKE_BUILD_TYPE of this build directory), %s %s\n", BB_BUILD_TYPE,
#ifdef __clang__
           "clang",
#else
           "gcc",
#endif
           __VERSION__);
    printf("  ppbroker       %s (%s)\n", o->bin[T_PPBROKER], ver[T_PPBROKER]);
    printf("  mosquitto      %s (%s)\n", o->bin[T_MOSQUITTO], ver[T_MOSQUITTO]);
    if (pinned)
        printf("  pinning        brokers on CPU %d, load generator on CPU %d (sched_setaffinity)\n", o->broker_cpu,
               o->client_cpu);
    else
        printf("  pinning        none\n");
    if (o->quota_pct)
        printf("  CPU budget     each broker in a CPU cgroup limited to %d%% of one CPU (--broker-quota)\n",
               o->quota_pct);
    printf("  RLIMIT_NOFILE  %llu (bench and brokers)\n", (unsigned long long)nofile);
    printf("  broker logs    %s\n", o->broker_logs ? "default levels (per-connection lines on)"
                                                   : "warnings and errors only (ppbroker log.console.level = "
                                                     "warning; mosquitto log_type error + warning)");
    printf("  PROXY header   v2 PROXY TCP4, %s, in the same write as CONNECT (ppbroker only)\n",
           o->tlvs ? "with CRC32C, ALPN, AUTHORITY, UNIQUE_ID and SSL{VERSION, CN} TLVs (140 bytes)"
                   : "no TLVs (28 bytes)");
    printf("  load average   %s (at start; the machine may be shared)\n", load);
    printf("  settings       %d rounds, window %.1f s after %llu ms warm-up; connect: %zu slots, %zu source "
           "addresses;\n"
           "                 publish: payload %zu B, QoS 1 window %zu, end-to-end bound %zu; idle: %zu conns\n",
           o->rounds, (double)o->duration_ms / 1000.0, (unsigned long long)o->warmup_ms, o->slots, o->sources,
           o->payload, o->window, o->e2e, o->idle_conns);
    printf("\n");
}

static void print_row(const char *label, int f, bool per_cpu, const char *target, double threshold,
                      bool higher_is_better, const options *o)
{
    char cell[T_COUNT][64];
    summary s[T_COUNT];
    for (int t = 0; t < T_COUNT; t++) {
        s[t] = summarize(f, t, o->rounds, per_cpu);
        if (!o->target[t])
            snprintf(cell[t], sizeof(cell[t]), "-");
        else if (!s[t].n)
            snprintf(cell[t], sizeof(cell[t]), "failed");
        else
            snprintf(cell[t], sizeof(cell[t]), "%.0f [%.0f..%.0f]", s[t].median, s[t].min, s[t].max);
    }
    char ratio[32] = "-", verdict[32] = "-";
    bool both = s[T_PPBROKER].n && s[T_MOSQUITTO].n && s[T_MOSQUITTO].median > 0;
    double q = both ? s[T_PPBROKER].median / s[T_MOSQUITTO].median : 0;
    if (both)
        snprintf(ratio, sizeof(ratio), "%.2fx", q);
    if (threshold > 0 && !higher_is_better && s[T_PPBROKER].n) /* an absolute bound on ppbroker */
        snprintf(verdict, sizeof(verdict), "%s", s[T_PPBROKER].median <= threshold ? "met" : "MISSED");
    else if (threshold > 0 && both)
        snprintf(verdict, sizeof(verdict), "%s", q >= threshold ? "met" : "MISSED");
    printf("%-38s %-24s %-24s %7s  %-10s %s\n", label, cell[T_PPBROKER], cell[T_MOSQUITTO], ratio, target, verdict);
}

static void print_table(const options *o)
{
    printf("%-38s %-24s %-24s %7s  %-10s %s\n", "figure: median [min..max] of rounds", "ppbroker", "mosquitto",
           "ratio", "target", "verdict");
    if (o->fig[FIG_CONNECT])
        print_row("connect cycle, conn/s", FIG_CONNECT, false, ">= 1.30x", 1.30, true, o);
    if (o->fig[FIG_QOS0])
        print_row("QoS 0 publish, msg/s delivered", FIG_QOS0, false, ">= 1.00x", 1.00, true, o);
    if (o->fig[FIG_QOS1])
        print_row("QoS 1 publish, msg/s delivered", FIG_QOS1, false, ">= 1.00x", 1.00, true, o);
    if (o->fig[FIG_IDLE])
        print_row("idle proxied conn, VmRSS B/conn", FIG_IDLE, false, "<= 8192 B", 8192, false, o);
    printf("same work per broker CPU-second (far less sensitive to how busy the machine is):\n");
    if (o->fig[FIG_CONNECT])
        print_row("connect cycle, conn per CPU-s", FIG_CONNECT, true, "", 0, true, o);
    if (o->fig[FIG_QOS0])
        print_row("QoS 0 publish, msg per CPU-s", FIG_QOS0, true, "", 0, true, o);
    if (o->fig[FIG_QOS1])
        print_row("QoS 1 publish, msg per CPU-s", FIG_QOS1, true, "", 0, true, o);
    printf("(ratio = ppbroker / mosquitto; for memory lower is better and the target is ppbroker's own figure)\n\n");
}

static void print_details(const options *o)
{
    printf("per round: CPU = share of the window on a CPU, wait = share runnable but waiting for one\n");
    for (int f = 0; f < FIG_COUNT; f++) {
        if (!o->fig[f])
            continue;
        for (int t = 0; t < T_COUNT; t++) {
            if (!o->target[t])
                continue;
            for (int r = 0; r < o->rounds; r++) {
                const sample *s = &results[f][t][r];
                if (f == FIG_IDLE)
                    printf("  %-7s %-9s r%d  %9.0f B/conn  %s%s%s\n", FIG_KEYS[f], T_NAMES[t], r + 1, s->value,
                           s->note, s->error[0] ? "  ERROR: " : "", s->error);
                else
                    printf("  %-7s %-9s r%d  %8.0f /s  %8.0f /CPU-s  broker CPU %3.0f%% wait %3.0f%%  client CPU "
                           "%3.0f%% wait %3.0f%%  %s%s%s\n",
                           FIG_KEYS[f], T_NAMES[t], r + 1, s->value, s->per_cpu, 100 * s->broker_cpu,
                           100 * s->broker_wait, 100 * s->client_cpu, 100 * s->client_wait, s->note,
                           s->error[0] ? "  ERROR: " : "", s->error);
            }
        }
    }
    printf("\n");
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    options o;
    int rc = parse_cli(argc, argv, &o);
    if (rc >= 0)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    for (int t = 0; t < T_COUNT; t++) {
        if (o.target[t] && access(o.bin[t], X_OK) != 0) {
            fprintf(stderr, "bench_broker: %s: %s is not executable (%s); skipping it\n", T_NAMES[t], o.bin[t],
                    strerror(errno));
            o.target[t] = false;
        }
    }
    if (!o.target[T_PPBROKER] && !o.target[T_MOSQUITTO]) {
        fprintf(stderr, "bench_broker: no broker to measure\n");
        return 2;
    }
    rlim_t nofile = bb_raise_nofile(NOFILE_WANT);
    if (nofile < o.idle_conns + 100 && o.fig[FIG_IDLE]) {
        fprintf(stderr, "bench_broker: RLIMIT_NOFILE is %llu, too low for --idle %zu\n", (unsigned long long)nofile,
                o.idle_conns);
        return 2;
    }
    bool pinned = false;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (o.client_cpu >= 0 && o.broker_cpu >= 0 && o.client_cpu < ncpu && o.broker_cpu < ncpu &&
        o.client_cpu != o.broker_cpu) {
        pinned = bb_pin_cpu(o.client_cpu) == 0;
    }
    if (!pinned)
        o.broker_cpu = -1;

    if (o.perf_dir && mkdir(o.perf_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_broker: mkdir %s: %s\n", o.perf_dir, strerror(errno));
        return 2;
    }
    char dir[] = "/tmp/bench_broker.XXXXXX";
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench_broker: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    pn_loop *loop = pn_loop_new(512);
    if (!loop) {
        fprintf(stderr, "bench_broker: cannot make the event loop\n");
        return 1;
    }

    bb_quota quota = {0};
    if (o.quota_pct) {
        char qerr[512];
        if (bb_quota_create(&quota, o.quota_pct, qerr, sizeof(qerr)) != 0) {
            fprintf(stderr, "bench_broker: --broker-quota: %s\n", qerr);
            pn_loop_free(loop);
            rmdir(dir);
            return 2;
        }
        o.quota_procs = quota.procs;
    }
    printf("bench_broker: ppbroker vs mosquitto, same load generator, same run\n\n");
    print_environment(&o, nofile, pinned);
    fflush(stdout);

    int failures = 0;
    for (int r = 0; r < o.rounds; r++) {
        for (int f = 0; f < FIG_COUNT; f++) {
            if (!o.fig[f])
                continue;
            for (int k = 0; k < T_COUNT; k++) {
                int t = (r % 2 == 0) ? k : T_COUNT - 1 - k; /* alternate who goes first */
                if (!o.target[t])
                    continue;
                sample *s = &results[f][t][r];
                broker b;
                /* leave room for the "start: " prefix, so the message always fits s->error */
                char err[BB_ERR_MAX - sizeof("start: ")] = "";
                if (broker_start(&b, t, &o, dir, err, sizeof(err)) != 0) {
                    memset(s, 0, sizeof(*s));
                    snprintf(s->error, sizeof(s->error), "start: %s", err);
                } else {
                    bb_proc perf = {0, -1, 0};
                    if (o.perf_dir)
                        perf_start(&perf, &o, b.proc.pid, T_NAMES[t], FIG_KEYS[f], r + 1);
                    measure(loop, f, &b, &o, s);
                    if (perf.pid)
                        bb_proc_stop_with(&perf, SIGINT);
                    broker_stop(&b);
                }
                if (!s->ok)
                    failures++;
                fprintf(stderr, "  round %d %-7s %-9s pid %-7d %10.0f %s%s\n", r + 1, FIG_KEYS[f], T_NAMES[t],
                        (int)b.target.pid, s->value, s->ok ? "" : "FAILED: ", s->ok ? "" : s->error);
            }
        }
    }

    char load[128];
    loadavg(load, sizeof(load));
    print_table(&o);
    print_details(&o);
    printf("load average at the end: %s\n", load);

    pn_loop_free(loop);
    bb_quota_remove(&quota); /* every broker has been stopped */
    if (o.keep) {
        printf("kept %s (configs and broker logs)\n", dir);
    } else {
        const char *names[] = {"ppbroker.conf", "ppbroker.ready", "ppbroker.log", "mosquitto.conf", "mosquitto.log"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            char p[600];
            snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
            unlink(p);
        }
        rmdir(dir);
    }
    return failures ? 1 : 0;
}
