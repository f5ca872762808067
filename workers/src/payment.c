/* payment.c - online payment of fees (issue 5, DOMAIN A8; docs/exchange-payment.md,
 * docs/contracts-exchange.md "Payment platform").
 *
 *  - At reception (workflow_act.c, accept): an online dossier whose procedure has
 *    fees and an active beneficiary account owes them: the fees, the total and the
 *    account are frozen on the dossier (wk_payment_require) and it gets status 6.
 *  - me.payment.start: the applicant asks to pay; the open request is reused or a
 *    new one (MaGiaoDich "TT<dossier id>N<seq>") is created and frozen, then sent
 *    (YeuCauThanhToan) to the platform outside any transaction; its KetQuaYeuCau
 *    gives the payment page the applicant is sent to.
 *  - partner.payment.voucher: the platform's signed voucher (BienLaiThanhToan),
 *    checked in the contract's order (XML, signature, dossier, replay, amount);
 *    status 1 settles the request and moves the dossier on (status 2) with its
 *    history entry (and so its outbox record) in one transaction; 2/3 are recorded
 *    on the request and the dossier keeps waiting.  Nothing changes on a refusal.
 *  - wk_payment_view: the "payment" member of the private view.
 * Logs carry codes, transaction ids and amounts, never the payer. */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysqld_error.h>
#include <sodium.h>
#include <libxml/tree.h>

#define PAY_XML_MAX        (64 * 1024)     /* the edge's limit too */
#define PAY_REPLY_MAX      (64 * 1024)
#define PAY_HTTP_TIMEOUT   5000            /* < the 10 s RPC deadline */
#define PAY_EXPIRY_S       (24 * 3600)     /* ThoiHanThanhToan: one day */
#define PAY_SEQ_MAX        9999

static void cpy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static long long col_ll(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

/* "1.234.000 đồng" */
void wk_payment_amount_text(long long amount, char *out, size_t outsz)
{
    char digits[32], grouped[48];
    snprintf(digits, sizeof(digits), "%lld", amount < 0 ? 0 : amount);
    size_t n = strlen(digits), j = 0;
    for (size_t i = 0; i < n && j + 2 < sizeof(grouped); i++) {
        if (i && (n - i) % 3 == 0)
            grouped[j++] = '.';
        grouped[j++] = digits[i];
    }
    grouped[j] = '\0';
    snprintf(out, outsz, "%s đồng", grouped);
}

/* XML text escaping into a growing buffer */
typedef struct { char *b; size_t n, cap; int oom; } sbuf;

static void sb_put(sbuf *s, const char *p, size_t n)
{
    if (s->oom)
        return;
    if (s->n + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 2048;
        while (cap < s->n + n + 1)
            cap *= 2;
        char *nb = realloc(s->b, cap);
        if (nb == NULL) {
            s->oom = 1;
            return;
        }
        s->b = nb;
        s->cap = cap;
    }
    memcpy(s->b + s->n, p, n);
    s->n += n;
    s->b[s->n] = '\0';
}

static void sb_str(sbuf *s, const char *p)
{
    sb_put(s, p, strlen(p));
}

static void sb_esc(sbuf *s, const char *p)
{
    for (; p && *p; p++) {
        switch (*p) {
        case '&': sb_str(s, "&amp;"); break;
        case '<': sb_str(s, "&lt;"); break;
        case '>': sb_str(s, "&gt;"); break;
        case '"': sb_str(s, "&quot;"); break;
        default: sb_put(s, p, 1);
        }
    }
}

static void sb_el(sbuf *s, const char *name, const char *text)
{
    sb_str(s, "<");
    sb_str(s, name);
    sb_str(s, ">");
    sb_esc(s, text);
    sb_str(s, "</");
    sb_str(s, name);
    sb_str(s, ">");
}

/* text of the first child element `name` of root ("" when absent) */
static void child_text(xmlNodePtr root, const char *name, char *out, size_t outsz)
{
    out[0] = '\0';
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name)) {
            xmlChar *t = xmlNodeGetContent(n);
            cpy(out, outsz, (const char *)t);
            xmlFree(t);
            return;
        }
    }
}

/* ------------------------------------------------------------ reception */

typedef struct { long long amount; int n; json_t *lines; } fee_ud;
static int fee_cb(const wk_row *r, void *ud)
{
    fee_ud *f = ud;
    long long a = col_ll(r->v[1]);
    f->amount += a;
    f->n++;
    json_array_append_new(f->lines, json_pack("{s:s, s:I}", "name", r->v[0] ? r->v[0] : "", "amount",
                                              (json_int_t)a));
    return 0;
}

typedef struct { int found; char channel[16], agency[40]; long long agency_id, procedure_id; } dch_ud;
static int dch_cb(const wk_row *r, void *ud)
{
    dch_ud *u = ud;
    u->found = 1;
    cpy(u->channel, sizeof(u->channel), r->v[0]);
    u->agency_id = col_ll(r->v[1]);
    cpy(u->agency, sizeof(u->agency), r->v[2]);
    u->procedure_id = col_ll(r->v[3]);
    return 1;
}

