/* libFuzzer target for ppbroker's MQTT session engine (broker/engine.h), driven the way the
 * transport drives it: several fake connections share one engine, so routing between
 * sessions, retained messages, wills, takeovers and QoS 1/2 flows all run.
 *
 * Input format:
 *   byte 0    clients (1 + low 3 bits % 5), transport and engine switches (see setup())
 *   byte 1    engine bounds: inflight window, queue, output buffer size, small limits, ACL
 *   then ops, each one header byte h: slot = (h & 7) % clients, op = (h >> 3) % OP_COUNT,
 *   followed by the op's argument bytes (a truncated op ends the input):
 *     RAW len bytes...   bytes as they arrive from the socket (split anywhere)
 *     DETACH             the transport saw EOF: br_engine_detach
 *     FLUSH              the output buffer drained: br_engine_writable
 *     CONNECT a b c      a CONNECT built from the bits (version, id, clean, will, props)
 *     SUBSCRIBE a b c    a SUBSCRIBE or UNSUBSCRIBE of filters from a small set
 *     PUBLISH a b c      a PUBLISH on a topic from a small set (QoS, retain, alias, props)
 *     ACK a b            answer a PUBLISH / PUBREC / PUBREL the engine sent on this slot
 *     DISCONNECT a       DISCONNECT (reason, session expiry) or PINGREQ
 *     SHUTDOWN           br_engine_shutdown
 *     RECONNECT a        a new connection in this slot (forced username, refusal, address)
 *     TIME a             the clock moves on (a picks how far); due timers fire in order
 *   A slot with no connection gets one on its first input. At the end every connection is
 *   detached and the engine freed (LeakSanitizer sees what is left).
 *
 * What the engine sends is checked on the way out: every send is exactly one packet that
 * lib/mqtt decodes in the client's version, no send after close, close at most once, CONNACK
 * first and once, nothing after a refusal. On connections fed only canned packets (the harness
 * then knows every ack) also: Session Present 0 after Clean Start, no PUBLISH above the
 * client's Maximum Packet Size, no packet id reused while unacknowledged. The
 * engine's counters must agree with the harness (attached clients, sessions listed), and
 * events must name a live connection.
 *
 * Deterministic: time is a fake clock. This file defines the three lib/net/loop.h functions
 * the engine uses (pn_now_ms, pn_timer_add, pn_timer_cancel) over a timer list that only the
 * TIME op advances, so keep-alive, CONNECT timeout, will delay, session and message expiry
 * all fire at reproducible points (loop.o is then not linked: a duplicate symbol would be a
 * link error, never a silent mix). Empty client ids get a random id from the engine; no
 * decision depends on its value.
 *
 * FUZZ_BROKER_TRACE=1 prints every packet each slot receives and every close, which is how
 * the seeds in tests/fuzz/corpus/fuzz_broker_engine/ were checked to do what their names say. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "engine.h"
#include "mqtt/mqtt.h"
#include "net/loop.h"

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_broker_engine: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define SLOTS_MAX 5
#define ACKS_MAX 16
#define TIMER_FIRES_MAX 100000 /* per TIME op: more means timers re-arm themselves forever */

enum op {
    OP_RAW, OP_DETACH, OP_FLUSH, OP_CONNECT, OP_SUBSCRIBE, OP_PUBLISH, OP_ACK, OP_DISCONNECT,
    OP_SHUTDOWN, OP_RECONNECT, OP_TIME, OP_COUNT
};

/* Something the client owes the engine: the ack packet type and its id. */
typedef struct owed_ack {
    uint8_t type;
    uint16_t id;
} owed_ack;

/* One fake transport connection (a slot is reused by later connections). */
typedef struct fconn {
    br_client *c;          /* NULL: no connection in this slot */
    bool closed;           /* ops.close was called */
    size_t queued, limit;  /* bytes in the bounded output buffer, and its size */
    uint8_t level;         /* version this harness speaks on the connection */
    owed_ack acks[ACKS_MAX];
    size_t nacks;
    uint16_t next_pid;
    /* what the client has seen and asked for, to judge the order of what the engine sends */
    bool got_connack, refused;
    bool raw_sent;         /* raw bytes went in: the harness no longer knows every ack sent */
    bool connect_sent, clean_requested;
    uint32_t max_packet;   /* v5 Maximum Packet Size the canned CONNECT announced; 0 = none */
    uint8_t in_use[65536 / 8]; /* outbound packet ids received and not yet acknowledged */
} fconn;

