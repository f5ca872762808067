/* inbox.c - the officials' inbox read model and the warner (issue 4;
 * docs/contracts-workflow.md "Inbox read model", "Warner"; DOMAIN T9).
 *
 *   tthc:ib:{ag:A}:items         HASH code -> item JSON (open dossiers at A)
 *   tthc:ib:{ag:A}:q:ROLE[:dD]   ZSET code -> urgency (red_at, epoch s)
 *   tthc:ib:{ag:A}:u:UID         ZSET dossiers assigned to one official
 *   tthc:d:{CODE}:ib             STRING "A|zset key": where the item is now
 *   tthc:{warn}:due              ZSET code -> next colour change (epoch s)
 *
 * An item carries its thresholds (yellow_at, red_at, step_warn_at,
 * step_due_at), so the edge colours it at its own "now" without a
 * calendar; the warner marks dossiers.warning when a threshold passes,
 * without waiting for anyone to look.  Moving an item between agencies
 * takes separate commands (different hash slots); a crash in between
 * leaves a stale entry that the next sync of the dossier, or
 * `tthcctl inbox rebuild`, removes. */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAR_FUTURE  4102444800LL     /* 2100-01-01: "no warning" */
#define WARN_KEY    "tthc:{warn}:due"
#define WARN_LEASE  60

void wf_thresholds(const tthc_calendar_t *cal, const wf_dossier *d, time_t transfer_due,
                   time_t *yellow_at, time_t *red_at)
{
    *yellow_at = *red_at = 0;
    if (d->due_at == 0)
        return;
    *red_at = d->due_at;
    if (transfer_due && transfer_due < *red_at)
        *red_at = transfer_due;
    *yellow_at = tthc_warn_instant(cal, d->due_at, 480LL * 60);
    if (transfer_due) {
        time_t ty = tthc_warn_instant(cal, transfer_due, 480LL * 60);
        if (ty < *yellow_at)
            *yellow_at = ty;
    }
    if (*yellow_at > *red_at)
        *yellow_at = *red_at;
}

typedef struct {
    int found;
    char aname[256], pname[600], assignee[256];
    time_t transfer_due, step_start, step_due;
    long budget;
} extra_ud;

static int extra_cb(const wk_row *r, void *ud)
{
    extra_ud *u = ud;
    u->found = 1;
    snprintf(u->aname, sizeof(u->aname), "%s", r->v[0] ? r->v[0] : "");
    snprintf(u->pname, sizeof(u->pname), "%s", r->v[1] ? r->v[1] : "");
    if (r->v[2])
        wk_dbtime_parse(r->v[2], &u->transfer_due);
    if (r->v[3])
        wk_dbtime_parse(r->v[3], &u->step_start);
    if (r->v[4])
        wk_dbtime_parse(r->v[4], &u->step_due);
    snprintf(u->assignee, sizeof(u->assignee), "%s", r->v[5] ? r->v[5] : "");
    return 1;
}

/* one agency's keys at once (same hash tag): the item, its line, its
 * queue and the queue's procedure and status indexes */
static const char *PLACE_LUA =
    "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
    "redis.call('HSET', KEYS[2], ARGV[1], ARGV[3]) "
    "for i = 3, 5 do redis.call('ZADD', KEYS[i], ARGV[4], ARGV[1]) end "
    "return 1";
static const char *UNPLACE_LUA =
    "for i = 1, 3 do redis.call('ZREM', KEYS[i], ARGV[1]) end "
    "if ARGV[2] == '1' then redis.call('HDEL', KEYS[4], ARGV[1]) redis.call('HDEL', KEYS[5], ARGV[1]) end "
    "return 1";

static void loc_key(const char *code, char *out, size_t n)
{
    snprintf(out, n, "tthc:d:{%s}:ib", code);
}

static const char *colour_at(const wf_dossier *d, time_t now, time_t y, time_t red)
{
    if (strcmp(d->stage, "step") && strcmp(d->stage, "result"))
        return NULL;
    if (red && now >= red)
        return "red";
    if (y && now >= y)
        return "yellow";
    return "green";
}

