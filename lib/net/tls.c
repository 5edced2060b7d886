/* TLS wrappers: skeleton, implementation follows. */
#include "net/tls.h"
#define U(x) (void)(x)
pn_tls_ctx *pn_tls_server_ctx_new(const pn_tls_server_opts *o, char *err, size_t errcap) { U(o); U(err); U(errcap); return 0; }
pn_tls_ctx *pn_tls_client_ctx_new(const pn_tls_client_opts *o, char *err, size_t errcap) { U(o); U(err); U(errcap); return 0; }
void pn_tls_ctx_free(pn_tls_ctx *ctx) { U(ctx); }
SSL_CTX *pn_tls_ctx_ssl(pn_tls_ctx *ctx) { U(ctx); return 0; }
int pn_tls_version_from_name(const char *name) { U(name); return -1; }
const char *pn_tls_status_name(pn_tls_status s) { U(s); return "?"; }
pn_tls *pn_tls_new(pn_tls_ctx *ctx, int fd, const char *sni, char *err, size_t errcap) { U(ctx); U(fd); U(sni); U(err); U(errcap); return 0; }
void pn_tls_free(pn_tls *t) { U(t); }
SSL *pn_tls_ssl(pn_tls *t) { U(t); return 0; }
pn_tls_status pn_tls_handshake(pn_tls *t) { U(t); return PN_TLS_ERROR; }
pn_tls_status pn_tls_read(pn_tls *t, void *buf, size_t cap, size_t *n) { U(t); U(buf); U(cap); *n = 0; return PN_TLS_ERROR; }
pn_tls_status pn_tls_write(pn_tls *t, const void *buf, size_t len, size_t *n) { U(t); U(buf); U(len); *n = 0; return PN_TLS_ERROR; }
pn_tls_status pn_tls_shutdown(pn_tls *t) { U(t); return PN_TLS_ERROR; }
const char *pn_tls_error(const pn_tls *t) { U(t); return ""; }
int pn_tls_cert_cn(X509 *cert, char *out, size_t cap) { U(cert); U(out); U(cap); return -1; }
void pn_tls_get_info(pn_tls *t, pn_tls_info *info) { U(t); U(info); }
long pn_tls_peer_cert_der(pn_tls *t, uint8_t *out, size_t cap) { U(t); U(out); U(cap); return 0; }
