/* broker/proxy_stage: the PROXY header on proxy_protocol listeners (R-GEN-13).
 *
 * Bytes are collected as they arrive and pp_parse() judges the prefix after every read:
 * complete -> attribute, check, hand the rest to MQTT untouched (R-V1-28, R-V2-37);
 * need more -> keep waiting (any split, any pause, within the timeout: R-GEN-10, R-GEN-12);
 * error -> drop at once, send nothing, log the codec's error name (R-DET-04, R-V1-27).
 * Nothing reaches MQTT before the header is complete (R-GEN-11).
 *
 * The quirks (quirks.h) are woven in at the exact places the defective receivers go wrong. */
#include "broker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cn.h"
#include "events.h"
#include "log.h"
#include "net/sock.h"
#include "proxy_view.h"
#include "quirks.h"

#define HBUF_INITIAL 512

void ppb_proxy_options(const ppb_listener_config *lc, unsigned quirks, pp_options *o)
{
    memset(o, 0, sizeof(*o));
    o->versions = lc->pp_versions;
    o->require_crc32c = lc->require_crc32c;
    if (quirks & Q_IGNORE_CRC32C)
        o->skip_crc32c = true;
    if (quirks & Q_LAST_DUPLICATE_TLV_WINS)
        o->allow_tlv_duplicates = true;
}

static void header_timeout_cb(pn_tq *q, pn_tq_entry *entry, void *udata)
{
    (void)q;
    (void)udata;
    ppb_conn *c = PN_TQ_OWNER(entry, ppb_conn, header_tq);
    char msg[96];
    snprintf(msg, sizeof(msg), "no complete header within %u ms (%zu bytes received)", c->l->cfg->pp_timeout_ms,
             c->hlen);
    const pp_error_info *ei = pp_error_info_get(PP_ERR_TIMEOUT);
    ppb_conn_reject(c, "proxy_reject", ei->name, ei->refs, msg);
}

void ppb_proxy_stage_init_listener(ppb_listener *l)
{
    pn_tq_init(&l->header_timeouts, l->b->loop, l->cfg->pp_timeout_ms, header_timeout_cb, l);
}

void ppb_proxy_stage_begin(ppb_conn *c)
{
    c->state = CONN_PROXY;
    if (!(c->b->quirks & Q_NO_HEADER_TIMEOUT) && pn_tq_add(&c->l->header_timeouts, &c->header_tq) != 0)
        ppb_conn_reject(c, "proxy_reject", "out_of_memory", NULL, "no timer for the header timeout");
}

/* The header is complete (or will never be judged here): its deadline no longer applies. */
static void stop_header_timeout(ppb_conn *c)
{
    pn_tq_remove(&c->l->header_timeouts, &c->header_tq);
}

static void reject_err(ppb_conn *c, int err, const char *message)
{
    const pp_error_info *ei = pp_error_info_get(err);
    ppb_conn_reject(c, "proxy_reject", ei->name, ei->refs, message ? message : ei->message);
}

/* ---- quirk helpers: each rebuilds a header the strict codec refused or has not finished ---- */

/* lenient-v1-grammar: normalise one v1 line (case, runs of spaces/tabs, leading zeros, bare LF)
 * into canonical text, parse that instead. *line_len = bytes the original line used. */
static ssize_t lenient_v1(const uint8_t *buf, size_t len, const pp_options *o, pp_header *h, uint8_t *scratch,
                          size_t cap, size_t *line_len)
{
    size_t pre = len < 5 ? len : 5;
    if (strncasecmp((const char *)buf, "PROXY", pre) != 0)
        return PP_ERR_NOT_PROXY;
    const uint8_t *lf = memchr(buf, '\n', len < 200 ? len : 200);
    if (!lf)
        return len < 200 ? PP_NEED_MORE : PP_ERR_V1_TOO_LONG;
    size_t n = (size_t)(lf - buf);
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    char line[256];
    memcpy(line, buf, n);
    line[n] = '\0';
    size_t out = 0;
    int field = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line, " \t", &save); tok && out + 64 < cap; tok = strtok_r(NULL, " \t", &save)) {
        if (field > 0)
            scratch[out++] = ' ';
        if (field <= 1) {
            for (char *p = tok; *p; p++)
                *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
        }
        if (field >= 2 && strchr(tok, ':') == NULL) {
            /* dotted quads and ports: drop leading zeros of every number */
            char *p = tok;
            while (*p) {
                while (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
                    p++;
                while (*p && *p != '.')
                    scratch[out++] = (uint8_t)*p++;
                if (*p == '.')
                    scratch[out++] = (uint8_t)*p++;
            }
        } else {
            size_t tl = strlen(tok);
            memcpy(scratch + out, tok, tl);
            out += tl;
        }
        field++;
    }
    scratch[out++] = '\r';
    scratch[out++] = '\n';
    ssize_t r = pp_parse(scratch, out, o, h);
    if (r > 0)
        *line_len = (size_t)(lf - buf) + 1;
    return r > 0 ? r : PP_ERR_V1_BAD_SEPARATOR;
}

