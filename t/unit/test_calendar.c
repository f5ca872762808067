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
 * The real_* cases use CAL_REAL, the official 2026-2027 calendar of
 * sql/migrations/0002 + 0005 (checked against those files by
 * test_real_matches_migrations); docs/time-rules.md lists them by name:
 *   2026: 01-01 Thu, 01-02 Fri (swap), 01-10 Sat (make-up), 02-16..02-20
 *   Mon-Fri (Tết), 04-27 Mon (Giỗ Tổ on Sun 26/4), 04-30 Thu, 05-01 Fri,
 *   08-22 Sat (make-up), 08-31 Mon (swap), 09-01 Tue, 09-02 Wed,
 *   11-24 Tue (a working day), 11-27 Fri, 12-31 Thu;
 *   2027: 01-01 Fri, 02-05 Fri, 02-08..02-11 Mon-Thu (Tết, projected),
 *   02-12 Fri, 04-16 Fri (Giỗ Tổ), 04-30 Fri, 05-03 Mon (1/5 on Sat),
 *   09-02 Thu, 09-03 Fri (projected).
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
 * Test data, not the official calendar: it has the make-up Saturday 10 Jan
 * 2026 but not the swapped day off Friday 2 Jan it pays for (CAL_REAL has
 * both, as announced in 12729/VPCP-KGVX).
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

/*
 * The official calendar 2026-2027 (DOMAIN T2a) as the holidays table holds
 * it after sql/migrations/0002_holidays.sql and 0005_holidays_2026_2027.sql
 * (sources and projections are named there); kept equal to those files by
 * test_real_matches_migrations.
 */
static const char  real_text[] =
    "holiday 2026-01-01\n"
    "holiday 2026-01-02\n"
    "makeup  2026-01-10\n"
    "holiday 2026-02-16\n"
    "holiday 2026-02-17\n"
    "holiday 2026-02-18\n"
    "holiday 2026-02-19\n"
    "holiday 2026-02-20\n"
    "holiday 2026-04-27\n"
    "holiday 2026-04-30\n"
    "holiday 2026-05-01\n"
    "makeup  2026-08-22\n"
    "holiday 2026-08-31\n"
    "holiday 2026-09-01\n"
    "holiday 2026-09-02\n"
    "holiday 2027-01-01\n"
    "holiday 2027-02-05\n"
    "holiday 2027-02-08\n"
    "holiday 2027-02-09\n"
    "holiday 2027-02-10\n"
    "holiday 2027-02-11\n"
    "holiday 2027-04-16\n"
    "holiday 2027-04-30\n"
    "holiday 2027-05-03\n"
    "holiday 2027-09-02\n"
    "holiday 2027-09-03\n";

enum { CAL_DEF, CAL_VN, CAL_SHORT, CAL_NOCUT, CAL_REAL, CAL_N };

static tthc_calendar_t  cals[CAL_N];

