/* Send mode: build, deliver in the requested shape, report the outcome. */
#ifndef PROXYSEND_SEND_H
#define PROXYSEND_SEND_H

#include <stddef.h>

#include "opts.h"

/* Cut the cleartext stream [0, total) into write pieces. header_len is the length of one
 * header copy (copies counts --header-twice). Returns the number of pieces; ends[i] is the
 * end offset of piece i. */
size_t ps_plan_pieces(const ps_opts *o, size_t header_len, size_t copies, size_t total, size_t *ends,
                      size_t max);

/* The whole send mode (dry run included). Returns the exit status. */
int ps_send_main(const ps_opts *o);

#endif
