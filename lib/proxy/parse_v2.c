/* PROXY protocol v2: the binary header (R-V2-*), its TLVs (R-TLV-*, R-SSL-*) and CRC32C
 * (R-CRC-*).
 *
 * The 16-byte fixed part is judged byte by byte as it arrives: signature (R-V2-01), version
 * and command (R-V2-03, R-V2-06), family and transport (R-V2-13, R-V2-20), policy on the
 * family byte, then the length against the family's address block (R-V2-36) and the size
 * limit. Nothing after byte 16 is looked at until all 16 + len bytes are in (R-V2-33); then
 * the addresses are decoded, the TLVs walked once with strict bounds, and the CRC checked.
 * Checks run in byte order, so an error seen in a prefix is the error of the whole input.
 */
#include "proxy/parse_internal.h"

#include <string.h>

/* Address block size by family nibble (R-V2-22); 0 for UNSPEC and invalid nibbles. */
static const uint16_t block_len[16] = {0, 12, 36, 216};

/* The six family bytes with a defined layout (R-V2-22); 0x00 is UNSPEC. */
static inline bool defined_combo(uint8_t fam_byte)
{
    uint8_t f = fam_byte >> 4, t = fam_byte & 0x0F;
    return f >= 1 && f <= 3 && t >= 1 && t <= 2;
}

/* Two fixed-size loads instead of a memcmp call: this runs for every header. */
static inline bool signature_ok(const uint8_t *buf)
{
    uint64_t a, b;
    uint32_t c, d;
    memcpy(&a, buf, 8);
    memcpy(&b, PP_V2_SIGNATURE, 8);
    memcpy(&c, buf + 8, 4);
    memcpy(&d, PP_V2_SIGNATURE + 8, 4);
    return a == b && c == d;
}

/* Bytes 1..16, as many as are there. Returns 1 when all 16 are in and fine. */
static int check_fixed(const uint8_t *buf, size_t len, const pp_options *opts)
{
    if (len < PP_V2_SIG_LEN) {
        return memcmp(buf, PP_V2_SIGNATURE, len) != 0 ? PP_ERR_V2_BAD_SIGNATURE /* EC-V2-18 */
                                                       : PP_NEED_MORE;
    }
    if (!signature_ok(buf))
        return PP_ERR_V2_BAD_SIGNATURE;
    if (len == PP_V2_SIG_LEN)
        return PP_NEED_MORE;
    uint8_t ver_cmd = buf[12];
    if (ver_cmd >> 4 != 2)
        return PP_ERR_V2_BAD_VERSION; /* masked nibble (R-DET-02, A-03) */
    uint8_t cmd = ver_cmd & 0x0F;
    if (cmd > PP_CMD_PROXY)
        return PP_ERR_V2_BAD_COMMAND;
    if (len <= 13)
        return PP_NEED_MORE;
    uint8_t fam = buf[13];
    if (cmd == PP_CMD_PROXY || opts->reject_local_bad_family) {
        if (fam >> 4 > PP_FAM_UNIX)
            return PP_ERR_V2_BAD_FAMILY;
        if ((fam & 0x0F) > PP_TRANS_DGRAM)
            return PP_ERR_V2_BAD_TRANSPORT;
    }
    if (cmd == PP_CMD_PROXY) {
        bool defined = defined_combo(fam);
        if (!defined && opts->reject_unspec_proxy)
            return PP_ERR_V2_UNSPEC_REJECTED; /* R-V2-24, A-08 */
        if (defined && (fam & 0x0F) == PP_TRANS_DGRAM && opts->reject_dgram)
            return PP_ERR_V2_DGRAM_REJECTED;  /* */
    }
    if (len < PP_V2_FIXED_LEN)
        return PP_NEED_MORE;
    size_t total = PP_V2_FIXED_LEN + (size_t)pp_be16(buf + 14);
    if (total > pp_max_header(opts))
        return PP_ERR_TOO_LARGE; /* known at byte 16, long before the bytes come */
    if (cmd == PP_CMD_PROXY && pp_be16(buf + 14) < block_len[fam >> 4])
        return PP_ERR_V2_LENGTH_TOO_SMALL; /* R-V2-36 */
    return 1;
}

