/* lib/mqtt PUBLISH and its acknowledgements (PUBACK, PUBREC, PUBREL, PUBCOMP). */
#include "test_mqtt_helpers.h"

static void test_publish_qos0_qos1_qos2_views(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x31, "00 03 'a/b' 'hello'", &p), 12);
    assert_int_equal(p.publish.qos, 0);
    assert_true(p.publish.retain);
    assert_false(p.publish.dup);
    assert_bytes_equal(p.publish.topic, "a/b");
    assert_bytes_equal(p.publish.payload, "hello");
    assert_int_equal(p.publish.packet_id, 0);

    assert_true(th_decode_body(&t, MQTT_V311, 0x3a, "00 01 't' 12 34 'x'", &p) > 0);
    assert_int_equal(p.publish.qos, 1);
    assert_true(p.publish.dup);
    assert_int_equal(p.publish.packet_id, 0x1234);
    assert_bytes_equal(p.publish.payload, "x");

    /* QoS 2 with an empty payload */
    assert_true(th_decode_body(&t, MQTT_V311, 0x34, "00 01 't' 00 07", &p) > 0);
    assert_int_equal(p.publish.qos, 2);
    assert_int_equal(p.publish.payload.len, 0);
    assert_non_null(p.publish.payload.ptr);
}

/* MQTT-3.3.1-2: DUP must be 0 for QoS 0. */
static void test_MQTT_3_3_1_2_dup_on_qos0(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x38, "00 01 't'", &p), MQTT_ERR_DUP_ON_QOS0);
}

/* MQTT-2.2.1-3 (5.0) / MQTT-2.3.1-1 (3.1.1): QoS > 0 needs a non-zero packet id. */
static void test_MQTT_2_2_1_3_zero_packet_id(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x32, "00 01 't' 00 00", &p), MQTT_ERR_ZERO_PACKET_ID);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "40 02 00 00", &p), MQTT_ERR_ZERO_PACKET_ID);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_ZERO_PACKET_ID), 0x82);
    /* packet id missing entirely */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x32, "00 01 't' 01", &p), MQTT_ERR_FIELD_OVERRUN);
}

/* MQTT-3.3.2-2: no wildcards in a topic name. */
static void test_MQTT_3_3_2_2_wildcards_in_topic_name(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x30, "00 03 'a/+'", &p), MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 '#' 00", &p), MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
    assert_string_equal(mqtt_error_name(MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH), "mqtt.topic_wildcard_in_publish");
    assert_int_equal(mqtt_error_reason(MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH), 0x90);
}

/* MQTT-4.7.3-1: topic names are at least one character; 5.0 allows an empty one only with a
 * Topic Alias (3.3.2.1). */
static void test_MQTT_4_7_3_1_empty_topic_name(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x30, "00 00 'x'", &p), MQTT_ERR_BAD_TOPIC_NAME);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 00 00 'x'", &p), MQTT_ERR_BAD_TOPIC_NAME);
    assert_true(th_decode_body(&t, MQTT_V5, 0x30, "00 00 { 23 00 05 } 'x'", &p) > 0);
    assert_int_equal(p.publish.props.topic_alias, 5);
    assert_bytes_equal(p.publish.payload, "x");
}

static void test_publish_v5_message_properties(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0x32,
        "00 03 'a/b' 00 01 {"
        " 01 01  02 00 00 01 00  03 00 0a 'text/plain'  08 00 05 'reply'  09 00 02 ca fe"
        " 26 00 01 'a' 00 01 'b'  26 00 01 'c' 00 00  0b 07  0b 80 01 } 'payload'", &p) > 0);
    const mqtt_props *pr = &p.publish.props;
    assert_int_equal(pr->payload_format, 1);
    assert_int_equal(pr->message_expiry, 256);
    assert_bytes_equal(pr->content_type, "text/plain");
    assert_bytes_equal(pr->response_topic, "reply");
    assert_int_equal(pr->correlation_data.len, 2);
    assert_int_equal(pr->user_property_count, 2);
    /* several subscription identifiers in one PUBLISH (5.0 3.3.4) */
    assert_int_equal(pr->subscription_id_count, 2);
    assert_int_equal(pr->subscription_id, 7);
    assert_bytes_equal(p.publish.payload, "payload");

    mqtt_prop_iter it;
    mqtt_prop_iter_init(&it, pr);
    mqtt_bytes k, v;
    assert_int_equal(mqtt_user_prop_next(&it, &k, &v), 1);
    assert_bytes_equal(k, "a");
    assert_bytes_equal(v, "b");
    assert_int_equal(mqtt_user_prop_next(&it, &k, &v), 1);
    assert_bytes_equal(k, "c");
    assert_int_equal(v.len, 0);
    assert_int_equal(mqtt_user_prop_next(&it, &k, &v), 0);

    /* all sub ids, in order */
    mqtt_prop_iter_init(&it, pr);
    mqtt_prop one;
    uint32_t ids[2];
    int nids = 0;
    while (mqtt_prop_next(&it, &one) > 0)
        if (one.id == MQTT_PROP_SUBSCRIPTION_ID)
            ids[nids++] = one.u;
    assert_int_equal(nids, 2);
    assert_int_equal(ids[1], 128);
}

