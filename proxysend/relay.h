/* --relay LISTEN --to BACKEND: a PROXY sender proxy for test chains without HAProxy. */
#ifndef PROXYSEND_RELAY_H
#define PROXYSEND_RELAY_H

#include "opts.h"

/* Accept, connect to the backend, write a header built from the client connection (its peer
 * as source, the address it reached as destination, plus --tlv/--profile/-1/-2), then pipe
 * both ways. Runs until --count connections have finished, or SIGINT/SIGTERM. */
int ps_relay_main(const ps_opts *o);

#endif
