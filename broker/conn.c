/* broker/conn: one client connection from accept to close. Owns the socket, the bounded
 * output buffer, the engine attachment and the single final event.
 *
 * Closes are never done inside engine callbacks: ops.close only marks the connection and
 * schedules a zero-delay "reap" timer, so no caller up the stack holds a freed pointer. */
#include "broker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "proxy_view.h"
#include "net/sock.h"

static void conn_on_event(pn_loop *loop, int fd, int events, void *udata);
static void conn_finish(ppb_conn *c);

static size_t out_cap(const ppb_broker *b)
{
    /* Room for the largest packet plus slack; allocated only while data is waiting. */
    size_t cap = (size_t)b->cfg.max_packet_size + 65536;
    return cap < 262144 ? 262144 : cap;
}

static void reap_cb(pn_tq *q, pn_tq_entry *entry, void *udata);

void ppb_conns_init(ppb_broker *b)
{
    pn_tq_init(&b->reaps, b->loop, 0, reap_cb, b);
    b->conn_blocks = (ppb_freelist)PPB_FREELIST_INIT(ppb_conn, 256);
}

ppb_conn *ppb_conn_new(ppb_broker *b, ppb_listener *l, int fd, const pn_addr *peer)
{
    ppb_conn *c = ppb_freelist_get(&b->conn_blocks);
    if (!c)
        return NULL;
    c->b = b;
    c->l = l;
    c->fd = fd;
    c->id = ++b->next_conn_id;
    c->accepted_ms = pn_now_ms();
    c->real_peer = *peer;
    ppb_addr_text(peer, c->real_peer_text, sizeof(c->real_peer_text)); /* formatted once, here */
    c->attributed = *peer;
    if (pn_loop_watch(b->loop, fd, PN_READABLE, conn_on_event, c) != 0) {
        ppb_freelist_put(&b->conn_blocks, c);
        return NULL;
    }
    c->next = b->conns;
    if (b->conns)
        b->conns->prev = c;
    b->conns = c;
    b->nconns++;
    l->nconns++;
    return c;
}

