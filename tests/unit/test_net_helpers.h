/* Helpers shared by tests/unit/test_net_*.c: loopback connection pairs and bounded waits.
 * Every wait polls for the event with a deadline; nothing sleeps. */
#ifndef TEST_NET_HELPERS_H
#define TEST_NET_HELPERS_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "net/addr.h"
#include "net/loop.h"
#include "net/sock.h"

#define WAIT_MS 5000 /* generous: only a broken implementation ever reaches it */

/* poll one fd until events or the deadline: true when ready. */
static inline bool wait_ready(int fd, short events, int timeout_ms)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = pn_now_ms();
        if (now >= deadline)
            return false;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(deadline - now));
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

/* Listen on ip:0; returns the fd and the bound address. */
static inline int listen_any(const char *ip, pn_addr *bound)
{
    pn_addr a;
    char err[256];
    if (pn_addr_from_ip(ip, 0, &a) < 0)
        return -1;
    return pn_listen(&a, 16, 0, bound, err, sizeof err);
}

/* Accept one connection within the deadline. */
static inline int accept_one(int lfd, pn_addr *peer)
{
    if (!wait_ready(lfd, POLLIN, WAIT_MS))
        return -1;
    return pn_accept(lfd, peer);
}

/* A connected client/server pair over loopback (src may be NULL). 0 or -1. */
static inline int tcp_pair(const char *ip, const pn_addr *src, int *client, int *server, pn_addr *server_sees)
{
    pn_addr bound;
    bool pending;
    char err[256];
    int lfd = listen_any(ip, &bound);
    if (lfd < 0)
        return -1;
    *client = pn_connect(&bound, src, &pending, err, sizeof err);
    if (*client < 0) {
        close(lfd);
        return -1;
    }
    if (pending && (!wait_ready(*client, POLLOUT, WAIT_MS) || pn_connect_result(*client) != 0)) {
        close(*client);
        close(lfd);
        return -1;
    }
    *server = accept_one(lfd, server_sees);
    close(lfd);
    if (*server < 0) {
        close(*client);
        return -1;
    }
    return 0;
}

/* Read exactly n bytes within the deadline. true on success. */
static inline bool read_exact(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        size_t k;
        pn_io io = pn_recv(fd, (char *)buf + got, n - got, &k);
        if (io == PN_IO_OK)
            got += k;
        else if (io != PN_IO_AGAIN || !wait_ready(fd, POLLIN, WAIT_MS))
            return false;
    }
    return true;
}

/* Read until something other than data arrives; returns that outcome (FIN, RST, ...). */
static inline pn_io read_to_end(int fd, size_t *total)
{
    char buf[4096];
    *total = 0;
    for (;;) {
        size_t k;
        pn_io io = pn_recv(fd, buf, sizeof buf, &k);
        if (io == PN_IO_OK) {
            *total += k;
            continue;
        }
        if (io != PN_IO_AGAIN)
            return io;
        if (!wait_ready(fd, POLLIN, WAIT_MS))
            return PN_IO_AGAIN; /* timed out */
    }
}

#endif
