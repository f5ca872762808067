/* accounts.c - RPCs staff.accounts.list/create/update (docs/contracts-identity.md
 * "Officials"; 000 Art.10.1): agency administrators manage the accounts of
 * their own agency, system administrators all (rule: common/tthc_scope via
 * wk_scope_account).  The actor named by the edge is read again from MariaDB:
 * it must still exist and not be locked, and its roles/agency there count. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysqld_error.h>
#include <sodium.h>

/* the account fields: {"actor":..,"account":{..}} (the edge) or top level */
static json_t *body(json_t *req)
{
    json_t *a = json_object_get(req, "account");
    return json_is_object(a) ? a : req;
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

typedef struct { json_t *items; } list_ud;

static int list_cb(const wk_row *r, void *ud)
{
    list_ud *u = ud;
    json_t *it = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:b, s:o}",
                           "id", (json_int_t)strtoll(r->v[0], NULL, 10),
                           "username", r->v[1], "name", r->v[2],
                           "roles", wk_roles_to_json((unsigned)strtoul(r->v[3], NULL, 10)),
                           "agency", r->v[4] ? json_string(r->v[4]) : json_null(),
                           "department_id", r->v[5] ? json_integer(strtoll(r->v[5], NULL, 10)) : json_null(),
                           "locked", atoi(r->v[6]),
                           "locked_until", r->v[7] ? json_string(r->v[7]) : json_null());
    if (it)
        json_array_append_new(u->items, it);
    return 0;
}

json_t *wk_rpc_accounts_list(wk_rpc *c, json_t *req)
{
    wk_official a;
    json_t *e = wk_rpc_actor_official(c, req, &a);
    if (e)
        return e;
    const char *filter = NULL;
    if (a.roles & WK_ROLE_SYSADMIN) {
        filter = wk_json_str(req, "agency");       /* optional */
    } else if (a.agency[0] && wk_scope_account(a.roles, a.agency, a.agency, 0)) {
        filter = a.agency;
    } else {
        return wk_rpc_error("FORBIDDEN", NULL);
    }
    list_ud u = { json_array() };
    wk_param p[] = { WK_STR(filter) };
    int rc = wk_db_exec(c->db,
                        "SELECT o.id, o.username, o.name, o.roles + 0, a.code, o.department_id, o.locked,"
                        " IF(o.locked_until > UTC_TIMESTAMP(6),"
                        "    DATE_FORMAT(o.locked_until, '%Y-%m-%dT%H:%i:%sZ'), NULL)"
                        " FROM officials o LEFT JOIN agencies a ON a.id = o.agency_id"
                        " WHERE (? IS NULL OR a.code = ?) ORDER BY o.id LIMIT 10000",
                        (wk_param[]){ p[0], p[0] }, 2, list_cb, &u, NULL, NULL);
    if (rc != 0) {
        json_decref(u.items);
        return wk_rpc_db_error(c, "list officials");
    }
    return json_pack("{s:b, s:o}", "ok", 1, "items", u.items);
}

/* agency (code or null) and department_id (int or null) of a request:
 * NULL ok, or an error reply */
static json_t *place(wk_rpc *c, json_t *jag, json_t *jdep, unsigned roles,
                     const char **agency, long long *agency_id, long long *dept)
{
    *agency = NULL;
    *agency_id = 0;
    *dept = 0;
    if (jag && !json_is_null(jag)) {
        if (!json_is_string(jag) || !wk_agency_code_valid(json_string_value(jag)))
            return wk_rpc_error("INVALID_REQUEST", "agency");
        *agency = json_string_value(jag);
        int f = wk_agency_id(c->db, *agency, agency_id);
        if (f < 0)
            return wk_rpc_db_error(c, "agency");
        if (f == 0)
            return wk_rpc_error("INVALID_REQUEST", "agency");
    }
    if ((roles & WK_ROLES_AGENCY_BOUND) && *agency == NULL)
        return wk_rpc_error("INVALID_REQUEST", "agency");
    if (jdep && !json_is_null(jdep)) {
        if (!json_is_integer(jdep) || json_integer_value(jdep) <= 0 || *agency == NULL)
            return wk_rpc_error("INVALID_REQUEST", "department_id");
        *dept = json_integer_value(jdep);
        int f = wk_department_in(c->db, *dept, *agency_id);
        if (f < 0)
            return wk_rpc_db_error(c, "department");
        if (f == 0)
            return wk_rpc_error("INVALID_REQUEST", "department_id");
    }
    return NULL;
}

