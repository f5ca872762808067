/* auth_staff.c - RPC auth.staff.signin (docs/contracts-identity.md
 * "Officials"): argon2id password, lockout after staff_lockout_failures
 * consecutive failures for staff_lockout_s (counters in MariaDB, one atomic
 * UPDATE), administrative lock, optional TOTP, new session, audit.
 * Unknown user and wrong password give the same answer, after the same work. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* the same argon2id work as a real check, result ignored */
static void burn(const char *h, const char *pw)
{
    volatile int r = crypto_pwhash_str_verify(h, pw, strlen(pw));
    (void)r;
}

/* a hash nobody's password matches: unknown users cost an argon2id too */
static const char *dummy_hash(void)
{
    static char h[128];
    if (h[0] == '\0') {
        char pw[44];
        wk_random_b64url32(pw);
        if (wk_password_hash(pw, h) != 0)
            h[0] = '\0';
    }
    return h;
}

static json_t *audit_reply(wk_rpc *c, const wk_official *o, const char *username,
                           const char *action, json_t *detail, json_t *reply)
{
    char eid[96];
    snprintf(eid, sizeof(eid), "rpc:%s:%s", c->reqid, action);
    if (username && !o)
        json_object_set_new(detail, "username", json_string(username));
    wk_audit_ev ev = { eid, 0, "staff", o ? o->id : -1, o ? o->name : NULL, c->ip, action,
                       NULL, detail };
    char obj[48] = "";
    if (o) {
        snprintf(obj, sizeof(obj), "official:%lld", o->id);
        ev.object = obj;
    }
    wk_rc rc = wk_audit_append(c->db, &ev);
    json_decref(detail);
    if (rc != WK_OK) {
        /* every sign-in is audited or does not happen */
        json_decref(reply);
        return wk_rpc_error(rc == WK_TRANSIENT ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR", NULL);
    }
    return reply;
}

/* one failure more; locks for staff_lockout_s when the count reaches the
 * limit (and again on every failure past it until a success). 1 = locked */
static int count_failure(wk_rpc *c, const wk_official *o)
{
    long lim = c->conf->staff_lockout_failures;
    /* MariaDB evaluates SET left to right: locked_until sees the old count */
    wk_param p[] = { WK_INT(lim), WK_INT(c->conf->staff_lockout_s), WK_INT(o->id) };
    if (wk_db_exec(c->db,
                   "UPDATE officials SET locked_until = IF(failed_count + 1 >= ?,"
                   " UTC_TIMESTAMP(6) + INTERVAL ? SECOND, locked_until),"
                   " failed_count = failed_count + 1 WHERE id = ?",
                   p, 3, NULL, NULL, NULL, NULL) != 0)
        return -1;
    long long n = 0;
    wk_param q[] = { WK_INT(o->id) };
    if (wk_db_get_ll(c->db, "SELECT failed_count FROM officials WHERE id = ?", q, 1, &n) != 1)
        return -1;
    return n >= lim ? 1 : 0;
}

json_t *wk_rpc_staff_signin(wk_rpc *c, json_t *req)
{
    const char *username = wk_json_str(req, "username"), *password = wk_json_str(req, "password");
    json_t *jt = json_object_get(req, "totp");
    const char *totp = json_is_string(jt) ? json_string_value(jt) : NULL;
    if (password == NULL || strlen(password) > 1024)
        password = NULL;
    const char *dh = dummy_hash();
    if (!wk_username_valid(username) || password == NULL) {
        if (password && dh[0])
            burn(dh, password);
        return audit_reply(c, NULL, wk_username_valid(username) ? username : NULL, "signin.failed",
                           json_pack("{s:s}", "reason", "malformed"),
                           wk_rpc_error("SIGNIN_FAILED", NULL));
    }
    wk_official o;
    int f = wk_official_load(c->db, username, 0, &o);
    if (f < 0)
        return wk_rpc_db_error(c, "load official");
    if (f == 0) {
        if (dh[0])
            burn(dh, password);
        wk_info("signin", "failed reason=unknown_user");
        return audit_reply(c, NULL, username, "signin.failed",
                           json_pack("{s:s}", "reason", "unknown_user"),
                           wk_rpc_error("SIGNIN_FAILED", NULL));
    }
    if (o.locked || o.locked_now) {
        wk_info("signin", "refused, account locked official=%lld admin_lock=%d", o.id, o.locked);
        return audit_reply(c, &o, NULL, "signin.locked",
                           json_pack("{s:s}", "reason", o.locked ? "admin_lock" : "lockout"),
                           wk_rpc_error("ACCOUNT_LOCKED", NULL));
    }
    int pw_ok = crypto_pwhash_str_verify(o.pwhash, password, strlen(password)) == 0;
    long long step = -1;
    const char *reason = pw_ok ? NULL : "password";
    if (pw_ok && o.totp[0]) {
        if (totp == NULL || *totp == '\0') {
            /* right password, second factor still to come: not a failure */
            wk_info("signin", "totp required official=%lld", o.id);
            return wk_rpc_error("TOTP_REQUIRED", NULL);
        }
        if (!wk_totp_check(o.totp, totp, time(NULL), o.totp_last, &step))
            reason = "totp";
    }
    if (reason) {
        int locked = count_failure(c, &o);
        if (locked < 0)
            return wk_rpc_db_error(c, "count failure");
        wk_info("signin", "failed official=%lld reason=%s locked=%d", o.id, reason, locked);
        json_t *reply = audit_reply(c, &o, NULL, "signin.failed",
                                    json_pack("{s:s, s:I}", "reason", reason,
                                              "failures", (json_int_t)o.failed + 1),
                                    wk_rpc_error("SIGNIN_FAILED", NULL));
        if (locked && json_is_false(json_object_get(reply, "ok"))
            && !strcmp(wk_json_str(reply, "error"), "SIGNIN_FAILED"))
            reply = audit_reply(c, &o, NULL, "signin.locked",
                                json_pack("{s:s, s:I}", "reason", "lockout", "seconds",
                                          (json_int_t)c->conf->staff_lockout_s), reply);
        return reply;
    }
    /* success: reset the counter, remember the TOTP step (no replay) */
    wk_param p[] = { step >= 0 ? WK_INT(step) : WK_NULLP, WK_INT(o.id) };
    if (wk_db_exec(c->db,
                   "UPDATE officials SET failed_count = 0, locked_until = NULL,"
                   " totp_last_step = COALESCE(?, totp_last_step), last_signin_at = UTC_TIMESTAMP(6)"
                   " WHERE id = ?", p, 2, NULL, NULL, NULL, NULL) != 0)
        return wk_rpc_db_error(c, "reset failures");
    json_t *ok = audit_reply(c, &o, NULL, "signin",
                             json_pack("{s:s, s:b}", "method", "password", "totp", o.totp[0] != 0),
                             json_pack("{s:b}", "ok", 1));
    if (!json_is_true(json_object_get(ok, "ok")))
        return ok;
    char uid[24], dept[24] = "", roles[128], sid[44], csrf[44];
    snprintf(uid, sizeof(uid), "%lld", o.id);
    if (o.dept)
        snprintf(dept, sizeof(dept), "%lld", o.dept);
    wk_roles_csv(o.roles, roles);
    wk_kv kv[] = {
        { "uid", uid }, { "name", o.name }, { "username", o.username }, { "roles", roles },
        { "agency", o.agency }, { "dept", dept }, { "ip", c->ip },
    };
    if (wk_session_create(c->r, c->conf, "staff", kv, 7, sid, csrf) != WK_OK) {
        json_decref(ok);
        return wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
    }
    wk_info("signin", "staff signed in official=%lld", o.id);
    json_object_set_new(ok, "sid", json_string(sid));
    json_object_set_new(ok, "csrf", json_string(csrf));
    sodium_memzero(sid, sizeof(sid));
    return ok;
}
