/*
 * test_multipart.c — unit tests of common/tthc_multipart: streaming
 * multipart/form-data (RFC 7578, RFC 2046 §5.1, RFC 5987/8187 filename*).
 */
#include "tthc_test.h"
#include "mp_recorder.h"

#define CRLF "\r\n"


/*
 * Parses body one-shot and with every chunk size 1..max_chunk; all runs must
 * give want_rc and the same log (want_log if not NULL) and obey the protocol.
 */
static void
expect_n(const char *boundary, const char *body, size_t len, int want_rc,
    const char *want_log, size_t max_chunk)
{
    int        rc;
    size_t     chunk;
    char      *first;
    mp_rec_t   r;
    tthc_mp_t  mp;

    memset(&r, 0, sizeof(r));
    rc = mp_run(boundary, body, len, 0, NULL, 0, &r, &mp);

    if (rc != want_rc) {
        fail_msg("rc %d, want %d; log:\n%s", rc, want_rc, r.log ? r.log : "");
    }

    assert_int_equal(r.violations, 0);

    if (want_log != NULL) {
        if (strcmp(r.log ? r.log : "", want_log) != 0) {
            fail_msg("log:\n%s\nwant:\n%s", r.log ? r.log : "", want_log);
        }
    }

    first = r.log ? strdup(r.log) : strdup("");
    mp_rec_free(&r);

    for (chunk = 1; chunk <= max_chunk; chunk++) {
        memset(&r, 0, sizeof(r));
        rc = mp_run(boundary, body, len, chunk, NULL, 0, &r, &mp);

        if (rc != want_rc) {
            fail_msg("chunk %zu: rc %d, want %d", chunk, rc, want_rc);
        }

        assert_int_equal(r.violations, 0);

        if (strcmp(r.log ? r.log : "", first) != 0) {
            fail_msg("chunk %zu: log differs:\n%s\nvs one-shot:\n%s",
                     chunk, r.log ? r.log : "", first);
        }

        mp_rec_free(&r);
    }

    free(first);
}

#define EXPECT(b, body, rc, log)  expect_n(b, body, sizeof(body) - 1, rc, log, 16)


static const char  sample[] =
    "This is the preamble, ignored. --boundar" CRLF
    "--AaB03x" CRLF
    "Content-Disposition: form-data; name=\"application\"" CRLF
    "Content-Type: application/json; charset=UTF-8" CRLF
    CRLF
    "{\"procedure\":\"1.001234.000.00.00.H41\",\"applicant\":{\"name\":\"Nguy\xe1\xbb\x85n V\xc4\x83n An\"}}" CRLF
    "--AaB03x" CRLF
    "content-disposition: form-data; name=\"TK\"; filename=\"C:\\x\\don xin.pdf\"" CRLF
    "Content-Type: Application/PDF" CRLF
    CRLF
    "%PDF-1.4\r\n--AaB03\r\n--AaB0\r\r\n--\r\n-\r\n\r\nX" "--AaB03x-no CR before" "\n--AaB03x" CRLF
    "--AaB03x  \t" CRLF
    "Content-Disposition: form-data; name=GT; filename*=UTF-8''%C4%90%C6%A1n%20xin.png; filename=\"ignored.png\"" CRLF
    CRLF
    CRLF
    "--AaB03x" CRLF
    "Content-Disposition: form-data; name=\"empty\"" CRLF
    CRLF
    CRLF
    "--AaB03x--" CRLF
    "epilogue --AaB03x garbage \xff";

static const char  sample_log[] =
    "[application||0|application/json]{"
    "{\"procedure\":\"1.001234.000.00.00.H41\",\"applicant\":{\"name\":\"Nguy\xe1\xbb\x85n V\xc4\x83n An\"}}"
    "}\n"
    "[TK|don xin.pdf|1|application/pdf]{"
    "%PDF-1.4\r\n--AaB03\r\n--AaB0\r\r\n--\r\n-\r\n\r\nX" "--AaB03x-no CR before" "\n--AaB03x"
    "}\n"
    "[GT|\xc4\x90\xc6\xa1n xin.png|1|]{"
    "}\n"
    "[empty||0|]{"
    "}\n";


static void
test_simple_form(void **state)
{
    (void) state;

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "1" CRLF
           "--b" CRLF
           "Content-Disposition: form-data; name=\"b\"" CRLF
           CRLF
           "hello world" CRLF
           "--b--",
           TTHC_MP_DONE,
           "[a||0|]{1}\n[b||0|]{hello world}\n");
}


