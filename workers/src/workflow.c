/* workflow.c - the handling workflow's data (issue 4; docs/contracts-workflow.md
 * "Schema"; DOMAIN T1-T8, H1-H2): loading a dossier and its process, and the
 * records an action writes.  The rules themselves are in workflow_act.c.
 *
 * Every action is one MariaDB transaction: the dossier row is locked
 * (SELECT ... FOR UPDATE), the action is checked against the stage, the
 * step, the actor's role, agency, department and the assignee, then the
 * dossier, its step visits (T7), per-agency time (T8), pauses (T6), the
 * history entry with its files (H2) and the outbox record (item 7) are
 * written together.  An idempotency key replays the stored reply.  After
 * COMMIT the views and the inbox are refreshed before the reply is sent, so
 * a 200 is followed by reads that show it.  Times come from wk_clock_now_ms
 * and the calendar of wk_calendar (one implementation: common/tthc_calendar). */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mysqld_error.h>


/* ------------------------------------------------------------ loading */

time_t wf_col_time(const char *s)
{
    time_t t = 0;
    if (s == NULL || wk_dbtime_parse(s, &t) != 0)
        return 0;
    return t;
}

static long long col_ll(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static void cpy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

static int dossier_cb(const wk_row *r, void *ud)
{
    wf_dossier *d = ud;
    int i = 0;
    d->id = col_ll(r->v[i++]);
    cpy(d->code, sizeof(d->code), r->v[i++]);
    d->status = atoi(r->v[i++]);
    cpy(d->stage, sizeof(d->stage), r->v[i++]);
    d->procedure_id = col_ll(r->v[i++]);
    d->process_id = col_ll(r->v[i++]);
    d->agency_id = col_ll(r->v[i++]);
    d->cur_agency_id = col_ll(r->v[i++]);
    d->assignee_id = col_ll(r->v[i++]);
    d->step_pos = (int)col_ll(r->v[i++]);
    d->step_visit = (int)col_ll(r->v[i++]);
    d->received_at = wf_col_time(r->v[i++]);
    d->receipt_at = wf_col_time(r->v[i++]);
    d->due_at = wf_col_time(r->v[i++]);
    d->first_due_at = wf_col_time(r->v[i++]);
    d->result_at = wf_col_time(r->v[i++]);
    d->returned_at = wf_col_time(r->v[i++]);
    d->paused_at = wf_col_time(r->v[i++]);
    cpy(d->outcome, sizeof(d->outcome), r->v[i++]);
    cpy(d->result_kind, sizeof(d->result_kind), r->v[i++]);
    d->apologised = (int)col_ll(r->v[i++]);
    d->supplement_count = (int)col_ll(r->v[i++]);
    d->supplement_step = (int)col_ll(r->v[i++]);
    d->row_version = col_ll(r->v[i++]);
    d->applicant_id = col_ll(r->v[i++]);
    d->amount = (int)col_ll(r->v[i++]);
    d->unit_hours = r->v[i] && !strcmp(r->v[i], "working_hour");
    i++;
    cpy(d->agency, sizeof(d->agency), r->v[i++]);
    cpy(d->pcode, sizeof(d->pcode), r->v[i++]);
    cpy(d->warning, sizeof(d->warning), r->v[i++]);
    return 1;
}

int wf_dossier_load(wk_db *db, const char *code, long long id, int lock, wf_dossier *d)
{
    memset(d, 0, sizeof(*d));
    char sql[1400];
    snprintf(sql, sizeof(sql),
             "SELECT d.id, d.code, d.status, d.stage, d.procedure_id, d.process_id, d.agency_id,"
             " d.current_agency_id, d.assignee_id, d.step_position, d.step_visit, d.received_at,"
             " d.receipt_at, d.due_at, d.first_due_at, d.result_at, d.returned_at, d.paused_at,"
             " d.outcome, d.result_kind, d.apologised, d.supplement_count, d.supplement_step,"
             " d.row_version, d.applicant_id, p.processing_amount, p.processing_unit, a.code, p.code,"
             " d.warning"
             " FROM dossiers d JOIN procedures p ON p.id = d.procedure_id"
             " JOIN agencies a ON a.id = d.agency_id WHERE %s%s",
             code ? "d.code = ?" : "d.id = ?", lock ? " FOR UPDATE" : "");
    wk_param p[] = { code ? WK_STR(code) : WK_INT(id) };
    d->id = 0;
    if (wk_db_exec(db, sql, p, 1, dossier_cb, d, NULL, NULL) != 0)
        return -1;
    return d->id ? 1 : 0;
}

static int step_cb(const wk_row *r, void *ud)
{
    wf_process *p = ud;
    if (p->n >= WF_MAX_STEPS)
        return 1;
    wf_step *s = &p->s[p->n++];
    s->pos = atoi(r->v[0]);
    cpy(s->name, sizeof(s->name), r->v[1]);
    s->agency_id = col_ll(r->v[2]);
    cpy(s->agency, sizeof(s->agency), r->v[3]);
    s->dept_id = col_ll(r->v[4]);
    cpy(s->role, sizeof(s->role), r->v[5]);
    s->budget = (long)col_ll(r->v[6]);
    s->actions = (unsigned)col_ll(r->v[7]);
    p->version = atoi(r->v[8]);
    return 0;
}

int wf_process_load(wk_db *db, const wf_dossier *d, wf_process *p)
{
    memset(p, 0, sizeof(*p));
    long long pid = d->process_id;
    if (pid == 0) {
        wk_param q[] = { WK_INT(d->procedure_id) };
        int f = wk_db_get_ll(db, "SELECT id FROM processes WHERE procedure_id = ? AND status = 'active'"
                                 " ORDER BY version DESC LIMIT 1", q, 1, &pid);
        if (f <= 0)
            return f;
    }
    p->id = pid;
    wk_param q[] = { WK_INT(pid) };
    if (wk_db_exec(db,
                   "SELECT s.position, s.name, ag.id, ag.code, s.department_id, s.role,"
                   " s.budget_minutes, s.actions + 0, pr.version"
                   " FROM process_steps s JOIN processes pr ON pr.id = s.process_id"
                   " JOIN procedures p ON p.id = pr.procedure_id"
                   " JOIN agencies ag ON ag.id = COALESCE(s.agency_id, p.agency_id)"
                   " WHERE s.process_id = ? ORDER BY s.position",
                   q, 1, step_cb, p, NULL, NULL) != 0)
        return -1;
    if (p->n == 0)
        return 0;
    for (int i = 1; i < p->n; i++)
        if (p->s[i].agency_id != p->s[0].agency_id)
            p->joint = 1;
    return 1;
}

const wf_step *wf_step_at(const wf_process *p, int pos)
{
    for (int i = 0; i < p->n; i++)
        if (p->s[i].pos == pos)
            return &p->s[i];
    return NULL;
}

long wf_agency_budget(const wf_process *p, long long agency_id)
{
    long b = 0;
    for (int i = 0; i < p->n; i++)
        if (p->s[i].agency_id == agency_id)
            b += p->s[i].budget;
    return b;
}


int wf_str_cb(const wk_row *r, void *ud)
{
    str_ud *u = ud;
    cpy(u->out, u->n, r->v[0]);
    u->found = 1;
    return 1;
}

int wf_setting(wk_db *db, const char *name, char *out, size_t outsz)
{
    str_ud u = { out, outsz, 0 };
    out[0] = '\0';
    wk_param p[] = { WK_STR(name) };
    if (wk_db_exec(db, "SELECT value FROM settings WHERE name = ?", p, 1, wf_str_cb, &u, NULL, NULL) != 0)
        return -1;
    return u.found;
}

/* ------------------------------------------------------------ records */

long wf_minutes_between(const wf_req *q, time_t a, time_t b)
{
    if (b <= a)
        return 0;
    long m = tthc_working_minutes_between(q->cal, a, b);
    return m < 0 ? 0 : m;
}

void wf_dbt(time_t t, char out[32])
{
    if (t == 0)
        out[0] = '\0';
    else
        wk_dbtime_fmt(t, out);
}


/* ---- step visits (T7) and agency time (T8) ---- */

typedef struct { time_t started; long long agency; int pos; int found; } visit_ud;
static int visit_cb(const wk_row *r, void *ud)
{
    visit_ud *v = ud;
    v->started = wf_col_time(r->v[0]);
    v->agency = col_ll(r->v[1]);
    v->pos = atoi(r->v[2]);
    v->found = 1;
    return 1;
}

/* close the open visit; returns 0 / -1 */
int wf_close_visit(wk_db *db, const wf_req *q, wf_dossier *d, const char *end_action)
{
    if (d->step_visit == 0)
        return 0;
    visit_ud v = { 0, 0, 0, 0 };
    wk_param p[] = { WK_INT(d->id), WK_INT(d->step_visit) };
    if (wk_db_exec(db, "SELECT started_at, agency_id, position FROM dossier_steps"
                       " WHERE dossier_id = ? AND visit = ? AND ended_at IS NULL",
                   p, 2, visit_cb, &v, NULL, NULL) != 0)
        return -1;
    if (v.found) {
        long used = wf_minutes_between(q, v.started, q->now);
        char now[32];
        wf_dbt(q->now, now);
        wk_param u[] = { WK_STR(now), WK_INT(used), q->a.applicant ? WK_NULLP : WK_INT(q->a.id),
                         WK_STR(end_action), WK_INT(d->id), WK_INT(d->step_visit) };
        if (wk_db_exec(db, "UPDATE dossier_steps SET ended_at = ?, used_minutes = ?, official_id = ?,"
                           " end_action = ? WHERE dossier_id = ? AND visit = ?",
                       u, 6, NULL, NULL, NULL, NULL) != 0)
            return -1;
        wk_param w[] = { WK_INT(used), WK_INT(d->id), WK_INT(v.agency) };
        if (wk_db_exec(db, "UPDATE dossier_agency_time SET used_minutes = used_minutes + ?"
                           " WHERE dossier_id = ? AND agency_id = ?", w, 3, NULL, NULL, NULL, NULL) != 0)
            return -1;
    }
    d->step_visit = 0;
    return 0;
}

typedef struct { long budget, ext, used; int found; } agt_ud;
static int agt_cb(const wk_row *r, void *ud)
{
    agt_ud *a = ud;
    a->budget = (long)col_ll(r->v[0]);
    a->ext = (long)col_ll(r->v[1]);
    a->used = (long)col_ll(r->v[2]);
    a->found = 1;
    return 1;
}

/* the agency receives the dossier at `at`: its transfer deadline is what is
 * left of its budget (+ extensions) from now on (T8) */
int wf_agency_receive(wk_db *db, const wf_req *q, const wf_dossier *d, long long agency_id, time_t at)
{
    agt_ud a = { 0, 0, 0, 0 };
    wk_param p[] = { WK_INT(d->id), WK_INT(agency_id) };
    if (wk_db_exec(db, "SELECT budget_minutes, extension_minutes, used_minutes FROM dossier_agency_time"
                       " WHERE dossier_id = ? AND agency_id = ?", p, 2, agt_cb, &a, NULL, NULL) != 0)
        return -1;
    if (!a.found)
        return 0;
    long left = a.budget + a.ext - a.used;
    if (left < 0)
        left = 0;
    char rec[32], due[32];
    wf_dbt(at, rec);
    wf_dbt(tthc_add_working_minutes(q->cal, at, left), due);
    wk_param u[] = { WK_STR(rec), WK_STR(due), WK_INT(d->id), WK_INT(agency_id) };
    return wk_db_exec(db, "UPDATE dossier_agency_time SET received_at = ?, transfer_due_at = ?"
                          " WHERE dossier_id = ? AND agency_id = ?", u, 4, NULL, NULL, NULL, NULL);
}

/* open a visit of step pos at `at` (the dossier enters the step) */
int wf_open_visit(wk_db *db, const wf_req *q, wf_dossier *d, const wf_process *p, int pos, time_t at,
                      int receive)
{
    const wf_step *s = wf_step_at(p, pos);
    if (s == NULL)
        return -1;
    long long visit = 0;
    wk_param c[] = { WK_INT(d->id) };
    if (wk_db_get_ll(db, "SELECT COALESCE(MAX(visit), 0) FROM dossier_steps WHERE dossier_id = ?",
                     c, 1, &visit) < 0)
        return -1;
    visit++;
    char st[32], due[32];
    wf_dbt(at, st);
    wf_dbt(tthc_add_working_minutes(q->cal, at, s->budget), due);
    wk_param v[] = { WK_INT(d->id), WK_INT(visit), WK_INT(pos), WK_INT(s->agency_id),
                     s->dept_id ? WK_INT(s->dept_id) : WK_NULLP, WK_STR(s->role), WK_STR(st), WK_STR(due) };
    if (wk_db_exec(db, "INSERT INTO dossier_steps (dossier_id, visit, position, agency_id, department_id,"
                       " role, started_at, budget_due_at) VALUES (?,?,?,?,?,?,?,?)",
                   v, 8, NULL, NULL, NULL, NULL) != 0)
        return -1;
    if (receive || s->agency_id != d->cur_agency_id)
        if (wf_agency_receive(db, q, d, s->agency_id, at) != 0)
            return -1;
    d->step_visit = (int)visit;
    d->step_pos = pos;
    d->cur_agency_id = s->agency_id;
    d->assignee_id = 0;
    snprintf(d->stage, sizeof(d->stage), "step");
    return 0;
}

/* ---- files ---- */

json_t *wf_check_files(wf_req *q, json_t *jf)
{
    q->nfiles = 0;
    if (jf == NULL || json_is_null(jf))
        return NULL;
    if (!json_is_array(jf) || json_array_size(jf) > WF_FILES_MAX)
        return wk_rpc_error("INVALID_REQUEST", "files");
    size_t i;
    json_t *f;
    json_array_foreach(jf, i, f) {
        const char *sha = wk_json_str(f, "sha256");
        const char *kind = wk_json_str(f, "kind");
        const char *comp = wk_json_str(f, "component");
        if (sha == NULL || !wk_is_hex64(sha))
            return wk_rpc_error("INVALID_REQUEST", "files");
        wf_file *x = &q->files[q->nfiles++];
        memset(x, 0, sizeof(*x));
        for (int k = 0; k < 64; k++)
            x->sha[k] = (char)((sha[k] >= 'A' && sha[k] <= 'F') ? sha[k] + 32 : sha[k]);
        static const char *kinds[] = { "output", "result", "refusal", "supplement_request", "extension",
                                       "apology", "receipt", "digitised", "supplement" };
        if (kind == NULL)
            kind = q->a.applicant ? "supplement" : "output";
        int ok = 0;
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
            if (!strcmp(kinds[k], kind))
                ok = 1;
        if (!ok || (q->a.applicant && strcmp(kind, "supplement")))
            return wk_rpc_error("INVALID_REQUEST", "files");
        cpy(x->kind, sizeof(x->kind), kind);
        if (comp && (strlen(comp) == 0 || strlen(comp) > 32))
            return wk_rpc_error("INVALID_REQUEST", "files");
        cpy(x->component, sizeof(x->component), comp);
        /* uploaded by this actor (the edge records each upload for a day) */
        char key[160];
        snprintf(key, sizeof(key), "tthc:up:{%s:%lld}:%s", q->a.applicant ? "app" : "staff", q->a.id, x->sha);
        redisReply *rep = wk_rds_cmdf(q->c->r, "GET %s", key);
        if (rep == NULL)
            return wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
        json_t *meta = NULL;
        if (rep->type == REDIS_REPLY_STRING) {
            json_error_t je;
            meta = json_loadb(rep->str, rep->len, 0, &je);
        }
        freeReplyObject(rep);
        if (!json_is_object(meta)) {
            json_decref(meta);
            return wk_rpc_error("FILE_NOT_UPLOADED", "files");
        }
        const char *name = wk_json_str(meta, "name");
        const char *mt = wk_json_str(meta, "media_type");
        json_t *sz = json_object_get(meta, "size");
        cpy(x->name, sizeof(x->name), name ? name : "tep");
        cpy(x->media, sizeof(x->media), mt ? mt : "application/octet-stream");
        x->size = json_is_integer(sz) ? json_integer_value(sz) : 0;
        json_decref(meta);
        char path[800];
        snprintf(path, sizeof(path), "%s/files/%.2s/%.2s/%s", q->c->conf->store, x->sha, x->sha + 2, x->sha);
        struct stat stt;
        if (stat(path, &stt) != 0 || !S_ISREG(stt.st_mode))
            return wk_rpc_error("FILE_NOT_UPLOADED", "files");
        x->size = (long long)stt.st_size;
    }
    return NULL;
}

int wf_has_kind(const wf_req *q, const char *kind)
{
    for (int i = 0; i < q->nfiles; i++)
        if (!strcmp(q->files[i].kind, kind))
            return 1;
    return 0;
}

/* ---- history, outputs, outbox ---- */

static json_t *files_json(const wf_req *q)
{
    json_t *a = json_array();
    for (int i = 0; i < q->nfiles; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I, s:s}", "sha256", q->files[i].sha,
                                           "kind", q->files[i].kind, "name", q->files[i].name,
                                           "size", (json_int_t)q->files[i].size,
                                           "media_type", q->files[i].media));
    return a;
}

