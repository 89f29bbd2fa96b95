/*
 * Copyright (C) ngx_llm authors
 *
 * The event-stream decoder against ../shared/providers/bedrock.md: the
 * aws-c-event-stream vectors and the composed Bedrock frames, every
 * header type, CRC failures, bad lengths, truncation, and input fed
 * whole, one byte at a time and in random splits.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_eventstream.h"


/*
 * A test-side encoder: headers are given pre-encoded (h, hlen), the
 * prelude and message CRCs are computed.
 */
static size_t
encode(unsigned char *out, const void *h, size_t hlen, const void *payload,
    size_t plen)
{
    size_t    t;
    uint32_t  crc;

    t = 16 + hlen + plen;

    out[0] = t >> 24; out[1] = t >> 16; out[2] = t >> 8; out[3] = t;
    out[4] = hlen >> 24; out[5] = hlen >> 16; out[6] = hlen >> 8;
    out[7] = hlen;
    crc = llm_crc32(0, out, 8);
    out[8] = crc >> 24; out[9] = crc >> 16; out[10] = crc >> 8;
    out[11] = crc;
    memcpy(out + 12, h, hlen);
    memcpy(out + 12 + hlen, payload, plen);
    crc = llm_crc32(0, out, t - 4);
    out[t - 4] = crc >> 24; out[t - 3] = crc >> 16; out[t - 2] = crc >> 8;
    out[t - 1] = crc;

    return t;
}


/* appends a string header to h */
static size_t
str_header(unsigned char *h, const char *name, const char *value)
{
    size_t  n, v;

    n = strlen(name);
    v = strlen(value);

    h[0] = (unsigned char) n;
    memcpy(h + 1, name, n);
    h[1 + n] = LLM_ES_STRING;
    h[2 + n] = v >> 8;
    h[3 + n] = v & 0xff;
    memcpy(h + 4 + n, value, v);

    return 4 + n + v;
}


static size_t
bedrock_frame(unsigned char *out, const char *type_header, const char *type,
    const char *message_type, const char *payload)
{
    size_t         n;
    unsigned char  h[512];

    n = str_header(h, type_header, type);
    n += str_header(h + n, ":content-type", "application/json");
    n += str_header(h + n, ":message-type", message_type);

    return encode(out, h, n, payload, strlen(payload));
}


static size_t
unhex(unsigned char *out, const char *hex)
{
    size_t        n;
    unsigned int  b;

    n = 0;

    while (*hex) {
        if (*hex == ' ' || *hex == '\n') {
            hex++;
            continue;
        }

        assert_int_equal(sscanf(hex, "%2x", &b), 1);
        out[n++] = (unsigned char) b;
        hex += 2;
    }

    return n;
}


/* a record of the messages a feed produced */
typedef struct {
    char    log[65536];
    size_t  len;
    int     count;
} rec_t;


/* the handler answers 42 at this message (0: never) */
static int  stop_at;


static int
record(void *data, const llm_es_message_t *m)
{
    rec_t   *r = data;
    size_t   i;

    r->count++;

    for (i = 0; i < m->nheaders; i++) {
        r->len += snprintf(r->log + r->len, sizeof(r->log) - r->len,
                           "%.*s=%d:%.*s;", (int) m->headers[i].name_len,
                           m->headers[i].name, m->headers[i].type,
                           (int) m->headers[i].value_len,
                           m->headers[i].value);
    }

    r->len += snprintf(r->log + r->len, sizeof(r->log) - r->len,
                       "[%.*s]\n", (int) (m->payload_len > 64
                                          ? 64 : m->payload_len),
                       m->payload);

    return r->count == stop_at ? 42 : 0;
}


#define SPLIT_WHOLE   0
#define SPLIT_BYTE    1
#define SPLIT_RANDOM  2


