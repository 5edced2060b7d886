/* broker/admin: admin HTTP API and ready file (see admin.h). */
#include "admin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events.h"
#include "proxy_view.h"
#include "json.h"
#include "log.h"
#include "net/http.h"
#include "net/sock.h"
#include "quirks.h"

#define ADMIN_TIMEOUT_MS 5000
#define ADMIN_MAX_CONNS 64

typedef struct admin_conn {
    struct admin_conn *next;
    ppb_admin *a;
    int fd;
    char req[PN_HTTP_MAX_HEAD];
    size_t reqlen;
    char *resp;
    size_t resplen, sent;
    uint64_t timer;
} admin_conn;

struct ppb_admin {
    ppb_broker *b;
    int fd;
    pn_addr bound;
    char bound_text[PN_ADDR_TEXT_MAX];
    admin_conn *conns;
    size_t nconns;
};

/* ---- bodies ---------------------------------------------------------------------------- */

static void versions_array(jbuf *jb, unsigned v)
{
    jb_arr(jb);
    if (v & PP_ALLOW_V1)
        jb_i64(jb, 1);
    if (v & PP_ALLOW_V2)
        jb_i64(jb, 2);
    jb_arr_end(jb);
}

char *ppb_admin_status_json(ppb_broker *b)
{
    jbuf jb;
    jb_init(&jb, 1u << 20);
    jb_obj(&jb);
    jb_key(&jb, "version");
    jb_str(&jb, PPB_VERSION);
    jb_key(&jb, "pid");
    jb_i64(&jb, getpid());
    jb_key(&jb, "uptime_s");
    jb_u64(&jb, (pn_now_ms() - b->started_ms) / 1000);
    jb_key(&jb, "quirks");
    jb_arr(&jb);
    for (size_t i = 0; i < PPB_QUIRK_COUNT; i++)
        if (b->quirks & ppb_quirk_at(i))
            jb_str(&jb, ppb_quirk_name(ppb_quirk_at(i)));
    jb_arr_end(&jb);
    jb_key(&jb, "connections");
    jb_u64(&jb, b->nconns);
    jb_key(&jb, "listeners");
    jb_arr(&jb);
    for (size_t i = 0; i < b->nlisteners; i++) {
        const ppb_listener *l = &b->listeners[i];
        const ppb_listener_config *lc = l->cfg;
        jb_obj(&jb);
        jb_key(&jb, "name");
        jb_str(&jb, lc->name);
        jb_key(&jb, "kind");
        jb_str(&jb, lc->kind == PPB_LISTENER_TCP ? "tcp" : "ssl");
        jb_key(&jb, "address");
        jb_str(&jb, l->bound_text);
        jb_key(&jb, "proxy_protocol");
        jb_bool(&jb, lc->proxy_protocol);
        jb_key(&jb, "versions");
        versions_array(&jb, lc->pp_versions);
        jb_key(&jb, "timeout_ms");
        jb_u64(&jb, lc->pp_timeout_ms);
        jb_key(&jb, "max_connections");
        jb_u64(&jb, lc->max_connections);
        jb_key(&jb, "connections");
        jb_u64(&jb, l->nconns);
        jb_key(&jb, "use_cn_as_username");
        jb_bool(&jb, lc->use_cn_as_username);
        jb_key(&jb, "cn_policy");
        jb_str(&jb, lc->cn_policy == PPB_CN_REQUIRE ? "require" : "fallback");
        jb_key(&jb, "require_crc32c");
        jb_bool(&jb, lc->require_crc32c);
        jb_key(&jb, "trusted_proxies");
        jb_arr(&jb);
        for (size_t k = 0; k < lc->trusted_proxies.list.count; k++) {
            char t[64];
            jb_str(&jb, pn_cidr_to_text(&lc->trusted_proxies.list.items[k], t, sizeof(t)));
        }
        jb_arr_end(&jb);
        jb_key(&jb, "allowed_sources");
        jb_arr(&jb);
        for (size_t k = 0; k < lc->allowed_sources.list.count; k++) {
            char t[64];
            jb_str(&jb, pn_cidr_to_text(&lc->allowed_sources.list.items[k], t, sizeof(t)));
        }
        jb_arr_end(&jb);
        jb_obj_end(&jb);
    }
    jb_arr_end(&jb);
    jb_obj_end(&jb);
    return jb_take(&jb);
}

