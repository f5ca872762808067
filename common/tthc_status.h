/*
 * tthc_status.h — dossier status codes 1..10 (TrangThaiHoSo) of the national
 * public-service portal's dossier synchronisation interface, DOMAIN X1
 * (004 Art.10.6, 000 Art.9.5, 003 Art.30.2).
 */
#ifndef TTHC_STATUS_H
#define TTHC_STATUS_H

#define TTHC_STATUS_NEW                  1
#define TTHC_STATUS_RECEIVED             2
#define TTHC_STATUS_NOT_RECEIVED         3
#define TTHC_STATUS_PROCESSING           4
#define TTHC_STATUS_SUPPLEMENT           5
#define TTHC_STATUS_FINANCIAL_OBLIGATION 6
#define TTHC_STATUS_WITHDRAW_REQUESTED   7
#define TTHC_STATUS_STOPPED              8
#define TTHC_STATUS_DONE                 9
#define TTHC_STATUS_RETURNED             10

/* Vietnamese label (UTF-8, NFC) of a status code; NULL if not 1..10. */
const char *tthc_status_label(int code);

#endif /* TTHC_STATUS_H */
