
/*
 * Copyright (C) ngx_llm authors
 *
 * llm_config: loads the LiteLLM model file in the master at configuration
 * time, resolves each deployment's address and groups deployments by
 * model_name.  Everything here is read-only once workers start, but for
 * the addresses of host names when there is a "resolver"
 * (ngx_http_llm_resolve.c).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static void ngx_http_llm_config_log(void *data, int level, const char *msg);
static void ngx_http_llm_config_cleanup(void *data);
#if (NGX_HTTP_SSL)
static void ngx_http_llm_sessions_cleanup(void *data);
#endif
static ngx_int_t ngx_http_llm_init_deploy(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_http_llm_deploy_t *d,
    llm_deployment_t *dep);
static ngx_int_t ngx_http_llm_add_to_group(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf, ngx_uint_t i);
static ngx_int_t ngx_http_llm_build_models_json(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);


char *
ngx_http_llm_config(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    char                 err[1024];
    ngx_str_t           *value;
    ngx_pool_cleanup_t  *cln;

    if (lmcf->cfg != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lmcf->config_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &lmcf->config_file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    /* the master's environment holds os.environ/NAME values */
    lmcf->cfg = llm_config_load_file((char *) lmcf->config_file.data, NULL,
                                     ngx_http_llm_config_log, cf,
                                     err, sizeof(err));

    if (lmcf->cfg == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "llm_config: %s", err);
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_llm_config_cleanup;
    cln->data = lmcf->cfg;

    return NGX_CONF_OK;
}


static void
ngx_http_llm_config_log(void *data, int level, const char *msg)
{
    ngx_conf_t *cf = data;

    ngx_conf_log_error(level == LLM_LOG_WARN ? NGX_LOG_WARN : NGX_LOG_NOTICE,
                       cf, 0, "llm_config: %s", msg);
}


static void
ngx_http_llm_config_cleanup(void *data)
{
    llm_config_free(data);
}


#if (NGX_HTTP_SSL)

/*
 * A worker keeps each deployment's last TLS session for the next
 * connection; it goes with the cycle's pool, at exit or after a reload
 */
static void
ngx_http_llm_sessions_cleanup(void *data)
{
    ngx_array_t *deploys = data;

    ngx_uint_t              i;
    ngx_http_llm_deploy_t  *d;

    d = deploys->elts;

    for (i = 0; i < deploys->nelts; i++) {
        if (d[i].ssl_session) {
            ngx_ssl_free_session(d[i].ssl_session);
            d[i].ssl_session = NULL;
        }
    }
}

#endif


