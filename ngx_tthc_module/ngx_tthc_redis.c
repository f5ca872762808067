
/*
 * Asynchronous Redis client bound to nginx events: hiredis' async API with
 * an nginx event adapter.  One connection per nginx worker process, made in
 * init_process, reconnected with exponential backoff from a timer, freed in
 * exit_process.  Every command has its own timeout; since hiredis cannot
 * cancel one command, a timeout drops the connection (all pending commands
 * fail) and a reconnect is scheduled.
 *
 * Adapter rules (docs/architecture.md, shared/ENGINEERING.md):
 *   - events are registered level-triggered: hiredis reads at most 16 KiB
 *     per call, an edge-triggered read could stall a large reply;
 *   - hiredis closes the socket itself after calling cleanup: we free the
 *     nginx connection object only, with its fd set to -1;
 *   - after redisAsyncHandleRead() the context may be gone: never touch it;
 *   - reconnects are scheduled from a timer, never from the disconnect
 *     callback.
 */


#include "ngx_tthc_module.h"

#include <hiredis/async.h>


#define NGX_TTHC_REDIS_BACKOFF_MIN  100
#define NGX_TTHC_REDIS_BACKOFF_MAX  5000


typedef struct {
    ngx_http_request_t         *request;
    ngx_tthc_redis_handler_pt   handler;
    void                       *data;
    ngx_event_t                 timer;
    ngx_pool_cleanup_t         *cleanup;
} ngx_tthc_redis_cmd_t;


typedef struct {
    ngx_tthc_main_conf_t       *conf;
    redisAsyncContext          *ac;
    ngx_connection_t           *conn;
    ngx_event_t                 reconnect;
    ngx_msec_t                  backoff;
    ngx_log_t                  *log;
    ngx_uint_t                  connected;
    ngx_uint_t                  exiting;
} ngx_tthc_redis_t;


static ngx_tthc_redis_t  ngx_tthc_redis;


static void ngx_tthc_redis_connect(void);
static void ngx_tthc_redis_schedule_reconnect(void);


/* the event adapter */

static void
ngx_tthc_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    c = ev->data;
    ac = c->data;

    redisAsyncHandleRead(ac);

    /* ac and c may be freed here */
}


static void
ngx_tthc_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    c = ev->data;
    ac = c->data;

    redisAsyncHandleWrite(ac);
}


static void
ngx_tthc_redis_add_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "tthc redis: cannot add read event");
        }
    }
}


static void
ngx_tthc_redis_del_read(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_tthc_redis_add_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ERR, c->log, 0,
                          "tthc redis: cannot add write event");
        }
    }
}


static void
ngx_tthc_redis_del_write(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


static void
ngx_tthc_redis_cleanup(void *privdata)
{
    ngx_connection_t  *c = privdata;

    if (c == NULL) {
        return;
    }

    /* hiredis closes the fd right after this: no epoll_ctl needed */

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;
    ngx_free_connection(c);

    if (ngx_tthc_redis.conn == c) {
        ngx_tthc_redis.conn = NULL;
    }
}


/* connection lifecycle */

static void
ngx_tthc_redis_on_connect(const redisAsyncContext *ac, int status)
{
    if (ac != ngx_tthc_redis.ac) {
        return;
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_tthc_redis.log, 0,
                      "tthc redis: connect to \"%V\" failed: %s",
                      &ngx_tthc_redis.conf->redis, ac->errstr);

        /* hiredis frees the context after this callback */
        ngx_tthc_redis.ac = NULL;
        ngx_tthc_redis.connected = 0;
        ngx_tthc_redis_schedule_reconnect();
        return;
    }

    ngx_log_error(NGX_LOG_INFO, ngx_tthc_redis.log, 0,
                  "tthc redis: connected to \"%V\"",
                  &ngx_tthc_redis.conf->redis);

    ngx_tthc_redis.connected = 1;
    ngx_tthc_redis.backoff = NGX_TTHC_REDIS_BACKOFF_MIN;
}


