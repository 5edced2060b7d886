/* tests/support: helpers for integration tests (processes, files, sockets, tiny JSON).
 *
 * Every wait takes a deadline in milliseconds and polls for the event (poll()/inotify with
 * short bounded waits), never a bare sleep. Every process started with ts_spawn is
 * registered and, if a test forgets or fails before ts_stop, killed at exit (atexit hook
 * and ts_stop_all()), so no child outlives the test binary.
 * Names: ts_*. Errors: -1 with a message in ts_last_error().
 */
#ifndef TS_SUPPORT_H
#define TS_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/addr.h"
#include "net/tls.h"

/* The message of the last failing ts_* call in this thread ("" when none). */
const char *ts_last_error(void);

/* ---- processes ----------------------------------------------------------------------- */

typedef struct ts_proc {
    pid_t pid;         /* 0 when not running / already reaped */
    int wait_status;   /* raw waitpid status once reaped */
    bool reaped;
} ts_proc;

typedef struct ts_exit {
    bool exited;       /* normal exit: code is valid */
    int code;
    bool signaled;     /* killed by a signal: signo is valid */
    int signo;
    bool crashed;      /* signaled by something other than our SIGTERM/SIGKILL (SIGSEGV, SIGABRT...) */
    bool killed;       /* had to be SIGKILLed after the SIGTERM deadline */
} ts_exit;

/* posix_spawn argv[0] (a path; PATH is not searched when it contains '/'), with environ
 * plus env_extra ("KEY=VALUE" items overriding same-named ones; NULL-terminated, may be
 * NULL), stdin from /dev/null, stdout/stderr appended to the given files (NULL =
 * /dev/null; the same path twice shares one file). The child starts with an empty signal
 * mask and default handlers. 0 or -1. */
int ts_spawn(ts_proc *p, const char *const argv[], const char *const env_extra[],
             const char *stdout_path, const char *stderr_path);
/* SIGTERM, wait up to deadline_ms, then SIGKILL and reap. Fills ex (may be NULL). Safe to
 * call on an already reaped process (reports the recorded status). 0 or -1. */
int ts_stop(ts_proc *p, int deadline_ms, ts_exit *ex);
/* Wait for the process to exit by itself (e.g. a bad config exits 2). 0 when it exited
 * in time (ex filled); -1 on timeout (process left running). */
int ts_wait_exit(ts_proc *p, int timeout_ms, ts_exit *ex);
bool ts_alive(ts_proc *p); /* reaps it if it has exited */
/* Kill (SIGKILL) and reap every process still registered. Runs at exit too. */
void ts_stop_all(void);
/* "exit 0", "exit 2", "signal 11 (crash)", "signal 15" into buf. */
const char *ts_exit_text(const ts_exit *ex, char *buf, size_t cap);

/* ---- files --------------------------------------------------------------------------- */

/* mkdtemp under $TMPDIR or /tmp: "<tmp>/ppc-<prefix>-XXXXXX" into out. 0 or -1. */
int ts_tmpdir(const char *prefix, char *out, size_t cap);
/* rm -r path (does not follow symlinks). 0, or -1 when something could not be removed. */
int ts_rmtree(const char *path);
/* Whole file into buf (NUL-terminated; truncated at cap-1). Bytes read, -1 on error. */
ssize_t ts_read_file(const char *path, char *buf, size_t cap);
int ts_write_file(const char *path, const void *data, size_t len);

/* Wait until the file holds a complete line (ending in '\n') containing needle (NULL or ""
 * = any line); copy that line without the '\n' into line (may be NULL). Lines are scanned
 * from the start each time, so an earlier matching line is found too. 0, or -1 on timeout
 * (ts_last_error says whether the file existed). */
int ts_wait_line(const char *path, const char *needle, int timeout_ms, char *line, size_t cap);
/* Wait until the file holds one complete JSON object or array (balanced brackets outside
 * strings, whitespace after it allowed) and copy it into buf. 0 or -1. */
int ts_wait_json_file(const char *path, int timeout_ms, char *buf, size_t cap);

/* ---- sockets ------------------------------------------------------------------------- */

