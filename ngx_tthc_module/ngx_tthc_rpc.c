
/*
 * Request/reply jobs (docs/contracts-identity.md "RPC").
 *
 * What the edge must not do itself (MariaDB, argon2id, outbound HTTP) goes
 * to the workers as a job on tthc:{jobs}:rpc; the reply comes back under
 * tthc:rpc:{REQID}, which the edge polls with a growing interval (5 ms,
 * 10, 20, ... 250 ms) until the deadline.  Polling keeps the one Redis
 * connection per nginx worker free of blocking pops and subscriptions, and
 * a reply that was written while the edge was reconnecting is still found.
 *
 * Payloads and replies are sealed with libsodium's secretbox under a key
 * shared with the workers, so passwords, authorization codes and session
 * ids never sit in clear in Redis or its append-only file.
 */


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_scope.h"


#define NGX_TTHC_RPC_POLL_FIRST  5
#define NGX_TTHC_RPC_POLL_MAX    250


typedef struct {
    ngx_http_request_t         *request;
    ngx_tthc_rpc_handler_pt     handler;
    void                       *data;
    u_char                      key[sizeof("tthc:rpc:{}") + 32];
    size_t                      key_len;
    ngx_msec_t                  deadline;
    ngx_msec_t                  delay;
    ngx_event_t                 timer;
} ngx_tthc_rpc_t;


static void ngx_tthc_rpc_poll(ngx_event_t *ev);


/* base64(nonce || secretbox(plain)), standard alphabet */

static ngx_int_t
ngx_tthc_rpc_seal(ngx_http_request_t *r, const u_char *key, const char *plain,
    size_t len, ngx_str_t *out)
{
    u_char  *box;
    size_t   blen, olen;

    blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;

    box = ngx_pnalloc(r->pool, blen);
    if (box == NULL) {
        return NGX_ERROR;
    }

    randombytes_buf(box, crypto_secretbox_NONCEBYTES);

    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
                          (const u_char *) plain, len, box, key);

    olen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);

    out->data = ngx_pnalloc(r->pool, olen);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    sodium_bin2base64((char *) out->data, olen, box, blen,
                      sodium_base64_VARIANT_ORIGINAL);
    out->len = olen - 1;

    return NGX_OK;
}


static json_t *
ngx_tthc_rpc_unseal(ngx_http_request_t *r, const u_char *key, const char *in,
    size_t len)
{
    u_char   *box, *plain;
    size_t    blen;
    json_t   *j;

    box = ngx_pnalloc(r->pool, len);
    if (box == NULL) {
        return NULL;
    }

    if (sodium_base642bin(box, len, in, len, NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL)
        != 0
        || blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    {
        return NULL;
    }

    plain = ngx_pnalloc(r->pool, blen);
    if (plain == NULL) {
        return NULL;
    }

    if (crypto_secretbox_open_easy(plain, box + crypto_secretbox_NONCEBYTES,
                                   blen - crypto_secretbox_NONCEBYTES, box,
                                   key)
        != 0)
    {
        return NULL;
    }

    blen -= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;

    j = json_loadb((const char *) plain, blen, 0, NULL);

    sodium_memzero(plain, blen);

    return j;
}


static void
ngx_tthc_rpc_cleanup(void *data)
{
    ngx_tthc_rpc_t  *rpc = data;

    if (rpc->timer.timer_set) {
        ngx_del_timer(&rpc->timer);
    }
}


static void
ngx_tthc_rpc_done(ngx_tthc_rpc_t *rpc, json_t *reply)
{
    ngx_http_request_t  *r;

    r = rpc->request;

    rpc->handler(r, reply, rpc->data);

    if (reply) {
        json_decref(reply);
    }
}


static void
ngx_tthc_rpc_got(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_rpc_t  *rpc = data;

    json_t                *j;
    const char            *argv[2];
    size_t                 argvlen[2];
    ngx_tthc_main_conf_t  *mcf;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_rpc_done(rpc, NULL);
        return;
    }

    if (reply->type != REDIS_REPLY_STRING) {

        if (ngx_current_msec >= rpc->deadline) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "tthc rpc: no reply before the deadline");
            ngx_tthc_rpc_done(rpc, NULL);
            return;
        }

        rpc->delay = ngx_min(rpc->delay * 2, NGX_TTHC_RPC_POLL_MAX);
        ngx_add_timer(&rpc->timer, rpc->delay);
        return;
    }

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    j = ngx_tthc_rpc_unseal(r, mcf->rpc_key, reply->str, reply->len);

    if (j == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "tthc rpc: a reply that does not open with the key");
    }

    argv[0] = "DEL";
    argvlen[0] = 3;
    argv[1] = (const char *) rpc->key;
    argvlen[1] = rpc->key_len;

    (void) ngx_tthc_redis_fire(2, argv, argvlen);

    ngx_tthc_rpc_done(rpc, j);
}


