/* Shared by tests/unit/test_broker_engine_*.c: drive the MQTT engine with fake connections
 * that capture what the engine sends, build client packets with lib/mqtt's encoder and read
 * the engine's answers back with its decoder. No sockets: the engine is transport-free. */
#ifndef TEST_BROKER_ENGINE_HELPERS_H
#define TEST_BROKER_ENGINE_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "engine.h"
#include "mqtt/mqtt.h"
#include "net/loop.h"

#define FC_OUT_MAX (256u * 1024u)
#define FC_MAX 16
#define EV_MAX 64
#define HFN static __attribute__((unused))

/* A fake transport connection. */
typedef struct fconn {
    uint8_t *out;          /* everything the engine sent */
    size_t out_len, read_pos;
    size_t out_limit;      /* send() fails past this (a full bounded buffer) */
    bool closed;
    char reason[96];
    int close_calls;
    br_client *c;
    bool detached;
    uint8_t level;         /* for decoding what we read */
    uint8_t pkt_buf[FC_OUT_MAX]; /* copy of the last packet read (views point here) */
} fconn;

typedef struct recorded_event {
    br_event_type type;
    char reason[64];
    char client_id[64];
    char username[64];
    char topic[64];
    int reason_code;
    bool session_present;
    void *conn;
} recorded_event;

typedef struct harness {
    pn_loop *loop;
    br_engine *e;
    fconn conns[FC_MAX];
    size_t nconns;
    bool detach_in_close;  /* transport detaches from inside ops.close (allowed by engine.h) */
    recorded_event ev[EV_MAX];
    size_t nev;
} harness;

static harness H;

HFN int fc_send(void *conn, const uint8_t *data, size_t len)
{
    fconn *f = conn;
    assert_false(f->closed); /* engine.h: no send after close */
    if (f->out_len + len > f->out_limit)
        return -1;
    memcpy(f->out + f->out_len, data, len);
    f->out_len += len;
    return 0;
}

HFN void fc_close(void *conn, const char *reason)
{
    fconn *f = conn;
    f->close_calls++;
    assert_int_equal(f->close_calls, 1); /* engine.h: close at most once */
    f->closed = true;
    snprintf(f->reason, sizeof f->reason, "%s", reason ? reason : "(null)");
    if (H.detach_in_close && !f->detached) {
        f->detached = true;
        br_engine_detach(H.e, f->c, reason);
    }
}

HFN void ev_sink(void *ud, const br_event *ev)
{
    (void)ud;
    if (H.nev >= EV_MAX)
        return;
    recorded_event *r = &H.ev[H.nev++];
    memset(r, 0, sizeof *r);
    r->type = ev->type;
    snprintf(r->reason, sizeof r->reason, "%s", ev->reason ? ev->reason : "");
    snprintf(r->client_id, sizeof r->client_id, "%s", ev->client_id ? ev->client_id : "");
    snprintf(r->username, sizeof r->username, "%s", ev->username ? ev->username : "");
    snprintf(r->topic, sizeof r->topic, "%s", ev->topic ? ev->topic : "");
    r->reason_code = ev->reason_code;
    r->session_present = ev->session_present;
    r->conn = ev->conn;
}

HFN void h_start(const br_engine_opts *opts)
{
    memset(&H, 0, sizeof H);
    H.loop = pn_loop_new(16);
    assert_non_null(H.loop);
    br_engine_opts o;
    if (opts)
        o = *opts;
    else
        br_engine_opts_defaults(&o);
    br_conn_ops ops = { fc_send, fc_close };
    br_event_sink sink = { ev_sink, NULL };
    char err[256] = "";
    H.e = br_engine_new(&o, H.loop, ops, sink, err, sizeof err);
    if (!H.e)
        fail_msg("br_engine_new: %s", err);
}

HFN void h_stop(void)
{
    for (size_t i = 0; i < H.nconns; i++) {
        fconn *f = &H.conns[i];
        if (!f->detached) {
            f->detached = true;
            br_engine_detach(H.e, f->c, "test_end");
        }
        free(f->out);
    }
    br_engine_free(H.e);
    pn_loop_free(H.loop);
    memset(&H, 0, sizeof H);
}

HFN fconn *h_attach_info(const br_client_info *info)
{
    assert_true(H.nconns < FC_MAX);
    fconn *f = &H.conns[H.nconns++];
    memset(f, 0, sizeof *f);
    f->out = malloc(FC_OUT_MAX);
    assert_non_null(f->out);
    f->out_limit = FC_OUT_MAX;
    f->level = MQTT_V311;
    f->c = br_engine_attach(H.e, f, info);
    assert_non_null(f->c);
    return f;
}

