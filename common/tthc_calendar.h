/*
 * tthc_calendar.h — administrative working-time calendar: working hours per
 * weekday, holidays and make-up working days as data, the receipt cut-off,
 * working-day / working-time arithmetic.
 *   DOMAIN T1 (receipt time, 15:00 cut-off): 004_74531fefebb0c8b7.txt Art.11.1-2,
 *     000_538ffb44eb122555.txt Art.14.1;
 *   DOMAIN T2 (deadline in working time, to the minute): 004_74531fefebb0c8b7.txt
 *     Art.11.2-3, 000_538ffb44eb122555.txt Art.14.1-2;
 *   DOMAIN T2a (holidays, Labour Code 2019 Art.112): the exact days off, swaps
 *     and make-up working Saturdays are announced each year, so they are data.
 *
 * All instants are UTC time_t; local time is Asia/Ho_Chi_Minh, fixed UTC+7
 * (TTHC_TZ_OFFSET_SEC of tthc_time.h; TZ is never read). Periods are given to
 * the minute; instants keep their seconds (14:59:59 is before a 15:00 cut-off,
 * adding working days to 09:10:42 ends at hh:mm:42).
 *
 * A working period [start, end) is half-open: its start is working time, its
 * end is not (11:30 ends the morning and is not working time; 13:00 is).
 * Every function returning time_t returns (time_t) -1 on error: NULL calendar,
 * negative count, a count over TTHC_CAL_MAX_SPAN_DAYS days (or that many
 * days' seconds), or no working day within TTHC_CAL_SEARCH_DAYS consecutive
 * days (a calendar without working time).
 */
#ifndef TTHC_CALENDAR_H
#define TTHC_CALENDAR_H

#include <stddef.h>
#include <time.h>

#define TTHC_CAL_MAX_PERIODS   4       /* per day */
#define TTHC_CAL_CUTOFF_NONE   (-1)    /* cutoff_min: no receipt cut-off */
#define TTHC_CAL_SEARCH_DAYS   3660    /* max consecutive non-working days */
#define TTHC_CAL_MAX_SPAN_DAYS (400L * 366)   /* bound of every count/span */

typedef struct {
    int  start_min;          /* minutes after local midnight, 0..1439 */
    int  end_min;            /* exclusive, start_min < end_min <= 1440 */
} tthc_period_t;

/*
 * A calendar may be filled by hand (then holidays[] and makeup[] must be
 * sorted ascending without duplicates; the caller owns them) or by
 * tthc_calendar_load() (then tthc_calendar_free() releases them).
 *   week[wd][0..nperiods[wd])  periods of weekday wd (0 = Sunday .. 6 =
 *                              Saturday), ascending, non-overlapping;
 *   holidays                   local dates YYYYMMDD with no working time;
 *   makeup                     local dates YYYYMMDD worked with Monday's
 *                              periods (make-up working Saturdays, T2a);
 *                              a date in both lists is a holiday;
 *   cutoff_min                 receipt cut-off in minutes after local
 *                              midnight (900 = 15:00, T1), or
 *                              TTHC_CAL_CUTOFF_NONE.
 */
typedef struct {
    tthc_period_t   week[7][TTHC_CAL_MAX_PERIODS];
    int             nperiods[7];
    int            *holidays;
    size_t          nholidays;
    int            *makeup;
    size_t          nmakeup;
    int             cutoff_min;
} tthc_calendar_t;

/*
 * The default schedule (DOMAIN T2): Monday-Friday 07:30-11:30 and
 * 13:00-17:00, Saturday and Sunday off, cut-off 15:00, no exceptions.
 * Does not free anything already in c.
 */
void tthc_calendar_default(tthc_calendar_t *c);

