/* conf.c - tthc.conf parser ("key = value", '#' comments). */
#include "wk.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int set_str(char *dst, size_t dstsz, const char *v)
{
    if (strlen(v) >= dstsz)
        return -1;
    strcpy(dst, v);
    return 0;
}

static int set_long(long *dst, const char *v)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || x < 0)
        return -1;
    *dst = x;
    return 0;
}

static int read_secret(const char *file, char *out, size_t outsz, char *err, size_t errsz)
{
    char *buf = NULL;
    size_t len = 0;
    if (wk_read_file(file, &buf, &len) != 0) {
        snprintf(err, errsz, "cannot read secret file %s: %s", file, strerror(errno));
        return -1;
    }
    char *nl = strpbrk(buf, "\r\n");
    if (nl)
        *nl = '\0';
    if (strlen(buf) >= outsz) {
        free(buf);
        snprintf(err, errsz, "secret file %s too long", file);
        return -1;
    }
    strcpy(out, buf);
    memset(buf, 0, len);
    free(buf);
    return 0;
}

/* DIR/name where DIR is the directory of the config file */
static int conf_dir_file(const wk_conf *c, const char *name, char *out, size_t outsz)
{
    const char *slash = strrchr(c->path, '/');
    int n = slash ? snprintf(out, outsz, "%.*s/%s", (int)(slash - c->path), c->path, name)
                  : snprintf(out, outsz, "%s", name);
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

int wk_conf_load_secrets(wk_conf *c, char *err, size_t errsz)
{
    int rc = 0;
    char *buf = NULL;
    size_t len = 0;
    err[0] = '\0';
    if (wk_read_file(c->rpc_key_file, &buf, &len) != 0) {
        snprintf(err, errsz, "cannot read rpc_key_file %s: %s", c->rpc_key_file, strerror(errno));
        rc = -1;
    } else if (len != sizeof(c->rpc_key)) {
        snprintf(err, errsz, "rpc_key_file %s must hold exactly 32 bytes", c->rpc_key_file);
        rc = -1;
    } else {
        memcpy(c->rpc_key, buf, sizeof(c->rpc_key));
        c->rpc_key_ok = 1;
    }
    if (buf) {
        memset(buf, 0, len);
        free(buf);
    }
    /* the client secret is optional (a public client with PKCE only) */
    c->eid_client_secret[0] = '\0';
    if (access(c->eid_client_secret_file, F_OK) == 0) {
        char e2[256];
        if (read_secret(c->eid_client_secret_file, c->eid_client_secret,
                        sizeof(c->eid_client_secret), e2, sizeof(e2)) != 0 && rc == 0) {
            snprintf(err, errsz, "%s", e2);
            rc = -1;
        }
    }
    /* partner secrets: optional, each only when its file exists */
    struct { const char *file; char *out; size_t sz; } ps[] = {
        { c->portal_token_file, c->portal_token, sizeof(c->portal_token) },
        { c->postal_token_file, c->postal_token, sizeof(c->postal_token) },
        { c->postal_hmac_secret_file, c->postal_hmac_secret, sizeof(c->postal_hmac_secret) },
        { c->payment_token_file, c->payment_token, sizeof(c->payment_token) },
    };
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        char e2[256];
        ps[i].out[0] = '\0';
        if (ps[i].file[0] && access(ps[i].file, F_OK) == 0
            && read_secret(ps[i].file, ps[i].out, ps[i].sz, e2, sizeof(e2)) != 0 && rc == 0) {
            snprintf(err, errsz, "%s", e2);
            rc = -1;
        }
    }
    c->payment_pubkey_ok = 0;
    if (c->payment_pubkey_file[0] && access(c->payment_pubkey_file, F_OK) == 0) {
        char hex[80], e2[256];
        size_t bl = 0;
        if (read_secret(c->payment_pubkey_file, hex, sizeof(hex), e2, sizeof(e2)) != 0
            || sodium_hex2bin(c->payment_pubkey, sizeof(c->payment_pubkey), hex, strlen(hex),
                              NULL, &bl, NULL) != 0 || bl != sizeof(c->payment_pubkey)) {
            if (rc == 0) {
                snprintf(err, errsz, "payment_pubkey_file %s must hold 64 hex digits", c->payment_pubkey_file);
                rc = -1;
            }
        } else {
            c->payment_pubkey_ok = 1;
        }
    }
    return rc;
}

