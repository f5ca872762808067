/* workflow_act.c - the rules of the handling workflow (issue 4;
 * docs/contracts-workflow.md "Stages, statuses and actions"; DOMAIN H1, T1-T8):
 * which action is allowed in which stage, at which step, by whom, and what it
 * does to the clock; one action = one transaction (act_one); the RPC entry
 * points staff.action, staff.actions.batch and me.action.  The records it
 * writes (visits, agency time, history, outbox) are in workflow.c. */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>

#define NOTE_MAX      4000
#define BATCH_MAX     100
#define DAY_MIN       480

static void cpy(char *dst, size_t n, const char *s)
{
    snprintf(dst, n, "%s", s ? s : "");
}

/* ------------------------------------------------------------ actions */



static const struct {
    const char *name;
    act_t act;
    const char *label;
    int note;           /* note required */
} acts[] = {
    { "accept", ACT_ACCEPT, "Tiếp nhận hồ sơ", 0 },
    { "refuse_reception", ACT_REFUSE_RECEPTION, "Từ chối tiếp nhận hồ sơ", 1 },
    { "forward", ACT_FORWARD, "Chuyển xử lý", 1 },
    { "return", ACT_RETURN, "Trả lại bước trước", 1 },
    { "supplement", ACT_SUPPLEMENT, "Yêu cầu bổ sung, hoàn thiện hồ sơ", 1 },
    { "resubmit", ACT_RESUBMIT, "Công dân bổ sung hồ sơ", 0 },
    { "extend", ACT_EXTEND, "Gia hạn xử lý (liên thông)", 1 },
    { "handover", ACT_HANDOVER, "Chuyển cán bộ xử lý", 1 },
    { "refuse", ACT_REFUSE, "Trả hồ sơ không giải quyết", 1 },
    { "apologise", ACT_APOLOGISE, "Xin lỗi và hẹn lại ngày trả kết quả", 1 },
    { "confirm_result", ACT_CONFIRM_RESULT, "Đã có kết quả giải quyết", 0 },
    { "return_result", ACT_RETURN_RESULT, "Đã trả kết quả", 0 },
    { "stop", ACT_STOP, "Dừng xử lý", 1 },
    { "withdraw", ACT_WITHDRAW, "Rút hồ sơ theo yêu cầu của công dân", 1 },
};

static int act_index(const char *name)
{
    for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++)
        if (name && !strcmp(acts[i].name, name))
            return (int)i;
    return -1;
}



static unsigned role_bit_of(const char *role)
{
    return wk_role_bit(role);
}

static int is_desk_of(const wf_actor *a, long long agency_id)
{
    return !a->applicant && (a->roles & 0x01u) && a->agency_id == agency_id;
}

static int is_leader_of(const wf_actor *a, long long agency_id)
{
    return !a->applicant && (a->roles & 0x08u) && a->agency_id == agency_id;
}

static int is_holder(const wf_actor *a, const wf_step *s, const wf_dossier *d)
{
    if (a->applicant || s == NULL)
        return 0;
    if (a->agency_id != s->agency_id || !(a->roles & role_bit_of(s->role)))
        return 0;
    if (s->dept_id && a->dept != s->dept_id)
        return 0;
    if (d->assignee_id && d->assignee_id != a->id)
        return 0;
    return 1;
}

static json_t *err_field(const char *code, const char *field)
{
    return wk_rpc_error(code, field);
}

/* legal appointment from a receipt (T2) */
static time_t legal_due(const wf_req *q, const wf_dossier *d, time_t from)
{
    if (d->unit_hours)
        return tthc_add_working_minutes(q->cal, from, (long long)d->amount * 60);
    return tthc_add_working_days(q->cal, from, d->amount);
}

/* ------------------------------------------------------------ the rules */

static int is_open(const wf_dossier *d)
{
    return strcmp(d->stage, "closed") != 0 && strcmp(d->stage, "done") != 0;
}

/* "2026-12-01T09:00:00Z" or "2026-12-01T16:00:00+07:00": 0 / -1 */
static int parse_instant(const char *s, time_t *t)
{
    size_t n = strlen(s);
    if (n == 20)
        return wk_parse_utc(s, n, t);
    if (n == 25 && !strcmp(s + 19, "+07:00")) {
        char b[21];
        memcpy(b, s, 19);
        b[19] = 'Z';
        b[20] = '\0';
        if (wk_parse_utc(b, 20, t) != 0)
            return -1;
        *t -= 7 * 3600;
        return 0;
    }
    return -1;
}

