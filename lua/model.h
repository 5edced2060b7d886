/* lua/model.h: what the runner knows about cases (declared metadata) and their results.
 *
 * Cases are declared by scenario files (Lua) and copied here by the loader, so selection,
 * listing, coverage and reports are plain C over these structs (and unit-testable without
 * a Lua state). */
#ifndef PC_MODEL_H
#define PC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

typedef enum pc_level {
    PC_LEVEL_MUST = 0, PC_LEVEL_SHOULD, PC_LEVEL_MAY, PC_LEVEL_PROFILE, PC_LEVEL_INFO,
    PC_LEVEL_COUNT
} pc_level;

const char *pc_level_name(pc_level l);           /* "MUST" ... */
int pc_level_from_name(const char *name);        /* case-insensitive; -1 when unknown */

typedef struct pc_case {
    char *id, *title, *description, *interpretation;
    char *suite_id, *suite_title;
    char *file;          /* scenario file, relative to the scenario dir */
    int line;            /* line of the declaration (0 when unknown) */
    pc_level level;
    char *severity;      /* "critical" "high" "medium" "low" "info" */
    pc_strv refs, tags, requires;
    int64_t timeout_ms;  /* before --timeout-scale */
    int lua_ref;         /* registry reference to the Lua case table (LUA_NOREF in tests) */
} pc_case;

typedef struct pc_catalog {
    pc_case *cases;
    size_t count, cap;
} pc_catalog;

pc_case *pc_catalog_add(pc_catalog *c);          /* zeroed slot */
void pc_catalog_free(pc_catalog *c);
const pc_case *pc_catalog_find(const pc_catalog *c, const char *id);

/* Verdicts, from best to worst for "worst of" roll-ups (see pc_verdict_rank). */
typedef enum pc_verdict {
    PC_PASS = 0, PC_INFO, PC_SKIP, PC_XFAIL, PC_WARN, PC_XPASS, PC_FAIL, PC_ERROR,
    PC_VERDICT_COUNT
} pc_verdict;

const char *pc_verdict_name(pc_verdict v);       /* "PASS" ... */
int pc_verdict_from_name(const char *name);

/* One check, requirement or expectation recorded while a case ran. */
typedef struct pc_check {
    bool ok;
    char *message;       /* what was checked, in words */
    char *expected;      /* may be NULL */
    char *actual;        /* may be NULL */
    char *where;         /* "scenarios/detection.lua:42" */
    char *ref;           /* requirement cited by this check (may be NULL) */
    pc_level level;      /* the case level unless the check says otherwise */
} pc_check;

typedef struct pc_kv {
    char *key, *value;
} pc_kv;

typedef struct pc_result {
    const pc_case *c;
    pc_verdict verdict;
    char *reason;         /* one line: skip reason, error text, first failed check */
    char *error_trace;    /* ERROR: trimmed traceback */
    pc_check *checks;
    size_t nchecks;
    pc_kv *infos;
    size_t ninfos;
    char *known_reason;   /* XFAIL/XPASS: from the known-failures file */
    int64_t duration_ms;
    int repeats;          /* how many runs were rolled into this result */
    char *flaky;          /* "PASS x2, FAIL x1" when repeats disagreed */
    pc_sbuf transcript;   /* human-readable wire log */
    char *evidence_dir;   /* where evidence was written, or NULL */
    pc_sbuf wire;         /* raw I/O records for the synthetic pcap (wire.h) */
    char *repro;          /* command line that runs just this case again */
} pc_result;

void pc_result_add_check(pc_result *r, bool ok, const char *msg, const char *expected,
                         const char *actual, const char *where, const char *ref, pc_level level);
void pc_result_add_info(pc_result *r, const char *key, const char *value);
void pc_result_free(pc_result *r);

/* Turn recorded checks into a verdict for a case of the given level: a failed MUST or
 * PROFILE check -> FAIL, SHOULD -> WARN, MAY/INFO -> INFO; nothing failed -> PASS
 * (INFO when the case level is INFO). Does not touch SKIP/ERROR set by the caller. */
pc_verdict pc_verdict_from_checks(const pc_result *r);

/* Which verdicts break the gate. */
typedef enum pc_gate { PC_GATE_MUST = 0, PC_GATE_SHOULD, PC_GATE_ANY } pc_gate;
int pc_gate_from_name(const char *name);         /* "must" "should" "any"; -1 */
bool pc_verdict_fails_gate(pc_verdict v, pc_gate g);

/* Exit codes (the CI contract, documented in --help). */
enum {
    PC_EXIT_OK = 0, PC_EXIT_FAIL = 1, PC_EXIT_USAGE = 2, PC_EXIT_HARNESS = 3, PC_EXIT_NOTHING = 4,
};

typedef struct pc_summary {
    size_t total;
    size_t by_verdict[PC_VERDICT_COUNT];
} pc_summary;

void pc_summarize(const pc_result *results, size_t n, pc_summary *out);
/* Exit code for a finished run: ERROR (or harness trouble) -> 3, gate failures -> 1, else 0. */
int pc_exit_code(const pc_summary *s, pc_gate gate, bool harness_error);
/* "42 passed, 1 failed, 3 skipped" plus ", 2 warnings" etc. for non-zero extras. */
char *pc_summary_line(const pc_summary *s);

#endif
