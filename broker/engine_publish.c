/* broker/engine_publish: inbound PUBLISH and acknowledgements, routing, and outbound delivery
 * with packet ids, the inflight window, the per-session queue and redelivery on resume. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "net/loop.h"

enum send_result { SENT = 0, FULL = 1, DROPPED = 2 };

/* ---- outbound ------------------------------------------------------------------------------ */

static uint16_t inflight_limit(const br_client *c)
{
    uint16_t lim = c->e->opts.max_inflight;
    return c->out_receive_max < lim ? c->out_receive_max : lim;
}

static bool client_live(const br_client *c) { return c && c->state == BR_C_CONNECTED; }

/* Encode and queue one PUBLISH. DROPPED: the message cannot go to this client (larger than its
 * Maximum Packet Size, MQTT-3.1.2-25, or expired): treat it as delivered. */
static enum send_result send_publish(br_client *c, const br_delivery *d, uint16_t packet_id, bool dup)
{
    br_engine *e = c->e;
    const br_msg *m = d->msg;
    uint64_t now = pn_now_ms();
    if (br_msg_expired(m, now))
        return DROPPED;
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBLISH);
    p.publish.topic.ptr = (const uint8_t *)m->topic;
    p.publish.topic.len = m->topic_len;
    p.publish.payload.ptr = m->payload;
    p.publish.payload.len = m->payload_len;
    p.publish.qos = d->qos;
    p.publish.retain = d->retain;
    p.publish.dup = dup;
    p.publish.packet_id = packet_id;

    uint8_t extra[8 + BR_SUBIDS_MAX * 6];
    uint8_t *props = NULL;
    if (c->level == MQTT_V5) {
        /* forwarded properties + what the engine re-creates: the remaining Message Expiry
         * (MQTT-3.3.2-6) and the identifiers of the matching subscriptions (MQTT-3.3.4-3) */
        mqtt_prop list[1 + BR_SUBIDS_MAX];
        size_t n = 0;
        memset(list, 0, sizeof list);
        if (m->expire_at_ms) {
            list[n].id = MQTT_PROP_MESSAGE_EXPIRY;
            list[n++].u = (uint32_t)((m->expire_at_ms - now + 999) / 1000);
        }
        for (uint8_t i = 0; i < d->nsub_ids; i++) {
            list[n].id = MQTT_PROP_SUBSCRIPTION_ID;
            list[n++].u = d->sub_ids[i];
        }
        ssize_t xl = n ? mqtt_props_encode(extra, sizeof extra, list, n) : 0;
        if (xl < 0)
            xl = 0;
        size_t total = m->props_len + (size_t)xl;
        if (total) {
            props = malloc(total);
            if (!props)
                return FULL;
            if (m->props_len)
                memcpy(props, m->props, m->props_len);
            memcpy(props + m->props_len, extra, (size_t)xl);
            p.publish.props.raw.ptr = props;
            p.publish.props.raw.len = total;
        }
    }
    enum send_result res = SENT;
    ssize_t size = mqtt_encode_size(c->level, &p);
    if (size < 0 || (size_t)size > c->out_max_packet) {
        res = DROPPED;
    } else {
        uint8_t *buf = malloc((size_t)size);
        if (!buf) {
            res = FULL;
        } else {
            ssize_t w = mqtt_encode(buf, (size_t)size, c->level, &p);
            if (w < 0)
                res = DROPPED;
            else if (e->ops.send(c->conn, buf, (size_t)w) < 0)
                res = FULL;
            free(buf);
        }
    }
    free(props);
    if (res == SENT)
        e->stats.messages_sent++;
    else if (res == DROPPED)
        e->stats.messages_dropped++;
    return res;
}

static int send_pubrel(br_client *c, uint16_t id, uint8_t reason)
{
    mqtt_packet p;
    mqtt_packet_init(&p, MQTT_PUBREL);
    p.ack.packet_id = id;
    p.ack.reason = c->level == MQTT_V5 ? reason : 0;
    return br_send_packet(c, &p);
}

