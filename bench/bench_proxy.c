/* bench_proxy: how fast lib/proxy parses (and builds) PROXY headers, and proof that the
 * parse path never touches the heap.
 *
 * For each header: RUNS runs of ITERS parses; prints the median (and min/max) ns per header
 * over the runs. Side by side, a naive BASELINE a reader will recognise (sscanf for the v1
 * fields, inet_pton for the addresses) gives a ratio; it is a yardstick, not a peer.
 *
 * Heap check: this file defines malloc/calloc/realloc/free (glibc lets a program replace
 * them; they forward to __libc_*), counting calls while `counting` is set. The hook proves
 * itself live with one deliberate allocation before measuring, and the program exits 1 if
 * any parse allocated.
 *
 * Usage: bench_proxy [runs] [iters] [only]   (default 15 runs of 1,000,000; `only` times just
 * the cases whose name contains that text, e.g. for `perf record`)
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/proxy.h"

/* ---- heap hook -------------------------------------------------------------------------- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static volatile int counting;
static volatile unsigned long heap_calls;

void *malloc(size_t n)
{
    if (counting)
        heap_calls++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    if (counting)
        heap_calls++;
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    if (counting)
        heap_calls++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

/* ---- timing ----------------------------------------------------------------------------- */

#define MAX_RUNS 101

/* CPU time of this thread: time spent descheduled (the 2 cores are shared with builds and
 * other benchmarks) does not count. The wall-clock median is printed beside it. */
static double now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct figures {
    double median, min, max; /* thread CPU time */
    double wall_median;
} figures;

static volatile unsigned long sink; /* keeps every result alive */

typedef unsigned long (*bench_fn)(const uint8_t *buf, size_t len);

/* One run: iters calls; ns per call in CPU time (*cpu) and wall-clock time (*wall). */
static void time_one_run(bench_fn fn, const uint8_t *buf, size_t len, long iters, double *cpu, double *wall)
{
    unsigned long acc = 0;
    double w0 = now_ns(CLOCK_MONOTONIC), t0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < iters; i++)
        acc += fn(buf, len);
    *cpu = (now_ns(CLOCK_THREAD_CPUTIME_ID) - t0) / (double)iters;
    *wall = (now_ns(CLOCK_MONOTONIC) - w0) / (double)iters;
    sink += acc;
}

static figures summarize(double *cpu, double *wall, int runs)
{
    qsort(cpu, (size_t)runs, sizeof cpu[0], cmp_double);
    qsort(wall, (size_t)runs, sizeof wall[0], cmp_double);
    return (figures){cpu[runs / 2], cpu[0], cpu[runs - 1], wall[runs / 2]};
}

/* ---- what is timed ---------------------------------------------------------------------- */

static unsigned long parse_once(const uint8_t *buf, size_t len)
{
    pp_header h;
    ssize_t r = pp_parse(buf, len, NULL, &h);
    if (r <= 0)
        abort(); /* every bench input is valid */
    return (unsigned long)r + h.src.port + h.tlv_count;
}

/* The baseline: sscanf the fields, inet_pton the addresses, range-check the ports. */
static unsigned long naive_v1_once(const uint8_t *buf, size_t len)
{
    char line[PP_V1_MAX_LEN + 1], proto[8], src[46], dst[46];
    unsigned sport, dport;
    const uint8_t *crlf = memchr(buf, '\r', len);
    if (crlf == NULL || (size_t)(crlf - buf) >= sizeof line || crlf[1] != '\n')
        abort();
    size_t n = (size_t)(crlf - buf);
    memcpy(line, buf, n);
    line[n] = '\0';
    if (sscanf(line, "PROXY %7s %45s %45s %u %u", proto, src, dst, &sport, &dport) != 5 || sport > 65535 ||
        dport > 65535)
        abort();
    int af = strcmp(proto, "TCP6") == 0 ? AF_INET6 : AF_INET;
    uint8_t a[16], b[16];
    if (inet_pton(af, src, a) != 1 || inet_pton(af, dst, b) != 1)
        abort();
    return n + 2 + sport + a[0];
}

