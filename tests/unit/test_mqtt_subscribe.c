/* lib/mqtt SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK: entries walked in place, options and
 * reason codes checked per version. */
#include "test_mqtt_helpers.h"

static void test_subscribe_v311_entries_iterate_in_place(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V311, 0x82, "00 0a  00 03 'a/b' 01  00 01 '#' 02  00 03 '+/c' 00", &p) > 0);
    assert_int_equal(p.subscribe.packet_id, 10);
    assert_int_equal(p.subscribe.count, 3);
    mqtt_sub_iter it;
    mqtt_sub_entry e;
    mqtt_sub_iter_init(&it, &p);
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_bytes_equal(e.filter, "a/b");
    assert_int_equal(e.qos, 1);
    assert_ptr_equal(e.filter.ptr, t.b + 6); /* a view, not a copy */
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_bytes_equal(e.filter, "#");
    assert_int_equal(e.qos, 2);
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_bytes_equal(e.filter, "+/c");
    assert_int_equal(e.qos, 0);
    assert_int_equal(mqtt_sub_next(&it, &e), 0);
}

/* MQTT-3.8.3-3 / MQTT-3.10.3-2: at least one topic filter. */
static void test_MQTT_3_8_3_3_no_topic_filters(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01", &p), MQTT_ERR_NO_TOPIC_FILTERS);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00", &p), MQTT_ERR_NO_TOPIC_FILTERS);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0xa2, "00 01", &p), MQTT_ERR_NO_TOPIC_FILTERS);
    assert_string_equal(mqtt_error_name(MQTT_ERR_NO_TOPIC_FILTERS), "mqtt.no_topic_filters");
}

/* MQTT-3.8.3-4 (3.1.1): reserved option bits and QoS 3 make the packet malformed. */
static void test_MQTT_3_8_3_4_v311_reserved_option_bits_and_qos3(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 01 'a' 04", &p), MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 01 'a' 80", &p), MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 01 'a' 03", &p), MQTT_ERR_BAD_QOS);
    /* the options byte is missing */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 01 'a'", &p), MQTT_ERR_FIELD_OVERRUN);
    /* MQTT-2.2.2-1: SUBSCRIBE flags are 0010 */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x80, "00 01 00 01 'a' 00", &p), MQTT_ERR_BAD_FIXED_FLAGS);
}

/* 5.0 3.8.3.1: No Local, Retain As Published, Retain Handling; bits 6-7 reserved. */
static void test_v5_subscription_options(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0x82, "00 01 { 0b 05 } 00 01 'a' 2e", &p) > 0);
    assert_int_equal(p.subscribe.props.subscription_id, 5);
    mqtt_sub_iter it;
    mqtt_sub_entry e;
    mqtt_sub_iter_init(&it, &p);
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_int_equal(e.options, 0x2e);
    assert_int_equal(e.qos, 2);
    assert_true(e.no_local);
    assert_true(e.retain_as_published);
    assert_int_equal(e.retain_handling, 2);
    assert_int_equal(mqtt_sub_options(2, true, true, 2), 0x2e);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 01 'a' 30", &p), MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 01 'a' 40", &p), MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS);
    /* Subscription Identifier once only in SUBSCRIBE, and not 0 (5.0 3.8.2.1.2) */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 { 0b 05 0b 06 } 00 01 'a' 00", &p), MQTT_ERR_DUPLICATE_PROPERTY);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 { 0b 00 } 00 01 'a' 00", &p), MQTT_ERR_BAD_PROPERTY_VALUE);
}

/* MQTT-4.7.1-2 / MQTT-4.7.1-3 and MQTT-4.7.3-1 applied to each filter. */
static void test_MQTT_4_7_1_filters_checked_per_entry(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 01 'a' 00 00 05 'a/#/b' 00", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 02 'a+' 00", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 00 00", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0xa2, "00 01 00 02 '#a'", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_BAD_TOPIC_FILTER), 0x8F);
}