static void
ngx_tthc_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    if (ac != ngx_tthc_redis.ac) {
        return;
    }

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_WARN, ngx_tthc_redis.log, 0,
                      "tthc redis: connection lost: %s", ac->errstr);
    }

    ngx_tthc_redis.ac = NULL;
    ngx_tthc_redis.connected = 0;

    ngx_tthc_redis_schedule_reconnect();
}


static void
ngx_tthc_redis_reconnect_handler(ngx_event_t *ev)
{
    if (ngx_tthc_redis.exiting || ngx_exiting || ngx_terminate) {
        return;
    }

    ngx_tthc_redis_connect();
}


static void
ngx_tthc_redis_schedule_reconnect(void)
{
    ngx_msec_t  delay;

    if (ngx_tthc_redis.exiting || ngx_exiting || ngx_terminate) {
        return;
    }

    if (ngx_tthc_redis.reconnect.timer_set) {
        return;
    }

    delay = ngx_tthc_redis.backoff;

    ngx_tthc_redis.backoff *= 2;
    if (ngx_tthc_redis.backoff > NGX_TTHC_REDIS_BACKOFF_MAX) {
        ngx_tthc_redis.backoff = NGX_TTHC_REDIS_BACKOFF_MAX;
    }

    ngx_add_timer(&ngx_tthc_redis.reconnect, delay);
}


static void
ngx_tthc_redis_connect(void)
{
    u_char             *p, *last;
    char                host[NGX_SOCKADDR_STRLEN + 1];
    char                path[NGX_MAX_PATH];
    ngx_int_t           port;
    ngx_str_t          *addr;
    ngx_connection_t   *c;
    redisAsyncContext  *ac;

    addr = &ngx_tthc_redis.conf->redis;

    if (addr->len > 5 && ngx_strncmp(addr->data, "unix:", 5) == 0) {
        if (addr->len - 5 >= sizeof(path)) {
            ngx_log_error(NGX_LOG_EMERG, ngx_tthc_redis.log, 0,
                          "tthc redis: socket path too long");
            return;
        }

        ngx_cpystrn((u_char *) path, addr->data + 5, addr->len - 5 + 1);
        ac = redisAsyncConnectUnix(path);

    } else {
        last = addr->data + addr->len;
        p = ngx_strlchr(addr->data, last, ':');

        if (p == NULL || (size_t) (p - addr->data) >= sizeof(host)) {
            ngx_log_error(NGX_LOG_EMERG, ngx_tthc_redis.log, 0,
                          "tthc redis: invalid address \"%V\"", addr);
            return;
        }

        ngx_cpystrn((u_char *) host, addr->data, p - addr->data + 1);

        port = ngx_atoi(p + 1, last - p - 1);
        if (port <= 0 || port > 65535) {
            ngx_log_error(NGX_LOG_EMERG, ngx_tthc_redis.log, 0,
                          "tthc redis: invalid port in \"%V\"", addr);
            return;
        }

        /* an IP literal: hiredis resolves names with a blocking call */
        ac = redisAsyncConnect(host, (int) port);
    }

    if (ac == NULL) {
        ngx_tthc_redis_schedule_reconnect();
        return;
    }

    if (ac->err) {
        ngx_log_error(NGX_LOG_WARN, ngx_tthc_redis.log, 0,
                      "tthc redis: connect to \"%V\" failed: %s",
                      addr, ac->errstr);
        redisAsyncFree(ac);
        ngx_tthc_redis_schedule_reconnect();
        return;
    }

    c = ngx_get_connection(ac->c.fd, ngx_tthc_redis.log);
    if (c == NULL) {
        redisAsyncFree(ac);
        ngx_tthc_redis_schedule_reconnect();
        return;
    }

    c->data = ac;
    c->read->handler = ngx_tthc_redis_read_handler;
    c->write->handler = ngx_tthc_redis_write_handler;
    c->read->log = ngx_tthc_redis.log;
    c->write->log = ngx_tthc_redis.log;

    ac->ev.data = c;
    ac->ev.addRead = ngx_tthc_redis_add_read;
    ac->ev.delRead = ngx_tthc_redis_del_read;
    ac->ev.addWrite = ngx_tthc_redis_add_write;
    ac->ev.delWrite = ngx_tthc_redis_del_write;
    ac->ev.cleanup = ngx_tthc_redis_cleanup;

    ngx_tthc_redis.ac = ac;
    ngx_tthc_redis.conn = c;

    redisAsyncSetConnectCallback(ac, ngx_tthc_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_tthc_redis_on_disconnect);

    /* the connect completes when the socket becomes writable */
    ngx_tthc_redis_add_write(c);
}


