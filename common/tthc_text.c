/*
 * tthc_text.c — Vietnamese search folding (docs/contracts.md Procedure
 * "search"; DOMAIN X2, A4). Vietnamese repertoire per TCVN 6909:2001 /
 * Unicode blocks Latin-1 Supplement, Latin Extended-A/B and Latin Extended
 * Additional U+1EA0..U+1EF9; combining marks per Unicode NFD (U+0300..U+0323).
 */
#include <stdint.h>
#include <string.h>

#include "tthc_text.h"
#include "tthc_utf8.h"

#define TTHC_FOLD_DROP  (-1)
#define TTHC_FOLD_SEP   (-2)


/* U+00C0..U+00FF: ASCII base of Vietnamese letters, 0 = not Vietnamese */
static const char  tthc_latin1_base[64] =
    "aaaa" "\0\0\0\0" "eee\0" "ii\0\0"          /* C0..CF */
    "d\0oooo\0\0" "\0uu\0\0" "y\0\0"            /* D0..DF */
    "aaaa" "\0\0\0\0" "eee\0" "ii\0\0"          /* E0..EF */
    "d\0oooo\0\0" "\0uu\0\0" "y\0\0";           /* F0..FF */


/* Vietnamese letters in Latin Extended Additional, U+1EA0..U+1EF9 */
static int32_t
tthc_fold_ext_additional(int32_t cp)
{
    if (cp <= 0x1EB7) {
        return 'a';
    }

    if (cp <= 0x1EC7) {
        return 'e';
    }

    if (cp <= 0x1ECB) {
        return 'i';
    }

    if (cp <= 0x1EE3) {
        return 'o';
    }

    if (cp <= 0x1EF1) {
        return 'u';
    }

    return 'y';
}


static int
tthc_fold_latin1_sep(int32_t cp)
{
    /* Latin-1 punctuation and symbols U+00A0..U+00BF, plus × and ÷ */
    switch (cp) {
    case 0xAA: case 0xB2: case 0xB3: case 0xB5:     /* ª ² ³ µ */
    case 0xB9: case 0xBA: case 0xBC: case 0xBD:     /* ¹ º ¼ ½ */
    case 0xBE:                                      /* ¾ */
        return 0;
    default:
        return (cp >= 0xA0 && cp <= 0xBF) || cp == 0xD7 || cp == 0xF7;
    }
}


/* Maps one codepoint: a codepoint, TTHC_FOLD_DROP or TTHC_FOLD_SEP. */
static int32_t
tthc_fold_cp(int32_t cp)
{
    if (cp < 0x80) {
        if (cp >= 'A' && cp <= 'Z') {
            return cp + ('a' - 'A');
        }

        if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
            return cp;
        }

        return TTHC_FOLD_SEP;
    }

    if (cp < 0xA0) {
        return TTHC_FOLD_SEP;                       /* C1 controls */
    }

    if (cp == 0xAD) {
        return TTHC_FOLD_DROP;                      /* soft hyphen */
    }

    if (tthc_fold_latin1_sep(cp)) {
        return TTHC_FOLD_SEP;
    }

    if (cp >= 0xC0 && cp <= 0xFF) {
        if (tthc_latin1_base[cp - 0xC0] != '\0') {
            return tthc_latin1_base[cp - 0xC0];
        }

        if (cp <= 0xDE) {
            return cp + 0x20;                       /* Ä -> ä ... */
        }

        return cp;
    }

    switch (cp) {
    case 0x0102: case 0x0103:                       /* Ă ă */
        return 'a';
    case 0x0110: case 0x0111:                       /* Đ đ */
        return 'd';
    case 0x0128: case 0x0129:                       /* Ĩ ĩ */
        return 'i';
    case 0x0168: case 0x0169:                       /* Ũ ũ */
        return 'u';
    case 0x01A0: case 0x01A1:                       /* Ơ ơ */
        return 'o';
    case 0x01AF: case 0x01B0:                       /* Ư ư */
        return 'u';
    }

    if (cp >= 0x1EA0 && cp <= 0x1EF9) {
        return tthc_fold_ext_additional(cp);
    }

    if (cp >= 0x0300 && cp <= 0x0323) {
        return TTHC_FOLD_DROP;                      /* NFD combining marks */
    }

    if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF) {
        return TTHC_FOLD_DROP;                      /* zero-width */
    }

    if ((cp >= 0x2000 && cp <= 0x206F) || (cp >= 0x3000 && cp <= 0x3003)) {
        return TTHC_FOLD_SEP;
    }

    /* fixed-offset lowercasing */
    if ((cp >= 0x0100 && cp <= 0x012F) || (cp >= 0x0132 && cp <= 0x0137)
        || (cp >= 0x014A && cp <= 0x0177))
    {
        return (cp & 1) ? cp : cp + 1;
    }

    if ((cp >= 0x0139 && cp <= 0x0148) || (cp >= 0x0179 && cp <= 0x017E)) {
        return (cp & 1) ? cp + 1 : cp;
    }

    if (cp >= 0x0391 && cp <= 0x03A9 && cp != 0x03A2) {
        return cp + 0x20;                           /* Greek */
    }

    if (cp >= 0x0410 && cp <= 0x042F) {
        return cp + 0x20;                           /* Cyrillic */
    }

    if (cp >= 0x0400 && cp <= 0x040F) {
        return cp + 0x50;
    }

    return cp;
}


size_t
tthc_text_fold(const char *in, size_t len, char *out, size_t outsz)
{
    int                   pending_sep;
    int32_t               cp;
    size_t                i, adv, o, need, enc;
    unsigned char         buf[4];
    const unsigned char  *p;

    if (out == NULL || outsz == 0) {
        return 0;
    }

    out[0] = '\0';

    if (in == NULL) {
        return 0;
    }

    p = (const unsigned char *) in;
    o = 0;
    pending_sep = 0;

    for (i = 0; i < len; i += adv) {
        cp = tthc_utf8_decode(p + i, len - i, &adv);

        if (cp < 0) {
            continue;                               /* invalid byte: drop */
        }

        cp = tthc_fold_cp(cp);

        if (cp == TTHC_FOLD_DROP) {
            continue;
        }

        if (cp == TTHC_FOLD_SEP) {
            pending_sep = (o > 0);
            continue;
        }

        enc = tthc_utf8_encode((uint32_t) cp, buf);
        need = enc + (pending_sep ? 1 : 0);

        if (o + need + 1 > outsz) {
            break;                                  /* truncate */
        }

        if (pending_sep) {
            out[o++] = ' ';
            pending_sep = 0;
        }

        memcpy(out + o, buf, enc);
        o += enc;
    }

    out[o] = '\0';
    return o;
}
