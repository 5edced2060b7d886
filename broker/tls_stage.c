/* broker/tls_stage: TLS on listener.ssl.NAME listeners (issue 4 items 1 and 2).
 *
 * The handshake starts right after accept, or after the PROXY header when the listener has
 * proxy_protocol = on: the header arrives in clear before the ClientHello (as HAProxy
 * `send-proxy` towards an `ssl` server, or nginx, send it), and any ClientHello bytes that
 * came in the same read are handed to TLS first. With use_identity_as_username the verified
 * client certificate's CN becomes the username. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"

#define TLS_HANDSHAKE_MS 10000

int ppb_tls_contexts_init(ppb_broker *b, char *err, size_t errcap)
{
    for (size_t i = 0; i < b->cfg.nlisteners; i++) {
        const ppb_listener_config *lc = &b->cfg.listeners[i];
        if (lc->kind != PPB_LISTENER_SSL)
            continue;
        pn_tls_server_opts o;
        memset(&o, 0, sizeof(o));
        o.cert_file = lc->certfile;
        o.key_file = lc->keyfile;
        o.ca_file = lc->cafile[0] ? lc->cafile : NULL;
        o.require_client_cert = lc->require_certificate;
        o.request_client_cert = !lc->require_certificate && lc->cafile[0];
        o.min_version = lc->tls_version_min == PPB_TLS_1_3 ? "TLSv1.3" : "TLSv1.2";
        char why[512];
        b->listeners[i].tls = pn_tls_server_ctx_new(&o, why, sizeof(why));
        if (!b->listeners[i].tls) {
            snprintf(err, errcap, "%s: listener.ssl.%s: %s", b->cfg.path, lc->name, why);
            return -1;
        }
    }
    return 0;
}

void ppb_tls_contexts_free(ppb_broker *b)
{
    for (size_t i = 0; i < PPB_MAX_LISTENERS; i++) {
        if (b->listeners[i].tls) {
            pn_tls_ctx_free(b->listeners[i].tls);
            b->listeners[i].tls = NULL;
        }
    }
}

static pn_io io_from_tls(pn_tls_status st)
{
    switch (st) {
    case PN_TLS_OK: return PN_IO_OK;
    case PN_TLS_WANT_READ:
    case PN_TLS_WANT_WRITE: return PN_IO_AGAIN;
    case PN_TLS_CLOSED:
    case PN_TLS_EOF: return PN_IO_FIN;
    case PN_TLS_RST: return PN_IO_RST;
    default: return PN_IO_ERROR;
    }
}

pn_io ppb_conn_read(ppb_conn *c, void *buf, size_t cap, size_t *n)
{
    if (!c->tls)
        return pn_recv(c->fd, buf, cap, n);
    *n = 0;
    return io_from_tls(pn_tls_read(c->tls, buf, cap, n));
}

pn_io ppb_conn_write(ppb_conn *c, const void *buf, size_t len, size_t *n)
{
    if (!c->tls)
        return pn_send(c->fd, buf, len, n);
    *n = 0;
    return io_from_tls(pn_tls_write(c->tls, buf, len, n));
}

void ppb_conn_client_info(const ppb_conn *c, br_client_info *info)
{
    memset(info, 0, sizeof(*info));
    if (c->forced_username) {
        info->forced_username = c->forced_username;
        info->username_source = c->username_source;
    } else if (c->refuse) {
        info->refuse = true;
        info->refuse_v5_reason = 0x87; /* not authorized; 3.1.1 return code 5 */
        info->refuse_message = c->refuse_message;
    }
}

static void handshake_timeout(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop;
    (void)id;
    ppb_conn *c = udata;
    c->tls_timer = 0;
    ppb_conn_reject(c, "security_reject", "tls.handshake_timeout", NULL, "TLS handshake did not complete in 10 s");
}

static void identity(ppb_conn *c)
{
    const ppb_listener_config *lc = c->l->cfg;
    if (!lc->use_identity_as_username)
        return;
    pn_tls_info ti;
    pn_tls_get_info(c->tls, &ti);
    if (ti.peer_cert && ti.verify_result == 0 && ti.cn_status == 0) {
        free(c->forced_username);
        c->forced_username = strdup(ti.cn);
        c->username_source = "certificate";
        c->refuse = false;
        return;
    }
    if (!c->forced_username) {
        c->refuse = true;
        free(c->refuse_message);
        char msg[256];
        snprintf(msg, sizeof(msg), "use_identity_as_username: %s",
                 !ti.peer_cert ? "no client certificate" : ti.cn_status != 0 ? "certificate CN unusable" : ti.verify_text);
        c->refuse_message = strdup(msg);
    }
}

static void step(ppb_conn *c)
{
    pn_tls_status st = pn_tls_handshake(c->tls);
    if (st == PN_TLS_WANT_READ) {
        pn_loop_modify(c->b->loop, c->fd, PN_READABLE);
        return;
    }
    if (st == PN_TLS_WANT_WRITE) {
        pn_loop_modify(c->b->loop, c->fd, PN_WRITABLE);
        return;
    }
    if (st != PN_TLS_OK) {
        char msg[300];
        snprintf(msg, sizeof(msg), "TLS handshake failed (%s): %s", pn_tls_status_name(st), pn_tls_error(c->tls));
        ppb_conn_reject(c, "security_reject", "tls.handshake_failed", NULL, msg);
        return;
    }
    if (c->tls_timer) {
        pn_timer_cancel(c->b->loop, c->tls_timer);
        c->tls_timer = 0;
    }
    pn_loop_modify(c->b->loop, c->fd, PN_READABLE);
    identity(c);
    br_client_info info;
    ppb_conn_client_info(c, &info);
    ppb_conn_start_mqtt(c, &info, NULL, 0);
    /* Application data may already sit decrypted inside OpenSSL, where epoll cannot see it. */
    if (c->state == CONN_MQTT)
        ppb_conn_on_readable_now(c);
}

void ppb_tls_stage_begin(ppb_conn *c, const uint8_t *prefix, size_t len)
{
    char err[256];
    c->tls = pn_tls_new_prefixed(c->l->tls, c->fd, NULL, prefix, len, err, sizeof(err));
    if (!c->tls) {
        ppb_conn_reject(c, "security_reject", "tls.setup_failed", NULL, err);
        return;
    }
    c->state = CONN_TLS;
    if (c->tls_timer)
        pn_timer_cancel(c->b->loop, c->tls_timer);
    c->tls_timer = pn_timer_add(c->b->loop, TLS_HANDSHAKE_MS, handshake_timeout, c);
    step(c);
}

void ppb_tls_stage_on_event(ppb_conn *c)
{
    step(c);
}
