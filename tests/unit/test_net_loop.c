/* lib/net/loop: fd readiness, timers (order, cancel, 10,000 of them), stale events after
 * unwatch, signals through signalfd. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/loop.h"
#include "test_net_helpers.h"

/* Run iterations until *flag or the deadline. */
static bool run_until(pn_loop *l, const bool *flag, int timeout_ms)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    while (!*flag) {
        uint64_t now = pn_now_ms();
        if (now >= deadline)
            return false;
        assert_true(pn_loop_run_once(l, (int)(deadline - now)) >= 0);
    }
    return true;
}

struct fd_seen {
    int calls;
    int events;
    bool done;
};

static void on_fd(pn_loop *l, int fd, int events, void *udata)
{
    (void)l;
    (void)fd;
    struct fd_seen *s = udata;
    s->calls++;
    s->events |= events;
    s->done = true;
}

static void test_readable_after_peer_writes(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    pn_loop *l = pn_loop_new(16);
    assert_non_null(l);
    struct fd_seen s = {0};
    assert_int_equal(pn_loop_watch(l, sv[0], PN_READABLE, on_fd, &s), 0);
    assert_int_equal(pn_loop_interest(l, sv[0]), PN_READABLE);
    /* nothing to read yet: a zero-wait iteration runs no callback */
    assert_int_equal(pn_loop_run_once(l, 0), 0);
    assert_int_equal(s.calls, 0);
    assert_int_equal(write(sv[1], "x", 1), 1);
    assert_true(run_until(l, &s.done, WAIT_MS));
    assert_true(s.events & PN_READABLE);
    assert_false(s.events & PN_WRITABLE);
    /* watching twice is refused; modify switches interest to writable */
    assert_int_equal(pn_loop_watch(l, sv[0], PN_READABLE, on_fd, &s), -1);
    assert_int_equal(errno, EEXIST);
    char c;
    assert_int_equal(read(sv[0], &c, 1), 1);
    s = (struct fd_seen){0};
    assert_int_equal(pn_loop_modify(l, sv[0], PN_WRITABLE), 0);
    assert_true(run_until(l, &s.done, WAIT_MS));
    assert_int_equal(s.events & (PN_READABLE | PN_WRITABLE), PN_WRITABLE);
    assert_int_equal(pn_loop_unwatch(l, sv[0]), 0);
    assert_int_equal(pn_loop_unwatch(l, sv[0]), -1);
    assert_int_equal(pn_loop_modify(l, sv[0], PN_READABLE), -1);
    pn_loop_free(l);
    close(sv[0]);
    close(sv[1]);
}

static void test_hangup_reported_with_readable(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    pn_loop *l = pn_loop_new(4);
    struct fd_seen s = {0};
    assert_int_equal(pn_loop_watch(l, sv[0], PN_READABLE, on_fd, &s), 0);
    close(sv[1]);
    assert_true(run_until(l, &s.done, WAIT_MS));
    assert_true(s.events & PN_READABLE);
    assert_true(s.events & PN_HUP);
    pn_loop_free(l);
    close(sv[0]);
}

/* Two ready fds; the first callback unwatches and closes the second, then a new fd takes
 * the same number: the old event must not reach the new watcher. */
struct stale_ctx {
    int a, b;
    int calls_a, calls_b, calls_new;
    int sp_new[2];
};

static void on_new(pn_loop *l, int fd, int events, void *udata)
{
    (void)l;
    (void)fd;
    (void)events;
    ((struct stale_ctx *)udata)->calls_new++;
}