static void session_cb(void *ud, const br_session_info *s)
{
    jbuf *jb = ud;
    const ppb_conn *c = s->conn;
    jb_obj(jb);
    jb_key(jb, "client_id");
    jb_str(jb, s->client_id);
    jb_key(jb, "username");
    jb_str(jb, s->username);
    jb_key(jb, "username_source");
    jb_str(jb, s->username_source ? s->username_source : "none");
    jb_key(jb, "protocol_version");
    jb_i64(jb, s->protocol_version);
    jb_key(jb, "connected");
    jb_bool(jb, s->connected);
    jb_key(jb, "clean");
    jb_bool(jb, s->clean);
    jb_key(jb, "subscriptions");
    jb_u64(jb, s->subscriptions);
    jb_key(jb, "queued");
    jb_u64(jb, s->queued);
    jb_key(jb, "inflight");
    jb_u64(jb, s->inflight);
    jb_key(jb, "listener");
    jb_str(jb, c ? c->l->cfg->name : NULL);
    jb_key(jb, "conn");
    if (c)
        jb_u64(jb, c->id);
    else
        jb_null(jb);
    jb_key(jb, "real_peer");
    jb_str(jb, c ? c->real_peer_text : NULL);
    jb_key(jb, "attributed_peer");
    jb_str(jb, c ? (c->attributed_text[0] ? c->attributed_text : c->real_peer_text) : NULL);
    jb_key(jb, "proxy");
    if (c && c->proxy)
        ppb_proxy_rec_json(c->proxy, jb);
    else
        jb_null(jb);
    jb_obj_end(jb);
}

char *ppb_admin_sessions_json(ppb_broker *b)
{
    jbuf jb;
    jb_init(&jb, 64u << 20);
    jb_obj(&jb);
    jb_key(&jb, "sessions");
    jb_arr(&jb);
    br_engine_foreach_session(b->engine, session_cb, &jb);
    jb_arr_end(&jb);
    jb_obj_end(&jb);
    return jb_take(&jb);
}

char *ppb_admin_connections_json(ppb_broker *b)
{
    /* indexed by enum ppb_conn_state: every state named (a TLS handshake was once read past the end) */
    static const char *const STATE[] = {[CONN_PROXY] = "proxy", [CONN_MQTT] = "mqtt", [CONN_CLOSING] = "closing",
                                        [CONN_TLS] = "tls"};
    _Static_assert(sizeof(STATE) / sizeof(STATE[0]) == CONN_TLS + 1, "a name for every connection state");
    jbuf jb;
    jb_init(&jb, 64u << 20);
    uint64_t now = pn_now_ms();
    jb_obj(&jb);
    jb_key(&jb, "connections");
    jb_arr(&jb);
    for (const ppb_conn *c = b->conns; c; c = c->next) {
        jb_obj(&jb);
        jb_key(&jb, "conn");
        jb_u64(&jb, c->id);
        jb_key(&jb, "listener");
        jb_str(&jb, c->l->cfg->name);
        jb_key(&jb, "real_peer");
        jb_str(&jb, c->real_peer_text);
        jb_key(&jb, "attributed_peer");
        jb_str(&jb, c->attributed_text[0] ? c->attributed_text : c->real_peer_text);
        jb_key(&jb, "state");
        jb_str(&jb, STATE[c->state]);
        jb_key(&jb, "header_bytes");
        jb_u64(&jb, c->hlen);
        jb_key(&jb, "header_reads");
        jb_u64(&jb, c->reads);
        jb_key(&jb, "age_ms");
        jb_u64(&jb, now - c->accepted_ms);
        jb_obj_end(&jb);
    }
    jb_arr_end(&jb);
    jb_obj_end(&jb);
    return jb_take(&jb);
}

/* Prometheus label values escape backslash, quote and newline. */
static void label(jbuf *jb, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\' || *p == '"')
            jb_printf(jb, "\\%c", *p);
        else if (*p == '\n')
            jb_append(jb, "\\n", 2);
        else
            jb_append(jb, p, 1);
    }
}

