/*
 * tthc_errors.c — stable API error codes with HTTP status and a polite
 * Vietnamese message; the table mirrors docs/contracts.md "HTTP API" errors.
 */
#include <string.h>

#include "tthc_errors.h"


static const tthc_error_t  tthc_errors[] = {
    { "NOT_FOUND", 404,
      "Không tìm thấy địa chỉ được yêu cầu." },
    { "METHOD_NOT_ALLOWED", 405,
      "Phương thức không được hỗ trợ cho địa chỉ này." },
    { "PROCEDURE_NOT_FOUND", 404,
      "Không tìm thấy thủ tục hành chính với mã đã nhập." },
    { "DOSSIER_NOT_FOUND", 404,
      "Không tìm thấy hồ sơ với mã đã nhập." },
    { "INVALID_DOSSIER_CODE", 400,
      "Mã hồ sơ không đúng định dạng. Vui lòng kiểm tra lại mã in trên phiếu tiếp nhận." },
    { "INVALID_PARAMETER", 400,
      "Tham số của yêu cầu không hợp lệ. Vui lòng kiểm tra lại." },
    { "UNSUPPORTED_CONTENT_TYPE", 415,
      "Yêu cầu phải được gửi dưới dạng multipart/form-data." },
    { "MALFORMED_MULTIPART", 400,
      "Dữ liệu gửi lên không đúng định dạng multipart/form-data." },
    { "MALFORMED_JSON", 400,
      "Dữ liệu JSON không hợp lệ. Vui lòng kiểm tra lại." },
    { "MISSING_APPLICATION", 400,
      "Thiếu thông tin tờ khai (phần application) của hồ sơ." },
    { "INVALID_APPLICATION", 422,
      "Thông tin tờ khai chưa đầy đủ hoặc không hợp lệ. Vui lòng kiểm tra thông tin người nộp, hình thức nhận kết quả và địa chỉ." },
    { "UNKNOWN_PROCEDURE", 422,
      "Thủ tục hành chính đã chọn không tồn tại hoặc không được thực hiện trực tuyến." },
    { "UNKNOWN_COMPONENT", 422,
      "Thành phần hồ sơ đã gửi không thuộc thủ tục hành chính này." },
    { "MISSING_COMPONENT", 422,
      "Hồ sơ còn thiếu thành phần bắt buộc. Vui lòng bổ sung đầy đủ giấy tờ." },
    { "EMPTY_FILE", 422,
      "Tệp đính kèm không có nội dung. Vui lòng chọn lại tệp." },
    { "FILE_TOO_LARGE", 413,
      "Tệp đính kèm vượt quá dung lượng cho phép của thành phần hồ sơ." },
    { "REQUEST_TOO_LARGE", 413,
      "Tổng dung lượng hồ sơ gửi lên vượt quá giới hạn cho phép." },
    { "UNSUPPORTED_MEDIA_TYPE", 415,
      "Định dạng tệp đính kèm không được chấp nhận cho thành phần hồ sơ này." },
    { "SEQUENCE_NOT_READY", 503,
      "Hệ thống đang khởi động, chưa thể cấp mã hồ sơ. Vui lòng thử lại sau ít giây." },
    { "SERVICE_UNAVAILABLE", 503,
      "Hệ thống đang tạm thời gián đoạn. Vui lòng thử lại sau." },
    { "STORAGE_ERROR", 500,
      "Không thể lưu tệp đính kèm. Vui lòng thử lại sau." },
    { "INTERNAL_ERROR", 500,
      "Đã xảy ra lỗi trong hệ thống. Vui lòng thử lại sau." }
};


const tthc_error_t *
tthc_error_get(const char *code)
{
    size_t  i;

    if (code == NULL) {
        return NULL;
    }

    for (i = 0; i < sizeof(tthc_errors) / sizeof(tthc_errors[0]); i++) {
        if (strcmp(tthc_errors[i].code, code) == 0) {
            return &tthc_errors[i];
        }
    }

    return NULL;
}


const tthc_error_t *
tthc_error_table(unsigned *n)
{
    if (n != NULL) {
        *n = (unsigned) (sizeof(tthc_errors) / sizeof(tthc_errors[0]));
    }

    return tthc_errors;
}
