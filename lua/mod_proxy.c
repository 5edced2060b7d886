/* The "proxy" module for scenarios: PROXY v1/v2 builders (every malformation lib/proxy
 * offers) and the parser. Builders return byte strings; TLV helpers return tables that
 * proxy.v2{tlvs = {...}} consumes. */
#include "core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "common.h"
#include "proxy/proxy.h"

#define MAX_TLVS 64
#define MAX_SUBS 32

static const struct { const char *name; uint8_t fam, trans; } FAMILIES[] = {
    {"TCP4", PP_FAM_INET, PP_TRANS_STREAM}, {"TCP6", PP_FAM_INET6, PP_TRANS_STREAM},
    {"UDP4", PP_FAM_INET, PP_TRANS_DGRAM}, {"UDP6", PP_FAM_INET6, PP_TRANS_DGRAM},
    {"UNIX", PP_FAM_UNIX, PP_TRANS_STREAM}, {"UNIX_STREAM", PP_FAM_UNIX, PP_TRANS_STREAM},
    {"UNIX_DGRAM", PP_FAM_UNIX, PP_TRANS_DGRAM}, {"UNSPEC", PP_FAM_UNSPEC, PP_TRANS_UNSPEC},
    {"UNKNOWN", PP_FAM_UNSPEC, PP_TRANS_UNSPEC},
};

static int opt_int(lua_State *L, int idx, const char *k, int dflt)
{
    lua_getfield(L, idx, k);
    int v = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static void endpoint(lua_State *L, int idx, const char *k, pp_endpoint *ep, uint8_t family)
{
    memset(ep, 0, sizeof *ep);
    lua_getfield(L, idx, k);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        ep->family = family;
        if (family == PP_FAM_INET) { /* harmless documentation addresses by default */
            static const uint8_t a[4] = {192, 0, 2, 1};
            memcpy(ep->ip, a, 4);
            ep->port = strcmp(k, "src") == 0 ? 40000 : 1883;
        } else if (family == PP_FAM_INET6) {
            static const uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
            memcpy(ep->ip, a, 16);
            ep->port = strcmp(k, "src") == 0 ? 40000 : 1883;
        }
        return;
    }
    const char *text = luaL_checkstring(L, -1);
    if (pp_endpoint_parse(text, ep) < 0)
        luaL_error(L, "proxy: %s = '%s' is not an address (\"1.2.3.4:80\", \"[::1]:80\", \"unix:/path\")", k, text);
    lua_pop(L, 1); /* unix_path points into the string, which the spec table keeps alive */
}

