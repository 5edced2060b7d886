/* broker/acl_file: ACL file parser and check (see acl_file.h). */
#include "acl_file.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/addr.h"

#define ACL_MAX_RULES 4096
#define ACL_MAX_FILE (1u << 20)

enum scope { SCOPE_ALL, SCOPE_USER, SCOPE_SOURCE };

typedef struct acl_rule {
    enum scope scope;
    char *user;       /* SCOPE_USER */
    pn_cidr cidr;     /* SCOPE_SOURCE */
    unsigned access;  /* BR_ACL_READ | BR_ACL_WRITE */
    char *filter;
} acl_rule;

struct ppb_acl {
    acl_rule *rules;
    size_t n;
};

void ppb_acl_free(ppb_acl *acl)
{
    if (!acl)
        return;
    for (size_t i = 0; i < acl->n; i++) {
        free(acl->rules[i].user);
        free(acl->rules[i].filter);
    }
    free(acl->rules);
    free(acl);
}

/* Next '/'-separated level of s starting at *pos; false at the end. */
static bool next_level(const char *s, size_t *pos, const char **lv, size_t *len)
{
    if (*pos > strlen(s))
        return false;
    const char *start = s + *pos;
    const char *slash = strchr(start, '/');
    *lv = start;
    *len = slash ? (size_t)(slash - start) : strlen(start);
    *pos += *len + 1;
    return true;
}

bool ppb_acl_filter_covers(const char *rule, const char *filter)
{
    size_t rp = 0, fp = 0;
    const char *r, *f;
    size_t rl, fl;
    for (;;) {
        bool hr = next_level(rule, &rp, &r, &rl);
        bool hf = next_level(filter, &fp, &f, &fl);
        if (!hr)
            return !hf;
        if (rl == 1 && r[0] == '#')
            return true; /* covers this level and everything below, '#' included */
        if (!hf)
            return false;
        if (fl == 1 && f[0] == '#')
            return false; /* the filter reaches deeper than a non-# rule allows */
        if (rl == 1 && r[0] == '+')
            continue;     /* any single level, '+' included */
        if (fl == 1 && f[0] == '+')
            return false; /* a wildcard level is wider than a literal */
        if (rl != fl || memcmp(r, f, rl) != 0)
            return false;
    }
}

static bool valid_filter(const char *f)
{
    size_t n = strlen(f);
    if (n == 0 || n > 65535)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (f[i] == '#' && (i + 1 != n || (i > 0 && f[i - 1] != '/')))
            return false;
        if (f[i] == '+' && ((i > 0 && f[i - 1] != '/') || (i + 1 < n && f[i + 1] != '/')))
            return false;
        if ((unsigned char)f[i] < 0x20)
            return false;
    }
    return true;
}