HFN fconn *h_attach(void)
{
    br_client_info info = { .attributed_addr = NULL };
    return h_attach_info(&info);
}

/* The transport saw the connection go (EOF, reset, ...). */
HFN void h_detach(fconn *f, const char *reason)
{
    if (f->detached)
        return;
    f->detached = true;
    br_engine_detach(H.e, f->c, reason);
}

HFN int h_input(fconn *f, const uint8_t *b, size_t n) { return br_engine_input(H.e, f->c, b, n); }

HFN int h_send_pkt(fconn *f, const mqtt_packet *p)
{
    uint8_t buf[8192];
    ssize_t n = mqtt_encode(buf, sizeof buf, f->level, p);
    assert_true(n > 0);
    return h_input(f, buf, (size_t)n);
}

/* Hex pairs, spaces ignored. */
HFN size_t h_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        assert_true(s[1] != 0 && n < cap);
        char pair[3] = { s[0], s[1], 0 };
        out[n++] = (uint8_t)strtoul(pair, NULL, 16);
        s += 2;
    }
    return n;
}

HFN int h_input_hex(fconn *f, const char *hex)
{
    uint8_t b[1024];
    size_t n = h_hex(hex, b, sizeof b);
    return h_input(f, b, n);
}

/* Next packet the engine sent to f (copied into f->pkt_buf), or false when none is pending. */
HFN bool h_next(fconn *f, mqtt_packet *p)
{
    if (f->read_pos >= f->out_len)
        return false;
    size_t avail = f->out_len - f->read_pos;
    memcpy(f->pkt_buf, f->out + f->read_pos, avail);
    ssize_t n = mqtt_decode(f->pkt_buf, avail, f->level, p);
    if (n <= 0)
        fail_msg("engine sent undecodable bytes (%zd: %s) at offset %zu", n, mqtt_error_name((int)n),
                 f->read_pos);
    f->read_pos += (size_t)n;
    return true;
}

HFN void h_expect_type(fconn *f, mqtt_packet *p, uint8_t type)
{
    if (!h_next(f, p))
        fail_msg("expected %s, nothing was sent", mqtt_type_name(type));
    if (p->type != type)
        fail_msg("expected %s, got %s", mqtt_type_name(type), mqtt_type_name(p->type));
}

HFN void h_expect_nothing(fconn *f)
{
    mqtt_packet p;
    if (h_next(f, &p))
        fail_msg("expected nothing, got %s", mqtt_type_name(p.type));
}

typedef struct connect_args {
    uint8_t level;          /* default 3.1.1 */
    const char *client_id;  /* NULL = "" */
    bool clean;
    uint16_t keep_alive;
    const char *username, *password;
    const char *will_topic, *will_payload;
    uint8_t will_qos;
    bool will_retain;
    const mqtt_prop *props;  /* v5 CONNECT properties */
    size_t nprops;
    const mqtt_prop *will_props;
    size_t nwill_props;
} connect_args;

HFN void h_build_connect(const connect_args *a, mqtt_packet *p)
{
    mqtt_packet_init(p, MQTT_CONNECT);
    mqtt_connect *c = &p->connect;
    c->protocol_level = a->level ? a->level : MQTT_V311;
    c->clean_start = a->clean;
    c->keep_alive = a->keep_alive;
    c->client_id = mqtt_cstr(a->client_id ? a->client_id : "");
    if (a->username) {
        c->has_username = true;
        c->username = mqtt_cstr(a->username);
    }
    if (a->password) {
        c->has_password = true;
        c->password = mqtt_cstr(a->password);
    }
    if (a->will_topic) {
        c->will = true;
        c->will_topic = mqtt_cstr(a->will_topic);
        c->will_payload = mqtt_cstr(a->will_payload ? a->will_payload : "");
        c->will_qos = a->will_qos;
        c->will_retain = a->will_retain;
        c->will_props.list = a->will_props;
        c->will_props.count = a->nwill_props;
    }
    c->props.list = a->props;
    c->props.count = a->nprops;
}

/* CONNECT and return the CONNACK. */
HFN void h_connect_raw(fconn *f, const connect_args *a, mqtt_packet *connack)
{
    mqtt_packet p;
    h_build_connect(a, &p);
    f->level = p.connect.protocol_level;
    h_send_pkt(f, &p);
    h_expect_type(f, connack, MQTT_CONNACK);
}

