/* libFuzzer target: parse -> rebuild with pp_build from the parsed fields -> parse again.
 *
 * Input: 2 bytes of pp_options (as in fuzz_proxy_parse), then the wire bytes. Whatever the
 * parser accepts is rebuilt from its fields (addresses, TLVs in wire order, the SSL TLV
 * through pp_build_ssl, a verified CRC32C through crc_auto). A v2 header must come back byte
 * for byte; a v1 line must come back with the same fields (its text may be canonicalised,
 * e.g. "2001:DB8::1" -> "2001:db8::1"). The rebuilt header must parse to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"

#define MAX_TLVS (65535 / 3 + 1)
#define MAX_SUBS 256

static void check(bool ok)
{
    if (!ok)
        abort();
}

static pp_options options_from(const uint8_t b[2])
{
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
    return o;
}

static pp_build_tlv tlvs[MAX_TLVS];
static pp_build_tlv subs[MAX_SUBS];
static uint8_t rebuilt[PP_V2_MAX_LEN];

static void same_endpoint(const pp_endpoint *a, const uint8_t *raw_a, const pp_endpoint *b,
                          const uint8_t *raw_b)
{
    check(a->family == b->family && a->port == b->port);
    check(memcmp(a->ip, b->ip, sizeof a->ip) == 0);
    check((a->unix_path == NULL) == (b->unix_path == NULL));
    if (a->unix_path)
        check(a->unix_path - raw_a == b->unix_path - raw_b);
}

static void same_bytes(pp_bytes a, pp_bytes b)
{
    check(a.len == b.len);
    check(a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Fields that do not depend on the text form of a v1 line. */
static void same_fields(const pp_header *a, const pp_header *b)
{
    check(a->version == b->version && a->command == b->command);
    check(a->family == b->family && a->transport == b->transport);
    check(a->v1_unknown == b->v1_unknown && a->use_carried == b->use_carried);
    same_endpoint(&a->src, a->raw, &b->src, b->raw);
    same_endpoint(&a->dst, a->raw, &b->dst, b->raw);
    same_bytes(a->v1_unknown_tail, b->v1_unknown_tail);
}

static void same_v2_fields(const pp_header *a, const pp_header *b)
{
    same_fields(a, b);
    check(a->ver_cmd == b->ver_cmd && a->fam_byte == b->fam_byte);
    check(a->header_len == b->header_len);
    check(a->tlvs.ptr - a->raw == b->tlvs.ptr - b->raw);
    same_bytes(a->tlvs, b->tlvs);
    check(memcmp(&a->idx, &b->idx, sizeof a->idx) == 0);
    check(a->crc_present == b->crc_present && a->crc_ok == b->crc_ok);
    check(a->has_duplicate == b->has_duplicate && a->duplicate_type == b->duplicate_type);
    check(a->tlv_count == b->tlv_count);
}

/* The SSL TLV as a pp_build_ssl, when its sub-TLVs tile the value exactly. */
static bool ssl_from_header(const pp_header *h, pp_build_ssl *out)
{
    pp_ssl_info si;
    if (!pp_get_ssl(h, &si))
        return false;
    pp_tlv_iter it;
    pp_tlv t;
    size_t n = 0, covered = 0;
    pp_ssl_iter_init(&it, si.subtlvs);
    while (pp_tlv_next(&it, &t)) {
        if (n == MAX_SUBS)
            return false;
        subs[n++] = PP_BUILD_TLV(t.type, t.value, t.len);
        covered += 3 + (size_t)t.len;
    }
    if (covered != si.subtlvs.len)
        return false;
    *out = (pp_build_ssl){.client = si.client, .verify = si.verify, .subs = subs, .nsubs = n};
    return true;
}

