/*
 * tthc_scope.h - who may see and do what (issue 3; DOMAIN O2, 000 Art.10).
 * One implementation, used by the edge (ngx_tthc_module) and the workers.
 * API fixed by the module author; implementation in tthc_scope.c.
 */
#ifndef TTHC_SCOPE_H
#define TTHC_SCOPE_H

#include <stddef.h>

/* roles, as a bit mask */
#define TTHC_ROLE_DESK_OFFICER       0x01u
#define TTHC_ROLE_HANDLING_OFFICIAL  0x02u
#define TTHC_ROLE_DEPARTMENT_HEAD    0x04u
#define TTHC_ROLE_AGENCY_LEADER      0x08u
#define TTHC_ROLE_AGENCY_ADMIN       0x10u
#define TTHC_ROLE_MONITOR            0x20u
#define TTHC_ROLE_SYSADMIN           0x40u
#define TTHC_ROLES_ALL               0x7fu
/* the roles that handle dossiers (may act on them, within their agency) */
#define TTHC_ROLES_HANDLING  (TTHC_ROLE_DESK_OFFICER | TTHC_ROLE_HANDLING_OFFICIAL \
                              | TTHC_ROLE_DEPARTMENT_HEAD | TTHC_ROLE_AGENCY_LEADER)
/* the roles bound to an agency (an account holding one needs an agency) */
#define TTHC_ROLES_AGENCY    (TTHC_ROLES_HANDLING | TTHC_ROLE_AGENCY_ADMIN)

/* role name ("desk_officer", ...) -> bit, 0 if unknown */
unsigned tthc_role_from_name(const char *name, size_t len);
/* comma-separated list ("desk_officer,monitor") -> mask; unknown names -> -1 */
long tthc_roles_parse(const char *list, size_t len);
/* bit -> name, NULL if not exactly one known bit */
const char *tthc_role_name(unsigned role);
/* mask -> "desk_officer,monitor" (fixed order, as the roles SET column and
 * the session field); returns the length, 0 (out = "") if outsz is too small
 * or the mask empty.  TTHC_ROLES_NAMES_MAX bytes always suffice. */
#define TTHC_ROLES_NAMES_MAX  128
size_t tthc_roles_format(unsigned roles, char *out, size_t outsz);

typedef struct {
    unsigned     roles;         /* mask of TTHC_ROLE_* */
    const char  *agency;        /* agency code of the official, NUL-terminated */
} tthc_actor_t;

/*
 * May this official read the dossier received by dossier_agency?  Staff see
 * dossiers of their own agency, or currently sent to it (current_agencies:
 * NULL or a NULL-terminated list, for joint procedures); monitors and system
 * administrators see all.  Needs a role of TTHC_ROLES_AGENCY (or monitor,
 * sysadmin) and a non-empty agency.  Returns 1 or 0.
 */
int tthc_scope_dossier_read(const tthc_actor_t *actor, const char *dossier_agency,
                            const char *const *current_agencies);

/* May this official change the dossier (any handling action)?  As read, but
 * monitors never (read-only oversight), and an agency administrator alone
 * (account administration, TTHC_ROLES_HANDLING lacking) never; a system
 * administrator always.  Returns 1 or 0. */
int tthc_scope_dossier_write(const tthc_actor_t *actor, const char *dossier_agency,
                             const char *const *current_agencies);

/*
 * May this official create/move/lock an account of target_agency with the
 * given roles?  sysadmin: any; agency_admin: own agency only, and never grants
 * sysadmin or monitor (nor touches an account holding them: pass the
 * target's current roles too).  target_roles 0 = not changing roles.
 * Returns 1 or 0.
 */
int tthc_scope_account_admin(const tthc_actor_t *actor, const char *target_agency,
                             unsigned target_roles);

#endif /* TTHC_SCOPE_H */
