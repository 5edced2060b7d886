/* The bytes after the header: MQTT packets, hex, a file, stdin, in command-line order. */
#ifndef PROXYSEND_PAYLOAD_H
#define PROXYSEND_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "opts.h"

#define PS_PAYLOAD_MAX (16u << 20) /* 16 MiB bound for --file / --stdin */

/* Builds the payload into a malloc'd buffer (*out may be NULL when empty). 0, or -1 with err. */
int ps_payload_build(const ps_opts *o, uint8_t **out, size_t *len, char *err, size_t errcap);

#endif
