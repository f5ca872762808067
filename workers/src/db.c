/* db.c - MariaDB Connector/C helpers: connect, prepared statements, scripts. */
#include "wk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errmsg.h>
#include <mysqld_error.h>

void wk_db_init(wk_db *db, const wk_conf *conf)
{
    memset(db, 0, sizeof(*db));
    db->conf = conf;
}

static void set_err(wk_db *db, unsigned no, const char *msg)
{
    db->last_errno = no;
    snprintf(db->last_error, sizeof(db->last_error), "%s", msg ? msg : "");
}

void wk_db_close(wk_db *db)
{
    if (db->my) {
        mysql_close(db->my);
        db->my = NULL;
    }
}

int wk_db_connect(wk_db *db)
{
    wk_db_close(db);
    MYSQL *my = mysql_init(NULL);
    if (my == NULL) {
        set_err(db, CR_OUT_OF_MEMORY, "mysql_init failed");
        return -1;
    }
    unsigned int ct = 5, rt = 60, wt = 60;
    mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &wt);
    mysql_options(my, MYSQL_INIT_COMMAND,
                  "SET time_zone='+00:00', NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
    const wk_conf *c = db->conf;
    if (mysql_real_connect(my, NULL, c->mysql_user,
                           c->mysql_password[0] ? c->mysql_password : NULL,
                           c->mysql_database, 0, c->mysql_socket,
                           CLIENT_MULTI_RESULTS) == NULL) {
        set_err(db, mysql_errno(my), mysql_error(my));
        mysql_close(my);
        return -1;
    }
    db->my = my;
    set_err(db, 0, "");
    return 0;
}

int wk_db_ensure(wk_db *db)
{
    if (db->my != NULL) {
        if (mysql_ping(db->my) == 0)
            return 0;
        set_err(db, mysql_errno(db->my), mysql_error(db->my));
        wk_db_close(db);
    }
    return wk_db_connect(db);
}

static int transient_errno(unsigned e)
{
    switch (e) {
    case CR_CONNECTION_ERROR:       /* 2002 */
    case CR_CONN_HOST_ERROR:        /* 2003 */
    case CR_SERVER_GONE_ERROR:      /* 2006 */
    case CR_SERVER_LOST:            /* 2013 */
    case CR_COMMANDS_OUT_OF_SYNC:   /* 2014 */
    case CR_SERVER_LOST_EXTENDED:   /* 2055 */
    case CR_OUT_OF_MEMORY:
    case ER_CON_COUNT_ERROR:        /* 1040 */
    case ER_SERVER_SHUTDOWN:        /* 1053 */
    case ER_LOCK_WAIT_TIMEOUT:      /* 1205 */
    case ER_LOCK_DEADLOCK:          /* 1213 */
    case ER_QUERY_INTERRUPTED:      /* 1317 */
    case ER_OPTION_PREVENTS_STATEMENT: /* 1290 read-only */
    case 1927:                      /* ER_CONNECTION_KILLED */
    case 4031:                      /* client idle timeout */
        return 1;
    default:
        return 0;
    }
}

int wk_db_transient(const wk_db *db)
{
    return db->my == NULL || transient_errno(db->last_errno);
}

static int fail_stmt(wk_db *db, MYSQL_STMT *st)
{
    set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
    mysql_stmt_close(st);
    if (transient_errno(db->last_errno) && db->last_errno != ER_LOCK_DEADLOCK
        && db->last_errno != ER_LOCK_WAIT_TIMEOUT)
        wk_db_close(db);
    return -1;
}