/* The SSL TLV value (R-SSL-01, R-SSL-15): 5 packed bytes, then sub-TLVs tiling the rest. */
static int check_ssl(const uint8_t *v, size_t vlen, const pp_options *opts, bool *dup, uint8_t *dup_type)
{
    if (vlen < 5)
        return PP_ERR_SSL_TOO_SHORT; /* EC-SSL-07 */
    const uint8_t *p = v + 5, *end = v + vlen;
    unsigned seen = 0;
    while (end - p >= 3) {
        uint8_t sub = p[0];
        size_t sl = pp_be16(p + 1);
        if (sl > (size_t)(end - p) - 3)
            return PP_ERR_SSL_SUB_OVERRUN; /* EC-SSL-08 */
        if (sub >= PP_SSL_VERSION && sub <= PP_SSL_CLIENT_CERT) {
            unsigned bit = 1u << (sub - PP_SSL_VERSION);
            if (seen & bit) {
                if (!*dup) {
                    *dup = true;
                    *dup_type = sub;
                }
                if (!opts->allow_tlv_duplicates)
                    return PP_ERR_SSL_SUB_DUPLICATE;
            }
            seen |= bit;
        }
        p += 3 + sl;
    }
    return p == end ? 0 : PP_ERR_SSL_SUB_FRAGMENT; /* EC-SSL-09 */
}

typedef struct tlv_walk {
    uint16_t first[PP_TLV_SLOTS + 1]; /* offset of each well-known type's first TLV */
    size_t crc_off;                   /* offset of the first CRC32C TLV (0 = none) */
    uint16_t count;
    bool dup;
    uint8_t dup_type;
} tlv_walk;

/* One pass over the TLV area buf[start..total) (R-TLV-01, R-TLV-02): bounds (R-TLV-06,
 * R-TLV-07), duplicates of the types that carry meaning (A-15; NOOP and unassigned types may
 * repeat), UNIQUE_ID size, SSL layout, CRC32C length (R-CRC-01). */
static int walk_tlvs(const uint8_t *buf, size_t start, size_t total, const pp_options *opts, tlv_walk *w)
{
    const uint8_t *p = buf + start, *end = buf + total;
    unsigned seen = 0;
    while (end - p >= 3) {
        uint8_t type = p[0];
        size_t vlen = pp_be16(p + 1);
        if (vlen > (size_t)(end - p) - 3)
            return PP_ERR_TLV_OVERRUN; /* EC-T-02, EC-T-11 */
        unsigned slot = pp_tlv_slot[type];
        if (slot) {
            size_t off = (size_t)(p - buf);
            if (!(seen & (1u << slot))) {
                seen |= 1u << slot;
                if (off <= UINT16_MAX) /* beyond that the getters search instead */
                    w->first[slot] = (uint16_t)off;
                if (slot == PP_SLOT_CRC32C)
                    w->crc_off = off;
            } else if (slot != PP_SLOT_NOOP) {
                if (!w->dup) {
                    w->dup = true;
                    w->dup_type = type;
                }
                if (!opts->allow_tlv_duplicates)
                    return PP_ERR_TLV_DUPLICATE; /* EC-T-10, EC-C-08 */
            }
            if (slot == PP_SLOT_UNIQUE_ID) {
                if (vlen > PP_UNIQUE_ID_MAX && !opts->allow_long_unique_id)
                    return PP_ERR_TLV_UNIQUE_ID_TOO_LONG; /* EC-T-15 */
            } else if (slot == PP_SLOT_SSL) {
                int r = check_ssl(p + 3, vlen, opts, &w->dup, &w->dup_type);
                if (r)
                    return r;
            } else if (slot == PP_SLOT_CRC32C) {
                if (vlen != 4 && !opts->skip_crc32c)
                    return PP_ERR_CRC_BAD_LENGTH; /* EC-C-07 */
            }
        }
        w->count++;
        p += 3 + vlen;
    }
    return p == end ? 0 : PP_ERR_TLV_FRAGMENT; /* EC-T-03, EC-T-04, EC-F-14 */
}

