
/*
 * POST /api/v1/dossiers: online submission (DOMAIN A2, D1, D3).
 *
 * The multipart body is read unbuffered and parsed as it arrives
 * (common/tthc_multipart.c): the JSON part "application" is kept (64 KiB at
 * most), every other part is a file for the component it names, streamed
 * to STORE/tmp while it is hashed (SHA-256) and sniffed (libmagic).  Limits
 * are checked while data flows, so an oversized file is refused without
 * being received whole.  When the body is complete and valid:
 *
 *   1. the dossier code is issued (D1): a per-agency daily sequence in
 *      Redis, incremented by a script that refuses while the counters are
 *      not seeded from MariaDB (docs/contracts.md "Sequence script");
 *   2. the files are linked into the store and the manifest is written to
 *      the journal, all fsync'ed, in the thread pool;
 *   3. the dossier.submitted job is queued and a provisional status view
 *      is set; then 202.
 *
 * From step 2 on the submission is durable: if Redis loses the job, the
 * workers' reconciler ingests the journal entry.
 */


#include "ngx_tthc_submit.h"

#include "tthc_code.h"
#include "tthc_time.h"


#define NGX_TTHC_CODE_CLAIMS  16



static ngx_int_t ngx_tthc_submit_start_body(ngx_http_request_t *r);
static void ngx_tthc_submit_catalogue_ready(ngx_http_request_t *r,
    ngx_int_t rc);
static void ngx_tthc_submit_body_post(ngx_http_request_t *r);
static void ngx_tthc_submit_read(ngx_http_request_t *r);
static ngx_int_t ngx_tthc_submit_consume(ngx_http_request_t *r,
    ngx_tthc_submit_ctx_t *ctx);
static void ngx_tthc_submit_body_done(ngx_http_request_t *r,
    ngx_tthc_submit_ctx_t *ctx);
static void ngx_tthc_submit_fail(ngx_http_request_t *r,
    ngx_tthc_submit_ctx_t *ctx, const char *code, const char *field);
static void ngx_tthc_submit_seq_reply(ngx_http_request_t *r,
    redisReply *reply, void *data);
static void ngx_tthc_submit_next_code(ngx_http_request_t *r,
    ngx_tthc_submit_ctx_t *ctx);
static void ngx_tthc_submit_committed(ngx_http_request_t *r, ngx_int_t rc);


static void
ngx_tthc_submit_cleanup(void *data)
{
    ngx_tthc_submit_ctx_t  *ctx = data;

    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    if (ctx->files) {
        f = ctx->files->elts;

        for (i = 0; i < ctx->files->nelts; i++) {
            ngx_tthc_store_discard(&f[i]);
        }
    }

    if (ctx->application) {
        json_decref(ctx->application);
        ctx->application = NULL;
    }
}


/* the handler */

