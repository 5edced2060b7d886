/* PROXY protocol v1: the text line (R-V1-*).
 *
 * Two steps, so nothing is decoded before the CRLF (R-V1-22) and errors still come as early
 * as the bytes allow (R-V1-27):
 *  1. incremental, byte by byte: "PROXY ", the protocol token, then a scan to CRLF that
 *     refuses bare CR/LF (R-V1-25), NUL/control/non-ASCII bytes in TCP4/TCP6 lines (R-V1-26)
 *     and lines without CRLF within 107 bytes (R-V1-23);
 *  2. once the CRLF is in: the four fields, in order, with a strict hand-written grammar
 *     (inet_pton accepts forms this grammar refuses, and cannot say why it failed).
 * An error found at byte i is found at byte i for every longer input too, so a prefix and
 * the whole input always agree.
 */
#include "proxy/parse_internal.h"

#include <string.h>

#define V1_TOKEN_AT 6    /* after "PROXY " */
#define V1_FIELDS_AT 11  /* after "PROXY TCP4 " */
#define V1_UNKNOWN_END 13 /* after "PROXY UNKNOWN" */

static inline bool is_digit(uint8_t c)
{
    return (uint8_t)(c - '0') < 10;
}

/* Hex digit value, or -1. */
static inline int hex_value(uint8_t c)
{
    if ((uint8_t)(c - '0') < 10)
        return c - '0';
    uint8_t l = (uint8_t)(c | 0x20);
    if ((uint8_t)(l - 'a') < 6)
        return l - 'a' + 10;
    return -1;
}

/* ---- step 1: scan to CRLF ------------------------------------------------------------- */

/* Scans buf[from..len) for the CRLF. Returns the CR's index via *cr and 1 when found,
 * PP_NEED_MORE when the line may still end, or an error. TCP lines (strict) allow printable
 * ASCII only; the UNKNOWN tail anything but NUL, CR and LF. */
/* True when any of the 8 bytes might be outside printable ASCII (0x20..0x7e). Never false
 * for a word that holds such a byte; a false "maybe" only costs the byte-wise check. */
static inline bool word_maybe_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t below_space = (x - 0x20 * ones) & ~x & highs; /* some byte < 0x20 */
    uint64_t y = x ^ (0x7f * ones);
    uint64_t del = (y - ones) & ~y & highs;                 /* some byte == 0x7f */
    return (below_space | del | (x & highs)) != 0;          /* or some byte >= 0x80 */
}

static int scan_line(const uint8_t *buf, size_t from, size_t len, bool strict, size_t *cr)
{
    for (size_t i = from; i < len; i++) {
        uint64_t word;
        while (i + 8 <= len && (memcpy(&word, buf + i, 8), !word_maybe_special(word)))
            i += 8; /* eight printable bytes at a time: the line's body */
        if (i >= len)
            break;
        uint8_t c = buf[i];
        if ((uint8_t)(c - 0x20) < 0x5f) /* printable ASCII: the common case */
            continue;
        if (c == '\r') {
            if (i + 1 >= len)
                return PP_NEED_MORE;
            if (buf[i + 1] != '\n')
                return PP_ERR_V1_BAD_TERMINATOR; /* bare CR (EC-V1-11) */
            *cr = i;
            return 1;
        }
        if (c == '\n')
            return PP_ERR_V1_BAD_TERMINATOR; /* bare LF (EC-V1-10, EC-V1-12) */
        if (strict)
            return c == '\t' ? PP_ERR_V1_BAD_SEPARATOR /* a TAB where one SP belongs (EC-V1-13) */
                              : PP_ERR_V1_BAD_CHAR;     /* EC-V1-31 */
        if (c == 0)
            return PP_ERR_V1_BAD_CHAR; /* a NUL ends no text line, not even UNKNOWN's */
    }
    return PP_NEED_MORE;
}

/* ---- step 2: fields -------------------------------------------------------------------- */