/* Checks and applies q->act to d (locked).  Returns NULL and fills *label,
 * or an error reply. */
static json_t *apply(wk_db *db, wf_req *q, wf_dossier *d, wf_process *p, char *label, size_t lsz,
                     json_t **extra)
{
    const wf_actor *a = &q->a;
    const wf_step *s = d->step_pos ? wf_step_at(p, d->step_pos) : NULL;
    int at_step = !strcmp(d->stage, "step");
    snprintf(label, lsz, "%s", acts[q->ai].label);

    /* A8: status 6 waits for the payment voucher (payment.c); only the refusals,
     * stop and withdraw may end it first */
    if (d->status == 6 && q->act != ACT_REFUSE_RECEPTION && q->act != ACT_REFUSE && q->act != ACT_STOP
        && q->act != ACT_WITHDRAW)
        return err_field("PAYMENT_REQUIRED", NULL);
    if (acts[q->ai].note && !(a->applicant && q->act == ACT_WITHDRAW) && (q->note == NULL || q->note[0] == '\0'))
        return err_field("NOTE_REQUIRED", "note");

    switch (q->act) {
    case ACT_ACCEPT:
    case ACT_REFUSE_RECEPTION: {
        if (strcmp(d->stage, "reception") && d->status != 6)   /* A8: refusable while unpaid */
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!is_desk_of(a, d->agency_id))
            return err_field("NOT_STEP_HOLDER", NULL);
        if (q->act == ACT_REFUSE_RECEPTION) {
            if (wf_close_visit(db, q, d, "refuse_reception") != 0)   /* A8: status 6 is at step 1 */
                return wk_rpc_db_error(q->c, "close visit");
            d->assignee_id = 0;
            d->status = 3;
            snprintf(d->stage, sizeof(d->stage), "closed");
            d->step_pos = 0;
            return NULL;
        }
        if (p->n == 0)
            return err_field("NO_PROCESS", NULL);
        d->process_id = p->id;
        d->receipt_at = tthc_receipt_time(q->cal, q->now);
        d->due_at = legal_due(q, d, d->receipt_at);
        d->first_due_at = d->due_at;
        d->status = 2;
        /* per-agency budgets (T8) */
        for (int i = 0; i < p->n; i++) {
            long long ag = p->s[i].agency_id;
            wk_param v[] = { WK_INT(d->id), WK_INT(ag), WK_INT(wf_agency_budget(p, ag)) };
            if (wk_db_exec(db, "INSERT IGNORE INTO dossier_agency_time (dossier_id, agency_id, budget_minutes)"
                               " VALUES (?,?,?)", v, 3, NULL, NULL, NULL, NULL) != 0)
                return wk_rpc_db_error(q->c, "agency time");
        }
        if (wf_open_visit(db, q, d, p, p->s[0].pos, d->receipt_at, 1) != 0)
            return wk_rpc_db_error(q->c, "open visit");
        /* A8: fees owed online -> status 6 until the platform's voucher (payment.c) */
        long long fee = 0;
        int owe = wk_payment_require(db, d->id, &fee);
        if (owe < 0)
            return wk_rpc_db_error(q->c, "fees");
        if (owe) {
            char amt[48];
            wk_payment_amount_text(fee, amt, sizeof(amt));
            d->status = 6;
            snprintf(label, lsz, "%s. Yêu cầu thực hiện nghĩa vụ tài chính: %s", acts[q->ai].label, amt);
        }
        json_t *files = json_array();
        for (int i = 0; i < q->nfiles; i++)
            json_array_append_new(files, json_string(q->files[i].name));
        *extra = json_pack("{s:s, s:s, s:o, s:o, s:i, s:o, s:o, s:o}", "code", d->code, "procedure", d->pcode,
                           "receipt_at", wf_time(d->receipt_at), "due_at", wf_time(d->due_at),
                           "supplement_count", d->supplement_count, "files", files,
                           "applicant", wf_applicant_name(db, d->id), "components", wf_components(db, d->id));
        return NULL;
    }
    case ACT_FORWARD:
    case ACT_RETURN:
    case ACT_SUPPLEMENT:
    case ACT_EXTEND:
    case ACT_HANDOVER:
    case ACT_REFUSE: {
        static const unsigned need[] = {
            [ACT_FORWARD] = WF_A_FORWARD, [ACT_RETURN] = WF_A_RETURN, [ACT_SUPPLEMENT] = WF_A_SUPPLEMENT,
            [ACT_EXTEND] = WF_A_EXTEND, [ACT_HANDOVER] = WF_A_HANDOVER, [ACT_REFUSE] = WF_A_REFUSE,
        };
        if (q->act == ACT_RETURN && !strcmp(d->stage, "result")) {
            /* the desk sends the result back to the last step (T7) */
            if (!is_desk_of(a, d->agency_id))
                return err_field("NOT_STEP_HOLDER", NULL);
            int to = q->to_step ? q->to_step : p->s[p->n - 1].pos;
            if (wf_step_at(p, to) == NULL)
                return err_field("INVALID_REQUEST", "to_step");
            d->result_kind[0] = '\0';
            d->status = 4;
            if (wf_open_visit(db, q, d, p, to, q->now, 1) != 0)
                return wk_rpc_db_error(q->c, "open visit");
            return NULL;
        }
        if (!at_step || s == NULL)
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!(s->actions & need[q->act]) || (q->act == ACT_EXTEND && !p->joint))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!is_holder(a, s, d))
            return err_field("NOT_STEP_HOLDER", NULL);
        if (q->act == ACT_FORWARD) {
            int idx = (int)(s - p->s);
            if (wf_close_visit(db, q, d, "forward") != 0)
                return wk_rpc_db_error(q->c, "close visit");
            d->status = 4;
            if (idx + 1 < p->n) {
                if (wf_open_visit(db, q, d, p, p->s[idx + 1].pos, q->now, 0) != 0)
                    return wk_rpc_db_error(q->c, "open visit");
            } else {
                snprintf(d->stage, sizeof(d->stage), "result");
                d->step_pos = 0;
                d->assignee_id = 0;
                d->cur_agency_id = d->agency_id;
                if (!d->result_kind[0])
                    snprintf(d->result_kind, sizeof(d->result_kind), "result");
            }
            return NULL;
        }
        if (q->act == ACT_RETURN) {
            int to = q->to_step ? q->to_step : s->pos - 1;
            if (to < 1 || to >= s->pos || wf_step_at(p, to) == NULL)
                return err_field(s->pos == p->s[0].pos ? "ILLEGAL_TRANSITION" : "INVALID_REQUEST",
                                 s->pos == p->s[0].pos ? "action" : "to_step");
            if (wf_close_visit(db, q, d, "return") != 0 || wf_open_visit(db, q, d, p, to, q->now, 0) != 0)
                return wk_rpc_db_error(q->c, "return");
            d->status = 4;
            return NULL;
        }
        if (q->act == ACT_SUPPLEMENT) {
            if (d->due_at && q->now >= d->due_at)
                return err_field("SUPPLEMENT_AFTER_DEADLINE", NULL);
            int pos = s->pos;
            if (wf_close_visit(db, q, d, "supplement") != 0)
                return wk_rpc_db_error(q->c, "close visit");
            char at[32];
            wf_dbt(q->now, at);
            wk_param v[] = { WK_INT(d->id), WK_STR(at) };
            if (wk_db_exec(db, "INSERT INTO dossier_pauses (dossier_id, started_at, reason) VALUES (?,?,'supplement')",
                           v, 2, NULL, NULL, NULL, NULL) != 0)
                return wk_rpc_db_error(q->c, "pause");
            d->status = 5;
            snprintf(d->stage, sizeof(d->stage), "supplement");
            d->paused_at = q->now;
            d->supplement_step = pos;
            d->step_pos = pos;
            return NULL;
        }
        if (q->act == ACT_EXTEND) {
            if (q->days < 1 || q->days > 60)
                return err_field("INVALID_REQUEST", "days");
            if (!wf_has_kind(q, "extension"))
                return err_field("FILE_REQUIRED", "files");
            /* counts against the asking agency (T8) */
            long b_ = 0, e_ = 0, u_ = 0;
            time_t due = 0;
            if (wf_agency_time(db, d->id, s->agency_id, &b_, &e_, &u_, &due) < 0)
                return wk_rpc_db_error(q->c, "agency time");
            char nd[32];
            wf_dbt(tthc_add_working_minutes(q->cal, due ? due : q->now, (long long)q->days * DAY_MIN), nd);
            wk_param x[] = { WK_INT((long long)q->days * DAY_MIN), WK_STR(nd), WK_INT(d->id), WK_INT(s->agency_id) };
            if (wk_db_exec(db, "UPDATE dossier_agency_time SET extension_minutes = extension_minutes + ?,"
                               " transfer_due_at = ? WHERE dossier_id = ? AND agency_id = ?",
                           x, 4, NULL, NULL, NULL, NULL) != 0)
                return wk_rpc_db_error(q->c, "extend");
            snprintf(label, lsz, "%s: %d ngày làm việc", acts[q->ai].label, q->days);
            return NULL;
        }
        if (q->act == ACT_HANDOVER) {
            wk_official o;
            int f = q->to_official > 0 ? wk_official_load(db, NULL, q->to_official, &o) : 0;
            if (f < 0)
                return wk_rpc_db_error(q->c, "official");
            if (f == 0 || o.locked || o.id == a->id || o.agency_id != a->agency_id || o.dept != a->dept
                || !(o.roles & role_bit_of(s->role)))
                return err_field("INVALID_REQUEST", "to_official");
            d->assignee_id = o.id;
            snprintf(label, lsz, "%s: %s", acts[q->ai].label, o.name);
            return NULL;
        }
        /* ACT_REFUSE: "trả không giải quyết" with the refusal slip */
        if (!wf_has_kind(q, "refusal"))
            return err_field("FILE_REQUIRED", "files");
        if (wf_close_visit(db, q, d, "refuse") != 0)
            return wk_rpc_db_error(q->c, "close visit");
        snprintf(d->stage, sizeof(d->stage), "result");
        snprintf(d->result_kind, sizeof(d->result_kind), "refusal");
        d->step_pos = 0;
        d->assignee_id = 0;
        d->cur_agency_id = d->agency_id;
        d->status = 4;
        return NULL;
    }
    case ACT_APOLOGISE: {
        if (!at_step && strcmp(d->stage, "result"))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!is_desk_of(a, d->agency_id) && !is_leader_of(a, d->agency_id))
            return err_field("NOT_STEP_HOLDER", NULL);
        if (!wf_has_kind(q, "apology"))
            return err_field("FILE_REQUIRED", "files");
        time_t nd = 0;
        if (q->new_due) {
            if (parse_instant(q->new_due, &nd) != 0 || nd <= d->due_at)
                return err_field("INVALID_REQUEST", "new_due");
        } else {
            if (q->days < 1 || q->days > 60)
                return err_field("INVALID_REQUEST", "days");
            nd = tthc_add_working_days(q->cal, d->due_at, q->days);
        }
        d->due_at = nd;
        d->apologised = 1;
        char iso[40];
        wf_iso(nd, iso);
        snprintf(label, lsz, "%s: %s", acts[q->ai].label, iso);
        return NULL;
    }
    case ACT_CONFIRM_RESULT: {
        if (strcmp(d->stage, "result"))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!is_desk_of(a, d->agency_id))
            return err_field("NOT_STEP_HOLDER", NULL);
        const char *kind = !strcmp(d->result_kind, "refusal") ? "refusal" : "result";
        if (!wf_has_kind(q, kind)) {
            long long n = 0;
            wk_param k[] = { WK_INT(d->id), WK_STR(kind) };
            if (wk_db_get_ll(db, "SELECT COUNT(*) FROM dossier_outputs WHERE dossier_id = ? AND kind = ?",
                             k, 2, &n) < 0)
                return wk_rpc_db_error(q->c, "outputs");
            if (n == 0)
                return err_field("FILE_REQUIRED", "files");
        }
        d->result_at = q->now;
        if (!d->result_kind[0])
            snprintf(d->result_kind, sizeof(d->result_kind), "result");
        /* T3: late if apologised or after the appointment; early if before its day */
        char dn[8], dd[8];
        wk_local_yymmdd(q->now, dn);
        wk_local_yymmdd(d->due_at, dd);
        if (d->apologised || q->now > d->due_at)
            snprintf(d->outcome, sizeof(d->outcome), "late");
        else if (strcmp(dn, dd) < 0)
            snprintf(d->outcome, sizeof(d->outcome), "early");
        else
            snprintf(d->outcome, sizeof(d->outcome), "on_time");
        d->status = 9;
        snprintf(d->stage, sizeof(d->stage), "done");
        if (wk_postal_result_ready(db, d->id, q->now) != 0)   /* X3: postal delivery order (A6) */
            return wk_rpc_db_error(q->c, "postal");
        return NULL;
    }
    case ACT_RETURN_RESULT:
        if (strcmp(d->stage, "done"))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (!is_desk_of(a, d->agency_id))
            return err_field("NOT_STEP_HOLDER", NULL);
        d->returned_at = q->now;
        d->status = 10;
        snprintf(d->stage, sizeof(d->stage), "closed");
        return NULL;
    case ACT_STOP:
    case ACT_WITHDRAW: {
        if (!is_open(d))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (a->applicant) {
            if (q->act != ACT_WITHDRAW)
                return err_field("ILLEGAL_TRANSITION", "action");
        } else if (!is_desk_of(a, d->agency_id)
                   && !(q->act == ACT_STOP && is_leader_of(a, d->cur_agency_id ? d->cur_agency_id : d->agency_id))) {
            /* the desk (for the applicant's paper request) or the leader of
             * the agency holding it; a step's own handler cannot */
            return err_field("NOT_STEP_HOLDER", NULL);
        }
        if (wf_close_visit(db, q, d, acts[q->ai].name) != 0)
            return wk_rpc_db_error(q->c, "close visit");
        if (d->paused_at) {
            char at[32];
            wf_dbt(q->now, at);
            wk_param v[] = { WK_STR(at), WK_INT(wf_minutes_between(q, d->paused_at, q->now)), WK_INT(d->id) };
            if (wk_db_exec(db, "UPDATE dossier_pauses SET ended_at = ?, minutes = ? WHERE dossier_id = ?"
                               " AND ended_at IS NULL", v, 3, NULL, NULL, NULL, NULL) != 0)
                return wk_rpc_db_error(q->c, "pause");
            d->paused_at = 0;
        }
        d->status = q->act == ACT_STOP ? 8 : 7;
        snprintf(d->stage, sizeof(d->stage), "closed");
        d->step_pos = 0;
        d->assignee_id = 0;
        return NULL;
    }
    case ACT_RESUBMIT: {
        if (!a->applicant || strcmp(d->stage, "supplement"))
            return err_field("ILLEGAL_TRANSITION", "action");
        if (q->nfiles == 0)
            return err_field("FILE_REQUIRED", "files");
        char mode[32];
        if (wf_setting(db, "supplement_mode", mode, sizeof(mode)) < 0)
            return wk_rpc_db_error(q->c, "setting");
        long paused = wf_minutes_between(q, d->paused_at, q->now);
        char at[32];
        wf_dbt(q->now, at);
        wk_param v[] = { WK_STR(at), WK_INT(paused), WK_INT(d->id) };
        if (wk_db_exec(db, "UPDATE dossier_pauses SET ended_at = ?, minutes = ? WHERE dossier_id = ?"
                           " AND ended_at IS NULL", v, 3, NULL, NULL, NULL, NULL) != 0)
            return wk_rpc_db_error(q->c, "pause");
        time_t start;
        if (!strcmp(mode, "resume")) {
            /* 002 Art.12.3: the paused clock resumes */
            long long left = d->due_at > d->paused_at
                             ? tthc_working_seconds_between(q->cal, d->paused_at, d->due_at) : 0;
            start = tthc_next_working_start(q->cal, q->now);
            d->due_at = tthc_add_working_seconds(q->cal, q->now, left < 0 ? 0 : left);
        } else {
            /* 000 Art.14.5.b, 004 Art.12.2.a: a new receipt, from zero */
            d->receipt_at = tthc_receipt_time(q->cal, q->now);
            d->due_at = legal_due(q, d, d->receipt_at);
            d->first_due_at = d->due_at;
            start = d->receipt_at;
            wk_param z[] = { WK_INT(d->id) };
            if (wk_db_exec(db, "UPDATE dossier_agency_time SET used_minutes = 0 WHERE dossier_id = ?",
                           z, 1, NULL, NULL, NULL, NULL) != 0)
                return wk_rpc_db_error(q->c, "agency time");
        }
        d->supplement_count++;
        d->paused_at = 0;
        d->status = 4;
        int pos = d->supplement_step ? d->supplement_step : p->s[0].pos;
        if (wf_open_visit(db, q, d, p, pos, start, 1) != 0)
            return wk_rpc_db_error(q->c, "open visit");
        snprintf(label, lsz, "%s (lần %d)", acts[q->ai].label, d->supplement_count);
        return NULL;
    }
    default:
        return err_field("INVALID_REQUEST", "action");
    }
}