/* Connect to "ip:port" / "[v6]:port" from src_ip ("127.0.0.2"; NULL = kernel's choice)
 * within timeout_ms. Returns a connected non-blocking fd, or -1. */
int ts_connect(const char *dst, const char *src_ip, int timeout_ms);
int ts_connect_addr(const pn_addr *dst, const pn_addr *src, int timeout_ms);
/* Write all len bytes within timeout_ms. 0, or -1 (timeout, RST, ...). */
int ts_send_all(int fd, const void *buf, size_t len, int timeout_ms);
int ts_send_str(int fd, const char *s, int timeout_ms);

typedef enum ts_end {
    TS_END_COUNT = 0, /* got the bytes asked for */
    TS_END_FIN,       /* peer closed cleanly (read returned 0) */
    TS_END_RST,       /* connection reset */
    TS_END_TIMEOUT,   /* deadline passed */
    TS_END_ERROR,     /* other socket error */
} ts_end;
const char *ts_end_name(ts_end e); /* "count", "fin", "rst", "timeout", "error" */

/* Read into buf until want bytes (want <= cap; 0 = until close/timeout, up to cap), FIN,
 * RST or timeout_ms. *got = bytes read (also on FIN/RST/timeout). Returns how it ended. */
ts_end ts_read(int fd, void *buf, size_t cap, size_t want, int timeout_ms, size_t *got);
/* Read until a byte sequence appears (e.g. "\r\n\r\n") or the end. TS_END_COUNT when found;
 * TS_END_ERROR when cap bytes arrived without it. Bytes after the delimiter may be in buf. */
ts_end ts_read_until(int fd, void *buf, size_t cap, const void *delim, size_t dlen,
                     int timeout_ms, size_t *got);
/* Expect the peer to close: read and discard until the end or timeout_ms. Returns how it
 * ended (FIN, RST, TIMEOUT or ERROR); *got counts the bytes discarded before that (a
 * receiver that must drop a connection silently leaves it 0). */
ts_end ts_expect_close(int fd, int timeout_ms, size_t *got);

/* ---- TLS over those sockets (lib/net/tls) ----------------------------------------------- */

/* Drive pn_tls_handshake on fd until done or timeout_ms. 0, or -1 with the TLS error text
 * ("handshake: certificate verify failed: ...", "timeout after 2000 ms") in ts_last_error. */
int ts_tls_handshake(pn_tls *t, int fd, int timeout_ms);
int ts_tls_send_all(pn_tls *t, int fd, const void *buf, size_t len, int timeout_ms);
/* Like ts_read over TLS: close_notify and a bare TCP FIN both end as TS_END_FIN. */
ts_end ts_tls_read(pn_tls *t, int fd, void *buf, size_t cap, size_t want, int timeout_ms, size_t *got);

/* ---- tiny JSON extraction -------------------------------------------------------------- */
/* NOT a JSON parser: it finds the first "key": at any depth by scanning (strings are
 * skipped correctly, so a key inside a string value is not matched) and copies its value.
 * Good for test assertions on known output; do not use it on untrusted input. */

/* String values are unescaped (\" \\ \/ \n \t \r \uXXXX for ASCII); numbers, true, false,
 * null are copied as text; objects/arrays are copied raw. Length, -1 absent, -2 no fit. */
int ts_json_get(const char *json, const char *key, char *out, size_t cap);
/* Integer value; false when absent or not an integer. */
bool ts_json_get_int(const char *json, const char *key, long long *out);
/* Count the elements of the array value of key (-1 when absent / not an array). */
int ts_json_array_len(const char *json, const char *key);

/* ---- test PKI ------------------------------------------------------------------------ */

/* Make a throwaway CA and leaf certificates in dir with the OpenSSL API (EC P-256 keys,
 * 1-day validity). Files: ca.pem, ca.key; <name>.pem, <name>.key per leaf. A leaf with
 * is_server gets subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1. The CN is used
 * as given (cn_len bytes, may contain NUL to test refusal; cn_len 0 = strlen). */
typedef struct ts_leaf {
    const char *name;  /* file stem: "server", "client" */
    const char *cn;
    size_t cn_len;
    bool is_server;
} ts_leaf;
int ts_pki_make(const char *dir, const char *ca_cn, const ts_leaf *leaves, size_t n);

#endif