ngx_int_t
ngx_tthc_submit_handler(ngx_http_request_t *r)
{
    char                    boundary[TTHC_MP_BOUNDARY_MAX + 1];
    size_t                  blen;
    ngx_int_t               rc;
    const char             *refusal;
    ngx_tthc_req_t         *req;
    ngx_table_elt_t        *ct;
    ngx_pool_cleanup_t     *cln;
    ngx_tthc_main_conf_t   *mcf;
    ngx_tthc_submit_ctx_t  *ctx;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    /* A1: only dossiers sent from a signed-in applicant's account */

    req = ngx_tthc_req(r);

    refusal = ngx_tthc_session_refusal(r, 1, 0);
    if (refusal != NULL) {
        return ngx_tthc_send_error(r, refusal);
    }

    ct = r->headers_in.content_type;

    if (ct == NULL
        || ct->value.len < sizeof("multipart/form-data") - 1
        || ngx_strncasecmp(ct->value.data, (u_char *) "multipart/form-data",
                           sizeof("multipart/form-data") - 1)
           != 0)
    {
        return ngx_tthc_send_error(r, "UNSUPPORTED_CONTENT_TYPE");
    }

    if (tthc_mp_boundary((const char *) ct->value.data, ct->value.len,
                         boundary, &blen)
        != 0)
    {
        return ngx_tthc_send_error_field(r, "MALFORMED_MULTIPART", "boundary");
    }

    if (r->headers_in.content_length_n > mcf->max_request_size) {
        r->keepalive = 0;
        return ngx_tthc_send_error(r, "REQUEST_TOO_LARGE");
    }

    if (!ngx_tthc_redis_ready()) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_submit_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->request = r;

    ctx->files = ngx_array_create(r->pool, 4, sizeof(ngx_tthc_file_t));
    if (ctx->files == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_tthc_submit_cleanup;
    cln->data = ctx;

    req->data = ctx;

    tthc_mp_init(&ctx->mp, boundary, blen, &ngx_tthc_parts_callbacks, ctx);

    rc = ngx_tthc_catalogue_ensure(r, ngx_tthc_submit_catalogue_ready);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    return ngx_tthc_submit_start_body(r);
}


static void
ngx_tthc_submit_catalogue_ready(ngx_http_request_t *r, ngx_int_t rc)
{
    if (rc == NGX_ERROR) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    /* NGX_DECLINED: nothing published; every procedure is unknown */

    rc = ngx_tthc_submit_start_body(r);

    ngx_tthc_finalize(r, rc);
}


static ngx_int_t
ngx_tthc_submit_start_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_tthc_submit_body_post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* body reading: the post handler is called once, then our read handler */

static void
ngx_tthc_submit_body_post(ngx_http_request_t *r)
{
    ngx_tthc_submit_ctx_t  *ctx;

    ctx = ngx_tthc_req(r)->data;

    if (ngx_tthc_submit_consume(r, ctx) != NGX_OK) {
        return;
    }

    if (!r->reading_body) {
        ngx_tthc_submit_body_done(r, ctx);
        return;
    }

    r->read_event_handler = ngx_tthc_submit_read;

    ngx_tthc_submit_read(r);
}


static void
ngx_tthc_submit_read(ngx_http_request_t *r)
{
    ngx_int_t               rc;
    ngx_tthc_submit_ctx_t  *ctx;

    ctx = ngx_tthc_req(r)->data;

    if (ctx->failed) {
        return;
    }

    for ( ;; ) {
        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            ctx->failed = 1;
            ngx_tthc_finalize(r, rc);
            return;
        }

        if (r->request_body->bufs == NULL) {
            if (rc == NGX_OK) {
                ngx_tthc_submit_body_done(r, ctx);
            }

            /* NGX_AGAIN: nginx waits for more data */
            return;
        }

        if (ngx_tthc_submit_consume(r, ctx) != NGX_OK) {
            return;
        }

        if (rc == NGX_OK) {
            ngx_tthc_submit_body_done(r, ctx);
            return;
        }
    }
}


static ngx_int_t
ngx_tthc_submit_consume(ngx_http_request_t *r, ngx_tthc_submit_ctx_t *ctx)
{
    int                    rc;
    size_t                 n;
    ngx_buf_t             *b;
    ngx_chain_t           *cl;
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        n = b->last - b->pos;

        if (n == 0 || ctx->failed) {
            b->pos = b->last;
            continue;
        }

        ctx->received += n;

        if (ctx->received > mcf->max_request_size) {
            ngx_tthc_submit_fail(r, ctx, "REQUEST_TOO_LARGE", NULL);
            return NGX_ERROR;
        }

        rc = tthc_mp_feed(&ctx->mp, b->pos, n);
        b->pos = b->last;

        if (rc == TTHC_MP_ERR_CALLBACK) {
            ngx_tthc_submit_fail(r, ctx, ctx->error, ctx->error_field);
            return NGX_ERROR;
        }

        if (rc < 0) {
            ngx_tthc_submit_fail(r, ctx, "MALFORMED_MULTIPART", NULL);
            return NGX_ERROR;
        }
    }

    r->request_body->bufs = NULL;

    return NGX_OK;
}


