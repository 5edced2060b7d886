/* The "mqtt" module for scenarios: packet builders (3.1.1 and 5.0) and the parser, bound
 * to lib/mqtt. Builders return byte strings, so they concatenate with PROXY headers. */
#include "core.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "common.h"
#include "mqtt/mqtt.h"

static const char *const TYPE_NAMES[16] = {
    "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
    "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"};

static mqtt_bytes bytes_field(lua_State *L, int idx, const char *k, bool *present)
{
    mqtt_bytes b = {NULL, 0};
    lua_getfield(L, idx, k);
    if (lua_type(L, -1) == LUA_TSTRING) {
        b.ptr = (const uint8_t *)lua_tolstring(L, -1, &b.len);
        if (present)
            *present = true;
    } else if (present)
        *present = false;
    lua_pop(L, 1); /* the string stays referenced by the table */
    return b;
}

static lua_Integer int_field(lua_State *L, int idx, const char *k, lua_Integer dflt)
{
    lua_getfield(L, idx, k);
    lua_Integer v = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

static bool bool_field(lua_State *L, int idx, const char *k, bool dflt)
{
    lua_getfield(L, idx, k);
    bool v = lua_isnil(L, -1) ? dflt : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static uint8_t level_field(lua_State *L, int idx)
{
    lua_Integer v = int_field(L, idx, "version", MQTT_V311);
    if (v == 311)
        v = MQTT_V311;
    if (v != MQTT_V31 && v != MQTT_V311 && v != MQTT_V5)
        luaL_error(L, "mqtt: version must be 3, 4 (3.1.1) or 5");
    return (uint8_t)v;
}

/* v5 properties from a table {session_expiry=, receive_maximum=, ... user={{k,v},...}} */
static size_t props_field(lua_State *L, int idx, const char *k, mqtt_prop *list, size_t cap)
{
    size_t n = 0;
    lua_getfield(L, idx, k);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    int t = lua_gettop(L);
    static const struct { const char *name; uint8_t id; } names[] = {
        {"session_expiry", MQTT_PROP_SESSION_EXPIRY}, {"receive_maximum", MQTT_PROP_RECEIVE_MAXIMUM},
        {"maximum_packet_size", MQTT_PROP_MAXIMUM_PACKET_SIZE}, {"topic_alias_maximum", MQTT_PROP_TOPIC_ALIAS_MAXIMUM},
        {"request_problem_info", MQTT_PROP_REQUEST_PROBLEM_INFO}, {"request_response_info", MQTT_PROP_REQUEST_RESPONSE_INFO},
        {"message_expiry", MQTT_PROP_MESSAGE_EXPIRY}, {"content_type", MQTT_PROP_CONTENT_TYPE},
        {"response_topic", MQTT_PROP_RESPONSE_TOPIC}, {"payload_format", MQTT_PROP_PAYLOAD_FORMAT},
        {"topic_alias", MQTT_PROP_TOPIC_ALIAS}, {"reason_string", MQTT_PROP_REASON_STRING},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0] && n < cap; i++) {
        lua_getfield(L, t, names[i].name);
        if (!lua_isnil(L, -1)) {
            mqtt_prop *p = &list[n++];
            memset(p, 0, sizeof *p);
            p->id = names[i].id;
            if (lua_type(L, -1) == LUA_TSTRING) {
                p->s.ptr = (const uint8_t *)lua_tolstring(L, -1, &p->s.len);
            } else
                p->u = (uint32_t)lua_tointeger(L, -1);
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, t, "user");
    if (lua_istable(L, -1)) {
        lua_Integer m = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= m && n < cap; i++) {
            lua_geti(L, -1, i);
            if (lua_istable(L, -1)) {
                mqtt_prop *p = &list[n++];
                memset(p, 0, sizeof *p);
                p->id = MQTT_PROP_USER_PROPERTY;
                lua_geti(L, -1, 1);
                p->s.ptr = (const uint8_t *)luaL_optlstring(L, -1, "", &p->s.len);
                lua_geti(L, -2, 2);
                p->v.ptr = (const uint8_t *)luaL_optlstring(L, -1, "", &p->v.len);
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 2);
    return n;
}

static int push_encoded(lua_State *L, uint8_t level, const mqtt_packet *pkt)
{
    ssize_t n = mqtt_encode_size(level, pkt);
    if (n < 0)
        return luaL_error(L, "mqtt: packet cannot be encoded (a field is too long?)");
    uint8_t *buf = pc_xmalloc((size_t)n);
    ssize_t w = mqtt_encode(buf, (size_t)n, level, pkt);
    if (w < 0) {
        free(buf);
        return luaL_error(L, "mqtt: encoding failed (%d)", (int)w);
    }
    lua_pushlstring(L, (const char *)buf, (size_t)w);
    free(buf);
    return 1;
}

static int opt_table(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    return 1;
}

/* connect{version=4, client_id="", clean=true, keep_alive=60, username=, password=,
 *         will={topic=, payload=, qos=, retain=}, props={...}} */
static int l_connect(lua_State *L)
{
    opt_table(L);
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_CONNECT);
    uint8_t level = level_field(L, 1);
    mqtt_connect *c = &p.connect;
    c->protocol_level = level;
    c->clean_start = bool_field(L, 1, "clean", true);
    c->keep_alive = (uint16_t)int_field(L, 1, "keep_alive", 60);
    c->client_id = bytes_field(L, 1, "client_id", NULL);
    if (!c->client_id.ptr)
        c->client_id = mqtt_cstr("");
    c->username = bytes_field(L, 1, "username", &c->has_username);
    c->password = bytes_field(L, 1, "password", &c->has_password);
    mqtt_prop props[16], wprops[16];
    c->props.count = props_field(L, 1, "props", props, 16);
    c->props.list = props;
    lua_getfield(L, 1, "will");
    if (lua_istable(L, -1)) {
        int w = lua_gettop(L);
        c->will = true;
        c->will_topic = bytes_field(L, w, "topic", NULL);
        c->will_payload = bytes_field(L, w, "payload", NULL);
        c->will_qos = (uint8_t)int_field(L, w, "qos", 0);
        c->will_retain = bool_field(L, w, "retain", false);
        c->will_props.count = props_field(L, w, "props", wprops, 16);
        c->will_props.list = wprops;
    }
    int r = push_encoded(L, level, &p);
    return r;
}

/* publish{topic=, payload="", qos=0, retain=false, dup=false, id=, version=, props=} */
static int l_publish(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBLISH);
    uint8_t level = level_field(L, 1);
    p.publish.topic = bytes_field(L, 1, "topic", NULL);
    if (!p.publish.topic.ptr)
        return luaL_error(L, "mqtt.publish: topic is required");
    p.publish.payload = bytes_field(L, 1, "payload", NULL);
    p.publish.qos = (uint8_t)int_field(L, 1, "qos", 0);
    p.publish.retain = bool_field(L, 1, "retain", false);
    p.publish.dup = bool_field(L, 1, "dup", false);
    p.publish.packet_id = (uint16_t)int_field(L, 1, "id", p.publish.qos ? 1 : 0);
    mqtt_prop props[16];
    p.publish.props.count = props_field(L, 1, "props", props, 16);
    p.publish.props.list = props;
    return push_encoded(L, level, &p);
}

/* subscribe{id=1, topics={"a/b", {"c/#", qos=1}}, version=} (also unsubscribe) */
static int sub_common(lua_State *L, uint8_t type)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    mqtt_packet p;
    mqtt_packet_init(&p, type);
    uint8_t level = level_field(L, 1);
    p.subscribe.packet_id = (uint16_t)int_field(L, 1, "id", 1);
    mqtt_sub_entry entries[64];
    size_t n = 0;
    lua_getfield(L, 1, "topics");
    if (!lua_istable(L, -1))
        return luaL_error(L, "mqtt: topics = {...} is required");
    lua_Integer m = luaL_len(L, -1);
    for (lua_Integer i = 1; i <= m && n < 64; i++) {
        lua_geti(L, -1, i);
        mqtt_sub_entry *e = &entries[n++];
        memset(e, 0, sizeof *e);
        if (lua_istable(L, -1)) {
            lua_geti(L, -1, 1);
            e->filter.ptr = (const uint8_t *)luaL_checklstring(L, -1, &e->filter.len);
            lua_pop(L, 1);
            e->options = (uint8_t)int_field(L, -1, "options", int_field(L, -1, "qos", 0));
        } else
            e->filter.ptr = (const uint8_t *)luaL_checklstring(L, -1, &e->filter.len);
        e->qos = e->options & 3;
        lua_pop(L, 1);
    }
    p.subscribe.list = entries;
    p.subscribe.list_count = n;
    return push_encoded(L, level, &p);
}

