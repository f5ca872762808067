/* jwt.c - pure helpers for the e-ID id_token (docs/contracts-identity.md
 * "Applicant sign-in"): base64url, compact JWS parsing (RS256 only: "none",
 * HS* and anything else are refused), RSA public keys from JWK n/e and
 * RS256 verification with OpenSSL libcrypto, OIDC claim checks. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#define MAX_TOKEN (64u * 1024)

int wk_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    if (in == NULL)
        return -1;
    size_t cap = len / 4 * 3 + 3;
    unsigned char *b = malloc(cap + 1);
    if (b == NULL)
        return -1;
    const char *end = NULL;
    size_t n = 0;
    if (sodium_base642bin(b, cap, in, len, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0
        || end != in + len) {
        free(b);
        return -1;
    }
    b[n] = '\0';            /* handy for JSON parts */
    *out = b;
    *outlen = n;
    return 0;
}

static json_t *b64_json(const char *p, size_t len)
{
    unsigned char *raw;
    size_t n;
    if (wk_b64url_decode(p, len, &raw, &n) != 0)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, &je);
    free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void wk_jws_free(wk_jws *j)
{
    json_decref(j->header);
    json_decref(j->claims);
    free(j->sig);
    memset(j, 0, sizeof(*j));
}

int wk_jws_parse(const char *token, wk_jws *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    *why = NULL;
    if (token == NULL || strlen(token) > MAX_TOKEN) {
        *why = "token missing or too long";
        return -1;
    }
    const char *d1 = strchr(token, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL) {
        *why = "not a compact JWS";
        return -1;
    }
    out->header = b64_json(token, (size_t)(d1 - token));
    out->claims = b64_json(d1 + 1, (size_t)(d2 - d1 - 1));
    if (out->header == NULL || out->claims == NULL) {
        *why = "header or payload not base64url JSON";
        goto bad;
    }
    const char *alg = wk_json_str(out->header, "alg");
    if (alg == NULL || strcmp(alg, "RS256") != 0) {
        *why = "alg is not RS256";
        goto bad;
    }
    json_t *crit = json_object_get(out->header, "crit");
    if (crit != NULL) {
        *why = "unsupported crit header";
        goto bad;
    }
    out->kid = wk_json_str(out->header, "kid");
    if (wk_b64url_decode(d2 + 1, strlen(d2 + 1), &out->sig, &out->sig_len) != 0
        || out->sig_len == 0) {
        *why = "signature not base64url";
        goto bad;
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(d2 - token);
    return 0;
bad:
    wk_jws_free(out);
    return -1;
}

void *wk_rsa_from_jwk(const char *n, const char *e)
{
    unsigned char *nb = NULL, *eb = NULL;
    size_t nl = 0, el = 0;
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    if (wk_b64url_decode(n, n ? strlen(n) : 0, &nb, &nl) != 0
        || wk_b64url_decode(e, e ? strlen(e) : 0, &eb, &el) != 0
        || nl == 0 || el == 0 || el > 8)
        goto out;
    bn = BN_bin2bn(nb, (int)nl, NULL);
    be = BN_bin2bn(eb, (int)el, NULL);
    if (bn == NULL || be == NULL || BN_num_bits(bn) < 2048 || BN_num_bits(bn) > 8192
        || !BN_is_odd(be) || BN_is_one(be))
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn)
        || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be))
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(nb);
    free(eb);
    return pkey;
}

void wk_pkey_free(void *pkey)
{
    EVP_PKEY_free(pkey);
}

int wk_jws_verify(const wk_jws *j, void *pkey)
{
    if (j == NULL || pkey == NULL || j->sig == NULL)
        return 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL
             && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1
             && EVP_DigestVerify(md, j->sig, j->sig_len,
                                 (const unsigned char *)j->signing_input,
                                 j->signing_input_len) == 1;
    EVP_MD_CTX_free(md);
    return ok;
}

static int num_claim(json_t *c, const char *k, long long *v)
{
    json_t *x = json_object_get(c, k);
    if (json_is_integer(x)) {
        *v = json_integer_value(x);
        return 0;
    }
    if (json_is_real(x)) {
        *v = (long long)json_real_value(x);
        return 0;
    }
    return -1;
}

int wk_idtoken_check(json_t *claims, const char *iss, const char *aud, const char *nonce,
                     time_t now, long skew, const char **why)
{
    *why = NULL;
    const char *s = wk_json_str(claims, "iss");
    if (s == NULL || iss == NULL || strcmp(s, iss) != 0) {
        *why = "iss mismatch";
        return -1;
    }
    json_t *a = json_object_get(claims, "aud");
    int aud_ok = 0;
    if (json_is_string(a)) {
        aud_ok = aud && !strcmp(json_string_value(a), aud);
    } else if (json_is_array(a) && json_array_size(a) > 0) {
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
            if (json_is_string(x) && aud && !strcmp(json_string_value(x), aud))
                aud_ok = 1;
        if (aud_ok && json_array_size(a) > 1) {
            const char *azp = wk_json_str(claims, "azp");
            aud_ok = azp && !strcmp(azp, aud);
        }
    }
    if (!aud_ok) {
        *why = "aud mismatch";
        return -1;
    }
    long long exp, iat;
    if (num_claim(claims, "exp", &exp) != 0 || exp <= (long long)now - skew) {
        *why = "expired or no exp";
        return -1;
    }
    if (num_claim(claims, "iat", &iat) != 0 || iat > (long long)now + skew) {
        *why = "iat in the future or missing";
        return -1;
    }
    s = wk_json_str(claims, "nonce");
    if (s == NULL || nonce == NULL || strlen(s) != strlen(nonce)
        || sodium_memcmp(s, nonce, strlen(s)) != 0) {
        *why = "nonce mismatch";
        return -1;
    }
    s = wk_json_str(claims, "sub");
    if (s == NULL || *s == '\0' || strlen(s) > 255) {
        *why = "sub missing";
        return -1;
    }
    return 0;
}
