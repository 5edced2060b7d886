/* broker/engine: lifecycle, connections, input framing, closing and timers of the MQTT engine.
 * Packet handlers live in engine_connect.c, engine_publish.c and engine_subscribe.c.
 *
 * Re-entrancy: every public entry point (and every timer callback) brackets its work with
 * br_enter/br_leave. Closing a client only queues it; ops.close runs when the outermost entry
 * point leaves, so a transport that detaches from inside close never frees a client or a
 * session the engine is still walking. */
#include "engine_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "net/loop.h"

/* ---- options ------------------------------------------------------------------------------ */

void br_engine_opts_defaults(br_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->allow_anonymous = true;
    o->max_packet_size = 1024u * 1024u;
    o->max_inflight = 20;
    o->max_queued = 1000;
    o->receive_maximum = 20;
    o->topic_alias_maximum = 10;
    o->session_expiry_max = 86400;
    o->max_retained = 10000;
    o->max_subscriptions = 1000;
    o->connect_timeout_ms = 10000;
    o->max_sessions = 100000;
}

static void normalise_opts(br_engine_opts *o)
{
    br_engine_opts d;
    br_engine_opts_defaults(&d);
    if (!o->max_packet_size)
        o->max_packet_size = d.max_packet_size;
    if (o->max_packet_size > MQTT_MAX_PACKET)
        o->max_packet_size = MQTT_MAX_PACKET;
    if (!o->max_inflight)
        o->max_inflight = d.max_inflight;
    if (!o->max_queued)
        o->max_queued = d.max_queued;
    if (!o->receive_maximum)
        o->receive_maximum = d.receive_maximum;
    if (!o->topic_alias_maximum)
        o->topic_alias_maximum = d.topic_alias_maximum;
    if (o->topic_alias_disabled)
        o->topic_alias_maximum = 0;
    if (!o->session_expiry_max)
        o->session_expiry_max = d.session_expiry_max;
    if (!o->max_retained)
        o->max_retained = d.max_retained;
    if (!o->max_subscriptions)
        o->max_subscriptions = d.max_subscriptions;
    if (!o->connect_timeout_ms)
        o->connect_timeout_ms = d.connect_timeout_ms;
    if (!o->max_sessions)
        o->max_sessions = d.max_sessions;
}

/* ---- helpers -------------------------------------------------------------------------------- */

uint8_t br_v5_to_v3_return_code(uint8_t r)
{
    switch (r) {
    case MQTT_RC_SUCCESS: return MQTT_V3_ACCEPTED;
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION: return MQTT_V3_BAD_PROTOCOL_VERSION;
    case MQTT_RC_CLIENT_ID_NOT_VALID: return MQTT_V3_IDENTIFIER_REJECTED;
    case MQTT_RC_SERVER_UNAVAILABLE:
    case MQTT_RC_SERVER_BUSY:
    case MQTT_RC_QUOTA_EXCEEDED: return MQTT_V3_SERVER_UNAVAILABLE;
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD: return MQTT_V3_BAD_USERNAME_OR_PASSWORD;
    default: return MQTT_V3_NOT_AUTHORIZED;
    }
}

const char *br_reason_name(uint8_t r) { return mqtt_reason_name(r); }

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

bool br_acl_allows(br_engine *e, const char *username, const char *client_id,
                   const struct sockaddr *addr, const char *topic, br_acl_access acc)
{
    if (!e->opts.acl_check)
        return true;
    return e->opts.acl_check(e->opts.acl_ud, username, client_id, addr, topic, acc);
}

void br_emit(br_client *c, br_event_type type, const char *reason, const char *message,
             int reason_code, bool session_present, const char *topic)
{
    br_engine *e = c->e;
    if (!e->sink.emit)
        return;
    static const char *names[] = { "connack", "auth_reject", "acl_deny" };
    br_event ev = {
        .type = type,
        .type_name = names[type],
        .conn = c->conn,
        .reason = reason,
        .message = message,
        .client_id = c->client_id,
        .username = c->username,
        .topic = topic,
        .reason_code = reason_code,
        .session_present = session_present,
        .protocol_version = c->level,
    };
    e->sink.emit(e->sink.ud, &ev);
}

/* ---- entry points and deferred closes --------------------------------------------------- */

void br_enter(br_engine *e) { e->depth++; }

void br_client_end_session(br_client *c)
{
    if (c->ended)
        return;
    c->ended = true;
    if (c->keepalive_timer) {
        pn_timer_cancel(c->e->loop, c->keepalive_timer);
        c->keepalive_timer = 0;
    }
    pn_tq_remove(&c->e->connect_timeouts, &c->connect_tq);
    br_session *s = c->session;
    if (!s)
        return;
    c->session = NULL;
    s->client = NULL;
    br_session_went_offline(s, !c->normal_disconnect);
}