/* feeds in, then finish(); returns the first non-zero rc */
static int
feed(const unsigned char *in, size_t len, int split, unsigned seed,
    rec_t *r)
{
    int       rc;
    size_t    off, n;
    llm_es_t  p;

    memset(r, 0, sizeof(rec_t));
    llm_es_init(&p, record, r);

    rc = 0;

    for (off = 0; off < len && rc == 0; off += n) {
        n = len - off;

        if (split == SPLIT_BYTE) {
            n = 1;

        } else if (split == SPLIT_RANDOM) {
            n = 1 + rand_r(&seed) % 23;
            n = n > len - off ? len - off : n;
        }

        rc = llm_es_feed(&p, (const char *) in + off, n);
    }

    if (rc == 0) {
        rc = llm_es_finish(&p);
    }

    llm_es_free(&p);

    return rc;
}


/* whole, bytes and random splits agree; the whole run is left in r */
static int
feed_all(const unsigned char *in, size_t len, rec_t *r)
{
    int       rc, rc2;
    unsigned  seed;
    rec_t    *o;

    o = calloc(1, sizeof(rec_t));
    assert_non_null(o);

    rc = feed(in, len, SPLIT_WHOLE, 0, r);

    rc2 = feed(in, len, SPLIT_BYTE, 0, o);
    assert_int_equal(rc2, rc);
    assert_string_equal(o->log, r->log);

    for (seed = 1; seed <= 30; seed++) {
        rc2 = feed(in, len, SPLIT_RANDOM, seed, o);
        assert_int_equal(rc2, rc);
        assert_string_equal(o->log, r->log);
    }

    free(o);

    return rc;
}


static void
test_crc32(void **state)
{
    assert_int_equal(llm_crc32(0, "123456789", 9), 0xcbf43926);
    assert_int_equal(llm_crc32(0, "", 0), 0);
    assert_int_equal(llm_crc32(llm_crc32(0, "1234", 4), "56789", 5),
                     0xcbf43926);
}


/* aws-c-event-stream's vectors */
static void
test_c_vectors(void **state)
{
    size_t            n;
    rec_t             r;
    unsigned char     buf[256], h[64];
    llm_es_message_t  m;

    n = unhex(buf, "00000010 00000000 05c248eb 7d98c8ff");
    assert_int_equal(llm_es_decode((char *) buf, n, &m), 0);
    assert_int_equal(m.nheaders, 0);
    assert_int_equal(m.payload_len, 0);
    assert_int_equal(encode(h, "", 0, "", 0), 16);
    assert_memory_equal(h, buf, 16);

    n = encode(buf, "", 0, "{'foo':'bar'}", 13);
    assert_int_equal(n, 0x1d);
    assert_memory_equal(buf, "\x00\x00\x00\x1d\x00\x00\x00\x00"
                             "\xfd\x52\x8c\x5a", 12);
    assert_memory_equal(buf + 25, "\xc3\x65\x39\x36", 4);
    assert_int_equal(llm_es_decode((char *) buf, n, &m), 0);
    assert_int_equal(m.payload_len, 13);
    assert_memory_equal(m.payload, "{'foo':'bar'}", 13);

    n = str_header(h, "content-type", "application/json");
    assert_int_equal(n, 0x20);
    n = encode(buf, h, n, "{'foo':'bar'}", 13);
    assert_int_equal(n, 0x3d);
    assert_memory_equal(buf, "\x00\x00\x00\x3d\x00\x00\x00\x20"
                             "\x07\xfd\x83\x96", 12);
    assert_memory_equal(buf + n - 4, "\x8d\x9c\x08\xb1", 4);

    assert_int_equal(feed_all(buf, n, &r), 0);
    assert_string_equal(r.log,
                        "content-type=7:application/json;[{'foo':'bar'}]\n");
}


