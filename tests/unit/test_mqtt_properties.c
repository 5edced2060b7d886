/* lib/mqtt v5 properties: the identifier table, allowed packets, duplicates, value ranges,
 * the iterator, and encoding from a list. */
#include "test_mqtt_helpers.h"

static int parse_hex(const char *hex, uint8_t ctx, mqtt_props *out, uint8_t *buf, size_t cap)
{
    size_t n = th_hex(hex, buf, cap);
    return mqtt_props_parse((mqtt_bytes){ buf, n }, ctx, out);
}

static void test_identifier_table(void **state)
{
    (void)state;
    static const uint8_t known[] = { 0x01, 0x02, 0x03, 0x08, 0x09, 0x0B, 0x11, 0x12, 0x13, 0x15, 0x16,
                                     0x17, 0x18, 0x19, 0x1A, 0x1C, 0x1F, 0x21, 0x22, 0x23, 0x24, 0x25,
                                     0x26, 0x27, 0x28, 0x29, 0x2A };
    int count = 0;
    for (unsigned id = 0; id < 256; id++) {
        bool is_known = memchr(known, (int)id, sizeof known) != NULL;
        assert_int_equal(mqtt_prop_kind((uint8_t)id) != MQTT_PK_NONE, is_known);
        assert_int_equal(mqtt_prop_name((uint8_t)id) != NULL, is_known);
        count += is_known;
    }
    assert_int_equal(count, 27);
    assert_string_equal(mqtt_prop_name(MQTT_PROP_SESSION_EXPIRY), "session_expiry_interval");
    assert_int_equal(mqtt_prop_kind(MQTT_PROP_SUBSCRIPTION_ID), MQTT_PK_VARINT);
    assert_int_equal(mqtt_prop_kind(MQTT_PROP_USER_PROPERTY), MQTT_PK_PAIR);
    assert_int_equal(mqtt_prop_kind(MQTT_PROP_CORRELATION_DATA), MQTT_PK_BINARY);
}

/* MQTT 5.0 2.2.2.2, table 2-4 */
static void test_allowed_and_repeatable(void **state)
{
    (void)state;
    assert_true(mqtt_prop_allowed(MQTT_PROP_WILL_DELAY, MQTT_PROP_CTX_WILL));
    assert_false(mqtt_prop_allowed(MQTT_PROP_WILL_DELAY, MQTT_CONNECT));
    assert_true(mqtt_prop_allowed(MQTT_PROP_SESSION_EXPIRY, MQTT_DISCONNECT));
    assert_false(mqtt_prop_allowed(MQTT_PROP_SESSION_EXPIRY, MQTT_PUBLISH));
    assert_true(mqtt_prop_allowed(MQTT_PROP_REASON_STRING, MQTT_PUBCOMP));
    assert_false(mqtt_prop_allowed(MQTT_PROP_REASON_STRING, MQTT_CONNECT));
    assert_false(mqtt_prop_allowed(MQTT_PROP_USER_PROPERTY, MQTT_PINGREQ));
    assert_true(mqtt_prop_allowed(MQTT_PROP_USER_PROPERTY, MQTT_UNSUBSCRIBE));
    assert_false(mqtt_prop_allowed(0x04, MQTT_CONNECT));
    assert_true(mqtt_prop_repeatable(MQTT_PROP_USER_PROPERTY, MQTT_CONNECT));
    assert_true(mqtt_prop_repeatable(MQTT_PROP_SUBSCRIPTION_ID, MQTT_PUBLISH));
    assert_false(mqtt_prop_repeatable(MQTT_PROP_SUBSCRIPTION_ID, MQTT_SUBSCRIBE));
    assert_false(mqtt_prop_repeatable(MQTT_PROP_TOPIC_ALIAS, MQTT_PUBLISH));
}