typedef struct { int found; json_t *acc; } acc_ud;
static int acc_cb(const wk_row *r, void *ud)
{
    acc_ud *u = ud;
    u->found = 1;
    u->acc = json_pack("{s:s, s:s, s:s}", "account_no", r->v[0] ? r->v[0] : "", "account_name",
                       r->v[1] ? r->v[1] : "", "bank_code", r->v[2] ? r->v[2] : "");
    return 1;
}

int wk_payment_require(wk_db *db, long long dossier_id, long long *amount)
{
    *amount = 0;
    dch_ud d = { 0, "", "", 0, 0 };
    wk_param p[] = { WK_INT(dossier_id) };
    if (wk_db_exec(db, "SELECT d.channel, p.agency_id, a.code, p.id FROM dossiers d"
                       " JOIN procedures p ON p.id = d.procedure_id JOIN agencies a ON a.id = p.agency_id"
                       " WHERE d.id = ?", p, 1, dch_cb, &d, NULL, NULL) != 0)
        return -1;
    /* counter and postal registrations: the desk collects the fees (no status 6) */
    if (!d.found || strcmp(d.channel, "online"))
        return 0;
    acc_ud a = { 0, NULL };
    wk_param ap[] = { WK_INT(d.agency_id), WK_INT(d.procedure_id) };
    if (wk_db_exec(db, "SELECT account_no, account_name, bank_code FROM agency_accounts"
                       " WHERE agency_id = ? AND procedure_key IN (0, ?) AND active = 1"
                       " ORDER BY procedure_key DESC LIMIT 1", ap, 2, acc_cb, &a, NULL, NULL) != 0)
        return -1;
    if (!a.found) {
        json_decref(a.acc);
        return 0;               /* no beneficiary account: paid by other means (001 Art.20.1) */
    }
    fee_ud f = { 0, 0, json_array() };
    wk_param fp[] = { WK_INT(d.procedure_id) };
    if (wk_db_exec(db, "SELECT name, amount FROM procedure_fees WHERE procedure_id = ? ORDER BY id",
                   fp, 1, fee_cb, &f, NULL, NULL) != 0) {
        json_decref(f.lines);
        json_decref(a.acc);
        return -1;
    }
    int rc = 0;
    if (f.amount > 0) {
        json_object_set_new(a.acc, "agency", json_string(d.agency));
        char *lines = json_dumps(f.lines, JSON_COMPACT), *acc = json_dumps(a.acc, JSON_COMPACT);
        wk_param u[] = { WK_INT(f.amount), WK_STR(lines), WK_STR(acc), WK_INT(dossier_id) };
        rc = wk_db_exec(db, "UPDATE dossiers SET fee_amount = ?, fee_lines = ?, fee_account = ? WHERE id = ?",
                        u, 4, NULL, NULL, NULL, NULL) != 0 ? -1 : 1;
        free(lines);
        free(acc);
        *amount = f.amount;
    }
    json_decref(f.lines);
    json_decref(a.acc);
    return rc;
}

/* ------------------------------------------------------------ the view */

typedef struct {
    int found, status;
    long long amount;
    json_t *lines;
    char paid_at[40];
} pv_ud;
static int pv_cb(const wk_row *r, void *ud)
{
    pv_ud *u = ud;
    u->found = 1;
    u->status = atoi(r->v[0]);
    u->amount = r->v[1] ? col_ll(r->v[1]) : -1;
    json_error_t je;
    u->lines = r->v[2] ? json_loads(r->v[2], 0, &je) : NULL;
    cpy(u->paid_at, sizeof(u->paid_at), r->v[3]);
    return 1;
}

typedef struct { json_t *receipt, *last; } pr_ud;
static int pr_cb(const wk_row *r, void *ud)
{
    pr_ud *u = ud;
    /* rows newest first: the paid one gives the receipt, the newest the attempt */
    if (u->last == NULL)
        u->last = json_pack("{s:s, s:s, s:o}", "transaction", r->v[0], "state", r->v[1], "created_at",
                            wf_time(wf_col_time(r->v[2])));
    if (u->receipt == NULL && !strcmp(r->v[1], "paid")) {
        json_t *o = json_object();
        const char *names[] = { "KyHieuBienLai", "SoBienLai", "MaTraCuuBienLai", "DuongDanBienLai" };
        for (int i = 0; i < 4; i++)
            json_object_set_new(o, names[i], r->v[3 + i] ? json_string(r->v[3 + i]) : json_null());
        json_object_set_new(o, "paid_at", wf_time(wf_col_time(r->v[7])));
        json_object_set_new(o, "transaction", json_string(r->v[0]));
        json_object_set_new(o, "platform_transaction", r->v[8] ? json_string(r->v[8]) : json_null());
        json_object_set_new(o, "amount", json_integer(col_ll(r->v[9])));
        u->receipt = o;
    }
    return 0;
}

