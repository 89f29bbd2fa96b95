/*
 * Copyright (C) ngx_llm authors
 *
 * The hot-path JSON scanner and splicer: what it accepts cJSON reads
 * the same way, what it refuses, the spans it finds, the edits it makes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "llm_json.h"


static int t_scan(const char *s);
static void t_tape_check(const char *p, size_t len);
static void t_same_as_cjson(const char *p, size_t len);
static char *t_splice(llm_json_splice_t *sp);
static void t_json_eq(const char *got, const char *expect);


static int
t_scan(const char *s)
{
    return llm_json_scan(s, strlen(s), NULL, NULL);
}


/* an accepted text: cJSON reads it, and its minified copy, the same */
static void
t_same_as_cjson(const char *p, size_t len)
{
    cJSON            *a, *b;
    size_t            i;
    llm_buf_t         min;
    const char       *end;

    assert_int_equal(llm_json_scan(p, len, NULL, NULL), 0);

    a = cJSON_ParseWithLengthOpts(p, len, &end, 0);
    if (a == NULL) {
        fprintf(stderr, "cJSON refuses: %.*s\n", (int) len, p);
        fail();
    }

    /* minify from the value's first byte to its end */
    for (i = 0; p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r';
         i++)
    {
        /* void */
    }

    memset(&min, 0, sizeof(llm_buf_t));
    assert_int_equal(llm_json_append_min(&min, p + i, end - (p + i)), 0);

    b = cJSON_ParseWithLength(min.data, min.len);
    assert_non_null(b);

    if (!cJSON_Compare(a, b, 1)) {
        fprintf(stderr, "differs: %.*s\nminified: %s\n", (int) len, p,
                min.data);
        fail();
    }

    cJSON_Delete(a);
    cJSON_Delete(b);
    llm_buf_free(&min);
}


/* every span on the tape is one container, and skipping agrees */
static void
t_tape_check(const char *p, size_t len)
{
    int              rc;
    size_t           pos, v, ve, v2, ve2, pos2;
    uint32_t         k;
    llm_json_obj_t   a, b;
    llm_json_tape_t  tape;

    if (llm_json_scan(p, len, NULL, &tape) != 0) {
        return;
    }

    for (k = 0; k < tape.n; k++) {
        if (k) {
            assert_true(tape.start[k] > tape.start[k - 1]);
        }

        if (p[tape.start[k]] == '{') {
            assert_int_equal(llm_json_object(p, NULL, tape.start[k],
                                             tape.end[k], &a), 0);
            assert_int_equal(llm_json_object(p, &tape, tape.start[k],
                                             tape.end[k], &b), 0);
            assert_int_equal(a.n, b.n);
            assert_memory_equal(a.m, b.m, a.n * sizeof(llm_json_member_t));
            continue;
        }

        assert_int_equal(p[tape.start[k]], '[');
        pos = 0;
        pos2 = 0;

        while ((rc = llm_json_array_next(p, NULL, tape.start[k], tape.end[k],
                                         &pos, &v, &ve))
               == 1)
        {
            assert_int_equal(llm_json_array_next(p, &tape, tape.start[k],
                                                 tape.end[k], &pos2, &v2,
                                                 &ve2), 1);
            assert_int_equal(v, v2);
            assert_int_equal(ve, ve2);
        }

        assert_int_equal(rc, 0);
        assert_int_equal(llm_json_array_next(p, &tape, tape.start[k],
                                             tape.end[k], &pos2, &v2, &ve2),
                         0);
    }
}


static char *
t_splice(llm_json_splice_t *sp)
{
    llm_buf_t  out;

    memset(&out, 0, sizeof(llm_buf_t));

    if (llm_json_splice(sp, &out) != 0) {
        llm_buf_free(&out);
        return NULL;
    }

    return out.data ? out.data : strdup("");
}


