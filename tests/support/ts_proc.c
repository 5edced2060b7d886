/* Child processes for integration tests: posix_spawn with redirected output, stop by PID
 * (SIGTERM, deadline, SIGKILL), exit classification, and a registry so nothing outlives
 * the test binary. Waits use a pidfd when the kernel has one, else short bounded polls. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/loop.h"
#include "support.h"
#include "ts_internal.h"

extern char **environ;

#define TS_MAX_PROCS 64

static pid_t registry[TS_MAX_PROCS];
static bool atexit_installed;

static void register_pid(pid_t pid)
{
    for (int i = 0; i < TS_MAX_PROCS; i++)
        if (registry[i] == 0) {
            registry[i] = pid;
            return;
        }
}

static void unregister_pid(pid_t pid)
{
    for (int i = 0; i < TS_MAX_PROCS; i++)
        if (registry[i] == pid)
            registry[i] = 0;
}

void ts_stop_all(void)
{
    for (int i = 0; i < TS_MAX_PROCS; i++) {
        if (registry[i] > 0) {
            kill(registry[i], SIGKILL);
            waitpid(registry[i], NULL, 0);
            registry[i] = 0;
        }
    }
}

/* environ with env_extra applied ("KEY=VALUE" replaces KEY). Caller frees the array only. */
static char **build_env(const char *const extra[])
{
    size_t n_env = 0, n_extra = 0;
    while (environ && environ[n_env])
        n_env++;
    while (extra && extra[n_extra])
        n_extra++;
    char **out = calloc(n_env + n_extra + 1, sizeof *out);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n_env; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t klen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool overridden = false;
        for (size_t k = 0; k < n_extra && !overridden; k++)
            overridden = strncmp(extra[k], environ[i], klen) == 0 && extra[k][klen] == '=';
        if (!overridden)
            out[o++] = environ[i];
    }
    for (size_t k = 0; k < n_extra; k++)
        out[o++] = (char *)extra[k];
    out[o] = NULL;
    return out;
}

int ts_spawn(ts_proc *p, const char *const argv[], const char *const env_extra[],
             const char *stdout_path, const char *stderr_path)
{
    memset(p, 0, sizeof *p);
    ts_clear_error();
    if (!argv || !argv[0])
        return ts_fail("spawn: empty argv");
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    const int wflags = O_WRONLY | O_CREAT | O_APPEND; /* no CLOEXEC: these are the child's stdio */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, stdout_path ? stdout_path : "/dev/null", wflags, 0644);
    if (stdout_path && stderr_path && strcmp(stdout_path, stderr_path) == 0)
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, stderr_path ? stderr_path : "/dev/null", wflags, 0644);
    /* The parent may block signals for a signalfd (pn_loop_on_signal) or ignore SIGPIPE:
     * the child must start with neither. */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    char **envp = build_env(env_extra);
    int rc = -1;
    if (!envp) {
        ts_fail("spawn %s: out of memory", argv[0]);
    } else {
        int e = strchr(argv[0], '/')
                    ? posix_spawn(&p->pid, argv[0], &fa, &attr, (char *const *)argv, envp)
                    : posix_spawnp(&p->pid, argv[0], &fa, &attr, (char *const *)argv, envp);
        if (e != 0) {
            p->pid = 0;
            ts_fail("spawn %s: %s", argv[0], strerror(e));
        } else {
            register_pid(p->pid);
            if (!atexit_installed) {
                atexit(ts_stop_all);
                atexit_installed = true;
            }
            rc = 0;
        }
    }
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

static void record(ts_proc *p, int status)
{
    unregister_pid(p->pid);
    p->wait_status = status;
    p->reaped = true;
}

/* Reap without blocking: true when the process has exited (now or before). */
static bool try_reap(ts_proc *p)
{
    if (p->reaped)
        return true;
    if (p->pid <= 0)
        return false;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        record(p, status);
        return true;
    }
    if (r < 0 && errno == ECHILD) { /* someone else reaped it: treat as gone */
        record(p, 0);
        return true;
    }
    return false;
}

/* Wait for exit until the deadline: pidfd readiness, else short polls. */
static bool wait_reaped(ts_proc *p, uint64_t deadline)
{
    if (try_reap(p))
        return true;
#ifdef SYS_pidfd_open
    int pfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
#else
    int pfd = -1;
#endif
    for (;;) {
        if (try_reap(p))
            break;
        int left = ts_remaining_ms(deadline);
        if (left == 0)
            break;
        struct pollfd pp = {.fd = pfd, .events = POLLIN};
        if (pfd >= 0)
            poll(&pp, 1, left);
        else
            poll(NULL, 0, left < 10 ? left : 10);
    }
    if (pfd >= 0)
        close(pfd);
    return p->reaped;
}

static void fill_exit(const ts_proc *p, bool killed, ts_exit *ex)
{
    if (!ex)
        return;
    memset(ex, 0, sizeof *ex);
    int st = p->wait_status;
    ex->killed = killed;
    if (WIFEXITED(st)) {
        ex->exited = true;
        ex->code = WEXITSTATUS(st);
    } else if (WIFSIGNALED(st)) {
        ex->signaled = true;
        ex->signo = WTERMSIG(st);
        ex->crashed = ex->signo != SIGTERM && ex->signo != SIGKILL;
    }
}

int ts_stop(ts_proc *p, int deadline_ms, ts_exit *ex)
{
    ts_clear_error();
    if (!p->reaped && p->pid <= 0)
        return ts_fail("stop: no process");
    bool killed = false;
    if (!try_reap(p)) {
        kill(p->pid, SIGTERM);
        if (!wait_reaped(p, pn_now_ms() + (uint64_t)(deadline_ms > 0 ? deadline_ms : 0))) {
            kill(p->pid, SIGKILL);
            killed = true;
            int status;
            if (waitpid(p->pid, &status, 0) == p->pid)
                record(p, status);
            else
                record(p, 0);
        }
    }
    fill_exit(p, killed, ex);
    return 0;
}

int ts_wait_exit(ts_proc *p, int timeout_ms, ts_exit *ex)
{
    ts_clear_error();
    if (!p->reaped && p->pid <= 0)
        return ts_fail("wait: no process");
    if (!wait_reaped(p, pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0)))
        return ts_fail("process %d still running after %d ms", (int)p->pid, timeout_ms);
    fill_exit(p, false, ex);
    return 0;
}

bool ts_alive(ts_proc *p)
{
    return p->pid > 0 && !try_reap(p);
}

const char *ts_exit_text(const ts_exit *ex, char *buf, size_t cap)
{
    if (ex->exited)
        snprintf(buf, cap, "exit %d", ex->code);
    else if (ex->signaled)
        snprintf(buf, cap, "signal %d%s%s", ex->signo, ex->crashed ? " (crash)" : "",
                 ex->killed ? " (killed after deadline)" : "");
    else
        snprintf(buf, cap, "unknown");
    return buf;
}