/* ------------------------------------------------------------ one action */

typedef struct { char *reply; int found; } idem_ud;
static int idem_cb(const wk_row *r, void *ud)
{
    idem_ud *u = ud;
    u->found = 1;
    u->reply = r->v[0] ? strdup(r->v[0]) : NULL;
    return 1;
}

static int idem_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')
              || s[i] == '_' || s[i] == '-'))
            return 0;
    return 1;
}

/* scope of a staff actor for reading: receiving agency, current agency, or
 * an agency of the process */
static int in_scope(const wf_actor *a, const wf_dossier *d, const wf_process *p)
{
    if (a->applicant)
        return a->id == d->applicant_id;
    if (a->roles & (WK_ROLE_SYSADMIN | WK_ROLE_MONITOR))
        return 1;
    if (a->agency_id == d->agency_id || a->agency_id == d->cur_agency_id)
        return 1;
    for (int i = 0; i < p->n; i++)
        if (p->s[i].agency_id == a->agency_id)
            return 1;
    return 0;
}

static json_t *act_one(wf_req *q, const char *code)
{
    wk_db *db = q->c->db;
    char key[100] = "";
    if (q->idem)
        snprintf(key, sizeof(key), "%s:%s:%lld", q->idem, q->a.applicant ? "a" : "s", q->a.id);
    const char *save_idem = q->idem;
    q->idem = key[0] ? key : NULL;
    json_t *reply = NULL, *extra = NULL;
    for (int attempt = 0; attempt < 3 && reply == NULL; attempt++) {
        if (wk_db_simple(db, "BEGIN") != 0) {
            reply = wk_rpc_db_error(q->c, "begin");
            break;
        }
        wf_dossier d;
        int f = wf_dossier_load(db, code, 0, 1, &d);
        if (f < 0) {
            if (db->last_errno == ER_LOCK_DEADLOCK || db->last_errno == ER_LOCK_WAIT_TIMEOUT) {
                wk_db_simple(db, "ROLLBACK");
                continue;
            }
            reply = wk_rpc_db_error(q->c, "load dossier");
            break;
        }
        wf_process p;
        int pf = f ? wf_process_load(db, &d, &p) : 0;
        if (pf < 0) {
            reply = wk_rpc_db_error(q->c, "load process");
            break;
        }
        if (pf == 0)
            memset(&p, 0, sizeof(p));
        if (f == 0 || !in_scope(&q->a, &d, &p)) {
            wk_db_simple(db, "ROLLBACK");
            reply = err_field("DOSSIER_NOT_FOUND", NULL);
            break;
        }
        if (q->idem) {
            idem_ud u = { NULL, 0 };
            wk_param ip[] = { WK_INT(d.id), WK_STR(q->idem) };
            if (wk_db_exec(db, "SELECT reply FROM dossier_history WHERE dossier_id = ? AND idem_key = ?",
                           ip, 2, idem_cb, &u, NULL, NULL) != 0) {
                reply = wk_rpc_db_error(q->c, "idempotency");
                break;
            }
            if (u.found) {
                wk_db_simple(db, "ROLLBACK");
                json_error_t je;
                reply = u.reply ? json_loads(u.reply, 0, &je) : NULL;
                free(u.reply);
                if (reply == NULL)
                    reply = wf_object(db, &d, &p, 0, !q->a.applicant);
                json_object_set_new(reply, "replayed", json_true());
                break;
            }
        }
        char label[400];
        json_t *e = apply(db, q, &d, &p, label, sizeof(label), &extra);
        if (e) {
            wk_db_simple(db, "ROLLBACK");
            reply = e;
            break;
        }
        long long hid = 0;
        if (wf_save_dossier(db, &d) != 0 || wf_write_history(db, q, &d, &p, label, &hid) != 0) {
            if (db->last_errno == ER_DUP_ENTRY) {      /* a concurrent replay: retry reads it */
                wk_db_simple(db, "ROLLBACK");
                continue;
            }
            reply = wk_rpc_db_error(q->c, "write");
            break;
        }
        json_t *obj = wf_object(db, &d, &p, 0, !q->a.applicant);
        json_object_set_new(obj, "history_id", json_integer(hid));
        if (extra)
            json_object_set_new(obj, "receipt", extra);
        extra = NULL;
        char *js = json_dumps(obj, JSON_COMPACT);
        wk_param up[] = { WK_STR(js), WK_INT(hid) };
        int urc = wk_db_exec(db, "UPDATE dossier_history SET reply = ? WHERE id = ?", up, 2, NULL, NULL, NULL, NULL);
        free(js);
        if (urc != 0 || wk_db_simple(db, "COMMIT") != 0) {
            json_decref(obj);
            reply = wk_rpc_db_error(q->c, "commit");
            break;
        }
        wk_info("workflow", "action done code=%s action=%s status=%d stage=%s", d.code, acts[q->ai].name,
                d.status, d.stage);
        /* read models before the reply (a 200 is followed by reads that show it) */
        if (wk_view_publish(db, q->c->r, d.code) != WK_OK || wf_inbox_sync(db, q->c->r, d.code) != WK_OK) {
            wk_warn("workflow", "read models not refreshed code=%s (retried)", d.code);
            wk_refresh_later(d.code);
        }
        if (d.applicant_id && wk_applicant_listed(q->c->r, d.applicant_id) == 1)
            wk_applicant_put(db, q->c->r, d.applicant_id, d.code);
        reply = obj;
    }
    json_decref(extra);
    q->idem = save_idem;
    if (reply == NULL)
        reply = err_field("STALE_DOSSIER", NULL);
    return reply;
}

