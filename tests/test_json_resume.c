/*
 * Copyright (C) ngx_llm authors
 *
 * The scan resumed from a checkpoint (llm_json_scan_ckpt(),
 * llm_json_scan_resume()) against a full llm_json_scan() of the same
 * bytes: the same result and, when it succeeds, every field of o and the
 * tape that a caller reads, for stream chunks of every provider, each of
 * their root members as the checkpoint, every truncation, random edits
 * after the checkpoint, random documents, and the limits (members, tape
 * containers and members before and after it, depth, prefix length).
 * The outputs of the two scans start from different garbage, so that a
 * field one of them leaves unwritten shows.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_json.h"
#include "test_json_gen.h"


/* keys from a small set, "choices" among them, escaped ones too */
static const char  *tr_keys[] = {
    "a", "id", "choices", "usage", "k\\\"ey", "\\u0041", "",
    "choice", "choicesx", "choic\\u0065s", "delta", "x\\\\y",
};

static const char  *tr_pieces[] = {
    "\\n", "\\\"", "\\\\", "\\u00e9", "\\uD83D\\uDE00", "\xc3\xa9",
};

static const char  *tr_scalars[] = {
    "0", "-1", "12.5e-3", "1732838400", "true", "false", "null",
};

/* now and then an object with more members than the tape holds */
static tg_gen_t  tr_gen = {
    0x2545f4914f6cdd1dULL,
    tr_keys, tg_n(tr_keys), tr_pieces, tg_n(tr_pieces),
    tr_scalars, tg_n(tr_scalars),
    40, 10, 10,
    7,
    16, 40, 30, 5
};

/* comparisons that went through a resume, and all of them */
static unsigned  tr_resumed;
static unsigned  tr_compared;


static void tr_same(int rc, const llm_json_obj_t *a, const llm_json_tape_t *x,
    int rc2, const llm_json_obj_t *b, const llm_json_tape_t *y);
static int tr_check(const char *s, size_t len, const llm_json_ckpt_t *ck);
static int tr_take(const char *a, size_t alen, const char *key,
    size_t key_len, llm_json_ckpt_t *ck);
static void tr_suffix(const llm_json_ckpt_t *ck, const char *s, size_t n);
static void tr_mutate(const char *a, size_t alen, const llm_json_ckpt_t *ck,
    unsigned rounds);
static void tr_all(const char *a, size_t alen, const char *key,
    size_t key_len, unsigned rounds);


/* what a caller of a successful scan reads: all of it the same */
static void
tr_same(int rc, const llm_json_obj_t *a, const llm_json_tape_t *x, int rc2,
    const llm_json_obj_t *b, const llm_json_tape_t *y)
{
    uint32_t  k;

    assert_int_equal(rc, rc2);

    if (rc != 0) {
        return;
    }

    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->escaped, b->escaped);
    assert_int_equal(a->space, b->space);
    assert_memory_equal(a->m, b->m, a->n * sizeof(llm_json_member_t));

    assert_int_equal(x->n, y->n);
    assert_int_equal(x->nm, y->nm);
    assert_int_equal(x->lost, y->lost);

    for (k = 0; k < x->n; k++) {
        assert_int_equal(x->start[k], y->start[k]);
        assert_int_equal(x->end[k], y->end[k]);
        assert_int_equal(x->first[k], y->first[k]);
    }

    assert_memory_equal(x->owner, y->owner, x->nm);
    assert_memory_equal(x->m, y->m, x->nm * sizeof(llm_json_member_t));
}


/*
 * s scanned in full and resumed from ck, by llm_json_scan_resume() and by
 * llm_json_scan_ckpt(), which leaves ck as it is when it resumes; returns
 * whether it resumed
 */
static int
tr_check(const char *s, size_t len, const llm_json_ckpt_t *ck)
{
    int               rc, rc2, resumed;
    char             *p;
    llm_json_obj_t    a, b;
    llm_json_tape_t   x, y;
    llm_json_ckpt_t   c;

    p = tg_exact(s, len);

    resumed = ck->valid && len > ck->off
              && memcmp(p, ck->prefix, ck->off) == 0;

    memset(&a, 0x5a, sizeof(a));
    memset(&x, 0x5a, sizeof(x));
    rc = llm_json_scan(p, len, &a, &x);

    memset(&b, 0xa5, sizeof(b));
    memset(&y, 0xa5, sizeof(y));
    rc2 = llm_json_scan_resume(p, len, &b, &y, ck);
    tr_same(rc, &a, &x, rc2, &b, &y);

    c = *ck;
    memset(&b, 0x3c, sizeof(b));
    memset(&y, 0x3c, sizeof(y));
    rc2 = llm_json_scan_ckpt(p, len, &b, &y, "choices", 7, &c);
    tr_same(rc, &a, &x, rc2, &b, &y);

    if (resumed) {
        assert_memory_equal(&c, ck, sizeof(llm_json_ckpt_t));
    }

    free(p);

    tr_compared++;
    tr_resumed += resumed;

    return resumed;
}


