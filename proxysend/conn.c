/* Client socket (lib/net), TLS (OpenSSL, started after the cleartext header) and capture
 * mirroring for proxysend's send mode. */
#include "conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "header.h"
#include "net/sock.h"

long long ps_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ps_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

int ps_resolve(const char *hostport, struct sockaddr_storage *ss, socklen_t *len, char *err, size_t cap)
{
    char host[256];
    const char *port;
    if (hostport[0] == '[') {
        const char *close = strchr(hostport, ']');
        if (!close || close[1] != ':' || (size_t)(close - hostport - 1) >= sizeof host)
            goto bad;
        memcpy(host, hostport + 1, (size_t)(close - hostport - 1));
        host[close - hostport - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(hostport, ':');
        if (!colon || (size_t)(colon - hostport) >= sizeof host || strchr(hostport, ':') != colon)
            goto bad;
        memcpy(host, hostport, (size_t)(colon - hostport));
        host[colon - hostport] = '\0';
        port = colon + 1;
    }
    if (!*port || strspn(port, "0123456789") != strlen(port) || atol(port) > 65535)
        goto bad;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    int rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
    if (rc) {
        snprintf(err, cap, "'%s': %s", hostport, gai_strerror(rc));
        return -1;
    }
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
bad:
    snprintf(err, cap, "'%s': expected HOST:PORT or [IPv6]:PORT", hostport);
    return -1;
}

static int wait_fd(int fd, short events, long long deadline_ms)
{
    for (;;) {
        long long left = deadline_ms - ps_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = fd, .events = events};
        int rc = poll(&p, 1, (int)left);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* --bind IP or IP:PORT ([IPv6] or a bare IPv6 address too) */
static int parse_bind(const char *text, pn_addr *out)
{
    if (pn_addr_parse(text, out) == 0)
        return 0;
    return pn_addr_from_ip(text, 0, out);
}

int ps_conn_open(ps_conn *c, const ps_opts *o, char *err, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl;
    char e2[256];
    pn_addr dst, src;
    if (ps_resolve(o->target, &ss, &sl, e2, sizeof e2) || pn_addr_from_sockaddr((struct sockaddr *)&ss, sl, &dst)) {
        snprintf(err, cap, "target %s", e2);
        return -1;
    }
    if (o->bind && parse_bind(o->bind, &src)) {
        snprintf(err, cap, "--bind '%s': expected IP or IP:PORT", o->bind);
        return -1;
    }
    bool pending;
    c->fd = pn_connect(&dst, o->bind ? &src : NULL, &pending, e2, sizeof e2);
    if (c->fd < 0) {
        snprintf(err, cap, "%s", e2);
        return -1;
    }
    pn_set_nodelay(c->fd, true); /* splits become real segments */
    if (pending) {
        int w = wait_fd(c->fd, POLLOUT, ps_now_ms() + o->timeout_ms);
        int soerr = w > 0 ? pn_connect_result(c->fd) : 0;
        if (w <= 0 || soerr) {
            snprintf(err, cap, "connect to %s: %s", o->target, w == 0 ? "timed out" : strerror(soerr ? soerr : errno));
            return -1;
        }
    }
    pn_addr a;
    pn_local_addr(c->fd, &a);
    ps_endpoint_from_sockaddr(pn_addr_sa(&a), &c->local);
    pn_peer_addr(c->fd, &a);
    ps_endpoint_from_sockaddr(pn_addr_sa(&a), &c->peer);
    return 0;
}

int ps_conn_record(ps_conn *c, const char *path, char *err, size_t cap)
{
    c->pcap = ps_pcap_open(path, &c->local, &c->peer, err, cap);
    return c->pcap ? 0 : -1;
}

/* Mirror the TLS records (ciphertext, as on the wire) into the capture. */
static long tls_bio_cb(BIO *b, int oper, const char *argp, size_t len, int argi, long argl, int ret,
                       size_t *processed)
{
    (void)len, (void)argi, (void)argl;
    ps_conn *c = (ps_conn *)BIO_get_callback_arg(b);
    if (c && c->pcap && ret > 0 && processed && *processed > 0) {
        if (oper == (BIO_CB_WRITE | BIO_CB_RETURN))
            ps_pcap_data(c->pcap, true, (const uint8_t *)argp, *processed);
        else if (oper == (BIO_CB_READ | BIO_CB_RETURN))
            ps_pcap_data(c->pcap, false, (const uint8_t *)argp, *processed);
    }
    return ret;
}

static void ssl_error_text(char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    if (e)
        ERR_error_string_n(e, out, cap);
    else
        snprintf(out, cap, "handshake failed (%s)", errno ? strerror(errno) : "peer closed");
}

int ps_conn_tls_start(ps_conn *c, const ps_opts *o, char *err, size_t cap)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx) {
        snprintf(err, cap, "TLS: cannot create a context");
        return -1;
    }
    if (o->cafile) {
        if (SSL_CTX_load_verify_locations(c->ctx, o->cafile, NULL) != 1) {
            snprintf(err, cap, "--cafile '%s': cannot load", o->cafile);
            return -1;
        }
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL); /* a test tool: verify only when asked */
    }
    if (o->cert) {
        if (SSL_CTX_use_certificate_chain_file(c->ctx, o->cert) != 1) {
            snprintf(err, cap, "--cert '%s': cannot load", o->cert);
            return -1;
        }
        if (SSL_CTX_use_PrivateKey_file(c->ctx, o->key, SSL_FILETYPE_PEM) != 1) {
            snprintf(err, cap, "--key '%s': cannot load (or does not match --cert)", o->key);
            return -1;
        }
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    if (o->sni)
        SSL_set_tlsext_host_name(c->ssl, o->sni);
    if (o->alpn) {
        size_t n = strlen(o->alpn);
        if (n == 0 || n > 255) {
            snprintf(err, cap, "--alpn '%s': 1-255 bytes", o->alpn);
            return -1;
        }
        unsigned char wire[256];
        wire[0] = (unsigned char)n;
        memcpy(wire + 1, o->alpn, n);
        SSL_set_alpn_protos(c->ssl, wire, (unsigned)n + 1);
    }
    BIO *bio = SSL_get_rbio(c->ssl);
    BIO_set_callback_arg(bio, (char *)c);
    BIO_set_callback_ex(bio, tls_bio_cb);
    long long deadline = ps_now_ms() + o->timeout_ms;
    for (;;) {
        errno = 0;
        int rc = SSL_connect(c->ssl);
        if (rc == 1)
            return 0;
        int e = SSL_get_error(c->ssl, rc);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev) {
            char t[256];
            ssl_error_text(t, sizeof t);
            snprintf(err, cap, "TLS handshake with %s: %s", o->target, t);
            return -1;
        }
        if (wait_fd(c->fd, ev, deadline) <= 0) {
            snprintf(err, cap, "TLS handshake with %s: timed out", o->target);
            return -1;
        }
    }
}

