
/*
 * Copyright (C) ngx_llm authors
 *
 * LiteLLM's health endpoints.  /health/liveliness and /health/readiness
 * answer at once; /health sends every deployment a one-token request,
 * all in parallel and bounded in time, and reports which answered.  With
 * general_settings.background_health_checks one worker at a time probes
 * on a timer, and the verdicts feed the cooldowns.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


typedef struct {
    ngx_http_request_t            *request;       /* NULL: nobody waits */
    ngx_http_llm_main_conf_t      *lmcf;
    ngx_http_llm_deploy_t         *deploy;
    ngx_http_llm_health_result_t  *result;
    ngx_uint_t                    *pending;
    llm_call_t                     call;
    cJSON                         *body;
} ngx_http_llm_probe_t;


static ngx_int_t ngx_http_llm_health_probe(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, ngx_log_t *log, ngx_http_request_t *r,
    ngx_http_llm_health_result_t *result, ngx_uint_t *pending,
    ngx_http_llm_probe_t **out);
static void ngx_http_llm_probe_cleanup(void *data);
static void ngx_http_llm_probe_done(ngx_http_llm_fetch_t *f);
static void ngx_http_llm_health_cleanup(void *data);
static ngx_int_t ngx_http_llm_health_respond(ngx_http_request_t *r);
static cJSON *ngx_http_llm_health_endpoint(ngx_http_llm_deploy_t *d);
static void ngx_http_llm_health_timer(ngx_event_t *ev);


#define NGX_HTTP_LLM_PROBE_TIMEOUT  10000


ngx_int_t
ngx_http_llm_health_static(ngx_http_request_t *r, ngx_uint_t ready)
{
    ngx_int_t  rc;
    ngx_str_t  json;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ready) {
        ngx_str_set(&json, "{\"status\":\"healthy\",\"db\":\"Not connected\","
                    "\"cache\":null,\"litellm_version\":\"ngx_llm/"
                    NGX_HTTP_LLM_VERSION "\",\"success_callbacks\":[]}");

    } else {
        ngx_str_set(&json, "\"I'm alive!\"");
    }

    return ngx_http_llm_send_json(r, NGX_HTTP_OK, json.data, json.len);
}


