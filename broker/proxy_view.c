/* broker/proxy_view: meaning and rendering of a parsed header (see proxy_view.h). */
#include "proxy_view.h"

#include <stdio.h>
#include <string.h>

#include "json.h"

bool ppb_proxy_uses_carried(const pp_header *h)
{
    return h->command == PP_CMD_PROXY && h->use_carried && h->transport == PP_TRANS_STREAM &&
           (h->family == PP_FAM_INET || h->family == PP_FAM_INET6);
}

static bool last_tlv(const pp_header *h, uint8_t type, pp_bytes *out)
{
    pp_tlv_iter it;
    pp_tlv t;
    bool found = false;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t)) {
        if (t.type == type) {
            out->ptr = t.value;
            out->len = t.len;
            found = true;
        }
    }
    return found;
}

bool ppb_proxy_ssl(const pp_header *h, bool last_wins, pp_ssl_info *out)
{
    if (!last_wins)
        return pp_get_ssl(h, out);
    pp_bytes v;
    if (!last_tlv(h, PP_TLV_SSL, &v) || v.len < 5)
        return false;
    memset(out, 0, sizeof(*out));
    out->client = v.ptr[0];
    out->verify = (uint32_t)v.ptr[1] << 24 | (uint32_t)v.ptr[2] << 16 | (uint32_t)v.ptr[3] << 8 | v.ptr[4];
    out->subtlvs.ptr = v.ptr + 5;
    out->subtlvs.len = v.len - 5;
    pp_tlv_iter it;
    pp_tlv t;
    pp_ssl_iter_init(&it, out->subtlvs);
    while (pp_tlv_next(&it, &t)) {
        pp_bytes b = {t.value, t.len};
        switch (t.type) {
        case PP_SSL_VERSION: out->version = b; break;
        case PP_SSL_CN: out->cn = b; break;
        case PP_SSL_CIPHER: out->cipher = b; break;
        case PP_SSL_SIG_ALG: out->sig_alg = b; break;
        case PP_SSL_KEY_ALG: out->key_alg = b; break;
        case PP_SSL_GROUP: out->group = b; break;
        case PP_SSL_SIG_SCHEME: out->sig_scheme = b; break;
        case PP_SSL_CLIENT_CERT: out->client_cert = b; break;
        default: break;
        }
    }
    return true;
}

void ppb_endpoint_text(const pp_endpoint *ep, char *buf, size_t cap)
{
    char ip[PP_UNIX_PATH_LEN * 4 + 8];
    buf[0] = '\0';
    switch (ep->family) {
    case PP_FAM_INET:
        pp_endpoint_addr_str(ep, ip, sizeof(ip));
        snprintf(buf, cap, "%s:%u", ip, ep->port);
        break;
    case PP_FAM_INET6:
        pp_endpoint_addr_str(ep, ip, sizeof(ip));
        snprintf(buf, cap, "[%s]:%u", ip, ep->port);
        break;
    case PP_FAM_UNIX:
        pp_endpoint_addr_str(ep, ip, sizeof(ip));
        snprintf(buf, cap, "unix:%s", ip);
        break;
    default:
        break;
    }
}

/* Values are shown up to PPB_VIEW_MAX bytes (a 64 KiB AUTHORITY must not make every
 * event and log line 64 KiB); when cut, "<key>_len" gives the real length. */
#define PPB_VIEW_MAX 512
#define PPB_VIEW_UNKNOWN_MAX 16

static void put_bytes(jbuf *jb, const char *key, pp_bytes b)
{
    if (!b.ptr)
        return;
    jb_key(jb, key);
    jb_strn(jb, (const char *)b.ptr, b.len > PPB_VIEW_MAX ? PPB_VIEW_MAX : b.len);
    if (b.len > PPB_VIEW_MAX) {
        char k[64];
        snprintf(k, sizeof(k), "%s_len", key);
        jb_key(jb, k);
        jb_u64(jb, b.len);
    }
}

static bool known_type(uint8_t t)
{
    switch (t) {
    case PP_TLV_ALPN: case PP_TLV_AUTHORITY: case PP_TLV_CRC32C: case PP_TLV_NOOP:
    case PP_TLV_UNIQUE_ID: case PP_TLV_SSL: case PP_TLV_NETNS: case PP_TLV_AWS:
    case PP_TLV_AZURE: case PP_TLV_GCP:
        return true;
    default:
        return false;
    }
}