static void
ngx_tthc_rpc_poll(ngx_event_t *ev)
{
    ngx_tthc_rpc_t  *rpc = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;
    const char          *argv[2];
    size_t               argvlen[2];

    r = rpc->request;
    c = r->connection;

    argv[0] = "GET";
    argvlen[0] = 3;
    argv[1] = (const char *) rpc->key;
    argvlen[1] = rpc->key_len;

    if (ngx_tthc_redis_command(r, ngx_tthc_rpc_got, rpc, 2, argv, argvlen)
        != NGX_OK)
    {
        ngx_tthc_rpc_done(rpc, NULL);
    }

    ngx_http_run_posted_requests(c);
}


static void
ngx_tthc_rpc_queued(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_rpc_t  *rpc = data;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        ngx_tthc_rpc_done(rpc, NULL);
        return;
    }

    ngx_add_timer(&rpc->timer, rpc->delay);
}


/*
 * Queues a request; payload (an object, consumed) gets "deadline".  On
 * NGX_OK handler(r, reply, data) is called exactly once, with the opened
 * reply or NULL (Redis down, no reply in time, bad seal); the caller keeps
 * the request alive (r->main->count++) and the handler finalizes it.
 */

ngx_int_t
ngx_tthc_rpc_call(ngx_http_request_t *r, const char *type, json_t *payload,
    ngx_tthc_rpc_handler_pt handler, void *data)
{
    u_char                 rnd[16], hex[33];
    char                  *plain;
    ngx_str_t              sealed;
    const char            *argv[NGX_TTHC_JOB_ARGC];
    size_t                 argvlen[NGX_TTHC_JOB_ARGC];
    ngx_int_t              rc;
    ngx_tthc_rpc_t        *rpc;
    ngx_pool_cleanup_t    *cln;
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (!mcf->rpc_key_set) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tthc rpc: \"tthc_rpc_key_file\" is not set");
        json_decref(payload);
        return NGX_ERROR;
    }

    rpc = ngx_pcalloc(r->pool, sizeof(ngx_tthc_rpc_t));
    cln = ngx_pool_cleanup_add(r->pool, 0);

    if (rpc == NULL || cln == NULL) {
        json_decref(payload);
        return NGX_ERROR;
    }

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex((char *) hex, sizeof(hex), rnd, sizeof(rnd));

    rpc->request = r;
    rpc->handler = handler;
    rpc->data = data;
    rpc->key_len = ngx_sprintf(rpc->key, "tthc:rpc:{%s}", hex) - rpc->key;
    rpc->deadline = ngx_current_msec + mcf->rpc_timeout;
    rpc->delay = NGX_TTHC_RPC_POLL_FIRST;

    rpc->timer.handler = ngx_tthc_rpc_poll;
    rpc->timer.data = rpc;
    rpc->timer.log = r->connection->log;

    cln->handler = ngx_tthc_rpc_cleanup;
    cln->data = rpc;

    json_object_set_new(payload, "deadline",
                        json_integer((json_int_t) ngx_time() * 1000
                                     + mcf->rpc_timeout));

    plain = json_dumps(payload, JSON_COMPACT);
    json_decref(payload);

    if (plain == NULL) {
        return NGX_ERROR;
    }

    rc = ngx_tthc_rpc_seal(r, mcf->rpc_key, plain, ngx_strlen(plain),
                           &sealed);

    sodium_memzero(plain, ngx_strlen(plain));
    free(plain);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    (void) ngx_tthc_job_argv(argv, argvlen, "tthc:{jobs}:rpc", type, hex, 32,
                             sealed.data, sealed.len);

    return ngx_tthc_redis_command(r, ngx_tthc_rpc_queued, rpc,
                                  NGX_TTHC_JOB_ARGC, argv, argvlen);
}


