/* broker/listener_rules: rules across a listener's keys, checked after the config is parsed
 * (by the broker and by --check-config). An identity option that would be silently ignored
 * is an error, because ignoring it fails open: `proxy_protocol_use_cn_as_username = on`
 * without `proxy_protocol = on` would let the CONNECT username through unchecked. Two
 * identity sources on one listener (`use_identity_as_username` and
 * `proxy_protocol_use_cn_as_username`) are refused too: which one wins would be a guess. */
#ifndef PPB_LISTENER_RULES_H
#define PPB_LISTENER_RULES_H

#include <stddef.h>

#include "config.h"

/* 0, or -1 with "FILE: KEY: REASON" in err. */
int ppb_listener_rules_check(const ppb_config *cfg, char *err, size_t errcap);

#endif
