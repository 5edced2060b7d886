/* broker/topic: a session's subscriptions and matching a topic against them. A flat list per
 * session with mqtt_topic_match: simple and correct; routing visits each session once. */
#include "engine_internal.h"

#include <stdlib.h>
#include <string.h>

static br_sub *find(br_sub_list *l, const uint8_t *filter, size_t len)
{
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i].filter_len == len && memcmp(l->items[i].filter, filter, len) == 0)
            return &l->items[i];
    return NULL;
}

int br_subs_put(br_sub_list *l, const br_sub *sub, bool *existed)
{
    br_sub *old = find(l, (const uint8_t *)sub->filter, sub->filter_len);
    *existed = old != NULL;
    if (old) {
        char *keep = old->filter;
        *old = *sub;
        old->filter = keep; /* same bytes */
        return 0;
    }
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        br_sub *ni = realloc(l->items, ncap * sizeof *ni);
        if (!ni)
            return -1;
        l->items = ni;
        l->cap = ncap;
    }
    char *copy = malloc(sub->filter_len + 1);
    if (!copy)
        return -1;
    memcpy(copy, sub->filter, sub->filter_len);
    copy[sub->filter_len] = '\0';
    br_sub *n = &l->items[l->count++];
    *n = *sub;
    n->filter = copy;
    return 0;
}

bool br_subs_remove(br_sub_list *l, const uint8_t *filter, size_t len)
{
    br_sub *s = find(l, filter, len);
    if (!s)
        return false;
    free(s->filter);
    size_t i = (size_t)(s - l->items);
    memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof *s);
    l->count--;
    return true;
}

void br_subs_clear(br_sub_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].filter);
    free(l->items);
    memset(l, 0, sizeof *l);
}

void br_subs_match(const br_sub_list *l, const char *topic, size_t topic_len, bool from_self,
                   br_match *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < l->count; i++) {
        const br_sub *s = &l->items[i];
        if (s->no_local && from_self)
            continue; /* MQTT-3.8.3-3: not to the connection that published it */
        if (!mqtt_topic_match((const uint8_t *)s->filter, s->filter_len, (const uint8_t *)topic,
                              topic_len))
            continue;
        out->matched = true;
        if (s->qos > out->qos)
            out->qos = s->qos;
        if (s->retain_as_published)
            out->retain_as_published = true;
        if (s->sub_id && out->nsub_ids < BR_SUBIDS_MAX)
            out->sub_ids[out->nsub_ids++] = s->sub_id;
    }
}