static void
t_json_eq(const char *got, const char *expect)
{
    cJSON  *a, *b;

    a = cJSON_Parse(got);
    b = cJSON_Parse(expect);

    if (a == NULL || b == NULL || !cJSON_Compare(a, b, 1)) {
        fprintf(stderr, "got:    %s\nexpect: %s\n", got, expect);
        cJSON_Delete(a);
        cJSON_Delete(b);
        fail();
    }

    cJSON_Delete(a);
    cJSON_Delete(b);
}


static void
test_accepts(void **state)
{
    size_t  i;

    static const char  *ok[] = {
        "{}", "[]", "0", "-0", "1", "-12.5e-3", "1E+2", "0.0e0", "\"\"",
        "true", "false", "null", " \t\r\n{ } ", "{\"a\":1} trailing junk",
        "[1,2,[3,[4,{}]],{\"k\":[]}]",
        "{\"a\" : [ 1 , \"x\" ] , \"b\" : { \"c\" : null } }",
        "\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00\"",
        "\"raw utf-8: \xc3\xa9 \xf0\x9f\x98\x80\"",
        /* invalid UTF-8 passes through cJSON untouched, and here too */
        "\"\xff\xfe\"",
        "1e-400", "123456789012345678901234567890",
        "1e299", "-1e299", "0.5e299", "1 2", "0 trailing", "0x10",
        "[\"a long string of more than eight bytes, with \\\"quotes\\\"\"]",
    };

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        if (t_scan(ok[i]) != 0) {
            fprintf(stderr, "refused: %s\n", ok[i]);
            fail();
        }

        t_same_as_cjson(ok[i], strlen(ok[i]));
    }
}


static void
test_refuses(void **state)
{
    int     i;
    char    deep[2 * LLM_JSON_MAX_DEPTH + 8], num[80];
    size_t  k;

    static const char  *bad[] = {
        "", " ", "{", "}", "[", "{\"a\"}", "{\"a\":}", "{,}", "{\"a\":1,}",
        "[1,]", "[,1]", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "1.", ".5",
        "+1", "-", "1e", "1-", "0.5.5", "1e5e5", "06e8079-l-", "1e+",
        "--1", "NaN", "Infinity", "tru",
        "nul", "fals", "True", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\u12g4\"",
        /* cJSON would end the string at the NUL */
        "\"a\\u0000b\"",
        /* lone and broken surrogates, which cJSON refuses */
        "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
        /* a raw control byte, a BOM, control bytes as whitespace */
        "\"a\tb\"", "\"a\nb\"", "\xef\xbb\xbf{}", "\x01{}", "{\x0b}",
        /* overflows cJSON would print as null */
        "1e400", "1e301", "12e299", "9.9e300",
    };

    for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        if (t_scan(bad[k]) == 0) {
            fprintf(stderr, "accepted: %s\n", bad[k]);
            fail();
        }
    }

    /* an object wanted, another value given */
    assert_int_equal(llm_json_scan("[1]", 3, &(llm_json_obj_t) { 0 }, NULL),
                     -1);

    /* nesting: the limit is accepted, one more is not */
    for (i = 0; i < LLM_JSON_MAX_DEPTH; i++) {
        deep[i] = '[';
        deep[2 * LLM_JSON_MAX_DEPTH - 1 - i] = ']';
    }

    assert_int_equal(llm_json_scan(deep, 2 * LLM_JSON_MAX_DEPTH, NULL, NULL),
                     0);

    memmove(deep + 1, deep, 2 * LLM_JSON_MAX_DEPTH);
    deep[0] = '[';
    deep[2 * LLM_JSON_MAX_DEPTH + 1] = ']';
    assert_int_equal(llm_json_scan(deep, 2 * LLM_JSON_MAX_DEPTH + 2, NULL,
                                   NULL),
                     -1);

    /* numbers: cJSON reads 63 characters at most; here 60 */
    memset(num, '1', 60);
    assert_int_equal(llm_json_scan(num, 60, NULL, NULL), 0);
    memset(num, '1', 61);
    assert_int_equal(llm_json_scan(num, 61, NULL, NULL), -1);

    /* a document cut anywhere is refused */
    {
        static const char  doc[] =
            "{\"a\":[1,{\"b\":\"x\\u00e9\"}],\"c\":true}";

        for (k = 0; k < sizeof(doc) - 1; k++) {
            assert_int_equal(llm_json_scan(doc, k, NULL, NULL), -1);
        }
    }
}


