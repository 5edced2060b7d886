/* bench/bench_broker_load.h: the load generator of bench_broker (one lib/net event loop).
 *
 * Header-only (static functions) because bench/CMakeLists.txt makes one program per
 * bench/bench_*.c; only bench_broker.c includes it.
 *
 * Three measurements, the same client code for every broker; the only difference is the
 * PROXY v2 header in front of CONNECT when the target's listener expects one:
 *   bb_run_cycle  connections per second: connect, [PROXY v2 header + CONNECT in one write],
 *                 CONNACK, DISCONNECT, the broker's FIN, close; N slots each loop on that.
 *   bb_run_pubsub one subscriber and one publisher on one topic; messages per second the
 *                 subscriber RECEIVES. QoS 1: the publisher keeps at most `window` PUBLISHes
 *                 unacknowledged. Both QoS: at most `e2e` messages published beyond the newest
 *                 one delivered, so a broker is never pushed into dropping (QoS 0) or
 *                 queueing without bound; losses are still counted from the sequence numbers.
 *   bb_run_idle   N connections that complete header + CONNECT/CONNACK and then stay idle,
 *                 for the broker's resident memory per connection.
 * Client sockets are bound to 127.0.0.2.. (several sources) before connect, so neither the
 * ephemeral port range nor TIME_WAIT limits a run. Every connection has a deadline.
 */
#ifndef BENCH_BROKER_LOAD_H
#define BENCH_BROKER_LOAD_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_broker_proc.h"
#include "mqtt/mqtt.h"
#include "net/buf.h"
#include "net/loop.h"
#include "net/sock.h"
#include "proxy/proxy.h"

#define BB_MAX_SOURCES 64
#define BB_CONN_DEADLINE_MS 5000   /* one connect cycle, or the pub/sub set-up */
#define BB_DRAIN_MS 3000           /* after a window: in-flight work may finish */
#define BB_TOPIC "bench/t"
#define BB_ERR_MAX 240

typedef struct bb_target {
    const char *name;  /* "ppbroker", "mosquitto" */
    bool proxy;        /* its listener expects a PROXY v2 header */
    bool tlvs;         /* ... with HAProxy-like TLVs (see bb_prologue) */
    pn_addr addr;      /* the listener */
    pid_t pid;         /* for CPU time and resident memory */
} bb_target;

/* What every measurement shares: the loop, the target, the source addresses. */
typedef struct bb_net {
    pn_loop *loop;
    const bb_target *target;
    pn_addr sources[BB_MAX_SOURCES];
    size_t nsources, next_source;
    uint64_t serial;             /* client ids and carried addresses */
    uint64_t errors;
    char first_error[BB_ERR_MAX];
} bb_net;

static void bb_usage_delta(const bb_usage *a, const bb_usage *b, bb_usage *out)
{
    out->run_s = b->run_s - a->run_s;
    out->wait_s = b->wait_s - a->wait_s;
}

static uint64_t bb_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

