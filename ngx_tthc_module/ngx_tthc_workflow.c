
/*
 * The handling workflow at the edge (issue 4; DOMAIN H1-H5;
 * docs/contracts-workflow.md "Edge API"):
 *
 *   POST /api/v1/staff/dossiers/{code}/actions     RPC staff.action
 *   POST /api/v1/staff/actions                     RPC staff.actions.batch
 *   POST /api/v1/staff/dossiers                    RPC staff.register (201)
 *   GET  /api/v1/staff/procedures/{code}/process   RPC staff.process.get
 *   PUT  /api/v1/staff/procedures/{code}/process   RPC staff.process.put
 *   POST /api/v1/me/dossiers/{code}/actions        RPC me.action
 *
 * All alike at the edge: who may come in (the kind of session and its
 * roles), the JSON body (an object, 64 KiB at most), a few checks of its
 * shape, then the body with the actor ("actor") and the path's parameters
 * ("code" or "procedure", which override the body's) goes to the workers as
 * a request/reply job, and their reply is passed through.  The rules
 * themselves (who holds the step, which transition is legal, deadlines,
 * uploaded files) are decided by the workers against MariaDB.
 */


#include "ngx_tthc_module.h"

#include "tthc_code.h"
#include "tthc_scope.h"


#define NGX_TTHC_WF_BODY_MAX     (64 * 1024)
#define NGX_TTHC_WF_BATCH_MAX    100
#define NGX_TTHC_WF_ACTION_MAX   32
#define NGX_TTHC_WF_IDEM_MAX     64
#define NGX_TTHC_PROCEDURE_MAX   64


typedef const char *(*ngx_tthc_wf_check_pt)(json_t *in, const char **field);


typedef struct {
    const char                 *type;          /* RPC type */
    ngx_uint_t                  status;        /* HTTP status of a success */
    ngx_str_t                   code;          /* path: dossier code */
    ngx_str_t                   procedure;     /* path: procedure code */
    ngx_tthc_wf_check_pt        check;         /* body shape, or NULL */
} ngx_tthc_wf_ctx_t;


static void ngx_tthc_wf_body_done(ngx_http_request_t *r);
static void ngx_tthc_wf_reply(ngx_http_request_t *r, json_t *reply,
    void *data);


/* body checks: the edge refuses what is malformed, the workers the rest */

static ngx_uint_t
ngx_tthc_wf_word(json_t *v, size_t max, ngx_uint_t idem)
{
    u_char       c;
    size_t       i, len;
    const char  *s;

    if (!json_is_string(v)) {
        return 0;
    }

    s = json_string_value(v);
    len = json_string_length(v);

    if (len == 0 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = (u_char) s[i];

        if ((c >= 'a' && c <= 'z') || c == '_'
            || (idem && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                         || c == '-')))
        {
            continue;
        }

        return 0;
    }

    return 1;
}


static const char *
ngx_tthc_wf_check_idem(json_t *in, const char **field)
{
    json_t  *v;

    v = json_object_get(in, "idempotency_key");

    if (v && !json_is_null(v)
        && !ngx_tthc_wf_word(v, NGX_TTHC_WF_IDEM_MAX, 1))
    {
        *field = "idempotency_key";
        return "INVALID_REQUEST";
    }

    return NULL;
}


static const char *
ngx_tthc_wf_check_action(json_t *in, const char **field)
{
    if (!ngx_tthc_wf_word(json_object_get(in, "action"),
                          NGX_TTHC_WF_ACTION_MAX, 0))
    {
        *field = "action";
        return "INVALID_REQUEST";
    }

    return ngx_tthc_wf_check_idem(in, field);
}


