/* lib/proxy private: what parse.c, parse_v1.c, parse_v2.c and tlv.c share. Not installed,
 * not for callers outside lib/proxy. */
#ifndef PP_PARSE_INTERNAL_H
#define PP_PARSE_INTERNAL_H

#include "proxy/proxy.h"

#include <string.h>

/* pp_parse has already checked buf[0] ('P' or 0x0D), len >= 1 and the allowed versions;
 * opts is never NULL here. Same contract as pp_parse otherwise. */
ssize_t pp_parse_v1(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out);
ssize_t pp_parse_v2(const uint8_t *buf, size_t len, const pp_options *opts, pp_header *out);

/* The effective header size limit: opts->max_header, or the protocol maximum when 0. */
static inline size_t pp_max_header(const pp_options *opts)
{
    return opts->max_header ? opts->max_header : (size_t)PP_V2_MAX_LEN;
}

static inline uint16_t pp_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t pp_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An endpoint with no address (family UNSPEC, all bytes zero). */
static inline void pp_endpoint_clear(pp_endpoint *e)
{
    e->family = PP_FAM_UNSPEC;
    memset(e->ip, 0, sizeof e->ip);
    e->port = 0;
    e->unix_path = NULL;
}

/* Continue a CRC32C: crc is the running value before the final XOR (start with 0xFFFFFFFF). */
uint32_t pp_crc32c_update(uint32_t crc, const uint8_t *data, size_t len);

/* The table path whatever the CPU (tests compare it with the dispatched one). */
uint32_t pp_crc32c_table_only(const uint8_t *data, size_t len);

/* The well-known TLV types pp_header.idx records, as slots 1..PP_TLV_SLOTS (0 = untracked). */
enum { PP_TLV_SLOTS = 10 };
extern const uint8_t pp_tlv_slot[256];
enum { PP_SLOT_ALPN = 1, PP_SLOT_AUTHORITY, PP_SLOT_CRC32C, PP_SLOT_NOOP, PP_SLOT_UNIQUE_ID,
       PP_SLOT_SSL, PP_SLOT_NETNS, PP_SLOT_GCP, PP_SLOT_AWS, PP_SLOT_AZURE };

#endif
