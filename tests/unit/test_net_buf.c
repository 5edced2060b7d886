/* lib/net/buf: the bounded buffer never grows past its capacity and keeps unread bytes
 * contiguous. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/buf.h"

static void test_append_within_bound_then_refuse_overflow(void **state)
{
    (void)state;
    pn_buf b;
    assert_int_equal(pn_buf_init(&b, 8), 0);
    assert_true(pn_buf_append(&b, "abcde", 5));
    assert_int_equal(pn_buf_len(&b), 5);
    assert_int_equal(pn_buf_space(&b), 3);
    /* 4 bytes do not fit in 3: refused whole, nothing written */
    assert_false(pn_buf_append(&b, "WXYZ", 4));
    assert_int_equal(pn_buf_len(&b), 5);
    assert_memory_equal(pn_buf_peek(&b), "abcde", 5);
    assert_true(pn_buf_append(&b, "fgh", 3));
    assert_true(pn_buf_full(&b));
    assert_false(pn_buf_append(&b, "i", 1));
    assert_true(pn_buf_append(&b, "", 0));
    assert_int_equal(pn_buf_cap(&b), 8);
    pn_buf_free(&b);
}

static void test_consume_then_append_compacts_keeping_contiguous(void **state)
{
    (void)state;
    pn_buf b;
    assert_int_equal(pn_buf_init(&b, 8), 0);
    assert_true(pn_buf_append(&b, "12345678", 8));
    pn_buf_consume(&b, 6);
    assert_int_equal(pn_buf_len(&b), 2);
    assert_memory_equal(pn_buf_peek(&b), "78", 2);
    /* space at the tail is 0 before compaction; append must reclaim the consumed front */
    assert_true(pn_buf_append(&b, "abcdef", 6));
    assert_memory_equal(pn_buf_peek(&b), "78abcdef", 8);
    pn_buf_consume(&b, 100); /* clamped */
    assert_true(pn_buf_empty(&b));
    pn_buf_free(&b);
}

static void test_tail_commit_for_direct_reads(void **state)
{
    (void)state;
    pn_buf b;
    size_t space;
    assert_int_equal(pn_buf_init(&b, 6), 0);
    assert_true(pn_buf_append(&b, "xyz", 3));
    pn_buf_consume(&b, 1);
    uint8_t *tail = pn_buf_tail(&b, &space);
    assert_int_equal(space, 4);
    memcpy(tail, "1234", 4);
    pn_buf_commit(&b, 10); /* over-commit is clamped to the space */
    assert_int_equal(pn_buf_len(&b), 6);
    assert_memory_equal(pn_buf_peek(&b), "yz1234", 6);
    tail = pn_buf_tail(&b, &space);
    assert_int_equal(space, 0);
    char out[4];
    assert_int_equal(pn_buf_take(&b, out, sizeof out), 4);
    assert_memory_equal(out, "yz12", 4);
    assert_int_equal(pn_buf_len(&b), 2);
    pn_buf_clear(&b);
    assert_true(pn_buf_empty(&b));
    pn_buf_free(&b);
    pn_buf_free(&b); /* freeing twice is harmless */
}

static void test_zero_capacity_refused(void **state)
{
    (void)state;
    pn_buf b;
    assert_int_equal(pn_buf_init(&b, 0), -1);
    pn_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_within_bound_then_refuse_overflow),
        cmocka_unit_test(test_consume_then_append_compacts_keeping_contiguous),
        cmocka_unit_test(test_tail_commit_for_direct_reads),
        cmocka_unit_test(test_zero_capacity_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
