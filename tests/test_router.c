/*
 * Copyright (C) ngx_llm authors
 *
 * Router decisions (adapters/llm_router.c), with a deterministic random
 * source: strategy names, weighted shuffle, `order` tiers, least-busy,
 * latency (with exploration), usage and cost orderings, cooling
 * exclusion, fallback chains (order, transitivity, max, loops, unknown
 * names, default_fallbacks), cooldown windows, EWMA and the parsing of
 * router_settings / litellm_settings.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_router.h"


/* ---- random sources ---------------------------------------------------- */


/* splitmix64: a reproducible uniform stream in [0, 1) */
typedef struct {
    uint64_t  s;
    long      calls;
} prng_t;


static double
prng_next(void *data)
{
    prng_t    *p = data;
    uint64_t   z;

    p->calls++;
    z = (p->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;

    return (double) (z >> 11) / 9007199254740992.0;
}


static double
const_next(void *data)
{
    return *(double *) data;
}


static llm_route_cand_t
cand(double weight, int order)
{
    llm_route_cand_t  c;

    memset(&c, 0, sizeof(c));
    c.weight = weight;
    c.order = order;

    return c;
}


/* out[] must be a permutation of the k non-cooling candidates */
static void
assert_permutation(const llm_route_cand_t *c, size_t n, const size_t *out,
    size_t k)
{
    size_t  i, j, expect;

    expect = 0;

    for (i = 0; i < n; i++) {
        expect += !c[i].cooling;
    }

    assert_int_equal(k, expect);

    for (i = 0; i < k; i++) {
        assert_true(out[i] < n);
        assert_false(c[out[i]].cooling);

        for (j = i + 1; j < k; j++) {
            assert_true(out[i] != out[j]);
        }
    }
}


/* ---- strategy names ----------------------------------------------------- */


static void
test_strategy_names(void **state)
{
    assert_int_equal(llm_route_strategy("simple-shuffle"),
                     LLM_ROUTE_SIMPLE_SHUFFLE);
    assert_int_equal(llm_route_strategy("least-busy"), LLM_ROUTE_LEAST_BUSY);
    assert_int_equal(llm_route_strategy("latency-based-routing"),
                     LLM_ROUTE_LATENCY);
    assert_int_equal(llm_route_strategy("usage-based-routing"),
                     LLM_ROUTE_USAGE);
    assert_int_equal(llm_route_strategy("usage-based-routing-v2"),
                     LLM_ROUTE_USAGE);
    assert_int_equal(llm_route_strategy("cost-based-routing"),
                     LLM_ROUTE_COST);

    /* not set: LiteLLM's default */
    assert_int_equal(llm_route_strategy(NULL), LLM_ROUTE_SIMPLE_SHUFFLE);

    assert_int_equal(llm_route_strategy("round-robin"), -1);
    assert_int_equal(llm_route_strategy(""), -1);
    assert_int_equal(llm_route_strategy("Least-Busy"), -1);
    assert_int_equal(llm_route_strategy("least-busy "), -1);
}


/* ---- simple-shuffle ----------------------------------------------------- */


/* the first pick follows the weights: 1:3:6 over 30000 draws */
static void
test_shuffle_weights_first_pick(void **state)
{
    int               i;
    long              first[3] = { 0, 0, 0 }, second_given_2[3] = { 0, 0, 0 };
    long              n2;
    size_t            out[3], k;
    prng_t            p = { 12345, 0 };
    llm_route_cand_t  c[3];
    const int         draws = 30000;

    c[0] = cand(1, 0);
    c[1] = cand(3, 0);
    c[2] = cand(6, 0);
    n2 = 0;

    for (i = 0; i < draws; i++) {
        k = llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0.1,
                            prng_next, &p);
        assert_permutation(c, 3, out, k);
        first[out[0]]++;

        if (out[0] == 2) {
            second_given_2[out[1]]++;
            n2++;
        }
    }

    /* within 1.5 points of 10 %, 30 %, 60 % (about 6 sigma) */
    assert_true(fabs((double) first[0] / draws - 0.1) < 0.015);
    assert_true(fabs((double) first[1] / draws - 0.3) < 0.015);
    assert_true(fabs((double) first[2] / draws - 0.6) < 0.015);

    /* without replacement: after 2, the rest share 1:3 */
    assert_int_equal(second_given_2[2], 0);
    assert_true(fabs((double) second_given_2[0] / n2 - 0.25) < 0.02);
    assert_true(fabs((double) second_given_2[1] / n2 - 0.75) < 0.02);
}


/* equal weights: every deployment leads about as often */
static void
test_shuffle_equal_weights(void **state)
{
    int               i, j;
    long              first[5] = { 0 };
    size_t            out[5], k;
    prng_t            p = { 777, 0 };
    llm_route_cand_t  c[5];
    const int         draws = 25000;

    for (j = 0; j < 5; j++) {
        c[j] = cand(1, 0);
    }

    for (i = 0; i < draws; i++) {
        k = llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 5, out, 0, prng_next,
                            &p);
        assert_permutation(c, 5, out, k);
        first[out[0]]++;
    }

    for (j = 0; j < 5; j++) {
        assert_true(fabs((double) first[j] / draws - 0.2) < 0.015);
    }
}


/* the pick is the weight interval the random number falls in */
static void
test_shuffle_weight_intervals(void **state)
{
    size_t            out[3], k;
    double            r;
    llm_route_cand_t  c[3];

    /* weights 1, 1, 2: [0, .25) -> 0, [.25, .5) -> 1, [.5, 1) -> 2 */
    c[0] = cand(1, 0);
    c[1] = cand(1, 0);
    c[2] = cand(2, 0);

    r = 0.0;
    k = llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0, const_next,
                        &r);
    assert_int_equal(k, 3);
    assert_int_equal(out[0], 0);

    r = 0.3;
    (void) llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0,
                           const_next, &r);
    assert_int_equal(out[0], 1);

    r = 0.6;
    (void) llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0,
                           const_next, &r);
    assert_int_equal(out[0], 2);

    r = 0.999999;
    (void) llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0,
                           const_next, &r);
    assert_int_equal(out[0], 2);
    assert_permutation(c, 3, out, 3);
}