/* decode-before-complete: accept what has arrived as if it were the whole header. v1 gets
 * a CRLF it did not send; v2 is cut after its address block and its TLVs are left to MQTT. */
static ssize_t premature(const uint8_t *buf, size_t len, const pp_options *o, pp_header *h, uint8_t *scratch,
                         size_t cap, size_t *consumed)
{
    if (len >= 8 && memcmp(buf, "PROXY ", 6) == 0 && !memchr(buf, '\n', len) && len + 2 <= cap) {
        memcpy(scratch, buf, len);
        scratch[len] = '\r';
        scratch[len + 1] = '\n';
        if (len >= 1 && buf[len - 1] == '\r') /* a CR already there: only the LF is missing */
            scratch[len] = '\n';
        size_t total = buf[len - 1] == '\r' ? len + 1 : len + 2;
        if (pp_parse(scratch, total, o, h) > 0) {
            *consumed = len;
            return (ssize_t)len;
        }
        return PP_NEED_MORE;
    }
    if (len >= 16 && memcmp(buf, PP_V2_SIGNATURE, PP_V2_SIG_LEN) == 0) {
        static const size_t block[4] = {0, 12, 36, 216};
        size_t ab = block[(buf[13] >> 4) & 3];
        if (ab > 0 && len >= 16 + ab && 16 + ab <= cap) {
            memcpy(scratch, buf, 16 + ab);
            scratch[14] = (uint8_t)(ab >> 8);
            scratch[15] = (uint8_t)ab;
            if (pp_parse(scratch, 16 + ab, o, h) > 0) {
                *consumed = 16 + ab;
                return (ssize_t)*consumed;
            }
        }
    }
    return PP_NEED_MORE;
}

/* wrong-address-on-split: Mosquitto's second read lands at the start of the address buffer
 * instead of after the bytes already there. Rebuild that corrupted block and re-parse. */
static void corrupt_split_address(ppb_conn *c, const uint8_t *hdr, size_t hlen, const pp_options *o, pp_header *h,
                                  uint8_t *scratch)
{
    size_t ab = h->family == PP_FAM_INET ? 12 : h->family == PP_FAM_INET6 ? 36 : 0;
    size_t k = c->first_read_len > 16 ? c->first_read_len - 16 : 0;
    if (h->version != 2 || ab == 0 || c->reads < 2 || k == 0 || k >= ab)
        return;
    memcpy(scratch, hdr, hlen);
    uint8_t block[36];
    memset(block, 0, sizeof(block));
    memcpy(block, hdr + 16, k);
    memcpy(block, hdr + 16 + k, ab - k);
    memcpy(scratch + 16, block, ab);
    pp_options lax = *o;
    lax.skip_crc32c = true;
    pp_header h2;
    if (pp_parse(scratch, hlen, &lax, &h2) > 0) {
        h->src = h2.src;
        h->dst = h2.dst;
    }
}

/* ---- the header is in: attribute, check, start MQTT ------------------------------------ */

/* Hand the bytes after the header to MQTT untouched, then drop the header buffer. */
static void start_mqtt_after(ppb_conn *c, const br_client_info *info, size_t consumed)
{
    uint8_t *rest = c->hbuf;
    size_t len = c->hlen;
    c->hbuf = NULL;
    c->hlen = c->hcap = 0;
    ppb_conn_start_mqtt(c, info, rest + consumed, len - consumed);
    free(rest);
}

