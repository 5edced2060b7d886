/* Non-blocking TCP socket helpers: see sock.h. */
#include "net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || errcap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/* errno-preserving close for error paths */
static void close_keep_errno(int fd)
{
    int e = errno;
    close(fd);
    errno = e;
}

int pn_listen(const pn_addr *addr, int backlog, int flags, pn_addr *bound, char *err, size_t errcap)
{
    char text[PN_ADDR_TEXT_MAX];
    int family = pn_addr_family(addr);
    pn_addr_to_text(addr, text, sizeof text);
    if (family != AF_INET && family != AF_INET6) {
        set_err(err, errcap, "listen: no address");
        errno = EINVAL;
        return -1;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errcap, "socket for %s: %s", text, strerror(errno));
        return -1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
        set_err(err, errcap, "SO_REUSEADDR on %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    if (family == AF_INET6) {
        int v6only = (flags & PN_LISTEN_V6ONLY) ? 1 : 0;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) < 0) {
            set_err(err, errcap, "IPV6_V6ONLY on %s: %s", text, strerror(errno));
            close_keep_errno(fd);
            return -1;
        }
    }
    if ((flags & PN_LISTEN_NODELAY) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) {
        set_err(err, errcap, "TCP_NODELAY on %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    if (bind(fd, pn_addr_sa(addr), addr->len) < 0) {
        set_err(err, errcap, "bind %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    if (listen(fd, backlog > 0 ? backlog : 128) < 0) {
        set_err(err, errcap, "listen %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    if (bound && pn_local_addr(fd, bound) < 0) {
        set_err(err, errcap, "getsockname %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    return fd;
}

int pn_accept(int listen_fd, pn_addr *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd;
    do
        fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return -1;
    if (peer && pn_addr_from_sockaddr((struct sockaddr *)&ss, len, peer) < 0)
        memset(peer, 0, sizeof *peer);
    return fd;
}

int pn_connect(const pn_addr *dst, const pn_addr *src, bool *in_progress, char *err, size_t errcap)
{
    char text[PN_ADDR_TEXT_MAX], stext[PN_ADDR_TEXT_MAX];
    int family = pn_addr_family(dst);
    bool pending_dummy;
    if (!in_progress)
        in_progress = &pending_dummy;
    *in_progress = false;
    pn_addr_to_text(dst, text, sizeof text);
    if (family != AF_INET && family != AF_INET6) {
        set_err(err, errcap, "connect: no address");
        errno = EINVAL;
        return -1;
    }
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errcap, "socket for %s: %s", text, strerror(errno));
        return -1;
    }
    if (src && pn_addr_family(src) != AF_UNSPEC) {
        pn_addr_to_text(src, stext, sizeof stext);
        if (pn_addr_family(src) != family) {
            set_err(err, errcap, "source %s and destination %s differ in family", stext, text);
            close(fd);
            errno = EAFNOSUPPORT;
            return -1;
        }
        if (pn_addr_port(src) == 0) {
            /* Let connect() pick the port: many 127.0.0.N sources can share port numbers. */
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        }
        if (bind(fd, pn_addr_sa(src), src->len) < 0) {
            set_err(err, errcap, "bind source %s: %s", stext, strerror(errno));
            close_keep_errno(fd);
            return -1;
        }
    }
    int rc;
    do
        rc = connect(fd, pn_addr_sa(dst), dst->len);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        if (errno == EINPROGRESS) {
            *in_progress = true;
            return fd;
        }
        set_err(err, errcap, "connect %s: %s", text, strerror(errno));
        close_keep_errno(fd);
        return -1;
    }
    return fd;
}

int pn_connect_result(int fd)
{
    int soerr = 0;
    socklen_t len = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        return errno;
    return soerr;
}

int pn_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return -1;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl);
}

int pn_set_nodelay(int fd, bool on)
{
    int v = on ? 1 : 0;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

int pn_shutdown_write(int fd)
{
    return shutdown(fd, SHUT_WR);
}

int pn_close_rst(int fd)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    int rc = setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    if (close(fd) < 0)
        rc = -1;
    return rc;
}

int pn_peer_addr(int fd, pn_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(out, 0, sizeof *out);
    if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (pn_addr_from_sockaddr((struct sockaddr *)&ss, len, out) < 0) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return 0;
}

int pn_local_addr(int fd, pn_addr *out)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    memset(out, 0, sizeof *out);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -1;
    if (pn_addr_from_sockaddr((struct sockaddr *)&ss, len, out) < 0) {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return 0;
}

const char *pn_io_name(pn_io io)
{
    switch (io) {
    case PN_IO_OK: return "ok";
    case PN_IO_AGAIN: return "again";
    case PN_IO_FIN: return "fin";
    case PN_IO_RST: return "rst";
    case PN_IO_ERROR: return "error";
    }
    return "?";
}

static pn_io classify_errno(void)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return PN_IO_AGAIN;
    if (errno == ECONNRESET || errno == EPIPE)
        return PN_IO_RST;
    return PN_IO_ERROR;
}

pn_io pn_recv(int fd, void *buf, size_t cap, size_t *n)
{
    ssize_t r;
    *n = 0;
    if (cap == 0) {
        errno = ENOBUFS;
        return PN_IO_ERROR;
    }
    do
        r = read(fd, buf, cap);
    while (r < 0 && errno == EINTR);
    if (r > 0) {
        *n = (size_t)r;
        return PN_IO_OK;
    }
    if (r == 0)
        return PN_IO_FIN;
    return classify_errno();
}

pn_io pn_send(int fd, const void *buf, size_t len, size_t *n)
{
    ssize_t r;
    *n = 0;
    if (len == 0)
        return PN_IO_OK;
    do
        r = send(fd, buf, len, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r >= 0) {
        *n = (size_t)r;
        return PN_IO_OK;
    }
    return classify_errno();
}

pn_io pn_recv_buf(int fd, pn_buf *b, size_t *n)
{
    size_t space;
    uint8_t *tail = pn_buf_tail(b, &space);
    pn_io io = pn_recv(fd, tail, space, n);
    if (io == PN_IO_OK)
        pn_buf_commit(b, *n);
    return io;
}

pn_io pn_send_buf(int fd, pn_buf *b, size_t *n)
{
    *n = 0;
    if (pn_buf_empty(b))
        return PN_IO_OK;
    pn_io io = pn_send(fd, pn_buf_peek(b), pn_buf_len(b), n);
    if (io == PN_IO_OK)
        pn_buf_consume(b, *n);
    return io;
}
