/* OpenSSL 3 wrappers: see tls.h. */
#include "net/tls.h"
#include "net/tls_bio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

struct pn_tls_ctx {
    SSL_CTX *ctx;
    bool server;
    char sni[PN_TLS_CN_MAX];       /* client default server_name ("" = none) */
    bool verify_peer;              /* client: check the server name too */
    unsigned char alpn[256];       /* server: accepted protocols, wire format */
    size_t alpn_len;
};

struct pn_tls {
    SSL *ssl;
    char err[256];
};

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || errcap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/* The most specific queued OpenSSL reason ("" when the queue is empty); clears the queue. */
static const char *ssl_reason(char *buf, size_t cap)
{
    unsigned long e, last = 0;
    while ((e = ERR_get_error()) != 0)
        last = e;
    buf[0] = '\0';
    if (last) {
        const char *r = ERR_reason_error_string(last);
        if (r)
            snprintf(buf, cap, "%s", r);
        else
            ERR_error_string_n(last, buf, cap);
    }
    return buf;
}

int pn_tls_version_from_name(const char *name)
{
    static const struct {
        const char *name;
        int v;
    } map[] = {{"TLSv1", TLS1_VERSION}, {"TLSv1.0", TLS1_VERSION}, {"TLSv1.1", TLS1_1_VERSION},
               {"TLSv1.2", TLS1_2_VERSION}, {"TLSv1.3", TLS1_3_VERSION}};
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].v;
    return -1;
}

/* A readable file, or a message that says why not. OpenSSL's own text for a missing file
 * ("system lib") does not tell users much. */
static int check_readable(const char *what, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errcap, "cannot read %s %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* "mqtt,x-amzn-mqtt-ca" -> length-prefixed wire format. -1 on empty/oversized names. */
static int alpn_wire(const char *list, unsigned char *out, size_t cap, size_t *len)
{
    size_t o = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 0 || n > 255 || o + 1 + n > cap)
            return -1;
        out[o++] = (unsigned char)n;
        memcpy(out + o, p, n);
        o += n;
        p += n + (e ? 1 : 0);
        if (e && !*p)
            return -1;
    }
    *len = o;
    return o ? 0 : -1;
}

static int set_versions(SSL_CTX *ctx, const char *min, const char *max, char *err, size_t errcap)
{
    if (min) {
        int v = pn_tls_version_from_name(min);
        if (v < 0 || !SSL_CTX_set_min_proto_version(ctx, v)) {
            set_err(err, errcap, "unknown TLS version '%s' (use TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", min);
            return -1;
        }
    }
    if (max) {
        int v = pn_tls_version_from_name(max);
        if (v < 0 || !SSL_CTX_set_max_proto_version(ctx, v)) {
            set_err(err, errcap, "unknown TLS version '%s' (use TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", max);
            return -1;
        }
    }
    return 0;
}

static int load_cert_key(SSL_CTX *ctx, const char *cert, const char *key, char *err, size_t errcap)
{
    char why[200];
    if (check_readable("certificate file", cert, err, errcap) < 0 ||
        check_readable("key file", key, err, errcap) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        set_err(err, errcap, "bad certificate file %s: %s", cert, ssl_reason(why, sizeof why));
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_reason(why, sizeof why);
        /* OpenSSL compares key and certificate while loading: name that case plainly. */
        if (strstr(why, "values mismatch") || strstr(why, "mismatch"))
            set_err(err, errcap, "key %s does not match certificate %s", key, cert);
        else
            set_err(err, errcap, "bad key file %s: %s", key, why);
        return -1;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        set_err(err, errcap, "key %s does not match certificate %s", key, cert);
        return -1;
    }
    return 0;
}

static int load_ca(SSL_CTX *ctx, const char *ca, bool client_list, char *err, size_t errcap)
{
    char why[200];
    if (check_readable("CA file", ca, err, errcap) < 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        set_err(err, errcap, "bad CA file %s: %s", ca, ssl_reason(why, sizeof why));
        return -1;
    }
    if (client_list) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    }
    return 0;
}

/* "Request but don't require": keep the handshake going, the verify result is recorded. */
static int accept_any_cert(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    pn_tls_ctx *c = arg;
    unsigned char *sel;
    if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned int)c->alpn_len, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no overlap: continue without ALPN */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static pn_tls_ctx *ctx_alloc(bool server, char *err, size_t errcap)
{
    pn_tls_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        set_err(err, errcap, "out of memory");
        return NULL;
    }
    c->server = server;
    c->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!c->ctx) {
        char why[200];
        set_err(err, errcap, "SSL_CTX_new: %s", ssl_reason(why, sizeof why));
        free(c);
        return NULL;
    }
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return c;
}