static void on_pair(pn_loop *l, int fd, int events, void *udata)
{
    (void)events;
    struct stale_ctx *c = udata;
    int other = fd == c->a ? c->b : c->a;
    if (fd == c->a)
        c->calls_a++;
    else
        c->calls_b++;
    if (c->calls_a + c->calls_b == 1) {
        pn_loop_unwatch(l, other);
        close(other);
        /* reuse the number: socketpair hands out the lowest free fds */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c->sp_new), 0);
        int reused = c->sp_new[0] == other ? c->sp_new[0] : c->sp_new[1] == other ? c->sp_new[1] : -1;
        assert_true(reused >= 0);
        /* watch for writable: always ready, so a stale event would be visible at once */
        assert_int_equal(pn_loop_watch(l, reused, 0, on_new, c), 0);
        if (fd == c->a)
            c->b = -1;
        else
            c->a = -1;
    }
}

static void test_event_for_unwatched_fd_not_delivered(void **state)
{
    (void)state;
    int p1[2], p2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p1), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p2), 0);
    struct stale_ctx c = {.a = p1[0], .b = p2[0]};
    pn_loop *l = pn_loop_new(8);
    assert_int_equal(pn_loop_watch(l, c.a, PN_READABLE, on_pair, &c), 0);
    assert_int_equal(pn_loop_watch(l, c.b, PN_READABLE, on_pair, &c), 0);
    assert_int_equal(write(p1[1], "x", 1), 1);
    assert_int_equal(write(p2[1], "y", 1), 1);
    /* both are ready before the wait: one epoll_wait returns both events */
    assert_int_equal(pn_loop_run_once(l, WAIT_MS), 1);
    assert_int_equal(c.calls_a + c.calls_b, 1);
    assert_int_equal(c.calls_new, 0);
    pn_loop_free(l);
    for (int i = 0; i < 2; i++) {
        close(c.sp_new[i]);
    }
    close(c.a >= 0 ? c.a : c.b);
    close(p1[1]);
    close(p2[1]);
}

/* ---- pn_loop_forget ---- */

/* Is fd registered in any epoll set of this process? Reads the "tfd:" lines of
 * /proc/self/fdinfo/<epfd> for every eventpoll fd (the loop keeps its epfd private). */
static bool in_some_epoll_set(int fd)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        char link[300], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, "anon_inode:[eventpoll]") != 0)
            continue;
        char info[300], line[256];
        snprintf(info, sizeof info, "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(info, "r");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f)) {
            int tfd;
            if (sscanf(line, "tfd: %d", &tfd) == 1 && tfd == fd)
                found = true;
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

static void test_forget_makes_no_epoll_del_and_close_removes_the_fd(void **state)
{
    (void)state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    pn_loop *l = pn_loop_new(8);
    struct fd_seen seen = {0};
    assert_int_equal(pn_loop_watch(l, sp[0], PN_READABLE, on_fd, &seen), 0);
    assert_true(in_some_epoll_set(sp[0]));
    assert_int_equal(pn_loop_forget(l, sp[0]), 0);
    assert_int_equal(pn_loop_interest(l, sp[0]), -1);
    assert_true(in_some_epoll_set(sp[0])); /* no EPOLL_CTL_DEL was made */
    /* still registered and readable: the loop wakes but calls nobody */
    assert_int_equal(write(sp[1], "x", 1), 1);
    assert_int_equal(pn_loop_run_once(l, 0), 0);
    assert_int_equal(seen.calls, 0);
    close(sp[0]); /* the only reference: the kernel drops the registration */
    assert_false(in_some_epoll_set(sp[0]));
    errno = 0;
    assert_int_equal(pn_loop_forget(l, sp[0]), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(pn_loop_forget(l, -1), -1);
    pn_loop_free(l);
    close(sp[1]);
}

/* Why loop.h says "no dup'd copies": the registration belongs to the open file, so it
 * outlives close() while a duplicate is open; pn_loop_unwatch is needed then. */
static void test_forget_with_dup_open_leaves_registration(void **state)
{
    (void)state;
    int sp[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp), 0);
    pn_loop *l = pn_loop_new(8);
    struct fd_seen seen = {0};
    assert_int_equal(pn_loop_watch(l, sp[0], PN_READABLE, on_fd, &seen), 0);
    int copy = dup(sp[0]);
    assert_true(copy >= 0);
    assert_int_equal(pn_loop_forget(l, sp[0]), 0);
    close(sp[0]);
    assert_true(in_some_epoll_set(sp[0]));
    close(copy);
    assert_false(in_some_epoll_set(sp[0]));
    pn_loop_free(l);
    close(sp[1]);
}

/* A callback that forgets and closes another ready fd: that fd's already-fetched event is
 * dropped, as after pn_loop_unwatch. */
static void on_forget_other(pn_loop *l, int fd, int events, void *udata)
{
    (void)events;
    struct stale_ctx *c = udata;
    int other = fd == c->a ? c->b : c->a;
    if (fd == c->a)
        c->calls_a++;
    else
        c->calls_b++;
    if (c->calls_a + c->calls_b == 1) {
        assert_int_equal(pn_loop_forget(l, other), 0);
        close(other);
        if (fd == c->a)
            c->b = -1;
        else
            c->a = -1;
    }
}

static void test_event_for_forgotten_fd_not_delivered(void **state)
{
    (void)state;
    int p1[2], p2[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p1), 0);
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p2), 0);
    struct stale_ctx c = {.a = p1[0], .b = p2[0]};
    pn_loop *l = pn_loop_new(8);
    assert_int_equal(pn_loop_watch(l, c.a, PN_READABLE, on_forget_other, &c), 0);
    assert_int_equal(pn_loop_watch(l, c.b, PN_READABLE, on_forget_other, &c), 0);
    assert_int_equal(write(p1[1], "x", 1), 1);
    assert_int_equal(write(p2[1], "y", 1), 1);
    assert_int_equal(pn_loop_run_once(l, WAIT_MS), 1);
    assert_int_equal(c.calls_a + c.calls_b, 1);
    /* the survivor is still watched and still readable */
    assert_int_equal(pn_loop_run_once(l, WAIT_MS), 1);
    assert_int_equal(c.calls_a + c.calls_b, 2);
    pn_loop_free(l);
    close(c.a >= 0 ? c.a : c.b);
    close(p1[1]);
    close(p2[1]);
}

