/* broker/freelist: recycled blocks of one size for the objects every connection makes and
 * frees (the connection, the engine's client and session).
 *
 * glibc keeps at most 7 freed blocks per size in its per-thread cache; with dozens of
 * connections opening and closing at once the rest go through its general bins, which cost
 * more than everything else the broker does for a connect cycle but the system calls. A
 * bounded list of freed blocks makes a get or a put a few instructions.
 *
 * Under AddressSanitizer nothing is kept (every get is calloc, every put is free), so a use
 * after free is still reported where it happens. */
#ifndef PPB_FREELIST_H
#define PPB_FREELIST_H

#include <stddef.h>

typedef struct ppb_freelist {
    void *head;     /* freed blocks, linked through their first bytes */
    size_t size;    /* block size (at least a pointer) */
    unsigned count; /* blocks held */
    unsigned max;   /* at most this many held; more are given back to malloc */
} ppb_freelist;

#define PPB_FREELIST_INIT(type, max_blocks) {NULL, sizeof(type) < sizeof(void *) ? sizeof(void *) : sizeof(type), 0, (max_blocks)}

/* A zeroed block of f->size bytes, or NULL when out of memory. */
void *ppb_freelist_get(ppb_freelist *f);
/* Give a block from ppb_freelist_get back (NULL is ignored). */
void ppb_freelist_put(ppb_freelist *f, void *block);
/* Free every held block (at shutdown). */
void ppb_freelist_drain(ppb_freelist *f);

#endif
