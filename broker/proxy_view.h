/* broker/proxy_view: what a parsed PROXY header means to ppbroker, rendered once per
 * connection: the contract's PROXY JSON object, the carried addresses as text, and the SSL
 * TLV (first occurrence, or the last one under the last-duplicate-tlv-wins quirk). */
#ifndef PPB_PROXY_VIEW_H
#define PPB_PROXY_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "net/addr.h"
#include "proxy/proxy.h"

/* Whether ppbroker attributes the connection to the carried source: PROXY command, INET or
 * INET6, STREAM. LOCAL, UNKNOWN, UNSPEC, UNIX and DGRAM keep the real peer (R-V2-07,
 * R-V1-08, R-V2-15, R-V2-25, A-18). */
bool ppb_proxy_uses_carried(const pp_header *h);

/* SSL TLV: first (pp_get_ssl) or, with last_wins, the last SSL TLV and the last of each
 * sub-TLV. false when there is no well-formed SSL TLV. */
bool ppb_proxy_ssl(const pp_header *h, bool last_wins, pp_ssl_info *out);

/* "ip:port" or "[v6]:port" for af AF_INET (4 bytes) or AF_INET6 (16 bytes): IPv4 written
 * by hand (every connection's peer goes through here), inet_ntop only for IPv6. Returns the
 * length, 0 (with "?" in buf when cap allows) when it does not fit. */
size_t ppb_ip_port_text(int af, const uint8_t *ip, uint16_t port, char *buf, size_t cap);
/* pn_addr_to_text's format ("?" for an empty address), faster. */
void ppb_addr_text(const pn_addr *a, char *buf, size_t cap);

/* "ip:port", "[v6]:port" or "unix:PATH" for an endpoint; "" when the family is UNSPEC. */
void ppb_endpoint_text(const pp_endpoint *ep, char *buf, size_t cap);

/* The PROXY object (malloc'd JSON text). crc_checked false = CRC TLV not verified (quirk). */
char *ppb_proxy_render(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins);

/* A connection's PROXY header kept for rendering on demand: most connections are never
 * looked at, so the JSON object and the text are made only when the admin API or a log
 * line reads them. Shared (reference counted) by the connection and its events. Headers
 * up to PPB_PROXY_KEEP_MAX bytes are kept as bytes (re-rendered on each read); a larger
 * one is rendered once at creation (every value in the rendering is bounded). */
#define PPB_PROXY_KEEP_MAX 1024
typedef struct ppb_proxy_rec ppb_proxy_rec;

ppb_proxy_rec *ppb_proxy_rec_new(const pp_header *h, bool used_carried, bool crc_checked, bool last_wins);
ppb_proxy_rec *ppb_proxy_rec_ref(ppb_proxy_rec *r);
void ppb_proxy_rec_unref(ppb_proxy_rec *r);
/* Bytes the record holds (for the event ring's memory budget). */
size_t ppb_proxy_rec_size(const ppb_proxy_rec *r);
int ppb_proxy_rec_version(const ppb_proxy_rec *r);
int ppb_proxy_rec_command(const ppb_proxy_rec *r);
int ppb_proxy_rec_family(const ppb_proxy_rec *r);
/* The PROXY object as the next value of jb (same bytes as ppb_proxy_render). */
void ppb_proxy_rec_json(const ppb_proxy_rec *r, jbuf *jb);
/* For text log lines: carried source, destination (ppb_endpoint_text) and pp_tlv_summary. */
const char *ppb_proxy_rec_src_text(const ppb_proxy_rec *r, char *buf, size_t cap);
const char *ppb_proxy_rec_dst_text(const ppb_proxy_rec *r, char *buf, size_t cap);
const char *ppb_proxy_rec_tlv_summary(const ppb_proxy_rec *r, char *buf, size_t cap);

#endif
