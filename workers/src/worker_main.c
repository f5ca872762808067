/* worker_main.c - tthc-worker: consumes tthc:{jobs}:rpc (request/reply)
 * and tthc:{jobs}:stream (group workers on both) and runs the periodic
 * duties (autoclaim, delayed mover, reconciler). */
#include "wk.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#define BLOCK_MS     500   /* also the longest pause of the duties (warner, outbox) when idle */
/* one entry of each stream per read: a burst of requests spreads over all
 * workers instead of queueing behind one (a read costs ~50 us, a job ms) */
#define READ_COUNT   1
#define MAX_BATCH    64

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct {
    wk_conf conf;
    wk_db db;
    wk_rds r;
    char me[320];
    int once;
    int catalogue_done;
    int64_t next_claim, next_move, next_recon, next_warn;
    int64_t next_catpull;     /* scheduled catalogue pull (catimport.c) */
    int64_t next_outbox;   /* X1/X3: outbox delivery (outbox.c) */
    int outbox_busy;       /* the last delivery round had work: wait less for jobs */
    wk_recon_state rs;
    long processed;
} worker;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: tthc-worker [-c FILE] [--once] [--pidfile FILE] [--log FILE]\n"
            "  -c, --conf FILE   worker config (default: $TTHC_CONF)\n"
            "  --once            process what is available, run one reconcile pass, exit\n"
            "  --pidfile FILE    write the pid to FILE (removed on exit)\n"
            "  --log FILE        append log lines to FILE (default: stderr)\n"
            "  -h, --help        this help\n"
            "exit: 0 ok, 1 runtime error, 2 usage/config error, 3 services unavailable (--once)\n");
}

/* ack until it works (the job is done: never re-run it needlessly) */
static void ack_job(worker *w, const wk_job *j)
{
    long backoff = 200;
    while (wk_queue_ack_job(&w->r, j) != 0) {
        wk_warn("queue", "ack failed, retrying id=%s", j->id);
        if (wk_sleep_interruptible(backoff, &g_stop))
            return;   /* still pending: the ingest is idempotent */
        backoff = backoff < 5000 ? backoff * 2 : 5000;
    }
}

static void fail_job(worker *w, const wk_job *j, const char *err)
{
    long backoff = 200;
    int r;
    int64_t due = 0;
    while ((r = wk_queue_fail(&w->r, &w->conf, j, err, &due)) < 0) {
        if (wk_sleep_interruptible(backoff, &g_stop))
            return;
        backoff = backoff < 5000 ? backoff * 2 : 5000;
    }
    /* the journal file follows its job: held until the retry is due (the
     * orphan sweep leaves it alone), parked in failed/ once dead-lettered */
    if (j->type && !strcmp(j->type, WK_JOB_SUBMITTED) && j->key) {
        if (r == 1)
            wk_journal_park(&w->conf, j->key, j->payload, j->payload_len);
        else
            wk_journal_hold(&w->conf, j->key, due);
    }
    if (r == 1)
        wk_error("queue", "job dead-lettered id=%s type=%s key=%s attempts=%ld error=\"%s\"",
                 j->id, j->type ? j->type : "-", j->key ? j->key : "-", j->attempt + 1, err);
    else
        wk_warn("queue", "job failed, retry scheduled id=%s type=%s key=%s attempt=%ld error=\"%s\"",
                j->id, j->type ? j->type : "-", j->key ? j->key : "-", j->attempt + 1, err);
}

/* returns 0 when the job left our hands (acked, failed), 1 when it is still
 * pending with us (stop requested during an outage) */
