/* lib/mqtt framing: the fixed header decides as early as the bytes allow, the remaining
 * length is a minimal Variable Byte Integer, and framing never reads past the buffer. */
#include "test_mqtt_helpers.h"

/* Requirements Appendix A.2: the 14-byte MQTT 3.1.1 CONNECT. */
static const uint8_t CONNECT_311[] = { 0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54,
                                       0x04, 0x02, 0x00, 0x3c, 0x00, 0x00 };

static void test_every_prefix_needs_more_then_whole_packet_frames(void **state)
{
    (void)state;
    uint8_t type = 0xFF, flags = 0xFF;
    size_t total = 0;
    for (size_t n = 0; n < sizeof CONNECT_311; n++) {
        /* heap copy of exactly n bytes so ASan catches any read past the prefix */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, CONNECT_311, n);
        assert_int_equal(mqtt_frame(p, n, 0, &type, &flags, &total), MQTT_NEED_MORE);
        free(p);
        if (n >= 2)
            assert_int_equal(total, 14); /* known as soon as the length byte is in */
    }
    assert_int_equal(mqtt_frame(CONNECT_311, sizeof CONNECT_311, 0, &type, &flags, &total), 14);
    assert_int_equal(type, MQTT_CONNECT);
    assert_int_equal(flags, 0);
    /* NULL out pointers are allowed */
    assert_int_equal(mqtt_frame(CONNECT_311, sizeof CONNECT_311, 0, NULL, NULL, NULL), 14);
}

static void test_frame_returns_first_packet_of_a_stream(void **state)
{
    (void)state;
    uint8_t stream[] = { 0xC0, 0x00, 0xC0, 0x00, 0xE0 }; /* PINGREQ PINGREQ DISCONNECT-prefix */
    size_t total = 0;
    assert_int_equal(mqtt_frame(stream, sizeof stream, 0, NULL, NULL, &total), 2);
    assert_int_equal(mqtt_frame(stream + 4, 1, 0, NULL, NULL, &total), MQTT_NEED_MORE);
}

/* MQTT-2.2.2-1 / MQTT-2.2.2-2: reserved type 0 and wrong flag bits fail on the first byte. */
static void test_MQTT_2_2_2_2_first_byte_alone_rejects_reserved_type_and_flags(void **state)
{
    (void)state;
    uint8_t b[1];
    b[0] = 0x00;
    assert_int_equal(mqtt_frame(b, 1, 0, NULL, NULL, NULL), MQTT_ERR_RESERVED_TYPE);
    for (unsigned t = 1; t <= 15; t++) {
        for (unsigned f = 0; f < 16; f++) {
            b[0] = (uint8_t)(t << 4 | f);
            ssize_t rc = mqtt_frame(b, 1, 0, NULL, NULL, NULL);
            bool fixed_02 = t == MQTT_PUBREL || t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE;
            if (t == MQTT_PUBLISH)
                assert_int_equal(rc, ((f >> 1) & 3) == 3 ? MQTT_ERR_BAD_QOS : MQTT_NEED_MORE);
            else if (fixed_02)
                assert_int_equal(rc, f == 2 ? MQTT_NEED_MORE : MQTT_ERR_BAD_FIXED_FLAGS);
            else
                assert_int_equal(rc, f == 0 ? MQTT_NEED_MORE : MQTT_ERR_BAD_FIXED_FLAGS);
        }
    }
}

/* MQTT-3.3.1-4: QoS 3 in PUBLISH. */
static void test_MQTT_3_3_1_4_publish_qos3_is_rejected_on_first_byte(void **state)
{
    (void)state;
    uint8_t b[] = { 0x36 };
    assert_int_equal(mqtt_frame(b, 1, 0, NULL, NULL, NULL), MQTT_ERR_BAD_QOS);
    assert_string_equal(mqtt_error_name(MQTT_ERR_BAD_QOS), "mqtt.bad_qos");
}

