/* PROXY header builder: every valid v1/v2 header and every deliberate malformation.
 *
 * Writes through a bounded cursor, so nothing lands past cap whatever the spec says.
 * Malformations are applied exactly where the spec asks and nowhere else; the CRC32C TLV
 * (crc_auto) is computed last, over the finished header with every crc_auto value zeroed
 * (R-CRC-02..04), so it also covers any override bytes.
 */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <string.h>

/* ---- bounded output cursor ------------------------------------------------------------- */

typedef struct out_cursor {
    uint8_t *buf;
    size_t len, cap;
    bool failed; /* cap too small, or the spec cannot be expressed */
} out_cursor;

/* Copies n bytes, or writes n zero bytes when src is NULL. */
static void put_bytes(out_cursor *o, const void *src, size_t n)
{
    if (o->failed || n > o->cap - o->len) {
        o->failed = true;
        return;
    }
    if (n) {
        if (src)
            memcpy(o->buf + o->len, src, n);
        else
            memset(o->buf + o->len, 0, n);
    }
    o->len += n;
}

static void put_u8(out_cursor *o, uint8_t v)
{
    put_bytes(o, &v, 1);
}

static void put_be16(out_cursor *o, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(o, b, 2);
}

static void put_be32(out_cursor *o, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(o, b, 4);
}

static void put_str(out_cursor *o, const char *s)
{
    put_bytes(o, s, strlen(s));
}

/* Patches a big-endian 16-bit field written earlier (at offset at). */
static void patch_be16(out_cursor *o, size_t at, uint16_t v)
{
    if (o->failed)
        return;
    o->buf[at] = (uint8_t)(v >> 8);
    o->buf[at + 1] = (uint8_t)v;
}

/* ---- addresses ------------------------------------------------------------------------- */

/* The 16-byte form of an endpoint: an INET endpoint becomes IPv4-mapped (::ffff:a.b.c.d). */
static void endpoint_ip6(const pp_endpoint *ep, uint8_t out[16])
{
    if (ep->family == PP_FAM_INET) {
        memset(out, 0, 10);
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, ep->ip, 4);
    } else {
        memcpy(out, ep->ip, 16);
    }
}

/* One 108-byte AF_UNIX block: a C string NUL-padded, or 108 raw bytes (unix_raw). */
static void put_unix_path(out_cursor *o, const uint8_t *path, bool raw)
{
    size_t n = 0;
    if (path)
        n = raw ? PP_UNIX_PATH_LEN : strnlen((const char *)path, PP_UNIX_PATH_LEN);
    put_bytes(o, path, n);
    put_bytes(o, NULL, PP_UNIX_PATH_LEN - n);
}

/* The address block follows spec.family, whatever byte 14 says (fam_override). */
static void put_v2_addresses(out_cursor *o, const pp_build_spec *spec)
{
    uint8_t ip[16];
    switch (spec->family) {
    case PP_FAM_INET:
        put_bytes(o, spec->src.ip, 4);
        put_bytes(o, spec->dst.ip, 4);
        put_be16(o, spec->src.port);
        put_be16(o, spec->dst.port);
        break;
    case PP_FAM_INET6:
        endpoint_ip6(&spec->src, ip);
        put_bytes(o, ip, 16);
        endpoint_ip6(&spec->dst, ip);
        put_bytes(o, ip, 16);
        put_be16(o, spec->src.port);
        put_be16(o, spec->dst.port);
        break;
    case PP_FAM_UNIX:
        put_unix_path(o, spec->src.unix_path, spec->unix_raw);
        put_unix_path(o, spec->dst.unix_path, spec->unix_raw);
        break;
    default: /* UNSPEC and undefined families carry no address block */
        break;
    }
}

/* ---- TLVs ------------------------------------------------------------------------------ */

static void put_tlv(out_cursor *o, const pp_build_tlv *t, const pp_build_ssl *ssl, uint32_t crc_stored);

