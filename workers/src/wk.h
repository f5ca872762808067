/* wk.h - internal interface of the tthc worker library (libtthcw.a).
 * Shared by tthc-worker and tthcctl. Not a public API. */
#ifndef TTHC_WK_H
#define TTHC_WK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <signal.h>

#include <mysql.h>
#include <hiredis.h>
#include <jansson.h>
#include <libxml/tree.h>

#include "tthc_calendar.h"   /* tthc_calendar_t of wk_calendar() (calendar.c) */

/* ---- result classes ------------------------------------------------- */
typedef enum {
    WK_OK = 0,
    WK_PERMANENT = 1,   /* job-level failure: retry later with backoff, then dead */
    WK_TRANSIENT = 2,   /* infrastructure down (MariaDB, Redis, store): keep job, reconnect */
} wk_rc;

/* ---- keys (docs/contracts.md "Redis keys") ---------------------------- */
#define WK_K_CAT_VERSION  "tthc:{cat}:version"
#define WK_K_CAT_DOC      "tthc:{cat}:doc"
#define WK_K_STREAM       "tthc:{jobs}:stream"
#define WK_K_DELAYED      "tthc:{jobs}:delayed"
#define WK_K_DEAD         "tthc:{jobs}:dead"
#define WK_K_LOCK_RECON   "tthc:{lock}:reconcile"
#define WK_K_RPC          "tthc:{jobs}:rpc"
#define WK_K_INBOX_BUILT  "tthc:{ib}:built"    /* set after an inbox rebuild */
#define WK_JOB_AUDIT      "audit.append"
#define WK_GROUP          "workers"
#define WK_JOB_SUBMITTED  "dossier.submitted"
#define WK_SEQ_TTL_S      345600
#define WK_DONE_KEEP_MS   (3L * 24 * 3600 * 1000)   /* journal/done/ pruned after 3 days */

/* ---- conf.c ---------------------------------------------------------- */
typedef struct {
    char path[512];
    char redis[512];
    char mysql_socket[512];
    char mysql_user[128];
    char mysql_password_file[512];
    char mysql_password[256];
    char mysql_database[128];
    char store[512];
    long visibility_ms;
    long max_attempts;
    long backoff_base_ms;
    long reconcile_interval_ms;
    long journal_grace_ms;
    long journal_orphan_ms;   /* normal sweeps: journal files untouched this long */
    int  log_level;
    /* identity (docs/contracts-identity.md) */
    char rpc_key_file[512];          /* default: <dir of tthc.conf>/rpc.key */
    unsigned char rpc_key[32];
    int  rpc_key_ok;                 /* key loaded */
    char eid_issuer[512];            /* empty: e-ID sign-in not configured */
    char eid_token_url[512];
    char eid_jwks_url[512];
    char eid_client_id[256];         /* default "tthc" */
    char eid_client_secret_file[512];/* default: <dir of tthc.conf>/eid-client.secret */
    char eid_client_secret[256];
    char eid_redirect_uri[512];
    long session_idle_s;             /* default 1800 */
    long session_abs_s;              /* default 43200 */
    long staff_lockout_failures;     /* default 5 */
    long staff_lockout_s;            /* default 900 */
    long rpc_claim_idle_ms;          /* default 15000 (> the 10 s RPC deadline) */
    int  clock_redis;                /* clock = redis (test/bench stacks only; default system) */
    /* partners (docs/exchange.md); an empty url means "not configured" */
    char xsd_dir[512];               /* exchange/xsd of the installation */
    char public_url[512];            /* this system's own base URL (callbacks, return links) */
    char portal_url[512];            /* national portal */
    char portal_token_file[512];
    char portal_token[256];
    char postal_url[512];            /* postal operator */
    char postal_token_file[512];
    char postal_token[256];
    char postal_hmac_secret_file[512];
    char postal_hmac_secret[256];    /* HMAC-SHA256 key of tracking callbacks */
    char payment_url[512];           /* payment platform */
    char payment_token_file[512];
    char payment_token[256];
    char payment_pubkey_file[512];   /* the platform's Ed25519 public key, 64 hex */
    unsigned char payment_pubkey[32];
    int  payment_pubkey_ok;
    long catalogue_pull_interval_s;  /* 0: no scheduled pull (default 0) */
    long outbox_max_attempts;        /* default 12, then dead */
    long outbox_backoff_base_ms;     /* default 1000 */
    long outbox_backoff_max_ms;      /* default 300000 */
    long outbox_lease_ms;            /* default 30000 */
    long outbox_http_timeout_ms;     /* default 10000 */
    long outbox_concurrency;         /* workers delivering at once (default 1; Redis slots) */
} wk_conf;

/* Load FILE (or $TTHC_CONF when file is NULL). Returns 0, or -1 with a
 * message in err. */
int wk_conf_load(wk_conf *c, const char *file, char *err, size_t errsz);
/* (Re)load the RPC key and the e-ID client secret; 0, or -1 with a message
 * in err (the worker logs it and answers RPCs it cannot seal no more). */
int wk_conf_load_secrets(wk_conf *c, char *err, size_t errsz);

/* ---- log.c ----------------------------------------------------------- */
enum { WK_LOG_DEBUG = 0, WK_LOG_INFO = 1, WK_LOG_WARN = 2, WK_LOG_ERROR = 3 };
int  wk_log_level_parse(const char *s);
void wk_log_init(const char *file, int level);
void wk_log_set_level(int level);
/* One line: "ts level component message key=value ..."; fmt holds the
 * message and key=value pairs.  Never pass personal data or secrets. */