ppb_acl *ppb_acl_parse(const char *text, size_t len, const char *name, char *err, size_t errcap)
{
    ppb_acl *acl = calloc(1, sizeof(*acl));
    if (!acl) {
        snprintf(err, errcap, "%s: out of memory", name);
        return NULL;
    }
    enum scope scope = SCOPE_ALL;
    char user[256] = "";
    pn_cidr cidr;
    memset(&cidr, 0, sizeof(cidr));
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        char line[1024];
        size_t n = end - pos;
        if (n >= sizeof(line) || memchr(text + pos, '\0', n)) {
            snprintf(err, errcap, "%s:%d: line too long or holds a NUL byte", name, lineno);
            goto fail;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        char *save = NULL;
        char *kw = strtok_r(line, " \t\r", &save);
        if (!kw || kw[0] == '#')
            continue;
        char *a1 = strtok_r(NULL, " \t\r", &save);
        char *a2 = strtok_r(NULL, " \t\r", &save);
        char *extra = strtok_r(NULL, " \t\r", &save);
        if (strcmp(kw, "user") == 0) {
            if (!a1 || a2 || strlen(a1) >= sizeof(user)) {
                snprintf(err, errcap, "%s:%d: expected 'user NAME'", name, lineno);
                goto fail;
            }
            scope = SCOPE_USER;
            strcpy(user, a1);
        } else if (strcmp(kw, "source") == 0) {
            if (!a1 || a2 || pn_cidr_parse(a1, &cidr) != 0) {
                snprintf(err, errcap, "%s:%d: expected 'source CIDR' (e.g. 203.0.113.0/24)", name, lineno);
                goto fail;
            }
            scope = SCOPE_SOURCE;
        } else if (strcmp(kw, "topic") == 0) {
            unsigned access;
            if (!a1 || !a2 || extra) {
                snprintf(err, errcap, "%s:%d: expected 'topic read|write|readwrite FILTER'", name, lineno);
                goto fail;
            }
            if (strcmp(a1, "read") == 0)
                access = BR_ACL_READ;
            else if (strcmp(a1, "write") == 0)
                access = BR_ACL_WRITE;
            else if (strcmp(a1, "readwrite") == 0)
                access = BR_ACL_READ | BR_ACL_WRITE;
            else {
                snprintf(err, errcap, "%s:%d: access must be read, write or readwrite, not '%s'", name, lineno, a1);
                goto fail;
            }
            if (!valid_filter(a2)) {
                snprintf(err, errcap, "%s:%d: bad topic filter '%s'", name, lineno, a2);
                goto fail;
            }
            if (acl->n >= ACL_MAX_RULES) {
                snprintf(err, errcap, "%s:%d: too many rules (at most %d)", name, lineno, ACL_MAX_RULES);
                goto fail;
            }
            if (acl->n % 64 == 0) {
                acl_rule *r = realloc(acl->rules, (acl->n + 64) * sizeof(*r));
                if (!r) {
                    snprintf(err, errcap, "%s: out of memory", name);
                    goto fail;
                }
                acl->rules = r;
            }
            acl_rule *r = &acl->rules[acl->n];
            memset(r, 0, sizeof(*r));
            r->scope = scope;
            r->access = access;
            r->cidr = cidr;
            r->filter = strdup(a2);
            r->user = scope == SCOPE_USER ? strdup(user) : NULL;
            acl->n++;
            if (!r->filter || (scope == SCOPE_USER && !r->user)) {
                snprintf(err, errcap, "%s: out of memory", name);
                goto fail;
            }
        } else {
            snprintf(err, errcap, "%s:%d: unknown keyword '%s' (topic, user or source)", name, lineno, kw);
            goto fail;
        }
    }
    return acl;
fail:
    ppb_acl_free(acl);
    return NULL;
}

ppb_acl *ppb_acl_load(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(ACL_MAX_FILE + 1);
    size_t n = buf ? fread(buf, 1, ACL_MAX_FILE + 1, f) : 0;
    fclose(f);
    if (!buf || n > ACL_MAX_FILE) {
        snprintf(err, errcap, "%s: too large (at most 1 MiB) or out of memory", path);
        free(buf);
        return NULL;
    }
    ppb_acl *acl = ppb_acl_parse(buf, n, path, err, errcap);
    free(buf);
    return acl;
}

bool ppb_acl_check(void *ud, const char *username, const char *client_id, const struct sockaddr *addr,
                   const char *topic, br_acl_access access)
{
    (void)client_id;
    const ppb_acl *acl = ud;
    pn_addr a;
    bool have_addr = addr && pn_addr_from_sockaddr(addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                                         : sizeof(struct sockaddr_in),
                                                   &a) == 0;
    for (size_t i = 0; i < acl->n; i++) {
        const acl_rule *r = &acl->rules[i];
        if (!(r->access & (unsigned)access))
            continue;
        if (r->scope == SCOPE_USER && (!username || strcmp(username, r->user) != 0))
            continue;
        if (r->scope == SCOPE_SOURCE && (!have_addr || !pn_cidr_match(&r->cidr, &a)))
            continue;
        if (ppb_acl_filter_covers(r->filter, topic))
            return true;
    }
    return false;
}
