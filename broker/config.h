/* broker/config: ppbroker's vernemq.conf-style configuration (`key = value`, `#` comments).
 *
 * Every key of the ppbroker contract is parsed and validated here, before anything is bound.
 * An error names file:line, the key and the reason (exit status 2 in main.c). Keys may come
 * in any order; a listener's address line may follow its option lines. A key set twice is an
 * error (the second line names the first), so a pasted config never silently overrides itself.
 */
#ifndef PPB_CONFIG_H
#define PPB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/addr.h"

#define PPB_MAX_LISTENERS 32
#define PPB_NAME_MAX 64
#define PPB_PATH_MAX 1024
#define PPB_ERR_MAX 512

/* Defaults (documented in docs/ppbroker.md) */
#define PPB_DEFAULT_PP_TIMEOUT_MS 5000u
#define PPB_MIN_PP_TIMEOUT_MS 3000u      /* R-GEN-12: at least one TCP retransmission */
#define PPB_MAX_PP_TIMEOUT_MS 3600000u
#define PPB_DEFAULT_MAX_CONNECTIONS 10000u
#define PPB_DEFAULT_MAX_PACKET_SIZE (1024u * 1024u)
#define PPB_MAX_MAX_PACKET_SIZE 268435455u /* MQTT's largest Remaining Length */
#define PPB_DEFAULT_MAX_INFLIGHT 20u
#define PPB_DEFAULT_MAX_QUEUED 1000u

enum ppb_listener_kind { PPB_LISTENER_TCP = 0, PPB_LISTENER_SSL = 1 };
enum ppb_cn_policy { PPB_CN_REQUIRE = 0, PPB_CN_FALLBACK = 1 };
enum ppb_log_level { PPB_LOG_DEBUG = 0, PPB_LOG_INFO = 1, PPB_LOG_WARNING = 2, PPB_LOG_ERROR = 3 };
enum ppb_log_format { PPB_LOG_TEXT = 0, PPB_LOG_JSON = 1 };
enum ppb_tls_version { PPB_TLS_1_2 = 0, PPB_TLS_1_3 = 1 };

/* A CIDR allow-list as configured; `set` tells an absent key from a present one. */
typedef struct ppb_cidr_list {
    pn_cidr_list list;
    bool set;
} ppb_cidr_list;

typedef struct ppb_listener_config {
    char name[PPB_NAME_MAX];
    enum ppb_listener_kind kind;
    int first_line;                   /* first line that mentioned the listener */
    bool has_address;
    pn_addr addr;                     /* port 0 = pick a free port */
    char address_text[PN_ADDR_TEXT_MAX]; /* as configured, normalised ("127.0.0.1:0", "[::1]:1883") */

    bool proxy_protocol;              /* default off */
    unsigned pp_versions;             /* PP_ALLOW_V1|PP_ALLOW_V2, default both */
    unsigned pp_timeout_ms;           /* default 5000, min 3000 */
    unsigned max_connections;         /* default 10000 */
    bool use_cn_as_username;          /* issue 4 */
    enum ppb_cn_policy cn_policy;     /* issue 4, default require */
    ppb_cidr_list trusted_proxies;    /* issue 4; empty = any peer may send a header */
    bool require_crc32c;              /* issue 4 */
    ppb_cidr_list allowed_sources;    /* issue 4; empty = any attributed address */

    /* ssl listeners only (issue 4) */
    char certfile[PPB_PATH_MAX], keyfile[PPB_PATH_MAX], cafile[PPB_PATH_MAX];
    bool require_certificate;
    bool use_identity_as_username;
    enum ppb_tls_version tls_version_min; /* default TLSv1.2 */
} ppb_listener_config;

typedef struct ppb_config {
    char path[PPB_PATH_MAX];
    ppb_listener_config listeners[PPB_MAX_LISTENERS];
    size_t nlisteners;

    bool allow_anonymous;             /* default on */
    char password_file[PPB_PATH_MAX]; /* "" = none */
    char acl_file[PPB_PATH_MAX];      /* issue 4; "" = none */
    enum ppb_log_level log_level;     /* default info */
    enum ppb_log_format log_format;   /* default text */
    bool has_admin;
    pn_addr admin_addr;
    char admin_text[PN_ADDR_TEXT_MAX];
    uint32_t max_packet_size;         /* default 1 MiB */
    uint32_t max_inflight_messages;   /* default 20 */
    uint32_t max_queued_messages;     /* default 1000 */
} ppb_config;

void ppb_config_defaults(ppb_config *cfg);

/* Parse a file. Returns 0, or -1 with err = "FILE:LINE: KEY: REASON" (or "FILE: reason"). */
int ppb_config_load(const char *path, ppb_config *cfg, char *err, size_t errcap);
/* Parse text already in memory; `name` stands for the file in messages. */
int ppb_config_parse(const char *text, size_t len, const char *name, ppb_config *cfg,
                     char *err, size_t errcap);

const ppb_listener_config *ppb_config_listener(const ppb_config *cfg, const char *name);

/* Value parsers, exposed for tests and for the CLI. Each returns 0 or -1 with a reason. */
int ppb_parse_bool(const char *v, bool *out, const char **why);
int ppb_parse_duration_ms(const char *v, unsigned *out_ms, const char **why);
int ppb_parse_address(const char *v, pn_addr *out, const char **why);
int ppb_parse_cidr_list(const char *v, ppb_cidr_list *out, char *why, size_t whycap);

const char *ppb_log_level_name(enum ppb_log_level l);

#endif
