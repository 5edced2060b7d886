/* libFuzzer target for pp_parse.
 *
 * Input: 2 bytes of pp_options, then the bytes on the wire. The wire bytes are parsed at
 * once, and then every prefix is parsed again (each copied to the END of an exact-size heap
 * block, so ASan catches any read past the prefix). The prefixes must agree with the one-shot
 * result: before a complete header only "need more" or the same error; from the header's
 * length on, the same header; an error is final. On success every getter, both iterators,
 * pp_header_describe and pp_tlv_summary run, and each view must lie inside the header.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"

/* Prefixes longer than this are sampled (every 61st plus the ones around the header end),
 * which keeps the quadratic check fast on 64 KB inputs. */
#define EVERY_PREFIX_UP_TO 1024

static void check(bool ok)
{
    if (!ok)
        abort();
}

static pp_options options_from(const uint8_t b[2])
{
    static const size_t max_headers[4] = {0, 64, 232, 4096};
    pp_options o;
    memset(&o, 0, sizeof o);
    o.versions = b[0] & 3;
    o.require_crc32c = b[0] & 0x04;
    o.skip_crc32c = b[0] & 0x08;
    o.skip_tlvs = b[0] & 0x10;
    o.reject_unspec_proxy = b[0] & 0x20;
    o.reject_local_bad_family = b[0] & 0x40;
    o.reject_dgram = b[0] & 0x80;
    o.allow_tlv_duplicates = b[1] & 0x01;
    o.allow_long_unique_id = b[1] & 0x02;
    o.v1_reject_mapped_ipv4 = b[1] & 0x04;
    o.v1_allow_unknown_suffix = b[1] & 0x08;
    o.max_header = max_headers[(b[1] >> 4) & 3];
    return o;
}

static bool inside(const uint8_t *p, size_t n, const uint8_t *lo, size_t len)
{
    return n == 0 || (p >= lo && p + n <= lo + len);
}

static void check_bytes(pp_bytes b, const pp_header *h)
{
    check(inside(b.ptr, b.len, h->raw, h->header_len));
}

/* Everything a caller can ask of a parsed header; views must stay inside the header. */
static void exercise_header(const pp_header *h, const uint8_t *buf, size_t hdr_len)
{
    check(h->raw == buf && h->header_len == hdr_len);
    check(h->version == 1 || h->version == 2);
    check(h->header_len <= (h->version == 1 ? (size_t)PP_V1_MAX_LEN : (size_t)PP_V2_MAX_LEN));
    check_bytes(h->tlvs, h);
    check_bytes(h->v1_unknown_tail, h);
    if (h->src.family == PP_FAM_UNIX)
        check(inside(h->src.unix_path, PP_UNIX_PATH_LEN, h->raw, h->header_len));
    if (h->dst.family == PP_FAM_UNIX)
        check(inside(h->dst.unix_path, PP_UNIX_PATH_LEN, h->raw, h->header_len));

    pp_tlv_iter it;
    pp_tlv t;
    unsigned n = 0;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t)) {
        check(inside(t.value, t.len, h->tlvs.ptr, h->tlvs.len));
        check(++n <= 65535 / 3 + 1);
    }

    pp_bytes v;
    if (pp_get_alpn(h, &v))
        check_bytes(v, h);
    if (pp_get_authority(h, &v))
        check_bytes(v, h);
    if (pp_get_noop(h, &v))
        check_bytes(v, h);
    if (pp_get_unique_id(h, &v))
        check_bytes(v, h);
    if (pp_get_netns(h, &v))
        check_bytes(v, h);
    if (pp_get_aws_vpce_id(h, &v))
        check_bytes(v, h);
    for (unsigned type = 0; type < 256; type += 17)
        if (pp_tlv_find(h, (uint8_t)type, &v))
            check_bytes(v, h);
    uint32_t u32;
    uint64_t u64;
    (void)pp_get_crc32c(h, &u32);
    (void)pp_get_azure_linkid(h, &u32);
    (void)pp_get_gcp_psc_id(h, &u64);

    pp_ssl_info ssl;
    if (pp_get_ssl(h, &ssl)) {
        const pp_bytes *fields[] = {&ssl.version, &ssl.cn,    &ssl.cipher,     &ssl.sig_alg,
                                    &ssl.key_alg, &ssl.group, &ssl.sig_scheme, &ssl.client_cert,
                                    &ssl.subtlvs};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            check_bytes(*fields[i], h);
        (void)pp_ssl_cert_verified(&ssl);
        pp_ssl_iter_init(&it, ssl.subtlvs);
        while (pp_tlv_next(&it, &t))
            check(inside(t.value, t.len, ssl.subtlvs.ptr, ssl.subtlvs.len));
    }

    static char text[65536];
    size_t w = pp_header_describe(h, text, sizeof text);
    check(w < sizeof text);
    (void)pp_header_describe(h, text, 7); /* truncation path */
    w = pp_tlv_summary(h, text, sizeof text);
    check(w < sizeof text);
    (void)pp_tlv_summary(h, text, 3);
    char addr[PP_UNIX_PATH_LEN * 4 + 64];
    (void)pp_endpoint_addr_str(&h->src, addr, sizeof addr);
    (void)pp_endpoint_addr_str(&h->dst, addr, sizeof addr);
    (void)pp_endpoint_addr_str(&h->dst, addr, 2);
}

/* One prefix, parsed from the end of a heap block exactly len bytes long. */
static ssize_t parse_prefix(uint8_t *block, size_t block_len, const uint8_t *data, size_t k,
                            const pp_options *o, pp_header *h)
{
    uint8_t *at = block + block_len - k;
    memcpy(at, data, k);
    return pp_parse(at, k, o, h);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (size < 2)
        return 0;
    pp_options opts = options_from(input);
    const uint8_t *data = input + 2;
    size_t len = size - 2;

    uint8_t *block = malloc(len ? len : 1);
    if (block == NULL)
        return 0;
    pp_header h;
    ssize_t whole = parse_prefix(block, len, data, len, &opts, &h);
    check(whole <= (ssize_t)len);
    if (whole > 0)
        exercise_header(&h, block, (size_t)whole);
    else if (whole < 0)
        check(pp_error_from_name(pp_error_name((int)whole)) == whole); /* stable, known name */

    /* prefixes must agree with the one-shot result; an error, once seen, stays */
    bool error_seen = false;
    for (size_t k = 0; k < len; k++) {
        bool near_end = whole > 0 && (k + 1 >= (size_t)whole && k <= (size_t)whole + 1);
        if (k > EVERY_PREFIX_UP_TO && k % 61 != 0 && !near_end)
            continue;
        pp_header hk;
        ssize_t r = parse_prefix(block, len, data, k, &opts, &hk);
        if (whole > 0) {
            if (k < (size_t)whole)
                check(r == PP_NEED_MORE);
            else
                check(r == whole && hk.header_len == h.header_len && hk.tlv_count == h.tlv_count);
        } else if (whole == PP_NEED_MORE) {
            check(r == PP_NEED_MORE);
        } else {
            check(r == PP_NEED_MORE || r == whole);
            check(!error_seen || r == whole);
            error_seen = error_seen || r < 0;
        }
    }
    free(block);
    return 0;
}
