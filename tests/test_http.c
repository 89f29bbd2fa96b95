/*
 * Copyright (C) ngx_llm authors
 *
 * HTTP/1.x responses: one header line at a time (every stop byte at
 * every offset, so both the 16-byte blocks and the scalar tail are
 * crossed; every split of a header block gives the same headers), and
 * a whole response for the gateway's own calls.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_http.h"


#define T_MAX_OFF  40
#define t_min(a, b)  ((a) < (b) ? (a) : (b))


static ssize_t t_line(const char *s, size_t len, llm_http_header_t *h);
static void t_header(const char *s, size_t len, ssize_t n, const char *name,
    const char *value);
static void t_ignored(const char *s, size_t len, ssize_t n);
static void t_blank(const char *s, size_t len, ssize_t n);
static int t_log(const char *p, size_t len, size_t *pos, llm_buf_t *log);
static int t_parse(const char *s, llm_http_resp_t *resp, char *err,
    size_t errlen);
static void t_parse_fails(const char *s, const char *reason);


/* the line at s[0..len), from a copy of exactly len bytes */
static ssize_t
t_line(const char *s, size_t len, llm_http_header_t *h)
{
    char     *c;
    size_t    i;
    ssize_t   n;

    c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, s, len);

    memset(h, 0x5a, sizeof(llm_http_header_t));
    n = llm_http_header_line(c, len, h);

    assert_true(n <= (ssize_t) len);

    if (n > 0) {
        assert_int_equal(c[n - 1], '\n');

        if (h->name) {
            assert_ptr_equal(h->name, c);
            assert_true(h->value >= c && h->value + h->value_len <= c + n);

            /* make the pointers relative to s for the callers */
            i = h->value - c;
            h->name = s;
            h->value = s + i;
        }
    }

    free(c);

    return n;
}


static void
t_header(const char *s, size_t len, ssize_t n, const char *name,
    const char *value)
{
    llm_http_header_t  h;

    assert_int_equal(t_line(s, len, &h), n);
    assert_non_null(h.name);
    assert_int_equal(h.name_len, strlen(name));
    assert_memory_equal(h.name, name, h.name_len);
    assert_int_equal(h.value_len, strlen(value));

    if (h.value_len) {
        assert_memory_equal(h.value, value, h.value_len);
    }

    assert_int_equal(h.name[h.name_len], ':');
}


static void
t_ignored(const char *s, size_t len, ssize_t n)
{
    llm_http_header_t  h;

    assert_int_equal(t_line(s, len, &h), n);
    assert_null(h.name);
}


static void
t_blank(const char *s, size_t len, ssize_t n)
{
    llm_http_header_t  h;

    assert_int_equal(t_line(s, len, &h), n);
    assert_non_null(h.name);
    assert_int_equal(h.name_len, 0);
}


static void
test_header_lines(void **state)
{
    const char  *s;

    s = "Content-Type: application/json\r\nX";
    t_header(s, strlen(s), 32, "Content-Type", "application/json");

    s = "Content-Type: application/json\nX";
    t_header(s, strlen(s), 31, "Content-Type", "application/json");

    /* the name keeps its case */
    s = "CONTENT-LENGTH: 12\r\n";
    t_header(s, strlen(s), 20, "CONTENT-LENGTH", "12");

    s = "x:y\n";
    t_header(s, strlen(s), 4, "x", "y");

    s = "x:y\r\n";
    t_header(s, strlen(s), 5, "x", "y");

    /* only the first line is taken */
    s = "A: 1\r\nB: 2\r\n\r\n";
    t_header(s, strlen(s), 6, "A", "1");
    t_header(s + 6, strlen(s + 6), 6, "B", "2");
    t_blank(s + 12, strlen(s + 12), 2);

    /* bytes above 0x7f pass as they are */
    s = "X-Emoji: caf\xc3\xa9 \xf0\x9f\x8c\x8d\r\n";
    t_header(s, strlen(s), (ssize_t) strlen(s), "X-Emoji",
             "caf\xc3\xa9 \xf0\x9f\x8c\x8d");
}


static void
test_header_blank(void **state)
{
    t_blank("\r\n", 2, 2);
    t_blank("\n", 1, 1);
    t_blank("\r\n{\"a\":1}", 9, 2);
    t_blank("\n\r\n", 3, 1);

    /* a NUL after the line end is the body's business */
    t_blank("\r\n\0\0", 4, 2);
    t_blank("\n\0", 2, 1);
}