static const char *
ngx_tthc_wf_check_batch(json_t *in, const char **field)
{
    size_t       i, n;
    json_t      *codes, *c;
    const char  *err;

    err = ngx_tthc_wf_check_action(in, field);
    if (err) {
        return err;
    }

    *field = "codes";

    codes = json_object_get(in, "codes");
    n = json_array_size(codes);

    if (!json_is_array(codes) || n == 0) {
        return "INVALID_REQUEST";
    }

    if (n > NGX_TTHC_WF_BATCH_MAX) {
        return "TOO_MANY_DOSSIERS";
    }

    /* a malformed code is that dossier's error in the results */

    for (i = 0; i < n; i++) {
        c = json_array_get(codes, i);

        if (!json_is_string(c)) {
            return "INVALID_REQUEST";
        }
    }

    *field = NULL;

    return NULL;
}


/* a procedure code as the catalogue has them ("1.000001.000.00.00.H41") */

ngx_uint_t
ngx_tthc_procedure_code_valid(ngx_str_t *code)
{
    u_char      c;
    ngx_uint_t  i;

    if (code->len == 0 || code->len > NGX_TTHC_PROCEDURE_MAX) {
        return 0;
    }

    for (i = 0; i < code->len; i++) {
        c = code->data[i];

        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z') || c == '.' || c == '-' || c == '_'))
        {
            return 0;
        }
    }

    return 1;
}


/* the job: the body (consumed) + actor + path parameters */

static ngx_int_t
ngx_tthc_wf_call(ngx_http_request_t *r, ngx_tthc_wf_ctx_t *ctx, json_t *in)
{
    json_t  *actor;

    actor = ngx_tthc_actor(r);
    if (actor == NULL) {
        json_decref(in);
        return NGX_ERROR;
    }

    if (json_object_set_new(in, "actor", actor) != 0) {
        json_decref(in);
        return NGX_ERROR;
    }

    if (ctx->code.len
        && json_object_set_new(in, "code",
                               json_stringn((char *) ctx->code.data,
                                            ctx->code.len))
           != 0)
    {
        json_decref(in);
        return NGX_ERROR;
    }

    if (ctx->procedure.len
        && json_object_set_new(in, "procedure",
                               json_stringn((char *) ctx->procedure.data,
                                            ctx->procedure.len))
           != 0)
    {
        json_decref(in);
        return NGX_ERROR;
    }

    return ngx_tthc_rpc_call(r, ctx->type, in, ngx_tthc_wf_reply, ctx);
}


static ngx_int_t
ngx_tthc_wf_start(ngx_http_request_t *r, const char *type, ngx_uint_t status,
    ngx_tthc_wf_check_pt check, ngx_str_t *code, ngx_str_t *procedure)
{
    json_t             *in;
    ngx_int_t           rc;
    ngx_tthc_wf_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_wf_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->type = type;
    ctx->status = status;
    ctx->check = check;

    if (code) {
        ctx->code = *code;
    }

    if (procedure) {
        ctx->procedure = *procedure;
    }

    ngx_tthc_req(r)->data = ctx;

    if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        in = json_object();
        if (in == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (ngx_tthc_wf_call(r, ctx, in) != NGX_OK) {
            return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
        }

        r->main->count++;

        return NGX_DONE;
    }

    return ngx_tthc_read_json_body(r, NGX_TTHC_WF_BODY_MAX,
                                   ngx_tthc_wf_body_done);
}


static void
ngx_tthc_wf_body_done(ngx_http_request_t *r)
{
    json_t             *in;
    const char         *err, *field;
    ngx_tthc_wf_ctx_t  *ctx;

    ctx = ngx_tthc_req(r)->data;

    in = ngx_tthc_body_json(r);

    if (in == NULL || !json_is_object(in)) {
        if (in) {
            json_decref(in);
        }

        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "MALFORMED_JSON"));
        return;
    }

    if (ctx->check) {
        field = NULL;
        err = ctx->check(in, &field);

        if (err) {
            json_decref(in);
            ngx_tthc_finalize(r, ngx_tthc_send_error_field(r, err, field));
            return;
        }
    }

    if (ngx_tthc_wf_call(r, ctx, in) != NGX_OK) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    /* the request stays alive on the count the body reader took */
}