/* ---- timers ---- */

struct order {
    int seen[64];
    int n;
    uint64_t cancel_me;
    bool stop_after;
};

static void on_timer(pn_loop *l, uint64_t id, void *udata)
{
    struct order *o = udata;
    (void)id;
    if (o->cancel_me)
        assert_true(pn_timer_cancel(l, o->cancel_me));
    o->cancel_me = 0;
    o->seen[o->n++] = (int)(intptr_t)0;
}

struct tagged {
    struct order *o;
    int tag;
};

static void on_tagged(pn_loop *l, uint64_t id, void *udata)
{
    struct tagged *t = udata;
    (void)id;
    t->o->seen[t->o->n++] = t->tag;
    if (t->o->stop_after && t->o->n == 4)
        pn_loop_stop(l);
}

static void test_timers_fire_in_deadline_then_insertion_order(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(4);
    struct order o = {.stop_after = true};
    struct tagged t[4] = {{&o, 1}, {&o, 2}, {&o, 3}, {&o, 4}};
    /* deadlines 30, 0, 30, 10 ms: expect 2, 4, then 1 and 3 in insertion order */
    uint64_t start = pn_now_ms(); /* before adding: deadlines are measured from the add */
    uint64_t id1 = pn_timer_add(l, 30, on_tagged, &t[0]);
    pn_timer_add(l, 0, on_tagged, &t[1]);
    pn_timer_add(l, 30, on_tagged, &t[2]);
    pn_timer_add(l, 10, on_tagged, &t[3]);
    assert_true(id1 != 0);
    assert_int_equal(pn_timer_count(l), 4);
    assert_int_equal(pn_loop_run(l), 0); /* stops after the 4th */
    assert_true(pn_now_ms() - start >= 30); /* the last two cannot fire before their deadline */
    assert_int_equal(o.n, 4);
    assert_int_equal(o.seen[0], 2);
    assert_int_equal(o.seen[1], 4);
    assert_int_equal(o.seen[2], 1);
    assert_int_equal(o.seen[3], 3);
    assert_int_equal(pn_timer_count(l), 0);
    /* a fired id cannot be cancelled */
    assert_false(pn_timer_cancel(l, id1));
    assert_false(pn_timer_cancel(l, 0));
    assert_false(pn_timer_cancel(l, 0xffffffff00000005ull));
    pn_loop_free(l);
}