/* Dotted quad, exactly four 0..255 decimals without leading zeros (R-V1-13, R-V1-14). */
static int parse_ipv4(const uint8_t *p, const uint8_t *e, uint8_t out[4])
{
    for (int k = 0; k < 4; k++) {
        if (p == e || !is_digit(*p))
            return PP_ERR_V1_BAD_ADDRESS;
        unsigned v = (unsigned)(*p++ - '0');
        if (v == 0 && p < e && is_digit(*p))
            return PP_ERR_V1_LEADING_ZERO; /* "010", "00" (EC-V1-18) */
        for (int d = 0; d < 2 && p < e && is_digit(*p); d++)
            v = v * 10 + (unsigned)(*p++ - '0');
        if ((p < e && is_digit(*p)) || v > 255)
            return PP_ERR_V1_BAD_ADDRESS;  /* 4+ digits or 256.. (EC-V1-20) */
        out[k] = (uint8_t)v;
        if (k < 3) {
            if (p == e || *p != '.')
                return PP_ERR_V1_BAD_ADDRESS;
            p++;
        }
    }
    return p == e ? 0 : PP_ERR_V1_BAD_ADDRESS;
}

/* IPv6 text (R-V1-15, A-09): 1-4 hex digits per group, at most one "::" standing for one or
 * more zero groups, exactly 128 bits. A dotted IPv4 tail (two groups) is allowed unless
 * the caller refuses it. No zone ids, brackets or prefixes (EC-V1-28). */
static int parse_ipv6(const uint8_t *p, const uint8_t *e, bool allow_dotted, uint8_t out[16])
{
    uint16_t groups[8];
    int n = 0, gap = -1;
    if (p == e)
        return PP_ERR_V1_BAD_ADDRESS;
    if (*p == ':') {
        if (e - p < 2 || p[1] != ':')
            return PP_ERR_V1_BAD_ADDRESS; /* a lone leading ':' */
        gap = 0;
        p += 2;
    }
    while (p < e) {
        const uint8_t *group = p;
        unsigned v = 0;
        int digits = 0, h;
        while (p < e && digits < 5 && (h = hex_value(*p)) >= 0) {
            v = v << 4 | (unsigned)h;
            p++;
            digits++;
        }
        if (p < e && *p == '.') { /* dotted IPv4 tail: the rest of the field */
            uint8_t v4[4];
            if (!allow_dotted || n > 6)
                return PP_ERR_V1_BAD_ADDRESS;
            int r = parse_ipv4(group, e, v4);
            if (r)
                return r;
            groups[n++] = (uint16_t)(v4[0] << 8 | v4[1]);
            groups[n++] = (uint16_t)(v4[2] << 8 | v4[3]);
            p = e;
            break;
        }
        if (digits == 0 || digits > 4 || n == 8)
            return PP_ERR_V1_BAD_ADDRESS; /* empty or 5-digit group, 9 groups, 'g' ... */
        groups[n++] = (uint16_t)v;
        if (p == e)
            break;
        if (*p != ':')
            return PP_ERR_V1_BAD_ADDRESS; /* '%', '/', ']' and friends */
        p++;
        if (p == e)
            return PP_ERR_V1_BAD_ADDRESS; /* trailing single ':' */
        if (*p == ':') {
            if (gap >= 0)
                return PP_ERR_V1_BAD_ADDRESS; /* a second "::" */
            gap = n;
            p++;
        }
    }
    if (gap < 0 ? n != 8 : n > 7)
        return PP_ERR_V1_BAD_ADDRESS;
    memset(out, 0, 16);
    int head = gap < 0 ? n : gap;
    for (int i = 0; i < head; i++) {
        out[2 * i] = (uint8_t)(groups[i] >> 8);
        out[2 * i + 1] = (uint8_t)groups[i];
    }
    /* Groups after "::" fill the last (n - head) slots. n <= 8 is checked above; the explicit
     * bound lets the compiler see that at stays below 8 too. */
    for (int i = head, at = 8 - (n - head); i < n && at < 8; i++, at++) {
        out[2 * at] = (uint8_t)(groups[i] >> 8);
        out[2 * at + 1] = (uint8_t)groups[i];
    }
    return 0;
}

