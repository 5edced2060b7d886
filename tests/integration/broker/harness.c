/* tests/integration/broker/harness: ppbroker process control (see harness.h). */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/loop.h"

const char *bh_ppbroker(void)
{
    return PPC_BIN_DIR "/ppbroker";
}

int bh_listener_address(bh *h, const char *name, char *out, size_t cap)
{
    char json[8192], obj[1024];
    if (ts_read_file(h->ready, json, sizeof(json)) < 0)
        return -1;
    if (ts_json_get(json, name, obj, sizeof(obj)) < 0)
        return -1;
    return ts_json_get(obj, "address", out, cap) < 0 ? -1 : 0;
}

int bh_start_config(bh *h, const char *config, const char *const *quirks)
{
    memset(h, 0, sizeof(*h));
    if (ts_tmpdir("broker", h->dir, sizeof(h->dir)) != 0)
        return -1;
    snprintf(h->config, sizeof(h->config), "%s/ppbroker.conf", h->dir);
    snprintf(h->ready, sizeof(h->ready), "%s/ready.json", h->dir);
    snprintf(h->log, sizeof(h->log), "%s/ppbroker.log", h->dir);
    if (ts_write_file(h->config, config, strlen(config)) != 0)
        return -1;
    const char *argv[64];
    size_t n = 0;
    /* PPC_BROKER_WRAPPER="valgrind --error-exitcode=99 --leak-check=full" runs the broker
     * under a tool; a finding then fails bh_stop's exit-status check. */
    static char wrapper[512];
    const char *w = getenv("PPC_BROKER_WRAPPER");
    if (w && *w) {
        snprintf(wrapper, sizeof(wrapper), "%s", w);
        char *save = NULL;
        for (char *tok = strtok_r(wrapper, " ", &save); tok && n < 16; tok = strtok_r(NULL, " ", &save))
            argv[n++] = tok;
    }
    argv[n++] = bh_ppbroker();
    argv[n++] = "-c";
    argv[n++] = h->config;
    argv[n++] = "--ready-file";
    argv[n++] = h->ready;
    argv[n++] = "--log-file";
    argv[n++] = h->log;
    for (size_t i = 0; quirks && quirks[i] && n < 60; i++) {
        argv[n++] = "--quirk";
        argv[n++] = quirks[i];
    }
    argv[n] = NULL;
    if (ts_spawn(&h->proc, argv, NULL, h->log, h->log) != 0)
        return -1;
    char json[8192];
    if (ts_wait_json_file(h->ready, 30000, json, sizeof(json)) != 0) {
        fprintf(stderr, "ppbroker did not get ready: %s\n", ts_last_error());
        return -1;
    }
    ts_json_get(json, "admin", h->admin, sizeof(h->admin));
    bh_listener_address(h, "pp", h->pp, sizeof(h->pp));
    bh_listener_address(h, "plain", h->plain, sizeof(h->plain));
    bh_listener_address(h, "v2only", h->v2only, sizeof(h->v2only));
    return 0;
}

int bh_start(bh *h, const char *extra, const char *const *quirks)
{
    char config[8192];
    snprintf(config, sizeof(config),
             "listener.tcp.pp = 127.0.0.1:0\n"
             "listener.tcp.pp.proxy_protocol = on\n"
             "listener.tcp.plain = 127.0.0.1:0\n"
             "listener.tcp.v2only = 127.0.0.1:0\n"
             "listener.tcp.v2only.proxy_protocol = on\n"
             "listener.tcp.v2only.proxy_protocol_versions = 2\n"
             "admin.listener = 127.0.0.1:0\n"
             "log.format = json\n"
             "log.console.level = debug\n"
             "%s",
             extra ? extra : "");
    return bh_start_config(h, config, quirks);
}

int bh_stop(bh *h)
{
    ts_exit ex;
    memset(&ex, 0, sizeof(ex));
    int rc = ts_stop(&h->proc, 10000, &ex);
    if (getenv("PPC_KEEP_TMP") == NULL)
        ts_rmtree(h->dir);
    if (rc != 0 || !ex.exited)
        return -1;
    return ex.code;
}

int bh_get(bh *h, const char *path, char *buf, size_t cap)
{
    pn_addr a;
    if (pn_addr_parse(h->admin, &a) != 0)
        return -1;
    pn_http_reply r = {.body = buf, .body_cap = cap};
    char err[256];
    if (pn_http_get(&a, path, 5000, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "GET %s: %s\n", path, err);
        return -1;
    }
    return r.status;
}

int bh_wait_body(bh *h, const char *path, const char *needle, int timeout_ms, char *buf, size_t cap)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    do {
        if (bh_get(h, path, buf, cap) == 200 && strstr(buf, needle))
            return 0;
        /* Poll again: the broker processes the connection asynchronously; the admin round
         * trip itself paces the loop, and the deadline bounds it. */
    } while (pn_now_ms() < deadline);
    return -1;
}

int bh_wait_conn(bh *h, const char *real_peer, const char *state, long long header_bytes, int timeout_ms)
{
    static char body[1 << 18];
    char needle[128];
    snprintf(needle, sizeof(needle), "\"real_peer\":\"%s\"", real_peer);
    uint64_t deadline = pn_now_ms() + (uint64_t)timeout_ms;
    do {
        if (bh_get(h, "/api/v1/connections", body, sizeof(body)) != 200)
            continue;
        const char *p = strstr(body, needle);
        if (!p)
            continue;
        char st[32];
        long long n = -1;
        if (ts_json_get(p, "state", st, sizeof(st)) < 0 || strcmp(st, state) != 0)
            continue;
        if (header_bytes >= 0 && (!ts_json_get_int(p, "header_bytes", &n) || n != header_bytes))
            continue;
        return 0;
    } while (pn_now_ms() < deadline);
    return -1;
}
