/* lib/net/http.h: just enough HTTP/1.1 for the broker's admin API and for reading it.
 *
 * The request parser is incremental and allocation-free (in the spirit of picohttpparser):
 * give it the bytes received so far; it returns the header length once the blank line is
 * in, PN_HTTP_NEED_MORE while the prefix is still a plausible request, or a negative error.
 * Results are views into the caller's buffer. The body (Content-Length bytes after the
 * header) is the caller's to collect. Chunked request bodies are refused.
 *
 * pn_http_get() is a small blocking client with one overall deadline, for tests and the
 * runner: connect, send "GET path", read until close or Content-Length.
 */
#ifndef PN_HTTP_H
#define PN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

#define PN_HTTP_MAX_HEADERS 32
#define PN_HTTP_MAX_HEAD 8192 /* longer request heads are PN_HTTP_ERR_TOO_LARGE */

typedef struct pn_str {
    const char *p;
    size_t len;
} pn_str;

typedef struct pn_http_header {
    pn_str name, value; /* value without surrounding spaces/tabs */
} pn_http_header;

typedef struct pn_http_request {
    pn_str method;          /* "GET" */
    pn_str target;          /* "/api/v1/sessions?limit=10" */
    pn_str path;            /* "/api/v1/sessions" */
    pn_str query;           /* "limit=10" ("" when none) */
    int minor_version;      /* 0 or 1 (HTTP/1.x) */
    pn_http_header headers[PN_HTTP_MAX_HEADERS];
    size_t num_headers;
    int64_t content_length; /* -1 when absent */
    bool keep_alive;        /* HTTP/1.1 without "Connection: close", or 1.0 with keep-alive */
} pn_http_request;

#define PN_HTTP_NEED_MORE 0
enum pn_http_error {
    PN_HTTP_ERR_BAD = -1,             /* malformed request line or header */
    PN_HTTP_ERR_TOO_LARGE = -2,       /* head over PN_HTTP_MAX_HEAD */
    PN_HTTP_ERR_TOO_MANY_HEADERS = -3,
    PN_HTTP_ERR_VERSION = -4,         /* not HTTP/1.0 or HTTP/1.1 */
    PN_HTTP_ERR_LENGTH = -5,          /* bad, duplicate or conflicting Content-Length */
    PN_HTTP_ERR_CHUNKED = -6,         /* Transfer-Encoding is not supported */
};

/* > 0: header bytes (request line .. blank line); 0: need more; < 0: pn_http_error. */
int pn_http_parse_request(const char *buf, size_t len, pn_http_request *req);
const char *pn_http_error_name(int err); /* "bad_request", "too_large", ... */
/* Case-insensitive header lookup; NULL when absent. */
const pn_str *pn_http_header_get(const pn_http_request *req, const char *name);
/* Value of name in a query string ("a=1&b=x%20y"), percent- and '+'-decoded into out.
 * Length, -1 when absent, -2 when malformed or it does not fit. */
int pn_http_query_get(pn_str query, const char *name, char *out, size_t cap);
bool pn_str_eq(pn_str s, const char *lit);

const char *pn_http_reason(int status); /* "OK", "Not Found", ... */
/* "HTTP/1.1 <status> <reason>\r\nContent-Type: ..\r\nContent-Length: ..\r\n
 *  Connection: close\r\n\r\n" into out. Bytes written, or -1 when it does not fit. */
int pn_http_response_head(char *out, size_t cap, int status, const char *content_type,
                          size_t content_length);
/* Head plus body in one buffer. Bytes written, or -1 when it does not fit. */
int pn_http_response(char *out, size_t cap, int status, const char *content_type,
                     const void *body, size_t body_len);

typedef struct pn_http_reply {
    int status;            /* e.g. 200 */
    char *body;            /* caller's buffer; NUL-terminated on success */
    size_t body_cap;       /* its size (one byte goes to the NUL) */
    size_t body_len;
} pn_http_reply;

/* Blocking GET with one overall deadline (timeout_ms covers connect, send and read).
 * Reads until Content-Length bytes or close. 0 on success (any status code); -1 with err
 * ("connect 127.0.0.1:8080: Connection refused", "timeout after 2000 ms", "body larger
 * than 65536 bytes", "bad status line"). */
int pn_http_get(const pn_addr *server, const char *path, int timeout_ms, pn_http_reply *reply,
                char *err, size_t errcap);

#endif
