/*
 * Copyright (C) ngx_llm authors
 *
 * SSE and NDJSON framers: every split gives the same events.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "llm_sse.h"


/* events are recorded as "<event>|<data>\x1e" */
typedef struct {
    llm_buf_t   log;
    int         count;
    int         stop_at;        /* non-zero: return 7 on this event */
} rec_t;


static int
rec_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    rec_t  *r = data;

    assert_non_null(event);
    assert_non_null(payload);
    /* payloads are NUL-terminated */
    assert_int_equal(payload[payload_len], '\0');

    llm_buf_append(&r->log, event, event_len);
    llm_buf_append(&r->log, "|", 1);
    llm_buf_append(&r->log, payload, payload_len);
    llm_buf_append(&r->log, "\x1e", 1);

    r->count++;

    if (r->stop_at && r->count == r->stop_at) {
        return 7;
    }

    return 0;
}


static int
rec_line(void *data, const char *line, size_t len)
{
    rec_t  *r = data;

    llm_buf_append(&r->log, line, len);
    llm_buf_append(&r->log, "\x1e", 1);
    r->count++;

    return 0;
}


/* feeds in pieces of at most `step` bytes (0: whole), returns the log */
static char *
sse_run(const char *in, size_t len, size_t step, int finish, int *rc)
{
    rec_t       r;
    size_t      off, n;
    llm_sse_t   p;
    char       *out;

    memset(&r, 0, sizeof(rec_t));
    llm_sse_init(&p, rec_event, &r);
    *rc = 0;

    for (off = 0; off < len && *rc == 0; off += n) {
        n = (step == 0 || len - off < step) ? len - off : step;
        *rc = llm_sse_feed(&p, in + off, n);
    }

    if (*rc == 0 && finish) {
        *rc = llm_sse_finish(&p);
    }

    llm_sse_free(&p);
    llm_buf_append(&r.log, "", 0);
    out = r.log.data;

    return out;
}


/* feeds split at position k into two pieces, for every k */
static void
sse_check_all_splits(const char *in, int finish, const char *expect)
{
    int         rc;
    rec_t       r;
    size_t      len, k, j;
    llm_sse_t   p;

    len = strlen(in);

    for (k = 0; k <= len; k++) {
        memset(&r, 0, sizeof(rec_t));
        llm_sse_init(&p, rec_event, &r);

        rc = llm_sse_feed(&p, in, k);
        assert_int_equal(rc, 0);
        rc = llm_sse_feed(&p, in + k, len - k);
        assert_int_equal(rc, 0);

        if (finish) {
            assert_int_equal(llm_sse_finish(&p), 0);
        }

        llm_buf_append(&r.log, "", 0);
        assert_string_equal(r.log.data, expect);

        llm_sse_free(&p);
        llm_buf_free(&r.log);
    }

    /* and one byte at a time, and in seeded random pieces */
    for (j = 0; j < 2; j++) {
        char  *out;
        int    step;

        srand(42 + j);
        step = j == 0 ? 1 : 0;

        if (step) {
            out = sse_run(in, len, 1, finish, &rc);

        } else {
            size_t  off, n;

            memset(&r, 0, sizeof(rec_t));
            llm_sse_init(&p, rec_event, &r);
            rc = 0;

            for (off = 0; off < len; off += n) {
                n = 1 + rand() % 7;
                if (n > len - off) {
                    n = len - off;
                }
                rc |= llm_sse_feed(&p, in + off, n);
            }

            if (finish) {
                rc |= llm_sse_finish(&p);
            }

            llm_sse_free(&p);
            llm_buf_append(&r.log, "", 0);
            out = r.log.data;
        }

        assert_int_equal(rc, 0);
        assert_string_equal(out, expect);
        free(out);
    }
}


static void
test_sse_basic(void **state)
{
    sse_check_all_splits(
        "data: {\"a\":1}\n\n"
        "event: message_start\n"
        "data: {\"b\":2}\n\n"
        "data: [DONE]\n\n",
        0,
        "|{\"a\":1}\x1e"
        "message_start|{\"b\":2}\x1e"
        "|[DONE]\x1e");
}


