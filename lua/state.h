/* lua/state.h: the runner's Lua state: sandbox for scenarios, embedded runtime modules,
 * scenario loading into a catalog. */
#ifndef PC_STATE_H
#define PC_STATE_H

#include <stddef.h>

#include <lua.h>

#include "model.h"
#include "net/loop.h"
#include "pc_sched.h"

typedef struct pc_state {
    lua_State *L;
    pn_loop *loop;
    pc_sched *sched;
    int sandbox_ref;   /* table every scenario env reads through (__index) */
    int runtime_ref;   /* ppconform/runtime.lua's module table */
    int oracle_ref;
    int declare_ref;
    int core_ref;
    int json_ref;
    int modcache_ref;  /* required scenario helpers and modules */
    char *scenario_dir;
} pc_state;

pc_state *pc_state_new(char *err, size_t errcap);
void pc_state_free(pc_state *st);

/* Load scenario files: a directory (every *.lua below it except requirements.lua and
 * lib/) or single files. Cases go into cat. 0, or -1 with err (file:line and why). */
int pc_state_load(pc_state *st, const char *const *paths, size_t npaths, pc_catalog *cat,
                  char *err, size_t errcap);
/* Load the requirement manifest (scenarios/requirements.lua) and push its list. 0 or -1. */
int pc_state_load_requirements(pc_state *st, const char *path, char *err, size_t errcap);

/* Load an embedded module ("ppconform/runtime.lua") with full access, passing the values
 * on top of the stack (nargs) as `...`; pushes its return value. 0 or -1 with err. */
int pc_state_load_internal(pc_state *st, const char *name, int nargs, char *err, size_t errcap);
/* Load a Lua file or embedded target ("targets/ppbroker.lua") with full access; pushes its
 * return value. */
int pc_state_load_target(pc_state *st, const char *name_or_path, char *err, size_t errcap);

#endif
