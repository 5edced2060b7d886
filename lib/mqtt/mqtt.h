/* lib/mqtt: the MQTT 3.1 / 3.1.1 / 5.0 packet codec shared by every ppconform program.
 *
 * Modelled on picohttpparser: allocation-free, incremental framing, results are views into
 * the caller's buffer. Encoders write into a caller buffer. Normative statement numbers
 * (MQTT-x.y.z-n) refer to the OASIS MQTT 3.1.1 and 5.0 specifications.
 *
 * Typical receive loop:
 *     ssize_t n = mqtt_frame(buf, len, max_packet, &type, &flags, &total);
 *     if (n == MQTT_NEED_MORE) read more (total, once known, says how much is needed);
 *     else if (n < 0) close with mqtt_error_reason(n) (v5) / mqtt_error_connack_v3(n);
 *     else { mqtt_packet p; ssize_t r = mqtt_decode(buf, n, level, &p); ... consume n bytes; }
 *
 * Strings and binary data are mqtt_bytes views (ptr, len): NOT NUL-terminated.
 */
#ifndef PP_MQTT_H
#define PP_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- wire constants ------------------------------------------------------------------ */

enum mqtt_level {
    MQTT_V31 = 3,   /* MQTT 3.1, protocol name "MQIsdp" */
    MQTT_V311 = 4,  /* MQTT 3.1.1, protocol name "MQTT" */
    MQTT_V5 = 5,    /* MQTT 5.0, protocol name "MQTT" */
};

enum mqtt_type {
    MQTT_CONNECT = 1, MQTT_CONNACK = 2, MQTT_PUBLISH = 3, MQTT_PUBACK = 4, MQTT_PUBREC = 5,
    MQTT_PUBREL = 6, MQTT_PUBCOMP = 7, MQTT_SUBSCRIBE = 8, MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10, MQTT_UNSUBACK = 11, MQTT_PINGREQ = 12, MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14, MQTT_AUTH = 15, /* AUTH exists in 5.0 only; reserved before */
};

#define MQTT_MAX_REMAINING 268435455u              /* 4-byte Variable Byte Integer maximum */
#define MQTT_MAX_PACKET (5u + MQTT_MAX_REMAINING)  /* type byte + 4 length bytes + remaining */
#define MQTT_V31_MAX_CLIENT_ID 23                  /* MQTT 3.1: 1..23 bytes */

/* CONNECT flag bits (MQTT-3.1.2-3: bit 0 reserved, must be 0). */
enum mqtt_connect_flag {
    MQTT_CF_RESERVED = 0x01, MQTT_CF_CLEAN = 0x02, MQTT_CF_WILL = 0x04,
    MQTT_CF_WILL_QOS_MASK = 0x18, MQTT_CF_WILL_RETAIN = 0x20, MQTT_CF_PASSWORD = 0x40,
    MQTT_CF_USERNAME = 0x80,
};

