/* bench/bench_broker_quota.h: --broker-quota PCT, an equal CPU budget for both brokers.
 *
 * On a two-CPU machine the load generator, on its own CPU, cannot keep a fast broker busy:
 * the broker then sleeps and wakes between batches, and both its conn/s (capped by the
 * generator) and its work per CPU-second (charged for the wake-ups) say as much about the
 * generator as about the broker. A CPU cgroup that gives each broker the same share of one
 * CPU (e.g. 50%) makes the broker the bottleneck: conn/s is then what the broker can do
 * with that budget, and the generator keeps CPU to spare.
 *
 * cgroup v2 (cpu.max) when its cpu controller is available at /sys/fs/cgroup, else v1
 * (cpu.cfs_quota_us) at /sys/fs/cgroup/cpu. Needs root; the group is removed at the end. */
#ifndef BENCH_BROKER_QUOTA_H
#define BENCH_BROKER_QUOTA_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct bb_quota {
    char dir[256];   /* the cgroup directory, "" when none */
    char procs[300]; /* dir/cgroup.procs: a child writes its PID here before exec */
} bb_quota;

static bool bb_quota_write(const char *dir, const char *file, const char *value, char *err, size_t errcap)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f || fputs(value, f) < 0 || fclose(f) != 0) {
        snprintf(err, errcap, "%s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

static bool bb_quota_has_v2_cpu(void)
{
    char buf[512] = "";
    FILE *f = fopen("/sys/fs/cgroup/cgroup.controllers", "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    for (char *p = strstr(buf, "cpu"); p; p = strstr(p + 1, "cpu"))
        if ((p == buf || p[-1] == ' ') && (p[3] == ' ' || p[3] == '\n' || p[3] == '\0'))
            return true;
    return false;
}

/* Create the group with pct% of one CPU (100 ms period). 0, or -1 with err. */
static int bb_quota_create(bb_quota *q, int pct, char *err, size_t errcap)
{
    memset(q, 0, sizeof(*q));
    bool v2 = bb_quota_has_v2_cpu();
    const char *root = v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/cpu";
    snprintf(q->dir, sizeof(q->dir), "%s/bench_broker.%d", root, (int)getpid());
    if (mkdir(q->dir, 0755) != 0) {
        snprintf(err, errcap, "cannot create the CPU cgroup %s: %s (needs root and a cgroup cpu controller)", q->dir,
                 strerror(errno));
        q->dir[0] = '\0';
        return -1;
    }
    char value[64];
    bool ok;
    if (v2) {
        snprintf(value, sizeof(value), "%d 100000", pct * 1000);
        ok = bb_quota_write(q->dir, "cpu.max", value, err, errcap);
    } else {
        snprintf(value, sizeof(value), "%d", pct * 1000);
        ok = bb_quota_write(q->dir, "cpu.cfs_period_us", "100000", err, errcap) &&
             bb_quota_write(q->dir, "cpu.cfs_quota_us", value, err, errcap);
    }
    if (!ok) {
        rmdir(q->dir);
        q->dir[0] = '\0';
        return -1;
    }
    snprintf(q->procs, sizeof(q->procs), "%s/cgroup.procs", q->dir);
    return 0;
}

/* In the child before exec: join the group (async-signal-safe calls only). */
static void bb_quota_join(const char *procs)
{
    if (!procs || !procs[0])
        return;
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[24];
    int n = 0;
    char rev[24];
    for (pid_t p = getpid(); p > 0 && n < (int)sizeof(rev); p /= 10)
        rev[n++] = (char)('0' + p % 10);
    for (int i = 0; i < n; i++)
        buf[i] = rev[n - 1 - i];
    if (write(fd, buf, (size_t)n) < 0) {
        /* the broker then runs without the budget; bb_quota_check reports it */
    }
    close(fd);
}

/* Is pid in the group whose cgroup.procs is procs? (A broker outside it would be measured
 * without the budget.) */
static bool bb_quota_check_procs(const char *procs, pid_t pid)
{
    FILE *f = fopen(procs, "r");
    if (!f)
        return false;
    long v;
    bool found = false;
    while (fscanf(f, "%ld", &v) == 1)
        if ((pid_t)v == pid)
            found = true;
    fclose(f);
    return found;
}

/* Remove the group (its processes have exited). */
static void bb_quota_remove(bb_quota *q)
{
    if (q->dir[0])
        rmdir(q->dir);
    q->dir[0] = '\0';
}

#endif
