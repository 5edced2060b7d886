/* proxysend: send any PROXY header (valid, sender-exact, or broken), then MQTT/raw/TLS;
 * --listen checks what real senders send; --relay is a small PROXY-adding proxy. */
#include <stdio.h>
#include <string.h>

#include "listen.h"
#include "opts.h"
#include "relay.h"
#include "send.h"

#ifndef PPC_VERSION
#define PPC_VERSION "0.1.0"
#endif

static void help(void)
{
    fputs(
        "Usage: proxysend [options] HOST:PORT          send a header, then a payload\n"
        "       proxysend --dry-run [options]          print the header bytes and their decoding\n"
        "       proxysend --listen ADDR [--forward HOST:PORT] [--count N] [--json]\n"
        "       proxysend --relay ADDR --to HOST:PORT [-1|-2] [--tlv ...] [--count N]\n"
        "\n"
        "Header:\n"
        "  -1, -2                      PROXY protocol version (default 2)\n"
        "  --command proxy|local       v2 command (default proxy)\n"
        "  --family tcp4|tcp6|udp4|udp6|unix|unspec   (default: from the addresses)\n"
        "  --src ADDR, --dst ADDR      IP:PORT, [IPv6]:PORT or unix:/path (default: the socket's own)\n"
        "  --bind IP[:PORT]            local address of the connection (e.g. 127.0.0.5)\n"
        "  --tlv NAME=VALUE            add a TLV, in order (repeatable); VALUE is text or hex:HEX\n"
        "      alpn, authority, unique-id, netns, crc32c[=auto|HEX], noop[=N|hex:..],\n"
        "      aws-vpce=ID, azure-linkid=N, gcp-psc=N, TYPE=HEX (any type number),\n"
        "      ssl, ssl-client=ssl,cert-conn,cert-sess, ssl-verify=N, ssl-version, ssl-cn,\n"
        "      ssl-cipher, ssl-sig-alg, ssl-key-alg, ssl-group, ssl-sig-scheme,\n"
        "      ssl-client-cert=FILE.pem, ssl-TYPE=HEX\n"
        "  --profile NAME              exact bytes of a real sender: haproxy-v1, haproxy-v2,\n"
        "      haproxy-v2-ssl, haproxy-v2-ssl-cn, haproxy-healthcheck, nginx-v1, aws-nlb,\n"
        "      aws-nlb-healthcheck\n"
        "  --raw-header HEX            send these bytes as the header\n"
        "  --no-header                 send the payload without any header\n"
        "  --mutate NAME[=VALUE]       a deliberate malformation (repeatable):\n"
        "      bad-signature[=BYTE], version=N, command=N, family-byte=B, len=N, len-delta=+-N,\n"
        "      tlv-len=TYPE:N, crc-corrupt, crc-little-endian, v1-leading-zeros,\n"
        "      v1-double-space, v1-lf-only, v1-cr-only, v1-overlong[=LEN], v1-lowercase,\n"
        "      v1-no-crlf, v1-text=TEXT, v1-unknown-tail=TEXT\n"
        "\n"
        "Delivery (TCP_NODELAY is always on):\n"
        "  --split OFF[,OFF...]        cut the cleartext stream at these byte offsets\n"
        "  --byte-at-a-time            one write per header byte\n"
        "  --delay D                   pause between writes (e.g. 200ms, 1s)\n"
        "  --pre-delay D               pause after connecting, before the first byte\n"
        "  --header-twice              send the header twice\n"
        "  --coalesce                  header and payload in one write\n"
        "  --half-close                shutdown(SHUT_WR) after sending\n"
        "\n"
        "Payload (in the order given):\n"
        "  --mqtt-connect              an MQTT CONNECT (--mqtt-version 3.1|3.1.1|5, --client-id,\n"
        "                              --username, --password, --keep-alive)\n"
        "  --publish TOPIC[=MSG]       a PUBLISH (--qos N)\n"
        "  --subscribe TOPIC           a SUBSCRIBE\n"
        "  --hex HEX, --file PATH, --stdin\n"
        "  --tls                       start TLS after the cleartext header (--cert, --key,\n"
        "                              --cafile, --sni, --alpn)\n"
        "\n"
        "Outcome:\n"
        "  --expect connack[=CODE]|close|fin|rst|bytes:HEX|silence\n"
        "  --timeout D                 wait this long for the outcome (default 5s)\n"
        "  --dry-run                   print the bytes and their decoding, do not connect\n"
        "  --json                      one JSON object per report\n"
        "  --pcap-out FILE             write what was sent and received as a pcap\n"
        "  --quiet                     no text report (exit status only)\n"
        "\n"
        "Listening and relaying:\n"
        "  --listen ADDR               accept, decode and check each header strictly\n"
        "  --forward HOST:PORT         relay the stream after the header (header stripped;\n"
        "                              --keep-header passes it on)\n"
        "  --relay ADDR --to HOST:PORT prepend a header built from each client connection\n"
        "  --count N                   stop after N connections\n"
        "  --ready-file PATH           write the bound address to PATH once listening\n"
        "\n"
        "Exit status: 0 expectation met, 1 not met (or --listen findings), 2 usage error,\n"
        "3 connect or TLS failure.\n"
        "\n"
        "Examples:\n"
        "  proxysend --src 203.0.113.7:40000 --mqtt-connect --expect connack=0 127.0.0.1:1883\n"
        "  proxysend -1 --mutate v1-leading-zeros --mqtt-connect --expect close 127.0.0.1:1883\n"
        "  proxysend --tlv ssl-cn=alice --tlv crc32c --mqtt-connect --username x 127.0.0.1:1883\n"
        "  proxysend --profile haproxy-v2-ssl-cn --src 127.0.0.1:51194 --dst 127.0.0.1:18834 \\\n"
        "            --tlv ssl-cn=alice --dry-run\n"
        "  proxysend --split 8,20 --delay 300ms --mqtt-connect --expect connack 127.0.0.1:1883\n"
        "  proxysend --listen 127.0.0.1:18831 --forward 127.0.0.1:1883 --json\n"
        "  proxysend --relay 127.0.0.1:18830 --to 127.0.0.1:1883 -2 --tlv alpn=mqtt\n",
        stdout);
}

int main(int argc, char **argv)
{
    ps_opts o;
    char err[1024];
    int rc = ps_opts_parse(argc, argv, &o, err, sizeof err);
    if (rc) {
        fprintf(stderr, "proxysend: %s\n", err);
        ps_opts_free(&o);
        return rc;
    }
    switch (o.mode) {
    case PS_MODE_HELP: help(); rc = 0; break;
    case PS_MODE_VERSION: printf("proxysend %s\n", PPC_VERSION); rc = 0; break;
    case PS_MODE_SEND: rc = ps_send_main(&o); break;
    case PS_MODE_LISTEN: rc = ps_listen_main(&o); break;
    case PS_MODE_RELAY: rc = ps_relay_main(&o); break;
    }
    ps_opts_free(&o);
    return rc;
}
