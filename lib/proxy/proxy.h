/* lib/proxy: the PROXY protocol v1/v2 codec shared by every ppconform program.
 *
 * Parser: incremental over a byte prefix, allocation-free, results are views into the
 * caller's buffer. Builder: every valid header and every deliberate malformation the
 * conformance suite needs. Requirement IDs (R-*, A-*, EC-*) refer to
 * shared/spec/requirements.md and to the project's manifest in scenarios/requirements.lua.
 */
#ifndef PP_PROXY_H
#define PP_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- wire constants ------------------------------------------------------------------ */

#define PP_V1_MAX_LEN 107            /* R-V1-21: longest valid line, CRLF included */
#define PP_V2_SIG_LEN 12
#define PP_V2_FIXED_LEN 16           /* signature + ver_cmd + fam + len */
#define PP_V2_MAX_LEN (16 + 65535)   /* R-V2-26 */
#define PP_UNIX_PATH_LEN 108         /* R-V2-18 */
#define PP_UNIQUE_ID_MAX 128         /* R-UID-01 */

extern const uint8_t PP_V2_SIGNATURE[PP_V2_SIG_LEN]; /* 0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A */

enum pp_command { PP_CMD_LOCAL = 0x0, PP_CMD_PROXY = 0x1 };
enum pp_family { PP_FAM_UNSPEC = 0x0, PP_FAM_INET = 0x1, PP_FAM_INET6 = 0x2, PP_FAM_UNIX = 0x3 };
enum pp_transport { PP_TRANS_UNSPEC = 0x0, PP_TRANS_STREAM = 0x1, PP_TRANS_DGRAM = 0x2 };

enum pp_tlv_type {
    PP_TLV_ALPN = 0x01, PP_TLV_AUTHORITY = 0x02, PP_TLV_CRC32C = 0x03, PP_TLV_NOOP = 0x04,
    PP_TLV_UNIQUE_ID = 0x05, PP_TLV_SSL = 0x20, PP_TLV_NETNS = 0x30,
    PP_TLV_GCP = 0xE0,   /* GCP Private Service Connect: big-endian uint64 connection id */
    PP_TLV_AWS = 0xEA,   /* AWS: subtype byte, 0x01 = VPC endpoint id (ASCII) */
    PP_TLV_AZURE = 0xEE, /* Azure: subtype byte, 0x01 = LINKID (little-endian uint32) */
};
enum pp_ssl_subtype {
    PP_SSL_VERSION = 0x21, PP_SSL_CN = 0x22, PP_SSL_CIPHER = 0x23, PP_SSL_SIG_ALG = 0x24,
    PP_SSL_KEY_ALG = 0x25, PP_SSL_GROUP = 0x26, PP_SSL_SIG_SCHEME = 0x27, PP_SSL_CLIENT_CERT = 0x28,
};
enum pp_ssl_client_flag { PP_CLIENT_SSL = 0x01, PP_CLIENT_CERT_CONN = 0x02, PP_CLIENT_CERT_SESS = 0x04 };

/* ---- results ------------------------------------------------------------------------- */

#define PP_NEED_MORE 0 /* pp_parse: the prefix is still a plausible header; feed more bytes */

/* Errors are negative. Names are stable (logs, reports and scenarios match on them);
 * pp_error_info() gives the name, a one-line message and the requirement IDs. */
enum pp_error {
    PP_ERR_NOT_PROXY = -1,           /* detect.not_proxy: first bytes are neither v1 nor v2 (R-DET-04) */
    PP_ERR_VERSION_NOT_ALLOWED = -2, /* detect.version_not_allowed: v1 on a v2-only listener etc. (R-DET-01) */
    PP_ERR_TOO_LARGE = -3,           /* header.too_large: over opts->max_header */
    PP_ERR_TRUNCATED = -4,           /* header.truncated: EOF before the header completed (R-V2-34); for callers */
    PP_ERR_TIMEOUT = -5,             /* header.timeout: no complete header in time (R-GEN-12); for callers */

