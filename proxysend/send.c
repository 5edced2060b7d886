/* Delivery: the header (once or twice), then the payload, written in the pieces the user
 * asked for (--split, --byte-at-a-time, --coalesce), TLS after the cleartext part. */
#include "send.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "describe.h"
#include "header.h"
#include "outcome.h"
#include "payload.h"

size_t ps_plan_pieces(const ps_opts *o, size_t header_len, size_t copies, size_t total, size_t *ends, size_t max)
{
    size_t n = 0;
    size_t headers_end = header_len * copies;
    if (total == 0 || max == 0)
        return 0;
    if (o->coalesce) {
        ends[n++] = total;
    } else if (o->byte_at_a_time) {
        for (size_t i = 1; i <= headers_end && n < max - 1; i++)
            ends[n++] = i;
        if (total > headers_end || n == 0)
            ends[n++] = total;
    } else if (o->nsplits) {
        for (size_t i = 0; i < o->nsplits && n < max - 1; i++)
            if (o->splits[i] < total)
                ends[n++] = o->splits[i];
        ends[n++] = total;
    } else {
        /* one write per header copy (R-GEN-09: a sender writes its header at once), then the payload */
        for (size_t k = 1; k <= copies && n < max - 1; k++)
            if (header_len)
                ends[n++] = header_len * k;
        if (total > headers_end || n == 0)
            ends[n++] = total;
    }
    return n;
}

static void default_endpoints(const ps_opts *o, pp_endpoint *src, pp_endpoint *dst)
{
    /* dry run: no socket, so documented stand-ins (the target when it is numeric) */
    pp_endpoint_parse("127.0.0.1:40000", src);
    if (!o->target || pp_endpoint_parse(o->target, dst) != 0)
        pp_endpoint_parse("127.0.0.1:1883", dst);
}

static bool payload_has_mqtt(const ps_opts *o)
{
    for (size_t i = 0; i < o->npayloads; i++)
        if (o->payloads[i].kind == PS_PAY_MQTT_CONNECT)
            return true;
    return false;
}

static int dry_run(const ps_opts *o)
{
    pp_endpoint src, dst;
    default_endpoints(o, &src, &dst);
    static uint8_t hdr[PS_HEADER_CAP];
    char err[512];
    ssize_t n = ps_header_build(o, &src, &dst, hdr, sizeof hdr, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "proxysend: %s\n", err);
        return PS_EXIT_USAGE;
    }
    uint8_t *payload = NULL;
    size_t plen = 0;
    if (ps_payload_build(o, &payload, &plen, err, sizeof err)) {
        fprintf(stderr, "proxysend: %s\n", err);
        return PS_EXIT_USAGE;
    }
    const char *profile = o->profile != PS_PROFILE_NONE ? ps_profile_name(o->profile) : NULL;
    if (o->json) {
        ps_describe_built(stdout, hdr, (size_t)n, true, profile);
    } else {
        ps_describe_built(stdout, hdr, (size_t)n, false, profile);
        if (plen) {
            printf("payload: %zu bytes%s\n", plen, o->tls ? " (sent inside TLS)" : "");
            ps_hexdump(stdout, payload, plen > 4096 ? 4096 : plen);
        }
    }
    free(payload);
    return PS_EXIT_MET;
}

static void print_endpoint(FILE *f, const pp_endpoint *ep)
{
    char a[160];
    pp_endpoint_addr_str(ep, a, sizeof a);
    fprintf(f, ep->family == PP_FAM_INET6 ? "[%s]:%u" : "%s:%u", a, ep->port);
}

static int connect_failure(const ps_opts *o, const char *err)
{
    if (o->json) {
        printf("{\"target\":");
        ps_json_string(stdout, o->target, strlen(o->target));
        printf(",\"error\":");
        ps_json_string(stdout, err, strlen(err));
        printf(",\"met\":false}\n");
    }
    fprintf(stderr, "proxysend: %s\n", err);
    return PS_EXIT_CONNECT;
}

