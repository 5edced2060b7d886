/* broker/engine_internal: the engine's own types, shared by engine*.c, session*.c, topic*.c
 * and retain*.c. Nothing outside the engine includes this. */
#ifndef BR_ENGINE_INTERNAL_H
#define BR_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "auth.h"
#include "engine.h"
#include "mqtt/mqtt.h"
#include "freelist.h"
#include "net/timeout_queue.h"

#define BR_SUBIDS_MAX 8              /* subscription identifiers carried by one delivery */
#define BR_NEVER_EXPIRES 0xFFFFFFFFu /* session expiry "never" (v5 0xFFFFFFFF, 3.1.1 clean=0) */

/* ---- messages (engine_msg.c) ----------------------------------------------------------- */

/* An application message, shared (refcounted) by every session it is delivered to, the
 * retained store and wills. Immutable once made. */
typedef struct br_msg {
    unsigned refs;
    char *topic;             /* NUL-terminated copy (topic names hold no U+0000) */
    size_t topic_len;
    uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain;
    uint8_t *props;          /* v5 properties forwarded as they came (no alias, subscription
                                id, message expiry or will delay); NULL when none */
    size_t props_len;
    uint64_t expire_at_ms;   /* pn_now_ms() deadline from Message Expiry; 0 = never */
} br_msg;

/* Make a message; props_raw is a v5 property block (may be empty) filtered on the way in. */
br_msg *br_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                   size_t payload_len, uint8_t qos, bool retain, mqtt_bytes props_raw,
                   bool has_expiry, uint32_t expiry_s);
br_msg *br_msg_ref(br_msg *m);
/* Copy a v5 property block into out (room for raw.len bytes), leaving out the properties that
 * belong to one hop (Topic Alias, Subscription Identifier) or that the engine re-creates
 * (Message Expiry Interval, Will Delay Interval). Returns the bytes written. */
size_t br_props_forwardable(mqtt_bytes raw, uint8_t *out);
void br_msg_unref(br_msg *m);
bool br_msg_expired(const br_msg *m, uint64_t now_ms);

/* ---- subscriptions (topic.c) --------------------------------------------------------- */

typedef struct br_sub {
    char *filter;            /* NUL-terminated copy */
    size_t filter_len;
    uint8_t qos;             /* granted */
    bool no_local, retain_as_published;
    uint8_t retain_handling;
    uint32_t sub_id;         /* v5 Subscription Identifier, 0 = none */
} br_sub;

typedef struct br_sub_list {
    br_sub *items;
    size_t count, cap;
} br_sub_list;

/* Add or replace (same filter). *existed tells which. -1 on allocation failure. */
int br_subs_put(br_sub_list *l, const br_sub *sub, bool *existed);
bool br_subs_remove(br_sub_list *l, const uint8_t *filter, size_t len);
void br_subs_clear(br_sub_list *l);

/* The union of a session's subscriptions matching one topic (MQTT 5 3.3.4: one delivery with
 * the highest QoS and every subscription identifier). */
typedef struct br_match {
    bool matched;
    uint8_t qos;
    bool retain_as_published;
    uint8_t nsub_ids;
    uint32_t sub_ids[BR_SUBIDS_MAX];
} br_match;
void br_subs_match(const br_sub_list *l, const char *topic, size_t topic_len, bool from_self,
                   br_match *out);

/* ---- retained store (retain.c) ------------------------------------------------------- */

typedef struct br_retain {
    br_msg **items;
    size_t count, cap, max;
} br_retain;

/* Set (payload non-empty) or delete (empty payload) the retained message of msg->topic.
 * Returns 0, or -1 when the store is full (message not kept). */
int br_retain_put(br_retain *r, br_msg *msg);
void br_retain_clear(br_retain *r);
/* Calls fn for every retained message matching filter. */
void br_retain_match(const br_retain *r, const char *filter, size_t filter_len,
                     void (*fn)(void *ud, br_msg *m), void *ud);

/* ---- sessions (session.c) ------------------------------------------------------------ */

