/*
 * test_calendar.c — unit tests of common/tthc_calendar: working-time
 * calendar, DOMAIN T1 (receipt time, 15:00 cut-off; 000 Art.14.1, 004
 * Art.11.2), T2 (deadline in working time; 004 Art.11.2-3, 000 Art.14.2),
 * T2a (holidays and make-up days as data).
 *
 * Every row of `cases` is one cmocka test with a hand-computed expectation.
 * Instants are written in local time (UTC+7). Weekdays used:
 *   2026-03-02 Mon .. 2026-03-06 Fri, 03-07 Sat, 03-08 Sun, 03-09 Mon;
 *   2025-12-31 Wed, 2026-01-01 Thu (holiday), 2026-01-02 Fri, 01-10 Sat;
 *   2026-02-12 Thu, 02-13 Fri, 02-14 Sat .. 02-22 Sun (Tết), 02-23 Mon.
 */
#include <stdio.h>
#include <time.h>

#include "tthc_test.h"
#include "tthc_calendar.h"
#include "tthc_time.h"

/*
 * VN 2026 test data (T2a). Tết Bính Ngọ 2026 as the government announced it
 * for civil servants: Saturday 14 Feb to Sunday 22 Feb 2026 off (the
 * weekend days are listed too; harmless). New Year: Thursday 1 Jan 2026.
 * The make-up Saturday 10 Jan 2026 is test data only, NOT an announced swap.
 */
static const char  vn_text[] =
    "# test calendar 2026 (DOMAIN T2a)\n"
    "holiday 2026-01-01 Tết Dương lịch\n"
    "makeup  2026-01-10   # test-only make-up Saturday\n"
    "holiday 2026-02-14 Tết Nguyên đán\n"
    "holiday 2026-02-15\n"
    "holiday 2026-02-16\n"
    "holiday 2026-02-17\n"
    "holiday 2026-02-18\n"
    "holiday 2026-02-19\n"
    "holiday 2026-02-20\n"
    "holiday 2026-02-21\n"
    "holiday 2026-02-22\n";

/* short Friday, Saturday morning: "same time of day" not working (T2) */
static const char  short_text[] =
    "hours fri 07:30-11:30\r\n"
    "hours sat 08:00-12:00\r\n";

static const char  nocut_text[] = "cutoff none\n";

enum { CAL_DEF, CAL_VN, CAL_SHORT, CAL_NOCUT, CAL_N };

static tthc_calendar_t  cals[CAL_N];

typedef enum {
    OP_NEXT, OP_RECEIPT, OP_DAYS, OP_MINS, OP_BETWEEN, OP_WORKDAY
} op_t;

typedef struct {
    const char  *name;
    int          cal;
    op_t         op;
    const char  *a;          /* local "YYYY-MM-DD HH:MM:SS" */
    long         n;          /* days / minutes / ymd */
    const char  *want;       /* local instant, or NULL: use want_n */
    long         want_n;     /* minutes between, 0/1 working day, -1 error */
} cal_case_t;

