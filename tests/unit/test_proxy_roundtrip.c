/* lib/proxy builder + parser together: randomized headers (fixed seed) are built, parsed, and
 * every parsed field must equal what was built; every builder malformation must be refused
 * by the parser with the error name the requirements give it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/proxy.h"

#define ITERATIONS 12000
#define MAX_TLVS 16
#define MAX_SUBS 8
#define NOOP_MAX 4096

/* ---- deterministic randomness (xorshift64*, fixed seed) ----------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
    return rnd() % n;
}

static void rnd_fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

/* Printable ASCII (what SSL names, ALPN and authorities usually are) or any byte. */
static void rnd_text(uint8_t *p, size_t n, bool binary)
{
    for (size_t i = 0; i < n; i++)
        p[i] = binary ? (uint8_t)rnd() : (uint8_t)(0x21 + rnd_below(0x5e));
}

/* IPv6 with runs of zero groups so inet_ntop compression gets exercised; sometimes mapped. */
static void rnd_ip6(uint8_t ip[16])
{
    switch (rnd_below(4)) {
    case 0:
        rnd_fill(ip, 16);
        break;
    case 1: /* ::ffff:a.b.c.d (A-09, EC-V1-29) */
        memset(ip, 0, 10);
        ip[10] = ip[11] = 0xff;
        rnd_fill(ip + 12, 4);
        break;
    default:
        for (int g = 0; g < 8; g++) {
            uint16_t v = rnd_below(3) ? 0 : (uint16_t)rnd();
            ip[2 * g] = (uint8_t)(v >> 8);
            ip[2 * g + 1] = (uint8_t)v;
        }
        break;
    }
}

static uint16_t rnd_port(void)
{
    switch (rnd_below(5)) {
    case 0:
        return 0;
    case 1:
        return 65535;
    default:
        return (uint16_t)rnd();
    }
}

/* ---- one randomized header ------------------------------------------------------------- */

typedef struct case_data {
    pp_build_spec spec;
    pp_build_tlv tlvs[MAX_TLVS];
    pp_build_tlv subs[MAX_SUBS];
    pp_build_ssl ssl;
    uint8_t values[MAX_TLVS + MAX_SUBS][300];
    uint8_t unix_src[PP_UNIX_PATH_LEN], unix_dst[PP_UNIX_PATH_LEN];
    char tail[64];
    bool has_crc;
} case_data;

static void add_tlv(case_data *c, uint8_t type, size_t len, bool binary)
{
    uint8_t *v = c->values[c->spec.ntlvs];
    rnd_text(v, len, binary);
    c->tlvs[c->spec.ntlvs++] = PP_BUILD_TLV(type, v, len);
}

static void add_sub(case_data *c, uint8_t type, size_t len)
{
    uint8_t *v = c->values[MAX_TLVS + c->ssl.nsubs];
    rnd_text(v, len, type == PP_SSL_CLIENT_CERT);
    c->subs[c->ssl.nsubs++] = PP_BUILD_TLV(type, v, len);
}

static void shuffle_tlvs(pp_build_tlv *t, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd_below((uint32_t)i);
        pp_build_tlv tmp = t[i - 1];
        t[i - 1] = t[j];
        t[j] = tmp;
    }
}

static void random_v1(case_data *c)
{
    pp_build_spec *s = &c->spec;
    s->version = 1;
    s->transport = PP_TRANS_STREAM;
    switch (rnd_below(5)) {
    case 0:
    case 1:
        s->family = PP_FAM_INET;
        s->src.family = s->dst.family = PP_FAM_INET;
        rnd_fill(s->src.ip, 4);
        rnd_fill(s->dst.ip, 4);
        break;
    case 2:
    case 3:
        s->family = PP_FAM_INET6;
        s->src.family = s->dst.family = PP_FAM_INET6;
        rnd_ip6(s->src.ip);
        rnd_ip6(s->dst.ip);
        break;
    default:
        s->family = PP_FAM_UNSPEC;
        if (rnd_below(2)) { /* long form: a space, then printable text */
            size_t n = 1 + rnd_below(40);
            c->tail[0] = ' ';
            rnd_text((uint8_t *)c->tail + 1, n - 1, false);
            c->tail[n] = '\0';
            s->v1_unknown_tail = c->tail;
        }
        return;
    }
    s->src.port = rnd_port();
    s->dst.port = rnd_port();
}

