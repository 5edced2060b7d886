/* broker/session: MQTT session state that outlives a connection (in memory): the client id
 * table, subscriptions, outbound inflight and queue, inbound QoS 2 ids, will and expiry. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "net/loop.h"

/* ---- the client id table ----------------------------------------------------------------- */

static size_t hash_id(const char *s, size_t size)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)(h % size);
}

static int table_grow(br_engine *e)
{
    size_t nsize = e->table_size ? e->table_size * 2 : 64;
    br_session **nt = calloc(nsize, sizeof *nt);
    if (!nt)
        return -1;
    for (br_session *s = e->sessions; s; s = s->next) {
        size_t h = hash_id(s->client_id, nsize);
        s->hnext = nt[h];
        nt[h] = s;
    }
    free(e->table);
    e->table = nt;
    e->table_size = nsize;
    return 0;
}

br_session *br_session_find(br_engine *e, const char *client_id)
{
    if (!e->table_size)
        return NULL;
    for (br_session *s = e->table[hash_id(client_id, e->table_size)]; s; s = s->hnext)
        if (strcmp(s->client_id, client_id) == 0)
            return s;
    return NULL;
}

br_session *br_session_create(br_engine *e, const char *client_id)
{
    if (e->nsessions + 1 > e->table_size && table_grow(e) < 0)
        return NULL;
    br_session *s = ppb_freelist_get(&e->session_blocks);
    if (!s)
        return NULL;
    s->client_id = strdup(client_id);
    if (!s->client_id) {
        ppb_freelist_put(&e->session_blocks, s);
        return NULL;
    }
    s->e = e;
    s->username_source = "none";
    s->next_packet_id = 1;
    s->next = e->sessions;
    if (e->sessions)
        e->sessions->prev = s;
    e->sessions = s;
    size_t h = hash_id(client_id, e->table_size);
    s->hnext = e->table[h];
    e->table[h] = s;
    e->nsessions++;
    return s;
}

void br_delivery_release(br_delivery *d)
{
    br_msg_unref(d->msg);
    d->msg = NULL;
}

void br_session_destroy(br_session *s)
{
    br_engine *e = s->e;
    if (s->expiry_timer)
        pn_timer_cancel(e->loop, s->expiry_timer);
    if (s->will_timer)
        pn_timer_cancel(e->loop, s->will_timer);
    if (s->client)
        s->client->session = NULL;
    /* unlink */
    if (s->prev)
        s->prev->next = s->next;
    else
        e->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    br_session **pp = &e->table[hash_id(s->client_id, e->table_size)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = s->hnext;
    e->nsessions--;

    br_subs_clear(&s->subs);
    for (size_t i = 0; i < s->ninflight; i++)
        br_delivery_release(&s->inflight[i].d);
    free(s->inflight);
    for (size_t i = 0; i < s->qlen; i++)
        br_delivery_release(&s->queue[(s->qhead + i) % s->qcap]);
    free(s->queue);
    free(s->in_qos2);
    br_msg_unref(s->will);
    free(s->username);
    free(s->client_id);
    ppb_freelist_put(&s->e->session_blocks, s);
}

void br_session_end(br_session *s)
{
    if (s->will) { /* a delayed will goes out when the session ends first (MQTT 5 3.1.3.2.2) */
        br_msg *w = s->will;
        s->will = NULL;
        if (s->will_timer) {
            pn_timer_cancel(s->e->loop, s->will_timer);
            s->will_timer = 0;
            br_publish_will(s, w);
        }
        br_msg_unref(w);
    }
    br_session_destroy(s);
}

static void on_will_timer(pn_loop *loop, uint64_t id, void *ud)
{
    (void)loop;
    (void)id;
    br_session *s = ud;
    br_engine *e = s->e;
    br_enter(e);
    s->will_timer = 0;
    br_msg *w = s->will;
    s->will = NULL;
    if (w) {
        br_publish_will(s, w);
        br_msg_unref(w);
    }
    br_leave(e);
}

static void on_expiry_timer(pn_loop *loop, uint64_t id, void *ud)
{
    (void)loop;
    (void)id;
    br_session *s = ud;
    br_engine *e = s->e;
    br_enter(e);
    s->expiry_timer = 0;
    br_session_end(s);
    br_leave(e);
}

void br_session_went_offline(br_session *s, bool abnormal)
{
    br_engine *e = s->e;
    if (!abnormal && s->will) {
        br_msg_unref(s->will);
        s->will = NULL;
    }
    if (s->expiry_s == 0) {
        if (s->will) { /* the session ends now, so a delayed will is due now too */
            br_msg *w = s->will;
            s->will = NULL;
            br_publish_will(s, w);
            br_msg_unref(w);
        }
        br_session_destroy(s);
        return;
    }
    if (s->will && s->will_delay_s == 0) {
        br_msg *w = s->will;
        s->will = NULL;
        br_publish_will(s, w);
        br_msg_unref(w);
    } else if (s->will) { /* delayed; if the session expires first, br_session_end sends it */
        uint32_t delay = s->will_delay_s < s->expiry_s ? s->will_delay_s : s->expiry_s;
        s->will_timer = pn_timer_add(e->loop, (uint64_t)delay * 1000u, on_will_timer, s);
    }
    if (s->expiry_s != BR_NEVER_EXPIRES)
        s->expiry_timer = pn_timer_add(e->loop, (uint64_t)s->expiry_s * 1000u, on_expiry_timer, s);
}

void br_session_resumed(br_session *s)
{
    br_engine *e = s->e;
    if (s->expiry_timer) {
        pn_timer_cancel(e->loop, s->expiry_timer);
        s->expiry_timer = 0;
    }
    if (s->will_timer) { /* MQTT-3.1.3-9: reconnect before the delay: the will is not sent */
        pn_timer_cancel(e->loop, s->will_timer);
        s->will_timer = 0;
    }
    br_msg_unref(s->will);
    s->will = NULL;
}

/* ---- inbound QoS 2 ids ------------------------------------------------------------------- */

bool br_session_qos2_has(const br_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->nin_qos2; i++)
        if (s->in_qos2[i] == id)
            return true;
    return false;
}

