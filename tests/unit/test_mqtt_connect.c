/* lib/mqtt CONNECT, CONNACK, DISCONNECT and AUTH: protocol name and level, connect flags,
 * client identifier rules, and the reason codes a broker answers with. */
#include "test_mqtt_helpers.h"

/* Requirements Appendix A.2: the two CONNECTs a PROXY receiver sees when no header came. */
static void test_appendix_A2_mqtt311_connect_14_bytes(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", &p), 14);
    assert_int_equal(p.type, MQTT_CONNECT);
    assert_int_equal(p.level, MQTT_V311);
    assert_bytes_equal(p.connect.protocol_name, "MQTT");
    assert_int_equal(p.connect.protocol_level, 4);
    assert_true(p.connect.clean_start);
    assert_false(p.connect.will);
    assert_false(p.connect.has_username);
    assert_int_equal(p.connect.keep_alive, 60);
    assert_int_equal(p.connect.client_id.len, 0);
}

static void test_appendix_A2_mqtt5_connect_15_bytes(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    /* the level passed in does not matter for CONNECT: the packet carries its own */
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 00 00", &p), 15);
    assert_int_equal(p.level, MQTT_V5);
    assert_int_equal(p.connect.protocol_level, 5);
    assert_int_equal(p.connect.props.raw.len, 0);
    assert_int_equal(p.connect.props.present, 0);
    assert_int_equal(p.connect.keep_alive, 60);
    assert_int_equal(p.connect.client_id.len, 0);
}

static void test_full_v311_connect_with_will_user_and_password(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    /* flags: user, password, will retain, will QoS 1, will, clean = 0xEE */
    assert_true(th_decode_body(&t, MQTT_V311, 0x10,
        "00 04 'MQTT' 04 ee 01 2c  00 03 'cid'  00 05 'a/b/c'  00 03 'bye'  00 05 'alice'  00 02 's3'", &p) > 0);
    const mqtt_connect *c = &p.connect;
    assert_int_equal(c->flags, 0xEE);
    assert_true(c->clean_start && c->will && c->will_retain && c->has_username && c->has_password);
    assert_int_equal(c->will_qos, 1);
    assert_int_equal(c->keep_alive, 300);
    assert_bytes_equal(c->client_id, "cid");
    assert_bytes_equal(c->will_topic, "a/b/c");
    assert_bytes_equal(c->will_payload, "bye");
    assert_bytes_equal(c->username, "alice");
    assert_bytes_equal(c->password, "s3");
}

static void test_v5_connect_properties_and_will_properties(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0x10,
        "00 04 'MQTT' 05 c6 00 0a"
        " 16 11 00 00 0e 10  21 00 14  27 00 00 10 00  26 00 01 'k' 00 01 'v' 17 01"
        " 00 02 'id'"
        " 0c 18 00 00 00 05  01 01  02 00 00 00 3c"
        " 00 01 't'  00 00  00 01 'u'  00 01 'p'", &p) > 0);
    const mqtt_connect *c = &p.connect;
    assert_int_equal(c->props.session_expiry, 3600);
    assert_int_equal(c->props.receive_maximum, 20);
    assert_int_equal(c->props.maximum_packet_size, 4096);
    assert_int_equal(c->props.user_property_count, 1);
    assert_int_equal(c->props.request_problem_info, 1);
    assert_true(mqtt_props_has(&c->props, MQTT_PROP_REQUEST_PROBLEM_INFO));
    assert_false(mqtt_props_has(&c->props, MQTT_PROP_TOPIC_ALIAS_MAXIMUM));
    assert_int_equal(c->will_props.will_delay, 5);
    assert_int_equal(c->will_props.payload_format, 1);
    assert_int_equal(c->will_props.message_expiry, 60);
    assert_bytes_equal(c->will_topic, "t");
    assert_int_equal(c->will_payload.len, 0);
    assert_bytes_equal(c->username, "u");
    assert_bytes_equal(c->password, "p");
}

/* MQTT-3.1.2-1: an unknown protocol name; the broker may close without CONNACK (3.1.1) or
 * answer 0x84 (5.0). */
static void test_MQTT_3_1_2_1_bad_protocol_name(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTX' 04 02 00 3c 00 00", &p),
                     MQTT_ERR_BAD_PROTOCOL_NAME);
    assert_string_equal(mqtt_error_name(MQTT_ERR_BAD_PROTOCOL_NAME), "mqtt.bad_protocol_name");
    assert_int_equal(mqtt_error_connack_v3(MQTT_ERR_BAD_PROTOCOL_NAME), -1);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_BAD_PROTOCOL_NAME), 0x84);
    /* "HTTP" request bytes: fails on the name, not by reading past the end */
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "10 04 'GET '", &p), MQTT_ERR_FIELD_OVERRUN);
}

