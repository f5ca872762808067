/* postal.c - postal pickup of dossiers and postal delivery of results
 * (issue 5 item 4; DOMAIN X3, A6; docs/exchange-postal.md,
 * docs/contracts-exchange.md "Postal operator").
 *
 *  - Orders: wk_postal_result_ready (the desk confirmed the result of a
 *    dossier whose result channel is 'postal') and wk_postal_pickup (an
 *    applicant asked for the paper dossier to be picked up) write a
 *    postal_orders row and queue an outbox message (kind 'postal_order',
 *    target 'postal') in the caller's transaction.  The outbox engine
 *    (outbox.c) renders it once through wk_postal_render (DonHangBuuChinh,
 *    validated against its own XSD before it leaves) and records the
 *    operator's acceptance through wk_postal_on_sent (KetQuaDonHang:
 *    MaLoi 0 and the shipment number SoHieuBuuGui).
 *  - Tracking updates: RPC partner.postal.tracking, from the edge route
 *    POST /api/v1/partners/postal/tracking.  Checks, in order: size, HMAC-
 *    SHA256(secret, timestamp "\n" body) in constant time, freshness of the
 *    timestamp against the real clock (300 s), the XML through xmlsafe with
 *    TrangThaiBuuChinh.xsd, the order (SoHieuBuuGui + MaHoSo), the replay of
 *    the same body.  Any refusal changes nothing.  A valid update is one
 *    transaction (dossier row locked): the event, a history entry written by
 *    the workflow's history writer (so views show it and the outbox takes it
 *    to the national portal), the order's state and, for a delivery, the
 *    dossier: 500 -> result returned (status 10, as return_result); 700 ->
 *    back to the desk (result_channel 'desk'; the desk returns it at the
 *    counter with return_result).
 * Logs carry codes, states and error classes, never names or addresses. */
#include "wk.h"
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mysqld_error.h>
#include <sodium.h>
#include <libxml/tree.h>

#define POSTAL_MAX_BODY   65536      /* bytes, as the edge */
#define POSTAL_MAX_SKEW_S 300        /* |timestamp - now| */
#define POSTAL_ACTOR      "Bưu chính công ích"

static void cpy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

/* a code of the common.xsd type Ma ([0-9A-Za-z_.-]{1,32}) from a place name:
 * the name folded (no case, no diacritics), separators as '-' */
static void slug(const char *in, char *out, size_t outsz)
{
    char f[1024];
    size_t n = 0;
    if (in == NULL || wk_fold(in, strlen(in), f, sizeof(f)) != 0)
        f[0] = '\0';
    for (const char *p = f; *p && n + 1 < outsz && n < 32; p++) {
        char ch = *p;
        if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
            out[n++] = ch;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outsz, "0");
}

static int code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return 0;
    return 1;
}

/* phone as SoDienThoai (\+?[0-9]{8,15}), spaces, dots and dashes dropped: 0 / -1 */
static int phone_norm(const char *in, char out[20])
{
    size_t n = 0, digits = 0;
    out[0] = '\0';
    if (in == NULL)
        return -1;
    for (const char *p = in; *p; p++) {
        if (*p == '+' && n == 0) {
            out[n++] = '+';
        } else if (*p >= '0' && *p <= '9') {
            if (++digits > 15)
                return -1;
            out[n++] = *p;
        } else if (*p != ' ' && *p != '.' && *p != '-') {
            return -1;
        }
    }
    out[n] = '\0';
    return digits >= 8 ? 0 : -1;
}

static int email_ok(const char *s)
{
    const char *at = s ? strchr(s, '@') : NULL;
    if (at == NULL || at == s || at[1] == '\0' || strchr(at + 1, '@') || strlen(s) > 254)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            return 0;
    return 1;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/* ------------------------------------------------------------ orders */

typedef struct {
    int found;
    char code[72], rc[16], agency[256], pname[600];
    char name[256], phone[40], email[256];
    char *addr;
} dos_ud;

static int dos_cb(const wk_row *r, void *ud)
{
    dos_ud *u = ud;
    u->found = 1;
    cpy(u->code, sizeof(u->code), r->v[0]);
    cpy(u->rc, sizeof(u->rc), r->v[1]);
    u->addr = r->v[2] ? strdup(r->v[2]) : NULL;
    cpy(u->name, sizeof(u->name), r->v[3]);
    cpy(u->phone, sizeof(u->phone), r->v[4]);
    cpy(u->email, sizeof(u->email), r->v[5]);
    cpy(u->agency, sizeof(u->agency), r->v[6]);
    cpy(u->pname, sizeof(u->pname), r->v[7]);
    return 1;
}

static int setting(wk_db *db, const char *name, const char *def, char *out, size_t outsz)
{
    int f = wf_setting(db, name, out, outsz);
    if (f < 0)
        return -1;
    if (f == 0 || out[0] == '\0')
        cpy(out, outsz, def);
    return 0;
}

/* the one-stop desk of the agency as a DiaChiLienHe; NULL on db error */
static json_t *desk_contact(wk_db *db, const char *agency)
{
    char addr[256], prov[64], dist[64], phone[64], ph[20], name[300];
    if (setting(db, "postal_desk_address", "Trung tâm Phục vụ hành chính công", addr, sizeof(addr)) != 0
        || setting(db, "postal_desk_province", "00", prov, sizeof(prov)) != 0
        || setting(db, "postal_desk_district", "000", dist, sizeof(dist)) != 0
        || setting(db, "postal_desk_phone", "", phone, sizeof(phone)) != 0)
        return NULL;
    snprintf(name, sizeof(name), "Bộ phận Một cửa - %.200s", agency);
    if (phone_norm(phone, ph) != 0)
        ph[0] = '\0';          /* refused by the XSD when rendered: a deployment error, logged */
    char full[600];
    snprintf(full, sizeof(full), "%s, %s", addr, agency);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "HoTen", name, "DiaChi", full,
                     "MaTinh", code_ok(prov) ? prov : "00", "MaHuyen", code_ok(dist) ? dist : "000",
                     "SoDienThoai", ph);
}

