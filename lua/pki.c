/* A throwaway PKI for TLS targets: a CA and leaf certificates (EC P-256, one day), made
 * with the OpenSSL API when a target profile needs TLS listeners and client certificates.
 * host.make_pki(dir, {ca = "CN", leaves = {{name=, cn=, server=bool}, ...}}) writes
 * dir/ca.pem, dir/ca.key and dir/<name>.pem, dir/<name>.key. */
#include "core.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca, bool server)
{
    X509 *c = X509_new();
    if (!c)
        return NULL;
    X509_set_version(c, 2);
    unsigned char serial[8];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509_set_pubkey(c, key);
    X509 *iss = issuer ? issuer : c;
    int rc = 0;
    if (ca) {
        rc |= add_ext(c, iss, NID_basic_constraints, "critical,CA:TRUE");
        rc |= add_ext(c, iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        rc |= add_ext(c, iss, NID_basic_constraints, "critical,CA:FALSE");
        rc |= add_ext(c, iss, NID_ext_key_usage, server ? "serverAuth" : "clientAuth");
        if (server)
            rc |= add_ext(c, iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    }
    if (rc || !X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256())) {
        X509_free(c);
        return NULL;
    }
    return c;
}

static int write_pair(const char *dir, const char *name, X509 *cert, EVP_PKEY *key)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.pem", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || !PEM_write_X509(f, cert)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    f = fopen(path, "w");
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

int pc_l_make_pki(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "ca");
    const char *ca_cn = luaL_optstring(L, -1, "ppconform test CA");
    EVP_PKEY *ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *ca = ca_key ? make_cert(ca_key, ca_cn, NULL, NULL, true, false) : NULL;
    if (!ca || write_pair(dir, "ca", ca, ca_key) < 0) {
        X509_free(ca);
        EVP_PKEY_free(ca_key);
        return luaL_error(L, "make_pki: cannot make the CA in %s", dir);
    }
    lua_getfield(L, 2, "leaves");
    int n = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
    for (int i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "cn");
        lua_getfield(L, -3, "server");
        const char *name = luaL_checkstring(L, -3), *cn = luaL_checkstring(L, -2);
        bool server = lua_toboolean(L, -1);
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *c = k ? make_cert(k, cn, ca, ca_key, false, server) : NULL;
        int rc = c ? write_pair(dir, name, c, k) : -1;
        X509_free(c);
        EVP_PKEY_free(k);
        if (rc < 0) {
            X509_free(ca);
            EVP_PKEY_free(ca_key);
            return luaL_error(L, "make_pki: cannot make %s in %s", name, dir);
        }
        lua_pop(L, 4);
    }
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    return 0;
}
