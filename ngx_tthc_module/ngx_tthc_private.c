
/*
 * Reading one's own dossiers, and officials reading their agency's (issue
 * 3; DOMAIN A3, A4, O2; docs/contracts-identity.md):
 *
 *   GET /api/v1/me/dossiers[?page=&page_size=]             the applicant's
 *   GET /api/v1/me/dossiers/{code}[/files/{sha256}]        owner only
 *   GET /api/v1/staff/dossiers/{code}[/files/{sha256}]     agency scope
 *
 * The private view (tthc:d:{CODE}:private) carries the owner and the
 * receiving agency; who may read it is decided by common/tthc_scope.c, the
 * same rule the workers apply.  An applicant asking for someone else's
 * dossier gets the same 404 as for a code that does not exist, so codes
 * cannot be probed.  Files are served by nginx itself through an internal
 * location (/_tthc_store/), never by a public path.  Officials' reads are
 * audited (an audit.append job; the workers chain it into the audit log).
 */


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_code.h"
#include "tthc_scope.h"
#include "tthc_time.h"


typedef struct {
    ngx_str_t                   code;
    ngx_str_t                   sha256;
    ngx_uint_t                  staff;
} ngx_tthc_private_ctx_t;


/* the audit trail of officials' reads: an audit.append job */

static void
ngx_tthc_audit_read(ngx_http_request_t *r, const char *action,
    ngx_str_t *code, ngx_str_t *sha256)
{
    u_char               rnd[16], id[33];
    char                 when[32], *payload;
    json_t              *j;
    const char          *argv[NGX_TTHC_JOB_ARGC];
    size_t               argvlen[NGX_TTHC_JOB_ARGC];
    ngx_tthc_session_t  *s;

    s = ngx_tthc_req(r)->session;

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex((char *) id, sizeof(id), rnd, sizeof(rnd));
    tthc_fmt_utc(when, sizeof(when), ngx_time());

    j = json_pack("{s:s,s:s,s:s,s:s%,s:s%,s:s%,s:s,s:s%,s:{}}",
                  "event_id", id,
                  "at", when,
                  "actor_kind", "staff",
                  "actor_id", s->uid.data, s->uid.len,
                  "actor_name", s->username.data, s->username.len,
                  "ip", r->connection->addr_text.data,
                  r->connection->addr_text.len,
                  "action", action,
                  "object", code->data, code->len,
                  "detail");
    if (j == NULL) {
        return;
    }

    if (sha256) {
        json_object_set_new(json_object_get(j, "detail"), "sha256",
                            json_stringn((char *) sha256->data, sha256->len));
    }

    payload = json_dumps(j, JSON_COMPACT);
    json_decref(j);

    if (payload == NULL) {
        return;
    }

    (void) ngx_tthc_job_argv(argv, argvlen, "tthc:{jobs}:stream",
                             "audit.append", (const u_char *) action,
                             ngx_strlen(action), (const u_char *) payload,
                             ngx_strlen(payload));

    if (ngx_tthc_redis_fire(NGX_TTHC_JOB_ARGC, argv, argvlen) != NGX_OK) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tthc audit: cannot queue %s of %V", action, code);
    }

    free(payload);
}


/*
 * GET /api/v1/me/dossiers?page=&page_size=: the applicant's list, newest
 * first, paged in Redis (tthc:a:{ID}:order, a sorted set by receipt time,
 * and tthc:a:{ID}:items, each dossier's line as JSON), one script.
 */

static const char  ngx_tthc_list_script[] =
    "local codes = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[2]) "
    "local total = redis.call('ZCARD', KEYS[1]) "
    "if #codes == 0 then return {total, {}} end "
    "return {total, redis.call('HMGET', KEYS[2], unpack(codes))}";


typedef struct {
    ngx_int_t                   page;
    ngx_int_t                   size;
} ngx_tthc_page_t;


static void
ngx_tthc_me_dossiers_reply(ngx_http_request_t *r, redisReply *reply,
    void *data)
{
    ngx_tthc_page_t  *pg = data;

    u_char      *buf, *p;
    size_t       i, len;
    ngx_uint_t   first;
    redisReply  *items, *it;

    if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
        || reply->elements != 2
        || reply->element[0]->type != REDIS_REPLY_INTEGER
        || reply->element[1]->type != REDIS_REPLY_ARRAY)
    {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    items = reply->element[1];

    len = sizeof("{\"items\":[],\"total\":,\"page\":,\"page_size\":}")
          + 3 * NGX_INT64_LEN;

    for (i = 0; i < items->elements; i++) {
        if (items->element[i]->type == REDIS_REPLY_STRING) {
            len += items->element[i]->len + 1;
        }
    }

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_cpymem(buf, "{\"items\":[", sizeof("{\"items\":[") - 1);
    first = 1;

    for (i = 0; i < items->elements; i++) {
        it = items->element[i];

        if (it->type != REDIS_REPLY_STRING) {
            continue;               /* a line being rebuilt right now */
        }

        if (!first) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, it->str, it->len);
        first = 0;
    }

    p = ngx_sprintf(p, "],\"total\":%L,\"page\":%i,\"page_size\":%i}",
                    (int64_t) reply->element[0]->integer, pg->page, pg->size);

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, buf, p - buf));
}


