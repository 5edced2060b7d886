/* broker/engine: ppbroker's MQTT 3.1.1 / 5.0 session engine, independent of sockets.
 *
 * THIS HEADER IS THE CONTRACT between the transport side (main.c, listeners, PROXY stage, TLS,
 * admin API, logging) and the MQTT engine (engine*.c, session*.c, topic*.c, retain*.c, auth*.c).
 *
 * Life of a connection, as the transport drives it:
 *
 *   accept -> [PROXY stage, TLS] -> c = br_engine_attach(e, conn, &info)
 *          -> br_engine_input(e, c, bytes, n)   for every chunk read after the PROXY header,
 *                                               split anywhere (even one byte at a time)
 *          -> engine calls ops.send(conn, ...)  to queue bytes, ops.close(conn, reason) to end it
 *          -> br_engine_detach(e, c, reason)    exactly once, when the connection is gone
 *                                               (after an engine-requested close too)
 *
 * Rules:
 * - ops.send queues bytes on the transport's bounded output buffer and returns 0, or -1 when
 *   the buffer is full (nothing queued then). The engine never blocks.
 * - ops.close asks the transport to flush what is queued and close. The engine calls it at most
 *   once per client and never calls send/close for that client afterwards; input arriving after
 *   it is ignored. The transport must still call br_engine_detach later (it may do so from inside
 *   the close callback or later from its loop). `reason` is a stable name (list below) that the
 *   transport puts in its single final "close" event.
 * - br_engine_detach frees the br_client: the pointer is invalid afterwards. The session side
 *   ends when the engine closes or the transport detaches, whichever comes first: unless the
 *   client sent DISCONNECT (any reason but v5 0x04 "with will"), its will is published (after
 *   the v5 will delay), and a persistent session stays for its expiry interval.
 * - Time: keep-alive, CONNECT timeout, session expiry and will delay are one-shot timers on the
 *   pn_loop given to br_engine_new (free the engine before the loop).
 * - Callbacks (send, close, sink) are never re-entered: the engine does not call into the engine
 *   from them, and the transport must not call br_engine_* from inside send or sink. Calling
 *   br_engine_detach from inside close IS allowed (the engine expects it).
 *
 * Who writes what (events and JSON):
 * - The TRANSPORT emits every "close" event (it alone sees every end, PROXY rejects included),
 *   using the reason passed to ops.close, or its own ("eof", "io_error", "timeout", ...) when
 *   the peer went away first. It asks br_client_id()/br_client_username() for the fields.
 * - The ENGINE reports "connack", "auth_reject" and "acl_deny" through the sink (br_event); the
 *   transport adds seq, time, conn id, listener, real_peer and attributed_peer, then logs and
 *   rings them. The engine owns no clock for events and no JSON.
 * - /api/v1/sessions: the TRANSPORT renders the JSON. br_engine_foreach_session() gives, per
 *   session (connected or offline persistent): client_id, username, username_source,
 *   protocol_version, connected, and the transport's `conn` pointer (NULL when offline) so the
 *   transport can add listener, real_peer, attributed_peer and proxy from its own state.
 *
 * Close reasons the engine passes to ops.close (stable, matched by scenarios and tests):
 *   client_disconnect          DISCONNECT received (any reason code)
 *   <v5 reason name>           the engine refused or ended the connection with a reason code;
 *                              the name is mqtt_reason_name(code) from lib/mqtt:
 *     not_authorized               CONNACK refused: anonymous not allowed, or transport refusal
 *     bad_user_name_or_password    CONNACK refused: password check failed (3.1.1 rc 4)
 *     client_identifier_not_valid  CONNACK refused (3.1.1 rc 2)
 *     unsupported_protocol_version CONNACK refused (3.1.1 rc 1)
 *     bad_authentication_method    CONNACK refused: v5 enhanced auth is not supported
 *     session_taken_over           another connection CONNECTed with the same client id (0x8E)
 *     keep_alive_timeout           nothing received for 1.5 x keep-alive (v5 DISCONNECT 0x8D)
 *     server_shutting_down         br_engine_shutdown() (v5 DISCONNECT 0x8B)
 *     quota_exceeded               CONNACK refused: max_sessions reached (3.1.1 rc 3)
 *     server_unavailable           CONNACK refused: out of memory (3.1.1 rc 3)
 *     (any other name a transport refusal code maps to, e.g. banned)
 *   mqtt.<codec error>         malformed input or a protocol violation, named as lib/mqtt names
 *                              its errors: mqtt.malformed_remaining_length, mqtt.packet_too_large,
 *                              mqtt.unexpected_packet (first packet not CONNECT, second CONNECT,
 *                              a server-only packet), mqtt.topic_alias_invalid, mqtt.bad_topic_name,
 *                              mqtt.protocol_error, mqtt.timeout (no CONNECT in time), ...;
 *                              v5 clients first get DISCONNECT (or CONNACK, during CONNECT) with
 *                              mqtt_error_reason(err) (0x81 malformed, 0x82 protocol error,
 *                              0x95 packet too large, 0x94 topic alias invalid, ...)
 *   mqtt.receive_maximum_exceeded  v5 client sent more unacknowledged QoS>0 than allowed (0x93)
 *   send_buffer_full           ops.send refused a packet that cannot be dropped
 */