/*
 * a checkpoint on a at key: the scan is llm_json_scan()'s, and the
 * checkpoint, if any, at the first root member spelled as key
 */
static int
tr_take(const char *s, size_t alen, const char *key, size_t key_len,
    llm_json_ckpt_t *ck)
{
    int               rc, rc2;
    char             *p;
    llm_json_obj_t    a, b;
    llm_json_tape_t   x, y;

    p = tg_exact(s, alen);
    memset(ck, 0xee, sizeof(llm_json_ckpt_t));
    ck->valid = 0;

    memset(&a, 0x5a, sizeof(a));
    memset(&x, 0x5a, sizeof(x));
    rc = llm_json_scan(p, alen, &a, &x);

    memset(&b, 0xa5, sizeof(b));
    memset(&y, 0xa5, sizeof(y));
    rc2 = llm_json_scan_ckpt(p, alen, &b, &y, key, key_len, ck);
    tr_same(rc, &a, &x, rc2, &b, &y);

    if (ck->valid) {
        assert_int_equal(rc, 0);
        assert_true(ck->off > 0 && ck->off <= LLM_JSON_CKPT_PREFIX);
        assert_true(ck->off + key_len + 2 <= alen);
        assert_int_equal(p[ck->off], '"');
        assert_memory_equal(p + ck->off + 1, key, key_len);
        assert_int_equal(p[ck->off + key_len + 1], '"');
        assert_memory_equal(ck->prefix, p, ck->off);
    }

    free(p);

    return ck->valid;
}


/* the checkpoint's prefix and then s */
static void
tr_suffix(const llm_json_ckpt_t *ck, const char *s, size_t n)
{
    tg_text_t  t;

    memset(&t, 0, sizeof(t));
    tg_put(&t, ck->prefix, ck->off);
    tg_put(&t, s, n);

    (void) tr_check(t.data, t.len, ck);

    free(t.data);
}


/* a, checkpointed at ck, with bytes after the checkpoint changed */
static void
tr_mutate(const char *a, size_t alen, const llm_json_ckpt_t *ck,
    unsigned rounds)
{
    char      *b;
    size_t     n, k, at, off;
    unsigned   r, e;

    static const char  bytes[] = "{}[]\",:\\ \t\n0123456789-+.eEtrufalsn"
                                 "chois\x01\x1f\x7f\xc3\xa9\xff";

    off = ck->off;
    b = malloc(alen + 64);
    assert_non_null(b);

    for (r = 0; r < rounds; r++) {
        memcpy(b, a, alen);
        n = alen;

        for (e = 1 + tg_rand(&tr_gen, 3); e; e--) {
            at = off + tg_rand(&tr_gen, (uint32_t) (n - off + 1));

            switch (tg_rand(&tr_gen, 4)) {

            case 0:
                /* another byte */
                if (at < n) {
                    b[at] = bytes[tg_rand(&tr_gen, sizeof(bytes) - 1)];
                }

                break;

            case 1:
                /* a byte more */
                if (n < alen + 60) {
                    memmove(b + at + 1, b + at, n - at);
                    b[at] = bytes[tg_rand(&tr_gen, sizeof(bytes) - 1)];
                    n++;
                }

                break;

            case 2:
                /* a few bytes less */
                k = tg_rand(&tr_gen, 4) + 1;

                if (at + k <= n) {
                    memmove(b + at, b + at + k, n - at - k);
                    n -= k;
                }

                break;

            default:
                /* cut */
                n = at;
            }
        }

        (void) tr_check(b, n, ck);
    }

    free(b);
}