static void
test_file_and_json(void **state)
{
    (void) state;

    expect_n("AaB03x", sample, sizeof(sample) - 1, TTHC_MP_DONE, sample_log,
             64);
}


static void
test_irregular_chunks(void **state)
{
    int        rc, round;
    size_t     sizes[32], i;
    uint32_t   st;
    mp_rec_t   r;
    tthc_mp_t  mp;

    (void) state;

    st = 42;

    for (round = 0; round < 500; round++) {
        for (i = 0; i < 32; i++) {
            sizes[i] = 1 + tthc_test_rand(&st) % (round % 2 ? 7 : 90);
        }

        memset(&r, 0, sizeof(r));
        rc = mp_run("AaB03x", sample, sizeof(sample) - 1, 0, sizes, 32, &r,
                    &mp);
        assert_int_equal(rc, TTHC_MP_DONE);
        assert_int_equal(r.violations, 0);
        assert_string_equal(r.log, sample_log);
        mp_rec_free(&r);
    }
}


static void
test_binary_data(void **state)
{
    int        rc;
    size_t     i, n;
    char      *body;
    mp_rec_t   r;
    tthc_mp_t  mp;
    static const char  head[] = "--xyz" CRLF
        "Content-Disposition: form-data; name=\"f\"; filename=\"b.bin\"" CRLF
        "Content-Type: application/octet-stream" CRLF CRLF;
    static const char  tail[] = CRLF "--xyz--" CRLF;

    (void) state;

    /* all 256 byte values, several times, with CR LF - sprinkled in */
    body = malloc(sizeof(head) + 4096 + sizeof(tail));
    assert_non_null(body);
    memcpy(body, head, sizeof(head) - 1);
    n = sizeof(head) - 1;
    for (i = 0; i < 4096; i++) {
        body[n++] = (char) (i % 7 == 0 ? "\r\n-"[i % 3] : (int) (i * 31 % 256));
    }
    memcpy(body + n, tail, sizeof(tail) - 1);
    n += sizeof(tail) - 1;

    memset(&r, 0, sizeof(r));
    rc = mp_run("xyz", body, n, 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_DONE);
    assert_int_equal(r.violations, 0);
    assert_memory_equal(r.log + strlen("[f|b.bin|1|application/octet-stream]{"),
                        body + sizeof(head) - 1, 4096);
    mp_rec_free(&r);

    expect_n("xyz", body, n, TTHC_MP_DONE, NULL, 20);
    free(body);
}


static void
test_boundary_like_data(void **state)
{
    (void) state;

    /* prefixes of the delimiter inside data are data */
    EXPECT("boundary",
           "--boundary" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF
           CRLF
           "a\r\n--bound" "b\r\n--boundar" "c\r\n-" "d\r\n" "e\r" "f--boundary"
           "\r\r\n--boundary--",
           TTHC_MP_DONE,
           "[x||0|]{a\r\n--boundb\r\n--boundarc\r\n-d\r\ne\rf--boundary\r}\n");

    /* "--boundary" right after the header block is data (no CRLF before) */
    EXPECT("boundary",
           "--boundary" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF
           CRLF
           "--boundary" CRLF
           "--boundary--",
           TTHC_MP_DONE,
           "[x||0|]{--boundary}\n");

    /* a longer boundary containing the real one is a complete delimiter
       followed by garbage: RFC 2046 forbids it in content */
    EXPECT("boundary",
           "--boundary" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF
           CRLF
           "a\r\n--boundaryX\r\n" CRLF
           "--boundary--",
           TTHC_MP_ERR_SYNTAX,
           "[x||0|]{a}\n");

    /* boundaries made of dashes overlap with the "--" prefix */
    EXPECT("-",
           "---" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF
           CRLF
           "\r\n--\r\n-\r\n--x\r\n" "\r\n-----",
           TTHC_MP_DONE,
           "[x||0|]{\r\n--\r\n-\r\n--x\r\n}\n");

    EXPECT("--",
           "----" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF
           CRLF
           "\r\n---\r\n---x\r\n-" "\r\n------",
           TTHC_MP_DONE,
           "[x||0|]{\r\n---\r\n---x\r\n-}\n");
}


/*
 * Boundaries from tthc_mp_boundary never contain CR/LF, so the delimiter has
 * no self-overlap; tthc_mp_init still accepts any bytes, and the general KMP
 * path (partial release of held-back bytes) must then be right too.
 */
