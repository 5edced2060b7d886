/* lib/net/http: the admin API's request parser (good, malformed, incremental, bounded),
 * the response writer, and the blocking GET client against a tiny server thread. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/http.h"
#include "test_net_helpers.h"

static int parse(const char *text, pn_http_request *req)
{
    return pn_http_parse_request(text, strlen(text), req);
}

static void assert_str(pn_str s, const char *expect)
{
    if (s.len != strlen(expect) || memcmp(s.p, expect, s.len) != 0)
        fail_msg("got '%.*s', expected '%s'", (int)s.len, s.p, expect);
}

static void test_parse_get_with_query_and_headers(void **state)
{
    (void)state;
    const char *text = "GET /api/v1/sessions?limit=10&client_id=a%2Fb+c HTTP/1.1\r\n"
                       "Host: 127.0.0.1:8080\r\n"
                       "X-Empty:\r\n"
                       "User-Agent:   curl/7.88  \r\n"
                       "\r\n"
                       "trailing body bytes";
    pn_http_request req;
    int n = parse(text, &req);
    assert_int_equal(n, (int)(strstr(text, "trailing") - text));
    assert_str(req.method, "GET");
    assert_str(req.target, "/api/v1/sessions?limit=10&client_id=a%2Fb+c");
    assert_str(req.path, "/api/v1/sessions");
    assert_str(req.query, "limit=10&client_id=a%2Fb+c");
    assert_int_equal(req.minor_version, 1);
    assert_int_equal(req.num_headers, 3);
    assert_true(req.keep_alive);
    assert_int_equal(req.content_length, -1);
    assert_str(*pn_http_header_get(&req, "user-agent"), "curl/7.88");
    assert_str(*pn_http_header_get(&req, "X-EMPTY"), "");
    assert_null(pn_http_header_get(&req, "Cookie"));
    assert_true(pn_str_eq(req.method, "GET"));
    assert_false(pn_str_eq(req.method, "GE"));

    char v[32];
    assert_int_equal(pn_http_query_get(req.query, "limit", v, sizeof v), 2);
    assert_string_equal(v, "10");
    assert_int_equal(pn_http_query_get(req.query, "client_id", v, sizeof v), 5);
    assert_string_equal(v, "a/b c");
    assert_int_equal(pn_http_query_get(req.query, "lim", v, sizeof v), -1);
    assert_int_equal(pn_http_query_get(req.query, "client_id", v, 3), -2);
    pn_str bad = {"a=%4", 4};
    assert_int_equal(pn_http_query_get(bad, "a", v, sizeof v), -2);
    pn_str flag = {"x&verbose", 9};
    assert_int_equal(pn_http_query_get(flag, "verbose", v, sizeof v), 0);
}

static void test_parse_post_content_length_and_connection(void **state)
{
    (void)state;
    pn_http_request req;
    assert_true(parse("POST /api/v1/quirks HTTP/1.0\r\nContent-Length: 42\r\n\r\n", &req) > 0);
    assert_int_equal(req.content_length, 42);
    assert_int_equal(req.minor_version, 0);
    assert_false(req.keep_alive);
    assert_str(req.query, "");
    assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &req) > 0);
    assert_true(req.keep_alive);
    assert_true(parse("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", &req) > 0);
    assert_false(req.keep_alive);
}

static void test_parse_malformed_requests_rejected(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int err;
    } cases[] = {
        {"GET  / HTTP/1.1\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\n\n", PN_HTTP_ERR_BAD},                 /* bare LF */
        {"GET / HTTP/1.1\r\r\n", PN_HTTP_ERR_BAD},
        {"GET http://x/ HTTP/1.1\r\n\r\n", PN_HTTP_ERR_BAD},     /* absolute form is not served */
        {"GET / HTTP/2.0\r\n\r\n", PN_HTTP_ERR_VERSION},
        {"GET / HTTP/1.2\r\n\r\n", PN_HTTP_ERR_VERSION},
        {"GET / HTTX/1.1\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\r\nNo colon\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\r\n: novalue\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\r\nA: b\x01\r\n\r\n", PN_HTTP_ERR_BAD},
        {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", PN_HTTP_ERR_LENGTH},
        {"GET / HTTP/1.1\r\nContent-Length: \r\n\r\n", PN_HTTP_ERR_LENGTH},
        {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", PN_HTTP_ERR_LENGTH},
        {"GET / HTTP/1.1\r\nContent-Length: 99999999999999999\r\n\r\n", PN_HTTP_ERR_LENGTH},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", PN_HTTP_ERR_CHUNKED},
        /* a PROXY v1 header or a TLS ClientHello on the admin port: rejected at once */
        {"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", PN_HTTP_ERR_BAD},
        {"\x16\x03\x01\x02", PN_HTTP_ERR_BAD},
        {"\r\n", PN_HTTP_ERR_BAD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pn_http_request req;
        int rc = parse(cases[i].text, &req);
        if (rc != cases[i].err)
            fail_msg("case %zu: got %d (%s), expected %d", i, rc, pn_http_error_name(rc), cases[i].err);
    }
    assert_string_equal(pn_http_error_name(PN_HTTP_ERR_CHUNKED), "transfer_encoding_unsupported");
}

static void test_parse_incremental_every_prefix(void **state)
{
    (void)state;
    const char *text = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n";
    size_t len = strlen(text);
    pn_http_request req;
    for (size_t i = 0; i < len; i++)
        if (pn_http_parse_request(text, i, &req) != PN_HTTP_NEED_MORE)
            fail_msg("prefix of %zu bytes was not NEED_MORE", i);
    assert_int_equal(pn_http_parse_request(text, len, &req), (int)len);
    assert_str(req.path, "/metrics");
    /* a bad byte is reported as soon as it arrives, not when the head completes */
    assert_int_equal(pn_http_parse_request("G T", 3, &req), PN_HTTP_ERR_BAD);
    assert_int_equal(pn_http_parse_request("GET x", 5, &req), PN_HTTP_ERR_BAD);
    assert_int_equal(pn_http_parse_request("GET / HTTP/1.1\r\nA", 17, &req), PN_HTTP_NEED_MORE);
    assert_int_equal(pn_http_parse_request("GET / HTTP/1.1\r\nA ", 18, &req), PN_HTTP_ERR_BAD);
}

static void test_parse_bounds_head_and_header_count(void **state)
{
    (void)state;
    pn_http_request req;
    /* a head that never ends: NEED_MORE until PN_HTTP_MAX_HEAD, then too large */
    size_t big = PN_HTTP_MAX_HEAD + 100;
    char *buf = malloc(big);
    memcpy(buf, "GET / HTTP/1.1\r\nX: ", 19);
    memset(buf + 19, 'a', big - 19);
    assert_int_equal(pn_http_parse_request(buf, PN_HTTP_MAX_HEAD - 1, &req), PN_HTTP_NEED_MORE);
    assert_int_equal(pn_http_parse_request(buf, PN_HTTP_MAX_HEAD, &req), PN_HTTP_ERR_TOO_LARGE);
    assert_int_equal(pn_http_parse_request(buf, big, &req), PN_HTTP_ERR_TOO_LARGE);
    free(buf);
    /* PN_HTTP_MAX_HEADERS headers fit, one more does not */
    char many[4096];
    size_t o = (size_t)snprintf(many, sizeof many, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < PN_HTTP_MAX_HEADERS; i++)
        o += (size_t)snprintf(many + o, sizeof many - o, "H%d: v\r\n", i);
    snprintf(many + o, sizeof many - o, "\r\n");
    assert_true(parse(many, &req) > 0);
    assert_int_equal(req.num_headers, PN_HTTP_MAX_HEADERS);
    snprintf(many + o, sizeof many - o, "One-More: v\r\n\r\n");
    assert_int_equal(parse(many, &req), PN_HTTP_ERR_TOO_MANY_HEADERS);
}

static void test_response_writer(void **state)
{
    (void)state;
    char out[256];
    int n = pn_http_response(out, sizeof out, 404, "application/json", "{\"error\":\"not found\"}", 21);
    const char *expect = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
                         "Connection: close\r\n\r\n{\"error\":\"not found\"}";
    assert_int_equal(n, (int)strlen(expect));
    assert_memory_equal(out, expect, (size_t)n);
    assert_int_equal(pn_http_response(out, 60, 200, "text/plain", "x", 1), -1); /* does not fit */
    assert_int_equal(pn_http_response_head(out, sizeof out, 42, NULL, 0), -1);
    assert_true(pn_http_response_head(out, sizeof out, 200, NULL, 5) > 0);
    assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"));
    assert_string_equal(pn_http_reason(503), "Service Unavailable");
}

/* Mutations of a valid request: the parser never reads past len (ASan would say so), never
 * claims more bytes than it was given, and its views stay inside the buffer. */
static void test_parse_mutations_stay_in_bounds(void **state)
{
    (void)state;
    const char *base = "POST /api/v1/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    size_t blen = strlen(base);
    static const char alphabet[] = "\r\n :/?%GETPOST0123456789HTP.\t\x00\x7f\x80\xff";
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rand() % (blen + 8);
        char *buf = malloc(len ? len : 1); /* exact size: any overread is caught */
        for (size_t i = 0; i < len; i++)
            buf[i] = i < blen ? base[i] : alphabet[rand() % (int)(sizeof alphabet - 1)];
        int flips = rand() % 4;
        for (int k = 0; k < flips && len; k++)
            buf[(size_t)rand() % len] = alphabet[rand() % (int)(sizeof alphabet - 1)];
        pn_http_request req;
        int rc = pn_http_parse_request(buf, len, &req);
        assert_true(rc <= (int)len);
        if (rc > 0) {
            assert_true(req.path.p >= buf && req.path.p + req.path.len <= buf + rc);
            for (size_t h = 0; h < req.num_headers; h++)
                assert_true(req.headers[h].value.p + req.headers[h].value.len <= buf + rc);
        }
        free(buf);
    }
}