int br_session_qos2_add(br_session *s, uint16_t id)
{
    if (s->nin_qos2 == s->in_qos2_cap) {
        size_t ncap = s->in_qos2_cap ? s->in_qos2_cap * 2 : 8;
        uint16_t *n = realloc(s->in_qos2, ncap * sizeof *n);
        if (!n)
            return -1;
        s->in_qos2 = n;
        s->in_qos2_cap = ncap;
    }
    s->in_qos2[s->nin_qos2++] = id;
    return 0;
}

bool br_session_qos2_remove(br_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->nin_qos2; i++)
        if (s->in_qos2[i] == id) {
            s->in_qos2[i] = s->in_qos2[--s->nin_qos2];
            return true;
        }
    return false;
}

/* ---- outbound queue and inflight ----------------------------------------------------------- */

int br_session_enqueue(br_session *s, const br_delivery *d)
{
    br_engine *e = s->e;
    if (s->qlen >= e->opts.max_queued) {
        br_delivery copy = *d;
        br_delivery_release(&copy);
        e->stats.messages_dropped++;
        return -1;
    }
    if (s->qlen == s->qcap) {
        size_t ncap = s->qcap ? s->qcap * 2 : 8;
        br_delivery *nq = malloc(ncap * sizeof *nq);
        if (!nq) {
            br_delivery copy = *d;
            br_delivery_release(&copy);
            e->stats.messages_dropped++;
            return -1;
        }
        for (size_t i = 0; i < s->qlen; i++)
            nq[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = nq;
        s->qcap = ncap;
        s->qhead = 0;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = *d;
    s->qlen++;
    return 0;
}

bool br_session_queue_front(br_session *s, br_delivery *out)
{
    if (!s->qlen)
        return false;
    *out = s->queue[s->qhead];
    return true;
}

void br_session_queue_pop(br_session *s)
{
    if (!s->qlen)
        return;
    s->qhead = (s->qhead + 1) % s->qcap;
    s->qlen--;
}

br_inflight *br_session_inflight_add(br_session *s, const br_delivery *d, uint16_t id, uint8_t state)
{
    if (s->ninflight == s->inflight_cap) {
        size_t ncap = s->inflight_cap ? s->inflight_cap * 2 : 8;
        br_inflight *n = realloc(s->inflight, ncap * sizeof *n);
        if (!n)
            return NULL;
        s->inflight = n;
        s->inflight_cap = ncap;
    }
    br_inflight *f = &s->inflight[s->ninflight++];
    f->d = *d;
    f->packet_id = id;
    f->state = state;
    return f;
}

br_inflight *br_session_inflight_find(br_session *s, uint16_t id)
{
    for (size_t i = 0; i < s->ninflight; i++)
        if (s->inflight[i].packet_id == id)
            return &s->inflight[i];
    return NULL;
}

void br_session_inflight_remove(br_session *s, br_inflight *f)
{
    size_t i = (size_t)(f - s->inflight);
    br_delivery_release(&f->d);
    /* keep the order: resends after a resume go out in the original order (MQTT-4.6.0-1) */
    memmove(&s->inflight[i], &s->inflight[i + 1], (s->ninflight - i - 1) * sizeof *f);
    s->ninflight--;
    if (s->client && s->client->resending && s->client->resend_next > i)
        s->client->resend_next--;
}

uint16_t br_session_next_packet_id(br_session *s)
{
    for (unsigned tries = 0; tries < 65536u; tries++) {
        uint16_t id = s->next_packet_id;
        s->next_packet_id = (uint16_t)(id == 65535 ? 1 : id + 1);
        if (id != 0 && !br_session_inflight_find(s, id))
            return id;
    }
    return 0;
}
