/* proxysend against ppbroker (the contract in /tmp/ppc-broker-contract.md): every valid
 * profile is accepted and the admin API shows the carried source; every malformation is
 * refused without a CONNACK. ppbroker is started with --ready-file and stopped by its PID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "psit.h"

#ifndef PPBROKER_BIN
#error "PPBROKER_BIN must point at the ppbroker binary"
#endif

static ts_proc broker;
static char pp_addr[80], admin_addr[80];

static int start_broker(void **state)
{
    if (psit_setup(state))
        return -1;
    char cfg[600], rf[600], log[600];
    psit_path(cfg, sizeof cfg, "ppbroker.conf");
    psit_path(rf, sizeof rf, "ppbroker.ready");
    psit_path(log, sizeof log, "ppbroker.log");
    const char *conf = "listener.tcp.pp = 127.0.0.1:0\n"
                       "listener.tcp.pp.proxy_protocol = on\n"
                       "listener.tcp.pp.proxy_protocol_timeout = 3s\n"
                       "allow_anonymous = on\n"
                       "admin.listener = 127.0.0.1:0\n";
    if (ts_write_file(cfg, conf, strlen(conf)))
        return -1;
    if (ts_spawn(&broker, (const char *[]){PPBROKER_BIN, "-c", cfg, "--ready-file", rf, NULL}, NULL, log, log))
        return -1;
    char ready[4096];
    if (ts_wait_json_file(rf, PSIT_WAIT_MS, ready, sizeof ready))
        return -1;
    char listeners[2048], pp[1024];
    if (ts_json_get(ready, "admin", admin_addr, sizeof admin_addr) <= 0 ||
        ts_json_get(ready, "listeners", listeners, sizeof listeners) <= 0 ||
        ts_json_get(listeners, "pp", pp, sizeof pp) <= 0 || ts_json_get(pp, "address", pp_addr, sizeof pp_addr) <= 0)
        return -1;
    return 0;
}

static int stop_broker(void **state)
{
    ts_stop(&broker, 5000, NULL);
    return psit_teardown(state);
}

/* GET path from the admin API; body into out. */
static void admin_get(const char *path, char *out, size_t cap)
{
    int fd = ts_connect(admin_addr, NULL, PSIT_WAIT_MS);
    assert_true(fd >= 0);
    char req[256];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    assert_int_equal(ts_send_str(fd, req, PSIT_WAIT_MS), 0);
    size_t got;
    ts_end e = ts_read(fd, out, cap - 1, 0, PSIT_WAIT_MS, &got);
    close(fd);
    assert_true(e == TS_END_FIN || e == TS_END_COUNT);
    out[got] = '\0';
    char *body = strstr(out, "\r\n\r\n");
    assert_non_null(body);
    memmove(out, body + 4, strlen(body + 4) + 1);
}

static void accepted_with_source(const char *profile, const char *src, const char *const *extra)
{
    char cid[64];
    snprintf(cid, sizeof cid, "ps-%s", profile);
    const char *args[40] = {"--profile", profile, "--mqtt-connect", "--client-id", cid, "--expect", "connack=0"};
    size_t n = 7;
    if (src) {
        args[n++] = "--src";
        args[n++] = src;
    }
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n++] = pp_addr;
    args[n] = NULL;
    int code = psit_run(args, "out", "err");
    if (code != 0) {
        char o[4096];
        psit_read("out", o, sizeof o);
        fail_msg("profile %s: exit %d, output:\n%s", profile, code, o);
    }
    if (!src)
        return;
    static char ev[1 << 20];
    admin_get("/api/v1/events?since=0", ev, sizeof ev);
    char want[128];
    snprintf(want, sizeof want, "\"attributed_peer\":\"%s\"", src);
    if (!strstr(ev, want))
        fail_msg("profile %s: %s not in the broker's events", profile, want);
}

static void test_valid_profiles_accepted_with_carried_source(void **state)
{
    (void)state;
    accepted_with_source("haproxy-v1", "203.0.113.1:40001", NULL);
    accepted_with_source("haproxy-v2", "203.0.113.2:40002", NULL);
    accepted_with_source("haproxy-v2-ssl", "203.0.113.3:40003", NULL);
    accepted_with_source("haproxy-v2-ssl-cn", "203.0.113.4:40004", (const char *[]){"--tlv", "ssl-cn=alice", NULL});
    accepted_with_source("nginx-v1", "203.0.113.5:40005", NULL);
    accepted_with_source("aws-nlb", "203.0.113.6:40006", NULL);
    accepted_with_source("haproxy-v2", "[2001:db8::7]:40007", NULL);
    /* LOCAL health checks: accepted, the real peer is used */
    accepted_with_source("haproxy-healthcheck", NULL, NULL);
    accepted_with_source("aws-nlb-healthcheck", NULL, NULL);
}

/* The rejection event of the connection from local (proxysend's own address), or NULL. */
static const char *rejection_for(const char *rej, const char *local, char *event, size_t cap)
{
    char want[128];
    snprintf(want, sizeof want, "\"real_peer\":\"%s\"", local);
    const char *at = strstr(rej, want);
    if (!at)
        return NULL;
    const char *start = at;
    static const char seq[] = "{\"seq\"";
    while (start > rej && strncmp(start, seq, sizeof seq - 1) != 0)
        start--;
    const char *end = strstr(at, seq);
    size_t n = end ? (size_t)(end - start) : strlen(start);
    snprintf(event, cap, "%.*s", (int)(n < cap ? n : cap - 1), start);
    return event;
}

