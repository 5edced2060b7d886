/* broker/config: the vernemq.conf-style parser (see config.h for the rules). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proxy/proxy.h"

#define MAX_LINE 4096
#define MAX_FILE (1u << 20)
#define MAX_SEEN 1024

void ppb_config_defaults(ppb_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->allow_anonymous = true;
    cfg->log_level = PPB_LOG_INFO;
    cfg->log_format = PPB_LOG_TEXT;
    cfg->max_packet_size = PPB_DEFAULT_MAX_PACKET_SIZE;
    cfg->max_inflight_messages = PPB_DEFAULT_MAX_INFLIGHT;
    cfg->max_queued_messages = PPB_DEFAULT_MAX_QUEUED;
}

static void listener_defaults(ppb_listener_config *l)
{
    memset(l, 0, sizeof(*l));
    l->pp_versions = PP_ALLOW_V1 | PP_ALLOW_V2;
    l->pp_timeout_ms = PPB_DEFAULT_PP_TIMEOUT_MS;
    l->max_connections = PPB_DEFAULT_MAX_CONNECTIONS;
    l->cn_policy = PPB_CN_REQUIRE;
    l->tls_version_min = PPB_TLS_1_2;
}

const char *ppb_log_level_name(enum ppb_log_level l)
{
    switch (l) {
    case PPB_LOG_DEBUG: return "debug";
    case PPB_LOG_INFO: return "info";
    case PPB_LOG_WARNING: return "warning";
    case PPB_LOG_ERROR: return "error";
    }
    return "info";
}

/* ---- value parsers --------------------------------------------------------------------- */

int ppb_parse_bool(const char *v, bool *out, const char **why)
{
    if (strcmp(v, "on") == 0) {
        *out = true;
        return 0;
    }
    if (strcmp(v, "off") == 0) {
        *out = false;
        return 0;
    }
    *why = "expected on or off";
    return -1;
}

/* Decimal digits only, no sign, no leading zero (except "0"), at most max. */
static int parse_uint(const char *v, size_t n, unsigned long long max, unsigned long long *out)
{
    if (n == 0)
        return -1;
    if (n > 1 && v[0] == '0')
        return -1;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        unsigned d = (unsigned)(v[i] - '0');
        if (x > (max - d) / 10)
            return -2;
        x = x * 10 + d;
    }
    *out = x;
    return 0;
}

static int parse_bounded(const char *v, unsigned long long lo, unsigned long long hi,
                         unsigned long long *out, const char **why, const char *range_msg)
{
    unsigned long long x = 0;
    int r = parse_uint(v, strlen(v), ~0ULL, &x);
    if (r == -1) {
        *why = "expected a decimal integer";
        return -1;
    }
    if (r == -2 || x < lo || x > hi) {
        *why = range_msg;
        return -1;
    }
    *out = x;
    return 0;
}

int ppb_parse_duration_ms(const char *v, unsigned *out_ms, const char **why)
{
    size_t n = strlen(v);
    unsigned long long mult;
    size_t digits;
    if (n > 2 && strcmp(v + n - 2, "ms") == 0) {
        mult = 1;
        digits = n - 2;
    } else if (n > 1 && v[n - 1] == 's') {
        mult = 1000;
        digits = n - 1;
    } else {
        *why = "expected a duration with a unit, e.g. 5s or 5000ms";
        return -1;
    }
    unsigned long long x = 0;
    int r = parse_uint(v, digits, 1000000000ULL, &x);
    if (r == -1) {
        *why = "expected a duration with a unit, e.g. 5s or 5000ms";
        return -1;
    }
    if (r == -2 || x * mult > PPB_MAX_PP_TIMEOUT_MS) {
        *why = "duration too long (at most 3600s)";
        return -1;
    }
    *out_ms = (unsigned)(x * mult);
    return 0;
}

int ppb_parse_address(const char *v, pn_addr *out, const char **why)
{
    if (pn_addr_parse(v, out) != 0) {
        *why = "expected IP:PORT or [IPv6]:PORT (port 0..65535; 0 picks a free port)";
        return -1;
    }
    return 0;
}

