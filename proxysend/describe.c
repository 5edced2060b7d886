/* Hexdumps, JSON and header descriptions for proxysend's reports. */
#include "describe.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void ps_hexdump(FILE *f, const uint8_t *p, size_t n)
{
    for (size_t off = 0; off < n; off += 16) {
        fprintf(f, "%08zx: ", off);
        for (size_t i = 0; i < 16; i++) {
            if (off + i < n)
                fprintf(f, "%02x", p[off + i]);
            else
                fputs("  ", f);
            if (i % 2 == 1)
                fputc(' ', f);
        }
        fputc(' ', f);
        for (size_t i = 0; i < 16 && off + i < n; i++) {
            uint8_t c = p[off + i];
            fputc(c >= 0x20 && c < 0x7f ? c : '.', f);
        }
        fputc('\n', f);
    }
}

void ps_hex_string(const uint8_t *p, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = digits[p[i] >> 4];
        out[o++] = digits[p[i] & 15];
    }
    if (cap)
        out[o < cap ? o : cap - 1] = '\0';
}

void ps_json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\r')
            fputs("\\r", f);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(f, "\\u%04x", c); /* bytes, not code points: keeps the output ASCII and lossless */
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_bytes(FILE *f, const char *key, pp_bytes b, bool *first)
{
    fprintf(f, "%s\"%s\":", *first ? "" : ",", key);
    ps_json_string(f, (const char *)b.ptr, b.len);
    *first = false;
}

static const char *family_name(uint8_t fam)
{
    switch (fam) {
    case PP_FAM_INET: return "INET";
    case PP_FAM_INET6: return "INET6";
    case PP_FAM_UNIX: return "UNIX";
    default: return "UNSPEC";
    }
}

static const char *transport_name(uint8_t t)
{
    switch (t) {
    case PP_TRANS_STREAM: return "STREAM";
    case PP_TRANS_DGRAM: return "DGRAM";
    default: return "UNSPEC";
    }
}

static void json_endpoint(FILE *f, const pp_endpoint *ep, bool present)
{
    if (!present || ep->family == PP_FAM_UNSPEC) {
        fputs("null", f);
        return;
    }
    char a[160];
    pp_endpoint_addr_str(ep, a, sizeof a);
    char buf[200];
    if (ep->family == PP_FAM_INET6)
        snprintf(buf, sizeof buf, "[%s]:%u", a, ep->port);
    else if (ep->family == PP_FAM_UNIX)
        snprintf(buf, sizeof buf, "unix:%s", a);
    else
        snprintf(buf, sizeof buf, "%s:%u", a, ep->port);
    ps_json_string(f, buf, strlen(buf));
}

void ps_header_json(FILE *f, const pp_header *h)
{
    bool addr = (h->family == PP_FAM_INET || h->family == PP_FAM_INET6 || h->family == PP_FAM_UNIX) &&
                !h->v1_unknown && (h->version == 1 || h->command == PP_CMD_PROXY || h->family != PP_FAM_UNSPEC);
    fprintf(f, "{\"version\":%u,\"command\":\"%s\",\"family\":\"%s\",\"transport\":\"%s\",\"used_carried\":%s,",
            h->version, h->command == PP_CMD_PROXY ? "PROXY" : "LOCAL", family_name(h->family),
            transport_name(h->transport), h->use_carried ? "true" : "false");
    fputs("\"src\":", f);
    json_endpoint(f, &h->src, addr);
    fputs(",\"dst\":", f);
    json_endpoint(f, &h->dst, addr);
    fprintf(f, ",\"header_len\":%zu,\"tlvs\":{", h->header_len);
    bool first = true;
    pp_bytes b;
    if (pp_get_alpn(h, &b))
        json_bytes(f, "alpn", b, &first);
    if (pp_get_authority(h, &b))
        json_bytes(f, "authority", b, &first);
    if (pp_get_unique_id(h, &b)) {
        char hex[300];
        ps_hex_string(b.ptr, b.len, hex, sizeof hex);
        fprintf(f, "%s\"unique_id_hex\":\"%s\",\"unique_id_len\":%zu", first ? "" : ",", hex, b.len);
        first = false;
    }
    if (h->version == 2) {
        fprintf(f, "%s\"crc32c\":\"%s\"", first ? "" : ",", !h->crc_present ? "absent" : h->crc_ok ? "ok" : "bad");
        first = false;
    }
    if (pp_get_netns(h, &b))
        json_bytes(f, "netns", b, &first);
    if (pp_get_aws_vpce_id(h, &b))
        json_bytes(f, "aws_vpce", b, &first);
    uint32_t linkid;
    if (pp_get_azure_linkid(h, &linkid)) {
        fprintf(f, "%s\"azure_linkid\":%" PRIu32, first ? "" : ",", linkid);
        first = false;
    }
    uint64_t psc;
    if (pp_get_gcp_psc_id(h, &psc)) {
        fprintf(f, "%s\"gcp_psc\":%" PRIu64, first ? "" : ",", psc);
        first = false;
    }
    pp_ssl_info ssl;
    if (pp_get_ssl(h, &ssl)) {
        fprintf(f, "%s\"ssl\":{\"client\":%u,\"verify\":%" PRIu32 ",\"cert_verified\":%s", first ? "" : ",",
                ssl.client, ssl.verify, pp_ssl_cert_verified(&ssl) ? "true" : "false");
        first = false;
        bool sf = false;
        if (ssl.version.ptr) json_bytes(f, "version", ssl.version, &sf);
        if (ssl.cn.ptr) json_bytes(f, "cn", ssl.cn, &sf);
        if (ssl.cipher.ptr) json_bytes(f, "cipher", ssl.cipher, &sf);
        if (ssl.sig_alg.ptr) json_bytes(f, "sig_alg", ssl.sig_alg, &sf);
        if (ssl.key_alg.ptr) json_bytes(f, "key_alg", ssl.key_alg, &sf);
        if (ssl.group.ptr) json_bytes(f, "group", ssl.group, &sf);
        if (ssl.sig_scheme.ptr) json_bytes(f, "sig_scheme", ssl.sig_scheme, &sf);
        if (ssl.client_cert.ptr)
            fprintf(f, ",\"client_cert_len\":%zu", ssl.client_cert.len);
        fputc('}', f);
    }
    /* every TLV in wire order, with its raw length: unknown ones are only visible here */
    fprintf(f, "%s\"list\":[", first ? "" : ",");
    pp_tlv_iter it;
    pp_tlv t;
    bool lf = true;
    if (h->version == 2) {
        pp_tlv_iter_init(&it, h);
        while (pp_tlv_next(&it, &t)) {
            fprintf(f, "%s{\"type\":%u,\"len\":%u}", lf ? "" : ",", t.type, t.len);
            lf = false;
        }
    }
    fputs("]}", f);
    if (h->has_duplicate)
        fprintf(f, ",\"duplicate_tlv\":%u", h->duplicate_type);
    else
        fputs(",\"duplicate_tlv\":null", f);
    fputc('}', f);
}

