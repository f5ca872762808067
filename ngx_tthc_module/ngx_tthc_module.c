
/*
 * ngx_tthc_module: directives, process hooks, the API router and the JSON
 * response helpers.  Error codes and their Vietnamese messages live in
 * common/tthc_errors.c, shared with the workers.
 */


#include "ngx_tthc_module.h"

#include "tthc_errors.h"


static void *ngx_tthc_create_main_conf(ngx_conf_t *cf);
static char *ngx_tthc_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_tthc_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_tthc_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_tthc_rpc_key_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_tthc_init_process(ngx_cycle_t *cycle);
static void ngx_tthc_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_tthc_api_handler(ngx_http_request_t *r);
static void ngx_tthc_session_loaded(ngx_http_request_t *r, ngx_int_t rc);
static ngx_int_t ngx_tthc_dispatch(ngx_http_request_t *r);
static ngx_int_t ngx_tthc_not_allowed(ngx_http_request_t *r,
    const char *allow);


static ngx_command_t  ngx_tthc_commands[] = {

    { ngx_string("tthc_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, redis),
      NULL },

    { ngx_string("tthc_redis_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, redis_timeout),
      NULL },

    { ngx_string("tthc_catalogue_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, catalogue_ttl),
      NULL },

    { ngx_string("tthc_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, store),
      NULL },

    { ngx_string("tthc_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_tthc_thread_pool,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tthc_max_request_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, max_request_size),
      NULL },

    { ngx_string("tthc_rpc_key_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_tthc_rpc_key_file,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("tthc_rpc_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, rpc_timeout),
      NULL },

    { ngx_string("tthc_eid_authorize_url"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, eid_authorize_url),
      NULL },

    { ngx_string("tthc_eid_client_id"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, eid_client_id),
      NULL },

    { ngx_string("tthc_eid_redirect_uri"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, eid_redirect_uri),
      NULL },

    { ngx_string("tthc_session_idle"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, session_idle),
      NULL },

    { ngx_string("tthc_test_clock"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_tthc_main_conf_t, test_clock),
      NULL },

    { ngx_string("tthc_api"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_tthc_api,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_tthc_module_ctx = {
    NULL,                                  /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_tthc_create_main_conf,             /* create main configuration */
    ngx_tthc_init_main_conf,               /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_tthc_module = {
    NGX_MODULE_V1,
    &ngx_tthc_module_ctx,                  /* module context */
    ngx_tthc_commands,                     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_tthc_init_process,                 /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_tthc_exit_process,                 /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_tthc_create_main_conf(ngx_conf_t *cf)
{
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_tthc_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    mcf->redis_timeout = NGX_CONF_UNSET_MSEC;
    mcf->catalogue_ttl = NGX_CONF_UNSET_MSEC;
    mcf->max_request_size = NGX_CONF_UNSET;
    mcf->rpc_timeout = NGX_CONF_UNSET_MSEC;
    mcf->session_idle = NGX_CONF_UNSET;
    mcf->test_clock = NGX_CONF_UNSET;

    return mcf;
}


static char *
ngx_tthc_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_tthc_main_conf_t  *mcf = conf;

    ngx_conf_init_msec_value(mcf->redis_timeout, 2000);
    ngx_conf_init_msec_value(mcf->catalogue_ttl, 1000);
    ngx_conf_init_value(mcf->max_request_size, 100 * 1024 * 1024);
    ngx_conf_init_msec_value(mcf->rpc_timeout, 10000);
    ngx_conf_init_value(mcf->session_idle, 1800);
    ngx_conf_init_value(mcf->test_clock, 0);

    if (mcf->redis.len == 0) {
        ngx_str_set(&mcf->redis, "127.0.0.1:6379");
    }

    if (mcf->store.len && mcf->store.data[mcf->store.len - 1] == '/') {
        mcf->store.len--;
    }

    return NGX_CONF_OK;
}


static char *
ngx_tthc_thread_pool(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_tthc_main_conf_t  *mcf = conf;

    ngx_str_t  *value;

    if (mcf->thread_pool) {
        return "is duplicate";
    }

    value = cf->args->elts;
    mcf->thread_pool_name = value[1];

    mcf->thread_pool = ngx_thread_pool_add(cf, &value[1]);
    if (mcf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * The key that seals request/reply jobs (docs/contracts-identity.md "RPC"):
 * 32 raw bytes, read while the configuration is parsed (by the master, so
 * the file can stay readable by root only), kept in the configuration.
 */

static char *
ngx_tthc_rpc_key_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_tthc_main_conf_t  *mcf = conf;

    u_char      buf[33];
    ssize_t     n;
    ngx_fd_t    fd;
    ngx_str_t  *value, path;

    if (mcf->rpc_key_set) {
        return "is duplicate";
    }

    value = cf->args->elts;
    path = value[1];

    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%s\" failed", path.data);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_fd(fd, buf, sizeof(buf));
    ngx_close_file(fd);

    if (n != 32) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%s\" must hold exactly 32 bytes", path.data);
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(mcf->rpc_key, buf, 32);
    ngx_explicit_memzero(buf, sizeof(buf));
    mcf->rpc_key_set = 1;

    return NGX_CONF_OK;
}


static char *
ngx_tthc_api(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;
    ngx_tthc_main_conf_t      *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_tthc_module);

    if (mcf->store.len == 0) {
        return "requires \"tthc_store\" to be set before it";
    }

    if (mcf->thread_pool == NULL) {
        return "requires \"tthc_thread_pool\" to be set before it";
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_tthc_api_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_tthc_init_process(ngx_cycle_t *cycle)
{
    ngx_tthc_main_conf_t  *mcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_tthc_module);
    if (mcf == NULL || mcf->store.len == 0) {
        return NGX_OK;
    }

    if (ngx_tthc_submit_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_tthc_redis_init_process(cycle, mcf);
}


static void
ngx_tthc_exit_process(ngx_cycle_t *cycle)
{
    ngx_tthc_redis_exit_process();
    ngx_tthc_catalogue_exit_process();
    ngx_tthc_submit_exit_process();
}


/* the API router */

ngx_tthc_req_t *
ngx_tthc_req(ngx_http_request_t *r)
{
    return ngx_http_get_module_ctx(r, ngx_tthc_module);
}


/* the first request header called name (case-insensitive): NGX_OK with its
 * value, NGX_DECLINED when absent */

ngx_int_t
ngx_tthc_header_find(ngx_http_request_t *r, const char *name, ngx_str_t *value)
{
    size_t            nlen;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    nlen = ngx_strlen(name);
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == nlen
            && ngx_strncasecmp(h[i].key.data, (u_char *) name, nlen) == 0)
        {
            *value = h[i].value;
            return NGX_OK;
        }
    }

    ngx_str_null(value);

    return NGX_DECLINED;
}


static ngx_int_t
ngx_tthc_not_allowed(ngx_http_request_t *r, const char *allow)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Allow");
    h->value.data = (u_char *) allow;
    h->value.len = ngx_strlen(allow);

    return ngx_tthc_send_error(r, "METHOD_NOT_ALLOWED");
}


/*
 * Every API request first learns who is calling: with a session cookie, one
 * Redis round trip (ngx_tthc_session.c); then the route runs.
 */

static ngx_int_t
ngx_tthc_api_handler(ngx_http_request_t *r)
{
    ngx_int_t        rc;
    ngx_tthc_req_t  *req;

    req = ngx_pcalloc(r->pool, sizeof(ngx_tthc_req_t));
    if (req == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_set_ctx(r, req, ngx_tthc_module);

    rc = ngx_tthc_session_load(r, ngx_tthc_session_loaded);

    if (rc == NGX_DONE) {
        return NGX_DONE;
    }

    return ngx_tthc_dispatch(r);
}


static void
ngx_tthc_session_loaded(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_tthc_finalize(r, ngx_tthc_dispatch(r));
}


/* splits "a/b/c" into at most n segments; returns the count, or -1 */

static ngx_int_t
ngx_tthc_split(ngx_str_t *path, ngx_str_t *seg, ngx_uint_t n)
{
    u_char      *p, *last, *start;
    ngx_uint_t   i;

    p = path->data;
    last = p + path->len;
    i = 0;

    while (p < last) {
        if (i == n) {
            return -1;
        }

        start = p;

        while (p < last && *p != '/') {
            p++;
        }

        seg[i].data = start;
        seg[i].len = p - start;

        if (seg[i].len == 0) {
            return -1;
        }

        i++;

        if (p < last) {
            p++;                          /* the '/' */

            if (p == last) {
                return -1;                /* trailing slash */
            }
        }
    }

    return i;
}


#define ngx_tthc_seg_is(s, lit)                                               \
    ((s).len == sizeof(lit) - 1 && ngx_strncmp((s).data, lit, (s).len) == 0)

#define NGX_TTHC_GET   (NGX_HTTP_GET|NGX_HTTP_HEAD)


static ngx_int_t
ngx_tthc_dispatch(ngx_http_request_t *r)
{
    ngx_int_t        n, rc;
    ngx_str_t        path, s[6];
    ngx_uint_t       get;
    ngx_tthc_req_t  *req;

    req = ngx_tthc_req(r);
    get = (r->method & NGX_TTHC_GET) ? 1 : 0;

    if (r->uri.len == sizeof("/healthz") - 1
        && ngx_strncmp(r->uri.data, "/healthz", r->uri.len) == 0)
    {
        if (!get) {
            return ngx_tthc_not_allowed(r, "GET, HEAD");
        }

        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        return ngx_tthc_health_handler(r);
    }

    if (r->uri.len <= sizeof("/api/v1/") - 1
        || ngx_strncmp(r->uri.data, "/api/v1/", sizeof("/api/v1/") - 1) != 0)
    {
        return ngx_tthc_send_error(r, "NOT_FOUND");
    }

    path.data = r->uri.data + sizeof("/api/v1/") - 1;
    path.len = r->uri.len - (sizeof("/api/v1/") - 1);

    n = ngx_tthc_split(&path, s, 6);

    if (n <= 0) {
        return ngx_tthc_send_error(r, "NOT_FOUND");
    }

    /* partners/...: callbacks signed by the partners, no session, no CSRF
     * (docs/contracts-exchange.md "Edge endpoints partners call") */

    if (ngx_tthc_seg_is(s[0], "partners")) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_tthc_not_allowed(r, "POST");
        }

        return ngx_tthc_partner_handler(r, s, n);
    }

    /* CSRF: every state change (docs/contracts-identity.md "CSRF") */

    if (!get && ngx_tthc_csrf_check(r) != NGX_OK) {
        return ngx_tthc_send_error(r, "CSRF_FAILED");
    }

    /* procedures, procedures/{code} */

    if (ngx_tthc_seg_is(s[0], "procedures") && n <= 2) {
        if (!get) {
            return ngx_tthc_not_allowed(r, "GET, HEAD");
        }

        if (n == 1) {
            s[1].len = 0;
            s[1].data = NULL;
        }

        return ngx_tthc_catalogue_handler(r, &s[1]);
    }

    /* dossiers, dossiers/{code} */

    if (ngx_tthc_seg_is(s[0], "dossiers") && n <= 2) {
        if (n == 1) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_submit_handler(r);
        }

        if (!get) {
            return ngx_tthc_not_allowed(r, "GET, HEAD");
        }

        return ngx_tthc_status_handler(r, &s[1]);
    }

    /* session, auth/eid/start, auth/eid/callback, auth/signout */

    if (ngx_tthc_seg_is(s[0], "session") && n == 1) {
        if (!get) {
            return ngx_tthc_not_allowed(r, "GET, HEAD");
        }

        return ngx_tthc_session_handler(r);
    }

    if (ngx_tthc_seg_is(s[0], "auth")) {

        if (n == 3 && ngx_tthc_seg_is(s[1], "eid")) {
            if (!get) {
                return ngx_tthc_not_allowed(r, "GET, HEAD");
            }

            if (ngx_tthc_seg_is(s[2], "start")) {
                return ngx_tthc_eid_start_handler(r);
            }

            if (ngx_tthc_seg_is(s[2], "callback")) {
                return ngx_tthc_eid_callback_handler(r);
            }
        }

        if (n == 2 && ngx_tthc_seg_is(s[1], "signout")) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_signout_handler(r);
        }
    }

    /* files: one upload (docs/contracts-workflow.md "Edge API") */

    if (ngx_tthc_seg_is(s[0], "files") && n == 1) {
        if (r->method != NGX_HTTP_POST) {
            return ngx_tthc_not_allowed(r, "POST");
        }

        return ngx_tthc_files_handler(r);
    }

    /*
     * me/dossiers, me/dossiers/{code}, me/dossiers/{code}/files/{sha256},
     * me/dossiers/{code}/actions
     */

    if (ngx_tthc_seg_is(s[0], "me") && n >= 2
        && ngx_tthc_seg_is(s[1], "dossiers"))
    {
        if (n == 4 && ngx_tthc_seg_is(s[3], "actions")) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_me_action_handler(r, &s[2]);
        }

        if (n == 4 && ngx_tthc_seg_is(s[3], "payment")) {    /* A8 */
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_me_payment_handler(r, &s[2]);
        }

        if (!get) {
            return ngx_tthc_not_allowed(r, "GET, HEAD");
        }

        if (n == 2) {
            return ngx_tthc_me_dossiers_handler(r);
        }

        if (n == 3) {
            return ngx_tthc_private_dossier_handler(r, &s[2], NULL, 0);
        }

        if (n == 5 && ngx_tthc_seg_is(s[3], "files")) {
            return ngx_tthc_private_dossier_handler(r, &s[2], &s[4], 0);
        }
    }

    /*
     * staff/signin, staff/accounts[/{id}], staff/inbox, staff/actions,
     * staff/dossiers, staff/dossiers/{code}[/files/{sha}|/actions],
     * staff/procedures/{code}/process
     */

    if (ngx_tthc_seg_is(s[0], "staff") && n >= 2) {

        if (n == 2 && ngx_tthc_seg_is(s[1], "inbox")) {
            if (!get) {
                return ngx_tthc_not_allowed(r, "GET, HEAD");
            }

            return ngx_tthc_inbox_handler(r);
        }

        if (n == 2 && ngx_tthc_seg_is(s[1], "actions")) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_staff_batch_handler(r);
        }

        if (n == 2 && ngx_tthc_seg_is(s[1], "dossiers")) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_staff_register_handler(r);
        }

        if (n == 4 && ngx_tthc_seg_is(s[1], "dossiers")
            && ngx_tthc_seg_is(s[3], "actions"))
        {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_staff_action_handler(r, &s[2]);
        }

        if (n == 4 && ngx_tthc_seg_is(s[1], "procedures")
            && ngx_tthc_seg_is(s[3], "process"))
        {
            if (!(r->method & (NGX_TTHC_GET|NGX_HTTP_PUT))) {
                return ngx_tthc_not_allowed(r, "GET, HEAD, PUT");
            }

            return ngx_tthc_staff_process_handler(r, &s[2]);
        }

        if (n == 2 && ngx_tthc_seg_is(s[1], "signin")) {
            if (r->method != NGX_HTTP_POST) {
                return ngx_tthc_not_allowed(r, "POST");
            }

            return ngx_tthc_staff_signin_handler(r);
        }

        if (ngx_tthc_seg_is(s[1], "accounts") && n <= 3) {
            if (n == 2 && !(r->method & (NGX_TTHC_GET|NGX_HTTP_POST))) {
                return ngx_tthc_not_allowed(r, "GET, HEAD, POST");
            }

            if (n == 3 && r->method != NGX_HTTP_PATCH) {
                return ngx_tthc_not_allowed(r, "PATCH");
            }

            return ngx_tthc_accounts_handler(r, n == 3 ? &s[2] : NULL);
        }

        if (ngx_tthc_seg_is(s[1], "dossiers") && n >= 3) {
            if (!get) {
                return ngx_tthc_not_allowed(r, "GET, HEAD");
            }

            if (n == 3) {
                return ngx_tthc_private_dossier_handler(r, &s[2], NULL, 1);
            }

            if (n == 5 && ngx_tthc_seg_is(s[3], "files")) {
                return ngx_tthc_private_dossier_handler(r, &s[2], &s[4], 1);
            }
        }
    }

    (void) req;

    return ngx_tthc_send_error(r, "NOT_FOUND");
}