ngx_int_t
ngx_tthc_redis_init_process(ngx_cycle_t *cycle, ngx_tthc_main_conf_t *mcf)
{
    ngx_memzero(&ngx_tthc_redis, sizeof(ngx_tthc_redis_t));

    ngx_tthc_redis.conf = mcf;
    ngx_tthc_redis.log = cycle->log;
    ngx_tthc_redis.backoff = NGX_TTHC_REDIS_BACKOFF_MIN;

    ngx_tthc_redis.reconnect.handler = ngx_tthc_redis_reconnect_handler;
    ngx_tthc_redis.reconnect.log = cycle->log;
    ngx_tthc_redis.reconnect.data = &ngx_tthc_redis;
    ngx_tthc_redis.reconnect.cancelable = 1;

    ngx_tthc_redis_connect();

    return NGX_OK;
}


void
ngx_tthc_redis_exit_process(void)
{
    redisAsyncContext  *ac;

    ngx_tthc_redis.exiting = 1;

    if (ngx_tthc_redis.reconnect.timer_set) {
        ngx_del_timer(&ngx_tthc_redis.reconnect);
    }

    ac = ngx_tthc_redis.ac;
    if (ac != NULL) {
        ngx_tthc_redis.ac = NULL;
        redisAsyncFree(ac);
    }
}


ngx_int_t
ngx_tthc_redis_ready(void)
{
    return ngx_tthc_redis.ac != NULL && ngx_tthc_redis.connected;
}


/* commands */

static void
ngx_tthc_redis_cmd_cleanup(void *data)
{
    ngx_tthc_redis_cmd_t  *cmd = data;

    /* the request is going away before the reply came */

    cmd->request = NULL;
    cmd->cleanup = NULL;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }
}


static void
ngx_tthc_redis_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    ngx_tthc_redis_cmd_t  *cmd = privdata;

    void                       *data;
    ngx_connection_t           *c;
    ngx_http_request_t         *r;
    ngx_tthc_redis_handler_pt   handler;

    if (cmd->timer.timer_set) {
        ngx_del_timer(&cmd->timer);
    }

    if (cmd->cleanup) {
        cmd->cleanup->handler = NULL;
    }

    r = cmd->request;
    handler = cmd->handler;
    data = cmd->data;

    ngx_free(cmd);

    if (r == NULL) {
        return;
    }

    c = r->connection;

    handler(r, reply, data);

    ngx_http_run_posted_requests(c);
}


static void
ngx_tthc_redis_timeout_handler(ngx_event_t *ev)
{
    ngx_tthc_redis_cmd_t  *cmd = ev->data;

    void                       *data;
    ngx_connection_t           *c;
    redisAsyncContext          *ac;
    ngx_http_request_t         *r;
    ngx_tthc_redis_handler_pt   handler;

    r = cmd->request;
    handler = cmd->handler;
    data = cmd->data;

    /* detach: the reply callback will free cmd when the context goes */

    cmd->request = NULL;

    if (cmd->cleanup) {
        cmd->cleanup->handler = NULL;
        cmd->cleanup = NULL;
    }

    ngx_log_error(NGX_LOG_ERR, ngx_tthc_redis.log, 0,
                  "tthc redis: command timed out, dropping the connection");

    ac = ngx_tthc_redis.ac;
    if (ac != NULL) {
        ngx_tthc_redis.ac = NULL;
        ngx_tthc_redis.connected = 0;
        redisAsyncFree(ac);
        ngx_tthc_redis_schedule_reconnect();
    }

    /* cmd is freed now */

    if (r == NULL) {
        return;
    }

    c = r->connection;

    handler(r, NULL, data);

    ngx_http_run_posted_requests(c);
}


