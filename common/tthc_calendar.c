/*
 * tthc_calendar.c — administrative working-time calendar, DOMAIN T1, T2,
 * T2a; 004_74531fefebb0c8b7.txt Art.11.1-3, 000_538ffb44eb122555.txt
 * Art.14.1-2, Labour Code 2019 Art.112. Pure libc: local time is the fixed
 * UTC+7 of tthc_time.h; civil dates through tthc_time.h (H. Hinnant,
 * "chrono-compatible low-level date algorithms", proleptic Gregorian).
 *
 * Internally an instant is (local day number since 1970-01-01, seconds of
 * the local day); periods are half-open [start, end) in seconds of the day.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tthc_calendar.h"
#include "tthc_time.h"

#define TTHC_CAL_DAY_SEC  86400


static int
tthc_cal_ymd_from_days(int64_t z)
{
    int      m, d;
    int64_t  y;

    tthc_date_from_days(z, &y, &m, &d);

    return (int) (y * 10000 + m * 100 + d);
}


/* local day number of ymd, or INT64_MIN if ymd is not a real date 0001..9999 */
static int64_t
tthc_cal_days_from_ymd(int ymd)
{
    int64_t  z;
    int      y, m, d;

    y = ymd / 10000;
    m = ymd / 100 % 100;
    d = ymd % 100;

    if (ymd <= 0 || y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) {
        return INT64_MIN;
    }

    z = tthc_days_from_civil(y, m, d);

    if (tthc_cal_ymd_from_days(z) != ymd) {
        return INT64_MIN;
    }

    return z;
}


static void
tthc_cal_split(time_t t, int64_t *day, int64_t *sod)
{
    int64_t  ls;

    ls = (int64_t) t + TTHC_TZ_OFFSET_SEC;
    *day = tthc_floor_div(ls, TTHC_CAL_DAY_SEC);
    *sod = ls - *day * TTHC_CAL_DAY_SEC;
}


static time_t
tthc_cal_instant(int64_t day, int64_t sod)
{
    return (time_t) (day * TTHC_CAL_DAY_SEC + sod - TTHC_TZ_OFFSET_SEC);
}


static int
tthc_cal_cmp_int(const void *a, const void *b)
{
    int  x = *(const int *) a, y = *(const int *) b;

    return (x > y) - (x < y);
}


static int
tthc_cal_in_list(const int *list, size_t n, int ymd)
{
    return list != NULL && n > 0
           && bsearch(&ymd, list, n, sizeof(int), tthc_cal_cmp_int) != NULL;
}


/* the periods of local day `day`; returns their number (0 = no work) */
static int
tthc_cal_day_periods(const tthc_calendar_t *c, int64_t day,
    const tthc_period_t **p)
{
    int  ymd, wd;

    ymd = tthc_cal_ymd_from_days(day);

    if (tthc_cal_in_list(c->holidays, c->nholidays, ymd)) {
        return 0;
    }

    if (tthc_cal_in_list(c->makeup, c->nmakeup, ymd)) {
        wd = 1;

    } else {
        /* 1970-01-01 was a Thursday */
        wd = (int) (day - tthc_floor_div(day + 4, 7) * 7 + 4);
    }

    *p = c->week[wd];

    return c->nperiods[wd];
}


void
tthc_calendar_default(tthc_calendar_t *c)
{
    int  wd;

    memset(c, 0, sizeof(tthc_calendar_t));

    for (wd = 1; wd <= 5; wd++) {
        c->week[wd][0].start_min = 7 * 60 + 30;
        c->week[wd][0].end_min = 11 * 60 + 30;
        c->week[wd][1].start_min = 13 * 60;
        c->week[wd][1].end_min = 17 * 60;
        c->nperiods[wd] = 2;
    }

    c->cutoff_min = 15 * 60;
}


void
tthc_calendar_free(tthc_calendar_t *c)
{
    if (c == NULL) {
        return;
    }

    free(c->holidays);
    free(c->makeup);
    c->holidays = NULL;
    c->makeup = NULL;
    c->nholidays = 0;
    c->nmakeup = 0;
}


