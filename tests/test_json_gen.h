/*
 * Copyright (C) ngx_llm authors
 *
 * Random JSON for the scanner's equivalence tests (test_json_tape.c,
 * test_json_resume.c): a document grows in a text buffer from a seeded
 * xorshift64*, so every run tests the same documents.  Each test sets
 * the shapes it needs in a tg_gen_t: its keys (small sets, so that
 * duplicates and escapes occur), its string pieces, its scalars, how deep
 * containers go and how many members objects get.  Include it after
 * <cmocka.h>.
 */

#ifndef _TEST_JSON_GEN_H_INCLUDED_
#define _TEST_JSON_GEN_H_INCLUDED_


#include <stdint.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    char    *data;
    size_t   len;
    size_t   size;
} tg_text_t;


typedef struct {
    uint64_t             state;         /* the seed, then the generator's */

    const char *const   *keys;
    uint32_t             nkeys;
    const char *const   *pieces;        /* escapes and multi-byte UTF-8 */
    uint32_t             npieces;
    const char *const   *scalars;
    uint32_t             nscalars;

    /* a string's pieces: 1 in 4 up to str_long, else up to str_short */
    uint32_t             str_long;
    uint32_t             str_short;
    uint32_t             piece_odds;    /* 1 in piece_odds is a piece */

    /* at max_depth only strings and scalars */
    int                  max_depth;

    /* object members: 1 in big_odds gets big + (0 .. big_range - 1) */
    uint32_t             big_odds;
    uint32_t             big;
    uint32_t             big_range;
    uint32_t             small;         /* else 0 .. small - 1 */
} tg_gen_t;


#define tg_n(a)  (uint32_t) (sizeof(a) / sizeof((a)[0]))


/* xorshift64*: the same documents on every run */
static inline uint32_t
tg_rand(tg_gen_t *g, uint32_t n)
{
    g->state ^= g->state >> 12;
    g->state ^= g->state << 25;
    g->state ^= g->state >> 27;

    return (uint32_t) ((g->state * 2685821657736338717ULL) >> 33) % n;
}


static inline void
tg_put(tg_text_t *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->size) {
        t->size = (t->len + n + 1) * 2;
        t->data = realloc(t->data, t->size);
        assert_non_null(t->data);
    }

    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}


static inline void
tg_puts(tg_text_t *t, const char *s)
{
    tg_put(t, s, strlen(s));
}


static inline void
tg_ws(tg_gen_t *g, tg_text_t *t, int space)
{
    static const char  *ws[] = { " ", "\n", "\t", "\r\n  " };

    if (space && tg_rand(g, 3) == 0) {
        tg_puts(t, ws[tg_rand(g, 4)]);
    }
}


static inline void
tg_string(tg_gen_t *g, tg_text_t *t, int key)
{
    char      c;
    uint32_t  i, n;

    tg_puts(t, "\"");

    if (key) {
        tg_puts(t, g->keys[tg_rand(g, g->nkeys)]);

    } else {
        n = tg_rand(g, 4) == 0 ? tg_rand(g, g->str_long)
                               : tg_rand(g, g->str_short);

        for (i = 0; i < n; i++) {
            if (tg_rand(g, g->piece_odds) == 0) {
                tg_puts(t, g->pieces[tg_rand(g, g->npieces)]);

            } else {
                c = (char) (' ' + tg_rand(g, 95));

                if (c == '"' || c == '\\') {
                    c = '.';
                }

                tg_put(t, &c, 1);
            }
        }
    }

    tg_puts(t, "\"");
}


static inline void
tg_value(tg_gen_t *g, tg_text_t *t, int depth, int space)
{
    uint32_t  i, n, kind;

    /* a third of the values below the second level are containers */
    kind = depth >= g->max_depth ? 2 + tg_rand(g, 2)
                                 : tg_rand(g, depth < 2 ? 3 : 6);

    switch (kind) {

    case 0:
        n = tg_rand(g, g->big_odds) == 0 ? g->big + tg_rand(g, g->big_range)
                                         : tg_rand(g, g->small);
        tg_puts(t, "{");
        tg_ws(g, t, space);

        for (i = 0; i < n; i++) {
            if (i) {
                tg_puts(t, ",");
                tg_ws(g, t, space);
            }

            tg_string(g, t, 1);
            tg_ws(g, t, space);
            tg_puts(t, ":");
            tg_ws(g, t, space);
            tg_value(g, t, depth + 1, space);
            tg_ws(g, t, space);
        }

        tg_puts(t, "}");
        break;

    case 1:
        n = tg_rand(g, 5);
        tg_puts(t, "[");
        tg_ws(g, t, space);

        for (i = 0; i < n; i++) {
            if (i) {
                tg_puts(t, ",");
                tg_ws(g, t, space);
            }

            tg_value(g, t, depth + 1, space);
            tg_ws(g, t, space);
        }

        tg_puts(t, "]");
        break;

    case 2:
    case 4:
        tg_string(g, t, 0);
        break;

    default:
        tg_puts(t, g->scalars[tg_rand(g, g->nscalars)]);
    }
}


/* a copy without a terminating NUL, so that ASan sees any read beyond */
static inline char *
tg_exact(const char *s, size_t n)
{
    char  *p;

    p = malloc(n ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);

    return p;
}


#endif /* _TEST_JSON_GEN_H_INCLUDED_ */