__attribute__((format(printf, 2, 3))) static void bb_net_error(bb_net *n, const char *fmt, ...)
{
    n->errors++;
    if (n->first_error[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(n->first_error, sizeof(n->first_error), fmt, ap);
    va_end(ap);
}

/* Sources 127.0.0.2 .. 127.0.0.(1+count), port 0 (the kernel picks it at connect time). */
static int bb_net_init(bb_net *n, pn_loop *loop, const bb_target *t, size_t nsources)
{
    memset(n, 0, sizeof(*n));
    n->loop = loop;
    n->target = t;
    if (nsources > BB_MAX_SOURCES)
        nsources = BB_MAX_SOURCES;
    for (size_t i = 0; i < nsources; i++) {
        char ip[32];
        snprintf(ip, sizeof(ip), "127.0.0.%zu", i + 2);
        if (pn_addr_from_ip(ip, 0, &n->sources[i]) != 0)
            return -1;
    }
    n->nsources = nsources;
    return 0;
}

/* A non-blocking connect from the next source address; -1 (error recorded) on failure. */
static int bb_net_connect(bb_net *n, bool *pending)
{
    const pn_addr *src = n->nsources ? &n->sources[n->next_source++ % n->nsources] : NULL;
    char err[160];
    int fd = pn_connect(&n->target->addr, src, pending, err, sizeof(err));
    if (fd < 0)
        bb_net_error(n, "%s", err);
    else
        pn_set_nodelay(fd, true);
    return fd;
}

/* The first bytes of a connection: [PROXY v2 PROXY TCP4 header] + MQTT 3.1.1 CONNECT (clean
 * session, a unique client id). The carried source varies per connection, as behind a real
 * load balancer. With target->tlvs the header carries what HAProxy sends for a TLS frontend
 * with client certificates (send-proxy-v2-ssl-cn, unique-id, crc32c): CRC32C, ALPN,
 * AUTHORITY, UNIQUE_ID and SSL {VERSION, CN}, 140 bytes instead of 28. Returns the length,
 * or -1. */
static ssize_t bb_prologue(bb_net *n, uint16_t keep_alive, uint8_t *buf, size_t cap)
{
    uint64_t k = n->serial++;
    size_t off = 0;
    if (n->target->proxy) {
        static const char uid[] = "7F000001:DFEA_7F000001:4993_6B09CF9F_0006:17AD";
        pp_build_tlv subs[2] = {
            PP_BUILD_TLV(PP_SSL_VERSION, (const uint8_t *)"TLSv1.3", 7),
            PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)"device-0042", 11),
        };
        pp_build_ssl ssl = {.client = PP_CLIENT_SSL | PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS,
                            .verify = 0, .subs = subs, .nsubs = 2};
        pp_build_tlv tlvs[5] = {
            PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4),
            PP_BUILD_TLV(PP_TLV_ALPN, (const uint8_t *)"mqtt", 4),
            PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"broker.example", 14),
            PP_BUILD_TLV(PP_TLV_UNIQUE_ID, (const uint8_t *)uid, sizeof(uid) - 1),
            PP_BUILD_TLV(PP_TLV_SSL, NULL, 0),
        };
        tlvs[0].crc_auto = true;
        pp_build_spec s;
        pp_build_spec_init(&s); /* v2, PROXY, TCP4, STREAM */
        if (n->target->tlvs) {
            s.tlvs = tlvs;
            s.ntlvs = 5;
            s.ssl = &ssl;
        }
        s.src.family = PP_FAM_INET;
        s.src.ip[0] = 198, s.src.ip[1] = 51, s.src.ip[2] = 100, s.src.ip[3] = (uint8_t)(1 + k % 250);
        s.src.port = (uint16_t)(1024 + k % 64000);
        s.dst.family = PP_FAM_INET;
        s.dst.ip[0] = 192, s.dst.ip[1] = 0, s.dst.ip[2] = 2, s.dst.ip[3] = 1;
        s.dst.port = 1883;
        ssize_t h = pp_build(&s, buf, cap);
        if (h < 0)
            return -1;
        off = (size_t)h;
    }
    char id[32];
    snprintf(id, sizeof(id), "bb-%" PRIu64, k);
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_CONNECT);
    p.connect.protocol_level = MQTT_V311;
    p.connect.clean_start = true;
    p.connect.keep_alive = keep_alive;
    p.connect.client_id = mqtt_cstr(id);
    ssize_t c = mqtt_encode(buf + off, cap - off, MQTT_V311, &p);
    if (c < 0)
        return -1;
    return (ssize_t)(off + (size_t)c);
}

/* ======================================================================================
 * (a) connect cycle
 * ==================================================================================== */

#define BB_HIST_US 10        /* latency histogram bucket width */
#define BB_HIST_N 20000      /* up to 200 ms; slower cycles land in the last bucket */

typedef struct bb_cycle_result {
    uint64_t done;           /* cycles completed inside the window */
    uint64_t done_all;       /* ... in the whole run, warm-up and drain included */
    double seconds;          /* window length */
    uint64_t errors;         /* failed cycles (connect error, no CONNACK, timeout, ...) */
    bb_usage broker, self;   /* CPU time and run-queue wait inside the window */
    double p50_ms, p99_ms;   /* cycle latency, connect() to the broker's FIN */
    char first_error[BB_ERR_MAX];
} bb_cycle_result;

enum { SLOT_IDLE, SLOT_CONNECTING, SLOT_CONNACK, SLOT_CLOSING };

struct bb_cycle;
typedef struct bb_slot {
    struct bb_cycle *run;
    int fd;
    int state;
    uint64_t timer;          /* the cycle's deadline, or the retry after a failed connect */
    uint64_t t0_us;
    uint8_t in[32];
    size_t inlen;
} bb_slot;

typedef struct bb_cycle {
    bb_net *net;
    bb_slot *slots;
    size_t nslots, active;
    bool counting, stopping;
    uint64_t done, done_all;
    uint64_t open_us, close_us, drain_timer;
    bb_usage broker0, broker1, self0, self1;
    uint32_t *hist;
} bb_cycle;

static void cycle_start(bb_slot *s);

static void cycle_release(bb_slot *s)
{
    pn_loop *loop = s->run->net->loop;
    if (s->timer) {
        pn_timer_cancel(loop, s->timer);
        s->timer = 0;
    }
    if (s->fd >= 0) {
        pn_loop_unwatch(loop, s->fd);
        close(s->fd);
        s->fd = -1;
    }
    s->state = SLOT_IDLE;
}

/* End of one cycle (ok or not): count it, then start the next one unless stopping. */
static void cycle_end(bb_slot *s, bool ok)
{
    bb_cycle *r = s->run;
    cycle_release(s);
    if (ok)
        r->done_all++;
    if (ok && r->counting) {
        r->done++;
        uint64_t us = bb_now_us() - s->t0_us;
        uint64_t b = us / BB_HIST_US;
        r->hist[b < BB_HIST_N ? b : BB_HIST_N - 1]++;
    }
    cycle_start(s);
}

