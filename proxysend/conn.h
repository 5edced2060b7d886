/* One client connection: non-blocking socket with deadlines, optional TLS started after the
 * cleartext header, every byte on the wire mirrored into --pcap-out. */
#ifndef PROXYSEND_CONN_H
#define PROXYSEND_CONN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "opts.h"
#include "pcap_out.h"

typedef struct ps_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    ps_pcap *pcap;
    pp_endpoint local, peer;
} ps_conn;

enum ps_read_status { PS_READ_DATA, PS_READ_FIN, PS_READ_RST, PS_READ_TIMEOUT, PS_READ_ERROR };

/* "host:port", "[v6]:port", "1.2.3.4:port". 0, or -1 with err. */
int ps_resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t cap);
/* Monotonic milliseconds. */
long long ps_now_ms(void);
void ps_sleep_ms(unsigned ms);

/* Connect to o->target (from o->bind if set) within o->timeout_ms; TCP_NODELAY set. */
int ps_conn_open(ps_conn *c, const ps_opts *o, char *err, size_t cap);
/* Start --pcap-out recording (after open, before the first write). */
int ps_conn_record(ps_conn *c, const char *path, char *err, size_t cap);
/* TLS client handshake over the connected socket (after the cleartext header). */
int ps_conn_tls_start(ps_conn *c, const ps_opts *o, char *err, size_t cap);
/* Write everything (through TLS when started) within timeout_ms. 0 or -1 (errno kept). */
int ps_conn_write_all(ps_conn *c, const uint8_t *p, size_t n, unsigned timeout_ms);
/* One read with a deadline; *got bytes on PS_READ_DATA. */
enum ps_read_status ps_conn_read(ps_conn *c, uint8_t *buf, size_t cap, long long deadline_ms, size_t *got);
void ps_conn_half_close(ps_conn *c);
void ps_conn_close(ps_conn *c);

#endif
