/* Event loop: epoll for fds, a binary min-heap for timers, signalfd for signals.
 * See loop.h for the contract. */
#include "net/loop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

/* One watched fd. gen changes on every watch so an event fetched for an earlier watcher of
 * the same fd number (unwatched, closed and reused within one iteration) is dropped. */
struct watch {
    pn_fd_cb cb;
    void *udata;
    int events;
    uint32_t gen;
    bool active;
};

/* Timer ids are (gen << 32 | slot + 1): the slot finds the timer's heap position in O(1),
 * the generation makes stale ids harmless. */
struct timer_slot {
    pn_timer_cb cb;
    void *udata;
    uint32_t gen;
    uint32_t heap_index; /* valid while pending */
    uint32_t next_free;  /* free-list link while unused */
    bool pending;
};

struct heap_entry {
    uint64_t when; /* pn_now_ms() deadline */
    uint64_t seq;  /* insertion order breaks ties */
    uint32_t slot;
};

#define NO_SLOT UINT32_MAX

struct pn_loop {
    int epfd;
    struct epoll_event *events;
    int max_events;
    bool stop;

    struct watch *watches;
    size_t nwatches;

    struct heap_entry *heap;
    size_t heap_len, heap_cap;
    struct timer_slot *slots;
    size_t slots_len, slots_cap;
    uint32_t free_slot;
    uint64_t seq;

    int sigfd;
    sigset_t sigmask;      /* signals routed to sigfd */
    sigset_t blocked_here; /* signals we blocked that were unblocked before */
    struct {
        pn_signal_cb cb;
        void *udata;
    } sig[_NSIG];
};

uint64_t pn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

pn_loop *pn_loop_new(int max_events)
{
    if (max_events <= 0) {
        errno = EINVAL;
        return NULL;
    }
    pn_loop *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->events = calloc((size_t)max_events, sizeof *l->events);
    if (l->epfd < 0 || !l->events) {
        int e = errno;
        if (l->epfd >= 0)
            close(l->epfd);
        free(l->events);
        free(l);
        errno = e;
        return NULL;
    }
    l->max_events = max_events;
    l->free_slot = NO_SLOT;
    l->sigfd = -1;
    sigemptyset(&l->sigmask);
    sigemptyset(&l->blocked_here);
    return l;
}

void pn_loop_free(pn_loop *l)
{
    if (!l)
        return;
    if (l->sigfd >= 0) {
        close(l->sigfd);
        pthread_sigmask(SIG_UNBLOCK, &l->blocked_here, NULL);
    }
    close(l->epfd);
    free(l->events);
    free(l->watches);
    free(l->heap);
    free(l->slots);
    free(l);
}

/* ---- fds ------------------------------------------------------------------------------ */

static uint32_t to_epoll(int events)
{
    uint32_t e = 0;
    if (events & PN_READABLE)
        e |= EPOLLIN | EPOLLRDHUP;
    if (events & PN_WRITABLE)
        e |= EPOLLOUT;
    return e;
}

static int grow_watches(pn_loop *l, int fd)
{
    if ((size_t)fd < l->nwatches)
        return 0;
    size_t n = l->nwatches ? l->nwatches : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct watch *w = realloc(l->watches, n * sizeof *w);
    if (!w)
        return -1;
    memset(w + l->nwatches, 0, (n - l->nwatches) * sizeof *w);
    l->watches = w;
    l->nwatches = n;
    return 0;
}

int pn_loop_watch(pn_loop *l, int fd, int events, pn_fd_cb cb, void *udata)
{
    if (fd < 0 || !cb) {
        errno = EINVAL;
        return -1;
    }
    if (grow_watches(l, fd) < 0)
        return -1;
    struct watch *w = &l->watches[fd];
    uint32_t gen = w->gen + 1;
    struct epoll_event ev = {.events = to_epoll(events), .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd};
    /* If our table says "watched" but epoll accepts the add, the old fd was closed without
     * pn_loop_unwatch (epoll forgot it): the new registration simply replaces it. */
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1;
    w->cb = cb;
    w->udata = udata;
    w->events = events & (PN_READABLE | PN_WRITABLE);
    w->gen = gen;
    w->active = true;
    return 0;
}

int pn_loop_modify(pn_loop *l, int fd, int events)
{
    if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active) {
        errno = ENOENT;
        return -1;
    }
    struct watch *w = &l->watches[fd];
    struct epoll_event ev = {.events = to_epoll(events), .data.u64 = (uint64_t)w->gen << 32 | (uint32_t)fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return -1;
    w->events = events & (PN_READABLE | PN_WRITABLE);
    return 0;
}

