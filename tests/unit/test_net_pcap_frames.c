/* lib/net/pcap_frames: a synthetic TCP conversation dumped with libpcap and read back with
 * libpcap holds the real bytes: link type, addresses, ports, sequence and acknowledgement
 * numbers that follow both directions, flags, payload, valid IP and TCP checksums, for IPv4
 * behind Ethernet and for raw IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "net/addr.h"
#include "net/pcap_frames.h"

#define MAX_FRAMES 16

typedef struct frame {
    uint16_t ethertype; /* 0 on DLT_RAW */
    int ip_version;
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint8_t payload[64];
    size_t payload_len;
    bool ip_sum_ok, tcp_sum_ok;
} frame;

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }

/* A correct Internet checksum makes the ones' complement sum over the covered words 0xffff. */
static uint32_t word_sum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    size_t i = 0;
    for (; n - i >= 2; i += 2)
        s += get16(p + i);
    return i < n ? s + (uint32_t)(p[i] << 8) : s;
}

static bool sums_to_ffff(uint32_t s)
{
    while (s > 0xffff)
        s = (s >> 16) + (s & 0xffff);
    return s == 0xffff;
}

static void decode(int linktype, const uint8_t *d, size_t caplen, frame *out)
{
    memset(out, 0, sizeof *out);
    if (linktype == DLT_EN10MB) {
        out->ethertype = get16(d + 12);
        d += 14;
        caplen -= 14;
    }
    out->ip_version = d[0] >> 4;
    size_t ip_len = out->ip_version == 6 ? 40 : 20, alen = out->ip_version == 6 ? 16 : 4;
    const uint8_t *src = d + (alen == 16 ? 8 : 12);
    memcpy(out->src, src, alen);
    memcpy(out->dst, src + alen, alen);
    size_t tcp_len = caplen - ip_len;
    const uint8_t *tcp = d + ip_len;
    out->ip_sum_ok = out->ip_version == 6 || sums_to_ffff(word_sum(d, 20));
    out->tcp_sum_ok = sums_to_ffff(word_sum(src, 2 * alen) + 6 + (uint32_t)tcp_len + word_sum(tcp, tcp_len));
    out->sport = get16(tcp);
    out->dport = get16(tcp + 2);
    out->seq = get32(tcp + 4);
    out->ack = get32(tcp + 8);
    out->flags = tcp[13];
    out->payload_len = tcp_len - (size_t)(tcp[12] >> 4) * 4;
    assert_true(out->payload_len <= sizeof out->payload);
    memcpy(out->payload, tcp + (tcp[12] >> 4) * 4, out->payload_len);
}

typedef struct capture {
    char path[64];
    pcap_t *dead;
    pcap_dumper_t *dumper;
    frame frames[MAX_FRAMES];
    int n;
    int linktype;
} capture;

static void dump_frame(void *ctx, const uint8_t *bytes, size_t len)
{
    capture *c = ctx;
    struct pcap_pkthdr h = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};
    pcap_dump((u_char *)c->dumper, &h, bytes);
}

static void capture_open(capture *c, int linktype)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "/tmp/ppc-frames-%d.pcap", (int)getpid());
    c->dead = pcap_open_dead(linktype, 262144);
    assert_non_null(c->dead);
    c->dumper = pcap_dump_open(c->dead, c->path);
    assert_non_null(c->dumper);
}

/* Close the dump, read it back with libpcap, decode every frame. */
static void capture_read_back(capture *c)
{
    pcap_dump_close(c->dumper);
    pcap_close(c->dead);
    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(c->path, perr);
    assert_non_null(in);
    c->linktype = pcap_datalink(in);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(in, &h, &d) == 1) {
        assert_true(c->n < MAX_FRAMES);
        assert_int_equal(h->caplen, h->len);
        decode(c->linktype, d, h->caplen, &c->frames[c->n++]);
    }
    pcap_close(in);
    unlink(c->path);
}

