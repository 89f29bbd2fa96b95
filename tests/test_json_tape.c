/*
 * Copyright (C) ngx_llm authors
 *
 * The scanner's tape: the members it records of the objects on it, which
 * llm_json_object() copies instead of walking their bytes, must be what
 * the walk finds, in every case the store does not cover (more members
 * than fit, objects deeper than LLM_JSON_TAPE_DEPTH or past the first
 * LLM_JSON_TAPE containers, the root listed in o) too.  And the string
 * scan, sixteen bytes at a time, against a byte-by-byte reference at
 * every length and position, in buffers of exactly the document's size.
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
#include "test_json_gen.h"


/* keys from a small set, so that duplicates and escapes occur */
static const char  *tt_keys[] = {
    "a", "b", "id", "role", "content", "k\\\"ey", "\\u0041", "usage",
    "", "prompt_tokens_details", "a_key_of_seventeen", "x\\\\y",
    "\xc3\xa9t\xc3\xa9",
};

static const char  *tt_pieces[] = {
    "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\uD83D\\uDE00",
    "\xc3\xa9", "\xf0\x9f\x98\x80", "\x7f", "\xff",
};

static const char  *tt_scalars[] = {
    "0", "-1", "12.5e-3", "1732838400", "true", "false", "null", "0.7",
};

/* mostly small objects; now and then one with many members */
static tg_gen_t  tt_gen = {
    0x9e3779b97f4a7c15ULL,
    tt_keys, tg_n(tt_keys), tt_pieces, tg_n(tt_pieces),
    tt_scalars, tg_n(tt_scalars),
    70, 12, 12,
    8,
    12, 40, 20, 6
};


static void tt_same_obj(const llm_json_obj_t *a, const llm_json_obj_t *b);
static int tt_escaped(const char *p, const llm_json_obj_t *o);
static void tt_walk(const char *p, const llm_json_tape_t *tape, size_t v,
    size_t ve, const cJSON *c, unsigned *objects);
static void tt_check(const char *s, size_t n);
static int tt_stored(const char *p, size_t len, const llm_json_tape_t *tape,
    size_t start, size_t end);


static void
tt_same_obj(const llm_json_obj_t *a, const llm_json_obj_t *b)
{
    assert_int_equal(a->start, b->start);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->escaped, b->escaped);
    assert_int_equal(a->space, b->space);
    assert_memory_equal(a->m, b->m, a->n * sizeof(llm_json_member_t));
}


/* whether a key has a backslash, from the bytes */
static int
tt_escaped(const char *p, const llm_json_obj_t *o)
{
    uint32_t  i;

    for (i = 0; i < o->n; i++) {
        if (memchr(p + o->m[i].key + 1, '\\', o->m[i].key_len)) {
            return 1;
        }
    }

    return 0;
}


/*
 * Every container of the document, found by walking without the tape:
 * with the tape the same members and elements, and the walk agrees with
 * cJSON's tree
 */
static void
tt_walk(const char *p, const llm_json_tape_t *tape, size_t v, size_t ve,
    const cJSON *c, unsigned *objects)
{
    int              rc, rc2;
    size_t           pos, pos2, ev, eve, ev2, eve2;
    uint32_t         i;
    const cJSON     *e;
    llm_json_obj_t   a, b;

    if (p[v] == '{') {
        assert_true(cJSON_IsObject(c));
        (*objects)++;

        rc = llm_json_object(p, NULL, v, ve, &a);
        rc2 = llm_json_object(p, tape, v, ve, &b);
        assert_int_equal(rc, rc2);
        tt_same_obj(&a, &b);

        if (rc != 0) {
            /* only more members than fit is a reason */
            assert_true(cJSON_GetArraySize(c) > LLM_JSON_MAX_MEMBERS);
            assert_int_equal(a.n, LLM_JSON_MAX_MEMBERS);
            return;
        }

        assert_int_equal(a.n, cJSON_GetArraySize(c));
        assert_int_equal(a.escaped, tt_escaped(p, &a));

        for (i = 0, e = c->child; i < a.n; i++, e = e->next) {
            assert_int_equal(p[a.m[i].key], '"');
            assert_int_equal(p[a.m[i].key + a.m[i].key_len + 1], '"');

            if (!a.escaped) {
                assert_int_equal(strlen(e->string), a.m[i].key_len);
                assert_memory_equal(e->string, p + a.m[i].key + 1,
                                    a.m[i].key_len);
            }

            tt_walk(p, tape, a.m[i].val, a.m[i].val_end, e, objects);
        }

        return;
    }

    if (p[v] == '[') {
        assert_true(cJSON_IsArray(c));

        pos = 0;
        pos2 = 0;
        e = c->child;

        while ((rc = llm_json_array_next(p, NULL, v, ve, &pos, &ev, &eve))
               == 1)
        {
            assert_int_equal(llm_json_array_next(p, tape, v, ve, &pos2, &ev2,
                                                 &eve2), 1);
            assert_int_equal(ev, ev2);
            assert_int_equal(eve, eve2);
            assert_non_null(e);

            tt_walk(p, tape, ev, eve, e, objects);
            e = e->next;
        }

        assert_int_equal(rc, 0);
        assert_null(e);
        assert_int_equal(llm_json_array_next(p, tape, v, ve, &pos2, &ev2,
                                             &eve2), 0);
        return;
    }

    assert_false(cJSON_IsObject(c) || cJSON_IsArray(c));
}