/* a checkpointed at key, its truncations and random edits after it */
static void
tr_all(const char *a, size_t alen, const char *key, size_t key_len,
    unsigned rounds)
{
    size_t           k;
    llm_json_ckpt_t  ck;

    if (!tr_take(a, alen, key, key_len, &ck)) {
        /* no checkpoint: a full scan all the same */
        assert_int_equal(tr_check(a, alen, &ck), 0);
        return;
    }

    /* the document itself resumes */
    assert_int_equal(tr_check(a, alen, &ck), 1);

    for (k = 0; k < alen; k++) {
        assert_int_equal(tr_check(a, k, &ck), k > ck.off);
    }

    tr_mutate(a, alen, &ck, rounds);
}


#define TR_OPENAI(delta, finish)                                             \
    "{\"id\":\"chatcmpl-B9mXq2Lw7RkT4yHn8VcP1aZs0Df3\",\"object\":"          \
    "\"chat.completion.chunk\",\"created\":1732838400,\"model\":"            \
    "\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_a7d06e42a7\","        \
    "\"choices\":[{\"index\":0,\"delta\":" delta ",\"logprobs\":null,"       \
    "\"finish_reason\":" finish "}]}"

#define TR_CHUNK(body)  "{\"id\":\"chatcmpl-2\",\"object\":"                 \
    "\"chat.completion.chunk\",\"created\":1735689600,\"model\":"          \
    "\"gpt-4o-mini\"," body "}"


/* the chunks of OpenAI and the servers that speak its dialect */
static const char  *tr_chunks[] = {
    /* the bench's */
    TR_OPENAI("{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}",
              "null"),
    TR_OPENAI("{\"content\":\"- TCP is\"}", "null"),
    TR_OPENAI("{\"content\":\" and reliable.\\n\"}", "null"),
    TR_OPENAI("{}", "\"stop\""),

    /* test_openai.c's */
    TR_CHUNK("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
             "\"content\":\"\"},\"finish_reason\":null}],\"usage\":null"),
    TR_CHUNK("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Paris\"},"
             "\"finish_reason\":null}],\"usage\":null"),
    TR_CHUNK("\"choices\":[],\"usage\":{\"prompt_tokens\":21,"
             "\"completion_tokens\":1,\"total_tokens\":22}"),

    /* tools */
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
    "\"index\":0,\"id\":\"call_a1\",\"type\":\"function\",\"function\":{"
    "\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
    "\"finish_reason\":null}],\"usage\":null}",

    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
    "\"{\\\"city\\\":\"}}]},\"finish_reason\":null}],\"usage\":null}",

    /* OpenAI's usage chunk, with service_tier */
    "{\"id\":\"chatcmpl-m\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"gpt-4o\",\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_mock\",\"choices\":[],\"usage\":{"
    "\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12,"
    "\"prompt_tokens_details\":{\"cached_tokens\":0}}}",

    /* Groq: x_groq first and last */
    "{\"id\":\"chatcmpl-g\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"llama-3.1-8b-instant\","
    "\"system_fingerprint\":\"fp_mockgroq\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
    "\"finish_reason\":null}],\"x_groq\":{\"id\":\"req_01\"}}",

    "{\"id\":\"chatcmpl-g\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"llama-3.1-8b-instant\","
    "\"system_fingerprint\":\"fp_mockgroq\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
    "\"x_groq\":{\"id\":\"req_01\",\"usage\":{\"prompt_tokens\":5,"
    "\"completion_tokens\":2,\"total_tokens\":7}}}",

    /* Mistral: content parts, finish with usage */
    "{\"id\":\"cmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"magistral\",\"choices\":[{\"index\":0,\"delta\":{"
    "\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":\"text\","
    "\"text\":\"hm\"}]}]},\"finish_reason\":null}]}",

    "{\"id\":\"cmpl-9\",\"object\":\"chat.completion.chunk\",\"created\":1,"
    "\"model\":\"mistral-small\",\"choices\":[{\"index\":0,\"delta\":{"
    "\"content\":\"\"},\"finish_reason\":\"stop\"}],\"usage\":{"
    "\"prompt_tokens\":4,\"total_tokens\":6,\"completion_tokens\":2}}",

    /* Azure: choices first, filters */
    "{\"choices\":[{\"content_filter_results\":{\"hate\":{\"filtered\":false,"
    "\"severity\":\"safe\"}},\"delta\":{\"content\":\"Hi\"},"
    "\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
    "\"created\":1,\"id\":\"chatcmpl-az\",\"model\":\"gpt-4o\","
    "\"object\":\"chat.completion.chunk\",\"system_fingerprint\":\"fp_az\"}",

    "{\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\",\"object\":\"\","
    "\"prompt_filter_results\":[{\"prompt_index\":0,"
    "\"content_filter_results\":{}}]}",

    /* Ollama */
    "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"llama3\",\"system_fingerprint\":"
    "\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hi\"},\"finish_reason\":null}]}",

    /* whitespace, as some servers print it */
    "{\n  \"id\": \"chatcmpl-s\",\n  \"object\": \"chat.completion.chunk\",\n"
    "  \"created\": 1,\n  \"model\": \"m\",\n  \"choices\": [\n    {\n"
    "      \"index\": 0,\n      \"delta\": {\"content\": \"x\"},\n"
    "      \"finish_reason\": null\n    }\n  ]\n}",

    "  {\"id\" :\"c\" , \"choices\"\t:\r\n[ ] ,\"usage\":null }  ",

    /* an error, no choices */
    "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}",
};

