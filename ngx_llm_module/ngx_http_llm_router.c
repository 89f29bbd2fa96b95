
/*
 * Copyright (C) ngx_llm authors
 *
 * The plan of a call: which deployments to try, in which order, down
 * which fallback chain (LiteLLM's router_settings), and whether a failed
 * try deserves another.  The decisions are in adapters/llm_router.c;
 * this feeds them the shared-memory picture.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static void ngx_http_llm_router_cleanup(void *data);
static double ngx_http_llm_router_cost(llm_deployment_t *dep);
static double ngx_http_llm_random(void *data);
static void ngx_http_llm_plan_group(ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_group_t *g, ngx_uint_t gi);
static ngx_uint_t ngx_http_llm_plan_chain(ngx_http_llm_ctx_t *ctx,
    llm_fallbacks_t *fb, ngx_http_llm_group_t *from, ngx_uint_t gi);


ngx_int_t
ngx_http_llm_router_init(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    int                     hidden;
    char                    err[1024];
    const char            **known, *to;
    ngx_uint_t              i;
    const cJSON            *a;
    ngx_pool_cleanup_t     *cln;
    ngx_http_llm_group_t   *g;
    ngx_http_llm_deploy_t  *d;

    g = lmcf->groups.elts;

    known = ngx_palloc(cf->pool, (lmcf->groups.nelts + 1) * sizeof(char *));
    if (known == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < lmcf->groups.nelts; i++) {
        known[i] = (const char *) g[i].name.data;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    if (llm_router_settings_load(lmcf->cfg->router_settings,
                                 lmcf->cfg->litellm_settings, known,
                                 lmcf->groups.nelts, &lmcf->router,
                                 err, sizeof(err))
        != 0)
    {
        llm_router_settings_free(&lmcf->router);
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "llm_config: %V: %s",
                           &lmcf->config_file, err);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_llm_router_cleanup;
    cln->data = &lmcf->router;

    cJSON_ArrayForEach(a, lmcf->router.aliases) {
        to = llm_router_alias(&lmcf->router, a->string, &hidden);

        if (to == NULL
            || ngx_http_llm_find_group(lmcf, to) == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "llm_config: %V: model_group_alias \"%s\" "
                               "does not name a model_name of the model "
                               "list", &lmcf->config_file, a->string);
            return NGX_ERROR;
        }
    }

    d = lmcf->deploys.elts;

    for (i = 0; i < lmcf->deploys.nelts; i++) {
        d[i].cost = ngx_http_llm_router_cost(d[i].dep);
    }

    return NGX_OK;
}


static void
ngx_http_llm_router_cleanup(void *data)
{
    llm_router_settings_free(data);
}


/* cost-based routing: the deployment's own prices, input plus output */
static double
ngx_http_llm_router_cost(llm_deployment_t *dep)
{
    double        cost;
    cJSON        *src[2];
    ngx_uint_t    i;
    const cJSON  *in, *out;

    src[0] = dep->model_info;
    src[1] = dep->params;
    cost = 0;

    for (i = 0; i < 2 && cost == 0; i++) {
        in = cJSON_GetObjectItemCaseSensitive(src[i],
                                              "input_cost_per_token");
        out = cJSON_GetObjectItemCaseSensitive(src[i],
                                               "output_cost_per_token");

        if (cJSON_IsNumber(in)) {
            cost += in->valuedouble;
        }

        if (cJSON_IsNumber(out)) {
            cost += out->valuedouble;
        }
    }

    return cost;
}


static double
ngx_http_llm_random(void *data)
{
    return (double) (ngx_random() & 0x7fffffff) / 2147483648.0;
}