static wk_rc audit_change(wk_rpc *c, const wk_official *a, const char *action, long long id,
                          json_t *detail)
{
    char eid[96], obj[48];
    snprintf(eid, sizeof(eid), "rpc:%s:%s", c->reqid, action);
    snprintf(obj, sizeof(obj), "official:%lld", id);
    wk_audit_ev ev = { eid, 0, "staff", a->id, a->name, c->ip, action, obj, detail };
    return wk_audit_append_tx(c->db, &ev);
}

json_t *wk_rpc_accounts_create(wk_rpc *c, json_t *req)
{
    wk_official a;
    json_t *e = wk_rpc_actor_official(c, req, &a);
    if (e)
        return e;
    json_t *in = body(req);
    const char *username = wk_json_str(in, "username"), *name = wk_json_str(in, "name"),
               *password = wk_json_str(in, "password");
    long roles = wk_roles_from_json(json_object_get(in, "roles"));
    if (!wk_username_valid(username))
        return wk_rpc_error("INVALID_REQUEST", "username");
    if (!name || !*name || strlen(name) > 255)
        return wk_rpc_error("INVALID_REQUEST", "name");
    if (roles <= 0)
        return wk_rpc_error("INVALID_REQUEST", "roles");
    if (!password || strlen(password) > 1024)
        return wk_rpc_error("INVALID_REQUEST", "password");
    if (utf8_chars(password) < WK_PASSWORD_MIN)
        return wk_rpc_error("WEAK_PASSWORD", "password");
    const char *agency;
    long long agency_id, dept;
    if ((e = place(c, json_object_get(in, "agency"), json_object_get(in, "department_id"),
                   (unsigned)roles, &agency, &agency_id, &dept)))
        return e;
    if (!wk_scope_account(a.roles, a.agency[0] ? a.agency : NULL, agency, (unsigned)roles)) {
        wk_info("accounts", "create refused actor=%lld", a.id);
        return wk_rpc_error("FORBIDDEN", NULL);
    }
    char hash[128], csv[128];
    if (wk_password_hash(password, hash) != 0)
        return wk_rpc_error("INTERNAL_ERROR", NULL);
    wk_roles_csv((unsigned)roles, csv);
    unsigned long long id = 0;
    wk_param p[] = { WK_STR(username), WK_STR(name), WK_STR(hash), WK_STR(csv),
                     agency_id ? WK_INT(agency_id) : WK_NULLP, dept ? WK_INT(dept) : WK_NULLP };
    if (wk_db_simple(c->db, "START TRANSACTION") != 0)
        return wk_rpc_db_error(c, "begin");
    if (wk_db_exec(c->db,
                   "INSERT INTO officials (username, name, password_hash, roles, agency_id, department_id)"
                   " VALUES (?,?,?,?,?,?)", p, 6, NULL, NULL, NULL, &id) != 0) {
        if (c->db->last_errno == ER_DUP_ENTRY) {
            wk_db_simple(c->db, "ROLLBACK");
            return wk_rpc_error("USERNAME_TAKEN", "username");
        }
        return wk_rpc_db_error(c, "insert official");
    }
    json_t *detail = json_pack("{s:s, s:o, s:o, s:o}", "username", username,
                               "roles", wk_roles_to_json((unsigned)roles),
                               "agency", agency ? json_string(agency) : json_null(),
                               "department_id", dept ? json_integer(dept) : json_null());
    wk_rc arc = audit_change(c, &a, "account.create", (long long)id, detail);
    json_decref(detail);
    if (arc != WK_OK || wk_db_simple(c->db, "COMMIT") != 0)
        return wk_rpc_db_error(c, "audit account.create");
    wk_info("accounts", "official created id=%llu actor=%lld", id, a.id);
    return json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id);
}