/* Try to start a QoS>0 delivery now. SENT: it is inflight; FULL: keep it queued. */
static enum send_result start_delivery(br_client *c, br_delivery *d)
{
    br_session *s = c->session;
    uint16_t id = br_session_next_packet_id(s);
    if (!id)
        return FULL;
    enum send_result r = send_publish(c, d, id, false);
    if (r == SENT) {
        if (!br_session_inflight_add(s, d, id, d->qos == 1 ? BR_AWAIT_PUBACK : BR_AWAIT_PUBREC)) {
            br_delivery_release(d); /* sent but untracked: better than leaking */
        }
    } else if (r == DROPPED) {
        br_delivery_release(d);
    }
    return r;
}

void br_deliver(br_session *s, br_delivery *d)
{
    br_engine *e = s->e;
    br_client *c = s->client;
    if (br_msg_expired(d->msg, pn_now_ms())) { /* MQTT-3.3.2-5 */
        br_delivery_release(d);
        return;
    }
    if (d->qos == 0) {
        /* QoS 0 is never stored: sent now or dropped (offline, or the output buffer is full) */
        if (client_live(c)) {
            if (send_publish(c, d, 0, false) == FULL)
                e->stats.messages_dropped++;
        }
        br_delivery_release(d);
        return;
    }
    if (client_live(c) && s->qlen == 0 && !c->resending && s->ninflight < inflight_limit(c)) {
        if (start_delivery(c, d) != FULL)
            return;
    }
    br_session_enqueue(s, d);
}

void br_drain(br_client *c)
{
    br_session *s = c->session;
    if (!client_live(c) || !s)
        return;
    while (c->resending) {
        if (c->resend_next >= s->ninflight) {
            c->resending = false;
            break;
        }
        br_inflight *f = &s->inflight[c->resend_next];
        if (f->state == BR_AWAIT_PUBCOMP) {
            if (send_pubrel(c, f->packet_id, 0) < 0)
                return;
            c->resend_next++;
            continue;
        }
        enum send_result r = send_publish(c, &f->d, f->packet_id, true); /* MQTT-3.3.1-1: DUP */
        if (r == FULL)
            return; /* br_engine_writable resumes here */
        if (r == DROPPED)
            br_session_inflight_remove(s, f);
        else
            c->resend_next++;
    }
    br_delivery d;
    while (client_live(c) && s->ninflight < inflight_limit(c) && br_session_queue_front(s, &d)) {
        enum send_result r = start_delivery(c, &d);
        if (r == FULL)
            return;
        br_session_queue_pop(s);
    }
}

size_t br_route(br_engine *e, br_msg *msg, const br_session *origin)
{
    size_t matched = 0;
    for (br_session *s = e->sessions; s; s = s->next) {
        br_match m;
        br_subs_match(&s->subs, msg->topic, msg->topic_len, s == origin, &m);
        if (!m.matched)
            continue;
        matched++;
        br_delivery d = {
            .msg = br_msg_ref(msg),
            .qos = m.qos < msg->qos ? m.qos : msg->qos,
            /* MQTT-3.3.1-9 / v5 3.8.3.1: RETAIN only with Retain As Published */
            .retain = m.retain_as_published && msg->retain,
            .nsub_ids = m.nsub_ids,
        };
        memcpy(d.sub_ids, m.sub_ids, sizeof d.sub_ids);
        br_deliver(s, &d);
    }
    return matched;
}

/* Store a retained message (or delete one) and route it. */
static size_t publish_message(br_engine *e, br_msg *m, const br_session *origin)
{
    if (m->retain && br_retain_put(&e->retained, m) < 0)
        e->stats.messages_dropped++; /* store full: routed but not kept */
    return br_route(e, m, origin);
}

void br_publish_will(br_session *s, br_msg *will)
{
    br_engine *e = s->e;
    if (!br_acl_allows(e, s->username, s->client_id, s->has_addr ? (const struct sockaddr *)&s->addr : NULL,
                       will->topic, BR_ACL_WRITE))
        return;
    if (s->will_has_expiry && will->refs == 1)
        will->expire_at_ms = pn_now_ms() + (uint64_t)s->will_expiry_s * 1000u;
    publish_message(e, will, NULL);
}