static void accept_header(ppb_conn *c, pp_header *h, size_t consumed)
{
    ppb_broker *b = c->b;
    const ppb_listener_config *lc = c->l->cfg;
    stop_header_timeout(c);
    bool used = ppb_proxy_uses_carried(h);
    /* kept as bytes, rendered only when the admin API or a printed log line reads it */
    c->proxy = ppb_proxy_rec_new(h, used, !(b->quirks & Q_IGNORE_CRC32C), (b->quirks & Q_LAST_DUPLICATE_TLV_WINS) != 0);
    if (used) {
        pn_addr_from_bytes(h->src.family == PP_FAM_INET ? AF_INET : AF_INET6, h->src.ip, h->src.port,
                           &c->attributed);
        ppb_addr_text(&c->attributed, c->attributed_text, sizeof(c->attributed_text));
    } else {
        memcpy(c->attributed_text, c->real_peer_text, strlen(c->real_peer_text) + 1); /* the smaller buffer */
    }

    ppb_event_fields f = PPB_EVENT_FIELDS_INIT;
    f.type = "proxy_header";
    f.with_proxy = true;
    f.reason = used ? "carried_source" : h->command == PP_CMD_LOCAL ? "local_real_peer" : "fallback_real_peer";
    f.refs = used ? "R-GEN-03,R-V2-09" : h->command == PP_CMD_LOCAL ? "R-V2-07" : h->version == 1 ? "R-V1-08" : "R-V2-15,R-V2-25";
    ppb_event_emit(b, c, &f);

    if ((b->quirks & Q_CLOSE_ON_LOCAL) && h->version == 2 && h->command == PP_CMD_LOCAL) {
        ppb_conn_reject(c, "proxy_reject", "local_refused", "R-V2-07", "LOCAL connection closed (quirk close-on-local)");
        return;
    }
    if (lc->proxy_protocol && lc->trusted_proxies.set &&
        !pn_cidr_list_match(&lc->trusted_proxies.list, &c->real_peer)) {
        ppb_conn_reject(c, "security_reject", "untrusted_proxy", "R-GEN-15,R-SEC-02",
                        "PROXY header from a peer outside proxy_protocol_trusted_proxies (possible spoofing)");
        return;
    }
    if (lc->allowed_sources.set && !pn_cidr_list_match(&lc->allowed_sources.list, &c->attributed)) {
        ppb_conn_reject(c, "security_reject", "source_not_allowed", "R-SEC-01",
                        "attributed source outside allowed_sources");
        return;
    }

    if (lc->use_cn_as_username) {
        ppb_cn_decision d;
        ppb_cn_decide(lc, b->quirks, h, &d);
        if (d.use) {
            c->forced_username = strdup(d.cn);
            c->username_source = "cn";
        } else if (d.refuse) {
            c->refuse = true;
            c->refuse_message = strdup(d.message);
        }
        /* every CN decision is an event (log line + admin API), taken or not, with its reason */
        ppb_event_fields cf = PPB_EVENT_FIELDS_INIT;
        cf.type = "cn_decision";
        cf.reason = d.reason;
        cf.refs = d.refs;
        cf.message = d.message;
        cf.outcome = d.use ? "cn_username" : d.refuse ? "refused" : "connect_username";
        if (d.use) {
            cf.username = d.cn;
            cf.username_source = "cn";
        }
        ppb_event_emit(b, c, &cf);
    }
    if (c->l->tls) {
        /* PROXY before TLS: what followed the header is the start of the ClientHello. */
        uint8_t *rest = c->hbuf;
        size_t len = c->hlen;
        c->hbuf = NULL;
        c->hlen = c->hcap = 0;
        ppb_tls_stage_begin(c, rest + consumed, len - consumed);
        free(rest);
        return;
    }
    br_client_info info;
    ppb_conn_client_info(c, &info);
    start_mqtt_after(c, &info, consumed);
}

/* Plain listener with accept-header-on-plain-listener: guess whether a header is there. */
static void plain_guess(ppb_conn *c)
{
    pp_header h;
    ssize_t r = pp_parse(c->hbuf, c->hlen, &c->l->pp_opts, &h);
    if (r == PP_NEED_MORE)
        return;
    if (r > 0) {
        accept_header(c, &h, (size_t)r);
        return;
    }
    stop_header_timeout(c);
    start_mqtt_after(c, NULL, 0);
}

/* The quirks that make a refused or unfinished header "pass" (defects on purpose). They may
 * rebuild the header in *scratch (then h points there). Returns the new parse result. */