static void
ngx_tthc_submit_fail(ngx_http_request_t *r, ngx_tthc_submit_ctx_t *ctx,
    const char *code, const char *field)
{
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    ctx->failed = 1;

    f = ctx->files->elts;
    for (i = 0; i < ctx->files->nelts; i++) {
        ngx_tthc_store_discard(&f[i]);
    }

    if (r->request_body) {
        r->request_body->bufs = NULL;
    }

    ngx_tthc_finalize(r, ngx_tthc_send_error_field(r,
                                                   code ? code : "INTERNAL_ERROR",
                                                   field));
}


/* the whole body is in: final checks, then the code */

static void
ngx_tthc_submit_body_done(ngx_http_request_t *r, ngx_tthc_submit_ctx_t *ctx)
{
    u_char                *key1, *key2, *p1, *p2;
    size_t                 i, j;
    json_t                *comps, *comp, *v;
    ngx_str_t              code;
    ngx_uint_t             found;
    ngx_tthc_file_t       *f;
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (tthc_mp_finish(&ctx->mp) != TTHC_MP_DONE) {
        ngx_tthc_submit_fail(r, ctx, "MALFORMED_MULTIPART", NULL);
        return;
    }

    if (!ctx->app_seen || ctx->application == NULL) {
        ngx_tthc_submit_fail(r, ctx, "MISSING_APPLICATION", "application");
        return;
    }

    /* files that arrived before the application part */

    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        comp = ngx_tthc_component(ctx->proc, &f[i].component);

        if (comp == NULL) {
            ngx_tthc_submit_fail(r, ctx, "UNKNOWN_COMPONENT",
                                 (const char *) f[i].component.data);
            return;
        }

        if (f[i].size > ngx_tthc_component_max(comp, mcf->max_request_size)) {
            ngx_tthc_submit_fail(r, ctx, "FILE_TOO_LARGE",
                                 (const char *) f[i].component.data);
            return;
        }

        if (!ngx_tthc_component_allows(comp, f[i].media_type)) {
            ngx_tthc_submit_fail(r, ctx, "UNSUPPORTED_MEDIA_TYPE",
                                 (const char *) f[i].component.data);
            return;
        }
    }

    comps = json_object_get(ctx->proc->obj, "components");

    for (j = 0; j < json_array_size(comps); j++) {
        comp = json_array_get(comps, j);

        if (!json_is_true(json_object_get(comp, "required"))) {
            continue;
        }

        v = json_object_get(comp, "code");
        if (!json_is_string(v)) {
            continue;
        }

        code.data = (u_char *) json_string_value(v);
        code.len = json_string_length(v);

        found = 0;

        for (i = 0; i < ctx->files->nelts; i++) {
            if (f[i].component.len == code.len
                && ngx_strncmp(f[i].component.data, code.data, code.len) == 0)
            {
                found = 1;
                break;
            }
        }

        if (!found) {
            ngx_tthc_submit_fail(r, ctx, "MISSING_COMPONENT",
                                 json_string_value(v));
            return;
        }
    }

    /* D1: receiving agency, local date, per-agency daily sequence */

    v = json_object_get(json_object_get(ctx->proc->obj, "agency"), "code");
    if (!json_is_string(v)) {
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    ctx->agency.data = (u_char *) json_string_value(v);
    ctx->agency.len = json_string_length(v);

    ctx->received_at = ngx_time();
    tthc_local_date(ctx->received_at, &ctx->yy, &ctx->mm, &ctx->dd);

    key1 = ngx_pnalloc(r->pool, ctx->agency.len + 64);
    key2 = ngx_pnalloc(r->pool, ctx->agency.len + 64);
    if (key1 == NULL || key2 == NULL) {
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    p1 = ngx_sprintf(key1, "tthc:{seq:%V}:ready", &ctx->agency);
    p2 = ngx_sprintf(key2, "tthc:{seq:%V}:%02d%02d%02d", &ctx->agency,
                     ctx->yy, ctx->mm, ctx->dd);

    ctx->seq_key1 = key1;
    ctx->seq_len1 = p1 - key1;
    ctx->seq_key2 = key2;
    ctx->seq_len2 = p2 - key2;

    ngx_tthc_submit_next_code(r, ctx);
}


static void
ngx_tthc_submit_next_code(ngx_http_request_t *r, ngx_tthc_submit_ctx_t *ctx)
{
    const char  *argv[5];
    size_t       argvlen[5];

    static const char  seq_script[] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
        "local n = redis.call('INCR', KEYS[2]) "
        "redis.call('EXPIRE', KEYS[2], 345600) "
        "return n";

    if (ctx->claims++ >= NGX_TTHC_CODE_CLAIMS) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tthc: %ui dossier codes of agency \"%V\" were already "
                      "taken; the workers re-seed the sequence",
                      ctx->claims - 1, &ctx->agency);
        ngx_tthc_submit_fail(r, ctx, "SEQUENCE_NOT_READY", NULL);
        return;
    }

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = seq_script;
    argvlen[1] = sizeof(seq_script) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[3] = (const char *) ctx->seq_key1;
    argvlen[3] = ctx->seq_len1;
    argv[4] = (const char *) ctx->seq_key2;
    argvlen[4] = ctx->seq_len2;

    if (ngx_tthc_redis_command(r, ngx_tthc_submit_seq_reply, ctx, 5, argv,
                               argvlen)
        != NGX_OK)
    {
        ngx_tthc_submit_fail(r, ctx, "SERVICE_UNAVAILABLE", NULL);
    }
}