char *ppb_admin_metrics_text(ppb_broker *b)
{
    jbuf jb;
    jb_init(&jb, 4u << 20);
    jb_printf(&jb, "# HELP ppbroker_connections_accepted_total TCP connections accepted per listener.\n"
                   "# TYPE ppbroker_connections_accepted_total counter\n");
    for (size_t i = 0; i < b->nlisteners; i++) {
        jb_printf(&jb, "ppbroker_connections_accepted_total{listener=\"");
        label(&jb, b->listeners[i].cfg->name);
        jb_printf(&jb, "\"} %llu\n", (unsigned long long)b->listeners[i].accepted_total);
    }
    jb_printf(&jb, "# HELP ppbroker_connections_rejected_total Connections refused, by listener and reason.\n"
                   "# TYPE ppbroker_connections_rejected_total counter\n");
    for (size_t i = 0; i < b->nrejects; i++) {
        jb_printf(&jb, "ppbroker_connections_rejected_total{listener=\"");
        label(&jb, b->rejects[i].listener);
        jb_printf(&jb, "\",reason=\"");
        label(&jb, b->rejects[i].reason);
        jb_printf(&jb, "\"} %llu\n", (unsigned long long)b->rejects[i].count);
    }
    br_engine_stats st;
    memset(&st, 0, sizeof(st));
    br_engine_stats_get(b->engine, &st);
    jb_printf(&jb,
              "# HELP ppbroker_messages_received_total PUBLISH packets accepted from clients.\n"
              "# TYPE ppbroker_messages_received_total counter\n"
              "ppbroker_messages_received_total %llu\n"
              "# HELP ppbroker_messages_sent_total PUBLISH packets sent to clients.\n"
              "# TYPE ppbroker_messages_sent_total counter\n"
              "ppbroker_messages_sent_total %llu\n"
              "# HELP ppbroker_messages_dropped_total Messages dropped (full buffers or queues).\n"
              "# TYPE ppbroker_messages_dropped_total counter\n"
              "ppbroker_messages_dropped_total %llu\n"
              "# HELP ppbroker_sessions Sessions, connected and offline persistent.\n"
              "# TYPE ppbroker_sessions gauge\n"
              "ppbroker_sessions %zu\n"
              "# HELP ppbroker_connections Open client connections.\n"
              "# TYPE ppbroker_connections gauge\n"
              "ppbroker_connections %zu\n"
              "# HELP ppbroker_retained_messages Retained messages stored.\n"
              "# TYPE ppbroker_retained_messages gauge\n"
              "ppbroker_retained_messages %zu\n",
              (unsigned long long)st.messages_received, (unsigned long long)st.messages_sent,
              (unsigned long long)st.messages_dropped, st.sessions, b->nconns, st.retained);
    return jb_take(&jb);
}

/* ---- HTTP plumbing ----------------------------------------------------------------------- */

static void admin_conn_free(admin_conn *ac)
{
    ppb_admin *a = ac->a;
    if (ac->timer)
        pn_timer_cancel(a->b->loop, ac->timer);
    pn_loop_unwatch(a->b->loop, ac->fd);
    close(ac->fd);
    for (admin_conn **pp = &a->conns; *pp; pp = &(*pp)->next) {
        if (*pp == ac) {
            *pp = ac->next;
            break;
        }
    }
    a->nconns--;
    free(ac->resp);
    free(ac);
}

static void respond(admin_conn *ac, int status, const char *ctype, char *body)
{
    const char *text = body ? body : "{\"error\":\"internal\"}";
    if (!body)
        status = 500;
    size_t blen = strlen(text);
    char head[512];
    int hl = pn_http_response_head(head, sizeof(head), status, ctype, blen);
    ac->resp = malloc((size_t)(hl > 0 ? hl : 0) + blen + 1);
    if (ac->resp && hl > 0) {
        memcpy(ac->resp, head, (size_t)hl);
        memcpy(ac->resp + hl, text, blen);
        ac->resplen = (size_t)hl + blen;
    }
    free(body);
    pn_loop_modify(ac->a->b->loop, ac->fd, PN_WRITABLE);
}