/* MQTT-3.1.2-2: unsupported level -> CONNACK 0x01 (3.1.1) / 0x84 (5.0); the decoder reports
 * the level so the broker can pick the right CONNACK format. */
static void test_MQTT_3_1_2_2_unsupported_level_reports_level(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 06 02 00 3c 00 00", &p),
                     MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL);
    assert_int_equal(p.type, MQTT_CONNECT);
    assert_int_equal(p.connect.protocol_level, 6);
    assert_int_equal(mqtt_error_connack_v3(MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL), 0x01);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL), 0x84);
    /* "MQTT" with level 3 and "MQIsdp" with level 4 do not go together */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 03 02 00 3c 00 00", &p),
                     MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 06 'MQIsdp' 04 02 00 3c 00 01 'a'", &p),
                     MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL);
}

static void test_mqtt31_connect_and_its_client_id_length(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V311, 0x10, "00 06 'MQIsdp' 03 02 00 3c 00 01 'a'", &p) > 0);
    assert_int_equal(p.level, MQTT_V31);
    assert_int_equal(th_decode_body(&t, MQTT_V31, 0x10, "00 06 'MQIsdp' 03 02 00 3c 00 00", &p),
                     MQTT_ERR_BAD_CLIENT_ID);
    assert_true(th_decode_body(&t, MQTT_V31, 0x10,
                "00 06 'MQIsdp' 03 02 00 3c 00 17 '12345678901234567890123'", &p) > 0);
    assert_int_equal(th_decode_body(&t, MQTT_V31, 0x10,
                "00 06 'MQIsdp' 03 02 00 3c 00 18 '123456789012345678901234'", &p), MQTT_ERR_BAD_CLIENT_ID);
    assert_int_equal(mqtt_error_connack_v3(MQTT_ERR_BAD_CLIENT_ID), 0x02);
}

/* MQTT-3.1.2-3: the reserved connect flag must be 0. */
static void test_MQTT_3_1_2_3_reserved_connect_flag(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 03 00 3c 00 00", &p),
                     MQTT_ERR_BAD_CONNECT_FLAGS);
    assert_string_equal(mqtt_error_name(MQTT_ERR_BAD_CONNECT_FLAGS), "mqtt.bad_connect_flags");
    assert_int_equal(mqtt_error_reason(MQTT_ERR_BAD_CONNECT_FLAGS), 0x81);
}

/* MQTT-3.1.2-13 / MQTT-3.1.2-15: will QoS and retain need the will flag;
 * MQTT-3.1.2-14: will QoS 3. */
static void test_MQTT_3_1_2_13_14_15_will_flags(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 0a 00 3c 00 00", &p),
                     MQTT_ERR_BAD_CONNECT_FLAGS); /* QoS 1 without will */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 22 00 3c 00 00", &p),
                     MQTT_ERR_BAD_CONNECT_FLAGS); /* retain without will */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10,
                     "00 04 'MQTT' 04 1e 00 3c 00 00 00 01 't' 00 00", &p), MQTT_ERR_BAD_QOS);
}

/* MQTT-3.1.2-22: 3.1.1 forbids a password without a user name; 5.0 allows it. */
static void test_MQTT_3_1_2_22_password_without_username(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 42 00 3c 00 00 00 01 'p'", &p),
                     MQTT_ERR_BAD_CONNECT_FLAGS);
    assert_true(th_decode_body(&t, MQTT_V5, 0x10, "00 04 'MQTT' 05 42 00 3c 00 00 00 00 01 'p'", &p) > 0);
    assert_true(p.connect.has_password);
    assert_false(p.connect.has_username);
    assert_bytes_equal(p.connect.password, "p");
}

/* MQTT-3.1.3-8: zero-byte client id with clean session 0 -> CONNACK 0x02 (3.1.1 only). */
static void test_MQTT_3_1_3_8_empty_client_id_needs_clean_session(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 00 00 3c 00 00", &p),
                     MQTT_ERR_BAD_CLIENT_ID);
    assert_true(th_decode_body(&t, MQTT_V5, 0x10, "00 04 'MQTT' 05 00 00 3c 00 00 00", &p) > 0);
}