void wk_log(int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define wk_debug(c, ...) wk_log(WK_LOG_DEBUG, c, __VA_ARGS__)
#define wk_info(c, ...)  wk_log(WK_LOG_INFO, c, __VA_ARGS__)
#define wk_warn(c, ...)  wk_log(WK_LOG_WARN, c, __VA_ARGS__)
#define wk_error(c, ...) wk_log(WK_LOG_ERROR, c, __VA_ARGS__)

/* ---- util.c ---------------------------------------------------------- */
/* n bytes of s as a NUL-terminated malloc'd copy (binary-safe), NULL on OOM */
char   *wk_memdup0(const char *s, size_t n);
int64_t wk_now_ms(void);
void    wk_sleep_ms(long ms);
/* Sleeps up to ms, returning early (1) when *stop becomes non-zero. */
int     wk_sleep_interruptible(long ms, volatile sig_atomic_t *stop);
/* Reads a whole file; *out is NUL-terminated, caller frees. 0 / -1 (errno). */
int     wk_read_file(const char *path, char **out, size_t *len);
void    wk_sha256_hex(const void *data, size_t len, char out[65]);
int     wk_sha256_file_hex(const char *path, char out[65]);
int     wk_is_hex64(const char *s);
long    wk_jitter(long ms, int pct);           /* ms ± pct % */
/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) -> time_t; -1 on error */
int     wk_dbtime_parse(const char *s, time_t *t);
void    wk_dbtime_fmt(time_t t, char out[32]);  /* "YYYY-MM-DD HH:MM:SS" */
const char *wk_hostname(void);

/* ---- db.c ------------------------------------------------------------ */
typedef struct {
    MYSQL *my;
    const wk_conf *conf;
    unsigned last_errno;
    char last_error[256];
} wk_db;

enum { WK_P_NULL = 0, WK_P_STR, WK_P_INT };
typedef struct {
    int type;
    const char *s;
    size_t len;          /* for WK_P_STR; (size_t)-1 = strlen */
    long long i;
} wk_param;
static inline wk_param wk_p_str(const char *s)
{
    wk_param p = { s ? WK_P_STR : WK_P_NULL, s, (size_t)-1, 0 };
    return p;
}
#define WK_STR(x)      wk_p_str(x)                 /* NULL -> SQL NULL */
#define WK_STRN(x, n)  ((wk_param){ .type = WK_P_STR, .s = (x), .len = (n) })
#define WK_INT(x)      ((wk_param){ .type = WK_P_INT, .i = (long long)(x) })
#define WK_NULLP       ((wk_param){ .type = WK_P_NULL })

typedef struct {
    unsigned n;
    char **v;            /* NULL for SQL NULL; NUL-terminated */
    unsigned long *len;
} wk_row;
typedef int (*wk_row_cb)(const wk_row *row, void *ud);  /* non-zero stops */

void wk_db_init(wk_db *db, const wk_conf *conf);
int  wk_db_connect(wk_db *db);                 /* 0 / -1 */
void wk_db_close(wk_db *db);
int  wk_db_ensure(wk_db *db);                  /* connect if needed, ping */
/* Prepared statement with params; result rows to cb (may be NULL). */
int  wk_db_exec(wk_db *db, const char *sql, const wk_param *p, unsigned np,
                wk_row_cb cb, void *ud, unsigned long long *affected,
                unsigned long long *insert_id);
int  wk_db_simple(wk_db *db, const char *sql); /* no data: BEGIN, COMMIT ... */
int  wk_db_multi(wk_db *db, const char *sql, size_t len); /* run an SQL script */
int  wk_db_transient(const wk_db *db);          /* last error is a lost/unavailable server */
/* Fetch one integer (first column, first row). 1 found, 0 none, -1 error */
int  wk_db_get_ll(wk_db *db, const char *sql, const wk_param *p, unsigned np, long long *out);

/* ---- rds.c ----------------------------------------------------------- */
typedef struct {
    redisContext *c;
    const wk_conf *conf;
    long timeout_ms;
    int group_created;   /* set by wk_queue_group_create when the group was missing */
} wk_rds;

void wk_rds_init(wk_rds *r, const wk_conf *conf, long timeout_ms);
int  wk_rds_connect(wk_rds *r);
void wk_rds_close(wk_rds *r);
int  wk_rds_ensure(wk_rds *r);
/* argv command; returns reply or NULL (context dropped, will reconnect).
 * An error reply is returned as is (type REDIS_REPLY_ERROR). */
redisReply *wk_rds_cmd(wk_rds *r, int argc, const char **argv, const size_t *lens);
redisReply *wk_rds_cmdf(wk_rds *r, const char *fmt, ...);
int  wk_rds_ok(const redisReply *rep);          /* non-NULL and not an error */
/* run_id of the Redis server (INFO server): 1 found, 0 not available
 * (INFO refused: out = ""), -1 Redis unreachable */
int  wk_rds_run_id(wk_rds *r, char out[64]);

/* ---- clock.c (docs/contracts-workflow.md "The clock") ---------------- */
#define WK_K_CLOCK_OFFSET       "tthc:{clock}:offset_ms"
#define WK_CLOCK_MAX_OFFSET_MS  (100LL * 366 * 86400 * 1000)   /* larger = invalid */
/* "Now" of the legal clock, epoch ms.  The conf is reached through r->conf
 * (set by wk_rds_init): with `clock = redis`, system time + the integer in
 * tthc:{clock}:offset_ms, read on every call (missing, not an integer,
 * negative or > WK_CLOCK_MAX_OFFSET_MS -> 0; Redis unreachable -> 0);
 * otherwise, or when r is NULL, the system time (wk_now_ms). */
