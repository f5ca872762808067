
/*
 * POST /api/v1/files: one file uploaded ahead of an action that attaches
 * it (issue 4; docs/contracts-workflow.md "Edge API"): a result, a refusal,
 * a supplement, a counter registration's documents...
 *
 * The raw body is the file.  As in a submission it is streamed to
 * STORE/tmp as it arrives (never held in memory), hashed (SHA-256) and
 * sniffed by libmagic against an allow-list (the declared Content-Type
 * never counts); too large or of a refused type, it is refused as soon as
 * that is known.  Complete, it is fsync'ed and linked into
 * STORE/files/ab/cd/<sha256> in the thread pool (no journal entry: nothing
 * is submitted yet), then the edge notes who uploaded it,
 *
 *   SET tthc:up:{staff:UID}:<sha256> {"name","size","media_type"} EX 86400
 *
 * ({app:UID} for an applicant), which is what the workers check when an
 * action names the file.  201 {"sha256","size","media_type","name"}.
 *
 * The name comes in X-File-Name, percent-encoded UTF-8 (255 bytes at most
 * once decoded, no control characters); without it the file is "tep".
 */


#include "ngx_tthc_module.h"

#include <sodium.h>

#include "tthc_utf8.h"


#define NGX_TTHC_UPLOAD_TTL       "86400"
#define NGX_TTHC_FILE_NAME_MAX    255


typedef struct {
    ngx_tthc_file_t             file;
    crypto_hash_sha256_state    sha;
    u_char                      sniff[NGX_TTHC_SNIFF_SIZE];
    size_t                      sniff_len;
    off_t                       limit;
    ngx_str_t                   key;           /* tthc:up:{S}:SHA */
    unsigned                    failed:1;
    unsigned                    done:1;
} ngx_tthc_upload_t;


static void ngx_tthc_files_body_post(ngx_http_request_t *r);
static void ngx_tthc_files_read(ngx_http_request_t *r);
static void ngx_tthc_files_body_done(ngx_http_request_t *r,
    ngx_tthc_upload_t *up);
static void ngx_tthc_files_committed(ngx_http_request_t *r, ngx_int_t rc);


/* what may be uploaded: pdf, jpeg, png, docx/xlsx (zip), xml, plain text */

static const char  *ngx_tthc_files_types[] = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/zip",
    "application/xml",
    "text/xml",
    "text/plain",
    "text/csv",                 /* libmagic's name for text with commas */
    NULL
};


