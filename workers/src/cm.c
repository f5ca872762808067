/* cm.c - the only file that calls common/ (tthc_*): thin adapters so the
 * rest of the worker code does not depend on the exact common/ signatures.
 * No rule is implemented here. */
#include "wk.h"
#include "tthc_errors.h"

#include <stdio.h>
#include <string.h>

#include "tthc_code.h"
#include "tthc_mask.h"
#include "tthc_scope.h"
#include "tthc_status.h"
#include "tthc_text.h"
#include "tthc_time.h"

int wk_local_yymmdd(time_t t, char out[7])
{
    int yy = 0, mm = 0, dd = 0;
    tthc_local_date(t, &yy, &mm, &dd);
    unsigned y = (unsigned)yy % 100u, m = (unsigned)mm % 100u, d = (unsigned)dd % 100u;
    snprintf(out, 7, "%02u%02u%02u", y, m, d);
    return 0;
}

int wk_fmt_local(time_t t, char *out, size_t outsz)
{
    return tthc_fmt_local(out, outsz, t) > 0 ? 0 : -1;
}

int wk_parse_utc(const char *s, size_t len, time_t *t)
{
    return tthc_parse_utc(s, len, t) == 0 ? 0 : -1;
}

int wk_fold(const char *in, size_t len, char *out, size_t outsz)
{
    if (outsz == 0)
        return -1;
    out[0] = '\0';
    size_t n = tthc_text_fold(in, len, out, outsz);
    if (n >= outsz)
        return -1;
    out[n] = '\0';
    return 0;
}

int wk_mask_name(const char *in, char *out, size_t outsz)
{
    out[0] = '\0';
    if (in == NULL)
        return 0;
    tthc_mask_name(in, strlen(in), out, outsz);
    return 0;
}

int wk_mask_id(const char *in, char *out, size_t outsz)
{
    out[0] = '\0';
    if (in == NULL)
        return 0;
    tthc_mask_id(in, strlen(in), out, outsz);
    return 0;
}

const char *wk_status_label(int st)
{
    const char *l = tthc_status_label(st);
    return l ? l : "";
}

int wk_code_parse(const char *code, char agency[32], char date[7], int *seq)
{
    tthc_code_t c;
    if (code == NULL || tthc_code_parse(code, strlen(code), &c) != 0)
        return -1;
    snprintf(agency, 32, "%s", c.agency);
    snprintf(date, 7, "%02u%02u%02u", (unsigned)c.yy % 100u, (unsigned)c.mm % 100u,
             (unsigned)c.dd % 100u);
    *seq = (int)c.seq;
    return 0;
}

int wk_agency_code_valid(const char *code)
{
    return code != NULL && tthc_agency_code_valid(code, strlen(code)) == 1;
}

_Static_assert(WK_ROLE_SYSADMIN == TTHC_ROLE_SYSADMIN && WK_ROLE_MONITOR == TTHC_ROLE_MONITOR
               && WK_ROLE_AGENCY_ADMIN == TTHC_ROLE_AGENCY_ADMIN
               && WK_ROLES_AGENCY_BOUND == TTHC_ROLES_AGENCY, "wk.h role bits follow tthc_scope.h");

unsigned wk_role_bit(const char *name)
{
    return name ? tthc_role_from_name(name, strlen(name)) : 0;
}

const char *wk_role_name(unsigned bit)
{
    return tthc_role_name(bit);
}

long wk_roles_parse_csv(const char *csv)
{
    return tthc_roles_parse(csv, csv ? strlen(csv) : 0);
}

void wk_roles_csv(unsigned roles, char out[128])
{
    tthc_roles_format(roles, out, 128);
}

int wk_scope_account(unsigned actor_roles, const char *actor_agency,
                     const char *target_agency, unsigned target_roles)
{
    tthc_actor_t a = { actor_roles, actor_agency };
    return tthc_scope_account_admin(&a, target_agency, target_roles);
}

const char *wk_error_message(const char *code)
{
    const tthc_error_t *e = code ? tthc_error_get(code) : NULL;
    return e ? e->message : NULL;
}
