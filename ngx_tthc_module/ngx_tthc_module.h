
/*
 * ngx_tthc_module: the edge of tthc.
 *
 * Routing and JSON API, catalogue and status read models served from Redis,
 * streaming dossier uploads, sessions, and the handling workflow (uploads,
 * actions as request/reply jobs, the officials' inbox).  Never blocks the
 * event loop: Redis is spoken through hiredis' async API bound to nginx
 * events (ngx_tthc_redis.c), disk
 * syncs run in an nginx thread pool (ngx_tthc_store.c), MariaDB is never
 * touched here.  Names shared with the workers: docs/contracts.md.
 */


#ifndef _NGX_TTHC_MODULE_H_INCLUDED_
#define _NGX_TTHC_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <ngx_thread_pool.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <jansson.h>


#define NGX_TTHC_APP_PART_MAX      (64 * 1024)
#define NGX_TTHC_MAX_FILES         50
#define NGX_TTHC_SNIFF_SIZE        4096


typedef struct {
    ngx_str_t                   redis;          /* unix:/path or ip:port */
    u_char                      rpc_key[32];
    ngx_uint_t                  rpc_key_set;
    ngx_msec_t                  rpc_timeout;
    ngx_str_t                   eid_authorize_url;
    ngx_str_t                   eid_client_id;
    ngx_str_t                   eid_redirect_uri;
    time_t                      session_idle;
    ngx_msec_t                  redis_timeout;
    ngx_msec_t                  catalogue_ttl;
    ngx_str_t                   store;          /* upload store root */
    ngx_str_t                   thread_pool_name;
    ngx_thread_pool_t          *thread_pool;
    off_t                       max_request_size;
    ngx_flag_t                  test_clock;     /* now += tthc:{clock}:offset_ms */
} ngx_tthc_main_conf_t;


typedef void (*ngx_tthc_continue_pt)(ngx_http_request_t *r, ngx_int_t rc);


/* the signed-in user of a request (docs/contracts-identity.md "Sessions") */

typedef struct {
    ngx_str_t                   key;           /* tthc:sess:{H} */
    ngx_str_t                   kind;          /* applicant | staff */
    ngx_str_t                   uid;
    ngx_str_t                   name;
    ngx_str_t                   csrf;
    ngx_str_t                   roles_list;
    ngx_str_t                   agency;
    ngx_str_t                   dept;
    ngx_str_t                   username;
    ngx_str_t                   ident;
    ngx_str_t                   atype;
    ngx_str_t                   email;
    ngx_str_t                   phone;
    unsigned                    roles;         /* TTHC_ROLE_* mask */
    unsigned                    applicant:1;
    unsigned                    staff:1;
} ngx_tthc_session_t;


/* a small JSON request body, read as it arrives (ngx_tthc_read_json_body) */

typedef struct {
    u_char                     *buf;
    size_t                      len;
    size_t                      size;
    size_t                      max;
    ngx_http_client_body_handler_pt  done;
    unsigned                    failed:1;
    unsigned                    ended:1;
} ngx_tthc_json_body_t;


/* the module's per-request context */

typedef struct {
    ngx_tthc_session_t         *session;       /* NULL: anonymous */
    ngx_uint_t                  session_ok;    /* session valid */
    ngx_uint_t                  session_failed; /* lookup failed (Redis) */
    ngx_str_t                   arg[4];        /* route arguments */
    void                       *data;          /* the route's own state */
    ngx_tthc_json_body_t       *json_body;     /* ngx_tthc_read_json_body */
} ngx_tthc_req_t;

ngx_tthc_req_t *ngx_tthc_req(ngx_http_request_t *r);
/* who may come in (ngx_tthc_session.c): NULL, or the error code to answer */
const char *ngx_tthc_session_refusal(ngx_http_request_t *r,
    ngx_uint_t applicant, unsigned roles);
ngx_int_t ngx_tthc_header_find(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);

