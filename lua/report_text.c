/* The terminal report: a tree per suite (see report.h). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

static const char *mark(pc_verdict v)
{
    switch (v) {
    case PC_PASS: return "\u2714";
    case PC_FAIL: return "\u00d7";
    case PC_WARN: return "!";
    case PC_INFO: return "i";
    case PC_SKIP: return "-";
    case PC_XFAIL: return "x";
    case PC_XPASS: return "+";
    default: return "E";
    }
}

static const char *colour(pc_verdict v)
{
    switch (v) {
    case PC_PASS: case PC_XFAIL: return "\033[32m";
    case PC_FAIL: case PC_ERROR: case PC_XPASS: return "\033[31m";
    case PC_WARN: return "\033[33m";
    default: return "\033[36m";
    }
}

static void indent_lines(FILE *out, const char *prefix, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        fprintf(out, "%s%.*s\n", prefix, (int)n, p);
        p += n + (eol ? 1 : 0);
    }
}

void pc_report_terminal(FILE *out, const pc_result *r, size_t n, const pc_report_meta *m, bool color,
                        bool verbose)
{
    const char *reset = color ? "\033[0m" : "";
    const char *prev_suite = NULL;
    for (size_t i = 0; i < n; i++) {
        const pc_case *c = r[i].c;
        if (!prev_suite || strcmp(prev_suite, c->suite_id) != 0) {
            fprintf(out, "%s%s%s  %s\n", color ? "\033[1m" : "", c->suite_id, reset,
                    c->suite_title && strcmp(c->suite_title, c->suite_id) ? c->suite_title : "");
            prev_suite = c->suite_id;
        }
        pc_verdict v = r[i].verdict;
        fprintf(out, "  %s%s%s %s %s", color ? colour(v) : "", mark(v), reset, c->id, c->title);
        if (v != PC_PASS)
            fprintf(out, " [%s]", pc_verdict_name(v));
        fputc('\n', out);
        bool show = v == PC_FAIL || v == PC_WARN || v == PC_ERROR || v == PC_XPASS || verbose ||
                    (v == PC_INFO && r[i].nchecks);
        if (v == PC_SKIP && r[i].reason)
            fprintf(out, "      skipped: %s\n", r[i].reason);
        if (r[i].known_reason)
            fprintf(out, "      known failure: %s\n", r[i].known_reason);
        if (!show)
            continue;
        if (c->refs.count && v != PC_PASS) {
            char *refs = pc_strv_join(&c->refs, ", ");
            fprintf(out, "      -> %s (%s)\n", refs, pc_level_name(c->level));
            free(refs);
        }
        for (size_t k = 0; k < r[i].nchecks; k++) {
            const pc_check *ck = &r[i].checks[k];
            if (ck->ok && !verbose)
                continue;
            fprintf(out, "      %s %s%s%s\n", ck->ok ? "ok:" : "failed:", ck->message, ck->where ? "  at " : "",
                    ck->where ? ck->where : "");
            if (ck->expected)
                fprintf(out, "        Expected: %s\n", ck->expected);
            if (ck->actual)
                fprintf(out, "          Actual: %s\n", ck->actual);
        }
        if (v == PC_ERROR && r[i].error_trace)
            indent_lines(out, "      ", r[i].error_trace);
        else if (v == PC_ERROR && r[i].reason)
            fprintf(out, "      error: %s\n", r[i].reason);
        for (size_t k = 0; k < r[i].ninfos; k++)
            fprintf(out, "      info: %s = %s\n", r[i].infos[k].key, r[i].infos[k].value);
        if (r[i].flaky)
            fprintf(out, "      repeats disagreed: %s\n", r[i].flaky);
        if (r[i].evidence_dir)
            fprintf(out, "      evidence: %s\n", r[i].evidence_dir);
        if (r[i].repro && (v == PC_FAIL || v == PC_WARN || v == PC_ERROR || v == PC_XPASS))
            fprintf(out, "      repro: %s\n", r[i].repro);
    }
    if (m->target_error)
        fprintf(out, "%starget: %s%s\n", color ? "\033[31m" : "", m->target_error, reset);
    pc_summary s;
    pc_summarize(r, n, &s);
    char *line = pc_summary_line(&s);
    fprintf(out, "%s\n", line);
    free(line);
}