json_t *wk_payment_view(wk_db *db, long long dossier_id)
{
    pv_ud u = { 0, 0, -1, NULL, "" };
    wk_param p[] = { WK_INT(dossier_id) };
    if (wk_db_exec(db, "SELECT status, fee_amount, fee_lines, paid_at FROM dossiers WHERE id = ?",
                   p, 1, pv_cb, &u, NULL, NULL) != 0 || !u.found || u.amount < 0) {
        json_decref(u.lines);
        return json_null();
    }
    pr_ud r = { NULL, NULL };
    if (wk_db_exec(db, "SELECT transaction, state, created_at, receipt_series, receipt_no, receipt_lookup,"
                       " receipt_url, voucher_paid_at, voucher_platform_tx, voucher_amount"
                       " FROM payment_requests WHERE dossier_id = ? ORDER BY seq DESC LIMIT 20",
                   p, 1, pr_cb, &r, NULL, NULL) != 0) {
        json_decref(u.lines);
        json_decref(r.receipt);
        json_decref(r.last);
        return json_null();
    }
    json_t *v = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "state", r.receipt ? "paid" : "owed",
                          "amount", (json_int_t)u.amount, "fees", u.lines ? u.lines : json_array(),
                          "paid_at", wf_time(wf_col_time(u.paid_at[0] ? u.paid_at : NULL)),
                          "receipt", r.receipt ? r.receipt : json_null(),
                          "last_attempt", r.last ? r.last : json_null());
    json_object_set_new(v, "due", json_boolean(u.status == 6));
    return v;
}

/* ------------------------------------------------------------ me.payment.start */

typedef struct {
    int found;
    long long id, amount;
    char tx[40], state[16], url[2048], ptx[40];
    char *xml;
} req_ud;
static int req_cb(const wk_row *r, void *ud)
{
    req_ud *u = ud;
    u->found = 1;
    u->id = col_ll(r->v[0]);
    cpy(u->tx, sizeof(u->tx), r->v[1]);
    cpy(u->state, sizeof(u->state), r->v[2]);
    cpy(u->url, sizeof(u->url), r->v[3]);
    cpy(u->ptx, sizeof(u->ptx), r->v[4]);
    u->amount = col_ll(r->v[5]);
    u->xml = r->v[6] ? strdup(r->v[6]) : NULL;
    return 1;
}

typedef struct { int found; json_t *lines, *acc; long long amount; } due_ud;
static int due_cb(const wk_row *r, void *ud)
{
    due_ud *u = ud;
    json_error_t je;
    u->found = 1;
    u->amount = r->v[0] ? col_ll(r->v[0]) : -1;
    u->lines = r->v[1] ? json_loads(r->v[1], 0, &je) : NULL;
    u->acc = r->v[2] ? json_loads(r->v[2], 0, &je) : NULL;
    return 1;
}

/* the YeuCauThanhToan of a new request (malloc'd; NULL when out of memory) */
static char *request_xml(const wk_conf *conf, const wf_dossier *d, const char *tx, json_t *lines,
                         json_t *acc, long long amount, time_t now)
{
    sbuf s = { NULL, 0, 0, 0 };
    char num[32], t0[16], t1[16], text[300];
    wk_ngaygio(now, t0);
    wk_ngaygio(now + PAY_EXPIRY_S, t1);
    sb_str(&s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<YeuCauThanhToan>");
    sb_el(&s, "MaGiaoDich", tx);
    sb_el(&s, "MaHoSo", d->code);
    sb_el(&s, "MaTTHC", d->pcode);
    sb_el(&s, "MaDonViThuHuong", wk_json_str(acc, "agency") ? wk_json_str(acc, "agency") : d->agency);
    sb_str(&s, "<TaiKhoanThuHuong>");
    sb_el(&s, "SoTaiKhoan", wk_json_str(acc, "account_no"));
    sb_el(&s, "TenTaiKhoan", wk_json_str(acc, "account_name"));
    sb_el(&s, "MaNganHang", wk_json_str(acc, "bank_code"));
    sb_str(&s, "</TaiKhoanThuHuong><DanhSachLePhi>");
    size_t i;
    json_t *l;
    json_array_foreach(lines, i, l) {
        const char *name = wk_json_str(l, "name");
        sb_str(&s, "<LePhi>");
        sb_el(&s, "TenPhiLePhi", name);
        /* 1 phí, 2 lệ phí (by the catalogue's name: "Lệ phí ..." / "Phí ...") */
        sb_el(&s, "LoaiPhiLePhi", name && !strncmp(name, "Lệ phí", strlen("Lệ phí")) ? "2" : "1");
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(json_object_get(l, "amount")));
        sb_el(&s, "SoTien", num);
        sb_str(&s, "</LePhi>");
    }
    sb_str(&s, "</DanhSachLePhi>");
    snprintf(num, sizeof(num), "%lld", amount);
    sb_el(&s, "TongTien", num);
    snprintf(text, sizeof(text), "Nộp phí, lệ phí hồ sơ %s", d->code);
    sb_el(&s, "NoiDungThanhToan", text);
    sb_el(&s, "NgayTao", t0);
    sb_el(&s, "ThoiHanThanhToan", t1);
    /* the applicant comes back to the portal's page of the dossier */
    sbuf u = { NULL, 0, 0, 0 };
    sb_str(&u, conf->public_url[0] ? conf->public_url : "http://localhost");
    sb_str(&u, "/?hoso=");
    sb_str(&u, d->code);
    sb_el(&s, "DuongDanTraVe", u.b ? u.b : "");
    free(u.b);
    sb_str(&s, "</YeuCauThanhToan>\n");
    if (s.oom || u.oom) {
        free(s.b);
        return NULL;
    }
    return s.b;
}