/* SSL value: client, verify (big-endian, A-10), then the sub-TLVs in the given order. */
static void put_ssl_value(out_cursor *o, const pp_build_ssl *ssl, uint32_t crc_stored)
{
    put_u8(o, ssl->client);
    put_be32(o, ssl->verify);
    for (size_t i = 0; i < ssl->nsubs; i++)
        put_tlv(o, &ssl->subs[i], NULL, crc_stored);
}

/* type, length (real or len_override), value. crc_stored is the 4-byte value a crc_auto TLV
 * carries: 0 on the first pass, the final (possibly corrupted or swapped) CRC on the second. */
static void put_tlv(out_cursor *o, const pp_build_tlv *t, const pp_build_ssl *ssl, uint32_t crc_stored)
{
    put_u8(o, t->type);
    size_t len_at = o->len;
    put_be16(o, 0);
    size_t value_at = o->len;

    if (t->crc_auto)
        put_be32(o, crc_stored);
    else if (t->type == PP_TLV_SSL && t->value == NULL && ssl != NULL)
        put_ssl_value(o, ssl, crc_stored);
    else
        put_bytes(o, t->value, t->len);
    if (o->failed)
        return;

    size_t real = o->len - value_at;
    if (t->len_override > 0xFFFF || (t->len_override < 0 && real > 0xFFFF))
        o->failed = true; /* a 16-bit field cannot say it */
    else
        patch_be16(o, len_at, (uint16_t)(t->len_override >= 0 ? (size_t)t->len_override : real));
}

static bool spec_has_crc_auto(const pp_build_spec *spec)
{
    for (size_t i = 0; i < spec->ntlvs; i++) {
        const pp_build_tlv *t = &spec->tlvs[i];
        if (t->crc_auto)
            return true;
        if (t->type == PP_TLV_SSL && t->value == NULL && spec->ssl != NULL)
            for (size_t j = 0; j < spec->ssl->nsubs; j++)
                if (spec->ssl->subs[j].crc_auto)
                    return true;
    }
    return false;
}

/* ---- v2 -------------------------------------------------------------------------------- */

static void put_v2(out_cursor *o, const pp_build_spec *spec, uint32_t crc_stored)
{
    put_bytes(o, spec->sig_override ? spec->sig_override : PP_V2_SIGNATURE, PP_V2_SIG_LEN);
    put_u8(o, spec->ver_cmd_override >= 0 ? (uint8_t)spec->ver_cmd_override
                                          : (uint8_t)(0x20 | (spec->command & 0x0F)));
    put_u8(o, spec->fam_override >= 0
                  ? (uint8_t)spec->fam_override
                  : (uint8_t)((spec->family << 4) | (spec->transport & 0x0F)));
    put_be16(o, 0); /* length, patched below */
    put_v2_addresses(o, spec);
    for (size_t i = 0; i < spec->ntlvs; i++)
        put_tlv(o, &spec->tlvs[i], spec->ssl, crc_stored);
    if (o->failed)
        return;

    long real = (long)(o->len - PP_V2_FIXED_LEN);
    long field = spec->len_override >= 0 ? (long)spec->len_override : real + spec->len_delta;
    if (field < 0 || field > 0xFFFF) {
        o->failed = true;
        return;
    }
    patch_be16(o, 14, (uint16_t)field);
}

static uint32_t bswap32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xFF00u) | ((v << 8) & 0xFF0000u) | (v << 24);
}

static ssize_t build_v2(const pp_build_spec *spec, uint8_t *buf, size_t cap)
{
    if (spec->ver_cmd_override > 0xFF || spec->fam_override > 0xFF)
        return -1; /* a byte cannot say it */
    out_cursor o = {.buf = buf, .cap = cap};
    put_v2(&o, spec, 0);
    if (o.failed)
        return -1;
    if (!spec_has_crc_auto(spec))
        return (ssize_t)o.len;

    /* Every crc_auto value is zero now: the CRC of the whole buffer is the CRC of the header
     * with its value(s) zeroed. A second, identical pass writes it in (R-CRC-04). */
    uint32_t crc = pp_crc32c(buf, o.len);
    if (spec->crc_corrupt)
        crc ^= 0x00000001u;
    if (spec->crc_little_endian)
        crc = bswap32(crc);
    out_cursor again = {.buf = buf, .cap = cap};
    put_v2(&again, spec, crc);
    return again.failed ? -1 : (ssize_t)again.len;
}

