/* --listen: the receiving end for checking real senders (HAProxy, nginx, load balancers). */
#ifndef PROXYSEND_LISTEN_H
#define PROXYSEND_LISTEN_H

#include <stdio.h>

#include "check.h"
#include "opts.h"

/* One report per connection (text or a JSON line). */
void ps_listen_report(FILE *f, bool json, unsigned conn_id, const char *peer, const char *local,
                      const ps_check_input *in, const ps_check_result *r);
/* Runs until --count connections were reported (and forwarded), or SIGINT/SIGTERM.
 * Exit status: 0 when no connection had a FAIL finding, 1 otherwise, 2/3 setup errors. */
int ps_listen_main(const ps_opts *o);

#endif