static void
test_header_trim(void **state)
{
    const char  *s;

    s = "A:  \t v a:l \t \r\n";
    t_header(s, strlen(s), 16, "A", "v a:l");

    s = "A:\t\tv\t\t\n";
    t_header(s, strlen(s), 8, "A", "v");

    s = "A:\r\n";
    t_header(s, strlen(s), 4, "A", "");

    s = "A:\n";
    t_header(s, strlen(s), 3, "A", "");

    s = "A: \t  \t\r\n";
    t_header(s, strlen(s), 9, "A", "");

    s = "A: \t  \t\n";
    t_header(s, strlen(s), 8, "A", "");

    s = "Location: http://h:80/a:b?c=d e \r\n";
    t_header(s, strlen(s), (ssize_t) strlen(s), "Location",
             "http://h:80/a:b?c=d e");

    /* the first colon splits; the rest belongs to the value */
    s = "A::b:\r\n";
    t_header(s, strlen(s), 7, "A", ":b:");

    /* the name is not checked: a space before the colon stays in it */
    s = "Name : v\r\n";
    t_header(s, strlen(s), 10, "Name ", "v");

    /* whitespace other than SP and HTAB is kept */
    s = "A: \x0bv\x0c \r\n";
    t_header(s, strlen(s), (ssize_t) strlen(s), "A", "\x0bv\x0c");
}


static void
test_header_ignored(void **state)
{
    const char  *s;

    s = "no colon here\r\nA: b\r\n";
    t_ignored(s, strlen(s), 15);

    s = "no colon here\n";
    t_ignored(s, strlen(s), 14);

    s = ": value\r\n";
    t_ignored(s, strlen(s), 9);

    s = ":\n";
    t_ignored(s, strlen(s), 2);

    s = "::\r\n";
    t_ignored(s, strlen(s), 4);

    /* a status-like line inside the headers */
    s = "HTTP/1.1 200 OK\r\n";
    t_ignored(s, strlen(s), 17);
}


static void
test_header_forbidden(void **state)
{
    llm_http_header_t  h;

    /* obs-fold */
    assert_int_equal(t_line(" folded\r\n", 9, &h), -1);
    assert_int_equal(t_line("\tfolded\r\n", 9, &h), -1);
    assert_int_equal(t_line(" folded: x\r\n", 12, &h), -1);
    assert_int_equal(t_line("\tA: b\n", 6, &h), -1);
    assert_int_equal(t_line(" \r\n", 3, &h), -1);
    assert_int_equal(t_line("\t\n", 2, &h), -1);

    /* a NUL anywhere before the line end */
    assert_int_equal(t_line("\0\r\n", 3, &h), -1);
    assert_int_equal(t_line("\0", 1, &h), -1);
    assert_int_equal(t_line("Na\0me: v\r\n", 10, &h), -1);
    assert_int_equal(t_line("Name: v\0alue\r\n", 14, &h), -1);
    assert_int_equal(t_line("Name: value\0\r\n", 14, &h), -1);
    assert_int_equal(t_line("Name: value\0", 12, &h), -1);
    assert_int_equal(t_line("Name\0", 5, &h), -1);

    /* a CR not followed by LF */
    assert_int_equal(t_line("A: b\rc\r\n", 8, &h), -1);
    assert_int_equal(t_line("A: b\r\r\n", 7, &h), -1);
    assert_int_equal(t_line("A\r: b\r\n", 7, &h), -1);
    assert_int_equal(t_line("\r\r\n", 3, &h), -1);
    assert_int_equal(t_line("\rX", 2, &h), -1);
    assert_int_equal(t_line("A: b\r\0", 6, &h), -1);
    assert_int_equal(t_line("A: b\r \n", 7, &h), -1);

    /* a fold after a good line is the next line's problem */
    assert_int_equal(t_line("A: b\r\n c\r\n", 10, &h), 6);
    assert_int_equal(t_line(" c\r\n", 4, &h), -1);
}


