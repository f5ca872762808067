/* ctl_main.c - tthcctl, the operator CLI. */
#include "wk.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

enum { EX_OK = 0, EX_ERR = 1, EX_USAGE = 2, EX_UNAVAIL = 3, EX_CHECKSUM = 4 };

static volatile sig_atomic_t g_stop;

static const char LUA_REPLAY[] =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])\n"
    "if #e == 0 then return 0 end\n"
    "local f = e[1][2]\n"
    "local m = {}\n"
    "for i = 1, #f, 2 do m[f[i]] = f[i + 1] end\n"
    "if not m['type'] or not m['payload'] then return -1 end\n"
    "redis.call('XADD', KEYS[2], '*', 'type', m['type'], 'key', m['key'] or '',\n"
    "           'payload', m['payload'], 'attempt', '0')\n"
    "redis.call('XDEL', KEYS[1], ARGV[1])\n"
    "return 1\n";

static void usage(FILE *f)
{
    fprintf(f,
        "usage: tthcctl [-c FILE] COMMAND [ARGS]\n"
        "  -c FILE                config file (default: $TTHC_CONF)\n"
        "commands:\n"
        "  migrate [--dir DIR]    apply sql/migrations/NNNN_*.sql not yet applied (default DIR sql/migrations)\n"
        "  seed FILE              run an SQL seed file (e.g. sql/seed/demo.sql)\n"
        "  publish [--all]        publish the catalogue and the missing status views and lists (--all: every one)\n"
        "  reconcile              run one reconciler pass now\n"
        "  seq-seed               seed the per-agency sequence counters\n"
        "  dead list              list dead-lettered jobs (no payloads)\n"
        "  dead replay ID|--all   move dead jobs back to the stream (attempt 0)\n"
        "  jobs                   print: stream=N pending=N delayed=N dead=N\n"
        "  ingest FILE            ingest one manifest file now\n"
        "  wait-ready [--timeout S]  wait until MariaDB and Redis answer (default 30 s)\n"
        "  user create --username U --name NAME --role ROLE[,ROLE] [--agency CODE] [--department ID]\n"
        "              [--password-file F]   create an official (password from F or stdin, never argv)\n"
        "  user list | passwd U [--password-file F] | lock U | unlock U | totp U [--off]\n"
        "  audit verify           check the audit hash chain: \"ok N entries\" or \"broken at id N\" (exit 1)\n"
        "  audit list [--limit N] the last N audit entries (default 50)\n"
        "  rpc TYPE               send a request/reply job (JSON on stdin), print the reply\n"
        "  deadline --from INSTANT (--days N | --hours N | --minutes N) [--receipt] [--calendar FILE]\n"
        "                         the deadline in working time (T1/T2), e.g. 2026-12-01T15:30:00+07:00\n"
        "  elapsed --from INSTANT --to INSTANT [--calendar FILE]   working minutes between\n"
        "  clock show | set MS | advance DURATION | reset   the test clock (clock = redis only)\n"
        "  setting get NAME | set NAME VALUE   deployment settings (supplement_mode restart|resume)\n"
        "  inbox rebuild | sync CODE   rebuild the officials' inbox read model from MariaDB\n"
        "  outbox stats | list [--state S] [--dossier CODE] [--limit N] | show ID\n"
        "  outbox replay ID|--all-dead [--rerender] | check CODE|--since HOURS | deliver\n"
        "                            the partners' outbox: dead letters, replay, reconciliation\n"
        "  warn tick              one pass of the T9 warner now\n"
        "  catalogue import FILE [--dry-run] | pull   import the national procedure catalogue (DanhSachThuTuc)\n"
        "exit: 0 ok, 1 error, 2 usage, 3 MariaDB/Redis unavailable, 4 applied migration changed\n");
}

typedef struct {
    wk_conf conf;
    wk_db db;
    wk_rds r;
} ctl;

static int need_db(ctl *c)
{
    if (wk_db_connect(&c->db) != 0) {
        fprintf(stderr, "tthcctl: mariadb unavailable: %s\n", c->db.last_error);
        return -1;
    }
    return 0;
}

static int need_rds(ctl *c)
{
    if (wk_rds_connect(&c->r) != 0) {
        fprintf(stderr, "tthcctl: redis unavailable at %s\n", c->conf.redis);
        return -1;
    }
    return 0;
}