static void
test_self_overlapping_delimiter(void **state)
{
    (void) state;

    EXPECT("a\r\n--a",
           "--a\r\n--a" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF CRLF
           "X\r\n--a\r\n--bY\r\n--a\r\n-\r\n--a\r\n--a--",
           TTHC_MP_DONE,
           "[x||0|]{X\r\n--a\r\n--bY\r\n--a\r\n-}\n");

    /* held-back "\r\n--a\r\n--" then 'a': 5 bytes released, 5 kept */
    EXPECT("a\r\n--b",
           "--a\r\n--b" CRLF
           "Content-Disposition: form-data; name=\"x\"" CRLF CRLF
           "X\r\n--a\r\n--a\r\n--Z\r\n--a\r\n--a\r\n--b--",
           TTHC_MP_DONE,
           "[x||0|]{X\r\n--a\r\n--a\r\n--Z\r\n--a}\n");
}


static void
test_missing_final_boundary(void **state)
{
    (void) state;

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "data without end",
           TTHC_MP_ERR_SYNTAX,
           "[a||0|]{data without end");

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "data" CRLF "--b" CRLF,
           TTHC_MP_ERR_SYNTAX,
           "[a||0|]{data}\n");

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "data" CRLF "--b-",
           TTHC_MP_ERR_SYNTAX,
           "[a||0|]{data}\n");

    /* held-back delimiter prefix at the end is not data either */
    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "data" CRLF "-",
           TTHC_MP_ERR_SYNTAX,
           "[a||0|]{data");

    EXPECT("b", "--b" CRLF "Content-Disposition: form-data; name=\"a\"",
           TTHC_MP_ERR_SYNTAX, "");
    EXPECT("b", "no boundary at all", TTHC_MP_ERR_SYNTAX, "");
    EXPECT("b", "", TTHC_MP_ERR_SYNTAX, "");
    EXPECT("b", "--b", TTHC_MP_ERR_SYNTAX, "");
    EXPECT("b", "--c--" CRLF, TTHC_MP_ERR_SYNTAX, "");
}


static void
test_bad_closing(void **state)
{
    (void) state;

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "x" CRLF "--b-x",
           TTHC_MP_ERR_SYNTAX, "[a||0|]{x}\n");

    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF
           CRLF
           "x" CRLF "--b \rx",
           TTHC_MP_ERR_SYNTAX, "[a||0|]{x}\n");

    EXPECT("b", "--bX" CRLF, TTHC_MP_ERR_SYNTAX, "");

    /* zero parts is well-formed; the caller reports the missing part */
    EXPECT("b", "--b--", TTHC_MP_DONE, "");
    EXPECT("b", "preamble" CRLF "--b--" CRLF, TTHC_MP_DONE, "");
}


static void
test_header_too_large(void **state)
{
    int        rc;
    char       body[8192];
    size_t     n, fill;
    mp_rec_t   r;
    tthc_mp_t  mp;
    static const char  cd[] = "Content-Disposition: form-data; name=\"a\"" CRLF;

    (void) state;

    /* header block of exactly TTHC_MP_HEADER_MAX bytes: accepted */
    for (fill = 0; fill < 2; fill++) {
        n = 0;
        memcpy(body, "--b" CRLF, 5);
        n = 5;
        memcpy(body + n, cd, sizeof(cd) - 1);
        n += sizeof(cd) - 1;
        memcpy(body + n, "X-Pad: ", 7);
        n += 7;
        /* block = cd + "X-Pad: " + pad + CRLF + CRLF */
        {
            size_t  pad = TTHC_MP_HEADER_MAX - (sizeof(cd) - 1) - 7 - 4 + fill;
            memset(body + n, 'p', pad);
            n += pad;
        }
        memcpy(body + n, CRLF CRLF "v" CRLF "--b--", 13);
        n += 13;

        memset(&r, 0, sizeof(r));
        rc = mp_run("b", body, n, 0, NULL, 0, &r, &mp);
        assert_int_equal(rc, fill == 0 ? TTHC_MP_DONE
                                       : TTHC_MP_ERR_HEADER_TOO_LARGE);
        mp_rec_free(&r);

        expect_n("b", body, n, fill == 0 ? TTHC_MP_DONE
                                         : TTHC_MP_ERR_HEADER_TOO_LARGE,
                 fill == 0 ? "[a||0|]{v}\n" : "", 9);
    }

    /* an endless header line */
    memcpy(body, "--b" CRLF "Content-Disposition: form-data; name=\"", 43);
    memset(body + 43, 'a', sizeof(body) - 43);
    memset(&r, 0, sizeof(r));
    rc = mp_run("b", body, sizeof(body), 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_ERR_HEADER_TOO_LARGE);
    /* sticky */
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "x", 1),
                     TTHC_MP_ERR_HEADER_TOO_LARGE);
    assert_int_equal(tthc_mp_finish(&mp), TTHC_MP_ERR_HEADER_TOO_LARGE);
    mp_rec_free(&r);

    /* endless header lines, each short */
    n = 5;
    memcpy(body, "--b" CRLF, 5);
    while (n + 8 < sizeof(body)) {
        memcpy(body + n, "X: y" CRLF, 6);
        n += 6;
    }
    memset(&r, 0, sizeof(r));
    rc = mp_run("b", body, n, 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_ERR_HEADER_TOO_LARGE);
    mp_rec_free(&r);
}


