/* proxysend payloads: the MQTT packets decode (lib/mqtt) to what the options asked for, parts
 * keep command-line order, and --pcap-out writes a capture libpcap reads back with
 * consistent TCP sequence numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mqtt/mqtt.h"
#include "opts.h"
#include "outcome.h"
#include "payload.h"
#include "pcap_out.h"

#define ARGV(...) ((char *[]){"proxysend", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"proxysend", __VA_ARGS__}) / sizeof(char *)))
#define PAYLOAD(buf, len, ...) payload(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), buf, len)

static int payload(int argc, char **argv, uint8_t **buf, size_t *len)
{
    ps_opts o;
    char err[256];
    assert_int_equal(ps_opts_parse(argc, argv, &o, err, sizeof err), 0);
    int rc = ps_payload_build(&o, buf, len, err, sizeof err);
    ps_opts_free(&o);
    return rc;
}

static size_t decode(const uint8_t *p, size_t len, uint8_t level, mqtt_packet *pkt)
{
    ssize_t n = mqtt_decode(p, len, level, pkt);
    assert_true(n > 0);
    return (size_t)n;
}

static void test_connect_publish_subscribe_in_order(void **state)
{
    (void)state;
    uint8_t *b;
    size_t len;
    assert_int_equal(PAYLOAD(&b, &len, "--mqtt-connect", "--client-id", "dev-1", "--username", "alice", "--password",
                             "pw", "--keep-alive", "30", "--publish", "a/b=hello", "--qos", "1", "--subscribe", "c/#",
                             "--hex", "e000", "h:1"),
                     0);
    mqtt_packet pkt;
    size_t off = decode(b, len, MQTT_V311, &pkt);
    assert_int_equal(pkt.type, MQTT_CONNECT);
    assert_int_equal(pkt.connect.protocol_level, 4);
    assert_int_equal(pkt.connect.keep_alive, 30);
    assert_memory_equal(pkt.connect.client_id.ptr, "dev-1", 5);
    assert_true(pkt.connect.has_username && pkt.connect.has_password);
    assert_memory_equal(pkt.connect.username.ptr, "alice", 5);
    off += decode(b + off, len - off, MQTT_V311, &pkt);
    assert_int_equal(pkt.type, MQTT_PUBLISH);
    assert_int_equal(pkt.publish.qos, 1);
    assert_int_equal(pkt.publish.packet_id, 1);
    assert_memory_equal(pkt.publish.payload.ptr, "hello", 5);
    off += decode(b + off, len - off, MQTT_V311, &pkt);
    assert_int_equal(pkt.type, MQTT_SUBSCRIBE);
    assert_int_equal(pkt.subscribe.packet_id, 2);
    assert_int_equal(len - off, 2);
    assert_memory_equal(b + off, "\xe0\x00", 2);
    free(b);
}

static void test_connect_versions(void **state)
{
    (void)state;
    static const char *versions[] = {"3.1", "3.1.1", "5"};
    static const uint8_t levels[] = {MQTT_V31, MQTT_V311, MQTT_V5};
    for (int i = 0; i < 3; i++) {
        uint8_t *b;
        size_t len;
        assert_int_equal(PAYLOAD(&b, &len, "--mqtt-connect", "--mqtt-version", (char *)versions[i], "h:1"), 0);
        mqtt_packet pkt;
        assert_int_equal(decode(b, len, levels[i], &pkt), len);
        assert_int_equal(pkt.connect.protocol_level, levels[i]);
        free(b);
    }
}

static void test_missing_file_is_an_error(void **state)
{
    (void)state;
    uint8_t *b = NULL;
    size_t len = 0;
    assert_int_equal(PAYLOAD(&b, &len, "--file", "/nonexistent/payload", "h:1"), -1);
    assert_null(b);
}

static void test_connack_outcomes(void **state)
{
    (void)state;
    ps_connack c;
    assert_int_equal(ps_mqtt_decode_connack((const uint8_t *)"\x20\x02\x00\x05", 4, 4, &c), 1);
    assert_int_equal(c.code, 5);
    assert_int_equal(ps_mqtt_decode_connack((const uint8_t *)"\x20\x02\x00", 3, 4, &c), 0);
    assert_int_equal(ps_mqtt_decode_connack((const uint8_t *)"HTTP/1.1", 8, 4, &c), -1);
    assert_int_equal(ps_mqtt_decode_connack((const uint8_t *)"\x20\x03\x00\x87\x00", 5, 5, &c), 1);
    assert_int_equal(c.code, 0x87);
}

static void test_pcap_out_sequence_numbers(void **state)
{
    (void)state;
    char path[] = "/tmp/psend-pcap-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    pp_endpoint cl, sv;
    pp_endpoint_parse("192.0.2.1:40000", &cl);
    pp_endpoint_parse("192.0.2.2:1883", &sv);
    char err[256];
    ps_pcap *p = ps_pcap_open(path, &cl, &sv, err, sizeof err);
    assert_non_null(p);
    ps_pcap_data(p, true, (const uint8_t *)"PROXY UNKNOWN\r\n", 15);
    ps_pcap_data(p, true, (const uint8_t *)"\xe0\x00", 2);
    ps_pcap_data(p, false, (const uint8_t *)"\x20\x02\x00\x00", 4);
    ps_pcap_fin(p, false);
    ps_pcap_close(p);

    char perr[PCAP_ERRBUF_SIZE];
    pcap_t *in = pcap_open_offline(path, perr);
    assert_non_null(in);
    assert_int_equal(pcap_datalink(in), DLT_EN10MB);
    struct pcap_pkthdr *h;
    const u_char *d;
    uint32_t seq[8], ack[8];
    uint8_t flags[8];
    int n = 0;
    while (n < 8 && pcap_next_ex(in, &h, &d) == 1) {
        const u_char *tcp = d + 14 + 20;
        seq[n] = (uint32_t)tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7];
        ack[n] = (uint32_t)tcp[8] << 24 | tcp[9] << 16 | tcp[10] << 8 | tcp[11];
        flags[n] = tcp[13];
        n++;
    }
    pcap_close(in);
    unlink(path);
    assert_int_equal(n, 7); /* SYN, SYN-ACK, ACK, 2 client data, 1 server data, FIN */
    assert_int_equal(flags[0], 0x02);
    assert_int_equal(flags[1], 0x12);
    assert_int_equal(ack[1], seq[0] + 1);
    assert_int_equal(seq[3], seq[0] + 1);       /* first data byte after the SYN */
    assert_int_equal(seq[4], seq[3] + 15);      /* the header took 15 sequence numbers */
    assert_int_equal(ack[5], seq[4] + 2);       /* the server acknowledges all client bytes */
    assert_int_equal(seq[6], seq[5] + 4);
    assert_int_equal(flags[6] & 0x01, 0x01);    /* FIN */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_publish_subscribe_in_order),
        cmocka_unit_test(test_connect_versions),
        cmocka_unit_test(test_missing_file_is_an_error),
        cmocka_unit_test(test_connack_outcomes),
        cmocka_unit_test(test_pcap_out_sequence_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