pn_tls_ctx *pn_tls_server_ctx_new(const pn_tls_server_opts *o, char *err, size_t errcap)
{
    if (!o->cert_file || !o->key_file) {
        set_err(err, errcap, "a TLS listener needs a certificate file and a key file");
        return NULL;
    }
    if ((o->require_client_cert || o->request_client_cert) && !o->ca_file) {
        set_err(err, errcap, "client certificates need a CA file to verify them with");
        return NULL;
    }
    pn_tls_ctx *c = ctx_alloc(true, err, errcap);
    if (!c)
        return NULL;
    if (set_versions(c->ctx, o->min_version, o->max_version, err, errcap) < 0 ||
        load_cert_key(c->ctx, o->cert_file, o->key_file, err, errcap) < 0 ||
        (o->ca_file && load_ca(c->ctx, o->ca_file, true, err, errcap) < 0))
        goto fail;
    if (o->require_client_cert)
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    else if (o->request_client_cert)
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, accept_any_cert);
    else
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
    if (o->alpn) {
        if (alpn_wire(o->alpn, c->alpn, sizeof c->alpn, &c->alpn_len) < 0) {
            set_err(err, errcap, "bad ALPN list '%s'", o->alpn);
            goto fail;
        }
        SSL_CTX_set_alpn_select_cb(c->ctx, select_alpn, c);
    }
    return c;
fail:
    pn_tls_ctx_free(c);
    return NULL;
}

pn_tls_ctx *pn_tls_client_ctx_new(const pn_tls_client_opts *o, char *err, size_t errcap)
{
    if (o->cert_file && !o->key_file) {
        set_err(err, errcap, "a client certificate needs its key file");
        return NULL;
    }
    if (o->verify_peer && !o->ca_file) {
        set_err(err, errcap, "verifying the server needs a CA file");
        return NULL;
    }
    pn_tls_ctx *c = ctx_alloc(false, err, errcap);
    if (!c)
        return NULL;
    if (set_versions(c->ctx, o->min_version, o->max_version, err, errcap) < 0 ||
        (o->cert_file && load_cert_key(c->ctx, o->cert_file, o->key_file, err, errcap) < 0) ||
        (o->ca_file && load_ca(c->ctx, o->ca_file, false, err, errcap) < 0))
        goto fail;
    c->verify_peer = o->verify_peer;
    SSL_CTX_set_verify(c->ctx, o->verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    if (o->sni) {
        if (strlen(o->sni) >= sizeof c->sni) {
            set_err(err, errcap, "SNI name too long");
            goto fail;
        }
        snprintf(c->sni, sizeof c->sni, "%s", o->sni);
    }
    if (o->alpn) {
        unsigned char wire[256];
        size_t n;
        if (alpn_wire(o->alpn, wire, sizeof wire, &n) < 0 ||
            SSL_CTX_set_alpn_protos(c->ctx, wire, (unsigned int)n) != 0) {
            set_err(err, errcap, "bad ALPN list '%s'", o->alpn);
            goto fail;
        }
    }
    return c;
fail:
    pn_tls_ctx_free(c);
    return NULL;
}

void pn_tls_ctx_free(pn_tls_ctx *c)
{
    if (!c)
        return;
    SSL_CTX_free(c->ctx);
    free(c);
}

SSL_CTX *pn_tls_ctx_ssl(pn_tls_ctx *c)
{
    return c->ctx;
}

const char *pn_tls_status_name(pn_tls_status s)
{
    switch (s) {
    case PN_TLS_OK: return "ok";
    case PN_TLS_WANT_READ: return "want_read";
    case PN_TLS_WANT_WRITE: return "want_write";
    case PN_TLS_CLOSED: return "closed";
    case PN_TLS_EOF: return "eof";
    case PN_TLS_RST: return "rst";
    case PN_TLS_ERROR: return "error";
    }
    return "?";
}

static bool looks_like_ip(const char *s)
{
    unsigned char tmp[16];
    return inet_pton(AF_INET, s, tmp) == 1 || inet_pton(AF_INET6, s, tmp) == 1;
}

pn_tls *pn_tls_new(pn_tls_ctx *c, int fd, const char *sni, char *err, size_t errcap)
{
    return pn_tls_new_prefixed(c, fd, sni, NULL, 0, err, errcap);
}

pn_tls *pn_tls_new_prefixed(pn_tls_ctx *c, int fd, const char *sni, const void *prefix,
                            size_t prefix_len, char *err, size_t errcap)
{
    char why[200];
    if (prefix_len > PN_TLS_PREFIX_MAX) {
        set_err(err, errcap, "TLS prefix of %zu bytes is over %d", prefix_len, PN_TLS_PREFIX_MAX);
        return NULL;
    }
    pn_tls *t = calloc(1, sizeof *t);
    if (!t) {
        set_err(err, errcap, "out of memory");
        return NULL;
    }
    t->ssl = SSL_new(c->ctx);
    BIO *bio = t->ssl ? pn_tls_bio_new(fd, prefix, prefix_len) : NULL;
    if (!bio) {
        set_err(err, errcap, "SSL_new: %s", ssl_reason(why, sizeof why));
        pn_tls_free(t);
        return NULL;
    }
    SSL_set_bio(t->ssl, bio, bio);
    if (c->server) {
        SSL_set_accept_state(t->ssl);
        return t;
    }
    SSL_set_connect_state(t->ssl);
    const char *name = sni ? sni : (c->sni[0] ? c->sni : NULL);
    if (name && *name) {
        bool ip = looks_like_ip(name);
        /* SNI carries host names only (RFC 6066 §3); an IP is checked against the cert. */
        if (!ip && SSL_set_tlsext_host_name(t->ssl, name) != 1) {
            set_err(err, errcap, "bad SNI name '%s'", name);
            pn_tls_free(t);
            return NULL;
        }
        if (c->verify_peer) {
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(t->ssl), name)
                        : SSL_set1_host(t->ssl, name);
            if (ok != 1) {
                set_err(err, errcap, "cannot check server name '%s'", name);
                pn_tls_free(t);
                return NULL;
            }
        }
    }
    return t;
}

