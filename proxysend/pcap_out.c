/* Synthetic TCP capture through pcap_open_dead + pcap_dump_open. */
#include "pcap_out.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define ETH_LEN 14
#define IP4_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20
#define MAX_SEG 65000 /* IPv4 total length is 16 bits */

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10 };

struct ps_pcap {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    bool v6;
    uint8_t cip[16], sip[16];
    uint16_t cport, sport;
    uint32_t cseq, sseq; /* next sequence number of each side */
    uint16_t ip_id;
};

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        sum += (uint32_t)(p[n - 1] << 8);
    return sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

static void emit(ps_pcap *p, bool from_client, uint8_t flags, const uint8_t *data, size_t len)
{
    size_t iplen = p->v6 ? IP6_LEN : IP4_LEN;
    size_t total = ETH_LEN + iplen + TCP_LEN + len;
    uint8_t *pkt = calloc(1, total);
    if (!pkt)
        return;
    const uint8_t *src = from_client ? p->cip : p->sip, *dst = from_client ? p->sip : p->cip;
    uint16_t sport = from_client ? p->cport : p->sport, dport = from_client ? p->sport : p->cport;
    uint32_t *seq = from_client ? &p->cseq : &p->sseq;
    uint32_t ack = from_client ? p->sseq : p->cseq;

    /* Ethernet: locally administered MACs, 02:..:01 client, 02:..:02 server */
    uint8_t cmac[6] = {2, 0, 0, 0, 0, 1}, smac[6] = {2, 0, 0, 0, 0, 2};
    memcpy(pkt, from_client ? smac : cmac, 6);
    memcpy(pkt + 6, from_client ? cmac : smac, 6);
    put16(pkt + 12, p->v6 ? 0x86DD : 0x0800);

    uint8_t *ip = pkt + ETH_LEN, *tcp = ip + iplen;
    if (p->v6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)(TCP_LEN + len));
        ip[6] = 6;   /* TCP */
        ip[7] = 64;  /* hop limit */
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(IP4_LEN + TCP_LEN + len));
        put16(ip + 4, p->ip_id++);
        put16(ip + 6, 0x4000); /* DF */
        ip[8] = 64;
        ip[9] = 6;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        put16(ip + 10, csum_fold(csum_add(0, ip, IP4_LEN)));
    }
    put16(tcp, sport);
    put16(tcp + 2, dport);
    put32(tcp + 4, *seq);
    put32(tcp + 8, (flags & TH_SYN) && !(flags & TH_ACK) ? 0 : ack);
    tcp[12] = (TCP_LEN / 4) << 4;
    tcp[13] = flags;
    put16(tcp + 14, 65535);
    if (len)
        memcpy(tcp + TCP_LEN, data, len);

    /* pseudo-header checksum */
    uint32_t sum = 0;
    uint8_t ph[8] = {0};
    if (p->v6) {
        sum = csum_add(sum, src, 16);
        sum = csum_add(sum, dst, 16);
        put32(ph, (uint32_t)(TCP_LEN + len));
        ph[7] = 6;
        sum = csum_add(sum, ph, 8);
    } else {
        sum = csum_add(sum, src, 4);
        sum = csum_add(sum, dst, 4);
        ph[1] = 6;
        put16(ph + 2, (uint16_t)(TCP_LEN + len));
        sum = csum_add(sum, ph, 4);
    }
    sum = csum_add(sum, tcp, TCP_LEN + len);
    put16(tcp + 16, csum_fold(sum));

    struct pcap_pkthdr h;
    gettimeofday(&h.ts, NULL);
    h.caplen = h.len = (bpf_u_int32)total;
    pcap_dump((u_char *)p->dumper, &h, pkt);
    pcap_dump_flush(p->dumper);
    free(pkt);

    *seq += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
}

ps_pcap *ps_pcap_open(const char *path, const pp_endpoint *client, const pp_endpoint *server, char *err,
                      size_t errcap)
{
    ps_pcap *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dead = pcap_open_dead(DLT_EN10MB, 262144);
    if (!p->dead) {
        snprintf(err, errcap, "--pcap-out '%s': pcap_open_dead failed", path);
        free(p);
        return NULL;
    }
    p->dumper = pcap_dump_open(p->dead, path);
    if (!p->dumper) {
        snprintf(err, errcap, "--pcap-out '%s': %s", path, pcap_geterr(p->dead));
        pcap_close(p->dead);
        free(p);
        return NULL;
    }
    if (client->family == PP_FAM_INET6 && server->family == PP_FAM_INET6) {
        p->v6 = true;
        memcpy(p->cip, client->ip, 16);
        memcpy(p->sip, server->ip, 16);
    } else if (client->family == PP_FAM_INET && server->family == PP_FAM_INET) {
        memcpy(p->cip, client->ip, 4);
        memcpy(p->sip, server->ip, 4);
    } else {
        static const uint8_t lo[4] = {127, 0, 0, 1};
        memcpy(p->cip, lo, 4);
        memcpy(p->sip, lo, 4);
    }
    p->cport = client->port ? client->port : 40000;
    p->sport = server->port ? server->port : 1883;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    p->cseq = (uint32_t)(tv.tv_usec * 2654435761u) ^ 0x5a5a0000u;
    p->sseq = p->cseq * 2654435761u + 12345u;
    p->ip_id = (uint16_t)tv.tv_sec;
    emit(p, true, TH_SYN, NULL, 0);
    emit(p, false, TH_SYN | TH_ACK, NULL, 0);
    emit(p, true, TH_ACK, NULL, 0);
    return p;
}

void ps_pcap_data(ps_pcap *p, bool from_client, const uint8_t *data, size_t len)
{
    if (!p)
        return;
    while (len) {
        size_t n = len > MAX_SEG ? MAX_SEG : len;
        emit(p, from_client, TH_PSH | TH_ACK, data, n);
        data += n;
        len -= n;
    }
}

void ps_pcap_fin(ps_pcap *p, bool from_client)
{
    if (p)
        emit(p, from_client, TH_FIN | TH_ACK, NULL, 0);
}

void ps_pcap_rst(ps_pcap *p, bool from_client)
{
    if (p)
        emit(p, from_client, TH_RST | TH_ACK, NULL, 0);
}

void ps_pcap_close(ps_pcap *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dumper);
    pcap_close(p->dead);
    free(p);
}
