/* MQTT 5.0 properties: the table of identifiers (type, packets allowed, repeatability),
 * the iterator, validation into mqtt_props, and encoding from a list. */
#include "mqtt_internal.h"

#define CTX(t) (1u << (t))
#define CTX_WILL CTX(MQTT_PROP_CTX_WILL)
#define CTX_MSG (CTX(MQTT_PUBLISH) | CTX_WILL)
#define CTX_ACKS (CTX(MQTT_PUBACK) | CTX(MQTT_PUBREC) | CTX(MQTT_PUBREL) | CTX(MQTT_PUBCOMP))
#define CTX_ALL (CTX_WILL | CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_PUBLISH) | CTX_ACKS | \
                 CTX(MQTT_SUBSCRIBE) | CTX(MQTT_SUBACK) | CTX(MQTT_UNSUBSCRIBE) | CTX(MQTT_UNSUBACK) | \
                 CTX(MQTT_DISCONNECT) | CTX(MQTT_AUTH))

typedef struct prop_def {
    uint8_t kind;
    const char *name;
    uint16_t allowed; /* CTX() bits where the property may appear (MQTT 5.0 table 2-4) */
    uint16_t repeat;  /* CTX() bits where it may appear more than once */
} prop_def;

static const prop_def DEFS[0x2B] = {
    [0x01] = { MQTT_PK_BYTE, "payload_format_indicator", CTX_MSG, 0 },
    [0x02] = { MQTT_PK_U32, "message_expiry_interval", CTX_MSG, 0 },
    [0x03] = { MQTT_PK_STRING, "content_type", CTX_MSG, 0 },
    [0x08] = { MQTT_PK_STRING, "response_topic", CTX_MSG, 0 },
    [0x09] = { MQTT_PK_BINARY, "correlation_data", CTX_MSG, 0 },
    /* several in a PUBLISH to a client that matched several subscriptions (3.3.2.3.8);
       once in SUBSCRIBE (3.8.2.1.2) */
    [0x0B] = { MQTT_PK_VARINT, "subscription_identifier", CTX(MQTT_PUBLISH) | CTX(MQTT_SUBSCRIBE), CTX(MQTT_PUBLISH) },
    [0x11] = { MQTT_PK_U32, "session_expiry_interval", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_DISCONNECT), 0 },
    [0x12] = { MQTT_PK_STRING, "assigned_client_identifier", CTX(MQTT_CONNACK), 0 },
    [0x13] = { MQTT_PK_U16, "server_keep_alive", CTX(MQTT_CONNACK), 0 },
    [0x15] = { MQTT_PK_STRING, "authentication_method", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_AUTH), 0 },
    [0x16] = { MQTT_PK_BINARY, "authentication_data", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK) | CTX(MQTT_AUTH), 0 },
    [0x17] = { MQTT_PK_BYTE, "request_problem_information", CTX(MQTT_CONNECT), 0 },
    [0x18] = { MQTT_PK_U32, "will_delay_interval", CTX_WILL, 0 },
    [0x19] = { MQTT_PK_BYTE, "request_response_information", CTX(MQTT_CONNECT), 0 },
    [0x1A] = { MQTT_PK_STRING, "response_information", CTX(MQTT_CONNACK), 0 },
    [0x1C] = { MQTT_PK_STRING, "server_reference", CTX(MQTT_CONNACK) | CTX(MQTT_DISCONNECT), 0 },
    [0x1F] = { MQTT_PK_STRING, "reason_string", CTX(MQTT_CONNACK) | CTX_ACKS | CTX(MQTT_SUBACK) |
               CTX(MQTT_UNSUBACK) | CTX(MQTT_DISCONNECT) | CTX(MQTT_AUTH), 0 },
    [0x21] = { MQTT_PK_U16, "receive_maximum", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK), 0 },
    [0x22] = { MQTT_PK_U16, "topic_alias_maximum", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK), 0 },
    [0x23] = { MQTT_PK_U16, "topic_alias", CTX(MQTT_PUBLISH), 0 },
    [0x24] = { MQTT_PK_BYTE, "maximum_qos", CTX(MQTT_CONNACK), 0 },
    [0x25] = { MQTT_PK_BYTE, "retain_available", CTX(MQTT_CONNACK), 0 },
    [0x26] = { MQTT_PK_PAIR, "user_property", CTX_ALL, CTX_ALL },
    [0x27] = { MQTT_PK_U32, "maximum_packet_size", CTX(MQTT_CONNECT) | CTX(MQTT_CONNACK), 0 },
    [0x28] = { MQTT_PK_BYTE, "wildcard_subscription_available", CTX(MQTT_CONNACK), 0 },
    [0x29] = { MQTT_PK_BYTE, "subscription_identifier_available", CTX(MQTT_CONNACK), 0 },
    [0x2A] = { MQTT_PK_BYTE, "shared_subscription_available", CTX(MQTT_CONNACK), 0 },
};

