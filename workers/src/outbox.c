/* outbox.c - delivery of the outbox to partners (DOMAIN X1, X3;
 * docs/exchange.md "Outbox delivery", docs/contracts-exchange.md).
 *
 * Every message is a row of `outbox`, written in the transaction of the fact
 * it reports (a history entry, a postal order).  Any number of workers
 * deliver them:
 *   - order: per (target, dossier) in id order; only the head (the lowest id
 *     not yet sent) is eligible, and a dead head blocks the dossier's later
 *     messages until an operator replays it;
 *   - claim: a lease (lease_owner, lease_until) taken by a conditional
 *     UPDATE, so one worker sends a message at a time; a worker killed in
 *     flight loses its lease and another one sends again;
 *   - body: rendered once, validated against our own XSD, stored (frozen)
 *     before the first attempt; every retry sends the same bytes under the
 *     same Idempotency-Key (MaHoSo:id), so the partner keeps one fact;
 *   - outcome: 2xx with an acceptable reply = sent; 408/429/5xx, 401/403,
 *     transport errors and unacceptable replies = retried with exponential
 *     backoff and jitter (outbox_backoff_*), dead after outbox_max_attempts;
 *     other 4xx = dead at once (a poisoned message).
 * Instants are on the legal clock (wk_clock_now_ms), stored UTC.  Logs carry
 * ids, kinds, codes and HTTP statuses, never bodies or tokens. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>
#include <sodium.h>

#define OB_MAX_REPLY     (64u * 1024u)
#define OB_MAX_BODY      (1u << 20)
#define OB_BATCH         16
#define OB_TICK_BUDGET   400       /* ms of real time per tick: requests wait meanwhile */

/* ---- small helpers ---- */

static void ob_dbt(int64_t ms, char out[40])
{
    if (ms < 0)
        ms = 0;
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    size_t n = strftime(out, 40, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(out + n, 40 - n, ".%03u000", (unsigned)(ms % 1000));
}

int wk_outbox_enqueue(wk_db *db, long long dossier_id, long long history_id, const char *kind,
                      const char *target, const char *payload_json, long long *id_out)
{
    wk_param p[] = { WK_INT(dossier_id), history_id > 0 ? WK_INT(history_id) : WK_NULLP,
                     WK_STR(kind), WK_STR(target), WK_STR(payload_json) };
    unsigned long long id = 0;
    int rc = wk_db_exec(db, "INSERT INTO outbox (dossier_id, history_id, kind, target, payload)"
                            " VALUES (?,?,?,?,?)", p, 5, NULL, NULL, NULL, &id);
    if (id_out)
        *id_out = rc == 0 ? (long long)id : 0;
    return rc;
}

/* ---- rendering ---- */

typedef struct {
    const char *root, *xsd;
    const char *const *fields;   /* in XSD order */
} ob_shape;

static const char *const hoso_fields[] = {
    "MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "KenhThucHien", "ChuHoSo", "SoGiayToChuHoSo",
    "LoaiDoiTuong", "Email", "SoDienThoai", "TrichYeuHoSo", "NgayNopHoSo", "NgayTiepNhan",
    "NgayHenTra", "TrangThaiHoSo", "NgayTra", "NgayKetThucXuLy", "DonViXuLy", NULL
};
static const char *const tientrinh_fields[] = {
    "MaHoSo", "NguoiXuLy", "ChucDanh", "ThoiDiemXuLy", "PhongBanXuLy", "NoiDungXuLy", "TrangThai",
    "NgayBatDau", "NgayKetThucTheoQuyDinh", NULL
};
static const ob_shape shape_hoso = { "HoSo", "HoSo.xsd", hoso_fields };
static const ob_shape shape_tientrinh = { "TienTrinhXuLy", "TienTrinhXuLy.xsd", tientrinh_fields };

/* the payload's fields, in order, as child elements (text escaped by libxml2) */
static int ob_render_flat(const ob_shape *s, json_t *payload, char **xml, size_t *len)
{
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST s->root);
    if (doc == NULL || root == NULL) {
        xmlFreeDoc(doc);
        return -1;
    }
    xmlDocSetRootElement(doc, root);
    for (const char *const *f = s->fields; *f; f++) {
        json_t *v = json_object_get(payload, *f);
        char num[32];
        const char *txt = NULL;
        if (json_is_string(v))
            txt = json_string_value(v);
        else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
            txt = num;
        }
        if (txt == NULL || *txt == '\0')
            continue;
        xmlNewTextChild(root, NULL, BAD_CAST *f, BAD_CAST txt);
    }
    xmlChar *out = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(doc, &out, &n, "UTF-8");
    xmlFreeDoc(doc);
    if (out == NULL || n <= 0) {
        xmlFree(out);
        return -1;
    }
    *xml = malloc((size_t)n + 1);
    if (*xml == NULL) {
        xmlFree(out);
        return -1;
    }
    memcpy(*xml, out, (size_t)n);
    (*xml)[n] = '\0';
    *len = (size_t)n;
    xmlFree(out);
    return 0;
}