static pp_build_spec build_spec; /* for the builder timing */

static unsigned long build_once(const uint8_t *buf, size_t len)
{
    static uint8_t out[1024];
    (void)buf;
    (void)len;
    ssize_t n = pp_build(&build_spec, out, sizeof out);
    if (n <= 0)
        abort();
    return (unsigned long)n + out[n - 1];
}

/* ---- inputs ----------------------------------------------------------------------------- */

static const char V1_TCP4[] = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
static const char V1_TCP6[] = "PROXY TCP6 2001:db8::1 2001:db8:0:1::2 56324 443\r\n";

static pp_build_tlv ssl_subs[2];
static pp_build_ssl ssl;
static pp_build_tlv tlvs[5];

/* v2 TCP6 with SSL(VERSION, CN) + ALPN + AUTHORITY + UNIQUE_ID + CRC32C, HAProxy's order. */
static void v2_tlv_spec(pp_build_spec *s)
{
    static const char uid[] = "7F000001:DFEA_7F000001:4993_6B09CF9F_0006:17AD";
    pp_build_spec_init(s);
    s->family = PP_FAM_INET6;
    pp_endpoint_parse("[2001:db8::1]:56324", &s->src);
    pp_endpoint_parse("[2001:db8::2]:8883", &s->dst);
    ssl_subs[0] = PP_BUILD_TLV(PP_SSL_VERSION, (const uint8_t *)"TLSv1.3", 7);
    ssl_subs[1] = PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)"device-0042", 11);
    ssl = (pp_build_ssl){.client = 0x07, .verify = 0, .subs = ssl_subs, .nsubs = 2};
    tlvs[0] = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
    tlvs[0].crc_auto = true;
    tlvs[1] = PP_BUILD_TLV(PP_TLV_ALPN, (const uint8_t *)"mqtt", 4);
    tlvs[2] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"broker.example", 14);
    tlvs[3] = PP_BUILD_TLV(PP_TLV_UNIQUE_ID, (const uint8_t *)uid, sizeof uid - 1);
    tlvs[4] = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
    s->tlvs = tlvs;
    s->ntlvs = 5;
    s->ssl = &ssl;
}