static const prop_def *def_of(uint32_t id)
{
    return id < sizeof DEFS / sizeof DEFS[0] && DEFS[id].kind ? &DEFS[id] : NULL;
}

uint8_t mqtt_prop_kind(uint8_t id)
{
    const prop_def *d = def_of(id);
    return d ? d->kind : MQTT_PK_NONE;
}

const char *mqtt_prop_name(uint8_t id)
{
    const prop_def *d = def_of(id);
    return d ? d->name : NULL;
}

bool mqtt_prop_allowed(uint8_t id, uint8_t ctx)
{
    const prop_def *d = def_of(id);
    return d && ctx < 16 && (d->allowed & CTX(ctx));
}

bool mqtt_prop_repeatable(uint8_t id, uint8_t ctx)
{
    const prop_def *d = def_of(id);
    return d && ctx < 16 && (d->repeat & CTX(ctx));
}

void mqtt_prop_iter_init_raw(mqtt_prop_iter *it, mqtt_bytes raw)
{
    it->p = raw.ptr;
    it->end = raw.ptr ? raw.ptr + raw.len : NULL;
}

void mqtt_prop_iter_init(mqtt_prop_iter *it, const mqtt_props *props)
{
    mqtt_prop_iter_init_raw(it, props->raw);
}

int mqtt_prop_next(mqtt_prop_iter *it, mqtt_prop *out)
{
    if (!it->p || it->p >= it->end)
        return 0;
    mqtt_reader r = { it->p, it->end };
    uint32_t id;
    int rc = rd_varint(&r, &id); /* the identifier is a Variable Byte Integer (2.2.2.2) */
    if (rc < 0)
        return rc;
    const prop_def *d = def_of(id);
    if (!d)
        return MQTT_ERR_BAD_PROPERTY;
    memset(out, 0, sizeof *out);
    out->id = (uint8_t)id;
    out->kind = d->kind;
    uint8_t b = 0;
    uint16_t h = 0;
    switch (d->kind) {
    case MQTT_PK_BYTE: rc = rd_u8(&r, &b); out->u = b; break;
    case MQTT_PK_U16: rc = rd_u16(&r, &h); out->u = h; break;
    case MQTT_PK_U32: rc = rd_u32(&r, &out->u); break;
    case MQTT_PK_VARINT: rc = rd_varint(&r, &out->u); break;
    case MQTT_PK_STRING:
    case MQTT_PK_BINARY: rc = rd_bin(&r, &out->s); break;
    case MQTT_PK_PAIR:
        rc = rd_bin(&r, &out->s);
        if (rc == 0)
            rc = rd_bin(&r, &out->v);
        break;
    }
    if (rc < 0)
        return rc;
    it->p = r.p;
    return 1;
}

int mqtt_user_prop_next(mqtt_prop_iter *it, mqtt_bytes *key, mqtt_bytes *value)
{
    mqtt_prop p;
    int rc;
    while ((rc = mqtt_prop_next(it, &p)) > 0) {
        if (p.id == MQTT_PROP_USER_PROPERTY) {
            *key = p.s;
            *value = p.v;
            return 1;
        }
    }
    return rc;
}