static void
test_missing_or_bad_name(void **state)
{
    size_t  i;
    char    body[512];
    static const char *const  bad[] = {
        "Content-Disposition: form-data",
        "Content-Disposition: form-data;",
        "Content-Disposition: form-data; filename=\"a.pdf\"",
        "Content-Disposition: form-data; name=\"\"",
        "Content-Disposition: form-data; name=",
        "Content-Disposition: form-data; name=\"a",
        "Content-Disposition: form-data; name=\"a\"; name=\"b\"",
        "Content-Disposition: form-data; name=\"a\"; filename=x; filename=y",
        "Content-Disposition: form-data; name=\"a\"; filename*=UTF-8''x; filename*=UTF-8''y",
        "Content-Disposition: form-data; name=\"a\"" CRLF "Content-Disposition: form-data; name=\"b\"",
        "Content-Disposition: form-data; name=\"a\"" CRLF "Content-Type: a/b" CRLF "Content-Type: c/d",
        "Content-Disposition: attachment; name=\"a\"",
        "Content-Disposition: form-datax; name=\"a\"",
        "Content-Disposition: ; name=\"a\"",
        "Content-Disposition: form-data name=\"a\"",
        "Content-Disposition: form-data; name=\"a\" junk",
        "Content-Disposition: form-data; =\"a\"",
        "Content-Disposition: form-data; name \"a\"",
        "Content-Disposition: form-data; name=\"a\tb\x01\"",
        "Content-Disposition: form-data; name=\"a\xff\"",
        "Content-Disposition: form-data; name=\"a\xc2\x85\"",
        "Content-Type: text/plain",
        "X-Other: 1",
        " Content-Disposition: form-data; name=\"a\"",
        "Content Disposition: form-data; name=\"a\"",
        "Content-Disposition form-data; name=\"a\"",
        ": form-data; name=\"a\"",
        "Content-Disposition: form-data; name=\"a\"" CRLF "Content-Type: text/html<x>",
        "Content-Disposition: form-data; name=\"a\"" CRLF "Content-Type: text/ html",
        "Content-Disposition: form-data; name=\"a\"\x7f",
        "Content-Disposition: form-data; name=\"a\"\rX: y",
        "Content-Disposition: form-data; name=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "",
    };

    (void) state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int  n = snprintf(body, sizeof(body),
                          "--b" CRLF "%s" CRLF CRLF "v" CRLF "--b--", bad[i]);

        assert_true(n > 0 && (size_t) n < sizeof(body));
        expect_n("b", body, (size_t) n, TTHC_MP_ERR_SYNTAX, "", 3);
    }

    /* 127-byte name is the maximum */
    {
        char  name[128];
        char  want[256];
        int   n;

        memset(name, 'n', 127);
        name[127] = '\0';
        n = snprintf(body, sizeof(body), "--b" CRLF
                     "Content-Disposition: form-data; name=%s" CRLF CRLF
                     "v" CRLF "--b--", name);
        snprintf(want, sizeof(want), "[%s||0|]{v}\n", name);
        expect_n("b", body, (size_t) n, TTHC_MP_DONE, want, 3);
    }
}