/* ---- the client against a tiny server thread ---- */

enum server_mode { SEND_LENGTH, SEND_UNTIL_CLOSE, SEND_TOO_BIG, SEND_NOTHING, SEND_RST, SEND_SHORT };

struct server {
    int lfd;
    enum server_mode mode;
    char request[1024];
    int parse_rc;
};

static void *serve_one(void *arg)
{
    struct server *sv = arg;
    int fd = accept_one(sv->lfd, NULL);
    if (fd < 0)
        return NULL;
    size_t got = 0;
    pn_http_request req;
    sv->parse_rc = PN_HTTP_NEED_MORE;
    while (sv->parse_rc == PN_HTTP_NEED_MORE && got < sizeof sv->request - 1) {
        size_t n;
        pn_io io = pn_recv(fd, sv->request + got, sizeof sv->request - 1 - got, &n);
        if (io == PN_IO_OK) {
            got += n;
            sv->parse_rc = pn_http_parse_request(sv->request, got, &req);
        } else if (io != PN_IO_AGAIN || !wait_ready(fd, POLLIN, WAIT_MS)) {
            break;
        }
    }
    sv->request[got] = '\0';
    char out[4096];
    int n = 0;
    switch (sv->mode) {
    case SEND_LENGTH:
        n = pn_http_response(out, sizeof out, 200, "application/json", "{\"sessions\":[]}", 15);
        break;
    case SEND_UNTIL_CLOSE:
        n = snprintf(out, sizeof out, "HTTP/1.0 404 Not Found\r\n\r\nno such path");
        break;
    case SEND_TOO_BIG:
        n = pn_http_response_head(out, sizeof out, 200, "text/plain", 2000);
        memset(out + n, 'z', 2000);
        n += 2000;
        break;
    case SEND_SHORT:
        n = pn_http_response_head(out, sizeof out, 200, "text/plain", 10);
        memcpy(out + n, "12345", 5);
        n += 5;
        break;
    case SEND_NOTHING:
        /* hold the connection open until the client gives up and closes */
        {
            size_t total;
            read_to_end(fd, &total);
        }
        break;
    case SEND_RST:
        pn_close_rst(fd);
        return NULL;
    }
    size_t off = 0;
    while (off < (size_t)n) {
        size_t k;
        pn_io io = pn_send(fd, out + off, (size_t)n - off, &k);
        if (io == PN_IO_OK)
            off += k;
        else if (io != PN_IO_AGAIN || !wait_ready(fd, POLLOUT, WAIT_MS))
            break;
    }
    close(fd);
    return NULL;
}