/* ------------------------------------------------------------ requests */

static json_t *parse_req(wk_rpc *c, json_t *req, wf_req *q, int applicant)
{
    memset(q, 0, sizeof(*q));
    q->c = c;
    long long id = wk_rpc_actor_id(req);
    if (id == 0)
        return wk_rpc_error("UNAUTHENTICATED", NULL);
    q->a.id = id;
    q->a.applicant = applicant;
    if (applicant) {
        const char *n = wk_json_str(json_object_get(req, "actor"), "name");
        cpy(q->a.name, sizeof(q->a.name), n ? n : "Công dân");
    } else {
        wk_official o;
        json_t *e = wk_rpc_actor_official(c, req, &o);
        if (e)
            return e;
        cpy(q->a.name, sizeof(q->a.name), o.name);
        q->a.roles = o.roles;
        q->a.agency_id = o.agency_id;
        q->a.dept = o.dept;
    }
    cpy(q->a.ip, sizeof(q->a.ip), c->ip);
    json_t *body = json_object_get(req, "body");
    if (!json_is_object(body))
        body = req;
    const char *action = wk_json_str(body, "action");
    if (applicant && action && !strcmp(action, "supplement"))
        action = "resubmit";
    q->ai = act_index(action);
    if (q->ai < 0 || (applicant && acts[q->ai].act != ACT_WITHDRAW && acts[q->ai].act != ACT_RESUBMIT)
        || (!applicant && acts[q->ai].act == ACT_RESUBMIT))
        return err_field("INVALID_REQUEST", "action");
    q->act = acts[q->ai].act;
    q->action = acts[q->ai].name;
    json_t *note = json_object_get(body, "note");
    if (note && !json_is_null(note)) {
        if (!json_is_string(note) || strlen(json_string_value(note)) > NOTE_MAX)
            return err_field("INVALID_REQUEST", "note");
        q->note = json_string_value(note);
        while (*q->note == ' ' || *q->note == '\t' || *q->note == '\n' || *q->note == '\r')
            q->note++;
    }
    json_t *idem = json_object_get(body, "idempotency_key");
    if (idem && !json_is_null(idem)) {
        if (!json_is_string(idem) || !idem_valid(json_string_value(idem)))
            return err_field("INVALID_REQUEST", "idempotency_key");
        q->idem = json_string_value(idem);
    }
    json_t *v;
    if ((v = json_object_get(body, "to_step")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000)
            return err_field("INVALID_REQUEST", "to_step");
        q->to_step = (int)json_integer_value(v);
    }
    if ((v = json_object_get(body, "days")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 60)
            return err_field("INVALID_REQUEST", "days");
        q->days = (int)json_integer_value(v);
    }
    if ((v = json_object_get(body, "to_official")) && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return err_field("INVALID_REQUEST", "to_official");
        q->to_official = json_integer_value(v);
    }
    if ((v = json_object_get(body, "new_due")) && !json_is_null(v)) {
        if (!json_is_string(v))
            return err_field("INVALID_REQUEST", "new_due");
        q->new_due = json_string_value(v);
    }
    json_t *e = wf_check_files(q, json_object_get(body, "files"));
    if (e)
        return e;
    q->cal = wk_calendar(c->db);
    q->now = (time_t)(wk_clock_now_ms(c->r) / 1000);
    return NULL;
}