ssize_t ps_parse_both(const uint8_t *hdr, size_t len, pp_header *strict, pp_header *lenient, bool *lenient_ok)
{
    ssize_t rc = pp_parse(hdr, len, NULL, strict);
    *lenient_ok = false;
    if (rc < 0) {
        pp_options lax = {.allow_tlv_duplicates = true, .allow_long_unique_id = true, .skip_crc32c = true,
                          .v1_allow_unknown_suffix = true};
        ssize_t r2 = pp_parse(hdr, len, &lax, lenient);
        *lenient_ok = r2 > 0;
        if (*lenient_ok) { /* report the CRC as received, not as skipped */
            lenient->crc_ok = false;
            uint32_t v;
            if (lenient->crc_present && pp_get_crc32c(lenient, &v) && lenient->idx.crc32c)
                lenient->crc_ok = pp_crc32c_header(hdr, lenient->header_len, lenient->idx.crc32c + 3u) == v;
        }
    }
    return rc;
}

void ps_describe_built(FILE *f, const uint8_t *hdr, size_t len, bool json, const char *profile)
{
    pp_header h, lax;
    bool lax_ok;
    ssize_t rc = len ? ps_parse_both(hdr, len, &h, &lax, &lax_ok) : PP_ERR_TRUNCATED;
    bool extra = rc > 0 && (size_t)rc < len;
    if (json) {
        char *hex = malloc(len * 2 + 1);
        if (hex)
            ps_hex_string(hdr, len, hex, len * 2 + 1);
        fprintf(f, "{\"header_hex\":\"%s\",\"header_len\":%zu,\"profile\":", hex ? hex : "", len);
        free(hex);
        if (profile)
            ps_json_string(f, profile, strlen(profile));
        else
            fputs("null", f);
        if (rc > 0) {
            fputs(",\"valid\":true,\"decoded\":", f);
            ps_header_json(f, &h);
        } else {
            const pp_error_info *e = pp_error_info_get(rc == 0 ? PP_ERR_TRUNCATED : (int)rc);
            fprintf(f, ",\"valid\":false,\"error\":\"%s\",\"refs\":\"%s\",\"message\":", e->name, e->refs);
            ps_json_string(f, e->message, strlen(e->message));
            if (lax_ok && rc < 0) {
                fputs(",\"decoded\":", f);
                ps_header_json(f, &lax);
            }
        }
        if (extra)
            fprintf(f, ",\"trailing_bytes\":%zu", len - (size_t)rc);
        fputs("}\n", f);
        return;
    }
    fprintf(f, "header: %zu bytes%s%s\n", len, profile ? ", profile " : "", profile ? profile : "");
    ps_hexdump(f, hdr, len);
    char desc[8192];
    if (rc > 0) {
        fprintf(f, "decoded (valid):\n");
        pp_header_describe(&h, desc, sizeof desc);
        fputs(desc, f);
        if (desc[0] && desc[strlen(desc) - 1] != '\n')
            fputc('\n', f);
        if (extra)
            fprintf(f, "note: %zu bytes after the header would be application data\n", len - (size_t)rc);
    } else {
        const pp_error_info *e = pp_error_info_get(rc == 0 ? PP_ERR_TRUNCATED : (int)rc);
        fprintf(f, "decoded: INVALID %s (%s): %s\n", e->name, e->refs, e->message);
        if (lax_ok && rc < 0) {
            fprintf(f, "fields (lenient parse):\n");
            pp_header_describe(&lax, desc, sizeof desc);
            fputs(desc, f);
            if (desc[0] && desc[strlen(desc) - 1] != '\n')
                fputc('\n', f);
        }
    }
}
