/* test_wk_pure.c - unit tests of the workers' pure helpers (no MariaDB, no
 * Redis): base64url, JWS RS256 parsing and verification, id_token claim
 * rules, RFC 4226/6238 vectors, base32, audit canonical form and hash, RPC
 * sealing, username rule.  Run by `make -C t/unit check`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include "wk.h"

static void test_b64url(void **state)
{
    (void)state;
    unsigned char *out;
    size_t n;
    assert_int_equal(wk_b64url_decode("aGVsbG8", 7, &out, &n), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(out, "hello", 5);
    free(out);
    assert_int_equal(wk_b64url_decode("_-8", 3, &out, &n), 0);   /* url alphabet */
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(out[1], 0xef);
    free(out);
    assert_int_equal(wk_b64url_decode("aGVsbG8=", 8, &out, &n), -1);  /* padding */
    assert_int_equal(wk_b64url_decode("aGV+bG8", 7, &out, &n), -1);   /* std alphabet */
    assert_int_equal(wk_b64url_decode("aGV sbG8", 8, &out, &n), -1);
    assert_int_equal(wk_b64url_decode(NULL, 0, &out, &n), -1);
    char r[44], r2[44];
    wk_random_b64url32(r);
    wk_random_b64url32(r2);
    assert_int_equal(strlen(r), 43);
    assert_string_not_equal(r, r2);
}

/* ---- JWS ------------------------------------------------------------- */

static EVP_PKEY *g_key;
static char g_n[600], g_e[16];

