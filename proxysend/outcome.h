/* What came back after sending, and whether it met --expect. */
#ifndef PROXYSEND_OUTCOME_H
#define PROXYSEND_OUTCOME_H

#include <stdbool.h>
#include <stdio.h>

#include "conn.h"
#include "mqtt_out.h"
#include "opts.h"

#define PS_OUTCOME_KEEP 65536 /* received bytes kept for the report */

typedef struct ps_outcome {
    uint8_t data[PS_OUTCOME_KEEP];
    size_t len;            /* bytes kept */
    size_t total;          /* bytes received */
    bool connack_seen;
    ps_connack connack;
    bool not_connack;      /* the first bytes were not a CONNACK */
    bool fin, rst, timeout, error;
    long long elapsed_ms;  /* from the end of sending to the outcome */
} ps_outcome;

/* Read until the expectation is decided, the peer closes, or o->timeout_ms passes. */
void ps_outcome_wait(ps_conn *c, const ps_opts *o, bool mqtt_sent, ps_outcome *out);
/* Whether the outcome meets o->expect (true when nothing was expected). */
bool ps_outcome_met(const ps_opts *o, const ps_outcome *out);
/* "connack=0", "close", ... for reports. */
void ps_expect_text(const ps_opts *o, char *buf, size_t cap);
/* Text lines, or the JSON members (without braces) for the sender's report. */
void ps_outcome_print(FILE *f, const ps_opts *o, const ps_outcome *out, bool json);

#endif
