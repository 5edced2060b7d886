/* pcap reading and TCP reassembly (lua/reasm.c, lua/mod_pcap.c) on captures crafted here
 * with libpcap's dumper: handshake and client detection, out-of-order and retransmitted
 * segments, a lost segment, IPv6, and a BPF filter. */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "reasm.h"

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

typedef struct ep {
    int family;
    uint8_t ip[16];
    uint16_t port;
} ep;

static ep v4(const char *ip, uint16_t port)
{
    ep e = {4, {0}, port};
    inet_pton(AF_INET, ip, e.ip);
    return e;
}

static ep v6(const char *ip, uint16_t port)
{
    ep e = {6, {0}, port};
    inet_pton(AF_INET6, ip, e.ip);
    return e;
}

static pcap_dumper_t *dumper;
static pcap_t *dead;
static char path[256];
static uint64_t clock_us;

static void open_capture(void)
{
    snprintf(path, sizeof path, "/tmp/ppc-reasm-%d.pcap", (int)getpid());
    dead = pcap_open_dead(DLT_EN10MB, 65535);
    dumper = pcap_dump_open(dead, path);
    assert_non_null(dumper);
    clock_us = 1000000;
}

static void close_capture(void)
{
    pcap_dump_close(dumper);
    pcap_close(dead);
}

