/* tests/integration/pcaps: read a capture that must hold exactly one TCP flow, and rebuild the
 * byte stream of each direction (libpcap reads the file; we only walk the link, IP and TCP
 * headers of each packet).
 *
 * A flow is the 4-tuple of the first SYN without ACK; its sender is the client. Any packet of
 * another 4-tuple, or a TCP packet before that SYN, counts as a foreign packet. Each direction's
 * stream starts at its ISN + 1 and must have no hole; retransmitted or overlapping bytes are
 * accepted when they repeat what is already there (on loopback they never differ).
 */
#ifndef PCAPS_PCAP_FLOW_H
#define PCAPS_PCAP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PF_STREAM_MAX 65536 /* a recorded MQTT session here is a few hundred bytes */

typedef struct pf_stream {
    uint8_t data[PF_STREAM_MAX];
    size_t len;       /* contiguous bytes from the start of the stream */
    bool syn_seen;
    uint32_t isn;
    bool fin;         /* this side sent a FIN */
    bool rst;         /* this side sent a RST */
} pf_stream;

typedef struct pf_flow {
    char client[64], server[64]; /* "127.0.0.1:47080", "[::1]:1883" */
    uint16_t server_port;
    unsigned packets;            /* packets of this flow */
    unsigned foreign_packets;    /* packets of any other flow, or before the first SYN */
    unsigned non_tcp_packets;    /* ARP, UDP, IP fragments, ... */
    pf_stream to_server, to_client;
} pf_flow;

/* Read the whole file. 0 on success; -1 with a message in err when the file cannot be read,
 * has no SYN, a link type we do not walk, a hole in a stream, or a stream above PF_STREAM_MAX. */
int pf_read(const char *path, pf_flow *flow, char *err, size_t errcap);

#endif
