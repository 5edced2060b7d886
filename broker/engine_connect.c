/* broker/engine_connect: CONNECT -> authentication -> session (takeover, clean start, resume)
 * -> CONNACK, for MQTT 3.1, 3.1.1 and 5.0. */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "net/loop.h"

static char *bytes_dup(mqtt_bytes b)
{
    char *s = malloc(b.len + 1);
    if (s) {
        if (b.len)
            memcpy(s, b.ptr, b.len);
        s[b.len] = '\0';
    }
    return s;
}

static void send_connack(br_client *c, uint8_t level, uint8_t code, bool session_present,
                         const mqtt_prop *props, size_t nprops)
{
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_CONNACK);
    p.connack.session_present = session_present;
    p.connack.reason = code;
    if (level == MQTT_V5 && nprops) {
        p.connack.props.list = props;
        p.connack.props.count = nprops;
    }
    uint8_t saved = c->level;
    c->level = level; /* encode in the client's version even if the CONNECT was refused */
    br_send_packet(c, &p);
    c->level = saved;
}

/* Answer CONNECT with a refusal and close. v5_code picks the 3.1.1 return code too. */
static void refuse(br_client *c, uint8_t level, uint8_t v5_code, const char *message, bool auth)
{
    uint8_t wire = level == MQTT_V5 ? v5_code : br_v5_to_v3_return_code(v5_code);
    send_connack(c, level == MQTT_V5 ? MQTT_V5 : MQTT_V311, wire, false, NULL, 0);
    const char *name = mqtt_reason_name(v5_code);
    br_emit(c, BR_EV_CONNACK, name, message, wire, false, NULL);
    if (auth)
        br_emit(c, BR_EV_AUTH_REJECT, name, message, v5_code, false, NULL);
    br_close_client(c, name, -1);
}

/* A CONNECT the codec rejected: answer in its version when the spec gives a code for it. */
static void connect_decode_error(br_client *c, const mqtt_packet *p, int err)
{
    uint8_t level = p->type == MQTT_CONNECT ? p->connect.protocol_level : 0;
    const mqtt_error_info *info = mqtt_error_info_get(err);
    if (level == MQTT_V5) {
        uint8_t code = mqtt_error_reason(err);
        c->level = MQTT_V5;
        send_connack(c, MQTT_V5, code, false, NULL, 0);
        br_emit(c, BR_EV_CONNACK, info->name, info->message, code, false, NULL);
    } else if (p->type == MQTT_CONNECT) {
        int rc = mqtt_error_connack_v3(err); /* -1: the spec says close without CONNACK */
        if (rc >= 0) {
            send_connack(c, MQTT_V311, (uint8_t)rc, false, NULL, 0);
            br_emit(c, BR_EV_CONNACK, info->name, info->message, rc, false, NULL);
        }
    }
    br_close_client(c, info->name, -1);
}

static int assign_client_id(br_engine *e, char *out, size_t cap)
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t rnd[8];
        if (RAND_bytes(rnd, sizeof rnd) != 1)
            return -1;
        int n = snprintf(out, cap, "ppb-");
        for (size_t i = 0; i < sizeof rnd && (size_t)n + 2 < cap; i++)
            n += snprintf(out + n, cap - (size_t)n, "%02x", rnd[i]);
        if (!br_session_find(e, out))
            return 0;
    }
    return -1;
}

