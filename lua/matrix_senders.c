/* ppconform matrix --senders FILE: the "Real senders" section of the matrix.
 *
 * FILE is the JSON record scripts/sender-findings.py writes (docs/sender-findings.json):
 * what real HAProxy and nginx sender shapes send, each checked by `proxysend --listen` in
 * front of ppbroker. The record is the one source of truth (the ctest interop.sendval
 * regenerates it from the real senders and compares); this file only renders it, as a
 * Markdown table and as an HTML table, into the same documents as the suite's verdicts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "common.h"
#include "json.h"
#include "matrix.h"

#define MAX_RECORD (1u << 20) /* a sender record we are willing to read */
#define MAX_SHAPES 64

typedef struct mx_shape {
    char *sender, *configuration, *client, *header, *tlvs, *findings;
    int served; /* 1 yes, 0 no, -1 no client */
} mx_shape;

struct mx_senders {
    char *method;
    mx_shape shapes[MAX_SHAPES];
    size_t nshapes;
    pc_strv notes;
};

static char *string_field(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    char *s = lua_type(L, -1) == LUA_TSTRING ? pc_strdup(lua_tostring(L, -1)) : NULL;
    lua_pop(L, 1);
    return s;
}

/* "WARN A-12 `sender.verify_zero_without_cert`; ..." or "none" */
static char *findings_text(lua_State *L, int idx)
{
    pc_sbuf b = {0};
    lua_getfield(L, idx, "findings");
    if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            if (lua_istable(L, -1)) {
                char *level = string_field(L, -1, "level"), *id = string_field(L, -1, "id"), *name = string_field(L, -1, "name");
                pc_sbuf_printf(&b, "%s%s %s `%s`", b.len ? "; " : "", level ? level : "?", id ? id : "?", name ? name : "?");
                free(level);
                free(id);
                free(name);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    char *s = pc_strdup(b.len ? pc_sbuf_cstr(&b) : "none");
    pc_sbuf_free(&b);
    return s;
}

mx_senders *mx_senders_load(const char *path, char **err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err = pc_printf("cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    pc_sbuf text = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= MAX_RECORD)
        pc_sbuf_add(&text, chunk, n);
    fclose(f);
    if (text.len > MAX_RECORD) {
        pc_sbuf_free(&text);
        *err = pc_printf("%s: larger than %u bytes", path, MAX_RECORD);
        return NULL;
    }
    lua_State *L = luaL_newstate();
    int rc = pc_json_decode(L, pc_sbuf_cstr(&text), text.len);
    pc_sbuf_free(&text);
    if (rc < 0 || !lua_istable(L, -1)) {
        *err = pc_printf("%s: not a JSON object (%s)", path, rc < 0 ? lua_tostring(L, -1) : "wrong type");
        lua_close(L);
        return NULL;
    }
    int top = lua_gettop(L);
    mx_senders *s = pc_xcalloc(1, sizeof *s);
    s->method = string_field(L, top, "method");
    lua_getfield(L, top, "shapes");
    if (!lua_istable(L, -1) || luaL_len(L, -1) == 0) {
        *err = pc_printf("%s: no \"shapes\" list (write it with scripts/sender-findings.py --write)", path);
        lua_close(L);
        mx_senders_free(s);
        return NULL;
    }
    lua_Integer count = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= count && s->nshapes < MAX_SHAPES; i++) {
        lua_geti(L, -1, i);
        int e = lua_gettop(L);
        if (lua_istable(L, e)) {
            mx_shape *r = &s->shapes[s->nshapes++];
            r->sender = string_field(L, e, "sender");
            r->configuration = string_field(L, e, "configuration");
            r->client = string_field(L, e, "client");
            r->header = string_field(L, e, "header");
            r->tlvs = string_field(L, e, "tlvs");
            r->findings = findings_text(L, e);
            lua_getfield(L, e, "served");
            r->served = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : -1;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, top, "notes");
    if (lua_istable(L, -1)) {
        lua_Integer nn = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= nn; i++) {
            lua_geti(L, -1, i);
            if (lua_type(L, -1) == LUA_TSTRING)
                pc_strv_push(&s->notes, lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_close(L);
    return s;
}

void mx_senders_free(mx_senders *s)
{
    if (!s)
        return;
    free(s->method);
    for (size_t i = 0; i < s->nshapes; i++) {
        mx_shape *r = &s->shapes[i];
        free(r->sender);
        free(r->configuration);
        free(r->client);
        free(r->header);
        free(r->tlvs);
        free(r->findings);
    }
    pc_strv_free(&s->notes);
    free(s);
}

static const char *served_text(int served)
{
    return served < 0 ? "n/a (no client)" : served ? "yes" : "no";
}

static const char *const INTRO =
    "What real PROXY senders send, recorded by `scripts/sender-findings.py` into docs/sender-findings.json "
    "(regenerated from the real HAProxy and nginx and compared by the ctest `interop.sendval`) and shown here "
    "as recorded, not re-measured by this run.";

void mx_senders_md(pc_sbuf *b, const mx_senders *s)
{
    pc_sbuf_printf(b, "\n## Real senders (proxysend --listen)\n\n%s\n", INTRO);
    if (s->method) {
        pc_sbuf_puts(b, "\n");
        mx_md_text(b, s->method);
        pc_sbuf_puts(b, "\n");
    }
    pc_sbuf_puts(b, "\n| sender | configuration | client | header | TLVs | findings | served |\n"
                    "|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < s->nshapes; i++) {
        const mx_shape *r = &s->shapes[i];
        const char *cols[] = {r->sender, r->configuration, r->client, r->header, r->tlvs, r->findings, served_text(r->served)};
        pc_sbuf_puts(b, "|");
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            pc_sbuf_puts(b, " ");
            mx_md_text(b, cols[k] ? cols[k] : "?");
            pc_sbuf_puts(b, " |");
        }
        pc_sbuf_puts(b, "\n");
    }
    if (s->notes.count) {
        pc_sbuf_puts(b, "\nNotes:\n\n");
        for (size_t i = 0; i < s->notes.count; i++) {
            pc_sbuf_puts(b, "- ");
            mx_md_text(b, s->notes.items[i]);
            pc_sbuf_puts(b, "\n");
        }
    }
}

/* HTML text with Markdown `code` spans as <code> (the record's strings use them). */
static void html_inline(pc_sbuf *b, const char *s)
{
    bool in_code = false;
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '`') {
            pc_sbuf_puts(b, in_code ? "</code>" : "<code>");
            in_code = !in_code;
            continue;
        }
        char one[2] = {*p, '\0'};
        mx_html_text(b, one);
    }
    if (in_code)
        pc_sbuf_puts(b, "</code>");
}

void mx_senders_html(pc_sbuf *b, const mx_senders *s)
{
    pc_sbuf_puts(b, "<h2 id=\"real-senders\">Real senders (proxysend --listen)</h2>\n<p>");
    html_inline(b, INTRO);
    if (s->method) {
        pc_sbuf_puts(b, " ");
        html_inline(b, s->method);
    }
    pc_sbuf_puts(b, "</p>\n<table><tr><th>sender</th><th>configuration</th><th>client</th><th>header</th><th>TLVs</th>"
                    "<th>findings</th><th>served</th></tr>\n");
    for (size_t i = 0; i < s->nshapes; i++) {
        const mx_shape *r = &s->shapes[i];
        const char *cols[] = {r->sender, r->configuration, r->client, r->header, r->tlvs, r->findings, served_text(r->served)};
        pc_sbuf_puts(b, "<tr>");
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
            /* a finding's level colours its cell like a verdict */
            const char *cls = k == 5 && strstr(r->findings, "FAIL") ? " class=\"v-FAIL\""
                              : k == 5 && strstr(r->findings, "WARN") ? " class=\"v-WARN\"" : "";
            pc_sbuf_printf(b, "<td%s>", cls);
            html_inline(b, cols[k] ? cols[k] : "?");
            pc_sbuf_puts(b, "</td>");
        }
        pc_sbuf_puts(b, "</tr>\n");
    }
    pc_sbuf_puts(b, "</table>\n");
    if (s->notes.count) {
        pc_sbuf_puts(b, "<ul>\n");
        for (size_t i = 0; i < s->notes.count; i++) {
            pc_sbuf_puts(b, "<li>");
            html_inline(b, s->notes.items[i]);
            pc_sbuf_puts(b, "</li>\n");
        }
        pc_sbuf_puts(b, "</ul>\n");
    }
}
