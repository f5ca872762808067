/* workflow.h - the handling workflow (issue 4; docs/contracts-workflow.md):
 * the engine (workflow.c), its views (wfview.c), the inbox read model and
 * the warner (inbox.c).  Private to the workers. */
#ifndef TTHC_WORKFLOW_H
#define TTHC_WORKFLOW_H

#include "wk.h"
#include "tthc_calendar.h"

#define WF_MAX_STEPS 32

/* process_steps.actions (SET order = bit order) */
enum {
    WF_A_FORWARD = 1u << 0, WF_A_RETURN = 1u << 1, WF_A_SUPPLEMENT = 1u << 2,
    WF_A_HANDOVER = 1u << 3, WF_A_REFUSE = 1u << 4, WF_A_EXTEND = 1u << 5,
    WF_A_STOP = 1u << 6, WF_A_APOLOGISE = 1u << 7, WF_A_WITHDRAW = 1u << 8,
};

typedef struct {
    int pos;
    char name[256];
    long long agency_id;
    char agency[40];
    long long dept_id;          /* 0 none */
    char role[32];
    long budget;                /* working minutes */
    unsigned actions;           /* WF_A_* */
} wf_step;

typedef struct {
    long long id;
    int version;
    int n;
    wf_step s[WF_MAX_STEPS];
    int joint;                  /* steps span more than one agency */
} wf_process;

typedef struct {
    long long id;
    char code[72];
    int status;
    char stage[16];
    long long procedure_id, process_id, agency_id, cur_agency_id, assignee_id, applicant_id;
    char agency[40];            /* receiving agency code */
    char pcode[40];
    int step_pos, step_visit;   /* 0 none */
    time_t received_at, receipt_at, due_at, first_due_at, result_at, returned_at, paused_at;
    char outcome[12], result_kind[12], warning[8];
    int apologised, supplement_count, supplement_step;
    long long row_version;
    int amount;                 /* legal processing time */
    int unit_hours;             /* 1: working hours, 0: working days */
} wf_dossier;

/* ---- workflow.c ------------------------------------------------------ */
/* load (FOR UPDATE inside a transaction when lock) by code or id:
 * 1 found, 0 none, -1 db error */
int  wf_dossier_load(wk_db *db, const char *code, long long id, int lock, wf_dossier *d);
/* the dossier's process (its own version, or the procedure's active one
 * when it has none yet): 1, 0 none, -1 db error */
int  wf_process_load(wk_db *db, const wf_dossier *d, wf_process *p);
const wf_step *wf_step_at(const wf_process *p, int pos);
/* agency budget of a process in working minutes */
long wf_agency_budget(const wf_process *p, long long agency_id);
int  wf_setting(wk_db *db, const char *name, char *out, size_t outsz);  /* 1 / 0 / -1 */

/* ---- wfview.c -------------------------------------------------------- */
/* the workflow object (contract "Replies and views"); detail adds steps,
 * agencies, pauses; staff = 0 hides officials' names */
json_t *wf_object(wk_db *db, const wf_dossier *d, const wf_process *p, int detail, int staff);
void    wf_iso(time_t t, char out[40]);      /* "" when t == 0 */
json_t *wf_time(time_t t);                   /* ISO +07:00 or null */

/* ---- inbox.c --------------------------------------------------------- */
/* place the dossier's item where it belongs now (or take it out) and
 * schedule the warner.  WK_OK / WK_TRANSIENT */
wk_rc wf_inbox_sync(wk_db *db, wk_rds *r, const char *code);
/* colour thresholds of an open dossier (0 when not applicable) */
void  wf_thresholds(const tthc_calendar_t *cal, const wf_dossier *d, time_t transfer_due,
                    time_t *yellow_at, time_t *red_at);
#endif
