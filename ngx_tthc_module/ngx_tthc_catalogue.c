
/*
 * The procedure catalogue read model (DOMAIN X2, A2).
 *
 * Workers publish the whole catalogue as one JSON document under
 * tthc:{cat}:doc and bump tthc:{cat}:version.  Each nginx worker keeps a
 * parsed copy, with every procedure's summary and detail JSON serialized
 * once, and checks the version at most every tthc_catalogue_ttl.  The copy
 * is only a cache: it is rebuilt from Redis whenever the version changes,
 * and when Redis is unreachable the last good copy keeps serving reads.
 */


#include "ngx_tthc_module.h"

#include "tthc_text.h"


#define NGX_TTHC_PAGE_SIZE_DEFAULT  20
#define NGX_TTHC_PAGE_SIZE_MAX      100


typedef struct {
    json_t                     *doc;
    ngx_tthc_procedure_t       *procs;
    ngx_uint_t                  nprocs;
    long long                   version;
    ngx_msec_t                  checked;
    ngx_uint_t                  loaded;
} ngx_tthc_catalogue_t;


typedef struct {
    ngx_tthc_continue_pt        next;
    long long                   version;
} ngx_tthc_catalogue_ctx_t;


static ngx_tthc_catalogue_t  ngx_tthc_cat;


static void ngx_tthc_catalogue_free(void);
static ngx_int_t ngx_tthc_catalogue_load(u_char *data, size_t len,
    ngx_log_t *log);
static ngx_int_t ngx_tthc_catalogue_respond(ngx_http_request_t *r,
    ngx_str_t *code);
static void ngx_tthc_catalogue_continue(ngx_http_request_t *r, ngx_int_t rc);


static ngx_str_t
ngx_tthc_dup_str(const char *s)
{
    ngx_str_t  v;

    v.len = s ? ngx_strlen(s) : 0;
    v.data = (u_char *) (s ? s : "");

    return v;
}


static void
ngx_tthc_catalogue_free(void)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_tthc_cat.nprocs; i++) {
        free(ngx_tthc_cat.procs[i].summary_json.data);
        free(ngx_tthc_cat.procs[i].detail_json.data);
    }

    free(ngx_tthc_cat.procs);

    if (ngx_tthc_cat.doc) {
        json_decref(ngx_tthc_cat.doc);
    }

    ngx_tthc_cat.doc = NULL;
    ngx_tthc_cat.procs = NULL;
    ngx_tthc_cat.nprocs = 0;
    ngx_tthc_cat.loaded = 0;
}


void
ngx_tthc_catalogue_exit_process(void)
{
    ngx_tthc_catalogue_free();
}