/* Fill one pp_build_tlv from a TLV table {type=, value=, len=, crc=} */
static void tlv_from(lua_State *L, int idx, pp_build_tlv *t)
{
    *t = PP_BUILD_TLV(0, NULL, 0);
    t->type = (uint8_t)opt_int(L, idx, "type", 0);
    lua_getfield(L, idx, "value");
    if (lua_type(L, -1) == LUA_TSTRING)
        t->value = (const uint8_t *)lua_tolstring(L, -1, &t->len);
    lua_pop(L, 1);
    lua_getfield(L, idx, "size"); /* zero-filled value of this size (NOOP padding) */
    if (lua_isinteger(L, -1)) {
        t->value = NULL;
        t->len = (size_t)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    t->len_override = opt_int(L, idx, "len", -1);
    lua_getfield(L, idx, "crc");
    t->crc_auto = lua_toboolean(L, -1);
    lua_pop(L, 1);
}

static uint8_t client_flags(lua_State *L, int idx)
{
    lua_getfield(L, idx, "client");
    uint8_t f = 0;
    if (lua_isinteger(L, -1))
        f = (uint8_t)lua_tointeger(L, -1);
    else if (lua_istable(L, -1)) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            const char *s = luaL_checkstring(L, -1);
            if (strcmp(s, "SSL") == 0) f |= PP_CLIENT_SSL;
            else if (strcmp(s, "CERT_CONN") == 0) f |= PP_CLIENT_CERT_CONN;
            else if (strcmp(s, "CERT_SESS") == 0) f |= PP_CLIENT_CERT_SESS;
            else luaL_error(L, "proxy.ssl: client flags are SSL, CERT_CONN, CERT_SESS");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return f;
}

typedef struct v2_bufs {
    pp_build_tlv tlvs[MAX_TLVS];
    pp_build_tlv subs[MAX_SUBS];
    pp_build_ssl ssl;
    uint8_t sig[PP_V2_SIG_LEN];
} v2_bufs;

/* Without family=, the addresses say it: "[v6]:port" is TCP6, "unix:/path" UNIX (v2), else
 * dflt. (Building a TCP4 header from the first bytes of an IPv6 address would be a silent
 * malformation; a deliberate mismatch names its family.) */
static const char *family_from_addresses(lua_State *L, int idx, const char *dflt, bool v2)
{
    static const char *const keys[] = {"src", "dst"};
    for (size_t i = 0; i < 2; i++) {
        lua_getfield(L, idx, keys[i]);
        const char *a = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        const char *f = !a ? NULL : a[0] == '[' ? "TCP6" : (v2 && strncmp(a, "unix:", 5) == 0) ? "UNIX" : NULL;
        lua_pop(L, 1);
        if (f)
            return f;
    }
    return dflt;
}

static void family_of(lua_State *L, int idx, const char *dflt, uint8_t *fam, uint8_t *trans, bool v2)
{
    lua_getfield(L, idx, "family");
    const char *f = lua_isnil(L, -1) ? family_from_addresses(L, idx, dflt, v2) : luaL_checkstring(L, -1);
    lua_pop(L, 1);
    for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++)
        if (strcmp(f, FAMILIES[i].name) == 0) {
            *fam = FAMILIES[i].fam;
            *trans = FAMILIES[i].trans;
            return;
        }
    luaL_error(L, "proxy: family '%s' (TCP4, TCP6, UDP4, UDP6, UNIX, UNIX_DGRAM, UNSPEC)", f);
}

static int push_built(lua_State *L, const pp_build_spec *spec)
{
    size_t cap = PP_V2_MAX_LEN + 64;
    uint8_t *buf = pc_xmalloc(cap);
    ssize_t n = pp_build(spec, buf, cap);
    if (n < 0) {
        free(buf);
        return luaL_error(L, "proxy: this header cannot be expressed (a length over 65535 or an "
                             "override its field cannot hold)");
    }
    lua_pushlstring(L, (const char *)buf, (size_t)n);
    free(buf);
    return 1;
}

/* v1{family="TCP4"|"TCP6"|"UNKNOWN", src=, dst=, tail=} */
static int l_v1(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    pp_build_spec spec;
    pp_build_spec_init(&spec);
    spec.version = 1;
    uint8_t fam = 0, trans = 0; /* set by family_of, which raises otherwise */
    family_of(L, 1, "TCP4", &fam, &trans, false);
    spec.family = fam;
    endpoint(L, 1, "src", &spec.src, fam);
    endpoint(L, 1, "dst", &spec.dst, fam);
    lua_getfield(L, 1, "tail");
    spec.v1_unknown_tail = lua_tostring(L, -1);
    return push_built(L, &spec);
}

/* v2{command=, family=, src=, dst=, tlvs={}, ssl=, sig=, ver_cmd=, fam=, len=, len_delta=,
 *    crc_corrupt=, crc_le=, unix_raw=} */
