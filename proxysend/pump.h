/* Two sockets piped both ways with bounded buffers; EOF on one side becomes shutdown(SHUT_WR)
 * on the other once its buffer is flushed, a reset on one side resets the other.
 * Driven by the caller's poll loop: ask for events, then step with what poll returned. */
#ifndef PROXYSEND_PUMP_H
#define PROXYSEND_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PS_PUMP_BUF 65536

typedef struct ps_pump_dir {
    uint8_t buf[PS_PUMP_BUF];
    size_t off, len;   /* pending bytes buf[off..len) */
    bool eof;          /* the source sent FIN */
    bool shut;         /* FIN passed on to the sink */
} ps_pump_dir;

typedef struct ps_pump {
    int a, b;          /* a = client side, b = backend side */
    ps_pump_dir ab, ba;
    bool done;
    bool reset;        /* ended by a reset or error */
} ps_pump;

void ps_pump_init(ps_pump *p, int a, int b);
/* Queue bytes for b before anything read from a (leftover after a header, or the header). */
bool ps_pump_preload(ps_pump *p, const uint8_t *data, size_t len);
void ps_pump_events(const ps_pump *p, short *ev_a, short *ev_b);
void ps_pump_step(ps_pump *p, short rev_a, short rev_b);
/* Close both sockets (with RST when the pump ended by a reset). */
void ps_pump_close(ps_pump *p);

#endif
