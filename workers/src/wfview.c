/* wfview.c - the workflow object of a dossier (docs/contracts-workflow.md
 * "Replies and views"): the action replies, the "workflow" member of the
 * private view, and the time accounting of T3, T5-T8 (steps, agencies,
 * pauses).  Built from MariaDB; instants in Asia/Ho_Chi_Minh ISO 8601. */
#include "workflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void wf_iso(time_t t, char out[40])
{
    out[0] = '\0';
    if (t != 0)
        wk_fmt_local(t, out, 40);
}

json_t *wf_time(time_t t)
{
    char b[40];
    wf_iso(t, b);
    return b[0] ? json_string(b) : json_null();
}

static json_t *dbtime_json(const char *s)
{
    time_t t = 0;
    if (s == NULL || wk_dbtime_parse(s, &t) != 0)
        return json_null();
    return wf_time(t);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

typedef struct { json_t *arr; int staff; } arr_ud;

static int steps_cb(const wk_row *r, void *ud)
{
    arr_ud *u = ud;
    json_t *o = json_pack("{s:I, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                          "visit", (json_int_t)strtoll(r->v[0], NULL, 10), "position", atoi(r->v[1]),
                          "name", str_or_null(r->v[2]), "agency", str_or_null(r->v[3]),
                          "official", u->staff ? str_or_null(r->v[4]) : json_null(),
                          "started_at", dbtime_json(r->v[5]), "ended_at", dbtime_json(r->v[6]),
                          "budget_due_at", dbtime_json(r->v[7]),
                          "used_minutes", r->v[8] ? json_integer(strtoll(r->v[8], NULL, 10)) : json_null(),
                          "end_action", str_or_null(r->v[9]), "role", str_or_null(r->v[10]));
    if (o)
        json_array_append_new(u->arr, o);
    return 0;
}

static int agencies_cb(const wk_row *r, void *ud)
{
    arr_ud *u = ud;
    long long budget = strtoll(r->v[4], NULL, 10), ext = strtoll(r->v[5], NULL, 10);
    long long used = strtoll(r->v[6], NULL, 10);
    /* T8: late = used more than its share of the process; an extension it
     * asked for is recorded against it ("extended") */
    json_t *o = json_pack("{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:b, s:b}",
                          "agency", str_or_null(r->v[0]), "name", str_or_null(r->v[1]),
                          "received_at", dbtime_json(r->v[2]), "transfer_due_at", dbtime_json(r->v[3]),
                          "budget_minutes", (json_int_t)budget, "extension_minutes", (json_int_t)ext,
                          "used_minutes", (json_int_t)used, "late", used > budget, "extended", ext > 0);
    if (o)
        json_array_append_new(u->arr, o);
    return 0;
}

static int pauses_cb(const wk_row *r, void *ud)
{
    arr_ud *u = ud;
    json_t *o = json_pack("{s:o, s:o, s:o, s:o}", "started_at", dbtime_json(r->v[0]),
                          "ended_at", dbtime_json(r->v[1]),
                          "minutes", r->v[2] ? json_integer(strtoll(r->v[2], NULL, 10)) : json_null(),
                          "reason", str_or_null(r->v[3]));
    if (o)
        json_array_append_new(u->arr, o);
    return 0;
}

static int officials_cb(const wk_row *r, void *ud)
{
    arr_ud *u = ud;
    json_t *o = json_pack("{s:I, s:o, s:o, s:I, s:I}", "id", (json_int_t)strtoll(r->v[0], NULL, 10),
                          "name", str_or_null(r->v[1]), "agency", str_or_null(r->v[2]),
                          "used_minutes", (json_int_t)(r->v[3] ? strtoll(r->v[3], NULL, 10) : 0),
                          "steps", (json_int_t)strtoll(r->v[4], NULL, 10));
    if (o)
        json_array_append_new(u->arr, o);
    return 0;
}

typedef struct { char name[256]; int found; } name_ud;
static int name_cb(const wk_row *r, void *ud)
{
    name_ud *u = ud;
    snprintf(u->name, sizeof(u->name), "%s", r->v[0] ? r->v[0] : "");
    u->found = 1;
    return 1;
}

json_t *wf_object(wk_db *db, const wf_dossier *d, const wf_process *p, int detail, int staff)
{
    json_t *step = json_null();
    const wf_step *s = d->step_pos && p ? wf_step_at(p, d->step_pos) : NULL;
    if (s && strcmp(d->stage, "closed") && strcmp(d->stage, "done") && strcmp(d->stage, "result")) {
        step = json_pack("{s:i, s:s, s:s, s:s, s:o}", "position", s->pos, "name", s->name, "role", s->role,
                         "agency", s->agency,
                         "department", s->dept_id ? json_integer(s->dept_id) : json_null());
    }
    json_t *assignee = json_null();
    if (d->assignee_id) {
        name_ud u = { "", 0 };
        wk_param q[] = { WK_INT(d->assignee_id) };
        wk_db_exec(db, "SELECT name FROM officials WHERE id = ?", q, 1, name_cb, &u, NULL, NULL);
        assignee = json_pack("{s:I, s:s}", "id", (json_int_t)d->assignee_id, "name", staff ? u.name : "");
    }
    json_t *o = json_pack("{s:s, s:{s:i, s:s}, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s?,"
                          " s:i, s:b, s:o, s:b, s:o, s:o}",
                          "code", d->code,
                          "status", "code", d->status, "label", wk_status_label(d->status),
                          "stage", d->stage, "step", step, "assignee", assignee,
                          "receipt_at", wf_time(d->receipt_at), "due_at", wf_time(d->due_at),
                          "first_due_at", wf_time(d->first_due_at), "result_at", wf_time(d->result_at),
                          "returned_at", wf_time(d->returned_at),
                          "outcome", d->outcome[0] ? json_string(d->outcome) : json_null(),
                          "result_kind", d->result_kind[0] ? json_string(d->result_kind) : json_null(),
                          "procedure", d->pcode,
                          "supplement_count", d->supplement_count, "apologised", d->apologised,
                          "paused_at", wf_time(d->paused_at), "joint", p ? p->joint : 0,
                          "process_version", p && p->version ? json_integer(p->version) : json_null(),
                          "warning", d->warning[0] ? json_string(d->warning) : json_null());
    if (o == NULL || !detail)
        return o;
    wk_param q[] = { WK_INT(d->id) };
    arr_ud u = { json_array(), staff };
    wk_db_exec(db,
               "SELECT s.visit, s.position, ps.name, ag.code, o.name, s.started_at, s.ended_at, s.budget_due_at,"
               " s.used_minutes, s.end_action, s.role"
               " FROM dossier_steps s JOIN dossiers d ON d.id = s.dossier_id"
               " JOIN agencies ag ON ag.id = s.agency_id"
               " LEFT JOIN process_steps ps ON ps.process_id = d.process_id AND ps.position = s.position"
               " LEFT JOIN officials o ON o.id = s.official_id"
               " WHERE s.dossier_id = ? ORDER BY s.visit", q, 1, steps_cb, &u, NULL, NULL);
    json_object_set_new(o, "steps", u.arr);
    u.arr = json_array();
    wk_db_exec(db,
               "SELECT ag.code, ag.name, t.received_at, t.transfer_due_at, t.budget_minutes,"
               " t.extension_minutes, t.used_minutes"
               " FROM dossier_agency_time t JOIN agencies ag ON ag.id = t.agency_id"
               " WHERE t.dossier_id = ? ORDER BY ag.code", q, 1, agencies_cb, &u, NULL, NULL);
    json_object_set_new(o, "agencies", u.arr);
    u.arr = json_array();
    wk_db_exec(db, "SELECT started_at, ended_at, minutes, reason FROM dossier_pauses WHERE dossier_id = ?"
                   " ORDER BY id", q, 1, pauses_cb, &u, NULL, NULL);
    json_object_set_new(o, "pauses", u.arr);
    /* H4, T7: the time each official held the dossier */
    u.arr = json_array();
    if (staff)
        wk_db_exec(db, "SELECT o.id, o.name, ag.code, SUM(s.used_minutes), COUNT(*)"
                       " FROM dossier_steps s JOIN officials o ON o.id = s.official_id"
                       " JOIN agencies ag ON ag.id = s.agency_id"
                       " WHERE s.dossier_id = ? AND s.used_minutes IS NOT NULL"
                       " GROUP BY o.id, o.name, ag.code ORDER BY o.id", q, 1, officials_cb, &u, NULL, NULL);
    json_object_set_new(o, "officials", u.arr);
    return o;
}

/* the "workflow" member of the private view (privview.c) */
json_t *wk_workflow_view(wk_db *db, const char *code, int staff)
{
    wf_dossier d;
    if (wf_dossier_load(db, code, 0, 0, &d) != 1)
        return json_null();
    wf_process p;
    int pf = wf_process_load(db, &d, &p);
    if (pf < 0)
        return json_null();
    json_t *o = wf_object(db, &d, pf ? &p : NULL, 1, staff);
    return o ? o : json_null();
}

json_t *wf_applicant_name(wk_db *db, long long dossier_id)
{
    name_ud u = { "", 0 };
    wk_param q[] = { WK_INT(dossier_id) };
    if (wk_db_exec(db, "SELECT applicant_name FROM dossiers WHERE id = ?", q, 1, name_cb, &u, NULL, NULL) != 0
        || !u.found)
        return json_null();
    return json_string(u.name);
}

static int comp_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    json_array_append_new(arr, json_pack("{s:s, s:o, s:s}", "component", r->v[0],
                                         "component_name", str_or_null(r->v[1]), "name", r->v[2]));
    return 0;
}

