/* session.c - sessions created at sign-in (docs/contracts-identity.md
 * "Sessions"): hash tthc:sess:{sha256hex(SID)} written with HSET + EXPIRE in
 * one MULTI.  A Redis dump holds no usable session id; the SID and the CSRF
 * token are never logged.  An official's sessions are also listed in
 * tthc:u:{staff:UID}:sessions (a set of session hashes, expiring with the
 * longest session) so that locking the account, changing its roles or its
 * password ends them all at once (wk_sessions_revoke). */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

void wk_random_b64url32(char out[44])
{
    unsigned char b[32];
    randombytes_buf(b, sizeof(b));
    sodium_bin2base64(out, 44, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(b, sizeof(b));
}

wk_rc wk_session_create(wk_rds *r, const wk_conf *conf, const char *kind,
                        const wk_kv *fields, int n, char sid[44], char csrf[44])
{
    enum { FIXED = 4, MAXF = 24 };
    if (n < 0 || n > MAXF - FIXED)
        return WK_PERMANENT;
    wk_random_b64url32(sid);
    wk_random_b64url32(csrf);
    char h[65], key[96], created[24], abs_exp[24], idle[24];
    wk_sha256_hex(sid, strlen(sid), h);
    snprintf(key, sizeof(key), "tthc:sess:{%s}", h);
    time_t now = time(NULL);
    snprintf(created, sizeof(created), "%lld", (long long)now);
    snprintf(abs_exp, sizeof(abs_exp), "%lld", (long long)now + conf->session_abs_s);
    snprintf(idle, sizeof(idle), "%ld", conf->session_idle_s);

    const char *argv[2 + 2 * MAXF];
    int argc = 0;
    argv[argc++] = "HSET";
    argv[argc++] = key;
    const wk_kv fixed[FIXED] = {
        { "kind", kind }, { "csrf", csrf }, { "created", created }, { "abs_exp", abs_exp },
    };
    for (int i = 0; i < FIXED; i++) {
        argv[argc++] = fixed[i].k;
        argv[argc++] = fixed[i].v;
    }
    for (int i = 0; i < n; i++) {
        argv[argc++] = fields[i].k;
        argv[argc++] = fields[i].v ? fields[i].v : "";
    }
    if (wk_rds_ensure(r) != 0)
        return WK_TRANSIENT;
    const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" };
    const char *exp[] = { "EXPIRE", key, idle };
    redisAppendCommandArgv(r->c, 1, multi, NULL);
    redisAppendCommandArgv(r->c, argc, argv, NULL);
    redisAppendCommandArgv(r->c, 3, exp, NULL);
    redisAppendCommandArgv(r->c, 1, exec, NULL);
    const char *uid = NULL;
    for (int i = 0; i < n; i++)
        if (!strcmp(fields[i].k, "uid"))
            uid = fields[i].v;
    wk_rc rc = WK_OK;
    for (int i = 0; i < 4; i++) {
        void *rep = NULL;
        if (r->c == NULL || redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
            wk_rds_close(r);
            return WK_TRANSIENT;
        }
        redisReply *x = rep;
        if (x->type == REDIS_REPLY_ERROR)
            rc = WK_TRANSIENT;
        if (i == 3 && (x->type != REDIS_REPLY_ARRAY || x->elements != 2))
            rc = WK_TRANSIENT;     /* EXEC aborted */
        freeReplyObject(rep);
    }
    if (rc == WK_OK && !strcmp(kind, "staff") && uid) {
        /* the account's index of its sessions (its own slot; after the
         * pipelined MULTI above has been read back; best effort: sessions
         * expire by themselves anyway) */
        redisReply *x = wk_rds_cmdf(r, "SADD tthc:u:{staff:%s}:sessions %s", uid, h);
        if (x)
            freeReplyObject(x);
        x = wk_rds_cmdf(r, "EXPIRE tthc:u:{staff:%s}:sessions %ld", uid, conf->session_abs_s);
        if (x)
            freeReplyObject(x);
    }
    return rc;
}

/* ends every session of an official: one DEL per session key (each in its
 * own slot), then the index */
wk_rc wk_sessions_revoke(wk_rds *r, long long official_id, long *count)
{
    redisReply *m = wk_rds_cmdf(r, "SMEMBERS tthc:u:{staff:%lld}:sessions", official_id);
    if (m == NULL || m->type != REDIS_REPLY_ARRAY) {
        if (m)
            freeReplyObject(m);
        return WK_TRANSIENT;
    }
    long n = 0;
    for (size_t i = 0; i < m->elements; i++) {
        if (m->element[i]->type != REDIS_REPLY_STRING)
            continue;
        redisReply *d = wk_rds_cmdf(r, "DEL tthc:sess:{%s}", m->element[i]->str);
        if (d == NULL) {
            freeReplyObject(m);
            return WK_TRANSIENT;
        }
        n += d->type == REDIS_REPLY_INTEGER ? d->integer : 0;
        freeReplyObject(d);
    }
    freeReplyObject(m);
    redisReply *d = wk_rds_cmdf(r, "DEL tthc:u:{staff:%lld}:sessions", official_id);
    if (d)
        freeReplyObject(d);
    if (count)
        *count = n;
    return d ? WK_OK : WK_TRANSIENT;
}