void pn_tls_free(pn_tls *t)
{
    if (!t)
        return;
    SSL_free(t->ssl);
    free(t);
}

SSL *pn_tls_ssl(pn_tls *t)
{
    return t->ssl;
}

const char *pn_tls_error(const pn_tls *t)
{
    return t->err;
}

/* Turn an SSL_* return value into a status, recording a reason for failures. */
static pn_tls_status classify(pn_tls *t, int ret, int saved_errno, const char *op)
{
    char why[200];
    int e = SSL_get_error(t->ssl, ret);
    switch (e) {
    case SSL_ERROR_WANT_READ: return PN_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return PN_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        snprintf(t->err, sizeof t->err, "%s: peer sent close_notify", op);
        return PN_TLS_CLOSED;
    case SSL_ERROR_SYSCALL:
        ssl_reason(why, sizeof why);
        if (saved_errno == ECONNRESET || saved_errno == EPIPE) {
            snprintf(t->err, sizeof t->err, "%s: connection reset", op);
            return PN_TLS_RST;
        }
        if (saved_errno == 0) {
            snprintf(t->err, sizeof t->err, "%s: connection closed without close_notify", op);
            return PN_TLS_EOF;
        }
        snprintf(t->err, sizeof t->err, "%s: %s", op, strerror(saved_errno));
        return PN_TLS_ERROR;
    case SSL_ERROR_SSL: {
        unsigned long last = 0, x;
        while ((x = ERR_peek_error()) != 0) {
            last = x;
            ERR_get_error();
        }
        if (ERR_GET_REASON(last) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            snprintf(t->err, sizeof t->err, "%s: connection closed without close_notify", op);
            return PN_TLS_EOF;
        }
        long vr = SSL_get_verify_result(t->ssl);
        const char *r = last ? ERR_reason_error_string(last) : NULL;
        if (vr != X509_V_OK && ERR_GET_REASON(last) == SSL_R_CERTIFICATE_VERIFY_FAILED)
            snprintf(t->err, sizeof t->err, "%s: certificate verify failed: %s", op,
                     X509_verify_cert_error_string(vr));
        else
            snprintf(t->err, sizeof t->err, "%s: %s", op, r ? r : "protocol error");
        return PN_TLS_ERROR;
    }
    default:
        ssl_reason(why, sizeof why);
        snprintf(t->err, sizeof t->err, "%s: %s", op, why[0] ? why : "unexpected failure");
        return PN_TLS_ERROR;
    }
}

pn_tls_status pn_tls_handshake(pn_tls *t)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_do_handshake(t->ssl);
    if (r == 1)
        return PN_TLS_OK;
    return classify(t, r, errno, "handshake");
}

pn_tls_status pn_tls_read(pn_tls *t, void *buf, size_t cap, size_t *n)
{
    *n = 0;
    ERR_clear_error();
    errno = 0;
    int r = SSL_read_ex(t->ssl, buf, cap, n);
    if (r == 1)
        return PN_TLS_OK;
    *n = 0;
    return classify(t, r, errno, "read");
}

