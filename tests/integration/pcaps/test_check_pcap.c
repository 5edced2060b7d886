/* Self-test of the capture checker: pcap_flow and proxy_header must refuse what is not one
 * clean flow with a well-formed header, so that integration.pcaps.* can fail. The captures
 * here are synthetic, written with libpcap's own pcap_dump into a temp dir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "pcap_flow.h"
#include "proxy_header.h"

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };

typedef struct capture {
    char path[64];
    pcap_t *dead;
    pcap_dumper_t *dumper;
} capture;

static void capture_open(capture *c)
{
    snprintf(c->path, sizeof(c->path), "/tmp/ppc-check-pcap-XXXXXX");
    int fd = mkstemp(c->path);
    assert_true(fd >= 0);
    close(fd);
    c->dead = pcap_open_dead(DLT_EN10MB, 65535);
    assert_non_null(c->dead);
    c->dumper = pcap_dump_open(c->dead, c->path);
    assert_non_null(c->dumper);
}

static void capture_close(capture *c)
{
    pcap_dump_close(c->dumper);
    pcap_close(c->dead);
}

/* One Ethernet + IPv4 + TCP packet from 127.0.0.a:sport to 127.0.0.b:dport. caplen_cut > 0
 * records only that many bytes of it (a truncated capture). */
static void put(capture *c, uint8_t a, uint16_t sport, uint8_t b, uint16_t dport, uint32_t seq, uint8_t flags,
                const void *payload, size_t len, size_t caplen_cut)
{
    uint8_t pkt[14 + 20 + 20 + 256] = {0};
    assert_true(len <= 256);
    pkt[12] = 0x08; /* IPv4 */
    uint8_t *ip = pkt + 14, *tcp = ip + 20;
    size_t total = 20 + 20 + len;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(total >> 8), ip[3] = (uint8_t)total;
    ip[8] = 64, ip[9] = 6;
    ip[12] = 127, ip[15] = a;
    ip[16] = 127, ip[19] = b;
    tcp[0] = (uint8_t)(sport >> 8), tcp[1] = (uint8_t)sport;
    tcp[2] = (uint8_t)(dport >> 8), tcp[3] = (uint8_t)dport;
    tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16), tcp[6] = (uint8_t)(seq >> 8), tcp[7] = (uint8_t)seq;
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    if (len)
        memcpy(tcp + 20, payload, len);
    struct pcap_pkthdr h = {0};
    h.len = (bpf_u_int32)(14 + total);
    h.caplen = caplen_cut ? (bpf_u_int32)caplen_cut : h.len;
    pcap_dump((u_char *)c->dumper, &h, pkt);
}

/* The handshake of client 127.0.0.1:40000 -> server 127.0.0.1:1883, ISNs 1000 and 5000. */
static void handshake(capture *c)
{
    put(c, 1, 40000, 1, 1883, 1000, SYN, NULL, 0, 0);
    put(c, 1, 1883, 1, 40000, 5000, SYN | ACK, NULL, 0, 0);
    put(c, 1, 40000, 1, 1883, 1001, ACK, NULL, 0, 0);
}

static int read_capture(capture *c, pf_flow *flow, char *err, size_t cap)
{
    capture_close(c);
    int rc = pf_read(c->path, flow, err, cap);
    unlink(c->path);
    return rc;
}

static pf_flow flow; /* 128 KiB: not on the stack */

static void test_one_flow_with_a_retransmission_is_reassembled(void **state)
{
    (void)state;
    capture c;
    char err[256];
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 0);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 0); /* same bytes again */
    put(&c, 1, 40000, 1, 1883, 1007, PSH | ACK, "TCP4", 4, 0);
    put(&c, 1, 1883, 1, 40000, 5001, PSH | ACK, "\x20\x02\x00\x00", 4, 0);
    put(&c, 1, 40000, 1, 1883, 1011, FIN | ACK, NULL, 0, 0);
    put(&c, 1, 1883, 1, 40000, 5005, FIN | ACK, NULL, 0, 0);
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), 0);
    assert_string_equal(flow.client, "127.0.0.1:40000");
    assert_string_equal(flow.server, "127.0.0.1:1883");
    assert_int_equal(flow.foreign_packets, 0);
    assert_int_equal(flow.to_server.len, 10);
    assert_memory_equal(flow.to_server.data, "PROXY TCP4", 10);
    assert_int_equal(flow.to_client.len, 4);
    assert_true(flow.to_server.fin && flow.to_client.fin);
}