ngx_int_t
ngx_tthc_me_dossiers_handler(ngx_http_request_t *r)
{
    u_char              *k1, *k2;
    u_char               start[NGX_INT_T_LEN], stop[NGX_INT_T_LEN];
    ngx_int_t            rc;
    ngx_str_t            v;
    const char          *argv[7], *refusal;
    size_t               argvlen[7];
    ngx_tthc_page_t     *pg;
    ngx_tthc_session_t  *s;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    refusal = ngx_tthc_session_refusal(r, 1, 0);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    pg = ngx_palloc(r->pool, sizeof(ngx_tthc_page_t));
    if (pg == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pg->page = 1;
    pg->size = 20;

    if (ngx_tthc_arg(r, "page", &v) == NGX_OK && v.len) {
        pg->page = ngx_atoi(v.data, v.len);
        if (pg->page < 1 || pg->page > 100000) {
            return ngx_tthc_send_error_field(r, "INVALID_PARAMETER", "page");
        }
    }

    if (ngx_tthc_arg(r, "page_size", &v) == NGX_OK && v.len) {
        pg->size = ngx_atoi(v.data, v.len);
        if (pg->size < 1 || pg->size > 100) {
            return ngx_tthc_send_error_field(r, "INVALID_PARAMETER",
                                             "page_size");
        }
    }

    s = ngx_tthc_req(r)->session;

    k1 = ngx_pnalloc(r->pool, s->uid.len + sizeof("tthc:a:{}:order"));
    k2 = ngx_pnalloc(r->pool, s->uid.len + sizeof("tthc:a:{}:items"));
    if (k1 == NULL || k2 == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = ngx_tthc_list_script;
    argvlen[1] = sizeof(ngx_tthc_list_script) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[3] = (const char *) k1;
    argvlen[3] = ngx_sprintf(k1, "tthc:a:{%V}:order", &s->uid) - k1;
    argv[4] = (const char *) k2;
    argvlen[4] = ngx_sprintf(k2, "tthc:a:{%V}:items", &s->uid) - k2;
    argv[5] = (const char *) start;
    argvlen[5] = ngx_sprintf(start, "%i", (pg->page - 1) * pg->size) - start;
    argv[6] = (const char *) stop;
    argvlen[6] = ngx_sprintf(stop, "%i", pg->page * pg->size - 1) - stop;

    if (ngx_tthc_redis_command(r, ngx_tthc_me_dossiers_reply, pg, 7, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


/* one dossier, or one of its files */

static ngx_uint_t
ngx_tthc_owner_is(json_t *view, ngx_str_t *uid)
{
    u_char      buf[NGX_INT64_LEN + 1];
    json_t     *o;
    ngx_str_t   s;

    o = json_object_get(view, "owner");

    if (json_is_integer(o)) {
        s.data = buf;
        s.len = ngx_sprintf(buf, "%L", (int64_t) json_integer_value(o)) - buf;

    } else if (json_is_string(o)) {
        s.data = (u_char *) json_string_value(o);
        s.len = json_string_length(o);

    } else {
        return 0;
    }

    return s.len == uid->len && ngx_strncmp(s.data, uid->data, s.len) == 0;
}


static ngx_uint_t
ngx_tthc_staff_may_read(ngx_tthc_session_t *s, json_t *view)
{
    size_t        i, n;
    json_t       *cur;
    const char   *agencies[17];
    tthc_actor_t  actor;

    actor.roles = s->roles;
    actor.agency = (const char *) s->agency.data;

    cur = json_object_get(view, "current_agencies");
    n = ngx_min(json_array_size(cur), 16);

    for (i = 0; i < n; i++) {
        agencies[i] = json_string_value(json_array_get(cur, i));
        if (agencies[i] == NULL) {
            agencies[i] = "";
        }
    }

    agencies[n] = NULL;

    return tthc_scope_dossier_read(&actor,
               json_string_value(json_object_get(view, "agency_code"))
               ? json_string_value(json_object_get(view, "agency_code")) : "",
               agencies) ? 1 : 0;
}


static ngx_int_t
ngx_tthc_send_file(ngx_http_request_t *r, ngx_tthc_private_ctx_t *ctx,
    json_t *view)
{
    u_char           *p;
    size_t            i, n;
    json_t           *files, *f;
    ngx_str_t         uri, name, esc;
    const char       *sha, *mt, *fname;
    ngx_table_elt_t  *h;

    files = json_object_get(view, "files");

    for (n = 0; n < 2; n++) {

        for (i = 0; i < json_array_size(files); i++) {
            f = json_array_get(files, i);
            sha = json_string_value(json_object_get(f, "sha256"));

            if (sha && ngx_strlen(sha) == ctx->sha256.len
                && ngx_strncmp(sha, ctx->sha256.data, ctx->sha256.len) == 0)
            {
                goto found;
            }
        }

        /* officials also reach the files attached by actions that are
         * not addressed to the applicant (opinions, extension slips) */
        if (!ctx->staff) {
            break;
        }

        files = json_object_get(view, "outputs");
    }

    return ngx_tthc_send_error(r, "NOT_FOUND");

found:

    mt = json_string_value(json_object_get(f, "media_type"));
    fname = json_string_value(json_object_get(f, "name"));

    if (mt) {
        r->headers_out.content_type.len = ngx_strlen(mt);
        r->headers_out.content_type.data = ngx_pnalloc(r->pool,
                                               r->headers_out.content_type.len);
        if (r->headers_out.content_type.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(r->headers_out.content_type.data, mt,
                   r->headers_out.content_type.len);
        r->headers_out.content_type_len = r->headers_out.content_type.len;
    }

    name.data = (u_char *) (fname ? fname : "tep-dinh-kem");
    name.len = ngx_strlen(name.data);

    n = ngx_escape_uri(NULL, name.data, name.len, NGX_ESCAPE_URI_COMPONENT);
    esc.data = ngx_pnalloc(r->pool, name.len + 2 * n
                                    + sizeof("attachment; filename*=UTF-8''"));
    if (esc.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(esc.data, "attachment; filename*=UTF-8''",
                   sizeof("attachment; filename*=UTF-8''") - 1);
    p = (u_char *) ngx_escape_uri(p, name.data, name.len,
                                  NGX_ESCAPE_URI_COMPONENT);
    esc.len = p - esc.data;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Content-Disposition");
    h->value = esc;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    uri.len = sizeof("/_tthc_store/files/ab/cd/") - 1 + 64;
    uri.data = ngx_pnalloc(r->pool, uri.len);
    if (uri.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_sprintf(uri.data, "/_tthc_store/files/%*s/%*s/%V",
                (size_t) 2, ctx->sha256.data, (size_t) 2, ctx->sha256.data + 2,
                &ctx->sha256);

    /* nginx serves the file from the internal location; our ctx is reset */

    (void) ngx_http_internal_redirect(r, &uri, NULL);

    return NGX_DONE;
}


static void
ngx_tthc_private_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_private_ctx_t  *ctx = data;

    u_char              *p;
    json_t              *view;
    ngx_int_t            rc;
    ngx_tthc_session_t  *s;

    s = ngx_tthc_req(r)->session;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "DOSSIER_NOT_FOUND"));
        return;
    }

    view = json_loadb(reply->str, reply->len, 0, NULL);
    if (view == NULL) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "INTERNAL_ERROR"));
        return;
    }

    if (ctx->staff) {
        if (!ngx_tthc_staff_may_read(s, view)) {
            json_decref(view);
            ngx_tthc_finalize(r, ngx_tthc_send_error(r, "FORBIDDEN"));
            return;
        }

        ngx_tthc_audit_read(r, ctx->sha256.len ? "file.read" : "dossier.read",
                            &ctx->code, ctx->sha256.len ? &ctx->sha256 : NULL);

    } else if (!ngx_tthc_owner_is(view, &s->uid)) {
        /* not yours: the same answer as a code that does not exist */
        json_decref(view);
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "DOSSIER_NOT_FOUND"));
        return;
    }

    if (ctx->sha256.len) {
        rc = ngx_tthc_send_file(r, ctx, view);
        json_decref(view);
        ngx_tthc_finalize(r, rc);
        return;
    }

    json_decref(view);

    p = ngx_pnalloc(r->pool, reply->len);
    if (p == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(p, reply->str, reply->len);

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, p, reply->len));
}


