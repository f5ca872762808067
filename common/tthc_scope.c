/*
 * tthc_scope.c - who may see and do what (docs/contracts-identity.md
 * "Scope"; DOMAIN O2, 000 Art.10).  The one implementation of the rules,
 * compiled into the edge and the workers.  Pure C: no allocation, no I/O.
 */
#include <string.h>

#include "tthc_scope.h"


static const struct {
    unsigned     bit;
    const char  *name;
} tthc_roles[] = {
    { TTHC_ROLE_DESK_OFFICER,      "desk_officer" },
    { TTHC_ROLE_HANDLING_OFFICIAL, "handling_official" },
    { TTHC_ROLE_DEPARTMENT_HEAD,   "department_head" },
    { TTHC_ROLE_AGENCY_LEADER,     "agency_leader" },
    { TTHC_ROLE_AGENCY_ADMIN,      "agency_admin" },
    { TTHC_ROLE_MONITOR,           "monitor" },
    { TTHC_ROLE_SYSADMIN,          "sysadmin" }
};

#define TTHC_NROLES  (sizeof(tthc_roles) / sizeof(tthc_roles[0]))


unsigned
tthc_role_from_name(const char *name, size_t len)
{
    size_t  i;

    if (name == NULL) {
        return 0;
    }

    for (i = 0; i < TTHC_NROLES; i++) {
        if (strlen(tthc_roles[i].name) == len
            && memcmp(tthc_roles[i].name, name, len) == 0)
        {
            return tthc_roles[i].bit;
        }
    }

    return 0;
}


long
tthc_roles_parse(const char *list, size_t len)
{
    size_t    i, start;
    unsigned  bit, mask;

    if (list == NULL) {
        return len == 0 ? 0 : -1;
    }

    if (len == 0) {
        return 0;
    }

    mask = 0;
    start = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && list[i] != ',') {
            continue;
        }

        bit = tthc_role_from_name(list + start, i - start);
        if (bit == 0) {
            return -1;                  /* unknown or empty element */
        }

        mask |= bit;
        start = i + 1;
    }

    return (long) mask;
}


const char *
tthc_role_name(unsigned role)
{
    size_t  i;

    for (i = 0; i < TTHC_NROLES; i++) {
        if (tthc_roles[i].bit == role) {
            return tthc_roles[i].name;
        }
    }

    return NULL;
}


size_t
tthc_roles_format(unsigned roles, char *out, size_t outsz)
{
    size_t  i, n, l;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    n = 0;

    for (i = 0; i < TTHC_NROLES; i++) {
        if (!(roles & tthc_roles[i].bit)) {
            continue;
        }

        l = strlen(tthc_roles[i].name);
        if (n + (n ? 1 : 0) + l + 1 > outsz) {
            out[0] = '\0';
            return 0;
        }

        if (n) {
            out[n++] = ',';
        }

        memcpy(out + n, tthc_roles[i].name, l);
        n += l;
    }

    out[n] = '\0';

    return n;
}


static int
tthc_agency_eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}


/* the actor's agency is the dossier's, or one it is currently sent to */
static int
tthc_in_agency(const tthc_actor_t *actor, const char *dossier_agency,
    const char *const *current_agencies)
{
    const char *const  *c;

    if (tthc_agency_eq(actor->agency, dossier_agency)) {
        return 1;
    }

    for (c = current_agencies; c != NULL && *c != NULL; c++) {
        if (tthc_agency_eq(actor->agency, *c)) {
            return 1;
        }
    }

    return 0;
}


int
tthc_scope_dossier_read(const tthc_actor_t *actor, const char *dossier_agency,
    const char *const *current_agencies)
{
    if (actor == NULL) {
        return 0;
    }

    if (actor->roles & (TTHC_ROLE_SYSADMIN | TTHC_ROLE_MONITOR)) {
        return 1;
    }

    if (!(actor->roles & TTHC_ROLES_AGENCY)) {
        return 0;
    }

    return tthc_in_agency(actor, dossier_agency, current_agencies);
}


int
tthc_scope_dossier_write(const tthc_actor_t *actor, const char *dossier_agency,
    const char *const *current_agencies)
{
    if (actor == NULL) {
        return 0;
    }

    if (actor->roles & TTHC_ROLE_SYSADMIN) {
        return 1;
    }

    /* monitors are read-only; an agency administrator manages accounts,
     * not dossiers: only the handling roles act on a dossier */
    if (!(actor->roles & TTHC_ROLES_HANDLING)) {
        return 0;
    }

    return tthc_in_agency(actor, dossier_agency, current_agencies);
}


int
tthc_scope_account_admin(const tthc_actor_t *actor, const char *target_agency,
    unsigned target_roles)
{
    if (actor == NULL) {
        return 0;
    }

    if (actor->roles & TTHC_ROLE_SYSADMIN) {
        return 1;
    }

    if (!(actor->roles & TTHC_ROLE_AGENCY_ADMIN)) {
        return 0;
    }

    if (target_roles & (TTHC_ROLE_SYSADMIN | TTHC_ROLE_MONITOR)) {
        return 0;
    }

    return tthc_agency_eq(actor->agency, target_agency);
}
