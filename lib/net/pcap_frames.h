/* lib/net/pcap_frames.h: the packets of one made-up TCP conversation, for synthetic captures.
 *
 * Programs that record what they sent and received as a pcap (the runner's evidence,
 * proxysend --pcap-out) have only their socket I/O, not the packets. This builds plausible
 * ones around it: an IPv4 or IPv6 header (optionally behind an Ethernet header), a TCP header
 * with correct checksums, and sequence/acknowledgement numbers that follow a two-way
 * conversation (handshake, data, FIN, RST), so Wireshark, tshark and our own reader reassemble
 * exactly the bytes given. Each finished frame goes to a sink, typically one that calls
 * libpcap's pcap_dump; nothing here writes files or depends on libpcap.
 */
#ifndef PN_PCAP_FRAMES_H
#define PN_PCAP_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

/* TCP header flag bits (RFC 9293). */
enum { PN_TCP_FIN = 0x01, PN_TCP_SYN = 0x02, PN_TCP_RST = 0x04, PN_TCP_PSH = 0x08, PN_TCP_ACK = 0x10 };

typedef enum pn_frame_link {
    PN_LINK_RAW_IP,   /* frames start at the IP header: pcap link type DLT_RAW */
    PN_LINK_ETHERNET, /* a 14-byte Ethernet header first (MACs 02:00:00:00:00:01 client,
                         02:00:00:00:00:02 server): DLT_EN10MB */
} pn_frame_link;

/* Payload bytes in one data frame at most: an IPv4 total length is 16 bits. */
#define PN_FRAMES_SEGMENT_MAX 65000u
/* Link + IP + TCP header bytes in front of the payload, at most. */
#define PN_FRAMES_HEADROOM (14u + 40u + 20u)

/* Receives each frame in order; the bytes are valid until it returns. */
typedef void (*pn_frame_sink)(void *ctx, const uint8_t *frame, size_t len);

typedef struct pn_tcp_frames {
    pn_frame_link link;
    bool v6;
    uint8_t ip[2][16];     /* [0] client, [1] server; IPv4 uses the first 4 bytes */
    uint16_t port[2];      /* host order */
    uint32_t next_seq[2];  /* the sequence number each side sends next */
    uint16_t ip_id;        /* IPv4 identification of the next packet (counts up) */
    size_t segment;        /* payload bytes per data frame, 1..PN_FRAMES_SEGMENT_MAX */
    pn_frame_sink sink;
    void *sink_ctx;
} pn_tcp_frames;

/* A conversation between client and server (both IPv4 or both IPv6; ports from the
 * addresses) starting at the given initial sequence numbers; data is cut into frames of
 * `segment` payload bytes (clamped to 1..PN_FRAMES_SEGMENT_MAX). ip_id starts at 0; set it
 * after init for another start. 0, or -1 when the families differ or are not IP. */
int pn_tcp_frames_init(pn_tcp_frames *f, pn_frame_link link, const pn_addr *client, const pn_addr *server,
                       uint32_t client_isn, uint32_t server_isn, size_t segment, pn_frame_sink sink,
                       void *sink_ctx);

/* The three-way handshake: SYN, SYN-ACK, ACK (each SYN takes one sequence number). */
void pn_tcp_frames_handshake(pn_tcp_frames *f);
/* len bytes from one side as PSH|ACK frames acknowledging all the other side has sent.
 * 0, or -1 when the frame buffer cannot be allocated (nothing more is written). */
int pn_tcp_frames_data(pn_tcp_frames *f, bool from_client, const void *data, size_t len);
/* FIN|ACK from one side (takes one sequence number). */
void pn_tcp_frames_fin(pn_tcp_frames *f, bool from_client);
/* RST|ACK from one side. */
void pn_tcp_frames_rst(pn_tcp_frames *f, bool from_client);

#endif
