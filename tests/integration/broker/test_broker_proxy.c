/* Integration: ppbroker's PROXY stage over real sockets (issue 3, item 3 and tests of item 4).
 * One broker serves most cases; cases needing their own config start their own. */
#include "common.h"

#include <stdlib.h>
#include <sys/socket.h>

#include "net/loop.h"

static bh B;
static char body[1 << 20];

static int group_setup(void **state)
{
    (void)state;
    return bh_start(&B, "listener.tcp.v6 = [::1]:0\n"
                        "listener.tcp.v6.proxy_protocol = on\n"
                        "listener.tcp.t3 = 127.0.0.1:0\n"
                        "listener.tcp.t3.proxy_protocol = on\n"
                        "listener.tcp.t3.proxy_protocol_timeout = 3s\n",
                    NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return bh_stop(&B) == 0 ? 0 : -1;
}

static mq_connect_opts opts(const char *cid)
{
    mq_connect_opts o = {.version = 4, .client_id = cid, .clean = true};
    return o;
}

/* The only live session is the one under test: check who it is attributed to. */
static void expect_session_peer(const char *cid, const char *attributed)
{
    char needle[160];
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    assert_int_equal(bh_wait_body(&B, "/api/v1/sessions", needle, 5000, body, sizeof(body)), 0);
    char got[128];
    assert_true(ts_json_get(body, "attributed_peer", got, sizeof(got)) > 0);
    assert_string_equal(got, attributed);
}

/* header + CONNECT in one write: CONNACK 0, attributed to the carried source. */
static void header_then_connect(const uint8_t *hdr, size_t hlen, const char *cid, const char *want_peer)
{
    mq_connect_opts o = opts(cid);
    int code = -1;
    ts_end end;
    int fd = mq_open(B.pp, hdr, hlen, &o, &code, &end);
    if (fd < 0)
        fail_msg("no CONNACK (%s)", ts_end_name(end));
    assert_int_equal(code, 0);
    char real[64];
    local_text(fd, real, sizeof(real));
    expect_session_peer(cid, want_peer ? want_peer : real);
    disconnect_and_wait(fd);
}

static void test_EC_V1_01_v1_header_and_connect_coalesced(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v1_tcp4(h);
    header_then_connect(h, n, "v1-coalesced", "203.0.113.7:40000");
    assert_non_null(strstr(body, "\"src\":\"203.0.113.7:40000\""));
    assert_non_null(strstr(body, "\"dst\":\"192.0.2.1:1883\""));
    assert_non_null(strstr(body, "\"used_carried\":true"));
}

static void test_EC_V2_01_v2_header_and_connect_coalesced(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v2_tcp4(h);
    header_then_connect(h, n, "v2-coalesced", "203.0.113.7:40000");
    assert_non_null(strstr(body, "\"version\":2"));
    assert_non_null(strstr(body, "\"family\":\"INET\""));
}

static void test_EC_V2_02_v2_tcp6(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.family = PP_FAM_INET6;
    assert_int_equal(pp_endpoint_parse("[2001:db8::1]:1", &s.src), 0);
    assert_int_equal(pp_endpoint_parse("[2001:db8::2]:2", &s.dst), 0);
    uint8_t h[128];
    ssize_t n = pp_build(&s, h, sizeof(h));
    assert_true(n > 0);
    header_then_connect(h, (size_t)n, "v2-tcp6", "[2001:db8::1]:1");
}

/* An IPv6 listener: real peer [::1]:port, carried IPv4 source used. */
static void test_ipv6_listener_with_v2_header(void **state)
{
    (void)state;
    char v6[80];
    assert_int_equal(bh_listener_address(&B, "v6", v6, sizeof(v6)), 0);
    assert_non_null(strstr(v6, "[::1]:"));
    uint8_t h[64];
    size_t n = v2_tcp4(h);
    mq_connect_opts o = opts("v6-listener");
    int code = -1;
    ts_end end;
    int fd = mq_open(v6, h, n, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 0);
    expect_session_peer("v6-listener", "203.0.113.7:40000");
    assert_non_null(strstr(body, "\"real_peer\":\"[::1]:"));
    disconnect_and_wait(fd);
}

/* EC-V2-24 / A-02: the largest v2 header (len 65535, NOOP padding) spread over many
 * segments, CONNECT in the same stream: accepted, CONNECT intact. */
static void test_EC_V2_24_largest_v2_header_then_connect(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    pp_endpoint_parse("203.0.113.7:40000", &s.src);
    pp_endpoint_parse("192.0.2.1:1883", &s.dst);
    pp_build_tlv pad = PP_BUILD_TLV(PP_TLV_NOOP, NULL, 65535 - 12 - 3);
    s.tlvs = &pad;
    s.ntlvs = 1;
    uint8_t *h = malloc(PP_V2_MAX_LEN + 64);
    assert_non_null(h);
    ssize_t n = pp_build(&s, h, PP_V2_MAX_LEN + 64);
    assert_int_equal(n, PP_V2_MAX_LEN);
    header_then_connect(h, (size_t)n, "v2-64k", "203.0.113.7:40000");
    assert_non_null(strstr(body, "\"header_len\":65551"));
    free(h);
}

/* Split the header+CONNECT stream at every offset: nothing may come back before the last
 * byte is sent, then a CONNACK, and the carried address must be intact (R-GEN-10, R-V2-33;
 * Mosquitto's wrong address on split, peers.md #28). */
static void split_everywhere(const uint8_t *hdr, size_t hlen, const char *tag)
{
    uint8_t stream[256];
    memcpy(stream, hdr, hlen);
    mq_connect_opts o = opts("split");
    char cid[64];
    for (size_t cut = 1; cut < hlen + 14; cut++) {
        snprintf(cid, sizeof(cid), "%s-%zu", tag, cut);
        o.client_id = cid;
        size_t n = hlen + mq_connect(stream + hlen, sizeof(stream) - hlen, &o);
        int fd = ts_connect(B.pp, NULL, 3000);
        assert_true(fd >= 0);
        pn_set_nodelay(fd, true);
        assert_int_equal(ts_send_all(fd, stream, cut, 2000), 0);
        /* Wait until the broker has read the first part, so the split really happened. */
        char real[64];
        local_text(fd, real, sizeof(real));
        if (cut < hlen)
            assert_int_equal(bh_wait_conn(&B, real, "proxy", (long long)cut, 5000), 0);
        else
            assert_int_equal(bh_wait_conn(&B, real, "mqtt", -1, 5000), 0);
        /* R-GEN-11: a partial header (or partial CONNECT) gets no answer and no close. */
        uint8_t b;
        size_t got = 0;
        ts_end e = ts_read(fd, &b, 1, 1, 1, &got);
        if (e != TS_END_TIMEOUT)
            fail_msg("%s cut at %zu: broker answered a partial stream (%s)", tag, cut, ts_end_name(e));
        assert_int_equal(ts_send_all(fd, stream + cut, n - cut, 2000), 0);
        mq_packet *p = malloc(sizeof(*p));
        e = mq_read_packet(fd, p, 5000);
        if (e != TS_END_COUNT || p->type != 2)
            fail_msg("%s cut at %zu: no CONNACK (%s)", tag, cut, ts_end_name(e));
        assert_int_equal(p->body[1], 0);
        free(p);
        expect_session_peer(cid, "203.0.113.7:40000");
        disconnect_and_wait(fd);
    }
}

static void test_R_GEN_10_v1_split_at_every_offset(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v1_tcp4(h);
    split_everywhere(h, n, "v1split");
}

static void test_R_GEN_10_v2_split_at_every_offset(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v2_tcp4(h);
    split_everywhere(h, n, "v2split");
}

/* A plain CONNECT on a PROXY listener: no CONNACK, closed, logged; the next client is served. */
static void plain_connect_refused(const uint8_t *connect, size_t len)
{
    int fd = ts_connect(B.pp, NULL, 3000);
    assert_true(fd >= 0);
    char real[64];
    local_text(fd, real, sizeof(real));
    assert_int_equal(ts_send_all(fd, connect, len, 2000), 0);
    size_t got = 99;
    ts_end e = ts_expect_close(fd, 5000, &got);
    if (e != TS_END_FIN && e != TS_END_RST)
        fail_msg("expected a close, got %s", ts_end_name(e));
    assert_int_equal(got, 0); /* no CONNACK, not a single byte */
    close(fd);
    char needle[128];
    snprintf(needle, sizeof(needle), "\"real_peer\":\"%s\"", real);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", needle, 5000, body, sizeof(body)), 0);
    char *ev = strstr(body, needle);
    assert_non_null(strstr(ev, "\"reason\":\"detect.not_proxy\""));
    assert_non_null(strstr(ev, "R-DET-04"));
    uint8_t h[128];
    size_t n = v2_tcp4(h);
    header_then_connect(h, n, "after-refusal", "203.0.113.7:40000");
}

static void test_EC_S_01_plain_connect_311_refused_without_connack(void **state)
{
    (void)state;
    plain_connect_refused(CONNECT_311, sizeof(CONNECT_311));
}

static void test_EC_S_03_plain_connect_v5_refused_without_connack(void **state)
{
    (void)state;
    plain_connect_refused(CONNECT_V5, sizeof(CONNECT_V5));
}

/* Fallbacks to the real peer: LOCAL, UNKNOWN, UNSPEC, UNIX, DGRAM. */
static void test_EC_V2_07_local_uses_real_peer(void **state)
{
    (void)state;
    static const uint8_t h[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00};
    header_then_connect(h, sizeof(h), "local", NULL);
    assert_non_null(strstr(body, "\"command\":\"LOCAL\""));
    assert_non_null(strstr(body, "\"used_carried\":false"));
}

static void test_EC_S_11_local_with_forged_address_uses_real_peer(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v2_tcp4(h);
    h[12] = 0x20; /* LOCAL, address block of 203.0.113.7 kept */
    header_then_connect(h, n, "local-forged", NULL);
    assert_non_null(strstr(body, "\"command\":\"LOCAL\""));
}

static void test_EC_V1_04_unknown_short_form_uses_real_peer(void **state)
{
    (void)state;
    static const char h[] = "PROXY UNKNOWN\r\n";
    header_then_connect((const uint8_t *)h, sizeof(h) - 1, "unknown-short", NULL);
}

static void test_EC_V1_05_unknown_long_form_107_bytes_uses_real_peer(void **state)
{
    (void)state;
    static const char h[] = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
    assert_int_equal(sizeof(h) - 1, 107);
    header_then_connect((const uint8_t *)h, sizeof(h) - 1, "unknown-long", NULL);
}

static void test_EC_V2_12_proxy_unspec_uses_real_peer(void **state)
{
    (void)state;
    static const uint8_t h[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x00, 0x00, 0x00};
    header_then_connect(h, sizeof(h), "unspec", NULL);
    assert_non_null(strstr(body, "\"family\":\"UNSPEC\""));
}

static void test_EC_V2_04_af_unix_uses_real_peer(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    s.family = PP_FAM_UNIX;
    s.src.family = s.dst.family = PP_FAM_UNIX;
    s.src.unix_path = (const uint8_t *)"/run/a.sock";
    s.dst.unix_path = (const uint8_t *)"/run/b.sock";
    uint8_t h[512];
    ssize_t n = pp_build(&s, h, sizeof(h));
    assert_int_equal(n, 16 + 216);
    header_then_connect(h, (size_t)n, "unix", NULL);
    assert_non_null(strstr(body, "\"family\":\"UNIX\""));
    assert_non_null(strstr(body, "unix:/run/a.sock")); /* carried data is shown, not used */
}

static void test_EC_V2_03_dgram_uses_real_peer(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v2_tcp4(h);
    h[13] = 0x12; /* UDP over IPv4 on a TCP listener */
    header_then_connect(h, n, "dgram", NULL);
    assert_non_null(strstr(body, "\"transport\":\"DGRAM\""));
}

static void refused_with(const char *addr, const void *data, size_t len, bool half_close, const char *reason)
{
    int fd = ts_connect(addr, NULL, 3000);
    assert_true(fd >= 0);
    char real[64];
    local_text(fd, real, sizeof(real));
    assert_int_equal(ts_send_all(fd, data, len, 2000), 0);
    if (half_close)
        pn_shutdown_write(fd);
    size_t got = 99;
    ts_end e = ts_expect_close(fd, 8000, &got);
    if (e != TS_END_FIN && e != TS_END_RST)
        fail_msg("expected a close, got %s", ts_end_name(e));
    assert_int_equal(got, 0);
    close(fd);
    char needle[128];
    snprintf(needle, sizeof(needle), "\"real_peer\":\"%s\"", real);
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", needle, 5000, body, sizeof(body)), 0);
    char want[128];
    snprintf(want, sizeof(want), "\"reason\":\"%s\"", reason);
    if (!strstr(strstr(body, needle), want))
        fail_msg("rejection of %s lacks %s: %s", real, want, strstr(body, needle));
}

static void test_R_V1_14_leading_zero_refused_with_codec_error(void **state)
{
    (void)state;
    static const char h[] = "PROXY TCP4 192.168.000.001 192.0.2.1 40000 1883\r\n";
    refused_with(B.pp, h, sizeof(h) - 1, false, "v1.leading_zero");
    assert_non_null(strstr(body, "R-V1-14"));
}

static void test_EC_F_07_eof_mid_header_is_truncated(void **state)
{
    (void)state;
    static const char h[] = "PROXY TCP4 203.0.113.7 192.0.2.1";
    refused_with(B.pp, h, sizeof(h) - 1, true, "header.truncated");
}

static void test_EC_S_07_v1_on_v2_only_listener_refused(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v1_tcp4(h);
    refused_with(B.v2only, h, n, false, "detect.version_not_allowed");
}

static void test_EC_F_13_header_sent_twice_second_is_mqtt_data(void **state)
{
    (void)state;
    uint8_t h[256];
    size_t n = v2_tcp4(h);
    n += v2_tcp4(h + n);
    mq_connect_opts o = opts("twice");
    int code;
    ts_end end;
    int fd = mq_open(B.pp, h, n, &o, &code, &end);
    assert_int_equal(fd, -1); /* MQTT fails on 0x0D: no CONNACK */
    assert_true(end == TS_END_FIN || end == TS_END_RST);
}

/* EC-S-06: on a listener without proxy_protocol the header is MQTT garbage (R-GEN-14). */
static void test_EC_S_06_header_on_plain_listener_not_interpreted(void **state)
{
    (void)state;
    uint8_t h[128];
    size_t n = v1_tcp4(h);
    mq_connect_opts o = opts("plain-with-header");
    int code;
    ts_end end;
    int fd = mq_open(B.plain, h, n, &o, &code, &end);
    assert_int_equal(fd, -1);
    assert_true(end == TS_END_FIN || end == TS_END_RST);
    /* and a plain CONNECT on the same listener works */
    fd = mq_open(B.plain, NULL, 0, &o, &code, &end);
    assert_true(fd >= 0);
    assert_int_equal(code, 0);
    disconnect_and_wait(fd);
}

/* R-GEN-12 / EC-F-11 / EC-S-13: silent connections and a truncated signature are all closed
 * by the 3 s timeout, never before it (measured on the monotonic clock; a behaviour check),
 * and none is left behind. */
#define SILENT 200
static void test_R_GEN_12_timeout_closes_silence_not_before_3s(void **state)
{
    (void)state;
    char t3[64];
    assert_int_equal(bh_listener_address(&B, "t3", t3, sizeof(t3)), 0);
    uint64_t start = pn_now_ms();
    int partial = ts_connect(t3, NULL, 3000);
    assert_true(partial >= 0);
    static const uint8_t sig5[] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00};
    assert_int_equal(ts_send_all(partial, sig5, sizeof(sig5), 2000), 0);
    int silent[SILENT];
    for (int i = 0; i < SILENT; i++) {
        silent[i] = ts_connect(t3, NULL, 3000);
        assert_true(silent[i] >= 0);
    }
    size_t got = 0;
    ts_end e = ts_expect_close(partial, 10000, &got);
    uint64_t t = pn_now_ms() - start;
    assert_int_equal(got, 0);
    assert_true(e == TS_END_FIN || e == TS_END_RST);
    if (t < 3000)
        fail_msg("truncated signature closed before the configured 3 s: %llu ms", (unsigned long long)t);
    close(partial);
    for (int i = 0; i < SILENT; i++) {
        e = ts_expect_close(silent[i], 10000, &got);
        t = pn_now_ms() - start;
        if ((e != TS_END_FIN && e != TS_END_RST) || got != 0)
            fail_msg("silent connection %d: %s after %zu bytes", i, ts_end_name(e), got);
        if (t < 3000)
            fail_msg("silent connection %d closed before the configured 3 s: %llu ms", i, (unsigned long long)t);
        close(silent[i]);
    }
    assert_int_equal(bh_wait_body(&B, "/api/v1/rejections", "\"reason\":\"header.timeout\"", 5000, body, sizeof(body)), 0);
    /* every one of them is gone from the broker (no leak of connections or timers) */
    assert_int_equal(bh_get(&B, "/api/v1/connections", body, sizeof(body)), 200);
    assert_null(strstr(body, "\"listener\":\"t3\""));
}