int ps_send_main(const ps_opts *o)
{
    if (o->dry_run)
        return dry_run(o);
    signal(SIGPIPE, SIG_IGN);

    char err[512];
    uint8_t *payload = NULL;
    size_t plen = 0;
    if (ps_payload_build(o, &payload, &plen, err, sizeof err)) {
        fprintf(stderr, "proxysend: %s\n", err);
        return PS_EXIT_USAGE;
    }
    ps_conn c;
    if (ps_conn_open(&c, o, err, sizeof err)) {
        ps_conn_close(&c);
        free(payload);
        return connect_failure(o, err);
    }
    if (o->pcap_out && ps_conn_record(&c, o->pcap_out, err, sizeof err)) {
        ps_conn_close(&c);
        free(payload);
        fprintf(stderr, "proxysend: %s\n", err);
        return PS_EXIT_USAGE;
    }
    static uint8_t hdr[PS_HEADER_CAP];
    ssize_t hlen = ps_header_build(o, &c.local, &c.peer, hdr, sizeof hdr, err, sizeof err);
    if (hlen < 0) {
        ps_conn_close(&c);
        free(payload);
        fprintf(stderr, "proxysend: %s\n", err);
        return PS_EXIT_USAGE;
    }

    /* cleartext stream: header copies, then the payload unless it goes through TLS */
    size_t copies = o->header_twice ? 2 : 1;
    size_t clear_len = (size_t)hlen * copies + (o->tls ? 0 : plen);
    uint8_t *clear = malloc(clear_len ? clear_len : 1);
    if (!clear) {
        ps_conn_close(&c);
        free(payload);
        return PS_EXIT_CONNECT;
    }
    for (size_t k = 0; k < copies; k++)
        memcpy(clear + k * (size_t)hlen, hdr, (size_t)hlen);
    if (!o->tls && plen)
        memcpy(clear + (size_t)hlen * copies, payload, plen);

    if (o->pre_delay_ms)
        ps_sleep_ms(o->pre_delay_ms);
    size_t maxp = (o->byte_at_a_time ? (size_t)hlen * copies : 0) + PS_MAX_SPLITS + 4;
    size_t *pe = malloc(maxp * sizeof *pe);
    if (!pe) {
        free(clear);
        free(payload);
        ps_conn_close(&c);
        return PS_EXIT_CONNECT;
    }
    size_t npieces = ps_plan_pieces(o, (size_t)hlen, copies, clear_len, pe, maxp);
    size_t off = 0, writes = 0;
    int rc = PS_EXIT_MET;
    const char *failed = NULL;
    int write_errno = 0;
    for (size_t i = 0; i < npieces; i++) {
        if (i > 0 && o->delay_ms)
            ps_sleep_ms(o->delay_ms);
        if (ps_conn_write_all(&c, clear + off, pe[i] - off, o->timeout_ms)) {
            write_errno = errno;
            failed = strerror(errno);
            break;
        }
        writes++;
        off = pe[i];
    }
    if (!failed && o->tls) {
        if (ps_conn_tls_start(&c, o, err, sizeof err)) {
            free(pe);
            free(clear);
            free(payload);
            ps_conn_close(&c);
            return connect_failure(o, err);
        }
        if (plen) {
            if (o->delay_ms)
                ps_sleep_ms(o->delay_ms);
            if (ps_conn_write_all(&c, payload, plen, o->timeout_ms)) {
                write_errno = errno;
                failed = strerror(errno);
            }
            else
                writes++;
        }
    }
    if (!failed && o->half_close)
        ps_conn_half_close(&c);

    static ps_outcome out;
    ps_outcome_wait(&c, o, payload_has_mqtt(o), &out);
    if (failed && (write_errno == ECONNRESET || write_errno == EPIPE)) {
        /* the reset was consumed by the failing write; a later read only sees EOF */
        out.rst = true;
        out.fin = false;
    }
    bool met = ps_outcome_met(o, &out);
    rc = met ? PS_EXIT_MET : PS_EXIT_NOT_MET;

    if (o->json) {
        char hex[2 * 4096 + 1];
        ps_hex_string(hdr, (size_t)hlen > 4096 ? 4096 : (size_t)hlen, hex, sizeof hex);
        printf("{\"target\":");
        ps_json_string(stdout, o->target, strlen(o->target));
        char a[200];
        printf(",\"local\":\"");
        pp_endpoint_addr_str(&c.local, a, sizeof a);
        printf(c.local.family == PP_FAM_INET6 ? "[%s]:%u\"" : "%s:%u\"", a, c.local.port);
        printf(",\"profile\":\"%s\",\"header_len\":%zd,\"header_hex\":\"%s\",\"header_copies\":%zu,"
               "\"payload_len\":%zu,\"tls\":%s,\"writes\":%zu,\"write_error\":",
               ps_profile_name(o->profile), hlen, hex, copies, plen, o->tls ? "true" : "false", writes);
        if (failed)
            ps_json_string(stdout, failed, strlen(failed));
        else
            fputs("null", stdout);
        putchar(',');
        ps_outcome_print(stdout, o, &out, true);
        printf("}\n");
    } else if (!o->quiet) {
        printf("connected: ");
        print_endpoint(stdout, &c.local);
        printf(" -> ");
        print_endpoint(stdout, &c.peer);
        printf("\nsent: %zd-byte header%s + %zu payload bytes%s in %zu write%s\n", hlen,
               copies > 1 ? " (twice)" : "", plen, o->tls ? " (through TLS)" : "", writes, writes == 1 ? "" : "s");
        if (failed)
            printf("write failed: %s\n", failed);
        ps_outcome_print(stdout, o, &out, false);
    }
    fflush(stdout);
    free(pe);
    free(clear);
    free(payload);
    ps_conn_close(&c);
    return rc;
}
