/* Sockets for integration tests: connect from a chosen source, send everything, read with
 * a deadline and say how the stream ended (bytes, FIN, RST or timeout). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/sock.h"
#include "support.h"
#include "ts_internal.h"

/* poll fd for events until the deadline: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    for (;;) {
        int left = ts_remaining_ms(deadline);
        if (left == 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = events};
        int r = poll(&p, 1, left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static uint64_t deadline_in(int timeout_ms)
{
    return pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

int ts_connect_addr(const pn_addr *dst, const pn_addr *src, int timeout_ms)
{
    char err[256], text[PN_ADDR_TEXT_MAX];
    bool pending;
    uint64_t deadline = deadline_in(timeout_ms);
    ts_clear_error();
    int fd = pn_connect(dst, src, &pending, err, sizeof err);
    if (fd < 0)
        return ts_fail("%s", err);
    if (pending) {
        int w = wait_fd(fd, POLLOUT, deadline);
        int soerr = w > 0 ? pn_connect_result(fd) : 0;
        if (w <= 0 || soerr) {
            close(fd);
            pn_addr_to_text(dst, text, sizeof text);
            if (w == 0)
                return ts_fail("connect %s: timeout after %d ms", text, timeout_ms);
            return ts_fail("connect %s: %s", text, strerror(w < 0 ? errno : soerr));
        }
    }
    return fd;
}

int ts_connect(const char *dst, const char *src_ip, int timeout_ms)
{
    pn_addr d, s;
    ts_clear_error();
    if (pn_addr_parse(dst, &d) < 0)
        return ts_fail("bad destination '%s' (want ip:port or [v6]:port)", dst);
    if (src_ip && pn_addr_from_ip(src_ip, 0, &s) < 0)
        return ts_fail("bad source address '%s'", src_ip);
    return ts_connect_addr(&d, src_ip ? &s : NULL, timeout_ms);
}

int ts_send_all(int fd, const void *buf, size_t len, int timeout_ms)
{
    uint64_t deadline = deadline_in(timeout_ms);
    size_t done = 0;
    ts_clear_error();
    while (done < len) {
        size_t n;
        pn_io io = pn_send(fd, (const char *)buf + done, len - done, &n);
        if (io == PN_IO_OK) {
            done += n;
            continue;
        }
        if (io != PN_IO_AGAIN)
            return ts_fail("send: %s after %zu of %zu bytes (%s)", pn_io_name(io), done, len, strerror(errno));
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w <= 0)
            return ts_fail("send: timeout after %zu of %zu bytes", done, len);
    }
    return 0;
}

int ts_send_str(int fd, const char *s, int timeout_ms)
{
    return ts_send_all(fd, s, strlen(s), timeout_ms);
}

const char *ts_end_name(ts_end e)
{
    switch (e) {
    case TS_END_COUNT: return "count";
    case TS_END_FIN: return "fin";
    case TS_END_RST: return "rst";
    case TS_END_TIMEOUT: return "timeout";
    case TS_END_ERROR: return "error";
    }
    return "?";
}

/* Shared reader: stops at want bytes, at delim (when given), at the end, or the deadline. */
static ts_end read_common(int fd, char *buf, size_t cap, size_t want, const void *delim,
                          size_t dlen, int timeout_ms, size_t *got)
{
    uint64_t deadline = deadline_in(timeout_ms);
    size_t limit = want && want < cap ? want : cap;
    *got = 0;
    ts_clear_error();
    for (;;) {
        if (delim && dlen && *got >= dlen && memmem(buf, *got, delim, dlen))
            return TS_END_COUNT;
        if (*got >= limit)
            return delim ? TS_END_ERROR : TS_END_COUNT; /* a full buffer without delim: error */
        size_t n;
        pn_io io = pn_recv(fd, buf + *got, limit - *got, &n);
        switch (io) {
        case PN_IO_OK:
            *got += n;
            continue;
        case PN_IO_FIN:
            return TS_END_FIN;
        case PN_IO_RST:
            return TS_END_RST;
        case PN_IO_AGAIN: {
            int w = wait_fd(fd, POLLIN, deadline);
            if (w == 0)
                return TS_END_TIMEOUT;
            if (w < 0) {
                ts_fail("poll: %s", strerror(errno));
                return TS_END_ERROR;
            }
            continue;
        }
        default:
            ts_fail("read: %s", strerror(errno));
            return TS_END_ERROR;
        }
    }
}

ts_end ts_read(int fd, void *buf, size_t cap, size_t want, int timeout_ms, size_t *got)
{
    return read_common(fd, buf, cap, want, NULL, 0, timeout_ms, got);
}

ts_end ts_read_until(int fd, void *buf, size_t cap, const void *delim, size_t dlen,
                     int timeout_ms, size_t *got)
{
    ts_end e = read_common(fd, buf, cap, 0, delim, dlen, timeout_ms, got);
    if (e == TS_END_ERROR && *got == cap)
        ts_fail("read_until: %zu bytes without the delimiter", cap);
    return e;
}

ts_end ts_expect_close(int fd, int timeout_ms, size_t *got)
{
    uint64_t deadline = deadline_in(timeout_ms);
    char sink[4096];
    *got = 0;
    for (;;) {
        size_t n;
        pn_io io = pn_recv(fd, sink, sizeof sink, &n);
        if (io == PN_IO_OK) {
            *got += n;
            continue;
        }
        if (io == PN_IO_FIN)
            return TS_END_FIN;
        if (io == PN_IO_RST)
            return TS_END_RST;
        if (io != PN_IO_AGAIN)
            return TS_END_ERROR;
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0)
            return TS_END_TIMEOUT;
        if (w < 0)
            return TS_END_ERROR;
    }
}