/* A capture file of the link's type and a conversation from client to server dumped into it. */
static void begin(capture *c, pn_tcp_frames *f, pn_frame_link link, const char *client, const char *server,
                  uint32_t client_isn, uint32_t server_isn, size_t segment)
{
    pn_addr cli, srv;
    assert_int_equal(pn_addr_parse(client, &cli), 0);
    assert_int_equal(pn_addr_parse(server, &srv), 0);
    capture_open(c, link == PN_LINK_ETHERNET ? DLT_EN10MB : DLT_RAW);
    assert_int_equal(pn_tcp_frames_init(f, link, &cli, &srv, client_isn, server_isn, segment, dump_frame, c), 0);
}

/* A string literal and its length (payloads may hold NUL bytes). */
#define BYTES(s) s, sizeof(s) - 1

static void assert_frame(const frame *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                         const char *payload, size_t payload_len)
{
    assert_int_equal(f->sport, sport);
    assert_int_equal(f->dport, dport);
    assert_int_equal(f->seq, seq);
    assert_int_equal(f->ack, ack);
    assert_int_equal(f->flags, flags);
    assert_int_equal(f->payload_len, payload_len);
    assert_memory_equal(f->payload, payload, f->payload_len);
    assert_true(f->ip_sum_ok);
    assert_true(f->tcp_sum_ok);
}

enum { SYN = PN_TCP_SYN, ACK = PN_TCP_ACK, PSH_ACK = PN_TCP_PSH | PN_TCP_ACK, FIN_ACK = PN_TCP_FIN | PN_TCP_ACK,
       RST_ACK = PN_TCP_RST | PN_TCP_ACK };

static void test_ipv4_ethernet_conversation_reads_back_with_both_directions_sequenced(void **state)
{
    (void)state;
    capture c;
    pn_tcp_frames f;
    begin(&c, &f, PN_LINK_ETHERNET, "192.0.2.1:40000", "192.0.2.2:1883", 1000, 5000, 1400);
    pn_tcp_frames_handshake(&f);
    assert_int_equal(pn_tcp_frames_data(&f, true, "PROXY UNKNOWN\r\n", 15), 0);
    assert_int_equal(pn_tcp_frames_data(&f, true, "\xe0\x00", 2), 0);
    assert_int_equal(pn_tcp_frames_data(&f, false, "\x20\x02\x00\x00", 4), 0);
    pn_tcp_frames_fin(&f, false);
    pn_tcp_frames_fin(&f, true);
    capture_read_back(&c);

    assert_int_equal(c.linktype, DLT_EN10MB);
    assert_int_equal(c.n, 8);
    for (int i = 0; i < c.n; i++) {
        assert_int_equal(c.frames[i].ethertype, 0x0800);
        assert_int_equal(c.frames[i].ip_version, 4);
    }
    assert_memory_equal(c.frames[0].src, "\xc0\x00\x02\x01", 4);
    assert_memory_equal(c.frames[0].dst, "\xc0\x00\x02\x02", 4);
    assert_memory_equal(c.frames[1].src, "\xc0\x00\x02\x02", 4);
    assert_frame(&c.frames[0], 40000, 1883, 1000, 0, SYN, BYTES(""));
    assert_frame(&c.frames[1], 1883, 40000, 5000, 1001, SYN | ACK, BYTES(""));
    assert_frame(&c.frames[2], 40000, 1883, 1001, 5001, ACK, BYTES(""));
    assert_frame(&c.frames[3], 40000, 1883, 1001, 5001, PSH_ACK, BYTES("PROXY UNKNOWN\r\n"));
    assert_frame(&c.frames[4], 40000, 1883, 1016, 5001, PSH_ACK, BYTES("\xe0\x00"));
    assert_frame(&c.frames[5], 1883, 40000, 5001, 1018, PSH_ACK, BYTES("\x20\x02\x00\x00"));
    assert_frame(&c.frames[6], 1883, 40000, 5005, 1018, FIN_ACK, BYTES(""));
    assert_frame(&c.frames[7], 40000, 1883, 1018, 5006, FIN_ACK, BYTES("")); /* the FIN took a number */
}