/* the applicant at the postal address of the application; NULL when the
 * address or a phone number is missing */
static json_t *applicant_contact(const dos_ud *u)
{
    json_error_t je;
    json_t *a = u->addr ? json_loads(u->addr, 0, &je) : NULL;
    char ph[20];
    if (!json_is_object(a) || !jstr(a, "street") || !jstr(a, "district") || !jstr(a, "province")
        || phone_norm(u->phone, ph) != 0) {
        json_decref(a);
        return NULL;
    }
    char full[1200];
    const char *ward = jstr(a, "ward");
    snprintf(full, sizeof(full), "%s%s%s, %s, %s", jstr(a, "street"), ward ? ", " : "", ward ? ward : "",
             jstr(a, "district"), jstr(a, "province"));
    char mt[40], mh[40], mx[40];
    /* codes when the address carries them (operator's list), else the folded names */
    const char *c;
    if ((c = jstr(a, "province_code")) && code_ok(c)) cpy(mt, sizeof(mt), c); else slug(jstr(a, "province"), mt, sizeof(mt));
    if ((c = jstr(a, "district_code")) && code_ok(c)) cpy(mh, sizeof(mh), c); else slug(jstr(a, "district"), mh, sizeof(mh));
    if ((c = jstr(a, "ward_code")) && code_ok(c)) cpy(mx, sizeof(mx), c); else if (ward) slug(ward, mx, sizeof(mx)); else mx[0] = '\0';
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "HoTen", u->name, "DiaChi", full, "MaTinh", mt,
                          "MaHuyen", mh, "SoDienThoai", ph);
    if (o && mx[0])
        json_object_set_new(o, "MaXa", json_string(mx));
    if (o && email_ok(u->email))
        json_object_set_new(o, "Email", json_string(u->email));
    json_decref(a);
    return o;
}

/* Writes the order and queues it: 1 made, 0 not possible (no address or
 * phone: *why set), -1 db error. */