static const cal_case_t  cases[] = {
    /* --- T1/T2: start of the next working period (004 Art.11.2) --- */
    { "next_inside_morning", CAL_DEF, OP_NEXT,
      "2026-03-04 09:00:00", 0, "2026-03-04 09:00:00", 0 },
    { "next_before_0730", CAL_DEF, OP_NEXT,
      "2026-03-04 06:00:00", 0, "2026-03-04 07:30:00", 0 },
    { "next_at_0730_is_working", CAL_DEF, OP_NEXT,
      "2026-03-04 07:30:00", 0, "2026-03-04 07:30:00", 0 },
    { "next_at_1130_is_lunch", CAL_DEF, OP_NEXT,
      "2026-03-04 11:30:00", 0, "2026-03-04 13:00:00", 0 },
    { "next_at_lunch", CAL_DEF, OP_NEXT,
      "2026-03-04 12:15:10", 0, "2026-03-04 13:00:00", 0 },
    { "next_at_1300_is_working", CAL_DEF, OP_NEXT,
      "2026-03-04 13:00:00", 0, "2026-03-04 13:00:00", 0 },
    { "next_at_165959_is_working", CAL_DEF, OP_NEXT,
      "2026-03-04 16:59:59", 0, "2026-03-04 16:59:59", 0 },
    { "next_at_1700_next_day", CAL_DEF, OP_NEXT,
      "2026-03-04 17:00:00", 0, "2026-03-05 07:30:00", 0 },
    { "next_friday_evening_monday", CAL_DEF, OP_NEXT,
      "2026-03-06 18:00:00", 0, "2026-03-09 07:30:00", 0 },
    { "next_saturday_monday", CAL_DEF, OP_NEXT,
      "2026-03-07 10:00:00", 0, "2026-03-09 07:30:00", 0 },
    { "next_sunday_late_monday", CAL_DEF, OP_NEXT,
      "2026-03-08 23:59:59", 0, "2026-03-09 07:30:00", 0 },
    { "next_tet_eve_after_tet", CAL_VN, OP_NEXT,
      "2026-02-13 17:00:00", 0, "2026-02-23 07:30:00", 0 },
    { "next_inside_makeup_saturday", CAL_VN, OP_NEXT,
      "2026-01-10 09:00:00", 0, "2026-01-10 09:00:00", 0 },
    { "next_friday_to_makeup_saturday", CAL_VN, OP_NEXT,
      "2026-01-09 17:30:00", 0, "2026-01-10 07:30:00", 0 },
    { "next_new_year_eve_skips_1_jan", CAL_VN, OP_NEXT,
      "2025-12-31 17:00:00", 0, "2026-01-02 07:30:00", 0 },

    /* --- T1 receipt time, 15:00 cut-off inclusive (000 Art.14.1) --- */
    { "receipt_145959_same", CAL_DEF, OP_RECEIPT,
      "2026-03-04 14:59:59", 0, "2026-03-04 14:59:59", 0 },
    { "receipt_150000_next_day", CAL_DEF, OP_RECEIPT,
      "2026-03-04 15:00:00", 0, "2026-03-05 07:30:00", 0 },
    { "receipt_1600_next_day", CAL_DEF, OP_RECEIPT,
      "2026-03-04 16:00:00", 0, "2026-03-05 07:30:00", 0 },
    { "receipt_friday_1500_monday", CAL_DEF, OP_RECEIPT,
      "2026-03-06 15:00:00", 0, "2026-03-09 07:30:00", 0 },
    { "receipt_before_0730", CAL_DEF, OP_RECEIPT,
      "2026-03-04 06:45:00", 0, "2026-03-04 07:30:00", 0 },
    { "receipt_lunch_1300", CAL_DEF, OP_RECEIPT,
      "2026-03-04 12:00:00", 0, "2026-03-04 13:00:00", 0 },
    { "receipt_saturday_monday", CAL_DEF, OP_RECEIPT,
      "2026-03-07 09:00:00", 0, "2026-03-09 07:30:00", 0 },
    { "receipt_tet_eve_1500", CAL_VN, OP_RECEIPT,
      "2026-02-13 15:00:00", 0, "2026-02-23 07:30:00", 0 },
    { "receipt_tet_eve_145959", CAL_VN, OP_RECEIPT,
      "2026-02-13 14:59:59", 0, "2026-02-13 14:59:59", 0 },
    { "receipt_in_tet", CAL_VN, OP_RECEIPT,
      "2026-02-17 10:00:00", 0, "2026-02-23 07:30:00", 0 },
    { "receipt_makeup_sat_1500", CAL_VN, OP_RECEIPT,
      "2026-01-10 15:00:00", 0, "2026-01-12 07:30:00", 0 },
    { "receipt_year_end_1530", CAL_VN, OP_RECEIPT,
      "2025-12-31 15:30:00", 0, "2026-01-02 07:30:00", 0 },
    { "receipt_cutoff_none", CAL_NOCUT, OP_RECEIPT,
      "2026-03-04 15:30:00", 0, "2026-03-04 15:30:00", 0 },

    /* --- T2 N working days: same time of day (004 Art.11.2-3) --- */
    { "days_0_inside", CAL_DEF, OP_DAYS,
      "2026-03-04 09:00:00", 0, "2026-03-04 09:00:00", 0 },
    { "days_0_outside_moves", CAL_DEF, OP_DAYS,
      "2026-03-04 18:00:00", 0, "2026-03-05 07:30:00", 0 },
    { "days_1_from_1600", CAL_DEF, OP_DAYS,
      "2026-03-04 16:00:00", 1, "2026-03-05 16:00:00", 0 },
    { "days_1_friday_seconds_kept", CAL_DEF, OP_DAYS,
      "2026-03-06 10:00:42", 1, "2026-03-09 10:00:42", 0 },
    { "days_5_one_week", CAL_DEF, OP_DAYS,
      "2026-03-02 09:00:00", 5, "2026-03-09 09:00:00", 0 },
    { "days_1_from_lunch", CAL_DEF, OP_DAYS,
      "2026-03-04 12:00:00", 1, "2026-03-05 13:00:00", 0 },
    { "days_1_from_1700", CAL_DEF, OP_DAYS,
      "2026-03-04 17:00:00", 1, "2026-03-06 07:30:00", 0 },
    { "days_2_over_tet", CAL_VN, OP_DAYS,
      "2026-02-12 10:00:00", 2, "2026-02-23 10:00:00", 0 },
    { "days_1_year_boundary", CAL_VN, OP_DAYS,
      "2025-12-31 09:00:00", 1, "2026-01-02 09:00:00", 0 },
    { "days_1_to_makeup_saturday", CAL_VN, OP_DAYS,
      "2026-01-09 14:00:00", 1, "2026-01-10 14:00:00", 0 },
    { "days_2_over_makeup_saturday", CAL_VN, OP_DAYS,
      "2026-01-09 14:00:00", 2, "2026-01-12 14:00:00", 0 },
    { "days_short_friday_working", CAL_SHORT, OP_DAYS,
      "2026-03-05 10:00:00", 1, "2026-03-06 10:00:00", 0 },
    /* Thu 14:00: 5h elapsed that day; Friday has 4h -> its end 11:30 */
    { "days_short_friday_capped", CAL_SHORT, OP_DAYS,
      "2026-03-05 14:00:00", 1, "2026-03-06 11:30:00", 0 },
    /* Thu 07:45: 15 min elapsed; Sat 07:45 not working -> 08:00 + 15 min */
    { "days_saturday_equiv_elapsed", CAL_SHORT, OP_DAYS,
      "2026-03-05 07:45:00", 2, "2026-03-07 08:15:00", 0 },
    /* Fri 07:30: 0 elapsed -> the start of Saturday's first period */
    { "days_saturday_equiv_zero", CAL_SHORT, OP_DAYS,
      "2026-03-06 07:30:00", 1, "2026-03-07 08:00:00", 0 },
    { "days_negative_error", CAL_DEF, OP_DAYS,
      "2026-03-04 09:00:00", -1, NULL, -1 },

    /* --- T2 working minutes/hours, to the minute (000 Art.14.2) --- */
    { "mins_60_across_lunch", CAL_DEF, OP_MINS,
      "2026-03-04 11:00:00", 60, "2026-03-04 13:30:00", 0 },
    { "mins_end_on_1130_stays", CAL_DEF, OP_MINS,
      "2026-03-04 11:00:00", 30, "2026-03-04 11:30:00", 0 },
    { "mins_0_from_lunch", CAL_DEF, OP_MINS,
      "2026-03-04 12:00:00", 0, "2026-03-04 13:00:00", 0 },
    { "mins_8h_from_1600", CAL_DEF, OP_MINS,
      "2026-03-04 16:00:00", 480, "2026-03-05 16:00:00", 0 },
    { "mins_over_weekend", CAL_DEF, OP_MINS,
      "2026-03-06 16:30:00", 60, "2026-03-09 08:00:00", 0 },
    { "mins_over_tet", CAL_VN, OP_MINS,
      "2026-02-13 16:00:00", 120, "2026-02-23 08:30:00", 0 },
    { "mins_40h_week_ends_friday_1700", CAL_DEF, OP_MINS,
      "2026-03-02 07:30:00", 2400, "2026-03-06 17:00:00", 0 },
    { "mins_seconds_carried", CAL_DEF, OP_MINS,
      "2026-03-04 09:00:30", 1, "2026-03-04 09:01:30", 0 },
    { "mins_negative_error", CAL_DEF, OP_MINS,
      "2026-03-04 09:00:00", -5, NULL, -1 },

    /* --- T2/T3 working time elapsed in [a, b), minutes --- */
    { "between_across_lunch", CAL_DEF, OP_BETWEEN,
      "2026-03-04 11:00:00", 0, "2026-03-04 13:30:00", 60 },
    { "between_across_weekend", CAL_DEF, OP_BETWEEN,
      "2026-03-06 16:00:00", 0, "2026-03-09 08:00:00", 90 },
    { "between_across_tet", CAL_VN, OP_BETWEEN,
      "2026-02-13 16:00:00", 0, "2026-02-23 08:00:00", 90 },
    { "between_full_week_2400", CAL_DEF, OP_BETWEEN,
      "2026-03-02 00:00:00", 0, "2026-03-09 00:00:00", 2400 },
    { "between_reversed_negative", CAL_DEF, OP_BETWEEN,
      "2026-03-04 13:30:00", 0, "2026-03-04 11:00:00", -60 },
    { "between_same_instant", CAL_DEF, OP_BETWEEN,
      "2026-03-04 10:00:00", 0, "2026-03-04 10:00:00", 0 },
    { "between_truncates_seconds", CAL_DEF, OP_BETWEEN,
      "2026-03-04 09:00:30", 0, "2026-03-04 09:02:00", 1 },
    { "between_year_boundary", CAL_VN, OP_BETWEEN,
      "2025-12-31 16:00:00", 0, "2026-01-02 08:00:00", 90 },
    { "between_makeup_saturday_full", CAL_VN, OP_BETWEEN,
      "2026-01-09 17:00:00", 0, "2026-01-12 07:30:00", 480 },
    { "between_outside_hours_only", CAL_DEF, OP_BETWEEN,
      "2026-03-04 17:00:00", 0, "2026-03-05 07:30:00", 0 },

    /* --- T2a working days --- */
    { "workday_new_year_off", CAL_VN, OP_WORKDAY, NULL, 20260101, NULL, 0 },
    { "workday_makeup_saturday", CAL_VN, OP_WORKDAY, NULL, 20260110, NULL, 1 },
    { "workday_tet_saturday_off", CAL_VN, OP_WORKDAY, NULL, 20260214, NULL, 0 },
    { "workday_tet_monday_off", CAL_VN, OP_WORKDAY, NULL, 20260216, NULL, 0 },
    { "workday_after_tet", CAL_VN, OP_WORKDAY, NULL, 20260223, NULL, 1 },
    { "workday_plain_saturday_off", CAL_DEF, OP_WORKDAY, NULL, 20260307, NULL, 0 },
    { "workday_plain_monday", CAL_DEF, OP_WORKDAY, NULL, 20260309, NULL, 1 },
    { "workday_not_a_date", CAL_DEF, OP_WORKDAY, NULL, 20260229, NULL, 0 },
};