static time_t next_after(time_t now, const time_t *t, int n)
{
    time_t best = 0;
    for (int i = 0; i < n; i++)
        if (t[i] > now && t[i] < FAR_FUTURE && (best == 0 || t[i] < best))
            best = t[i];
    return best;
}

wk_rc wf_inbox_sync(wk_db *db, wk_rds *r, const char *code)
{
    wf_dossier d;
    int f = wf_dossier_load(db, code, 0, 0, &d);
    if (f < 0)
        return WK_TRANSIENT;
    if (f == 0)
        return WK_OK;
    wf_process p;
    int pf = wf_process_load(db, &d, &p);
    if (pf < 0)
        return WK_TRANSIENT;
    const tthc_calendar_t *cal = wk_calendar(db);
    time_t now = (time_t)(wk_clock_now_ms(r) / 1000);

    /* where it belongs now */
    char agency[40] = "", zkey[200] = "";
    const wf_step *s = NULL;
    long long ag_id = 0;
    if (!strcmp(d.stage, "reception") || !strcmp(d.stage, "result") || !strcmp(d.stage, "done")) {
        snprintf(agency, sizeof(agency), "%s", d.agency);
        snprintf(zkey, sizeof(zkey), "tthc:ib:{ag:%s}:q:desk_officer", agency);
        ag_id = d.agency_id;
    } else if (!strcmp(d.stage, "step") && pf == 1 && (s = wf_step_at(&p, d.step_pos)) != NULL) {
        snprintf(agency, sizeof(agency), "%s", s->agency);
        ag_id = s->agency_id;
        if (d.assignee_id)
            snprintf(zkey, sizeof(zkey), "tthc:ib:{ag:%s}:u:%lld", agency, d.assignee_id);
        else if (s->dept_id)
            snprintf(zkey, sizeof(zkey), "tthc:ib:{ag:%s}:q:%s:d%lld", agency, s->role, s->dept_id);
        else
            snprintf(zkey, sizeof(zkey), "tthc:ib:{ag:%s}:q:%s", agency, s->role);
    }

    extra_ud x;
    memset(&x, 0, sizeof(x));
    wk_param q[] = { WK_INT(ag_id), WK_INT(d.id), WK_INT(d.step_visit), WK_INT(d.id) };
    if (wk_db_exec(db,
                   "SELECT d.applicant_name, p.name,"
                   " (SELECT transfer_due_at FROM dossier_agency_time WHERE agency_id = ? AND dossier_id = d.id),"
                   " s.started_at, s.budget_due_at, o.name"
                   " FROM dossiers d JOIN procedures p ON p.id = d.procedure_id"
                   " LEFT JOIN dossier_steps s ON s.dossier_id = ? AND s.visit = ?"
                   " LEFT JOIN officials o ON o.id = d.assignee_id"
                   " WHERE d.id = ?", q, 4, extra_cb, &x, NULL, NULL) != 0)
        return WK_TRANSIENT;

    time_t y = 0, red = 0, sw = 0, sd = 0;
    if (!strcmp(d.stage, "step") || !strcmp(d.stage, "result"))
        wf_thresholds(cal, &d, p.joint && !strcmp(d.stage, "step") ? x.transfer_due : 0, &y, &red);
    if (s && x.step_due) {
        sd = x.step_due;
        long w = s->budget / 2 < 480 ? s->budget / 2 : 480;
        sw = tthc_warn_instant(cal, sd, (long long)w * 60);
    }
    const char *colour = colour_at(&d, now, y, red);
    if (colour ? strcmp(colour, d.warning) != 0 : d.warning[0] != '\0') {
        /* paused, done and closed dossiers have no colour (T9) */
        wk_param u[] = { colour ? WK_STR(colour) : WK_NULLP, WK_INT(d.id) };
        if (wk_db_exec(db, "UPDATE dossiers SET warning = ? WHERE id = ?", u, 2, NULL, NULL, NULL, NULL) != 0)
            return WK_TRANSIENT;
        wk_info("warn", "marked code=%s warning=%s", d.code, colour ? colour : "none");
        snprintf(d.warning, sizeof(d.warning), "%s", colour ? colour : "");
    }

    /* the item, its compact filter line and its queue (with the queue's
     * procedure and status indexes) */
    char *js = NULL, line[600] = "", pidx[40] = "", sidx[8] = "", loc[400] = "";
    long long score = FAR_FUTURE;
    if (zkey[0]) {
        json_t *item = json_pack(
            "{s:s, s:{s:s, s:s}, s:s, s:i, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:b, s:i, s:o}",
            "code", d.code, "procedure", "code", d.pcode, "name", x.pname, "applicant", x.aname,
            "status", d.status, "stage", d.stage,
            "step", s ? json_pack("{s:i, s:s, s:s, s:o}", "position", s->pos, "name", s->name, "role", s->role,
                                  "department", s->dept_id ? json_integer(s->dept_id) : json_null())
                      : json_null(),
            "assignee", d.assignee_id ? json_pack("{s:I, s:s}", "id", (json_int_t)d.assignee_id, "name", x.assignee)
                                      : json_null(),
            "receipt_at", (json_int_t)d.receipt_at, "due_at", (json_int_t)d.due_at,
            "yellow_at", (json_int_t)(y ? y : FAR_FUTURE), "red_at", (json_int_t)(red ? red : FAR_FUTURE),
            "step_due_at", (json_int_t)(sd ? sd : FAR_FUTURE), "step_warn_at", (json_int_t)(sw ? sw : FAR_FUTURE),
            "transfer_due_at", p.joint && x.transfer_due ? json_integer(x.transfer_due) : json_null(),
            "joint", p.joint, "supplement_count", d.supplement_count,
            "warning", d.warning[0] ? json_string(d.warning) : json_null());
        js = item ? json_dumps(item, JSON_COMPACT) : NULL;
        json_decref(item);
        if (js == NULL)
            return WK_PERMANENT;
        score = !strcmp(d.stage, "reception") ? (long long)d.received_at : red ? (long long)red : FAR_FUTURE;
        /* the name folded as the edge folds the query (common/tthc_text):
         * no case, no diacritics, no tabs */
        char folded[300];
        if (wk_fold(x.aname, strlen(x.aname), folded, sizeof(folded)) != 0)
            folded[0] = '\0';
        snprintf(line, sizeof(line), "%d\t%lld\t%lld\t%s\t%s", d.status, (long long)(red ? red : FAR_FUTURE),
                 (long long)(y ? y : FAR_FUTURE), d.stage, folded);
        snprintf(pidx, sizeof(pidx), "%s", d.pcode);
        snprintf(sidx, sizeof(sidx), "%d", d.status);
        snprintf(loc, sizeof(loc), "%s|%s|%s|%s", agency, zkey, pidx, sidx);
    }

    /* take it out of where it was (another agency, queue, procedure or status) */
    char lk[120], old[400] = "";
    loc_key(d.code, lk, sizeof(lk));
    redisReply *rep = wk_rds_cmdf(r, "GET %s", lk);
    if (rep == NULL) {
        free(js);
        return WK_TRANSIENT;
    }
    if (rep->type == REDIS_REPLY_STRING)
        snprintf(old, sizeof(old), "%s", rep->str);
    freeReplyObject(rep);
    char *part[4] = { NULL, NULL, NULL, NULL };
    int nf = 0;
    for (char *t = old; nf < 4 && t; nf++) {
        part[nf] = t;
        t = strchr(t, '|');
        if (t)
            *t++ = '\0';
    }
    if (nf >= 2 && part[1][0] && strcmp(old, loc) != 0) {
        char ik[120], fk[120], pk[300], sk[300];
        snprintf(ik, sizeof(ik), "tthc:ib:{ag:%s}:items", part[0]);
        snprintf(fk, sizeof(fk), "tthc:ib:{ag:%s}:f", part[0]);
        snprintf(pk, sizeof(pk), "%s:p:%s", part[1], nf > 2 ? part[2] : "");
        snprintf(sk, sizeof(sk), "%s:s:%s", part[1], nf > 3 ? part[3] : "");
        int other_agency = strcmp(part[0], agency) != 0;
        const char *argv[] = { "EVAL", UNPLACE_LUA, "5", part[1], pk, sk, ik, fk, d.code, other_agency ? "1" : "0" };
        rep = wk_rds_cmd(r, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
        if (!wk_rds_ok(rep)) {
            if (rep)
                freeReplyObject(rep);
            free(js);
            return WK_TRANSIENT;
        }
        freeReplyObject(rep);
    }

    if (zkey[0]) {
        char ik[120], fk[120], pk[300], sk[300], sc[32];
        snprintf(ik, sizeof(ik), "tthc:ib:{ag:%s}:items", agency);
        snprintf(fk, sizeof(fk), "tthc:ib:{ag:%s}:f", agency);
        snprintf(pk, sizeof(pk), "%s:p:%s", zkey, pidx);
        snprintf(sk, sizeof(sk), "%s:s:%s", zkey, sidx);
        snprintf(sc, sizeof(sc), "%lld", score);
        const char *argv[] = { "EVAL", PLACE_LUA, "5", ik, fk, zkey, pk, sk, d.code, js, line, sc };
        rep = wk_rds_cmd(r, (int)(sizeof(argv) / sizeof(argv[0])), argv, NULL);
        free(js);
        if (!wk_rds_ok(rep)) {
            if (rep)
                freeReplyObject(rep);
            return WK_TRANSIENT;
        }
        freeReplyObject(rep);
        rep = wk_rds_cmdf(r, "SET %s %s", lk, loc);
    } else {
        rep = wk_rds_cmdf(r, "DEL %s", lk);
    }
    if (!wk_rds_ok(rep)) {
        if (rep)
            freeReplyObject(rep);
        return WK_TRANSIENT;
    }
    freeReplyObject(rep);

    /* the warner's next look at it */
    time_t ts[] = { y, red, sw, sd };
    time_t next = zkey[0] && strcmp(d.stage, "done") ? next_after(now, ts, 4) : 0;
    if (next)
        rep = wk_rds_cmdf(r, "ZADD %s %lld %s", WARN_KEY, (long long)next, d.code);
    else
        rep = wk_rds_cmdf(r, "ZREM %s %s", WARN_KEY, d.code);
    if (rep == NULL)
        return WK_TRANSIENT;
    freeReplyObject(rep);
    return WK_OK;
}

/* The warner: every worker, about once a second.  Due members are leased
 * (re-scored now + 60 s) atomically, so each is handled by one worker at a
 * time and retried by another if this one dies. */
static const char *WARN_LUA =
    "local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))\n"
    "for _, m in ipairs(due) do redis.call('ZADD', KEYS[1], ARGV[2], m) end\n"
    "return due\n";

long wk_warn_tick(wk_db *db, wk_rds *r)
{
    time_t now = (time_t)(wk_clock_now_ms(r) / 1000);
    char a1[32], a2[32];
    snprintf(a1, sizeof(a1), "%lld", (long long)now);
    snprintf(a2, sizeof(a2), "%lld", (long long)now + WARN_LEASE);
    const char *argv[] = { "EVAL", WARN_LUA, "1", WARN_KEY, a1, a2, "100" };
    redisReply *rep = wk_rds_cmd(r, 7, argv, NULL);
    if (rep == NULL)
        return -1;
    long n = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0) {
        if (wk_db_ensure(db) != 0) {
            freeReplyObject(rep);
            return -1;
        }
        for (size_t i = 0; i < rep->elements; i++) {
            if (rep->element[i]->type != REDIS_REPLY_STRING)
                continue;
            if (wf_inbox_sync(db, r, rep->element[i]->str) == WK_OK)
                n++;
        }
    }
    freeReplyObject(rep);
    return n;
}

