/* The outcome classifier (lua/outcome.c): how a read ended (data, FIN, RST, timeout,
 * error) and whether a close meets an expectation, first on values, then on real loopback
 * sockets closed cleanly, reset, or left open. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/addr.h"
#include "net/sock.h"
#include "outcome.h"

static void test_io_results_map_to_end_kinds(void **state)
{
    (void)state;
    assert_int_equal(pc_end_from_io(PN_IO_OK, 0), PC_END_DATA);
    assert_int_equal(pc_end_from_io(PN_IO_AGAIN, EAGAIN), PC_END_NONE);
    assert_int_equal(pc_end_from_io(PN_IO_FIN, 0), PC_END_FIN);
    assert_int_equal(pc_end_from_io(PN_IO_RST, ECONNRESET), PC_END_RST);
    assert_int_equal(pc_end_from_io(PN_IO_ERROR, ECONNRESET), PC_END_RST);
    assert_int_equal(pc_end_from_io(PN_IO_ERROR, EPIPE), PC_END_RST);
    assert_int_equal(pc_end_from_io(PN_IO_ERROR, ETIMEDOUT), PC_END_ERROR);
    assert_string_equal(pc_end_name(PC_END_TIMEOUT), "timeout");
    assert_int_equal(pc_end_from_name("rst"), PC_END_RST);
    assert_int_equal(pc_end_from_name("bogus"), -1);
}

static void test_close_judge_accept_sets_and_data_rules(void **state)
{
    (void)state;
    char why[200], exp[120];
    pc_close_expect either = {0, PC_DATA_FORBID};
    pc_observed fin = {PC_END_FIN, 0}, rst = {PC_END_RST, 0}, timeout = {PC_END_TIMEOUT, 0};
    pc_observed fin_after_data = {PC_END_FIN, 4};
    assert_true(pc_close_judge(&either, &fin, why, sizeof why, exp, sizeof exp));
    assert_string_equal(exp, "close (fin or rst) with no data before it");
    assert_true(pc_close_judge(&either, &rst, why, sizeof why, NULL, 0));
    assert_false(pc_close_judge(&either, &timeout, why, sizeof why, NULL, 0));
    assert_non_null(strstr(why, "no close"));
    assert_false(pc_close_judge(&either, &fin_after_data, why, sizeof why, NULL, 0));
    assert_non_null(strstr(why, "data came before the close"));

    pc_close_expect fin_only = {1u << PC_END_FIN, PC_DATA_ALLOW};
    assert_true(pc_close_judge(&fin_only, &fin_after_data, why, sizeof why, NULL, 0));
    assert_false(pc_close_judge(&fin_only, &rst, why, sizeof why, exp, sizeof exp));
    assert_string_equal(exp, "close (fin)");
    assert_non_null(strstr(why, "closed with rst"));

    pc_close_expect need_data = {0, PC_DATA_REQUIRE};
    assert_false(pc_close_judge(&need_data, &fin, why, sizeof why, NULL, 0));
    assert_true(pc_close_judge(&need_data, &fin_after_data, why, sizeof why, NULL, 0));
}

/* A connected pair over loopback: *cli (ours) and *srv (the accepted end). */
static void pair(int *cli, int *srv)
{
    pn_addr any, bound;
    assert_int_equal(pn_addr_parse("127.0.0.1:0", &any), 0);
    char err[200];
    int ls = pn_listen(&any, 4, 0, &bound, err, sizeof err);
    assert_true(ls >= 0);
    bool in_progress;
    *cli = pn_connect(&bound, NULL, &in_progress, err, sizeof err);
    assert_true(*cli >= 0);
    struct pollfd p = {ls, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    *srv = pn_accept(ls, NULL);
    assert_true(*srv >= 0);
    struct pollfd c = {*cli, POLLOUT, 0};
    assert_int_equal(poll(&c, 1, 5000), 1);
    assert_int_equal(pn_connect_result(*cli), 0);
    close(ls);
}

/* Read until something other than data, with a deadline; counts the bytes first. */
static pc_observed observe(int fd, int deadline_ms)
{
    pc_observed obs = {PC_END_NONE, 0};
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, deadline_ms);
        if (r == 0) {
            obs.end = PC_END_TIMEOUT;
            return obs;
        }
        char buf[256];
        size_t n = 0;
        errno = 0;
        pn_io io = pn_recv(fd, buf, sizeof buf, &n);
        pc_end e = pc_end_from_io(io, errno);
        if (e == PC_END_DATA) {
            obs.bytes_before += n;
            continue;
        }
        if (e == PC_END_NONE)
            continue;
        obs.end = e;
        return obs;
    }
}

static void test_R_GEN_11_real_fin_is_a_clean_close(void **state)
{
    (void)state;
    int cli, srv;
    pair(&cli, &srv);
    close(srv);
    pc_observed o = observe(cli, 5000);
    assert_int_equal(o.end, PC_END_FIN);
    assert_int_equal(o.bytes_before, 0);
    close(cli);
}

static void test_R_GEN_11_real_rst_is_a_reset(void **state)
{
    (void)state;
    int cli, srv;
    pair(&cli, &srv);
    pn_close_rst(srv);
    pc_observed o = observe(cli, 5000);
    assert_int_equal(o.end, PC_END_RST);
    close(cli);
}

static void test_R_GEN_11_data_then_fin_fails_a_forbid_expectation(void **state)
{
    (void)state;
    int cli, srv;
    pair(&cli, &srv);
    size_t n;
    assert_int_equal(pn_send(srv, "\x20\x02\x00\x00", 4, &n), PN_IO_OK); /* a CONNACK */
    close(srv);
    pc_observed o = observe(cli, 5000);
    assert_int_equal(o.end, PC_END_FIN);
    assert_int_equal(o.bytes_before, 4);
    pc_close_expect forbid = {0, PC_DATA_FORBID};
    char why[200];
    assert_false(pc_close_judge(&forbid, &o, why, sizeof why, NULL, 0));
    assert_string_equal(why, "fin after 4 bytes of data: data came before the close");
    close(cli);
}

static void test_R_GEN_12_open_and_silent_is_a_timeout(void **state)
{
    (void)state;
    int cli, srv;
    pair(&cli, &srv);
    pc_observed o = observe(cli, 100);
    assert_int_equal(o.end, PC_END_TIMEOUT);
    char text[100];
    pc_observed_describe(&o, text, sizeof text);
    assert_string_equal(text, "timeout (connection still open)");
    close(srv);
    close(cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_results_map_to_end_kinds),
        cmocka_unit_test(test_close_judge_accept_sets_and_data_rules),
        cmocka_unit_test(test_R_GEN_11_real_fin_is_a_clean_close),
        cmocka_unit_test(test_R_GEN_11_real_rst_is_a_reset),
        cmocka_unit_test(test_R_GEN_11_data_then_fin_fails_a_forbid_expectation),
        cmocka_unit_test(test_R_GEN_12_open_and_silent_is_a_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