/* the receipt slip's components: what the dossier holds (submitted files) */
json_t *wf_components(wk_db *db, long long dossier_id)
{
    json_t *arr = json_array();
    wk_param q[] = { WK_INT(dossier_id) };
    wk_db_exec(db, "SELECT f.component_code, c.name, f.original_name FROM dossier_files f"
                   " JOIN dossiers d ON d.id = f.dossier_id"
                   " LEFT JOIN components c ON c.procedure_id = d.procedure_id AND c.code = f.component_code"
                   " WHERE f.dossier_id = ? ORDER BY f.position", q, 1, comp_cb, arr, NULL, NULL);
    return arr;
}

static int hist_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    json_error_t je;
    json_t *files = r->v[7] ? json_loads(r->v[7], 0, &je) : NULL;
    json_t *o = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "status", atoi(r->v[0]),
                          "label", r->v[1] ? r->v[1] : "", "note", str_or_null(r->v[2]),
                          "actor", str_or_null(r->v[3]), "at", dbtime_json(r->v[4]),
                          "action", str_or_null(r->v[5]),
                          "step", r->v[6] ? json_integer(atoi(r->v[6])) : json_null(),
                          "files", files ? files : json_array(),
                          "agency", str_or_null(r->v[8]));
    if (o)
        json_array_append_new(arr, o);
    return 0;
}

