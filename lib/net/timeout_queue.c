/* lib/net/timeout_queue: a FIFO of equal-length deadlines on one loop timer (see the header). */
#include "timeout_queue.h"

#include <stddef.h>

static void arm(pn_tq *q);

static void unlink_entry(pn_tq *q, pn_tq_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->tail = e->prev;
    e->prev = e->next = NULL;
    e->linked = false;
}

static void on_timer(pn_loop *loop, uint64_t id, void *udata)
{
    (void)loop;
    (void)id;
    pn_tq *q = udata;
    q->timer = 0;
    uint64_t now = pn_now_ms();
    /* Entries added by the callbacks wait for the next pass (with timeout 0 they would be
     * due now), like timers added from timer callbacks. */
    uint64_t seq_limit = q->next_seq;
    while (q->head && q->head->due_ms <= now && q->head->seq < seq_limit) {
        pn_tq_entry *e = q->head;
        unlink_entry(q, e);
        q->expired(q, e, q->udata);
    }
    arm(q);
}

/* Arm the loop timer for the oldest entry, unless one is armed (it fires no later: entries
 * only ever join at the tail, with later deadlines). */
static void arm(pn_tq *q)
{
    if (q->timer || !q->head)
        return;
    uint64_t now = pn_now_ms();
    uint64_t wait = q->head->due_ms > now ? q->head->due_ms - now : 0;
    q->timer = pn_timer_add(q->loop, wait, on_timer, q);
}

void pn_tq_init(pn_tq *q, pn_loop *loop, uint64_t timeout_ms, pn_tq_expired_cb expired, void *udata)
{
    q->loop = loop;
    q->timeout_ms = timeout_ms;
    q->head = q->tail = NULL;
    q->timer = 0;
    q->next_seq = 0;
    q->expired = expired;
    q->udata = udata;
}

int pn_tq_add(pn_tq *q, pn_tq_entry *e)
{
    if (e->linked)
        unlink_entry(q, e);
    e->due_ms = pn_now_ms() + q->timeout_ms;
    e->seq = q->next_seq++;
    e->next = NULL;
    e->prev = q->tail;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    e->linked = true;
    arm(q);
    if (!q->timer) {
        unlink_entry(q, e); /* no timer, no deadline: refuse rather than wait forever */
        return -1;
    }
    return 0;
}

void pn_tq_remove(pn_tq *q, pn_tq_entry *e)
{
    if (e->linked)
        unlink_entry(q, e);
    /* The timer stays armed when the queue empties: it finds nothing due and stops. */
}

void pn_tq_close(pn_tq *q)
{
    if (q->timer)
        pn_timer_cancel(q->loop, q->timer);
    q->timer = 0;
    while (q->head)
        unlink_entry(q, q->head);
}