    PP_ERR_V1_TOO_LONG = -20,        /* v1.too_long: no CRLF within 107 bytes (R-V1-23) */
    PP_ERR_V1_BAD_TERMINATOR = -21,  /* v1.bad_terminator: bare CR or bare LF (R-V1-25) */
    PP_ERR_V1_BAD_SEPARATOR = -22,   /* v1.bad_separator: not exactly one SP (R-V1-03) */
    PP_ERR_V1_BAD_PROTOCOL = -23,    /* v1.bad_protocol: not TCP4/TCP6/UNKNOWN (R-V1-04) */
    PP_ERR_V1_BAD_ADDRESS = -24,     /* v1.bad_address: IPv4/IPv6 syntax (R-V1-13, R-V1-15) */
    PP_ERR_V1_LEADING_ZERO = -25,    /* v1.leading_zero: octet or port with a leading zero (R-V1-14, R-V1-19) */
    PP_ERR_V1_BAD_PORT = -26,        /* v1.bad_port: not 0..65535 decimal (R-V1-18) */
    PP_ERR_V1_FAMILY_MISMATCH = -27, /* v1.family_mismatch: address syntax vs TCP4/TCP6 (R-V1-17) */
    PP_ERR_V1_FIELD_COUNT = -28,     /* v1.field_count: missing or extra fields (R-V1-12) */
    PP_ERR_V1_BAD_CHAR = -29,        /* v1.bad_char: NUL, control or non-ASCII byte (R-V1-01, R-V1-26) */
    PP_ERR_V1_UNKNOWN_SUFFIX = -30,  /* v1.unknown_suffix: "UNKNOWNxyz" when opts reject it */

    PP_ERR_V2_BAD_SIGNATURE = -40,   /* v2.bad_signature (R-V2-01) */
    PP_ERR_V2_BAD_VERSION = -41,     /* v2.bad_version: version nibble != 2 (R-V2-03) */
    PP_ERR_V2_BAD_COMMAND = -42,     /* v2.bad_command: command nibble not LOCAL/PROXY (R-V2-06) */
    PP_ERR_V2_BAD_FAMILY = -43,      /* v2.bad_family: family nibble 0x4-0xF (R-V2-13) */
    PP_ERR_V2_BAD_TRANSPORT = -44,   /* v2.bad_transport: transport nibble 0x3-0xF (R-V2-20) */
    PP_ERR_V2_LENGTH_TOO_SMALL = -45,/* v2.length_too_small: len < address block (R-V2-36) */
    PP_ERR_V2_UNSPEC_REJECTED = -46, /* v2.unspec_rejected: PROXY with UNSPEC/undefined combo, by policy (R-V2-24, A-08) */
    PP_ERR_V2_DGRAM_REJECTED = -47,  /* v2.dgram_rejected: DGRAM family/transport, by policy (opts->reject_dgram, A-18) */

    PP_ERR_TLV_OVERRUN = -60,        /* tlv.overrun: value past 16+len (R-TLV-06) */
    PP_ERR_TLV_FRAGMENT = -61,       /* tlv.fragment: 1-2 stray bytes (R-TLV-07) */
    PP_ERR_TLV_DUPLICATE = -62,      /* tlv.duplicate: a type seen twice, by policy */
    PP_ERR_TLV_UNIQUE_ID_TOO_LONG = -63, /* tlv.unique_id_too_long: > 128 bytes, by policy (R-UID-01, A-14) */
    PP_ERR_SSL_TOO_SHORT = -64,      /* ssl.too_short: SSL value < 5 bytes (R-SSL-01) */
    PP_ERR_SSL_SUB_OVERRUN = -65,    /* ssl.sub_overrun: sub-TLV past the SSL value (R-SSL-15) */
    PP_ERR_SSL_SUB_FRAGMENT = -66,   /* ssl.sub_fragment: 1-2 stray bytes in the SSL value (R-SSL-15, R-TLV-07) */
    PP_ERR_SSL_SUB_DUPLICATE = -67,  /* ssl.sub_duplicate: a sub-type seen twice, by policy */

    PP_ERR_CRC_BAD_LENGTH = -80,     /* crc32c.bad_length: value length != 4 (R-CRC-01) */
    PP_ERR_CRC_MISMATCH = -81,       /* crc32c.mismatch (R-CRC-05, R-CRC-06) */
    PP_ERR_CRC_MISSING = -82,        /* crc32c.missing: required by policy and absent */
};

typedef struct pp_error_info {
    const char *name;    /* stable, e.g. "v1.leading_zero" */
    const char *message; /* one line for humans */
    const char *refs;    /* requirement IDs, comma-separated, e.g. "R-V1-14,R-V1-19" */
} pp_error_info;

