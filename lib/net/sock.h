/* lib/net/sock.h: non-blocking TCP socket helpers.
 *
 * Every fd made here is O_NONBLOCK and O_CLOEXEC. Functions that can fail for reasons a
 * user should read take (err, errcap) and write a one-line message there ("bind
 * 127.0.0.1:1883: Address already in use"); err may be NULL.
 *
 * Reads tell a clean close from a reset: read() == 0 is a FIN (PN_IO_FIN), ECONNRESET is a
 * RST (PN_IO_RST). The conformance suite judges receivers on exactly that difference.
 */
#ifndef PN_SOCK_H
#define PN_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "net/addr.h"
#include "net/buf.h"

enum {
    PN_LISTEN_V6ONLY = 1 << 0, /* IPv6 listener without IPv4-mapped peers */
    /* TCP_NODELAY on the listener. Linux copies it to every accepted socket (they are clones
     * of the listener), which saves one setsockopt per connection. */
    PN_LISTEN_NODELAY = 1 << 1,
};

/* socket + SO_REUSEADDR + bind + listen (backlog <= 0 means 128). Port 0 is allowed: the
 * kernel's choice is written to *bound (may be NULL). Returns the listening fd, or -1 with
 * err set ("bind 127.0.0.1:1883: Address already in use"). */
int pn_listen(const pn_addr *addr, int backlog, int flags, pn_addr *bound, char *err, size_t errcap);

/* accept4(NONBLOCK|CLOEXEC). Returns the fd (peer in *peer, may be NULL), or -1 with errno
 * (EAGAIN when nothing is pending; EMFILE etc. are the caller's business). */
int pn_accept(int listen_fd, pn_addr *peer);

/* Non-blocking connect to dst. When src is non-NULL the socket is bound to it first (port 0:
 * IP_BIND_ADDRESS_NO_PORT so the kernel picks the port at connect time; use this for
 * 127.0.0.N sources). Returns the fd, or -1 with err set. *in_progress is true when the
 * connect is still pending: wait for PN_WRITABLE, then call pn_connect_result(). */
int pn_connect(const pn_addr *dst, const pn_addr *src, bool *in_progress, char *err, size_t errcap);
/* After PN_WRITABLE on a pending connect: 0 when connected, else the errno (ECONNREFUSED...). */
int pn_connect_result(int fd);

int pn_set_nonblock(int fd, bool on);
int pn_set_nodelay(int fd, bool on);
/* Half-close: send FIN, keep reading (shutdown SHUT_WR). */
int pn_shutdown_write(int fd);
/* Abortive close: SO_LINGER {1, 0} then close(), so the peer gets a RST. Closes fd always. */
int pn_close_rst(int fd);

int pn_peer_addr(int fd, pn_addr *out);  /* getpeername */
int pn_local_addr(int fd, pn_addr *out); /* getsockname */

/* What a read or write found. */
typedef enum pn_io {
    PN_IO_OK = 0,    /* some bytes moved (*n > 0) */
    PN_IO_AGAIN,     /* would block: wait for readiness */
    PN_IO_FIN,       /* read: peer closed cleanly (read returned 0) */
    PN_IO_RST,       /* peer reset the connection (ECONNRESET; also EPIPE on write) */
    PN_IO_ERROR,     /* anything else: errno tells */
} pn_io;

const char *pn_io_name(pn_io io); /* "ok", "again", "fin", "rst", "error" */

/* One read()/send(MSG_NOSIGNAL) attempt (EINTR retried). *n gets the byte count. */
pn_io pn_recv(int fd, void *buf, size_t cap, size_t *n);
pn_io pn_send(int fd, const void *buf, size_t len, size_t *n);
/* Read into the free tail of b (one read; PN_IO_ERROR with errno ENOBUFS when b is full). */
pn_io pn_recv_buf(int fd, pn_buf *b, size_t *n);
/* Send from the front of b and consume what went out (one send). PN_IO_OK with *n = 0
 * when b is empty. */
pn_io pn_send_buf(int fd, pn_buf *b, size_t *n);

#endif
