/* tests/integration/pcaps: PROXY header decoding for recorded captures (see proxy_header.h). */
#include "proxy_header.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v2_signature[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static int fail(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A v1 port: 1-5 digits, no leading zero, at most 65535 (R-V1-18/19). */
static bool parse_port(const char *s, unsigned *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 5 || (s[0] == '0' && n > 1) || strspn(s, "0123456789") != n)
        return false;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(s[i] - '0');
    *out = v;
    return v <= 65535;
}

static int decode_v1(const uint8_t *buf, size_t len, ph_header *h, char *err, size_t errcap)
{
    size_t limit = len < 107 ? len : 107; /* R-V1-21: at most 107 bytes with the CRLF */
    size_t end = 0;
    while (end + 1 < limit && !(buf[end] == '\r' && buf[end + 1] == '\n'))
        end++;
    if (end + 1 >= limit)
        return fail(err, errcap, "v1: no CRLF within the first 107 bytes (R-V1-20/21)");
    memcpy(h->v1_line, buf, end);
    h->v1_line[end] = '\0';
    h->len = end + 2;

    char copy[sizeof(h->v1_line)], *tok[7];
    memcpy(copy, h->v1_line, end + 1);
    size_t ntok = 0;
    for (char *p = copy;; p++) { /* split on single spaces; an empty token means a doubled space */
        char *sp = strchr(p, ' ');
        if (ntok == 7)
            return fail(err, errcap, "v1: more than 6 fields in \"%s\" (R-V1-03)", h->v1_line);
        tok[ntok++] = p;
        if (!sp)
            break;
        *sp = '\0';
        p = sp;
    }
    if (ntok != 6 || strcmp(tok[0], "PROXY") != 0)
        return fail(err, errcap, "v1: expected \"PROXY TCPx src dst sport dport\", got \"%s\" (R-V1-02/03)",
                    h->v1_line);
    int af = strcmp(tok[1], "TCP4") == 0 ? AF_INET : strcmp(tok[1], "TCP6") == 0 ? AF_INET6 : -1;
    if (af < 0)
        return fail(err, errcap, "v1: protocol \"%s\" is not TCP4/TCP6 (R-V1-04)", tok[1]);
    uint8_t scratch[16];
    for (int i = 2; i <= 3; i++)
        if (strlen(tok[i]) >= sizeof(h->src) || inet_pton(af, tok[i], scratch) != 1)
            return fail(err, errcap, "v1: \"%s\" is not a %s address (R-V1-13/14)", tok[i], tok[1]);
    if (!parse_port(tok[4], &h->src_port) || !parse_port(tok[5], &h->dst_port))
        return fail(err, errcap, "v1: bad port in \"%s\" (R-V1-18/19)", h->v1_line);
    h->version = 1;
    snprintf(h->family, sizeof(h->family), "%s", tok[1]);
    snprintf(h->src, sizeof(h->src), "%s", tok[2]);
    snprintf(h->dst, sizeof(h->dst), "%s", tok[3]);
    return 0;
}

static bool printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return false;
    return true;
}

static int decode_ssl(const uint8_t *v, size_t n, ph_header *h, char *err, size_t errcap)
{
    if (n < 5)
        return fail(err, errcap, "v2: SSL TLV of %zu bytes, shorter than its 5-byte head (R-SSL-01)", n);
    h->has_ssl = true;
    h->ssl_client = v[0];
    h->ssl_verify = (uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 8 | v[4];
    for (size_t off = 5; off < n;) {
        if (n - off < 3)
            return fail(err, errcap, "v2: SSL sub-TLV header cut at byte %zu (R-SSL-04)", off);
        uint8_t type = v[off];
        size_t sub_len = be16(v + off + 1);
        const uint8_t *sub = v + off + 3;
        if (sub_len > n - off - 3)
            return fail(err, errcap, "v2: SSL sub-TLV 0x%02x overruns the SSL TLV (R-SSL-04)", type);
        if (type == 0x21 || type == 0x22) {
            char *dst = type == 0x21 ? h->ssl_version : h->cn;
            size_t cap = type == 0x21 ? sizeof(h->ssl_version) : sizeof(h->cn);
            if (sub_len >= cap || !printable(sub, sub_len))
                return fail(err, errcap, "v2: SSL sub-TLV 0x%02x is too long or not printable", type);
            memcpy(dst, sub, sub_len);
            dst[sub_len] = '\0';
            if (type == 0x22)
                h->has_cn = true;
        }
        off += 3 + sub_len;
    }
    return 0;
}

static int decode_v2(const uint8_t *buf, size_t len, ph_header *h, char *err, size_t errcap)
{
    if (len < 16)
        return fail(err, errcap, "v2: only %zu bytes, the fixed header has 16", len);
    if (buf[12] != 0x21)
        return fail(err, errcap, "v2: byte 13 is 0x%02x, expected 0x21 (version 2, PROXY) (R-V2-02/04)", buf[12]);
    size_t body = be16(buf + 14), addr_len;
    int af;
    if (buf[13] == 0x11) {
        af = AF_INET, addr_len = 12;
        snprintf(h->family, sizeof(h->family), "INET");
    } else if (buf[13] == 0x21) {
        af = AF_INET6, addr_len = 36;
        snprintf(h->family, sizeof(h->family), "INET6");
    } else {
        return fail(err, errcap, "v2: family/transport 0x%02x is not INET/INET6 STREAM (R-V2-22)", buf[13]);
    }
    if (body < addr_len)
        return fail(err, errcap, "v2: length %zu is shorter than the %zu-byte address block (R-V2-22)", body, addr_len);
    if (len < 16 + body)
        return fail(err, errcap, "v2: header says %zu bytes, the stream has %zu", 16 + body, len);
    const uint8_t *a = buf + 16;
    size_t alen = af == AF_INET ? 4 : 16;
    inet_ntop(af, a, h->src, sizeof(h->src));
    inet_ntop(af, a + alen, h->dst, sizeof(h->dst));
    h->src_port = be16(a + 2 * alen);
    h->dst_port = be16(a + 2 * alen + 2);
    for (size_t off = 16 + addr_len; off < 16 + body;) { /* R-TLV-01/02 */
        if (16 + body - off < 3)
            return fail(err, errcap, "v2: TLV header cut at byte %zu (R-TLV-01)", off);
        uint8_t type = buf[off];
        size_t tlv_len = be16(buf + off + 1);
        if (tlv_len > 16 + body - off - 3)
            return fail(err, errcap, "v2: TLV 0x%02x overruns the header (R-TLV-02)", type);
        h->tlv_count++;
        if (type == 0x20 && decode_ssl(buf + off + 3, tlv_len, h, err, errcap) != 0)
            return -1;
        off += 3 + tlv_len;
    }
    h->version = 2;
    h->len = 16 + body;
    return 0;
}

int ph_decode(const uint8_t *buf, size_t len, ph_header *h, char *err, size_t errcap)
{
    memset(h, 0, sizeof(*h));
    if (len >= 6 && memcmp(buf, "PROXY ", 6) == 0)
        return decode_v1(buf, len, h, err, errcap);
    if (len >= sizeof(v2_signature) && memcmp(buf, v2_signature, sizeof(v2_signature)) == 0)
        return decode_v2(buf, len, h, err, errcap);
    return fail(err, errcap, "the first client bytes are neither a v1 \"PROXY \" line nor the v2 signature "
                "(R-GEN-01, R-V1-02, R-V2-01)");
}
