/* journal.c - life cycle of the journal files (docs/contracts.md "var/ layout"):
 *   journal/CODE.json         claims CODE (the edge link()s it, never replaces)
 *   journal/done/CODE.json    ingested; still claims CODE until pruned (3 days)
 *   journal/failed/CODE.json  dead-lettered (queue or reconciler)
 * A retry scheduled by the queue sets the file's mtime to the retry's due
 * time, so the orphan sweep (mtime older than journal_orphan_ms) only takes
 * files no job is looking after. */
#include "wk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* names in journal/ that are ours to look at: "<valid code>.json" */
static int code_of(const char *name, char code[100])
{
    size_t len = strlen(name);
    char agency[32], date[7];
    int seq;
    if (len < 6 || len > 99 || strcmp(name + len - 5, ".json") != 0)
        return -1;
    memcpy(code, name, len - 5);
    code[len - 5] = '\0';
    return wk_code_parse(code, agency, date, &seq);
}

static int valid_code(const char *code)
{
    char agency[32], date[7];
    int seq;
    return code != NULL && strlen(code) < 90 && wk_code_parse(code, agency, date, &seq) == 0;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fsync(fd) != 0)
        wk_warn("journal", "fsync dir failed error=\"%s\"", strerror(errno));
    close(fd);
}

static int64_t mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* 1 when the file holds exactly payload (or has sha256 msha), 0 not, -1 unreadable */
static int same_file(const char *path, const char *payload, size_t len, const char *msha)
{
    char *buf = NULL;
    size_t blen = 0;
    if (wk_read_file(path, &buf, &blen) != 0)
        return -1;
    int same;
    if (msha != NULL) {
        char h[65];
        wk_sha256_hex(buf, blen, h);
        same = strcmp(h, msha) == 0;
    } else {
        same = blen == len && memcmp(buf, payload, len) == 0;
    }
    free(buf);
    return same;
}

/* from (under dir fdir) -> sub/NAME, creating sub; same-manifest check first */
static int move_to(const wk_conf *conf, const char *from, const char *fdir, const char *sub,
                   const char *code, const char *payload, size_t len, const char *msha)
{
    int same = same_file(from, payload, len, msha);
    if (same < 0)
        return errno == ENOENT ? 0 : -1;
    if (same == 0) {
        wk_warn("journal", "journal file holds another manifest, left for the reconciler code=%s", code);
        return 0;
    }
    char dir[1024], to[1200];
    snprintf(dir, sizeof(dir), "%s/journal/%s", conf->store, sub);
    snprintf(to, sizeof(to), "%s/%s.json", dir, code);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return -1;
    if (rename(from, to) != 0)
        return errno == ENOENT ? 0 : -1;   /* moved meanwhile by another worker */
    fsync_dir(dir);
    fsync_dir(fdir);
    return 1;
}

int wk_journal_done(const wk_conf *conf, const char *code, const char *msha)
{
    char dir[1024], from[1200];
    snprintf(dir, sizeof(dir), "%s/journal", conf->store);
    snprintf(from, sizeof(from), "%s/%s.json", dir, code);
    int rc = move_to(conf, from, dir, "done", code, NULL, 0, msha);
    if (rc == 0) {
        /* a dead-lettered job replayed with success: its file was in failed/ */
        snprintf(dir, sizeof(dir), "%s/journal/failed", conf->store);
        snprintf(from, sizeof(from), "%s/%s.json", dir, code);
        rc = move_to(conf, from, dir, "done", code, NULL, 0, msha);
    }
    if (rc < 0)
        wk_warn("journal", "cannot move journal file to done code=%s error=\"%s\"", code, strerror(errno));
    return rc;
}

