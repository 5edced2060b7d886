/* Sockets for scenarios: non-blocking TCP (optionally TLS) whose waits go through the
 * scheduler. The blocking-looking API (connect, send, expect_*) is built in
 * ppconform/runtime.lua from these one-attempt primitives. Every byte moved is logged in
 * the run's transcript and wire log (evidence). */
#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "net/addr.h"
#include "net/loop.h"
#include "net/sock.h"
#include "net/tls.h"
#include "outcome.h"
#include "pc_sched.h"
#include "wire.h"

#define SOCK_MT "ppconform.sock"
#define TLSCTX_MT "ppconform.tlsctx"

typedef struct pc_sock {
    int fd;
    pn_tls *tls;
    pc_run *run;
    uint16_t conn_id;
    char local[PN_ADDR_TEXT_MAX], peer[PN_ADDR_TEXT_MAX];
    bool fin_logged;
    bool quiet; /* oracle/admin traffic: not part of the case's evidence */
} pc_sock;

static uint64_t run_us(pc_run *r)
{
    return (pn_now_ms() - pc_run_started_ms(r)) * 1000u;
}

static void transcript_bytes(pc_sock *s, const char *dir, const uint8_t *p, size_t n)
{
    if (!s->run || s->quiet)
        return;
    pc_sbuf *t = pc_run_transcript(s->run);
    pc_sbuf_printf(t, "%8.3fs #%u %s %zu byte%s\n", (double)run_us(s->run) / 1e6, s->conn_id, dir, n,
                   n == 1 ? "" : "s");
    size_t show = n > 512 ? 512 : n;
    for (size_t i = 0; i < show; i += 16) {
        pc_sbuf_puts(t, "      ");
        for (size_t j = i; j < i + 16; j++)
            if (j < show)
                pc_sbuf_printf(t, "%02x ", p[j]);
            else
                pc_sbuf_puts(t, "   ");
        pc_sbuf_puts(t, " ");
        for (size_t j = i; j < i + 16 && j < show; j++)
            pc_sbuf_printf(t, "%c", p[j] >= 0x20 && p[j] < 0x7f ? p[j] : '.');
        pc_sbuf_puts(t, "\n");
    }
    if (show < n)
        pc_sbuf_printf(t, "      ... %zu more bytes\n", n - show);
}

static void note(pc_sock *s, const char *text)
{
    if (s->run && !s->quiet)
        pc_sbuf_printf(pc_run_transcript(s->run), "%8.3fs #%u %s\n", (double)run_us(s->run) / 1e6,
                       s->conn_id, text);
}

static void wire(pc_sock *s, uint8_t kind, uint8_t dir, const void *p, size_t n)
{
    if (s->run && !s->quiet)
        pc_wire_append(pc_run_wire(s->run), kind, dir, s->conn_id, run_us(s->run), p, (uint32_t)n);
}

static void sock_release(pc_sock *s)
{
    if (s->tls) {
        pn_tls_free(s->tls);
        s->tls = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
}

/* Run cleanup: the case ended; close what it left open. */
static void sock_cleanup(void *obj)
{
    pc_sock *s = obj;
    sock_release(s);
    s->run = NULL;
}

static pc_sock *check_sock(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, SOCK_MT);
}

static pc_sock *open_sock(lua_State *L, int idx)
{
    pc_sock *s = check_sock(L, idx);
    if (s->fd < 0)
        luaL_error(L, "connection #%d is closed", s->conn_id);
    return s;
}

/* connect(dst "ip:port", src "ip"|"ip:port"|nil) -> sock, in_progress | nil, err */
static int l_connect(lua_State *L)
{
    const char *dst = luaL_checkstring(L, 1);
    const char *src = luaL_optstring(L, 2, NULL);
    bool quiet = lua_toboolean(L, 3);
    pn_addr d, sa;
    if (pn_addr_parse(dst, &d) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad address '%s' (want ip:port or [v6]:port)", dst);
        return 2;
    }
    /* the source is an address ("127.0.0.2", "::1") or an address and port ("127.0.0.2:40001",
     * "[::1]:40001": a test that must reuse one real_peer) */
    if (src && pn_addr_from_ip(src, 0, &sa) < 0 && pn_addr_parse(src, &sa) < 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "bad source address '%s'", src);
        return 2;
    }
    char err[256] = "";
    bool in_progress = false;
    int fd = pn_connect(&d, src ? &sa : NULL, &in_progress, err, sizeof err);
    if (fd < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err[0] ? err : strerror(errno));
        return 2;
    }
    pn_set_nodelay(fd, true);
    pc_sock *s = lua_newuserdatauv(L, sizeof *s, 1);
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->quiet = quiet;
    luaL_setmetatable(L, SOCK_MT);
    s->run = pc_current_run(L);
    if (s->run) {
        s->conn_id = (uint16_t)pc_run_next_conn_id(s->run);
        pc_run_attach(s->run, s, sock_cleanup);
    }
    snprintf(s->peer, sizeof s->peer, "%s", dst);
    lua_pushboolean(L, in_progress);
    return 2;
}

