/* broker/auth: password file loading and PBKDF2-HMAC-SHA256 verification (OpenSSL). */
#include "auth.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define SCHEME "$pbkdf2-sha256$"
#define SALT_LEN 16
#define SALT_MAX 64
#define HASH_LEN 32
#define ITER_MAX 10000000u    /* a file asking for more is a mistake (or a denial of service) */
#define LINE_MAX_LEN 1024
#define FILE_MAX (16u << 20)  /* 16 MiB */

typedef struct passwd_entry {
    char *user;
    unsigned iterations;
    uint8_t salt[SALT_MAX];
    size_t salt_len;
    uint8_t hash[HASH_LEN];
} passwd_entry;

struct br_passwd {
    passwd_entry *items;
    size_t count, cap;
};

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static bool user_valid(const char *u, size_t n)
{
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch == ':' || ch < 0x20 || ch == 0x7f)
            return false;
    }
    return true;
}

/* Standard base64 with padding -> bytes. Returns the decoded length or -1. */
static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap + 2)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  ch == '+' || ch == '/' || (ch == '=' && i >= n - 2);
        if (!ok)
            return -1;
    }
    if (s[n - 2] == '=' && s[n - 1] != '=')
        return -1;
    uint8_t tmp[(LINE_MAX_LEN / 4) * 3 + 3];
    if (n / 4 * 3 > sizeof tmp)
        return -1;
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes */
    if (s[n - 1] == '=')
        len--;
    if (s[n - 2] == '=')
        len--;
    if ((size_t)len > cap)
        return -1;
    memcpy(out, tmp, (size_t)len);
    return len;
}

static bool derive(const uint8_t *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                   unsigned iter, uint8_t out[HASH_LEN])
{
    return PKCS5_PBKDF2_HMAC((const char *)pw, (int)pwlen, salt, (int)saltlen, (int)iter,
                             EVP_sha256(), HASH_LEN, out) == 1;
}

static passwd_entry *find(const br_passwd *pw, const char *user)
{
    for (size_t i = 0; pw && i < pw->count; i++)
        if (strcmp(pw->items[i].user, user) == 0)
            return &pw->items[i];
    return NULL;
}

/* One line "user:$pbkdf2-sha256$iter$salt$hash" (no newline). 0 or -1 with why. */
static int parse_line(const char *line, size_t n, passwd_entry *out, const char **why)
{
    const char *colon = memchr(line, ':', n);
    if (!colon) {
        *why = "expected user:$pbkdf2-sha256$ITERATIONS$SALT$HASH";
        return -1;
    }
    size_t ulen = (size_t)(colon - line);
    if (!user_valid(line, ulen)) {
        *why = "bad username (empty, too long, or control characters)";
        return -1;
    }
    const char *p = colon + 1, *end = line + n;
    size_t slen = strlen(SCHEME);
    if ((size_t)(end - p) < slen || memcmp(p, SCHEME, slen) != 0) {
        *why = "unsupported hash scheme (expected $pbkdf2-sha256$)";
        return -1;
    }
    p += slen;
    unsigned long iter = 0;
    const char *q = p;
    while (q < end && *q >= '0' && *q <= '9' && iter <= ITER_MAX)
        iter = iter * 10 + (unsigned long)(*q++ - '0');
    if (q == p || q >= end || *q != '$' || iter == 0 || iter > ITER_MAX) {
        *why = "bad iteration count (1..10000000)";
        return -1;
    }
    p = q + 1;
    q = memchr(p, '$', (size_t)(end - p));
    if (!q) {
        *why = "missing hash field";
        return -1;
    }
    int salt_len = b64_decode(p, (size_t)(q - p), out->salt, SALT_MAX);
    if (salt_len <= 0) {
        *why = "bad salt (base64, 1..64 bytes)";
        return -1;
    }
    p = q + 1;
    uint8_t hash[HASH_LEN + 3];
    int hash_len = b64_decode(p, (size_t)(end - p), hash, sizeof hash);
    if (hash_len != HASH_LEN) {
        *why = "bad hash (base64 of 32 bytes)";
        return -1;
    }
    out->user = strndup(line, ulen);
    if (!out->user) {
        *why = "out of memory";
        return -1;
    }
    out->iterations = (unsigned)iter;
    out->salt_len = (size_t)salt_len;
    memcpy(out->hash, hash, HASH_LEN);
    return 0;
}