static void render_tlvs(jbuf *jb, const pp_header *h, bool crc_checked, bool last_wins)
{
    pp_bytes v;
    jb_obj(jb);
    bool (*get)(const pp_header *, uint8_t, pp_bytes *) = last_wins ? last_tlv : pp_tlv_find;
    if (get(h, PP_TLV_ALPN, &v))
        put_bytes(jb, "alpn", v);
    if (get(h, PP_TLV_AUTHORITY, &v))
        put_bytes(jb, "authority", v);
    if (get(h, PP_TLV_UNIQUE_ID, &v)) {
        jb_key(jb, "unique_id_hex");
        jb_hex(jb, v.ptr, v.len > PPB_VIEW_MAX / 2 ? PPB_VIEW_MAX / 2 : v.len);
    }
    jb_key(jb, "crc32c");
    if (!h->crc_present)
        jb_str(jb, "absent");
    else if (!crc_checked)
        jb_str(jb, "unchecked");
    else
        jb_str(jb, h->crc_ok ? "ok" : "mismatch");
    if (get(h, PP_TLV_NETNS, &v))
        put_bytes(jb, "netns", v);
    if (get(h, PP_TLV_NOOP, &v)) {
        jb_key(jb, "noop");
        jb_bool(jb, true);
    }
    pp_bytes aws;
    if (pp_get_aws_vpce_id(h, &aws))
        put_bytes(jb, "aws_vpce_id", aws);
    uint32_t az;
    if (pp_get_azure_linkid(h, &az)) {
        jb_key(jb, "azure_linkid");
        jb_u64(jb, az);
    }
    uint64_t gcp;
    if (pp_get_gcp_psc_id(h, &gcp)) {
        jb_key(jb, "gcp_psc_id");
        jb_u64(jb, gcp);
    }
    pp_ssl_info ssl;
    if (ppb_proxy_ssl(h, last_wins, &ssl)) {
        jb_key(jb, "ssl");
        jb_obj(jb);
        jb_key(jb, "client");
        jb_u64(jb, ssl.client);
        jb_key(jb, "verify");
        jb_u64(jb, ssl.verify);
        jb_key(jb, "cert_verified");
        jb_bool(jb, pp_ssl_cert_verified(&ssl));
        put_bytes(jb, "version", ssl.version);
        put_bytes(jb, "cn", ssl.cn);
        put_bytes(jb, "cipher", ssl.cipher);
        put_bytes(jb, "sig_alg", ssl.sig_alg);
        put_bytes(jb, "key_alg", ssl.key_alg);
        put_bytes(jb, "group", ssl.group);
        put_bytes(jb, "sig_scheme", ssl.sig_scheme);
        if (ssl.client_cert.ptr) {
            jb_key(jb, "client_cert_len");
            jb_u64(jb, ssl.client_cert.len);
        }
        jb_obj_end(jb);
    }
    jb_key(jb, "unknown");
    jb_arr(jb);
    pp_tlv_iter it;
    pp_tlv t;
    size_t unknown = 0;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t)) {
        if (known_type(t.type) || ++unknown > PPB_VIEW_UNKNOWN_MAX)
            continue; /* counted, listed up to a bound */
        jb_obj(jb);
        jb_key(jb, "type");
        jb_u64(jb, t.type);
        jb_key(jb, "len");
        jb_u64(jb, t.len);
        jb_obj_end(jb);
    }
    jb_arr_end(jb);
    if (unknown > PPB_VIEW_UNKNOWN_MAX) {
        jb_key(jb, "unknown_total");
        jb_u64(jb, unknown);
    }
    jb_obj_end(jb);
}

char *ppb_proxy_render(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins)
{
    static const char *const CMD[] = {"LOCAL", "PROXY"};
    static const char *const FAM[] = {"UNSPEC", "INET", "INET6", "UNIX"};
    static const char *const TRANS[] = {"UNSPEC", "STREAM", "DGRAM"};
    char text[PP_UNIX_PATH_LEN * 4 + 32];
    jbuf jb;
    jb_init(&jb, 1u << 20);
    jb_obj(&jb);
    jb_key(&jb, "version");
    jb_u64(&jb, h->version);
    jb_key(&jb, "command");
    jb_str(&jb, h->command <= 1 ? CMD[h->command] : "PROXY");
    jb_key(&jb, "family");
    jb_str(&jb, h->family <= 3 ? FAM[h->family] : "UNSPEC");
    jb_key(&jb, "transport");
    jb_str(&jb, h->transport <= 2 ? TRANS[h->transport] : "UNSPEC");
    if (h->version == 1) {
        jb_key(&jb, "v1_unknown");
        jb_bool(&jb, h->v1_unknown);
        if (h->v1_unknown && h->v1_unknown_tail.len) {
            jb_key(&jb, "v1_unknown_tail");
            jb_strn(&jb, (const char *)h->v1_unknown_tail.ptr, h->v1_unknown_tail.len);
        }
    }
    jb_key(&jb, "used_carried");
    jb_bool(&jb, used_carried);
    jb_key(&jb, "src");
    ppb_endpoint_text(&h->src, text, sizeof(text));
    if (text[0])
        jb_str(&jb, text);
    else
        jb_null(&jb);
    jb_key(&jb, "dst");
    ppb_endpoint_text(&h->dst, text, sizeof(text));
    if (text[0])
        jb_str(&jb, text);
    else
        jb_null(&jb);
    jb_key(&jb, "header_len");
    jb_u64(&jb, h->header_len);
    if (h->version == 2) {
        jb_key(&jb, "tlvs");
        render_tlvs(&jb, h, crc_checked, last_wins);
    }
    jb_key(&jb, "duplicate_tlv");
    if (h->has_duplicate)
        jb_u64(&jb, h->duplicate_type);
    else
        jb_null(&jb);
    jb_obj_end(&jb);
    return jb_take(&jb);
}