/* the composed Bedrock frames of the document */
static void
test_bedrock_vectors(void **state)
{
    size_t                  n, k;
    rec_t                   r;
    unsigned char           doc[256], buf[256];
    llm_es_message_t        m;
    const llm_es_header_t  *h;

    n = unhex(doc,
        "00000094 00000057 b4ab9aee"
        "0b 3a6576656e742d74797065 07 0011 636f6e74656e74426c6f636b44656c7461"
        "0d 3a636f6e74656e742d74797065 07 0010 6170706c69636174696f6e2f6a736f6e"
        "0d 3a6d6573736167652d74797065 07 0005 6576656e74"
        "7b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b2274"
        "657874223a224869227d7d"
        "1f944657");
    assert_int_equal(n, 148);

    k = bedrock_frame(buf, ":event-type", "contentBlockDelta", "event",
                      "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"}}");
    assert_int_equal(k, 148);
    assert_memory_equal(buf, doc, 148);

    assert_int_equal(llm_es_decode((char *) doc, n, &m), 0);
    assert_int_equal(m.nheaders, 3);
    assert_true(llm_es_header_is(&m, ":event-type", "contentBlockDelta"));
    assert_true(llm_es_header_is(&m, ":message-type", "event"));
    assert_false(llm_es_header_is(&m, ":message-type", "even"));
    assert_false(llm_es_header_is(&m, ":nothing", "event"));
    h = llm_es_header(&m, ":content-type");
    assert_non_null(h);
    assert_int_equal(h->value_len, 16);
    assert_int_equal(m.payload_len, 45);

    k = bedrock_frame(buf, ":exception-type", "throttlingException",
                      "exception", "{\"message\":\"Too many requests\"}");
    assert_int_equal(k, 144);
    assert_memory_equal(buf, "\x00\x00\x00\x90\x00\x00\x00\x61"
                             "\x8e\x91\xa9\xb7", 12);
    assert_memory_equal(buf + k - 4, "\xe6\x7f\x80\x05", 4);
    assert_int_equal(llm_es_decode((char *) buf, k, &m), 0);
    assert_true(llm_es_header_is(&m, ":exception-type",
                                 "throttlingException"));

    k = bedrock_frame(buf, ":event-type", "messageStop", "event",
                      "{\"stopReason\":\"end_turn\"}");
    assert_int_equal(k, 122);
    assert_memory_equal(buf, "\x00\x00\x00\x7a\x00\x00\x00\x51"
                             "\xca\x2c\x46\x65", 12);
    assert_memory_equal(buf + k - 4, "\x5f\xbf\x09\xfc", 4);

    memcpy(buf + k, doc, n);
    assert_int_equal(feed_all(buf, k + n, &r), 0);
    assert_int_equal(r.count, 2);
}


/* a stream of many frames, some empty, one large, in every split */
static void
test_splits(void **state)
{
    int             i;
    size_t          n, len;
    rec_t          *r;
    unsigned char  *in;
    char            payload[128];
    static char     big[70000];

    in = malloc(200000);
    r = calloc(1, sizeof(rec_t));
    assert_non_null(in);
    assert_non_null(r);

    len = 0;

    for (i = 0; i < 40; i++) {
        n = snprintf(payload, sizeof(payload),
                     "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"%d é\"}}",
                     i);
        len += bedrock_frame(in + len, ":event-type", "contentBlockDelta",
                             "event", i % 7 == 3 ? "" : payload);
        (void) n;
    }

    memset(big, 'x', sizeof(big) - 1);
    len += bedrock_frame(in + len, ":event-type", "big", "event", big);
    len += encode(in + len, "", 0, "", 0);

    assert_int_equal(feed_all(in, len, r), 0);
    assert_int_equal(r->count, 42);

    free(in);
    free(r);
}