/* tthcctl inbox rebuild: drop every inbox key, place every open dossier */
typedef struct { char **codes; size_t n, cap; } codes_ud;
static int codes_cb(const wk_row *row, void *ud)
{
    codes_ud *u = ud;
    if (u->n == u->cap) {
        size_t nc = u->cap ? u->cap * 2 : 1024;
        char **nv = realloc(u->codes, nc * sizeof(char *));
        if (nv == NULL)
            return 1;
        u->codes = nv;
        u->cap = nc;
    }
    u->codes[u->n++] = strdup(row->v[0]);
    return 0;
}

static long drop_keys(wk_rds *r, const char *pattern)
{
    char cursor[32] = "0";
    long n = 0;
    do {
        redisReply *rep = wk_rds_cmdf(r, "SCAN %s MATCH %s COUNT 1000", cursor, pattern);
        if (rep == NULL || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
            if (rep)
                freeReplyObject(rep);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
        redisReply *keys = rep->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            redisReply *d = wk_rds_cmdf(r, "UNLINK %s", keys->element[i]->str);
            if (d)
                freeReplyObject(d);
            n++;
        }
        freeReplyObject(rep);
    } while (strcmp(cursor, "0"));
    return n;
}

wk_rc wk_inbox_rebuild(wk_db *db, wk_rds *r, long *count)
{
    *count = 0;
    if (drop_keys(r, "tthc:ib:*") < 0 || drop_keys(r, "tthc:d:*:ib") < 0)
        return WK_TRANSIENT;
    redisReply *rep = wk_rds_cmdf(r, "DEL %s", WARN_KEY);
    if (rep)
        freeReplyObject(rep);
    codes_ud u = { NULL, 0, 0 };
    if (wk_db_exec(db, "SELECT code FROM dossiers WHERE stage NOT IN ('closed','supplement')",
                   NULL, 0, codes_cb, &u, NULL, NULL) != 0) {
        for (size_t i = 0; i < u.n; i++)
            free(u.codes[i]);
        free(u.codes);
        return WK_TRANSIENT;
    }
    wk_rc rc = WK_OK;
    for (size_t i = 0; i < u.n; i++) {
        if (rc == WK_OK && wf_inbox_sync(db, r, u.codes[i]) != WK_OK)
            rc = WK_TRANSIENT;
        else if (rc == WK_OK)
            (*count)++;
        free(u.codes[i]);
    }
    free(u.codes);
    if (rc == WK_OK) {
        rep = wk_rds_cmdf(r, "SET %s %lld", WK_K_INBOX_BUILT, (long long)time(NULL));
        if (!wk_rds_ok(rep))
            rc = WK_TRANSIENT;
        if (rep)
            freeReplyObject(rep);
    }
    return rc;
}