static int l_v2(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    v2_bufs *b = lua_newuserdatauv(L, sizeof *b, 0); /* scratch that the GC frees */
    memset(b, 0, sizeof *b);
    pp_build_spec spec;
    pp_build_spec_init(&spec);
    spec.version = 2;
    lua_getfield(L, 1, "command");
    if (lua_isinteger(L, -1))
        spec.command = (uint8_t)lua_tointeger(L, -1);
    else {
        const char *c = luaL_optstring(L, -1, "PROXY");
        if (strcmp(c, "PROXY") == 0) spec.command = PP_CMD_PROXY;
        else if (strcmp(c, "LOCAL") == 0) spec.command = PP_CMD_LOCAL;
        else return luaL_error(L, "proxy.v2: command is PROXY, LOCAL or a number");
    }
    lua_pop(L, 1);
    const char *dflt = spec.command == PP_CMD_LOCAL ? "UNSPEC" : "TCP4";
    uint8_t fam = 0, trans = 0; /* set by family_of, which raises otherwise */
    family_of(L, 1, dflt, &fam, &trans, true);
    spec.family = fam;
    spec.transport = trans;
    endpoint(L, 1, "src", &spec.src, fam);
    endpoint(L, 1, "dst", &spec.dst, fam);
    lua_getfield(L, 1, "unix_raw");
    spec.unix_raw = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "tlvs");
    size_t n = 0;
    if (lua_istable(L, -1)) {
        int tl = lua_gettop(L);
        lua_Integer m = luaL_len(L, tl);
        for (lua_Integer i = 1; i <= m; i++) {
            if (n >= MAX_TLVS)
                return luaL_error(L, "proxy.v2: at most %d TLVs", MAX_TLVS);
            lua_geti(L, tl, i);
            int ti = lua_gettop(L);
            luaL_checktype(L, ti, LUA_TTABLE);
            tlv_from(L, ti, &b->tlvs[n]);
            lua_getfield(L, ti, "ssl"); /* an SSL TLV built from fields */
            if (lua_istable(L, -1)) {
                int si = lua_gettop(L);
                b->ssl.client = client_flags(L, si);
                lua_getfield(L, si, "verify");
                b->ssl.verify = (uint32_t)luaL_optinteger(L, -1, 0);
                lua_pop(L, 1);
                size_t ns = 0;
                lua_Integer sm = luaL_len(L, si);
                for (lua_Integer k = 1; k <= sm && ns < MAX_SUBS; k++) {
                    lua_geti(L, si, k);
                    tlv_from(L, lua_gettop(L), &b->subs[ns++]);
                    lua_pop(L, 1);
                }
                b->ssl.subs = b->subs;
                b->ssl.nsubs = ns;
                spec.ssl = &b->ssl;
                b->tlvs[n].type = PP_TLV_SSL;
                b->tlvs[n].value = NULL;
            }
            lua_pop(L, 1);
            n++;
            lua_pop(L, 1); /* the TLV table stays referenced by tlvs */
        }
    }
    lua_pop(L, 1);
    spec.tlvs = b->tlvs;
    spec.ntlvs = n;
    lua_getfield(L, 1, "sig");
    if (lua_type(L, -1) == LUA_TSTRING) {
        size_t sl;
        const char *s = lua_tolstring(L, -1, &sl);
        if (sl != PP_V2_SIG_LEN)
            return luaL_error(L, "proxy.v2: sig must be exactly 12 bytes");
        memcpy(b->sig, s, PP_V2_SIG_LEN);
        spec.sig_override = b->sig;
    }
    lua_pop(L, 1);
    spec.ver_cmd_override = opt_int(L, 1, "ver_cmd", -1);
    spec.fam_override = opt_int(L, 1, "fam", -1);
    spec.len_override = opt_int(L, 1, "len", -1);
    spec.len_delta = opt_int(L, 1, "len_delta", 0);
    lua_getfield(L, 1, "crc_corrupt");
    spec.crc_corrupt = lua_toboolean(L, -1);
    lua_getfield(L, 1, "crc_le");
    spec.crc_little_endian = lua_toboolean(L, -1);
    lua_pop(L, 2);
    return push_built(L, &spec);
}

/* ---- TLV constructors: tables consumed by v2{tlvs=...} ---------------------------------- */

static int make_tlv(lua_State *L, int type, int value_idx)
{
    lua_newtable(L);
    lua_pushinteger(L, type);
    lua_setfield(L, -2, "type");
    if (value_idx) {
        lua_pushvalue(L, value_idx);
        lua_setfield(L, -2, "value");
    }
    return 1;
}

