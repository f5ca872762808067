/*
 * tthc_multipart.c — streaming multipart/form-data parser, zero allocation.
 * RFC 7578 (form-data), RFC 2046 §5.1.1 (delimiter = CRLF "--" boundary,
 * preamble/epilogue, transport padding), RFC 5987/8187 (filename*), RFC 9110
 * §5.6 (tokens, quoted strings). Carries dossier submissions, DOMAIN A2.
 *
 * The delimiter is searched with Knuth-Morris-Pratt over CRLF "--" boundary;
 * bytes held back while a delimiter might be starting are always a prefix of
 * the delimiter, so they are re-emitted from mp->delim and part data is never
 * copied or buffered.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tthc_multipart.h"
#include "tthc_utf8.h"

enum {
    TTHC_MP_S_PREAMBLE = 0,
    TTHC_MP_S_B_START,          /* just after a complete delimiter */
    TTHC_MP_S_B_DASH,           /* "-" seen after the delimiter */
    TTHC_MP_S_B_PAD,            /* transport padding */
    TTHC_MP_S_B_CR,             /* CR of the boundary line seen */
    TTHC_MP_S_HEADER,
    TTHC_MP_S_DATA,
    TTHC_MP_S_DONE,
    TTHC_MP_S_ERROR
};

#define TTHC_MP_FILENAME_MAX  (sizeof(((tthc_mp_part_t *) 0)->filename) - 1)
#define TTHC_MP_NAME_MAX      (sizeof(((tthc_mp_part_t *) 0)->name) - 1)
#define TTHC_MP_CTYPE_MAX     (sizeof(((tthc_mp_part_t *) 0)->content_type) - 1)
#define TTHC_MP_EXT_MAX       16

typedef struct {
    const char  *name;
    size_t       name_len;
    const char  *val;
    size_t       val_len;
    int          quoted;
} tthc_mp_param_t;


/* ---------------------------------------------------------------- lexing */

static int
tthc_mp_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


static int
tthc_mp_is_bchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9'))
    {
        return 1;
    }

    return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}


static unsigned char
tthc_mp_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char) (c + 32) : c;
}


static int
tthc_mp_ci_eq(const char *s, size_t n, const char *lit)
{
    size_t  i;

    if (strlen(lit) != n) {
        return 0;
    }

    for (i = 0; i < n; i++) {
        if (tthc_mp_lower((unsigned char) s[i]) != (unsigned char) lit[i]) {
            return 0;
        }
    }

    return 1;
}


static const char *
tthc_mp_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t')) {
        p++;
    }

    return p;
}


static int
tthc_mp_has_ctl(const char *s, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        unsigned char  c = (unsigned char) s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7F) {
            return 1;
        }
    }

    return 0;
}


/*
 * Next ";" name "=" value parameter. 1 = parameter in *pr, 0 = end of value,
 * -1 = syntax error. A trailing ";" is allowed.
 */
static int
tthc_mp_param_next(const char **pp, const char *end, tthc_mp_param_t *pr)
{
    const char  *p;

    p = tthc_mp_skip_ws(*pp, end);

    if (p == end) {
        *pp = p;
        return 0;
    }

    if (*p != ';') {
        return -1;
    }

    p = tthc_mp_skip_ws(p + 1, end);

    if (p == end) {
        *pp = p;
        return 0;
    }

    pr->name = p;

    while (p < end && tthc_mp_is_tchar((unsigned char) *p)) {
        p++;
    }

    pr->name_len = (size_t) (p - pr->name);

    if (pr->name_len == 0) {
        return -1;
    }

    p = tthc_mp_skip_ws(p, end);

    if (p == end || *p != '=') {
        return -1;
    }

    p = tthc_mp_skip_ws(p + 1, end);

    if (p < end && *p == '"') {
        p++;
        pr->val = p;

        for ( ;; ) {
            if (p == end) {
                return -1;                          /* unterminated */
            }

            if (*p == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\')) {
                p += 2;
                continue;
            }

            if (*p == '"') {
                break;
            }

            p++;
        }

        pr->val_len = (size_t) (p - pr->val);
        pr->quoted = 1;
        p++;

    } else {
        pr->val = p;

        while (p < end && *p != ';' && *p != ' ' && *p != '\t') {
            p++;
        }

        pr->val_len = (size_t) (p - pr->val);
        pr->quoted = 0;

        if (pr->val_len == 0) {
            return -1;
        }
    }

    *pp = p;
    return 1;
}


