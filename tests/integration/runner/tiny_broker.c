/* tiny_broker: a deliberately small MQTT "broker" for the runner's integration tests.
 *
 *   tiny_broker MODE READY_FILE
 *
 * Listens on 127.0.0.1:0, writes "127.0.0.1:PORT\n" to READY_FILE (atomically), and serves
 * each connection in a child process: read a PROXY header, then a CONNECT, answer CONNACK 0.
 * MODE good:   the header is mandatory (v1 line or v2); anything else is closed unanswered.
 * MODE wrong:  guesses: a connection without a header is served too (the R-GEN-14 defect).
 * MODE silent: never answers and never closes (until its 5 s receive timeout).
 * MODE crash:  dies of SIGSEGV on its first connection (to test crash reporting).
 * MODE die:    writes a line to stderr and exits 1 on its first connection, as a broker
 *              stopped by a sanitizer report does (to test that its log is kept).
 * MODE events: one process (no fork) that logs events per connection like ppbroker's admin
 *              API and serves them: see events_main. READY_FILE then gets
 *              "127.0.0.1:PORT 127.0.0.1:ADMIN_PORT\n".
 * It exists to show that ppconform reports the right verdicts for a right and a wrong
 * receiver; it is not a broker.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static const unsigned char SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static int read_n(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = recv(fd, buf + got, n - got, 0);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Consume a PROXY header; 0 when one was there, -1 when the bytes are not a header. */
static int read_header(int fd)
{
    unsigned char b[256];
    if (read_n(fd, b, 1) < 0)
        return -1;
    if (b[0] == 'P') {
        size_t n = 1;
        while (n < 107) {
            if (read_n(fd, b + n, 1) < 0)
                return -1;
            n++;
            if (n >= 2 && b[n - 2] == '\r' && b[n - 1] == '\n')
                return memcmp(b, "PROXY ", 6) == 0 ? 0 : -1;
        }
        return -1;
    }
    if (b[0] != 0x0D || read_n(fd, b + 1, 15) < 0 || memcmp(b, SIG, 12) != 0 || (b[12] & 0xF0) != 0x20)
        return -1;
    size_t len = (size_t)b[14] << 8 | b[15];
    while (len) {
        size_t k = len < sizeof b ? len : sizeof b;
        if (read_n(fd, b, k) < 0)
            return -1;
        len -= k;
    }
    return 0;
}

static void serve(int fd, const char *mode)
{
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (strcmp(mode, "silent") == 0) {
        unsigned char b[512];
        while (recv(fd, b, sizeof b, 0) > 0)
            ;
        return;
    }
    unsigned char first;
    if (strcmp(mode, "wrong") == 0) {
        /* guess: a header if it starts like one, MQTT otherwise */
        if (recv(fd, &first, 1, MSG_PEEK) != 1)
            return;
        if ((first == 'P' || first == 0x0D) && read_header(fd) < 0)
            return;
    } else if (read_header(fd) < 0)
        return;
    unsigned char h[2];
    if (read_n(fd, h, 2) < 0 || h[0] != 0x10 || (h[1] & 0x80))
        return;
    unsigned char body[128];
    if (h[1] > sizeof body || read_n(fd, body, h[1]) < 0)
        return;
    bool v5 = h[1] >= 7 && body[6] == 5;
    unsigned char ack5[] = {0x20, 0x03, 0x00, 0x00, 0x00}, ack4[] = {0x20, 0x02, 0x00, 0x00};
    if (v5)
        send(fd, ack5, sizeof ack5, MSG_NOSIGNAL);
    else
        send(fd, ack4, sizeof ack4, MSG_NOSIGNAL);
    unsigned char b[512];
    while (recv(fd, b, sizeof b, 0) > 0)
        ;
}

