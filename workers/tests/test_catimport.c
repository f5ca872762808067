/* test_catimport.c - unit tests of the pure part of the catalogue import
 * (workers/src/catimport.c: wk_catimport_parse, wk_catimport_channels): the
 * demo sample reads as the demo catalogue, the processing time and channels
 * follow the documented rules, names are trimmed, and hostile, invalid,
 * duplicated or oversized exports are refused with their error class.
 * Built by `make -C workers tests`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wk.h"

#ifndef WK_TEST_XSD_DIR
#error "WK_TEST_XSD_DIR must be defined (workers/Makefile)"
#endif

static const char *xsd(void)
{
    return WK_TEST_XSD_DIR "/ThuTuc.xsd";
}

static char *slurp(const char *path, size_t *len)
{
    char *buf = NULL;
    assert_int_equal(wk_read_file(path, &buf, len), 0);
    return buf;
}

static const wk_cat_proc *find(const wk_cat_doc *d, const char *code)
{
    for (int i = 0; i < d->nprocs; i++)
        if (!strcmp(d->procs[i].code, code))
            return &d->procs[i];
    return NULL;
}

/* one ThuTuc with the given middle (agencies .. form fields) */
static char *doc1(const char *times, const char *comps, const char *extra)
{
    static char buf[8192];
    snprintf(buf, sizeof(buf),
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DanhSachThuTuc><ThuTuc>"
             "<MaTTHC>1.000123.000.00.00.H41</MaTTHC><TenTTHC>  Th\xe1\xbb\xa7 t\xe1\xbb\xa5""c\n </TenTTHC>"
             "<MaLinhVuc>HT</MaLinhVuc><TenLinhVuc>H\xe1\xbb\x99 t\xe1\xbb\x8b""ch</TenLinhVuc>"
             "<MucDoTrucTuyen>1</MucDoTrucTuyen><TrangThai>1</TrangThai><NgayCapNhat>20240101000000</NgayCapNhat>"
             "<DanhSachCoQuanThucHien><CoQuan><MaCoQuan>000.00.31.H41</MaCoQuan><TenCoQuan>S\xe1\xbb\x9f T\xc6\xb0 ph\xc3\xa1p</TenCoQuan></CoQuan>"
             "<CoQuan><MaCoQuan>000.00.20.H41</MaCoQuan><TenCoQuan>S\xe1\xbb\x9f TNMT</TenCoQuan></CoQuan></DanhSachCoQuanThucHien>"
             "<DanhSachThoiHanGiaiQuyet>%s</DanhSachThoiHanGiaiQuyet>"
             "<DanhSachThanhPhanHoSo>%s</DanhSachThanhPhanHoSo>%s</ThuTuc></DanhSachThuTuc>\n",
             times, comps, extra);
    return buf;
}

#define TIME(k, n, u) "<ThoiHanGiaiQuyet><KenhThucHien>" k "</KenhThucHien><ThoiGian>" n \
                      "</ThoiGian><DonViThoiGian>" u "</DonViThoiGian></ThoiHanGiaiQuyet>"
#define COMP(c, r) "<ThanhPhanHoSo><MaThanhPhanHoSo>" c "</MaThanhPhanHoSo><TenThanhPhanHoSo>T\xc3\xaan</TenThanhPhanHoSo>" \
                   "<BatBuoc>" r "</BatBuoc></ThanhPhanHoSo>"

static void test_sample(void **state)
{
    (void)state;
    size_t len = 0;
    char *buf = slurp(WK_TEST_XSD_DIR "/../samples/DanhSachThuTuc.xml", &len);
    wk_cat_doc d;
    char err[512] = "";
    assert_int_equal(wk_catimport_parse(buf, len, xsd(), WK_CATIMPORT_MAX, &d, err, sizeof(err)), 0);
    assert_int_equal(d.nprocs, 10);
    assert_int_equal(d.nagencies, 4);
    assert_int_equal(d.nfields, 5);
    assert_int_equal(d.agency_conflicts + d.field_conflicts, 0);
    const wk_cat_proc *p = find(&d, "1.000001.000.00.00.H41");
    assert_non_null(p);
    assert_string_equal(p->name, "C\xe1\xba\xa5p b\xe1\xba\xa3n sao tr\xc3\xad""ch l\xe1\xbb\xa5""c h\xe1\xbb\x99 t\xe1\xbb\x8b""ch");
    assert_string_equal(d.agencies[p->agency].code, "000.00.31.H41");
    assert_string_equal(d.fields[p->field].code, "HT");
    assert_true(p->full && p->active);
    assert_int_equal(p->amount, 5);
    assert_false(p->hours);
    char ch[32];
    wk_catimport_channels(p->channels, ch);
    assert_string_equal(ch, "online,desk,postal");
    assert_int_equal(p->ncomps, 2);
    assert_string_equal(p->comps[0].code, "TK");
    assert_true(p->comps[0].required);
    assert_int_equal(p->comps[1].position, 2);
    assert_false(p->comps[1].required);
    assert_int_equal(p->comps[1].originals, -1);
    assert_int_equal(p->nfees, 1);
    assert_int_equal(p->fees[0].amount, 8000);
    p = find(&d, "2.000815.000.00.00.H41");
    assert_non_null(p);
    assert_true(p->hours);
    assert_int_equal(p->amount, 4);
    assert_false(p->full);
    wk_catimport_channels(p->channels, ch);
    assert_string_equal(ch, "desk");
    wk_catimport_doc_free(&d);
    free(buf);
}