int ps_conn_write_all(ps_conn *c, const uint8_t *p, size_t n, unsigned timeout_ms)
{
    long long deadline = ps_now_ms() + timeout_ms;
    while (n) {
        ssize_t w;
        short ev = POLLOUT;
        if (c->ssl) {
            int rc = SSL_write(c->ssl, p, n > 16384 ? 16384 : (int)n);
            if (rc > 0) {
                w = rc;
            } else {
                int e = SSL_get_error(c->ssl, rc);
                if (e == SSL_ERROR_WANT_READ) ev = POLLIN;
                else if (e != SSL_ERROR_WANT_WRITE) { errno = errno ? errno : EPIPE; return -1; }
                w = -1;
                errno = EAGAIN;
            }
        } else {
            size_t sent;
            pn_io io = pn_send(c->fd, p, n, &sent);
            w = io == PN_IO_OK ? (ssize_t)sent : -1;
            if (w > 0)
                ps_pcap_data(c->pcap, true, p, sent);
            else if (io == PN_IO_RST)
                errno = errno == EPIPE ? EPIPE : ECONNRESET;
            else if (io == PN_IO_AGAIN)
                errno = EAGAIN;
        }
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (wait_fd(c->fd, ev, deadline) <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

enum ps_read_status ps_conn_read(ps_conn *c, uint8_t *buf, size_t cap, long long deadline_ms, size_t *got)
{
    *got = 0;
    for (;;) {
        if (c->ssl) {
            int rc = SSL_read(c->ssl, buf, (int)cap);
            if (rc > 0) {
                *got = (size_t)rc;
                return PS_READ_DATA;
            }
            int e = SSL_get_error(c->ssl, rc);
            if (e == SSL_ERROR_ZERO_RETURN) {
                ps_pcap_fin(c->pcap, false);
                return PS_READ_FIN;
            }
            if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL) {
                if (errno == ECONNRESET) {
                    ps_pcap_rst(c->pcap, false);
                    return PS_READ_RST;
                }
                ps_pcap_fin(c->pcap, false); /* EOF without close_notify */
                return PS_READ_FIN;
            }
        } else {
            size_t n;
            pn_io io = pn_recv(c->fd, buf, cap, &n);
            if (io == PN_IO_OK) {
                *got = n;
                ps_pcap_data(c->pcap, false, buf, n);
                return PS_READ_DATA;
            }
            if (io == PN_IO_FIN) {
                ps_pcap_fin(c->pcap, false);
                return PS_READ_FIN;
            }
            if (io == PN_IO_RST) {
                ps_pcap_rst(c->pcap, false);
                return PS_READ_RST;
            }
            if (io == PN_IO_ERROR)
                return PS_READ_ERROR;
        }
        int w = wait_fd(c->fd, POLLIN, deadline_ms);
        if (w == 0)
            return PS_READ_TIMEOUT;
        if (w < 0)
            return PS_READ_ERROR;
    }
}

void ps_conn_half_close(ps_conn *c)
{
    pn_shutdown_write(c->fd);
    ps_pcap_fin(c->pcap, true);
}

void ps_conn_close(ps_conn *c)
{
    if (c->ssl)
        SSL_free(c->ssl);
    if (c->ctx)
        SSL_CTX_free(c->ctx);
    if (c->fd >= 0)
        close(c->fd);
    ps_pcap_close(c->pcap);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}
