/* lib/mqtt topic names, topic filters, matching (+, #, $-topics) and $share parsing. */
#include "test_mqtt_helpers.h"

#define S(s) (const uint8_t *)(s), strlen(s)

static bool match(const char *f, const char *t) { return mqtt_topic_match(S(f), S(t)); }

/* MQTT-4.7.3-1 and MQTT-3.3.2-2 */
static void test_topic_name_check(void **state)
{
    (void)state;
    assert_int_equal(mqtt_topic_name_check(S("a/b/c")), 0);
    assert_int_equal(mqtt_topic_name_check(S("/")), 0);
    assert_int_equal(mqtt_topic_name_check(S("$SYS/x")), 0);
    assert_int_equal(mqtt_topic_name_check(S(" ")), 0);
    assert_int_equal(mqtt_topic_name_check(S("")), MQTT_ERR_BAD_TOPIC_NAME);
    assert_int_equal(mqtt_topic_name_check(S("a/+")), MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
    assert_int_equal(mqtt_topic_name_check(S("a#")), MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
    assert_int_equal(mqtt_topic_name_check((const uint8_t *)"a\0b", 3), MQTT_ERR_INVALID_UTF8);
}

/* MQTT-4.7.1-2 ('#' last and alone) and MQTT-4.7.1-3 ('+' a whole level) */
static void test_MQTT_4_7_1_topic_filter_check(void **state)
{
    (void)state;
    static const char *good[] = { "#", "+", "a/#", "+/+", "/+", "a//b", "sport/+/player1", "+/tennis/#", "/", "a/+/#" };
    static const char *bad[] = { "", "a#", "a/#/b", "#/", "a+", "+a", "a/b+/c", "##", "a/++" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(mqtt_topic_filter_check(S(good[i])), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(mqtt_topic_filter_check(S(bad[i])), MQTT_ERR_BAD_TOPIC_FILTER);
}

/* The examples of MQTT 3.1.1 section 4.7.1.2 and 4.7.1.3 */
static void test_spec_examples_multi_and_single_level(void **state)
{
    (void)state;
    assert_true(match("sport/tennis/player1/#", "sport/tennis/player1"));
    assert_true(match("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
    assert_true(match("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
    assert_true(match("sport/#", "sport"));
    assert_true(match("#", "anything/at/all"));
    assert_true(match("sport/tennis/+", "sport/tennis/player1"));
    assert_false(match("sport/tennis/+", "sport/tennis/player1/ranking"));
    assert_false(match("sport/+", "sport"));
    assert_true(match("sport/+", "sport/"));
    assert_true(match("+/+", "/finance"));
    assert_true(match("/+", "/finance"));
    assert_false(match("+", "/finance"));
    assert_true(match("a/b", "a/b"));
    assert_false(match("a/b", "a/bc"));
    assert_false(match("a/b", "a"));
    assert_false(match("a", "a/b"));
    assert_false(match("a/", "a"));
    assert_true(match("a/+/c", "a//c"));
    assert_true(match("+/+/#", "x/y"));
}

/* MQTT-4.7.2-1: a filter starting with a wildcard does not match $-topics. */
static void test_MQTT_4_7_2_1_dollar_topics(void **state)
{
    (void)state;
    assert_false(match("#", "$SYS/broker/uptime"));
    assert_false(match("+/monitor/Clients", "$SYS/monitor/Clients"));
    assert_true(match("$SYS/#", "$SYS/monitor/Clients"));
    assert_true(match("$SYS/monitor/+", "$SYS/monitor/Clients"));
    assert_true(match("a/#", "a/$b"));
}

/* MQTT 5.0 4.8.2: $share/{ShareName}/{filter} */
static void test_shared_subscription_parse_and_match(void **state)
{
    (void)state;
    mqtt_bytes g, f;
    assert_int_equal(mqtt_shared_parse(S("$share/grp/a/+"), &g, &f), 1);
    assert_bytes_equal(g, "grp");
    assert_bytes_equal(f, "a/+");
    assert_int_equal(mqtt_shared_parse(S("a/b"), &g, &f), 0);
    assert_int_equal(mqtt_shared_parse(S("$share"), &g, &f), 0);
    assert_int_equal(mqtt_shared_parse(S("$share/"), &g, &f), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_shared_parse(S("$share/grp"), &g, &f), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_shared_parse(S("$share/grp/"), &g, &f), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_shared_parse(S("$share/g+/a"), &g, &f), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_shared_parse(S("$share/g/a#"), &g, &f), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_topic_filter_check(S("$share/g/#")), 0);
    assert_int_equal(mqtt_topic_filter_check(S("$share/g")), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_true(match("$share/g/a/+", "a/b"));
    assert_false(match("$share/g/a/+", "$share/g/a/b"));
    assert_true(match("$share/g/#", "x"));
}

static void test_match_is_bounded_by_lengths(void **state)
{
    (void)state;
    /* not NUL-terminated: the lengths decide */
    const uint8_t f[] = { 'a', '/', '+', 'X' };
    const uint8_t t[] = { 'a', '/', 'b', 'Y' };
    assert_true(mqtt_topic_match(f, 3, t, 3));
    assert_false(mqtt_topic_match(f, 4, t, 4));
    assert_false(mqtt_topic_match(f, 0, t, 3));
    assert_false(mqtt_topic_match(f, 3, t, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topic_name_check),
        cmocka_unit_test(test_MQTT_4_7_1_topic_filter_check),
        cmocka_unit_test(test_spec_examples_multi_and_single_level),
        cmocka_unit_test(test_MQTT_4_7_2_1_dollar_topics),
        cmocka_unit_test(test_shared_subscription_parse_and_match),
        cmocka_unit_test(test_match_is_bounded_by_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
