/* broker/acl_file: the ACL file (acl_file = PATH, issue 4 item 5): who may publish to and
 * subscribe on which topics, by username and by attributed source address (the PROXY-carried
 * source when the header is used, the socket peer otherwise).
 *
 *     # rules before any section apply to every client
 *     topic read public/#
 *     user alice                  # rules below: clients whose username is alice
 *     topic readwrite alice/#
 *     source 203.0.113.0/24       # rules below: clients attributed to that network
 *     topic write sensors/+/data
 *
 * `topic read|write|readwrite FILTER` (MQTT wildcards allowed). A request is allowed when a
 * rule that applies to the client grants the access and its filter covers the topic (a
 * subscription filter must lie entirely inside the rule's filter). With an ACL file,
 * anything not granted is denied. Plugs into the engine through acl_hook.h. */
#ifndef PPB_ACL_FILE_H
#define PPB_ACL_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "acl_hook.h"

typedef struct ppb_acl ppb_acl;

/* NULL with err = "PATH:LINE: reason" on a bad file. */
ppb_acl *ppb_acl_load(const char *path, char *err, size_t errcap);
ppb_acl *ppb_acl_parse(const char *text, size_t len, const char *name, char *err, size_t errcap);
void ppb_acl_free(ppb_acl *acl);
/* br_acl_fn for the engine (ud = ppb_acl *). */
bool ppb_acl_check(void *ud, const char *username, const char *client_id, const struct sockaddr *addr,
                   const char *topic, br_acl_access access);
/* true when `filter` (a topic, or a subscription filter) lies inside `rule`. */
bool ppb_acl_filter_covers(const char *rule, const char *filter);

#endif
