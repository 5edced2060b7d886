/* proxysend send mode against a loopback receiver built on lib/proxy: what arrives is what
 * was asked for (addresses, malformations, delivery shape, TLS after the header), and the
 * outcome and exit status follow what the receiver did. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "psit.h"

static const uint8_t CONNACK_OK[] = {0x20, 0x02, 0x00, 0x00};

static void test_R_GEN_03_carried_source_and_connack(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--src", "203.0.113.7:40000", "--mqtt-connect", "--client-id", "it-1", "--expect",
                                    "connack=0", addr, NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    ssize_t rc = psit_read_header(fd, buf, sizeof buf, &len, &first, &h);
    assert_true(rc > 0);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.command, PP_CMD_PROXY);
    assert_int_equal(h.src.family, PP_FAM_INET);
    assert_memory_equal(h.src.ip, "\xcb\x00\x71\x07", 4);
    assert_int_equal(h.src.port, 40000);
    /* destination defaults to the address the socket reached: ours */
    assert_int_equal(h.dst.port, atoi(strrchr(addr, ':') + 1));
    /* the CONNECT follows the header; read it whole (2 + remaining length) */
    size_t got;
    if (len < (size_t)rc + 2)
        ts_read(fd, buf + len, sizeof buf - len, (size_t)rc + 2 - len, PSIT_WAIT_MS, &got), len += got;
    assert_int_equal(buf[rc], 0x10);
    size_t want = (size_t)rc + 2 + buf[rc + 1];
    if (len < want)
        ts_read(fd, buf + len, sizeof buf - len, want - len, PSIT_WAIT_MS, &got), len += got;
    assert_true(len >= want);
    assert_non_null(memmem(buf + rc, len - (size_t)rc, "it-1", 4));
    assert_int_equal(ts_send_all(fd, CONNACK_OK, sizeof CONNACK_OK, PSIT_WAIT_MS), 0);
    assert_int_equal(psit_exit_code(&p), 0);
    psit_assert_contains("out", "CONNACK code 0");
    close(fd);
    close(lfd);
}

static void test_expect_not_met_exits_1(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--mqtt-connect", "--expect", "connack=0", "--json", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    assert_true(psit_read_header(fd, buf, sizeof buf, &len, &first, &h) > 0);
    static const uint8_t not_authorized[] = {0x20, 0x02, 0x00, 0x05};
    ts_send_all(fd, not_authorized, 4, PSIT_WAIT_MS);
    assert_int_equal(psit_exit_code(&p), 1);
    psit_assert_contains("out", "\"connack\":{\"code\":5");
    psit_assert_contains("out", "\"met\":false");
    close(fd);
    close(lfd);
}