static int process_job(worker *w, wk_job *j, long deliveries)
{
    if (j->deleted) {
        ack_job(w, j);
        return 0;
    }
    if (j->rpc) {
        /* request/reply: never retried nor dead-lettered (a failure is a
         * reply); acked whatever happened */
        wk_rpc_process(&w->db, &w->r, &w->conf, j);
        ack_job(w, j);
        w->processed++;
        return 0;
    }
    if (j->type == NULL || j->payload == NULL) {
        fail_job(w, j, "malformed job entry");
        return 0;
    }
    if (deliveries > w->conf.max_attempts + 2) {
        fail_job(w, j, "delivered too many times without completing");
        return 0;
    }
    long backoff = w->conf.backoff_base_ms > 0 ? w->conf.backoff_base_ms : 500;
    int64_t since = wk_now_ms(), last_touch = since;
    for (;;) {
        char err[256] = "";
        wk_rc rc;
        int64_t t0 = wk_now_ms();
        if (strcmp(j->type, WK_JOB_SUBMITTED) == 0) {
            rc = wk_ingest(&w->db, &w->r, &w->conf, j->payload, j->payload_len, err, sizeof(err));
        } else if (strcmp(j->type, WK_JOB_AUDIT) == 0) {
            rc = wk_audit_job(&w->db, j->id, j->payload, j->payload_len, err, sizeof(err));
        } else {
            snprintf(err, sizeof(err), "unknown job type");
            rc = WK_PERMANENT;
        }
        if (rc == WK_OK) {
            ack_job(w, j);
            w->processed++;
            wk_debug("queue", "job done id=%s key=%s ms=%lld", j->id, j->key ? j->key : "-",
                     (long long)(wk_now_ms() - t0));
            return 0;
        }
        if (rc == WK_PERMANENT) {
            fail_job(w, j, err);
            return 0;
        }
        /* transient: keep the job pending, wait for the service, retry it */
        wk_warn("queue", "transient failure, will retry id=%s key=%s error=\"%s\" backoff_ms=%ld",
                j->id, j->key ? j->key : "-", err, backoff);
        if (w->once && wk_now_ms() - since > 30000)
            return 1;
        /* wait, keeping ownership of the entry (others would only wait too):
         * XCLAIM JUSTID resets its idle time without counting a delivery */
        long left = wk_jitter(backoff, 20);
        while (left > 0) {
            long step = w->conf.visibility_ms / 3;
            if (step > left)
                step = left;
            if (wk_sleep_interruptible(step, &g_stop))
                return 1;
            left -= step;
            if (wk_now_ms() - last_touch >= w->conf.visibility_ms / 3) {
                wk_queue_touch(&w->r, w->me, j->id);
                last_touch = wk_now_ms();
            }
        }
        backoff = backoff < 5000 ? backoff * 2 : 10000;
    }
}

static void run_batch(worker *w, wk_job *jobs, int n, const long *deliveries)
{
    for (int i = 0; i < n; i++) {
        if (g_stop && !jobs[i].rpc) {
            wk_queue_release(&w->r, w->me, jobs[i].id);
        } else if (process_job(w, &jobs[i], deliveries ? deliveries[i] : 0) == 1) {
            wk_queue_release(&w->r, w->me, jobs[i].id);
            if (w->once)
                g_stop = 1;
        }
        wk_job_free(&jobs[i]);
    }
}

static int duties(worker *w, int force)
{
    int64_t now = wk_now_ms();
    int work = 0;
    if (!w->catalogue_done) {
        long long ver = 0;
        long np = 0;
        if (wk_db_ensure(&w->db) == 0
            && wk_catalogue_publish(&w->db, &w->r, &ver, &np) == WK_OK) {
            wk_info("catalogue", "published version=%lld procedures=%ld", ver, np);
            w->catalogue_done = 1;
        }
    }
    if (force || now >= w->next_claim) {
        wk_job jobs[MAX_BATCH];
        long del[MAX_BATCH];
        int n = wk_queue_autoclaim(&w->r, w->me, w->conf.visibility_ms, jobs, MAX_BATCH, del);
        if (n > 0) {
            wk_info("queue", "claimed idle jobs count=%d", n);
            run_batch(w, jobs, n, del);
            work += n;
        }
        /* requests of a consumer that died: past their deadline by now
         * (rpc_claim_idle_ms > the 10 s deadline), so only cleaned up, never
         * run twice (a code exchange is not idempotent) */
        n = wk_queue_autoclaim_rpc(&w->r, w->me, w->conf.rpc_claim_idle_ms, jobs, MAX_BATCH);
        if (n > 0) {
            wk_info("queue", "claimed idle requests count=%d", n);
            run_batch(w, jobs, n, NULL);
            work += n;
        }
        w->next_claim = now + w->conf.visibility_ms / 2;
    }
    if (force || now >= w->next_move) {
        long m = wk_queue_move_delayed(&w->r, 100);
        if (m > 0) {
            wk_info("queue", "delayed jobs due, moved count=%ld", m);
            work += (int)m;
        }
        w->next_move = now + 1000;
    }
    if ((force || now >= w->next_warn) && !g_stop) {
        /* T9: mark dossiers turning yellow or red, nobody has to look */
        wk_refresh_retry(&w->db, &w->r);
        long n = wk_warn_tick(&w->db, &w->r);
        if (n > 0)
            work += (int)n;
        w->next_warn = now + 1000;
    }
    if ((force || now >= w->next_outbox) && !g_stop) {
        /* X1, X3: deliver the outbox to the partners (any worker, leased per message) */
        long n = wk_outbox_tick(&w->db, &w->r, &w->conf, w->me);
        if (n > 0)
            work += (int)n;
        w->outbox_busy = n > 0;
        w->next_outbox = wk_now_ms() + (n > 0 ? 20 : 250);
    }
    if (w->conf.catalogue_pull_interval_s > 0 && now >= w->next_catpull && !g_stop && !w->once) {
        /* X2: one worker per interval pulls the portal's catalogue (lease in catimport.c) */
        wk_catimport_tick(&w->db, &w->r, &w->conf, w->me);
        w->next_catpull = wk_now_ms() + w->conf.catalogue_pull_interval_s * 1000;
    }
    if ((force || now >= w->next_recon) && !g_stop) {
        wk_rc rc = wk_reconcile_pass(&w->db, &w->r, &w->conf, w->me, 0, &w->rs, &g_stop);
        if (rc != WK_OK)
            wk_warn("reconcile", "pass incomplete, services unavailable");
        w->next_recon = wk_now_ms() + w->conf.reconcile_interval_ms;
    }
    return work;
}

