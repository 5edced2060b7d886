/* ppconform matrix: the documents. One Markdown table (verdicts and counts only, stable, so
 * it can be committed and compared: summary, crashes, results by requirement area, notable
 * findings, the real-sender record when given, then every case) and one self-contained HTML
 * page (Expected/Actual of the first failed check under each cell). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "matrix.h"

static const char *cell(const mx_result *r)
{
    return r->verdict ? r->verdict : "—";
}

/* Markdown: a table cell must not hold '|' or a newline. */
void mx_md_text(pc_sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            pc_sbuf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            pc_sbuf_puts(b, " ");
        else
            pc_sbuf_add(b, s, 1);
    }
}

void mx_html_text(pc_sbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': pc_sbuf_puts(b, "&lt;"); break;
        case '>': pc_sbuf_puts(b, "&gt;"); break;
        case '&': pc_sbuf_puts(b, "&amp;"); break;
        case '"': pc_sbuf_puts(b, "&quot;"); break;
        default: pc_sbuf_add(b, s, 1);
        }
    }
}

static const char *const VERDICTS[] = {"PASS", "FAIL", "WARN", "INFO", "SKIP", "ERROR", "XFAIL", "XPASS", NULL};

size_t mx_count_verdict(const matrix *m, size_t ti, const char *v)
{
    size_t n = 0;
    for (size_t i = 0; i < m->ncases; i++)
        if (m->cases[i].res[ti].verdict && strcmp(m->cases[i].res[ti].verdict, v) == 0)
            n++;
    return n;
}

static bool crashed_in(const mx_result *r)
{
    return r->verdict && strcmp(r->verdict, "ERROR") == 0 && r->reason && strstr(r->reason, "the target died during this case");
}

/* "R-V2-12" -> "R-V2" (the requirement area); the buffer holds the result. */
static const char *area_of(const mx_case *c, char *buf, size_t cap)
{
    const char *r = c->first_ref ? c->first_ref : "(none)";
    const char *dash = strchr(r, '-');
    const char *second = dash ? strchr(dash + 1, '-') : NULL;
    size_t n = second ? (size_t)(second - r) : strlen(r);
    snprintf(buf, cap, "%.*s", (int)(n < cap ? n : cap - 1), r);
    return buf;
}

/* Per target and requirement area: how many cases got each verdict (P F W I S E). */
static void md_areas(pc_sbuf *b, const matrix *m)
{
    pc_sbuf_puts(b, "\n## Results by requirement area\n\n"
                    "Cases counted by the area of the first requirement they cite: P pass, F fail, W warn (SHOULD),\n"
                    "I info (recorded), S skipped (the target cannot be asked), E error (crash or harness).\n\n| area |");
    for (size_t ti = 0; ti < m->ntargets; ti++)
        pc_sbuf_printf(b, " %s |", m->t[ti].name);
    pc_sbuf_puts(b, "\n|---|");
    for (size_t ti = 0; ti < m->ntargets; ti++)
        pc_sbuf_puts(b, "---|");
    pc_sbuf_puts(b, "\n");
    static const char *const short_v[] = {"PASS", "P", "FAIL", "F", "WARN", "W", "INFO", "I", "SKIP", "S", "ERROR", "E", NULL};
    char cur[32] = "", a[32];
    for (size_t i = 0; i < m->ncases; i++) {
        if (strcmp(area_of(&m->cases[i], a, sizeof a), cur) == 0)
            continue;
        snprintf(cur, sizeof cur, "%s", a);
        pc_sbuf_printf(b, "| area %s |", cur);
        for (size_t ti = 0; ti < m->ntargets; ti++) {
            size_t counts[6] = {0};
            for (size_t j = i; j < m->ncases; j++) {
                char x[32];
                if (strcmp(area_of(&m->cases[j], x, sizeof x), cur) != 0)
                    continue;
                const char *v = m->cases[j].res[ti].verdict;
                for (int k = 0; v && short_v[k]; k += 2)
                    if (strcmp(v, short_v[k]) == 0)
                        counts[k / 2]++;
            }
            pc_sbuf_puts(b, " ");
            bool any = false;
            for (int k = 0; k < 6; k++)
                if (counts[k]) {
                    pc_sbuf_printf(b, "%s%zu%s", any ? " " : "", counts[k], short_v[2 * k + 1]);
                    any = true;
                }
            pc_sbuf_puts(b, any ? " |" : "— |");
        }
        pc_sbuf_puts(b, "\n");
    }
}