#ifndef BR_ENGINE_H
#define BR_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl_hook.h"

typedef struct pn_loop pn_loop; /* lib/net/loop.h: timers drive keep-alive, expiry, will delay */

typedef struct br_engine br_engine;
typedef struct br_client br_client; /* engine-side state of one connection */

/* ---- transport callbacks ------------------------------------------------------------- */

typedef struct br_conn_ops {
    /* Queue bytes for the peer. 0 = queued, -1 = the bounded buffer is full (nothing queued). */
    int (*send)(void *conn, const uint8_t *data, size_t len);
    /* Flush then close. `reason` is a stable name (see the list above). */
    void (*close)(void *conn, const char *reason);
} br_conn_ops;

/* ---- what the transport knows when MQTT starts --------------------------------------- */

typedef struct br_client_info {
    /* (listener, real peer and attributed peer text are the transport's: it adds them to the
     * engine's events itself, so the engine keeps no copy) */
    const struct sockaddr *attributed_addr;/* for ACL / source checks; may be NULL */
    /* Username forced by the transport (PROXY SSL CN, TLS certificate identity): when non-NULL
     * it replaces CONNECT's username and no password check is made (the identity was
     * established by the proxy or by TLS). NULL = use CONNECT's username and password. */
    const char *forced_username;
    const char *username_source;           /* "cn" | "certificate" when forced; ignored otherwise */
    /* The transport may ask the engine to refuse the CONNECT (e.g. CN policy "require" and no
     * CN: v5 0x87 not authorized). The engine then answers the CONNECT with CONNACK carrying
     * refuse_v5_reason (3.1.1: the matching return code, see br_v5_to_v3_return_code) and
     * closes with the matching reason name, after emitting an "auth_reject" event whose
     * message is refuse_message. */
    bool refuse;
    uint8_t refuse_v5_reason;
    const char *refuse_message;            /* human text for the event; may be NULL */
} br_client_info;                          /* strings are copied by br_engine_attach */

/* ---- events (engine -> transport) ----------------------------------------------------- */

typedef enum br_event_type {
    BR_EV_CONNACK,      /* every CONNACK sent, accepted or refused: reason_code = v5 code (or
                           3.1.1 return code), reason = "success" or the refusal name */
    BR_EV_AUTH_REJECT,  /* authentication/authorisation refusal at CONNECT (also sent with a
                           refused CONNACK event before it) */
    BR_EV_ACL_DENY,     /* publish or subscribe refused by the ACL hook; topic set */
} br_event_type;

typedef struct br_event {
    br_event_type type;
    const char *type_name;   /* "connack" | "auth_reject" | "acl_deny" (the contract's EVENT.type) */
    void *conn;              /* the transport's connection this event belongs to */
    const char *reason;      /* stable name: "success", "not_authorized", ... */
    const char *message;     /* one human line; may be NULL */
    const char *client_id;   /* may be NULL before CONNECT was parsed */
    const char *username;    /* the username in effect (forced or CONNECT's); NULL = none */
    const char *topic;       /* acl_deny only */
    int reason_code;         /* connack: the code on the wire; others: v5 code or -1 */
    bool session_present;    /* connack */
    int protocol_version;    /* 3 (3.1), 4 (3.1.1), 5, or 0 if unknown */
} br_event;

typedef struct br_event_sink {
    void (*emit)(void *ud, const br_event *ev); /* NULL = events dropped */
    void *ud;
} br_event_sink;

/* ---- options -------------------------------------------------------------------------- */

typedef struct br_engine_opts {
    /* Call br_engine_opts_defaults() first, then override. A zero bound means "the default". */
    bool allow_anonymous;             /* CONNECT without username (and no forced one) accepted */
    const char *password_file;        /* NULL/"" = none: then CONNECT usernames are accepted
                                         without a password check. With a file, a username
                                         must be in it with the right password (else 0x86/rc 4) */
    uint32_t max_packet_size;         /* largest inbound packet (whole packet bytes), announced
                                         to v5 clients in CONNACK; 1 MiB. Outbound, the engine
                                         honours each v5 client's own Maximum Packet Size */
    uint16_t max_inflight;            /* outbound QoS>0 unacknowledged per client; 20 */
    uint32_t max_queued;              /* per session, messages waiting (offline or over the
                                         inflight bound); 1000; when full, new ones are dropped.
                                         Only QoS 1/2 wait: QoS 0 goes now or is dropped */
    uint16_t receive_maximum;         /* v5 server Receive Maximum (inbound QoS>0 unacked); 20 */
    uint16_t topic_alias_maximum;     /* v5 inbound topic aliases offered; 10 (set
                                         topic_alias_disabled to offer none) */
    bool topic_alias_disabled;
    uint32_t session_expiry_max;      /* cap on v5 Session Expiry Interval (s), and the life of a
                                         3.1.1 clean-session-0 session once offline; 86400 */
    size_t max_retained;              /* retained messages kept; 10000 */
    size_t max_subscriptions;         /* per session; 1000 (SUBACK 0x97 quota exceeded beyond) */
    uint32_t connect_timeout_ms;      /* CONNECT must arrive within this; 10000 */
    size_t max_sessions;              /* sessions kept (connected + offline); 100000. A CONNECT
                                         needing a new one beyond it: v5 0x97, 3.1.1 rc 3 */
    br_acl_fn acl_check;              /* NULL = allow everything */
    void *acl_ud;
} br_engine_opts;