static void
test_sse_crlf(void **state)
{
    sse_check_all_splits(
        "event: ping\r\ndata: one\r\n\r\n"
        "data: two\r\rdata:three\r\n\r\n",
        0,
        "ping|one\x1e"
        "|two\x1e"
        "|three\x1e");
}


static void
test_sse_comments_and_fields(void **state)
{
    sse_check_all_splits(
        ": OPENROUTER PROCESSING\n\n"
        ":keep-alive\n"
        "id: 5\n"
        "retry: 1000\n"
        "data: x\n"
        "unknown: y\n"
        "\n"
        "event: lonely\n\n"
        "data\n\n"
        "data:  two spaces\n\n",
        0,
        "|x\x1e"
        "|\x1e"
        "| two spaces\x1e");
}


static void
test_sse_multiline(void **state)
{
    sse_check_all_splits(
        "data: line1\ndata: line2\ndata:\ndata: line4\n\n",
        0,
        "|line1\nline2\n\nline4\x1e");
}


static void
test_sse_event_reset(void **state)
{
    /* the event name does not leak into the next event */
    sse_check_all_splits(
        "event: a\ndata: 1\n\ndata: 2\n\n",
        0,
        "a|1\x1e|2\x1e");
}


static void
test_sse_finish(void **state)
{
    /* a trailing event without the blank line, or even the newline */
    sse_check_all_splits("data: 1\n\ndata: 2\n", 1, "|1\x1e|2\x1e");
    sse_check_all_splits("data: 1\n\ndata: 2", 1, "|1\x1e|2\x1e");
    sse_check_all_splits("data: 1\r\n\r\ndata: 2\r", 1, "|1\x1e|2\x1e");
    sse_check_all_splits("data: 1\n\nevent: x\n", 1, "|1\x1e");

    /* without finish the trailing event stays pending */
    sse_check_all_splits("data: 1\n\ndata: 2\n", 0, "|1\x1e");
}


static void
test_sse_oversize(void **state)
{
    rec_t       r;
    llm_sse_t   p;
    char        big[200];

    memset(big, 'x', sizeof(big));
    memset(&r, 0, sizeof(rec_t));

    /* one long line, fed in pieces */
    llm_sse_init(&p, rec_event, &r);
    p.max = 100;
    assert_int_equal(llm_sse_feed(&p, "data: ", 6), 0);
    assert_int_equal(llm_sse_feed(&p, big, 90), 0);
    assert_int_equal(llm_sse_feed(&p, big, 90), -1);
    llm_sse_free(&p);

    /* one long line in one piece */
    llm_sse_init(&p, rec_event, &r);
    p.max = 100;
    assert_int_equal(llm_sse_feed(&p, big, 150), -1);
    llm_sse_free(&p);

    llm_sse_init(&p, rec_event, &r);
    p.max = 100;
    assert_int_equal(llm_sse_feed(&p, "data: ", 6), 0);
    assert_int_equal(llm_sse_feed(&p, big, 150), -1);
    llm_sse_free(&p);

    /* many short data lines */
    llm_sse_init(&p, rec_event, &r);
    p.max = 100;
    assert_int_equal(llm_sse_feed(&p, "data: 0123456789012345678901234567\n"
                                  "data: 0123456789012345678901234567\n"
                                  "data: 0123456789012345678901234567\n",
                                  35 * 3), 0);
    assert_int_equal(llm_sse_feed(&p, "data: 0123456789012345678901234567\n",
                                  35), -1);
    llm_sse_free(&p);

    /* an event at the limit passes */
    llm_sse_init(&p, rec_event, &r);
    p.max = 100;
    assert_int_equal(llm_sse_feed(&p, "data: ", 6), 0);
    assert_int_equal(llm_sse_feed(&p, big, 90), 0);
    assert_int_equal(llm_sse_feed(&p, "\n\n", 2), 0);
    assert_int_equal(r.count, 1);
    llm_sse_free(&p);

    llm_buf_free(&r.log);
}