/* v5 property identifiers (MQTT 5.0 section 2.2.2.2). */
enum mqtt_prop_id {
    MQTT_PROP_PAYLOAD_FORMAT = 0x01,          /* byte      PUBLISH, Will */
    MQTT_PROP_MESSAGE_EXPIRY = 0x02,          /* u32       PUBLISH, Will */
    MQTT_PROP_CONTENT_TYPE = 0x03,            /* string    PUBLISH, Will */
    MQTT_PROP_RESPONSE_TOPIC = 0x08,          /* string    PUBLISH, Will */
    MQTT_PROP_CORRELATION_DATA = 0x09,        /* binary    PUBLISH, Will */
    MQTT_PROP_SUBSCRIPTION_ID = 0x0B,         /* varint    PUBLISH (repeatable), SUBSCRIBE */
    MQTT_PROP_SESSION_EXPIRY = 0x11,          /* u32       CONNECT, CONNACK, DISCONNECT */
    MQTT_PROP_ASSIGNED_CLIENT_ID = 0x12,      /* string    CONNACK */
    MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,       /* u16       CONNACK */
    MQTT_PROP_AUTH_METHOD = 0x15,             /* string    CONNECT, CONNACK, AUTH */
    MQTT_PROP_AUTH_DATA = 0x16,               /* binary    CONNECT, CONNACK, AUTH */
    MQTT_PROP_REQUEST_PROBLEM_INFO = 0x17,    /* byte 0/1  CONNECT */
    MQTT_PROP_WILL_DELAY = 0x18,              /* u32       Will */
    MQTT_PROP_REQUEST_RESPONSE_INFO = 0x19,   /* byte 0/1  CONNECT */
    MQTT_PROP_RESPONSE_INFO = 0x1A,           /* string    CONNACK */
    MQTT_PROP_SERVER_REFERENCE = 0x1C,        /* string    CONNACK, DISCONNECT */
    MQTT_PROP_REASON_STRING = 0x1F,           /* string    CONNACK, PUBACK..PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH */
    MQTT_PROP_RECEIVE_MAXIMUM = 0x21,         /* u16 > 0   CONNECT, CONNACK */
    MQTT_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,     /* u16       CONNECT, CONNACK */
    MQTT_PROP_TOPIC_ALIAS = 0x23,             /* u16 > 0   PUBLISH */
    MQTT_PROP_MAXIMUM_QOS = 0x24,             /* byte 0/1  CONNACK */
    MQTT_PROP_RETAIN_AVAILABLE = 0x25,        /* byte 0/1  CONNACK */
    MQTT_PROP_USER_PROPERTY = 0x26,           /* pair      every packet with properties, repeatable */
    MQTT_PROP_MAXIMUM_PACKET_SIZE = 0x27,     /* u32 > 0   CONNECT, CONNACK */
    MQTT_PROP_WILDCARD_SUB_AVAILABLE = 0x28,  /* byte 0/1  CONNACK */
    MQTT_PROP_SUB_ID_AVAILABLE = 0x29,        /* byte 0/1  CONNACK */
    MQTT_PROP_SHARED_SUB_AVAILABLE = 0x2A,    /* byte 0/1  CONNACK */
};

/* Property value types. */
enum mqtt_prop_kind {
    MQTT_PK_NONE = 0, MQTT_PK_BYTE, MQTT_PK_U16, MQTT_PK_U32, MQTT_PK_VARINT,
    MQTT_PK_STRING, MQTT_PK_BINARY, MQTT_PK_PAIR,
};

/* Property "context" for mqtt_prop_allowed(): a packet type, or this for Will properties. */
#define MQTT_PROP_CTX_WILL 0

/* v5 reason codes (and the 3.1.1 SUBACK failure 0x80). Names: mqtt_reason_name(). */
enum mqtt_reason {
    MQTT_RC_SUCCESS = 0x00,                /* also Normal disconnection, Granted QoS 0 */
    MQTT_RC_GRANTED_QOS_1 = 0x01,
    MQTT_RC_GRANTED_QOS_2 = 0x02,
    MQTT_RC_DISCONNECT_WITH_WILL = 0x04,
    MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    MQTT_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
    MQTT_RC_CONTINUE_AUTH = 0x18,
    MQTT_RC_REAUTHENTICATE = 0x19,
    MQTT_RC_UNSPECIFIED_ERROR = 0x80,
    MQTT_RC_MALFORMED_PACKET = 0x81,
    MQTT_RC_PROTOCOL_ERROR = 0x82,
    MQTT_RC_IMPL_SPECIFIC_ERROR = 0x83,
    MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
    MQTT_RC_CLIENT_ID_NOT_VALID = 0x85,
    MQTT_RC_BAD_USERNAME_OR_PASSWORD = 0x86,
    MQTT_RC_NOT_AUTHORIZED = 0x87,
    MQTT_RC_SERVER_UNAVAILABLE = 0x88,
    MQTT_RC_SERVER_BUSY = 0x89,
    MQTT_RC_BANNED = 0x8A,
    MQTT_RC_SERVER_SHUTTING_DOWN = 0x8B,
    MQTT_RC_BAD_AUTH_METHOD = 0x8C,
    MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    MQTT_RC_SESSION_TAKEN_OVER = 0x8E,
    MQTT_RC_TOPIC_FILTER_INVALID = 0x8F,
    MQTT_RC_TOPIC_NAME_INVALID = 0x90,
    MQTT_RC_PACKET_ID_IN_USE = 0x91,
    MQTT_RC_PACKET_ID_NOT_FOUND = 0x92,
    MQTT_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
    MQTT_RC_TOPIC_ALIAS_INVALID = 0x94,
    MQTT_RC_PACKET_TOO_LARGE = 0x95,
    MQTT_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    MQTT_RC_QUOTA_EXCEEDED = 0x97,
    MQTT_RC_ADMINISTRATIVE_ACTION = 0x98,
    MQTT_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    MQTT_RC_RETAIN_NOT_SUPPORTED = 0x9A,
    MQTT_RC_QOS_NOT_SUPPORTED = 0x9B,
    MQTT_RC_USE_ANOTHER_SERVER = 0x9C,
    MQTT_RC_SERVER_MOVED = 0x9D,
    MQTT_RC_SHARED_SUBS_NOT_SUPPORTED = 0x9E,
    MQTT_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    MQTT_RC_MAXIMUM_CONNECT_TIME = 0xA0,
    MQTT_RC_SUB_IDS_NOT_SUPPORTED = 0xA1,
    MQTT_RC_WILDCARD_SUBS_NOT_SUPPORTED = 0xA2,
};