static void roundtrip_v2(const pp_header *h, const pp_options *opts)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.command = h->command;
    s.transport = h->transport;
    s.ver_cmd_override = h->ver_cmd;
    s.fam_override = h->fam_byte;

    /* the address block the parser used, whatever the family byte says */
    size_t block = h->tlvs.ptr ? (size_t)(h->tlvs.ptr - h->raw) - PP_V2_FIXED_LEN : h->header_len - PP_V2_FIXED_LEN;
    const uint8_t *a = h->raw + PP_V2_FIXED_LEN;
    if (block == 0) {
        s.family = PP_FAM_UNSPEC;
    } else if (block == 12) {
        s.family = PP_FAM_INET;
        memcpy(s.src.ip, a, 4);
        memcpy(s.dst.ip, a + 4, 4);
        s.src.port = (uint16_t)(a[8] << 8 | a[9]);
        s.dst.port = (uint16_t)(a[10] << 8 | a[11]);
    } else if (block == 36) {
        s.family = PP_FAM_INET6;
        s.src.family = s.dst.family = PP_FAM_INET6;
        memcpy(s.src.ip, a, 16);
        memcpy(s.dst.ip, a + 16, 16);
        s.src.port = (uint16_t)(a[32] << 8 | a[33]);
        s.dst.port = (uint16_t)(a[34] << 8 | a[35]);
    } else if (block == 2 * PP_UNIX_PATH_LEN) {
        s.family = PP_FAM_UNIX;
        s.unix_raw = true;
        s.src.unix_path = a;
        s.dst.unix_path = a + PP_UNIX_PATH_LEN;
    } else {
        return; /* a block no family has: nothing the builder can express */
    }
    if (h->use_carried && (h->family == PP_FAM_INET || h->family == PP_FAM_INET6)) {
        check(h->family == s.family); /* the decoded fields are what we rebuild from */
        s.src = h->src;
        s.dst = h->dst;
    }

    /* TLVs in wire order */
    pp_build_ssl ssl;
    size_t n = 0;
    if (h->tlvs.len > 0 && opts->skip_tlvs) {
        /* unparsed area: one pseudo-TLV whose header is the area's first 3 bytes */
        if (h->tlvs.len < 3)
            return;
        tlvs[0] = PP_BUILD_TLV(h->tlvs.ptr[0], h->tlvs.ptr + 3, h->tlvs.len - 3);
        tlvs[0].len_override = h->tlvs.ptr[1] << 8 | h->tlvs.ptr[2];
        n = 1;
    } else {
        bool ssl_built = false, crc_auto_used = false;
        pp_tlv_iter it;
        pp_tlv t;
        pp_tlv_iter_init(&it, h);
        while (pp_tlv_next(&it, &t)) {
            check(n < MAX_TLVS);
            size_t off = (size_t)(t.value - 3 - h->raw);
            tlvs[n] = PP_BUILD_TLV(t.type, t.value, t.len);
            if (t.type == PP_TLV_SSL && off == h->idx.ssl && !ssl_built && ssl_from_header(h, &ssl)) {
                tlvs[n].value = NULL; /* built from s.ssl */
                s.ssl = &ssl;
                ssl_built = true;
            } else if (t.type == PP_TLV_CRC32C && t.len == 4 && off == h->idx.crc32c && h->crc_present &&
                       h->crc_ok && !opts->skip_crc32c && !crc_auto_used) {
                tlvs[n].crc_auto = true; /* recomputed: must give the verified value back */
                crc_auto_used = true;
            }
            n++;
        }
    }
    s.tlvs = tlvs;
    s.ntlvs = n;

    ssize_t len = pp_build(&s, rebuilt, sizeof rebuilt);
    check(len == (ssize_t)h->header_len);
    check(memcmp(rebuilt, h->raw, h->header_len) == 0);

    pp_header again;
    check(pp_parse(rebuilt, (size_t)len, opts, &again) == len);
    same_v2_fields(h, &again);
}

static void roundtrip_v1(const pp_header *h, const pp_options *opts)
{
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.version = 1;
    char tail[PP_V1_MAX_LEN + 1];
    if (h->v1_unknown) {
        if (memchr(h->v1_unknown_tail.ptr, 0, h->v1_unknown_tail.len) != NULL)
            return; /* a C-string tail cannot carry NUL */
        check(h->v1_unknown_tail.len < sizeof tail);
        memcpy(tail, h->v1_unknown_tail.ptr, h->v1_unknown_tail.len);
        tail[h->v1_unknown_tail.len] = '\0';
        s.family = PP_FAM_UNSPEC;
        s.v1_unknown_tail = tail;
    } else {
        s.family = h->family;
        s.src = h->src;
        s.dst = h->dst;
    }
    ssize_t len = pp_build(&s, rebuilt, sizeof rebuilt);
    check(len > 0);
    /* the builder writes mapped IPv4 in dotted form (as HAProxy does); the policy knob may
     * refuse exactly that text, so the re-parse uses the default for it */
    pp_options o = *opts;
    o.v1_reject_mapped_ipv4 = false;
    pp_header again;
    check(pp_parse(rebuilt, (size_t)len, &o, &again) == len);
    same_fields(h, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    if (size < 2)
        return 0;
    pp_options opts = options_from(input);
    const uint8_t *data = input + 2;
    size_t len = size - 2;
    uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees any over-read */
    if (copy == NULL)
        return 0;
    memcpy(copy, data, len);
    pp_header h;
    if (pp_parse(copy, len, &opts, &h) > 0) {
        if (h.version == 2)
            roundtrip_v2(&h, &opts);
        else
            roundtrip_v1(&h, &opts);
    }
    free(copy);
    return 0;
}