/* Info for any value pp_parse can return or PP_ERR_*; unknown codes give name "unknown". */
const pp_error_info *pp_error_info_get(int err);
const char *pp_error_name(int err);
/* Reverse lookup (for scenarios and configs); returns 0 when the name is unknown. */
int pp_error_from_name(const char *name);

typedef struct pp_bytes {
    const uint8_t *ptr;
    size_t len;
} pp_bytes;

typedef struct pp_endpoint {
    uint8_t family;           /* PP_FAM_*; UNSPEC when the header carries no usable address */
    uint8_t ip[16];           /* INET: first 4 bytes; INET6: all 16; network order */
    uint16_t port;            /* host order */
    const uint8_t *unix_path; /* UNIX: view of the 108-byte NUL-padded block (may lack a NUL) */
} pp_endpoint;

/* Where pp_parse found the first occurrence of the well-known TLVs: offsets from the start
 * of the header (0 = absent). Filled once, so typed getters are O(1). */
typedef struct pp_tlv_index {
    uint16_t alpn, authority, crc32c, noop, unique_id, ssl, netns, gcp, aws, azure;
} pp_tlv_index;

typedef struct pp_header {
    uint8_t version;          /* 1 or 2 */
    uint8_t command;          /* PP_CMD_*; v1 lines are PROXY (UNKNOWN gives family UNSPEC) */
    uint8_t family;           /* PP_FAM_* as announced (v1: TCP4 -> INET, TCP6 -> INET6, UNKNOWN -> UNSPEC) */
    uint8_t transport;        /* PP_TRANS_* as announced (v1: STREAM, UNKNOWN -> UNSPEC) */
    uint8_t ver_cmd, fam_byte;/* v2: raw bytes 13 and 14 */
    bool v1_unknown;          /* v1 UNKNOWN (short or long form) */
    bool use_carried;         /* true when src/dst should replace the socket's addresses:
                                 PROXY + INET/INET6 (+ UNIX). false means "use the real peer"
                                 (LOCAL, UNKNOWN, UNSPEC, undefined combos: R-V2-07, R-V2-25) */
    pp_endpoint src, dst;
    size_t header_len;        /* total bytes consumed: v1 line with CRLF, or 16 + len */
    const uint8_t *raw;       /* view: the header's first byte in the caller's buffer */
    pp_bytes v1_unknown_tail; /* v1 UNKNOWN: bytes between "UNKNOWN" and CRLF (ignored, logged) */
    pp_bytes tlvs;            /* v2: the TLV area (after the address block, up to 16+len) */
    pp_tlv_index idx;
    bool crc_present, crc_ok; /* CRC32C TLV seen; verified (only meaningful when present) */
    uint8_t duplicate_type;   /* first TLV type seen twice (0 with has_duplicate false) */
    bool has_duplicate;       /* reported even when opts allow duplicates */
    uint16_t tlv_count;
} pp_header;

/* ---- options: policy, not parsing ------------------------------------------------------
 * A zero-initialised struct is the strict default this project recommends. */
enum { PP_ALLOW_V1 = 1, PP_ALLOW_V2 = 2 };
typedef struct pp_options {
    unsigned versions;           /* PP_ALLOW_* bitmask; 0 = both (R-DET-01, EC-S-07) */
    size_t max_header;           /* 0 = PP_V2_MAX_LEN; larger headers fail with header.too_large */
    bool require_crc32c;         /* v2 without a CRC32C TLV fails with crc32c.missing */
    bool skip_crc32c;            /* do not verify a CRC32C TLV (R-CRC-08: receivers without support) */
    bool skip_tlvs;              /* skip the TLV area unparsed (R-V2-35, A-05): no TLV errors at all */
    bool reject_unspec_proxy;    /* PROXY with UNSPEC or an undefined combo: reject instead of fallback (R-V2-24, A-08) */
    bool reject_local_bad_family;/* LOCAL with family/transport nibble out of range: reject;
                                    default: LOCAL ignores the family byte (R-V2-07) */
    bool reject_dgram;           /* DGRAM families on a stream listener: reject instead of using them */
    bool allow_tlv_duplicates;   /* default rejects a duplicated TLV or SSL sub-TLV */
    bool allow_long_unique_id;   /* default rejects UNIQUE_ID > 128 bytes */
    bool v1_reject_mapped_ipv4;  /* default accepts "::ffff:1.2.3.4" in TCP6 lines (A-09, EC-V1-29) */
    bool v1_allow_unknown_suffix;/* default rejects "PROXY UNKNOWNxyz\r\n" (A-19, EC-V1-33) */
} pp_options;