/* ---- MODE events: a miniature of ppbroker's event log -------------------------------------
 * Every connection gets a number (conn, in accept order) and logs "data" with the first word
 * it sent (letters, up to 32; answered with "ok") and "close" at EOF or RST. A connection
 * whose word is "hold" has its events kept back until some connection's word is "release"
 * (a broker that logs a connection late). GET /api/v1/events?since=N on the admin port
 * answers {"next":N,"events":[{"seq","conn","real_peer","type","text"?}..]} (at most 1000 a
 * page), which is all ppconform's oracle reads. Tests reuse one source address and port for
 * several connections and check which events the runner attributes to which. */
#define EV_MAX 4096
#define EV_CONNS 64
#define EV_PAGE 1000

#define EV_HELD 16

static char ev_log[EV_MAX][128];
static unsigned ev_count; /* seq of event i is i + 1 */

typedef struct held_event {
    unsigned conn;
    char peer[64], type[8], text[33];
    bool has_text;
} held_event;
static held_event ev_held[EV_HELD];
static unsigned ev_nheld;

static void ev_add(unsigned conn, const char *peer, const char *type, const char *text)
{
    if (ev_count >= EV_MAX)
        return;
    char *e = ev_log[ev_count];
    unsigned seq = ev_count + 1;
    if (text)
        snprintf(e, sizeof ev_log[0], "{\"seq\":%u,\"conn\":%u,\"real_peer\":\"%s\",\"type\":\"%s\",\"text\":\"%s\"}",
                 seq, conn, peer, type, text);
    else
        snprintf(e, sizeof ev_log[0], "{\"seq\":%u,\"conn\":%u,\"real_peer\":\"%s\",\"type\":\"%s\"}", seq, conn, peer,
                 type);
    ev_count++;
}

/* An event of a held connection waits here until a "release". */
static void ev_hold(unsigned conn, const char *peer, const char *type, const char *text)
{
    if (ev_nheld >= EV_HELD)
        return;
    held_event *h = &ev_held[ev_nheld++];
    h->conn = conn;
    snprintf(h->peer, sizeof h->peer, "%s", peer);
    snprintf(h->type, sizeof h->type, "%s", type);
    snprintf(h->text, sizeof h->text, "%s", text ? text : "");
    h->has_text = text != NULL;
}

static void ev_release(void)
{
    for (unsigned i = 0; i < ev_nheld; i++)
        ev_add(ev_held[i].conn, ev_held[i].peer, ev_held[i].type, ev_held[i].has_text ? ev_held[i].text : NULL);
    ev_nheld = 0;
}

static int listen_loopback(unsigned short *port)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("tiny_broker: listen");
        exit(1);
    }
    *port = ntohs(a.sin_port);
    return ls;
}

/* One admin request: read it (bounded, 2 s), answer the events page, close. */
static void serve_admin(int fd)
{
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1) {
        ssize_t r = recv(fd, req + n, sizeof req - 1 - n, 0);
        if (r <= 0)
            return;
        n += (size_t)r;
        req[n] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    req[n] = '\0';
    static char body[EV_PAGE * 130 + 64];
    const char *status = "200 OK";
    size_t blen = 0;
    const char *q = strstr(req, "GET /api/v1/events?since=");
    if (!q) {
        status = "404 Not Found";
        blen = (size_t)snprintf(body, sizeof body, "{\"error\":\"not found\"}");
    } else {
        unsigned long since = strtoul(q + strlen("GET /api/v1/events?since="), NULL, 10);
        unsigned first = since < 1 ? 0 : (unsigned)(since - 1 < ev_count ? since - 1 : ev_count);
        unsigned last = first + EV_PAGE < ev_count ? first + EV_PAGE : ev_count;
        blen = (size_t)snprintf(body, sizeof body, "{\"next\":%u,\"events\":[", last + 1);
        for (unsigned i = first; i < last; i++)
            blen += (size_t)snprintf(body + blen, sizeof body - blen, "%s%s", i > first ? "," : "", ev_log[i]);
        blen += (size_t)snprintf(body + blen, sizeof body - blen, "]}");
    }
    char head[256];
    int hlen = snprintf(head, sizeof head,
                        "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                        "Connection: close\r\n\r\n",
                        status, blen);
    if (send(fd, head, (size_t)hlen, MSG_NOSIGNAL) == hlen)
        send(fd, body, blen, MSG_NOSIGNAL);
}