static struct {
    br_engine *e;
    fconn slots[SLOTS_MAX];
    size_t nslots;
    bool detach_in_close;
    size_t out_limit;
    size_t attached;
} H;

/* FUZZ_BROKER_TRACE=1 prints what each slot receives and why it closes (to check seeds). */
static bool trace;

static const char *const TOPICS[8] = { "a", "a/b", "a/c", "b", "a/b/c", "$SYS/x", "deny/x", "secret/y" };
static const char *const FILTERS[16] = { "a",      "a/b",      "a/+",      "a/#",   "#",       "+",
                                         "+/b",    "$SYS/#",   "$share/g/a", "deny/x", "secret/#",
                                         "a/b/c",  "a/#/b",    "b",        "+/+",   "" };
static const char *const CLIENT_IDS[4] = { "a", "b", "c", "" };

/* ---- fake clock and timers (what the engine needs of lib/net/loop.h) -------------------------- */

typedef struct fake_timer {
    uint64_t id, when;
    pn_timer_cb cb;
    void *ud;
} fake_timer;

struct pn_loop {
    uint64_t now_ms, next_id;
    fake_timer *timers; /* unordered; the earliest (then the oldest) fires first */
    size_t n, cap;
};

static pn_loop clock_loop;

uint64_t pn_now_ms(void) { return clock_loop.now_ms; }

uint64_t pn_timer_add(pn_loop *loop, uint64_t ms, pn_timer_cb cb, void *udata)
{
    CHECK(loop == &clock_loop && cb);
    if (loop->n == loop->cap) {
        size_t ncap = loop->cap ? loop->cap * 2 : 16;
        fake_timer *t = realloc(loop->timers, ncap * sizeof *t);
        CHECK(t);
        loop->timers = t;
        loop->cap = ncap;
    }
    loop->timers[loop->n++] = (fake_timer){ ++loop->next_id, loop->now_ms + ms, cb, udata };
    return loop->next_id;
}

bool pn_timer_cancel(pn_loop *loop, uint64_t timer_id)
{
    CHECK(loop == &clock_loop);
    for (size_t i = 0; i < loop->n; i++)
        if (loop->timers[i].id == timer_id) {
            loop->timers[i] = loop->timers[--loop->n];
            return true;
        }
    return false;
}

/* Move the clock forward by ms, firing every timer that falls due on the way at its own time. */
static void advance(pn_loop *loop, uint64_t ms)
{
    uint64_t target = loop->now_ms + ms;
    for (unsigned fired = 0;; fired++) {
        CHECK(fired < TIMER_FIRES_MAX);
        size_t best = loop->n;
        for (size_t i = 0; i < loop->n; i++) {
            const fake_timer *t = &loop->timers[i];
            if (t->when <= target && (best == loop->n || t->when < loop->timers[best].when ||
                                      (t->when == loop->timers[best].when && t->id < loop->timers[best].id)))
                best = i;
        }
        if (best == loop->n)
            break;
        fake_timer t = loop->timers[best];
        loop->timers[best] = loop->timers[--loop->n];
        if (t.when > loop->now_ms)
            loop->now_ms = t.when;
        t.cb(loop, t.id, t.ud);
    }
    loop->now_ms = target;
}

/* ---- transport callbacks --------------------------------------------------------------------- */

static void remember_ack(fconn *f, uint8_t type, uint16_t id)
{
    if (f->nacks == ACKS_MAX) /* forget the oldest: a client may never answer */
        memmove(&f->acks[0], &f->acks[1], (ACKS_MAX - 1) * sizeof f->acks[0]);
    else
        f->nacks++;
    f->acks[f->nacks - 1] = (owed_ack){ type, id };
}

static bool id_in_use(const fconn *f, uint16_t id) { return f->in_use[id / 8] & (1u << (id % 8)); }

static void set_in_use(fconn *f, uint16_t id, bool on)
{
    if (on)
        f->in_use[id / 8] |= (uint8_t)(1u << (id % 8));
    else
        f->in_use[id / 8] &= (uint8_t)~(1u << (id % 8));
}