static void test_ipv6_raw_frames_carry_addresses_ports_and_payload(void **state)
{
    (void)state;
    capture c;
    pn_tcp_frames f;
    begin(&c, &f, PN_LINK_RAW_IP, "[2001:db8::7]:40006", "[::1]:1883", 0xfffffffeu, 7, 1400);
    pn_tcp_frames_handshake(&f);
    assert_int_equal(pn_tcp_frames_data(&f, true, "PROXY TCP6", 10), 0);
    pn_tcp_frames_rst(&f, false);
    capture_read_back(&c);

    assert_int_equal(c.n, 5);
    static const uint8_t doc7[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7}, lo[16] = {[15] = 1};
    for (int i = 0; i < c.n; i++) {
        assert_int_equal(c.frames[i].ethertype, 0);
        assert_int_equal(c.frames[i].ip_version, 6);
        bool from_client = c.frames[i].sport == 40006;
        assert_memory_equal(c.frames[i].src, from_client ? doc7 : lo, 16);
        assert_memory_equal(c.frames[i].dst, from_client ? lo : doc7, 16);
    }
    /* the client's sequence numbers wrap past 2^32 */
    assert_frame(&c.frames[0], 40006, 1883, 0xfffffffeu, 0, SYN, BYTES(""));
    assert_frame(&c.frames[1], 1883, 40006, 7, 0xffffffffu, SYN | ACK, BYTES(""));
    assert_frame(&c.frames[2], 40006, 1883, 0xffffffffu, 8, ACK, BYTES(""));
    assert_frame(&c.frames[3], 40006, 1883, 0xffffffffu, 8, PSH_ACK, BYTES("PROXY TCP6"));
    assert_frame(&c.frames[4], 1883, 40006, 8, 9, RST_ACK, BYTES(""));
}

static void test_data_longer_than_a_segment_is_cut_into_consecutive_frames(void **state)
{
    (void)state;
    capture c;
    pn_tcp_frames f;
    begin(&c, &f, PN_LINK_RAW_IP, "127.0.0.2:5000", "127.0.0.1:1883", 100, 200, 4);
    assert_int_equal(pn_tcp_frames_data(&f, true, "0123456789", 10), 0);
    assert_int_equal(pn_tcp_frames_data(&f, false, "", 0), 0); /* nothing to send: no frame */
    capture_read_back(&c);

    assert_int_equal(c.n, 3);
    assert_frame(&c.frames[0], 5000, 1883, 100, 200, PSH_ACK, BYTES("0123"));
    assert_frame(&c.frames[1], 5000, 1883, 104, 200, PSH_ACK, BYTES("4567"));
    assert_frame(&c.frames[2], 5000, 1883, 108, 200, PSH_ACK, BYTES("89"));
    assert_int_equal(f.next_seq[0], 110);
}

static void test_mixed_or_non_ip_families_are_refused(void **state)
{
    (void)state;
    pn_addr v4, v6, empty;
    memset(&empty, 0, sizeof empty);
    assert_int_equal(pn_addr_parse("127.0.0.1:1", &v4), 0);
    assert_int_equal(pn_addr_parse("[::1]:2", &v6), 0);
    pn_tcp_frames f;
    assert_int_equal(pn_tcp_frames_init(&f, PN_LINK_RAW_IP, &v4, &v6, 1, 1, 1400, dump_frame, NULL), -1);
    assert_int_equal(pn_tcp_frames_init(&f, PN_LINK_RAW_IP, &v6, &v4, 1, 1, 1400, dump_frame, NULL), -1);
    assert_int_equal(pn_tcp_frames_init(&f, PN_LINK_RAW_IP, &empty, &empty, 1, 1, 1400, dump_frame, NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_ethernet_conversation_reads_back_with_both_directions_sequenced),
        cmocka_unit_test(test_ipv6_raw_frames_carry_addresses_ports_and_payload),
        cmocka_unit_test(test_data_longer_than_a_segment_is_cut_into_consecutive_frames),
        cmocka_unit_test(test_mixed_or_non_ip_families_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