pn_tls_status pn_tls_write(pn_tls *t, const void *buf, size_t len, size_t *n)
{
    *n = 0;
    if (len == 0)
        return PN_TLS_OK;
    ERR_clear_error();
    errno = 0;
    int r = SSL_write_ex(t->ssl, buf, len, n);
    if (r == 1)
        return PN_TLS_OK;
    *n = 0;
    return classify(t, r, errno, "write");
}

pn_tls_status pn_tls_shutdown(pn_tls *t)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_shutdown(t->ssl);
    if (r >= 0)
        return PN_TLS_OK; /* 0: our close_notify is out, the peer's has not arrived: fine */
    return classify(t, r, errno, "shutdown");
}

int pn_tls_cert_cn(X509 *cert, char *out, size_t cap)
{
    if (cap)
        out[0] = '\0';
    if (!cert)
        return -1;
    X509_NAME *subj = X509_get_subject_name(cert);
    int idx = subj ? X509_NAME_get_index_by_NID(subj, NID_commonName, -1) : -1;
    if (idx < 0)
        return -1;
    /* Two CNs make the identity ambiguous: refuse rather than pick one. */
    if (X509_NAME_get_index_by_NID(subj, NID_commonName, idx) >= 0)
        return -2;
    ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
    unsigned char *utf8 = NULL;
    int len = s ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
    if (len < 0)
        return -2;
    int rc = 0;
    if (memchr(utf8, '\0', (size_t)len) || (size_t)len >= cap)
        rc = -2; /* a NUL would truncate "admin\0.evil" to "admin" */
    else {
        memcpy(out, utf8, (size_t)len);
        out[len] = '\0';
    }
    OPENSSL_free(utf8);
    return rc;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* "RSA2048", "EC256", else the key type's short name ("ED25519"). */
static void key_alg_name(EVP_PKEY *key, char *out, size_t cap)
{
    int type = EVP_PKEY_get_base_id(key);
    int bits = EVP_PKEY_get_bits(key);
    if (type == EVP_PKEY_RSA)
        snprintf(out, cap, "RSA%d", bits);
    else if (type == EVP_PKEY_EC)
        snprintf(out, cap, "EC%d", bits);
    else if (type == EVP_PKEY_DSA)
        snprintf(out, cap, "DSA%d", bits);
    else
        copy_name(out, cap, OBJ_nid2sn(type));
}

void pn_tls_get_info(pn_tls *t, pn_tls_info *info)
{
    memset(info, 0, sizeof *info);
    SSL *ssl = t->ssl;
    copy_name(info->version, sizeof info->version, SSL_get_version(ssl));
    const SSL_CIPHER *cipher = SSL_get_current_cipher(ssl);
    copy_name(info->cipher, sizeof info->cipher, cipher ? SSL_CIPHER_get_name(cipher) : NULL);
    int group = SSL_get_negotiated_group(ssl);
    copy_name(info->group, sizeof info->group, group > 0 ? SSL_group_to_name(ssl, group) : NULL);
    const unsigned char *alpn = NULL;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
    if (alpn && alpn_len < sizeof info->alpn) {
        memcpy(info->alpn, alpn, alpn_len);
        info->alpn[alpn_len] = '\0';
    }
    copy_name(info->sni, sizeof info->sni, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
    X509 *peer = SSL_get0_peer_certificate(ssl);
    info->peer_cert = peer != NULL;
    info->verify_result = SSL_get_verify_result(ssl);
    copy_name(info->verify_text, sizeof info->verify_text, X509_verify_cert_error_string(info->verify_result));
    info->cn_status = pn_tls_cert_cn(peer, info->cn, sizeof info->cn);
    info->session_reused = SSL_session_reused(ssl) == 1;
    X509 *own = SSL_get_certificate(ssl);
    if (own) {
        int sig = X509_get_signature_nid(own);
        copy_name(info->sig_alg, sizeof info->sig_alg, sig != NID_undef ? OBJ_nid2sn(sig) : NULL);
        EVP_PKEY *pub = X509_get0_pubkey(own);
        if (pub)
            key_alg_name(pub, info->key_alg, sizeof info->key_alg);
    }
}

long pn_tls_peer_cert_der(pn_tls *t, uint8_t *out, size_t cap)
{
    X509 *peer = SSL_get0_peer_certificate(t->ssl);
    if (!peer)
        return 0;
    int n = i2d_X509(peer, NULL);
    if (n <= 0 || (size_t)n > cap)
        return -1;
    unsigned char *p = out;
    i2d_X509(peer, &p);
    return n;
}