static void random_ssl(case_data *c)
{
    static const uint8_t sub_types[] = {PP_SSL_VERSION, PP_SSL_CN,    PP_SSL_CIPHER,    PP_SSL_SIG_ALG,
                                        PP_SSL_KEY_ALG, PP_SSL_GROUP, PP_SSL_SIG_SCHEME, PP_SSL_CLIENT_CERT};
    c->ssl.client = (uint8_t)rnd_below(8);
    c->ssl.verify = rnd_below(2) ? 0 : rnd();
    c->ssl.subs = c->subs;
    c->ssl.nsubs = 0;
    for (size_t i = 0; i < sizeof sub_types; i++)
        if (rnd_below(2))
            add_sub(c, sub_types[i], rnd_below(i == 7 ? 300 : 40));
    shuffle_tlvs(c->subs, c->ssl.nsubs); /* sub-TLV order is the sender's choice */
    c->spec.ssl = &c->ssl;
    c->tlvs[c->spec.ntlvs++] = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
}

static void random_v2(case_data *c)
{
    pp_build_spec *s = &c->spec;
    s->command = rnd_below(4) ? PP_CMD_PROXY : PP_CMD_LOCAL;
    s->family = (uint8_t)rnd_below(4);
    s->transport = s->family == PP_FAM_UNSPEC ? PP_TRANS_UNSPEC : (uint8_t)(1 + rnd_below(2));
    s->src.family = s->dst.family = s->family;
    if (s->family == PP_FAM_INET) {
        rnd_fill(s->src.ip, 4);
        rnd_fill(s->dst.ip, 4);
    } else if (s->family == PP_FAM_INET6) {
        rnd_ip6(s->src.ip);
        rnd_ip6(s->dst.ip);
    } else if (s->family == PP_FAM_UNIX) {
        memset(c->unix_src, 0, sizeof c->unix_src);
        memset(c->unix_dst, 0, sizeof c->unix_dst);
        rnd_text(c->unix_src, 1 + rnd_below(PP_UNIX_PATH_LEN), false); /* up to 108, maybe no NUL */
        rnd_text(c->unix_dst, 1 + rnd_below(20), false);
        s->src.unix_path = c->unix_src;
        s->dst.unix_path = c->unix_dst;
        s->unix_raw = true;
    }
    if (s->family == PP_FAM_INET || s->family == PP_FAM_INET6) {
        s->src.port = rnd_port();
        s->dst.port = rnd_port();
    }

    /* each top-level type at most once: duplicates are refused by default */
    if (rnd_below(2))
        add_tlv(c, PP_TLV_ALPN, rnd_below(20), rnd_below(4) == 0);
    if (rnd_below(2))
        add_tlv(c, PP_TLV_AUTHORITY, rnd_below(255), false);
    if (rnd_below(2))
        add_tlv(c, PP_TLV_UNIQUE_ID, rnd_below(PP_UNIQUE_ID_MAX + 1), true);
    if (rnd_below(4) == 0)
        add_tlv(c, PP_TLV_NETNS, rnd_below(16), false);
    if (rnd_below(4) == 0) {
        add_tlv(c, PP_TLV_AWS, 1 + rnd_below(30), false);
        c->values[c->spec.ntlvs - 1][0] = 0x01; /* VPC endpoint id */
    }
    if (rnd_below(4) == 0) {
        add_tlv(c, PP_TLV_AZURE, 5, true);
        c->values[c->spec.ntlvs - 1][0] = 0x01; /* LINKID */
    }
    if (rnd_below(4) == 0)
        add_tlv(c, PP_TLV_GCP, 8, true);
    if (rnd_below(4) == 0)
        add_tlv(c, (uint8_t)(0x06 + rnd_below(0x1a)), rnd_below(30), true); /* unassigned, ignored */
    if (rnd_below(3) == 0)
        random_ssl(c);
    if (rnd_below(3) == 0) /* NOOP padding up to a few KB (value NULL: zero bytes) */
        c->tlvs[c->spec.ntlvs++] = PP_BUILD_TLV(PP_TLV_NOOP, NULL, rnd_below(NOOP_MAX));
    if (rnd_below(3) == 0) {
        pp_build_tlv crc = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
        crc.crc_auto = true;
        c->tlvs[c->spec.ntlvs++] = crc;
        c->has_crc = true;
    }
    shuffle_tlvs(c->tlvs, c->spec.ntlvs);
    s->tlvs = c->tlvs;
}

/* ---- checks ---------------------------------------------------------------------------- */

static void assert_bytes(pp_bytes got, const uint8_t *want, size_t len)
{
    assert_int_equal(got.len, len);
    if (len)
        assert_memory_equal(got.ptr, want, len);
}