int64_t wk_clock_now_ms(wk_rds *r);
time_t  wk_clock_now(wk_rds *r);                 /* the same in whole seconds (floor) */
int     wk_clock_redis(const wk_rds *r);         /* 1 when r's conf says clock = redis */
/* the offset: 1 set (*ms = it), 0 missing or invalid (*ms = 0), -1 Redis error */
int     wk_clock_offset_get(wk_rds *r, int64_t *ms);
int     wk_clock_offset_set(wk_rds *r, int64_t ms);   /* 0 / -1 (ms out of range, Redis) */
int     wk_clock_offset_reset(wk_rds *r);             /* DEL; 0 / -1 */

/* ---- calendar.c (docs/contracts-workflow.md "The calendar in the workers")
 * The adapter of common/tthc_calendar: callers compute with the
 * tthc_calendar.h functions on the calendar it returns. */
/* The default schedule + the holidays table ('holiday' -> day off,
 * 'makeup_workday' -> make-up working day), cached per process and reloaded
 * when older than 60 s; on a DB error the last good one (or the default
 * schedule) is kept and a reload is tried again after 5 s.  Never NULL; the
 * pointer stays valid (its contents change on reload).  db NULL: the cache
 * as it is.  Not thread-safe. */
const tthc_calendar_t *wk_calendar(wk_db *db);
void  wk_calendar_invalidate(void);    /* the next wk_calendar() reloads */
void  wk_calendar_release(void);       /* frees the cache (clean exit) */
/* a fresh calendar from the table, no cache: WK_OK, WK_TRANSIENT (db down),
 * WK_PERMANENT (no table, bad rows); out is usable (default) on failure and
 * is freed with tthc_calendar_free() either way */
wk_rc wk_calendar_load_db(wk_db *db, tthc_calendar_t *out);
/* a calendar file in tthc_calendar_load()'s text format: 0, or -1 with
 * "cannot read ..." / "calendar FILE: line N: reason" in err; out as above */
int   wk_calendar_load_file(const char *path, tthc_calendar_t *out, char *err, size_t errsz);

/* ---- common/ wrappers (cm.c): the only file that calls common/ ------- */
/* local date of t in Asia/Ho_Chi_Minh as "YYMMDD" */
int  wk_local_yymmdd(time_t t, char out[7]);
int  wk_fmt_local(time_t t, char *out, size_t outsz);
int  wk_parse_utc(const char *s, size_t len, time_t *t);
int  wk_fold(const char *in, size_t len, char *out, size_t outsz);
int  wk_mask_name(const char *in, char *out, size_t outsz);
int  wk_mask_id(const char *in, char *out, size_t outsz);
const char *wk_status_label(int st);
/* the Vietnamese message of a stable error code (common/tthc_errors), NULL if unknown */
const char *wk_error_message(const char *code);
/* parse a dossier code: agency (<=31 chars), date YYMMDD, seq. 0 ok / -1 */
int  wk_code_parse(const char *code, char agency[32], char date[7], int *seq);
int  wk_agency_code_valid(const char *code);
/* roles and scope (common/tthc_scope) */
unsigned    wk_role_bit(const char *name);          /* 0 unknown */
const char *wk_role_name(unsigned bit);             /* NULL unless one known bit */
long        wk_roles_parse_csv(const char *csv);    /* -1 unknown name */
void        wk_roles_csv(unsigned roles, char out[128]);
#define WK_ROLE_SYSADMIN      0x40u
#define WK_ROLE_MONITOR       0x20u
#define WK_ROLE_AGENCY_ADMIN  0x10u
#define WK_ROLES_AGENCY_BOUND 0x1fu     /* need an agency */
/* may actor (roles, agency code or NULL) administer an account of target
 * agency with roles target_roles (0: not changing roles)? 1 / 0 */
int wk_scope_account(unsigned actor_roles, const char *actor_agency,
                     const char *target_agency, unsigned target_roles);

/* ---- view.c ---------------------------------------------------------- */
/* Build the authoritative view of CODE from MariaDB; *json malloc'd.
 * WK_OK, WK_PERMANENT (no such dossier), WK_TRANSIENT (db error). */
wk_rc wk_view_build(wk_db *db, const char *code, char **json);
wk_rc wk_view_publish(wk_db *db, wk_rds *r, const char *code);
/* Rebuild views for all dossiers (only_missing: only those absent). */
wk_rc wk_view_rebuild_all(wk_db *db, wk_rds *r, int only_missing, long *count);
/* missing views for at most budget_ms per call (the reconciler); *more: call again */
wk_rc wk_view_rebuild_missing_slice(wk_db *db, wk_rds *r, long budget_ms, long *count, int *more);
/* republish the views of dossiers changed in the last `minutes` (after a
 * Redis data loss: existing views may be stale) */
wk_rc wk_view_refresh_recent(wk_db *db, wk_rds *r, long minutes, long *count);

/* ---- catalogue.c ----------------------------------------------------- */
wk_rc wk_catalogue_publish(wk_db *db, wk_rds *r, long long *version, long *nproc);
/* 1 when version or doc key is missing, 0 when present, -1 on redis error */
int   wk_catalogue_missing(wk_rds *r);

/* ---- ingest.c -------------------------------------------------------- */
/* Ingest one manifest (payload bytes). On success writes the view and moves
 * the journal file to journal/done/. err receives a short, personal-data
 * free reason. */
wk_rc wk_ingest(wk_db *db, wk_rds *r, const wk_conf *conf,
                const char *payload, size_t len, char *err, size_t errsz);

/* ---- journal.c ------------------------------------------------------- */
/* After a commit: journal/CODE.json (or failed/CODE.json of a replayed job)
 * -> journal/done/CODE.json, only if it holds the manifest with sha256 msha.
 * 1 moved, 0 nothing to move (or a different manifest: left), -1 error. */
int   wk_journal_done(const wk_conf *conf, const char *code, const char *msha);
/* A retry is scheduled at due_ms: set the journal file's mtime to it so the
 * orphan sweep leaves the file to the queue meanwhile. */