/* Range rules beyond the data type (MQTT 5.0 3.1.2.11, 3.2.2.3, 3.3.2.3, 3.8.2.1). */
static int check_value(const mqtt_prop *p)
{
    switch (p->kind) {
    case MQTT_PK_BYTE:
        /* every byte property is a 0/1 flag (Maximum QoS included: 2 is expressed by absence) */
        return p->u <= 1 ? 0 : MQTT_ERR_BAD_PROPERTY_VALUE;
    case MQTT_PK_STRING:
        if (!mqtt_utf8_valid(p->s.ptr, p->s.len))
            return MQTT_ERR_INVALID_UTF8;
        if (p->id == MQTT_PROP_RESPONSE_TOPIC && mqtt_topic_name_check(p->s.ptr, p->s.len) < 0)
            return MQTT_ERR_BAD_PROPERTY_VALUE; /* a Topic Name: no wildcards (5.0 3.3.2.3.5) */
        return 0;
    case MQTT_PK_PAIR:
        return mqtt_utf8_valid(p->s.ptr, p->s.len) && mqtt_utf8_valid(p->v.ptr, p->v.len)
                   ? 0 : MQTT_ERR_INVALID_UTF8;
    default:
        break;
    }
    switch (p->id) {
    case MQTT_PROP_RECEIVE_MAXIMUM:     /* MQTT-3.1.2.11.3, 3.2.2.3.3 */
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: /* 3.1.2.11.4, 3.2.2.3.6 */
    case MQTT_PROP_TOPIC_ALIAS:         /* MQTT-3.3.2-8 */
    case MQTT_PROP_SUBSCRIPTION_ID:     /* 3.3.2.3.8, 3.8.2.1.2 */
        return p->u ? 0 : MQTT_ERR_BAD_PROPERTY_VALUE;
    default:
        return 0;
    }
}

static void index_prop(mqtt_props *o, const mqtt_prop *p)
{
    switch (p->id) {
    case MQTT_PROP_PAYLOAD_FORMAT: o->payload_format = (uint8_t)p->u; break;
    case MQTT_PROP_MESSAGE_EXPIRY: o->message_expiry = p->u; break;
    case MQTT_PROP_CONTENT_TYPE: o->content_type = p->s; break;
    case MQTT_PROP_RESPONSE_TOPIC: o->response_topic = p->s; break;
    case MQTT_PROP_CORRELATION_DATA: o->correlation_data = p->s; break;
    case MQTT_PROP_SUBSCRIPTION_ID:
        if (o->subscription_id_count++ == 0)
            o->subscription_id = p->u;
        break;
    case MQTT_PROP_SESSION_EXPIRY: o->session_expiry = p->u; break;
    case MQTT_PROP_ASSIGNED_CLIENT_ID: o->assigned_client_id = p->s; break;
    case MQTT_PROP_SERVER_KEEP_ALIVE: o->server_keep_alive = (uint16_t)p->u; break;
    case MQTT_PROP_AUTH_METHOD: o->auth_method = p->s; break;
    case MQTT_PROP_AUTH_DATA: o->auth_data = p->s; break;
    case MQTT_PROP_REQUEST_PROBLEM_INFO: o->request_problem_info = (uint8_t)p->u; break;
    case MQTT_PROP_WILL_DELAY: o->will_delay = p->u; break;
    case MQTT_PROP_REQUEST_RESPONSE_INFO: o->request_response_info = (uint8_t)p->u; break;
    case MQTT_PROP_RESPONSE_INFO: o->response_info = p->s; break;
    case MQTT_PROP_SERVER_REFERENCE: o->server_reference = p->s; break;
    case MQTT_PROP_REASON_STRING: o->reason_string = p->s; break;
    case MQTT_PROP_RECEIVE_MAXIMUM: o->receive_maximum = (uint16_t)p->u; break;
    case MQTT_PROP_TOPIC_ALIAS_MAXIMUM: o->topic_alias_maximum = (uint16_t)p->u; break;
    case MQTT_PROP_TOPIC_ALIAS: o->topic_alias = (uint16_t)p->u; break;
    case MQTT_PROP_MAXIMUM_QOS: o->maximum_qos = (uint8_t)p->u; break;
    case MQTT_PROP_RETAIN_AVAILABLE: o->retain_available = (uint8_t)p->u; break;
    case MQTT_PROP_USER_PROPERTY: o->user_property_count++; break;
    case MQTT_PROP_MAXIMUM_PACKET_SIZE: o->maximum_packet_size = p->u; break;
    case MQTT_PROP_WILDCARD_SUB_AVAILABLE: o->wildcard_sub_available = (uint8_t)p->u; break;
    case MQTT_PROP_SUB_ID_AVAILABLE: o->sub_id_available = (uint8_t)p->u; break;
    case MQTT_PROP_SHARED_SUB_AVAILABLE: o->shared_sub_available = (uint8_t)p->u; break;
    default: break;
    }
}