static int rc_exit(wk_rc rc)
{
    return rc == WK_OK ? EX_OK : rc == WK_TRANSIENT ? EX_UNAVAIL : EX_ERR;
}

static int cmd_publish(ctl *c, int all)
{
    if (need_db(c) || need_rds(c))
        return EX_UNAVAIL;
    long long ver = 0;
    long np = 0, nv = 0;
    long na = 0;
    wk_rc rc = wk_catalogue_publish(&c->db, &c->r, &ver, &np);
    if (rc == WK_OK)
        rc = wk_view_rebuild_all(&c->db, &c->r, !all, &nv);
    if (rc == WK_OK)
        rc = wk_applicant_rebuild_all(&c->db, &c->r, !all, &na);
    if (rc != WK_OK) {
        fprintf(stderr, "tthcctl: publish failed\n");
        return rc_exit(rc);
    }
    printf("catalogue version=%lld procedures=%ld views=%ld applicant_lists=%ld\n", ver, np, nv, na);
    return EX_OK;
}

static long long int_reply(ctl *c, const char *fmt, const char *a, const char *b)
{
    redisReply *rep = b ? wk_rds_cmdf(&c->r, fmt, a, b) : wk_rds_cmdf(&c->r, fmt, a);
    long long v = -1;
    if (rep && rep->type == REDIS_REPLY_INTEGER)
        v = rep->integer;
    else if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements > 0
             && rep->element[0]->type == REDIS_REPLY_INTEGER)
        v = rep->element[0]->integer;          /* XPENDING summary */
    else if (rep && rep->type == REDIS_REPLY_ERROR)
        v = 0;                                 /* NOGROUP: nothing pending */
    if (rep)
        freeReplyObject(rep);
    return v;
}

static int cmd_jobs(ctl *c)
{
    if (need_rds(c))
        return EX_UNAVAIL;
    long long s = int_reply(c, "XLEN %s", WK_K_STREAM, NULL);
    long long p = int_reply(c, "XPENDING %s %s", WK_K_STREAM, WK_GROUP);
    long long d = int_reply(c, "ZCARD %s", WK_K_DELAYED, NULL);
    long long x = int_reply(c, "XLEN %s", WK_K_DEAD, NULL);
    if (s < 0 || p < 0 || d < 0 || x < 0) {
        fprintf(stderr, "tthcctl: redis error\n");
        return EX_UNAVAIL;
    }
    printf("stream=%lld pending=%lld delayed=%lld dead=%lld\n", s, p, d, x);
    return EX_OK;
}

static const char *field(const redisReply *f, const char *name)
{
    for (size_t i = 0; f && f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && !strcmp(f->element[i]->str, name)
            && f->element[i + 1]->type == REDIS_REPLY_STRING)
            return f->element[i + 1]->str;
    return "";
}

