/* ppconform matrix: what its files share. matrix.c runs the targets and gathers the
 * verdicts, matrix_render.c writes the documents, matrix_senders.c renders the real-sender
 * record into them. */
#ifndef PPC_MATRIX_H
#define PPC_MATRIX_H

#include "common.h"

#define MAX_TARGETS 16

typedef struct mx_senders mx_senders; /* the real-sender record (matrix_senders.c) */

typedef struct mx_check {
    char *message, *expected, *actual;
} mx_check;

typedef struct mx_result {
    char *verdict, *reason;
    mx_check failed;                /* the first failed check, if any */
    int rounds;                     /* which run gave this verdict (0 = the first) */
    bool first_in_run;              /* it ran first in a fresh one-at-a-time run */
} mx_result;

typedef struct mx_case {
    char *id, *title, *level, *first_ref, *refs;
    mx_result res[MAX_TARGETS];
} mx_case;

typedef struct mx_target {
    char *name, *profile, *version, *error;
    int runs, crashes;
    bool ok;                        /* every run completed */
} mx_target;

typedef struct matrix {
    mx_case *cases;
    size_t ncases, cap;
    mx_target t[MAX_TARGETS];
    size_t ntargets;
    const char *self, *workdir;
    pc_strv extra;                  /* options passed to every `run` */
    pc_strv selectors;              /* which cases (the first run of each target) */
    const char *jobs;
    mx_senders *senders;            /* --senders: the real-sender record, or NULL */
} matrix;

/* The documents (matrix_render.c); the caller frees them. */
char *mx_render_md(const matrix *m);
char *mx_render_html(const matrix *m);
size_t mx_count_verdict(const matrix *m, size_t ti, const char *verdict);

/* Text for a Markdown table cell ('|' escaped, newlines as spaces) and for HTML. */
void mx_md_text(pc_sbuf *b, const char *s);
void mx_html_text(pc_sbuf *b, const char *s);

/* The record scripts/sender-findings.py writes (docs/sender-findings.json). */
mx_senders *mx_senders_load(const char *path, char **err); /* NULL with *err (caller frees) */
void mx_senders_md(pc_sbuf *b, const mx_senders *s);       /* the "Real senders" section */
void mx_senders_html(pc_sbuf *b, const mx_senders *s);
void mx_senders_free(mx_senders *s);

#endif
