/* lua/json.h: JSON for the runner: a bounded decoder into Lua values (admin API replies,
 * ready files) and string escaping for the report writers. */
#ifndef PC_JSON_H
#define PC_JSON_H

#include <stddef.h>

#include <lua.h>

#include "common.h"

#define PC_JSON_MAX_DEPTH 64

/* Decode text into a Lua value pushed on L (null -> a sentinel json.null, see below).
 * Returns 0, or -1 with a message pushed instead. */
int pc_json_decode(lua_State *L, const char *text, size_t len);

/* Append s as a JSON string literal (with quotes); invalid UTF-8 bytes become U+FFFD. */
void pc_json_str(pc_sbuf *b, const char *s);
/* Same for s[0..n) (binary-safe). */
void pc_json_strn(pc_sbuf *b, const char *s, size_t n);

#endif