/* local "YYYY-MM-DD HH:MM:SS" (UTC+7) -> UTC time_t */
static time_t
L(const char *s)
{
    char    buf[32];
    time_t  t;

    if (strlen(s) != 19) {
        fail_msg("bad local time \"%s\"", s);
    }

    memcpy(buf, s, 19);
    buf[10] = 'T';
    buf[19] = 'Z';
    buf[20] = '\0';

    if (tthc_parse_utc(buf, 20, &t) != 0) {
        fail_msg("cannot parse \"%s\"", s);
    }

    return t - TTHC_TZ_OFFSET_SEC;
}


static void
assert_instant(const char *name, time_t got, time_t want)
{
    char  g[32], w[32];

    if (got != want) {
        tthc_fmt_local(g, sizeof(g), got);
        tthc_fmt_local(w, sizeof(w), want);
        fail_msg("%s: got %s (%lld), want %s (%lld)", name, g,
                 (long long) got, w, (long long) want);
    }
}


static void
run_case(void **state)
{
    const cal_case_t       *k = *state;
    const tthc_calendar_t  *c = &cals[k->cal];
    time_t                  got;
    long                    n;

    switch (k->op) {

    case OP_NEXT:
        got = tthc_next_working_start(c, L(k->a));
        break;

    case OP_RECEIPT:
        got = tthc_receipt_time(c, L(k->a));
        break;

    case OP_DAYS:
        got = tthc_add_working_days(c, L(k->a), (int) k->n);
        break;

    case OP_MINS:
        got = tthc_add_working_minutes(c, L(k->a), k->n);
        break;

    case OP_BETWEEN:
        n = tthc_working_minutes_between(c, L(k->a), L(k->want));
        if (n != k->want_n) {
            fail_msg("%s: got %ld minutes, want %ld", k->name, n, k->want_n);
        }
        return;

    case OP_WORKDAY:
        n = tthc_is_working_day(c, (int) k->n);
        if (n != k->want_n) {
            fail_msg("%s: got %ld, want %ld", k->name, n, k->want_n);
        }
        return;

    default:
        fail_msg("bad op");
        return;
    }

    assert_instant(k->name, got, k->want ? L(k->want) : (time_t) k->want_n);
}


