/* catimport.c - catalogue import from the national procedure database
 * (DOMAIN X2; docs/exchange-catalogue.md).
 *
 * The export (DanhSachThuTuc, exchange/xsd/ThuTuc.xsd) enters through
 * wk_xml_parse_valid only; it is read into plain structs
 * (wk_catimport_parse, pure) and applied in one MariaDB transaction
 * (wk_catimport_buf): agencies, fields and procedures are upserted by their
 * national codes, with their components, fees, processing time and form
 * fields.  Local settings are never touched: processes and their steps,
 * departments, officials, accounts, settings, and a component's upload rules
 * (max_size, media_types).  A procedure the export no longer lists (or lists
 * with TrangThai 0) is retired, never deleted; one listed again is active
 * again.  Nothing is written when the file is refused; the counts of a run
 * are logged, audited and kept in catalogue_imports; the catalogue read
 * model is republished when anything changed.
 *
 * wk_catimport_pull fetches GET {portal_url}/dvc/v1/thutuc with the last
 * imported sha256 as If-None-Match (the portal's ETag is the sha256 of the
 * body); wk_catimport_tick is the workers' scheduled pull (one worker per
 * interval: a Redis lease). */
#include "wk.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mysqld_error.h>
#include <libxml/tree.h>

#define DEFAULT_MAX_SIZE    10485760LL   /* new components: 10 MiB */
#define DEFAULT_MEDIA_TYPES "application/pdf,image/jpeg,image/png"
#define LOCK_NAME           "tthc.catalogue.import"

/* a republish failed after a commit: the next pull (or tick) retries it */
static int g_publish_pending;

/* ------------------------------------------------------------ parsing */

/* the first element child called name, or NULL */
static xmlNodePtr child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

static xmlNodePtr next_named(xmlNodePtr c, const char *name)
{
    for (c = c ? c->next : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && !strcmp((const char *)c->name, name))
            return c;
    return NULL;
}

/* text of the child element, trimmed of ASCII white space (malloc'd);
 * "" when the element is absent */
static char *text_of(xmlNodePtr n, const char *name)
{
    xmlNodePtr c = child(n, name);
    xmlChar *x = c ? xmlNodeGetContent(c) : NULL;
    const char *s = x ? (const char *)x : "";
    size_t a = 0, b = strlen(s);
    while (a < b && isspace((unsigned char)s[a]))
        a++;
    while (b > a && isspace((unsigned char)s[b - 1]))
        b--;
    char *out = wk_memdup0(s + a, b - a);
    if (x)
        xmlFree(x);
    return out;
}

static long num_of(xmlNodePtr n, const char *name, long dflt)
{
    char *t = text_of(n, name);
    long v = dflt;
    if (t && *t)
        v = strtol(t, NULL, 10);
    free(t);
    return v;
}

static int grow(void **arr, int *cap, int n, size_t elem)
{
    if (n < *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 8;
    void *na = realloc(*arr, (size_t)nc * elem);
    if (na == NULL)
        return -1;
    memset((char *)na + (size_t)*cap * elem, 0, (size_t)(nc - *cap) * elem);
    *arr = na;
    *cap = nc;
    return 0;
}

/* index of code in list (ASCII case-insensitive, like the database's
 * collation on these ASCII codes), adding it when new; -1 out of memory */
static int named_add(wk_cat_named **list, int *n, int *cap, char *code, char *name, int *conflict)
{
    if (code == NULL || name == NULL) {
        free(code);
        free(name);
        return -1;
    }
    for (int i = 0; i < *n; i++)
        if (!strcasecmp((*list)[i].code, code)) {
            if (strcmp((*list)[i].name, name))
                (*conflict)++;        /* first occurrence wins */
            free(code);
            free(name);
            return i;
        }
    if (grow((void **)list, cap, *n, sizeof(**list)) != 0) {
        free(code);
        free(name);
        return -1;
    }
    (*list)[*n].code = code;
    (*list)[*n].name = name;
    (*list)[*n].id = 0;
    return (*n)++;
}

void wk_catimport_doc_free(wk_cat_doc *d)
{
    if (d == NULL)
        return;
    for (int i = 0; i < d->nagencies; i++) {
        free(d->agencies[i].code);
        free(d->agencies[i].name);
    }
    for (int i = 0; i < d->nfields; i++) {
        free(d->fields[i].code);
        free(d->fields[i].name);
    }
    for (int i = 0; i < d->nprocs; i++) {
        wk_cat_proc *p = &d->procs[i];
        free(p->code);
        free(p->name);
        for (int k = 0; k < p->ncomps; k++) {
            free(p->comps[k].code);
            free(p->comps[k].name);
        }
        for (int k = 0; k < p->nfees; k++)
            free(p->fees[k].name);
        for (int k = 0; k < p->nforms; k++) {
            free(p->forms[k].code);
            free(p->forms[k].name);
            free(p->forms[k].kind);
        }
        free(p->comps);
        free(p->fees);
        free(p->forms);
    }
    free(d->agencies);
    free(d->fields);
    free(d->procs);
    memset(d, 0, sizeof(*d));
}

/* error class of a wk_xml_parse_valid reason (docs/contracts-exchange.md codes) */
static const char *xml_class(const char *why)
{
    if (!strncmp(why, "schema-invalid", 14))
        return "XML_INVALID";
    if (!strncmp(why, "refused: body too large", 23))
        return "TOO_LARGE";
    if (!strncmp(why, "refused:", 8))
        return "XML_FORBIDDEN";
    if (!strncmp(why, "xsd:", 4) || !strncmp(why, "internal:", 9))
        return "INTERNAL";
    return "XML_MALFORMED";
}

void wk_catimport_channels(unsigned mask, char out[32])
{
    out[0] = '\0';
    static const struct { unsigned bit; const char *name; } ch[] = {
        { WK_CAT_CH_ONLINE, "online" }, { WK_CAT_CH_DESK, "desk" }, { WK_CAT_CH_POSTAL, "postal" },
    };
    for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++)
        if (mask & ch[i].bit) {
            if (out[0])
                strcat(out, ",");
            strcat(out, ch[i].name);
        }
}

