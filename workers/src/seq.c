/* seq.c - seed the per-agency daily sequence counters (D1) from MariaDB and
 * the journal (journal/, done/, failed/), then mark them ready with the Redis
 * run_id (docs/contracts.md "Sequence script").  A ready key holding another
 * run_id means Redis restarted or failed over since the seeding: the last
 * INCRs may be lost, so the counters are seeded again (raise only). */
#include "wk.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Raise both day counters to at least the given values (never lower),
 * refresh their TTL, then SET ready to the run_id. One slot: {seq:AGENCY}. */
static const char LUA_SEED[] =
    "for i = 2, 3 do\n"
    "  local v = tonumber(ARGV[i - 1])\n"
    "  local cur = tonumber(redis.call('GET', KEYS[i]) or '0') or 0\n"
    "  if v > cur then redis.call('SET', KEYS[i], v) end\n"
    "  redis.call('EXPIRE', KEYS[i], ARGV[3])\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[4])\n"
    "return 1\n";

typedef struct { char agency[32]; char date[7]; int max; } jmax;
typedef struct { char (*codes)[32]; int n, cap; } ag_ud;

static int ag_cb(const wk_row *r, void *ud)
{
    ag_ud *a = ud;
    if (a->n == a->cap) {
        int nc = a->cap ? a->cap * 2 : 32;
        void *p = realloc(a->codes, (size_t)nc * sizeof(*a->codes));
        if (p == NULL)
            return 1;
        a->codes = p;
        a->cap = nc;
    }
    snprintf(a->codes[a->n++], 32, "%s", r->v[0]);
    return 0;
}

/* max seq per (agency, date) among the files of one journal directory */
static int scan_dir(const char *dir, const char *d1, const char *d2, jmax **out, int *nout, int *cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;   /* no journal (or no done/, failed/) yet */
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || n > 80 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char code[80], agency[32], date[7];
        int seq;
        memcpy(code, e->d_name, n - 5);
        code[n - 5] = '\0';
        if (wk_code_parse(code, agency, date, &seq) != 0)
            continue;
        if (strcmp(date, d1) && strcmp(date, d2))
            continue;
        int i;
        for (i = 0; i < *nout; i++)
            if (!strcmp((*out)[i].agency, agency) && !strcmp((*out)[i].date, date))
                break;
        if (i == *nout) {
            if (*nout == *cap) {
                int nc = *cap ? *cap * 2 : 16;
                void *p = realloc(*out, (size_t)nc * sizeof(**out));
                if (p == NULL) {
                    closedir(d);
                    return -1;
                }
                *out = p;
                *cap = nc;
            }
            snprintf((*out)[i].agency, 32, "%s", agency);
            snprintf((*out)[i].date, 7, "%s", date);
            (*out)[i].max = 0;
            (*nout)++;
        }
        if (seq > (*out)[i].max)
            (*out)[i].max = seq;
    }
    closedir(d);
    return 0;
}

/* Every code handed out: journal/ (claimed), done/ (ingested, kept as a
 * claim), failed/ (dead-lettered).  journal/ is read first: a file renamed
 * to done/ or failed/ meanwhile is seen there (or in MariaDB, read last). */
static int scan_journal(const wk_conf *conf, const char *d1, const char *d2, jmax **out, int *nout)
{
    static const char *const subs[] = { "", "/done", "/failed" };
    *out = NULL;
    *nout = 0;
    int cap = 0;
    for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
        char dir[1024];
        snprintf(dir, sizeof(dir), "%s/journal%s", conf->store, subs[k]);
        if (scan_dir(dir, d1, d2, out, nout, &cap) != 0)
            return -1;
    }
    return 0;
}

static int jget(const jmax *j, int n, const char *agency, const char *date)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(j[i].agency, agency) && !strcmp(j[i].date, date))
            return j[i].max;
    return 0;
}

/* 1 ready under run_id, 0 missing, 2 stale (set under another run_id or
 * by an older worker), -1 redis error */
static int ready_state(wk_rds *r, const char *agency, const char *run_id)
{
    redisReply *rep = wk_rds_cmdf(r, "GET tthc:{seq:%s}:ready", agency);
    int rc = -1;
    if (rep && rep->type == REDIS_REPLY_NIL)
        rc = 0;
    else if (rep && rep->type == REDIS_REPLY_STRING)
        rc = run_id[0] == '\0' || strcmp(rep->str, run_id) == 0 ? 1 : 2;
    if (rep)
        freeReplyObject(rep);
    return rc;
}

