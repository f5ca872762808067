/* process.c - processes as data and counter registration (issue 4;
 * docs/contracts-workflow.md "Schema", "Edge API").
 *
 * staff.process.get / staff.process.put: the approved internal process of a
 * procedure, versioned.  A put validates the whole definition and creates
 * version max+1 as the active one (the previous active one is retired);
 * dossiers keep the version they started with (dossiers.process_id).
 *
 * staff.register: the desk registers a counter or postal dossier on the
 * applicant's behalf (D3, 001 Art.19.1).  Same code rules as online (D1):
 * the number comes from the same Redis sequence and is claimed in the same
 * journal with link(); the manifest is then ingested by the same code as an
 * online submission (ingest.c) and accepted at once (workflow.c), so a crash
 * in between leaves a received dossier (status 1) that the reconciler
 * ingests from the journal, never a lost one. */
#include "workflow.h"
#include "tthc_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

static const char *const roles_ok[] = { "desk_officer", "handling_official", "department_head",
                                        "agency_leader", NULL };
static const char *const actions_ok[] = { "forward", "return", "supplement", "handover", "refuse",
                                          "extend", "stop", "apologise", "withdraw", NULL };

static int in_list(const char *s, const char *const *l)
{
    for (; s && *l; l++)
        if (!strcmp(s, *l))
            return 1;
    return 0;
}

static json_t *body_of(json_t *req)
{
    json_t *b = json_object_get(req, "body");
    return json_is_object(b) ? b : req;
}

typedef struct { long long id, agency_id; char agency[40]; int amount; int hours; int found; } proc_ud;
static int proc_cb(const wk_row *r, void *ud)
{
    proc_ud *u = ud;
    u->id = strtoll(r->v[0], NULL, 10);
    u->agency_id = strtoll(r->v[1], NULL, 10);
    snprintf(u->agency, sizeof(u->agency), "%s", r->v[2]);
    u->amount = atoi(r->v[3]);
    u->hours = !strcmp(r->v[4], "working_hour");
    u->found = 1;
    return 1;
}

static int load_procedure(wk_db *db, const char *code, proc_ud *u)
{
    memset(u, 0, sizeof(*u));
    wk_param p[] = { WK_STR(code) };
    if (wk_db_exec(db, "SELECT p.id, p.agency_id, a.code, p.processing_amount, p.processing_unit"
                       " FROM procedures p JOIN agencies a ON a.id = p.agency_id WHERE p.code = ?",
                   p, 1, proc_cb, u, NULL, NULL) != 0)
        return -1;
    return u->found;
}

static const char *proc_code(json_t *req)
{
    const char *s = wk_json_str(req, "procedure");
    return s ? s : wk_json_str(body_of(req), "procedure");
}

static json_t *process_json(const wf_process *p)
{
    json_t *steps = json_array();
    for (int i = 0; i < p->n; i++) {
        const wf_step *s = &p->s[i];
        json_t *acts = json_array();
        for (int k = 0; actions_ok[k]; k++)
            if (s->actions & (1u << k))
                json_array_append_new(acts, json_string(actions_ok[k]));
        json_array_append_new(steps, json_pack("{s:i, s:s, s:s, s:o, s:s, s:i, s:o}", "position", s->pos,
                                               "name", s->name, "agency", s->agency,
                                               "department", s->dept_id ? json_integer(s->dept_id) : json_null(),
                                               "role", s->role, "budget_minutes", (int)s->budget, "actions", acts));
    }
    return json_pack("{s:b, s:I, s:i, s:b, s:o}", "ok", 1, "id", (json_int_t)p->id, "version", p->version,
                     "joint", p->joint, "steps", steps);
}

/* the acting official and the procedure of the request: NULL ok, or an
 * error reply */
static json_t *actor_and_procedure(wk_rpc *c, json_t *req, wk_official *o, const char **code, proc_ud *pu)
{
    json_t *e = wk_rpc_actor_official(c, req, o);
    if (e)
        return e;
    *code = proc_code(req);
    int f = *code ? load_procedure(c->db, *code, pu) : 0;
    if (f < 0)
        return wk_rpc_db_error(c, "procedure");
    if (f == 0)
        return wk_rpc_error("PROCEDURE_NOT_FOUND", NULL);
    return NULL;
}