ngx_int_t
ngx_http_llm_config_init(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    size_t                  i;
    llm_config_t           *cfg;
    ngx_http_llm_deploy_t  *d;
#if (NGX_HTTP_SSL)
    ngx_pool_cleanup_t     *cln;
#endif

    cfg = lmcf->cfg;

    if (ngx_array_init(&lmcf->deploys, cf->pool, cfg->ndeps ? cfg->ndeps : 1,
                       sizeof(ngx_http_llm_deploy_t))
        != NGX_OK
        || ngx_array_init(&lmcf->groups, cf->pool, 8,
                          sizeof(ngx_http_llm_group_t))
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    for (i = 0; i < cfg->ndeps; i++) {
        d = ngx_array_push(&lmcf->deploys);
        if (d == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_llm_init_deploy(cf, lmcf, d, &cfg->deps[i]) != NGX_OK) {
            return NGX_ERROR;
        }
    }

#if (NGX_HTTP_SSL)
    /* the array does not move from here on: groups point into it */
    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_llm_sessions_cleanup;
    cln->data = &lmcf->deploys;
#endif

    /* groups point into deploys, so they are made once it stops growing */
    for (i = 0; i < cfg->ndeps; i++) {
        if (ngx_http_llm_add_to_group(cf, lmcf, i) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_llm_router_init(cf, lmcf) != NGX_OK
        || ngx_http_llm_auth_init(cf, lmcf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_llm_build_models_json(cf, lmcf);
}


static ngx_int_t
ngx_http_llm_init_deploy(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_http_llm_deploy_t *d, llm_deployment_t *dep)
{
    int          dflt;
    size_t       hlen;
    ngx_url_t    u;
    u_char      *p;
    ngx_flag_t   v6;

    ngx_memzero(d, sizeof(ngx_http_llm_deploy_t));

    d->dep = dep;
    d->tls = dep->base.tls ? 1 : 0;
    d->weight = dep->weight > 0 ? (ngx_uint_t) dep->weight : 1;

    hlen = ngx_strlen(dep->base.host);
    v6 = ngx_strlchr((u_char *) dep->base.host,
                     (u_char *) dep->base.host + hlen, ':') != NULL;
    dflt = dep->base.port == (d->tls ? 443 : 80);

    /* "[v6]:port", as in a URL; the Host header omits a default port */
    p = ngx_pnalloc(cf->pool, 2 * (hlen + sizeof("[]:65535")));
    if (p == NULL) {
        return NGX_ERROR;
    }

    d->name.data = p;
    d->name.len = ngx_sprintf(p, v6 ? "[%s]:%d" : "%s:%d", dep->base.host,
                              dep->base.port) - p;

    d->host.data = d->name.data + d->name.len;
    d->host.len = (dflt ? ngx_sprintf(d->host.data, v6 ? "[%s]" : "%s",
                                      dep->base.host)
                        : ngx_cpymem(d->host.data, d->name.data,
                                     d->name.len))
                  - d->host.data;

    /* x-litellm-model-api-base */
    d->api_base.len = sizeof("https://") - 1 + d->name.len
                      + ngx_strlen(dep->base.path);
    d->api_base.data = ngx_pnalloc(cf->pool, d->api_base.len);
    if (d->api_base.data == NULL) {
        return NGX_ERROR;
    }

    d->api_base.len = ngx_sprintf(d->api_base.data, "%s://%V%s",
                                  d->tls ? "https" : "http", &d->name,
                                  dep->base.path)
                      - d->api_base.data;

    /* x-litellm-model-id and x-litellm-model-group */
    d->id.data = (u_char *) dep->id;
    d->id.len = ngx_strlen(dep->id);
    d->model_name.data = (u_char *) dep->model_name;
    d->model_name.len = ngx_strlen(dep->model_name);

    /* the request headers that are the same on every call */
    d->fixed.len = sizeof("Host: " CRLF) - 1 + d->host.len
                   + sizeof(NGX_HTTP_LLM_FIXED_HEADERS) - 1;
    d->fixed.data = ngx_pnalloc(cf->pool, d->fixed.len);
    if (d->fixed.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(d->fixed.data, "Host: ", sizeof("Host: ") - 1);
    p = ngx_cpymem(p, d->host.data, d->host.len);
    ngx_memcpy(p, CRLF NGX_HTTP_LLM_FIXED_HEADERS,
               sizeof(CRLF NGX_HTTP_LLM_FIXED_HEADERS) - 1);

    d->ssl_name.data = (u_char *) dep->base.host;
    d->ssl_name.len = hlen;
    d->ip_literal = v6
                    || ngx_inet_addr((u_char *) dep->base.host, hlen)
                       != INADDR_NONE;

    /* with "resolver" the workers follow the name, ngx_http_llm_resolve.c */
    d->refresh = lmcf->resolver && !d->ip_literal;

    ngx_memzero(&u, sizeof(ngx_url_t));
    u.url = d->name;
    u.default_port = (in_port_t) dep->base.port;

    /*
     * resolved here, in the master, like proxy_pass hosts are; a name that
     * does not resolve fails only the calls to that model, until a worker
     * resolves it when there is a "resolver"
     */
    if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "llm_config: %V:%d: could not resolve \"%V\" for "
                           "model \"%s\" (%s); %s",
                           &lmcf->config_file, dep->line, &d->name,
                           dep->model_name, u.err ? u.err : "no address",
                           d->refresh ? "the workers will resolve it with "
                                        "\"resolver\""
                                      : "calls to it will fail");
        return NGX_OK;
    }

    d->addrs = u.addrs;
    d->naddrs = u.naddrs;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_add_to_group(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf,
    ngx_uint_t i)
{
    size_t                  len;
    ngx_uint_t              j, *idx;
    ngx_http_llm_group_t   *g;
    ngx_http_llm_deploy_t  *d;

    d = &((ngx_http_llm_deploy_t *) lmcf->deploys.elts)[i];
    len = ngx_strlen(d->dep->model_name);

    g = lmcf->groups.elts;

    for (j = 0; j < lmcf->groups.nelts; j++) {
        if (g[j].name.len == len
            && ngx_strncmp(g[j].name.data, d->dep->model_name, len) == 0)
        {
            break;
        }
    }

    if (j == lmcf->groups.nelts) {
        g = ngx_array_push(&lmcf->groups);
        if (g == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(g, sizeof(ngx_http_llm_group_t));
        g->name.data = (u_char *) d->dep->model_name;
        g->name.len = len;

        /* at most every deployment is in one group */
        g->deps = ngx_palloc(cf->pool,
                             lmcf->deploys.nelts * sizeof(ngx_uint_t));
        if (g->deps == NULL) {
            return NGX_ERROR;
        }

    } else {
        g = &g[j];
    }

    idx = &g->deps[g->ndeps++];
    *idx = i;
    g->total_weight += d->weight;

    return NGX_OK;
}


ngx_http_llm_group_t *
ngx_http_llm_find_group(ngx_http_llm_main_conf_t *lmcf, const char *name)
{
    int                    hidden;
    size_t                 len;
    ngx_uint_t             i;
    const char            *to;
    ngx_http_llm_group_t  *g;

    len = ngx_strlen(name);
    g = lmcf->groups.elts;

    for (i = 0; i < lmcf->groups.nelts; i++) {
        if (g[i].name.len == len
            && ngx_strncmp(g[i].name.data, name, len) == 0)
        {
            return &g[i];
        }
    }

    /* model_group_alias; aliases name groups, never other aliases */
    to = llm_router_alias(&lmcf->router, name, &hidden);

    if (to == NULL || ngx_strcmp(to, name) == 0) {
        return NULL;
    }

    len = ngx_strlen(to);

    for (i = 0; i < lmcf->groups.nelts; i++) {
        if (g[i].name.len == len && ngx_strncmp(g[i].name.data, to, len) == 0)
        {
            return &g[i];
        }
    }

    return NULL;
}


/* GET /v1/models never changes until the next reload: render it once */
static ngx_int_t
ngx_http_llm_build_models_json(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    int                     hidden;
    char                   *json;
    cJSON                  *root, *data, *m;
    ngx_uint_t              i;
    const cJSON            *a;
    ngx_http_llm_group_t   *g;
    ngx_http_llm_deploy_t  *d;

    root = cJSON_CreateObject();
    if (root == NULL) {
        return NGX_ERROR;
    }

    cJSON_AddStringToObject(root, "object", "list");
    data = cJSON_AddArrayToObject(root, "data");

    g = lmcf->groups.elts;

    for (i = 0; data && i < lmcf->groups.nelts; i++) {
        d = &((ngx_http_llm_deploy_t *) lmcf->deploys.elts)[g[i].deps[0]];

        m = cJSON_CreateObject();
        if (m == NULL) {
            break;
        }

        cJSON_AddItemToArray(data, m);
        cJSON_AddStringToObject(m, "id", d->dep->model_name);
        cJSON_AddStringToObject(m, "object", "model");
        cJSON_AddNumberToObject(m, "created", (double) ngx_time());
        cJSON_AddStringToObject(m, "owned_by",
                                llm_provider_name(d->dep->provider));
    }

    /* visible aliases are models too, owned like what they stand for */
    cJSON_ArrayForEach(a, lmcf->router.aliases) {
        g = ngx_http_llm_find_group(lmcf, a->string);

        if (data == NULL || g == NULL
            || llm_router_alias(&lmcf->router, a->string, &hidden) == NULL
            || hidden)
        {
            continue;
        }

        d = &((ngx_http_llm_deploy_t *) lmcf->deploys.elts)[g->deps[0]];

        m = cJSON_CreateObject();
        if (m == NULL) {
            break;
        }

        cJSON_AddItemToArray(data, m);
        cJSON_AddStringToObject(m, "id", a->string);
        cJSON_AddStringToObject(m, "object", "model");
        cJSON_AddNumberToObject(m, "created", (double) ngx_time());
        cJSON_AddStringToObject(m, "owned_by",
                                llm_provider_name(d->dep->provider));
    }

    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (json == NULL) {
        return NGX_ERROR;
    }

    lmcf->models_json.len = ngx_strlen(json);
    lmcf->models_json.data = ngx_pnalloc(cf->pool, lmcf->models_json.len);

    if (lmcf->models_json.data == NULL) {
        free(json);
        return NGX_ERROR;
    }

    ngx_memcpy(lmcf->models_json.data, json, lmcf->models_json.len);
    free(json);

    return NGX_OK;
}