static void flush_closes(br_engine *e)
{
    if (e->flushing)
        return;
    e->flushing = true;
    while (e->close_head) {
        br_client *c = e->close_head;
        e->close_head = c->close_next;
        if (!e->close_head)
            e->close_tail = NULL;
        c->close_queued = false;
        c->close_next = NULL;
        br_client_end_session(c);
        /* the transport may call br_engine_detach(c) from in here: c is gone afterwards */
        e->ops.close(c->conn, c->close_reason);
    }
    e->flushing = false;
}

void br_leave(br_engine *e)
{
    if (--e->depth == 0) {
        e->depth++; /* sessions ending below may publish wills: stay "inside" */
        flush_closes(e);
        e->depth--;
    }
}

static void unqueue_close(br_client *c)
{
    br_engine *e = c->e;
    if (!c->close_queued)
        return;
    br_client **pp = &e->close_head, *prev = NULL;
    while (*pp && *pp != c) {
        prev = *pp;
        pp = &(*pp)->close_next;
    }
    if (*pp)
        *pp = c->close_next;
    if (e->close_tail == c)
        e->close_tail = prev;
    c->close_queued = false;
    c->close_next = NULL;
}

void br_close_client(br_client *c, const char *reason, int v5_reason)
{
    if (c->state == BR_C_CLOSING)
        return;
    if (c->state == BR_C_CONNECTED && c->level == MQTT_V5 && v5_reason >= 0) {
        mqtt_packet p;
        mqtt_packet_init(&p, MQTT_DISCONNECT);
        p.disconnect.reason = (uint8_t)v5_reason;
        uint8_t buf[16];
        ssize_t n = mqtt_encode(buf, sizeof buf, MQTT_V5, &p);
        if (n > 0)
            (void)c->e->ops.send(c->conn, buf, (size_t)n); /* best effort: we close anyway */
    }
    c->state = BR_C_CLOSING;
    c->close_reason = reason;
    c->close_queued = true;
    c->close_next = NULL;
    br_engine *e = c->e;
    if (e->close_tail)
        e->close_tail->close_next = c;
    else
        e->close_head = c;
    e->close_tail = c;
}

void br_protocol_close(br_client *c, int err)
{
    br_close_client(c, mqtt_error_name(err), mqtt_error_reason(err));
}

int br_send_packet(br_client *c, const mqtt_packet *p)
{
    if (c->state == BR_C_CLOSING)
        return -1;
    uint8_t stack[256];
    ssize_t size = mqtt_encode_size(c->level, p);
    if (size < 0) {
        br_close_client(c, "mqtt.protocol_error", MQTT_RC_IMPL_SPECIFIC_ERROR);
        return -1;
    }
    uint8_t *buf = (size_t)size <= sizeof stack ? stack : malloc((size_t)size);
    if (!buf) {
        br_close_client(c, "send_buffer_full", -1);
        return -1;
    }
    ssize_t n = mqtt_encode(buf, (size_t)size, c->level, p);
    int rc = n > 0 ? c->e->ops.send(c->conn, buf, (size_t)n) : -1;
    if (buf != stack)
        free(buf);
    if (rc < 0) {
        br_close_client(c, "send_buffer_full", -1);
        return -1;
    }
    return 0;
}

/* ---- timers -------------------------------------------------------------------------------- */

static void on_connect_timeout(pn_tq *q, pn_tq_entry *entry, void *ud)
{
    (void)q;
    (void)ud;
    br_client *c = PN_TQ_OWNER(entry, br_client, connect_tq);
    br_engine *e = c->e;
    br_enter(e);
    if (c->state == BR_C_AWAIT_CONNECT)
        br_close_client(c, mqtt_error_name(MQTT_ERR_TIMEOUT), -1);
    br_leave(e);
}

static void on_keepalive(pn_loop *loop, uint64_t id, void *ud)
{
    (void)id;
    br_client *c = ud;
    br_engine *e = c->e;
    br_enter(e);
    c->keepalive_timer = 0;
    if (c->state == BR_C_CONNECTED) {
        /* MQTT-3.1.2-24: one and a half times the keep-alive without a packet */
        uint64_t limit = (uint64_t)c->keep_alive * 1500u;
        uint64_t now = pn_now_ms();
        if (now - c->last_rx_ms >= limit)
            br_close_client(c, "keep_alive_timeout", MQTT_RC_KEEP_ALIVE_TIMEOUT);
        else
            c->keepalive_timer = pn_timer_add(loop, c->last_rx_ms + limit - now, on_keepalive, c);
    }
    br_leave(e);
}

