/* ppbroker engine: CONNECT, authentication, CONNACK codes, the password file, and the
 * connection-level rules (first packet, second CONNECT, connect timeout, malformed input).
 * Test names cite the MQTT normative statements (MQTT-x.y.z-n) they check. */
#include "test_broker_engine_helpers.h"

#include <unistd.h>

/* ---- password file ------------------------------------------------------------------------ */

static void test_passwd_entry_roundtrip(void **state)
{
    (void)state;
    char line[BR_PASSWD_ENTRY_MAX];
    int n = br_passwd_make_entry("alice", (const uint8_t *)"s3cret", 6, 1000, line, sizeof line);
    assert_true(n > 0);
    assert_non_null(strstr(line, "alice:$pbkdf2-sha256$1000$"));
    char err[256] = "";
    br_passwd *pw = br_passwd_parse(line, (size_t)n, "mem", err, sizeof err);
    assert_non_null(pw);
    assert_int_equal(br_passwd_count(pw), 1);
    assert_true(br_passwd_has_user(pw, "alice"));
    assert_true(br_passwd_check(pw, "alice", (const uint8_t *)"s3cret", 6));
    assert_false(br_passwd_check(pw, "alice", (const uint8_t *)"s3creT", 6));
    assert_false(br_passwd_check(pw, "alice", (const uint8_t *)"s3cret", 5));
    assert_false(br_passwd_check(pw, "bob", (const uint8_t *)"s3cret", 6));
    br_passwd_free(pw);

    /* the salt is random: two entries for the same password differ */
    char line2[BR_PASSWD_ENTRY_MAX];
    assert_true(br_passwd_make_entry("alice", (const uint8_t *)"s3cret", 6, 1000, line2, sizeof line2) > 0);
    assert_string_not_equal(line, line2);
    /* usernames with ':' or control characters cannot be written */
    assert_int_equal(br_passwd_make_entry("a:b", (const uint8_t *)"x", 1, 1000, line2, sizeof line2), -1);
    assert_int_equal(br_passwd_make_entry("", (const uint8_t *)"x", 1, 1000, line2, sizeof line2), -1);
    assert_int_equal(br_passwd_make_entry("alice", (const uint8_t *)"x", 1, 1000, line2, 10), -1);
}