/* weight 0 (a deployment weighted out) never leads a weighted one */
static void
test_shuffle_zero_weight_last(void **state)
{
    int               i;
    size_t            out[3], k;
    prng_t            p = { 99, 0 };
    llm_route_cand_t  c[3];

    c[0] = cand(0, 0);
    c[1] = cand(5, 0);
    c[2] = cand(1, 0);

    for (i = 0; i < 5000; i++) {
        k = llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 3, out, 0, prng_next,
                            &p);
        assert_permutation(c, 3, out, k);
        assert_int_equal(out[2], 0);
    }
}


/* one candidate and none: no random numbers needed, no crash */
static void
test_order_trivial_sizes(void **state)
{
    size_t            out[2];
    prng_t            p = { 1, 0 };
    llm_route_cand_t  c[1];
    int               s;

    c[0] = cand(1, 0);

    for (s = LLM_ROUTE_SIMPLE_SHUFFLE; s <= LLM_ROUTE_COST; s++) {
        assert_int_equal(llm_route_order(s, c, 1, out, 1.0, prng_next, &p),
                         1);
        assert_int_equal(out[0], 0);
        assert_int_equal(llm_route_order(s, c, 0, out, 1.0, prng_next, &p),
                         0);
    }
}


/* ---- order tiers -------------------------------------------------------- */


/* order 1 before order 2 before unset, whatever the weights say */
static void
test_tiers(void **state)
{
    int               i;
    long              lead1 = 0;
    size_t            out[5], k;
    prng_t            p = { 4242, 0 };
    llm_route_cand_t  c[5];

    c[0] = cand(1000, 2);
    c[1] = cand(1, 1);
    c[2] = cand(100000, 0);
    c[3] = cand(3, 1);
    c[4] = cand(1, 2);

    for (i = 0; i < 8000; i++) {
        k = llm_route_order(LLM_ROUTE_SIMPLE_SHUFFLE, c, 5, out, 0, prng_next,
                            &p);
        assert_permutation(c, 5, out, k);

        assert_int_equal(c[out[0]].order, 1);
        assert_int_equal(c[out[1]].order, 1);
        assert_int_equal(c[out[2]].order, 2);
        assert_int_equal(c[out[3]].order, 2);
        assert_int_equal(out[4], 2);

        lead1 += (out[0] == 1);
    }

    /* inside tier 1 the weights (1:3) still decide */
    assert_true(fabs((double) lead1 / 8000 - 0.25) < 0.025);
}


/* tiers come before every strategy's own key */
static void
test_tiers_before_strategy(void **state)
{
    size_t            out[3], k;
    prng_t            p = { 5, 0 };
    llm_route_cand_t  c[3];

    c[0] = cand(1, 2);
    c[0].inflight = 0;
    c[0].latency = 1;
    c[0].cost = 1e-9;
    c[1] = cand(1, 1);
    c[1].inflight = 50;
    c[1].latency = 9000;
    c[1].cost = 1e-3;
    c[2] = cand(1, 1);
    c[2].inflight = 40;
    c[2].latency = 8000;
    c[2].cost = 2e-3;

    k = llm_route_order(LLM_ROUTE_LEAST_BUSY, c, 3, out, 0, prng_next, &p);
    assert_int_equal(k, 3);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 0);

    k = llm_route_order(LLM_ROUTE_LATENCY, c, 3, out, 0, prng_next, &p);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 0);

    k = llm_route_order(LLM_ROUTE_COST, c, 3, out, 0, prng_next, &p);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
    assert_int_equal(out[2], 0);
}


/* ---- least-busy --------------------------------------------------------- */


static void
test_least_busy(void **state)
{
    int               i;
    long              lead[4] = { 0 };
    size_t            out[4], k;
    prng_t            p = { 31337, 0 };
    llm_route_cand_t  c[4];

    c[0] = cand(1, 0);
    c[0].inflight = 5;
    c[1] = cand(1, 0);
    c[1].inflight = 1;
    c[2] = cand(1, 0);
    c[2].inflight = 3;
    c[3] = cand(1, 0);
    c[3].inflight = 7;

    k = llm_route_order(LLM_ROUTE_LEAST_BUSY, c, 4, out, 0, prng_next, &p);
    assert_int_equal(k, 4);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 2);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 3);

    /* ties share the load; weights do not matter to least-busy */
    c[0].inflight = 2;
    c[0].weight = 100;
    c[1].inflight = 2;
    c[2].inflight = 2;
    c[3].inflight = 9;

    for (i = 0; i < 9000; i++) {
        k = llm_route_order(LLM_ROUTE_LEAST_BUSY, c, 4, out, 0, prng_next,
                            &p);
        assert_permutation(c, 4, out, k);
        assert_int_equal(out[3], 3);
        lead[out[0]]++;
    }

    assert_int_equal(lead[3], 0);
    assert_true(fabs((double) lead[0] / 9000 - 1.0 / 3) < 0.03);
    assert_true(fabs((double) lead[1] / 9000 - 1.0 / 3) < 0.03);
    assert_true(fabs((double) lead[2] / 9000 - 1.0 / 3) < 0.03);
}


/* ---- latency-based-routing ---------------------------------------------- */


static void
test_latency_order(void **state)
{
    size_t            out[4], k;
    prng_t            p = { 8, 0 };
    llm_route_cand_t  c[4];

    c[0] = cand(1, 0);
    c[0].latency = 300;
    c[1] = cand(1, 0);
    c[1].latency = 100;
    c[2] = cand(1, 0);
    c[2].latency = 0;       /* never measured: it needs a measure */
    c[3] = cand(1, 0);
    c[3].latency = 200;

    k = llm_route_order(LLM_ROUTE_LATENCY, c, 4, out, 0, prng_next, &p);
    assert_int_equal(k, 4);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 3);
    assert_int_equal(out[3], 0);
}