static int l_subscribe(lua_State *L) { return sub_common(L, MQTT_SUBSCRIBE); }
static int l_unsubscribe(lua_State *L) { return sub_common(L, MQTT_UNSUBSCRIBE); }

static int simple(lua_State *L, uint8_t type)
{
    opt_table(L);
    mqtt_packet p;
    mqtt_packet_init(&p, type);
    uint8_t level = level_field(L, 1);
    if (type == MQTT_DISCONNECT)
        p.disconnect.reason = (uint8_t)int_field(L, 1, "reason", 0);
    if (type >= MQTT_PUBACK && type <= MQTT_PUBCOMP) {
        p.ack.packet_id = (uint16_t)int_field(L, 1, "id", 1);
        p.ack.reason = (uint8_t)int_field(L, 1, "reason", 0);
    }
    return push_encoded(L, level, &p);
}

static int l_pingreq(lua_State *L) { return simple(L, MQTT_PINGREQ); }
static int l_disconnect(lua_State *L) { return simple(L, MQTT_DISCONNECT); }
static int l_puback(lua_State *L) { return simple(L, MQTT_PUBACK); }
static int l_pubrec(lua_State *L) { return simple(L, MQTT_PUBREC); }
static int l_pubrel(lua_State *L) { return simple(L, MQTT_PUBREL); }
static int l_pubcomp(lua_State *L) { return simple(L, MQTT_PUBCOMP); }