#define TR_NCHUNKS  (sizeof(tr_chunks) / sizeof(tr_chunks[0]))


static void
test_chunks(void **state)
{
    size_t           i, j;
    unsigned         resumed;
    llm_json_ckpt_t  ck;

    resumed = tr_resumed;

    for (i = 0; i < TR_NCHUNKS; i++) {
        tr_all(tr_chunks[i], strlen(tr_chunks[i]), "choices", 7, 300);

        /* each chunk after another's checkpoint: some share its prefix */
        (void) tr_take(tr_chunks[i], strlen(tr_chunks[i]), "choices", 7,
                       &ck);

        for (j = 0; j < TR_NCHUNKS; j++) {
            (void) tr_check(tr_chunks[j], strlen(tr_chunks[j]), &ck);
        }
    }

    assert_true(tr_resumed - resumed > 1000);
}


/* the checkpoint at each root member of each chunk, escaped keys too */
static void
test_every_member(void **state)
{
    size_t            i, len;
    uint32_t          k;
    const char       *s;
    llm_json_obj_t    o;
    llm_json_tape_t   tape;

    static const char  *more[] = {
        "{\"a\":1,\"k\\\"ey\":[{\"x\":{}}],\"\\u0041\":\"v\",\"b\":{\"c\\n"
        "\":[1,{\"d\":2}]},\"\":{},\"choic\\u0065s\":[],\"z\":true}",

        "{\"x\\\\y\":{\"a\":[{},[]],\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{"
        "\"g\":1}}}}}},\"choices\":[{\"k\":\"\\ud83d\\ude00\"}],"
        "\"q\":-0.5e+7}",
    };

    for (i = 0; i < TR_NCHUNKS + 2; i++) {
        s = i < TR_NCHUNKS ? tr_chunks[i] : more[i - TR_NCHUNKS];
        len = strlen(s);

        if (llm_json_scan(s, len, &o, &tape) != 0) {
            continue;
        }

        for (k = 0; k < o.n; k++) {
            tr_all(s, len, s + o.m[k].key + 1, o.m[k].key_len, 40);
        }
    }
}