ssize_t pp_parse_v2(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out)
{
    int r = check_fixed(buf, len, opts);
    if (r <= 0)
        return r;
    size_t body = pp_be16(buf + 14);
    size_t total = PP_V2_FIXED_LEN + body;
    if (len < total)
        return PP_NEED_MORE; /* R-V2-33: no address before the whole header is in */

    uint8_t cmd = buf[12] & 0x0F, fam_byte = buf[13];
    uint8_t fam = fam_byte >> 4, trans = fam_byte & 0x0F;
    /* LOCAL ignores the family (R-V2-07) but still skips by len (R-V2-28): the announced
     * block, as far as len covers it, is not TLVs (A-06, EC-V2-08). Invalid nibbles on a
     * tolerated LOCAL have no block. */
    size_t block = (fam <= PP_FAM_UNIX && trans <= PP_TRANS_DGRAM) ? block_len[fam] : 0;
    if (block > body)
        block = body;
    size_t tlv_start = PP_V2_FIXED_LEN + block;

    tlv_walk w;
    memset(&w, 0, sizeof w);
    bool crc_ok = false;
    if (opts->skip_tlvs) {
        if (opts->require_crc32c)
            return PP_ERR_CRC_MISSING; /* an unread CRC cannot satisfy the policy */
    } else {
        /* HAProxy writes the CRC32C TLV first. Then its CRC is started before the TLV walk:
         * the two dependency chains (crc32 instructions, TLV length loads) overlap in the
         * CPU instead of running one after the other. Verdicts still come in byte order. */
        uint32_t early_crc = 0;
        bool early = !opts->skip_crc32c && total - tlv_start >= 7 && buf[tlv_start] == PP_TLV_CRC32C &&
                     pp_be16(buf + tlv_start + 1) == 4;
        if (early)
            early_crc = pp_crc32c_header(buf, total, tlv_start + 3);
        r = walk_tlvs(buf, tlv_start, total, opts, &w);
        if (r)
            return r;
        if (w.crc_off && !opts->skip_crc32c) {
            size_t at = w.crc_off + 3;
            uint32_t crc = early && w.crc_off == tlv_start ? early_crc : pp_crc32c_header(buf, total, at);
            crc_ok = crc == pp_be32(buf + at);
            if (!crc_ok)
                return PP_ERR_CRC_MISMATCH; /* R-CRC-06 */
        }
        if (opts->require_crc32c && !w.crc_off)
            return PP_ERR_CRC_MISSING;
    }

    /* every field written one by one: a memset of the whole struct costs more than the parse */
    out->version = 2;
    out->command = cmd;
    out->family = fam;
    out->transport = trans;
    out->ver_cmd = buf[12];
    out->fam_byte = fam_byte;
    out->v1_unknown = false;
    out->use_carried = cmd == PP_CMD_PROXY && defined_combo(fam_byte); /* R-V2-09, R-V2-25 */
    pp_endpoint_clear(&out->src);
    pp_endpoint_clear(&out->dst);
    if (out->use_carried) {
        const uint8_t *a = buf + PP_V2_FIXED_LEN;
        out->src.family = out->dst.family = fam;
        if (fam == PP_FAM_INET) {
            memcpy(out->src.ip, a, 4);
            memcpy(out->dst.ip, a + 4, 4);
            out->src.port = pp_be16(a + 8);
            out->dst.port = pp_be16(a + 10);
        } else if (fam == PP_FAM_INET6) {
            memcpy(out->src.ip, a, 16);
            memcpy(out->dst.ip, a + 16, 16);
            out->src.port = pp_be16(a + 32);
            out->dst.port = pp_be16(a + 34);
        } else {
            out->src.unix_path = a;
            out->dst.unix_path = a + PP_UNIX_PATH_LEN;
        }
    }
    out->v1_unknown_tail = (pp_bytes){NULL, 0};
    out->header_len = total;
    out->raw = buf;
    out->tlvs = (pp_bytes){buf + tlv_start, total - tlv_start};
    out->idx.alpn = w.first[PP_SLOT_ALPN];
    out->idx.authority = w.first[PP_SLOT_AUTHORITY];
    out->idx.crc32c = w.first[PP_SLOT_CRC32C];
    out->idx.noop = w.first[PP_SLOT_NOOP];
    out->idx.unique_id = w.first[PP_SLOT_UNIQUE_ID];
    out->idx.ssl = w.first[PP_SLOT_SSL];
    out->idx.netns = w.first[PP_SLOT_NETNS];
    out->idx.gcp = w.first[PP_SLOT_GCP];
    out->idx.aws = w.first[PP_SLOT_AWS];
    out->idx.azure = w.first[PP_SLOT_AZURE];
    out->crc_present = w.crc_off != 0;
    out->crc_ok = crc_ok;
    out->has_duplicate = w.dup;
    out->duplicate_type = w.dup_type;
    out->tlv_count = w.count;
    return (ssize_t)total;
}
