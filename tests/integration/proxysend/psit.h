/* Shared helpers for proxysend's integration tests: run proxysend by PID with bounded waits,
 * a loopback test receiver built on lib/proxy, and small file/JSON checks. Header-only
 * (static functions) so each test program stays one file plus this. */
#ifndef PSIT_H
#define PSIT_H

#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy/proxy.h"
#include "support.h"

#ifndef PROXYSEND_BIN
#error "PROXYSEND_BIN must point at the proxysend binary"
#endif

#define PSIT_WAIT_MS 10000 /* upper bound for any single wait: generous, never a sleep */

static char psit_dir[512];

static inline int psit_setup(void **state)
{
    (void)state;
    if (ts_tmpdir("psend", psit_dir, sizeof psit_dir))
        return -1;
    return 0;
}

static inline int psit_teardown(void **state)
{
    (void)state;
    ts_stop_all();
    ts_rmtree(psit_dir);
    return 0;
}

/* After each test, failed or not: stop every process it started (by PID). */
static inline int psit_after(void **state)
{
    (void)state;
    ts_stop_all();
    return 0;
}

static inline void psit_path(char *out, size_t cap, const char *name)
{
    if (snprintf(out, cap, "%s/%s", psit_dir, name) >= (int)cap)
        fail_msg("path too long: %s/%s", psit_dir, name);
}

/* Spawn proxysend with args (NULL-terminated), stdout to out_name, stderr to err_name. */
static inline void psit_spawn(ts_proc *p, const char *const *args, const char *out_name, const char *err_name)
{
    const char *argv[64] = {PROXYSEND_BIN};
    size_t n = 1;
    for (; args[n - 1] && n < 63; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    char out[600], err[600];
    psit_path(out, sizeof out, out_name);
    psit_path(err, sizeof err, err_name);
    unlink(out); /* ts_spawn appends: start each run with fresh output files */
    unlink(err);
    if (ts_spawn(p, argv, NULL, out, err) != 0)
        fail_msg("spawn proxysend: %s", ts_last_error());
}

/* Wait for the spawned proxysend to exit on its own; returns its exit code. */
static inline int psit_exit_code(ts_proc *p)
{
    ts_exit ex;
    if (ts_wait_exit(p, PSIT_WAIT_MS, &ex) != 0) {
        ts_stop(p, 2000, &ex);
        fail_msg("proxysend did not exit within %d ms", PSIT_WAIT_MS);
    }
    if (!ex.exited) {
        char t[64];
        fail_msg("proxysend ended by %s", ts_exit_text(&ex, t, sizeof t));
    }
    return ex.code;
}

/* Run proxysend to completion; returns its exit code; output in out_name/err_name. */
static inline int psit_run(const char *const *args, const char *out_name, const char *err_name)
{
    ts_proc p;
    psit_spawn(&p, args, out_name, err_name);
    return psit_exit_code(&p);
}

static inline size_t psit_read(const char *name, char *buf, size_t cap)
{
    char path[600];
    psit_path(path, sizeof path, name);
    ssize_t n = ts_read_file(path, buf, cap);
    return n < 0 ? 0 : (size_t)n;
}

static inline void psit_assert_contains(const char *name, const char *needle)
{
    static char buf[1 << 20];
    psit_read(name, buf, sizeof buf);
    if (!strstr(buf, needle))
        fail_msg("%s does not contain '%s'; it holds:\n%s", name, needle, buf);
}

/* A loopback listener on a kernel-chosen port; addr gets "127.0.0.1:PORT". */
static inline int psit_listen(char *addr, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 16))
        fail_msg("listen: %s", strerror(errno));
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    snprintf(addr, cap, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

static inline int psit_accept(int lfd)
{
    struct pollfd p = {.fd = lfd, .events = POLLIN};
    if (poll(&p, 1, PSIT_WAIT_MS) != 1)
        fail_msg("no connection within %d ms", PSIT_WAIT_MS);
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        fail_msg("accept: %s", strerror(errno));
    return fd;
}

/* The test receiver: read until lib/proxy says the header is complete or invalid (or the
 * peer stops). Returns pp_parse's verdict; buf/len hold everything read; first_read the
 * size of the first read. */
static inline ssize_t psit_read_header(int fd, uint8_t *buf, size_t cap, size_t *len, size_t *first_read, pp_header *h)
{
    *len = 0;
    *first_read = 0;
    for (int reads = 0;; reads++) {
        size_t got = 0;
        ts_end e = ts_read(fd, buf + *len, cap - *len, 1, PSIT_WAIT_MS, &got);
        if (got) {
            /* take whatever else is already queued, as one read would */
            ssize_t more = recv(fd, buf + *len + got, cap - *len - got, MSG_DONTWAIT);
            if (more > 0)
                got += (size_t)more;
        }
        if (reads == 0)
            *first_read = got;
        *len += got;
        ssize_t rc = pp_parse(buf, *len, NULL, h);
        if (rc != PP_NEED_MORE || e != TS_END_COUNT || *len == cap)
            return rc;
    }
}

/* Close with RST (SO_LINGER 0), as HAProxy and nginx do on a bad header. */
static inline void psit_close_rst(int fd)
{
    struct linger lg = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

/* A free loopback TCP port (bound then released: only for programs with no port-0 option). */
static inline unsigned psit_free_port(void)
{
    char a[64];
    int fd = psit_listen(a, sizeof a);
    close(fd);
    return (unsigned)atoi(strrchr(a, ':') + 1);
}

/* True once something listens on 127.0.0.1:port: our own bind() then fails. */
static inline bool psit_port_taken(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    bool taken = bind(fd, (struct sockaddr *)&a, sizeof a) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

static inline void psit_wait_port(unsigned port, ts_proc *owner)
{
    struct pollfd none = {.fd = -1};
    for (int waited = 0; waited < PSIT_WAIT_MS; waited += 20) {
        if (psit_port_taken(port))
            return;
        if (owner && !ts_alive(owner))
            fail_msg("the server exited before listening on port %u", port);
        poll(&none, 0, 20); /* bounded poll interval while waiting for the bind */
    }
    fail_msg("nothing listens on port %u after %d ms", port, PSIT_WAIT_MS);
}

/* Start proxysend --listen/--relay with a ready file; addr gets the bound "IP:PORT". */
static inline void psit_start_server(ts_proc *p, const char *const *args, const char *out_name, char *addr, size_t cap)
{
    char rf[600];
    psit_path(rf, sizeof rf, "ready");
    unlink(rf);
    const char *all[48];
    size_t n = 0;
    for (; args[n] && n < 44; n++)
        all[n] = args[n];
    all[n++] = "--ready-file";
    all[n++] = rf;
    all[n] = NULL;
    char errname[128];
    snprintf(errname, sizeof errname, "%s.err", out_name);
    psit_spawn(p, all, out_name, errname);
    char line[200];
    if (ts_wait_line(rf, NULL, PSIT_WAIT_MS, line, sizeof line) != 0)
        fail_msg("proxysend wrote no ready file: %s", ts_last_error());
    if (snprintf(addr, cap, "%s", line) >= (int)cap)
        fail_msg("ready file line too long: %s", line);
}

#endif
