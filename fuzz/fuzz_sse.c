/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the SSE and NDJSON framers.  The input is fed
 * whole and then in pieces whose sizes come from the input itself;
 * both runs must report the same events (a split never changes what a
 * client sees).
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_sse.h"


#define FUZZ_MAX  4096


static int
fuzz_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    llm_buf_t  *log = data;

    if (payload[payload_len] != '\0') {
        abort();
    }

    llm_buf_printf(log, "%zu:", event_len);
    llm_buf_append(log, event, event_len);
    llm_buf_printf(log, "%zu:", payload_len);
    llm_buf_append(log, payload, payload_len);

    return 0;
}


static int
fuzz_line(void *data, const char *line, size_t len)
{
    llm_buf_t  *log = data;

    llm_buf_printf(log, "%zu:", len);
    llm_buf_append(log, line, len);

    return 0;
}


static int
fuzz_sse(const uint8_t *in, size_t len, size_t seed, llm_buf_t *log)
{
    int         rc;
    size_t      off, n;
    llm_sse_t   p;

    llm_sse_init(&p, fuzz_event, log);
    p.max = FUZZ_MAX;
    rc = 0;

    for (off = 0; off < len && rc == 0; off += n) {
        n = seed ? 1 + (in[(off + seed) % len] + seed) % 17 : len;
        if (n > len - off) {
            n = len - off;
        }

        rc = llm_sse_feed(&p, (const char *) in + off, n);
    }

    if (rc == 0) {
        rc = llm_sse_finish(&p);
    }

    llm_sse_free(&p);

    return rc;
}


static int
fuzz_ndjson(const uint8_t *in, size_t len, size_t seed, llm_buf_t *log)
{
    int            rc;
    size_t         off, n;
    llm_ndjson_t   p;

    llm_ndjson_init(&p, fuzz_line, log);
    p.max = FUZZ_MAX;
    rc = 0;

    for (off = 0; off < len && rc == 0; off += n) {
        n = seed ? 1 + (in[(off + seed) % len] + seed) % 13 : len;
        if (n > len - off) {
            n = len - off;
        }

        rc = llm_ndjson_feed(&p, (const char *) in + off, n);
    }

    if (rc == 0) {
        rc = llm_ndjson_finish(&p);
    }

    llm_ndjson_free(&p);

    return rc;
}


static void
fuzz_compare(const llm_buf_t *a, int rca, const llm_buf_t *b, int rcb)
{
    /* an oversized event may fail at a different point, not differently */
    if (rca != rcb) {
        abort();
    }

    if (rca == 0
        && (a->len != b->len || (a->len && memcmp(a->data, b->data, a->len))))
    {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int        rc1, rc2;
    size_t     seed;
    llm_buf_t  whole, split;

    for (seed = 1; seed < 4; seed++) {
        memset(&whole, 0, sizeof(llm_buf_t));
        memset(&split, 0, sizeof(llm_buf_t));

        rc1 = fuzz_sse(data, size, 0, &whole);
        rc2 = fuzz_sse(data, size, seed, &split);
        fuzz_compare(&whole, rc1, &split, rc2);

        llm_buf_free(&whole);
        llm_buf_free(&split);

        rc1 = fuzz_ndjson(data, size, 0, &whole);
        rc2 = fuzz_ndjson(data, size, seed, &split);
        fuzz_compare(&whole, rc1, &split, rc2);

        llm_buf_free(&whole);
        llm_buf_free(&split);
    }

    return 0;
}
