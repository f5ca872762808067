/* privview.c - read models of issue 3 (docs/contracts-identity.md "Read
 * models added"): tthc:d:{CODE}:private (the full, unmasked view for the
 * owner and the officials in scope) and the applicant's own list,
 * tthc:a:{APPLICANT_ID}:order + :items (below).  Built from MariaDB only. */
#include "wk.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    int found;
    long long id;
    json_t *owner, *app;
    char agency[40];
} priv_ud;

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_col(const char *s)
{
    json_error_t je;
    json_t *j = s ? json_loads(s, JSON_DECODE_ANY, &je) : NULL;
    return j ? j : json_null();
}

static int priv_cb(const wk_row *r, void *ud)
{
    priv_ud *u = ud;
    u->found = 1;
    u->id = strtoll(r->v[0], NULL, 10);
    u->owner = r->v[1] ? json_integer(strtoll(r->v[1], NULL, 10)) : json_null();
    snprintf(u->agency, sizeof(u->agency), "%s", r->v[2]);
    u->app = json_pack("{s:s, s:{s:s, s:s, s:o, s:o, s:o}, s:o, s:s, s:o}",
                       "procedure", r->v[11],
                       "applicant", "type", r->v[3], "name", r->v[4],
                       "identity_number", str_or_null(r->v[5]), "email", str_or_null(r->v[6]),
                       "phone", str_or_null(r->v[7]),
                       "form", json_col(r->v[8]), "result_channel", r->v[9],
                       "postal_address", json_col(r->v[10]));
    return 1;
}

static int pfiles_cb(const wk_row *r, void *ud)
{
    json_array_append_new(ud, json_pack("{s:s, s:s, s:I, s:s, s:s}", "component", r->v[0],
                                        "name", r->v[1],
                                        "size", (json_int_t)strtoll(r->v[2], NULL, 10),
                                        "media_type", r->v[3], "sha256", r->v[4]));
    return 0;
}

wk_rc wk_private_publish(wk_db *db, wk_rds *r, const char *code)
{
    char *pub = NULL;
    wk_rc rc = wk_view_build(db, code, &pub);
    if (rc != WK_OK)
        return rc;
    json_error_t je;
    json_t *v = json_loads(pub, 0, &je);
    free(pub);
    if (v == NULL)
        return WK_PERMANENT;
    priv_ud u = { 0, 0, NULL, NULL, "" };
    wk_param p[] = { WK_STR(code) };
    json_t *files = json_array();
    char *out = NULL;
    if (wk_db_exec(db,
                   "SELECT d.id, d.applicant_id, a.code, d.applicant_type, d.applicant_name,"
                   " d.applicant_identity, d.applicant_email, d.applicant_phone, d.form_json,"
                   " d.result_channel, d.postal_address_json, p.code"
                   " FROM dossiers d JOIN agencies a ON a.id = d.agency_id"
                   " JOIN procedures p ON p.id = d.procedure_id WHERE d.code = ?",
                   p, 1, priv_cb, &u, NULL, NULL) != 0) {
        rc = WK_TRANSIENT;
        goto out;
    }
    if (!u.found || u.app == NULL) {
        rc = WK_PERMANENT;
        goto out;
    }
    wk_param q[] = { WK_INT(u.id) };
    if (wk_db_exec(db, "SELECT component_code, original_name, size, media_type, sha256"
                       " FROM dossier_files WHERE dossier_id = ? ORDER BY position",
                   q, 1, pfiles_cb, files, NULL, NULL) != 0) {
        rc = WK_TRANSIENT;
        goto out;
    }
    /* the public view, unmasked, plus what only the owner and staff see */
    json_t *ap = json_object_get(u.app, "applicant");
    json_object_set_new(v, "applicant", json_pack("{s:O, s:O}", "name", json_object_get(ap, "name"),
                                                  "identity_number",
                                                  json_object_get(ap, "identity_number")));
    json_object_set(v, "owner", u.owner);
    json_object_set_new(v, "agency_code", json_string(u.agency));
    json_object_set(v, "files", files);
    json_object_set(v, "application", u.app);
    json_object_set_new(v, "workflow", wk_workflow_view(db, code, 1));
    /* issue 4: the full history, the files attached by actions (H2), and
     * the agencies of a joint process that may read it (T8) */
    json_object_set_new(v, "history", wf_history(db, u.id));
    json_t *outs = wf_outputs(db, u.id);
    size_t oi;
    json_t *of;
    json_array_foreach(outs, oi, of) {
        /* the applicant may download what is addressed to them; internal
         * opinions and extension slips stay in "outputs" (staff only) */
        const char *k = json_string_value(json_object_get(of, "kind"));
        if (k && strcmp(k, "output") && strcmp(k, "extension"))
            json_array_append_new(files, json_pack("{s:O, s:O, s:O, s:O, s:O, s:s}",
                                                   "component", json_is_string(json_object_get(of, "component"))
                                                                ? json_object_get(of, "component")
                                                                : json_object_get(of, "kind"),
                                                   "name", json_object_get(of, "name"),
                                                   "size", json_object_get(of, "size"),
                                                   "media_type", json_object_get(of, "media_type"),
                                                   "sha256", json_object_get(of, "sha256"), "kind", k));
    }
    json_object_set_new(v, "outputs", outs);
    json_object_set_new(v, "current_agencies", wf_current_agencies(db, code));
    json_object_set_new(v, "payment", wk_payment_view(db, u.id));   /* A8: fees and e-receipt */
    json_object_set_new(v, "postal", wk_postal_view(db, u.id));   /* X3: postal orders */
    out = json_dumps(v, JSON_COMPACT);
    if (out == NULL) {
        rc = WK_PERMANENT;
        goto out;
    }
    char key[128];
    snprintf(key, sizeof(key), "tthc:d:{%s}:private", code);
    redisReply *rep = wk_rds_cmdf(r, "SET %s %s", key, out);
    rc = wk_rds_ok(rep) ? WK_OK : WK_TRANSIENT;
    if (rep)
        freeReplyObject(rep);
out:
    free(out);
    json_decref(files);
    json_decref(u.owner);
    json_decref(u.app);
    json_decref(v);
    return rc;
}