/* One sentence per target and question the issue asks, from the cells of named cases. */
static void md_findings(pc_sbuf *b, const matrix *m)
{
    static const struct {
        const char *question, *glob;
    } Q[] = {
        {"accepts v2 LOCAL (health checks) and keeps the real peer", "DET-006"},
        {"accepts v1 UNKNOWN", "DET-008"},
        {"a v2 header split across TCP segments is never acted on before it is complete (CONNACK or a clean drop; every split point)", "DLV-SPLIT-V2-*"},
        {"refuses a wrong CRC32C", "CRC-BAD-0*"},
        {"refuses a plain CONNECT without a header", "DET-001"},
        {"closes a silent connection by its header timeout", "TMO-01"},
        {"ignores the CN of an SSL TLV that is not verified (CN as username)", "ID-UNV-*"},
        {"accepts a v2 header with an SSL TLV", "SSL-0[1-6]"},
    };
    pc_sbuf_puts(b, "\n## Notable findings\n\n"
                    "Derived from the cells below (PASS = yes; counts when a question spans several cases).\n\n");
    for (size_t ti = 0; ti < m->ntargets; ti++) {
        pc_sbuf_printf(b, "- **%s**:", m->t[ti].name);
        bool first = true;
        for (size_t q = 0; q < sizeof Q / sizeof Q[0]; q++) {
            size_t n = 0, pass = 0, skip = 0, err = 0;
            for (size_t i = 0; i < m->ncases; i++) {
                if (!pc_glob(Q[q].glob, m->cases[i].id) || !m->cases[i].res[ti].verdict)
                    continue;
                const char *v = m->cases[i].res[ti].verdict;
                n++;
                pass += strcmp(v, "PASS") == 0 || strcmp(v, "INFO") == 0;
                skip += strcmp(v, "SKIP") == 0;
                err += strcmp(v, "ERROR") == 0;
            }
            if (n == 0)
                continue;
            const char *answer = skip == n ? "cannot be asked" : pass == n ? "yes" : pass == 0 ? "no" : "partly";
            pc_sbuf_printf(b, "%s %s: %s", first ? "" : ";", Q[q].question, answer);
            first = false;
            if (n > 1 && skip < n)
                pc_sbuf_printf(b, " (%zu of %zu)", pass, n);
            if (err)
                pc_sbuf_printf(b, ", %zu ERROR", err);
        }
        pc_sbuf_puts(b, ".\n");
    }
}