__attribute__((format(printf, 2, 3))) static void cycle_fail(bb_slot *s, const char *fmt, ...)
{
    char msg[BB_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bb_net_error(s->run->net, "%s", msg);
    cycle_end(s, false);
}

static void cycle_on_timeout(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_slot *s = udata;
    s->timer = 0;
    cycle_fail(s, "cycle deadline (%d ms) passed in state %d", BB_CONN_DEADLINE_MS, s->state);
}

static void cycle_on_retry(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_slot *s = udata;
    s->timer = 0;
    cycle_start(s);
}

static void cycle_on_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)events;
    bb_slot *s = udata;
    switch (s->state) {
    case SLOT_CONNECTING: {
        int e = pn_connect_result(fd);
        if (e) {
            cycle_fail(s, "connect: %s", strerror(e));
            return;
        }
        uint8_t buf[256];
        ssize_t len = bb_prologue(s->run->net, 60, buf, sizeof(buf));
        size_t n = 0;
        if (len < 0 || pn_send(fd, buf, (size_t)len, &n) != PN_IO_OK || n != (size_t)len) {
            cycle_fail(s, "sending the header and CONNECT failed");
            return;
        }
        pn_loop_modify(loop, fd, PN_READABLE);
        s->state = SLOT_CONNACK;
        s->inlen = 0;
        return;
    }
    case SLOT_CONNACK: {
        size_t n = 0;
        pn_io io = pn_recv(fd, s->in + s->inlen, sizeof(s->in) - s->inlen, &n);
        if (io == PN_IO_AGAIN)
            return;
        if (io != PN_IO_OK) {
            cycle_fail(s, "waiting for CONNACK: %s", pn_io_name(io));
            return;
        }
        s->inlen += n;
        mqtt_packet p;
        ssize_t r = mqtt_decode(s->in, s->inlen, MQTT_V311, &p);
        if (r == MQTT_NEED_MORE && s->inlen < sizeof(s->in))
            return;
        if (r <= 0 || p.type != MQTT_CONNACK || p.connack.reason != 0 || (size_t)r != s->inlen) {
            cycle_fail(s, "expected CONNACK accepted, got %zu bytes (%s)", s->inlen,
                       r < 0 ? mqtt_error_name((int)r) : mqtt_type_name(p.type));
            return;
        }
        static const uint8_t disconnect[2] = {0xE0, 0x00};
        if (pn_send(fd, disconnect, sizeof(disconnect), &n) != PN_IO_OK || n != sizeof(disconnect)) {
            cycle_fail(s, "sending DISCONNECT failed");
            return;
        }
        s->state = SLOT_CLOSING;
        return;
    }
    case SLOT_CLOSING: {
        uint8_t b[16];
        size_t n = 0;
        pn_io io = pn_recv(fd, b, sizeof(b), &n);
        if (io == PN_IO_AGAIN)
            return;
        if (io == PN_IO_FIN)
            cycle_end(s, true);
        else
            cycle_fail(s, "after DISCONNECT the broker sent %s instead of FIN", pn_io_name(io));
        return;
    }
    default:
        return;
    }
}

static void cycle_start(bb_slot *s)
{
    bb_cycle *r = s->run;
    pn_loop *loop = r->net->loop;
    if (r->stopping) {
        if (--r->active == 0)
            pn_loop_stop(loop);
        return;
    }
    s->t0_us = bb_now_us();
    bool pending = false;
    s->fd = bb_net_connect(r->net, &pending);
    if (s->fd < 0) {
        s->timer = pn_timer_add(loop, 10, cycle_on_retry, s); /* e.g. EADDRNOTAVAIL: back off */
        return;
    }
    s->state = SLOT_CONNECTING;
    s->timer = pn_timer_add(loop, BB_CONN_DEADLINE_MS, cycle_on_timeout, s);
    if (pn_loop_watch(loop, s->fd, PN_WRITABLE, cycle_on_event, s) != 0) {
        cycle_fail(s, "watch: %s", strerror(errno));
        return;
    }
    if (!pending)
        cycle_on_event(loop, s->fd, PN_WRITABLE, s);
}

static void cycle_on_open(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_cycle *r = udata;
    r->counting = true;
    r->open_us = bb_now_us();
    bb_usage_read(r->net->target->pid, &r->broker0);
    bb_usage_read(0, &r->self0);
}

static void cycle_on_drain_deadline(pn_loop *loop, uint64_t id, void *udata)
{
    (void)id;
    bb_cycle *r = udata;
    r->drain_timer = 0;
    for (size_t i = 0; i < r->nslots; i++)
        cycle_release(&r->slots[i]);
    pn_loop_stop(loop);
}

static void cycle_on_close(pn_loop *loop, uint64_t id, void *udata)
{
    (void)id;
    bb_cycle *r = udata;
    r->counting = false;
    r->close_us = bb_now_us();
    bb_usage_read(r->net->target->pid, &r->broker1);
    bb_usage_read(0, &r->self1);
    r->stopping = true; /* running cycles finish; no new ones */
    r->drain_timer = pn_timer_add(loop, BB_CONN_DEADLINE_MS + 1000, cycle_on_drain_deadline, r);
}

static double bb_hist_quantile(const uint32_t *hist, uint64_t total, double q)
{
    if (!total)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total), seen = 0;
    for (size_t i = 0; i < BB_HIST_N; i++) {
        seen += hist[i];
        if (seen > want)
            return (double)((i + 1) * BB_HIST_US) / 1000.0;
    }
    return (double)(BB_HIST_N * BB_HIST_US) / 1000.0;
}

