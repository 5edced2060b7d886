/* ppbroker: the reference MQTT broker with PROXY-protocol listeners.
 *
 *   ppbroker -c FILE [--ready-file PATH] [--quirk NAME]... [--log-file PATH]
 *   ppbroker --check-config -c FILE
 *   ppbroker passwd FILE USER
 *   ppbroker --help | --version
 *
 * Exit: 0 clean stop (SIGTERM/SIGINT), 1 runtime failure, 2 config or usage error (nothing
 * bound yet), 3 a listener could not bind. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl_file.h"
#include "admin.h"
#include "auth.h"
#include "broker.h"
#include "events.h"
#include "listener_rules.h"
#include "log.h"
#include "passwd_cmd.h"
#include "quirks.h"

#define EXIT_USAGE 2
#define EXIT_BIND 3

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: ppbroker -c FILE [--ready-file PATH] [--quirk NAME]... [--log-file PATH]\n"
            "       ppbroker --check-config -c FILE\n"
            "       ppbroker passwd FILE USER      (password from stdin, or prompted)\n"
            "       ppbroker --help | --version\n"
            "\n"
            "The reference MQTT 3.1.1/5.0 broker of ppconform: listeners with a mandatory PROXY\n"
            "protocol header (v1 and v2), an admin HTTP API, one structured log line per connection.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE      configuration (vernemq.conf style; see docs/ppbroker.md)\n"
            "      --check-config     validate the configuration and exit (0 valid, 2 invalid)\n"
            "      --ready-file PATH  write {pid, version, admin, listeners} there once every\n"
            "                         listener is bound (atomically: PATH.tmp, then rename)\n"
            "      --log-file PATH    append log lines there instead of stderr\n"
            "      --quirk NAME       switch on a deliberate defect (repeatable; for the suite only):\n");
    for (size_t i = 0; i < PPB_QUIRK_COUNT; i++)
        fprintf(out, "                           %-32s %s\n", ppb_quirk_name(ppb_quirk_at(i)), ppb_quirk_help(i));
    fprintf(out, "  -h, --help             this text\n"
                 "  -V, --version          print the version\n"
                 "\n"
                 "Exit status: 0 clean stop, 1 runtime failure, 2 configuration or usage error,\n"
                 "3 a listener could not bind.\n");
}

static void on_signal(pn_loop *loop, int signo, void *udata)
{
    ppb_broker *b = udata;
    if (b->stopping)
        return;
    b->stopping = true;
    ppb_log(b, PPB_LOG_INFO, "signal %d: stopping", signo);
    pn_loop_stop(loop);
}

typedef struct cli {
    const char *config;
    const char *ready_file;
    const char *log_file;
    bool check_only;
    unsigned quirks;
} cli;

static int parse_cli(int argc, char **argv, cli *o)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},     {"check-config", no_argument, NULL, 'k'},
        {"ready-file", required_argument, NULL, 'r'}, {"log-file", required_argument, NULL, 'l'},
        {"quirk", required_argument, NULL, 'q'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},          {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': o->config = optarg; break;
        case 'k': o->check_only = true; break;
        case 'r': o->ready_file = optarg; break;
        case 'l': o->log_file = optarg; break;
        case 'q': {
            unsigned q = ppb_quirk_from_name(optarg);
            if (!q) {
                fprintf(stderr, "ppbroker: unknown quirk '%s' (see ppbroker --help)\n", optarg);
                return EXIT_USAGE;
            }
            o->quirks |= q;
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("ppbroker %s\n", PPB_VERSION); return 0;
        case ':':
            fprintf(stderr, "ppbroker: option %s needs a value\n", argv[optind - 1]);
            return EXIT_USAGE;
        default:
            fprintf(stderr, "ppbroker: unknown option '%s' (see ppbroker --help)\n", argv[optind - 1]);
            return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ppbroker: unexpected argument '%s' (see ppbroker --help)\n", argv[optind]);
        return EXIT_USAGE;
    }
    if (!o->config) {
        fprintf(stderr, "ppbroker: -c FILE is required (see ppbroker --help)\n");
        return EXIT_USAGE;
    }
    return -1; /* go on */
}

