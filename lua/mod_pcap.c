/* The "pcap" module: read a capture with libpcap (pcap or pcapng, optional BPF filter),
 * list its TCP flows, and hand scenarios each flow's reassembled streams, the client's
 * original segmentation and the conversation as alternating steps (for replay). */
#include "core.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "common.h"
#include "reasm.h"

#ifndef PPC_SOURCE_DIR
#define PPC_SOURCE_DIR "."
#endif

#define CAP_MT "ppconform.pcap"

typedef struct cap_ud {
    pc_capture c;
    char *path;
} cap_ud;

/* Read path into c. 0, or -1 with err. */
int pc_pcap_read(const char *path, const char *filter, pc_capture *c, char *err, size_t errcap)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!p) {
        snprintf(err, errcap, "%s", ebuf);
        return -1;
    }
    if (filter && *filter) {
        struct bpf_program prog;
        if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
            snprintf(err, errcap, "filter '%s': %s", filter, pcap_geterr(p));
            pcap_close(p);
            return -1;
        }
        int rc = pcap_setfilter(p, &prog);
        pcap_freecode(&prog);
        if (rc < 0) {
            snprintf(err, errcap, "filter '%s': %s", filter, pcap_geterr(p));
            pcap_close(p);
            return -1;
        }
    }
    int lt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const u_char *data;
    int r;
    while ((r = pcap_next_ex(p, &h, &data)) == 1)
        pc_capture_add(c, lt, data, h->caplen, (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec);
    if (r == -1) {
        snprintf(err, errcap, "%s: %s", path, pcap_geterr(p));
        pcap_close(p);
        return -1;
    }
    pcap_close(p);
    pc_capture_finish(c);
    return 0;
}

static int l_open(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    const char *filter = NULL;
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "filter");
        filter = lua_tostring(L, -1);
    } else if (lua_isstring(L, 2))
        filter = lua_tostring(L, 2);
    char resolved[4096];
    snprintf(resolved, sizeof resolved, "%s", path);
    if (path[0] != '/' && access(path, R_OK) != 0)
        snprintf(resolved, sizeof resolved, "%s/%s", PPC_SOURCE_DIR, path);
    cap_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, CAP_MT);
    char err[512];
    if (pc_pcap_read(resolved, filter, &u->c, err, sizeof err) < 0)
        return luaL_error(L, "pcap.open: %s", err);
    u->path = pc_strdup(resolved);
    return 1;
}

static int l_gc(lua_State *L)
{
    cap_ud *u = luaL_checkudata(L, 1, CAP_MT);
    pc_capture_free(&u->c);
    free(u->path);
    u->path = NULL;
    return 0;
}

static void push_flow_summary(lua_State *L, const pc_flow *f, size_t index)
{
    char ep[128];
    lua_newtable(L);
    lua_pushinteger(L, (lua_Integer)index);
    lua_setfield(L, -2, "index");
    pc_flow_endpoint(f, 0, ep, sizeof ep);
    lua_pushstring(L, ep);
    lua_setfield(L, -2, "client");
    pc_flow_endpoint(f, 1, ep, sizeof ep);
    lua_pushstring(L, ep);
    lua_setfield(L, -2, "server");
    lua_pushinteger(L, f->port[f->client == 0 ? 1 : 0]);
    lua_setfield(L, -2, "server_port");
    lua_pushinteger(L, f->family);
    lua_setfield(L, -2, "family");
    size_t cb = 0, sb = 0;
    const pc_dir *c2s = &f->dir[f->client], *s2c = &f->dir[1 - f->client];
    for (size_t i = 0; i < c2s->n; i++)
        cb += c2s->segs[i].len;
    for (size_t i = 0; i < s2c->n; i++)
        sb += s2c->segs[i].len;
    lua_pushinteger(L, (lua_Integer)cb);
    lua_setfield(L, -2, "client_bytes");
    lua_pushinteger(L, (lua_Integer)sb);
    lua_setfield(L, -2, "server_bytes");
}