static void b64u(const unsigned char *in, size_t n, char *out, size_t outsz)
{
    sodium_bin2base64(out, outsz, in, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int setup_key(void **state)
{
    (void)state;
    g_key = EVP_RSA_gen(2048);
    if (g_key == NULL)
        return -1;
    BIGNUM *n = NULL, *e = NULL;
    EVP_PKEY_get_bn_param(g_key, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(g_key, OSSL_PKEY_PARAM_RSA_E, &e);
    unsigned char nb[512], eb[8];
    int nl = BN_bn2bin(n, nb), el = BN_bn2bin(e, eb);
    b64u(nb, (size_t)nl, g_n, sizeof(g_n));
    b64u(eb, (size_t)el, g_e, sizeof(g_e));
    BN_free(n);
    BN_free(e);
    return 0;
}

static int teardown_key(void **state)
{
    (void)state;
    EVP_PKEY_free(g_key);
    return 0;
}

/* header/claims JSON -> signed compact JWS (malloc'd) */
static char *make_jws(const char *header, const char *claims, EVP_PKEY *key)
{
    char h[1024], c[2048];
    b64u((const unsigned char *)header, strlen(header), h, sizeof(h));
    b64u((const unsigned char *)claims, strlen(claims), c, sizeof(c));
    size_t silen = strlen(h) + 1 + strlen(c);
    char *tok = malloc(silen + 1 + 400);
    snprintf(tok, silen + 1, "%s.%s", h, c);
    unsigned char sig[512];
    size_t sl = sizeof(sig);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &sl, (unsigned char *)tok, silen), 1);
    EVP_MD_CTX_free(md);
    tok[silen] = '.';
    b64u(sig, sl, tok + silen + 1, 400);
    return tok;
}

static const char HDR[] = "{\"alg\":\"RS256\",\"kid\":\"k1\"}";
static const char CLAIMS[] = "{\"iss\":\"http://idp\",\"sub\":\"cd-001\",\"aud\":\"tthc\",\"exp\":2000000000,"
                             "\"iat\":1700000000,\"nonce\":\"n1\",\"name\":\"Nguyễn Văn An\"}";

static void test_jws_verify(void **state)
{
    (void)state;
    void *pk = wk_rsa_from_jwk(g_n, g_e);
    assert_non_null(pk);
    char *tok = make_jws(HDR, CLAIMS, g_key);
    wk_jws j;
    const char *why;
    assert_int_equal(wk_jws_parse(tok, &j, &why), 0);
    assert_string_equal(j.kid, "k1");
    assert_string_equal(wk_json_str(j.claims, "name"), "Nguyễn Văn An");
    assert_true(wk_jws_verify(&j, pk));
    wk_jws_free(&j);

    /* a flipped byte of the payload: signature no longer matches */
    char *bad = strdup(tok);
    char *p = strchr(bad, '.') + 5;
    *p = *p == 'A' ? 'B' : 'A';
    if (wk_jws_parse(bad, &j, &why) == 0) {
        assert_false(wk_jws_verify(&j, pk));
        wk_jws_free(&j);
    }
    free(bad);

    /* signed by another key */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    char *tok2 = make_jws(HDR, CLAIMS, other);
    assert_int_equal(wk_jws_parse(tok2, &j, &why), 0);
    assert_false(wk_jws_verify(&j, pk));
    wk_jws_free(&j);
    EVP_PKEY_free(other);
    free(tok2);
    free(tok);
    wk_pkey_free(pk);
}

static void test_jws_refused(void **state)
{
    (void)state;
    wk_jws j;
    const char *why;
    char *t = make_jws("{\"alg\":\"none\"}", CLAIMS, g_key);
    assert_int_equal(wk_jws_parse(t, &j, &why), -1);
    assert_string_equal(why, "alg is not RS256");
    free(t);
    t = make_jws("{\"alg\":\"HS256\"}", CLAIMS, g_key);
    assert_int_equal(wk_jws_parse(t, &j, &why), -1);
    free(t);
    t = make_jws("{\"alg\":\"RS256\",\"crit\":[\"x\"]}", CLAIMS, g_key);
    assert_int_equal(wk_jws_parse(t, &j, &why), -1);
    free(t);
    assert_int_equal(wk_jws_parse("a.b", &j, &why), -1);
    assert_int_equal(wk_jws_parse("a.b.c.d", &j, &why), -1);
    assert_int_equal(wk_jws_parse("eyJhbGciOiJSUzI1NiJ9.e30.", &j, &why), -1);  /* empty sig */
    assert_int_equal(wk_jws_parse(NULL, &j, &why), -1);
    /* small or malformed keys */
    EVP_PKEY *small = EVP_RSA_gen(1024);
    BIGNUM *n = NULL;
    EVP_PKEY_get_bn_param(small, OSSL_PKEY_PARAM_RSA_N, &n);
    unsigned char nb[256];
    char sn[400];
    int nl = BN_bn2bin(n, nb);
    b64u(nb, (size_t)nl, sn, sizeof(sn));
    assert_null(wk_rsa_from_jwk(sn, g_e));
    BN_free(n);
    EVP_PKEY_free(small);
    assert_null(wk_rsa_from_jwk(g_n, "AAAA"));
    assert_null(wk_rsa_from_jwk("!!", g_e));
    assert_null(wk_rsa_from_jwk(NULL, g_e));
}

static void test_idtoken_claims(void **state)
{
    (void)state;
    const char *why;
    json_error_t je;
    json_t *c = json_loads(CLAIMS, 0, &je);
    time_t now = 1800000000;
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), 0);
    assert_int_equal(wk_idtoken_check(c, "http://idp2", "tthc", "n1", now, 60, &why), -1);
    assert_int_equal(wk_idtoken_check(c, "http://idp", "other", "n1", now, 60, &why), -1);
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n2", now, 60, &why), -1);
    assert_string_equal(why, "nonce mismatch");
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n", now, 60, &why), -1);
    /* exp: 59 s late still fine, 60 s late refused */
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", 2000000059, 60, &why), 0);
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", 2000000060, 60, &why), -1);
    /* iat: 60 s in the future fine, 61 s refused */
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", 1699999940, 60, &why), 0);
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", 1699999939, 60, &why), -1);
    /* aud as an array: with several audiences azp must be ours */
    json_object_set_new(c, "aud", json_pack("[s]", "tthc"));
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), 0);
    json_object_set_new(c, "aud", json_pack("[s, s]", "x", "tthc"));
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), -1);
    json_object_set_new(c, "azp", json_string("tthc"));
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), 0);
    json_object_set_new(c, "aud", json_pack("[s]", "x"));
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), -1);
    json_object_set_new(c, "aud", json_string("tthc"));
    json_object_del(c, "sub");
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), -1);
    json_object_set_new(c, "sub", json_string("cd-001"));
    json_object_del(c, "exp");
    assert_int_equal(wk_idtoken_check(c, "http://idp", "tthc", "n1", now, 60, &why), -1);
    json_decref(c);
}

