/* Integration: real third-party clients (Debian's mosquitto_sub and mosquitto_pub) against
 * ppbroker's plain listener, MQTT 3.1.1 and 5.0 (issue 3 item 4). */
#include "common.h"

#include <stdlib.h>

#include "net/loop.h"

static bh B;
static char body[1 << 18];

static int group_setup(void **state)
{
    (void)state;
    if (access("/usr/bin/mosquitto_sub", X_OK) != 0 || access("/usr/bin/mosquitto_pub", X_OK) != 0) {
        fprintf(stderr, "mosquitto-clients are not installed (scripts/deps.sh test)\n");
        return -1;
    }
    return bh_start(&B, NULL, NULL);
}

static int group_teardown(void **state)
{
    (void)state;
    return bh_stop(&B) == 0 ? 0 : -1;
}

static void host_port(const char *addr, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(addr, ':');
    snprintf(host, hcap, "%.*s", (int)(colon - addr), addr);
    snprintf(port, pcap, "%s", colon + 1);
}

static void pub_sub(const char *version, int qos)
{
    char host[64], port[16], q[4], out[400], cid[64], topic[64], needle[128];
    host_port(B.plain, host, sizeof(host), port, sizeof(port));
    snprintf(q, sizeof(q), "%d", qos);
    snprintf(out, sizeof(out), "%s/sub-%s-%d.out", B.dir, version, qos);
    snprintf(cid, sizeof(cid), "mosq-sub-%s-%d", version, qos);
    snprintf(topic, sizeof(topic), "mosq/%s/%d", version, qos);
    const char *sub_argv[] = {"/usr/bin/mosquitto_sub", "-h", host, "-p", port, "-V", version, "-q", q, "-t", topic,
                              "-i", cid, "-C", "1", "-v", "-W", "20", NULL};
    ts_proc sub;
    assert_int_equal(ts_spawn(&sub, sub_argv, NULL, out, NULL), 0);
    /* Publish only once the subscription exists (seen in the broker's session list). */
    snprintf(needle, sizeof(needle), "\"client_id\":\"%s\"", cid);
    assert_int_equal(bh_wait_body(&B, "/api/v1/sessions", needle, 10000, body, sizeof(body)), 0);
    const char *p = strstr(body, needle);
    long long subs = 0;
    uint64_t deadline = pn_now_ms() + 10000;
    while (!(ts_json_get_int(p, "subscriptions", &subs) && subs == 1) && pn_now_ms() < deadline) {
        assert_int_equal(bh_get(&B, "/api/v1/sessions", body, sizeof(body)), 200);
        p = strstr(body, needle);
        if (!p)
            p = body;
    }
    assert_int_equal(subs, 1);
    const char *pub_argv[] = {"/usr/bin/mosquitto_pub", "-h", host, "-p", port, "-V", version, "-q", q, "-t", topic,
                              "-m", "hello from mosquitto_pub", NULL};
    ts_proc pub;
    ts_exit ex;
    assert_int_equal(ts_spawn(&pub, pub_argv, NULL, NULL, NULL), 0);
    assert_int_equal(ts_wait_exit(&pub, 10000, &ex), 0);
    assert_true(ex.exited);
    assert_int_equal(ex.code, 0);
    assert_int_equal(ts_wait_exit(&sub, 10000, &ex), 0);
    assert_true(ex.exited);
    assert_int_equal(ex.code, 0);
    char line[256], want[128];
    snprintf(want, sizeof(want), "%s hello from mosquitto_pub", topic);
    assert_int_equal(ts_wait_line(out, want, 2000, line, sizeof(line)), 0);
}

static void test_mosquitto_clients_mqttv311_qos0(void **state) { (void)state; pub_sub("mqttv311", 0); }
static void test_mosquitto_clients_mqttv311_qos1(void **state) { (void)state; pub_sub("mqttv311", 1); }
static void test_mosquitto_clients_mqttv5_qos2(void **state) { (void)state; pub_sub("mqttv5", 2); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mosquitto_clients_mqttv311_qos0),
        cmocka_unit_test(test_mosquitto_clients_mqttv311_qos1),
        cmocka_unit_test(test_mosquitto_clients_mqttv5_qos2),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
