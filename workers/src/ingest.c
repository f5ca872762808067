/* ingest.c - job "dossier.submitted": manifest -> MariaDB (one transaction)
 * -> authoritative view -> journal file moved to journal/done/ (it keeps the
 * code claimed for the edge).  Idempotent by dossier code and manifest sha256. */
#include "wk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mysqld_error.h>

typedef struct {
    const char *code, *agency, *date, *procedure, *channel, *received_at;
    int seq;
    time_t received;
    const char *a_type, *a_name, *a_id, *a_email, *a_phone, *result_channel;
    char *form_json, *postal_json;
    json_t *files;
    long long applicant_id;   /* 0: none (journal entries from before issue 3) */
    int pickup;               /* X3: application.postal_pickup */
} manifest;

#define FAIL(...) do { snprintf(err, errsz, __VA_ARGS__); return -1; } while (0)

static const char *opt_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (!strcmp(s, *set))
            return 1;
    return 0;
}

static int parse_manifest(json_t *root, manifest *m, char *err, size_t errsz)
{
    static const char *const channels[] = { "online", "counter", "postal", NULL };
    static const char *const results[] = { "online", "desk", "postal", NULL };
    memset(m, 0, sizeof(*m));
    if (!json_is_object(root))
        FAIL("manifest is not a JSON object");
    json_t *v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        FAIL("unsupported manifest version");
    m->code = opt_str(root, "code");
    m->agency = opt_str(root, "agency");
    m->date = opt_str(root, "date");
    m->procedure = opt_str(root, "procedure");
    m->channel = opt_str(root, "channel");
    m->received_at = opt_str(root, "received_at");
    json_t *seq = json_object_get(root, "seq");
    char agency[32], date[7];
    int cseq;
    if (!m->code || wk_code_parse(m->code, agency, date, &cseq) != 0)
        FAIL("invalid dossier code");
    if (!m->agency || strcmp(agency, m->agency) || !m->date || strcmp(date, m->date)
        || !json_is_integer(seq) || json_integer_value(seq) != cseq)
        FAIL("code does not match agency/date/seq");
    m->seq = cseq;
    if (!m->received_at || wk_parse_utc(m->received_at, strlen(m->received_at), &m->received) != 0)
        FAIL("invalid received_at");
    if (!m->procedure || !*m->procedure || strlen(m->procedure) > 32)
        FAIL("invalid procedure");
    if (!one_of(m->channel, channels))
        FAIL("invalid channel");
    json_t *app = json_object_get(root, "application");
    json_t *ap = json_object_get(app, "applicant");
    if (!json_is_object(app) || !json_is_object(ap))
        FAIL("missing application/applicant");
    m->a_type = opt_str(ap, "type");
    m->a_name = opt_str(ap, "name");
    m->a_id = opt_str(ap, "identity_number");
    m->a_email = opt_str(ap, "email");
    m->a_phone = opt_str(ap, "phone");
    if (!m->a_type || !*m->a_type || !m->a_name || !*m->a_name)
        FAIL("applicant type and name required");
    m->result_channel = opt_str(app, "result_channel");
    if (!one_of(m->result_channel, results))
        FAIL("invalid result_channel");
    json_t *form = json_object_get(app, "form");
    if (form && !json_is_null(form))
        m->form_json = json_dumps(form, JSON_COMPACT | JSON_ENCODE_ANY);
    json_t *postal = json_object_get(app, "postal_address");
    if (postal && !json_is_null(postal)) {
        if (!json_is_object(postal))
            FAIL("invalid postal_address");
        m->postal_json = json_dumps(postal, JSON_COMPACT);
    }
    m->pickup = json_is_true(json_object_get(app, "postal_pickup"));   /* X3 */
    json_t *aid = json_object_get(root, "applicant_id");
    if (aid && !json_is_null(aid)) {
        if (!json_is_integer(aid) || json_integer_value(aid) <= 0)
            FAIL("invalid applicant_id");
        m->applicant_id = json_integer_value(aid);
    }
    m->files = json_object_get(root, "files");
    if (m->files == NULL)
        m->files = json_array();
    else
        json_incref(m->files);
    if (!json_is_array(m->files))
        FAIL("files is not an array");
    size_t i;
    json_t *f;
    json_array_foreach(m->files, i, f) {
        const char *comp = opt_str(f, "component"), *name = opt_str(f, "name"),
                   *mt = opt_str(f, "media_type"), *sha = opt_str(f, "sha256"),
                   *st = opt_str(f, "storage");
        json_t *size = json_object_get(f, "size");
        if (!comp || !*comp || !name || !mt || !json_is_integer(size) || json_integer_value(size) < 0)
            FAIL("invalid file entry %zu", i);
        if (!wk_is_hex64(sha))
            FAIL("invalid sha256 in file entry %zu", i);
        char want[80];
        snprintf(want, sizeof(want), "files/%.2s/%.2s/%s", sha, sha + 2, sha);
        if (!st || strcmp(st, want) != 0)
            FAIL("storage path does not match sha256 in file entry %zu", i);
    }
    return 0;
}

