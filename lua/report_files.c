/* JSON, JUnit and HTML report writers (see report.h). */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int pc_report_write_file(const char *path, const pc_sbuf *b)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        return -1;
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int rc = n == b->len ? 0 : -1;
    if (f != stdout) {
        if (fclose(f) != 0)
            rc = -1;
    } else
        fflush(f);
    return rc;
}

static void json_strv(pc_sbuf *b, const pc_strv *v)
{
    pc_sbuf_puts(b, "[");
    for (size_t i = 0; i < v->count; i++) {
        if (i)
            pc_sbuf_puts(b, ",");
        pc_json_str(b, v->items[i]);
    }
    pc_sbuf_puts(b, "]");
}

static void json_case_meta(pc_sbuf *b, const pc_case *c)
{
    pc_sbuf_puts(b, "\"id\":");
    pc_json_str(b, c->id);
    pc_sbuf_puts(b, ",\"suite\":");
    pc_json_str(b, c->suite_id);
    pc_sbuf_puts(b, ",\"title\":");
    pc_json_str(b, c->title);
    pc_sbuf_printf(b, ",\"level\":\"%s\",\"severity\":", pc_level_name(c->level));
    pc_json_str(b, c->severity ? c->severity : "info");
    pc_sbuf_puts(b, ",\"refs\":");
    json_strv(b, &c->refs);
    pc_sbuf_puts(b, ",\"tags\":");
    json_strv(b, &c->tags);
    pc_sbuf_puts(b, ",\"requires\":");
    json_strv(b, &c->requires);
    pc_sbuf_puts(b, ",\"file\":");
    pc_json_str(b, c->file);
    pc_sbuf_printf(b, ",\"line\":%d,\"timeout_ms\":%lld", c->line, (long long)c->timeout_ms);
}

void pc_catalog_json(pc_sbuf *b, const pc_catalog *cat, const size_t *idx, size_t n)
{
    pc_sbuf_puts(b, "{\"cases\":[");
    for (size_t i = 0; i < n; i++) {
        const pc_case *c = &cat->cases[idx[i]];
        pc_sbuf_puts(b, i ? ",\n{" : "\n{");
        json_case_meta(b, c);
        pc_sbuf_puts(b, ",\"description\":");
        pc_json_str(b, c->description);
        pc_sbuf_puts(b, "}");
    }
    pc_sbuf_printf(b, "\n],\"count\":%zu}\n", n);
}

void pc_report_json_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m)
{
    pc_summary s;
    pc_summarize(r, n, &s);
    pc_sbuf_puts(b, "{\"tool\":\"ppconform\",\"version\":");
    pc_json_str(b, m->tool_version);
    pc_sbuf_puts(b, ",\"started\":");
    pc_json_str(b, m->started);
    pc_sbuf_printf(b, ",\"duration_ms\":%lld,\"seed\":%llu,\"timeout_scale\":%g,\"gate\":", m->duration_ms,
                   m->seed, m->timeout_scale);
    pc_json_str(b, m->gate);
    pc_sbuf_printf(b, ",\"exit_code\":%d,\"target\":{\"name\":", m->exit_code);
    pc_json_str(b, m->target_name);
    pc_sbuf_puts(b, ",\"version\":");
    pc_json_str(b, m->target_version);
    pc_sbuf_puts(b, ",\"error\":");
    pc_json_str(b, m->target_error);
    pc_sbuf_printf(b, "},\"summary\":{\"total\":%zu", s.total);
    for (int v = 0; v < PC_VERDICT_COUNT; v++) {
        char name[16];
        snprintf(name, sizeof name, "%s", pc_verdict_name((pc_verdict)v));
        for (char *p = name; *p; p++)
            *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        pc_sbuf_printf(b, ",\"%s\":%zu", name, s.by_verdict[v]);
    }
    pc_sbuf_puts(b, "},\"cases\":[");
    for (size_t i = 0; i < n; i++) {
        const pc_result *x = &r[i];
        pc_sbuf_puts(b, i ? ",\n{" : "\n{");
        json_case_meta(b, x->c);
        pc_sbuf_printf(b, ",\"verdict\":\"%s\",\"duration_ms\":%lld,\"repeats\":%d,\"reason\":",
                       pc_verdict_name(x->verdict), (long long)x->duration_ms, x->repeats);
        pc_json_str(b, x->reason);
        pc_sbuf_puts(b, ",\"error\":");
        pc_json_str(b, x->error_trace);
        pc_sbuf_puts(b, ",\"known_failure\":");
        pc_json_str(b, x->known_reason);
        pc_sbuf_puts(b, ",\"flaky\":");
        pc_json_str(b, x->flaky);
        pc_sbuf_puts(b, ",\"repro\":");
        pc_json_str(b, x->repro);
        pc_sbuf_puts(b, ",\"evidence\":");
        pc_json_str(b, x->evidence_dir);
        pc_sbuf_puts(b, ",\"checks\":[");
        for (size_t k = 0; k < x->nchecks; k++) {
            const pc_check *c = &x->checks[k];
            pc_sbuf_printf(b, "%s{\"ok\":%s,\"level\":\"%s\",\"message\":", k ? "," : "", c->ok ? "true" : "false",
                           pc_level_name(c->level));
            pc_json_str(b, c->message);
            pc_sbuf_puts(b, ",\"expected\":");
            pc_json_str(b, c->expected);
            pc_sbuf_puts(b, ",\"actual\":");
            pc_json_str(b, c->actual);
            pc_sbuf_puts(b, ",\"where\":");
            pc_json_str(b, c->where);
            pc_sbuf_puts(b, ",\"ref\":");
            pc_json_str(b, c->ref);
            pc_sbuf_puts(b, "}");
        }
        pc_sbuf_puts(b, "],\"info\":{");
        for (size_t k = 0; k < x->ninfos; k++) {
            pc_sbuf_puts(b, k ? "," : "");
            pc_json_str(b, x->infos[k].key);
            pc_sbuf_puts(b, ":");
            pc_json_str(b, x->infos[k].value);
        }
        pc_sbuf_puts(b, "}}");
    }
    pc_sbuf_puts(b, "\n]}\n");
}