#define PFAIL(...) do { snprintf(err, errsz, __VA_ARGS__); goto fail; } while (0)

static int parse_proc(wk_cat_doc *d, xmlNodePtr t, wk_cat_proc *p, char *err, size_t errsz)
{
    int line = (int)xmlGetLineNo(t);
    p->line = line;
    p->code = text_of(t, "MaTTHC");
    p->name = text_of(t, "TenTTHC");
    char *fc = text_of(t, "MaLinhVuc"), *fn = text_of(t, "TenLinhVuc"),
         *lvl = text_of(t, "MucDoTrucTuyen"), *st = text_of(t, "TrangThai");
    if (!p->code || !p->name || !fc || !fn || !lvl || !st) {
        free(fc);
        free(fn);
        free(lvl);
        free(st);
        PFAIL("INTERNAL: out of memory");
    }
    p->full = !strcmp(lvl, "1");
    p->active = !strcmp(st, "1");
    free(lvl);
    free(st);
    p->field = named_add(&d->fields, &d->nfields, &d->capfields, fc, fn, &d->field_conflicts);
    if (p->field < 0)
        PFAIL("INTERNAL: out of memory");

    /* agencies: the first listed is the receiving (lead) agency; every one
     * listed is upserted */
    p->agency = -1;
    xmlNodePtr list = child(t, "DanhSachCoQuanThucHien");
    for (xmlNodePtr c = child(list, "CoQuan"); c; c = next_named(c, "CoQuan")) {
        int i = named_add(&d->agencies, &d->nagencies, &d->capagencies, text_of(c, "MaCoQuan"),
                          text_of(c, "TenCoQuan"), &d->agency_conflicts);
        if (i < 0)
            PFAIL("INTERNAL: out of memory");
        if (p->agency < 0)
            p->agency = i;
    }
    if (p->agency < 0)
        PFAIL("CATALOGUE_INVALID: procedure %s at line %d has no agency", p->code, line);

    /* processing time: the entry of channel 1 (at the counter), else the
     * first listed; the channels listed are where results can be had */
    list = child(t, "DanhSachThoiHanGiaiQuyet");
    int chosen = 0;
    for (xmlNodePtr c = child(list, "ThoiHanGiaiQuyet"); c; c = next_named(c, "ThoiHanGiaiQuyet")) {
        long k = num_of(c, "KenhThucHien", 0), amount = num_of(c, "ThoiGian", 0),
             unit = num_of(c, "DonViThoiGian", 1);
        p->channels |= k == 1 ? WK_CAT_CH_DESK : k == 2 ? WK_CAT_CH_ONLINE : k == 3 ? WK_CAT_CH_POSTAL : 0;
        if (!chosen || (k == 1 && chosen != 1)) {
            p->amount = amount;
            p->hours = unit == 2;
            chosen = k == 1 ? 1 : 2;
        }
    }
    if (!chosen)
        PFAIL("CATALOGUE_INVALID: procedure %s at line %d has no processing time", p->code, line);

    list = child(t, "DanhSachThanhPhanHoSo");
    for (xmlNodePtr c = child(list, "ThanhPhanHoSo"); c; c = next_named(c, "ThanhPhanHoSo")) {
        if (grow((void **)&p->comps, &p->capcomps, p->ncomps, sizeof(*p->comps)) != 0)
            PFAIL("INTERNAL: out of memory");
        wk_cat_comp *k = &p->comps[p->ncomps++];
        k->code = text_of(c, "MaThanhPhanHoSo");
        k->name = text_of(c, "TenThanhPhanHoSo");
        k->required = num_of(c, "BatBuoc", 0) == 1;
        k->originals = num_of(c, "SoBanChinh", -1);
        k->copies = num_of(c, "SoBanSao", -1);
        k->position = p->ncomps;
        if (!k->code || !k->name)
            PFAIL("INTERNAL: out of memory");
        for (int j = 0; j < p->ncomps - 1; j++)
            if (!strcasecmp(p->comps[j].code, k->code))
                PFAIL("CATALOGUE_INVALID: procedure %s: component code listed twice (line %d)",
                      p->code, (int)xmlGetLineNo(c));
    }

    list = child(t, "DanhSachLePhi");
    for (xmlNodePtr c = child(list, "LePhi"); c; c = next_named(c, "LePhi")) {
        if (grow((void **)&p->fees, &p->capfees, p->nfees, sizeof(*p->fees)) != 0)
            PFAIL("INTERNAL: out of memory");
        wk_cat_fee *f = &p->fees[p->nfees++];
        f->name = text_of(c, "TenPhiLePhi");
        char *amt = text_of(c, "SoTien");
        f->amount = amt ? strtoll(amt, NULL, 10) : 0;
        free(amt);
        if (!f->name)
            PFAIL("INTERNAL: out of memory");
        for (int j = 0; j < p->nfees - 1; j++)
            if (!strcmp(p->fees[j].name, f->name))
                PFAIL("CATALOGUE_INVALID: procedure %s: fee name listed twice (line %d)",
                      p->code, (int)xmlGetLineNo(c));
    }

    list = child(t, "DanhSachTruongDuLieu");
    for (xmlNodePtr c = child(list, "TruongDuLieu"); c; c = next_named(c, "TruongDuLieu")) {
        if (grow((void **)&p->forms, &p->capforms, p->nforms, sizeof(*p->forms)) != 0)
            PFAIL("INTERNAL: out of memory");
        wk_cat_form *f = &p->forms[p->nforms++];
        f->code = text_of(c, "MaTruong");
        f->name = text_of(c, "TenTruong");
        f->kind = text_of(c, "KieuDuLieu");
        f->required = num_of(c, "BatBuoc", 0) == 1;
        f->position = p->nforms;
        if (!f->code || !f->name || !f->kind)
            PFAIL("INTERNAL: out of memory");
        for (int j = 0; j < p->nforms - 1; j++)
            if (!strcasecmp(p->forms[j].code, f->code))
                PFAIL("CATALOGUE_INVALID: procedure %s: form field code listed twice (line %d)",
                      p->code, (int)xmlGetLineNo(c));
    }
    return 0;
fail:
    return -1;
}

