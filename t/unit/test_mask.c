/*
 * test_mask.c — unit tests of common/tthc_mask: personal-data masking in
 * public views, DOMAIN A4, O2 (003 Art.4.6, Decree 13/2023/NĐ-CP).
 */
#include <stdio.h>

#include "tthc_test.h"
#include "tthc_mask.h"

typedef size_t (*mask_fn)(const char *, size_t, char *, size_t);


static void
assert_mask(mask_fn f, const char *in, const char *want)
{
    char    out[512];
    size_t  n;

    memset(out, 'x', sizeof(out));
    n = f(in, strlen(in), out, sizeof(out));

    if (strcmp(out, want) != 0 || n != strlen(want)) {
        fail_msg("mask(\"%s\") = \"%s\" (%zu), want \"%s\"",
                 in, out, n, want);
    }

    assert_true(tthc_test_utf8_ok(out, n));
}


static void
test_name(void **state)
{
    (void) state;

    assert_mask(tthc_mask_name, "Nguyễn Văn An", "N***** V** A*");
    assert_mask(tthc_mask_name, "Trần Thị Bích Ngọc", "T*** T** B*** N***");
    assert_mask(tthc_mask_name, "Đỗ Ánh", "Đ* Á**");
    assert_mask(tthc_mask_name, "Ứng", "Ứ**");
    assert_mask(tthc_mask_name, "  Lê   \t Út\n", "L* Ú*");
    assert_mask(tthc_mask_name, "A", "A");
    assert_mask(tthc_mask_name, "", "");
    assert_mask(tthc_mask_name, "   ", "");
    assert_mask(tthc_mask_name, "Lê\xc2\xa0Út", "L* Ú*");      /* NBSP */
    assert_mask(tthc_mask_name, "Nguy\xffn", "N****");           /* invalid */
    assert_mask(tthc_mask_name, "\xff" "An", "A*");
    assert_mask(tthc_mask_name, "日本 太郎", "日* 太*");
}


static void
test_name_nfd(void **state)
{
    (void) state;

    /* NFD "Nguyễn": e + U+0302 + U+0303 counts as one masked letter */
    assert_mask(tthc_mask_name, "Nguye\xcc\x82\xcc\x83n V\xc4\x83n",
                "N***** V**");
    /* NFD first letter keeps its marks: "Ấn" = A + U+0302 + U+0301, n */
    assert_mask(tthc_mask_name, "A\xcc\x82\xcc\x81n", "A\xcc\x82\xcc\x81*");
    /* a word made of a lone mark */
    assert_mask(tthc_mask_name, "\xcc\x81 An", "A*");
}


static void
test_name_truncation(void **state)
{
    char    out[8];
    size_t  n;

    (void) state;

    n = tthc_mask_name(S("Đỗ Văn"), out, 3);
    assert_int_equal(n, 2);
    assert_string_equal(out, "Đ");

    n = tthc_mask_name(S("Đỗ Văn"), out, 2);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");

    n = tthc_mask_name(S("An Bình"), out, 4);
    assert_int_equal(n, 2);
    assert_string_equal(out, "A*");             /* no dangling space */

    out[0] = 'x';
    assert_int_equal(tthc_mask_name(S("An"), out, 0), 0);
    assert_int_equal(out[0], 'x');
    assert_int_equal(tthc_mask_name(S("An"), NULL, 8), 0);
    assert_int_equal(tthc_mask_name(NULL, 0, out, sizeof(out)), 0);
    assert_string_equal(out, "");
}


static void
test_id(void **state)
{
    char  out[4];

    (void) state;

    assert_mask(tthc_mask_id, "001099012345", "*********345");
    assert_mask(tthc_mask_id, "B1234567", "*****567");
    assert_mask(tthc_mask_id, " 001099012345\n", "*********345");
    assert_mask(tthc_mask_id, "1234", "*234");
    assert_mask(tthc_mask_id, "123", "***");
    assert_mask(tthc_mask_id, "12", "**");
    assert_mask(tthc_mask_id, "1", "*");
    assert_mask(tthc_mask_id, "", "");
    assert_mask(tthc_mask_id, "12\xff" "34", "*234");
    assert_mask(tthc_mask_id, "ĐĐĐĐ", "*ĐĐĐ");

    assert_int_equal(tthc_mask_id(S("001099012345"), out, sizeof(out)), 3);
    assert_string_equal(out, "***");
}


static void
test_email(void **state)
{
    (void) state;

    assert_mask(tthc_mask_email, "an.nguyen@gmail.com", "a*******@gmail.com");
    assert_mask(tthc_mask_email, "x@y.vn", "x*******@y.vn");
    assert_mask(tthc_mask_email, "a.very.long.local.part@dienbien.gov.vn",
                "a*******@dienbien.gov.vn");
    assert_mask(tthc_mask_email, "Đức@thư.vn", "Đ*******@thư.vn");
    assert_mask(tthc_mask_email, "a@b@c.com", "a*******@c.com");
    assert_mask(tthc_mask_email, "noatsign", "********");
    assert_mask(tthc_mask_email, "@gmail.com", "********");
    assert_mask(tthc_mask_email, "", "********");
    assert_mask(tthc_mask_email, "\xff@x.vn", "********");
    assert_mask(tthc_mask_email, "ab@x\xff.vn", "a*******@x.vn");
}


static void
test_email_small_buffer(void **state)
{
    char    out[6];
    size_t  n;

    (void) state;

    n = tthc_mask_email(S("an.nguyen@gmail.com"), out, sizeof(out));
    assert_int_equal(n, 1);
    assert_string_equal(out, "a");              /* stars are all or nothing */
}


static void
test_phone(void **state)
{
    (void) state;

    assert_mask(tthc_mask_phone, "0912345678", "*******678");
    assert_mask(tthc_mask_phone, "+84912345678", "+********678");
    assert_mask(tthc_mask_phone, "+84 912 345 678", "+** *** *** 678");
    assert_mask(tthc_mask_phone, "(0215) 3825-123", "(****) ****-123");
    assert_mask(tthc_mask_phone, "0912.345.678", "****.***.678");
    assert_mask(tthc_mask_phone, "123", "***");
    assert_mask(tthc_mask_phone, "12", "**");
    assert_mask(tthc_mask_phone, "", "");
    assert_mask(tthc_mask_phone, "09x12", "*912");
    assert_mask(tthc_mask_phone, "09\xc3\xa9" "12\xff" "3", "**123");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_name),
        cmocka_unit_test(test_name_nfd),
        cmocka_unit_test(test_name_truncation),
        cmocka_unit_test(test_id),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_email_small_buffer),
        cmocka_unit_test(test_phone),
    };

    return cmocka_run_group_tests_name("tthc_mask", tests, NULL, NULL);
}
