/* lib/mqtt one-line packet summaries: content, escaping, and truncation to the buffer. */
#include "test_mqtt_helpers.h"

static void test_summaries_of_common_packets(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    char s[256];
    assert_true(th_decode_hex(&t, MQTT_V311, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "CONNECT level=4 client_id=\"\" clean=1 keep_alive=60");

    assert_true(th_decode_body(&t, MQTT_V5, 0x10,
        "00 04 'MQTT' 05 e6 00 0a 00 00 02 'c1' 00 00 03 'w/t' 00 00 00 05 'alice' 00 03 'pwd'", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "CONNECT level=5 client_id=\"c1\" clean=1 keep_alive=10 will=\"w/t\"(qos0,retain) user=\"alice\" password=3B");

    assert_true(th_decode_body(&t, MQTT_V5, 0x3b, "00 03 'a/b' 00 05 { 23 00 01 26 00 01 'k' 00 00 } 'hello'", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "PUBLISH qos=1 id=5 dup=1 retain=1 topic=\"a/b\" payload=5B props=2");

    assert_true(th_decode_body(&t, MQTT_V311, 0x82, "00 0a 00 03 'a/+' 01 00 01 '#' 02", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "SUBSCRIBE id=10 filters=2 \"a/+\"(qos1) \"#\"(qos2)");

    assert_true(th_decode_hex(&t, MQTT_V311, "90 05 00 0a 01 02 80", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "SUBACK id=10 codes=01,02,80");

    assert_true(th_decode_hex(&t, MQTT_V311, "20 02 00 05", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "CONNACK session_present=0 rc=5(not_authorized)");

    assert_true(th_decode_hex(&t, MQTT_V5, "e0 01 8e", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "DISCONNECT reason=0x8e(session_taken_over)");
}

static void test_summary_escapes_and_truncates(void **state)
{
    (void)state;
    tbuf t;
    mqtt_packet p;
    char s[256];
    assert_true(th_decode_body(&t, MQTT_V311, 0x30, "00 05 'a' 22 5c c3 a9", &p) > 0);
    mqtt_packet_summary(&p, s, sizeof s);
    assert_string_equal(s, "PUBLISH qos=0 topic=\"a\\x22\\x5c\\xc3\\xa9\" payload=0B");

    char tiny[8];
    size_t n = mqtt_packet_summary(&p, tiny, sizeof tiny);
    assert_int_equal(n, 7);
    assert_string_equal(tiny, "PUBLISH");
    assert_int_equal(mqtt_packet_summary(&p, tiny, 0), 0);
    assert_int_equal(mqtt_packet_summary(&p, tiny, 1), 0);
    assert_string_equal(tiny, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summaries_of_common_packets),
        cmocka_unit_test(test_summary_escapes_and_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