/* raw(first_byte, body): any fixed header + body, for malformed packets */
static int l_raw(lua_State *L)
{
    lua_Integer first = luaL_checkinteger(L, 1);
    size_t n;
    const char *body = luaL_optlstring(L, 2, "", &n);
    uint8_t head[5];
    head[0] = (uint8_t)first;
    ssize_t v = mqtt_varint_encode(head + 1, 4, (uint32_t)n);
    if (v < 0)
        return luaL_error(L, "mqtt.raw: body too long");
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, (const char *)head, (size_t)v + 1);
    luaL_addlstring(&b, body, n);
    luaL_pushresult(&b);
    return 1;
}

/* frame(bytes [, max]) -> total | 0 (need more) | nil, errname */
static int l_frame(lua_State *L)
{
    size_t n;
    const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
    size_t max = (size_t)luaL_optinteger(L, 2, 0);
    ssize_t r = mqtt_frame(s, n, max, NULL, NULL, NULL);
    if (r < 0) {
        lua_pushnil(L);
        lua_pushstring(L, mqtt_error_name((int)r));
        return 2;
    }
    lua_pushinteger(L, r);
    return 1;
}

static void set_bytes(lua_State *L, const char *k, mqtt_bytes b)
{
    lua_pushlstring(L, b.ptr ? (const char *)b.ptr : "", b.len);
    lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void set_bool(lua_State *L, const char *k, bool v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, k);
}