/* a document scanned with and without o, checked all over */
static void
tt_check(const char *s, size_t n)
{
    char             *p;
    cJSON            *tree;
    unsigned          objects;
    uint32_t          k;
    llm_json_obj_t    o, r;
    llm_json_tape_t   tape, tape2;

    p = tg_exact(s, n);

    assert_int_equal(llm_json_scan(p, n, NULL, &tape), 0);

    tree = cJSON_ParseWithLength(p, n);
    assert_non_null(tree);

    /* the tape: containers in document order, each one */
    for (k = 0; k < tape.n; k++) {
        assert_true(k == 0 || tape.start[k] > tape.start[k - 1]);
        assert_true(tape.end[k] > tape.start[k] && tape.end[k] <= n);
        assert_int_equal(p[tape.end[k] - 1], p[tape.start[k]] == '{'
                                             ? '}' : ']');
    }

    assert_true(tape.nm <= LLM_JSON_TAPE_MEMBERS);

    for (k = 0; p[k] == ' ' || p[k] == '\n' || p[k] == '\t'
                || p[k] == '\r'; k++)
    {
        /* void */
    }

    objects = 0;
    tt_walk(p, &tape, k, n, tree, &objects);

    /* with o: the root is listed there, the rest as before */
    if (p[k] == '{') {
        if (llm_json_scan(p, n, &o, &tape2) == 0) {
            assert_int_equal(llm_json_object(p, NULL, o.start, o.end, &r), 0);
            o.space = 0;
            tt_same_obj(&o, &r);
            assert_int_equal(llm_json_object(p, &tape2, o.start, o.end, &r),
                             0);
            tt_same_obj(&o, &r);

            objects = 0;
            tt_walk(p, &tape2, k, n, tree, &objects);

        } else {
            assert_true(cJSON_GetArraySize(tree) > LLM_JSON_MAX_MEMBERS);
        }
    }

    cJSON_Delete(tree);
    free(p);
}


/*
 * Whether llm_json_object() takes the members of p[start] .. p[end - 1]
 * from the tape: then it does not look at the bytes between the braces,
 * which are blanked here (a walk finds no member then)
 */
static int
tt_stored(const char *p, size_t len, const llm_json_tape_t *tape,
    size_t start, size_t end)
{
    int             rc;
    char           *q;
    llm_json_obj_t  a, b;

    assert_int_equal(llm_json_object(p, tape, start, end, &a), 0);

    q = tg_exact(p, len);
    memset(q + start + 1, ' ', end - start - 2);

    rc = llm_json_object(q, tape, start, end, &b);
    free(q);

    if (rc == 0 && b.n == a.n && a.n > 0) {
        assert_memory_equal(a.m, b.m, a.n * sizeof(llm_json_member_t));
        return 1;
    }

    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 0);

    return 0;
}