/*
 * With explore e a random one of the n leads on a share e of calls (the
 * fastest among them, so a slower one leads on e * (n - 1) / n); the
 * others keep their latency order behind it.
 */
static void
test_latency_exploration(void **state)
{
    int               i, j;
    long              lead[4] = { 0 }, slow;
    size_t            out[4], k, prev;
    prng_t            p = { 2024, 0 };
    llm_route_cand_t  c[4];
    const int         draws = 40000;

    c[0] = cand(1, 0);
    c[0].latency = 400;
    c[1] = cand(1, 0);
    c[1].latency = 100;
    c[2] = cand(1, 0);
    c[2].latency = 300;
    c[3] = cand(1, 0);
    c[3].latency = 200;

    for (i = 0; i < draws; i++) {
        k = llm_route_order(LLM_ROUTE_LATENCY, c, 4, out, 0.2, prng_next, &p);
        assert_permutation(c, 4, out, k);
        lead[out[0]]++;

        /* behind the leader, still fastest first */
        prev = out[1];

        for (j = 2; j < 4; j++) {
            assert_true(c[out[j]].latency > c[prev].latency);
            prev = out[j];
        }
    }

    slow = draws - lead[1];

    assert_true(fabs((double) slow / draws - 0.2 * 3 / 4) < 0.012);
    assert_true(fabs((double) lead[0] / draws - 0.05) < 0.008);
    assert_true(fabs((double) lead[2] / draws - 0.05) < 0.008);
    assert_true(fabs((double) lead[3] / draws - 0.05) < 0.008);

    /* no exploration: the fastest always */
    for (i = 0; i < 2000; i++) {
        (void) llm_route_order(LLM_ROUTE_LATENCY, c, 4, out, 0, prng_next,
                               &p);
        assert_int_equal(out[0], 1);
    }

    /* always exploring: each leads a quarter of the time */
    memset(lead, 0, sizeof(lead));

    for (i = 0; i < draws; i++) {
        (void) llm_route_order(LLM_ROUTE_LATENCY, c, 4, out, 1.0, prng_next,
                               &p);
        lead[out[0]]++;
    }

    for (j = 0; j < 4; j++) {
        assert_true(fabs((double) lead[j] / draws - 0.25) < 0.015);
    }
}


/* ---- usage-based-routing ------------------------------------------------- */


static void
test_usage_headroom(void **state)
{
    size_t            out[5], k;
    prng_t            p = { 3, 0 };
    llm_route_cand_t  c[5];

    /* rpm: (used + this one) / limit */
    c[0] = cand(1, 0);
    c[0].rpm_limit = 10;
    c[0].rpm_used = 9;          /* 1.0 */
    /* tpm: used / limit */
    c[1] = cand(1, 0);
    c[1].tpm_limit = 1000;
    c[1].tpm_used = 500;        /* 0.5 */
    c[2] = cand(1, 0);
    c[2].rpm_limit = 100;
    c[2].rpm_used = 0;          /* 0.01 */
    /* the busier of the two limits counts */
    c[3] = cand(1, 0);
    c[3].rpm_limit = 100;
    c[3].rpm_used = 1;          /* 0.02 */
    c[3].tpm_limit = 1000;
    c[3].tpm_used = 900;        /* 0.9 */
    /* past its limit: behind everyone */
    c[4] = cand(1, 0);
    c[4].rpm_limit = 10;
    c[4].rpm_used = 30;

    k = llm_route_order(LLM_ROUTE_USAGE, c, 5, out, 0, prng_next, &p);
    assert_int_equal(k, 5);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 1);
    assert_int_equal(out[2], 3);
    assert_int_equal(out[3], 0);
    assert_int_equal(out[4], 4);
}


/* ---- cost-based-routing ------------------------------------------------- */


static void
test_cost(void **state)
{
    int               i;
    long              lead[4] = { 0 };
    size_t            out[4], k;
    prng_t            p = { 11, 0 };
    llm_route_cand_t  c[4];

    c[0] = cand(1, 0);
    c[0].cost = 3e-6;
    c[1] = cand(1, 0);
    c[1].cost = 1e-6;
    c[2] = cand(1, 0);
    c[2].cost = 0;              /* no price known: last */
    c[3] = cand(1, 0);
    c[3].cost = 2e-6;

    k = llm_route_order(LLM_ROUTE_COST, c, 4, out, 0, prng_next, &p);
    assert_int_equal(k, 4);
    assert_int_equal(out[0], 1);
    assert_int_equal(out[1], 3);
    assert_int_equal(out[2], 0);
    assert_int_equal(out[3], 2);

    /* the same price: either may lead */
    c[0].cost = 1e-6;

    for (i = 0; i < 4000; i++) {
        (void) llm_route_order(LLM_ROUTE_COST, c, 4, out, 0, prng_next, &p);
        assert_true(out[0] == 0 || out[0] == 1);
        assert_int_equal(out[2], 3);
        assert_int_equal(out[3], 2);
        lead[out[0]]++;
    }

    assert_true(lead[0] > 1600 && lead[1] > 1600);
}


/* ---- cooling ------------------------------------------------------------ */


static void
test_cooling_excluded(void **state)
{
    int               s, i;
    size_t            out[4], k;
    prng_t            p = { 17, 0 };
    llm_route_cand_t  c[4];

    c[0] = cand(1, 1);
    c[0].cooling = 1;
    c[1] = cand(1000, 0);
    c[1].cooling = 1;
    c[1].inflight = 0;
    c[1].latency = 1;
    c[1].cost = 1e-12;
    c[2] = cand(1, 0);
    c[2].inflight = 10;
    c[2].latency = 900;
    c[2].cost = 1;
    c[3] = cand(1, 2);

    for (s = LLM_ROUTE_SIMPLE_SHUFFLE; s <= LLM_ROUTE_COST; s++) {
        for (i = 0; i < 200; i++) {
            k = llm_route_order(s, c, 4, out, 1.0, prng_next, &p);
            assert_int_equal(k, 2);
            assert_permutation(c, 4, out, k);
            assert_int_equal(out[0], 3);
            assert_int_equal(out[1], 2);
        }
    }

    /* all cooling: nothing to try */
    for (i = 0; i < 4; i++) {
        c[i].cooling = 1;
    }

    for (s = LLM_ROUTE_SIMPLE_SHUFFLE; s <= LLM_ROUTE_COST; s++) {
        assert_int_equal(llm_route_order(s, c, 4, out, 1.0, prng_next, &p),
                         0);
    }
}


