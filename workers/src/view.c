/* view.c - the authoritative public status view (docs/contracts.md
 * "Status view JSON"), built from MariaDB, masked, local times; publishing
 * it also publishes the private view (privview.c). */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int found;
    long long id;
    int status;
    char code[72], pcode[40], aname[256], acode[40], rc[16];
    char *pname;
    time_t received;
    char mname[256], mid[96];
} head_ud;

static int head_cb(const wk_row *r, void *ud)
{
    head_ud *h = ud;
    h->found = 1;
    h->id = strtoll(r->v[0], NULL, 10);
    snprintf(h->code, sizeof(h->code), "%s", r->v[1]);
    h->status = atoi(r->v[2]);
    snprintf(h->pcode, sizeof(h->pcode), "%s", r->v[3]);
    h->pname = strdup(r->v[4] ? r->v[4] : "");
    snprintf(h->acode, sizeof(h->acode), "%s", r->v[5]);
    snprintf(h->aname, sizeof(h->aname), "%s", r->v[6]);
    if (wk_dbtime_parse(r->v[7], &h->received) != 0)
        h->received = 0;
    wk_mask_name(r->v[8], h->mname, sizeof(h->mname));
    wk_mask_id(r->v[9], h->mid, sizeof(h->mid));
    snprintf(h->rc, sizeof(h->rc), "%s", r->v[10] ? r->v[10] : "");
    return 1;
}

static int files_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "component", r->v[0],
                                         "name", r->v[1],
                                         "size", (json_int_t)strtoll(r->v[2], NULL, 10)));
    return 0;
}

static int hist_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    time_t t = 0;
    char at[40] = "";
    if (wk_dbtime_parse(r->v[2], &t) == 0)
        wk_fmt_local(t, at, sizeof(at));
    json_array_append_new(arr, json_pack("{s:i, s:s, s:s}", "status", atoi(r->v[0]),
                                         "label", r->v[1], "at", at));
    return 0;
}

wk_rc wk_view_build(wk_db *db, const char *code, char **json)
{
    *json = NULL;
    head_ud h;
    memset(&h, 0, sizeof(h));
    wk_param p[] = { WK_STR(code) };
    if (wk_db_exec(db,
                   "SELECT d.id, d.code, d.status, p.code, p.name, a.code, a.name, d.received_at,"
                   " d.applicant_name, d.applicant_identity, d.result_channel"
                   " FROM dossiers d JOIN procedures p ON p.id = d.procedure_id"
                   " JOIN agencies a ON a.id = d.agency_id WHERE d.code = ?",
                   p, 1, head_cb, &h, NULL, NULL) != 0)
        return WK_TRANSIENT;
    if (!h.found)
        return WK_PERMANENT;
    json_t *files = json_array(), *hist = json_array();
    wk_param q[] = { WK_INT(h.id) };
    wk_rc rc = WK_OK;
    if (wk_db_exec(db, "SELECT component_code, original_name, size FROM dossier_files"
                       " WHERE dossier_id = ? ORDER BY position", q, 1, files_cb, files, NULL, NULL) != 0
        || wk_db_exec(db, "SELECT status, label, at FROM dossier_history"
                          " WHERE dossier_id = ? ORDER BY at, id", q, 1, hist_cb, hist, NULL, NULL) != 0) {
        rc = WK_TRANSIENT;
    }
    if (rc == WK_OK) {
        char sub[40] = "";
        wk_fmt_local(h.received, sub, sizeof(sub));
        json_t *v = json_pack("{s:s, s:{s:i, s:s}, s:{s:s, s:s}, s:{s:s, s:s}, s:s,"
                              " s:{s:s, s:s}, s:s, s:O, s:O, s:b}",
                              "code", h.code,
                              "status", "code", h.status, "label", wk_status_label(h.status),
                              "procedure", "code", h.pcode, "name", h.pname,
                              "agency", "code", h.acode, "name", h.aname,
                              "submitted_at", sub,
                              "applicant", "name", h.mname, "identity_number", h.mid,
                              "result_channel", h.rc,
                              "files", files, "history", hist,
                              "provisional", 0);
        if (v == NULL || (*json = json_dumps(v, JSON_COMPACT)) == NULL)
            rc = WK_PERMANENT;
        json_decref(v);
    }
    json_decref(files);
    json_decref(hist);
    free(h.pname);
    return rc;
}

