
/*
 * ngx_tthc_module: the edge of tthc.
 *
 * Routing and JSON API, catalogue and status read models served from Redis,
 * streaming dossier uploads.  Never blocks the event loop: Redis is spoken
 * through hiredis' async API bound to nginx events (ngx_tthc_redis.c), disk
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
#include <jansson.h>


#define NGX_TTHC_APP_PART_MAX      (64 * 1024)
#define NGX_TTHC_MAX_FILES         50
#define NGX_TTHC_SNIFF_SIZE        4096


typedef struct {
    ngx_str_t                   redis;          /* unix:/path or ip:port */
    ngx_msec_t                  redis_timeout;
    ngx_msec_t                  catalogue_ttl;
    ngx_str_t                   store;          /* upload store root */
    ngx_str_t                   thread_pool_name;
    ngx_thread_pool_t          *thread_pool;
    off_t                       max_request_size;
} ngx_tthc_main_conf_t;


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


/* responses */

ngx_int_t ngx_tthc_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len);
ngx_int_t ngx_tthc_send_error(ngx_http_request_t *r, const char *code);
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

typedef void (*ngx_tthc_continue_pt)(ngx_http_request_t *r, ngx_int_t rc);

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


const char *ngx_tthc_application_validate(json_t *in,
    ngx_tthc_procedure_t **procp, json_t **outp, const char **field);


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


extern ngx_module_t  ngx_tthc_module;


#endif /* _NGX_TTHC_MODULE_H_INCLUDED_ */