void br_client_start_keepalive(br_client *c)
{
    pn_tq_remove(&c->e->connect_timeouts, &c->connect_tq);
    if (c->keep_alive)
        c->keepalive_timer = pn_timer_add(c->e->loop, (uint64_t)c->keep_alive * 1500u, on_keepalive, c);
}

/* ---- engine lifecycle ---------------------------------------------------------------------- */

br_engine *br_engine_new(const br_engine_opts *opts, pn_loop *loop, br_conn_ops ops,
                         br_event_sink sink, char *err, size_t errcap)
{
    if (!loop || !ops.send || !ops.close) {
        if (err && errcap)
            snprintf(err, errcap, "engine: loop and conn ops are required");
        return NULL;
    }
    br_engine *e = calloc(1, sizeof *e);
    if (!e) {
        if (err && errcap)
            snprintf(err, errcap, "engine: out of memory");
        return NULL;
    }
    if (opts)
        e->opts = *opts;
    else
        br_engine_opts_defaults(&e->opts);
    normalise_opts(&e->opts);
    e->opts.password_file = NULL; /* not kept: the caller's string may go away */
    e->loop = loop;
    pn_tq_init(&e->connect_timeouts, loop, e->opts.connect_timeout_ms, on_connect_timeout, e);
    e->client_blocks = (ppb_freelist)PPB_FREELIST_INIT(br_client, 256);
    e->session_blocks = (ppb_freelist)PPB_FREELIST_INIT(br_session, 256);
    e->ops = ops;
    e->sink = sink;
    e->retained.max = e->opts.max_retained;
    if (opts && opts->password_file && opts->password_file[0]) {
        e->passwd = br_passwd_load(opts->password_file, err, errcap);
        if (!e->passwd) {
            free(e);
            return NULL;
        }
    }
    return e;
}

static void client_free(br_client *c)
{
    br_engine *e = c->e;
    if (c->keepalive_timer)
        pn_timer_cancel(e->loop, c->keepalive_timer);
    pn_tq_remove(&e->connect_timeouts, &c->connect_tq);
    if (c->prev)
        c->prev->next = c->next;
    else
        e->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    e->nclients--;
    if (c->aliases) {
        for (unsigned i = 0; i <= c->alias_max; i++)
            free(c->aliases[i]);
        free(c->aliases);
    }
    free(c->forced_username);
    free(c->refuse_message);
    free(c->client_id);
    free(c->username);
    free(c->rx);
    ppb_freelist_put(&e->client_blocks, c);
}

void br_engine_shutdown(br_engine *e)
{
    br_enter(e);
    for (br_client *c = e->clients; c; c = c->next)
        br_close_client(c, "server_shutting_down", MQTT_RC_SERVER_SHUTTING_DOWN);
    br_leave(e);
}

void br_engine_free(br_engine *e)
{
    if (!e)
        return;
    while (e->clients) {
        br_client *c = e->clients;
        if (c->session)
            c->session->client = NULL;
        client_free(c);
    }
    while (e->sessions)
        br_session_destroy(e->sessions);
    pn_tq_close(&e->connect_timeouts);
    ppb_freelist_drain(&e->client_blocks);
    ppb_freelist_drain(&e->session_blocks);
    br_retain_clear(&e->retained);
    br_passwd_free(e->passwd);
    free(e->table);
    free(e);
}

/* ---- connections ---------------------------------------------------------------------------- */

br_client *br_engine_attach(br_engine *e, void *conn, const br_client_info *info)
{
    br_client *c = ppb_freelist_get(&e->client_blocks);
    if (!c)
        return NULL;
    c->e = e;
    c->conn = conn;
    c->username_source = "none";
    c->out_receive_max = 65535;
    c->out_max_packet = MQTT_MAX_PACKET;
    if (info) {
        if (info->attributed_addr) {
            size_t len = info->attributed_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                         : info->attributed_addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                                        : 0;
            if (len) {
                memcpy(&c->addr, info->attributed_addr, len);
                c->has_addr = true;
            }
        }
        if (info->forced_username) {
            c->forced_username = strdup(info->forced_username);
            c->forced_source = info->username_source && strcmp(info->username_source, "certificate") == 0
                                   ? "certificate"
                                   : "cn";
        }
        c->refuse = info->refuse;
        c->refuse_reason = info->refuse_v5_reason;
        c->refuse_message = dup_or_null(info->refuse_message);
    }
    c->next = e->clients;
    if (e->clients)
        e->clients->prev = c;
    e->clients = c;
    e->nclients++;
    c->last_rx_ms = pn_now_ms();
    if (pn_tq_add(&e->connect_timeouts, &c->connect_tq) != 0) {
        client_free(c); /* no deadline could be set: refuse rather than wait forever */
        return NULL;
    }
    return c;
}

