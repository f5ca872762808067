
/*
 * Signing in (issue 3; DOMAIN A1, H4; docs/contracts-identity.md):
 *
 *   GET  /api/v1/auth/eid/start       applicants: OpenID Connect
 *   GET  /api/v1/auth/eid/callback    authorization code flow with PKCE
 *   POST /api/v1/staff/signin         officials: password (+ TOTP)
 *
 * The edge keeps the browser side of the protocol (state, nonce, PKCE
 * verifier, cookies, redirects); the token exchange, the id_token checks
 * and the password hash run in the workers as request/reply jobs.  Every
 * successful sign-in gets a new session id (rotation); the previous
 * session of that browser is deleted.
 */


#include "ngx_tthc_module.h"

#include <sodium.h>


#define NGX_TTHC_OIDC_TTL      600
#define NGX_TTHC_BODY_MAX      16384


typedef struct {
    ngx_str_t                   state;
    ngx_str_t                   return_to;
    ngx_str_t                   location;
} ngx_tthc_eid_ctx_t;


static ngx_int_t ngx_tthc_redirect(ngx_http_request_t *r, ngx_str_t *to);


/*
 * shared: a small JSON request body, read as it arrives into one growing
 * buffer (sign-in, accounts, the workflow routes)
 */

static void ngx_tthc_json_body_post(ngx_http_request_t *r);
static void ngx_tthc_json_body_read(ngx_http_request_t *r);


