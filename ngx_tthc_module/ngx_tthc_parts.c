
/*
 * The parts of a submission, as the streaming multipart parser delivers
 * them (common/tthc_multipart.c).  "application" is collected (64 KiB at
 * most) and validated (ngx_tthc_application.c); every other part is a file
 * for the component it names: written to STORE/tmp as it arrives, hashed
 * (SHA-256), sniffed by libmagic (the declared Content-Type is ignored) and
 * checked against the component's size and media types as early as the
 * application part allows.  Also the process-wide libmagic handle.
 */


#include "ngx_tthc_submit.h"

#include <magic.h>


static magic_t  ngx_tthc_magic;


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


/*
 * The media type of a file from its first bytes (the declared type never
 * counts), copied to the pool: libmagic's string lives only until its next
 * call.  NULL only when out of memory.
 */

const char *
ngx_tthc_sniff(ngx_pool_t *pool, const u_char *buf, size_t len)
{
    u_char      *p;
    size_t       n;
    const char  *mt;

    mt = ngx_tthc_magic ? magic_buffer(ngx_tthc_magic, buf, len) : NULL;
    if (mt == NULL) {
        mt = "application/octet-stream";
    }

    n = ngx_strlen(mt);

    p = ngx_pnalloc(pool, n + 1);
    if (p == NULL) {
        return NULL;
    }

    ngx_memcpy(p, mt, n + 1);

    return (const char *) p;
}


/* component lookup in the cached procedure */

json_t *
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


off_t
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


ngx_uint_t
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




static int
ngx_tthc_part_end(void *ud)
{
    ngx_tthc_submit_ctx_t  *ctx = ud;

    u_char            digest[crypto_hash_sha256_BYTES];
    json_t           *app, *comp, *out;
    const char       *err, *field;
    json_error_t      jerr;
    ngx_tthc_file_t  *f;

    if (ctx->in_app) {
        ctx->in_app = 0;

        app = json_loadb((const char *) ctx->app, ctx->app_len,
                         JSON_REJECT_DUPLICATES, &jerr);

        if (app == NULL) {
            return ngx_tthc_set_error(ctx, "MALFORMED_JSON", "application");
        }

        if (!json_is_object(app)) {
            json_decref(app);
            return ngx_tthc_set_error(ctx, "INVALID_APPLICATION",
                                      "application");
        }

        field = NULL;
        out = NULL;
        err = ngx_tthc_application_validate(app,
                                            ngx_tthc_req(ctx->request)->session,
                                            &ctx->proc, &out, &field);
        json_decref(app);

        if (err) {
            return ngx_tthc_set_error(ctx, err, field);
        }

        if (ctx->application) {
            json_decref(ctx->application);
        }

        ctx->application = out;

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

    f->media_type = ngx_tthc_sniff(ctx->request->pool, ctx->sniff,
                                   ctx->sniff_len);
    if (f->media_type == NULL) {
        return ngx_tthc_set_error(ctx, "INTERNAL_ERROR", NULL);
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


const tthc_mp_callbacks_t  ngx_tthc_parts_callbacks = {
    ngx_tthc_part_begin,
    ngx_tthc_part_data,
    ngx_tthc_part_end
};