/* ---- v1 -------------------------------------------------------------------------------- */

static void put_port_text(out_cursor *o, uint16_t port)
{
    char digits[6];
    size_t n = 0;
    do {
        digits[sizeof digits - 1 - n++] = (char)('0' + port % 10);
        port /= 10;
    } while (port);
    put_bytes(o, digits + sizeof digits - n, n);
}

/* inet_ntop text: dotted quad, or RFC 5952 compressed IPv6 (with dotted IPv4-mapped). */
static void put_ip_text(out_cursor *o, const pp_endpoint *ep, bool v6)
{
    char text[INET6_ADDRSTRLEN];
    uint8_t ip[16];
    if (v6) {
        endpoint_ip6(ep, ip);
        inet_ntop(AF_INET6, ip, text, sizeof text);
    } else {
        inet_ntop(AF_INET, ep->ip, text, sizeof text);
    }
    put_str(o, text);
}

static ssize_t build_v1(const pp_build_spec *spec, uint8_t *buf, size_t cap)
{
    out_cursor o = {.buf = buf, .cap = cap};
    if (spec->v1_text) {
        put_str(&o, spec->v1_text);
    } else if (spec->family == PP_FAM_INET || spec->family == PP_FAM_INET6) {
        bool v6 = spec->family == PP_FAM_INET6;
        put_str(&o, v6 ? "PROXY TCP6 " : "PROXY TCP4 ");
        put_ip_text(&o, &spec->src, v6);
        put_u8(&o, ' ');
        put_ip_text(&o, &spec->dst, v6);
        put_u8(&o, ' ');
        put_port_text(&o, spec->src.port);
        put_u8(&o, ' ');
        put_port_text(&o, spec->dst.port);
        put_str(&o, "\r\n");
    } else { /* R-V1-05: everything that is not TCP over IPv4/IPv6 */
        put_str(&o, "PROXY UNKNOWN");
        if (spec->v1_unknown_tail)
            put_str(&o, spec->v1_unknown_tail);
        put_str(&o, "\r\n");
    }
    return o.failed ? -1 : (ssize_t)o.len;
}

/* ---- public ---------------------------------------------------------------------------- */

void pp_build_spec_init(pp_build_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->version = 2;
    spec->command = PP_CMD_PROXY;
    spec->family = PP_FAM_INET;
    spec->transport = PP_TRANS_STREAM;
    spec->src.family = PP_FAM_INET;
    spec->dst.family = PP_FAM_INET;
    spec->ver_cmd_override = -1;
    spec->fam_override = -1;
    spec->len_override = -1;
    spec->len_delta = 0;
}

ssize_t pp_build(const pp_build_spec *spec, uint8_t *buf, size_t cap)
{
    if (spec->version == 1)
        return build_v1(spec, buf, cap);
    if (spec->version == 2)
        return build_v2(spec, buf, cap);
    return -1;
}

ssize_t pp_build_v1(const pp_endpoint *src, const pp_endpoint *dst, uint8_t *buf, size_t cap)
{
    pp_build_spec spec;
    pp_build_spec_init(&spec);
    spec.version = 1;
    spec.src = *src;
    spec.dst = *dst;
    bool src_ip = src->family == PP_FAM_INET || src->family == PP_FAM_INET6;
    bool dst_ip = dst->family == PP_FAM_INET || dst->family == PP_FAM_INET6;
    if (!src_ip || !dst_ip)
        spec.family = PP_FAM_UNSPEC; /* short UNKNOWN form, as HAProxy sends for UNIX clients */
    else if (src->family == PP_FAM_INET && dst->family == PP_FAM_INET)
        spec.family = PP_FAM_INET;
    else
        spec.family = PP_FAM_INET6; /* mixed pair: IPv4 side written IPv4-mapped */
    return pp_build(&spec, buf, cap);
}