/* The applicant's list: one line per dossier, kept incrementally.
 *   tthc:a:{ID}:order  ZSET  code -> received_at (unix s)
 *   tthc:a:{ID}:items  HASH  code -> summary JSON
 * Both under the applicant's hash tag; the edge pages with ZREVRANGE+HMGET
 * in one script.  Adding a dossier costs O(log n), whatever the applicant's
 * history (an organisation may file thousands). */

typedef struct {
    wk_rds *r;
    const char *order, *items;
    long n;
    int failed;
} list_ud;

static int list_cb(const wk_row *row, void *ud)
{
    list_ud *u = ud;
    time_t t = 0;
    char at[40] = "";
    if (wk_dbtime_parse(row->v[6], &t) == 0)
        wk_fmt_local(t, at, sizeof(at));
    int st = atoi(row->v[5]);
    json_t *item = json_pack("{s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:{s:i, s:s}, s:s}",
                             "code", row->v[0],
                             "procedure", "code", row->v[1], "name", row->v[2],
                             "agency", "code", row->v[3], "name", row->v[4],
                             "status", "code", st, "label", wk_status_label(st),
                             "submitted_at", at);
    char *js = item ? json_dumps(item, JSON_COMPACT) : NULL;
    json_decref(item);
    if (js == NULL) {
        u->failed = 1;
        return 1;
    }
    redisReply *a = wk_rds_cmdf(u->r, "HSET %s %s %s", u->items, row->v[0], js);
    redisReply *b = a ? wk_rds_cmdf(u->r, "ZADD %s %lld %s", u->order, (long long)t, row->v[0]) : NULL;
    free(js);
    int ok = wk_rds_ok(a) && wk_rds_ok(b);
    if (a)
        freeReplyObject(a);
    if (b)
        freeReplyObject(b);
    if (!ok) {
        u->failed = 1;
        return 1;
    }
    u->n++;
    return 0;
}

#define LIST_SELECT \
    "SELECT d.code, p.code, p.name, a.code, a.name, d.status, d.received_at" \
    " FROM dossiers d JOIN procedures p ON p.id = d.procedure_id" \
    " JOIN agencies a ON a.id = d.agency_id "

