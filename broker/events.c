/* broker/events: rendering, rings, log lines and refusal counters (see events.h). */
#include "events.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "proxy_view.h"

/* Both rings are bounded in count and in bytes: past the byte budget the oldest events
 * are dropped early (their slots read as gaps), so hostile headers cannot grow memory. */
#define PPB_EVENT_BUDGET (64u << 20)
#define PPB_REJECT_BUDGET (16u << 20)

/* An event as kept: the fields, copies of its strings, and a reference to the connection's
 * PROXY header. JSON and text are rendered from it only when something reads it (the admin
 * API, or a log line the configured level prints): most events are never read. */
enum {
    S_LISTENER, S_REAL_PEER, S_ATTRIBUTED, S_TYPE, S_REASON, S_REFS, S_MESSAGE, S_OUTCOME,
    S_CLIENT_ID, S_USERNAME, S_USERNAME_SOURCE, S_TOPIC, S_COUNT
};

typedef struct ppb_event {
    /* first: what recycling a ring slot reads, in the first cache line */
    unsigned refs;            /* the event ring, and the refusal ring for refusals */
    size_t size;              /* bytes held, for the budgets */
    size_t cap;               /* bytes allocated for the struct and text[] */
    ppb_proxy_rec *proxy;     /* NULL: no header (rendered as null when with_proxy) */
    bool with_proxy;
    int reason_code, session_present, protocol_version;
    uint64_t seq, conn;
    struct timespec time;
    const char *s[S_COUNT];   /* into text[]; NULL = absent */
    char text[];
} ppb_event;

struct ppb_events {
    ppb_event *ring[PPB_EVENT_RING];
    uint64_t next_seq;   /* seq of the next event; the first is 1 */
    uint64_t oldest_seq; /* oldest seq possibly still held */
    size_t bytes;
    ppb_event *rejects[PPB_REJECT_RING];
    uint64_t nrejects_total, oldest_reject;
    size_t reject_bytes;
};

static void event_unref(ppb_event *e)
{
    if (!e || --e->refs > 0)
        return;
    ppb_proxy_rec_unref(e->proxy);
    free(e);
}

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
        event_unref(ev->ring[i]);
    for (size_t i = 0; i < PPB_REJECT_RING; i++)
        event_unref(ev->rejects[i]);
    free(ev);
}

uint64_t ppb_events_next_seq(const ppb_events *ev)
{
    return ev->next_seq;
}

static void rfc3339(const struct timespec *ts, char *buf, size_t cap)
{
    /* The seconds part changes once a second while events and log lines come in bursts:
     * keep the last one (ppbroker runs its loop on one thread; the cache is per thread). */
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char base[32];
    static _Thread_local size_t base_len;
    if (ts->tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts->tv_sec, &tm);
        base_len = strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts->tv_sec;
    }
    unsigned ms = (unsigned)(ts->tv_nsec / 1000000) % 1000u;
    char t[40];
    memcpy(t, base, base_len);
    t[base_len] = '.';
    t[base_len + 1] = (char)('0' + ms / 100);
    t[base_len + 2] = (char)('0' + ms / 10 % 10);
    t[base_len + 3] = (char)('0' + ms % 10);
    t[base_len + 4] = 'Z';
    size_t n = base_len + 5;
    if (cap == 0)
        return;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, t, n);
    buf[n] = '\0';
}

