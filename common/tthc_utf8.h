/*
 * tthc_utf8.h — internal helper (header-only, not part of the public API):
 * strict UTF-8 decoding per RFC 3629 / Unicode 15 Table 3-7 (no overlongs,
 * no surrogates, nothing above U+10FFFF). Used by tthc_text, tthc_mask and
 * tthc_multipart.
 */
#ifndef TTHC_UTF8_H
#define TTHC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes one codepoint at p (n > 0 bytes available). Sets *adv to the number
 * of bytes consumed (1 for an invalid byte, so callers resynchronise on the
 * next byte) and returns the codepoint, or -1 if the byte at p does not start
 * a well-formed sequence.
 */
static inline int32_t
tthc_utf8_decode(const unsigned char *p, size_t n, size_t *adv)
{
    uint32_t  c, cp;
    size_t    need, i;

    c = p[0];
    *adv = 1;

    if (c < 0x80) {
        return (int32_t) c;
    }

    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        cp = c & 0x1F;

    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        cp = c & 0x0F;

    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        cp = c & 0x07;

    } else {
        return -1;
    }

    if (n < need + 1) {
        return -1;
    }

    for (i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            return -1;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }

    if ((need == 2 && cp < 0x800)
        || (need == 3 && (cp < 0x10000 || cp > 0x10FFFF))
        || (cp >= 0xD800 && cp <= 0xDFFF))
    {
        return -1;
    }

    *adv = need + 1;
    return (int32_t) cp;
}

/* Encodes cp (valid scalar value) into out (>= 4 bytes); returns length. */
static inline size_t
tthc_utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char) cp;
        return 1;
    }

    if (cp < 0x800) {
        out[0] = (unsigned char) (0xC0 | (cp >> 6));
        out[1] = (unsigned char) (0x80 | (cp & 0x3F));
        return 2;
    }

    if (cp < 0x10000) {
        out[0] = (unsigned char) (0xE0 | (cp >> 12));
        out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
        out[2] = (unsigned char) (0x80 | (cp & 0x3F));
        return 3;
    }

    out[0] = (unsigned char) (0xF0 | (cp >> 18));
    out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
    out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
    out[3] = (unsigned char) (0x80 | (cp & 0x3F));
    return 4;
}

#endif /* TTHC_UTF8_H */
