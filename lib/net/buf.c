/* Bounded byte buffer: see buf.h. */
#include "net/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int pn_buf_init(pn_buf *b, size_t cap)
{
    memset(b, 0, sizeof *b);
    if (cap == 0) {
        errno = EINVAL;
        return -1;
    }
    b->data = malloc(cap);
    if (!b->data)
        return -1;
    b->cap = cap;
    return 0;
}

void pn_buf_free(pn_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Move unread bytes to the front so the whole free space is one tail. */
static void compact(pn_buf *b)
{
    if (b->start == 0)
        return;
    if (b->len)
        memmove(b->data, b->data + b->start, b->len);
    b->start = 0;
}

bool pn_buf_append(pn_buf *b, const void *p, size_t n)
{
    if (n > b->cap - b->len)
        return false;
    if (n == 0)
        return true;
    if (b->start + b->len + n > b->cap)
        compact(b);
    memcpy(b->data + b->start + b->len, p, n);
    b->len += n;
    return true;
}

void pn_buf_consume(pn_buf *b, size_t n)
{
    if (n >= b->len) {
        b->start = 0;
        b->len = 0;
        return;
    }
    b->start += n;
    b->len -= n;
}

size_t pn_buf_take(pn_buf *b, void *out, size_t cap)
{
    size_t n = cap < b->len ? cap : b->len;
    if (n)
        memcpy(out, b->data + b->start, n);
    pn_buf_consume(b, n);
    return n;
}

void pn_buf_clear(pn_buf *b)
{
    b->start = 0;
    b->len = 0;
}

uint8_t *pn_buf_tail(pn_buf *b, size_t *space)
{
    compact(b);
    *space = b->cap - b->len;
    return b->data + b->len;
}

void pn_buf_commit(pn_buf *b, size_t n)
{
    size_t space = b->cap - b->start - b->len;
    b->len += n < space ? n : space;
}
