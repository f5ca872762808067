/* rpc.c - request/reply jobs of tthc:{jobs}:rpc (docs/contracts-identity.md
 * "RPC"): unseal the payload (libsodium secretbox), drop it past its
 * deadline, dispatch by type, SET the sealed reply at tthc:rpc:{REQID}
 * EX 60 NX.  Never retried nor dead-lettered: a failure is an error reply.
 * Payloads hold passwords, codes and session ids: never logged. */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define REPLY_TTL_S "60"
#define MAX_SEALED  (1u << 20)

char *wk_seal(const unsigned char key[32], const char *msg, size_t len)
{
    size_t blen = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
    unsigned char *box = malloc(blen);
    if (box == NULL)
        return NULL;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, (const unsigned char *)msg, len,
                          box, key);
    size_t olen = sodium_base64_ENCODED_LEN(blen, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(olen);
    if (out)
        sodium_bin2base64(out, olen, box, blen, sodium_base64_VARIANT_ORIGINAL);
    free(box);
    return out;
}

char *wk_unseal(const unsigned char key[32], const char *b64, size_t len, size_t *outlen)
{
    if (len > MAX_SEALED)
        return NULL;
    size_t cap = len / 4 * 3 + 3, blen = 0;
    unsigned char *box = malloc(cap);
    if (box == NULL)
        return NULL;
    if (sodium_base642bin(box, cap, b64, len, NULL, &blen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0
        || blen < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
        free(box);
        return NULL;
    }
    size_t mlen = blen - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    char *msg = malloc(mlen + 1);
    if (msg == NULL
        || crypto_secretbox_open_easy((unsigned char *)msg, box + crypto_secretbox_NONCEBYTES,
                                      blen - crypto_secretbox_NONCEBYTES, box, key) != 0) {
        free(msg);
        free(box);
        return NULL;
    }
    free(box);
    msg[mlen] = '\0';
    if (outlen)
        *outlen = mlen;
    return msg;
}

const char *wk_json_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_t *wk_rpc_error(const char *code, const char *field)
{
    json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", code);
    if (o && field)
        json_object_set_new(o, "field", json_string(field));
    return o;
}

json_t *wk_rpc_db_error(wk_rpc *c, const char *what)
{
    int tr = wk_db_transient(c->db);
    wk_warn("rpc", "mariadb error type=%s reqid=%s at=\"%s\" errno=%u transient=%d",
            c->type, c->reqid, what, c->db->last_errno, tr);
    if (c->db->my)
        wk_db_simple(c->db, "ROLLBACK");
    return wk_rpc_error(tr ? "SERVICE_UNAVAILABLE" : "INTERNAL_ERROR", NULL);
}

typedef json_t *(*rpc_fn)(wk_rpc *c, json_t *req);

static const struct {
    const char *type;
    rpc_fn fn;
} handlers[] = {
    { "auth.eid.exchange", wk_rpc_eid_exchange },
    { "auth.staff.signin", wk_rpc_staff_signin },
    { "staff.accounts.list", wk_rpc_accounts_list },
    { "staff.accounts.create", wk_rpc_accounts_create },
    { "staff.accounts.update", wk_rpc_accounts_update },
    { "staff.action", wk_rpc_staff_action },
    { "staff.actions.batch", wk_rpc_staff_batch },
    { "staff.register", wk_rpc_staff_register },
    { "staff.process.get", wk_rpc_process_get },
    { "staff.process.put", wk_rpc_process_put },
    { "me.action", wk_rpc_me_action },
    { "me.payment.start", wk_rpc_me_payment_start },                 /* A8 */
    { "partner.payment.voucher", wk_rpc_partner_payment_voucher },   /* A8 */
    { "partner.postal.tracking", wk_rpc_postal_tracking },   /* X3 */
};

static int reqid_valid(const char *s)
{
    if (s == NULL || strlen(s) != 32)
        return 0;
    for (int i = 0; i < 32; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

static void send_reply(wk_rds *r, const wk_conf *conf, const char *reqid, json_t *reply)
{
    char *js = json_dumps(reply, JSON_COMPACT);
    char *sealed = js ? wk_seal(conf->rpc_key, js, strlen(js)) : NULL;
    if (js) {
        sodium_memzero(js, strlen(js));   /* may hold a session id */
        free(js);
    }
    if (sealed == NULL) {
        wk_error("rpc", "cannot seal reply reqid=%s", reqid);
        return;
    }
    char key[64];
    snprintf(key, sizeof(key), "tthc:rpc:{%s}", reqid);
    const char *argv[] = { "SET", key, sealed, "EX", REPLY_TTL_S, "NX" };
    for (int attempt = 0; attempt < 3; attempt++) {
        redisReply *rep = wk_rds_cmd(r, 6, argv, NULL);
        if (rep != NULL) {
            if (rep->type == REDIS_REPLY_ERROR)
                wk_error("rpc", "reply SET failed reqid=%s error=\"%s\"", reqid, rep->str);
            freeReplyObject(rep);
            break;
        }
        wk_sleep_ms(50);
    }
    free(sealed);
}

void wk_rpc_process(wk_db *db, wk_rds *r, wk_conf *conf, const wk_job *j)
{
    int64_t t0 = wk_now_ms();
    const char *type = j->type ? j->type : "";
    if (!reqid_valid(j->key)) {
        wk_warn("rpc", "request without a valid reqid dropped id=%s type=%s", j->id, type);
        return;
    }
    if (!conf->rpc_key_ok) {
        char err[600];
        if (wk_conf_load_secrets(conf, err, sizeof(err)) != 0 && !conf->rpc_key_ok) {
            wk_error("rpc", "no rpc key, request dropped reqid=%s error=\"%s\"", j->key, err);
            return;
        }
    }
    size_t plen = 0;
    char *plain = j->payload ? wk_unseal(conf->rpc_key, j->payload, j->payload_len, &plen) : NULL;
    json_t *req = NULL, *reply = NULL;
    const char *result = "ok";
    if (plain == NULL) {
        wk_warn("rpc", "request does not unseal reqid=%s type=%s", j->key, type);
        reply = wk_rpc_error("INTERNAL_ERROR", NULL);
        result = "unseal";
        goto send;
    }
    json_error_t je;
    req = json_loadb(plain, plen, JSON_REJECT_DUPLICATES, &je);
    sodium_memzero(plain, plen);
    free(plain);
    if (!json_is_object(req)) {
        wk_warn("rpc", "request is not a JSON object reqid=%s type=%s", j->key, type);
        reply = wk_rpc_error("INTERNAL_ERROR", NULL);
        result = "json";
        goto send;
    }
    json_t *dl = json_object_get(req, "deadline");
    if (!json_is_integer(dl) || json_integer_value(dl) < t0) {
        /* nobody waits for the answer any more: do not run it */
        wk_info("rpc", "request past its deadline dropped reqid=%s type=%s late_ms=%lld", j->key,
                type, json_is_integer(dl) ? (long long)(t0 - json_integer_value(dl)) : -1LL);
        json_decref(req);
        return;
    }
    wk_rpc c = { db, r, conf, j->key, type, "" };
    const char *ip = wk_json_str(req, "ip");
    if (ip == NULL)
        ip = wk_json_str(json_object_get(req, "actor"), "ip");
    snprintf(c.ip, sizeof(c.ip), "%s", ip ? ip : "");
    rpc_fn fn = NULL;
    for (size_t i = 0; i < sizeof(handlers) / sizeof(handlers[0]); i++)
        if (!strcmp(handlers[i].type, type))
            fn = handlers[i].fn;
    if (fn == NULL) {
        wk_warn("rpc", "unknown request type reqid=%s type=%s", j->key, type);
        reply = wk_rpc_error("INTERNAL_ERROR", NULL);
        result = "unknown type";
        goto send;
    }
    if (wk_db_ensure(db) != 0) {
        wk_warn("rpc", "mariadb unavailable reqid=%s type=%s errno=%u", j->key, type, db->last_errno);
        reply = wk_rpc_error("SERVICE_UNAVAILABLE", NULL);
        goto send;
    }
    reply = fn(&c, req);
    if (reply == NULL)
        reply = wk_rpc_error("INTERNAL_ERROR", NULL);
send:
    if (json_is_false(json_object_get(reply, "ok")))
        result = wk_json_str(reply, "error");
    send_reply(r, conf, j->key, reply);
    wk_info("rpc", "request done reqid=%s type=%s result=%s ms=%lld", j->key, type,
            result ? result : "-", (long long)(wk_now_ms() - t0));
    json_decref(reply);
    json_decref(req);
}
