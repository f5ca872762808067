/*
 * tthc_status.c — national portal dossier status codes (TrangThaiHoSo 1..10)
 * and their labels, DOMAIN X1 (004 Art.10.6, 000 Art.9.5, 003 Art.30.2).
 */
#include <stddef.h>

#include "tthc_status.h"


static const char *const  tthc_status_labels[] = {
    NULL,
    "Mới đăng ký",
    "Được tiếp nhận",
    "Không được tiếp nhận",
    "Đang xử lý",
    "Yêu cầu bổ sung giấy tờ",
    "Yêu cầu thực hiện nghĩa vụ tài chính",
    "Công dân yêu cầu rút hồ sơ",
    "Dừng xử lý",
    "Đã xử lý xong",
    "Đã trả kết quả"
};


const char *
tthc_status_label(int code)
{
    if (code < TTHC_STATUS_NEW || code > TTHC_STATUS_RETURNED) {
        return NULL;
    }

    return tthc_status_labels[code];
}
