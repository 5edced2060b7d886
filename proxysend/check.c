/* Findings for a received header: the codec's strict verdict, then what the spec asks of
 * senders (one write, no UNKNOWN/UNSPEC without need, LOCAL without addresses, honest SSL
 * verify) and the known bad shapes of real senders. */
#include "check.h"

#include <stdarg.h>
#include <string.h>

#include "describe.h"

const char *ps_severity_name(enum ps_severity s)
{
    return s == PS_SEV_FAIL ? "FAIL" : s == PS_SEV_WARN ? "WARN" : "INFO";
}

static void add(ps_check_result *r, enum ps_severity sev, const char *id, const char *refs, const char *name,
                const char *fmt, ...)
{
    if (r->nfindings == PS_MAX_FINDINGS)
        return;
    ps_finding *f = &r->findings[r->nfindings++];
    f->severity = sev;
    f->id = id;
    f->refs = refs;
    f->name = name;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
    if (sev == PS_SEV_FAIL)
        r->fails++;
    else if (sev == PS_SEV_WARN)
        r->warns++;
}

const ps_finding *ps_check_find(const ps_check_result *r, const char *name)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].name, name) == 0)
            return &r->findings[i];
    return NULL;
}

/* The first requirement ID of an error's refs list, kept in a small static table so the
 * finding can point at a stable string. */
static const char *first_ref(const char *refs)
{
    static char slots[8][24];
    static unsigned next;
    char *s = slots[next++ % 8];
    size_t n = strcspn(refs, ",");
    if (n >= sizeof slots[0])
        n = sizeof slots[0] - 1;
    memcpy(s, refs, n);
    s[n] = '\0';
    return s;
}

/* "PROXY TCP6 <addr> <addr> ..." with a dotted IPv4 address: nginx relaying an IPv6 client
 * onto an IPv4 listener (interop.md §2). */
static bool tcp6_with_ipv4(const uint8_t *buf, size_t len)
{
    if (len < 11 || memcmp(buf, "PROXY TCP6 ", 11) != 0)
        return false;
    const uint8_t *p = buf + 11, *end = buf + (len > 107 ? 107 : len);
    for (int field = 0; field < 2 && p < end; field++) {
        const uint8_t *s = p;
        while (p < end && *p != ' ' && *p != '\r')
            p++;
        bool dot = false, colon = false;
        for (const uint8_t *q = s; q < p; q++) {
            dot |= *q == '.';
            colon |= *q == ':';
        }
        if (dot && !colon)
            return true;
        if (p < end)
            p++;
    }
    return false;
}