static int bb_run_cycle(pn_loop *loop, const bb_target *t, size_t nsources, size_t nslots,
                        uint64_t warmup_ms, uint64_t duration_ms, bb_cycle_result *res)
{
    memset(res, 0, sizeof(*res));
    bb_net net;
    if (bb_net_init(&net, loop, t, nsources) != 0)
        return -1;
    bb_cycle r;
    memset(&r, 0, sizeof(r));
    r.net = &net;
    r.nslots = nslots;
    r.slots = calloc(nslots, sizeof(*r.slots));
    r.hist = calloc(BB_HIST_N, sizeof(*r.hist));
    if (!r.slots || !r.hist) {
        free(r.slots);
        free(r.hist);
        return -1;
    }
    r.active = nslots;
    for (size_t i = 0; i < nslots; i++) {
        r.slots[i].run = &r;
        r.slots[i].fd = -1;
    }
    for (size_t i = 0; i < nslots; i++)
        cycle_start(&r.slots[i]);
    uint64_t t_open = pn_timer_add(loop, warmup_ms, cycle_on_open, &r);
    uint64_t t_close = pn_timer_add(loop, warmup_ms + duration_ms, cycle_on_close, &r);
    pn_loop_run(loop);

    pn_timer_cancel(loop, t_open);
    pn_timer_cancel(loop, t_close);
    if (r.drain_timer)
        pn_timer_cancel(loop, r.drain_timer);
    for (size_t i = 0; i < nslots; i++)
        cycle_release(&r.slots[i]);

    res->done = r.done;
    res->done_all = r.done_all;
    res->seconds = r.close_us > r.open_us ? (double)(r.close_us - r.open_us) / 1e6 : 0;
    res->errors = net.errors;
    bb_usage_delta(&r.broker0, &r.broker1, &res->broker);
    bb_usage_delta(&r.self0, &r.self1, &res->self);
    res->p50_ms = bb_hist_quantile(r.hist, r.done, 0.50);
    res->p99_ms = bb_hist_quantile(r.hist, r.done, 0.99);
    memcpy(res->first_error, net.first_error, sizeof(res->first_error));
    free(r.slots);
    free(r.hist);
    return 0;
}

/* ======================================================================================
 * (b) publish throughput
 * ==================================================================================== */

typedef struct bb_pub_result {
    bool ok;
    uint64_t delivered;      /* PUBLISHes the subscriber received inside the window */
    double seconds;
    uint64_t sent, received; /* whole run, drain included */
    uint64_t lost;           /* sent but never received, even after the drain */
    uint64_t reordered;      /* a sequence number at or below one already seen */
    bb_usage broker, self;   /* CPU time and run-queue wait inside the window */
    char error[BB_ERR_MAX];
} bb_pub_result;

enum { CL_CONNECTING, CL_CONNACK, CL_SUBACK, CL_READY };
#define BB_CLIENT_BUF (256 * 1024)

struct bb_pubsub;
typedef struct bb_client {
    struct bb_pubsub *run;
    const char *role;        /* "subscriber" / "publisher" */
    int fd;
    int state;
    int interest;
    pn_buf in, out;
} bb_client;

typedef struct bb_pubsub {
    bb_net *net;
    uint8_t qos;
    size_t payload_len, window, e2e;
    uint8_t *payload;
    bb_client sub, pub;
    bool publishing, draining, failed, finished;
    uint64_t sent, received, acked, next_seq_expected, gaps, reordered;
    uint64_t recv_open, recv_close, open_us, close_us;
    bb_usage broker0, broker1, self0, self1;
    uint16_t next_id;
    uint32_t inflight;
    uint8_t ids[65536 / 8];  /* QoS 1 packet ids awaiting PUBACK */
    uint64_t setup_timer, open_timer, close_timer, drain_timer;
    uint64_t warmup_ms, duration_ms;
    char error[BB_ERR_MAX];
} bb_pubsub;

__attribute__((format(printf, 2, 3))) static void ps_fail(bb_pubsub *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof(r->error), fmt, ap);
    va_end(ap);
    pn_loop_stop(r->net->loop);
}

static void ps_flush(bb_client *c)
{
    if (c->fd < 0 || c->state == CL_CONNECTING)
        return; /* nothing queued yet; the pending connect waits for PN_WRITABLE */
    while (!pn_buf_empty(&c->out)) {
        size_t n = 0;
        pn_io io = pn_send_buf(c->fd, &c->out, &n);
        if (io == PN_IO_AGAIN)
            break;
        if (io != PN_IO_OK) {
            ps_fail(c->run, "%s: write: %s", c->role, pn_io_name(io));
            return;
        }
    }
    int want = PN_READABLE | (pn_buf_empty(&c->out) ? 0 : PN_WRITABLE);
    if (want != c->interest) {
        pn_loop_modify(c->run->net->loop, c->fd, want);
        c->interest = want;
    }
}