/* value without quotes/escapes into out (room for pr->val_len bytes) */
static size_t
tthc_mp_unquote(const tthc_mp_param_t *pr, char *out)
{
    size_t       i, o;
    const char  *v;

    v = pr->val;

    if (!pr->quoted) {
        memcpy(out, v, pr->val_len);
        return pr->val_len;
    }

    o = 0;

    for (i = 0; i < pr->val_len; i++) {
        if (v[i] == '\\' && i + 1 < pr->val_len
            && (v[i + 1] == '"' || v[i + 1] == '\\'))
        {
            i++;
        }
        out[o++] = v[i];
    }

    return o;
}


/* ------------------------------------------------------------ boundary */

int
tthc_mp_boundary(const char *content_type, size_t len, char *out,
    size_t *out_len)
{
    int              found, rc;
    size_t           i;
    const char      *p, *end, *t;
    tthc_mp_param_t  pr;

    if (content_type == NULL || out == NULL
        || tthc_mp_has_ctl(content_type, len))
    {
        return -1;
    }

    p = tthc_mp_skip_ws(content_type, content_type + len);
    end = content_type + len;
    t = p;

    while (p < end && (tthc_mp_is_tchar((unsigned char) *p) || *p == '/')) {
        p++;
    }

    if (!tthc_mp_ci_eq(t, (size_t) (p - t), "multipart/form-data")) {
        return -1;
    }

    found = 0;

    for ( ;; ) {
        rc = tthc_mp_param_next(&p, end, &pr);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return -1;
        }

        if (!tthc_mp_ci_eq(pr.name, pr.name_len, "boundary")) {
            continue;
        }

        if (found || pr.val_len < 1 || pr.val_len > TTHC_MP_BOUNDARY_MAX
            || pr.val[pr.val_len - 1] == ' ')
        {
            return -1;
        }

        for (i = 0; i < pr.val_len; i++) {
            if (!tthc_mp_is_bchar((unsigned char) pr.val[i])) {
                return -1;
            }
        }

        memcpy(out, pr.val, pr.val_len);
        out[pr.val_len] = '\0';

        if (out_len != NULL) {
            *out_len = pr.val_len;
        }

        found = 1;
    }

    return found ? 0 : -1;
}


/* ------------------------------------------------------- part headers */

static int
tthc_mp_hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c = tthc_mp_lower(c);

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/*
 * RFC 8187 ext-value: charset "'" [language] "'" pct-encoded chars, decoded
 * in place in v. Returns decoded length, sets *latin1; -1 if not decodable.
 */
static ptrdiff_t
tthc_mp_ext_value(char *v, size_t n, int *latin1)
{
    int          hi, lo;
    char        *q1, *q2;
    size_t       i, o, clen;

    q1 = memchr(v, '\'', n);
    if (q1 == NULL) {
        return -1;
    }

    clen = (size_t) (q1 - v);

    q2 = memchr(q1 + 1, '\'', n - clen - 1);
    if (q2 == NULL) {
        return -1;
    }

    if (tthc_mp_ci_eq(v, clen, "utf-8")) {
        *latin1 = 0;

    } else if (tthc_mp_ci_eq(v, clen, "iso-8859-1")) {
        *latin1 = 1;

    } else {
        return -1;
    }

    o = 0;

    for (i = (size_t) (q2 - v) + 1; i < n; i++) {
        if (v[i] != '%') {
            v[o++] = v[i];
            continue;
        }

        if (i + 2 >= n) {
            return -1;
        }

        hi = tthc_mp_hexval((unsigned char) v[i + 1]);
        lo = tthc_mp_hexval((unsigned char) v[i + 2]);

        if (hi < 0 || lo < 0) {
            return -1;
        }

        v[o++] = (char) (hi * 16 + lo);
        i += 2;
    }

    return (ptrdiff_t) o;
}


/*
 * filename bytes -> part->filename: ISO-8859-1 converted to UTF-8, invalid
 * UTF-8 and control characters replaced by '_', path stripped, truncated.
 */
