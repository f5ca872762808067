
/*
 * Sessions and CSRF at the edge (issue 3; docs/contracts-identity.md).
 *
 * The cookie holds an opaque 256-bit random id; Redis holds the session
 * under the SHA-256 of that id, so a copy of Redis gives nobody a usable
 * cookie.  Workers create sessions (sign-in is a request/reply job); the
 * edge looks them up with one script that also enforces the absolute
 * lifetime and refreshes the idle one, and deletes them on sign-out.
 */


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_scope.h"


#define NGX_TTHC_SID_LEN  43      /* base64url of 32 bytes, no padding */


static const char  ngx_tthc_session_script[] =
    "local h = redis.call('HGETALL', KEYS[1]) "
    "if #h == 0 then return false end "
    "for i = 1, #h, 2 do "
    "  if h[i] == 'abs_exp' and tonumber(h[i+1]) < tonumber(ARGV[1]) then "
    "    redis.call('DEL', KEYS[1]) return false end "
    "end "
    "redis.call('EXPIRE', KEYS[1], ARGV[2]) "
    "return h";


/* helpers shared by the identity endpoints */

ngx_int_t
ngx_tthc_random_b64(ngx_pool_t *pool, size_t bytes, ngx_str_t *out)
{
    u_char  raw[64];
    size_t  len;

    if (bytes > sizeof(raw)) {
        return NGX_ERROR;
    }

    randombytes_buf(raw, bytes);

    len = sodium_base64_ENCODED_LEN(bytes,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    sodium_bin2base64((char *) out->data, len, raw, bytes,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);

    out->len = len - 1;
    sodium_memzero(raw, sizeof(raw));

    return NGX_OK;
}


ngx_int_t
ngx_tthc_sha256_hex(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out)
{
    u_char  digest[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(digest, in->data, in->len);

    out->data = ngx_pnalloc(pool, 2 * sizeof(digest) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    sodium_bin2hex((char *) out->data, 2 * sizeof(digest) + 1, digest,
                   sizeof(digest));
    out->len = 2 * sizeof(digest);

    return NGX_OK;
}


ngx_int_t
ngx_tthc_get_cookie(ngx_http_request_t *r, const char *name, ngx_str_t *value)
{
    ngx_str_t  n;

    n.data = (u_char *) name;
    n.len = ngx_strlen(name);

    if (ngx_http_parse_multi_header_lines(&r->headers_in.cookies, &n, value)
        == NGX_DECLINED)
    {
        value->len = 0;
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* Secure, HttpOnly, SameSite=Lax always; max_age < 0: a browser session */

ngx_int_t
ngx_tthc_set_cookie(ngx_http_request_t *r, const char *name, ngx_str_t *value,
    const char *path, ngx_int_t max_age)
{
    u_char           *p;
    size_t            len;
    ngx_table_elt_t  *h;

    len = ngx_strlen(name) + 1 + value->len + sizeof("; Path=") - 1
          + ngx_strlen(path)
          + sizeof("; Max-Age=") - 1 + NGX_INT_T_LEN
          + sizeof("; HttpOnly; Secure; SameSite=Lax") - 1;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Set-Cookie");
    h->value.data = p;

    p = ngx_sprintf(p, "%s=%V; Path=%s", name, value, path);

    if (max_age >= 0) {
        p = ngx_sprintf(p, "; Max-Age=%i", max_age);
    }

    p = ngx_cpymem(p, "; HttpOnly; Secure; SameSite=Lax",
                   sizeof("; HttpOnly; Secure; SameSite=Lax") - 1);

    h->value.len = p - h->value.data;

    return NGX_OK;
}


/* the lookup */

static ngx_str_t *
ngx_tthc_session_field(ngx_tthc_session_t *s, const char *name, size_t len)
{
    static const struct {
        const char  *name;
        size_t       off;
    }  fields[] = {
        { "kind", offsetof(ngx_tthc_session_t, kind) },
        { "uid", offsetof(ngx_tthc_session_t, uid) },
        { "name", offsetof(ngx_tthc_session_t, name) },
        { "csrf", offsetof(ngx_tthc_session_t, csrf) },
        { "roles", offsetof(ngx_tthc_session_t, roles_list) },
        { "agency", offsetof(ngx_tthc_session_t, agency) },
        { "dept", offsetof(ngx_tthc_session_t, dept) },
        { "username", offsetof(ngx_tthc_session_t, username) },
        { "ident", offsetof(ngx_tthc_session_t, ident) },
        { "atype", offsetof(ngx_tthc_session_t, atype) },
        { "email", offsetof(ngx_tthc_session_t, email) },
        { "phone", offsetof(ngx_tthc_session_t, phone) },
    };

    ngx_uint_t  i;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (ngx_strlen(fields[i].name) == len
            && ngx_strncmp(fields[i].name, name, len) == 0)
        {
            return (ngx_str_t *) ((u_char *) s + fields[i].off);
        }
    }

    return NULL;
}


static void
ngx_tthc_session_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_continue_pt  next = (ngx_tthc_continue_pt) data;

    long                 roles;
    size_t               i;
    ngx_str_t           *f;
    redisReply          *k, *v;
    ngx_tthc_req_t      *req;
    ngx_tthc_session_t  *s;

    req = ngx_tthc_req(r);

    s = req->session;
    req->session = NULL;        /* set again only for a valid session */

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        req->session_failed = 1;
        next(r, NGX_ERROR);
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0) {
        /* no such session, or it expired: anonymous */
        next(r, NGX_OK);
        return;
    }

    for (i = 0; i + 1 < reply->elements; i += 2) {
        k = reply->element[i];
        v = reply->element[i + 1];

        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
            continue;
        }

        f = ngx_tthc_session_field(s, k->str, k->len);
        if (f == NULL) {
            continue;
        }

        f->data = ngx_pnalloc(r->pool, v->len + 1);
        if (f->data == NULL) {
            req->session_failed = 1;
            next(r, NGX_ERROR);
            return;
        }

        ngx_memcpy(f->data, v->str, v->len);
        f->data[v->len] = '\0';
        f->len = v->len;
    }

    /* absent fields read as "" */

    for (i = 0; i < offsetof(ngx_tthc_session_t, roles) / sizeof(ngx_str_t);
         i++)
    {
        f = (ngx_str_t *) s + i;

        if (f->data == NULL) {
            ngx_str_set(f, "");
        }
    }

    s->applicant = ngx_tthc_seg_equal(&s->kind, "applicant");
    s->staff = ngx_tthc_seg_equal(&s->kind, "staff");

    if (s->staff) {
        roles = tthc_roles_parse((const char *) s->roles_list.data,
                                 s->roles_list.len);
        s->roles = roles > 0 ? (unsigned) roles : 0;
    }

    if ((!s->applicant && !s->staff) || s->uid.len == 0
        || s->csrf.len == 0)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tthc: malformed session ignored");
        next(r, NGX_OK);
        return;
    }

    req->session = s;
    req->session_ok = 1;

    next(r, NGX_OK);
}