static void
test_sse_handler_stops(void **state)
{
    rec_t       r;
    llm_sse_t   p;

    memset(&r, 0, sizeof(rec_t));
    r.stop_at = 2;

    llm_sse_init(&p, rec_event, &r);
    assert_int_equal(llm_sse_feed(&p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27),
                     7);
    assert_int_equal(r.count, 2);
    llm_sse_free(&p);
    llm_buf_free(&r.log);
}


static void
test_sse_empty_and_binary(void **state)
{
    int    rc;
    char  *out;

    out = sse_run("", 0, 0, 1, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
    free(out);

    out = sse_run("\n\n\n\r\r\n", 6, 1, 1, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(out, "");
    free(out);

    /* a NUL inside data is passed along with its length */
    out = sse_run("data: a\0b\n\n", 11, 3, 0, &rc);
    assert_int_equal(rc, 0);
    assert_memory_equal(out, "|a\0b\x1e", 5);
    free(out);
}


static char *
nd_run(const char *in, size_t len, size_t step, int *rc)
{
    rec_t          r;
    size_t         off, n;
    llm_ndjson_t   p;

    memset(&r, 0, sizeof(rec_t));
    llm_ndjson_init(&p, rec_line, &r);
    *rc = 0;

    for (off = 0; off < len && *rc == 0; off += n) {
        n = (step == 0 || len - off < step) ? len - off : step;
        *rc = llm_ndjson_feed(&p, in + off, n);
    }

    if (*rc == 0) {
        *rc = llm_ndjson_finish(&p);
    }

    llm_ndjson_free(&p);
    llm_buf_append(&r.log, "", 0);

    return r.log.data;
}


static void
test_ndjson(void **state)
{
    int          rc;
    size_t       step, len;
    char        *out;
    const char  *in;

    in = "{\"a\":1}\n\n{\"b\":2}\r\n  \r\n{\"c\":3}";
    len = strlen(in);

    for (step = 0; step <= len; step++) {
        out = nd_run(in, len, step, &rc);
        assert_int_equal(rc, 0);
        assert_string_equal(out, "{\"a\":1}\x1e{\"b\":2}\x1e{\"c\":3}\x1e");
        free(out);
    }
}


static void
test_ndjson_oversize(void **state)
{
    rec_t          r;
    llm_ndjson_t   p;
    char           big[200];

    memset(big, 'x', sizeof(big));
    memset(&r, 0, sizeof(rec_t));

    llm_ndjson_init(&p, rec_line, &r);
    p.max = 100;
    assert_int_equal(llm_ndjson_feed(&p, big, 60), 0);
    assert_int_equal(llm_ndjson_feed(&p, big, 60), -1);
    llm_ndjson_free(&p);

    llm_ndjson_init(&p, rec_line, &r);
    p.max = 100;
    assert_int_equal(llm_ndjson_feed(&p, big, 150), -1);
    llm_ndjson_free(&p);

    llm_ndjson_init(&p, rec_line, &r);
    p.max = 100;
    big[150] = '\n';
    assert_int_equal(llm_ndjson_feed(&p, big, 160), -1);
    llm_ndjson_free(&p);

    /* a line of exactly max bytes plus CRLF passes */
    llm_ndjson_init(&p, rec_line, &r);
    p.max = 100;
    big[100] = '\r';
    big[101] = '\n';
    assert_int_equal(llm_ndjson_feed(&p, big, 102), 0);
    assert_int_equal(r.count, 1);
    llm_ndjson_free(&p);

    llm_buf_free(&r.log);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_basic),
        cmocka_unit_test(test_sse_crlf),
        cmocka_unit_test(test_sse_comments_and_fields),
        cmocka_unit_test(test_sse_multiline),
        cmocka_unit_test(test_sse_event_reset),
        cmocka_unit_test(test_sse_finish),
        cmocka_unit_test(test_sse_oversize),
        cmocka_unit_test(test_sse_handler_stops),
        cmocka_unit_test(test_sse_empty_and_binary),
        cmocka_unit_test(test_ndjson),
        cmocka_unit_test(test_ndjson_oversize),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