static void test_passwd_file_errors_name_the_line(void **state)
{
    (void)state;
    char err[256];
    static const struct { const char *text, *want; } cases[] = {
        { "# comment\n\nalice\n", "mem:3: expected" },
        { "alice:$md5$1$AAAA$AAAA\n", "mem:1: unsupported hash scheme" },
        { "alice:$pbkdf2-sha256$0$AAAA$AAAA\n", "mem:1: bad iteration count" },
        { "alice:$pbkdf2-sha256$10$A!AA$AAAA\n", "mem:1: bad salt" },
        { "alice:$pbkdf2-sha256$10$AAAA$AAAA\n", "mem:1: bad hash" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = 0;
        br_passwd *pw = br_passwd_parse(cases[i].text, strlen(cases[i].text), "mem", err, sizeof err);
        assert_null(pw);
        if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            fail_msg("case %zu: got '%s', want prefix '%s'", i, err, cases[i].want);
    }
    char a[BR_PASSWD_ENTRY_MAX], b[BR_PASSWD_ENTRY_MAX], text[2 * BR_PASSWD_ENTRY_MAX + 4];
    br_passwd_make_entry("u", (const uint8_t *)"1", 1, 10, a, sizeof a);
    br_passwd_make_entry("u", (const uint8_t *)"2", 1, 10, b, sizeof b);
    snprintf(text, sizeof text, "%s\n%s\n", a, b);
    assert_null(br_passwd_parse(text, strlen(text), "mem", err, sizeof err));
    assert_non_null(strstr(err, "mem:2: user 'u' appears twice"));
    assert_null(br_passwd_load("/nonexistent/ppb-passwd", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/ppb-passwd"));
}

/* A password file on disk with alice:wonderland, for the engine. */
static void write_passwd_file(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/ppb-engine-test-%d.passwd", (int)getpid());
    char line[BR_PASSWD_ENTRY_MAX];
    assert_true(br_passwd_make_entry("alice", (const uint8_t *)"wonderland", 10, 1000, line, sizeof line) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# test users\n%s\n", line);
    fclose(f);
}

/* ---- CONNECT / CONNACK ------------------------------------------------------------------- */

static void test_MQTT_3_2_2_connack_v311_and_v5_accepted(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_attach();
    connect_args args = { .client_id = "c311", .clean = true };
    mqtt_packet ack;
    h_connect_raw(a, &args, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_ACCEPTED);
    assert_false(ack.connack.session_present);
    assert_true(br_client_connected(a->c));
    assert_string_equal(br_client_id(a->c), "c311");
    assert_int_equal(br_client_protocol_version(a->c), 4);
    assert_string_equal(br_client_username_source(a->c), "none");

    fconn *b = h_attach();
    connect_args a5 = { .level = MQTT_V5, .client_id = "c5", .clean = true };
    h_connect_raw(b, &a5, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_SUCCESS);
    /* the server's limits are announced (MQTT 5 3.2.2.3) */
    assert_true(mqtt_props_has(&ack.connack.props, MQTT_PROP_RECEIVE_MAXIMUM));
    assert_int_equal(ack.connack.props.receive_maximum, 20);
    assert_true(mqtt_props_has(&ack.connack.props, MQTT_PROP_MAXIMUM_PACKET_SIZE));
    assert_int_equal(ack.connack.props.maximum_packet_size, 1024 * 1024);
    assert_int_equal(ack.connack.props.topic_alias_maximum, 10);

    const recorded_event *ev = h_find_event(BR_EV_CONNACK, b);
    assert_non_null(ev);
    assert_string_equal(ev->reason, "success");
    assert_string_equal(ev->client_id, "c5");

    /* MQTT 3.1 (MQIsdp) is answered too */
    fconn *c = h_attach();
    connect_args a3 = { .level = MQTT_V31, .client_id = "c31", .clean = true };
    h_connect_raw(c, &a3, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_int_equal(br_client_protocol_version(c->c), 3);
    h_stop();
}

static void test_MQTT_3_1_3_6_empty_client_id_gets_an_assigned_one(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_attach();
    connect_args args = { .level = MQTT_V5, .clean = true };
    mqtt_packet ack;
    h_connect_raw(a, &args, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_true(mqtt_props_has(&ack.connack.props, MQTT_PROP_ASSIGNED_CLIENT_ID));
    assert_true(ack.connack.props.assigned_client_id.len > 4);
    assert_memory_equal(ack.connack.props.assigned_client_id.ptr, br_client_id(a->c),
                        ack.connack.props.assigned_client_id.len);

    /* 3.1.1: accepted with clean session, an id is made up internally */
    fconn *b = h_attach();
    connect_args a4 = { .clean = true };
    h_connect_raw(b, &a4, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_non_null(br_client_id(b->c));
    assert_string_not_equal(br_client_id(a->c), br_client_id(b->c));

    /* 3.1.1: empty id with clean session 0 is refused with return code 2 (MQTT-3.1.3-8) */
    fconn *c = h_attach();
    connect_args a4p = { .clean = false };
    h_connect_raw(c, &a4p, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_IDENTIFIER_REJECTED);
    assert_true(c->closed);
    h_stop();
}

static void test_anonymous_refused_when_not_allowed(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.allow_anonymous = false;
    h_start(&o);
    fconn *a = h_attach();
    connect_args args = { .client_id = "anon", .clean = true };
    mqtt_packet ack;
    h_connect_raw(a, &args, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_NOT_AUTHORIZED);
    assert_true(a->closed);
    assert_string_equal(a->reason, "not_authorized");
    h_expect_nothing(a);
    const recorded_event *ev = h_find_event(BR_EV_AUTH_REJECT, a);
    assert_non_null(ev);
    assert_string_equal(ev->reason, "not_authorized");
    ev = h_find_event(BR_EV_CONNACK, a);
    assert_non_null(ev);
    assert_int_equal(ev->reason_code, 5);

    fconn *b = h_attach();
    connect_args a5 = { .level = MQTT_V5, .client_id = "anon5", .clean = true };
    h_connect_raw(b, &a5, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_NOT_AUTHORIZED);
    assert_string_equal(b->reason, "not_authorized");
    /* input after the refusal is ignored */
    assert_int_equal(h_input_hex(b, "c0 00"), -1);
    h_expect_nothing(b);
    h_stop();
}

static void test_password_file_accepts_good_and_refuses_bad_credentials(void **state)
{
    (void)state;
    char path[128];
    write_passwd_file(path, sizeof path);
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.allow_anonymous = false;
    o.password_file = path;
    h_start(&o);
    unlink(path); /* loaded at start: the engine does not keep the file open */

    mqtt_packet ack;
    fconn *good = h_attach();
    connect_args g = { .client_id = "g", .clean = true, .username = "alice", .password = "wonderland" };
    h_connect_raw(good, &g, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_string_equal(br_client_username(good->c), "alice");
    assert_string_equal(br_client_username_source(good->c), "connect");

    fconn *bad = h_attach();
    connect_args b = { .client_id = "b", .clean = true, .username = "alice", .password = "wrong" };
    h_connect_raw(bad, &b, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_BAD_USERNAME_OR_PASSWORD);
    assert_string_equal(bad->reason, "bad_user_name_or_password");
    const recorded_event *ev = h_find_event(BR_EV_AUTH_REJECT, bad);
    assert_non_null(ev);
    assert_string_equal(ev->username, "alice");

    fconn *nopw = h_attach();
    connect_args n = { .level = MQTT_V5, .client_id = "n", .clean = true, .username = "alice" };
    h_connect_raw(nopw, &n, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_BAD_USERNAME_OR_PASSWORD);

    fconn *unknown = h_attach();
    connect_args u = { .level = MQTT_V5, .client_id = "u", .clean = true, .username = "mallory", .password = "wonderland" };
    h_connect_raw(unknown, &u, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_BAD_USERNAME_OR_PASSWORD);
    h_stop();

    /* a broken password file stops the engine from starting, with the reason */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("alice:nothash\n", f);
    fclose(f);
    char err[256] = "";
    pn_loop *loop = pn_loop_new(4);
    br_conn_ops ops = { fc_send, fc_close };
    br_event_sink sink = { NULL, NULL };
    assert_null(br_engine_new(&o, loop, ops, sink, err, sizeof err));
    assert_non_null(strstr(err, ":1: unsupported hash scheme"));
    pn_loop_free(loop);
    unlink(path);
}

static void test_forced_username_and_transport_refusal(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.allow_anonymous = false;
    h_start(&o);
    mqtt_packet ack;

    /* CN from the PROXY header replaces CONNECT's username; no password check */
    br_client_info info = { .forced_username = "device-17", .username_source = "cn" };
    fconn *a = h_attach_info(&info);
    connect_args args = { .client_id = "d17", .clean = true, .username = "ignored", .password = "x" };
    h_connect_raw(a, &args, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_string_equal(br_client_username(a->c), "device-17");
    assert_string_equal(br_client_username_source(a->c), "cn");

    /* CN policy "require" without a CN: the transport asks for 0x87 */
    br_client_info refuse = { .refuse = true, .refuse_v5_reason = MQTT_RC_NOT_AUTHORIZED,
                              .refuse_message = "no CN in the PROXY header" };
    fconn *b = h_attach_info(&refuse);
    connect_args a5 = { .level = MQTT_V5, .client_id = "nocn", .clean = true };
    h_connect_raw(b, &a5, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_NOT_AUTHORIZED);
    assert_string_equal(b->reason, "not_authorized");
    const recorded_event *ev = h_find_event(BR_EV_AUTH_REJECT, b);
    assert_non_null(ev);
    fconn *c = h_attach_info(&refuse);
    connect_args a4 = { .client_id = "nocn4", .clean = true };
    h_connect_raw(c, &a4, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_NOT_AUTHORIZED);

    /* v5 enhanced authentication is not offered: 0x8C */
    fconn *d = h_attach();
    mqtt_prop am = { .id = MQTT_PROP_AUTH_METHOD, .s = mqtt_cstr("SCRAM-SHA-1") };
    connect_args a5am = { .level = MQTT_V5, .client_id = "scram", .clean = true, .props = &am, .nprops = 1 };
    h_connect_raw(d, &a5am, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_BAD_AUTH_METHOD);
    assert_string_equal(d->reason, "bad_authentication_method");
    h_stop();
}

/* ---- connection-level rules ---------------------------------------------------------------- */

static void test_MQTT_3_1_0_1_first_packet_not_connect_closes_at_first_byte(void **state)
{
    (void)state;
    h_start(NULL);
    /* EC-F-13: a second PROXY header ('P' = 0x50, PUBREC) reaches MQTT: closed on its first byte */
    fconn *a = h_attach();
    assert_int_equal(h_input_hex(a, "50"), -1);
    assert_true(a->closed);
    assert_string_equal(a->reason, "mqtt.unexpected_packet");
    h_expect_nothing(a);
    /* a v2 signature starts with 0x0D: reserved type 0 */
    fconn *b = h_attach();
    assert_int_equal(h_input_hex(b, "0d 0a 0d 0a"), -1);
    assert_string_equal(b->reason, "mqtt.reserved_type");
    /* PINGREQ first */
    fconn *c = h_attach();
    assert_int_equal(h_input_hex(c, "c0 00"), -1);
    assert_string_equal(c->reason, "mqtt.unexpected_packet");
    h_stop();
}

static void test_MQTT_3_1_0_2_second_connect_is_a_protocol_error(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_client(MQTT_V5, "twice", true);
    mqtt_packet p;
    connect_args args = { .level = MQTT_V5, .client_id = "twice", .clean = true };
    h_build_connect(&args, &p);
    assert_int_equal(h_send_pkt(a, &p), -1);
    mqtt_packet d;
    h_expect_type(a, &d, MQTT_DISCONNECT);
    assert_int_equal(d.disconnect.reason, MQTT_RC_PROTOCOL_ERROR);
    assert_string_equal(a->reason, "mqtt.unexpected_packet");

    fconn *b = h_client(MQTT_V311, "twice311", true);
    args.level = MQTT_V311;
    h_build_connect(&args, &p);
    assert_int_equal(h_send_pkt(b, &p), -1);
    h_expect_nothing(b); /* 3.1.1 has no DISCONNECT from the server */
    assert_string_equal(b->reason, "mqtt.unexpected_packet");
    h_stop();
}

/* Found by fuzz_broker_engine: a second CONNECT that does not decode (here level 6) was closed
 * with the decoder's reason, so a v5 client got DISCONNECT 0x84, a code only CONNACK may carry. */
static void test_MQTT_3_1_0_2_malformed_second_connect_gets_a_valid_disconnect(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_client(MQTT_V5, "twice", true);
    /* CONNECT "MQTT" level 6, clean, keep-alive 60, no properties, client id "x" */
    assert_int_equal(h_input_hex(a, "10 0e 00 04 4d 51 54 54 06 02 00 3c 00 00 01 78"), -1);
    mqtt_packet d;
    h_expect_type(a, &d, MQTT_DISCONNECT); /* h_next fails on a reason DISCONNECT may not carry */
    assert_int_equal(d.disconnect.reason, MQTT_RC_PROTOCOL_ERROR);
    assert_string_equal(a->reason, "mqtt.unexpected_packet");
    h_stop();
}

static void test_MQTT_3_1_2_2_unsupported_protocol_level_return_code_1(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_attach();
    /* CONNECT "MQTT" level 6 */
    h_input_hex(a, "10 0c 00 04 4d 51 54 54 06 02 00 3c 00 00");
    mqtt_packet ack;
    h_expect_type(a, &ack, MQTT_CONNACK);
    assert_int_equal(ack.connack.reason, MQTT_V3_BAD_PROTOCOL_VERSION);
    assert_true(a->closed);
    assert_string_equal(a->reason, "mqtt.unsupported_protocol_level");

    /* a malformed v5 CONNECT is answered with a v5 CONNACK carrying the reason (0x81) */
    fconn *b = h_attach();
    b->level = MQTT_V5;
    h_input_hex(b, "10 0e 00 04 4d 51 54 54 05 02 00 3c 00 00 00 ff");
    h_expect_type(b, &ack, MQTT_CONNACK);
    assert_int_equal(ack.connack.reason, MQTT_RC_MALFORMED_PACKET);
    assert_string_equal(b->reason, "mqtt.trailing_bytes");
    h_stop();
}

static void test_appendix_A2_connect_packets_are_accepted(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_attach();
    assert_int_equal(h_input_hex(a, "10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00"), 0);
    mqtt_packet ack;
    h_expect_type(a, &ack, MQTT_CONNACK);
    assert_int_equal(ack.connack.reason, 0);
    fconn *b = h_attach();
    b->level = MQTT_V5;
    assert_int_equal(h_input_hex(b, "10 0d 00 04 4d 51 54 54 05 02 00 3c 00 00 00"), 0);
    h_expect_type(b, &ack, MQTT_CONNACK);
    assert_int_equal(ack.connack.reason, 0);
    /* PINGREQ -> PINGRESP */
    assert_int_equal(h_input_hex(b, "c0 00"), 0);
    h_expect_type(b, &ack, MQTT_PINGRESP);
    h_stop();
}

static void test_MQTT_3_1_4_1_connect_timeout_closes(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.connect_timeout_ms = 30;
    h_start(&o);
    fconn *a = h_attach();
    h_input_hex(a, "10 0c 00"); /* half a CONNECT, then silence */
    assert_true(h_run_until_closed(a, 3000));
    assert_string_equal(a->reason, "mqtt.timeout");
    h_expect_nothing(a);
    h_stop();
}

static void test_MQTT_1_5_5_malformed_remaining_length_closes_without_connack(void **state)
{
    (void)state;
    h_start(NULL);
    fconn *a = h_attach();
    assert_int_equal(h_input_hex(a, "10 ff ff ff ff 01"), -1);
    assert_true(a->closed);
    assert_string_equal(a->reason, "mqtt.malformed_remaining_length");
    h_expect_nothing(a);
    h_stop();
}

static void test_MQTT_3_1_2_24_oversized_packet_closes_before_the_body(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.max_packet_size = 64;
    h_start(&o);
    fconn *a = h_client(MQTT_V5, "big", true);
    /* PUBLISH announcing 200 bytes: refused as soon as the length is known */
    assert_int_equal(h_input_hex(a, "30 c8 01"), -1);
    mqtt_packet d;
    h_expect_type(a, &d, MQTT_DISCONNECT);
    assert_int_equal(d.disconnect.reason, MQTT_RC_PACKET_TOO_LARGE);
    assert_string_equal(a->reason, "mqtt.packet_too_large");
    h_stop();
}

static void test_session_count_is_bounded(void **state)
{
    (void)state;
    br_engine_opts o;
    br_engine_opts_defaults(&o);
    o.max_sessions = 2;
    h_start(&o);
    fconn *a = h_client(MQTT_V311, "a", false);
    h_detach(a, "eof"); /* offline persistent sessions count too */
    h_client(MQTT_V5, "b", true);
    mqtt_packet ack;
    fconn *c = h_attach();
    connect_args a5 = { .level = MQTT_V5, .client_id = "c", .clean = true };
    h_connect_raw(c, &a5, &ack);
    assert_int_equal(ack.connack.reason, MQTT_RC_QUOTA_EXCEEDED);
    assert_string_equal(c->reason, "quota_exceeded");
    fconn *d = h_attach();
    connect_args a4 = { .client_id = "d", .clean = true };
    h_connect_raw(d, &a4, &ack);
    assert_int_equal(ack.connack.reason, MQTT_V3_SERVER_UNAVAILABLE);
    /* resuming an existing session needs no new one */
    fconn *e = h_attach();
    connect_args ra = { .client_id = "a", .clean = false };
    h_connect_raw(e, &ra, &ack);
    assert_int_equal(ack.connack.reason, 0);
    assert_true(ack.connack.session_present);
    h_stop();
}

static void test_detach_inside_close_is_safe(void **state)
{
    (void)state;
    h_start(NULL);
    H.detach_in_close = true; /* engine.h allows br_engine_detach from inside ops.close */
    fconn *a = h_client(MQTT_V311, "x", true);
    assert_int_equal(h_input_hex(a, "c0 00 10 0c 00 04 4d 51 54 54 04 02 00 3c 00 00 c0 00"), -1);
    assert_true(a->detached);
    mqtt_packet p;
    h_expect_type(a, &p, MQTT_PINGRESP);
    h_expect_nothing(a); /* nothing after the second CONNECT */
    br_engine_stats st;
    br_engine_stats_get(H.e, &st);
    assert_int_equal(st.clients, 0);
    assert_int_equal(st.sessions, 0);
    h_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passwd_entry_roundtrip),
        cmocka_unit_test(test_passwd_file_errors_name_the_line),
        cmocka_unit_test_teardown(test_MQTT_3_2_2_connack_v311_and_v5_accepted, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_3_6_empty_client_id_gets_an_assigned_one, h_teardown),
        cmocka_unit_test_teardown(test_anonymous_refused_when_not_allowed, h_teardown),
        cmocka_unit_test_teardown(test_password_file_accepts_good_and_refuses_bad_credentials, h_teardown),
        cmocka_unit_test_teardown(test_forced_username_and_transport_refusal, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_0_1_first_packet_not_connect_closes_at_first_byte, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_0_2_second_connect_is_a_protocol_error, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_0_2_malformed_second_connect_gets_a_valid_disconnect, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_2_unsupported_protocol_level_return_code_1, h_teardown),
        cmocka_unit_test_teardown(test_appendix_A2_connect_packets_are_accepted, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_4_1_connect_timeout_closes, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_1_5_5_malformed_remaining_length_closes_without_connack, h_teardown),
        cmocka_unit_test_teardown(test_MQTT_3_1_2_24_oversized_packet_closes_before_the_body, h_teardown),
        cmocka_unit_test_teardown(test_session_count_is_bounded, h_teardown),
        cmocka_unit_test_teardown(test_detach_inside_close_is_safe, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