static char *
ngx_tthc_dump_without(json_t *obj, const char **drop)
{
    char    *s;
    json_t  *copy;

    copy = json_copy(obj);
    if (copy == NULL) {
        return NULL;
    }

    for ( /* void */ ; *drop; drop++) {
        json_object_del(copy, *drop);
    }

    s = json_dumps(copy, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(copy);

    return s;
}


static ngx_int_t
ngx_tthc_catalogue_load(u_char *data, size_t len, ngx_log_t *log)
{
    char                  *s;
    size_t                 i, n;
    json_t                *doc, *procs, *p, *v;
    json_error_t           err;
    ngx_tthc_procedure_t  *list, *pr;

    static const char  *summary_drop[] = { "components", "fees", "search",
                                           NULL };
    static const char  *detail_drop[] = { "search", NULL };

    doc = json_loadb((const char *) data, len, 0, &err);
    if (doc == NULL) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "tthc catalogue: invalid document: %s", err.text);
        return NGX_ERROR;
    }

    procs = json_object_get(doc, "procedures");
    if (!json_is_array(procs)) {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "tthc catalogue: document without \"procedures\"");
        json_decref(doc);
        return NGX_ERROR;
    }

    n = json_array_size(procs);

    list = calloc(n ? n : 1, sizeof(ngx_tthc_procedure_t));
    if (list == NULL) {
        json_decref(doc);
        return NGX_ERROR;
    }

    for (i = 0; i < n; i++) {
        p = json_array_get(procs, i);
        pr = &list[i];

        if (!json_is_object(p)
            || !json_is_string(json_object_get(p, "code")))
        {
            continue;
        }

        pr->obj = p;
        pr->code = ngx_tthc_dup_str(json_string_value(
                                        json_object_get(p, "code")));

        v = json_object_get(json_object_get(p, "agency"), "code");
        pr->agency = ngx_tthc_dup_str(json_string_value(v));

        v = json_object_get(json_object_get(p, "field"), "code");
        pr->field = ngx_tthc_dup_str(json_string_value(v));

        pr->search = ngx_tthc_dup_str(json_string_value(
                                          json_object_get(p, "search")));

        s = ngx_tthc_dump_without(p, summary_drop);
        if (s) {
            pr->summary_json.data = (u_char *) s;
            pr->summary_json.len = ngx_strlen(s);
        }

        s = ngx_tthc_dump_without(p, detail_drop);
        if (s) {
            pr->detail_json.data = (u_char *) s;
            pr->detail_json.len = ngx_strlen(s);
        }

        if (pr->summary_json.data == NULL || pr->detail_json.data == NULL) {
            for (n = 0; n <= i; n++) {
                free(list[n].summary_json.data);
                free(list[n].detail_json.data);
            }

            free(list);
            json_decref(doc);

            return NGX_ERROR;
        }
    }

    ngx_tthc_catalogue_free();

    ngx_tthc_cat.doc = doc;
    ngx_tthc_cat.procs = list;
    ngx_tthc_cat.nprocs = n;
    ngx_tthc_cat.loaded = 1;

    v = json_object_get(doc, "version");
    ngx_tthc_cat.version = json_is_integer(v) ? json_integer_value(v) : 0;

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "tthc catalogue: loaded version %L, %ui procedures",
                  (int64_t) ngx_tthc_cat.version, ngx_tthc_cat.nprocs);

    return NGX_OK;
}


ngx_tthc_procedure_t *
ngx_tthc_catalogue_find(u_char *code, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; i < ngx_tthc_cat.nprocs; i++) {
        if (ngx_tthc_cat.procs[i].code.len == len
            && ngx_strncmp(ngx_tthc_cat.procs[i].code.data, code, len) == 0)
        {
            return &ngx_tthc_cat.procs[i];
        }
    }

    return NULL;
}


/* freshness: GET version, and GET doc when it changed */

static void
ngx_tthc_catalogue_doc_reply(ngx_http_request_t *r, redisReply *reply,
    void *data)
{
    ngx_tthc_catalogue_ctx_t  *ctx = data;

    if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
        ctx->next(r, ngx_tthc_cat.loaded ? NGX_OK : NGX_ERROR);
        return;
    }

    if (ngx_tthc_catalogue_load((u_char *) reply->str, reply->len,
                                r->connection->log)
        == NGX_OK)
    {
        ngx_tthc_cat.checked = ngx_current_msec;
    }

    ctx->next(r, ngx_tthc_cat.loaded ? NGX_OK : NGX_ERROR);
}