char *mx_render_md(const matrix *m)
{
    pc_sbuf b = {0};
    pc_sbuf_puts(&b, "# Interop matrix\n\n"
                     "Generated by `ppconform matrix` (do not edit by hand): the conformance suite run against\n"
                     "each target on loopback. Verdicts about third parties are findings, not test failures.\n"
                     "When a target process died, the cases it could not answer were run again on a fresh\n"
                     "target, one at a time; the cases during which it died are listed below (ERROR in the\n"
                     "table). Expected and Actual for every cell are in the HTML page written by the same command.\n\n");
    pc_sbuf_puts(&b, "## Summary\n\n| target | version |");
    for (int v = 0; VERDICTS[v]; v++)
        pc_sbuf_printf(&b, " %s |", VERDICTS[v]);
    pc_sbuf_puts(&b, " crashes |\n|---|---|");
    for (int v = 0; VERDICTS[v]; v++)
        pc_sbuf_puts(&b, "---:|");
    pc_sbuf_puts(&b, "---:|\n");
    for (size_t ti = 0; ti < m->ntargets; ti++) {
        size_t crashes = 0;
        for (size_t i = 0; i < m->ncases; i++)
            crashes += crashed_in(&m->cases[i].res[ti]);
        pc_sbuf_printf(&b, "| %s | ", m->t[ti].name);
        mx_md_text(&b, m->t[ti].version ? m->t[ti].version : "?");
        pc_sbuf_puts(&b, " |");
        for (int v = 0; VERDICTS[v]; v++)
            pc_sbuf_printf(&b, " %zu |", mx_count_verdict(m, ti, VERDICTS[v]));
        pc_sbuf_printf(&b, " %zu |\n", crashes);
    }
    /* which cases brought each target down */
    pc_sbuf_puts(&b, "\n## Cases during which a target crashed\n\n");
    bool any = false;
    for (size_t ti = 0; ti < m->ntargets; ti++) {
        pc_sbuf ids = {0};
        for (size_t i = 0; i < m->ncases; i++)
            if (crashed_in(&m->cases[i].res[ti]))
                pc_sbuf_printf(&ids, "%s%s", ids.len ? ", " : "", m->cases[i].id);
        if (ids.len) {
            pc_sbuf_printf(&b, "- **%s**: %s\n", m->t[ti].name, pc_sbuf_cstr(&ids));
            any = true;
        }
        pc_sbuf_free(&ids);
    }
    if (!any)
        pc_sbuf_puts(&b, "None.\n");
    md_areas(&b, m);
    md_findings(&b, m);
    if (m->senders)
        mx_senders_md(&b, m->senders);
    pc_sbuf_puts(&b, "\n## Cases by requirement\n\nRows are grouped by the first requirement each case cites.\n\n| case | level |");
    for (size_t ti = 0; ti < m->ntargets; ti++)
        pc_sbuf_printf(&b, " %s |", m->t[ti].name);
    pc_sbuf_puts(&b, " title |\n|---|---|");
    for (size_t ti = 0; ti < m->ntargets; ti++)
        pc_sbuf_puts(&b, ":-:|");
    pc_sbuf_puts(&b, "---|\n");
    const char *group = NULL;
    for (size_t i = 0; i < m->ncases; i++) {
        const mx_case *c = &m->cases[i];
        const char *g = c->first_ref ? c->first_ref : "(no requirement)";
        if (!group || strcmp(group, g) != 0) {
            group = g;
            pc_sbuf_printf(&b, "| **%s** | |", g);
            for (size_t ti = 0; ti < m->ntargets; ti++)
                pc_sbuf_puts(&b, " |");
            pc_sbuf_puts(&b, " |\n");
        }
        pc_sbuf_printf(&b, "| %s | %s |", c->id, c->level ? c->level : "");
        for (size_t ti = 0; ti < m->ntargets; ti++)
            pc_sbuf_printf(&b, " %s |", cell(&c->res[ti])); /* which case took the crash varies: listed above */
        pc_sbuf_puts(&b, " ");
        mx_md_text(&b, c->title);
        pc_sbuf_puts(&b, " |\n");
    }
    pc_sbuf_cstr(&b);
    return b.data;
}

static void html_details(pc_sbuf *b, const mx_result *r)
{
    const char *v = cell(r);
    pc_sbuf_printf(b, "<td class=\"v-%s\"><details><summary>%s</summary>", v, v);
    if (r->failed.message) {
        pc_sbuf_puts(b, "<p>");
        mx_html_text(b, r->failed.message);
        pc_sbuf_puts(b, "</p>");
    }
    if (r->failed.expected || r->failed.actual) {
        pc_sbuf_puts(b, "<dl><dt>Expected</dt><dd><pre>");
        mx_html_text(b, r->failed.expected ? r->failed.expected : "");
        pc_sbuf_puts(b, "</pre></dd><dt>Actual</dt><dd><pre>");
        mx_html_text(b, r->failed.actual ? r->failed.actual : "");
        pc_sbuf_puts(b, "</pre></dd></dl>");
    } else if (r->reason) {
        pc_sbuf_puts(b, "<pre>");
        mx_html_text(b, r->reason);
        pc_sbuf_puts(b, "</pre>");
    } else {
        pc_sbuf_puts(b, "<p>every check held</p>");
    }
    if (r->rounds)
        pc_sbuf_printf(b, "<p class=\"note\">from re-run %d after a crash</p>", r->rounds);
    pc_sbuf_puts(b, "</details></td>");
}