static void test_second_flow_is_counted_as_foreign(void **state)
{
    (void)state;
    capture c;
    char err[256];
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40001, 1, 1883, 7000, SYN, NULL, 0, 0);
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), 0);
    assert_int_equal(flow.foreign_packets, 1);
}

static void test_hole_in_a_stream_is_an_error(void **state)
{
    (void)state;
    capture c;
    char err[256] = "";
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 0);
    put(&c, 1, 40000, 1, 1883, 1010, PSH | ACK, "x", 1, 0); /* bytes 7..8 never captured */
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "hole"));
}

static void test_retransmission_with_other_bytes_is_an_error(void **state)
{
    (void)state;
    capture c;
    char err[256] = "";
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 0);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXZ ", 6, 0);
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "differs"));
}

static void test_capture_without_syn_is_an_error(void **state)
{
    (void)state;
    capture c;
    char err[256] = "";
    capture_open(&c);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 0);
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no TCP SYN"));
}

static void test_truncated_packet_is_an_error(void **state)
{
    (void)state;
    capture c;
    char err[256] = "";
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40000, 1, 1883, 1001, PSH | ACK, "PROXY ", 6, 14 + 20 + 10); /* TCP header cut */
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "truncated"));
}

static void test_rst_is_recorded(void **state)
{
    (void)state;
    capture c;
    char err[256];
    capture_open(&c);
    handshake(&c);
    put(&c, 1, 40000, 1, 1883, 1001, RST, NULL, 0, 0);
    assert_int_equal(read_capture(&c, &flow, err, sizeof(err)), 0);
    assert_true(flow.to_server.rst);
    assert_false(flow.to_client.fin);
}

/* ---- proxy_header ------------------------------------------------------------------------- */

static int decode(const char *bytes, size_t len, ph_header *h, char *err)
{
    return ph_decode((const uint8_t *)bytes, len, h, err, 256);
}
#define DECODE_STR(s, h, err) decode((s), sizeof(s) - 1, (h), (err))

static void test_R_V1_02_v1_tcp4_line_decodes(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(DECODE_STR("PROXY TCP4 127.0.0.11 127.0.0.2 53977 18930\r\n\x10", &h, err), 0);
    assert_int_equal(h.version, 1);
    assert_int_equal(h.len, 45);
    assert_string_equal(h.src, "127.0.0.11");
    assert_string_equal(h.dst, "127.0.0.2");
    assert_int_equal(h.src_port, 53977);
    assert_int_equal(h.dst_port, 18930);
}

static void test_R_V1_03_double_space_rejected(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(DECODE_STR("PROXY TCP4  127.0.0.1 127.0.0.2 1 2\r\n", &h, err), -1);
}

static void test_R_V1_19_port_leading_zero_rejected(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(DECODE_STR("PROXY TCP4 127.0.0.1 127.0.0.2 080 2\r\n", &h, err), -1);
    assert_int_equal(DECODE_STR("PROXY TCP4 127.0.0.1 127.0.0.2 65536 2\r\n", &h, err), -1);
}

static void test_R_V1_13_family_mismatch_rejected(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(DECODE_STR("PROXY TCP4 ::1 127.0.0.2 1 2\r\n", &h, err), -1);
}

static void test_R_V1_21_no_crlf_within_107_bytes_rejected(void **state)
{
    (void)state;
    char line[200];
    memset(line, 'a', sizeof(line));
    memcpy(line, "PROXY ", 6);
    ph_header h;
    char err[256];
    assert_int_equal(decode(line, sizeof(line), &h, err), -1);
    assert_non_null(strstr(err, "CRLF"));
}

static void test_R_GEN_01_plain_mqtt_is_not_a_header(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(DECODE_STR("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", &h, err), -1);
}

