/* broker/cn: CN-as-username decision (see cn.h). */
#include "cn.h"

#include <stdio.h>
#include <string.h>

#include "proxy_view.h"
#include "quirks.h"

/* Strict UTF-8 without control characters (C0, DEL, C1). */
static const char *cn_problem(const uint8_t *p, size_t n)
{
    if (n == 0)
        return "cn.empty";
    if (n > PPB_CN_MAX)
        return "cn.too_long";
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        if (c == 0)
            return "cn.nul";
        if (c < 0x20 || c == 0x7f)
            return "cn.control_char";
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07;
        } else {
            return "cn.bad_utf8";
        }
        if (i + need >= n)
            return "cn.bad_utf8";
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return "cn.bad_utf8";
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return "cn.bad_utf8";
        if (cp >= 0x80 && cp <= 0x9f)
            return "cn.control_char";
        i += need + 1;
    }
    return NULL;
}

static void refuse_or_fallback(const ppb_listener_config *lc, ppb_cn_decision *out, const char *reason,
                               const char *detail)
{
    out->reason = reason;
    out->refuse = lc->cn_policy == PPB_CN_REQUIRE;
    snprintf(out->message, sizeof(out->message), "%s: %s; policy %s: %s", reason, detail,
             out->refuse ? "require" : "fallback",
             out->refuse ? "CONNECT refused" : "CONNECT username kept");
}

void ppb_cn_decide(const ppb_listener_config *lc, unsigned quirks, const pp_header *h, ppb_cn_decision *out)
{
    memset(out, 0, sizeof(*out));
    out->refs = "R-SSL-02,R-SSL-03,R-SSL-08,A-12";
    if (!lc->use_cn_as_username) {
        out->reason = "cn.not_used";
        return;
    }
    pp_ssl_info ssl;
    if (!ppb_proxy_ssl(h, (quirks & Q_LAST_DUPLICATE_TLV_WINS) != 0, &ssl)) {
        refuse_or_fallback(lc, out, "cn.no_ssl_tlv", "no SSL TLV in the header");
        return;
    }
    if (!(quirks & Q_TRUST_UNVERIFIED_CN) && !pp_ssl_cert_verified(&ssl)) {
        char d[120];
        snprintf(d, sizeof(d), "client certificate not verified (client=0x%02x verify=%u)", ssl.client,
                 ssl.verify);
        refuse_or_fallback(lc, out, "cn.unverified", d);
        return;
    }
    if (!ssl.cn.ptr) {
        refuse_or_fallback(lc, out, "cn.missing", "verified certificate but no CN sub-TLV");
        return;
    }
    size_t n = ssl.cn.len;
    if (quirks & Q_CN_NUL_TRUNCATE) {
        /* The defect: a C string copy stops at the first NUL ("admin\0evil" -> "admin"). */
        const void *nul = memchr(ssl.cn.ptr, 0, n);
        if (nul)
            n = (size_t)((const uint8_t *)nul - ssl.cn.ptr);
    }
    const char *bad = cn_problem(ssl.cn.ptr, n);
    if (bad) {
        refuse_or_fallback(lc, out, bad, "CN refused as a username");
        return;
    }
    memcpy(out->cn, ssl.cn.ptr, n);
    out->cn[n] = '\0';
    out->use = true;
    out->reason = "cn.ok";
    snprintf(out->message, sizeof(out->message), "username from the verified SSL CN");
}