/* The order and content of what reached the client (a refused send never did). */
static void check_delivered(fconn *f, const mqtt_packet *p, size_t len)
{
    if (!f->got_connack) { /* MQTT-3.2.0-1: CONNACK comes first */
        CHECK(p->type == MQTT_CONNACK);
        f->got_connack = true;
        f->refused = p->connack.reason != 0;
        /* MQTT-3.2.2-2 (v5 3.2.2-2): Clean Start 1 gives Session Present 0 */
        CHECK(!(f->connect_sent && !f->raw_sent && f->clean_requested && p->connack.session_present));
        return;
    }
    CHECK(p->type != MQTT_CONNACK && !f->refused); /* one CONNACK; nothing after a refusal */
    if (p->type != MQTT_PUBLISH)
        return;
    if (f->max_packet && !f->raw_sent) /* MQTT-3.1.2-25: never above the client's maximum */
        CHECK(len <= f->max_packet);
    if (p->publish.qos > 0 && !f->raw_sent) { /* MQTT-2.2.1-3: an id is not reused while in use */
        CHECK(!id_in_use(f, p->publish.packet_id));
        set_in_use(f, p->publish.packet_id, true);
    }
}

static int fc_send(void *conn, const uint8_t *data, size_t len)
{
    fconn *f = conn;
    CHECK(!f->closed);     /* engine.h: no send after close */
    CHECK(f->c && len > 0);
    /* every send is one whole packet in the version the engine speaks to this client */
    int level = br_client_protocol_version(f->c);
    if (level != MQTT_V31 && level != MQTT_V5)
        level = MQTT_V311;
    mqtt_packet p;
    ssize_t n = mqtt_decode(data, len, (uint8_t)level, &p);
    if (n != (ssize_t)len) {
        fprintf(stderr, "fuzz_broker_engine: engine sent %zu bytes that decode as %zd (%s) at level %d\n",
                len, n, n < 0 ? mqtt_error_name((int)n) : "short", level);
        abort();
    }
    if (trace) {
        char line[160];
        mqtt_packet_summary(&p, line, sizeof line);
        fprintf(stderr, "slot %d <- %s%s\n", (int)(f - H.slots), line,
                f->queued + len > f->limit ? " (buffer full)" : "");
    }
    if (f->queued + len > f->limit)
        return -1;
    f->queued += len;
    check_delivered(f, &p, len);
    if (p.type == MQTT_PUBLISH && p.publish.qos == 1)
        remember_ack(f, MQTT_PUBACK, p.publish.packet_id);
    else if (p.type == MQTT_PUBLISH && p.publish.qos == 2)
        remember_ack(f, MQTT_PUBREC, p.publish.packet_id);
    else if (p.type == MQTT_PUBREC)
        remember_ack(f, MQTT_PUBREL, p.ack.packet_id);
    else if (p.type == MQTT_PUBREL)
        remember_ack(f, MQTT_PUBCOMP, p.ack.packet_id);
    return 0;
}

static void detach(fconn *f)
{
    br_client *c = f->c;
    f->c = NULL;
    H.attached--;
    br_engine_detach(H.e, c, "eof");
}

static void fc_close(void *conn, const char *reason)
{
    fconn *f = conn;
    CHECK(!f->closed); /* engine.h: close at most once */
    CHECK(reason && reason[0]);
    f->closed = true;
    if (trace)
        fprintf(stderr, "slot %d closed: %s\n", (int)(f - H.slots), reason);
    if (H.detach_in_close)
        detach(f); /* allowed by engine.h */
}

/* Events name a live connection and carry the names the transport logs. */
static void check_event(void *ud, const br_event *ev)
{
    (void)ud;
    fconn *f = ev->conn;
    CHECK(f >= H.slots && f < H.slots + H.nslots && f->c);
    CHECK(ev->type_name && ev->reason && ev->reason[0]);
    CHECK(ev->type != BR_EV_ACL_DENY || ev->topic);
    CHECK(ev->protocol_version == 0 || (ev->protocol_version >= MQTT_V31 && ev->protocol_version <= MQTT_V5) ||
          ev->type == BR_EV_CONNACK);
}

static bool fuzz_acl(void *ud, const char *username, const char *client_id, const struct sockaddr *addr,
                     const char *topic, br_acl_access access)
{
    (void)ud;
    (void)client_id;
    (void)addr;
    if (access == BR_ACL_WRITE)
        return strncmp(topic, "deny/", 5) != 0;
    return strncmp(topic, "secret", 6) != 0 || username != NULL;
}

