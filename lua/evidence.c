/* Evidence for failed cases: the transcript, a synthetic pcap rebuilt from our own socket
 * I/O (fake but consistent IP/TCP headers, so Wireshark's PROXY and MQTT dissectors can
 * read it), and a repro command (see report.h). */
#include "report.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "net/addr.h"
#include "net/pcap_frames.h"
#include "wire.h"

#define MAX_CONNS 256
#define SEG 1400

/* pcap_dump with the wire record's time: the frames builder hands each frame here. */
typedef struct dump_sink {
    pcap_dumper_t *dumper;
    uint64_t t_us;
} dump_sink;

static void dump_frame(void *ctx, const uint8_t *frame, size_t len)
{
    dump_sink *s = ctx;
    struct pcap_pkthdr h;
    h.ts.tv_sec = (time_t)(s->t_us / 1000000);
    h.ts.tv_usec = (suseconds_t)(s->t_us % 1000000);
    h.caplen = h.len = (bpf_u_int32)len;
    pcap_dump((u_char *)s->dumper, &h, frame);
}

typedef struct flow {
    bool open;
    pn_tcp_frames tcp;
} flow;

/* An OPEN record's "client|server" text starts the flow's conversation with its handshake. */
static void flow_open(flow *f, const pc_wire_rec *rec, dump_sink *sink)
{
    f->open = false;
    char text[200];
    size_t n = rec->len < sizeof text - 1 ? rec->len : sizeof text - 1;
    memcpy(text, rec->data, n);
    text[n] = '\0';
    char *bar = strchr(text, '|');
    if (!bar)
        return;
    *bar = '\0';
    pn_addr cli, srv;
    if (pn_addr_parse(text, &cli) < 0 || pn_addr_parse(bar + 1, &srv) < 0)
        return;
    if (pn_tcp_frames_init(&f->tcp, PN_LINK_RAW_IP, &cli, &srv, 1000, 5000, SEG, dump_frame, sink) < 0)
        return;
    f->open = true;
    pn_tcp_frames_handshake(&f->tcp);
}

int pc_wire_to_pcap(const pc_sbuf *wire, const char *path, char *err, size_t errcap)
{
    pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
    if (!p) {
        snprintf(err, errcap, "pcap_open_dead failed");
        return -1;
    }
    dump_sink sink = {pcap_dump_open(p, path), 0};
    if (!sink.dumper) {
        snprintf(err, errcap, "%s: %s", path, pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    static flow flows[MAX_CONNS];
    memset(flows, 0, sizeof flows);
    size_t off = 0;
    pc_wire_rec rec;
    uint64_t base = 1700000000ull * 1000000ull; /* a fixed epoch: the capture is synthetic */
    int rc = 0;
    while (rc == 0 && pc_wire_next(wire, &off, &rec)) {
        flow *f = &flows[rec.conn % MAX_CONNS];
        sink.t_us = base + rec.t_us;
        if (rec.kind == PC_WIRE_OPEN) {
            flow_open(f, &rec, &sink);
            continue;
        }
        if (!f->open)
            continue;
        bool c2s = rec.dir == PC_WIRE_C2S;
        if (rec.kind == PC_WIRE_DATA) {
            rc = pn_tcp_frames_data(&f->tcp, c2s, rec.data, rec.len);
        } else if (rec.kind == PC_WIRE_FIN) {
            pn_tcp_frames_fin(&f->tcp, c2s);
        } else if (rec.kind == PC_WIRE_RST) {
            pn_tcp_frames_rst(&f->tcp, c2s);
            f->open = false;
        }
    }
    pcap_dump_close(sink.dumper);
    pcap_close(p);
    if (rc < 0)
        snprintf(err, errcap, "%s: out of memory", path);
    return rc;
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
