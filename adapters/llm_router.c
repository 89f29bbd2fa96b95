/*
 * Copyright (C) ngx_llm authors
 *
 * Routing decisions: candidate order, fallback chains, cooldowns.
 */


#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_router.h"


typedef double (*llm_route_key_pt)(const llm_route_cand_t *c);


static void llm_route_shuffle(size_t *a, size_t n, llm_route_rand_pt rnd,
    void *data);
static void llm_route_weighted(const llm_route_cand_t *c, size_t *a,
    size_t n, llm_route_rand_pt rnd, void *data);
static void llm_route_sort(const llm_route_cand_t *c, size_t *a, size_t n,
    llm_route_key_pt key);
static double llm_route_key_tier(const llm_route_cand_t *c);
static double llm_route_key_busy(const llm_route_cand_t *c);
static double llm_route_key_latency(const llm_route_cand_t *c);
static double llm_route_key_usage(const llm_route_cand_t *c);
static double llm_route_key_cost(const llm_route_cand_t *c);
static void llm_route_tier(llm_route_strategy_e strategy,
    const llm_route_cand_t *c, size_t *a, size_t n, double explore,
    llm_route_rand_pt rnd, void *data);


int
llm_route_strategy(const char *name)
{
    static const struct {
        const char  *name;
        int          strategy;
    } names[] = {
        { "simple-shuffle", LLM_ROUTE_SIMPLE_SHUFFLE },
        { "least-busy", LLM_ROUTE_LEAST_BUSY },
        { "latency-based-routing", LLM_ROUTE_LATENCY },
        { "usage-based-routing", LLM_ROUTE_USAGE },
        { "usage-based-routing-v2", LLM_ROUTE_USAGE },
        { "cost-based-routing", LLM_ROUTE_COST },
        { NULL, 0 }
    };

    int  i;

    if (name == NULL) {
        return LLM_ROUTE_SIMPLE_SHUFFLE;
    }

    for (i = 0; names[i].name; i++) {
        if (strcmp(names[i].name, name) == 0) {
            return names[i].strategy;
        }
    }

    return -1;
}


size_t
llm_route_order(llm_route_strategy_e strategy, const llm_route_cand_t *c,
    size_t n, size_t *out, double explore, llm_route_rand_pt rnd,
    void *rnd_data)
{
    size_t  i, k, start;

    k = 0;

    for (i = 0; i < n; i++) {
        if (!c[i].cooling) {
            out[k++] = i;
        }
    }

    /* `order` tiers first: 1 before 2, unset after every tier */
    llm_route_sort(c, out, k, llm_route_key_tier);

    start = 0;

    for (i = 1; i <= k; i++) {
        if (i < k && llm_route_key_tier(&c[out[i]])
                     == llm_route_key_tier(&c[out[start]]))
        {
            continue;
        }

        llm_route_tier(strategy, c, out + start, i - start, explore, rnd,
                       rnd_data);
        start = i;
    }

    return k;
}


static void
llm_route_tier(llm_route_strategy_e strategy, const llm_route_cand_t *c,
    size_t *a, size_t n, double explore, llm_route_rand_pt rnd, void *data)
{
    size_t  j, t;

    if (n < 2) {
        return;
    }

    if (strategy == LLM_ROUTE_SIMPLE_SHUFFLE) {
        llm_route_weighted(c, a, n, rnd, data);
        return;
    }

    /* a random order first, so that equal keys share the load */
    llm_route_shuffle(a, n, rnd, data);

    switch (strategy) {

    case LLM_ROUTE_LEAST_BUSY:
        llm_route_sort(c, a, n, llm_route_key_busy);
        break;

    case LLM_ROUTE_LATENCY:
        llm_route_sort(c, a, n, llm_route_key_latency);

        /* now and then a slower one, so its measure stays current */
        if (rnd(data) < explore) {
            j = (size_t) (rnd(data) * n) % n;
            t = a[j];
            memmove(a + 1, a, j * sizeof(size_t));
            a[0] = t;
        }

        break;

    case LLM_ROUTE_USAGE:
        llm_route_sort(c, a, n, llm_route_key_usage);
        break;

    case LLM_ROUTE_COST:
        llm_route_sort(c, a, n, llm_route_key_cost);
        break;

    default:
        break;
    }
}