/* tlv(type, value [, {len=override}]) */
static int l_tlv(lua_State *L)
{
    lua_Integer type = luaL_checkinteger(L, 1);
    luaL_optstring(L, 2, "");
    make_tlv(L, (int)type, lua_isnoneornil(L, 2) ? 0 : 2);
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "len");
        lua_setfield(L, -2, "len");
    }
    return 1;
}

#define STRING_TLV(fn, code)                                      \
    static int fn(lua_State *L)                                   \
    {                                                             \
        luaL_checkstring(L, 1);                                   \
        return make_tlv(L, code, 1);                              \
    }
STRING_TLV(l_alpn, PP_TLV_ALPN)
STRING_TLV(l_authority, PP_TLV_AUTHORITY)
STRING_TLV(l_unique_id, PP_TLV_UNIQUE_ID)
STRING_TLV(l_netns, PP_TLV_NETNS)
STRING_TLV(l_ssl_version, PP_SSL_VERSION)
STRING_TLV(l_ssl_cn, PP_SSL_CN)
STRING_TLV(l_ssl_cipher, PP_SSL_CIPHER)
STRING_TLV(l_ssl_sig_alg, PP_SSL_SIG_ALG)
STRING_TLV(l_ssl_key_alg, PP_SSL_KEY_ALG)
STRING_TLV(l_ssl_group, PP_SSL_GROUP)
STRING_TLV(l_ssl_sig_scheme, PP_SSL_SIG_SCHEME)
STRING_TLV(l_ssl_client_cert, PP_SSL_CLIENT_CERT)

/* noop(n): n zero bytes of padding; noop("bytes") */
static int l_noop(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING)
        return make_tlv(L, PP_TLV_NOOP, 1);
    lua_Integer n = luaL_optinteger(L, 1, 0);
    make_tlv(L, PP_TLV_NOOP, 0);
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "size");
    return 1;
}

/* crc32c(): computed over the final header; crc32c(value) writes that value verbatim */
static int l_crc32c(lua_State *L)
{
    if (lua_isinteger(L, 1)) {
        uint32_t v = (uint32_t)lua_tointeger(L, 1);
        char be[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
        lua_pushlstring(L, be, 4);
        return make_tlv(L, PP_TLV_CRC32C, lua_gettop(L));
    }
    make_tlv(L, PP_TLV_CRC32C, 0);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "crc");
    lua_pushinteger(L, 4);
    lua_setfield(L, -2, "size");
    return 1;
}

/* ssl{client={"SSL","CERT_CONN"} | 0x07, verify=0, proxy.ssl_cn"x", ...} */
static int l_ssl(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    make_tlv(L, PP_TLV_SSL, 0);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "ssl");
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "len");
        lua_setfield(L, -2, "len");
    }
    return 1;
}

/* ---- parser ---------------------------------------------------------------------------- */

static void push_ep(lua_State *L, const pp_endpoint *ep)
{
    char buf[200];
    if (ep->family == PP_FAM_INET)
        snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", ep->ip[0], ep->ip[1], ep->ip[2], ep->ip[3], ep->port);
    else if (ep->family == PP_FAM_INET6) {
        char ip[160];
        pp_endpoint_addr_str(ep, ip, sizeof ip);
        snprintf(buf, sizeof buf, "[%s]:%u", ip, ep->port);
    } else if (ep->family == PP_FAM_UNIX) {
        char ip[160];
        pp_endpoint_addr_str(ep, ip, sizeof ip);
        snprintf(buf, sizeof buf, "unix:%s", ip);
    } else {
        lua_pushnil(L);
        return;
    }
    lua_pushstring(L, buf);
}

/* parse(bytes [, {versions=, require_crc32c=, ...}]) ->
 *   header table | "need_more" | nil, errname, message, refs */
