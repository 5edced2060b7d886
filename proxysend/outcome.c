/* Outcome classification: CONNACK (decoded), other bytes, FIN, RST, or silence. */
#include "outcome.h"

#include <string.h>

#include "describe.h"

/* Enough is known to stop reading before the peer closes or the timeout passes. */
static bool decided(const ps_opts *o, const ps_outcome *out, bool mqtt_sent)
{
    switch (o->expect) {
    case PS_EXPECT_CONNACK:
        return out->connack_seen || out->not_connack;
    case PS_EXPECT_BYTES:
        return out->len >= o->expect_len || memcmp(out->data, o->expect_bytes, out->len) != 0;
    case PS_EXPECT_SILENCE:
    case PS_EXPECT_CLOSE:
    case PS_EXPECT_FIN:
    case PS_EXPECT_RST:
        return out->total > 0 && o->expect == PS_EXPECT_SILENCE;
    case PS_EXPECT_NONE:
        return mqtt_sent && (out->connack_seen || out->not_connack);
    }
    return false;
}

void ps_outcome_wait(ps_conn *c, const ps_opts *o, bool mqtt_sent, ps_outcome *out)
{
    memset(out, 0, sizeof *out);
    long long start = ps_now_ms(), deadline = start + o->timeout_ms;
    uint8_t buf[16384];
    for (;;) {
        size_t got;
        enum ps_read_status st = ps_conn_read(c, buf, sizeof buf, deadline, &got);
        if (st == PS_READ_DATA) {
            size_t keep = got;
            if (out->len + keep > sizeof out->data)
                keep = sizeof out->data - out->len;
            memcpy(out->data + out->len, buf, keep);
            out->len += keep;
            out->total += got;
            if (!out->connack_seen && !out->not_connack) {
                int r = ps_mqtt_decode_connack(out->data, out->len, o->mqtt_version, &out->connack);
                if (r > 0) out->connack_seen = true;
                else if (r < 0) out->not_connack = true;
            }
            if (decided(o, out, mqtt_sent))
                break;
            continue;
        }
        if (st == PS_READ_FIN) out->fin = true;
        else if (st == PS_READ_RST) out->rst = true;
        else if (st == PS_READ_TIMEOUT) out->timeout = true;
        else out->error = true;
        break;
    }
    out->elapsed_ms = ps_now_ms() - start;
}

bool ps_outcome_met(const ps_opts *o, const ps_outcome *out)
{
    switch (o->expect) {
    case PS_EXPECT_NONE: return true;
    case PS_EXPECT_CONNACK:
        return out->connack_seen && (o->expect_code < 0 || out->connack.code == o->expect_code);
    case PS_EXPECT_CLOSE: return out->fin || out->rst;
    case PS_EXPECT_FIN: return out->fin;
    case PS_EXPECT_RST: return out->rst;
    case PS_EXPECT_BYTES:
        return out->len >= o->expect_len && memcmp(out->data, o->expect_bytes, o->expect_len) == 0;
    case PS_EXPECT_SILENCE: return out->total == 0 && out->timeout;
    }
    return false;
}

void ps_expect_text(const ps_opts *o, char *buf, size_t cap)
{
    switch (o->expect) {
    case PS_EXPECT_NONE: snprintf(buf, cap, "none"); break;
    case PS_EXPECT_CONNACK:
        if (o->expect_code >= 0) snprintf(buf, cap, "connack=%d", o->expect_code);
        else snprintf(buf, cap, "connack");
        break;
    case PS_EXPECT_CLOSE: snprintf(buf, cap, "close"); break;
    case PS_EXPECT_FIN: snprintf(buf, cap, "fin"); break;
    case PS_EXPECT_RST: snprintf(buf, cap, "rst"); break;
    case PS_EXPECT_SILENCE: snprintf(buf, cap, "silence"); break;
    case PS_EXPECT_BYTES: {
        char hex[128];
        ps_hex_string(o->expect_bytes, o->expect_len, hex, sizeof hex);
        snprintf(buf, cap, "bytes:%s", hex);
        break;
    }
    }
}

static const char *close_kind(const ps_outcome *out)
{
    return out->rst ? "rst" : out->fin ? "fin" : out->error ? "error" : "none";
}

void ps_outcome_print(FILE *f, const ps_opts *o, const ps_outcome *out, bool json)
{
    char expect[160];
    ps_expect_text(o, expect, sizeof expect);
    bool met = ps_outcome_met(o, out);
    if (json) {
        size_t shown = out->len > 4096 ? 4096 : out->len;
        char hex[8193];
        ps_hex_string(out->data, shown, hex, sizeof hex);
        fprintf(f, "\"received_len\":%zu,\"received_hex\":\"%s\",\"connack\":", out->total, hex);
        if (out->connack_seen)
            fprintf(f, "{\"code\":%u,\"session_present\":%s,\"name\":\"%s\"}", out->connack.code,
                    out->connack.session_present ? "true" : "false",
                    ps_mqtt_connack_name(out->connack.code, o->mqtt_version));
        else
            fputs("null", f);
        fprintf(f, ",\"close\":\"%s\",\"silence\":%s,\"elapsed_ms\":%lld,\"expect\":\"%s\",\"met\":%s", close_kind(out),
                out->timeout && out->total == 0 ? "true" : "false", out->elapsed_ms, expect, met ? "true" : "false");
        return;
    }
    if (out->connack_seen)
        fprintf(f, "received: CONNACK code %u (%s), session present %d\n", out->connack.code,
                ps_mqtt_connack_name(out->connack.code, o->mqtt_version), out->connack.session_present);
    if (out->total && (!out->connack_seen || out->total > out->connack.packet_len)) {
        fprintf(f, "received: %zu bytes%s\n", out->total, out->total > out->len ? " (first 64 KiB shown)" : "");
        ps_hexdump(f, out->data, out->len > 512 ? 512 : out->len);
    }
    if (out->rst)
        fprintf(f, "closed: RST (connection reset) after %lld ms\n", out->elapsed_ms);
    else if (out->fin)
        fprintf(f, "closed: FIN (orderly close) after %lld ms\n", out->elapsed_ms);
    else if (out->timeout && out->total == 0)
        fprintf(f, "silence: nothing received for %u ms, connection still open\n", o->timeout_ms);
    else if (out->timeout)
        fprintf(f, "open: no close within %u ms\n", o->timeout_ms);
    else if (out->error)
        fprintf(f, "error: read failed\n");
    if (o->expect != PS_EXPECT_NONE)
        fprintf(f, "expect %s: %s\n", expect, met ? "met" : "NOT met");
}