static void
test_members(void **state)
{
    const char               *p;
    llm_json_obj_t            o, n;
    const llm_json_member_t  *m;

    p = " { \"id\" : \"x\", \"n\":[1,{\"a\":2}] ,\"o\":{ \"k\": \"v\" },"
        "\"e\":{},\"s\":\"a\\\"b\" , \"z\":-1.5e2 } ";

    assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);
    assert_int_equal(o.n, 6);
    assert_int_equal(o.escaped, 0);
    assert_int_equal(o.space, 1);
    assert_int_equal(p[o.start], '{');
    assert_int_equal(p[o.end - 1], '}');

    m = llm_json_get(&o, p, "id", 2);
    assert_non_null(m);
    assert_memory_equal(p + m->key, "\"id\"", 4);
    assert_int_equal(m->val_end - m->val, 3);
    assert_memory_equal(p + m->val, "\"x\"", 3);

    m = llm_json_get(&o, p, "n", 1);
    assert_memory_equal(p + m->val, "[1,{\"a\":2}]", m->val_end - m->val);

    m = llm_json_get(&o, p, "s", 1);
    assert_memory_equal(p + m->val, "\"a\\\"b\"", m->val_end - m->val);

    m = llm_json_get(&o, p, "z", 1);
    assert_memory_equal(p + m->val, "-1.5e2", m->val_end - m->val);
    assert_true(llm_json_number(p + m->val, m->val_end - m->val) == -150);

    assert_null(llm_json_get(&o, p, "ID", 2));
    assert_true(llm_json_case_variant(&o, p, "ID", 2));
    assert_false(llm_json_case_variant(&o, p, "id", 2));
    assert_false(llm_json_has_dups(&o, p));

    /* the light lister finds the same members */
    assert_int_equal(llm_json_object(p, NULL, o.start, o.end, &n), 0);
    assert_int_equal(n.n, o.n);
    assert_memory_equal(n.m, o.m, o.n * sizeof(llm_json_member_t));

    m = llm_json_get(&o, p, "o", 1);
    assert_int_equal(llm_json_object(p, NULL, m->val, m->val_end, &n), 0);
    assert_int_equal(n.n, 1);
    assert_memory_equal(p + n.m[0].val, "\"v\"", 3);

    m = llm_json_get(&o, p, "e", 1);
    assert_int_equal(llm_json_object(p, NULL, m->val, m->val_end, &n), 0);
    assert_int_equal(n.n, 0);

    /* not an object */
    m = llm_json_get(&o, p, "n", 1);
    assert_int_equal(llm_json_object(p, NULL, m->val, m->val_end, &n), -1);

    /* escaped keys and duplicates are noticed */
    p = "{\"a\\u0062\":1,\"c\":2,\"c\":3}";
    assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);
    assert_int_equal(o.escaped, 1);
    assert_true(llm_json_has_dups(&o, p));
    assert_int_equal(o.space, 0);
}


static void
test_too_many_members(void **state)
{
    int             i;
    llm_buf_t       b;
    llm_json_obj_t  o;

    memset(&b, 0, sizeof(llm_buf_t));
    llm_buf_appends(&b, "{");

    for (i = 0; i < LLM_JSON_MAX_MEMBERS; i++) {
        llm_buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    }

    llm_buf_appends(&b, "}");
    assert_int_equal(llm_json_scan(b.data, b.len, &o, NULL), 0);
    assert_int_equal(o.n, LLM_JSON_MAX_MEMBERS);
    assert_int_equal(llm_json_object(b.data, NULL, 0, b.len, &o), 0);

    b.len--;
    llm_buf_appends(&b, ",\"one\":1}");
    assert_int_equal(llm_json_scan(b.data, b.len, &o, NULL), -1);
    assert_int_equal(llm_json_object(b.data, NULL, 0, b.len, &o), -1);

    /* without o, any number */
    assert_int_equal(llm_json_scan(b.data, b.len, NULL, NULL), 0);

    llm_buf_free(&b);
}


