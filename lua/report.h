/* lua/report.h: the report writers (terminal tree, JSON, JUnit, HTML) and evidence. */
#ifndef PC_REPORT_H
#define PC_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

typedef struct pc_report_meta {
    const char *tool_version;
    const char *target_name;
    const char *target_version;
    const char *target_error;  /* harness trouble, or NULL */
    unsigned long long seed;
    double timeout_scale;
    long long duration_ms;
    const char *started;       /* RFC 3339 */
    const char *gate;          /* "must" | "should" | "any" */
    int exit_code;
} pc_report_meta;

/* h2spec-style tree per suite: marks, Expected/Actual under failures, repro lines, and the
 * summary as the last line. color: ANSI colours. */
void pc_report_terminal(FILE *out, const pc_result *r, size_t n, const pc_report_meta *m, bool color,
                        bool verbose);
/* Write to a buffer (for tests) or a file. The file writers return 0 or -1 (errno). */
void pc_report_json_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m);
void pc_report_junit_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m);
void pc_report_html_buf(pc_sbuf *b, const pc_result *r, size_t n, const pc_report_meta *m);
int pc_report_write_file(const char *path, const pc_sbuf *b);

/* Per failed case: DIR/<case-id>/{transcript.txt, capture.pcap, repro.sh}. Sets
 * r->evidence_dir. 0 or -1 with err. */
int pc_evidence_write(const char *dir, pc_result *r, char *err, size_t errcap);
/* The synthetic capture alone: IPv4/IPv6 + TCP packets rebuilt from the wire log. */
int pc_wire_to_pcap(const pc_sbuf *wire, const char *path, char *err, size_t errcap);

/* JSON of the catalog (for --list --json). */
void pc_catalog_json(pc_sbuf *b, const pc_catalog *cat, const size_t *idx, size_t n);
/* Markdown of the catalog, a table per suite (for docs/CASES.md: --list --markdown). */
void pc_catalog_markdown(pc_sbuf *b, const pc_catalog *cat, const size_t *idx, size_t n);

#endif
