/* Case selectors and the known-failures list (see select.h). */
#include "pc_select.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool any_glob(const pc_strv *v, const char *pattern)
{
    for (size_t i = 0; i < v->count; i++)
        if (pc_glob(pattern, v->items[i]))
            return true;
    return false;
}

static bool has_prefix(const char *s, const char *p, const char **rest)
{
    size_t n = strlen(p);
    if (strncmp(s, p, n) != 0)
        return false;
    *rest = s + n;
    return true;
}

bool pc_selector_valid(const char *sel, char *err, size_t errcap)
{
    const char *s = sel, *rest;
    if (*s == '!')
        s++;
    if (!*s) {
        snprintf(err, errcap, "empty selector '%s'", sel);
        return false;
    }
    if (has_prefix(s, "level:", &rest) && pc_level_from_name(rest) < 0) {
        snprintf(err, errcap, "unknown level '%s' in selector '%s' (MUST, SHOULD, MAY, PROFILE, INFO)", rest, sel);
        return false;
    }
    const char *prefixes[] = {"ref:", "tag:", "suite:", "file:", "level:"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (has_prefix(s, prefixes[i], &rest) && !*rest) {
            snprintf(err, errcap, "selector '%s' needs a value after '%s'", sel, prefixes[i]);
            return false;
        }
    const char *colon = strchr(s, ':');
    if (colon && !has_prefix(s, "ref:", &rest) && !has_prefix(s, "tag:", &rest) &&
        !has_prefix(s, "suite:", &rest) && !has_prefix(s, "file:", &rest) &&
        !has_prefix(s, "level:", &rest)) {
        snprintf(err, errcap, "unknown selector kind in '%s' (ref:, tag:, suite:, file:, level:)", sel);
        return false;
    }
    return true;
}

bool pc_selector_match(const char *sel, const pc_case *c)
{
    const char *s = sel[0] == '!' ? sel + 1 : sel, *rest;
    if (has_prefix(s, "ref:", &rest))
        return any_glob(&c->refs, rest);
    if (has_prefix(s, "tag:", &rest))
        return any_glob(&c->tags, rest);
    if (has_prefix(s, "suite:", &rest))
        return c->suite_id && pc_glob(rest, c->suite_id);
    if (has_prefix(s, "file:", &rest))
        return c->file && pc_glob(rest, c->file);
    if (has_prefix(s, "level:", &rest))
        return pc_level_from_name(rest) == (int)c->level;
    if (pc_level_from_name(s) >= 0 && strchr(s, '*') == NULL)
        return pc_level_from_name(s) == (int)c->level;
    return pc_glob(s, c->id);
}

bool pc_select(const char *const *sels, size_t nsels, const pc_case *c)
{
    bool any_positive = false, hit = false;
    for (size_t i = 0; i < nsels; i++) {
        bool neg = sels[i][0] == '!';
        bool m = pc_selector_match(sels[i], c);
        if (neg && m)
            return false;
        if (!neg) {
            any_positive = true;
            hit = hit || m;
        }
    }
    return any_positive ? hit : true;
}

int pc_known_parse(const char *text, pc_known *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    int lineno = 0;
    const char *p = text;
    while (*p) {
        lineno++;
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char *line = pc_strndup(p, n);
        p += n + (eol ? 1 : 0);
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '#') /* comments are whole lines, so reasons may say "issue #12" */
            *s = '\0';
        size_t len = strlen(s);
        while (len && isspace((unsigned char)s[len - 1]))
            s[--len] = '\0';
        if (!*s) {
            free(line);
            continue;
        }
        char *sp = s;
        while (*sp && !isspace((unsigned char)*sp))
            sp++;
        char *reason = sp;
        if (*sp) {
            *sp = '\0';
            reason = sp + 1;
            while (isspace((unsigned char)*reason))
                reason++;
        }
        if (!*reason) {
            snprintf(err, errcap, "line %d: '%s' needs a reason after the case id", lineno, s);
            free(line);
            pc_known_free(out);
            return -1;
        }
        out->patterns = pc_xrealloc(out->patterns, (out->count + 1) * sizeof(char *));
        out->reasons = pc_xrealloc(out->reasons, (out->count + 1) * sizeof(char *));
        out->patterns[out->count] = pc_strdup(s);
        out->reasons[out->count] = pc_strdup(reason);
        out->count++;
        free(line);
    }
    return 0;
}

int pc_known_load(const char *path, pc_known *out, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "cannot read known-failures file %s: %s", path, strerror(errno));
        return -1;
    }
    pc_sbuf b = {.max = 1 << 20};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        pc_sbuf_add(&b, chunk, n);
    fclose(f);
    char inner[256];
    int rc = pc_known_parse(pc_sbuf_cstr(&b), out, inner, sizeof inner);
    if (rc < 0)
        snprintf(err, errcap, "%s: %s", path, inner);
    pc_sbuf_free(&b);
    return rc;
}

const char *pc_known_match(const pc_known *k, const char *case_id)
{
    for (size_t i = 0; k && i < k->count; i++)
        if (pc_glob(k->patterns[i], case_id))
            return k->reasons[i];
    return NULL;
}

void pc_known_free(pc_known *k)
{
    for (size_t i = 0; i < k->count; i++) {
        free(k->patterns[i]);
        free(k->reasons[i]);
    }
    free(k->patterns);
    free(k->reasons);
    memset(k, 0, sizeof *k);
}

void pc_known_apply(const pc_known *k, pc_result *r)
{
    const char *reason = r->c ? pc_known_match(k, r->c->id) : NULL;
    if (!reason)
        return;
    if (r->verdict == PC_FAIL || r->verdict == PC_WARN)
        r->verdict = PC_XFAIL;
    else if (r->verdict == PC_PASS)
        r->verdict = PC_XPASS;
    else
        return;
    free(r->known_reason);
    r->known_reason = pc_strdup(reason);
}
