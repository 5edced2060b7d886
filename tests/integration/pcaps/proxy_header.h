/* tests/integration/pcaps: decode the PROXY header at the start of a recorded client stream.
 *
 * Deliberately small and strict, and independent of lib/proxy: it checks recordings of
 * real senders (HAProxy, nginx), so it only needs the shapes they emit: v1 TCP4/TCP6 lines
 * and v2 PROXY INET/INET6 STREAM with TLVs (SSL with its VERSION and CN sub-TLVs decoded).
 */
#ifndef PCAPS_PROXY_HEADER_H
#define PCAPS_PROXY_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ph_header {
    int version;              /* 1 or 2 */
    size_t len;               /* header bytes, CRLF / TLVs included */
    char v1_line[108];        /* v1: the line without CRLF */
    char family[8];           /* "TCP4"/"TCP6" (v1), "INET"/"INET6" (v2) */
    char src[48], dst[48];    /* carried addresses, as text */
    unsigned src_port, dst_port;
    unsigned tlv_count;       /* v2: top-level TLVs */
    bool has_ssl;             /* v2: PP2_TYPE_SSL (0x20) present */
    uint8_t ssl_client;
    uint32_t ssl_verify;
    char ssl_version[32];     /* sub-TLV 0x21, "" when absent */
    bool has_cn;
    char cn[128];             /* sub-TLV 0x22 (printable bytes only, else a decode error) */
} ph_header;

/* 0 with *h filled; -1 with a message in err (which names the requirement it breaks). */
int ph_decode(const uint8_t *buf, size_t len, ph_header *h, char *err, size_t errcap);

#endif
