
/*
 * The upload store (docs/contracts.md "var/ layout"):
 *
 *   STORE/tmp/<random>                 a part being received
 *   STORE/files/ab/cd/<sha256>         stored files: immutable, named by
 *                                      content hash, never by user input
 *   STORE/journal/<code>.json          accepted-submission journal
 *
 * Part files are written from the event loop as data arrives (as nginx
 * writes its own client body temp files).  Everything that must be durable
 * before the 202 (fsync of the files, link into files/, the journal entry
 * and the directories) runs as one task in nginx's thread pool, so the
 * event loop never waits on the disk's flush.
 */


#include "ngx_tthc_module.h"

#include <sodium.h>


typedef struct {
    /* in */
    ngx_str_t                   store;
    ngx_tthc_file_t            *files;
    ngx_uint_t                  nfiles;
    ngx_str_t                   code;
    ngx_str_t                   manifest;
    /* out */
    ngx_err_t                   err;
    ngx_uint_t                  collision;
    const char                 *what;
} ngx_tthc_commit_t;


typedef struct {
    ngx_http_request_t         *request;
    ngx_tthc_store_done_pt      done;
    ngx_tthc_commit_t          *commit;
} ngx_tthc_commit_ctx_t;


ngx_int_t
ngx_tthc_store_open_tmp(ngx_http_request_t *r, ngx_tthc_file_t *f)
{
    u_char                 rnd[16], hex[33];
    ngx_tthc_main_conf_t  *mcf;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex((char *) hex, sizeof(hex), rnd, sizeof(rnd));

    if (mcf->store.len + sizeof("/tmp/") + 32 >= NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    ngx_sprintf(f->tmp_path, "%V/tmp/%s%Z", &mcf->store, hex);

    f->fd = open((char *) f->tmp_path, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC,
                 0640);

    if (f->fd == NGX_INVALID_FILE) {
        ngx_log_error(NGX_LOG_CRIT, r->connection->log, ngx_errno,
                      "tthc store: open(\"%s\") failed", f->tmp_path);
        f->tmp_path[0] = '\0';
        return NGX_ERROR;
    }

    return NGX_OK;
}


/* every error path: no part file is left behind */

void
ngx_tthc_store_discard(ngx_tthc_file_t *f)
{
    if (f->fd != NGX_INVALID_FILE) {
        (void) close(f->fd);
        f->fd = NGX_INVALID_FILE;
    }

    if (f->tmp_path[0]) {
        (void) unlink((char *) f->tmp_path);
        f->tmp_path[0] = '\0';
    }
}


/* the thread-pool part: no nginx allocations, no logging, only syscalls */

static ngx_int_t
ngx_tthc_fsync_path(const char *path, int flags)
{
    int  fd, rc;

    fd = open(path, flags|O_CLOEXEC);
    if (fd == -1) {
        return NGX_ERROR;
    }

    rc = fsync(fd);
    (void) close(fd);

    return rc == 0 ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_tthc_mkdir(const char *path)
{
    if (mkdir(path, 0750) == 0 || errno == EEXIST) {
        return NGX_OK;
    }

    return NGX_ERROR;
}


static void
ngx_tthc_commit_thread(void *data, ngx_log_t *log)
{
    ngx_tthc_commit_t  *cm = data;

    int               fd;
    char              path[NGX_MAX_PATH], dir[NGX_MAX_PATH],
                      tmp[NGX_MAX_PATH];
    ssize_t           n;
    size_t            off;
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    cm->err = 0;
    cm->collision = 0;

    for (i = 0; i < cm->nfiles; i++) {
        f = &cm->files[i];

        if (f->tmp_path[0] == '\0') {
            continue;                       /* linked by an earlier attempt */
        }

        cm->what = "fsync part";
        if (ngx_tthc_fsync_path((char *) f->tmp_path, O_RDONLY) != NGX_OK) {
            goto failed;
        }

        cm->what = "mkdir";
        ngx_sprintf((u_char *) dir, "%V/files/%*s%Z", &cm->store,
                    (size_t) 2, f->sha256);
        if (ngx_tthc_mkdir(dir) != NGX_OK) {
            goto failed;
        }

        ngx_sprintf((u_char *) dir, "%V/files/%*s/%*s%Z", &cm->store,
                    (size_t) 2, f->sha256, (size_t) 2, f->sha256 + 2);
        if (ngx_tthc_mkdir(dir) != NGX_OK) {
            goto failed;
        }

        ngx_sprintf((u_char *) path, "%s/%s%Z", dir, f->sha256);

        /* same name means same content: an existing file is the same file */

        cm->what = "link";
        if (link((char *) f->tmp_path, path) != 0 && errno != EEXIST) {
            goto failed;
        }

        (void) unlink((char *) f->tmp_path);
        f->tmp_path[0] = '\0';

        cm->what = "fsync dir";
        if (ngx_tthc_fsync_path(dir, O_RDONLY|O_DIRECTORY) != NGX_OK) {
            goto failed;
        }
    }

    if (cm->code.len == 0) {
        return;                             /* files only, no journal entry */
    }

    ngx_sprintf((u_char *) dir, "%V/journal%Z", &cm->store);
    ngx_sprintf((u_char *) tmp, "%V/tmp/%V.journal%Z", &cm->store, &cm->code);
    ngx_sprintf((u_char *) path, "%V/journal/%V.json%Z", &cm->store,
                &cm->code);

    cm->what = "open journal";
    fd = open(tmp, O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0640);
    if (fd == -1) {
        goto failed;
    }

    cm->what = "write journal";

    for (off = 0; off < cm->manifest.len; off += n) {
        n = write(fd, cm->manifest.data + off, cm->manifest.len - off);
        if (n <= 0) {
            if (n == -1 && errno == EINTR) {
                n = 0;
                continue;
            }

            cm->err = (n == 0) ? NGX_ENOSPC : errno;
            (void) close(fd);
            (void) unlink(tmp);
            return;
        }
    }

    cm->what = "fsync journal";
    if (fsync(fd) != 0) {
        cm->err = errno;
        (void) close(fd);
        (void) unlink(tmp);
        return;
    }

    (void) close(fd);

    /*
     * The journal entry claims the code: link() never replaces an entry,
     * and an entry the workers have ingested lives on in journal/done/ (or
     * journal/failed/): rename keeps it in exactly one place at any instant.
     * A clash means Redis handed out a code twice (it lost writes): the
     * caller takes the next number.
     */

    cm->what = "link journal";
    if (link(tmp, path) != 0) {
        cm->err = errno;
        (void) unlink(tmp);

        if (cm->err == EEXIST) {
            cm->collision = 1;
        }

        return;
    }

    (void) unlink(tmp);

    /* ingested (done/) or parked for an operator (failed/): taken too */

    ngx_sprintf((u_char *) tmp, "%V/journal/done/%V.json%Z", &cm->store,
                &cm->code);
    ngx_sprintf((u_char *) dir, "%V/journal/failed/%V.json%Z", &cm->store,
                &cm->code);

    if (access(tmp, F_OK) == 0 || access(dir, F_OK) == 0) {
        (void) unlink(path);
        cm->err = EEXIST;
        cm->collision = 1;
        return;
    }

    ngx_sprintf((u_char *) dir, "%V/journal%Z", &cm->store);

    cm->what = "fsync journal dir";
    if (ngx_tthc_fsync_path(dir, O_RDONLY|O_DIRECTORY) != NGX_OK) {
        goto failed;
    }

    return;

failed:

    cm->err = errno ? errno : EIO;
}


static void
ngx_tthc_commit_done(ngx_event_t *ev)
{
    ngx_tthc_commit_ctx_t  *ctx = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ctx->request;
    c = r->connection;

    r->main->blocked--;
    r->aio = 0;

    if (ctx->commit->collision) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "tthc store: dossier code %V already taken "
                      "(Redis sequence behind the journal)",
                      &ctx->commit->code);

        ctx->done(r, NGX_DECLINED);

    } else if (ctx->commit->err) {
        ngx_log_error(NGX_LOG_CRIT, c->log, ctx->commit->err,
                      "tthc store: %s failed for %s%V",
                      ctx->commit->what,
                      ctx->commit->code.len ? "dossier " : "an upload",
                      &ctx->commit->code);

        ctx->done(r, NGX_ERROR);

    } else {
        ctx->done(r, NGX_OK);
    }

    ngx_http_run_posted_requests(c);
}