static int get_with(enum server_mode mode, int timeout_ms, pn_http_reply *reply, char *err,
                    size_t errcap, struct server *sv)
{
    pn_addr bound;
    pthread_t th;
    sv->lfd = listen_any("127.0.0.1", &bound);
    sv->mode = mode;
    assert_true(sv->lfd >= 0);
    assert_int_equal(pthread_create(&th, NULL, serve_one, sv), 0);
    int rc = pn_http_get(&bound, "/api/v1/sessions?x=1", timeout_ms, reply, err, errcap);
    pthread_join(th, NULL);
    close(sv->lfd);
    return rc;
}

static void test_client_get_content_length(void **state)
{
    (void)state;
    char body[64], err[256];
    pn_http_reply r = {.body = body, .body_cap = sizeof body};
    struct server sv = {0};
    assert_int_equal(get_with(SEND_LENGTH, WAIT_MS, &r, err, sizeof err, &sv), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(body, "{\"sessions\":[]}");
    assert_int_equal(r.body_len, 15);
    /* the request it sent is one our own parser accepts */
    assert_true(sv.parse_rc > 0);
    assert_non_null(strstr(sv.request, "GET /api/v1/sessions?x=1 HTTP/1.1\r\n"));
    assert_non_null(strstr(sv.request, "Connection: close\r\n"));
}

static void test_client_get_until_close(void **state)
{
    (void)state;
    char body[64], err[256];
    pn_http_reply r = {.body = body, .body_cap = sizeof body};
    struct server sv = {0};
    assert_int_equal(get_with(SEND_UNTIL_CLOSE, WAIT_MS, &r, err, sizeof err, &sv), 0);
    assert_int_equal(r.status, 404);
    assert_string_equal(body, "no such path");
}

static void test_client_errors(void **state)
{
    (void)state;
    char body[64], err[256];
    pn_http_reply r = {.body = body, .body_cap = sizeof body};
    struct server sv = {0};
    assert_int_equal(get_with(SEND_TOO_BIG, WAIT_MS, &r, err, sizeof err, &sv), -1);
    assert_string_equal(err, "body larger than 63 bytes");
    assert_int_equal(get_with(SEND_SHORT, WAIT_MS, &r, err, sizeof err, &sv), -1);
    assert_string_equal(err, "body has 5 bytes, Content-Length says 10");
    assert_int_equal(get_with(SEND_NOTHING, 100, &r, err, sizeof err, &sv), -1);
    assert_non_null(strstr(err, "timeout after 100 ms"));
    assert_int_equal(get_with(SEND_RST, WAIT_MS, &r, err, sizeof err, &sv), -1);
    assert_true(strstr(err, "connection reset") || strstr(err, "closed before"));
    /* nobody listening */
    pn_addr bound;
    int lfd = listen_any("127.0.0.1", &bound);
    close(lfd);
    assert_int_equal(pn_http_get(&bound, "/", WAIT_MS, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "refused"));
    assert_int_equal(pn_http_get(&bound, "/a b", WAIT_MS, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad path"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_get_with_query_and_headers),
        cmocka_unit_test(test_parse_post_content_length_and_connection),
        cmocka_unit_test(test_parse_malformed_requests_rejected),
        cmocka_unit_test(test_parse_incremental_every_prefix),
        cmocka_unit_test(test_parse_bounds_head_and_header_count),
        cmocka_unit_test(test_response_writer),
        cmocka_unit_test(test_parse_mutations_stay_in_bounds),
        cmocka_unit_test(test_client_get_content_length),
        cmocka_unit_test(test_client_get_until_close),
        cmocka_unit_test(test_client_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