static void
test_nested(void **state)
{
    size_t           i;
    const char      *p;
    llm_json_obj_t   o, c, m;
    llm_json_tape_t  tape;

    static const char  *docs[] = {
        "{\"id\":\"x\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
        "\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,"
        "\"prompt_tokens_details\":{\"cached_tokens\":0}}}",
        "{ \"a\" : { } , \"b\" : { \"c\" : { } , \"d\" : [ { } , { \"e\" : 1 } ] } }",
        "{\"a\":{\"k\\\"ey\":1,\"x\":{\"y\":2}},\"b\":{\"y\":3,\"\\u0041\":4}}",
        "[{\"a\":1},[{\"b\":2},{\"c\":{\"d\":[]}}],{}]",
        "{\"x\":[[[[[[{\"deep\":1}]]]]]],\"y\":{\"z\":2}}",
        "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":1},\"i\":2}}}}}}}",
    };

    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        tt_check(docs[i], strlen(docs[i]));
    }

    /* what the response adapter reads, from the store */
    p = docs[0];
    assert_int_equal(llm_json_scan(p, strlen(p), &o, &tape), 0);

    /* the root is in o, not in the store */
    assert_int_equal(tt_stored(p, strlen(p), &tape, o.start, o.end), 0);

    /* choices[0], its message, usage, usage.prompt_tokens_details */
    assert_int_equal(tape.n, 6);
    assert_int_equal(p[tape.start[2]], '{');
    assert_int_equal(llm_json_object(p, &tape, tape.start[2], tape.end[2],
                                     &c), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.escaped, 0);
    assert_memory_equal(p + c.m[1].key, "\"message\"", 9);
    assert_int_equal(llm_json_object(p, &tape, c.m[1].val, c.m[1].val_end,
                                     &m), 0);
    assert_int_equal(m.n, 2);
    assert_memory_equal(p + m.m[1].val, "\"hi\"", 4);

    for (i = 2; i < tape.n; i++) {
        assert_int_equal(tt_stored(p, strlen(p), &tape, tape.start[i],
                                   tape.end[i]), 1);
    }

    /* escaped keys: the flag is the object's own */
    p = docs[2];
    assert_int_equal(llm_json_scan(p, strlen(p), NULL, &tape), 0);
    assert_int_equal(tape.n, 4);

    assert_int_equal(llm_json_object(p, &tape, tape.start[0], tape.end[0],
                                     &o), 0);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.escaped, 0);
    assert_int_equal(llm_json_object(p, &tape, tape.start[1], tape.end[1],
                                     &o), 0);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.escaped, 1);
    assert_int_equal(o.m[0].key_len, 5);
    assert_int_equal(llm_json_object(p, &tape, tape.start[2], tape.end[2],
                                     &o), 0);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.escaped, 0);
    assert_int_equal(llm_json_object(p, &tape, tape.start[3], tape.end[3],
                                     &o), 0);
    assert_int_equal(o.n, 2);
    assert_int_equal(o.escaped, 1);

    for (i = 0; i < tape.n; i++) {
        assert_int_equal(tt_stored(p, strlen(p), &tape, tape.start[i],
                                   tape.end[i]), 1);
    }

    /* without o the root is stored too */
    p = docs[0];
    assert_int_equal(llm_json_scan(p, strlen(p), NULL, &tape), 0);
    assert_int_equal(tt_stored(p, strlen(p), &tape, tape.start[0],
                               tape.end[0]), 1);
}


