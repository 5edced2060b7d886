/* Header spec -> bytes: options, profiles (exact bytes of real senders) and malformations. */
#ifndef PROXYSEND_HEADER_H
#define PROXYSEND_HEADER_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "opts.h"

#define PS_HEADER_CAP (PP_V2_MAX_LEN + 64)

/* Build the header for one connection. sock_src/sock_dst are the real socket's local and
 * remote addresses (used where --src/--dst are absent). Returns the length (0 with
 * --no-header), or -1 with a message in err (exit status 2: the request cannot be built). */
ssize_t ps_header_build(const ps_opts *o, const pp_endpoint *sock_src, const pp_endpoint *sock_dst,
                        uint8_t *buf, size_t cap, char *err, size_t errcap);

/* Endpoint from a socket address (AF_INET, AF_INET6, AF_UNIX). */
void ps_endpoint_from_sockaddr(const struct sockaddr *sa, pp_endpoint *ep);

#endif