static void semantic_checks(const pp_header *h, ps_check_result *r)
{
    if (h->version == 1 && h->v1_unknown)
        add(r, PS_SEV_WARN, "R-V1-09", "R-V1-09,R-V1-10", "sender.v1_unknown",
            "PROXY UNKNOWN: the receiver keeps the proxy's own address; a sender should use UNKNOWN only "
            "when it cannot fill in a TCP4/TCP6 line (e.g. a unix-socket client)");
    if (h->version == 2 && h->command == PP_CMD_PROXY && h->family == PP_FAM_UNSPEC)
        add(r, PS_SEV_WARN, "R-V2-14", "R-V2-14,R-V2-24", "sender.proxy_unspec",
            "PROXY command with family UNSPEC: no address is carried, the receiver falls back to the real peer");
    if (h->version == 2 && h->command == PP_CMD_LOCAL && h->fam_byte != 0x00)
        add(r, PS_SEV_WARN, "R-V2-14", "R-V2-14,R-V2-27,R-V2-07", "sender.local_with_address",
            "LOCAL with family byte 0x%02x and an address block (AWS NLB health checks do this); "
            "a sender should use UNSPEC for LOCAL, a receiver must ignore the addresses",
            h->fam_byte);
    if (h->version == 2 && h->transport == PP_TRANS_DGRAM)
        add(r, PS_SEV_WARN, "A-18", "A-18,R-V2-19", "sender.dgram_on_stream",
            "a DGRAM family byte (0x%02x) on a TCP connection", h->fam_byte);
    pp_ssl_info ssl;
    if (pp_get_ssl(h, &ssl)) {
        bool cert = ssl.client & (PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS);
        if (ssl.verify == 0 && !cert)
            add(r, PS_SEV_WARN, "A-12", "A-12,R-SSL-02,R-SSL-03", "sender.verify_zero_without_cert",
                "SSL verify = 0 but client = 0x%02x carries no CERT_CONN/CERT_SESS bit: no certificate was "
                "presented (HAProxy sends this); a receiver must not treat it as authenticated",
                ssl.client);
        if (ssl.cn.ptr && !pp_ssl_cert_verified(&ssl))
            add(r, PS_SEV_WARN, "A-12", "A-12,R-SSL-02", "sender.cn_unverified",
                "SSL CN '%.*s' without a verified certificate (client 0x%02x, verify %u): not an identity",
                (int)(ssl.cn.len > 64 ? 64 : ssl.cn.len), (const char *)ssl.cn.ptr, ssl.client, ssl.verify);
    }
    if (h->header_len > 536)
        add(r, PS_SEV_INFO, "R-GEN-18", "R-GEN-18,A-02", "sender.header_over_536",
            "header of %zu bytes exceeds 536: it may span segments, and some receivers cap headers "
            "(nginx 1.22: 107 bytes for v2, RabbitMQ 3.10: 1460)",
            h->header_len);
    pp_bytes uid;
    if (pp_get_unique_id(h, &uid) && uid.len > PP_UNIQUE_ID_MAX)
        add(r, PS_SEV_FAIL, "R-UID-01", "R-UID-01,A-14", "sender.unique_id_too_long",
            "UNIQUE_ID of %zu bytes: a sender must keep it to 128", uid.len);
}

void ps_check(const ps_check_input *in, ps_check_result *r)
{
    memset(r, 0, sizeof *r);
    if (in->len == 0) {
        r->rc = in->end == PS_END_TIMEOUT ? PP_ERR_TIMEOUT : PP_ERR_TRUNCATED;
        add(r, PS_SEV_FAIL, "R-GEN-01", "R-GEN-01,R-V1-01,R-GEN-12", "sender.no_header",
            in->end == PS_END_TIMEOUT ? "no byte arrived before the deadline: the sender must send the header "
                                        "right after connecting"
                                      : "the connection closed before any byte: no header");
        return;
    }
    ssize_t rc = ps_parse_both(in->buf, in->len, &r->hdr, &r->lenient, &r->lenient_ok);
    r->rc = rc;
    if (rc == PP_NEED_MORE) {
        int e = in->end == PS_END_TIMEOUT ? PP_ERR_TIMEOUT
                : in->end == PS_END_TOO_LARGE ? PP_ERR_TOO_LARGE
                                               : PP_ERR_TRUNCATED;
        r->rc = e;
        const pp_error_info *ei = pp_error_info_get(e);
        add(r, PS_SEV_FAIL, first_ref(ei->refs), ei->refs, ei->name, "%s (%zu bytes received in %u reads)",
            ei->message, in->len, in->reads);
    } else if (rc < 0) {
        const pp_error_info *ei = pp_error_info_get((int)rc);
        add(r, PS_SEV_FAIL, first_ref(ei->refs), ei->refs, ei->name, "%s", ei->message);
        if (tcp6_with_ipv4(in->buf, in->len))
            add(r, PS_SEV_FAIL, "R-V1-17", "R-V1-17,R-V1-15", "sender.tcp6_with_ipv4",
                "TCP6 line carrying an IPv4 address: the shape nginx emits when it relays an IPv6 client "
                "onto an IPv4 listener");
    }
    if (rc > 0) {
        if (in->first_read < (size_t)rc)
            add(r, PS_SEV_FAIL, "R-GEN-09", "R-GEN-09,R-V1-01,R-V2-31", "sender.split_header",
                "the %zd-byte header was not complete in the first read (%zu bytes; %u reads in all): the "
                "sender did not write it in one piece",
                rc, in->first_read, in->reads);
        semantic_checks(&r->hdr, r);
    } else if (r->lenient_ok) {
        semantic_checks(&r->lenient, r);
    }
}