/* 3.1 / 3.1.1 CONNACK return codes. */
enum mqtt_connack_v3 {
    MQTT_V3_ACCEPTED = 0x00, MQTT_V3_BAD_PROTOCOL_VERSION = 0x01, MQTT_V3_IDENTIFIER_REJECTED = 0x02,
    MQTT_V3_SERVER_UNAVAILABLE = 0x03, MQTT_V3_BAD_USERNAME_OR_PASSWORD = 0x04,
    MQTT_V3_NOT_AUTHORIZED = 0x05,
};

/* ---- results ------------------------------------------------------------------------- */

#define MQTT_NEED_MORE 0 /* mqtt_frame/mqtt_decode: the prefix is still plausible; feed more bytes */

/* Errors are negative. Names are stable ("mqtt.<name>"): logs, reports and scenarios match on
 * them. mqtt_error_info_get() gives name, message and the normative statements enforced. */
enum mqtt_error {
    /* framing (mqtt_frame) */
    MQTT_ERR_MALFORMED_REMAINING_LENGTH = -1, /* mqtt.malformed_remaining_length: > 4 bytes or non-minimal (MQTT-1.5.5-1) */
    MQTT_ERR_PACKET_TOO_LARGE = -2,     /* mqtt.packet_too_large: over max_packet (MQTT-3.1.2-24, MQTT-4.13) */
    MQTT_ERR_RESERVED_TYPE = -3,        /* mqtt.reserved_type: type 0, or 15 (AUTH) before 5.0 */
    MQTT_ERR_BAD_FIXED_FLAGS = -4,      /* mqtt.bad_fixed_flags: reserved flag bits wrong (MQTT-2.2.2-1, MQTT-2.2.2-2) */
    MQTT_ERR_BAD_QOS = -5,              /* mqtt.bad_qos: PUBLISH or Will QoS 3, or requested QoS 3 (MQTT-3.3.1-4) */

    /* structure (mqtt_decode) */
    MQTT_ERR_FIELD_OVERRUN = -10,       /* mqtt.field_overrun: a field runs past the remaining length */
    MQTT_ERR_TRAILING_BYTES = -11,      /* mqtt.trailing_bytes: bytes left after the last field */
    MQTT_ERR_MALFORMED_VARINT = -12,    /* mqtt.malformed_varint: property length or subscription id */
    MQTT_ERR_INVALID_UTF8 = -13,        /* mqtt.invalid_utf8: ill-formed, surrogate or U+0000 (MQTT-1.5.4-1..2, 3.1.1: MQTT-1.5.3-1..2) */

    /* CONNECT */
    MQTT_ERR_BAD_PROTOCOL_NAME = -20,   /* mqtt.bad_protocol_name: not "MQTT"/"MQIsdp" (MQTT-3.1.2-1) */
    MQTT_ERR_UNSUPPORTED_PROTOCOL_LEVEL = -21, /* mqtt.unsupported_protocol_level: level not 3/4/5 or name mismatch (MQTT-3.1.2-2) */
    MQTT_ERR_BAD_CONNECT_FLAGS = -22,   /* mqtt.bad_connect_flags: reserved bit, will qos/retain without will,
                                           3.1.1 password without username (MQTT-3.1.2-3, -11, -13, -15, -22) */
    MQTT_ERR_BAD_CLIENT_ID = -23,       /* mqtt.bad_client_id: empty with clean=0 (3.1.1), 3.1 length (MQTT-3.1.3-8) */