wk_rc wk_inbox_place(wk_db *db, wk_rds *r, const char *code)
{
    return wf_inbox_sync(db, r, code);
}

/* Read models whose refresh failed after a COMMIT (Redis unreachable for a
 * moment): retried by this worker about once a second until they succeed.
 * Kept in this process only; if it dies first, the next change of the
 * dossier or `tthcctl inbox sync CODE` / `tthcctl publish` fixes them (and a
 * Redis restart triggers a full rebuild by the reconciler). */
#define RETRY_MAX 1024
static char retry_codes[RETRY_MAX][72];
static int  retry_n;

void wk_refresh_later(const char *code)
{
    for (int i = 0; i < retry_n; i++)
        if (!strcmp(retry_codes[i], code))
            return;
    if (retry_n == RETRY_MAX) {
        wk_error("workflow", "refresh retry list full, dropped code=%s (run tthcctl inbox sync)", code);
        return;
    }
    snprintf(retry_codes[retry_n++], sizeof(retry_codes[0]), "%s", code);
}

long wk_refresh_retry(wk_db *db, wk_rds *r)
{
    long done = 0;
    int i = 0;
    while (i < retry_n) {
        const char *code = retry_codes[i];
        if (wk_view_publish(db, r, code) == WK_TRANSIENT || wf_inbox_sync(db, r, code) != WK_OK)
            return done;                 /* still down: try again later */
        wk_info("workflow", "read models refreshed after a failure code=%s", code);
        memmove(retry_codes[i], retry_codes[i + 1], (size_t)(retry_n - i - 1) * sizeof(retry_codes[0]));
        retry_n--;
        done++;
    }
    return done;
}