static void test_admin_status_events_metrics(void **state)
{
    (void)state;
    assert_int_equal(bh_get(&B, "/api/v1/status", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "\"name\":\"pp\""));
    assert_non_null(strstr(body, "\"proxy_protocol\":true"));
    assert_non_null(strstr(body, "\"versions\":[1,2]"));
    assert_non_null(strstr(body, "\"timeout_ms\":5000"));
    assert_non_null(strstr(body, "\"quirks\":[]"));
    assert_int_equal(bh_get(&B, "/api/v1/events?since=0", body, sizeof(body)), 200);
    long long next = 0;
    assert_true(ts_json_get_int(body, "next", &next));
    assert_true(next > 1);
    assert_non_null(strstr(body, "\"type\":\"proxy_header\""));
    assert_non_null(strstr(body, "\"type\":\"connack\""));
    assert_non_null(strstr(body, "\"type\":\"close\""));
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/events?since=%lld", next);
    assert_int_equal(bh_get(&B, path, body, sizeof(body)), 200);
    assert_int_equal(ts_json_array_len(body, "events"), 0);
    assert_int_equal(bh_get(&B, "/api/v1/events?since=x", body, sizeof(body)), 400);
    assert_int_equal(bh_get(&B, "/nope", body, sizeof(body)), 404);
    assert_int_equal(bh_get(&B, "/metrics", body, sizeof(body)), 200);
    assert_non_null(strstr(body, "ppbroker_connections_accepted_total{listener=\"pp\"}"));
    assert_non_null(strstr(body, "ppbroker_connections_rejected_total{listener=\"pp\",reason=\"detect.not_proxy\"}"));
    assert_non_null(strstr(body, "ppbroker_messages_received_total"));
    assert_non_null(strstr(body, "ppbroker_sessions"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_V1_01_v1_header_and_connect_coalesced),
        cmocka_unit_test(test_EC_V2_01_v2_header_and_connect_coalesced),
        cmocka_unit_test(test_EC_V2_02_v2_tcp6),
        cmocka_unit_test(test_ipv6_listener_with_v2_header),
        cmocka_unit_test(test_EC_V2_24_largest_v2_header_then_connect),
        cmocka_unit_test(test_R_GEN_10_v1_split_at_every_offset),
        cmocka_unit_test(test_R_GEN_10_v2_split_at_every_offset),
        cmocka_unit_test(test_EC_S_01_plain_connect_311_refused_without_connack),
        cmocka_unit_test(test_EC_S_03_plain_connect_v5_refused_without_connack),
        cmocka_unit_test(test_EC_V2_07_local_uses_real_peer),
        cmocka_unit_test(test_EC_S_11_local_with_forged_address_uses_real_peer),
        cmocka_unit_test(test_EC_V1_04_unknown_short_form_uses_real_peer),
        cmocka_unit_test(test_EC_V1_05_unknown_long_form_107_bytes_uses_real_peer),
        cmocka_unit_test(test_EC_V2_12_proxy_unspec_uses_real_peer),
        cmocka_unit_test(test_EC_V2_04_af_unix_uses_real_peer),
        cmocka_unit_test(test_EC_V2_03_dgram_uses_real_peer),
        cmocka_unit_test(test_R_V1_14_leading_zero_refused_with_codec_error),
        cmocka_unit_test(test_EC_F_07_eof_mid_header_is_truncated),
        cmocka_unit_test(test_EC_S_07_v1_on_v2_only_listener_refused),
        cmocka_unit_test(test_EC_F_13_header_sent_twice_second_is_mqtt_data),
        cmocka_unit_test(test_EC_S_06_header_on_plain_listener_not_interpreted),
        cmocka_unit_test(test_R_GEN_12_timeout_closes_silence_not_before_3s),
        cmocka_unit_test(test_admin_status_events_metrics),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
