/*
 * tthc_errors.c — stable API error codes with HTTP status and a polite
 * Vietnamese message; the table mirrors docs/contracts.md "HTTP API" errors,
 * docs/contracts-identity.md "Error codes added" and
 * docs/contracts-workflow.md "New error codes".
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
      "Kiểu dữ liệu (Content-Type) của yêu cầu không được hỗ trợ tại địa chỉ này." },
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
    { "DAILY_LIMIT_REACHED", 429,
      "Cơ quan đã cấp hết 9.999 mã hồ sơ của ngày hôm nay. Vui lòng nộp hồ sơ vào ngày hôm sau hoặc liên hệ trực tiếp cơ quan tiếp nhận." },
    { "SERVICE_UNAVAILABLE", 503,
      "Hệ thống đang tạm thời gián đoạn. Vui lòng thử lại sau." },
    { "STORAGE_ERROR", 500,
      "Không thể lưu tệp đính kèm. Vui lòng thử lại sau." },
    { "INTERNAL_ERROR", 500,
      "Đã xảy ra lỗi trong hệ thống. Vui lòng thử lại sau." },
    { "UNAUTHENTICATED", 401,
      "Vui lòng đăng nhập để tiếp tục." },
    { "FORBIDDEN", 403,
      "Tài khoản của bạn không có quyền thực hiện thao tác này." },
    { "CSRF_FAILED", 403,
      "Yêu cầu không hợp lệ hoặc phiên làm việc đã thay đổi. Vui lòng tải lại trang và thử lại." },
    { "EID_STATE_INVALID", 400,
      "Phiên đăng nhập bằng tài khoản định danh điện tử đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại." },
    { "EID_DENIED", 401,
      "Đăng nhập bằng tài khoản định danh điện tử chưa được xác nhận. Vui lòng thử lại." },
    { "EID_CODE_INVALID", 401,
      "Mã xác thực đăng nhập đã hết hạn hoặc đã được sử dụng. Vui lòng đăng nhập lại." },
    { "EID_TOKEN_INVALID", 401,
      "Không xác minh được thông tin đăng nhập từ hệ thống định danh điện tử. Vui lòng đăng nhập lại." },
    { "EID_UNAVAILABLE", 503,
      "Hệ thống định danh điện tử đang tạm thời gián đoạn. Vui lòng thử lại sau." },
    { "SIGNIN_FAILED", 401,
      "Tên đăng nhập hoặc mật khẩu không đúng. Vui lòng kiểm tra lại." },
    { "TOTP_REQUIRED", 401,
      "Vui lòng nhập mã xác thực gồm 6 chữ số từ ứng dụng xác thực của bạn." },
    { "ACCOUNT_LOCKED", 423,
      "Tài khoản đang bị tạm khóa. Vui lòng thử lại sau hoặc liên hệ quản trị viên của cơ quan." },
    { "ACCOUNT_NOT_FOUND", 404,
      "Không tìm thấy tài khoản cán bộ được yêu cầu." },
    { "USERNAME_TAKEN", 409,
      "Tên đăng nhập đã được sử dụng. Vui lòng chọn tên khác." },
    { "WEAK_PASSWORD", 422,
      "Mật khẩu phải có ít nhất 12 ký tự. Vui lòng chọn mật khẩu mạnh hơn." },
    { "INVALID_REQUEST", 400,
      "Thông tin gửi lên chưa đầy đủ hoặc không hợp lệ. Vui lòng kiểm tra lại." },
    /* the handling workflow (docs/contracts-workflow.md) */
    { "ILLEGAL_TRANSITION", 409,
      "Không thể thực hiện thao tác này ở bước xử lý hiện tại của hồ sơ." },
    { "NOT_STEP_HOLDER", 403,
      "Bạn không phải là người được giao xử lý bước hiện tại của hồ sơ này." },
    { "SUPPLEMENT_AFTER_DEADLINE", 409,
      "Hồ sơ đã quá hạn giải quyết nên không thể yêu cầu bổ sung. Vui lòng thực hiện xin lỗi và hẹn lại ngày trả kết quả." },
    { "FILE_REQUIRED", 422,
      "Thao tác này cần có tệp đính kèm. Vui lòng tải tệp lên rồi thực hiện lại." },
    { "FILE_NOT_UPLOADED", 422,
      "Không tìm thấy tệp đính kèm đã tải lên hoặc tệp đã hết hạn. Vui lòng tải tệp lên lại." },
    { "NOTE_REQUIRED", 422,
      "Vui lòng nhập ý kiến xử lý cho thao tác này." },
    { "NO_PROCESS", 409,
      "Thủ tục hành chính này chưa có quy trình xử lý đang áp dụng. Vui lòng liên hệ quản trị viên của cơ quan." },
    { "INVALID_PROCESS", 422,
      "Quy trình xử lý không hợp lệ. Vui lòng kiểm tra lại các bước, vai trò, thời gian và thao tác được phép." },
    { "TOO_MANY_DOSSIERS", 413,
      "Mỗi lần chỉ được xử lý tối đa 100 hồ sơ. Vui lòng chọn ít hồ sơ hơn." },
    { "STALE_DOSSIER", 409,
      "Hồ sơ vừa được người khác cập nhật. Vui lòng tải lại hồ sơ và thử lại." },
    /* exchange with partners (docs/contracts-exchange.md) */
    { "XML_MALFORMED", 400,
      "Dữ liệu XML không đúng cú pháp." },
    { "XML_INVALID", 400,
      "Dữ liệu XML không đúng lược đồ (XSD) quy định cho thông điệp này." },
    { "XML_FORBIDDEN", 400,
      "Dữ liệu XML chứa khai báo DOCTYPE, thực thể hoặc cấu trúc không được phép." },
    { "BAD_SIGNATURE", 401,
      "Chữ ký của thông điệp không hợp lệ." },
    { "MESSAGE_EXPIRED", 401,
      "Thông điệp đã quá thời gian hiệu lực. Vui lòng gửi lại thông điệp mới." },
    { "REPLAYED_MESSAGE", 409,
      "Thông điệp này đã được tiếp nhận và xử lý trước đó." },
    { "UNKNOWN_SHIPMENT", 404,
      "Không tìm thấy đơn hàng bưu chính tương ứng với thông điệp." },
    { "AMOUNT_MISMATCH", 422,
      "Số tiền trên chứng từ không khớp với số tiền phải nộp của hồ sơ." },
    { "PAYMENT_NOT_DUE", 409,
      "Hồ sơ không ở trạng thái chờ thực hiện nghĩa vụ tài chính." },
    { "PAYMENT_REQUIRED", 409,
      "Hồ sơ chưa hoàn thành nghĩa vụ tài chính nên chưa thể tiếp tục xử lý." },
    { "PARTNER_UNAVAILABLE", 503,
      "Hệ thống của đơn vị đối tác tạm thời không phản hồi. Vui lòng thử lại sau." }
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
