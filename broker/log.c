/* broker/log: level filtering and the two output formats for free-form messages. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

bool ppb_log_enabled(const ppb_broker *b, enum ppb_log_level level)
{
    return b->log && level >= b->cfg.log_level;
}

void ppb_log_line(ppb_broker *b, enum ppb_log_level level, const char *line)
{
    if (!ppb_log_enabled(b, level))
        return;
    fputs(line, b->log);
    fputc('\n', b->log);
    /* One line per outcome must survive a kill: flush each line (logs are low volume). */
    fflush(b->log);
}

void ppb_log(ppb_broker *b, enum ppb_log_level level, const char *fmt, ...)
{
    if (!ppb_log_enabled(b, level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char now[40];
    ppb_rfc3339_now(now, sizeof(now));
    jbuf jb;
    jb_init(&jb, 8192);
    if (b->cfg.log_format == PPB_LOG_JSON) {
        jb_obj(&jb);
        jb_key(&jb, "time");
        jb_str(&jb, now);
        jb_key(&jb, "level");
        jb_str(&jb, ppb_log_level_name(level));
        jb_key(&jb, "msg");
        jb_str(&jb, msg);
        jb_obj_end(&jb);
    } else {
        jb_printf(&jb, "%s level=%s msg=", now, ppb_log_level_name(level));
        /* quoted like every text value that holds spaces */
        jbuf q;
        jb_init(&q, 4096);
        jb_str(&q, msg);
        if (q.p)
            jb_append(&jb, q.p, q.len);
        jb_free(&q);
    }
    if (jb.p && !jb.failed)
        ppb_log_line(b, level, jb.p);
    jb_free(&jb);
}