/* random documents: the same prefix, and then anything */
static void
test_random(void **state)
{
    int              space;
    size_t           off;
    unsigned         r, i, n, before, resumed, valid;
    tg_text_t        a, b;
    llm_json_ckpt_t  ck;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    resumed = tr_resumed;
    valid = 0;

    for (r = 0; r < 3000; r++) {
        space = tg_rand(&tr_gen, 3) == 0;
        a.len = 0;

        if (space && tg_rand(&tr_gen, 2)) {
            tg_puts(&a, " ");
        }

        tg_puts(&a, "{");
        tg_ws(&tr_gen, &a, space);

        for (i = 0, before = tg_rand(&tr_gen, 6); i < before; i++) {
            tg_string(&tr_gen, &a, 1);
            tg_ws(&tr_gen, &a, space);
            tg_puts(&a, ":");
            tg_ws(&tr_gen, &a, space);
            tg_value(&tr_gen, &a, 1, space);
            tg_ws(&tr_gen, &a, space);
            tg_puts(&a, ",");
            tg_ws(&tr_gen, &a, space);
        }

        off = a.len;

        /* the same prefix, and then a different rest */
        b.len = 0;
        tg_put(&b, a.data, off);

        for (i = 0, n = 1 + tg_rand(&tr_gen, 4); i < n; i++) {
            if (i) {
                tg_puts(&a, ",");
                tg_ws(&tr_gen, &a, space);
            }

            if (i == 0 || tg_rand(&tr_gen, 4) == 0) {
                tg_puts(&a, "\"choices\"");

            } else {
                tg_string(&tr_gen, &a, 1);
            }

            tg_ws(&tr_gen, &a, space);
            tg_puts(&a, ":");
            tg_ws(&tr_gen, &a, space);
            tg_value(&tr_gen, &a, 1, space);
            tg_ws(&tr_gen, &a, space);
        }

        tg_puts(&a, "}");

        for (i = 0, n = tg_rand(&tr_gen, 5); i < n; i++) {
            if (i) {
                tg_puts(&b, ",");
                tg_ws(&tr_gen, &b, space);
            }

            tg_string(&tr_gen, &b, 1);
            tg_ws(&tr_gen, &b, space);
            tg_puts(&b, ":");
            tg_ws(&tr_gen, &b, space);
            tg_value(&tr_gen, &b, 1, space);
            tg_ws(&tr_gen, &b, space);
        }

        if (n == 0 && before) {
            /* the ',' at the end of the prefix: not JSON */
            tg_puts(&b, "\"last\":0");
        }

        tg_puts(&b, "}");

        if (tr_take(a.data, a.len, "choices", 7, &ck)) {
            valid++;
            (void) tr_check(b.data, b.len, &ck);
            tr_mutate(a.data, a.len, &ck, 4);
        }
    }

    /* most of them are small enough to checkpoint */
    assert_true(valid > 1500);
    assert_true(tr_resumed - resumed > 3000);

    free(a.data);
    free(b.data);
}


/* where there is no checkpoint, or one only at some of the members */
static void
test_where(void **state)
{
    char             *p;
    size_t            k;
    tg_text_t         t;
    llm_json_obj_t    o;
    llm_json_ckpt_t   ck;
    llm_json_tape_t   tape;

    static const struct {
        const char  *doc;
        int          off;       /* -1: none */
    } docs[] = {
        { "{\"choices\":[]}", 1 },
        { "  {\"choices\":[]}", 3 },
        { "{ \"choices\" : [] }", 2 },
        { "{\"choices\":1,\"choices\":2}", 1 },
        { "{\"a\":{\"choices\":[1]},\"b\":2}", -1 },
        { "{\"a\":[{\"choices\":[1]}],\"b\":\"choices\"}", -1 },
        { "{\"a\":\"choices\",\"b\":{\"choices\":1},\"choices\":[]}", 33 },
        { "{\"choicesx\":1,\"choice\":2,\"choices\":3}", 25 },
        { "{\"choic\\u0065s\":1,\"choices\":2}", 18 },
        { "{\"Choices\":1}", -1 },
        { "{\"choices\":[],", -1 },
        { "{\"choices\":[],\"a\":}", -1 },
        { "{\"choices\"", -1 },
        { "[{\"choices\":1}]", -1 },
        { "\"choices\"", -1 },
        { "{}", -1 },
        { "", -1 },
    };

    for (k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
        p = tg_exact(docs[k].doc, strlen(docs[k].doc));
        memset(&ck, 0, sizeof(ck));

        (void) llm_json_scan_ckpt(p, strlen(docs[k].doc), &o, &tape,
                                  "choices", 7, &ck);

        if (docs[k].off < 0) {
            assert_int_equal(ck.valid, 0);

        } else {
            assert_int_equal(ck.valid, 1);
            assert_int_equal(ck.off, docs[k].off);
        }

        free(p);

        tr_all(docs[k].doc, strlen(docs[k].doc), "choices", 7, 50);
    }

    /* without o or tape: a plain scan, no checkpoint */
    memset(&ck, 0, sizeof(ck));
    assert_int_equal(llm_json_scan_ckpt("{\"choices\":[]}", 14, NULL, &tape,
                                        "choices", 7, &ck), 0);
    assert_int_equal(ck.valid, 0);
    assert_int_equal(llm_json_scan_ckpt("{\"choices\":[]}", 14, &o, NULL,
                                        "choices", 7, &ck), 0);
    assert_int_equal(ck.valid, 0);

    /* a checkpoint is replaced by the next full scan, kept by a resume */
    assert_int_equal(llm_json_scan_ckpt("{\"a\":1,\"choices\":[]}", 20, &o,
                                        &tape, "choices", 7, &ck), 0);
    assert_int_equal(ck.valid, 1);
    assert_int_equal(ck.off, 7);

    assert_int_equal(llm_json_scan_ckpt("{\"a\":1,\"choices\":[1]}", 21, &o,
                                        &tape, "choices", 7, &ck), 0);
    assert_int_equal(ck.off, 7);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.m[1].val_end, 20);

    assert_int_equal(llm_json_scan_ckpt("{\"b\":12,\"choices\":[]}", 21, &o,
                                        &tape, "choices", 7, &ck), 0);
    assert_int_equal(ck.valid, 1);
    assert_int_equal(ck.off, 8);

    /* a failed scan leaves none */
    assert_int_equal(llm_json_scan_ckpt("{\"b\":1,\"choices\":[}", 19, &o,
                                        &tape, "choices", 7, &ck), -1);
    assert_int_equal(ck.valid, 0);

    /* the prefix is bounded */
    memset(&t, 0, sizeof(t));

    for (k = LLM_JSON_CKPT_PREFIX - 12; k < LLM_JSON_CKPT_PREFIX + 3; k++) {
        t.len = 0;
        tg_puts(&t, "{\"p\":\"");

        while (t.len < k - 2) {
            tg_puts(&t, "x");
        }

        tg_puts(&t, "\",\"choices\":[1,2],\"z\":{}}");
        assert_int_equal(t.data[k], '"');

        assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck),
                         k <= LLM_JSON_CKPT_PREFIX);
        tr_all(t.data, t.len, "choices", 7, 20);
    }

    free(t.data);
}