int wk_conf_load(wk_conf *c, const char *file, char *err, size_t errsz)
{
    memset(c, 0, sizeof(*c));
    c->visibility_ms = 30000;
    c->max_attempts = 8;
    c->backoff_base_ms = 500;
    c->reconcile_interval_ms = 5000;
    c->journal_grace_ms = 5000;
    c->journal_orphan_ms = 30000;
    c->log_level = WK_LOG_INFO;
    strcpy(c->mysql_user, "tthc");
    strcpy(c->mysql_database, "tthc");
    strcpy(c->eid_client_id, "tthc");
    c->session_idle_s = 1800;
    c->session_abs_s = 43200;
    c->staff_lockout_failures = 5;
    c->staff_lockout_s = 900;
    c->rpc_claim_idle_ms = 15000;
    c->outbox_max_attempts = 60;
    c->outbox_backoff_base_ms = 1000;
    c->outbox_backoff_max_ms = 300000;
    c->outbox_lease_ms = 30000;
    c->outbox_http_timeout_ms = 10000;
    c->outbox_concurrency = 1;

    if (file == NULL || *file == '\0')
        file = getenv("TTHC_CONF");
    if (file == NULL || *file == '\0') {
        snprintf(err, errsz, "no config: use -c FILE or set TTHC_CONF");
        return -1;
    }
    if (set_str(c->path, sizeof(c->path), file) != 0) {
        snprintf(err, errsz, "config path too long");
        return -1;
    }
    FILE *f = fopen(file, "r");
    if (f == NULL) {
        snprintf(err, errsz, "cannot open config %s: %s", file, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, errsz, "%s:%d: expected key = value", file, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int bad = 0;
        if (!strcmp(k, "redis")) bad = set_str(c->redis, sizeof(c->redis), v);
        else if (!strcmp(k, "mysql_socket")) bad = set_str(c->mysql_socket, sizeof(c->mysql_socket), v);
        else if (!strcmp(k, "mysql_user")) bad = set_str(c->mysql_user, sizeof(c->mysql_user), v);
        else if (!strcmp(k, "mysql_password_file")) bad = set_str(c->mysql_password_file, sizeof(c->mysql_password_file), v);
        else if (!strcmp(k, "mysql_database")) bad = set_str(c->mysql_database, sizeof(c->mysql_database), v);
        else if (!strcmp(k, "store")) bad = set_str(c->store, sizeof(c->store), v);
        else if (!strcmp(k, "worker_visibility_ms")) bad = set_long(&c->visibility_ms, v);
        else if (!strcmp(k, "worker_max_attempts")) bad = set_long(&c->max_attempts, v);
        else if (!strcmp(k, "worker_backoff_base_ms")) bad = set_long(&c->backoff_base_ms, v);
        else if (!strcmp(k, "reconcile_interval_ms")) bad = set_long(&c->reconcile_interval_ms, v);
        else if (!strcmp(k, "journal_grace_ms")) bad = set_long(&c->journal_grace_ms, v);
        else if (!strcmp(k, "journal_orphan_ms")) bad = set_long(&c->journal_orphan_ms, v);
        else if (!strcmp(k, "rpc_key_file")) bad = set_str(c->rpc_key_file, sizeof(c->rpc_key_file), v);
        else if (!strcmp(k, "eid_issuer")) bad = set_str(c->eid_issuer, sizeof(c->eid_issuer), v);
        else if (!strcmp(k, "eid_token_url")) bad = set_str(c->eid_token_url, sizeof(c->eid_token_url), v);
        else if (!strcmp(k, "eid_jwks_url")) bad = set_str(c->eid_jwks_url, sizeof(c->eid_jwks_url), v);
        else if (!strcmp(k, "eid_client_id")) bad = set_str(c->eid_client_id, sizeof(c->eid_client_id), v);
        else if (!strcmp(k, "eid_client_secret_file")) bad = set_str(c->eid_client_secret_file, sizeof(c->eid_client_secret_file), v);
        else if (!strcmp(k, "eid_redirect_uri")) bad = set_str(c->eid_redirect_uri, sizeof(c->eid_redirect_uri), v);
        else if (!strcmp(k, "session_idle_s")) bad = set_long(&c->session_idle_s, v);
        else if (!strcmp(k, "session_abs_s")) bad = set_long(&c->session_abs_s, v);
        else if (!strcmp(k, "staff_lockout_failures")) bad = set_long(&c->staff_lockout_failures, v);
        else if (!strcmp(k, "staff_lockout_s")) bad = set_long(&c->staff_lockout_s, v);
        else if (!strcmp(k, "rpc_claim_idle_ms")) bad = set_long(&c->rpc_claim_idle_ms, v);
        else if (!strcmp(k, "xsd_dir")) bad = set_str(c->xsd_dir, sizeof(c->xsd_dir), v);
        else if (!strcmp(k, "public_url")) bad = set_str(c->public_url, sizeof(c->public_url), v);
        else if (!strcmp(k, "portal_url")) bad = set_str(c->portal_url, sizeof(c->portal_url), v);
        else if (!strcmp(k, "portal_token_file")) bad = set_str(c->portal_token_file, sizeof(c->portal_token_file), v);
        else if (!strcmp(k, "postal_url")) bad = set_str(c->postal_url, sizeof(c->postal_url), v);
        else if (!strcmp(k, "postal_token_file")) bad = set_str(c->postal_token_file, sizeof(c->postal_token_file), v);
        else if (!strcmp(k, "postal_hmac_secret_file")) bad = set_str(c->postal_hmac_secret_file, sizeof(c->postal_hmac_secret_file), v);
        else if (!strcmp(k, "payment_url")) bad = set_str(c->payment_url, sizeof(c->payment_url), v);
        else if (!strcmp(k, "payment_token_file")) bad = set_str(c->payment_token_file, sizeof(c->payment_token_file), v);
        else if (!strcmp(k, "payment_pubkey_file")) bad = set_str(c->payment_pubkey_file, sizeof(c->payment_pubkey_file), v);
        else if (!strcmp(k, "catalogue_pull_interval_s")) bad = set_long(&c->catalogue_pull_interval_s, v);
        else if (!strcmp(k, "outbox_max_attempts")) bad = set_long(&c->outbox_max_attempts, v);
        else if (!strcmp(k, "outbox_backoff_base_ms")) bad = set_long(&c->outbox_backoff_base_ms, v);
        else if (!strcmp(k, "outbox_backoff_max_ms")) bad = set_long(&c->outbox_backoff_max_ms, v);
        else if (!strcmp(k, "outbox_lease_ms")) bad = set_long(&c->outbox_lease_ms, v);
        else if (!strcmp(k, "outbox_http_timeout_ms")) bad = set_long(&c->outbox_http_timeout_ms, v);
        else if (!strcmp(k, "outbox_concurrency")) bad = set_long(&c->outbox_concurrency, v);
        else if (!strcmp(k, "clock")) {
            /* docs/contracts-workflow.md "The clock": redis only in test/bench stacks */
            bad = strcmp(v, "system") != 0 && strcmp(v, "redis") != 0;
            c->clock_redis = !strcmp(v, "redis");
        } else if (!strcmp(k, "log_level")) {
            c->log_level = wk_log_level_parse(v);
            bad = c->log_level < 0;
        } else {
            /* unknown keys belong to other components sharing the file */
            continue;
        }
        if (bad) {
            snprintf(err, errsz, "%s:%d: bad value for %s", file, lineno, k);
            rc = -1;
            break;
        }
    }
    fclose(f);
    if (rc != 0)
        return rc;
    if (c->redis[0] == '\0' || c->store[0] == '\0' || c->mysql_socket[0] == '\0') {
        snprintf(err, errsz, "%s: redis, mysql_socket and store are required", file);
        return -1;
    }
    if (c->visibility_ms < 1000) c->visibility_ms = 1000;
    if (c->max_attempts < 1) c->max_attempts = 1;
    if (c->reconcile_interval_ms < 100) c->reconcile_interval_ms = 100;
    if (c->journal_orphan_ms < c->journal_grace_ms) c->journal_orphan_ms = c->journal_grace_ms;
    if (c->session_idle_s < 60) c->session_idle_s = 60;
    if (c->session_abs_s < c->session_idle_s) c->session_abs_s = c->session_idle_s;
    if (c->staff_lockout_failures < 1) c->staff_lockout_failures = 1;
    if (c->rpc_claim_idle_ms < 1000) c->rpc_claim_idle_ms = 1000;
    if (c->outbox_max_attempts < 1) c->outbox_max_attempts = 1;
    if (c->outbox_backoff_base_ms < 10) c->outbox_backoff_base_ms = 10;
    if (c->outbox_backoff_max_ms < c->outbox_backoff_base_ms) c->outbox_backoff_max_ms = c->outbox_backoff_base_ms;
    if (c->outbox_lease_ms < 1000) c->outbox_lease_ms = 1000;
    if (c->outbox_http_timeout_ms < 100) c->outbox_http_timeout_ms = 100;
    /* a lease outlasts the call it covers */
    if (c->outbox_lease_ms < c->outbox_http_timeout_ms + 2000) c->outbox_lease_ms = c->outbox_http_timeout_ms + 2000;
    if (c->outbox_concurrency < 1) c->outbox_concurrency = 1;
    if (c->outbox_concurrency > 64) c->outbox_concurrency = 64;
    /* secrets next to the config file unless named: ROOT/etc/rpc.key */
    if (c->rpc_key_file[0] == '\0' && conf_dir_file(c, "rpc.key", c->rpc_key_file,
                                                      sizeof(c->rpc_key_file)) != 0) {
        snprintf(err, errsz, "rpc_key_file path too long");
        return -1;
    }
    if (c->eid_client_secret_file[0] == '\0'
        && conf_dir_file(c, "eid-client.secret", c->eid_client_secret_file,
                         sizeof(c->eid_client_secret_file)) != 0) {
        snprintf(err, errsz, "eid_client_secret_file path too long");
        return -1;
    }
    if (c->mysql_password_file[0] != '\0'
        && read_secret(c->mysql_password_file, c->mysql_password,
                       sizeof(c->mysql_password), err, errsz) != 0)
        return -1;
    return 0;
}