/* --- text format --- */

static void
expect_load_error_n(const char *text, size_t len, const char *want)
{
    tthc_calendar_t  c, d;
    char             err[128];

    memset(&c, 0xa5, sizeof(c));

    if (tthc_calendar_load(&c, text, len, err, sizeof(err)) != -1) {
        tthc_calendar_free(&c);
        fail_msg("accepted \"%s\"", text);
    }

    if (strstr(err, want) == NULL) {
        fail_msg("\"%s\": error \"%s\", want \"%s\"", text, err, want);
    }

    /* left as the default calendar without exceptions */
    tthc_calendar_default(&d);
    assert_memory_equal(&c, &d, sizeof(c));
    tthc_calendar_free(&c);
}


static void
expect_load_error(const char *text, const char *want)
{
    expect_load_error_n(text, strlen(text), want);
}


static void
test_parse_ok(void **state)
{
    static const char  text[] =
        "# schedule\r\n"
        "\r\n"
        "  hours sat 08:00-11:30   # Saturday mornings\r\n"
        "hours mon off\n"
        "hours sun 00:00-06:00 07:00-08:00 09:00-10:00 22:00-24:00\n"
        "cutoff 14:00\n"
        "holiday 2026-09-02 Quốc khánh # name may have UTF-8 and '#'\n"
        "holiday 2026-09-01\n"
        "makeup 2026-08-29";
    tthc_calendar_t    c;
    char               err[128];

    (void) state;

    assert_int_equal(tthc_calendar_load(&c, text, sizeof(text) - 1, err,
                                        sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(c.nperiods[6], 1);
    assert_int_equal(c.week[6][0].start_min, 480);
    assert_int_equal(c.week[6][0].end_min, 690);
    assert_int_equal(c.nperiods[1], 0);
    assert_int_equal(c.nperiods[2], 2);
    assert_int_equal(c.nperiods[0], 4);
    assert_int_equal(c.week[0][3].end_min, 1440);
    assert_int_equal(c.cutoff_min, 840);
    assert_int_equal(c.nholidays, 2);
    assert_int_equal(c.holidays[0], 20260901);   /* sorted */
    assert_int_equal(c.holidays[1], 20260902);
    assert_int_equal(c.nmakeup, 1);
    assert_int_equal(c.makeup[0], 20260829);
    tthc_calendar_free(&c);
    assert_null(c.holidays);

    assert_int_equal(tthc_calendar_load(&c, "", 0, NULL, 0), 0);
    assert_int_equal(c.nholidays, 0);
    assert_int_equal(c.cutoff_min, 900);
    tthc_calendar_free(&c);
}


static void
test_parse_bad_time(void **state)
{
    (void) state;

    expect_load_error("hours mon 07:60-11:30", "line 1: hours: bad time");
    expect_load_error("hours mon 7:30-11:30", "bad time");
    expect_load_error("hours mon 24:00-24:00", "bad time");
    expect_load_error("hours mon 23:00-24:01", "bad time");
    expect_load_error("hours mon 07:30", "period HH:MM-HH:MM expected");
    expect_load_error("# x\ncutoff 15\n", "line 2: cutoff: bad time");
    expect_load_error("cutoff 24:00", "cutoff: bad time");
    expect_load_error("cutoff 15:00 16:00", "cutoff: one HH:MM");
}


static void
test_parse_overlap(void **state)
{
    (void) state;

    expect_load_error("# a\n# b\nhours mon 07:30-11:30 11:00-17:00\n",
                      "line 3: hours: periods overlap");
    expect_load_error("hours tue 13:00-17:00 07:30-11:30",
                      "periods overlap or are out of order");
    expect_load_error("hours wed 13:00-11:00", "ends before it starts");
    expect_load_error("hours wed 13:00-13:00", "ends before it starts");
    expect_load_error("hours thu 01:00-02:00 03:00-04:00 05:00-06:00 "
                      "07:00-08:00 09:00-10:00", "more than 4 periods");
}


static void
test_parse_unknown_directive(void **state)
{
    (void) state;

    expect_load_error("holidays 2026-01-01", "line 1: unknown directive");
    expect_load_error("\n\nHOURS mon 07:30-11:30", "line 3: unknown directive");
    expect_load_error("hours monday 07:30-11:30", "unknown weekday");
    expect_load_error("hours fri", "weekday and periods");
}


static void
test_parse_bad_dates(void **state)
{
    (void) state;

    expect_load_error("holiday 2026-02-29", "line 1: bad date");
    expect_load_error("holiday 26-02-01", "bad date");
    expect_load_error("makeup", "date YYYY-MM-DD expected");
    expect_load_error("holiday 2026-01-01\nholiday 2026-01-01",
                      "line 2: date listed twice");
    expect_load_error("holiday 2026-01-10\nmakeup 2026-01-10",
                      "line 2: date listed twice");
    expect_load_error_n(S("holiday 2026-01-01\nhol\0iday"), "line 2: NUL byte");
}


/* T2 invariants on a sweep of instants: elapsed(next_start(t), add(t, m)) = m */
static void
test_add_between_roundtrip(void **state)
{
    const tthc_calendar_t  *c = &cals[CAL_VN];
    uint32_t                st = 2463534242u;
    time_t                  t0, t, s, e, d1, d2;
    long                    m;
    int                     i, n;

    (void) state;

    t0 = L("2025-12-20 00:00:00");

    for (i = 0; i < 2000; i++) {
        t = t0 + (time_t) (tthc_test_rand(&st) % (80u * 86400u));
        m = (long) (tthc_test_rand(&st) % 5000u);
        s = tthc_next_working_start(c, t);
        e = tthc_add_working_minutes(c, t, m);

        assert_true(s >= t);
        assert_true(e >= s);
        assert_int_equal(tthc_working_seconds_between(c, t, e), m * 60L);
        assert_int_equal(tthc_working_seconds_between(c, e, t), -m * 60L);

        /* receipt time is working time and never earlier */
        e = tthc_receipt_time(c, t);
        assert_true(e >= t);
        assert_int_equal(tthc_next_working_start(c, e), e);

        /* days are monotonic and n days of the default schedule = 8 h each */
        n = (int) (tthc_test_rand(&st) % 15u);
        d1 = tthc_add_working_days(c, t, n);
        d2 = tthc_add_working_days(c, t, n + 1);
        assert_true(d2 > d1);
        assert_int_equal(tthc_working_seconds_between(c, s, d1),
                         (long long) n * 8 * 3600);
    }
}


static void
test_no_working_time(void **state)
{
    tthc_calendar_t  c;
    time_t           t;
    int              wd;

    (void) state;

    tthc_calendar_default(&c);

    for (wd = 0; wd < 7; wd++) {
        c.nperiods[wd] = 0;
    }

    t = L("2026-03-04 09:00:00");
    assert_int_equal(tthc_next_working_start(&c, t), (time_t) -1);
    assert_int_equal(tthc_receipt_time(&c, t), (time_t) -1);
    assert_int_equal(tthc_add_working_days(&c, t, 1), (time_t) -1);
    assert_int_equal(tthc_add_working_minutes(&c, t, 1), (time_t) -1);
    assert_int_equal(tthc_working_minutes_between(&c, t, t + 86400 * 30), 0);
    assert_int_equal(tthc_next_working_start(NULL, t), (time_t) -1);
    assert_int_equal(tthc_is_working_day(NULL, 20260304), 0);

    /* absurd counts are errors, not endless loops */
    tthc_calendar_default(&c);
    assert_int_equal(tthc_add_working_days(&c, t, 2000000000), (time_t) -1);
    assert_int_equal(tthc_add_working_seconds(&c, t, 1LL << 60), (time_t) -1);
    assert_int_equal(tthc_working_seconds_between(&c, 0, (time_t) 1 << 50), 0);
}


static int
setup_cals(void)
{
    char  err[128];

    tthc_calendar_default(&cals[CAL_DEF]);

    if (tthc_calendar_load(&cals[CAL_VN], vn_text, sizeof(vn_text) - 1,
                           err, sizeof(err)) != 0
        || tthc_calendar_load(&cals[CAL_SHORT], short_text,
                              sizeof(short_text) - 1, err, sizeof(err)) != 0
        || tthc_calendar_load(&cals[CAL_NOCUT], nocut_text,
                              sizeof(nocut_text) - 1, err, sizeof(err)) != 0)
    {
        fprintf(stderr, "test calendar: %s\n", err);
        return -1;
    }

    return 0;
}


int
main(void)
{
    static const struct CMUnitTest  fixed[] = {
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_bad_time),
        cmocka_unit_test(test_parse_overlap),
        cmocka_unit_test(test_parse_unknown_directive),
        cmocka_unit_test(test_parse_bad_dates),
        cmocka_unit_test(test_add_between_roundtrip),
        cmocka_unit_test(test_no_working_time),
    };
    enum { NCASES = sizeof(cases) / sizeof(cases[0]),
           NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
    struct CMUnitTest  tests[NCASES + NFIXED];
    size_t             i;
    int                rc;

    if (setup_cals() != 0) {
        return 1;
    }

    for (i = 0; i < NCASES; i++) {
        memset(&tests[i], 0, sizeof(tests[i]));
        tests[i].name = cases[i].name;
        tests[i].test_func = run_case;
        tests[i].initial_state = (void *) &cases[i];
    }

    for (i = 0; i < NFIXED; i++) {
        tests[NCASES + i] = fixed[i];
    }

    rc = cmocka_run_group_tests_name("tthc_calendar", tests, NULL, NULL);

    for (i = 0; i < CAL_N; i++) {
        tthc_calendar_free(&cals[i]);
    }

    return rc;
}