/* MQTT-1.5.4-1 / MQTT-1.5.4-2 (5.0), MQTT-1.5.3-1 / -2 (3.1.1): strings are UTF-8 without
 * U+0000 or surrogates. */
static void test_MQTT_1_5_4_strings_must_be_valid_utf8(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 02 00 3c 00 02 61 00", &p),
                     MQTT_ERR_INVALID_UTF8);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 82 00 3c 00 00 00 03 ed a0 80", &p),
                     MQTT_ERR_INVALID_UTF8); /* U+D800 in the user name */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 02 00 3c 00 02 c0 80", &p),
                     MQTT_ERR_INVALID_UTF8); /* overlong NUL */
    /* the password is binary: anything goes */
    assert_true(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 c2 00 3c 00 00 00 01 'u' 00 02 00 ff", &p) > 0);
    assert_string_equal(mqtt_error_name(MQTT_ERR_INVALID_UTF8), "mqtt.invalid_utf8");
}

static void test_utf8_validator_edges(void **state)
{
    (void)state;
    uint8_t buf[8];
    size_t n;
    n = th_hex("f4 8f bf bf", buf, sizeof buf); /* U+10FFFF */
    assert_true(mqtt_utf8_valid(buf, n));
    n = th_hex("f4 90 80 80", buf, sizeof buf); /* above U+10FFFF */
    assert_false(mqtt_utf8_valid(buf, n));
    n = th_hex("e0 80 80", buf, sizeof buf); /* overlong */
    assert_false(mqtt_utf8_valid(buf, n));
    n = th_hex("ef bb bf", buf, sizeof buf); /* U+FEFF is allowed (MQTT-1.5.4-3) */
    assert_true(mqtt_utf8_valid(buf, n));
    n = th_hex("e2 82", buf, sizeof buf); /* truncated */
    assert_false(mqtt_utf8_valid(buf, n));
    n = th_hex("80", buf, sizeof buf);
    assert_false(mqtt_utf8_valid(buf, n));
    n = th_hex("ff", buf, sizeof buf);
    assert_false(mqtt_utf8_valid(buf, n));
    assert_true(mqtt_utf8_valid(buf, 0));
}

static void test_will_topic_must_be_a_topic_name(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 06 00 3c 00 00 00 03 'a/#' 00 00", &p),
                     MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH);
}

static void test_truncated_and_trailing_connect(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    /* user name flag set, user name missing */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 82 00 3c 00 00", &p),
                     MQTT_ERR_FIELD_OVERRUN);
    /* string length beyond the packet */
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 02 00 3c 00 05 'ab'", &p),
                     MQTT_ERR_FIELD_OVERRUN);
    assert_int_equal(th_decode_body(&t, MQTT_V311, 0x10, "00 04 'MQTT' 04 02 00 3c 00 00 00", &p),
                     MQTT_ERR_TRAILING_BYTES);
    /* v5 without the property length */
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0x10, "00 04 'MQTT' 05 02 00 3c", &p),
                     MQTT_ERR_FIELD_OVERRUN);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_FIELD_OVERRUN), 0x81);
}

static void test_connack_v311(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 01 00", &p), 4);
    assert_true(p.connack.session_present);
    assert_int_equal(p.connack.reason, 0);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 00 05", &p), 4);
    assert_int_equal(p.connack.reason, MQTT_V3_NOT_AUTHORIZED);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 00 06", &p), MQTT_ERR_BAD_REASON_CODE);
    /* MQTT-3.2.2-1: reserved acknowledge flags; MQTT-3.2.2-4: session present with an error */
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 02 00", &p), MQTT_ERR_BAD_CONNACK_FLAGS);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 01 02", &p), MQTT_ERR_BAD_CONNACK_FLAGS);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 03 00 00 00", &p), MQTT_ERR_TRAILING_BYTES);
}