static void
test_arrays(void **state)
{
    int          n;
    size_t       pos, v, ve;
    const char  *p;

    p = "[ 1 , \"a,]\" ,{\"x\":[1,2]}, [] ,null]";
    pos = 0;
    n = 0;

    while (llm_json_array_next(p, NULL, 0, strlen(p), &pos, &v, &ve) == 1) {
        switch (n++) {
        case 0:
            assert_memory_equal(p + v, "1", ve - v);
            break;
        case 1:
            assert_memory_equal(p + v, "\"a,]\"", ve - v);
            break;
        case 2:
            assert_memory_equal(p + v, "{\"x\":[1,2]}", ve - v);
            break;
        case 3:
            assert_memory_equal(p + v, "[]", ve - v);
            break;
        case 4:
            assert_memory_equal(p + v, "null", ve - v);
            break;
        }
    }

    assert_int_equal(n, 5);

    pos = 0;
    assert_int_equal(llm_json_array_next("[ ]", NULL, 0, 3, &pos, &v, &ve), 0);
    pos = 0;
    assert_int_equal(llm_json_array_next("{}", NULL, 0, 2, &pos, &v, &ve), -1);
    pos = 0;
    assert_int_equal(llm_json_array_next("[1,]", NULL, 0, 4, &pos, &v, &ve),
                     1);
    assert_int_equal(llm_json_array_next("[1,]", NULL, 0, 4, &pos, &v, &ve),
                     -1);
    pos = 0;
    assert_int_equal(llm_json_array_next("[1 2]", NULL, 0, 5, &pos, &v, &ve),
                     1);
    assert_int_equal(llm_json_array_next("[1 2]", NULL, 0, 5, &pos, &v, &ve),
                     -1);
}


