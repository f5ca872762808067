/*
 * tthc_multipart.h — streaming multipart/form-data parser, zero allocation:
 * RFC 7578 (multipart/form-data), RFC 2046 §5.1 (boundaries, preamble,
 * epilogue), RFC 5987/8187 (filename*), HTML Living Standard "multipart/
 * form-data encoding algorithm". Carries dossier submissions, DOMAIN A2.
 *
 * Input is hostile: all state is bounded (one header block of at most
 * TTHC_MP_HEADER_MAX bytes plus the boundary look-ahead, which is never copied:
 * pending look-ahead bytes are always a prefix of the delimiter itself).
 *
 * Grammar accepted:
 *  - preamble before the first "--boundary" is ignored (the first delimiter
 *    may start the body without a preceding CRLF);
 *  - the delimiter inside the body is CRLF "--" boundary; it must be followed
 *    by "--" (close) or optional SP/HT padding then CRLF or bare LF; anything
 *    else after a complete delimiter is ERR_SYNTAX (RFC 2046: the boundary
 *    may not appear in content);
 *  - header lines end with CRLF or bare LF; obsolete folding is unfolded;
 *    header names are tokens; values may not hold control characters other
 *    than HT; the header block (including its empty line) is at most
 *    TTHC_MP_HEADER_MAX bytes;
 *  - exactly one Content-Disposition: form-data with a non-empty name
 *    (<= 127 bytes of valid UTF-8, no controls); duplicate parameters or
 *    duplicate Content-Disposition / Content-Type headers are ERR_SYNTAX;
 *  - quoted strings: \" and \\ are escapes, any other backslash is literal
 *    (browsers send Windows paths unescaped);
 *  - filename* (charset UTF-8 or ISO-8859-1, percent-encoded) is preferred
 *    over filename; if it cannot be decoded filename is used, and if there is
 *    none, ERR_SYNTAX; filename plain values are not percent-decoded;
 *  - filename: text after the last '/' or '\'; invalid UTF-8 bytes and
 *    control characters replaced by '_'; longer than 255 bytes -> truncated
 *    at a codepoint boundary keeping a short extension (<= 16 bytes);
 *    filename="" gives has_filename = 1, filename_len = 0;
 *  - content_type: media type lowercased, parameters stripped, must be
 *    token "/" token-ish characters and <= 127 bytes, else ERR_SYNTAX;
 *  - callbacks may be NULL; part_data is never called with n == 0.
 */
#ifndef TTHC_MULTIPART_H
#define TTHC_MULTIPART_H

#include <stddef.h>

#define TTHC_MP_BOUNDARY_MAX  70
#define TTHC_MP_HEADER_MAX    2048      /* max bytes of one part's header block */
#define TTHC_MP_DELIM_MAX     (4 + TTHC_MP_BOUNDARY_MAX)    /* CRLF "--" boundary */

typedef struct {
    char    name[128];      size_t name_len;
    char    filename[256];  size_t filename_len;  int has_filename;
    char    content_type[128];      /* "" if absent; lowercased, parameters stripped */
} tthc_mp_part_t;

typedef struct {
    int (*part_begin)(void *ud, const tthc_mp_part_t *part);
    int (*part_data)(void *ud, const unsigned char *p, size_t n);
    int (*part_end)(void *ud);
} tthc_mp_callbacks_t;

enum {
    TTHC_MP_OK = 0,
    TTHC_MP_DONE = 1,
    TTHC_MP_ERR_SYNTAX = -1,
    TTHC_MP_ERR_HEADER_TOO_LARGE = -2,
    TTHC_MP_ERR_CALLBACK = -3
};

/* public so callers can embed it; fields other than cb_error are private */
typedef struct tthc_mp_s {
    int                   state;
    int                   err;          /* sticky result once failed */
    size_t                dlen;         /* delimiter length */
    size_t                m;            /* delimiter bytes matched (pending) */
    size_t                hdr_len;
    size_t                line_start;
    tthc_mp_callbacks_t   cb;
    void                 *ud;
    unsigned char         delim[TTHC_MP_DELIM_MAX];
    unsigned char         fail[TTHC_MP_DELIM_MAX + 1];
    char                  hdr[TTHC_MP_HEADER_MAX];
    int                   cb_error;     /* non-zero callback return value */
} tthc_mp_t;

/*
 * Extracts the boundary from a Content-Type header value: 0 if the type is
 * multipart/form-data (case-insensitive) with exactly one boundary parameter,
 * quoted or token, 1..70 RFC 2046 bchars (a quoted one may contain spaces but
 * not end with one); -1 otherwise. out must hold TTHC_MP_BOUNDARY_MAX + 1
 * bytes; it is NUL-terminated and *out_len (if not NULL) set.
 */
int tthc_mp_boundary(const char *content_type, size_t len, char *out,
    size_t *out_len);

/* boundary of 1..70 bytes, else every feed returns TTHC_MP_ERR_SYNTAX;
   cb may be NULL; cb is copied. */
void tthc_mp_init(tthc_mp_t *mp, const char *boundary, size_t blen,
    const tthc_mp_callbacks_t *cb, void *ud);

/*
 * Feeds the next n body bytes. Returns TTHC_MP_OK (want more), TTHC_MP_DONE
 * (closing delimiter seen; the epilogue and all further feeds are ignored),
 * or an error; errors are sticky. A non-zero callback return stops parsing:
 * TTHC_MP_ERR_CALLBACK, mp->cb_error = that value. Any chunking gives the same
 * callbacks except for how part data is split.
 */
int tthc_mp_feed(tthc_mp_t *mp, const unsigned char *p, size_t n);

/* at end of body: TTHC_MP_DONE if the closing delimiter was seen; the sticky
   error if parsing had failed; else TTHC_MP_ERR_SYNTAX (truncated body). */
int tthc_mp_finish(tthc_mp_t *mp);

#endif /* TTHC_MULTIPART_H */