    /* PUBLISH, SUBSCRIBE, UNSUBSCRIBE */
    MQTT_ERR_TOPIC_WILDCARD_IN_PUBLISH = -30, /* mqtt.topic_wildcard_in_publish (MQTT-3.3.2-2) */
    MQTT_ERR_BAD_TOPIC_NAME = -31,      /* mqtt.bad_topic_name: empty without a v5 Topic Alias (MQTT-4.7.3-1, MQTT-3.3.2-1) */
    MQTT_ERR_BAD_TOPIC_FILTER = -32,    /* mqtt.bad_topic_filter: empty, misplaced + or #, bad $share (MQTT-4.7.1-1..3, MQTT-4.7.3-1) */
    MQTT_ERR_ZERO_PACKET_ID = -33,      /* mqtt.zero_packet_id (MQTT-2.2.1-3, 3.1.1: MQTT-2.3.1-1) */
    MQTT_ERR_NO_TOPIC_FILTERS = -34,    /* mqtt.no_topic_filters: SUBSCRIBE/UNSUBSCRIBE with no payload (MQTT-3.8.3-3, MQTT-3.10.3-2) */
    MQTT_ERR_BAD_SUBSCRIPTION_OPTIONS = -35, /* mqtt.bad_subscription_options: reserved bits, retain handling 3 (MQTT-3.8.3-4/5) */
    MQTT_ERR_NO_LOCAL_ON_SHARED = -36,  /* mqtt.no_local_on_shared (MQTT-3.8.3-4 in 5.0) */
    MQTT_ERR_DUP_ON_QOS0 = -37,         /* mqtt.dup_on_qos0 (MQTT-3.3.1-2) */

    /* acknowledgements */
    MQTT_ERR_BAD_REASON_CODE = -40,     /* mqtt.bad_reason_code: not defined for this packet type */
    MQTT_ERR_BAD_CONNACK_FLAGS = -41,   /* mqtt.bad_connack_flags: reserved bits, or session present with an error (MQTT-3.2.2-1, -4) */

    /* v5 properties */
    MQTT_ERR_BAD_PROPERTY = -50,        /* mqtt.bad_property: unknown id or not allowed in this packet (2.2.2.2) */
    MQTT_ERR_DUPLICATE_PROPERTY = -51,  /* mqtt.duplicate_property: a non-repeatable property twice */
    MQTT_ERR_BAD_PROPERTY_VALUE = -52,  /* mqtt.bad_property_value: 0 where forbidden, bool not 0/1, wildcard in Response Topic */
    MQTT_ERR_AUTH_DATA_WITHOUT_METHOD = -53, /* mqtt.auth_data_without_method (MQTT-3.1.2 / 4.12) */

    /* for callers (never returned by the codec itself) */
    MQTT_ERR_UNEXPECTED_PACKET = -60,   /* mqtt.unexpected_packet: e.g. first packet not CONNECT, second CONNECT (MQTT-3.1.0-1, -2) */
    MQTT_ERR_EOF = -61,                 /* mqtt.eof_mid_packet: connection closed inside a packet */
    MQTT_ERR_TIMEOUT = -62,             /* mqtt.timeout: no complete packet in time */
    MQTT_ERR_TOPIC_ALIAS_INVALID = -63, /* mqtt.topic_alias_invalid: alias 0 / above maximum / unknown (MQTT-3.3.2-7..9) */
    MQTT_ERR_PAYLOAD_FORMAT_INVALID = -64, /* mqtt.payload_format_invalid: indicator 1 and payload not UTF-8 */
    MQTT_ERR_PROTOCOL = -65,            /* mqtt.protocol_error: any other protocol violation a caller detects */
};

