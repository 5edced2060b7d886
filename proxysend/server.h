/* Server-side plumbing shared by --listen and --relay, on lib/net's event loop: the listening
 * socket and ready file, stop on SIGINT/SIGTERM, the bound on open connections, --count, and
 * a non-blocking backend connect with a deadline. */
#ifndef PROXYSEND_SERVER_H
#define PROXYSEND_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "net/addr.h"
#include "net/loop.h"
#include "opts.h"
#include "proxy/proxy.h"
#include "pump.h"

/* Client connections open at a time; one more is closed at once (each may hold two 64 KiB
 * relay buffers, so this bounds memory too). */
#define PS_MAX_CONNS 1024

typedef struct ps_server ps_server;
typedef struct ps_connect ps_connect;
typedef struct ps_server_conn ps_server_conn;
/* The backend connect of c ended: fd >= 0 connected (TCP_NODELAY set), or -1 with err. */
typedef void (*ps_backend_cb)(ps_server_conn *c, int fd, const char *err);

/* One accepted client, embedded first in each mode's connection: the server lists it (to
 * abort it at exit) and owns the common life of a client: backend connect, then a pump. */
struct ps_server_conn {
    ps_server_conn *prev, *next;
    ps_server *srv;
    int fd;                  /* the client; owned by the pump once piping (-1 then) */
    ps_connect *connecting;  /* the backend connect under way, if any */
    ps_backend_cb on_backend;
    ps_pump *pump;           /* piping, once started */
    void (*free_conn)(ps_server_conn *c); /* frees the mode's connection around c */
};

/* A client was accepted (non-blocking fd): the mode owns it, registers it with
 * ps_server_conn_begin and ends it once with ps_server_conn_finish. */
typedef void (*ps_accept_cb)(ps_server *s, int fd, void *udata);

struct ps_server {
    const ps_opts *o;
    pn_loop *loop;
    int lfd;
    pp_endpoint bound; /* the listening address (port 0 resolved) */
    pn_addr backend;   /* --forward / --to, resolved once at start (AF_UNSPEC when absent) */
    unsigned count;    /* --count; 0 = until signalled */
    unsigned accepted; /* connections handed to on_accept */
    size_t active;
    ps_server_conn *conns;
    ps_accept_cb on_accept;
    void *udata;
};

/* Listen on o->listen, resolve o->forward, write --ready-file, stop on SIGINT/SIGTERM.
 * what names the mode in messages ("--listen"). 0, or a PS_EXIT_* status after printing why. */
int ps_server_open(ps_server *s, const ps_opts *o, const char *what, ps_accept_cb on_accept, void *udata);
/* Serve until --count connections have ended or a stop signal; then abort the connections
 * still open, close the listener and free the loop. 0, or -1 when the loop failed. */
int ps_server_run(ps_server *s);
void ps_server_conn_begin(ps_server *s, ps_server_conn *c, int fd, void (*free_conn)(ps_server_conn *c));
/* Unlist c, give up its connect, close its pump (or its client), then free_conn(c). Once
 * --count connections have finished, the server stops. */
void ps_server_conn_finish(ps_server_conn *c);
/* Connect to the backend without blocking, giving up after timeout_ms (`name` is the
 * backend as the user wrote it, for messages); cb runs once from the loop. -1 with err when
 * it fails at once (cb is not called then). */
int ps_server_conn_connect(ps_server_conn *c, const char *name, unsigned timeout_ms, ps_backend_cb cb, char *err,
                           size_t cap);
/* Pipe the client and backend_fd both ways, `preload` first toward the backend; c finishes
 * when the pump does. -1 when preload does not fit the pump's buffer or memory or the loop
 * fails: the caller then finishes c; backend_fd is closed either way. */
int ps_server_conn_pipe(ps_server_conn *c, int backend_fd, const uint8_t *preload, size_t len);

/* "ip:port" / "[ip6]:port" for a connected socket's peer (peer=true) or local address. */
void ps_sock_addr_text(int fd, bool peer, pp_endpoint *ep, char *out, size_t cap);

#endif
