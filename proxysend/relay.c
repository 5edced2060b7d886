/* --relay: accept, connect to the backend, prepend a header built from the real client
 * connection, pipe both ways (all on lib/net's event loop, see server.h and pump.h). */
#include "relay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "header.h"
#include "net/sock.h"
#include "server.h"

typedef struct relay {
    ps_server srv;
    int status; /* PS_EXIT_MET, or why a connection could not be relayed */
} relay;

/* One client: connecting to the backend, then piped by the server's pump. */
typedef struct rconn {
    ps_server_conn base; /* first: the server's part (client fd, connect, pump) */
    relay *r;
    pp_endpoint peer, local;
    char peer_text[80], local_text[80];
} rconn;

static void conn_free(ps_server_conn *base)
{
    free(base);
}

static void fail(rconn *c, int status, const char *why)
{
    fprintf(stderr, "proxysend: relay %s: %s\n", c->peer_text, why);
    c->r->status = status;
    ps_server_conn_finish(&c->base);
}

static void on_backend(ps_server_conn *base, int fd, const char *err)
{
    rconn *c = (rconn *)base;
    relay *r = c->r;
    if (fd < 0) {
        fail(c, PS_EXIT_CONNECT, err);
        return;
    }
    static uint8_t hdr[PS_HEADER_CAP];
    char herr[300];
    ssize_t hl = ps_header_build(r->srv.o, &c->peer, &c->local, hdr, sizeof hdr, herr, sizeof herr);
    if (hl < 0 || (size_t)hl > PS_PUMP_BUF) {
        close(fd);
        fail(c, PS_EXIT_USAGE, hl < 0 ? herr : "header too large");
        return;
    }
    if (!r->srv.o->quiet && !r->srv.o->json)
        fprintf(stderr, "proxysend: relay %s -> %s: %zd-byte header to %s\n", c->peer_text, c->local_text, hl,
                r->srv.o->forward);
    if (ps_server_conn_pipe(base, fd, hdr, (size_t)hl) < 0)
        fail(c, PS_EXIT_CONNECT, "out of memory or event loop failure");
}

static void on_accept(ps_server *srv, int fd, void *udata)
{
    relay *r = udata;
    rconn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->r = r;
    ps_sock_addr_text(fd, true, &c->peer, c->peer_text, sizeof c->peer_text);
    ps_sock_addr_text(fd, false, &c->local, c->local_text, sizeof c->local_text);
    ps_server_conn_begin(srv, &c->base, fd, conn_free);
    char err[300];
    if (ps_server_conn_connect(&c->base, r->srv.o->forward, r->srv.o->timeout_ms, on_backend, err, sizeof err) < 0)
        fail(c, PS_EXIT_CONNECT, err);
}

int ps_relay_main(const ps_opts *o)
{
    static relay r;
    memset(&r, 0, sizeof r);
    r.status = PS_EXIT_MET;
    int rc = ps_server_open(&r.srv, o, "--relay", on_accept, &r);
    if (rc)
        return rc;
    ps_server_run(&r.srv);
    return r.status;
}
