/*
 * tthc_test.h — common includes and helpers for the cmocka unit tests of
 * common/ (docs/contracts.md "Layout": t/unit/ tests common/).
 */
#ifndef TTHC_TEST_H
#define TTHC_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tthc_utf8.h"

#define S(lit)  (lit), (sizeof(lit) - 1)

/* 1 if s[0..n) is well-formed UTF-8 */
static inline int
tthc_test_utf8_ok(const char *s, size_t n)
{
    size_t  i, adv;

    for (i = 0; i < n; i += adv) {
        if (tthc_utf8_decode((const unsigned char *) s + i, n - i, &adv) < 0) {
            return 0;
        }
    }

    return 1;
}

/* deterministic xorshift PRNG (no global state) */
static inline uint32_t
tthc_test_rand(uint32_t *st)
{
    uint32_t  x = *st;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *st = x;

    return x;
}

#endif /* TTHC_TEST_H */