static void
ngx_tthc_catalogue_version_reply(ngx_http_request_t *r, redisReply *reply,
    void *data)
{
    ngx_tthc_catalogue_ctx_t  *ctx = data;

    long long     version;
    const char   *argv[2];
    size_t        argvlen[2];

    if (reply == NULL
        || (reply->type != REDIS_REPLY_STRING && reply->type != REDIS_REPLY_NIL))
    {
        /* Redis unreachable: the last good copy keeps serving */
        ctx->next(r, ngx_tthc_cat.loaded ? NGX_OK : NGX_ERROR);
        return;
    }

    if (reply->type == REDIS_REPLY_NIL) {
        /* not published yet (or Redis lost it): workers republish */
        ctx->next(r, ngx_tthc_cat.loaded ? NGX_OK : NGX_DECLINED);
        return;
    }

    version = strtoll(reply->str, NULL, 10);

    if (ngx_tthc_cat.loaded && version == ngx_tthc_cat.version) {
        ngx_tthc_cat.checked = ngx_current_msec;
        ctx->next(r, NGX_OK);
        return;
    }

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = "tthc:{cat}:doc";
    argvlen[1] = sizeof("tthc:{cat}:doc") - 1;

    if (ngx_tthc_redis_command(r, ngx_tthc_catalogue_doc_reply, ctx, 2, argv,
                               argvlen)
        != NGX_OK)
    {
        ctx->next(r, ngx_tthc_cat.loaded ? NGX_OK : NGX_ERROR);
    }
}


/*
 * NGX_OK: the cached catalogue is fresh, go on synchronously.
 * NGX_DONE: a check is under way; next(r, rc) is called later with NGX_OK
 *     (catalogue usable), NGX_DECLINED (nothing published) or NGX_ERROR
 *     (Redis unreachable and no copy); r->main->count was incremented and
 *     next() must finalize the request.
 * NGX_ERROR: Redis is unreachable and there is no copy.
 */

