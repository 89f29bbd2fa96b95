
/*
 * Copyright (C) ngx_llm authors
 *
 * Directives and configuration of the LLM gateway: an OpenAI-compatible
 * endpoint (llm_pass) in front of the providers of a LiteLLM model file
 * (llm_config).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static void *ngx_http_llm_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_llm_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_llm_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_llm_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_llm_pass(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_llm_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_llm_init_process(ngx_cycle_t *cycle);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_llm_init_ssl(ngx_conf_t *cf,
    ngx_http_llm_main_conf_t *lmcf);
#endif


static ngx_command_t  ngx_http_llm_commands[] = {

    { ngx_string("llm_config"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_llm_config,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_pass"),
      NGX_HTTP_LOC_CONF|NGX_HTTP_LIF_CONF|NGX_CONF_NOARGS,
      ngx_http_llm_pass,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("llm_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, trusted_certificate),
      NULL },

    { ngx_string("llm_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, keepalive),
      NULL },

    { ngx_string("llm_keepalive_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, keepalive_timeout),
      NULL },

    { ngx_string("llm_keepalive_requests"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, keepalive_requests),
      NULL },

    { ngx_string("llm_zone_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, zone_size),
      NULL },

    { ngx_string("llm_resolver_refresh"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_llm_main_conf_t, resolver_refresh),
      NULL },

    { ngx_string("llm_connect_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, upstream.connect_timeout),
      NULL },

    { ngx_string("llm_send_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, upstream.send_timeout),
      NULL },

    { ngx_string("llm_read_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, upstream.read_timeout),
      NULL },

    { ngx_string("llm_buffer_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, upstream.buffer_size),
      NULL },

    { ngx_string("llm_max_response_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_llm_loc_conf_t, max_response_size),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_llm_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_llm_postconfiguration,        /* postconfiguration */

    ngx_http_llm_create_main_conf,         /* create main configuration */
    ngx_http_llm_init_main_conf,           /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_llm_create_loc_conf,          /* create location configuration */
    ngx_http_llm_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_llm_module = {
    NGX_MODULE_V1,
    &ngx_http_llm_module_ctx,              /* module context */
    ngx_http_llm_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_llm_init_process,             /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_llm_hide_headers[] = {
    ngx_null_string
};


static void *
ngx_http_llm_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_main_conf_t));
    if (lmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lmcf->config_file = { 0, NULL };
     *     lmcf->cfg = NULL;
     *     lmcf->trusted_certificate = { 0, NULL };
     *     lmcf->models_json = { 0, NULL };
     *     lmcf->upstream = NULL;
     *     lmcf->used = 0;
     *     lmcf->resolver = NULL;
     *     lmcf->rhosts = NULL;
     *     lmcf->nrhosts = 0;
     */

    lmcf->keepalive = NGX_CONF_UNSET_UINT;
    lmcf->keepalive_timeout = NGX_CONF_UNSET_MSEC;
    lmcf->keepalive_requests = NGX_CONF_UNSET_UINT;
    lmcf->zone_size = NGX_CONF_UNSET_SIZE;
    lmcf->resolver_refresh = NGX_CONF_UNSET_MSEC;

    return lmcf;
}