void br_engine_opts_defaults(br_engine_opts *opts);

/* ---- engine lifecycle ----------------------------------------------------------------- */

/* Returns NULL with err filled (e.g. "/etc/ppb/passwd:3: bad hash ...") on failure. The
 * password file is read here, once. Free the engine before the loop (its timers live there). */
br_engine *br_engine_new(const br_engine_opts *opts, pn_loop *loop, br_conn_ops ops,
                         br_event_sink sink, char *err, size_t errcap);
/* Tell every connected client we are going (v5: DISCONNECT 0x8B) and ops.close them with
 * "server_shutting_down". The transport then detaches them as their sockets close. */
void br_engine_shutdown(br_engine *e);
/* Free everything. Clients still attached are freed too (no callbacks are made). */
void br_engine_free(br_engine *e);

/* ---- per connection ------------------------------------------------------------------- */

br_client *br_engine_attach(br_engine *e, void *conn, const br_client_info *info);
/* Bytes after the PROXY header, exactly as they arrive. Returns 0, or -1 once the engine has
 * asked to close this client (the transport may stop reading). Never fails the broker. */
int br_engine_input(br_engine *e, br_client *c, const uint8_t *data, size_t len);
/* The transport's output buffer has room again: the engine resumes delivering queued messages.
 * Optional (the engine also retries on the next input); cheap to call. */
void br_engine_writable(br_engine *e, br_client *c);
/* Connection gone (EOF, error, or after ops.close). Frees `c`. */
void br_engine_detach(br_engine *e, br_client *c, const char *reason);

/* Identity of a client for the transport's "close" event and logs; NULL when not known yet. */
const char *br_client_id(const br_client *c);
const char *br_client_username(const br_client *c);
const char *br_client_username_source(const br_client *c); /* connect|cn|certificate|none: a literal */
int br_client_protocol_version(const br_client *c);           /* 3, 4, 5 or 0 before CONNECT */
bool br_client_connected(const br_client *c);                 /* CONNACK 0x00 sent */

/* ---- observation ---------------------------------------------------------------------- */

typedef struct br_session_info {
    const char *client_id;
    const char *username;        /* NULL = none */
    const char *username_source; /* "connect" | "cn" | "certificate" | "none" */
    int protocol_version;        /* 3, 4 or 5 */
    bool connected;
    void *conn;                  /* transport connection, NULL when the session is offline */
    bool clean;                  /* ends when the connection does (3.1.1 clean / v5 expiry 0) */
    uint32_t expiry_interval_s;  /* v5 session expiry (0xFFFFFFFF = never) */
    size_t subscriptions, queued, inflight;
} br_session_info;

/* Calls fn for every session (connected ones, then offline persistent ones). */
void br_engine_foreach_session(br_engine *e, void (*fn)(void *ud, const br_session_info *s),
                               void *ud);

typedef struct br_engine_stats {
    uint64_t messages_received;  /* PUBLISH packets accepted from clients */
    uint64_t messages_sent;      /* PUBLISH packets sent to clients */
    uint64_t messages_dropped;   /* QoS 0 dropped (buffer full) or queue overflow */
    size_t sessions;             /* gauge: connected + offline persistent */
    size_t clients;              /* attached connections (CONNECT done or not) */
    size_t retained;             /* retained messages stored */
} br_engine_stats;

void br_engine_stats_get(const br_engine *e, br_engine_stats *out);

/* ---- helpers -------------------------------------------------------------------------- */

/* 3.1.1 CONNACK return code for a v5 refusal reason (0x84->1, 0x85->2, 0x88/0x89/0x97->3,
 * 0x86->4, 0x87/0x8A/others->5). */
uint8_t br_v5_to_v3_return_code(uint8_t v5_reason);
/* Stable name for a v5 CONNACK/DISCONNECT reason code: mqtt_reason_name() ("not_authorized"). */
const char *br_reason_name(uint8_t v5_reason);

#endif
