/* broker/cn: `proxy_protocol_use_cn_as_username` (issue 4 item 3). The CN of the SSL TLV's
 * CN sub-TLV becomes the MQTT username only when the TLV proves a verified client
 * certificate (client has SSL and CERT_CONN or CERT_SESS, verify == 0: R-SSL-02, A-12) and
 * the CN is clean (no NUL, no control characters, valid UTF-8, at most 256 bytes). A
 * top-level 0x22 TLV is not a CN (EC-T-17). Otherwise the listener's cn_policy decides:
 * require refuses the CONNECT (v5 0x87, 3.1.1 rc 5), fallback keeps CONNECT's username. */
#ifndef PPB_CN_H
#define PPB_CN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "proxy/proxy.h"

#define PPB_CN_MAX 256

typedef struct ppb_cn_decision {
    bool use;                 /* username = cn */
    bool refuse;              /* policy require and no usable CN */
    char cn[PPB_CN_MAX + 1];  /* valid when use */
    const char *reason;       /* stable name: "cn.ok", "cn.missing", "cn.unverified", "cn.nul", ... */
    const char *refs;
    char message[320];
} ppb_cn_decision;

/* quirks: Q_TRUST_UNVERIFIED_CN, Q_CN_NUL_TRUNCATE, Q_LAST_DUPLICATE_TLV_WINS matter here. */
void ppb_cn_decide(const ppb_listener_config *lc, unsigned quirks, const pp_header *h, ppb_cn_decision *out);

#endif