static void
test_header_incomplete(void **state)
{
    char               big[300];
    llm_http_header_t  h;

    assert_int_equal(t_line("", 0, &h), 0);
    assert_int_equal(t_line("A", 1, &h), 0);
    assert_int_equal(t_line("A: b", 4, &h), 0);
    assert_int_equal(t_line("A: b ", 5, &h), 0);
    assert_int_equal(t_line("A:", 2, &h), 0);
    assert_int_equal(t_line(":", 1, &h), 0);

    /* a CR that is the last byte: its LF may still come */
    assert_int_equal(t_line("\r", 1, &h), 0);
    assert_int_equal(t_line("A: b\r", 5, &h), 0);
    assert_int_equal(t_line("no colon\r", 9, &h), 0);

    /* a fold is only refused once its line is complete */
    assert_int_equal(t_line(" fold", 5, &h), 0);

    memset(big, 'x', sizeof(big));
    big[10] = ':';
    assert_int_equal(t_line(big, sizeof(big), &h), 0);
    big[sizeof(big) - 1] = '\r';
    assert_int_equal(t_line(big, sizeof(big), &h), 0);
    big[sizeof(big) - 1] = '\n';
    assert_int_equal(t_line(big, sizeof(big), &h), (ssize_t) sizeof(big));
    assert_int_equal(h.name_len, 10);
    assert_int_equal(h.value_len, sizeof(big) - 12);
}


/* a colon after the line end belongs to the next line */
static void
test_header_colon_after_eol(void **state)
{
    const char         *s;
    llm_http_header_t   h;

    s = "abc\r\nX: y\r\n";
    t_ignored(s, strlen(s), 5);

    s = "abc\nd:e\n";
    t_ignored(s, strlen(s), 4);

    s = "abc\n:";
    t_ignored(s, strlen(s), 4);

    s = "\r\n:";
    t_blank(s, strlen(s), 2);

    /* in the same 16-byte block as the LF, and in a later one */
    s = "abcdefghij\nk:lmnopqrstuvwxyz\n";
    t_ignored(s, strlen(s), 11);

    s = "abcdefghijklmnopqrstuvwxyz\r\nk:v\r\n";
    t_ignored(s, strlen(s), 28);

    s = "abcdefghijklmn\r\n:::::::::::::::::::::::::\r\n";
    t_ignored(s, strlen(s), 16);

    s = "abcdefghijklmno\n::::::::::::::::::::::::::\r\n";
    t_ignored(s, strlen(s), 16);

    s = "abcdefghijklmnop\n:::::::::::::::::::::::::\r\n";
    t_ignored(s, strlen(s), 17);

    /* after a CR that is the last byte, or one that is refused */
    s = "abcdefghijklmnopqrst\r";
    assert_int_equal(t_line(s, strlen(s), &h), 0);
    s = "abcdefghijklmnopqrst\rk:v\r\n";
    assert_int_equal(t_line(s, strlen(s), &h), -1);
}


/*
 * Every stop byte at every offset 0..T_MAX_OFF, with the buffer ending
 * right after the line and with more bytes after it (colons, NULs, CRs)
 * that must not change the answer.
 */