HFN fconn *h_client(uint8_t level, const char *id, bool clean)
{
    fconn *f = h_attach();
    connect_args a = { .level = level, .client_id = id, .clean = clean };
    mqtt_packet ack;
    h_connect_raw(f, &a, &ack);
    assert_int_equal(ack.connack.reason, 0);
    return f;
}

HFN void h_subscribe_opts(fconn *f, uint16_t pid, const char *filter, uint8_t options,
                             uint32_t sub_id, uint8_t expect_code)
{
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_SUBSCRIBE);
    mqtt_sub_entry en;
    memset(&en, 0, sizeof en);
    en.filter = mqtt_cstr(filter);
    en.options = options;
    p.subscribe.packet_id = pid;
    p.subscribe.list = &en;
    p.subscribe.list_count = 1;
    mqtt_prop prop = { .id = MQTT_PROP_SUBSCRIPTION_ID, .u = sub_id };
    if (sub_id) {
        p.subscribe.props.list = &prop;
        p.subscribe.props.count = 1;
    }
    h_send_pkt(f, &p);
    mqtt_packet ack;
    h_expect_type(f, &ack, MQTT_SUBACK);
    assert_int_equal(ack.suback.packet_id, pid);
    assert_int_equal(ack.suback.reasons.len, 1);
    assert_int_equal(ack.suback.reasons.ptr[0], expect_code);
}

HFN void h_subscribe(fconn *f, const char *filter, uint8_t qos)
{
    h_subscribe_opts(f, 1, filter, qos, 0, qos);
}

HFN void h_publish_props(fconn *f, const char *topic, const char *payload, uint8_t qos,
                            bool retain, uint16_t pid, const mqtt_prop *props, size_t nprops)
{
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBLISH);
    p.publish.topic = mqtt_cstr(topic);
    p.publish.payload = mqtt_cstr(payload);
    p.publish.qos = qos;
    p.publish.retain = retain;
    p.publish.packet_id = pid;
    p.publish.props.list = props;
    p.publish.props.count = nprops;
    h_send_pkt(f, &p);
}

HFN void h_publish(fconn *f, const char *topic, const char *payload, uint8_t qos, bool retain,
                      uint16_t pid)
{
    h_publish_props(f, topic, payload, qos, retain, pid, NULL, 0);
}

HFN void h_ack(fconn *f, uint8_t type, uint16_t pid)
{
    mqtt_packet p;
    mqtt_packet_init(&p, type);
    p.ack.packet_id = pid;
    h_send_pkt(f, &p);
}

/* Expect a PUBLISH with this topic and payload; returns it in *p. */
HFN void h_expect_publish(fconn *f, mqtt_packet *p, const char *topic, const char *payload, uint8_t qos)
{
    h_expect_type(f, p, MQTT_PUBLISH);
    if (p->publish.topic.len != strlen(topic) || memcmp(p->publish.topic.ptr, topic, strlen(topic)) != 0)
        fail_msg("expected topic %s, got %.*s", topic, (int)p->publish.topic.len,
                 (const char *)p->publish.topic.ptr);
    assert_int_equal(p->publish.payload.len, strlen(payload));
    assert_memory_equal(p->publish.payload.ptr, payload, strlen(payload));
    assert_int_equal(p->publish.qos, qos);
}

HFN void h_disconnect(fconn *f, uint8_t reason)
{
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_DISCONNECT);
    p.disconnect.reason = reason;
    h_send_pkt(f, &p);
    assert_true(f->closed);
    assert_string_equal(f->reason, "client_disconnect");
    h_detach(f, "eof");
}

/* Run the loop until f is closed or deadline_ms passes (timers drive keep-alive and expiry). */
HFN bool h_run_until_closed(fconn *f, uint64_t deadline_ms)
{
    uint64_t end = pn_now_ms() + deadline_ms;
    while (!f->closed && pn_now_ms() < end)
        pn_loop_run_once(H.loop, 50);
    return f->closed;
}

HFN bool h_run_until_output(fconn *f, uint64_t deadline_ms)
{
    uint64_t end = pn_now_ms() + deadline_ms;
    while (f->read_pos >= f->out_len && pn_now_ms() < end)
        pn_loop_run_once(H.loop, 50);
    return f->read_pos < f->out_len;
}

HFN const recorded_event *h_find_event(br_event_type type, void *conn)
{
    for (size_t i = 0; i < H.nev; i++)
        if (H.ev[i].type == type && (!conn || H.ev[i].conn == conn))
            return &H.ev[i];
    return NULL;
}

HFN int h_teardown(void **state)
{
    (void)state;
    if (H.e)
        h_stop();
    return 0;
}

#endif
