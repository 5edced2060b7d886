/* TCP flow reassembly (see reasm.h). */
#include "reasm.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

/* DLT values, so this file does not need pcap.h */
enum { L_NULL = 0, L_EN10MB = 1, L_RAW_A = 12, L_RAW_B = 14, L_LOOP = 108, L_RAW = 101, L_SLL = 113, L_SLL2 = 276,
       L_IPV4 = 228, L_IPV6 = 229 };

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* Offset of the IP header and its version (4/6), or -1. */
static long ip_offset(int lt, const uint8_t *p, size_t n)
{
    size_t off;
    uint16_t et;
    switch (lt) {
    case L_EN10MB:
        if (n < 14)
            return -1;
        off = 14;
        et = be16(p + 12);
        while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) {
            et = be16(p + off + 2);
            off += 4;
        }
        return (et == 0x0800 || et == 0x86dd) ? (long)off : -1;
    case L_SLL:
        if (n < 16)
            return -1;
        et = be16(p + 14);
        return (et == 0x0800 || et == 0x86dd) ? 16 : -1;
    case L_SLL2:
        if (n < 20)
            return -1;
        et = be16(p);
        return (et == 0x0800 || et == 0x86dd) ? 20 : -1;
    case L_NULL:
    case L_LOOP:
        return n >= 4 ? 4 : -1;
    case L_RAW:
    case L_RAW_A:
    case L_RAW_B:
    case L_IPV4:
    case L_IPV6:
        return 0;
    default:
        return -1;
    }
}

static pc_flow *find_flow(pc_capture *c, int fam, const uint8_t *src, const uint8_t *dst, uint16_t sp, uint16_t dp,
                          int *side)
{
    size_t alen = fam == 4 ? 4 : 16;
    for (size_t i = c->n; i-- > 0;) {
        pc_flow *f = &c->flows[i];
        if (f->family != fam)
            continue;
        if (f->port[0] == sp && f->port[1] == dp && !memcmp(f->ip[0], src, alen) && !memcmp(f->ip[1], dst, alen)) {
            *side = 0;
            return f;
        }
        if (f->port[0] == dp && f->port[1] == sp && !memcmp(f->ip[0], dst, alen) && !memcmp(f->ip[1], src, alen)) {
            *side = 1;
            return f;
        }
    }
    if (c->n >= PC_REASM_MAX_FLOWS)
        return NULL;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->flows = pc_xrealloc(c->flows, c->cap * sizeof *c->flows);
    }
    pc_flow *f = &c->flows[c->n++];
    memset(f, 0, sizeof *f);
    f->family = fam;
    memcpy(f->ip[0], src, alen);
    memcpy(f->ip[1], dst, alen);
    f->port[0] = sp;
    f->port[1] = dp;
    f->client = -1;
    *side = 0;
    return f;
}

int pc_capture_add(pc_capture *c, int lt, const uint8_t *p, size_t n, uint64_t t_us)
{
    c->packets++;
    long ipo = ip_offset(lt, p, n);
    if (ipo < 0 || (size_t)ipo >= n)
        goto skip;
    p += ipo;
    n -= (size_t)ipo;
    int ver = p[0] >> 4;
    const uint8_t *src, *dst, *tcp;
    size_t tcp_len;
    if (ver == 4) {
        if (n < 20)
            goto skip;
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        size_t tot = be16(p + 2);
        if (ihl < 20 || tot < ihl || p[9] != 6)
            goto skip;
        if ((be16(p + 6) & 0x3fff) != 0) /* fragments: not reassembled here */
            goto skip;
        if (tot > n)
            goto skip; /* truncated capture (snaplen) */
        src = p + 12;
        dst = p + 16;
        tcp = p + ihl;
        tcp_len = tot - ihl;
    } else if (ver == 6) {
        if (n < 40)
            goto skip;
        size_t plen = be16(p + 4);
        if (40 + plen > n)
            goto skip;
        uint8_t nh = p[6];
        size_t off = 40;
        /* hop-by-hop, routing and destination options headers */
        while ((nh == 0 || nh == 43 || nh == 60) && off + 8 <= 40 + plen) {
            size_t el = ((size_t)p[off + 1] + 1) * 8;
            nh = p[off];
            off += el;
        }
        if (nh != 6 || off > 40 + plen)
            goto skip;
        src = p + 8;
        dst = p + 24;
        tcp = p + off;
        tcp_len = 40 + plen - off;
    } else
        goto skip;
    if (tcp_len < 20)
        goto skip;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < 20 || doff > tcp_len)
        goto skip;
    uint16_t sp = be16(tcp), dp = be16(tcp + 2);
    uint32_t seq = be32(tcp + 4);
    uint8_t flags = tcp[13];
    int side;
    pc_flow *f = find_flow(c, ver, src, dst, sp, dp, &side);
    if (!f)
        goto skip;
    if (!f->first_t_us)
        f->first_t_us = t_us;
    pc_dir *d = &f->dir[side];
    bool syn = flags & 0x02, ack = flags & 0x10;
    if (syn) {
        d->syn = true;
        d->have_isn = true;
        d->isn = seq + 1;
        if (!ack && f->client < 0)
            f->client = side;
    }
    if (flags & 0x01)
        d->fin = true;
    if (flags & 0x04)
        d->rst = true;
    size_t plen = tcp_len - doff;
    if (plen == 0 || syn)
        return 1;
    if (!d->have_isn) { /* capture started mid-flow: the first byte seen is offset 0 */
        d->have_isn = true;
        d->isn = seq;
    }
    if (c->bytes + plen > PC_REASM_MAX_BYTES)
        goto skip;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->segs = pc_xrealloc(d->segs, d->cap * sizeof *d->segs);
    }
    pc_seg *s = &d->segs[d->n++];
    s->seq = seq - d->isn;
    s->len = (uint32_t)plen;
    s->t_us = t_us;
    s->order = c->packets;
    s->data = pc_xmalloc(plen);
    memcpy(s->data, tcp + doff, plen);
    c->bytes += plen;
    return 1;
