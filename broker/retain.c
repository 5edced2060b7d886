/* broker/retain: the retained message store, one message per topic name, bounded. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

#include "net/loop.h"

/* Drop messages whose Message Expiry passed (MQTT-3.3.2-5: not sent after expiry). */
static void prune_expired(br_retain *r)
{
    uint64_t now = pn_now_ms();
    for (size_t i = 0; i < r->count;) {
        if (br_msg_expired(r->items[i], now)) {
            br_msg_unref(r->items[i]);
            r->items[i] = r->items[--r->count];
        } else {
            i++;
        }
    }
}

static size_t find(const br_retain *r, const char *topic, size_t len)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i]->topic_len == len && memcmp(r->items[i]->topic, topic, len) == 0)
            return i;
    return (size_t)-1;
}

int br_retain_put(br_retain *r, br_msg *msg)
{
    size_t i = find(r, msg->topic, msg->topic_len);
    if (msg->payload_len == 0) { /* MQTT-3.3.1-10/11: empty payload deletes */
        if (i != (size_t)-1) {
            br_msg_unref(r->items[i]);
            r->items[i] = r->items[--r->count];
        }
        return 0;
    }
    if (i != (size_t)-1) {
        br_msg_unref(r->items[i]);
        r->items[i] = br_msg_ref(msg);
        return 0;
    }
    if (r->count >= r->max)
        prune_expired(r);
    if (r->count >= r->max)
        return -1;
    if (r->count == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        br_msg **ni = realloc(r->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        r->items = ni;
        r->cap = ncap;
    }
    r->items[r->count++] = br_msg_ref(msg);
    return 0;
}

void br_retain_clear(br_retain *r)
{
    for (size_t i = 0; i < r->count; i++)
        br_msg_unref(r->items[i]);
    free(r->items);
    r->items = NULL;
    r->count = r->cap = 0;
}

void br_retain_match(const br_retain *r, const char *filter, size_t filter_len,
                     void (*fn)(void *ud, br_msg *m), void *ud)
{
    uint64_t now = pn_now_ms();
    for (size_t i = 0; i < r->count; i++)
        if (!br_msg_expired(r->items[i], now) &&
            mqtt_topic_match((const uint8_t *)filter, filter_len, (const uint8_t *)r->items[i]->topic,
                             r->items[i]->topic_len))
            fn(ud, r->items[i]);
}
