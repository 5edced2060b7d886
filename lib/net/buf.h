/* lib/net/buf.h: a bounded byte buffer for per-connection read and write queues.
 *
 * The capacity is fixed when the buffer is made and never grows: appending more than fits
 * is refused whole (nothing is written), so a peer cannot make us allocate. Unread bytes are
 * always contiguous (pn_buf_peek), which is what incremental parsers want; consumed space is
 * reclaimed by moving the unread bytes to the front when room is needed at the tail.
 */
#ifndef PN_BUF_H
#define PN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pn_buf {
    uint8_t *data;
    size_t cap;   /* the bound */
    size_t start; /* offset of the first unread byte */
    size_t len;   /* unread bytes */
} pn_buf;

/* Allocates cap bytes (cap > 0). 0, or -1 with errno ENOMEM/EINVAL. */
int pn_buf_init(pn_buf *b, size_t cap);
void pn_buf_free(pn_buf *b); /* safe on a zeroed or already freed buffer */

static inline size_t pn_buf_len(const pn_buf *b) { return b->len; }
static inline size_t pn_buf_cap(const pn_buf *b) { return b->cap; }
static inline size_t pn_buf_space(const pn_buf *b) { return b->cap - b->len; }
static inline bool pn_buf_empty(const pn_buf *b) { return b->len == 0; }
static inline bool pn_buf_full(const pn_buf *b) { return b->len == b->cap; }

/* All n bytes or none: false (buffer unchanged) when n > pn_buf_space(). */
bool pn_buf_append(pn_buf *b, const void *p, size_t n);
/* The unread bytes, contiguous (pn_buf_len of them). Valid until the next mutating call. */
static inline const uint8_t *pn_buf_peek(const pn_buf *b) { return b->data + b->start; }
/* Drop n unread bytes from the front (n is clamped to pn_buf_len). */
void pn_buf_consume(pn_buf *b, size_t n);
/* Copy up to cap unread bytes out and consume them; returns the count. */
size_t pn_buf_take(pn_buf *b, void *out, size_t cap);
void pn_buf_clear(pn_buf *b);

/* For reading straight from a socket: the free tail (compacted first) and its size, then
 * pn_buf_commit(n) with the count actually written there (clamped to the space). */
uint8_t *pn_buf_tail(pn_buf *b, size_t *space);
void pn_buf_commit(pn_buf *b, size_t n);

#endif
