/* lib/net/tls: handshakes over loopback driven by pn_loop, with certificates made at test
 * time (a CA, server and client leaves, a CN with a NUL byte, and a second unrelated CA).
 * Covers the facts PROXY v2 SSL TLVs carry (R-SSL-02 verify, R-SSL-05 version, CN) and the
 * errors an operator must be able to read. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "net/tls.h"
#include "test_net_helpers.h"

#include <sys/stat.h>

#include "support.h" /* ts_pki_make: throwaway CA and leaf certificates */

static char dir[256];

static void path(char *out, size_t cap, const char *sub, const char *file)
{
    snprintf(out, cap, "%s/%s/%s", dir, sub, file);
}

static int setup(void **state)
{
    (void)state;
    char a[300], b[300];
    if (ts_tmpdir("tls", dir, sizeof dir) < 0)
        return -1;
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    if (mkdir(a, 0700) < 0 || mkdir(b, 0700) < 0)
        return -1;
    const ts_leaf leaves_a[] = {
        {.name = "server", .cn = "localhost", .is_server = true},
        {.name = "client", .cn = "device-42"},
        {.name = "nulcn", .cn = "admin\0.evil.example", .cn_len = 19},
    };
    const ts_leaf leaves_b[] = {{.name = "client", .cn = "intruder"},
                                {.name = "server", .cn = "localhost", .is_server = true}};
    if (ts_pki_make(a, "Test CA A", leaves_a, 3) < 0 || ts_pki_make(b, "Other CA B", leaves_b, 2) < 0) {
        print_error("pki: %s\n", ts_last_error());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return ts_rmtree(dir);
}

/* ---- contexts ---- */

struct files {
    char ca[400], srv_cert[400], srv_key[400], cli_cert[400], cli_key[400];
};

static void files_for(struct files *f, const char *ca_dir, const char *srv_dir, const char *cli_dir,
                      const char *cli_stem)
{
    char stem[64];
    path(f->ca, sizeof f->ca, ca_dir, "ca.pem");
    path(f->srv_cert, sizeof f->srv_cert, srv_dir, "server.pem");
    path(f->srv_key, sizeof f->srv_key, srv_dir, "server.key");
    snprintf(stem, sizeof stem, "%s.pem", cli_stem);
    path(f->cli_cert, sizeof f->cli_cert, cli_dir, stem);
    snprintf(stem, sizeof stem, "%s.key", cli_stem);
    path(f->cli_key, sizeof f->cli_key, cli_dir, stem);
}

/* ---- a handshake driven by the loop ---- */

struct side {
    pn_tls *tls;
    int fd;
    pn_tls_status st;
    bool done;
};

static void step(pn_loop *l, int fd, int events, void *udata)
{
    (void)events;
    struct side *s = udata;
    s->st = pn_tls_handshake(s->tls);
    if (s->st == PN_TLS_WANT_READ)
        pn_loop_modify(l, fd, PN_READABLE);
    else if (s->st == PN_TLS_WANT_WRITE)
        pn_loop_modify(l, fd, PN_WRITABLE);
    else {
        s->done = true;
        pn_loop_unwatch(l, fd);
        if (s->st != PN_TLS_OK)
            shutdown(fd, SHUT_RDWR); /* let the other side see the end instead of waiting */
    }
}

/* Connect a client and server over loopback and run both handshakes to the end. */
static void handshake(pn_tls_ctx *cctx, pn_tls_ctx *sctx, const char *sni, struct side *cli, struct side *srv)
{
    char err[256];
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &cli->fd, &srv->fd, NULL), 0);
    cli->tls = pn_tls_new(cctx, cli->fd, sni, err, sizeof err);
    srv->tls = pn_tls_new(sctx, srv->fd, NULL, err, sizeof err);
    assert_non_null(cli->tls);
    assert_non_null(srv->tls);
    cli->done = srv->done = false;
    pn_loop *l = pn_loop_new(8);
    assert_int_equal(pn_loop_watch(l, cli->fd, PN_WRITABLE, step, cli), 0);
    assert_int_equal(pn_loop_watch(l, srv->fd, PN_READABLE, step, srv), 0);
    uint64_t deadline = pn_now_ms() + WAIT_MS;
    while (!(cli->done && srv->done) && pn_now_ms() < deadline)
        assert_true(pn_loop_run_once(l, 100) >= 0);
    pn_loop_free(l);
    assert_true(cli->done && srv->done);
}

