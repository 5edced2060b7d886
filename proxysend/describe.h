/* Output helpers shared by dry runs, the sender's report and --listen: hexdumps, JSON
 * strings, and a parsed header as text or JSON. */
#ifndef PROXYSEND_DESCRIBE_H
#define PROXYSEND_DESCRIBE_H

#include <stdbool.h>
#include <stdio.h>

#include "proxy/proxy.h"

/* xxd-style: "00000000: 5052 4f58 ...  PROXY ..." */
void ps_hexdump(FILE *f, const uint8_t *p, size_t n);
/* Lowercase hex without separators into out (NUL-terminated, truncated to cap). */
void ps_hex_string(const uint8_t *p, size_t n, char *out, size_t cap);
/* A JSON string literal, quotes included. */
void ps_json_string(FILE *f, const char *s, size_t n);
/* The parsed header as a JSON object (same field names as ppbroker's PROXY object). */
void ps_header_json(FILE *f, const pp_header *h);

/* Parse hdr[0..len) with strict default options. Returns what pp_parse returned. When strict
 * parsing fails, *lenient is filled by a second parse that tolerates duplicates, long
 * UNIQUE_IDs and bad CRCs (so reports can still show the fields); lenient_ok says if it worked. */
ssize_t ps_parse_both(const uint8_t *hdr, size_t len, pp_header *strict, pp_header *lenient, bool *lenient_ok);

/* Dry-run report for built header bytes: hexdump + decoded fields or the error (text), or one
 * JSON object. */
void ps_describe_built(FILE *f, const uint8_t *hdr, size_t len, bool json, const char *profile);

#endif