static void
tthc_mp_set_filename(tthc_mp_part_t *part, const char *s, size_t n,
    int latin1)
{
    int32_t               cp;
    size_t                i, adv, o, start, len, dot, ext, k;
    unsigned char         buf[2 * TTHC_MP_HEADER_MAX];
    const unsigned char  *u;

    u = (const unsigned char *) s;
    o = 0;

    for (i = 0; i < n; i += adv) {
        if (latin1) {
            cp = u[i];
            adv = 1;

        } else {
            cp = tthc_utf8_decode(u + i, n - i, &adv);
        }

        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            buf[o++] = '_';                         /* also cp < 0: invalid */
            continue;
        }

        o += tthc_utf8_encode((uint32_t) cp, buf + o);
    }

    /* text after the last '/' or '\' */
    start = 0;

    for (i = 0; i < o; i++) {
        if (buf[i] == '/' || buf[i] == '\\') {
            start = i + 1;
        }
    }

    u = buf + start;
    len = o - start;

    if (len <= TTHC_MP_FILENAME_MAX) {
        memcpy(part->filename, u, len);
        part->filename[len] = '\0';
        part->filename_len = len;
        return;
    }

    /* too long: keep a short extension, cut the stem at a codepoint boundary */
    ext = 0;
    dot = len;

    for (i = len; i > 0; i--) {
        if (u[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }

    if (dot > 0 && dot < len && len - dot <= TTHC_MP_EXT_MAX) {
        ext = len - dot;
    }

    k = TTHC_MP_FILENAME_MAX - ext;

    while (k > 0 && (u[k] & 0xC0) == 0x80) {
        k--;
    }

    memcpy(part->filename, u, k);
    memcpy(part->filename + k, u + len - ext, ext);
    part->filename_len = k + ext;
    part->filename[part->filename_len] = '\0';
}


static int
tthc_mp_set_name(tthc_mp_part_t *part, const char *s, size_t n)
{
    int32_t  cp;
    size_t   i, adv;

    if (n == 0 || n > TTHC_MP_NAME_MAX) {
        return -1;
    }

    for (i = 0; i < n; i += adv) {
        cp = tthc_utf8_decode((const unsigned char *) s + i, n - i, &adv);

        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            return -1;
        }
    }

    memcpy(part->name, s, n);
    part->name[n] = '\0';
    part->name_len = n;

    return 0;
}


static int
tthc_mp_disposition(const char *v, size_t n, tthc_mp_part_t *part)
{
    int              rc, have_name, latin1;
    size_t           len;
    ptrdiff_t        dlen;
    const char      *p, *end, *t;
    tthc_mp_param_t  pr, fn, fnx;
    char             tmp[TTHC_MP_HEADER_MAX];

    p = v;
    end = v + n;
    t = p;

    while (p < end && tthc_mp_is_tchar((unsigned char) *p)) {
        p++;
    }

    if (!tthc_mp_ci_eq(t, (size_t) (p - t), "form-data")) {
        return -1;
    }

    have_name = 0;
    fn.val = NULL;
    fnx.val = NULL;

    for ( ;; ) {
        rc = tthc_mp_param_next(&p, end, &pr);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            return -1;
        }

        if (tthc_mp_ci_eq(pr.name, pr.name_len, "name")) {
            if (have_name) {
                return -1;
            }

            len = tthc_mp_unquote(&pr, tmp);

            if (tthc_mp_set_name(part, tmp, len) != 0) {
                return -1;
            }

            have_name = 1;

        } else if (tthc_mp_ci_eq(pr.name, pr.name_len, "filename")) {
            if (fn.val != NULL) {
                return -1;
            }
            fn = pr;

        } else if (tthc_mp_ci_eq(pr.name, pr.name_len, "filename*")) {
            if (fnx.val != NULL) {
                return -1;
            }
            fnx = pr;
        }
    }

    if (!have_name) {
        return -1;
    }

    if (fnx.val != NULL) {
        len = tthc_mp_unquote(&fnx, tmp);
        dlen = tthc_mp_ext_value(tmp, len, &latin1);

        if (dlen >= 0) {
            tthc_mp_set_filename(part, tmp, (size_t) dlen, latin1);
            part->has_filename = 1;
            return 0;
        }
    }

    if (fn.val != NULL) {
        len = tthc_mp_unquote(&fn, tmp);
        tthc_mp_set_filename(part, tmp, len, 0);
        part->has_filename = 1;
        return 0;
    }

    return fnx.val != NULL ? -1 : 0;
}