/* X1: every history entry makes two messages to the national portal, in this
 * order: the dossier's create-or-update (HoSo, a snapshot taken now, in the
 * transaction that changed it) and the history entry (TienTrinhXuLy).
 * outbox.c delivers them (docs/exchange.md). */
#define OB_DT(col) "DATE_FORMAT(CONVERT_TZ(" col ", '+00:00', '+07:00'), '%Y%m%d%H%i%s')"
int wk_outbox_add(wk_db *db, long long history_id)
{
    wk_param p[] = { WK_INT(history_id) };
    if (wk_db_exec(db,
        "INSERT INTO outbox (dossier_id, history_id, kind, target, payload)"
        " SELECT h.dossier_id, h.id, 'dossier', 'portal', JSON_OBJECT("
        "  'MaHoSo', d.code, 'MaTTHC', pr.code, 'TenTTHC', pr.name, 'MaLinhVuc', f.code,"
        "  'KenhThucHien', CASE d.channel WHEN 'counter' THEN 1 WHEN 'online' THEN 2 ELSE 3 END,"
        "  'ChuHoSo', d.applicant_name, 'SoGiayToChuHoSo', d.applicant_identity,"
        "  'LoaiDoiTuong', CASE d.applicant_type WHEN 'citizen' THEN 1 WHEN 'enterprise' THEN 2 ELSE 3 END,"
        "  'Email', d.applicant_email, 'SoDienThoai', d.applicant_phone,"
        "  'TrichYeuHoSo', pr.name,"
        "  'NgayNopHoSo', " OB_DT("d.received_at") ","
        "  'NgayTiepNhan', " OB_DT("d.receipt_at") ","
        "  'NgayHenTra', " OB_DT("d.due_at") ","
        "  'TrangThaiHoSo', h.status,"
        "  'NgayTra', " OB_DT("d.returned_at") ","
        "  'NgayKetThucXuLy', " OB_DT("d.result_at") ","
        "  'DonViXuLy', ag.code)"
        " FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id"
        " JOIN procedures pr ON pr.id = d.procedure_id JOIN fields f ON f.id = pr.field_id"
        " JOIN agencies ag ON ag.id = d.agency_id"
        " WHERE h.id = ? ON DUPLICATE KEY UPDATE outbox.id = outbox.id", p, 1, NULL, NULL, NULL, NULL) != 0)
        return -1;
    return wk_db_exec(db,
        "INSERT INTO outbox (dossier_id, history_id, kind, target, payload)"
        " SELECT h.dossier_id, h.id, 'history', 'portal', JSON_OBJECT("
        "  'MaHoSo', d.code, 'TrangThai', h.status, 'HanhDong', h.action,"
        "  'BuocXuLy', h.step_position, 'TenBuocXuLy', ps.name,"
        "  'NguoiXuLy', h.actor, 'ChucDanh', ps.role, 'PhongBanXuLy', dp.name, 'DonViXuLy', ag.name,"
        "  'ThoiDiemXuLy', DATE_FORMAT(CONVERT_TZ(h.at, '+00:00', '+07:00'), '%Y%m%d%H%i%s'),"
        "  'NoiDungXuLy', CONCAT(h.label, IFNULL(CONCAT(': ', h.note), '')),"
        "  'NgayBatDau', DATE_FORMAT(CONVERT_TZ(COALESCE(h.step_start_at, h.at), '+00:00', '+07:00'),"
        "                            '%Y%m%d%H%i%s'),"
        "  'NgayKetThucTheoQuyDinh', DATE_FORMAT(CONVERT_TZ(COALESCE(h.step_due_at, d.due_at),"
        "                            '+00:00', '+07:00'), '%Y%m%d%H%i%s'),"
        "  'NgayHenTra', DATE_FORMAT(CONVERT_TZ(d.due_at, '+00:00', '+07:00'), '%Y%m%d%H%i%s'))"
        " FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id"
        " LEFT JOIN agencies ag ON ag.id = COALESCE(h.agency_id, d.agency_id)"
        " LEFT JOIN departments dp ON dp.id = h.department_id"
        " LEFT JOIN process_steps ps ON ps.process_id = d.process_id AND ps.position = h.step_position"
        " WHERE h.id = ? ON DUPLICATE KEY UPDATE outbox.id = outbox.id", p, 1, NULL, NULL, NULL, NULL);
}

