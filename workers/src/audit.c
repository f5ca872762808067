/* audit.c - the append-only, hash-chained audit log (docs/contracts-identity.md
 * "Audit"; DOMAIN O2).  Appends serialize on the single row of audit_head
 * (SELECT ... FOR UPDATE); an entry's id is last_id + 1 and its hash is
 *   sha256hex(prev_hash "\n" id "\n" at "\n" actor_kind "\n" actor_id "\n"
 *             actor_name "\n" ip "\n" action "\n" object "\n" canonical detail)
 * with at = "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), actor_id decimal ("" when
 * NULL), canonical detail = compact JSON, object keys sorted, UTF-8 as is. */
#include "wk.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

char *wk_audit_canon(json_t *detail)
{
    if (detail == NULL || json_is_null(detail))
        return strdup("{}");
    return json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

void wk_audit_hash(const char *prev_hash, const char *id, const char *at,
                   const char *actor_kind, const char *actor_id, const char *actor_name,
                   const char *ip, const char *action, const char *object,
                   const char *canon_detail, char out[65])
{
    const char *parts[] = { prev_hash, id, at, actor_kind, actor_id, actor_name, ip,
                            action, object, canon_detail };
    crypto_hash_sha256_state st;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_init(&st);
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (i > 0)
            crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
        const char *p = parts[i] ? parts[i] : "";
        crypto_hash_sha256_update(&st, (const unsigned char *)p, strlen(p));
    }
    crypto_hash_sha256_final(&st, h);
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(h); i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = '\0';
}

static void fmt_at(int64_t ms_or_us, int is_us, char out[40])
{
    int64_t us = is_us ? ms_or_us : ms_or_us * 1000;
    time_t s = (time_t)(us / 1000000);
    char base[32];
    wk_dbtime_fmt(s, base);
    snprintf(out, 40, "%s.%06ld", base, (long)(us % 1000000));
}

typedef struct { long long last_id; char last_hash[65]; int found; } head_ud;

static int head_cb(const wk_row *r, void *ud)
{
    head_ud *h = ud;
    h->found = 1;
    h->last_id = strtoll(r->v[0], NULL, 10);
    snprintf(h->last_hash, sizeof(h->last_hash), "%s", r->v[1] ? r->v[1] : "");
    return 1;
}

static wk_rc db_rc(wk_db *db)
{
    return wk_db_transient(db) ? WK_TRANSIENT : WK_PERMANENT;
}

