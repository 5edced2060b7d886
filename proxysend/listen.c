/* --listen: accept, read the header under a deadline, judge it strictly, report, and
 * optionally relay the rest of the stream (header stripped unless --keep-header). */
#include "listen.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "describe.h"
#include "net/sock.h"
#include "pump.h"
#include "server.h"

#define MAX_CONNS 64
#define HDR_CAP (PP_V2_MAX_LEN + 1024)

enum lstate { L_FREE, L_HEADER, L_PUMP };

typedef struct lconn {
    enum lstate state;
    int fd;
    unsigned id;
    uint8_t *buf;
    size_t len, first_read;
    unsigned reads;
    long long deadline;
    char peer[80], local[80];
    ps_pump *pump;
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

static void conn_free(lconn *c)
{
    if (c->pump) {
        ps_pump_close(c->pump);
        free(c->pump);
    } else if (c->fd >= 0) {
        close(c->fd);
    }
    free(c->buf);
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->state = L_FREE;
}

/* Header decided: report it, then forward or close. Returns true when it had a FAIL. */
static bool decide(const ps_opts *o, lconn *c, enum ps_read_end end)
{
    ps_check_input in = {.buf = c->buf, .len = c->len, .first_read = c->first_read, .reads = c->reads, .end = end};
    static ps_check_result r;
    ps_check(&in, &r);
    ps_listen_report(stdout, o->json, c->id, c->peer, c->local, &in, &r);
    bool failed = r.fails > 0;
    if (r.rc > 0 && o->forward) {
        char err[300];
        int b = ps_connect_nb(o->forward, o->timeout_ms, err, sizeof err);
        if (b < 0) {
            fprintf(stderr, "proxysend: connection %u: %s\n", c->id, err);
        } else {
            c->pump = malloc(sizeof *c->pump);
            if (c->pump) {
                ps_pump_init(c->pump, c->fd, b);
                size_t skip = o->keep_header ? 0 : (size_t)r.rc;
                if (ps_pump_preload(c->pump, c->buf + skip, c->len - skip)) {
                    c->state = L_PUMP;
                    free(c->buf);
                    c->buf = NULL;
                    return failed;
                }
                /* more bytes already read than the relay buffer holds: refuse rather than drop */
                fprintf(stderr, "proxysend: connection %u: %zu bytes to forward exceed the %u-byte buffer\n", c->id,
                        c->len - skip, PS_PUMP_BUF);
                free(c->pump);
                c->pump = NULL;
            }
            close(b);
        }
    }
    conn_free(c);
    return failed;
}

int ps_listen_main(const ps_opts *o)
{
    ps_install_stop_handlers();
    char err[400];
    pp_endpoint bound;
    int lfd = ps_listen_on(o->listen, &bound, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "proxysend: --listen %s\n", err);
        return PS_EXIT_CONNECT;
    }
    if (o->ready_file && ps_write_ready_file(o->ready_file, &bound)) {
        fprintf(stderr, "proxysend: --ready-file '%s': %s\n", o->ready_file, strerror(errno));
        close(lfd);
        return PS_EXIT_USAGE;
    }
    if (!o->json) {
        char a[160];
        pp_endpoint_addr_str(&bound, a, sizeof a);
        fprintf(stderr, "proxysend: listening on %s%s%s:%u\n", bound.family == PP_FAM_INET6 ? "[" : "", a,
                bound.family == PP_FAM_INET6 ? "]" : "", bound.port);
    }
    static lconn conns[MAX_CONNS];
    for (int i = 0; i < MAX_CONNS; i++) {
        conns[i].fd = -1;
        conns[i].state = L_FREE;
    }
    unsigned accepted = 0, reported = 0;
    bool any_fail = false;
    while (!ps_stop_requested) {
        bool accepting = !o->count || accepted < o->count;
        size_t active = 0;
        for (int i = 0; i < MAX_CONNS; i++)
            active += conns[i].state != L_FREE;
        if (!accepting && active == 0)
            break;

        struct pollfd pf[1 + 2 * MAX_CONNS];
        int owner[1 + 2 * MAX_CONNS];
        nfds_t n = 0;
        if (accepting) {
            pf[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
            owner[n++] = -1;
        }
        long long now = ps_now_ms(), wait = 1000;
        for (int i = 0; i < MAX_CONNS; i++) {
            lconn *c = &conns[i];
            if (c->state == L_HEADER) {
                pf[n] = (struct pollfd){.fd = c->fd, .events = POLLIN};
                owner[n++] = i;
                if (c->deadline - now < wait)
                    wait = c->deadline - now;
            } else if (c->state == L_PUMP) {
                short ea, eb;
                ps_pump_events(c->pump, &ea, &eb);
                pf[n] = (struct pollfd){.fd = c->pump->a, .events = ea};
                owner[n++] = i;
                pf[n] = (struct pollfd){.fd = c->pump->b, .events = eb};
                owner[n++] = i;
            }
        }
        if (wait < 0)
            wait = 0;
        int rc = poll(pf, n, (int)wait);
        if (rc < 0 && errno != EINTR)
            break;
        now = ps_now_ms();
        for (nfds_t k = 0; rc > 0 && k < n; k++) {
            if (!pf[k].revents)
                continue;
            if (owner[k] == -1) {
                int fd = pn_accept(lfd, NULL);
                if (fd < 0)
                    continue;
                int slot = -1;
                for (int i = 0; i < MAX_CONNS && slot < 0; i++)
                    if (conns[i].state == L_FREE)
                        slot = i;
                uint8_t *buf = slot >= 0 ? malloc(HDR_CAP) : NULL;
                if (!buf) {
                    close(fd); /* table full: bounded resources */
                    continue;
                }
                lconn *c = &conns[slot];
                memset(c, 0, sizeof *c);
                c->state = L_HEADER;
                c->fd = fd;
                c->id = ++accepted;
                c->buf = buf;
                c->deadline = now + o->timeout_ms;
                pp_endpoint ep;
                ps_sock_addr_text(fd, true, &ep, c->peer, sizeof c->peer);
                ps_sock_addr_text(fd, false, &ep, c->local, sizeof c->local);
                continue;
            }
            lconn *c = &conns[owner[k]];
            if (c->state == L_HEADER) {
                size_t got;
                pn_io io = pn_recv(c->fd, c->buf + c->len, HDR_CAP - c->len, &got);
                if (io == PN_IO_AGAIN)
                    continue;
                if (io != PN_IO_OK) { /* FIN, RST or error before the header was decided */
                    any_fail |= decide(o, c, PS_END_EOF);
                    reported++;
                    continue;
                }
                if (c->reads++ == 0)
                    c->first_read = got;
                c->len += got;
                pp_header h;
                ssize_t pr = pp_parse(c->buf, c->len, NULL, &h);
                if (pr != PP_NEED_MORE || c->len == HDR_CAP) {
                    any_fail |= decide(o, c, pr > 0 ? PS_END_COMPLETE
                                                   : pr < 0 ? PS_END_INVALID
                                                            : PS_END_TOO_LARGE);
                    reported++;
                }
            } else if (c->state == L_PUMP) {
                /* both fds of a pump are adjacent: step once with both revents */
                if (k + 1 < n && owner[k + 1] == owner[k]) {
                    ps_pump_step(c->pump, pf[k].revents, pf[k + 1].revents);
                    pf[k + 1].revents = 0;
                } else {
                    ps_pump_step(c->pump, 0, pf[k].revents);
                }
                if (c->pump->done)
                    conn_free(c);
            }
        }
        for (int i = 0; i < MAX_CONNS; i++) {
            if (conns[i].state == L_HEADER && conns[i].deadline <= now) {
                any_fail |= decide(o, &conns[i], PS_END_TIMEOUT);
                reported++;
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (conns[i].state != L_FREE)
            conn_free(&conns[i]);
    close(lfd);
    (void)reported;
    return any_fail ? PS_EXIT_NOT_MET : PS_EXIT_MET;
}