static void push_props(lua_State *L, const mqtt_props *p)
{
    lua_newtable(L);
    if (mqtt_props_has(p, MQTT_PROP_SESSION_EXPIRY)) set_int(L, "session_expiry", p->session_expiry);
    if (mqtt_props_has(p, MQTT_PROP_RECEIVE_MAXIMUM)) set_int(L, "receive_maximum", p->receive_maximum);
    if (mqtt_props_has(p, MQTT_PROP_MAXIMUM_PACKET_SIZE)) set_int(L, "maximum_packet_size", p->maximum_packet_size);
    if (mqtt_props_has(p, MQTT_PROP_TOPIC_ALIAS_MAXIMUM)) set_int(L, "topic_alias_maximum", p->topic_alias_maximum);
    if (mqtt_props_has(p, MQTT_PROP_SERVER_KEEP_ALIVE)) set_int(L, "server_keep_alive", p->server_keep_alive);
    if (mqtt_props_has(p, MQTT_PROP_MAXIMUM_QOS)) set_int(L, "maximum_qos", p->maximum_qos);
    if (mqtt_props_has(p, MQTT_PROP_ASSIGNED_CLIENT_ID)) set_bytes(L, "assigned_client_id", p->assigned_client_id);
    if (mqtt_props_has(p, MQTT_PROP_REASON_STRING)) set_bytes(L, "reason_string", p->reason_string);
    if (mqtt_props_has(p, MQTT_PROP_CONTENT_TYPE)) set_bytes(L, "content_type", p->content_type);
    if (mqtt_props_has(p, MQTT_PROP_RESPONSE_TOPIC)) set_bytes(L, "response_topic", p->response_topic);
    if (mqtt_props_has(p, MQTT_PROP_TOPIC_ALIAS)) set_int(L, "topic_alias", p->topic_alias);
}

