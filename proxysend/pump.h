/* Two sockets piped both ways on lib/net's event loop with bounded buffers; EOF on one side
 * becomes shutdown(SHUT_WR) on the other once its buffer is flushed, a reset on one side
 * resets the other. Each socket is watched only while there is something to read into or to
 * write from it, so a half-closed socket cannot wake the loop for nothing. */
#ifndef PROXYSEND_PUMP_H
#define PROXYSEND_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"

#define PS_PUMP_BUF 65536

typedef struct ps_pump_dir {
    uint8_t buf[PS_PUMP_BUF];
    size_t off, len;   /* pending bytes buf[off..len) */
    bool eof;          /* the source sent FIN */
    bool shut;         /* FIN passed on to the sink */
} ps_pump_dir;

typedef struct ps_pump ps_pump;
/* The pump finished (both directions shut, or a reset/error): both sockets are unwatched;
 * the callback closes them with ps_pump_close and may free the pump. */
typedef void (*ps_pump_done_cb)(ps_pump *p, void *udata);

struct ps_pump {
    int a, b;          /* a = client side, b = backend side */
    ps_pump_dir ab, ba;
    bool done;
    bool reset;        /* ended by a reset or error */
    pn_loop *loop;
    int watch_a, watch_b; /* current loop interest (0 = not watched) */
    ps_pump_done_cb on_done;
    void *udata;
};

void ps_pump_init(ps_pump *p, int a, int b);
/* Queue bytes for b before anything read from a (leftover after a header, or the header). */
bool ps_pump_preload(ps_pump *p, const uint8_t *data, size_t len);
/* Start piping on loop; on_done runs once, from a loop callback. 0, or -1 when the sockets
 * cannot be watched (nothing is watched then; close with ps_pump_close). */
int ps_pump_start(ps_pump *p, pn_loop *loop, ps_pump_done_cb on_done, void *udata);
/* Stop watching and close both sockets (with RST when the pump ended by a reset). */
void ps_pump_close(ps_pump *p);

#endif