int wk_catimport_parse(const char *buf, size_t len, const char *xsd_path, size_t max_len,
                       wk_cat_doc *d, char *err, size_t errsz)
{
    memset(d, 0, sizeof(*d));
    xmlDocPtr doc = NULL;
    char why[384];
    if (wk_xml_parse_valid(buf, len, xsd_path, max_len, &doc, why, sizeof(why)) != 0) {
        snprintf(err, errsz, "%s: %s", xml_class(why), why);
        return -1;
    }
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = 0;
    for (xmlNodePtr t = child(root, "ThuTuc"); t; t = next_named(t, "ThuTuc")) {
        if (grow((void **)&d->procs, &d->capprocs, d->nprocs, sizeof(*d->procs)) != 0) {
            snprintf(err, errsz, "INTERNAL: out of memory");
            rc = -1;
            break;
        }
        wk_cat_proc *p = &d->procs[d->nprocs++];
        if (parse_proc(d, t, p, err, errsz) != 0) {
            rc = -1;
            break;
        }
    }
    xmlFreeDoc(doc);
    if (rc != 0)
        wk_catimport_doc_free(d);
    return rc;
}

/* ------------------------------------------------------------ database */

typedef struct {
    int n, cap, ncol;
    char **cells;        /* n * ncol, NULL for SQL NULL */
} rows_t;

static int rows_cb(const wk_row *r, void *ud)
{
    rows_t *t = ud;
    if (t->ncol == 0)
        t->ncol = (int)r->n;
    if (t->n >= t->cap) {
        int nc = t->cap ? t->cap * 2 : 16;
        char **ncells = realloc(t->cells, (size_t)nc * (size_t)t->ncol * sizeof(char *));
        if (ncells == NULL)
            return 1;
        t->cells = ncells;
        t->cap = nc;
    }
    for (int j = 0; j < t->ncol; j++)
        t->cells[t->n * t->ncol + j] = r->v[j] ? wk_memdup0(r->v[j], r->len[j]) : NULL;
    t->n++;
    return 0;
}

static const char *cell(const rows_t *t, int i, int j)
{
    return t->cells[i * t->ncol + j];
}

