/* lib/net/sock: non-blocking listen/connect/accept over loopback, chosen source addresses,
 * FIN versus RST on read, half-close, and clear errors. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net/buf.h"
#include "net/sock.h"
#include "test_net_helpers.h"

static void test_listen_port_zero_reports_bound_port(void **state)
{
    (void)state;
    pn_addr bound, local, peer_seen, client_peer;
    int c = -1, s = -1;
    int lfd = listen_any("127.0.0.1", &bound);
    assert_true(lfd >= 0);
    assert_true(pn_addr_port(&bound) != 0);
    close(lfd);

    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, &peer_seen), 0);
    assert_int_equal(pn_local_addr(c, &local), 0);
    assert_int_equal(pn_peer_addr(s, &client_peer), 0);
    assert_true(pn_addr_equal(&local, &peer_seen)); /* accept's peer == the client's own address */
    assert_true(pn_addr_equal(&local, &client_peer));
    assert_int_equal(pn_set_nodelay(c, true), 0);
    close(c);
    close(s);
}

static int nodelay_of(int fd)
{
    int v = -1;
    socklen_t len = sizeof v;
    assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
    return v;
}

/* ppbroker relies on this: TCP_NODELAY set once on the listener reaches every accepted
 * socket (no per-connection setsockopt), for IPv4 and IPv6; without the flag it stays off. */
static void test_listen_nodelay_inherited_by_accepted_sockets(void **state)
{
    (void)state;
    const char *ips[] = {"127.0.0.1", "::1"};
    for (size_t i = 0; i < 2; i++) {
        for (int flag = 0; flag <= 1; flag++) {
            pn_addr a, bound;
            char err[256];
            bool pending;
            assert_int_equal(pn_addr_from_ip(ips[i], 0, &a), 0);
            int lfd = pn_listen(&a, 16, flag ? PN_LISTEN_NODELAY : 0, &bound, err, sizeof err);
            assert_true(lfd >= 0);
            assert_int_equal(nodelay_of(lfd) != 0, flag);
            int c = pn_connect(&bound, NULL, &pending, err, sizeof err);
            assert_true(c >= 0);
            int s = accept_one(lfd, NULL);
            assert_true(s >= 0);
            assert_int_equal(nodelay_of(s) != 0, flag);
            assert_int_equal(nodelay_of(c), 0); /* the client's own socket is untouched */
            close(s);
            close(c);
            close(lfd);
        }
    }
}

static void test_ipv6_loopback_pair(void **state)
{
    (void)state;
    pn_addr peer;
    int c = -1, s = -1;
    if (tcp_pair("::1", NULL, &c, &s, &peer) < 0)
        skip(); /* no IPv6 on this host's loopback */
    char ip[PN_ADDR_TEXT_MAX];
    assert_int_equal(pn_addr_family(&peer), AF_INET6);
    assert_string_equal(pn_addr_ip_text(&peer, ip, sizeof ip), "::1");
    size_t n;
    assert_int_equal(pn_send(c, "v6", 2, &n), PN_IO_OK);
    char buf[2];
    assert_true(read_exact(s, buf, 2));
    assert_memory_equal(buf, "v6", 2);
    close(c);
    close(s);
}

static void test_chosen_source_address_seen_by_peer(void **state)
{
    (void)state;
    const char *sources[] = {"127.0.0.2", "127.0.0.77"};
    for (size_t i = 0; i < 2; i++) {
        pn_addr src, peer;
        int c = -1, s = -1;
        assert_int_equal(pn_addr_from_ip(sources[i], 0, &src), 0);
        assert_int_equal(tcp_pair("127.0.0.1", &src, &c, &s, &peer), 0);
        char ip[PN_ADDR_TEXT_MAX];
        assert_string_equal(pn_addr_ip_text(&peer, ip, sizeof ip), sources[i]);
        assert_true(pn_addr_port(&peer) != 0); /* the kernel picked a port at connect time */
        close(c);
        close(s);
    }
}

static void test_clean_close_reads_as_fin(void **state)
{
    (void)state;
    int c = -1, s = -1;
    size_t n;
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    assert_int_equal(pn_send(s, "data", 4, &n), PN_IO_OK);
    close(s);
    assert_int_equal(read_to_end(c, &n), PN_IO_FIN);
    assert_int_equal(n, 4); /* the data comes first, then the FIN */
    close(c);
}

static void test_abortive_close_reads_as_rst(void **state)
{
    (void)state;
    int c = -1, s = -1;
    size_t n;
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    assert_int_equal(pn_close_rst(s), 0);
    assert_int_equal(read_to_end(c, &n), PN_IO_RST);
    assert_int_equal(n, 0);
    /* writing to a reset connection reports RST too, and no SIGPIPE kills us */
    pn_io io = pn_send(c, "x", 1, &n);
    assert_true(io == PN_IO_RST || io == PN_IO_OK);
    close(c);
}

static void test_half_close_keeps_other_direction_open(void **state)
{
    (void)state;
    int c = -1, s = -1;
    size_t n;
    char buf[16];
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    assert_int_equal(pn_send(c, "req", 3, &n), PN_IO_OK);
    assert_int_equal(pn_shutdown_write(c), 0);
    assert_true(read_exact(s, buf, 3));
    assert_int_equal(read_to_end(s, &n), PN_IO_FIN); /* the server sees the client's FIN */
    /* ... and can still answer */
    assert_int_equal(pn_send(s, "reply", 5, &n), PN_IO_OK);
    assert_true(read_exact(c, buf, 5));
    assert_memory_equal(buf, "reply", 5);
    close(s);
    assert_int_equal(read_to_end(c, &n), PN_IO_FIN);
    close(c);
}