/* ---- connections ---------------------------------------------------------------------------- */

static void attach(fconn *f, uint8_t variant)
{
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(4242) };
    a6.sin6_addr.s6_addr[15] = 1;
    struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(4242),
                              .sin_addr.s_addr = htonl(0x7f000001) };
    br_client_info info = {
        .attributed_addr = (variant & 1) ? (const struct sockaddr *)&a6 : (const struct sockaddr *)&a4,
    };
    if (variant & 2) { /* identity from the PROXY SSL CN or a TLS certificate */
        info.forced_username = "cn-user";
        info.username_source = (variant & 4) ? "certificate" : "cn";
    }
    if ((variant & 0x18) == 0x18) { /* the transport refuses the CONNECT (CN policy, ...) */
        info.refuse = true;
        info.refuse_v5_reason = (variant & 0x20) ? MQTT_RC_BANNED : 0;
        info.refuse_message = (variant & 0x40) ? "no CN" : NULL;
    }
    memset(f, 0, sizeof *f);
    f->limit = H.out_limit;
    f->level = MQTT_V311;
    f->next_pid = 1;
    f->c = br_engine_attach(H.e, f, &info);
    CHECK(f->c);
    H.attached++;
}

/* The version the engine reads this connection in once CONNECT was decoded (raw bytes may
 * have connected it), else the one the last canned CONNECT asked for. */
static uint8_t speak_level(fconn *f)
{
    int level = f->c ? br_client_protocol_version(f->c) : 0;
    if (level >= MQTT_V31 && level <= MQTT_V5)
        f->level = (uint8_t)level;
    return f->level;
}

/* A slot ready for input: a new connection when it has none or its last one was closed. */
static fconn *live(fconn *f)
{
    if (f->c && f->closed)
        detach(f);
    if (!f->c)
        attach(f, 0);
    speak_level(f);
    return f;
}

static void input(fconn *f, const uint8_t *b, size_t n)
{
    int rc = br_engine_input(H.e, f->c, b, n);
    CHECK(rc == 0 || rc == -1);
    /* -1 exactly when the engine asked to close (it may already be detached from close) */
    CHECK((rc == -1) == f->closed);
}

static void send_packet(fconn *f, const mqtt_packet *p)
{
    uint8_t buf[1024];
    ssize_t n = mqtt_encode(buf, sizeof buf, speak_level(f), p);
    CHECK(n > 0);
    input(f, buf, (size_t)n);
}

static uint16_t next_pid(fconn *f)
{
    uint16_t id = f->next_pid;
    f->next_pid = (uint16_t)(id % 7 + 1); /* few ids, so reuse and QoS 2 duplicates happen */
    return id;
}

/* ---- canned packets -------------------------------------------------------------------------- */

