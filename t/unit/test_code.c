/*
 * test_code.c — unit tests of common/tthc_code: dossier code, DOMAIN D1,
 * Circular 01/2018/TT-VPCP Art.19.
 */
#include <stdio.h>

#include "tthc_test.h"
#include "tthc_code.h"


static void
test_agency_valid(void **state)
{
    (void) state;

    assert_int_equal(tthc_agency_code_valid(S("000.00.31.H41")), 1);
    assert_int_equal(tthc_agency_code_valid(S("000.00.00.H41")), 1);
    assert_int_equal(tthc_agency_code_valid(S("123.45.67.G01")), 1);
    assert_int_equal(tthc_agency_code_valid(S("999.99.99.Z99")), 1);
    assert_int_equal(tthc_agency_code_valid(S("000.00.00.A00")), 1);
}


static void
test_agency_invalid(void **state)
{
    static const char *const  bad[] = {
        "", "H41", "00.31.H41", "000.00.31", "000.00.31.h41",
        "000.00.31.H4", "000.00.31.H411", "0000.00.31.H41",
        "000.000.31.H41", "000.00.31.41H", "000.00.3a.H41",
        "000-00-31-H41", "000.00.31.H41.", ".000.00.31.H41",
        " 000.00.31.H41", "000.00.31.H41 ", "000.00.31.HH1",
        "000..00.31.H41", "000.00.31.\304\22041", "00A.00.31.H41",
        "000.00.31.@41", "000.00.31.[41", "000 00 31 H41",
        "1.001234.000.00.00.H41"
    };
    size_t                    i;

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tthc_agency_code_valid(bad[i], strlen(bad[i])) != 0) {
            fail_msg("accepted agency \"%s\"", bad[i]);
        }
    }

    /* the length is authoritative: embedded NUL, short length, NULL */
    assert_int_equal(tthc_agency_code_valid("000.00.31\0H41", 13), 0);
    assert_int_equal(tthc_agency_code_valid("000.00.31.H41", 12), 0);
    assert_int_equal(tthc_agency_code_valid("000.00.31.H41X", 14), 0);
    assert_int_equal(tthc_agency_code_valid(NULL, 13), 0);
}


static void
test_format_ok(void **state)
{
    char  buf[TTHC_CODE_MAX];

    (void) state;

    assert_int_equal(tthc_code_format(buf, sizeof(buf), S("000.00.31.H41"),
                                      26, 11, 28, 1), 25);
    assert_string_equal(buf, "000.00.31.H41-261128-0001");

    assert_int_equal(tthc_code_format(buf, sizeof(buf), S("000.00.00.H41"),
                                      0, 1, 1, 9999), 25);
    assert_string_equal(buf, "000.00.00.H41-000101-9999");

    assert_int_equal(tthc_code_format(buf, sizeof(buf), S("000.00.31.H41"),
                                      99, 12, 31, 42), 25);
    assert_string_equal(buf, "000.00.31.H41-991231-0042");

    /* leap years: 2028, 2000 (yy 0); 2100 is out of range anyway */
    assert_int_equal(tthc_code_format(buf, sizeof(buf), S("000.00.31.H41"),
                                      28, 2, 29, 1), 25);
    assert_string_equal(buf, "000.00.31.H41-280229-0001");
    assert_int_equal(tthc_code_format(buf, sizeof(buf), S("000.00.31.H41"),
                                      0, 2, 29, 1), 25);

    /* exact-fit buffer */
    assert_int_equal(tthc_code_format(buf, 26, S("000.00.31.H41"),
                                      26, 11, 28, 7), 25);
    assert_string_equal(buf, "000.00.31.H41-261128-0007");
}


static void
test_format_errors(void **state)
{
    char  buf[TTHC_CODE_MAX];

    (void) state;

#define BAD(a, yy, mm, dd, seq)                                              \
    do {                                                                     \
        memset(buf, 'x', sizeof(buf));                                       \
        assert_int_equal(tthc_code_format(buf, sizeof(buf), S(a),            \
                                          yy, mm, dd, seq), 0);              \
        assert_int_equal(buf[0], '\0');                                      \
    } while (0)

    BAD("000.00.31.H41", 26, 2, 29, 1);     /* 2026 not leap */
    BAD("000.00.31.H41", 27, 2, 29, 1);
    BAD("000.00.31.H41", 26, 4, 31, 1);
    BAD("000.00.31.H41", 26, 11, 31, 1);
    BAD("000.00.31.H41", 26, 0, 10, 1);
    BAD("000.00.31.H41", 26, 13, 10, 1);
    BAD("000.00.31.H41", 26, 1, 0, 1);
    BAD("000.00.31.H41", 26, 1, 32, 1);
    BAD("000.00.31.H41", -1, 1, 1, 1);
    BAD("000.00.31.H41", 100, 1, 1, 1);
    BAD("000.00.31.H41", 2026, 1, 1, 1);
    BAD("000.00.31.H41", 26, 11, 28, 0);
    BAD("000.00.31.H41", 26, 11, 28, 10000);
    BAD("000.00.31.H41", 26, 11, 28, 4294967295u);
    BAD("000.00.31.h41", 26, 11, 28, 1);
    BAD("000.00.31", 26, 11, 28, 1);
    BAD("", 26, 11, 28, 1);

#undef BAD

    /* buffer too small: needs 26 */
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(tthc_code_format(buf, 25, S("000.00.31.H41"),
                                      26, 11, 28, 1), 0);
    assert_int_equal(buf[0], '\0');
    assert_int_equal(tthc_code_format(buf, 0, S("000.00.31.H41"),
                                      26, 11, 28, 1), 0);
    assert_int_equal(tthc_code_format(NULL, 64, S("000.00.31.H41"),
                                      26, 11, 28, 1), 0);
    assert_int_equal(tthc_code_format(buf, sizeof(buf), NULL, 13,
                                      26, 11, 28, 1), 0);
}