/* LLM_JSON_TAPE_DEPTH and LLM_JSON_TAPE: beyond them objects are walked */
static void
test_limits(void **state)
{
    int              d;
    char             key[16];
    size_t           i, v, ve, pos;
    uint32_t         k;
    tg_text_t        t;
    llm_json_obj_t   o;
    llm_json_tape_t  tape;

    /* objects nested twelve deep, each with two members */
    memset(&t, 0, sizeof(tg_text_t));

    for (d = 0; d < 12; d++) {
        snprintf(key, sizeof(key), "\"k%d\":", d);
        tg_puts(&t, "{\"s\":\"x\",");
        tg_puts(&t, key);
    }

    tg_puts(&t, "1");

    for (d = 0; d < 12; d++) {
        tg_puts(&t, "}");
    }

    tt_check(t.data, t.len);

    assert_int_equal(llm_json_scan(t.data, t.len, NULL, &tape), 0);
    assert_int_equal(tape.n, LLM_JSON_TAPE_DEPTH);

    for (k = 0; k < tape.n; k++) {
        assert_int_equal(tt_stored(t.data, t.len, &tape, tape.start[k],
                                   tape.end[k]), 1);
    }

    /* the seventh object and deeper are not on the tape: walked */
    v = 0;
    ve = t.len;

    for (d = 0; d < 12; d++) {
        assert_int_equal(llm_json_object(t.data, &tape, v, ve, &o), 0);
        assert_int_equal(o.n, 2);
        assert_int_equal(tt_stored(t.data, t.len, &tape, v, ve),
                         d < LLM_JSON_TAPE_DEPTH);

        if (d < 11) {
            v = o.m[1].val;
            ve = o.m[1].val_end;
        }
    }

    free(t.data);

    /* an array of forty objects: the first LLM_JSON_TAPE - 1 are stored */
    memset(&t, 0, sizeof(tg_text_t));
    tg_puts(&t, "[");

    for (i = 0; i < 40; i++) {
        tg_puts(&t, i ? ",{\"role\":\"user\",\"content\":\"hi\"}"
                      : "{\"role\":\"user\",\"content\":\"hi\"}");
    }

    tg_puts(&t, "]");
    tt_check(t.data, t.len);

    assert_int_equal(llm_json_scan(t.data, t.len, NULL, &tape), 0);
    assert_int_equal(tape.n, LLM_JSON_TAPE);

    pos = 0;
    i = 0;

    while (llm_json_array_next(t.data, &tape, 0, t.len, &pos, &v, &ve) == 1) {
        assert_int_equal(llm_json_object(t.data, &tape, v, ve, &o), 0);
        assert_int_equal(o.n, 2);
        assert_int_equal(tt_stored(t.data, t.len, &tape, v, ve),
                         i < LLM_JSON_TAPE - 1);
        i++;
    }

    assert_int_equal(i, 40);
    free(t.data);
}


/* LLM_JSON_MAX_MEMBERS and LLM_JSON_TAPE_MEMBERS */
static void
test_many_members(void **state)
{
    char             buf[64];
    size_t           i, j, n;
    uint32_t         k;
    tg_text_t        t;
    llm_json_obj_t   o, r;
    llm_json_tape_t  tape;

    static const size_t  sizes[] = { 49, 48, 40, 1, 0, 48, 2 };

    /*
     * {"o0":{49 members},"o1":{48},"o2":{40},...}: the store holds 128,
     * so o0 (too many for any lister), o1 and 31 members of o2 fill it
     */
    memset(&t, 0, sizeof(tg_text_t));
    tg_puts(&t, "{");

    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        snprintf(buf, sizeof(buf), "%s\"o%zu\":{", i ? "," : "", i);
        tg_puts(&t, buf);

        for (j = 0; j < sizes[i]; j++) {
            snprintf(buf, sizeof(buf), "%s\"m%zu\":%zu", j ? "," : "", j, j);
            tg_puts(&t, buf);
        }

        tg_puts(&t, "}");
    }

    tg_puts(&t, "}");
    tt_check(t.data, t.len);

    assert_int_equal(llm_json_scan(t.data, t.len, &o, &tape), 0);
    assert_int_equal(tape.n, 1 + sizeof(sizes) / sizeof(sizes[0]));
    assert_int_equal(tape.nm, LLM_JSON_TAPE_MEMBERS);

    /* too many members: -1 with the first ones, as the walk gives */
    assert_int_equal(llm_json_object(t.data, &tape, tape.start[1],
                                     tape.end[1], &r), -1);
    assert_int_equal(r.n, LLM_JSON_MAX_MEMBERS);
    assert_int_equal(llm_json_object(t.data, NULL, tape.start[1],
                                     tape.end[1], &o), -1);
    assert_memory_equal(o.m, r.m, sizeof(o.m));

    for (k = 2; k < tape.n; k++) {
        n = sizes[k - 1];
        assert_int_equal(llm_json_object(t.data, &tape, tape.start[k],
                                         tape.end[k], &r), 0);
        assert_int_equal(r.n, n);

        /* those that closed before the store was full come from it */
        if (n) {
            assert_int_equal(tt_stored(t.data, t.len, &tape, tape.start[k],
                                       tape.end[k]), k == 2);
        }
    }

    free(t.data);

    /* exactly LLM_JSON_TAPE_MEMBERS members in all: every one stored */
    memset(&t, 0, sizeof(tg_text_t));
    tg_puts(&t, "[");

    for (i = 0; i < LLM_JSON_TAPE_MEMBERS / 32; i++) {
        tg_puts(&t, i ? ",{" : "{");

        for (j = 0; j < 32; j++) {
            snprintf(buf, sizeof(buf), "%s\"m%zu\":%zu", j ? "," : "", j, j);
            tg_puts(&t, buf);
        }

        tg_puts(&t, "}");
    }

    tg_puts(&t, "]");
    tt_check(t.data, t.len);

    assert_int_equal(llm_json_scan(t.data, t.len, NULL, &tape), 0);
    assert_int_equal(tape.nm, LLM_JSON_TAPE_MEMBERS);
    assert_int_equal(tape.lost, UINT32_MAX);

    for (k = 0; k < tape.n; k++) {
        if (t.data[tape.start[k]] == '{') {
            assert_int_equal(tt_stored(t.data, t.len, &tape, tape.start[k],
                                       tape.end[k]), 1);
        }
    }

    /* and one more: the last object is walked */
    t.data[t.len - 2] = ',';
    t.len--;
    tg_puts(&t, "\"x\":1}]");
    tt_check(t.data, t.len);

    assert_int_equal(llm_json_scan(t.data, t.len, NULL, &tape), 0);
    assert_int_equal(tape.nm, LLM_JSON_TAPE_MEMBERS);
    assert_true(tape.lost < t.len);

    for (k = 0, n = 0; k < tape.n; k++) {
        if (t.data[tape.start[k]] == '{') {
            assert_int_equal(tt_stored(t.data, t.len, &tape, tape.start[k],
                                       tape.end[k]), n < 3);
            n++;
        }
    }

    assert_int_equal(n, 4);
    free(t.data);
}