static void op_connect(fconn *f, const uint8_t *a)
{
    static const uint8_t levels[4] = { MQTT_V31, MQTT_V311, MQTT_V5, MQTT_V5 };
    static const uint32_t expiries[4] = { 0, 10, 0xFFFFFFFFu, 1 };
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_CONNECT);
    mqtt_connect *c = &p.connect;
    c->protocol_level = levels[a[0] & 3];
    c->client_id = mqtt_cstr(CLIENT_IDS[(a[0] >> 2) & 3]);
    c->clean_start = a[0] & 0x10;
    c->keep_alive = (a[0] & 0x80) ? 60 : 0;
    if (a[0] & 0x40) {
        c->has_username = true;
        c->username = mqtt_cstr("u");
    }
    if (a[0] & 0x20) {
        c->will = true;
        c->will_qos = a[1] % 3;
        c->will_retain = a[1] & 4;
        c->will_topic = mqtt_cstr(TOPICS[(a[1] >> 3) & 7]);
        c->will_payload = mqtt_cstr((a[1] & 0x40) ? "" : "will");
    }
    mqtt_prop props[4], wprops[3];
    size_t np = 0, nw = 0;
    memset(props, 0, sizeof props);
    memset(wprops, 0, sizeof wprops);
    if (c->protocol_level == MQTT_V5) {
        if (a[2] & 3) {
            props[np].id = MQTT_PROP_SESSION_EXPIRY;
            props[np++].u = expiries[a[2] & 3];
        }
        if (a[2] & 4) {
            props[np].id = MQTT_PROP_RECEIVE_MAXIMUM;
            props[np++].u = (a[2] & 8) ? 1 : 2;
        }
        if (a[2] & 0x10) {
            props[np].id = MQTT_PROP_MAXIMUM_PACKET_SIZE;
            props[np++].u = 40; /* smaller than most PUBLISHes: the engine drops them */
        }
        if ((a[2] & 0x60) == 0x60) {
            props[np].id = MQTT_PROP_AUTH_METHOD;
            props[np++].s = mqtt_cstr("SCRAM-SHA-1");
        }
        if (c->will && (a[1] & 0x80)) {
            wprops[nw].id = MQTT_PROP_WILL_DELAY;
            wprops[nw++].u = (a[2] & 0x80) ? 5 : 0;
            wprops[nw].id = MQTT_PROP_MESSAGE_EXPIRY;
            wprops[nw++].u = 3600;
            wprops[nw].id = MQTT_PROP_CONTENT_TYPE;
            wprops[nw++].s = mqtt_cstr("text/plain");
        }
    }
    c->props.list = props;
    c->props.count = np;
    c->will_props.list = wprops;
    c->will_props.count = nw;
    f->level = c->protocol_level;
    if (!f->connect_sent) { /* a second CONNECT is refused: only the first one counts */
        f->connect_sent = true;
        f->clean_requested = c->clean_start;
        f->max_packet = (c->protocol_level == MQTT_V5 && (a[2] & 0x10)) ? 40 : 0;
    }
    send_packet(f, &p);
}

static void op_subscribe(fconn *f, const uint8_t *a)
{
    bool unsubscribe = a[1] & 0x40;
    mqtt_packet p;
    mqtt_packet_init(&p, unsubscribe ? MQTT_UNSUBSCRIBE : MQTT_SUBSCRIBE);
    mqtt_sub_entry en[2];
    memset(en, 0, sizeof en);
    size_t n = (a[0] & 0x80) ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        en[i].filter = mqtt_cstr(FILTERS[(a[0] >> (4 * i)) & 15]);
        if (!unsubscribe)
            en[i].options = f->level == MQTT_V5
                                ? mqtt_sub_options(a[1] % 3, a[1] & 4, a[1] & 8, (a[1] >> 4) & 3)
                                : (uint8_t)(a[1] % 3);
    }
    p.subscribe.packet_id = next_pid(f);
    p.subscribe.list = en;
    p.subscribe.list_count = n;
    mqtt_prop sub_id = { .id = MQTT_PROP_SUBSCRIPTION_ID, .u = a[2] };
    if (f->level == MQTT_V5 && a[2] && !unsubscribe) {
        p.subscribe.props.list = &sub_id;
        p.subscribe.props.count = 1;
    }
    send_packet(f, &p);
}

static void op_publish(fconn *f, const uint8_t *a)
{
    static const char payload[] = "0123456789abcdef0123456789abcdef\xff";
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBLISH);
    mqtt_publish *pub = &p.publish;
    pub->topic = mqtt_cstr(TOPICS[a[0] & 7]);
    pub->qos = (a[0] >> 3) % 3;
    pub->retain = a[0] & 0x20;
    pub->dup = (a[0] & 0x40) && pub->qos > 0;
    pub->packet_id = pub->qos ? ((a[0] & 0x80) ? a[1] % 4 + 1 : next_pid(f)) : 0;
    size_t plen = a[1] >> 3; /* 0..31; 0 deletes a retained message */
    pub->payload.ptr = (const uint8_t *)payload + ((a[2] & 8) ? 1 : 0);
    pub->payload.len = (a[2] & 8) ? sizeof payload - 2 : plen; /* the long one ends in 0xFF */
    mqtt_prop props[4];
    size_t np = 0;
    memset(props, 0, sizeof props);
    if (f->level == MQTT_V5) {
        switch (a[2] & 3) {
        case 1: /* set alias 1 */
            props[np].id = MQTT_PROP_TOPIC_ALIAS;
            props[np++].u = 1;
            break;
        case 2: /* use alias 1 (or 2, never set) with no topic */
            props[np].id = MQTT_PROP_TOPIC_ALIAS;
            props[np++].u = (a[2] & 0x40) ? 2 : 1;
            pub->topic = mqtt_cstr("");
            break;
        case 3: /* above the maximum the engine offered */
            props[np].id = MQTT_PROP_TOPIC_ALIAS;
            props[np++].u = 11;
            break;
        default:
            break;
        }
        if (a[2] & 4) {
            props[np].id = MQTT_PROP_MESSAGE_EXPIRY;
            props[np++].u = 3600;
        }
        if (a[2] & 8) {
            props[np].id = MQTT_PROP_PAYLOAD_FORMAT; /* UTF-8 claimed, 0xFF sent */
            props[np++].u = 1;
        }
        if (a[2] & 0x10) {
            props[np].id = MQTT_PROP_USER_PROPERTY;
            props[np].s = mqtt_cstr("k");
            props[np++].v = mqtt_cstr("v");
        } else if (a[2] & 0x20) {
            props[np].id = MQTT_PROP_SUBSCRIPTION_ID; /* only servers send it */
            props[np++].u = 3;
        }
    }
    pub->props.list = props;
    pub->props.count = np;
    send_packet(f, &p);
}