/* The receiver refuses the malformed line; proxysend sees the RST. */
static void test_R_V1_14_leading_zeros_refused_with_rst(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"-1", "--mutate", "v1-leading-zeros", "--src", "10.0.0.1:40000", "--mqtt-connect",
                                    "--expect", "rst", addr, NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    ssize_t rc = psit_read_header(fd, buf, sizeof buf, &len, &first, &h);
    assert_int_equal(rc, PP_ERR_V1_LEADING_ZERO);
    assert_memory_equal(buf, "PROXY TCP4 010.000.000.001", 26);
    psit_close_rst(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    psit_assert_contains("out", "RST");
    close(lfd);
}

static void test_R_CRC_06_corrupt_crc_refused_with_fin(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--tlv", "crc32c", "--mutate", "crc-corrupt", "--expect", "fin", addr, NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    assert_int_equal(psit_read_header(fd, buf, sizeof buf, &len, &first, &h), PP_ERR_CRC_MISMATCH);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    psit_assert_contains("out", "FIN");
    close(lfd);
}

/* --split with a delay: the receiver's first read holds only the first piece. */
static void test_R_GEN_10_split_header_arrives_in_pieces(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--split", "8,20", "--delay", "300ms", "--hex", "c000", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    ssize_t rc = psit_read_header(fd, buf, sizeof buf, &len, &first, &h);
    assert_int_equal(rc, 28);
    assert_int_equal(first, 8);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    psit_assert_contains("out", "in 3 writes");
    close(lfd);
}

static void test_EC_F_13_header_twice(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"-1", "--header-twice", "--hex", "e000", "--half-close", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t got;
    ts_end e = ts_read(fd, buf, sizeof buf, 0, PSIT_WAIT_MS, &got); /* until FIN (--half-close) */
    assert_int_equal(e, TS_END_FIN);
    pp_header h;
    ssize_t rc = pp_parse(buf, got, NULL, &h);
    assert_true(rc > 0);
    assert_int_equal(got, 2 * (size_t)rc + 2);
    assert_memory_equal(buf, buf + rc, (size_t)rc);
    assert_memory_equal(buf + 2 * rc, "\xe0\x00", 2);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    close(lfd);
}

/* --half-close: the receiver sees EOF, answers, and proxysend still reads the answer. */
static void test_half_close_then_reply(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--coalesce", "--hex", "0102", "--half-close", "--expect", "bytes:6f6b", addr, NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t got;
    assert_int_equal(ts_read(fd, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    assert_int_equal(got, 30);
    ts_send_str(fd, "ok", PSIT_WAIT_MS);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    close(lfd);
}

static void test_silence_met(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--expect", "silence", "--timeout", "300ms", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    assert_int_equal(psit_exit_code(&p), 0);
    psit_assert_contains("out", "silence");
    close(fd);
    close(lfd);
}

static void test_silence_not_met_when_peer_answers(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--expect", "silence", "--timeout", "5s", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    ts_send_str(fd, "banner", PSIT_WAIT_MS);
    assert_int_equal(psit_exit_code(&p), 1);
    close(fd);
    close(lfd);
}

static void test_bind_sets_real_and_default_source(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--bind", "127.0.0.5", "-1", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    getpeername(fd, (struct sockaddr *)&peer, &pl);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    assert_true(psit_read_header(fd, buf, sizeof buf, &len, &first, &h) > 0);
    assert_memory_equal(h.src.ip, "\x7f\x00\x00\x05", 4);
    assert_memory_equal(&peer.sin_addr, "\x7f\x00\x00\x05", 4);
    assert_int_equal(h.src.port, ntohs(peer.sin_port));
    close(fd);
    ts_stop(&p, 2000, NULL);
    close(lfd);
}

static void test_connect_failure_exits_3(void **state)
{
    (void)state;
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%u", psit_free_port());
    assert_int_equal(psit_run((const char *[]){"--mqtt-connect", target, NULL}, "out", "err"), 3);
    psit_assert_contains("err", "connect");
}

static void test_usage_error_exits_2_and_names_option(void **state)
{
    (void)state;
    assert_int_equal(psit_run((const char *[]){"--mutate", "len=99999", "127.0.0.1:1", NULL}, "out", "err"), 2);
    psit_assert_contains("err", "--mutate");
    psit_assert_contains("err", "len=99999");
}

static void test_file_payload_and_byte_at_a_time(void **state)
{
    (void)state;
    char file[600];
    psit_path(file, sizeof file, "payload.bin");
    ts_write_file(file, "\xc0\x00payload-from-file", 19);
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"-1", "--byte-at-a-time", "--delay", "20ms", "--file", file, "--half-close", addr,
                                    NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t got;
    assert_int_equal(ts_read(fd, buf, sizeof buf, 0, PSIT_WAIT_MS, &got), TS_END_FIN);
    pp_header h;
    ssize_t rc = pp_parse(buf, got, NULL, &h);
    assert_true(rc > 0);
    assert_int_equal(got, (size_t)rc + 19);
    assert_memory_equal(buf + rc, "\xc0\x00payload-from-file", 19);
    close(fd);
    assert_int_equal(psit_exit_code(&p), 0);
    char want[64];
    snprintf(want, sizeof want, "in %zd writes", rc + 1); /* one per header byte, then the file */
    psit_assert_contains("out", want);
    close(lfd);
}

static void test_help_lists_examples(void **state)
{
    (void)state;
    assert_int_equal(psit_run((const char *[]){"--help", NULL}, "out", "err"), 0);
    psit_assert_contains("out", "Examples:");
    psit_assert_contains("out", "--profile");
    assert_int_equal(psit_run((const char *[]){"--version", NULL}, "out", "err"), 0);
    psit_assert_contains("out", "proxysend ");
}

/* TLS after the cleartext header: the receiver parses the header, then accepts TLS on the
 * same socket and sees the client certificate. */
/* Take exactly the PROXY header off fd, leaving what follows (the TLS ClientHello, which may
 * share the header's segment) for OpenSSL: one byte per read until the header parses. */
static ssize_t take_header_exactly(int fd, uint8_t *buf, size_t cap, pp_header *h)
{
    for (size_t len = 0; len < cap;) {
        size_t got = 0;
        if (ts_read(fd, buf + len, 1, 1, PSIT_WAIT_MS, &got) != TS_END_COUNT || got != 1)
            return -1;
        len++;
        ssize_t rc = pp_parse(buf, len, NULL, h);
        if (rc != PP_NEED_MORE)
            return rc;
    }
    return -1;
}

static void test_tls_after_header_with_client_cert(void **state)
{
    (void)state;
    const ts_leaf leaves[] = {{"server", "localhost", 0, true}, {"client", "alice", 0, false}};
    assert_int_equal(ts_pki_make(psit_dir, "psend-ca", leaves, 2), 0);
    char ca[600], cert[600], key[600], scert[600], skey[600];
    psit_path(ca, sizeof ca, "ca.pem");
    psit_path(cert, sizeof cert, "client.pem");
    psit_path(key, sizeof key, "client.key");
    psit_path(scert, sizeof scert, "server.pem");
    psit_path(skey, sizeof skey, "server.key");

    /* --tlv ssl-client-cert=FILE carries the certificate's DER form (sub-TLV 0x28) */
    char tlv[700];
    snprintf(tlv, sizeof tlv, "ssl-client-cert=%s", cert);
    assert_int_equal(psit_run((const char *[]){"--tlv", tlv, "--dry-run", "--json", NULL}, "out", "err"), 0);
    psit_assert_contains("out", "\"valid\":true");
    psit_assert_contains("out", "\"client_cert_len\":");
    psit_assert_contains("out", "\"client\":7");

    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--tls", "--cafile", ca, "--sni", "localhost", "--cert", cert, "--key", key,
                                    "--alpn", "mqtt", "--mqtt-connect", "--expect", "connack=0", addr, NULL},
               "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    pp_header h;
    assert_true(take_header_exactly(fd, buf, sizeof buf, &h) > 0);
    /* nothing but the header in cleartext: a TLS handshake record comes next */
    struct pollfd pf0 = {.fd = fd, .events = POLLIN};
    assert_int_equal(poll(&pf0, 1, PSIT_WAIT_MS), 1);
    uint8_t next = 0;
    assert_int_equal(recv(fd, &next, 1, MSG_PEEK), 1);
    assert_int_equal(next, 0x16);

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    assert_int_equal(SSL_CTX_use_certificate_file(ctx, scert, SSL_FILETYPE_PEM), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, skey, SSL_FILETYPE_PEM), 1);
    SSL_CTX_load_verify_locations(ctx, ca, NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    int r;
    for (int i = 0; i < 500 && (r = SSL_accept(ssl)) != 1; i++) {
        int e = SSL_get_error(ssl, r);
        assert_true(e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE);
        struct pollfd pf = {.fd = fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        assert_int_equal(poll(&pf, 1, PSIT_WAIT_MS), 1);
    }
    assert_int_equal(r, 1);
    X509 *peer = SSL_get1_peer_certificate(ssl);
    assert_non_null(peer);
    char cn[64];
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    assert_string_equal(cn, "alice");
    X509_free(peer);
    int n = 0;
    for (int i = 0; i < 500 && (n = SSL_read(ssl, buf, sizeof buf)) <= 0; i++) {
        struct pollfd pf = {.fd = fd, .events = POLLIN};
        assert_int_equal(poll(&pf, 1, PSIT_WAIT_MS), 1);
    }
    assert_true(n > 2);
    assert_int_equal(buf[0], 0x10); /* CONNECT, inside TLS */
    assert_int_equal(SSL_write(ssl, CONNACK_OK, 4), 4);
    assert_int_equal(psit_exit_code(&p), 0);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    close(lfd);
}

static void test_tls_failure_exits_3(void **state)
{
    (void)state;
    char addr[64];
    int lfd = psit_listen(addr, sizeof addr);
    ts_proc p;
    psit_spawn(&p, (const char *[]){"--tls", "--mqtt-connect", addr, NULL}, "out", "err");
    int fd = psit_accept(lfd);
    uint8_t buf[4096];
    size_t len, first;
    pp_header h;
    assert_true(psit_read_header(fd, buf, sizeof buf, &len, &first, &h) > 0);
    ts_send_str(fd, "not TLS at all\r\n", PSIT_WAIT_MS); /* garbage instead of a ServerHello */
    close(fd);
    assert_int_equal(psit_exit_code(&p), 3);
    psit_assert_contains("err", "TLS");
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_R_GEN_03_carried_source_and_connack, psit_after),
        cmocka_unit_test_teardown(test_expect_not_met_exits_1, psit_after),
        cmocka_unit_test_teardown(test_R_V1_14_leading_zeros_refused_with_rst, psit_after),
        cmocka_unit_test_teardown(test_R_CRC_06_corrupt_crc_refused_with_fin, psit_after),
        cmocka_unit_test_teardown(test_R_GEN_10_split_header_arrives_in_pieces, psit_after),
        cmocka_unit_test_teardown(test_EC_F_13_header_twice, psit_after),
        cmocka_unit_test_teardown(test_half_close_then_reply, psit_after),
        cmocka_unit_test_teardown(test_silence_met, psit_after),
        cmocka_unit_test_teardown(test_silence_not_met_when_peer_answers, psit_after),
        cmocka_unit_test_teardown(test_bind_sets_real_and_default_source, psit_after),
        cmocka_unit_test_teardown(test_connect_failure_exits_3, psit_after),
        cmocka_unit_test_teardown(test_usage_error_exits_2_and_names_option, psit_after),
        cmocka_unit_test_teardown(test_file_payload_and_byte_at_a_time, psit_after),
        cmocka_unit_test_teardown(test_help_lists_examples, psit_after),
        cmocka_unit_test_teardown(test_tls_after_header_with_client_cert, psit_after),
        cmocka_unit_test_teardown(test_tls_failure_exits_3, psit_after),
    };
    return cmocka_run_group_tests(tests, psit_setup, psit_teardown);
}