/* random documents, with and without whitespace */
static void
test_random(void **state)
{
    int        i;
    tg_text_t  t;

    memset(&t, 0, sizeof(tg_text_t));

    for (i = 0; i < 4000; i++) {
        t.len = 0;
        tg_value(&tt_gen, &t, i % 3 == 0 ? 1 : 0, i % 2);
        tt_check(t.data, t.len);
    }

    free(t.data);
}


/* the reference: where a string that starts at p[i] ends, or 0 if bad */
static size_t
tt_string_end(const unsigned char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '"') {
            return i + 1;
        }

        if (p[i] < 0x20) {
            return 0;
        }

        if (p[i] == '\\') {
            if (i + 1 >= n || p[i + 1] != 'n') {
                return 0;
            }

            i++;
        }
    }

    return 0;
}


/*
 * Strings of every length up to 80 with a byte of each kind at every
 * position, at every distance from the end of an exact buffer; the
 * scanner against the reference, the splicer's quoting against cJSON
 */
static void
test_strings(void **state)
{
    int                 rc;
    char               *p, *out;
    cJSON              *tree;
    size_t              len, at, k, tail, n, end;
    llm_buf_t           b;
    unsigned char       s[128];
    llm_json_obj_t      o;
    llm_json_splice_t   sp;

    static const unsigned char  special[] = {
        '"', '\\', 0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0x9f, 0xa0, 0xc3,
        0xff, 'a',
    };

    for (len = 0; len <= 80; len++) {
        for (at = 0; at <= len; at++) {
            for (k = 0; k < sizeof(special); k++) {
                if (at == len && k > 0) {
                    break;
                }

                /* {"k":"...."} and up to two spaces after it */
                for (tail = 0; tail < 3; tail++) {
                    memcpy(s, "{\"k\":\"", 6);
                    n = 6;
                    memset(s + n, 'x', len);

                    if (at < len) {
                        s[n + at] = special[k];

                        /* an escape needs its letter */
                        if (special[k] == '\\') {
                            if (at + 1 < len) {
                                s[n + at + 1] = 'n';

                            } else {
                                s[n + at] = 'y';
                            }
                        }
                    }

                    n += len;
                    s[n++] = '"';
                    s[n++] = '}';
                    memset(s + n, ' ', tail);
                    n += tail;

                    p = tg_exact((char *) s, n);

                    end = tt_string_end(s, n, 5);
                    rc = llm_json_scan(p, n, &o, NULL);

                    if (end == 0 || end >= n || s[end] != '}') {
                        assert_int_equal(rc, -1);

                    } else {
                        assert_int_equal(rc, 0);
                        assert_int_equal(o.n, 1);
                        assert_int_equal(o.m[0].val_end, end);
                        assert_int_equal(o.end, end + 1);

                        /* the minified copy, strings as they are */
                        memset(&b, 0, sizeof(llm_buf_t));
                        assert_int_equal(llm_json_append_min(&b, p, n), 0);
                        assert_int_equal(b.len, end + 1);
                        assert_memory_equal(b.data, p, end + 1);
                        llm_buf_free(&b);
                    }

                    free(p);
                }

                /* the same bytes as a string the splicer quotes */
                p = tg_exact((char *) s + 6, len);
                llm_json_splice_init(&sp, "{\"k\":1}",
                                     &(llm_json_obj_t) { .start = 0,
                                                         .end = 7 });
                llm_json_replace(&sp, 5, 6, p, len, 1);

                memset(&b, 0, sizeof(llm_buf_t));
                assert_int_equal(llm_json_splice(&sp, &b), 0);
                out = b.data;

                assert_int_equal(llm_json_scan(out, b.len, NULL, NULL),
                                 memchr(p, 0, len) ? -1 : 0);

                if (memchr(p, 0, len) == NULL) {
                    tree = cJSON_ParseWithLength(out, b.len);
                    assert_non_null(tree);
                    assert_int_equal(strlen(cJSON_GetObjectItem(tree,
                                                           "k")->valuestring),
                                     len);
                    assert_memory_equal(cJSON_GetObjectItem(tree,
                                                          "k")->valuestring,
                                        p, len);
                    cJSON_Delete(tree);
                }

                llm_buf_free(&b);
                free(p);
            }
        }
    }
}