static void
ngx_tthc_submit_seq_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_submit_ctx_t  *ctx = data;

    char              *s;
    u_char            *p;
    size_t             len;
    json_t            *m;
    ngx_uint_t         i;
    ngx_tthc_file_t   *f;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_submit_fail(r, ctx, "SERVICE_UNAVAILABLE", NULL);
        return;
    }

    if (reply->type != REDIS_REPLY_INTEGER || reply->integer < 0) {
        ngx_tthc_submit_fail(r, ctx, "SEQUENCE_NOT_READY", NULL);
        return;
    }

    if (reply->integer > 9999) {
        /* D1: four digits a day per agency; tomorrow's counter starts at 1 */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tthc: the 9999 dossier codes of agency \"%V\" for today "
                      "are used up", &ctx->agency);
        ngx_tthc_submit_fail(r, ctx, "DAILY_LIMIT_REACHED", NULL);
        return;
    }

    ctx->code.data = ngx_pnalloc(r->pool, TTHC_CODE_MAX);
    if (ctx->code.data == NULL) {
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    ctx->code.len = tthc_code_format((char *) ctx->code.data, TTHC_CODE_MAX,
                                     (const char *) ctx->agency.data,
                                     ctx->agency.len, ctx->yy, ctx->mm,
                                     ctx->dd, (unsigned) reply->integer);
    if (ctx->code.len == 0) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tthc: cannot make a dossier code for agency \"%V\" "
                      "sequence %L", &ctx->agency, (int64_t) reply->integer);
        ngx_tthc_submit_fail(r, ctx, "SEQUENCE_NOT_READY", NULL);
        return;
    }

    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        if (f[i].storage.len) {
            continue;
        }

        p = ngx_pnalloc(r->pool, sizeof("files/ab/cd/") + 64);
        if (p == NULL) {
            ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
            return;
        }

        f[i].storage.data = p;
        f[i].storage.len = ngx_sprintf(p, "files/%*s/%*s/%s", (size_t) 2,
                                       f[i].sha256, (size_t) 2,
                                       f[i].sha256 + 2, f[i].sha256)
                           - p;
    }

    m = ngx_tthc_manifest(ctx, (unsigned) reply->integer);
    if (m == NULL) {
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    s = json_dumps(m, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(m);

    if (s == NULL) {
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    len = ngx_strlen(s);

    ctx->manifest.data = ngx_pnalloc(r->pool, len);
    if (ctx->manifest.data == NULL) {
        free(s);
        ngx_tthc_submit_fail(r, ctx, "INTERNAL_ERROR", NULL);
        return;
    }

    ngx_memcpy(ctx->manifest.data, s, len);
    ctx->manifest.len = len;
    free(s);

    if (ngx_tthc_store_commit(r, ctx->files, &ctx->code, &ctx->manifest,
                              ngx_tthc_submit_committed)
        != NGX_OK)
    {
        ngx_tthc_submit_fail(r, ctx, "STORAGE_ERROR", NULL);
    }
}


static void
ngx_tthc_submit_queued(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_submit_ctx_t  *ctx = data;

    u_char           *body, *p;
    ngx_int_t         rc;
    ngx_table_elt_t  *h;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* durable in the journal: the reconciler will queue it */
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "tthc: dossier %V journaled but not queued: %s",
                      &ctx->code, reply ? reply->str : "no reply");
    }

    body = ngx_pnalloc(r->pool, 2 * ctx->code.len + 64);
    if (body == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    p = ngx_sprintf(body, "{\"code\":\"%V\",\"status_url\":"
                    "\"/api/v1/dossiers/%V\"}", &ctx->code, &ctx->code);

    h = ngx_list_push(&r->headers_out.headers);
    if (h != NULL) {
        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value.data = body + ctx->code.len + sizeof("{\"code\":\"\","
                                                      "\"status_url\":\"") - 1;
        h->value.len = sizeof("/api/v1/dossiers/") - 1 + ctx->code.len;
    }

    rc = ngx_tthc_send_json(r, NGX_HTTP_ACCEPTED, body, p - body);

    ngx_tthc_finalize(r, rc);
}


static void
ngx_tthc_submit_committed(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_tthc_submit_ctx_t  *ctx;

    char                *view;
    u_char              *key, *p;
    const char          *argv[NGX_TTHC_JOB_ARGC];
    size_t               argvlen[NGX_TTHC_JOB_ARGC];

    ctx = ngx_tthc_req(r)->data;

    if (rc == NGX_DECLINED) {
        ngx_tthc_submit_next_code(r, ctx);
        return;
    }

    if (rc != NGX_OK) {
        ngx_tthc_submit_fail(r, ctx, "STORAGE_ERROR", NULL);
        return;
    }

    /* the submission is durable from here on */

    view = ngx_tthc_provisional_view(ctx);

    if (view) {
        key = ngx_pnalloc(r->pool, ctx->code.len + sizeof("tthc:d:{}:view"));

        if (key) {
            p = ngx_sprintf(key, "tthc:d:{%V}:view", &ctx->code);

            argv[0] = "SET";
            argvlen[0] = 3;
            argv[1] = (const char *) key;
            argvlen[1] = p - key;
            argv[2] = view;
            argvlen[2] = ngx_strlen(view);
            argv[3] = "NX";
            argvlen[3] = 2;

            (void) ngx_tthc_redis_fire(4, argv, argvlen);
        }

        free(view);
    }

    (void) ngx_tthc_job_argv(argv, argvlen, "tthc:{jobs}:stream",
                             "dossier.submitted", ctx->code.data, ctx->code.len,
                             ctx->manifest.data, ctx->manifest.len);

    if (ngx_tthc_redis_command(r, ngx_tthc_submit_queued, ctx,
                               NGX_TTHC_JOB_ARGC, argv, argvlen)
        != NGX_OK)
    {
        ngx_tthc_submit_queued(r, NULL, ctx);
    }
}
