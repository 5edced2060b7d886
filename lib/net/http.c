/* Minimal HTTP/1.1: incremental request parser, response writer, blocking GET client.
 * See http.h. */
#include "net/http.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/sock.h"

/* ---- request parser ------------------------------------------------------------------ */

/* RFC 9110 token characters. */
static bool is_tchar(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return true;
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Field value characters: visible ASCII, SP, HTAB and obs-text (bytes >= 0x80). */
static bool is_value_char(unsigned char c)
{
    return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

/* Cursor over the received prefix. "more" means the prefix ended mid-element. */
typedef struct cursor {
    const char *buf;
    size_t len, pos;
} cursor;

#define NEED_MORE 1 /* internal: distinct from 0 = ok and negative errors */

static int expect_crlf(cursor *c)
{
    if (c->pos >= c->len)
        return NEED_MORE;
    if (c->buf[c->pos] != '\r')
        return PN_HTTP_ERR_BAD;
    if (c->pos + 1 >= c->len)
        return NEED_MORE;
    if (c->buf[c->pos + 1] != '\n')
        return PN_HTTP_ERR_BAD;
    c->pos += 2;
    return 0;
}

static int parse_request_line(cursor *c, pn_http_request *req)
{
    size_t start = c->pos;
    while (c->pos < c->len && is_tchar((unsigned char)c->buf[c->pos]))
        c->pos++;
    if (c->pos >= c->len)
        return NEED_MORE;
    if (c->pos == start || c->buf[c->pos] != ' ')
        return PN_HTTP_ERR_BAD;
    req->method = (pn_str){c->buf + start, c->pos - start};
    c->pos++;

    start = c->pos;
    while (c->pos < c->len && (unsigned char)c->buf[c->pos] > 0x20 && c->buf[c->pos] != 0x7f)
        c->pos++;
    if (c->pos >= c->len)
        return c->pos > start && c->buf[start] != '/' ? PN_HTTP_ERR_BAD : NEED_MORE;
    if (c->pos == start || c->buf[c->pos] != ' ' || c->buf[start] != '/')
        return PN_HTTP_ERR_BAD;
    req->target = (pn_str){c->buf + start, c->pos - start};
    c->pos++;

    static const char proto[] = "HTTP/1.";
    for (size_t i = 0; i < sizeof proto - 1; i++, c->pos++) {
        if (c->pos >= c->len)
            return NEED_MORE;
        if (c->buf[c->pos] != proto[i])
            return i < 5 ? PN_HTTP_ERR_BAD : PN_HTTP_ERR_VERSION;
    }
    if (c->pos >= c->len)
        return NEED_MORE;
    char minor = c->buf[c->pos++];
    if (minor != '0' && minor != '1')
        return minor >= '0' && minor <= '9' ? PN_HTTP_ERR_VERSION : PN_HTTP_ERR_BAD;
    req->minor_version = minor - '0';
    return expect_crlf(c);
}

/* One "Name: value" line, or the blank line (returns 0 with *done = true). */
static int parse_header_line(cursor *c, pn_http_request *req, bool *done)
{
    if (c->pos >= c->len)
        return NEED_MORE;
    if (c->buf[c->pos] == '\r') {
        int rc = expect_crlf(c);
        if (rc == 0)
            *done = true;
        return rc;
    }
    size_t start = c->pos;
    while (c->pos < c->len && is_tchar((unsigned char)c->buf[c->pos]))
        c->pos++;
    if (c->pos >= c->len)
        return NEED_MORE;
    if (c->pos == start || c->buf[c->pos] != ':')
        return PN_HTTP_ERR_BAD; /* also rejects obs-fold (a line starting with SP/HTAB) */
    pn_str name = {c->buf + start, c->pos - start};
    c->pos++;
    while (c->pos < c->len && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t'))
        c->pos++;
    start = c->pos;
    while (c->pos < c->len && is_value_char((unsigned char)c->buf[c->pos]))
        c->pos++;
    if (c->pos >= c->len)
        return NEED_MORE;
    size_t end = c->pos;
    while (end > start && (c->buf[end - 1] == ' ' || c->buf[end - 1] == '\t'))
        end--;
    int rc = expect_crlf(c);
    if (rc != 0)
        return rc;
    if (req->num_headers == PN_HTTP_MAX_HEADERS)
        return PN_HTTP_ERR_TOO_MANY_HEADERS;
    req->headers[req->num_headers++] = (pn_http_header){name, {c->buf + start, end - start}};
    return 0;
}

static bool str_ieq(pn_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

bool pn_str_eq(pn_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

/* Does a comma-separated header value hold token (case-insensitive)? */
static bool has_token(pn_str v, const char *token)
{
    size_t i = 0;
    while (i < v.len) {
        while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.len && v.p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
            e--;
        if (str_ieq((pn_str){v.p + s, e - s}, token))
            return true;
    }
    return false;
}

/* Content-Length, Transfer-Encoding, keep-alive, path/query split. */
static int finish_request(pn_http_request *req)
{
    req->content_length = -1;
    for (size_t i = 0; i < req->num_headers; i++) {
        const pn_http_header *h = &req->headers[i];
        if (str_ieq(h->name, "transfer-encoding"))
            return PN_HTTP_ERR_CHUNKED;
        if (!str_ieq(h->name, "content-length"))
            continue;
        if (req->content_length >= 0 || h->value.len == 0 || h->value.len > 15)
            return PN_HTTP_ERR_LENGTH;
        int64_t v = 0;
        for (size_t k = 0; k < h->value.len; k++) {
            char d = h->value.p[k];
            if (d < '0' || d > '9')
                return PN_HTTP_ERR_LENGTH;
            v = v * 10 + (d - '0');
        }
        req->content_length = v;
    }
    const pn_str *conn = pn_http_header_get(req, "connection");
    if (req->minor_version == 1)
        req->keep_alive = !(conn && has_token(*conn, "close"));
    else
        req->keep_alive = conn && has_token(*conn, "keep-alive");

    const char *q = memchr(req->target.p, '?', req->target.len);
    if (q) {
        req->path = (pn_str){req->target.p, (size_t)(q - req->target.p)};
        req->query = (pn_str){q + 1, req->target.len - req->path.len - 1};
    } else {
        req->path = req->target;
        req->query = (pn_str){req->target.p + req->target.len, 0};
    }
    return 0;
}

int pn_http_parse_request(const char *buf, size_t len, pn_http_request *req)
{
    memset(req, 0, sizeof *req);
    req->content_length = -1;
    /* Only the first PN_HTTP_MAX_HEAD bytes can belong to an acceptable head. */
    cursor c = {buf, len > PN_HTTP_MAX_HEAD ? PN_HTTP_MAX_HEAD : len, 0};
    int rc = parse_request_line(&c, req);
    bool done = false;
    while (rc == 0 && !done)
        rc = parse_header_line(&c, req, &done);
    if (rc == NEED_MORE)
        return len >= PN_HTTP_MAX_HEAD ? PN_HTTP_ERR_TOO_LARGE : PN_HTTP_NEED_MORE;
    if (rc < 0)
        return rc;
    rc = finish_request(req);
    if (rc < 0)
        return rc;
    return (int)c.pos;
}

const char *pn_http_error_name(int err)
{
    switch (err) {
    case PN_HTTP_NEED_MORE: return "need_more";
    case PN_HTTP_ERR_BAD: return "bad_request";
    case PN_HTTP_ERR_TOO_LARGE: return "too_large";
    case PN_HTTP_ERR_TOO_MANY_HEADERS: return "too_many_headers";
    case PN_HTTP_ERR_VERSION: return "bad_version";
    case PN_HTTP_ERR_LENGTH: return "bad_content_length";
    case PN_HTTP_ERR_CHUNKED: return "transfer_encoding_unsupported";
    default: return err > 0 ? "ok" : "unknown";
    }
}

const pn_str *pn_http_header_get(const pn_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->num_headers; i++)
        if (str_ieq(req->headers[i].name, name))
            return &req->headers[i].value;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* Percent- and '+'-decode s into out (NUL-terminated). Length, or -2. */
static int url_decode(pn_str s, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < s.len; i++) {
        char ch = s.p[i];
        if (ch == '+') {
            ch = ' ';
        } else if (ch == '%') {
            if (i + 2 >= s.len)
                return -2;
            int hi = hexval(s.p[i + 1]), lo = hexval(s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return -2;
            ch = (char)(hi * 16 + lo);
            i += 2;
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = ch;
    }
    if (cap == 0)
        return -2;
    out[o] = '\0';
    return (int)o;
}

int pn_http_query_get(pn_str query, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name), i = 0;
    while (i < query.len) {
        size_t s = i;
        while (i < query.len && query.p[i] != '&')
            i++;
        pn_str item = {query.p + s, i - s};
        i++; /* skip '&' */
        const char *eq = memchr(item.p, '=', item.len);
        size_t klen = eq ? (size_t)(eq - item.p) : item.len;
        if (klen != nlen || memcmp(item.p, name, nlen) != 0)
            continue;
        pn_str val = eq ? (pn_str){eq + 1, item.len - klen - 1} : (pn_str){item.p + item.len, 0};
        return url_decode(val, out, cap);
    }
    return -1;
}

/* ---- responses ----------------------------------------------------------------------- */

const char *pn_http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return status >= 200 && status < 300 ? "OK" : "Unknown";
    }
}

int pn_http_response_head(char *out, size_t cap, int status, const char *content_type,
                          size_t content_length)
{
    if (status < 100 || status > 999)
        return -1;
    int n = snprintf(out, cap,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     status, pn_http_reason(status), content_type ? content_type : "text/plain",
                     content_length);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}

int pn_http_response(char *out, size_t cap, int status, const char *content_type,
                     const void *body, size_t body_len)
{
    int n = pn_http_response_head(out, cap, status, content_type, body_len);
    if (n < 0 || body_len >= cap - (size_t)n)
        return -1;
    if (body_len)
        memcpy(out + n, body, body_len);
    out[(size_t)n + body_len] = '\0';
    return n + (int)body_len;
}

/* ---- blocking GET client ------------------------------------------------------------- */

static void set_err(char *err, size_t errcap, const char *fmt, ...)
{
    if (!err || errcap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
}

/* poll one fd for events until the deadline; 1 ready, 0 deadline, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        uint64_t now = pn_now_ms();
        if (now >= deadline)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, (int)(deadline - now > 1000000 ? 1000000 : deadline - now));
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Status line and Content-Length of a complete response head. */
static int parse_response_head(const char *h, size_t n, int *status, int64_t *clen, bool *chunked)
{
    *clen = -1;
    *chunked = false;
    if (n < 12 || memcmp(h, "HTTP/1.", 7) != 0 || h[8] != ' ')
        return -1;
    int st = 0;
    for (int i = 9; i < 12; i++) {
        if (h[i] < '0' || h[i] > '9')
            return -1;
        st = st * 10 + (h[i] - '0');
    }
    *status = st;
    const char *line = memchr(h, '\n', n);
    while (line && (size_t)(line + 1 - h) < n) {
        const char *ls = line + 1;
        line = memchr(ls, '\n', n - (size_t)(ls - h));
        if (!line)
            break;
        size_t llen = (size_t)(line - ls);
        if (llen && ls[llen - 1] == '\r')
            llen--;
        const char *colon = memchr(ls, ':', llen);
        if (!colon)
            continue;
        pn_str name = {ls, (size_t)(colon - ls)};
        const char *v = colon + 1, *ve = ls + llen;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        if (str_ieq(name, "transfer-encoding")) {
            *chunked = true;
        } else if (str_ieq(name, "content-length")) {
            int64_t x = 0;
            if (v == ve || ve - v > 15)
                return -1;
            for (; v < ve && *v >= '0' && *v <= '9'; v++)
                x = x * 10 + (*v - '0');
            *clen = x;
        }
    }
    return 0;
}

int pn_http_get(const pn_addr *server, const char *path, int timeout_ms, pn_http_reply *reply,
                char *err, size_t errcap)
{
    char text[PN_ADDR_TEXT_MAX];
    char req[1024];
    char head[PN_HTTP_MAX_HEAD];
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    bool pending;
    int rc = -1;

    reply->status = 0;
    reply->body_len = 0;
    if (!reply->body || reply->body_cap == 0) {
        set_err(err, errcap, "no body buffer");
        return -1;
    }
    reply->body[0] = '\0';
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            set_err(err, errcap, "bad path (control character or space)");
            return -1;
        }
    pn_addr_to_text(server, text, sizeof text);
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ppconform\r\nConnection: close\r\n\r\n",
                     path[0] == '/' ? path : "/", text);
    if (n < 0 || (size_t)n >= sizeof req) {
        set_err(err, errcap, "path too long");
        return -1;
    }

    int fd = pn_connect(server, NULL, &pending, err, errcap);
    if (fd < 0)
        return -1;
    if (pending) {
        int w = wait_fd(fd, POLLOUT, deadline);
        int soerr = w > 0 ? pn_connect_result(fd) : 0;
        if (w <= 0 || soerr) {
            if (w == 0)
                set_err(err, errcap, "connect %s: timeout after %d ms", text, timeout_ms);
            else
                set_err(err, errcap, "connect %s: %s", text, strerror(w < 0 ? errno : soerr));
            goto out;
        }
    }
    for (size_t sent = 0; sent < (size_t)n;) {
        size_t k;
        pn_io io = pn_send(fd, req + sent, (size_t)n - sent, &k);
        if (io == PN_IO_OK) {
            sent += k;
        } else if (io == PN_IO_AGAIN) {
            if (wait_fd(fd, POLLOUT, deadline) <= 0) {
                set_err(err, errcap, "send to %s: timeout after %d ms", text, timeout_ms);
                goto out;
            }
        } else {
            set_err(err, errcap, "send to %s: %s", text, io == PN_IO_RST ? "connection reset" : strerror(errno));
            goto out;
        }
    }

    /* Head first (bounded), then the body straight into the caller's buffer. */
    size_t hlen = 0, head_end = 0;
    int64_t clen = -1;
    bool chunked = false, have_head = false;
    size_t cap = reply->body_cap - 1; /* room for the NUL */
    for (;;) {
        if (have_head && clen >= 0 && reply->body_len >= (size_t)clen)
            break;
        size_t k;
        pn_io io;
        if (!have_head) {
            io = pn_recv(fd, head + hlen, sizeof head - hlen, &k);
        } else {
            char sink[1];
            if (reply->body_len < cap)
                io = pn_recv(fd, reply->body + reply->body_len, cap - reply->body_len, &k);
            else
                io = pn_recv(fd, sink, sizeof sink, &k);
            if (io == PN_IO_OK && reply->body_len >= cap) {
                set_err(err, errcap, "body larger than %zu bytes", cap);
                goto out;
            }
        }
        if (io == PN_IO_AGAIN) {
            if (wait_fd(fd, POLLIN, deadline) <= 0) {
                set_err(err, errcap, "read from %s: timeout after %d ms", text, timeout_ms);
                goto out;
            }
            continue;
        }
        if (io == PN_IO_FIN)
            break;
        if (io != PN_IO_OK) {
            set_err(err, errcap, "read from %s: %s", text, io == PN_IO_RST ? "connection reset" : strerror(errno));
            goto out;
        }
        if (have_head) {
            reply->body_len += k;
            continue;
        }
        hlen += k;
        const char *end = NULL;
        for (size_t i = 3; i < hlen && !end; i++)
            if (memcmp(head + i - 3, "\r\n\r\n", 4) == 0)
                end = head + i + 1;
        if (!end) {
            if (hlen == sizeof head) {
                set_err(err, errcap, "response head larger than %zu bytes", sizeof head);
                goto out;
            }
            continue;
        }
        head_end = (size_t)(end - head);
        if (parse_response_head(head, head_end, &reply->status, &clen, &chunked) < 0) {
            set_err(err, errcap, "bad status line or Content-Length from %s", text);
            goto out;
        }
        if (chunked) {
            set_err(err, errcap, "chunked responses are not supported");
            goto out;
        }
        have_head = true;
        size_t extra = hlen - head_end;
        if (extra > cap || (clen >= 0 && (uint64_t)clen > cap)) {
            set_err(err, errcap, "body larger than %zu bytes", cap);
            goto out;
        }
        memcpy(reply->body, head + head_end, extra);
        reply->body_len = extra;
    }
    if (!have_head) {
        set_err(err, errcap, "connection closed before a complete response head (%zu bytes)", hlen);
        goto out;
    }
    if (clen >= 0 && reply->body_len != (size_t)clen) {
        set_err(err, errcap, "body has %zu bytes, Content-Length says %lld", reply->body_len, (long long)clen);
        goto out;
    }
    reply->body[reply->body_len] = '\0';
    rc = 0;
out:
    close(fd);
    if (rc < 0)
        reply->body[reply->body_len < reply->body_cap ? reply->body_len : 0] = '\0';
    return rc;
}