/* ---- inbound ------------------------------------------------------------------------------- */

static void send_ack(br_client *c, uint8_t type, uint16_t id, uint8_t reason)
{
    mqtt_packet p;
    mqtt_packet_init(&p, type);
    p.ack.packet_id = id;
    p.ack.reason = c->level == MQTT_V5 ? reason : 0;
    br_send_packet(c, &p);
}

/* Resolve the v5 Topic Alias (MQTT-3.3.2-7..12): returns the topic to use or sets *err. */
static mqtt_bytes resolve_alias(br_client *c, const mqtt_publish *pub, int *err)
{
    mqtt_bytes topic = pub->topic;
    *err = 0;
    if (c->level != MQTT_V5 || !mqtt_props_has(&pub->props, MQTT_PROP_TOPIC_ALIAS))
        return topic;
    uint16_t alias = pub->props.topic_alias;
    if (alias == 0 || alias > c->alias_max) {
        *err = MQTT_ERR_TOPIC_ALIAS_INVALID;
        return topic;
    }
    if (topic.len) {
        char *copy = malloc(topic.len + 1);
        if (!copy) {
            *err = MQTT_ERR_PROTOCOL;
            return topic;
        }
        memcpy(copy, topic.ptr, topic.len);
        copy[topic.len] = '\0';
        free(c->aliases[alias]);
        c->aliases[alias] = copy;
        return topic;
    }
    if (!c->aliases[alias]) {
        *err = MQTT_ERR_TOPIC_ALIAS_INVALID;
        return topic;
    }
    return mqtt_cstr(c->aliases[alias]);
}

