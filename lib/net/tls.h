/* lib/net/tls.h: OpenSSL 3 wrappers for non-blocking TLS over an fd.
 *
 * A pn_tls_ctx is an SSL_CTX built from files, with errors a user can act on ("cannot read
 * key file /x/key.pem: No such file or directory", "key /x/key.pem does not match
 * certificate /x/cert.pem"). A pn_tls is one connection over an already connected
 * non-blocking fd: handshake, read and write return PN_TLS_WANT_READ / PN_TLS_WANT_WRITE so
 * the caller arms the loop for that event and calls again. The fd is not owned.
 *
 * pn_tls_get_info() gathers what PROXY v2 SSL TLVs carry (R-SSL-*): version, cipher, group,
 * ALPN, SNI, whether a client certificate was presented, the verify result and the
 * certificate's subject CN (a CN holding a NUL byte is refused, never truncated).
 *
 * Socket I/O goes through our own BIO: writes use MSG_NOSIGNAL (a reset peer is PN_TLS_RST,
 * never a SIGPIPE), and bytes already read from the fd (the start of a ClientHello that
 * arrived with a PROXY header) can be handed back with pn_tls_new_prefixed().
 */
#ifndef PN_TLS_H
#define PN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

typedef struct pn_tls_ctx pn_tls_ctx;
typedef struct pn_tls pn_tls;

/* Versions by name: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"; NULL = OpenSSL default. */
typedef struct pn_tls_server_opts {
    const char *cert_file;      /* PEM certificate (chain) — required */
    const char *key_file;       /* PEM private key — required */
    const char *ca_file;        /* PEM CAs that sign client certificates; NULL = none */
    bool require_client_cert;   /* fail the handshake without a valid client certificate */
    bool request_client_cert;   /* ask for one but accept its absence (verify result recorded) */
    const char *min_version;
    const char *max_version;
    const char *alpn;           /* comma list the server accepts, "mqtt,x-amzn-mqtt-ca"; NULL = no ALPN */
} pn_tls_server_opts;

typedef struct pn_tls_client_opts {
    const char *cert_file;      /* client certificate; NULL = none */
    const char *key_file;       /* its key (required with cert_file) */
    const char *ca_file;        /* CAs to verify the server with */
    bool verify_peer;           /* fail the handshake when the server cert does not verify */
    const char *sni;            /* default server_name for connections (pn_tls_new may override) */
    const char *alpn;           /* comma list offered, "mqtt" */
    const char *min_version;
    const char *max_version;
} pn_tls_client_opts;

/* NULL on failure with a one-line reason in err (err may be NULL). */
pn_tls_ctx *pn_tls_server_ctx_new(const pn_tls_server_opts *o, char *err, size_t errcap);
pn_tls_ctx *pn_tls_client_ctx_new(const pn_tls_client_opts *o, char *err, size_t errcap);
void pn_tls_ctx_free(pn_tls_ctx *ctx);
SSL_CTX *pn_tls_ctx_ssl(pn_tls_ctx *ctx); /* escape hatch for settings not wrapped here */
/* Parse "TLSv1.2" etc. into a TLS1_2_VERSION-style number; -1 when unknown. */
int pn_tls_version_from_name(const char *name);

typedef enum pn_tls_status {
    PN_TLS_OK = 0,
    PN_TLS_WANT_READ,   /* wait for PN_READABLE, then call again */
    PN_TLS_WANT_WRITE,  /* wait for PN_WRITABLE, then call again */
    PN_TLS_CLOSED,      /* read: peer sent close_notify */
    PN_TLS_EOF,         /* the TCP stream ended without close_notify (FIN) */
    PN_TLS_RST,         /* the TCP connection was reset */
    PN_TLS_ERROR,       /* protocol or verification failure: pn_tls_error() says what */
} pn_tls_status;

const char *pn_tls_status_name(pn_tls_status s);

/* One connection on connected fd. sni (client side only) overrides the ctx default;
 * NULL keeps it. NULL on failure with err set. */
pn_tls *pn_tls_new(pn_tls_ctx *ctx, int fd, const char *sni, char *err, size_t errcap);
/* Same, but TLS first consumes a copy of prefix (bytes the caller already read from fd,
 * e.g. what followed the PROXY header in the same read), then reads fd. At most
 * PN_TLS_PREFIX_MAX bytes. */
#define PN_TLS_PREFIX_MAX 65536
pn_tls *pn_tls_new_prefixed(pn_tls_ctx *ctx, int fd, const char *sni, const void *prefix,
                            size_t prefix_len, char *err, size_t errcap);
void pn_tls_free(pn_tls *t); /* does not close the fd */
SSL *pn_tls_ssl(pn_tls *t);

pn_tls_status pn_tls_handshake(pn_tls *t);
/* One read/write attempt; *n gets the count moved (> 0 only with PN_TLS_OK). */
pn_tls_status pn_tls_read(pn_tls *t, void *buf, size_t cap, size_t *n);
pn_tls_status pn_tls_write(pn_tls *t, const void *buf, size_t len, size_t *n);
/* Send close_notify (one attempt; WANT_* possible). */
pn_tls_status pn_tls_shutdown(pn_tls *t);
/* The last failure as text ("certificate verify failed: unable to get local issuer
 * certificate", "handshake: wrong version number"); "" when none. */
const char *pn_tls_error(const pn_tls *t);

#define PN_TLS_CN_MAX 256
#define PN_TLS_NAME_MAX 64

/* Subject CN of a certificate (as UTF-8) into out. 0 on success; -1 when there is no CN
 * (or cert is NULL); -2 when the CN is unusable: embedded NUL, more than one CN (ambiguous
 * identity), too long for out, or not convertible to UTF-8. */
int pn_tls_cert_cn(X509 *cert, char *out, size_t cap);

typedef struct pn_tls_info {
    char version[PN_TLS_NAME_MAX];   /* "TLSv1.3" */
    char cipher[PN_TLS_NAME_MAX];    /* "TLS_AES_256_GCM_SHA384" */
    char group[PN_TLS_NAME_MAX];     /* key-exchange group, "x25519"; "" when unknown */
    char alpn[PN_TLS_NAME_MAX];      /* negotiated protocol; "" when none */
    char sni[PN_TLS_CN_MAX];         /* server side: name the client sent; "" when none */
    bool peer_cert;                  /* the peer presented a certificate */
    long verify_result;              /* X509_V_OK (0) when it verified */
    char verify_text[128];           /* X509_verify_cert_error_string */
    int cn_status;                   /* pn_tls_cert_cn result for the peer cert (-1 if none) */
    char cn[PN_TLS_CN_MAX];          /* peer subject CN when cn_status == 0 */
    bool session_reused;
    /* Our own certificate on this connection (the frontend's, for a server), named the way
     * HAProxy fills SSL_SIG_ALG / SSL_KEY_ALG (R-SSL-10, R-SSL-11): "RSA-SHA256" or
     * "ecdsa-with-SHA256"; "RSA2048" or "EC256". "" when we presented no certificate. */
    char sig_alg[PN_TLS_NAME_MAX];
    char key_alg[PN_TLS_NAME_MAX];
} pn_tls_info;

/* Fill info after a completed handshake. */
void pn_tls_get_info(pn_tls *t, pn_tls_info *info);
/* Peer certificate in DER (PP2_SUBTYPE_SSL_CLIENT_CERT). Length, 0 when none, -1 when it
 * does not fit in cap. */
long pn_tls_peer_cert_der(pn_tls *t, uint8_t *out, size_t cap);

#endif
