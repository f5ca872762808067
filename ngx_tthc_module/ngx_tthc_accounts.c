
/*
 * Officials' accounts (issue 3; 000 Art.10.1; docs/contracts-identity.md):
 *
 *   GET   /api/v1/staff/accounts          list (own agency, or all)
 *   POST  /api/v1/staff/accounts          create
 *   PATCH /api/v1/staff/accounts/{id}     move, lock, unlock, roles
 *
 * The edge lets only agency administrators and system administrators in;
 * the workers decide each case with the same scope rule
 * (common/tthc_scope.c) against the accounts as MariaDB knows them, write
 * the change and its audit entry in one transaction, and reply.
 */


#include "ngx_tthc_module.h"

#include "tthc_scope.h"


#define NGX_TTHC_ACCOUNTS_BODY_MAX  16384


typedef struct {
    ngx_str_t                   id;
    const char                 *type;
    ngx_uint_t                  created;
} ngx_tthc_accounts_ctx_t;


static void
ngx_tthc_accounts_reply(ngx_http_request_t *r, json_t *reply, void *data)
{
    ngx_tthc_accounts_ctx_t  *ctx = data;

    ngx_tthc_finalize(r, ngx_tthc_send_rpc_reply(r, reply,
                                                 ctx->created ? NGX_HTTP_CREATED
                                                              : NGX_HTTP_OK));
}


static ngx_int_t
ngx_tthc_accounts_call(ngx_http_request_t *r, ngx_tthc_accounts_ctx_t *ctx,
    json_t *in)
{
    json_t     *req, *actor;
    ngx_int_t   id;

    actor = ngx_tthc_actor(r);
    if (actor == NULL) {
        return NGX_ERROR;
    }

    req = json_pack("{s:o}", "actor", actor);
    if (req == NULL) {
        return NGX_ERROR;
    }

    if (in) {
        json_object_set(req, "account", in);
    }

    if (ctx->id.len) {
        id = ngx_atoi(ctx->id.data, ctx->id.len);
        json_object_set_new(req, "id", json_integer(id));
    }

    return ngx_tthc_rpc_call(r, ctx->type, req, ngx_tthc_accounts_reply, ctx);
}


static void
ngx_tthc_accounts_body(ngx_http_request_t *r)
{
    json_t                   *in;
    ngx_tthc_accounts_ctx_t  *ctx;

    ctx = ngx_tthc_req(r)->data;

    in = ngx_tthc_body_json(r);

    if (in == NULL || !json_is_object(in)) {
        if (in) {
            json_decref(in);
        }

        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "MALFORMED_JSON"));
        return;
    }

    if (ngx_tthc_accounts_call(r, ctx, in) != NGX_OK) {
        json_decref(in);
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    json_decref(in);

    /* the request stays alive on the count the body reader took */
}


ngx_int_t
ngx_tthc_accounts_handler(ngx_http_request_t *r, ngx_str_t *id)
{
    ngx_int_t                 rc;
    const char               *refusal;
    ngx_tthc_req_t           *req;
    ngx_tthc_accounts_ctx_t  *ctx;

    refusal = ngx_tthc_session_refusal(r, 0,
                                       TTHC_ROLE_AGENCY_ADMIN|TTHC_ROLE_SYSADMIN);
    if (refusal != NULL) {
        return ngx_tthc_send_error(r, refusal);
    }

    req = ngx_tthc_req(r);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_accounts_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    req->data = ctx;

    if (id) {
        if (ngx_atoi(id->data, id->len) <= 0 || id->len > 18) {
            return ngx_tthc_send_error(r, "ACCOUNT_NOT_FOUND");
        }

        ctx->id = *id;
        ctx->type = "staff.accounts.update";

        return ngx_tthc_read_json_body(r, NGX_TTHC_ACCOUNTS_BODY_MAX,
                                       ngx_tthc_accounts_body);
    }

    if (r->method == NGX_HTTP_POST) {
        ctx->type = "staff.accounts.create";
        ctx->created = 1;

        return ngx_tthc_read_json_body(r, NGX_TTHC_ACCOUNTS_BODY_MAX,
                                       ngx_tthc_accounts_body);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->type = "staff.accounts.list";

    if (ngx_tthc_accounts_call(r, ctx, NULL) != NGX_OK) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}
