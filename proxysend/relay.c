/* --relay: accept, prepend a header built from the real client connection, pipe both ways. */
#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "header.h"
#include "net/sock.h"
#include "pump.h"
#include "server.h"

#define MAX_PAIRS 64

int ps_relay_main(const ps_opts *o)
{
    ps_install_stop_handlers();
    char err[600];
    pp_endpoint bound;
    int lfd = ps_listen_on(o->listen, &bound, err, sizeof err);
    if (lfd < 0) {
        fprintf(stderr, "proxysend: --relay %s\n", err);
        return PS_EXIT_CONNECT;
    }
    if (o->ready_file && ps_write_ready_file(o->ready_file, &bound)) {
        fprintf(stderr, "proxysend: --ready-file '%s': %s\n", o->ready_file, strerror(errno));
        close(lfd);
        return PS_EXIT_USAGE;
    }
    static ps_pump *pairs[MAX_PAIRS];
    static uint8_t hdr[PS_HEADER_CAP];
    unsigned accepted = 0;
    int status = PS_EXIT_MET;
    while (!ps_stop_requested) {
        bool accepting = !o->count || accepted < o->count;
        size_t active = 0;
        for (int i = 0; i < MAX_PAIRS; i++)
            active += pairs[i] != NULL;
        if (!accepting && active == 0)
            break;
        struct pollfd pf[1 + 2 * MAX_PAIRS];
        int owner[1 + 2 * MAX_PAIRS];
        nfds_t n = 0;
        if (accepting) {
            pf[n] = (struct pollfd){.fd = lfd, .events = POLLIN};
            owner[n++] = -1;
        }
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (!pairs[i])
                continue;
            short ea, eb;
            ps_pump_events(pairs[i], &ea, &eb);
            pf[n] = (struct pollfd){.fd = pairs[i]->a, .events = ea};
            owner[n++] = i;
            pf[n] = (struct pollfd){.fd = pairs[i]->b, .events = eb};
            owner[n++] = i;
        }
        int rc = poll(pf, n, 1000);
        if (rc < 0 && errno != EINTR)
            break;
        for (nfds_t k = 0; rc > 0 && k < n; k++) {
            if (owner[k] == -1) {
                if (!pf[k].revents)
                    continue;
                int cfd = pn_accept(lfd, NULL);
                if (cfd < 0)
                    continue;
                accepted++;
                int slot = -1;
                for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
                    if (!pairs[i])
                        slot = i;
                char peer_text[80], local_text[80];
                pp_endpoint peer, local;
                ps_sock_addr_text(cfd, true, &peer, peer_text, sizeof peer_text);
                ps_sock_addr_text(cfd, false, &local, local_text, sizeof local_text);
                int bfd = slot >= 0 ? ps_connect_nb(o->forward, o->timeout_ms, err, sizeof err) : -1;
                if (bfd < 0) {
                    fprintf(stderr, "proxysend: relay %s: %s\n", peer_text, slot < 0 ? "too many connections" : err);
                    close(cfd);
                    status = PS_EXIT_CONNECT;
                    continue;
                }
                ssize_t hl = ps_header_build(o, &peer, &local, hdr, sizeof hdr, err, sizeof err);
                ps_pump *p = hl >= 0 && (size_t)hl <= PS_PUMP_BUF ? malloc(sizeof *p) : NULL;
                if (!p) {
                    fprintf(stderr, "proxysend: relay %s: %s\n", peer_text, hl < 0 ? err : "header too large");
                    close(cfd);
                    close(bfd);
                    status = PS_EXIT_USAGE;
                    continue;
                }
                ps_pump_init(p, cfd, bfd);
                ps_pump_preload(p, hdr, (size_t)hl);
                pairs[slot] = p;
                if (!o->quiet && !o->json)
                    fprintf(stderr, "proxysend: relay %s -> %s: %zd-byte header to %s\n", peer_text, local_text,
                            hl, o->forward);
                continue;
            }
            int i = owner[k];
            ps_pump *p = pairs[i];
            if (!p)
                continue;
            if (k + 1 < n && owner[k + 1] == i) {
                ps_pump_step(p, pf[k].revents, pf[k + 1].revents);
                k++;
            } else {
                ps_pump_step(p, 0, pf[k].revents);
            }
            if (p->done) {
                ps_pump_close(p);
                free(p);
                pairs[i] = NULL;
            }
        }
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (pairs[i]) {
            ps_pump_close(pairs[i]);
            free(pairs[i]);
            pairs[i] = NULL;
        }
    close(lfd);
    return status;
}