/* the limits of o, the tape and the checkpoint, before and after it */
static void
test_limits(void **state)
{
    int              rc;
    char             buf[64];
    size_t           i, k, n;
    tg_text_t        t;
    llm_json_obj_t   o;
    llm_json_ckpt_t  ck;
    llm_json_tape_t  tape;

    memset(&t, 0, sizeof(t));

    /*
     * root members before and after: the checkpoint holds
     * LLM_JSON_CKPT_MEMBERS, o holds LLM_JSON_MAX_MEMBERS
     */
    for (n = LLM_JSON_CKPT_MEMBERS - 2; n < LLM_JSON_CKPT_MEMBERS + 3; n++) {
        for (i = 0; i < 2; i++) {
            t.len = 0;
            tg_puts(&t, "{");

            for (k = 0; k < n; k++) {
                snprintf(buf, sizeof(buf), "\"m%zu\":%zu,", k, k);
                tg_puts(&t, buf);
            }

            tg_puts(&t, "\"choices\":0");

            for (k = n + 1; k < LLM_JSON_MAX_MEMBERS + i; k++) {
                tg_puts(&t, ",\"z\":[]");
            }

            tg_puts(&t, "}");

            rc = llm_json_scan(t.data, t.len, &o, &tape);
            assert_int_equal(rc, i ? -1 : 0);

            assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck),
                             n <= LLM_JSON_CKPT_MEMBERS && i == 0);
            tr_all(t.data, t.len, "choices", 7, 30);

            if (ck.valid) {
                /* one member more after it, from the same prefix */
                tr_suffix(&ck, "\"choices\":0,\"y\":1}",
                          strlen("\"choices\":0,\"y\":1}"));
            }
        }
    }

    /* more containers before it than the tape holds */
    t.len = 0;
    tg_puts(&t, "{\"a\":[");

    for (i = 0; i < LLM_JSON_TAPE + 8; i++) {
        tg_puts(&t, i ? ",[]" : "[]");
    }

    tg_puts(&t, "],\"choices\":[{\"b\":1}],\"c\":{\"d\":2}}");
    assert_int_equal(llm_json_scan(t.data, t.len, &o, &tape), 0);
    assert_int_equal(tape.n, LLM_JSON_TAPE);
    assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck), 1);
    assert_int_equal(ck.tn, LLM_JSON_TAPE);
    tr_all(t.data, t.len, "choices", 7, 200);

    /* the tape full after it, some of it filled before */
    t.len = 0;
    tg_puts(&t, "{\"a\":[[],{\"x\":1,\"y\":{\"z\":2}}],\"choices\":[");

    for (i = 0; i < LLM_JSON_TAPE + 4; i++) {
        tg_puts(&t, i ? ",{\"k\":[1]}" : "{\"k\":[1]}");
    }

    tg_puts(&t, "]}");
    assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck), 1);
    assert_int_equal(ck.tn, 5);
    assert_int_equal(ck.nm, 3);
    tr_all(t.data, t.len, "choices", 7, 200);

    /* the tape's members: some before, the store full after */
    t.len = 0;
    tg_puts(&t, "{\"a\":{");

    for (i = 0; i < LLM_JSON_CKPT_MEMBERS; i++) {
        tg_puts(&t, i ? ",\"k\":1" : "\"k\":1");
    }

    tg_puts(&t, "},\"choices\":[{");

    for (i = 0; i < LLM_JSON_TAPE_MEMBERS; i++) {
        tg_puts(&t, i ? ",\"v\":{}" : "\"v\":{}");
    }

    tg_puts(&t, "},{\"w\":0}],\"end\":{\"e\":1}}");
    assert_int_equal(llm_json_scan(t.data, t.len, &o, &tape), 0);
    assert_int_equal(tape.nm, LLM_JSON_TAPE_MEMBERS);
    assert_true(tape.lost != UINT32_MAX);
    assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck), 1);
    assert_int_equal(ck.nm, LLM_JSON_CKPT_MEMBERS);
    tr_all(t.data, t.len, "choices", 7, 200);

    /* one tape member more before it than the checkpoint holds */
    t.len = 0;
    tg_puts(&t, "{\"a\":{");

    for (i = 0; i <= LLM_JSON_CKPT_MEMBERS; i++) {
        tg_puts(&t, i ? ",\"k\":1" : "\"k\":1");
    }

    tg_puts(&t, "},\"choices\":[]}");
    assert_int_equal(tr_take(t.data, t.len, "choices", 7, &ck), 0);
    tr_all(t.data, t.len, "choices", 7, 20);

    /* deep after it: deeper than the tape, and as deep as allowed */
    for (n = LLM_JSON_MAX_DEPTH - 2; n <= LLM_JSON_MAX_DEPTH + 1; n++) {
        t.len = 0;
        tg_puts(&t, "{\"id\":\"x\",\"choices\":");

        for (i = 0; i < n; i++) {
            tg_puts(&t, i % 3 == 2 ? "{\"d\":" : "[");
        }

        tg_puts(&t, "1");

        for (i = n; i > 0; i--) {
            tg_puts(&t, (i - 1) % 3 == 2 ? "}" : "]");
        }

        tg_puts(&t, "}");

        /* the root and n more */
        rc = llm_json_scan(t.data, t.len, &o, &tape);
        assert_int_equal(rc, n + 1 <= LLM_JSON_MAX_DEPTH ? 0 : -1);

        tr_all(t.data, t.len, "choices", 7, 30);
    }

    free(t.data);
}