static void check_v1(const case_data *c, const uint8_t *buf, size_t n, const pp_header *h)
{
    const pp_build_spec *s = &c->spec;
    assert_int_equal(h->version, 1);
    assert_int_equal(h->command, PP_CMD_PROXY);
    assert_int_equal(h->header_len, n);
    assert_ptr_equal(h->raw, buf);
    if (s->family == PP_FAM_UNSPEC) {
        assert_true(h->v1_unknown);
        assert_false(h->use_carried);
        assert_int_equal(h->family, PP_FAM_UNSPEC);
        assert_int_equal(h->transport, PP_TRANS_UNSPEC);
        const char *tail = s->v1_unknown_tail ? s->v1_unknown_tail : "";
        assert_bytes(h->v1_unknown_tail, (const uint8_t *)tail, strlen(tail));
        return;
    }
    assert_false(h->v1_unknown);
    assert_true(h->use_carried);
    assert_int_equal(h->family, s->family);
    assert_int_equal(h->transport, PP_TRANS_STREAM);
    size_t iplen = s->family == PP_FAM_INET ? 4 : 16;
    assert_int_equal(h->src.family, s->family);
    assert_int_equal(h->dst.family, s->family);
    assert_memory_equal(h->src.ip, s->src.ip, iplen);
    assert_memory_equal(h->dst.ip, s->dst.ip, iplen);
    assert_int_equal(h->src.port, s->src.port);
    assert_int_equal(h->dst.port, s->dst.port);
}

static const pp_build_tlv *find_built(const case_data *c, uint8_t type)
{
    for (size_t i = 0; i < c->spec.ntlvs; i++)
        if (c->tlvs[i].type == type)
            return &c->tlvs[i];
    return NULL;
}

static void check_getter(const case_data *c, uint8_t type, bool (*get)(const pp_header *, pp_bytes *),
                         const pp_header *h)
{
    const pp_build_tlv *t = find_built(c, type);
    pp_bytes v = {0};
    assert_int_equal(get(h, &v), t != NULL);
    if (t)
        assert_bytes(v, t->value, t->len);
}

static void check_ssl(const case_data *c, const pp_header *h)
{
    pp_ssl_info si;
    bool present = find_built(c, PP_TLV_SSL) != NULL;
    assert_int_equal(pp_get_ssl(h, &si), present);
    if (!present)
        return;
    assert_int_equal(si.client, c->ssl.client);
    assert_int_equal(si.verify, c->ssl.verify);
    static const struct { uint8_t type; size_t off; } fields[] = {
        {PP_SSL_VERSION, offsetof(pp_ssl_info, version)},   {PP_SSL_CN, offsetof(pp_ssl_info, cn)},
        {PP_SSL_CIPHER, offsetof(pp_ssl_info, cipher)},     {PP_SSL_SIG_ALG, offsetof(pp_ssl_info, sig_alg)},
        {PP_SSL_KEY_ALG, offsetof(pp_ssl_info, key_alg)},   {PP_SSL_GROUP, offsetof(pp_ssl_info, group)},
        {PP_SSL_SIG_SCHEME, offsetof(pp_ssl_info, sig_scheme)},
        {PP_SSL_CLIENT_CERT, offsetof(pp_ssl_info, client_cert)},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        const pp_bytes *got = (const pp_bytes *)((const char *)&si + fields[f].off);
        const pp_build_tlv *want = NULL;
        for (size_t i = 0; i < c->ssl.nsubs; i++)
            if (c->subs[i].type == fields[f].type)
                want = &c->subs[i];
        if (want) {
            assert_non_null(got->ptr);
            assert_bytes(*got, want->value, want->len);
        } else {
            assert_int_equal(got->len, 0);
        }
    }
    /* sub-TLVs come back in wire order */
    pp_tlv_iter it;
    pp_tlv sub;
    size_t k = 0;
    pp_ssl_iter_init(&it, si.subtlvs);
    while (pp_tlv_next(&it, &sub)) {
        assert_true(k < c->ssl.nsubs);
        assert_int_equal(sub.type, c->subs[k].type);
        assert_int_equal(sub.len, c->subs[k].len);
        if (sub.len)
            assert_memory_equal(sub.value, c->subs[k].value, sub.len);
        k++;
    }
    assert_int_equal(k, c->ssl.nsubs);
    assert_int_equal(pp_ssl_cert_verified(&si),
                     (c->ssl.client & PP_CLIENT_SSL) && (c->ssl.client & (PP_CLIENT_CERT_CONN | PP_CLIENT_CERT_SESS)) &&
                         c->ssl.verify == 0);
}