/* sock:finish_connect() -> true | false, err  (after the fd turned writable) */
static int l_finish_connect(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    int e = pn_connect_result(s->fd);
    if (e != 0) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "connect %s: %s", s->peer, strerror(e));
        return 2;
    }
    pn_addr a;
    if (pn_local_addr(s->fd, &a) == 0)
        pn_addr_to_text(&a, s->local, sizeof s->local);
    if (pn_peer_addr(s->fd, &a) == 0)
        pn_addr_to_text(&a, s->peer, sizeof s->peer);
    char text[2 * PN_ADDR_TEXT_MAX + 2];
    snprintf(text, sizeof text, "%s|%s", s->local, s->peer);
    wire(s, PC_WIRE_OPEN, PC_WIRE_C2S, text, strlen(text));
    char msg[200];
    snprintf(msg, sizeof msg, "connected %s -> %s", s->local, s->peer);
    note(s, msg);
    lua_pushboolean(L, 1);
    return 1;
}

/* sock:wait("r"|"w"|"rw", deadline_ms) -- yields until ready or the deadline */
static int l_wait(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    const char *mode = luaL_checkstring(L, 2);
    lua_Integer deadline = luaL_checkinteger(L, 3);
    int ev = 0;
    if (strchr(mode, 'r'))
        ev |= PN_READABLE;
    if (strchr(mode, 'w'))
        ev |= PN_WRITABLE;
    return pc_wait(L, s->fd, ev, deadline < 0 ? 0 : (uint64_t)deadline);
}

static const char *io_status(pn_io io)
{
    switch (io) {
    case PN_IO_OK: return "ok";
    case PN_IO_AGAIN: return "again";
    case PN_IO_FIN: return "fin";
    case PN_IO_RST: return "rst";
    default: return "error";
    }
}

static pn_io tls_io(pn_tls_status st, const char **want)
{
    *want = NULL;
    switch (st) {
    case PN_TLS_OK: return PN_IO_OK;
    case PN_TLS_WANT_READ: *want = "r"; return PN_IO_AGAIN;
    case PN_TLS_WANT_WRITE: *want = "w"; return PN_IO_AGAIN;
    case PN_TLS_CLOSED:
    case PN_TLS_EOF: return PN_IO_FIN;
    case PN_TLS_RST: return PN_IO_RST;
    default: return PN_IO_ERROR;
    }
}

/* sock:try_send(data [, offset]) -> n, status [, err | want] */
static int l_try_send(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    lua_Integer off = luaL_optinteger(L, 3, 0);
    if (off < 0 || (size_t)off > len)
        return luaL_error(L, "bad offset");
    size_t n = 0;
    pn_io io;
    const char *want = NULL;
    errno = 0;
    if (s->tls)
        io = tls_io(pn_tls_write(s->tls, data + off, len - (size_t)off, &n), &want);
    else
        io = pn_send(s->fd, data + off, len - (size_t)off, &n);
    int e = errno;
    if (io == PN_IO_OK && n) {
        transcript_bytes(s, "sent", (const uint8_t *)data + off, n);
        wire(s, PC_WIRE_DATA, PC_WIRE_C2S, data + off, n);
    }
    lua_pushinteger(L, (lua_Integer)n);
    lua_pushstring(L, io_status(io));
    if (io == PN_IO_ERROR || io == PN_IO_RST) {
        if (s->tls)
            lua_pushstring(L, pn_tls_error(s->tls));
        else
            lua_pushstring(L, strerror(e));
        return 3;
    }
    if (want) {
        lua_pushstring(L, want);
        return 3;
    }
    return 2;
}

