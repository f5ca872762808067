
/*
 * The "application" part of a submission (DOMAIN A2): validated, then
 * rebuilt from the known fields only, so nothing unexpected reaches the
 * journal or the workers.  Returns NULL when valid, otherwise a stable
 * error code (common/tthc_errors.c) and the offending field.
 *
 *   applicant.identity_number: citizens, the 12-digit citizen identity
 *       card number (9 digits for the old identity card); organisations,
 *       the 10-digit tax code (13 with a branch suffix);
 *   contact: at least one of e-mail and phone (A5 notifications);
 *   result_channel: online, desk or postal, allowed by the procedure, and
 *       postal needs an address (A6, 000 Art.15.2-3);
 *   postal_pickup: optional boolean, the paper dossier picked up by the
 *       postal operator at the postal address (X3), which it then requires.
 */


#include "ngx_tthc_module.h"


static ngx_uint_t
ngx_tthc_str_ok(json_t *v, size_t min, size_t max)
{
    size_t  len;

    if (!json_is_string(v)) {
        return 0;
    }

    len = json_string_length(v);

    return len >= min && len <= max;
}


static ngx_uint_t
ngx_tthc_digits(const char *s, size_t min, size_t max)
{
    size_t  n;

    for (n = 0; s[n]; n++) {
        if (s[n] < '0' || s[n] > '9') {
            return 0;
        }
    }

    return n >= min && n <= max;
}


static ngx_uint_t
ngx_tthc_email_ok(const char *s)
{
    const char  *at;

    at = strchr(s, '@');

    if (at == NULL || at == s || strchr(at + 1, '@') != NULL
        || strchr(at, '.') == NULL || strlen(s) > 254
        || at[strlen(at) - 1] == '.')
    {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if ((unsigned char) *s <= ' ' || *s == '<' || *s == '>' || *s == '"') {
            return 0;
        }
    }

    return 1;
}


static ngx_uint_t
ngx_tthc_phone_ok(const char *s)
{
    if (*s == '+') {
        s++;
    }

    return ngx_tthc_digits(s, 9, 15);
}


static ngx_uint_t
ngx_tthc_channel_allowed(ngx_tthc_procedure_t *pr, const char *ch)
{
    size_t   i;
    json_t  *list;

    list = json_object_get(pr->obj, "result_channels");

    for (i = 0; i < json_array_size(list); i++) {
        if (json_is_string(json_array_get(list, i))
            && ngx_strcmp(json_string_value(json_array_get(list, i)), ch) == 0)
        {
            return 1;
        }
    }

    return 0;
}