int wk_db_exec(wk_db *db, const char *sql, const wk_param *p, unsigned np,
               wk_row_cb cb, void *ud, unsigned long long *affected,
               unsigned long long *insert_id)
{
    if (db->my == NULL && wk_db_connect(db) != 0)
        return -1;
    MYSQL_STMT *st = mysql_stmt_init(db->my);
    if (st == NULL) {
        set_err(db, mysql_errno(db->my), mysql_error(db->my));
        return -1;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
        return fail_stmt(db, st);
    if (mysql_stmt_param_count(st) != np) {
        mysql_stmt_close(st);
        set_err(db, 0, "parameter count mismatch");
        return -1;
    }
    MYSQL_BIND pb[np ? np : 1];
    unsigned long plen[np ? np : 1];
    long long pint[np ? np : 1];
    memset(pb, 0, sizeof(pb));
    for (unsigned i = 0; i < np; i++) {
        switch (p[i].type) {
        case WK_P_STR:
            plen[i] = p[i].len == (size_t)-1 ? strlen(p[i].s) : p[i].len;
            pb[i].buffer_type = MYSQL_TYPE_STRING;
            pb[i].buffer = (void *)p[i].s;
            pb[i].buffer_length = plen[i];
            pb[i].length = &plen[i];
            break;
        case WK_P_INT:
            pint[i] = p[i].i;
            pb[i].buffer_type = MYSQL_TYPE_LONGLONG;
            pb[i].buffer = &pint[i];
            break;
        default:
            pb[i].buffer_type = MYSQL_TYPE_NULL;
            break;
        }
    }
    if (np && mysql_stmt_bind_param(st, pb) != 0)
        return fail_stmt(db, st);
    if (mysql_stmt_execute(st) != 0)
        return fail_stmt(db, st);
    if (affected)
        *affected = mysql_stmt_affected_rows(st);
    if (insert_id)
        *insert_id = mysql_stmt_insert_id(st);

    unsigned nf = mysql_stmt_field_count(st);
    if (nf == 0) {
        mysql_stmt_close(st);
        return 0;
    }
    my_bool upd = 1;
    mysql_stmt_attr_set(st, STMT_ATTR_UPDATE_MAX_LENGTH, &upd);
    if (mysql_stmt_store_result(st) != 0)
        return fail_stmt(db, st);
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    MYSQL_FIELD *fields = meta ? mysql_fetch_fields(meta) : NULL;
    MYSQL_BIND *rb = calloc(nf, sizeof(*rb));
    char **v = calloc(nf, sizeof(*v));
    char **bufs = calloc(nf, sizeof(*bufs));
    unsigned long *len = calloc(nf, sizeof(*len));
    my_bool *isnull = calloc(nf, sizeof(*isnull));
    int rc = 0;
    if (!rb || !v || !bufs || !len || !isnull) {
        set_err(db, CR_OUT_OF_MEMORY, "out of memory");
        rc = -1;
        goto done;
    }
    for (unsigned i = 0; i < nf; i++) {
        unsigned long cap = fields ? fields[i].max_length : 0;
        if (cap < 64)
            cap = 64;
        bufs[i] = malloc(cap + 1);
        if (bufs[i] == NULL) {
            set_err(db, CR_OUT_OF_MEMORY, "out of memory");
            rc = -1;
            goto done;
        }
        rb[i].buffer_type = MYSQL_TYPE_STRING;
        rb[i].buffer = bufs[i];
        rb[i].buffer_length = cap + 1;
        rb[i].length = &len[i];
        rb[i].is_null = &isnull[i];
    }
    if (mysql_stmt_bind_result(st, rb) != 0) {
        set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
        rc = -1;
        goto done;
    }
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA)
            break;
        if (f == 1) {
            set_err(db, mysql_stmt_errno(st), mysql_stmt_error(st));
            rc = -1;
            break;
        }
        if (f == MYSQL_DATA_TRUNCATED) {
            for (unsigned i = 0; i < nf; i++) {
                if (isnull[i] || len[i] < rb[i].buffer_length)
                    continue;
                char *nb = realloc(bufs[i], len[i] + 1);
                if (nb == NULL) {
                    rc = -1;
                    break;
                }
                bufs[i] = nb;
                rb[i].buffer = nb;
                rb[i].buffer_length = len[i] + 1;
                if (mysql_stmt_fetch_column(st, &rb[i], i, 0) != 0) {
                    rc = -1;
                    break;
                }
            }
            if (rc != 0) {
                set_err(db, CR_OUT_OF_MEMORY, "fetch of a long column failed");
                break;
            }
            mysql_stmt_bind_result(st, rb);
        }
        for (unsigned i = 0; i < nf; i++) {
            if (isnull[i]) {
                v[i] = NULL;
            } else {
                bufs[i][len[i] < rb[i].buffer_length ? len[i] : rb[i].buffer_length - 1] = '\0';
                v[i] = bufs[i];
            }
        }
        wk_row row = { nf, v, len };
        if (cb && cb(&row, ud) != 0)
            break;
    }
done:
    if (meta)
        mysql_free_result(meta);
    if (bufs)
        for (unsigned i = 0; i < nf; i++)
            free(bufs[i]);
    free(bufs);
    free(rb);
    free(v);
    free(len);
    free(isnull);
    mysql_stmt_free_result(st);
    mysql_stmt_close(st);
    return rc;
}

int wk_db_simple(wk_db *db, const char *sql)
{
    if (db->my == NULL && wk_db_connect(db) != 0)
        return -1;
    if (mysql_real_query(db->my, sql, strlen(sql)) != 0) {
        set_err(db, mysql_errno(db->my), mysql_error(db->my));
        if (transient_errno(db->last_errno) && db->last_errno != ER_LOCK_DEADLOCK
            && db->last_errno != ER_LOCK_WAIT_TIMEOUT)
            wk_db_close(db);
        return -1;
    }
    MYSQL_RES *res = mysql_store_result(db->my);
    if (res)
        mysql_free_result(res);
    return 0;
}

int wk_db_multi(wk_db *db, const char *sql, size_t len)
{
    if (db->my == NULL && wk_db_connect(db) != 0)
        return -1;
    if (mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_ON) != 0) {
        set_err(db, mysql_errno(db->my), mysql_error(db->my));
        return -1;
    }
    int rc = 0;
    if (mysql_real_query(db->my, sql, len) != 0) {
        rc = -1;
    } else {
        for (;;) {
            MYSQL_RES *res = mysql_store_result(db->my);
            if (res)
                mysql_free_result(res);
            int n = mysql_next_result(db->my);
            if (n == -1)
                break;
            if (n > 0) {
                rc = -1;
                break;
            }
        }
    }
    if (rc != 0)
        set_err(db, mysql_errno(db->my), mysql_error(db->my));
    if (db->my)
        mysql_set_server_option(db->my, MYSQL_OPTION_MULTI_STATEMENTS_OFF);
    if (rc != 0 && transient_errno(db->last_errno))
        wk_db_close(db);
    return rc;
}

typedef struct { long long v; int found; } ll_ud;

static int ll_cb(const wk_row *row, void *ud)
{
    ll_ud *u = ud;
    if (row->n > 0 && row->v[0] != NULL) {
        u->v = strtoll(row->v[0], NULL, 10);
        u->found = 1;
    }
    return 1;
}

int wk_db_get_ll(wk_db *db, const char *sql, const wk_param *p, unsigned np, long long *out)
{
    ll_ud u = { 0, 0 };
    if (wk_db_exec(db, sql, p, np, ll_cb, &u, NULL, NULL) != 0)
        return -1;
    if (u.found)
        *out = u.v;
    return u.found;
}
