/* Stable error names, their v5/v3 reason-code mapping, and names for reason codes and types. */
#include "mqtt/mqtt.h"

#include <string.h>

typedef struct error_row {
    int code;
    mqtt_error_info info;
    uint8_t reason;      /* v5 CONNACK/DISCONNECT reason code */
    int connack_v3;      /* 3.x CONNACK return code, -1 = close without CONNACK */
} error_row;

static const error_row ERRORS[] = {
    { MQTT_ERR_MALFORMED_REMAINING_LENGTH, { "mqtt.malformed_remaining_length",
      "remaining length longer than 4 bytes or not minimally encoded", "MQTT-1.5.5-1" }, 0x81, -1 },
    { MQTT_ERR_PACKET_TOO_LARGE, { "mqtt.packet_too_large",
      "packet larger than the maximum packet size", "MQTT-3.1.2-24,MQTT-3.2.2-15" }, 0x95, -1 },
    { MQTT_ERR_RESERVED_TYPE, { "mqtt.reserved_type",
      "reserved packet type (0, or 15 before MQTT 5.0)", "MQTT-2.1.2" }, 0x81, -1 },
    { MQTT_ERR_BAD_FIXED_FLAGS, { "mqtt.bad_fixed_flags",
      "reserved flag bits of the fixed header are wrong", "MQTT-2.2.2-1,MQTT-2.2.2-2" }, 0x81, -1 },
    { MQTT_ERR_BAD_QOS, { "mqtt.bad_qos",
      "QoS value 3", "MQTT-3.3.1-4,MQTT-3.1.2-14,MQTT-3.8.3-4" }, 0x81, -1 },
    { MQTT_ERR_FIELD_OVERRUN, { "mqtt.field_overrun",
      "a field runs past the remaining length", "MQTT-1.5.4,MQTT-2.1.4" }, 0x81, -1 },
    { MQTT_ERR_TRAILING_BYTES, { "mqtt.trailing_bytes",
      "bytes left over after the last field of the packet", "MQTT-2.1.4" }, 0x81, -1 },
    { MQTT_ERR_MALFORMED_VARINT, { "mqtt.malformed_varint",
      "variable byte integer longer than 4 bytes or not minimal", "MQTT-1.5.5-1" }, 0x81, -1 },
    { MQTT_ERR_INVALID_UTF8, { "mqtt.invalid_utf8",
      "string is not well-formed UTF-8, or holds a surrogate or U+0000", "MQTT-1.5.4-1,MQTT-1.5.4-2,MQTT-1.5.3-1,MQTT-1.5.3-2" }, 0x81, -1 },
    { MQTT_ERR_BAD_PROTOCOL_NAME, { "mqtt.bad_protocol_name",
      "protocol name is not \"MQTT\" (or \"MQIsdp\" for 3.1)", "MQTT-3.1.2-1" }, 0x84, -1 },
    { MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL, { "mqtt.unsupported_protocol_level",
      "protocol level is not 3, 4 or 5, or does not match the protocol name", "MQTT-3.1.2-2" }, 0x84, 0x01 },
    { MQTT_ERR_BAD_CONNECT_FLAGS, { "mqtt.bad_connect_flags",
      "reserved connect flag set, will QoS/retain without will, or password without username (3.1.1)",
      "MQTT-3.1.2-3,MQTT-3.1.2-11,MQTT-3.1.2-13,MQTT-3.1.2-15,MQTT-3.1.2-22" }, 0x81, -1 },
    { MQTT_ERR_BAD_CLIENT_ID, { "mqtt.bad_client_id",
      "client identifier not acceptable (empty with clean session 0, or 3.1 length)", "MQTT-3.1.3-8" }, 0x85, 0x02 },
    { MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH, { "mqtt.topic_wildcard_in_publish",
      "topic name contains + or #", "MQTT-3.3.2-2" }, 0x90, -1 },
    { MQTT_ERR_BAD_TOPIC_NAME, { "mqtt.bad_topic_name",
      "topic name empty (without a topic alias)", "MQTT-4.7.3-1,MQTT-3.3.2-1" }, 0x90, -1 },
    { MQTT_ERR_BAD_TOPIC_FILTER, { "mqtt.bad_topic_filter",
      "topic filter empty, wildcard misplaced, or malformed shared subscription",
      "MQTT-4.7.1-1,MQTT-4.7.1-2,MQTT-4.7.1-3,MQTT-4.7.3-1,MQTT-4.8.2-1,MQTT-4.8.2-2" }, 0x8F, -1 },
    { MQTT_ERR_ZERO_PACKET_ID, { "mqtt.zero_packet_id",
      "packet identifier 0 where a non-zero one is required", "MQTT-2.2.1-3,MQTT-2.3.1-1" }, 0x82, -1 },
    { MQTT_ERR_NO_TOPIC_FILTERS, { "mqtt.no_topic_filters",
      "SUBSCRIBE or UNSUBSCRIBE without any topic filter", "MQTT-3.8.3-3,MQTT-3.10.3-2" }, 0x82, -1 },
    { MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS, { "mqtt.bad_subscription_options",
      "reserved subscription option bits set, or retain handling 3", "MQTT-3.8.3-5" }, 0x81, -1 },
    { MQTT_ERR_NO_LOCAL_ON_SHARED, { "mqtt.no_local_on_shared",
      "No Local set on a shared subscription", "MQTT-3.8.3-4" }, 0x82, -1 },
    { MQTT_ERR_DUP_ON_QOS0, { "mqtt.dup_on_qos0",
      "DUP flag set on a QoS 0 PUBLISH", "MQTT-3.3.1-2" }, 0x81, -1 },
    { MQTT_ERR_BAD_REASON_CODE, { "mqtt.bad_reason_code",
      "reason or return code not defined for this packet type", "MQTT-3.2.2.2,MQTT-3.9.3" }, 0x82, -1 },
    { MQTT_ERR_BAD_CONNACK_FLAGS, { "mqtt.bad_connack_flags",
      "CONNACK reserved flag bits set, or session present with a failure code",
      "MQTT-3.2.2-1,MQTT-3.2.2-4,MQTT-3.2.2-6" }, 0x81, -1 },
    { MQTT_ERR_BAD_PROPERTY, { "mqtt.bad_property",
      "unknown property identifier, or not allowed in this packet", "MQTT-2.2.2.2" }, 0x81, -1 },
    { MQTT_ERR_DUPLICATE_PROPERTY, { "mqtt.duplicate_property",
      "a property that may appear once appears twice", "MQTT-2.2.2.2,MQTT-3.1.2.11" }, 0x82, -1 },
    { MQTT_ERR_BAD_PROPERTY_VALUE, { "mqtt.bad_property_value",
      "property value out of range (0 where forbidden, boolean not 0/1, wildcard in response topic)",
      "MQTT-3.1.2.11,MQTT-3.3.2.3.5,MQTT-3.3.2-8,MQTT-3.8.2.1.2" }, 0x82, -1 },
    { MQTT_ERR_AUTH_DATA_WITHOUT_METHOD, { "mqtt.auth_data_without_method",
      "authentication data without an authentication method", "MQTT-3.1.2.11.10" }, 0x82, -1 },
    { MQTT_ERR_UNEXPECTED_PACKET, { "mqtt.unexpected_packet",
      "packet not allowed at this point (first packet not CONNECT, second CONNECT, ...)",
      "MQTT-3.1.0-1,MQTT-3.1.0-2" }, 0x82, -1 },
    { MQTT_ERR_EOF, { "mqtt.eof_mid_packet", "connection closed inside a packet", "" }, 0x81, -1 },
    { MQTT_ERR_TIMEOUT, { "mqtt.timeout", "no complete packet in time", "MQTT-3.1.4-1" }, 0x8D, -1 },
    { MQTT_ERR_TOPIC_ALIAS_INVALID, { "mqtt.topic_alias_invalid",
      "topic alias 0, above the maximum, or not yet mapped", "MQTT-3.3.2-7,MQTT-3.3.2-8,MQTT-3.3.2-9" }, 0x94, -1 },
    { MQTT_ERR_PAYLOAD_FORMAT_INVALID, { "mqtt.payload_format_invalid",
      "payload format indicator 1 and the payload is not UTF-8", "MQTT-3.3.2-4" }, 0x99, -1 },
    { MQTT_ERR_PROTOCOL, { "mqtt.protocol_error", "protocol violation", "MQTT-4.13.1" }, 0x82, -1 },
};

