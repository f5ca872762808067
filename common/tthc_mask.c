/*
 * tthc_mask.c — personal-data masking for public status views, DOMAIN A4
 * (003 Art.12) and O2 (003 Art.4.6, Decree 13/2023/NĐ-CP).
 */
#include <stdint.h>
#include <string.h>

#include "tthc_mask.h"
#include "tthc_utf8.h"


typedef struct {
    char    *out;
    size_t   sz;
    size_t   o;
    int      full;      /* set once something did not fit: stop writing */
} tthc_mask_buf_t;


static void
tthc_mask_put(tthc_mask_buf_t *b, const void *p, size_t n)
{
    if (b->full) {
        return;
    }

    if (b->o + n + 1 > b->sz) {
        b->full = 1;
        return;
    }

    memcpy(b->out + b->o, p, n);
    b->o += n;
}


static void
tthc_mask_init(tthc_mask_buf_t *b, char *out, size_t outsz)
{
    b->out = out;
    b->sz = outsz;
    b->o = 0;
    b->full = 0;
}


static size_t
tthc_mask_done(tthc_mask_buf_t *b)
{
    b->out[b->o] = '\0';
    return b->o;
}


static int
tthc_mask_is_space(int32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0
           || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F
           || cp == 0x205F || cp == 0x3000;
}


static int
tthc_mask_is_combining(int32_t cp)
{
    return cp >= 0x0300 && cp <= 0x036F;
}


size_t
tthc_mask_name(const char *in, size_t len, char *out, size_t outsz)
{
    int                   in_word, keep_marks;
    char                  word[5];
    int32_t               cp;
    size_t                i, adv, sep;
    tthc_mask_buf_t       b;
    const unsigned char  *p;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    tthc_mask_init(&b, out, outsz);

    if (in == NULL) {
        return tthc_mask_done(&b);
    }

    p = (const unsigned char *) in;
    in_word = 0;
    keep_marks = 0;

    for (i = 0; i < len; i += adv) {
        cp = tthc_utf8_decode(p + i, len - i, &adv);

        if (cp < 0) {
            continue;
        }

        if (tthc_mask_is_space(cp)) {
            in_word = 0;
            keep_marks = 0;
            continue;
        }

        if (tthc_mask_is_combining(cp)) {
            if (keep_marks) {
                tthc_mask_put(&b, p + i, adv);
            }
            continue;
        }

        if (!in_word) {
            /* separator and first codepoint together: no trailing space */
            sep = (b.o > 0);
            word[0] = ' ';
            memcpy(word + sep, p + i, adv);
            tthc_mask_put(&b, word, sep + adv);
            in_word = 1;
            keep_marks = 1;
            continue;
        }

        keep_marks = 0;
        tthc_mask_put(&b, "*", 1);
    }

    return tthc_mask_done(&b);
}


size_t
tthc_mask_id(const char *in, size_t len, char *out, size_t outsz)
{
    int32_t               cp;
    size_t                i, adv, start, end, count, k;
    tthc_mask_buf_t       b;
    const unsigned char  *p;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    tthc_mask_init(&b, out, outsz);

    if (in == NULL) {
        return tthc_mask_done(&b);
    }

    p = (const unsigned char *) in;

    /* trim ASCII whitespace */
    start = 0;
    end = len;

    while (start < end && (p[start] == ' ' || (p[start] >= 0x09 && p[start] <= 0x0D))) {
        start++;
    }

    while (end > start && (p[end - 1] == ' ' || (p[end - 1] >= 0x09 && p[end - 1] <= 0x0D))) {
        end--;
    }

    count = 0;

    for (i = start; i < end; i += adv) {
        if (tthc_utf8_decode(p + i, end - i, &adv) >= 0) {
            count++;
        }
    }

    k = 0;

    for (i = start; i < end; i += adv) {
        cp = tthc_utf8_decode(p + i, end - i, &adv);

        if (cp < 0) {
            continue;
        }

        if (count > 3 && k >= count - 3) {
            tthc_mask_put(&b, p + i, adv);

        } else {
            tthc_mask_put(&b, "*", 1);
        }

        k++;
    }

    return tthc_mask_done(&b);
}


size_t
tthc_mask_email(const char *in, size_t len, char *out, size_t outsz)
{
    static const char     stars[] = "********";
    int32_t               cp;
    size_t                i, adv, at;
    tthc_mask_buf_t       b;
    const unsigned char  *p;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    tthc_mask_init(&b, out, outsz);

    p = (const unsigned char *) in;
    at = len;

    for (i = len; in != NULL && i > 0; i--) {
        if (p[i - 1] == '@') {
            at = i - 1;
            break;
        }
    }

    /* first valid codepoint of the local part */
    cp = -1;
    adv = 0;

    for (i = 0; at < len && i < at; i += adv) {
        cp = tthc_utf8_decode(p + i, at - i, &adv);
        if (cp >= 0) {
            break;
        }
    }

    if (at == len || cp < 0) {
        tthc_mask_put(&b, stars, TTHC_MASK_EMAIL_STARS + 1);
        return tthc_mask_done(&b);
    }

    tthc_mask_put(&b, p + i, adv);
    tthc_mask_put(&b, stars, TTHC_MASK_EMAIL_STARS);

    /* domain, with '@', invalid bytes dropped */
    for (i = at; i < len; i += adv) {
        cp = tthc_utf8_decode(p + i, len - i, &adv);
        if (cp >= 0) {
            tthc_mask_put(&b, p + i, adv);
        }
    }

    return tthc_mask_done(&b);
}


size_t
tthc_mask_phone(const char *in, size_t len, char *out, size_t outsz)
{
    size_t                i, digits, k;
    tthc_mask_buf_t       b;
    const unsigned char  *p;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    tthc_mask_init(&b, out, outsz);

    if (in == NULL) {
        return tthc_mask_done(&b);
    }

    p = (const unsigned char *) in;
    digits = 0;

    for (i = 0; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            digits++;
        }
    }

    k = 0;

    for (i = 0; i < len; i++) {
        if (p[i] >= '0' && p[i] <= '9') {
            if (digits > 3 && k >= digits - 3) {
                tthc_mask_put(&b, p + i, 1);

            } else {
                tthc_mask_put(&b, "*", 1);
            }
            k++;
            continue;
        }

        if (p[i] == ' ' || p[i] == '+' || p[i] == '-' || p[i] == '.'
            || p[i] == '(' || p[i] == ')')
        {
            tthc_mask_put(&b, p + i, 1);
        }
    }

    return tthc_mask_done(&b);
}