/* a reply {"ok":false,"error":CODE,"field":F} or none at all */

ngx_int_t
ngx_tthc_send_rpc_error(ngx_http_request_t *r, json_t *reply)
{
    const char  *code, *field;

    if (reply == NULL) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    code = json_string_value(json_object_get(reply, "error"));
    field = json_string_value(json_object_get(reply, "field"));

    return ngx_tthc_send_error_field(r, code ? code : "INTERNAL_ERROR", field);
}


/*
 * A worker's reply passed through to the client: {"ok":true, ...} answers
 * "status" with the rest of the object; anything else is an error
 * (ngx_tthc_send_rpc_error).  The reply stays the caller's.
 */

static void
ngx_tthc_free_cleanup(void *data)
{
    free(data);
}


ngx_int_t
ngx_tthc_send_rpc_reply(ngx_http_request_t *r, json_t *reply,
    ngx_uint_t status)
{
    char                *out;
    ngx_pool_cleanup_t  *cln;

    if (reply == NULL || !json_is_true(json_object_get(reply, "ok"))) {
        return ngx_tthc_send_rpc_error(r, reply);
    }

    json_object_del(reply, "ok");

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    out = json_dumps(reply, JSON_COMPACT|JSON_PRESERVE_ORDER);
    if (out == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* sent from jansson's buffer as it is, freed with the request */

    cln->handler = ngx_tthc_free_cleanup;
    cln->data = out;

    return ngx_tthc_send_json(r, status, (u_char *) out, ngx_strlen(out));
}


/*
 * Who asks, for the workers (docs/contracts-workflow.md "Edge API"):
 * officials {"kind":"staff","uid","roles":[..],"agency","dept","name","ip"},
 * applicants {"kind":"applicant","uid","name","ip"}.  The workers reload
 * the account by uid; the rest is for their checks and the history.
 */

json_t *
ngx_tthc_actor(ngx_http_request_t *r)
{
    json_t              *roles;
    ngx_uint_t           bit;
    ngx_tthc_session_t  *s;

    s = ngx_tthc_req(r)->session;

    if (s->applicant) {
        return json_pack("{s:s,s:s%,s:s%,s:s%}",
                         "kind", "applicant",
                         "uid", s->uid.data, s->uid.len,
                         "name", s->name.data, s->name.len,
                         "ip", r->connection->addr_text.data,
                         r->connection->addr_text.len);
    }

    roles = json_array();
    if (roles == NULL) {
        return NULL;
    }

    for (bit = 1; bit <= TTHC_ROLE_SYSADMIN; bit <<= 1) {
        if (s->roles & bit) {
            json_array_append_new(roles, json_string(tthc_role_name(bit)));
        }
    }

    return json_pack("{s:s,s:s%,s:o,s:s%,s:s%,s:s%,s:s%}",
                     "kind", "staff",
                     "uid", s->uid.data, s->uid.len,
                     "roles", roles,
                     "agency", s->agency.data, s->agency.len,
                     "dept", s->dept.data, s->dept.len,
                     "name", s->name.data, s->name.len,
                     "ip", r->connection->addr_text.data,
                     r->connection->addr_text.len);
}