static void test_time_and_channels(void **state)
{
    (void)state;
    wk_cat_doc d;
    char err[512] = "";
    /* the counter's (KenhThucHien 1) time wins over the first listed */
    const char *x = doc1(TIME("2", "3", "1") TIME("3", "9", "1") TIME("1", "5", "2"), COMP("A", "1"), "");
    assert_int_equal(wk_catimport_parse(x, strlen(x), xsd(), WK_CATIMPORT_MAX, &d, err, sizeof(err)), 0);
    assert_int_equal(d.procs[0].amount, 5);
    assert_true(d.procs[0].hours);
    char ch[32];
    wk_catimport_channels(d.procs[0].channels, ch);
    assert_string_equal(ch, "online,desk,postal");
    /* names are trimmed; every agency listed is read, the first is the lead */
    assert_string_equal(d.procs[0].name, "Th\xe1\xbb\xa7 t\xe1\xbb\xa5""c");
    assert_int_equal(d.nagencies, 2);
    assert_string_equal(d.agencies[d.procs[0].agency].code, "000.00.31.H41");
    wk_catimport_doc_free(&d);
    /* without channel 1: the first listed */
    x = doc1(TIME("3", "9", "1") TIME("2", "3", "1"), COMP("A", "1"), "");
    assert_int_equal(wk_catimport_parse(x, strlen(x), xsd(), WK_CATIMPORT_MAX, &d, err, sizeof(err)), 0);
    assert_int_equal(d.procs[0].amount, 9);
    wk_catimport_channels(d.procs[0].channels, ch);
    assert_string_equal(ch, "online,postal");
    wk_catimport_doc_free(&d);
    wk_catimport_channels(0, ch);
    assert_string_equal(ch, "");
}

static void expect_refused(const char *x, size_t len, size_t max, const char *cls)
{
    wk_cat_doc d;
    char err[512] = "";
    assert_int_equal(wk_catimport_parse(x, len, xsd(), max, &d, err, sizeof(err)), -1);
    assert_int_equal(strncmp(err, cls, strlen(cls)), 0);
    assert_int_equal(d.nprocs, 0);
    assert_null(d.procs);
}

static void test_refused(void **state)
{
    (void)state;
    const char *x = doc1(TIME("1", "3", "1"), COMP("A", "1") COMP("a", "0"), "");
    expect_refused(x, strlen(x), WK_CATIMPORT_MAX, "CATALOGUE_INVALID");
    x = doc1(TIME("1", "3", "1"), COMP("A", "1"),
             "<DanhSachLePhi><LePhi><TenPhiLePhi>Ph\xc3\xad</TenPhiLePhi><SoTien>1</SoTien></LePhi>"
             "<LePhi><TenPhiLePhi>Ph\xc3\xad</TenPhiLePhi><SoTien>2</SoTien></LePhi></DanhSachLePhi>");
    expect_refused(x, strlen(x), WK_CATIMPORT_MAX, "CATALOGUE_INVALID");
    x = doc1(TIME("1", "3", "1"), COMP("A", "1"),
             "<DanhSachTruongDuLieu><TruongDuLieu><MaTruong>f</MaTruong><TenTruong>F</TenTruong>"
             "<KieuDuLieu>text</KieuDuLieu><BatBuoc>0</BatBuoc></TruongDuLieu><TruongDuLieu><MaTruong>F</MaTruong>"
             "<TenTruong>F</TenTruong><KieuDuLieu>date</KieuDuLieu><BatBuoc>0</BatBuoc></TruongDuLieu>"
             "</DanhSachTruongDuLieu>");
    expect_refused(x, strlen(x), WK_CATIMPORT_MAX, "CATALOGUE_INVALID");
    x = doc1(TIME("4", "3", "1"), COMP("A", "1"), "");
    expect_refused(x, strlen(x), WK_CATIMPORT_MAX, "XML_INVALID");
    x = doc1(TIME("1", "3", "1"), COMP("A", "1"), "");
    expect_refused(x, strlen(x) - 20, WK_CATIMPORT_MAX, "XML_MALFORMED");
    expect_refused(x, strlen(x), 100, "TOO_LARGE");
    expect_refused("", 0, WK_CATIMPORT_MAX, "XML_MALFORMED");
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE DanhSachThuTuc [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                      "<DanhSachThuTuc>&x;</DanhSachThuTuc>";
    expect_refused(xxe, strlen(xxe), WK_CATIMPORT_MAX, "XML_FORBIDDEN");
}

static int teardown(void **state)
{
    (void)state;
    wk_xml_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample),
        cmocka_unit_test(test_time_and_channels),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests_name("wk_catimport", tests, NULL, teardown);
}
