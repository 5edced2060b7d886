/* broker/proxy_view: meaning and rendering of a parsed header (see proxy_view.h). */
#include "proxy_view.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Decimal digits of v (up to 65535) at p; returns the count. */
static size_t put_dec(char *p, unsigned v)
{
    char t[5];
    size_t n = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof(t));
    for (size_t i = 0; i < n; i++)
        p[i] = t[n - 1 - i];
    return n;
}

size_t ppb_ip_port_text(int af, const uint8_t *ip, uint16_t port, char *buf, size_t cap)
{
    char t[INET6_ADDRSTRLEN + 8];
    size_t n = 0;
    if (af == AF_INET) {
        for (int i = 0; i < 4; i++) {
            n += put_dec(t + n, ip[i]);
            t[n++] = i < 3 ? '.' : ':';
        }
    } else {
        t[n++] = '[';
        if (!inet_ntop(AF_INET6, ip, t + 1, INET6_ADDRSTRLEN))
            goto unfit;
        n += strlen(t + 1);
        t[n++] = ']';
        t[n++] = ':';
    }
    n += put_dec(t + n, port);
    if (n >= cap)
        goto unfit;
    memcpy(buf, t, n);
    buf[n] = '\0';
    return n;
unfit:
    if (cap >= 2)
        memcpy(buf, "?", 2);
    else if (cap)
        buf[0] = '\0';
    return 0;
}

void ppb_addr_text(const pn_addr *a, char *buf, size_t cap)
{
    int af = pn_addr_family(a);
    if (af == AF_INET)
        ppb_ip_port_text(af, (const uint8_t *)&((const struct sockaddr_in *)&a->ss)->sin_addr, pn_addr_port(a), buf,
                         cap);
    else if (af == AF_INET6)
        ppb_ip_port_text(af, (const uint8_t *)&((const struct sockaddr_in6 *)&a->ss)->sin6_addr, pn_addr_port(a),
                         buf, cap);
    else if (cap)
        snprintf(buf, cap, "?");
}

