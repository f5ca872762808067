/* clock.c - "now" of the legal clock (docs/contracts-workflow.md "The
 * clock"): the system time, or, in the test and bench stacks only
 * (tthc.conf `clock = redis`), the system time plus the milliseconds in
 * Redis key tthc:{clock}:offset_ms, read on every call so that a test can
 * move time forward for every worker at once (tthcctl clock ...). */
#include "wk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* an offset must be a whole decimal integer in [0, WK_CLOCK_MAX_OFFSET_MS];
 * returns it, or -1 for anything else (text, negative, absurdly large) */
static int64_t parse_offset(const char *s, size_t len)
{
    char buf[32];
    if (s == NULL || len == 0 || len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || end == buf || *end != '\0' || v < 0 || v > WK_CLOCK_MAX_OFFSET_MS)
        return -1;
    return (int64_t)v;
}

int wk_clock_redis(const wk_rds *r)
{
    return r != NULL && r->conf != NULL && r->conf->clock_redis;
}

int wk_clock_offset_get(wk_rds *r, int64_t *ms)
{
    *ms = 0;
    if (r == NULL)
        return 0;
    redisReply *rep = wk_rds_cmdf(r, "GET %s", WK_K_CLOCK_OFFSET);
    if (rep == NULL || rep->type == REDIS_REPLY_ERROR) {
        if (rep)
            freeReplyObject(rep);
        return -1;
    }
    int found = 0;
    if (rep->type == REDIS_REPLY_STRING) {
        int64_t v = parse_offset(rep->str, rep->len);
        if (v >= 0) {
            *ms = v;
            found = 1;
        }
    }
    freeReplyObject(rep);
    return found;
}

int wk_clock_offset_set(wk_rds *r, int64_t ms)
{
    if (ms < 0 || ms > WK_CLOCK_MAX_OFFSET_MS)
        return -1;
    redisReply *rep = wk_rds_cmdf(r, "SET %s %lld", WK_K_CLOCK_OFFSET, (long long)ms);
    int ok = rep != NULL && rep->type == REDIS_REPLY_STATUS;
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

int wk_clock_offset_reset(wk_rds *r)
{
    redisReply *rep = wk_rds_cmdf(r, "DEL %s", WK_K_CLOCK_OFFSET);
    int ok = rep != NULL && rep->type == REDIS_REPLY_INTEGER;
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

int64_t wk_clock_now_ms(wk_rds *r)
{
    int64_t now = wk_now_ms(), off = 0;
    if (!wk_clock_redis(r))
        return now;
    if (wk_clock_offset_get(r, &off) < 0) {
        /* Redis down: the system time (the caller's own Redis calls fail too) */
        wk_debug("clock", "offset unreadable, using the system time");
        off = 0;
    }
    return now + off;
}

time_t wk_clock_now(wk_rds *r)
{
    int64_t ms = wk_clock_now_ms(r);
    return (time_t)(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
}
