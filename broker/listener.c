/* broker/listener: bind every configured listener (port 0 allowed) and accept connections.
 * A bind failure names the listener and the address (exit 3 in main.c). */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "net/sock.h"
#include "quirks.h"

/* Accept until EAGAIN, at most this many per wake. Taking one per wake instead (the listener
 * is level-triggered, so epoll reports it again) saves the failing accept4 on a quiet
 * machine but costs an extra epoll_wait per connection when the broker is short of CPU;
 * measured the same CPU per connection cycle either way (docs/bench-broker.md). */
#define ACCEPT_BATCH 64
#define LISTEN_BACKLOG 1024

static void on_accept(pn_loop *loop, int fd, int events, void *udata);

int ppb_listeners_open(ppb_broker *b, char *err, size_t errcap)
{
    b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (size_t i = 0; i < b->cfg.nlisteners; i++) {
        const ppb_listener_config *lc = &b->cfg.listeners[i];
        ppb_listener *l = &b->listeners[b->nlisteners];
        pn_tls_ctx *tls = l->tls; /* made earlier by ppb_tls_contexts_init */
        memset(l, 0, sizeof(*l));
        l->tls = tls;
        l->b = b;
        l->cfg = lc;
        char why[256];
        /* TCP_NODELAY on the listener: accepted sockets inherit it (tests/unit/test_net_sock.c). */
        l->fd = pn_listen(&lc->addr, LISTEN_BACKLOG, PN_LISTEN_NODELAY, &l->bound, why, sizeof(why));
        if (l->fd < 0) {
            snprintf(err, errcap, "listener.%s.%s (%s): %s", lc->kind == PPB_LISTENER_TCP ? "tcp" : "ssl", lc->name,
                     lc->address_text, why);
            return -1;
        }
        pn_addr_to_text(&l->bound, l->bound_text, sizeof(l->bound_text));
        ppb_proxy_options(lc, b->quirks, &l->pp_opts);
        ppb_proxy_stage_init_listener(l);
        if (pn_loop_watch(b->loop, l->fd, PN_READABLE, on_accept, l) != 0) {
            snprintf(err, errcap, "listener.tcp.%s: cannot watch the socket: %s", lc->name, strerror(errno));
            close(l->fd);
            return -1;
        }
        b->nlisteners++;
        ppb_log(b, PPB_LOG_INFO, "listener %s on %s (proxy_protocol %s)", lc->name, l->bound_text,
                lc->proxy_protocol ? "on" : "off");
    }
    return 0;
}

void ppb_listeners_close(ppb_broker *b)
{
    if (b->reserve_fd >= 0) {
        close(b->reserve_fd);
        b->reserve_fd = -1;
    }
    for (size_t i = 0; i < b->nlisteners; i++) {
        ppb_listener *l = &b->listeners[i];
        pn_tq_close(&l->header_timeouts); /* what is still waiting is closed by the caller */
        if (l->fd >= 0) {
            pn_loop_unwatch(b->loop, l->fd);
            close(l->fd);
            l->fd = -1;
        }
    }
}

static void start_conn(ppb_listener *l, int fd, const pn_addr *peer)
{
    ppb_broker *b = l->b;
    ppb_conn *c = ppb_conn_new(b, l, fd, peer);
    if (!c) {
        close(fd);
        ppb_log(b, PPB_LOG_ERROR, "listener %s: out of memory for a connection", l->cfg->name);
        return;
    }
    memcpy(c->attributed_text, c->real_peer_text, strlen(c->real_peer_text) + 1); /* the smaller buffer */
    if (l->nconns > l->cfg->max_connections) {
        ppb_conn_reject(c, "security_reject", "max_connections", NULL, "listener at max_connections");
        return;
    }
    if (l->cfg->proxy_protocol) {
        ppb_proxy_stage_begin(c);
        return;
    }
    if (l->cfg->allowed_sources.set && !pn_cidr_list_match(&l->cfg->allowed_sources.list, &c->real_peer)) {
        ppb_conn_reject(c, "security_reject", "source_not_allowed", "R-SEC-01", "peer outside allowed_sources");
        return;
    }
    if (l->tls) {
        ppb_tls_stage_begin(c, NULL, 0);
        return;
    }
    if (b->quirks & Q_ACCEPT_HEADER_ON_PLAIN) {
        /* The defect: a plain listener peeks for a header and believes it (R-GEN-14). */
        ppb_proxy_stage_begin(c);
        return;
    }
    ppb_conn_start_mqtt(c, NULL, NULL, 0);
}

static void on_accept(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop;
    (void)events;
    ppb_listener *l = udata;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        pn_addr peer;
        int cfd = pn_accept(fd, &peer);
        if (cfd < 0) {
            if ((errno == EMFILE || errno == ENFILE) && l->b->reserve_fd >= 0) {
                /* Out of fds: the pending connection would wake epoll forever. Free the
                 * spare fd, take the connection and drop it, then re-arm the spare. */
                close(l->b->reserve_fd);
                int shed = pn_accept(fd, NULL);
                if (shed >= 0)
                    close(shed);
                l->b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
                ppb_log(l->b, PPB_LOG_WARNING, "listener %s: out of file descriptors, connection dropped",
                        l->cfg->name);
                return;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                ppb_log(l->b, PPB_LOG_WARNING, "listener %s: accept: %s", l->cfg->name, strerror(errno));
            return;
        }
        l->accepted_total++;
        start_conn(l, cfd, &peer);
    }
}