static void test_connack_v5_properties(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0x20,
        "00 00 14 12 00 03 'gen' 13 00 1e 24 01 25 00 22 00 0a 28 00 2a 01", &p) > 0);
    assert_bytes_equal(p.connack.props.assigned_client_id, "gen");
    assert_int_equal(p.connack.props.server_keep_alive, 30);
    assert_int_equal(p.connack.props.maximum_qos, 1);
    assert_true(mqtt_props_has(&p.connack.props, MQTT_PROP_RETAIN_AVAILABLE));
    assert_int_equal(p.connack.props.retain_available, 0);
    assert_int_equal(p.connack.props.topic_alias_maximum, 10);
    assert_int_equal(p.connack.props.shared_sub_available, 1);
    /* a v5 reason code; 0x01 is not a CONNACK code in 5.0 */
    assert_true(th_decode_hex(&t, MQTT_V5, "20 03 00 84 00", &p) > 0);
    assert_int_equal(p.connack.reason, MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "20 03 00 01 00", &p), MQTT_ERR_BAD_REASON_CODE);
    /* a 3.1.1-only server refusing a 5.0 CONNECT: not a v5 CONNACK, but a valid 3.1.1 one */
    assert_true(th_decode_hex(&t, MQTT_V5, "20 02 00 01", &p) < 0);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "20 02 00 01", &p), 4);
    assert_int_equal(p.connack.reason, MQTT_V3_BAD_PROTOCOL_VERSION);
    /* MQTT-3.2.2-6: session present must be 0 with a failure */
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "20 03 01 87 00", &p), MQTT_ERR_BAD_CONNACK_FLAGS);
}

static void test_disconnect_v311_and_v5_forms(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "e0 00", &p), 2);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "e0 01 00", &p), MQTT_ERR_TRAILING_BYTES);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "e0 00", &p), 2);
    assert_int_equal(p.disconnect.reason, 0);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "e0 01 04", &p), 3);
    assert_int_equal(p.disconnect.reason, MQTT_RC_DISCONNECT_WITH_WILL);
    assert_true(th_decode_body(&t, MQTT_V5, 0xe0, "8e 0a 1f 00 08 'takeover'", &p) == MQTT_ERR_FIELD_OVERRUN);
    assert_true(th_decode_body(&t, MQTT_V5, 0xe0, "8e 0b 1f 00 08 'takeover'", &p) > 0);
    assert_bytes_equal(p.disconnect.props.reason_string, "takeover");
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "e0 01 18", &p), MQTT_ERR_BAD_REASON_CODE);
    /* Session Expiry may appear in DISCONNECT, Receive Maximum may not */
    assert_true(th_decode_body(&t, MQTT_V5, 0xe0, "00 05 11 00 00 00 00", &p) > 0);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xe0, "00 03 21 00 01", &p), MQTT_ERR_BAD_PROPERTY);
}

static void test_auth_v5(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_true(th_decode_body(&t, MQTT_V5, 0xf0, "18 0d 15 00 05 'SCRAM' 16 00 02 01 02", &p) > 0);
    assert_int_equal(p.auth.reason, MQTT_RC_CONTINUE_AUTH);
    assert_bytes_equal(p.auth.props.auth_method, "SCRAM");
    assert_int_equal(p.auth.props.auth_data.len, 2);
    assert_int_equal(th_decode_body(&t, MQTT_V5, 0xf0, "18 05 16 00 02 01 02", &p),
                     MQTT_ERR_AUTH_DATA_WITHOUT_METHOD);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "f0 01 87", &p), MQTT_ERR_BAD_REASON_CODE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_appendix_A2_mqtt311_connect_14_bytes),
        cmocka_unit_test(test_appendix_A2_mqtt5_connect_15_bytes),
        cmocka_unit_test(test_full_v311_connect_with_will_user_and_password),
        cmocka_unit_test(test_v5_connect_properties_and_will_properties),
        cmocka_unit_test(test_MQTT_3_1_2_1_bad_protocol_name),
        cmocka_unit_test(test_MQTT_3_1_2_2_unsupported_level_reports_level),
        cmocka_unit_test(test_mqtt31_connect_and_its_client_id_length),
        cmocka_unit_test(test_MQTT_3_1_2_3_reserved_connect_flag),
        cmocka_unit_test(test_MQTT_3_1_2_13_14_15_will_flags),
        cmocka_unit_test(test_MQTT_3_1_2_22_password_without_username),
        cmocka_unit_test(test_MQTT_3_1_3_8_empty_client_id_needs_clean_session),
        cmocka_unit_test(test_MQTT_1_5_4_strings_must_be_valid_utf8),
        cmocka_unit_test(test_utf8_validator_edges),
        cmocka_unit_test(test_will_topic_must_be_a_topic_name),
        cmocka_unit_test(test_truncated_and_trailing_connect),
        cmocka_unit_test(test_connack_v311),
        cmocka_unit_test(test_connack_v5_properties),
        cmocka_unit_test(test_disconnect_v311_and_v5_forms),
        cmocka_unit_test(test_auth_v5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