/*
 * Numbers of every length, at the end of an exact buffer and inside an
 * object: accepted up to 60 characters, with the span and the value
 * cJSON reads
 */
static void
test_numbers(void **state)
{
    char            *p, num[80], doc[96];
    cJSON           *tree;
    size_t           n, k, v, at;
    llm_json_obj_t   o;

    static const char  *forms[] = { "%s", "-%s", "0.%s", "%s.5e-3", "%se2" };

    for (n = 1; n <= 64; n++) {
        for (k = 0; k < n; k++) {
            num[k] = (char) ('1' + (k * 3) % 9);
        }

        num[n] = '\0';

        for (v = 0; v < sizeof(forms) / sizeof(forms[0]); v++) {
            snprintf(doc, sizeof(doc), forms[v], num);

            /* the number alone */
            p = tg_exact(doc, strlen(doc));
            assert_int_equal(llm_json_scan(p, strlen(doc), NULL, NULL),
                             strlen(doc) <= 60 ? 0 : -1);
            free(p);

            /* and as a member's value, with a digit-like byte after */
            for (at = 0; at < 2; at++) {
                snprintf(doc, sizeof(doc), "{\"k\":");
                snprintf(doc + 5, sizeof(doc) - 5, forms[v], num);
                strcat(doc, at ? "}" : ",\"x\":0}");

                p = tg_exact(doc, strlen(doc));

                if (llm_json_scan(p, strlen(doc), &o, NULL) != 0) {
                    assert_true(strlen(doc) - 5 - (at ? 1 : 7) > 60);
                    free(p);
                    continue;
                }

                assert_int_equal(o.m[0].val, 5);
                assert_int_equal(p[o.m[0].val_end], at ? '}' : ',');

                tree = cJSON_ParseWithLength(p, strlen(doc));
                assert_non_null(tree);
                assert_true(llm_json_number(p + 5, o.m[0].val_end - 5)
                            == cJSON_GetObjectItem(tree, "k")->valuedouble);
                cJSON_Delete(tree);
                free(p);
            }
        }
    }

    /* every byte value right after eight digits */
    for (k = 0; k < 256; k++) {
        memcpy(doc, "[12345678", 9);
        doc[9] = (char) k;
        memcpy(doc + 10, "]", 1);

        p = tg_exact(doc, 11);
        assert_int_equal(llm_json_scan(p, 11, NULL, NULL),
                         (k >= '0' && k <= '9') || k == ']' || k == ' '
                         || k == '\t' || k == '\n' || k == '\r' ? 0 : -1);
        free(p);

        /* and the array not closed, unless by that byte */
        p = tg_exact(doc, 10);
        assert_int_equal(llm_json_scan(p, 10, NULL, NULL),
                         k == ']' ? 0 : -1);
        free(p);
    }
}