static int connect_redis(worker *w)
{
    long backoff = 200;
    while (!g_stop) {
        if (wk_rds_ensure(&w->r) == 0 && wk_queue_group_create(&w->r) >= 0)
            return 0;
        wk_warn("redis", "unavailable, retrying backoff_ms=%ld", backoff);
        if (w->once && backoff >= 6400)
            return -1;
        wk_sleep_interruptible(backoff, &g_stop);
        backoff = backoff < 5000 ? backoff * 2 : 5000;
    }
    return -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "conf", required_argument, NULL, 'c' },
        { "once", no_argument, NULL, 'o' },
        { "pidfile", required_argument, NULL, 'p' },
        { "log", required_argument, NULL, 'l' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf_file = NULL, *pidfile = NULL, *logfile = NULL;
    int once = 0, ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf_file = optarg; break;
        case 'o': once = 1; break;
        case 'p': pidfile = optarg; break;
        case 'l': logfile = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    static worker w;
    char err[512];
    if (wk_conf_load(&w.conf, conf_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "tthc-worker: %s\n", err);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "tthc-worker: libsodium init failed\n");
        return 1;
    }
    wk_log_init(logfile, w.conf.log_level);
    wk_http_global_init();
    if (wk_conf_load_secrets(&w.conf, err, sizeof(err)) != 0)
        wk_warn("worker", "secrets not loaded (requests cannot be answered until they are) error=\"%s\"", err);
    w.once = once;
    snprintf(w.me, sizeof(w.me), "%s:%ld", wk_hostname(), (long)getpid());
    wk_db_init(&w.db, &w.conf);
    wk_rds_init(&w.r, &w.conf, BLOCK_MS + 8000);   /* > BLOCK: see ENGINEERING.md */

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (pidfile) {
        FILE *f = fopen(pidfile, "w");
        if (f == NULL) {
            fprintf(stderr, "tthc-worker: cannot write pidfile %s: %s\n", pidfile, strerror(errno));
            return 1;
        }
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
    wk_info("worker", "starting consumer=%s once=%d visibility_ms=%ld max_attempts=%ld",
            w.me, once, w.conf.visibility_ms, w.conf.max_attempts);
    int exit_code = 0;
    if (connect_redis(&w) != 0) {
        exit_code = g_stop ? 0 : 3;
        goto out;
    }
    /* own pending entries first (a restart with the same name), then idle
     * entries of dead consumers, then new ones */
    wk_job jobs[MAX_BATCH];
    while (!g_stop) {
        int n = wk_queue_read(&w.r, w.me, "0", READ_COUNT, -1, jobs, MAX_BATCH);
        if (n <= 0)
            break;
        run_batch(&w, jobs, n, NULL);
    }
    duties(&w, 1);
    long backoff = 200;
    while (!g_stop) {
        int work = 0;
        if (!once)
            duties(&w, 0);
        /* while the outbox has work, look for jobs without waiting long, then deliver on */
        int n = wk_queue_read(&w.r, w.me, ">", READ_COUNT, once ? -1 : w.outbox_busy ? 20 : BLOCK_MS, jobs,
                              MAX_BATCH);
        if (n < 0) {
            if (g_stop)
                break;
            wk_warn("redis", "read failed, retrying backoff_ms=%ld", backoff);
            if (once && backoff >= 6400) {
                exit_code = 3;
                break;
            }
            wk_sleep_interruptible(backoff, &g_stop);
            backoff = backoff < 5000 ? backoff * 2 : 5000;
            continue;
        }
        backoff = 200;
        run_batch(&w, jobs, n, NULL);
        work += n;
        if (once && work == 0) {
            /* one more look at due delayed jobs and idle ones before leaving */
            if (duties(&w, 1) == 0)
                break;
        }
    }
out:
    wk_info("worker", "stopping consumer=%s processed=%ld", w.me, w.processed);
    if (w.r.c)
        wk_reconcile_release(&w.r, w.me);
    wk_rds_close(&w.r);
    wk_db_close(&w.db);
    mysql_library_end();
    wk_http_global_cleanup();
    if (pidfile)
        unlink(pidfile);
    return exit_code;
}
