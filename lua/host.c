/* Privileged helpers for target profiles (the files under lua/targets): start and stop the system
 * under test, write its config, read its ready file. Scenarios never see this module. */
#include "core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>

#include "common.h"

extern char **environ;

#define PROC_MT "ppconform.proc"

typedef struct proc_ud {
    pid_t pid;
    bool reaped;
    int status;
    bool we_signaled;
} proc_ud;

static const char *status_text(int status, bool we_signaled, char *buf, size_t cap, bool *crashed)
{
    *crashed = false;
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        *crashed = !(we_signaled && (sig == SIGTERM || sig == SIGKILL));
        snprintf(buf, cap, "signal %d (%s)%s", sig, strsignal(sig), *crashed ? " (crash)" : "");
    } else
        snprintf(buf, cap, "status 0x%x", status);
    return buf;
}

static bool reap(proc_ud *p, bool block)
{
    if (p->reaped)
        return true;
    int st;
    pid_t r = waitpid(p->pid, &st, block ? 0 : WNOHANG);
    if (r == p->pid) {
        p->reaped = true;
        p->status = st;
        return true;
    }
    if (r < 0 && errno == ECHILD) {
        p->reaped = true;
        p->status = 0;
        return true;
    }
    return false;
}

/* Wait for the child to exit, up to ms; pidfd + poll when the kernel has it. */
static bool wait_exit(proc_ud *p, int ms)
{
    if (reap(p, false))
        return true;
#ifdef SYS_pidfd_open
    int pfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    if (pfd >= 0) {
        struct pollfd pf = {pfd, POLLIN, 0};
        int r;
        do
            r = poll(&pf, 1, ms);
        while (r < 0 && errno == EINTR);
        close(pfd);
        return reap(p, false);
    }
#endif
    for (int waited = 0; waited < ms; waited += 10) {
        if (reap(p, false))
            return true;
        poll(NULL, 0, 10); /* no pidfd: bounded polling of waitpid */
    }
    return reap(p, false);
}

/* The child's environment: ours, with each "NAME=value" of the table at idx added or
 * replacing ours. NULL-terminated, every string malloc'd (free with free_envp). */
static char **child_envp(lua_State *L, int idx)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer nextra = luaL_len(L, idx);
    if (nextra > 256)
        luaL_error(L, "spawn: env needs at most 256 entries");
    for (lua_Integer k = 1; k <= nextra; k++) {
        lua_geti(L, idx, k);
        const char *kv = lua_tostring(L, -1);
        const char *eq = kv ? strchr(kv, '=') : NULL;
        if (!kv || !eq || eq == kv)
            luaL_error(L, "spawn: env entries are \"NAME=value\" strings (entry %d)", (int)k);
        lua_pop(L, 1);
    }
    size_t nours = 0;
    while (environ[nours])
        nours++;
    char **envp = pc_xcalloc(nours + (size_t)nextra + 1, sizeof *envp);
    size_t n = 0;
    for (size_t i = 0; i < nours; i++)
        envp[n++] = pc_strdup(environ[i]);
    for (lua_Integer k = 1; k <= nextra; k++) {
        lua_geti(L, idx, k);
        const char *kv = lua_tostring(L, -1);
        size_t name_len = (size_t)(strchr(kv, '=') - kv) + 1; /* with the '=' */
        size_t i = 0;
        while (i < n && strncmp(envp[i], kv, name_len) != 0)
            i++;
        if (i < n)
            free(envp[i]); /* replaces ours */
        else
            n++;
        envp[i] = pc_strdup(kv);
        lua_pop(L, 1);
    }
    envp[n] = NULL;
    return envp;
}

static void free_envp(char **envp)
{
    for (size_t i = 0; envp[i]; i++)
        free(envp[i]);
    free(envp);
}

/* spawn({argv...}, {stdout=path, stderr=path, env={"NAME=value", ...}, cwd=dir}) -> proc */
static int l_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer argc = luaL_len(L, 1);
    if (argc < 1 || argc > 256)
        return luaL_error(L, "spawn: argv needs 1..256 items");
    for (lua_Integer i = 1; i <= argc; i++) { /* every check that can raise comes before the allocations */
        lua_geti(L, 1, i);
        luaL_checkstring(L, -1);
        lua_pop(L, 1);
    }
    const char *out = NULL, *err = NULL, *cwd = NULL;
    char **envp = NULL;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "stdout");
        out = lua_tostring(L, -1);
        lua_getfield(L, 2, "stderr");
        err = lua_tostring(L, -1);
        lua_getfield(L, 2, "cwd");
        cwd = lua_tostring(L, -1);
        lua_getfield(L, 2, "env");
        if (!lua_isnil(L, -1))
            envp = child_envp(L, lua_gettop(L)); /* raises only before it allocates */
    }
    char **argv = pc_xcalloc((size_t)argc + 1, sizeof *argv);
    for (lua_Integer i = 1; i <= argc; i++) {
        lua_geti(L, 1, i);
        argv[i - 1] = pc_strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (cwd)
        posix_spawn_file_actions_addchdir_np(&fa, cwd); /* the files below open relative to it */
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err && out && strcmp(err, out) == 0)
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    else
        posix_spawn_file_actions_addopen(&fa, 2, err ? err : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&at, &empty);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    sigaddset(&def, SIGTERM);
    sigaddset(&def, SIGINT);
    sigaddset(&def, SIGCHLD);
    posix_spawnattr_setsigdefault(&at, &def);
    /* its own process group: a Ctrl-C at the terminal reaches ppconform only, which then
     * stops the target by PID after writing its reports */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp ? envp : environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (envp)
        free_envp(envp);
    char *a0 = pc_strdup(argv[0]);
    for (lua_Integer i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    if (rc != 0) {
        lua_pushfstring(L, "cannot start %s: %s", a0, strerror(rc));
        free(a0);
        return lua_error(L);
    }
    free(a0);
    proc_ud *p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    p->pid = pid;
    luaL_setmetatable(L, PROC_MT);
    return 1;
}

