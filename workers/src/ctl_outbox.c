/* ctl_outbox.c - tthcctl outbox ... (docs/exchange.md "Operating the outbox"):
 *   outbox stats                                counts per target and state, oldest pending, blocked dossiers
 *   outbox list [--state S] [--dossier CODE] [--limit N]
 *   outbox show ID                              one message with its frozen body
 *   outbox replay ID | --all-dead [--rerender]  dead -> pending (attempts reset)
 *   outbox check CODE | --since HOURS           reconcile with the national portal
 *   outbox deliver                              one delivery round now (the workers do it continuously)
 * Exit codes as tthcctl: 0 ok, 1 error, 2 usage, 3 unavailable. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_cb(const wk_row *r, void *ud)
{
    (void)ud;
    for (unsigned i = 0; i < r->n; i++)
        printf("%s%s", i ? "\t" : "", r->v[i] ? r->v[i] : "-");
    printf("\n");
    return 0;
}

static int db_err(wk_db *db)
{
    fprintf(stderr, "tthcctl: mariadb error: %s\n", db->last_error);
    return 3;
}

typedef struct { char **codes; int n, cap; } code_list;

static int code_cb(const wk_row *r, void *ud)
{
    code_list *l = ud;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->codes, (size_t)nc * sizeof(*nv));
        if (nv == NULL)
            return 1;
        l->codes = nv;
        l->cap = nc;
    }
    l->codes[l->n++] = strdup(r->v[0]);
    return 0;
}

static int check_one(wk_db *db, const wk_conf *conf, const char *code, int *total)
{
    int resent = 0;
    char err[256];
    int rc = wk_outbox_check(db, conf, code, &resent, err, sizeof(err));
    if (rc < 0)
        return db_err(db);
    if (rc == 2) {
        fprintf(stderr, "tthcctl: %s: %s\n", code, err);
        return 1;
    }
    if (rc == 3) {
        fprintf(stderr, "tthcctl: %s: %s\n", code, err);
        return 3;
    }
    printf("%s\t%s\n", code, resent ? "resent" : "in step");
    if (resent)
        printf("  %d message(s) queued again\n", resent);
    *total += resent;
    return 0;
}

int wk_ctl_outbox(wk_db *db, wk_rds *r, const wk_conf *conf, int argc, char **argv)
{
    if (argc < 1)
        return 2;
    const char *sub = argv[0];
    if (!strcmp(sub, "stats") && argc == 1) {
        printf("target\tstate\tcount\toldest_created_utc\n");
        if (wk_db_exec(db, "SELECT target, state, COUNT(*), MIN(created_at) FROM outbox"
                           " GROUP BY target, state ORDER BY target, state", NULL, 0, print_cb, NULL, NULL, NULL) != 0)
            return db_err(db);
        long long blocked = 0;
        if (wk_db_get_ll(db, "SELECT COUNT(DISTINCT dossier_id) FROM outbox WHERE state = 'dead'", NULL, 0,
                         &blocked) < 0)
            return db_err(db);
        printf("dossiers blocked by a dead letter: %lld\n", blocked);
        return 0;
    }
    if (!strcmp(sub, "list")) {
        const char *state = NULL, *code = NULL;
        long limit = 50;
        for (int i = 1; i < argc; i++) {
            if (!strcmp(argv[i], "--state") && i + 1 < argc)
                state = argv[++i];
            else if (!strcmp(argv[i], "--dossier") && i + 1 < argc)
                code = argv[++i];
            else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
                limit = strtol(argv[++i], NULL, 10);
            else
                return 2;
        }
        if (state && strcmp(state, "pending") && strcmp(state, "sent") && strcmp(state, "dead"))
            return 2;
        if (limit < 1 || limit > 10000)
            limit = 50;
        wk_param p[] = { WK_STR(state), WK_STR(state), WK_STR(code), WK_STR(code), WK_INT(limit) };
        printf("id\tdossier\tkind\ttarget\tstate\tattempts\tlast_http\tnext_attempt_utc\tlast_error\n");
        if (wk_db_exec(db, "SELECT o.id, d.code, o.kind, o.target, o.state, o.attempts, o.last_http,"
                           " o.next_attempt_at, o.last_error FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                           " WHERE (? IS NULL OR o.state = ?) AND (? IS NULL OR d.code = ?)"
                           " ORDER BY o.id LIMIT ?", p, 5, print_cb, NULL, NULL, NULL) != 0)
            return db_err(db);
        return 0;
    }
    if (!strcmp(sub, "show") && argc == 2) {
        wk_param p[] = { WK_INT(atoll(argv[1])) };
        unsigned long long n = 0;
        printf("id\tdossier\tkind\ttarget\tstate\tattempts\treplays\tidem_key\tcreated\tsent\tdead\tlast_http\tlast_error\n");
        if (wk_db_exec(db, "SELECT o.id, d.code, o.kind, o.target, o.state, o.attempts, o.replays, o.idem_key,"
                           " o.created_at, o.sent_at, o.dead_at, o.last_http, o.last_error"
                           " FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE o.id = ?",
                           p, 1, print_cb, NULL, &n, NULL) != 0)
            return db_err(db);
        if (wk_db_exec(db, "SELECT IFNULL(body, '(not rendered yet)') FROM outbox WHERE id = ?", p, 1,
                       print_cb, NULL, NULL, NULL) != 0)
            return db_err(db);
        return 0;
    }
    if (!strcmp(sub, "replay") && (argc == 2 || argc == 3)) {
        int rerender = argc == 3 && !strcmp(argv[2], "--rerender");
        if (argc == 3 && !rerender)
            return 2;
        int all = !strcmp(argv[1], "--all-dead");
        long long id = all ? 0 : atoll(argv[1]);
        if (!all && id <= 0)
            return 2;
        wk_param p[] = { WK_INT(rerender), WK_INT(all), WK_INT(id) };
        unsigned long long n = 0;
        if (wk_db_exec(db, "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL,"
                           " lease_owner = NULL, lease_until = NULL, dead_at = NULL, replays = replays + 1,"
                           " body = IF(?, NULL, body), last_error = CONCAT('replayed; was: ', IFNULL(last_error, ''))"
                           " WHERE state = 'dead' AND (? OR id = ?)", p, 3, NULL, NULL, &n, NULL) != 0)
            return db_err(db);
        printf("replayed %llu message(s)\n", n);
        if (n == 0 && !all) {
            fprintf(stderr, "tthcctl: message %lld is not a dead letter\n", id);
            return 1;
        }
        return 0;
    }
    if (!strcmp(sub, "check") && argc >= 2) {
        int total = 0, rc = 0;
        if (!strcmp(argv[1], "--since") && argc == 3) {
            long hours = strtol(argv[2], NULL, 10);
            if (hours < 1 || hours > 24 * 366)
                return 2;
            code_list l = { NULL, 0, 0 };
            wk_param p[] = { WK_INT(hours) };
            if (wk_db_exec(db, "SELECT DISTINCT d.code FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                               " WHERE o.target = 'portal' AND o.state = 'sent'"
                               " AND o.sent_at >= UTC_TIMESTAMP(6) - INTERVAL ? HOUR ORDER BY d.code",
                               p, 1, code_cb, &l, NULL, NULL) != 0)
                rc = db_err(db);
            for (int i = 0; i < l.n; i++) {
                if (rc == 0)
                    rc = check_one(db, conf, l.codes[i], &total);
                free(l.codes[i]);
            }
            free(l.codes);
        } else if (argc == 2) {
            rc = check_one(db, conf, argv[1], &total);
        } else {
            return 2;
        }
        if (rc == 0)
            printf("reconciliation: %d message(s) queued again\n", total);
        return rc;
    }
    if (!strcmp(sub, "deliver") && argc == 1) {
        char me[300];
        snprintf(me, sizeof(me), "%s:%ld:ctl", wk_hostname(), (long)getpid());
        long n = wk_outbox_tick(db, r, conf, me);
        if (n < 0)
            return db_err(db);
        printf("handled %ld message(s)\n", n);
        return 0;
    }
    return 2;
}
