/* HTTP: skeleton, implementation follows. */
#include "net/http.h"
#define U(x) (void)(x)
int pn_http_parse_request(const char *buf, size_t len, pn_http_request *req) { U(buf); U(len); U(req); return PN_HTTP_ERR_BAD; }
const char *pn_http_error_name(int err) { U(err); return "?"; }
const pn_str *pn_http_header_get(const pn_http_request *req, const char *name) { U(req); U(name); return 0; }
int pn_http_query_get(pn_str query, const char *name, char *out, size_t cap) { U(query); U(name); U(out); U(cap); return -1; }
bool pn_str_eq(pn_str s, const char *lit) { U(s); U(lit); return false; }
const char *pn_http_reason(int status) { U(status); return ""; }
int pn_http_response_head(char *out, size_t cap, int status, const char *content_type, size_t content_length) { U(out); U(cap); U(status); U(content_type); U(content_length); return -1; }
int pn_http_response(char *out, size_t cap, int status, const char *content_type, const void *body, size_t body_len) { U(out); U(cap); U(status); U(content_type); U(body); U(body_len); return -1; }
int pn_http_get(const pn_addr *server, const char *path, int timeout_ms, pn_http_reply *reply, char *err, size_t errcap) { U(server); U(path); U(timeout_ms); U(reply); U(err); U(errcap); return -1; }
