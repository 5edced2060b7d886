/* broker/events: rendering, rings, log lines and refusal counters (see events.h). */
#include "events.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* Both rings are bounded in count and in bytes: past the byte budget the oldest events
 * are dropped early (their slots read as gaps), so hostile headers cannot grow memory. */
#define PPB_EVENT_BUDGET (64u << 20)
#define PPB_REJECT_BUDGET (16u << 20)

struct ppb_events {
    char *ring[PPB_EVENT_RING];
    uint64_t next_seq;   /* seq of the next event; the first is 1 */
    uint64_t oldest_seq; /* oldest seq possibly still held */
    size_t bytes;
    char *rejects[PPB_REJECT_RING];
    uint64_t nrejects_total, oldest_reject;
    size_t reject_bytes;
};

ppb_events *ppb_events_new(void)
{
    ppb_events *ev = calloc(1, sizeof(*ev));
    if (ev)
        ev->next_seq = ev->oldest_seq = 1;
    return ev;
}

void ppb_events_free(ppb_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < PPB_EVENT_RING; i++)
        free(ev->ring[i]);
    for (size_t i = 0; i < PPB_REJECT_RING; i++)
        free(ev->rejects[i]);
    free(ev);
}

uint64_t ppb_events_next_seq(const ppb_events *ev)
{
    return ev->next_seq;
}

void ppb_rfc3339_now(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char base[32];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000) % 1000u; /* bounded, so -O3 sees 3 digits */
    snprintf(buf, cap, "%s.%03uZ", base, ms);
}

void ppb_count_reject(ppb_broker *b, const char *listener, const char *reason)
{
    for (size_t i = 0; i < b->nrejects; i++) {
        if (strcmp(b->rejects[i].listener, listener) == 0 && strcmp(b->rejects[i].reason, reason) == 0) {
            b->rejects[i].count++;
            return;
        }
    }
    if (b->nrejects == b->caprejects) {
        /* Reasons are a closed set of stable names, so this table stays small. */
        size_t cap = b->caprejects ? b->caprejects * 2 : 16;
        if (cap > 4096)
            return;
        ppb_reject_count *p = realloc(b->rejects, cap * sizeof(*p));
        if (!p)
            return;
        b->rejects = p;
        b->caprejects = cap;
    }
    ppb_reject_count *r = &b->rejects[b->nrejects++];
    snprintf(r->listener, sizeof(r->listener), "%s", listener);
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
    r->count = 1;
}

static bool is_refusal(const char *type)
{
    size_t n = strlen(type);
    return n > 7 && strcmp(type + n - 7, "_reject") == 0;
}

static void put_refs(jbuf *jb, const char *refs)
{
    jb_arr(jb);
    if (refs) {
        const char *p = refs;
        while (*p) {
            while (*p == ',' || *p == ' ')
                p++;
            const char *s = p;
            while (*p && *p != ',' && *p != ' ')
                p++;
            if (p > s)
                jb_strn(jb, s, (size_t)(p - s));
        }
    }
    jb_arr_end(jb);
}

static void render_json(jbuf *jb, uint64_t seq, const char *now, ppb_conn *c, const ppb_event_fields *f)
{
    jb_obj(jb);
    jb_key(jb, "seq");
    jb_u64(jb, seq);
    jb_key(jb, "time");
    jb_str(jb, now);
    jb_key(jb, "conn");
    jb_u64(jb, c->id);
    jb_key(jb, "listener");
    jb_str(jb, c->l->cfg->name);
    jb_key(jb, "real_peer");
    jb_str(jb, c->real_peer_text);
    jb_key(jb, "type");
    jb_str(jb, f->type);
    jb_key(jb, "attributed_peer");
    jb_str(jb, c->attributed_text[0] ? c->attributed_text : c->real_peer_text);
    if (f->with_proxy) {
        jb_key(jb, "proxy");
        if (c->proxy_json)
            jb_raw_value(jb, c->proxy_json);
        else
            jb_null(jb);
    }
    if (f->reason) {
        jb_key(jb, "reason");
        jb_str(jb, f->reason);
    }
    jb_key(jb, "refs");
    put_refs(jb, f->refs);
    if (f->message) {
        jb_key(jb, "message");
        jb_str(jb, f->message);
    }
    if (f->outcome) {
        jb_key(jb, "outcome");
        jb_str(jb, f->outcome);
    }
    if (f->client_id) {
        jb_key(jb, "client_id");
        jb_str(jb, f->client_id);
    }
    if (f->username) {
        jb_key(jb, "username");
        jb_str(jb, f->username);
    }
    if (f->username_source) {
        jb_key(jb, "username_source");
        jb_str(jb, f->username_source);
    }
    if (f->protocol_version > 0) {
        jb_key(jb, "protocol_version");
        jb_i64(jb, f->protocol_version);
    }
    if (f->topic) {
        jb_key(jb, "topic");
        jb_str(jb, f->topic);
    }
    if (f->reason_code >= 0) {
        jb_key(jb, "reason_code");
        jb_i64(jb, f->reason_code);
    }
    if (f->session_present >= 0) {
        jb_key(jb, "session_present");
        jb_bool(jb, f->session_present > 0);
    }
    jb_obj_end(jb);
}