/* responses */

ngx_int_t
ngx_tthc_send_json(ngx_http_request_t *r, ngx_uint_t status, u_char *data,
    size_t len)
{
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    if (r->request_body == NULL) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    ngx_str_set(&r->headers_out.charset, "utf-8");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "X-Content-Type-Options");
    ngx_str_set(&h->value, "nosniff");

    if (r->method == NGX_HTTP_HEAD || len == 0) {
        r->header_only = 1;
        return ngx_http_send_header(r);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        return rc;
    }

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_tthc_send_error(ngx_http_request_t *r, const char *code)
{
    return ngx_tthc_send_error_field(r, code, NULL);
}


ngx_int_t
ngx_tthc_send_error_field(ngx_http_request_t *r, const char *code,
    const char *field)
{
    char               *s;
    size_t              len;
    u_char             *p;
    json_t             *err;
    ngx_uint_t          status;
    const tthc_error_t  *e;

    e = tthc_error_get(code);
    if (e == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tthc: unknown error code \"%s\"", code);
        e = tthc_error_get("INTERNAL_ERROR");
        if (e == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    status = (ngx_uint_t) e->http_status;

    err = json_pack("{s:{s:s,s:s}}", "error", "code", e->code,
                    "message", e->message);
    if (err == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (field) {
        json_object_set_new(json_object_get(err, "error"), "field",
                            json_string(field));
    }

    s = json_dumps(err, JSON_COMPACT);
    json_decref(err);

    if (s == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = ngx_strlen(s);

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        free(s);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, s, len);
    free(s);

    if (status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        ngx_table_elt_t  *h;

        h = ngx_list_push(&r->headers_out.headers);
        if (h != NULL) {
            h->hash = 1;
            ngx_str_set(&h->key, "Retry-After");
            ngx_str_set(&h->value, "2");
        }
    }

    return ngx_tthc_send_json(r, status, p, len);
}


/*
 * A JSON document as Redis holds it (read models are stored ready to
 * serve): 200 with the string, or, when the key is missing, the error
 * "missing" or, if that is NULL, 200 with "empty".
 */

ngx_int_t
ngx_tthc_send_stored(ngx_http_request_t *r, redisReply *reply,
    const char *missing, ngx_str_t *empty)
{
    u_char  *p;

    if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
        return ngx_tthc_send_error(r, "SERVICE_UNAVAILABLE");
    }

    if (reply->type != REDIS_REPLY_STRING) {
        if (missing) {
            return ngx_tthc_send_error(r, missing);
        }

        return ngx_tthc_send_json(r, NGX_HTTP_OK, empty->data, empty->len);
    }

    p = ngx_pnalloc(r->pool, reply->len);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(p, reply->str, reply->len);

    return ngx_tthc_send_json(r, NGX_HTTP_OK, p, reply->len);
}


/*
 * Finalizes a request that an asynchronous step (Redis reply, thread task)
 * kept alive with r->main->count++.
 */

void
ngx_tthc_finalize(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_finalize_request(r, rc);
}


ngx_int_t
ngx_tthc_arg(ngx_http_request_t *r, const char *name, ngx_str_t *value)
{
    u_char      *dst, *src, *tmp;
    ngx_uint_t   i;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), value) != NGX_OK) {
        value->len = 0;
        value->data = NULL;
        return NGX_DECLINED;
    }

    /* '+' means space in a query string; "%2B" stays a '+' */

    tmp = ngx_pnalloc(r->pool, 2 * value->len);
    if (tmp == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < value->len; i++) {
        tmp[i] = (value->data[i] == '+') ? ' ' : value->data[i];
    }

    src = tmp;
    dst = tmp + value->len;
    value->data = dst;

    ngx_unescape_uri(&dst, &src, value->len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}
