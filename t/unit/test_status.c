/*
 * test_status.c — unit tests of common/tthc_status: national portal status
 * codes TrangThaiHoSo 1..10 (DOMAIN X1), and common/tthc_errors: the error
 * table of docs/contracts.md "HTTP API".
 */
#include <limits.h>
#include <stdio.h>

#include "tthc_test.h"
#include "tthc_status.h"
#include "tthc_errors.h"

#ifndef TTHC_CONTRACTS_MD
#define TTHC_CONTRACTS_MD  "../../docs/contracts.md"
#endif
#ifndef TTHC_CONTRACTS_WORKFLOW_MD
#define TTHC_CONTRACTS_WORKFLOW_MD  "../../docs/contracts-workflow.md"
#endif
#ifndef TTHC_CONTRACTS_EXCHANGE_MD
#define TTHC_CONTRACTS_EXCHANGE_MD  "../../docs/contracts-exchange.md"
#endif
#ifndef TTHC_CONTRACTS_IDENTITY_MD
#define TTHC_CONTRACTS_IDENTITY_MD  "../../docs/contracts-identity.md"
#endif


static void
test_status_labels(void **state)
{
    static const char *const  want[] = {
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
    int                       i;
    const char               *l;

    (void) state;

    for (i = 1; i <= 10; i++) {
        l = tthc_status_label(i);
        assert_non_null(l);
        assert_string_equal(l, want[i - 1]);
        assert_true(tthc_test_utf8_ok(l, strlen(l)));
    }

    assert_string_equal(tthc_status_label(TTHC_STATUS_NEW), "Mới đăng ký");
    assert_string_equal(tthc_status_label(TTHC_STATUS_RETURNED),
                        "Đã trả kết quả");
}


static void
test_status_out_of_range(void **state)
{
    (void) state;

    assert_null(tthc_status_label(0));
    assert_null(tthc_status_label(11));
    assert_null(tthc_status_label(-1));
    assert_null(tthc_status_label(INT_MAX));
    assert_null(tthc_status_label(INT_MIN));
}


static const struct {
    const char  *code;
    int          status;
} contract_errors[] = {
    { "NOT_FOUND", 404 },
    { "METHOD_NOT_ALLOWED", 405 },
    { "PROCEDURE_NOT_FOUND", 404 },
    { "DOSSIER_NOT_FOUND", 404 },
    { "INVALID_DOSSIER_CODE", 400 },
    { "INVALID_PARAMETER", 400 },
    { "UNSUPPORTED_CONTENT_TYPE", 415 },
    { "MALFORMED_MULTIPART", 400 },
    { "MALFORMED_JSON", 400 },
    { "MISSING_APPLICATION", 400 },
    { "INVALID_APPLICATION", 422 },
    { "UNKNOWN_PROCEDURE", 422 },
    { "UNKNOWN_COMPONENT", 422 },
    { "MISSING_COMPONENT", 422 },
    { "EMPTY_FILE", 422 },
    { "FILE_TOO_LARGE", 413 },
    { "REQUEST_TOO_LARGE", 413 },
    { "UNSUPPORTED_MEDIA_TYPE", 415 },
    { "SEQUENCE_NOT_READY", 503 },
    { "DAILY_LIMIT_REACHED", 429 },
    { "SERVICE_UNAVAILABLE", 503 },
    { "STORAGE_ERROR", 500 },
    { "INTERNAL_ERROR", 500 },
    /* docs/contracts-identity.md "Error codes added" */
    { "UNAUTHENTICATED", 401 },
    { "FORBIDDEN", 403 },
    { "CSRF_FAILED", 403 },
    { "EID_STATE_INVALID", 400 },
    { "EID_DENIED", 401 },
    { "EID_CODE_INVALID", 401 },
    { "EID_TOKEN_INVALID", 401 },
    { "EID_UNAVAILABLE", 503 },
    { "SIGNIN_FAILED", 401 },
    { "TOTP_REQUIRED", 401 },
    { "ACCOUNT_LOCKED", 423 },
    { "ACCOUNT_NOT_FOUND", 404 },
    { "USERNAME_TAKEN", 409 },
    { "WEAK_PASSWORD", 422 },
    { "INVALID_REQUEST", 400 },
    /* docs/contracts-workflow.md "Error codes" */
    { "ILLEGAL_TRANSITION", 409 },
    { "NOT_STEP_HOLDER", 403 },
    { "SUPPLEMENT_AFTER_DEADLINE", 409 },
    { "FILE_REQUIRED", 422 },
    { "FILE_NOT_UPLOADED", 422 },
    { "NOTE_REQUIRED", 422 },
    { "NO_PROCESS", 409 },
    { "INVALID_PROCESS", 422 },
    { "TOO_MANY_DOSSIERS", 413 },
    { "STALE_DOSSIER", 409 },
    /* docs/contracts-exchange.md "Error codes" */
    { "XML_MALFORMED", 400 },
    { "XML_INVALID", 400 },
    { "XML_FORBIDDEN", 400 },
    { "BAD_SIGNATURE", 401 },
    { "MESSAGE_EXPIRED", 401 },
    { "REPLAYED_MESSAGE", 409 },
    { "UNKNOWN_SHIPMENT", 404 },
    { "AMOUNT_MISMATCH", 422 },
    { "PAYMENT_NOT_DUE", 409 },
    { "PAYMENT_REQUIRED", 409 },
    { "PARTNER_UNAVAILABLE", 503 },
};


static void
assert_message_ok(const tthc_error_t *e)
{
    size_t  n, i;
    int     non_ascii;

    n = strlen(e->message);
    assert_true(n > 10);
    assert_true(tthc_test_utf8_ok(e->message, n));
    assert_int_equal(e->message[n - 1], '.');

    non_ascii = 0;
    for (i = 0; i < n; i++) {
        non_ascii |= (unsigned char) e->message[i] >= 0x80;
    }
    if (!non_ascii) {
        fail_msg("%s: message without Vietnamese diacritics", e->code);
    }
}


static void
test_errors_contract(void **state)
{
    size_t               i;
    unsigned             n;
    const tthc_error_t  *e;

    (void) state;

    for (i = 0; i < sizeof(contract_errors) / sizeof(contract_errors[0]); i++) {
        e = tthc_error_get(contract_errors[i].code);
        if (e == NULL) {
            fail_msg("missing error code %s", contract_errors[i].code);
        }
        assert_string_equal(e->code, contract_errors[i].code);
        assert_int_equal(e->http_status, contract_errors[i].status);
        assert_message_ok(e);
    }

    (void) tthc_error_table(&n);
    assert_int_equal(n, sizeof(contract_errors) / sizeof(contract_errors[0]));

    e = tthc_error_get("DOSSIER_NOT_FOUND");
    assert_string_equal(e->message, "Không tìm thấy hồ sơ với mã đã nhập.");
}


/* rows "| CODE | NNN" of one contract file: each must be known with that
 * status; returns the number of rows, -1 if the file is missing */
static int
count_md_errors(const char *path)
{
    int                  rows, status;
    char                 line[512], code[64];
    FILE                *f;
    const tthc_error_t  *e;

    f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }

    rows = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "| %63[A-Z_] | %d", code, &status) != 2) {
            continue;
        }

        rows++;
        e = tthc_error_get(code);
        if (e == NULL) {
            fclose(f);
            fail_msg("%s: code %s missing from tthc_errors", path, code);
        }
        assert_int_equal(e->http_status, status);
    }

    fclose(f);

    return rows;
}