/*
 * Loads a calendar from text. c need not be initialised: it starts as
 * tthc_calendar_default() and each line changes it. Format, one directive
 * per line, tokens separated by spaces or tabs, '#' starts a comment (at the
 * start of a line or after a blank), empty lines ignored, LF or CRLF:
 *
 *   hours mon 07:30-11:30 13:00-17:00   replaces the periods of a weekday
 *                                       (sun mon tue wed thu fri sat), 1..4
 *                                       periods HH:MM-HH:MM, ascending and
 *                                       non-overlapping; 24:00 allowed as end
 *   hours sat off                       the weekday has no working time
 *   holiday 2026-02-16 Tết Nguyên đán   a day off; the rest of the line is a
 *                                       free-text name (ignored)
 *   makeup 2026-01-10 [name]            a working day with Monday's periods
 *   cutoff 15:00 | cutoff none          the T1 receipt cut-off
 *
 * A date may appear once, in one list. Returns 0, or -1 with
 * "line N: reason" in err (if errsz > 0) and c left as the default
 * calendar without exceptions (tthc_calendar_free() is still safe).
 */
int tthc_calendar_load(tthc_calendar_t *c, const char *text, size_t len,
    char *err, size_t errsz);

/* frees the lists allocated by tthc_calendar_load(); c keeps its schedule */
void tthc_calendar_free(tthc_calendar_t *c);

/* 1 if local date ymd (YYYYMMDD) has working time, 0 if not or not a date */
int tthc_is_working_day(const tthc_calendar_t *c, int ymd);

/* t itself if t is working time, else the start of the next working period */
time_t tthc_next_working_start(const tthc_calendar_t *c, time_t t);

/*
 * DOMAIN T1 receipt time of a dossier accepted at `accepted`: on a working
 * day at or after the cut-off (15:00:00 inclusive) -> the start of the next
 * working day's first period; otherwise tthc_next_working_start() (before
 * opening, lunch, after hours, days off -> start of the next period).
 */
time_t tthc_receipt_time(const tthc_calendar_t *c, time_t accepted);

/*
 * DOMAIN T2 "n working days" from `from` (n >= 0). from is first moved to
 * tthc_next_working_start() = s, on local day D at time of day h. The end is
 * day D' = the n-th working day after D, at time of day h. If h is not working
 * time on D' (schedules that differ between days), the end is the instant of
 * D' at which as much working time of D' has elapsed as had elapsed on D
 * before h, capped at the end of the last period of D'. n = 0 returns s.
 * Applies no cut-off: pass tthc_receipt_time() as from for a deadline.
 */
time_t tthc_add_working_days(const tthc_calendar_t *c, time_t from, int n);

/*
 * The instant at which `seconds` (>= 0) of working time have elapsed since
 * from: the count starts at tthc_next_working_start(from); an end falling on
 * a period's end is that end (11:30, not 13:00). 0 returns the start.
 */
time_t tthc_add_working_seconds(const tthc_calendar_t *c, time_t from,
    long long seconds);

/* tthc_add_working_seconds(c, from, minutes * 60), minutes >= 0 */
time_t tthc_add_working_minutes(const tthc_calendar_t *c, time_t from,
    long minutes);

/*
 * Working time elapsed in [a, b), in seconds; negative (-[b, a)) if b < a.
 * Spans longer than TTHC_CAL_MAX_SPAN_DAYS or a NULL c give 0.
 */
long long tthc_working_seconds_between(const tthc_calendar_t *c, time_t a,
    time_t b);

/* the same in whole minutes, truncated toward zero */
long tthc_working_minutes_between(const tthc_calendar_t *c, time_t a,
    time_t b);

/*
 * T9 warnings: the first instant from which less than `seconds` of working
 * time remain before `to` (so "yellow" from there on when seconds is one
 * working day).  Searches at most 90 calendar days back; if even that far
 * less than `seconds` remain, returns to - 90 days.  seconds <= 0 gives to.
 */
time_t tthc_warn_instant(const tthc_calendar_t *c, time_t to,
    long long seconds);

#endif /* TTHC_CALENDAR_H */
