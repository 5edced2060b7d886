/* broker/admin: the admin HTTP API on admin.listener (JSON, HTTP/1.1, Connection: close)
 * and the --ready-file. Routes: /api/v1/status, /api/v1/sessions, /api/v1/events?since=N,
 * /api/v1/rejections, /api/v1/connections, /metrics. Read-only: every route is GET. */
#ifndef PPB_ADMIN_H
#define PPB_ADMIN_H

#include "broker.h"

/* Bind admin.listener (when configured). 0, or -1 with err naming the address. */
int ppb_admin_open(ppb_broker *b, char *err, size_t errcap);
void ppb_admin_close(ppb_broker *b);
/* "ip:port" actually bound, or NULL without an admin listener. */
const char *ppb_admin_address(const ppb_broker *b);

/* Write the ready file atomically (PATH.tmp then rename). 0 or -1 with err. */
int ppb_write_ready_file(ppb_broker *b, const char *path, char *err, size_t errcap);

/* Response bodies, exposed for tests: each returns a malloc'd NUL-terminated text. */
char *ppb_admin_status_json(ppb_broker *b);
char *ppb_admin_sessions_json(ppb_broker *b);
char *ppb_admin_metrics_text(ppb_broker *b);
/* Every open connection, header stage included (state, header bytes so far, reads, age):
 * lets tests and the runner see that a split header's first part was read. */
char *ppb_admin_connections_json(ppb_broker *b);

#endif