typedef struct mqtt_error_info {
    const char *name;    /* stable, e.g. "mqtt.invalid_utf8" */
    const char *message; /* one line for humans */
    const char *refs;    /* normative statements, comma-separated, e.g. "MQTT-1.5.4-1,MQTT-1.5.4-2" */
} mqtt_error_info;

/* Info for any MQTT_ERR_*; unknown codes give name "mqtt.unknown". */
const mqtt_error_info *mqtt_error_info_get(int err);
const char *mqtt_error_name(int err);
/* Reverse lookup ("mqtt.bad_qos" -> MQTT_ERR_BAD_QOS); 0 when the name is unknown. */
int mqtt_error_from_name(const char *name);
/* The v5 reason code a broker sends for this error, in CONNACK (before the session exists)
 * or DISCONNECT: 0x81 malformed, 0x82 protocol error, 0x84 unsupported version, 0x85 client id,
 * 0x95 packet too large, 0x90 topic name, 0x8F topic filter, 0x94 topic alias, 0x99 payload format. */
uint8_t mqtt_error_reason(int err);
/* The 3.1/3.1.1 CONNACK return code for an error in CONNECT (0x01 bad protocol version,
 * 0x02 identifier rejected), or -1 when the spec says close without a CONNACK. */
int mqtt_error_connack_v3(int err);

/* Name of a v5 reason code for logs ("success", "malformed_packet", "packet_too_large", ...);
 * "unknown" for undefined codes. 0x00-0x02 are named generically ("success", "granted_qos_1"...). */
const char *mqtt_reason_name(uint8_t code);
/* Name of a 3.1/3.1.1 CONNACK return code ("accepted", "unacceptable_protocol_version", ...). */
const char *mqtt_connack_v3_name(uint8_t code);
/* Packet type name ("CONNECT", ... "AUTH"; "RESERVED" for 0 and > 15). */
const char *mqtt_type_name(uint8_t type);

/* ---- views --------------------------------------------------------------------------- */

typedef struct mqtt_bytes {
    const uint8_t *ptr;
    size_t len;
} mqtt_bytes;

/* One property: id + kind; integer kinds in u, STRING/BINARY in s, PAIR in s (key) + v. */
typedef struct mqtt_prop {
    uint8_t id;
    uint8_t kind;     /* MQTT_PK_*; when encoding, 0 means "take the kind from the id" */
    uint32_t u;
    mqtt_bytes s, v;
} mqtt_prop;

/* A v5 property block. Decoding fills raw (the bytes after the length varint) and the
 * common fields below (first occurrence; present says which ids were seen).
 * Encoding uses list/count when list != NULL, otherwise copies raw verbatim. */
typedef struct mqtt_props {
    mqtt_bytes raw;
    uint64_t present;           /* bit (1 << id) per property id seen */
    const mqtt_prop *list;      /* encoding only */
    size_t count;               /* encoding only */

    uint8_t payload_format, request_problem_info, request_response_info, maximum_qos,
        retain_available, wildcard_sub_available, sub_id_available, shared_sub_available;
    uint16_t server_keep_alive, receive_maximum, topic_alias_maximum, topic_alias;
    uint32_t message_expiry, session_expiry, will_delay, maximum_packet_size;
    uint32_t subscription_id;   /* first one; PUBLISH may carry several: iterate */
    uint16_t subscription_id_count, user_property_count;
    mqtt_bytes content_type, response_topic, correlation_data, assigned_client_id,
        auth_method, auth_data, response_info, server_reference, reason_string;
} mqtt_props;

static inline bool mqtt_props_has(const mqtt_props *p, uint8_t id) { return id < 64 && ((p->present >> id) & 1u); }

/* Iterate a decoded block in wire order (user properties, repeated subscription ids, ...). */
typedef struct mqtt_prop_iter {
    const uint8_t *p, *end;
} mqtt_prop_iter;
void mqtt_prop_iter_init(mqtt_prop_iter *it, const mqtt_props *props);
void mqtt_prop_iter_init_raw(mqtt_prop_iter *it, mqtt_bytes raw);
/* 1 with *out filled, 0 at the end, or a negative MQTT_ERR_* (only on blocks mqtt_decode has not checked). */
int mqtt_prop_next(mqtt_prop_iter *it, mqtt_prop *out);
/* Next User Property (skips other ids): 1, 0 at the end, or < 0. */
int mqtt_user_prop_next(mqtt_prop_iter *it, mqtt_bytes *key, mqtt_bytes *value);

