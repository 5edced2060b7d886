/* pcap replay on a real capture: tcpdump records a real mosquitto_pub session with a real
 * mosquitto broker on loopback; the capture is reassembled, and ppconform replays the
 * client stream behind a v2 header, byte by byte behind a v1 header, and with no header,
 * against tiny_broker (and ppbroker when built), comparing replies at the MQTT level.
 * Every process is started and stopped by PID; readiness is read from their logs. */
#include "it_common.h"

#include "net/addr.h"
#include "net/loop.h"
#include "net/sock.h"
#include "reasm.h"

static ts_proc tcpdump_p, mosq_p, tiny_p;
static char cap_path[700], port_text[16], tiny_addr[64];
static bool have_tools;

static bool on_path(const char *prog)
{
    const char *dirs[] = {"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", NULL};
    for (int i = 0; dirs[i]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dirs[i], prog);
        if (access(p, X_OK) == 0)
            return true;
    }
    return false;
}

static const char *which(const char *prog)
{
    static char p[4][256];
    static int k;
    const char *dirs[] = {"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", NULL};
    for (int i = 0; dirs[i]; i++) {
        char *slot = p[k++ % 4];
        snprintf(slot, 256, "%s/%s", dirs[i], prog);
        if (access(slot, X_OK) == 0)
            return slot;
    }
    return prog;
}

/* A port nobody uses right now (mosquitto cannot report a port 0 choice). */
static unsigned free_port(void)
{
    pn_addr a, bound;
    pn_addr_parse("127.0.0.1:0", &a);
    char err[128];
    int fd = pn_listen(&a, 1, 0, &bound, err, sizeof err);
    assert_true(fd >= 0);
    unsigned port = pn_addr_port(&bound);
    close(fd);
    return port;
}

/* Does the capture hold the whole session yet (CONNECT .. DISCONNECT from the client)? */
static bool capture_complete(const char *path)
{
    pc_capture c;
    memset(&c, 0, sizeof c);
    char err[256];
    bool done = false;
    if (pc_pcap_read(path, NULL, &c, err, sizeof err) == 0 && c.n >= 1) {
        pc_stream s;
        pc_flow_stream(&c.flows[0], 1, &s);
        done = s.len >= 2 && s.data[0] == 0x10 && s.data[s.len - 2] == 0xe0 && s.data[s.len - 1] == 0x00;
        pc_stream_free(&s);
    }
    pc_capture_free(&c);
    return done;
}

static int setup(void **state)
{
    (void)state;
    have_tools = on_path("tcpdump") && on_path("mosquitto") && on_path("mosquitto_pub") && geteuid() == 0;
    if (!have_tools)
        return 0;
    it_tmpdir();
    unsigned port = free_port();
    snprintf(port_text, sizeof port_text, "%u", port);
    char conf[700], mlog[700], tlog[700], filter[64], plog[700];
    snprintf(cap_path, sizeof cap_path, "%s/mosquitto_pub.pcap", it_dir);
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", it_dir);
    snprintf(mlog, sizeof mlog, "%s/mosquitto.log", it_dir);
    snprintf(tlog, sizeof tlog, "%s/tcpdump.log", it_dir);
    snprintf(plog, sizeof plog, "%s/pub.log", it_dir);
    snprintf(filter, sizeof filter, "tcp port %u", port);
    char text[256];
    int n = snprintf(text, sizeof text, "listener %u 127.0.0.1\nallow_anonymous true\nlog_dest stderr\nlog_type all\n", port);
    assert_int_equal(ts_write_file(conf, text, (size_t)n), 0);

    const char *td[] = {which("tcpdump"), "-i", "lo", "-U", "-s", "0", "-n", "-w", cap_path, filter, NULL};
    assert_int_equal(ts_spawn(&tcpdump_p, td, NULL, tlog, tlog), 0);
    assert_int_equal(ts_wait_line(tlog, "listening on", 10000, NULL, 0), 0);
    const char *mq[] = {which("mosquitto"), "-c", conf, NULL};
    assert_int_equal(ts_spawn(&mosq_p, mq, NULL, mlog, mlog), 0);
    assert_int_equal(ts_wait_line(mlog, "listen socket on port", 10000, NULL, 0), 0);

    ts_proc pub;
    const char *pa[] = {which("mosquitto_pub"), "-h", "127.0.0.1", "-p", port_text, "-t", "ppc/replay", "-m",
                        "hello from a real client", "-i", "ppc-replay-pub", NULL};
    assert_int_equal(ts_spawn(&pub, pa, NULL, plog, plog), 0);
    ts_exit ex;
    assert_int_equal(ts_wait_exit(&pub, 10000, &ex), 0);
    assert_true(ex.exited && ex.code == 0);
    /* tcpdump writes each packet as it sees it: poll the file until the session is in */
    uint64_t deadline = pn_now_ms() + 10000;
    bool complete = false;
    while (!(complete = capture_complete(cap_path)) && pn_now_ms() < deadline)
        ts_wait_line(tlog, "never printed", 50, NULL, 0); /* a bounded 50 ms wait between reads */
    assert_true(complete);
    ts_stop(&tcpdump_p, 5000, NULL);
    ts_stop(&mosq_p, 5000, NULL);
    it_start_tiny("good", &tiny_p, tiny_addr, sizeof tiny_addr);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ts_stop(&tcpdump_p, 3000, NULL);
    ts_stop(&mosq_p, 3000, NULL);
    ts_stop(&tiny_p, 3000, NULL);
    if (it_dir[0])
        ts_rmtree(it_dir);
    return 0;
}