void br_handle_publish(br_client *c, const mqtt_packet *p)
{
    br_engine *e = c->e;
    br_session *s = c->session;
    const mqtt_publish *pub = &p->publish;
    if (!s) {
        br_protocol_close(c, MQTT_ERR_PROTOCOL);
        return;
    }
    if (c->level == MQTT_V5 && mqtt_props_has(&pub->props, MQTT_PROP_SUBSCRIPTION_ID)) {
        br_protocol_close(c, MQTT_ERR_PROTOCOL); /* MQTT-3.3.4-6: only the server sends it */
        return;
    }
    int err = 0;
    mqtt_bytes topic = resolve_alias(c, pub, &err);
    if (err) {
        br_protocol_close(c, err);
        return;
    }
    if (pub->qos == 2 && br_session_qos2_has(s, pub->packet_id)) {
        send_ack(c, MQTT_PUBREC, pub->packet_id, 0); /* duplicate: already delivered once */
        return;
    }
    if (pub->qos == 2 && s->nin_qos2 >= e->opts.receive_maximum) {
        if (c->level == MQTT_V5) { /* MQTT-3.3.4-9 */
            br_close_client(c, "mqtt.receive_maximum_exceeded", MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED);
            return;
        }
        if (s->nin_qos2 >= 65535u) {
            br_protocol_close(c, MQTT_ERR_PROTOCOL);
            return;
        }
    }

    uint8_t reason = MQTT_RC_SUCCESS;
    bool deliver = true;
    char *topic_str = malloc(topic.len + 1);
    if (!topic_str) {
        br_close_client(c, "send_buffer_full", MQTT_RC_IMPL_SPECIFIC_ERROR);
        return;
    }
    memcpy(topic_str, topic.ptr, topic.len);
    topic_str[topic.len] = '\0';
    if (c->level == MQTT_V5 && pub->props.payload_format == 1 &&
        !mqtt_utf8_valid(pub->payload.ptr, pub->payload.len)) {
        reason = MQTT_RC_PAYLOAD_FORMAT_INVALID; /* MQTT-3.3.2-4: refused, not forwarded */
        deliver = false;
    } else if (!br_acl_allows(e, c->username, c->client_id, c->has_addr ? (const struct sockaddr *)&c->addr : NULL,
                              topic_str, BR_ACL_WRITE)) {
        reason = MQTT_RC_NOT_AUTHORIZED;
        deliver = false;
        br_emit(c, BR_EV_ACL_DENY, "not_authorized", "publish refused by the ACL", MQTT_RC_NOT_AUTHORIZED,
                false, topic_str);
    }
    free(topic_str);

    if (deliver) {
        e->stats.messages_received++;
        uint8_t *fwd = NULL;
        mqtt_bytes props = { NULL, 0 };
        if (c->level == MQTT_V5 && pub->props.raw.len) {
            fwd = malloc(pub->props.raw.len);
            if (fwd) {
                props.ptr = fwd;
                props.len = br_props_forwardable(pub->props.raw, fwd);
            }
        }
        bool has_expiry = c->level == MQTT_V5 && mqtt_props_has(&pub->props, MQTT_PROP_MESSAGE_EXPIRY);
        br_msg *m = br_msg_new(topic.ptr, topic.len, pub->payload.ptr, pub->payload.len, pub->qos,
                               pub->retain, props, has_expiry, has_expiry ? pub->props.message_expiry : 0);
        free(fwd);
        if (!m) {
            br_close_client(c, "send_buffer_full", MQTT_RC_IMPL_SPECIFIC_ERROR);
            return;
        }
        size_t matched = publish_message(e, m, s);
        br_msg_unref(m);
        if (matched == 0 && reason == MQTT_RC_SUCCESS)
            reason = MQTT_RC_NO_MATCHING_SUBSCRIBERS;
    }
    if (c->state != BR_C_CONNECTED)
        return; /* delivering to ourselves may have closed us (buffer full) */
    if (pub->qos == 1) {
        send_ack(c, MQTT_PUBACK, pub->packet_id, reason);
    } else if (pub->qos == 2) {
        if (reason < 0x80 && br_session_qos2_add(s, pub->packet_id) < 0) {
            br_close_client(c, "send_buffer_full", MQTT_RC_IMPL_SPECIFIC_ERROR);
            return;
        }
        send_ack(c, MQTT_PUBREC, pub->packet_id, reason);
    }
}

void br_handle_ack(br_client *c, const mqtt_packet *p)
{
    br_session *s = c->session;
    if (!s)
        return;
    uint16_t id = p->ack.packet_id;
    switch (p->type) {
    case MQTT_PUBREL: { /* inbound QoS 2, step 2 */
        bool known = br_session_qos2_remove(s, id);
        send_ack(c, MQTT_PUBCOMP, id, known ? 0 : MQTT_RC_PACKET_ID_NOT_FOUND);
        return;
    }
    case MQTT_PUBACK: {
        br_inflight *f = br_session_inflight_find(s, id);
        if (f && f->state == BR_AWAIT_PUBACK)
            br_session_inflight_remove(s, f);
        break;
    }
    case MQTT_PUBREC: {
        br_inflight *f = br_session_inflight_find(s, id);
        if (!f || f->state == BR_AWAIT_PUBACK) {
            send_pubrel(c, id, MQTT_RC_PACKET_ID_NOT_FOUND);
            return;
        }
        if (c->level == MQTT_V5 && p->ack.reason >= 0x80) {
            br_session_inflight_remove(s, f); /* the receiver refused it: the flow ends here */
            break;
        }
        f->state = BR_AWAIT_PUBCOMP;
        br_delivery_release(&f->d); /* MQTT-4.3.3: the message itself is no longer needed */
        f->d.msg = NULL;
        send_pubrel(c, id, 0);
        return;
    }
    case MQTT_PUBCOMP: {
        br_inflight *f = br_session_inflight_find(s, id);
        if (f && f->state == BR_AWAIT_PUBCOMP)
            br_session_inflight_remove(s, f);
        break;
    }
    default:
        return;
    }
    br_drain(c); /* a slot may have opened */
}