/* text values: bare when safe, else JSON-quoted (escapes included) */
static void text_kv(jbuf *jb, const char *key, const char *v)
{
    if (!v)
        return;
    jb_printf(jb, " %s=", key);
    bool bare = *v != '\0';
    for (const char *p = v; *p && bare; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p >= 0x7f)
            bare = false;
    if (bare) {
        jb_append(jb, v, strlen(v));
    } else {
        jbuf q;
        jb_init(&q, 8192);
        jb_str(&q, v);
        if (q.p)
            jb_append(jb, q.p, q.len);
        jb_free(&q);
    }
}

static void render_text(jbuf *jb, uint64_t seq, const char *now, enum ppb_log_level lvl, ppb_conn *c,
                        const ppb_event_fields *f)
{
    static const char *const CMD[] = {"LOCAL", "PROXY"};
    static const char *const FAM[] = {"UNSPEC", "INET", "INET6", "UNIX"};
    char num[32];
    jb_printf(jb, "%s level=%s event=%s seq=%llu conn=%llu", now, ppb_log_level_name(lvl), f->type,
              (unsigned long long)seq, (unsigned long long)c->id);
    text_kv(jb, "listener", c->l->cfg->name);
    text_kv(jb, "real_peer", c->real_peer_text);
    text_kv(jb, "attributed_peer", c->attributed_text[0] ? c->attributed_text : c->real_peer_text);
    if (f->with_proxy && c->pp_version) {
        snprintf(num, sizeof(num), "%d", c->pp_version);
        text_kv(jb, "pp_version", num);
        text_kv(jb, "pp_command", CMD[c->pp_command & 1]);
        text_kv(jb, "pp_family", FAM[c->pp_family & 3]);
        text_kv(jb, "pp_src", c->carried_src[0] ? c->carried_src : NULL);
        text_kv(jb, "pp_dst", c->carried_dst[0] ? c->carried_dst : NULL);
        text_kv(jb, "pp_tlvs", c->tlv_summary && c->tlv_summary[0] ? c->tlv_summary : NULL);
    }
    text_kv(jb, "client_id", f->client_id);
    text_kv(jb, "username", f->username);
    text_kv(jb, "username_source", f->username_source);
    if (f->protocol_version > 0) {
        snprintf(num, sizeof(num), "%d", f->protocol_version);
        text_kv(jb, "protocol_version", num);
    }
    text_kv(jb, "outcome", f->outcome);
    text_kv(jb, "reason", f->reason);
    if (f->reason_code >= 0) {
        snprintf(num, sizeof(num), "%d", f->reason_code);
        text_kv(jb, "reason_code", num);
    }
    text_kv(jb, "topic", f->topic);
    text_kv(jb, "refs", f->refs);
    text_kv(jb, "message", f->message);
}

static enum ppb_log_level level_for(const ppb_event_fields *f)
{
    if (is_refusal(f->type))
        return PPB_LOG_WARNING;
    if (strcmp(f->type, "close") == 0 || strcmp(f->type, "acl_deny") == 0 || strcmp(f->type, "cn_decision") == 0)
        return PPB_LOG_INFO;
    return PPB_LOG_DEBUG; /* proxy_header, connack: the final line repeats what matters */
}

