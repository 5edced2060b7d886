/* libFuzzer target for ppbroker's config parser (broker/config.h) on arbitrary text, through
 * the in-memory ppb_config_parse. Whatever the text, the parser either fails with a message
 * that names the file first, or accepts a config whose every value is inside the bounds the
 * rest of the broker relies on (ports, timeouts, max_inflight_messages fits the engine's
 * uint16_t window, ...). Parsing is repeated to check it leaves nothing behind between runs.
 * Paths in the text are only checked for readability (access), never opened for writing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "proxy/proxy.h"

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_broker_config: check failed: %s (line %d)\n", #cond, __LINE__); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#define NAME "fuzz.conf"

static ppb_config cfg, again; /* large (paths per listener): not on the stack */

static bool terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

static void check_listener(const ppb_config *c, const ppb_listener_config *l)
{
    CHECK(terminated(l->name, sizeof l->name) && l->name[0]);
    CHECK(l->kind == PPB_LISTENER_TCP || l->kind == PPB_LISTENER_SSL);
    CHECK(l->has_address && l->first_line >= 1);
    CHECK(terminated(l->address_text, sizeof l->address_text) && l->address_text[0]);
    CHECK(ppb_config_listener(c, l->name) == l); /* names are unique */
    CHECK(l->pp_versions != 0 && (l->pp_versions & ~(unsigned)(PP_ALLOW_V1 | PP_ALLOW_V2)) == 0);
    CHECK(l->pp_timeout_ms >= PPB_MIN_PP_TIMEOUT_MS && l->pp_timeout_ms <= PPB_MAX_PP_TIMEOUT_MS);
    CHECK(l->max_connections >= 1);
    CHECK(l->cn_policy == PPB_CN_REQUIRE || l->cn_policy == PPB_CN_FALLBACK);
    CHECK(l->tls_version_min == PPB_TLS_1_2 || l->tls_version_min == PPB_TLS_1_3);
    CHECK(terminated(l->certfile, sizeof l->certfile) && terminated(l->keyfile, sizeof l->keyfile) &&
          terminated(l->cafile, sizeof l->cafile));
    if (l->kind == PPB_LISTENER_SSL)
        CHECK(l->certfile[0] && l->keyfile[0] && (!l->require_certificate || l->cafile[0]));
    else
        CHECK(!l->certfile[0] && !l->keyfile[0] && !l->cafile[0]);
}

static void check_accepted(const ppb_config *c)
{
    CHECK(c->nlisteners >= 1 && c->nlisteners <= PPB_MAX_LISTENERS);
    for (size_t i = 0; i < c->nlisteners; i++)
        check_listener(c, &c->listeners[i]);
    CHECK(strcmp(c->path, NAME) == 0);
    CHECK(terminated(c->password_file, sizeof c->password_file) && terminated(c->acl_file, sizeof c->acl_file));
    CHECK(c->log_level >= PPB_LOG_DEBUG && c->log_level <= PPB_LOG_ERROR);
    CHECK(c->log_format == PPB_LOG_TEXT || c->log_format == PPB_LOG_JSON);
    CHECK(!c->has_admin || c->admin_text[0]);
    CHECK(c->max_packet_size >= 128 && c->max_packet_size <= PPB_MAX_MAX_PACKET_SIZE);
    /* main.c hands it to the engine as uint16_t: 0 or a wrapped value would be wrong */
    CHECK(c->max_inflight_messages >= 1 && c->max_inflight_messages <= 65535);
    CHECK(c->max_queued_messages <= 1000000);
}

static void check_error(const char *err)
{
    CHECK(terminated(err, PPB_ERR_MAX) && err[0]);
    /* "fuzz.conf:LINE: KEY: REASON" or "fuzz.conf: reason" */
    CHECK(strncmp(err, NAME ":", sizeof NAME) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[PPB_ERR_MAX], err2[PPB_ERR_MAX];
    memset(err, 'x', sizeof err); /* an error message must be terminated by the parser */
    int rc = ppb_config_parse((const char *)data, size, NAME, &cfg, err, sizeof err);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_accepted(&cfg);
    else
        check_error(err);

    /* the same text gives the same answer (no state kept between parses) */
    int rc2 = ppb_config_parse((const char *)data, size, NAME, &again, err2, sizeof err2);
    CHECK(rc2 == rc);
    if (rc != 0)
        CHECK(strcmp(err, err2) == 0);
    else
        CHECK(again.nlisteners == cfg.nlisteners && again.max_inflight_messages == cfg.max_inflight_messages);
    return 0;
}