ngx_int_t
ngx_http_llm_plan(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_error_t *err)
{
    time_t                   left;
    u_char                  *p;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ctx->lmcf;
    ctx->nplan = 0;

    ngx_http_llm_plan_group(ctx, ctx->group, 0);
    (void) ngx_http_llm_plan_chain(ctx, &lmcf->router.fallbacks, ctx->group,
                                   1);

    if (ctx->nplan) {
        return NGX_OK;
    }

    left = ngx_http_llm_state_cooldown_left(lmcf, ctx->group);

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_llm_push(r, "Retry-After", p,
                          ngx_sprintf(p, "%T", left) - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    llm_error_set(err, NGX_HTTP_TOO_MANY_REQUESTS, "rate_limit_error",
                  "cooldown", NULL,
                  "All deployments of model \"%.*s\" are cooling down after "
                  "failures; retry in %d seconds",
                  (int) ctx->group->name.len, ctx->group->name.data,
                  (int) left);

    return NGX_DECLINED;
}


/* appends a group's deployments, best first, one per try it gets */
static void
ngx_http_llm_plan_group(ngx_http_llm_ctx_t *ctx, ngx_http_llm_group_t *g,
    ngx_uint_t gi)
{
    size_t                  order[NGX_HTTP_LLM_MAX_PLAN], n, k;
    ngx_int_t               retries;
    ngx_uint_t              i;
    llm_route_cand_t        cand[NGX_HTTP_LLM_MAX_PLAN];
    ngx_http_llm_deploy_t  *d;

    d = ctx->lmcf->deploys.elts;
    n = ngx_min(g->ndeps, NGX_HTTP_LLM_MAX_PLAN);

    for (i = 0; i < n; i++) {
        ngx_http_llm_state_candidate(ctx->lmcf, &d[g->deps[i]], &cand[i]);
    }

    k = llm_route_order(ctx->lmcf->router.strategy, cand, n, order, 0.1,
                        ngx_http_llm_random, NULL);

    if (k == 0) {
        return;
    }

    /* x-litellm-num-retries, then the deployment's, then the router's */
    retries = ctx->retries != NGX_CONF_UNSET_UINT
              ? (ngx_int_t) ctx->retries
              : d[g->deps[order[0]]].dep->num_retries >= 0
              ? d[g->deps[order[0]]].dep->num_retries
              : ctx->lmcf->router.num_retries;

    for (i = 0; i <= (ngx_uint_t) retries
                && ctx->nplan < NGX_HTTP_LLM_MAX_PLAN; i++)
    {
        ctx->plan[ctx->nplan].deploy = g->deps[order[i % k]];
        ctx->plan[ctx->nplan].group = gi;
        ctx->nplan++;
    }
}


/* the fallback groups of "from", after the plan so far */
static ngx_uint_t
ngx_http_llm_plan_chain(ngx_http_llm_ctx_t *ctx, llm_fallbacks_t *fb,
    ngx_http_llm_group_t *from, ngx_uint_t gi)
{
    size_t                 n, i;
    const char            *names[NGX_HTTP_LLM_MAX_PLAN];
    ngx_http_llm_group_t  *g;

    n = llm_fallbacks_chain(fb, (const char *) from->name.data,
                            ngx_min(ctx->lmcf->router.max_fallbacks,
                                    NGX_HTTP_LLM_MAX_PLAN),
                            names);

    for (i = 0; i < n; i++) {
        g = ngx_http_llm_find_group(ctx->lmcf, names[i]);

        if (g) {
            ngx_http_llm_plan_group(ctx, g, gi++);
        }
    }

    return n;
}


/*
 * After a failed try: NGX_OK to try again (the plan may have changed),
 * NGX_DECLINED to answer with this error.
 */
ngx_int_t
ngx_http_llm_retry(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    const llm_error_t *err)
{
    ngx_uint_t              gi, n;
    llm_fallbacks_t        *fb;
    ngx_http_llm_group_t   *from;
    ngx_http_llm_deploy_t  *d;

    fb = NULL;

    if (ngx_strcmp(err->code, "context_length_exceeded") == 0) {
        fb = &ctx->lmcf->router.context_fallbacks;

    } else if (ngx_strcmp(err->code, "content_filter") == 0
               || ngx_strcmp(err->code, "content_policy_violation") == 0)
    {
        fb = &ctx->lmcf->router.policy_fallbacks;
    }

    if (fb) {
        /* a bigger (or laxer) model, not the same one again */
        d = &((ngx_http_llm_deploy_t *) ctx->lmcf->deploys.elts)
                                       [ctx->plan[ctx->attempt].deploy];
        from = ngx_http_llm_find_group(ctx->lmcf, d->dep->model_name);
        gi = ctx->plan[ctx->attempt].group + 1;

        ctx->nplan = ctx->attempt + 1;
        n = ngx_http_llm_plan_chain(ctx, fb, from, gi);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm: model \"%V\": %s; %ui fallback group(s) "
                      "for it", &from->name, err->code, n);

    } else if (err->status != NGX_HTTP_TOO_MANY_REQUESTS
               && err->status < NGX_HTTP_INTERNAL_SERVER_ERROR)
    {
        return NGX_DECLINED;
    }

    if (ctx->attempt + 1 >= ctx->nplan) {
        return NGX_DECLINED;
    }

    /* ngx_http_llm_free_peer() takes one, and the next try starts */
    r->upstream->peer.tries = ctx->nplan - ctx->attempt;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_litellm_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    u_char                 *p, *n;
    ngx_uint_t              i, retries, fallbacks;
    ngx_http_llm_try_t     *t;
    ngx_http_llm_deploy_t  *d;

    if (ctx->deploy == NULL) {
        return NGX_OK;
    }

    d = ctx->deploy;
    /* after the last failed try attempt is past the plan */
    t = &ctx->plan[ngx_min(ctx->attempt, ctx->nplan - 1)];
    retries = 0;
    fallbacks = 0;

    for (i = 0; i < (ngx_uint_t) (t - ctx->plan); i++) {
        if (ctx->plan[i].group == t->group) {
            retries++;
        }
    }

    /*
     * groups are numbered down the chain, also those that had nothing
     * to try (all cooling down): the answering group's number is how
     * far the call fell back
     */
    fallbacks = t->group;

    p = ngx_pnalloc(r->pool, 2 * NGX_INT_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (ngx_http_llm_push(r, "x-litellm-model-id", d->id.data, d->id.len)
           != NGX_OK
        || ngx_http_llm_push(r, "x-litellm-model-group", d->model_name.data,
                             d->model_name.len) != NGX_OK
        || ngx_http_llm_push(r, "x-litellm-model-api-base", d->api_base.data,
                             d->api_base.len) != NGX_OK)
    {
        return NGX_ERROR;
    }

    n = ngx_http_llm_decimal(p, retries);

    if (ngx_http_llm_push(r, "x-litellm-attempted-retries", p, n - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = n;
    n = ngx_http_llm_decimal(p, fallbacks);

    if (ngx_http_llm_push(r, "x-litellm-attempted-fallbacks", p, n - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_llm_provider_headers(r, ctx);
}



/* the same deployment once more, right after this try */
ngx_int_t
ngx_http_llm_retry_same(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_uint_t  i;

    if (ctx->nplan == NGX_HTTP_LLM_MAX_PLAN) {
        ctx->nplan--;
    }

    for (i = ctx->nplan; i > ctx->attempt + 1; i--) {
        ctx->plan[i] = ctx->plan[i - 1];
    }

    ctx->plan[ctx->attempt + 1] = ctx->plan[ctx->attempt];
    ctx->nplan++;

    r->upstream->peer.tries = ctx->nplan - ctx->attempt;

    return NGX_OK;
}