/* The mutation is refused without a CONNACK, with a rejection event whose reason is `reason`
 * ("*": any; NULL: the error lib/proxy gives for the same header bytes in a dry run). */
static void refused_as(const char *const *mutation, const char *reason)
{
    char what[256] = "";
    for (size_t i = 0; mutation[i]; i++)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%s%s", i ? " " : "", mutation[i]);
    const char *args[40] = {"--mqtt-connect", "--expect", "close", "--timeout", "8s", "--json"};
    size_t n = 6;
    for (size_t i = 0; mutation[i]; i++)
        args[n++] = mutation[i];
    args[n++] = pp_addr;
    args[n] = NULL;
    int code = psit_run(args, "out", "err");
    char o[8192];
    psit_read("out", o, sizeof o);
    if (code != 0)
        fail_msg("'%s' was not refused (exit %d):\n%s", what, code, o);
    if (!strstr(o, "\"connack\":null"))
        fail_msg("'%s' got a CONNACK:\n%s", what, o);
    char local[80];
    assert_true(ts_json_get(o, "local", local, sizeof local) > 0);

    static char rej[1 << 20];
    char event[4096];
    admin_get("/api/v1/rejections", rej, sizeof rej);
    if (!rejection_for(rej, local, event, sizeof event))
        fail_msg("'%s': no rejection event for %s", what, local);
    char error[80], want[128];
    if (reason && strcmp(reason, "*") == 0)
        return;
    if (reason) {
        snprintf(error, sizeof error, "%s", reason);
        goto check;
    }
    /* same bytes, decoded by lib/proxy in a dry run */
    args[0] = "--dry-run";
    args[1] = "--json";
    n = 2;
    for (size_t i = 0; mutation[i]; i++)
        args[n++] = mutation[i];
    args[n++] = pp_addr;
    args[n] = NULL;
    assert_int_equal(psit_run(args, "dry", "dry.err"), 0);
    char dry[8192];
    psit_read("dry", dry, sizeof dry);
    assert_true(ts_json_get(dry, "error", error, sizeof error) > 0);
check:
    snprintf(want, sizeof want, "\"reason\":\"%s\"", error);
    if (!strstr(event, want))
        fail_msg("'%s': expected %s in the rejection event:\n%s", what, want, event);
}

static void refused(const char *const *mutation)
{
    refused_as(mutation, NULL);
}

static void test_every_mutation_refused(void **state)
{
    (void)state;
    refused((const char *[]){"--mutate", "bad-signature", NULL});
    refused((const char *[]){"--mutate", "bad-signature=0", NULL});
    refused((const char *[]){"--mutate", "version=1", NULL});
    refused((const char *[]){"--mutate", "command=2", NULL});
    refused((const char *[]){"--mutate", "family-byte=0x41", NULL});
    refused((const char *[]){"--mutate", "family-byte=0x13", NULL});
    refused((const char *[]){"--mutate", "len=4", NULL});
    refused_as((const char *[]){"--mutate", "len-delta=1", NULL}, "*"); /* depends on the CONNECT bytes */
    refused((const char *[]){"--tlv", "alpn=mqtt", "--mutate", "tlv-len=alpn:200", NULL});
    refused((const char *[]){"--tlv", "crc32c", "--mutate", "crc-corrupt", NULL});
    refused((const char *[]){"--tlv", "crc32c", "--mutate", "crc-little-endian", NULL});
    refused((const char *[]){"-1", "--mutate", "v1-leading-zeros", NULL});
    refused((const char *[]){"-1", "--mutate", "v1-double-space", NULL});
    refused((const char *[]){"-1", "--mutate", "v1-lf-only", NULL});
    refused_as((const char *[]){"-1", "--mutate", "v1-cr-only", NULL}, "v1.bad_terminator"); /* CR then 0x10 */
    refused((const char *[]){"-1", "--mutate", "v1-overlong", NULL});
    refused((const char *[]){"-1", "--mutate", "v1-lowercase", NULL});
    refused_as((const char *[]){"-1", "--mutate", "v1-no-crlf", NULL}, "*");
    refused((const char *[]){"-1", "--mutate", "v1-text=PROXY TCP5 1.2.3.4 1.2.3.5 1 2\\r\\n", NULL});
    refused((const char *[]){"--mutate", "len-delta=-1", NULL});
    refused((const char *[]){"--tlv", "alpn=a", "--tlv", "alpn=b", NULL});
    refused((const char *[]){"--tlv", "unique-id=hex:"
                                      "4141414141414141414141414141414141414141414141414141414141414141"
                                      "4141414141414141414141414141414141414141414141414141414141414141"
                                      "4141414141414141414141414141414141414141414141414141414141414141"
                                      "4141414141414141414141414141414141414141414141414141414141414141"
                                      "41",
                             NULL});
    refused((const char *[]){"--tlv", "ssl-cn=x", "--mutate", "tlv-len=ssl:3", NULL});
    refused_as((const char *[]){"--no-header", NULL}, "detect.not_proxy");
    refused((const char *[]){"--profile", "nginx-v1", "--src", "[2001:db8::7]:40006", NULL});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_profiles_accepted_with_carried_source),
        cmocka_unit_test(test_every_mutation_refused),
    };
    return cmocka_run_group_tests(tests, start_broker, stop_broker);
}
