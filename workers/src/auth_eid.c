/* auth_eid.c - RPC auth.eid.exchange (docs/contracts-identity.md "Applicant
 * sign-in"; DOMAIN A1): the authorization code (with its PKCE verifier) is
 * exchanged at eid_token_url, the id_token is verified (RS256 against the
 * provider's JWKS, cached by kid, fetched again once on an unknown kid) and
 * its claims checked; the applicant is upserted by sub, audited, and gets a
 * new session.  Codes, tokens and personal data are never logged. */
#include "wk.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SKEW_S   60
#define MAX_KEYS 16

static struct {
    char kid[128];
    void *pkey;
} jwks[MAX_KEYS];
static int njwks;

static void jwks_clear(void)
{
    for (int i = 0; i < njwks; i++)
        wk_pkey_free(jwks[i].pkey);
    njwks = 0;
}

/* 0 fetched (possibly no usable key), -1 provider unreachable / bad JWKS */
static int jwks_fetch(const wk_conf *conf)
{
    wk_http_resp resp;
    if (wk_http_request(conf->eid_jwks_url, NULL, &resp) != 0 || resp.status != 200) {
        wk_warn("eid", "jwks fetch failed status=%ld error=\"%s\"", resp.status, resp.error);
        wk_http_resp_free(&resp);
        return -1;
    }
    json_error_t je;
    json_t *root = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
    wk_http_resp_free(&resp);
    json_t *keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        wk_warn("eid", "jwks without keys array");
        json_decref(root);
        return -1;
    }
    jwks_clear();
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        const char *kty = wk_json_str(k, "kty"), *kid = wk_json_str(k, "kid"),
                   *use = wk_json_str(k, "use"), *alg = wk_json_str(k, "alg");
        if (njwks >= MAX_KEYS || !kty || strcmp(kty, "RSA") || (use && strcmp(use, "sig"))
            || (alg && strcmp(alg, "RS256")))
            continue;
        void *pk = wk_rsa_from_jwk(wk_json_str(k, "n"), wk_json_str(k, "e"));
        if (pk == NULL) {
            wk_warn("eid", "jwks key unusable (not RSA >= 2048 bits)");
            continue;
        }
        snprintf(jwks[njwks].kid, sizeof(jwks[njwks].kid), "%s", kid ? kid : "");
        jwks[njwks++].pkey = pk;
    }
    json_decref(root);
    wk_info("eid", "jwks fetched keys=%d", njwks);
    return 0;
}

static void *jwks_find(const char *kid)
{
    for (int i = 0; i < njwks; i++)
        if (!strcmp(jwks[i].kid, kid ? kid : ""))
            return jwks[i].pkey;
    /* no kid in the token: the only key, if there is exactly one */
    if (kid == NULL && njwks == 1)
        return jwks[0].pkey;
    return NULL;
}

static int ident_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0, digits = 0;
    if (n < 9 || n > 14)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i]))
            digits++;
        else if (s[i] != '-')
            return 0;
    }
    return digits == 10 || digits == 12 || digits == 13;
}

static const char *opt_claim(json_t *c, const char *k, size_t max)
{
    const char *s = wk_json_str(c, k);
    return s && *s && strlen(s) <= max ? s : NULL;
}

