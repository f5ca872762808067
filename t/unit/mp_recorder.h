/*
 * mp_recorder.h — test helper for common/tthc_multipart (RFC 7578): records
 * callbacks as a canonical log independent of how part data is split, and
 * checks the callback protocol (begin/data/end order, no empty data).
 * Shared by test_multipart.c and fuzz_multipart.c.
 */
#ifndef MP_RECORDER_H
#define MP_RECORDER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tthc_multipart.h"

typedef struct {
    char    *log;
    size_t   len, cap;
    int      in_part;
    int      parts;
    int      violations;    /* protocol errors seen */
    int      fail_begin;    /* fail part_begin of part #n (1-based), 0 never */
    int      fail_data;     /* fail the first part_data of part #n */
    int      fail_end;      /* fail part_end of part #n */
    int      fail_rc;       /* value returned when failing */
} mp_rec_t;


static inline void
mp_rec_append(mp_rec_t *r, const void *p, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        size_t  cap = r->cap ? r->cap : 256;
        char   *np;

        while (r->len + n + 1 > cap) {
            cap *= 2;
        }

        np = realloc(r->log, cap);
        if (np == NULL) {
            abort();
        }

        r->log = np;
        r->cap = cap;
    }

    memcpy(r->log + r->len, p, n);
    r->len += n;
    r->log[r->len] = '\0';
}


static inline int
mp_rec_begin(void *ud, const tthc_mp_part_t *part)
{
    char       hdr[1024];
    int        n;
    mp_rec_t  *r = ud;

    if (r->in_part) {
        r->violations++;
    }

    /* fields must be NUL-terminated at their stated lengths */
    if (strlen(part->name) != part->name_len || part->name_len == 0
        || strlen(part->filename) != part->filename_len
        || (!part->has_filename && part->filename_len != 0)
        || part->name_len >= sizeof(part->name)
        || part->filename_len >= sizeof(part->filename)
        || strlen(part->content_type) >= sizeof(part->content_type))
    {
        r->violations++;
    }

    r->in_part = 1;
    r->parts++;

    n = snprintf(hdr, sizeof(hdr), "[%s|%s|%d|%s]{", part->name,
                 part->filename, part->has_filename, part->content_type);
    mp_rec_append(r, hdr, (size_t) n);

    return r->fail_begin == r->parts ? r->fail_rc : 0;
}


static inline int
mp_rec_data(void *ud, const unsigned char *p, size_t n)
{
    mp_rec_t  *r = ud;

    if (!r->in_part || n == 0) {
        r->violations++;
    }

    mp_rec_append(r, p, n);

    if (r->fail_data == r->parts) {
        return r->fail_rc;
    }

    return 0;
}


static inline int
mp_rec_end(void *ud)
{
    mp_rec_t  *r = ud;

    if (!r->in_part) {
        r->violations++;
    }

    r->in_part = 0;
    mp_rec_append(r, "}\n", 2);

    return r->fail_end == r->parts ? r->fail_rc : 0;
}


static const tthc_mp_callbacks_t  mp_rec_cb = {
    mp_rec_begin, mp_rec_data, mp_rec_end
};


static inline void
mp_rec_free(mp_rec_t *r)
{
    free(r->log);
    r->log = NULL;
    r->len = r->cap = 0;
}


/*
 * Parses body with the given boundary in chunks of `chunk` bytes (0 = all at
 * once; sizes[] cycles through an array if given), each chunk copied into its
 * own exactly-sized heap block so ASan catches any read past n. Returns the
 * final status: the first non-OK feed result, else tthc_mp_finish().
 */
static inline int
mp_run(const char *boundary, const void *body, size_t len, size_t chunk,
    const size_t *sizes, size_t nsizes, mp_rec_t *r, tthc_mp_t *mp)
{
    int                   rc;
    size_t                off, n, k;
    unsigned char        *copy;
    const unsigned char  *b = body;

    tthc_mp_init(mp, boundary, strlen(boundary), &mp_rec_cb, r);

    rc = TTHC_MP_OK;
    off = 0;
    k = 0;

    while (off < len) {
        n = sizes != NULL ? sizes[k++ % nsizes] : (chunk ? chunk : len);
        if (n > len - off) {
            n = len - off;
        }

        copy = malloc(n ? n : 1);
        if (copy == NULL) {
            abort();
        }
        memcpy(copy, b + off, n);
        rc = tthc_mp_feed(mp, copy, n);
        free(copy);
        off += n;

        if (rc != TTHC_MP_OK) {
            return rc;
        }
    }

    return tthc_mp_finish(mp);
}

#endif /* MP_RECORDER_H */