static char *
ngx_http_llm_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_llm_main_conf_t *lmcf = conf;

    ngx_conf_init_uint_value(lmcf->keepalive, 32);
    ngx_conf_init_msec_value(lmcf->keepalive_timeout, 60000);
    ngx_conf_init_uint_value(lmcf->keepalive_requests, 1000);
    ngx_conf_init_size_value(lmcf->zone_size, 1024 * 1024);
    ngx_conf_init_msec_value(lmcf->resolver_refresh, 30000);

    if (lmcf->resolver_refresh == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"llm_resolver_refresh\" must be more than 0");
        return NGX_CONF_ERROR;
    }

    if (lmcf->cfg == NULL) {
        return NGX_CONF_OK;
    }

    /* before the deployments: it decides how their hosts are resolved */
    if (ngx_http_llm_resolve_conf(cf, lmcf) != NGX_OK
        || ngx_http_llm_config_init(cf, lmcf) != NGX_OK
        || ngx_http_llm_state_add(cf, lmcf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

#if (NGX_HTTP_SSL)
    if (ngx_http_llm_init_ssl(cf, lmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }
#endif

    if (ngx_http_llm_keepalive_init(cf, lmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_llm_init_balancer(cf, lmcf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


#if (NGX_HTTP_SSL)

static ngx_int_t
ngx_http_llm_init_ssl(ngx_conf_t *cf, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_str_t            ciphers = ngx_string("DEFAULT");
    ngx_pool_cleanup_t  *cln;

    lmcf->ssl = ngx_pcalloc(cf->pool, sizeof(ngx_ssl_t));
    if (lmcf->ssl == NULL) {
        return NGX_ERROR;
    }

    lmcf->ssl->log = cf->log;

    if (ngx_ssl_create(lmcf->ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, NULL)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        ngx_ssl_cleanup_ctx(lmcf->ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = lmcf->ssl;

    if (ngx_ssl_ciphers(cf, lmcf->ssl, &ciphers, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    /*
     * certificate chains of public APIs are longer than the depth of 1
     * that proxy_ssl_verify_depth defaults to
     */
    if (ngx_ssl_trusted_certificate(cf, lmcf->ssl, &lmcf->trusted_certificate,
                                    100)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (lmcf->trusted_certificate.len == 0
        && SSL_CTX_set_default_verify_paths(lmcf->ssl->ctx) != 1)
    {
        ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                      "llm: could not load the system CA certificates");
        return NGX_ERROR;
    }

    if (ngx_ssl_client_session_cache(cf, lmcf->ssl, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

#endif


static void *
ngx_http_llm_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_llm_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_llm_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->upstream.bufs.num = 0;
     *     conf->upstream.next_upstream = 0;
     *     conf->upstream.temp_path = NULL;
     *     conf->upstream.ssl_name = NULL;
     */

    conf->enable = NGX_CONF_UNSET;
    conf->max_response_size = NGX_CONF_UNSET_SIZE;

    conf->upstream.local = NGX_CONF_UNSET_PTR;
    conf->upstream.next_upstream_tries = NGX_CONF_UNSET_UINT;
    conf->upstream.connect_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.send_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.read_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.next_upstream_timeout = NGX_CONF_UNSET_MSEC;
    conf->upstream.buffer_size = NGX_CONF_UNSET_SIZE;
    conf->upstream.hide_headers = NGX_CONF_UNSET_PTR;
    conf->upstream.pass_headers = NGX_CONF_UNSET_PTR;

    /* the response is translated, never relayed as is */
    conf->upstream.cyclic_temp_file = 0;
    conf->upstream.buffering = 0;
    conf->upstream.ignore_client_abort = 0;
    conf->upstream.send_lowat = 0;
    conf->upstream.bufs.num = 0;
    conf->upstream.busy_buffers_size = 0;
    conf->upstream.max_temp_file_size = 0;
    conf->upstream.temp_file_write_size = 0;
    conf->upstream.intercept_errors = 0;
    conf->upstream.intercept_404 = 0;
    conf->upstream.pass_request_headers = 0;
    conf->upstream.pass_request_body = 0;
    conf->upstream.force_ranges = 0;

    return conf;
}


static char *
ngx_http_llm_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_llm_loc_conf_t *prev = parent;
    ngx_http_llm_loc_conf_t *conf = child;

    ngx_hash_init_t            hash;
    ngx_http_llm_main_conf_t  *lmcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    ngx_conf_merge_size_value(conf->max_response_size,
                              prev->max_response_size, 64 * 1024 * 1024);

    ngx_conf_merge_ptr_value(conf->upstream.local, prev->upstream.local,
                             NULL);
    ngx_conf_merge_uint_value(conf->upstream.next_upstream_tries,
                              prev->upstream.next_upstream_tries, 0);
    ngx_conf_merge_msec_value(conf->upstream.connect_timeout,
                              prev->upstream.connect_timeout, 60000);
    ngx_conf_merge_msec_value(conf->upstream.send_timeout,
                              prev->upstream.send_timeout, 60000);

    /* reasoning models may think for minutes before the first byte */
    ngx_conf_merge_msec_value(conf->upstream.read_timeout,
                              prev->upstream.read_timeout, 600000);
    ngx_conf_merge_msec_value(conf->upstream.next_upstream_timeout,
                              prev->upstream.next_upstream_timeout, 0);
    ngx_conf_merge_size_value(conf->upstream.buffer_size,
                              prev->upstream.buffer_size,
                              (size_t) 16 * 1024);

    /*
     * the router decides which failures get another try, and then asks
     * with NGX_HTTP_UPSTREAM_INVALID_HEADER; a call that was sent may be
     * tried again, as LiteLLM does
     */
    conf->upstream.next_upstream = NGX_HTTP_UPSTREAM_FT_ERROR
                                   |NGX_HTTP_UPSTREAM_FT_TIMEOUT
                                   |NGX_HTTP_UPSTREAM_FT_INVALID_HEADER
                                   |NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;

    /*
     * without the hash ngx_http_upstream_process_headers() would look
     * headers up in a zero-sized hash
     */
    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "llm_headers_hash";

    if (ngx_http_upstream_hide_headers_hash(cf, &conf->upstream,
            &prev->upstream, ngx_http_llm_hide_headers, &hash)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_module);

    conf->upstream.upstream = lmcf->upstream;

#if (NGX_HTTP_SSL)
    conf->upstream.ssl = lmcf->ssl;
    conf->upstream.ssl_server_name = 1;
    conf->upstream.ssl_verify = 1;
    conf->upstream.ssl_session_reuse = 1;
#endif

    return NGX_CONF_OK;
}


static char *
ngx_http_llm_pass(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_llm_loc_conf_t *llcf = conf;

    ngx_http_core_loc_conf_t  *clcf;
    ngx_http_llm_main_conf_t  *lmcf;

    if (llcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    lmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_llm_module);

    if (lmcf->cfg == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"llm_pass\" needs \"llm_config\" before it in "
                           "the http block");
        return NGX_CONF_ERROR;
    }

    llcf->enable = 1;
    lmcf->used = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_llm_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_llm_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_llm_error_filter_init(cf);
}


static ngx_int_t
ngx_http_llm_init_process(ngx_cycle_t *cycle)
{
    ngx_http_llm_main_conf_t  *lmcf;

    /* ids minted in this worker must not repeat another worker's */
    llm_rand_reseed();

    lmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_llm_module);

    if (lmcf == NULL || lmcf->cfg == NULL) {
        return NGX_OK;
    }

    if (ngx_http_llm_resolve_init_process(cycle, lmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_llm_health_init_process(cycle, lmcf);
}
