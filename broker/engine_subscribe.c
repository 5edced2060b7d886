/* broker/engine_subscribe: SUBSCRIBE (per-filter results, retained delivery per Retain
 * Handling) and UNSUBSCRIBE. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct retained_ctx {
    br_session *s;
    uint8_t qos;
    uint32_t sub_id;
} retained_ctx;

static void deliver_retained(void *ud, br_msg *m)
{
    retained_ctx *ctx = ud;
    br_delivery d = {
        .msg = br_msg_ref(m),
        .qos = m->qos < ctx->qos ? m->qos : ctx->qos,
        .retain = true, /* MQTT-3.3.1-8: retained messages sent on subscribe carry RETAIN */
        .nsub_ids = ctx->sub_id ? 1 : 0,
        .sub_ids = { ctx->sub_id },
    };
    br_deliver(ctx->s, &d);
}

#define SUB_BATCH_MAX 65535 /* a SUBSCRIBE cannot hold more entries than fit in its length */

void br_handle_subscribe(br_client *c, const mqtt_packet *p)
{
    br_engine *e = c->e;
    br_session *s = c->session;
    bool v5 = c->level == MQTT_V5;
    size_t n = p->subscribe.count;
    if (!s || n == 0 || n > SUB_BATCH_MAX) {
        br_protocol_close(c, MQTT_ERR_PROTOCOL);
        return;
    }
    uint8_t *codes = malloc(n);
    /* which entries want retained messages, decided before the SUBACK but sent after it */
    uint8_t *send_retained = calloc(n, 1);
    if (!codes || !send_retained) {
        free(codes);
        free(send_retained);
        br_close_client(c, "send_buffer_full", MQTT_RC_IMPL_SPECIFIC_ERROR);
        return;
    }
    uint32_t sub_id = v5 && mqtt_props_has(&p->subscribe.props, MQTT_PROP_SUBSCRIPTION_ID)
                          ? p->subscribe.props.subscription_id
                          : 0;
    mqtt_sub_iter it;
    mqtt_sub_iter_init(&it, p);
    mqtt_sub_entry en;
    size_t i = 0;
    while (i < n && mqtt_sub_next(&it, &en) == 1) {
        uint8_t fail = v5 ? MQTT_RC_UNSPECIFIED_ERROR : 0x80;
        mqtt_bytes group, inner;
        char *filter = malloc(en.filter.len + 1);
        if (!filter) {
            codes[i++] = fail;
            continue;
        }
        memcpy(filter, en.filter.ptr, en.filter.len);
        filter[en.filter.len] = '\0';
        if (mqtt_topic_filter_check(en.filter.ptr, en.filter.len) < 0) {
            codes[i] = v5 ? MQTT_RC_TOPIC_FILTER_INVALID : 0x80;
        } else if (mqtt_shared_parse(en.filter.ptr, en.filter.len, &group, &inner) != 0) {
            codes[i] = v5 ? MQTT_RC_SHARED_SUBS_NOT_SUPPORTED : 0x80;
        } else if (!br_acl_allows(e, c->username, c->client_id,
                                  c->has_addr ? (const struct sockaddr *)&c->addr : NULL, filter,
                                  BR_ACL_READ)) {
            codes[i] = v5 ? MQTT_RC_NOT_AUTHORIZED : 0x80;
            br_emit(c, BR_EV_ACL_DENY, "not_authorized", "subscription refused by the ACL",
                    MQTT_RC_NOT_AUTHORIZED, false, filter);
        } else {
            br_sub sub = {
                .filter = filter,
                .filter_len = en.filter.len,
                .qos = en.qos,
                .no_local = v5 && en.no_local,
                .retain_as_published = v5 && en.retain_as_published,
                .retain_handling = v5 ? en.retain_handling : 0,
                .sub_id = sub_id,
            };
            bool existed = false;
            bool exists_already = false;
            for (size_t k = 0; k < s->subs.count; k++)
                if (s->subs.items[k].filter_len == en.filter.len &&
                    memcmp(s->subs.items[k].filter, filter, en.filter.len) == 0)
                    exists_already = true;
            if (!exists_already && s->subs.count >= e->opts.max_subscriptions) {
                codes[i] = v5 ? MQTT_RC_QUOTA_EXCEEDED : 0x80;
            } else if (br_subs_put(&s->subs, &sub, &existed) < 0) {
                codes[i] = fail;
            } else {
                codes[i] = en.qos; /* granted as requested: QoS 2 is supported */
                /* 0: always; 1: only for a new subscription; 2: never (MQTT-3.3.1-9..11) */
                send_retained[i] = sub.retain_handling == 0 || (sub.retain_handling == 1 && !existed);
            }
        }
        free(filter);
        i++;
    }
    while (i < n)
        codes[i++] = v5 ? MQTT_RC_UNSPECIFIED_ERROR : 0x80;

    mqtt_packet ack;
    mqtt_packet_init(&ack, MQTT_SUBACK);
    ack.suback.packet_id = p->subscribe.packet_id;
    ack.suback.reasons.ptr = codes;
    ack.suback.reasons.len = n;
    if (br_send_packet(c, &ack) == 0) {
        mqtt_sub_iter_init(&it, p);
        for (i = 0; i < n && mqtt_sub_next(&it, &en) == 1; i++) {
            if (!send_retained[i] || c->state != BR_C_CONNECTED)
                continue;
            retained_ctx ctx = { s, codes[i], sub_id };
            br_retain_match(&e->retained, (const char *)en.filter.ptr, en.filter.len, deliver_retained, &ctx);
        }
    }
    free(codes);
    free(send_retained);
}

void br_handle_unsubscribe(br_client *c, const mqtt_packet *p)
{
    br_session *s = c->session;
    size_t n = p->subscribe.count;
    if (!s || n == 0 || n > SUB_BATCH_MAX) {
        br_protocol_close(c, MQTT_ERR_PROTOCOL);
        return;
    }
    uint8_t *codes = malloc(n);
    if (!codes) {
        br_close_client(c, "send_buffer_full", MQTT_RC_IMPL_SPECIFIC_ERROR);
        return;
    }
    mqtt_sub_iter it;
    mqtt_sub_iter_init(&it, p);
    mqtt_sub_entry en;
    size_t i = 0;
    while (i < n && mqtt_sub_next(&it, &en) == 1) {
        bool removed = br_subs_remove(&s->subs, en.filter.ptr, en.filter.len);
        codes[i++] = removed ? MQTT_RC_SUCCESS : MQTT_RC_NO_SUBSCRIPTION_EXISTED;
    }
    while (i < n)
        codes[i++] = MQTT_RC_UNSPECIFIED_ERROR;
    mqtt_packet ack;
    mqtt_packet_init(&ack, MQTT_UNSUBACK);
    ack.suback.packet_id = p->subscribe.packet_id;
    ack.suback.reasons.ptr = codes;
    ack.suback.reasons.len = c->level == MQTT_V5 ? n : 0; /* 3.1.1 UNSUBACK has no payload */
    br_send_packet(c, &ack);
    free(codes);
}