int ppb_parse_cidr_list(const char *v, ppb_cidr_list *out, char *why, size_t whycap)
{
    memset(out, 0, sizeof(*out));
    if (pn_cidr_list_parse(v, &out->list, why, whycap) != 0)
        return -1;
    if (out->list.count == 0) {
        snprintf(why, whycap, "empty CIDR list");
        return -1;
    }
    out->set = true;
    return 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int parse_versions(const char *v, unsigned *out, const char **why)
{
    unsigned mask = 0;
    const char *p = v;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        const char *s = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - s);
        while (*p == ' ' || *p == '\t')
            p++;
        if (n == 1 && *s == '1')
            mask |= PP_ALLOW_V1;
        else if (n == 1 && *s == '2')
            mask |= PP_ALLOW_V2;
        else {
            *why = n == 0 && mask == 0 ? "expected 1, 2 or 1,2"
                                       : "unknown PROXY protocol version (expected 1, 2 or 1,2)";
            return -1;
        }
        if (*p == '\0')
            break;
        if (*p != ',') {
            *why = "unknown PROXY protocol version (expected 1, 2 or 1,2)";
            return -1;
        }
        p++;
    }
    *out = mask;
    return 0;
}

/* ---- the file parser ------------------------------------------------------------------- */

typedef struct parse_state {
    const char *name;
    ppb_config *cfg;
    char *err;
    size_t errcap;
    int line;
    struct {
        char key[160];
        int line;
    } seen[MAX_SEEN];
    size_t nseen;
} parse_state;