typedef struct { time_t start, due; int found; } vd_ud;
static int vd_cb(const wk_row *r, void *ud)
{
    vd_ud *v = ud;
    v->start = wf_col_time(r->v[0]);
    v->due = wf_col_time(r->v[1]);
    v->found = 1;
    return 1;
}

int wf_write_history(wk_db *db, const wf_req *q, const wf_dossier *d, const wf_process *p,
                         const char *label, long long *hid)
{
    char at[32], st[32] = "", sd[32] = "";
    wf_dbt(q->now, at);
    const wf_step *s = d->step_pos ? wf_step_at(p, d->step_pos) : NULL;
    if (d->step_visit) {
        vd_ud v = { 0, 0, 0 };
        wk_param vp[] = { WK_INT(d->id), WK_INT(d->step_visit) };
        if (wk_db_exec(db, "SELECT started_at, budget_due_at FROM dossier_steps WHERE dossier_id = ?"
                           " AND visit = ?", vp, 2, vd_cb, &v, NULL, NULL) != 0)
            return -1;
        wf_dbt(v.start, st);
        wf_dbt(v.due, sd);
    }
    json_t *fj = files_json(q);
    char *files = json_dumps(fj, JSON_COMPACT);
    json_decref(fj);
    char actor[300];
    snprintf(actor, sizeof(actor), "%s", q->a.name[0] ? q->a.name : (q->a.applicant ? "Công dân" : "Cán bộ"));
    wk_param h[] = {
        WK_INT(d->id), WK_INT(d->status), WK_STR(label), WK_STR(q->note), WK_STR(actor), WK_STR(at),
        WK_STR(q->action), WK_STR(q->a.applicant ? "applicant" : "staff"), WK_INT(q->a.id),
        s ? WK_INT(s->pos) : WK_NULLP, WK_INT(s ? s->agency_id : (d->cur_agency_id ? d->cur_agency_id : d->agency_id)),
        s && s->dept_id ? WK_INT(s->dept_id) : WK_NULLP, WK_TIME(st), WK_TIME(sd),
        q->nfiles ? WK_STR(files) : WK_NULLP, WK_STR(q->idem),
    };
    unsigned long long id = 0;
    int rc = wk_db_exec(db,
                        "INSERT INTO dossier_history (dossier_id, status, label, note, actor, at, action,"
                        " actor_kind, actor_id, step_position, agency_id, department_id, step_start_at,"
                        " step_due_at, files, idem_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        h, 16, NULL, NULL, NULL, &id);
    free(files);
    if (rc != 0)
        return -1;
    *hid = (long long)id;
    for (int i = 0; i < q->nfiles; i++) {
        const wf_file *f = &q->files[i];
        wk_param o[] = { WK_INT(d->id), WK_INT(id), WK_STR(f->kind), f->component[0] ? WK_STR(f->component) : WK_NULLP,
                         WK_STR(f->sha), WK_STR(f->name), WK_INT(f->size), WK_STR(f->media) };
        if (wk_db_exec(db, "INSERT INTO dossier_outputs (dossier_id, history_id, kind, component, sha256,"
                           " name, size, media_type) VALUES (?,?,?,?,?,?,?,?)", o, 8, NULL, NULL, NULL, NULL) != 0)
            return -1;
    }
    return wk_outbox_add(db, (long long)id);
}

int wf_save_dossier(wk_db *db, const wf_dossier *d)
{
    char rc[32], du[32], fd[32], ra[32], rt[32], pa[32];
    wf_dbt(d->receipt_at, rc);
    wf_dbt(d->due_at, du);
    wf_dbt(d->first_due_at, fd);
    wf_dbt(d->result_at, ra);
    wf_dbt(d->returned_at, rt);
    wf_dbt(d->paused_at, pa);
    wk_param p[] = {
        WK_INT(d->status), WK_STR(d->stage), d->process_id ? WK_INT(d->process_id) : WK_NULLP,
        d->step_pos ? WK_INT(d->step_pos) : WK_NULLP, d->step_visit ? WK_INT(d->step_visit) : WK_NULLP,
        d->cur_agency_id ? WK_INT(d->cur_agency_id) : WK_NULLP, d->assignee_id ? WK_INT(d->assignee_id) : WK_NULLP,
        WK_TIME(rc), WK_TIME(du), WK_TIME(fd), WK_TIME(ra), WK_TIME(rt),
        d->outcome[0] ? WK_STR(d->outcome) : WK_NULLP, d->result_kind[0] ? WK_STR(d->result_kind) : WK_NULLP,
        WK_INT(d->apologised), WK_INT(d->supplement_count), WK_TIME(pa),
        d->supplement_step ? WK_INT(d->supplement_step) : WK_NULLP, WK_INT(d->id),
    };
    return wk_db_exec(db,
                      "UPDATE dossiers SET status = ?, stage = ?, process_id = ?, step_position = ?, step_visit = ?,"
                      " current_agency_id = ?, assignee_id = ?, receipt_at = ?, due_at = ?, first_due_at = ?,"
                      " result_at = ?, returned_at = ?, outcome = ?, result_kind = ?, apologised = ?,"
                      " supplement_count = ?, paused_at = ?, supplement_step = ?, row_version = row_version + 1"
                      " WHERE id = ?", p, 19, NULL, NULL, NULL, NULL);
}


int wf_agency_time(wk_db *db, long long dossier_id, long long agency_id, long *budget, long *ext, long *used,
                   time_t *transfer_due)
{
    agt_ud a = { 0, 0, 0, 0 };
    wk_param p[] = { WK_INT(dossier_id), WK_INT(agency_id) };
    if (wk_db_exec(db, "SELECT budget_minutes, extension_minutes, used_minutes FROM dossier_agency_time"
                       " WHERE dossier_id = ? AND agency_id = ?", p, 2, agt_cb, &a, NULL, NULL) != 0)
        return -1;
    *budget = a.budget;
    *ext = a.ext;
    *used = a.used;
    char cur[40] = "";
    str_ud u = { cur, sizeof(cur), 0 };
    if (wk_db_exec(db, "SELECT transfer_due_at FROM dossier_agency_time WHERE dossier_id = ? AND agency_id = ?",
                   p, 2, wf_str_cb, &u, NULL, NULL) != 0)
        return -1;
    *transfer_due = wf_col_time(cur[0] ? cur : NULL);
    return a.found;
}

