/* catalogue.c - publish the procedure catalogue to Redis
 * (tthc:{cat}:doc + tthc:{cat}:version, docs/contracts.md "Procedure JSON");
 * the version never repeats, even after Redis lost its data. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump the version to max(current + 1, now in ms) and store the document
 * carrying it, atomically.  The clock part means a Redis that lost its data
 * never hands out a version number an nginx worker may still have cached.
 * (Lua numbers are doubles: exact for ms timestamps; '%d' prints them.) */
static const char LUA_PUBLISH[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0\n"
    "local v = math.max(cur + 1, tonumber(ARGV[2]))\n"
    "local s = string.format('%d', v)\n"
    "redis.call('SET', KEYS[1], s)\n"
    "redis.call('SET', KEYS[2], '{\"version\":' .. s .. ',\"procedures\":' .. ARGV[1] .. '}')\n"
    "return s\n";

typedef struct {
    json_t *list;      /* array of procedures, in order */
    json_t *by_id;     /* id -> procedure object */
} cat_ud;

static json_t *split_list(const char *s)
{
    json_t *a = json_array();
    if (s == NULL)
        return a;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n > 0 && *p == ' ') {
            p++;
            n--;
        }
        while (n > 0 && p[n - 1] == ' ')
            n--;
        if (n > 0)
            json_array_append_new(a, json_stringn(p, n));
        if (!e)
            break;
        p = e + 1;
    }
    return a;
}

static int proc_cb(const wk_row *r, void *ud)
{
    cat_ud *c = ud;
    /* 0 id, 1 code, 2 name, 3 fcode, 4 fname, 5 acode, 6 aname, 7 level, 8 amount, 9 unit, 10 channels */
    size_t n = strlen(r->v[1]) + strlen(r->v[2]) + strlen(r->v[4]) + strlen(r->v[6]) + 4;
    char *src = malloc(n), *fold = malloc(n * 4 + 16);
    if (!src || !fold) {
        free(src);
        free(fold);
        return 1;
    }
    snprintf(src, n, "%s %s %s %s", r->v[1], r->v[2], r->v[4], r->v[6]);
    if (wk_fold(src, strlen(src), fold, n * 4 + 16) != 0)
        fold[0] = '\0';
    json_t *p = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:s, s:{s:I, s:s},"
                          " s:[], s:o, s:[], s:s}",
                          "code", r->v[1], "name", r->v[2],
                          "field", "code", r->v[3], "name", r->v[4],
                          "agency", "code", r->v[5], "name", r->v[6],
                          "online_level", r->v[7],
                          "processing_time", "amount", (json_int_t)strtoll(r->v[8], NULL, 10),
                          "unit", r->v[9],
                          "fees",
                          "result_channels", split_list(r->v[10]),
                          "components",
                          "search", fold);
    free(src);
    free(fold);
    if (p == NULL)
        return 1;
    json_array_append(c->list, p);
    json_object_set_new(c->by_id, r->v[0], p);
    return 0;
}

static int fee_cb(const wk_row *r, void *ud)
{
    cat_ud *c = ud;
    json_t *p = json_object_get(c->by_id, r->v[0]);
    if (p)
        json_array_append_new(json_object_get(p, "fees"),
                              json_pack("{s:s, s:I, s:s}", "name", r->v[1],
                                        "amount", (json_int_t)strtoll(r->v[2], NULL, 10),
                                        "currency", "VND"));
    return 0;
}

static int comp_cb(const wk_row *r, void *ud)
{
    cat_ud *c = ud;
    json_t *p = json_object_get(c->by_id, r->v[0]);
    if (p)
        json_array_append_new(json_object_get(p, "components"),
                              json_pack("{s:s, s:s, s:b, s:I, s:o}", "code", r->v[1],
                                        "name", r->v[2], "required", atoi(r->v[3]) != 0,
                                        "max_size", (json_int_t)strtoll(r->v[4], NULL, 10),
                                        "media_types", split_list(r->v[5])));
    return 0;
}

wk_rc wk_catalogue_publish(wk_db *db, wk_rds *r, long long *version, long *nproc)
{
    cat_ud c = { json_array(), json_object() };
    wk_rc rc = WK_OK;
    if (wk_db_exec(db,
                   "SELECT p.id, p.code, p.name, f.code, f.name, a.code, a.name, p.online_level,"
                   " p.processing_amount, p.processing_unit, p.result_channels"
                   " FROM procedures p JOIN fields f ON f.id = p.field_id"
                   " JOIN agencies a ON a.id = p.agency_id"
                   " WHERE p.status = 'active' ORDER BY p.code",
                   NULL, 0, proc_cb, &c, NULL, NULL) != 0
        || wk_db_exec(db, "SELECT f.procedure_id, f.name, f.amount FROM procedure_fees f"
                          " ORDER BY f.procedure_id, f.id", NULL, 0, fee_cb, &c, NULL, NULL) != 0
        || wk_db_exec(db, "SELECT c.procedure_id, c.code, c.name, c.required, c.max_size, c.media_types"
                          " FROM components c WHERE c.active = 1 ORDER BY c.procedure_id, c.position, c.id",
                      NULL, 0, comp_cb, &c, NULL, NULL) != 0) {
        wk_warn("catalogue", "query failed errno=%u error=\"%s\"", db->last_errno, db->last_error);
        rc = wk_db_transient(db) ? WK_TRANSIENT : WK_PERMANENT;
    }
    char *procs = NULL;
    if (rc == WK_OK && (procs = json_dumps(c.list, JSON_COMPACT)) == NULL)
        rc = WK_PERMANENT;
    if (nproc)
        *nproc = (long)json_array_size(c.list);
    json_decref(c.list);
    json_decref(c.by_id);
    if (rc != WK_OK)
        return rc;
    char now[24];
    snprintf(now, sizeof(now), "%lld", (long long)wk_now_ms());
    const char *argv[] = { "EVAL", LUA_PUBLISH, "2", WK_K_CAT_VERSION, WK_K_CAT_DOC, procs, now };
    redisReply *rep = wk_rds_cmd(r, 7, argv, NULL);
    free(procs);
    if (rep == NULL)
        return WK_TRANSIENT;
    if (rep->type == REDIS_REPLY_STRING) {
        if (version)
            *version = strtoll(rep->str, NULL, 10);
    } else {
        wk_error("catalogue", "publish script failed error=\"%s\"",
                 rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
        rc = WK_TRANSIENT;
    }
    freeReplyObject(rep);
    return rc;
}

int wk_catalogue_missing(wk_rds *r)
{
    redisReply *rep = wk_rds_cmdf(r, "EXISTS %s %s", WK_K_CAT_VERSION, WK_K_CAT_DOC);
    if (rep == NULL)
        return -1;
    int rc = -1;
    if (rep->type == REDIS_REPLY_INTEGER)
        rc = rep->integer < 2;
    freeReplyObject(rep);
    return rc;
}
