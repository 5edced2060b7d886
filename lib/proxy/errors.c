/* The codec's error table: a stable name, a one-line message and the requirement IDs for
 * every enum pp_error value. Names are part of the interface: logs, reports, scenarios and
 * configs match on them, so they never change once published. */
#include "proxy/proxy.h"

#include <string.h>

typedef struct error_row {
    int code;
    pp_error_info info;
} error_row;

static const error_row rows[] = {
    {PP_ERR_NOT_PROXY, {"detect.not_proxy", "the first bytes are neither a PROXY v1 line nor the v2 signature", "R-DET-04,R-GEN-13,R-V1-27"}},
    {PP_ERR_VERSION_NOT_ALLOWED, {"detect.version_not_allowed", "this PROXY version is not enabled on the listener", "R-DET-01,R-GEN-06,R-GEN-07"}},
    {PP_ERR_TOO_LARGE, {"header.too_large", "the header is larger than the configured limit", "A-02,R-V2-26"}},
    {PP_ERR_TRUNCATED, {"header.truncated", "the connection ended before the header was complete", "R-V2-34,A-01"}},
    {PP_ERR_TIMEOUT, {"header.timeout", "no complete header arrived in time", "R-GEN-12"}},

    {PP_ERR_V1_TOO_LONG, {"v1.too_long", "no CRLF within the first 107 bytes of the v1 line", "R-V1-21,R-V1-23"}},
    {PP_ERR_V1_BAD_TERMINATOR, {"v1.bad_terminator", "bare CR or bare LF: a v1 line ends with CRLF only", "R-V1-20,R-V1-25"}},
    {PP_ERR_V1_BAD_SEPARATOR, {"v1.bad_separator", "fields must be separated by exactly one space", "R-V1-03"}},
    {PP_ERR_V1_BAD_PROTOCOL, {"v1.bad_protocol", "the protocol is not TCP4, TCP6 or UNKNOWN", "R-V1-04"}},
    {PP_ERR_V1_BAD_ADDRESS, {"v1.bad_address", "an address is not valid IPv4 or IPv6 text", "R-V1-13,R-V1-15"}},
    {PP_ERR_V1_LEADING_ZERO, {"v1.leading_zero", "an address octet or a port has a leading zero", "R-V1-14,R-V1-19"}},
    {PP_ERR_V1_BAD_PORT, {"v1.bad_port", "a port is not a decimal number from 0 to 65535", "R-V1-18"}},
    {PP_ERR_V1_FAMILY_MISMATCH, {"v1.family_mismatch", "the address syntax does not match TCP4/TCP6", "R-V1-17"}},
    {PP_ERR_V1_FIELD_COUNT, {"v1.field_count", "a v1 TCP line needs exactly: src dst sport dport", "R-V1-12"}},
    {PP_ERR_V1_BAD_CHAR, {"v1.bad_char", "NUL, control or non-ASCII byte in the v1 line", "R-V1-01,R-V1-26"}},
    {PP_ERR_V1_UNKNOWN_SUFFIX, {"v1.unknown_suffix", "UNKNOWN must be followed by a space or CRLF", "A-19"}},

    {PP_ERR_V2_BAD_SIGNATURE, {"v2.bad_signature", "the 12-byte v2 signature does not match", "R-V2-01,R-DET-04"}},
    {PP_ERR_V2_BAD_VERSION, {"v2.bad_version", "the v2 version nibble is not 2", "R-V2-03,R-DET-02"}},
    {PP_ERR_V2_BAD_COMMAND, {"v2.bad_command", "the v2 command is neither LOCAL nor PROXY", "R-V2-06"}},
    {PP_ERR_V2_BAD_FAMILY, {"v2.bad_family", "the v2 address family nibble is out of range (0x4-0xF)", "R-V2-13"}},
    {PP_ERR_V2_BAD_TRANSPORT, {"v2.bad_transport", "the v2 transport nibble is out of range (0x3-0xF)", "R-V2-20"}},
    {PP_ERR_V2_LENGTH_TOO_SMALL, {"v2.length_too_small", "the v2 length is smaller than the address block", "R-V2-36"}},
    {PP_ERR_V2_UNSPEC_REJECTED, {"v2.unspec_rejected", "PROXY with an unspecified or undefined family, refused by policy", "R-V2-24,R-V2-15,A-08"}},
    {PP_ERR_V2_DGRAM_REJECTED, {"v2.dgram_rejected", "a datagram family on a stream listener, refused by policy", "A-18"}},

    {PP_ERR_TLV_OVERRUN, {"tlv.overrun", "a TLV runs past the end of the header", "R-TLV-06,A-05"}},
    {PP_ERR_TLV_FRAGMENT, {"tlv.fragment", "1 or 2 stray bytes at the end of the TLV area", "R-TLV-07,A-05"}},
    {PP_ERR_TLV_DUPLICATE, {"tlv.duplicate", "a TLV type appears twice", "A-15"}},
    {PP_ERR_TLV_UNIQUE_ID_TOO_LONG, {"tlv.unique_id_too_long", "UNIQUE_ID is longer than 128 bytes", "R-UID-01,A-14"}},
    {PP_ERR_SSL_TOO_SHORT, {"ssl.too_short", "the SSL TLV value is shorter than 5 bytes", "R-SSL-01"}},
    {PP_ERR_SSL_SUB_OVERRUN, {"ssl.sub_overrun", "an SSL sub-TLV runs past the SSL TLV value", "R-SSL-15"}},
    {PP_ERR_SSL_SUB_FRAGMENT, {"ssl.sub_fragment", "1 or 2 stray bytes at the end of the SSL TLV value", "R-SSL-15,R-TLV-07"}},
    {PP_ERR_SSL_SUB_DUPLICATE, {"ssl.sub_duplicate", "an SSL sub-TLV type appears twice", "A-15"}},

    {PP_ERR_CRC_BAD_LENGTH, {"crc32c.bad_length", "the CRC32C TLV value is not 4 bytes", "R-CRC-01"}},
    {PP_ERR_CRC_MISMATCH, {"crc32c.mismatch", "the CRC32C checksum does not match the header", "R-CRC-05,R-CRC-06"}},
    {PP_ERR_CRC_MISSING, {"crc32c.missing", "a CRC32C TLV is required and absent", "R-CRC-05"}},
};

static const pp_error_info need_more = {"need_more", "the header is incomplete so far", "R-GEN-10"};
static const pp_error_info ok = {"ok", "a complete, valid header", ""};
static const pp_error_info unknown = {"unknown", "unknown error code", ""};

const pp_error_info *pp_error_info_get(int err)
{
    if (err > 0)
        return &ok;
    if (err == PP_NEED_MORE)
        return &need_more;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (rows[i].code == err)
            return &rows[i].info;
    return &unknown;
}

const char *pp_error_name(int err)
{
    return pp_error_info_get(err)->name;
}

int pp_error_from_name(const char *name)
{
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (strcmp(rows[i].info.name, name) == 0)
            return rows[i].code;
    return 0;
}
