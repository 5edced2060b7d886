/* lib/net/loop.h: a tiny single-threaded event loop (epoll + timer heap + signalfd).
 *
 * In the spirit of Redis ae.c: register fds with a callback, add one-shot timers, call
 * pn_loop_run() (or pn_loop_run_once() when the caller owns the outer loop, as the Lua
 * runner does to resume coroutines). Callbacks may watch/unwatch/close any fd and add or
 * cancel any timer, including their own; an event already fetched for an fd that was
 * unwatched (or closed and reused) in the same iteration is not delivered.
 *
 * Timers live in a binary heap: add and cancel are O(log n), so one timeout per connection
 * for 10,000 connections is cheap. Timers due at the same millisecond fire in the order
 * they were added. Timer ids are never 0 and never reused within a loop.
 *
 * Signals: pn_loop_on_signal() blocks the signal in the calling thread and delivers it via
 * signalfd as an ordinary event. Blocked masks are inherited across fork/exec, so a program
 * that spawns children must reset the mask in the child (posix_spawnattr_setsigmask with an
 * empty set + POSIX_SPAWN_SETSIGMASK; ts_spawn does this). SIGCHLD coalesces: on each
 * callback reap with waitpid(-1, ..., WNOHANG) until it returns 0 or -1.
 */
#ifndef PN_LOOP_H
#define PN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pn_loop pn_loop;

/* Event bits. Ask for READABLE and/or WRITABLE; HUP and ERROR are only ever reported
 * (together with READABLE/WRITABLE for whichever you asked, so a read() sees the EOF or the
 * error and a pending connect() can collect SO_ERROR). PN_HUP is advisory: data sent before
 * the peer's FIN may still be queued, so read until pn_recv() says FIN or RST. */
enum {
    PN_READABLE = 1 << 0,
    PN_WRITABLE = 1 << 1,
    PN_HUP = 1 << 2,   /* peer hung up (EPOLLHUP / EPOLLRDHUP) */
    PN_ERROR = 1 << 3, /* EPOLLERR: pending socket error */
};

typedef void (*pn_fd_cb)(pn_loop *loop, int fd, int events, void *udata);
typedef void (*pn_timer_cb)(pn_loop *loop, uint64_t timer_id, void *udata);
typedef void (*pn_signal_cb)(pn_loop *loop, int signo, void *udata);

/* Monotonic clock in milliseconds (CLOCK_MONOTONIC); for deadlines, never wall time. */
uint64_t pn_now_ms(void);

/* max_events: how many fd events one epoll_wait may return (e.g. 256). NULL on failure. */
pn_loop *pn_loop_new(int max_events);
/* Closes the epoll and signal fds (not the watched fds), drops pending timers without
 * calling them, and restores the signal mask changed by pn_loop_on_signal. */
void pn_loop_free(pn_loop *loop);

/* Start watching fd (READABLE/WRITABLE bits, may be 0 to only hear HUP/ERROR).
 * 0, or -1 with errno (EEXIST if already watched, EBADF, ...). */
int pn_loop_watch(pn_loop *loop, int fd, int events, pn_fd_cb cb, void *udata);
/* Change the interest of a watched fd, keeping its callback. 0 or -1 (ENOENT). */
int pn_loop_modify(pn_loop *loop, int fd, int events);
/* Stop watching fd. Call it BEFORE close(fd). 0 or -1 (ENOENT). */
int pn_loop_unwatch(pn_loop *loop, int fd);
/* Like pn_loop_unwatch for an fd the caller closes right after: drops the loop's bookkeeping
 * (no further callback, stale events of this iteration dropped) but makes no EPOLL_CTL_DEL
 * system call, because closing an fd's last reference removes it from the epoll set.
 * Safe ONLY when this fd is the sole reference to its open file: no dup()/dup2()/fork()
 * copy and no fd passed over SCM_RIGHTS still open; otherwise the epoll registration
 * outlives close() and keeps reporting events for a number the loop no longer knows (use
 * pn_loop_unwatch then). The caller must close(fd) before the next pn_loop_watch of that
 * number. 0 or -1 (ENOENT). */
int pn_loop_forget(pn_loop *loop, int fd);
/* Current interest of fd, or -1 when not watched. */
int pn_loop_interest(const pn_loop *loop, int fd);

/* One-shot timer firing ms milliseconds from now (0 = on the next iteration).
 * Returns its id (never 0), or 0 on allocation failure. */
uint64_t pn_timer_add(pn_loop *loop, uint64_t ms, pn_timer_cb cb, void *udata);
/* true when the timer was pending and is now cancelled; false for unknown/fired ids. */
bool pn_timer_cancel(pn_loop *loop, uint64_t timer_id);
size_t pn_timer_count(const pn_loop *loop);

/* Deliver signo (SIGTERM, SIGINT, SIGCHLD, ...) to cb through the loop. Blocks it for the
 * calling thread. One callback per signal; calling again replaces it. 0 or -1 with errno. */
int pn_loop_on_signal(pn_loop *loop, int signo, pn_signal_cb cb, void *udata);

/* Wait at most max_wait_ms (-1 = until something happens; 0 = just poll) for fd events and
 * the next due timer, then dispatch: fd events first, then every timer due now (timers
 * added by those callbacks wait for the next iteration). Returns the number of callbacks
 * run (0 on a plain timeout), or -1 with errno on an epoll failure (EINTR is not one). */
int pn_loop_run_once(pn_loop *loop, int max_wait_ms);
/* Iterate until pn_loop_stop(). Returns 0 after a stop, -1 on an epoll failure. */
int pn_loop_run(pn_loop *loop);
/* Make pn_loop_run return after the current iteration (callable from any callback). */
void pn_loop_stop(pn_loop *loop);
bool pn_loop_stopped(const pn_loop *loop);

#endif
