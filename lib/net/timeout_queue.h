/* lib/net/timeout_queue.h: many deadlines of one fixed length on a single loop timer.
 *
 * When every entry waits the same time (a listener's PROXY header timeout, the MQTT CONNECT
 * timeout), entries added later are due later, so a FIFO list is already sorted by deadline:
 * adding and removing are O(1) pointer updates, and one pn_loop timer, armed for the oldest
 * entry, serves them all. It is re-armed only when it fires, so a connection that finishes
 * its stage in time costs no timer-heap work at all (a heap timer per connection costs an
 * add and a cancel, O(log n) each).
 *
 * The entry is embedded in the caller's struct (recover it with offsetof). The expired
 * callback receives each due entry already unlinked; it may add or remove any entry and free
 * the struct holding the one it received, but must not call pn_tq_close on its own queue. */
#ifndef PN_TIMEOUT_QUEUE_H
#define PN_TIMEOUT_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

typedef struct pn_tq_entry {
    struct pn_tq_entry *prev, *next;
    uint64_t due_ms; /* pn_now_ms() deadline */
    uint64_t seq;    /* order of adding: what a callback adds waits for the next pass */
    bool linked;
} pn_tq_entry;

/* The struct of type `type` whose member `member` is the entry e (for the expired callback). */
#define PN_TQ_OWNER(e, type, member) ((type *)(void *)((char *)(e) - offsetof(type, member)))

typedef struct pn_tq pn_tq;
typedef void (*pn_tq_expired_cb)(pn_tq *q, pn_tq_entry *entry, void *udata);

struct pn_tq {
    pn_loop *loop;
    uint64_t timeout_ms;
    pn_tq_entry *head, *tail; /* oldest first */
    uint64_t timer;           /* the loop timer, 0 when none is armed */
    uint64_t next_seq;
    pn_tq_expired_cb expired;
    void *udata;
};

void pn_tq_init(pn_tq *q, pn_loop *loop, uint64_t timeout_ms, pn_tq_expired_cb expired, void *udata);
/* Due timeout_ms from now. 0, or -1 when the loop timer cannot be allocated (not added). */
int pn_tq_add(pn_tq *q, pn_tq_entry *entry);
/* No-op for an entry that is not queued (never added, removed, or already expired). */
void pn_tq_remove(pn_tq *q, pn_tq_entry *entry);
/* Cancel the loop timer; queued entries are dropped without callbacks. */
void pn_tq_close(pn_tq *q);

#endif