ngx_int_t
ngx_tthc_read_json_body(ngx_http_request_t *r, size_t max,
    ngx_http_client_body_handler_pt handler)
{
    ngx_int_t              rc;
    ngx_tthc_json_body_t  *jb;

    if (r->headers_in.content_length_n > (off_t) max) {
        return ngx_tthc_send_error(r, "REQUEST_TOO_LARGE");
    }

    jb = ngx_pcalloc(r->pool, sizeof(ngx_tthc_json_body_t));
    if (jb == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    jb->max = max;
    jb->done = handler;
    jb->size = r->headers_in.content_length_n > 0
               ? (size_t) r->headers_in.content_length_n : ngx_min(1024, max);

    jb->buf = ngx_pnalloc(r->pool, jb->size);
    if (jb->buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_tthc_req(r)->json_body = jb;

    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_tthc_json_body_post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_tthc_json_body_consume(ngx_http_request_t *r, ngx_tthc_json_body_t *jb)
{
    size_t        n, size;
    u_char       *p;
    ngx_chain_t  *cl;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        n = cl->buf->last - cl->buf->pos;

        if (n == 0) {
            continue;
        }

        if (jb->len + n > jb->max) {
            jb->failed = 1;
            r->request_body->bufs = NULL;
            ngx_tthc_finalize(r, ngx_tthc_send_error(r, "REQUEST_TOO_LARGE"));
            return NGX_ERROR;
        }

        if (jb->len + n > jb->size) {
            size = ngx_min(ngx_max(jb->size * 2, jb->len + n), jb->max);

            p = ngx_pnalloc(r->pool, size);
            if (p == NULL) {
                jb->failed = 1;
                ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
                return NGX_ERROR;
            }

            ngx_memcpy(p, jb->buf, jb->len);
            jb->buf = p;
            jb->size = size;
        }

        ngx_memcpy(jb->buf + jb->len, cl->buf->pos, n);
        jb->len += n;
        cl->buf->pos = cl->buf->last;
    }

    r->request_body->bufs = NULL;

    return NGX_OK;
}


static void
ngx_tthc_json_body_end(ngx_http_request_t *r, ngx_tthc_json_body_t *jb)
{
    jb->ended = 1;
    r->read_event_handler = ngx_http_block_reading;

    /* the handler finalizes, on the count the body reader took */
    jb->done(r);
}


/* the post handler runs once; then nginx calls our read handler */

static void
ngx_tthc_json_body_post(ngx_http_request_t *r)
{
    ngx_tthc_json_body_t  *jb;

    jb = ngx_tthc_req(r)->json_body;

    if (ngx_tthc_json_body_consume(r, jb) != NGX_OK) {
        return;
    }

    if (!r->reading_body) {
        ngx_tthc_json_body_end(r, jb);
        return;
    }

    r->read_event_handler = ngx_tthc_json_body_read;

    ngx_tthc_json_body_read(r);
}


static void
ngx_tthc_json_body_read(ngx_http_request_t *r)
{
    ngx_int_t              rc;
    ngx_tthc_json_body_t  *jb;

    jb = ngx_tthc_req(r)->json_body;

    if (jb->failed || jb->ended) {
        return;
    }

    for ( ;; ) {
        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            jb->failed = 1;
            ngx_tthc_finalize(r, rc);
            return;
        }

        if (r->request_body->bufs == NULL) {
            if (rc == NGX_OK) {
                ngx_tthc_json_body_end(r, jb);
            }

            /* NGX_AGAIN: nginx calls us again when more arrives */
            return;
        }

        if (ngx_tthc_json_body_consume(r, jb) != NGX_OK) {
            return;
        }

        if (rc == NGX_OK) {
            ngx_tthc_json_body_end(r, jb);
            return;
        }
    }
}


/* the body read by ngx_tthc_read_json_body, parsed; NULL if empty or not JSON */

json_t *
ngx_tthc_body_json(ngx_http_request_t *r)
{
    ngx_tthc_json_body_t  *jb;

    jb = ngx_tthc_req(r)->json_body;

    if (jb == NULL || jb->len == 0) {
        return NULL;
    }

    return json_loadb((const char *) jb->buf, jb->len, JSON_REJECT_DUPLICATES,
                      NULL);
}


static ngx_int_t
ngx_tthc_redirect(ngx_http_request_t *r, ngx_str_t *to)
{
    ngx_table_elt_t  *h;

    static u_char  body[] = "{\"redirect\":true}";

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Location");
    h->value = *to;

    r->headers_out.location = h;

    return ngx_tthc_send_json(r, NGX_HTTP_MOVED_TEMPORARILY, body,
                              sizeof(body) - 1);
}


/* sets the new session cookie, and ends the browser's previous session */

static ngx_int_t
ngx_tthc_new_session(ngx_http_request_t *r, json_t *reply)
{
    ngx_str_t        sid;
    const char      *argv[2];
    size_t           argvlen[2];
    ngx_tthc_req_t  *req;

    sid.data = (u_char *) json_string_value(json_object_get(reply, "sid"));

    if (sid.data == NULL) {
        return NGX_ERROR;
    }

    sid.len = ngx_strlen(sid.data);

    req = ngx_tthc_req(r);

    if (req->session) {
        argv[0] = "DEL";
        argvlen[0] = 3;
        argv[1] = (const char *) req->session->key.data;
        argvlen[1] = req->session->key.len;

        (void) ngx_tthc_redis_fire(2, argv, argvlen);
    }

    return ngx_tthc_set_cookie(r, "tthc_sid", &sid, "/", -1);
}


/* GET /api/v1/auth/eid/start?return_to=/path */

static ngx_int_t
ngx_tthc_escape(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    size_t  n;

    n = ngx_escape_uri(NULL, in->data, in->len, NGX_ESCAPE_URI_COMPONENT);

    out->data = ngx_pnalloc(pool, in->len + 2 * n);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    out->len = (u_char *) ngx_escape_uri(out->data, in->data, in->len,
                                         NGX_ESCAPE_URI_COMPONENT)
               - out->data;

    return NGX_OK;
}


static void
ngx_tthc_eid_started(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_eid_ctx_t  *ctx = data;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (ngx_tthc_set_cookie(r, "tthc_oidc", &ctx->state, "/api/v1/auth/eid",
                            NGX_TTHC_OIDC_TTL)
        != NGX_OK)
    {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_tthc_finalize(r, ngx_tthc_redirect(r, &ctx->location));
}


static void
ngx_tthc_safe_return_to(ngx_http_request_t *r, ngx_str_t *rt)
{
    size_t  i;

    if (ngx_tthc_arg(r, "return_to", rt) != NGX_OK
        || rt->len == 0 || rt->len > 512 || rt->data[0] != '/'
        || (rt->len > 1 && (rt->data[1] == '/' || rt->data[1] == '\\')))
    {
        ngx_str_set(rt, "/");
        return;
    }

    for (i = 0; i < rt->len; i++) {
        if (rt->data[i] < 0x21 || rt->data[i] == 0x7f || rt->data[i] == '\\') {
            ngx_str_set(rt, "/");
            return;
        }
    }
}


ngx_int_t
ngx_tthc_eid_start_handler(ngx_http_request_t *r)
{
    u_char                 digest[crypto_hash_sha256_BYTES];
    u_char                *p, *key;
    char                  *value;
    json_t                *j;
    ngx_int_t              rc;
    ngx_str_t              nonce, verifier, challenge, sh, cid, ruri;
    const char            *argv[5];
    size_t                 argvlen[5], len;
    ngx_tthc_eid_ctx_t    *ctx;
    ngx_tthc_main_conf_t  *mcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (mcf->eid_authorize_url.len == 0) {
        return ngx_tthc_send_error(r, "EID_UNAVAILABLE");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_eid_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_tthc_safe_return_to(r, &ctx->return_to);

    if (ngx_tthc_random_b64(r->pool, 32, &ctx->state) != NGX_OK
        || ngx_tthc_random_b64(r->pool, 32, &nonce) != NGX_OK
        || ngx_tthc_random_b64(r->pool, 32, &verifier) != NGX_OK
        || ngx_tthc_sha256_hex(r->pool, &ctx->state, &sh) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* PKCE S256: base64url(SHA-256(verifier)) */

    crypto_hash_sha256(digest, verifier.data, verifier.len);

    len = sodium_base64_ENCODED_LEN(sizeof(digest),
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    challenge.data = ngx_pnalloc(r->pool, len);
    if (challenge.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    sodium_bin2base64((char *) challenge.data, len, digest, sizeof(digest),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    challenge.len = len - 1;

    if (ngx_tthc_escape(r->pool, &mcf->eid_client_id, &cid) != NGX_OK
        || ngx_tthc_escape(r->pool, &mcf->eid_redirect_uri, &ruri) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = mcf->eid_authorize_url.len + cid.len + ruri.len + ctx->state.len
          + nonce.len + challenge.len + 256;

    ctx->location.data = ngx_pnalloc(r->pool, len);
    if (ctx->location.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(ctx->location.data,
                    "%V%c"
                    "response_type=code&client_id=%V&redirect_uri=%V"
                    "&scope=openid%%20profile&state=%V&nonce=%V"
                    "&code_challenge=%V&code_challenge_method=S256",
                    &mcf->eid_authorize_url,
                    ngx_strlchr(mcf->eid_authorize_url.data,
                                mcf->eid_authorize_url.data
                                + mcf->eid_authorize_url.len, '?')
                    ? '&' : '?',
                    &cid, &ruri, &ctx->state, &nonce, &challenge);

    ctx->location.len = p - ctx->location.data;

    j = json_pack("{s:s%,s:s%,s:s%}",
                  "nonce", nonce.data, nonce.len,
                  "verifier", verifier.data, verifier.len,
                  "return_to", ctx->return_to.data, ctx->return_to.len);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (value == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ngx_pnalloc(r->pool, sh.len + sizeof("tthc:oidc:{}"));
    if (key == NULL) {
        free(value);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) key;
    argvlen[1] = ngx_sprintf(key, "tthc:oidc:{%V}", &sh) - key;
    argv[2] = value;
    argvlen[2] = ngx_strlen(value);
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = "600";
    argvlen[4] = 3;

    rc = ngx_tthc_redis_command(r, ngx_tthc_eid_started, ctx, 5, argv,
                                argvlen);
    free(value);

    if (rc != NGX_OK) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


/* GET /api/v1/auth/eid/callback?code=..&state=.. */

static ngx_int_t
ngx_tthc_eid_fail(ngx_http_request_t *r, const char *code)
{
    ngx_str_t  empty = ngx_null_string;

    (void) ngx_tthc_set_cookie(r, "tthc_oidc", &empty, "/api/v1/auth/eid", 0);

    return ngx_tthc_send_error(r, code);
}


static void
ngx_tthc_eid_exchanged(ngx_http_request_t *r, json_t *reply, void *data)
{
    ngx_tthc_eid_ctx_t  *ctx = data;

    ngx_str_t  empty = ngx_null_string;

    if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
        (void) ngx_tthc_set_cookie(r, "tthc_oidc", &empty, "/api/v1/auth/eid",
                                   0);
        ngx_tthc_finalize(r, ngx_tthc_send_rpc_error(r, reply));
        return;
    }

    if (ngx_tthc_new_session(r, reply) != NGX_OK
        || ngx_tthc_set_cookie(r, "tthc_oidc", &empty, "/api/v1/auth/eid", 0)
           != NGX_OK)
    {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_tthc_finalize(r, ngx_tthc_redirect(r, &ctx->return_to));
}


static void
ngx_tthc_eid_state_taken(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_eid_ctx_t  *ctx = data;

    json_t       *pending, *req;
    ngx_str_t     code, err, rt;
    const char   *s;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        /* expired, or used already */
        ngx_tthc_finalize(r, ngx_tthc_eid_fail(r, "EID_STATE_INVALID"));
        return;
    }

    pending = json_loadb(reply->str, reply->len, 0, NULL);
    if (pending == NULL) {
        ngx_tthc_finalize(r, ngx_tthc_eid_fail(r, "EID_STATE_INVALID"));
        return;
    }

    s = json_string_value(json_object_get(pending, "return_to"));
    rt.len = s ? ngx_strlen(s) : 0;
    rt.data = ngx_pnalloc(r->pool, rt.len + 1);

    if (rt.data == NULL) {
        json_decref(pending);
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(rt.data, s ? s : "", rt.len);

    if (rt.len == 0) {
        ngx_str_set(&rt, "/");
    }

    ctx->return_to = rt;

    if (ngx_tthc_arg(r, "error", &err) == NGX_OK && err.len) {
        json_decref(pending);
        ngx_tthc_finalize(r, ngx_tthc_eid_fail(r, "EID_DENIED"));
        return;
    }

    if (ngx_tthc_arg(r, "code", &code) != NGX_OK || code.len == 0
        || code.len > 512)
    {
        json_decref(pending);
        ngx_tthc_finalize(r, ngx_tthc_eid_fail(r, "EID_CODE_INVALID"));
        return;
    }

    req = json_pack("{s:s%,s:O,s:O,s:s%}",
                    "code", code.data, code.len,
                    "verifier", json_object_get(pending, "verifier"),
                    "nonce", json_object_get(pending, "nonce"),
                    "ip", r->connection->addr_text.data,
                    r->connection->addr_text.len);
    json_decref(pending);

    if (req == NULL) {
        ngx_tthc_finalize(r, ngx_tthc_eid_fail(r, "EID_STATE_INVALID"));
        return;
    }

    if (ngx_tthc_rpc_call(r, "auth.eid.exchange", req, ngx_tthc_eid_exchanged,
                          ctx)
        != NGX_OK)
    {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    /* the request stays alive on the count taken for GETDEL */
}


ngx_int_t
ngx_tthc_eid_callback_handler(ngx_http_request_t *r)
{
    u_char              *key;
    ngx_int_t            rc;
    ngx_str_t            cookie, sh;
    const char          *argv[2];
    size_t               argvlen[2];
    ngx_tthc_eid_ctx_t  *ctx;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_eid_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* the state must come back to the browser that started the sign-in */

    if (ngx_tthc_arg(r, "state", &ctx->state) != NGX_OK
        || ngx_tthc_get_cookie(r, "tthc_oidc", &cookie) != NGX_OK
        || ctx->state.len == 0 || ctx->state.len > 128
        || ctx->state.len != cookie.len
        || sodium_memcmp(ctx->state.data, cookie.data, cookie.len) != 0)
    {
        return ngx_tthc_eid_fail(r, "EID_STATE_INVALID");
    }

    if (ngx_tthc_sha256_hex(r->pool, &ctx->state, &sh) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    key = ngx_pnalloc(r->pool, sh.len + sizeof("tthc:oidc:{}"));
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* single use: GETDEL, so a replayed callback finds nothing */

    argv[0] = "GETDEL";
    argvlen[0] = 6;
    argv[1] = (const char *) key;
    argvlen[1] = ngx_sprintf(key, "tthc:oidc:{%V}", &sh) - key;

    if (ngx_tthc_redis_command(r, ngx_tthc_eid_state_taken, ctx, 2, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


/* POST /api/v1/staff/signin {"username","password","totp"?} */

static void
ngx_tthc_staff_signed_in(ngx_http_request_t *r, json_t *reply, void *data)
{
    u_char      *p;
    size_t       len;
    const char  *csrf;

    if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
        ngx_tthc_finalize(r, ngx_tthc_send_rpc_error(r, reply));
        return;
    }

    csrf = json_string_value(json_object_get(reply, "csrf"));

    if (csrf == NULL || ngx_tthc_new_session(r, reply) != NGX_OK) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = sizeof("{\"signed_in\":true,\"csrf_token\":\"\"}") + ngx_strlen(csrf);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    /* the token is base64url: nothing to escape */

    len = ngx_sprintf(p, "{\"signed_in\":true,\"csrf_token\":\"%s\"}", csrf)
          - p;

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, p, len));
}


static void
ngx_tthc_staff_signin_body(ngx_http_request_t *r)
{
    json_t  *in, *user, *pass, *totp, *req;

    in = ngx_tthc_body_json(r);

    if (in == NULL || !json_is_object(in)) {
        if (in) {
            json_decref(in);
        }

        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "MALFORMED_JSON"));
        return;
    }

    user = json_object_get(in, "username");
    pass = json_object_get(in, "password");
    totp = json_object_get(in, "totp");

    if (!json_is_string(user) || json_string_length(user) == 0
        || json_string_length(user) > 64
        || !json_is_string(pass) || json_string_length(pass) == 0
        || json_string_length(pass) > 1024
        || (totp && !json_is_null(totp) && !json_is_string(totp)))
    {
        json_decref(in);
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "INVALID_REQUEST"));
        return;
    }

    req = json_pack("{s:O,s:O,s:s%}", "username", user, "password", pass,
                    "ip", r->connection->addr_text.data,
                    r->connection->addr_text.len);

    if (req && json_is_string(totp)) {
        json_object_set(req, "totp", totp);
    }

    json_decref(in);

    if (req == NULL
        || ngx_tthc_rpc_call(r, "auth.staff.signin", req,
                             ngx_tthc_staff_signed_in, NULL)
           != NGX_OK)
    {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    /* the request stays alive on the count the body reader took */
}


ngx_int_t
ngx_tthc_staff_signin_handler(ngx_http_request_t *r)
{
    return ngx_tthc_read_json_body(r, NGX_TTHC_BODY_MAX,
                                   ngx_tthc_staff_signin_body);
}