ngx_int_t
ngx_tthc_catalogue_ensure(ngx_http_request_t *r, ngx_tthc_continue_pt next)
{
    const char                *argv[2];
    size_t                     argvlen[2];
    ngx_tthc_main_conf_t      *mcf;
    ngx_tthc_catalogue_ctx_t  *ctx;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (ngx_tthc_cat.loaded
        && ngx_current_msec - ngx_tthc_cat.checked < mcf->catalogue_ttl)
    {
        return NGX_OK;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_catalogue_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->next = next;

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = "tthc:{cat}:version";
    argvlen[1] = sizeof("tthc:{cat}:version") - 1;

    if (ngx_tthc_redis_command(r, ngx_tthc_catalogue_version_reply, ctx, 2,
                               argv, argvlen)
        != NGX_OK)
    {
        return ngx_tthc_cat.loaded ? NGX_OK : NGX_ERROR;
    }

    r->main->count++;

    return NGX_DONE;
}


/* GET /api/v1/procedures[/{code}] */

ngx_int_t
ngx_tthc_catalogue_handler(ngx_http_request_t *r, ngx_str_t *code)
{
    ngx_int_t   rc;
    ngx_str_t  *saved;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    saved = ngx_palloc(r->pool, sizeof(ngx_str_t));
    if (saved == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    *saved = *code;
    ngx_tthc_req(r)->data = saved;

    rc = ngx_tthc_catalogue_ensure(r, ngx_tthc_catalogue_continue);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    if (rc != NGX_OK) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    return ngx_tthc_catalogue_respond(r, code);
}


static void
ngx_tthc_catalogue_continue(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_str_t  *code;

    code = ngx_tthc_req(r)->data;

    if (rc == NGX_OK) {
        rc = ngx_tthc_catalogue_respond(r, code);

    } else if (rc == NGX_DECLINED) {
        /* nothing published yet: an empty catalogue, not an outage */
        if (code->len) {
            rc = ngx_tthc_send_error(r, "PROCEDURE_NOT_FOUND");

        } else {
            static u_char  empty[] =
                "{\"items\":[],\"total\":0,\"page\":1,\"page_size\":20}";

            rc = ngx_tthc_send_json(r, NGX_HTTP_OK, empty, sizeof(empty) - 1);
        }

    } else {
        rc = ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    ngx_tthc_finalize(r, rc);
}


static ngx_int_t
ngx_tthc_param_int(ngx_http_request_t *r, const char *name, ngx_int_t def,
    ngx_int_t min, ngx_int_t max, ngx_int_t *out)
{
    ngx_int_t  n;
    ngx_str_t  v;

    if (ngx_tthc_arg(r, name, &v) != NGX_OK || v.len == 0) {
        *out = def;
        return NGX_OK;
    }

    n = ngx_atoi(v.data, v.len);
    if (n == NGX_ERROR || n < min || n > max) {
        return NGX_ERROR;
    }

    *out = n;

    return NGX_OK;
}


static ngx_int_t
ngx_tthc_catalogue_respond(ngx_http_request_t *r, ngx_str_t *code)
{
    u_char                *p, *buf, *q;
    size_t                 len, qlen;
    ngx_int_t              page, size;
    ngx_str_t              agency, field, text;
    ngx_uint_t             i, total, first, last;
    ngx_tthc_procedure_t  *pr, **hits;

    if (code->len) {
        pr = ngx_tthc_catalogue_find(code->data, code->len);
        if (pr == NULL) {
            return ngx_tthc_send_error(r, "PROCEDURE_NOT_FOUND");
        }

        return ngx_tthc_send_json(r, NGX_HTTP_OK, pr->detail_json.data,
                                  pr->detail_json.len);
    }

    if (ngx_tthc_param_int(r, "page", 1, 1, 1000000, &page) != NGX_OK) {
        return ngx_tthc_send_error_field(r, "INVALID_PARAMETER", "page");
    }

    if (ngx_tthc_param_int(r, "page_size", NGX_TTHC_PAGE_SIZE_DEFAULT, 1,
                           NGX_TTHC_PAGE_SIZE_MAX, &size)
        != NGX_OK)
    {
        return ngx_tthc_send_error_field(r, "INVALID_PARAMETER", "page_size");
    }

    if (ngx_tthc_arg(r, "agency", &agency) == NGX_ERROR
        || ngx_tthc_arg(r, "field", &field) == NGX_ERROR
        || ngx_tthc_arg(r, "q", &text) == NGX_ERROR)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (text.len > 256) {
        return ngx_tthc_send_error_field(r, "INVALID_PARAMETER", "q");
    }

    q = NULL;
    qlen = 0;

    if (text.len) {
        q = ngx_pnalloc(r->pool, text.len * 2 + 1);
        if (q == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        qlen = tthc_text_fold((const char *) text.data, text.len, (char *) q,
                              text.len * 2 + 1);
    }

    hits = ngx_palloc(r->pool, (ngx_tthc_cat.nprocs + 1) * sizeof(void *));
    if (hits == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    total = 0;

    for (i = 0; i < ngx_tthc_cat.nprocs; i++) {
        pr = &ngx_tthc_cat.procs[i];

        if (pr->obj == NULL) {
            continue;
        }

        if (agency.len
            && (pr->agency.len != agency.len
                || ngx_strncmp(pr->agency.data, agency.data, agency.len) != 0))
        {
            continue;
        }

        if (field.len
            && (pr->field.len != field.len
                || ngx_strncmp(pr->field.data, field.data, field.len) != 0))
        {
            continue;
        }

        if (qlen
            && ngx_strnstr(pr->search.data, (char *) q, pr->search.len)
               == NULL)
        {
            continue;
        }

        hits[total++] = pr;
    }

    first = (ngx_uint_t) (page - 1) * size;
    last = ngx_min(first + size, total);

    len = sizeof("{\"items\":[],\"total\":,\"page\":,\"page_size\":}") - 1
          + 3 * NGX_INT_T_LEN;

    for (i = first; i < last; i++) {
        len += hits[i]->summary_json.len + 1;
    }

    buf = ngx_pnalloc(r->pool, len);
    if (buf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_cpymem(buf, "{\"items\":[", sizeof("{\"items\":[") - 1);

    for (i = first; i < last; i++) {
        if (i != first) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, hits[i]->summary_json.data,
                       hits[i]->summary_json.len);
    }

    p = ngx_sprintf(p, "],\"total\":%ui,\"page\":%i,\"page_size\":%i}",
                    total, page, size);

    return ngx_tthc_send_json(r, NGX_HTTP_OK, buf, p - buf);
}