/* Encode pkt at the tail of c->out (flushing first when short of room). false: no room. */
static bool ps_queue(bb_client *c, const mqtt_packet *pkt)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t space = 0;
        uint8_t *tail = pn_buf_tail(&c->out, &space);
        ssize_t n = mqtt_encode(tail, space, MQTT_V311, pkt);
        if (n > 0) {
            pn_buf_commit(&c->out, (size_t)n);
            return true;
        }
        if (n != MQTT_ENC_NO_SPACE)
            return false;
        ps_flush(c);
    }
    return false;
}

static void ps_finish(bb_pubsub *r)
{
    if (r->finished)
        return;
    r->finished = true;
    mqtt_packet d;
    mqtt_packet_init(&d, MQTT_DISCONNECT);
    ps_queue(&r->sub, &d);
    ps_queue(&r->pub, &d);
    ps_flush(&r->sub);
    ps_flush(&r->pub);
    pn_loop_stop(r->net->loop);
}

static void ps_check_drained(bb_pubsub *r)
{
    if (r->draining && r->received >= r->sent && (r->qos == 0 || r->acked >= r->sent))
        ps_finish(r);
}

/* Publish while both windows allow. */
static void ps_fill(bb_pubsub *r)
{
    bb_client *c = &r->pub;
    while (r->publishing && !r->failed) {
        if (r->sent >= r->next_seq_expected + r->e2e)
            break;
        if (r->qos && r->inflight >= r->window)
            break;
        mqtt_packet p;
        mqtt_packet_init(&p, MQTT_PUBLISH);
        p.publish.qos = r->qos;
        p.publish.topic = mqtt_cstr(BB_TOPIC);
        if (r->qos) {
            uint16_t id = r->next_id;
            while (id == 0 || (r->ids[id >> 3] >> (id & 7)) & 1)
                id++;
            p.publish.packet_id = id;
        }
        uint64_t seq = r->sent;
        for (int i = 0; i < 8; i++)
            r->payload[i] = (uint8_t)(seq >> (56 - 8 * i));
        p.publish.payload.ptr = r->payload;
        p.publish.payload.len = r->payload_len;
        if (!ps_queue(c, &p))
            break; /* output full: PN_WRITABLE resumes */
        if (r->qos) {
            uint16_t id = p.publish.packet_id;
            r->ids[id >> 3] |= (uint8_t)(1u << (id & 7));
            r->inflight++;
            r->next_id = (uint16_t)(id + 1);
        }
        r->sent++;
    }
    ps_flush(c);
}

static void ps_on_open(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_pubsub *r = udata;
    r->open_timer = 0;
    r->recv_open = r->received;
    r->open_us = bb_now_us();
    bb_usage_read(r->net->target->pid, &r->broker0);
    bb_usage_read(0, &r->self0);
}

static void ps_on_drain_deadline(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_pubsub *r = udata;
    r->drain_timer = 0;
    ps_finish(r);
}

static void ps_on_close(pn_loop *loop, uint64_t id, void *udata)
{
    (void)id;
    bb_pubsub *r = udata;
    r->close_timer = 0;
    r->recv_close = r->received;
    r->close_us = bb_now_us();
    bb_usage_read(r->net->target->pid, &r->broker1);
    bb_usage_read(0, &r->self1);
    r->publishing = false;
    r->draining = true;
    r->drain_timer = pn_timer_add(loop, BB_DRAIN_MS, ps_on_drain_deadline, r);
    ps_check_drained(r);
}

static void ps_on_setup_deadline(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop, (void)id;
    bb_pubsub *r = udata;
    r->setup_timer = 0;
    ps_fail(r, "set-up (CONNECT, SUBSCRIBE) not done after %d ms", BB_CONN_DEADLINE_MS);
}

static void ps_client_connect(bb_client *c);

