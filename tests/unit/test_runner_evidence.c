/* Evidence (lua/evidence.c, lua/wire.c): the wire log a case leaves behind becomes a
 * synthetic capture that our own pcap reader (and Wireshark) reassembles into exactly the
 * bytes that went over the socket, for IPv4 and IPv6; the evidence directory holds the
 * transcript, the capture and the repro script. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "model.h"
#include "reasm.h"
#include "report.h"
#include "wire.h"

static void log_session(pc_sbuf *w, const char *addrs, uint16_t conn)
{
    pc_wire_append(w, PC_WIRE_OPEN, PC_WIRE_C2S, conn, 0, addrs, (uint32_t)strlen(addrs));
    pc_wire_append(w, PC_WIRE_DATA, PC_WIRE_C2S, conn, 1000, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", 32);
    pc_wire_append(w, PC_WIRE_DATA, PC_WIRE_C2S, conn, 2000, "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
    pc_wire_append(w, PC_WIRE_DATA, PC_WIRE_S2C, conn, 3000, "\x20\x02\x00\x00", 4);
    pc_wire_append(w, PC_WIRE_FIN, PC_WIRE_S2C, conn, 4000, NULL, 0);
}

static void check_roundtrip(const char *addrs, const char *client, const char *server)
{
    pc_sbuf w = {0};
    log_session(&w, addrs, 1);
    char path[128], err[256];
    snprintf(path, sizeof path, "/tmp/ppc-evidence-%d.pcap", (int)getpid());
    assert_int_equal(pc_wire_to_pcap(&w, path, err, sizeof err), 0);
    pc_capture cap;
    memset(&cap, 0, sizeof cap);
    assert_int_equal(pc_pcap_read(path, NULL, &cap, err, sizeof err), 0);
    assert_int_equal(cap.n, 1);
    assert_int_equal(cap.skipped, 0);
    char ep[80];
    pc_flow_endpoint(&cap.flows[0], 0, ep, sizeof ep);
    assert_string_equal(ep, client);
    pc_flow_endpoint(&cap.flows[0], 1, ep, sizeof ep);
    assert_string_equal(ep, server);
    pc_stream cs, ss;
    pc_flow_stream(&cap.flows[0], 1, &cs);
    pc_flow_stream(&cap.flows[0], 0, &ss);
    assert_int_equal(cs.len, 46);
    assert_memory_equal(cs.data, "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n\x10\x0c", 34);
    assert_int_equal(cs.nchunks, 2); /* our two writes stay two segments */
    assert_int_equal(ss.len, 4);
    assert_true(ss.fin);
    pc_stream_free(&cs);
    pc_stream_free(&ss);
    pc_capture_free(&cap);
    pc_sbuf_free(&w);
    unlink(path);
}

static void test_synthetic_capture_reassembles_to_the_wire_log_ipv4(void **state)
{
    (void)state;
    check_roundtrip("127.0.0.2:40000|127.0.0.1:1883", "127.0.0.2:40000", "127.0.0.1:1883");
}

static void test_synthetic_capture_reassembles_to_the_wire_log_ipv6(void **state)
{
    (void)state;
    check_roundtrip("[::1]:40001|[::1]:1883", "[::1]:40001", "[::1]:1883");
}

static void test_torn_wire_log_stops_cleanly(void **state)
{
    (void)state;
    pc_sbuf w = {0};
    log_session(&w, "127.0.0.2:1|127.0.0.1:2", 1);
    w.len -= 3; /* a torn last record */
    size_t off = 0, n = 0;
    pc_wire_rec r;
    while (pc_wire_next(&w, &off, &r))
        n++;
    assert_int_equal(n, 4);
    pc_sbuf_free(&w);
}

static void test_evidence_directory_holds_transcript_capture_and_repro(void **state)
{
    (void)state;
    pc_case c;
    memset(&c, 0, sizeof c);
    c.id = (char *)"DET/001 x";
    c.title = (char *)"a case";
    c.level = PC_LEVEL_MUST;
    pc_result r;
    memset(&r, 0, sizeof r);
    r.c = &c;
    r.verdict = PC_FAIL;
    r.repro = pc_strdup("ppconform run 'DET/001 x' --seed 3");
    pc_result_add_check(&r, false, "closed with no CONNACK", "close", "CONNACK", "scenarios/x.lua:3", NULL, PC_LEVEL_MUST);
    pc_sbuf_puts(&r.transcript, "   0.000s #1 sent 14 bytes\n");
    log_session(&r.wire, "127.0.0.2:40000|127.0.0.1:1883", 1);
    char dir[128], err[256], path[300];
    snprintf(dir, sizeof dir, "/tmp/ppc-evidence-dir-%d", (int)getpid());
    assert_int_equal(pc_evidence_write(dir, &r, err, sizeof err), 0);
    assert_non_null(r.evidence_dir);
    assert_non_null(strstr(r.evidence_dir, "DET_001_x")); /* a safe directory name */
    const char *files[] = {"transcript.txt", "capture.pcap", "repro.sh"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", r.evidence_dir, files[i]);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_true(sb.st_size > 0);
        unlink(path);
    }
    rmdir(r.evidence_dir);
    rmdir(dir);
    r.c = NULL;
    pc_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_synthetic_capture_reassembles_to_the_wire_log_ipv4),
        cmocka_unit_test(test_synthetic_capture_reassembles_to_the_wire_log_ipv6),
        cmocka_unit_test(test_torn_wire_log_stops_cleanly),
        cmocka_unit_test(test_evidence_directory_holds_transcript_capture_and_repro),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
