/* proxysend option model: everything the command line can say, parsed into one struct.
 * Parsing is pure (no I/O except reading --tlv ssl-client-cert files at build time, which
 * happens in header.c), so tests/unit/test_proxysend_opts.c can drive it directly. */
#ifndef PROXYSEND_OPTS_H
#define PROXYSEND_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/proxy.h"

#define PS_MAX_TLVS 32      /* --tlv occurrences (SSL sub-TLVs included) */
#define PS_MAX_SPLITS 64    /* --split offsets */
#define PS_MAX_PAYLOADS 16  /* --hex/--file/--publish/... parts */
#define PS_MAX_VALUE 4096   /* one decoded --tlv value / --hex part */
#define PS_MAX_MUTATIONS 16

/* Exit statuses (also documented in proxysend.1). */
enum { PS_EXIT_MET = 0, PS_EXIT_NOT_MET = 1, PS_EXIT_USAGE = 2, PS_EXIT_CONNECT = 3 };

enum ps_mode { PS_MODE_SEND, PS_MODE_LISTEN, PS_MODE_RELAY, PS_MODE_HELP, PS_MODE_VERSION };

enum ps_profile {
    PS_PROFILE_NONE,
    PS_PROFILE_HAPROXY_V1, PS_PROFILE_HAPROXY_V2, PS_PROFILE_HAPROXY_V2_SSL,
    PS_PROFILE_HAPROXY_V2_SSL_CN, PS_PROFILE_HAPROXY_HEALTHCHECK, PS_PROFILE_NGINX_V1,
    PS_PROFILE_AWS_NLB, PS_PROFILE_AWS_NLB_HEALTHCHECK,
};

/* --family values; "unset" means: follow the socket (or --src) address family. */
enum ps_family { PS_FAM_UNSET, PS_FAM_TCP4, PS_FAM_TCP6, PS_FAM_UDP4, PS_FAM_UDP6, PS_FAM_UNIX,
                 PS_FAM_UNSPEC };

/* One --tlv NAME=VALUE. SSL parts (ssl, ssl-client, ssl-verify, ssl-<sub>) are kept in the
 * same ordered list; header.c gathers them into one SSL TLV placed where the first appeared. */
enum ps_tlv_kind {
    PS_TLV_PLAIN,       /* type + value bytes (alpn, authority, unique-id, netns, noop, raw) */
    PS_TLV_CRC_AUTO,    /* crc32c computed by the builder */
    PS_TLV_SSL_FLAG,    /* "ssl": switch the SSL TLV on with defaults */
    PS_TLV_SSL_CLIENT,  /* client bit field */
    PS_TLV_SSL_VERIFY,  /* verify value */
    PS_TLV_SSL_SUB,     /* an SSL sub-TLV (type 0x21..0x28 or raw) */
    PS_TLV_SSL_CERT_FILE, /* ssl-client-cert=FILE.pem: DER read at build time */
};

typedef struct ps_tlv_opt {
    enum ps_tlv_kind kind;
    uint8_t type;          /* TLV type, or SSL sub-type for PS_TLV_SSL_SUB */
    uint32_t number;       /* client flags / verify */
    uint8_t *value;        /* decoded bytes (heap), or the PEM path for CERT_FILE */
    size_t len;
    const char *name;      /* as typed, for messages */
} ps_tlv_opt;

/* --mutate NAME[=VALUE]: the deliberate malformations. */
enum ps_mutation_kind {
    PS_MUT_BAD_SIGNATURE, /* flip bit 0 of signature byte N (default 11) */
    PS_MUT_VERSION,       /* v2 version nibble */
    PS_MUT_COMMAND,       /* v2 command nibble */
    PS_MUT_FAMILY_BYTE,   /* v2 byte 14 */
    PS_MUT_LEN,           /* v2 length field, absolute */
    PS_MUT_LEN_DELTA,     /* v2 length field, real length + N */
    PS_MUT_TLV_LEN,       /* first TLV of a type: length field written as N */
    PS_MUT_CRC_CORRUPT, PS_MUT_CRC_LE,
    PS_MUT_V1_LEADING_ZEROS, PS_MUT_V1_DOUBLE_SPACE, PS_MUT_V1_LF_ONLY, PS_MUT_V1_CR_ONLY,
    PS_MUT_V1_OVERLONG, PS_MUT_V1_LOWERCASE, PS_MUT_V1_NO_CRLF, PS_MUT_V1_TEXT,
    PS_MUT_V1_UNKNOWN_TAIL,
};
typedef struct ps_mutation {
    enum ps_mutation_kind kind;
    long value;           /* numeric argument */
    uint8_t type;         /* PS_MUT_TLV_LEN: the TLV type */
    const char *text;     /* PS_MUT_V1_TEXT / V1_UNKNOWN_TAIL (points into argv) */
} ps_mutation;