char *mx_render_html(const matrix *m)
{
    pc_sbuf b = {0};
    pc_sbuf_puts(&b,
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                 "<title>ppconform interop matrix</title>\n<style>\n"
                 "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}\n"
                 "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}\n"
                 "th{background:#f0f0f0;position:sticky;top:0}tr.group td{background:#e8eef8;font-weight:bold}\n"
                 "summary{cursor:pointer;font-weight:bold}pre{white-space:pre-wrap;max-width:40em;margin:0}\n"
                 ".v-PASS{background:#dff5df}.v-FAIL{background:#f8d4d4}.v-WARN{background:#fbefc8}.v-INFO{background:#e6eefc}\n"
                 ".v-SKIP{background:#eee;color:#666}.v-ERROR{background:#f2c6f2}.v-XFAIL,.v-XPASS{background:#e0e0ff}\n"
                 ".note{color:#666;font-size:12px}\n</style></head><body>\n"
                 "<h1>ppconform interop matrix</h1>\n"
                 "<p>The conformance suite against each target on loopback. Verdicts about third parties are "
                 "findings. Open a cell for the first failed check's Expected and Actual.</p>\n<table><tr><th>target</th><th>version</th>");
    for (int v = 0; VERDICTS[v]; v++)
        pc_sbuf_printf(&b, "<th>%s</th>", VERDICTS[v]);
    pc_sbuf_puts(&b, "<th>runs</th><th>run status</th></tr>\n");
    for (size_t ti = 0; ti < m->ntargets; ti++) {
        pc_sbuf_puts(&b, "<tr><td>");
        mx_html_text(&b, m->t[ti].name);
        pc_sbuf_puts(&b, "</td><td>");
        mx_html_text(&b, m->t[ti].version ? m->t[ti].version : "?");
        pc_sbuf_puts(&b, "</td>");
        for (int v = 0; VERDICTS[v]; v++)
            pc_sbuf_printf(&b, "<td class=\"v-%s\">%zu</td>", VERDICTS[v], mx_count_verdict(m, ti, VERDICTS[v]));
        pc_sbuf_printf(&b, "<td>%d</td><td>", m->t[ti].runs);
        mx_html_text(&b, m->t[ti].ok ? "completed" : (m->t[ti].error ? m->t[ti].error : "failed"));
        pc_sbuf_puts(&b, "</td></tr>\n");
    }
    pc_sbuf_puts(&b, "</table>\n");
    if (m->senders)
        mx_senders_html(&b, m->senders);
    pc_sbuf_puts(&b, "<table><tr><th>case</th><th>level</th>");
    for (size_t ti = 0; ti < m->ntargets; ti++) {
        pc_sbuf_puts(&b, "<th>");
        mx_html_text(&b, m->t[ti].name);
        pc_sbuf_puts(&b, "</th>");
    }
    pc_sbuf_puts(&b, "<th>title</th><th>requirements</th></tr>\n");
    const char *group = NULL;
    for (size_t i = 0; i < m->ncases; i++) {
        const mx_case *c = &m->cases[i];
        const char *g = c->first_ref ? c->first_ref : "(no requirement)";
        if (!group || strcmp(group, g) != 0) {
            group = g;
            pc_sbuf_printf(&b, "<tr class=\"group\"><td colspan=\"%zu\">", m->ntargets + 4);
            mx_html_text(&b, g);
            pc_sbuf_puts(&b, "</td></tr>\n");
        }
        pc_sbuf_puts(&b, "<tr><td>");
        mx_html_text(&b, c->id);
        pc_sbuf_puts(&b, "</td><td>");
        mx_html_text(&b, c->level);
        pc_sbuf_puts(&b, "</td>");
        for (size_t ti = 0; ti < m->ntargets; ti++)
            html_details(&b, &c->res[ti]);
        pc_sbuf_puts(&b, "<td>");
        mx_html_text(&b, c->title);
        pc_sbuf_puts(&b, "</td><td>");
        mx_html_text(&b, c->refs);
        pc_sbuf_puts(&b, "</td></tr>\n");
    }
    pc_sbuf_puts(&b, "</table>\n</body></html>\n");
    pc_sbuf_cstr(&b);
    return b.data;
}