void br_engine_detach(br_engine *e, br_client *c, const char *reason)
{
    (void)reason; /* the transport logs it; the engine only needs "not a DISCONNECT" */
    br_enter(e);
    unqueue_close(c);
    br_client_end_session(c);
    client_free(c);
    br_leave(e);
}

void br_engine_writable(br_engine *e, br_client *c)
{
    br_enter(e);
    if (c->state == BR_C_CONNECTED)
        br_drain(c);
    br_leave(e);
}

const char *br_client_id(const br_client *c) { return c->client_id; }
const char *br_client_username(const br_client *c) { return c->username; }
const char *br_client_username_source(const br_client *c) { return c->username_source; }
int br_client_protocol_version(const br_client *c) { return c->level; }
bool br_client_connected(const br_client *c) { return c->state == BR_C_CONNECTED; }

/* ---- input ------------------------------------------------------------------------------------ */

static void handle_packet(br_client *c, const uint8_t *raw, size_t len)
{
    if (c->state == BR_C_AWAIT_CONNECT) {
        br_handle_connect(c, raw, len);
        return;
    }
    if ((raw[0] >> 4) == MQTT_CONNECT) {
        /* MQTT-3.1.0-2: a second CONNECT is a protocol violation however it is encoded; decoding
         * it first would answer a bad level or client id with CONNACK-only codes (0x84, 0x85)
         * that a v5 DISCONNECT may not carry */
        br_protocol_close(c, MQTT_ERR_UNEXPECTED_PACKET);
        return;
    }
    mqtt_packet p;
    ssize_t r = mqtt_decode(raw, len, c->level, &p);
    if (r < 0) {
        br_protocol_close(c, (int)r);
        return;
    }
    if (r == MQTT_NEED_MORE || (size_t)r != len) { /* cannot happen after framing */
        br_protocol_close(c, MQTT_ERR_PROTOCOL);
        return;
    }
    switch (p.type) {
    case MQTT_PUBLISH: br_handle_publish(c, &p); break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP: br_handle_ack(c, &p); break;
    case MQTT_SUBSCRIBE: br_handle_subscribe(c, &p); break;
    case MQTT_UNSUBSCRIBE: br_handle_unsubscribe(c, &p); break;
    case MQTT_PINGREQ: {
        mqtt_packet resp;
        mqtt_packet_init(&resp, MQTT_PINGRESP);
        br_send_packet(c, &resp);
        break;
    }
    case MQTT_DISCONNECT: {
        br_session *s = c->session;
        if (c->level == MQTT_V5 && s && mqtt_props_has(&p.disconnect.props, MQTT_PROP_SESSION_EXPIRY)) {
            uint32_t v = p.disconnect.props.session_expiry;
            if (s->expiry_s == 0 && v != 0) { /* MQTT-3.14.2-2 */
                br_protocol_close(c, MQTT_ERR_PROTOCOL);
                return;
            }
            s->expiry_s = v == BR_NEVER_EXPIRES || v > c->e->opts.session_expiry_max
                              ? c->e->opts.session_expiry_max
                              : v;
        }
        /* MQTT-3.14.4-3: a normal DISCONNECT discards the will; v5 0x04 keeps it */
        c->normal_disconnect = !(c->level == MQTT_V5 && p.disconnect.reason == MQTT_RC_DISCONNECT_WITH_WILL);
        br_close_client(c, "client_disconnect", -1);
        break;
    }
    default: /* CONNACK, SUBACK, UNSUBACK, PINGRESP, AUTH: not from a client here */
        br_protocol_close(c, MQTT_ERR_UNEXPECTED_PACKET);
        break;
    }
}

/* Frame one packet at buf; returns bytes consumed (a whole packet was handled), 0 when more is
 * needed (*need = bytes still missing, or 1 when the length is not known yet), -1 on error
 * (client closed). */