/* ---- fallbacks ---------------------------------------------------------- */


static cJSON *
js(const char *text)
{
    cJSON  *j;

    j = cJSON_Parse(text);
    assert_non_null(j);

    return j;
}


static int
parse(const char *list, const char *dflt, const char *const *known,
    size_t nknown, llm_fallbacks_t *fb, char *err, size_t errlen)
{
    int     rc;
    cJSON  *l, *d;

    l = list ? js(list) : NULL;
    d = dflt ? js(dflt) : NULL;
    err[0] = '\0';

    rc = llm_fallbacks_parse(l, d, known, nknown, fb, err, errlen);

    cJSON_Delete(l);
    cJSON_Delete(d);

    return rc;
}


/* "b,d,c": the chain as one string */
static const char *
chain(const llm_fallbacks_t *fb, const char *group, size_t max)
{
    static char   s[512];
    size_t        n, i;
    const char   *out[64];

    n = llm_fallbacks_chain(fb, group, max, out);
    s[0] = '\0';

    for (i = 0; i < n; i++) {
        if (i) {
            strcat(s, ",");
        }

        strcat(s, out[i]);
    }

    return s;
}


static const char *const  known_abcdez[] = { "a", "b", "c", "d", "e", "z" };


static void
test_fallback_chain_order(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    /* LiteLLM's list of one-key maps */
    assert_int_equal(parse("[{\"a\": [\"b\", \"c\"]}, {\"b\": [\"d\"]}]",
                           NULL, known_abcdez, 6, &fb, err, sizeof(err)), 0);

    /* a fallback's own fallbacks come right after it */
    assert_string_equal(chain(&fb, "a", 5), "b,d,c");
    assert_string_equal(chain(&fb, "b", 5), "d");
    assert_string_equal(chain(&fb, "c", 5), "");
    assert_string_equal(chain(&fb, "unknown-group", 5), "");

    /* max_fallbacks cuts the chain */
    assert_string_equal(chain(&fb, "a", 2), "b,d");
    assert_string_equal(chain(&fb, "a", 1), "b");
    assert_string_equal(chain(&fb, "a", 0), "");

    llm_fallbacks_free(&fb);
    assert_int_equal(fb.n, 0);
    assert_null(fb.items);
}


static void
test_fallback_each_group_once(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    /* c is reached twice (directly and through b), tried once */
    assert_int_equal(parse("[{\"a\": [\"b\", \"c\", \"d\"]}, "
                           "{\"b\": [\"c\", \"e\"]}, {\"c\": [\"e\"]}]",
                           NULL, known_abcdez, 6, &fb, err, sizeof(err)), 0);

    assert_string_equal(chain(&fb, "a", 10), "b,c,e,d");
    assert_string_equal(chain(&fb, "b", 10), "c,e");

    llm_fallbacks_free(&fb);
}


static void
test_fallback_forms(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    /* a plain map, and a single name instead of a list */
    assert_int_equal(parse("{\"a\": [\"b\"], \"b\": \"c\"}", NULL,
                           known_abcdez, 6, &fb, err, sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 5), "b,c");
    llm_fallbacks_free(&fb);

    /* several keys in one map of the list */
    assert_int_equal(parse("[{\"a\": [\"b\"], \"c\": [\"d\"]}]", NULL,
                           known_abcdez, 6, &fb, err, sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 5), "b");
    assert_string_equal(chain(&fb, "c", 5), "d");
    llm_fallbacks_free(&fb);

    /* none at all */
    assert_int_equal(parse(NULL, NULL, known_abcdez, 6, &fb, err,
                           sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 5), "");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse("null", "null", known_abcdez, 6, &fb, err,
                           sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 5), "");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse("[]", "[]", known_abcdez, 6, &fb, err,
                           sizeof(err)), 0);
    llm_fallbacks_free(&fb);
}


static void
test_fallback_malformed(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    assert_int_equal(parse("\"a\"", NULL, known_abcdez, 6, &fb, err,
                           sizeof(err)), -1);
    assert_string_equal(err, "fallbacks must be a list");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse("[\"a\"]", NULL, known_abcdez, 6, &fb, err,
                           sizeof(err)), -1);
    assert_string_equal(err, "fallbacks must be a list of {model: "
                        "[fallback models]} maps");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse("[{\"a\": [\"b\", 7]}]", NULL, known_abcdez, 6,
                           &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "fallbacks of \"a\" must be a list of model "
                        "names");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse("[{\"a\": {\"b\": 1}}]", NULL, known_abcdez, 6,
                           &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "fallbacks of \"a\" must be a list of model "
                        "names");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse(NULL, "{\"x\": 1}", known_abcdez, 6, &fb, err,
                           sizeof(err)), -1);
    assert_string_equal(err, "default_fallbacks must be a list of model "
                        "names");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse(NULL, "[\"b\", null]", known_abcdez, 6, &fb, err,
                           sizeof(err)), -1);
    assert_string_equal(err, "default_fallbacks must be a list of model "
                        "names");
    llm_fallbacks_free(&fb);
}