static void xml_text(pc_sbuf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '<': pc_sbuf_puts(b, "&lt;"); break;
        case '>': pc_sbuf_puts(b, "&gt;"); break;
        case '&': pc_sbuf_puts(b, "&amp;"); break;
        case '"': pc_sbuf_puts(b, "&quot;"); break;
        case '\n': case '\t': case '\r': pc_sbuf_add(b, p, 1); break;
        default:
            if (*p < 0x20)
                pc_sbuf_printf(b, "\\x%02x", *p); /* not representable in XML 1.0 */
            else
                pc_sbuf_add(b, p, 1);
        }
    }
}

static void failure_text(pc_sbuf *b, const pc_result *x)
{
    for (size_t k = 0; k < x->nchecks; k++) {
        const pc_check *c = &x->checks[k];
        if (c->ok)
            continue;
        pc_sbuf_printf(b, "%s%s%s\n", c->message, c->where ? " at " : "", c->where ? c->where : "");
        if (c->expected)
            pc_sbuf_printf(b, "Expected: %s\n", c->expected);
        if (c->actual)
            pc_sbuf_printf(b, "  Actual: %s\n", c->actual);
    }
    if (x->error_trace)
        pc_sbuf_printf(b, "%s\n", x->error_trace);
    if (x->repro)
        pc_sbuf_printf(b, "Repro: %s\n", x->repro);
}

/* testsuite per suite id (in result order), testcase per case. */
void pc_report_junit_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m)
{
    pc_summary s;
    pc_summarize(r, n, &s);
    pc_sbuf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ppconform\" tests=\"%zu\" "
                      "failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
                   n, s.by_verdict[PC_FAIL] + s.by_verdict[PC_XPASS], s.by_verdict[PC_ERROR],
                   s.by_verdict[PC_SKIP] + s.by_verdict[PC_XFAIL], (double)m->duration_ms / 1000.0);
    size_t i = 0;
    while (i < n) {
        const char *suite = r[i].c->suite_id;
        size_t j = i, fails = 0, errs = 0, skips = 0;
        double t = 0;
        while (j < n && strcmp(r[j].c->suite_id, suite) == 0) {
            pc_verdict v = r[j].verdict;
            fails += v == PC_FAIL || v == PC_XPASS;
            errs += v == PC_ERROR;
            skips += v == PC_SKIP || v == PC_XFAIL;
            t += (double)r[j].duration_ms / 1000.0;
            j++;
        }
        pc_sbuf_puts(b, "  <testsuite name=\"");
        xml_text(b, suite);
        pc_sbuf_printf(b, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n",
                       j - i, fails, errs, skips, t);
        for (size_t k = i; k < j; k++) {
            const pc_result *x = &r[k];
            pc_sbuf_puts(b, "    <testcase classname=\"");
            xml_text(b, suite);
            pc_sbuf_puts(b, "\" name=\"");
            xml_text(b, x->c->id);
            pc_sbuf_puts(b, " ");
            xml_text(b, x->c->title);
            pc_sbuf_printf(b, "\" time=\"%.3f\"", (double)x->duration_ms / 1000.0);
            pc_verdict v = x->verdict;
            if (v == PC_PASS || v == PC_INFO || v == PC_WARN) {
                /* WARN and INFO pass in JUnit terms; their detail goes to system-out */
                if (v == PC_PASS) {
                    pc_sbuf_puts(b, "/>\n");
                    continue;
                }
                pc_sbuf_puts(b, ">\n      <system-out>");
                pc_sbuf tmp = {0};
                pc_sbuf_printf(&tmp, "%s\n", pc_verdict_name(v));
                failure_text(&tmp, x);
                xml_text(b, pc_sbuf_cstr(&tmp));
                pc_sbuf_free(&tmp);
                pc_sbuf_puts(b, "</system-out>\n    </testcase>\n");
                continue;
            }
            pc_sbuf_puts(b, ">\n");
            pc_sbuf tmp = {0};
            failure_text(&tmp, x);
            if (v == PC_SKIP || v == PC_XFAIL) {
                pc_sbuf_puts(b, "      <skipped message=\"");
                pc_sbuf msg = {0};
                pc_sbuf_printf(&msg, "%s%s%s", v == PC_XFAIL ? "known failure: " : "",
                               v == PC_XFAIL ? (x->known_reason ? x->known_reason : "") : "",
                               v == PC_SKIP ? (x->reason ? x->reason : "") : "");
                xml_text(b, pc_sbuf_cstr(&msg));
                pc_sbuf_free(&msg);
                pc_sbuf_puts(b, "\"/>\n");
            } else {
                const char *tag = v == PC_ERROR ? "error" : "failure";
                pc_sbuf_printf(b, "      <%s message=\"", tag);
                xml_text(b, v == PC_XPASS ? "known failure now passes" : x->reason ? x->reason : pc_verdict_name(v));
                pc_sbuf_printf(b, "\" type=\"%s\">", pc_verdict_name(v));
                xml_text(b, pc_sbuf_cstr(&tmp));
                pc_sbuf_printf(b, "</%s>\n", tag);
            }
            if (x->evidence_dir) {
                pc_sbuf_puts(b, "      <system-out>evidence: ");
                xml_text(b, x->evidence_dir);
                pc_sbuf_puts(b, "</system-out>\n");
            }
            pc_sbuf_free(&tmp);
            pc_sbuf_puts(b, "    </testcase>\n");
        }
        pc_sbuf_puts(b, "  </testsuite>\n");
        i = j;
    }
    pc_sbuf_puts(b, "</testsuites>\n");
}