/* the full history (private view): who, when, what, at which step, with
 * which files (H1, H2) */
json_t *wf_history(wk_db *db, long long dossier_id)
{
    json_t *arr = json_array();
    wk_param q[] = { WK_INT(dossier_id) };
    wk_db_exec(db, "SELECT h.status, h.label, h.note, h.actor, h.at, h.action, h.step_position, h.files, ag.code"
                   " FROM dossier_history h LEFT JOIN agencies ag ON ag.id = h.agency_id"
                   " WHERE h.dossier_id = ? ORDER BY h.id", q, 1, hist_cb, arr, NULL, NULL);
    return arr;
}

static int out_cb(const wk_row *r, void *ud)
{
    json_t *arr = ud;
    json_array_append_new(arr, json_pack("{s:s, s:o, s:s, s:I, s:s, s:s, s:I}", "kind", r->v[0],
                                         "component", str_or_null(r->v[1]), "name", r->v[2],
                                         "size", (json_int_t)strtoll(r->v[3], NULL, 10), "media_type", r->v[4],
                                         "sha256", r->v[5], "history_id", (json_int_t)strtoll(r->v[6], NULL, 10)));
    return 0;
}

/* files attached by actions (H2) */
json_t *wf_outputs(wk_db *db, long long dossier_id)
{
    json_t *arr = json_array();
    wk_param q[] = { WK_INT(dossier_id) };
    wk_db_exec(db, "SELECT kind, component, name, size, media_type, sha256, history_id FROM dossier_outputs"
                   " WHERE dossier_id = ? ORDER BY id", q, 1, out_cb, arr, NULL, NULL);
    return arr;
}

/* agencies that may read the dossier besides the receiving one: the current
 * one and every agency of its process (joint procedures, T8) */
json_t *wf_current_agencies(wk_db *db, const char *code)
{
    json_t *arr = json_array();
    wf_dossier d;
    if (wf_dossier_load(db, code, 0, 0, &d) != 1)
        return arr;
    wf_process p;
    if (wf_process_load(db, &d, &p) == 1)
        for (int i = 0; i < p.n; i++) {
            int seen = 0;
            for (size_t k = 0; k < json_array_size(arr); k++)
                if (!strcmp(json_string_value(json_array_get(arr, k)), p.s[i].agency))
                    seen = 1;
            if (!seen)
                json_array_append_new(arr, json_string(p.s[i].agency));
        }
    return arr;
}
