
/*
 * GET /api/v1/dossiers/{code}: the public status view (DOMAIN A4), a JSON
 * document the workers keep under tthc:d:{CODE}:view with the applicant's
 * personal data already masked; served verbatim.  GET /healthz.
 */


#include "ngx_tthc_module.h"

#include "tthc_code.h"


static void
ngx_tthc_status_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_finalize(r, ngx_tthc_send_stored(r, reply, "DOSSIER_NOT_FOUND",
                                              NULL));
}


ngx_int_t
ngx_tthc_status_handler(ngx_http_request_t *r, ngx_str_t *code)
{
    u_char       *key, *p;
    ngx_int_t     rc;
    tthc_code_t   parsed;
    const char   *argv[2];
    size_t        argvlen[2];

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (tthc_code_parse((const char *) code->data, code->len, &parsed) != 0) {
        return ngx_tthc_send_error(r, "INVALID_DOSSIER_CODE");
    }

    key = ngx_pnalloc(r->pool, code->len + sizeof("tthc:d:{}:view"));
    if (key == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(key, "tthc:d:{%V}:view", code);

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) key;
    argvlen[1] = p - key;

    if (ngx_tthc_redis_command(r, ngx_tthc_status_reply, NULL, 2, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_tthc_health_reply(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_int_t  rc;

    static u_char  ok[] = "{\"status\":\"ok\"}";

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        rc = ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");

    } else {
        rc = ngx_tthc_send_json(r, NGX_HTTP_OK, ok, sizeof(ok) - 1);
    }

    ngx_tthc_finalize(r, rc);
}


ngx_int_t
ngx_tthc_health_handler(ngx_http_request_t *r)
{
    const char  *argv[1];
    size_t       argvlen[1];

    argv[0] = "PING";
    argvlen[0] = 4;

    if (ngx_tthc_redis_command(r, ngx_tthc_health_reply, NULL, 1, argv,
                               argvlen)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}