static void ps_packet(bb_client *c, const mqtt_packet *p)
{
    bb_pubsub *r = c->run;
    pn_loop *loop = r->net->loop;
    if (c->state == CL_CONNACK) {
        if (p->type != MQTT_CONNACK || p->connack.reason != 0) {
            ps_fail(r, "%s: expected CONNACK accepted, got %s", c->role, mqtt_type_name(p->type));
            return;
        }
        if (c == &r->sub) {
            mqtt_sub_entry e = {.filter = mqtt_cstr(BB_TOPIC), .options = r->qos};
            mqtt_packet s;
            mqtt_packet_init(&s, MQTT_SUBSCRIBE);
            s.subscribe.packet_id = 1;
            s.subscribe.list = &e;
            s.subscribe.list_count = 1;
            ps_queue(c, &s);
            c->state = CL_SUBACK;
        } else {
            c->state = CL_READY;
            pn_timer_cancel(loop, r->setup_timer);
            r->setup_timer = 0;
            r->publishing = true;
            r->open_timer = pn_timer_add(loop, r->warmup_ms, ps_on_open, r);
            r->close_timer = pn_timer_add(loop, r->warmup_ms + r->duration_ms, ps_on_close, r);
        }
        return;
    }
    if (c->state == CL_SUBACK) {
        if (p->type != MQTT_SUBACK || p->suback.reasons.len != 1 || p->suback.reasons.ptr[0] != r->qos) {
            ps_fail(r, "subscriber: expected SUBACK granting QoS %u", r->qos);
            return;
        }
        c->state = CL_READY;
        ps_client_connect(&r->pub);
        return;
    }
    if (c == &r->sub && p->type == MQTT_PUBLISH) {
        const mqtt_publish *pub = &p->publish;
        if (pub->payload.len != r->payload_len || pub->qos != r->qos) {
            ps_fail(r, "subscriber: PUBLISH with %zu bytes at QoS %u, expected %zu at QoS %u",
                    pub->payload.len, pub->qos, r->payload_len, r->qos);
            return;
        }
        uint64_t seq = 0;
        for (int i = 0; i < 8; i++)
            seq = seq << 8 | pub->payload.ptr[i];
        if (seq < r->next_seq_expected) {
            r->reordered++;
        } else {
            r->gaps += seq - r->next_seq_expected;
            r->next_seq_expected = seq + 1;
        }
        r->received++;
        if (pub->qos == 1) {
            mqtt_packet a;
            mqtt_packet_init(&a, MQTT_PUBACK);
            a.ack.packet_id = pub->packet_id;
            if (!ps_queue(c, &a))
                ps_fail(r, "subscriber: no room for PUBACK");
        }
        return;
    }
    if (c == &r->pub && p->type == MQTT_PUBACK && r->qos == 1) {
        uint16_t id = p->ack.packet_id;
        if (!((r->ids[id >> 3] >> (id & 7)) & 1)) {
            ps_fail(r, "publisher: PUBACK for packet id %u not in flight", id);
            return;
        }
        r->ids[id >> 3] &= (uint8_t)~(1u << (id & 7));
        r->inflight--;
        r->acked++;
        return;
    }
    ps_fail(r, "%s: unexpected %s", c->role, mqtt_type_name(p->type));
}

static void ps_read(bb_client *c)
{
    bb_pubsub *r = c->run;
    for (int rounds = 0; rounds < 4 && !r->failed; rounds++) {
        size_t n = 0;
        pn_io io = pn_recv_buf(c->fd, &c->in, &n);
        if (io == PN_IO_AGAIN)
            break;
        if (io != PN_IO_OK) {
            ps_fail(r, "%s: read: %s", c->role, pn_io_name(io));
            return;
        }
        for (;;) {
            const uint8_t *buf = pn_buf_peek(&c->in);
            size_t len = pn_buf_len(&c->in);
            ssize_t total = mqtt_frame(buf, len, BB_CLIENT_BUF, NULL, NULL, NULL);
            if (total == MQTT_NEED_MORE)
                break;
            mqtt_packet p;
            if (total < 0 || mqtt_decode(buf, (size_t)total, MQTT_V311, &p) != total) {
                ps_fail(r, "%s: malformed packet from the broker (%s)", c->role,
                        mqtt_error_name(total < 0 ? (int)total : MQTT_ERR_FIELD_OVERRUN));
                return;
            }
            ps_packet(c, &p);
            if (r->failed)
                return;
            pn_buf_consume(&c->in, (size_t)total);
        }
    }
    ps_flush(c);
}

static void ps_on_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop;
    bb_client *c = udata;
    bb_pubsub *r = c->run;
    if (r->failed || r->finished)
        return;
    if (c->state == CL_CONNECTING) {
        int e = pn_connect_result(fd);
        if (e) {
            ps_fail(r, "%s: connect: %s", c->role, strerror(e));
            return;
        }
        size_t space = 0;
        uint8_t *tail = pn_buf_tail(&c->out, &space);
        ssize_t n = bb_prologue(r->net, 0, tail, space);
        if (n < 0) {
            ps_fail(r, "%s: cannot build CONNECT", c->role);
            return;
        }
        pn_buf_commit(&c->out, (size_t)n);
        c->state = CL_CONNACK;
        ps_flush(c);
        return;
    }
    if (events & PN_WRITABLE)
        ps_flush(c);
    if (events & (PN_READABLE | PN_HUP | PN_ERROR))
        ps_read(c);
    if (!r->failed && !r->finished) {
        ps_fill(r);
        ps_check_drained(r);
    }
}

static void ps_client_connect(bb_client *c)
{
    bb_pubsub *r = c->run;
    bool pending = false;
    c->fd = bb_net_connect(r->net, &pending);
    if (c->fd < 0) {
        ps_fail(r, "%s: %s", c->role, r->net->first_error);
        return;
    }
    c->state = CL_CONNECTING;
    c->interest = PN_WRITABLE;
    pn_loop_watch(r->net->loop, c->fd, PN_WRITABLE, ps_on_event, c);
    if (!pending)
        ps_on_event(r->net->loop, c->fd, PN_WRITABLE, c);
}