/* A send-proxy-v2-ssl-cn header as HAProxy 2.6 wrote it in pcaps/haproxy-send-proxy-v2-ssl-cn-pub.pcap
 * (one recording; the source port differs in every run). */
static const char ssl_cn_header[] = "\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x26"
                                    "\x7f\x00\x00\x1f\x7f\x00\x00\x02\xc7\xd7\x49\xf4"
                                    "\x20\x00\x17\x07\x00\x00\x00\x00"
                                    "\x21\x00\x07TLSv1.3"
                                    "\x22\x00\x05" "alice";

static void test_R_SSL_01_haproxy_ssl_cn_header_decodes(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(decode(ssl_cn_header, sizeof(ssl_cn_header) - 1, &h, err), 0);
    assert_int_equal(h.version, 2);
    assert_int_equal(h.len, 54);
    assert_string_equal(h.src, "127.0.0.31");
    assert_int_equal(h.dst_port, 18932);
    assert_true(h.has_ssl);
    assert_int_equal(h.ssl_client, 0x07);
    assert_int_equal(h.ssl_verify, 0);
    assert_string_equal(h.ssl_version, "TLSv1.3");
    assert_true(h.has_cn);
    assert_string_equal(h.cn, "alice");
}

static void test_R_SSL_04_sub_tlv_overrun_rejected(void **state)
{
    (void)state;
    char bad[sizeof(ssl_cn_header)];
    memcpy(bad, ssl_cn_header, sizeof(bad));
    bad[sizeof(bad) - 1 - 5 - 1] = 0x06; /* CN length 6 in a 5-byte remainder */
    ph_header h;
    char err[256];
    assert_int_equal(decode(bad, sizeof(bad) - 1, &h, err), -1);
    assert_non_null(strstr(err, "R-SSL-04"));
}

static void test_R_TLV_02_tlv_overrun_rejected(void **state)
{
    (void)state;
    char bad[sizeof(ssl_cn_header)];
    memcpy(bad, ssl_cn_header, sizeof(bad));
    bad[16 + 12 + 2] = 0x18; /* SSL TLV length 24 in a 23-byte remainder */
    ph_header h;
    char err[256];
    assert_int_equal(decode(bad, sizeof(bad) - 1, &h, err), -1);
    assert_non_null(strstr(err, "R-TLV-02"));
}

static void test_R_V2_22_length_below_address_block_rejected(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(decode("\r\n\r\n\0\r\nQUIT\n\x21\x11\x00\x0b" "0123456789a", 27, &h, err), -1);
}

static void test_R_V2_04_local_command_is_not_what_senders_recorded(void **state)
{
    (void)state;
    ph_header h;
    char err[256];
    assert_int_equal(decode("\r\n\r\n\0\r\nQUIT\n\x20\x00\x00\x00", 16, &h, err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_flow_with_a_retransmission_is_reassembled),
        cmocka_unit_test(test_second_flow_is_counted_as_foreign),
        cmocka_unit_test(test_hole_in_a_stream_is_an_error),
        cmocka_unit_test(test_retransmission_with_other_bytes_is_an_error),
        cmocka_unit_test(test_capture_without_syn_is_an_error),
        cmocka_unit_test(test_truncated_packet_is_an_error),
        cmocka_unit_test(test_rst_is_recorded),
        cmocka_unit_test(test_R_V1_02_v1_tcp4_line_decodes),
        cmocka_unit_test(test_R_V1_03_double_space_rejected),
        cmocka_unit_test(test_R_V1_19_port_leading_zero_rejected),
        cmocka_unit_test(test_R_V1_13_family_mismatch_rejected),
        cmocka_unit_test(test_R_V1_21_no_crlf_within_107_bytes_rejected),
        cmocka_unit_test(test_R_GEN_01_plain_mqtt_is_not_a_header),
        cmocka_unit_test(test_R_SSL_01_haproxy_ssl_cn_header_decodes),
        cmocka_unit_test(test_R_SSL_04_sub_tlv_overrun_rejected),
        cmocka_unit_test(test_R_TLV_02_tlv_overrun_rejected),
        cmocka_unit_test(test_R_V2_22_length_below_address_block_rejected),
        cmocka_unit_test(test_R_V2_04_local_command_is_not_what_senders_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