int pn_loop_unwatch(pn_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active) {
        errno = ENOENT;
        return -1;
    }
    l->watches[fd].active = false;
    l->watches[fd].cb = NULL;
    /* EBADF/ENOENT here mean the fd was already closed: forgetting it is all we need. */
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    return 0;
}

int pn_loop_forget(pn_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active) {
        errno = ENOENT;
        return -1;
    }
    /* No EPOLL_CTL_DEL: the caller's close() of the only reference removes it (loop.h). */
    l->watches[fd].active = false;
    l->watches[fd].cb = NULL;
    return 0;
}

int pn_loop_interest(const pn_loop *l, int fd)
{
    if (fd < 0 || (size_t)fd >= l->nwatches || !l->watches[fd].active)
        return -1;
    return l->watches[fd].events;
}

/* ---- timers --------------------------------------------------------------------------- */

static bool heap_less(const struct heap_entry *a, const struct heap_entry *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_place(pn_loop *l, size_t i, struct heap_entry e)
{
    l->heap[i] = e;
    l->slots[e.slot].heap_index = (uint32_t)i;
}

static void sift_up(pn_loop *l, size_t i)
{
    struct heap_entry e = l->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_less(&e, &l->heap[parent]))
            break;
        heap_place(l, i, l->heap[parent]);
        i = parent;
    }
    heap_place(l, i, e);
}

static void sift_down(pn_loop *l, size_t i)
{
    struct heap_entry e = l->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= l->heap_len)
            break;
        if (child + 1 < l->heap_len && heap_less(&l->heap[child + 1], &l->heap[child]))
            child++;
        if (!heap_less(&l->heap[child], &e))
            break;
        heap_place(l, i, l->heap[child]);
        i = child;
    }
    heap_place(l, i, e);
}

/* Remove heap entry i and free its slot. */
static void heap_remove(pn_loop *l, size_t i)
{
    uint32_t slot = l->heap[i].slot;
    struct timer_slot *s = &l->slots[slot];
    s->pending = false;
    s->next_free = l->free_slot;
    l->free_slot = slot;
    l->heap_len--;
    if (i == l->heap_len)
        return;
    heap_place(l, i, l->heap[l->heap_len]);
    if (i > 0 && heap_less(&l->heap[i], &l->heap[(i - 1) / 2]))
        sift_up(l, i);
    else
        sift_down(l, i);
}

static int grow_timers(pn_loop *l)
{
    if (l->heap_len == l->heap_cap) {
        size_t n = l->heap_cap ? l->heap_cap * 2 : 64;
        struct heap_entry *h = realloc(l->heap, n * sizeof *h);
        if (!h)
            return -1;
        l->heap = h;
        l->heap_cap = n;
    }
    if (l->free_slot == NO_SLOT && l->slots_len == l->slots_cap) {
        size_t n = l->slots_cap ? l->slots_cap * 2 : 64;
        if (n >= NO_SLOT)
            return -1;
        struct timer_slot *s = realloc(l->slots, n * sizeof *s);
        if (!s)
            return -1;
        l->slots = s;
        l->slots_cap = n;
    }
    return 0;
}

uint64_t pn_timer_add(pn_loop *l, uint64_t ms, pn_timer_cb cb, void *udata)
{
    if (!cb || grow_timers(l) < 0)
        return 0;
    uint32_t slot;
    if (l->free_slot != NO_SLOT) {
        slot = l->free_slot;
        l->free_slot = l->slots[slot].next_free;
    } else {
        slot = (uint32_t)l->slots_len++;
        l->slots[slot].gen = 0;
    }
    struct timer_slot *s = &l->slots[slot];
    s->gen++;
    if (s->gen == 0)
        s->gen = 1;
    s->cb = cb;
    s->udata = udata;
    s->pending = true;
    uint64_t now = pn_now_ms();
    struct heap_entry e = {.when = ms > UINT64_MAX - now ? UINT64_MAX : now + ms, .seq = l->seq++, .slot = slot};
    l->heap[l->heap_len++] = e;
    sift_up(l, l->heap_len - 1);
    return (uint64_t)s->gen << 32 | ((uint64_t)slot + 1);
}

bool pn_timer_cancel(pn_loop *l, uint64_t id)
{
    uint64_t slot1 = id & 0xffffffffu;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot1 == 0 || slot1 > l->slots_len)
        return false;
    struct timer_slot *s = &l->slots[slot1 - 1];
    if (!s->pending || s->gen != gen)
        return false;
    heap_remove(l, s->heap_index);
    return true;
}