static void
test_fallback_loops_rejected(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    /* a group falling back to itself */
    assert_int_equal(parse("[{\"a\": [\"a\"]}]", NULL, known_abcdez, 6, &fb,
                           err, sizeof(err)), -1);
    assert_string_equal(err, "a -> a: fallbacks loop");
    llm_fallbacks_free(&fb);

    /* two groups falling back to each other */
    assert_int_equal(parse("[{\"a\": [\"b\"]}, {\"b\": [\"a\"]}]", NULL,
                           known_abcdez, 6, &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "a -> b -> a: fallbacks loop");
    llm_fallbacks_free(&fb);

    /* a loop further down, named from where it starts */
    assert_int_equal(parse("[{\"a\": [\"b\"]}, {\"b\": [\"c\", \"d\"]}, "
                           "{\"d\": [\"e\"]}, {\"e\": [\"b\"]}]",
                           NULL, known_abcdez, 6, &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "b -> d -> e -> b: fallbacks loop");
    llm_fallbacks_free(&fb);

    /* in a second list position, with the plain-map form */
    assert_int_equal(parse("{\"c\": [\"d\"], \"d\": [\"z\"], "
                           "\"z\": [\"c\"]}", NULL, known_abcdez, 6, &fb,
                           err, sizeof(err)), -1);
    assert_string_equal(err, "c -> d -> z -> c: fallbacks loop");
    llm_fallbacks_free(&fb);

    /* checked without a known list too */
    assert_int_equal(parse("[{\"x\": [\"y\"]}, {\"y\": [\"x\"]}]", NULL,
                           NULL, 0, &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "x -> y -> x: fallbacks loop");
    llm_fallbacks_free(&fb);

    /* a diamond is not a loop */
    assert_int_equal(parse("[{\"a\": [\"b\", \"c\"]}, {\"b\": [\"d\"]}, "
                           "{\"c\": [\"d\"]}]", NULL, known_abcdez, 6, &fb,
                           err, sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 9), "b,d,c");
    llm_fallbacks_free(&fb);

    /* a short err buffer is still terminated */
    assert_int_equal(parse("[{\"a\": [\"b\"]}, {\"b\": [\"a\"]}]", NULL,
                           known_abcdez, 6, &fb, err, 8), -1);
    assert_true(strlen(err) < 8);
    llm_fallbacks_free(&fb);
}


static void
test_fallback_unknown_names(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    assert_int_equal(parse("[{\"a\": [\"b\", \"gpt-5-typo\"]}]", NULL,
                           known_abcdez, 6, &fb, err, sizeof(err)), -1);
    assert_string_equal(err, "fallback \"gpt-5-typo\" of \"a\" is not a "
                        "model_name of the model list");
    llm_fallbacks_free(&fb);

    assert_int_equal(parse(NULL, "[\"b\", \"nope\"]", known_abcdez, 6, &fb,
                           err, sizeof(err)), -1);
    assert_string_equal(err, "default fallback \"nope\" is not a model_name "
                        "of the model list");
    llm_fallbacks_free(&fb);

    /* known == NULL: names are not checked */
    assert_int_equal(parse("[{\"p\": [\"q\"]}]", "[\"r\"]", NULL, 0, &fb,
                           err, sizeof(err)), 0);
    assert_string_equal(chain(&fb, "p", 5), "q");
    llm_fallbacks_free(&fb);
}


/*
 * The header: "A loop, or a group not in known[] ... fails".  A key
 * that names no group can never apply (chains are looked up by the
 * group's model_name), so a typo there silently disables the fallback.
 */
static void
test_fallback_unknown_source_group(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    assert_int_equal(parse("[{\"gpt-4o-typo\": [\"b\"]}]", NULL,
                           known_abcdez, 6, &fb, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "gpt-4o-typo"));
    llm_fallbacks_free(&fb);
}


static void
test_default_fallbacks(void **state)
{
    char             err[256];
    llm_fallbacks_t  fb;

    assert_int_equal(parse("[{\"a\": [\"b\"]}, {\"d\": [\"e\"]}]",
                           "[\"c\", \"d\"]", known_abcdez, 6, &fb, err,
                           sizeof(err)), 0);

    /* a group with its own fallbacks does not use the defaults */
    assert_string_equal(chain(&fb, "a", 9), "b");

    /* others use them, transitively, never themselves */
    assert_string_equal(chain(&fb, "z", 9), "c,d,e");
    assert_string_equal(chain(&fb, "c", 9), "d,e");
    assert_string_equal(chain(&fb, "z", 2), "c,d");

    /* d has its own */
    assert_string_equal(chain(&fb, "d", 9), "e");

    /* e's defaults lead back to e through d: e is skipped, no loop */
    assert_string_equal(chain(&fb, "e", 9), "c,d");

    llm_fallbacks_free(&fb);
    assert_int_equal(fb.ndflt, 0);
    assert_null(fb.dflt);

    /* a single name is a list of one */
    assert_int_equal(parse(NULL, "\"b\"", known_abcdez, 6, &fb, err,
                           sizeof(err)), 0);
    assert_string_equal(chain(&fb, "a", 9), "b");
    assert_string_equal(chain(&fb, "b", 9), "");
    llm_fallbacks_free(&fb);
}


/* a long chain: every group once, in order, up to max */
static void
test_fallback_long_chain(void **state)
{
    int              i;
    char             err[256], buf[8192], *p;
    const char      *out[64];
    llm_fallbacks_t  fb;
    cJSON           *l;

    p = buf;
    p += sprintf(p, "[");

    for (i = 0; i < 40; i++) {
        p += sprintf(p, "%s{\"g%d\": [\"g%d\"]}", i ? "," : "", i, i + 1);
    }

    sprintf(p, "]");

    l = js(buf);
    assert_int_equal(llm_fallbacks_parse(l, NULL, NULL, 0, &fb, err,
                                         sizeof(err)), 0);
    cJSON_Delete(l);

    assert_int_equal(llm_fallbacks_chain(&fb, "g0", 64, out), 40);
    assert_string_equal(out[0], "g1");
    assert_string_equal(out[39], "g40");
    assert_int_equal(llm_fallbacks_chain(&fb, "g0", 5, out), 5);
    assert_string_equal(out[4], "g5");
    assert_int_equal(llm_fallbacks_chain(&fb, "g35", 64, out), 5);

    llm_fallbacks_free(&fb);
}


/* ---- health: failures and cooldowns -------------------------------------- */


static void
test_health_allowed_fails(void **state)
{
    llm_health_t  h;
    int64_t       t0 = 1000000;

    memset(&h, 0, sizeof(h));

    /* allowed_fails 3: three failures in a minute are allowed */
    assert_int_equal(llm_health_fail(&h, t0, 3, 5000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 10, 3, 5000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 20, 3, 5000, -1), 0);
    assert_false(llm_health_cooling(&h, t0 + 20));

    /* the fourth cools it down for cooldown_time */
    assert_int_equal(llm_health_fail(&h, t0 + 30, 3, 5000, -1), 1);
    assert_true(llm_health_cooling(&h, t0 + 30));
    assert_true(llm_health_cooling(&h, t0 + 30 + 4999));
    assert_false(llm_health_cooling(&h, t0 + 30 + 5000));

    /* the count starts over after a cooldown */
    assert_int_equal(llm_health_fail(&h, t0 + 6000, 3, 5000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 6001, 3, 5000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 6002, 3, 5000, -1), 0);
    assert_false(llm_health_cooling(&h, t0 + 6002));
    assert_int_equal(llm_health_fail(&h, t0 + 6003, 3, 5000, -1), 1);
    assert_true(llm_health_cooling(&h, t0 + 6003));
}


static void
test_health_zero_allowed(void **state)
{
    llm_health_t  h;

    memset(&h, 0, sizeof(h));

    assert_int_equal(llm_health_fail(&h, 5000, 0, 60000, -1), 1);
    assert_true(llm_health_cooling(&h, 5000));
    assert_true(llm_health_cooling(&h, 64999));
    assert_false(llm_health_cooling(&h, 65000));
}


/* failures count within a minute; older ones are forgotten */
static void
test_health_minute_window(void **state)
{
    llm_health_t  h;
    int64_t       t0 = 10000000;     /* ngx_current_msec: well past boot */

    memset(&h, 0, sizeof(h));

    assert_int_equal(llm_health_fail(&h, t0, 2, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 1, 2, 1000, -1), 0);
    /* a minute after the first: a new window */
    assert_int_equal(llm_health_fail(&h, t0 + 60000, 2, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 60001, 2, 1000, -1), 0);
    assert_false(llm_health_cooling(&h, t0 + 60001));
    /* third in this window */
    assert_int_equal(llm_health_fail(&h, t0 + 119999, 2, 1000, -1), 1);
    assert_true(llm_health_cooling(&h, t0 + 119999));

    /* just inside the minute still counts */
    memset(&h, 0, sizeof(h));
    assert_int_equal(llm_health_fail(&h, t0, 2, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 1, 2, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 + 59999, 2, 1000, -1), 1);

    /* a clock that went back starts a new window */
    memset(&h, 0, sizeof(h));
    assert_int_equal(llm_health_fail(&h, t0, 1, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 - 10, 1, 1000, -1), 0);
    assert_int_equal(llm_health_fail(&h, t0 - 5, 1, 1000, -1), 1);
}


/* a provider's Retry-After cools the deployment at once, for that long */
static void
test_health_retry_after(void **state)
{
    llm_health_t  h;

    memset(&h, 0, sizeof(h));

    assert_int_equal(llm_health_fail(&h, 1000, 3, 5000, 7000), 1);
    assert_true(llm_health_cooling(&h, 1000));
    assert_true(llm_health_cooling(&h, 7999));
    assert_false(llm_health_cooling(&h, 8000));

    /* a shorter Retry-After does not cut a longer cooldown short */
    memset(&h, 0, sizeof(h));
    assert_int_equal(llm_health_fail(&h, 1000, 3, 5000, 30000), 1);
    assert_int_equal(llm_health_fail(&h, 2000, 3, 5000, 1000), 1);
    assert_true(llm_health_cooling(&h, 30999));
    assert_false(llm_health_cooling(&h, 31000));

    /* longer than cooldown_time: Retry-After wins */
    memset(&h, 0, sizeof(h));
    assert_int_equal(llm_health_fail(&h, 0, 0, 1000, 120000), 1);
    assert_true(llm_health_cooling(&h, 119999));
}


static void
test_health_ok_ends_cooldown(void **state)
{
    llm_health_t  h;

    memset(&h, 0, sizeof(h));

    assert_int_equal(llm_health_fail(&h, 100, 0, 10000, -1), 1);
    assert_true(llm_health_cooling(&h, 200));

    llm_health_ok(&h, 200);
    assert_false(llm_health_cooling(&h, 200));

    /* a success without a cooldown changes nothing */
    llm_health_ok(&h, 300);
    assert_false(llm_health_cooling(&h, 300));

    /* never failed: never cooling */
    memset(&h, 0, sizeof(h));
    assert_false(llm_health_cooling(&h, 0));
    assert_false(llm_health_cooling(&h, INT64_MAX / 2));
}


static void
test_ewma(void **state)
{
    double  a;

    /* the first sample sets it */
    assert_true(fabs(llm_ewma(0, 250, 0.2) - 250) < 1e-9);

    a = llm_ewma(100, 200, 0.2);
    assert_true(fabs(a - 120) < 1e-9);

    a = llm_ewma(a, 200, 0.2);
    assert_true(fabs(a - 136) < 1e-9);

    /* converges on a steady sample */
    for (int i = 0; i < 200; i++) {
        a = llm_ewma(a, 40, 0.2);
    }

    assert_true(fabs(a - 40) < 1e-6);
}


/* ---- router_settings ----------------------------------------------------- */


static const char *const  known_models[] = {
    "gpt-4o", "claude", "llama", "gpt-4o-long", "gpt-safe"
};


static int
load(const char *router, const char *litellm, llm_router_settings_t *rs,
    char *err, size_t errlen)
{
    int     rc;
    cJSON  *r, *l;

    r = router ? js(router) : NULL;
    l = litellm ? js(litellm) : NULL;
    err[0] = '\0';

    rc = llm_router_settings_load(r, l, known_models, 5, rs, err, errlen);

    cJSON_Delete(r);
    cJSON_Delete(l);

    return rc;
}


static void
test_settings_defaults(void **state)
{
    char                   err[256];
    llm_router_settings_t  rs;

    assert_int_equal(load(NULL, NULL, &rs, err, sizeof(err)), 0);

    assert_int_equal(rs.strategy, LLM_ROUTE_SIMPLE_SHUFFLE);
    assert_int_equal(rs.num_retries, LLM_ROUTER_DEFAULT_RETRIES);
    assert_int_equal(rs.allowed_fails, LLM_ROUTER_DEFAULT_FAILS);
    assert_true(rs.cooldown_time == LLM_ROUTER_DEFAULT_COOLDOWN);
    assert_int_equal(rs.max_fallbacks, LLM_ROUTER_DEFAULT_FALLBACKS);
    assert_true(rs.timeout == 0);
    assert_true(rs.stream_timeout == 0);
    assert_int_equal(rs.disable_cooldowns, 0);
    assert_int_equal(rs.fallbacks.n, 0);
    assert_null(rs.aliases);

    llm_router_settings_free(&rs);

    /* empty maps are the same */
    assert_int_equal(load("{}", "{}", &rs, err, sizeof(err)), 0);
    assert_int_equal(rs.num_retries, LLM_ROUTER_DEFAULT_RETRIES);
    llm_router_settings_free(&rs);
}


static void
test_settings_full(void **state)
{
    int                    hidden;
    char                   err[256];
    llm_router_settings_t  rs;

    assert_int_equal(load(
        "{\"routing_strategy\": \"latency-based-routing\","
        " \"num_retries\": 4, \"timeout\": 30, \"stream_timeout\": 7.5,"
        " \"allowed_fails\": 1, \"cooldown_time\": 60,"
        " \"disable_cooldowns\": true, \"max_fallbacks\": 2,"
        " \"fallbacks\": [{\"gpt-4o\": [\"claude\", \"llama\"]}],"
        " \"default_fallbacks\": [\"llama\"],"
        " \"context_window_fallbacks\": [{\"gpt-4o\": [\"gpt-4o-long\"]}],"
        " \"content_policy_fallbacks\": [{\"gpt-4o\": [\"gpt-safe\"]}],"
        " \"model_group_alias\": {\"gpt4\": \"gpt-4o\","
        "    \"secret\": {\"model\": \"claude\", \"hidden\": true},"
        "    \"shown\": {\"model\": \"llama\"}, \"bad\": 5}}",
        NULL, &rs, err, sizeof(err)), 0);

    assert_int_equal(rs.strategy, LLM_ROUTE_LATENCY);
    assert_int_equal(rs.num_retries, 4);
    assert_true(rs.timeout == 30);
    assert_true(rs.stream_timeout == 7.5);
    assert_int_equal(rs.allowed_fails, 1);
    assert_true(rs.cooldown_time == 60);
    assert_int_equal(rs.disable_cooldowns, 1);
    assert_int_equal(rs.max_fallbacks, 2);

    assert_string_equal(chain(&rs.fallbacks, "gpt-4o", rs.max_fallbacks),
                        "claude,llama");
    assert_string_equal(chain(&rs.fallbacks, "claude", rs.max_fallbacks),
                        "llama");
    assert_string_equal(chain(&rs.context_fallbacks, "gpt-4o", 5),
                        "gpt-4o-long");
    assert_string_equal(chain(&rs.policy_fallbacks, "gpt-4o", 5),
                        "gpt-safe");
    /* default_fallbacks belong to the general fallbacks only */
    assert_string_equal(chain(&rs.context_fallbacks, "claude", 5), "");

    assert_string_equal(llm_router_alias(&rs, "gpt4", &hidden), "gpt-4o");
    assert_int_equal(hidden, 0);
    assert_string_equal(llm_router_alias(&rs, "secret", &hidden), "claude");
    assert_int_equal(hidden, 1);
    assert_string_equal(llm_router_alias(&rs, "shown", &hidden), "llama");
    assert_int_equal(hidden, 0);
    assert_null(llm_router_alias(&rs, "bad", &hidden));
    assert_null(llm_router_alias(&rs, "nothing", &hidden));

    llm_router_settings_free(&rs);
    assert_null(rs.aliases);
}


/* LiteLLM reads these from litellm_settings too; router_settings wins */
static void
test_settings_litellm_fallback(void **state)
{
    char                   err[256];
    llm_router_settings_t  rs;

    assert_int_equal(load(NULL,
        "{\"num_retries\": 7, \"request_timeout\": 12,"
        " \"fallbacks\": [{\"gpt-4o\": [\"claude\"]}],"
        " \"context_window_fallbacks\": [{\"gpt-4o\": [\"gpt-4o-long\"]}],"
        " \"default_fallbacks\": [\"llama\"],"
        " \"allowed_fails\": 9, \"cooldown_time\": 1.5}",
        &rs, err, sizeof(err)), 0);

    assert_int_equal(rs.num_retries, 7);
    assert_true(rs.timeout == 12);
    assert_int_equal(rs.allowed_fails, 9);
    assert_true(rs.cooldown_time == 1.5);
    assert_string_equal(chain(&rs.fallbacks, "gpt-4o", 5), "claude");
    assert_string_equal(chain(&rs.fallbacks, "llama", 5), "");
    assert_string_equal(chain(&rs.fallbacks, "claude", 5), "llama");
    assert_string_equal(chain(&rs.context_fallbacks, "gpt-4o", 5),
                        "gpt-4o-long");
    llm_router_settings_free(&rs);

    assert_int_equal(load(
        "{\"num_retries\": 1, \"timeout\": 3, \"routing_strategy\": null,"
        " \"fallbacks\": [{\"gpt-4o\": [\"llama\"]}]}",
        "{\"num_retries\": 7, \"timeout\": 12, \"allowed_fails\": 0,"
        " \"routing_strategy\": \"least-busy\","
        " \"fallbacks\": [{\"gpt-4o\": [\"claude\"]}]}",
        &rs, err, sizeof(err)), 0);

    assert_int_equal(rs.num_retries, 1);
    assert_true(rs.timeout == 3);
    assert_int_equal(rs.allowed_fails, 0);
    /* null in router_settings is "not set": litellm_settings counts */
    assert_int_equal(rs.strategy, LLM_ROUTE_LEAST_BUSY);
    assert_string_equal(chain(&rs.fallbacks, "gpt-4o", 5), "llama");
    llm_router_settings_free(&rs);

    /* numbers written as strings */
    assert_int_equal(load("{\"num_retries\": \"3\", \"cooldown_time\": "
                          "\"0.5\"}", NULL, &rs, err, sizeof(err)), 0);
    assert_int_equal(rs.num_retries, 3);
    assert_true(rs.cooldown_time == 0.5);
    llm_router_settings_free(&rs);

    /* timeout wins over request_timeout */
    assert_int_equal(load("{\"timeout\": 4, \"request_timeout\": 9}", NULL,
                          &rs, err, sizeof(err)), 0);
    assert_true(rs.timeout == 4);
    llm_router_settings_free(&rs);
}


static void
test_settings_errors(void **state)
{
    char                   err[256];
    llm_router_settings_t  rs;

    assert_int_equal(load("{\"routing_strategy\": \"fastest-please\"}",
                          NULL, &rs, err, sizeof(err)), -1);
    assert_string_equal(err, "router_settings: unknown routing_strategy "
                        "\"fastest-please\"");
    llm_router_settings_free(&rs);

    assert_int_equal(load(NULL, "{\"routing_strategy\": \"simple\"}", &rs,
                          err, sizeof(err)), -1);
    assert_string_equal(err, "router_settings: unknown routing_strategy "
                        "\"simple\"");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"num_retries\": -1}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: num_retries must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"allowed_fails\": \"three\"}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: allowed_fails must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"cooldown_time\": [5]}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: cooldown_time must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"timeout\": \"10s\"}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: timeout must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"max_fallbacks\": true}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: max_fallbacks must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    assert_int_equal(load(NULL, "{\"stream_timeout\": -2}", &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: stream_timeout must be a "
                        "non-negative number");
    llm_router_settings_free(&rs);

    /* fallback errors say where they are */
    assert_int_equal(load("{\"fallbacks\": [{\"gpt-4o\": [\"claude\"]},"
                          " {\"claude\": [\"gpt-4o\"]}]}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: gpt-4o -> claude -> gpt-4o: "
                        "fallbacks loop");
    llm_router_settings_free(&rs);

    assert_int_equal(load(NULL, "{\"fallbacks\": [{\"gpt-4o\": [\"gpt5\"]}]}",
                          &rs, err, sizeof(err)), -1);
    assert_string_equal(err, "router_settings: fallback \"gpt5\" of "
                        "\"gpt-4o\" is not a model_name of the model list");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"context_window_fallbacks\": "
                          "[{\"gpt-4o\": [\"gpt-4o\"]}]}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: gpt-4o -> gpt-4o: fallbacks "
                        "loop");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"content_policy_fallbacks\": "
                          "[{\"gpt-4o\": [\"nope\"]}]}", NULL, &rs, err,
                          sizeof(err)), -1);
    assert_string_equal(err, "router_settings: fallback \"nope\" of "
                        "\"gpt-4o\" is not a model_name of the model list");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"default_fallbacks\": [\"nope\"]}", NULL, &rs,
                          err, sizeof(err)), -1);
    assert_string_equal(err, "router_settings: default fallback \"nope\" is "
                        "not a model_name of the model list");
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"model_group_alias\": [\"gpt4\"]}", NULL, &rs,
                          err, sizeof(err)), -1);
    assert_string_equal(err, "router_settings: model_group_alias must be a "
                        "map of alias: model_name");
    llm_router_settings_free(&rs);
}


