/* tests/integration/broker/harness: start ppbroker on free ports with a temp config and
 * --ready-file, read its addresses from the ready file, talk to its admin API, stop it by
 * PID. Every wait has a deadline; nothing sleeps. */
#ifndef BROKER_HARNESS_H
#define BROKER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>

#include "support.h"

typedef struct bh {
    char dir[256];
    char config[320], ready[320], log[320];
    ts_proc proc;
    char pp[64];     /* listener "pp": proxy_protocol = on */
    char plain[64];  /* listener "plain" */
    char v2only[64]; /* listener "v2only": proxy_protocol_versions = 2 */
    char admin[64];
} bh;

/* PPC_BROKER_WRAPPER (environment): a command line put in front of ppbroker, e.g.
 * "valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite". */

/* The standard config (listeners pp, plain and v2only on 127.0.0.1:0, admin API, json log,
 * debug level) plus `extra` lines; quirks is a NULL-terminated list of names (may be NULL). */
int bh_start(bh *h, const char *extra, const char *const *quirks);
/* Same with the whole config given (no standard listeners). */
int bh_start_config(bh *h, const char *config, const char *const *quirks);
/* SIGTERM and wait; returns the exit code (or -1 if it did not exit by itself). */
int bh_stop(bh *h);

/* GET path on the admin API into buf (NUL-terminated). Returns the HTTP status or -1. */
int bh_get(bh *h, const char *path, char *buf, size_t cap);
/* Poll GET path until body contains needle (or timeout_ms passes). 0 when found. */
int bh_wait_body(bh *h, const char *path, const char *needle, int timeout_ms, char *buf, size_t cap);
/* Poll /api/v1/connections until the connection from real_peer is in `state` ("proxy",
 * "mqtt") and, for "proxy", has received header_bytes bytes (-1 = any). 0 when seen. */
int bh_wait_conn(bh *h, const char *real_peer, const char *state, long long header_bytes, int timeout_ms);
/* The listener address named in the ready file. */
int bh_listener_address(bh *h, const char *name, char *out, size_t cap);

/* Path of the ppbroker binary. */
const char *bh_ppbroker(void);

#endif
