/* lua/reasm.h: TCP flows from a capture, reassembled per direction.
 *
 * Packets (Ethernet, VLAN, Linux cooked v1/v2, BSD loopback or raw IP; IPv4 and IPv6) are
 * grouped into flows by 4-tuple. Each direction keeps its segments with relative sequence
 * numbers; reassembly orders them by sequence, drops retransmitted bytes, counts
 * out-of-order arrivals and stops at a hole (a gap means lost capture, reported).
 * Pure C over byte buffers, so it is unit-tested on crafted packets. */
#ifndef PC_REASM_H
#define PC_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_REASM_MAX_FLOWS 4096
#define PC_REASM_MAX_BYTES (64u << 20) /* payload kept over the whole capture */

typedef struct pc_seg {
    uint32_t seq;      /* relative to the direction's initial sequence number */
    uint32_t len;
    uint64_t t_us;
    uint64_t order;    /* arrival order in the capture */
    uint8_t *data;
} pc_seg;

typedef struct pc_dir {
    bool have_isn, syn;
    uint32_t isn;      /* sequence number of the first payload byte */
    pc_seg *segs;
    size_t n, cap;
    bool fin, rst;
} pc_dir;

typedef struct pc_flow {
    int family;                    /* 4 or 6 */
    uint8_t ip[2][16];             /* side 0 = the first packet's source */
    uint16_t port[2];
    pc_dir dir[2];                 /* dir[0]: side 0 -> side 1 */
    int client;                    /* side that sent the SYN (or side 0 / the higher port) */
    uint64_t first_t_us;
} pc_flow;

typedef struct pc_capture {
    pc_flow *flows;
    size_t n, cap;
    size_t bytes;                  /* payload kept */
    uint64_t packets, skipped;     /* skipped: not TCP/IP, truncated, fragments, over limits */
} pc_capture;

/* Add one captured packet; linktype is the pcap DLT_* value. 1 kept, 0 skipped. */
int pc_capture_add(pc_capture *c, int linktype, const uint8_t *pkt, size_t caplen, uint64_t t_us);
void pc_capture_free(pc_capture *c);
/* Decide which side is the client for every flow (call once all packets are in). */
void pc_capture_finish(pc_capture *c);

typedef struct pc_chunk {
    size_t off, len;   /* a range of the reassembled stream */
    uint64_t t_us;     /* when its first byte was first sent */
} pc_chunk;

typedef struct pc_stream {
    uint8_t *data;
    size_t len;
    pc_chunk *chunks;  /* the original segmentation (first transmissions, stream order) */
    size_t nchunks;
    size_t retransmitted, out_of_order, gaps;
    bool fin, rst;
} pc_stream;

/* Reassemble one direction: 0 = client to server, 1 = server to client. 0 or -1 (OOM). */
int pc_flow_stream(const pc_flow *f, int to_server, pc_stream *out);
void pc_stream_free(pc_stream *s);

/* Read a capture file (pcap or pcapng) through an optional BPF filter into c (libpcap;
 * in mod_pcap.c). 0, or -1 with err. */
int pc_pcap_read(const char *path, const char *filter, pc_capture *c, char *err, size_t errcap);

/* "ip:port" for a side (0 = client, 1 = server). */
void pc_flow_endpoint(const pc_flow *f, int server, char *out, size_t cap);

#endif