/* The remaining length has at most four bytes (MQTT 3.1.1 2.2.3). */
static void test_fifth_length_byte_is_malformed(void **state)
{
    (void)state;
    uint8_t b[] = { 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    assert_int_equal(mqtt_frame(b, 4, 0, NULL, NULL, NULL), MQTT_NEED_MORE);
    assert_int_equal(mqtt_frame(b, 5, 0, NULL, NULL, NULL), MQTT_ERR_MALFORMED_REMAINING_LENGTH);
    assert_string_equal(mqtt_error_name(MQTT_ERR_MALFORMED_REMAINING_LENGTH), "mqtt.malformed_remaining_length");
    assert_int_equal(mqtt_error_reason(MQTT_ERR_MALFORMED_REMAINING_LENGTH), 0x81);
}

/* MQTT-1.5.5-1: minimal encoding, so "80 00" for 0 is malformed. */
static void test_MQTT_1_5_5_1_non_minimal_length_is_malformed(void **state)
{
    (void)state;
    uint8_t b[] = { 0xC0, 0x80, 0x00 };
    assert_int_equal(mqtt_frame(b, 3, 0, NULL, NULL, NULL), MQTT_ERR_MALFORMED_REMAINING_LENGTH);
    uint8_t c[] = { 0x30, 0xFF, 0x80, 0x80, 0x00 };
    assert_int_equal(mqtt_frame(c, 5, 0, NULL, NULL, NULL), MQTT_ERR_MALFORMED_REMAINING_LENGTH);
}

/* The size limit applies as soon as the length is known, before the body arrives
 * (MQTT-3.1.2-24 for 5.0 Maximum Packet Size; a bounded buffer otherwise). */
static void test_too_large_rejected_before_body_arrives(void **state)
{
    (void)state;
    uint8_t b[] = { 0x30, 0xFF, 0xFF, 0xFF, 0x7F }; /* remaining 268435455 */
    size_t total = 0;
    assert_int_equal(mqtt_frame(b, 5, 0, NULL, NULL, &total), MQTT_NEED_MORE);
    assert_int_equal(total, MQTT_MAX_PACKET);
    assert_int_equal(mqtt_frame(b, 5, 1024, NULL, NULL, &total), MQTT_ERR_PACKET_TOO_LARGE);
    assert_int_equal(mqtt_error_reason(MQTT_ERR_PACKET_TOO_LARGE), 0x95);
    /* exactly at the limit is fine */
    uint8_t c[] = { 0xC0, 0x00 };
    assert_int_equal(mqtt_frame(c, 2, 2, NULL, NULL, NULL), 2);
    assert_int_equal(mqtt_frame(c, 2, 1, NULL, NULL, NULL), MQTT_ERR_PACKET_TOO_LARGE);
}

static void test_varint_boundaries_round_trip(void **state)
{
    (void)state;
    static const struct { uint32_t v; size_t n; } cases[] = {
        { 0, 1 }, { 127, 1 }, { 128, 2 }, { 16383, 2 }, { 16384, 3 },
        { 2097151, 3 }, { 2097152, 4 }, { 268435455, 4 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[4];
        assert_int_equal(mqtt_varint_encode(b, sizeof b, cases[i].v), (ssize_t)cases[i].n);
        uint32_t v = 0xFFFFFFFF;
        assert_int_equal(mqtt_varint_decode(b, cases[i].n, &v), (int)cases[i].n);
        assert_int_equal(v, cases[i].v);
        if (cases[i].n > 1) {
            assert_int_equal(mqtt_varint_decode(b, cases[i].n - 1, &v), 0);
            assert_int_equal(mqtt_varint_encode(b, cases[i].n - 1, cases[i].v), MQTT_ENC_NO_SPACE);
        }
    }
    uint8_t b[4];
    assert_int_equal(mqtt_varint_encode(b, sizeof b, 268435456u), MQTT_ENC_INVALID);
}

/* Packets without a body: PINGREQ, PINGRESP; bytes in the body are trailing garbage. */
static void test_ping_has_no_body(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "c0 00", &p), 2);
    assert_int_equal(p.type, MQTT_PINGREQ);
    assert_int_equal(p.header_len, 2);
    assert_int_equal(p.remaining_len, 0);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "d0 00", &p), 2);
    assert_int_equal(p.type, MQTT_PINGRESP);
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "c0 01 00", &p), MQTT_ERR_TRAILING_BYTES);
    assert_string_equal(mqtt_error_name(MQTT_ERR_TRAILING_BYTES), "mqtt.trailing_bytes");
}

