/* --pcap-out: the frames come from lib/net's synthetic TCP conversation (pcap_frames.h);
 * this file picks the endpoints and initial sequence numbers and dumps each frame through
 * pcap_open_dead + pcap_dump_open, flushed so a killed proxysend leaves a readable file. */
#include "pcap_out.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "net/addr.h"
#include "net/pcap_frames.h"

struct ps_pcap {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    pn_tcp_frames tcp;
};

static void dump_frame(void *ctx, const uint8_t *frame, size_t len)
{
    ps_pcap *p = ctx;
    struct pcap_pkthdr h;
    gettimeofday(&h.ts, NULL);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)p->dumper, &h, frame);
    pcap_dump_flush(p->dumper);
}

/* A PROXY endpoint as an address for the capture; port 0 becomes fallback_port. */
static void endpoint_addr(const pp_endpoint *ep, int family, uint16_t fallback_port, pn_addr *out)
{
    static const uint8_t loopback4[4] = {127, 0, 0, 1};
    uint16_t port = ep->port ? ep->port : fallback_port;
    if (family == AF_UNSPEC)
        pn_addr_from_bytes(AF_INET, loopback4, port, out);
    else
        pn_addr_from_bytes(family, ep->ip, port, out);
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
    /* both INET or both INET6 keep their addresses; a mixed or non-IP pair is 127.0.0.1 */
    int family = AF_UNSPEC;
    if (client->family == PP_FAM_INET6 && server->family == PP_FAM_INET6)
        family = AF_INET6;
    else if (client->family == PP_FAM_INET && server->family == PP_FAM_INET)
        family = AF_INET;
    pn_addr cli, srv;
    endpoint_addr(client, family, 40000, &cli);
    endpoint_addr(server, family, 1883, &srv);
    /* initial sequence numbers that differ from run to run, like a real stack's */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint32_t cisn = (uint32_t)(tv.tv_usec * 2654435761u) ^ 0x5a5a0000u;
    pn_tcp_frames_init(&p->tcp, PN_LINK_ETHERNET, &cli, &srv, cisn, cisn * 2654435761u + 12345u,
                       PN_FRAMES_SEGMENT_MAX, dump_frame, p);
    p->tcp.ip_id = (uint16_t)tv.tv_sec;
    pn_tcp_frames_handshake(&p->tcp);
    return p;
}

void ps_pcap_data(ps_pcap *p, bool from_client, const uint8_t *data, size_t len)
{
    if (p)
        pn_tcp_frames_data(&p->tcp, from_client, data, len);
}

void ps_pcap_fin(ps_pcap *p, bool from_client)
{
    if (p)
        pn_tcp_frames_fin(&p->tcp, from_client);
}

void ps_pcap_rst(ps_pcap *p, bool from_client)
{
    if (p)
        pn_tcp_frames_rst(&p->tcp, from_client);
}

void ps_pcap_close(ps_pcap *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dumper);
    pcap_close(p->dead);
    free(p);
}