/*
 * Values the checks let through.  strtod() takes "nan" and "inf":
 * NaN < 0 is false, and (int) NaN / (int64_t) (inf * 1000) are undefined.
 * A routing_strategy that is not a string (a list, a number) silently
 * becomes simple-shuffle.
 */
static void
test_settings_not_numbers(void **state)
{
    char                   err[256];
    llm_router_settings_t  rs;

    assert_int_equal(load("{\"num_retries\": \"nan\"}", NULL, &rs, err,
                          sizeof(err)), -1);
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"cooldown_time\": \"inf\"}", NULL, &rs, err,
                          sizeof(err)), -1);
    llm_router_settings_free(&rs);

    assert_int_equal(load("{\"routing_strategy\": [\"least-busy\"]}", NULL,
                          &rs, err, sizeof(err)), -1);
    llm_router_settings_free(&rs);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_strategy_names),
        cmocka_unit_test(test_shuffle_weights_first_pick),
        cmocka_unit_test(test_shuffle_equal_weights),
        cmocka_unit_test(test_shuffle_weight_intervals),
        cmocka_unit_test(test_shuffle_zero_weight_last),
        cmocka_unit_test(test_order_trivial_sizes),
        cmocka_unit_test(test_tiers),
        cmocka_unit_test(test_tiers_before_strategy),
        cmocka_unit_test(test_least_busy),
        cmocka_unit_test(test_latency_order),
        cmocka_unit_test(test_latency_exploration),
        cmocka_unit_test(test_usage_headroom),
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_cooling_excluded),
        cmocka_unit_test(test_fallback_chain_order),
        cmocka_unit_test(test_fallback_each_group_once),
        cmocka_unit_test(test_fallback_forms),
        cmocka_unit_test(test_fallback_malformed),
        cmocka_unit_test(test_fallback_loops_rejected),
        cmocka_unit_test(test_fallback_unknown_names),
        cmocka_unit_test(test_fallback_unknown_source_group),
        cmocka_unit_test(test_default_fallbacks),
        cmocka_unit_test(test_fallback_long_chain),
        cmocka_unit_test(test_health_allowed_fails),
        cmocka_unit_test(test_health_zero_allowed),
        cmocka_unit_test(test_health_minute_window),
        cmocka_unit_test(test_health_retry_after),
        cmocka_unit_test(test_health_ok_ends_cooldown),
        cmocka_unit_test(test_ewma),
        cmocka_unit_test(test_settings_defaults),
        cmocka_unit_test(test_settings_full),
        cmocka_unit_test(test_settings_litellm_fallback),
        cmocka_unit_test(test_settings_errors),
        cmocka_unit_test(test_settings_not_numbers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
