/* --listen: accept, read the header under a deadline, judge it strictly, report, and
 * optionally relay the rest of the stream (header stripped unless --keep-header). */
#include "listen.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "describe.h"
#include "net/sock.h"
#include "pump.h"
#include "server.h"

#define HDR_CAP (PP_V2_MAX_LEN + 1024)

typedef struct listener {
    ps_server srv;
    bool any_fail; /* some connection had a FAIL finding */
} listener;

/* One accepted connection: reading its header (timer armed), then connecting to --forward,
 * then relayed by the server's pump. */
typedef struct lconn {
    ps_server_conn base; /* first: the server's part (client fd, connect, pump) */
    listener *l;
    unsigned id;
    uint8_t *buf;        /* the header bytes read so far */
    size_t len, first_read;
    unsigned reads;
    uint64_t deadline;   /* header timer id, 0 once the header is decided */
    size_t forward_from; /* first byte passed to --forward (0 with --keep-header) */
    char peer[80], local[80];
} lconn;

static void print_findings_json(FILE *f, const ps_check_result *r)
{
    fputs("\"findings\":[", f);
    for (size_t i = 0; i < r->nfindings; i++) {
        const ps_finding *x = &r->findings[i];
        fprintf(f, "%s{\"severity\":\"%s\",\"id\":\"%s\",\"refs\":\"%s\",\"name\":\"%s\",\"message\":", i ? "," : "",
                ps_severity_name(x->severity), x->id, x->refs, x->name);
        ps_json_string(f, x->message, strlen(x->message));
        fputc('}', f);
    }
    fputc(']', f);
}

void ps_listen_report(FILE *f, bool json, unsigned conn_id, const char *peer, const char *local,
                      const ps_check_input *in, const ps_check_result *r)
{
    bool valid = r->rc > 0;
    const pp_header *h = valid ? &r->hdr : r->lenient_ok ? &r->lenient : NULL;
    size_t shown = valid ? (size_t)r->rc : in->len > 512 ? 512 : in->len;
    if (json) {
        char *hex = malloc(shown * 2 + 1);
        if (hex)
            ps_hex_string(in->buf, shown, hex, shown * 2 + 1);
        fprintf(f, "{\"conn\":%u,\"real_peer\":\"%s\",\"local\":\"%s\",\"reads\":%u,\"first_read\":%zu,"
                   "\"received\":%zu,\"valid\":%s,\"error\":",
                conn_id, peer, local, in->reads, in->first_read, in->len, valid ? "true" : "false");
        if (valid)
            fputs("null", f);
        else
            fprintf(f, "\"%s\"", pp_error_name((int)r->rc));
        fprintf(f, ",\"header_hex\":\"%s\",\"proxy\":", hex ? hex : "");
        free(hex);
        if (h)
            ps_header_json(f, h);
        else
            fputs("null", f);
        fputc(',', f);
        print_findings_json(f, r);
        fprintf(f, ",\"fails\":%zu,\"warns\":%zu}\n", r->fails, r->warns);
        fflush(f);
        return;
    }
    fprintf(f, "connection %u: %s -> %s\n", conn_id, peer, local);
    if (valid)
        fprintf(f, "  header: %zd bytes, valid, %u read%s (first read %zu bytes)\n", r->rc, in->reads,
                in->reads == 1 ? "" : "s", in->first_read);
    else
        fprintf(f, "  header: INVALID (%s), %zu bytes received in %u read%s\n", pp_error_name((int)r->rc), in->len,
                in->reads, in->reads == 1 ? "" : "s");
    if (shown) {
        fputs("  bytes:\n", f);
        ps_hexdump(f, in->buf, shown);
    }
    if (h) {
        char desc[8192];
        pp_header_describe(h, desc, sizeof desc);
        fprintf(f, "  decoded%s:\n", valid ? "" : " (lenient)");
        for (char *line = strtok(desc, "\n"); line; line = strtok(NULL, "\n"))
            fprintf(f, "    %s\n", line);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const ps_finding *x = &r->findings[i];
        fprintf(f, "  %s %s %s: %s [%s]\n", ps_severity_name(x->severity), x->id, x->name, x->message, x->refs);
    }
    fprintf(f, "  result: %zu failure%s, %zu warning%s\n", r->fails, r->fails == 1 ? "" : "s", r->warns,
            r->warns == 1 ? "" : "s");
    fflush(f);
}

static void conn_free(ps_server_conn *base)
{
    lconn *c = (lconn *)base;
    if (c->deadline)
        pn_timer_cancel(base->srv->loop, c->deadline);
    free(c->buf);
    free(c);
}

