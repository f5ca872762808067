/* reconcile.c - repairs after Redis data loss or lost jobs; one leader at a
 * time (tthc:{lock}:reconcile lease).  A pass: catalogue (+ all views) when
 * the catalogue is gone, sequence counters whose ready key is gone, orphaned
 * journal files older than journal_grace_ms, missing views, idle consumers. */
#include "wk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char LUA_LEASE[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end\n"
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
    "return 0\n";

static int take_lease(wk_rds *r, const char *me, long ttl_ms)
{
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
    const char *argv[] = { "EVAL", LUA_LEASE, "1", WK_K_LOCK_RECON, me, ttl };
    redisReply *rep = wk_rds_cmd(r, 6, argv, NULL);
    int rc = -1;
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        rc = (int)rep->integer;
    if (rep)
        freeReplyObject(rep);
    return rc;
}

static const char LUA_UNLEASE[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

void wk_reconcile_release(wk_rds *r, const char *me)
{
    const char *argv[] = { "EVAL", LUA_UNLEASE, "1", WK_K_LOCK_RECON, me };
    redisReply *rep = wk_rds_cmd(r, 5, argv, NULL);
    if (rep)
        freeReplyObject(rep);
}

static void park_failed(const wk_conf *conf, wk_rds *r, const char *name, const char *code,
                        const char *payload, size_t len, const char *err)
{
    char from[1024], dir[1024], to[1200];
    snprintf(from, sizeof(from), "%s/journal/%s", conf->store, name);
    snprintf(dir, sizeof(dir), "%s/journal/failed", conf->store);
    snprintf(to, sizeof(to), "%s/%s", dir, name);
    char e[300];
    snprintf(e, sizeof(e), "reconciler: %s", err);
    if (wk_queue_dead_add(r, WK_JOB_SUBMITTED, code, payload, len, 1, e) != 0)
        return;   /* keep the file; try again next pass */
    if ((mkdir(dir, 0750) != 0 && errno != EEXIST) || rename(from, to) != 0)
        wk_warn("reconcile", "cannot park failed journal file code=%s error=\"%s\"", code, strerror(errno));
    else
        wk_warn("reconcile", "journal file rejected and dead-lettered code=%s reason=\"%s\"", code, err);
}

long wk_journal_sweep(wk_db *db, wk_rds *r, const wk_conf *conf, long grace_ms,
                      volatile sig_atomic_t *stop)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/journal", conf->store);
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    int64_t now = wk_now_ms();
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (stop && *stop)
            break;
        size_t len = strlen(e->d_name);
        if (len < 6 || len > 100 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char code[100], agency[32], date[7];
        int seq;
        memcpy(code, e->d_name, len - 5);
        code[len - 5] = '\0';
        if (wk_code_parse(code, agency, date, &seq) != 0)
            continue;
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        int64_t mt = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (now - mt < grace_ms)
            continue;
        char *buf = NULL;
        size_t blen = 0;
        if (wk_read_file(path, &buf, &blen) != 0)
            continue;   /* removed meanwhile by a worker */
        char err[256];
        wk_rc rc = wk_ingest(db, r, conf, buf, blen, err, sizeof(err));
        if (rc == WK_OK) {
            wk_info("reconcile", "orphaned journal file ingested code=%s", code);
            n++;
        } else if (rc == WK_PERMANENT) {
            park_failed(conf, r, e->d_name, code, buf, blen, err);
        } else {
            wk_warn("reconcile", "journal ingest deferred code=%s reason=\"%s\"", code, err);
            free(buf);
            closedir(d);
            return -1;
        }
        free(buf);
    }
    closedir(d);
    return n;
}

/* drop consumers that own nothing and have been idle for an hour */
static void prune_consumers(wk_rds *r)
{
    redisReply *rep = wk_rds_cmdf(r, "XINFO CONSUMERS %s %s", WK_K_STREAM, WK_GROUP);
    if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
        if (rep)
            freeReplyObject(rep);
        return;
    }
    for (size_t i = 0; i < rep->elements; i++) {
        const redisReply *c = rep->element[i];
        const char *name = NULL;
        long long pending = -1, idle = 0;
        for (size_t k = 0; c->type == REDIS_REPLY_ARRAY && k + 1 < c->elements; k += 2) {
            const char *f = c->element[k]->str;
            const redisReply *v = c->element[k + 1];
            if (!f)
                continue;
            if (!strcmp(f, "name") && v->type == REDIS_REPLY_STRING)
                name = v->str;
            else if (!strcmp(f, "pending") && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
            else if (!strcmp(f, "idle") && v->type == REDIS_REPLY_INTEGER)
                idle = v->integer;
        }
        if (name && pending == 0 && idle > 3600 * 1000LL) {
            redisReply *x = wk_rds_cmdf(r, "XGROUP DELCONSUMER %s %s %s", WK_K_STREAM, WK_GROUP, name);
            if (x)
                freeReplyObject(x);
            if (r->c == NULL)
                break;
        }
    }
    freeReplyObject(rep);
}

wk_rc wk_reconcile_pass(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me,
                        int force, wk_recon_state *st, volatile sig_atomic_t *stop)
{
    if (!force) {
        int lease = take_lease(r, me, 3 * conf->reconcile_interval_ms + conf->journal_grace_ms + 10000);
        if (lease < 0)
            return WK_TRANSIENT;
        if (lease == 0)
            return WK_OK;   /* someone else leads */
    }
    if (wk_db_ensure(db) != 0) {
        wk_warn("reconcile", "mariadb unavailable errno=%u", db->last_errno);
        return WK_TRANSIENT;
    }
    int missing = wk_catalogue_missing(r);
    if (missing < 0)
        return WK_TRANSIENT;
    if (missing) {
        long long ver = 0;
        long np = 0, nv = 0;
        wk_rc rc = wk_catalogue_publish(db, r, &ver, &np);
        if (rc != WK_OK)
            return rc;
        wk_info("reconcile", "catalogue was missing, republished version=%lld procedures=%ld", ver, np);
        if ((rc = wk_view_rebuild_all(db, r, 1, &nv)) != WK_OK)
            return rc;
        wk_info("reconcile", "views rebuilt count=%ld", nv);
        st->last_view_check_ms = wk_now_ms();
    }
    long seeded = 0;
    wk_rc rc = wk_seq_seed(db, r, conf, 0, stop, &seeded);
    if (rc != WK_OK)
        return rc;
    if (wk_journal_sweep(db, r, conf, conf->journal_grace_ms, stop) < 0)
        return WK_TRANSIENT;
    int64_t now = wk_now_ms();
    if (!st->views_done_once || now - st->last_view_check_ms > 60000) {
        long nv = 0;
        if ((rc = wk_view_rebuild_all(db, r, 1, &nv)) != WK_OK)
            return rc;
        if (nv > 0)
            wk_info("reconcile", "missing views rebuilt count=%ld", nv);
        st->views_done_once = 1;
        st->last_view_check_ms = now;
        prune_consumers(r);
    }
    return WK_OK;
}