/*
 * Makes the parts and the journal entry durable.  done(r, rc) is called
 * from the event loop when the task ends, with NGX_OK, NGX_DECLINED (the
 * code is already taken) or NGX_ERROR; the request is kept
 * alive meanwhile (r->main->blocked), even if the client goes away.
 */

ngx_int_t
ngx_tthc_store_commit(ngx_http_request_t *r, ngx_array_t *files,
    ngx_str_t *code, ngx_str_t *manifest, ngx_tthc_store_done_pt done)
{
    ngx_thread_task_t      *task;
    ngx_tthc_commit_t      *cm;
    ngx_tthc_main_conf_t   *mcf;
    ngx_tthc_commit_ctx_t  *ctx;

    mcf = ngx_http_get_module_main_conf(r, ngx_tthc_module);

    if (mcf->store.len + code->len + 64 + 128 >= NGX_MAX_PATH) {
        return NGX_ERROR;
    }

    ctx = ngx_palloc(r->pool, sizeof(ngx_tthc_commit_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_tthc_commit_t));
    if (task == NULL) {
        return NGX_ERROR;
    }

    cm = task->ctx;
    cm->store = mcf->store;
    cm->files = files->elts;
    cm->nfiles = files->nelts;
    cm->code = *code;
    cm->manifest = *manifest;

    ctx->request = r;
    ctx->done = done;
    ctx->commit = cm;

    task->handler = ngx_tthc_commit_thread;
    task->event.handler = ngx_tthc_commit_done;
    task->event.data = ctx;

    if (ngx_thread_task_post(mcf->thread_pool, task) != NGX_OK) {
        return NGX_ERROR;
    }

    r->main->blocked++;
    r->aio = 1;

    return NGX_OK;
}


/*
 * Files alone, without a journal entry (POST /api/v1/files: an upload that
 * an action attaches later): each is fsync'ed and linked into files/ in the
 * thread pool; done(r, NGX_OK | NGX_ERROR) as above.
 */

ngx_int_t
ngx_tthc_store_commit_files(ngx_http_request_t *r, ngx_array_t *files,
    ngx_tthc_store_done_pt done)
{
    ngx_str_t  none = ngx_null_string;

    return ngx_tthc_store_commit(r, files, &none, &none, done);
}