/*
 * NGX_OK: no session cookie (or a malformed one): anonymous, go on.
 * NGX_DONE: a lookup is under way; next() runs when it ends (with
 *     req->session set, or NULL) and must finalize the request.
 */

ngx_int_t
ngx_tthc_session_load(ngx_http_request_t *r, ngx_tthc_continue_pt next)
{
    u_char                *p;
    ngx_str_t              sid, hash;
    const char            *argv[6];
    size_t                 argvlen[6];
    u_char                 now[NGX_TIME_T_LEN], idle[NGX_TIME_T_LEN];
    ngx_tthc_req_t        *req;
    ngx_tthc_session_t    *s;
    ngx_tthc_main_conf_t  *mcf;

    req = ngx_tthc_req(r);

    if (ngx_tthc_get_cookie(r, "tthc_sid", &sid) != NGX_OK
        || sid.len != NGX_TTHC_SID_LEN)
    {
        return NGX_OK;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    s = ngx_pcalloc(r->pool, sizeof(ngx_tthc_session_t));
    if (s == NULL) {
        return NGX_OK;
    }

    if (ngx_tthc_sha256_hex(r->pool, &sid, &hash) != NGX_OK) {
        return NGX_OK;
    }

    s->key.data = ngx_pnalloc(r->pool, hash.len + sizeof("tthc:sess:{}"));
    if (s->key.data == NULL) {
        return NGX_OK;
    }

    p = ngx_sprintf(s->key.data, "tthc:sess:{%V}", &hash);
    s->key.len = p - s->key.data;

    req->session = s;           /* filled by the reply, reset if none */

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_tthc_session_script;
    argvlen[1] = sizeof(ngx_tthc_session_script) - 1;
    argv[2] = "1";
    argvlen[2] = 1;
    argv[3] = (const char *) s->key.data;
    argvlen[3] = s->key.len;
    argv[4] = (const char *) now;
    argvlen[4] = ngx_sprintf(now, "%T", ngx_time()) - now;
    argv[5] = (const char *) idle;
    argvlen[5] = ngx_sprintf(idle, "%T", mcf->session_idle) - idle;

    if (ngx_tthc_redis_command(r, ngx_tthc_session_reply, (void *) next, 6,
                               argv, argvlen)
        != NGX_OK)
    {
        req->session = NULL;
        req->session_failed = 1;
        return NGX_OK;
    }

    r->main->count++;

    return NGX_DONE;
}


/*
 * CSRF (docs/contracts-identity.md): with a session, the X-CSRF-Token header
 * must carry its token; without one, a present Origin must be our own.
 */

ngx_int_t
ngx_tthc_csrf_check(ngx_http_request_t *r)
{
    size_t              hlen;
    ngx_str_t           token, origin;
    ngx_uint_t          i;
    ngx_tthc_req_t     *req;
    ngx_tthc_session_t *s;

    req = ngx_tthc_req(r);
    s = req->session_ok ? req->session : NULL;

    (void) ngx_tthc_header_find(r, "X-CSRF-Token", &token);
    (void) ngx_tthc_header_find(r, "Origin", &origin);

    if (s) {
        if (token.len != s->csrf.len
            || sodium_memcmp(token.data, s->csrf.data, token.len) != 0)
        {
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (origin.len == 0 || r->headers_in.host == NULL) {
        return NGX_OK;
    }

    /* Origin: scheme "://" host, and host must be the request's Host */

    hlen = r->headers_in.host->value.len;

    for (i = 0; i + 2 < origin.len; i++) {
        if (origin.data[i] == ':' && origin.data[i + 1] == '/'
            && origin.data[i + 2] == '/')
        {
            i += 3;

            if (origin.len - i == hlen
                && ngx_strncasecmp(origin.data + i,
                                   r->headers_in.host->value.data, hlen)
                   == 0)
            {
                return NGX_OK;
            }

            break;
        }
    }

    return NGX_DECLINED;
}


/* GET /api/v1/session */

ngx_int_t
ngx_tthc_session_handler(ngx_http_request_t *r)
{
    char                *out;
    u_char              *p;
    size_t               len;
    json_t              *j, *roles;
    ngx_int_t            rc;
    ngx_uint_t           bit;
    ngx_tthc_req_t      *req;
    ngx_tthc_session_t  *s;

    static u_char  anonymous[] = "{\"authenticated\":false}";

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    req = ngx_tthc_req(r);

    if (req->session_failed) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    if (!req->session_ok) {
        return ngx_tthc_send_json(r, NGX_HTTP_OK, anonymous,
                                  sizeof(anonymous) - 1);
    }

    s = req->session;

    j = json_pack("{s:b,s:s%,s:s%,s:s%,s:s%}",
                  "authenticated", 1,
                  "kind", s->kind.data, s->kind.len,
                  "user_id", s->uid.data, s->uid.len,
                  "name", s->name.data, s->name.len,
                  "csrf_token", s->csrf.data, s->csrf.len);
    if (j == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (s->staff) {
        roles = json_array();

        for (bit = 1; bit <= TTHC_ROLE_SYSADMIN; bit <<= 1) {
            if (s->roles & bit) {
                json_array_append_new(roles, json_string(tthc_role_name(bit)));
            }
        }

        json_object_set_new(j, "roles", roles);
        json_object_set_new(j, "username",
                            json_stringn((char *) s->username.data,
                                         s->username.len));
        json_object_set_new(j, "agency",
                            json_stringn((char *) s->agency.data,
                                         s->agency.len));

    } else {
        json_object_set_new(j, "applicant_type",
                            json_stringn((char *) s->atype.data,
                                         s->atype.len));
    }

    out = json_dumps(j, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(j);

    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(out);
    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        free(out);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, out, len);
    free(out);

    return ngx_tthc_send_json(r, NGX_HTTP_OK, p, len);
}


/* POST /api/v1/auth/signout: the session really ends */

static void
ngx_tthc_signout_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_str_t  empty = ngx_null_string;

    static u_char  done[] = "{\"signed_out\":true}";

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (ngx_tthc_set_cookie(r, "tthc_sid", &empty, "/", 0) != NGX_OK) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, done,
                                            sizeof(done) - 1));
}


ngx_int_t
ngx_tthc_signout_handler(ngx_http_request_t *r)
{
    ngx_int_t        rc;
    const char      *argv[2];
    size_t           argvlen[2];
    ngx_tthc_req_t  *req;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    req = ngx_tthc_req(r);

    if (!req->session_ok) {
        return ngx_tthc_send_error(r, req->session_failed
                                      ? "SERVICE_UNAVAILABLE"
                                      : "UNAUTHENTICATED");
    }

    argv[0] = "DEL";
    argvlen[0] = 3;
    argv[1] = (const char *) req->session->key.data;
    argvlen[1] = req->session->key.len;

    if (ngx_tthc_redis_command(r, ngx_tthc_signout_reply, NULL, 2, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


/*
 * Who may come in: NULL, or the error to answer with.  applicant: only an
 * applicant's session; otherwise an official's holding one of "roles"
 * (0: any official).
 */

const char *
ngx_tthc_session_refusal(ngx_http_request_t *r, ngx_uint_t applicant,
    unsigned roles)
{
    ngx_tthc_req_t      *req;
    ngx_tthc_session_t  *s;

    req = ngx_tthc_req(r);

    if (req->session_failed) {
        return "SERVICE_UNAVAILABLE";
    }

    if (!req->session_ok) {
        return "UNAUTHENTICATED";
    }

    s = req->session;

    if (applicant) {
        return s->applicant ? NULL : "FORBIDDEN";
    }

    if (!s->staff || (roles && !(s->roles & roles))) {
        return "FORBIDDEN";
    }

    return NULL;
}