static void
ngx_tthc_wf_reply(ngx_http_request_t *r, json_t *reply, void *data)
{
    ngx_tthc_wf_ctx_t  *ctx = data;

    u_char           *p;
    json_t           *code;
    ngx_table_elt_t  *h;

    /* a registered dossier: where it is read from now on */

    code = json_object_get(reply, "code");

    if (ctx->status == NGX_HTTP_CREATED
        && json_is_true(json_object_get(reply, "ok"))
        && json_is_string(code)
        && tthc_code_parse(json_string_value(code), json_string_length(code),
                           NULL)
           == 0)
    {
        h = ngx_list_push(&r->headers_out.headers);
        p = ngx_pnalloc(r->pool, sizeof("/api/v1/staff/dossiers/") - 1
                                 + json_string_length(code));

        if (h == NULL || p == NULL) {
            ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Location");
        h->value.data = p;
        p = ngx_cpymem(p, "/api/v1/staff/dossiers/",
                       sizeof("/api/v1/staff/dossiers/") - 1);
        p = ngx_cpymem(p, json_string_value(code), json_string_length(code));
        h->value.len = p - h->value.data;
    }

    ngx_tthc_finalize(r, ngx_tthc_send_rpc_reply(r, reply, ctx->status));
}


/* the routes */

ngx_int_t
ngx_tthc_staff_action_handler(ngx_http_request_t *r, ngx_str_t *code)
{
    const char  *refusal;

    refusal = ngx_tthc_session_refusal(r, 0, TTHC_ROLES_HANDLING);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    if (tthc_code_parse((const char *) code->data, code->len, NULL) != 0) {
        return ngx_tthc_send_error(r, "INVALID_DOSSIER_CODE");
    }

    return ngx_tthc_wf_start(r, "staff.action", NGX_HTTP_OK,
                             ngx_tthc_wf_check_action, code, NULL);
}


ngx_int_t
ngx_tthc_staff_batch_handler(ngx_http_request_t *r)
{
    const char  *refusal;

    refusal = ngx_tthc_session_refusal(r, 0, TTHC_ROLES_HANDLING);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    return ngx_tthc_wf_start(r, "staff.actions.batch", NGX_HTTP_OK,
                             ngx_tthc_wf_check_batch, NULL, NULL);
}


ngx_int_t
ngx_tthc_staff_register_handler(ngx_http_request_t *r)
{
    const char  *refusal;

    refusal = ngx_tthc_session_refusal(r, 0, TTHC_ROLES_HANDLING);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    return ngx_tthc_wf_start(r, "staff.register", NGX_HTTP_CREATED,
                             ngx_tthc_wf_check_idem, NULL, NULL);
}


ngx_int_t
ngx_tthc_staff_process_handler(ngx_http_request_t *r, ngx_str_t *procedure)
{
    ngx_uint_t   put;
    const char  *refusal;

    put = (r->method == NGX_HTTP_PUT);

    refusal = ngx_tthc_session_refusal(r, 0, put ? (TTHC_ROLE_AGENCY_ADMIN
                                               |TTHC_ROLE_SYSADMIN)
                                            : 0);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    if (!ngx_tthc_procedure_code_valid(procedure)) {
        return ngx_tthc_send_error(r, "PROCEDURE_NOT_FOUND");
    }

    return ngx_tthc_wf_start(r, put ? "staff.process.put"
                                    : "staff.process.get",
                             NGX_HTTP_OK, NULL, NULL, procedure);
}


ngx_int_t
ngx_tthc_me_action_handler(ngx_http_request_t *r, ngx_str_t *code)
{
    const char  *refusal;

    refusal = ngx_tthc_session_refusal(r, 1, 0);
    if (refusal) {
        return ngx_tthc_send_error(r, refusal);
    }

    if (tthc_code_parse((const char *) code->data, code->len, NULL) != 0) {
        return ngx_tthc_send_error(r, "INVALID_DOSSIER_CODE");
    }

    return ngx_tthc_wf_start(r, "me.action", NGX_HTTP_OK,
                             ngx_tthc_wf_check_action, code, NULL);
}
