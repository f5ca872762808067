/*
 * tthc_text.h — search folding for the procedure catalogue (docs/contracts.md
 * Procedure "search"; DOMAIN X2 catalogue, A4 lookup): Vietnamese letters of
 * the Unicode Vietnamese repertoire (TCVN 6909:2001) fold to ASCII base letters.
 */
#ifndef TTHC_TEXT_H
#define TTHC_TEXT_H

#include <stddef.h>

/*
 * UTF-8 in; out = lowercase ASCII-folded text:
 *  - every Vietnamese letter with diacritics (precomposed NFC) maps to its base
 *    letter, đ/Đ -> d (also the look-alike Ð/ð U+00D0/U+00F0 used by legacy input);
 *  - decomposed combining marks U+0300..U+0323 (NFD) are dropped, as are
 *    U+00AD soft hyphen and zero-width U+200B..U+200D, U+2060, U+FEFF;
 *  - other non-ASCII codepoints are kept, lowercased only where the mapping is
 *    a fixed offset (Latin-1, Latin Extended-A, basic Greek and Cyrillic);
 *  - ASCII non-alphanumerics, C0/C1 controls, Latin-1 punctuation/symbols,
 *    U+2000..U+206F (spaces, dashes, quotes), U+3000..U+3003 are separators;
 *    runs of separators collapse to one space; leading/trailing ones trimmed;
 *  - invalid UTF-8 bytes are dropped.
 * Always NUL-terminates if outsz > 0; truncates at a codepoint boundary (never
 * leaving a trailing space); returns bytes written excluding the NUL.
 * The output never exceeds len bytes, so outsz = len + 1 is always enough.
 */
size_t tthc_text_fold(const char *in, size_t len, char *out, size_t outsz);

#endif /* TTHC_TEXT_H */