/* one dossier's line (ingest, status change) */
wk_rc wk_applicant_put(wk_db *db, wk_rds *r, long long applicant_id, const char *code)
{
    char order[64], items[64];
    snprintf(order, sizeof(order), "tthc:a:{%lld}:order", applicant_id);
    snprintf(items, sizeof(items), "tthc:a:{%lld}:items", applicant_id);
    list_ud u = { r, order, items, 0, 0 };
    wk_param p[] = { WK_STR(code) };
    if (wk_db_exec(db, LIST_SELECT "WHERE d.code = ?", p, 1, list_cb, &u, NULL, NULL) != 0)
        return WK_TRANSIENT;
    return u.failed ? WK_TRANSIENT : WK_OK;
}

/* the whole list, rebuilt from MariaDB into scratch keys, then swapped in */
wk_rc wk_applicant_publish(wk_db *db, wk_rds *r, long long applicant_id)
{
    char order[64], items[64], torder[72], titems[72];
    snprintf(order, sizeof(order), "tthc:a:{%lld}:order", applicant_id);
    snprintf(items, sizeof(items), "tthc:a:{%lld}:items", applicant_id);
    snprintf(torder, sizeof(torder), "%s.rebuild", order);
    snprintf(titems, sizeof(titems), "%s.rebuild", items);
    redisReply *d = wk_rds_cmdf(r, "DEL %s %s", torder, titems);
    if (!wk_rds_ok(d)) {
        if (d)
            freeReplyObject(d);
        return WK_TRANSIENT;
    }
    freeReplyObject(d);
    list_ud u = { r, torder, titems, 0, 0 };
    wk_param p[] = { WK_INT(applicant_id) };
    if (wk_db_exec(db, LIST_SELECT "WHERE d.applicant_id = ?", p, 1, list_cb, &u, NULL, NULL) != 0)
        return WK_TRANSIENT;
    if (u.failed)
        return WK_TRANSIENT;
    redisReply *x;
    if (u.n == 0)       /* no dossiers: nothing to list (an empty ZSET does not exist) */
        x = wk_rds_cmdf(r, "DEL %s %s", order, items);
    else
        x = wk_rds_cmdf(r, "EVAL %s 4 %s %s %s %s", "redis.call('RENAME', KEYS[1], KEYS[3]) "
                        "redis.call('RENAME', KEYS[2], KEYS[4]) return 1",
                        torder, titems, order, items);
    wk_rc rc = wk_rds_ok(x) ? WK_OK : WK_TRANSIENT;
    if (x)
        freeReplyObject(x);
    return rc;
}

/* is the list there (built at least once since Redis last lost data)? */
int wk_applicant_listed(wk_rds *r, long long applicant_id)
{
    redisReply *rep = wk_rds_cmdf(r, "EXISTS tthc:a:{%lld}:order", applicant_id);
    int present = rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
    if (rep == NULL)
        return -1;
    freeReplyObject(rep);
    return present;
}

typedef struct { long long ids[500]; int n; } ids_ud;

static int ids_cb(const wk_row *r, void *ud)
{
    ids_ud *u = ud;
    if (u->n < 500)
        u->ids[u->n++] = strtoll(r->v[0], NULL, 10);
    return 0;
}

wk_rc wk_applicant_rebuild_all(wk_db *db, wk_rds *r, int only_missing, long *count)
{
    static ids_ud u;
    long long after = 0;
    long done = 0;
    for (;;) {
        u.n = 0;
        wk_param p[] = { WK_INT(after) };
        if (wk_db_exec(db, "SELECT DISTINCT applicant_id FROM dossiers WHERE applicant_id > ?"
                           " ORDER BY applicant_id LIMIT 500", p, 1, ids_cb, &u, NULL, NULL) != 0)
            return WK_TRANSIENT;
        for (int i = 0; i < u.n; i++) {
            if (only_missing) {
                int present = wk_applicant_listed(r, u.ids[i]);
                if (present < 0)
                    return WK_TRANSIENT;
                if (present)
                    continue;
            }
            wk_rc rc = wk_applicant_publish(db, r, u.ids[i]);
            if (rc == WK_TRANSIENT)
                return rc;
            done += rc == WK_OK;
        }
        if (u.n < 500)
            break;
        after = u.ids[u.n - 1];
    }
    if (count)
        *count = done;
    return WK_OK;
}