static void test_cancelled_timer_never_fires(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(4);
    struct order o = {0};
    struct tagged a = {&o, 1}, b = {&o, 2};
    uint64_t ida = pn_timer_add(l, 0, on_tagged, &a);
    uint64_t idb = pn_timer_add(l, 1, on_tagged, &b);
    assert_true(pn_timer_cancel(l, ida));
    assert_false(pn_timer_cancel(l, ida)); /* twice: already gone */
    while (o.n < 1)
        assert_true(pn_loop_run_once(l, WAIT_MS) >= 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.seen[0], 2);
    assert_false(pn_timer_cancel(l, idb));
    /* a new timer reuses the slot but gets a different id */
    uint64_t idc = pn_timer_add(l, 1000, on_tagged, &a);
    assert_true(idc != ida && idc != idb);
    assert_false(pn_timer_cancel(l, ida));
    assert_true(pn_timer_cancel(l, idc));
    pn_loop_free(l);
}

static void test_timer_callback_cancels_another_due_timer(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(4);
    struct order o = {0};
    struct tagged later = {&o, 7};
    pn_timer_add(l, 0, on_timer, &o);
    o.cancel_me = pn_timer_add(l, 0, on_tagged, &later); /* due in the same iteration */
    uint64_t deadline = pn_now_ms() + WAIT_MS;
    while (o.n < 1 && pn_now_ms() < deadline)
        pn_loop_run_once(l, 10);
    assert_int_equal(pn_loop_run_once(l, 0), 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.seen[0], 0);
    pn_loop_free(l);
}

/* A timer added with 0 ms from a timer callback waits for the next iteration. */
static void rearm(pn_loop *l, uint64_t id, void *udata)
{
    (void)id;
    int *count = udata;
    if (++*count < 1000)
        pn_timer_add(l, 0, rearm, udata);
}

static void test_zero_timer_added_in_callback_runs_next_iteration(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(4);
    int count = 0;
    pn_timer_add(l, 0, rearm, &count);
    assert_int_equal(pn_loop_run_once(l, 0), 1);
    assert_int_equal(count, 1);
    assert_int_equal(pn_loop_run_once(l, 0), 1);
    assert_int_equal(count, 2);
    pn_loop_free(l);
}

struct many {
    uint64_t last_when;
    int fired;
    bool order_ok;
};

#define UNKNOWN_DEADLINE UINT64_MAX

struct keyed {
    struct many *m;
    uint64_t key;
};

static void on_keyed(pn_loop *l, uint64_t id, void *udata)
{
    (void)l;
    (void)id;
    struct keyed *k = udata;
    if (k->key != UNKNOWN_DEADLINE) {
        if (k->key < k->m->last_when)
            k->m->order_ok = false;
        k->m->last_when = k->key;
    }
    k->m->fired++;
}

