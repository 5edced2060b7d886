/* broker/freelist: recycled blocks of one size (see the header for why). */
#include "freelist.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define KEEP_NOTHING 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEP_NOTHING 1
#endif
#endif

void *ppb_freelist_get(ppb_freelist *f)
{
    void *p = f->head;
    if (!p)
        return calloc(1, f->size);
    memcpy(&f->head, p, sizeof(void *));
    f->count--;
    memset(p, 0, f->size);
    return p;
}

void ppb_freelist_put(ppb_freelist *f, void *p)
{
    if (!p)
        return;
#ifdef KEEP_NOTHING
    (void)f;
    free(p);
#else
    if (f->count >= f->max) {
        free(p);
        return;
    }
    memcpy(p, &f->head, sizeof(void *));
    f->head = p;
    f->count++;
#endif
}

void ppb_freelist_drain(ppb_freelist *f)
{
    while (f->head) {
        void *p = f->head;
        memcpy(&f->head, p, sizeof(void *));
        free(p);
    }
    f->count = 0;
}
