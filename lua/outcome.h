/* lua/outcome.h: typed connection outcomes and how they are judged.
 *
 * Reading a socket ends in one of: data, a clean close (FIN), a reset (RST), our own
 * deadline (timeout), or another error. Expectations about a close name which kinds they
 * accept and what may come before it (R-GEN-11: a PROXY listener must not answer before a
 * valid header, so "close with no data first" is the usual rejection shape). */
#ifndef PC_OUTCOME_H
#define PC_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pc_end {
    PC_END_NONE = 0, /* still open, nothing happened yet */
    PC_END_DATA,     /* bytes arrived (the connection is still open) */
    PC_END_FIN,
    PC_END_RST,
    PC_END_TIMEOUT,  /* our deadline passed with the connection open */
    PC_END_ERROR,
} pc_end;

const char *pc_end_name(pc_end e);           /* "none" "data" "fin" "rst" "timeout" "error" */
int pc_end_from_name(const char *name);      /* -1 when unknown */

/* Map a read's result (lib/net pn_io values) to an end kind; errno for PN_IO_ERROR.
 * ECONNRESET/EPIPE are resets; ETIMEDOUT (keepalive/retransmit give-up) is an error. */
pc_end pc_end_from_io(int pn_io_value, int err);

enum pc_data_rule { PC_DATA_ALLOW = 0, PC_DATA_FORBID, PC_DATA_REQUIRE };
int pc_data_rule_from_name(const char *name); /* "allow" "forbid" "require"; -1 */

typedef struct pc_close_expect {
    unsigned accept;        /* bit (1 << PC_END_FIN) | (1 << PC_END_RST); 0 = FIN or RST */
    int data_rule;          /* enum pc_data_rule */
} pc_close_expect;

/* What a close wait observed: how the connection ended and how many bytes came first. */
typedef struct pc_observed {
    pc_end end;
    size_t bytes_before;
} pc_observed;

/* true when obs meets exp. On false, why holds a one-line reason. expected (may be NULL)
 * gets the expectation in words ("close (fin or rst), no data before it"). */
bool pc_close_judge(const pc_close_expect *exp, const pc_observed *obs, char *why, size_t whycap,
                    char *expected, size_t expcap);
/* "fin after 4 bytes", "rst", "timeout (still open)", "fin" */
void pc_observed_describe(const pc_observed *obs, char *out, size_t cap);

#endif