static int events_main(const char *ready)
{
    unsigned short port, admin_port;
    int ls = listen_loopback(&port), as = listen_loopback(&admin_port);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", ready);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "127.0.0.1:%u 127.0.0.1:%u\n", port, admin_port);
    fclose(f);
    rename(tmp, ready);
    struct {
        int fd;
        unsigned conn;
        bool said, held;
        char peer[64];
    } c[EV_CONNS];
    size_t nc = 0;
    unsigned next_conn = 1;
    for (;;) {
        struct pollfd p[EV_CONNS + 2] = {{.fd = ls, .events = POLLIN}, {.fd = as, .events = POLLIN}};
        for (size_t i = 0; i < nc; i++)
            p[2 + i] = (struct pollfd){.fd = c[i].fd, .events = POLLIN};
        if (poll(p, 2 + nc, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (size_t i = nc; i-- > 0;) {
            if (!p[2 + i].revents)
                continue;
            char b[64];
            ssize_t r = recv(c[i].fd, b, sizeof b, 0);
            if (r > 0 && !c[i].said) {
                char text[33];
                size_t k = 0;
                for (ssize_t j = 0; j < r && k < 32; j++)
                    if (b[j] >= 'a' && b[j] <= 'z')
                        text[k++] = b[j];
                text[k] = '\0';
                c[i].said = true;
                c[i].held = strcmp(text, "hold") == 0;
                if (strcmp(text, "release") == 0)
                    ev_release();
                (c[i].held ? ev_hold : ev_add)(c[i].conn, c[i].peer, "data", text);
                send(c[i].fd, "ok", 2, MSG_NOSIGNAL);
            } else if (r <= 0 && !(r < 0 && (errno == EAGAIN || errno == EINTR))) {
                (c[i].held ? ev_hold : ev_add)(c[i].conn, c[i].peer, "close", NULL);
                close(c[i].fd);
                c[i] = c[--nc];
            }
        }
        if (p[0].revents) {
            struct sockaddr_in a;
            socklen_t al = sizeof a;
            int fd = accept(ls, (struct sockaddr *)&a, &al);
            if (fd >= 0 && nc == EV_CONNS)
                close(fd);
            else if (fd >= 0) {
                char ip[INET_ADDRSTRLEN] = "?";
                inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
                c[nc].fd = fd;
                c[nc].conn = next_conn++;
                c[nc].said = c[nc].held = false;
                snprintf(c[nc].peer, sizeof c[nc].peer, "%s:%u", ip, ntohs(a.sin_port));
                nc++;
            }
        }
        if (p[1].revents) {
            int fd = accept(as, NULL, NULL);
            if (fd >= 0) {
                serve_admin(fd);
                close(fd);
            }
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "good") && strcmp(argv[1], "wrong") && strcmp(argv[1], "silent") &&
                      strcmp(argv[1], "crash") && strcmp(argv[1], "die") && strcmp(argv[1], "events"))) {
        fprintf(stderr, "usage: tiny_broker good|wrong|silent|crash|die|events READY_FILE\n");
        return 2;
    }
    if (strcmp(argv[1], "events") == 0)
        return events_main(argv[2]);
    struct sigaction sa = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
    sigaction(SIGCHLD, &sa, NULL);
    unsigned short port;
    int ls = listen_loopback(&port);
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "127.0.0.1:%u\n", port);
    fclose(f);
    rename(tmp, argv[2]);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (strcmp(argv[1], "die") == 0) {
            fprintf(stderr, "tiny_broker: ERROR: deliberate fixture failure on the first connection\n");
            return 1;
        }
        if (strcmp(argv[1], "crash") == 0) {
            signal(SIGSEGV, SIG_DFL);
            raise(SIGSEGV);
        }
        pid_t pid = fork();
        if (pid == 0) {
            close(ls);
            serve(fd, argv[1]);
            close(fd);
            _exit(0);
        }
        close(fd);
    }
}