/* decode(bytes [, level]) -> packet table | nil, errname */
static int l_decode(lua_State *L)
{
    size_t n;
    const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
    uint8_t level = (uint8_t)luaL_optinteger(L, 2, MQTT_V311);
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    ssize_t r = mqtt_decode(s, n, level, &p);
    if (r <= 0) {
        lua_pushnil(L);
        lua_pushstring(L, r == 0 ? "need_more" : mqtt_error_name((int)r));
        return 2;
    }
    lua_newtable(L);
    set_int(L, "type", p.type);
    lua_pushstring(L, TYPE_NAMES[p.type & 15]);
    lua_setfield(L, -2, "type_name");
    set_int(L, "flags", p.flags);
    set_int(L, "level", p.level);
    set_int(L, "total_len", (lua_Integer)p.total_len);
    lua_pushlstring(L, (const char *)s, (size_t)r);
    lua_setfield(L, -2, "raw");
    bool v5 = p.level == MQTT_V5;
    switch (p.type) {
    case MQTT_CONNECT:
        set_bytes(L, "protocol_name", p.connect.protocol_name);
        set_int(L, "protocol_level", p.connect.protocol_level);
        set_bytes(L, "client_id", p.connect.client_id);
        set_bool(L, "clean", p.connect.clean_start);
        set_int(L, "keep_alive", p.connect.keep_alive);
        if (p.connect.has_username) set_bytes(L, "username", p.connect.username);
        if (p.connect.has_password) set_bytes(L, "password", p.connect.password);
        if (p.connect.will) {
            set_bytes(L, "will_topic", p.connect.will_topic);
            set_bytes(L, "will_payload", p.connect.will_payload);
        }
        if (v5) { push_props(L, &p.connect.props); lua_setfield(L, -2, "props"); }
        break;
    case MQTT_CONNACK:
        set_bool(L, "session_present", p.connack.session_present);
        set_int(L, "reason", p.connack.reason);
        lua_pushstring(L, v5 ? mqtt_reason_name(p.connack.reason) : mqtt_connack_v3_name(p.connack.reason));
        lua_setfield(L, -2, "reason_name");
        if (v5) { push_props(L, &p.connack.props); lua_setfield(L, -2, "props"); }
        break;
    case MQTT_PUBLISH:
        set_bytes(L, "topic", p.publish.topic);
        set_bytes(L, "payload", p.publish.payload);
        set_int(L, "qos", p.publish.qos);
        set_bool(L, "retain", p.publish.retain);
        set_bool(L, "dup", p.publish.dup);
        if (p.publish.qos) set_int(L, "id", p.publish.packet_id);
        if (v5) { push_props(L, &p.publish.props); lua_setfield(L, -2, "props"); }
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
        set_int(L, "id", p.ack.packet_id);
        set_int(L, "reason", p.ack.reason);
        break;
    case MQTT_SUBACK: case MQTT_UNSUBACK:
        set_int(L, "id", p.suback.packet_id);
        lua_newtable(L);
        for (size_t i = 0; i < p.suback.reasons.len; i++) {
            lua_pushinteger(L, p.suback.reasons.ptr[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "reasons");
        break;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE: {
        set_int(L, "id", p.subscribe.packet_id);
        lua_newtable(L);
        mqtt_sub_iter it;
        mqtt_sub_entry e;
        mqtt_sub_iter_init(&it, &p);
        lua_Integer i = 0;
        while (mqtt_sub_next(&it, &e) == 1) {
            lua_pushlstring(L, (const char *)e.filter.ptr, e.filter.len);
            lua_rawseti(L, -2, ++i);
        }
        lua_setfield(L, -2, "topics");
        break;
    }
    case MQTT_DISCONNECT:
        set_int(L, "reason", p.disconnect.reason);
        if (v5) { push_props(L, &p.disconnect.props); lua_setfield(L, -2, "props"); }
        break;
    default:
        break;
    }
    return 1;
}

/* split(stream [, level]) -> {packet...}, rest  (MQTT packet boundaries in a byte stream) */
static int l_split(lua_State *L)
{
    size_t n;
    const uint8_t *s = (const uint8_t *)luaL_checklstring(L, 1, &n);
    lua_Integer level = luaL_optinteger(L, 2, MQTT_V311);
    lua_newtable(L);
    size_t off = 0;
    lua_Integer i = 0;
    while (off < n) {
        ssize_t r = mqtt_frame(s + off, n - off, 0, NULL, NULL, NULL);
        if (r <= 0)
            break;
        lua_pushcfunction(L, l_decode);
        lua_pushlstring(L, (const char *)s + off, (size_t)r);
        lua_pushinteger(L, level);
        lua_call(L, 2, 2);
        if (lua_isnil(L, -2)) {
            /* framed but not decodable: keep the raw packet */
            lua_pop(L, 2);
            lua_newtable(L);
            lua_pushlstring(L, (const char *)s + off, (size_t)r);
            lua_setfield(L, -2, "raw");
            set_int(L, "type", s[off] >> 4);
            lua_pushstring(L, TYPE_NAMES[s[off] >> 4]);
            lua_setfield(L, -2, "type_name");
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, "undecodable");
        } else
            lua_pop(L, 1);
        lua_rawseti(L, -2, ++i);
        off += (size_t)r;
    }
    lua_pushlstring(L, (const char *)s + off, n - off);
    return 2;
}

int pc_open_mqtt(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"connect", l_connect}, {"publish", l_publish}, {"subscribe", l_subscribe},
        {"unsubscribe", l_unsubscribe}, {"pingreq", l_pingreq}, {"disconnect", l_disconnect},
        {"puback", l_puback}, {"pubrec", l_pubrec}, {"pubrel", l_pubrel}, {"pubcomp", l_pubcomp},
        {"raw", l_raw}, {"frame", l_frame}, {"decode", l_decode}, {"split", l_split}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
    lua_newtable(L); /* TYPES */
    lua_newtable(L); /* TYPE_NAMES */
    for (int i = 1; i < 16; i++) {
        lua_pushinteger(L, i);
        lua_setfield(L, -3, TYPE_NAMES[i]);
        lua_pushstring(L, TYPE_NAMES[i]);
        lua_rawseti(L, -2, i);
        lua_pushinteger(L, i);
        lua_setfield(L, -4, TYPE_NAMES[i]); /* mqtt.CONNACK == 2 */
    }
    lua_setfield(L, -3, "TYPE_NAMES");
    lua_setfield(L, -2, "TYPES");
    return 1;
}