static int
tthc_mp_content_type(const char *v, size_t n, tthc_mp_part_t *part)
{
    size_t  i;

    for (i = 0; i < n && v[i] != ';'; i++) {
        /* find the end of the media type */
    }

    while (i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
        i--;
    }

    if (i > TTHC_MP_CTYPE_MAX) {
        return -1;
    }

    for (n = 0; n < i; n++) {
        if (!tthc_mp_is_tchar((unsigned char) v[n]) && v[n] != '/') {
            return -1;
        }
        part->content_type[n] = (char) tthc_mp_lower((unsigned char) v[n]);
    }

    part->content_type[i] = '\0';
    return 0;
}


/* parses mp->hdr[0..mp->line_start) (header lines without the empty one) */
static int
tthc_mp_headers(tthc_mp_t *mp, tthc_mp_part_t *part)
{
    int          have_cd, have_ct;
    char        *h, *nl, *colon, *line, *v, *vend;
    size_t       i, end, ll;

    h = mp->hdr;
    end = mp->line_start;

    memset(part, 0, sizeof(*part));

    if (end > 0 && (h[0] == ' ' || h[0] == '\t')) {
        return -1;                              /* continuation of nothing */
    }

    /* unfold obsolete line folding (RFC 5322 §2.2.3) in place */
    for (i = 0; i + 1 < end; i++) {
        if (h[i] == '\n' && (h[i + 1] == ' ' || h[i + 1] == '\t')) {
            h[i] = ' ';
            if (i > 0 && h[i - 1] == '\r') {
                h[i - 1] = ' ';
            }
        }
    }

    have_cd = 0;
    have_ct = 0;
    i = 0;

    while (i < end) {
        line = h + i;
        nl = memchr(line, '\n', end - i);

        if (nl == NULL) {
            return -1;                          /* cannot happen */
        }

        ll = (size_t) (nl - line);
        i += ll + 1;

        if (ll > 0 && line[ll - 1] == '\r') {
            ll--;
        }

        colon = memchr(line, ':', ll);

        if (colon == NULL || colon == line) {
            return -1;
        }

        for (v = line; v < colon; v++) {
            if (!tthc_mp_is_tchar((unsigned char) *v)) {
                return -1;
            }
        }

        vend = line + ll;
        v = (char *) tthc_mp_skip_ws(colon + 1, vend);

        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t')) {
            vend--;
        }

        if (tthc_mp_has_ctl(v, (size_t) (vend - v))) {
            return -1;
        }

        if (tthc_mp_ci_eq(line, (size_t) (colon - line),
                          "content-disposition"))
        {
            if (have_cd
                || tthc_mp_disposition(v, (size_t) (vend - v), part) != 0)
            {
                return -1;
            }
            have_cd = 1;

        } else if (tthc_mp_ci_eq(line, (size_t) (colon - line),
                                 "content-type"))
        {
            if (have_ct
                || tthc_mp_content_type(v, (size_t) (vend - v), part) != 0)
            {
                return -1;
            }
            have_ct = 1;
        }
    }

    return have_cd ? 0 : -1;
}


/* ------------------------------------------------------------- parser */

static int
tthc_mp_fail(tthc_mp_t *mp, int err)
{
    mp->state = TTHC_MP_S_ERROR;
    mp->err = err;
    return err;
}


static int
tthc_mp_emit(tthc_mp_t *mp, const unsigned char *p, size_t n)
{
    int  rc;

    if (n == 0 || mp->cb.part_data == NULL) {
        return 0;
    }

    rc = mp->cb.part_data(mp->ud, p, n);

    if (rc != 0) {
        mp->cb_error = rc;
        return -1;
    }

    return 0;
}


