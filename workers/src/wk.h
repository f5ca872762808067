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
} wk_conf;

/* Load FILE (or $TTHC_CONF when file is NULL). Returns 0, or -1 with a
 * message in err. */
int wk_conf_load(wk_conf *c, const char *file, char *err, size_t errsz);

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

/* ---- common/ wrappers (cm.c): the only file that calls common/ ------- */
/* local date of t in Asia/Ho_Chi_Minh as "YYMMDD" */
int  wk_local_yymmdd(time_t t, char out[7]);
int  wk_fmt_local(time_t t, char *out, size_t outsz);
int  wk_parse_utc(const char *s, size_t len, time_t *t);
int  wk_fold(const char *in, size_t len, char *out, size_t outsz);
int  wk_mask_name(const char *in, char *out, size_t outsz);
int  wk_mask_id(const char *in, char *out, size_t outsz);
const char *wk_status_label(int st);
/* parse a dossier code: agency (<=31 chars), date YYMMDD, seq. 0 ok / -1 */
int  wk_code_parse(const char *code, char agency[32], char date[7], int *seq);
int  wk_agency_code_valid(const char *code);

/* ---- view.c ---------------------------------------------------------- */
/* Build the authoritative view of CODE from MariaDB; *json malloc'd.
 * WK_OK, WK_PERMANENT (no such dossier), WK_TRANSIENT (db error). */
wk_rc wk_view_build(wk_db *db, const char *code, char **json);
wk_rc wk_view_publish(wk_db *db, wk_rds *r, const char *code);
/* Rebuild views for all dossiers (only_missing: only those absent). */
wk_rc wk_view_rebuild_all(wk_db *db, wk_rds *r, int only_missing, long *count);

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
} wk_job;

/* 1 created (it was missing: sets r->group_created), 0 existed, -1 error */
int   wk_queue_group_create(wk_rds *r);
/* Reads up to count entries; id "0" (own pending) or ">"; block_ms < 0: no BLOCK.
 * Returns number of jobs (>=0) or -1 on redis error. */
int   wk_queue_read(wk_rds *r, const char *consumer, const char *id, int count,
                    long block_ms, wk_job *jobs, int max);
/* XAUTOCLAIM idle entries; fills jobs; returns n or -1 */
int   wk_queue_autoclaim(wk_rds *r, const char *consumer, long min_idle_ms,
                         wk_job *jobs, int max, long *deliveries);
void  wk_job_free(wk_job *j);
int   wk_queue_ack(wk_rds *r, const char *id);        /* XACK + XDEL */
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

/* ---- migrate.c ------------------------------------------------------- */
/* 0 ok, 1 error, 4 checksum mismatch */
int wk_migrate(wk_db *db, const char *dir);
int wk_run_sql_file(wk_db *db, const char *file);

#endif