/* The will of this CONNECT, kept on the session until the connection ends. */
static int set_will(br_client *c, br_session *s, const mqtt_connect *cn)
{
    if (!cn->will)
        return 0;
    mqtt_bytes props = { NULL, 0 };
    uint8_t *buf = NULL;
    if (c->level == MQTT_V5 && cn->will_props.raw.len) {
        buf = malloc(cn->will_props.raw.len);
        if (!buf)
            return -1;
        props.ptr = buf;
        props.len = br_props_forwardable(cn->will_props.raw, buf);
    }
    br_msg *w = br_msg_new(cn->will_topic.ptr, cn->will_topic.len, cn->will_payload.ptr,
                           cn->will_payload.len, cn->will_qos, cn->will_retain, props, false, 0);
    free(buf);
    if (!w)
        return -1;
    s->will = w;
    s->will_delay_s = c->level == MQTT_V5 ? cn->will_props.will_delay : 0;
    s->will_has_expiry = c->level == MQTT_V5 && mqtt_props_has(&cn->will_props, MQTT_PROP_MESSAGE_EXPIRY);
    s->will_expiry_s = s->will_has_expiry ? cn->will_props.message_expiry : 0;
    return 0;
}

void br_handle_connect(br_client *c, const uint8_t *raw, size_t len)
{
    br_engine *e = c->e;
    mqtt_packet p;
    memset(&p, 0, sizeof p);
    ssize_t r = mqtt_decode(raw, len, MQTT_V311, &p);
    if (r < 0) {
        connect_decode_error(c, &p, (int)r);
        return;
    }
    if (p.type != MQTT_CONNECT || (size_t)r != len) {
        br_close_client(c, mqtt_error_name(MQTT_ERR_UNEXPECTED_PACKET), -1);
        return;
    }
    const mqtt_connect *cn = &p.connect;
    uint8_t level = cn->protocol_level;
    c->level = level;
    bool v5 = level == MQTT_V5;

    /* client identifier: an empty one gets a generated id (v5 tells the client which) */
    char assigned[40] = "";
    if (cn->client_id.len == 0) {
        if (assign_client_id(e, assigned, sizeof assigned) < 0) {
            refuse(c, level, MQTT_RC_SERVER_UNAVAILABLE, "cannot assign a client identifier", false);
            return;
        }
        c->client_id = strdup(assigned);
    } else {
        c->client_id = bytes_dup(cn->client_id);
    }
    if (!c->client_id) {
        refuse(c, level, MQTT_RC_SERVER_UNAVAILABLE, "out of memory", false);
        return;
    }

    /* authentication */
    if (v5 && mqtt_props_has(&cn->props, MQTT_PROP_AUTH_METHOD)) {
        refuse(c, level, MQTT_RC_BAD_AUTH_METHOD, "enhanced authentication is not supported", true);
        return;
    }
    if (c->forced_username) {
        c->username = strdup(c->forced_username);
        c->username_source = c->forced_source;
    } else if (cn->has_username) {
        c->username = bytes_dup(cn->username);
        c->username_source = "connect";
    }
    if (c->refuse) {
        refuse(c, level, c->refuse_reason ? c->refuse_reason : MQTT_RC_NOT_AUTHORIZED,
               c->refuse_message ? c->refuse_message : "refused by the listener policy", true);
        return;
    }
    if (!c->forced_username && cn->has_username && e->passwd) {
        const uint8_t *pw = cn->has_password ? cn->password.ptr : NULL;
        size_t pwlen = cn->has_password ? cn->password.len : 0;
        if (!c->username || !cn->has_password || !br_passwd_check(e->passwd, c->username, pw, pwlen)) {
            refuse(c, level, MQTT_RC_BAD_USERNAME_OR_PASSWORD, "username or password not accepted", true);
            return;
        }
    }
    if (!c->username && !e->opts.allow_anonymous) {
        refuse(c, level, MQTT_RC_NOT_AUTHORIZED, "anonymous clients are not allowed", true);
        return;
    }
    if (cn->will) {
        int terr = mqtt_topic_name_check(cn->will_topic.ptr, cn->will_topic.len);
        if (terr < 0) {
            refuse(c, level, mqtt_error_reason(terr), mqtt_error_name(terr), false);
            return;
        }
    }

    /* session: take over a live connection, honour clean start, resume or create */
    br_session *s = br_session_find(e, c->client_id);
    if (s && s->client && s->client != c) {
        br_client *old = s->client;
        br_close_client(old, "session_taken_over", MQTT_RC_SESSION_TAKEN_OVER); /* MQTT-3.1.4-3 */
        br_client_end_session(old);
        s = br_session_find(e, c->client_id); /* a clean session ended with its connection */
    }
    if (s && cn->clean_start) {
        br_session_end(s);
        s = NULL;
    }
    bool session_present = s != NULL;
    if (s) {
        br_session_resumed(s);
    } else if (e->nsessions >= e->opts.max_sessions) {
        refuse(c, level, MQTT_RC_QUOTA_EXCEEDED, "too many sessions", false);
        return;
    } else {
        s = br_session_create(e, c->client_id);
        if (!s) {
            refuse(c, level, MQTT_RC_SERVER_UNAVAILABLE, "out of memory", false);
            return;
        }
    }
    s->client = c;
    c->session = s;
    free(s->username);
    s->username = c->username ? strdup(c->username) : NULL;
    s->username_source = c->username_source;
    s->protocol_version = level;
    s->has_addr = c->has_addr;
    s->addr = c->addr;

    uint32_t max = e->opts.session_expiry_max;
    uint32_t requested = v5 ? cn->props.session_expiry : (cn->clean_start ? 0 : max);
    s->expiry_s = requested > max ? max : requested;
    if (set_will(c, s, cn) < 0) {
        c->session = NULL;
        s->client = NULL;
        br_session_destroy(s);
        refuse(c, level, MQTT_RC_SERVER_UNAVAILABLE, "out of memory", false);
        return;
    }

    /* the client's limits on what we send, and our inbound topic aliases */
    if (v5) {
        if (mqtt_props_has(&cn->props, MQTT_PROP_RECEIVE_MAXIMUM))
            c->out_receive_max = cn->props.receive_maximum;
        if (mqtt_props_has(&cn->props, MQTT_PROP_MAXIMUM_PACKET_SIZE))
            c->out_max_packet = cn->props.maximum_packet_size;
        if (e->opts.topic_alias_maximum) {
            c->aliases = calloc((size_t)e->opts.topic_alias_maximum + 1, sizeof *c->aliases);
            if (c->aliases)
                c->alias_max = e->opts.topic_alias_maximum;
        }
    }
    c->keep_alive = cn->keep_alive;
    c->state = BR_C_CONNECTED;

    mqtt_prop props[8];
    size_t np = 0;
    if (v5) {
        memset(props, 0, sizeof props);
        if (s->expiry_s != requested) {
            props[np].id = MQTT_PROP_SESSION_EXPIRY;
            props[np++].u = s->expiry_s;
        }
        if (e->opts.receive_maximum < 65535) {
            props[np].id = MQTT_PROP_RECEIVE_MAXIMUM;
            props[np++].u = e->opts.receive_maximum;
        }
        if (e->opts.max_packet_size < MQTT_MAX_PACKET) {
            props[np].id = MQTT_PROP_MAXIMUM_PACKET_SIZE;
            props[np++].u = e->opts.max_packet_size;
        }
        if (c->alias_max) {
            props[np].id = MQTT_PROP_TOPIC_ALIAS_MAXIMUM;
            props[np++].u = c->alias_max;
        }
        if (assigned[0]) {
            props[np].id = MQTT_PROP_ASSIGNED_CLIENT_ID;
            props[np++].s = mqtt_cstr(c->client_id);
        }
        props[np].id = MQTT_PROP_SHARED_SUB_AVAILABLE; /* $share is not implemented */
        props[np++].u = 0;
    }
    send_connack(c, level, 0, session_present, props, np);
    if (c->state != BR_C_CONNECTED)
        return;
    br_emit(c, BR_EV_CONNACK, "success", NULL, 0, session_present, NULL);
    br_client_start_keepalive(c);

    /* MQTT-4.4.0-1: a resumed session gets its unacknowledged messages again */
    c->resending = session_present && s->ninflight > 0;
    c->resend_next = 0;
    br_drain(c);
}
