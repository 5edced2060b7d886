/* tests/integration/broker/common: small helpers shared by the broker's integration tests. */
#ifndef BROKER_TEST_COMMON_H
#define BROKER_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "mqttc.h"
#include "net/sock.h"
#include "proxy/proxy.h"

/* 3.1.1 and 5.0 CONNECT of requirements.md Appendix A.2 (EC-S-01, EC-S-03). */
__attribute__((unused)) static const uint8_t CONNECT_311[] = {0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00};
__attribute__((unused)) static const uint8_t CONNECT_V5[] = {0x10, 0x0d, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x00};

/* v2 TCP4 203.0.113.7:40000 -> 192.0.2.1:1883 */
static inline size_t v2_tcp4(uint8_t *out)
{
    static const uint8_t h[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11,
                                0x00, 0x0c, 203, 0, 113, 7, 192, 0, 2, 1, 0x9c, 0x40, 0x07, 0x5b};
    memcpy(out, h, sizeof(h));
    return sizeof(h);
}

static inline size_t v1_tcp4(uint8_t *out)
{
    static const char h[] = "PROXY TCP4 203.0.113.7 192.0.2.1 40000 1883\r\n";
    memcpy(out, h, sizeof(h) - 1);
    return sizeof(h) - 1;
}

/* The client socket's own address, "127.0.0.1:NNNNN": what the broker sees as real_peer. */
static inline void local_text(int fd, char *out, size_t cap)
{
    pn_addr a;
    pn_local_addr(fd, &a);
    pn_addr_to_text(&a, out, cap);
}

/* Send DISCONNECT and wait for the broker to close (the session is gone afterwards). */
static inline void disconnect_and_wait(int fd)
{
    uint8_t b[4];
    size_t n = mq_disconnect(b, sizeof(b));
    ts_send_all(fd, b, n, 2000);
    size_t got = 0;
    ts_end e = ts_expect_close(fd, 5000, &got);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    close(fd);
}

#endif