wk_rc wk_seq_seed(wk_db *db, wk_rds *r, const wk_conf *conf, int all,
                  volatile sig_atomic_t *stop, long *seeded, int *lost)
{
    ag_ud a = { NULL, 0, 0 };
    if (seeded)
        *seeded = 0;
    char run_id[64];
    if (wk_rds_run_id(r, run_id) < 0)
        return WK_TRANSIENT;
    if (wk_db_exec(db, "SELECT code FROM agencies ORDER BY code", NULL, 0, ag_cb, &a, NULL, NULL) != 0) {
        free(a.codes);
        return WK_TRANSIENT;
    }
    char *todo = calloc((size_t)a.n + 1, 1);
    int nmissing = 0, nstale = 0, ntodo = 0;
    wk_rc rc = WK_OK;
    if (todo == NULL) {
        rc = WK_TRANSIENT;
        goto out;
    }
    for (int i = 0; i < a.n; i++) {
        int ready = ready_state(r, a.codes[i], run_id);
        if (ready < 0) {
            rc = WK_TRANSIENT;
            goto out;
        }
        nmissing += ready == 0;
        nstale += ready == 2;
        if (all || ready != 1) {
            todo[i] = 1;
            ntodo++;
        }
    }
    if (ntodo == 0)
        goto out;
    if (nmissing || nstale) {
        /* Redis lost data (missing) or may have lost its last writes
         * (restart, failover: stale run_id).  Let in-flight journal writes
         * land before we look at the journal. */
        if (lost)
            *lost = 1;
        wk_info("seq", "counters to re-seed, waiting for journal grace missing=%d run_id_changed=%d"
                " grace_ms=%ld", nmissing, nstale, conf->journal_grace_ms);
        if (wk_sleep_interruptible(conf->journal_grace_ms, stop)) {
            rc = WK_TRANSIENT;
            goto out;
        }
    }
    time_t now = time(NULL);
    char d1[7], d2[7];
    wk_local_yymmdd(now, d1);
    wk_local_yymmdd(now - 86400, d2);
    jmax *jm = NULL;
    int njm = 0;
    if (scan_journal(conf, d1, d2, &jm, &njm) != 0) {
        free(jm);
        rc = WK_TRANSIENT;
        goto out;
    }
    for (int i = 0; i < a.n && rc == WK_OK; i++) {
        if (!todo[i])
            continue;
        long long v[2] = { 0, 0 };
        const char *dates[2] = { d1, d2 };
        for (int k = 0; k < 2; k++) {
            wk_param p[] = { WK_STR(a.codes[i]), WK_STR(dates[k]) };
            long long x = 0;
            if (wk_db_get_ll(db, "SELECT COALESCE(MAX(d.seq), 0) FROM dossiers d"
                                 " JOIN agencies a ON a.id = d.agency_id"
                                 " WHERE a.code = ? AND d.seq_date = ?", p, 2, &x) < 0) {
                rc = WK_TRANSIENT;
                break;
            }
            int j = jget(jm, njm, a.codes[i], dates[k]);
            v[k] = x > j ? x : j;
        }
        if (rc != WK_OK)
            break;
        char kr[96], k1[96], k2[96], v1[24], v2[24], ttl[24];
        const char *rv = run_id[0] ? run_id : "1";
        snprintf(kr, sizeof(kr), "tthc:{seq:%s}:ready", a.codes[i]);
        snprintf(k1, sizeof(k1), "tthc:{seq:%s}:%s", a.codes[i], d1);
        snprintf(k2, sizeof(k2), "tthc:{seq:%s}:%s", a.codes[i], d2);
        snprintf(v1, sizeof(v1), "%lld", v[0]);
        snprintf(v2, sizeof(v2), "%lld", v[1]);
        snprintf(ttl, sizeof(ttl), "%d", WK_SEQ_TTL_S);
        const char *argv[] = { "EVAL", LUA_SEED, "3", kr, k1, k2, v1, v2, ttl, rv };
        redisReply *rep = wk_rds_cmd(r, 10, argv, NULL);
        if (!wk_rds_ok(rep)) {
            if (rep)
                wk_error("seq", "seed script failed error=\"%s\"", rep->str);
            rc = WK_TRANSIENT;
        } else {
            wk_info("seq", "counters seeded agency=%s %s=%lld %s=%lld", a.codes[i], d1, v[0], d2, v[1]);
            if (seeded)
                (*seeded)++;
        }
        if (rep)
            freeReplyObject(rep);
    }
    free(jm);
out:
    free(todo);
    free(a.codes);
    return rc;
}
