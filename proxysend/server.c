/* Listening sockets, ready files and backend connects for --listen and --relay. */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "header.h"

volatile sig_atomic_t ps_stop_requested;

static void on_stop(int sig)
{
    (void)sig;
    ps_stop_requested = 1;
}

void ps_install_stop_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: poll returns EINTR and the loop checks the flag */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int ps_listen_on(const char *addr, pp_endpoint *bound, char *err, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char e2[300];
    if (ps_resolve(addr, &ss, &sl, e2, sizeof e2)) {
        snprintf(err, cap, "listen address %s", e2);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, cap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 128)) {
        snprintf(err, cap, "cannot listen on %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    ps_endpoint_from_sockaddr((struct sockaddr *)&a, bound);
    return fd;
}

int ps_write_ready_file(const char *path, const pp_endpoint *bound)
{
    char tmp[4096], a[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    pp_endpoint_addr_str(bound, a, sizeof a);
    fprintf(f, bound->family == PP_FAM_INET6 ? "[%s]:%u\n" : "%s:%u\n", a, bound->port);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

int ps_connect_nb(const char *hostport, unsigned timeout_ms, char *err, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    char e2[300];
    if (ps_resolve(hostport, &ss, &sl, e2, sizeof e2)) {
        snprintf(err, cap, "backend %s", e2);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, cap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        snprintf(err, cap, "connect to %s: %s", hostport, strerror(errno));
        close(fd);
        return -1;
    }
    long long deadline = ps_now_ms() + timeout_ms;
    for (;;) {
        long long left = deadline - ps_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, left > 0 ? (int)left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        int soerr = 0;
        socklen_t el = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el);
        if (rc > 0 && !soerr)
            return fd;
        snprintf(err, cap, "connect to %s: %s", hostport, rc == 0 ? "timed out" : strerror(soerr ? soerr : errno));
        close(fd);
        return -1;
    }
}

void ps_sock_addr_text(int fd, bool peer, pp_endpoint *ep, char *out, size_t cap)
{
    struct sockaddr_storage a;
    socklen_t al = sizeof a;
    memset(&a, 0, sizeof a);
    if (peer ? getpeername(fd, (struct sockaddr *)&a, &al) : getsockname(fd, (struct sockaddr *)&a, &al))
        a.ss_family = AF_UNSPEC;
    ps_endpoint_from_sockaddr((struct sockaddr *)&a, ep);
    char s[160];
    pp_endpoint_addr_str(ep, s, sizeof s);
    snprintf(out, cap, ep->family == PP_FAM_INET6 ? "[%s]:%u" : "%s:%u", s, ep->port);
}
