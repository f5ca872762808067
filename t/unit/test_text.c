/*
 * test_text.c — unit tests of common/tthc_text: Vietnamese search folding
 * (docs/contracts.md Procedure "search"; TCVN 6909:2001 repertoire, NFC+NFD).
 */
#include <stdio.h>

#include "tthc_test.h"
#include "tthc_text.h"


static void
assert_fold(const char *in, const char *want)
{
    char    out[1024];
    size_t  n;

    n = tthc_text_fold(in, strlen(in), out, sizeof(out));

    if (strcmp(out, want) != 0 || n != strlen(want)) {
        fail_msg("fold(\"%s\") = \"%s\" (%zu), want \"%s\"",
                 in, out, n, want);
    }
}


static void
test_examples(void **state)
{
    (void) state;

    assert_fold("Đăng ký khai sinh", "dang ky khai sinh");
    assert_fold("HỘ TỊCH", "ho tich");
    assert_fold("Cấp giấy chứng nhận quyền sử dụng đất",
                "cap giay chung nhan quyen su dung dat");
    assert_fold("Thủ tục hành chính", "thu tuc hanh chinh");
    assert_fold("Ủy ban nhân dân tỉnh Điện Biên",
                "uy ban nhan dan tinh dien bien");
    assert_fold("Trường Sa, Hoàng Sa", "truong sa hoang sa");
    assert_fold("NGƯỜI ĐỨNG ĐẦU", "nguoi dung dau");
    assert_fold("1.001234.000.00.00.H41", "1 001234 000 00 00 h41");
}