skip:
    c->skipped++;
    return 0;
}

void pc_capture_finish(pc_capture *c)
{
    for (size_t i = 0; i < c->n; i++) {
        pc_flow *f = &c->flows[i];
        if (f->client >= 0)
            continue;
        /* no SYN seen: the side talking to the lower (service) port is the client */
        f->client = f->port[1] <= f->port[0] ? 0 : 1;
    }
}

void pc_capture_free(pc_capture *c)
{
    for (size_t i = 0; i < c->n; i++)
        for (int d = 0; d < 2; d++) {
            for (size_t k = 0; k < c->flows[i].dir[d].n; k++)
                free(c->flows[i].dir[d].segs[k].data);
            free(c->flows[i].dir[d].segs);
        }
    free(c->flows);
    memset(c, 0, sizeof *c);
}

static int cmp_seq(const void *a, const void *b)
{
    const pc_seg *x = *(pc_seg *const *)a, *y = *(pc_seg *const *)b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    if (x->order != y->order) /* same start: the earliest transmission first */
        return x->order < y->order ? -1 : 1;
    return 0;
}

int pc_flow_stream(const pc_flow *f, int to_server, pc_stream *out)
{
    memset(out, 0, sizeof *out);
    int side = to_server ? f->client : 1 - f->client;
    const pc_dir *d = &f->dir[side];
    out->fin = d->fin;
    out->rst = d->rst;
    if (d->n == 0)
        return 0;
    const pc_seg **v = pc_xmalloc(d->n * sizeof *v);
    size_t total = 0;
    for (size_t i = 0; i < d->n; i++) {
        v[i] = &d->segs[i];
        total += d->segs[i].len;
    }
    qsort(v, d->n, sizeof *v, cmp_seq);
    out->data = pc_xmalloc(total ? total : 1);
    out->chunks = pc_xmalloc(d->n * sizeof *out->chunks);
    size_t expect = 0;
    uint64_t latest = 0; /* arrival order of the latest contributing segment */
    for (size_t i = 0; i < d->n; i++) {
        const pc_seg *s = v[i];
        size_t start = s->seq, end = (size_t)s->seq + s->len;
        if (end <= expect) {
            out->retransmitted++;
            continue;
        }
        if (start > expect) {
            out->gaps++;
            break; /* lost bytes: what follows cannot be placed */
        }
        size_t skip = expect - start;
        if (skip)
            out->retransmitted++; /* overlaps bytes already placed */
        if (s->order < latest)
            out->out_of_order++;  /* it arrived before bytes that precede it */
        else
            latest = s->order;
        memcpy(out->data + out->len, s->data + skip, end - expect);
        out->chunks[out->nchunks++] = (pc_chunk){out->len, end - expect, s->t_us};
        out->len += end - expect;
        expect = end;
    }
    free(v);
    return 0;
}

void pc_stream_free(pc_stream *s)
{
    free(s->data);
    free(s->chunks);
    memset(s, 0, sizeof *s);
}

void pc_flow_endpoint(const pc_flow *f, int server, char *out, size_t cap)
{
    int side = server ? 1 - f->client : f->client;
    char ip[64];
    inet_ntop(f->family == 4 ? AF_INET : AF_INET6, f->ip[side], ip, sizeof ip);
    if (f->family == 4)
        snprintf(out, cap, "%s:%u", ip, f->port[side]);
    else
        snprintf(out, cap, "[%s]:%u", ip, f->port[side]);
}