static char *error_body(const char *msg)
{
    jbuf jb;
    jb_init(&jb, 4096);
    jb_obj(&jb);
    jb_key(&jb, "error");
    jb_str(&jb, msg);
    jb_obj_end(&jb);
    return jb_take(&jb);
}

static void route(admin_conn *ac, const pn_http_request *req)
{
    ppb_broker *b = ac->a->b;
    const char *json = "application/json";
    if (!pn_str_eq(req->method, "GET")) {
        respond(ac, 405, json, error_body("only GET is supported"));
        return;
    }
    if (pn_str_eq(req->path, "/api/v1/status")) {
        respond(ac, 200, json, ppb_admin_status_json(b));
    } else if (pn_str_eq(req->path, "/api/v1/sessions")) {
        respond(ac, 200, json, ppb_admin_sessions_json(b));
    } else if (pn_str_eq(req->path, "/api/v1/connections")) {
        respond(ac, 200, json, ppb_admin_connections_json(b));
    } else if (pn_str_eq(req->path, "/api/v1/events")) {
        char v[32];
        unsigned long long since = 0, limit = 0;
        char *end;
        if (pn_http_query_get(req->query, "since", v, sizeof(v)) >= 0) {
            errno = 0;
            since = strtoull(v, &end, 10);
            if (errno || end == v || *end) {
                respond(ac, 400, json, error_body("since must be a decimal event sequence number"));
                return;
            }
        }
        if (pn_http_query_get(req->query, "limit", v, sizeof(v)) >= 0) {
            errno = 0;
            limit = strtoull(v, &end, 10);
            if (errno || end == v || *end || limit == 0 || limit > PPB_EVENT_RING) {
                respond(ac, 400, json, error_body("limit must be 1..10000"));
                return;
            }
        }
        jbuf jb;
        jb_init(&jb, 64u << 20);
        ppb_events_render_since(b->events, since, (size_t)limit, &jb);
        respond(ac, 200, json, jb_take(&jb));
    } else if (pn_str_eq(req->path, "/api/v1/rejections")) {
        jbuf jb;
        jb_init(&jb, 64u << 20);
        ppb_events_render_rejections(b->events, &jb);
        respond(ac, 200, json, jb_take(&jb));
    } else if (pn_str_eq(req->path, "/metrics")) {
        respond(ac, 200, "text/plain; version=0.0.4", ppb_admin_metrics_text(b));
    } else {
        respond(ac, 404, json, error_body("unknown path"));
    }
}

static void admin_timeout(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop;
    (void)id;
    admin_conn *ac = udata;
    ac->timer = 0;
    admin_conn_free(ac);
}

static void admin_conn_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop;
    admin_conn *ac = udata;
    if (ac->resp) {
        if (!(events & (PN_WRITABLE | PN_ERROR | PN_HUP)))
            return;
        while (ac->sent < ac->resplen) {
            size_t n = 0;
            pn_io io = pn_send(fd, ac->resp + ac->sent, ac->resplen - ac->sent, &n);
            if (io == PN_IO_AGAIN)
                return;
            if (io != PN_IO_OK)
                break;
            ac->sent += n;
        }
        admin_conn_free(ac);
        return;
    }
    size_t n = 0;
    pn_io io = pn_recv(fd, ac->req + ac->reqlen, sizeof(ac->req) - ac->reqlen, &n);
    if (io == PN_IO_AGAIN)
        return;
    if (io != PN_IO_OK) {
        admin_conn_free(ac);
        return;
    }
    ac->reqlen += n;
    pn_http_request req;
    int r = pn_http_parse_request(ac->req, ac->reqlen, &req);
    if (r == PN_HTTP_NEED_MORE) {
        if (ac->reqlen == sizeof(ac->req))
            respond(ac, 431, "application/json", error_body("request head too large"));
        return;
    }
    if (r < 0) {
        respond(ac, 400, "application/json", error_body(pn_http_error_name(r)));
        return;
    }
    route(ac, &req);
}