static int order_create(wk_db *db, long long dossier_id, int pickup, time_t now, const char **why)
{
    dos_ud u;
    memset(&u, 0, sizeof(u));
    *why = NULL;
    wk_param p[] = { WK_INT(dossier_id) };
    if (wk_db_exec(db, "SELECT d.code, d.result_channel, d.postal_address_json, d.applicant_name,"
                       " d.applicant_phone, d.applicant_email, a.name, pr.name"
                       " FROM dossiers d JOIN agencies a ON a.id = d.agency_id"
                       " JOIN procedures pr ON pr.id = d.procedure_id WHERE d.id = ?",
                   p, 1, dos_cb, &u, NULL, NULL) != 0)
        return -1;
    if (!u.found) {
        *why = "no dossier";
        return 0;
    }
    json_t *app = applicant_contact(&u);
    free(u.addr);
    if (app == NULL) {
        *why = "no postal address or phone number";
        return 0;
    }
    json_t *desk = desk_contact(db, u.agency);
    if (desk == NULL) {
        json_decref(app);
        return -1;
    }
    char cod[32];
    if (setting(db, "postal_cod_amount", "0", cod, sizeof(cod)) != 0) {
        json_decref(app);
        json_decref(desk);
        return -1;
    }
    long long amount = strtoll(cod, NULL, 10);
    if (amount < 0 || amount > 999999999999LL || pickup)
        amount = 0;
    char mota[1200], ngay[16], amt[24];
    if (pickup)
        snprintf(mota, sizeof(mota), "Thu gom hồ sơ giấy %s (%.400s) gửi Bộ phận Một cửa - %.200s", u.code,
                 u.pname, u.agency);
    else
        snprintf(mota, sizeof(mota), "Kết quả giải quyết hồ sơ %s (%.400s) của %.200s", u.code, u.pname,
                 u.agency);
    wk_ngaygio(now, ngay);
    snprintf(amt, sizeof(amt), "%lld", amount);
    json_t *gui = pickup ? app : desk, *nhan = pickup ? desk : app;
    json_t *snap = json_pack("{s:O, s:O}", "NguoiGui", gui, "NguoiNhan", nhan);
    char *snaps = snap ? json_dumps(snap, JSON_COMPACT) : NULL;
    json_decref(snap);
    int rc = -1;
    unsigned long long oid = 0;
    wk_param o[] = { WK_INT(dossier_id), WK_STR(pickup ? "pickup" : "delivery"), WK_STR(snaps), WK_INT(amount) };
    if (snaps && wk_db_exec(db, "INSERT INTO postal_orders (dossier_id, kind, address_json, cod_amount)"
                                " VALUES (?,?,?,?)", o, 4, NULL, NULL, NULL, &oid) == 0) {
        json_t *pl = json_pack("{s:I, s:s, s:s, s:O, s:O, s:s, s:s, s:s}", "order_id", (json_int_t)oid,
                               "MaHoSo", u.code, "LoaiDonHang", pickup ? "1" : "2", "NguoiGui", gui,
                               "NguoiNhan", nhan, "MoTa", mota, "SoTienThuHo", amt, "NgayTao", ngay);
        char *pls = pl ? json_dumps(pl, JSON_COMPACT) : NULL;
        json_decref(pl);
        long long obid = 0;
        if (pls && wk_outbox_enqueue(db, dossier_id, 0, "postal_order", "postal", pls, &obid) == 0) {
            wk_param q[] = { WK_INT(obid), WK_INT(oid) };
            if (wk_db_exec(db, "UPDATE postal_orders SET outbox_id = ? WHERE id = ?", q, 2,
                           NULL, NULL, NULL, NULL) == 0)
                rc = 1;
        }
        free(pls);
    }
    free(snaps);
    json_decref(app);
    json_decref(desk);
    if (rc == 1)
        wk_info("postal", "order queued code=%s kind=%s order=%llu", u.code, pickup ? "pickup" : "delivery", oid);
    return rc;
}

int wk_postal_result_ready(wk_db *db, long long dossier_id, time_t now)
{
    char rc[16] = "";
    str_ud s = { rc, sizeof(rc), 0 };
    wk_param p[] = { WK_INT(dossier_id) };
    if (wk_db_exec(db, "SELECT result_channel FROM dossiers WHERE id = ?", p, 1, wf_str_cb, &s, NULL, NULL) != 0)
        return -1;
    if (strcmp(rc, "postal") != 0)
        return 0;
    long long open = 0;
    if (wk_db_get_ll(db, "SELECT COUNT(*) FROM postal_orders WHERE dossier_id = ? AND kind = 'delivery'"
                         " AND state <> 'returned'", p, 1, &open) < 0)
        return -1;
    if (open > 0)
        return 0;
    const char *why = NULL;
    int f = order_create(db, dossier_id, 0, now, &why);
    if (f < 0)
        return -1;
    if (f == 0) {
        /* cannot be posted: the desk hands it over (A6) */
        wk_warn("postal", "no delivery order, result goes to the desk dossier_id=%lld reason=\"%s\"", dossier_id,
                why ? why : "-");
        if (wk_db_exec(db, "UPDATE dossiers SET result_channel = 'desk' WHERE id = ?", p, 1,
                       NULL, NULL, NULL, NULL) != 0)
            return -1;
    }
    return 0;
}