void  wk_journal_hold(const wk_conf *conf, const char *code, int64_t due_ms);
/* The queue dead-lettered the job: journal/CODE.json -> journal/failed/ when
 * it holds these payload bytes.  1 moved, 0 not there / different, -1 error. */
int   wk_journal_park(const wk_conf *conf, const char *code, const char *payload, size_t len);
/* Ingest journal files whose mtime is older than min_age_ms; permanent
 * failures are dead-lettered and parked in failed/ only once older than
 * journal_orphan_ms.  Returns count ingested, -1 (services unavailable). */
long  wk_journal_sweep(wk_db *db, wk_rds *r, const wk_conf *conf, long min_age_ms,
                       volatile sig_atomic_t *stop);
/* Remove journal/done/ files with mtime older than max_age_ms; count or -1 */
long  wk_journal_prune_done(const wk_conf *conf, long max_age_ms);

/* ---- seq.c ----------------------------------------------------------- */
/* Seed counters (raise only) for agencies whose ready key is missing or was
 * set under another Redis run_id (restart, failover: writes may be lost);
 * all=1: every agency.  Waits journal_grace_ms first when any was missing
 * or stale, and then sets *lost. The ready key holds the run_id. */
wk_rc wk_seq_seed(wk_db *db, wk_rds *r, const wk_conf *conf, int all,
                  volatile sig_atomic_t *stop, long *seeded, int *lost);

/* ---- queue.c --------------------------------------------------------- */
typedef struct {
    char id[64];
    char *type, *key, *payload;
    size_t payload_len;
    long attempt;
    int deleted;          /* PEL entry whose stream entry is gone */
    int rpc;              /* read from tthc:{jobs}:rpc (request/reply) */
} wk_job;

/* Both streams (rpc, jobs). 1 the jobs group was created (it was missing:
 * sets r->group_created), 0 existed, -1 error */
int   wk_queue_group_create(wk_rds *r);
/* Reads up to count entries of each stream, tthc:{jobs}:rpc first, then
 * tthc:{jobs}:stream (one XREADGROUP); id "0" (own pending) or ">"; block_ms
 * < 0: no BLOCK.  Returns number of jobs (>=0) or -1 on redis error. */
int   wk_queue_read(wk_rds *r, const char *consumer, const char *id, int count,
                    long block_ms, wk_job *jobs, int max);
/* XAUTOCLAIM idle entries; fills jobs; returns n or -1 */
int   wk_queue_autoclaim(wk_rds *r, const char *consumer, long min_idle_ms,
                         wk_job *jobs, int max, long *deliveries);
/* the same on tthc:{jobs}:rpc (jobs get rpc = 1) */
int   wk_queue_autoclaim_rpc(wk_rds *r, const char *consumer, long min_idle_ms,
                             wk_job *jobs, int max);
void  wk_job_free(wk_job *j);
int   wk_queue_ack(wk_rds *r, const char *id);        /* XACK + XDEL */
int   wk_queue_ack_job(wk_rds *r, const wk_job *j);   /* on the job's stream */
/* permanent failure: retry later or dead-letter (Lua). 1 = dead, 0 = delayed
 * (*due_ms: when), -1 error */
int   wk_queue_fail(wk_rds *r, const wk_conf *conf, const wk_job *j, const char *error,
                    int64_t *due_ms);
/* move due delayed jobs to the stream; returns count or -1 */
long  wk_queue_move_delayed(wk_rds *r, long limit);
/* reset idle time of an entry we own (JUSTID, no delivery count bump) */
int   wk_queue_touch(wk_rds *r, const char *consumer, const char *id);
/* make an entry we own immediately claimable by others */
int   wk_queue_release(wk_rds *r, const char *consumer, const char *id);
int   wk_queue_dead_add(wk_rds *r, const char *type, const char *key,
                        const char *payload, size_t plen, long attempts, const char *error);

/* ---- reconcile.c ----------------------------------------------------- */
typedef struct {
    int64_t last_view_check_ms;
    int     views_done_once;
    int     data_loss;   /* Redis lost data: next sweep may use journal_grace_ms */
} wk_recon_state;
/* One pass. force=1 skips the leader lease (tthcctl reconcile). */
wk_rc wk_reconcile_pass(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me,
                        int force, wk_recon_state *st, volatile sig_atomic_t *stop);
/* give up the leader lease if we hold it (clean shutdown) */
void  wk_reconcile_release(wk_rds *r, const char *me);

/* ---- outbox.c (delivery of the outbox to partners; docs/exchange.md) --- */
typedef struct {
    long long id, dossier_id, history_id;   /* history_id 0 when none */
    char kind[32];       /* history (TienTrinhXuLy) | dossier (HoSo) | postal_order (DonHangBuuChinh) */
    char target[16];     /* portal | postal */
    char code[64];       /* MaHoSo */
    char idem[128];      /* Idempotency-Key */
    json_t *payload;     /* the row's payload (borrowed) */
    long attempts;
} wk_outbox_msg;
/* Queue a message inside the caller's transaction (the history entry's, or the
 * one that made the postal order).  history_id 0 = none; *id_out (may be
 * NULL) = the message's id.  0 / -1 (db error). */
int  wk_outbox_enqueue(wk_db *db, long long dossier_id, long long history_id, const char *kind,
                       const char *target, const char *payload_json, long long *id_out);
/* One delivery round: claims due heads (leased), sends, records. Returns the
 * number of messages handled, -1 when MariaDB is unavailable. */
long wk_outbox_tick(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me);
/* Reconciliation: ask the portal what it holds of dossier CODE; history
 * entries it lacks are sent again (same key), a differing status gets a new
 * HoSo.  *resent = messages queued.  0 ok, -1 db error, 2 bad input (err),
 * 3 portal unavailable or its answer unusable (err). */