/* ---- TOTP ------------------------------------------------------------- */

static void test_hotp_rfc4226(void **state)
{
    (void)state;
    static const long want[] = { 755224, 287082, 359152, 969429, 338314,
                                 254676, 287922, 162583, 399871, 520489 };
    const unsigned char *k = (const unsigned char *)"12345678901234567890";
    for (uint64_t i = 0; i < 10; i++)
        assert_int_equal(wk_hotp(k, 20, i, 6), want[i]);
    assert_int_equal(wk_hotp(k, 20, 0, 5), -1);
}

static void test_totp_rfc6238(void **state)
{
    (void)state;
    /* RFC 6238 Appendix B, SHA-1, 8 digits */
    static const struct { long long t; long v; } vec[] = {
        { 59, 94287082 }, { 1111111109, 7081804 }, { 1111111111, 14050471 },
        { 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000LL, 65353130 },
    };
    const unsigned char *k = (const unsigned char *)"12345678901234567890";
    for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++)
        assert_int_equal(wk_hotp(k, 20, (uint64_t)(vec[i].t / 30), 8), vec[i].v);

    /* the 6-digit check: +-1 step, replay refused, format */
    char b32[40];
    wk_base32_encode(k, 20, b32, sizeof(b32));
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    time_t now = 1111111111;           /* step 37037037 */
    long long step = -1;
    char code[8];
    snprintf(code, sizeof(code), "%06ld", 14050471L % 1000000);
    assert_true(wk_totp_check(b32, code, now, -1, &step));
    assert_int_equal(step, 37037037);
    assert_false(wk_totp_check(b32, code, now, 37037037, &step));     /* replay */
    assert_true(wk_totp_check(b32, code, now + 30, -1, &step));       /* one step late */
    assert_true(wk_totp_check(b32, code, now - 30, -1, &step));       /* one step early */
    assert_false(wk_totp_check(b32, code, now + 60, -1, &step));      /* two steps */
    assert_false(wk_totp_check(b32, "12345", now, -1, &step));
    assert_false(wk_totp_check(b32, "12345a", now, -1, &step));
    assert_false(wk_totp_check(b32, NULL, now, -1, &step));
    assert_false(wk_totp_check("", code, now, -1, &step));
}

static void test_base32(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
        { "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" }, { "foobar", "MZXW6YTBOI" },
    };
    char out[32];
    unsigned char back[32];
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        wk_base32_encode((const unsigned char *)v[i].in, strlen(v[i].in), out, sizeof(out));
        assert_string_equal(out, v[i].out);
        int n = wk_base32_decode(v[i].out, back, sizeof(back));
        assert_int_equal(n, (int)strlen(v[i].in));
        assert_memory_equal(back, v[i].in, (size_t)n);
    }
    assert_int_equal(wk_base32_decode("mzxw6ytboi======", back, sizeof(back)), 6);
    assert_int_equal(wk_base32_decode("MZXW1", back, sizeof(back)), -1);
    assert_int_equal(wk_base32_decode("MZXW6YTBOI", back, 3), -1);
}

/* ---- audit ------------------------------------------------------------ */

