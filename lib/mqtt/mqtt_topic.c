/* Topic names, topic filters, matching and shared subscriptions (MQTT 3.1.1 4.7, 5.0 4.7-4.8). */
#include "mqtt_internal.h"

static const char SHARE_PREFIX[] = "$share/";
#define SHARE_PREFIX_LEN (sizeof SHARE_PREFIX - 1)

int mqtt_topic_name_check(const uint8_t *s, size_t len)
{
    if (len == 0)
        return MQTT_ERR_BAD_TOPIC_NAME; /* MQTT-4.7.3-1 */
    if (!mqtt_utf8_valid(s, len))
        return MQTT_ERR_INVALID_UTF8;
    if (memchr(s, '+', len) || memchr(s, '#', len))
        return MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH; /* MQTT-3.3.2-2 */
    return 0;
}

int mqtt_plain_filter_check(const uint8_t *s, size_t len)
{
    if (len == 0)
        return MQTT_ERR_BAD_TOPIC_FILTER; /* MQTT-4.7.3-1 */
    if (!mqtt_utf8_valid(s, len))
        return MQTT_ERR_INVALID_UTF8;
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        if (s[i] == '+' && (!level_start || (i + 1 < len && s[i + 1] != '/')))
            return MQTT_ERR_BAD_TOPIC_FILTER; /* MQTT-4.7.1-3: '+' fills a whole level */
        if (s[i] == '#' && (!level_start || i + 1 != len))
            return MQTT_ERR_BAD_TOPIC_FILTER; /* MQTT-4.7.1-2: '#' alone and last */
    }
    return 0;
}

int mqtt_shared_parse(const uint8_t *s, size_t len, mqtt_bytes *group, mqtt_bytes *filter)
{
    if (len < SHARE_PREFIX_LEN || memcmp(s, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0)
        return 0;
    const uint8_t *g = s + SHARE_PREFIX_LEN;
    size_t rest = len - SHARE_PREFIX_LEN;
    const uint8_t *slash = memchr(g, '/', rest);
    /* 5.0 4.8.2: ShareName non-empty, no '/', '+' or '#', then '/' and a Topic Filter */
    if (!slash || slash == g)
        return MQTT_ERR_BAD_TOPIC_FILTER;
    size_t glen = (size_t)(slash - g);
    if (memchr(g, '+', glen) || memchr(g, '#', glen))
        return MQTT_ERR_BAD_TOPIC_FILTER;
    const uint8_t *f = slash + 1;
    size_t flen = rest - glen - 1;
    if (mqtt_plain_filter_check(f, flen) < 0)
        return MQTT_ERR_BAD_TOPIC_FILTER;
    if (group)
        *group = (mqtt_bytes){ g, glen };
    if (filter)
        *filter = (mqtt_bytes){ f, flen };
    return 1;
}

int mqtt_topic_filter_check(const uint8_t *s, size_t len)
{
    if (len > 0 && !mqtt_utf8_valid(s, len))
        return MQTT_ERR_INVALID_UTF8;
    int shared = mqtt_shared_parse(s, len, NULL, NULL);
    if (shared < 0)
        return shared;
    return shared ? 0 : mqtt_plain_filter_check(s, len);
}

/* Length of the level starting at s[i] (up to the next '/' or the end). */
static size_t level_end(const uint8_t *s, size_t len, size_t i)
{
    while (i < len && s[i] != '/')
        i++;
    return i;
}

bool mqtt_topic_match(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen)
{
    mqtt_bytes inner;
    if (mqtt_shared_parse(filter, flen, NULL, &inner) == 1) {
        filter = inner.ptr;
        flen = inner.len;
    }
    if (flen == 0 || tlen == 0)
        return false;
    /* MQTT-4.7.2-1: wildcards at the first level do not match $-topics */
    if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#'))
        return false;

    size_t fi = 0, ti = 0;
    bool topic_done = false;
    for (;;) {
        size_t fe = level_end(filter, flen, fi);
        if (fe - fi == 1 && filter[fi] == '#')
            return true; /* the rest, including the parent level ("a/#" matches "a") */
        if (topic_done)
            return false;
        size_t te = level_end(topic, tlen, ti);
        bool plus = fe - fi == 1 && filter[fi] == '+';
        if (!plus && (fe - fi != te - ti || memcmp(filter + fi, topic + ti, fe - fi) != 0))
            return false;
        bool filter_last = fe == flen, topic_last = te == tlen;
        if (filter_last)
            return topic_last;
        fi = fe + 1;
        if (topic_last)
            topic_done = true;
        else
            ti = te + 1;
    }
}
