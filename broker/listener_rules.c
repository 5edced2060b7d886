/* broker/listener_rules: cross-key listener rules (see listener_rules.h). */
#include "listener_rules.h"

#include <stdio.h>

int ppb_listener_rules_check(const ppb_config *cfg, char *err, size_t errcap)
{
    for (size_t i = 0; i < cfg->nlisteners; i++) {
        const ppb_listener_config *l = &cfg->listeners[i];
        const char *kind = l->kind == PPB_LISTENER_SSL ? "ssl" : "tcp";
        if (l->use_cn_as_username && !l->proxy_protocol) {
            snprintf(err, errcap,
                     "%s: listener.%s.%s.proxy_protocol_use_cn_as_username: needs listener.%s.%s.proxy_protocol = on "
                     "(the CN comes from the PROXY header's SSL TLV; without it every CONNECT username would be "
                     "taken unchecked)",
                     cfg->path, kind, l->name, kind, l->name);
            return -1;
        }
        if (l->use_cn_as_username && l->use_identity_as_username) {
            /* two sources of identity: the TLS peer may be the proxy, not the client */
            snprintf(err, errcap,
                     "%s: listener.%s.%s.use_identity_as_username: cannot be combined with "
                     "proxy_protocol_use_cn_as_username on the same listener (choose the TLS peer's certificate "
                     "or the CN the proxy forwards)",
                     cfg->path, kind, l->name);
            return -1;
        }
    }
    return 0;
}