static void test_audit_canon_hash(void **state)
{
    (void)state;
    json_error_t je;
    json_t *d = json_loads("{ \"b\" : 1, \"a\" : \"ư\" }", 0, &je);
    char *c = wk_audit_canon(d);
    assert_string_equal(c, "{\"a\":\"ư\",\"b\":1}");
    char h[65];
    wk_audit_hash("0000000000000000000000000000000000000000000000000000000000000000", "1",
                  "2026-11-28 05:34:56.123456", "staff", "7", "tp.motcua", "127.0.0.1", "signin",
                  "official:7", c, h);
    assert_string_equal(h, "aa065d1478985ebae305b35b432d8be6232a6d97234ef6f0eb190b44eaa12a12");
    free(c);
    json_decref(d);
    c = wk_audit_canon(NULL);
    assert_string_equal(c, "{}");
    wk_audit_hash("0000000000000000000000000000000000000000000000000000000000000000", "2",
                  "2026-11-28 05:34:56.000000", "system", "", NULL, NULL, "account.create", "", c,
                  h);
    assert_string_equal(h, "de05c4615c585f44547e9d12da1ecd846465e6712310a5f99c2cc4d8361585e9");
    free(c);
    /* nested objects are sorted too: canonical form is order-independent */
    json_t *x = json_loads("{\"z\":{\"b\":2,\"a\":[3,{\"d\":1,\"c\":0}]},\"y\":null}", 0, &je);
    c = wk_audit_canon(x);
    assert_string_equal(c, "{\"y\":null,\"z\":{\"a\":[3,{\"c\":0,\"d\":1}],\"b\":2}}");
    free(c);
    json_decref(x);
}

/* ---- RPC sealing, usernames ---------------------------------------------- */

static void test_seal(void **state)
{
    (void)state;
    unsigned char key[32], other[32];
    randombytes_buf(key, sizeof(key));
    randombytes_buf(other, sizeof(other));
    const char *msg = "{\"password\":\"mật khẩu\"}";
    char *s = wk_seal(key, msg, strlen(msg));
    assert_non_null(s);
    assert_null(strstr(s, "password"));
    size_t n = 0;
    char *p = wk_unseal(key, s, strlen(s), &n);
    assert_non_null(p);
    assert_int_equal(n, strlen(msg));
    assert_string_equal(p, msg);
    free(p);
    assert_null(wk_unseal(other, s, strlen(s), &n));
    s[30] = s[30] == 'A' ? 'B' : 'A';
    assert_null(wk_unseal(key, s, strlen(s), &n));
    assert_null(wk_unseal(key, "AAAA", 4, &n));
    assert_null(wk_unseal(key, "not base64!", 11, &n));
    free(s);
}

static void test_username(void **state)
{
    (void)state;
    assert_true(wk_username_valid("abc"));
    assert_true(wk_username_valid("tp.desk-1_a"));
    assert_false(wk_username_valid("ab"));
    assert_false(wk_username_valid("Abc"));
    assert_false(wk_username_valid("a bc"));
    assert_false(wk_username_valid("năm"));
    assert_false(wk_username_valid(NULL));
    char l[66];
    memset(l, 'a', 65);
    l[65] = '\0';
    assert_false(wk_username_valid(l));
    l[64] = '\0';
    assert_true(wk_username_valid(l));
    assert_int_equal(wk_roles_parse_csv("monitor,sysadmin"), WK_ROLE_MONITOR | WK_ROLE_SYSADMIN);
    json_t *r = wk_roles_to_json(WK_ROLE_AGENCY_ADMIN | 1u);
    assert_int_equal(wk_roles_from_json(r), WK_ROLE_AGENCY_ADMIN | 1u);
    json_decref(r);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url),
        cmocka_unit_test(test_jws_verify),
        cmocka_unit_test(test_jws_refused),
        cmocka_unit_test(test_idtoken_claims),
        cmocka_unit_test(test_hotp_rfc4226),
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_base32),
        cmocka_unit_test(test_audit_canon_hash),
        cmocka_unit_test(test_seal),
        cmocka_unit_test(test_username),
    };
    return cmocka_run_group_tests_name("wk_pure", tests, setup_key, teardown_key);
}