/* Property metadata: its value kind (MQTT_PK_NONE for unknown ids), its spec name
 * ("session_expiry_interval", ...; NULL if unknown), whether it may appear in ctx
 * (a packet type or MQTT_PROP_CTX_WILL), and whether it may repeat there. */
uint8_t mqtt_prop_kind(uint8_t id);
const char *mqtt_prop_name(uint8_t id);
bool mqtt_prop_allowed(uint8_t id, uint8_t ctx);
bool mqtt_prop_repeatable(uint8_t id, uint8_t ctx);
/* Validate and index a raw block for ctx: 0 or MQTT_ERR_* (bad_property, duplicate_property,
 * bad_property_value, invalid_utf8, malformed_varint, field_overrun, auth_data_without_method). */
int mqtt_props_parse(mqtt_bytes raw, uint8_t ctx, mqtt_props *out);

/* ---- packets ------------------------------------------------------------------------- */

typedef struct mqtt_connect {
    mqtt_bytes protocol_name;   /* "MQTT" or "MQIsdp"; encoding: ptr NULL = by level */
    uint8_t protocol_level;     /* MQTT_V31 / MQTT_V311 / MQTT_V5 (the byte as received) */
    uint8_t flags;              /* raw connect flags as received (encoding: built from the fields
                                   below; only the reserved bit 0 is copied from here) */
    bool clean_start;           /* Clean Session (3.x) / Clean Start (5.0) */
    bool will, will_retain;
    uint8_t will_qos;
    bool has_username, has_password; /* the flags; username/password below are valid only if set */
    uint16_t keep_alive;
    mqtt_props props;           /* v5 */
    mqtt_bytes client_id;
    mqtt_props will_props;      /* v5, when will */
    mqtt_bytes will_topic, will_payload;
    mqtt_bytes username, password;
} mqtt_connect;

typedef struct mqtt_connack {
    bool session_present;
    uint8_t reason;             /* v5 reason code or 3.x return code */
    mqtt_props props;           /* v5 */
} mqtt_connack;

typedef struct mqtt_publish {
    bool dup, retain;
    uint8_t qos;
    mqtt_bytes topic;
    uint16_t packet_id;         /* QoS > 0 only */
    mqtt_props props;           /* v5 */
    mqtt_bytes payload;
} mqtt_publish;

/* PUBACK, PUBREC, PUBREL, PUBCOMP. v5: a 2-byte packet means reason 0 and no properties;
 * the encoder writes the short form when reason == 0 and there are no properties. */
typedef struct mqtt_ack {
    uint16_t packet_id;
    uint8_t reason;
    mqtt_props props;
} mqtt_ack;

/* One SUBSCRIBE entry (options 0 and qos 0 for UNSUBSCRIBE entries). */
typedef struct mqtt_sub_entry {
    mqtt_bytes filter;
    uint8_t options;            /* raw byte; encoding uses this byte as is */
    uint8_t qos;                /* bits 0-1 */
    bool no_local, retain_as_published; /* v5 bits 2, 3 */
    uint8_t retain_handling;    /* v5 bits 4-5 */
} mqtt_sub_entry;

/* The SUBSCRIBE options byte from its parts (for mqtt_sub_entry.options when encoding). */
static inline uint8_t mqtt_sub_options(uint8_t qos, bool no_local, bool retain_as_published,
                                       uint8_t retain_handling)
{
    return (uint8_t)((qos & 3) | (no_local ? 4 : 0) | (retain_as_published ? 8 : 0) |
                     ((retain_handling & 3) << 4));
}

/* SUBSCRIBE and UNSUBSCRIBE. Decoding: entries is the payload view, count its entries;
 * walk it with mqtt_sub_iter. Encoding uses list/list_count when list != NULL, else entries. */
typedef struct mqtt_subscribe {
    uint16_t packet_id;
    mqtt_props props;           /* v5 */
    mqtt_bytes entries;
    uint32_t count;
    const mqtt_sub_entry *list; /* encoding only */
    size_t list_count;
} mqtt_subscribe;