static ngx_uint_t
ngx_tthc_files_type_allowed(const char *mt)
{
    ngx_uint_t  i;

    for (i = 0; ngx_tthc_files_types[i]; i++) {
        if (ngx_strcmp(mt, ngx_tthc_files_types[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_tthc_files_cleanup(void *data)
{
    ngx_tthc_upload_t  *up = data;

    ngx_tthc_store_discard(&up->file);
}


/*
 * X-File-Name: percent-decoded; strict UTF-8, no control characters (C0,
 * DEL, C1), NGX_TTHC_FILE_NAME_MAX bytes at most.  NGX_DECLINED: invalid.
 */

static ngx_int_t
ngx_tthc_files_name(ngx_http_request_t *r, ngx_str_t *name)
{
    u_char           *dst, *src, *p, *last;
    size_t            adv;
    int32_t           cp;
    ngx_str_t         v;

    (void) ngx_tthc_header_find(r, "X-File-Name", &v);

    if (v.len == 0) {
        ngx_str_set(name, "tep");
        return NGX_OK;
    }

    if (v.len > 3 * NGX_TTHC_FILE_NAME_MAX) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, v.len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    dst = p;
    src = v.data;

    ngx_unescape_uri(&dst, &src, v.len, 0);

    name->data = p;
    name->len = dst - p;

    if (name->len == 0) {
        ngx_str_set(name, "tep");
        return NGX_OK;
    }

    if (name->len > NGX_TTHC_FILE_NAME_MAX) {
        return NGX_DECLINED;
    }

    last = name->data + name->len;

    for (p = name->data; p < last; p += adv) {
        cp = tthc_utf8_decode(p, last - p, &adv);

        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
            return NGX_DECLINED;        /* also -1: not UTF-8 */
        }
    }

    return NGX_OK;
}


ngx_int_t
ngx_tthc_files_handler(ngx_http_request_t *r)
{
    u_char                *p;
    ngx_int_t              rc;
    ngx_tthc_req_t        *req;
    ngx_pool_cleanup_t    *cln;
    ngx_tthc_upload_t     *up;
    ngx_tthc_session_t    *s;
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);
    req = ngx_tthc_req(r);

    if (req->session_failed) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    if (!req->session_ok) {
        return ngx_tthc_send_error(r, "UNAUTHENTICATED");
    }

    s = req->session;

    if (!s->staff && !s->applicant) {
        return ngx_tthc_send_error(r, "FORBIDDEN");
    }

    if (r->headers_in.content_length_n > mcf->max_request_size) {
        r->keepalive = 0;
        return ngx_tthc_send_error(r, "FILE_TOO_LARGE");
    }

    if (r->headers_in.content_length_n == 0) {
        return ngx_tthc_send_error(r, "EMPTY_FILE");
    }

    up = ngx_pcalloc(r->pool, sizeof(ngx_tthc_upload_t));
    if (up == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    up->file.fd = NGX_INVALID_FILE;
    up->limit = mcf->max_request_size;

    rc = ngx_tthc_files_name(r, &up->file.name);

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DECLINED) {
        return ngx_tthc_send_error_field(r, "INVALID_PARAMETER",
                                         "X-File-Name");
    }

    if (!ngx_tthc_redis_ready()) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    /* tthc:up:{staff:UID}:<sha256>, the hash filled in at the end */

    up->key.len = sizeof("tthc:up:{staff:}:") - 1 + s->uid.len + 64;
    up->key.data = ngx_pnalloc(r->pool, up->key.len);
    if (up->key.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(up->key.data, "tthc:up:{%s:%V}:",
                    s->staff ? "staff" : "app", &s->uid);
    up->key.len = p - up->key.data + 64;

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_tthc_files_cleanup;
    cln->data = up;

    req->data = up;

    if (ngx_tthc_store_open_tmp(r, &up->file) != NGX_OK) {
        return ngx_tthc_send_error(r, "STORAGE_ERROR");
    }

    crypto_hash_sha256_init(&up->sha);

    r->request_body_no_buffering = 1;

    rc = ngx_http_read_client_request_body(r, ngx_tthc_files_body_post);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_tthc_files_fail(ngx_http_request_t *r, ngx_tthc_upload_t *up,
    const char *code)
{
    up->failed = 1;

    ngx_tthc_store_discard(&up->file);

    if (r->request_body) {
        r->request_body->bufs = NULL;
    }

    ngx_tthc_finalize(r, ngx_tthc_send_error(r, code));
}


/* the type is known once NGX_TTHC_SNIFF_SIZE bytes are in (or at the end) */

static ngx_int_t
ngx_tthc_files_check_type(ngx_http_request_t *r, ngx_tthc_upload_t *up)
{
    up->file.media_type = ngx_tthc_sniff(r->pool, up->sniff, up->sniff_len);

    if (up->file.media_type == NULL) {
        ngx_tthc_files_fail(r, up, "INTERNAL_ERROR");
        return NGX_ERROR;
    }

    if (!ngx_tthc_files_type_allowed(up->file.media_type)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "tthc: upload of type \"%s\" refused",
                      up->file.media_type);
        ngx_tthc_files_fail(r, up, "UNSUPPORTED_MEDIA_TYPE");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_tthc_files_consume(ngx_http_request_t *r, ngx_tthc_upload_t *up)
{
    size_t        n, m;
    u_char       *data;
    ssize_t       w;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;
        data = b->pos;
        n = b->last - b->pos;
        b->pos = b->last;

        if (n == 0) {
            continue;
        }

        up->file.size += n;

        if (up->file.size > up->limit) {
            ngx_tthc_files_fail(r, up, "FILE_TOO_LARGE");
            return NGX_ERROR;
        }

        if (up->sniff_len < NGX_TTHC_SNIFF_SIZE) {
            m = ngx_min(n, NGX_TTHC_SNIFF_SIZE - up->sniff_len);
            ngx_memcpy(up->sniff + up->sniff_len, data, m);
            up->sniff_len += m;

            if (up->sniff_len == NGX_TTHC_SNIFF_SIZE
                && ngx_tthc_files_check_type(r, up) != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        crypto_hash_sha256_update(&up->sha, data, n);

        while (n) {
            w = write(up->file.fd, data, n);

            if (w == -1) {
                if (ngx_errno == NGX_EINTR) {
                    continue;
                }

                ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                              "tthc store: write(\"%s\") failed",
                              up->file.tmp_path);
                ngx_tthc_files_fail(r, up, "STORAGE_ERROR");
                return NGX_ERROR;
            }

            data += w;
            n -= w;
        }
    }

    r->request_body->bufs = NULL;

    return NGX_OK;
}


/* body reading: the post handler runs once, then our read handler */

static void
ngx_tthc_files_body_post(ngx_http_request_t *r)
{
    ngx_tthc_upload_t  *up;

    up = ngx_tthc_req(r)->data;

    if (ngx_tthc_files_consume(r, up) != NGX_OK) {
        return;
    }

    if (!r->reading_body) {
        ngx_tthc_files_body_done(r, up);
        return;
    }

    r->read_event_handler = ngx_tthc_files_read;

    ngx_tthc_files_read(r);
}


static void
ngx_tthc_files_read(ngx_http_request_t *r)
{
    ngx_int_t           rc;
    ngx_tthc_upload_t  *up;

    up = ngx_tthc_req(r)->data;

    if (up->failed || up->done) {
        return;
    }

    for ( ;; ) {
        rc = ngx_http_read_unbuffered_request_body(r);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            up->failed = 1;
            ngx_tthc_store_discard(&up->file);
            ngx_tthc_finalize(r, rc);
            return;
        }

        if (r->request_body->bufs == NULL) {
            if (rc == NGX_OK) {
                ngx_tthc_files_body_done(r, up);
            }

            /* NGX_AGAIN: nginx waits for more data */
            return;
        }

        if (ngx_tthc_files_consume(r, up) != NGX_OK) {
            return;
        }

        if (rc == NGX_OK) {
            ngx_tthc_files_body_done(r, up);
            return;
        }
    }
}


static void
ngx_tthc_files_body_done(ngx_http_request_t *r, ngx_tthc_upload_t *up)
{
    u_char       digest[crypto_hash_sha256_BYTES];
    ngx_array_t  files;

    up->done = 1;
    r->read_event_handler = ngx_http_block_reading;

    if (up->file.size == 0) {
        ngx_tthc_files_fail(r, up, "EMPTY_FILE");
        return;
    }

    if (up->sniff_len < NGX_TTHC_SNIFF_SIZE
        && ngx_tthc_files_check_type(r, up) != NGX_OK)
    {
        return;
    }

    crypto_hash_sha256_final(&up->sha, digest);
    sodium_bin2hex((char *) up->file.sha256, sizeof(up->file.sha256), digest,
                   sizeof(digest));

    ngx_memcpy(up->key.data + up->key.len - 64, up->file.sha256, 64);

    if (close(up->file.fd) != 0) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "tthc store: close(\"%s\") failed", up->file.tmp_path);
        up->file.fd = NGX_INVALID_FILE;
        ngx_tthc_files_fail(r, up, "STORAGE_ERROR");
        return;
    }

    up->file.fd = NGX_INVALID_FILE;

    files.elts = &up->file;
    files.nelts = 1;
    files.size = sizeof(ngx_tthc_file_t);
    files.nalloc = 1;
    files.pool = r->pool;

    if (ngx_tthc_store_commit_files(r, &files, ngx_tthc_files_committed)
        != NGX_OK)
    {
        ngx_tthc_files_fail(r, up, "STORAGE_ERROR");
    }
}


static void
ngx_tthc_files_noted(ngx_http_request_t *r, redisReply *reply, void *data)
{
    ngx_tthc_upload_t  *up = data;

    char    *out;
    u_char  *p;
    size_t   len;
    json_t  *j;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        /* stored, but no action may name it: the client uploads again */
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
        return;
    }

    j = json_pack("{s:s,s:I,s:s,s:s%}",
                  "sha256", up->file.sha256,
                  "size", (json_int_t) up->file.size,
                  "media_type", up->file.media_type,
                  "name", up->file.name.data, up->file.name.len);
    if (j == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    out = json_dumps(j, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(j);

    if (out == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    len = ngx_strlen(out);
    p = ngx_pnalloc(r->pool, len);

    if (p == NULL) {
        free(out);
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_memcpy(p, out, len);
    free(out);

    ngx_tthc_finalize(r, ngx_tthc_send_json(r, NGX_HTTP_CREATED, p, len));
}


static void
ngx_tthc_files_committed(ngx_http_request_t *r, ngx_int_t rc)
{
    char               *rec;
    json_t             *j;
    const char         *argv[5];
    size_t              argvlen[5];
    ngx_tthc_upload_t  *up;

    up = ngx_tthc_req(r)->data;

    if (rc != NGX_OK) {
        ngx_tthc_files_fail(r, up, "STORAGE_ERROR");
        return;
    }

    /* the file is in files/ now: nothing left to clean up */

    j = json_pack("{s:s%,s:I,s:s}",
                  "name", up->file.name.data, up->file.name.len,
                  "size", (json_int_t) up->file.size,
                  "media_type", up->file.media_type);
    if (j == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rec = json_dumps(j, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(j);

    if (rec == NULL) {
        ngx_tthc_finalize(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    argv[0] = "SET";
    argvlen[0] = 3;
    argv[1] = (const char *) up->key.data;
    argvlen[1] = up->key.len;
    argv[2] = rec;
    argvlen[2] = ngx_strlen(rec);
    argv[3] = "EX";
    argvlen[3] = 2;
    argv[4] = NGX_TTHC_UPLOAD_TTL;
    argvlen[4] = sizeof(NGX_TTHC_UPLOAD_TTL) - 1;

    rc = ngx_tthc_redis_command(r, ngx_tthc_files_noted, up, 5, argv,
                                argvlen);

    free(rec);                  /* hiredis has formatted the command */

    if (rc != NGX_OK) {
        ngx_tthc_finalize(r, ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE"));
    }
}