static int view_key(const char *code, char *out, size_t outsz)
{
    int n = snprintf(out, outsz, "tthc:d:{%s}:view", code);
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

wk_rc wk_view_publish(wk_db *db, wk_rds *r, const char *code)
{
    char *json = NULL;
    wk_rc rc = wk_view_build(db, code, &json);
    if (rc != WK_OK)
        return rc;
    char key[128];
    if (view_key(code, key, sizeof(key)) != 0) {
        free(json);
        return WK_PERMANENT;
    }
    redisReply *rep = wk_rds_cmdf(r, "SET %s %s", key, json);
    free(json);
    rc = wk_rds_ok(rep) ? WK_OK : WK_TRANSIENT;
    if (rep)
        freeReplyObject(rep);
    /* the full view of the owner and the officials goes with it */
    if (rc == WK_OK)
        rc = wk_private_publish(db, r, code);
    return rc;
}

typedef struct {
    char (*codes)[72];
    int n, max;
    long long last_id;
} batch_ud;

static int batch_cb(const wk_row *r, void *ud)
{
    batch_ud *b = ud;
    b->last_id = strtoll(r->v[0], NULL, 10);
    if (b->n < b->max)
        snprintf(b->codes[b->n++], 72, "%s", r->v[1]);
    return 0;
}

/* from dossier id > *after; stops once deadline_ms (wk_now_ms) has passed,
 * leaving *after where to go on (0 when the end was reached) */
static wk_rc rebuild_from(wk_db *db, wk_rds *r, int only_missing, long *count, long long *cursor,
                          int64_t deadline_ms)
{
    enum { BATCH = 500 };
    static char codes[BATCH][72];
    int missing[BATCH];
    long long after = *cursor;
    long done = 0;
    *cursor = 0;
    for (;;) {
        if (deadline_ms && wk_now_ms() >= deadline_ms) {
            *cursor = after;
            break;
        }
        batch_ud b = { codes, 0, BATCH, after };
        wk_param p[] = { WK_INT(after), WK_INT(BATCH) };
        if (wk_db_exec(db, "SELECT id, code FROM dossiers WHERE id > ? ORDER BY id LIMIT ?",
                       p, 2, batch_cb, &b, NULL, NULL) != 0)
            return WK_TRANSIENT;
        if (b.n == 0)
            break;
        after = b.last_id;
        for (int i = 0; i < b.n; i++)
            missing[i] = 1;
        if (only_missing) {
            if (wk_rds_ensure(r) != 0)
                return WK_TRANSIENT;
            char key[128];
            for (int i = 0; i < b.n; i++) {
                view_key(codes[i], key, sizeof(key));
                redisAppendCommand(r->c, "EXISTS %s", key);
            }
            for (int i = 0; i < b.n; i++) {
                void *rep = NULL;
                if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
                    wk_rds_close(r);
                    return WK_TRANSIENT;
                }
                redisReply *x = rep;
                missing[i] = x->type == REDIS_REPLY_INTEGER && x->integer == 0;
                freeReplyObject(rep);
            }
        }
        for (int i = 0; i < b.n; i++) {
            if (!missing[i])
                continue;
            wk_rc rc = wk_view_publish(db, r, codes[i]);
            if (rc == WK_TRANSIENT)
                return rc;
            if (rc == WK_OK)
                done++;
        }
        if (b.n < BATCH)
            break;
    }
    if (count)
        *count = done;
    return WK_OK;
}

wk_rc wk_view_rebuild_all(wk_db *db, wk_rds *r, int only_missing, long *count)
{
    long long cursor = 0;
    return rebuild_from(db, r, only_missing, count, &cursor, 0);
}

/* the reconciler's slice: missing views for at most budget_ms, going on
 * next time from where it stopped (*more = 1), so that a worker never stops
 * answering requests for minutes while views are back-filled */
wk_rc wk_view_rebuild_missing_slice(wk_db *db, wk_rds *r, long budget_ms, long *count, int *more)
{
    static long long cursor;
    wk_rc rc = rebuild_from(db, r, 1, count, &cursor, wk_now_ms() + budget_ms);
    *more = cursor != 0;
    return rc;
}

/* After Redis lost its last writes (restart or failover with a new run_id):
 * views that exist may be older than MariaDB.  Every dossier changed in the
 * last `minutes` gets its views (public, private) and its applicant's list
 * line republished; older ones cannot be affected by the lost second(s). */
typedef struct { char (*codes)[72]; long long *owners; int n, cap; } recent_ud;
static int recent_cb(const wk_row *row, void *ud)
{
    recent_ud *u = ud;
    if (u->n >= u->cap)
        return 1;
    snprintf(u->codes[u->n], 72, "%s", row->v[0]);
    u->owners[u->n] = row->v[1] ? strtoll(row->v[1], NULL, 10) : 0;
    u->n++;
    return 0;
}

wk_rc wk_view_refresh_recent(wk_db *db, wk_rds *r, long minutes, long *count)
{
    enum { MAX = 20000 };
    recent_ud u = { malloc(MAX * 72), malloc(MAX * sizeof(long long)), 0, MAX };
    *count = 0;
    if (u.codes == NULL || u.owners == NULL) {
        free(u.codes);
        free(u.owners);
        return WK_TRANSIENT;
    }
    wk_param p[] = { WK_INT(minutes) };
    wk_rc rc = WK_OK;
    if (wk_db_exec(db, "SELECT code, applicant_id FROM dossiers"
                       " WHERE updated_at >= UTC_TIMESTAMP(6) - INTERVAL ? MINUTE ORDER BY updated_at DESC",
                   p, 1, recent_cb, &u, NULL, NULL) != 0)
        rc = WK_TRANSIENT;
    for (int i = 0; rc == WK_OK && i < u.n; i++) {
        wk_rc v = wk_view_publish(db, r, u.codes[i]);
        if (v == WK_TRANSIENT)
            rc = v;
        else if (u.owners[i] && wk_applicant_listed(r, u.owners[i]) == 1
                 && wk_applicant_put(db, r, u.owners[i], u.codes[i]) == WK_TRANSIENT)
            rc = WK_TRANSIENT;
        else
            (*count)++;
    }
    if (u.n == MAX)
        wk_warn("reconcile", "more than %d dossiers changed recently: older views not refreshed (tthcctl publish)",
                MAX);
    free(u.codes);
    free(u.owners);
    return rc;
}
