/* ppconform matrix: what its files share (matrix.c runs and renders the matrix,
 * matrix_senders.c renders the real-sender record into it). */
#ifndef PPC_MATRIX_H
#define PPC_MATRIX_H

#include "common.h"

/* Text for a Markdown table cell ('|' escaped, newlines as spaces) and for HTML. */
void mx_md_text(pc_sbuf *b, const char *s);
void mx_html_text(pc_sbuf *b, const char *s);

/* The record scripts/sender-findings.py writes (docs/sender-findings.json). */
typedef struct mx_senders mx_senders;
mx_senders *mx_senders_load(const char *path, char **err); /* NULL with *err (caller frees) */
void mx_senders_md(pc_sbuf *b, const mx_senders *s);       /* the "Real senders" section */
void mx_senders_html(pc_sbuf *b, const mx_senders *s);
void mx_senders_free(mx_senders *s);

#endif