/* Parse the header at the start of buf[0..len).
 * Returns header_len (> 0) when complete and valid, PP_NEED_MORE while the prefix could still
 * become a valid header, or a PP_ERR_* (< 0) as soon as the bytes rule a header out
 * (one byte suffices for an MQTT CONNECT: R-V1-27). Never reads past buf[len-1].
 * Addresses are decoded only once the whole header is present (R-V1-22, R-V2-33).
 * opts may be NULL (strict defaults). out is written only on success. */
ssize_t pp_parse(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out);

/* ---- TLVs ----------------------------------------------------------------------------- */

typedef struct pp_tlv {
    uint8_t type;
    uint16_t len;
    const uint8_t *value;
} pp_tlv;

typedef struct pp_tlv_iter {
    const uint8_t *p, *end;
} pp_tlv_iter;

/* Top-level TLVs of a parsed header, in wire order. */
void pp_tlv_iter_init(pp_tlv_iter *it, const pp_header *h);
/* Sub-TLVs of an SSL TLV: pass pp_ssl_info.subtlvs, i.e. the bytes after client + verify
 * (the iterator does not skip those 5 bytes itself). */
void pp_ssl_iter_init(pp_tlv_iter *it, pp_bytes ssl_value);
/* Next TLV; false at the end (or on a malformed tail, which pp_parse has already refused). */
bool pp_tlv_next(pp_tlv_iter *it, pp_tlv *out);

/* First occurrence of any top-level type. */
bool pp_tlv_find(const pp_header *h, uint8_t type, pp_bytes *value);

typedef struct pp_ssl_info {
    uint8_t client;       /* PP_CLIENT_* bits */
    uint32_t verify;      /* big-endian on the wire; 0 = presented and verified */
    pp_bytes version, cn, cipher, sig_alg, key_alg, group, sig_scheme, client_cert;
    pp_bytes subtlvs;     /* the raw sub-TLV area, for pp_ssl_iter_init */
} pp_ssl_info;

/* Typed getters: true when the TLV is present (and, for fixed layouts, well formed). */
bool pp_get_alpn(const pp_header *h, pp_bytes *out);
bool pp_get_authority(const pp_header *h, pp_bytes *out);
bool pp_get_crc32c(const pp_header *h, uint32_t *out);
bool pp_get_noop(const pp_header *h, pp_bytes *out);
bool pp_get_unique_id(const pp_header *h, pp_bytes *out);
bool pp_get_ssl(const pp_header *h, pp_ssl_info *out);
bool pp_get_netns(const pp_header *h, pp_bytes *out);
bool pp_get_aws_vpce_id(const pp_header *h, pp_bytes *out);     /* 0xEA subtype 0x01 */
bool pp_get_azure_linkid(const pp_header *h, uint32_t *out);    /* 0xEE subtype 0x01, LE uint32 */
bool pp_get_gcp_psc_id(const pp_header *h, uint64_t *out);      /* 0xE0, BE uint64 */

/* True when the SSL TLV proves a verified client certificate: PP2_CLIENT_SSL set, CERT_CONN
 * or CERT_SESS set, and verify == 0 (R-SSL-02, A-12). The only basis for trusting a CN. */
bool pp_ssl_cert_verified(const pp_ssl_info *ssl);

/* ---- CRC32C (Castagnoli, RFC 4960 App. B) ------------------------------------------- */

uint32_t pp_crc32c(const uint8_t *data, size_t len);
/* CRC of a v2 header with the 4-byte CRC value at value_off treated as zero (R-CRC-05). */
uint32_t pp_crc32c_header(const uint8_t *hdr, size_t len, size_t value_off);

/* ---- text helpers ---------------------------------------------------------------------- */

/* Address to text (inet_ntop style; UNIX: the path up to its first NUL, escaped). Returns buf. */
const char *pp_endpoint_addr_str(const pp_endpoint *ep, char *buf, size_t cap);
/* Multi-line, field-by-field description of a parsed header (for decode, dry runs, logs). */
size_t pp_header_describe(const pp_header *h, char *buf, size_t cap);
/* One-line summary of the TLVs, e.g. "alpn=mqtt authority=broker.example ssl{client=0x07 verify=0 cn=alice}" */
size_t pp_tlv_summary(const pp_header *h, char *buf, size_t cap);

