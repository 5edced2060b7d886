/* Bidirectional relay with bounded buffers and half-close propagation, on pn_loop. */
#include "pump.h"

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

/* Move what one direction can move now: one read from src when it woke us and there is room,
 * one write of the pending bytes to dst, then FIN to dst once src's EOF is flushed. A read or
 * write that would block is retried on the next wake. Returns false on a reset/error. */
static bool dir_step(ps_pump_dir *d, int src, int dst, bool src_woke)
{
    size_t n;
    if (src_woke && !d->eof && d->len < PS_PUMP_BUF) {
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
    if (d->len > d->off) {
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

/* What a socket waits for: room to read into from it, bytes to write to it. */
static int interest(const ps_pump_dir *from_it, const ps_pump_dir *to_it)
{
    int room = !from_it->eof && from_it->len < PS_PUMP_BUF, pending = to_it->len > to_it->off;
    return (room ? PN_READABLE : 0) | (pending ? PN_WRITABLE : 0);
}

static void on_event(pn_loop *loop, int fd, int events, void *udata);

/* Watch fd for `want` only (0: not at all). 0 or -1. */
static int set_watch(ps_pump *p, int fd, int *cur, int want)
{
    int rc = 0;
    if (want == *cur)
        return 0;
    if (*cur == 0)
        rc = pn_loop_watch(p->loop, fd, want, on_event, p);
    else if (want == 0)
        rc = pn_loop_unwatch(p->loop, fd);
    else
        rc = pn_loop_modify(p->loop, fd, want);
    if (rc == 0)
        *cur = want;
    return rc;
}

static void unwatch_both(ps_pump *p)
{
    if (p->loop) {
        set_watch(p, p->a, &p->watch_a, 0);
        set_watch(p, p->b, &p->watch_b, 0);
    }
}

static int update_watches(ps_pump *p)
{
    if (set_watch(p, p->a, &p->watch_a, interest(&p->ab, &p->ba)) < 0 ||
        set_watch(p, p->b, &p->watch_b, interest(&p->ba, &p->ab)) < 0)
        return -1;
    return 0;
}

static void on_event(pn_loop *loop, int fd, int events, void *udata)
{
    (void)loop, (void)events;
    ps_pump *p = udata;
    /* Either side's event may unblock both directions (a read fills, a write makes room);
     * only the socket that woke us is read, a write that cannot move returns AGAIN. */
    if (!dir_step(&p->ab, p->a, p->b, fd == p->a) || !dir_step(&p->ba, p->b, p->a, fd == p->b) ||
        update_watches(p) < 0) {
        p->reset = true;
        p->done = true;
    } else if (p->ab.shut && p->ba.shut) {
        p->done = true;
    }
    if (p->done) {
        unwatch_both(p);
        p->on_done(p, p->udata);
    }
}

int ps_pump_start(ps_pump *p, pn_loop *loop, ps_pump_done_cb on_done, void *udata)
{
    p->loop = loop;
    p->on_done = on_done;
    p->udata = udata;
    if (update_watches(p) < 0) {
        unwatch_both(p);
        return -1;
    }
    return 0;
}

void ps_pump_close(ps_pump *p)
{
    unwatch_both(p);
    /* a reset on one side is passed on as a reset */
    if (p->a >= 0)
        p->reset ? pn_close_rst(p->a) : close(p->a);
    if (p->b >= 0)
        p->reset ? pn_close_rst(p->b) : close(p->b);
    p->a = p->b = -1;
}
