/* Integration: bad input never crashes or wedges ppbroker (issue 3: "never a crash"). A
 * seeded generator mutates valid v1/v2 headers (and CONNECTs behind them), delivers them in
 * random pieces, sometimes half-closes; the broker must answer nothing before a valid header,
 * stay alive, keep serving, and exit 0 (clean under ASan and valgrind via bh_stop). */
#include "common.h"

#include <stdlib.h>

static bh B;

static int group_setup(void **state)
{
    (void)state;
    return bh_start(&B, NULL, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return bh_stop(&B) == 0 ? 0 : -1;
}

static uint32_t rng_state = 0x9e3779b9u;
static uint32_t rnd(void)
{
    /* xorshift32: reproducible, so a failing seed can be replayed */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static size_t make_input(uint8_t *buf, size_t cap)
{
    size_t n;
    if (rnd() % 2) {
        n = v2_tcp4(buf);
        if (rnd() % 3 == 0) { /* append TLVs of random shape */
            size_t extra = rnd() % 64;
            for (size_t i = 0; i < extra && n < cap; i++)
                buf[n++] = (uint8_t)rnd();
            buf[14] = (uint8_t)((n - 16) >> 8);
            buf[15] = (uint8_t)(n - 16);
        }
    } else {
        n = v1_tcp4(buf);
    }
    mq_connect_opts o = {.version = 4, .client_id = "fuzz", .clean = true};
    n += mq_connect(buf + n, cap - n, &o);
    int flips = (int)(rnd() % 4);
    for (int i = 0; i < flips; i++) {
        size_t at = rnd() % n;
        switch (rnd() % 4) {
        case 0: buf[at] = (uint8_t)rnd(); break;            /* random byte */
        case 1: buf[at] ^= (uint8_t)(1u << (rnd() % 8)); break; /* bit flip */
        case 2: n = at + 1; break;                          /* truncate */
        default: buf[at] = (uint8_t)(rnd() % 2 ? '\r' : '\n'); break;
        }
    }
    return n;
}

static void test_R_V1_26_random_mutations_never_crash(void **state)
{
    (void)state;
    uint8_t in[512];
    uint8_t b[64];
    for (int i = 0; i < 300; i++) {
        size_t n = make_input(in, sizeof(in));
        int fd = ts_connect(B.pp, NULL, 3000);
        assert_true(fd >= 0);
        size_t sent = 0;
        while (sent < n) {
            size_t piece = 1 + rnd() % (n - sent);
            if (ts_send_all(fd, in + sent, piece, 2000) != 0)
                break; /* the broker already dropped it: fine */
            sent += piece;
        }
        if (rnd() % 2)
            pn_shutdown_write(fd);
        /* whatever it was: a CONNACK, a close, or silence until our short deadline */
        size_t got = 0;
        ts_read(fd, b, sizeof(b), 0, 30, &got);
        /* only MQTT ever answers: CONNACK, or a v5 DISCONNECT for a mangled CONNECT */
        if (got > 0 && b[0] != 0x20 && b[0] != 0xE0)
            fail_msg("input %d: broker answered with 0x%02x, not CONNACK/DISCONNECT", i, b[0]);
        close(fd);
        if (i % 50 == 0)
            assert_true(ts_alive(&B.proc));
    }
    assert_true(ts_alive(&B.proc));
    /* and it still serves */
    uint8_t h[64];
    size_t hn = v2_tcp4(h);
    mq_connect_opts o = {.version = 4, .client_id = "after-fuzz", .clean = true};
    int code = -1;
    ts_end end;
    int fd = mq_open(B.pp, h, hn, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 0);
    disconnect_and_wait(fd);
}

/* After more events than one page, since=0 still shows the newest (what a poller needs),
 * and paging with since/next walks every event in order. */
static void test_events_since_0_shows_newest_and_paging_is_complete(void **state)
{
    (void)state;
    static char body[8 << 20];
    for (int i = 0; i < 1100; i++) {
        int fd = ts_connect(B.pp, NULL, 3000);
        assert_true(fd >= 0);
        assert_int_equal(ts_send_all(fd, CONNECT_311, sizeof(CONNECT_311), 2000), 0);
        size_t got;
        ts_expect_close(fd, 5000, &got);
        close(fd);
    }
    uint8_t h[64];
    size_t hn = v2_tcp4(h);
    mq_connect_opts o = {.version = 4, .client_id = "newest", .clean = true};
    int code = -1;
    ts_end end;
    int fd = mq_open(B.pp, h, hn, &o, &code, &end);
    assert_true(fd >= 0);
    disconnect_and_wait(fd);
    assert_int_equal(bh_wait_body(&B, "/api/v1/events?since=0", "\"client_id\":\"newest\"", 5000, body, sizeof(body)), 0);
    long long next = 1, last_seq = 0, count = 0;
    char path[64];
    for (;;) {
        snprintf(path, sizeof(path), "/api/v1/events?since=%lld", next);
        assert_int_equal(bh_get(&B, path, body, sizeof(body)), 200);
        long long n;
        assert_true(ts_json_get_int(body, "next", &n));
        if (n == next)
            break;
        /* seq numbers in a page are consecutive and continue the previous page */
        for (const char *p = strstr(body, "{\"seq\":"); p; p = strstr(p + 1, "{\"seq\":")) {
            long long s = atoll(p + 7);
            if (last_seq)
                assert_int_equal(s, last_seq + 1);
            last_seq = s;
            count++;
        }
        next = n;
    }
    assert_true(count > 1100); /* more than one page: paging really happened */
}

int main(void)
{
    const char *seed = getenv("PPC_SEED");
    if (seed)
        rng_state = (uint32_t)strtoul(seed, NULL, 0) | 1u;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_R_V1_26_random_mutations_never_crash),
        cmocka_unit_test(test_events_since_0_shows_newest_and_paging_is_complete),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