/* One address field. A field that is valid text of the other family is a mismatch
 * (R-V1-17); anything else is a plain syntax error. */
static int parse_addr(const uint8_t *p, const uint8_t *e, uint8_t family, const pp_options *opts,
                      uint8_t ip[16])
{
    if (family == PP_FAM_INET) {
        int r = parse_ipv4(p, e, ip);
        if (r && memchr(p, ':', (size_t)(e - p)) != NULL)
            return PP_ERR_V1_FAMILY_MISMATCH;
        return r;
    }
    int r = parse_ipv6(p, e, !opts->v1_reject_mapped_ipv4, ip);
    if (r) {
        uint8_t v4[4];
        if (parse_ipv4(p, e, v4) == 0)
            return PP_ERR_V1_FAMILY_MISMATCH;
    }
    return r;
}

/* 0..65535, decimal, no sign, no leading zero, no wrap (R-V1-18, R-V1-19, EC-V1-24). */
static int parse_port(const uint8_t *p, const uint8_t *e, uint16_t *out)
{
    size_t n = (size_t)(e - p);
    if (n == 0)
        return PP_ERR_V1_BAD_PORT;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return PP_ERR_V1_BAD_PORT;
    if (p[0] == '0' && n > 1)
        return PP_ERR_V1_LEADING_ZERO;
    if (n > 5)
        return PP_ERR_V1_BAD_PORT;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (unsigned)(p[i] - '0');
    if (v > 65535)
        return PP_ERR_V1_BAD_PORT;
    *out = (uint16_t)v;
    return 0;
}

/* "src dst sport dport" in buf[V1_FIELDS_AT..cr): single spaces only (R-V1-03), exactly four
 * fields in that order (R-V1-12); errors in position order. */
static int parse_fields(const uint8_t *buf, size_t cr, uint8_t family, const pp_options *opts,
                        pp_endpoint *src, pp_endpoint *dst)
{
    const uint8_t *p = buf + V1_FIELDS_AT, *end = buf + cr;
    for (int f = 0; f < 4; f++) {
        const uint8_t *e = p;
        while (e < end && *e != ' ')
            e++;
        if (e == p)
            return PP_ERR_V1_BAD_SEPARATOR; /* double, leading or trailing space (EC-V1-13) */
        int r;
        switch (f) {
        case 0: r = parse_addr(p, e, family, opts, src->ip); break;
        case 1: r = parse_addr(p, e, family, opts, dst->ip); break;
        case 2: r = parse_port(p, e, &src->port); break;
        default: r = parse_port(p, e, &dst->port); break;
        }
        if (r)
            return r;
        if (f < 3) {
            if (e == end)
                return PP_ERR_V1_FIELD_COUNT; /* EC-V1-25 */
            p = e + 1;
        } else if (e != end) {
            return e + 1 == end ? PP_ERR_V1_BAD_SEPARATOR : PP_ERR_V1_FIELD_COUNT;
        }
    }
    return 0;
}

/* ---- the line ---------------------------------------------------------------------------- */

/* Every field written one by one: a memset of the whole struct costs more than the parse. */
static void write_header(pp_header *out, const uint8_t *buf, size_t cr, uint8_t family, const pp_endpoint *src,
                         const pp_endpoint *dst)
{
    bool unknown = family == PP_FAM_UNSPEC;
    out->version = 1;
    out->command = PP_CMD_PROXY;
    out->family = family;
    out->transport = unknown ? PP_TRANS_UNSPEC : PP_TRANS_STREAM;
    out->ver_cmd = out->fam_byte = 0;
    out->v1_unknown = unknown;
    out->use_carried = !unknown; /* UNKNOWN keeps the real endpoints (R-V1-08) */
    out->src = *src;
    out->dst = *dst;
    out->header_len = cr + 2;
    out->raw = buf;
    out->v1_unknown_tail = unknown ? (pp_bytes){buf + V1_UNKNOWN_END, cr - V1_UNKNOWN_END} : (pp_bytes){NULL, 0};
    out->tlvs = (pp_bytes){NULL, 0};
    memset(&out->idx, 0, sizeof out->idx);
    out->crc_present = out->crc_ok = false;
    out->duplicate_type = 0;
    out->has_duplicate = false;
    out->tlv_count = 0;
}