int
tthc_is_working_day(const tthc_calendar_t *c, int ymd)
{
    const tthc_period_t  *p;
    int64_t               day;

    if (c == NULL) {
        return 0;
    }

    day = tthc_cal_days_from_ymd(ymd);

    if (day == INT64_MIN) {
        return 0;
    }

    return tthc_cal_day_periods(c, day, &p) > 0;
}


/* the first working instant at or after (day, sod), as (day, sod); -1 if none */
static int
tthc_cal_next_start(const tthc_calendar_t *c, int64_t *day, int64_t *sod)
{
    const tthc_period_t  *p;
    int64_t               d, s;
    int                   i, k, n;

    d = *day;
    s = *sod;

    for (i = 0; i <= TTHC_CAL_SEARCH_DAYS; i++, d++, s = 0) {
        n = tthc_cal_day_periods(c, d, &p);

        for (k = 0; k < n; k++) {
            if (s < (int64_t) p[k].end_min * 60) {
                if (s < (int64_t) p[k].start_min * 60) {
                    s = (int64_t) p[k].start_min * 60;
                }

                *day = d;
                *sod = s;
                return 0;
            }
        }
    }

    return -1;
}


time_t
tthc_next_working_start(const tthc_calendar_t *c, time_t t)
{
    int64_t  day, sod;

    if (c == NULL) {
        return (time_t) -1;
    }

    tthc_cal_split(t, &day, &sod);

    if (tthc_cal_next_start(c, &day, &sod) != 0) {
        return (time_t) -1;
    }

    return tthc_cal_instant(day, sod);
}


time_t
tthc_receipt_time(const tthc_calendar_t *c, time_t accepted)
{
    const tthc_period_t  *p;
    int64_t               day, sod;

    if (c == NULL) {
        return (time_t) -1;
    }

    tthc_cal_split(accepted, &day, &sod);

    /* T1, 000 Art.14.1: accepted after 15:00 counts from the next working day */
    if (c->cutoff_min >= 0 && sod >= (int64_t) c->cutoff_min * 60
        && tthc_cal_day_periods(c, day, &p) > 0)
    {
        day++;
        sod = 0;
    }

    /* T1, 004 Art.11.2: outside working hours -> next working period */
    if (tthc_cal_next_start(c, &day, &sod) != 0) {
        return (time_t) -1;
    }

    return tthc_cal_instant(day, sod);
}


/*
 * consumes `rem` seconds of working time of day `day` from time of day sod;
 * returns 0 and the end in *end when it fits, else 1 and the rest in *rem
 */
static int
tthc_cal_consume(const tthc_calendar_t *c, int64_t day, int64_t sod,
    int64_t *rem, int64_t *end)
{
    const tthc_period_t  *p;
    int64_t               s, e;
    int                   k, n;

    n = tthc_cal_day_periods(c, day, &p);

    for (k = 0; k < n; k++) {
        s = (int64_t) p[k].start_min * 60;
        e = (int64_t) p[k].end_min * 60;

        if (sod >= e) {
            continue;
        }

        if (sod > s) {
            s = sod;
        }

        if (*rem <= e - s) {
            *end = s + *rem;
            return 0;
        }

        *rem -= e - s;
    }

    return 1;
}


time_t
tthc_add_working_seconds(const tthc_calendar_t *c, time_t from,
    long long seconds)
{
    const tthc_period_t  *p;
    int64_t               day, sod, rem, end, idle;

    if (c == NULL || seconds < 0
        || seconds > (long long) TTHC_CAL_MAX_SPAN_DAYS * TTHC_CAL_DAY_SEC)
    {
        return (time_t) -1;
    }

    tthc_cal_split(from, &day, &sod);

    if (tthc_cal_next_start(c, &day, &sod) != 0) {
        return (time_t) -1;
    }

    rem = seconds;
    idle = 0;

    for ( ;; ) {
        if (tthc_cal_consume(c, day, sod, &rem, &end) == 0) {
            return tthc_cal_instant(day, end);
        }

        day++;
        sod = 0;

        if (tthc_cal_day_periods(c, day, &p) > 0) {
            idle = 0;

        } else if (++idle > TTHC_CAL_SEARCH_DAYS) {
            return (time_t) -1;
        }
    }
}


time_t
tthc_add_working_minutes(const tthc_calendar_t *c, time_t from, long minutes)
{
    if (minutes < 0) {
        return (time_t) -1;
    }

    return tthc_add_working_seconds(c, from, (long long) minutes * 60);
}


