/* queue.c - the Redis stream job queue (docs/contracts.md "Jobs"):
 * consumer group, pending-first reads, XAUTOCLAIM, ack, delayed retry zset
 * and the dead-letter stream; the request/reply stream tthc:{jobs}:rpc is
 * read in the same XREADGROUP (docs/contracts-identity.md "RPC").  All keys
 * share the {jobs} slot. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* XACK+XDEL the entry, then either ZADD it to the delayed set with the next
 * attempt number, or (attempts exhausted) XADD it to the dead stream. */
static const char LUA_FAIL[] =
    "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "local na = tonumber(ARGV[6])\n"
    "if na >= tonumber(ARGV[8]) then\n"
    "  redis.call('XADD', KEYS[3], '*', 'type', ARGV[3], 'key', ARGV[4], 'payload', ARGV[5],\n"
    "             'attempt', tostring(na - 1), 'error', ARGV[9], 'attempts', tostring(na))\n"
    "  return 1\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], ARGV[7], ARGV[10])\n"
    "return 0\n";

/* Move due delayed jobs back to the stream, atomically. */
static const char LUA_MOVE[] =
    "local items = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))\n"
    "for _, m in ipairs(items) do\n"
    "  local ok, j = pcall(cjson.decode, m)\n"
    "  if ok and type(j) == 'table' and type(j.type) == 'string' and type(j.payload) == 'string' then\n"
    "    redis.call('XADD', KEYS[2], '*', 'type', j.type, 'key', tostring(j.key or ''),\n"
    "               'payload', j.payload, 'attempt', tostring(j.attempt or 0))\n"
    "  else\n"
    "    redis.call('XADD', KEYS[3], '*', 'type', 'unknown', 'key', '', 'payload', m,\n"
    "               'attempt', '0', 'error', 'malformed delayed job', 'attempts', '0')\n"
    "  end\n"
    "  redis.call('ZREM', KEYS[1], m)\n"
    "end\n"
    "return #items\n";

static int group_create_on(wk_rds *r, const char *stream)
{
    redisReply *rep = wk_rds_cmdf(r, "XGROUP CREATE %s %s 0 MKSTREAM", stream, WK_GROUP);
    if (rep == NULL)
        return -1;
    int rc = 0;
    if (rep->type == REDIS_REPLY_ERROR) {
        if (strncmp(rep->str, "BUSYGROUP", 9) != 0) {
            wk_error("queue", "group create failed stream=%s error=\"%s\"", stream, rep->str);
            rc = -1;
        }
    } else {
        wk_info("queue", "consumer group created stream=%s group=%s", stream, WK_GROUP);
        rc = 1;
    }
    freeReplyObject(rep);
    return rc;
}

int wk_queue_group_create(wk_rds *r)
{
    /* request/reply stream: losing it only loses requests the edge times out */
    if (group_create_on(r, WK_K_RPC) < 0)
        return -1;
    int rc = group_create_on(r, WK_K_STREAM);
    if (rc == 1)
        r->group_created = 1;   /* the job group was missing: first start, or Redis lost its data */
    return rc;
}

void wk_job_free(wk_job *j)
{
    free(j->type);
    free(j->key);
    free(j->payload);
    memset(j, 0, sizeof(*j));
}

/* entry = [id, [f, v, ...]] or [id, nil] */
static int parse_entry(const redisReply *e, wk_job *j)
{
    memset(j, 0, sizeof(*j));
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING)
        return -1;
    snprintf(j->id, sizeof(j->id), "%s", e->element[0]->str);
    const redisReply *f = e->element[1];
    if (f->type != REDIS_REPLY_ARRAY) {
        j->deleted = 1;
        return 0;
    }
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        if (!strcmp(k->str, "type") && !j->type)
            j->type = wk_memdup0(v->str, v->len);
        else if (!strcmp(k->str, "key") && !j->key)
            j->key = wk_memdup0(v->str, v->len);
        else if (!strcmp(k->str, "payload") && !j->payload) {
            j->payload = wk_memdup0(v->str, v->len);
            j->payload_len = v->len;
        } else if (!strcmp(k->str, "attempt"))
            j->attempt = strtol(v->str, NULL, 10);
    }
    if (j->attempt < 0)
        j->attempt = 0;
    return 0;
}