static int cmd_dead(ctl *c, int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return EX_USAGE;
    }
    if (need_rds(c))
        return EX_UNAVAIL;
    if (!strcmp(argv[0], "list")) {
        char start[64] = "-";
        long total = 0;
        for (;;) {
            redisReply *rep = wk_rds_cmdf(&c->r, "XRANGE %s %s + COUNT 100", WK_K_DEAD, start);
            if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
                if (rep)
                    freeReplyObject(rep);
                fprintf(stderr, "tthcctl: redis error\n");
                return EX_UNAVAIL;
            }
            size_t n = rep->elements;
            for (size_t i = 0; i < n; i++) {
                const redisReply *e = rep->element[i];
                const redisReply *f = e->element[1];
                printf("%s type=%s key=%s attempts=%s error=\"%s\"\n", e->element[0]->str,
                       field(f, "type"), field(f, "key"), field(f, "attempts"), field(f, "error"));
                snprintf(start, sizeof(start), "(%s", e->element[0]->str);
                total++;
            }
            freeReplyObject(rep);
            if (n < 100)
                break;
        }
        fprintf(stderr, "%ld dead job(s)\n", total);
        return EX_OK;
    }
    if (!strcmp(argv[0], "replay") && argc == 2) {
        int all = !strcmp(argv[1], "--all");
        long moved = 0;
        for (;;) {
            char ids[100][64];
            int n = 0;
            if (all) {
                redisReply *rep = wk_rds_cmdf(&c->r, "XRANGE %s - + COUNT 100", WK_K_DEAD);
                if (rep == NULL || rep->type != REDIS_REPLY_ARRAY) {
                    if (rep)
                        freeReplyObject(rep);
                    return EX_UNAVAIL;
                }
                for (size_t i = 0; i < rep->elements && n < 100; i++)
                    snprintf(ids[n++], 64, "%s", rep->element[i]->element[0]->str);
                freeReplyObject(rep);
            } else {
                snprintf(ids[n++], 64, "%s", argv[1]);
            }
            if (n == 0)
                break;
            for (int i = 0; i < n; i++) {
                const char *av[] = { "EVAL", LUA_REPLAY, "2", WK_K_DEAD, WK_K_STREAM, ids[i] };
                redisReply *rep = wk_rds_cmd(&c->r, 6, av, NULL);
                if (rep == NULL || rep->type != REDIS_REPLY_INTEGER) {
                    fprintf(stderr, "tthcctl: replay of %s failed%s%s\n", ids[i],
                            rep && rep->type == REDIS_REPLY_ERROR ? ": " : "",
                            rep && rep->type == REDIS_REPLY_ERROR ? rep->str : "");
                    if (rep)
                        freeReplyObject(rep);
                    return EX_ERR;
                }
                long long r = rep->integer;
                freeReplyObject(rep);
                if (r == 1) {
                    moved++;
                } else if (!all) {
                    fprintf(stderr, "tthcctl: no replayable dead job %s\n", ids[i]);
                    return EX_ERR;
                } else if (r == -1) {
                    /* malformed entry: drop it from the batch loop */
                    redisReply *x = wk_rds_cmdf(&c->r, "XDEL %s %s", WK_K_DEAD, ids[i]);
                    if (x)
                        freeReplyObject(x);
                    fprintf(stderr, "tthcctl: dropped malformed dead entry %s\n", ids[i]);
                }
            }
            if (!all)
                break;
        }
        printf("replayed %ld job(s)\n", moved);
        return EX_OK;
    }
    usage(stderr);
    return EX_USAGE;
}

static int cmd_ingest(ctl *c, const char *file)
{
    char *buf = NULL;
    size_t len = 0;
    if (wk_read_file(file, &buf, &len) != 0) {
        fprintf(stderr, "tthcctl: cannot read %s: %s\n", file, strerror(errno));
        return EX_ERR;
    }
    if (need_db(c) || need_rds(c)) {
        free(buf);
        return EX_UNAVAIL;
    }
    char err[256];
    wk_rc rc = wk_ingest(&c->db, &c->r, &c->conf, buf, len, err, sizeof(err));
    free(buf);
    if (rc != WK_OK) {
        fprintf(stderr, "tthcctl: ingest %s: %s\n", rc == WK_TRANSIENT ? "deferred" : "rejected", err);
        return rc_exit(rc);
    }
    printf("ingested\n");
    return EX_OK;
}

/* tthcctl catalogue import FILE [--dry-run] | pull (docs/exchange-catalogue.md) */
static void print_import(const wk_catimport_result *r)
{
    printf("%s source=%s sha256=%s size=%lld\n", r->dry_run ? "dry run (nothing written)" : "imported",
           r->source, r->sha256, r->size);
    printf("agencies: added=%ld updated=%ld unchanged=%ld\n", r->agencies_added, r->agencies_updated,
           r->agencies_unchanged);
    printf("fields: added=%ld updated=%ld unchanged=%ld\n", r->fields_added, r->fields_updated,
           r->fields_unchanged);
    printf("procedures: added=%ld updated=%ld unchanged=%ld retired=%ld skipped=%ld\n", r->procedures_added,
           r->procedures_updated, r->procedures_unchanged, r->procedures_retired, r->procedures_skipped);
    printf("changes=%ld\n", r->changes);
    if (r->version > 0)
        printf("catalogue published version=%lld\n", r->version);
}