/* proc:alive() -> true | false, "exit 2" */
static int l_alive(lua_State *L)
{
    proc_ud *p = luaL_checkudata(L, 1, PROC_MT);
    if (!reap(p, false)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    char buf[96];
    bool crashed;
    lua_pushboolean(L, 0);
    lua_pushstring(L, status_text(p->status, p->we_signaled, buf, sizeof buf, &crashed));
    lua_pushboolean(L, crashed);
    return 3;
}

/* proc:stop(ms) -> how, crashed   (SIGTERM, then SIGKILL after ms) */
static int l_stop(lua_State *L)
{
    proc_ud *p = luaL_checkudata(L, 1, PROC_MT);
    lua_Integer ms = luaL_optinteger(L, 2, 5000);
    bool killed = false;
    if (!reap(p, false)) {
        p->we_signaled = true;
        kill(p->pid, SIGTERM);
        if (!wait_exit(p, (int)ms)) {
            kill(p->pid, SIGKILL);
            killed = true;
            reap(p, true);
        }
    }
    char buf[96];
    bool crashed;
    status_text(p->status, p->we_signaled, buf, sizeof buf, &crashed);
    if (killed)
        strncat(buf, " (killed after the SIGTERM deadline)", sizeof buf - strlen(buf) - 1);
    lua_pushstring(L, buf);
    lua_pushboolean(L, crashed);
    return 2;
}

static int l_proc_index(lua_State *L)
{
    proc_ud *p = luaL_checkudata(L, 1, PROC_MT);
    const char *k = luaL_checkstring(L, 2);
    if (strcmp(k, "pid") == 0) {
        lua_pushinteger(L, p->pid);
        return 1;
    }
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "methods");
    lua_getfield(L, -1, k);
    return 1;
}

/* garbage-collected without stop(): never leave a child behind */
static int l_proc_gc(lua_State *L)
{
    proc_ud *p = luaL_checkudata(L, 1, PROC_MT);
    if (!reap(p, false)) {
        kill(p->pid, SIGKILL);
        reap(p, true);
    }
    return 0;
}

static int l_tmpdir(lua_State *L)
{
    const char *prefix = luaL_optstring(L, 1, "ppconform");
    const char *base = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s-XXXXXX", base && *base ? base : "/tmp", prefix);
    if (!mkdtemp(path))
        return luaL_error(L, "mkdtemp %s: %s", path, strerror(errno));
    lua_pushstring(L, path);
    return 1;
}

static int l_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t n;
    const char *data = luaL_checklstring(L, 2, &n);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        if (f)
            fclose(f);
        return luaL_error(L, "cannot write %s: %s", path, strerror(errno));
    }
    fclose(f);
    return 0;
}

static int l_read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    FILE *f = fopen(path, "rb");
    if (!f) {
        lua_pushnil(L);
        return 1;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[4096];
    size_t n, total = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && total < (64u << 20)) {
        luaL_addlstring(&b, chunk, n);
        total += n;
    }
    fclose(f);
    luaL_pushresult(&b);
    return 1;
}

int pc_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (!d)
            return -1;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            pc_rmtree(child);
        }
        closedir(d);
        return rmdir(path);
    }
    return unlink(path);
}

static int l_rmtree(lua_State *L)
{
    lua_pushboolean(L, pc_rmtree(luaL_checkstring(L, 1)) == 0);
    return 1;
}

/* program_path(name): the file next to our own executable */
static int l_program_path(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        lua_pushnil(L);
        return 1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    lua_pushfstring(L, "%s/%s", self, name);
    return 1;
}

static int l_is_executable(lua_State *L)
{
    lua_pushboolean(L, access(luaL_checkstring(L, 1), X_OK) == 0);
    return 1;
}

static int l_getenv(lua_State *L)
{
    lua_pushstring(L, getenv(luaL_checkstring(L, 1)));
    return 1;
}

int pc_open_host(lua_State *L)
{
    if (luaL_newmetatable(L, PROC_MT)) {
        static const luaL_Reg m[] = {{"alive", l_alive}, {"stop", l_stop}, {NULL, NULL}};
        lua_newtable(L);
        luaL_setfuncs(L, m, 0);
        lua_setfield(L, -2, "methods");
        lua_pushcfunction(L, l_proc_index);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_proc_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"spawn", l_spawn}, {"tmpdir", l_tmpdir}, {"write_file", l_write_file},
        {"read_file", l_read_file}, {"rmtree", l_rmtree}, {"program_path", l_program_path},
        {"is_executable", l_is_executable}, {"getenv", l_getenv}, {"make_pki", pc_l_make_pki},
        {NULL, NULL},
    };
    luaL_newlib(L, fns);
    return 1;
}