static void
test_callback_errors(void **state)
{
    int        rc, which;
    mp_rec_t   r;
    tthc_mp_t  mp;

    (void) state;

    for (which = 0; which < 3; which++) {
        size_t  chunk;

        for (chunk = 0; chunk <= 7; chunk++) {
            memset(&r, 0, sizeof(r));
            r.fail_rc = 40 + which;
            if (which == 0) {
                r.fail_begin = 2;
            } else if (which == 1) {
                r.fail_data = 2;
            } else {
                r.fail_end = 2;
            }

            rc = mp_run("AaB03x", sample, sizeof(sample) - 1, chunk, NULL, 0,
                        &r, &mp);
            assert_int_equal(rc, TTHC_MP_ERR_CALLBACK);
            assert_int_equal(mp.cb_error, 40 + which);
            assert_int_equal(r.parts, 2);
            /* no callbacks after the failing one; errors are sticky */
            assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "--", 2),
                             TTHC_MP_ERR_CALLBACK);
            assert_int_equal(tthc_mp_finish(&mp), TTHC_MP_ERR_CALLBACK);
            assert_int_equal(r.parts, 2);
            mp_rec_free(&r);
        }
    }

    /* negative callback values are passed through too */
    memset(&r, 0, sizeof(r));
    r.fail_begin = 1;
    r.fail_rc = -7;
    rc = mp_run("AaB03x", sample, sizeof(sample) - 1, 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_ERR_CALLBACK);
    assert_int_equal(mp.cb_error, -7);
    mp_rec_free(&r);
}


static void
test_boundary_param(void **state)
{
    char    out[TTHC_MP_BOUNDARY_MAX + 1];
    char    ct[256];
    size_t  n, i;
    static const char *const  bad[] = {
        "",
        "multipart/form-data",
        "multipart/form-data;",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\"\"",
        "multipart/form-data; boundary=\"abc",
        "multipart/form-data; boundary=\"abc \"",
        "multipart/form-data; boundary=a@b",
        "multipart/form-data; boundary=\"a\\\"b\"",
        "multipart/form-data; boundary=a; boundary=b",
        "multipart/form-data; boundary=a b",
        "multipart/form-datax; boundary=a",
        "multipart/mixed; boundary=a",
        "multipart/form; boundary=a",
        "application/json",
        "application/x-www-form-urlencoded; boundary=a",
        "form-data; boundary=a",
        "multipart/form-data boundary=a",
        "multipart/form-data; boundary=a\x01",
        "multipart/form-data; boundary=\xc3\xa9",
        "multipart/form-data; =a; boundary=b",
        "multipart/form-data; boundary=1234567890123456789012345678901234567890123456789012345678901234567890X",
    };

    (void) state;

#define OK(s, want)                                                           \
    do {                                                                      \
        memset(out, 'x', sizeof(out));                                        \
        n = 999;                                                              \
        assert_int_equal(tthc_mp_boundary(S(s), out, &n), 0);                 \
        assert_string_equal(out, want);                                       \
        assert_int_equal(n, strlen(want));                                    \
    } while (0)

    OK("multipart/form-data; boundary=AaB03x", "AaB03x");
    OK("Multipart/Form-Data;boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW",
       "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    OK("MULTIPART/FORM-DATA; BOUNDARY=x", "x");
    OK("  multipart/form-data ;  boundary = \"a b:c'()+_,-./=?\" ",
       "a b:c'()+_,-./=?");
    OK("multipart/form-data; charset=utf-8; boundary=xyz", "xyz");
    OK("multipart/form-data; foo=\"a;b\\\"; boundary=no\"; boundary=xyz",
       "xyz");
    OK("multipart/form-data; boundary=xyz;", "xyz");
    OK("multipart/form-data; boundary=1234567890123456789012345678901234567890123456789012345678901234567890",
       "1234567890123456789012345678901234567890123456789012345678901234567890");

#undef OK

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (tthc_mp_boundary(bad[i], strlen(bad[i]), out, &n) != -1) {
            fail_msg("accepted Content-Type \"%s\"", bad[i]);
        }
    }

    assert_int_equal(tthc_mp_boundary(NULL, 0, out, &n), -1);
    assert_int_equal(tthc_mp_boundary(S("multipart/form-data; boundary=a"),
                                      NULL, &n), -1);
    assert_int_equal(tthc_mp_boundary(S("multipart/form-data; boundary=a"),
                                      out, NULL), 0);
    assert_int_equal(tthc_mp_boundary("multipart/form-data; boundary=a\0b",
                                      33, out, &n), -1);

    /* a quoted boundary with a space, end to end */
    snprintf(ct, sizeof(ct), "multipart/form-data; boundary=\"my bound\"");
    assert_int_equal(tthc_mp_boundary(ct, strlen(ct), out, &n), 0);
    assert_string_equal(out, "my bound");
    EXPECT("my bound",
           "--my bound" CRLF
           "Content-Disposition: form-data; name=\"q\"" CRLF CRLF
           "my bound" CRLF "--my bound--",
           TTHC_MP_DONE, "[q||0|]{my bound}\n");
}