static void op_ack(fconn *f, const uint8_t *a)
{
    mqtt_packet p;
    if (f->nacks == 0) { /* nothing owed: an ack for an id the engine never used */
        mqtt_packet_init(&p, (uint8_t)(MQTT_PUBACK + a[0] % 4));
        p.ack.packet_id = (uint16_t)(a[1] % 8 + 1);
    } else {
        size_t i = a[0] % f->nacks;
        owed_ack k = f->acks[i];
        memmove(&f->acks[i], &f->acks[i + 1], (f->nacks - i - 1) * sizeof f->acks[0]);
        f->nacks--;
        mqtt_packet_init(&p, k.type);
        p.ack.packet_id = k.id;
        if (f->level == MQTT_V5 && (a[1] & 0x80))
            p.ack.reason = k.type == MQTT_PUBREC ? MQTT_RC_UNSPECIFIED_ERROR : MQTT_RC_PACKET_ID_NOT_FOUND;
    }
    /* the flow of this id ends here, so the engine may use it again */
    if (p.type == MQTT_PUBACK || p.type == MQTT_PUBCOMP || (p.type == MQTT_PUBREC && p.ack.reason >= 0x80))
        set_in_use(f, p.ack.packet_id, false);
    send_packet(f, &p);
}

static void op_disconnect(fconn *f, uint8_t a)
{
    mqtt_packet p;
    if (a & 0x80) {
        mqtt_packet_init(&p, MQTT_PINGREQ);
        send_packet(f, &p);
        return;
    }
    mqtt_packet_init(&p, MQTT_DISCONNECT);
    mqtt_prop expiry = { .id = MQTT_PROP_SESSION_EXPIRY, .u = (a & 8) ? 0xFFFFFFFFu : 30 };
    if (f->level == MQTT_V5) {
        static const uint8_t reasons[4] = { MQTT_RC_SUCCESS, MQTT_RC_DISCONNECT_WITH_WILL,
                                            MQTT_RC_UNSPECIFIED_ERROR, MQTT_RC_SUCCESS };
        p.disconnect.reason = reasons[a & 3];
        if (a & 4) {
            p.disconnect.props.list = &expiry;
            p.disconnect.props.count = 1;
        }
    }
    send_packet(f, &p);
}

/* ---- invariants ----------------------------------------------------------------------------- */

static void count_session(void *ud, const br_session_info *s)
{
    size_t *n = ud;
    CHECK(s->client_id && s->protocol_version >= MQTT_V31 && s->protocol_version <= MQTT_V5);
    (*n)++;
}

static void check_counters(void)
{
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    CHECK(st.clients == H.attached);
    size_t listed = 0;
    br_engine_foreach_session(H.e, count_session, &listed);
    CHECK(listed == st.sessions);
}

/* ---- driver --------------------------------------------------------------------------------- */

