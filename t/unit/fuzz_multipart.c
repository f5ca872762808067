/*
 * fuzz_multipart.c — libFuzzer harness for common/tthc_multipart (RFC 7578,
 * RFC 2046 §5.1): hostile bodies must never crash or read out of bounds, the
 * callback protocol must hold, and every chunking must give the same result
 * (differential check: one-shot vs byte-by-byte vs an input-derived pattern).
 * The same input also exercises tthc_mp_boundary and, as a bonus, the other
 * parsers of common/ that see internet input (text fold, masks, code, time).
 * Build: make -C t/unit fuzz; run: make -C t/unit fuzz-run [FUZZ_SECONDS=60].
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_recorder.h"
#include "tthc_code.h"
#include "tthc_mask.h"
#include "tthc_text.h"
#include "tthc_time.h"
#include "tthc_utf8.h"

#define CHECK(cond)  do { if (!(cond)) { fprintf(stderr, "CHECK failed: %s (line %d)\n", #cond, __LINE__); abort(); } } while (0)

static const char *const  boundaries[] = {
    "b", "-", "--", "AaB03x", "----WebKitFormBoundary7MA4YWxkTrZu0gW",
    "a b", "x-x-x", "0123456789012345678901234567890123456789012345678901234567890123456789"
};


static int
utf8_ok(const char *s, size_t n)
{
    size_t  i, adv;

    for (i = 0; i < n; i += adv) {
        if (tthc_utf8_decode((const unsigned char *) s + i, n - i, &adv) < 0) {
            return 0;
        }
    }

    return 1;
}


static void
fuzz_others(const uint8_t *data, size_t size)
{
    char         out[8192], again[8192];
    size_t       n, bl;
    time_t       t;
    tthc_code_t  c;
    const char  *s = (const char *) data;

    if (size > 4000) {
        return;
    }

    n = tthc_text_fold(s, size, out, sizeof(out));
    CHECK(n <= size && strlen(out) == n && utf8_ok(out, n));
    CHECK(tthc_text_fold(out, n, again, sizeof(again)) == n);
    CHECK(memcmp(out, again, n) == 0);

    n = tthc_mask_name(s, size, out, sizeof(out));
    CHECK(n <= size && utf8_ok(out, n));
    n = tthc_mask_id(s, size, out, sizeof(out));
    CHECK(n <= size && utf8_ok(out, n));
    n = tthc_mask_email(s, size, out, sizeof(out));
    CHECK(n <= size + 8 && utf8_ok(out, n));
    n = tthc_mask_phone(s, size, out, sizeof(out));
    CHECK(n <= size && utf8_ok(out, n));

    if (tthc_code_parse(s, size, &c) == 0) {
        n = tthc_code_format(out, sizeof(out), c.agency, strlen(c.agency),
                             c.yy, c.mm, c.dd, c.seq);
        CHECK(n == size && memcmp(out, s, size) == 0);
    }

    if (tthc_parse_utc(s, size, &t) == 0) {
        n = tthc_fmt_utc(out, sizeof(out), t);
        CHECK(n == size && memcmp(out, s, size) == 0);
    }

    if (tthc_mp_boundary(s, size, out, &bl) == 0) {
        CHECK(bl >= 1 && bl <= TTHC_MP_BOUNDARY_MAX && strlen(out) == bl);
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int          rc1, rc2, rc3;
    size_t       sizes[8], i;
    mp_rec_t     r1, r2, r3;
    tthc_mp_t    mp;
    const char  *b;

    fuzz_others(data, size);

    if (size < 2) {
        return 0;
    }

    b = boundaries[data[0] % (sizeof(boundaries) / sizeof(boundaries[0]))];

    for (i = 0; i < 8; i++) {
        sizes[i] = 1 + ((data[1] >> (i % 4)) ^ (i * 37)) % (i < 4 ? 5 : 97);
    }

    data += 2;
    size -= 2;

    memset(&r1, 0, sizeof(r1));
    memset(&r2, 0, sizeof(r2));
    memset(&r3, 0, sizeof(r3));

    rc1 = mp_run(b, data, size, 0, NULL, 0, &r1, &mp);
    rc2 = mp_run(b, data, size, 0, sizes, 8, &r2, &mp);
    rc3 = mp_run(b, data, size, 1, NULL, 0, &r3, &mp);

    CHECK(rc1 == TTHC_MP_DONE || rc1 == TTHC_MP_ERR_SYNTAX
          || rc1 == TTHC_MP_ERR_HEADER_TOO_LARGE);
    CHECK(rc1 == rc2 && rc1 == rc3);
    CHECK(r1.violations == 0 && r2.violations == 0 && r3.violations == 0);
    CHECK(r1.len == r2.len && r1.len == r3.len);
    CHECK(r1.len == 0 || (memcmp(r1.log, r2.log, r1.len) == 0
                          && memcmp(r1.log, r3.log, r1.len) == 0));
    CHECK(rc1 != TTHC_MP_DONE || !r1.in_part);

    mp_rec_free(&r1);
    mp_rec_free(&r2);
    mp_rec_free(&r3);

    return 0;
}