void ppb_event_emit(ppb_broker *b, ppb_conn *c, const ppb_event_fields *f)
{
    ppb_events *ev = b->events;
    uint64_t seq = ev->next_seq++;
    char now[40];
    ppb_rfc3339_now(now, sizeof(now));

    jbuf jb;
    jb_init(&jb, 1u << 20);
    render_json(&jb, seq, now, c, f);
    char *json = jb_take(&jb);
    if (!json)
        return;

    enum ppb_log_level lvl = level_for(f);
    if (ppb_log_enabled(b, lvl)) {
        if (b->cfg.log_format == PPB_LOG_JSON) {
            ppb_log_line(b, lvl, json);
        } else {
            jbuf t;
            jb_init(&t, 1u << 20);
            render_text(&t, seq, now, lvl, c, f);
            if (t.p && !t.failed)
                ppb_log_line(b, lvl, t.p);
            jb_free(&t);
        }
    }

    size_t len = strlen(json) + 1;
    if (is_refusal(f->type)) {
        ppb_count_reject(b, c->l->cfg->name, f->reason ? f->reason : f->type);
        if (ev->nrejects_total - ev->oldest_reject >= PPB_REJECT_RING)
            ev->oldest_reject++;
        size_t slot = ev->nrejects_total++ % PPB_REJECT_RING;
        if (ev->rejects[slot])
            ev->reject_bytes -= strlen(ev->rejects[slot]) + 1;
        free(ev->rejects[slot]);
        ev->rejects[slot] = strdup(json);
        if (ev->rejects[slot])
            ev->reject_bytes += len;
        while (ev->reject_bytes > PPB_REJECT_BUDGET && ev->oldest_reject + 1 < ev->nrejects_total) {
            char **old = &ev->rejects[ev->oldest_reject++ % PPB_REJECT_RING];
            if (*old) {
                ev->reject_bytes -= strlen(*old) + 1;
                free(*old);
                *old = NULL;
            }
        }
    }
    if (ev->next_seq - ev->oldest_seq > PPB_EVENT_RING)
        ev->oldest_seq = ev->next_seq - PPB_EVENT_RING;
    size_t slot = (size_t)((seq - 1) % PPB_EVENT_RING);
    if (ev->ring[slot])
        ev->bytes -= strlen(ev->ring[slot]) + 1;
    free(ev->ring[slot]);
    ev->ring[slot] = json;
    ev->bytes += len;
    while (ev->bytes > PPB_EVENT_BUDGET && ev->oldest_seq < seq) {
        char **old = &ev->ring[(ev->oldest_seq++ - 1) % PPB_EVENT_RING];
        if (*old) {
            ev->bytes -= strlen(*old) + 1;
            free(*old);
            *old = NULL;
        }
    }
}

void ppb_events_render_since(ppb_events *ev, uint64_t since, size_t limit, jbuf *out)
{
    uint64_t oldest = ev->next_seq > PPB_EVENT_RING ? ev->next_seq - PPB_EVENT_RING : 1;
    if (oldest < ev->oldest_seq)
        oldest = ev->oldest_seq;
    uint64_t from = since < oldest ? oldest : since;
    if (since == 0 && limit == 0) {
        /* "everything you have": the newest events that fit PPB_EVENTS_ALL_BYTES, oldest first */
        size_t bytes = 0;
        from = ev->next_seq;
        while (from > oldest) {
            const char *j = ev->ring[(from - 2) % PPB_EVENT_RING];
            size_t n = j ? strlen(j) + 1 : 0;
            if (bytes + n > PPB_EVENTS_ALL_BYTES)
                break;
            bytes += n;
            from--;
        }
        limit = PPB_EVENT_RING;
    }
    if (limit == 0)
        limit = PPB_EVENTS_PAGE;
    uint64_t to = from;
    jbuf events;
    jb_init(&events, 64u << 20);
    jb_arr(&events);
    for (uint64_t s = from; s < ev->next_seq && (size_t)(s - from) < limit; s++) {
        const char *j = ev->ring[(s - 1) % PPB_EVENT_RING];
        if (j)
            jb_raw_value(&events, j);
        to = s + 1;
    }
    jb_arr_end(&events);
    jb_obj(out);
    jb_key(out, "next");
    jb_u64(out, to);
    jb_key(out, "events");
    jb_raw_value(out, events.p ? events.p : "[]");
    jb_obj_end(out);
    jb_free(&events);
}

void ppb_events_render_rejections(ppb_events *ev, jbuf *out)
{
    jb_obj(out);
    jb_key(out, "rejections");
    jb_arr(out);
    uint64_t n = ev->nrejects_total < PPB_REJECT_RING ? ev->nrejects_total : PPB_REJECT_RING;
    for (uint64_t i = ev->nrejects_total - n; i < ev->nrejects_total; i++) {
        const char *j = ev->rejects[i % PPB_REJECT_RING];
        if (j)
            jb_raw_value(out, j);
    }
    jb_arr_end(out);
    jb_obj_end(out);
}

void ppb_engine_event_sink(void *ud, const br_event *e)
{
    ppb_broker *b = ud;
    ppb_conn *c = e->conn;
    if (!c)
        return;
    ppb_event_fields f = PPB_EVENT_FIELDS_INIT;
    f.type = e->type_name;
    f.reason = e->reason;
    f.message = e->message;
    f.client_id = e->client_id;
    f.username = e->username;
    f.topic = e->topic;
    f.reason_code = e->reason_code;
    f.protocol_version = e->protocol_version;
    if (e->type == BR_EV_CONNACK) {
        f.session_present = e->session_present ? 1 : 0;
        if (e->reason_code == 0)
            c->served = true;
    }
    if (e->type == BR_EV_AUTH_REJECT && c->forced_username == NULL && c->l->cfg->use_cn_as_username)
        f.refs = "R-SSL-02,R-SSL-08";
    ppb_event_emit(b, c, &f);
}