ngx_int_t
ngx_tthc_private_dossier_handler(ngx_http_request_t *r, ngx_str_t *code,
    ngx_str_t *sha256, ngx_uint_t staff)
{
    u_char                  *key;
    size_t                   i;
    ngx_int_t                rc;
    tthc_code_t              parsed;
    const char              *argv[2], *refusal;
    size_t                   argvlen[2];
    ngx_tthc_private_ctx_t  *ctx;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    refusal = ngx_tthc_session_refusal(r, !staff, 0);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    if (tthc_code_parse((const char *) code->data, code->len, &parsed) != 0) {
        return ngx_tthc_send_error(r, "INVALID_DOSSIER_CODE");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_private_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->code = *code;
    ctx->staff = staff;

    if (sha256) {
        if (sha256->len != 64) {
            return ngx_tthc_send_error(r, "NOT_FOUND");
        }

        for (i = 0; i < 64; i++) {
            if (!((sha256->data[i] >= '0' && sha256->data[i] <= '9')
                  || (sha256->data[i] >= 'a' && sha256->data[i] <= 'f')))
            {
                return ngx_tthc_send_error(r, "NOT_FOUND");
            }
        }

        ctx->sha256 = *sha256;
    }

    key = ngx_pnalloc(r->pool, code->len + sizeof("tthc:d:{}:private"));
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) key;
    argvlen[1] = ngx_sprintf(key, "tthc:d:{%V}:private", code) - key;

    if (ngx_tthc_redis_command(r, ngx_tthc_private_reply, ctx, 2, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}