void ppb_endpoint_text(const pp_endpoint *ep, char *buf, size_t cap)
{
    char ip[PP_UNIX_PATH_LEN * 4 + 8];
    buf[0] = '\0';
    switch (ep->family) {
    case PP_FAM_INET:
        if (ppb_ip_port_text(AF_INET, ep->ip, ep->port, buf, cap) == 0)
            buf[0] = '\0';
        break;
    case PP_FAM_INET6:
        if (ppb_ip_port_text(AF_INET6, ep->ip, ep->port, buf, cap) == 0)
            buf[0] = '\0';
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

static void render_object(jbuf *out, const pp_header *h, bool used_carried, bool crc_checked, bool last_wins)
{
    static const char *const CMD[] = {"LOCAL", "PROXY"};
    static const char *const FAM[] = {"UNSPEC", "INET", "INET6", "UNIX"};
    static const char *const TRANS[] = {"UNSPEC", "STREAM", "DGRAM"};
    char text[PP_UNIX_PATH_LEN * 4 + 32];
    jb_obj(out);
    jb_key(out, "version");
    jb_u64(out, h->version);
    jb_key(out, "command");
    jb_str(out, h->command <= 1 ? CMD[h->command] : "PROXY");
    jb_key(out, "family");
    jb_str(out, h->family <= 3 ? FAM[h->family] : "UNSPEC");
    jb_key(out, "transport");
    jb_str(out, h->transport <= 2 ? TRANS[h->transport] : "UNSPEC");
    if (h->version == 1) {
        jb_key(out, "v1_unknown");
        jb_bool(out, h->v1_unknown);
        if (h->v1_unknown && h->v1_unknown_tail.len) {
            jb_key(out, "v1_unknown_tail");
            jb_strn(out, (const char *)h->v1_unknown_tail.ptr, h->v1_unknown_tail.len);
        }
    }
    jb_key(out, "used_carried");
    jb_bool(out, used_carried);
    jb_key(out, "src");
    ppb_endpoint_text(&h->src, text, sizeof(text));
    if (text[0])
        jb_str(out, text);
    else
        jb_null(out);
    jb_key(out, "dst");
    ppb_endpoint_text(&h->dst, text, sizeof(text));
    if (text[0])
        jb_str(out, text);
    else
        jb_null(out);
    jb_key(out, "header_len");
    jb_u64(out, h->header_len);
    if (h->version == 2) {
        jb_key(out, "tlvs");
        render_tlvs(out, h, crc_checked, last_wins);
    }
    jb_key(out, "duplicate_tlv");
    if (h->has_duplicate)
        jb_u64(out, h->duplicate_type);
    else
        jb_null(out);
    jb_obj_end(out);
}

char *ppb_proxy_render(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins)
{
    jbuf jb;
    jb_init(&jb, 1u << 20);
    render_object(&jb, h, used_carried, crc_checked, last_wins);
    return jb_take(&jb);
}

/* ---- the kept header ------------------------------------------------------------------- */

struct ppb_proxy_rec {
    unsigned refs;
    bool used_carried, crc_checked, last_wins;
    uint8_t version, command, family;
    size_t size;
    pp_header h;      /* kept form: views rebased into raw[] */
    char *rendered;   /* rendered form: "JSON\0src\0dst\0summary\0" (header too large to keep) */
    uint8_t raw[];
};

/* Moves a view of the parser's buffer into the copy; false when it lies outside the header. */
static bool rebase(const uint8_t **p, size_t len, const uint8_t *from, size_t n, const uint8_t *to)
{
    if (!*p)
        return true;
    if (*p < from || *p > from + n || len > (size_t)(from + n - *p))
        return false;
    *p = to + (*p - from);
    return true;
}

static char *render_all(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins)
{
    char *json = ppb_proxy_render(h, used_carried, crc_checked, last_wins);
    if (!json)
        return NULL;
    char src[PP_UNIX_PATH_LEN * 4 + 32], dst[PP_UNIX_PATH_LEN * 4 + 32], sum[1024] = "";
    ppb_endpoint_text(&h->src, src, sizeof(src));
    ppb_endpoint_text(&h->dst, dst, sizeof(dst));
    if (h->version == 2)
        pp_tlv_summary(h, sum, sizeof(sum));
    size_t lj = strlen(json) + 1, ls = strlen(src) + 1, ld = strlen(dst) + 1, lm = strlen(sum) + 1;
    char *all = malloc(lj + ls + ld + lm);
    if (all) {
        memcpy(all, json, lj);
        memcpy(all + lj, src, ls);
        memcpy(all + lj + ls, dst, ld);
        memcpy(all + lj + ls + ld, sum, lm);
    }
    free(json);
    return all;
}

ppb_proxy_rec *ppb_proxy_rec_new(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins)
{
    size_t n = h->header_len;
    bool keep = h->raw && n <= PPB_PROXY_KEEP_MAX;
    ppb_proxy_rec *r = malloc(sizeof(*r) + (keep ? n : 0));
    if (!r)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->refs = 1;
    r->used_carried = used_carried;
    r->crc_checked = crc_checked;
    r->last_wins = last_wins;
    r->version = h->version;
    r->command = h->command;
    r->family = h->family;
    if (keep) {
        memcpy(r->raw, h->raw, n);
        r->h = *h;
        r->h.raw = r->raw;
        keep = rebase(&r->h.v1_unknown_tail.ptr, r->h.v1_unknown_tail.len, h->raw, n, r->raw) &&
               rebase(&r->h.tlvs.ptr, r->h.tlvs.len, h->raw, n, r->raw) &&
               rebase(&r->h.src.unix_path, r->h.src.unix_path ? PP_UNIX_PATH_LEN : 0, h->raw, n, r->raw) &&
               rebase(&r->h.dst.unix_path, r->h.dst.unix_path ? PP_UNIX_PATH_LEN : 0, h->raw, n, r->raw);
        r->size = sizeof(*r) + n;
    }
    if (!keep) {
        /* too large to keep, or views outside the header (a quirk's rebuilt copy) */
        r->rendered = render_all(h, used_carried, crc_checked, last_wins);
        if (!r->rendered) {
            free(r);
            return NULL;
        }
        const char *p = r->rendered;
        for (int i = 0; i < 4; i++)
            p += strlen(p) + 1;
        r->size = sizeof(*r) + (size_t)(p - r->rendered);
    }
    return r;
}

ppb_proxy_rec *ppb_proxy_rec_ref(ppb_proxy_rec *r)
{
    if (r)
        r->refs++;
    return r;
}

void ppb_proxy_rec_unref(ppb_proxy_rec *r)
{
    if (!r || --r->refs > 0)
        return;
    free(r->rendered);
    free(r);
}

size_t ppb_proxy_rec_size(const ppb_proxy_rec *r) { return r ? r->size : 0; }
int ppb_proxy_rec_version(const ppb_proxy_rec *r) { return r->version; }
int ppb_proxy_rec_command(const ppb_proxy_rec *r) { return r->command; }
int ppb_proxy_rec_family(const ppb_proxy_rec *r) { return r->family; }

static const char *rendered_part(const ppb_proxy_rec *r, int i)
{
    const char *p = r->rendered;
    while (i-- > 0)
        p += strlen(p) + 1;
    return p;
}

void ppb_proxy_rec_json(const ppb_proxy_rec *r, jbuf *jb)
{
    if (r->rendered)
        jb_raw_value(jb, r->rendered);
    else
        render_object(jb, &r->h, r->used_carried, r->crc_checked, r->last_wins);
}

const char *ppb_proxy_rec_src_text(const ppb_proxy_rec *r, char *buf, size_t cap)
{
    if (r->rendered)
        return rendered_part(r, 1);
    ppb_endpoint_text(&r->h.src, buf, cap);
    return buf;
}

const char *ppb_proxy_rec_dst_text(const ppb_proxy_rec *r, char *buf, size_t cap)
{
    if (r->rendered)
        return rendered_part(r, 2);
    ppb_endpoint_text(&r->h.dst, buf, cap);
    return buf;
}

const char *ppb_proxy_rec_tlv_summary(const ppb_proxy_rec *r, char *buf, size_t cap)
{
    if (r->rendered)
        return rendered_part(r, 3);
    buf[0] = '\0';
    if (r->version == 2)
        pp_tlv_summary(&r->h, buf, cap);
    return buf;
}
