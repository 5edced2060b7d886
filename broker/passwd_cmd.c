/* broker/passwd_cmd: the `ppbroker passwd` helper (see passwd_cmd.h). */
#include "passwd_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "auth.h"

#define PW_MAX 1024
#define FILE_MAX (4u << 20)

static int read_password(const char *prompt, char *out, size_t cap)
{
    bool tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    if (tty) {
        fputs(prompt, stderr);
        tcgetattr(STDIN_FILENO, &old);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    char *line = fgets(out, (int)cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    if (!line)
        return -1;
    size_t n = strlen(out);
    if (n > 0 && out[n - 1] == '\n')
        out[--n] = '\0';
    else if (n == cap - 1)
        return -2; /* longer than we take */
    if (n > 0 && out[n - 1] == '\r')
        out[--n] = '\0';
    return (int)n;
}

int ppb_passwd_command(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "Usage: ppbroker passwd FILE USER   (password from stdin, or prompted)\n");
        return 2;
    }
    const char *path = argv[1], *user = argv[2];
    char pw[PW_MAX], again[PW_MAX];
    int n = read_password("Password: ", pw, sizeof(pw));
    if (n == -2) {
        fprintf(stderr, "ppbroker passwd: password longer than %d bytes\n", PW_MAX - 2);
        return 2;
    }
    if (n <= 0) {
        fprintf(stderr, "ppbroker passwd: empty password\n");
        return 2;
    }
    if (isatty(STDIN_FILENO)) {
        if (read_password("Again: ", again, sizeof(again)) != n || strcmp(pw, again) != 0) {
            fprintf(stderr, "ppbroker passwd: passwords differ\n");
            return 2;
        }
    }
    char entry[BR_PASSWD_ENTRY_MAX];
    if (br_passwd_make_entry(user, (const uint8_t *)pw, (size_t)n, 0, entry, sizeof(entry)) < 0) {
        fprintf(stderr, "ppbroker passwd: bad username '%s' (no ':' or control characters)\n", user);
        return 2;
    }
    memset(pw, 0, sizeof(pw));

    /* Keep every other line; replace USER's entry in place or append it. */
    char *old = NULL;
    size_t oldlen = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        old = malloc(FILE_MAX + 1);
        oldlen = old ? fread(old, 1, FILE_MAX + 1, f) : 0;
        fclose(f);
        if (!old || oldlen > FILE_MAX) {
            fprintf(stderr, "ppbroker passwd: %s: too large or out of memory\n", path);
            free(old);
            return 1;
        }
    } else if (errno != ENOENT) {
        fprintf(stderr, "ppbroker passwd: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "ppbroker passwd: %s: %s\n", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(old);
        return 1;
    }
    size_t ulen = strlen(user);
    bool replaced = false;
    size_t pos = 0;
    while (pos < oldlen) {
        size_t end = pos;
        while (end < oldlen && old[end] != '\n')
            end++;
        const char *line = old + pos;
        size_t len = end - pos;
        if (len > ulen && memcmp(line, user, ulen) == 0 && line[ulen] == ':') {
            if (!replaced)
                fprintf(f, "%s\n", entry);
            replaced = true;
        } else {
            fwrite(line, 1, len, f);
            fputc('\n', f);
        }
        pos = end + 1;
    }
    if (!replaced)
        fprintf(f, "%s\n", entry);
    free(old);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "ppbroker passwd: cannot write %s: %s\n", path, strerror(errno));
        unlink(tmp);
        return 1;
    }
    fprintf(stderr, "ppbroker passwd: %s entry for '%s' in %s\n", replaced ? "replaced" : "added", user, path);
    return 0;
}
