/* Text forms of parsed headers, for decoders, dry runs and logs. Bounded: every function
 * writes at most cap bytes (NUL included) and returns what it wrote, without the NUL. Values
 * are escaped (\xHH for anything outside printable ASCII) and long values are cut. */
#include "proxy/parse_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VALUE_SHOWN_MAX 64 /* bytes of a TLV value shown before "..." */

typedef struct text_out {
    char *buf;
    size_t cap, len; /* len < cap whenever cap > 0 */
} text_out;

static text_out text_init(char *buf, size_t cap)
{
    if (cap > 0)
        buf[0] = '\0';
    return (text_out){buf, cap, 0};
}

static void put(text_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text_out *o, const char *fmt, ...)
{
    if (o->cap == 0 || o->len + 1 >= o->cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* Escaped bytes, at most max of them, then "...(N bytes)" when cut. */
static void put_escaped(text_out *o, const uint8_t *p, size_t n, size_t max)
{
    size_t shown = n < max ? n : max;
    for (size_t i = 0; i < shown; i++) {
        uint8_t c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
            put(o, "%c", c);
        else
            put(o, "\\x%02x", c);
    }
    if (shown < n)
        put(o, "...(%zu bytes)", n);
}

static void put_hex(text_out *o, const uint8_t *p, size_t n, size_t max)
{
    size_t shown = n < max ? n : max;
    for (size_t i = 0; i < shown; i++)
        put(o, "%02x", p[i]);
    if (shown < n)
        put(o, "...(%zu bytes)", n);
}

/* ---- addresses -------------------------------------------------------------------------- */

const char *pp_endpoint_addr_str(const pp_endpoint *ep, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    text_out o = text_init(buf, cap);
    char tmp[INET6_ADDRSTRLEN];
    switch (ep->family) {
    case PP_FAM_INET:
        put(&o, "%s", inet_ntop(AF_INET, ep->ip, tmp, sizeof tmp) ? tmp : "?");
        break;
    case PP_FAM_INET6:
        put(&o, "%s", inet_ntop(AF_INET6, ep->ip, tmp, sizeof tmp) ? tmp : "?");
        break;
    case PP_FAM_UNIX: {
        if (ep->unix_path == NULL) {
            put(&o, "?");
            break;
        }
        /* a leading NUL is a Linux abstract name, shown as '@' the way ss(8) does (A-07) */
        const uint8_t *p = ep->unix_path;
        bool abstract = false;
        for (size_t i = 1; p[0] == 0 && i < PP_UNIX_PATH_LEN && !abstract; i++)
            abstract = p[i] != 0; /* all zeros is just an empty path */
        size_t start = abstract ? 1 : 0, end = start;
        while (end < PP_UNIX_PATH_LEN && p[end] != 0)
            end++;
        put(&o, "%s", start ? "@" : "");
        put_escaped(&o, p + start, end - start, PP_UNIX_PATH_LEN);
        break;
    }
    default:
        put(&o, "-");
        break;
    }
    return buf;
}

/* ---- names ------------------------------------------------------------------------------ */

static const char *family_name(uint8_t f)
{
    static const char *names[] = {"UNSPEC", "INET", "INET6", "UNIX"};
    return f < 4 ? names[f] : "invalid";
}

static const char *transport_name(uint8_t t)
{
    static const char *names[] = {"UNSPEC", "STREAM", "DGRAM"};
    return t < 3 ? names[t] : "invalid";
}

static const char *tlv_name(uint8_t type)
{
    switch (type) {
    case PP_TLV_ALPN: return "ALPN";
    case PP_TLV_AUTHORITY: return "AUTHORITY";
    case PP_TLV_CRC32C: return "CRC32C";
    case PP_TLV_NOOP: return "NOOP";
    case PP_TLV_UNIQUE_ID: return "UNIQUE_ID";
    case PP_TLV_SSL: return "SSL";
    case PP_TLV_NETNS: return "NETNS";
    case PP_TLV_GCP: return "GCP";
    case PP_TLV_AWS: return "AWS";
    case PP_TLV_AZURE: return "AZURE";
    default:
        if (type >= 0xE0 && type <= 0xEF)
            return "custom";
        if (type >= 0xF0 && type <= 0xF7)
            return "experiment";
        if (type >= 0xF8)
            return "future";
        return "unassigned";
    }
}

static const char *ssl_sub_name(uint8_t type)
{
    static const char *names[] = {"VERSION", "CN", "CIPHER", "SIG_ALG", "KEY_ALG", "GROUP", "SIG_SCHEME", "CLIENT_CERT"};
    return type >= PP_SSL_VERSION && type <= PP_SSL_CLIENT_CERT ? names[type - PP_SSL_VERSION] : "unknown";
}

static void put_client_flags(text_out *o, uint8_t client)
{
    put(o, "0x%02x", client);
    if (client & 7)
        put(o, " (%s%s%s)", client & PP_CLIENT_SSL ? "SSL" : "",
            client & PP_CLIENT_CERT_CONN ? (client & PP_CLIENT_SSL ? ",CERT_CONN" : "CERT_CONN") : "",
            client & PP_CLIENT_CERT_SESS ? (client & 3 ? ",CERT_SESS" : "CERT_SESS") : "");
}

/* ---- multi-line description ------------------------------------------------------------- */

static void describe_tlv_value(text_out *o, const pp_header *h, const pp_tlv *t)
{
    switch (t->type) {
    case PP_TLV_CRC32C:
        if (t->len == 4) {
            put(o, "0x%08x", pp_be32(t->value));
            if (h->crc_present && t->value == h->raw + h->idx.crc32c + 3)
                put(o, " (%s)", h->crc_ok ? "verified" : "not verified");
        } else {
            put_hex(o, t->value, t->len, VALUE_SHOWN_MAX);
        }
        break;
    case PP_TLV_NOOP:
        put(o, "(padding)");
        break;
    case PP_TLV_GCP:
        if (t->len == 8) {
            uint64_t id = 0;
            for (int i = 0; i < 8; i++)
                id = id << 8 | t->value[i];
            put(o, "psc_connection_id=%llu", (unsigned long long)id);
        } else {
            put_hex(o, t->value, t->len, VALUE_SHOWN_MAX);
        }
        break;
    case PP_TLV_AWS:
        if (t->len >= 1 && t->value[0] == 0x01) {
            put(o, "vpce_id=\"");
            put_escaped(o, t->value + 1, t->len - 1u, VALUE_SHOWN_MAX);
            put(o, "\"");
        } else {
            put_hex(o, t->value, t->len, VALUE_SHOWN_MAX);
        }
        break;
    case PP_TLV_AZURE:
        if (t->len == 5 && t->value[0] == 0x01)
            put(o, "linkid=%u", (unsigned)t->value[1] | (unsigned)t->value[2] << 8 | (unsigned)t->value[3] << 16 |
                                    (unsigned)t->value[4] << 24);
        else
            put_hex(o, t->value, t->len, VALUE_SHOWN_MAX);
        break;
    case PP_TLV_ALPN:
    case PP_TLV_AUTHORITY:
    case PP_TLV_UNIQUE_ID:
    case PP_TLV_NETNS:
        put(o, "\"");
        put_escaped(o, t->value, t->len, VALUE_SHOWN_MAX);
        put(o, "\"");
        break;
    default:
        put_hex(o, t->value, t->len, VALUE_SHOWN_MAX);
        break;
    }
}

static void describe_ssl(text_out *o, const pp_tlv *t)
{
    if (t->len < 5)
        return;
    put(o, "client=");
    put_client_flags(o, t->value[0]);
    put(o, " verify=%u\n", (unsigned)pp_be32(t->value + 1));
    pp_tlv_iter it;
    pp_tlv sub;
    pp_ssl_iter_init(&it, (pp_bytes){t->value + 5, t->len - 5u});
    while (pp_tlv_next(&it, &sub)) {
        put(o, "    0x%02x %-11s len %-5u ", sub.type, ssl_sub_name(sub.type), sub.len);
        if (sub.type == PP_SSL_CLIENT_CERT) {
            put(o, "DER ");
            put_hex(o, sub.value, sub.len, 16);
        } else {
            put(o, "\"");
            put_escaped(o, sub.value, sub.len, VALUE_SHOWN_MAX);
            put(o, "\"");
        }
        put(o, "\n");
    }
}

size_t pp_header_describe(const pp_header *h, char *buf, size_t cap)
{
    text_out o = text_init(buf, cap);
    char src[PP_UNIX_PATH_LEN * 4 + 16], dst[PP_UNIX_PATH_LEN * 4 + 16];
    pp_endpoint_addr_str(&h->src, src, sizeof src);
    pp_endpoint_addr_str(&h->dst, dst, sizeof dst);

    if (h->version == 1) {
        put(&o, "version:     1 (text line, %zu bytes with CRLF)\n", h->header_len);
        if (h->v1_unknown) {
            put(&o, "protocol:    UNKNOWN\n");
            put(&o, "tail:        \"");
            put_escaped(&o, h->v1_unknown_tail.ptr, h->v1_unknown_tail.len, PP_V1_MAX_LEN);
            put(&o, "\" (ignored)\n");
            put(&o, "addresses:   not carried: use the real connection endpoints\n");
            return o.len;
        }
        put(&o, "protocol:    %s\n", h->family == PP_FAM_INET ? "TCP4" : "TCP6");
        put(&o, "source:      %s port %u\n", src, h->src.port);
        put(&o, "destination: %s port %u\n", dst, h->dst.port);
        return o.len;
    }

    put(&o, "version:     2 (binary, %zu bytes = 16 + %zu)\n", h->header_len, h->header_len - PP_V2_FIXED_LEN);
    put(&o, "command:     %s (0x%02x)\n", h->command == PP_CMD_LOCAL ? "LOCAL" : "PROXY", h->ver_cmd);
    put(&o, "family:      %s / %s (0x%02x)\n", family_name(h->family), transport_name(h->transport), h->fam_byte);
    if (h->use_carried) {
        if (h->family == PP_FAM_UNIX) {
            put(&o, "source:      unix:%s\n", src);
            put(&o, "destination: unix:%s\n", dst);
        } else {
            put(&o, "source:      %s port %u\n", src, h->src.port);
            put(&o, "destination: %s port %u\n", dst, h->dst.port);
        }
    } else {
        put(&o, "addresses:   not used: keep the real connection endpoints (%s)\n",
            h->command == PP_CMD_LOCAL ? "LOCAL" : "unspecified family");
    }
    size_t block = (size_t)(h->tlvs.ptr - h->raw) - PP_V2_FIXED_LEN;
    put(&o, "address block: %zu bytes\n", block);
    if (h->tlvs.len > 0 && h->tlv_count == 0) {
        put(&o, "tlvs:        %zu bytes, not parsed\n", h->tlvs.len);
        return o.len;
    }
    put(&o, "tlvs:        %u (%zu bytes)%s\n", h->tlv_count, h->tlvs.len,
        h->has_duplicate ? " (duplicate type seen)" : "");
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t) && o.len + 1 < o.cap) {
        put(&o, "  0x%02x %-10s len %-5u ", t.type, tlv_name(t.type), t.len);
        if (t.type == PP_TLV_SSL) {
            describe_ssl(&o, &t);
            continue;
        }
        describe_tlv_value(&o, h, &t);
        put(&o, "\n");
    }
    return o.len;
}

