/* bench/bench_broker_proc.h: the brokers under test as child processes (for bench_broker.c).
 *
 * Header-only (static functions) because bench/CMakeLists.txt makes one program per
 * bench/bench_*.c; only bench_broker.c includes it.
 *
 * A broker is started with fork + exec, pinned to one CPU, with a raised RLIMIT_NOFILE, an
 * empty signal mask and its output in a log file. It is watched through an exit pipe (the
 * child holds the write end, so the read end polls readable once it has exited; unlike a
 * pidfd this also works under valgrind), so every wait (ready file, open port, exit) is a
 * poll with a deadline that also notices an early exit. It is stopped by its PID: SIGTERM,
 * then SIGKILL if it has not exited in time. /proc/PID gives its resident memory and CPU
 * time.
 */
#ifndef BENCH_BROKER_PROC_H
#define BENCH_BROKER_PROC_H

#include <errno.h>
#include <fcntl.h>

#include "bench_broker_quota.h"
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/sock.h"

typedef struct bb_proc {
    pid_t pid;   /* 0 when not running */
    int exit_fd;   /* exit pipe's read end: readable (EOF) once the process has exited */
    int status;  /* waitpid status once reaped */
} bb_proc;

static int bb_remaining_ms(uint64_t deadline)
{
    uint64_t now = pn_now_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Pin the calling thread (or, in a child before exec, the process) to one CPU. */
static int bb_pin_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set);
}

