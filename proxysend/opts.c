/* Command line -> ps_opts. Every error names the option and the value that was refused. */
#include "opts.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage_error(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return PS_EXIT_USAGE;
}

/* ---- small parsers ----------------------------------------------------------------- */

int ps_parse_duration_ms(const char *text, unsigned *out_ms)
{
    if (!text || !*text)
        return -1;
    errno = 0;
    char *end;
    double v = strtod(text, &end);
    if (errno || end == text || v < 0)
        return -1;
    double scale = 1.0; /* bare number: milliseconds */
    if (strcmp(end, "ms") == 0 || *end == '\0')
        scale = 1.0;
    else if (strcmp(end, "s") == 0)
        scale = 1000.0;
    else if (strcmp(end, "m") == 0)
        scale = 60000.0;
    else
        return -1;
    double ms = v * scale;
    if (ms > 86400000.0)
        return -1;
    *out_ms = (unsigned)(ms + 0.5);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

uint8_t *ps_parse_hex(const char *text, size_t *out_len)
{
    if (!text)
        return NULL;
    size_t n = strlen(text);
    uint8_t *buf = malloc(n / 2 + 1);
    if (!buf)
        return NULL;
    size_t len = 0;
    int hi = -1;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (c == ' ' || c == ':' || c == '\n' || c == '\t' || c == '_')
            continue;
        if (c == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X') && hi < 0) {
            i++;
            continue;
        }
        int v = hexval((unsigned char)c);
        if (v < 0) {
            free(buf);
            return NULL;
        }
        if (hi < 0) {
            hi = v;
        } else {
            buf[len++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) { /* odd number of digits */
        free(buf);
        return NULL;
    }
    *out_len = len;
    return buf;
}

static int parse_ulong(const char *text, unsigned long max, unsigned long *out)
{
    if (!text || !*text || *text == '-' || *text == '+')
        return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(text, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_long(const char *text, long min, long max, long *out)
{
    if (!text || !*text)
        return -1;
    errno = 0;
    char *end;
    long v = strtol(text, &end, 0);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static const struct { const char *name; enum ps_profile p; } PROFILES[] = {
    {"haproxy-v1", PS_PROFILE_HAPROXY_V1},
    {"haproxy-v2", PS_PROFILE_HAPROXY_V2},
    {"haproxy-v2-ssl", PS_PROFILE_HAPROXY_V2_SSL},
    {"haproxy-v2-ssl-cn", PS_PROFILE_HAPROXY_V2_SSL_CN},
    {"haproxy-healthcheck", PS_PROFILE_HAPROXY_HEALTHCHECK},
    {"nginx-v1", PS_PROFILE_NGINX_V1},
    {"aws-nlb", PS_PROFILE_AWS_NLB},
    {"aws-nlb-healthcheck", PS_PROFILE_AWS_NLB_HEALTHCHECK},
};

const char *ps_profile_name(enum ps_profile p)
{
    for (size_t i = 0; i < sizeof PROFILES / sizeof PROFILES[0]; i++)
        if (PROFILES[i].p == p)
            return PROFILES[i].name;
    return "none";
}

enum ps_profile ps_profile_from_name(const char *name)
{
    for (size_t i = 0; i < sizeof PROFILES / sizeof PROFILES[0]; i++)
        if (strcmp(PROFILES[i].name, name) == 0)
            return PROFILES[i].p;
    return PS_PROFILE_NONE;
}

/* ---- --tlv NAME[=VALUE] -------------------------------------------------------------- */

/* A TLV value: text as typed, or bytes after a "hex:" prefix. */
static int tlv_value_bytes(const char *v, uint8_t **out, size_t *len)
{
    if (strncmp(v, "hex:", 4) == 0) {
        *out = ps_parse_hex(v + 4, len);
        return *out ? 0 : -1;
    }
    *len = strlen(v);
    if (*len > PS_MAX_VALUE)
        return -1;
    *out = malloc(*len + 1);
    if (!*out)
        return -1;
    memcpy(*out, v, *len + 1);
    return 0;
}

static const struct { const char *name; uint8_t type; } TEXT_TLVS[] = {
    {"alpn", PP_TLV_ALPN}, {"authority", PP_TLV_AUTHORITY}, {"unique-id", PP_TLV_UNIQUE_ID},
    {"netns", PP_TLV_NETNS},
};
static const struct { const char *name; uint8_t sub; } SSL_SUBS[] = {
    {"ssl-version", PP_SSL_VERSION}, {"ssl-cn", PP_SSL_CN}, {"ssl-cipher", PP_SSL_CIPHER},
    {"ssl-sig-alg", PP_SSL_SIG_ALG}, {"ssl-key-alg", PP_SSL_KEY_ALG}, {"ssl-group", PP_SSL_GROUP},
    {"ssl-sig-scheme", PP_SSL_SIG_SCHEME},
};

/* "ssl,cert-conn,cert-sess" or a number. */
static int parse_client_flags(const char *v, uint32_t *out)
{
    unsigned long n;
    if (parse_ulong(v, 255, &n) == 0) {
        *out = (uint32_t)n;
        return 0;
    }
    uint32_t flags = 0;
    char tmp[128];
    if (strlen(v) >= sizeof tmp)
        return -1;
    strcpy(tmp, v);
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",+|", &save); t; t = strtok_r(NULL, ",+|", &save)) {
        if (strcmp(t, "ssl") == 0) flags |= PP_CLIENT_SSL;
        else if (strcmp(t, "cert-conn") == 0) flags |= PP_CLIENT_CERT_CONN;
        else if (strcmp(t, "cert-sess") == 0) flags |= PP_CLIENT_CERT_SESS;
        else if (strcmp(t, "none") == 0) ;
        else return -1;
    }
    *out = flags;
    return 0;
}

static int parse_tlv(const char *arg, ps_tlv_opt *t, char *err, size_t cap)
{
    memset(t, 0, sizeof *t);
    char name[64];
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nlen == 0 || nlen >= sizeof name)
        return usage_error(err, cap, "--tlv '%s': expected NAME=VALUE", arg);
    memcpy(name, arg, nlen);
    name[nlen] = '\0';
    const char *v = eq ? eq + 1 : NULL;
    t->name = arg;
    t->kind = PS_TLV_PLAIN;

#define NEED_VALUE() \
    do { if (!v) return usage_error(err, cap, "--tlv '%s': %s needs a value (%s=VALUE)", arg, name, name); } while (0)
#define BAD_VALUE(what) return usage_error(err, cap, "--tlv '%s': bad value for %s: %s", arg, name, what)

    for (size_t i = 0; i < sizeof TEXT_TLVS / sizeof TEXT_TLVS[0]; i++) {
        if (strcmp(name, TEXT_TLVS[i].name) == 0) {
            NEED_VALUE();
            t->type = TEXT_TLVS[i].type;
            if (tlv_value_bytes(v, &t->value, &t->len))
                BAD_VALUE("text, or hex:HEX");
            return 0;
        }
    }
    for (size_t i = 0; i < sizeof SSL_SUBS / sizeof SSL_SUBS[0]; i++) {
        if (strcmp(name, SSL_SUBS[i].name) == 0) {
            NEED_VALUE();
            t->kind = PS_TLV_SSL_SUB;
            t->type = SSL_SUBS[i].sub;
            if (tlv_value_bytes(v, &t->value, &t->len))
                BAD_VALUE("text, or hex:HEX");
            return 0;
        }
    }
    if (strcmp(name, "crc32c") == 0) {
        t->type = PP_TLV_CRC32C;
        if (!v || strcmp(v, "auto") == 0) {
            t->kind = PS_TLV_CRC_AUTO;
            return 0;
        }
        t->value = ps_parse_hex(v, &t->len);
        if (!t->value)
            BAD_VALUE("'auto' or HEX");
        return 0;
    }
    if (strcmp(name, "noop") == 0) {
        t->type = PP_TLV_NOOP;
        unsigned long n = 0;
        if (!v || parse_ulong(v, PS_MAX_VALUE, &n) == 0) {
            t->len = n;
            if (!(t->value = calloc(1, n + 1)))
                BAD_VALUE("out of memory");
            return 0;
        }
        if (tlv_value_bytes(v, &t->value, &t->len))
            BAD_VALUE("a byte count, or hex:HEX");
        return 0;
    }
    if (strcmp(name, "aws-vpce") == 0) {
        NEED_VALUE();
        size_t n = strlen(v);
        if (n > PS_MAX_VALUE)
            BAD_VALUE("too long");
        t->type = PP_TLV_AWS;
        t->len = n + 1;
        if (!(t->value = malloc(n + 1)))
            BAD_VALUE("out of memory");
        t->value[0] = 0x01; /* subtype: VPC endpoint id */
        memcpy(t->value + 1, v, n);
        return 0;
    }
    if (strcmp(name, "azure-linkid") == 0) {
        NEED_VALUE();
        unsigned long n;
        if (parse_ulong(v, 0xFFFFFFFFul, &n))
            BAD_VALUE("a 32-bit number");
        t->type = PP_TLV_AZURE;
        t->len = 5;
        if (!(t->value = malloc(5)))
            BAD_VALUE("out of memory");
        t->value[0] = 0x01; /* subtype: LINKID, little-endian uint32 */
        for (int i = 0; i < 4; i++)
            t->value[1 + i] = (uint8_t)(n >> (8 * i));
        return 0;
    }
    if (strcmp(name, "gcp-psc") == 0) {
        NEED_VALUE();
        errno = 0;
        char *end;
        unsigned long long n = strtoull(v, &end, 0);
        if (errno || *end || !*v || *v == '-')
            BAD_VALUE("a 64-bit number");
        t->type = PP_TLV_GCP;
        t->len = 8;
        if (!(t->value = malloc(8)))
            BAD_VALUE("out of memory");
        for (int i = 0; i < 8; i++)
            t->value[i] = (uint8_t)(n >> (8 * (7 - i)));
        return 0;
    }
    if (strcmp(name, "ssl") == 0) {
        t->kind = PS_TLV_SSL_FLAG;
        t->type = PP_TLV_SSL;
        if (v && strcmp(v, "on") != 0 && strcmp(v, "1") != 0)
            BAD_VALUE("only 'ssl' or 'ssl=on' (use ssl-client=, ssl-verify=, ssl-cn=, ...)");
        return 0;
    }
    if (strcmp(name, "ssl-client") == 0) {
        NEED_VALUE();
        t->kind = PS_TLV_SSL_CLIENT;
        t->type = PP_TLV_SSL;
        if (parse_client_flags(v, &t->number))
            BAD_VALUE("flags ssl,cert-conn,cert-sess (or none), or a number 0-255");
        return 0;
    }
    if (strcmp(name, "ssl-verify") == 0) {
        NEED_VALUE();
        unsigned long n;
        if (parse_ulong(v, 0xFFFFFFFFul, &n))
            BAD_VALUE("a 32-bit number");
        t->kind = PS_TLV_SSL_VERIFY;
        t->type = PP_TLV_SSL;
        t->number = (uint32_t)n;
        return 0;
    }
    if (strcmp(name, "ssl-client-cert") == 0) {
        NEED_VALUE();
        t->kind = PS_TLV_SSL_CERT_FILE;
        t->type = PP_SSL_CLIENT_CERT;
        t->len = strlen(v);
        if (!(t->value = (uint8_t *)strdup(v)))
            BAD_VALUE("out of memory");
        return 0;
    }
    /* Raw: TYPE=HEX (top level) or ssl-TYPE=HEX (an SSL sub-TLV). */
    const char *num = name;
    bool sub = false;
    if (strncmp(name, "ssl-", 4) == 0) {
        num = name + 4;
        sub = true;
    }
    unsigned long type;
    if (parse_ulong(num, 255, &type) == 0) {
        NEED_VALUE();
        t->type = (uint8_t)type;
        t->kind = sub ? PS_TLV_SSL_SUB : PS_TLV_PLAIN;
        if (strncmp(v, "hex:", 4) == 0)
            v += 4;
        t->value = ps_parse_hex(v, &t->len);
        if (!t->value)
            BAD_VALUE("HEX bytes");
        return 0;
    }
    return usage_error(err, cap,
                       "--tlv '%s': unknown TLV name '%s' (alpn, authority, crc32c, noop, unique-id, "
                       "netns, ssl, ssl-client, ssl-verify, ssl-version, ssl-cn, ssl-cipher, ssl-sig-alg, "
                       "ssl-key-alg, ssl-group, ssl-sig-scheme, ssl-client-cert, aws-vpce, azure-linkid, "
                       "gcp-psc, or a number TYPE=HEX)",
                       arg, name);
#undef NEED_VALUE
#undef BAD_VALUE
}

/* ---- --mutate NAME[=VALUE] ----------------------------------------------------------- */

static const struct { const char *name; enum ps_mutation_kind kind; int arg; /* 0 none, 1 optional, 2 required */ } MUTATIONS[] = {
    {"bad-signature", PS_MUT_BAD_SIGNATURE, 1},
    {"version", PS_MUT_VERSION, 2},
    {"command", PS_MUT_COMMAND, 2},
    {"family-byte", PS_MUT_FAMILY_BYTE, 2},
    {"len", PS_MUT_LEN, 2},
    {"len-delta", PS_MUT_LEN_DELTA, 2},
    {"tlv-len", PS_MUT_TLV_LEN, 2},
    {"crc-corrupt", PS_MUT_CRC_CORRUPT, 0},
    {"crc-little-endian", PS_MUT_CRC_LE, 0},
    {"v1-leading-zeros", PS_MUT_V1_LEADING_ZEROS, 0},
    {"v1-double-space", PS_MUT_V1_DOUBLE_SPACE, 0},
    {"v1-lf-only", PS_MUT_V1_LF_ONLY, 0},
    {"v1-cr-only", PS_MUT_V1_CR_ONLY, 0},
    {"v1-overlong", PS_MUT_V1_OVERLONG, 1},
    {"v1-lowercase", PS_MUT_V1_LOWERCASE, 0},
    {"v1-no-crlf", PS_MUT_V1_NO_CRLF, 0},
    {"v1-text", PS_MUT_V1_TEXT, 2},
    {"v1-unknown-tail", PS_MUT_V1_UNKNOWN_TAIL, 2},
};

static bool mutation_is_v1(enum ps_mutation_kind k)
{
    return k >= PS_MUT_V1_LEADING_ZEROS;
}

static int parse_mutation(const char *arg, ps_mutation *m, char *err, size_t cap)
{
    memset(m, 0, sizeof *m);
    const char *eq = strchr(arg, '=');
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    const char *v = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < sizeof MUTATIONS / sizeof MUTATIONS[0]; i++) {
        if (strlen(MUTATIONS[i].name) != nlen || strncmp(arg, MUTATIONS[i].name, nlen) != 0)
            continue;
        m->kind = MUTATIONS[i].kind;
        if (MUTATIONS[i].arg == 0 && v)
            return usage_error(err, cap, "--mutate '%s': %s takes no value", arg, MUTATIONS[i].name);
        if (MUTATIONS[i].arg == 2 && !v)
            return usage_error(err, cap, "--mutate '%s': %s needs a value", arg, MUTATIONS[i].name);
        switch (m->kind) {
        case PS_MUT_BAD_SIGNATURE:
            m->value = 11;
            if (v && parse_long(v, 0, 11, &m->value))
                return usage_error(err, cap, "--mutate '%s': signature byte index must be 0-11", arg);
            break;
        case PS_MUT_VERSION:
        case PS_MUT_COMMAND:
            if (parse_long(v, 0, 15, &m->value))
                return usage_error(err, cap, "--mutate '%s': nibble value must be 0-15", arg);
            break;
        case PS_MUT_FAMILY_BYTE:
            if (parse_long(v, 0, 255, &m->value))
                return usage_error(err, cap, "--mutate '%s': byte value must be 0-255 (0x00-0xFF)", arg);
            break;
        case PS_MUT_LEN:
            if (parse_long(v, 0, 65535, &m->value))
                return usage_error(err, cap, "--mutate '%s': length must be 0-65535", arg);
            break;
        case PS_MUT_LEN_DELTA:
            if (parse_long(v, -65535, 65535, &m->value))
                return usage_error(err, cap, "--mutate '%s': delta must be -65535..65535", arg);
            break;
        case PS_MUT_TLV_LEN: {
            /* TYPE:N, TYPE a number or a TLV name */
            const char *colon = strchr(v, ':');
            if (!colon)
                return usage_error(err, cap, "--mutate '%s': expected tlv-len=TYPE:N", arg);
            char tname[32];
            size_t tl = (size_t)(colon - v);
            if (tl == 0 || tl >= sizeof tname)
                return usage_error(err, cap, "--mutate '%s': expected tlv-len=TYPE:N", arg);
            memcpy(tname, v, tl);
            tname[tl] = '\0';
            unsigned long type;
            static const struct { const char *n; uint8_t t; } names[] = {
                {"alpn", 1}, {"authority", 2}, {"crc32c", 3}, {"noop", 4}, {"unique-id", 5},
                {"ssl", 0x20}, {"netns", 0x30}, {"gcp-psc", 0xE0}, {"aws-vpce", 0xEA}, {"azure-linkid", 0xEE}};
            bool found = false;
            for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                if (strcmp(names[k].n, tname) == 0) {
                    type = names[k].t;
                    found = true;
                }
            if (!found && parse_ulong(tname, 255, &type))
                return usage_error(err, cap, "--mutate '%s': unknown TLV type '%s'", arg, tname);
            m->type = (uint8_t)type;
            if (parse_long(colon + 1, 0, 65535, &m->value))
                return usage_error(err, cap, "--mutate '%s': length must be 0-65535", arg);
            break;
        }
        case PS_MUT_V1_OVERLONG:
            m->value = 108;
            if (v && parse_long(v, 17, 65535, &m->value))
                return usage_error(err, cap, "--mutate '%s': line length must be 17-65535", arg);
            break;
        case PS_MUT_V1_TEXT:
        case PS_MUT_V1_UNKNOWN_TAIL:
            m->text = v;
            break;
        default:
            break;
        }
        return 0;
    }
    return usage_error(err, cap,
                       "--mutate '%s': unknown malformation (bad-signature[=N], version=N, command=N, "
                       "family-byte=B, len=N, len-delta=N, tlv-len=TYPE:N, crc-corrupt, crc-little-endian, "
                       "v1-leading-zeros, v1-double-space, v1-lf-only, v1-cr-only, v1-overlong[=N], "
                       "v1-lowercase, v1-no-crlf, v1-text=TEXT, v1-unknown-tail=TEXT)",
                       arg);
}

/* ---- --expect ---------------------------------------------------------------------- */

static int parse_expect(const char *v, ps_opts *o, char *err, size_t cap)
{
    o->expect_code = -1;
    if (strcmp(v, "connack") == 0) {
        o->expect = PS_EXPECT_CONNACK;
    } else if (strncmp(v, "connack=", 8) == 0) {
        unsigned long n;
        if (parse_ulong(v + 8, 255, &n))
            return usage_error(err, cap, "--expect '%s': CONNACK code must be 0-255", v);
        o->expect = PS_EXPECT_CONNACK;
        o->expect_code = (int)n;
    } else if (strcmp(v, "close") == 0) {
        o->expect = PS_EXPECT_CLOSE;
    } else if (strcmp(v, "fin") == 0) {
        o->expect = PS_EXPECT_FIN;
    } else if (strcmp(v, "rst") == 0) {
        o->expect = PS_EXPECT_RST;
    } else if (strcmp(v, "silence") == 0) {
        o->expect = PS_EXPECT_SILENCE;
    } else if (strncmp(v, "bytes:", 6) == 0) {
        o->expect = PS_EXPECT_BYTES;
        free(o->expect_bytes);
        o->expect_bytes = ps_parse_hex(v + 6, &o->expect_len);
        if (!o->expect_bytes || o->expect_len == 0)
            return usage_error(err, cap, "--expect '%s': bytes: needs HEX", v);
    } else {
        return usage_error(err, cap,
                           "--expect '%s': expected connack[=CODE], close, fin, rst, bytes:HEX or silence", v);
    }
    return 0;
}

static int parse_splits(const char *v, ps_opts *o, char *err, size_t cap)
{
    char tmp[1024];
    if (strlen(v) >= sizeof tmp)
        return usage_error(err, cap, "--split '%s': too long", v);
    strcpy(tmp, v);
    o->nsplits = 0;
    char *save = NULL;
    size_t prev = 0;
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        unsigned long n;
        if (parse_ulong(t, 1u << 24, &n) || n == 0)
            return usage_error(err, cap, "--split '%s': '%s' is not a positive byte offset", v, t);
        if (n <= prev)
            return usage_error(err, cap, "--split '%s': offsets must increase", v);
        if (o->nsplits == PS_MAX_SPLITS)
            return usage_error(err, cap, "--split '%s': at most %d offsets", v, PS_MAX_SPLITS);
        o->splits[o->nsplits++] = n;
        prev = n;
    }
    if (o->nsplits == 0)
        return usage_error(err, cap, "--split '%s': expected OFFSET[,OFFSET...]", v);
    return 0;
}

