/* broker/auth: the password file and its salted hashes (OpenSSL PBKDF2-HMAC-SHA256).
 *
 * File format, one entry per line (blank lines and `#` comments allowed):
 *     user:$pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64
 * SALT is 16 random bytes, HASH is 32 bytes, both standard base64 with padding. The username
 * may not contain ':' or control characters. `ppbroker passwd FILE USER` (main.c) makes an
 * entry with br_passwd_make_entry() and writes it; the engine loads the file at start.
 */
#ifndef BR_AUTH_H
#define BR_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BR_PASSWD_ITERATIONS 20000u /* default work factor for new entries: each check runs on
                                        the single broker thread, so it is kept to a few ms */
#define BR_PASSWD_ENTRY_MAX 512      /* longest line br_passwd_make_entry writes, NUL included */

typedef struct br_passwd br_passwd;

/* Load a password file. NULL on error with err = "PATH:LINE: reason" (or "PATH: reason"). */
br_passwd *br_passwd_load(const char *path, char *err, size_t errcap);
/* Same from text in memory (`name` stands for the file in messages). */
br_passwd *br_passwd_parse(const char *text, size_t len, const char *name, char *err,
                           size_t errcap);
void br_passwd_free(br_passwd *pw);
size_t br_passwd_count(const br_passwd *pw);
bool br_passwd_has_user(const br_passwd *pw, const char *user);
/* True when user exists and the password matches (constant-time compare of the hash). */
bool br_passwd_check(const br_passwd *pw, const char *user, const uint8_t *password,
                     size_t password_len);

/* Write "user:$pbkdf2-sha256$..." (no newline) into out with a fresh random salt. iterations 0
 * = BR_PASSWD_ITERATIONS. Returns the length, or -1 (bad username, RNG failure, cap too small). */
int br_passwd_make_entry(const char *user, const uint8_t *password, size_t password_len,
                         unsigned iterations, char *out, size_t cap);

#endif
