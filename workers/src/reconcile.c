/* reconcile.c - repairs after Redis data loss or lost jobs; one leader at a
 * time (tthc:{lock}:reconcile lease).  A pass: catalogue (+ all views) when
 * the catalogue is gone, sequence counters whose ready key is gone or was
 * set under another Redis run_id, orphaned journal files (untouched for
 * journal_orphan_ms; journal_grace_ms right after a data loss), missing
 * views, idle consumers, old journal/done/ files. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* signs that Redis lost data: the consumer group had to be re-created
     * (by any consumer on this connection, or now), the catalogue or a
     * ready key is gone, the run_id changed (see wk_seq_seed) */
    if (wk_queue_group_create(r) < 0)
        return WK_TRANSIENT;
    if (r->group_created) {
        r->group_created = 0;
        st->data_loss = 1;
    }
    int missing = wk_catalogue_missing(r);
    if (missing < 0)
        return WK_TRANSIENT;
    if (missing) {
        long long ver = 0;
        long np = 0, nv = 0;
        st->data_loss = 1;
        wk_rc rc = wk_catalogue_publish(db, r, &ver, &np);
        if (rc != WK_OK)
            return rc;
        wk_info("reconcile", "catalogue was missing, republished version=%lld procedures=%ld", ver, np);
        /* the views follow in slices (below), so requests keep being answered */
        (void)nv;
        st->views_done_once = 0;
    }
    long seeded = 0;
    int lost = 0;
    wk_rc rc = wk_seq_seed(db, r, conf, 0, stop, &seeded, &lost);
    if (lost)
        st->data_loss = 1;
    if (rc != WK_OK)
        return rc;
    /* normally a journal file is an orphan once nobody touched it for
     * journal_orphan_ms (a pending or retrying job keeps it younger); right
     * after a data loss the jobs are gone: journal_grace_ms is enough */
    long min_age = st->data_loss ? conf->journal_grace_ms : conf->journal_orphan_ms;
    long swept = wk_journal_sweep(db, r, conf, min_age, stop);
    if (swept < 0)
        return WK_TRANSIENT;
    /* the inbox read model (issue 4): rebuilt when Redis restarted or
     * failed over (writes may be lost) or its marker is missing */
    redisReply *ib = wk_rds_cmdf(r, "EXISTS %s", WK_K_INBOX_BUILT);
    int ib_missing = ib && ib->type == REDIS_REPLY_INTEGER && ib->integer == 0;
    if (ib)
        freeReplyObject(ib);
    if (st->data_loss || ib_missing) {
        long ni = 0;
        if ((rc = wk_inbox_rebuild(db, r, &ni)) != WK_OK)
            return rc;
        wk_info("reconcile", "inbox rebuilt open_dossiers=%ld", ni);
    }
    if (st->data_loss) {
        /* views that survived may predate the lost writes */
        long nr = 0;
        if ((rc = wk_view_refresh_recent(db, r, 15, &nr)) != WK_OK)
            return rc;
        wk_info("reconcile", "views of recently changed dossiers republished count=%ld", nr);
    }
    if (st->data_loss) {
        wk_info("reconcile", "journal swept after redis data loss ingested=%ld min_age_ms=%ld", swept, min_age);
        st->data_loss = 0;
    }
    int64_t now = wk_now_ms();
    if (!st->views_done_once || now - st->last_view_check_ms > 60000) {
        long nv = 0;
        int more = 0;
        if ((rc = wk_view_rebuild_missing_slice(db, r, 2000, &nv, &more)) != WK_OK)
            return rc;
        if (nv > 0)
            wk_info("reconcile", "missing views rebuilt count=%ld more=%d", nv, more);
        long na = 0;
        if ((rc = wk_applicant_rebuild_all(db, r, 1, &na)) != WK_OK)
            return rc;
        if (na > 0)
            wk_info("reconcile", "missing applicant lists rebuilt count=%ld", na);
        st->views_done_once = 1;
        st->last_view_check_ms = more ? now - 60000 : now;     /* go on at the next pass */
        prune_consumers(r);
        long pruned = wk_journal_prune_done(conf, WK_DONE_KEEP_MS);
        if (pruned > 0)
            wk_info("reconcile", "old journal/done files removed count=%ld", pruned);
    }
    return WK_OK;
}