static void
llm_route_shuffle(size_t *a, size_t n, llm_route_rand_pt rnd, void *data)
{
    size_t  i, j, t;

    for (i = n - 1; i > 0; i--) {
        j = (size_t) (rnd(data) * (i + 1)) % (i + 1);
        t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}


/* sampling without replacement, each pick in proportion to its weight */
static void
llm_route_weighted(const llm_route_cand_t *c, size_t *a, size_t n,
    llm_route_rand_pt rnd, void *data)
{
    size_t  i, j, t;
    double  total, pick, w;

    for (i = 0; i < n - 1; i++) {
        total = 0;

        for (j = i; j < n; j++) {
            total += c[a[j]].weight > 0 ? c[a[j]].weight : 1e-9;
        }

        pick = rnd(data) * total;

        for (j = i; j < n - 1; j++) {
            w = c[a[j]].weight > 0 ? c[a[j]].weight : 1e-9;

            if (pick < w) {
                break;
            }

            pick -= w;
        }

        t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}


/* a stable insertion sort: groups are a handful of deployments */
static void
llm_route_sort(const llm_route_cand_t *c, size_t *a, size_t n,
    llm_route_key_pt key)
{
    size_t  i, j, t;

    for (i = 1; i < n; i++) {
        t = a[i];

        for (j = i; j > 0 && key(&c[a[j - 1]]) > key(&c[t]); j--) {
            a[j] = a[j - 1];
        }

        a[j] = t;
    }
}


static double
llm_route_key_tier(const llm_route_cand_t *c)
{
    return c->order > 0 ? (double) c->order : (double) INT_MAX;
}


static double
llm_route_key_busy(const llm_route_cand_t *c)
{
    return (double) c->inflight;
}


/* deployments never measured come first: they need a measure */
static double
llm_route_key_latency(const llm_route_cand_t *c)
{
    return c->latency;
}


/* the busiest of the two limits; past a limit, behind everyone */
static double
llm_route_key_usage(const llm_route_cand_t *c)
{
    double  r, t;

    r = c->rpm_limit > 0 ? (c->rpm_used + 1) / c->rpm_limit : 0;
    t = c->tpm_limit > 0 ? c->tpm_used / c->tpm_limit : 0;

    return r > t ? r : t;
}


/* unknown prices go last */
static double
llm_route_key_cost(const llm_route_cand_t *c)
{
    return c->cost > 0 ? c->cost : 1e300;
}


/* fallbacks */


static int llm_fallbacks_add(llm_fallbacks_t *fb, const char *group,
    const cJSON *to, char *err, size_t errlen);
static int llm_fallbacks_strings(const cJSON *list, char ***out,
    size_t *n);
static int llm_fallbacks_known(const char *name, const char *const *known,
    size_t nknown);
static int llm_fallbacks_loop(const llm_fallbacks_t *fb, const char *group,
    const char **path, size_t depth, char *done, char *err, size_t errlen);
static const llm_fallback_t *llm_fallbacks_find(const llm_fallbacks_t *fb,
    const char *group);
static void llm_fallbacks_walk(const llm_fallbacks_t *fb, const char *group,
    size_t max, const char **out, size_t *n, const char *start);


int
llm_fallbacks_parse(const cJSON *list, const cJSON *dflt,
    const char *const *known, size_t nknown, llm_fallbacks_t *fb,
    char *err, size_t errlen)
{
    char          *done;
    size_t         i, j;
    const cJSON   *e, *kv;
    const char    *path[64];

    memset(fb, 0, sizeof(llm_fallbacks_t));

    if (dflt && !cJSON_IsNull(dflt)
        && llm_fallbacks_strings(dflt, &fb->dflt, &fb->ndflt) != 0)
    {
        snprintf(err, errlen, "default_fallbacks must be a list of model "
                 "names");
        return -1;
    }

    if (list && cJSON_IsObject(list)) {
        /* {"a": ["b"]} as well as LiteLLM's [{"a": ["b"]}] */
        cJSON_ArrayForEach(kv, list) {
            if (llm_fallbacks_add(fb, kv->string, kv, err, errlen) != 0) {
                return -1;
            }
        }

    } else if (list && cJSON_IsArray(list)) {
        cJSON_ArrayForEach(e, list) {
            if (!cJSON_IsObject(e)) {
                snprintf(err, errlen, "fallbacks must be a list of "
                         "{model: [fallback models]} maps");
                return -1;
            }

            cJSON_ArrayForEach(kv, e) {
                if (llm_fallbacks_add(fb, kv->string, kv, err, errlen)
                    != 0)
                {
                    return -1;
                }
            }
        }

    } else if (list && !cJSON_IsNull(list)) {
        snprintf(err, errlen, "fallbacks must be a list");
        return -1;
    }

    for (i = 0; known && i < fb->n; i++) {

        /* a key naming no group would never apply: a typo, say so */
        if (!llm_fallbacks_known(fb->items[i].group, known, nknown)) {
            snprintf(err, errlen, "fallbacks are given for \"%s\", which "
                     "is not a model_name of the model list",
                     fb->items[i].group);
            return -1;
        }

        for (j = 0; j < fb->items[i].nto; j++) {
            if (!llm_fallbacks_known(fb->items[i].to[j], known, nknown)) {
                snprintf(err, errlen, "fallback \"%s\" of \"%s\" is not a "
                         "model_name of the model list",
                         fb->items[i].to[j], fb->items[i].group);
                return -1;
            }
        }
    }

    for (j = 0; known && j < fb->ndflt; j++) {
        if (!llm_fallbacks_known(fb->dflt[j], known, nknown)) {
            snprintf(err, errlen, "default fallback \"%s\" is not a "
                     "model_name of the model list", fb->dflt[j]);
            return -1;
        }
    }

    done = calloc(fb->n + 1, 1);
    if (done == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    for (i = 0; i < fb->n; i++) {
        path[0] = fb->items[i].group;

        if (llm_fallbacks_loop(fb, fb->items[i].group, path, 1, done, err,
                               errlen)
            != 0)
        {
            free(done);
            return -1;
        }
    }

    free(done);

    return 0;
}


static int
llm_fallbacks_add(llm_fallbacks_t *fb, const char *group, const cJSON *to,
    char *err, size_t errlen)
{
    llm_fallback_t  *items, *f;

    items = realloc(fb->items, (fb->n + 1) * sizeof(llm_fallback_t));
    if (items == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    fb->items = items;
    f = &fb->items[fb->n];
    memset(f, 0, sizeof(llm_fallback_t));

    f->group = strdup(group ? group : "");
    if (f->group == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    fb->n++;

    if (llm_fallbacks_strings(to, &f->to, &f->nto) != 0) {
        snprintf(err, errlen, "fallbacks of \"%s\" must be a list of model "
                 "names", f->group);
        return -1;
    }

    return 0;
}


/* a string or a list of strings */
static int
llm_fallbacks_strings(const cJSON *list, char ***out, size_t *n)
{
    size_t        k;
    const cJSON  *e;

    if (cJSON_IsString(list)) {
        *out = calloc(1, sizeof(char *));
        if (*out == NULL || ((*out)[0] = strdup(list->valuestring)) == NULL) {
            return -1;
        }

        *n = 1;
        return 0;
    }

    if (!cJSON_IsArray(list)) {
        return -1;
    }

    *out = calloc(cJSON_GetArraySize(list) + 1, sizeof(char *));
    if (*out == NULL) {
        return -1;
    }

    k = 0;

    cJSON_ArrayForEach(e, list) {
        if (!cJSON_IsString(e)) {
            *n = k;
            return -1;
        }

        (*out)[k] = strdup(e->valuestring);
        if ((*out)[k] == NULL) {
            *n = k;
            return -1;
        }

        k++;
    }

    *n = k;

    return 0;
}


static int
llm_fallbacks_known(const char *name, const char *const *known,
    size_t nknown)
{
    size_t  i;

    for (i = 0; i < nknown; i++) {
        if (strcmp(known[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


/*
 * A depth-first walk; done[] marks groups whose every chain was walked
 * already, so each group is walked once and the check stays linear.
 */
static int
llm_fallbacks_loop(const llm_fallbacks_t *fb, const char *group,
    const char **path, size_t depth, char *done, char *err, size_t errlen)
{
    size_t                 i, j, len;
    const llm_fallback_t  *f;

    f = llm_fallbacks_find(fb, group);
    if (f == NULL || done[f - fb->items]) {
        return 0;
    }

    for (i = 0; i < f->nto; i++) {
        for (j = 0; j < depth; j++) {
            if (strcmp(path[j], f->to[i]) != 0) {
                continue;
            }

            /* names the loop: "a -> b -> a" */
            len = 0;
            err[0] = '\0';

            for ( /* void */ ; j < depth && len < errlen; j++) {
                len += snprintf(err + len, errlen - len, "%s -> ",
                                path[j]);
            }

            if (len < errlen) {
                snprintf(err + len, errlen - len, "%s: fallbacks loop",
                         f->to[i]);
            }

            return -1;
        }

        if (depth == 64) {
            snprintf(err, errlen, "fallbacks nest too deep");
            return -1;
        }

        path[depth] = f->to[i];

        if (llm_fallbacks_loop(fb, f->to[i], path, depth + 1, done, err,
                               errlen)
            != 0)
        {
            return -1;
        }
    }

    done[f - fb->items] = 1;

    return 0;
}


static const llm_fallback_t *
llm_fallbacks_find(const llm_fallbacks_t *fb, const char *group)
{
    size_t  i;

    for (i = 0; i < fb->n; i++) {
        if (strcmp(fb->items[i].group, group) == 0) {
            return &fb->items[i];
        }
    }

    return NULL;
}


size_t
llm_fallbacks_chain(const llm_fallbacks_t *fb, const char *group,
    size_t max, const char **out)
{
    size_t                 n, i;
    const llm_fallback_t  *f;

    n = 0;
    f = llm_fallbacks_find(fb, group);

    if (f == NULL) {
        /* default_fallbacks stand in for a group without its own */
        for (i = 0; i < fb->ndflt && n < max; i++) {
            if (strcmp(fb->dflt[i], group) != 0) {
                llm_fallbacks_walk(fb, fb->dflt[i], max, out, &n, group);
            }
        }

        return n;
    }

    for (i = 0; i < f->nto && n < max; i++) {
        llm_fallbacks_walk(fb, f->to[i], max, out, &n, group);
    }

    return n;
}


/* the group, then its own fallbacks, each group once */
static void
llm_fallbacks_walk(const llm_fallbacks_t *fb, const char *group, size_t max,
    const char **out, size_t *n, const char *start)
{
    size_t                 i;
    const llm_fallback_t  *f;

    if (*n >= max || strcmp(group, start) == 0) {
        return;
    }

    for (i = 0; i < *n; i++) {
        if (strcmp(out[i], group) == 0) {
            return;
        }
    }

    out[(*n)++] = group;

    f = llm_fallbacks_find(fb, group);

    for (i = 0; f && i < f->nto; i++) {
        llm_fallbacks_walk(fb, f->to[i], max, out, n, start);
    }
}


void
llm_fallbacks_free(llm_fallbacks_t *fb)
{
    size_t  i, j;

    for (i = 0; i < fb->n; i++) {
        for (j = 0; j < fb->items[i].nto; j++) {
            free(fb->items[i].to[j]);
        }

        free(fb->items[i].to);
        free(fb->items[i].group);
    }

    for (j = 0; j < fb->ndflt; j++) {
        free(fb->dflt[j]);
    }

    free(fb->dflt);
    free(fb->items);
    memset(fb, 0, sizeof(llm_fallbacks_t));
}


/* cooldowns */


int
llm_health_fail(llm_health_t *h, int64_t now_ms, uint32_t allowed_fails,
    int64_t cooldown_ms, int64_t retry_after_ms)
{
    int64_t  until;

    if (now_ms - h->window_start >= 60000 || now_ms < h->window_start) {
        h->window_start = now_ms;
        h->fails = 0;
    }

    h->fails++;

    if (retry_after_ms >= 0) {
        until = now_ms + retry_after_ms;

        if (until > h->cooldown_until) {
            h->cooldown_until = until;
        }

        return 1;
    }

    if (h->fails > allowed_fails) {
        h->cooldown_until = now_ms + cooldown_ms;
        h->fails = 0;
        h->window_start = now_ms;
        return 1;
    }

    return 0;
}


void
llm_health_ok(llm_health_t *h, int64_t now_ms)
{
    /* a success ends a cooldown that a probe or a retry ran into */
    if (h->cooldown_until > now_ms) {
        h->cooldown_until = 0;
    }
}


int
llm_health_cooling(const llm_health_t *h, int64_t now_ms)
{
    return now_ms < h->cooldown_until;
}


double
llm_ewma(double avg, double sample, double alpha)
{
    if (avg <= 0) {
        return sample;
    }

    return alpha * sample + (1 - alpha) * avg;
}


/* router settings */


static const cJSON *llm_router_get(const cJSON *router, const cJSON *litellm,
    const char *key);
static int llm_router_number(const cJSON *router, const cJSON *litellm,
    const char *key, double dflt, double *out, char *err, size_t errlen);


int
llm_router_settings_load(const cJSON *router, const cJSON *litellm,
    const char *const *known, size_t nknown, llm_router_settings_t *rs,
    char *err, size_t errlen)
{
    int           strategy;
    double        v;
    const cJSON  *s;
    char          sub[512];

    memset(rs, 0, sizeof(llm_router_settings_t));

    s = llm_router_get(router, litellm, "routing_strategy");

    if (s && !cJSON_IsNull(s) && !cJSON_IsString(s)) {
        snprintf(err, errlen, "router_settings: routing_strategy must be a "
                 "string");
        return -1;
    }

    strategy = llm_route_strategy(cJSON_IsString(s) ? s->valuestring : NULL);

    if (strategy < 0) {
        snprintf(err, errlen, "router_settings: unknown routing_strategy "
                 "\"%s\"", s->valuestring);
        return -1;
    }

    rs->strategy = strategy;

    if (llm_router_number(router, litellm, "num_retries",
                          LLM_ROUTER_DEFAULT_RETRIES, &v, err, errlen) != 0)
    {
        return -1;
    }

    rs->num_retries = (int) v;

    if (llm_router_number(router, litellm, "allowed_fails",
                          LLM_ROUTER_DEFAULT_FAILS, &v, err, errlen) != 0)
    {
        return -1;
    }

    rs->allowed_fails = (unsigned) v;

    if (llm_router_number(router, litellm, "max_fallbacks",
                          LLM_ROUTER_DEFAULT_FALLBACKS, &v, err, errlen) != 0
        || llm_router_number(router, litellm, "cooldown_time",
                             LLM_ROUTER_DEFAULT_COOLDOWN, &rs->cooldown_time,
                             err, errlen) != 0
        || llm_router_number(router, litellm, "stream_timeout", 0,
                             &rs->stream_timeout, err, errlen) != 0)
    {
        return -1;
    }

    rs->max_fallbacks = (size_t) v;

    /* LiteLLM spells the total timeout both ways */
    if (llm_router_number(router, litellm, "timeout", 0, &rs->timeout,
                          err, errlen) != 0
        || (rs->timeout == 0
            && llm_router_number(router, litellm, "request_timeout", 0,
                                 &rs->timeout, err, errlen) != 0))
    {
        return -1;
    }

    rs->disable_cooldowns =
        cJSON_IsTrue(llm_router_get(router, litellm, "disable_cooldowns"));

    if (llm_fallbacks_parse(llm_router_get(router, litellm, "fallbacks"),
                            llm_router_get(router, litellm,
                                           "default_fallbacks"),
                            known, nknown, &rs->fallbacks, sub, sizeof(sub))
        != 0
        || llm_fallbacks_parse(llm_router_get(router, litellm,
                                              "context_window_fallbacks"),
                               NULL, known, nknown, &rs->context_fallbacks,
                               sub, sizeof(sub)) != 0
        || llm_fallbacks_parse(llm_router_get(router, litellm,
                                              "content_policy_fallbacks"),
                               NULL, known, nknown, &rs->policy_fallbacks,
                               sub, sizeof(sub)) != 0)
    {
        snprintf(err, errlen, "router_settings: %s", sub);
        return -1;
    }

    s = llm_router_get(router, litellm, "model_group_alias");

    if (s && !cJSON_IsNull(s)) {
        if (!cJSON_IsObject(s)) {
            snprintf(err, errlen, "router_settings: model_group_alias must "
                     "be a map of alias: model_name");
            return -1;
        }

        rs->aliases = cJSON_Duplicate(s, 1);
        if (rs->aliases == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    return 0;
}


/* router_settings wins over litellm_settings */
static const cJSON *
llm_router_get(const cJSON *router, const cJSON *litellm, const char *key)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(router, key);
    if (v && !cJSON_IsNull(v)) {
        return v;
    }

    return cJSON_GetObjectItemCaseSensitive(litellm, key);
}


static int
llm_router_number(const cJSON *router, const cJSON *litellm,
    const char *key, double dflt, double *out, char *err, size_t errlen)
{
    char          *end;
    const cJSON  *v;

    v = llm_router_get(router, litellm, key);

    if (v == NULL || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }

    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;

    } else if (cJSON_IsString(v)) {
        *out = strtod(v->valuestring, &end);

        if (end == v->valuestring || *end != '\0') {
            goto invalid;
        }

    } else {
        goto invalid;
    }

    /* strtod() takes "nan" and "inf", which no setting can mean */
    if (!isfinite(*out) || *out < 0 || *out > 1e9) {
        goto invalid;
    }

    return 0;

invalid:

    snprintf(err, errlen, "router_settings: %s must be a non-negative "
             "number", key);
    return -1;
}


void
llm_router_settings_free(llm_router_settings_t *rs)
{
    llm_fallbacks_free(&rs->fallbacks);
    llm_fallbacks_free(&rs->context_fallbacks);
    llm_fallbacks_free(&rs->policy_fallbacks);
    cJSON_Delete(rs->aliases);
    rs->aliases = NULL;
}


const char *
llm_router_alias(const llm_router_settings_t *rs, const char *name,
    int *hidden)
{
    const cJSON  *a, *m;

    *hidden = 0;

    a = cJSON_GetObjectItemCaseSensitive(rs->aliases, name);

    if (cJSON_IsString(a)) {
        return a->valuestring;
    }

    /* {"model": "gpt-4o", "hidden": true} */
    m = cJSON_GetObjectItemCaseSensitive(a, "model");

    if (cJSON_IsString(m)) {
        *hidden = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "hidden"));
        return m->valuestring;
    }

    return NULL;
}