wk_rc wk_audit_append_tx(wk_db *db, const wk_audit_ev *ev)
{
    head_ud h = { 0, "", 0 };
    if (wk_db_exec(db, "SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE",
                   NULL, 0, head_cb, &h, NULL, NULL) != 0)
        return db_rc(db);
    if (!h.found) {
        wk_error("audit", "audit_head row missing (migration 0003 not applied?)");
        return WK_PERMANENT;
    }
    if (ev->event_id) {
        long long one;
        wk_param pe[] = { WK_STR(ev->event_id) };
        int f = wk_db_get_ll(db, "SELECT 1 FROM audit_log WHERE event_id = ?", pe, 1, &one);
        if (f < 0)
            return db_rc(db);
        if (f == 1)
            return WK_OK;      /* appended before: a replay */
    }
    long long id = h.last_id + 1;
    char at[40], sid[24], sactor[24] = "", hash[65];
    if (ev->at_ms > 0) {
        fmt_at(ev->at_ms, 0, at);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        fmt_at((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, 1, at);
    }
    snprintf(sid, sizeof(sid), "%lld", id);
    if (ev->actor_id >= 0)
        snprintf(sactor, sizeof(sactor), "%lld", ev->actor_id);
    char *canon = wk_audit_canon(ev->detail);
    if (canon == NULL)
        return WK_PERMANENT;
    const char *object = ev->object ? ev->object : "";
    wk_audit_hash(h.last_hash, sid, at, ev->actor_kind, sactor, ev->actor_name,
                  ev->ip && *ev->ip ? ev->ip : NULL, ev->action, object, canon, hash);
    wk_param p[] = {
        WK_INT(id), WK_STR(ev->event_id), WK_STR(at), WK_STR(ev->actor_kind),
        ev->actor_id >= 0 ? WK_INT(ev->actor_id) : WK_NULLP, WK_STR(ev->actor_name),
        WK_STR(ev->ip && *ev->ip ? ev->ip : NULL), WK_STR(ev->action), WK_STR(object),
        WK_STR(canon), WK_STR(h.last_hash), WK_STR(hash),
    };
    int rc = wk_db_exec(db,
                        "INSERT INTO audit_log (id, event_id, at, actor_kind, actor_id, actor_name, ip,"
                        " action, object, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        p, 12, NULL, NULL, NULL, NULL);
    free(canon);
    if (rc != 0)
        return db_rc(db);
    wk_param ph[] = { WK_INT(id), WK_STR(hash) };
    if (wk_db_exec(db, "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = 1",
                   ph, 2, NULL, NULL, NULL, NULL) != 0)
        return db_rc(db);
    wk_debug("audit", "appended id=%lld action=%s", id, ev->action);
    return WK_OK;
}

wk_rc wk_audit_append(wk_db *db, const wk_audit_ev *ev)
{
    if (wk_db_simple(db, "START TRANSACTION") != 0)
        return db_rc(db);
    wk_rc rc = wk_audit_append_tx(db, ev);
    if (rc == WK_OK && wk_db_simple(db, "COMMIT") != 0)
        rc = db_rc(db);
    if (rc != WK_OK) {
        wk_warn("audit", "append failed action=%s errno=%u", ev->action, db->last_errno);
        if (db->my)
            wk_db_simple(db, "ROLLBACK");
    }
    return rc;
}

/* actions written by the workers themselves, never accepted from a job */
static int reserved_action(const char *a)
{
    static const char *const own[] = { "signin", "signin.failed", "signin.locked",
                                       "account.create", "account.update", NULL };
    for (int i = 0; own[i]; i++)
        if (!strcmp(a, own[i]))
            return 1;
    return 0;
}

static int action_valid(const char *a)
{
    size_t n = a ? strlen(a) : 0;
    if (n < 2 || n > 64 || !islower((unsigned char)a[0]))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!(islower((unsigned char)a[i]) || isdigit((unsigned char)a[i]) || a[i] == '.' || a[i] == '_'))
            return 0;
    return 1;
}

wk_rc wk_audit_job(wk_db *db, const char *job_id, const char *payload, size_t len,
                   char *err, size_t errsz)
{
    json_error_t je;
    json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
    wk_rc rc = WK_PERMANENT;
    if (!json_is_object(root)) {
        snprintf(err, errsz, "audit payload is not a JSON object");
        goto out;
    }
    /* flat {"actor_kind","actor_id","actor_name",..} (the edge) or nested
     * {"actor":{"kind","id","name"}} */
    json_t *actor = json_object_get(root, "actor");
    const char *kind = json_is_object(actor) ? wk_json_str(actor, "kind") : wk_json_str(root, "actor_kind");
    json_t *aid = json_is_object(actor) ? json_object_get(actor, "id") : json_object_get(root, "actor_id");
    const char *name = json_is_object(actor) ? wk_json_str(actor, "name") : wk_json_str(root, "actor_name");
    const char *action = wk_json_str(root, "action");
    json_t *detail = json_object_get(root, "detail");
    json_t *at = json_object_get(root, "at");
    const char *event_id = wk_json_str(root, "event_id");
    long long actor_id = -1;
    int64_t at_ms = 0;
    if (json_is_integer(aid)) {
        actor_id = json_integer_value(aid);
    } else if (json_is_string(aid) && *json_string_value(aid)) {
        char *end;
        actor_id = strtoll(json_string_value(aid), &end, 10);
        if (*end != '\0')
            actor_id = -2;
    } else if (aid && !json_is_null(aid) && !json_is_string(aid)) {
        actor_id = -2;
    }
    if (json_is_integer(at)) {
        at_ms = json_integer_value(at);
    } else if (json_is_string(at)) {
        time_t t;
        if (wk_parse_utc(json_string_value(at), strlen(json_string_value(at)), &t) == 0)
            at_ms = (int64_t)t * 1000;
    }
    if (!kind || (strcmp(kind, "applicant") && strcmp(kind, "staff") && strcmp(kind, "system"))) {
        snprintf(err, errsz, "audit payload: bad actor.kind");
        goto out;
    }
    if (actor_id < -1) {
        snprintf(err, errsz, "audit payload: bad actor.id");
        goto out;
    }
    if (!action_valid(action) || reserved_action(action)) {
        snprintf(err, errsz, "audit payload: action not allowed");
        goto out;
    }
    if (detail && !json_is_object(detail) && !json_is_null(detail)) {
        snprintf(err, errsz, "audit payload: detail is not an object");
        goto out;
    }
    if (at && !json_is_null(at) && at_ms <= 0) {
        snprintf(err, errsz, "audit payload: bad at");
        goto out;
    }
    if (event_id && (strlen(event_id) == 0 || strlen(event_id) > 80)) {
        snprintf(err, errsz, "audit payload: bad event_id");
        goto out;
    }
    char eid[96];
    if (event_id)
        snprintf(eid, sizeof(eid), "ev:%s", event_id);
    else
        snprintf(eid, sizeof(eid), "job:%s", job_id);
    const char *ip = wk_json_str(root, "ip"), *object = wk_json_str(root, "object");
    wk_audit_ev ev = {
        eid, at_ms, kind, actor_id,
        name && strlen(name) < 255 ? name : NULL, ip && strlen(ip) < 64 ? ip : NULL, action,
        object && strlen(object) < 255 ? object : "", detail,
    };
    if (wk_db_ensure(db) != 0) {
        snprintf(err, errsz, "mariadb unavailable errno=%u", db->last_errno);
        rc = WK_TRANSIENT;
        goto out;
    }
    rc = wk_audit_append(db, &ev);
    if (rc != WK_OK)
        snprintf(err, errsz, "audit append failed errno=%u", db->last_errno);
out:
    json_decref(root);
    return rc;
}

typedef struct {
    long long n, expect_id, broken;
    char prev[65];
    int stop;
} verify_ud;

static int verify_cb(const wk_row *r, void *ud)
{
    verify_ud *v = ud;
    long long id = strtoll(r->v[0], NULL, 10);
    if (v->broken)
        return 1;
    if (id != v->expect_id) {           /* a row deleted */
        v->broken = v->expect_id;
        return 1;
    }
    char *canon = NULL;
    json_error_t je;
    json_t *d = r->v[8] ? json_loads(r->v[8], 0, &je) : NULL;
    if (d)
        canon = wk_audit_canon(d);
    json_decref(d);
    char hash[65];
    wk_audit_hash(v->prev, r->v[0], r->v[1], r->v[2], r->v[3] ? r->v[3] : "", r->v[4],
                  r->v[5], r->v[6], r->v[7] ? r->v[7] : "", canon ? canon : "", hash);
    free(canon);
    if (r->v[9] == NULL || strcmp(r->v[9], v->prev) != 0 || r->v[10] == NULL
        || strcmp(r->v[10], hash) != 0) {
        v->broken = id;
        return 1;
    }
    snprintf(v->prev, sizeof(v->prev), "%s", r->v[10]);
    v->n++;
    v->expect_id = id + 1;
    return 0;
}

wk_rc wk_audit_verify(wk_db *db, long long *n, long long *broken)
{
    verify_ud v = { 0, 1, 0, GENESIS, 0 };
    for (;;) {
        long long before = v.n;
        wk_param p[] = { WK_INT(v.expect_id - 1) };
        if (wk_db_exec(db,
                       "SELECT id, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f'), actor_kind, actor_id,"
                       " actor_name, ip, action, object, detail, prev_hash, hash FROM audit_log"
                       " WHERE id > ? ORDER BY id LIMIT 1000",
                       p, 1, verify_cb, &v, NULL, NULL) != 0)
            return WK_TRANSIENT;
        if (v.broken || v.n - before < 1000)
            break;
    }
    if (!v.broken) {
        /* the head must name the last entry: catches rows cut off the end */
        head_ud h = { 0, "", 0 };
        if (wk_db_exec(db, "SELECT last_id, last_hash FROM audit_head WHERE id = 1",
                       NULL, 0, head_cb, &h, NULL, NULL) != 0)
            return WK_TRANSIENT;
        if (!h.found || h.last_id != v.expect_id - 1 || strcmp(h.last_hash, v.prev) != 0)
            v.broken = h.found && h.last_id >= v.expect_id ? v.expect_id : (v.expect_id > 1 ? v.expect_id - 1 : 1);
    }
    *n = v.n;
    *broken = v.broken;
    return WK_OK;
}
