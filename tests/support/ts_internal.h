/* Shared by the tests/support sources only. */
#ifndef TS_INTERNAL_H
#define TS_INTERNAL_H

#include <stdint.h>

/* Record the message ts_last_error() returns; always returns -1 for "return ts_fail(...)". */
int ts_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void ts_clear_error(void);

/* Milliseconds left until deadline (0 when passed), capped for poll(). */
int ts_remaining_ms(uint64_t deadline);

#endif