json_t *wk_rpc_process_get(wk_rpc *c, json_t *req)
{
    wk_official o;
    const char *code;
    proc_ud pu;
    json_t *e = actor_and_procedure(c, req, &o, &code, &pu);
    if (e)
        return e;
    wf_dossier d;
    memset(&d, 0, sizeof(d));
    d.procedure_id = pu.id;
    wf_process p;
    int f = wf_process_load(c->db, &d, &p);
    if (f < 0)
        return wk_rpc_db_error(c, "process");
    if (f == 0)
        return wk_rpc_error("NO_PROCESS", NULL);
    json_t *r = process_json(&p);
    json_object_set_new(r, "procedure", json_string(code));
    return r;
}

json_t *wk_rpc_process_put(wk_rpc *c, json_t *req)
{
    wk_official o;
    const char *code;
    proc_ud pu;
    json_t *e = actor_and_procedure(c, req, &o, &code, &pu);
    if (e)
        return e;
    if (!(o.roles & WK_ROLE_SYSADMIN) && !((o.roles & WK_ROLE_AGENCY_ADMIN) && o.agency_id == pu.agency_id))
        return wk_rpc_error("FORBIDDEN", NULL);
    json_t *b = body_of(req);
    json_t *steps = json_object_get(b, "steps");
    if (!json_is_array(steps) || json_array_size(steps) == 0 || json_array_size(steps) > WF_MAX_STEPS)
        return wk_rpc_error("INVALID_PROCESS", "steps");
    const char *note = wk_json_str(b, "note");
    if (note && strlen(note) > 1000)
        return wk_rpc_error("INVALID_PROCESS", "note");
    /* validate everything before writing anything */
    long long ag_ids[WF_MAX_STEPS], dept_ids[WF_MAX_STEPS];
    unsigned acts[WF_MAX_STEPS];
    long total = 0;
    size_t i;
    json_t *s;
    json_array_foreach(steps, i, s) {
        const char *name = wk_json_str(s, "name"), *role = wk_json_str(s, "role"), *ag = wk_json_str(s, "agency");
        json_t *bud = json_object_get(s, "budget_minutes"), *dep = json_object_get(s, "department");
        json_t *ja = json_object_get(s, "actions");
        if (name == NULL || !name[0] || strlen(name) > 255 || !in_list(role, roles_ok) || !json_is_integer(bud)
            || json_integer_value(bud) < 1 || json_integer_value(bud) > 480 * 400 || !json_is_array(ja))
            return wk_rpc_error("INVALID_PROCESS", "steps");
        total += (long)json_integer_value(bud);
        ag_ids[i] = pu.agency_id;
        if (ag) {
            int g = wk_agency_id(c->db, ag, &ag_ids[i]);
            if (g < 0)
                return wk_rpc_db_error(c, "agency");
            if (g == 0)
                return wk_rpc_error("INVALID_PROCESS", "steps");
        }
        dept_ids[i] = 0;
        if (dep && !json_is_null(dep)) {
            if (!json_is_integer(dep))
                return wk_rpc_error("INVALID_PROCESS", "steps");
            dept_ids[i] = json_integer_value(dep);
            int g = wk_department_in(c->db, dept_ids[i], ag_ids[i]);
            if (g < 0)
                return wk_rpc_db_error(c, "department");
            if (g == 0)
                return wk_rpc_error("INVALID_PROCESS", "steps");
        }
        acts[i] = 0;
        size_t k;
        json_t *a;
        json_array_foreach(ja, k, a) {
            int found = 0;
            for (int x = 0; actions_ok[x]; x++)
                if (json_is_string(a) && !strcmp(json_string_value(a), actions_ok[x])) {
                    acts[i] |= 1u << x;
                    found = 1;
                }
            if (!found)
                return wk_rpc_error("INVALID_PROCESS", "steps");
        }
        if (!(acts[i] & WF_A_FORWARD))
            return wk_rpc_error("INVALID_PROCESS", "steps");   /* every step must be able to pass it on */
    }
    /* the internal process fits in the legal time (004 Art.11.3) */
    long legal = pu.hours ? pu.amount * 60L : pu.amount * 480L;
    if (total > legal)
        return wk_rpc_error("INVALID_PROCESS", "budget_minutes");
    if (wk_db_simple(c->db, "BEGIN") != 0)
        return wk_rpc_db_error(c, "begin");
    long long ver = 0;
    wk_param pp[] = { WK_INT(pu.id) };
    if (wk_db_get_ll(c->db, "SELECT COALESCE(MAX(version), 0) FROM processes WHERE procedure_id = ? FOR UPDATE",
                     pp, 1, &ver) < 0)
        return wk_rpc_db_error(c, "version");
    ver++;
    char by[100];
    snprintf(by, sizeof(by), "staff:%lld", o.id);
    unsigned long long pid = 0;
    wk_param np[] = { WK_INT(pu.id), WK_INT(ver), WK_STR(note), WK_STR(by) };
    if (wk_db_exec(c->db, "UPDATE processes SET status = 'retired' WHERE procedure_id = ? AND status = 'active'",
                   pp, 1, NULL, NULL, NULL, NULL) != 0
        || wk_db_exec(c->db, "INSERT INTO processes (procedure_id, version, status, note, created_by)"
                             " VALUES (?,?,'active',?,?)", np, 4, NULL, NULL, NULL, &pid) != 0)
        return wk_rpc_db_error(c, "insert process");
    json_array_foreach(steps, i, s) {
        char set[200] = "";
        for (int x = 0; actions_ok[x]; x++)
            if (acts[i] & (1u << x)) {
                if (set[0])
                    strcat(set, ",");
                strcat(set, actions_ok[x]);
            }
        wk_param sp[] = { WK_INT(pid), WK_INT(i + 1), WK_STR(wk_json_str(s, "name")),
                          ag_ids[i] == pu.agency_id ? WK_NULLP : WK_INT(ag_ids[i]),
                          dept_ids[i] ? WK_INT(dept_ids[i]) : WK_NULLP, WK_STR(wk_json_str(s, "role")),
                          WK_INT(json_integer_value(json_object_get(s, "budget_minutes"))), WK_STR(set) };
        if (wk_db_exec(c->db, "INSERT INTO process_steps (process_id, position, name, agency_id, department_id,"
                              " role, budget_minutes, actions) VALUES (?,?,?,?,?,?,?,?)",
                       sp, 8, NULL, NULL, NULL, NULL) != 0)
            return wk_rpc_db_error(c, "insert step");
    }
    wk_audit_ev ev = { c->reqid, 0, "staff", o.id, o.name, c->ip, "process.put", code,
                       json_pack("{s:I}", "version", (json_int_t)ver) };
    wk_rc arc = wk_audit_append_tx(c->db, &ev);
    json_decref(ev.detail);
    if (arc != WK_OK || wk_db_simple(c->db, "COMMIT") != 0)
        return wk_rpc_db_error(c, "commit");
    wk_info("process", "new version procedure=%s version=%lld steps=%zu", code, ver, json_array_size(steps));
    return wk_rpc_process_get(c, req);
}