static void
test_crc_failures(void **state)
{
    size_t            n;
    rec_t             r;
    unsigned char     buf[512];
    llm_es_message_t  m;

    n = bedrock_frame(buf, ":event-type", "messageStop", "event",
                      "{\"stopReason\":\"end_turn\"}");
    n += bedrock_frame(buf + n, ":event-type", "metadata", "event", "{}");

    /* a flipped bit in the first message's payload */
    buf[100] ^= 0x01;
    assert_int_equal(feed_all(buf, n, &r), LLM_ES_ERR_CRC);
    assert_int_equal(r.count, 0);
    assert_int_equal(llm_es_decode((char *) buf, 122, &m), LLM_ES_ERR_CRC);
    buf[100] ^= 0x01;

    /* the message CRC itself */
    buf[121] ^= 0x80;
    assert_int_equal(feed_all(buf, n, &r), LLM_ES_ERR_CRC);
    buf[121] ^= 0x80;

    /* the prelude: caught before the rest of the message is awaited */
    buf[10] ^= 0x10;
    assert_int_equal(feed_all(buf, 12, &r), LLM_ES_ERR_PRELUDE);
    assert_int_equal(llm_es_decode((char *) buf, 122, &m),
                     LLM_ES_ERR_PRELUDE);
    buf[10] ^= 0x10;

    /* the second message is corrupt: the first still came out */
    buf[n - 1] ^= 0xff;
    assert_int_equal(feed_all(buf, n, &r), LLM_ES_ERR_CRC);
    assert_int_equal(r.count, 1);
    buf[n - 1] ^= 0xff;

    /* a length field changed with its prelude CRC kept */
    buf[3] = 0x7b;
    assert_int_equal(feed_all(buf, n, &r), LLM_ES_ERR_PRELUDE);
}


static void
prelude(unsigned char *p, uint32_t t, uint32_t h)
{
    uint32_t  crc;

    p[0] = t >> 24; p[1] = t >> 16; p[2] = t >> 8; p[3] = t;
    p[4] = h >> 24; p[5] = h >> 16; p[6] = h >> 8; p[7] = h;
    crc = llm_crc32(0, p, 8);
    p[8] = crc >> 24; p[9] = crc >> 16; p[10] = crc >> 8; p[11] = crc;
}


static void
test_lengths(void **state)
{
    rec_t             r;
    llm_es_t          p;
    unsigned char     buf[64];
    llm_es_message_t  m;

    memset(buf, 0, sizeof(buf));

    /* shorter than the fixed overhead */
    prelude(buf, 15, 0);
    assert_int_equal(feed_all(buf, 16, &r), LLM_ES_ERR_LENGTH);

    /* headers longer than the message has room for */
    prelude(buf, 20, 5);
    assert_int_equal(feed_all(buf, 20, &r), LLM_ES_ERR_LENGTH);

    /* absurdly large: refused from the prelude alone, nothing reserved */
    prelude(buf, 0xfffffff0, 0);
    assert_int_equal(feed_all(buf, 12, &r), LLM_ES_ERR_LENGTH);

    prelude(buf, LLM_ES_MAX_MESSAGE + 1, 0);
    assert_int_equal(feed_all(buf, 12, &r), LLM_ES_ERR_LENGTH);

    /* a smaller configured maximum */
    llm_es_init(&p, record, &r);
    p.max = 100;
    prelude(buf, 101, 0);
    assert_int_equal(llm_es_feed(&p, (char *) buf, 12), LLM_ES_ERR_LENGTH);
    /* sticky */
    assert_int_equal(llm_es_feed(&p, "", 0), LLM_ES_ERR_LENGTH);
    assert_int_equal(llm_es_finish(&p), LLM_ES_ERR_LENGTH);
    llm_es_free(&p);

    /* decode of a buffer that is not exactly one message */
    encode(buf, "", 0, "ab", 2);
    assert_int_equal(llm_es_decode((char *) buf, 17, &m), LLM_ES_ERR_LENGTH);
    assert_int_equal(llm_es_decode((char *) buf, 19, &m), LLM_ES_ERR_LENGTH);
    assert_int_equal(llm_es_decode((char *) buf, 10, &m), LLM_ES_ERR_LENGTH);
    assert_int_equal(llm_es_decode((char *) buf, 18, &m), 0);
}


