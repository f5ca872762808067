/*
 * tthc_mask.h — masking of personal data in public views, DOMAIN A4 (status
 * lookup by code only, 003 Art.12) and O2 (protection of personal data,
 * 003 Art.4.6; Decree 13/2023/NĐ-CP on personal data protection).
 *
 * All functions: UTF-8 in, UTF-8 out; invalid UTF-8 bytes are dropped; out is
 * always NUL-terminated if outsz > 0 and truncated at a codepoint boundary if
 * too small; the return value is the number of bytes written (without NUL).
 * Output length <= len for name, id and phone; <= len + 8 for e-mail.
 */
#ifndef TTHC_MASK_H
#define TTHC_MASK_H

#include <stddef.h>

#define TTHC_MASK_EMAIL_STARS  7

/*
 * "Nguyễn Văn An" -> "N***** V** A*": words are separated by whitespace
 * (collapsed to one space, trimmed); the first codepoint of each word is kept
 * (with any combining marks that follow it, so NFD input stays canonical),
 * every other codepoint becomes '*'; later combining marks are dropped so NFC
 * and NFD input mask to the same number of stars.
 */
size_t tthc_mask_name(const char *in, size_t len, char *out, size_t outsz);

/* keeps the last 3 codepoints, others '*' ("001099012345" -> "*********345");
   surrounding whitespace trimmed; 3 codepoints or fewer -> all '*'. */
size_t tthc_mask_id(const char *in, size_t len, char *out, size_t outsz);

/*
 * "an.nguyen@gmail.com" -> "a*******@gmail.com": first codepoint of the local
 * part then always TTHC_MASK_EMAIL_STARS stars (the local part's length is not
 * revealed), domain kept. Split at the last '@'. No '@' or an empty local part
 * -> "********" (8 stars, nothing revealed).
 */
size_t tthc_mask_email(const char *in, size_t len, char *out, size_t outsz);

/*
 * Keeps the last 3 digits, other digits become '*', the separators
 * ' ', '+', '-', '.', '(', ')' are kept, any other character is dropped:
 * "0912 345 678" -> "**** *** 678", "+84912345678" -> "+********678".
 * 3 digits or fewer -> all digits '*'.
 */
size_t tthc_mask_phone(const char *in, size_t len, char *out, size_t outsz);

#endif /* TTHC_MASK_H */