static void
test_all_vietnamese_letters(void **state)
{
    static const struct {
        const char  *letters;
        char         base;
    } sets[] = {
        { "aàáảãạăằắẳẵặâầấẩẫậAÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a' },
        { "eèéẻẽẹêềếểễệEÈÉẺẼẸÊỀẾỂỄỆ", 'e' },
        { "iìíỉĩịIÌÍỈĨỊ", 'i' },
        { "oòóỏõọôồốổỗộơờớởỡợOÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o' },
        { "uùúủũụưừứửữựUÙÚỦŨỤƯỪỨỬỮỰ", 'u' },
        { "yỳýỷỹỵYỲÝỶỸỴ", 'y' },
        { "dđDĐ", 'd' },
    };
    char    out[256], want[256];
    size_t  i, k, n, cps, adv;

    (void) state;

    for (i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        cps = 0;
        for (k = 0; sets[i].letters[k] != '\0'; k += adv) {
            assert_true(tthc_utf8_decode((const unsigned char *)
                                         sets[i].letters + k,
                                         strlen(sets[i].letters + k),
                                         &adv) >= 0);
            cps++;
        }

        memset(want, sets[i].base, cps);
        want[cps] = '\0';

        n = tthc_text_fold(sets[i].letters, strlen(sets[i].letters),
                           out, sizeof(out));
        assert_int_equal(n, cps);
        assert_string_equal(out, want);
    }

    /* 67 lowercase + 67 uppercase Vietnamese letters with diacritics */
    assert_int_equal(strlen("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩị"
                            "òóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ") > 0, 1);
}


static void
test_nfd(void **state)
{
    (void) state;

    /* "Đăng ký khai sinh" with decomposed ă (a + U+0306) and ý (y + U+0301) */
    assert_fold("\xc4\x90" "a\xcc\x86ng ky\xcc\x81 khai sinh",
                "dang ky khai sinh");
    /* "HỘ TỊCH": O + U+0323 + U+0302, I + U+0323 */
    assert_fold("HO\xcc\xa3\xcc\x82 TI\xcc\xa3" "CH", "ho tich");
    /* horn U+031B, hook above U+0309, tilde U+0303, grave U+0300 */
    assert_fold("tru\xcc\x9bo\xcc\x9b\xcc\x80ng", "truong");
    assert_fold("thu\xcc\x89 tu\xcc\xa3" "c", "thu tuc");
    assert_fold("nghi\xcc\x83", "nghi");
    /* a lone combining mark, or one after a separator, vanishes */
    assert_fold("\xcc\x81", "");
    assert_fold("a \xcc\x81 b", "a b");
    /* marks outside U+0300..U+0323 are kept */
    assert_fold("a\xcc\xa4", "a\xcc\xa4");
}


static void
test_separators(void **state)
{
    (void) state;

    assert_fold("  Thủ tục -- hành   chính!!! ", "thu tuc hanh chinh");
    assert_fold("\t\r\nhộ\n\ntịch\t", "ho tich");
    assert_fold("a_b/c\\d\"e'f(g)h[i]j{k}l<m>n=o+p*q&r%s$t#u@v!w?x,y;z:",
                "a b c d e f g h i j k l m n o p q r s t u v w x y z");
    assert_fold("a\xc2\xa0" "b", "a b");                     /* NBSP */
    assert_fold("a\xe2\x80\x94" "b\xe2\x80\x93" "c", "a b c"); /* dashes */
    assert_fold("\xe2\x80\x9cH\xe1\xbb\x99 t\xe1\xbb\x8b" "ch\xe2\x80\x9d",
                "ho tich");                                  /* “Hộ tịch” */
    assert_fold("a\xc2\xab" "b\xc2\xbb" "c\xc2\xb7" "d", "a b c d"); /* « » · */
    assert_fold("a\xe3\x80\x80" "b", "a b");                 /* ideographic sp */
    assert_fold("a\xc2\x85" "b", "a b");                     /* NEL (C1) */
    assert_fold("a\xc2\xad" "b", "ab");                      /* soft hyphen */
    assert_fold("a\xe2\x80\x8b" "b\xef\xbb\xbf" "c", "abc"); /* ZWSP, BOM */
    assert_fold("   ", "");
    assert_fold("!!!", "");
    assert_fold("", "");
    assert_fold("x", "x");
    assert_fold("a\0b", "a");           /* strlen stops; see test_nul */
}


static void
test_nul(void **state)
{
    char    out[16];
    size_t  n;

    (void) state;

    n = tthc_text_fold("a\0b", 3, out, sizeof(out));
    assert_int_equal(n, 3);
    assert_string_equal(out, "a b");
}


static void
test_other_scripts(void **state)
{
    (void) state;

    assert_fold("日本語", "日本語");
    assert_fold("ΑΒΓ αβγ", "αβγ αβγ");
    assert_fold("ПРИВЕТ Ёж", "привет ёж");
    assert_fold("ÄÖÜ ß Ñ Ç", "äöü ß ñ ç");
    assert_fold("Łódź", "łodź");          /* ó is also a Vietnamese letter */
    assert_fold("ª²³", "ª²³");
    assert_fold("😀 ok", "😀 ok");
    assert_fold("Ðà Nẵng", "da nang");               /* Eth look-alike */
}


static void
test_invalid_utf8(void **state)
{
    (void) state;

    assert_fold("a\xff" "b", "ab");
    assert_fold("a\xc3", "a");                        /* truncated */
    assert_fold("\xc3" "a", "a");
    assert_fold("a\xc0\xaf" "b", "ab");               /* overlong '/' */
    assert_fold("a\xe0\x80\xaf" "b", "ab");           /* overlong */
    assert_fold("a\xed\xa0\x80" "b", "ab");           /* surrogate */
    assert_fold("a\xf4\x90\x80\x80" "b", "ab");       /* > U+10FFFF */
    assert_fold("a\x80\x80\x80" "b", "ab");           /* stray continuation */
    assert_fold("\xe1\xbb" "\xe1\xbb\x99", "o");      /* cut sequence then ộ */
}


static void
test_truncation(void **state)
{
    char    out[16];
    size_t  n;

    (void) state;

    memset(out, 'x', sizeof(out));
    n = tthc_text_fold(S("dang ky"), out, 5);
    assert_int_equal(n, 4);
    assert_string_equal(out, "dang");                 /* no trailing space */

    n = tthc_text_fold(S("dang ky"), out, 6);
    assert_int_equal(n, 4);
    assert_string_equal(out, "dang");

    n = tthc_text_fold(S("dang ky"), out, 7);
    assert_int_equal(n, 6);
    assert_string_equal(out, "dang k");

    n = tthc_text_fold(S("日本"), out, 5);
    assert_int_equal(n, 3);
    assert_string_equal(out, "日");

    n = tthc_text_fold(S("日本"), out, 3);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");

    n = tthc_text_fold(S("Đăng"), out, 1);
    assert_int_equal(n, 0);
    assert_string_equal(out, "");

    out[0] = 'x';
    n = tthc_text_fold(S("Đăng"), out, 0);
    assert_int_equal(n, 0);
    assert_int_equal(out[0], 'x');

    assert_int_equal(tthc_text_fold(S("abc"), NULL, 10), 0);
    n = tthc_text_fold(NULL, 0, out, sizeof(out));
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}


static void
test_random_properties(void **state)
{
    int       r;
    char      in[64], out[65], again[65];
    size_t    i, len, n, n2;
    uint32_t  st;

    (void) state;

    st = 0xC0FFEE;

    for (r = 0; r < 50000; r++) {
        len = tthc_test_rand(&st) % sizeof(in);
        for (i = 0; i < len; i++) {
            /* bias towards UTF-8 lead/continuation bytes and separators */
            uint32_t  x = tthc_test_rand(&st);
            static const unsigned char  pool[] = {
                0xc3, 0xa0, 0xe1, 0xbb, 0x99, 0xcc, 0x81, 0xc4, 0x90,
                0x80, 0xbf, 0xf0, 0x9f, 0x98, 0x80, ' ', '-', 'A', 'z',
                0xe2, 0x80, 0x94, 0xed, 0xa0, 0xff, 0x00, '\n'
            };
            in[i] = (char) ((x & 1) ? pool[(x >> 1) % sizeof(pool)]
                                    : (x >> 8) & 0xff);
        }

        n = tthc_text_fold(in, len, out, sizeof(out));
        assert_true(n <= len);
        assert_int_equal(strlen(out), n);
        assert_true(tthc_test_utf8_ok(out, n));
        if (n > 0) {
            assert_true(out[0] != ' ' && out[n - 1] != ' ');
        }
        assert_null(strstr(out, "  "));
        for (i = 0; i < n; i++) {
            assert_false(out[i] >= 'A' && out[i] <= 'Z');
        }

        /* idempotent */
        n2 = tthc_text_fold(out, n, again, sizeof(again));
        assert_int_equal(n2, n);
        assert_memory_equal(again, out, n);

        /* truncated output is a prefix of the full one */
        n2 = tthc_text_fold(in, len, again, 1 + len / 2);
        assert_true(n2 <= len / 2);
        assert_true(tthc_test_utf8_ok(again, n2));
        assert_memory_equal(again, out, n2);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_examples),
        cmocka_unit_test(test_all_vietnamese_letters),
        cmocka_unit_test(test_nfd),
        cmocka_unit_test(test_separators),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_other_scripts),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_random_properties),
    };

    return cmocka_run_group_tests_name("tthc_text", tests, NULL, NULL);
}
