/* `ppconform decode` (what a byte string holds: PROXY header, then MQTT packets) and
 * `ppconform coverage` (requirement IDs of the manifest against the cases citing them). */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "json.h"
#include "model.h"
#include "mqtt/mqtt.h"
#include "proxy/proxy.h"
#include "state.h"

#ifndef PPC_SOURCE_DIR
#define PPC_SOURCE_DIR "."
#endif

/* Hex text ("0d0a 0d0a", "0x50 0x52", with spaces, colons or newlines) into bytes. */
static int parse_hex(const char *s, uint8_t **out, size_t *len)
{
    size_t cap = strlen(s) / 2 + 1, n = 0;
    uint8_t *b = pc_xmalloc(cap);
    int hi = -1;
    for (const char *p = s; *p; p++) {
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hi < 0) {
            p++;
            continue;
        }
        if (isspace((unsigned char)*p) || *p == ':' || *p == ',' || *p == '-')
            continue;
        if (!isxdigit((unsigned char)*p)) {
            free(b);
            return -1;
        }
        int v = isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10);
        if (hi < 0)
            hi = v;
        else {
            b[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    if (hi >= 0) {
        free(b);
        return -1;
    }
    *out = b;
    *len = n;
    return 0;
}

static void describe_mqtt(const uint8_t *p, size_t n, uint8_t level)
{
    size_t off = 0;
    while (off < n) {
        mqtt_packet pkt;
        memset(&pkt, 0, sizeof pkt);
        ssize_t r = mqtt_decode(p + off, n - off, level, &pkt);
        if (r == 0) {
            printf("MQTT: %zu more bytes, an incomplete packet (%s so far)\n", n - off, mqtt_type_name(p[off] >> 4));
            return;
        }
        if (r < 0) {
            printf("MQTT: malformed at byte %zu: %s (%s)\n", off, mqtt_error_name((int)r),
                   mqtt_error_info_get((int)r)->message);
            return;
        }
        printf("MQTT %s, %zd bytes", mqtt_type_name(pkt.type), r);
        switch (pkt.type) {
        case MQTT_CONNECT:
            level = pkt.level;
            printf(": level %u, client id \"%.*s\", keep alive %u, clean %s%s%.*s", pkt.level,
                   (int)pkt.connect.client_id.len, (const char *)pkt.connect.client_id.ptr, pkt.connect.keep_alive,
                   pkt.connect.clean_start ? "yes" : "no", pkt.connect.has_username ? ", username " : "",
                   pkt.connect.has_username ? (int)pkt.connect.username.len : 0,
                   pkt.connect.has_username ? (const char *)pkt.connect.username.ptr : "");
            break;
        case MQTT_CONNACK:
            printf(": reason 0x%02x (%s), session present %s", pkt.connack.reason,
                   level == MQTT_V5 ? mqtt_reason_name(pkt.connack.reason) : mqtt_connack_v3_name(pkt.connack.reason),
                   pkt.connack.session_present ? "yes" : "no");
            break;
        case MQTT_PUBLISH:
            printf(": topic \"%.*s\", qos %u, %zu payload bytes", (int)pkt.publish.topic.len,
                   (const char *)pkt.publish.topic.ptr, pkt.publish.qos, pkt.publish.payload.len);
            break;
        default:
            break;
        }
        printf("\n");
        off += (size_t)r;
    }
}

int pc_cmd_decode(int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
        fprintf(argc < 1 ? stderr : stdout,
                "Usage: ppconform decode HEX|FILE\n"
                "Shows the PROXY header at the start of the bytes, then the MQTT packets after it.\n"
                "HEX may have spaces; FILE holds raw bytes (or hex text).\n"
                "Exit: 0 decoded, 1 malformed header or packet, 2 usage.\n");
        return argc < 1 ? 2 : 0;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    struct stat sb;
    if (stat(argv[0], &sb) == 0 && S_ISREG(sb.st_mode)) {
        FILE *f = fopen(argv[0], "rb");
        if (!f) {
            fprintf(stderr, "ppconform decode: %s: %s\n", argv[0], strerror(errno));
            return 2;
        }
        size_t cap = (size_t)sb.st_size + 1 > (1u << 24) ? (1u << 24) : (size_t)sb.st_size + 1;
        buf = pc_xmalloc(cap);
        len = fread(buf, 1, cap - 1, f);
        fclose(f);
        buf[len] = '\0';
        uint8_t *hex;
        size_t hl;
        if (len && parse_hex((const char *)buf, &hex, &hl) == 0 && hl > 0) {
            free(buf);
            buf = hex;
            len = hl;
        }
    } else {
        pc_sbuf all = {0};
        for (int i = 0; i < argc; i++)
            pc_sbuf_puts(&all, argv[i]);
        if (parse_hex(pc_sbuf_cstr(&all), &buf, &len) < 0) {
            fprintf(stderr, "ppconform decode: '%s' is neither a file nor hex bytes\n", argv[0]);
            pc_sbuf_free(&all);
            return 2;
        }
        pc_sbuf_free(&all);
    }
    int rc = 0;
    pp_header h;
    ssize_t r = pp_parse(buf, len, NULL, &h);
    size_t off = 0;
    if (r > 0) {
        char text[8192];
        pp_header_describe(&h, text, sizeof text);
        printf("PROXY v%u header, %zd bytes\n%s\n", h.version, r, text);
        off = (size_t)r;
    } else if (r == PP_NEED_MORE) {
        printf("PROXY: an incomplete header (%zu bytes so far)\n", len);
        rc = 1;
        off = len;
    } else {
        const pp_error_info *e = pp_error_info_get((int)r);
        printf("no valid PROXY header: %s: %s (%s)\n", e->name, e->message, e->refs);
        if (r != PP_ERR_NOT_PROXY)
            rc = 1;
    }
    if (off < len)
        describe_mqtt(buf + off, len - off, MQTT_V311);
    free(buf);
    return rc;
}

/* ---- coverage ------------------------------------------------------------------------- */

int pc_cmd_coverage(int argc, char **argv)
{
    const char *manifest = NULL;
    pc_strv scen = {0};
    bool json = false, all = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--requirements") == 0 && i + 1 < argc)
            manifest = argv[++i];
        else if (strcmp(argv[i], "--scenarios") == 0 && i + 1 < argc)
            pc_strv_push(&scen, argv[++i]);
        else if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--all") == 0)
            all = true;
        else {
            fprintf(stderr, "Usage: ppconform coverage [--requirements FILE] [--scenarios DIR] [--json] [--all]\n"
                            "Lists every requirement of the manifest with the cases citing it. Exit 1 when a\n"
                            "receiver MUST has no case or a case cites an unknown R-* id; 2 on a load error.\n");
            pc_strv_free(&scen);
            return strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0 ? 0 : 2;
        }
    }
    if (scen.count == 0) {
        const char *e = getenv("PPCONFORM_SCENARIOS");
        pc_strv_push(&scen, e && *e ? e : access(PPC_SOURCE_DIR "/scenarios", R_OK) == 0 ? PPC_SOURCE_DIR "/scenarios" : "scenarios");
    }
    char defman[4096];
    if (!manifest) {
        snprintf(defman, sizeof defman, "%s/requirements.lua", scen.items[0]);
        manifest = defman;
    }
    char err[2048];
    pc_state *st = pc_state_new(err, sizeof err);
    if (!st) {
        fprintf(stderr, "ppconform: %s\n", err);
        pc_strv_free(&scen);
        return 3;
    }
    pc_catalog cat = {0};
    int rc = 0;
    if (pc_state_load(st, (const char *const *)scen.items, scen.count, &cat, err, sizeof err) < 0 ||
        pc_state_load_requirements(st, manifest, err, sizeof err) < 0) {
        fprintf(stderr, "ppconform coverage: %s\n", err);
        rc = 2;
        goto out;
    }
    lua_State *L = st->L;
    int list = lua_gettop(L);
    lua_Integer n = luaL_len(L, list);
    pc_strv known = {0};
    size_t must_r = 0, must_r_cov = 0, cited = 0;
    pc_sbuf js = {0};
    pc_sbuf_puts(&js, "{\"requirements\":[");
    if (!json)
        printf("%-11s %-6s %-5s %-5s %s\n", "ID", "LEVEL", "BINDS", "CASES", "");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, list, i);
        lua_getfield(L, -1, "id");
        lua_getfield(L, -2, "level");
        lua_getfield(L, -3, "binds");
        lua_getfield(L, -4, "text");
        lua_getfield(L, -5, "not_applicable");
        const char *id = lua_tostring(L, -5), *level = lua_tostring(L, -4), *binds = lua_tostring(L, -3),
                   *text = lua_tostring(L, -2), *not_applicable = lua_tostring(L, -1);
        pc_strv_push(&known, id);
        pc_strv cases = {0};
        for (size_t k = 0; k < cat.count; k++)
            if (pc_strv_contains(&cat.cases[k].refs, id))
                pc_strv_push(&cases, cat.cases[k].id);
        bool receiver = strchr(binds, 'R') != NULL;
        /* a receiver MUST outside what the suite can test (UDP) is listed, not counted */
        bool must = strcmp(level, "MUST") == 0 && not_applicable == NULL;
        if (cases.count)
            cited++;
        if (receiver && must) {
            must_r++;
            must_r_cov += cases.count > 0;
        }
        char *names = pc_strv_join(&cases, ",");
        if (json) {
            pc_sbuf_printf(&js, "%s\n{\"id\":", i > 1 ? "," : "");
            pc_json_str(&js, id);
            pc_sbuf_printf(&js, ",\"level\":\"%s\",\"binds\":\"%s\",\"text\":", level, binds);
            pc_json_str(&js, text);
            if (not_applicable) {
                pc_sbuf_puts(&js, ",\"not_applicable\":");
                pc_json_str(&js, not_applicable);
            }
            pc_sbuf_puts(&js, ",\"cases\":[");
            for (size_t k = 0; k < cases.count; k++) {
                pc_sbuf_puts(&js, k ? "," : "");
                pc_json_str(&js, cases.items[k]);
            }
            pc_sbuf_puts(&js, "]}");
        } else if (all || cases.count || (receiver && must) || not_applicable)
            printf("%-11s %-6s %-5s %-5zu %s%s%s%s\n", id, level, binds, cases.count,
                   cases.count ? names : "", !cases.count && receiver && must ? "MISSING (receiver MUST)" : "",
                   not_applicable ? "n/a: " : "", not_applicable ? not_applicable : "");
        free(names);
        pc_strv_free(&cases);
        lua_pop(L, 6);
    }
    /* refs that name no requirement */
    pc_strv unknown = {0};
    for (size_t k = 0; k < cat.count; k++)
        for (size_t r = 0; r < cat.cases[k].refs.count; r++) {
            const char *ref = cat.cases[k].refs.items[r];
            if (strncmp(ref, "R-", 2) == 0 && !pc_strv_contains(&known, ref) && !pc_strv_contains(&unknown, ref))
                pc_strv_push(&unknown, ref);
        }
    if (json) {
        pc_sbuf_printf(&js, "\n],\"receiver_must\":%zu,\"receiver_must_covered\":%zu,\"unknown_refs\":[", must_r, must_r_cov);
        for (size_t k = 0; k < unknown.count; k++) {
            pc_sbuf_puts(&js, k ? "," : "");
            pc_json_str(&js, unknown.items[k]);
        }
        pc_sbuf_puts(&js, "]}\n");
        fwrite(js.data, 1, js.len, stdout);
    } else {
        for (size_t k = 0; k < unknown.count; k++)
            printf("unknown requirement cited by a case: %s\n", unknown.items[k]);
        printf("%zu of %zu requirements have cases; receiver MUSTs covered: %zu of %zu\n", cited, (size_t)n,
               must_r_cov, must_r);
    }
    rc = (must_r_cov < must_r || unknown.count) ? 1 : 0;
    pc_sbuf_free(&js);
    pc_strv_free(&known);
    pc_strv_free(&unknown);
out:
    pc_state_free(st);
    pc_catalog_free(&cat);
    pc_strv_free(&scen);
    return rc;
}