int mqtt_props_parse(mqtt_bytes raw, uint8_t ctx, mqtt_props *out)
{
    memset(out, 0, sizeof *out);
    out->raw = raw;
    mqtt_prop_iter it;
    mqtt_prop_iter_init_raw(&it, raw);
    mqtt_prop p;
    int rc;
    while ((rc = mqtt_prop_next(&it, &p)) > 0) {
        if (!mqtt_prop_allowed(p.id, ctx))
            return MQTT_ERR_BAD_PROPERTY;
        if (mqtt_props_has(out, p.id) && !mqtt_prop_repeatable(p.id, ctx))
            return MQTT_ERR_DUPLICATE_PROPERTY;
        rc = check_value(&p);
        if (rc < 0)
            return rc;
        out->present |= (uint64_t)1 << p.id;
        if (p.id == MQTT_PROP_USER_PROPERTY && out->user_property_count == UINT16_MAX)
            continue; /* count saturates; the iterator still sees them all */
        if (p.id == MQTT_PROP_SUBSCRIPTION_ID && out->subscription_id_count == UINT16_MAX)
            continue;
        index_prop(out, &p);
    }
    if (rc < 0)
        return rc;
    /* MQTT 5.0 3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3 */
    if (mqtt_props_has(out, MQTT_PROP_AUTH_DATA) && !mqtt_props_has(out, MQTT_PROP_AUTH_METHOD))
        return MQTT_ERR_AUTH_DATA_WITHOUT_METHOD;
    return 0;
}

static void write_prop(mqtt_writer *w, const mqtt_prop *p)
{
    uint8_t kind = p->kind ? p->kind : mqtt_prop_kind(p->id);
    wr_varint(w, p->id);
    switch (kind) {
    case MQTT_PK_BYTE: wr_u8(w, (uint8_t)p->u); break;
    case MQTT_PK_U16: wr_u16(w, (uint16_t)p->u); break;
    case MQTT_PK_U32: wr_u32(w, p->u); break;
    case MQTT_PK_VARINT: wr_varint(w, p->u); break;
    case MQTT_PK_STRING:
    case MQTT_PK_BINARY: wr_bin(w, p->s); break;
    case MQTT_PK_PAIR: wr_bin(w, p->s); wr_bin(w, p->v); break;
    default: w->invalid = true; break;
    }
}

void mqtt_props_write(mqtt_writer *w, const mqtt_props *props)
{
    if (!props->list) {
        wr_raw(w, props->raw.ptr, props->raw.len);
        return;
    }
    for (size_t i = 0; i < props->count; i++)
        write_prop(w, &props->list[i]);
}

ssize_t mqtt_props_encode(uint8_t *buf, size_t cap, const mqtt_prop *list, size_t count)
{
    mqtt_writer w = { buf, cap, 0, false };
    for (size_t i = 0; i < count; i++)
        write_prop(&w, &list[i]);
    if (w.invalid)
        return MQTT_ENC_INVALID;
    if (w.pos > cap)
        return MQTT_ENC_NO_SPACE;
    return (ssize_t)w.pos;
}