/* cap:flows() -> { {index, client, server, ...}, ... } */
static int l_flows(lua_State *L)
{
    cap_ud *u = luaL_checkudata(L, 1, CAP_MT);
    lua_newtable(L);
    for (size_t i = 0; i < u->c.n; i++) {
        push_flow_summary(L, &u->c.flows[i], i + 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static void push_stream(lua_State *L, const pc_stream *s, const char *bytes_key, const char *chunks_key)
{
    lua_pushlstring(L, (const char *)s->data, s->len);
    lua_setfield(L, -2, bytes_key);
    lua_newtable(L);
    for (size_t i = 0; i < s->nchunks; i++) {
        lua_pushlstring(L, (const char *)s->data + s->chunks[i].off, s->chunks[i].len);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, chunks_key);
}

/* cap:flow(n | {server_port=, client=, server=}) -> flow with streams, chunks, steps, stats */
static int l_flow(lua_State *L)
{
    cap_ud *u = luaL_checkudata(L, 1, CAP_MT);
    const pc_flow *f = NULL;
    size_t index = 0;
    if (lua_isinteger(L, 2)) {
        lua_Integer i = lua_tointeger(L, 2);
        if (i >= 1 && (size_t)i <= u->c.n) {
            f = &u->c.flows[i - 1];
            index = (size_t)i;
        }
    } else if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "server_port");
        lua_Integer port = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : -1;
        lua_pop(L, 1);
        for (size_t i = 0; i < u->c.n && !f; i++) {
            const pc_flow *g = &u->c.flows[i];
            if (port < 0 || g->port[1 - g->client] == port) {
                f = g;
                index = i + 1;
            }
        }
    } else {
        if (u->c.n) {
            f = &u->c.flows[0];
            index = 1;
        }
    }
    if (!f) {
        lua_pushnil(L);
        lua_pushstring(L, "no such flow in the capture");
        return 2;
    }
    pc_stream c2s, s2c;
    pc_flow_stream(f, 1, &c2s);
    pc_flow_stream(f, 0, &s2c);
    push_flow_summary(L, f, index);
    push_stream(L, &c2s, "c2s", "c2s_chunks");
    push_stream(L, &s2c, "s2c", "s2c_chunks");
    lua_newtable(L);
    lua_pushinteger(L, (lua_Integer)(c2s.retransmitted + s2c.retransmitted));
    lua_setfield(L, -2, "retransmitted");
    lua_pushinteger(L, (lua_Integer)(c2s.out_of_order + s2c.out_of_order));
    lua_setfield(L, -2, "out_of_order");
    lua_pushinteger(L, (lua_Integer)(c2s.gaps + s2c.gaps));
    lua_setfield(L, -2, "gaps");
    lua_setfield(L, -2, "stats");
    lua_pushboolean(L, c2s.fin);
    lua_setfield(L, -2, "client_fin");
    lua_pushboolean(L, s2c.fin);
    lua_setfield(L, -2, "server_fin");
    /* steps: chunks of both directions merged by time, runs of one side joined */
    lua_newtable(L);
    size_t i = 0, k = 0;
    lua_Integer nsteps = 0;
    int last = -1;
    luaL_Buffer b;
    double t0 = 0;
    bool open = false;
    while (i < c2s.nchunks || k < s2c.nchunks) {
        bool take_client = k >= s2c.nchunks || (i < c2s.nchunks && c2s.chunks[i].t_us <= s2c.chunks[k].t_us);
        const pc_stream *s = take_client ? &c2s : &s2c;
        const pc_chunk *ch = take_client ? &c2s.chunks[i++] : &s2c.chunks[k++];
        int side = take_client ? 0 : 1;
        if (side != last) {
            if (open) {
                luaL_pushresult(&b);
                lua_setfield(L, -2, "bytes");
                lua_rawseti(L, -2, ++nsteps);
            }
            lua_newtable(L);
            lua_pushstring(L, side == 0 ? "client" : "server");
            lua_setfield(L, -2, "from");
            t0 = (double)(ch->t_us - f->first_t_us) / 1e6;
            lua_pushnumber(L, t0);
            lua_setfield(L, -2, "t");
            luaL_buffinit(L, &b);
            open = true;
            last = side;
        }
        luaL_addlstring(&b, (const char *)s->data + ch->off, ch->len);
    }
    if (open) {
        luaL_pushresult(&b);
        lua_setfield(L, -2, "bytes");
        lua_rawseti(L, -2, ++nsteps);
    }
    lua_setfield(L, -2, "steps");
    pc_stream_free(&c2s);
    pc_stream_free(&s2c);
    return 1;
}

static int l_info(lua_State *L)
{
    cap_ud *u = luaL_checkudata(L, 1, CAP_MT);
    lua_newtable(L);
    lua_pushstring(L, u->path ? u->path : "");
    lua_setfield(L, -2, "path");
    lua_pushinteger(L, (lua_Integer)u->c.packets);
    lua_setfield(L, -2, "packets");
    lua_pushinteger(L, (lua_Integer)u->c.skipped);
    lua_setfield(L, -2, "skipped");
    lua_pushinteger(L, (lua_Integer)u->c.n);
    lua_setfield(L, -2, "flows");
    return 1;
}

int pc_open_pcap(lua_State *L)
{
    if (luaL_newmetatable(L, CAP_MT)) {
        static const luaL_Reg m[] = {{"flows", l_flows}, {"flow", l_flow}, {"info", l_info}, {NULL, NULL}};
        lua_newtable(L);
        luaL_setfuncs(L, m, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg fns[] = {{"open", l_open}, {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