static void admin_accept(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop;
    (void)events;
    ppb_admin *a = udata;
    for (int i = 0; i < 16; i++) {
        int cfd = pn_accept(fd, NULL);
        if (cfd < 0)
            return;
        if (a->nconns >= ADMIN_MAX_CONNS) {
            close(cfd);
            continue;
        }
        admin_conn *ac = calloc(1, sizeof(*ac));
        if (!ac) {
            close(cfd);
            continue;
        }
        ac->a = a;
        ac->fd = cfd;
        if (pn_loop_watch(a->b->loop, cfd, PN_READABLE, admin_conn_event, ac) != 0) {
            close(cfd);
            free(ac);
            continue;
        }
        ac->timer = pn_timer_add(a->b->loop, ADMIN_TIMEOUT_MS, admin_timeout, ac);
        ac->next = a->conns;
        a->conns = ac;
        a->nconns++;
    }
}

int ppb_admin_open(ppb_broker *b, char *err, size_t errcap)
{
    if (!b->cfg.has_admin)
        return 0;
    ppb_admin *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errcap, "admin.listener: out of memory");
        return -1;
    }
    a->b = b;
    char why[256];
    a->fd = pn_listen(&b->cfg.admin_addr, 64, 0, &a->bound, why, sizeof(why));
    if (a->fd < 0) {
        snprintf(err, errcap, "admin.listener (%s): %s", b->cfg.admin_text, why);
        free(a);
        return -1;
    }
    pn_addr_to_text(&a->bound, a->bound_text, sizeof(a->bound_text));
    if (pn_loop_watch(b->loop, a->fd, PN_READABLE, admin_accept, a) != 0) {
        snprintf(err, errcap, "admin.listener: cannot watch the socket: %s", strerror(errno));
        close(a->fd);
        free(a);
        return -1;
    }
    b->admin = a;
    ppb_log(b, PPB_LOG_INFO, "admin API on http://%s/api/v1/status", a->bound_text);
    return 0;
}

void ppb_admin_close(ppb_broker *b)
{
    ppb_admin *a = b->admin;
    if (!a)
        return;
    while (a->conns)
        admin_conn_free(a->conns);
    pn_loop_unwatch(b->loop, a->fd);
    close(a->fd);
    free(a);
    b->admin = NULL;
}

const char *ppb_admin_address(const ppb_broker *b)
{
    return b->admin ? b->admin->bound_text : NULL;
}

int ppb_write_ready_file(ppb_broker *b, const char *path, char *err, size_t errcap)
{
    jbuf jb;
    jb_init(&jb, 1u << 20);
    jb_obj(&jb);
    jb_key(&jb, "pid");
    jb_i64(&jb, getpid());
    jb_key(&jb, "version");
    jb_str(&jb, PPB_VERSION);
    jb_key(&jb, "admin");
    jb_str(&jb, ppb_admin_address(b));
    jb_key(&jb, "listeners");
    jb_obj(&jb);
    for (size_t i = 0; i < b->nlisteners; i++) {
        const ppb_listener *l = &b->listeners[i];
        jb_key(&jb, l->cfg->name);
        jb_obj(&jb);
        jb_key(&jb, "kind");
        jb_str(&jb, l->cfg->kind == PPB_LISTENER_TCP ? "tcp" : "ssl");
        jb_key(&jb, "address");
        jb_str(&jb, l->bound_text);
        jb_key(&jb, "proxy_protocol");
        jb_bool(&jb, l->cfg->proxy_protocol);
        jb_obj_end(&jb);
    }
    jb_obj_end(&jb);
    jb_obj_end(&jb);
    jb_append(&jb, "\n", 1);
    char *text = jb_take(&jb);
    if (!text) {
        snprintf(err, errcap, "ready file: out of memory");
        return -1;
    }
    char tmp[PPB_PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = -1;
    if (!f) {
        snprintf(err, errcap, "ready file %s: %s", tmp, strerror(errno));
    } else {
        bool ok = fputs(text, f) >= 0;
        ok = (fclose(f) == 0) && ok;
        if (!ok)
            snprintf(err, errcap, "ready file %s: write failed", tmp);
        else if (rename(tmp, path) != 0)
            snprintf(err, errcap, "ready file %s: rename: %s", path, strerror(errno));
        else
            rc = 0;
    }
    free(text);
    return rc;
}
