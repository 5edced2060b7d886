/* lib/net/tls_bio.h: the socket BIO behind pn_tls (internal to lib/net; see tls_bio.c). */
#ifndef PN_TLS_BIO_H
#define PN_TLS_BIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>

#include "net/tls.h"

/* A BIO over fd that first returns a copy of prefix (at most PN_TLS_PREFIX_MAX bytes). */
BIO *pn_tls_bio_new(int fd, const void *prefix, size_t prefix_len);

#endif