typedef struct br_delivery {
    br_msg *msg;             /* one reference held */
    uint8_t qos;
    bool retain;             /* RETAIN flag to send */
    uint8_t nsub_ids;
    uint32_t sub_ids[BR_SUBIDS_MAX];
} br_delivery;

enum br_inflight_state { BR_AWAIT_PUBACK = 1, BR_AWAIT_PUBREC = 2, BR_AWAIT_PUBCOMP = 3 };

typedef struct br_inflight {
    br_delivery d;
    uint16_t packet_id;
    uint8_t state;
} br_inflight;

typedef struct br_session br_session;
struct br_session {
    br_engine *e;
    char *client_id;
    char *username;            /* NULL = none */
    const char *username_source;
    int protocol_version;
    struct sockaddr_storage addr; /* attributed address of the last connection (ACL on wills) */
    bool has_addr;
    br_client *client;         /* NULL while offline */
    br_session *prev, *next;   /* engine's list */
    br_session *hnext;         /* hash chain */

    uint32_t expiry_s;         /* 0 = ends with the connection; BR_NEVER_EXPIRES */
    uint64_t expiry_timer;

    br_sub_list subs;
    br_inflight *inflight;     /* outbound QoS>0 sent, not completed */
    size_t ninflight, inflight_cap;
    br_delivery *queue;        /* ring: waiting for a connection or an inflight slot */
    size_t qhead, qlen, qcap;
    uint16_t *in_qos2;         /* inbound QoS 2 ids answered with PUBREC, awaiting PUBREL */
    size_t nin_qos2, in_qos2_cap;
    uint16_t next_packet_id;

    br_msg *will;              /* set at CONNECT; published on abnormal end */
    uint32_t will_delay_s;
    bool will_has_expiry;      /* Message Expiry of the will starts when it is published */
    uint32_t will_expiry_s;
    uint64_t will_timer;       /* pending delayed will */
};

br_session *br_session_find(br_engine *e, const char *client_id);
br_session *br_session_create(br_engine *e, const char *client_id);
/* End a session: a will still pending is published first, then everything is freed. */
void br_session_end(br_session *s);
/* Free without publishing anything (engine teardown). */
void br_session_destroy(br_session *s);
/* The connection of s ended (abnormal: will applies). Arms the will and expiry timers or ends
 * the session at once. s->client must already be NULL. */
void br_session_went_offline(br_session *s, bool abnormal);
/* A connection resumes s: cancel expiry and a pending delayed will (not sent: MQTT-3.1.3-9). */
void br_session_resumed(br_session *s);

bool br_session_qos2_has(const br_session *s, uint16_t id);
int br_session_qos2_add(br_session *s, uint16_t id);
bool br_session_qos2_remove(br_session *s, uint16_t id);

int br_session_enqueue(br_session *s, const br_delivery *d); /* 0 or -1 (full: d released) */
bool br_session_queue_front(br_session *s, br_delivery *out);
void br_session_queue_pop(br_session *s);
br_inflight *br_session_inflight_add(br_session *s, const br_delivery *d, uint16_t id, uint8_t state);
br_inflight *br_session_inflight_find(br_session *s, uint16_t id);
void br_session_inflight_remove(br_session *s, br_inflight *f);
uint16_t br_session_next_packet_id(br_session *s);

void br_delivery_release(br_delivery *d);

/* ---- connections and the engine (engine*.c) ------------------------------------------ */

enum br_client_state { BR_C_AWAIT_CONNECT = 0, BR_C_CONNECTED, BR_C_CLOSING };

struct br_client {
    br_engine *e;
    void *conn;
    br_client *prev, *next;    /* engine's list of attached clients */

    struct sockaddr_storage addr;
    bool has_addr;
    char *forced_username;
    const char *forced_source;
    bool refuse;
    uint8_t refuse_reason;
    char *refuse_message;

