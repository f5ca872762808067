/* rds.c - blocking hiredis connection with reconnect.
 * The socket timeout must stay longer than any XREADGROUP BLOCK time:
 * hiredis turns a read timeout into a fatal context error. */
#include "wk.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void wk_rds_init(wk_rds *r, const wk_conf *conf, long timeout_ms)
{
    memset(r, 0, sizeof(*r));
    r->conf = conf;
    r->timeout_ms = timeout_ms;
}

void wk_rds_close(wk_rds *r)
{
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
}

int wk_rds_connect(wk_rds *r)
{
    wk_rds_close(r);
    struct timeval tv = { r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000 };
    struct timeval ctv = { 2, 0 };
    const char *a = r->conf->redis;
    redisContext *c;
    if (strncmp(a, "unix:", 5) == 0) {
        c = redisConnectUnixWithTimeout(a + 5, ctv);
    } else {
        char host[256];
        int port = 6379;
        const char *colon = strrchr(a, ':');
        size_t hl = colon ? (size_t)(colon - a) : strlen(a);
        if (hl >= sizeof(host))
            return -1;
        memcpy(host, a, hl);
        host[hl] = '\0';
        if (colon)
            port = atoi(colon + 1);
        c = redisConnectWithTimeout(host, port, ctv);
    }
    if (c == NULL)
        return -1;
    if (c->err) {
        wk_debug("redis", "connect failed error=\"%s\"", c->errstr);
        redisFree(c);
        return -1;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        redisFree(c);
        return -1;
    }
    if (strncmp(a, "unix:", 5) != 0 && redisEnableKeepAlive(c) != REDIS_OK) {
        redisFree(c);
        return -1;
    }
    r->c = c;
    return 0;
}

int wk_rds_ensure(wk_rds *r)
{
    if (r->c && !r->c->err)
        return 0;
    return wk_rds_connect(r);
}

static redisReply *after(wk_rds *r, void *rep)
{
    if (rep == NULL) {
        wk_warn("redis", "connection lost error=\"%s\"", r->c && r->c->errstr[0] ? r->c->errstr : "unknown");
        wk_rds_close(r);
        return NULL;
    }
    return rep;
}

redisReply *wk_rds_cmd(wk_rds *r, int argc, const char **argv, const size_t *lens)
{
    if (wk_rds_ensure(r) != 0)
        return NULL;
    return after(r, redisCommandArgv(r->c, argc, argv, lens));
}

redisReply *wk_rds_cmdf(wk_rds *r, const char *fmt, ...)
{
    if (wk_rds_ensure(r) != 0)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    void *rep = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return after(r, rep);
}

int wk_rds_ok(const redisReply *rep)
{
    return rep != NULL && rep->type != REDIS_REPLY_ERROR;
}

int wk_rds_run_id(wk_rds *r, char out[64])
{
    out[0] = '\0';
    redisReply *rep = wk_rds_cmdf(r, "INFO server");
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_STRING) {   /* RESP2 bulk string */
        const char *p = strstr(rep->str, "\nrun_id:");
        if (p != NULL) {
            p += 8;
            size_t n = strcspn(p, "\r\n");
            if (n > 0 && n < 64) {
                memcpy(out, p, n);
                out[n] = '\0';
                rc = 1;
            }
        }
    }
    if (rc == 0)
        wk_warn("redis", "run_id not available from INFO server");
    freeReplyObject(rep);
    return rc;
}