typedef struct bench_case {
    const char *name;
    bench_fn fn;
    const uint8_t *buf;
    size_t len;
    double target_ns; /* 0 = none */
    const char *ratio_to; /* name of the lib/proxy case a baseline is compared with */
} bench_case;

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 15;
    long iters = argc > 2 ? atol(argv[2]) : 1000000;
    const char *only = argc > 3 ? argv[3] : NULL;
    if (runs < 1 || runs > MAX_RUNS || iters < 1) {
        fprintf(stderr, "usage: bench_proxy [runs 1..%d] [iters]\n", MAX_RUNS);
        return 2;
    }

    static uint8_t v2_tcp4[64], v2_tlv[512];
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("192.168.0.1:56324", &s.src);
    pp_endpoint_parse("192.168.0.11:443", &s.dst);
    ssize_t n_tcp4 = pp_build(&s, v2_tcp4, sizeof v2_tcp4);
    v2_tlv_spec(&s);
    ssize_t n_tlv = pp_build(&s, v2_tlv, sizeof v2_tlv);
    if (n_tcp4 <= 0 || n_tlv <= 0)
        return 3;
    build_spec = s;

    const bench_case cases[] = {
        {"parse v1 TCP4", parse_once, (const uint8_t *)V1_TCP4, sizeof V1_TCP4 - 1, 50, NULL},
        {"parse v1 TCP6", parse_once, (const uint8_t *)V1_TCP6, sizeof V1_TCP6 - 1, 0, NULL},
        {"parse v2 TCP4, no TLVs", parse_once, v2_tcp4, (size_t)n_tcp4, 0, NULL},
        {"parse v2 TCP6 SSL+ALPN+AUTH+UID+CRC32C", parse_once, v2_tlv, (size_t)n_tlv, 60, NULL},
        {"BASELINE sscanf+inet_pton v1 TCP4", naive_v1_once, (const uint8_t *)V1_TCP4, sizeof V1_TCP4 - 1, 0,
         "parse v1 TCP4"},
        {"BASELINE sscanf+inet_pton v1 TCP6", naive_v1_once, (const uint8_t *)V1_TCP6, sizeof V1_TCP6 - 1, 0,
         "parse v1 TCP6"},
        {"build v2 TCP6 SSL+ALPN+AUTH+UID+CRC32C", build_once, NULL, 0, 0, NULL},
    };
    size_t ncases = sizeof cases / sizeof cases[0];

    /* 1. the heap hook is live, then no parse allocates */
    counting = 1;
    void *(*volatile alloc)(size_t) = malloc;
    free(alloc(16));
    counting = 0;
    if (heap_calls != 1) {
        fprintf(stderr, "heap hook not live (%lu calls seen for 1 malloc)\n", heap_calls);
        return 3;
    }
    heap_calls = 0;
    counting = 1;
    for (size_t c = 0; c < ncases; c++)
        if (cases[c].fn == parse_once)
            for (int i = 0; i < 1000; i++)
                sink += parse_once(cases[c].buf, cases[c].len);
    counting = 0;
    unsigned long parse_heap_calls = heap_calls;

    /* 2. timings */
    printf("bench_proxy: %d runs x %ld iterations; ns per header, thread CPU time: median (min..max\n"
           "over runs); wall: median wall-clock ns\n", runs, iters);
    printf("%-42s %8s %17s %8s %8s %s\n", "case", "median", "min..max", "wall", "target", "");
    /* Runs go round-robin over the cases, so every case sees the same mix of quiet and busy
     * moments on the shared machine (the other vCPU's load slows this one by up to ~1.7x). */
    static double cpu[sizeof cases / sizeof cases[0]][MAX_RUNS], wall[sizeof cases / sizeof cases[0]][MAX_RUNS];
    bool selected[sizeof cases / sizeof cases[0]];
    for (size_t c = 0; c < ncases; c++)
        selected[c] = only == NULL || strstr(cases[c].name, only) != NULL;
    for (int r = 0; r < runs; r++)
        for (size_t c = 0; c < ncases; c++)
            if (selected[c])
                time_one_run(cases[c].fn, cases[c].buf, cases[c].len, iters, &cpu[c][r], &wall[c][r]);

    figures fig[sizeof cases / sizeof cases[0]];
    int missed = 0;
    for (size_t c = 0; c < ncases; c++) {
        if (!selected[c])
            continue;
        fig[c] = summarize(cpu[c], wall[c], runs);
        char target[32] = "-", verdict[48] = "";
        if (cases[c].target_ns > 0) {
            snprintf(target, sizeof target, "<=%.0f", cases[c].target_ns);
            bool ok = fig[c].median <= cases[c].target_ns;
            snprintf(verdict, sizeof verdict, "%s", ok ? "met" : "MISSED");
            missed += !ok;
        }
        for (size_t b = 0; b < c && cases[c].ratio_to; b++)
            if (selected[b] && strcmp(cases[b].name, cases[c].ratio_to) == 0)
                snprintf(verdict, sizeof verdict, "%.1fx the lib/proxy time", fig[c].median / fig[b].median);
        printf("%-42s %8.1f %8.1f..%-8.1f %8.1f %8s %s\n", cases[c].name, fig[c].median, fig[c].min, fig[c].max,
               fig[c].wall_median, target, verdict);
    }
    printf("header sizes: v1 TCP4 %zu, v1 TCP6 %zu, v2 TCP4 %zd, v2 TLVs %zd bytes\n", sizeof V1_TCP4 - 1,
           sizeof V1_TCP6 - 1, n_tcp4, n_tlv);
    printf("heap calls during %zu x 1000 parses: %lu (%s)\n", (size_t)4, parse_heap_calls,
           parse_heap_calls == 0 ? "allocation-free" : "ALLOCATES");
    if (missed)
        printf("%d target(s) missed\n", missed);
    return parse_heap_calls == 0 ? 0 : 1;
}