/* working seconds of local day `day` within [lo, hi) seconds of the day */
static int64_t
tthc_cal_day_worked(const tthc_calendar_t *c, int64_t day, int64_t lo,
    int64_t hi)
{
    const tthc_period_t  *p;
    int64_t               s, e, sum;
    int                   k, n;

    n = tthc_cal_day_periods(c, day, &p);
    sum = 0;

    for (k = 0; k < n; k++) {
        s = (int64_t) p[k].start_min * 60;
        e = (int64_t) p[k].end_min * 60;

        if (s < lo) {
            s = lo;
        }

        if (e > hi) {
            e = hi;
        }

        if (s < e) {
            sum += e - s;
        }
    }

    return sum;
}


time_t
tthc_add_working_days(const tthc_calendar_t *c, time_t from, int n)
{
    const tthc_period_t  *p;
    int64_t               day, sod, d2, idle, rem, end;
    int                   k, np;

    if (c == NULL || n < 0 || n > TTHC_CAL_MAX_SPAN_DAYS) {
        return (time_t) -1;
    }

    /* T2: an instant outside working time first moves to the next period */
    tthc_cal_split(from, &day, &sod);

    if (tthc_cal_next_start(c, &day, &sod) != 0) {
        return (time_t) -1;
    }

    /* T2: the n-th working day after day, counting holidays out and make-up days in */
    d2 = day;
    idle = 0;

    while (n > 0) {
        d2++;

        if (tthc_cal_day_periods(c, d2, &p) > 0) {
            n--;
            idle = 0;

        } else if (++idle > TTHC_CAL_SEARCH_DAYS) {
            return (time_t) -1;
        }
    }

    /* the same time of day, when it is working time on d2 */
    np = tthc_cal_day_periods(c, d2, &p);

    for (k = 0; k < np; k++) {
        if (sod >= (int64_t) p[k].start_min * 60
            && sod < (int64_t) p[k].end_min * 60)
        {
            return tthc_cal_instant(d2, sod);
        }
    }

    /* else the same working time elapsed since the day's start, capped at its end */
    rem = tthc_cal_day_worked(c, day, 0, sod);

    if (tthc_cal_consume(c, d2, 0, &rem, &end) != 0) {
        end = (int64_t) p[np - 1].end_min * 60;
    }

    return tthc_cal_instant(d2, end);
}


long long
tthc_working_seconds_between(const tthc_calendar_t *c, time_t a, time_t b)
{
    int64_t  da, sa, db, sb, d, sum;

    if (c == NULL || a == b) {
        return 0;
    }

    if (b < a) {
        return -tthc_working_seconds_between(c, b, a);
    }

    tthc_cal_split(a, &da, &sa);
    tthc_cal_split(b, &db, &sb);

    if (db - da > TTHC_CAL_MAX_SPAN_DAYS) {
        return 0;
    }

    sum = 0;

    for (d = da; d <= db; d++) {
        sum += tthc_cal_day_worked(c, d, d == da ? sa : 0,
                                   d == db ? sb : TTHC_CAL_DAY_SEC);
    }

    return sum;
}


long
tthc_working_minutes_between(const tthc_calendar_t *c, time_t a, time_t b)
{
    return (long) (tthc_working_seconds_between(c, a, b) / 60);
}


/* ---- text format ---- */

typedef struct {
    const char  *p;
    size_t       len;
} tthc_cal_tok_t;

typedef struct {
    int     *v;
    size_t   n, cap;
} tthc_cal_list_t;


static int
tthc_cal_num(const char *p, size_t n)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }

    return v;
}


/* "HH:MM", 00:00..24:00; minutes after midnight or -1 */
static int
tthc_cal_parse_hm(const char *p, size_t n)
{
    int  h, m;

    if (n != 5 || p[2] != ':') {
        return -1;
    }

    h = tthc_cal_num(p, 2);
    m = tthc_cal_num(p + 3, 2);

    if (h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0)) {
        return -1;
    }

    return h * 60 + m;
}


