/* A socket BIO for pn_tls: serves bytes the caller already read (e.g. those that followed a
 * PROXY header in the same read) before reading the fd, and writes with MSG_NOSIGNAL so a
 * reset peer is an error to report, never a SIGPIPE. */
#include "net/tls_bio.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct fd_bio {
    int fd;
    uint8_t *prefix; /* bytes to hand out before reading fd */
    size_t prefix_len, prefix_off;
    bool eof;
};

static BIO_METHOD *method;
static pthread_once_t method_once = PTHREAD_ONCE_INIT;

static int fd_bio_write(BIO *b, const char *data, size_t len, size_t *written)
{
    struct fd_bio *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t n;
    do
        n = send(s->fd, data, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            BIO_set_retry_write(b);
        *written = 0;
        return 0;
    }
    *written = (size_t)n;
    return 1;
}

static int fd_bio_read(BIO *b, char *out, size_t cap, size_t *got)
{
    struct fd_bio *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    *got = 0;
    if (s->prefix_off < s->prefix_len) {
        size_t n = s->prefix_len - s->prefix_off;
        if (n > cap)
            n = cap;
        memcpy(out, s->prefix + s->prefix_off, n);
        s->prefix_off += n;
        *got = n;
        return 1;
    }
    ssize_t n;
    do
        n = recv(s->fd, out, cap, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        *got = (size_t)n;
        return 1;
    }
    if (n == 0) {
        s->eof = true; /* lets OpenSSL tell "EOF without close_notify" (BIO_CTRL_EOF) */
        errno = 0;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        BIO_set_retry_read(b);
    }
    return 0;
}

static long fd_bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    struct fd_bio *s = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
    case BIO_CTRL_DUP:
        return 1;
    case BIO_CTRL_EOF:
        return s && s->eof && s->prefix_off == s->prefix_len;
    case BIO_CTRL_PENDING:
        return s ? (long)(s->prefix_len - s->prefix_off) : 0;
    case BIO_C_GET_FD:
        if (!s)
            return -1;
        if (ptr)
            *(int *)ptr = s->fd;
        return s->fd;
    default:
        return 0;
    }
}

static int fd_bio_destroy(BIO *b)
{
    struct fd_bio *s = BIO_get_data(b);
    if (s) {
        free(s->prefix);
        free(s);
    }
    BIO_set_data(b, NULL);
    BIO_set_init(b, 0);
    return 1;
}

static void make_method(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "pn_fd");
    if (!m)
        return;
    BIO_meth_set_write_ex(m, fd_bio_write);
    BIO_meth_set_read_ex(m, fd_bio_read);
    BIO_meth_set_ctrl(m, fd_bio_ctrl);
    BIO_meth_set_destroy(m, fd_bio_destroy);
    method = m;
}

BIO *pn_tls_bio_new(int fd, const void *prefix, size_t prefix_len)
{
    pthread_once(&method_once, make_method);
    if (!method || prefix_len > PN_TLS_PREFIX_MAX)
        return NULL;
    struct fd_bio *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fd = fd;
    if (prefix_len) {
        s->prefix = malloc(prefix_len);
        if (!s->prefix) {
            free(s);
            return NULL;
        }
        memcpy(s->prefix, prefix, prefix_len);
        s->prefix_len = prefix_len;
    }
    BIO *b = BIO_new(method);
    if (!b) {
        free(s->prefix);
        free(s);
        return NULL;
    }
    BIO_set_data(b, s);
    BIO_set_init(b, 1);
    return b;
}
