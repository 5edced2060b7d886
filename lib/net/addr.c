/* Addresses and CIDRs: see addr.h. */
#include "net/addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t V4_MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void addr_clear(pn_addr *a)
{
    memset(a, 0, sizeof *a);
    a->ss.ss_family = AF_UNSPEC;
}

/* Decimal port, 1..5 digits, <= 65535, nothing after it. */
static int parse_port(const char *s, uint16_t *port)
{
    unsigned long v = 0;
    size_t n = 0;
    for (; s[n]; n++) {
        if (n >= 5 || !isdigit((unsigned char)s[n]))
            return -1;
        v = v * 10 + (unsigned long)(s[n] - '0');
    }
    if (n == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int pn_addr_from_bytes(int family, const void *ip, uint16_t port, pn_addr *out)
{
    addr_clear(out);
    if (family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)&out->ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, ip, 4);
        out->len = sizeof *s;
        return 0;
    }
    if (family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, ip, 16);
        out->len = sizeof *s;
        return 0;
    }
    return -1;
}

/* A bare IP of at most INET6_ADDRSTRLEN-1 chars, given as (text, length). */
static int ip_from_span(const char *ip, size_t n, uint16_t port, pn_addr *out)
{
    char tmp[INET6_ADDRSTRLEN];
    uint8_t raw[16];
    addr_clear(out);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, ip, n);
    tmp[n] = '\0';
    if (inet_pton(AF_INET, tmp, raw) == 1)
        return pn_addr_from_bytes(AF_INET, raw, port, out);
    if (inet_pton(AF_INET6, tmp, raw) == 1)
        return pn_addr_from_bytes(AF_INET6, raw, port, out);
    return -1;
}

int pn_addr_from_ip(const char *ip, uint16_t port, pn_addr *out)
{
    size_t n = strlen(ip);
    if (n >= 2 && ip[0] == '[' && ip[n - 1] == ']') {
        if (ip_from_span(ip + 1, n - 2, port, out) < 0 || pn_addr_family(out) != AF_INET6) {
            addr_clear(out);
            return -1;
        }
        return 0;
    }
    return ip_from_span(ip, n, port, out);
}

int pn_addr_parse(const char *text, pn_addr *out)
{
    uint16_t port;
    addr_clear(out);
    if (!text)
        return -1;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || parse_port(close + 2, &port) < 0)
            return -1;
        if (ip_from_span(text + 1, (size_t)(close - text - 1), port, out) < 0 ||
            pn_addr_family(out) != AF_INET6) {
            addr_clear(out);
            return -1;
        }
        return 0;
    }
    const char *colon = strrchr(text, ':');
    if (!colon || memchr(text, ':', (size_t)(colon - text)))
        return -1; /* no port, or an unbracketed IPv6 address */
    if (parse_port(colon + 1, &port) < 0)
        return -1;
    if (ip_from_span(text, (size_t)(colon - text), port, out) < 0 || pn_addr_family(out) != AF_INET) {
        addr_clear(out);
        return -1;
    }
    return 0;
}

int pn_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, pn_addr *out)
{
    addr_clear(out);
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        memcpy(&out->ss, sa, sizeof(struct sockaddr_in));
        out->len = sizeof(struct sockaddr_in);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        memcpy(&out->ss, sa, sizeof(struct sockaddr_in6));
        out->len = sizeof(struct sockaddr_in6);
        return 0;
    }
    return -1;
}

int pn_addr_family(const pn_addr *a)
{
    return a->len ? a->ss.ss_family : AF_UNSPEC;
}

uint16_t pn_addr_port(const pn_addr *a)
{
    switch (pn_addr_family(a)) {
    case AF_INET: return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    case AF_INET6: return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    default: return 0;
    }
}

