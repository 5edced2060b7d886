/* pp_endpoint_parse: endpoints from the text people type on command lines and in scenarios:
 * "1.2.3.4:80", "[2001:db8::1]:443", "1.2.3.4" and "::1" (port 0), "unix:/path". */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <string.h>

#define UNIX_PREFIX "unix:"

/* Decimal 0..65535, 1-5 digits, nothing else (no sign, no spaces). */
static int parse_port(const char *s, uint16_t *port)
{
    uint32_t v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= 5 || s[n] < '0' || s[n] > '9')
            return -1;
        v = v * 10 + (uint32_t)(s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* inet_pton on a bounded, NUL-terminated copy of text[0..n). */
static int parse_ip(int af, const char *text, size_t n, uint8_t *ip)
{
    char copy[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof copy)
        return -1;
    memcpy(copy, text, n);
    copy[n] = '\0';
    return inet_pton(af, copy, ip) == 1 ? 0 : -1;
}

int pp_endpoint_parse(const char *text, pp_endpoint *out)
{
    pp_endpoint ep;
    memset(&ep, 0, sizeof ep);
    if (text == NULL)
        return -1;

    if (strncmp(text, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0) {
        const char *path = text + strlen(UNIX_PREFIX);
        size_t n = strlen(path);
        if (n == 0 || n > PP_UNIX_PATH_LEN)
            return -1;
        ep.family = PP_FAM_UNIX;
        ep.unix_path = (const uint8_t *)path;
    } else if (text[0] == '[') { /* [v6]:port, or [v6] alone */
        const char *close = strchr(text, ']');
        if (close == NULL || parse_ip(AF_INET6, text + 1, (size_t)(close - text - 1), ep.ip) < 0)
            return -1;
        ep.family = PP_FAM_INET6;
        if (close[1] == ':') {
            if (parse_port(close + 2, &ep.port) < 0)
                return -1;
        } else if (close[1] != '\0') {
            return -1;
        }
    } else if (strchr(text, ':') != NULL && strchr(text, '.') != NULL &&
               strchr(text, ':') == strrchr(text, ':') && strchr(text, ':') > strchr(text, '.')) {
        /* a.b.c.d:port (exactly one colon, after the dots) */
        const char *colon = strchr(text, ':');
        if (parse_ip(AF_INET, text, (size_t)(colon - text), ep.ip) < 0 ||
            parse_port(colon + 1, &ep.port) < 0)
            return -1;
        ep.family = PP_FAM_INET;
    } else if (parse_ip(AF_INET, text, strlen(text), ep.ip) == 0) {
        ep.family = PP_FAM_INET;
    } else if (parse_ip(AF_INET6, text, strlen(text), ep.ip) == 0) {
        ep.family = PP_FAM_INET6; /* bare IPv6: no port (it would be ambiguous) */
    } else {
        return -1;
    }
    *out = ep;
    return 0;
}
