/* A substring-based JSON value extractor for test assertions: NOT a parser. It walks the
 * text once, skipping strings correctly, and takes the first "key": it meets at any depth.
 * Use it on output of our own programs, never on untrusted input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

/* Index just past the string starting at s[i] == '"', or 0 when unterminated. */
static size_t skip_string(const char *s, size_t i)
{
    for (i++; s[i]; i++) {
        if (s[i] == '\\') {
            if (!s[i + 1])
                return 0;
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return 0;
}

static size_t skip_ws(const char *s, size_t i)
{
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
        i++;
    return i;
}

/* End of the value starting at s[i] (object/array balanced, string, or scalar); 0 if bad. */
static size_t value_end(const char *s, size_t i)
{
    if (s[i] == '"')
        return skip_string(s, i);
    if (s[i] == '{' || s[i] == '[') {
        int depth = 0;
        for (; s[i]; i++) {
            if (s[i] == '"') {
                size_t e = skip_string(s, i);
                if (!e)
                    return 0;
                i = e - 1;
            } else if (s[i] == '{' || s[i] == '[') {
                depth++;
            } else if (s[i] == '}' || s[i] == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return 0;
    }
    size_t start = i;
    while (s[i] && !strchr(",}] \t\r\n", s[i]))
        i++;
    return i > start ? i : 0;
}

/* Start of the value of the first "key": (0 when absent). */
static size_t find_value(const char *json, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; json[i];) {
        if (json[i] != '"') {
            i++;
            continue;
        }
        size_t end = skip_string(json, i);
        if (!end)
            return 0;
        size_t after = skip_ws(json, end);
        if (json[after] == ':' && end - i - 2 == klen && memcmp(json + i + 1, key, klen) == 0)
            return skip_ws(json, after + 1);
        i = end;
    }
    return 0;
}

static int hex4(const char *p)
{
    int v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p[k];
        int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

int ts_json_get(const char *json, const char *key, char *out, size_t cap)
{
    size_t v = find_value(json, key);
    if (!v)
        return -1;
    size_t e = value_end(json, v);
    if (!e)
        return -1;
    if (cap == 0)
        return -2;
    size_t o = 0;
    if (json[v] != '"') {
        if (e - v >= cap)
            return -2;
        memcpy(out, json + v, e - v);
        out[e - v] = '\0';
        return (int)(e - v);
    }
    for (size_t i = v + 1; i < e - 1; i++) {
        char c = json[i];
        if (c == '\\') {
            char n = json[++i];
            switch (n) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                int cp = i + 4 < e ? hex4(json + i + 1) : -1;
                if (cp < 0 || cp > 0x7f)
                    return -2; /* only ASCII escapes are decoded */
                c = (char)cp;
                i += 4;
                break;
            }
            default: c = n; break; /* \" \\ \/ */
            }
        }
        if (o + 1 >= cap)
            return -2;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

bool ts_json_get_int(const char *json, const char *key, long long *out)
{
    char buf[32];
    if (ts_json_get(json, key, buf, sizeof buf) < 0 || buf[0] == '"')
        return false;
    char *end;
    long long v = strtoll(buf, &end, 10);
    if (end == buf || *end)
        return false;
    *out = v;
    return true;
}

int ts_json_array_len(const char *json, const char *key)
{
    size_t v = find_value(json, key);
    if (!v || json[v] != '[')
        return -1;
    size_t e = value_end(json, v);
    if (!e)
        return -1;
    size_t i = skip_ws(json, v + 1);
    if (json[i] == ']')
        return 0;
    int count = 0;
    while (i < e - 1) {
        size_t ve = value_end(json, i);
        if (!ve)
            return -1;
        count++;
        i = skip_ws(json, ve);
        if (json[i] == ',')
            i = skip_ws(json, i + 1);
        else
            break;
    }
    return count;
}
