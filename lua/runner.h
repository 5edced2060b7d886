/* lua/runner.h: running selected cases against a target and collecting results. */
#ifndef PC_RUNNER_H
#define PC_RUNNER_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "pc_select.h"
#include "state.h"

typedef struct pc_runner_opts {
    const char *profile;       /* "ppbroker" (default), "address", or a profile file */
    const char *address;       /* --target HOST:PORT */
    pc_strv listeners;         /* --listener NAME=HOST:PORT */
    pc_strv quirks;            /* --quirk NAME (ppbroker) */
    const char *broker;        /* --broker PATH */
    bool keep;                 /* keep the target's temp dir */
    pc_strv caps_add, caps_del;/* --capability NAME[=VALUE], --no-capability NAME */
    pc_strv sets;              /* --set KEY=VALUE: scenario parameters, t:opt(KEY) */
    int jobs;
    int repeat;
    double timeout_scale;
    uint64_t seed;
    uint64_t budget;           /* instructions per case (0 = default) */
    const pc_known *known;
    bool progress;             /* a progress line on stderr */
    const char *repro_prefix;  /* "ppconform run --target ..." without selectors */
    volatile int *interrupted; /* set by a signal handler: stop, report what ran, stop the target */
} pc_runner_opts;

typedef struct pc_target_info {
    char *name, *version, *description;
    bool crashed;
    char *stop_status;
    char *error;               /* harness trouble (could not start, crashed) */
} pc_target_info;

/* Run cases[idx[i]] (catalog order). results gets n entries, in the same order.
 * Returns 0, or -1 when the target could not be started (info->error says why). */
int pc_runner_run(pc_state *st, const pc_catalog *cat, const size_t *idx, size_t n,
                  const pc_runner_opts *o, pc_result *results, pc_target_info *info);
void pc_target_info_free(pc_target_info *t);

#endif
