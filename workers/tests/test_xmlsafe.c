/* test_xmlsafe.c - unit tests of wk_xml_parse_valid (workers/src/xmlsafe.c)
 * and of the exchange contracts (exchange/xsd/): every XSD compiles, a valid
 * message of each kind passes, and malformed, schema-invalid, XXE, billion
 * laughs, any DOCTYPE, oversized and too deep documents are refused with a
 * clear reason that quotes no value and nothing on stderr.
 * Run by `make -C t/unit check`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/xmlschemas.h>

#include "wk.h"

#ifndef WK_TEST_XSD_DIR
#error "WK_TEST_XSD_DIR must be defined (workers/Makefile)"
#endif

#define MAX_LEN (64 * 1024)

static const char *const XSDS[] = {
    "common.xsd", "HoSo.xsd", "TienTrinhXuLy.xsd", "ThuTuc.xsd",
    "DonHangBuuChinh.xsd", "TrangThaiBuuChinh.xsd", "YeuCauThanhToan.xsd",
    "BienLaiThanhToan.xsd",
};

static const char *xsd(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof path, "%s/%s", WK_TEST_XSD_DIR, name);
    return path;
}

/* a full HoSo; the arguments replace NgayNopHoSo, TrangThaiHoSo and add
 * raw XML right after DonViXuLy */