/* sock:try_recv([max]) -> status, data | err | want */
static int l_try_recv(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, 65536);
    if (max <= 0 || max > 1 << 20)
        max = 65536;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, (size_t)max);
    size_t n = 0;
    pn_io io;
    const char *want = NULL;
    errno = 0;
    if (s->tls)
        io = tls_io(pn_tls_read(s->tls, p, (size_t)max, &n), &want);
    else
        io = pn_recv(s->fd, p, (size_t)max, &n);
    int e = errno;
    pc_end end = pc_end_from_io(io, e);
    if (io == PN_IO_OK) {
        transcript_bytes(s, "received", (const uint8_t *)p, n);
        wire(s, PC_WIRE_DATA, PC_WIRE_S2C, p, n);
        luaL_pushresultsize(&b, n);
        lua_pushstring(L, "data");
        lua_insert(L, -2);
        return 2;
    }
    luaL_pushresultsize(&b, 0);
    lua_pop(L, 1);
    if (end == PC_END_FIN || end == PC_END_RST) {
        if (!s->fin_logged) {
            note(s, end == PC_END_FIN ? "peer closed (FIN)" : "peer reset the connection (RST)");
            wire(s, end == PC_END_FIN ? PC_WIRE_FIN : PC_WIRE_RST, PC_WIRE_S2C, NULL, 0);
            s->fin_logged = true;
        }
    }
    lua_pushstring(L, io == PN_IO_AGAIN ? "again" : pc_end_name(end));
    if (want) {
        lua_pushstring(L, want);
        return 2;
    }
    if (end == PC_END_ERROR) {
        lua_pushstring(L, s->tls ? pn_tls_error(s->tls) : strerror(e));
        return 2;
    }
    return 1;
}

/* sock:shutdown() -- half-close (FIN), keep reading */
static int l_shutdown(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    if (s->tls)
        pn_tls_shutdown(s->tls);
    pn_shutdown_write(s->fd);
    note(s, "we half-closed (FIN)");
    wire(s, PC_WIRE_FIN, PC_WIRE_C2S, NULL, 0);
    return 0;
}

static int l_close(lua_State *L)
{
    pc_sock *s = check_sock(L, 1);
    if (s->fd >= 0) {
        note(s, "we closed");
        wire(s, PC_WIRE_FIN, PC_WIRE_C2S, NULL, 0);
        sock_release(s);
    }
    if (s->run) {
        pc_run_detach(s->run, s);
        s->run = NULL;
    }
    return 0;
}

static int l_reset(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    note(s, "we reset (RST)");
    wire(s, PC_WIRE_RST, PC_WIRE_C2S, NULL, 0);
    if (s->tls) {
        pn_tls_free(s->tls);
        s->tls = NULL;
    }
    pn_close_rst(s->fd);
    s->fd = -1;
    if (s->run) {
        pc_run_detach(s->run, s);
        s->run = NULL;
    }
    return 0;
}

static int l_gc(lua_State *L)
{
    pc_sock *s = check_sock(L, 1);
    if (s->run)
        pc_run_detach(s->run, s);
    s->run = NULL;
    sock_release(s);
    return 0;
}

static int l_addrs(lua_State *L)
{
    pc_sock *s = check_sock(L, 1);
    lua_pushstring(L, s->local);
    lua_pushstring(L, s->peer);
    lua_pushinteger(L, s->conn_id);
    return 3;
}

static int l_is_open(lua_State *L)
{
    lua_pushboolean(L, check_sock(L, 1)->fd >= 0);
    return 1;
}

static int l_note(lua_State *L)
{
    note(check_sock(L, 1), luaL_checkstring(L, 2));
    return 0;
}

/* ---- TLS ------------------------------------------------------------------------------ */

typedef struct tlsctx_ud {
    pn_tls_ctx *ctx;
} tlsctx_ud;

static const char *opt_field(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, name);
    const char *v = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays alive: it is referenced by the options table */
    return v;
}

/* tls.client{cert=, key=, ca=, verify=bool, sni=, alpn=, min_version=, max_version=} */
int pc_l_tls_client(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    pn_tls_client_opts o = {0};
    o.cert_file = opt_field(L, 1, "cert");
    o.key_file = opt_field(L, 1, "key");
    o.ca_file = opt_field(L, 1, "ca");
    o.sni = opt_field(L, 1, "sni");
    o.alpn = opt_field(L, 1, "alpn");
    o.min_version = opt_field(L, 1, "min_version");
    o.max_version = opt_field(L, 1, "max_version");
    lua_getfield(L, 1, "verify");
    o.verify_peer = lua_toboolean(L, -1);
    lua_pop(L, 1);
    char err[256] = "";
    pn_tls_ctx *ctx = pn_tls_client_ctx_new(&o, err, sizeof err);
    if (!ctx)
        return luaL_error(L, "tls.client: %s", err[0] ? err : "cannot make a TLS context");
    tlsctx_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->ctx = ctx;
    luaL_setmetatable(L, TLSCTX_MT);
    return 1;
}

static int l_tlsctx_gc(lua_State *L)
{
    tlsctx_ud *u = luaL_checkudata(L, 1, TLSCTX_MT);
    if (u->ctx)
        pn_tls_ctx_free(u->ctx);
    u->ctx = NULL;
    return 0;
}

