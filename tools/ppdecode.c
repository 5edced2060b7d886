/* ppdecode: decode one PROXY protocol header given as hex, field by field.
 *
 *   ppdecode [options] HEX      the bytes as hex (spaces, colons and a 0x prefix allowed)
 *   ppdecode [options] -        the hex read from stdin
 *   ppdecode [options] -t TEXT  a v1 line as text; "\r" and "\n" escapes are understood
 *
 * Options select the parser policy (pp_options): --v1-only, --v2-only, --require-crc,
 * --skip-crc, --skip-tlvs, --reject-unspec, --reject-local-bad-family, --reject-dgram,
 * --allow-duplicates, --allow-long-unique-id, --reject-mapped-ipv4, --allow-unknown-suffix,
 * --max-header N.
 *
 * Exit status: 0 a complete, valid header; 1 invalid or incomplete; 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/proxy.h"

#define MAX_INPUT (PP_V2_MAX_LEN + 65536)

static void usage(FILE *f)
{
    fputs("usage: ppdecode [options] HEX | - | -t TEXT\n"
          "  decode one PROXY protocol v1/v2 header; exit 0 valid, 1 invalid, 2 usage\n"
          "options: --v1-only --v2-only --require-crc --skip-crc --skip-tlvs --reject-unspec\n"
          "         --reject-local-bad-family --reject-dgram --allow-duplicates\n"
          "         --allow-long-unique-id --reject-mapped-ipv4 --allow-unknown-suffix\n"
          "         --max-header N\n",
          f);
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex to bytes; whitespace, ':' and "0x" prefixes are skipped. -1 on bad input. */
static long parse_hex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ':')
            continue;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hi < 0) {
            p++;
            continue;
        }
        int v = hex_digit((unsigned char)*p);
        if (v < 0) {
            fprintf(stderr, "ppdecode: not a hex digit: '%c'\n", *p);
            return -1;
        }
        if (hi < 0) {
            hi = v;
            continue;
        }
        if (n == cap) {
            fprintf(stderr, "ppdecode: input longer than %zu bytes\n", cap);
            return -1;
        }
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    if (hi >= 0) {
        fprintf(stderr, "ppdecode: odd number of hex digits\n");
        return -1;
    }
    return (long)n;
}

/* Text with \r, \n, \t, \\ and \xHH escapes. */
static long parse_text(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        int c = (unsigned char)*p;
        if (c == '\\' && p[1]) {
            p++;
            switch (*p) {
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '0': c = 0; break;
            case 'x':
                if (hex_digit((unsigned char)p[1]) >= 0 && hex_digit((unsigned char)p[2]) >= 0) {
                    c = hex_digit((unsigned char)p[1]) << 4 | hex_digit((unsigned char)p[2]);
                    p += 2;
                    break;
                }
                /* fall through */
            default: c = (unsigned char)*p; break;
            }
        }
        if (n == cap)
            return -1;
        out[n++] = (uint8_t)c;
    }
    return (long)n;
}

static char *read_stdin(void)
{
    size_t cap = 2 * MAX_INPUT + 1, n = 0;
    char *s = malloc(cap + 1);
    if (s == NULL)
        return NULL;
    size_t r;
    while (n < cap && (r = fread(s + n, 1, cap - n, stdin)) > 0)
        n += r;
    s[n] = '\0';
    return s;
}

static bool set_option(const char *arg, pp_options *o)
{
    static const struct {
        const char *name;
        size_t off;
    } flags[] = {
        {"--require-crc", offsetof(pp_options, require_crc32c)},
        {"--skip-crc", offsetof(pp_options, skip_crc32c)},
        {"--skip-tlvs", offsetof(pp_options, skip_tlvs)},
        {"--reject-unspec", offsetof(pp_options, reject_unspec_proxy)},
        {"--reject-local-bad-family", offsetof(pp_options, reject_local_bad_family)},
        {"--reject-dgram", offsetof(pp_options, reject_dgram)},
        {"--allow-duplicates", offsetof(pp_options, allow_tlv_duplicates)},
        {"--allow-long-unique-id", offsetof(pp_options, allow_long_unique_id)},
        {"--reject-mapped-ipv4", offsetof(pp_options, v1_reject_mapped_ipv4)},
        {"--allow-unknown-suffix", offsetof(pp_options, v1_allow_unknown_suffix)},
    };
    if (strcmp(arg, "--v1-only") == 0) {
        o->versions = PP_ALLOW_V1;
        return true;
    }
    if (strcmp(arg, "--v2-only") == 0) {
        o->versions = PP_ALLOW_V2;
        return true;
    }
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        if (strcmp(arg, flags[i].name) == 0) {
            *(bool *)((char *)o + flags[i].off) = true;
            return true;
        }
    }
    return false;
}

int main(int argc, char **argv)
{
    pp_options opts;
    memset(&opts, 0, sizeof opts);
    const char *input = NULL;
    bool text = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "-t") == 0 && i + 1 < argc && input == NULL) {
            input = argv[++i];
            text = true;
        } else if (strcmp(a, "--max-header") == 0 && i + 1 < argc) {
            char *end;
            errno = 0;
            unsigned long v = strtoul(argv[++i], &end, 10);
            if (errno || *end || v == 0) {
                fprintf(stderr, "ppdecode: bad --max-header value\n");
                return 2;
            }
            opts.max_header = v;
        } else if (a[0] == '-' && a[1] == '-') {
            if (!set_option(a, &opts)) {
                fprintf(stderr, "ppdecode: unknown option %s\n", a);
                usage(stderr);
                return 2;
            }
        } else if (input == NULL) {
            input = a;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (input == NULL) {
        usage(stderr);
        return 2;
    }

    static uint8_t bytes[MAX_INPUT];
    char *from_stdin = NULL;
    if (!text && strcmp(input, "-") == 0) {
        from_stdin = read_stdin();
        if (from_stdin == NULL)
            return 2;
        input = from_stdin;
    }
    long n = text ? parse_text(input, bytes, sizeof bytes) : parse_hex(input, bytes, sizeof bytes);
    free(from_stdin);
    if (n < 0)
        return 2;

    pp_header h;
    ssize_t r = pp_parse(bytes, (size_t)n, &opts, &h);
    if (r == PP_NEED_MORE) {
        printf("incomplete: %ld bytes are a valid start of a header; more are needed\n", n);
        const pp_error_info *e = pp_error_info_get(PP_ERR_TRUNCATED);
        printf("error:   %s\nmessage: %s\nrefs:    %s\n", e->name, e->message, e->refs);
        return 1;
    }
    if (r < 0) {
        const pp_error_info *e = pp_error_info_get((int)r);
        printf("invalid: %ld bytes\nerror:   %s\nmessage: %s\nrefs:    %s\n", n, e->name, e->message, e->refs);
        return 1;
    }
    static char out[1 << 20];
    pp_header_describe(&h, out, sizeof out);
    fputs(out, stdout);
    if (h.version == 2) {
        pp_tlv_summary(&h, out, sizeof out);
        printf("summary:     %s\n", out[0] ? out : "(no TLVs)");
    }
    if ((size_t)n > (size_t)r)
        printf("after the header: %ld bytes of application data\n", n - (long)r);
    return 0;
}