/* ---- builder --------------------------------------------------------------------------
 * Writes into a caller buffer; no allocation. Each call returns the number of bytes written,
 * or -1 when cap is too small. Every malformation is an explicit override. */

typedef struct pp_build_tlv {
    uint8_t type;
    const uint8_t *value;
    size_t len;
    int32_t len_override;    /* -1: the real length; otherwise written as the length field */
    bool crc_auto;           /* type 0x03 with the value computed last (R-CRC-02..04): 4 bytes
                                are written, value/len ignored; several crc_auto TLVs all get
                                the CRC computed with every one of them zeroed (EC-C-08) */
} pp_build_tlv;
/* A well-formed TLV (len_override -1): a zero-initialised pp_build_tlv would announce
 * length 0. value NULL writes len zero bytes (handy for NOOP padding). */
#define PP_BUILD_TLV(type_, value_, len_) \
    ((pp_build_tlv){.type = (type_), .value = (value_), .len = (len_), .len_override = -1})

typedef struct pp_build_ssl {
    uint8_t client;
    uint32_t verify;
    const pp_build_tlv *subs; /* sub-TLVs in the order given (HAProxy's order is not numeric) */
    size_t nsubs;
} pp_build_ssl;

typedef struct pp_build_spec {
    uint8_t version;          /* 1 or 2 */
    uint8_t command;          /* PP_CMD_* (v2) */
    uint8_t family;           /* PP_FAM_*: v1 INET -> TCP4, INET6 -> TCP6, other -> UNKNOWN */
    uint8_t transport;        /* PP_TRANS_* (v2) */
    pp_endpoint src, dst;     /* for UNIX, unix_path points to up to 108 bytes, NUL-padded by the builder */
    const pp_build_tlv *tlvs; /* v2 TLVs in order; a pp_build_tlv with type PP_TLV_SSL and
                                 value == NULL takes its value from ssl below */
    size_t ntlvs;
    const pp_build_ssl *ssl;

    /* v1 */
    const char *v1_unknown_tail; /* text after "UNKNOWN" (include the leading space yourself) */
    const char *v1_text;         /* free text: written verbatim instead of the grammar (no CRLF added) */

    /* v2 malformations: -1 (or NULL) = none */
    const uint8_t *sig_override; /* 12 bytes written instead of the signature */
    int ver_cmd_override;        /* byte 13 as given */
    int fam_override;            /* byte 14 as given (the address block still follows spec.family) */
    int32_t len_override;        /* absolute value of bytes 15-16 */
    int32_t len_delta;           /* added to the real length (applied when len_override is -1) */
    bool crc_corrupt;            /* flip one bit of the computed CRC (EC-C-04) */
    bool crc_little_endian;      /* store the CRC byte-swapped (EC-C-06) */

    /* UNIX: src/dst unix_path each point to exactly 108 bytes written verbatim, so abstract
     * names (leading NUL) and unterminated paths can be sent (EC-V2-05, EC-V2-06). */
    bool unix_raw;
} pp_build_spec;

/* Fills a spec with "no overrides" (all -1/false/NULL, len_delta 0) and version 2 PROXY
 * TCP4 STREAM. pp_build returns -1 too for a spec it cannot express: a version other than
 * 1 or 2, an override too large for its byte or 16-bit field, or a v2 length (or TLV
 * length) over 65535 without an explicit override. A v2
 * endpoint whose family is INET under spec family INET6 is written IPv4-mapped. */
void pp_build_spec_init(pp_build_spec *spec);
ssize_t pp_build(const pp_build_spec *spec, uint8_t *buf, size_t cap);
/* Convenience: a v1 line for TCP4/TCP6 endpoints or UNKNOWN. Like HAProxy, a mixed
 * INET/INET6 pair becomes TCP6 with the IPv4 side IPv4-mapped; anything else UNKNOWN. */
ssize_t pp_build_v1(const pp_endpoint *src, const pp_endpoint *dst, uint8_t *buf, size_t cap);

/* Endpoint from text "1.2.3.4:80", "[::1]:80", "1.2.3.4" (port 0), "::1" (port 0) or
 * "unix:/path" (unix_path points into text; at most 108 bytes). 0 or -1. */
int pp_endpoint_parse(const char *text, pp_endpoint *out);

#endif
