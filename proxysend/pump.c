/* Bidirectional relay with bounded buffers and half-close propagation. */
#include "pump.h"

#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "net/sock.h"

void ps_pump_init(ps_pump *p, int a, int b)
{
    memset(p, 0, sizeof *p);
    p->a = a;
    p->b = b;
}

bool ps_pump_preload(ps_pump *p, const uint8_t *data, size_t len)
{
    if (p->ab.len + len > PS_PUMP_BUF)
        return false;
    memcpy(p->ab.buf + p->ab.len, data, len);
    p->ab.len += len;
    return true;
}

static void dir_events(const ps_pump_dir *d, short *src_ev, short *dst_ev)
{
    if (!d->eof && d->len < PS_PUMP_BUF)
        *src_ev |= POLLIN;
    if (d->len > d->off)
        *dst_ev |= POLLOUT;
}

void ps_pump_events(const ps_pump *p, short *ev_a, short *ev_b)
{
    *ev_a = 0;
    *ev_b = 0;
    if (p->done)
        return;
    dir_events(&p->ab, ev_a, ev_b);
    dir_events(&p->ba, ev_b, ev_a);
}

/* Returns false on a reset/error. */
static bool dir_step(ps_pump_dir *d, int src, int dst, short src_rev, short dst_rev)
{
    size_t n;
    if ((src_rev & (POLLIN | POLLHUP | POLLERR)) && !d->eof && d->len < PS_PUMP_BUF) {
        if (d->off == d->len)
            d->off = d->len = 0;
        pn_io io = pn_recv(src, d->buf + d->len, PS_PUMP_BUF - d->len, &n);
        if (io == PN_IO_OK)
            d->len += n;
        else if (io == PN_IO_FIN)
            d->eof = true;
        else if (io != PN_IO_AGAIN)
            return false;
    }
    if (d->len > d->off && (dst_rev & (POLLOUT | POLLERR | POLLHUP))) {
        pn_io io = pn_send(dst, d->buf + d->off, d->len - d->off, &n);
        if (io == PN_IO_OK)
            d->off += n;
        else if (io != PN_IO_AGAIN)
            return false;
    }
    if (d->eof && d->off == d->len && !d->shut) {
        pn_shutdown_write(dst);
        d->shut = true;
    }
    return true;
}

void ps_pump_step(ps_pump *p, short rev_a, short rev_b)
{
    if (p->done)
        return;
    /* A pending write may be possible even when poll reported nothing for that side. */
    if (!dir_step(&p->ab, p->a, p->b, rev_a, rev_b | POLLOUT) || !dir_step(&p->ba, p->b, p->a, rev_b, rev_a | POLLOUT)) {
        p->reset = true;
        p->done = true;
        return;
    }
    if (p->ab.shut && p->ba.shut)
        p->done = true;
}

void ps_pump_close(ps_pump *p)
{
    /* a reset on one side is passed on as a reset */
    if (p->a >= 0)
        p->reset ? pn_close_rst(p->a) : close(p->a);
    if (p->b >= 0)
        p->reset ? pn_close_rst(p->b) : close(p->b);
    p->a = p->b = -1;
}