static void setup(pn_loop *loop, uint8_t b0, uint8_t b1)
{
    static const uint16_t inflight[4] = { 20, 1, 2, 65535 };
    static const uint32_t queued[4] = { 1000, 1, 3, 16 };
    static const size_t out_limits[4] = { 1u << 20, 40, 200, 2000 };
    memset(&H, 0, sizeof H);
    H.nslots = 1 + (b0 & 7) % SLOTS_MAX;
    H.detach_in_close = b0 & 8;
    H.out_limit = out_limits[(b1 >> 4) & 3];
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.allow_anonymous = !(b0 & 0x10);
    o.topic_alias_disabled = b0 & 0x20;
    if (b0 & 0x40)
        o.max_packet_size = 256;
    if (b0 & 0x80)
        o.receive_maximum = 2;
    o.max_inflight = inflight[b1 & 3];
    o.max_queued = queued[(b1 >> 2) & 3];
    if (b1 & 0x40) {
        o.max_retained = 2;
        o.max_subscriptions = 2;
        o.max_sessions = 3;
    }
    if (b1 & 0x80)
        o.acl_check = fuzz_acl;
    br_conn_ops ops = { fc_send, fc_close };
    br_event_sink sink = { check_event, NULL };
    char err[256];
    H.e = br_engine_new(&o, loop, ops, sink, err, sizeof err);
    CHECK(H.e);
}

static void run_op(uint8_t h, const uint8_t **data, size_t *size)
{
    static const size_t arg_len[OP_COUNT] = {
        [OP_RAW] = 1, [OP_CONNECT] = 3, [OP_SUBSCRIBE] = 3, [OP_PUBLISH] = 3, [OP_ACK] = 2,
        [OP_DISCONNECT] = 1, [OP_RECONNECT] = 1, [OP_TIME] = 1,
    };
    /* around the engine's thresholds: 1.5 x keep-alive 60 s, the 10 s CONNECT timeout, the
     * canned will delay (5 s), session (1 s, 10 s, 30 s) and message expiry (1 h) */
    static const uint64_t steps_ms[8] = { 0, 1, 999, 1000, 5000, 10000, 90000, 3600000 };
    fconn *f = &H.slots[(h & 7) % H.nslots];
    enum op op = (enum op)((h >> 3) % OP_COUNT);
    const uint8_t *a = *data;
    if (*size < arg_len[op]) {
        *size = 0;
        return;
    }
    *data += arg_len[op];
    *size -= arg_len[op];
    switch (op) {
    case OP_RAW: {
        size_t n = a[0] < *size ? a[0] : *size;
        if (!f->c)
            attach(f, 0);
        f->raw_sent = true;
        if (!f->closed) {
            input(f, *data, n);
        } else if (f->c) { /* closed, not yet detached: the engine ignores late input */
            CHECK(br_engine_input(H.e, f->c, *data, n) == -1);
        }
        *data += n;
        *size -= n;
        break;
    }
    case OP_DETACH:
        if (f->c)
            detach(f);
        break;
    case OP_FLUSH:
        f->queued = 0;
        if (f->c && !f->closed)
            br_engine_writable(H.e, f->c);
        break;
    case OP_CONNECT: op_connect(live(f), a); break;
    case OP_SUBSCRIBE: op_subscribe(live(f), a); break;
    case OP_PUBLISH: op_publish(live(f), a); break;
    case OP_ACK: op_ack(live(f), a); break;
    case OP_DISCONNECT: op_disconnect(live(f), a[0]); break;
    case OP_SHUTDOWN: br_engine_shutdown(H.e); break;
    case OP_RECONNECT:
        if (f->c)
            detach(f);
        attach(f, a[0]);
        break;
    case OP_TIME: advance(&clock_loop, steps_ms[a[0] & 7] * (1u + (a[0] >> 3))); break;
    case OP_COUNT: break;
    }
    check_counters();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    trace = getenv("FUZZ_BROKER_TRACE") != NULL;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    /* the clock starts at a fixed, non-zero time: 0 means "never" for a message's expiry */
    memset(&clock_loop, 0, sizeof clock_loop);
    clock_loop.now_ms = 1000000;
    setup(&clock_loop, data[0], data[1]);
    data += 2;
    size -= 2;
    while (size > 0) {
        uint8_t h = *data++;
        size--;
        run_op(h, &data, &size);
    }
    for (size_t i = 0; i < H.nslots; i++)
        if (H.slots[i].c)
            detach(&H.slots[i]);
    check_counters();
    br_engine_free(H.e);
    CHECK(clock_loop.n == 0); /* every engine timer was cancelled or fired */
    free(clock_loop.timers);
    return 0;
}