int wk_postal_pickup(wk_db *db, long long dossier_id, time_t now)
{
    long long n = 0;
    wk_param p[] = { WK_INT(dossier_id) };
    if (wk_db_get_ll(db, "SELECT COUNT(*) FROM postal_orders WHERE dossier_id = ? AND kind = 'pickup'",
                     p, 1, &n) < 0)
        return -1;
    if (n > 0)
        return 0;
    const char *why = NULL;
    int f = order_create(db, dossier_id, 1, now, &why);
    if (f == 0)
        wk_warn("postal", "no pickup order dossier_id=%lld reason=\"%s\"", dossier_id, why ? why : "-");
    return f < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ the outbox hooks */

static void add_text(xmlNodePtr parent, const char *name, const char *v)
{
    xmlNewTextChild(parent, NULL, BAD_CAST name, BAD_CAST (v ? v : ""));
}

static void add_contact(xmlNodePtr root, const char *name, json_t *c)
{
    xmlNodePtr n = xmlNewChild(root, NULL, BAD_CAST name, NULL);
    add_text(n, "HoTen", jstr(c, "HoTen"));
    add_text(n, "DiaChi", jstr(c, "DiaChi"));
    add_text(n, "MaTinh", jstr(c, "MaTinh"));
    add_text(n, "MaHuyen", jstr(c, "MaHuyen"));
    if (jstr(c, "MaXa"))
        add_text(n, "MaXa", jstr(c, "MaXa"));
    add_text(n, "SoDienThoai", jstr(c, "SoDienThoai"));
    if (jstr(c, "Email"))
        add_text(n, "Email", jstr(c, "Email"));
}

int wk_postal_render(wk_db *db, const wk_outbox_msg *m, char **xml, size_t *len)
{
    *xml = NULL;
    *len = 0;
    json_t *pl = m->payload;
    json_t *oid = json_object_get(pl, "order_id");
    const char *code = jstr(pl, "MaHoSo");
    if (!json_is_integer(oid) || code == NULL || (m->code[0] && strcmp(code, m->code))) {
        wk_error("postal", "render: payload is not a postal order outbox=%lld", m->id);
        return 1;
    }
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr root = xmlNewNode(NULL, BAD_CAST "DonHangBuuChinh");
    xmlDocSetRootElement(doc, root);
    add_text(root, "MaHoSo", code);
    add_text(root, "LoaiDonHang", jstr(pl, "LoaiDonHang"));
    add_contact(root, "NguoiGui", json_object_get(pl, "NguoiGui"));
    add_contact(root, "NguoiNhan", json_object_get(pl, "NguoiNhan"));
    add_text(root, "MoTa", jstr(pl, "MoTa"));
    add_text(root, "SoTienThuHo", jstr(pl, "SoTienThuHo"));
    add_text(root, "NgayTao", jstr(pl, "NgayTao"));
    xmlChar *buf = NULL;
    int n = 0;
    xmlDocDumpMemoryEnc(doc, &buf, &n, "UTF-8");
    xmlFreeDoc(doc);
    if (buf == NULL || n <= 0) {
        xmlFree(buf);
        return -1;      /* out of memory: try again later */
    }
    /* what leaves is what the contract says: our own XSD first */
    char xsd[700], err[256];
    wk_xsd_path(db->conf, "DonHangBuuChinh.xsd", xsd, sizeof(xsd));
    xmlDocPtr chk = NULL;
    if (wk_xml_parse_valid((const char *)buf, (size_t)n, xsd, POSTAL_MAX_BODY, &chk, err, sizeof(err)) != 0) {
        wk_error("postal", "render: order does not validate outbox=%lld code=%s error=\"%s\"", m->id, code, err);
        xmlFree(buf);
        return 1;
    }
    xmlFreeDoc(chk);
    wk_param u[] = { WK_INT(m->id), WK_INT(json_integer_value(oid)) };
    if (wk_db_exec(db, "UPDATE postal_orders SET outbox_id = ? WHERE id = ? AND outbox_id IS NULL",
                   u, 2, NULL, NULL, NULL, NULL) != 0) {
        xmlFree(buf);
        return -1;
    }
    *xml = malloc((size_t)n + 1);
    if (*xml == NULL) {
        xmlFree(buf);
        return -1;
    }
    memcpy(*xml, buf, (size_t)n);
    (*xml)[n] = '\0';
    *len = (size_t)n;
    xmlFree(buf);
    return 0;
}

/* text of the first child element `name` of root, NULL if none */
static const char *child_text(xmlNodePtr root, const char *name, char *out, size_t outsz)
{
    for (xmlNodePtr c = root ? root->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name)) {
            xmlChar *t = xmlNodeGetContent(c);
            cpy(out, outsz, (const char *)t);
            xmlFree(t);
            return out;
        }
    return NULL;
}

