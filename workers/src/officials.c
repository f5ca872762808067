/* officials.c - helpers shared by the account RPCs (accounts.c), the staff
 * sign-in (auth_staff.c) and tthcctl user: username rule, argon2id hashes,
 * role lists (common/tthc_scope through cm.c), agency/department lookups. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

int wk_username_valid(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n < 3 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int wk_password_hash(const char *pw, char out[128])
{
    return crypto_pwhash_str(out, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                             crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0 ? 0 : -1;
}

long wk_roles_from_json(json_t *arr)
{
    if (!json_is_array(arr))
        return -1;
    unsigned mask = 0;
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x) {
        if (!json_is_string(x))
            return -1;
        unsigned bit = wk_role_bit(json_string_value(x));
        if (bit == 0)
            return -1;
        mask |= bit;
    }
    return (long)mask;
}

json_t *wk_roles_to_json(unsigned roles)
{
    json_t *a = json_array();
    for (unsigned bit = 1; bit <= 0x40u; bit <<= 1)
        if (roles & bit)
            json_array_append_new(a, json_string(wk_role_name(bit)));
    return a;
}

int wk_agency_id(wk_db *db, const char *code, long long *id)
{
    wk_param p[] = { WK_STR(code) };
    return wk_db_get_ll(db, "SELECT id FROM agencies WHERE code = ?", p, 1, id);
}

int wk_department_in(wk_db *db, long long dept, long long agency_id)
{
    long long one;
    wk_param p[] = { WK_INT(dept), WK_INT(agency_id) };
    return wk_db_get_ll(db, "SELECT 1 FROM departments WHERE id = ? AND agency_id = ?", p, 2, &one);
}

#define OFFICIAL_COLS \
    "SELECT o.id, o.username, o.name, o.password_hash, o.roles + 0, o.agency_id, a.code," \
    " o.department_id, o.locked, (o.locked_until IS NOT NULL AND o.locked_until > UTC_TIMESTAMP(6))," \
    " DATE_FORMAT(o.locked_until, '%Y-%m-%d %H:%i:%s'), o.failed_count, o.totp_secret, o.totp_last_step" \
    " FROM officials o LEFT JOIN agencies a ON a.id = o.agency_id"

static int official_cb(const wk_row *r, void *ud)
{
    wk_official *o = ud;
    o->id = strtoll(r->v[0], NULL, 10);
    snprintf(o->username, sizeof(o->username), "%s", r->v[1]);
    snprintf(o->name, sizeof(o->name), "%s", r->v[2]);
    snprintf(o->pwhash, sizeof(o->pwhash), "%s", r->v[3]);
    o->roles = (unsigned)strtoul(r->v[4], NULL, 10);
    o->agency_id = r->v[5] ? strtoll(r->v[5], NULL, 10) : 0;
    snprintf(o->agency, sizeof(o->agency), "%s", r->v[6] ? r->v[6] : "");
    o->dept = r->v[7] ? strtoll(r->v[7], NULL, 10) : 0;
    o->locked = atoi(r->v[8]);
    o->locked_now = r->v[9] ? atoi(r->v[9]) : 0;
    snprintf(o->locked_until, sizeof(o->locked_until), "%s", r->v[10] ? r->v[10] : "");
    o->failed = strtol(r->v[11], NULL, 10);
    snprintf(o->totp, sizeof(o->totp), "%s", r->v[12] ? r->v[12] : "");
    o->totp_last = r->v[13] ? strtoll(r->v[13], NULL, 10) : -1;
    return 1;
}

int wk_official_load(wk_db *db, const char *username, long long id, wk_official *o)
{
    memset(o, 0, sizeof(*o));
    o->id = -1;
    wk_param p[1];
    const char *sql;
    if (username) {
        p[0] = WK_STR(username);
        sql = OFFICIAL_COLS " WHERE o.username = ?";
    } else {
        p[0] = WK_INT(id);
        sql = OFFICIAL_COLS " WHERE o.id = ?";
    }
    if (wk_db_exec(db, sql, p, 1, official_cb, o, NULL, NULL) != 0)
        return -1;
    return o->id >= 0 ? 1 : 0;
}

long long wk_rpc_actor_id(json_t *req)
{
    json_t *uid = json_object_get(json_object_get(req, "actor"), "uid");
    long long id = json_is_integer(uid) ? json_integer_value(uid)
                 : json_is_string(uid) ? strtoll(json_string_value(uid), NULL, 10) : 0;
    return id > 0 ? id : 0;
}

json_t *wk_rpc_actor_official(wk_rpc *c, json_t *req, wk_official *o)
{
    long long id = wk_rpc_actor_id(req);
    if (id == 0)
        return wk_rpc_error("UNAUTHENTICATED", NULL);
    int f = wk_official_load(c->db, NULL, id, o);
    if (f < 0)
        return wk_rpc_db_error(c, "load actor");
    if (f == 0 || o->locked || o->locked_now) {
        wk_info("rpc", "actor gone or locked official=%lld type=%s", id, c->type);
        return wk_rpc_error("UNAUTHENTICATED", NULL);
    }
    return NULL;
}
