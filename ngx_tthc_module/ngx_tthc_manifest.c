
/*
 * What a submission leaves behind: the manifest (journal entry and
 * dossier.submitted payload, docs/contracts.md "Manifest") and the
 * provisional public status view, masked (common/tthc_mask.c), shown until
 * a worker writes the authoritative one.
 */


#include "ngx_tthc_submit.h"

#include "tthc_mask.h"
#include "tthc_status.h"
#include "tthc_time.h"


json_t *
ngx_tthc_manifest(ngx_tthc_submit_ctx_t *ctx, unsigned seq)
{
    char              when[32], date[8];
    json_t           *m, *files, *fo;
    ngx_str_t        *uid;
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    tthc_fmt_utc(when, sizeof(when), ctx->received_at);
    ngx_sprintf((u_char *) date, "%02d%02d%02d%Z", ctx->yy, ctx->mm, ctx->dd);

    files = json_array();
    if (files == NULL) {
        return NULL;
    }

    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        fo = json_pack("{s:s%,s:s%,s:I,s:s,s:s,s:s%}",
                       "component", f[i].component.data, f[i].component.len,
                       "name", f[i].name.data, f[i].name.len,
                       "size", (json_int_t) f[i].size,
                       "media_type", f[i].media_type,
                       "sha256", (char *) f[i].sha256,
                       "storage", f[i].storage.data, f[i].storage.len);

        if (fo == NULL || json_array_append_new(files, fo) != 0) {
            json_decref(files);
            return NULL;
        }
    }

    m = json_pack("{s:i,s:s%,s:s%,s:s,s:i,s:s,s:s%,s:s,s:O,s:o,s:s%}",
                  "v", 1,
                  "code", ctx->code.data, ctx->code.len,
                  "agency", ctx->agency.data, ctx->agency.len,
                  "date", date,
                  "seq", (int) seq,
                  "received_at", when,
                  "procedure", ctx->proc->code.data, ctx->proc->code.len,
                  "channel", "online",
                  "application", ctx->application,
                  "files", files,
                  "client_ip", ctx->request->connection->addr_text.data,
                  ctx->request->connection->addr_text.len);

    if (m) {
        /* the account that submitted it (issue 3: "my dossiers") */
        uid = &ngx_tthc_req(ctx->request)->session->uid;
        json_object_set_new(m, "applicant_id",
                            json_integer((json_int_t) ngx_atoof(uid->data,
                                                                uid->len)));
    }

    return m;
}


/* the provisional public view, until a worker writes the real one */

char *
ngx_tthc_provisional_view(ngx_tthc_submit_ctx_t *ctx)
{
    char              when[40], name[800], id[64];
    char             *s;
    json_t           *view, *files, *hist, *ap, *v;
    ngx_uint_t        i;
    ngx_tthc_file_t  *f;

    tthc_fmt_local(when, sizeof(when), ctx->received_at);

    ap = json_object_get(ctx->application, "applicant");

    v = json_object_get(ap, "name");
    tthc_mask_name(json_string_value(v), json_string_length(v), name,
                   sizeof(name));

    v = json_object_get(ap, "identity_number");
    tthc_mask_id(json_string_value(v), json_string_length(v), id, sizeof(id));

    files = json_array();
    f = ctx->files->elts;

    for (i = 0; i < ctx->files->nelts; i++) {
        json_array_append_new(files,
            json_pack("{s:s%,s:s%,s:I}",
                      "component", f[i].component.data, f[i].component.len,
                      "name", f[i].name.data, f[i].name.len,
                      "size", (json_int_t) f[i].size));
    }

    hist = json_pack("[{s:i,s:s,s:s}]", "status", 1,
                     "label", tthc_status_label(1), "at", when);

    view = json_pack("{s:s%,s:{s:i,s:s},s:{s:s%,s:O},s:O,s:s,"
                     "s:{s:s,s:s},s:O,s:o,s:o,s:b}",
                     "code", ctx->code.data, ctx->code.len,
                     "status", "code", 1, "label", tthc_status_label(1),
                     "procedure", "code", ctx->proc->code.data,
                     ctx->proc->code.len,
                     "name", json_object_get(ctx->proc->obj, "name"),
                     "agency", json_object_get(ctx->proc->obj, "agency"),
                     "submitted_at", when,
                     "applicant", "name", name, "identity_number", id,
                     "result_channel",
                     json_object_get(ctx->application, "result_channel"),
                     "files", files,
                     "history", hist,
                     "provisional", 1);

    if (view == NULL) {
        return NULL;
    }

    s = json_dumps(view, JSON_COMPACT|JSON_PRESERVE_ORDER);
    json_decref(view);

    return s;
}