static void
test_header_offsets(void **state)
{
    char               *b;
    size_t              off, tail, len, k;
    ssize_t             n;
    llm_http_header_t   h;
    static const char   after[] = ":\0\r: \t:x\n";
    static const size_t tails[] = { 0, 1, 2, 9, 15, 16, 17, 33, 64 };

    b = malloc(T_MAX_OFF + 2 + 64);
    assert_non_null(b);

    for (off = 0; off <= T_MAX_OFF; off++) {
        for (k = 0; k < sizeof(tails) / sizeof(tails[0]); k++) {
            tail = tails[k];

            /* LF at off */
            memset(b, 'a', off);
            b[off] = '\n';
            memcpy(b + off + 1, after, t_min(tail, sizeof(after) - 1));
            memset(b + off + 1 + t_min(tail, sizeof(after) - 1), ':',
                   tail - t_min(tail, sizeof(after) - 1));
            len = off + 1 + tail;

            if (off == 0) {
                t_blank(b, len, 1);

            } else {
                t_ignored(b, len, off + 1);
            }

            /* CRLF at off */
            b[off] = '\r';
            memmove(b + off + 2, b + off + 1, tail);
            b[off + 1] = '\n';
            len = off + 2 + tail;

            if (off == 0) {
                t_blank(b, len, 2);

            } else {
                t_ignored(b, len, off + 2);
            }

            /* CR, then not an LF */
            b[off + 1] = tail ? ':' : 'x';
            assert_int_equal(t_line(b, len, &h), -1);

            /* CR as the last byte */
            assert_int_equal(t_line(b, off + 1, &h), 0);

            /* NUL at off */
            b[off] = '\0';
            b[off + 1] = '\n';
            assert_int_equal(t_line(b, len, &h), -1);
            assert_int_equal(t_line(b, off + 1, &h), -1);

            /* no stop byte at all */
            assert_int_equal(t_line(b, off, &h), 0);

            /* colon at off, LF further on, 'a' before it */
            memset(b, 'a', off + 2 + tail);
            b[off] = ':';
            b[off + 1 + tail] = '\n';
            len = off + 2 + tail;

            if (off == 0) {
                t_ignored(b, len, len);

            } else {
                n = t_line(b, len, &h);
                assert_int_equal(n, len);
                assert_int_equal(h.name_len, off);
                assert_ptr_equal(h.value, b + off + 1);
                assert_int_equal(h.value_len, tail);
            }

            /* a colon before a CR that is the last byte, then its LF */
            if (off > 2) {
                memset(b, 'a', off + 1);
                b[off / 2] = ':';
                b[off - 1] = '\r';
                assert_int_equal(t_line(b, off, &h), 0);
                b[off] = '\n';
                assert_int_equal(t_line(b, off + 1, &h), off + 1);
                assert_int_equal(h.name_len, off / 2);
                assert_int_equal(h.value_len, off - off / 2 - 2);
            }
        }

        /* an SP or HTAB line of off + 1 bytes: a fold */
        memset(b, ' ', off + 1);
        b[off + 1] = '\n';
        assert_int_equal(t_line(b, off + 2, &h), -1);
        memset(b, '\t', off + 1);
        assert_int_equal(t_line(b, off + 2, &h), -1);
    }

    free(b);
}


/* a colon at c and the line end at e, for every c < e <= c + 41 */
static void
test_header_colon_and_end(void **state)
{
    char               *b;
    size_t              c, e, len, i, lfs;
    ssize_t             n;
    llm_http_header_t   h;

    b = malloc(2 * T_MAX_OFF + 16);
    assert_non_null(b);

    for (c = 0; c <= T_MAX_OFF; c++) {
        for (e = c + 1; e <= c + T_MAX_OFF + 1; e++) {
            for (lfs = 0; lfs < 2; lfs++) {
                memset(b, 'n', c);
                b[c] = ':';

                for (i = c + 1; i < e; i++) {
                    /* spaces around "v:v v" style values */
                    b[i] = (i == c + 1 || i == e - 1) ? ' '
                           : ((i % 3) ? 'v' : ':');
                }

                len = e;

                if (lfs) {
                    b[len++] = '\r';
                }

                b[len++] = '\n';
                memcpy(b + len, "k:v\r\n", 5);

                n = t_line(b, len + 5, &h);
                assert_int_equal(n, len);

                if (c == 0) {
                    assert_null(h.name);
                    continue;
                }

                assert_int_equal(h.name_len, c);
                assert_int_equal(h.name[h.name_len], ':');

                if (e - c - 1 <= 2) {
                    assert_int_equal(h.value_len, 0);

                } else {
                    assert_ptr_equal(h.value, b + c + 2);
                    assert_int_equal(h.value_len, e - c - 3);
                }

                /* without its last byte the line is incomplete */
                assert_int_equal(t_line(b, len - 1, &h), 0);
            }
        }
    }

    free(b);
}


/*
 * Takes the lines of p[*pos .. len) while they are complete, logging
 * "name=value\n", "-\n" for an ignored line and ".\n" for the end;
 * returns -1 on a refused line, 1 at the end, 0 otherwise.
 */
static int
t_log(const char *p, size_t len, size_t *pos, llm_buf_t *log)
{
    ssize_t            n;
    llm_http_header_t  h;

    for ( ;; ) {
        n = llm_http_header_line(p + *pos, len - *pos, &h);

        if (n <= 0) {
            return (int) n;
        }

        *pos += n;

        if (h.name == NULL) {
            llm_buf_appends(log, "-\n");
            continue;
        }

        if (h.name_len == 0) {
            llm_buf_appends(log, ".\n");
            return 1;
        }

        llm_buf_append(log, h.name, h.name_len);
        llm_buf_appends(log, "=");
        llm_buf_append(log, h.value, h.value_len);
        llm_buf_appends(log, "\n");
    }
}


