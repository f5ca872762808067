
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


#include "ngx_tthc_module.h"

#include <magic.h>
#include <sodium.h>

#include "tthc_code.h"
#include "tthc_mask.h"
#include "tthc_multipart.h"
#include "tthc_status.h"
#include "tthc_time.h"


typedef struct {
    ngx_http_request_t         *request;
    tthc_mp_t                   mp;

    const char                 *error;
    const char                 *error_field;
    ngx_uint_t                  failed;       /* unsigned  failed:1; */

    off_t                       received;

    u_char                     *app;
    size_t                      app_len;
    ngx_uint_t                  in_app;
    ngx_uint_t                  app_seen;
    json_t                     *application;
    ngx_tthc_procedure_t       *proc;

    ngx_array_t                *files;
    ngx_tthc_file_t            *cur;
    off_t                       cur_limit;
    crypto_hash_sha256_state    sha;
    u_char                      sniff[NGX_TTHC_SNIFF_SIZE];
    size_t                      sniff_len;

    ngx_str_t                   agency;
    ngx_str_t                   code;
    ngx_str_t                   manifest;
    time_t                      received_at;
    int                         yy, mm, dd;
} ngx_tthc_submit_ctx_t;


static magic_t  ngx_tthc_magic;
static const tthc_mp_callbacks_t  ngx_tthc_submit_callbacks;


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
static void ngx_tthc_submit_committed(ngx_http_request_t *r, ngx_int_t rc);


ngx_int_t
ngx_tthc_submit_init_process(ngx_cycle_t *cycle)
{
    if (sodium_init() < 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "tthc: sodium_init() failed");
        return NGX_ERROR;
    }

    ngx_tthc_magic = magic_open(MAGIC_MIME_TYPE|MAGIC_NO_CHECK_COMPRESS);
    if (ngx_tthc_magic == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "tthc: magic_open() failed");
        return NGX_ERROR;
    }

    if (magic_load(ngx_tthc_magic, NULL) != 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "tthc: magic_load() failed: %s",
                      magic_error(ngx_tthc_magic));
        magic_close(ngx_tthc_magic);
        ngx_tthc_magic = NULL;
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_tthc_submit_exit_process(void)
{
    if (ngx_tthc_magic) {
        magic_close(ngx_tthc_magic);
        ngx_tthc_magic = NULL;
    }
}


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


/* component lookup in the cached procedure */

static json_t *
ngx_tthc_component(ngx_tthc_procedure_t *pr, ngx_str_t *code)
{
    size_t       i;
    json_t      *list, *c;
    const char  *s;

    list = json_object_get(pr->obj, "components");

    for (i = 0; i < json_array_size(list); i++) {
        c = json_array_get(list, i);
        s = json_string_value(json_object_get(c, "code"));

        if (s && ngx_strlen(s) == code->len
            && ngx_strncmp(s, code->data, code->len) == 0)
        {
            return c;
        }
    }

    return NULL;
}


static off_t
ngx_tthc_component_max(json_t *comp, off_t global)
{
    json_t  *v;

    v = json_object_get(comp, "max_size");

    if (json_is_integer(v) && json_integer_value(v) > 0
        && json_integer_value(v) < global)
    {
        return (off_t) json_integer_value(v);
    }

    return global;
}


