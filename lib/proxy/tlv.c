/* TLV access on a parsed v2 header: iterators in wire order and typed getters.
 *
 * pp_parse has validated the whole TLV area, so getters read the first occurrence of each
 * well-known type through the offsets in pp_header.idx (O(1)). Only a TLV that starts past
 * offset 65535 (possible in headers over 64 KiB) is not indexed; getters then search.
 */
#include "proxy/parse_internal.h"

#include <string.h>

const uint8_t pp_tlv_slot[256] = {
    [PP_TLV_ALPN] = PP_SLOT_ALPN,           [PP_TLV_AUTHORITY] = PP_SLOT_AUTHORITY,
    [PP_TLV_CRC32C] = PP_SLOT_CRC32C,       [PP_TLV_NOOP] = PP_SLOT_NOOP,
    [PP_TLV_UNIQUE_ID] = PP_SLOT_UNIQUE_ID, [PP_TLV_SSL] = PP_SLOT_SSL,
    [PP_TLV_NETNS] = PP_SLOT_NETNS,         [PP_TLV_GCP] = PP_SLOT_GCP,
    [PP_TLV_AWS] = PP_SLOT_AWS,             [PP_TLV_AZURE] = PP_SLOT_AZURE,
};

static uint16_t index_of(const pp_tlv_index *idx, uint8_t type)
{
    switch (pp_tlv_slot[type]) {
    case PP_SLOT_ALPN: return idx->alpn;
    case PP_SLOT_AUTHORITY: return idx->authority;
    case PP_SLOT_CRC32C: return idx->crc32c;
    case PP_SLOT_NOOP: return idx->noop;
    case PP_SLOT_UNIQUE_ID: return idx->unique_id;
    case PP_SLOT_SSL: return idx->ssl;
    case PP_SLOT_NETNS: return idx->netns;
    case PP_SLOT_GCP: return idx->gcp;
    case PP_SLOT_AWS: return idx->aws;
    case PP_SLOT_AZURE: return idx->azure;
    default: return 0;
    }
}

/* ---- iterators ------------------------------------------------------------------------- */

void pp_tlv_iter_init(pp_tlv_iter *it, const pp_header *h)
{
    /* tlv_count is 0 when there are no TLVs or opts->skip_tlvs left the area unparsed */
    if (h->version == 2 && h->tlv_count > 0 && h->tlvs.ptr) {
        it->p = h->tlvs.ptr;
        it->end = h->tlvs.ptr + h->tlvs.len;
    } else {
        it->p = it->end = NULL;
    }
}

void pp_ssl_iter_init(pp_tlv_iter *it, pp_bytes subtlvs)
{
    it->p = subtlvs.ptr;
    it->end = subtlvs.ptr ? subtlvs.ptr + subtlvs.len : NULL;
}

bool pp_tlv_next(pp_tlv_iter *it, pp_tlv *out)
{
    if (it->p == NULL || it->end - it->p < 3)
        return false;
    size_t vlen = pp_be16(it->p + 1);
    if (vlen > (size_t)(it->end - it->p) - 3) {
        it->p = it->end; /* malformed tail: stop for good */
        return false;
    }
    out->type = it->p[0];
    out->len = (uint16_t)vlen;
    out->value = it->p + 3;
    it->p += 3 + vlen;
    return true;
}

/* ---- lookup ---------------------------------------------------------------------------- */

bool pp_tlv_find(const pp_header *h, uint8_t type, pp_bytes *value)
{
    if (h->version != 2 || h->tlv_count == 0)
        return false;
    uint16_t off = index_of(&h->idx, type);
    if (off) {
        value->ptr = h->raw + off + 3;
        value->len = pp_be16(h->raw + off + 1);
        return true;
    }
    /* not indexed: an unregistered type, or a first occurrence past offset 65535 */
    if (pp_tlv_slot[type] && h->header_len <= UINT16_MAX)
        return false;
    pp_tlv_iter it;
    pp_tlv t;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t)) {
        if (t.type == type) {
            *value = (pp_bytes){t.value, t.len};
            return true;
        }
    }
    return false;
}