/* Unlink, stop timers, close the socket, free. No events here. */
static void conn_free(ppb_conn *c)
{
    ppb_broker *b = c->b;
    pn_tq_remove(&c->l->header_timeouts, &c->header_tq);
    pn_tq_remove(&b->reaps, &c->reap_tq);
    if (c->tls_timer)
        pn_timer_cancel(b->loop, c->tls_timer);
    if (c->close_timer)
        pn_timer_cancel(b->loop, c->close_timer);
    if (c->tls)
        pn_tls_free(c->tls);
    if (c->fd >= 0) {
        /* The accepted fd is never dup'd, so close() alone takes it out of epoll. */
        pn_loop_forget(b->loop, c->fd);
        close(c->fd);
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        b->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    b->nconns--;
    c->l->nconns--;
    pn_buf_free(&c->out);
    free(c->hbuf);
    ppb_proxy_rec_unref(c->proxy);
    free(c->forced_username);
    free(c->refuse_message);
    ppb_freelist_put(&b->conn_blocks, c);
}

void ppb_conn_reject(ppb_conn *c, const char *type, const char *reason, const char *refs, const char *message)
{
    ppb_event_fields f = PPB_EVENT_FIELDS_INIT;
    f.type = type;
    f.reason = reason;
    f.refs = refs;
    f.message = message;
    f.outcome = "refused";
    f.with_proxy = true;
    ppb_event_emit(c->b, c, &f);
    conn_free(c);
}

/* ---- engine callbacks ------------------------------------------------------------------ */

static void reap_cb(pn_tq *q, pn_tq_entry *entry, void *udata)
{
    (void)q;
    (void)udata;
    ppb_conn *c = PN_TQ_OWNER(entry, ppb_conn, reap_tq);
    if (!c->close_requested || pn_buf_empty(&c->out) || c->fd < 0)
        conn_finish(c);
    /* else: conn_on_event finishes once the output drained (or close_timer fires) */
}

static void close_timeout_cb(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop;
    (void)id;
    ppb_conn *c = udata;
    c->close_timer = 0;
    conn_finish(c);
}

/* s cut to cap - 1 bytes in buf (the engine frees its copy on detach); NULL stays NULL. */
static const char *copy_bounded(char *buf, size_t cap, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strnlen(s, cap - 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Mark for closing and let the loop do it (never free from inside an engine call). */
static void request_close(ppb_conn *c, const char *reason)
{
    if (c->close_requested)
        return;
    c->close_requested = true;
    copy_bounded(c->close_reason, sizeof(c->close_reason), reason);
    c->state = CONN_CLOSING;
    pn_tq_add(&c->b->reaps, &c->reap_tq); /* out of memory for the loop timer: the peer's FIN ends it */
    /* Nothing left to send (the usual case, e.g. after DISCONNECT): the zero-delay reap,
     * run after this loop pass's I/O, finishes the connection, so there is no need to stop
     * reading (CONN_CLOSING ignores input) nor a flush deadline. ops_send adds nothing
     * once the close is requested, so the buffer cannot fill later. */
    if (pn_buf_empty(&c->out))
        return;
    if (c->fd >= 0)
        pn_loop_modify(c->b->loop, c->fd, PN_WRITABLE);
    if (!c->close_timer)
        c->close_timer = pn_timer_add(c->b->loop, PPB_CLOSE_FLUSH_MS, close_timeout_cb, c);
}

static int ops_send(void *conn, const uint8_t *data, size_t len)
{
    ppb_conn *c = conn;
    if (c->close_requested || c->fd < 0)
        return 0; /* the connection is going; bytes are dropped like on a dead socket */
    size_t sent = 0;
    if (pn_buf_empty(&c->out)) {
        /* Fast path: write straight to the socket, keep only the remainder. */
        pn_io io = ppb_conn_write(c, data, len, &sent);
        if (io == PN_IO_RST || io == PN_IO_ERROR) {
            request_close(c, io == PN_IO_RST ? "connection_reset" : "io_error");
            return 0;
        }
        if (io != PN_IO_OK)
            sent = 0;
        if (sent == len)
            return 0;
    }
    if (!c->out.data && pn_buf_init(&c->out, out_cap(c->b)) != 0)
        return -1;
    if (!pn_buf_append(&c->out, data + sent, len - sent)) {
        if (sent > 0) {
            /* Part of the packet is on the wire: the rest must follow or the stream breaks. */
            request_close(c, "send_buffer_full");
            return 0;
        }
        return -1;
    }
    if (!c->watching_write) {
        pn_loop_modify(c->b->loop, c->fd, PN_READABLE | PN_WRITABLE);
        c->watching_write = true;
    }
    return 0;
}

static void ops_close(void *conn, const char *reason)
{
    request_close(conn, reason ? reason : "closed");
}

const br_conn_ops PPB_CONN_OPS = {ops_send, ops_close};

/* ---- MQTT stage -------------------------------------------------------------------------- */

void ppb_conn_start_mqtt(ppb_conn *c, const br_client_info *extra, const uint8_t *data, size_t len)
{
    br_client_info info;
    if (extra)
        info = *extra;
    else
        memset(&info, 0, sizeof(info));
    info.attributed_addr = pn_addr_sa(&c->attributed);
    c->state = CONN_MQTT;
    c->client = br_engine_attach(c->b->engine, c, &info);
    if (!c->client) {
        request_close(c, "out_of_memory");
        return;
    }
    if (len > 0)
        br_engine_input(c->b->engine, c->client, data, len);
}

/* The one place a served (or half-served) connection ends: detach, final event, free. */
static void conn_finish(ppb_conn *c)
{
    ppb_broker *b = c->b;
    const char *reason = c->close_reason[0] ? c->close_reason : "closed";
    ppb_event_fields f = PPB_EVENT_FIELDS_INIT;
    f.type = "close";
    f.reason = reason;
    f.with_proxy = true;
    f.outcome = "closed";
    char cid[256], user[256];
    if (c->client) {
        f.client_id = copy_bounded(cid, sizeof(cid), br_client_id(c->client));
        f.username = copy_bounded(user, sizeof(user), br_client_username(c->client));
        f.username_source = br_client_username_source(c->client); /* a literal (engine.h) */
        f.protocol_version = br_client_protocol_version(c->client);
        if (c->served || br_client_connected(c->client))
            f.outcome = "served";
        br_client *cl = c->client;
        c->client = NULL;
        br_engine_detach(b->engine, cl, reason);
    }
    ppb_event_emit(b, c, &f);
    conn_free(c);
}

/* Read what is there and feed the engine. Through TLS, read until OpenSSL wants more from
 * the socket: decrypted bytes it holds would never wake epoll. */
void ppb_conn_on_readable_now(ppb_conn *c)
{
    uint8_t buf[PPB_READ_CHUNK];
    for (;;) {
        size_t n = 0;
        pn_io io = ppb_conn_read(c, buf, sizeof(buf), &n);
        switch (io) {
        case PN_IO_OK:
            if (br_engine_input(c->b->engine, c->client, buf, n) != 0 && !c->close_requested)
                request_close(c, "closed");
            if (!c->tls || c->close_requested)
                return;
            continue;
        case PN_IO_AGAIN:
            return;
        case PN_IO_FIN:
            copy_bounded(c->close_reason, sizeof(c->close_reason), "eof");
            conn_finish(c);
            return;
        case PN_IO_RST:
            copy_bounded(c->close_reason, sizeof(c->close_reason), "connection_reset");
            conn_finish(c);
            return;
        default:
            copy_bounded(c->close_reason, sizeof(c->close_reason), "io_error");
            conn_finish(c);
            return;
        }
    }
}

/* Returns false when the connection was finished (freed). */
static bool flush_out(ppb_conn *c)
{
    while (!pn_buf_empty(&c->out)) {
        size_t n = 0;
        pn_io io = ppb_conn_write(c, pn_buf_peek(&c->out), pn_buf_len(&c->out), &n);
        if (io == PN_IO_AGAIN)
            return true;
        pn_buf_consume(&c->out, n);
        if (io != PN_IO_OK) {
            if (!c->close_requested)
                copy_bounded(c->close_reason, sizeof(c->close_reason),
                             io == PN_IO_RST ? "connection_reset" : "io_error");
            conn_finish(c);
            return false;
        }
    }
    /* Drained: give the memory back (idle connections stay small) and stop asking. */
    pn_buf_free(&c->out);
    if (c->close_requested) {
        conn_finish(c);
        return false;
    }
    pn_loop_modify(c->b->loop, c->fd, PN_READABLE);
    c->watching_write = false;
    br_engine_writable(c->b->engine, c->client);
    return true;
}

static void conn_on_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop;
    (void)fd;
    ppb_conn *c = udata;
    if ((events & PN_WRITABLE) && (c->state == CONN_MQTT || c->state == CONN_CLOSING) && !flush_out(c))
        return;
    switch (c->state) {
    case CONN_PROXY:
        if (events & (PN_READABLE | PN_HUP | PN_ERROR))
            ppb_proxy_stage_on_readable(c);
        break;
    case CONN_MQTT:
        if (events & (PN_READABLE | PN_HUP | PN_ERROR))
            ppb_conn_on_readable_now(c);
        break;
    case CONN_TLS:
        ppb_tls_stage_on_event(c);
        break;
    case CONN_CLOSING:
        /* Not reading any more; a dead peer ends the flush early. */
        if (events & PN_ERROR)
            conn_finish(c);
        break;
    }
}

void ppb_conns_close_all(ppb_broker *b, const char *reason)
{
    ppb_conn *c = b->conns;
    while (c) {
        ppb_conn *next = c->next;
        if (c->state == CONN_PROXY || c->state == CONN_TLS) {
            ppb_conn_reject(c, "proxy_reject", reason, NULL, "broker stopping before the header completed");
        } else {
            if (!c->close_requested)
                copy_bounded(c->close_reason, sizeof(c->close_reason), reason);
            conn_finish(c);
        }
        c = next;
    }
}