static void finish(struct side *cli, struct side *srv)
{
    pn_tls_free(cli->tls);
    pn_tls_free(srv->tls);
    close(cli->fd);
    close(srv->fd);
}

/* Read with the deadline until data or an end. */
static pn_tls_status read_some(struct side *s, char *buf, size_t cap, size_t *n)
{
    for (;;) {
        pn_tls_status st = pn_tls_read(s->tls, buf, cap, n);
        if (st == PN_TLS_WANT_READ && wait_ready(s->fd, POLLIN, WAIT_MS))
            continue;
        if (st == PN_TLS_WANT_WRITE && wait_ready(s->fd, POLLOUT, WAIT_MS))
            continue;
        return st;
    }
}

static void test_R_SSL_05_mutual_tls_info_alpn_sni_cn(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key, .ca_file = f.ca,
                             .require_client_cert = true, .min_version = "TLSv1.2", .alpn = "mqtt,x-amzn-mqtt-ca"};
    pn_tls_client_opts co = {.cert_file = f.cli_cert, .key_file = f.cli_key, .ca_file = f.ca,
                             .verify_peer = true, .alpn = "mqtt"};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    assert_non_null(sctx);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    assert_non_null(cctx);
    struct side cli, srv;
    handshake(cctx, sctx, "localhost", &cli, &srv);
    assert_int_equal(cli.st, PN_TLS_OK);
    assert_int_equal(srv.st, PN_TLS_OK);

    pn_tls_info si, ci;
    pn_tls_get_info(srv.tls, &si);
    pn_tls_get_info(cli.tls, &ci);
    assert_string_equal(si.version, "TLSv1.3");
    assert_true(si.cipher[0] != '\0');
    assert_string_equal(si.cipher, ci.cipher);
    assert_true(si.group[0] != '\0');
    assert_string_equal(si.alpn, "mqtt");
    assert_string_equal(ci.alpn, "mqtt");
    assert_string_equal(si.sni, "localhost");
    assert_true(si.peer_cert);
    assert_int_equal(si.verify_result, 0);
    assert_int_equal(si.cn_status, 0);
    assert_string_equal(si.cn, "device-42");
    assert_int_equal(ci.cn_status, 0);
    assert_string_equal(ci.cn, "localhost");
    /* the frontend certificate as HAProxy names it (R-SSL-10, R-SSL-11): P-256, ECDSA-SHA256 */
    assert_string_equal(si.sig_alg, "ecdsa-with-SHA256");
    assert_string_equal(si.key_alg, "EC256");
    uint8_t der[4096];
    long n = pn_tls_peer_cert_der(srv.tls, der, sizeof der);
    assert_true(n > 100);
    assert_int_equal(der[0], 0x30); /* a DER SEQUENCE */
    assert_int_equal(pn_tls_peer_cert_der(srv.tls, der, 10), -1);

    /* application data both ways, then close_notify */
    size_t k;
    char buf[32];
    assert_int_equal(pn_tls_write(cli.tls, "PING", 4, &k), PN_TLS_OK);
    assert_int_equal(k, 4);
    assert_int_equal(read_some(&srv, buf, sizeof buf, &k), PN_TLS_OK);
    assert_memory_equal(buf, "PING", 4);
    assert_int_equal(pn_tls_write(srv.tls, "PONG", 4, &k), PN_TLS_OK);
    assert_int_equal(read_some(&cli, buf, sizeof buf, &k), PN_TLS_OK);
    assert_memory_equal(buf, "PONG", 4);
    assert_int_equal(pn_tls_shutdown(cli.tls), PN_TLS_OK);
    assert_int_equal(read_some(&srv, buf, sizeof buf, &k), PN_TLS_CLOSED);
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_R_SSL_02_client_cert_from_other_ca(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "b", "client"); /* client cert signed by CA B, server trusts A */
    pn_tls_client_opts co = {.cert_file = f.cli_cert, .key_file = f.cli_key};
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    assert_non_null(cctx);
    struct side cli, srv;

    /* required: the server refuses the handshake and says why */
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key, .ca_file = f.ca, .require_client_cert = true};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    assert_non_null(sctx);
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_ERROR);
    assert_string_equal(pn_tls_error(srv.tls), "handshake: certificate verify failed: unable to get local issuer certificate");
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);

    /* requested only: the handshake completes and the verify result is non-zero (R-SSL-02) */
    so.require_client_cert = false;
    so.request_client_cert = true;
    sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_OK);
    pn_tls_info si;
    pn_tls_get_info(srv.tls, &si);
    assert_true(si.peer_cert);
    assert_true(si.verify_result != 0);
    assert_non_null(strstr(si.verify_text, "unable to")); /* "... local issuer" / "... first certificate" */
    assert_string_equal(si.cn, "intruder");
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_required_client_cert_missing(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key, .ca_file = f.ca, .require_client_cert = true};
    pn_tls_client_opts co = {0};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    struct side cli, srv;
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_ERROR);
    assert_non_null(strstr(pn_tls_error(srv.tls), "certificate"));
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_client_verifies_server_ca_and_name(void **state)
{
    (void)state;
    struct files good, other;
    char err[256];
    files_for(&good, "a", "a", "a", "client");
    files_for(&other, "b", "a", "a", "client"); /* client trusts only CA B */
    pn_tls_server_opts so = {.cert_file = good.srv_cert, .key_file = good.srv_key};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    struct side cli, srv;

    pn_tls_client_opts co = {.ca_file = other.ca, .verify_peer = true};
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    handshake(cctx, sctx, "localhost", &cli, &srv);
    assert_int_equal(cli.st, PN_TLS_ERROR);
    assert_string_equal(pn_tls_error(cli.tls), "handshake: certificate verify failed: unable to get local issuer certificate");
    finish(&cli, &srv);
    pn_tls_ctx_free(cctx);

    co.ca_file = good.ca; /* right CA, wrong name */
    cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    handshake(cctx, sctx, "broker.example", &cli, &srv);
    assert_int_equal(cli.st, PN_TLS_ERROR);
    assert_string_equal(pn_tls_error(cli.tls), "handshake: certificate verify failed: hostname mismatch");
    finish(&cli, &srv);
    /* an IP literal is checked against the IP SAN (and not sent as SNI) */
    handshake(cctx, sctx, "127.0.0.1", &cli, &srv);
    assert_int_equal(cli.st, PN_TLS_OK);
    pn_tls_info si;
    pn_tls_get_info(srv.tls, &si);
    assert_string_equal(si.sni, "");
    finish(&cli, &srv);
    pn_tls_ctx_free(cctx);
    pn_tls_ctx_free(sctx);
}

