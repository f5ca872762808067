/*
 * tthc_time.c — UTC storage / Asia/Ho_Chi_Minh (fixed UTC+7, no DST since
 * 1975) display, RFC 3339 forms; DOMAIN D1 (YYMMDD is the local receiving
 * date) and T1. Civil-date arithmetic after H. Hinnant, "chrono-compatible
 * low-level date algorithms" (proleptic Gregorian), so no TZ/libc state.
 */
#include <stdint.h>
#include <stdio.h>

#include "tthc_time.h"

#define TTHC_DAY_SEC  86400


typedef struct {
    int64_t  year;
    int      mon, day, hour, min, sec;
} tthc_civil_t;


int64_t
tthc_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}


static void
tthc_civil_from_days(int64_t z, tthc_civil_t *c)
{
    int64_t   era, doe, yoe, doy, mp;

    z += 719468;
    era = tthc_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    c->day = (int) (doy - (153 * mp + 2) / 5 + 1);
    c->mon = (int) (mp < 10 ? mp + 3 : mp - 9);
    c->year = yoe + era * 400 + (c->mon <= 2);
}


int64_t
tthc_days_from_civil(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    y -= (m <= 2);
    era = tthc_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


void
tthc_date_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    tthc_civil_t  c;

    tthc_civil_from_days(z, &c);

    *y = c.year;
    *m = c.mon;
    *d = c.day;
}


/* splits t + off into civil fields without overflowing time_t */
static void
tthc_split(time_t t, int off, tthc_civil_t *c)
{
    int64_t  days, secs;

    days = (int64_t) t / TTHC_DAY_SEC;
    secs = (int64_t) t % TTHC_DAY_SEC;

    if (secs < 0) {
        secs += TTHC_DAY_SEC;
        days--;
    }

    secs += off;

    if (secs >= TTHC_DAY_SEC) {
        secs -= TTHC_DAY_SEC;
        days++;
    }

    tthc_civil_from_days(days, c);
    c->hour = (int) (secs / 3600);
    c->min = (int) (secs / 60 % 60);
    c->sec = (int) (secs % 60);
}


void
tthc_local_date(time_t t, int *yy, int *mm, int *dd)
{
    tthc_civil_t  c;
    int64_t       y;

    tthc_split(t, TTHC_TZ_OFFSET_SEC, &c);

    y = c.year % 100;
    if (y < 0) {
        y += 100;
    }

    if (yy != NULL) {
        *yy = (int) y;
    }

    if (mm != NULL) {
        *mm = c.mon;
    }

    if (dd != NULL) {
        *dd = c.day;
    }
}


static size_t
tthc_fmt(char *out, size_t sz, time_t t, int off, const char *suffix,
    size_t want)
{
    tthc_civil_t  c;
    int           n;

    if (out == NULL || sz == 0) {
        return 0;
    }

    out[0] = '\0';

    if (sz < want + 1) {
        return 0;
    }

    tthc_split(t, off, &c);

    if (c.year < 0 || c.year > 9999) {
        return 0;
    }

    n = snprintf(out, sz, "%04d-%02d-%02dT%02d:%02d:%02d%s",
                 (int) c.year, c.mon, c.day, c.hour, c.min, c.sec, suffix);

    if (n < 0 || (size_t) n != want) {
        out[0] = '\0';
        return 0;
    }

    return (size_t) n;
}


size_t
tthc_fmt_utc(char *out, size_t sz, time_t t)
{
    return tthc_fmt(out, sz, t, 0, "Z", 20);
}


size_t
tthc_fmt_local(char *out, size_t sz, time_t t)
{
    return tthc_fmt(out, sz, t, TTHC_TZ_OFFSET_SEC, "+07:00", 25);
}


static int
tthc_time_num(const char *p, size_t n)
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


int
tthc_parse_utc(const char *s, size_t len, time_t *t)
{
    int           y, mo, d, h, mi, se, dim;
    int64_t       days;
    tthc_civil_t  c;

    /* YYYY-MM-DDTHH:MM:SSZ */
    if (s == NULL || len != 20
        || s[4] != '-' || s[7] != '-' || s[10] != 'T'
        || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
    {
        return -1;
    }

    y = tthc_time_num(s, 4);
    mo = tthc_time_num(s + 5, 2);
    d = tthc_time_num(s + 8, 2);
    h = tthc_time_num(s + 11, 2);
    mi = tthc_time_num(s + 14, 2);
    se = tthc_time_num(s + 17, 2);

    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23
        || mi < 0 || mi > 59 || se < 0 || se > 59)
    {
        return -1;
    }

    /* day-of-month check: round-trip through the civil calendar */
    days = tthc_days_from_civil(y, mo, d);
    tthc_civil_from_days(days, &c);

    dim = (c.year == y && c.mon == mo && c.day == d);
    if (!dim) {
        return -1;
    }

    if (t != NULL) {
        *t = (time_t) (days * TTHC_DAY_SEC + h * 3600 + mi * 60 + se);
    }

    return 0;
}