static void
test_header_incremental(void **state)
{
    int          rc;
    char        *b;
    size_t       len, avail, pos, step;
    llm_buf_t    whole, part;
    const char  *block =
        "Content-Type: application/json\r\n"
        "X-Request-Id: req_0123456789abcdef0123456789\r\n"
        "no colon on this line\r\n"
        ": nameless\r\n"
        "Retry-After:   7  \r\n"
        "x:y\n"
        "X-A-Rather-Long-Header-Name-Of-Forty-Bytes: a:b:c d\n"
        "X-Empty:\r\n"
        "X-Blank: \t \n"
        "CONTENT-LENGTH: 42\r\n"
        "\r\n"
        "{\"body\": \"a: b\r\n\"}";
    const char  *expect =
        "Content-Type=application/json\n"
        "X-Request-Id=req_0123456789abcdef0123456789\n"
        "-\n"
        "-\n"
        "Retry-After=7\n"
        "x=y\n"
        "X-A-Rather-Long-Header-Name-Of-Forty-Bytes=a:b:c d\n"
        "X-Empty=\n"
        "X-Blank=\n"
        "CONTENT-LENGTH=42\n"
        ".\n";

    len = strlen(block);

    memset(&whole, 0, sizeof(llm_buf_t));
    pos = 0;
    assert_int_equal(t_log(block, len, &pos, &whole), 1);
    llm_buf_append(&whole, "", 0);
    assert_string_equal(whole.data, expect);

    /* byte by byte (step 1), then in pieces of 2..17 bytes */
    for (step = 1; step <= 17; step++) {
        memset(&part, 0, sizeof(llm_buf_t));
        pos = 0;
        rc = 0;

        for (avail = 0; avail < len && rc == 0; /* void */) {
            avail += step;
            if (avail > len) {
                avail = len;
            }

            /* exactly avail bytes, so a read past them is seen */
            b = malloc(avail);
            assert_non_null(b);
            memcpy(b, block, avail);

            rc = t_log(b, avail, &pos, &part);

            free(b);

            assert_int_not_equal(rc, -1);
        }

        assert_int_equal(rc, 1);
        llm_buf_append(&part, "", 0);
        assert_string_equal(part.data, whole.data);
        llm_buf_free(&part);
    }

    /* every prefix: the lines it has in full, then 0 */
    for (avail = 0; avail <= len; avail++) {
        memset(&part, 0, sizeof(llm_buf_t));
        pos = 0;

        rc = t_log(block, avail, &pos, &part);
        assert_int_not_equal(rc, -1);

        assert_true(part.len <= whole.len);
        if (part.len) {
            assert_memory_equal(part.data, whole.data, part.len);
        }

        llm_buf_free(&part);
    }

    llm_buf_free(&whole);
}


static int
t_parse(const char *s, llm_http_resp_t *resp, char *err, size_t errlen)
{
    int     rc;
    char   *c;
    size_t  len;

    /* exactly the bytes, without a NUL after them */
    len = strlen(s);
    c = malloc(len ? len : 1);
    assert_non_null(c);
    memcpy(c, s, len);

    err[0] = '\0';
    rc = llm_http_parse(c, len, resp, err, errlen);

    free(c);

    return rc;
}


static void
t_parse_fails(const char *s, const char *reason)
{
    char             err[128];
    llm_http_resp_t  resp;

    assert_int_equal(t_parse(s, &resp, err, sizeof(err)), -1);

    if (strstr(err, reason) == NULL) {
        print_error("error \"%s\", expected \"%s\"\n", err, reason);
        fail();
    }

    llm_http_resp_free(&resp);
}