static void test_cn_with_nul_byte_refused(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "nulcn");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key, .ca_file = f.ca, .require_client_cert = true};
    pn_tls_client_opts co = {.cert_file = f.cli_cert, .key_file = f.cli_key};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    struct side cli, srv;
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_OK); /* the chain is valid ... */
    pn_tls_info si;
    pn_tls_get_info(srv.tls, &si);
    assert_int_equal(si.verify_result, 0);
    assert_int_equal(si.cn_status, -2); /* ... but the CN is refused, not cut to "admin" */
    assert_string_equal(si.cn, "");
    char cn[8];
    X509 *peer = SSL_get0_peer_certificate(pn_tls_ssl(srv.tls));
    assert_int_equal(pn_tls_cert_cn(peer, cn, sizeof cn), -2);
    assert_int_equal(pn_tls_cert_cn(NULL, cn, sizeof cn), -1);
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_stream_end_eof_and_rst(void **state)
{
    (void)state;
    struct files f;
    char err[256], buf[16];
    size_t k;
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key};
    pn_tls_client_opts co = {0};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    struct side cli, srv;
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_OK);
    shutdown(cli.fd, SHUT_WR); /* TCP FIN without close_notify */
    assert_int_equal(read_some(&srv, buf, sizeof buf, &k), PN_TLS_EOF);
    assert_string_equal(pn_tls_error(srv.tls), "read: connection closed without close_notify");
    finish(&cli, &srv);

    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_OK);
    pn_close_rst(cli.fd);
    cli.fd = -1;
    assert_int_equal(read_some(&srv, buf, sizeof buf, &k), PN_TLS_RST);
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_prefixed_bytes_after_proxy_header_feed_the_handshake(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key};
    pn_tls_client_opts co = {.ca_file = f.ca, .verify_peer = true};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    int c = -1, s = -1;
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    const char header[] = "PROXY TCP4 192.0.2.1 192.0.2.2 5555 8883\r\n";
    size_t hlen = sizeof header - 1, k;
    assert_int_equal(pn_send(c, header, hlen, &k), PN_IO_OK);
    pn_tls *ct = pn_tls_new(cctx, c, "localhost", err, sizeof err);
    assert_int_equal(pn_tls_handshake(ct), PN_TLS_WANT_READ); /* ClientHello is out */
    /* the server reads header and ClientHello start in one go, as a broker would */
    char got[4096];
    size_t n = 0;
    while (n <= hlen) {
        assert_true(wait_ready(s, POLLIN, WAIT_MS));
        assert_int_equal(pn_recv(s, got + n, sizeof got - n, &k), PN_IO_OK);
        n += k;
    }
    assert_memory_equal(got, header, hlen);
    assert_int_equal((unsigned char)got[hlen], 0x16); /* a TLS handshake record follows */
    pn_tls *st = pn_tls_new_prefixed(sctx, s, NULL, got + hlen, n - hlen, err, sizeof err);
    assert_non_null(st);
    pn_tls_status cs = PN_TLS_WANT_READ, ss = PN_TLS_WANT_READ;
    uint64_t deadline = pn_now_ms() + WAIT_MS;
    while ((cs != PN_TLS_OK || ss != PN_TLS_OK) && pn_now_ms() < deadline) {
        if (ss != PN_TLS_OK)
            ss = pn_tls_handshake(st);
        if (cs != PN_TLS_OK)
            cs = pn_tls_handshake(ct);
        assert_true(cs <= PN_TLS_WANT_WRITE && ss <= PN_TLS_WANT_WRITE);
        struct pollfd p[2] = {{.fd = c, .events = POLLIN}, {.fd = s, .events = POLLIN}};
        if (cs != PN_TLS_OK || ss != PN_TLS_OK)
            poll(p, 2, 100);
    }
    assert_int_equal(cs, PN_TLS_OK);
    assert_int_equal(ss, PN_TLS_OK);
    assert_null(pn_tls_new_prefixed(sctx, s, NULL, got, PN_TLS_PREFIX_MAX + 1, err, sizeof err));
    pn_tls_free(ct);
    pn_tls_free(st);
    close(c);
    close(s);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_write_to_reset_peer_is_an_error_not_sigpipe(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key};
    pn_tls_client_opts co = {0};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    struct side cli, srv;
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_OK);
    pn_close_rst(cli.fd);
    cli.fd = -1;
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would now kill the test */
    pn_tls_status st = PN_TLS_OK;
    char block[1024] = {0};
    size_t k;
    for (int i = 0; i < 1000 && st == PN_TLS_OK; i++)
        st = pn_tls_write(srv.tls, block, sizeof block, &k);
    signal(SIGPIPE, SIG_IGN);
    assert_int_equal(st, PN_TLS_RST);
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
}