int wk_postal_on_sent(wk_db *db, const wk_outbox_msg *m, const char *reply, size_t len)
{
    char xsd[700], err[256], maloi[16], so[40];
    wk_xsd_path(db->conf, "KetQuaDonHang.xsd", xsd, sizeof(xsd));
    xmlDocPtr doc = NULL;
    if (wk_xml_parse_valid(reply, len, xsd, POSTAL_MAX_BODY, &doc, err, sizeof(err)) != 0) {
        wk_warn("postal", "order reply refused outbox=%lld code=%s error=\"%s\"", m->id, m->code, err);
        return 1;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int ok = child_text(root, "MaLoi", maloi, sizeof(maloi)) && !strcmp(maloi, "0")
             && child_text(root, "SoHieuBuuGui", so, sizeof(so)) && so[0];
    xmlFreeDoc(doc);
    json_t *oid = json_object_get(m->payload, "order_id");
    if (!ok || !json_is_integer(oid)) {
        wk_warn("postal", "order reply without MaLoi 0 and SoHieuBuuGui outbox=%lld code=%s", m->id, m->code);
        return 1;
    }
    char cur[40] = "";
    str_ud s = { cur, sizeof(cur), 0 };
    wk_param p[] = { WK_INT(json_integer_value(oid)) };
    if (wk_db_exec(db, "SELECT IFNULL(tracking_no, '') FROM postal_orders WHERE id = ? FOR UPDATE",
                   p, 1, wf_str_cb, &s, NULL, NULL) != 0)
        return -1;
    if (!s.found) {
        wk_error("postal", "order reply for a missing order outbox=%lld code=%s", m->id, m->code);
        return 1;
    }
    if (cur[0]) {
        if (strcmp(cur, so) == 0)
            return 0;
        wk_error("postal", "order reply with another shipment number outbox=%lld code=%s", m->id, m->code);
        return 1;
    }
    wk_param u[] = { WK_STR(so), WK_INT(m->id), WK_INT(json_integer_value(oid)) };
    if (wk_db_exec(db, "UPDATE postal_orders SET tracking_no = ?, outbox_id = ?,"
                       " state = IF(state = 'created', 'accepted', state) WHERE id = ?",
                   u, 3, NULL, NULL, NULL, NULL) != 0) {
        if (db->last_errno == ER_DUP_ENTRY) {
            wk_error("postal", "shipment number already used by another order outbox=%lld code=%s", m->id,
                     m->code);
            return 1;
        }
        return -1;
    }
    wk_info("postal", "order accepted code=%s outbox=%lld", m->code, m->id);
    return 0;
}

/* ------------------------------------------------------------ tracking updates */

typedef struct {
    int found;
    long long id, dossier_id;
    char kind[16], state[20];
} ord_ud;

static int ord_cb(const wk_row *r, void *ud)
{
    ord_ud *o = ud;
    o->found = 1;
    o->id = strtoll(r->v[0], NULL, 10);
    o->dossier_id = strtoll(r->v[1], NULL, 10);
    cpy(o->kind, sizeof(o->kind), r->v[2]);
    cpy(o->state, sizeof(o->state), r->v[3]);
    return 1;
}

/* rank of a state: updates never move an order backwards, except that
 * in transit and a failed attempt alternate; delivered and returned are
 * final */
static int state_rank(const char *s)
{
    static const char *order[] = { "created", "accepted", "failed_attempt", "picked_up", "in_transit" };
    if (!strcmp(s, "delivered") || !strcmp(s, "returned"))
        return 100;
    for (int i = 0; i < 5; i++)
        if (!strcmp(order[i], s))
            return i;
    return 0;
}

static const char *next_state(const char *cur, const char *upd)
{
    if (upd == NULL || state_rank(cur) == 100)
        return cur;
    if (!strcmp(upd, "in_transit") || !strcmp(upd, "failed_attempt"))
        return upd;
    return state_rank(upd) > state_rank(cur) ? upd : cur;
}

typedef struct {
    const char *code, *state, *pickup, *delivery;
} status_def;

static const status_def STATUSES[] = {
    { "100", "accepted", "Bưu chính đã nhận đơn thu gom hồ sơ", "Bưu chính đã nhận đơn chuyển phát kết quả" },
    { "200", "picked_up", "Bưu chính đã thu gom hồ sơ giấy tại địa chỉ người nộp",
      "Bưu chính đã nhận kết quả tại bộ phận một cửa" },
    { "300", "in_transit", "Bưu chính đang vận chuyển hồ sơ", "Bưu chính đang vận chuyển kết quả" },
    { "500", "delivered", "Bưu chính đã chuyển hồ sơ giấy đến bộ phận một cửa",
      "Bưu chính đã phát kết quả cho người nhận" },
    { "600", "failed_attempt", "Bưu chính thu gom hồ sơ không thành công, sẽ thực hiện lại",
      "Bưu chính phát kết quả không thành công, sẽ phát lại" },
    { "700", "returned", "Bưu chính không thu gom được hồ sơ, đơn hàng kết thúc",
      "Bưu chính chuyển hoàn kết quả về bộ phận một cửa" },
};

static const status_def *status_find(const char *code)
{
    for (size_t i = 0; i < sizeof(STATUSES) / sizeof(STATUSES[0]); i++)
        if (!strcmp(STATUSES[i].code, code))
            return &STATUSES[i];
    return NULL;
}

typedef struct {
    char code[72], so[40], st[40], text[2100], when[16];
    time_t at;
    char sha[65];
} tracking;

/* one attempt of the transaction: NULL applied (*d filled), or an error
 * reply; *retry on a deadlock */
static json_t *tracking_apply(wk_rpc *c, const tracking *t, wf_dossier *d, int *retry, char *label_out,
                              size_t lsz)
{
    wk_db *db = c->db;
    *retry = 0;
    /* which dossier: looked up before the transaction, so that its snapshot
     * starts with the dossier's lock (reads after it see the latest rows) */
    ord_ud o;
    memset(&o, 0, sizeof(o));
    wk_param k[] = { WK_STR(t->so), WK_STR(t->code) };
    if (wk_db_exec(db, "SELECT o.id, o.dossier_id, o.kind, o.state FROM postal_orders o"
                       " JOIN dossiers d ON d.id = o.dossier_id WHERE o.tracking_no = ? AND d.code = ?",
                   k, 2, ord_cb, &o, NULL, NULL) != 0)
        return wk_rpc_db_error(c, "order");
    if (!o.found)
        return wk_rpc_error("UNKNOWN_SHIPMENT", NULL);
    if (wk_db_simple(db, "BEGIN") != 0)
        return wk_rpc_db_error(c, "begin");
    int f = wf_dossier_load(db, NULL, o.dossier_id, 1, d);
    if (f <= 0) {
        if (f < 0 && (db->last_errno == ER_LOCK_DEADLOCK || db->last_errno == ER_LOCK_WAIT_TIMEOUT)) {
            wk_db_simple(db, "ROLLBACK");
            *retry = 1;
            return NULL;
        }
        if (f < 0)
            return wk_rpc_db_error(c, "dossier");
        wk_db_simple(db, "ROLLBACK");
        return wk_rpc_error("UNKNOWN_SHIPMENT", NULL);
    }
    /* the order's state as of now (the dossier lock serialises its updates) */
    memset(&o, 0, sizeof(o));
    if (wk_db_exec(db, "SELECT o.id, o.dossier_id, o.kind, o.state FROM postal_orders o"
                       " JOIN dossiers d ON d.id = o.dossier_id WHERE o.tracking_no = ? AND d.code = ? FOR UPDATE",
                   k, 2, ord_cb, &o, NULL, NULL) != 0 || !o.found)
        return wk_rpc_db_error(c, "order lock");
    long long seen = 0;
    wk_param h[] = { WK_STR(t->sha) };
    if (wk_db_get_ll(db, "SELECT COUNT(*) FROM postal_events WHERE body_sha256 = ?", h, 1, &seen) < 0)
        return wk_rpc_db_error(c, "replay");
    if (seen) {
        wk_db_simple(db, "ROLLBACK");
        return wk_rpc_error("REPLAYED_MESSAGE", NULL);
    }
    char at[32];
    wk_dbtime_fmt(t->at, at);
    unsigned long long eid = 0;
    wk_param e[] = { WK_INT(o.id), WK_STR(t->sha), WK_STR(t->st), WK_STR(t->text), WK_STR(at) };
    if (wk_db_exec(db, "INSERT INTO postal_events (order_id, body_sha256, status_code, message, event_at)"
                       " VALUES (?,?,?,?,?)", e, 5, NULL, NULL, NULL, &eid) != 0) {
        if (db->last_errno == ER_DUP_ENTRY) {
            wk_db_simple(db, "ROLLBACK");
            return wk_rpc_error("REPLAYED_MESSAGE", NULL);
        }
        return wk_rpc_db_error(c, "event");
    }

    int delivery = !strcmp(o.kind, "delivery");
    const status_def *sd = status_find(t->st);
    /* the label is public (status lookup by code); the shipment number and
     * the operator's text go to the note (owner, staff, national portal) */
    char label[400], note[2200];
    if (sd)
        snprintf(label, sizeof(label), "%s", delivery ? sd->delivery : sd->pickup);
    else
        snprintf(label, sizeof(label), "Bưu chính cập nhật trạng thái %s", t->st);
    snprintf(note, sizeof(note), "Số hiệu bưu gửi %s: %s", t->so, t->text);
    const char *new_state = next_state(o.state, sd ? sd->state : NULL);
    /* an update older than the last one applied (the operator's messages may
     * overtake each other) is recorded in the history and changes no state */
    long long newer = 0;
    wk_param nx[] = { WK_INT(o.id), WK_STR(at) };
    if (wk_db_get_ll(db, "SELECT COUNT(*) FROM postal_orders WHERE id = ? AND last_status_at > ?",
                     nx, 2, &newer) < 0)
        return wk_rpc_db_error(c, "order time");
    if (newer > 0)
        new_state = o.state;

    wf_process p;
    int pf = wf_process_load(db, d, &p);
    if (pf < 0)
        return wk_rpc_db_error(c, "process");
    if (pf == 0)
        memset(&p, 0, sizeof(p));
    wf_req q;
    memset(&q, 0, sizeof(q));
    q.c = c;
    cpy(q.a.name, sizeof(q.a.name), POSTAL_ACTOR);
    cpy(q.a.ip, sizeof(q.a.ip), c->ip);
    q.action = "postal_tracking";
    q.note = note;
    q.cal = wk_calendar(db);
    q.now = (time_t)(wk_clock_now_ms(c->r) / 1000);

    int final_now = strcmp(new_state, o.state) != 0 && state_rank(new_state) == 100;
    if (delivery && final_now && !strcmp(new_state, "delivered") && !strcmp(d->stage, "done")) {
        /* A6, T4: the result reached the applicant: returned, as return_result */
        d->returned_at = q.now;
        d->status = 10;
        snprintf(d->stage, sizeof(d->stage), "closed");
        if (wf_save_dossier(db, d) != 0)
            return wk_rpc_db_error(c, "dossier");
    } else if (delivery && final_now && !strcmp(new_state, "returned") && !strcmp(d->stage, "done")) {
        /* back to the desk: returned at the counter (return_result) */
        wk_param r[] = { WK_INT(d->id) };
        if (wk_db_exec(db, "UPDATE dossiers SET result_channel = 'desk', row_version = row_version + 1"
                           " WHERE id = ?", r, 1, NULL, NULL, NULL, NULL) != 0)
            return wk_rpc_db_error(c, "dossier");
    }
    long long hid = 0;
    if (wf_write_history(db, &q, d, &p, label, &hid) != 0)
        return wk_rpc_db_error(c, "history");
    char ev_at[32];
    wk_dbtime_fmt(t->at, ev_at);
    wk_param hx[] = { WK_INT(hid) };
    wk_param ex[] = { WK_INT(hid), WK_INT(eid) };
    wk_param ox[] = { WK_STR(new_state), WK_STR(t->st), WK_STR(t->text), WK_STR(ev_at), WK_INT(o.id) };
    if (wk_db_exec(db, "UPDATE dossier_history SET actor_kind = 'system', actor_id = NULL WHERE id = ?",
                   hx, 1, NULL, NULL, NULL, NULL) != 0
        || wk_db_exec(db, "UPDATE postal_events SET history_id = ? WHERE id = ?", ex, 2, NULL, NULL, NULL, NULL) != 0
        || (newer == 0
            && wk_db_exec(db, "UPDATE postal_orders SET state = ?, last_status = ?, last_status_text = ?,"
                              " last_status_at = ? WHERE id = ?", ox, 5, NULL, NULL, NULL, NULL) != 0))
        return wk_rpc_db_error(c, "order");
    if (wk_db_simple(db, "COMMIT") != 0) {
        if (db->last_errno == ER_LOCK_DEADLOCK) {
            wk_db_simple(db, "ROLLBACK");
            *retry = 1;
            return NULL;
        }
        return wk_rpc_db_error(c, "commit");
    }
    wk_info("postal", "tracking applied code=%s kind=%s status=%s state=%s->%s dossier_status=%d", d->code, o.kind,
            t->st, o.state, new_state, d->status);
    cpy(label_out, lsz, new_state);
    return NULL;
}

json_t *wk_rpc_postal_tracking(wk_rpc *c, json_t *req)
{
    json_t *body = json_object_get(req, "body");
    if (!json_is_object(body) || !json_object_get(body, "body_b64"))
        body = req;
    const char *b64 = wk_json_str(body, "body_b64");
    size_t blen = b64 ? strlen(b64) : 0;
    if (blen == 0)
        return wk_rpc_error("XML_MALFORMED", NULL);
    if (blen > (POSTAL_MAX_BODY / 3 + 1) * 4 + 4)
        return wk_rpc_error("REQUEST_TOO_LARGE", NULL);
    unsigned char *raw = malloc(blen / 4 * 3 + 4);
    size_t n = 0;
    if (raw == NULL)
        return wk_rpc_error("INTERNAL_ERROR", NULL);
    if (sodium_base642bin(raw, blen / 4 * 3 + 4, b64, blen, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(raw);
        return wk_rpc_error("INVALID_REQUEST", "body_b64");
    }
    json_t *reply = NULL;
    xmlDocPtr doc = NULL;
    const char *xml = (const char *)raw;
    if (n == 0) {
        reply = wk_rpc_error("XML_MALFORMED", NULL);
        goto out;
    }
    if (n > POSTAL_MAX_BODY) {
        reply = wk_rpc_error("REQUEST_TOO_LARGE", NULL);
        goto out;
    }

    /* 1. the signature: HMAC-SHA256(secret, timestamp "\n" body), hex */
    char ts[32] = "";
    json_t *jts = json_object_get(body, "timestamp");
    if (json_is_string(jts))
        cpy(ts, sizeof(ts), json_string_value(jts));
    else if (json_is_integer(jts))
        snprintf(ts, sizeof(ts), "%lld", (long long)json_integer_value(jts));
    const char *sig = wk_json_str(body, "signature");
    size_t tl = strlen(ts);
    int ts_ok = tl > 0 && tl <= 12;
    for (size_t i = 0; i < tl; i++)
        if (ts[i] < '0' || ts[i] > '9')
            ts_ok = 0;
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    size_t gl = 0;
    const char *secret = c->conf->postal_hmac_secret;
    if (!ts_ok || sig == NULL || strlen(sig) != 2 * sizeof(got) || secret[0] == '\0'
        || sodium_hex2bin(got, sizeof(got), sig, strlen(sig), NULL, &gl, NULL) != 0 || gl != sizeof(got)) {
        if (secret[0] == '\0')
            wk_error("postal", "tracking refused: no postal_hmac_secret configured");
        reply = wk_rpc_error("BAD_SIGNATURE", NULL);
        goto out;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts, tl);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
    crypto_auth_hmacsha256_update(&st, raw, n);
    crypto_auth_hmacsha256_final(&st, want);
    sodium_memzero(&st, sizeof(st));
    if (sodium_memcmp(want, got, sizeof(want)) != 0) {
        wk_warn("postal", "tracking refused: bad signature ip=%s", c->ip);
        reply = wk_rpc_error("BAD_SIGNATURE", NULL);
        goto out;
    }
    /* 2. freshness, against the real clock (not the legal test clock) */
    long long tsv = strtoll(ts, NULL, 10), now = (long long)(wk_now_ms() / 1000);
    if (tsv < now - POSTAL_MAX_SKEW_S || tsv > now + POSTAL_MAX_SKEW_S) {
        wk_warn("postal", "tracking refused: timestamp off by %llds", tsv - now);
        reply = wk_rpc_error("MESSAGE_EXPIRED", NULL);
        goto out;
    }
    /* 3. the XML, through the one door */
    char xsd[700], err[256];
    wk_xsd_path(c->conf, "TrangThaiBuuChinh.xsd", xsd, sizeof(xsd));
    if (wk_xml_parse_valid(xml, n, xsd, POSTAL_MAX_BODY, &doc, err, sizeof(err)) != 0) {
        const char *code = wk_xml_error_code(err);
        wk_warn("postal", "tracking refused: %s error=\"%s\"", code, err);
        reply = wk_rpc_error(code, NULL);
        goto out;
    }
    tracking t;
    memset(&t, 0, sizeof(t));
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!child_text(root, "MaHoSo", t.code, sizeof(t.code)) || !child_text(root, "SoHieuBuuGui", t.so, sizeof(t.so))
        || !child_text(root, "MaTrangThai", t.st, sizeof(t.st)) || !child_text(root, "NoiDung", t.text, sizeof(t.text))
        || !child_text(root, "ThoiDiem", t.when, sizeof(t.when)) || wk_ngaygio_parse(t.when, &t.at) != 0) {
        wk_warn("postal", "tracking refused: XML_INVALID error=\"ThoiDiem is not a calendar date\"");
        reply = wk_rpc_error("XML_INVALID", NULL);
        goto out;
    }
    wk_sha256_hex(raw, n, t.sha);

    /* 4. the order, the replay, the effect: one transaction */
    wf_dossier d;
    char state[32] = "";
    for (int attempt = 0; attempt < 3 && reply == NULL; attempt++) {
        int retry = 0;
        reply = tracking_apply(c, &t, &d, &retry, state, sizeof(state));
        if (reply == NULL && !retry) {
            if (wk_view_publish(c->db, c->r, d.code) != WK_OK || wf_inbox_sync(c->db, c->r, d.code) != WK_OK) {
                wk_warn("postal", "read models not refreshed code=%s (retried)", d.code);
                wk_refresh_later(d.code);
            }
            if (d.applicant_id && wk_applicant_listed(c->r, d.applicant_id) == 1)
                wk_applicant_put(c->db, c->r, d.applicant_id, d.code);
            reply = json_pack("{s:b, s:s}", "ok", 1, "state", state);
        }
    }
    if (reply == NULL)
        reply = wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
out:
    if (doc)
        xmlFreeDoc(doc);
    free(raw);
    return reply;
}

/* ------------------------------------------------------------ views */

static int view_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    time_t ls = 0, cr = 0;
    char lsb[40] = "", crb[40] = "";
    if (r->v[5] && wk_dbtime_parse(r->v[5], &ls) == 0)
        wk_fmt_local(ls, lsb, sizeof(lsb));
    if (r->v[6] && wk_dbtime_parse(r->v[6], &cr) == 0)
        wk_fmt_local(cr, crb, sizeof(crb));
    json_t *o = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "kind", r->v[0],
                          "tracking_number", r->v[1] ? json_string(r->v[1]) : json_null(), "state", r->v[2],
                          "last_status", r->v[3] ? json_string(r->v[3]) : json_null(),
                          "last_status_text", r->v[4] ? json_string(r->v[4]) : json_null(),
                          "last_status_at", lsb[0] ? json_string(lsb) : json_null(),
                          "created_at", crb[0] ? json_string(crb) : json_null());
    if (o)
        json_array_append_new(arr, o);
    return 0;
}

json_t *wk_postal_view(wk_db *db, long long dossier_id)
{
    json_t *arr = json_array();
    wk_param p[] = { WK_INT(dossier_id) };
    wk_db_exec(db, "SELECT kind, tracking_no, state, last_status, last_status_text, last_status_at, created_at"
                   " FROM postal_orders WHERE dossier_id = ? ORDER BY id", p, 1, view_cb, arr, NULL, NULL);
    return arr;
}