/* the tables in docs/contracts.md and docs/contracts-identity.md are the
 * source: every row must be known, and nothing else */
static void
test_errors_match_contracts_md(void **state)
{
    int       a, b, c, d;
    unsigned  n;

    (void) state;

    a = count_md_errors(TTHC_CONTRACTS_MD);
    b = count_md_errors(TTHC_CONTRACTS_IDENTITY_MD);
    c = count_md_errors(TTHC_CONTRACTS_WORKFLOW_MD);
    d = count_md_errors(TTHC_CONTRACTS_EXCHANGE_MD);
    if (a < 0 || b < 0 || c < 0 || d < 0) {
        skip();
    }

    (void) tthc_error_table(&n);
    assert_int_equal(a + b + c + d, (int) n);
}


static void
test_errors_unknown(void **state)
{
    (void) state;

    assert_null(tthc_error_get(NULL));
    assert_null(tthc_error_get(""));
    assert_null(tthc_error_get("dossier_not_found"));
    assert_null(tthc_error_get("DOSSIER_NOT_FOUND "));
    assert_null(tthc_error_get("DOSSIER"));
    assert_null(tthc_error_get("NO_SUCH_CODE"));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_status_labels),
        cmocka_unit_test(test_status_out_of_range),
        cmocka_unit_test(test_errors_contract),
        cmocka_unit_test(test_errors_match_contracts_md),
        cmocka_unit_test(test_errors_unknown),
    };

    return cmocka_run_group_tests_name("tthc_status_errors", tests, NULL, NULL);
}