static void test_version_floor_refuses_older_client(void **state)
{
    (void)state;
    struct files f;
    char err[256];
    files_for(&f, "a", "a", "a", "client");
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.srv_key, .min_version = "TLSv1.3"};
    pn_tls_client_opts co = {.max_version = "TLSv1.2"};
    pn_tls_ctx *sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    pn_tls_ctx *cctx = pn_tls_client_ctx_new(&co, err, sizeof err);
    assert_non_null(sctx);
    assert_non_null(cctx);
    struct side cli, srv;
    handshake(cctx, sctx, NULL, &cli, &srv);
    assert_int_equal(srv.st, PN_TLS_ERROR);
    assert_non_null(strstr(pn_tls_error(srv.tls), "unsupported protocol"));
    finish(&cli, &srv);
    pn_tls_ctx_free(sctx);
    pn_tls_ctx_free(cctx);
    /* and a plain-text peer on a TLS port is a handshake error, not a hang */
    sctx = pn_tls_server_ctx_new(&so, err, sizeof err);
    int c = -1, s = -1;
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    pn_tls *t = pn_tls_new(sctx, s, NULL, err, sizeof err);
    size_t k;
    assert_int_equal(pn_send(c, "GET / HTTP/1.1\r\n\r\n", 18, &k), PN_IO_OK);
    pn_tls_status st;
    while ((st = pn_tls_handshake(t)) == PN_TLS_WANT_READ && wait_ready(s, POLLIN, WAIT_MS)) {
    }
    assert_int_equal(st, PN_TLS_ERROR);
    assert_string_equal(pn_tls_error(t), "handshake: http request");
    pn_tls_free(t);
    close(c);
    close(s);
    pn_tls_ctx_free(sctx);
}

