/* Listener, ready file, signals, connection bound and backend connects for --listen and
 * --relay, on lib/net (see server.h). */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "header.h"
#include "net/sock.h"

#define MAX_EVENTS 256

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

static int listen_on(const char *addr, pp_endpoint *bound, char *err, size_t cap)
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

/* "IP:PORT\n" to path atomically (path.tmp + rename), so a reader never sees half a line. */
static int write_ready_file(const char *path, const pp_endpoint *bound)
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

static void on_stop_signal(pn_loop *loop, int signo, void *udata)
{
    (void)signo, (void)udata;
    pn_loop_stop(loop);
}

static bool count_reached(const ps_server *s)
{
    return s->count && s->accepted >= s->count;
}

static void on_listener(pn_loop *loop, int fd, int events, void *udata)
{
    (void)events;
    ps_server *s = udata;
    int cfd = pn_accept(fd, NULL);
    if (cfd < 0)
        return; /* EAGAIN (another wake took it) or EMFILE: the listener reports it again */
    if (s->active >= PS_MAX_CONNS) {
        char peer[80];
        pp_endpoint ep;
        ps_sock_addr_text(cfd, true, &ep, peer, sizeof peer);
        fprintf(stderr, "proxysend: %s refused: %u connections already open\n", peer, PS_MAX_CONNS);
        close(cfd);
        return;
    }
    s->accepted++;
    if (count_reached(s))
        pn_loop_unwatch(loop, fd); /* --count: the rest wait in the backlog, unserved */
    s->on_accept(s, cfd, s->udata);
}

int ps_server_open(ps_server *s, const ps_opts *o, const char *what, ps_accept_cb on_accept, void *udata)
{
    memset(s, 0, sizeof *s);
    s->o = o;
    s->lfd = -1;
    s->count = o->count;
    s->on_accept = on_accept;
    s->udata = udata;
    signal(SIGPIPE, SIG_IGN);
    char err[400];
    if (o->forward && resolve_addr(o->forward, &s->backend, err, sizeof err)) {
        fprintf(stderr, "proxysend: %s backend %s\n", what, err);
        return PS_EXIT_CONNECT;
    }
    s->lfd = listen_on(o->listen, &s->bound, err, sizeof err);
    if (s->lfd < 0) {
        fprintf(stderr, "proxysend: %s %s\n", what, err);
        return PS_EXIT_CONNECT;
    }
    s->loop = pn_loop_new(MAX_EVENTS);
    if (!s->loop || pn_loop_on_signal(s->loop, SIGINT, on_stop_signal, NULL) ||
        pn_loop_on_signal(s->loop, SIGTERM, on_stop_signal, NULL) ||
        pn_loop_watch(s->loop, s->lfd, PN_READABLE, on_listener, s)) {
        fprintf(stderr, "proxysend: %s: event loop: %s\n", what, strerror(errno));
        goto fail;
    }
    if (o->ready_file && write_ready_file(o->ready_file, &s->bound)) {
        fprintf(stderr, "proxysend: --ready-file '%s': %s\n", o->ready_file, strerror(errno));
        close(s->lfd);
        s->lfd = -1;
        pn_loop_free(s->loop);
        s->loop = NULL;
        return PS_EXIT_USAGE;
    }
    return 0;
fail:
    close(s->lfd);
    s->lfd = -1;
    if (s->loop)
        pn_loop_free(s->loop);
    s->loop = NULL;
    return PS_EXIT_CONNECT;
}

int ps_server_run(ps_server *s)
{
    int rc = pn_loop_run(s->loop);
    while (s->conns)
        ps_server_conn_finish(s->conns);
    close(s->lfd);
    s->lfd = -1;
    pn_loop_free(s->loop);
    s->loop = NULL;
    return rc;
}

void ps_server_conn_begin(ps_server *s, ps_server_conn *c, int fd, void (*free_conn)(ps_server_conn *c))
{
    c->srv = s;
    c->fd = fd;
    c->connecting = NULL;
    c->pump = NULL;
    c->free_conn = free_conn;
    c->prev = NULL;
    c->next = s->conns;
    if (s->conns)
        s->conns->prev = c;
    s->conns = c;
    s->active++;
}