/* Shared subscriptions exist in 5.0 only; MQTT-3.8.3-4 (5.0): No Local on a share. */
static void test_shared_subscriptions_v5_only(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 0e '$share/g/a/+/b' 01", &p) > 0);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 0e '$share/g/a/+/b' 05", &p),
                     MQTT_ERR_NO_LOCAL_ON_SHARED);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 08 '$share/g' 00", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x82, "00 01 00 00 09 '$share//a' 00", &p), MQTT_ERR_BAD_TOPIC_FILTER);
    /* in 3.1.1 the same bytes are an ordinary filter */
    assert_true(th_decode_body(&t, MQTT_V311, 0x82, "00 01 00 08 '$share/g' 00", &p) > 0);
}

static void test_suback_codes_per_version(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V311, 0x90, "00 05 00 01 02 80", &p) > 0);
    assert_int_equal(p.suback.packet_id, 5);
    assert_int_equal(p.suback.reasons.len, 4);
    assert_int_equal(p.suback.reasons.ptr[3], 0x80);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x90, "00 05 87", &p), MQTT_ERR_BAD_REASON_CODE);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x90, "00 05", &p), MQTT_ERR_NO_TOPIC_FILTERS);
    assert_true(th_decode_body(&t, MQTT_V5, 0x90, "00 05 { 1f 00 01 'r' } 01 87 a2", &p) > 0);
    assert_bytes_equal(p.suback.props.reason_string, "r");
    assert_int_equal(p.suback.reasons.len, 3);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x90, "00 05 00 11", &p), MQTT_ERR_BAD_REASON_CODE);
}

static void test_unsubscribe_and_unsuback(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V311, 0xa2, "00 07 00 01 'a' 00 03 'b/#'", &p) > 0);
    assert_int_equal(p.type, MQTT_UNSUBSCRIBE);
    assert_int_equal(p.subscribe.count, 2);
    mqtt_sub_iter it;
    mqtt_sub_entry e;
    mqtt_sub_iter_init(&it, &p);
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_bytes_equal(e.filter, "a");
    assert_int_equal(e.options, 0);
    assert_int_equal(mqtt_sub_next(&it, &e), 1);
    assert_bytes_equal(e.filter, "b/#");
    assert_int_equal(mqtt_sub_next(&it, &e), 0);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0xa2, "00 00 00 01 'a'", &p), MQTT_ERR_ZERO_PACKET_ID);

    /* the iterator on another packet type yields nothing (the union holds no entries) */
    assert_true(th_decode_body(&t, MQTT_V311, 0x30, "00 01 't' 'payload'", &p) > 0);
    mqtt_sub_iter_init(&it, &p);
    assert_int_equal(mqtt_sub_next(&it, &e), 0);

    assert_int_equal(th_decode_hex(&t, MQTT_V311, "b0 02 00 07", &p), 4);
    assert_int_equal(p.suback.packet_id, 7);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "b0 03 00 07 00", &p), MQTT_ERR_TRAILING_BYTES);
    assert_true(th_decode_body(&t, MQTT_V5, 0xb0, "00 07 00 00 11", &p) > 0);
    assert_int_equal(p.suback.reasons.len, 2);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xb0, "00 07 00 02", &p), MQTT_ERR_BAD_REASON_CODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_subscribe_v311_entries_iterate_in_place),
        cmocka_unit_test(test_MQTT_3_8_3_3_no_topic_filters),
        cmocka_unit_test(test_MQTT_3_8_3_4_v311_reserved_option_bits_and_qos3),
        cmocka_unit_test(test_v5_subscription_options),
        cmocka_unit_test(test_MQTT_4_7_1_filters_checked_per_entry),
        cmocka_unit_test(test_shared_subscriptions_v5_only),
        cmocka_unit_test(test_suback_codes_per_version),
        cmocka_unit_test(test_unsubscribe_and_unsuback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
