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
 * It exists to show that ppconform reports the right verdicts for a right and a wrong
 * receiver; it is not a broker.
 */
#include <errno.h>
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

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "good") && strcmp(argv[1], "wrong") && strcmp(argv[1], "silent") &&
                      strcmp(argv[1], "crash"))) {
        fprintf(stderr, "usage: tiny_broker good|wrong|silent|crash READY_FILE\n");
        return 2;
    }
    struct sigaction sa = {.sa_handler = SIG_IGN, .sa_flags = SA_NOCLDWAIT};
    sigaction(SIGCHLD, &sa, NULL);
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 64) < 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) < 0) {
        perror("tiny_broker: listen");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return 1;
    fprintf(f, "127.0.0.1:%u\n", ntohs(a.sin_port));
    fclose(f);
    rename(tmp, argv[2]);
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
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
