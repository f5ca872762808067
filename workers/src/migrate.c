/* migrate.c - versioned schema migrations (sql/migrations/NNNN_name.sql).
 * Applied versions are skipped; their checksums are verified first and any
 * change refuses the whole run; GET_LOCK serialises concurrent runners. */
#include "wk.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_NAME "tthc.migrate"

static const char BOOTSTRAP[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT UNSIGNED NOT NULL, name VARCHAR(255) NOT NULL, checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (version)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

typedef struct { long version; char checksum[65]; } applied;
typedef struct { applied *a; int n, cap; } applied_ud;

static int applied_cb(const wk_row *r, void *ud)
{
    applied_ud *u = ud;
    if (u->n == u->cap) {
        int nc = u->cap ? u->cap * 2 : 16;
        void *p = realloc(u->a, (size_t)nc * sizeof(*u->a));
        if (!p)
            return 1;
        u->a = p;
        u->cap = nc;
    }
    u->a[u->n].version = strtol(r->v[0], NULL, 10);
    snprintf(u->a[u->n].checksum, 65, "%s", r->v[1] ? r->v[1] : "");
    u->n++;
    return 0;
}

static int mig_filter(const struct dirent *e)
{
    const char *s = e->d_name;
    size_t n = strlen(s);
    if (n < 10 || strcmp(s + n - 4, ".sql") != 0)
        return 0;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return s[4] == '_';
}

int wk_run_sql_file(wk_db *db, const char *file)
{
    char *sql = NULL;
    size_t len = 0;
    if (wk_read_file(file, &sql, &len) != 0) {
        fprintf(stderr, "cannot read %s: %s\n", file, strerror(errno));
        return 1;
    }
    int rc = wk_db_multi(db, sql, len);
    free(sql);
    if (rc != 0) {
        fprintf(stderr, "%s: mariadb error %u: %s\n", file, db->last_errno, db->last_error);
        return 1;
    }
    return 0;
}

int wk_migrate(wk_db *db, const char *dir)
{
    long long got = 0;
    wk_param pl[] = { WK_STR(LOCK_NAME), WK_INT(120) };
    if (wk_db_get_ll(db, "SELECT GET_LOCK(?, ?)", pl, 2, &got) < 0 || got != 1) {
        fprintf(stderr, "migrate: cannot take lock %s (another runner?)\n", LOCK_NAME);
        return 1;
    }
    struct dirent **list = NULL;
    applied_ud ap = { NULL, 0, 0 };
    int rc = 0, nfiles = -1, applied_now = 0;
    if (wk_db_simple(db, BOOTSTRAP) != 0) {
        fprintf(stderr, "migrate: cannot create schema_migrations: %s\n", db->last_error);
        rc = 1;
        goto out;
    }
    if (wk_db_exec(db, "SELECT version, checksum FROM schema_migrations ORDER BY version",
                   NULL, 0, applied_cb, &ap, NULL, NULL) != 0) {
        fprintf(stderr, "migrate: cannot read schema_migrations: %s\n", db->last_error);
        rc = 1;
        goto out;
    }
    nfiles = scandir(dir, &list, mig_filter, alphasort);
    if (nfiles < 0) {
        fprintf(stderr, "migrate: cannot read %s: %s\n", dir, strerror(errno));
        rc = 1;
        goto out;
    }
    char (*sums)[65] = calloc((size_t)nfiles + 1, 65);
    /* pass 1: verify every file, refuse on any change of an applied one */
    for (int i = 0; i < nfiles && rc == 0; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
        if (wk_sha256_file_hex(path, sums[i]) != 0) {
            fprintf(stderr, "migrate: cannot read %s\n", path);
            rc = 1;
            break;
        }
        long v = strtol(list[i]->d_name, NULL, 10);
        if (i > 0 && strtol(list[i - 1]->d_name, NULL, 10) == v) {
            fprintf(stderr, "migrate: duplicate version %04ld\n", v);
            rc = 1;
            break;
        }
        for (int k = 0; k < ap.n; k++)
            if (ap.a[k].version == v && strcmp(ap.a[k].checksum, sums[i]) != 0) {
                fprintf(stderr, "migrate: %s was changed after it was applied"
                                " (checksum %s, applied %s); refusing to run\n",
                        list[i]->d_name, sums[i], ap.a[k].checksum);
                rc = 4;
            }
    }
    /* pass 2: apply the missing ones in order */
    for (int i = 0; i < nfiles && rc == 0; i++) {
        long v = strtol(list[i]->d_name, NULL, 10);
        int done = 0;
        for (int k = 0; k < ap.n; k++)
            done |= ap.a[k].version == v;
        if (done)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
        if (wk_run_sql_file(db, path) != 0) {
            rc = 1;
            break;
        }
        wk_param pm[] = { WK_INT(v), WK_STR(list[i]->d_name), WK_STR(sums[i]) };
        if (wk_db_exec(db, "INSERT INTO schema_migrations (version, name, checksum) VALUES (?,?,?)",
                       pm, 3, NULL, NULL, NULL, NULL) != 0) {
            fprintf(stderr, "migrate: cannot record %s: %s\n", list[i]->d_name, db->last_error);
            rc = 1;
            break;
        }
        printf("applied %s\n", list[i]->d_name);
        applied_now++;
    }
    if (rc == 0)
        printf("migrations up to date (%d applied now, %d files)\n", applied_now, nfiles);
    free(sums);
out:
    for (int i = 0; i < nfiles; i++)
        free(list[i]);
    free(list);
    free(ap.a);
    if (db->my) {
        wk_param pr[] = { WK_STR(LOCK_NAME) };
        long long x;
        wk_db_get_ll(db, "SELECT RELEASE_LOCK(?)", pr, 1, &x);
    }
    return rc;
}
