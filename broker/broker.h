/* broker/broker: ppbroker's transport-side state shared by listeners, connections, the PROXY
 * stage, events, logging and the admin API. The MQTT engine (engine.h) sees none of this:
 * it gets bytes and a `void *conn` and calls back through br_conn_ops.
 *
 * One process, one thread, one pn_loop. Every connection is a ppb_conn in a doubly linked
 * list; its state goes PROXY (header pending) -> MQTT (engine attached) -> gone.
 */
#ifndef PPB_BROKER_H
#define PPB_BROKER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "freelist.h"
#include "net/addr.h"
#include "net/buf.h"
#include "net/sock.h"
#include "net/loop.h"
#include "net/timeout_queue.h"
#include "net/tls.h"
#include "proxy/proxy.h"

#define PPB_VERSION "0.1.0"
#define PPB_READ_CHUNK 16384
#define PPB_HDR_BUF_MAX (PP_V2_MAX_LEN + PPB_READ_CHUNK) /* a whole v2 header plus one read */
#define PPB_CLOSE_FLUSH_MS 2000                         /* bound on flushing before a close */

typedef struct ppb_broker ppb_broker;
typedef struct ppb_events ppb_events;
typedef struct ppb_admin ppb_admin;
typedef struct ppb_acl ppb_acl;

typedef struct ppb_listener {
    ppb_broker *b;
    const ppb_listener_config *cfg;
    int fd;
    pn_addr bound;
    char bound_text[PN_ADDR_TEXT_MAX];
    pp_options pp_opts;         /* from config + quirks */
    pn_tls_ctx *tls;            /* ssl listeners */
    unsigned nconns;
    uint64_t accepted_total;
    /* connections in the PROXY stage: all wait pp_timeout_ms, so one FIFO and one loop
     * timer serve them (proxy_stage.c) */
    pn_tq header_timeouts;
} ppb_listener;

enum ppb_conn_state { CONN_PROXY = 0, CONN_MQTT = 1, CONN_CLOSING = 2, CONN_TLS = 3 };

typedef struct ppb_conn {
    struct ppb_conn *prev, *next;
    ppb_broker *b;
    ppb_listener *l;
    uint64_t id;
    int fd;
    enum ppb_conn_state state;
    uint64_t accepted_ms;

    pn_addr real_peer;           /* the local address is not kept: nothing reads it (one syscall less) */
    char real_peer_text[PN_ADDR_TEXT_MAX];
    char attributed_text[PP_UNIX_PATH_LEN + 16];
    pn_addr attributed;          /* carried source when used, else the real peer */

    /* PROXY stage: bytes received so far (grows up to PPB_HDR_BUF_MAX) */
    uint8_t *hbuf;
    size_t hlen, hcap;
    unsigned reads;              /* reads that fed the header */
    size_t first_read_len;       /* for wrong-address-on-split */
    pn_tq_entry header_tq;       /* in l->header_timeouts while the header is awaited */
    uint64_t tls_timer;          /* TLS handshake deadline (tls_stage.c) */

    /* What the header said, kept for rendering on demand (NULL = no header; proxy_view.h) */
    struct ppb_proxy_rec *proxy;

    /* Username decided by the transport: the SSL TLV's CN ("cn") or the TLS client
     * certificate ("certificate"); or a refusal the engine must answer with CONNACK 0x87. */
    char *forced_username;
    const char *username_source;
    bool refuse;
    char *refuse_message;

    /* ssl listeners: TLS over the socket, after the PROXY header when there is one */
    pn_tls *tls;

    /* MQTT stage */
    br_client *client;
    bool served;                 /* a CONNACK 0x00 went out (the engine's connack event) */
    pn_buf out;                  /* allocated lazily, freed when drained */
    bool watching_write;
    bool close_requested;
    char close_reason[96];
    uint64_t close_timer;
    pn_tq_entry reap_tq;         /* in b->reaps once a close is requested */
} ppb_conn;