static void test_unknown_and_misplaced_identifiers(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    assert_int_equal(parse_hex("04 00", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY);
    assert_int_equal(parse_hex("00", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY);
    assert_int_equal(parse_hex("12 00 01 'a'", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY);
    /* a two-byte identifier is a Variable Byte Integer but no such property exists */
    assert_int_equal(parse_hex("81 01 00", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY);
    assert_string_equal(mqtt_error_name(MQTT_ERR_BAD_PROPERTY), "mqtt.bad_property");
    assert_int_equal(mqtt_error_reason(MQTT_ERR_BAD_PROPERTY), 0x81);
}

/* e.g. 5.0 3.1.2.11.2: "It is a Protocol Error to include the Session Expiry Interval more than once" */
static void test_duplicates(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    assert_int_equal(parse_hex("11 00 00 00 01 11 00 00 00 02", MQTT_CONNECT, &pr, b, sizeof b),
                     MQTT_ERR_DUPLICATE_PROPERTY);
    assert_int_equal(parse_hex("15 00 01 'm' 15 00 01 'm'", MQTT_AUTH, &pr, b, sizeof b),
                     MQTT_ERR_DUPLICATE_PROPERTY);
    assert_int_equal(parse_hex("26 00 01 'k' 00 01 'v' 26 00 01 'k' 00 01 'v'", MQTT_CONNECT, &pr, b, sizeof b), 0);
    assert_int_equal(pr.user_property_count, 2);
    assert_string_equal(mqtt_error_name(MQTT_ERR_DUPLICATE_PROPERTY), "mqtt.duplicate_property");
    assert_int_equal(mqtt_error_reason(MQTT_ERR_DUPLICATE_PROPERTY), 0x82);
}

static void test_value_ranges(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    /* 0 is a protocol error for Receive Maximum and Maximum Packet Size (3.1.2.11.3, .4) */
    assert_int_equal(parse_hex("21 00 00", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY_VALUE);
    assert_int_equal(parse_hex("27 00 00 00 00", MQTT_CONNACK, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY_VALUE);
    /* every byte property is 0 or 1 */
    static const uint8_t bytes_connack[] = { 0x24, 0x25, 0x28, 0x29, 0x2A };
    for (size_t i = 0; i < sizeof bytes_connack; i++) {
        uint8_t raw[2] = { bytes_connack[i], 1 };
        assert_int_equal(mqtt_props_parse((mqtt_bytes){ raw, 2 }, MQTT_CONNACK, &pr), 0);
        raw[1] = 2;
        assert_int_equal(mqtt_props_parse((mqtt_bytes){ raw, 2 }, MQTT_CONNACK, &pr), MQTT_ERR_BAD_PROPERTY_VALUE);
    }
    assert_int_equal(parse_hex("17 02", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY_VALUE);
    assert_int_equal(parse_hex("19 ff", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_BAD_PROPERTY_VALUE);
    /* Topic Alias Maximum 0 is fine (no aliases) */
    assert_int_equal(parse_hex("22 00 00", MQTT_CONNECT, &pr, b, sizeof b), 0);
    assert_true(mqtt_props_has(&pr, MQTT_PROP_TOPIC_ALIAS_MAXIMUM));
}

static void test_strings_and_pairs_are_utf8(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    assert_int_equal(parse_hex("1f 00 02 c3 28", MQTT_PUBACK, &pr, b, sizeof b), MQTT_ERR_INVALID_UTF8);
    assert_int_equal(parse_hex("26 00 01 00 00 01 'v'", MQTT_PUBACK, &pr, b, sizeof b), MQTT_ERR_INVALID_UTF8);
    assert_int_equal(parse_hex("26 00 01 'k' 00 01 00", MQTT_PUBACK, &pr, b, sizeof b), MQTT_ERR_INVALID_UTF8);
    /* binary data may hold anything */
    assert_int_equal(parse_hex("09 00 02 00 ff", MQTT_PUBLISH, &pr, b, sizeof b), 0);
}

static void test_truncated_values_and_varints(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    assert_int_equal(parse_hex("11 00 00 00", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_FIELD_OVERRUN);
    assert_int_equal(parse_hex("1f 00 05 'abc'", MQTT_PUBACK, &pr, b, sizeof b), MQTT_ERR_FIELD_OVERRUN);
    assert_int_equal(parse_hex("26 00 01 'k'", MQTT_PUBACK, &pr, b, sizeof b), MQTT_ERR_FIELD_OVERRUN);
    assert_int_equal(parse_hex("0b ff ff ff ff 01", MQTT_PUBLISH, &pr, b, sizeof b), MQTT_ERR_MALFORMED_VARINT);
    assert_int_equal(parse_hex("0b 80 00", MQTT_PUBLISH, &pr, b, sizeof b), MQTT_ERR_MALFORMED_VARINT);
    assert_int_equal(parse_hex("0b ff ff ff 7f", MQTT_PUBLISH, &pr, b, sizeof b), 0);
    assert_int_equal(pr.subscription_id, 268435455);
}

/* The property length itself inside a packet. */
static void test_property_length_in_packets(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    /* non-minimal property length */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xe0, "00 80 00", &p), MQTT_ERR_MALFORMED_VARINT);
    /* longer than what is left */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xe0, "00 05 1f 00 01 'a'", &p), MQTT_ERR_FIELD_OVERRUN);
    /* shorter than the property inside it */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xe0, "00 03 1f 00 01 'a'", &p), MQTT_ERR_FIELD_OVERRUN);
    assert_string_equal(mqtt_error_name(MQTT_ERR_MALFORMED_VARINT), "mqtt.malformed_varint");
}

/* 5.0 3.1.2.11.10: Authentication Data needs an Authentication Method. */
static void test_auth_data_without_method(void **state)
{
    (void)state;
    uint8_t b[256];
    mqtt_props pr;
    assert_int_equal(parse_hex("16 00 01 'x'", MQTT_CONNECT, &pr, b, sizeof b), MQTT_ERR_AUTH_DATA_WITHOUT_METHOD);
    assert_int_equal(parse_hex("16 00 01 'x' 15 00 01 'm'", MQTT_CONNECT, &pr, b, sizeof b), 0);
    assert_bytes_equal(pr.auth_method, "m");
    assert_bytes_equal(pr.auth_data, "x");
}

static void test_iterator_reports_errors_on_unchecked_blocks(void **state)
{
    (void)state;
    uint8_t raw[] = { 0x23, 0x00, 0x05, 0x04, 0x00 };
    mqtt_prop_iter it;
    mqtt_prop_iter_init_raw(&it, (mqtt_bytes){ raw, sizeof raw });
    mqtt_prop pp;
    assert_int_equal(mqtt_prop_next(&it, &pp), 1);
    assert_int_equal(pp.id, MQTT_PROP_TOPIC_ALIAS);
    assert_int_equal(pp.u, 5);
    assert_int_equal(mqtt_prop_next(&it, &pp), MQTT_ERR_BAD_PROPERTY);
    /* an empty or NULL block simply ends */
    mqtt_prop_iter_init_raw(&it, (mqtt_bytes){ NULL, 0 });
    assert_int_equal(mqtt_prop_next(&it, &pp), 0);
}

static void test_encode_list_then_parse(void **state)
{
    (void)state;
    const mqtt_prop list[] = {
        { .id = MQTT_PROP_SESSION_EXPIRY, .u = 0xFFFFFFFF },
        { .id = MQTT_PROP_RECEIVE_MAXIMUM, .u = 10 },
        { .id = MQTT_PROP_REQUEST_PROBLEM_INFO, .u = 0 },
        { .id = MQTT_PROP_AUTH_METHOD, .s = mqtt_cstr("PLAIN") },
        { .id = MQTT_PROP_USER_PROPERTY, .s = mqtt_cstr("key"), .v = mqtt_cstr("value") },
    };
    uint8_t buf[128];
    ssize_t n = mqtt_props_encode(buf, sizeof buf, list, 5);
    assert_int_equal(n, 5 + 3 + 2 + 8 + 13);
    assert_memory_equal(buf, "\x11\xff\xff\xff\xff\x21\x00\x0a\x17\x00\x15\x00\x05PLAIN\x26\x00\x03key\x00\x05value", (size_t)n);
    mqtt_props pr;
    assert_int_equal(mqtt_props_parse((mqtt_bytes){ buf, (size_t)n }, MQTT_CONNECT, &pr), 0);
    assert_int_equal(pr.session_expiry, 0xFFFFFFFF);
    assert_int_equal(pr.receive_maximum, 10);
    assert_bytes_equal(pr.auth_method, "PLAIN");
    for (size_t cap = 0; cap < (size_t)n; cap++)
        assert_int_equal(mqtt_props_encode(buf, cap, list, 5), MQTT_ENC_NO_SPACE);
    const mqtt_prop unknown = { .id = 0x04, .u = 1 };
    assert_int_equal(mqtt_props_encode(buf, sizeof buf, &unknown, 1), MQTT_ENC_INVALID);
    /* with an explicit kind any id can be written (for negative tests) */
    const mqtt_prop forced = { .id = 0x04, .kind = MQTT_PK_BYTE, .u = 1 };
    assert_int_equal(mqtt_props_encode(buf, sizeof buf, &forced, 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identifier_table),
        cmocka_unit_test(test_allowed_and_repeatable),
        cmocka_unit_test(test_unknown_and_misplaced_identifiers),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_value_ranges),
        cmocka_unit_test(test_strings_and_pairs_are_utf8),
        cmocka_unit_test(test_truncated_values_and_varints),
        cmocka_unit_test(test_property_length_in_packets),
        cmocka_unit_test(test_auth_data_without_method),
        cmocka_unit_test(test_iterator_reports_errors_on_unchecked_blocks),
        cmocka_unit_test(test_encode_list_then_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
