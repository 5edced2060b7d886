/* broker/events: every decision ppbroker makes about a connection, as an EVENT (contract):
 * numbered, kept in a ring of the last 10,000 (refusals also in their own ring of 1,000),
 * written to the log, and counted for /metrics. One function emits; the admin API reads. */
#ifndef PPB_EVENTS_H
#define PPB_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker.h"
#include "json.h"

#define PPB_EVENT_RING 10000
#define PPB_REJECT_RING 1000
#define PPB_EVENTS_PAGE 1000            /* default page for since=N (N > 0) */
#define PPB_EVENTS_ALL_BYTES (1u << 20) /* since=0 without limit: the newest events up to 1 MiB */

/* type, refs, outcome and username_source must be string literals (or static tables such as
 * the codec's error refs): events keep them by pointer. Every other string is copied. */
typedef struct ppb_event_fields {
    const char *type;        /* proxy_header|cn_decision|proxy_reject|connack|close|auth_reject|acl_deny|security_reject */
    const char *reason;      /* stable name; NULL = none */
    const char *refs;        /* comma-separated requirement IDs; NULL = none */
    const char *message;
    const char *client_id;
    const char *username;
    const char *username_source;
    const char *topic;
    const char *outcome;     /* final events: served|refused|closed */
    int reason_code;         /* -1 = absent */
    int session_present;     /* -1 = absent */
    int protocol_version;    /* 0 = absent */
    bool with_proxy;         /* include the connection's PROXY object */
} ppb_event_fields;

#define PPB_EVENT_FIELDS_INIT {.reason_code = -1, .session_present = -1}

ppb_events *ppb_events_new(void);
void ppb_events_free(ppb_events *ev);

/* Render, ring, log and count one event of connection c. */
void ppb_event_emit(ppb_broker *b, ppb_conn *c, const ppb_event_fields *f);

/* {"next":N,"events":[...]}: events with seq >= since, oldest first, at most limit (0 = the
 * default page). since=0 with limit 0 means "what you have": the newest events that fit
 * PPB_EVENTS_ALL_BYTES. */
void ppb_events_render_since(ppb_events *ev, uint64_t since, size_t limit, jbuf *out);
/* {"rejections":[...]} oldest first. */
void ppb_events_render_rejections(ppb_events *ev, jbuf *out);
uint64_t ppb_events_next_seq(const ppb_events *ev);

/* The engine's sink: connack, auth_reject and acl_deny events. ud = ppb_broker. */
void ppb_engine_event_sink(void *ud, const br_event *e);

#endif
