/* Shared helpers for the lib/proxy parser tests (test_proxy_parse_v1/v2, tlv, crc32c,
 * split, errors): hex vectors, exact-size heap copies so ASan sees any over-read, and
 * assertions that name the error on failure. */
#ifndef TEST_PROXY_HELPERS_H
#define TEST_PROXY_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/proxy.h"

#define SIG_HEX "0d0a0d0a000d0a515549540a"

/* HAProxy 2.6 sender bytes, captured (shared/research/interop.md §1a). */
#define HAPROXY_V2_TCP4_HEX SIG_HEX "2111000c7f0000017f000001d1a64991"
#define HAPROXY_V2_SSL_CN_HEX                                                                      \
    SIG_HEX "21110026" "7f0000017f000001c7fa4992" "20001707" "00000000" "210007544c5376312e33"      \
            "220005616c696365"
#define HAPROXY_V2_NO_CERT_HEX SIG_HEX "2111001e" "7f0000017f000001c7fa4992" "20000f01" "00000000" "210007544c5376312e33"
#define HAPROXY_V2_SELF_SIGNED_HEX                                                                 \
    SIG_HEX "21110028" "7f0000017f000001c7fa4992" "20001907" "00000012" "210007544c5376312e33"      \
            "2200076d616c6c6f7279"
/* proxy-v2-options ssl,cert-cn,ssl-cipher,cert-sig,cert-key,authority,crc32c,unique-id
 * with ALPN mqtt and SNI broker.example: 182 bytes, CRC32C 0x3496417d. */
#define HAPROXY_V2_ALL_OPTIONS_HEX                                                                 \
    SIG_HEX "211100a6" "7f0000017f000001dfea4993"                                                  \
            "030004" "3496417d"                                                                    \
            "010004" "6d717474"                                                                    \
            "02000e" "62726f6b65722e6578616d706c65"                                                \
            "05002e" "37463030303030313a444645415f37463030303030313a343939335f"                     \
            "36423039434639465f303030363a31374144"                                                 \
            "200047" "07" "00000000"                                                               \
            "210007" "544c5376312e33"                                                              \
            "220005" "616c696365"                                                                  \
            "250007" "52534132303438"                                                              \
            "24000a" "5253412d534841323536"                                                        \
            "230016" "544c535f4145535f3235365f47434d5f534841333834"
#define HAPROXY_V2_LOCAL_HEX SIG_HEX "20000000"

/* Hex to bytes, ignoring spaces; returns the byte count (fails the test on bad hex). */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = hex; *p; p++) {
        int v = 0;
        if (*p == ' ')
            continue;
        if (*p >= '0' && *p <= '9')
            v = *p - '0';
        else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f')
            v = (*p | 0x20) - 'a' + 10;
        else
            fail_msg("bad hex digit '%c' in %s", *p, hex);
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap)
                fail_msg("hex vector longer than %zu bytes", cap);
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0)
        fail_msg("odd number of hex digits in %s", hex);
    return n;
}

/* A v2 header: signature, ver_cmd, fam, the real length, then body (hex). */
static inline size_t v2_header(uint8_t *out, size_t cap, uint8_t ver_cmd, uint8_t fam, const char *body_hex)
{
    assert_true(cap >= PP_V2_FIXED_LEN);
    memcpy(out, PP_V2_SIGNATURE, PP_V2_SIG_LEN);
    out[12] = ver_cmd;
    out[13] = fam;
    size_t n = unhex(body_hex, out + PP_V2_FIXED_LEN, cap - PP_V2_FIXED_LEN);
    out[14] = (uint8_t)(n >> 8);
    out[15] = (uint8_t)n;
    return PP_V2_FIXED_LEN + n;
}

/* Parses a copy of buf placed at the end of an exact-size heap block (an over-read is an
 * ASan error), and checks that out is left untouched unless the parse succeeded. Views in
 * *out point into buf, not into the copy. */
static inline ssize_t parse_checked(const uint8_t *buf, size_t len, const pp_options *o, pp_header *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len)
        memcpy(copy, buf, len);
    pp_header h, sentinel;
    memset(&h, 0xA5, sizeof h);
    memset(&sentinel, 0xA5, sizeof sentinel);
    ssize_t r = pp_parse(copy, len, o, &h);
    free(copy);
    if (r <= 0) {
        assert_memory_equal(&h, &sentinel, sizeof h); /* out is written only on success */
    } else {
        /* the same parse on the caller's buffer, so the views are usable */
        ssize_t again = pp_parse(buf, len, o, out);
        assert_int_equal(again, r);
    }
    return r;
}

static inline ssize_t parse_text(const char *text, const pp_options *o, pp_header *out)
{
    return parse_checked((const uint8_t *)text, strlen(text), o, out);
}

/* Asserts a result, printing both names when it differs. */
#define assert_pp_result(got, want)                                                                  \
    do {                                                                                             \
        ssize_t got_ = (got), want_ = (want);                                                        \
        if (got_ != want_)                                                                           \
            fail_msg("got %zd (%s), want %zd (%s)", got_, pp_error_name((int)got_), want_,          \
                     pp_error_name((int)want_));                                                     \
    } while (0)

#define assert_text_error(text, opts, err)                                                           \
    do {                                                                                             \
        pp_header h_;                                                                                \
        ssize_t r_ = parse_text((text), (opts), &h_);                                                \
        if (r_ != (err))                                                                             \
            fail_msg("\"%s\": got %zd (%s), want %s", (text), r_, pp_error_name((int)r_),           \
                     pp_error_name(err));                                                            \
    } while (0)

#define assert_hex_result(hex, opts, want)                                                           \
    do {                                                                                             \
        uint8_t b_[70000];                                                                           \
        pp_header h_;                                                                                \
        size_t n_ = unhex((hex), b_, sizeof b_);                                                     \
        assert_pp_result(parse_checked(b_, n_, (opts), &h_), (want));                                \
    } while (0)

#endif
