/* ctl_ident.c - tthcctl user ... and tthcctl audit ... (docs/contracts-identity.md
 * "Officials", "Audit").  Passwords come from --password-file or stdin, never
 * from argv; every change is audited as actor_kind system. */
#include "wk.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <mysqld_error.h>
#include <sodium.h>

enum { EX_OK = 0, EX_ERR = 1, EX_USAGE = 2, EX_UNAVAIL = 3 };

static const char *who(void)
{
    static char name[96];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(name, sizeof(name), "tthcctl:%s", pw && pw->pw_name ? pw->pw_name : "?");
    return name;
}

/* 0 ok; the password in out (caller wipes) */
static int read_password(const char *file, char *out, size_t outsz)
{
    char *buf = NULL;
    size_t len = 0;
    if (file) {
        if (wk_read_file(file, &buf, &len) != 0) {
            fprintf(stderr, "tthcctl: cannot read %s: %s\n", file, strerror(errno));
            return -1;
        }
    } else {
        struct termios old, quiet;
        int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
        if (tty) {
            fprintf(stderr, "password: ");
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        size_t cap = 0;
        ssize_t n = getline(&buf, &cap, stdin);
        if (tty) {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
            fprintf(stderr, "\n");
        }
        if (n < 0) {
            free(buf);
            fprintf(stderr, "tthcctl: no password on stdin\n");
            return -1;
        }
        len = (size_t)n;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    int rc = 0;
    if (strlen(buf) >= outsz) {
        fprintf(stderr, "tthcctl: password too long\n");
        rc = -1;
    } else {
        strcpy(out, buf);
    }
    sodium_memzero(buf, len);
    free(buf);
    return rc;
}

static int check_password(const char *pw)
{
    size_t n = 0;
    for (const char *s = pw; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    if (n < WK_PASSWORD_MIN) {
        fprintf(stderr, "tthcctl: the password must have at least %d characters\n", WK_PASSWORD_MIN);
        return -1;
    }
    return 0;
}

static int audit_sys(wk_db *db, const char *action, long long id, json_t *detail)
{
    char obj[48];
    snprintf(obj, sizeof(obj), "official:%lld", id);
    wk_audit_ev ev = { NULL, 0, "system", -1, who(), NULL, action, obj, detail };
    wk_rc rc = wk_audit_append_tx(db, &ev);
    json_decref(detail);
    return rc == WK_OK ? 0 : -1;
}

static int fail_db(wk_db *db, const char *what)
{
    fprintf(stderr, "tthcctl: %s failed: %s\n", what, db->last_error);
    if (db->my)
        wk_db_simple(db, "ROLLBACK");
    return wk_db_transient(db) ? EX_UNAVAIL : EX_ERR;
}

static int user_create(wk_db *db, int argc, char **argv)
{
    const char *username = NULL, *name = NULL, *agency = NULL, *pwfile = NULL;
    long roles = 0;
    long long dept = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            goto usage;
        if (!strcmp(a, "--username")) username = v;
        else if (!strcmp(a, "--name")) name = v;
        else if (!strcmp(a, "--agency")) agency = v;
        else if (!strcmp(a, "--password-file")) pwfile = v;
        else if (!strcmp(a, "--department")) dept = strtoll(v, NULL, 10);
        else if (!strcmp(a, "--role")) {
            long r = wk_roles_parse_csv(v);
            if (r <= 0) {
                fprintf(stderr, "tthcctl: unknown role in %s\n", v);
                return EX_USAGE;
            }
            roles |= r;
        } else
            goto usage;
        i++;
    }
    if (!username || !name || roles == 0)
        goto usage;
    if (!wk_username_valid(username)) {
        fprintf(stderr, "tthcctl: username must match ^[a-z0-9._-]{3,64}$\n");
        return EX_USAGE;
    }
    if (!*name || strlen(name) > 255) {
        fprintf(stderr, "tthcctl: bad --name\n");
        return EX_USAGE;
    }
    long long agency_id = 0;
    if ((roles & WK_ROLES_AGENCY_BOUND) && !agency) {
        fprintf(stderr, "tthcctl: these roles need --agency\n");
        return EX_USAGE;
    }
    if (agency) {
        int f = wk_agency_id(db, agency, &agency_id);
        if (f < 0)
            return fail_db(db, "agency lookup");
        if (f == 0) {
            fprintf(stderr, "tthcctl: no such agency %s\n", agency);
            return EX_ERR;
        }
    }
    if (dept) {
        int f = agency ? wk_department_in(db, dept, agency_id) : 0;
        if (f < 0)
            return fail_db(db, "department lookup");
        if (f == 0) {
            fprintf(stderr, "tthcctl: department %lld is not one of the agency's\n", dept);
            return EX_ERR;
        }
    }
    char pw[1100], hash[128], csv[128];
    if (read_password(pwfile, pw, sizeof(pw)) != 0)
        return EX_ERR;
    if (check_password(pw) != 0) {
        sodium_memzero(pw, sizeof(pw));
        return EX_ERR;
    }
    int hrc = wk_password_hash(pw, hash);
    sodium_memzero(pw, sizeof(pw));
    if (hrc != 0)
        return EX_ERR;
    wk_roles_csv((unsigned)roles, csv);
    unsigned long long id = 0;
    wk_param p[] = { WK_STR(username), WK_STR(name), WK_STR(hash), WK_STR(csv),
                     agency_id ? WK_INT(agency_id) : WK_NULLP, dept ? WK_INT(dept) : WK_NULLP };
    if (wk_db_simple(db, "START TRANSACTION") != 0)
        return fail_db(db, "begin");
    if (wk_db_exec(db, "INSERT INTO officials (username, name, password_hash, roles, agency_id,"
                       " department_id) VALUES (?,?,?,?,?,?)", p, 6, NULL, NULL, NULL, &id) != 0) {
        if (db->last_errno == ER_DUP_ENTRY) {
            wk_db_simple(db, "ROLLBACK");
            fprintf(stderr, "tthcctl: username %s is taken\n", username);
            return EX_ERR;
        }
        return fail_db(db, "insert");
    }
    if (audit_sys(db, "account.create", (long long)id,
                  json_pack("{s:s, s:o, s:o, s:o}", "username", username,
                            "roles", wk_roles_to_json((unsigned)roles),
                            "agency", agency ? json_string(agency) : json_null(),
                            "department_id", dept ? json_integer(dept) : json_null())) != 0
        || wk_db_simple(db, "COMMIT") != 0)
        return fail_db(db, "audit");
    printf("created official id=%llu username=%s roles=%s\n", id, username, csv);
    return EX_OK;
usage:
    fprintf(stderr, "usage: tthcctl user create --username U --name NAME --role ROLE[,ROLE] [--role ...]\n"
                    "         [--agency CODE] [--department ID] [--password-file F]  (else stdin)\n");
    return EX_USAGE;
}

/* one UPDATE of the official named username + its audit entry */
static wk_rds *g_ctl_rds;       /* for ending sessions; NULL: Redis not reachable */

static int user_change(wk_db *db, const char *username, const char *sql, const wk_param *extra,
                       unsigned nextra, json_t *changes, const char *done)
{
    /* decided now: changes is handed over to the audit entry below */
    int revoke = json_object_get(changes, "locked") == json_true()
                 || json_object_get(changes, "password") != NULL;
    wk_official o;
    int f = wk_official_load(db, username, 0, &o);
    if (f <= 0) {
        json_decref(changes);
        if (f < 0)
            return fail_db(db, "lookup");
        fprintf(stderr, "tthcctl: no official %s\n", username);
        return EX_ERR;
    }
    wk_param p[8];
    for (unsigned i = 0; i < nextra && i < 7; i++)
        p[i] = extra[i];
    p[nextra] = WK_INT(o.id);
    if (wk_db_simple(db, "START TRANSACTION") != 0) {
        json_decref(changes);
        return fail_db(db, "begin");
    }
    if (wk_db_exec(db, sql, p, nextra + 1, NULL, NULL, NULL, NULL) != 0) {
        json_decref(changes);
        return fail_db(db, "update");
    }
    if (audit_sys(db, "account.update", o.id,
                  json_pack("{s:s, s:o}", "username", o.username, "changes", changes)) != 0
        || wk_db_simple(db, "COMMIT") != 0)
        return fail_db(db, "audit");
    printf("%s official id=%lld username=%s\n", done, o.id, o.username);
    if (revoke) {
        long n = 0;
        if (g_ctl_rds == NULL || wk_sessions_revoke(g_ctl_rds, o.id, &n) != WK_OK)
            fprintf(stderr, "tthcctl: Redis not reachable: open sessions of %s were NOT ended\n",
                    o.username);
        else
            printf("ended %ld open session(s)\n", n);
    }
    return EX_OK;
}

static int user_totp(wk_db *db, const char *username, int off)
{
    if (off)
        return user_change(db, username, "UPDATE officials SET totp_secret = NULL,"
                           " totp_last_step = NULL WHERE id = ?", NULL, 0,
                           json_pack("{s:b}", "totp", 0), "TOTP disabled for");
    unsigned char key[20];
    char b32[40];
    randombytes_buf(key, sizeof(key));
    wk_base32_encode(key, sizeof(key), b32, sizeof(b32));
    sodium_memzero(key, sizeof(key));
    wk_param p[] = { WK_STR(b32) };
    int rc = user_change(db, username, "UPDATE officials SET totp_secret = ?, totp_last_step = NULL"
                         " WHERE id = ?", p, 1, json_pack("{s:b}", "totp", 1), "TOTP enabled for");
    if (rc == EX_OK)
        printf("otpauth://totp/TTHC:%s?secret=%s&issuer=TTHC&algorithm=SHA1&digits=6&period=30\n",
               username, b32);
    sodium_memzero(b32, sizeof(b32));
    return rc;
}

static int user_list(wk_db *db);

int wk_ctl_user(wk_db *db, wk_rds *r, int argc, char **argv)
{
    g_ctl_rds = r;
    if (argc >= 1 && !strcmp(argv[0], "create"))
        return user_create(db, argc - 1, argv + 1);
    if (argc == 1 && !strcmp(argv[0], "list"))
        return user_list(db);
    if (argc >= 2 && !strcmp(argv[0], "totp") && (argc == 2 || (argc == 3 && !strcmp(argv[2], "--off"))))
        return user_totp(db, argv[1], argc == 3);
    if (argc == 2 && !strcmp(argv[0], "lock"))
        return user_change(db, argv[1], "UPDATE officials SET locked = 1 WHERE id = ?", NULL, 0,
                           json_pack("{s:b}", "locked", 1), "locked");
    if (argc == 2 && !strcmp(argv[0], "unlock"))
        return user_change(db, argv[1], "UPDATE officials SET locked = 0, failed_count = 0,"
                           " locked_until = NULL WHERE id = ?", NULL, 0,
                           json_pack("{s:b}", "locked", 0), "unlocked");
    if ((argc == 2 || (argc == 4 && !strcmp(argv[2], "--password-file"))) && !strcmp(argv[0], "passwd")) {
        char pw[1100], hash[128];
        if (read_password(argc == 4 ? argv[3] : NULL, pw, sizeof(pw)) != 0)
            return EX_ERR;
        int bad = check_password(pw) != 0 || wk_password_hash(pw, hash) != 0;
        sodium_memzero(pw, sizeof(pw));
        if (bad)
            return EX_ERR;
        wk_param p[] = { WK_STR(hash) };
        return user_change(db, argv[1], "UPDATE officials SET password_hash = ?, failed_count = 0,"
                           " locked_until = NULL WHERE id = ?", p, 1,
                           json_pack("{s:b}", "password", 1), "password changed for");
    }
    fprintf(stderr,
            "usage: tthcctl user create --username U --name NAME --role ROLE [--agency CODE]"
            " [--department ID] [--password-file F]\n"
            "       tthcctl user list | passwd U [--password-file F] | lock U | unlock U"
            " | totp U [--off]\n");
    return EX_USAGE;
}

static int user_row(const wk_row *r, void *ud)
{
    (void)ud;
    char roles[128];
    wk_roles_csv((unsigned)strtoul(r->v[2], NULL, 10), roles);
    printf("%s %s roles=%s agency=%s department=%s locked=%s locked_until=%s totp=%s\n",
           r->v[0], r->v[1], roles, r->v[3] ? r->v[3] : "-", r->v[4] ? r->v[4] : "-", r->v[5],
           r->v[6] ? r->v[6] : "-", r->v[7]);
    return 0;
}

static int user_list(wk_db *db)
{
    if (wk_db_exec(db, "SELECT o.id, o.username, o.roles + 0, a.code, o.department_id, o.locked,"
                       " IF(o.locked_until > UTC_TIMESTAMP(6), DATE_FORMAT(o.locked_until,"
                       " '%Y-%m-%dT%H:%i:%sZ'), NULL), IF(o.totp_secret IS NULL, 'off', 'on')"
                       " FROM officials o LEFT JOIN agencies a ON a.id = o.agency_id ORDER BY o.id",
                   NULL, 0, user_row, NULL, NULL, NULL) != 0)
        return fail_db(db, "list");
    return EX_OK;
}

static int audit_row(const wk_row *r, void *ud)
{
    (void)ud;
    printf("%s at=%sZ actor=%s:%s name=\"%s\" ip=%s action=%s object=%s detail=%s\n",
           r->v[0], r->v[1], r->v[2], r->v[3] ? r->v[3] : "-", r->v[4] ? r->v[4] : "",
           r->v[5] ? r->v[5] : "-", r->v[6], r->v[7][0] ? r->v[7] : "-", r->v[8]);
    return 0;
}

int wk_ctl_audit(wk_db *db, int argc, char **argv)
{
    if (argc == 1 && !strcmp(argv[0], "verify")) {
        long long n = 0, broken = 0;
        if (wk_audit_verify(db, &n, &broken) != WK_OK)
            return fail_db(db, "verify");
        if (broken) {
            printf("broken at id %lld\n", broken);
            return EX_ERR;
        }
        printf("ok %lld entries\n", n);
        return EX_OK;
    }
    if (argc >= 1 && !strcmp(argv[0], "list") && (argc == 1 || (argc == 3 && !strcmp(argv[1], "--limit")))) {
        long limit = argc == 3 ? strtol(argv[2], NULL, 10) : 50;
        if (limit <= 0 || limit > 100000) {
            fprintf(stderr, "tthcctl: --limit 1..100000\n");
            return EX_USAGE;
        }
        wk_param p[] = { WK_INT(limit) };
        if (wk_db_exec(db, "SELECT * FROM (SELECT id, DATE_FORMAT(at, '%Y-%m-%dT%H:%i:%s.%f'),"
                           " actor_kind, actor_id, actor_name, ip, action, object, detail FROM audit_log"
                           " ORDER BY id DESC LIMIT ?) t ORDER BY id",
                       p, 1, audit_row, NULL, NULL, NULL) != 0)
            return fail_db(db, "list");
        return EX_OK;
    }
    fprintf(stderr, "usage: tthcctl audit verify | audit list [--limit N]\n");
    return EX_USAGE;
}

/* tthcctl rpc TYPE: request JSON on stdin (so no secret is in argv), sealed
 * and sent like the edge does; prints the unsealed reply.  For hand tests
 * and scripts; needs the rpc key. */
int wk_ctl_rpc(wk_rds *r, wk_conf *conf, const char *type)
{
    char err[600];
    if (!conf->rpc_key_ok && wk_conf_load_secrets(conf, err, sizeof(err)) != 0 && !conf->rpc_key_ok) {
        fprintf(stderr, "tthcctl: %s\n", err);
        return EX_ERR;
    }
    json_error_t je;
    json_t *req = json_loadf(stdin, 0, &je);
    if (!json_is_object(req)) {
        fprintf(stderr, "tthcctl: stdin is not a JSON object\n");
        json_decref(req);
        return EX_USAGE;
    }
    int64_t deadline = wk_now_ms() + 10000;
    if (!json_object_get(req, "deadline"))
        json_object_set_new(req, "deadline", json_integer(deadline));
    else
        deadline = json_integer_value(json_object_get(req, "deadline"));
    char *js = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    char *sealed = js ? wk_seal(conf->rpc_key, js, strlen(js)) : NULL;
    free(js);
    if (sealed == NULL)
        return EX_ERR;
    unsigned char rid[16];
    char reqid[33], key[64];
    randombytes_buf(rid, sizeof(rid));
    sodium_bin2hex(reqid, sizeof(reqid), rid, sizeof(rid));
    snprintf(key, sizeof(key), "tthc:rpc:{%s}", reqid);
    const char *argv[] = { "XADD", WK_K_RPC, "*", "type", type, "key", reqid, "payload", sealed,
                           "attempt", "0" };
    redisReply *rep = wk_rds_cmd(r, 11, argv, NULL);
    free(sealed);
    if (!wk_rds_ok(rep)) {
        if (rep)
            freeReplyObject(rep);
        fprintf(stderr, "tthcctl: redis unavailable\n");
        return EX_UNAVAIL;
    }
    freeReplyObject(rep);
    long wait = 5;
    while (wk_now_ms() < deadline) {
        rep = wk_rds_cmdf(r, "GETDEL %s", key);
        if (rep && rep->type == REDIS_REPLY_STRING) {
            size_t n = 0;
            char *plain = wk_unseal(conf->rpc_key, rep->str, rep->len, &n);
            freeReplyObject(rep);
            if (plain == NULL) {
                fprintf(stderr, "tthcctl: reply does not unseal\n");
                return EX_ERR;
            }
            printf("%s\n", plain);
            free(plain);
            return EX_OK;
        }
        if (rep)
            freeReplyObject(rep);
        wk_sleep_ms(wait);
        wait = wait < 250 ? wait * 2 : 250;
    }
    fprintf(stderr, "tthcctl: no reply before the deadline\n");
    return EX_UNAVAIL;
}