#define ngx_tthc_seg_equal(str, lit)                                          \
    ((str)->len == sizeof(lit) - 1                                            \
     && ngx_strncmp((str)->data, lit, sizeof(lit) - 1) == 0)


/* redis */

typedef void (*ngx_tthc_redis_handler_pt)(ngx_http_request_t *r,
    redisReply *reply, void *data);

ngx_int_t ngx_tthc_redis_init_process(ngx_cycle_t *cycle,
    ngx_tthc_main_conf_t *mcf);
void ngx_tthc_redis_exit_process(void);
ngx_int_t ngx_tthc_redis_ready(void);
ngx_int_t ngx_tthc_redis_command(ngx_http_request_t *r,
    ngx_tthc_redis_handler_pt handler, void *data, int argc,
    const char **argv, const size_t *argvlen);
ngx_int_t ngx_tthc_redis_fire(int argc, const char **argv,
    const size_t *argvlen);
ngx_int_t ngx_tthc_redis_fire_cb(redisCallbackFn *cb, void *data, int argc,
    const char **argv, const size_t *argvlen);

#define NGX_TTHC_JOB_ARGC  11

int ngx_tthc_job_argv(const char **argv, size_t *argvlen, const char *stream,
    const char *type, const u_char *key, size_t key_len, const u_char *payload,
    size_t payload_len);


/* sessions, CSRF */

ngx_int_t ngx_tthc_session_load(ngx_http_request_t *r,
    ngx_tthc_continue_pt next);
ngx_int_t ngx_tthc_csrf_check(ngx_http_request_t *r);
ngx_int_t ngx_tthc_session_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_signout_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_set_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value, const char *path, ngx_int_t max_age);
ngx_int_t ngx_tthc_get_cookie(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);
ngx_int_t ngx_tthc_random_b64(ngx_pool_t *pool, size_t bytes, ngx_str_t *out);
ngx_int_t ngx_tthc_sha256_hex(ngx_pool_t *pool, ngx_str_t *in, ngx_str_t *out);


/* request/reply jobs (docs/contracts-identity.md "RPC") */

typedef void (*ngx_tthc_rpc_handler_pt)(ngx_http_request_t *r, json_t *reply,
    void *data);

ngx_int_t ngx_tthc_rpc_call(ngx_http_request_t *r, const char *type,
    json_t *payload, ngx_tthc_rpc_handler_pt handler, void *data);
ngx_int_t ngx_tthc_send_rpc_error(ngx_http_request_t *r, json_t *reply);
ngx_int_t ngx_tthc_send_rpc_reply(ngx_http_request_t *r, json_t *reply,
    ngx_uint_t status);
json_t *ngx_tthc_actor(ngx_http_request_t *r);


/* identity endpoints */

ngx_int_t ngx_tthc_eid_start_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_eid_callback_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_staff_signin_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_accounts_handler(ngx_http_request_t *r, ngx_str_t *id);
ngx_int_t ngx_tthc_me_dossiers_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_private_dossier_handler(ngx_http_request_t *r,
    ngx_str_t *code, ngx_str_t *sha256, ngx_uint_t staff);
/* reads a JSON body of at most max bytes into memory as it arrives (a
 * larger one, chunked included, is refused with 413 as soon as it passes
 * max, never spooled to a file), then calls handler, which gets it with
 * ngx_tthc_body_json() and finalizes the request */
ngx_int_t ngx_tthc_read_json_body(ngx_http_request_t *r, size_t max,
    ngx_http_client_body_handler_pt handler);
json_t *ngx_tthc_body_json(ngx_http_request_t *r);


/* the handling workflow (docs/contracts-workflow.md "Edge API") */

ngx_int_t ngx_tthc_files_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_staff_action_handler(ngx_http_request_t *r,
    ngx_str_t *code);
ngx_int_t ngx_tthc_staff_batch_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_staff_register_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_staff_process_handler(ngx_http_request_t *r,
    ngx_str_t *procedure);