/* SUBACK and UNSUBACK: one reason/return code byte per filter (3.x UNSUBACK: none). */
typedef struct mqtt_suback {
    uint16_t packet_id;
    mqtt_props props;           /* v5 */
    mqtt_bytes reasons;
} mqtt_suback;

/* DISCONNECT and AUTH (v5: a 0-byte body means reason 0 and no properties; the encoder
 * writes the empty form when reason == 0 and there are no properties). */
typedef struct mqtt_reasoned {
    uint8_t reason;
    mqtt_props props;
} mqtt_reasoned;

typedef struct mqtt_packet {
    uint8_t type;               /* MQTT_* type */
    uint8_t flags;              /* low nibble of the first byte */
    uint8_t level;              /* protocol level used to decode (CONNECT: its own level) */
    size_t header_len;          /* fixed header: 1 + length bytes */
    size_t remaining_len;
    size_t total_len;
    const uint8_t *raw;         /* view: the whole packet */
    union {
        mqtt_connect connect;
        mqtt_connack connack;
        mqtt_publish publish;
        mqtt_ack ack;               /* PUBACK, PUBREC, PUBREL, PUBCOMP */
        mqtt_subscribe subscribe;   /* SUBSCRIBE, UNSUBSCRIBE */
        mqtt_suback suback;         /* SUBACK, UNSUBACK */
        mqtt_reasoned disconnect;   /* DISCONNECT */
        mqtt_reasoned auth;         /* AUTH */
    };
} mqtt_packet;

/* Iterate SUBSCRIBE/UNSUBSCRIBE entries of a decoded packet (other types: no entries). */
typedef struct mqtt_sub_iter {
    const uint8_t *p, *end;
    bool with_options;          /* SUBSCRIBE: filter + options byte; UNSUBSCRIBE: filter only */
} mqtt_sub_iter;
void mqtt_sub_iter_init(mqtt_sub_iter *it, const mqtt_packet *pkt);
/* 1 with *out filled, 0 at the end (entries were validated by mqtt_decode). */
int mqtt_sub_next(mqtt_sub_iter *it, mqtt_sub_entry *out);

/* ---- decoding ------------------------------------------------------------------------ */

/* Frame the packet at the start of buf[0..len).
 * Returns the total packet length (> 0) when all of it is in buf, MQTT_NEED_MORE while the
 * prefix is plausible, or MQTT_ERR_* as soon as the bytes rule the packet out: reserved type 0,
 * wrong reserved flags, PUBLISH QoS 3 (first byte), a 5th length byte or non-minimal length,
 * a total above max_packet (checked as soon as the length is known, before the body arrives).
 * max_packet 0 = MQTT_MAX_PACKET. Out pointers may be NULL; *type and *flags are set once
 * the first byte is seen; *total_len once the remaining length is complete (also with
 * MQTT_NEED_MORE, so a caller knows how much to read). Never reads past buf[len-1]. */
ssize_t mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet,
                   uint8_t *type, uint8_t *flags, size_t *total_len);

/* Decode and fully validate one packet at the start of buf (frames it first, no size limit).
 * level is the connection's protocol level (MQTT_V31/V311/V5); CONNECT is decoded by its own
 * level and pkt->level reports it. Returns total length, MQTT_NEED_MORE or MQTT_ERR_*.
 * On error *pkt is partly filled (type, and for CONNECT the protocol level and name, so a
 * broker can answer in the right version). Direction rules (e.g. a client must not send a
 * Subscription Identifier in PUBLISH) are left to the caller.
 * Note for clients: a 3.1.1-only server answers a 5.0 CONNECT with the 3.1.1 CONNACK
 * "20 02 00 01"; decoded at MQTT_V5 that is an error, so retry the CONNACK at MQTT_V311. */
ssize_t mqtt_decode(const uint8_t *buf, size_t len, uint8_t level, mqtt_packet *pkt);

/* One line for logs, e.g. `PUBLISH qos=1 id=5 topic="a/b" payload=12B props=2` or
 * `CONNECT level=5 client_id="c1" clean=1 keep_alive=60 user="alice" password=3B`. Strings are
 * quoted with non-printable bytes as \xNN and cut after 64 bytes. Always NUL-terminates when
 * cap > 0; returns the length written. For packets mqtt_decode accepted. */