/* ------------------------------------------------------------ register */

static const char *SEQ_LUA =
    "if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end "
    "local n = redis.call('INCR', KEYS[2]) redis.call('EXPIRE', KEYS[2], 345600) return n";

/* claim CODE in the journal with its manifest: 1 claimed, 0 taken, -1 error */
static int journal_claim(const wk_conf *conf, const char *code, const char *manifest)
{
    char dir[700], path[800], tmp[800], other[800];
    snprintf(dir, sizeof(dir), "%s/journal", conf->store);
    snprintf(path, sizeof(path), "%s/%s.json", dir, code);
    for (int k = 0; k < 2; k++) {
        snprintf(other, sizeof(other), "%s/%s/%s.json", dir, k ? "failed" : "done", code);
        if (access(other, F_OK) == 0)
            return 0;
    }
    unsigned char rnd[8];
    char hex[17];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    snprintf(tmp, sizeof(tmp), "%s/.reg-%s", dir, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    size_t len = strlen(manifest), off = 0;
    while (off < len) {
        ssize_t w = write(fd, manifest + off, len - off);
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    int rc = link(tmp, path) == 0 ? 1 : (errno == EEXIST ? 0 : -1);
    unlink(tmp);
    if (rc == 1) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

typedef struct { json_t *comps; } comp_ud;
static int comp_cb(const wk_row *r, void *ud)
{
    comp_ud *u = ud;
    json_array_append_new(u->comps, json_pack("{s:s, s:b, s:I, s:s}", "code", r->v[0], "required", atoi(r->v[1]),
                                              "max_size", (json_int_t)strtoll(r->v[2], NULL, 10),
                                              "media_types", r->v[3]));
    return 0;
}

json_t *wk_rpc_staff_register(wk_rpc *c, json_t *req)
{
    wk_official o;
    json_t *e = wk_rpc_actor_official(c, req, &o);
    if (e)
        return e;
    json_t *b = body_of(req);
    const char *pcode = wk_json_str(b, "procedure");
    proc_ud pu;
    int f = pcode ? load_procedure(c->db, pcode, &pu) : 0;
    if (f < 0)
        return wk_rpc_db_error(c, "procedure");
    if (f == 0)
        return wk_rpc_error("UNKNOWN_PROCEDURE", "procedure");
    {   /* X2: a procedure the catalogue import retired takes no new dossiers */
        long long act = 0;
        wk_param ap[] = { WK_INT(pu.id) };
        int fa = wk_db_get_ll(c->db, "SELECT 1 FROM procedures WHERE id = ? AND status = 'active'", ap, 1, &act);
        if (fa < 0)
            return wk_rpc_db_error(c, "procedure status");
        if (fa == 0)
            return wk_rpc_error("UNKNOWN_PROCEDURE", "procedure");
    }
    if (!(o.roles & 0x01u) || o.agency_id != pu.agency_id)
        return wk_rpc_error("NOT_STEP_HOLDER", NULL);
    const char *channel = wk_json_str(b, "channel");
    if (channel == NULL || (strcmp(channel, "counter") && strcmp(channel, "postal")))
        return wk_rpc_error("INVALID_APPLICATION", "channel");
    json_t *ap = json_object_get(b, "applicant");
    const char *atype = wk_json_str(ap, "type"), *aname = wk_json_str(ap, "name");
    if (atype == NULL || (strcmp(atype, "citizen") && strcmp(atype, "organisation")))
        return wk_rpc_error("INVALID_APPLICATION", "applicant.type");
    if (aname == NULL || !aname[0] || strlen(aname) > 255)
        return wk_rpc_error("INVALID_APPLICATION", "applicant.name");
    const char *aid = wk_json_str(ap, "identity_number");
    if (aid && (strlen(aid) < 9 || strlen(aid) > 13 || strspn(aid, "0123456789") != strlen(aid)))
        return wk_rpc_error("INVALID_APPLICATION", "applicant.identity_number");
    const char *rc_ = wk_json_str(b, "result_channel");
    if (rc_ == NULL)
        rc_ = "desk";
    if (strcmp(rc_, "desk") && strcmp(rc_, "online") && strcmp(rc_, "postal"))
        return wk_rpc_error("INVALID_APPLICATION", "result_channel");
    json_t *form = json_object_get(b, "form");
    if (form && !json_is_object(form))
        return wk_rpc_error("INVALID_APPLICATION", "form");

    /* digitised files: uploaded by this official, components of the procedure */
    comp_ud cu = { json_array() };
    wk_param cp[] = { WK_INT(pu.id) };
    if (wk_db_exec(c->db, "SELECT code, required, max_size, media_types FROM components WHERE procedure_id = ?"
                          " AND active = 1 ORDER BY position", cp, 1, comp_cb, &cu, NULL, NULL) != 0) {
        json_decref(cu.comps);
        return wk_rpc_db_error(c, "components");
    }
    json_t *files = json_object_get(b, "files"), *mfiles = json_array();
    json_t *err = NULL;
    if (!json_is_array(files) || json_array_size(files) > 50)
        err = wk_rpc_error("INVALID_APPLICATION", "files");
    size_t i;
    json_t *fj;
    if (err == NULL)
        json_array_foreach(files, i, fj) {
            const char *sha = wk_json_str(fj, "sha256"), *comp = wk_json_str(fj, "component");
            json_t *cdef = NULL;
            size_t k;
            json_t *cj;
            json_array_foreach(cu.comps, k, cj)
                if (comp && !strcmp(wk_json_str(cj, "code"), comp))
                    cdef = cj;
            if (cdef == NULL) {
                err = wk_rpc_error("UNKNOWN_COMPONENT", "files");
                break;
            }
            if (sha == NULL || !wk_is_hex64(sha)) {
                err = wk_rpc_error("INVALID_APPLICATION", "files");
                break;
            }
            char key[160];
            snprintf(key, sizeof(key), "tthc:up:{staff:%lld}:%s", o.id, sha);
            redisReply *rep = wk_rds_cmdf(c->r, "GET %s", key);
            json_t *meta = NULL;
            if (rep && rep->type == REDIS_REPLY_STRING) {
                json_error_t je;
                meta = json_loadb(rep->str, rep->len, 0, &je);
            }
            if (rep)
                freeReplyObject(rep);
            const char *mt = wk_json_str(meta, "media_type"), *nm = wk_json_str(meta, "name");
            if (!json_is_object(meta) || mt == NULL) {
                json_decref(meta);
                err = wk_rpc_error("FILE_NOT_UPLOADED", "files");
                break;
            }
            if (strstr(wk_json_str(cdef, "media_types"), mt) == NULL) {
                json_decref(meta);
                err = wk_rpc_error("UNSUPPORTED_MEDIA_TYPE", "files");
                break;
            }
            char storage[120], path[800];
            snprintf(storage, sizeof(storage), "files/%.2s/%.2s/%s", sha, sha + 2, sha);
            snprintf(path, sizeof(path), "%s/%s", c->conf->store, storage);
            struct stat st;
            if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
                json_decref(meta);
                err = wk_rpc_error("FILE_NOT_UPLOADED", "files");
                break;
            }
            json_t *sz = json_integer((json_int_t)st.st_size);
            json_array_append_new(mfiles, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "component", comp,
                                                    "name", nm ? nm : "tep",
                                                    "size", (json_int_t)json_integer_value(sz),
                                                    "media_type", mt, "sha256", sha, "storage", storage));
            json_decref(sz);
            json_decref(meta);
        }
    if (err == NULL) {
        size_t k;
        json_t *cj;
        json_array_foreach(cu.comps, k, cj) {
            if (!json_is_true(json_object_get(cj, "required")))
                continue;
            int have = 0;
            json_array_foreach(mfiles, i, fj)
                if (!strcmp(wk_json_str(fj, "component"), wk_json_str(cj, "code")))
                    have = 1;
            if (!have) {
                err = wk_rpc_error("MISSING_COMPONENT", wk_json_str(cj, "code"));
                break;
            }
        }
    }
    json_decref(cu.comps);
    if (err) {
        json_decref(mfiles);
        return err;
    }

    /* a retried registration (same idempotency key) answers with the dossier
     * registered the first time, never a second one */
    const char *idem = wk_json_str(b, "idempotency_key");
    char ikey[160] = "";
    if (idem) {
        size_t il = strlen(idem);
        if (il == 0 || il > 64 || strspn(idem, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != il) {
            json_decref(mfiles);
            return wk_rpc_error("INVALID_REQUEST", "idempotency_key");
        }
        snprintf(ikey, sizeof(ikey), "tthc:reg:{staff:%lld}:%s", o.id, idem);
        redisReply *rep = wk_rds_cmdf(c->r, "GET %s", ikey);
        if (rep && rep->type == REDIS_REPLY_STRING) {
            json_t *areq = json_pack("{s:O, s:s, s:{s:s}}", "actor", json_object_get(req, "actor"),
                                     "code", rep->str, "body", "action", "accept");
            freeReplyObject(rep);
            json_decref(mfiles);
            /* accept again is refused (409) once accepted: answer the dossier as it is */
            wf_dossier d;
            int df = wf_dossier_load(c->db, json_string_value(json_object_get(areq, "code")), 0, 0, &d);
            json_decref(areq);
            if (df < 0)
                return wk_rpc_db_error(c, "dossier");
            if (df == 0)
                return wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
            wf_process p;
            int pf = wf_process_load(c->db, &d, &p);
            json_t *r = wf_object(c->db, &d, pf == 1 ? &p : NULL, 0, 1);
            json_object_set_new(r, "ok", json_true());
            json_object_set_new(r, "registered", json_true());
            json_object_set_new(r, "replayed", json_true());
            return r;
        }
        if (rep)
            freeReplyObject(rep);
    }

    /* number (D1) and claim, as the edge does */
    time_t now = (time_t)(wk_clock_now_ms(c->r) / 1000);
    time_t real = time(NULL);
    char yymmdd[7], k1[80], k2[80], code[80], recv[32];
    wk_local_yymmdd(real, yymmdd);
    snprintf(k1, sizeof(k1), "tthc:{seq:%s}:ready", pu.agency);
    snprintf(k2, sizeof(k2), "tthc:{seq:%s}:%s", pu.agency, yymmdd);
    tthc_fmt_utc(recv, sizeof(recv), now);
    json_t *app = json_pack("{s:s, s:{s:s, s:s, s:o, s:o, s:o}, s:O, s:s}", "procedure", pcode,
                            "applicant", "type", atype, "name", aname,
                            "identity_number", aid ? json_string(aid) : json_null(),
                            "email", wk_json_str(ap, "email") ? json_string(wk_json_str(ap, "email")) : json_null(),
                            "phone", wk_json_str(ap, "phone") ? json_string(wk_json_str(ap, "phone")) : json_null(),
                            "form", form ? form : json_object(), "result_channel", rc_);
    if (form == NULL)
        json_decref(json_object_get(app, "form"));
    json_t *pa = json_object_get(b, "postal_address");
    if (json_is_object(pa))
        json_object_set(app, "postal_address", pa);
    char *manifest = NULL;
    int claimed = 0, used_up = 0;
    for (int tries = 0; tries < 16 && !claimed; tries++) {
        const char *argv[] = { "EVAL", SEQ_LUA, "2", k1, k2 };
        redisReply *rep = wk_rds_cmd(c->r, 5, argv, NULL);
        long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
        if (rep)
            freeReplyObject(rep);
        used_up = n > 9999;                     /* D1: four digits a day per agency */
        if (n < 1 || n > 9999)
            break;
        snprintf(code, sizeof(code), "%s-%s-%04lld", pu.agency, yymmdd, n);
        json_t *m = json_pack("{s:i, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:O, s:O, s:s}", "v", 1, "code", code,
                              "agency", pu.agency, "date", yymmdd, "seq", (json_int_t)n, "received_at", recv,
                              "procedure", pcode, "channel", channel, "application", app, "files", mfiles,
                              "client_ip", c->ip[0] ? c->ip : "0.0.0.0");
        free(manifest);
        manifest = m ? json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(m);
        if (manifest == NULL)
            break;
        int cl = journal_claim(c->conf, code, manifest);
        if (cl < 0) {
            wk_error("register", "journal claim failed code=%s errno=%d", code, errno);
            break;
        }
        claimed = cl;
    }
    json_decref(app);
    json_decref(mfiles);
    if (!claimed) {
        free(manifest);
        return wk_rpc_error(used_up ? "DAILY_LIMIT_REACHED" : "SEQUENCE_NOT_READY", NULL);
    }
    char ierr[256];
    wk_rc irc = wk_ingest(c->db, c->r, c->conf, manifest, strlen(manifest), ierr, sizeof(ierr));
    free(manifest);
    if (irc != WK_OK) {
        /* the journal keeps it: the reconciler ingests it later */
        wk_warn("register", "ingest deferred code=%s error=\"%s\"", code, ierr);
        return wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
    }
    wk_info("register", "registered code=%s channel=%s", code, channel);
    if (ikey[0]) {
        redisReply *rep = wk_rds_cmdf(c->r, "SET %s %s EX 86400", ikey, code);
        if (rep)
            freeReplyObject(rep);
    }
    /* accepted at once: the receipt is made at the counter (T1, 000 Art.14.1) */
    json_t *areq = json_pack("{s:O, s:s, s:{s:s}}", "actor", json_object_get(req, "actor"), "code", code,
                             "body", "action", "accept");
    json_t *r = wk_rpc_staff_action(c, areq);
    json_decref(areq);
    if (json_is_true(json_object_get(r, "ok")))
        json_object_set_new(r, "registered", json_true());
    return r;
}