typedef enum {
    OP_NEXT, OP_RECEIPT, OP_DAYS, OP_MINS, OP_BETWEEN, OP_WORKDAY,
    OP_RDAYS     /* receipt time (T1), then n working days (T2) */
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

    /* --- the official calendar 2026-2027 (CAL_REAL, migrations 0002 + 0005) --- */
    /* Tết Dương lịch 2026: Thu 1/1 + Fri 2/1 off, Sat 10/1 worked (12729/VPCP-KGVX) */
    { "real_workday_2026_01_02_swapped_off", CAL_REAL, OP_WORKDAY, NULL, 20260102, NULL, 0 },
    { "real_workday_2026_01_10_makeup", CAL_REAL, OP_WORKDAY, NULL, 20260110, NULL, 1 },
    { "real_receipt_2025_12_31_1500", CAL_REAL, OP_RECEIPT,
      "2025-12-31 15:00:00", 0, "2026-01-05 07:30:00", 0 },
    { "real_days_5_over_new_year_2026", CAL_REAL, OP_DAYS,
      "2025-12-31 09:00:00", 5, "2026-01-09 09:00:00", 0 },
    { "real_days_6_to_makeup_2026_01_10", CAL_REAL, OP_DAYS,
      "2025-12-31 09:00:00", 6, "2026-01-10 09:00:00", 0 },
    { "real_between_new_year_2026_week", CAL_REAL, OP_BETWEEN,
      "2025-12-29 00:00:00", 0, "2026-01-12 00:00:00", 4320 },
    /* Tết Bính Ngọ: Mon 16/2 - Fri 20/2/2026 */
    { "real_days_1_over_tet_2026", CAL_REAL, OP_DAYS,
      "2026-02-13 10:00:00", 1, "2026-02-23 10:00:00", 0 },
    { "real_receipt_tet_2026_eve_1500", CAL_REAL, OP_RECEIPT,
      "2026-02-13 15:00:00", 0, "2026-02-23 07:30:00", 0 },
    /* Giỗ Tổ on Sun 26/4 -> Mon 27/4; 30/4 Thu, 1/5 Fri */
    { "real_days_1_over_gio_to_2026", CAL_REAL, OP_DAYS,
      "2026-04-24 16:00:00", 1, "2026-04-28 16:00:00", 0 },
    { "real_days_1_over_30_4_2026", CAL_REAL, OP_DAYS,
      "2026-04-29 09:00:00", 1, "2026-05-04 09:00:00", 0 },
    { "real_between_april_2026_holidays", CAL_REAL, OP_BETWEEN,
      "2026-04-24 07:30:00", 0, "2026-05-04 07:30:00", 1440 },
    /* Quốc khánh 2026: Sat 29/8 - Wed 2/9 off, Mon 31/8 swapped with Sat 22/8 */
    { "real_receipt_2026_08_21_1500_makeup_sat", CAL_REAL, OP_RECEIPT,
      "2026-08-21 15:00:00", 0, "2026-08-22 07:30:00", 0 },
    { "real_days_1_to_makeup_2026_08_22", CAL_REAL, OP_DAYS,
      "2026-08-21 10:00:00", 1, "2026-08-22 10:00:00", 0 },
    { "real_receipt_makeup_sat_2026_08_22_1500", CAL_REAL, OP_RECEIPT,
      "2026-08-22 15:00:00", 0, "2026-08-24 07:30:00", 0 },
    { "real_days_2_over_quoc_khanh_2026", CAL_REAL, OP_DAYS,
      "2026-08-28 10:00:00", 2, "2026-09-04 10:00:00", 0 },
    { "real_mins_480_over_quoc_khanh_2026", CAL_REAL, OP_MINS,
      "2026-08-28 16:00:00", 480, "2026-09-03 16:00:00", 0 },
    { "real_between_quoc_khanh_2026_fortnight", CAL_REAL, OP_BETWEEN,
      "2026-08-24 00:00:00", 0, "2026-09-07 00:00:00", 3360 },
    /* Ngày Văn hóa Việt Nam 24/11: not (yet) a day off, see 0005 */
    { "real_workday_2026_11_24", CAL_REAL, OP_WORKDAY, NULL, 20261124, NULL, 1 },
    /* the tthcctl example: Fri 27/11/2026 16:00, 3 working days */
    { "real_days_3_from_2026_11_27_1600", CAL_REAL, OP_DAYS,
      "2026-11-27 16:00:00", 3, "2026-12-02 16:00:00", 0 },
    { "real_receipt_days_3_from_2026_11_27_1600", CAL_REAL, OP_RDAYS,
      "2026-11-27 16:00:00", 3, "2026-12-03 07:30:00", 0 },
    /* year boundary 2026 -> 2027: Thu 31/12 worked, Fri 1/1/2027 off */
    { "real_receipt_2026_12_31_1500", CAL_REAL, OP_RECEIPT,
      "2026-12-31 15:00:00", 0, "2027-01-04 07:30:00", 0 },
    { "real_days_3_over_new_year_2027", CAL_REAL, OP_DAYS,
      "2026-12-30 10:00:00", 3, "2027-01-05 10:00:00", 0 },
    { "real_mins_60_over_new_year_2027", CAL_REAL, OP_MINS,
      "2026-12-31 16:30:00", 60, "2027-01-04 08:00:00", 0 },
    { "real_between_new_year_2027", CAL_REAL, OP_BETWEEN,
      "2026-12-31 00:00:00", 0, "2027-01-05 00:00:00", 960 },
    { "real_workday_2027_01_01_off", CAL_REAL, OP_WORKDAY, NULL, 20270101, NULL, 0 },
    /* Tết Đinh Mùi (projected): Fri 5/2 - Thu 11/2/2027 */
    { "real_receipt_tet_2027_eve_150001", CAL_REAL, OP_RECEIPT,
      "2027-02-04 15:00:01", 0, "2027-02-12 07:30:00", 0 },
    { "real_days_1_over_tet_2027", CAL_REAL, OP_DAYS,
      "2027-02-04 10:00:00", 1, "2027-02-12 10:00:00", 0 },
    { "real_receipt_days_3_over_tet_2027", CAL_REAL, OP_RDAYS,
      "2027-02-04 16:00:00", 3, "2027-02-17 07:30:00", 0 },
    { "real_between_tet_2027_fortnight", CAL_REAL, OP_BETWEEN,
      "2027-02-01 00:00:00", 0, "2027-02-15 00:00:00", 2400 },
    { "real_workday_2027_02_11_off", CAL_REAL, OP_WORKDAY, NULL, 20270211, NULL, 0 },
    { "real_workday_2027_02_12_after_tet", CAL_REAL, OP_WORKDAY, NULL, 20270212, NULL, 1 },
    /* Giỗ Tổ Fri 16/4/2027; 30/4 Fri, 1/5 Sat -> Mon 3/5 */
    { "real_days_1_over_gio_to_2027", CAL_REAL, OP_DAYS,
      "2027-04-15 09:00:00", 1, "2027-04-19 09:00:00", 0 },
    { "real_receipt_2027_04_29_1600", CAL_REAL, OP_RECEIPT,
      "2027-04-29 16:00:00", 0, "2027-05-04 07:30:00", 0 },
    /* Quốc khánh 2027 (adjacent day projected): Thu 2/9 + Fri 3/9 */
    { "real_days_1_over_quoc_khanh_2027", CAL_REAL, OP_DAYS,
      "2027-09-01 10:00:00", 1, "2027-09-06 10:00:00", 0 },
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

    case OP_RDAYS:
        got = tthc_add_working_days(c, tthc_receipt_time(c, L(k->a)),
                                    (int) k->n);
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


/*
 * CAL_REAL is the holidays table of the migrations: replays the rows
 * "('YYYY-MM-DD','holiday'|'makeup_workday', ...)" of 0002 then 0005 (an
 * upsert by day, as ON DUPLICATE KEY UPDATE does) and compares the years
 * 2026-2027 with CAL_REAL's lists.
 */
#define MIG_DIR_FROM_TEST  "/../../sql/migrations/"
#define MIG_MAX_ROWS       512

static int
mig_replay(const char *name, int *day, int *kind, size_t *n)
{
    char        path[1024], line[1024], *p;
    const char *slash;
    FILE       *f;
    size_t      i;
    int         y, m, d, ymd, k;

    slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof(path), "%.*s%s%s",
             slash ? (int) (slash - __FILE__) : 1, slash ? __FILE__ : ".",
             MIG_DIR_FROM_TEST, name);

    f = fopen(path, "r");

    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }

    while (fgets(line, sizeof(line), f) != NULL) {
        p = line;

        while (*p == ' ' || *p == '\t') {
            p++;
        }

        if (sscanf(p, "('%4d-%2d-%2d','", &y, &m, &d) != 3) {
            continue;
        }

        ymd = y * 10000 + m * 100 + d;
        p += 15;
        k = strncmp(p, "holiday'", 8) == 0 ? 0
            : strncmp(p, "makeup_workday'", 15) == 0 ? 1 : -1;

        if (k < 0 || y < 2026 || y > 2027) {
            continue;
        }

        for (i = 0; i < *n && day[i] != ymd; i++) {
            /* find */
        }

        if (i == *n) {
            if (*n == MIG_MAX_ROWS) {
                fclose(f);
                return -1;
            }
            day[(*n)++] = ymd;
        }

        kind[i] = k;
    }

    fclose(f);

    return 0;
}