void pn_addr_set_port(pn_addr *a, uint16_t port)
{
    switch (pn_addr_family(a)) {
    case AF_INET: ((struct sockaddr_in *)&a->ss)->sin_port = htons(port); break;
    case AF_INET6: ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port); break;
    default: break;
    }
}

const uint8_t *pn_addr_ip_bytes(const pn_addr *a, size_t *len)
{
    switch (pn_addr_family(a)) {
    case AF_INET:
        *len = 4;
        return (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr;
    case AF_INET6:
        *len = 16;
        return (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
    default:
        *len = 0;
        return NULL;
    }
}

void pn_addr_unmap(const pn_addr *in, pn_addr *out)
{
    size_t n;
    const uint8_t *ip = pn_addr_ip_bytes(in, &n);
    if (n == 16 && memcmp(ip, V4_MAPPED_PREFIX, 12) == 0) {
        uint16_t port = pn_addr_port(in);
        uint8_t v4[4];
        memcpy(v4, ip + 12, 4);
        pn_addr_from_bytes(AF_INET, v4, port, out);
        return;
    }
    if (out != in)
        *out = *in;
}

bool pn_addr_same_ip(const pn_addr *a, const pn_addr *b)
{
    pn_addr ua, ub;
    size_t na, nb;
    pn_addr_unmap(a, &ua);
    pn_addr_unmap(b, &ub);
    const uint8_t *ia = pn_addr_ip_bytes(&ua, &na);
    const uint8_t *ib = pn_addr_ip_bytes(&ub, &nb);
    return ia && ib && na == nb && memcmp(ia, ib, na) == 0;
}

bool pn_addr_equal(const pn_addr *a, const pn_addr *b)
{
    return pn_addr_same_ip(a, b) && pn_addr_port(a) == pn_addr_port(b);
}

char *pn_addr_ip_text(const pn_addr *a, char *buf, size_t cap)
{
    size_t n;
    const uint8_t *ip = pn_addr_ip_bytes(a, &n);
    char tmp[INET6_ADDRSTRLEN];
    if (cap == 0)
        return buf;
    if (!ip || !inet_ntop(n == 4 ? AF_INET : AF_INET6, ip, tmp, sizeof tmp) || strlen(tmp) >= cap) {
        snprintf(buf, cap, "?");
        return buf;
    }
    memcpy(buf, tmp, strlen(tmp) + 1);
    return buf;
}

char *pn_addr_to_text(const pn_addr *a, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    int family = pn_addr_family(a);
    int n;
    if (cap == 0)
        return buf;
    if (family == AF_UNSPEC) {
        snprintf(buf, cap, "?");
        return buf;
    }
    pn_addr_ip_text(a, ip, sizeof ip);
    if (family == AF_INET6)
        n = snprintf(buf, cap, "[%s]:%u", ip, (unsigned)pn_addr_port(a));
    else
        n = snprintf(buf, cap, "%s:%u", ip, (unsigned)pn_addr_port(a));
    if (n < 0 || (size_t)n >= cap)
        snprintf(buf, cap, "?");
    return buf;
}

/* ---- CIDR --------------------------------------------------------------------------- */

static void clear_host_bits(uint8_t *addr, size_t nbytes, unsigned prefix)
{
    for (size_t i = 0; i < nbytes; i++) {
        unsigned bit = (unsigned)i * 8;
        if (bit >= prefix)
            addr[i] = 0;
        else if (prefix - bit < 8)
            addr[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
    }
}

int pn_cidr_parse(const char *text, pn_cidr *out)
{
    pn_addr a;
    const char *slash;
    size_t iplen;
    unsigned prefix, maxp;
    memset(out, 0, sizeof *out);
    if (!text)
        return -1;
    slash = strchr(text, '/');
    iplen = slash ? (size_t)(slash - text) : strlen(text);
    if (ip_from_span(text, iplen, 0, &a) < 0)
        return -1;
    maxp = pn_addr_family(&a) == AF_INET ? 32 : 128;
    prefix = maxp;
    if (slash) {
        const char *p = slash + 1;
        size_t n = strlen(p);
        /* 1..3 digits, no leading zero (except "0" itself), within range. */
        if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
            return -1;
        prefix = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)p[i]))
                return -1;
            prefix = prefix * 10 + (unsigned)(p[i] - '0');
        }
        if (prefix > maxp)
            return -1;
    }
    size_t nb;
    const uint8_t *ip = pn_addr_ip_bytes(&a, &nb);
    out->family = pn_addr_family(&a);
    out->prefix = prefix;
    memcpy(out->addr, ip, nb);
    clear_host_bits(out->addr, nb, prefix);
    return 0;
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(a, b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

bool pn_cidr_match_bytes(const pn_cidr *c, int family, const void *ip)
{
    const uint8_t *b = ip;
    if (family == AF_INET6 && c->family == AF_INET && memcmp(b, V4_MAPPED_PREFIX, 12) == 0) {
        family = AF_INET;
        b += 12;
    }
    if (family != c->family)
        return false;
    return prefix_equal(c->addr, b, c->prefix);
}

bool pn_cidr_match(const pn_cidr *c, const pn_addr *a)
{
    size_t n;
    const uint8_t *ip = pn_addr_ip_bytes(a, &n);
    return ip && pn_cidr_match_bytes(c, pn_addr_family(a), ip);
}

char *pn_cidr_to_text(const pn_cidr *c, char *buf, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    if (cap == 0)
        return buf;
    if ((c->family != AF_INET && c->family != AF_INET6) || !inet_ntop(c->family, c->addr, ip, sizeof ip)) {
        snprintf(buf, cap, "?");
        return buf;
    }
    int n = snprintf(buf, cap, "%s/%u", ip, c->prefix);
    if (n < 0 || (size_t)n >= cap)
        snprintf(buf, cap, "?");
    return buf;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

int pn_cidr_list_parse(const char *text, pn_cidr_list *out, char *err, size_t errcap)
{
    size_t item = 0;
    memset(out, 0, sizeof *out);
    if (err && errcap)
        err[0] = '\0';
    if (!text)
        return 0;
    const char *p = text;
    for (;;) {
        while (is_blank(*p))
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && is_blank(last[-1]))
            last--;
        size_t n = (size_t)(last - p);
        item++;
        if (n == 0) {
            /* An all-blank text is an empty list; an empty item between commas is a typo. */
            if (*end == '\0' && item == 1)
                return 0;
            if (err)
                snprintf(err, errcap, "empty CIDR (item %zu)", item);
            return -1;
        }
        if (out->count == PN_CIDR_LIST_MAX) {
            if (err)
                snprintf(err, errcap, "more than %d CIDRs", PN_CIDR_LIST_MAX);
            out->count = 0;
            return -1;
        }
        char tmp[INET6_ADDRSTRLEN + 8];
        if (n >= sizeof tmp || (memcpy(tmp, p, n), tmp[n] = '\0', pn_cidr_parse(tmp, &out->items[out->count])) < 0) {
            if (err)
                snprintf(err, errcap, "bad CIDR '%.*s' (item %zu)", (int)(n > 60 ? 60 : n), p, item);
            out->count = 0;
            return -1;
        }
        out->count++;
        if (*end == '\0')
            return 0;
        p = end + 1;
    }
}

bool pn_cidr_list_match_bytes(const pn_cidr_list *l, int family, const void *ip)
{
    for (size_t i = 0; i < l->count; i++)
        if (pn_cidr_match_bytes(&l->items[i], family, ip))
            return true;
    return false;
}

bool pn_cidr_list_match(const pn_cidr_list *l, const pn_addr *a)
{
    size_t n;
    const uint8_t *ip = pn_addr_ip_bytes(a, &n);
    return ip && pn_cidr_list_match_bytes(l, pn_addr_family(a), ip);
}