/* whitespace where the prefix ends, and none where the checkpoint had it */
static void
test_space(void **state)
{
    size_t           k, j;
    llm_json_ckpt_t  ck;

    static const char  *after[] = {
        "\"choices\":[]}",
        " \"choices\":[]}",
        "\n\t\"choices\" : [ ] }",
        "\r\n\"x\":1}",
        "\"choices\":[{\"a\" :1}]}",
        " ",
        "}",
        "\"choices\":[]",
        "\"choices\":[]}   trailing",
    };

    static const char  *docs[] = {
        "{\"id\":\"a\",\"choices\":[]}",
        "{\"id\":\"a\", \"choices\":[]}",
        "{ \"choices\":[]}",
        "{\"id\" : \"a\" ,\n\"choices\":[]}",
    };

    for (k = 0; k < sizeof(docs) / sizeof(docs[0]); k++) {
        assert_int_equal(tr_take(docs[k], strlen(docs[k]), "choices", 7,
                                 &ck), 1);

        for (j = 0; j < sizeof(after) / sizeof(after[0]); j++) {
            tr_suffix(&ck, after[j], strlen(after[j]));
        }

        tr_all(docs[k], strlen(docs[k]), "choices", 7, 100);
    }
}


int
main(void)
{
    int  rc;

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_every_member),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_where),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_space),
    };

    rc = cmocka_run_group_tests(tests, NULL, NULL);

    printf("resume: %u of %u comparisons resumed\n", tr_resumed,
           tr_compared);

    return rc;
}