size_t mqtt_packet_summary(const mqtt_packet *pkt, char *buf, size_t cap);

/* ---- encoding ------------------------------------------------------------------------ */

#define MQTT_ENC_NO_SPACE (-1) /* cap too small */
#define MQTT_ENC_INVALID (-2)  /* unrepresentable: string > 65535, remaining > MQTT_MAX_REMAINING, bad type */

/* Zero *pkt and set its type (and flags 0x2 for PUBREL/SUBSCRIBE/UNSUBSCRIBE). */
void mqtt_packet_init(mqtt_packet *pkt, uint8_t type);

/* Encode pkt for protocol level (properties only for MQTT_V5; CONNECT uses
 * pkt->connect.protocol_level when non-zero). Fixed-header flags are derived (PUBLISH:
 * dup/qos/retain; PUBREL/SUBSCRIBE/UNSUBSCRIBE: 0x2). Returns the length written, or
 * MQTT_ENC_NO_SPACE / MQTT_ENC_INVALID. Values are written as given (no semantic checks),
 * so a caller can build deliberately invalid packets; mqtt_decode validates. */
ssize_t mqtt_encode(uint8_t *buf, size_t cap, uint8_t level, const mqtt_packet *pkt);
/* The length mqtt_encode would produce, or MQTT_ENC_INVALID. */
ssize_t mqtt_encode_size(uint8_t level, const mqtt_packet *pkt);

/* A property block's content (no length prefix) from a list, or MQTT_ENC_*; the kind of
 * each item comes from its id when item.kind is 0. */
ssize_t mqtt_props_encode(uint8_t *buf, size_t cap, const mqtt_prop *list, size_t count);

/* Variable Byte Integer: write (1-4 bytes, or MQTT_ENC_*) and read (bytes used, 0 need more,
 * MQTT_ERR_MALFORMED_VARINT when over 4 bytes or non-minimal). */
ssize_t mqtt_varint_encode(uint8_t *buf, size_t cap, uint32_t value);
int mqtt_varint_decode(const uint8_t *buf, size_t len, uint32_t *value);

/* ---- UTF-8 and topics ---------------------------------------------------------------- */

/* MQTT UTF-8 rules: well-formed, no surrogates, no U+0000 (MQTT-1.5.4-1, -2). */
bool mqtt_utf8_valid(const uint8_t *s, size_t len);

/* Topic Name: non-empty, valid UTF-8, no '+' or '#'. 0 or MQTT_ERR_* (bad_topic_name,
 * invalid_utf8, topic_wildcard_in_publish). */
int mqtt_topic_name_check(const uint8_t *s, size_t len);
/* Topic Filter: non-empty, valid UTF-8, '+' a whole level, '#' a whole last level
 * (MQTT-4.7.1-2, -3); a $share/<group>/<filter> needs a non-empty group without
 * wildcards and a valid filter (v5 4.8.2). 0 or MQTT_ERR_* (bad_topic_filter, invalid_utf8). */
int mqtt_topic_filter_check(const uint8_t *s, size_t len);
/* Does a valid filter match a valid topic name? '+' one level, '#' this level and below
 * (also the parent: "a/#" matches "a"), and a filter starting with a wildcard never
 * matches a topic starting with '$' (MQTT-4.7.2-1). Shared filters: match the inner filter. */
bool mqtt_topic_match(const uint8_t *filter, size_t flen, const uint8_t *topic, size_t tlen);
/* Shared subscription: 1 with group and inner filter views for "$share/g/f", 0 when not
 * shared, MQTT_ERR_BAD_TOPIC_FILTER when it starts "$share/" but is malformed. */
int mqtt_shared_parse(const uint8_t *s, size_t len, mqtt_bytes *group, mqtt_bytes *filter);

/* Convenience for C strings. */
static inline mqtt_bytes mqtt_cstr(const char *s)
{
    mqtt_bytes b = { (const uint8_t *)s, 0 };
    if (s)
        while (s[b.len])
            b.len++;
    return b;
}

#endif