    pn_tq_entry connect_tq;    /* in e->connect_timeouts until CONNECT is handled */
    enum br_client_state state;
    uint8_t level;             /* protocol level once CONNECT decoded */
    char *client_id;
    char *username;
    const char *username_source;
    br_session *session;

    uint8_t *rx;               /* partial packet (bounded by max_packet_size) */
    size_t rx_len, rx_cap;

    uint16_t keep_alive;
    uint64_t last_rx_ms;
    uint64_t keepalive_timer;

    uint16_t out_receive_max;  /* client's Receive Maximum (v5), 65535 otherwise */
    uint32_t out_max_packet;   /* client's Maximum Packet Size (v5), MQTT_MAX_PACKET otherwise */
    char **aliases;            /* inbound topic aliases [1..alias_max] */
    uint16_t alias_max;
    size_t resend_next;        /* index in session inflight still to resend after resume */
    bool resending;

    bool normal_disconnect;    /* DISCONNECT without "with will": no will */
    bool ended;                /* session side already handled */
    bool close_queued;
    const char *close_reason;
    br_client *close_next;
};

struct br_engine {
    br_engine_opts opts;
    pn_loop *loop;
    br_conn_ops ops;
    br_event_sink sink;
    br_passwd *passwd;

    /* clients waiting for CONNECT: all wait connect_timeout_ms, so one FIFO and one loop
     * timer serve them (no timer-heap work per connection) */
    pn_tq connect_timeouts;
    ppb_freelist client_blocks, session_blocks; /* recycled br_client / br_session memory */
    br_client *clients;        /* attached */
    size_t nclients;
    br_session *sessions;      /* all, connected or not */
    size_t nsessions;
    br_session **table;        /* by client id */
    size_t table_size;

    br_retain retained;
    int depth;                 /* nesting of public entry points */
    bool flushing;
    br_client *close_head, *close_tail;
    br_engine_stats stats;
};

/* engine.c */
void br_enter(br_engine *e);
void br_leave(br_engine *e);
/* Queue the end of c: v5 clients get DISCONNECT(v5_reason) first when v5_reason >= 0 and the
 * connection is up; ops.close(conn, reason) happens when the engine returns to the transport. */
void br_close_client(br_client *c, const char *reason, int v5_reason);
/* Malformed input / protocol violation: name from lib/mqtt, v5 code mqtt_error_reason(err). */
void br_protocol_close(br_client *c, int err);
/* Encode and queue a packet; closes c with send_buffer_full if the transport refuses it.
 * Returns 0 or -1. */
int br_send_packet(br_client *c, const mqtt_packet *p);
void br_emit(br_client *c, br_event_type type, const char *reason, const char *message,
             int reason_code, bool session_present, const char *topic);
bool br_acl_allows(br_engine *e, const char *username, const char *client_id,
                   const struct sockaddr *addr, const char *topic, br_acl_access acc);
/* Session ends with this connection: will and expiry handling (idempotent). */
void br_client_end_session(br_client *c);
/* CONNECT accepted: the connect timer stops, keep-alive enforcement starts. */
void br_client_start_keepalive(br_client *c);

/* engine_connect.c */
void br_handle_connect(br_client *c, const uint8_t *raw, size_t len);

/* engine_publish.c */
void br_handle_publish(br_client *c, const mqtt_packet *p);
void br_handle_ack(br_client *c, const mqtt_packet *p);  /* PUBACK PUBREC PUBREL PUBCOMP */
/* Route a message to every matching session; returns how many matched. */
size_t br_route(br_engine *e, br_msg *msg, const br_session *origin);
/* Publish a will (ACL checked, retained if flagged). */
void br_publish_will(br_session *s, br_msg *will);
void br_deliver(br_session *s, br_delivery *d); /* takes d's reference */
/* Resend inflight after resume, then move queued messages into free inflight slots. */
void br_drain(br_client *c);

/* engine_subscribe.c */
void br_handle_subscribe(br_client *c, const mqtt_packet *p);
void br_handle_unsubscribe(br_client *c, const mqtt_packet *p);

#endif
