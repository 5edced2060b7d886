/* broker/acl_hook: the point where an access-control policy plugs into the MQTT engine.
 *
 * The engine asks before every PUBLISH it accepts (BR_ACL_WRITE, on the topic name) and every
 * subscription it grants (BR_ACL_READ, on the topic filter). Issue 4's ACL file implements
 * this signature; with no hook the engine allows everything. A refused PUBLISH is acknowledged
 * as usual (v5: PUBACK/PUBREC 0x87) but not delivered; a refused subscription gets SUBACK
 * 0x80 (3.1.1) / 0x87 (v5). Each refusal is reported as an "acl_deny" event.
 */
#ifndef BR_ACL_HOOK_H
#define BR_ACL_HOOK_H

#include <stdbool.h>
#include <sys/socket.h>

typedef enum br_acl_access { BR_ACL_READ = 1, BR_ACL_WRITE = 2 } br_acl_access;

/* username: the one in effect (NULL = anonymous); addr: the attributed peer address (PROXY
 * source or socket peer; may be NULL); topic: NUL-terminated. Returns true to allow. */
typedef bool (*br_acl_fn)(void *ud, const char *username, const char *client_id,
                          const struct sockaddr *addr, const char *topic, br_acl_access access);

#endif