static void test_context_errors_are_readable(void **state)
{
    (void)state;
    struct files f;
    char err[512], expect[1024], missing[400];
    files_for(&f, "a", "a", "a", "client");
    /* key of another certificate */
    pn_tls_server_opts so = {.cert_file = f.srv_cert, .key_file = f.cli_key};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    snprintf(expect, sizeof expect, "key %s does not match certificate %s", f.cli_key, f.srv_cert);
    assert_string_equal(err, expect);
    /* a file that is not there */
    path(missing, sizeof missing, "a", "nope.pem");
    so = (pn_tls_server_opts){.cert_file = missing, .key_file = f.srv_key};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    snprintf(expect, sizeof expect, "cannot read certificate file %s: No such file or directory", missing);
    assert_string_equal(err, expect);
    /* a key file that is not PEM */
    so = (pn_tls_server_opts){.cert_file = f.srv_cert, .key_file = f.ca, .ca_file = NULL};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    assert_non_null(strstr(err, "bad key file"));
    so = (pn_tls_server_opts){.cert_file = f.srv_cert, .key_file = f.srv_key, .require_client_cert = true};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    assert_string_equal(err, "client certificates need a CA file to verify them with");
    so = (pn_tls_server_opts){.cert_file = f.srv_cert, .key_file = f.srv_key, .min_version = "SSLv3"};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    assert_non_null(strstr(err, "unknown TLS version 'SSLv3'"));
    so = (pn_tls_server_opts){.cert_file = f.srv_cert, .key_file = f.srv_key, .alpn = "mqtt,"};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    assert_string_equal(err, "bad ALPN list 'mqtt,'");
    so = (pn_tls_server_opts){0};
    assert_null(pn_tls_server_ctx_new(&so, err, sizeof err));
    pn_tls_client_opts co = {.cert_file = f.cli_cert};
    assert_null(pn_tls_client_ctx_new(&co, err, sizeof err));
    assert_string_equal(err, "a client certificate needs its key file");
    co = (pn_tls_client_opts){.verify_peer = true};
    assert_null(pn_tls_client_ctx_new(&co, err, sizeof err));
    assert_int_equal(pn_tls_version_from_name("TLSv1.2"), TLS1_2_VERSION);
    assert_int_equal(pn_tls_version_from_name("tls1.2"), -1);
    assert_string_equal(pn_tls_status_name(PN_TLS_WANT_WRITE), "want_write");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_SSL_05_mutual_tls_info_alpn_sni_cn),
        cmocka_unit_test(test_R_SSL_02_client_cert_from_other_ca),
        cmocka_unit_test(test_required_client_cert_missing),
        cmocka_unit_test(test_client_verifies_server_ca_and_name),
        cmocka_unit_test(test_cn_with_nul_byte_refused),
        cmocka_unit_test(test_stream_end_eof_and_rst),
        cmocka_unit_test(test_prefixed_bytes_after_proxy_header_feed_the_handshake),
        cmocka_unit_test(test_write_to_reset_peer_is_an_error_not_sigpipe),
        cmocka_unit_test(test_version_floor_refuses_older_client),
        cmocka_unit_test(test_context_errors_are_readable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