static void ps_client_close(bb_client *c)
{
    if (c->fd >= 0) {
        pn_loop_unwatch(c->run->net->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    pn_buf_free(&c->in);
    pn_buf_free(&c->out);
}

static int bb_run_pubsub(pn_loop *loop, const bb_target *t, size_t nsources, uint8_t qos, size_t payload,
                         size_t window, size_t e2e, uint64_t warmup_ms, uint64_t duration_ms, bb_pub_result *res)
{
    memset(res, 0, sizeof(*res));
    if (payload < 8)
        payload = 8; /* the sequence number */
    bb_net net;
    bb_pubsub *r = calloc(1, sizeof(*r));
    if (!r || bb_net_init(&net, loop, t, nsources) != 0) {
        free(r);
        return -1;
    }
    r->net = &net;
    r->qos = qos;
    r->payload_len = payload;
    r->window = window ? window : 1;
    r->e2e = e2e ? e2e : 1;
    r->warmup_ms = warmup_ms;
    r->duration_ms = duration_ms;
    r->next_id = 1;
    r->payload = malloc(payload);
    bb_client *cl[2] = {&r->sub, &r->pub};
    for (int i = 0; i < 2; i++) {
        cl[i]->run = r;
        cl[i]->fd = -1;
        cl[i]->role = i == 0 ? "subscriber" : "publisher";
        if (pn_buf_init(&cl[i]->in, BB_CLIENT_BUF) != 0 || pn_buf_init(&cl[i]->out, BB_CLIENT_BUF) != 0)
            r->failed = true;
    }
    if (!r->payload || r->failed) {
        snprintf(res->error, sizeof(res->error), "out of memory");
    } else {
        memset(r->payload, 'x', payload);
        r->setup_timer = pn_timer_add(loop, BB_CONN_DEADLINE_MS, ps_on_setup_deadline, r);
        ps_client_connect(&r->sub);
        if (!r->failed)
            pn_loop_run(loop);
        uint64_t *timers[] = {&r->setup_timer, &r->open_timer, &r->close_timer, &r->drain_timer};
        for (size_t i = 0; i < sizeof(timers) / sizeof(timers[0]); i++)
            if (*timers[i])
                pn_timer_cancel(loop, *timers[i]);
        res->ok = !r->failed && r->close_us > r->open_us;
        if (r->failed)
            snprintf(res->error, sizeof(res->error), "%s", r->error);
        else if (!res->ok)
            snprintf(res->error, sizeof(res->error), "the measurement window never closed");
        res->delivered = r->recv_close - r->recv_open;
        res->seconds = r->close_us > r->open_us ? (double)(r->close_us - r->open_us) / 1e6 : 0;
        res->sent = r->sent;
        res->received = r->received;
        res->lost = r->sent > r->received ? r->sent - r->received : 0;
        res->reordered = r->reordered;
        bb_usage_delta(&r->broker0, &r->broker1, &res->broker);
        bb_usage_delta(&r->self0, &r->self1, &res->self);
    }
    ps_client_close(&r->sub);
    ps_client_close(&r->pub);
    free(r->payload);
    free(r);
    return 0;
}

/* ======================================================================================
 * (c) resident memory per idle connection
 * ==================================================================================== */

typedef struct bb_idle_result {
    bool ok;
    size_t connections;      /* connections that got CONNACK and were idle at the second reading */
    long rss_before_kib, rss_after_kib;
    long anon_before_kib, anon_after_kib;
    double bytes_per_conn;   /* (after - before) * 1024 / connections, VmRSS */
    double seconds;          /* time to establish them all */
    uint64_t errors;
    char error[BB_ERR_MAX];
} bb_idle_result;

enum { IC_NONE, IC_CONNECTING, IC_CONNACK, IC_IDLE };

struct bb_idle;
typedef struct bb_idle_conn {
    struct bb_idle *run;
    int fd;
    int state;
    uint8_t in[8];
    size_t inlen;
} bb_idle_conn;

typedef struct bb_idle {
    bb_net *net;
    bb_idle_conn *conns;
    size_t n, next, pending, concurrency, idle, closed_by_broker;
    bool failed, settling;
    uint64_t settle_timer, deadline_timer;
    char error[BB_ERR_MAX];
} bb_idle;

static void idle_open_more(bb_idle *r);

static void idle_drop(bb_idle_conn *c)
{
    if (c->fd >= 0) {
        pn_loop_unwatch(c->run->net->loop, c->fd);
        close(c->fd);
        c->fd = -1;
    }
}

static void idle_on_settled(pn_loop *loop, uint64_t id, void *udata)
{
    (void)id;
    bb_idle *r = udata;
    r->settle_timer = 0;
    pn_loop_stop(loop);
}

/* A connection that failed during its handshake is retried (bounded by the error budget). */
static void idle_failed(bb_idle_conn *c, const char *what)
{
    bb_idle *r = c->run;
    idle_drop(c);
    c->state = IC_NONE;
    r->pending--;
    bb_net_error(r->net, "%s", what);
    if (r->net->errors > 100) {
        snprintf(r->error, sizeof(r->error), "too many failed connections; first: %.180s", r->net->first_error);
        r->failed = true;
        pn_loop_stop(r->net->loop);
        return;
    }
    r->next = (size_t)(c - r->conns); /* reopen this one next */
    idle_open_more(r);
}

static void idle_on_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)events;
    bb_idle_conn *c = udata;
    bb_idle *r = c->run;
    if (c->state == IC_CONNECTING) {
        int e = pn_connect_result(fd);
        uint8_t buf[256];
        ssize_t len = bb_prologue(r->net, 0, buf, sizeof(buf));
        size_t n = 0;
        if (e || len < 0 || pn_send(fd, buf, (size_t)len, &n) != PN_IO_OK || n != (size_t)len) {
            idle_failed(c, e ? strerror(e) : "sending the header and CONNECT failed");
            return;
        }
        pn_loop_modify(loop, fd, PN_READABLE);
        c->state = IC_CONNACK;
        return;
    }
    size_t n = 0;
    pn_io io = pn_recv(fd, c->in + c->inlen, sizeof(c->in) - c->inlen, &n);
    if (io == PN_IO_AGAIN)
        return;
    if (c->state == IC_IDLE) {
        /* An idle connection must stay quiet: anything here means the broker ended it. */
        r->closed_by_broker++;
        r->idle--;
        idle_drop(c);
        c->state = IC_NONE;
        return;
    }
    if (io != PN_IO_OK) {
        idle_failed(c, "no CONNACK");
        return;
    }
    c->inlen += n;
    mqtt_packet p;
    ssize_t d = mqtt_decode(c->in, c->inlen, MQTT_V311, &p);
    if (d == MQTT_NEED_MORE && c->inlen < sizeof(c->in))
        return;
    if (d <= 0 || p.type != MQTT_CONNACK || p.connack.reason != 0) {
        idle_failed(c, "expected CONNACK accepted");
        return;
    }
    c->state = IC_IDLE;
    r->pending--;
    r->idle++;
    idle_open_more(r);
}

