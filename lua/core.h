/* lua/core.h: the C functions and modules the Lua side of ppconform is built on. */
#ifndef PC_CORE_H
#define PC_CORE_H

#include <lua.h>

/* Sockets, TLS contexts and the close judge into the table on top of L. */
void pc_core_sock_register(lua_State *L);
/* tls.client{...} -> context (also the "tls" module's only function). */
int pc_l_tls_client(lua_State *L);

/* Modules: each pushes its table. */
int pc_open_json(lua_State *L);    /* json.decode(text) */
int pc_open_proxy(lua_State *L);   /* PROXY builders and parser (lib/proxy) */
int pc_open_mqtt(lua_State *L);    /* MQTT builders and parser (lib/mqtt) */
int pc_open_pcap(lua_State *L);    /* capture reading, flows, reassembly */
int pc_open_tls(lua_State *L);
/* Privileged helpers for target profiles only (processes, files). */
int pc_open_host(lua_State *L);
/* host.make_pki(dir, {ca=, leaves={{name=, cn=, server=}}}): a throwaway CA and leaves. */
int pc_l_make_pki(lua_State *L);

/* Embedded Lua sources (lua/ppconform and lua/targets), generated at build time. */
typedef struct pc_embedded {
    const char *name; /* "ppconform/runtime.lua" */
    const char *text;
    unsigned long len;
} pc_embedded;
extern const pc_embedded PC_EMBEDDED[];
const pc_embedded *pc_embedded_find(const char *name);

#endif