static void
test_filename_star(void **state)
{
    (void) state;

#define FN(cd, log)                                                           \
    EXPECT("b", "--b" CRLF "Content-Disposition: form-data; name=\"f\"; " cd  \
           CRLF CRLF "v" CRLF "--b--", TTHC_MP_DONE, log)

    FN("filename=\"fallback.pdf\"; filename*=UTF-8''%C4%90%C6%A1n%20xin.pdf",
       "[f|\xc4\x90\xc6\xa1n xin.pdf|1|]{v}\n");
    FN("filename*=utf-8'vi'%c4%90%c6%a1n.pdf; filename=\"fallback.pdf\"",
       "[f|\xc4\x90\xc6\xa1n.pdf|1|]{v}\n");
    FN("filename*=\"UTF-8''quoted%20too.txt\"",
       "[f|quoted too.txt|1|]{v}\n");
    FN("filename*=iso-8859-1''caf%E9.txt",
       "[f|caf\xc3\xa9.txt|1|]{v}\n");
    FN("filename*=UTF-8''..%2F..%2Fetc%2Fpasswd",
       "[f|passwd|1|]{v}\n");
    FN("filename*=UTF-8''C%3A%5Cx%5Ca.pdf",
       "[f|a.pdf|1|]{v}\n");
    /* undecodable filename* falls back to filename */
    FN("filename*=UTF-8''bad%zz.pdf; filename=\"fallback.pdf\"",
       "[f|fallback.pdf|1|]{v}\n");
    FN("filename*=KOI8-R''x.pdf; filename=\"fallback.pdf\"",
       "[f|fallback.pdf|1|]{v}\n");
    FN("filename*=noquotes.pdf; filename=\"fallback.pdf\"",
       "[f|fallback.pdf|1|]{v}\n");
    FN("filename*=UTF-8''trunc%4; filename=\"fallback.pdf\"",
       "[f|fallback.pdf|1|]{v}\n");
    /* decoded control characters and invalid UTF-8 become '_' */
    FN("filename*=UTF-8''a%00b%0D%0Ac%FF.txt",
       "[f|a_b__c_.txt|1|]{v}\n");

#undef FN

    /* undecodable filename* and no filename: malformed */
    EXPECT("b", "--b" CRLF "Content-Disposition: form-data; name=\"f\"; "
           "filename*=UTF-8''bad%zz.pdf" CRLF CRLF "v" CRLF "--b--",
           TTHC_MP_ERR_SYNTAX, "");
}


static void
test_filename_paths(void **state)
{
    (void) state;

#define FN(cd, log)                                                           \
    EXPECT("b", "--b" CRLF "Content-Disposition: form-data; name=\"f\"; " cd  \
           CRLF CRLF "v" CRLF "--b--", TTHC_MP_DONE, log)

    FN("filename=\"C:\\x\\a.pdf\"", "[f|a.pdf|1|]{v}\n");
    FN("filename=\"C:\\\\x\\\\a.pdf\"", "[f|a.pdf|1|]{v}\n");
    FN("filename=\"/etc/passwd\"", "[f|passwd|1|]{v}\n");
    FN("filename=\"../../a/b\\c.txt\"", "[f|c.txt|1|]{v}\n");
    FN("filename=\"dir/\"", "[f||1|]{v}\n");
    FN("filename=\"\"", "[f||1|]{v}\n");
    FN("filename=plain.txt", "[f|plain.txt|1|]{v}\n");
    FN("filename=\"say \\\"hi\\\".txt\"", "[f|say \"hi\".txt|1|]{v}\n");
    FN("filename=\"%22pct%22.txt\"", "[f|%22pct%22.txt|1|]{v}\n");
    FN("filename=\"\xc4\x90\xc6\xa1n xin.pdf\"",
       "[f|\xc4\x90\xc6\xa1n xin.pdf|1|]{v}\n");
    FN("filename=\"bad\xff\xc3.pdf\"", "[f|bad__.pdf|1|]{v}\n");
    FN("FileName=\"UPPER.PDF\"", "[f|UPPER.PDF|1|]{v}\n");

#undef FN
}