static int fail(parse_state *st, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parse_state *st, const char *key, const char *fmt, ...)
{
    char reason[PPB_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (key)
        snprintf(st->err, st->errcap, "%s:%d: %s: %s", st->name, st->line, key, reason);
    else
        snprintf(st->err, st->errcap, "%s:%d: %s", st->name, st->line, reason);
    return -1;
}

static bool valid_listener_name(const char *s, size_t n)
{
    if (n == 0 || n >= PPB_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

static ppb_listener_config *get_listener(parse_state *st, const char *key, enum ppb_listener_kind kind,
                                         const char *name, size_t n)
{
    ppb_config *cfg = st->cfg;
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        ppb_listener_config *l = &cfg->listeners[i];
        if (strlen(l->name) == n && memcmp(l->name, name, n) == 0) {
            if (l->kind != kind) {
                fail(st, key, "listener name '%s' is already used by listener.%s.%s (line %d)", l->name,
                     l->kind == PPB_LISTENER_TCP ? "tcp" : "ssl", l->name, l->first_line);
                return NULL;
            }
            return l;
        }
    }
    if (cfg->nlisteners >= PPB_MAX_LISTENERS) {
        fail(st, key, "too many listeners (at most %d)", PPB_MAX_LISTENERS);
        return NULL;
    }
    ppb_listener_config *l = &cfg->listeners[cfg->nlisteners++];
    listener_defaults(l);
    memcpy(l->name, name, n);
    l->name[n] = '\0';
    l->kind = kind;
    l->first_line = st->line;
    return l;
}

static int check_readable(parse_state *st, const char *key, const char *path)
{
    if (access(path, R_OK) != 0)
        return fail(st, key, "cannot read '%s': %s", path, strerror(errno));
    return 0;
}

static int set_path(parse_state *st, const char *key, const char *v, char *dst, bool must_exist)
{
    if (strlen(v) >= PPB_PATH_MAX)
        return fail(st, key, "path too long");
    if (must_exist && check_readable(st, key, v) != 0)
        return -1;
    strcpy(dst, v);
    return 0;
}

static int listener_option(parse_state *st, const char *key, ppb_listener_config *l, const char *opt,
                           const char *v)
{
    const char *why = NULL;
    unsigned long long n;
    if (strcmp(opt, "proxy_protocol") == 0) {
        if (ppb_parse_bool(v, &l->proxy_protocol, &why) != 0)
            return fail(st, key, "%s", why);
    } else if (strcmp(opt, "proxy_protocol_versions") == 0) {
        if (parse_versions(v, &l->pp_versions, &why) != 0)
            return fail(st, key, "%s", why);
    } else if (strcmp(opt, "proxy_protocol_timeout") == 0) {
        if (ppb_parse_duration_ms(v, &l->pp_timeout_ms, &why) != 0)
            return fail(st, key, "%s", why);
        if (l->pp_timeout_ms < PPB_MIN_PP_TIMEOUT_MS)
            return fail(st, key, "below 3s is refused: a header may need one TCP retransmission (R-GEN-12)");
    } else if (strcmp(opt, "max_connections") == 0) {
        if (parse_bounded(v, 1, 1000000, &n, &why, "out of range (1..1000000)") != 0)
            return fail(st, key, "%s", why);
        l->max_connections = (unsigned)n;
    } else if (strcmp(opt, "proxy_protocol_use_cn_as_username") == 0) {
        if (ppb_parse_bool(v, &l->use_cn_as_username, &why) != 0)
            return fail(st, key, "%s", why);
    } else if (strcmp(opt, "proxy_protocol_cn_policy") == 0) {
        if (strcmp(v, "require") == 0)
            l->cn_policy = PPB_CN_REQUIRE;
        else if (strcmp(v, "fallback") == 0)
            l->cn_policy = PPB_CN_FALLBACK;
        else
            return fail(st, key, "expected require or fallback");
    } else if (strcmp(opt, "proxy_protocol_trusted_proxies") == 0) {
        char reason[160];
        if (ppb_parse_cidr_list(v, &l->trusted_proxies, reason, sizeof(reason)) != 0)
            return fail(st, key, "%s", reason);
    } else if (strcmp(opt, "proxy_protocol_require_crc32c") == 0) {
        if (ppb_parse_bool(v, &l->require_crc32c, &why) != 0)
            return fail(st, key, "%s", why);
    } else if (strcmp(opt, "allowed_sources") == 0) {
        char reason[160];
        if (ppb_parse_cidr_list(v, &l->allowed_sources, reason, sizeof(reason)) != 0)
            return fail(st, key, "%s", reason);
    } else if (strcmp(opt, "certfile") == 0 || strcmp(opt, "keyfile") == 0 || strcmp(opt, "cafile") == 0 ||
               strcmp(opt, "require_certificate") == 0 || strcmp(opt, "use_identity_as_username") == 0 ||
               strcmp(opt, "tls_version_min") == 0) {
        if (l->kind != PPB_LISTENER_SSL)
            return fail(st, key, "only valid on listener.ssl.%s listeners", l->name);
        if (strcmp(opt, "certfile") == 0)
            return set_path(st, key, v, l->certfile, true);
        if (strcmp(opt, "keyfile") == 0)
            return set_path(st, key, v, l->keyfile, true);
        if (strcmp(opt, "cafile") == 0)
            return set_path(st, key, v, l->cafile, true);
        if (strcmp(opt, "require_certificate") == 0) {
            if (ppb_parse_bool(v, &l->require_certificate, &why) != 0)
                return fail(st, key, "%s", why);
        } else if (strcmp(opt, "use_identity_as_username") == 0) {
            if (ppb_parse_bool(v, &l->use_identity_as_username, &why) != 0)
                return fail(st, key, "%s", why);
        } else {
            if (strcasecmp(v, "tlsv1.2") == 0)
                l->tls_version_min = PPB_TLS_1_2;
            else if (strcasecmp(v, "tlsv1.3") == 0)
                l->tls_version_min = PPB_TLS_1_3;
            else
                return fail(st, key, "expected tlsv1.2 or tlsv1.3");
        }
    } else {
        return fail(st, key, "unknown listener option '%s'", opt);
    }
    return 0;
}

static int listener_key(parse_state *st, const char *key, const char *v)
{
    /* listener.(tcp|ssl).NAME[.OPTION] */
    const char *rest = key + strlen("listener.");
    enum ppb_listener_kind kind;
    if (strncmp(rest, "tcp.", 4) == 0)
        kind = PPB_LISTENER_TCP;
    else if (strncmp(rest, "ssl.", 4) == 0)
        kind = PPB_LISTENER_SSL;
    else
        return fail(st, key, "unknown listener kind (expected listener.tcp.NAME or listener.ssl.NAME)");
    const char *name = rest + 4;
    const char *dot = strchr(name, '.');
    size_t nlen = dot ? (size_t)(dot - name) : strlen(name);
    if (!valid_listener_name(name, nlen))
        return fail(st, key, "bad listener name (letters, digits, '_' and '-', at most 63)");
    ppb_listener_config *l = get_listener(st, key, kind, name, nlen);
    if (!l)
        return -1;
    if (!dot) {
        const char *why;
        if (ppb_parse_address(v, &l->addr, &why) != 0)
            return fail(st, key, "%s", why);
        l->has_address = true;
        pn_addr_to_text(&l->addr, l->address_text, sizeof(l->address_text));
        return 0;
    }
    return listener_option(st, key, l, dot + 1, v);
}

static int global_key(parse_state *st, const char *key, const char *v)
{
    ppb_config *cfg = st->cfg;
    const char *why = NULL;
    unsigned long long n;
    if (strcmp(key, "allow_anonymous") == 0) {
        if (ppb_parse_bool(v, &cfg->allow_anonymous, &why) != 0)
            return fail(st, key, "%s", why);
    } else if (strcmp(key, "password_file") == 0) {
        return set_path(st, key, v, cfg->password_file, true);
    } else if (strcmp(key, "acl_file") == 0) {
        return set_path(st, key, v, cfg->acl_file, true);
    } else if (strcmp(key, "log.console.level") == 0) {
        if (strcmp(v, "debug") == 0)
            cfg->log_level = PPB_LOG_DEBUG;
        else if (strcmp(v, "info") == 0)
            cfg->log_level = PPB_LOG_INFO;
        else if (strcmp(v, "warning") == 0)
            cfg->log_level = PPB_LOG_WARNING;
        else if (strcmp(v, "error") == 0)
            cfg->log_level = PPB_LOG_ERROR;
        else
            return fail(st, key, "expected debug, info, warning or error");
    } else if (strcmp(key, "log.format") == 0) {
        if (strcmp(v, "json") == 0)
            cfg->log_format = PPB_LOG_JSON;
        else if (strcmp(v, "text") == 0)
            cfg->log_format = PPB_LOG_TEXT;
        else
            return fail(st, key, "expected json or text");
    } else if (strcmp(key, "admin.listener") == 0) {
        if (ppb_parse_address(v, &cfg->admin_addr, &why) != 0)
            return fail(st, key, "%s", why);
        cfg->has_admin = true;
        pn_addr_to_text(&cfg->admin_addr, cfg->admin_text, sizeof(cfg->admin_text));
    } else if (strcmp(key, "max_packet_size") == 0) {
        if (parse_bounded(v, 128, PPB_MAX_MAX_PACKET_SIZE, &n, &why, "out of range (128..268435455)") != 0)
            return fail(st, key, "%s", why);
        cfg->max_packet_size = (uint32_t)n;
    } else if (strcmp(key, "max_inflight_messages") == 0) {
        if (parse_bounded(v, 1, 65535, &n, &why, "out of range (1..65535)") != 0)
            return fail(st, key, "%s", why);
        cfg->max_inflight_messages = (uint32_t)n;
    } else if (strcmp(key, "max_queued_messages") == 0) {
        if (parse_bounded(v, 0, 1000000, &n, &why, "out of range (0..1000000)") != 0)
            return fail(st, key, "%s", why);
        cfg->max_queued_messages = (uint32_t)n;
    } else {
        return fail(st, key, "unknown key");
    }
    return 0;
}

static int remember_key(parse_state *st, const char *key)
{
    for (size_t i = 0; i < st->nseen; i++)
        if (strcmp(st->seen[i].key, key) == 0)
            return fail(st, key, "set twice (first at line %d)", st->seen[i].line);
    if (st->nseen >= MAX_SEEN)
        return fail(st, key, "too many keys (at most %d)", MAX_SEEN);
    if (strlen(key) >= sizeof(st->seen[0].key))
        return fail(st, NULL, "key too long");
    strcpy(st->seen[st->nseen].key, key);
    st->seen[st->nseen].line = st->line;
    st->nseen++;
    return 0;
}

static int parse_line(parse_state *st, char *line)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (!eq)
        return fail(st, NULL, "expected 'key = value'");
    *eq = '\0';
    char *key = trim(s);
    char *value = trim(eq + 1);
    if (*key == '\0')
        return fail(st, NULL, "missing key before '='");
    for (const char *k = key; *k; k++)
        if (!isalnum((unsigned char)*k) && *k != '.' && *k != '_' && *k != '-')
            return fail(st, NULL, "bad key '%s' (letters, digits, '.', '_' and '-')", key);
    if (*value == '\0')
        return fail(st, key, "empty value");
    if (remember_key(st, key) != 0)
        return -1;
    if (strncmp(key, "listener.", 9) == 0)
        return listener_key(st, key, value);
    return global_key(st, key, value);
}

static int validate(parse_state *st)
{
    ppb_config *cfg = st->cfg;
    if (cfg->nlisteners == 0) {
        snprintf(st->err, st->errcap, "%s: no listener configured (add listener.tcp.NAME = IP:PORT)", st->name);
        return -1;
    }
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        ppb_listener_config *l = &cfg->listeners[i];
        const char *kind = l->kind == PPB_LISTENER_TCP ? "tcp" : "ssl";
        char key[PPB_NAME_MAX + 16];
        snprintf(key, sizeof(key), "listener.%s.%s", kind, l->name);
        st->line = l->first_line;
        if (!l->has_address)
            return fail(st, key, "no address (set %s = IP:PORT)", key);
        if (l->kind == PPB_LISTENER_SSL) {
            if (!l->certfile[0] || !l->keyfile[0])
                return fail(st, key, "an ssl listener needs certfile and keyfile");
            if (l->require_certificate && !l->cafile[0])
                return fail(st, key, "require_certificate = on needs a cafile");
        }
    }
    return 0;
}