static int family_from_name(const char *v, enum ps_family *out)
{
    static const struct { const char *n; enum ps_family f; } fams[] = {
        {"tcp4", PS_FAM_TCP4}, {"tcp6", PS_FAM_TCP6}, {"udp4", PS_FAM_UDP4}, {"udp6", PS_FAM_UDP6},
        {"unix", PS_FAM_UNIX}, {"unspec", PS_FAM_UNSPEC}};
    for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++)
        if (strcmp(fams[i].n, v) == 0) {
            *out = fams[i].f;
            return 0;
        }
    return -1;
}

/* ---- main parser ------------------------------------------------------------------- */

enum {
    O_COMMAND = 256, O_FAMILY, O_SRC, O_DST, O_BIND, O_PROFILE, O_TLV, O_MUTATE, O_RAW_HEADER,
    O_NO_HEADER, O_SPLIT, O_BYTE, O_DELAY, O_PRE_DELAY, O_TWICE, O_COALESCE, O_HALF_CLOSE,
    O_MQTT_CONNECT, O_MQTT_VERSION, O_CLIENT_ID, O_USERNAME, O_PASSWORD, O_KEEP_ALIVE, O_PUBLISH,
    O_SUBSCRIBE, O_QOS, O_HEX, O_FILE, O_STDIN, O_TLS, O_CERT, O_KEY, O_CAFILE, O_SNI, O_ALPN,
    O_EXPECT, O_TIMEOUT, O_DRY_RUN, O_JSON, O_QUIET, O_PCAP_OUT, O_LISTEN, O_FORWARD,
    O_KEEP_HEADER, O_COUNT, O_READY_FILE, O_RELAY, O_TO,
};

