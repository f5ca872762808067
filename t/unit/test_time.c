/*
 * test_time.c — unit tests of common/tthc_time: UTC storage, Asia/Ho_Chi_Minh
 * (UTC+7, no DST) display, DOMAIN D1 local receiving date.
 */
#include <stdio.h>
#include <time.h>

#include "tthc_test.h"
#include "tthc_time.h"


static time_t
utc(const char *s)
{
    time_t  t;

    if (tthc_parse_utc(s, strlen(s), &t) != 0) {
        fail_msg("cannot parse \"%s\"", s);
    }

    return t;
}


static void
assert_local_date(const char *s, int yy, int mm, int dd)
{
    int  y, m, d;

    tthc_local_date(utc(s), &y, &m, &d);

    if (y != yy || m != mm || d != dd) {
        fail_msg("%s: local date %02d%02d%02d, want %02d%02d%02d",
                 s, y, m, d, yy, mm, dd);
    }
}


static void
test_epoch(void **state)
{
    char  buf[32];

    (void) state;

    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), 0), 20);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), 0), 25);
    assert_string_equal(buf, "1970-01-01T07:00:00+07:00");

    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), -1), 20);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), -1), 25);
    assert_string_equal(buf, "1970-01-01T06:59:59+07:00");
}


static void
test_contract_example(void **state)
{
    char    buf[32];
    time_t  t;

    (void) state;

    /* docs/contracts.md: received_at 05:34:56Z shows as 12:34:56+07:00 */
    t = utc("2026-11-28T05:34:56Z");
    assert_int_equal(t, 1795844096);
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), t), 20);
    assert_string_equal(buf, "2026-11-28T05:34:56Z");
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), t), 25);
    assert_string_equal(buf, "2026-11-28T12:34:56+07:00");
    assert_local_date("2026-11-28T05:34:56Z", 26, 11, 28);
}


static void
test_midnight_local_vs_utc(void **state)
{
    char  buf[32];

    (void) state;

    /* same UTC day, local date already the next day */
    assert_local_date("2026-11-28T16:59:59Z", 26, 11, 28);
    assert_local_date("2026-11-28T17:00:00Z", 26, 11, 29);
    assert_local_date("2026-11-28T17:30:00Z", 26, 11, 29);
    assert_local_date("2026-11-28T23:59:59Z", 26, 11, 29);
    assert_local_date("2026-11-29T00:00:00Z", 26, 11, 29);
    assert_local_date("2026-11-28T00:00:00Z", 26, 11, 28);

    assert_int_equal(tthc_fmt_local(buf, sizeof(buf),
                                    utc("2026-11-28T17:30:00Z")), 25);
    assert_string_equal(buf, "2026-11-29T00:30:00+07:00");

    /* month, year and leap-day changes */
    assert_local_date("2026-11-30T17:00:00Z", 26, 12, 1);
    assert_local_date("2026-12-31T16:59:59Z", 26, 12, 31);
    assert_local_date("2026-12-31T17:00:00Z", 27, 1, 1);
    assert_local_date("2028-02-28T17:00:00Z", 28, 2, 29);
    assert_local_date("2026-02-28T17:00:00Z", 26, 3, 1);
    assert_local_date("2099-12-31T17:00:00Z", 0, 1, 1);
    assert_local_date("1999-12-31T17:00:00Z", 0, 1, 1);

    /* NULL outputs are allowed */
    tthc_local_date(0, NULL, NULL, NULL);
}


static void
test_against_gmtime(void **state)
{
    int        i, yy, mm, dd;
    char       buf[32], want[80];
    time_t     t, back;
    uint32_t   st;
    struct tm  tm;

    (void) state;

    st = 0x12345678;

    for (i = 0; i < 20000; i++) {
        /* 1900 .. 2200 */
        t = (time_t) ((int64_t) (tthc_test_rand(&st) % 9467280000u)
                      - 2208988800LL);

        assert_non_null(gmtime_r(&t, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), t), 20);
        assert_string_equal(buf, want);

        assert_int_equal(tthc_parse_utc(buf, 20, &back), 0);
        assert_int_equal(back, t);

        back = t + TTHC_TZ_OFFSET_SEC;
        assert_non_null(gmtime_r(&back, &tm));
        tthc_local_date(t, &yy, &mm, &dd);
        assert_int_equal(yy, (tm.tm_year + 1900) % 100);
        assert_int_equal(mm, tm.tm_mon + 1);
        assert_int_equal(dd, tm.tm_mday);

        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d+07:00",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_int_equal(tthc_fmt_local(buf, sizeof(buf), t), 25);
        assert_string_equal(buf, want);
    }
}


