/* check_pcap: assert that a committed capture in pcaps/ holds what pcaps/README.md says.
 *
 *   check_pcap FILE --expect proxy-v1|proxy-v2|tls-client [--src IP] [--dst IP] [--dst-port N]
 *              [--cn NAME] [--client-id ID] [--publish TOPIC PAYLOAD] [--receive TOPIC PAYLOAD]
 *
 * proxy-v1 / proxy-v2 (a broker-side capture):
 *   - exactly one TCP flow, and it closes with a FIN from each side;
 *   - the first client bytes are a PROXY header of that version (R-GEN-01), carrying the
 *     given source address, destination address and port, and for --cn an SSL TLV with a
 *     verified client certificate and that CN (R-SSL-01/03/06, R-SSL-02);
 *   - an MQTT CONNECT follows right after the header (R-V1-28, R-V2-37), with --client-id;
 *   - the broker's first packet is a CONNACK that accepts it;
 *   - the client sends --publish TOPIC PAYLOAD / receives --receive TOPIC PAYLOAD;
 *   - the client ends with DISCONNECT.
 * tls-client (the client side of the TLS frontend): one flow that starts with a TLS
 *   ClientHello and is answered by a ServerHello; no PROXY header on this side.
 *
 * Each check prints "ok" or "FAIL" with Expected/Actual; the exit status is 0 when all pass,
 * 1 when one fails, 2 on a usage error. It never records anything: that is
 * scripts/record-pcaps.sh, run by hand.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt.h"
#include "pcap_flow.h"
#include "proxy_header.h"

typedef struct expectations {
    const char *file, *expect;
    const char *src, *dst, *cn, *client_id;
    long dst_port; /* -1 = not checked */
    const char *publish_topic, *publish_payload;
    const char *receive_topic, *receive_payload;
} expectations;

static int failures;

static void check(bool ok, const char *what, const char *fmt_expected_actual, ...)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) {
        va_list ap;
        va_start(ap, fmt_expected_actual);
        printf("       ");
        vprintf(fmt_expected_actual, ap);
        printf("\n");
        va_end(ap);
        failures++;
    }
}

static bool bytes_eq(mqtt_bytes b, const char *s)
{
    return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0;
}

/* A short printable rendering of an mqtt_bytes value for Actual: lines. */
static const char *show(mqtt_bytes b, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < b.len && o + 5 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, b.ptr[i] >= 0x20 && b.ptr[i] < 0x7f ? "%c" : "\\x%02x", b.ptr[i]);
    buf[o] = '\0';
    return buf;
}

typedef struct mqtt_walk {
    unsigned count;
    mqtt_packet first, last;
    bool first_ok;
    bool saw_publish;     /* a PUBLISH with the wanted topic and payload */
    char publishes[256];  /* what PUBLISH packets carried, for Actual: */
    char error[160];      /* decode error, "" when the stream decoded to its end */
} mqtt_walk;

/* Decode every packet of one direction. level is the CONNECT's protocol level. */
static void walk_mqtt(const uint8_t *p, size_t len, uint8_t level, const char *topic, const char *payload,
                      mqtt_walk *w)
{
    memset(w, 0, sizeof(*w));
    size_t off = 0;
    while (off < len) {
        mqtt_packet pkt;
        ssize_t n = mqtt_decode(p + off, len - off, level, &pkt);
        if (n == MQTT_NEED_MORE) {
            snprintf(w->error, sizeof(w->error), "packet cut at the end of the stream (byte %zu of %zu)", off, len);
            return;
        }
        if (n < 0) {
            snprintf(w->error, sizeof(w->error), "byte %zu: %s", off, mqtt_error_name((int)n));
            return;
        }
        char line[160];
        mqtt_packet_summary(&pkt, line, sizeof(line));
        printf("       %s\n", line);
        if (w->count == 0) {
            w->first = pkt;
            w->first_ok = true;
        }
        if (pkt.type == MQTT_PUBLISH) {
            char t[80], v[80];
            size_t used = strlen(w->publishes);
            snprintf(w->publishes + used, sizeof(w->publishes) - used, "%s%s=%s", used ? ", " : "",
                     show(pkt.publish.topic, t, sizeof(t)), show(pkt.publish.payload, v, sizeof(v)));
            if (topic && bytes_eq(pkt.publish.topic, topic) && bytes_eq(pkt.publish.payload, payload))
                w->saw_publish = true;
        }
        if (pkt.type == MQTT_CONNECT) /* the rest of the stream speaks the CONNECT's version */
            level = pkt.level;
        w->last = pkt;
        w->count++;
        off += (size_t)n;
    }
}