static int cmd_catalogue(ctl *c, int argc, char **argv)
{
    int pull = argc == 1 && !strcmp(argv[0], "pull");
    int dry = argc == 3 && !strcmp(argv[0], "import") && !strcmp(argv[2], "--dry-run");
    if (!pull && !dry && !(argc == 2 && !strcmp(argv[0], "import")))
        return EX_USAGE;
    if (need_db(c))
        return EX_UNAVAIL;
    if (!dry && need_rds(c))
        return EX_UNAVAIL;
    char actor[160], err[512];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(actor, sizeof(actor), "tthcctl:%s", pw && pw->pw_name ? pw->pw_name : "?");
    wk_catimport_result res;
    wk_rc rc;
    if (pull) {
        char e2[256];
        wk_conf_load_secrets(&c->conf, e2, sizeof(e2));   /* the portal token; others not needed */
        int unchanged = 0;
        rc = wk_catimport_pull(&c->db, &c->r, &c->conf, actor, &unchanged, &res, err, sizeof(err));
        if (rc == WK_OK && unchanged) {
            printf("unchanged\n");
            return EX_OK;
        }
    } else {
        rc = wk_catimport_file(&c->db, dry ? NULL : &c->r, &c->conf, argv[1], actor, dry, &res, err,
                               sizeof(err));
    }
    if (rc != WK_OK) {
        fprintf(stderr, "tthcctl: catalogue %s refused: %s\n", pull ? "pull" : "import", err);
        return rc_exit(rc);
    }
    print_import(&res);
    if (res.publish != WK_OK) {
        fprintf(stderr, "tthcctl: imported, but the catalogue could not be published: run tthcctl publish\n");
        return EX_UNAVAIL;
    }
    return EX_OK;
}

static int cmd_wait_ready(ctl *c, long timeout_s)
{
    int64_t end = wk_now_ms() + timeout_s * 1000;
    int db_ok = 0, rds_ok = 0;
    for (;;) {
        if (!db_ok && wk_db_connect(&c->db) == 0) {
            long long one = 0;
            db_ok = wk_db_get_ll(&c->db, "SELECT 1", NULL, 0, &one) == 1;
        }
        if (!rds_ok && wk_rds_connect(&c->r) == 0) {
            redisReply *rep = wk_rds_cmdf(&c->r, "PING");
            rds_ok = rep && rep->type == REDIS_REPLY_STATUS;
            if (rep)
                freeReplyObject(rep);
        }
        if (db_ok && rds_ok) {
            printf("ready\n");
            return EX_OK;
        }
        if (wk_now_ms() >= end)
            break;
        wk_sleep_ms(200);
    }
    fprintf(stderr, "tthcctl: not ready after %ld s:%s%s\n", timeout_s,
            db_ok ? "" : " mariadb", rds_ok ? "" : " redis");
    return EX_UNAVAIL;
}