/* MQTT-3.3.2-14 (response topic is a topic name) and MQTT-3.3.2-8 (topic alias 0). */
static void test_MQTT_3_3_2_publish_property_values(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 08 00 03 'a/#' }", &p),
                     MQTT_ERR_BAD_PROPERTY_VALUE);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 23 00 00 }", &p),
                     MQTT_ERR_BAD_PROPERTY_VALUE);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 01 02 }", &p),
                     MQTT_ERR_BAD_PROPERTY_VALUE);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 0b 00 }", &p),
                     MQTT_ERR_BAD_PROPERTY_VALUE);
    /* properties of other packets */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 11 00 00 00 01 }", &p),
                     MQTT_ERR_BAD_PROPERTY);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 18 00 00 00 01 }", &p),
                     MQTT_ERR_BAD_PROPERTY);
    /* once only */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x30, "00 01 't' { 23 00 01 23 00 02 }", &p),
                     MQTT_ERR_DUPLICATE_PROPERTY);
}

/* In 3.1.1 the property bytes are just payload. */
static void test_v311_publish_has_no_properties(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V311, 0x30, "00 01 't' 00", &p) > 0);
    assert_int_equal(p.publish.payload.len, 1);
    assert_int_equal(p.publish.props.present, 0);
}

static void test_acks_v311(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    static const uint8_t firsts[] = { 0x40, 0x50, 0x62, 0x70 };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(th_decode_body(&t, MQTT_V311, firsts[i], "ab cd", &p), 4);
        assert_int_equal(p.type, (firsts[i] >> 4));
        assert_int_equal(p.ack.packet_id, 0xabcd);
        assert_int_equal(th_decode_body(&t, MQTT_V311, firsts[i], "ab cd 00", &p), MQTT_ERR_TRAILING_BYTES);
        assert_int_equal(th_decode_body(&t, MQTT_V311, firsts[i], "ab", &p), MQTT_ERR_FIELD_OVERRUN);
    }
    /* MQTT-2.2.2-1: PUBREL flags are 0010 */
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "60 02 00 01", &p), MQTT_ERR_BAD_FIXED_FLAGS);
}

/* 5.0 3.4.2.1: reason code and properties may be left out. */
static void test_acks_v5_short_and_long_forms(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "40 02 00 01", &p), 4);
    assert_int_equal(p.ack.reason, 0);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "40 03 00 01 10", &p), 5);
    assert_int_equal(p.ack.reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
    assert_true(th_decode_body(&t, MQTT_V5, 0x50, "00 01 87 { 1f 00 02 'no' }", &p) > 0);
    assert_int_equal(p.ack.reason, MQTT_RC_NOT_AUTHORIZED);
    assert_bytes_equal(p.ack.props.reason_string, "no");
    assert_true(th_decode_body(&t, MQTT_V5, 0x62, "00 01 92 00", &p) > 0);
    assert_int_equal(p.ack.reason, MQTT_RC_PACKET_ID_NOT_FOUND);
    /* 0x92 belongs to PUBREL/PUBCOMP, 0x10 to PUBACK/PUBREC */
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "40 03 00 01 92", &p), MQTT_ERR_BAD_REASON_CODE);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "70 03 00 01 10", &p), MQTT_ERR_BAD_REASON_CODE);
    /* only Reason String and User Property are allowed */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x40, "00 01 00 { 23 00 01 }", &p), MQTT_ERR_BAD_PROPERTY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_publish_qos0_qos1_qos2_views),
        cmocka_unit_test(test_MQTT_3_3_1_2_dup_on_qos0),
        cmocka_unit_test(test_MQTT_2_2_1_3_zero_packet_id),
        cmocka_unit_test(test_MQTT_3_3_2_2_wildcards_in_topic_name),
        cmocka_unit_test(test_MQTT_4_7_3_1_empty_topic_name),
        cmocka_unit_test(test_publish_v5_message_properties),
        cmocka_unit_test(test_MQTT_3_3_2_publish_property_values),
        cmocka_unit_test(test_v311_publish_has_no_properties),
        cmocka_unit_test(test_acks_v311),
        cmocka_unit_test(test_acks_v5_short_and_long_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
