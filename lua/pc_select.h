/* lua/select.h: which cases a run takes (command-line selectors) and known failures. */
#ifndef PC_SELECT_H
#define PC_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

/* Selector forms (a leading '!' excludes):
 *   DET-001, 'DET-*'       case id (glob)
 *   suite:DET*             suite id (glob)
 *   ref:R-V2-*             any cited requirement id (glob)
 *   tag:NAME               tag (glob)
 *   level:MUST, MUST       level (case-insensitive; bare level names too)
 *   file:detection*        scenario file (glob)
 * A case is selected when it matches at least one positive selector (or there are none)
 * and no negative one. */
bool pc_selector_valid(const char *sel, char *err, size_t errcap);
bool pc_selector_match(const char *sel, const pc_case *c);
bool pc_select(const char *const *sels, size_t nsels, const pc_case *c);

/* Known failures: one entry per line, "ID-GLOB  reason..."; lines starting with '#' are
 * comments.
 * A matching case that fails (FAIL/WARN) becomes XFAIL; one that passes becomes XPASS. */
typedef struct pc_known {
    char **patterns, **reasons;
    size_t count;
} pc_known;

/* Parse a file's text. 0, or -1 with err naming the line. */
int pc_known_parse(const char *text, pc_known *out, char *err, size_t errcap);
int pc_known_load(const char *path, pc_known *out, char *err, size_t errcap);
const char *pc_known_match(const pc_known *k, const char *case_id); /* reason or NULL */
void pc_known_free(pc_known *k);
/* Apply to a result (verdict and known_reason). */
void pc_known_apply(const pc_known *k, pc_result *r);

#endif