/* sock:tls_attach(ctx, sni|nil) */
static int l_tls_attach(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    tlsctx_ud *u = luaL_checkudata(L, 2, TLSCTX_MT);
    const char *sni = luaL_optstring(L, 3, NULL);
    char err[256] = "";
    if (s->tls)
        return luaL_error(L, "TLS already started on this connection");
    s->tls = pn_tls_new(u->ctx, s->fd, sni, err, sizeof err);
    if (!s->tls)
        return luaL_error(L, "TLS: %s", err);
    /* keep the context alive as long as the socket */
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, 1);
    note(s, "starting TLS");
    return 0;
}

/* sock:tls_step() -> "ok" | "r" | "w" | "error", msg */
static int l_tls_step(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    if (!s->tls)
        return luaL_error(L, "no TLS on this connection");
    pn_tls_status st = pn_tls_handshake(s->tls);
    switch (st) {
    case PN_TLS_OK: note(s, "TLS handshake done"); lua_pushstring(L, "ok"); return 1;
    case PN_TLS_WANT_READ: lua_pushstring(L, "r"); return 1;
    case PN_TLS_WANT_WRITE: lua_pushstring(L, "w"); return 1;
    default:
        lua_pushstring(L, "error");
        lua_pushfstring(L, "%s: %s", pn_tls_status_name(st), pn_tls_error(s->tls));
        note(s, lua_tostring(L, -1));
        return 2;
    }
}

static int l_tls_info(lua_State *L)
{
    pc_sock *s = open_sock(L, 1);
    if (!s->tls) {
        lua_pushnil(L);
        return 1;
    }
    pn_tls_info i;
    pn_tls_get_info(s->tls, &i);
    lua_newtable(L);
    lua_pushstring(L, i.version); lua_setfield(L, -2, "version");
    lua_pushstring(L, i.cipher); lua_setfield(L, -2, "cipher");
    lua_pushstring(L, i.group); lua_setfield(L, -2, "group");
    lua_pushstring(L, i.alpn); lua_setfield(L, -2, "alpn");
    lua_pushboolean(L, i.peer_cert); lua_setfield(L, -2, "peer_cert");
    lua_pushinteger(L, i.verify_result); lua_setfield(L, -2, "verify_result");
    lua_pushstring(L, i.verify_text); lua_setfield(L, -2, "verify_text");
    if (i.cn_status == 0) {
        lua_pushstring(L, i.cn);
        lua_setfield(L, -2, "cn");
    }
    return 1;
}

/* close_judge(accept_list|nil, data_rule, end_name, bytes_before) -> ok, why, expected */
static int l_close_judge(lua_State *L)
{
    pc_close_expect exp = {0, PC_DATA_ALLOW};
    if (lua_istable(L, 1)) {
        lua_Integer n = luaL_len(L, 1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, 1, i);
            int e = pc_end_from_name(lua_tostring(L, -1));
            lua_pop(L, 1);
            if (e != PC_END_FIN && e != PC_END_RST)
                return luaL_error(L, "accept: close kinds are \"fin\" and \"rst\"");
            exp.accept |= 1u << e;
        }
    }
    int rule = pc_data_rule_from_name(luaL_optstring(L, 2, "allow"));
    if (rule < 0)
        return luaL_error(L, "data: \"allow\", \"forbid\" or \"require\"");
    exp.data_rule = rule;
    pc_observed obs;
    int end = pc_end_from_name(luaL_checkstring(L, 3));
    obs.end = end < 0 ? PC_END_ERROR : (pc_end)end;
    obs.bytes_before = (size_t)luaL_optinteger(L, 4, 0);
    char why[200], expected[120];
    bool ok = pc_close_judge(&exp, &obs, why, sizeof why, expected, sizeof expected);
    lua_pushboolean(L, ok);
    lua_pushstring(L, why);
    lua_pushstring(L, expected);
    return 3;
}

void pc_core_sock_register(lua_State *L)
{
    static const luaL_Reg sock_methods[] = {
        {"finish_connect", l_finish_connect}, {"wait", l_wait}, {"try_send", l_try_send},
        {"try_recv", l_try_recv}, {"shutdown", l_shutdown}, {"close", l_close},
        {"reset", l_reset}, {"addrs", l_addrs}, {"is_open", l_is_open}, {"note", l_note},
        {"tls_attach", l_tls_attach}, {"tls_step", l_tls_step}, {"tls_info", l_tls_info},
        {NULL, NULL},
    };
    if (luaL_newmetatable(L, SOCK_MT)) {
        lua_newtable(L);
        luaL_setfuncs(L, sock_methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, TLSCTX_MT)) {
        lua_pushcfunction(L, l_tlsctx_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {
        {"connect", l_connect}, {"close_judge", l_close_judge}, {NULL, NULL},
    };
    luaL_setfuncs(L, fns, 0);
}