void wk_journal_hold(const wk_conf *conf, const char *code, int64_t due_ms)
{
    if (!valid_code(code))
        return;
    char path[1200];
    snprintf(path, sizeof(path), "%s/journal/%s.json", conf->store, code);
    struct timespec ts[2] = {
        { 0, UTIME_OMIT },
        { (time_t)(due_ms / 1000), (long)(due_ms % 1000) * 1000000L },
    };
    if (utimensat(AT_FDCWD, path, ts, 0) != 0 && errno != ENOENT)
        wk_warn("journal", "cannot hold journal file code=%s error=\"%s\"", code, strerror(errno));
}

int wk_journal_park(const wk_conf *conf, const char *code, const char *payload, size_t len)
{
    if (!valid_code(code) || payload == NULL)
        return 0;
    char dir[1024], from[1200];
    snprintf(dir, sizeof(dir), "%s/journal", conf->store);
    snprintf(from, sizeof(from), "%s/%s.json", dir, code);
    int rc = move_to(conf, from, dir, "failed", code, payload, len, NULL);
    if (rc < 0)
        wk_warn("journal", "cannot park journal file code=%s error=\"%s\"", code, strerror(errno));
    return rc;
}

/* the reconciler rejects a journal file: dead-letter it, then park it */
static void park_failed(const wk_conf *conf, wk_rds *r, const char *code,
                        const char *payload, size_t len, const char *err)
{
    char e[300];
    snprintf(e, sizeof(e), "reconciler: %s", err);
    if (wk_queue_dead_add(r, WK_JOB_SUBMITTED, code, payload, len, 1, e) != 0)
        return;   /* keep the file; try again next pass */
    if (wk_journal_park(conf, code, payload, len) == 1)
        wk_warn("reconcile", "journal file rejected and dead-lettered code=%s reason=\"%s\"", code, err);
}

long wk_journal_sweep(wk_db *db, wk_rds *r, const wk_conf *conf, long min_age_ms,
                      volatile sig_atomic_t *stop)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/journal", conf->store);
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    int64_t now = wk_now_ms();
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (stop && *stop)
            break;
        char code[100];
        /* done/ and failed/ are not orphans; only "<code>.json" files are */
        if (!strcmp(e->d_name, "done") || !strcmp(e->d_name, "failed") || code_of(e->d_name, code) != 0)
            continue;
        char path[1200];
        snprintf(path, sizeof(path), "%s/%s.json", dir, code);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        int64_t age = now - mtime_ms(&st);
        if (age < min_age_ms)
            continue;   /* young, or held by a scheduled retry (mtime = due) */
        char *buf = NULL;
        size_t blen = 0;
        if (wk_read_file(path, &buf, &blen) != 0)
            continue;   /* moved meanwhile by a worker */
        char err[256];
        wk_rc rc = wk_ingest(db, r, conf, buf, blen, err, sizeof(err));
        if (rc == WK_OK) {
            wk_info("reconcile", "orphaned journal file ingested code=%s age_ms=%lld", code, (long long)age);
            n++;
        } else if (rc == WK_PERMANENT) {
            /* a fast sweep after a data loss may still race a live job:
             * only a file left alone for journal_orphan_ms is dead-lettered */
            if (age >= conf->journal_orphan_ms)
                park_failed(conf, r, code, buf, blen, err);
            else
                wk_debug("reconcile", "journal file rejected, left for a later sweep code=%s", code);
        } else {
            wk_warn("reconcile", "journal ingest deferred code=%s reason=\"%s\"", code, err);
            free(buf);
            closedir(d);
            return -1;
        }
        free(buf);
    }
    closedir(d);
    return n;
}

long wk_journal_prune_done(const wk_conf *conf, long max_age_ms)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/journal/done", conf->store);
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : -1;
    int64_t now = wk_now_ms();
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char code[100], path[1200];
        if (code_of(e->d_name, code) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s.json", dir, code);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || now - mtime_ms(&st) <= max_age_ms)
            continue;
        if (unlink(path) == 0)
            n++;
    }
    closedir(d);
    if (n > 0)
        fsync_dir(dir);
    return n;
}