static json_t *start_reply(const char *url, long long amount, const char *tx)
{
    return json_pack("{s:b, s:s, s:I, s:s}", "ok", 1, "payment_url", url, "amount", (json_int_t)amount,
                     "transaction", tx);
}

static void republish(wk_db *db, wk_rds *r, const wf_dossier *d)
{
    if (wk_view_publish(db, r, d->code) != WK_OK || wf_inbox_sync(db, r, d->code) != WK_OK) {
        wk_warn("payment", "read models not refreshed code=%s (retried)", d->code);
        wk_refresh_later(d->code);
    }
    if (d->applicant_id && wk_applicant_listed(r, d->applicant_id) == 1)
        wk_applicant_put(db, r, d->applicant_id, d->code);
}

json_t *wk_rpc_me_payment_start(wk_rpc *c, json_t *req)
{
    wk_db *db = c->db;
    long long uid = wk_rpc_actor_id(req);
    if (uid == 0)
        return wk_rpc_error("UNAUTHENTICATED", NULL);
    const char *code = wk_json_str(req, "code");
    char ag[32], dt[7];
    int sq;
    if (code == NULL || wk_code_parse(code, ag, dt, &sq) != 0)
        return wk_rpc_error("INVALID_DOSSIER_CODE", "code");
    if (!c->conf->payment_url[0]) {
        wk_warn("payment", "payment_url not configured code=%s", code);
        return wk_rpc_error("PARTNER_UNAVAILABLE", NULL);
    }

    /* 1. under the dossier's lock: the open request, or a new frozen one */
    wf_dossier d;
    req_ud q = { 0, 0, 0, "", "", "", "", NULL };
    long long amount = 0;
    for (int attempt = 0;; attempt++) {
        if (wk_db_simple(db, "BEGIN") != 0)
            return wk_rpc_db_error(c, "begin");
        int f = wf_dossier_load(db, code, 0, 1, &d);
        if (f < 0) {
            json_t *e = wk_rpc_db_error(c, "load dossier");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        if (f == 0 || d.applicant_id != uid) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("DOSSIER_NOT_FOUND", NULL);
        }
        if (d.status != 6) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("PAYMENT_NOT_DUE", NULL);
        }
        due_ud du = { 0, NULL, NULL, -1 };
        wk_param ip[] = { WK_INT(d.id) };
        if (wk_db_exec(db, "SELECT fee_amount, fee_lines, fee_account FROM dossiers WHERE id = ?",
                       ip, 1, due_cb, &du, NULL, NULL) != 0) {
            json_t *e = wk_rpc_db_error(c, "fees");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        if (du.amount <= 0 || !json_is_array(du.lines) || !json_is_object(du.acc)) {
            json_decref(du.lines);
            json_decref(du.acc);
            wk_db_simple(db, "ROLLBACK");
            wk_warn("payment", "status 6 without frozen fees code=%s", code);
            return wk_rpc_error("PAYMENT_NOT_DUE", NULL);
        }
        amount = du.amount;
        char now[32];
        time_t tnow = wk_clock_now(c->r);
        wf_dbt(tnow, now);
        wk_param op[] = { WK_INT(d.id), WK_STR(now) };
        if (wk_db_exec(db, "SELECT id, transaction, state, payment_url, platform_tx, amount, request_xml"
                           " FROM payment_requests WHERE dossier_id = ? AND state IN ('new','open')"
                           " AND expires_at > ? ORDER BY seq DESC LIMIT 1 FOR UPDATE",
                       op, 2, req_cb, &q, NULL, NULL) != 0) {
            json_decref(du.lines);
            json_decref(du.acc);
            json_t *e = wk_rpc_db_error(c, "open request");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        if (q.found && q.amount == amount) {
            json_decref(du.lines);
            json_decref(du.acc);
            wk_db_simple(db, "COMMIT");
            break;
        }
        free(q.xml);
        memset(&q, 0, sizeof(q));
        long long seq = 0;
        if (wk_db_get_ll(db, "SELECT COALESCE(MAX(seq), 0) + 1 FROM payment_requests WHERE dossier_id = ?",
                         ip, 1, &seq) < 0 || seq > PAY_SEQ_MAX) {
            json_decref(du.lines);
            json_decref(du.acc);
            json_t *e = seq > PAY_SEQ_MAX ? wk_rpc_error("PARTNER_UNAVAILABLE", NULL) : wk_rpc_db_error(c, "seq");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        snprintf(q.tx, sizeof(q.tx), "TT%lldN%lld", d.id, seq);
        q.xml = request_xml(c->conf, &d, q.tx, du.lines, du.acc, amount, tnow);
        if (q.xml) {
            /* our own message must be valid before it is kept and sent (an
             * account name with characters XML cannot carry, an over-long field) */
            char xsd[600], err[256];
            xmlDocPtr vd = NULL;
            wk_xsd_path(c->conf, "YeuCauThanhToan.xsd", xsd, sizeof(xsd));
            if (wk_xml_parse_valid(q.xml, strlen(q.xml), xsd, PAY_REPLY_MAX * 16, &vd, err, sizeof(err)) != 0) {
                wk_warn("payment", "payment request does not validate, not sent code=%s error=\"%s\"", d.code, err);
                free(q.xml);
                json_decref(du.lines);
                json_decref(du.acc);
                wk_db_simple(db, "ROLLBACK");
                return wk_rpc_error("INTERNAL_ERROR", NULL);
            }
            xmlFreeDoc(vd);
        }
        char *lines = json_dumps(du.lines, JSON_COMPACT);
        json_decref(du.lines);
        json_decref(du.acc);
        char exp[32];
        wf_dbt(tnow + PAY_EXPIRY_S, exp);
        wk_param ins[] = { WK_STR(q.tx), WK_INT(d.id), WK_INT(seq), WK_INT(amount), WK_STR(lines),
                           WK_STR(q.xml), WK_STR(now), WK_STR(exp) };
        unsigned long long nid = 0;
        int irc = q.xml && lines ? wk_db_exec(db, "INSERT INTO payment_requests (transaction, dossier_id, seq,"
                                                  " amount, fee_lines, request_xml, created_at, expires_at)"
                                                  " VALUES (?,?,?,?,?,?,?,?)", ins, 8, NULL, NULL, NULL, &nid)
                                 : -1;
        free(lines);
        if (irc != 0) {
            int dup = db->last_errno == ER_DUP_ENTRY;
            json_t *e = dup && attempt < 2 ? NULL : wk_rpc_db_error(c, "new request");
            wk_db_simple(db, "ROLLBACK");
            free(q.xml);
            q.xml = NULL;
            if (e)
                return e;
            continue;
        }
        if (wk_db_simple(db, "COMMIT") != 0) {
            free(q.xml);
            return wk_rpc_db_error(c, "commit");
        }
        q.id = (long long)nid;
        q.amount = amount;
        cpy(q.state, sizeof(q.state), "new");
        wk_info("payment", "request created code=%s transaction=%s amount=%lld", d.code, q.tx, amount);
        break;
    }

    if (!strcmp(q.state, "open") && q.url[0]) {
        free(q.xml);
        return start_reply(q.url, q.amount, q.tx);
    }

    /* 2. the platform, outside any transaction (same bytes, same Idempotency-Key) */
    char url[700];
    snprintf(url, sizeof(url), "%s/payment/v1/yeucau", c->conf->payment_url);
    wk_http_resp resp;
    int hrc = wk_http_xml("POST", url, c->conf->payment_token, q.tx, q.xml, q.xml ? strlen(q.xml) : 0, NULL,
                          PAY_HTTP_TIMEOUT, PAY_REPLY_MAX, &resp);
    free(q.xml);
    char why[256] = "", ptx[40] = "", purl[2048] = "";
    int fail_for_good = 0;
    if (hrc != 0) {
        snprintf(why, sizeof(why), "transport: %.120s", resp.error);
    } else if (resp.status < 200 || resp.status > 299) {
        snprintf(why, sizeof(why), "http %ld", resp.status);
        /* our request refused (4xx other than timeouts/limits): the next click makes a new one */
        fail_for_good = resp.status >= 400 && resp.status < 500 && resp.status != 408 && resp.status != 429;
    } else {
        char xsd[600], err[256];
        wk_xsd_path(c->conf, "KetQuaYeuCau.xsd", xsd, sizeof(xsd));
        xmlDocPtr doc = NULL;
        if (wk_xml_parse_valid(resp.body, resp.len, xsd, PAY_REPLY_MAX, &doc, err, sizeof(err)) != 0) {
            snprintf(why, sizeof(why), "reply: %.200s", err);
        } else {
            xmlNodePtr root = xmlDocGetRootElement(doc);
            char maloi[16];
            child_text(root, "MaLoi", maloi, sizeof(maloi));
            child_text(root, "MaGiaoDichNenTang", ptx, sizeof(ptx));
            child_text(root, "DuongDanThanhToan", purl, sizeof(purl));
            if (strcmp(maloi, "0")) {
                snprintf(why, sizeof(why), "MaLoi %s", maloi);
                fail_for_good = 1;
            } else if (!ptx[0] || !purl[0]) {
                snprintf(why, sizeof(why), "reply without MaGiaoDichNenTang or DuongDanThanhToan");
            }
            xmlFreeDoc(doc);
        }
    }
    wk_http_resp_free(&resp);
    if (why[0]) {
        wk_warn("payment", "platform did not take the request code=%s transaction=%s why=\"%s\"%s", d.code, q.tx,
                why, fail_for_good ? " (request failed)" : " (kept, retried on the next click)");
        wk_param fp[] = { WK_STR(why), WK_INT(q.id) };
        wk_db_exec(db, fail_for_good ? "UPDATE payment_requests SET last_error = ?, state = 'failed',"
                                       " settled_at = CURRENT_TIMESTAMP(6) WHERE id = ? AND state = 'new'"
                                     : "UPDATE payment_requests SET last_error = ? WHERE id = ?",
                   fp, 2, NULL, NULL, NULL, NULL);
        return wk_rpc_error("PARTNER_UNAVAILABLE", NULL);
    }
    wk_param up[] = { WK_STR(ptx), WK_STR(purl), WK_INT(q.id) };
    if (wk_db_exec(db, "UPDATE payment_requests SET state = 'open', platform_tx = ?, payment_url = ?,"
                       " opened_at = CURRENT_TIMESTAMP(6), last_error = NULL WHERE id = ? AND state = 'new'",
                   up, 3, NULL, NULL, NULL, NULL) != 0)
        return wk_rpc_db_error(c, "open request");
    wk_info("payment", "request opened code=%s transaction=%s platform_tx=%s", d.code, q.tx, ptx);
    republish(db, c->r, &d);
    return start_reply(purl, q.amount, q.tx);
}

/* ------------------------------------------------------------ partner.payment.voucher */

typedef struct {
    char tx[40], ptx[40], code[72], amount[24], status[4], at[16];
    char payer[1024], series[40], no[40], lookup[40], url[8004], sig[4200];   /* 255 / 2000 characters of UTF-8 */
} voucher;

typedef struct { int found; long long dossier_id; char code[72]; } vr_ud;
static int vr_cb(const wk_row *r, void *ud)
{
    vr_ud *u = ud;
    u->found = 1;
    u->dossier_id = col_ll(r->v[0]);
    cpy(u->code, sizeof(u->code), r->v[1]);
    return 1;
}

typedef struct { int found; long long id, amount; char state[16]; } vs_ud;
static int vs_cb(const wk_row *r, void *ud)
{
    vs_ud *u = ud;
    u->found = 1;
    u->id = col_ll(r->v[0]);
    u->amount = col_ll(r->v[1]);
    cpy(u->state, sizeof(u->state), r->v[2]);
    return 1;
}

static int sig_ok(const wk_conf *conf, const voucher *v)
{
    if (!conf->payment_pubkey_ok)
        return 0;
    unsigned char sig[crypto_sign_BYTES + 8];
    size_t sl = 0;
    if (sodium_base642bin(sig, sizeof(sig), v->sig, strlen(v->sig), NULL, &sl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || sl != crypto_sign_BYTES)
        return 0;
    /* every field that is applied or shown is signed (docs/contracts-exchange.md) */
    char msg[16384];
    int n = snprintf(msg, sizeof(msg), "%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s", v->tx, v->ptx, v->code, v->amount,
                     v->status, v->at, v->series, v->no, v->lookup, v->payer, v->url);
    if (n < 0 || (size_t)n >= sizeof(msg))
        return 0;
    return crypto_sign_verify_detached(sig, (const unsigned char *)msg, (unsigned long long)n,
                                       conf->payment_pubkey) == 0;
}

/* the settled request and, for a payment, the dossier's next status; one
 * transaction.  NULL + *done = 1 on success, or an error reply */
static json_t *settle(wk_rpc *c, const voucher *v, long long dossier_id, const char *body, size_t len,
                      const char *sha, int *moved, wf_dossier *d)
{
    wk_db *db = c->db;
    *moved = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (wk_db_simple(db, "BEGIN") != 0)
            return wk_rpc_db_error(c, "begin");
        /* lock order of every writer: the dossier, then its requests */
        int f = wf_dossier_load(db, NULL, dossier_id, 1, d);
        vs_ud s = { 0, 0, 0, "" };
        wk_param tp[] = { WK_STR(v->tx) };
        if (f < 0 || (f > 0 && wk_db_exec(db, "SELECT id, amount, state FROM payment_requests"
                                              " WHERE transaction = ? FOR UPDATE", tp, 1, vs_cb, &s,
                                          NULL, NULL) != 0)) {
            if (db->last_errno == ER_LOCK_DEADLOCK || db->last_errno == ER_LOCK_WAIT_TIMEOUT) {
                wk_db_simple(db, "ROLLBACK");
                continue;
            }
            json_t *e = wk_rpc_db_error(c, "load");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        if (f == 0 || !s.found || strcmp(d->code, v->code)) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("DOSSIER_NOT_FOUND", NULL);
        }
        /* paid and cancelled (by the payer) are final; after a failed attempt
         * the payer may still pay on the platform's same page: that later
         * voucher is applied (refusing it would keep money and block the dossier) */
        int st_in = atoi(v->status);
        if (!strcmp(s.state, "paid") || !strcmp(s.state, "cancelled")
            || (!strcmp(s.state, "failed") && st_in != 1)) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("REPLAYED_MESSAGE", NULL);
        }
        if (strtoll(v->amount, NULL, 10) != s.amount) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("AMOUNT_MISMATCH", NULL);
        }
        time_t paid = 0;
        wk_ngaygio_parse(v->at, &paid);           /* validated by the XSD; 31 Feb -> NULL */
        char pat[32];
        wf_dbt(paid, pat);
        int st = atoi(v->status);
        const char *state = st == 1 ? "paid" : st == 2 ? "failed" : "cancelled";
        wk_param u[] = {
            WK_STR(state), WK_INT(st), WK_STR(v->ptx), WK_STR(v->amount), WK_TIME(pat),
            v->payer[0] ? WK_STR(v->payer) : WK_NULLP, v->series[0] ? WK_STR(v->series) : WK_NULLP,
            v->no[0] ? WK_STR(v->no) : WK_NULLP, v->lookup[0] ? WK_STR(v->lookup) : WK_NULLP,
            v->url[0] ? WK_STR(v->url) : WK_NULLP, WK_STR(sha), WK_STRN(body, len), WK_INT(s.id),
        };
        if (wk_db_exec(db, "UPDATE payment_requests SET state = ?, settled_at = CURRENT_TIMESTAMP(6),"
                           " voucher_status = ?, voucher_platform_tx = ?, voucher_amount = ?, voucher_paid_at = ?,"
                           " payer = ?, receipt_series = ?, receipt_no = ?, receipt_lookup = ?, receipt_url = ?,"
                           " voucher_sha256 = ?, voucher_xml = ? WHERE id = ?", u, 13, NULL, NULL, NULL, NULL) != 0) {
            int dup = db->last_errno == ER_DUP_ENTRY;
            json_t *e = dup ? wk_rpc_error("REPLAYED_MESSAGE", NULL) : wk_rpc_db_error(c, "settle");
            wk_db_simple(db, "ROLLBACK");
            return e;
        }
        if (st == 1 && d->status == 6) {
            /* moves on to where the accept would have put it: status 2, at its step */
            wf_process p;
            if (wf_process_load(db, d, &p) < 0) {
                json_t *e = wk_rpc_db_error(c, "process");
                wk_db_simple(db, "ROLLBACK");
                return e;
            }
            wf_req q;
            memset(&q, 0, sizeof(q));
            q.c = c;
            q.action = "payment";
            q.cal = wk_calendar(db);
            q.now = wk_clock_now(c->r);
            cpy(q.a.name, sizeof(q.a.name), "Nền tảng thanh toán trực tuyến");
            cpy(q.a.ip, sizeof(q.a.ip), c->ip);
            char idem[64], label[255], amt[48];
            snprintf(idem, sizeof(idem), "pay:%s", v->tx);
            q.idem = idem;
            wk_payment_amount_text(s.amount, amt, sizeof(amt));
            if (v->no[0])
                snprintf(label, sizeof(label), "Đã hoàn thành nghĩa vụ tài chính: %s, biên lai %s%s%s", amt,
                         v->series, v->series[0] ? " số " : "số ", v->no);
            else
                snprintf(label, sizeof(label), "Đã hoàn thành nghĩa vụ tài chính: %s", amt);
            d->status = 2;
            long long hid = 0;
            char pa[32];
            wf_dbt(q.now, pa);
            wk_param dp[] = { WK_STR(pa), WK_INT(d->id) };
            wk_param hp[] = { WK_INT(0) };
            if (wf_save_dossier(db, d) != 0
                || wk_db_exec(db, "UPDATE dossiers SET paid_at = ? WHERE id = ?", dp, 2, NULL, NULL, NULL, NULL) != 0
                || wf_write_history(db, &q, d, &p, label, &hid) != 0
                || (hp[0] = WK_INT(hid), wk_db_exec(db, "UPDATE dossier_history SET actor_kind = 'system',"
                                                        " actor_id = NULL WHERE id = ?", hp, 1,
                                                    NULL, NULL, NULL, NULL)) != 0) {
                int dup = db->last_errno == ER_DUP_ENTRY;
                json_t *e = dup ? wk_rpc_error("REPLAYED_MESSAGE", NULL) : wk_rpc_db_error(c, "move on");
                wk_db_simple(db, "ROLLBACK");
                return e;
            }
            *moved = 1;
        } else if (st == 1) {
            /* paid for a dossier no longer waiting (refused, stopped, withdrawn while
             * the payer was at the platform): the receipt is kept, the status is not
             * touched; the agency refunds by its own procedure */
            wk_warn("payment", "payment for a dossier not in status 6 code=%s transaction=%s status=%d",
                    d->code, v->tx, d->status);
        }
        if (wk_db_simple(db, "COMMIT") != 0)
            return wk_rpc_db_error(c, "commit");
        return NULL;
    }
    /* lock conflicts kept winning: a transient refusal, so that the platform
     * calls again (a 409 would read as "already applied") */
    return wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
}

