/* Header spec -> bytes. lib/proxy's builder does the encoding; this file decides what to
 * ask it for: addresses (given or the socket's own), family, TLVs in the order a real sender
 * uses, SSL sub-TLVs, the named malformations, and the v1 text variants the builder has no
 * switch for (leading zeros, double space, bare LF, lowercase, overlong). */
#include "header.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static ssize_t fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

void ps_endpoint_from_sockaddr(const struct sockaddr *sa, pp_endpoint *ep)
{
    memset(ep, 0, sizeof *ep);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        ep->family = PP_FAM_INET;
        memcpy(ep->ip, &in->sin_addr, 4);
        ep->port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        ep->family = PP_FAM_INET6;
        memcpy(ep->ip, &in6->sin6_addr, 16);
        ep->port = ntohs(in6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)sa;
        ep->family = PP_FAM_UNIX;
        ep->unix_path = (const uint8_t *)un->sun_path;
    } else {
        ep->family = PP_FAM_UNSPEC;
    }
}

static const uint8_t V4_MAPPED[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void map_to_v6(pp_endpoint *ep)
{
    if (ep->family != PP_FAM_INET)
        return;
    uint8_t v4[4];
    memcpy(v4, ep->ip, 4);
    memcpy(ep->ip, V4_MAPPED, 12);
    memcpy(ep->ip + 12, v4, 4);
    ep->family = PP_FAM_INET6;
}

static bool unmap_to_v4(pp_endpoint *ep)
{
    if (ep->family == PP_FAM_INET)
        return true;
    if (ep->family != PP_FAM_INET6 || memcmp(ep->ip, V4_MAPPED, 12) != 0)
        return false;
    memmove(ep->ip, ep->ip + 12, 4);
    memset(ep->ip + 4, 0, 12);
    ep->family = PP_FAM_INET;
    return true;
}

static bool is_v1_profile(enum ps_profile p)
{
    return p == PS_PROFILE_HAPROXY_V1 || p == PS_PROFILE_NGINX_V1;
}

static bool is_haproxy_v2(enum ps_profile p)
{
    return p == PS_PROFILE_HAPROXY_V2 || p == PS_PROFILE_HAPROXY_V2_SSL || p == PS_PROFILE_HAPROXY_V2_SSL_CN ||
           p == PS_PROFILE_HAPROXY_HEALTHCHECK;
}

/* ---- v1 text ------------------------------------------------------------------------ */

static void addr_text(const pp_endpoint *ep, bool zeros, char *out, size_t cap)
{
    if (ep->family == PP_FAM_INET) {
        if (zeros)
            snprintf(out, cap, "%03u.%03u.%03u.%03u", ep->ip[0], ep->ip[1], ep->ip[2], ep->ip[3]);
        else
            inet_ntop(AF_INET, ep->ip, out, (socklen_t)cap);
    } else if (ep->family == PP_FAM_INET6) {
        inet_ntop(AF_INET6, ep->ip, out, (socklen_t)cap);
    } else {
        snprintf(out, cap, "?");
    }
}

/* "PROXY <proto> <src> <dst> <sport> <dport>\r\n" (proto from the source family, as nginx
 * does: a mixed pair comes out as TCP6 with an IPv4 destination). */
static int v1_line(char *out, size_t cap, const pp_endpoint *s, const pp_endpoint *d, bool zeros)
{
    char sa[64], da[64];
    addr_text(s, zeros, sa, sizeof sa);
    addr_text(d, zeros, da, sizeof da);
    const char *proto = s->family == PP_FAM_INET6 ? "TCP6" : "TCP4";
    return snprintf(out, cap, zeros ? "PROXY %s %s %s %05u %05u\r\n" : "PROXY %s %s %s %u %u\r\n", proto, sa,
                    da, s->port, d->port);
}

/* Apply the v1 text malformations to a well-formed line (in place, cap bytes available). */
static int v1_apply_mutations(const ps_opts *o, char *line, size_t cap)
{
    for (size_t i = 0; i < o->nmutations; i++) {
        const ps_mutation *m = &o->mutations[i];
        size_t n = strlen(line);
        char *crlf = strstr(line, "\r\n");
        switch (m->kind) {
        case PS_MUT_V1_DOUBLE_SPACE: {
            char *sp = strchr(line, ' ');
            if (sp && n + 1 < cap) {
                memmove(sp + 1, sp, n - (size_t)(sp - line) + 1);
            }
            break;
        }
        case PS_MUT_V1_LF_ONLY:
            if (crlf)
                memmove(crlf, crlf + 1, strlen(crlf + 1) + 1);
            break;
        case PS_MUT_V1_CR_ONLY:
            if (crlf)
                crlf[1] = '\0';
            break;
        case PS_MUT_V1_NO_CRLF:
            if (crlf)
                *crlf = '\0';
            break;
        case PS_MUT_V1_LOWERCASE:
            if (strncmp(line, "PROXY", 5) == 0)
                memcpy(line, "proxy", 5);
            break;
        case PS_MUT_V1_OVERLONG: {
            /* "PROXY UNKNOWN " + filler + CRLF, exactly value bytes long: only the length is wrong. */
            size_t total = (size_t)m->value;
            if (total + 1 > cap)
                return -1;
            strcpy(line, "PROXY UNKNOWN ");
            size_t have = strlen(line);
            memset(line + have, 'x', total - 2 - have);
            memcpy(line + total - 2, "\r\n", 3);
            break;
        }
        default:
            break;
        }
    }
    return (int)strlen(line);
}

/* ---- TLV assembly ---------------------------------------------------------------------- */

typedef struct tlv_plan {
    pp_build_tlv tlvs[PS_MAX_TLVS + 4];
    size_t ntlvs;
    pp_build_tlv subs[PS_MAX_TLVS + 2];
    size_t nsubs;
    pp_build_ssl ssl;
    bool has_ssl, client_given;
    uint8_t *owned[PS_MAX_TLVS + 2]; /* DER certificates read from PEM files */
    size_t nowned;
} tlv_plan;

static void plan_free(tlv_plan *p)
{
    for (size_t i = 0; i < p->nowned; i++)
        OPENSSL_free(p->owned[i]);
}

static int read_cert_der(const char *path, uint8_t **der, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        return -1;
    unsigned char *out = NULL;
    int n = i2d_X509(x, &out);
    X509_free(x);
    if (n <= 0)
        return -1;
    *der = out;
    *len = (size_t)n;
    return 0;
}

static pp_build_tlv plain_tlv(uint8_t type, const uint8_t *v, size_t len)
{
    pp_build_tlv t = {.type = type, .value = v, .len = len, .len_override = -1, .crc_auto = false};
    return t;
}

static ssize_t plan_tlvs(const ps_opts *o, tlv_plan *p, char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    for (size_t i = 0; i < o->ntlvs; i++) {
        const ps_tlv_opt *t = &o->tlvs[i];
        bool ssl_part = t->kind == PS_TLV_SSL_FLAG || t->kind == PS_TLV_SSL_CLIENT ||
                        t->kind == PS_TLV_SSL_VERIFY || t->kind == PS_TLV_SSL_SUB ||
                        t->kind == PS_TLV_SSL_CERT_FILE;
        if (ssl_part && !p->has_ssl) {
            p->has_ssl = true;
            p->tlvs[p->ntlvs++] = plain_tlv(PP_TLV_SSL, NULL, 0); /* value from p->ssl */
        }
        switch (t->kind) {
        case PS_TLV_PLAIN:
            p->tlvs[p->ntlvs++] = plain_tlv(t->type, t->value, t->len);
            break;
        case PS_TLV_CRC_AUTO: {
            pp_build_tlv c = plain_tlv(PP_TLV_CRC32C, NULL, 4);
            c.crc_auto = true;
            p->tlvs[p->ntlvs++] = c;
            break;
        }
        case PS_TLV_SSL_FLAG:
            break;
        case PS_TLV_SSL_CLIENT:
            p->ssl.client = (uint8_t)t->number;
            p->client_given = true;
            break;
        case PS_TLV_SSL_VERIFY:
            p->ssl.verify = t->number;
            break;
        case PS_TLV_SSL_SUB:
            p->subs[p->nsubs++] = plain_tlv(t->type, t->value, t->len);
            break;
        case PS_TLV_SSL_CERT_FILE: {
            uint8_t *der;
            size_t len;
            if (read_cert_der((const char *)t->value, &der, &len))
                return fail(err, cap, "--tlv '%s': cannot read a PEM certificate from '%s'", t->name,
                            (const char *)t->value);
            p->owned[p->nowned++] = der;
            p->subs[p->nsubs++] = plain_tlv(PP_SSL_CLIENT_CERT, der, len);
            break;
        }
        }
    }
    return 0;
}

static bool plan_has_sub(const tlv_plan *p, uint8_t type)
{
    for (size_t i = 0; i < p->nsubs; i++)
        if (p->subs[i].type == type)
            return true;
    return false;
}

/* HAProxy's v2 TLV order (make_proxy_line_v2): custom TLVs, CRC32C, ALPN, AUTHORITY,
 * UNIQUE_ID, SSL, NETNS. SSL sub-TLVs: VERSION, CN, KEY_ALG, SIG_ALG, CIPHER. */
static int haproxy_rank(uint8_t type)
{
    switch (type) {
    case PP_TLV_CRC32C: return 1;
    case PP_TLV_ALPN: return 2;
    case PP_TLV_AUTHORITY: return 3;
    case PP_TLV_UNIQUE_ID: return 4;
    case PP_TLV_SSL: return 5;
    case PP_TLV_NETNS: return 6;
    case PP_TLV_NOOP: return 7;
    default: return 0;
    }
}

static int haproxy_sub_rank(uint8_t type)
{
    switch (type) {
    case PP_SSL_VERSION: return 0;
    case PP_SSL_CN: return 1;
    case PP_SSL_KEY_ALG: return 2;
    case PP_SSL_SIG_ALG: return 3;
    case PP_SSL_CIPHER: return 4;
    default: return 5;
    }
}

static void stable_sort(pp_build_tlv *v, size_t n, int (*rank)(uint8_t))
{
    for (size_t i = 1; i < n; i++) { /* insertion sort keeps equal ranks in command-line order */
        pp_build_tlv x = v[i];
        size_t j = i;
        while (j > 0 && rank(v[j - 1].type) > rank(x.type)) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

static void plan_prepend(tlv_plan *p, pp_build_tlv t)
{
    memmove(p->tlvs + 1, p->tlvs, p->ntlvs * sizeof p->tlvs[0]);
    p->tlvs[0] = t;
    p->ntlvs++;
}

static bool plan_has(const tlv_plan *p, uint8_t type)
{
    for (size_t i = 0; i < p->ntlvs; i++)
        if (p->tlvs[i].type == type)
            return true;
    return false;
}

/* ---- profiles ------------------------------------------------------------------------ */

/* The VPC endpoint id and padding of the real AWS NLB header kept in ranch's
 * parse_v2_regression_test (peers.md §1b): CRC32C, 0xEA/0x01 id, 36-byte NOOP. */
static const char AWS_DEFAULT_VPCE[] = "\x01vpce-08d2bf15fac5001c9";
static const uint8_t ZEROS[64];
static const char TLS13[] = "TLSv1.3";

static void apply_profile_tlvs(const ps_opts *o, tlv_plan *p)
{
    enum ps_profile pr = o->profile;
    if (pr == PS_PROFILE_HAPROXY_V2_SSL || pr == PS_PROFILE_HAPROXY_V2_SSL_CN) {
        if (!p->has_ssl) {
            p->has_ssl = true;
            p->tlvs[p->ntlvs++] = plain_tlv(PP_TLV_SSL, NULL, 0);
        }
        if (!plan_has_sub(p, PP_SSL_VERSION))
            p->subs[p->nsubs++] = plain_tlv(PP_SSL_VERSION, (const uint8_t *)TLS13, 7);
        if (!p->client_given) /* HAProxy: CERT bits only when the client presented a certificate */
            p->ssl.client = PP_CLIENT_SSL | ((plan_has_sub(p, PP_SSL_CN) || plan_has_sub(p, PP_SSL_CLIENT_CERT))
                                                 ? (PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS) : 0);
    } else if (pr == PS_PROFILE_HAPROXY_HEALTHCHECK) {
        /* checks have no TLS session: HAProxy sends client 0, verify 0 */
        if (!p->client_given)
            p->ssl.client = 0;
    } else if (pr == PS_PROFILE_AWS_NLB) {
        if (!plan_has(p, PP_TLV_AWS))
            p->tlvs[p->ntlvs++] = plain_tlv(PP_TLV_AWS, (const uint8_t *)AWS_DEFAULT_VPCE, sizeof AWS_DEFAULT_VPCE - 1);
        if (!plan_has(p, PP_TLV_CRC32C)) {
            pp_build_tlv c = plain_tlv(PP_TLV_CRC32C, NULL, 4);
            c.crc_auto = true;
            plan_prepend(p, c);
        }
        if (!plan_has(p, PP_TLV_NOOP))
            p->tlvs[p->ntlvs++] = plain_tlv(PP_TLV_NOOP, ZEROS, 36);
    } else if (p->has_ssl && !p->client_given) {
        /* plain --tlv ssl*: claim a verified certificate when a CN or certificate is given */
        p->ssl.client = PP_CLIENT_SSL | ((plan_has_sub(p, PP_SSL_CN) || plan_has_sub(p, PP_SSL_CLIENT_CERT))
                                             ? (PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS) : 0);
    }
    if (is_haproxy_v2(pr)) {
        stable_sort(p->tlvs, p->ntlvs, haproxy_rank);
        stable_sort(p->subs, p->nsubs, haproxy_sub_rank);
    }
    p->ssl.subs = p->subs;
    p->ssl.nsubs = p->nsubs;
}

/* ---- addresses and family --------------------------------------------------------------- */

typedef struct resolved {
    int version;
    uint8_t command, family, transport;
    pp_endpoint src, dst;
} resolved;

static int resolve(const ps_opts *o, const pp_endpoint *sock_src, const pp_endpoint *sock_dst, resolved *r,
                   char *err, size_t cap)
{
    memset(r, 0, sizeof *r);
    r->version = o->version ? o->version : 2;
    if (is_v1_profile(o->profile))
        r->version = 1;
    r->src = *sock_src;
    r->dst = *sock_dst;
    if (o->src && pp_endpoint_parse(o->src, &r->src))
        return (int)fail(err, cap, "--src '%s': not an address", o->src);
    if (o->dst && pp_endpoint_parse(o->dst, &r->dst))
        return (int)fail(err, cap, "--dst '%s': not an address", o->dst);

    r->command = o->command >= 0 ? (uint8_t)o->command : PP_CMD_PROXY;
    if (o->profile == PS_PROFILE_HAPROXY_HEALTHCHECK || o->profile == PS_PROFILE_AWS_NLB_HEALTHCHECK)
        r->command = PP_CMD_LOCAL;
    if (r->version == 1 && o->command == PP_CMD_LOCAL)
        return (int)fail(err, cap, "--command 'local': version 1 has no LOCAL command");

    r->transport = PP_TRANS_STREAM;
    switch (o->family) {
    case PS_FAM_TCP4:
    case PS_FAM_UDP4:
        r->family = PP_FAM_INET;
        r->transport = o->family == PS_FAM_UDP4 ? PP_TRANS_DGRAM : PP_TRANS_STREAM;
        if (!unmap_to_v4(&r->src) || !unmap_to_v4(&r->dst))
            return (int)fail(err, cap, "--family '%s': the source or destination is not an IPv4 address "
                                       "(use --src/--dst, or --mutate v1-text / --raw-header for mismatches)",
                             o->family == PS_FAM_TCP4 ? "tcp4" : "udp4");
        break;
    case PS_FAM_TCP6:
    case PS_FAM_UDP6:
        r->family = PP_FAM_INET6;
        r->transport = o->family == PS_FAM_UDP6 ? PP_TRANS_DGRAM : PP_TRANS_STREAM;
        if (r->src.family == PP_FAM_UNIX || r->dst.family == PP_FAM_UNIX)
            return (int)fail(err, cap, "--family tcp6: unix: addresses given");
        map_to_v6(&r->src);
        map_to_v6(&r->dst);
        break;
    case PS_FAM_UNIX:
        r->family = PP_FAM_UNIX;
        if (r->src.family != PP_FAM_UNIX) { memset(&r->src, 0, sizeof r->src); r->src.family = PP_FAM_UNIX; }
        if (r->dst.family != PP_FAM_UNIX) { memset(&r->dst, 0, sizeof r->dst); r->dst.family = PP_FAM_UNIX; }
        break;
    case PS_FAM_UNSPEC:
        r->family = PP_FAM_UNSPEC;
        r->transport = PP_TRANS_UNSPEC;
        break;
    case PS_FAM_UNSET:
        if (r->version == 2 && r->command == PP_CMD_LOCAL && o->profile != PS_PROFILE_AWS_NLB_HEALTHCHECK) {
            /* R-V2-14: LOCAL carries UNSPEC unless the user asks otherwise */
            r->family = PP_FAM_UNSPEC;
            r->transport = PP_TRANS_UNSPEC;
        } else if (r->src.family == PP_FAM_UNIX || r->dst.family == PP_FAM_UNIX) {
            r->family = PP_FAM_UNIX;
        } else if (r->src.family == PP_FAM_INET && r->dst.family == PP_FAM_INET) {
            r->family = PP_FAM_INET;
        } else if (r->src.family == PP_FAM_UNSPEC || r->dst.family == PP_FAM_UNSPEC) {
            r->family = PP_FAM_UNSPEC;
            r->transport = PP_TRANS_UNSPEC;
        } else {
            r->family = PP_FAM_INET6;
            if (o->profile != PS_PROFILE_NGINX_V1) { /* nginx keeps the mixed pair: see v1_line */
                map_to_v6(&r->src);
                map_to_v6(&r->dst);
            }
        }
        break;
    }
    return 0;
}

/* ---- the builder call ----------------------------------------------------------------- */

static ssize_t build_v1(const ps_opts *o, const resolved *r, uint8_t *buf, size_t cap, char *err, size_t errcap)
{
    const char *text = NULL, *tail = NULL;
    bool zeros = false, textual = false;
    for (size_t i = 0; i < o->nmutations; i++) {
        const ps_mutation *m = &o->mutations[i];
        if (m->kind == PS_MUT_V1_TEXT)
            text = m->text;
        else if (m->kind == PS_MUT_V1_UNKNOWN_TAIL)
            tail = m->text;
        else if (m->kind == PS_MUT_V1_LEADING_ZEROS)
            zeros = textual = true;
        else
            textual = true;
    }
    if (text) { /* free text, with \r and \n escapes so shells can pass them */
        size_t n = 0;
        for (const char *p = text; *p && n < cap; p++) {
            if (p[0] == '\\' && (p[1] == 'r' || p[1] == 'n' || p[1] == '\\')) {
                buf[n++] = p[1] == 'r' ? '\r' : p[1] == 'n' ? '\n' : '\\';
                p++;
            } else {
                buf[n++] = (uint8_t)*p;
            }
        }
        return (ssize_t)n;
    }
    bool ip = (r->family == PP_FAM_INET || r->family == PP_FAM_INET6) && r->transport == PP_TRANS_STREAM &&
              (r->src.family == PP_FAM_INET || r->src.family == PP_FAM_INET6);
    char line[65600];
    if (!ip || tail) {
        snprintf(line, sizeof line, "PROXY UNKNOWN%s\r\n", tail ? tail : "");
    } else if (o->profile == PS_PROFILE_NGINX_V1 || textual) {
        v1_line(line, sizeof line, &r->src, &r->dst, zeros);
    } else {
        pp_build_spec spec;
        pp_build_spec_init(&spec);
        spec.version = 1;
        spec.family = r->family;
        spec.transport = r->transport;
        spec.src = r->src;
        spec.dst = r->dst;
        ssize_t n = pp_build(&spec, buf, cap);
        if (n < 0)
            return fail(err, errcap, "the v1 header does not fit");
        return n;
    }
    int n = v1_apply_mutations(o, line, sizeof line);
    if (n < 0 || (size_t)n > cap)
        return fail(err, errcap, "the v1 header does not fit");
    memcpy(buf, line, (size_t)n);
    return n;
}

ssize_t ps_header_build(const ps_opts *o, const pp_endpoint *sock_src, const pp_endpoint *sock_dst,
                        uint8_t *buf, size_t cap, char *err, size_t errcap)
{
    if (o->no_header)
        return 0;
    if (o->raw_header) {
        if (o->raw_header_len > cap)
            return fail(err, errcap, "--raw-header: too long");
        memcpy(buf, o->raw_header, o->raw_header_len);
        return (ssize_t)o->raw_header_len;
    }
    resolved r;
    if (resolve(o, sock_src, sock_dst, &r, err, errcap))
        return -1;
    if (r.version == 1)
        return build_v1(o, &r, buf, cap, err, errcap);

    tlv_plan plan;
    if (plan_tlvs(o, &plan, err, errcap)) {
        plan_free(&plan);
        return -1;
    }
    apply_profile_tlvs(o, &plan);

    pp_build_spec spec;
    pp_build_spec_init(&spec);
    spec.version = 2;
    spec.command = r.command;
    spec.family = r.family;
    spec.transport = r.transport;
    spec.src = r.src;
    spec.dst = r.dst;
    /* HAProxy v2 for a unix-socket client: LOCAL, UNSPEC, no address (interop.md §1a) */
    if (is_haproxy_v2(o->profile) && r.family == PP_FAM_UNIX) {
        spec.command = PP_CMD_LOCAL;
        spec.family = PP_FAM_UNSPEC;
        spec.transport = PP_TRANS_UNSPEC;
    }
    spec.tlvs = plan.tlvs;
    spec.ntlvs = plan.ntlvs;
    spec.ssl = plan.has_ssl ? &plan.ssl : NULL;

    uint8_t sig[PP_V2_SIG_LEN];
    int ver = -1, cmd = -1;
    for (size_t i = 0; i < o->nmutations; i++) {
        const ps_mutation *m = &o->mutations[i];
        switch (m->kind) {
        case PS_MUT_BAD_SIGNATURE:
            memcpy(sig, PP_V2_SIGNATURE, sizeof sig);
            sig[m->value] ^= 0x01;
            spec.sig_override = sig;
            break;
        case PS_MUT_VERSION: ver = (int)m->value; break;
        case PS_MUT_COMMAND: cmd = (int)m->value; break;
        case PS_MUT_FAMILY_BYTE: spec.fam_override = (int)m->value; break;
        case PS_MUT_LEN: spec.len_override = (int32_t)m->value; break;
        case PS_MUT_LEN_DELTA: spec.len_delta = (int32_t)m->value; break;
        case PS_MUT_CRC_CORRUPT: spec.crc_corrupt = true; break;
        case PS_MUT_CRC_LE: spec.crc_little_endian = true; break;
        case PS_MUT_TLV_LEN: {
            bool found = false;
            for (size_t k = 0; k < plan.ntlvs && !found; k++)
                if (plan.tlvs[k].type == m->type) {
                    plan.tlvs[k].len_override = (int32_t)m->value;
                    found = true;
                }
            if (!found) {
                plan_free(&plan);
                return fail(err, errcap, "--mutate tlv-len=0x%02X:%ld: no TLV of that type in the header", m->type,
                            m->value);
            }
            break;
        }
        default:
            break;
        }
    }
    if (ver >= 0 || cmd >= 0)
        spec.ver_cmd_override = ((ver >= 0 ? ver : 2) << 4) | (cmd >= 0 ? cmd : spec.command);

    ssize_t n = pp_build(&spec, buf, cap);
    plan_free(&plan);
    if (n < 0)
        return fail(err, errcap, "the header does not fit in %zu bytes (a v2 length is at most 65535)", cap);
    return n;
}