static void
test_truncation(void **state)
{
    size_t         n, cut;
    rec_t          r;
    unsigned char  buf[512];

    n = bedrock_frame(buf, ":event-type", "messageStop", "event",
                      "{\"stopReason\":\"end_turn\"}");
    n += bedrock_frame(buf + n, ":event-type", "metadata", "event", "{}");

    for (cut = 1; cut < n; cut++) {
        int  rc = feed(buf, cut, SPLIT_RANDOM, (unsigned) cut, &r);

        if (cut == 122) {
            assert_int_equal(rc, 0);
            assert_int_equal(r.count, 1);

        } else {
            assert_int_equal(rc, LLM_ES_ERR_TRUNCATED);
            assert_int_equal(r.count, cut > 122 ? 1 : 0);
        }
    }

    assert_int_equal(feed(buf, 0, SPLIT_WHOLE, 0, &r), 0);
    assert_int_equal(feed(buf, n, SPLIT_BYTE, 0, &r), 0);
    assert_int_equal(r.count, 2);
}


/* every header type; integers are signed big-endian */
static void
test_header_types(void **state)
{
    size_t                  n;
    rec_t                   r;
    unsigned char           h[256], buf[512];
    llm_es_message_t        m;
    const llm_es_header_t  *x;

    n = 0;
#define NAME(s)  h[n++] = sizeof(s) - 1; memcpy(h + n, s, sizeof(s) - 1); \
                 n += sizeof(s) - 1
    NAME("t"); h[n++] = LLM_ES_TRUE;
    NAME("f"); h[n++] = LLM_ES_FALSE;
    NAME("b"); h[n++] = LLM_ES_BYTE; h[n++] = 0xfe;
    NAME("s"); h[n++] = LLM_ES_SHORT; h[n++] = 0x80; h[n++] = 0x00;
    NAME("i"); h[n++] = LLM_ES_INT;
    memcpy(h + n, "\x00\x01\x02\x03", 4); n += 4;
    NAME("l"); h[n++] = LLM_ES_LONG;
    memcpy(h + n, "\xff\xff\xff\xff\xff\xff\xff\xfd", 8); n += 8;
    NAME("bytes"); h[n++] = LLM_ES_BYTES; h[n++] = 0; h[n++] = 3;
    memcpy(h + n, "\x00\x01\x02", 3); n += 3;
    NAME("str"); h[n++] = LLM_ES_STRING; h[n++] = 0; h[n++] = 0;
    NAME("ts"); h[n++] = LLM_ES_TIMESTAMP;
    memcpy(h + n, "\x00\x00\x01\x94\x1f\x29\x7c\x00", 8); n += 8;
    NAME("uuid"); h[n++] = LLM_ES_UUID;
    memcpy(h + n, "0123456789abcdef", 16); n += 16;
    n += str_header(h + n, ":message-type", "event");
#undef NAME

    n = encode(buf, h, n, "{}", 2);
    assert_int_equal(llm_es_decode((char *) buf, n, &m), 0);
    assert_int_equal(m.nheaders, 11);

    assert_int_equal(llm_es_header(&m, "t")->integer, 1);
    assert_int_equal(llm_es_header(&m, "f")->integer, 0);
    assert_int_equal(llm_es_header(&m, "b")->integer, -2);
    assert_int_equal(llm_es_header(&m, "s")->integer, -32768);
    assert_int_equal(llm_es_header(&m, "i")->integer, 0x00010203);
    assert_int_equal(llm_es_header(&m, "l")->integer, -3);
    assert_int_equal(llm_es_header(&m, "ts")->integer, 1735689600000LL);

    x = llm_es_header(&m, "bytes");
    assert_int_equal(x->type, LLM_ES_BYTES);
    assert_int_equal(x->value_len, 3);
    assert_memory_equal(x->value, "\x00\x01\x02", 3);

    x = llm_es_header(&m, "str");
    assert_int_equal(x->value_len, 0);

    x = llm_es_header(&m, "uuid");
    assert_int_equal(x->value_len, 16);
    assert_memory_equal(x->value, "0123456789abcdef", 16);

    assert_true(llm_es_header_is(&m, ":message-type", "event"));
    assert_false(llm_es_header_is(&m, "i", "event"));

    assert_int_equal(feed_all(buf, n, &r), 0);
    assert_int_equal(r.count, 1);
}