static void
test_filename_long(void **state)
{
    int        rc, n;
    char       body[2048], fname[700];
    size_t     i, flen;
    mp_rec_t   r;
    tthc_mp_t  mp;
    const char *p;

    (void) state;

    /* 300 x "đ" (2 bytes) + ".pdf": truncated to <= 255 bytes, valid UTF-8,
       extension kept */
    flen = 0;
    for (i = 0; i < 300; i++) {
        memcpy(fname + flen, "\xc4\x91", 2);
        flen += 2;
    }
    memcpy(fname + flen, ".pdf", 5);

    n = snprintf(body, sizeof(body), "--b" CRLF
                 "Content-Disposition: form-data; name=f; filename=\"%s\""
                 CRLF CRLF "v" CRLF "--b--", fname);
    assert_true(n > 0 && (size_t) n < sizeof(body));

    memset(&r, 0, sizeof(r));
    rc = mp_run("b", body, (size_t) n, 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_DONE);
    assert_int_equal(r.violations, 0);

    p = strchr(r.log, '|') + 1;
    flen = (size_t) (strchr(p, '|') - p);
    assert_int_equal(flen, 254);                    /* 125 x 2 + 4 */
    assert_true(tthc_test_utf8_ok(p, flen));
    assert_memory_equal(p + flen - 4, ".pdf", 4);
    mp_rec_free(&r);

    /* no usable extension: plain cut at a codepoint boundary */
    memset(fname, 'a', 1);
    for (i = 1; i + 3 <= 600; i += 3) {
        memcpy(fname + i, "\xe1\xbb\x99", 3);       /* ộ */
    }
    fname[i] = '\0';
    n = snprintf(body, sizeof(body), "--b" CRLF
                 "Content-Disposition: form-data; name=f; filename=\"%s\""
                 CRLF CRLF "v" CRLF "--b--", fname);
    memset(&r, 0, sizeof(r));
    rc = mp_run("b", body, (size_t) n, 0, NULL, 0, &r, &mp);
    assert_int_equal(rc, TTHC_MP_DONE);
    p = strchr(r.log, '|') + 1;
    flen = (size_t) (strchr(p, '|') - p);
    assert_int_equal(flen, 253);                    /* 1 + 84 x 3 */
    assert_true(tthc_test_utf8_ok(p, flen));
    mp_rec_free(&r);
}


static void
test_header_syntax_variants(void **state)
{
    (void) state;

    /* bare LF line ends, boundary line ends too */
    EXPECT("b",
           "--b\n"
           "Content-Disposition: form-data; name=\"a\"\n"
           "Content-Type: Text/Plain; charset=utf-8\n"
           "\n"
           "lf" CRLF "--b--",
           TTHC_MP_DONE, "[a||0|text/plain]{lf}\n");

    /* mixed, folded header, extra headers, odd spacing and case */
    EXPECT("b",
           "--b" CRLF
           "X-Ignored: yes" CRLF
           "CONTENT-DISPOSITION:form-data;" CRLF
           "\tname=\"a\" ;" CRLF
           " filename = \"f.txt\"" CRLF
           "content-type:   image/PNG   " CRLF
           "\n"
           "folded" CRLF "--b--",
           TTHC_MP_DONE, "[a|f.txt|1|image/png]{folded}\n");

    /* transport padding after the boundary, preamble and epilogue */
    EXPECT("b",
           "preamble\r\n--notb\r\n" "--b \t " CRLF
           "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
           "x" CRLF "--b--   trailing" CRLF "--b" CRLF "epilogue",
           TTHC_MP_DONE, "[a||0|]{x}\n");

    /* unknown params and a trailing ';' are ignored; empty Content-Type */
    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; foo=bar; name=a; x=\"y;z\";" CRLF
           "Content-Type:" CRLF CRLF
           CRLF "--b--",
           TTHC_MP_DONE, "[a||0|]{}\n");

    /* CR CR LF ending a header line is a control character in the value */
    EXPECT("b",
           "--b" CRLF
           "Content-Disposition: form-data; name=a\r" CRLF CRLF
           "x" CRLF "--b--",
           TTHC_MP_ERR_SYNTAX, "");
}


