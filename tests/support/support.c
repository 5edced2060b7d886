/* Test support: skeleton, implementation follows. */
#include "support.h"
#define U(x) (void)(x)
const char *ts_last_error(void) { return "not implemented"; }
int ts_spawn(ts_proc *p, const char *const argv[], const char *const env_extra[], const char *o, const char *e) { U(p); U(argv); U(env_extra); U(o); U(e); return -1; }
int ts_stop(ts_proc *p, int deadline_ms, ts_exit *ex) { U(p); U(deadline_ms); U(ex); return -1; }
int ts_wait_exit(ts_proc *p, int timeout_ms, ts_exit *ex) { U(p); U(timeout_ms); U(ex); return -1; }
bool ts_alive(ts_proc *p) { U(p); return false; }
void ts_stop_all(void) {}
const char *ts_exit_text(const ts_exit *ex, char *buf, size_t cap) { U(ex); if (cap) buf[0] = 0; return buf; }
int ts_tmpdir(const char *prefix, char *out, size_t cap) { U(prefix); U(out); U(cap); return -1; }
int ts_rmtree(const char *path) { U(path); return -1; }
ssize_t ts_read_file(const char *path, char *buf, size_t cap) { U(path); U(buf); U(cap); return -1; }
int ts_write_file(const char *path, const void *data, size_t len) { U(path); U(data); U(len); return -1; }
int ts_wait_line(const char *path, const char *needle, int t, char *line, size_t cap) { U(path); U(needle); U(t); U(line); U(cap); return -1; }
int ts_wait_json_file(const char *path, int t, char *buf, size_t cap) { U(path); U(t); U(buf); U(cap); return -1; }
int ts_connect(const char *dst, const char *src_ip, int t) { U(dst); U(src_ip); U(t); return -1; }
int ts_connect_addr(const pn_addr *dst, const pn_addr *src, int t) { U(dst); U(src); U(t); return -1; }
int ts_send_all(int fd, const void *buf, size_t len, int t) { U(fd); U(buf); U(len); U(t); return -1; }
int ts_send_str(int fd, const char *s, int t) { U(fd); U(s); U(t); return -1; }
const char *ts_end_name(ts_end e) { U(e); return "?"; }
ts_end ts_read(int fd, void *buf, size_t cap, size_t want, int t, size_t *got) { U(fd); U(buf); U(cap); U(want); U(t); *got = 0; return TS_END_ERROR; }
ts_end ts_read_until(int fd, void *buf, size_t cap, const void *d, size_t dl, int t, size_t *got) { U(fd); U(buf); U(cap); U(d); U(dl); U(t); *got = 0; return TS_END_ERROR; }
ts_end ts_expect_close(int fd, int t, size_t *got) { U(fd); U(t); *got = 0; return TS_END_ERROR; }
int ts_json_get(const char *json, const char *key, char *out, size_t cap) { U(json); U(key); U(out); U(cap); return -1; }
bool ts_json_get_int(const char *json, const char *key, long long *out) { U(json); U(key); U(out); return false; }
int ts_json_array_len(const char *json, const char *key) { U(json); U(key); return -1; }
int ts_pki_make(const char *dir, const char *ca_cn, const ts_leaf *leaves, size_t n) { U(dir); U(ca_cn); U(leaves); U(n); return -1; }