/* "YYYY-MM-DD" real date; YYYYMMDD or -1 */
static int
tthc_cal_parse_date(const char *p, size_t n)
{
    int  y, m, d, ymd;

    if (n != 10 || p[4] != '-' || p[7] != '-') {
        return -1;
    }

    y = tthc_cal_num(p, 4);
    m = tthc_cal_num(p + 5, 2);
    d = tthc_cal_num(p + 8, 2);

    if (y < 0 || m < 0 || d < 0) {
        return -1;
    }

    ymd = y * 10000 + m * 100 + d;

    return tthc_cal_days_from_ymd(ymd) == INT64_MIN ? -1 : ymd;
}


static int
tthc_cal_tok_is(const tthc_cal_tok_t *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}


static int
tthc_cal_list_add(tthc_cal_list_t *l, int v)
{
    int     *nv;
    size_t   ncap;

    if (l->n == l->cap) {
        ncap = l->cap ? l->cap * 2 : 32;
        nv = realloc(l->v, ncap * sizeof(int));

        if (nv == NULL) {
            return -1;
        }

        l->v = nv;
        l->cap = ncap;
    }

    l->v[l->n++] = v;

    return 0;
}


/* splits a line into at most `max` tokens (the rest is dropped); '#' after a blank ends it */
static size_t
tthc_cal_tokens(const char *p, size_t len, tthc_cal_tok_t *tok, size_t max)
{
    size_t  i, s, n;

    n = 0;
    i = 0;

    while (i < len && n < max) {
        while (i < len && (p[i] == ' ' || p[i] == '\t')) {
            i++;
        }

        if (i == len || p[i] == '#') {
            break;
        }

        s = i;

        while (i < len && p[i] != ' ' && p[i] != '\t') {
            i++;
        }

        tok[n].p = p + s;
        tok[n].len = i - s;
        n++;
    }

    return n;
}


static const char *
tthc_cal_line(tthc_calendar_t *c, const tthc_cal_tok_t *tok, size_t ntok,
    tthc_cal_list_t *hol, tthc_cal_list_t *mk)
{
    static const char  *days[7] = { "sun", "mon", "tue", "wed",
                                    "thu", "fri", "sat" };
    tthc_period_t       per[TTHC_CAL_MAX_PERIODS];
    const char         *dash;
    size_t              i;
    int                 wd, s, e, v;

    if (tthc_cal_tok_is(&tok[0], "hours")) {
        if (ntok < 3) {
            return "hours: weekday and periods (or \"off\") expected";
        }

        for (wd = 0; wd < 7; wd++) {
            if (tthc_cal_tok_is(&tok[1], days[wd])) {
                break;
            }
        }

        if (wd == 7) {
            return "hours: unknown weekday (sun mon tue wed thu fri sat)";
        }

        if (ntok == 3 && tthc_cal_tok_is(&tok[2], "off")) {
            c->nperiods[wd] = 0;
            return NULL;
        }

        if (ntok - 2 > TTHC_CAL_MAX_PERIODS) {
            return "hours: more than 4 periods";
        }

        for (i = 2; i < ntok; i++) {
            dash = memchr(tok[i].p, '-', tok[i].len);

            if (dash == NULL) {
                return "hours: period HH:MM-HH:MM expected";
            }

            s = tthc_cal_parse_hm(tok[i].p, (size_t) (dash - tok[i].p));
            e = tthc_cal_parse_hm(dash + 1,
                                  tok[i].len - (size_t) (dash - tok[i].p) - 1);

            if (s < 0 || e < 0 || s >= 24 * 60) {
                return "hours: bad time (HH:MM, 00:00..24:00)";
            }

            if (s >= e) {
                return "hours: period ends before it starts";
            }

            if (i > 2 && s < per[i - 3].end_min) {
                return "hours: periods overlap or are out of order";
            }

            per[i - 2].start_min = s;
            per[i - 2].end_min = e;
        }

        memcpy(c->week[wd], per, (ntok - 2) * sizeof(tthc_period_t));
        c->nperiods[wd] = (int) (ntok - 2);

        return NULL;
    }

    if (tthc_cal_tok_is(&tok[0], "holiday")
        || tthc_cal_tok_is(&tok[0], "makeup"))
    {
        if (ntok < 2) {
            return "date YYYY-MM-DD expected";
        }

        v = tthc_cal_parse_date(tok[1].p, tok[1].len);

        if (v < 0) {
            return "bad date (YYYY-MM-DD, a real date)";
        }

        /* linear scans: a calendar lists a few dozen dates a year */
        for (i = 0; i < hol->n + mk->n; i++) {
            if ((i < hol->n ? hol->v[i] : mk->v[i - hol->n]) == v) {
                return "date listed twice (as holiday or makeup)";
            }
        }

        if (tthc_cal_list_add(tok[0].p[0] == 'h' ? hol : mk, v) != 0) {
            return "out of memory";
        }

        return NULL;
    }

    if (tthc_cal_tok_is(&tok[0], "cutoff")) {
        if (ntok != 2) {
            return "cutoff: one HH:MM or \"none\" expected";
        }

        if (tthc_cal_tok_is(&tok[1], "none")) {
            c->cutoff_min = TTHC_CAL_CUTOFF_NONE;
            return NULL;
        }

        v = tthc_cal_parse_hm(tok[1].p, tok[1].len);

        if (v < 0 || v >= 24 * 60) {
            return "cutoff: bad time (HH:MM)";
        }

        c->cutoff_min = v;

        return NULL;
    }

    return "unknown directive (hours, holiday, makeup, cutoff)";
}