void ppb_rfc3339_now(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    rfc3339(&ts, buf, cap);
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

static void render_json(jbuf *jb, const ppb_event *e)
{
    char now[40];
    rfc3339(&e->time, now, sizeof(now));
    jb_obj(jb);
    jb_key(jb, "seq");
    jb_u64(jb, e->seq);
    jb_key(jb, "time");
    jb_str(jb, now);
    jb_key(jb, "conn");
    jb_u64(jb, e->conn);
    jb_key(jb, "listener");
    jb_str(jb, e->s[S_LISTENER]);
    jb_key(jb, "real_peer");
    jb_str(jb, e->s[S_REAL_PEER]);
    jb_key(jb, "type");
    jb_str(jb, e->s[S_TYPE]);
    jb_key(jb, "attributed_peer");
    jb_str(jb, e->s[S_ATTRIBUTED]);
    if (e->with_proxy) {
        jb_key(jb, "proxy");
        if (e->proxy)
            ppb_proxy_rec_json(e->proxy, jb);
        else
            jb_null(jb);
    }
    if (e->s[S_REASON]) {
        jb_key(jb, "reason");
        jb_str(jb, e->s[S_REASON]);
    }
    jb_key(jb, "refs");
    put_refs(jb, e->s[S_REFS]);
    static const struct { int idx; const char *key; } TAIL[] = {
        {S_MESSAGE, "message"}, {S_OUTCOME, "outcome"}, {S_CLIENT_ID, "client_id"},
        {S_USERNAME, "username"}, {S_USERNAME_SOURCE, "username_source"},
    };
    for (size_t i = 0; i < sizeof(TAIL) / sizeof(TAIL[0]); i++) {
        if (e->s[TAIL[i].idx]) {
            jb_key(jb, TAIL[i].key);
            jb_str(jb, e->s[TAIL[i].idx]);
        }
    }
    if (e->protocol_version > 0) {
        jb_key(jb, "protocol_version");
        jb_i64(jb, e->protocol_version);
    }
    if (e->s[S_TOPIC]) {
        jb_key(jb, "topic");
        jb_str(jb, e->s[S_TOPIC]);
    }
    if (e->reason_code >= 0) {
        jb_key(jb, "reason_code");
        jb_i64(jb, e->reason_code);
    }
    if (e->session_present >= 0) {
        jb_key(jb, "session_present");
        jb_bool(jb, e->session_present > 0);
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

static void render_text(jbuf *jb, const ppb_event *e, enum ppb_log_level lvl)
{
    static const char *const CMD[] = {"LOCAL", "PROXY"};
    static const char *const FAM[] = {"UNSPEC", "INET", "INET6", "UNIX"};
    char num[32], now[40];
    rfc3339(&e->time, now, sizeof(now));
    jb_printf(jb, "%s level=%s event=%s seq=%llu conn=%llu", now, ppb_log_level_name(lvl), e->s[S_TYPE],
              (unsigned long long)e->seq, (unsigned long long)e->conn);
    text_kv(jb, "listener", e->s[S_LISTENER]);
    text_kv(jb, "real_peer", e->s[S_REAL_PEER]);
    text_kv(jb, "attributed_peer", e->s[S_ATTRIBUTED]);
    const ppb_proxy_rec *r = e->proxy;
    if (e->with_proxy && r && ppb_proxy_rec_version(r)) {
        char src[PP_UNIX_PATH_LEN * 4 + 32], dst[PP_UNIX_PATH_LEN * 4 + 32], sum[1024];
        const char *ts = ppb_proxy_rec_src_text(r, src, sizeof(src));
        const char *td = ppb_proxy_rec_dst_text(r, dst, sizeof(dst));
        const char *tt = ppb_proxy_rec_tlv_summary(r, sum, sizeof(sum));
        snprintf(num, sizeof(num), "%d", ppb_proxy_rec_version(r));
        text_kv(jb, "pp_version", num);
        text_kv(jb, "pp_command", CMD[ppb_proxy_rec_command(r) & 1]);
        text_kv(jb, "pp_family", FAM[ppb_proxy_rec_family(r) & 3]);
        text_kv(jb, "pp_src", ts[0] ? ts : NULL);
        text_kv(jb, "pp_dst", td[0] ? td : NULL);
        text_kv(jb, "pp_tlvs", tt[0] ? tt : NULL);
    }
    text_kv(jb, "client_id", e->s[S_CLIENT_ID]);
    text_kv(jb, "username", e->s[S_USERNAME]);
    text_kv(jb, "username_source", e->s[S_USERNAME_SOURCE]);
    if (e->protocol_version > 0) {
        snprintf(num, sizeof(num), "%d", e->protocol_version);
        text_kv(jb, "protocol_version", num);
    }
    text_kv(jb, "outcome", e->s[S_OUTCOME]);
    text_kv(jb, "reason", e->s[S_REASON]);
    if (e->reason_code >= 0) {
        snprintf(num, sizeof(num), "%d", e->reason_code);
        text_kv(jb, "reason_code", num);
    }
    text_kv(jb, "topic", e->s[S_TOPIC]);
    text_kv(jb, "refs", e->s[S_REFS]);
    text_kv(jb, "message", e->s[S_MESSAGE]);
}

static enum ppb_log_level level_for(const char *type, bool refusal)
{
    if (refusal)
        return PPB_LOG_WARNING;
    if (strcmp(type, "close") == 0 || strcmp(type, "acl_deny") == 0 || strcmp(type, "cn_decision") == 0)
        return PPB_LOG_INFO;
    return PPB_LOG_DEBUG; /* proxy_header, connack: the final line repeats what matters */
}

/* Allocations are rounded up so that the event leaving a ring slot can usually hold the
 * one replacing it: a full ring then costs no malloc/free per event. */
#define PPB_EVENT_ALIGN 128

/* Fields that are string literals or live as long as the broker (the listener's name in the
 * config; the type, refs, outcome and username_source every caller passes as literals, see
 * events.h): kept by pointer. The others are copied. */
#define KEPT_BY_POINTER                                                                                      \
    ((1u << S_LISTENER) | (1u << S_TYPE) | (1u << S_REFS) | (1u << S_OUTCOME) | (1u << S_USERNAME_SOURCE))

/* The event as kept: one allocation holding the struct and copies of its strings. reuse is
 * the event leaving the ring slot (or NULL); it is recycled when nothing else holds it. */
static ppb_event *event_new(uint64_t seq, ppb_conn *c, const ppb_event_fields *f, ppb_event *reuse)
{
    const char *v[S_COUNT] = {
        [S_LISTENER] = c->l->cfg->name,
        [S_REAL_PEER] = c->real_peer_text,
        [S_ATTRIBUTED] = c->attributed_text[0] ? c->attributed_text : c->real_peer_text,
        [S_TYPE] = f->type,
        [S_REASON] = f->reason,
        [S_REFS] = f->refs,
        [S_MESSAGE] = f->message,
        [S_OUTCOME] = f->outcome,
        [S_CLIENT_ID] = f->client_id,
        [S_USERNAME] = f->username,
        [S_USERNAME_SOURCE] = f->username_source,
        [S_TOPIC] = f->topic,
    };
    size_t len[S_COUNT], total = 0;
    for (int i = 0; i < S_COUNT; i++) {
        len[i] = v[i] && !(KEPT_BY_POINTER & (1u << i)) ? strlen(v[i]) + 1 : 0;
        total += len[i];
    }
    size_t need = sizeof(ppb_event) + total;
    ppb_event *e = NULL;
    if (reuse && reuse->refs == 1 && reuse->cap >= need) {
        e = reuse;
        ppb_proxy_rec_unref(e->proxy);
    } else {
        event_unref(reuse);
        size_t cap = (need + PPB_EVENT_ALIGN - 1) / PPB_EVENT_ALIGN * PPB_EVENT_ALIGN;
        e = malloc(cap);
        if (!e)
            return NULL;
        e->cap = cap;
    }
    e->refs = 1;
    e->with_proxy = f->with_proxy;
    e->reason_code = f->reason_code;
    e->session_present = f->session_present;
    e->protocol_version = f->protocol_version;
    e->seq = seq;
    e->conn = c->id;
    clock_gettime(CLOCK_REALTIME, &e->time);
    e->proxy = f->with_proxy ? ppb_proxy_rec_ref(c->proxy) : NULL;
    char *p = e->text;
    for (int i = 0; i < S_COUNT; i++) {
        if (KEPT_BY_POINTER & (1u << i)) {
            e->s[i] = v[i];
            continue;
        }
        e->s[i] = v[i] ? p : NULL;
        if (v[i])
            memcpy(p, v[i], len[i]);
        p += len[i];
    }
    e->size = e->cap + ppb_proxy_rec_size(e->proxy);
    return e;
}

/* The events the next emits replace are ~10,000 events old, long out of the CPU caches:
 * start loading the one after next (the fields recycling reads are in its first line), and
 * the header record of the next one (its event was loaded by the previous call), so that
 * recycling them waits less on memory. */
static void prefetch_leaving(const ppb_events *ev, uint64_t seq)
{
#if defined(__GNUC__)
    const ppb_event *next = ev->ring[seq % PPB_EVENT_RING];
    const ppb_event *after = ev->ring[(seq + 1) % PPB_EVENT_RING];
    if (after)
        __builtin_prefetch(after, 1);
    if (next && next->proxy)
        __builtin_prefetch(next->proxy, 1);
#else
    (void)ev;
    (void)seq;
#endif
}

void ppb_event_emit(ppb_broker *b, ppb_conn *c, const ppb_event_fields *f)
{
    ppb_events *ev = b->events;
    uint64_t seq = ev->next_seq++;
    /* the slot's previous event leaves the ring now; its memory may carry the new one */
    size_t slot = (size_t)((seq - 1) % PPB_EVENT_RING);
    ppb_event *leaving = ev->ring[slot];
    ev->ring[slot] = NULL;
    if (leaving)
        ev->bytes -= leaving->size;
    if (ev->next_seq - ev->oldest_seq > PPB_EVENT_RING)
        ev->oldest_seq = ev->next_seq - PPB_EVENT_RING;
    ppb_event *e = event_new(seq, c, f, leaving);
    if (!e)
        return;

    bool refusal = is_refusal(f->type);
    enum ppb_log_level lvl = level_for(f->type, refusal);
    if (ppb_log_enabled(b, lvl)) {
        jbuf t;
        jb_init(&t, 1u << 20);
        if (b->cfg.log_format == PPB_LOG_JSON)
            render_json(&t, e);
        else
            render_text(&t, e, lvl);
        if (t.p && !t.failed)
            ppb_log_line(b, lvl, t.p);
        jb_free(&t);
    }

    if (refusal) {
        ppb_count_reject(b, c->l->cfg->name, f->reason ? f->reason : f->type);
        if (ev->nrejects_total - ev->oldest_reject >= PPB_REJECT_RING)
            ev->oldest_reject++;
        size_t rslot = ev->nrejects_total++ % PPB_REJECT_RING;
        if (ev->rejects[rslot])
            ev->reject_bytes -= ev->rejects[rslot]->size;
        event_unref(ev->rejects[rslot]);
        e->refs++;
        ev->rejects[rslot] = e;
        ev->reject_bytes += e->size;
        while (ev->reject_bytes > PPB_REJECT_BUDGET && ev->oldest_reject + 1 < ev->nrejects_total) {
            ppb_event **old = &ev->rejects[ev->oldest_reject++ % PPB_REJECT_RING];
            if (*old) {
                ev->reject_bytes -= (*old)->size;
                event_unref(*old);
                *old = NULL;
            }
        }
    }
    ev->ring[slot] = e;
    ev->bytes += e->size;
    prefetch_leaving(ev, seq);
    while (ev->bytes > PPB_EVENT_BUDGET && ev->oldest_seq < seq) {
        ppb_event **old = &ev->ring[(ev->oldest_seq++ - 1) % PPB_EVENT_RING];
        if (*old) {
            ev->bytes -= (*old)->size;
            event_unref(*old);
            *old = NULL;
        }
    }
}

/* One event's JSON (malloc'd), or NULL when it does not render. */
static char *event_json(const ppb_event *e)
{
    jbuf jb;
    jb_init(&jb, 1u << 20);
    render_json(&jb, e);
    return jb_take(&jb);
}

void ppb_events_render_since(ppb_events *ev, uint64_t since, size_t limit, jbuf *out)
{
    uint64_t oldest = ev->next_seq > PPB_EVENT_RING ? ev->next_seq - PPB_EVENT_RING : 1;
    if (oldest < ev->oldest_seq)
        oldest = ev->oldest_seq;
    uint64_t from = since < oldest ? oldest : since;
    jbuf events;
    jb_init(&events, 64u << 20);
    jb_arr(&events);
    uint64_t to = from;
    if (since == 0 && limit == 0) {
        /* "everything you have": the newest events that fit PPB_EVENTS_ALL_BYTES, oldest
         * first. Rendered newest first to find where to start, then written in order. */
        char **held = calloc(PPB_EVENT_RING, sizeof(*held));
        size_t bytes = 0, n = 0;
        from = ev->next_seq;
        while (held && from > oldest) {
            const ppb_event *e = ev->ring[(from - 2) % PPB_EVENT_RING];
            char *j = e ? event_json(e) : NULL;
            size_t len = j ? strlen(j) + 1 : 0;
            if (bytes + len > PPB_EVENTS_ALL_BYTES) {
                free(j);
                break;
            }
            bytes += len;
            held[n++] = j;
            from--;
        }
        while (n > 0) {
            char *j = held[--n];
            if (j)
                jb_raw_value(&events, j);
            free(j);
        }
        free(held);
        to = ev->next_seq;
        if (to < from)
            to = from;
    } else {
        if (limit == 0)
            limit = PPB_EVENTS_PAGE;
        for (uint64_t s = from; s < ev->next_seq && (size_t)(s - from) < limit; s++) {
            const ppb_event *e = ev->ring[(s - 1) % PPB_EVENT_RING];
            if (e)
                render_json(&events, e);
            to = s + 1;
        }
    }
    jb_arr_end(&events);
    jb_obj(out);
    jb_key(out, "next");
    jb_u64(out, to);
    jb_key(out, "events");
    jb_raw_value(out, events.p && !events.failed ? events.p : "[]");
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
        const ppb_event *e = ev->rejects[i % PPB_REJECT_RING];
        if (e)
            render_json(out, e);
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