static void manifest_free(manifest *m)
{
    free(m->form_json);
    free(m->postal_json);
    json_decref(m->files);
}

/* WK_OK all present; WK_PERMANENT a file is missing; WK_TRANSIENT store down */
static wk_rc check_files(const wk_conf *conf, const manifest *m, char *err, size_t errsz)
{
    char path[1024];
    struct stat st;
    snprintf(path, sizeof(path), "%s/files", conf->store);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "store unavailable: %s", strerror(errno));
        return WK_TRANSIENT;
    }
    size_t i;
    json_t *f;
    json_array_foreach(m->files, i, f) {
        snprintf(path, sizeof(path), "%s/%s", conf->store, opt_str(f, "storage"));
        if (stat(path, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) {
                snprintf(err, errsz, "stored file missing for file entry %zu", i);
                return WK_PERMANENT;
            }
            snprintf(err, errsz, "store error: %s", strerror(errno));
            return WK_TRANSIENT;
        }
        if ((long long)st.st_size != (long long)json_integer_value(json_object_get(f, "size"))) {
            snprintf(err, errsz, "stored file size mismatch for file entry %zu", i);
            return WK_PERMANENT;
        }
    }
    return WK_OK;
}

typedef struct { char sha[65]; int found; } sha_ud;

static int sha_cb(const wk_row *r, void *ud)
{
    sha_ud *s = ud;
    s->found = 1;
    snprintf(s->sha, sizeof(s->sha), "%s", r->v[0] ? r->v[0] : "");
    return 1;
}

static wk_rc db_fail(wk_db *db, char *err, size_t errsz, const char *what)
{
    snprintf(err, errsz, "%s: mariadb errno=%u", what, db->last_errno);
    if (db->my)
        wk_db_simple(db, "ROLLBACK");
    return wk_db_transient(db) ? WK_TRANSIENT : WK_PERMANENT;
}