static void
test_api_edges(void **state)
{
    int        rc;
    mp_rec_t   r;
    tthc_mp_t  mp;
    char       big[TTHC_MP_BOUNDARY_MAX + 2];
    static const char  body[] =
        "--b" CRLF "Content-Disposition: form-data; name=a" CRLF CRLF
        "x" CRLF "--b--" CRLF "ignored";

    (void) state;

    /* NULL callbacks */
    tthc_mp_init(&mp, S("b"), NULL, NULL);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) body,
                                  sizeof(body) - 1), TTHC_MP_DONE);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "zz", 2),
                     TTHC_MP_DONE);
    assert_int_equal(tthc_mp_finish(&mp), TTHC_MP_DONE);

    /* empty feeds are harmless */
    memset(&r, 0, sizeof(r));
    tthc_mp_init(&mp, S("b"), &mp_rec_cb, &r);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "", 0),
                     TTHC_MP_OK);
    assert_int_equal(tthc_mp_feed(&mp, NULL, 0), TTHC_MP_OK);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) body,
                                  sizeof(body) - 1), TTHC_MP_DONE);
    assert_string_equal(r.log, "[a||0|]{x}\n");
    mp_rec_free(&r);

    /* invalid boundaries at init */
    memset(big, 'b', sizeof(big));
    tthc_mp_init(&mp, big, TTHC_MP_BOUNDARY_MAX + 1, NULL, NULL);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "--", 2),
                     TTHC_MP_ERR_SYNTAX);
    tthc_mp_init(&mp, "", 0, NULL, NULL);
    assert_int_equal(tthc_mp_feed(&mp, (const unsigned char *) "--", 2),
                     TTHC_MP_ERR_SYNTAX);
    tthc_mp_init(&mp, NULL, 1, NULL, NULL);
    assert_int_equal(tthc_mp_finish(&mp), TTHC_MP_ERR_SYNTAX);

    /* 70-byte boundary works */
    memset(big, 'q', TTHC_MP_BOUNDARY_MAX);
    big[TTHC_MP_BOUNDARY_MAX] = '\0';
    {
        char  b2[512];
        int   n = snprintf(b2, sizeof(b2), "--%s" CRLF
                           "Content-Disposition: form-data; name=a" CRLF CRLF
                           "\r\n--%.69s" CRLF "--%s--", big, big, big);

        expect_n(big, b2, (size_t) n, TTHC_MP_DONE, NULL, 80);

        memset(&r, 0, sizeof(r));
        rc = mp_run(big, b2, (size_t) n, 0, NULL, 0, &r, &mp);
        assert_int_equal(rc, TTHC_MP_DONE);
        assert_int_equal(strlen(r.log), strlen("[a||0|]{\r\n--}\n") + 69);
        mp_rec_free(&r);
    }

    /* many parts */
    {
        size_t  i, n = 0, cap = 200000;
        char   *b3 = malloc(cap);

        assert_non_null(b3);
        for (i = 0; i < 2000; i++) {
            n += (size_t) snprintf(b3 + n, cap - n, "--b" CRLF
                                   "Content-Disposition: form-data; name=p%zu"
                                   CRLF CRLF "%zu" CRLF, i, i);
        }
        n += (size_t) snprintf(b3 + n, cap - n, "--b--");

        memset(&r, 0, sizeof(r));
        rc = mp_run("b", b3, n, 0, NULL, 0, &r, &mp);
        assert_int_equal(rc, TTHC_MP_DONE);
        assert_int_equal(r.parts, 2000);
        assert_int_equal(r.violations, 0);
        mp_rec_free(&r);
        free(b3);
    }
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_simple_form),
        cmocka_unit_test(test_file_and_json),
        cmocka_unit_test(test_irregular_chunks),
        cmocka_unit_test(test_binary_data),
        cmocka_unit_test(test_boundary_like_data),
        cmocka_unit_test(test_self_overlapping_delimiter),
        cmocka_unit_test(test_missing_final_boundary),
        cmocka_unit_test(test_bad_closing),
        cmocka_unit_test(test_header_too_large),
        cmocka_unit_test(test_missing_or_bad_name),
        cmocka_unit_test(test_callback_errors),
        cmocka_unit_test(test_boundary_param),
        cmocka_unit_test(test_filename_star),
        cmocka_unit_test(test_filename_paths),
        cmocka_unit_test(test_filename_long),
        cmocka_unit_test(test_header_syntax_variants),
        cmocka_unit_test(test_api_edges),
    };

    return cmocka_run_group_tests_name("tthc_multipart", tests, NULL, NULL);
}
