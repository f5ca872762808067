/*
 * tthc_code.h — dossier code (mã số hồ sơ), DOMAIN D1:
 *   V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX
 * Circular 01/2018/TT-VPCP Art.19 (cited by 004 Art.8); agency identifiers in
 * the national agency-code format (Circular 10/2016/TT-BTTTT, e.g. 000.00.31.H41).
 */
#ifndef TTHC_CODE_H
#define TTHC_CODE_H

#include <stddef.h>

#define TTHC_AGENCY_CODE_MAX  32
#define TTHC_CODE_MAX         64

typedef struct {
    char      agency[TTHC_AGENCY_CODE_MAX];   /* NUL-terminated */
    int       yy, mm, dd;                     /* receiving date, yy = year - 2000 */
    unsigned  seq;                            /* 1..9999 */
} tthc_code_t;

/*
 * 1 if s[0..len) is an agency code in the national 4-group form
 * "DDD.DD.DD.LDD" (level4.level3.level2.level1; level1 = uppercase letter +
 * 2 digits), e.g. "000.00.31.H41"; 0 otherwise (shorter forms are rejected).
 */
int tthc_agency_code_valid(const char *s, size_t len);

/*
 * Writes "AGENCY-YYMMDD-XXXX" NUL-terminated to out; returns its length, or 0
 * on error: invalid agency, yy outside 0..99, no such calendar date (year
 * 2000 + yy), seq 0 or > 9999, or outsz too small (needs length + 1).
 */
size_t tthc_code_format(char *out, size_t outsz, const char *agency,
    size_t alen, int yy, int mm, int dd, unsigned seq);

/*
 * Strict parse of a dossier code: valid agency, real calendar date, exactly
 * 4 sequence digits, seq >= 1, nothing else (no spaces, no lowercase).
 * Returns 0 and fills *out (if not NULL), or -1.
 */
int tthc_code_parse(const char *s, size_t len, tthc_code_t *out);

#endif /* TTHC_CODE_H */