/* token endpoint: reply error code or NULL with *idtoken (malloc'd) */
static const char *exchange(wk_rpc *c, const char *code, const char *verifier, char **idtoken)
{
    const wk_conf *conf = c->conf;
    char *form = NULL;
    if (wk_form_add(&form, "grant_type", "authorization_code") || wk_form_add(&form, "code", code)
        || wk_form_add(&form, "redirect_uri", conf->eid_redirect_uri)
        || wk_form_add(&form, "code_verifier", verifier)
        || wk_form_add(&form, "client_id", conf->eid_client_id)
        || (conf->eid_client_secret[0] && wk_form_add(&form, "client_secret", conf->eid_client_secret))) {
        free(form);
        return "INTERNAL_ERROR";
    }
    wk_http_resp resp;
    int rc = wk_http_request(conf->eid_token_url, form, &resp);
    sodium_memzero(form, strlen(form));
    free(form);
    const char *err = NULL;
    json_error_t je;
    json_t *body = rc == 0 && resp.body ? json_loadb(resp.body, resp.len, 0, &je) : NULL;
    if (rc != 0 || resp.status >= 500 || resp.status == 0) {
        wk_warn("eid", "token endpoint unreachable reqid=%s status=%ld error=\"%s\"", c->reqid,
                resp.status, resp.error);
        err = "EID_UNAVAILABLE";
    } else if (resp.status != 200) {
        const char *e = wk_json_str(body, "error");
        /* invalid_grant: a replayed, expired or unknown code (or verifier) */
        int grant = e && !strcmp(e, "invalid_grant");
        wk_warn("eid", "token endpoint refused reqid=%s status=%ld error=%s", c->reqid, resp.status,
                grant ? "invalid_grant" : e && strlen(e) < 40 ? e : "-");
        err = grant ? "EID_CODE_INVALID" : "EID_UNAVAILABLE";
    } else {
        const char *t = wk_json_str(body, "id_token");
        if (t == NULL) {
            wk_warn("eid", "token response without id_token reqid=%s", c->reqid);
            err = "EID_TOKEN_INVALID";
        } else if ((*idtoken = strdup(t)) == NULL) {
            err = "INTERNAL_ERROR";
        }
    }
    json_decref(body);
    if (resp.body)
        sodium_memzero(resp.body, resp.len);
    wk_http_resp_free(&resp);
    return err;
}

/* verify signature and claims: NULL ok (claims kept in *jws) or error code */
static const char *verify(wk_rpc *c, const char *idtoken, const char *nonce, wk_jws *jws)
{
    const char *why = NULL;
    if (wk_jws_parse(idtoken, jws, &why) != 0) {
        wk_warn("eid", "id_token refused reqid=%s why=\"%s\"", c->reqid, why);
        return "EID_TOKEN_INVALID";
    }
    void *pk = jwks_find(jws->kid);
    if (pk == NULL) {
        if (jwks_fetch(c->conf) != 0)
            return "EID_UNAVAILABLE";
        pk = jwks_find(jws->kid);
    }
    if (pk == NULL || !wk_jws_verify(jws, pk)) {
        wk_warn("eid", "id_token refused reqid=%s why=\"%s\"", c->reqid,
                pk ? "bad signature" : "unknown kid");
        return "EID_TOKEN_INVALID";
    }
    if (wk_idtoken_check(jws->claims, c->conf->eid_issuer, c->conf->eid_client_id, nonce,
                         time(NULL), SKEW_S, &why) != 0) {
        wk_warn("eid", "id_token refused reqid=%s why=\"%s\"", c->reqid, why);
        return "EID_TOKEN_INVALID";
    }
    return NULL;
}