static void
test_parse_ok(void **state)
{
    char             err[128];
    llm_http_resp_t  resp;

    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "Content-Type: application/json\r\n"
                             "Content-Length: 5\r\n"
                             "\r\n"
                             "helloEXTRA", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 5);
    assert_memory_equal(resp.body.data, "hello", 5);
    assert_string_equal(resp.retry_after, "");
    llm_http_resp_free(&resp);

    /* bare LFs, no length: the body runs to the end */
    assert_int_equal(t_parse("HTTP/1.0 404 Not Found\n"
                             "Server: x\n"
                             "\n"
                             "{\"a\":1}", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 404);
    assert_int_equal(resp.body.len, 7);
    assert_memory_equal(resp.body.data, "{\"a\":1}", 7);
    llm_http_resp_free(&resp);

    /* an empty body */
    assert_int_equal(t_parse("HTTP/1.1 204 No Content\r\n\r\n", &resp, err,
                             sizeof(err)), 0);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.body.len, 0);
    llm_http_resp_free(&resp);

    /* lines without a colon are ignored */
    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "junk line\r\n"
                             ": nameless\r\n"
                             "content-length: 2\r\n"
                             "\r\n"
                             "ok", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 2);
    assert_memory_equal(resp.body.data, "ok", 2);
    llm_http_resp_free(&resp);
}


static void
test_parse_chunked(void **state)
{
    char             err[128];
    llm_http_resp_t  resp;

    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "Content-Type: application/json\r\n"
                             "\r\n"
                             "5\r\nhello\r\n"
                             "6\r\n world\r\n"
                             "0\r\n\r\n", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.body.len, 11);
    assert_memory_equal(resp.body.data, "hello world", 11);
    llm_http_resp_free(&resp);

    /* names and values in any case, a chunk extension, hex sizes */
    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "TRANSFER-ENCODING: gzip, Chunked\r\n"
                             "\r\n"
                             "a;ext=1\r\n0123456789\r\n"
                             "0\r\n\r\n", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 10);
    assert_memory_equal(resp.body.data, "0123456789", 10);
    llm_http_resp_free(&resp);

    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "5\r\nhel", "truncated");

    /* the data must end with its CRLF; LF alone is taken */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "1\r\nx0\r\n\r\n", "invalid chunk end");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "1\r\nx", "truncated chunked body");
    assert_int_equal(t_parse("HTTP/1.1 200 OK\n"
                             "Transfer-Encoding: chunked\n"
                             "\n"
                             "2\nab\n0\n\n", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 2);
    llm_http_resp_free(&resp);

    /* a blank or signed size line, a size past 15 hex digits, junk */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "\r\n 5\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "7fffffffffffffff\r\n", "invalid chunk size");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "fffffffffffffff\r\nab\r\n", "truncated chunk");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Transfer-Encoding: chunked\r\n"
                  "\r\n"
                  "5x\r\nhello\r\n0\r\n\r\n", "invalid chunk size");

    /* "chunked" must be the last coding, not the end of another word */
    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "Transfer-Encoding: notchunked\r\n"
                             "\r\n"
                             "5\r\nhello", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 8);
    assert_memory_equal(resp.body.data, "5\r\nhello", 8);
    llm_http_resp_free(&resp);

    assert_true(llm_http_is_chunked("chunked", 7));
    assert_true(llm_http_is_chunked("gzip,chunked", 12));
    assert_true(llm_http_is_chunked("gzip, CHUNKED", 13));
    assert_false(llm_http_is_chunked("notchunked", 10));
    assert_false(llm_http_is_chunked("chunked, gzip", 13));
    assert_false(llm_http_is_chunked("chunke", 6));
}


static void
test_parse_length(void **state)
{
    char             err[128];
    llm_http_resp_t  resp;

    /* the same length twice: one body */
    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "Content-Length: 3\r\n"
                             "content-length:3  \r\n"
                             "\r\n"
                             "abcdef", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 3);
    assert_memory_equal(resp.body.data, "abc", 3);
    llm_http_resp_free(&resp);

    assert_int_equal(t_parse("HTTP/1.1 200 OK\r\n"
                             "CONTENT-LENGTH: 0\r\n"
                             "\r\n"
                             "abcdef", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.body.len, 0);
    llm_http_resp_free(&resp);

    /* two that differ: which body is it? */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 3\r\n"
                  "Content-Length: 4\r\n"
                  "\r\n"
                  "abcdef", "Content-Length");

    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 3\r\n"
                  "X: y\r\n"
                  "CONTENT-LENGTH: 04\r\n"
                  "\r\n"
                  "abcdef", "Content-Length");

    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: 3 3\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\nabc",
                  "Content-Length");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 99999999999999999999\r\n\r\nabc",
                  "Content-Length");

    /* a body shorter than its length */
    t_parse_fails("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
                  "truncated");
}