/* the reference for llm_json_get() and friends */
static const llm_json_member_t *
tt_get(const llm_json_obj_t *o, const char *p, const char *key, size_t len)
{
    uint32_t  i;

    for (i = 0; i < o->n; i++) {
        if (o->m[i].key_len == len
            && memcmp(p + o->m[i].key + 1, key, len) == 0)
        {
            return &o->m[i];
        }
    }

    return NULL;
}


/* keys of every length up to 40 that differ in one byte anywhere */
static void
test_keys(void **state)
{
    int               dups, variant;
    char             *p, key[48], c;
    size_t            len, at, i, j;
    uint32_t          a, x;
    tg_text_t         t;
    llm_json_obj_t    o;

    memset(&t, 0, sizeof(tg_text_t));

    for (len = 0; len <= 40; len++) {
        for (at = 0; at < len || (len == 0 && at == 0); at++) {
            /* keys of this length and the next, one of them differing */
            t.len = 0;
            tg_puts(&t, "{");

            for (i = 0; i < 6; i++) {
                if (i) {
                    tg_puts(&t, ",");
                }

                tg_puts(&t, "\"");

                for (j = 0; j < len + (i == 5); j++) {
                    c = (char) ('a' + (j * 7) % 26);

                    if (j == at && i >= 3 && i < 5) {
                        c = (char) (i == 3 ? 'A' + (j * 7) % 26 : '0');
                    }

                    tg_put(&t, &c, 1);
                }

                tg_puts(&t, "\":0");
            }

            tg_puts(&t, "}");

            p = tg_exact(t.data, t.len);
            assert_int_equal(llm_json_scan(p, t.len, &o, NULL), 0);
            assert_int_equal(o.n, 6);

            /* members 0..2 are the same key; 3 and 4 differ at "at" */
            assert_true(llm_json_has_dups(&o, p));

            for (a = 0; a < o.n; a++) {
                memcpy(key, p + o.m[a].key + 1, o.m[a].key_len);
                assert_ptr_equal(llm_json_get(&o, p, key, o.m[a].key_len),
                                 tt_get(&o, p, key, o.m[a].key_len));

                /* a key one byte off */
                for (j = 0; j < o.m[a].key_len; j++) {
                    key[j] ^= 1;
                    assert_ptr_equal(llm_json_get(&o, p, key,
                                                  o.m[a].key_len),
                                     tt_get(&o, p, key, o.m[a].key_len));
                    key[j] ^= 1;
                }
            }

            /* without the three equal ones: duplicates only if len is 0 */
            o.m[1] = o.m[3];
            o.m[2] = o.m[4];
            o.m[3] = o.m[5];
            o.n = 4;

            for (a = 0, dups = 0; a < o.n; a++) {
                for (x = 0; x < a; x++) {
                    dups |= o.m[a].key_len == o.m[x].key_len
                            && memcmp(p + o.m[a].key + 1, p + o.m[x].key + 1,
                                      o.m[a].key_len) == 0;
                }
            }

            assert_int_equal(llm_json_has_dups(&o, p), dups);

            /* member 1 is member 0 with one capital: a case variant */
            if (len) {
                memcpy(key, p + o.m[0].key + 1, len);
                variant = llm_json_case_variant(&o, p, key, len);
                assert_int_equal(variant, 1);

                memcpy(key, p + o.m[1].key + 1, len);
                assert_int_equal(llm_json_case_variant(&o, p, key, len), 1);
            }

            free(p);
        }
    }

    free(t.data);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_many_members),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