/* Soft RLIMIT_NOFILE raised to min(want, hard). Returns the soft limit now in force. */
static rlim_t bb_raise_nofile(rlim_t want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    rlim_t target = want < rl.rlim_max ? want : rl.rlim_max;
    if (rl.rlim_cur < target) {
        rl.rlim_cur = target;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            return 0;
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur;
}

/* Start argv[0] (an absolute or relative path, no PATH search). cpu < 0: not pinned.
 * 0, or -1 with err set (exec failures are reported here, through a CLOEXEC pipe). */
/* cgroup_procs: a cgroup.procs file the child joins before exec (--broker-quota), or NULL. */
static int bb_proc_start(bb_proc *p, char *const argv[], int cpu, rlim_t nofile, const char *log_path,
                         const char *cgroup_procs, char *err, size_t errcap)
{
    memset(p, 0, sizeof(*p));
    p->exit_fd = -1;
    int pipefd[2], exitfd[2];
    if (pipe2(pipefd, O_CLOEXEC) != 0) {
        snprintf(err, errcap, "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(exitfd, O_CLOEXEC) != 0) {
        snprintf(err, errcap, "pipe: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errcap, "fork: %s", strerror(errno));
        close(pipefd[0]);
        close(pipefd[1]);
        close(exitfd[0]);
        close(exitfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* Child: undo what the bench changed for itself (signal mask, SIGPIPE), then exec. */
        fcntl(exitfd[1], F_SETFD, 0); /* the broker holds it open until it exits */
        /* If the bench itself is killed, do not leave a broker behind (the kernel drops this
         * when a program changes its user, as mosquitto does when started as root). */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127); /* the bench died before the line above */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        bb_raise_nofile(nofile);
        if (cpu >= 0)
            bb_pin_cpu(cpu);
        bb_quota_join(cgroup_procs);
        int in = open("/dev/null", O_RDONLY);
        int out = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execv(argv[0], argv);
        int e = errno;
        if (write(pipefd[1], &e, sizeof(e)) < 0) {
            /* nothing more to say */
        }
        _exit(127);
    }
    close(pipefd[1]);
    close(exitfd[1]);
    int child_errno = 0;
    ssize_t n;
    do
        n = read(pipefd[0], &child_errno, sizeof(child_errno));
    while (n < 0 && errno == EINTR);
    close(pipefd[0]);
    if (n == (ssize_t)sizeof(child_errno)) {
        waitpid(pid, NULL, 0);
        close(exitfd[0]);
        snprintf(err, errcap, "exec %.150s: %s", argv[0], strerror(child_errno));
        return -1;
    }
    p->pid = pid;
    p->exit_fd = exitfd[0];
    return 0;
}

/* Wait for the exit with a deadline; reaps it. true when it exited. */
static bool bb_proc_wait(bb_proc *p, int timeout_ms)
{
    if (!p->pid)
        return true;
    struct pollfd pf = {p->exit_fd, POLLIN, 0};
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int r = poll(&pf, 1, bb_remaining_ms(deadline));
        if (r > 0)
            break;
        if (r == 0 || errno != EINTR)
            return false;
    }
    /* EOF on the exit pipe: normally the process is gone (or going). A program that closed
     * the pipe itself is still running, so reap with the same deadline, never blocking. */
    for (;;) {
        pid_t w = waitpid(p->pid, &p->status, WNOHANG);
        if (w == p->pid || (w < 0 && errno == ECHILD))
            break;
        if (bb_remaining_ms(deadline) == 0)
            return false;
        poll(NULL, 0, 5);
    }
    close(p->exit_fd);
    p->exit_fd = -1;
    p->pid = 0;
    return true;
}

/* Has it exited (reaped if so)? Never waits beyond a short reap. */
static bool bb_proc_exited(bb_proc *p)
{
    return bb_proc_wait(p, 0) || !p->pid;
}

/* sig (SIGTERM; SIGINT for perf record), up to 5 s for a clean stop, then SIGKILL. Returns
 * the exit status (-1 when it had to be killed or died on a signal). */
static int bb_proc_stop_with(bb_proc *p, int sig)
{
    if (!p->pid)
        return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
    kill(p->pid, sig);
    if (!bb_proc_wait(p, 5000)) {
        kill(p->pid, SIGKILL);
        bb_proc_wait(p, 5000);
        return -1;
    }
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

static int bb_proc_stop(bb_proc *p)
{
    return bb_proc_stop_with(p, SIGTERM);
}

/* Wait until path exists (ppbroker's --ready-file is renamed into place once every listener
 * is bound): inotify on its directory, the exit pipe for an early exit, one deadline. */
static int bb_wait_ready_file(bb_proc *p, const char *dir, const char *path, int timeout_ms, char *err,
                              size_t errcap)
{
    int in = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (in < 0 || inotify_add_watch(in, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0) {
        snprintf(err, errcap, "inotify on %.120s: %s", dir, strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    int rc = -1;
    for (;;) {
        if (access(path, F_OK) == 0) { /* checked after the watch exists: no lost wake-up */
            rc = 0;
            break;
        }
        int left = bb_remaining_ms(deadline);
        if (left == 0) {
            snprintf(err, errcap, "no ready file %.150s after %d ms", path, timeout_ms);
            break;
        }
        struct pollfd pf[2] = {{in, POLLIN, 0}, {p->exit_fd, POLLIN, 0}};
        if (poll(pf, 2, left) < 0 && errno != EINTR) {
            snprintf(err, errcap, "poll: %s", strerror(errno));
            break;
        }
        if (pf[1].revents) {
            bb_proc_wait(p, 1000);
            snprintf(err, errcap, "exited (status %d) before writing %.150s", p->status, path);
            break;
        }
        char drain[4096];
        while (read(in, drain, sizeof(drain)) > 0) {
        }
    }
    close(in);
    return rc;
}

/* Wait until addr accepts a TCP connection (mosquitto has no ready file). Each failed
 * attempt waits on the exit pipe for retry_ms, so an exit is noticed at once. */
static int bb_wait_port(bb_proc *p, const pn_addr *addr, int timeout_ms, char *err, size_t errcap)
{
    const int retry_ms = 5;
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        bool pending = false;
        int fd = pn_connect(addr, NULL, &pending, NULL, 0);
        if (fd >= 0) {
            int res = 0;
            if (pending) {
                struct pollfd pf = {fd, POLLOUT, 0};
                res = poll(&pf, 1, bb_remaining_ms(deadline)) > 0 ? pn_connect_result(fd) : ETIMEDOUT;
            }
            close(fd);
            if (res == 0)
                return 0;
        }
        int left = bb_remaining_ms(deadline);
        if (left == 0) {
            snprintf(err, errcap, "port not open after %d ms", timeout_ms);
            return -1;
        }
        struct pollfd pf = {p->exit_fd, POLLIN, 0};
        if (poll(&pf, 1, left < retry_ms ? left : retry_ms) > 0) {
            bb_proc_wait(p, 1000);
            snprintf(err, errcap, "exited (status %d) before listening", p->status);
            return -1;
        }
    }
}

/* A "kB" field of /proc/PID/status (VmRSS, RssAnon, ...), or -1. */
static long bb_proc_status_kib(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t flen = strlen(field);
    long kib = -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
            kib = strtol(line + flen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* utime + stime of PID in seconds (from /proc/PID/stat), or -1. */
static double bb_proc_cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces: fields restart after the last ')'. Field 3 is the
     * state; utime and stime are fields 14 and 15. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    p++;
    unsigned long long ut = 0, st = 0;
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return -1;
        if (field == 14)
            ut = strtoull(p, NULL, 10);
        if (field == 15)
            st = strtoull(p, NULL, 10);
        while (*p && *p != ' ')
            p++;
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Scheduler view of one task: time on a CPU and time runnable but waiting for one (the
 * latter says how much other load on the machine slowed it). */
typedef struct bb_usage {
    double run_s, wait_s;
} bb_usage;

/* From /proc/PID/schedstat (the main thread; both brokers are single-threaded), pid 0 =
 * the calling thread. Falls back to utime + stime (no wait figure) without schedstats. */
static void bb_usage_read(pid_t pid, bb_usage *out)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
    else
        snprintf(path, sizeof(path), "/proc/thread-self/schedstat");
    unsigned long long run = 0, wait = 0;
    FILE *f = fopen(path, "r");
    int n = f ? fscanf(f, "%llu %llu", &run, &wait) : 0;
    if (f)
        fclose(f);
    if (n == 2) {
        out->run_s = (double)run / 1e9;
        out->wait_s = (double)wait / 1e9;
    } else {
        out->run_s = bb_proc_cpu_s(pid ? pid : getpid());
        out->wait_s = 0;
    }
}

#endif