static void
test_splice(void **state)
{
    char               *out, num[24];
    const char         *p;
    llm_json_obj_t      o, so;
    llm_json_splice_t   sp;
    size_t              count;

    /* replace, add, remove; whitespace dropped */
    p = "{ \"model\" : \"m\", \"x\" : [ 1, 2 ], \"so\": { },\"drop\":7 }";
    assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);

    llm_json_splice_init(&sp, p, &o);
    count = o.n;
    llm_json_replace(&sp, o.m[0].val, o.m[0].val_end, "gpt \"4\"", 7, 1);
    count = llm_json_remove(&sp, &o, 1 << 3);
    assert_int_equal(count, 3);
    assert_int_equal(llm_json_object(p, NULL, o.m[2].val, o.m[2].val_end,
                                     &so), 0);
    {
        size_t  c = so.n;

        llm_json_add(&sp, &so, &c, "include_usage", 13, "true", 4, 0);
    }
    llm_json_add(&sp, &o, &count, "k\n", 2, "v", 1, 1);
    {
        const char  *v = llm_json_int(num, -1700000000LL);

        llm_json_put(&sp, &o, llm_json_get(&o, p, "created", 7), &count,
                     "created", 7, v, strlen(v), 0);
    }

    out = t_splice(&sp);
    assert_string_equal(out, "{\"model\":\"gpt \\\"4\\\"\",\"x\":[1,2],"
                        "\"so\":{\"include_usage\":true},\"k\\n\":\"v\","
                        "\"created\":-1700000000}");
    free(out);

    /* every way of removing members of a four-member object */
    {
        unsigned  mask;
        cJSON    *a, *b, *k;

        p = "{\"a\":1,\"b\":[2],\"c\":{\"d\":3},\"e\":\"4\"}";
        assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);

        for (mask = 0; mask < 16; mask++) {
            llm_json_splice_init(&sp, p, &o);
            count = llm_json_remove(&sp, &o, mask);
            llm_json_add(&sp, &o, &count, "z", 1, "0", 1, 0);
            out = t_splice(&sp);
            assert_non_null(out);

            a = cJSON_Parse(out);
            if (a == NULL) {
                fprintf(stderr, "mask %u: %s\n", mask, out);
                fail();
            }

            b = cJSON_Parse(p);
            if (mask & 1) cJSON_DeleteItemFromObject(b, "a");
            if (mask & 2) cJSON_DeleteItemFromObject(b, "b");
            if (mask & 4) cJSON_DeleteItemFromObject(b, "c");
            if (mask & 8) cJSON_DeleteItemFromObject(b, "e");
            k = cJSON_CreateNumber(0);
            cJSON_AddItemToObject(b, "z", k);
            assert_true(cJSON_Compare(a, b, 1));

            cJSON_Delete(a);
            cJSON_Delete(b);
            free(out);
        }
    }

    /* edits at one offset keep their order; overlaps are refused */
    p = "{\"a\":1}";
    assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);
    llm_json_splice_init(&sp, p, &o);
    count = o.n;
    llm_json_add(&sp, &o, &count, "b", 1, "2", 1, 0);
    llm_json_add(&sp, &o, &count, "c", 1, "3", 1, 0);
    llm_json_replace(&sp, o.m[0].val, o.m[0].val_end, "0", 1, 0);
    out = t_splice(&sp);
    assert_string_equal(out, "{\"a\":0,\"b\":2,\"c\":3}");
    free(out);

    llm_json_splice_init(&sp, p, &o);
    llm_json_replace(&sp, o.m[0].key, o.m[0].val_end, "", 0, 0);
    llm_json_replace(&sp, o.m[0].val, o.m[0].val_end, "0", 1, 0);
    assert_null(t_splice(&sp));

    /* too many edits */
    llm_json_splice_init(&sp, p, &o);
    for (count = 0; count <= LLM_JSON_MAX_EDITS; count++) {
        llm_json_replace(&sp, o.m[0].val, o.m[0].val, "", 0, 0);
    }
    assert_null(t_splice(&sp));

    /* an empty object gets no comma */
    p = "{ }";
    assert_int_equal(llm_json_scan(p, strlen(p), &o, NULL), 0);
    llm_json_splice_init(&sp, p, &o);
    count = o.n;
    llm_json_add(&sp, &o, &count, "a", 1, "null", 4, 0);
    out = t_splice(&sp);
    assert_string_equal(out, "{\"a\":null}");
    free(out);

    t_json_eq("{\"a\":1}", "{ \"a\" : 1 }");
}


static void
test_tape(void **state)
{
    int              i;
    const char      *p;
    llm_buf_t        b;
    llm_json_obj_t   o;
    llm_json_tape_t  tape;

    p = " { \"a\" : [ 1, { \"b\" : [ [], {} ] } ], \"c\":{\"d\":\"}]\"},"
        "\"e\":[[[[[[[[1]]]]]]]] }";

    assert_int_equal(llm_json_scan(p, strlen(p), &o, &tape), 0);

    /* the root, a, {b}, b, [], {}, c, and e's five down to depth 6 */
    assert_int_equal(tape.n, 12);
    assert_int_equal(tape.start[0], 1);
    assert_int_equal(tape.end[0], strlen(p));
    t_tape_check(p, strlen(p));

    /* a full tape: the rest is skipped the slow way, the same */
    memset(&b, 0, sizeof(llm_buf_t));
    llm_buf_appends(&b, "{\"m\":[");

    for (i = 0; i < 2 * LLM_JSON_TAPE; i++) {
        llm_buf_printf(&b, "%s{\"r\":[%d],\"c\":\"x\"}", i ? "," : "", i);
    }

    llm_buf_appends(&b, "],\"z\":{\"y\":[]}}");
    assert_int_equal(llm_json_scan(b.data, b.len, &o, &tape), 0);
    assert_int_equal(tape.n, LLM_JSON_TAPE);
    t_tape_check(b.data, b.len);
    llm_buf_free(&b);

    /* a refused text may leave the tape half done: it is not used */
    assert_int_equal(llm_json_scan("{\"a\":[1,}", 10, NULL, &tape), -1);
}


