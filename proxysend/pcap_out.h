/* --pcap-out: what was sent and received, as a pcap with synthetic Ethernet/IP/TCP headers
 * (one packet per write or read, a plausible handshake and sequence numbers), written
 * through libpcap's dumper so tshark and Wireshark decode the PROXY header. */
#ifndef PROXYSEND_PCAP_OUT_H
#define PROXYSEND_PCAP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/proxy.h"

typedef struct ps_pcap ps_pcap;

/* client/server: INET or INET6 endpoints (a mixed or non-IP pair is written as 127.0.0.1
 * ports). Returns NULL with err set when the file cannot be opened. Writes the 3-way handshake. */
ps_pcap *ps_pcap_open(const char *path, const pp_endpoint *client, const pp_endpoint *server, char *err,
                      size_t errcap);
void ps_pcap_data(ps_pcap *p, bool from_client, const uint8_t *data, size_t len);
void ps_pcap_fin(ps_pcap *p, bool from_client);
void ps_pcap_rst(ps_pcap *p, bool from_client);
void ps_pcap_close(ps_pcap *p); /* NULL is fine */

#endif