/* A counter of refused connections per listener and reason (for /metrics). */
typedef struct ppb_reject_count {
    char listener[PPB_NAME_MAX];
    char reason[64];
    uint64_t count;
} ppb_reject_count;

struct ppb_broker {
    ppb_config cfg;
    unsigned quirks;
    pn_loop *loop;
    br_engine *engine;
    ppb_listener listeners[PPB_MAX_LISTENERS];
    size_t nlisteners;
    int reserve_fd;              /* spare fd given up to shed a connection on EMFILE */
    ppb_conn *conns;             /* list head */
    /* connections whose close was requested, finished after the loop pass's I/O by one
     * zero-delay timer for all of them (never from inside an engine callback) */
    pn_tq reaps;
    ppb_freelist conn_blocks;    /* recycled ppb_conn memory (conn.c) */
    size_t nconns;
    uint64_t next_conn_id;
    uint64_t started_ms;
    bool stopping;

    ppb_events *events;
    ppb_admin *admin;
    ppb_acl *acl;                /* acl_file, NULL = everything allowed */
    FILE *log;                   /* stderr or --log-file */
    char ready_file[PPB_PATH_MAX];

    ppb_reject_count *rejects;
    size_t nrejects, caprejects;
};

/* listener.c */
int ppb_listeners_open(ppb_broker *b, char *err, size_t errcap);
void ppb_listeners_close(ppb_broker *b);

/* conn.c */
/* The broker's reap queue (once, after the loop exists). */
void ppb_conns_init(ppb_broker *b);
ppb_conn *ppb_conn_new(ppb_broker *b, ppb_listener *l, int fd, const pn_addr *peer);
/* Begin MQTT: attach the engine and hand it `data` (bytes after the header). */
void ppb_conn_start_mqtt(ppb_conn *c, const br_client_info *extra, const uint8_t *data, size_t len);
/* End a connection that has no engine client yet (PROXY rejects, timeouts, EOF): emits the
 * final event (type e.g. "proxy_reject") and frees it. */
void ppb_conn_reject(ppb_conn *c, const char *type, const char *reason, const char *refs,
                     const char *message);
/* Readable in CONN_MQTT state (also called when TLS may hold decrypted bytes). */
void ppb_conn_on_readable_now(ppb_conn *c);
/* Close every connection (shutdown). */
void ppb_conns_close_all(ppb_broker *b, const char *reason);
extern const br_conn_ops PPB_CONN_OPS;

/* tls_stage.c */
/* Build every ssl listener's context before anything is bound (bad files: exit 2). */
int ppb_tls_contexts_init(ppb_broker *b, char *err, size_t errcap);
void ppb_tls_contexts_free(ppb_broker *b);
/* Start the handshake; prefix = bytes already read after the PROXY header. */
void ppb_tls_stage_begin(ppb_conn *c, const uint8_t *prefix, size_t len);
void ppb_tls_stage_on_event(ppb_conn *c);
/* The transport's decisions so far (CN, certificate identity, refusal) as engine info. */
void ppb_conn_client_info(const ppb_conn *c, br_client_info *info);
/* Read or write through TLS when the connection has it, the socket otherwise. */
pn_io ppb_conn_read(ppb_conn *c, void *buf, size_t cap, size_t *n);
pn_io ppb_conn_write(ppb_conn *c, const void *buf, size_t len, size_t *n);

/* proxy_stage.c */
/* The listener's header-timeout queue (ppb_listeners_open). */
void ppb_proxy_stage_init_listener(ppb_listener *l);
void ppb_proxy_stage_begin(ppb_conn *c);
/* Readable in CONN_PROXY state. */
void ppb_proxy_stage_on_readable(ppb_conn *c);
/* Fill the listener's pp_options from config and quirks. */
void ppb_proxy_options(const ppb_listener_config *lc, unsigned quirks, pp_options *out);

/* metrics (events.c) */
void ppb_count_reject(ppb_broker *b, const char *listener, const char *reason);

/* Wall-clock time as RFC 3339 with milliseconds, UTC. */
void ppb_rfc3339_now(char *buf, size_t cap);

#endif