void
tthc_mp_init(tthc_mp_t *mp, const char *boundary, size_t blen,
    const tthc_mp_callbacks_t *cb, void *ud)
{
    size_t  i, k;

    memset(mp, 0, sizeof(*mp));

    if (cb != NULL) {
        mp->cb = *cb;
    }

    mp->ud = ud;

    if (boundary == NULL || blen < 1 || blen > TTHC_MP_BOUNDARY_MAX) {
        (void) tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
        return;
    }

    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, blen);
    mp->dlen = 4 + blen;

    /* KMP failure function: fail[i] = longest proper border of delim[0..i) */
    mp->fail[0] = 0;
    mp->fail[1] = 0;
    k = 0;

    for (i = 1; i < mp->dlen; i++) {
        while (k > 0 && mp->delim[i] != mp->delim[k]) {
            k = mp->fail[k];
        }

        if (mp->delim[i] == mp->delim[k]) {
            k++;
        }

        mp->fail[i + 1] = (unsigned char) k;
    }

    /* the first delimiter may open the body: pretend a CRLF was seen */
    mp->state = TTHC_MP_S_PREAMBLE;
    mp->m = 2;
}


/*
 * Looks for the delimiter in p[*ip..n). With emit, bytes proven not to be
 * part of a delimiter are passed to part_data; bytes held back from the
 * previous feed (mp->m of them, equal to delim[0..m)) are re-emitted from
 * mp->delim. Returns 1 when a delimiter completed (*ip just after it), 0 when
 * the input is exhausted, -1 on a callback error.
 */
static int
tthc_mp_scan(tthc_mp_t *mp, const unsigned char *p, size_t n, size_t *ip,
    int emit)
{
    size_t                i, run, m, prev, prev_done, upto;
    ptrdiff_t             conf;
    const unsigned char  *d, *cr;

    d = mp->delim;
    i = *ip;
    run = i;                /* first chunk byte not yet emitted */
    m = mp->m;
    prev = emit ? m : 0;    /* held-back bytes of the previous feed */
    prev_done = 0;

    while (i < n) {
        if (m == 0) {
            cr = memchr(p + i, '\r', n - i);

            if (cr == NULL) {
                i = n;
                break;
            }

            i = (size_t) (cr - p);
        }

        while (m > 0 && p[i] != d[m]) {
            m = mp->fail[m];
        }

        if (p[i] == d[m]) {
            m++;
        }

        i++;

        if (prev_done < prev) {
            /* held-back bytes sit at [*ip - prev, *ip) */
            conf = (ptrdiff_t) (i - *ip) - (ptrdiff_t) m + (ptrdiff_t) prev;

            if (conf > 0) {
                upto = (size_t) conf < prev ? (size_t) conf : prev;

                if (upto > prev_done) {
                    if (tthc_mp_emit(mp, d + prev_done, upto - prev_done)
                        != 0)
                    {
                        return -1;
                    }
                    prev_done = upto;
                }
            }
        }

        if (m == mp->dlen) {
            if (emit && i - run > m
                && tthc_mp_emit(mp, p + run, i - m - run) != 0)
            {
                return -1;
            }

            mp->m = 0;
            *ip = i;
            return 1;
        }
    }

    if (prev_done < prev) {
        conf = (ptrdiff_t) (i - *ip) - (ptrdiff_t) m + (ptrdiff_t) prev;

        if (conf > (ptrdiff_t) prev_done) {
            upto = (size_t) conf < prev ? (size_t) conf : prev;

            if (tthc_mp_emit(mp, d + prev_done, upto - prev_done) != 0) {
                return -1;
            }
        }
    }

    if (emit && i - run > m && tthc_mp_emit(mp, p + run, i - m - run) != 0) {
        return -1;
    }

    mp->m = m;
    *ip = i;
    return 0;
}