static ssize_t frame_one(br_client *c, const uint8_t *buf, size_t len, size_t *need)
{
    uint8_t type = 0, flags = 0;
    size_t total = 0;
    ssize_t n = mqtt_frame(buf, len, c->e->opts.max_packet_size, &type, &flags, &total);
    if (c->state == BR_C_AWAIT_CONNECT && len > 0 && n >= MQTT_NEED_MORE && type != MQTT_CONNECT) {
        /* MQTT-3.1.0-1: refuse at the first byte that is not CONNECT (a stray PROXY header, ...) */
        br_close_client(c, mqtt_error_name(MQTT_ERR_UNEXPECTED_PACKET), -1);
        return -1;
    }
    if (n < 0) {
        if (c->state == BR_C_AWAIT_CONNECT)
            br_close_client(c, mqtt_error_name((int)n), -1);
        else
            br_protocol_close(c, (int)n);
        return -1;
    }
    if (n == MQTT_NEED_MORE) {
        *need = total > len ? total - len : 1;
        return 0;
    }
    handle_packet(c, buf, (size_t)n);
    return n;
}

static int rx_reserve(br_client *c, size_t want)
{
    if (want <= c->rx_cap)
        return 0;
    size_t ncap = c->rx_cap ? c->rx_cap : 256;
    while (ncap < want)
        ncap *= 2;
    if (ncap > (size_t)c->e->opts.max_packet_size + 8)
        ncap = (size_t)c->e->opts.max_packet_size + 8;
    if (ncap < want)
        return -1;
    uint8_t *n = realloc(c->rx, ncap);
    if (!n)
        return -1;
    c->rx = n;
    c->rx_cap = ncap;
    return 0;
}

int br_engine_input(br_engine *e, br_client *c, const uint8_t *data, size_t len)
{
    br_enter(e);
    if (c->state != BR_C_CLOSING && len > 0)
        c->last_rx_ms = pn_now_ms();
    while (len > 0 && c->state != BR_C_CLOSING) {
        size_t need = 0;
        if (c->rx_len == 0) {
            /* common case: whole packets straight from the caller's buffer, no copy */
            ssize_t n = frame_one(c, data, len, &need);
            if (n < 0)
                break;
            if (n > 0) {
                data += n;
                len -= (size_t)n;
                continue;
            }
            if (rx_reserve(c, len) < 0) {
                br_close_client(c, "mqtt.packet_too_large", MQTT_RC_PACKET_TOO_LARGE);
                break;
            }
            memcpy(c->rx, data, len);
            c->rx_len = len;
            break;
        }
        /* a packet is partly buffered: add only what it still needs */
        /* framing the buffered prefix again tells how much is missing */
        uint8_t type = 0, flags = 0;
        size_t total = 0;
        ssize_t n = mqtt_frame(c->rx, c->rx_len, e->opts.max_packet_size, &type, &flags, &total);
        size_t want = (n == MQTT_NEED_MORE && total > c->rx_len) ? total - c->rx_len : 1;
        size_t take = want < len ? want : len;
        if (rx_reserve(c, c->rx_len + take) < 0) {
            br_close_client(c, "mqtt.packet_too_large", MQTT_RC_PACKET_TOO_LARGE);
            break;
        }
        memcpy(c->rx + c->rx_len, data, take);
        c->rx_len += take;
        data += take;
        len -= take;
        n = frame_one(c, c->rx, c->rx_len, &need);
        if (n < 0)
            break;
        if (n > 0)
            c->rx_len = 0;
    }
    if (c->rx_len == 0 && c->rx_cap > 16384) { /* a big packet passed: give the memory back */
        free(c->rx);
        c->rx = NULL;
        c->rx_cap = 0;
    }
    int rc = c->state == BR_C_CLOSING ? -1 : 0;
    br_leave(e); /* may run ops.close, after which c may be gone */
    return rc;
}

/* ---- observation ------------------------------------------------------------------------------ */

void br_engine_foreach_session(br_engine *e, void (*fn)(void *ud, const br_session_info *s), void *ud)
{
    for (int pass = 0; pass < 2; pass++)
        for (br_session *s = e->sessions; s; s = s->next) {
            bool connected = s->client && s->client->state == BR_C_CONNECTED;
            if (connected != (pass == 0))
                continue;
            br_session_info info = {
                .client_id = s->client_id,
                .username = s->username,
                .username_source = s->username_source,
                .protocol_version = s->protocol_version,
                .connected = connected,
                .conn = s->client ? s->client->conn : NULL,
                .clean = s->expiry_s == 0,
                .expiry_interval_s = s->expiry_s,
                .subscriptions = s->subs.count,
                .queued = s->qlen,
                .inflight = s->ninflight,
            };
            fn(ud, &info);
        }
}

void br_engine_stats_get(const br_engine *e, br_engine_stats *out)
{
    *out = e->stats;
    out->sessions = e->nsessions;
    out->clients = e->nclients;
    out->retained = e->retained.count;
}