size_t pn_timer_count(const pn_loop *l)
{
    return l->heap_len;
}

/* Fire every timer due now that existed before this call started. */
static int run_timers(pn_loop *l)
{
    int fired = 0;
    uint64_t now = pn_now_ms();
    uint64_t seq_limit = l->seq;
    while (l->heap_len > 0 && l->heap[0].when <= now && l->heap[0].seq < seq_limit) {
        uint32_t slot = l->heap[0].slot;
        struct timer_slot *s = &l->slots[slot];
        pn_timer_cb cb = s->cb;
        void *udata = s->udata;
        uint64_t id = (uint64_t)s->gen << 32 | ((uint64_t)slot + 1);
        heap_remove(l, 0);
        cb(l, id, udata);
        fired++;
    }
    return fired;
}

/* ---- signals -------------------------------------------------------------------------- */

static void on_signalfd(pn_loop *l, int fd, int events, void *udata)
{
    (void)events;
    (void)udata;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < _NSIG && l->sig[signo].cb)
            l->sig[signo].cb(l, signo, l->sig[signo].udata);
    }
}

int pn_loop_on_signal(pn_loop *l, int signo, pn_signal_cb cb, void *udata)
{
    if (signo <= 0 || signo >= _NSIG || !cb) {
        errno = EINVAL;
        return -1;
    }
    sigset_t one, old;
    sigemptyset(&one);
    sigaddset(&one, signo);
    if (pthread_sigmask(SIG_BLOCK, &one, &old) != 0)
        return -1;
    if (!sigismember(&old, signo) && !sigismember(&l->sigmask, signo))
        sigaddset(&l->blocked_here, signo);
    sigaddset(&l->sigmask, signo);
    int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (l->sigfd < 0) {
        l->sigfd = fd;
        if (pn_loop_watch(l, fd, PN_READABLE, on_signalfd, NULL) < 0)
            return -1;
    }
    l->sig[signo].cb = cb;
    l->sig[signo].udata = udata;
    return 0;
}

/* ---- running -------------------------------------------------------------------------- */

static int wait_budget(const pn_loop *l, int max_wait_ms)
{
    if (l->heap_len == 0)
        return max_wait_ms;
    uint64_t now = pn_now_ms();
    uint64_t due = l->heap[0].when;
    uint64_t delta = due > now ? due - now : 0;
    if (delta > INT_MAX)
        delta = INT_MAX;
    if (max_wait_ms < 0 || (uint64_t)max_wait_ms > delta)
        return (int)delta;
    return max_wait_ms;
}

static int to_pn(uint32_t e, int interest)
{
    int ev = 0;
    if (e & EPOLLIN)
        ev |= PN_READABLE;
    if (e & EPOLLOUT)
        ev |= PN_WRITABLE;
    if (e & (EPOLLHUP | EPOLLRDHUP))
        ev |= PN_HUP;
    if (e & EPOLLERR)
        ev |= PN_ERROR;
    /* Hang-ups and errors wake whoever is waiting, so their read/write sees the cause. */
    if (e & (EPOLLHUP | EPOLLERR))
        ev |= interest;
    return ev & (interest | PN_HUP | PN_ERROR);
}

int pn_loop_run_once(pn_loop *l, int max_wait_ms)
{
    int n = epoll_wait(l->epfd, l->events, l->max_events, wait_budget(l, max_wait_ms));
    if (n < 0) {
        if (errno != EINTR)
            return -1;
        n = 0;
    }
    int ran = 0;
    for (int i = 0; i < n; i++) {
        uint64_t data = l->events[i].data.u64;
        int fd = (int)(uint32_t)data;
        uint32_t gen = (uint32_t)(data >> 32);
        if ((size_t)fd >= l->nwatches)
            continue;
        struct watch *w = &l->watches[fd];
        if (!w->active || w->gen != gen)
            continue; /* unwatched (or replaced) by an earlier callback in this batch */
        int ev = to_pn(l->events[i].events, w->events);
        if (ev == 0)
            continue;
        w->cb(l, fd, ev, w->udata);
        ran++;
    }
    return ran + run_timers(l);
}

int pn_loop_run(pn_loop *l)
{
    l->stop = false;
    while (!l->stop)
        if (pn_loop_run_once(l, -1) < 0)
            return -1;
    return 0;
}

void pn_loop_stop(pn_loop *l)
{
    l->stop = true;
}

bool pn_loop_stopped(const pn_loop *l)
{
    return l->stop;
}