/* ---- one message ---- */

typedef struct {
    wk_outbox_msg m;
    char *payload_s;
    char *body;
    size_t body_len;
    int found;
} ob_row;

static int row_cb(const wk_row *r, void *ud)
{
    ob_row *o = ud;
    o->m.id = atoll(r->v[0]);
    o->m.dossier_id = atoll(r->v[1]);
    o->m.history_id = r->v[2] ? atoll(r->v[2]) : 0;
    snprintf(o->m.kind, sizeof(o->m.kind), "%s", r->v[3]);
    snprintf(o->m.target, sizeof(o->m.target), "%s", r->v[4]);
    o->payload_s = strdup(r->v[5] ? r->v[5] : "{}");
    if (r->v[6]) {
        o->body = malloc(r->len[6] + 1);
        if (o->body) {
            memcpy(o->body, r->v[6], r->len[6]);
            o->body[r->len[6]] = '\0';
            o->body_len = r->len[6];
        }
    }
    o->m.attempts = atol(r->v[7]);
    snprintf(o->m.code, sizeof(o->m.code), "%s", r->v[8]);
    o->found = 1;
    return 1;
}

static void row_free(ob_row *o)
{
    free(o->payload_s);
    free(o->body);
    json_decref(o->m.payload);
    memset(o, 0, sizeof(*o));
}

