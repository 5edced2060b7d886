/* tests/integration/pcaps: one TCP flow out of a capture file (see pcap_flow.h). */
#include "pcap_flow.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_ACK = 0x10 };

typedef struct endpoint {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    uint16_t port;
} endpoint;

typedef struct tcp_segment {
    endpoint src, dst;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *payload;
    size_t payload_len;
} tcp_segment;

static int fail(char *err, size_t errcap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errcap, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool endpoint_equal(const endpoint *a, const endpoint *b)
{
    size_t n = a->family == AF_INET ? 4 : 16;
    return a->family == b->family && a->port == b->port && memcmp(a->addr, b->addr, n) == 0;
}

static void endpoint_text(const endpoint *e, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(e->family, e->addr, ip, sizeof(ip));
    if (e->family == AF_INET6)
        snprintf(out, cap, "[%s]:%u", ip, e->port);
    else
        snprintf(out, cap, "%s:%u", ip, e->port);
}

/* Strip the link header: the IP packet and its version, or NULL for anything else. */
static const uint8_t *link_payload(int dlt, const uint8_t *p, size_t caplen, size_t *len)
{
    size_t off;
    uint16_t ethertype = 0;
    switch (dlt) {
    case DLT_EN10MB: /* Linux lo: an Ethernet header with zero MACs */
        if (caplen < 14)
            return NULL;
        off = 12;
        ethertype = be16(p + off);
        off += 2;
        while ((ethertype == 0x8100 || ethertype == 0x88a8) && caplen >= off + 4) {
            ethertype = be16(p + off + 2);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (caplen < 16)
            return NULL;
        ethertype = be16(p + 14);
        off = 16;
        break;
    case DLT_LINUX_SLL2:
        if (caplen < 20)
            return NULL;
        ethertype = be16(p);
        off = 20;
        break;
    case DLT_NULL:
    case DLT_RAW:
        off = dlt == DLT_NULL ? 4 : 0;
        if (caplen <= off)
            return NULL;
        ethertype = (p[off] >> 4) == 4 ? 0x0800 : (p[off] >> 4) == 6 ? 0x86dd : 0;
        break;
    default:
        return NULL;
    }
    if ((ethertype != 0x0800 && ethertype != 0x86dd) || caplen <= off)
        return NULL;
    *len = caplen - off;
    return p + off;
}

/* Parse IPv4/IPv6 + TCP. 1 = a TCP segment, 0 = not TCP (or a fragment), -1 = truncated. */
static int parse_tcp(const uint8_t *ip, size_t len, tcp_segment *seg)
{
    const uint8_t *tcp;
    size_t tcp_len;
    memset(seg, 0, sizeof(*seg));
    if (len < 1)
        return -1;
    if (ip[0] >> 4 == 4) {
        if (len < 20)
            return -1;
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4, total = be16(ip + 2);
        if (ihl < 20 || total < ihl || total > len)
            return -1;
        if (ip[9] != 6 || (be16(ip + 6) & 0x3fff) != 0) /* not TCP, or a fragment */
            return 0;
        seg->src.family = seg->dst.family = AF_INET;
        memcpy(seg->src.addr, ip + 12, 4);
        memcpy(seg->dst.addr, ip + 16, 4);
        tcp = ip + ihl;
        tcp_len = total - ihl;
    } else if (ip[0] >> 4 == 6) {
        if (len < 40)
            return -1;
        size_t payload = be16(ip + 4);
        if (40 + payload > len)
            return -1;
        if (ip[6] != 6) /* extension headers never appear on these loopback captures */
            return 0;
        seg->src.family = seg->dst.family = AF_INET6;
        memcpy(seg->src.addr, ip + 8, 16);
        memcpy(seg->dst.addr, ip + 24, 16);
        tcp = ip + 40;
        tcp_len = payload;
    } else {
        return 0;
    }
    if (tcp_len < 20)
        return -1;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > tcp_len)
        return -1;
    seg->src.port = be16(tcp);
    seg->dst.port = be16(tcp + 2);
    seg->seq = be32(tcp + 4);
    seg->flags = tcp[13];
    seg->payload = tcp + doff;
    seg->payload_len = tcp_len - doff;
    return 1;
}

static int stream_add(pf_stream *s, const tcp_segment *seg, const char *dir, char *err, size_t errcap)
{
    if (seg->flags & TCP_SYN) {
        s->syn_seen = true;
        s->isn = seg->seq;
        return 0;
    }
    if (seg->flags & TCP_FIN)
        s->fin = true;
    if (seg->flags & TCP_RST)
        s->rst = true;
    if (seg->payload_len == 0)
        return 0;
    if (!s->syn_seen)
        return fail(err, errcap, "%s: data before this side's SYN was captured", dir);
    uint32_t off = seg->seq - s->isn - 1; /* modulo 2^32, like TCP */
    if (off > s->len)
        return fail(err, errcap, "%s: hole in the stream at byte %zu (next segment starts at %u)", dir,
                    s->len, off);
    if (seg->payload_len > PF_STREAM_MAX - off)
        return fail(err, errcap, "%s: stream longer than %d bytes", dir, PF_STREAM_MAX);
    size_t overlap = s->len - off < seg->payload_len ? s->len - off : seg->payload_len;
    if (memcmp(s->data + off, seg->payload, overlap) != 0)
        return fail(err, errcap, "%s: a retransmission differs from the bytes already seen at %u", dir, off);
    memcpy(s->data + off, seg->payload, seg->payload_len);
    if (off + seg->payload_len > s->len)
        s->len = off + seg->payload_len;
    return 0;
}

int pf_read(const char *path, pf_flow *flow, char *err, size_t errcap)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    memset(flow, 0, sizeof(*flow));
    pcap_t *pc = pcap_open_offline(path, perr);
    if (!pc)
        return fail(err, errcap, "%s: %s", path, perr);
    int dlt = pcap_datalink(pc), rc = 0;
    if (dlt != DLT_EN10MB && dlt != DLT_LINUX_SLL && dlt != DLT_LINUX_SLL2 && dlt != DLT_NULL && dlt != DLT_RAW) {
        rc = fail(err, errcap, "%s: link type %s is not handled", path, pcap_datalink_val_to_name(dlt));
        pcap_close(pc);
        return rc;
    }
    bool have_flow = false;
    endpoint client = {0}, server = {0};
    struct pcap_pkthdr *h;
    const u_char *bytes;
    int n = 0;
    while (rc == 0 && (n = pcap_next_ex(pc, &h, &bytes)) == 1) {
        size_t ip_len;
        const uint8_t *ip = link_payload(dlt, bytes, h->caplen, &ip_len);
        tcp_segment seg;
        if (!ip) {
            flow->non_tcp_packets++;
            continue;
        }
        int t = parse_tcp(ip, ip_len, &seg);
        if (t < 0) {
            rc = fail(err, errcap, "%s: packet %u is truncated (snaplen too small?)",
                      path, flow->packets + flow->foreign_packets + flow->non_tcp_packets + 1);
            break;
        }
        if (t == 0) {
            flow->non_tcp_packets++;
            continue;
        }
        if (!have_flow) {
            if ((seg.flags & (TCP_SYN | TCP_ACK)) != TCP_SYN) {
                flow->foreign_packets++;
                continue;
            }
            have_flow = true;
            client = seg.src;
            server = seg.dst;
            endpoint_text(&client, flow->client, sizeof(flow->client));
            endpoint_text(&server, flow->server, sizeof(flow->server));
            flow->server_port = server.port;
        }
        if (endpoint_equal(&seg.src, &client) && endpoint_equal(&seg.dst, &server)) {
            flow->packets++;
            rc = stream_add(&flow->to_server, &seg, "client to server", err, errcap);
        } else if (endpoint_equal(&seg.src, &server) && endpoint_equal(&seg.dst, &client)) {
            flow->packets++;
            rc = stream_add(&flow->to_client, &seg, "server to client", err, errcap);
        } else {
            flow->foreign_packets++;
        }
    }
    if (rc == 0 && n == PCAP_ERROR)
        rc = fail(err, errcap, "%s: %s", path, pcap_geterr(pc));
    pcap_close(pc);
    if (rc == 0 && !have_flow)
        rc = fail(err, errcap, "%s: no TCP SYN, so no flow to check", path);
    return rc;
}