ngx_int_t ngx_tthc_me_action_handler(ngx_http_request_t *r, ngx_str_t *code);
ngx_int_t ngx_tthc_inbox_handler(ngx_http_request_t *r);
ngx_uint_t ngx_tthc_procedure_code_valid(ngx_str_t *code);


/* partners' callbacks and the applicant's payment (issue 5; ngx_tthc_partner.c) */

ngx_int_t ngx_tthc_partner_handler(ngx_http_request_t *r, ngx_str_t *seg,
    ngx_uint_t n);
ngx_int_t ngx_tthc_me_payment_handler(ngx_http_request_t *r,
    ngx_str_t *code);


/* responses */

ngx_int_t ngx_tthc_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_tthc_send_error(ngx_http_request_t *r, const char *code);
ngx_int_t ngx_tthc_send_stored(ngx_http_request_t *r, redisReply *reply,
    const char *missing, ngx_str_t *empty);
ngx_int_t ngx_tthc_send_error_field(ngx_http_request_t *r, const char *code,
    const char *field);
void ngx_tthc_finalize(ngx_http_request_t *r, ngx_int_t rc);
ngx_int_t ngx_tthc_arg(ngx_http_request_t *r, const char *name,
    ngx_str_t *value);


/* catalogue read model */

typedef struct {
    ngx_str_t                   code;
    ngx_str_t                   agency;
    ngx_str_t                   field;
    ngx_str_t                   search;
    ngx_str_t                   summary_json;
    ngx_str_t                   detail_json;
    json_t                     *obj;           /* full procedure object */
} ngx_tthc_procedure_t;

ngx_int_t ngx_tthc_catalogue_ensure(ngx_http_request_t *r,
    ngx_tthc_continue_pt next);
ngx_tthc_procedure_t *ngx_tthc_catalogue_find(u_char *code, size_t len);
ngx_int_t ngx_tthc_catalogue_handler(ngx_http_request_t *r, ngx_str_t *code);
void ngx_tthc_catalogue_exit_process(void);


/* handlers */

ngx_int_t ngx_tthc_status_handler(ngx_http_request_t *r, ngx_str_t *code);
ngx_int_t ngx_tthc_health_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_submit_handler(ngx_http_request_t *r);
ngx_int_t ngx_tthc_submit_init_process(ngx_cycle_t *cycle);
void ngx_tthc_submit_exit_process(void);
const char *ngx_tthc_sniff(ngx_pool_t *pool, const u_char *buf, size_t len);


const char *ngx_tthc_application_validate(json_t *in,
    ngx_tthc_session_t *session, ngx_tthc_procedure_t **procp, json_t **outp,
    const char **field);


/* upload store */

typedef struct {
    ngx_str_t                   component;
    ngx_str_t                   name;
    off_t                       size;
    const char                 *media_type;
    u_char                      sha256[65];
    u_char                      tmp_path[NGX_MAX_PATH];
    ngx_str_t                   storage;       /* files/ab/cd/<sha256> */
    ngx_fd_t                    fd;
} ngx_tthc_file_t;

typedef void (*ngx_tthc_store_done_pt)(ngx_http_request_t *r, ngx_int_t rc);

ngx_int_t ngx_tthc_store_open_tmp(ngx_http_request_t *r, ngx_tthc_file_t *f);
void ngx_tthc_store_discard(ngx_tthc_file_t *f);
ngx_int_t ngx_tthc_store_commit(ngx_http_request_t *r, ngx_array_t *files,
    ngx_str_t *code, ngx_str_t *manifest, ngx_tthc_store_done_pt done);
ngx_int_t ngx_tthc_store_commit_files(ngx_http_request_t *r,
    ngx_array_t *files, ngx_tthc_store_done_pt done);


extern ngx_module_t  ngx_tthc_module;


#endif /* _NGX_TTHC_MODULE_H_INCLUDED_ */