static int ob_load(wk_db *db, long long id, ob_row *o)
{
    memset(o, 0, sizeof(*o));
    wk_param p[] = { WK_INT(id) };
    if (wk_db_exec(db, "SELECT o.id, o.dossier_id, o.history_id, o.kind, o.target, o.payload, o.body,"
                       " o.attempts, d.code FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                       " WHERE o.id = ?", p, 1, row_cb, o, NULL, NULL) != 0)
        return -1;
    if (!o->found)
        return 1;
    o->m.payload = json_loads(o->payload_s, 0, NULL);
    if (o->m.payload == NULL)
        o->m.payload = json_object();
    snprintf(o->m.idem, sizeof(o->m.idem), "%s:%lld", o->m.code, o->m.id);
    return 0;
}

/* Record the outcome of an attempt of a message we hold (lease_owner = me).
 * 0 recorded, 1 not ours any more (our lease ran out and another worker took
 * the message: its outcome wins), -1 db error. */
static int ob_finish(wk_db *db, const char *me, long long id, const char *state, long http,
                     const char *error, int64_t next_ms, int count_attempt)
{
    char at[40], nx[40];
    ob_dbt(wk_now_ms(), at);
    if (next_ms)
        ob_dbt(next_ms, nx);
    wk_param p[] = {
        WK_STR(state), WK_INT(count_attempt ? 1 : 0), http ? WK_INT(http) : WK_NULLP,
        error ? WK_STR(error) : WK_NULLP, next_ms ? WK_STR(nx) : WK_NULLP,
        WK_STR(state), WK_STR(at), WK_STR(state), WK_STR(at), WK_INT(id), WK_STR(me),
    };
    unsigned long long aff = 0;
    if (wk_db_exec(db,
        "UPDATE outbox SET state = ?, attempts = attempts + ?, last_http = ?, last_error = ?,"
        " next_attempt_at = ?, lease_owner = NULL, lease_until = NULL,"
        " sent_at = IF(? = 'sent', ?, sent_at), dead_at = IF(? = 'dead', ?, dead_at)"
        " WHERE id = ? AND state = 'pending' AND lease_owner = ?", p, 11, NULL, NULL, &aff, NULL) != 0)
        return -1;
    return aff == 1 ? 0 : 1;
}

static int64_t ob_backoff(const wk_conf *conf, long attempts)
{
    int64_t d = conf->outbox_backoff_base_ms;
    for (long i = 1; i < attempts && d < conf->outbox_backoff_max_ms; i++)
        d *= 2;
    if (d > conf->outbox_backoff_max_ms)
        d = conf->outbox_backoff_max_ms;
    /* jitter: between half and the full delay */
    return d / 2 + (int64_t)randombytes_uniform((uint32_t)(d / 2 + 1));
}

typedef enum { OB_SENT, OB_RETRY, OB_DEAD } ob_outcome;

/* a portal reply: KetQua with MaLoi 0 */
static int ob_portal_reply_ok(const wk_conf *conf, const char *body, size_t len, char *err, size_t errsz)
{
    char xsd[600];
    wk_xsd_path(conf, "KetQua.xsd", xsd, sizeof(xsd));
    xmlDocPtr doc = NULL;
    if (body == NULL || wk_xml_parse_valid(body, len, xsd, OB_MAX_REPLY, &doc, err, errsz) != 0)
        return 0;
    int ok = 0;
    for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && !xmlStrcmp(n->name, BAD_CAST "MaLoi")) {
            /* xs:nonNegativeInteger: " 0 " and "00" are zero too */
            xmlChar *t = xmlNodeGetContent(n);
            char *end = NULL;
            long v = t ? strtol((const char *)t, &end, 10) : -1;
            while (end && (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
                end++;
            ok = t && end && *end == '\0' && v == 0;
            if (!ok)
                snprintf(err, errsz, "reply MaLoi %.20s", t ? (const char *)t : "?");
            xmlFree(t);
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

static int ob_permanent_status(long s)
{
    return s == 400 || s == 404 || s == 405 || s == 409 || s == 410 || s == 413 || s == 415 || s == 422;
}

/* Deliver message id if we can claim it.  1 handled, 0 not ours (claimed by
 * another worker or no longer a due head), -1 MariaDB error. */
static int ob_deliver(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me, long long id)
{
    /* due times on the legal clock, leases on the real one (a lease must
     * outlast the call it covers, whatever a test does to the legal clock) */
    int64_t now = wk_clock_now_ms(r), real = wk_now_ms();
    char nows[40], far[40], reals[40], lease[40], lfar[40];
    ob_dbt(now, nows);
    ob_dbt(now + conf->outbox_backoff_max_ms + 1000, far);
    ob_dbt(real, reals);
    ob_dbt(real + conf->outbox_lease_ms, lease);
    ob_dbt(real + conf->outbox_lease_ms + 1000, lfar);
    unsigned long long aff = 0;
    /* an instant beyond any backoff or lease was set by a clock since moved back: due */
    wk_param cp[] = { WK_STR(me), WK_STR(lease), WK_INT(id), WK_STR(nows), WK_STR(far), WK_STR(reals),
                      WK_STR(lfar) };
    if (wk_db_exec(db, "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id = ?"
                       " AND state = 'pending'"
                       " AND (next_attempt_at IS NULL OR next_attempt_at <= ? OR next_attempt_at > ?)"
                       " AND (lease_until IS NULL OR lease_until < ? OR lease_until > ?)",
                       cp, 7, NULL, NULL, &aff, NULL) != 0)
        return -1;
    if (aff != 1)
        return 0;

    ob_row o;
    int lr = ob_load(db, id, &o);
    if (lr != 0) {
        row_free(&o);
        return lr < 0 ? -1 : 0;
    }
    char err[256] = "";
    const char *url_path = NULL, *base = NULL, *token = NULL;
    int is_postal = 0;
    const ob_shape *shape = NULL;
    if (!strcmp(o.m.kind, "history")) {
        shape = &shape_tientrinh;
        url_path = "/dvc/v1/tientrinh";
    } else if (!strcmp(o.m.kind, "dossier")) {
        shape = &shape_hoso;
        url_path = "/dvc/v1/hoso";
    } else if (!strcmp(o.m.kind, "postal_order")) {
        is_postal = 1;
        url_path = "/vnpost/v1/donhang";
    }
    if (is_postal) {
        base = conf->postal_url;
        token = conf->postal_token;
    } else {
        base = conf->portal_url;
        token = conf->portal_token;
    }
    if (url_path == NULL) {
        wk_warn("outbox", "unknown kind, dead id=%lld kind=%s", o.m.id, o.m.kind);
        int rc = ob_finish(db, me, o.m.id, "dead", 0, "unknown kind", 0, 0);
        row_free(&o);
        return rc < 0 ? -1 : 1;
    }

    /* freeze the body before the first attempt */
    if (o.body == NULL) {
        char *xml = NULL;
        size_t xl = 0;
        int rr;
        if (is_postal) {
            rr = wk_postal_render(db, &o.m, &xml, &xl);
        } else {
            rr = ob_render_flat(shape, o.m.payload, &xml, &xl) == 0 ? 0 : 1;
            if (rr == 0) {
                char xsd[600];
                xmlDocPtr doc = NULL;
                wk_xsd_path(conf, shape->xsd, xsd, sizeof(xsd));
                if (wk_xml_parse_valid(xml, xl, xsd, OB_MAX_BODY, &doc, err, sizeof(err)) != 0)
                    rr = 1;
                xmlFreeDoc(doc);
            }
        }
        if (rr < 0) {
            free(xml);
            row_free(&o);
            return -1;
        }
        if (rr > 0) {
            char e2[300];
            snprintf(e2, sizeof(e2), "render: %s", err[0] ? err : "cannot render the message");
            wk_warn("outbox", "message cannot be rendered, dead id=%lld kind=%s code=%s", o.m.id, o.m.kind,
                    o.m.code);
            free(xml);
            int rc = ob_finish(db, me, o.m.id, "dead", 0, e2, 0, 0);
            row_free(&o);
            return rc < 0 ? -1 : 1;
        }
        wk_param bp[] = { WK_STRN(xml, xl), WK_STR(o.m.idem), WK_INT(o.m.id) };
        unsigned long long frozen = 0;
        int rc = wk_db_exec(db, "UPDATE outbox SET body = ?, idem_key = ? WHERE id = ? AND body IS NULL",
                            bp, 3, NULL, NULL, &frozen, NULL);
        if (rc != 0) {
            free(xml);
            row_free(&o);
            return -1;
        }
        if (frozen == 1) {
            o.body = xml;                            /* what we stored is what we send */
            o.body_len = xl;
        } else {
            /* another worker froze it first (our lease had run out): send its bytes */
            free(xml);
            row_free(&o);
            if (ob_load(db, id, &o) != 0 || o.body == NULL) {
                row_free(&o);
                return -1;
            }
        }
    }

    if (base == NULL || base[0] == '\0') {
        row_free(&o);
        return 0;                                    /* target not configured: leave it */
    }
    char url[700];
    snprintf(url, sizeof(url), "%s%s", base, url_path);
    wk_http_resp resp;
    int hr = wk_http_xml("POST", url, token, o.m.idem, o.body, o.body_len, NULL,
                         conf->outbox_http_timeout_ms, OB_MAX_REPLY, &resp);
    ob_outcome out;
    long st = resp.status;
    err[0] = '\0';
    if (hr != 0) {
        out = OB_RETRY;
        snprintf(err, sizeof(err), "transport: %s", resp.error);
    } else if (st >= 200 && st < 300) {
        if (is_postal) {
            out = OB_SENT;                           /* the hook decides, below */
        } else if (ob_portal_reply_ok(conf, resp.body, resp.len, err, sizeof(err))) {
            out = OB_SENT;
        } else {
            out = OB_RETRY;
            char e2[200];
            snprintf(e2, sizeof(e2), "%s", err[0] ? err : "not acceptable");
            snprintf(err, sizeof(err), "reply: %s", e2);
        }
    } else if (ob_permanent_status(st)) {
        out = OB_DEAD;
        snprintf(err, sizeof(err), "refused: HTTP %ld", st);
    } else {
        out = OB_RETRY;
        snprintf(err, sizeof(err), "HTTP %ld", st);
    }

    int rc = 0;
    if (out == OB_SENT && is_postal) {
        if (wk_db_simple(db, "BEGIN") != 0) {
            wk_http_resp_free(&resp);
            row_free(&o);
            return -1;
        }
        int pr = wk_postal_on_sent(db, &o.m, resp.body, resp.len);
        if (pr == 0 && ob_finish(db, me, o.m.id, "sent", st, NULL, 0, 1) == 0 && wk_db_simple(db, "COMMIT") == 0) {
            wk_info("outbox", "sent id=%lld kind=%s code=%s http=%ld attempts=%ld", o.m.id, o.m.kind,
                    o.m.code, st, o.m.attempts + 1);
            /* the shipment number shows in the dossier's views; a failed
             * refresh is repaired by the refresh retry and the reconciler */
            if (r != NULL && wk_view_publish(db, r, o.m.code) != WK_OK)
                wk_warn("outbox", "view refresh after the postal order failed code=%s", o.m.code);
            wk_http_resp_free(&resp);
            row_free(&o);
            return 1;
        }
        wk_db_simple(db, "ROLLBACK");
        if (pr < 0) {
            wk_http_resp_free(&resp);
            row_free(&o);
            return -1;
        }
        out = OB_RETRY;
        snprintf(err, sizeof(err), "reply: not acceptable");
    }
    wk_http_resp_free(&resp);

    if (out == OB_SENT) {
        rc = ob_finish(db, me, o.m.id, "sent", st, NULL, 0, 1);
        if (rc == 0)
            wk_info("outbox", "sent id=%lld kind=%s code=%s http=%ld attempts=%ld", o.m.id, o.m.kind,
                    o.m.code, st, o.m.attempts + 1);
    } else if (out == OB_DEAD || o.m.attempts + 1 >= conf->outbox_max_attempts) {
        rc = ob_finish(db, me, o.m.id, "dead", st, err, 0, 1);
        if (rc == 0)
            wk_warn("outbox", "dead letter id=%lld kind=%s code=%s attempts=%ld error=\"%s\"", o.m.id,
                    o.m.kind, o.m.code, o.m.attempts + 1, err);
    } else {
        int64_t next = wk_clock_now_ms(r) + ob_backoff(conf, o.m.attempts + 1);
        rc = ob_finish(db, me, o.m.id, "pending", st, err, next, 1);
        if (rc == 0)
            wk_info("outbox", "retry id=%lld kind=%s code=%s attempts=%ld error=\"%s\"", o.m.id, o.m.kind,
                    o.m.code, o.m.attempts + 1, err);
    }
    row_free(&o);
    return rc < 0 ? -1 : 1;
}

/* ---- the tick ---- */

typedef struct { long long id[OB_BATCH]; int n; } ob_ids;

static int ids_cb(const wk_row *r, void *ud)
{
    ob_ids *l = ud;
    if (l->n < OB_BATCH)
        l->id[l->n++] = atoll(r->v[0]);
    return 0;
}

/* At most outbox_concurrency workers deliver at a time: each holds a slot,
 * a Redis lease renewed every round, so a slow or hanging partner can hold
 * those workers in their HTTP calls but never all of them (requests keep
 * being answered by the others).  Redis unreachable: deliver anyway (the
 * MariaDB leases keep it correct). */
static const char SLOT_LUA[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end\n"
    "if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end\n"
    "return 0\n";

static int ob_slot(wk_rds *r, const wk_conf *conf, const char *me)
{
    if (r == NULL)
        return 1;                                   /* tthcctl outbox deliver */
    char ttl[32];
    snprintf(ttl, sizeof(ttl), "%ld", conf->outbox_http_timeout_ms + OB_TICK_BUDGET + 5000);
    for (long i = 0; i < conf->outbox_concurrency; i++) {
        char key[64];
        snprintf(key, sizeof(key), "tthc:{outbox}:slot:%ld", i);
        const char *argv[] = { "EVAL", SLOT_LUA, "1", key, me, ttl };
        redisReply *rep = wk_rds_cmd(r, 6, argv, NULL);
        if (rep == NULL)
            return 1;
        int got = rep->type == REDIS_REPLY_INTEGER && rep->integer == 1;
        int err = rep->type == REDIS_REPLY_ERROR;
        freeReplyObject(rep);
        if (got || err)
            return 1;
    }
    return 0;
}

long wk_outbox_tick(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me)
{
    if (!conf->portal_url[0] && !conf->postal_url[0])
        return 0;
    if (!ob_slot(r, conf, me))
        return 0;
    if (wk_db_ensure(db) != 0)
        return -1;
    int64_t start = wk_now_ms();
    long handled = 0;
    while (wk_now_ms() - start < OB_TICK_BUDGET) {
        char nows[40], far[40], reals[40], lfar[40];
        int64_t now = wk_clock_now_ms(r), real = wk_now_ms();
        ob_dbt(now, nows);
        ob_dbt(now + conf->outbox_backoff_max_ms + 1000, far);
        ob_dbt(real, reals);
        ob_dbt(real + conf->outbox_lease_ms + 1000, lfar);
        ob_ids l = { { 0 }, 0 };
        wk_param p[] = { WK_STR(nows), WK_STR(far), WK_STR(reals), WK_STR(lfar),
                         WK_STR(conf->portal_url[0] ? "portal" : "-"),
                         WK_STR(conf->postal_url[0] ? "postal" : "-") };
        /* due heads: no earlier unsent message of the same dossier and target */
        if (wk_db_exec(db,
                "SELECT o.id FROM outbox o WHERE o.state = 'pending'"
                " AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ? OR o.next_attempt_at > ?)"
                " AND (o.lease_until IS NULL OR o.lease_until < ? OR o.lease_until > ?)"
                " AND o.target IN (?, ?)"
                " AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.target = o.target"
                "   AND e.dossier_id = o.dossier_id AND e.state <> 'sent' AND e.id < o.id)"
                " ORDER BY o.id LIMIT 16", p, 6, ids_cb, &l, NULL, NULL) != 0)
            return handled ? handled : -1;
        if (l.n == 0)
            break;
        int progress = 0;
        /* workers sharing the work start at different places in the list */
        int off = l.n > 1 ? (int)randombytes_uniform((uint32_t)l.n) : 0;
        for (int k = 0; k < l.n && wk_now_ms() - start < OB_TICK_BUDGET; k++) {
            int i = (k + off) % l.n;
            int rc = ob_deliver(db, r, conf, me, l.id[i]);
            if (rc < 0)
                return handled ? handled : -1;
            if (rc > 0) {
                handled++;
                progress++;
            }
        }
        if (!progress)
            break;
    }
    return handled;
}

/* ---- reconciliation (tthcctl outbox check) ---- */

typedef struct { long long id; char key[128]; long long status; } ob_sent;
typedef struct { ob_sent *v; int n, cap; } ob_sent_list;

static int sent_cb(const wk_row *r, void *ud)
{
    ob_sent_list *l = ud;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 32;
        ob_sent *nv = realloc(l->v, (size_t)nc * sizeof(*nv));
        if (nv == NULL)
            return 1;
        l->v = nv;
        l->cap = nc;
    }
    ob_sent *s = &l->v[l->n++];
    s->id = atoll(r->v[0]);
    snprintf(s->key, sizeof(s->key), "%s", r->v[1] ? r->v[1] : "");
    s->status = r->v[2] ? atoll(r->v[2]) : 0;
    return 0;
}

int wk_outbox_check(wk_db *db, const wk_conf *conf, const char *code, int *resent, char *err, size_t errsz)
{
    *resent = 0;
    err[0] = '\0';
    if (!conf->portal_url[0]) {
        snprintf(err, errsz, "portal_url not configured");
        return 2;
    }
    long long did = 0;
    wk_param cp[] = { WK_STR(code) };
    int f = wk_db_get_ll(db, "SELECT id FROM dossiers WHERE code = ?", cp, 1, &did);
    if (f < 0)
        return -1;
    if (f == 0) {
        snprintf(err, errsz, "no such dossier");
        return 2;
    }
    char url[700];
    snprintf(url, sizeof(url), "%s/dvc/v1/hoso/%s", conf->portal_url, code);
    wk_http_resp resp;
    if (wk_http_xml("GET", url, conf->portal_token, NULL, NULL, 0, NULL, conf->outbox_http_timeout_ms,
                    OB_MAX_REPLY * 16, &resp) != 0) {
        snprintf(err, errsz, "portal unreachable: %s", resp.error);
        wk_http_resp_free(&resp);
        return 3;
    }
    /* keys and status the portal holds */
    char **keys = NULL;
    int nkeys = 0, have_status = 0, oom = 0, portal_has = resp.status == 200;
    long long pstatus = 0;
    if (resp.status == 200) {
        char xsd[600];
        xmlDocPtr doc = NULL;
        wk_xsd_path(conf, "DoiSoatHoSo.xsd", xsd, sizeof(xsd));
        if (wk_xml_parse_valid(resp.body, resp.len, xsd, OB_MAX_REPLY * 16, &doc, err, errsz) != 0) {
            wk_http_resp_free(&resp);
            return 3;
        }
        for (xmlNodePtr n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
            if (n->type != XML_ELEMENT_NODE)
                continue;
            if (!xmlStrcmp(n->name, BAD_CAST "TrangThaiHoSo")) {
                xmlChar *t = xmlNodeGetContent(n);
                pstatus = t ? atoll((const char *)t) : 0;
                have_status = 1;
                xmlFree(t);
            } else if (!xmlStrcmp(n->name, BAD_CAST "DanhSachTienTrinh")) {
                for (xmlNodePtr k = n->children; k; k = k->next) {
                    if (k->type != XML_ELEMENT_NODE)
                        continue;
                    xmlChar *t = xmlNodeGetContent(k);
                    char **nk = realloc(keys, (size_t)(nkeys + 1) * sizeof(*keys));
                    char *dup = t ? strdup((const char *)t) : NULL;
                    xmlFree(t);
                    if (nk)
                        keys = nk;
                    if (nk == NULL || dup == NULL) {
                        free(dup);
                        oom = 1;
                        break;
                    }
                    keys[nkeys++] = dup;
                }
            }
        }
        xmlFreeDoc(doc);
        if (oom) {
            for (int k = 0; k < nkeys; k++)
                free(keys[k]);
            free(keys);
            wk_http_resp_free(&resp);
            snprintf(err, errsz, "out of memory");
            return -1;
        }
    } else if (resp.status != 404) {
        snprintf(err, errsz, "portal answered HTTP %ld", resp.status);
        wk_http_resp_free(&resp);
        return 3;
    }
    wk_http_resp_free(&resp);

    int rc = 0;
    ob_sent_list hl = { NULL, 0, 0 }, dl = { NULL, 0, 0 };
    wk_param dp[] = { WK_INT(did) };
    long long unsent_dossier = 0;
    /* under the dossier's lock: no action interleaves its messages with ours */
    if (wk_db_simple(db, "BEGIN") != 0
        || wk_db_exec(db, "SELECT id FROM dossiers WHERE id = ? FOR UPDATE", dp, 1, NULL, NULL, NULL, NULL) != 0) {
        rc = -1;
        goto out;
    }
    if (!portal_has) {
        /* the portal knows nothing of the dossier: everything again, in the
         * original order (HoSo first), under the original keys */
        unsigned long long n = 0;
        if (wk_db_exec(db, "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, lease_until = NULL,"
                           " lease_owner = NULL, replays = replays + 1, last_error = 'reconcile: unknown to the portal'"
                           " WHERE dossier_id = ? AND target = 'portal' AND state = 'sent'",
                           dp, 1, NULL, NULL, &n, NULL) != 0) {
            rc = -1;
            goto out;
        }
        *resent = (int)n;
        goto commit;
    }
    if (wk_db_get_ll(db, "SELECT COUNT(*) FROM outbox WHERE dossier_id = ? AND target = 'portal'"
                         " AND kind = 'dossier' AND state <> 'sent'", dp, 1, &unsent_dossier) < 0) {
        rc = -1;
        goto out;
    }
    if (wk_db_exec(db, "SELECT id, idem_key, NULL FROM outbox WHERE dossier_id = ? AND target = 'portal'"
                       " AND kind = 'history' AND state = 'sent' ORDER BY id", dp, 1, sent_cb, &hl, NULL, NULL) != 0
        || wk_db_exec(db, "SELECT id, idem_key, JSON_VALUE(payload, '$.TrangThaiHoSo') FROM outbox"
                          " WHERE dossier_id = ? AND target = 'portal' AND kind = 'dossier' AND state = 'sent'"
                          " ORDER BY id DESC LIMIT 1", dp, 1, sent_cb, &dl, NULL, NULL) != 0) {
        rc = -1;
        goto out;
    }
    for (int i = 0; i < hl.n; i++) {
        int found = 0;
        for (int k = 0; k < nkeys && !found; k++)
            found = !strcmp(keys[k], hl.v[i].key);
        if (found)
            continue;
        wk_param rp[] = { WK_INT(hl.v[i].id) };
        if (wk_db_exec(db, "UPDATE outbox SET state = 'pending', next_attempt_at = NULL, lease_until = NULL,"
                           " lease_owner = NULL, replays = replays + 1, last_error = 'reconcile: missing at the portal'"
                           " WHERE id = ? AND state = 'sent'", rp, 1, NULL, NULL, NULL, NULL) != 0) {
            rc = -1;
            goto out;
        }
        (*resent)++;
    }
    if (dl.n == 1 && unsent_dossier == 0 && (!have_status || pstatus != dl.v[0].status)) {
        /* the portal's status differs from the last one we sent: a new
         * create-or-update with today's state (a new fact, a new key) */
        wk_param np[] = { WK_INT(dl.v[0].id) };
        if (wk_db_exec(db, "INSERT INTO outbox (dossier_id, history_id, kind, target, payload)"
                           " SELECT dossier_id, NULL, 'dossier', 'portal', payload FROM outbox WHERE id = ?",
                           np, 1, NULL, NULL, NULL, NULL) != 0) {
            rc = -1;
            goto out;
        }
        (*resent)++;
    }
commit:
    if (wk_db_simple(db, "COMMIT") != 0) {
        rc = -1;
        goto out;
    }
    if (*resent)
        wk_info("outbox", "reconcile code=%s resent=%d", code, *resent);
out:
    if (rc != 0) {
        *resent = 0;
        wk_db_simple(db, "ROLLBACK");
    }
    for (int k = 0; k < nkeys; k++)
        free(keys[k]);
    free(keys);
    free(hl.v);
    free(dl.v);
    return rc;
}