static const char *hoso(const char *ngaynop, const char *trangthai, const char *extra)
{
    static char buf[8192];
    snprintf(buf, sizeof buf,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<HoSo>\n"
        "  <MaHoSo>000.00.31.H41-240102-0001</MaHoSo>\n"
        "  <MaTTHC>1.011442.000.00.00.H38</MaTTHC>\n"
        "  <TenTTHC>Đăng ký khai sinh</TenTTHC>\n"
        "  <MaLinhVuc>HT</MaLinhVuc>\n"
        "  <KenhThucHien>2</KenhThucHien>\n"
        "  <ChuHoSo>Nguyễn Văn A</ChuHoSo>\n"
        "  <SoGiayToChuHoSo>001099012345</SoGiayToChuHoSo>\n"
        "  <LoaiDoiTuong>1</LoaiDoiTuong>\n"
        "  <Email>a@example.vn</Email>\n"
        "  <SoDienThoai>0912345678</SoDienThoai>\n"
        "  <TrichYeuHoSo>Khai sinh cho con</TrichYeuHoSo>\n"
        "  <NgayNopHoSo>%s</NgayNopHoSo>\n"
        "  <NgayTiepNhan>20240102091500</NgayTiepNhan>\n"
        "  <NgayHenTra>20240105170000</NgayHenTra>\n"
        "  <TrangThaiHoSo>%s</TrangThaiHoSo>\n"
        "  <DonViXuLy>000.00.31.H41</DonViXuLy>%s\n"
        "  <TaiLieuNop>\n"
        "    <TepDinhKem>\n"
        "      <MaThanhPhanHoSo>TP1</MaThanhPhanHoSo>\n"
        "      <TenTepDinhKem>giay-chung-sinh.pdf</TenTepDinhKem>\n"
        "      <MaTep>%s</MaTep>\n"
        "      <KichThuoc>123456</KichThuoc>\n"
        "    </TepDinhKem>\n"
        "  </TaiLieuNop>\n"
        "  <DanhSachLePhi>\n"
        "    <LePhi><TenPhiLePhi>Lệ phí hộ tịch</TenPhiLePhi><LoaiPhiLePhi>2</LoaiPhiLePhi>"
        "<SoTien>8000</SoTien></LePhi>\n"
        "  </DanhSachLePhi>\n"
        "  <DanhSachHoSoBoSung/>\n"
        "  <DanhSachGiayToKetQua/>\n"
        "</HoSo>\n",
        ngaynop, trangthai, extra,
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    return buf;
}

static int check(const char *doc, const char *xsd_name, char *err, size_t errsz)
{
    xmlDocPtr d = NULL;
    int rc = wk_xml_parse_valid(doc, strlen(doc), xsd(xsd_name), MAX_LEN, &d, err, errsz);
    if (rc == 0) {
        assert_non_null(d);
        xmlFreeDoc(d);
    } else {
        assert_null(d);
        assert_true(err[0] != '\0');
    }
    return rc;
}

/* refused, and err contains want (and not leak, when given) */
static void refused(const char *doc, const char *want, const char *leak)
{
    char err[256];
    assert_int_equal(check(doc, "HoSo.xsd", err, sizeof err), -1);
    if (!strstr(err, want))
        fail_msg("err \"%s\" lacks \"%s\"", err, want);
    if (leak && strstr(err, leak))
        fail_msg("err \"%s\" quotes \"%s\"", err, leak);
}

static void test_xsd_compile(void **state)
{
    (void)state;
    char err[256];
    for (size_t i = 0; i < sizeof XSDS / sizeof XSDS[0]; i++) {
        /* straight xmlSchemaParse, then through the cache */
        xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt(xsd(XSDS[i]));
        assert_non_null(pc);
        xmlSchemaPtr s = xmlSchemaParse(pc);
        if (!s)
            fail_msg("%s does not compile", XSDS[i]);
        xmlSchemaFree(s);
        xmlSchemaFreeParserCtxt(pc);
        if (wk_xml_schema_check(xsd(XSDS[i]), err, sizeof err) != 0)
            fail_msg("%s: %s", XSDS[i], err);
    }
    assert_int_equal(wk_xml_schema_check(xsd("nope.xsd"), err, sizeof err), -1);
    assert_non_null(strstr(err, "xsd:"));
}

static void test_hoso_valid(void **state)
{
    (void)state;
    char err[256] = "x";
    const char *doc = hoso("20240102091500", "4", "");
    xmlDocPtr d = NULL;
    assert_int_equal(wk_xml_parse_valid(doc, strlen(doc), xsd("HoSo.xsd"), MAX_LEN,
                                        &d, err, sizeof err), 0);
    assert_non_null(d);
    assert_string_equal(err, "");
    assert_string_equal((const char *)xmlDocGetRootElement(d)->name, "HoSo");
    xmlFreeDoc(d);
    /* every status code 1..10 and the minimal form (optional parts out) */
    for (int s = 1; s <= 10; s++) {
        char st[4];
        snprintf(st, sizeof st, "%d", s);
        assert_int_equal(check(hoso("20241231235959", st, ""), "HoSo.xsd", err, sizeof err), 0);
    }
    const char *min =
        "<HoSo><MaHoSo>000.00.31.H41-240102-0001</MaHoSo><MaTTHC>1.0001</MaTTHC>"
        "<TenTTHC>T</TenTTHC><MaLinhVuc>HT</MaLinhVuc><KenhThucHien>1</KenhThucHien>"
        "<ChuHoSo>C</ChuHoSo><LoaiDoiTuong>2</LoaiDoiTuong><TrichYeuHoSo>x</TrichYeuHoSo>"
        "<NgayNopHoSo>20240102000000</NgayNopHoSo><TrangThaiHoSo>1</TrangThaiHoSo>"
        "<DonViXuLy>000.00.31.H41</DonViXuLy></HoSo>";
    assert_int_equal(check(min, "HoSo.xsd", err, sizeof err), 0);
}

static void test_other_messages_valid(void **state)
{
    (void)state;
    static const struct { const char *xsd, *doc; } M[] = {
        { "TienTrinhXuLy.xsd",
          "<TienTrinhXuLy><MaHoSo>000.00.31.H41-240102-0001</MaHoSo>"
          "<NguoiXuLy>Trần B</NguoiXuLy><ChucDanh>Chuyên viên</ChucDanh>"
          "<ThoiDiemXuLy>20240102100000</ThoiDiemXuLy><PhongBanXuLy>Tư pháp</PhongBanXuLy>"
          "<NoiDungXuLy>Thẩm định</NoiDungXuLy><TrangThai>4</TrangThai>"
          "<NgayBatDau>20240102091500</NgayBatDau>"
          "<NgayKetThucTheoQuyDinh>20240103170000</NgayKetThucTheoQuyDinh></TienTrinhXuLy>" },
        { "ThuTuc.xsd",
          "<DanhSachThuTuc><ThuTuc><MaTTHC>1.011442.000.00.00.H38</MaTTHC>"
          "<TenTTHC>Đăng ký khai sinh</TenTTHC><MaLinhVuc>HT</MaLinhVuc>"
          "<TenLinhVuc>Hộ tịch</TenLinhVuc><MucDoTrucTuyen>1</MucDoTrucTuyen>"
          "<TrangThai>1</TrangThai><NgayCapNhat>20240101000000</NgayCapNhat>"
          "<DanhSachCoQuanThucHien><CoQuan><MaCoQuan>000.00.31.H41</MaCoQuan>"
          "<TenCoQuan>UBND xã</TenCoQuan></CoQuan></DanhSachCoQuanThucHien>"
          "<DanhSachThoiHanGiaiQuyet><ThoiHanGiaiQuyet><KenhThucHien>2</KenhThucHien>"
          "<ThoiGian>3</ThoiGian><DonViThoiGian>1</DonViThoiGian></ThoiHanGiaiQuyet>"
          "</DanhSachThoiHanGiaiQuyet><DanhSachThanhPhanHoSo><ThanhPhanHoSo>"
          "<MaThanhPhanHoSo>TP1</MaThanhPhanHoSo><TenThanhPhanHoSo>Giấy chứng sinh"
          "</TenThanhPhanHoSo><BatBuoc>1</BatBuoc></ThanhPhanHoSo></DanhSachThanhPhanHoSo>"
          "<DanhSachLePhi><LePhi><TenPhiLePhi>Lệ phí</TenPhiLePhi><SoTien>0</SoTien>"
          "</LePhi></DanhSachLePhi><DanhSachTruongDuLieu><TruongDuLieu><MaTruong>ho_ten"
          "</MaTruong><TenTruong>Họ tên</TenTruong><KieuDuLieu>text</KieuDuLieu>"
          "<BatBuoc>1</BatBuoc></TruongDuLieu></DanhSachTruongDuLieu></ThuTuc></DanhSachThuTuc>" },
        { "DonHangBuuChinh.xsd",
          "<DonHangBuuChinh><MaHoSo>000.00.31.H41-240102-0001</MaHoSo>"
          "<LoaiDonHang>2</LoaiDonHang><NguoiGui><HoTen>UBND xã</HoTen><DiaChi>1 Đường A"
          "</DiaChi><MaTinh>41</MaTinh><MaHuyen>412</MaHuyen><SoDienThoai>02363123456"
          "</SoDienThoai></NguoiGui><NguoiNhan><HoTen>Nguyễn Văn A</HoTen><DiaChi>2 Đường B"
          "</DiaChi><MaTinh>41</MaTinh><MaHuyen>413</MaHuyen><MaXa>41301</MaXa><SoDienThoai>"
          "+84912345678</SoDienThoai><Email>a@example.vn</Email></NguoiNhan><MoTa>Kết quả"
          "</MoTa><SoTienThuHo>0</SoTienThuHo><NgayTao>20240105100000</NgayTao></DonHangBuuChinh>" },
        { "TrangThaiBuuChinh.xsd",
          "<TrangThaiBuuChinh><MaHoSo>000.00.31.H41-240102-0001</MaHoSo>"
          "<SoHieuBuuGui>EB123456789VN</SoHieuBuuGui><MaTrangThai>DELIVERED</MaTrangThai>"
          "<NoiDung>Đã phát</NoiDung><ThoiDiem>20240106113000</ThoiDiem></TrangThaiBuuChinh>" },
        { "YeuCauThanhToan.xsd",
          "<YeuCauThanhToan><MaGiaoDich>TX-0001</MaGiaoDich>"
          "<MaHoSo>000.00.31.H41-240102-0001</MaHoSo><MaTTHC>1.011442.000.00.00.H38</MaTTHC>"
          "<MaDonViThuHuong>000.00.31.H41</MaDonViThuHuong><TaiKhoanThuHuong><SoTaiKhoan>"
          "3511</SoTaiKhoan><TenTaiKhoan>UBND xã</TenTaiKhoan><MaNganHang>KBNN</MaNganHang>"
          "</TaiKhoanThuHuong><DanhSachLePhi><LePhi><TenPhiLePhi>Lệ phí</TenPhiLePhi>"
          "<SoTien>8000</SoTien></LePhi></DanhSachLePhi><TongTien>8000</TongTien>"
          "<NoiDungThanhToan>Lệ phí hồ sơ</NoiDungThanhToan><NgayTao>20240102100000</NgayTao>"
          "<ThoiHanThanhToan>20240103100000</ThoiHanThanhToan>"
          "<DuongDanTraVe>https://dvc.example.vn/tra-ve</DuongDanTraVe></YeuCauThanhToan>" },
        { "BienLaiThanhToan.xsd",
          "<BienLaiThanhToan><MaGiaoDich>TX-0001</MaGiaoDich><MaGiaoDichNenTang>P-77"
          "</MaGiaoDichNenTang><MaHoSo>000.00.31.H41-240102-0001</MaHoSo><SoTien>8000"
          "</SoTien><TrangThaiThanhToan>1</TrangThaiThanhToan><ThoiDiemThanhToan>"
          "20240102101500</ThoiDiemThanhToan><SoBienLai>0000123</SoBienLai>"
          "<ChuKySo>AAECAwQ=</ChuKySo></BienLaiThanhToan>" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++)
        if (check(M[i].doc, M[i].xsd, err, sizeof err) != 0)
            fail_msg("%s: %s", M[i].xsd, err);
    /* a message validated against another message's schema is refused */
    assert_int_equal(check(M[0].doc, "HoSo.xsd", err, sizeof err), -1);
    assert_non_null(strstr(err, "not the root element"));
}

static void test_malformed(void **state)
{
    (void)state;
    refused("<HoSo><MaHoSo>", "malformed", NULL);
    refused("not xml at all", "malformed", NULL);
    refused("<HoSo></Hoso>", "malformed", NULL);
    refused("<HoSo/><HoSo/>", "malformed", NULL);
    refused("<HoSo>&xxe;</HoSo>", "malformed", NULL);       /* undeclared entity */
    refused("<HoSo a='1' a='2'/>", "malformed", NULL);
    refused("<HoSo>\xff\xfe</HoSo>", "malformed", NULL);     /* not UTF-8 */
    char err[64];
    xmlDocPtr d = (xmlDocPtr)1;
    assert_int_equal(wk_xml_parse_valid("", 0, xsd("HoSo.xsd"), MAX_LEN, &d, err,
                                        sizeof err), -1);
    assert_null(d);
    assert_non_null(strstr(err, "empty"));
}

static void test_schema_invalid(void **state)
{
    (void)state;
    /* bad dates: wrong form, month 13, hour 24, too short */
    refused(hoso("2024-01-02 09:15", "4", ""), "'NgayNopHoSo'", "2024-01-02");
    refused(hoso("20241302091500", "4", ""), "'NgayNopHoSo'", "20241302");
    refused(hoso("20240102241500", "4", ""), "schema-invalid", NULL);
    refused(hoso("2024010209150", "4", ""), "pattern", NULL);
    /* status outside 1..10 */
    refused(hoso("20240102091500", "11", ""), "'TrangThaiHoSo'", NULL);
    refused(hoso("20240102091500", "0", ""), "not in the allowed set", NULL);
    refused(hoso("20240102091500", " 4", ""), "'TrangThaiHoSo'", NULL);
    /* unknown element, text and attribute where none are allowed */
    refused(hoso("20240102091500", "4", "<GhiChu>x</GhiChu>"), "'GhiChu'", NULL);
    refused(hoso("20240102091500", "4", "loose text"), "schema-invalid", NULL);
    /* a required element missing */
    refused("<HoSo><MaHoSo>000.00.31.H41-240102-0001</MaHoSo></HoSo>",
            "schema-invalid", NULL);
    /* wrong root, too long a name, bad dossier code */
    refused("<ThuTuc/>", "not the root element", NULL);
    char big[600];
    memset(big, 'x', 300);
    big[300] = '\0';
    char doc[9000];
    snprintf(doc, sizeof doc, "%s", hoso("20240102091500", "4", ""));
    char *p = strstr(doc, "Nguyễn Văn A");
    assert_non_null(p);
    char tail[9000];
    snprintf(tail, sizeof tail, "%s", p + strlen("Nguyễn Văn A"));
    snprintf(p, sizeof doc - (size_t)(p - doc), "%s%s", big, tail);
    refused(doc, "too long", "xxxxxxxx");
    snprintf(doc, sizeof doc, "%s", hoso("20240102091500", "4", ""));
    p = strstr(doc, "-0001</MaHoSo>");
    memcpy(p, "-001A", 5);
    refused(doc, "'MaHoSo'", "001A");
}

static void test_xxe(void **state)
{
    (void)state;
    refused("<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE HoSo [ <!ENTITY xxe SYSTEM \"file:///etc/passwd\"> ]>\n"
            "<HoSo><ChuHoSo>&xxe;</ChuHoSo></HoSo>", "DOCTYPE", "root:");
    refused("<!DOCTYPE HoSo [ <!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p; ]>"
            "<HoSo/>", "DOCTYPE", NULL);
    refused("<!DOCTYPE HoSo SYSTEM \"file:///etc/passwd\"><HoSo/>", "DOCTYPE", "root:");
}

static void test_billion_laughs(void **state)
{
    (void)state;
    refused("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
            " <!ENTITY lol \"lol\">\n"
            " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
            " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
            " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
            " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
            " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
            " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
            " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
            " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
            " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
            "]>\n<HoSo><ChuHoSo>&lol9;</ChuHoSo></HoSo>", "DOCTYPE", NULL);
}

static void test_doctype_any(void **state)
{
    (void)state;
    refused("<!DOCTYPE HoSo><HoSo/>", "DOCTYPE", NULL);
    refused("<?xml version=\"1.0\"?><!DOCTYPE HoSo []>\n<HoSo/>", "DOCTYPE", NULL);
    /* even in front of an otherwise valid document */
    char doc[9000];
    const char *v = hoso("20240102091500", "4", "");
    const char *body = strstr(v, "<HoSo>");
    snprintf(doc, sizeof doc, "<!DOCTYPE HoSo>\n%s", body);
    refused(doc, "DOCTYPE", NULL);
}

static void test_limits(void **state)
{
    (void)state;
    char err[256];
    xmlDocPtr d = NULL;
    const char *doc = hoso("20240102091500", "4", "");
    size_t n = strlen(doc);
    assert_int_equal(wk_xml_parse_valid(doc, n, xsd("HoSo.xsd"), n - 1, &d, err,
                                        sizeof err), -1);
    assert_null(d);
    assert_non_null(strstr(err, "too large"));
    assert_int_equal(wk_xml_parse_valid(doc, n, xsd("HoSo.xsd"), n, &d, err,
                                        sizeof err), 0);
    xmlFreeDoc(d);
    /* nesting: 64 levels pass the depth check (then fail the schema), 65 do not */
    char deep[2048];
    for (int levels = 64; levels <= 65; levels++) {
        size_t o = 0;
        for (int i = 0; i < levels; i++)
            o += (size_t)snprintf(deep + o, sizeof deep - o, "<a>");
        for (int i = 0; i < levels; i++)
            o += (size_t)snprintf(deep + o, sizeof deep - o, "</a>");
        assert_int_equal(check(deep, "HoSo.xsd", err, sizeof err), -1);
        if (levels == 64)
            assert_non_null(strstr(err, "schema-invalid"));
        else
            assert_non_null(strstr(err, "deeper than 64"));
    }
    /* a tiny err buffer is filled, truncated and terminated */
    char small[8];
    assert_int_equal(wk_xml_parse_valid("<x", 2, xsd("HoSo.xsd"), MAX_LEN, &d, small,
                                        sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
}

/* libxml2 never writes to stderr through wk_xml_parse_valid */
static void test_quiet(void **state)
{
    (void)state;
    char path[] = "/tmp/test_xmlsafe.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    dup2(fd, 2);
    char err[256];
    check("<HoSo><MaHoSo>", "HoSo.xsd", err, sizeof err);
    check(hoso("bad", "11", "<X/>"), "HoSo.xsd", err, sizeof err);
    check("<!DOCTYPE HoSo [ <!ENTITY x SYSTEM \"file:///etc/passwd\"> ]><HoSo>&x;</HoSo>",
          "HoSo.xsd", err, sizeof err);
    check("<HoSo/>", "nope.xsd", err, sizeof err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    assert_int_equal(size, 0);
}

static int teardown(void **state)
{
    (void)state;
    wk_xml_cleanup();
    return 0;
}

/* NgayGio to and from UTC; the error codes of the contract */
static void test_exchange_helpers(void **state)
{
    (void)state;
    char b[16];
    time_t t = 0;
    /* 2026-11-28 10:30:00 UTC = 17:30:00 in Hanoi */
    assert_int_equal(wk_ngaygio_parse("20261128173000", &t), 0);
    assert_true(t == (time_t)1795861800);
    wk_ngaygio(t, b);
    assert_string_equal(b, "20261128173000");
    /* local midnight is 17:00 UTC of the day before */
    assert_int_equal(wk_ngaygio_parse("20270101000000", &t), 0);
    wk_ngaygio(t - 1, b);
    assert_string_equal(b, "20261231235959");
    assert_int_equal(wk_ngaygio_parse("20260231120000", &t), -1);   /* 31 February */
    assert_int_equal(wk_ngaygio_parse("20261128246000", &t), -1);
    assert_int_equal(wk_ngaygio_parse("2026112817300", &t), -1);
    assert_int_equal(wk_ngaygio_parse("2026112817300a", &t), -1);
    assert_int_equal(wk_ngaygio_parse(NULL, &t), -1);
    assert_string_equal(wk_xml_error_code("malformed XML at line 1"), "XML_MALFORMED");
    assert_string_equal(wk_xml_error_code("schema-invalid: element X"), "XML_INVALID");
    assert_string_equal(wk_xml_error_code("refused: DOCTYPE/DTD not allowed"), "XML_FORBIDDEN");
    assert_string_equal(wk_xml_error_code("refused: body too large"), "REQUEST_TOO_LARGE");
    assert_string_equal(wk_xml_error_code("xsd: cannot load"), "INTERNAL_ERROR");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xsd_compile),
        cmocka_unit_test(test_hoso_valid),
        cmocka_unit_test(test_other_messages_valid),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_schema_invalid),
        cmocka_unit_test(test_xxe),
        cmocka_unit_test(test_billion_laughs),
        cmocka_unit_test(test_doctype_any),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_quiet),
        cmocka_unit_test(test_exchange_helpers),
    };
    return cmocka_run_group_tests_name("wk_xmlsafe", tests, NULL, teardown);
}