/* Checks buf[from..len) against the literal lit (which starts at index from). */
static bool literal_prefix_ok(const uint8_t *buf, size_t from, size_t len, const char *lit, size_t lit_len)
{
    size_t stop = from + lit_len < len ? from + lit_len : len;
    for (size_t i = from; i < stop; i++)
        if (buf[i] != (uint8_t)lit[i - from])
            return false;
    return true;
}

/* The incremental part over exactly len bytes; see the file comment. */
static ssize_t parse_line(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out)
{
    /* "PROXY" then one SP (R-V1-02, R-V1-03) */
    if (!literal_prefix_ok(buf, 1, len, "ROXY", 4))
        return PP_ERR_NOT_PROXY; /* "Proxy", "PRXY": not this protocol (R-DET-04) */
    if (len <= 5)
        return PP_NEED_MORE;
    if (buf[5] != ' ')
        return PP_ERR_V1_BAD_SEPARATOR; /* "PROXYTCP4", "PROXY\r\n" (EC-V1-16) */
    if (len <= V1_TOKEN_AT)
        return PP_NEED_MORE;

    /* the protocol token (R-V1-04) */
    uint8_t family;
    uint8_t t = buf[V1_TOKEN_AT];
    if (t == 'T') {
        if (!literal_prefix_ok(buf, 7, len, "CP", 2))
            return PP_ERR_V1_BAD_PROTOCOL;
        if (len <= 9)
            return PP_NEED_MORE;
        if (buf[9] != '4' && buf[9] != '6')
            return PP_ERR_V1_BAD_PROTOCOL; /* TCP5, TCP (EC-V1-15) */
        if (len <= 10)
            return PP_NEED_MORE;
        uint8_t c = buf[10];
        if (c != ' ')
            return c == '\r' || c == '\n' ? PP_ERR_V1_FIELD_COUNT
                   : c == '\t'            ? PP_ERR_V1_BAD_SEPARATOR
                                          : PP_ERR_V1_BAD_PROTOCOL; /* TCP46 */
        family = buf[9] == '4' ? PP_FAM_INET : PP_FAM_INET6;
    } else if (t == 'U') {
        if (!literal_prefix_ok(buf, 7, len, "NKNOWN", 6))
            return PP_ERR_V1_BAD_PROTOCOL;
        if (len <= V1_UNKNOWN_END)
            return PP_NEED_MORE;
        uint8_t c = buf[V1_UNKNOWN_END];
        if (c != '\r' && c != ' ' && c != '\n' && !opts->v1_allow_unknown_suffix)
            return PP_ERR_V1_UNKNOWN_SUFFIX; /* "UNKNOWNxyz" (A-19, EC-V1-33) */
        family = PP_FAM_UNSPEC;
    } else {
        return t == ' ' || t == '\t' ? PP_ERR_V1_BAD_SEPARATOR : PP_ERR_V1_BAD_PROTOCOL;
    }

    /* up to the CRLF */
    size_t cr = 0;
    bool unknown = family == PP_FAM_UNSPEC;
    int r = scan_line(buf, unknown ? V1_UNKNOWN_END : V1_FIELDS_AT, len, !unknown, &cr);
    if (r <= 0)
        return r;

    /* the whole line is in: decode (R-V1-22) */
    pp_endpoint src, dst;
    pp_endpoint_clear(&src);
    pp_endpoint_clear(&dst);
    if (!unknown) {
        r = parse_fields(buf, cr, family, opts, &src, &dst);
        if (r)
            return r;
        src.family = dst.family = family;
    }
    write_header(out, buf, cr, family, &src, &dst);
    return (ssize_t)(cr + 2);
}

