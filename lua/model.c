/* Case metadata, results and the verdict/exit-code rules (see model.h). */
#include "model.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const LEVEL_NAMES[PC_LEVEL_COUNT] = {"MUST", "SHOULD", "MAY", "PROFILE", "INFO"};
static const char *const VERDICT_NAMES[PC_VERDICT_COUNT] = {
    "PASS", "INFO", "SKIP", "XFAIL", "WARN", "XPASS", "FAIL", "ERROR"};

const char *pc_level_name(pc_level l)
{
    return (unsigned)l < PC_LEVEL_COUNT ? LEVEL_NAMES[l] : "?";
}

int pc_level_from_name(const char *name)
{
    for (int i = 0; name && i < PC_LEVEL_COUNT; i++)
        if (strcasecmp(name, LEVEL_NAMES[i]) == 0)
            return i;
    return -1;
}

const char *pc_verdict_name(pc_verdict v)
{
    return (unsigned)v < PC_VERDICT_COUNT ? VERDICT_NAMES[v] : "?";
}

int pc_verdict_from_name(const char *name)
{
    for (int i = 0; name && i < PC_VERDICT_COUNT; i++)
        if (strcasecmp(name, VERDICT_NAMES[i]) == 0)
            return i;
    return -1;
}

pc_case *pc_catalog_add(pc_catalog *c)
{
    if (c->count == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 32;
        c->cases = pc_xrealloc(c->cases, c->cap * sizeof *c->cases);
    }
    pc_case *k = &c->cases[c->count++];
    memset(k, 0, sizeof *k);
    k->lua_ref = -2; /* LUA_NOREF */
    return k;
}

void pc_catalog_free(pc_catalog *c)
{
    for (size_t i = 0; i < c->count; i++) {
        pc_case *k = &c->cases[i];
        free(k->id);
        free(k->title);
        free(k->description);
        free(k->interpretation);
        free(k->suite_id);
        free(k->suite_title);
        free(k->file);
        free(k->severity);
        pc_strv_free(&k->refs);
        pc_strv_free(&k->tags);
        pc_strv_free(&k->requires);
    }
    free(c->cases);
    memset(c, 0, sizeof *c);
}

const pc_case *pc_catalog_find(const pc_catalog *c, const char *id)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->cases[i].id, id) == 0)
            return &c->cases[i];
    return NULL;
}

void pc_result_add_check(pc_result *r, bool ok, const char *msg, const char *expected,
                         const char *actual, const char *where, const char *ref, pc_level level)
{
    r->checks = pc_xrealloc(r->checks, (r->nchecks + 1) * sizeof *r->checks);
    pc_check *k = &r->checks[r->nchecks++];
    k->ok = ok;
    k->message = pc_strdup(msg ? msg : "");
    k->expected = pc_strdup(expected);
    k->actual = pc_strdup(actual);
    k->where = pc_strdup(where);
    k->ref = pc_strdup(ref);
    k->level = level;
}

void pc_result_add_info(pc_result *r, const char *key, const char *value)
{
    r->infos = pc_xrealloc(r->infos, (r->ninfos + 1) * sizeof *r->infos);
    r->infos[r->ninfos].key = pc_strdup(key);
    r->infos[r->ninfos].value = pc_strdup(value);
    r->ninfos++;
}

void pc_result_free(pc_result *r)
{
    for (size_t i = 0; i < r->nchecks; i++) {
        free(r->checks[i].message);
        free(r->checks[i].expected);
        free(r->checks[i].actual);
        free(r->checks[i].where);
        free(r->checks[i].ref);
    }
    free(r->checks);
    for (size_t i = 0; i < r->ninfos; i++) {
        free(r->infos[i].key);
        free(r->infos[i].value);
    }
    free(r->infos);
    free(r->reason);
    free(r->error_trace);
    free(r->known_reason);
    free(r->flaky);
    free(r->evidence_dir);
    pc_sbuf_free(&r->transcript);
    pc_sbuf_free(&r->wire);
    free(r->repro);
    memset(r, 0, sizeof *r);
}

pc_verdict pc_verdict_from_checks(const pc_result *r)
{
    pc_verdict v = r->c && r->c->level == PC_LEVEL_INFO ? PC_INFO : PC_PASS;
    for (size_t i = 0; i < r->nchecks; i++) {
        if (r->checks[i].ok)
            continue;
        pc_verdict f;
        switch (r->checks[i].level) {
        case PC_LEVEL_MUST:
        case PC_LEVEL_PROFILE: f = PC_FAIL; break;
        case PC_LEVEL_SHOULD: f = PC_WARN; break;
        default: f = PC_INFO; break;
        }
        if (f > v)
            v = f;
    }
    return v;
}

int pc_gate_from_name(const char *name)
{
    if (!name)
        return -1;
    if (strcasecmp(name, "must") == 0)
        return PC_GATE_MUST;
    if (strcasecmp(name, "should") == 0)
        return PC_GATE_SHOULD;
    if (strcasecmp(name, "any") == 0)
        return PC_GATE_ANY;
    return -1;
}

bool pc_verdict_fails_gate(pc_verdict v, pc_gate g)
{
    switch (v) {
    case PC_FAIL: return true;
    case PC_WARN: return g >= PC_GATE_SHOULD;
    case PC_XPASS: return g == PC_GATE_ANY;
    default: return false;
    }
}

void pc_summarize(const pc_result *results, size_t n, pc_summary *out)
{
    memset(out, 0, sizeof *out);
    out->total = n;
    for (size_t i = 0; i < n; i++)
        if ((unsigned)results[i].verdict < PC_VERDICT_COUNT)
            out->by_verdict[results[i].verdict]++;
}

int pc_exit_code(const pc_summary *s, pc_gate gate, bool harness_error)
{
    if (harness_error || s->by_verdict[PC_ERROR])
        return PC_EXIT_HARNESS;
    for (int v = 0; v < PC_VERDICT_COUNT; v++)
        if (s->by_verdict[v] && pc_verdict_fails_gate((pc_verdict)v, gate))
            return PC_EXIT_FAIL;
    return PC_EXIT_OK;
}

char *pc_summary_line(const pc_summary *s)
{
    const size_t *b = s->by_verdict;
    pc_sbuf out = {0};
    pc_sbuf_printf(&out, "%zu passed, %zu failed, %zu skipped", b[PC_PASS], b[PC_FAIL], b[PC_SKIP]);
    struct { pc_verdict v; const char *one, *many; } extra[] = {
        {PC_WARN, "warning", "warnings"}, {PC_INFO, "info", "info"},
        {PC_XFAIL, "expected failure", "expected failures"},
        {PC_XPASS, "unexpected pass", "unexpected passes"}, {PC_ERROR, "error", "errors"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (b[extra[i].v])
            pc_sbuf_printf(&out, ", %zu %s", b[extra[i].v], b[extra[i].v] == 1 ? extra[i].one : extra[i].many);
    pc_sbuf_cstr(&out);
    return out.data;
}