int
tthc_calendar_load(tthc_calendar_t *c, const char *text, size_t len,
    char *err, size_t errsz)
{
    tthc_cal_tok_t    tok[2 + TTHC_CAL_MAX_PERIODS + 1];
    tthc_cal_list_t   hol, mk;
    const char       *p, *nl, *why;
    size_t            ll, ntok, maxtok;
    unsigned long     line;

    if (err != NULL && errsz > 0) {
        err[0] = '\0';
    }

    if (c == NULL) {
        return -1;
    }

    tthc_calendar_default(c);

    if (text == NULL && len > 0) {
        if (err != NULL && errsz > 0) {
            snprintf(err, errsz, "no text");
        }
        return -1;
    }

    memset(&hol, 0, sizeof(hol));
    memset(&mk, 0, sizeof(mk));

    p = text;
    line = 0;
    why = NULL;

    while (len > 0) {
        line++;
        nl = memchr(p, '\n', len);
        ll = nl != NULL ? (size_t) (nl - p) : len;

        if (memchr(p, '\0', ll) != NULL) {
            why = "NUL byte";
            goto failed;
        }

        /* hours/cutoff take at most 6 tokens: one more shows an excess */
        maxtok = sizeof(tok) / sizeof(tok[0]);
        ntok = tthc_cal_tokens(p, ll > 0 && p[ll - 1] == '\r' ? ll - 1 : ll,
                               tok, maxtok);

        if (ntok > 0) {
            if ((tthc_cal_tok_is(&tok[0], "holiday")
                 || tthc_cal_tok_is(&tok[0], "makeup")) && ntok > 2)
            {
                ntok = 2;       /* the rest is the day's name */
            }

            why = tthc_cal_line(c, tok, ntok, &hol, &mk);

            if (why != NULL) {
                goto failed;
            }
        }

        if (nl == NULL) {
            break;
        }

        len -= ll + 1;
        p = nl + 1;
    }

    if (hol.n > 1) {
        qsort(hol.v, hol.n, sizeof(int), tthc_cal_cmp_int);
    }

    if (mk.n > 1) {
        qsort(mk.v, mk.n, sizeof(int), tthc_cal_cmp_int);
    }

    c->holidays = hol.v;
    c->nholidays = hol.n;
    c->makeup = mk.v;
    c->nmakeup = mk.n;

    return 0;

failed:

    if (err != NULL && errsz > 0) {
        snprintf(err, errsz, "line %lu: %s", line, why);
    }

    free(hol.v);
    free(mk.v);
    tthc_calendar_default(c);

    return -1;
}


time_t
tthc_warn_instant(const tthc_calendar_t *c, time_t to, long long seconds)
{
    time_t  lo, hi, mid;

    if (seconds <= 0) {
        return to;
    }

    lo = to - 90L * 86400;

    if (tthc_working_seconds_between(c, lo, to) < seconds) {
        return lo;
    }

    /* invariant: between(lo, to) >= seconds, between(hi, to) < seconds */
    hi = to;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (tthc_working_seconds_between(c, mid, to) >= seconds) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return hi;
}