static void
test_parse_ok(void **state)
{
    tthc_code_t  c;

    (void) state;

    memset(&c, 0, sizeof(c));
    assert_int_equal(tthc_code_parse(S("000.00.31.H41-261128-0001"), &c), 0);
    assert_string_equal(c.agency, "000.00.31.H41");
    assert_int_equal(c.yy, 26);
    assert_int_equal(c.mm, 11);
    assert_int_equal(c.dd, 28);
    assert_int_equal(c.seq, 1);

    assert_int_equal(tthc_code_parse(S("000.00.00.H41-280229-9999"), &c), 0);
    assert_int_equal(c.seq, 9999);
    assert_int_equal(c.yy, 28);
    assert_int_equal(c.mm, 2);
    assert_int_equal(c.dd, 29);

    assert_int_equal(tthc_code_parse(S("000.00.00.H41-000229-0100"), NULL), 0);
}


static void
test_parse_invalid(void **state)
{
    static const char *const  bad[] = {
        "",
        "000.00.31.H41",
        "000.00.31.H41-261128",
        "000.00.31.H41-261128-",
        "000.00.31.H41-261128-001",
        "000.00.31.H41-261128-00001",
        "000.00.31.H41-261128-0000",
        "000.00.31.H41-260229-0001",         /* not a leap year */
        "000.00.31.H41-261301-0001",
        "000.00.31.H41-261100-0001",
        "000.00.31.H41-261131-0001",
        "000.00.31.H41-260431-0001",
        "000.00.31.H41-2611280-001",
        "000.00.31.H41-26112-80001",
        "000.00.31.H41_261128_0001",
        "000.00.31.H41-261128-000a",
        "000.00.31.H41-26 128-0001",
        "000.00.31.H41-261128-+001",
        "000.00.31.H41-261128--001",
        "000.00.31.h41-261128-0001",
        "000.00.31.H4-1261128-0001",
        "00.00.31.H41-261128-00001",
        " 000.00.31.H41-261128-0001",
        "000.00.31.H41-261128-0001 ",
        "000.00.31.H41-261128-0001\n",
        "000.00.31.H41-261128-0001-0001",
        "000.00.31.H41--261128-0001",
        "1.001234.000.00.00.H41"
    };
    size_t                    i;
    tthc_code_t               c;

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tthc_code_parse(bad[i], strlen(bad[i]), &c) != -1) {
            fail_msg("accepted code \"%s\"", bad[i]);
        }
    }

    assert_int_equal(tthc_code_parse("000.00.31.H41-261128-0001", 24, &c), -1);
    assert_int_equal(tthc_code_parse("000.00.31.H41-261128-000\0", 25, &c), -1);
    assert_int_equal(tthc_code_parse(NULL, 25, &c), -1);
}


static void
test_roundtrip(void **state)
{
    int          yy, mm, dd, n;
    char         buf[TTHC_CODE_MAX];
    unsigned     seq;
    tthc_code_t  c;
    size_t       len;

    (void) state;

    n = 0;

    for (yy = 0; yy <= 99; yy += 7) {
        for (mm = 0; mm <= 13; mm++) {
            for (dd = 0; dd <= 32; dd++) {
                seq = (unsigned) (yy * 101 + mm * 31 + dd) % 10001;
                len = tthc_code_format(buf, sizeof(buf), S("000.00.31.H41"),
                                       yy, mm, dd, seq);
                if (len == 0) {
                    continue;
                }

                n++;
                assert_int_equal(len, strlen(buf));
                assert_int_equal(tthc_code_parse(buf, len, &c), 0);
                assert_int_equal(c.yy, yy);
                assert_int_equal(c.mm, mm);
                assert_int_equal(c.dd, dd);
                assert_int_equal(c.seq, seq);
                assert_string_equal(c.agency, "000.00.31.H41");
            }
        }
    }

    /* 15 sampled years, 365 or 366 days each, minus seq == 0 hits */
    assert_true(n > 15 * 360);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_agency_valid),
        cmocka_unit_test(test_agency_invalid),
        cmocka_unit_test(test_format_ok),
        cmocka_unit_test(test_format_errors),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_roundtrip),
    };

    return cmocka_run_group_tests_name("tthc_code", tests, NULL, NULL);
}
