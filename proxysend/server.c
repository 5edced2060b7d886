/* Listening sockets, ready files and backend connects for --listen and --relay, on lib/net. */
#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "header.h"
#include "net/sock.h"

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

/* HOST:PORT (names allowed, resolved once) -> pn_addr */
static int resolve_addr(const char *hostport, pn_addr *out, char *err, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (ps_resolve(hostport, &ss, &sl, err, cap))
        return -1;
    if (pn_addr_from_sockaddr((struct sockaddr *)&ss, sl, out)) {
        snprintf(err, cap, "'%s': not an IPv4 or IPv6 address", hostport);
        return -1;
    }
    return 0;
}

int ps_listen_on(const char *addr, pp_endpoint *bound, char *err, size_t cap)
{
    pn_addr a, b;
    char e2[300];
    if (resolve_addr(addr, &a, e2, sizeof e2)) {
        snprintf(err, cap, "listen address %s", e2);
        return -1;
    }
    int fd = pn_listen(&a, 128, 0, &b, err, cap);
    if (fd >= 0)
        ps_endpoint_from_sockaddr(pn_addr_sa(&b), bound);
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
    pn_addr dst;
    char e2[300];
    if (resolve_addr(hostport, &dst, e2, sizeof e2)) {
        snprintf(err, cap, "backend %s", e2);
        return -1;
    }
    bool pending;
    int fd = pn_connect(&dst, NULL, &pending, err, cap);
    if (fd < 0)
        return -1;
    pn_set_nodelay(fd, true);
    long long deadline = ps_now_ms() + timeout_ms;
    while (pending) {
        long long left = deadline - ps_now_ms();
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int rc = poll(&p, 1, left > 0 ? (int)left : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        int soerr = rc > 0 ? pn_connect_result(fd) : 0;
        if (rc > 0 && !soerr)
            break;
        snprintf(err, cap, "connect to %s: %s", hostport, rc == 0 ? "timed out" : strerror(soerr ? soerr : errno));
        close(fd);
        return -1;
    }
    return fd;
}

void ps_sock_addr_text(int fd, bool peer, pp_endpoint *ep, char *out, size_t cap)
{
    pn_addr a;
    memset(&a, 0, sizeof a);
    if (peer ? pn_peer_addr(fd, &a) : pn_local_addr(fd, &a))
        memset(&a, 0, sizeof a);
    ps_endpoint_from_sockaddr(pn_addr_sa(&a), ep);
    char text[PN_ADDR_TEXT_MAX];
    snprintf(out, cap, "%s", pn_addr_to_text(&a, text, sizeof text));
}