static void rows_free(rows_t *t)
{
    for (int i = 0; i < t->n * t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}

static int streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

static long long ll_of(const char *s)
{
    return s ? strtoll(s, NULL, 10) : -1;
}

typedef struct {
    wk_db *db;
    char *err;
    size_t errsz;
    int perm;            /* a permanent (data) failure, not the database */
} imp;

/* a statement failed: the message (never a value of the export) */
static int dbfail(imp *m, const char *what, const char *code)
{
    if (m->db->last_errno == ER_DUP_ENTRY) {
        m->perm = 1;
        snprintf(m->err, m->errsz, "CATALOGUE_INVALID: %s%s%s: two entries equal for the database"
                 " (codes or names differing only in case or accents)", what, code ? " of " : "",
                 code ? code : "");
    } else {
        m->perm = !wk_db_transient(m->db);
        snprintf(m->err, m->errsz, "DATABASE: %s%s%s failed (errno %u)", what, code ? " of " : "",
                 code ? code : "", m->db->last_errno);
    }
    return -1;
}

static int exec(imp *m, const char *sql, const wk_param *p, unsigned np, rows_t *rows,
                unsigned long long *id, const char *what, const char *code)
{
    if (wk_db_exec(m->db, sql, p, np, rows ? rows_cb : NULL, rows, NULL, id) != 0)
        return dbfail(m, what, code);
    return 0;
}

/* agencies: name only (parent and level are local); a new one hangs under
 * the province (000.00.00.<province>) when that agency exists */
static int upsert_agency(imp *m, wk_cat_named *a, wk_catimport_result *res)
{
    rows_t t = { 0 };
    wk_param q[] = { WK_STR(a->code) };
    if (exec(m, "SELECT id, name FROM agencies WHERE code = ?", q, 1, &t, NULL, "agency lookup", a->code))
        return -1;
    int rc = 0;
    if (t.n > 0) {
        a->id = ll_of(cell(&t, 0, 0));
        if (streq(cell(&t, 0, 1), a->name)) {
            res->agencies_unchanged++;
        } else {
            wk_param u[] = { WK_STR(a->name), WK_INT(a->id) };
            rc = exec(m, "UPDATE agencies SET name = ? WHERE id = ?", u, 2, NULL, NULL, "agency update", a->code);
            res->agencies_updated++;
        }
    } else {
        char parent[40];
        const char *dot = strrchr(a->code, '.');
        snprintf(parent, sizeof(parent), "000.00.00.%s", dot ? dot + 1 : "");
        long long pid = 0;
        int root = !strcasecmp(parent, a->code);
        if (!root) {
            wk_param pq[] = { WK_STR(parent) };
            int f = wk_db_get_ll(m->db, "SELECT id FROM agencies WHERE code = ?", pq, 1, &pid);
            if (f < 0)
                return dbfail(m, "agency lookup", parent);
            if (f == 0)
                pid = 0;
        }
        unsigned long long id = 0;
        wk_param ins[] = { WK_STR(a->code), WK_STR(a->name), pid ? WK_INT(pid) : WK_NULLP, WK_INT(root ? 1 : 2) };
        rc = exec(m, "INSERT INTO agencies (code, name, parent_id, level) VALUES (?, ?, ?, ?)", ins, 4, NULL,
                  &id, "agency insert", a->code);
        a->id = (long long)id;
        res->agencies_added++;
    }
    rows_free(&t);
    return rc;
}

static int upsert_field(imp *m, wk_cat_named *f, wk_catimport_result *res)
{
    rows_t t = { 0 };
    wk_param q[] = { WK_STR(f->code) };
    if (exec(m, "SELECT id, name FROM fields WHERE code = ?", q, 1, &t, NULL, "field lookup", f->code))
        return -1;
    int rc = 0;
    if (t.n > 0) {
        f->id = ll_of(cell(&t, 0, 0));
        if (streq(cell(&t, 0, 1), f->name)) {
            res->fields_unchanged++;
        } else {
            wk_param u[] = { WK_STR(f->name), WK_INT(f->id) };
            rc = exec(m, "UPDATE fields SET name = ? WHERE id = ?", u, 2, NULL, NULL, "field update", f->code);
            res->fields_updated++;
        }
    } else {
        unsigned long long id = 0;
        wk_param ins[] = { WK_STR(f->code), WK_STR(f->name) };
        rc = exec(m, "INSERT INTO fields (code, name) VALUES (?, ?)", ins, 2, NULL, &id, "field insert", f->code);
        f->id = (long long)id;
        res->fields_added++;
    }
    rows_free(&t);
    return rc;
}

static wk_param opt_int(long v)
{
    return v >= 0 ? WK_INT(v) : WK_NULLP;
}

/* components of procedure pid: *changed set when anything was written */
static int sync_components(imp *m, long long pid, const wk_cat_proc *p, int *changed)
{
    rows_t t = { 0 };
    wk_param q[] = { WK_INT(pid) };
    if (exec(m, "SELECT id, code, name, required, position, originals, copies, active"
                " FROM components WHERE procedure_id = ?", q, 1, &t, NULL, "components", p->code))
        return -1;
    int rc = 0;
    char *matched = calloc((size_t)(t.n ? t.n : 1), 1);
    if (matched == NULL) {
        rows_free(&t);
        snprintf(m->err, m->errsz, "INTERNAL: out of memory");
        return -1;
    }
    int *row_of = calloc((size_t)(p->ncomps ? p->ncomps : 1), sizeof(int));
    if (row_of == NULL) {
        free(matched);
        rows_free(&t);
        snprintf(m->err, m->errsz, "INTERNAL: out of memory");
        return -1;
    }
    for (int k = 0; k < p->ncomps; k++) {
        row_of[k] = -1;
        for (int i = 0; i < t.n; i++)
            if (!matched[i] && !strcasecmp(cell(&t, i, 1), p->comps[k].code)) {
                matched[i] = 1;
                row_of[k] = i;
                break;
            }
    }
    /* dropped first (a code may come back in another case) */
    for (int i = 0; i < t.n && rc == 0; i++) {
        if (matched[i] || !streq(cell(&t, i, 7), "1"))
            continue;
        long long one = 0;
        wk_param rq[] = { WK_INT(pid), WK_STR(cell(&t, i, 1)), WK_INT(pid), WK_STR(cell(&t, i, 1)) };
        int f = wk_db_get_ll(m->db,
                             "SELECT EXISTS (SELECT 1 FROM dossier_files f JOIN dossiers d ON d.id = f.dossier_id"
                             "  WHERE d.procedure_id = ? AND f.component_code = ?)"
                             " OR EXISTS (SELECT 1 FROM dossier_outputs o JOIN dossiers d ON d.id = o.dossier_id"
                             "  WHERE d.procedure_id = ? AND o.component = ?)", rq, 4, &one);
        if (f < 0) {
            rc = dbfail(m, "component references", p->code);
            break;
        }
        wk_param dq[] = { WK_STR(cell(&t, i, 0)) };
        rc = exec(m, one ? "UPDATE components SET active = 0 WHERE id = ?" : "DELETE FROM components WHERE id = ?",
                  dq, 1, NULL, NULL, "component removal", p->code);
        *changed = 1;
    }
    for (int k = 0; k < p->ncomps && rc == 0; k++) {
        const wk_cat_comp *c = &p->comps[k];
        int i = row_of[k];
        if (i >= 0) {
            if (streq(cell(&t, i, 1), c->code) && streq(cell(&t, i, 2), c->name)
                && ll_of(cell(&t, i, 3)) == c->required && ll_of(cell(&t, i, 4)) == c->position
                && ll_of(cell(&t, i, 5)) == c->originals && ll_of(cell(&t, i, 6)) == c->copies
                && streq(cell(&t, i, 7), "1"))
                continue;
            wk_param u[] = { WK_STR(c->code), WK_STR(c->name), WK_INT(c->required), WK_INT(c->position),
                             opt_int(c->originals), opt_int(c->copies), WK_STR(cell(&t, i, 0)) };
            rc = exec(m, "UPDATE components SET code = ?, name = ?, required = ?, position = ?, originals = ?,"
                         " copies = ?, active = 1 WHERE id = ?", u, 7, NULL, NULL, "component update", p->code);
        } else {
            wk_param ins[] = { WK_INT(pid), WK_STR(c->code), WK_STR(c->name), WK_INT(c->required),
                               WK_INT(DEFAULT_MAX_SIZE), WK_STR(DEFAULT_MEDIA_TYPES), WK_INT(c->position),
                               opt_int(c->originals), opt_int(c->copies) };
            rc = exec(m, "INSERT INTO components (procedure_id, code, name, required, max_size, media_types,"
                         " position, originals, copies, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                      ins, 9, NULL, NULL, "component insert", p->code);
        }
        *changed = 1;
    }
    free(row_of);
    free(matched);
    rows_free(&t);
    return rc;
}

/* fees: matched by name (the table has no code); nothing references them */
static int sync_fees(imp *m, long long pid, const wk_cat_proc *p, int *changed)
{
    rows_t t = { 0 };
    wk_param q[] = { WK_INT(pid) };
    if (exec(m, "SELECT id, name, amount FROM procedure_fees WHERE procedure_id = ?", q, 1, &t, NULL,
             "fees", p->code))
        return -1;
    int rc = 0;
    for (int i = 0; i < t.n && rc == 0; i++) {
        int keep = 0;
        for (int k = 0; k < p->nfees && !keep; k++)
            keep = streq(cell(&t, i, 1), p->fees[k].name);
        if (keep)
            continue;
        wk_param dq[] = { WK_STR(cell(&t, i, 0)) };
        rc = exec(m, "DELETE FROM procedure_fees WHERE id = ?", dq, 1, NULL, NULL, "fee removal", p->code);
        *changed = 1;
    }
    for (int k = 0; k < p->nfees && rc == 0; k++) {
        int i = -1;
        for (int j = 0; j < t.n && i < 0; j++)
            if (streq(cell(&t, j, 1), p->fees[k].name))
                i = j;
        if (i >= 0 && ll_of(cell(&t, i, 2)) == p->fees[k].amount)
            continue;
        if (i >= 0) {
            wk_param u[] = { WK_INT(p->fees[k].amount), WK_STR(cell(&t, i, 0)) };
            rc = exec(m, "UPDATE procedure_fees SET amount = ? WHERE id = ?", u, 2, NULL, NULL, "fee update",
                      p->code);
        } else {
            wk_param ins[] = { WK_INT(pid), WK_STR(p->fees[k].name), WK_INT(p->fees[k].amount) };
            rc = exec(m, "INSERT INTO procedure_fees (procedure_id, name, amount) VALUES (?, ?, ?)", ins, 3,
                      NULL, NULL, "fee insert", p->code);
        }
        *changed = 1;
    }
    rows_free(&t);
    return rc;
}

/* form fields: matched by code; dossiers keep their own form_json */
static int sync_forms(imp *m, long long pid, const wk_cat_proc *p, int *changed)
{
    rows_t t = { 0 };
    wk_param q[] = { WK_INT(pid) };
    if (exec(m, "SELECT id, code, name, kind, required, position FROM procedure_form_fields"
                " WHERE procedure_id = ?", q, 1, &t, NULL, "form fields", p->code))
        return -1;
    int rc = 0;
    for (int i = 0; i < t.n && rc == 0; i++) {
        int keep = 0;
        for (int k = 0; k < p->nforms && !keep; k++)
            keep = !strcasecmp(cell(&t, i, 1), p->forms[k].code);
        if (keep)
            continue;
        wk_param dq[] = { WK_STR(cell(&t, i, 0)) };
        rc = exec(m, "DELETE FROM procedure_form_fields WHERE id = ?", dq, 1, NULL, NULL, "form field removal",
                  p->code);
        *changed = 1;
    }
    for (int k = 0; k < p->nforms && rc == 0; k++) {
        const wk_cat_form *f = &p->forms[k];
        int i = -1;
        for (int j = 0; j < t.n && i < 0; j++)
            if (!strcasecmp(cell(&t, j, 1), f->code))
                i = j;
        if (i >= 0 && streq(cell(&t, i, 1), f->code) && streq(cell(&t, i, 2), f->name)
            && streq(cell(&t, i, 3), f->kind) && ll_of(cell(&t, i, 4)) == f->required
            && ll_of(cell(&t, i, 5)) == f->position)
            continue;
        if (i >= 0) {
            wk_param u[] = { WK_STR(f->code), WK_STR(f->name), WK_STR(f->kind), WK_INT(f->required),
                             WK_INT(f->position), WK_STR(cell(&t, i, 0)) };
            rc = exec(m, "UPDATE procedure_form_fields SET code = ?, name = ?, kind = ?, required = ?, position = ?"
                         " WHERE id = ?", u, 6, NULL, NULL, "form field update", p->code);
        } else {
            wk_param ins[] = { WK_INT(pid), WK_STR(f->code), WK_STR(f->name), WK_STR(f->kind),
                               WK_INT(f->required), WK_INT(f->position) };
            rc = exec(m, "INSERT INTO procedure_form_fields (procedure_id, code, name, kind, required, position)"
                         " VALUES (?, ?, ?, ?, ?, ?)", ins, 6, NULL, NULL, "form field insert", p->code);
        }
        *changed = 1;
    }
    rows_free(&t);
    return rc;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* one procedure of the export; its id goes to *pid_out (0: not in the table) */
static int apply_proc(imp *m, const wk_cat_doc *d, const wk_cat_proc *p, long long *pid_out,
                      wk_catimport_result *res)
{
    *pid_out = 0;
    long long field_id = d->fields[p->field].id, agency_id = d->agencies[p->agency].id;
    const char *level = p->full ? "full" : "partial", *unit = p->hours ? "working_hour" : "working_day",
               *status = p->active ? "active" : "retired";
    char channels[32];
    wk_catimport_channels(p->channels, channels);
    rows_t t = { 0 };
    wk_param q[] = { WK_STR(p->code) };
    if (exec(m, "SELECT id, name, field_id, agency_id, online_level, processing_amount, processing_unit,"
                " result_channels, status FROM procedures WHERE code = ?", q, 1, &t, NULL, "procedure lookup",
             p->code))
        return -1;
    int rc = 0, changed = 0;
    if (t.n == 0) {
        rows_free(&t);
        if (!p->active) {
            res->procedures_skipped++;     /* new, but already retired nationally */
            return 0;
        }
        unsigned long long id = 0;
        wk_param ins[] = { WK_STR(p->code), WK_STR(p->name), WK_INT(field_id), WK_INT(agency_id),
                           WK_STR(level), WK_INT(p->amount), WK_STR(unit), WK_STR(channels) };
        if (exec(m, "INSERT INTO procedures (code, name, field_id, agency_id, online_level, processing_amount,"
                    " processing_unit, result_channels, status, imported_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', NOW(6))", ins, 8, NULL, &id,
                 "procedure insert", p->code))
            return -1;
        *pid_out = (long long)id;
        if (sync_components(m, *pid_out, p, &changed) || sync_fees(m, *pid_out, p, &changed)
            || sync_forms(m, *pid_out, p, &changed))
            return -1;
        res->procedures_added++;
        return 0;
    }
    long long pid = ll_of(cell(&t, 0, 0));
    *pid_out = pid;
    int was_active = streq(cell(&t, 0, 8), "active");
    int row_same = streq(cell(&t, 0, 1), p->name) && ll_of(cell(&t, 0, 2)) == field_id
                   && ll_of(cell(&t, 0, 3)) == agency_id && streq(cell(&t, 0, 4), level)
                   && ll_of(cell(&t, 0, 5)) == p->amount && streq(cell(&t, 0, 6), unit)
                   && streq(cell(&t, 0, 7), channels) && streq(cell(&t, 0, 8), status);
    rows_free(&t);
    if (!row_same) {
        wk_param u[] = { WK_STR(p->name), WK_INT(field_id), WK_INT(agency_id), WK_STR(level), WK_INT(p->amount),
                         WK_STR(unit), WK_STR(channels), WK_STR(status), WK_STR(status), WK_INT(pid) };
        rc = exec(m, "UPDATE procedures SET name = ?, field_id = ?, agency_id = ?, online_level = ?,"
                     " processing_amount = ?, processing_unit = ?, result_channels = ?, status = ?,"
                     " retired_at = IF(? = 'retired', COALESCE(retired_at, NOW(6)), NULL), imported_at = NOW(6)"
                     " WHERE id = ?", u, 10, NULL, NULL, "procedure update", p->code);
        changed = 1;
    }
    int sub = 0;
    if (rc == 0 && (sync_components(m, pid, p, &sub) || sync_fees(m, pid, p, &sub) || sync_forms(m, pid, p, &sub)))
        rc = -1;
    if (rc == 0 && sub && row_same) {
        wk_param u[] = { WK_INT(pid) };
        rc = exec(m, "UPDATE procedures SET imported_at = NOW(6) WHERE id = ?", u, 1, NULL, NULL,
                  "procedure update", p->code);
    }
    if (rc != 0)
        return -1;
    if (was_active && !p->active)
        res->procedures_retired++;
    else if (changed || sub)
        res->procedures_updated++;
    else
        res->procedures_unchanged++;
    return 0;
}

/* active procedures the export does not list: retired, never deleted.
 * guard (pulls): an export that would retire more than half of the active
 * procedures (and more than one) is refused as suspicious (a truncated
 * export from the portal must not empty the catalogue unattended). */
static int retire_absent(imp *m, long long *ids, int nids, int guard)
{
    qsort(ids, (size_t)nids, sizeof(*ids), cmp_ll);
    rows_t t = { 0 };
    if (exec(m, "SELECT id, code FROM procedures WHERE status = 'active'", NULL, 0, &t, NULL, "procedures", NULL))
        return -1;
    int n = 0, rc = 0;
    for (int i = 0; i < t.n; i++) {
        long long id = ll_of(cell(&t, i, 0));
        n += bsearch(&id, ids, (size_t)nids, sizeof(*ids), cmp_ll) == NULL;
    }
    if (guard && n > 1 && 2 * n > t.n) {
        snprintf(m->err, m->errsz, "CATALOGUE_SUSPICIOUS: the export would retire %d of %d active procedures;"
                 " import the file with tthcctl catalogue import if that is intended", n, t.n);
        m->perm = 1;
        rows_free(&t);
        return -1;
    }
    for (int i = 0; i < t.n && rc == 0; i++) {
        long long id = ll_of(cell(&t, i, 0));
        if (bsearch(&id, ids, (size_t)nids, sizeof(*ids), cmp_ll))
            continue;
        wk_param u[] = { WK_INT(id) };
        rc = exec(m, "UPDATE procedures SET status = 'retired', retired_at = NOW(6), imported_at = NOW(6)"
                     " WHERE id = ?", u, 1, NULL, NULL, "procedure retire", cell(&t, i, 1));
    }
    rows_free(&t);
    return rc == 0 ? n : -1;
}

static json_t *counts_json(const wk_catimport_result *r)
{
    return json_pack("{s:s, s:s, s:I, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i}, s:i}",
                     "source", r->source, "sha256", r->sha256, "size", (json_int_t)r->size,
                     "agencies", "added", (int)r->agencies_added, "updated", (int)r->agencies_updated,
                     "unchanged", (int)r->agencies_unchanged,
                     "fields", "added", (int)r->fields_added, "updated", (int)r->fields_updated,
                     "unchanged", (int)r->fields_unchanged,
                     "procedures", "added", (int)r->procedures_added, "updated", (int)r->procedures_updated,
                     "unchanged", (int)r->procedures_unchanged, "retired", (int)r->procedures_retired,
                     "skipped", (int)r->procedures_skipped,
                     "changes", (int)r->changes);
}

static void release_lock(wk_db *db)
{
    long long v = 0;
    if (db->my)
        wk_db_get_ll(db, "SELECT RELEASE_LOCK('" LOCK_NAME "')", NULL, 0, &v);
}

static wk_rc publish(wk_db *db, wk_rds *r, wk_catimport_result *res)
{
    if (r == NULL) {
        g_publish_pending = 1;
        return WK_TRANSIENT;
    }
    long np = 0;
    wk_rc rc = wk_catalogue_publish(db, r, &res->version, &np);
    g_publish_pending = rc != WK_OK;
    if (rc == WK_OK)
        wk_info("catimport", "catalogue published version=%lld procedures=%ld", res->version, np);
    else
        wk_warn("catimport", "catalogue publish failed after an import (retried by the next pull;"
                " or run tthcctl publish)");
    return rc;
}

static wk_rc import_buf(wk_db *db, wk_rds *r, const wk_conf *conf, const char *buf, size_t len,
                        const char *source, const char *actor, int dry_run, int guard,
                        wk_catimport_result *res, char *err, size_t errsz)
{
    memset(res, 0, sizeof(*res));
    snprintf(res->source, sizeof(res->source), "%s", source);
    res->size = (long long)len;
    res->dry_run = dry_run;
    res->publish = WK_OK;
    wk_sha256_hex(buf ? buf : "", buf ? len : 0, res->sha256);
    err[0] = '\0';

    char xsd[600];
    wk_xsd_path(conf, "ThuTuc.xsd", xsd, sizeof(xsd));
    wk_cat_doc d;
    if (wk_catimport_parse(buf, len, xsd, WK_CATIMPORT_MAX, &d, err, errsz) != 0) {
        wk_warn("catimport", "export refused source=%s sha256=%s size=%zu reason=\"%s\"", source, res->sha256,
                len, err);
        return WK_PERMANENT;
    }
    if (d.agency_conflicts || d.field_conflicts)
        wk_warn("catimport", "export names one agency or field differently in places (first kept)"
                " agencies=%d fields=%d", d.agency_conflicts, d.field_conflicts);

    imp m = { db, err, errsz, 0 };
    long long lock = 0;
    if (wk_db_ensure(db) != 0) {
        wk_catimport_doc_free(&d);
        snprintf(err, errsz, "DATABASE: MariaDB unavailable");
        return WK_TRANSIENT;
    }
    int f = wk_db_get_ll(db, "SELECT GET_LOCK('" LOCK_NAME "', 30)", NULL, 0, &lock);
    if (f != 1 || lock != 1) {
        wk_catimport_doc_free(&d);
        snprintf(err, errsz, f < 0 ? "DATABASE: MariaDB unavailable" : "BUSY: another catalogue import is running");
        return WK_TRANSIENT;
    }
    long long *ids = calloc((size_t)(d.nprocs ? d.nprocs : 1), sizeof(*ids));
    int nids = 0, rc = 0;
    if (ids == NULL) {
        snprintf(err, errsz, "INTERNAL: out of memory");
        m.perm = 1;
        rc = -1;
    }
    if (rc == 0 && wk_db_simple(db, "START TRANSACTION") != 0)
        rc = dbfail(&m, "begin", NULL);
    /* the province agencies (000.00.00.X) first: new agencies hang under them */
    for (int pass = 0; pass < 2 && rc == 0; pass++)
        for (int i = 0; i < d.nagencies && rc == 0; i++)
            if ((strncmp(d.agencies[i].code, "000.00.00.", 10) == 0) == (pass == 0))
                rc = upsert_agency(&m, &d.agencies[i], res);
    for (int i = 0; i < d.nfields && rc == 0; i++)
        rc = upsert_field(&m, &d.fields[i], res);
    for (int i = 0; i < d.nprocs && rc == 0; i++) {
        long long pid = 0;
        rc = apply_proc(&m, &d, &d.procs[i], &pid, res);
        if (rc == 0 && pid > 0)
            ids[nids++] = pid;
    }
    if (rc == 0) {
        int n = retire_absent(&m, ids, nids, guard);
        if (n < 0)
            rc = -1;
        else
            res->procedures_retired += n;
    }
    free(ids);
    wk_catimport_doc_free(&d);
    res->changes = res->agencies_added + res->agencies_updated + res->fields_added + res->fields_updated
                   + res->procedures_added + res->procedures_updated + res->procedures_retired;

    if (rc == 0 && !dry_run) {
        unsigned long long iid = 0;
        wk_param ip[] = {
            WK_STR(source), WK_STR(res->sha256), WK_INT(res->size), WK_STR(actor),
            WK_INT(res->agencies_added), WK_INT(res->agencies_updated), WK_INT(res->agencies_unchanged),
            WK_INT(res->fields_added), WK_INT(res->fields_updated), WK_INT(res->fields_unchanged),
            WK_INT(res->procedures_added), WK_INT(res->procedures_updated), WK_INT(res->procedures_unchanged),
            WK_INT(res->procedures_retired), WK_INT(res->procedures_skipped), WK_INT(res->changes),
        };
        rc = exec(&m, "INSERT INTO catalogue_imports (source, sha256, size, actor, agencies_added, agencies_updated,"
                      " agencies_unchanged, fields_added, fields_updated, fields_unchanged, procedures_added,"
                      " procedures_updated, procedures_unchanged, procedures_retired, procedures_skipped, changes)"
                      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", ip, 16, NULL, &iid,
                  "import record", NULL);
        res->import_id = (long long)iid;
        if (rc == 0) {
            char obj[48];
            snprintf(obj, sizeof(obj), "catalogue_import:%lld", res->import_id);
            wk_audit_ev ev = { NULL, 0, "system", -1, actor, NULL, "catalogue.import", obj, counts_json(res) };
            wk_rc arc = wk_audit_append_tx(db, &ev);
            json_decref(ev.detail);
            if (arc != WK_OK)
                rc = dbfail(&m, "audit", NULL);
        }
        if (rc == 0 && wk_db_simple(db, "COMMIT") != 0)
            rc = dbfail(&m, "commit", NULL);
    }
    if ((rc != 0 || dry_run) && db->my)
        wk_db_simple(db, "ROLLBACK");
    release_lock(db);
    if (rc != 0) {
        wk_warn("catimport", "import failed, nothing changed source=%s sha256=%s reason=\"%s\"", source,
                res->sha256, err);
        return m.perm ? WK_PERMANENT : WK_TRANSIENT;
    }
    wk_info("catimport", "%s source=%s sha256=%s size=%lld agencies_added=%ld agencies_updated=%ld"
            " agencies_unchanged=%ld fields_added=%ld fields_updated=%ld fields_unchanged=%ld"
            " procedures_added=%ld procedures_updated=%ld procedures_unchanged=%ld procedures_retired=%ld"
            " procedures_skipped=%ld changes=%ld", dry_run ? "dry run" : "imported", source, res->sha256,
            res->size, res->agencies_added, res->agencies_updated, res->agencies_unchanged, res->fields_added,
            res->fields_updated, res->fields_unchanged, res->procedures_added, res->procedures_updated,
            res->procedures_unchanged, res->procedures_retired, res->procedures_skipped, res->changes);
    if (!dry_run && (res->changes > 0 || g_publish_pending))
        res->publish = publish(db, r, res);
    return WK_OK;
}

wk_rc wk_catimport_buf(wk_db *db, wk_rds *r, const wk_conf *conf, const char *buf, size_t len,
                       const char *source, const char *actor, int dry_run,
                       wk_catimport_result *res, char *err, size_t errsz)
{
    return import_buf(db, r, conf, buf, len, source, actor, dry_run, 0, res, err, errsz);
}

wk_rc wk_catimport_file(wk_db *db, wk_rds *r, const wk_conf *conf, const char *path, const char *actor,
                        int dry_run, wk_catimport_result *res, char *err, size_t errsz)
{
    memset(res, 0, sizeof(*res));
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "FILE: cannot read %s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
        if (fd >= 0)
            close(fd);
        return WK_PERMANENT;
    }
    if (st.st_size > (off_t)WK_CATIMPORT_MAX) {
        close(fd);
        snprintf(err, errsz, "TOO_LARGE: refused: %lld bytes, limit %u", (long long)st.st_size,
                 (unsigned)WK_CATIMPORT_MAX);
        wk_warn("catimport", "export refused source=file size=%lld reason=\"too large\"", (long long)st.st_size);
        return WK_PERMANENT;
    }
    size_t cap = (size_t)st.st_size, len = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        snprintf(err, errsz, "INTERNAL: out of memory");
        return WK_PERMANENT;
    }
    while (len < cap) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    wk_rc rc = wk_catimport_buf(db, r, conf, buf, len, "file", actor, dry_run, res, err, errsz);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------ pull */

typedef struct { char sha[65]; } sha_ud;
static int sha_cb(const wk_row *r, void *ud)
{
    sha_ud *u = ud;
    if (r->v[0] && wk_is_hex64(r->v[0]))
        snprintf(u->sha, sizeof(u->sha), "%s", r->v[0]);
    return 1;
}

wk_rc wk_catimport_pull(wk_db *db, wk_rds *r, const wk_conf *conf, const char *actor, int *unchanged,
                        wk_catimport_result *res, char *err, size_t errsz)
{
    memset(res, 0, sizeof(*res));
    *unchanged = 0;
    err[0] = '\0';
    if (!conf->portal_url[0]) {
        snprintf(err, errsz, "CONFIG: portal_url is not configured");
        return WK_PERMANENT;
    }
    if (wk_db_ensure(db) != 0) {
        snprintf(err, errsz, "DATABASE: MariaDB unavailable");
        return WK_TRANSIENT;
    }
    if (g_publish_pending && r) {
        wk_catimport_result pr;
        memset(&pr, 0, sizeof(pr));
        publish(db, r, &pr);
    }
    sha_ud last = { "" };
    if (wk_db_exec(db, "SELECT sha256 FROM catalogue_imports ORDER BY id DESC LIMIT 1", NULL, 0, sha_cb, &last,
                   NULL, NULL) != 0) {
        snprintf(err, errsz, "DATABASE: catalogue_imports unreadable (errno %u)", db->last_errno);
        return wk_db_transient(db) ? WK_TRANSIENT : WK_PERMANENT;
    }
    char url[640], hdr[96];
    size_t ul = strlen(conf->portal_url);
    snprintf(url, sizeof(url), "%.*s/dvc/v1/thutuc", (int)(ul && conf->portal_url[ul - 1] == '/' ? ul - 1 : ul),
             conf->portal_url);
    snprintf(hdr, sizeof(hdr), "If-None-Match: \"%s\"", last.sha);
    wk_http_resp resp;
    long timeout = conf->outbox_http_timeout_ms > 30000 ? conf->outbox_http_timeout_ms : 30000;
    if (wk_http_xml("GET", url, conf->portal_token, NULL, NULL, 0, last.sha[0] ? hdr : NULL, timeout,
                    WK_CATIMPORT_MAX, &resp) != 0) {
        snprintf(err, errsz, "PARTNER_UNAVAILABLE: portal: %s", resp.error);
        wk_http_resp_free(&resp);
        return WK_TRANSIENT;
    }
    wk_rc rc;
    if (resp.status == 304) {
        *unchanged = 1;
        rc = WK_OK;
    } else if (resp.status == 200) {
        char sha[65];
        wk_sha256_hex(resp.body ? resp.body : "", resp.len, sha);
        if (last.sha[0] && !strcmp(sha, last.sha)) {
            *unchanged = 1;            /* the portal ignored If-None-Match */
            rc = WK_OK;
        } else {
            rc = import_buf(db, r, conf, resp.body, resp.len, "pull", actor, 0, 1, res, err, errsz);
        }
    } else {
        snprintf(err, errsz, "PARTNER_ERROR: portal answered HTTP %ld", resp.status);
        rc = resp.status == 408 || resp.status == 429 || resp.status >= 500 ? WK_TRANSIENT : WK_PERMANENT;
    }
    wk_http_resp_free(&resp);
    return rc;
}

void wk_catimport_tick(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me)
{
    long iv = conf->catalogue_pull_interval_s;
    if (iv <= 0 || !conf->portal_url[0])
        return;
    char ttl[24];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)iv * 1000);
    const char *argv[] = { "SET", WK_K_CAT_PULL, me, "NX", "PX", ttl };
    redisReply *rep = wk_rds_cmd(r, 6, argv, NULL);
    int mine = rep && rep->type == REDIS_REPLY_STATUS;
    if (rep)
        freeReplyObject(rep);
    if (!mine)
        return;                        /* another worker pulls this interval (or Redis is down) */
    char actor[400], err[512];
    snprintf(actor, sizeof(actor), "worker:%s", me);
    wk_catimport_result res;
    int unchanged = 0;
    wk_rc rc = wk_catimport_pull(db, r, conf, actor, &unchanged, &res, err, sizeof(err));
    if (rc == WK_OK && unchanged)
        wk_debug("catimport", "scheduled pull: catalogue unchanged");
    else if (rc == WK_OK)
        wk_info("catimport", "scheduled pull imported changes=%ld import_id=%lld", res.changes, res.import_id);
    else if (rc == WK_TRANSIENT)
        wk_warn("catimport", "scheduled pull failed, retried next interval reason=\"%s\"", err);
    else
        wk_error("catimport", "scheduled pull refused, retried next interval reason=\"%s\"", err);
}
