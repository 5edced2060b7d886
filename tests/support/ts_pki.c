/* ts_pki_make: a throwaway CA and leaf certificates made with the OpenSSL API, so TLS tests
 * need no committed keys and no openssl CLI. */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "support.h"
#include "ts_internal.h"

static int write_pem(const char *dir, const char *stem, X509 *cert, EVP_PKEY *key)
{
    char path[PATH_MAX];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s.pem", dir, stem);
    if (!(f = fopen(path, "w")))
        return ts_fail("cannot write %s", path);
    int ok = PEM_write_X509(f, cert);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.key", dir, stem);
    if (!ok || !(f = fopen(path, "w")))
        return ts_fail("cannot write %s", path);
    ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    return ok ? 0 : ts_fail("cannot write key %s", path);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

/* A certificate for key, signed by issuer_key (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, size_t cn_len, X509 *issuer,
                       EVP_PKEY *issuer_key, bool is_ca, bool is_server)
{
    static long serial = 1;
    X509 *c = X509_new();
    if (!c)
        return NULL;
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), (long)time(NULL) % 100000 * 1000 + serial++ % 1000);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    /* V_ASN1_UTF8STRING with an explicit length stores the bytes as given (NUL included). */
    if (!X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
                                    (const unsigned char *)cn, (int)cn_len, -1, 0))
        goto fail;
    if (!X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name))
        goto fail;
    X509 *iss = issuer ? issuer : c;
    if (add_ext(c, iss, NID_subject_key_identifier, "hash") < 0)
        goto fail;
    if (is_ca) {
        if (add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign") < 0)
            goto fail;
    } else {
        if (add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
            add_ext(c, iss, NID_key_usage, "critical,digitalSignature") < 0 ||
            add_ext(c, iss, NID_ext_key_usage, "serverAuth,clientAuth") < 0 ||
            add_ext(c, iss, NID_authority_key_identifier, "keyid") < 0)
            goto fail;
        if (is_server && add_ext(c, iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0)
            goto fail;
    }
    if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()))
        goto fail;
    return c;
fail:
    X509_free(c);
    return NULL;
}

int ts_pki_make(const char *dir, const char *ca_cn, const ts_leaf *leaves, size_t n)
{
    int rc = -1;
    EVP_PKEY *ca_key = EVP_EC_gen("P-256");
    X509 *ca = ca_key ? make_cert(ca_key, ca_cn, strlen(ca_cn), NULL, NULL, true, false) : NULL;
    if (!ca) {
        ts_fail("cannot make CA '%s'", ca_cn);
        goto out;
    }
    if (write_pem(dir, "ca", ca, ca_key) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const ts_leaf *l = &leaves[i];
        EVP_PKEY *key = EVP_EC_gen("P-256");
        size_t cn_len = l->cn_len ? l->cn_len : strlen(l->cn);
        X509 *cert = key ? make_cert(key, l->cn, cn_len, ca, ca_key, false, l->is_server) : NULL;
        int w = cert ? write_pem(dir, l->name, cert, key) : ts_fail("cannot make certificate '%s'", l->name);
        X509_free(cert);
        EVP_PKEY_free(key);
        if (w < 0)
            goto out;
    }
    rc = 0;
out:
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return rc;
}