/* ---- typed getters ---------------------------------------------------------------------- */

bool pp_get_alpn(const pp_header *h, pp_bytes *out)
{
    return pp_tlv_find(h, PP_TLV_ALPN, out);
}

bool pp_get_authority(const pp_header *h, pp_bytes *out)
{
    return pp_tlv_find(h, PP_TLV_AUTHORITY, out);
}

bool pp_get_noop(const pp_header *h, pp_bytes *out)
{
    return pp_tlv_find(h, PP_TLV_NOOP, out);
}

bool pp_get_unique_id(const pp_header *h, pp_bytes *out)
{
    return pp_tlv_find(h, PP_TLV_UNIQUE_ID, out);
}

bool pp_get_netns(const pp_header *h, pp_bytes *out)
{
    return pp_tlv_find(h, PP_TLV_NETNS, out);
}

bool pp_get_crc32c(const pp_header *h, uint32_t *out)
{
    pp_bytes v;
    if (!pp_tlv_find(h, PP_TLV_CRC32C, &v) || v.len != 4)
        return false;
    *out = pp_be32(v.ptr); /* big-endian, as HAProxy writes it */
    return true;
}

bool pp_get_ssl(const pp_header *h, pp_ssl_info *out)
{
    pp_bytes v;
    if (!pp_tlv_find(h, PP_TLV_SSL, &v) || v.len < 5)
        return false;
    memset(out, 0, sizeof *out);
    out->client = v.ptr[0];
    out->verify = pp_be32(v.ptr + 1); /* packed: verify at value offset 1 (R-SSL-01, A-10) */
    out->subtlvs = (pp_bytes){v.ptr + 5, v.len - 5};
    pp_bytes *fields[8] = {&out->version, &out->cn,    &out->cipher,     &out->sig_alg,
                           &out->key_alg, &out->group, &out->sig_scheme, &out->client_cert};
    pp_tlv_iter it;
    pp_tlv t;
    pp_ssl_iter_init(&it, out->subtlvs);
    while (pp_tlv_next(&it, &t)) {
        if (t.type >= PP_SSL_VERSION && t.type <= PP_SSL_CLIENT_CERT) {
            pp_bytes *f = fields[t.type - PP_SSL_VERSION];
            if (f->ptr == NULL) /* first occurrence wins */
                *f = (pp_bytes){t.value, t.len};
        }
    }
    return true;
}

bool pp_get_aws_vpce_id(const pp_header *h, pp_bytes *out)
{
    pp_bytes v;
    if (!pp_tlv_find(h, PP_TLV_AWS, &v) || v.len < 1 || v.ptr[0] != 0x01)
        return false;
    *out = (pp_bytes){v.ptr + 1, v.len - 1};
    return true;
}

bool pp_get_azure_linkid(const pp_header *h, uint32_t *out)
{
    pp_bytes v;
    if (!pp_tlv_find(h, PP_TLV_AZURE, &v) || v.len != 5 || v.ptr[0] != 0x01)
        return false;
    *out = (uint32_t)v.ptr[1] | (uint32_t)v.ptr[2] << 8 | (uint32_t)v.ptr[3] << 16 | (uint32_t)v.ptr[4] << 24;
    return true;
}

bool pp_get_gcp_psc_id(const pp_header *h, uint64_t *out)
{
    pp_bytes v;
    if (!pp_tlv_find(h, PP_TLV_GCP, &v) || v.len != 8)
        return false;
    uint64_t id = 0;
    for (int i = 0; i < 8; i++)
        id = id << 8 | v.ptr[i];
    *out = id;
    return true;
}

/* R-SSL-02, A-12: verify == 0 alone proves nothing (HAProxy sends 0 without a certificate). */
bool pp_ssl_cert_verified(const pp_ssl_info *ssl)
{
    return (ssl->client & PP_CLIENT_SSL) && (ssl->client & (PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS)) &&
           ssl->verify == 0;
}