static const mqtt_error_info UNKNOWN_ERROR = { "mqtt.unknown", "unknown error", "" };

static const error_row *find_row(int err)
{
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
        if (ERRORS[i].code == err)
            return &ERRORS[i];
    return NULL;
}

const mqtt_error_info *mqtt_error_info_get(int err)
{
    const error_row *r = find_row(err);
    return r ? &r->info : &UNKNOWN_ERROR;
}

const char *mqtt_error_name(int err) { return mqtt_error_info_get(err)->name; }

int mqtt_error_from_name(const char *name)
{
    if (!name)
        return 0;
    for (size_t i = 0; i < sizeof ERRORS / sizeof ERRORS[0]; i++)
        if (strcmp(ERRORS[i].info.name, name) == 0)
            return ERRORS[i].code;
    return 0;
}

uint8_t mqtt_error_reason(int err)
{
    const error_row *r = find_row(err);
    return r ? r->reason : MQTT_RC_UNSPECIFIED_ERROR;
}

int mqtt_error_connack_v3(int err)
{
    const error_row *r = find_row(err);
    return r ? r->connack_v3 : -1;
}

const char *mqtt_reason_name(uint8_t code)
{
    switch (code) {
    case 0x00: return "success";
    case 0x01: return "granted_qos_1";
    case 0x02: return "granted_qos_2";
    case 0x04: return "disconnect_with_will_message";
    case 0x10: return "no_matching_subscribers";
    case 0x11: return "no_subscription_existed";
    case 0x18: return "continue_authentication";
    case 0x19: return "re_authenticate";
    case 0x80: return "unspecified_error";
    case 0x81: return "malformed_packet";
    case 0x82: return "protocol_error";
    case 0x83: return "implementation_specific_error";
    case 0x84: return "unsupported_protocol_version";
    case 0x85: return "client_identifier_not_valid";
    case 0x86: return "bad_user_name_or_password";
    case 0x87: return "not_authorized";
    case 0x88: return "server_unavailable";
    case 0x89: return "server_busy";
    case 0x8A: return "banned";
    case 0x8B: return "server_shutting_down";
    case 0x8C: return "bad_authentication_method";
    case 0x8D: return "keep_alive_timeout";
    case 0x8E: return "session_taken_over";
    case 0x8F: return "topic_filter_invalid";
    case 0x90: return "topic_name_invalid";
    case 0x91: return "packet_identifier_in_use";
    case 0x92: return "packet_identifier_not_found";
    case 0x93: return "receive_maximum_exceeded";
    case 0x94: return "topic_alias_invalid";
    case 0x95: return "packet_too_large";
    case 0x96: return "message_rate_too_high";
    case 0x97: return "quota_exceeded";
    case 0x98: return "administrative_action";
    case 0x99: return "payload_format_invalid";
    case 0x9A: return "retain_not_supported";
    case 0x9B: return "qos_not_supported";
    case 0x9C: return "use_another_server";
    case 0x9D: return "server_moved";
    case 0x9E: return "shared_subscriptions_not_supported";
    case 0x9F: return "connection_rate_exceeded";
    case 0xA0: return "maximum_connect_time";
    case 0xA1: return "subscription_identifiers_not_supported";
    case 0xA2: return "wildcard_subscriptions_not_supported";
    default: return "unknown";
    }
}

const char *mqtt_connack_v3_name(uint8_t code)
{
    static const char *const names[] = {
        "accepted", "unacceptable_protocol_version", "identifier_rejected",
        "server_unavailable", "bad_user_name_or_password", "not_authorized",
    };
    return code < sizeof names / sizeof names[0] ? names[code] : "unknown";
}

const char *mqtt_type_name(uint8_t type)
{
    static const char *const names[] = {
        "RESERVED", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
        "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH",
    };
    return type < 16 ? names[type] : "RESERVED";
}
