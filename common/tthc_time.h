/*
 * tthc_time.h — instants are stored in UTC and shown in Asia/Ho_Chi_Minh,
 * a fixed UTC+7 with no DST since 1975 (IANA tzdata "Asia/Ho_Chi_Minh"),
 * RFC 3339 text forms. DOMAIN D1 (receiving date YYMMDD is the local date), T1.
 * Pure arithmetic: never reads TZ or the libc time-zone state.
 */
#ifndef TTHC_TIME_H
#define TTHC_TIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TTHC_TZ_OFFSET_SEC  (7 * 3600)

/* Local (UTC+7) calendar date of t; yy = year % 100. Any pointer may be NULL. */
void tthc_local_date(time_t t, int *yy, int *mm, int *dd);

/* "2026-11-28T05:34:56Z"; returns length (20), 0 if sz < 21 or year outside 0000..9999. */
size_t tthc_fmt_utc(char *out, size_t sz, time_t t);

/* "2026-11-28T12:34:56+07:00"; returns length (25), 0 if sz < 26 or year outside 0000..9999. */
size_t tthc_fmt_local(char *out, size_t sz, time_t t);

/*
 * Parses exactly the tthc_fmt_utc form "YYYY-MM-DDTHH:MM:SSZ" (uppercase T
 * and Z, real calendar date, 00..23:00..59:00..59 — leap second 60 rejected).
 * 0 ok, -1 bad.
 */
int tthc_parse_utc(const char *s, size_t len, time_t *t);

/*
 * Proleptic Gregorian day numbers (days since 1970-01-01) and civil dates,
 * after H. Hinnant's algorithms; the one implementation (tthc_calendar.c
 * uses it too).
 */
int64_t tthc_days_from_civil(int64_t y, int m, int d);
/* division rounding toward minus infinity (b > 0 or b < 0, b != 0) */
int64_t tthc_floor_div(int64_t a, int64_t b);
void tthc_date_from_days(int64_t z, int64_t *y, int *m, int *d);

#endif /* TTHC_TIME_H */