static const char *req_code(json_t *req)
{
    const char *code = wk_json_str(req, "code");
    if (code == NULL)
        code = wk_json_str(json_object_get(req, "body"), "code");
    return code;
}

static json_t *ok_wrap(json_t *obj)
{
    if (json_is_false(json_object_get(obj, "ok")))
        return obj;
    json_object_set_new(obj, "ok", json_true());
    return obj;
}

static int code_valid(const char *code)
{
    char ag[32], dt[7];
    int seq;
    return code != NULL && wk_code_parse(code, ag, dt, &seq) == 0;
}

/* one action on one dossier, by an official or by its applicant */
static json_t *action_rpc(wk_rpc *c, json_t *req, int applicant)
{
    wf_req q;
    json_t *e = parse_req(c, req, &q, applicant);
    if (e)
        return e;
    const char *code = req_code(req);
    if (!code_valid(code))
        return err_field("INVALID_DOSSIER_CODE", "code");
    return ok_wrap(act_one(&q, code));
}

json_t *wk_rpc_staff_action(wk_rpc *c, json_t *req)
{
    return action_rpc(c, req, 0);
}

json_t *wk_rpc_me_action(wk_rpc *c, json_t *req)
{
    return action_rpc(c, req, 1);
}

json_t *wk_rpc_staff_batch(wk_rpc *c, json_t *req)
{
    wf_req q;
    json_t *e = parse_req(c, req, &q, 0);
    if (e)
        return e;
    json_t *body = json_object_get(req, "body");
    json_t *codes = json_object_get(json_is_object(body) ? body : req, "codes");
    if (!json_is_array(codes) || json_array_size(codes) == 0)
        return err_field("INVALID_REQUEST", "codes");
    if (json_array_size(codes) > BATCH_MAX)
        return err_field("TOO_MANY_DOSSIERS", "codes");
    json_t *results = json_array();
    size_t i;
    json_t *jc;
    const char *idem = q.idem;
    json_array_foreach(codes, i, jc) {
        const char *code = json_is_string(jc) ? json_string_value(jc) : NULL;
        if (!code_valid(code)) {
            json_array_append_new(results, json_pack("{s:o, s:b, s:s, s:s}", "code", code ? json_string(code) : json_null(),
                                                     "ok", 0, "error", "INVALID_DOSSIER_CODE",
                                                     "message", wk_error_message("INVALID_DOSSIER_CODE")));
            continue;
        }
        q.idem = idem;
        json_t *r = act_one(&q, code);
        if (json_is_false(json_object_get(r, "ok"))) {
            json_object_set_new(r, "code", json_string(code));
            const char *msg = wk_error_message(wk_json_str(r, "error"));
            if (msg)
                json_object_set_new(r, "message", json_string(msg));
            json_array_append_new(results, r);
        } else {
            json_array_append_new(results, json_pack("{s:s, s:b, s:O, s:o}", "code", code, "ok", 1,
                                                     "status", json_object_get(json_object_get(r, "status"), "code"),
                                                     "dossier", r));
        }
    }
    return json_pack("{s:b, s:o}", "ok", 1, "results", results);
}