static void check_v2(const case_data *c, const uint8_t *buf, size_t n, const pp_header *h)
{
    const pp_build_spec *s = &c->spec;
    assert_int_equal(h->version, 2);
    assert_int_equal(h->command, s->command);
    assert_int_equal(h->family, s->family);
    assert_int_equal(h->transport, s->transport);
    assert_int_equal(h->ver_cmd, 0x20 | s->command);
    assert_int_equal(h->fam_byte, (s->family << 4) | s->transport);
    assert_int_equal(h->header_len, n);
    assert_ptr_equal(h->raw, buf);
    bool carried = s->command == PP_CMD_PROXY && s->family != PP_FAM_UNSPEC;
    assert_int_equal(h->use_carried, carried);
    if (carried) {
        assert_int_equal(h->src.family, s->family);
        assert_int_equal(h->dst.family, s->family);
        if (s->family == PP_FAM_UNIX) {
            assert_ptr_equal(h->src.unix_path, buf + 16);
            assert_ptr_equal(h->dst.unix_path, buf + 16 + PP_UNIX_PATH_LEN);
            assert_memory_equal(h->src.unix_path, c->unix_src, PP_UNIX_PATH_LEN);
            assert_memory_equal(h->dst.unix_path, c->unix_dst, PP_UNIX_PATH_LEN);
        } else {
            size_t iplen = s->family == PP_FAM_INET ? 4 : 16;
            assert_memory_equal(h->src.ip, s->src.ip, iplen);
            assert_memory_equal(h->dst.ip, s->dst.ip, iplen);
            assert_int_equal(h->src.port, s->src.port);
            assert_int_equal(h->dst.port, s->dst.port);
        }
    }

    /* top-level TLVs in wire order, values intact */
    static const size_t block[] = {0, 12, 36, 216};
    assert_ptr_equal(h->tlvs.ptr, buf + 16 + block[s->family]);
    assert_int_equal(h->tlvs.len, n - 16 - block[s->family]);
    assert_int_equal(h->tlv_count, s->ntlvs);
    assert_false(h->has_duplicate);
    pp_tlv_iter it;
    pp_tlv t;
    size_t k = 0;
    pp_tlv_iter_init(&it, h);
    while (pp_tlv_next(&it, &t)) {
        assert_true(k < s->ntlvs);
        const pp_build_tlv *want = &c->tlvs[k];
        assert_int_equal(t.type, want->type);
        if (want->type == PP_TLV_SSL && want->value == NULL) {
            size_t len = 5; /* client + verify, then each sub-TLV (field by field in check_ssl) */
            for (size_t j = 0; j < c->ssl.nsubs; j++)
                len += 3 + c->subs[j].len;
            assert_int_equal(t.len, len);
        } else if (want->crc_auto) {
            assert_int_equal(t.len, 4);
        } else {
            assert_int_equal(t.len, want->len);
            if (want->value && t.len)
                assert_memory_equal(t.value, want->value, t.len);
        }
        k++;
    }
    assert_int_equal(k, s->ntlvs);

    check_getter(c, PP_TLV_ALPN, pp_get_alpn, h);
    check_getter(c, PP_TLV_AUTHORITY, pp_get_authority, h);
    check_getter(c, PP_TLV_UNIQUE_ID, pp_get_unique_id, h);
    check_getter(c, PP_TLV_NETNS, pp_get_netns, h);
    pp_bytes v;
    const pp_build_tlv *noop = find_built(c, PP_TLV_NOOP);
    assert_int_equal(pp_get_noop(h, &v), noop != NULL);
    if (noop)
        assert_int_equal(v.len, noop->len);
    const pp_build_tlv *aws = find_built(c, PP_TLV_AWS);
    assert_int_equal(pp_get_aws_vpce_id(h, &v), aws != NULL);
    if (aws)
        assert_bytes(v, aws->value + 1, aws->len - 1);
    const pp_build_tlv *az = find_built(c, PP_TLV_AZURE);
    uint32_t linkid;
    assert_int_equal(pp_get_azure_linkid(h, &linkid), az != NULL);
    if (az)
        assert_int_equal(linkid, (uint32_t)az->value[1] | (uint32_t)az->value[2] << 8 |
                                     (uint32_t)az->value[3] << 16 | (uint32_t)az->value[4] << 24);
    const pp_build_tlv *gcp = find_built(c, PP_TLV_GCP);
    uint64_t psc;
    assert_int_equal(pp_get_gcp_psc_id(h, &psc), gcp != NULL);
    if (gcp) {
        uint64_t want = 0;
        for (int i = 0; i < 8; i++)
            want = want << 8 | gcp->value[i];
        assert_true(psc == want);
    }
    uint32_t crc;
    assert_int_equal(pp_get_crc32c(h, &crc), c->has_crc);
    assert_int_equal(h->crc_present, c->has_crc);
    if (c->has_crc) {
        assert_true(h->crc_ok); /* EC-C-11: what the builder computes verifies */
        size_t at = h->idx.crc32c + 3;
        assert_int_equal(crc, pp_crc32c_header(buf, n, at));
    }
    check_ssl(c, h);
}