/* One Ethernet frame a -> b with a TCP segment (checksums are not needed by the reader). */
static void seg_n(ep a, ep b, uint32_t seq, uint8_t flags, const char *payload, size_t plen)
{
    uint8_t f[2000];
    size_t n = 0;
    memset(f, 0, 12);
    n = 12;
    f[n++] = a.family == 4 ? 0x08 : 0x86;
    f[n++] = a.family == 4 ? 0x00 : 0xdd;
    if (a.family == 4) {
        uint16_t tot = (uint16_t)(20 + 20 + plen);
        uint8_t ip[20] = {0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, 0, 0, 0x40, 0, 64, 6};
        memcpy(ip + 12, a.ip, 4);
        memcpy(ip + 16, b.ip, 4);
        memcpy(f + n, ip, 20);
        n += 20;
    } else {
        uint16_t pl = (uint16_t)(20 + plen);
        uint8_t ip[40] = {0x60, 0, 0, 0, (uint8_t)(pl >> 8), (uint8_t)pl, 6, 64};
        memcpy(ip + 8, a.ip, 16);
        memcpy(ip + 24, b.ip, 16);
        memcpy(f + n, ip, 40);
        n += 40;
    }
    uint8_t tcp[20] = {(uint8_t)(a.port >> 8), (uint8_t)a.port, (uint8_t)(b.port >> 8), (uint8_t)b.port};
    uint32_t s = htonl(seq);
    memcpy(tcp + 4, &s, 4);
    tcp[12] = 0x50;
    tcp[13] = flags;
    memcpy(f + n, tcp, 20);
    n += 20;
    memcpy(f + n, payload ? payload : "", plen);
    n += plen;
    struct pcap_pkthdr h;
    clock_us += 1000;
    h.ts.tv_sec = (time_t)(clock_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(clock_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)n;
    pcap_dump((u_char *)dumper, &h, f);
}

static void seg(ep a, ep b, uint32_t seq, uint8_t flags, const char *payload)
{
    seg_n(a, b, seq, flags, payload, payload ? strlen(payload) : 0);
}

static void handshake(ep c, ep s, uint32_t ciss, uint32_t siss)
{
    seg(c, s, ciss, SYN, NULL);
    seg(s, c, siss, SYN | ACK, NULL);
    seg(c, s, ciss + 1, ACK, NULL);
}

static void read_capture(pc_capture *cap, const char *filter)
{
    memset(cap, 0, sizeof *cap);
    char err[256];
    assert_int_equal(pc_pcap_read(path, filter, cap, err, sizeof err), 0);
}

static void expect_stream(const pc_flow *f, int to_server, const char *want, pc_stream *s)
{
    assert_int_equal(pc_flow_stream(f, to_server, s), 0);
    assert_int_equal(s->len, strlen(want));
    assert_memory_equal(s->data, want, s->len);
}

static void test_in_order_flow_with_handshake_finds_the_client(void **state)
{
    (void)state;
    open_capture();
    ep c = v4("10.0.0.2", 50000), s = v4("10.0.0.1", 1883);
    /* the first packet the capture sees comes from the server: the SYN still decides */
    seg(s, c, 7, ACK, NULL);
    handshake(c, s, 100, 900);
    seg(c, s, 101, PSH | ACK, "hello ");
    seg(c, s, 107, PSH | ACK, "world");
    seg(s, c, 901, PSH | ACK, "OK");
    seg(c, s, 112, FIN | ACK, NULL);
    close_capture();
    pc_capture cap;
    read_capture(&cap, NULL);
    assert_int_equal(cap.n, 1);
    char text[64];
    pc_flow_endpoint(&cap.flows[0], 0, text, sizeof text);
    assert_string_equal(text, "10.0.0.2:50000");
    pc_flow_endpoint(&cap.flows[0], 1, text, sizeof text);
    assert_string_equal(text, "10.0.0.1:1883");
    pc_stream cs, ss;
    expect_stream(&cap.flows[0], 1, "hello world", &cs);
    assert_int_equal(cs.nchunks, 2); /* the original segmentation */
    assert_int_equal(cs.chunks[1].off, 6);
    assert_true(cs.fin);
    expect_stream(&cap.flows[0], 0, "OK", &ss);
    pc_stream_free(&cs);
    pc_stream_free(&ss);
    pc_capture_free(&cap);
    unlink(path);
}

static void test_out_of_order_segments_are_put_back_in_order(void **state)
{
    (void)state;
    open_capture();
    ep c = v4("10.0.0.2", 50001), s = v4("10.0.0.1", 1883);
    handshake(c, s, 1000, 5000);
    seg(c, s, 1007, PSH | ACK, "world");
    seg(c, s, 1012, PSH | ACK, "!");
    seg(c, s, 1001, PSH | ACK, "hello ");
    close_capture();
    pc_capture cap;
    read_capture(&cap, NULL);
    pc_stream cs;
    expect_stream(&cap.flows[0], 1, "hello world!", &cs);
    assert_int_equal(cs.out_of_order, 2);
    assert_int_equal(cs.gaps, 0);
    pc_stream_free(&cs);
    pc_capture_free(&cap);
    unlink(path);
}

static void test_retransmitted_and_overlapping_segments_count_once(void **state)
{
    (void)state;
    open_capture();
    ep c = v4("10.0.0.2", 50002), s = v4("10.0.0.1", 1883);
    handshake(c, s, 0xfffffff0u, 77); /* sequence numbers wrap around 2^32 */
    seg(c, s, 0xfffffff1u, PSH | ACK, "PROXY ");
    seg(c, s, 0xfffffff1u, PSH | ACK, "PROXY ");   /* retransmitted */
    seg(c, s, 0xfffffff4u, PSH | ACK, "XY TCP4"); /* overlaps 3 bytes already seen */
    seg(c, s, 0xfffffffbu, PSH | ACK, "\r\n");
    close_capture();
    pc_capture cap;
    read_capture(&cap, NULL);
    pc_stream cs;
    expect_stream(&cap.flows[0], 1, "PROXY TCP4\r\n", &cs);
    assert_int_equal(cs.retransmitted, 2);
    assert_int_equal(cs.nchunks, 3);
    pc_stream_free(&cs);
    pc_capture_free(&cap);
    unlink(path);
}

static void test_a_lost_segment_stops_the_stream_and_is_reported(void **state)
{
    (void)state;
    open_capture();
    ep c = v4("10.0.0.2", 50003), s = v4("10.0.0.1", 1883);
    handshake(c, s, 10, 20);
    seg(c, s, 11, PSH | ACK, "abc");
    seg(c, s, 17, PSH | ACK, "ghi"); /* "def" never captured */
    close_capture();
    pc_capture cap;
    read_capture(&cap, NULL);
    pc_stream cs;
    expect_stream(&cap.flows[0], 1, "abc", &cs);
    assert_int_equal(cs.gaps, 1);
    pc_stream_free(&cs);
    pc_capture_free(&cap);
    unlink(path);
}

static void test_ipv6_flow(void **state)
{
    (void)state;
    open_capture();
    ep c = v6("2001:db8::2", 40000), s = v6("2001:db8::1", 1883);
    handshake(c, s, 500, 600);
    seg_n(c, s, 501, PSH | ACK, "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
    seg_n(s, c, 601, PSH | ACK, "\x20\x02\x00\x00", 4);
    close_capture();
    pc_capture cap;
    read_capture(&cap, NULL);
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.flows[0].family, 6);
    char text[80];
    pc_flow_endpoint(&cap.flows[0], 0, text, sizeof text);
    assert_string_equal(text, "[2001:db8::2]:40000");
    pc_stream cs, ss;
    assert_int_equal(pc_flow_stream(&cap.flows[0], 1, &cs), 0);
    assert_int_equal(cs.len, 14);
    pc_stream_free(&cs);
    assert_int_equal(pc_flow_stream(&cap.flows[0], 0, &ss), 0);
    assert_int_equal(ss.len, 4);
    assert_memory_equal(ss.data, "\x20\x02\x00\x00", 4);
    pc_stream_free(&ss);
    pc_capture_free(&cap);
    unlink(path);
}

static void test_bpf_filter_and_flow_listing(void **state)
{
    (void)state;
    open_capture();
    ep c1 = v4("10.0.0.2", 50010), s1 = v4("10.0.0.1", 1883);
    ep c2 = v4("10.0.0.3", 50011), s2 = v4("10.0.0.1", 8080);
    handshake(c1, s1, 1, 1);
    handshake(c2, s2, 1, 1);
    seg(c1, s1, 2, PSH | ACK, "mqtt");
    seg(c2, s2, 2, PSH | ACK, "http");
    close_capture();
    pc_capture all, one;
    read_capture(&all, NULL);
    assert_int_equal(all.n, 2);
    read_capture(&one, "tcp port 8080");
    assert_int_equal(one.n, 1);
    pc_stream cs;
    expect_stream(&one.flows[0], 1, "http", &cs);
    pc_stream_free(&cs);
    pc_capture_free(&all);
    pc_capture_free(&one);
    pc_capture bad;
    memset(&bad, 0, sizeof bad);
    char err[256];
    assert_int_equal(pc_pcap_read(path, "tcp port", &bad, err, sizeof err), -1);
    assert_non_null(strstr(err, "filter"));
    pc_capture_free(&bad);
    unlink(path);
}

static void test_garbage_packets_are_skipped_not_fatal(void **state)
{
    (void)state;
    pc_capture cap;
    memset(&cap, 0, sizeof cap);
    uint8_t junk[60];
    memset(junk, 0xff, sizeof junk);
    for (size_t n = 0; n <= sizeof junk; n++)
        assert_int_equal(pc_capture_add(&cap, DLT_EN10MB, junk, n, 0), 0);
    uint8_t v4hdr[34] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x4f, 0, 0xff, 0xff};
    assert_int_equal(pc_capture_add(&cap, DLT_EN10MB, v4hdr, sizeof v4hdr, 0), 0); /* IHL past the end */
    assert_int_equal(cap.n, 0);
    assert_int_equal(cap.skipped, sizeof junk + 2);
    pc_capture_free(&cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_flow_with_handshake_finds_the_client),
        cmocka_unit_test(test_out_of_order_segments_are_put_back_in_order),
        cmocka_unit_test(test_retransmitted_and_overlapping_segments_count_once),
        cmocka_unit_test(test_a_lost_segment_stops_the_stream_and_is_reported),
        cmocka_unit_test(test_ipv6_flow),
        cmocka_unit_test(test_bpf_filter_and_flow_listing),
        cmocka_unit_test(test_garbage_packets_are_skipped_not_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
