/* --listen's judge: strict decoding of a received header plus the sender-side checks, each
 * finding tied to a requirement ID. Pure (no I/O), so it is unit-tested with byte vectors. */
#ifndef PROXYSEND_CHECK_H
#define PROXYSEND_CHECK_H

#include <stdbool.h>
#include <stdio.h>

#include "proxy/proxy.h"

#define PS_MAX_FINDINGS 16

enum ps_severity { PS_SEV_INFO, PS_SEV_WARN, PS_SEV_FAIL };

typedef struct ps_finding {
    enum ps_severity severity;
    const char *id;        /* primary requirement ID, e.g. "R-GEN-09" */
    const char *refs;      /* all IDs, comma-separated */
    const char *name;      /* stable finding name, e.g. "sender.split_header" */
    char message[256];
} ps_finding;

/* How reading ended. */
enum ps_read_end { PS_END_COMPLETE, PS_END_INVALID, PS_END_EOF, PS_END_TIMEOUT, PS_END_TOO_LARGE };

typedef struct ps_check_input {
    const uint8_t *buf;    /* everything received so far */
    size_t len;
    size_t first_read;     /* bytes in the first read */
    unsigned reads;        /* reads until the header was complete (or reading stopped) */
    enum ps_read_end end;
} ps_check_input;

typedef struct ps_check_result {
    ssize_t rc;            /* strict pp_parse result: header length, or a PP_ERR_* */
    pp_header hdr;         /* valid when rc > 0 */
    pp_header lenient;     /* fields for reports when strict parsing failed */
    bool lenient_ok;
    ps_finding findings[PS_MAX_FINDINGS];
    size_t nfindings;
    size_t fails, warns;
} ps_check_result;

void ps_check(const ps_check_input *in, ps_check_result *r);
/* The first finding with this name, or NULL. */
const ps_finding *ps_check_find(const ps_check_result *r, const char *name);
const char *ps_severity_name(enum ps_severity s);

#endif