int wk_queue_read(wk_rds *r, const char *consumer, const char *id, int count,
                  long block_ms, wk_job *jobs, int max)
{
    char cnt[16], blk[24];
    snprintf(cnt, sizeof(cnt), "%d", count < max ? count : max);
    snprintf(blk, sizeof(blk), "%ld", block_ms);
    const char *argv[14];
    int argc = 0;
    argv[argc++] = "XREADGROUP";
    argv[argc++] = "GROUP";
    argv[argc++] = WK_GROUP;
    argv[argc++] = consumer;
    argv[argc++] = "COUNT";
    argv[argc++] = cnt;
    if (block_ms >= 0) {
        argv[argc++] = "BLOCK";
        argv[argc++] = blk;
    }
    argv[argc++] = "STREAMS";
    argv[argc++] = WK_K_RPC;       /* requests first: someone is waiting */
    argv[argc++] = WK_K_STREAM;
    argv[argc++] = id;
    argv[argc++] = id;
    redisReply *rep = wk_rds_cmd(r, argc, argv, NULL);
    if (rep == NULL)
        return -1;
    int n = 0;
    if (rep->type == REDIS_REPLY_ERROR) {
        wk_warn("queue", "xreadgroup failed error=\"%s\"", rep->str);
        if (strncmp(rep->str, "NOGROUP", 7) == 0)
            wk_queue_group_create(r);
        freeReplyObject(rep);
        return -1;
    }
    /* [[stream, [entries]], ...] in the order asked (rpc first) */
    for (size_t k = 0; rep->type == REDIS_REPLY_ARRAY && k < rep->elements; k++) {
        const redisReply *s = rep->element[k];
        if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 || s->element[0]->type != REDIS_REPLY_STRING
            || s->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        int is_rpc = strcmp(s->element[0]->str, WK_K_RPC) == 0;
        const redisReply *es = s->element[1];
        for (size_t i = 0; i < es->elements && n < max; i++)
            if (parse_entry(es->element[i], &jobs[n]) == 0)
                jobs[n++].rpc = is_rpc;
    }
    freeReplyObject(rep);
    return n;
}

static long deliveries_of(wk_rds *r, const char *id)
{
    redisReply *rep = wk_rds_cmdf(r, "XPENDING %s %s %s %s 1", WK_K_STREAM, WK_GROUP, id, id);
    long d = 0;
    if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1) {
        const redisReply *e = rep->element[0];
        if (e->type == REDIS_REPLY_ARRAY && e->elements == 4 && e->element[3]->type == REDIS_REPLY_INTEGER)
            d = (long)e->element[3]->integer;
    }
    if (rep)
        freeReplyObject(rep);
    return d;
}

static int autoclaim_on(wk_rds *r, const char *stream, const char *consumer, long min_idle_ms,
                        wk_job *jobs, int max)
{
    char start[64] = "0-0";
    int n = 0;
    for (int round = 0; round < 10 && n < max; round++) {
        redisReply *rep = wk_rds_cmdf(r, "XAUTOCLAIM %s %s %s %ld %s COUNT %d", stream,
                                      WK_GROUP, consumer, min_idle_ms, start, max - n);
        if (rep == NULL)
            return n > 0 ? n : -1;
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2) {
            if (rep->type == REDIS_REPLY_ERROR) {
                wk_warn("queue", "xautoclaim failed stream=%s error=\"%s\"", stream, rep->str);
                if (strncmp(rep->str, "NOGROUP", 7) == 0)
                    wk_queue_group_create(r);
            }
            freeReplyObject(rep);
            return n > 0 ? n : -1;
        }
        const redisReply *es = rep->element[1];
        for (size_t i = 0; es->type == REDIS_REPLY_ARRAY && i < es->elements && n < max; i++)
            if (es->element[i]->type == REDIS_REPLY_ARRAY && parse_entry(es->element[i], &jobs[n]) == 0)
                n++;
        const redisReply *next = rep->element[0];
        int done = next->type != REDIS_REPLY_STRING || !strcmp(next->str, "0-0");
        if (!done)
            snprintf(start, sizeof(start), "%s", next->str);
        freeReplyObject(rep);
        if (done)
            break;
    }
    return n;
}

int wk_queue_autoclaim(wk_rds *r, const char *consumer, long min_idle_ms,
                       wk_job *jobs, int max, long *deliveries)
{
    int n = autoclaim_on(r, WK_K_STREAM, consumer, min_idle_ms, jobs, max);
    for (int i = 0; i < n && deliveries; i++)
        deliveries[i] = deliveries_of(r, jobs[i].id);
    return n;
}

int wk_queue_autoclaim_rpc(wk_rds *r, const char *consumer, long min_idle_ms,
                           wk_job *jobs, int max)
{
    int n = autoclaim_on(r, WK_K_RPC, consumer, min_idle_ms, jobs, max);
    for (int i = 0; i < n; i++)
        jobs[i].rpc = 1;
    return n;
}

static int ack_on(wk_rds *r, const char *stream, const char *id)
{
    /* both in one round trip; same key so same slot */
    if (wk_rds_ensure(r) != 0)
        return -1;
    redisAppendCommand(r->c, "XACK %s %s %s", stream, WK_GROUP, id);
    redisAppendCommand(r->c, "XDEL %s %s", stream, id);
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        void *rep = NULL;
        if (r->c == NULL || redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
            wk_rds_close(r);
            return -1;
        }
        if (((redisReply *)rep)->type == REDIS_REPLY_ERROR)
            rc = -1;
        freeReplyObject(rep);
    }
    return rc;
}

