
/*
 * The edge endpoints partners call, and the applicant's payment start
 * (issue 5; docs/contracts-exchange.md "Edge endpoints partners call",
 * "Applicant payment"; DOMAIN X3, A8):
 *
 *   POST /api/v1/partners/postal/tracking      RPC partner.postal.tracking
 *   POST /api/v1/partners/payment/voucher      RPC partner.payment.voucher
 *   POST /api/v1/me/dossiers/{code}/payment    RPC me.payment.start
 *
 * Partner routes have no session and no CSRF token (the router sends them
 * here before its CSRF check): the partners authenticate each message by
 * its signature, which the workers verify.  The edge only requires an XML
 * content type (415), a body of at most 64 KiB, refused with 413 as soon as
 * it passes the limit (chunked included; it is read into memory as it
 * arrives, never spooled), and a non-empty one (400 XML_MALFORMED).  It never
 * parses the XML: the body goes base64-encoded to a worker with the
 * signature headers and the client address, and the worker's verdict is
 * the answer (200 {"ok":true} or the error code's status).
 */


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_code.h"


#define NGX_TTHC_PARTNER_BODY_MAX   (64 * 1024)
#define NGX_TTHC_PARTNER_HDR_MAX    256


typedef struct {
    const char                 *type;          /* RPC type */
} ngx_tthc_partner_ctx_t;


static void ngx_tthc_partner_body_done(ngx_http_request_t *r);
static void ngx_tthc_partner_reply(ngx_http_request_t *r, json_t *reply,
    void *data);
static void ngx_tthc_me_payment_reply(ngx_http_request_t *r, json_t *reply,
    void *data);


/* application/xml or text/xml, parameters (charset) allowed */

static ngx_uint_t
ngx_tthc_partner_xml_type(ngx_http_request_t *r)
{
    u_char  *p, *last;
    size_t   len;

    if (r->headers_in.content_type == NULL) {
        return 0;
    }

    p = r->headers_in.content_type->value.data;
    last = p + r->headers_in.content_type->value.len;

    while (p < last && (*p == ' ' || *p == '\t')) {
        p++;
    }

    len = 0;

    while (p + len < last && p[len] != ';' && p[len] != ' '
           && p[len] != '\t')
    {
        len++;
    }

    return (len == sizeof("application/xml") - 1
            && ngx_strncasecmp(p, (u_char *) "application/xml", len) == 0)
           || (len == sizeof("text/xml") - 1
               && ngx_strncasecmp(p, (u_char *) "text/xml", len) == 0);
}


/* a request header's value as a JSON string, or null (absent, too long) */

static json_t *
ngx_tthc_partner_header(ngx_http_request_t *r, const char *name)
{
    ngx_str_t  v;

    if (ngx_tthc_header_find(r, name, &v) != NGX_OK
        || v.len == 0 || v.len > NGX_TTHC_PARTNER_HDR_MAX)
    {
        return json_null();
    }

    return json_stringn((char *) v.data, v.len);
}


/* POST /api/v1/partners/{postal/tracking|payment/voucher} */

ngx_int_t
ngx_tthc_partner_handler(ngx_http_request_t *r, ngx_str_t *seg, ngx_uint_t n)
{
    const char              *type;
    ngx_tthc_partner_ctx_t  *ctx;

    type = NULL;

    if (n == 3 && ngx_tthc_seg_equal(&seg[1], "postal")
        && ngx_tthc_seg_equal(&seg[2], "tracking"))
    {
        type = "partner.postal.tracking";

    } else if (n == 3 && ngx_tthc_seg_equal(&seg[1], "payment")
               && ngx_tthc_seg_equal(&seg[2], "voucher"))
    {
        type = "partner.payment.voucher";
    }

    if (type == NULL) {
        return ngx_tthc_send_error(r, "NOT_FOUND");
    }

    /* POST only: checked by the router (405 with Allow) */

    if (!ngx_tthc_partner_xml_type(r)) {
        return ngx_tthc_send_error(r, "UNSUPPORTED_CONTENT_TYPE");
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_tthc_partner_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->type = type;
    ngx_tthc_req(r)->data = ctx;

    /* the streamed reader: 413 as soon as the body passes the limit */

    return ngx_tthc_read_json_body(r, NGX_TTHC_PARTNER_BODY_MAX,
                                   ngx_tthc_partner_body_done);
}


static void
ngx_tthc_partner_body_done(ngx_http_request_t *r)
{
    char                    *b64;
    size_t                   blen;
    json_t                  *in;
    ngx_tthc_req_t          *req;
    ngx_tthc_json_body_t    *jb;
    ngx_tthc_partner_ctx_t  *ctx;

    req = ngx_tthc_req(r);
    ctx = req->data;
    jb = req->json_body;

    if (jb == NULL || jb->len == 0) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "XML_MALFORMED"));
        return;
    }

    blen = sodium_base64_ENCODED_LEN(jb->len, sodium_base64_VARIANT_ORIGINAL);

    b64 = ngx_pnalloc(r->pool, blen);
    if (b64 == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    sodium_bin2base64(b64, blen, jb->buf, jb->len,
                      sodium_base64_VARIANT_ORIGINAL);

    in = json_pack("{s:s, s:o, s:o, s:s%}",
                   "body_b64", b64,
                   "timestamp", ngx_tthc_partner_header(r, "X-Tthc-Timestamp"),
                   "signature", ngx_tthc_partner_header(r, "X-Tthc-Signature"),
                   "ip", r->connection->addr_text.data,
                   r->connection->addr_text.len);

    if (in == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "tthc partner: %s, %uz bytes", ctx->type, jb->len);

    if (ngx_tthc_rpc_call(r, ctx->type, in, ngx_tthc_partner_reply, ctx)
        != NGX_OK)
    {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    /* the request stays alive on the count the body reader took */
}


static void
ngx_tthc_partner_reply(ngx_http_request_t *r, json_t *reply, void *data)
{
    static u_char  ok[] = "{\"ok\":true}";

    if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
        ngx_tthc_finalize(r, ngx_tthc_send_rpc_error(r, reply));
        return;
    }

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_OK, ok,
                                            sizeof(ok) - 1));
}


/* POST /api/v1/me/dossiers/{code}/payment (applicant session; CSRF checked
 * by the router) -> {"payment_url","amount","transaction"} */

ngx_int_t
ngx_tthc_me_payment_handler(ngx_http_request_t *r, ngx_str_t *code)
{
    json_t          *in, *actor;
    ngx_int_t        rc;
    const char      *refusal;

    refusal = ngx_tthc_session_refusal(r, 1, 0);
    if (refusal != NULL) {
        return ngx_tthc_send_error(r, refusal);
    }

    if (tthc_code_parse((const char *) code->data, code->len, NULL) != 0) {
        return ngx_tthc_send_error(r, "INVALID_DOSSIER_CODE");
    }

    /* the body, if any, carries nothing: the dossier is in the path */

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    actor = ngx_tthc_actor(r);
    if (actor == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    in = json_pack("{s:o, s:s%}", "actor", actor,
                   "code", code->data, code->len);
    if (in == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_tthc_rpc_call(r, "me.payment.start", in,
                          ngx_tthc_me_payment_reply, NULL)
        != NGX_OK)
    {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    r->main->count++;

    return NGX_DONE;
}


static void
ngx_tthc_me_payment_reply(ngx_http_request_t *r, json_t *reply, void *data)
{
    ngx_tthc_finalize(r, ngx_tthc_send_rpc_reply(r, reply, NGX_HTTP_OK));
}