json_t *wk_rpc_accounts_update(wk_rpc *c, json_t *req)
{
    wk_official a, t;
    json_t *e = wk_rpc_actor_official(c, req, &a);
    if (e)
        return e;
    json_t *jid = json_object_get(req, "id");
    long long id = json_is_integer(jid) ? json_integer_value(jid)
                   : json_is_string(jid) ? strtoll(json_string_value(jid), NULL, 10) : 0;
    if (id <= 0)
        return wk_rpc_error("INVALID_REQUEST", "id");
    int f = wk_official_load(c->db, NULL, id, &t);
    if (f < 0)
        return wk_rpc_db_error(c, "load target");
    if (f == 0)
        return wk_rpc_error("ACCOUNT_NOT_FOUND", NULL);
    const char *aag = a.agency[0] ? a.agency : NULL;
    if (!wk_scope_account(a.roles, aag, t.agency[0] ? t.agency : NULL, t.roles)) {
        wk_info("accounts", "update refused actor=%lld target=%lld", a.id, t.id);
        return wk_rpc_error("FORBIDDEN", NULL);
    }
    json_t *in = body(req);
    json_t *jlock = json_object_get(in, "locked"), *jroles = json_object_get(in, "roles"),
           *jag = json_object_get(in, "agency"), *jdep = json_object_get(in, "department_id");
    if (jlock && !json_is_boolean(jlock))
        return wk_rpc_error("INVALID_REQUEST", "locked");
    long roles = t.roles;
    if (jroles && (roles = wk_roles_from_json(jroles)) <= 0)
        return wk_rpc_error("INVALID_REQUEST", "roles");
    int locked = jlock ? json_is_true(jlock) : t.locked;
    if (locked && !t.locked && t.id == a.id)
        return wk_rpc_error("FORBIDDEN", NULL);    /* nobody locks themselves out */
    /* absent: unchanged; a new agency without a department clears it */
    int moved = jag && !((json_is_null(jag) && !t.agency[0])
                         || (json_is_string(jag) && !strcmp(json_string_value(jag), t.agency)));
    json_t *ag_now = t.agency[0] ? json_string(t.agency) : json_null();
    json_t *dep_now = t.dept && !moved ? json_integer(t.dept) : json_null();
    const char *agency;
    long long agency_id, dept;
    e = place(c, jag ? jag : ag_now, jdep ? jdep : dep_now, (unsigned)roles,
              &agency, &agency_id, &dept);
    char agbuf[40] = "";
    if (agency)
        snprintf(agbuf, sizeof(agbuf), "%s", agency);
    agency = agency ? agbuf : NULL;          /* may have pointed into ag_now */
    json_decref(ag_now);
    json_decref(dep_now);
    if (e)
        return e;
    if (!wk_scope_account(a.roles, aag, agency, (unsigned)roles)) {
        wk_info("accounts", "update refused actor=%lld target=%lld", a.id, t.id);
        return wk_rpc_error("FORBIDDEN", NULL);
    }
    char csv[128];
    wk_roles_csv((unsigned)roles, csv);
    int unlock = jlock && !locked;
    wk_param p[] = { WK_STR(csv), agency_id ? WK_INT(agency_id) : WK_NULLP,
                     dept ? WK_INT(dept) : WK_NULLP, WK_INT(locked), WK_INT(unlock), WK_INT(unlock),
                     WK_INT(t.id) };
    if (wk_db_simple(c->db, "START TRANSACTION") != 0)
        return wk_rpc_db_error(c, "begin");
    if (wk_db_exec(c->db,
                   "UPDATE officials SET roles = ?, agency_id = ?, department_id = ?, locked = ?,"
                   " failed_count = IF(?, 0, failed_count), locked_until = IF(?, NULL, locked_until)"
                   " WHERE id = ?", p, 7, NULL, NULL, NULL, NULL) != 0)
        return wk_rpc_db_error(c, "update official");
    json_t *changes = json_object();
    if (jlock)
        json_object_set_new(changes, "locked", json_boolean(locked));
    if (jroles)
        json_object_set_new(changes, "roles", wk_roles_to_json((unsigned)roles));
    if (jag || jdep) {
        json_object_set_new(changes, "agency", agency ? json_string(agency) : json_null());
        json_object_set_new(changes, "department_id", dept ? json_integer(dept) : json_null());
    }
    json_t *detail = json_pack("{s:s, s:o}", "username", t.username, "changes", changes);
    wk_rc arc = audit_change(c, &a, "account.update", t.id, detail);
    json_decref(detail);
    if (arc != WK_OK || wk_db_simple(c->db, "COMMIT") != 0)
        return wk_rpc_db_error(c, "audit account.update");
    wk_info("accounts", "official updated id=%lld actor=%lld", t.id, a.id);
    /* locked, or roles/agency changed: the open sessions carry the old state */
    if ((locked && !t.locked) || jroles || jag || jdep) {
        long n = 0;
        if (wk_sessions_revoke(c->r, t.id, &n) != WK_OK)
            wk_warn("accounts", "sessions not revoked official=%lld", t.id);
        else if (n)
            wk_info("accounts", "sessions revoked official=%lld sessions=%ld", t.id, n);
    }
    return json_pack("{s:b}", "ok", 1);
}