int  wk_outbox_check(wk_db *db, const wk_conf *conf, const char *code, int *resent, char *err,
                     size_t errsz);
/* tthcctl outbox ... (ctl_outbox.c): tthcctl exit code, 2 = usage */
int  wk_ctl_outbox(wk_db *db, wk_rds *r, const wk_conf *conf, int argc, char **argv);

/* ---- postal.c (DOMAIN X3, A6) ----------------------------------------- */
/* Render the DonHangBuuChinh of a postal_order message: 0 with *xml (malloc'd),
 * 1 permanent failure (the message goes dead), -1 transient (db). */
int  wk_postal_render(wk_db *db, const wk_outbox_msg *m, char **xml, size_t *len);
/* The operator accepted the order (2xx): validate the KetQuaDonHang reply and
 * record the shipment number, inside the transaction that marks the message
 * sent. 0 ok, 1 the reply is not acceptable (retried), -1 db error. */
int  wk_postal_on_sent(wk_db *db, const wk_outbox_msg *m, const char *reply, size_t len);

/* ---- http.c (libcurl; outbound calls of the workers) ------------------ */
typedef struct {
    long status;          /* HTTP status, 0 when no response */
    char *body;           /* NUL-terminated, malloc'd (may be NULL) */
    size_t len;
    char error[128];      /* transport error, "" if a response came */
} wk_http_resp;
void wk_http_global_init(void);
void wk_http_global_cleanup(void);
/* POST application/x-www-form-urlencoded (GET when form is NULL); 5 s
 * timeouts, no redirects, http/https only, body capped at 1 MiB.
 * 0 a response came (any status), -1 transport failure (resp->error). */
int  wk_http_request(const char *url, const char *form, wk_http_resp *resp);
void wk_http_resp_free(wk_http_resp *resp);
/* A partner call (docs/contracts-exchange.md): METHOD ("GET"/"POST") url with
 * "Authorization: Bearer TOKEN" (when token is non-empty), "Idempotency-Key"
 * (when idem is non-NULL), an XML body (POST), extra_hdr ("Name: value", or
 * NULL), a total timeout and a reply cap of max_reply bytes (a longer reply
 * fails the call: "reply too large").  0 with resp->status set when an HTTP
 * answer came (any code), -1 with resp->error on transport failure. */
int  wk_http_xml(const char *method, const char *url, const char *token, const char *idem,
                 const char *body, size_t len, const char *extra_hdr, long timeout_ms,
                 size_t max_reply, wk_http_resp *resp);
/* append "k=v" (url-encoded, '&' separated) to a growing form string */
int  wk_form_add(char **form, const char *k, const char *v);

/* ---- jwt.c (pure: JWS RS256, id_token claims) ------------------------ */
/* base64url without padding -> bytes (malloc'd). 0 / -1 */
int  wk_b64url_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);
/* 32 random bytes -> 43 chars base64url without padding */
void wk_random_b64url32(char out[44]);
typedef struct {
    json_t *header, *claims;
    const char *signing_input;   /* points into the token */
    size_t signing_input_len;
    unsigned char *sig;
    size_t sig_len;
    const char *kid;             /* from header (may be NULL) */
} wk_jws;
/* Split and decode a compact JWS; alg must be RS256.  0 / -1 (why set). */
int  wk_jws_parse(const char *token, wk_jws *out, const char **why);
void wk_jws_free(wk_jws *j);
/* EVP_PKEY * (as void *) from a JWK's n and e (base64url); NULL if bad or
 * shorter than 2048 bits.  Free with wk_pkey_free. */
void *wk_rsa_from_jwk(const char *n, const char *e);
void wk_pkey_free(void *pkey);
/* 1 the RS256 signature verifies, 0 not */
int  wk_jws_verify(const wk_jws *j, void *pkey);
/* OIDC id_token rules: iss, aud (string or array; azp when several), exp >
 * now - skew, iat <= now + skew, nonce, sub.  0 ok / -1 (why set). */
int  wk_idtoken_check(json_t *claims, const char *iss, const char *aud, const char *nonce,
                      time_t now, long skew, const char **why);

/* ---- totp.c (pure: RFC 4648 base32, RFC 6238 TOTP SHA-1) ------------- */
/* base32 (upper case, no padding) of n bytes; out needs 8*ceil(n/5)/5+2 */
void wk_base32_encode(const unsigned char *in, size_t n, char *out, size_t outsz);
/* base32 (case-insensitive, padding and spaces ignored) -> bytes; len or -1 */
int  wk_base32_decode(const char *in, unsigned char *out, size_t outsz);
/* HOTP value (RFC 4226) of key at counter, `digits` digits. -1 on error */
long wk_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits);
/* Check a 6-digit code against steps now/30 - 1 .. + 1, each step > *last
 * (no replay).  Returns 1 and sets *step to the matched step, or 0. */
int  wk_totp_check(const char *secret_b32, const char *code, time_t now,
                   long long last_step, long long *step);

/* ---- audit.c (hash-chained log; docs/contracts-identity.md "Audit") -- */
typedef struct {
    const char *event_id;        /* idempotency key or NULL */
    int64_t at_ms;               /* 0: now */
    const char *actor_kind;      /* applicant | staff | system */
    long long actor_id;          /* < 0: NULL */
    const char *actor_name, *ip;
    const char *action, *object;
    json_t *detail;              /* object or NULL ({}) */
} wk_audit_ev;
/* canonical detail JSON: compact, keys sorted, UTF-8 (malloc'd) */
char *wk_audit_canon(json_t *detail);
/* hash of one entry (actor_id "" for NULL) */
void  wk_audit_hash(const char *prev_hash, const char *id, const char *at,
                    const char *actor_kind, const char *actor_id, const char *actor_name,
                    const char *ip, const char *action, const char *object,
                    const char *canon_detail, char out[65]);