br_passwd *br_passwd_parse(const char *text, size_t len, const char *name, char *err, size_t errcap)
{
    br_passwd *pw = calloc(1, sizeof *pw);
    if (!pw) {
        set_err(err, errcap, "%s: out of memory", name);
        return NULL;
    }
    size_t pos = 0;
    unsigned lineno = 0;
    while (pos < len) {
        lineno++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        while (n > 0 && (line[0] == ' ' || line[0] == '\t'))
            line++, n--;
        while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        if (n > LINE_MAX_LEN) {
            set_err(err, errcap, "%s:%u: line longer than %u bytes", name, lineno, LINE_MAX_LEN);
            goto fail;
        }
        if (memchr(line, '\0', n)) {
            set_err(err, errcap, "%s:%u: NUL byte", name, lineno);
            goto fail;
        }
        passwd_entry e;
        memset(&e, 0, sizeof e);
        const char *why = NULL;
        if (parse_line(line, n, &e, &why) < 0) {
            set_err(err, errcap, "%s:%u: %s", name, lineno, why);
            goto fail;
        }
        if (find(pw, e.user)) {
            set_err(err, errcap, "%s:%u: user '%s' appears twice", name, lineno, e.user);
            free(e.user);
            goto fail;
        }
        if (pw->count == pw->cap) {
            size_t ncap = pw->cap ? pw->cap * 2 : 8;
            passwd_entry *ni = realloc(pw->items, ncap * sizeof *ni);
            if (!ni) {
                free(e.user);
                set_err(err, errcap, "%s: out of memory", name);
                goto fail;
            }
            pw->items = ni;
            pw->cap = ncap;
        }
        pw->items[pw->count++] = e;
    }
    return pw;
fail:
    br_passwd_free(pw);
    return NULL;
}

br_passwd *br_passwd_load(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_err(err, errcap, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        set_err(err, errcap, "%s: out of memory", path);
        return NULL;
    }
    size_t n = fread(buf, 1, FILE_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    br_passwd *pw = NULL;
    if (bad)
        set_err(err, errcap, "%s: read error", path);
    else if (n > FILE_MAX)
        set_err(err, errcap, "%s: larger than %u bytes", path, FILE_MAX);
    else
        pw = br_passwd_parse(buf, n, path, err, errcap);
    free(buf);
    return pw;
}

void br_passwd_free(br_passwd *pw)
{
    if (!pw)
        return;
    for (size_t i = 0; i < pw->count; i++) {
        free(pw->items[i].user);
        OPENSSL_cleanse(pw->items[i].hash, HASH_LEN);
    }
    free(pw->items);
    free(pw);
}

size_t br_passwd_count(const br_passwd *pw) { return pw ? pw->count : 0; }

bool br_passwd_has_user(const br_passwd *pw, const char *user) { return user && find(pw, user) != NULL; }

bool br_passwd_check(const br_passwd *pw, const char *user, const uint8_t *password, size_t password_len)
{
    if (!pw || !user || password_len > 65535)
        return false;
    const passwd_entry *e = find(pw, user);
    uint8_t got[HASH_LEN];
    static const uint8_t dummy_salt[SALT_LEN];
    /* An unknown user costs the same work as a known one, so timing does not reveal names. */
    bool ok = derive(password ? password : (const uint8_t *)"", password ? password_len : 0,
                     e ? e->salt : dummy_salt, e ? e->salt_len : SALT_LEN,
                     e ? e->iterations : BR_PASSWD_ITERATIONS, got);
    bool match = ok && e && CRYPTO_memcmp(got, e->hash, HASH_LEN) == 0;
    OPENSSL_cleanse(got, sizeof got);
    return match;
}

int br_passwd_make_entry(const char *user, const uint8_t *password, size_t password_len,
                         unsigned iterations, char *out, size_t cap)
{
    if (!user || !out || !user_valid(user, strlen(user)) || password_len > 65535)
        return -1;
    if (iterations == 0)
        iterations = BR_PASSWD_ITERATIONS;
    if (iterations > ITER_MAX)
        return -1;
    uint8_t salt[SALT_LEN], hash[HASH_LEN];
    if (RAND_bytes(salt, SALT_LEN) != 1)
        return -1;
    if (!derive(password ? password : (const uint8_t *)"", password ? password_len : 0, salt,
                SALT_LEN, iterations, hash))
        return -1;
    char salt_b64[4 * ((SALT_LEN + 2) / 3) + 1], hash_b64[4 * ((HASH_LEN + 2) / 3) + 1];
    EVP_EncodeBlock((unsigned char *)salt_b64, salt, SALT_LEN);
    EVP_EncodeBlock((unsigned char *)hash_b64, hash, HASH_LEN);
    OPENSSL_cleanse(hash, sizeof hash);
    int n = snprintf(out, cap, "%s:" SCHEME "%u$%s$%s", user, iterations, salt_b64, hash_b64);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}
