/* broker/log: ppbroker's log output (stderr or --log-file), json or text, with levels.
 * Connection outcomes come from events.c; everything else (start, stop, errors) from here. */
#ifndef PPB_LOG_H
#define PPB_LOG_H

#include "broker.h"

void ppb_log(ppb_broker *b, enum ppb_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A pre-rendered line (no newline); written only when level passes the configured one. */
void ppb_log_line(ppb_broker *b, enum ppb_log_level level, const char *line);
bool ppb_log_enabled(const ppb_broker *b, enum ppb_log_level level);

#endif