static void test_connect_refused_reported(void **state)
{
    (void)state;
    pn_addr bound;
    char err[256];
    bool pending;
    int lfd = listen_any("127.0.0.1", &bound);
    close(lfd); /* the port is now closed */
    int c = pn_connect(&bound, NULL, &pending, err, sizeof err);
    if (c < 0) {
        assert_non_null(strstr(err, "refused"));
        return;
    }
    assert_true(pending);
    assert_true(wait_ready(c, POLLOUT, WAIT_MS));
    assert_int_equal(pn_connect_result(c), ECONNREFUSED);
    close(c);
}

static void test_errors_name_the_address(void **state)
{
    (void)state;
    pn_addr bound, src, empty;
    char err[256];
    bool pending;
    int lfd = listen_any("127.0.0.1", &bound);
    assert_true(lfd >= 0);
    /* same port again without SO_REUSEPORT: the bind fails and says where */
    assert_int_equal(pn_listen(&bound, 4, 0, NULL, err, sizeof err), -1);
    char text[PN_ADDR_TEXT_MAX], expect[128];
    snprintf(expect, sizeof expect, "bind %s: Address already in use", pn_addr_to_text(&bound, text, sizeof text));
    assert_string_equal(err, expect);
    /* a source of the other family */
    assert_int_equal(pn_addr_from_ip("::1", 0, &src), 0);
    assert_int_equal(pn_connect(&bound, &src, &pending, err, sizeof err), -1);
    assert_non_null(strstr(err, "differ in family"));
    /* a source address this host does not have */
    assert_int_equal(pn_addr_from_ip("192.0.2.1", 0, &src), 0);
    assert_int_equal(pn_connect(&bound, &src, &pending, err, sizeof err), -1);
    assert_non_null(strstr(err, "bind source 192.0.2.1:0"));
    memset(&empty, 0, sizeof empty);
    assert_int_equal(pn_listen(&empty, 4, 0, NULL, err, sizeof err), -1);
    assert_int_equal(pn_connect(&empty, NULL, NULL, NULL, 0), -1);
    close(lfd);
    /* accept on a listener with nothing pending */
    lfd = listen_any("127.0.0.1", &bound);
    assert_int_equal(pn_accept(lfd, NULL), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    close(lfd);
}

static void test_bounded_buffer_reads_and_writes(void **state)
{
    (void)state;
    int c = -1, s = -1;
    size_t n;
    pn_buf in, out;
    assert_int_equal(pn_buf_init(&in, 4), 0);
    assert_int_equal(pn_buf_init(&out, 16), 0);
    assert_int_equal(tcp_pair("127.0.0.1", NULL, &c, &s, NULL), 0);
    assert_int_equal(pn_send_buf(c, &out, &n), PN_IO_OK); /* empty: nothing to do */
    assert_int_equal(n, 0);
    assert_true(pn_buf_append(&out, "abcdefgh", 8));
    assert_int_equal(pn_send_buf(c, &out, &n), PN_IO_OK);
    assert_int_equal(n, 8);
    assert_true(pn_buf_empty(&out));
    /* the reader's buffer holds 4: it takes 4 and then refuses more until consumed */
    assert_true(wait_ready(s, POLLIN, WAIT_MS));
    size_t total = 0;
    while (total < 4) {
        pn_io io = pn_recv_buf(s, &in, &n);
        if (io == PN_IO_AGAIN)
            assert_true(wait_ready(s, POLLIN, WAIT_MS));
        else
            assert_int_equal(io, PN_IO_OK);
        total = pn_buf_len(&in);
    }
    assert_int_equal(pn_recv_buf(s, &in, &n), PN_IO_ERROR);
    assert_int_equal(errno, ENOBUFS);
    assert_memory_equal(pn_buf_peek(&in), "abcd", 4);
    pn_buf_consume(&in, 4);
    assert_true(read_exact(s, (char[4]){0}, 4));
    assert_int_equal(pn_recv(s, (char[1]){0}, 1, &n), PN_IO_AGAIN);
    assert_string_equal(pn_io_name(PN_IO_AGAIN), "again");
    assert_string_equal(pn_io_name(PN_IO_RST), "rst");
    pn_buf_free(&in);
    pn_buf_free(&out);
    close(c);
    close(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_port_zero_reports_bound_port),
        cmocka_unit_test(test_listen_nodelay_inherited_by_accepted_sockets),
        cmocka_unit_test(test_ipv6_loopback_pair),
        cmocka_unit_test(test_chosen_source_address_seen_by_peer),
        cmocka_unit_test(test_clean_close_reads_as_fin),
        cmocka_unit_test(test_abortive_close_reads_as_rst),
        cmocka_unit_test(test_half_close_keeps_other_direction_open),
        cmocka_unit_test(test_connect_refused_reported),
        cmocka_unit_test(test_errors_name_the_address),
        cmocka_unit_test(test_bounded_buffer_reads_and_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