static int
tthc_mp_header_bytes(tthc_mp_t *mp, const unsigned char *p, size_t n,
    size_t *ip)
{
    int                   rc;
    size_t                take, ll;
    tthc_mp_part_t        part;
    const unsigned char  *nl;

    nl = memchr(p + *ip, '\n', n - *ip);
    take = nl != NULL ? (size_t) (nl - (p + *ip)) + 1 : n - *ip;

    if (take > TTHC_MP_HEADER_MAX - mp->hdr_len) {
        return tthc_mp_fail(mp, TTHC_MP_ERR_HEADER_TOO_LARGE);
    }

    memcpy(mp->hdr + mp->hdr_len, p + *ip, take);
    mp->hdr_len += take;
    *ip += take;

    if (nl == NULL) {
        return TTHC_MP_OK;
    }

    ll = mp->hdr_len - 1 - mp->line_start;

    if (ll > 1 || (ll == 1 && mp->hdr[mp->line_start] != '\r')) {
        mp->line_start = mp->hdr_len;
        return TTHC_MP_OK;
    }

    /* empty line: end of the header block */
    if (tthc_mp_headers(mp, &part) != 0) {
        return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
    }

    if (mp->cb.part_begin != NULL) {
        rc = mp->cb.part_begin(mp->ud, &part);

        if (rc != 0) {
            mp->cb_error = rc;
            return tthc_mp_fail(mp, TTHC_MP_ERR_CALLBACK);
        }
    }

    mp->state = TTHC_MP_S_DATA;
    mp->m = 0;

    return TTHC_MP_OK;
}


static void
tthc_mp_begin_headers(tthc_mp_t *mp)
{
    mp->state = TTHC_MP_S_HEADER;
    mp->hdr_len = 0;
    mp->line_start = 0;
}


int
tthc_mp_feed(tthc_mp_t *mp, const unsigned char *p, size_t n)
{
    int            rc;
    size_t         i;
    unsigned char  c;

    if (mp->state == TTHC_MP_S_ERROR) {
        return mp->err;
    }

    if (mp->state == TTHC_MP_S_DONE) {
        return TTHC_MP_DONE;
    }

    if (p == NULL) {
        return n == 0 ? TTHC_MP_OK : tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
    }

    i = 0;

    while (i < n) {

        switch (mp->state) {

        case TTHC_MP_S_PREAMBLE:
            if (tthc_mp_scan(mp, p, n, &i, 0) == 1) {
                mp->state = TTHC_MP_S_B_START;
            }
            break;

        case TTHC_MP_S_DATA:
            rc = tthc_mp_scan(mp, p, n, &i, 1);

            if (rc < 0) {
                return tthc_mp_fail(mp, TTHC_MP_ERR_CALLBACK);
            }

            if (rc == 1) {
                if (mp->cb.part_end != NULL) {
                    rc = mp->cb.part_end(mp->ud);

                    if (rc != 0) {
                        mp->cb_error = rc;
                        return tthc_mp_fail(mp, TTHC_MP_ERR_CALLBACK);
                    }
                }

                mp->state = TTHC_MP_S_B_START;
            }
            break;

        case TTHC_MP_S_HEADER:
            rc = tthc_mp_header_bytes(mp, p, n, &i);

            if (rc != TTHC_MP_OK) {
                return rc;
            }
            break;

        case TTHC_MP_S_B_START:
        case TTHC_MP_S_B_DASH:
        case TTHC_MP_S_B_PAD:
        case TTHC_MP_S_B_CR:
            c = p[i++];

            if (mp->state == TTHC_MP_S_B_DASH) {
                if (c != '-') {
                    return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
                }
                mp->state = TTHC_MP_S_DONE;
                return TTHC_MP_DONE;            /* epilogue ignored */
            }

            if (c == '\n') {
                tthc_mp_begin_headers(mp);
                break;
            }

            if (mp->state == TTHC_MP_S_B_CR) {
                return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
            }

            if (c == '\r') {
                mp->state = TTHC_MP_S_B_CR;

            } else if (c == ' ' || c == '\t') {
                mp->state = TTHC_MP_S_B_PAD;

            } else if (c == '-' && mp->state == TTHC_MP_S_B_START) {
                mp->state = TTHC_MP_S_B_DASH;

            } else {
                return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
            }
            break;

        default:
            return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
        }
    }

    return TTHC_MP_OK;
}


int
tthc_mp_finish(tthc_mp_t *mp)
{
    if (mp->state == TTHC_MP_S_DONE) {
        return TTHC_MP_DONE;
    }

    if (mp->state == TTHC_MP_S_ERROR) {
        return mp->err;
    }

    return tthc_mp_fail(mp, TTHC_MP_ERR_SYNTAX);
}