/* One self-contained page: a row per case, coloured by verdict, details on click. */
void pc_report_html_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m)
{
    pc_summary s;
    pc_summarize(r, n, &s);
    char *line = pc_summary_line(&s);
    pc_sbuf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ppconform report</title>\n"
                    "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;width:100%}"
                    "td,th{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}"
                    ".PASS{background:#d4f7d4}.FAIL,.ERROR,.XPASS{background:#f9d0d0}.WARN{background:#fbeec1}"
                    ".INFO,.SKIP,.XFAIL{background:#e4ecf7}pre{white-space:pre-wrap;margin:0}"
                    "details summary{cursor:pointer}</style></head><body>\n<h1>ppconform report</h1>\n<p>Target: ");
    xml_text(b, m->target_name);
    if (m->target_version) {
        pc_sbuf_puts(b, " ");
        xml_text(b, m->target_version);
    }
    pc_sbuf_printf(b, " &middot; seed %llu &middot; started ", m->seed);
    xml_text(b, m->started);
    pc_sbuf_puts(b, "</p>\n<p><strong>");
    xml_text(b, line);
    free(line);
    pc_sbuf_puts(b, "</strong></p>\n");
    if (m->target_error) {
        pc_sbuf_puts(b, "<p class=\"ERROR\">");
        xml_text(b, m->target_error);
        pc_sbuf_puts(b, "</p>\n");
    }
    pc_sbuf_puts(b, "<table><tr><th>Suite</th><th>Case</th><th>Level</th><th>Refs</th><th>Verdict</th><th>Detail</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        const pc_result *x = &r[i];
        const char *v = pc_verdict_name(x->verdict);
        pc_sbuf_puts(b, "<tr><td>");
        xml_text(b, x->c->suite_id);
        pc_sbuf_puts(b, "</td><td>");
        xml_text(b, x->c->id);
        pc_sbuf_puts(b, "<br>");
        xml_text(b, x->c->title);
        pc_sbuf_printf(b, "</td><td>%s</td><td>", pc_level_name(x->c->level));
        char *refs = pc_strv_join(&x->c->refs, ", ");
        xml_text(b, refs);
        free(refs);
        pc_sbuf_printf(b, "</td><td class=\"%s\">%s</td><td>", v, v);
        pc_sbuf tmp = {0};
        failure_text(&tmp, x);
        if (x->reason && x->verdict == PC_SKIP)
            pc_sbuf_printf(&tmp, "%s\n", x->reason);
        if (tmp.len) {
            pc_sbuf_puts(b, "<details><summary>details</summary><pre>");
            xml_text(b, pc_sbuf_cstr(&tmp));
            pc_sbuf_puts(b, "</pre></details>");
        }
        pc_sbuf_free(&tmp);
        pc_sbuf_puts(b, "</td></tr>\n");
    }
    pc_sbuf_puts(b, "</table>\n</body></html>\n");
}