/* ---- backend connects ---------------------------------------------------------------- */

struct ps_connect {
    pn_loop *loop;
    int fd;
    uint64_t timer;
    const char *name;
    ps_server_conn *conn;
};

/* Stop watching and timing the attempt and free it; returns its socket. */
static int connect_free(ps_connect *k)
{
    int fd = k->fd;
    pn_loop_unwatch(k->loop, fd);
    pn_timer_cancel(k->loop, k->timer); /* false once it has fired */
    free(k);
    return fd;
}

static void connect_cancel(ps_connect *k)
{
    close(connect_free(k));
}

/* Free the attempt first, then tell the connection: its callback may finish it. */
static void connect_done(ps_connect *k, bool connected, const char *err)
{
    ps_server_conn *c = k->conn;
    int fd = connect_free(k);
    if (!connected) {
        close(fd);
        fd = -1;
    }
    c->connecting = NULL;
    c->on_backend(c, fd, err);
}

static void on_connect_ready(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop, (void)events;
    ps_connect *k = udata;
    int soerr = pn_connect_result(fd);
    if (soerr) {
        char err[300];
        snprintf(err, sizeof err, "connect to %s: %s", k->name, strerror(soerr));
        connect_done(k, false, err);
        return;
    }
    pn_set_nodelay(fd, true);
    connect_done(k, true, NULL);
}

static void on_connect_timeout(pn_loop *loop, uint64_t timer, void *udata)
{
    (void)loop, (void)timer;
    ps_connect *k = udata;
    char err[300];
    snprintf(err, sizeof err, "connect to %s: timed out", k->name);
    k->timer = 0;
    connect_done(k, false, err);
}

int ps_server_conn_connect(ps_server_conn *c, const char *name, unsigned timeout_ms, ps_backend_cb cb, char *err,
                           size_t cap)
{
    ps_connect *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(err, cap, "connect to %s: out of memory", name);
        return -1;
    }
    bool pending;
    k->fd = pn_connect(&c->srv->backend, NULL, &pending, err, cap);
    if (k->fd < 0) {
        free(k);
        return -1;
    }
    /* a connect that completed at once reports WRITABLE on the first wake, like a pending one */
    k->loop = c->srv->loop;
    k->name = name;
    k->conn = c;
    k->timer = pn_timer_add(k->loop, timeout_ms, on_connect_timeout, k);
    if (!k->timer || pn_loop_watch(k->loop, k->fd, PN_WRITABLE, on_connect_ready, k)) {
        snprintf(err, cap, "connect to %s: %s", name, strerror(errno ? errno : ENOMEM));
        connect_cancel(k);
        return -1;
    }
    c->connecting = k;
    c->on_backend = cb;
    return 0;
}

/* ---- piping and the end of a connection ------------------------------------------------ */

static void on_pump_done(ps_pump *p, void *udata)
{
    (void)p;
    ps_server_conn_finish(udata);
}

int ps_server_conn_pipe(ps_server_conn *c, int backend_fd, const uint8_t *preload, size_t len)
{
    ps_pump *p = malloc(sizeof *p);
    if (!p) {
        close(backend_fd);
        return -1;
    }
    ps_pump_init(p, c->fd, backend_fd);
    if (!ps_pump_preload(p, preload, len)) {
        close(backend_fd);
        free(p);
        return -1;
    }
    c->pump = p;
    c->fd = -1; /* the pump closes it */
    if (ps_pump_start(p, c->srv->loop, on_pump_done, c) < 0)
        return -1;
    return 0;
}

void ps_server_conn_finish(ps_server_conn *c)
{
    ps_server *s = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->active--;
    if (c->connecting)
        connect_cancel(c->connecting);
    if (c->pump) {
        ps_pump_close(c->pump);
        free(c->pump);
    } else if (c->fd >= 0) {
        pn_loop_unwatch(s->loop, c->fd); /* fails harmlessly when not watched */
        close(c->fd);
    }
    c->free_conn(c);
    if (count_reached(s) && s->active == 0)
        pn_loop_stop(s->loop);
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
