/* ts_last_error() and deadline arithmetic shared by the helpers. */
#include <stdarg.h>
#include <stdio.h>

#include "net/loop.h"
#include "support.h"
#include "ts_internal.h"

static _Thread_local char last_error[512];

const char *ts_last_error(void)
{
    return last_error;
}

void ts_clear_error(void)
{
    last_error[0] = '\0';
}

int ts_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

int ts_remaining_ms(uint64_t deadline)
{
    uint64_t now = pn_now_ms();
    if (now >= deadline)
        return 0;
    uint64_t left = deadline - now;
    return left > 1000000 ? 1000000 : (int)left;
}