/* ---- one-line summary ------------------------------------------------------------------- */

static void put_named(text_out *o, bool *first, const char *name, pp_bytes v)
{
    put(o, "%s%s=", *first ? "" : " ", name);
    put_escaped(o, v.ptr, v.len, VALUE_SHOWN_MAX);
    *first = false;
}

size_t pp_tlv_summary(const pp_header *h, char *buf, size_t cap)
{
    text_out o = text_init(buf, cap);
    bool first = true;
    pp_bytes v;
    if (h->version != 2)
        return o.len;
    if (h->tlvs.len > 0 && h->tlv_count == 0) {
        put(&o, "tlvs=skipped(%zu bytes)", h->tlvs.len);
        return o.len;
    }
    if (pp_get_alpn(h, &v))
        put_named(&o, &first, "alpn", v);
    if (pp_get_authority(h, &v))
        put_named(&o, &first, "authority", v);
    if (pp_get_unique_id(h, &v))
        put_named(&o, &first, "unique_id", v);
    if (pp_get_netns(h, &v))
        put_named(&o, &first, "netns", v);
    if (pp_get_aws_vpce_id(h, &v))
        put_named(&o, &first, "aws_vpce_id", v);
    uint32_t u32;
    if (pp_get_azure_linkid(h, &u32)) {
        put(&o, "%sazure_linkid=%u", first ? "" : " ", u32);
        first = false;
    }
    uint64_t u64;
    if (pp_get_gcp_psc_id(h, &u64)) {
        put(&o, "%sgcp_psc_id=%llu", first ? "" : " ", (unsigned long long)u64);
        first = false;
    }
    pp_ssl_info ssl;
    if (pp_get_ssl(h, &ssl)) {
        put(&o, "%sssl{client=0x%02x verify=%u", first ? "" : " ", ssl.client, (unsigned)ssl.verify);
        const struct { const char *name; pp_bytes v; } subs[] = {
            {"version", ssl.version}, {"cn", ssl.cn},         {"cipher", ssl.cipher},
            {"sig_alg", ssl.sig_alg}, {"key_alg", ssl.key_alg}, {"group", ssl.group},
            {"sig_scheme", ssl.sig_scheme},
        };
        bool inner_first = false;
        for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
            if (subs[i].v.ptr)
                put_named(&o, &inner_first, subs[i].name, subs[i].v);
        if (ssl.client_cert.ptr)
            put(&o, " client_cert=%u bytes", (unsigned)ssl.client_cert.len);
        put(&o, "}");
        first = false;
    }
    if (h->crc_present) {
        put(&o, "%scrc32c=%s", first ? "" : " ", h->crc_ok ? "ok" : "unchecked");
        first = false;
    }
    if (pp_get_noop(h, &v)) {
        put(&o, "%snoop", first ? "" : " ");
        first = false;
    }
    if (h->has_duplicate)
        put(&o, "%sduplicate=0x%02x", first ? "" : " ", h->duplicate_type);
    return o.len;
}
