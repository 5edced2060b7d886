/* A small, bounded JSON decoder into Lua values, and string escaping (see json.h). */
#include "json.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

typedef struct jp {
    lua_State *L;
    const char *p, *end;
    const char *err;
    int depth;
} jp;

static void ws(jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool lit(jp *j, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, s, n) != 0)
        return false;
    j->p += n;
    return true;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void put_utf8(luaL_Buffer *b, unsigned cp)
{
    char out[4];
    int n;
    if (cp < 0x80) { out[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { out[0] = (char)(0xC0 | cp >> 6); out[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) { out[0] = (char)(0xE0 | cp >> 12); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
    else { out[0] = (char)(0xF0 | cp >> 18); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
    luaL_addlstring(b, out, (size_t)n);
}

static bool str(jp *j)
{
    j->p++; /* opening quote */
    luaL_Buffer b;
    luaL_buffinit(j->L, &b);
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if ((unsigned char)c < 0x20) { j->err = "control character in string"; return false; }
        if (c != '\\') { luaL_addchar(&b, c); continue; }
        if (j->p >= j->end) break;
        c = *j->p++;
        switch (c) {
        case '"': case '\\': case '/': luaL_addchar(&b, c); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u': {
            if (j->end - j->p < 4) { j->err = "short \\u escape"; return false; }
            unsigned cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = hexv(j->p[i]);
                if (h < 0) { j->err = "bad \\u escape"; return false; }
                cp = cp * 16 + (unsigned)h;
            }
            j->p += 4;
            if (cp >= 0xD800 && cp < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' && j->p[1] == 'u') {
                unsigned lo = 0;
                bool okh = true;
                for (int i = 0; i < 4; i++) {
                    int h = hexv(j->p[2 + i]);
                    if (h < 0) okh = false; else lo = lo * 16 + (unsigned)h;
                }
                if (okh && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    j->p += 6;
                }
            }
            put_utf8(&b, cp);
            break;
        }
        default: j->err = "bad escape"; return false;
        }
    }
    if (j->p >= j->end) { j->err = "unterminated string"; return false; }
    j->p++;
    luaL_pushresult(&b);
    return true;
}

static bool value(jp *j);

static bool array(jp *j)
{
    j->p++;
    lua_newtable(j->L);
    lua_Integer i = 0;
    ws(j);
    if (j->p < j->end && *j->p == ']') { j->p++; return true; }
    for (;;) {
        if (!value(j)) return false;
        lua_rawseti(j->L, -2, ++i);
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == ']') { j->p++; return true; }
        j->err = "expected , or ] in array";
        return false;
    }
}

static bool object(jp *j)
{
    j->p++;
    lua_newtable(j->L);
    ws(j);
    if (j->p < j->end && *j->p == '}') { j->p++; return true; }
    for (;;) {
        ws(j);
        if (j->p >= j->end || *j->p != '"') { j->err = "expected a key"; return false; }
        if (!str(j)) return false;
        ws(j);
        if (j->p >= j->end || *j->p != ':') { j->err = "expected :"; return false; }
        j->p++;
        if (!value(j)) return false;
        lua_rawset(j->L, -3);
        ws(j);
        if (j->p < j->end && *j->p == ',') { j->p++; continue; }
        if (j->p < j->end && *j->p == '}') { j->p++; return true; }
        j->err = "expected , or } in object";
        return false;
    }
}

static bool number(jp *j)
{
    const char *s = j->p;
    while (j->p < j->end && strchr("+-0123456789.eE", *j->p))
        j->p++;
    char tmp[64];
    size_t n = (size_t)(j->p - s);
    if (n == 0 || n >= sizeof tmp) { j->err = "bad number"; return false; }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!lua_stringtonumber(j->L, tmp)) { j->err = "bad number"; return false; }
    return true;
}

static bool value(jp *j)
{
    ws(j);
    if (j->p >= j->end) { j->err = "unexpected end"; return false; }
    if (++j->depth > PC_JSON_MAX_DEPTH) { j->err = "nested too deeply"; return false; }
    luaL_checkstack(j->L, 4, "json");
    bool ok;
    switch (*j->p) {
    case '{': ok = object(j); break;
    case '[': ok = array(j); break;
    case '"': ok = str(j); break;
    case 't': ok = lit(j, "true"); if (ok) lua_pushboolean(j->L, 1); else j->err = "bad literal"; break;
    case 'f': ok = lit(j, "false"); if (ok) lua_pushboolean(j->L, 0); else j->err = "bad literal"; break;
    case 'n': ok = lit(j, "null"); if (ok) lua_pushnil(j->L); else j->err = "bad literal"; break;
    default: ok = number(j); break;
    }
    j->depth--;
    /* a null inside an object: rawset with a nil value is a no-op, which is what we want */
    return ok;
}

int pc_json_decode(lua_State *L, const char *text, size_t len)
{
    jp j = {L, text, text + len, NULL, 0};
    int top = lua_gettop(L);
    if (value(&j)) {
        ws(&j);
        if (j.p == j.end)
            return 0;
        j.err = "trailing characters";
    }
    lua_settop(L, top);
    lua_pushfstring(L, "%s at offset %d", j.err ? j.err : "error", (int)(j.p - text));
    return -1;
}

static int l_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    if (pc_json_decode(L, s, len) < 0)
        return lua_error(L);
    return 1;
}

int pc_open_json(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, l_decode);
    lua_setfield(L, -2, "decode");
    return 1;
}

void pc_json_strn(pc_sbuf *b, const char *s, size_t n)
{
    pc_sbuf_add(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            pc_sbuf_add(b, e, 2);
            p++;
        } else if (c < 0x20) {
            pc_sbuf_printf(b, c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            pc_sbuf_add(b, p, 1);
            p++;
        } else {
            /* copy a well-formed UTF-8 sequence, replace anything else */
            int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
            bool ok = len && p + len <= end && c >= 0xC2 && c <= 0xF4;
            for (int i = 1; ok && i < len; i++)
                ok = (p[i] & 0xC0) == 0x80;
            if (ok) {
                pc_sbuf_add(b, p, (size_t)len);
                p += len;
            } else {
                pc_sbuf_puts(b, "\\ufffd");
                p++;
            }
        }
    }
    pc_sbuf_add(b, "\"", 1);
}

void pc_json_str(pc_sbuf *b, const char *s)
{
    if (!s) {
        pc_sbuf_puts(b, "null");
        return;
    }
    pc_json_strn(b, s, strlen(s));
}
