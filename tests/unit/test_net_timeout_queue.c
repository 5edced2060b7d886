/* lib/net/timeout_queue: equal-length deadlines on one loop timer. Expiry in FIFO order,
 * never before the deadline; removed entries never expire; the loop timer is shared (one for
 * 1,000 entries) and is re-armed for what is left after it fires. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/loop.h"
#include "net/timeout_queue.h"

struct item {
    pn_tq_entry tq;
    int id;
    uint64_t added_ms, expired_ms;
};

struct seen {
    int order[2048];
    int n;
    pn_tq *requeue_into; /* when set, expired items are added again once */
    bool requeued;
};

static void on_expired(pn_tq *q, pn_tq_entry *e, void *udata)
{
    struct seen *s = udata;
    struct item *it = PN_TQ_OWNER(e, struct item, tq);
    assert_false(e->linked);
    it->expired_ms = pn_now_ms();
    s->order[s->n++] = it->id;
    if (s->requeue_into && !s->requeued) {
        s->requeued = true;
        assert_int_equal(pn_tq_add(q, e), 0);
    }
}

/* Run the loop until n expiries or the deadline. */
static void run_until_expired(pn_loop *l, struct seen *s, int n, int timeout_ms)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    while (s->n < n) {
        uint64_t now = pn_now_ms();
        assert_true(now < deadline);
        assert_true(pn_loop_run_once(l, (int)(deadline - now)) >= 0);
    }
}

static void test_expire_in_order_never_early(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 30, on_expired, &s);
    struct item it[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
    for (int i = 0; i < 3; i++) {
        it[i].added_ms = pn_now_ms();
        assert_int_equal(pn_tq_add(&q, &it[i].tq), 0);
        assert_true(it[i].tq.linked);
    }
    assert_int_equal(pn_timer_count(l), 1); /* one loop timer for the whole queue */
    run_until_expired(l, &s, 3, 5000);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s.order[i], i);
        assert_true(it[i].expired_ms >= it[i].added_ms + 30);
    }
    assert_null(q.head);
    pn_tq_close(&q);
    pn_loop_free(l);
}

static void test_removed_entries_never_expire(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 20, on_expired, &s);
    struct item it[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pn_tq_add(&q, &it[i].tq), 0);
    pn_tq_remove(&q, &it[0].tq); /* the head */
    pn_tq_remove(&q, &it[2].tq); /* the middle */
    pn_tq_remove(&q, &it[2].tq); /* twice: a no-op */
    assert_false(it[0].tq.linked);
    run_until_expired(l, &s, 2, 5000);
    assert_int_equal(s.order[0], 1);
    assert_int_equal(s.order[1], 3);
    /* nothing more comes: a later timer-only iteration expires nothing */
    assert_int_equal(pn_timer_count(l), 0);
    assert_int_equal(pn_loop_run_once(l, 0), 0);
    assert_int_equal(s.n, 2);
    pn_tq_close(&q);
    pn_loop_free(l);
}

/* The timer armed for an entry that was removed finds nothing due; the later entry is then
 * served by a re-armed timer, still not before its own deadline. */
static void test_timer_rearmed_for_later_entries(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 40, on_expired, &s);
    struct item a = {.id = 0}, b = {.id = 1};
    assert_int_equal(pn_tq_add(&q, &a.tq), 0);
    /* let some time pass before b joins, polling the loop (nothing is due yet) */
    uint64_t start = pn_now_ms();
    while (pn_now_ms() < start + 15)
        assert_int_equal(pn_loop_run_once(l, 5), 0);
    b.added_ms = pn_now_ms();
    assert_int_equal(pn_tq_add(&q, &b.tq), 0);
    pn_tq_remove(&q, &a.tq);
    run_until_expired(l, &s, 1, 5000);
    assert_int_equal(s.order[0], 1);
    assert_true(b.expired_ms >= b.added_ms + 40);
    pn_tq_close(&q);
    pn_loop_free(l);
}

/* An expired entry added again from its callback waits a whole timeout more. */
static void test_requeue_from_callback(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 10, on_expired, &s);
    s.requeue_into = &q;
    struct item it = {.id = 7};
    assert_int_equal(pn_tq_add(&q, &it.tq), 0);
    run_until_expired(l, &s, 1, 5000);
    uint64_t first = it.expired_ms;
    assert_true(it.tq.linked);
    run_until_expired(l, &s, 2, 5000);
    assert_true(it.expired_ms >= first + 10);
    assert_int_equal(s.order[1], 7);
    pn_tq_close(&q);
    pn_loop_free(l);
}

/* Timeout 0 (the broker's reap queue): due on the next pass; what a callback adds waits for
 * the pass after, like a timer added from a timer callback. */
static void test_zero_timeout_callback_adds_wait_a_pass(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 0, on_expired, &s);
    s.requeue_into = &q;
    struct item it = {.id = 3};
    assert_int_equal(pn_tq_add(&q, &it.tq), 0);
    assert_int_equal(s.n, 0); /* never from inside add */
    assert_int_equal(pn_loop_run_once(l, 1000), 1);
    assert_int_equal(s.n, 1);
    assert_true(it.tq.linked); /* added again by its callback, not expired in that pass */
    assert_int_equal(pn_loop_run_once(l, 1000), 1);
    assert_int_equal(s.n, 2);
    pn_tq_close(&q);
    pn_loop_free(l);
}

/* Many entries, one loop timer; close drops them all without callbacks. */
static void test_thousand_entries_one_timer_close_drops(void **state)
{
    (void)state;
    pn_loop *l = pn_loop_new(16);
    struct seen s = {0};
    pn_tq q;
    pn_tq_init(&q, l, 60000, on_expired, &s);
    struct item *it = calloc(1000, sizeof(*it));
    assert_non_null(it);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pn_tq_add(&q, &it[i].tq), 0);
    assert_int_equal(pn_timer_count(l), 1);
    for (int i = 0; i < 1000; i += 2)
        pn_tq_remove(&q, &it[i].tq);
    pn_tq_close(&q);
    assert_int_equal(pn_timer_count(l), 0);
    assert_null(q.head);
    assert_int_equal(pn_loop_run_once(l, 0), 0);
    assert_int_equal(s.n, 0);
    free(it);
    pn_loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expire_in_order_never_early),
        cmocka_unit_test(test_removed_entries_never_expire),
        cmocka_unit_test(test_timer_rearmed_for_later_entries),
        cmocka_unit_test(test_requeue_from_callback),
        cmocka_unit_test(test_zero_timeout_callback_adds_wait_a_pass),
        cmocka_unit_test(test_thousand_entries_one_timer_close_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