static void
test_real_matches_migrations(void **state)
{
    static int              day[MIG_MAX_ROWS], kind[MIG_MAX_ROWS];
    const tthc_calendar_t  *c = &cals[CAL_REAL];
    size_t                  n, i, nh, nm;
    int                     found;

    (void) state;

    n = 0;
    assert_int_equal(mig_replay("0002_holidays.sql", day, kind, &n), 0);
    assert_int_equal(mig_replay("0005_holidays_2026_2027.sql", day, kind, &n),
                     0);

    nh = 0;
    nm = 0;

    for (i = 0; i < n; i++) {
        const int  *list = kind[i] ? c->makeup : c->holidays;
        size_t      len = kind[i] ? c->nmakeup : c->nholidays, j;

        found = 0;

        for (j = 0; j < len; j++) {
            found |= list[j] == day[i];
        }

        if (!found) {
            fail_msg("migrations have %d as %s, CAL_REAL not", day[i],
                     kind[i] ? "makeup_workday" : "holiday");
        }

        nh += kind[i] == 0;
        nm += kind[i] == 1;
    }

    /* and CAL_REAL has nothing more */
    assert_int_equal(nh, c->nholidays);
    assert_int_equal(nm, c->nmakeup);
}


/* T9: the first instant with less than a working day left (yellow) */
static void
test_warn_instant(void **state)
{
    const tthc_calendar_t  *r = &cals[CAL_REAL];
    tthc_calendar_t         d;

    (void) state;

    tthc_calendar_default(&d);

    /* due Mon 07:30: at Fri 07:30:00 exactly one day is left, a second later less */
    assert_int_equal(tthc_warn_instant(&d, L("2026-12-07 07:30:00"), 480 * 60),
                     L("2026-12-04 07:30:01"));
    /* due Wed 10:00: from Tue 10:00:01 */
    assert_int_equal(tthc_warn_instant(&d, L("2026-12-09 10:00:00"), 480 * 60),
                     L("2026-12-08 10:00:01"));
    /* due Mon 23/2/2026 08:00, after the Tết week (16-20/2 off): the day
     * before in working time is Fri 13/2 08:00 */
    assert_int_equal(tthc_warn_instant(r, L("2026-02-23 08:00:00"), 480 * 60),
                     L("2026-02-13 08:00:01"));
    /* half a budget of 4 working hours before Tue 09:00 = Mon 13:00 */
    assert_int_equal(tthc_warn_instant(&d, L("2026-12-08 09:00:00"), 240 * 60),
                     L("2026-12-07 14:30:01"));
    /* nothing to subtract */
    assert_int_equal(tthc_warn_instant(&d, L("2026-12-08 09:00:00"), 0),
                     L("2026-12-08 09:00:00"));
    /* consistent with working_seconds_between on both sides */
    {
        time_t  due = L("2026-12-10 15:45:00");
        time_t  y = tthc_warn_instant(&d, due, 480 * 60);

        assert_true(tthc_working_seconds_between(&d, y, due) < 480 * 60);
        assert_true(tthc_working_seconds_between(&d, y - 1, due) >= 480 * 60);
    }
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
                              sizeof(nocut_text) - 1, err, sizeof(err)) != 0
        || tthc_calendar_load(&cals[CAL_REAL], real_text,
                              sizeof(real_text) - 1, err, sizeof(err)) != 0)
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
        cmocka_unit_test(test_real_matches_migrations),
        cmocka_unit_test(test_warn_instant),
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