/* R-V2-02, R-V2-26, R-CRC-02..04, R-UID-01 and friends: 10,000+ random headers round trip. */
static void test_EC_V2_28_EC_C_11_randomized_build_parse_round_trip(void **state)
{
    (void)state;
    static case_data c;
    static uint8_t buf[PP_V2_MAX_LEN];
    unsigned counts[3] = {0};
    for (int i = 0; i < ITERATIONS; i++) {
        memset(&c, 0, sizeof c);
        pp_build_spec_init(&c.spec);
        if (rnd_below(4) == 0)
            random_v1(&c);
        else
            random_v2(&c);
        ssize_t n = pp_build(&c.spec, buf, sizeof buf);
        assert_true(n > 0);

        pp_header h;
        memset(&h, 0, sizeof h);
        ssize_t r = pp_parse(buf, (size_t)n, NULL, &h);
        if (r != n)
            fail_msg("iteration %d: parse returned %zd (%s) for a %zd-byte v%d header", i, r,
                     pp_error_name((int)r), n, c.spec.version);
        if (c.spec.version == 1)
            check_v1(&c, buf, (size_t)n, &h);
        else
            check_v2(&c, buf, (size_t)n, &h);
        counts[c.spec.version]++;

        /* R-V2-34 / R-V1-22: every strict prefix is still "need more", never an error */
        size_t cut = (size_t)rnd_below((uint32_t)n);
        assert_int_equal(pp_parse(buf, cut, NULL, &h), PP_NEED_MORE);
    }
    assert_true(counts[1] > 1000 && counts[2] > 5000);
}

/* ---- every malformation is refused with its name --------------------------------------- */

typedef struct bad_case {
    const char *what;
    const char *error;  /* expected pp_error_name() */
    void (*tweak)(pp_build_spec *s, pp_options *o);
    size_t extra;       /* payload bytes appended after the header (0x10 = MQTT CONNECT) */
} bad_case;

static uint8_t sig_bad[PP_V2_SIG_LEN];
static pp_build_tlv one_tlv[3];
static pp_build_tlv ssl_subs[2];
static pp_build_ssl ssl_info;
static uint8_t scratch[200];

static void use_tlvs(pp_build_spec *s, size_t n)
{
    s->tlvs = one_tlv;
    s->ntlvs = n;
}

