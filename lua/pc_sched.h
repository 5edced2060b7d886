/* lua/sched.h: cases as Lua coroutines over lib/net's event loop.
 *
 * A run is one execution of one case: a main task (a coroutine running the case body),
 * the tasks it spawns, the sockets it opens, a wall-clock deadline and an instruction
 * budget. Network calls look blocking to the scenario: the C side registers what the task
 * waits for (an fd, a deadline, another task) and yields; the loop resumes it when that
 * happens. Every wait has a deadline. Any task's error ends its run (a failed requirement
 * is an error carrying a "stop" table; see runtime.lua), and a runaway script is stopped by
 * a count hook checking the budget and the deadline.
 */
#ifndef PC_SCHED_H
#define PC_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include <lua.h>

#include "common.h"
#include "net/loop.h"

typedef struct pc_sched pc_sched;
typedef struct pc_run pc_run;
typedef struct pc_task pc_task;

typedef enum pc_run_status {
    PC_RUN_RUNNING = 0,
    PC_RUN_OK,       /* the main task returned */
    PC_RUN_ERROR,    /* a task raised an error (value in the registry: pc_run_error_ref) */
    PC_RUN_TIMEOUT,  /* the run's deadline passed */
    PC_RUN_BUDGET,   /* the instruction budget ran out */
} pc_run_status;

#define PC_HOOK_STEP 1000

pc_sched *pc_sched_new(lua_State *L, pn_loop *loop);
void pc_sched_free(pc_sched *s);
pc_sched *pc_sched_of(lua_State *L);      /* the scheduler owning L's state */
pn_loop *pc_sched_loop(pc_sched *s);

/* A new run; timeout_ms 0 = none, budget 0 = none (in VM instructions). */
pc_run *pc_run_new(pc_sched *s, const char *label, int64_t timeout_ms, uint64_t budget);
/* Start the run's main task: pops a function and nargs arguments from L. 0 or -1. */
int pc_run_start(pc_run *r, lua_State *L, int nargs);
pc_run_status pc_run_status_of(const pc_run *r);
bool pc_run_done(const pc_run *r);
/* Error text with a traceback trimmed to scenario lines (NULL when none). */
const char *pc_run_error_text(const pc_run *r);
/* Registry ref of the error value (LUA_NOREF when none). */
int pc_run_error_ref(const pc_run *r);
/* Push the main task's first return value (nil when none). */
void pc_run_push_result(pc_run *r, lua_State *L);
const char *pc_run_label(const pc_run *r);
int64_t pc_run_elapsed_ms(const pc_run *r);
/* The run's transcript (human-readable wire log) and raw wire records. */
pc_sbuf *pc_run_transcript(pc_run *r);
/* Raw wire log for the synthetic pcap (records: see evidence.h) and connection numbering. */
pc_sbuf *pc_run_wire(pc_run *r);
int pc_run_next_conn_id(pc_run *r);
uint64_t pc_run_started_ms(const pc_run *r);
/* Abort a running run (its tasks are closed, sockets closed); status stays as given. */
void pc_run_abort(pc_run *r, pc_run_status why, const char *text);
/* Close the run's sockets, drop its tasks and free it. */
void pc_run_free(pc_run *r);

/* One scheduling step: resume every ready task, then wait at most max_wait_ms (-1 = until
 * the next event) on the loop. Returns the number of tasks still alive across all runs. */
size_t pc_sched_step(pc_sched *s, int max_wait_ms);
/* Step until r is done. */
void pc_sched_run_until(pc_sched *s, pc_run *r);
size_t pc_sched_live_tasks(const pc_sched *s);

/* ---- for C functions called from a task (all of them end with `return pc_wait_*(...)`) */

/* The run of the task running L (NULL outside any task). */
pc_run *pc_current_run(lua_State *L);
/* Trimming of tracebacks: chunk names containing this marker are ours, not the scenario's. */
#define PC_INTERNAL_CHUNK "(ppconform)"

/* Yield until fd is ready for events (PN_READABLE/PN_WRITABLE) or deadline (pn_now_ms
 * clock). fd -1 = just the deadline. Raises a Lua error outside a task. */
int pc_wait(lua_State *L, int fd, int events, uint64_t deadline_ms);
/* The same with a continuation run when the task resumes (its results are the call's). */
int pc_wait_k(lua_State *L, int fd, int events, uint64_t deadline_ms, lua_KFunction k, lua_KContext ctx);

/* Register the Lua functions of the scheduler into the table on top of L:
 * now(), sleep_until(ms), spawn(fn, ...) -> task, join(task, deadline) -> done, ok, err,
 * run_label(). */
void pc_sched_register(lua_State *L);

/* Attach per-run resources to be released when the run ends. */
typedef void (*pc_run_cleanup_fn)(void *obj);
void pc_run_attach(pc_run *r, void *obj, pc_run_cleanup_fn fn);
void pc_run_detach(pc_run *r, void *obj);

#endif
