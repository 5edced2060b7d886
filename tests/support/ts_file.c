/* Files for integration tests: temp dirs, recursive removal, and waiting (with a deadline)
 * for a program to write a complete line or JSON document. Waits sleep in poll() on an
 * inotify fd for the file's directory, capped at 50 ms per round in case an event is
 * missed (e.g. inotify unavailable), and always end at the deadline. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/loop.h"
#include "support.h"
#include "ts_internal.h"

#define TS_FILE_MAX (16u << 20) /* files waited on are logs and small JSON: bound the read */

int ts_tmpdir(const char *prefix, char *out, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(out, cap, "%s/ppc-%s-XXXXXX", base, prefix ? prefix : "test");
    if (n < 0 || (size_t)n >= cap)
        return ts_fail("tmpdir: path too long");
    if (!mkdtemp(out))
        return ts_fail("mkdtemp %s: %s", out, strerror(errno));
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) < 0 && errno != ENOENT) {
        ts_fail("remove %s: %s", path, strerror(errno));
        return 1;
    }
    return 0;
}

int ts_rmtree(const char *path)
{
    ts_clear_error();
    if (!path || !*path || strcmp(path, "/") == 0)
        return ts_fail("rmtree: refusing '%s'", path ? path : "(null)");
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : ts_fail("rmtree %s: %s", path, strerror(errno));
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

ssize_t ts_read_file(const char *path, char *buf, size_t cap)
{
    if (cap == 0)
        return ts_fail("read %s: no room", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ts_fail("open %s: %s", path, strerror(errno));
    size_t got = 0;
    while (got < cap - 1) {
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (ssize_t)got;
}

int ts_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return ts_fail("open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, (const char *)data + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            return ts_fail("write %s: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    return close(fd) == 0 ? 0 : ts_fail("close %s: %s", path, strerror(errno));
}

/* A watcher for path's directory (or -1 when inotify is not available). */
static int watch_dir_of(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    if (inotify_add_watch(fd, dirname(tmp), IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sleep until the directory changes, 50 ms pass, or the deadline. */
static void wait_change(int ifd, uint64_t deadline)
{
    int left = ts_remaining_ms(deadline);
    if (left > 50)
        left = 50;
    if (left == 0)
        return;
    struct pollfd p = {.fd = ifd, .events = POLLIN};
    poll(ifd >= 0 ? &p : NULL, ifd >= 0 ? 1 : 0, left);
    if (ifd >= 0) {
        char drain[4096];
        while (read(ifd, drain, sizeof drain) > 0) {
        }
    }
}

/* Whole file (bounded), NUL-terminated, in a malloc'd buffer; NULL when missing. */
static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 == cap) {
            if (cap >= TS_FILE_MAX)
                break;
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* First complete line holding needle: its start and length (without '\n'). */
static const char *find_line(const char *buf, size_t len, const char *needle, size_t *llen)
{
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return NULL; /* the last line is still being written */
        size_t n = (size_t)(nl - p);
        if (!needle || !*needle || memmem(p, n, needle, strlen(needle))) {
            *llen = n;
            return p;
        }
        p = nl + 1;
    }
    return NULL;
}

int ts_wait_line(const char *path, const char *needle, int timeout_ms, char *line, size_t cap)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int ifd = watch_dir_of(path);
    bool existed = false;
    int rc = -1;
    ts_clear_error();
    for (;;) {
        size_t len, llen;
        char *buf = slurp(path, &len);
        existed |= buf != NULL;
        const char *hit = buf ? find_line(buf, len, needle, &llen) : NULL;
        if (hit) {
            if (line && cap) {
                size_t n = llen < cap - 1 ? llen : cap - 1;
                memcpy(line, hit, n);
                line[n] = '\0';
            }
            free(buf);
            rc = 0;
            break;
        }
        free(buf);
        if (ts_remaining_ms(deadline) == 0) {
            ts_fail("%s: no complete line%s%s%s after %d ms (%s)", path, needle ? " with '" : "",
                    needle ? needle : "", needle ? "'" : "", timeout_ms,
                    existed ? "file exists" : "file never appeared");
            break;
        }
        wait_change(ifd, deadline);
    }
    if (ifd >= 0)
        close(ifd);
    return rc;
}

/* Length of one complete JSON object/array at the start of s (after whitespace), 0 if
 * incomplete, -1 if it does not start with '{' or '['. Counts brackets outside strings. */
static long json_doc_len(const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && strchr(" \t\r\n", s[i]))
        i++;
    if (i == len)
        return 0;
    if (s[i] != '{' && s[i] != '[')
        return -1;
    int depth = 0;
    bool in_str = false;
    for (; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0)
                return (long)(i + 1);
        }
    }
    return 0;
}

int ts_wait_json_file(const char *path, int timeout_ms, char *buf, size_t cap)
{
    uint64_t deadline = pn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int ifd = watch_dir_of(path);
    int rc = -1;
    ts_clear_error();
    for (;;) {
        size_t len;
        char *doc = slurp(path, &len);
        long n = doc ? json_doc_len(doc, len) : 0;
        if (n < 0) {
            ts_fail("%s: not JSON (does not start with '{' or '[')", path);
            free(doc);
            break;
        }
        if (n > 0) {
            if ((size_t)n >= cap)
                ts_fail("%s: JSON document of %ld bytes does not fit in %zu", path, n, cap);
            else {
                memcpy(buf, doc, (size_t)n);
                buf[n] = '\0';
                rc = 0;
            }
            free(doc);
            break;
        }
        free(doc);
        if (ts_remaining_ms(deadline) == 0) {
            ts_fail("%s: no complete JSON document after %d ms", path, timeout_ms);
            break;
        }
        wait_change(ifd, deadline);
    }
    if (ifd >= 0)
        close(ifd);
    return rc;
}