static void t_sig(pp_build_spec *s, pp_options *o)
{
    (void)o;
    memcpy(sig_bad, PP_V2_SIGNATURE, sizeof sig_bad);
    sig_bad[4] = 0x20; /* EC-V2-18 */
    s->sig_override = sig_bad;
}
static void t_sig_last(pp_build_spec *s, pp_options *o)
{
    (void)o;
    memcpy(sig_bad, PP_V2_SIGNATURE, sizeof sig_bad);
    sig_bad[11] = 0x0B;
    s->sig_override = sig_bad;
}
static void t_version(pp_build_spec *s, pp_options *o) { (void)o; s->ver_cmd_override = 0x11; }
static void t_version0(pp_build_spec *s, pp_options *o) { (void)o; s->ver_cmd_override = 0x01; }
static void t_command(pp_build_spec *s, pp_options *o) { (void)o; s->ver_cmd_override = 0x22; }
static void t_command_f(pp_build_spec *s, pp_options *o) { (void)o; s->ver_cmd_override = 0x2F; }
static void t_family(pp_build_spec *s, pp_options *o) { (void)o; s->fam_override = 0x41; }
static void t_family_f(pp_build_spec *s, pp_options *o) { (void)o; s->fam_override = 0xF1; }
static void t_transport(pp_build_spec *s, pp_options *o) { (void)o; s->fam_override = 0x13; }
static void t_len_small(pp_build_spec *s, pp_options *o) { (void)o; s->len_override = 11; }
static void t_len_small6(pp_build_spec *s, pp_options *o)
{
    (void)o;
    s->family = PP_FAM_INET6;
    s->len_override = 35;
}
static void t_len_plus_one(pp_build_spec *s, pp_options *o) { (void)o; s->len_delta = 1; }
static void t_tlv_overrun(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"12345", 5);
    one_tlv[0].len_override = 10;
    use_tlvs(s, 1);
}
static void t_tlv_fragment(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"12345", 5);
    one_tlv[0].len_override = 4;
    use_tlvs(s, 1);
}
static void t_tlv_dup(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"a", 1);
    one_tlv[1] = PP_BUILD_TLV(PP_TLV_AUTHORITY, (const uint8_t *)"b", 1);
    use_tlvs(s, 2);
}
static void t_uid_long(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_UNIQUE_ID, scratch, PP_UNIQUE_ID_MAX + 1);
    use_tlvs(s, 1);
}
static void t_ssl_short(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_SSL, scratch, 4);
    use_tlvs(s, 1);
}
static void ssl_with_subs(pp_build_spec *s, size_t nsubs)
{
    ssl_info = (pp_build_ssl){.client = 1, .verify = 0, .subs = ssl_subs, .nsubs = nsubs};
    s->ssl = &ssl_info;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_SSL, NULL, 0);
    use_tlvs(s, 1);
}
static void t_ssl_sub_overrun(pp_build_spec *s, pp_options *o)
{
    (void)o;
    ssl_subs[0] = PP_BUILD_TLV(PP_SSL_VERSION, (const uint8_t *)"TLSv1.3", 7);
    ssl_subs[0].len_override = 8; /* EC-SSL-08: past the SSL value, inside the header */
    ssl_with_subs(s, 1);
    one_tlv[1] = PP_BUILD_TLV(PP_TLV_NOOP, NULL, 4);
    use_tlvs(s, 2);
}
static void t_ssl_sub_fragment(pp_build_spec *s, pp_options *o)
{
    (void)o;
    ssl_subs[0] = PP_BUILD_TLV(PP_SSL_VERSION, (const uint8_t *)"TLSv1.3", 7);
    ssl_subs[0].len_override = 5; /* leaves 2 stray bytes in the SSL value (EC-SSL-09) */
    ssl_with_subs(s, 1);
}
static void t_ssl_sub_dup(pp_build_spec *s, pp_options *o)
{
    (void)o;
    ssl_subs[0] = PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)"alice", 5);
    ssl_subs[1] = PP_BUILD_TLV(PP_SSL_CN, (const uint8_t *)"mallory", 7);
    ssl_with_subs(s, 2);
}
static void crc_tlv(pp_build_spec *s)
{
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_CRC32C, NULL, 4);
    one_tlv[0].crc_auto = true;
    use_tlvs(s, 1);
}
static void t_crc_len(pp_build_spec *s, pp_options *o)
{
    (void)o;
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_CRC32C, scratch, 5); /* EC-C-07 */
    use_tlvs(s, 1);
}
static void t_crc_corrupt(pp_build_spec *s, pp_options *o)
{
    (void)o;
    crc_tlv(s);
    s->crc_corrupt = true;
}
static void t_crc_swapped(pp_build_spec *s, pp_options *o)
{
    (void)o;
    crc_tlv(s);
    s->crc_little_endian = true;
}
static void t_crc_missing(pp_build_spec *s, pp_options *o)
{
    (void)s;
    o->require_crc32c = true;
}
static void t_unspec_proxy(pp_build_spec *s, pp_options *o)
{
    s->family = PP_FAM_UNSPEC;
    s->transport = PP_TRANS_UNSPEC;
    o->reject_unspec_proxy = true;
}
static void t_dgram(pp_build_spec *s, pp_options *o)
{
    s->transport = PP_TRANS_DGRAM;
    o->reject_dgram = true;
}
static void t_local_bad_family(pp_build_spec *s, pp_options *o)
{
    s->command = PP_CMD_LOCAL;
    s->fam_override = 0x41;
    o->reject_local_bad_family = true;
}
static void t_v2_only(pp_build_spec *s, pp_options *o)
{
    s->version = 1;
    o->versions = PP_ALLOW_V2;
}
static void t_v1_only(pp_build_spec *s, pp_options *o)
{
    (void)s;
    o->versions = PP_ALLOW_V1;
}
static void t_too_large(pp_build_spec *s, pp_options *o)
{
    one_tlv[0] = PP_BUILD_TLV(PP_TLV_NOOP, NULL, 100);
    use_tlvs(s, 1);
    o->max_header = 64;
}
static void t_v1(pp_build_spec *s, const char *text)
{
    s->version = 1;
    s->v1_text = text;
}
static void t_v1_zero(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 010.0.0.1 1.2.3.4 80 443\r\n"); }
static void t_v1_port_zero(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 080 443\r\n"); }
static void t_v1_lf(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 80 443\n"); }
static void t_v1_cr(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 80 443\rGET"); }
static void t_v1_sep(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4  1.2.3.4 1.2.3.4 80 443\r\n"); }
static void t_v1_proto(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP5 1.2.3.4 1.2.3.4 80 443\r\n"); }
static void t_v1_addr(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 256.0.0.1 1.2.3.4 80 443\r\n"); }
static void t_v1_port(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 65536 443\r\n"); }
static void t_v1_mismatch(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 ::1 ::1 80 443\r\n"); }
static void t_v1_fields(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 80\r\n"); }
static void t_v1_char(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY TCP4 1.2.3.4 1.2.3.4 80 4\x80" "3\r\n"); }
static void t_v1_suffix(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "PROXY UNKNOWNxyz\r\n"); }
static void t_v1_long(pp_build_spec *s, pp_options *o)
{
    (void)o;
    t_v1(s, "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n");
}
static void t_v1_mapped(pp_build_spec *s, pp_options *o)
{
    t_v1(s, "PROXY TCP6 ::ffff:192.0.2.1 ::1 80 443\r\n");
    o->v1_reject_mapped_ipv4 = true;
}
static void t_mqtt(pp_build_spec *s, pp_options *o) { (void)o; t_v1(s, "\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c"); }

static const bad_case bad_cases[] = {
    {"EC-V2-18 signature NUL replaced", "v2.bad_signature", t_sig, 0},
    {"EC-V2-18 signature last byte", "v2.bad_signature", t_sig_last, 0},
    {"EC-V2-13 version nibble 1", "v2.bad_version", t_version, 0},
    {"EC-V2-13 version nibble 0", "v2.bad_version", t_version0, 0},
    {"EC-V2-14 command 2", "v2.bad_command", t_command, 0},
    {"EC-V2-14 command F", "v2.bad_command", t_command_f, 0},
    {"EC-V2-15 family 4", "v2.bad_family", t_family, 0},
    {"EC-V2-15 family F", "v2.bad_family", t_family_f, 0},
    {"EC-V2-16 transport 3", "v2.bad_transport", t_transport, 0},
    {"EC-V2-20 INET len 11", "v2.length_too_small", t_len_small, 0},
    {"EC-V2-20 INET6 len 35", "v2.length_too_small", t_len_small6, 0},
    {"EC-F-14 len one too high, CONNECT follows", "tlv.fragment", t_len_plus_one, 14},
    {"EC-T-02 TLV overrun", "tlv.overrun", t_tlv_overrun, 0},
    {"EC-T-03 TLV stray byte", "tlv.fragment", t_tlv_fragment, 0},
    {"EC-T-10 duplicate AUTHORITY", "tlv.duplicate", t_tlv_dup, 0},
    {"EC-T-15 UNIQUE_ID 129 bytes", "tlv.unique_id_too_long", t_uid_long, 0},
    {"EC-SSL-07 SSL value of 4 bytes", "ssl.too_short", t_ssl_short, 0},
    {"EC-SSL-08 sub-TLV overrun", "ssl.sub_overrun", t_ssl_sub_overrun, 0},
    {"EC-SSL-09 sub-TLV fragment", "ssl.sub_fragment", t_ssl_sub_fragment, 0},
    {"A-15 duplicate CN", "ssl.sub_duplicate", t_ssl_sub_dup, 0},
    {"EC-C-07 CRC length 5", "crc32c.bad_length", t_crc_len, 0},
    {"EC-C-04 CRC bit flipped", "crc32c.mismatch", t_crc_corrupt, 0},
    {"EC-C-06 CRC byte-swapped", "crc32c.mismatch", t_crc_swapped, 0},
    {"CRC required, absent", "crc32c.missing", t_crc_missing, 0},
    {"EC-V2-12 PROXY UNSPEC by policy", "v2.unspec_rejected", t_unspec_proxy, 0},
    {"A-18 UDP4 on a stream listener by policy", "v2.dgram_rejected", t_dgram, 0},
    {"EC-V2-11 LOCAL with family 4 by policy", "v2.bad_family", t_local_bad_family, 0},
    {"EC-S-07 v1 on a v2-only listener", "detect.version_not_allowed", t_v2_only, 0},
    {"EC-S-07 v2 on a v1-only listener", "detect.version_not_allowed", t_v1_only, 0},
    {"A-02 over max_header", "header.too_large", t_too_large, 0},
    {"EC-V1-18 leading zero octet", "v1.leading_zero", t_v1_zero, 0},
    {"EC-V1-23 leading zero port", "v1.leading_zero", t_v1_port_zero, 0},
    {"EC-V1-10 bare LF", "v1.bad_terminator", t_v1_lf, 0},
    {"EC-V1-11 bare CR", "v1.bad_terminator", t_v1_cr, 0},
    {"EC-V1-13 two spaces", "v1.bad_separator", t_v1_sep, 0},
    {"EC-V1-15 TCP5", "v1.bad_protocol", t_v1_proto, 0},
    {"EC-V1-20 octet 256", "v1.bad_address", t_v1_addr, 0},
    {"EC-V1-22 port 65536", "v1.bad_port", t_v1_port, 0},
    {"EC-V1-17 TCP4 with IPv6", "v1.family_mismatch", t_v1_mismatch, 0},
    {"EC-V1-25 missing port", "v1.field_count", t_v1_fields, 0},
    {"EC-V1-31 byte >= 0x80", "v1.bad_char", t_v1_char, 0},
    {"EC-V1-33 UNKNOWNxyz", "v1.unknown_suffix", t_v1_suffix, 0},
    {"EC-V1-07 108-byte line", "v1.too_long", t_v1_long, 0},
    {"EC-V1-29 mapped IPv4 by policy", "v1.bad_address", t_v1_mapped, 0},
    {"EC-S-01 MQTT CONNECT, no header", "detect.not_proxy", t_mqtt, 0},
};

static void test_every_malformation_refused_with_its_name(void **state)
{
    (void)state;
    static const uint8_t connect[14] = {0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0, 0};
    unsigned failures = 0;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *bc = &bad_cases[i];
        pp_build_spec s;
        pp_options o;
        pp_build_spec_init(&s);
        memset(&o, 0, sizeof o);
        s.src.ip[0] = 192;
        s.dst.ip[0] = 10;
        bc->tweak(&s, &o);
        uint8_t buf[512];
        ssize_t n = pp_build(&s, buf, sizeof buf - sizeof connect);
        assert_true(n > 0);
        memcpy(buf + n, connect, bc->extra);
        pp_header h;
        ssize_t r = pp_parse(buf, (size_t)n + bc->extra, &o, &h);
        const char *name = r < 0 ? pp_error_name((int)r) : (r == 0 ? "need-more" : "accepted");
        if (strcmp(name, bc->error) != 0) {
            fprintf(stderr, "  %s: expected %s, got %s (%zd)\n", bc->what, bc->error, name, r);
            failures++;
        }
        /* the name maps back to the same code (stable names for logs and scenarios) */
        if (r < 0)
            assert_int_equal(pp_error_from_name(name), r);
    }
    assert_int_equal(failures, 0);
}

/* The well-formed neighbours of the malformations above are accepted, so the refusals are
 * caused by the override and not by the base header. */
static void test_unmodified_bases_are_accepted(void **state)
{
    (void)state;
    pp_build_spec s;
    pp_build_spec_init(&s);
    uint8_t buf[128];
    pp_header h;
    ssize_t n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    s.family = PP_FAM_INET6;
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    pp_build_spec_init(&s);
    crc_tlv(&s);
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    assert_true(h.crc_present && h.crc_ok);
    pp_options o = {.require_crc32c = true};
    assert_int_equal(pp_parse(buf, (size_t)n, &o, &h), n);
    pp_build_spec_init(&s);
    s.command = PP_CMD_LOCAL;
    s.fam_override = 0x41; /* R-V2-07: LOCAL ignores the family byte by default */
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    assert_false(h.use_carried);
    pp_build_spec_init(&s);
    s.transport = PP_TRANS_DGRAM; /* used by default */
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    pp_build_spec_init(&s);
    t_v1(&s, "PROXY TCP4 10.0.0.1 1.2.3.4 80 443\r\n");
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    t_v1(&s, "PROXY TCP6 ::ffff:192.0.2.1 ::1 80 443\r\n"); /* default accepts mapped */
    n = pp_build(&s, buf, sizeof buf);
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
}

/* Text -> pp_endpoint_parse -> pp_build (v1 and v2) -> pp_parse -> pp_endpoint_addr_str gives
 * the same text back for canonical (inet_ntop-style) addresses. */
static void test_endpoint_text_survives_build_and_parse(void **state)
{
    (void)state;
    static const struct { const char *text, *addr; uint16_t port; } cases[] = {
        {"192.0.2.1:0", "192.0.2.1", 0},
        {"255.255.255.255:65535", "255.255.255.255", 65535},
        {"[2001:db8::1]:443", "2001:db8::1", 443},
        {"[::ffff:192.0.2.1]:1883", "::ffff:192.0.2.1", 1883},
        {"::1", "::1", 0},
        {"unix:/run/mqtt.sock", "/run/mqtt.sock", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pp_endpoint ep;
        assert_int_equal(pp_endpoint_parse(cases[i].text, &ep), 0);
        for (int version = 1; version <= 2; version++) {
            if (version == 1 && ep.family == PP_FAM_UNIX)
                continue; /* v1 has no UNIX form (R-V1-05) */
            pp_build_spec s;
            pp_build_spec_init(&s);
            s.version = (uint8_t)version;
            s.family = ep.family;
            s.src = s.dst = ep;
            uint8_t buf[300];
            ssize_t n = pp_build(&s, buf, sizeof buf);
            assert_true(n > 0);
            pp_header h;
            assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
            assert_true(h.use_carried);
            char text[200];
            assert_string_equal(pp_endpoint_addr_str(&h.src, text, sizeof text), cases[i].addr);
            assert_int_equal(h.src.port, cases[i].port);
        }
    }
    /* pp_build_v1 with a mixed pair: TCP6 with the IPv4 side mapped, as HAProxy sends it */
    pp_endpoint v4, v6;
    assert_int_equal(pp_endpoint_parse("192.0.2.7:40000", &v4), 0);
    assert_int_equal(pp_endpoint_parse("[2001:db8::2]:8883", &v6), 0);
    uint8_t buf[128];
    ssize_t n = pp_build_v1(&v4, &v6, buf, sizeof buf);
    pp_header h;
    assert_int_equal(pp_parse(buf, (size_t)n, NULL, &h), n);
    assert_int_equal(h.family, PP_FAM_INET6);
    char text[64];
    assert_string_equal(pp_endpoint_addr_str(&h.src, text, sizeof text), "::ffff:192.0.2.7");
    assert_int_equal(h.src.port, 40000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_EC_V2_28_EC_C_11_randomized_build_parse_round_trip),
        cmocka_unit_test(test_every_malformation_refused_with_its_name),
        cmocka_unit_test(test_unmodified_bases_are_accepted),
        cmocka_unit_test(test_endpoint_text_survives_build_and_parse),
    };
    return cmocka_run_group_tests_name("proxy_roundtrip", tests, NULL, NULL);
}