static int l_parse(lua_State *L)
{
    size_t n;
    const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
    pp_options o;
    memset(&o, 0, sizeof o);
    if (lua_istable(L, 2)) {
        o.versions = (unsigned)opt_int(L, 2, "versions", 0);
        lua_getfield(L, 2, "require_crc32c");
        o.require_crc32c = lua_toboolean(L, -1);
        lua_getfield(L, 2, "skip_tlvs");
        o.skip_tlvs = lua_toboolean(L, -1);
        lua_getfield(L, 2, "allow_tlv_duplicates");
        o.allow_tlv_duplicates = lua_toboolean(L, -1);
        lua_pop(L, 3);
    }
    pp_header h;
    ssize_t r = pp_parse(s, n, &o, &h);
    if (r == PP_NEED_MORE) {
        lua_pushstring(L, "need_more");
        return 1;
    }
    if (r < 0) {
        const pp_error_info *i = pp_error_info_get((int)r);
        lua_pushnil(L);
        lua_pushstring(L, i ? i->name : "error");
        lua_pushstring(L, i ? i->message : "");
        lua_pushstring(L, i ? i->refs : "");
        return 4;
    }
    lua_newtable(L);
    lua_pushinteger(L, h.version); lua_setfield(L, -2, "version");
    lua_pushstring(L, h.command == PP_CMD_LOCAL ? "LOCAL" : "PROXY"); lua_setfield(L, -2, "command");
    lua_pushinteger(L, h.family); lua_setfield(L, -2, "family");
    lua_pushinteger(L, h.transport); lua_setfield(L, -2, "transport");
    lua_pushboolean(L, h.use_carried); lua_setfield(L, -2, "use_carried");
    lua_pushinteger(L, (lua_Integer)h.header_len); lua_setfield(L, -2, "header_len");
    push_ep(L, &h.src); lua_setfield(L, -2, "src");
    push_ep(L, &h.dst); lua_setfield(L, -2, "dst");
    lua_pushboolean(L, h.crc_present); lua_setfield(L, -2, "crc_present");
    lua_pushboolean(L, h.crc_ok); lua_setfield(L, -2, "crc_ok");
    {
        lua_newtable(L);
        pp_tlv_iter it;
        pp_tlv t;
        pp_tlv_iter_init(&it, &h);
        lua_Integer i = 0;
        while (pp_tlv_next(&it, &t)) {
            lua_newtable(L);
            lua_pushinteger(L, t.type); lua_setfield(L, -2, "type");
            lua_pushlstring(L, (const char *)t.value, t.len); lua_setfield(L, -2, "value");
            lua_rawseti(L, -2, ++i);
        }
        lua_setfield(L, -2, "tlvs");
    }
    {
        char buf[4096];
        pp_header_describe(&h, buf, sizeof buf);
        lua_pushstring(L, buf);
        lua_setfield(L, -2, "description");
    }
    return 1;
}

/* crc(bytes) -> CRC32C */
static int l_crc(lua_State *L)
{
    size_t n;
    const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
    lua_pushinteger(L, pp_crc32c(s, n));
    return 1;
}

/* v2 signature as bytes */
static int push_sig(lua_State *L)
{
    static const char sig[PP_V2_SIG_LEN] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    lua_pushlstring(L, sig, sizeof sig);
    return 1;
}

int pc_open_proxy(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"v1", l_v1}, {"v2", l_v2}, {"tlv", l_tlv}, {"alpn", l_alpn}, {"authority", l_authority},
        {"unique_id", l_unique_id}, {"netns", l_netns}, {"noop", l_noop}, {"crc32c", l_crc32c},
        {"ssl", l_ssl}, {"ssl_version", l_ssl_version}, {"ssl_cn", l_ssl_cn},
        {"ssl_cipher", l_ssl_cipher}, {"ssl_sig_alg", l_ssl_sig_alg}, {"ssl_key_alg", l_ssl_key_alg},
        {"ssl_group", l_ssl_group}, {"ssl_sig_scheme", l_ssl_sig_scheme},
        {"ssl_client_cert", l_ssl_client_cert}, {"parse", l_parse}, {"crc", l_crc}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
    push_sig(L);
    lua_setfield(L, -2, "SIGNATURE");
    return 1;
}

int pc_open_tls(lua_State *L)
{
    lua_newtable(L);
    lua_pushcfunction(L, pc_l_tls_client);
    lua_setfield(L, -2, "client");
    return 1;
}