static void test_ten_thousand_timers_with_cancels(void **state)
{
    (void)state;
    enum { N = 10000 };
    pn_loop *l = pn_loop_new(4);
    struct many m = {.order_ok = true};
    struct keyed *keys = calloc(N, sizeof *keys);
    uint64_t *ids = calloc(N, sizeof *ids);
    srand(42);
    for (int i = 0; i < N; i++) {
        uint64_t ms = (uint64_t)(rand() % 40);
        uint64_t before = pn_now_ms();
        ids[i] = pn_timer_add(l, ms, on_keyed, &keys[i]);
        /* the absolute deadline is known exactly when the clock did not tick meanwhile */
        keys[i] = (struct keyed){&m, pn_now_ms() == before ? before + ms : UNKNOWN_DEADLINE};
        assert_true(ids[i] != 0);
    }
    assert_int_equal(pn_timer_count(l), N);
    /* cancel every third: 3334 of them */
    int cancelled = 0;
    for (int i = 0; i < N; i += 3) {
        assert_true(pn_timer_cancel(l, ids[i]));
        cancelled++;
    }
    assert_int_equal(pn_timer_count(l), N - cancelled);
    uint64_t deadline = pn_now_ms() + WAIT_MS;
    while (pn_timer_count(l) > 0 && pn_now_ms() < deadline)
        assert_true(pn_loop_run_once(l, 100) >= 0);
    assert_int_equal(m.fired, N - cancelled);
    assert_true(m.order_ok); /* never an earlier deadline after a later one */
    free(keys);
    free(ids);
    pn_loop_free(l);
}

/* ---- signals ---- */

struct sigseen {
    int signo;
    bool done;
    pid_t reaped;
    int status;
};

static void on_sig(pn_loop *l, int signo, void *udata)
{
    (void)l;
    struct sigseen *s = udata;
    s->signo = signo;
    if (signo == SIGCHLD) {
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
            s->reaped = p;
            s->status = st;
        }
        if (s->reaped == 0)
            return;
    }
    s->done = true;
}

static void test_sigterm_and_sigchld_through_the_loop(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(4);
    struct sigseen term = {0}, chld = {0};
    assert_int_equal(pn_loop_on_signal(l, SIGTERM, on_sig, &term), 0);
    assert_int_equal(pn_loop_on_signal(l, SIGCHLD, on_sig, &chld), 0);
    assert_int_equal(kill(getpid(), SIGTERM), 0); /* blocked: queued for the signalfd */
    assert_true(run_until(l, &term.done, WAIT_MS));
    assert_int_equal(term.signo, SIGTERM);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(7);
    assert_true(run_until(l, &chld.done, WAIT_MS));
    assert_int_equal(chld.reaped, child);
    assert_true(WIFEXITED(chld.status));
    assert_int_equal(WEXITSTATUS(chld.status), 7);
    pn_loop_free(l);
    /* the mask is restored: SIGTERM is deliverable again */
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    assert_false(sigismember(&cur, SIGTERM));
    assert_false(sigismember(&cur, SIGCHLD));
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(pn_loop_new(0));
    pn_loop *l = pn_loop_new(1);
    assert_int_equal(pn_loop_watch(l, -1, PN_READABLE, on_fd, NULL), -1);
    assert_int_equal(pn_loop_watch(l, 9999, PN_READABLE, on_fd, NULL), -1); /* not open */
    assert_int_equal(pn_loop_interest(l, 9999), -1);
    assert_int_equal(pn_timer_add(l, 1, NULL, NULL), 0);
    assert_int_equal(pn_loop_on_signal(l, 0, on_sig, NULL), -1);
    pn_loop_free(l);
    pn_loop_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readable_after_peer_writes),
        cmocka_unit_test(test_hangup_reported_with_readable),
        cmocka_unit_test(test_event_for_unwatched_fd_not_delivered),
        cmocka_unit_test(test_forget_makes_no_epoll_del_and_close_removes_the_fd),
        cmocka_unit_test(test_forget_with_dup_open_leaves_registration),
        cmocka_unit_test(test_event_for_forgotten_fd_not_delivered),
        cmocka_unit_test(test_timers_fire_in_deadline_then_insertion_order),
        cmocka_unit_test(test_cancelled_timer_never_fires),
        cmocka_unit_test(test_timer_callback_cancels_another_due_timer),
        cmocka_unit_test(test_zero_timer_added_in_callback_runs_next_iteration),
        cmocka_unit_test(test_ten_thousand_timers_with_cancels),
        cmocka_unit_test(test_sigterm_and_sigchld_through_the_loop),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
