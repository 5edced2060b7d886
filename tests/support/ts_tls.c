/* TLS for integration tests: pn_tls calls driven to completion with one deadline. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "net/loop.h"
#include "net/tls.h"
#include "support.h"
#include "ts_internal.h"

/* Wait for what the TLS layer asked for. 1 ready, 0 timeout, -1 poll error. */
static int wait_want(int fd, pn_tls_status st, uint64_t deadline)
{
    short ev = st == PN_TLS_WANT_WRITE ? POLLOUT : POLLIN;
    for (;;) {
        int left = ts_remaining_ms(deadline);
        if (left == 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static bool is_want(pn_tls_status st)
{
    return st == PN_TLS_WANT_READ || st == PN_TLS_WANT_WRITE;
}

int ts_tls_handshake(pn_tls *t, int fd, int timeout_ms)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    ts_clear_error();
    for (;;) {
        pn_tls_status st = pn_tls_handshake(t);
        if (st == PN_TLS_OK)
            return 0;
        if (!is_want(st))
            return ts_fail("%s (%s)", pn_tls_error(t), pn_tls_status_name(st));
        if (wait_want(fd, st, deadline) <= 0)
            return ts_fail("handshake: timeout after %d ms", timeout_ms);
    }
}

int ts_tls_send_all(pn_tls *t, int fd, const void *buf, size_t len, int timeout_ms)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    size_t done = 0;
    ts_clear_error();
    while (done < len) {
        size_t n;
        pn_tls_status st = pn_tls_write(t, (const char *)buf + done, len - done, &n);
        if (st == PN_TLS_OK) {
            done += n;
            continue;
        }
        if (!is_want(st))
            return ts_fail("%s after %zu of %zu bytes", pn_tls_error(t), done, len);
        if (wait_want(fd, st, deadline) <= 0)
            return ts_fail("send: timeout after %zu of %zu bytes", done, len);
    }
    return 0;
}

ts_end ts_tls_read(pn_tls *t, int fd, void *buf, size_t cap, size_t want, int timeout_ms, size_t *got)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    size_t limit = want && want < cap ? want : cap;
    *got = 0;
    ts_clear_error();
    while (*got < limit) {
        size_t n;
        pn_tls_status st = pn_tls_read(t, (char *)buf + *got, limit - *got, &n);
        switch (st) {
        case PN_TLS_OK:
            *got += n;
            continue;
        case PN_TLS_CLOSED:
        case PN_TLS_EOF:
            return TS_END_FIN;
        case PN_TLS_RST:
            return TS_END_RST;
        case PN_TLS_WANT_READ:
        case PN_TLS_WANT_WRITE: {
            int w = wait_want(fd, st, deadline);
            if (w == 0)
                return TS_END_TIMEOUT;
            if (w < 0)
                return TS_END_ERROR;
            continue;
        }
        default:
            ts_fail("%s", pn_tls_error(t));
            return TS_END_ERROR;
        }
    }
    return TS_END_COUNT;
}