static int
bad_headers(const void *h, size_t n)
{
    unsigned char     buf[512];
    llm_es_message_t  m;

    n = encode(buf, h, n, "{}", 2);

    return llm_es_decode((char *) buf, n, &m);
}


static void
test_bad_headers(void **state)
{
    size_t            i, n;
    unsigned char     h[4096], buf[8192];
    llm_es_message_t  m;

    /* an unknown type cannot be stepped over */
    assert_int_equal(bad_headers("\x01x\x0a", 3), LLM_ES_ERR_HEADER);
    /* an empty name */
    assert_int_equal(bad_headers("\x00\x07\x00\x00", 4), LLM_ES_ERR_HEADER);
    /* the name runs past the headers */
    assert_int_equal(bad_headers("\x05xy", 3), LLM_ES_ERR_HEADER);
    /* no type byte */
    assert_int_equal(bad_headers("\x01x", 2), LLM_ES_ERR_HEADER);
    /* values that run past the headers */
    assert_int_equal(bad_headers("\x01x\x04\x00\x00", 5), LLM_ES_ERR_HEADER);
    assert_int_equal(bad_headers("\x01x\x07\x00", 4), LLM_ES_ERR_HEADER);
    assert_int_equal(bad_headers("\x01x\x07\x00\x05" "abcd", 9),
                     LLM_ES_ERR_HEADER);
    assert_int_equal(bad_headers("\x01x\x09" "0123456789abcde", 18),
                     LLM_ES_ERR_HEADER);
    /* a value longer than 32767 */
    assert_int_equal(bad_headers("\x01x\x06\x80\x00", 5), LLM_ES_ERR_HEADER);

    /* more headers than are kept: all checked, the first ones kept */
    n = 0;

    for (i = 0; i < 40; i++) {
        char  name[8];

        snprintf(name, sizeof(name), "h%zu", i);
        n += str_header(h + n, name, "v");
    }

    n = encode(buf, h, n, "", 0);
    assert_int_equal(llm_es_decode((char *) buf, n, &m), 0);
    assert_int_equal(m.nheaders, LLM_ES_MAX_HEADERS);
    assert_non_null(llm_es_header(&m, "h31"));
    assert_null(llm_es_header(&m, "h32"));
}


/* a handler's non-zero rc stops the feed and stays */
static void
test_handler_stop(void **state)
{
    size_t         n;
    rec_t          r;
    unsigned char  buf[1024];

    n = 0;
    n += bedrock_frame(buf + n, ":event-type", "a", "event", "1");
    n += bedrock_frame(buf + n, ":event-type", "b", "event", "2");
    n += bedrock_frame(buf + n, ":event-type", "c", "event", "3");

    stop_at = 2;
    assert_int_equal(feed_all(buf, n, &r), 42);
    assert_int_equal(r.count, 2);
    stop_at = 0;

    assert_string_equal(llm_es_strerror(LLM_ES_ERR_CRC),
                        "event-stream message CRC mismatch");
    assert_string_equal(llm_es_strerror(42), "event-stream handler failed");
    assert_string_equal(llm_es_strerror(LLM_ES_ERR_TRUNCATED),
                        "event-stream ended inside a message");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_c_vectors),
        cmocka_unit_test(test_bedrock_vectors),
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_crc_failures),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_header_types),
        cmocka_unit_test(test_bad_headers),
        cmocka_unit_test(test_handler_stop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