/* ---- fast path ------------------------------------------------------------------------- */

/* A complete, valid "PROXY TCP4 a.b.c.d e.f.g.h p q\r\n" in one pass, every read bounded by
 * end. Returns the header length, or 0 for "not this simple case": then the general parser
 * above decides (and finds the precise error). Whatever it accepts, the general parser
 * accepts with the same fields, so the two never disagree. */
static inline bool fast_octets(const uint8_t **pp, const uint8_t *end, uint8_t ip[4])
{
    const uint8_t *p = *pp;
    for (int k = 0; k < 4; k++) {
        if (p >= end || !is_digit(*p))
            return false;
        unsigned v = (unsigned)(*p++ - '0');
        if (p < end && is_digit(*p)) {
            if (v == 0)
                return false;
            v = v * 10 + (unsigned)(*p++ - '0');
            if (p < end && is_digit(*p)) {
                v = v * 10 + (unsigned)(*p++ - '0');
                if (v > 255 || (p < end && is_digit(*p)))
                    return false;
            }
        }
        ip[k] = (uint8_t)v;
        if (p >= end || *p != (k < 3 ? '.' : ' '))
            return false;
        p++;
    }
    *pp = p;
    return true;
}

static inline bool fast_port(const uint8_t **pp, const uint8_t *end, uint8_t stop, uint16_t *port)
{
    const uint8_t *p = *pp;
    if (p >= end || !is_digit(*p))
        return false;
    unsigned v = (unsigned)(*p++ - '0');
    int digits = 1;
    while (p < end && is_digit(*p)) {
        if (v == 0 || ++digits > 5)
            return false;
        v = v * 10 + (unsigned)(*p++ - '0');
    }
    if (v > 65535 || p >= end || *p != stop)
        return false;
    *port = (uint16_t)v;
    *pp = p + 1;
    return true;
}

static ssize_t parse_tcp4_fast(const uint8_t *buf, size_t len, pp_header *out)
{
    static const uint8_t lead[V1_FIELDS_AT] = {'P', 'R', 'O', 'X', 'Y', ' ', 'T', 'C', 'P', '4', ' '};
    if (len < V1_FIELDS_AT + 16 || memcmp(buf, lead, V1_FIELDS_AT) != 0)
        return 0;
    const uint8_t *p = buf + V1_FIELDS_AT, *end = buf + len;
    pp_endpoint src, dst;
    pp_endpoint_clear(&src);
    pp_endpoint_clear(&dst);
    if (!fast_octets(&p, end, src.ip) || !fast_octets(&p, end, dst.ip) || !fast_port(&p, end, ' ', &src.port) ||
        !fast_port(&p, end, '\r', &dst.port) || p >= end || *p != '\n')
        return 0;
    size_t cr = (size_t)(p - 1 - buf);
    src.family = dst.family = PP_FAM_INET;
    write_header(out, buf, cr, PP_FAM_INET, &src, &dst);
    return (ssize_t)(cr + 2);
}

ssize_t pp_parse_v1(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out)
{
    /* The line must end within 107 bytes (R-V1-21, R-V1-23), or within opts->max_header
     * when that is smaller. Judging only that many bytes keeps prefixes consistent: if they
     * hold no complete line, no later byte can make one. */
    size_t limit = PP_V1_MAX_LEN;
    ssize_t too_long = PP_ERR_V1_TOO_LONG;
    if (pp_max_header(opts) < limit) {
        limit = pp_max_header(opts);
        too_long = PP_ERR_TOO_LARGE;
    }
    size_t judged = len < limit ? len : limit;
    ssize_t r = parse_tcp4_fast(buf, judged, out);
    if (r > 0)
        return r;
    r = parse_line(buf, judged, opts, out);
    if (r == PP_NEED_MORE && len >= limit)
        return too_long;
    return r;
}