json_t *wk_rpc_eid_exchange(wk_rpc *c, json_t *req)
{
    const wk_conf *conf = c->conf;
    const char *code = wk_json_str(req, "code"), *verifier = wk_json_str(req, "verifier"),
               *nonce = wk_json_str(req, "nonce");
    if (!code || !*code || strlen(code) > 2048 || !verifier || strlen(verifier) < 43
        || strlen(verifier) > 128 || !nonce || !*nonce || strlen(nonce) > 256)
        return wk_rpc_error("INVALID_REQUEST", NULL);
    if (!conf->eid_issuer[0] || !conf->eid_token_url[0] || !conf->eid_jwks_url[0]
        || !conf->eid_redirect_uri[0]) {
        wk_error("eid", "e-ID sign-in not configured (eid_issuer, eid_token_url, eid_jwks_url,"
                        " eid_redirect_uri)");
        return wk_rpc_error("EID_UNAVAILABLE", NULL);
    }
    char *idtoken = NULL;
    const char *err = exchange(c, code, verifier, &idtoken);
    if (err)
        return wk_rpc_error(err, NULL);
    wk_jws jws;
    memset(&jws, 0, sizeof(jws));
    err = verify(c, idtoken, nonce, &jws);
    free(idtoken);
    if (err) {
        wk_jws_free(&jws);
        return wk_rpc_error(err, NULL);
    }
    json_t *cl = jws.claims;
    const char *sub = wk_json_str(cl, "sub"), *name = opt_claim(cl, "name", 255),
               *ident = wk_json_str(cl, "identity_number"),
               *atype = wk_json_str(cl, "applicant_type"),
               *email = opt_claim(cl, "email", 255), *phone = opt_claim(cl, "phone_number", 32);
    if (atype == NULL)
        atype = "citizen";
    if (!name || !ident_valid(ident) || (strcmp(atype, "citizen") && strcmp(atype, "organisation"))) {
        wk_warn("eid", "id_token refused reqid=%s why=\"identity claims missing or invalid\"", c->reqid);
        wk_jws_free(&jws);
        return wk_rpc_error("EID_TOKEN_INVALID", NULL);
    }
    /* upsert by sub; LAST_INSERT_ID(id) returns the existing row's id */
    unsigned long long aid = 0;
    wk_param p[] = { WK_STR(sub), WK_STR(ident), WK_STR(name), WK_STR(atype), WK_STR(email), WK_STR(phone) };
    json_t *reply = NULL;
    if (wk_db_simple(c->db, "START TRANSACTION") != 0
        || wk_db_exec(c->db,
                      "INSERT INTO applicants (eid_sub, identity_number, name, type, email, phone,"
                      " last_signin_at) VALUES (?,?,?,?,?,?, UTC_TIMESTAMP(6))"
                      " ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id),"
                      " identity_number = VALUES(identity_number), name = VALUES(name),"
                      " type = VALUES(type), email = VALUES(email), phone = VALUES(phone),"
                      " last_signin_at = VALUES(last_signin_at)",
                      p, 6, NULL, NULL, NULL, &aid) != 0) {
        reply = wk_rpc_db_error(c, "upsert applicant");
        goto out;
    }
    char eid[96], obj[48];
    snprintf(eid, sizeof(eid), "rpc:%s:signin", c->reqid);
    snprintf(obj, sizeof(obj), "applicant:%llu", aid);
    json_t *detail = json_pack("{s:s}", "method", "eid");
    wk_audit_ev ev = { eid, 0, "applicant", (long long)aid, name, c->ip, "signin", obj, detail };
    wk_rc arc = wk_audit_append_tx(c->db, &ev);
    json_decref(detail);
    if (arc != WK_OK || wk_db_simple(c->db, "COMMIT") != 0) {
        reply = wk_rpc_db_error(c, "audit signin");
        goto out;
    }
    char uid[24], sid[44], csrf[44];
    snprintf(uid, sizeof(uid), "%llu", aid);
    wk_kv kv[] = {
        { "uid", uid }, { "name", name }, { "ident", ident }, { "atype", atype },
        { "email", email ? email : "" }, { "phone", phone ? phone : "" }, { "ip", c->ip },
    };
    if (wk_session_create(c->r, conf, "applicant", kv, 7, sid, csrf) != WK_OK) {
        reply = wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
        goto out;
    }
    /* "my dossiers" is there from the first sign-in on (also after a Redis
     * data loss, for whoever signs in) */
    if (wk_applicant_listed(c->r, (long long)aid) != 1
        && wk_applicant_publish(c->db, c->r, (long long)aid) != WK_OK)
        wk_warn("eid", "applicant list not refreshed applicant=%llu", aid);
    wk_info("eid", "applicant signed in applicant=%llu", aid);
    reply = json_pack("{s:b, s:s, s:s}", "ok", 1, "sid", sid, "csrf", csrf);
    sodium_memzero(sid, sizeof(sid));
out:
    wk_jws_free(&jws);
    return reply;
}