/* append inside the caller's open transaction (locks audit_head) */
wk_rc wk_audit_append_tx(wk_db *db, const wk_audit_ev *ev);
/* append in its own transaction; an event_id seen before is a no-op */
wk_rc wk_audit_append(wk_db *db, const wk_audit_ev *ev);
/* job audit.append (payload from the edge) */
wk_rc wk_audit_job(wk_db *db, const char *job_id, const char *payload, size_t len,
                   char *err, size_t errsz);
/* *n entries checked; *broken = first broken id or 0.  WK_TRANSIENT db */
wk_rc wk_audit_verify(wk_db *db, long long *n, long long *broken);

/* ---- session.c ------------------------------------------------------- */
typedef struct { const char *k, *v; } wk_kv;
/* New session tthc:sess:{sha256(sid)} of kind with the given fields (plus
 * kind, csrf, created, abs_exp), HSET + EXPIRE in MULTI.  sid and csrf
 * receive 43-char base64url values.  WK_OK / WK_TRANSIENT. */
/* ends every open session of an official (lock, role or password change) */
wk_rc wk_sessions_revoke(wk_rds *r, long long official_id, long *count);
wk_rc wk_session_create(wk_rds *r, const wk_conf *conf, const char *kind,
                        const wk_kv *fields, int n, char sid[44], char csrf[44]);

/* ---- rpc.c (request/reply jobs) -------------------------------------- */
typedef struct {
    wk_db *db;
    wk_rds *r;
    wk_conf *conf;
    const char *reqid;
    const char *type;
    char ip[64];
} wk_rpc;
/* base64(nonce || secretbox(msg)) (malloc'd) / its inverse (NULL if bad) */
char *wk_seal(const unsigned char key[32], const char *msg, size_t len);
char *wk_unseal(const unsigned char key[32], const char *b64, size_t len, size_t *outlen);
/* Runs one RPC job (unseal, deadline, dispatch, sealed reply).  Never
 * fails the job: the caller acks it afterwards. */
void  wk_rpc_process(wk_db *db, wk_rds *r, wk_conf *conf, const wk_job *j);
/* reply helpers for the handlers (new references) */
json_t *wk_rpc_error(const char *code, const char *field);
json_t *wk_rpc_db_error(wk_rpc *c, const char *what);   /* SERVICE_UNAVAILABLE / INTERNAL_ERROR */
/* string member or NULL */
const char *wk_json_str(json_t *o, const char *k);

/* handlers: auth_eid.c, auth_staff.c, accounts.c */
json_t *wk_rpc_eid_exchange(wk_rpc *c, json_t *req);
json_t *wk_rpc_staff_signin(wk_rpc *c, json_t *req);
json_t *wk_rpc_accounts_list(wk_rpc *c, json_t *req);
json_t *wk_rpc_accounts_create(wk_rpc *c, json_t *req);
json_t *wk_rpc_accounts_update(wk_rpc *c, json_t *req);
/* handlers: workflow.c, process.c (issue 4; docs/contracts-workflow.md) */
json_t *wk_rpc_staff_action(wk_rpc *c, json_t *req);
json_t *wk_rpc_staff_batch(wk_rpc *c, json_t *req);
json_t *wk_rpc_me_action(wk_rpc *c, json_t *req);
json_t *wk_rpc_staff_register(wk_rpc *c, json_t *req);
json_t *wk_rpc_process_get(wk_rpc *c, json_t *req);
json_t *wk_rpc_process_put(wk_rpc *c, json_t *req);

/* ---- workflow (workflow.c, wfview.c, inbox.c) ------------------------ */
/* the outbox record of a history entry (inside the caller's transaction) */
int    wk_outbox_add(wk_db *db, long long history_id);
/* the "workflow" member of the private view (null when not found) */
json_t *wk_workflow_view(wk_db *db, const char *code, int staff);
/* the warner: one pass; dossiers looked at, or -1 */
long   wk_warn_tick(wk_db *db, wk_rds *r);
/* the inbox read model of one dossier, and of all (tthcctl inbox rebuild) */
wk_rc  wk_inbox_place(wk_db *db, wk_rds *r, const char *code);
wk_rc  wk_inbox_rebuild(wk_db *db, wk_rds *r, long *count);
/* read models whose refresh failed after a commit: remember / retry now */
void   wk_refresh_later(const char *code);
long   wk_refresh_retry(wk_db *db, wk_rds *r);
/* tthcctl setting|inbox|warn (ctl_flow.c); r NULL: Redis unavailable */
int    wk_ctl_flow(wk_db *db, wk_rds *r, const char *cmd, int argc, char **argv);

/* ---- officials.c (shared by accounts RPCs and tthcctl user) ---------- */
#define WK_PASSWORD_MIN 12
int   wk_username_valid(const char *u);
/* argon2id (crypto_pwhash_str, INTERACTIVE) into out[128]. 0 / -1 */
int   wk_password_hash(const char *pw, char out[128]);
/* roles JSON array -> mask (0 if empty); -1 unknown name / not strings */
long  wk_roles_from_json(json_t *arr);
json_t *wk_roles_to_json(unsigned roles);
typedef struct {
    long long id;
    char username[72], name[256], pwhash[160];
    unsigned roles;
    long long agency_id;         /* 0 none */
    char agency[40];             /* code, "" none */
    long long dept;              /* 0 none */
    int locked;                  /* administrative lock */
    int locked_now;              /* locked_until > now */
    char locked_until[32];       /* "" none, else "YYYY-MM-DD HH:MM:SS" UTC */
    long failed;
    char totp[80];               /* "" off */
    long long totp_last;         /* -1 none */
} wk_official;
/* by username (id 0) or by id: 1 found, 0 none, -1 db error */
int   wk_official_load(wk_db *db, const char *username, long long id, wk_official *o);
/* agency code -> id: 1 found, 0 no such agency, -1 db error */
int   wk_agency_id(wk_db *db, const char *code, long long *id);
/* department belongs to agency: 1 yes, 0 no, -1 db error */
int   wk_department_in(wk_db *db, long long dept, long long agency_id);
/* the actor named by the edge in an RPC ({"actor":{"uid":..}}): its id, 0
 * if none; and the official fresh from MariaDB (must exist, not locked):
 * NULL ok, or an error reply */
