/* totp.c - pure helpers for the officials' second factor
 * (docs/contracts-identity.md "Officials"): RFC 4648 base32, RFC 4226 HOTP,
 * RFC 6238 TOTP (HMAC-SHA-1, 30 s, 6 digits, +-1 step, no replay of a step
 * already used).  HMAC by OpenSSL libcrypto. */
#include "wk.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void wk_base32_encode(const unsigned char *in, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    unsigned buf = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        buf = (buf << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            if (o + 1 < outsz)
                out[o++] = B32[(buf >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0 && o + 1 < outsz)
        out[o++] = B32[(buf << (5 - bits)) & 31];
    if (outsz)
        out[o < outsz ? o : outsz - 1] = '\0';
}

int wk_base32_decode(const char *in, unsigned char *out, size_t outsz)
{
    unsigned buf = 0;
    int bits = 0;
    size_t o = 0;
    for (const char *p = in; p && *p; p++) {
        if (*p == '=' || *p == ' ' || *p == '-')
            continue;
        const char *q = strchr(B32, toupper((unsigned char)*p));
        if (q == NULL || *q == '\0')
            return -1;
        buf = (buf << 5) | (unsigned)(q - B32);
        bits += 5;
        if (bits >= 8) {
            if (o >= outsz)
                return -1;
            out[o++] = (unsigned char)(buf >> (bits - 8));
            bits -= 8;
        }
    }
    return (int)o;
}

long wk_hotp(const unsigned char *key, size_t keylen, uint64_t counter, int digits)
{
    unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (digits < 6 || digits > 9)
        return -1;
    for (int i = 7; i >= 0; i--) {
        msg[i] = (unsigned char)(counter & 0xff);
        counter >>= 8;
    }
    if (HMAC(EVP_sha1(), key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL || maclen < 20)
        return -1;
    int off = mac[maclen - 1] & 0x0f;
    unsigned long bin = ((unsigned long)(mac[off] & 0x7f) << 24) | ((unsigned long)mac[off + 1] << 16)
                        | ((unsigned long)mac[off + 2] << 8) | mac[off + 3];
    unsigned long mod = 1;
    for (int i = 0; i < digits; i++)
        mod *= 10;
    return (long)(bin % mod);
}

int wk_totp_check(const char *secret_b32, const char *code, time_t now,
                  long long last_step, long long *step)
{
    unsigned char key[64];
    if (code == NULL || strlen(code) != 6)
        return 0;
    for (int i = 0; i < 6; i++)
        if (!isdigit((unsigned char)code[i]))
            return 0;
    int kl = wk_base32_decode(secret_b32, key, sizeof(key));
    if (kl < 10)
        return 0;
    long long t = (long long)now / 30;
    int found = 0;
    for (long long s = t - 1; s <= t + 1; s++) {
        long v = wk_hotp(key, (size_t)kl, (uint64_t)s, 6);
        char want[8];
        snprintf(want, sizeof(want), "%06ld", v);
        /* every candidate compared: no early exit on a match */
        if (v >= 0 && s > last_step && sodium_memcmp(want, code, 6) == 0 && !found) {
            found = 1;
            *step = s;
        }
    }
    sodium_memzero(key, sizeof(key));
    return found;
}