static ssize_t defective_parse(ppb_conn *c, ssize_t r, pp_header *h, size_t *consumed, uint8_t **scratch)
{
    unsigned q = c->b->quirks;
    const pp_options *o = &c->l->pp_opts;
    bool v1_error = r <= PP_ERR_V1_TOO_LONG && r >= PP_ERR_V1_UNKNOWN_SUFFIX;
    bool wanted = (r == PP_ERR_V2_BAD_COMMAND && (q & Q_ACCEPT_UNKNOWN_COMMAND)) ||
                  ((v1_error || r == PP_ERR_NOT_PROXY) && (q & Q_LENIENT_V1_GRAMMAR)) ||
                  (r == PP_NEED_MORE && (q & Q_DECODE_BEFORE_COMPLETE));
    if (!wanted)
        return r;
    size_t cap = c->hlen + 256;
    *scratch = malloc(cap);
    if (!*scratch)
        return r;
    if (r == PP_ERR_V2_BAD_COMMAND) {
        /* accept-unknown-command: read command 0x2-0xF as PROXY */
        memcpy(*scratch, c->hbuf, c->hlen);
        (*scratch)[12] = (uint8_t)(((*scratch)[12] & 0xF0) | PP_CMD_PROXY);
        ssize_t r2 = pp_parse(*scratch, c->hlen, o, h);
        *consumed = r2 > 0 ? (size_t)r2 : 0;
        return r2;
    }
    if (r == PP_NEED_MORE) {
        ssize_t r2 = premature(c->hbuf, c->hlen, o, h, *scratch, cap, consumed);
        return r2 > 0 ? r2 : r;
    }
    size_t line_len = 0;
    ssize_t r2 = lenient_v1(c->hbuf, c->hlen, o, h, *scratch, cap, &line_len);
    if (r2 > 0)
        *consumed = line_len;
    return r2 >= 0 ? r2 : r;
}

static void evaluate(ppb_conn *c)
{
    ppb_broker *b = c->b;
    if (!c->l->cfg->proxy_protocol) {
        plain_guess(c);
        return;
    }
    pp_header h;
    ssize_t r = pp_parse(c->hbuf, c->hlen, &c->l->pp_opts, &h);
    size_t consumed = r > 0 ? (size_t)r : 0;
    uint8_t *scratch = NULL;
    if (b->quirks)
        r = defective_parse(c, r, &h, &consumed, &scratch);

    if (r == PP_ERR_NOT_PROXY && (b->quirks & Q_ACCEPT_MISSING_HEADER)) {
        /* accept-missing-header: no header, so serve it as a plain client */
        free(scratch);
        stop_header_timeout(c);
        start_mqtt_after(c, NULL, 0);
        return;
    }
    if (r == PP_NEED_MORE) {
        free(scratch);
        if (c->hlen >= PPB_HDR_BUF_MAX)
            reject_err(c, PP_ERR_TOO_LARGE, NULL);
        return;
    }
    if (r < 0) {
        free(scratch);
        char msg[160];
        snprintf(msg, sizeof(msg), "%s (after %zu bytes in %u reads; nothing sent back)",
                 pp_error_info_get((int)r)->message, c->hlen, c->reads);
        reject_err(c, (int)r, msg);
        return;
    }
    if (b->quirks & Q_WRONG_ADDRESS_ON_SPLIT) {
        uint8_t *s2 = malloc(consumed + 16);
        if (s2) {
            corrupt_split_address(c, c->hbuf, consumed, &c->l->pp_opts, &h, s2);
            free(s2);
        }
    }
    /* h may point into scratch (quirk rebuilds): accept_header renders it before freeing. */
    accept_header(c, &h, consumed);
    free(scratch);
}

static bool grow(ppb_conn *c)
{
    if (c->hlen < c->hcap)
        return true;
    if (c->hcap >= PPB_HDR_BUF_MAX)
        return false;
    size_t cap = c->hcap ? c->hcap * 2 : HBUF_INITIAL;
    if (cap > PPB_HDR_BUF_MAX)
        cap = PPB_HDR_BUF_MAX;
    uint8_t *p = realloc(c->hbuf, cap);
    if (!p)
        return false;
    c->hbuf = p;
    c->hcap = cap;
    return true;
}

void ppb_proxy_stage_on_readable(ppb_conn *c)
{
    if (!grow(c)) {
        reject_err(c, PP_ERR_TOO_LARGE, NULL);
        return;
    }
    size_t n = 0;
    pn_io io = pn_recv(c->fd, c->hbuf + c->hlen, c->hcap - c->hlen, &n);
    if (io == PN_IO_AGAIN)
        return;
    if (io == PN_IO_FIN) {
        char msg[96];
        snprintf(msg, sizeof(msg), "peer closed after %zu bytes, before the header completed", c->hlen);
        if (!c->l->cfg->proxy_protocol && c->hlen > 0) {
            /* plain listener guessing (quirk): what came is MQTT's to judge */
            plain_guess(c);
            return;
        }
        reject_err(c, PP_ERR_TRUNCATED, msg);
        return;
    }
    if (io != PN_IO_OK) {
        ppb_conn_reject(c, "proxy_reject", io == PN_IO_RST ? "connection_reset" : "io_error", NULL,
                        "socket error before the header completed");
        return;
    }
    c->hlen += n;
    c->reads++;
    if (c->reads == 1)
        c->first_read_len = c->hlen;
    evaluate(c);
}