static int run(ppb_broker *b, const cli *o)
{
    char err[PPB_ERR_MAX + 256];
    b->started_ms = pn_now_ms();
    b->loop = pn_loop_new(256);
    b->events = ppb_events_new();
    if (!b->loop || !b->events) {
        fprintf(stderr, "ppbroker: out of memory\n");
        return 1;
    }
    ppb_conns_init(b);
    if (ppb_tls_contexts_init(b, err, sizeof(err)) != 0) {
        /* unreadable files, a key that does not match its certificate: nothing bound yet */
        fprintf(stderr, "ppbroker: %s\n", err);
        return EXIT_USAGE;
    }
    if (b->cfg.acl_file[0] && !(b->acl = ppb_acl_load(b->cfg.acl_file, err, sizeof(err)))) {
        fprintf(stderr, "ppbroker: acl_file %s\n", err);
        return EXIT_USAGE;
    }
    br_engine_opts eo;
    br_engine_opts_defaults(&eo);
    if (b->acl) {
        eo.acl_check = ppb_acl_check;
        eo.acl_ud = b->acl;
    }
    eo.allow_anonymous = b->cfg.allow_anonymous;
    eo.password_file = b->cfg.password_file[0] ? b->cfg.password_file : NULL;
    eo.max_packet_size = b->cfg.max_packet_size;
    eo.max_inflight = (uint16_t)b->cfg.max_inflight_messages;
    eo.max_queued = b->cfg.max_queued_messages;
    br_event_sink sink = {ppb_engine_event_sink, b};
    b->engine = br_engine_new(&eo, b->loop, PPB_CONN_OPS, sink, err, sizeof(err));
    if (!b->engine) {
        /* a bad password file is a configuration error: nothing is bound yet */
        fprintf(stderr, "ppbroker: %s\n", err);
        return EXIT_USAGE;
    }
    if (pn_loop_on_signal(b->loop, SIGTERM, on_signal, b) != 0 || pn_loop_on_signal(b->loop, SIGINT, on_signal, b) != 0) {
        fprintf(stderr, "ppbroker: signals: %s\n", strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (ppb_listeners_open(b, err, sizeof(err)) != 0 || ppb_admin_open(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "ppbroker: %s\n", err);
        ppb_log(b, PPB_LOG_ERROR, "%s", err);
        return EXIT_BIND;
    }
    if (b->quirks) {
        for (size_t i = 0; i < PPB_QUIRK_COUNT; i++)
            if (b->quirks & ppb_quirk_at(i))
                ppb_log(b, PPB_LOG_WARNING, "quirk %s is ON: %s", ppb_quirk_name(ppb_quirk_at(i)), ppb_quirk_help(i));
    }
    if (o->ready_file && ppb_write_ready_file(b, o->ready_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "ppbroker: %s\n", err);
        return 1;
    }
    ppb_log(b, PPB_LOG_INFO, "ppbroker %s ready (pid %d)", PPB_VERSION, (int)getpid());
    int rc = pn_loop_run(b->loop);

    /* Stop: no new connections, tell clients, close what is left, flush the log. */
    ppb_listeners_close(b);
    ppb_admin_close(b);
    br_engine_shutdown(b->engine);
    /* Give DISCONNECTs a short, bounded chance to leave. */
    uint64_t deadline = pn_now_ms() + 500;
    while (b->conns && pn_now_ms() < deadline) {
        bool pending = false;
        for (ppb_conn *c = b->conns; c; c = c->next)
            if (c->state != CONN_PROXY && !pn_buf_empty(&c->out))
                pending = true;
        if (!pending)
            break;
        pn_loop_run_once(b->loop, 50);
    }
    ppb_conns_close_all(b, "server_shutting_down");
    ppb_log(b, PPB_LOG_INFO, "stopped");
    return rc == 0 ? 0 : 1;
}

static void cleanup(ppb_broker *b)
{
    if (b->engine)
        br_engine_free(b->engine);
    ppb_events_free(b->events);
    ppb_freelist_drain(&b->conn_blocks);
    ppb_tls_contexts_free(b);
    ppb_acl_free(b->acl);
    if (b->loop)
        pn_loop_free(b->loop);
    free(b->rejects);
    if (b->log && b->log != stderr)
        fclose(b->log);
    else if (b->log)
        fflush(b->log);
}

/* --check-config goes beyond syntax: the files the config names must load as the broker
 * would load them (password file, ACL file, TLS certificate/key/CA). */
static int check_files(ppb_broker *b)
{
    char err[PPB_ERR_MAX + 256];
    int rc = 0;
    if (b->cfg.password_file[0]) {
        br_passwd *pw = br_passwd_load(b->cfg.password_file, err, sizeof(err));
        if (!pw) {
            fprintf(stderr, "ppbroker: password_file %s\n", err);
            rc = EXIT_USAGE;
        }
        br_passwd_free(pw);
    }
    if (rc == 0 && b->cfg.acl_file[0]) {
        ppb_acl *acl = ppb_acl_load(b->cfg.acl_file, err, sizeof(err));
        if (!acl) {
            fprintf(stderr, "ppbroker: acl_file %s\n", err);
            rc = EXIT_USAGE;
        }
        ppb_acl_free(acl);
    }
    if (rc == 0 && ppb_tls_contexts_init(b, err, sizeof(err)) != 0) {
        fprintf(stderr, "ppbroker: %s\n", err);
        rc = EXIT_USAGE;
    }
    ppb_tls_contexts_free(b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
        return ppb_passwd_command(argc - 1, argv + 1);
    cli o;
    int rc = parse_cli(argc, argv, &o);
    if (rc >= 0)
        return rc;

    ppb_broker *b = calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, "ppbroker: out of memory\n");
        return 1;
    }
    char err[PPB_ERR_MAX];
    if (ppb_config_load(o.config, &b->cfg, err, sizeof(err)) != 0 ||
        ppb_listener_rules_check(&b->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "ppbroker: %s\n", err);
        free(b);
        return EXIT_USAGE;
    }
    if (o.check_only) {
        rc = check_files(b);
        if (rc == 0)
            printf("%s: configuration OK (%zu listener%s)\n", o.config, b->cfg.nlisteners,
                   b->cfg.nlisteners == 1 ? "" : "s");
        free(b);
        return rc;
    }
    b->quirks = o.quirks;
    b->reserve_fd = -1;
    b->log = stderr;
    if (o.log_file) {
        b->log = fopen(o.log_file, "a");
        if (!b->log) {
            fprintf(stderr, "ppbroker: --log-file %s: %s\n", o.log_file, strerror(errno));
            free(b);
            return EXIT_USAGE;
        }
    }
    rc = run(b, &o);
    cleanup(b);
    free(b);
    return rc;
}