int wk_queue_ack(wk_rds *r, const char *id)
{
    return ack_on(r, WK_K_STREAM, id);
}

int wk_queue_ack_job(wk_rds *r, const wk_job *j)
{
    return ack_on(r, j->rpc ? WK_K_RPC : WK_K_STREAM, j->id);
}

int wk_queue_fail(wk_rds *r, const wk_conf *conf, const wk_job *j, const char *error,
                  int64_t *due_ms)
{
    long next = j->attempt + 1;
    int shift = j->attempt > 20 ? 20 : (int)j->attempt;
    long delay = wk_jitter(conf->backoff_base_ms * (1L << shift), 20);
    if (delay > 24L * 3600 * 1000)
        delay = 24L * 3600 * 1000;
    long long due = (long long)wk_now_ms() + delay;
    if (due_ms)
        *due_ms = due;

    json_t *m = json_pack("{s:s, s:s, s:s%, s:I, s:s, s:s}",
                          "type", j->type ? j->type : "",
                          "key", j->key ? j->key : "",
                          "payload", j->payload ? j->payload : "", j->payload ? j->payload_len : (size_t)0,
                          "attempt", (json_int_t)next,
                          "id", j->id,
                          "error", error ? error : "");
    char *member = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    if (member == NULL)
        return -1;
    char s_next[24], s_due[24], s_max[24];
    snprintf(s_next, sizeof(s_next), "%ld", next);
    snprintf(s_due, sizeof(s_due), "%lld", due);
    snprintf(s_max, sizeof(s_max), "%ld", conf->max_attempts);
    const char *argv[] = { "EVAL", LUA_FAIL, "3", WK_K_STREAM, WK_K_DELAYED, WK_K_DEAD,
                           WK_GROUP, j->id, j->type ? j->type : "", j->key ? j->key : "",
                           j->payload ? j->payload : "", s_next, s_due, s_max,
                           error ? error : "", member };
    size_t lens[16];
    for (int i = 0; i < 16; i++)
        lens[i] = strlen(argv[i]);
    if (j->payload)
        lens[10] = j->payload_len;
    redisReply *rep = wk_rds_cmd(r, 16, argv, lens);
    free(member);
    if (rep == NULL)
        return -1;
    int rc = -1;
    if (rep->type == REDIS_REPLY_INTEGER)
        rc = (int)rep->integer;
    else if (rep->type == REDIS_REPLY_ERROR)
        wk_error("queue", "fail script error=\"%s\"", rep->str);
    freeReplyObject(rep);
    return rc;
}

long wk_queue_move_delayed(wk_rds *r, long limit)
{
    char now[24], lim[24];
    snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *argv[] = { "EVAL", LUA_MOVE, "3", WK_K_DELAYED, WK_K_STREAM, WK_K_DEAD, now, lim };
    redisReply *rep = wk_rds_cmd(r, 8, argv, NULL);
    if (rep == NULL)
        return -1;
    long n = -1;
    if (rep->type == REDIS_REPLY_INTEGER)
        n = (long)rep->integer;
    else if (rep->type == REDIS_REPLY_ERROR)
        wk_error("queue", "delayed mover error=\"%s\"", rep->str);
    freeReplyObject(rep);
    return n;
}

int wk_queue_touch(wk_rds *r, const char *consumer, const char *id)
{
    redisReply *rep = wk_rds_cmdf(r, "XCLAIM %s %s %s 0 %s JUSTID", WK_K_STREAM, WK_GROUP, consumer, id);
    int rc = wk_rds_ok(rep) ? 0 : -1;
    if (rep)
        freeReplyObject(rep);
    return rc;
}

int wk_queue_release(wk_rds *r, const char *consumer, const char *id)
{
    /* IDLE far in the past: the next XAUTOCLAIM anywhere takes it at once */
    redisReply *rep = wk_rds_cmdf(r, "XCLAIM %s %s %s 0 %s IDLE 864000000 JUSTID",
                                  WK_K_STREAM, WK_GROUP, consumer, id);
    int rc = wk_rds_ok(rep) ? 0 : -1;
    if (rep)
        freeReplyObject(rep);
    return rc;
}

int wk_queue_dead_add(wk_rds *r, const char *type, const char *key,
                      const char *payload, size_t plen, long attempts, const char *error)
{
    char a[24], a1[24];
    snprintf(a, sizeof(a), "%ld", attempts);
    snprintf(a1, sizeof(a1), "%ld", attempts > 0 ? attempts - 1 : 0);
    const char *argv[] = { "XADD", WK_K_DEAD, "*", "type", type, "key", key, "payload", payload,
                           "attempt", a1, "error", error, "attempts", a };
    size_t lens[15];
    for (int i = 0; i < 15; i++)
        lens[i] = strlen(argv[i]);
    lens[8] = plen;
    redisReply *rep = wk_rds_cmd(r, 15, argv, lens);
    int rc = wk_rds_ok(rep) ? 0 : -1;
    if (rep)
        freeReplyObject(rep);
    return rc;
}