static void check_proxy_side(const expectations *e, const pf_flow *f)
{
    const pf_stream *up = &f->to_server, *down = &f->to_client;
    int want_version = strcmp(e->expect, "proxy-v1") == 0 ? 1 : 2;
    ph_header h;
    char err[200];
    int rc = ph_decode(up->data, up->len, &h, err, sizeof(err));
    check(rc == 0 && h.version == want_version, "the first client bytes are a PROXY header (R-GEN-01)",
          "Expected: a v%d header\n       Actual:   %s", want_version,
          rc == 0 ? (h.version == 1 ? "a v1 header" : "a v2 header") : err);
    if (rc != 0)
        return;
    if (h.version == 1)
        printf("       \"%s\\r\\n\" (%zu bytes)\n", h.v1_line, h.len);
    else
        printf("       v2 PROXY %s %s:%u -> %s:%u, %zu bytes, %u TLV(s)%s%s%s%s\n", h.family, h.src, h.src_port,
               h.dst, h.dst_port, h.len, h.tlv_count, h.has_ssl ? ", SSL " : "", h.ssl_version,
               h.has_cn ? " CN=" : "", h.has_cn ? h.cn : "");
    if (e->src)
        check(strcmp(h.src, e->src) == 0, "the header carries the client's address as source (R-GEN-03)",
              "Expected: %s\n       Actual:   %s", e->src, h.src);
    if (e->dst)
        check(strcmp(h.dst, e->dst) == 0, "the header carries the proxy's frontend address as destination (R-GEN-03)",
              "Expected: %s\n       Actual:   %s", e->dst, h.dst);
    if (e->dst_port >= 0)
        check((long)h.dst_port == e->dst_port, "the header carries the frontend port as destination port",
              "Expected: %ld\n       Actual:   %u", e->dst_port, h.dst_port);
    if (e->cn) {
        check(h.has_ssl && (h.ssl_client & 0x03) == 0x03 && h.ssl_verify == 0,
              "SSL TLV: TLS client with a verified certificate (R-SSL-01/02/03/06)",
              "Expected: client flags with 0x01|0x02, verify 0\n       Actual:   %s client 0x%02x verify %u",
              h.has_ssl ? "SSL TLV," : "no SSL TLV,", h.ssl_client, (unsigned)h.ssl_verify);
        check(h.has_cn && strcmp(h.cn, e->cn) == 0, "SSL TLV: the CN sub-TLV names the certificate's subject",
              "Expected: CN %s\n       Actual:   %s%s", e->cn, h.has_cn ? "CN " : "no CN sub-TLV", h.cn);
    }

    mqtt_walk client, broker;
    printf("       client -> broker after the header:\n");
    walk_mqtt(up->data + h.len, up->len - h.len, MQTT_V311, e->publish_topic, e->publish_payload, &client);
    bool connect_first = client.first_ok && client.first.type == MQTT_CONNECT;
    check(connect_first, "an MQTT CONNECT follows the header (R-V1-28, R-V2-37)",
          "Expected: CONNECT\n       Actual:   %s", client.first_ok ? mqtt_type_name(client.first.type) : client.error);
    check(client.error[0] == '\0', "the client stream decodes as MQTT to its end",
          "Expected: whole packets\n       Actual:   %s", client.error);
    if (!connect_first)
        return;
    uint8_t level = client.first.connect.protocol_level;
    if (e->client_id) {
        char id[80];
        check(bytes_eq(client.first.connect.client_id, e->client_id), "CONNECT carries the recorded client id",
              "Expected: %s\n       Actual:   %s", e->client_id, show(client.first.connect.client_id, id, sizeof(id)));
    }
    if (e->publish_topic)
        check(client.saw_publish, "the client publishes the recorded message",
              "Expected: PUBLISH %s=%s\n       Actual:   %s", e->publish_topic, e->publish_payload,
              client.publishes[0] ? client.publishes : "no PUBLISH");
    check(client.count > 0 && client.last.type == MQTT_DISCONNECT, "the client ends with DISCONNECT",
          "Expected: DISCONNECT last\n       Actual:   %s", mqtt_type_name(client.last.type));

    printf("       broker -> client:\n");
    walk_mqtt(down->data, down->len, level, e->receive_topic, e->receive_payload, &broker);
    check(broker.first_ok && broker.first.type == MQTT_CONNACK && broker.first.connack.reason == 0,
          "the broker answers with a CONNACK that accepts the session",
          "Expected: CONNACK 0\n       Actual:   %s %u", broker.first_ok ? mqtt_type_name(broker.first.type) : broker.error,
          broker.first_ok && broker.first.type == MQTT_CONNACK ? broker.first.connack.reason : 0u);
    check(broker.error[0] == '\0', "the broker stream decodes as MQTT to its end",
          "Expected: whole packets\n       Actual:   %s", broker.error);
    if (e->receive_topic)
        check(broker.saw_publish, "the broker delivers the recorded message",
              "Expected: PUBLISH %s=%s\n       Actual:   %s", e->receive_topic, e->receive_payload,
              broker.publishes[0] ? broker.publishes : "no PUBLISH");
}