int main(int argc, char **argv)
{
    const char *conf_file = NULL;
    int ch;
    static const struct option opts[] = {
        { "conf", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf_file = optarg; break;
        case 'h': usage(stdout); return EX_OK;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return EX_USAGE;
    }
    const char *cmd = argv[optind];
    int ac = argc - optind - 1;
    char **av = argv + optind + 1;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
        usage(stdout);
        return EX_OK;
    }
    /* deadline/elapsed with --calendar FILE need no tthc.conf */
    if (wk_ctl_time_noconf(cmd, ac, av))
        return wk_ctl_time(NULL, NULL, cmd, ac, av);
    static ctl c;
    char err[512];
    if (wk_conf_load(&c.conf, conf_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "tthcctl: %s\n", err);
        return EX_USAGE;
    }
    if (sodium_init() < 0)
        return EX_ERR;
    wk_log_init(NULL, c.conf.log_level);
    {   /* partner credentials (outbox check, catalogue pull); absent ones stay empty */
        char e2[256];
        (void)wk_conf_load_secrets(&c.conf, e2, sizeof(e2));
    }
    wk_db_init(&c.db, &c.conf);
    wk_rds_init(&c.r, &c.conf, 30000);
    int rc = EX_USAGE;

    if (!strcmp(cmd, "migrate")) {
        const char *dir = "sql/migrations";
        if (ac == 2 && !strcmp(av[0], "--dir"))
            dir = av[1];
        else if (ac != 0)
            goto bad;
        rc = need_db(&c) ? EX_UNAVAIL : wk_migrate(&c.db, dir);
    } else if (!strcmp(cmd, "seed")) {
        if (ac != 1)
            goto bad;
        rc = need_db(&c) ? EX_UNAVAIL : wk_run_sql_file(&c.db, av[0]);
        if (rc == EX_OK)
            printf("seeded %s\n", av[0]);
    } else if (!strcmp(cmd, "publish")) {
        if (ac > 1 || (ac == 1 && strcmp(av[0], "--all")))
            goto bad;
        rc = cmd_publish(&c, ac == 1);
    } else if (!strcmp(cmd, "reconcile")) {
        if (ac != 0)
            goto bad;
        if (need_db(&c) || need_rds(&c)) {
            rc = EX_UNAVAIL;
        } else {
            wk_recon_state st = { 0, 0, 0 };
            char me[300];
            snprintf(me, sizeof(me), "%s:%ld:ctl", wk_hostname(), (long)getpid());
            rc = rc_exit(wk_reconcile_pass(&c.db, &c.r, &c.conf, me, 1, &st, &g_stop));
            if (rc == EX_OK)
                printf("reconcile pass done\n");
        }
    } else if (!strcmp(cmd, "seq-seed")) {
        if (ac != 0)
            goto bad;
        long n = 0;
        rc = need_db(&c) || need_rds(&c) ? EX_UNAVAIL
                                          : rc_exit(wk_seq_seed(&c.db, &c.r, &c.conf, 1, &g_stop, &n, NULL));
        if (rc == EX_OK)
            printf("seeded counters of %ld agencies\n", n);
    } else if (!strcmp(cmd, "dead")) {
        rc = cmd_dead(&c, ac, av);
    } else if (!strcmp(cmd, "jobs")) {
        if (ac != 0)
            goto bad;
        rc = cmd_jobs(&c);
    } else if (!strcmp(cmd, "ingest")) {
        if (ac != 1)
            goto bad;
        rc = cmd_ingest(&c, av[0]);
    } else if (!strcmp(cmd, "user")) {
        rc = need_db(&c) ? EX_UNAVAIL : wk_ctl_user(&c.db, need_rds(&c) ? NULL : &c.r, ac, av);
    } else if (!strcmp(cmd, "audit")) {
        rc = need_db(&c) ? EX_UNAVAIL : wk_ctl_audit(&c.db, ac, av);
    } else if (!strcmp(cmd, "rpc")) {
        if (ac != 1)
            goto bad;
        rc = need_rds(&c) ? EX_UNAVAIL : wk_ctl_rpc(&c.r, &c.conf, av[0]);
    } else if (!strcmp(cmd, "setting") || !strcmp(cmd, "inbox") || !strcmp(cmd, "warn")) {
        if (need_db(&c))
            rc = EX_UNAVAIL;
        else
            rc = wk_ctl_flow(&c.db, need_rds(&c) ? NULL : &c.r, cmd, ac, av);
        if (rc == EX_USAGE)
            goto bad;
    } else if (!strcmp(cmd, "outbox")) {
        if (need_db(&c))
            rc = EX_UNAVAIL;
        else
            rc = wk_ctl_outbox(&c.db, need_rds(&c) ? NULL : &c.r, &c.conf, ac, av);
        if (rc == EX_USAGE)
            goto bad;
    } else if (wk_ctl_time_cmd(cmd)) {
        rc = wk_ctl_time(&c.db, &c.r, cmd, ac, av);
    } else if (!strcmp(cmd, "catalogue")) {
        rc = cmd_catalogue(&c, ac, av);
        if (rc == EX_USAGE)
            goto bad;
    } else if (!strcmp(cmd, "wait-ready")) {
        long t = 30;
        if (ac == 2 && !strcmp(av[0], "--timeout"))
            t = strtol(av[1], NULL, 10);
        else if (ac != 0)
            goto bad;
        rc = cmd_wait_ready(&c, t);
    } else {
        fprintf(stderr, "tthcctl: unknown command %s\n", cmd);
        goto bad;
    }
    goto out;
bad:
    usage(stderr);
    rc = EX_USAGE;
out:
    wk_rds_close(&c.r);
    wk_db_close(&c.db);
    mysql_library_end();
    return rc;
}