const char *
ngx_tthc_application_validate(json_t *in, ngx_tthc_session_t *session,
    ngx_tthc_procedure_t **procp, json_t **outp, const char **field)
{
    json_t                *proc, *ap, *name, *id, *email, *phone, *form,
                          *channel, *addr, *out, *oap, *oaddr, *v, *pickup;
    const char            *t, *ch;
    ngx_tthc_procedure_t  *pr;

    static const char  *addr_fields[] = { "street", "ward", "district",
                                          "province", NULL };
    const char  **af;

    proc = json_object_get(in, "procedure");
    if (!ngx_tthc_str_ok(proc, 1, 64)) {
        *field = "procedure";
        return "INVALID_APPLICATION";
    }

    pr = ngx_tthc_catalogue_find((u_char *) json_string_value(proc),
                                 json_string_length(proc));
    if (pr == NULL
        || ngx_strcmp(json_string_value(json_object_get(pr->obj, "status"))
                      ? json_string_value(json_object_get(pr->obj, "status"))
                      : "active", "retired") == 0)
    {
        *field = "procedure";
        return "UNKNOWN_PROCEDURE";
    }

    /*
     * Who applies comes from the signed-in account (A1: the e-ID verified
     * it), never from the form; the form may only add contact details.
     */

    ap = json_object_get(in, "applicant");
    if (ap && !json_is_null(ap) && !json_is_object(ap)) {
        *field = "applicant";
        return "INVALID_APPLICATION";
    }

    t = ngx_tthc_seg_equal(&session->atype, "organisation")
        ? "organisation" : "citizen";

    email = json_object_get(ap, "email");
    phone = json_object_get(ap, "phone");

    if (email && !json_is_null(email)
        && !(json_is_string(email) && ngx_tthc_email_ok(json_string_value(email))))
    {
        *field = "applicant.email";
        return "INVALID_APPLICATION";
    }

    if (phone && !json_is_null(phone)
        && !(json_is_string(phone) && ngx_tthc_phone_ok(json_string_value(phone))))
    {
        *field = "applicant.phone";
        return "INVALID_APPLICATION";
    }

    if (!json_is_string(email) && !json_is_string(phone)
        && session->email.len == 0 && session->phone.len == 0)
    {
        *field = "applicant.email";
        return "INVALID_APPLICATION";
    }

    form = json_object_get(in, "form");
    if (form && !json_is_object(form)) {
        *field = "form";
        return "INVALID_APPLICATION";
    }

    channel = json_object_get(in, "result_channel");
    ch = json_is_string(channel) ? json_string_value(channel) : "";

    if ((ngx_strcmp(ch, "online") != 0 && ngx_strcmp(ch, "desk") != 0
         && ngx_strcmp(ch, "postal") != 0)
        || !ngx_tthc_channel_allowed(pr, ch))
    {
        *field = "result_channel";
        return "INVALID_APPLICATION";
    }

    addr = json_object_get(in, "postal_address");
    oaddr = NULL;

    /* X3: postal pickup of the paper dossier, at the same postal address */
    pickup = json_object_get(in, "postal_pickup");
    if (pickup && !json_is_null(pickup) && !json_is_boolean(pickup)) {
        *field = "postal_pickup";
        return "INVALID_APPLICATION";
    }

    if (ch[0] == 'p' || json_is_true(pickup)) {
        if (!json_is_object(addr)) {
            *field = "postal_address";
            return "INVALID_APPLICATION";
        }

        oaddr = json_object();

        for (af = addr_fields; *af; af++) {
            v = json_object_get(addr, *af);

            if (v == NULL && ngx_strcmp(*af, "ward") == 0) {
                continue;
            }

            if (!ngx_tthc_str_ok(v, 1, 200)) {
                json_decref(oaddr);
                *field = "postal_address";
                return "INVALID_APPLICATION";
            }

            json_object_set(oaddr, *af, v);
        }
    }

    /* all checked: build the sanitized application */

    email = json_is_string(email) ? json_incref(email)
            : session->email.len ? json_stringn((char *) session->email.data,
                                                session->email.len)
            : NULL;
    phone = json_is_string(phone) ? json_incref(phone)
            : session->phone.len ? json_stringn((char *) session->phone.data,
                                                session->phone.len)
            : NULL;

    name = json_stringn((char *) session->name.data, session->name.len);
    id = json_stringn((char *) session->ident.data, session->ident.len);

    oap = json_pack("{s:s,s:o,s:o}", "type", t, "name", name,
                    "identity_number", id);
    if (oap == NULL) {
        if (email) {
            json_decref(email);
        }

        if (phone) {
            json_decref(phone);
        }

        if (oaddr) {
            json_decref(oaddr);
        }

        return "INTERNAL_ERROR";
    }

    out = json_pack("{s:O,s:o,s:O}", "procedure", proc, "applicant", oap,
                    "result_channel", channel);
    if (out == NULL) {
        if (oaddr) {
            json_decref(oaddr);
        }

        return "INTERNAL_ERROR";
    }

    json_object_set_new(out, "form", form ? json_incref(form) : json_object());

    if (email) {
        json_object_set_new(oap, "email", email);
    }

    if (phone) {
        json_object_set_new(oap, "phone", phone);
    }

    if (oaddr) {
        json_object_set_new(out, "postal_address", oaddr);
    }

    if (json_is_true(pickup)) {
        json_object_set_new(out, "postal_pickup", json_true());   /* X3 */
    }

    *outp = out;
    *procp = pr;

    return NULL;
}
