/* calendar.c - the working-time calendar of the workers (DOMAIN T1, T2, T2a;
 * docs/contracts-workflow.md "The calendar in the workers"): the default
 * schedule of common/tthc_calendar plus the `holidays` table ('holiday' ->
 * a day off, 'makeup_workday' -> a make-up working day), cached per process.
 * The rules themselves stay in common/tthc_calendar.c; this file only loads
 * the data.  Not thread-safe: one cache per (single-threaded) process. */
#include "wk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAL_MAX_AGE_MS   60000   /* reload when the cached one is older */
#define CAL_RETRY_MS      5000   /* after a failed load: keep the old one this long */

/* the holiday rows as tthc_calendar_load() text ("holiday 2026-01-01\n") */
typedef struct {
    char *buf;
    size_t len, cap;
    long rows;
    int oom;
} cal_text;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int text_add(cal_text *t, const char *directive, const char *day)
{
    size_t need = strlen(directive) + 1 + strlen(day) + 1;
    if (t->len + need + 1 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 4096;
        while (nc < t->len + need + 1)
            nc *= 2;
        char *nb = realloc(t->buf, nc);
        if (nb == NULL)
            return -1;
        t->buf = nb;
        t->cap = nc;
    }
    t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "%s %s\n", directive, day);
    return 0;
}

static int row_cb(const wk_row *row, void *ud)
{
    cal_text *t = ud;
    if (row->n < 2 || row->v[0] == NULL || row->v[1] == NULL)
        return 0;
    const char *dir = !strcmp(row->v[1], "holiday") ? "holiday"
                      : !strcmp(row->v[1], "makeup_workday") ? "makeup" : NULL;
    if (dir == NULL)
        return 0;   /* an enum value added later: ignored, not guessed */
    if (text_add(t, dir, row->v[0]) != 0) {
        t->oom = 1;
        return 1;
    }
    t->rows++;
    return 0;
}

wk_rc wk_calendar_load_db(wk_db *db, tthc_calendar_t *out)
{
    cal_text t = { NULL, 0, 0, 0, 0 };
    tthc_calendar_default(out);
    /* dates MariaDB may hold without being real (zero dates) are left out */
    if (wk_db_exec(db, "SELECT DATE_FORMAT(day, '%Y-%m-%d'), kind FROM holidays"
                       " WHERE MONTH(day) BETWEEN 1 AND 12 AND DAYOFMONTH(day) >= 1"
                       " ORDER BY day",
                   NULL, 0, row_cb, &t, NULL, NULL) != 0) {
        free(t.buf);
        wk_warn("calendar", "cannot read holidays errno=%u", db->last_errno);
        return wk_db_transient(db) ? WK_TRANSIENT : WK_PERMANENT;
    }
    if (t.oom) {
        free(t.buf);
        wk_error("calendar", "out of memory reading holidays");
        return WK_PERMANENT;
    }
    char err[160];
    int rc = tthc_calendar_load(out, t.buf ? t.buf : "", t.len, err, sizeof(err));
    free(t.buf);
    if (rc != 0) {
        wk_error("calendar", "holidays table rejected: %s", err);
        return WK_PERMANENT;
    }
    wk_debug("calendar", "loaded holidays=%zu makeup=%zu", out->nholidays, out->nmakeup);
    return WK_OK;
}

/* the cache: `cal` is always a usable calendar (default until a load worked) */
static struct {
    tthc_calendar_t cal;
    int init;             /* cal set (default or loaded) */
    int loaded;           /* cal came from the table at least once */
    int64_t next_ms;      /* monotonic time of the next load attempt */
} g_cal;

const tthc_calendar_t *wk_calendar(wk_db *db)
{
    int64_t now = mono_ms();
    if (!g_cal.init) {
        tthc_calendar_default(&g_cal.cal);
        g_cal.init = 1;
        g_cal.next_ms = now;
    }
    if (db == NULL || now < g_cal.next_ms)
        return &g_cal.cal;
    tthc_calendar_t fresh;
    if (wk_calendar_load_db(db, &fresh) == WK_OK) {
        tthc_calendar_free(&g_cal.cal);
        g_cal.cal = fresh;
        g_cal.loaded = 1;
        g_cal.next_ms = now + CAL_MAX_AGE_MS;
    } else {
        tthc_calendar_free(&fresh);
        /* keep the last good one (or the default schedule), retry soon */
        if (!g_cal.loaded)
            wk_warn("calendar", "using the default schedule without holidays until the table loads");
        g_cal.next_ms = now + CAL_RETRY_MS;
    }
    return &g_cal.cal;
}

void wk_calendar_invalidate(void)
{
    g_cal.next_ms = 0;
}

void wk_calendar_release(void)
{
    if (g_cal.init)
        tthc_calendar_free(&g_cal.cal);
    memset(&g_cal, 0, sizeof(g_cal));
}

int wk_calendar_load_file(const char *path, tthc_calendar_t *out, char *err, size_t errsz)
{
    char *buf = NULL;
    size_t len = 0;
    tthc_calendar_default(out);
    if (path == NULL || wk_read_file(path, &buf, &len) != 0) {
        if (err && errsz)
            snprintf(err, errsz, "cannot read calendar %s: %s", path ? path : "(null)",
                     strerror(path ? errno : EINVAL));
        return -1;
    }
    char why[160];
    int rc = tthc_calendar_load(out, buf, len, why, sizeof(why));
    free(buf);
    if (rc != 0) {
        if (err && errsz)
            snprintf(err, errsz, "calendar %s: %s", path, why);
        return -1;
    }
    return 0;
}