static void idle_open_more(bb_idle *r)
{
    while (!r->failed && r->pending < r->concurrency) {
        while (r->next < r->n && r->conns[r->next].state != IC_NONE)
            r->next++;
        if (r->next >= r->n)
            break;
        bb_idle_conn *c = &r->conns[r->next];
        bool pending = false;
        c->fd = bb_net_connect(r->net, &pending);
        if (c->fd < 0) {
            snprintf(r->error, sizeof(r->error), "%.180s (after %zu connections)", r->net->first_error, r->idle);
            r->failed = true;
            pn_loop_stop(r->net->loop);
            return;
        }
        c->state = IC_CONNECTING;
        c->inlen = 0;
        r->pending++;
        pn_loop_watch(r->net->loop, c->fd, PN_WRITABLE, idle_on_event, c);
        if (!pending)
            idle_on_event(r->net->loop, c->fd, PN_WRITABLE, c);
    }
    if (!r->failed && !r->settling && r->idle == r->n) {
        /* All established: give the broker a moment to finish its post-CONNACK work
         * (e.g. releasing receive buffers) before the second reading. */
        r->settling = true;
        r->settle_timer = pn_timer_add(r->net->loop, 500, idle_on_settled, r);
    }
}

static void idle_on_deadline(pn_loop *loop, uint64_t id, void *udata)
{
    (void)id;
    bb_idle *r = udata;
    r->deadline_timer = 0;
    snprintf(r->error, sizeof(r->error), "only %zu of %zu connections established in time", r->idle, r->n);
    r->failed = true;
    pn_loop_stop(loop);
}

static int bb_run_idle(pn_loop *loop, const bb_target *t, size_t nsources, size_t nconns, size_t concurrency,
                       bb_idle_result *res)
{
    memset(res, 0, sizeof(*res));
    bb_net net;
    bb_idle r;
    memset(&r, 0, sizeof(r));
    if (bb_net_init(&net, loop, t, nsources) != 0)
        return -1;
    r.net = &net;
    r.n = nconns;
    r.concurrency = concurrency ? concurrency : 1;
    r.conns = calloc(nconns, sizeof(*r.conns));
    if (!r.conns)
        return -1;
    for (size_t i = 0; i < nconns; i++) {
        r.conns[i].run = &r;
        r.conns[i].fd = -1;
    }
    res->rss_before_kib = bb_proc_status_kib(t->pid, "VmRSS");
    res->anon_before_kib = bb_proc_status_kib(t->pid, "RssAnon");
    uint64_t t0 = bb_now_us();
    r.deadline_timer = pn_timer_add(loop, 60000, idle_on_deadline, &r);
    idle_open_more(&r);
    if (!r.failed)
        pn_loop_run(loop);
    res->seconds = (double)(bb_now_us() - t0) / 1e6 - (r.settling ? 0.5 : 0);
    res->rss_after_kib = bb_proc_status_kib(t->pid, "VmRSS");
    res->anon_after_kib = bb_proc_status_kib(t->pid, "RssAnon");
    if (r.deadline_timer)
        pn_timer_cancel(loop, r.deadline_timer);
    if (r.settle_timer)
        pn_timer_cancel(loop, r.settle_timer);
    res->connections = r.idle;
    res->errors = net.errors;
    res->ok = !r.failed && r.idle == nconns && r.closed_by_broker == 0;
    if (r.failed)
        snprintf(res->error, sizeof(res->error), "%s", r.error);
    else if (r.closed_by_broker)
        snprintf(res->error, sizeof(res->error), "the broker closed %zu idle connections", r.closed_by_broker);
    if (r.idle)
        res->bytes_per_conn = (double)(res->rss_after_kib - res->rss_before_kib) * 1024.0 / (double)r.idle;
    for (size_t i = 0; i < nconns; i++)
        idle_drop(&r.conns[i]);
    free(r.conns);
    return 0;
}

#endif