static void
test_numbers(void **state)
{
    char  buf[24];

    assert_true(llm_json_number("0", 1) == 0);
    assert_true(llm_json_number("41", 2) == 41);
    assert_true(llm_json_number("999999999999999", 15) == 999999999999999.0);
    assert_true(llm_json_number("1e15", 4) == 1e15);
    assert_true(llm_json_number("-3", 2) == -3);
    assert_true(llm_json_number("2.5", 3) == 2.5);
    assert_true(llm_json_number("1234567890123456789", 19)
                == 1234567890123456789.0);
    assert_true(llm_json_number("x", 1) == 0);

    assert_string_equal(llm_json_int(buf, 0), "0");
    assert_string_equal(llm_json_int(buf, 1732838400), "1732838400");
    assert_string_equal(llm_json_int(buf, -42), "-42");
    assert_string_equal(llm_json_int(buf, -9223372036854775807LL - 1),
                        "-9223372036854775808");

    /* every digit count, both signs, against printf */
    {
        char       want[32];
        long long  v;
        int        d;

        /* 10^d and its neighbours, and d + 1 nines (d < 18: no overflow) */
        for (v = 1, d = 0; d < 18; d++, v *= 10) {
            long long  t[] = { v - 1, v, v + 1, v * 10 - 1, -v,
                               -(v - 1), -(v * 10 - 1) };
            size_t     k;

            for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
                snprintf(want, sizeof(want), "%lld", t[k]);
                assert_string_equal(llm_json_int(buf, t[k]), want);
            }
        }

        assert_string_equal(llm_json_int(buf, 9223372036854775807LL),
                            "9223372036854775807");
    }
}


/*
 * Random texts from JSON's alphabet, and mutations of real documents:
 * whatever the scanner accepts, cJSON must accept with the same value,
 * and the light lister must agree with the strict one.
 */
static void
test_random_against_cjson(void **state)
{
    int             i, k, n, accepted;
    char            buf[256];
    size_t          len, pos;
    unsigned        seed;
    llm_json_obj_t  o, l;

    static const char  alphabet[] = "{}[]:,\"\\ 0123456789-+.eEtrufalsn"
                                    "u\x01\xc3\xa9/bx";
    static const char  *docs[] = {
        "{\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"message\":{"
        "\"role\":\"assistant\",\"content\":\"Hi \\\"x\\\"\\n\"},"
        "\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{"
        "\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}",
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
        "\"\\u00e9\\ud83d\\ude00\"}],\"temperature\":0.7,\"n\":-1e-5}",
    };

    seed = 12345;
    accepted = 0;

    for (i = 0; i < 200000; i++) {
        seed = seed * 1103515245 + 12345;

        if (i % 2) {
            len = 1 + (seed >> 16) % 24;

            for (k = 0; k < (int) len; k++) {
                seed = seed * 1103515245 + 12345;
                buf[k] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }

        } else {
            const char  *d = docs[(seed >> 16) % 2];

            len = strlen(d);
            memcpy(buf, d, len);

            for (k = 0, n = 1 + (seed >> 20) % 3; k < n; k++) {
                seed = seed * 1103515245 + 12345;
                pos = (seed >> 16) % len;
                seed = seed * 1103515245 + 12345;
                buf[pos] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
            }
        }

        buf[len] = '\0';

        if (llm_json_scan(buf, len, NULL, NULL) != 0) {
            continue;
        }

        accepted++;
        t_same_as_cjson(buf, len);
        t_tape_check(buf, len);

        if (llm_json_scan(buf, len, &o, NULL) == 0) {
            assert_int_equal(llm_json_object(buf, NULL, o.start, o.end, &l), 0);
            assert_int_equal(l.n, o.n);
            assert_memory_equal(l.m, o.m, o.n * sizeof(llm_json_member_t));
        }
    }

    /* the test means something only if it accepts some */
    assert_true(accepted > 1000);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_too_many_members),
        cmocka_unit_test(test_arrays),
        cmocka_unit_test(test_splice),
        cmocka_unit_test(test_tape),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_random_against_cjson),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