/* A TLS record carrying a handshake message of the given type, at the start of the stream. */
static bool tls_handshake_first(const pf_stream *s, uint8_t handshake_type)
{
    return s->len >= 6 && s->data[0] == 0x16 && s->data[1] == 0x03 && s->data[5] == handshake_type;
}

static void check_tls_client_side(const pf_flow *f)
{
    check(tls_handshake_first(&f->to_server, 0x01), "the client opens with a TLS ClientHello, no PROXY header",
          "Expected: 16 03 xx xx xx 01\n       Actual:   %zu bytes, first %02x", f->to_server.len,
          f->to_server.len ? f->to_server.data[0] : 0);
    check(tls_handshake_first(&f->to_client, 0x02), "the proxy answers with a TLS ServerHello",
          "Expected: 16 03 xx xx xx 02\n       Actual:   %zu bytes, first %02x", f->to_client.len,
          f->to_client.len ? f->to_client.data[0] : 0);
}

static int usage(const char *msg)
{
    fprintf(stderr, "check_pcap: %s\n"
                    "usage: check_pcap FILE --expect proxy-v1|proxy-v2|tls-client [--src IP] [--dst IP]\n"
                    "       [--dst-port N] [--cn NAME] [--client-id ID] [--publish TOPIC PAYLOAD]\n"
                    "       [--receive TOPIC PAYLOAD]\n",
            msg);
    return 2;
}

int main(int argc, char **argv)
{
    expectations e = {.dst_port = -1};
    if (argc < 2)
        return usage("no file");
    e.file = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        int need = (strcmp(o, "--publish") == 0 || strcmp(o, "--receive") == 0) ? 2 : 1;
        if (i + need >= argc)
            return usage("an option lacks its value");
        if (strcmp(o, "--expect") == 0)
            e.expect = argv[i + 1];
        else if (strcmp(o, "--src") == 0)
            e.src = argv[i + 1];
        else if (strcmp(o, "--dst") == 0)
            e.dst = argv[i + 1];
        else if (strcmp(o, "--dst-port") == 0)
            e.dst_port = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(o, "--cn") == 0)
            e.cn = argv[i + 1];
        else if (strcmp(o, "--client-id") == 0)
            e.client_id = argv[i + 1];
        else if (strcmp(o, "--publish") == 0)
            e.publish_topic = argv[i + 1], e.publish_payload = argv[i + 2];
        else if (strcmp(o, "--receive") == 0)
            e.receive_topic = argv[i + 1], e.receive_payload = argv[i + 2];
        else
            return usage("unknown option");
        i += need;
    }
    if (!e.expect || (strcmp(e.expect, "proxy-v1") != 0 && strcmp(e.expect, "proxy-v2") != 0 &&
                      strcmp(e.expect, "tls-client") != 0))
        return usage("--expect proxy-v1|proxy-v2|tls-client is required");

    static pf_flow flow; /* two 64 KiB stream buffers: not on the stack */
    char err[256];
    printf("%s\n", e.file);
    if (pf_read(e.file, &flow, err, sizeof(err)) != 0) {
        printf("FAIL the capture can be read as one TCP flow\n       %s\n", err);
        return 1;
    }
    check(flow.foreign_packets == 0 && flow.non_tcp_packets == 0, "the capture holds exactly one TCP flow",
          "Expected: only %s <-> %s\n       Actual:   %u packets of other flows, %u non-TCP packets", flow.client,
          flow.server, flow.foreign_packets, flow.non_tcp_packets);
    printf("       %s -> %s, %u packets, %zu bytes up, %zu bytes down\n", flow.client, flow.server, flow.packets,
           flow.to_server.len, flow.to_client.len);
    if (strcmp(e.expect, "tls-client") == 0) {
        /* mosquitto_pub closes with HAProxy's last TLS records unread: its kernel answers RST */
        bool reset = flow.to_server.rst || flow.to_client.rst;
        check(reset || (flow.to_server.fin && flow.to_client.fin), "the flow ends (a FIN each way, or a RST)",
              "Expected: FIN both ways or RST\n       Actual:   FIN %s/%s, no RST (client/server)",
              flow.to_server.fin ? "yes" : "no", flow.to_client.fin ? "yes" : "no");
        check_tls_client_side(&flow);
    } else {
        check(flow.to_server.fin && flow.to_client.fin && !flow.to_server.rst && !flow.to_client.rst,
              "the flow ends with a FIN from each side", "Expected: FIN both ways, no RST\n       Actual:   "
              "FIN %s/%s, RST %s/%s (client/server)", flow.to_server.fin ? "yes" : "no",
              flow.to_client.fin ? "yes" : "no", flow.to_server.rst ? "yes" : "no", flow.to_client.rst ? "yes" : "no");
        check_proxy_side(&e, &flow);
    }
    printf("%s: %s\n", e.file, failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