static void
test_tz_independent(void **state)
{
    char  buf[32];

    (void) state;

    /* formatting never consults TZ */
    setenv("TZ", "America/New_York", 1);
    tzset();
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), 1795844096), 25);
    assert_string_equal(buf, "2026-11-28T12:34:56+07:00");
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), 1795844096), 20);
    assert_string_equal(buf, "2026-11-28T05:34:56Z");
    unsetenv("TZ");
    tzset();
}


static void
test_buffer_and_range(void **state)
{
    char  buf[32];

    (void) state;

    memset(buf, 'x', sizeof(buf));
    assert_int_equal(tthc_fmt_utc(buf, 20, 0), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(tthc_fmt_utc(buf, 21, 0), 20);
    assert_int_equal(tthc_fmt_local(buf, 25, 0), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(tthc_fmt_local(buf, 26, 0), 25);
    assert_int_equal(tthc_fmt_utc(buf, 0, 0), 0);
    assert_int_equal(tthc_fmt_utc(NULL, 32, 0), 0);

    /* year 9999 is the last one representable */
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), 253402300799LL), 20);
    assert_string_equal(buf, "9999-12-31T23:59:59Z");
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), 253402300799LL), 0);
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), 253402300800LL), 0);
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), -62167219200LL), 20);
    assert_string_equal(buf, "0000-01-01T00:00:00Z");
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), -62167219201LL), 0);

    /* extreme values must not overflow */
    assert_int_equal(tthc_fmt_utc(buf, sizeof(buf), (time_t) INT64_MAX), 0);
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), (time_t) INT64_MAX), 0);
    assert_int_equal(tthc_fmt_local(buf, sizeof(buf), (time_t) INT64_MIN), 0);
    tthc_local_date((time_t) INT64_MAX, NULL, NULL, NULL);
    tthc_local_date((time_t) INT64_MIN, NULL, NULL, NULL);
}


static void
test_parse_invalid(void **state)
{
    static const char *const  bad[] = {
        "",
        "2026-11-28T05:34:56",
        "2026-11-28T05:34:56z",
        "2026-11-28t05:34:56Z",
        "2026-11-28 05:34:56Z",
        "2026-11-28T05:34:56+07:00",
        "2026-11-28T05:34:56.000Z",
        "2026-11-28T05:34Z",
        "2026-11-28",
        "2026-02-29T00:00:00Z",
        "2100-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-13-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-28T24:00:00Z",
        "2026-11-28T23:60:00Z",
        "2026-11-28T23:59:60Z",
        "2026-11-28T-1:59:59Z",
        "+026-11-28T05:34:56Z",
        "2026/11/28T05:34:56Z",
        "2026-1-28T05:34:56ZZ",
        "20261128T053456Z    ",
        " 2026-11-28T05:34:56Z",
        "2026-11-28T05:34:56Z ",
        "2026-11-2aT05:34:56Z"
    };
    size_t                    i;
    time_t                    t;

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tthc_parse_utc(bad[i], strlen(bad[i]), &t) != -1) {
            fail_msg("accepted \"%s\"", bad[i]);
        }
    }

    assert_int_equal(tthc_parse_utc("2026-11-28T05:34:56Z", 19, &t), -1);
    assert_int_equal(tthc_parse_utc(NULL, 20, &t), -1);
    assert_int_equal(tthc_parse_utc(S("2028-02-29T23:59:59Z"), &t), 0);
    assert_int_equal(tthc_parse_utc(S("2000-02-29T00:00:00Z"), NULL), 0);
    assert_int_equal(tthc_parse_utc(S("1969-12-31T23:59:59Z"), &t), 0);
    assert_int_equal(t, -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_epoch),
        cmocka_unit_test(test_contract_example),
        cmocka_unit_test(test_midnight_local_vs_utc),
        cmocka_unit_test(test_against_gmtime),
        cmocka_unit_test(test_tz_independent),
        cmocka_unit_test(test_buffer_and_range),
        cmocka_unit_test(test_parse_invalid),
    };

    return cmocka_run_group_tests_name("tthc_time", tests, NULL, NULL);
}