static void test_real_capture_reassembles_into_one_mqtt_session(void **state)
{
    (void)state;
    if (!have_tools)
        skip();
    pc_capture c;
    memset(&c, 0, sizeof c);
    char err[256];
    assert_int_equal(pc_pcap_read(cap_path, "tcp", &c, err, sizeof err), 0);
    assert_int_equal(c.n, 1);
    pc_stream cs, ss;
    pc_flow_stream(&c.flows[0], 1, &cs);
    pc_flow_stream(&c.flows[0], 0, &ss);
    assert_int_equal(cs.data[0], 0x10); /* CONNECT */
    assert_true(memmem(cs.data, cs.len, "ppc-replay-pub", 14) != NULL);
    assert_true(memmem(cs.data, cs.len, "hello from a real client", 24) != NULL);
    assert_true(ss.len >= 4);
    assert_int_equal(ss.data[0], 0x20); /* CONNACK */
    assert_int_equal(cs.gaps, 0);
    char ep[80];
    pc_flow_endpoint(&c.flows[0], 1, ep, sizeof ep);
    assert_non_null(strstr(ep, port_text));
    pc_stream_free(&cs);
    pc_stream_free(&ss);
    pc_capture_free(&c);
}

static void replay_against(const char *target_addr, const char *tag)
{
    char json[700], out[700], set_pcap[800], set_port[64];
    snprintf(json, sizeof json, "%s/replay-%s.json", it_dir, tag);
    snprintf(out, sizeof out, "%s/replay-%s.out", it_dir, tag);
    snprintf(set_pcap, sizeof set_pcap, "pcap=%s", cap_path);
    snprintf(set_port, sizeof set_port, "port=%s", port_text);
    const char *args[] = {"run", "--scenarios", PPC_FIXTURES "/replay.lua", "--set", set_pcap, "--set", set_port,
                          "--json", json, target_addr ? "--target" : "--set", target_addr ? target_addr : "x=y", NULL};
    assert_int_equal(it_run_ppconform(args, out), 1);
    if (strcmp(it_verdict(json, "RP-V2"), "PASS") != 0 || strcmp(it_verdict(json, "RP-BYTEWISE"), "PASS") != 0)
        fail_msg("replay against %s did not pass; see %s", tag, out);
    assert_string_equal(it_verdict(json, "RP-NOHEADER"), "FAIL");
}

static void test_R_V2_37_replay_behind_chosen_headers_against_tiny_broker(void **state)
{
    (void)state;
    if (!have_tools)
        skip();
    replay_against(tiny_addr, "tiny");
}

static void test_R_V2_37_replay_against_ppbroker(void **state)
{
    (void)state;
    if (!have_tools || access(PPC_BIN_DIR "/ppbroker", X_OK) != 0)
        skip();
    replay_against(NULL, "ppbroker");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_capture_reassembles_into_one_mqtt_session),
        cmocka_unit_test(test_R_V2_37_replay_behind_chosen_headers_against_tiny_broker),
        cmocka_unit_test(test_R_V2_37_replay_against_ppbroker),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
