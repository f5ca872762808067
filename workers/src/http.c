/* http.c - the workers' outbound HTTP calls (e-ID token endpoint, JWKS),
 * libcurl easy interface: 5 s timeouts, no redirects, http/https only,
 * bounded response size.  URLs and bodies are never logged (codes). */
#include "wk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#define HTTP_TIMEOUT_MS 5000L
#define HTTP_MAX_BODY   (1u << 20)

void wk_http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void wk_http_global_cleanup(void)
{
    curl_global_cleanup();
}

typedef struct {
    wk_http_resp *resp;
    size_t max;
    int too_large;
} cap_ud;

/* the body, capped at max bytes: past it the transfer is aborted */
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    cap_ud *c = ud;
    size_t n = size * nmemb;
    if (c->resp->len + n > c->max) {
        c->too_large = 1;
        return 0;
    }
    char *nb = realloc(c->resp->body, c->resp->len + n + 1);
    if (nb == NULL)
        return 0;
    memcpy(nb + c->resp->len, ptr, n);
    c->resp->body = nb;
    c->resp->len += n;
    c->resp->body[c->resp->len] = '\0';
    return n;
}

/* One call: no redirects, http/https only, the given headers (freed here),
 * a total timeout, a capped reply.  post: body (len bytes) or NULL for GET. */
static int perform(const char *url, struct curl_slist *hdr, const char *post, size_t len, long timeout_ms,
                   size_t max_reply, wk_http_resp *resp)
{
    memset(resp, 0, sizeof(*resp));
    CURL *h = curl_easy_init();
    if (h == NULL) {
        curl_slist_free_all(hdr);
        snprintf(resp->error, sizeof(resp->error), "curl init failed");
        return -1;
    }
    cap_ud cu = { resp, max_reply, 0 };
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 3000 ? timeout_ms : 3000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(h, CURLOPT_USERAGENT, "tthc-worker");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &cu);
    if (post != NULL) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    CURLcode cc = curl_easy_perform(h);
    int rc = 0;
    if (cc != CURLE_OK) {
        snprintf(resp->error, sizeof(resp->error), "%s",
                 cu.too_large ? "reply too large" : curl_easy_strerror(cc));
        rc = -1;
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

int wk_http_request(const char *url, const char *form, wk_http_resp *resp)
{
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/json");
    return perform(url, hdr, form, form ? strlen(form) : 0, HTTP_TIMEOUT_MS, HTTP_MAX_BODY, resp);
}

int wk_http_xml(const char *method, const char *url, const char *token, const char *idem,
                const char *body, size_t len, const char *extra_hdr, long timeout_ms,
                size_t max_reply, wk_http_resp *resp)
{
    char line[512];
    struct curl_slist *hdr = curl_slist_append(NULL, "Accept: application/xml");
    hdr = curl_slist_append(hdr, "Content-Type: application/xml; charset=utf-8");
    hdr = curl_slist_append(hdr, "Expect:");
    if (token && *token) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        hdr = curl_slist_append(hdr, line);
        sodium_memzero(line, sizeof(line));
    }
    if (idem) {
        snprintf(line, sizeof(line), "Idempotency-Key: %s", idem);
        hdr = curl_slist_append(hdr, line);
    }
    if (extra_hdr)
        hdr = curl_slist_append(hdr, extra_hdr);
    return perform(url, hdr, strcmp(method, "POST") ? NULL : (body ? body : ""), body ? len : 0, timeout_ms,
                   max_reply, resp);
}

void wk_http_resp_free(wk_http_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

int wk_form_add(char **form, const char *k, const char *v)
{
    char *ek = curl_easy_escape(NULL, k, 0), *ev = curl_easy_escape(NULL, v ? v : "", 0);
    int rc = -1;
    if (ek && ev) {
        size_t old = *form ? strlen(*form) : 0;
        size_t need = old + strlen(ek) + strlen(ev) + 3;
        char *nf = realloc(*form, need);
        if (nf) {
            snprintf(nf + old, need - old, "%s%s=%s", old ? "&" : "", ek, ev);
            *form = nf;
            rc = 0;
        }
    }
    curl_free(ek);
    curl_free(ev);
    return rc;
}