/* 1 inserted, 0 already there (same manifest), <0 negated wk_rc */
static int insert_dossier(wk_db *db, const manifest *m, const char *msha, char *err, size_t errsz)
{
    for (int round = 0; round < 2; round++) {
        sha_ud s = { "", 0 };
        wk_param pc[] = { WK_STR(m->code) };
        if (wk_db_exec(db, "SELECT manifest_sha256 FROM dossiers WHERE code = ?", pc, 1,
                       sha_cb, &s, NULL, NULL) != 0)
            return -(int)db_fail(db, err, errsz, "lookup dossier");
        if (s.found) {
            if (strcmp(s.sha, msha) == 0)
                return 0;
            snprintf(err, errsz, "code collision: dossier exists with a different manifest");
            return -(int)WK_PERMANENT;
        }
        long long agency_id, proc_id;
        wk_param pa[] = { WK_STR(m->agency) }, pp[] = { WK_STR(m->procedure) };
        int fa = wk_db_get_ll(db, "SELECT id FROM agencies WHERE code = ?", pa, 1, &agency_id);
        if (fa < 0)
            return -(int)db_fail(db, err, errsz, "lookup agency");
        if (fa == 0) {
            snprintf(err, errsz, "unknown agency");
            return -(int)WK_PERMANENT;
        }
        int fp = wk_db_get_ll(db, "SELECT id FROM procedures WHERE code = ?", pp, 1, &proc_id);
        if (fp < 0)
            return -(int)db_fail(db, err, errsz, "lookup procedure");
        if (fp == 0) {
            snprintf(err, errsz, "unknown procedure");
            return -(int)WK_PERMANENT;
        }
        if (wk_db_simple(db, "START TRANSACTION") != 0)
            return -(int)db_fail(db, err, errsz, "begin");
        char recv[32];
        wk_dbtime_fmt(m->received, recv);
        unsigned long long did = 0;
        wk_param pd[] = {
            WK_STR(m->code), WK_INT(agency_id), WK_STR(m->date), WK_INT(m->seq), WK_INT(proc_id),
            m->applicant_id ? WK_INT(m->applicant_id) : WK_NULLP, WK_STR(m->channel), WK_INT(1), WK_STR(m->a_type), WK_STR(m->a_name), WK_STR(m->a_id),
            WK_STR(m->a_email), WK_STR(m->a_phone), WK_STR(m->form_json), WK_STR(m->result_channel),
            WK_STR(m->postal_json), WK_STR(recv), WK_STR(msha),
        };
        if (wk_db_exec(db,
                       "INSERT INTO dossiers (code, agency_id, seq_date, seq, procedure_id, applicant_id,"
                       " channel, status,"
                       " applicant_type, applicant_name, applicant_identity, applicant_email, applicant_phone,"
                       " form_json, result_channel, postal_address_json, received_at, manifest_sha256)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       pd, 18, NULL, NULL, NULL, &did) != 0) {
            if (db->last_errno == ER_DUP_ENTRY && round == 0) {
                wk_db_simple(db, "ROLLBACK");
                continue;   /* raced with another worker: look again */
            }
            return -(int)db_fail(db, err, errsz, "insert dossier");
        }
        size_t i;
        json_t *f;
        json_array_foreach(m->files, i, f) {
            wk_param pf[] = {
                WK_INT(did), WK_INT(i + 1), WK_STR(opt_str(f, "component")), WK_STR(opt_str(f, "name")),
                WK_INT(json_integer_value(json_object_get(f, "size"))), WK_STR(opt_str(f, "media_type")),
                WK_STR(opt_str(f, "sha256")), WK_STR(opt_str(f, "storage")),
            };
            if (wk_db_exec(db,
                           "INSERT INTO dossier_files (dossier_id, position, component_code, original_name,"
                           " size, media_type, sha256, storage_name) VALUES (?,?,?,?,?,?,?,?)",
                           pf, 8, NULL, NULL, NULL, NULL) != 0)
                return -(int)db_fail(db, err, errsz, "insert file");
        }
        unsigned long long hid = 0;
        wk_param ph[] = { WK_INT(did), WK_INT(1), WK_STR(wk_status_label(1)), WK_STR("system"), WK_STR(recv) };
        if (wk_db_exec(db,
                       "INSERT INTO dossier_history (dossier_id, status, label, note, actor, at, action,"
                       " actor_kind) VALUES (?,?,?,NULL,?,?,'submit','system')", ph, 5, NULL, NULL, NULL, &hid) != 0)
            return -(int)db_fail(db, err, errsz, "insert history");
        if (wk_outbox_add(db, (long long)hid) != 0)     /* item 7: every history entry */
            return -(int)db_fail(db, err, errsz, "insert outbox");
        if (m->pickup && wk_postal_pickup(db, (long long)did, m->received) != 0)   /* X3: pickup order */
            return -(int)db_fail(db, err, errsz, "postal pickup");
        if (wk_db_simple(db, "COMMIT") != 0)
            return -(int)db_fail(db, err, errsz, "commit");
        return 1;
    }
    snprintf(err, errsz, "duplicate key on insert");
    return -(int)WK_PERMANENT;
}

wk_rc wk_ingest(wk_db *db, wk_rds *r, const wk_conf *conf,
                const char *payload, size_t len, char *err, size_t errsz)
{
    err[0] = '\0';
    json_error_t je;
    json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(err, errsz, "manifest is not valid JSON (line %d)", je.line);
        return WK_PERMANENT;
    }
    manifest m;
    wk_rc rc = WK_OK;
    if (parse_manifest(root, &m, err, errsz) != 0) {
        rc = WK_PERMANENT;
        goto out;
    }
    if ((rc = check_files(conf, &m, err, errsz)) != WK_OK)
        goto out;
    if (wk_db_ensure(db) != 0) {
        snprintf(err, errsz, "mariadb unavailable errno=%u", db->last_errno);
        rc = WK_TRANSIENT;
        goto out;
    }
    char msha[65];
    wk_sha256_hex(payload, len, msha);
    int ins = insert_dossier(db, &m, msha, err, errsz);
    if (ins < 0) {
        rc = (wk_rc)(-ins);
        goto out;
    }
    rc = wk_view_publish(db, r, m.code);
    if (rc == WK_OK)
        rc = wk_inbox_place(db, r, m.code);       /* the desk's reception queue */
    if (rc == WK_OK && m.applicant_id)
        rc = wk_applicant_listed(r, m.applicant_id) == 1
             ? wk_applicant_put(db, r, m.applicant_id, m.code)
             : wk_applicant_publish(db, r, m.applicant_id);
    if (rc != WK_OK) {
        snprintf(err, errsz, "view publish failed");
        rc = WK_TRANSIENT;
        goto out;
    }
    /* a failed move only leaves the file to the sweep (a no-op re-ingest) */
    wk_journal_done(conf, m.code, msha);
    wk_info("ingest", "%s code=%s files=%zu", ins == 1 ? "dossier stored" : "dossier already stored",
            m.code, json_array_size(m.files));
out:
    manifest_free(&m);
    json_decref(root);
    return rc;
}