int ppb_config_parse(const char *text, size_t len, const char *name, ppb_config *cfg, char *err,
                     size_t errcap)
{
    parse_state *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errcap, "%s: out of memory", name);
        return -1;
    }
    ppb_config_defaults(cfg);
    snprintf(cfg->path, sizeof(cfg->path), "%s", name);
    st->name = name;
    st->cfg = cfg;
    st->err = err;
    st->errcap = errcap;
    int rc = 0;
    size_t pos = 0;
    char line[MAX_LINE + 1];
    while (pos < len && rc == 0) {
        st->line++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        if (memchr(text + pos, '\0', n)) {
            rc = fail(st, NULL, "NUL byte in line");
        } else if (n > MAX_LINE) {
            rc = fail(st, NULL, "line too long (at most %d bytes)", MAX_LINE);
        } else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rc = parse_line(st, line);
        }
        pos = end + 1;
    }
    if (rc == 0)
        rc = validate(st);
    free(st);
    return rc;
}

int ppb_config_load(const char *path, ppb_config *cfg, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errcap, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, MAX_FILE + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        snprintf(err, errcap, "%s: read error", path);
        return -1;
    }
    if (n > MAX_FILE) {
        free(buf);
        snprintf(err, errcap, "%s: file too large (at most 1 MiB)", path);
        return -1;
    }
    int rc = ppb_config_parse(buf, n, path, cfg, err, errcap);
    free(buf);
    return rc;
}

const ppb_listener_config *ppb_config_listener(const ppb_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->nlisteners; i++)
        if (strcmp(cfg->listeners[i].name, name) == 0)
            return &cfg->listeners[i];
    return NULL;
}