json_t *wk_rpc_partner_payment_voucher(wk_rpc *c, json_t *req)
{
    const char *b64 = wk_json_str(req, "body_b64");
    if (b64 == NULL)
        return wk_rpc_error("XML_MALFORMED", NULL);
    size_t blen = strlen(b64);
    if (blen > (PAY_XML_MAX / 3 + 2) * 4)
        return wk_rpc_error("REQUEST_TOO_LARGE", NULL);
    char *body = malloc(blen / 4 * 3 + 4);
    size_t len = 0;
    if (body == NULL)
        return wk_rpc_error("INTERNAL_ERROR", NULL);
    if (sodium_base642bin((unsigned char *)body, blen / 4 * 3 + 4, b64, blen, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || len == 0) {
        free(body);
        return wk_rpc_error("XML_MALFORMED", NULL);
    }
    /* 1. XML: well-formed, no DTD, bounded, valid against BienLaiThanhToan.xsd */
    char xsd[600], err[256];
    wk_xsd_path(c->conf, "BienLaiThanhToan.xsd", xsd, sizeof(xsd));
    xmlDocPtr doc = NULL;
    if (wk_xml_parse_valid(body, len, xsd, PAY_XML_MAX, &doc, err, sizeof(err)) != 0) {
        const char *code = wk_xml_error_code(err);
        wk_info("payment", "voucher refused error=%s why=\"%s\" ip=%s", code, err, c->ip);
        free(body);
        return wk_rpc_error(code, NULL);
    }
    voucher v;
    memset(&v, 0, sizeof(v));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    child_text(root, "MaGiaoDich", v.tx, sizeof(v.tx));
    child_text(root, "MaGiaoDichNenTang", v.ptx, sizeof(v.ptx));
    child_text(root, "MaHoSo", v.code, sizeof(v.code));
    child_text(root, "SoTien", v.amount, sizeof(v.amount));
    child_text(root, "TrangThaiThanhToan", v.status, sizeof(v.status));
    child_text(root, "ThoiDiemThanhToan", v.at, sizeof(v.at));
    child_text(root, "NguoiNop", v.payer, sizeof(v.payer));
    child_text(root, "KyHieuBienLai", v.series, sizeof(v.series));
    child_text(root, "SoBienLai", v.no, sizeof(v.no));
    child_text(root, "MaTraCuuBienLai", v.lookup, sizeof(v.lookup));
    child_text(root, "DuongDanBienLai", v.url, sizeof(v.url));
    child_text(root, "ChuKySo", v.sig, sizeof(v.sig));
    xmlFreeDoc(doc);

    /* 2. the platform's signature */
    if (!sig_ok(c->conf, &v)) {
        wk_warn("payment", "voucher refused error=BAD_SIGNATURE transaction=%s ip=%s key=%s", v.tx, c->ip,
                c->conf->payment_pubkey_ok ? "loaded" : "missing");
        free(body);
        return wk_rpc_error("BAD_SIGNATURE", NULL);
    }
    /* 3. a request of that dossier (4. not settled, 5. the amount: under the lock) */
    vr_ud r = { 0, 0, "" };
    wk_param tp[] = { WK_STR(v.tx) };
    if (wk_db_exec(c->db, "SELECT p.dossier_id, d.code FROM payment_requests p JOIN dossiers d"
                          " ON d.id = p.dossier_id WHERE p.transaction = ?", tp, 1, vr_cb, &r, NULL, NULL) != 0) {
        free(body);
        return wk_rpc_db_error(c, "find request");
    }
    if (!r.found || strcmp(r.code, v.code)) {
        wk_info("payment", "voucher refused error=DOSSIER_NOT_FOUND transaction=%s", v.tx);
        free(body);
        return wk_rpc_error("DOSSIER_NOT_FOUND", NULL);
    }
    char sha[65];
    wk_sha256_hex(body, len, sha);
    int moved = 0;
    wf_dossier d;
    json_t *e = settle(c, &v, r.dossier_id, body, len, sha, &moved, &d);
    free(body);
    if (e) {
        wk_info("payment", "voucher refused error=%s code=%s transaction=%s", wk_json_str(e, "error"), v.code, v.tx);
        return e;
    }
    wk_info("payment", "voucher applied code=%s transaction=%s status=%s amount=%s moved=%d", v.code, v.tx,
            v.status, v.amount, moved);
    republish(c->db, c->r, &d);
    return json_pack("{s:b, s:s, s:s}", "ok", 1, "transaction", v.tx,
                     "state", v.status[0] == '1' ? "paid" : v.status[0] == '2' ? "failed" : "cancelled");
}