/* AUTH (type 15) exists from 5.0 on; before that it is a reserved type. */
static void test_auth_is_reserved_before_v5(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, MQTT_V311, "f0 00", &p), MQTT_ERR_RESERVED_TYPE);
    assert_int_equal(th_decode_hex(&t, MQTT_V5, "f0 00", &p), 2);
    assert_int_equal(p.type, MQTT_AUTH);
    assert_int_equal(p.auth.reason, 0);
}

static void test_decode_needs_whole_packet_and_reports_lengths(void **state)
{
    (void)state;
    mqtt_packet p;
    for (size_t n = 0; n < sizeof CONNECT_311; n++)
        assert_int_equal(mqtt_decode(CONNECT_311, n, MQTT_V311, &p), MQTT_NEED_MORE);
    assert_int_equal(mqtt_decode(CONNECT_311, sizeof CONNECT_311, MQTT_V311, &p), 14);
    assert_int_equal(p.header_len, 2);
    assert_int_equal(p.remaining_len, 12);
    assert_int_equal(p.total_len, 14);
    assert_ptr_equal(p.raw, CONNECT_311);
}

static void test_unknown_level_for_non_connect_is_refused(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    assert_int_equal(th_decode_hex(&t, 6, "c0 00", &p), MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL);
}

static void test_error_names_are_unique_and_reversible(void **state)
{
    (void)state;
    int seen = 0;
    for (int e = -1; e >= -100; e--) {
        const char *name = mqtt_error_name(e);
        if (strcmp(name, "mqtt.unknown") == 0)
            continue;
        seen++;
        assert_int_equal(strncmp(name, "mqtt.", 5), 0);
        assert_int_equal(mqtt_error_from_name(name), e);
        assert_non_null(mqtt_error_info_get(e)->message);
        assert_non_null(mqtt_error_info_get(e)->refs);
        assert_true(mqtt_error_reason(e) >= 0x80);
    }
    assert_true(seen >= 30);
    assert_int_equal(mqtt_error_from_name("mqtt.nope"), 0);
    assert_int_equal(mqtt_error_from_name(NULL), 0);
    assert_string_equal(mqtt_error_name(12345), "mqtt.unknown");
}

static void test_reason_and_type_names(void **state)
{
    (void)state;
    assert_string_equal(mqtt_reason_name(0x00), "success");
    assert_string_equal(mqtt_reason_name(0x81), "malformed_packet");
    assert_string_equal(mqtt_reason_name(0x82), "protocol_error");
    assert_string_equal(mqtt_reason_name(0x84), "unsupported_protocol_version");
    assert_string_equal(mqtt_reason_name(0x95), "packet_too_large");
    assert_string_equal(mqtt_reason_name(0xA2), "wildcard_subscriptions_not_supported");
    assert_string_equal(mqtt_reason_name(0x03), "unknown");
    assert_string_equal(mqtt_connack_v3_name(1), "unacceptable_protocol_version");
    assert_string_equal(mqtt_connack_v3_name(6), "unknown");
    assert_string_equal(mqtt_type_name(MQTT_CONNECT), "CONNECT");
    assert_string_equal(mqtt_type_name(MQTT_AUTH), "AUTH");
    assert_string_equal(mqtt_type_name(0), "RESERVED");
    assert_string_equal(mqtt_type_name(200), "RESERVED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_prefix_needs_more_then_whole_packet_frames),
        cmocka_unit_test(test_frame_returns_first_packet_of_a_stream),
        cmocka_unit_test(test_MQTT_2_2_2_2_first_byte_alone_rejects_reserved_type_and_flags),
        cmocka_unit_test(test_MQTT_3_3_1_4_publish_qos3_is_rejected_on_first_byte),
        cmocka_unit_test(test_fifth_length_byte_is_malformed),
        cmocka_unit_test(test_MQTT_1_5_5_1_non_minimal_length_is_malformed),
        cmocka_unit_test(test_too_large_rejected_before_body_arrives),
        cmocka_unit_test(test_varint_boundaries_round_trip),
        cmocka_unit_test(test_ping_has_no_body),
        cmocka_unit_test(test_auth_is_reserved_before_v5),
        cmocka_unit_test(test_decode_needs_whole_packet_and_reports_lengths),
        cmocka_unit_test(test_unknown_level_for_non_connect_is_refused),
        cmocka_unit_test(test_error_names_are_unique_and_reversible),
        cmocka_unit_test(test_reason_and_type_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
