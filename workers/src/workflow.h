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

/* ---- an action request (workflow_act.c parses, workflow.c records) -- */
#define WF_FILES_MAX 20
typedef enum {
    ACT_NONE = 0, ACT_ACCEPT, ACT_REFUSE_RECEPTION, ACT_FORWARD, ACT_RETURN, ACT_SUPPLEMENT,
    ACT_RESUBMIT, ACT_EXTEND, ACT_HANDOVER, ACT_REFUSE, ACT_APOLOGISE, ACT_CONFIRM_RESULT,
    ACT_RETURN_RESULT, ACT_STOP, ACT_WITHDRAW,
} act_t;

typedef struct {
    int applicant;              /* actor is the dossier's applicant */
    long long id;
    char name[256];
    unsigned roles;
    long long agency_id, dept;
    char ip[64];
} wf_actor;

typedef struct {
    char sha[65], kind[24], name[256], media[128], component[40];
    long long size;
} wf_file;

typedef struct {
    wk_rpc *c;
    wf_actor a;
    int ai;                     /* index in the action table */
    act_t act;
    const char *action;         /* its name */
    const char *note, *idem, *new_due;
    int to_step, days;
    long long to_official;
    wf_file files[WF_FILES_MAX];
    int nfiles;
    time_t now;
    const tthc_calendar_t *cal;
} wf_req;

#define WK_TIME(buf) ((buf)[0] ? WK_STR(buf) : WK_NULLP)

/* ---- workflow.c ------------------------------------------------------ */
/* load (FOR UPDATE inside a transaction when lock) by code or id:
 * 1 found, 0 none, -1 db error */
int  wf_dossier_load(wk_db *db, const char *code, long long id, int lock, wf_dossier *d);
/* the dossier's process (its own version, or the procedure's active one
 * when it has none yet): 1, 0 none, -1 db error */
int  wf_process_load(wk_db *db, const wf_dossier *d, wf_process *p);
const wf_step *wf_step_at(const wf_process *p, int pos);
time_t wf_col_time(const char *s);                  /* DB DATETIME -> time_t, 0 for NULL */
typedef struct { char *out; size_t n; int found; } str_ud;
int  wf_str_cb(const wk_row *r, void *ud);          /* first column into a str_ud */
long wf_minutes_between(const wf_req *q, time_t a, time_t b);   /* working minutes, >= 0 */
void wf_dbt(time_t t, char out[32]);                 /* DB DATETIME, "" for 0 */
/* step visits (T7) and agency time (T8): 0 / -1 */
int  wf_close_visit(wk_db *db, const wf_req *q, wf_dossier *d, const char *end_action);
int  wf_open_visit(wk_db *db, const wf_req *q, wf_dossier *d, const wf_process *p, int pos, time_t at,
                   int receive);
int  wf_agency_receive(wk_db *db, const wf_req *q, const wf_dossier *d, long long agency_id, time_t at);
/* 1 found, 0 none, -1 db error */
int  wf_agency_time(wk_db *db, long long dossier_id, long long agency_id, long *budget, long *ext, long *used,
                    time_t *transfer_due);
/* the request's files: NULL ok, or an error reply */
json_t *wf_check_files(wf_req *q, json_t *jf);
int  wf_has_kind(const wf_req *q, const char *kind);
/* history entry + outputs + outbox record: 0 / -1 */
int  wf_write_history(wk_db *db, const wf_req *q, const wf_dossier *d, const wf_process *p,
                      const char *label, long long *hid);
int  wf_save_dossier(wk_db *db, const wf_dossier *d);
/* agency budget of a process in working minutes */
long wf_agency_budget(const wf_process *p, long long agency_id);
int  wf_setting(wk_db *db, const char *name, char *out, size_t outsz);  /* 1 / 0 / -1 */

/* ---- wfview.c -------------------------------------------------------- */
/* the workflow object (contract "Replies and views"); detail adds steps,
 * agencies, pauses; staff = 0 hides officials' names */
json_t *wf_object(wk_db *db, const wf_dossier *d, const wf_process *p, int detail, int staff);
void    wf_iso(time_t t, char out[40]);      /* "" when t == 0 */
json_t *wf_time(time_t t);                   /* ISO +07:00 or null */
json_t *wf_applicant_name(wk_db *db, long long dossier_id);
json_t *wf_components(wk_db *db, long long dossier_id);      /* receipt slip */
json_t *wf_history(wk_db *db, long long dossier_id);         /* full history */
json_t *wf_outputs(wk_db *db, long long dossier_id);         /* action files */
json_t *wf_current_agencies(wk_db *db, const char *code);    /* agencies of its process */

/* ---- inbox.c --------------------------------------------------------- */
/* place the dossier's item where it belongs now (or take it out) and
 * schedule the warner.  WK_OK / WK_TRANSIENT */
wk_rc wf_inbox_sync(wk_db *db, wk_rds *r, const char *code);
/* colour thresholds of an open dossier (0 when not applicable) */
void  wf_thresholds(const tthc_calendar_t *cal, const wf_dossier *d, time_t transfer_due,
                    time_t *yellow_at, time_t *red_at);
#endif
