/* broker/quirks: `--quirk NAME` switches on one deliberate defect seen in the field, so the
 * conformance suite can prove that it catches broken receivers (issue 7 item 7).
 * Each quirk is a bit; the PROXY stage and the CN check test them at the exact point where
 * the defective receiver they imitate goes wrong. Never enable one in production. */
#ifndef PPB_QUIRKS_H
#define PPB_QUIRKS_H

#include <stdbool.h>
#include <stddef.h>

enum ppb_quirk {
    Q_ACCEPT_MISSING_HEADER = 1u << 0,      /* no header on a PROXY listener: serve as plain (EC-S-10) */
    Q_ACCEPT_HEADER_ON_PLAIN = 1u << 1,     /* plain listener: guess and use a header (R-GEN-14) */
    Q_IGNORE_CRC32C = 1u << 2,              /* a wrong CRC32C passes (R-CRC-06) */
    Q_TRUST_UNVERIFIED_CN = 1u << 3,        /* CN used without checking client flags / verify (R-SSL-02, A-12) */
    Q_CN_NUL_TRUNCATE = 1u << 4,            /* CN "admin\0evil" becomes "admin" (Mosquitto) */
    Q_LENIENT_V1_GRAMMAR = 1u << 5,         /* bare LF, repeated spaces, lower case, leading zeros (R-V1-*) */
    Q_NO_HEADER_TIMEOUT = 1u << 6,          /* silent connections are never closed (R-GEN-12, CVE-2021-23409) */
    Q_DECODE_BEFORE_COMPLETE = 1u << 7,     /* v1 decoded before CRLF, v2 before its TLVs (R-GEN-11, R-V1-22) */
    Q_WRONG_ADDRESS_ON_SPLIT = 1u << 8,     /* split inside the v2 address block overwrites it (Mosquitto) */
    Q_CLOSE_ON_LOCAL = 1u << 9,             /* LOCAL health checks are closed (R-V2-07; RabbitMQ, TBMQ) */
    Q_ACCEPT_UNKNOWN_COMMAND = 1u << 10,    /* v2 command 0x2-0xF treated as PROXY (R-V2-06) */
    Q_LAST_DUPLICATE_TLV_WINS = 1u << 11,   /* duplicated TLVs accepted, the last one used */
};

#define PPB_QUIRK_COUNT 12

/* Name -> bit; 0 for an unknown name. */
unsigned ppb_quirk_from_name(const char *name);
/* Bit -> name ("?" if not exactly one known bit). */
const char *ppb_quirk_name(unsigned bit);
/* The i-th quirk (0..PPB_QUIRK_COUNT-1), in the contract's order. */
unsigned ppb_quirk_at(size_t i);
/* One line per quirk "  name  what it breaks" for --help. */
const char *ppb_quirk_help(size_t i);

#endif