enum ps_payload_kind { PS_PAY_HEX, PS_PAY_FILE, PS_PAY_STDIN, PS_PAY_MQTT_CONNECT,
                       PS_PAY_PUBLISH, PS_PAY_SUBSCRIBE };
typedef struct ps_payload_part {
    enum ps_payload_kind kind;
    uint8_t *bytes;       /* PS_PAY_HEX: decoded */
    size_t len;
    const char *text;     /* file path, or TOPIC[=MESSAGE] */
} ps_payload_part;

enum ps_expect_kind { PS_EXPECT_NONE, PS_EXPECT_CONNACK, PS_EXPECT_CLOSE, PS_EXPECT_FIN,
                      PS_EXPECT_RST, PS_EXPECT_BYTES, PS_EXPECT_SILENCE };

typedef struct ps_opts {
    enum ps_mode mode;
    const char *target;            /* HOST:PORT (send mode) */

    /* header */
    int version;                   /* 1 or 2; 0 = not given (profile or 2) */
    int command;                   /* PP_CMD_*; -1 = not given */
    enum ps_family family;
    const char *src, *dst;         /* text as given; NULL = the real socket's addresses */
    const char *bind;              /* --bind IP[:PORT]: local address of the client socket */
    enum ps_profile profile;
    ps_tlv_opt tlvs[PS_MAX_TLVS];
    size_t ntlvs;
    ps_mutation mutations[PS_MAX_MUTATIONS];
    size_t nmutations;
    uint8_t *raw_header;           /* --raw-header HEX (heap) */
    size_t raw_header_len;
    bool no_header;                /* --no-header: send the payload bare */

    /* delivery */
    size_t splits[PS_MAX_SPLITS];  /* offsets into the cleartext stream (header + payload) */
    size_t nsplits;
    bool byte_at_a_time, header_twice, coalesce, half_close;
    unsigned delay_ms;             /* between pieces */
    unsigned pre_delay_ms;         /* after connect, before the first byte */

    /* payload */
    ps_payload_part payloads[PS_MAX_PAYLOADS];
    size_t npayloads;
    int mqtt_version;              /* 3 (3.1), 4 (3.1.1), 5 */
    const char *client_id, *username, *password;
    unsigned keep_alive;
    int qos;

    /* TLS after the header */
    bool tls;
    const char *cert, *key, *cafile, *sni, *alpn;

    /* outcome */
    enum ps_expect_kind expect;
    int expect_code;               /* connack=CODE; -1 = any */
    uint8_t *expect_bytes;
    size_t expect_len;
    unsigned timeout_ms;

    /* output */
    bool dry_run, json, quiet;
    const char *pcap_out;

    /* --listen / --relay */
    const char *listen;            /* ADDR for --listen, LISTEN for --relay */
    const char *forward;           /* --forward HOST:PORT (listen) / --to BACKEND (relay) */
    bool keep_header;              /* --listen --forward: pass the header on too */
    unsigned count;                /* stop after N connections; 0 = run until signalled */
    const char *ready_file;        /* written with the bound address once listening */
} ps_opts;

/* Parse argv into o (which this initialises). On a usage error returns PS_EXIT_USAGE and
 * writes a message naming the option and the bad value into err. Returns 0 otherwise. */
int ps_opts_parse(int argc, char **argv, ps_opts *o, char *err, size_t errcap);
void ps_opts_free(ps_opts *o);

/* Small parsers shared with the rest of proxysend (and unit-tested). */
int ps_parse_duration_ms(const char *text, unsigned *out_ms);   /* "250ms", "2s", "1.5s", "300" (ms) */
/* Hex with optional spaces, colons and a leading "0x": returns a malloc'd buffer, or NULL. */
uint8_t *ps_parse_hex(const char *text, size_t *out_len);
const char *ps_profile_name(enum ps_profile p);
enum ps_profile ps_profile_from_name(const char *name);

#endif
