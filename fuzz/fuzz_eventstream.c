/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the event-stream decoder.  The input is fed
 * whole, one byte at a time and in pieces whose sizes come from the
 * input; every split must decode the same messages with the same
 * result.  When the first byte is odd the CRCs of the frames the input
 * describes are fixed up first, so that the header parser, not only
 * the CRC check, sees fuzzed bytes.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_eventstream.h"


typedef struct {
    uint32_t  hash;
    size_t    count;
} fuzz_rec_t;


static uint32_t
fuzz_mix(uint32_t h, const void *p, size_t n)
{
    return llm_crc32(h, p, n) ^ (uint32_t) n;
}


static int
fuzz_handler(void *data, const llm_es_message_t *m)
{
    size_t       i;
    fuzz_rec_t  *r = data;

    r->count++;

    for (i = 0; i < m->nheaders; i++) {
        r->hash = fuzz_mix(r->hash, m->headers[i].name,
                           m->headers[i].name_len);
        r->hash = fuzz_mix(r->hash, m->headers[i].value,
                           m->headers[i].value_len);
        r->hash ^= (uint32_t) m->headers[i].integer
                   ^ (uint32_t) m->headers[i].type;
    }

    r->hash = fuzz_mix(r->hash, m->payload, m->payload_len);

    (void) llm_es_header(m, ":event-type");
    (void) llm_es_header_is(m, ":message-type", "event");

    /* stop on the 7th message sometimes, to reach the sticky rc */
    return (r->count == 7 && (r->hash & 1)) ? 99 : 0;
}


static int
fuzz_feed(const uint8_t *in, size_t len, size_t step, size_t max,
    fuzz_rec_t *r)
{
    int       rc;
    size_t    off, n;
    llm_es_t  p;

    memset(r, 0, sizeof(fuzz_rec_t));
    llm_es_init(&p, fuzz_handler, r);
    p.max = max;
    rc = 0;

    for (off = 0; off < len && rc == 0; off += n) {
        n = (step == 0) ? len
            : (step == 1) ? 1
            : 1 + (in[(off + step) % len] + step) % 37;

        if (n > len - off) {
            n = len - off;
        }

        rc = llm_es_feed(&p, (const char *) in + off, n);
    }

    if (rc == 0) {
        rc = llm_es_finish(&p);
    }

    llm_es_free(&p);

    return rc;
}


static void
fuzz_put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}


/* writes the prelude and message CRCs of the frames in buf */
static void
fuzz_fixup(uint8_t *buf, size_t len)
{
    size_t    pos;
    uint32_t  t;

    for (pos = 0; len - pos >= 12; pos += t) {
        t = (uint32_t) buf[pos] << 24 | (uint32_t) buf[pos + 1] << 16
            | (uint32_t) buf[pos + 2] << 8 | buf[pos + 3];

        fuzz_put32(buf + pos + 8, llm_crc32(0, buf + pos, 8));

        if (t < 16 || t > len - pos) {
            break;
        }

        fuzz_put32(buf + pos + t - 4, llm_crc32(0, buf + pos, t - 4));
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int               rc, rc2;
    size_t            step, max, len;
    uint8_t          *buf, mode;
    fuzz_rec_t        whole, other;
    llm_es_message_t  m;

    if (size == 0) {
        return 0;
    }

    /* the first byte chooses the mode, the rest is the stream */
    mode = data[0];
    len = size - 1;

    buf = malloc(size);
    if (buf == NULL) {
        abort();
    }

    memcpy(buf, data + 1, len);

    if (mode & 1) {
        fuzz_fixup(buf, len);
    }

    /* a small maximum now and then, to reach the length check */
    max = (mode & 2) ? 16 + (mode >> 2) * 4 : 0;

    rc = fuzz_feed(buf, len, 0, max, &whole);

    for (step = 1; step < 5; step++) {
        if (step == 1 && len > 8192) {
            continue;
        }

        rc2 = fuzz_feed(buf, len, step, max, &other);

        if (rc2 != rc || other.count != whole.count
            || other.hash != whole.hash)
        {
            abort();
        }
    }

    (void) llm_es_decode((const char *) buf, len, &m);

    if (len > 1) {
        (void) llm_es_decode((const char *) buf + 1, len - 1, &m);
    }

    (void) llm_es_strerror(rc);

    free(buf);

    return 0;
}
