/*
 * tthc_code.c — dossier code (mã số hồ sơ) format and parse, DOMAIN D1,
 * Circular 01/2018/TT-VPCP Art.19: receiving agency code in the national
 * agency-code format, receiving date YYMMDD, 4-digit daily sequence XXXX.
 */
#include <stdio.h>
#include <string.h>

#include "tthc_code.h"

#define TTHC_AGENCY_CODE_LEN  13    /* "000.00.31.H41" */
#define TTHC_CODE_SUFFIX_LEN  12    /* "-YYMMDD-XXXX" */


static int
tthc_code_is_digit(char c)
{
    return c >= '0' && c <= '9';
}


static int
tthc_code_days_in_month(int year, int mm)
{
    static const int  days[12] = { 31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31 };

    if (mm < 1 || mm > 12) {
        return 0;
    }

    if (mm == 2
        && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
    {
        return 29;
    }

    return days[mm - 1];
}


static int
tthc_code_date_valid(int yy, int mm, int dd)
{
    if (yy < 0 || yy > 99) {
        return 0;
    }

    return dd >= 1 && dd <= tthc_code_days_in_month(2000 + yy, mm);
}


int
tthc_agency_code_valid(const char *s, size_t len)
{
    /* '9' = digit, 'A' = uppercase letter, anything else literal */
    static const char  pattern[] = "999.99.99.A99";
    size_t             i;

    if (s == NULL || len != TTHC_AGENCY_CODE_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        switch (pattern[i]) {
        case '9':
            if (!tthc_code_is_digit(s[i])) {
                return 0;
            }
            break;

        case 'A':
            if (s[i] < 'A' || s[i] > 'Z') {
                return 0;
            }
            break;

        default:
            if (s[i] != pattern[i]) {
                return 0;
            }
        }
    }

    return 1;
}


size_t
tthc_code_format(char *out, size_t outsz, const char *agency, size_t alen,
    int yy, int mm, int dd, unsigned seq)
{
    int  n;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    out[0] = '\0';

    if (!tthc_agency_code_valid(agency, alen)
        || !tthc_code_date_valid(yy, mm, dd)
        || seq == 0 || seq > 9999
        || outsz < alen + TTHC_CODE_SUFFIX_LEN + 1)
    {
        return 0;
    }

    n = snprintf(out, outsz, "%.*s-%02d%02d%02d-%04u",
                 (int) alen, agency, yy, mm, dd, seq);

    if (n < 0 || (size_t) n != alen + TTHC_CODE_SUFFIX_LEN) {
        out[0] = '\0';
        return 0;
    }

    return (size_t) n;
}


static int
tthc_code_num(const char *p, size_t n)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (!tthc_code_is_digit(p[i])) {
            return -1;
        }
        v = v * 10 + (p[i] - '0');
    }

    return v;
}


int
tthc_code_parse(const char *s, size_t len, tthc_code_t *out)
{
    int          yy, mm, dd, seq;
    size_t       alen;
    const char  *d;

    if (s == NULL || len != TTHC_AGENCY_CODE_LEN + TTHC_CODE_SUFFIX_LEN) {
        return -1;
    }

    alen = len - TTHC_CODE_SUFFIX_LEN;
    d = s + alen;

    if (!tthc_agency_code_valid(s, alen) || d[0] != '-' || d[7] != '-') {
        return -1;
    }

    yy = tthc_code_num(d + 1, 2);
    mm = tthc_code_num(d + 3, 2);
    dd = tthc_code_num(d + 5, 2);
    seq = tthc_code_num(d + 8, 4);

    if (yy < 0 || mm < 0 || dd < 0 || seq < 1
        || !tthc_code_date_valid(yy, mm, dd))
    {
        return -1;
    }

    if (out != NULL) {
        memcpy(out->agency, s, alen);
        out->agency[alen] = '\0';
        out->yy = yy;
        out->mm = mm;
        out->dd = dd;
        out->seq = (unsigned) seq;
    }

    return 0;
}
