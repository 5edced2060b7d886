/* Synthetic TCP conversation frames: see pcap_frames.h. */
#include "net/pcap_frames.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20
#define PROTO_TCP 6
#define TTL 64

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The Internet checksum (RFC 1071): a ones' complement sum of 16-bit words, folded. */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

int pn_tcp_frames_init(pn_tcp_frames *f, pn_frame_link link, const pn_addr *client, const pn_addr *server,
                       uint32_t client_isn, uint32_t server_isn, size_t segment, pn_frame_sink sink,
                       void *sink_ctx)
{
    memset(f, 0, sizeof *f);
    int fam = pn_addr_family(client);
    if ((fam != AF_INET && fam != AF_INET6) || pn_addr_family(server) != fam)
        return -1;
    size_t n;
    const uint8_t *cip = pn_addr_ip_bytes(client, &n), *sip = pn_addr_ip_bytes(server, &n);
    memcpy(f->ip[0], cip, n);
    memcpy(f->ip[1], sip, n);
    f->v6 = fam == AF_INET6;
    f->link = link;
    f->port[0] = pn_addr_port(client);
    f->port[1] = pn_addr_port(server);
    f->next_seq[0] = client_isn;
    f->next_seq[1] = server_isn;
    f->segment = segment < 1 ? 1 : segment > PN_FRAMES_SEGMENT_MAX ? PN_FRAMES_SEGMENT_MAX : segment;
    f->sink = sink;
    f->sink_ctx = sink_ctx;
    return 0;
}

/* One frame from side `from` (0 client, 1 server) into out, which has room for
 * PN_FRAMES_HEADROOM + len bytes; hands it to the sink and advances that side's sequence. */
static void emit(pn_tcp_frames *f, int from, uint8_t flags, const uint8_t *data, size_t len, uint8_t *out)
{
    int to = !from;
    size_t link_len = f->link == PN_LINK_ETHERNET ? ETH_LEN : 0;
    size_t ip_len = f->v6 ? IP6_LEN : IP4_LEN, tcp_total = TCP_LEN + len;
    uint8_t *ip = out + link_len, *tcp = ip + ip_len;
    memset(out, 0, link_len + ip_len + TCP_LEN);

    if (link_len) {
        static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
        memcpy(out, mac[to], 6);
        memcpy(out + 6, mac[from], 6);
        put16(out + 12, f->v6 ? 0x86DD : 0x0800);
    }

    /* The TCP checksum covers a pseudo-header: both addresses, the protocol, the TCP length. */
    size_t alen = f->v6 ? 16 : 4;
    uint32_t sum = csum_add(csum_add(0, f->ip[from], alen), f->ip[to], alen) + PROTO_TCP + (uint32_t)tcp_total;
    if (f->v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)tcp_total);
        ip[6] = PROTO_TCP;
        ip[7] = TTL;
        memcpy(ip + 8, f->ip[from], 16);
        memcpy(ip + 24, f->ip[to], 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(IP4_LEN + tcp_total));
        put16(ip + 4, f->ip_id++);
        put16(ip + 6, 0x4000); /* don't fragment */
        ip[8] = TTL;
        ip[9] = PROTO_TCP;
        memcpy(ip + 12, f->ip[from], 4);
        memcpy(ip + 16, f->ip[to], 4);
        put16(ip + 10, csum_fold(csum_add(0, ip, IP4_LEN)));
    }

    put16(tcp, f->port[from]);
    put16(tcp + 2, f->port[to]);
    put32(tcp + 4, f->next_seq[from]);
    put32(tcp + 8, (flags & PN_TCP_ACK) ? f->next_seq[to] : 0);
    tcp[12] = (TCP_LEN / 4) << 4; /* data offset in 32-bit words */
    tcp[13] = flags;
    put16(tcp + 14, 65535); /* window */
    if (len)
        memcpy(tcp + TCP_LEN, data, len);
    put16(tcp + 16, csum_fold(csum_add(sum, tcp, tcp_total)));

    f->sink(f->sink_ctx, out, link_len + ip_len + tcp_total);
    f->next_seq[from] += (uint32_t)len + ((flags & (PN_TCP_SYN | PN_TCP_FIN)) ? 1u : 0u);
}

static void control(pn_tcp_frames *f, bool from_client, uint8_t flags)
{
    uint8_t frame[PN_FRAMES_HEADROOM];
    emit(f, from_client ? 0 : 1, flags, NULL, 0, frame);
}

void pn_tcp_frames_handshake(pn_tcp_frames *f)
{
    control(f, true, PN_TCP_SYN);
    control(f, false, PN_TCP_SYN | PN_TCP_ACK);
    control(f, true, PN_TCP_ACK);
}

int pn_tcp_frames_data(pn_tcp_frames *f, bool from_client, const void *data, size_t len)
{
    if (len == 0)
        return 0;
    size_t most = len < f->segment ? len : f->segment;
    uint8_t *frame = malloc(PN_FRAMES_HEADROOM + most);
    if (!frame)
        return -1;
    const uint8_t *p = data;
    for (size_t off = 0; off < len; off += most) {
        size_t n = len - off < most ? len - off : most;
        emit(f, from_client ? 0 : 1, PN_TCP_PSH | PN_TCP_ACK, p + off, n, frame);
    }
    free(frame);
    return 0;
}

void pn_tcp_frames_fin(pn_tcp_frames *f, bool from_client)
{
    control(f, from_client, PN_TCP_FIN | PN_TCP_ACK);
}

void pn_tcp_frames_rst(pn_tcp_frames *f, bool from_client)
{
    control(f, from_client, PN_TCP_RST | PN_TCP_ACK);
}