static void
test_parse_invalid(void **state)
{
    char                err[128];
    llm_http_resp_t     resp;
    static const char   nul[] = "HTTP/1.1 200 OK\r\n"
                                "X-A: b\0c\r\n"
                                "\r\n";

    t_parse_fails("", "HTTP/1.x");
    t_parse_fails("HTTP/1.1 200 OK", "HTTP/1.x");
    t_parse_fails("HTTP/2 200 OK\r\n\r\n", "HTTP/1.x");
    t_parse_fails("SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.x");
    t_parse_fails("HTTP/1.1 099 Odd\r\n\r\n", "status");

    /* obs-fold, SP and HTAB */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "X-A: b\r\n"
                  " Content-Length: 1\r\n"
                  "\r\n"
                  "abc", "invalid HTTP header line");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "X-A: b\r\n"
                  "\tc\r\n"
                  "\r\n", "invalid HTTP header line");

    /* a lone CR, a NUL */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "X-A: b\rContent-Length: 1\r\n"
                  "\r\n"
                  "abc", "invalid HTTP header line");

    assert_int_equal(llm_http_parse(nul, sizeof(nul) - 1, &resp, err,
                                    sizeof(err)), -1);
    assert_non_null(strstr(err, "invalid HTTP header line"));
    llm_http_resp_free(&resp);

    /* no blank line after the headers */
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 0\r\n", "truncated HTTP header");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 0", "truncated HTTP header");
    t_parse_fails("HTTP/1.1 200 OK\r\n"
                  "Content-Length: 0\r\n\r", "truncated HTTP header");
    t_parse_fails("HTTP/1.1 200 OK\r\n", "truncated HTTP header");
}


static void
test_parse_retry_after(void **state)
{
    char             err[128];
    llm_http_resp_t  resp;

    assert_int_equal(t_parse("HTTP/1.1 429 Too Many Requests\r\n"
                             "Content-Type: application/json\r\n"
                             "Retry-After:  30 \r\n"
                             "Content-Length: 2\r\n"
                             "\r\n"
                             "{}", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 429);
    assert_string_equal(resp.retry_after, "30");
    assert_int_equal(resp.body.len, 2);
    llm_http_resp_free(&resp);

    assert_int_equal(t_parse("HTTP/1.1 503 Service Unavailable\n"
                             "RETRY-AFTER:\tWed, 21 Oct 2015 07:28:00 GMT\n"
                             "\n", &resp, err, sizeof(err)), 0);
    assert_int_equal(resp.status, 503);
    assert_string_equal(resp.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
    llm_http_resp_free(&resp);

    /* longer than the field: cut, still terminated */
    assert_int_equal(t_parse("HTTP/1.1 429 Too Many Requests\r\n"
                             "retry-after: 0123456789012345678901234567890"
                             "123456789\r\n"
                             "\r\n", &resp, err, sizeof(err)), 0);
    assert_int_equal(strlen(resp.retry_after), sizeof(resp.retry_after) - 1);
    assert_memory_equal(resp.retry_after, "0123456789", 10);
    llm_http_resp_free(&resp);

    /* Retry-After-Ms is another header */
    assert_int_equal(t_parse("HTTP/1.1 429 Too Many Requests\r\n"
                             "Retry-After-Ms: 1500\r\n"
                             "\r\n", &resp, err, sizeof(err)), 0);
    assert_string_equal(resp.retry_after, "");
    llm_http_resp_free(&resp);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_lines),
        cmocka_unit_test(test_header_blank),
        cmocka_unit_test(test_header_trim),
        cmocka_unit_test(test_header_ignored),
        cmocka_unit_test(test_header_forbidden),
        cmocka_unit_test(test_header_incomplete),
        cmocka_unit_test(test_header_colon_after_eol),
        cmocka_unit_test(test_header_offsets),
        cmocka_unit_test(test_header_colon_and_end),
        cmocka_unit_test(test_header_incremental),
        cmocka_unit_test(test_parse_ok),
        cmocka_unit_test(test_parse_chunked),
        cmocka_unit_test(test_parse_length),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_retry_after),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