long long wk_rpc_actor_id(json_t *req);
json_t *wk_rpc_actor_official(wk_rpc *c, json_t *req, wk_official *o);

/* ---- privview.c (read models of issue 3) ----------------------------- */
/* tthc:d:{CODE}:private from MariaDB (WK_PERMANENT: no such dossier) */
wk_rc wk_private_publish(wk_db *db, wk_rds *r, const char *code);
/* tthc:a:{ID}:dossiers, newest first */
wk_rc wk_applicant_publish(wk_db *db, wk_rds *r, long long applicant_id);
wk_rc wk_applicant_put(wk_db *db, wk_rds *r, long long applicant_id, const char *code);
int   wk_applicant_listed(wk_rds *r, long long applicant_id);
/* every applicant's list (only_missing: only absent keys) */
wk_rc wk_applicant_rebuild_all(wk_db *db, wk_rds *r, int only_missing, long *count);

/* ---- ctl_ident.c (tthcctl user ..., tthcctl audit ...) --------------- */
int wk_ctl_user(wk_db *db, wk_rds *r, int argc, char **argv);    /* tthcctl exit code */
int wk_ctl_audit(wk_db *db, int argc, char **argv);
int wk_ctl_rpc(wk_rds *r, wk_conf *conf, const char *type);

/* ---- ctl_time.c (tthcctl deadline, elapsed, clock) -------------------- */
/* 1 when cmd is one of them; wk_ctl_time_noconf: runnable without tthc.conf
 * (deadline/elapsed with --calendar FILE) */
int wk_ctl_time_cmd(const char *cmd);
int wk_ctl_time_noconf(const char *cmd, int argc, char **argv);
/* tthcctl exit code; db and r may be NULL when wk_ctl_time_noconf() said so */
int wk_ctl_time(wk_db *db, wk_rds *r, const char *cmd, int argc, char **argv);

/* ---- migrate.c ------------------------------------------------------- */
/* 0 ok, 1 error, 4 checksum mismatch */
int wk_migrate(wk_db *db, const char *dir);
int wk_run_sql_file(wk_db *db, const char *file);

/* ---- xmlsafe.c (pure: hostile-input-safe XML parse + XSD validation) -- */
/* Every incoming exchange message goes through this before anything else
 * (issue 5, exchange/xsd/).  Refuses len > max_len (and empty input), any
 * DOCTYPE (stopped at the declaration, so no entity is ever declared:
 * XXE and "billion laughs"), network access, nesting deeper than
 * WK_XML_MAX_DEPTH, then validates against the XSD at xsd_path (compiled
 * once per path and cached).  0: *out is the document (xmlFreeDoc it);
 * -1: refused, *out NULL, a short reason in err (element names, line
 * numbers and error classes only, never values).  libxml2 never writes to
 * stderr from here.  Not thread-safe (one worker process, one thread). */
#define WK_XML_MAX_DEPTH 64
/* The exchange's shared helpers (docs/contracts-exchange.md):
 * the contract's error code of a wk_xml_parse_valid reason (XML_MALFORMED,
 * XML_INVALID, XML_FORBIDDEN, REQUEST_TOO_LARGE; INTERNAL_ERROR for our own
 * side: a missing XSD); the path of an XSD of the installation (xsd_dir);
 * NgayGio: yyyyMMddHHmmss in Asia/Ho_Chi_Minh (UTC+7, no DST) from and to
 * UTC (the parse refuses non-dates such as 31 February: -1). */
const char *wk_xml_error_code(const char *why);
void wk_xsd_path(const wk_conf *conf, const char *name, char *out, size_t outsz);
void wk_ngaygio(time_t t, char out[16]);
int  wk_ngaygio_parse(const char *s, time_t *t);
int  wk_xml_parse_valid(const char *buf, size_t len, const char *xsd_path,
                        size_t max_len, xmlDocPtr *out, char *err, size_t errsz);
/* compiles (and caches) the XSD at xsd_path: 0 ok, -1 with err */
int  wk_xml_schema_check(const char *xsd_path, char *err, size_t errsz);
/* frees the cached schemas (exit, tests) */
void wk_xml_cleanup(void);

/* ---- postal.c ---- (issue 5 item 4; docs/exchange-postal.md) */
/* The desk confirmed the result (X3 hook of confirm_result, inside its
 * transaction): a dossier whose result channel is 'postal' gets a delivery
 * order queued (without an address or phone: result_channel -> 'desk').
 * 0 / -1 (db error). */
int     wk_postal_result_ready(wk_db *db, long long dossier_id, time_t now);
/* The applicant asked for postal pickup of the paper dossier (ingest, in
 * its transaction): a pickup order queued once.  0 / -1 (db error). */
int     wk_postal_pickup(wk_db *db, long long dossier_id, time_t now);
/* RPC partner.postal.tracking (edge: POST /api/v1/partners/postal/tracking) */
json_t *wk_rpc_postal_tracking(wk_rpc *c, json_t *req);
/* the "postal" member of the private view: the dossier's orders */
json_t *wk_postal_view(wk_db *db, long long dossier_id);