/*
 * Sends a command on behalf of a request.  On NGX_OK the handler will be
 * called exactly once, with the reply or with NULL (connection lost or
 * timeout); the caller keeps the request alive (r->main->count++) until
 * then.  On NGX_ERROR the handler is never called.
 */

ngx_int_t
ngx_tthc_redis_command(ngx_http_request_t *r, ngx_tthc_redis_handler_pt handler,
    void *data, int argc, const char **argv, const size_t *argvlen)
{
    ngx_pool_cleanup_t    *cln;
    ngx_tthc_redis_cmd_t  *cmd;

    if (!ngx_tthc_redis_ready()) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cmd = ngx_calloc(sizeof(ngx_tthc_redis_cmd_t), r->connection->log);
    if (cmd == NULL) {
        return NGX_ERROR;
    }

    cmd->request = r;
    cmd->handler = handler;
    cmd->data = data;
    cmd->cleanup = cln;

    if (redisAsyncCommandArgv(ngx_tthc_redis.ac, ngx_tthc_redis_reply, cmd,
                              argc, argv, argvlen)
        != REDIS_OK)
    {
        ngx_free(cmd);
        return NGX_ERROR;
    }

    cln->handler = ngx_tthc_redis_cmd_cleanup;
    cln->data = cmd;

    cmd->timer.handler = ngx_tthc_redis_timeout_handler;
    cmd->timer.data = cmd;
    cmd->timer.log = ngx_tthc_redis.log;

    ngx_add_timer(&cmd->timer, ngx_tthc_redis.conf->redis_timeout);

    return NGX_OK;
}


/* a command whose reply nobody waits for (best effort, e.g. a cache fill) */

ngx_int_t
ngx_tthc_redis_fire(int argc, const char **argv, const size_t *argvlen)
{
    if (!ngx_tthc_redis_ready()) {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(ngx_tthc_redis.ac, NULL, NULL, argc, argv,
                              argvlen)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A command whose reply goes to a plain hiredis callback, bound to no
 * request: cb(ac, reply, data) runs once, with NULL if the connection goes
 * first.  The callback must not touch any request (e.g. it notes a script's
 * SHA-1 in process memory); no timer, a stalled Redis is caught by the
 * request-bound commands sent after it on the same connection.
 */

ngx_int_t
ngx_tthc_redis_fire_cb(redisCallbackFn *cb, void *data, int argc,
    const char **argv, const size_t *argvlen)
{
    if (!ngx_tthc_redis_ready()) {
        return NGX_ERROR;
    }

    if (redisAsyncCommandArgv(ngx_tthc_redis.ac, cb, data, argc, argv,
                              argvlen)
        != REDIS_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * The arguments of a job (docs/contracts.md "Jobs"):
 * XADD STREAM * type T key K payload P attempt 0; argv and argvlen must hold
 * NGX_TTHC_JOB_ARGC entries.
 */

int
ngx_tthc_job_argv(const char **argv, size_t *argvlen, const char *stream,
    const char *type, const u_char *key, size_t key_len, const u_char *payload,
    size_t payload_len)
{
    static const char  *fixed[] = { "XADD", NULL, "*", "type", NULL, "key",
                                    NULL, "payload", NULL, "attempt", "0" };
    ngx_uint_t  i;

    for (i = 0; i < NGX_TTHC_JOB_ARGC; i++) {
        argv[i] = fixed[i];
        argvlen[i] = fixed[i] ? ngx_strlen(fixed[i]) : 0;
    }

    argv[1] = stream;
    argvlen[1] = ngx_strlen(stream);
    argv[4] = type;
    argvlen[4] = ngx_strlen(type);
    argv[6] = (const char *) key;
    argvlen[6] = key_len;
    argv[8] = (const char *) payload;
    argvlen[8] = payload_len;

    return NGX_TTHC_JOB_ARGC;
}
