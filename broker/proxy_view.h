/* broker/proxy_view: what a parsed PROXY header means to ppbroker, rendered once per
 * connection: the contract's PROXY JSON object, the carried addresses as text, and the SSL
 * TLV (first occurrence, or the last one under the last-duplicate-tlv-wins quirk). */
#ifndef PPB_PROXY_VIEW_H
#define PPB_PROXY_VIEW_H

#include <stdbool.h>

#include "proxy/proxy.h"

/* Whether ppbroker attributes the connection to the carried source: PROXY command, INET or
 * INET6, STREAM. LOCAL, UNKNOWN, UNSPEC, UNIX and DGRAM keep the real peer (R-V2-07,
 * R-V1-08, R-V2-15, R-V2-25, A-18). */
bool ppb_proxy_uses_carried(const pp_header *h);

/* SSL TLV: first (pp_get_ssl) or, with last_wins, the last SSL TLV and the last of each
 * sub-TLV. false when there is no well-formed SSL TLV. */
bool ppb_proxy_ssl(const pp_header *h, bool last_wins, pp_ssl_info *out);

/* "ip:port", "[v6]:port" or "unix:PATH" for an endpoint; "" when the family is UNSPEC. */
void ppb_endpoint_text(const pp_endpoint *ep, char *buf, size_t cap);

/* The PROXY object (malloc'd JSON text). crc_checked false = CRC TLV not verified (quirk). */
char *ppb_proxy_render(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins);

#endif
