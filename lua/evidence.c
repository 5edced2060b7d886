/* Evidence for failed cases: the transcript, a synthetic pcap rebuilt from our own socket
 * I/O (fake but consistent IP/TCP headers, so Wireshark's PROXY and MQTT dissectors can
 * read it), and a repro command (see report.h). */
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "net/addr.h"
#include "wire.h"

#define MAX_CONNS 256
#define SEG 1400

typedef struct flow {
    bool open;
    pn_addr cli, srv;
    uint32_t cseq, sseq;
} flow;

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

/* One IPv4/IPv6 + TCP packet from a to b. */
static void emit(pcap_dumper_t *d, uint64_t t_us, const pn_addr *a, const pn_addr *b, uint32_t seq,
                 uint32_t ack, uint8_t flags, const uint8_t *data, size_t len)
{
    static uint8_t pkt[40 + 20 + SEG];
    size_t ip_len;
    bool v6 = pn_addr_family(a) == AF_INET6;
    size_t alen;
    const uint8_t *sa = pn_addr_ip_bytes(a, &alen), *da = pn_addr_ip_bytes(b, &alen);
    if (!sa || !da)
        return;
    uint8_t *tcp;
    uint32_t sum = 0;
    size_t tcp_len = 20 + len;
    if (v6) {
        ip_len = 40;
        memset(pkt, 0, 40);
        pkt[0] = 0x60;
        pkt[4] = (uint8_t)(tcp_len >> 8);
        pkt[5] = (uint8_t)tcp_len;
        pkt[6] = 6;
        pkt[7] = 64;
        memcpy(pkt + 8, sa, 16);
        memcpy(pkt + 24, da, 16);
        sum = csum_add(sum, sa, 16);
        sum = csum_add(sum, da, 16);
    } else {
        ip_len = 20;
        memset(pkt, 0, 20);
        pkt[0] = 0x45;
        uint16_t tot = (uint16_t)(20 + tcp_len);
        pkt[2] = (uint8_t)(tot >> 8);
        pkt[3] = (uint8_t)tot;
        pkt[6] = 0x40; /* DF */
        pkt[8] = 64;
        pkt[9] = 6;
        memcpy(pkt + 12, sa, 4);
        memcpy(pkt + 16, da, 4);
        uint16_t c = csum_fold(csum_add(0, pkt, 20));
        pkt[10] = (uint8_t)(c >> 8);
        pkt[11] = (uint8_t)c;
        sum = csum_add(sum, sa, 4);
        sum = csum_add(sum, da, 4);
    }
    sum += 6 + (uint32_t)tcp_len;
    tcp = pkt + ip_len;
    memset(tcp, 0, 20);
    uint16_t sp = pn_addr_port(a), dp = pn_addr_port(b);
    tcp[0] = (uint8_t)(sp >> 8); tcp[1] = (uint8_t)sp;
    tcp[2] = (uint8_t)(dp >> 8); tcp[3] = (uint8_t)dp;
    uint32_t nseq = htonl(seq), nack = htonl(ack);
    memcpy(tcp + 4, &nseq, 4);
    memcpy(tcp + 8, &nack, 4);
    tcp[12] = 0x50;
    tcp[13] = flags;
    tcp[14] = 0xff; tcp[15] = 0xff;
    if (len)
        memcpy(tcp + 20, data, len);
    sum = csum_add(sum, tcp, tcp_len);
    uint16_t c = csum_fold(sum);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(t_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(t_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)(ip_len + tcp_len);
    pcap_dump((u_char *)d, &h, pkt);
}

enum { F_FIN = 0x01, F_SYN = 0x02, F_RST = 0x04, F_PSH = 0x08, F_ACK = 0x10 };

int pc_wire_to_pcap(const pc_sbuf *wire, const char *path, char *err, size_t errcap)
{
    pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
    if (!p) {
        snprintf(err, errcap, "pcap_open_dead failed");
        return -1;
    }
    pcap_dumper_t *d = pcap_dump_open(p, path);
    if (!d) {
        snprintf(err, errcap, "%s: %s", path, pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    static flow flows[MAX_CONNS];
    memset(flows, 0, sizeof flows);
    size_t off = 0;
    pc_wire_rec rec;
    uint64_t base = 1700000000ull * 1000000ull; /* a fixed epoch: the capture is synthetic */
    while (pc_wire_next(wire, &off, &rec)) {
        flow *f = &flows[rec.conn % MAX_CONNS];
        uint64_t t = base + rec.t_us;
        if (rec.kind == PC_WIRE_OPEN) {
            char text[200];
            size_t n = rec.len < sizeof text - 1 ? rec.len : sizeof text - 1;
            memcpy(text, rec.data, n);
            text[n] = '\0';
            char *bar = strchr(text, '|');
            if (!bar)
                continue;
            *bar = '\0';
            if (pn_addr_parse(text, &f->cli) < 0 || pn_addr_parse(bar + 1, &f->srv) < 0)
                continue;
            f->open = true;
            f->cseq = 1000;
            f->sseq = 5000;
            emit(d, t, &f->cli, &f->srv, f->cseq++, 0, F_SYN, NULL, 0);
            emit(d, t, &f->srv, &f->cli, f->sseq++, f->cseq, F_SYN | F_ACK, NULL, 0);
            emit(d, t, &f->cli, &f->srv, f->cseq, f->sseq, F_ACK, NULL, 0);
            continue;
        }
        if (!f->open)
            continue;
        bool c2s = rec.dir == PC_WIRE_C2S;
        const pn_addr *a = c2s ? &f->cli : &f->srv, *b = c2s ? &f->srv : &f->cli;
        uint32_t *seq = c2s ? &f->cseq : &f->sseq, ack = c2s ? f->sseq : f->cseq;
        if (rec.kind == PC_WIRE_DATA) {
            for (size_t i = 0; i < rec.len; i += SEG) {
                size_t n = rec.len - i < SEG ? rec.len - i : SEG;
                emit(d, t, a, b, *seq, ack, F_PSH | F_ACK, rec.data + i, n);
                *seq += (uint32_t)n;
            }
        } else if (rec.kind == PC_WIRE_FIN) {
            emit(d, t, a, b, (*seq)++, ack, F_FIN | F_ACK, NULL, 0);
        } else if (rec.kind == PC_WIRE_RST) {
            emit(d, t, a, b, *seq, ack, F_RST | F_ACK, NULL, 0);
            f->open = false;
        }
    }
    pcap_dump_close(d);
    pcap_close(p);
    return 0;
}

static void safe_name(const char *id, char *out, size_t cap)
{
    size_t i = 0;
    for (; id[i] && i + 1 < cap; i++) {
        char c = id[i];
        out[i] = (c == '/' || c == '\\' || c == ' ' || (c == '.' && i == 0)) ? '_' : c;
    }
    out[i] = '\0';
}

int pc_evidence_write(const char *dir, pc_result *r, char *err, size_t errcap)
{
    char name[200], path[4096];
    safe_name(r->c->id, name, sizeof name);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errcap, "mkdir %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errcap, "mkdir %s: %s", path, strerror(errno));
        return -1;
    }
    free(r->evidence_dir);
    r->evidence_dir = pc_strdup(path);

    pc_sbuf t = {0};
    pc_sbuf_printf(&t, "case %s: %s\nverdict: %s\nlevel: %s\n", r->c->id, r->c->title, pc_verdict_name(r->verdict),
                   pc_level_name(r->c->level));
    if (r->c->refs.count) {
        char *refs = pc_strv_join(&r->c->refs, ", ");
        pc_sbuf_printf(&t, "refs: %s\n", refs);
        free(refs);
    }
    if (r->reason)
        pc_sbuf_printf(&t, "reason: %s\n", r->reason);
    for (size_t k = 0; k < r->nchecks; k++) {
        const pc_check *c = &r->checks[k];
        pc_sbuf_printf(&t, "%s %s%s%s\n", c->ok ? "ok:    " : "FAILED:", c->message, c->where ? "  at " : "",
                       c->where ? c->where : "");
        if (c->expected)
            pc_sbuf_printf(&t, "          Expected: %s\n", c->expected);
        if (c->actual)
            pc_sbuf_printf(&t, "            Actual: %s\n", c->actual);
    }
    if (r->error_trace)
        pc_sbuf_printf(&t, "%s\n", r->error_trace);
    pc_sbuf_puts(&t, "\nwire log (times from the start of the case):\n");
    if (r->transcript.len)
        pc_sbuf_add(&t, r->transcript.data, r->transcript.len);
    if (r->transcript.truncated)
        pc_sbuf_puts(&t, "(transcript truncated)\n");
    snprintf(path, sizeof path, "%s/transcript.txt", r->evidence_dir);
    int rc = pc_report_write_file(path, &t);
    pc_sbuf_free(&t);
    if (rc < 0) {
        snprintf(err, errcap, "write %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/capture.pcap", r->evidence_dir);
    if (pc_wire_to_pcap(&r->wire, path, err, errcap) < 0)
        return -1;
    if (r->repro) {
        pc_sbuf s = {0};
        pc_sbuf_printf(&s, "#!/bin/sh\n# runs %s again, alone, with the same seed\nexec %s \"$@\"\n", r->c->id, r->repro);
        snprintf(path, sizeof path, "%s/repro.sh", r->evidence_dir);
        rc = pc_report_write_file(path, &s);
        pc_sbuf_free(&s);
        if (rc == 0)
            chmod(path, 0755);
    }
    return 0;
}
