
/*
 * Private to the submission path: ngx_tthc_submit.c (the flow),
 * ngx_tthc_parts.c (multipart parts: files and the application JSON),
 * ngx_tthc_manifest.c (the journal manifest and the provisional view).
 */


#ifndef _NGX_TTHC_SUBMIT_H_INCLUDED_
#define _NGX_TTHC_SUBMIT_H_INCLUDED_


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_multipart.h"


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
    ngx_uint_t                  claims;
    u_char                     *seq_key1, *seq_key2;
    size_t                      seq_len1, seq_len2;
} ngx_tthc_submit_ctx_t;


extern const tthc_mp_callbacks_t  ngx_tthc_parts_callbacks;

json_t *ngx_tthc_component(ngx_tthc_procedure_t *pr, ngx_str_t *code);
off_t ngx_tthc_component_max(json_t *comp, off_t global);
ngx_uint_t ngx_tthc_component_allows(json_t *comp, const char *media_type);

json_t *ngx_tthc_manifest(ngx_tthc_submit_ctx_t *ctx, unsigned seq);
char *ngx_tthc_provisional_view(ngx_tthc_submit_ctx_t *ctx);


#endif /* _NGX_TTHC_SUBMIT_H_INCLUDED_ */