static ngx_uint_t
ngx_tthc_component_allows(json_t *comp, const char *media_type)
{
    size_t   i;
    json_t  *list;

    list = json_object_get(comp, "media_types");

    if (json_array_size(list) == 0) {
        return 1;
    }

    for (i = 0; i < json_array_size(list); i++) {
        if (ngx_strcmp(json_string_value(json_array_get(list, i)) ?
                           json_string_value(json_array_get(list, i)) : "",
                       media_type) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* the handler */

ngx_int_t
ngx_tthc_submit_handler(ngx_http_request_t *r)
{
    char                    boundary[TTHC_MP_BOUNDARY_MAX + 1];
    size_t                  blen;
    ngx_int_t               rc;
    ngx_pool_cleanup_t     *cln;
    ngx_tthc_main_conf_t   *mcf;
    ngx_tthc_submit_ctx_t  *ctx;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (r->headers_in.content_type == NULL
        || tthc_mp_boundary((const char *) r->headers_in.content_type->value.data,
                            r->headers_in.content_type->value.len,
                            boundary, &blen)
           != 0)
    {
        return ngx_tthc_send_error(r, "UNSUPPORTED_CONTENT_TYPE");
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

    ngx_http_set_ctx(r, ctx, ngx_tthc_module);

    tthc_mp_init(&ctx->mp, boundary, blen, &ngx_tthc_submit_callbacks, ctx);

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

    ctx = ngx_http_get_module_ctx(r, ngx_tthc_module);

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

    ctx = ngx_http_get_module_ctx(r, ngx_tthc_module);

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


/* multipart callbacks; a non-zero return stops the parser */

static int
ngx_tthc_set_error(ngx_tthc_submit_ctx_t *ctx, const char *code,
    const char *field)
{
    ctx->error = code;
    ctx->error_field = field;
    return 1;
}


static ngx_uint_t
ngx_tthc_component_name_valid(const char *s, size_t len)
{
    size_t  i;

    if (len == 0 || len > 64) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!(isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == '-'
              || s[i] == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
ngx_tthc_part_begin(void *ud, const tthc_mp_part_t *part)
{
    ngx_tthc_submit_ctx_t  *ctx = ud;

    u_char                *p;
    json_t                *comp;
    ngx_tthc_file_t       *f;
    ngx_http_request_t    *r;
    ngx_tthc_main_conf_t  *mcf;

    r = ctx->request;
    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (part->name_len == sizeof("application") - 1
        && ngx_strncmp(part->name, "application", part->name_len) == 0)
    {
        if (ctx->app_seen) {
            return ngx_tthc_set_error(ctx, "MALFORMED_MULTIPART",
                                      "application");
        }

        ctx->app = ngx_pnalloc(r->pool, NGX_TTHC_APP_PART_MAX);
        if (ctx->app == NULL) {
            return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
        }

        ctx->in_app = 1;
        ctx->app_seen = 1;
        ctx->app_len = 0;

        return 0;
    }

    if (!ngx_tthc_component_name_valid(part->name, part->name_len)) {
        return ngx_tthc_set_error(ctx, "UNKNOWN_COMPONENT", NULL);
    }

    if (ctx->files->nelts >= NGX_TTHC_MAX_FILES) {
        return ngx_tthc_set_error(ctx, "REQUEST_TOO_LARGE", NULL);
    }

    f = ngx_array_push(ctx->files);
    if (f == NULL) {
        return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
    }

    ngx_memzero(f, sizeof(ngx_tthc_file_t));
    f->fd = NGX_INVALID_FILE;

    f->component.data = ngx_pnalloc(r->pool, part->name_len + 1);
    if (f->component.data == NULL) {
        return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
    }

    p = ngx_cpymem(f->component.data, part->name, part->name_len);
    *p = '\0';
    f->component.len = part->name_len;

    if (part->has_filename && part->filename_len) {
        f->name.data = ngx_pnalloc(r->pool, part->filename_len + 1);
        if (f->name.data == NULL) {
            return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
        }

        p = ngx_cpymem(f->name.data, part->filename, part->filename_len);
        *p = '\0';
        f->name.len = part->filename_len;

    } else {
        ngx_str_set(&f->name, "tep-dinh-kem");
    }

    ctx->cur_limit = mcf->max_request_size;

    if (ctx->proc) {
        comp = ngx_tthc_component(ctx->proc, &f->component);
        if (comp == NULL) {
            return ngx_tthc_set_error(ctx, "UNKNOWN_COMPONENT",
                                      (const char *) f->component.data);
        }

        ctx->cur_limit = ngx_tthc_component_max(comp, mcf->max_request_size);
    }

    if (ngx_tthc_store_open_tmp(r, f) != NGX_OK) {
        return ngx_tthc_set_error(ctx, "STORAGE_ERROR", NULL);
    }

    crypto_hash_sha256_init(&ctx->sha);
    ctx->sniff_len = 0;
    ctx->cur = f;

    return 0;
}


static int
ngx_tthc_part_data(void *ud, const unsigned char *data, size_t n)
{
    ngx_tthc_submit_ctx_t  *ctx = ud;

    size_t            m;
    ssize_t           w;
    ngx_tthc_file_t  *f;

    if (ctx->in_app) {
        if (ctx->app_len + n > NGX_TTHC_APP_PART_MAX) {
            return ngx_tthc_set_error(ctx, "REQUEST_TOO_LARGE",
                                      "application");
        }

        ngx_memcpy(ctx->app + ctx->app_len, data, n);
        ctx->app_len += n;

        return 0;
    }

    f = ctx->cur;
    f->size += n;

    if (f->size > ctx->cur_limit) {
        return ngx_tthc_set_error(ctx, "FILE_TOO_LARGE",
                                  (const char *) f->component.data);
    }

    if (ctx->sniff_len < NGX_TTHC_SNIFF_SIZE) {
        m = ngx_min(n, NGX_TTHC_SNIFF_SIZE - ctx->sniff_len);
        ngx_memcpy(ctx->sniff + ctx->sniff_len, data, m);
        ctx->sniff_len += m;
    }

    crypto_hash_sha256_update(&ctx->sha, data, n);

    while (n) {
        w = write(f->fd, data, n);

        if (w == -1) {
            if (ngx_errno == NGX_EINTR) {
                continue;
            }

            ngx_log_error(NGX_LOG_CRIT, ctx->request->connection->log,
                          ngx_errno, "tthc store: write(\"%s\") failed",
                          f->tmp_path);

            return ngx_tthc_set_error(ctx, "STORAGE_ERROR", NULL);
        }

        data += w;
        n -= w;
    }

    return 0;
}


static const char *
ngx_tthc_validate_application(ngx_tthc_submit_ctx_t *ctx, json_t *in,
    const char **field);


static int
ngx_tthc_part_end(void *ud)
{
    ngx_tthc_submit_ctx_t  *ctx = ud;

    u_char            digest[crypto_hash_sha256_BYTES];
    json_t           *app, *comp;
    const char       *err, *field, *mt;
    json_error_t      jerr;
    ngx_tthc_file_t  *f;

    if (ctx->in_app) {
        ctx->in_app = 0;

        app = json_loadb((const char *) ctx->app, ctx->app_len,
                         JSON_REJECT_DUPLICATES, &jerr);

        if (app == NULL || !json_is_object(app)) {
            if (app) {
                json_decref(app);
            }

            return ngx_tthc_set_error(ctx, "MALFORMED_JSON", "application");
        }

        field = NULL;
        err = ngx_tthc_validate_application(ctx, app, &field);
        json_decref(app);

        if (err) {
            return ngx_tthc_set_error(ctx, err, field);
        }

        return 0;
    }

    f = ctx->cur;
    ctx->cur = NULL;

    crypto_hash_sha256_final(&ctx->sha, digest);
    sodium_bin2hex((char *) f->sha256, sizeof(f->sha256), digest,
                   sizeof(digest));

    if (close(f->fd) != 0) {
        f->fd = NGX_INVALID_FILE;
        return ngx_tthc_set_error(ctx, "STORAGE_ERROR", NULL);
    }

    f->fd = NGX_INVALID_FILE;

    if (f->size == 0) {
        return ngx_tthc_set_error(ctx, "EMPTY_FILE",
                                  (const char *) f->component.data);
    }

    mt = magic_buffer(ngx_tthc_magic, ctx->sniff, ctx->sniff_len);
    f->media_type = mt ? mt : "application/octet-stream";

    /* libmagic's strings live until the next call: keep a copy */

    {
        size_t   len;
        u_char  *p;

        len = ngx_strlen(f->media_type);
        p = ngx_pnalloc(ctx->request->pool, len + 1);
        if (p == NULL) {
            return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
        }

        ngx_memcpy(p, f->media_type, len + 1);
        f->media_type = (const char *) p;
    }

    if (ctx->proc) {
        comp = ngx_tthc_component(ctx->proc, &f->component);

        if (comp && !ngx_tthc_component_allows(comp, f->media_type)) {
            return ngx_tthc_set_error(ctx, "UNSUPPORTED_MEDIA_TYPE",
                                      (const char *) f->component.data);
        }
    }

    return 0;
}


static const tthc_mp_callbacks_t  ngx_tthc_submit_callbacks = {
    ngx_tthc_part_begin,
    ngx_tthc_part_data,
    ngx_tthc_part_end
};


/* application JSON: validated and rebuilt from known fields only */

static ngx_uint_t
ngx_tthc_str_ok(json_t *v, size_t min, size_t max)
{
    size_t  len;

    if (!json_is_string(v)) {
        return 0;
    }

    len = json_string_length(v);

    return len >= min && len <= max;
}


static ngx_uint_t
ngx_tthc_digits(const char *s, size_t min, size_t max)
{
    size_t  n;

    for (n = 0; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9') {
            return 0;
        }
    }

    return n >= min && n <= max;
}


static ngx_uint_t
ngx_tthc_email_ok(const char *s)
{
    const char  *at;

    at = strchr(s, '@');

    if (at == NULL || at == s || strchr(at + 1, '@') != NULL
        || strchr(at, '.') == NULL || strlen(s) > 254
        || at[strlen(at) - 1] == '.')
    {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s <= ' ' || *s == '<' || *s == '>' || *s == '"') {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_tthc_phone_ok(const char *s)
{
    if (*s == '+') {
        s++;
    }

    return ngx_tthc_digits(s, 9, 15);
}


static ngx_uint_t
ngx_tthc_channel_allowed(ngx_tthc_procedure_t *pr, const char *ch)
{
    size_t   i;
    json_t  *list;

    list = json_object_get(pr->obj, "result_channels");

    for (i = 0; i < json_array_size(list); i++) {
        if (json_is_string(json_array_get(list, i))
            && ngx_strcmp(json_string_value(json_array_get(list, i)), ch) == 0)
        {
            return 1;
        }
    }

    return 0;
}


static const char *
ngx_tthc_validate_application(ngx_tthc_submit_ctx_t *ctx, json_t *in,
    const char **field)
{
    json_t                *proc, *ap, *name, *id, *type, *email, *phone, *form,
                          *channel, *addr, *out, *oap, *oaddr, *v;
    const char            *t, *idv, *ch;
    ngx_tthc_procedure_t  *pr;

    static const char  *addr_fields[] = { "street", "ward", "district",
                                          "province", NULL };
    const char  **af;

    proc = json_object_get(in, "procedure");
    if (!ngx_tthc_str_ok(proc, 1, 64)) {
        *field = "procedure";
        return "INVALID_APPLICATION";
    }

    pr = ngx_tthc_catalogue_find((u_char *) json_string_value(proc),
                                 json_string_length(proc));
    if (pr == NULL
        || ngx_strcmp(json_string_value(json_object_get(pr->obj, "status"))
                      ? json_string_value(json_object_get(pr->obj, "status"))
                      : "active", "retired") == 0)
    {
        *field = "procedure";
        return "UNKNOWN_PROCEDURE";
    }

    ap = json_object_get(in, "applicant");
    if (!json_is_object(ap)) {
        *field = "applicant";
        return "INVALID_APPLICATION";
    }

    type = json_object_get(ap, "type");
    t = json_is_string(type) ? json_string_value(type) : "citizen";

    if (type && !json_is_string(type)) {
        *field = "applicant.type";
        return "INVALID_APPLICATION";
    }

    if (ngx_strcmp(t, "citizen") != 0 && ngx_strcmp(t, "organisation") != 0) {
        *field = "applicant.type";
        return "INVALID_APPLICATION";
    }

    name = json_object_get(ap, "name");
    if (!ngx_tthc_str_ok(name, 2, 200)) {
        *field = "applicant.name";
        return "INVALID_APPLICATION";
    }

    /* citizens: 12-digit citizen identity card (9 for the old ID card);
     * organisations: 10-digit tax code, 13 with a branch suffix */

    id = json_object_get(ap, "identity_number");
    idv = json_is_string(id) ? json_string_value(id) : "";

    if (!(t[0] == 'c' ? (ngx_tthc_digits(idv, 12, 12)
                         || ngx_tthc_digits(idv, 9, 9))
                      : (ngx_tthc_digits(idv, 10, 10)
                         || ngx_tthc_digits(idv, 13, 13))))
    {
        *field = "applicant.identity_number";
        return "INVALID_APPLICATION";
    }

    email = json_object_get(ap, "email");
    phone = json_object_get(ap, "phone");

    if (email && !json_is_null(email)
        && !(json_is_string(email) && ngx_tthc_email_ok(json_string_value(email))))
    {
        *field = "applicant.email";
        return "INVALID_APPLICATION";
    }

    if (phone && !json_is_null(phone)
        && !(json_is_string(phone) && ngx_tthc_phone_ok(json_string_value(phone))))
    {
        *field = "applicant.phone";
        return "INVALID_APPLICATION";
    }

    if (!json_is_string(email) && !json_is_string(phone)) {
        *field = "applicant.email";
        return "INVALID_APPLICATION";
    }

    form = json_object_get(in, "form");
    if (form && !json_is_object(form)) {
        *field = "form";
        return "INVALID_APPLICATION";
    }

    channel = json_object_get(in, "result_channel");
    ch = json_is_string(channel) ? json_string_value(channel) : "";

    if ((ngx_strcmp(ch, "online") != 0 && ngx_strcmp(ch, "desk") != 0
         && ngx_strcmp(ch, "postal") != 0)
        || !ngx_tthc_channel_allowed(pr, ch))
    {
        *field = "result_channel";
        return "INVALID_APPLICATION";
    }

    addr = json_object_get(in, "postal_address");
    oaddr = NULL;

    if (ch[0] == 'p') {
        if (!json_is_object(addr)) {
            *field = "postal_address";
            return "INVALID_APPLICATION";
        }

        oaddr = json_object();

        for (af = addr_fields; *af; af++) {
            v = json_object_get(addr, *af);

            if (v == NULL && ngx_strcmp(*af, "ward") == 0) {
                continue;
            }

            if (!ngx_tthc_str_ok(v, 1, 200)) {
                json_decref(oaddr);
                *field = "postal_address";
                return "INVALID_APPLICATION";
            }

            json_object_set(oaddr, *af, v);
        }
    }

    oap = json_pack("{s:s,s:O,s:O}", "type", t, "name", name,
                    "identity_number", id);
    if (oap == NULL) {
        if (oaddr) {
            json_decref(oaddr);
        }

        return "INTERNAL_ERROR";
    }

    out = json_pack("{s:O,s:o,s:O}", "procedure", proc, "applicant", oap,
                    "result_channel", channel);
    if (out == NULL) {
        if (oaddr) {
            json_decref(oaddr);
        }

        return "INTERNAL_ERROR";
    }

    json_object_set_new(out, "form", form ? json_incref(form) : json_object());

    if (json_is_string(email)) {
        json_object_set(oap, "email", email);
    }

    if (json_is_string(phone)) {
        json_object_set(oap, "phone", phone);
    }

    if (oaddr) {
        json_object_set_new(out, "postal_address", oaddr);
    }

    if (ctx->application) {
        json_decref(ctx->application);
    }

    ctx->application = out;
    ctx->proc = pr;

    return NULL;
}


/* the whole body is in: final checks, then the code */

static void
ngx_tthc_submit_body_done(ngx_http_request_t *r, ngx_tthc_submit_ctx_t *ctx)
{
    u_char                *key1, *key2, *p1, *p2;
    size_t                 i, j;
    json_t                *comps, *comp, *v;
    ngx_str_t              code;
    const char            *argv[5];
    size_t                 argvlen[5];
    ngx_uint_t             found;
    ngx_tthc_file_t       *f;
    ngx_tthc_main_conf_t  *mcf;

    static const char  seq_script[] =
        "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
        "local n = redis.call('INCR', KEYS[2]) "
        "redis.call('EXPIRE', KEYS[2], 345600) "
        "return n";

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

    argv[0] = "EVAL";
    argvlen[0] = 4;
    argv[1] = seq_script;
    argvlen[1] = sizeof(seq_script) - 1;
    argv[2] = "2";
    argvlen[2] = 1;
    argv[3] = (const char *) key1;
    argvlen[3] = p1 - key1;
    argv[4] = (const char *) key2;
    argvlen[4] = p2 - key2;

    if (ngx_tthc_redis_command(r, ngx_tthc_submit_seq_reply, ctx, 5, argv,
                               argvlen)
        != NGX_OK)
    {
        ngx_tthc_submit_fail(r, ctx, "SERVICE_UNAVAILABLE", NULL);
    }
}


static json_t *
ngx_tthc_manifest(ngx_tthc_submit_ctx_t *ctx, unsigned seq)
{
    char              when[32], date[8];
    json_t           *m, *files, *fo;
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    tthc_fmt_utc(when, sizeof(when), ctx->received_at);
    ngx_sprintf((u_char *) date, "%02d%02d%02d%Z", ctx->yy, ctx->mm, ctx->dd);

    files = json_array();
    if (files == NULL) {
        return NULL;
    }

    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        fo = json_pack("{s:s%,s:s%,s:I,s:s,s:s,s:s%}",
                       "component", f[i].component.data, f[i].component.len,
                       "name", f[i].name.data, f[i].name.len,
                       "size", (json_int_t) f[i].size,
                       "media_type", f[i].media_type,
                       "sha256", (char *) f[i].sha256,
                       "storage", f[i].storage.data, f[i].storage.len);

        if (fo == NULL || json_array_append_new(files, fo) != 0) {
            json_decref(files);
            return NULL;
        }
    }

    m = json_pack("{s:i,s:s%,s:s%,s:s,s:i,s:s,s:s%,s:s,s:O,s:o,s:s%}",
                  "v", 1,
                  "code", ctx->code.data, ctx->code.len,
                  "agency", ctx->agency.data, ctx->agency.len,
                  "date", date,
                  "seq", (int) seq,
                  "received_at", when,
                  "procedure", ctx->proc->code.data, ctx->proc->code.len,
                  "channel", "online",
                  "application", ctx->application,
                  "files", files,
                  "client_ip", ctx->request->connection->addr_text.data,
                  ctx->request->connection->addr_text.len);

    return m;
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


/* the provisional public view, until a worker writes the real one */

static char *
ngx_tthc_provisional_view(ngx_tthc_submit_ctx_t *ctx)
{
    char              when[40], name[800], id[64];
    char             *s;
    json_t           *view, *files, *hist, *ap, *v;
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    tthc_fmt_local(when, sizeof(when), ctx->received_at);

    ap = json_object_get(ctx->application, "applicant");

    v = json_object_get(ap, "name");
    tthc_mask_name(json_string_value(v), json_string_length(v), name,
                   sizeof(name));

    v = json_object_get(ap, "identity_number");
    tthc_mask_id(json_string_value(v), json_string_length(v), id, sizeof(id));

    files = json_array();
    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        json_array_append_new(files,
            json_pack("{s:s%,s:s%,s:I}",
                      "component", f[i].component.data, f[i].component.len,
                      "name", f[i].name.data, f[i].name.len,
                      "size", (json_int_t) f[i].size));
    }

    hist = json_pack("[{s:i,s:s,s:s}]", "status", 1,
                     "label", tthc_status_label(1), "at", when);

    view = json_pack("{s:s%,s:{s:i,s:s},s:{s:s%,s:O},s:O,s:s,"
                     "s:{s:s,s:s},s:O,s:o,s:o,s:b}",
                     "code", ctx->code.data, ctx->code.len,
                     "status", "code", 1, "label", tthc_status_label(1),
                     "procedure", "code", ctx->proc->code.data,
                     ctx->proc->code.len,
                     "name", json_object_get(ctx->proc->obj, "name"),
                     "agency", json_object_get(ctx->proc->obj, "agency"),
                     "submitted_at", when,
                     "applicant", "name", name, "identity_number", id,
                     "result_channel",
                     json_object_get(ctx->application, "result_channel"),
                     "files", files,
                     "history", hist,
                     "provisional", 1);

    if (view == NULL) {
        return NULL;
    }

    s = json_dumps(view, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(view);

    return s;
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
    const char          *argv[11];
    size_t               argvlen[11];

    ctx = ngx_http_get_module_ctx(r, ngx_tthc_module);

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

    argv[0] = "XADD";
    argvlen[0] = 4;
    argv[1] = "tthc:{jobs}:stream";
    argvlen[1] = sizeof("tthc:{jobs}:stream") - 1;
    argv[2] = "*";
    argvlen[2] = 1;
    argv[3] = "type";
    argvlen[3] = 4;
    argv[4] = "dossier.submitted";
    argvlen[4] = sizeof("dossier.submitted") - 1;
    argv[5] = "key";
    argvlen[5] = 3;
    argv[6] = (const char *) ctx->code.data;
    argvlen[6] = ctx->code.len;
    argv[7] = "payload";
    argvlen[7] = 7;
    argv[8] = (const char *) ctx->manifest.data;
    argvlen[8] = ctx->manifest.len;
    argv[9] = "attempt";
    argvlen[9] = 7;
    argv[10] = "0";
    argvlen[10] = 1;

    if (ngx_tthc_redis_command(r, ngx_tthc_submit_queued, ctx, 11, argv,
                               argvlen)
        != NGX_OK)
    {
        ngx_tthc_submit_queued(r, NULL, ctx);
    }
}
