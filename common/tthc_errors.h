/*
 * tthc_errors.h — stable API error codes -> HTTP status + Vietnamese message,
 * the error table of docs/contracts.md "HTTP API" (RFC 9110 status codes).
 */
#ifndef TTHC_ERRORS_H
#define TTHC_ERRORS_H

typedef struct {
    const char  *code;          /* e.g. "DOSSIER_NOT_FOUND" */
    int          http_status;   /* e.g. 404 */
    const char  *message;       /* Vietnamese, UTF-8 NFC */
} tthc_error_t;

/* NULL if code is NULL or unknown (exact, case-sensitive match). */
const tthc_error_t *tthc_error_get(const char *code);

/* the whole table, for tests and docs; *n receives the number of entries */
const tthc_error_t *tthc_error_table(unsigned *n);

#endif /* TTHC_ERRORS_H */