static const struct option LONGOPTS[] = {
    {"command", required_argument, 0, O_COMMAND},
    {"family", required_argument, 0, O_FAMILY},
    {"src", required_argument, 0, O_SRC},
    {"dst", required_argument, 0, O_DST},
    {"bind", required_argument, 0, O_BIND},
    {"profile", required_argument, 0, O_PROFILE},
    {"tlv", required_argument, 0, O_TLV},
    {"mutate", required_argument, 0, O_MUTATE},
    {"raw-header", required_argument, 0, O_RAW_HEADER},
    {"no-header", no_argument, 0, O_NO_HEADER},
    {"split", required_argument, 0, O_SPLIT},
    {"byte-at-a-time", no_argument, 0, O_BYTE},
    {"delay", required_argument, 0, O_DELAY},
    {"pre-delay", required_argument, 0, O_PRE_DELAY},
    {"header-twice", no_argument, 0, O_TWICE},
    {"coalesce", no_argument, 0, O_COALESCE},
    {"half-close", no_argument, 0, O_HALF_CLOSE},
    {"mqtt-connect", no_argument, 0, O_MQTT_CONNECT},
    {"mqtt-version", required_argument, 0, O_MQTT_VERSION},
    {"client-id", required_argument, 0, O_CLIENT_ID},
    {"username", required_argument, 0, O_USERNAME},
    {"password", required_argument, 0, O_PASSWORD},
    {"keep-alive", required_argument, 0, O_KEEP_ALIVE},
    {"publish", required_argument, 0, O_PUBLISH},
    {"subscribe", required_argument, 0, O_SUBSCRIBE},
    {"qos", required_argument, 0, O_QOS},
    {"hex", required_argument, 0, O_HEX},
    {"file", required_argument, 0, O_FILE},
    {"stdin", no_argument, 0, O_STDIN},
    {"tls", no_argument, 0, O_TLS},
    {"cert", required_argument, 0, O_CERT},
    {"key", required_argument, 0, O_KEY},
    {"cafile", required_argument, 0, O_CAFILE},
    {"sni", required_argument, 0, O_SNI},
    {"alpn", required_argument, 0, O_ALPN},
    {"expect", required_argument, 0, O_EXPECT},
    {"timeout", required_argument, 0, O_TIMEOUT},
    {"dry-run", no_argument, 0, O_DRY_RUN},
    {"json", no_argument, 0, O_JSON},
    {"quiet", no_argument, 0, O_QUIET},
    {"pcap-out", required_argument, 0, O_PCAP_OUT},
    {"listen", required_argument, 0, O_LISTEN},
    {"forward", required_argument, 0, O_FORWARD},
    {"keep-header", no_argument, 0, O_KEEP_HEADER},
    {"count", required_argument, 0, O_COUNT},
    {"ready-file", required_argument, 0, O_READY_FILE},
    {"relay", required_argument, 0, O_RELAY},
    {"to", required_argument, 0, O_TO},
    {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'},
    {0, 0, 0, 0},
};

static int add_payload(ps_opts *o, enum ps_payload_kind kind, const char *text, const char *opt,
                       char *err, size_t cap)
{
    if (o->npayloads == PS_MAX_PAYLOADS)
        return usage_error(err, cap, "%s '%s': at most %d payload parts", opt, text ? text : "",
                           PS_MAX_PAYLOADS);
    ps_payload_part *p = &o->payloads[o->npayloads];
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->text = text;
    if (kind == PS_PAY_HEX) {
        p->bytes = ps_parse_hex(text, &p->len);
        if (!p->bytes)
            return usage_error(err, cap, "--hex '%s': not hex bytes", text);
    }
    if ((kind == PS_PAY_PUBLISH || kind == PS_PAY_SUBSCRIBE) && (!text || !*text || *text == '='))
        return usage_error(err, cap, "%s '%s': needs a topic", opt, text ? text : "");
    o->npayloads++;
    return 0;
}

static int check_combinations(ps_opts *o, char *err, size_t cap)
{
    bool v1 = o->version == 1 || o->profile == PS_PROFILE_HAPROXY_V1 || o->profile == PS_PROFILE_NGINX_V1;
    if (o->mode == PS_MODE_LISTEN && o->target)
        return usage_error(err, cap, "--listen '%s': takes no HOST:PORT argument (got '%s')", o->listen, o->target);
    if (o->mode == PS_MODE_RELAY && !o->forward)
        return usage_error(err, cap, "--relay '%s': needs --to BACKEND", o->listen);
    if (o->mode != PS_MODE_RELAY && o->forward && o->mode != PS_MODE_LISTEN)
        return usage_error(err, cap, "--forward/--to '%s': only with --listen or --relay", o->forward);
    if (o->mode == PS_MODE_SEND && !o->target && !o->dry_run)
        return usage_error(err, cap, "missing HOST:PORT (or --dry-run, --listen ADDR, --relay ADDR --to BACKEND)");
    if (v1 && o->ntlvs)
        return usage_error(err, cap, "--tlv '%s': version 1 headers carry no TLVs", o->tlvs[0].name);
    for (size_t i = 0; i < o->nmutations; i++) {
        bool mv1 = mutation_is_v1(o->mutations[i].kind);
        if (mv1 && o->version != 1 && !v1)
            return usage_error(err, cap, "--mutate: v1-* malformations need -1 (or a v1 profile)");
        if (!mv1 && v1)
            return usage_error(err, cap, "--mutate: binary-header malformations need -2");
    }
    if (o->profile != PS_PROFILE_NONE && o->version) {
        bool pv1 = o->profile == PS_PROFILE_HAPROXY_V1 || o->profile == PS_PROFILE_NGINX_V1;
        bool either = o->profile == PS_PROFILE_HAPROXY_HEALTHCHECK;
        if (!either && (pv1 ? 1 : 2) != o->version)
            return usage_error(err, cap, "--profile '%s': sends version %d, conflicts with -%d",
                               ps_profile_name(o->profile), pv1 ? 1 : 2, o->version);
    }
    if (o->raw_header && (o->ntlvs || o->nmutations || o->profile != PS_PROFILE_NONE))
        return usage_error(err, cap, "--raw-header: cannot be combined with --tlv, --mutate or --profile");
    if (o->byte_at_a_time && o->nsplits)
        return usage_error(err, cap, "--byte-at-a-time: cannot be combined with --split");
    if (o->coalesce && (o->nsplits || o->byte_at_a_time))
        return usage_error(err, cap, "--coalesce: cannot be combined with --split or --byte-at-a-time");
    if ((o->cert || o->key || o->cafile || o->sni || o->alpn) && !o->tls)
        return usage_error(err, cap, "--cert/--key/--cafile/--sni/--alpn: need --tls");
    if ((o->cert != NULL) != (o->key != NULL))
        return usage_error(err, cap, "--cert and --key go together");
    if (o->keep_header && !o->forward)
        return usage_error(err, cap, "--keep-header: needs --forward");
    return 0;
}

int ps_opts_parse(int argc, char **argv, ps_opts *o, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    o->mode = PS_MODE_SEND;
    o->command = -1;
    o->mqtt_version = 4;
    o->client_id = "proxysend";
    o->keep_alive = 60;
    o->timeout_ms = 5000;
    o->expect_code = -1;
    err[0] = '\0';

    optind = 0; /* glibc: full re-initialisation, so tests can parse several argv in a row */
    opterr = 0;
    int c;
    unsigned long n;
    while ((c = getopt_long(argc, argv, "12hV", LONGOPTS, NULL)) != -1) {
        const char *v = optarg;
        int rc = 0;
        switch (c) {
        case '1': o->version = 1; break;
        case '2': o->version = 2; break;
        case 'h': o->mode = PS_MODE_HELP; return 0;
        case 'V': o->mode = PS_MODE_VERSION; return 0;
        case O_COMMAND:
            if (strcmp(v, "proxy") == 0) o->command = PP_CMD_PROXY;
            else if (strcmp(v, "local") == 0) o->command = PP_CMD_LOCAL;
            else rc = usage_error(err, errcap, "--command '%s': expected proxy or local", v);
            break;
        case O_FAMILY:
            if (family_from_name(v, &o->family))
                rc = usage_error(err, errcap, "--family '%s': expected tcp4, tcp6, udp4, udp6, unix or unspec", v);
            break;
        case O_SRC:
        case O_DST: {
            pp_endpoint ep;
            if (pp_endpoint_parse(v, &ep) != 0)
                rc = usage_error(err, errcap, "%s '%s': expected IP:PORT, [IPv6]:PORT or unix:/path",
                                 c == O_SRC ? "--src" : "--dst", v);
            else if (c == O_SRC) o->src = v;
            else o->dst = v;
            break;
        }
        case O_BIND: o->bind = v; break;
        case O_PROFILE:
            o->profile = ps_profile_from_name(v);
            if (o->profile == PS_PROFILE_NONE)
                rc = usage_error(err, errcap,
                                 "--profile '%s': expected haproxy-v1, haproxy-v2, haproxy-v2-ssl, "
                                 "haproxy-v2-ssl-cn, haproxy-healthcheck, nginx-v1, aws-nlb or aws-nlb-healthcheck", v);
            break;
        case O_TLV:
            if (o->ntlvs == PS_MAX_TLVS)
                rc = usage_error(err, errcap, "--tlv '%s': at most %d --tlv options", v, PS_MAX_TLVS);
            else if ((rc = parse_tlv(v, &o->tlvs[o->ntlvs], err, errcap)) == 0)
                o->ntlvs++;
            else
                free(o->tlvs[o->ntlvs].value), o->tlvs[o->ntlvs].value = NULL;
            break;
        case O_MUTATE:
            if (o->nmutations == PS_MAX_MUTATIONS)
                rc = usage_error(err, errcap, "--mutate '%s': at most %d", v, PS_MAX_MUTATIONS);
            else if ((rc = parse_mutation(v, &o->mutations[o->nmutations], err, errcap)) == 0)
                o->nmutations++;
            break;
        case O_RAW_HEADER:
            free(o->raw_header);
            o->raw_header = ps_parse_hex(v, &o->raw_header_len);
            if (!o->raw_header)
                rc = usage_error(err, errcap, "--raw-header '%s': not hex bytes", v);
            break;
        case O_NO_HEADER: o->no_header = true; break;
        case O_SPLIT: rc = parse_splits(v, o, err, errcap); break;
        case O_BYTE: o->byte_at_a_time = true; break;
        case O_DELAY:
        case O_PRE_DELAY:
            if (ps_parse_duration_ms(v, c == O_DELAY ? &o->delay_ms : &o->pre_delay_ms))
                rc = usage_error(err, errcap, "%s '%s': expected a duration such as 50ms or 2s",
                                 c == O_DELAY ? "--delay" : "--pre-delay", v);
            break;
        case O_TWICE: o->header_twice = true; break;
        case O_COALESCE: o->coalesce = true; break;
        case O_HALF_CLOSE: o->half_close = true; break;
        case O_MQTT_CONNECT: rc = add_payload(o, PS_PAY_MQTT_CONNECT, NULL, "--mqtt-connect", err, errcap); break;
        case O_MQTT_VERSION:
            if (strcmp(v, "3") == 0 || strcmp(v, "3.1") == 0) o->mqtt_version = 3;
            else if (strcmp(v, "4") == 0 || strcmp(v, "3.1.1") == 0) o->mqtt_version = 4;
            else if (strcmp(v, "5") == 0 || strcmp(v, "5.0") == 0) o->mqtt_version = 5;
            else rc = usage_error(err, errcap, "--mqtt-version '%s': expected 3.1, 3.1.1 or 5", v);
            break;
        case O_CLIENT_ID: o->client_id = v; break;
        case O_USERNAME: o->username = v; break;
        case O_PASSWORD: o->password = v; break;
        case O_KEEP_ALIVE:
            if (parse_ulong(v, 65535, &n)) rc = usage_error(err, errcap, "--keep-alive '%s': expected 0-65535 seconds", v);
            else o->keep_alive = (unsigned)n;
            break;
        case O_QOS:
            if (parse_ulong(v, 2, &n)) rc = usage_error(err, errcap, "--qos '%s': expected 0, 1 or 2", v);
            else o->qos = (int)n;
            break;
        case O_PUBLISH: rc = add_payload(o, PS_PAY_PUBLISH, v, "--publish", err, errcap); break;
        case O_SUBSCRIBE: rc = add_payload(o, PS_PAY_SUBSCRIBE, v, "--subscribe", err, errcap); break;
        case O_HEX: rc = add_payload(o, PS_PAY_HEX, v, "--hex", err, errcap); break;
        case O_FILE: rc = add_payload(o, PS_PAY_FILE, v, "--file", err, errcap); break;
        case O_STDIN: rc = add_payload(o, PS_PAY_STDIN, NULL, "--stdin", err, errcap); break;
        case O_TLS: o->tls = true; break;
        case O_CERT: o->cert = v; break;
        case O_KEY: o->key = v; break;
        case O_CAFILE: o->cafile = v; break;
        case O_SNI: o->sni = v; break;
        case O_ALPN: o->alpn = v; break;
        case O_EXPECT: rc = parse_expect(v, o, err, errcap); break;
        case O_TIMEOUT:
            if (ps_parse_duration_ms(v, &o->timeout_ms) || o->timeout_ms == 0)
                rc = usage_error(err, errcap, "--timeout '%s': expected a positive duration such as 500ms or 5s", v);
            break;
        case O_DRY_RUN: o->dry_run = true; break;
        case O_JSON: o->json = true; break;
        case O_QUIET: o->quiet = true; break;
        case O_PCAP_OUT: o->pcap_out = v; break;
        case O_LISTEN:
        case O_RELAY:
            if (o->mode != PS_MODE_SEND)
                rc = usage_error(err, errcap, "%s '%s': --listen and --relay exclude each other",
                                 c == O_LISTEN ? "--listen" : "--relay", v);
            o->mode = c == O_LISTEN ? PS_MODE_LISTEN : PS_MODE_RELAY;
            o->listen = v;
            break;
        case O_FORWARD:
        case O_TO: o->forward = v; break;
        case O_KEEP_HEADER: o->keep_header = true; break;
        case O_COUNT:
            if (parse_ulong(v, 1000000, &n) || n == 0) rc = usage_error(err, errcap, "--count '%s': expected a positive number", v);
            else o->count = (unsigned)n;
            break;
        case O_READY_FILE: o->ready_file = v; break;
        case '?':
        default:
            if (optopt && optopt < 256)
                rc = usage_error(err, errcap, "unknown option '-%c' (see --help)", optopt);
            else if (optind > 0 && optind <= argc && argv[optind - 1][0] == '-')
                rc = usage_error(err, errcap, "unknown option or missing value: '%s' (see --help)", argv[optind - 1]);
            else
                rc = usage_error(err, errcap, "unknown option (see --help)");
            break;
        }
        if (rc)
            return rc;
    }
    if (optind < argc)
        o->target = argv[optind++];
    if (optind < argc)
        return usage_error(err, errcap, "unexpected argument '%s' (only one HOST:PORT)", argv[optind]);
    return check_combinations(o, err, errcap);
}

void ps_opts_free(ps_opts *o)
{
    for (size_t i = 0; i < o->ntlvs; i++)
        free(o->tlvs[i].value);
    for (size_t i = 0; i < o->npayloads; i++)
        free(o->payloads[i].bytes);
    free(o->raw_header);
    free(o->expect_bytes);
    memset(o, 0, sizeof *o);
}