static void on_backend(ps_server_conn *base, int fd, const char *err)
{
    lconn *c = (lconn *)base;
    if (fd < 0) {
        fprintf(stderr, "proxysend: connection %u: %s\n", c->id, err);
        ps_server_conn_finish(base);
        return;
    }
    size_t n = c->len - c->forward_from;
    if (n > PS_PUMP_BUF) /* more bytes already read than the relay buffer holds: refuse rather than drop */
        fprintf(stderr, "proxysend: connection %u: %zu bytes to forward exceed the %u-byte buffer\n", c->id, n,
                PS_PUMP_BUF);
    if (ps_server_conn_pipe(base, fd, c->buf + c->forward_from, n) < 0) {
        ps_server_conn_finish(base);
        return;
    }
    free(c->buf); /* the pump holds its own copy */
    c->buf = NULL;
}

/* Header decided: report it, then forward or close. */
static void decide(lconn *c, enum ps_read_end end)
{
    listener *l = c->l;
    const ps_opts *o = l->srv.o;
    pn_loop_unwatch(l->srv.loop, c->base.fd);
    if (c->deadline)
        pn_timer_cancel(l->srv.loop, c->deadline);
    c->deadline = 0;
    ps_check_input in = {.buf = c->buf, .len = c->len, .first_read = c->first_read, .reads = c->reads, .end = end};
    static ps_check_result r;
    ps_check(&in, &r);
    ps_listen_report(stdout, o->json, c->id, c->peer, c->local, &in, &r);
    l->any_fail |= r.fails > 0;
    if (r.rc <= 0 || !o->forward) {
        ps_server_conn_finish(&c->base);
        return;
    }
    c->forward_from = o->keep_header ? 0 : (size_t)r.rc;
    char err[300];
    if (ps_server_conn_connect(&c->base, o->forward, o->timeout_ms, on_backend, err, sizeof err) < 0) {
        fprintf(stderr, "proxysend: connection %u: %s\n", c->id, err);
        ps_server_conn_finish(&c->base);
    }
}

static void on_header_timeout(pn_loop *loop, uint64_t timer, void *udata)
{
    (void)loop, (void)timer;
    lconn *c = udata;
    c->deadline = 0;
    decide(c, PS_END_TIMEOUT);
}

static void on_header_readable(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop, (void)events;
    lconn *c = udata;
    size_t got;
    pn_io io = pn_recv(fd, c->buf + c->len, HDR_CAP - c->len, &got);
    if (io == PN_IO_AGAIN)
        return;
    if (io != PN_IO_OK) { /* FIN, RST or error before the header was decided */
        decide(c, PS_END_EOF);
        return;
    }
    if (c->reads++ == 0)
        c->first_read = got;
    c->len += got;
    pp_header h;
    ssize_t pr = pp_parse(c->buf, c->len, NULL, &h);
    if (pr != PP_NEED_MORE || c->len == HDR_CAP)
        decide(c, pr > 0 ? PS_END_COMPLETE : pr < 0 ? PS_END_INVALID : PS_END_TOO_LARGE);
}

static void on_accept(ps_server *srv, int fd, void *udata)
{
    listener *l = udata;
    lconn *c = calloc(1, sizeof *c);
    uint8_t *buf = c ? malloc(HDR_CAP) : NULL;
    if (!buf) {
        free(c);
        close(fd);
        return;
    }
    c->l = l;
    c->id = srv->accepted;
    c->buf = buf;
    pp_endpoint ep;
    ps_sock_addr_text(fd, true, &ep, c->peer, sizeof c->peer);
    ps_sock_addr_text(fd, false, &ep, c->local, sizeof c->local);
    ps_server_conn_begin(srv, &c->base, fd, conn_free);
    c->deadline = pn_timer_add(srv->loop, l->srv.o->timeout_ms, on_header_timeout, c);
    if (!c->deadline || pn_loop_watch(srv->loop, fd, PN_READABLE, on_header_readable, c) < 0)
        ps_server_conn_finish(&c->base);
}

int ps_listen_main(const ps_opts *o)
{
    static listener l;
    memset(&l, 0, sizeof l);
    int rc = ps_server_open(&l.srv, o, "--listen", on_accept, &l);
    if (rc)
        return rc;
    if (!o->json) {
        char a[160];
        const pp_endpoint *b = &l.srv.bound;
        pp_endpoint_addr_str(b, a, sizeof a);
        fprintf(stderr, "proxysend: listening on %s%s%s:%u\n", b->family == PP_FAM_INET6 ? "[" : "", a,
                b->family == PP_FAM_INET6 ? "]" : "", b->port);
    }
    ps_server_run(&l.srv);
    return l.any_fail ? PS_EXIT_NOT_MET : PS_EXIT_MET;
}