ngx_int_t
ngx_http_llm_health(ngx_http_request_t *r)
{
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_str_t                   model;
    ngx_uint_t                  i, n;
    ngx_pool_cleanup_t         *cln;
    ngx_http_llm_ctx_t         *ctx;
    ngx_http_llm_probe_t      **pp;
    ngx_http_llm_deploy_t      *d, **dp;
    ngx_http_llm_health_t      *h;
    ngx_http_llm_main_conf_t   *lmcf;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_module);
    ctx = ngx_http_llm_get_ctx(r);

    h = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_health_t));
    if (ctx == NULL || h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->health = h;
    n = lmcf->deploys.nelts;
    d = lmcf->deploys.elts;

    if (ngx_array_init(&h->probes, r->pool, n ? n : 1, sizeof(void *))
        != NGX_OK
        || ngx_array_init(&h->deploys, r->pool, n ? n : 1, sizeof(void *))
           != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->results = ngx_pcalloc(r->pool,
                             (n ? n : 1) * sizeof(ngx_http_llm_health_result_t));
    if (h->results == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /* LiteLLM's /health?model=<model_name> */
    if (ngx_http_arg(r, (u_char *) "model", 5, &model) != NGX_OK) {
        model.len = 0;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_llm_health_cleanup;
    cln->data = h;

    for (i = 0; i < n; i++) {
        p = (u_char *) d[i].dep->model_name;

        if (model.len
            && (ngx_strlen(p) != model.len
                || ngx_strncmp(p, model.data, model.len) != 0))
        {
            continue;
        }

        dp = ngx_array_push(&h->deploys);
        pp = ngx_array_push(&h->probes);
        if (dp == NULL || pp == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        *dp = &d[i];
        *pp = NULL;

        h->pending++;

        if (ngx_http_llm_health_probe(lmcf, &d[i], r->connection->log, r,
                                      &h->results[h->deploys.nelts - 1],
                                      &h->pending, pp)
            != NGX_OK)
        {
            h->pending--;
        }
    }

    if (h->pending == 0) {
        return ngx_http_llm_health_respond(r);
    }

    /* the last probe to answer finishes the request */
    r->main->count++;

    return NGX_DONE;
}


/*
 * One probe.  Returns NGX_DECLINED when the verdict is known at once
 * (it is in result), NGX_OK when a fetch is under way.
 */
static ngx_int_t
ngx_http_llm_health_probe(ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, ngx_log_t *log, ngx_http_request_t *r,
    ngx_http_llm_health_result_t *result, ngx_uint_t *pending,
    ngx_http_llm_probe_t **out)
{
    cJSON                 *msgs, *m;
    llm_error_t            err;
    ngx_pool_cleanup_t    *cln;
    ngx_http_llm_fetch_t  *f;
    ngx_http_llm_probe_t  *probe;

    f = ngx_http_llm_fetch_create(log);
    if (f == NULL) {
        ngx_cpystrn(result->error, (u_char *) "out of memory",
                    sizeof(result->error));
        return NGX_DECLINED;
    }

    probe = ngx_pcalloc(f->pool, sizeof(ngx_http_llm_probe_t));
    cln = ngx_pool_cleanup_add(f->pool, 0);

    if (probe == NULL || cln == NULL) {
        goto failed;
    }

    probe->request = r;
    probe->lmcf = lmcf;
    probe->deploy = d;
    probe->result = result;
    probe->pending = pending;

    cln->handler = ngx_http_llm_probe_cleanup;
    cln->data = probe;

    /* the smallest request the provider answers */
    probe->body = cJSON_CreateObject();
    if (probe->body == NULL) {
        goto failed;
    }

    cJSON_AddStringToObject(probe->body, "model", d->dep->model_name);

    if (d->dep->mode_embedding) {
        probe->call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
        cJSON_AddStringToObject(probe->body, "input", "ping");

    } else {
        msgs = cJSON_AddArrayToObject(probe->body, "messages");
        m = cJSON_CreateObject();

        if (msgs == NULL || m == NULL) {
            cJSON_Delete(m);
            goto failed;
        }

        cJSON_AddItemToArray(msgs, m);
        cJSON_AddStringToObject(m, "role", "user");
        cJSON_AddStringToObject(m, "content", "ping");
        cJSON_AddNumberToObject(probe->body, "max_tokens", 1);
    }

    probe->call.dep = d->dep;
    probe->call.req = probe->body;
    probe->call.model_name = d->dep->model_name;
    probe->call.drop_params = 1;
    probe->call.created = (long long) ngx_time();
    probe->call.now = ngx_time();
    llm_mint_id(probe->call.id, sizeof(probe->call.id), "chatcmpl-");

    f->request = ngx_http_llm_request_buf(f->pool, d, &probe->call, 1, &err);

    if (f->request == NULL) {
        ngx_snprintf(result->error, sizeof(result->error) - 1, "%s%Z",
                     err.message);
        ngx_destroy_pool(f->pool);
        return NGX_DECLINED;
    }

    f->addr = &d->addrs[0];
    f->ssl_name = d->ssl_name;
    f->tls = d->tls;
#if (NGX_HTTP_SSL)
    f->ssl = lmcf->ssl;
#endif
    f->timeout = NGX_HTTP_LLM_PROBE_TIMEOUT;
    f->handler = ngx_http_llm_probe_done;
    f->data = probe;

    *out = probe;

    ngx_http_llm_fetch_start(f);

    return NGX_OK;

failed:

    ngx_cpystrn(result->error, (u_char *) "out of memory",
                sizeof(result->error));
    ngx_destroy_pool(f->pool);

    return NGX_DECLINED;
}


static void
ngx_http_llm_probe_cleanup(void *data)
{
    ngx_http_llm_probe_t  *probe = data;

    cJSON_Delete(probe->body);
}


static void
ngx_http_llm_probe_done(ngx_http_llm_fetch_t *f)
{
    ngx_http_llm_probe_t  *probe = f->data;

    ngx_int_t                      rc;
    llm_error_t                    err;
    ngx_http_request_t            *r;
    ngx_http_llm_slot_t           *slot;
    const llm_adapter_t           *a;
    ngx_http_llm_health_result_t   res;

    ngx_memzero(&res, sizeof(res));

    if (f->status / 100 == 2) {
        res.ok = 1;

    } else if (f->status == 0) {
        ngx_snprintf(res.error, sizeof(res.error) - 1, "%s%Z", f->error);

    } else {
        a = llm_adapter_get(probe->deploy->dep->provider);
        a->parse_error(&probe->call, (int) f->status, f->body.data,
                       f->body.len, &err);
        ngx_snprintf(res.error, sizeof(res.error) - 1, "%s%Z", err.message);
    }

    slot = ngx_http_llm_state_slot(probe->lmcf, probe->deploy);

    if (slot) {
        if (res.ok) {
            ngx_http_llm_state_probe(probe->lmcf, slot, 1);

        } else {
            (void) ngx_http_llm_state_fail(probe->lmcf, slot, -1);
        }
    }

    if (!res.ok) {
        ngx_log_error(NGX_LOG_WARN, f->log, 0,
                      "llm: health check of deployment \"%s\" of model "
                      "\"%s\" failed: %s", probe->deploy->dep->id,
                      probe->deploy->dep->model_name, res.error);
    }

    r = probe->request;

    if (r == NULL) {
        return;
    }

    *probe->result = res;

    if (--(*probe->pending)) {
        return;
    }

    rc = ngx_http_llm_health_respond(r);

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(r->connection);
}


/* the request went away: its probes answer to nobody */
static void
ngx_http_llm_health_cleanup(void *data)
{
    ngx_http_llm_health_t  *h = data;

    ngx_uint_t              i;
    ngx_http_llm_probe_t  **pp;

    pp = h->probes.elts;

    for (i = 0; i < h->probes.nelts; i++) {
        if (pp[i]) {
            pp[i]->request = NULL;
        }
    }
}


static ngx_int_t
ngx_http_llm_health_respond(ngx_http_request_t *r)
{
    char                    *json;
    cJSON                   *root, *ok, *bad, *e;
    ngx_str_t                s;
    ngx_uint_t               i, nok, nbad;
    ngx_http_llm_ctx_t      *ctx;
    ngx_http_llm_deploy_t  **dp;
    ngx_http_llm_health_t   *h;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);
    h = ctx->health;
    dp = h->deploys.elts;

    root = cJSON_CreateObject();
    if (root == NULL || ngx_http_llm_add_cleanup_json(r->pool, root)
                        != NGX_OK)
    {
        cJSON_Delete(root);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ok = cJSON_AddArrayToObject(root, "healthy_endpoints");
    bad = cJSON_AddArrayToObject(root, "unhealthy_endpoints");
    nok = 0;
    nbad = 0;

    for (i = 0; ok && bad && i < h->deploys.nelts; i++) {
        e = ngx_http_llm_health_endpoint(dp[i]);
        if (e == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (h->results[i].ok) {
            cJSON_AddItemToArray(ok, e);
            nok++;

        } else {
            cJSON_AddStringToObject(e, "error",
                                    (char *) h->results[i].error);
            cJSON_AddItemToArray(bad, e);
            nbad++;
        }
    }

    cJSON_AddNumberToObject(root, "healthy_count", (double) nok);
    cJSON_AddNumberToObject(root, "unhealthy_count", (double) nbad);

    json = cJSON_PrintUnformatted(root);
    if (json == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s.len = ngx_strlen(json);
    s.data = ngx_pnalloc(r->pool, s.len);

    if (s.data == NULL) {
        free(json);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(s.data, json, s.len);
    free(json);

    return ngx_http_llm_send_json(r, NGX_HTTP_OK, s.data, s.len);
}


/* what LiteLLM lists of an endpoint, without any secret */
static cJSON *
ngx_http_llm_health_endpoint(ngx_http_llm_deploy_t *d)
{
    cJSON  *e;
    u_char  base[512], *p;

    e = cJSON_CreateObject();
    if (e == NULL) {
        return NULL;
    }

    p = ngx_snprintf(base, sizeof(base) - 1, "%s://%V%s",
                     d->tls ? "https" : "http", &d->name, d->dep->base.path);
    *p = '\0';

    cJSON_AddStringToObject(e, "model", d->dep->model);
    cJSON_AddStringToObject(e, "model_name", d->dep->model_name);
    cJSON_AddStringToObject(e, "model_id", d->dep->id);
    cJSON_AddStringToObject(e, "api_base", (char *) base);

    return e;
}


/* background health checks: one worker at a time, on a timer */


ngx_int_t
ngx_http_llm_health_init_process(ngx_cycle_t *cycle,
    ngx_http_llm_main_conf_t *lmcf)
{
    double        interval;
    const cJSON  *gs, *v;

    gs = lmcf->cfg->general_settings;

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                          gs, "background_health_checks")))
    {
        return NGX_OK;
    }

    v = cJSON_GetObjectItemCaseSensitive(gs, "health_check_interval");
    interval = cJSON_IsNumber(v) && v->valuedouble > 0 ? v->valuedouble
                                                         : 300;

    lmcf->health_interval = (ngx_msec_t) (interval * 1000);

    lmcf->health_timer.handler = ngx_http_llm_health_timer;
    lmcf->health_timer.data = lmcf;
    lmcf->health_timer.log = cycle->log;
    lmcf->health_timer.cancelable = 1;

    /* soon after start, then every interval */
    ngx_add_timer(&lmcf->health_timer, 1000 + ngx_random() % 1000);

    return NGX_OK;
}


static void
ngx_http_llm_health_timer(ngx_event_t *ev)
{
    int64_t                    now;
    ngx_uint_t                 i, mine;
    ngx_http_llm_probe_t      *probe;
    ngx_http_llm_deploy_t     *d;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ev->data;

    if (ngx_exiting || ngx_terminate) {
        return;
    }

    now = (int64_t) ngx_current_msec;
    mine = 0;

    /* whoever finds the round due takes it; the others wait for the next */
    ngx_shmtx_lock(&lmcf->shpool->mutex);

    if (lmcf->sh->health_next <= now) {
        lmcf->sh->health_next = now + lmcf->health_interval;
        mine = 1;
    }

    ngx_shmtx_unlock(&lmcf->shpool->mutex);

    if (mine) {
        d = lmcf->deploys.elts;

        for (i = 0; i < lmcf->deploys.nelts; i++) {
            if (ngx_http_llm_health_probe(lmcf, &d[i], ev->log, NULL,
                                          &lmcf->health_result, NULL,
                                          &probe)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                              "llm: health check of deployment \"%s\" "
                              "could not start: %s", d[i].dep->id,
                              lmcf->health_result.error);
            }
        }
    }

    ngx_add_timer(ev, lmcf->health_interval);
}