/* ---- payment.c ---- (issue 5 item 5, DOMAIN A8; docs/exchange-payment.md) */
/* The desk accepts a dossier (A8 hook of accept, inside its transaction): an
 * online dossier whose procedure has fees (> 0) and an active beneficiary
 * account (agency_accounts) owes them: total, lines and account are frozen
 * on the dossier.  1 owes (*amount = VND), 0 not, -1 db error. */
int     wk_payment_require(wk_db *db, long long dossier_id, long long *amount);
/* "1.234.000 đồng" */
void    wk_payment_amount_text(long long amount, char *out, size_t outsz);
/* RPC me.payment.start (edge: POST /api/v1/me/dossiers/{code}/payment) */
json_t *wk_rpc_me_payment_start(wk_rpc *c, json_t *req);
/* RPC partner.payment.voucher (edge: POST /api/v1/partners/payment/voucher) */
json_t *wk_rpc_partner_payment_voucher(wk_rpc *c, json_t *req);
/* the "payment" member of the private view (null when nothing is owed online) */
json_t *wk_payment_view(wk_db *db, long long dossier_id);

/* ---- catimport.c (catalogue import, DOMAIN X2; docs/exchange-catalogue.md) ---- */
#define WK_K_CAT_PULL       "tthc:{catalogue}:pull"   /* lease of the scheduled pull */
#define WK_CATIMPORT_MAX    (16u * 1024 * 1024)       /* an export larger than this is refused */
#define WK_CAT_CH_ONLINE    0x1u                      /* result_channels of KenhThucHien 2 */
#define WK_CAT_CH_DESK      0x2u                      /* KenhThucHien 1 */
#define WK_CAT_CH_POSTAL    0x4u                      /* KenhThucHien 3 */
typedef struct { char *code, *name; long long id; } wk_cat_named;   /* agency, field */
typedef struct { char *code, *name; int required, position; long originals, copies; /* -1 none */ } wk_cat_comp;
typedef struct { char *name; long long amount; } wk_cat_fee;
typedef struct { char *code, *name, *kind; int required, position; } wk_cat_form;
typedef struct {
    char *code, *name;
    int field, agency;        /* indexes into the doc's fields / agencies (agency: the first listed) */
    int full, active;         /* MucDoTrucTuyen 1; TrangThai 1 */
    long amount;              /* processing time: KenhThucHien 1's entry, else the first */
    int hours;                /* DonViThoiGian 2 */
    unsigned channels;        /* WK_CAT_CH_* of every ThoiHanGiaiQuyet listed */
    int line;
    wk_cat_comp *comps; int ncomps, capcomps;
    wk_cat_fee *fees; int nfees, capfees;
    wk_cat_form *forms; int nforms, capforms;
} wk_cat_proc;
typedef struct {
    wk_cat_named *agencies; int nagencies, capagencies, agency_conflicts;
    wk_cat_named *fields; int nfields, capfields, field_conflicts;
    wk_cat_proc *procs; int nprocs, capprocs;
} wk_cat_doc;
typedef struct {
    char source[8], sha256[65];
    long long size, import_id, version;   /* version: catalogue published after it, 0 none */
    long agencies_added, agencies_updated, agencies_unchanged;
    long fields_added, fields_updated, fields_unchanged;
    long procedures_added, procedures_updated, procedures_unchanged, procedures_retired, procedures_skipped;
    long changes;                         /* added + updated + retired, all kinds */
    int dry_run;
    wk_rc publish;                        /* WK_OK, or the publish after the commit failed */
} wk_catimport_result;
/* pure: parse + validate (wk_xml_parse_valid, XSD xsd_path) an export into *d
 * (free with wk_catimport_doc_free).  0, or -1 with "CLASS: reason" in err
 * (XML_MALFORMED, XML_INVALID, XML_FORBIDDEN, TOO_LARGE, CATALOGUE_INVALID). */
int   wk_catimport_parse(const char *buf, size_t len, const char *xsd_path, size_t max_len,
                         wk_cat_doc *d, char *err, size_t errsz);
void  wk_catimport_doc_free(wk_cat_doc *d);
/* "online,desk,postal" order (the SET of procedures.result_channels) */
void  wk_catimport_channels(unsigned mask, char out[32]);
/* apply an export in one transaction (dry_run: rolled back), record it
 * (catalogue_imports, audit), republish the catalogue when anything changed
 * (r NULL: later).  source "file" | "pull".  WK_PERMANENT: refused, nothing
 * written, "CLASS: reason" in err; WK_TRANSIENT: MariaDB unavailable/busy. */
wk_rc wk_catimport_buf(wk_db *db, wk_rds *r, const wk_conf *conf, const char *buf, size_t len,
                       const char *source, const char *actor, int dry_run,
                       wk_catimport_result *res, char *err, size_t errsz);
wk_rc wk_catimport_file(wk_db *db, wk_rds *r, const wk_conf *conf, const char *path, const char *actor,
                        int dry_run, wk_catimport_result *res, char *err, size_t errsz);
/* GET {portal_url}/dvc/v1/thutuc, If-None-Match: the last import's sha256;
 * *unchanged = 1 on 304 (or the same bytes again); 200 -> import.  Transport
 * errors, 408, 429, 5xx: WK_TRANSIENT; other statuses, refused exports: WK_PERMANENT */
wk_rc wk_catimport_pull(wk_db *db, wk_rds *r, const wk_conf *conf, const char *actor, int *unchanged,
                        wk_catimport_result *res, char *err, size_t errsz);
/* the workers' scheduled pull: when catalogue_pull_interval_s > 0 and this
 * worker takes the lease (SET WK_K_CAT_PULL me NX PX interval), pull; logs */
void  wk_catimport_tick(wk_db *db, wk_rds *r, const wk_conf *conf, const char *me);
/* ---- end catimport.c ---- */

#endif
