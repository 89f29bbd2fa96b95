
/*
 * Copyright (C) ngx_llm authors
 *
 * llm_pass as an nginx upstream: the callbacks, and the provider request
 * built for each try.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_first_try(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_error_t *err);
static ngx_int_t ngx_http_llm_create_request(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_reinit_request(ngx_http_request_t *r);
static void ngx_http_llm_abort_request(ngx_http_request_t *r);
static void ngx_http_llm_finalize_request(ngx_http_request_t *r,
    ngx_int_t rc);
static ngx_int_t ngx_http_llm_check_header(const char *s, size_t len);


ngx_int_t
ngx_http_llm_upstream_start(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_uint_t                level;
    llm_error_t               err;
    ngx_http_upstream_t      *u;
    ngx_http_llm_loc_conf_t  *llcf;

    /* again after waiting for an access token: the plan stands */
    switch (ctx->nplan ? NGX_OK : ngx_http_llm_plan(r, ctx, &err)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0, "llm: %s",
                      err.message);
        return ngx_http_llm_send_error(r, &err);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    /*
     * the first try is built now, so that a request no provider of the
     * plan can take is refused before any connection is made; one that
     * this deployment cannot take may suit the next
     */
    switch (ngx_http_llm_first_try(r, ctx, &err)) {

    case NGX_OK:
        break;

    case NGX_AGAIN:
        return NGX_DONE;

    case NGX_DECLINED:
        level = (err.status >= 500) ? NGX_LOG_ERR : NGX_LOG_INFO;

        ngx_log_error(level, r->connection->log, 0, "llm: model \"%V\": %s",
                      &ctx->group->name, err.message);
        return ngx_http_llm_send_error(r, &err);

    default:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_upstream_create(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    u = r->upstream;
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_module);

    /* a private copy: each try may carry its deployment's timeouts */
    u->conf = ngx_palloc(r->pool, sizeof(ngx_http_upstream_conf_t));
    if (u->conf == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memcpy(u->conf, &llcf->upstream, sizeof(ngx_http_upstream_conf_t));

    u->output.tag = (ngx_buf_tag_t) &ngx_http_llm_module;

    u->create_request = ngx_http_llm_create_request;
    u->reinit_request = ngx_http_llm_reinit_request;
    u->process_header = ngx_http_llm_process_header;
    u->abort_request = ngx_http_llm_abort_request;
    u->finalize_request = ngx_http_llm_finalize_request;

    u->input_filter_init = ngx_http_llm_input_filter_init;
    u->input_filter = ngx_http_llm_input_filter;
    u->input_filter_ctx = ctx;

    u->buffering = 0;

    ngx_http_upstream_init(r);

    return NGX_DONE;
}


/*
 * NGX_OK: ctx->prebuilt holds the request of plan[ctx->attempt];
 * NGX_AGAIN: waiting for an access token; NGX_DECLINED: no deployment
 * of the plan can take the request, err says why the first could not.
 * "The first" of this call: after a wait for a token the loop goes on
 * from where it stopped, and err is this call's (the reason an earlier
 * call saw lived on its stack).
 */
static ngx_int_t
ngx_http_llm_first_try(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_error_t *err)
{
    ngx_int_t               rc;
    ngx_uint_t              have;
    llm_error_t             e;
    ngx_http_llm_deploy_t  *d;

    have = 0;

    for ( /* void */ ; ctx->attempt < ctx->nplan; ctx->attempt++) {
        d = &((ngx_http_llm_deploy_t *) ctx->lmcf->deploys.elts)
                                            [ctx->plan[ctx->attempt].deploy];

        rc = ngx_http_llm_auth(r, ctx, d, &e);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_OK) {
            ctx->prebuilt = ngx_http_llm_build_request(r, ctx, d, &e);

            if (ctx->prebuilt) {
                return NGX_OK;
            }
        }

        if (ctx->attempt == 0 || !have) {
            *err = e;
            have = 1;
        }

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm: deployment \"%s\" of model \"%s\" cannot take "
                      "the request: %s", d->dep->id, d->dep->model_name,
                      e.message);
    }

    return NGX_DECLINED;
}


ngx_chain_t *
ngx_http_llm_build_request(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_http_llm_deploy_t *d, llm_error_t *err)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_http_llm_auth_cached(r, ctx, d);

    ctx->call.dep = d->dep;
    ctx->call.drop_params = d->dep->drop_params >= 0
                            ? d->dep->drop_params
                            : ctx->lmcf->cfg->drop_params;

    b = ngx_http_llm_request_buf(r->pool, d, &ctx->call, 0, err);
    if (b == NULL) {
        return NULL;
    }

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                      NULL, NULL, "out of memory");
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    return cl;
}


/* the provider request, headers and body in one buffer */
ngx_buf_t *
ngx_http_llm_request_buf(ngx_pool_t *pool, ngx_http_llm_deploy_t *d,
    llm_call_t *call, ngx_uint_t close, llm_error_t *err)
{
    size_t           len, mlen, alen;
    size_t           nlen[LLM_MAX_HEADERS], vlen[LLM_MAX_HEADERS];
    u_char          *p;
    ngx_buf_t       *b;
    ngx_uint_t       i;
    llm_http_req_t   hr;

    if (llm_request_build(call, &hr, err) != LLM_OK) {
        return NULL;
    }

    if (d->naddrs == 0) {
        llm_http_req_free(&hr);
        llm_error_set(err, NGX_HTTP_BAD_GATEWAY, "server_error", NULL, NULL,
                      "the host \"%.*s\" of model \"%s\" %s",
                      (int) d->name.len, d->name.data, d->dep->model_name,
                      d->refresh ? "has not resolved yet"
                                 : "did not resolve when the configuration "
                                   "was loaded");
        return NULL;
    }

    mlen = ngx_strlen(hr.method);
    alen = hr.accept ? ngx_strlen(hr.accept) : 0;

    len = mlen + sizeof(" ") - 1 + hr.path.len + sizeof(" HTTP/1.1" CRLF) - 1
          + d->fixed.len
          + sizeof("Content-Length: " CRLF) - 1 + NGX_SIZE_T_LEN
          + sizeof("Connection: close" CRLF) - 1
          + sizeof("Accept: " CRLF) - 1 + alen
          + sizeof(CRLF) - 1 + hr.body.len;

    for (i = 0; i < hr.nheaders; i++) {
        nlen[i] = ngx_strlen(hr.headers[i].name);
        vlen[i] = ngx_strlen(hr.headers[i].value);

        /* a secret with a stray newline must not split the request */
        if (ngx_http_llm_check_header(hr.headers[i].name, nlen[i]) != NGX_OK
            || ngx_http_llm_check_header(hr.headers[i].value, vlen[i])
               != NGX_OK)
        {
            llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                          NULL, NULL, "the \"%s\" header for model \"%s\" "
                          "contains a line break; check its configuration",
                          hr.headers[i].name, d->dep->model_name);
            llm_http_req_free(&hr);
            return NULL;
        }

        len += nlen[i] + sizeof(": " CRLF) - 1 + vlen[i];
    }

    b = ngx_create_temp_buf(pool, len);
    if (b == NULL) {
        llm_http_req_free(&hr);
        llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                      NULL, NULL, "out of memory");
        return NULL;
    }

    /* copies rather than ngx_sprintf(): this runs on every try */
    p = ngx_cpymem(b->last, hr.method, mlen);
    *p++ = ' ';
    p = ngx_cpymem(p, hr.path.data, hr.path.len);
    p = ngx_cpymem(p, " HTTP/1.1" CRLF, sizeof(" HTTP/1.1" CRLF) - 1);
    p = ngx_cpymem(p, d->fixed.data, d->fixed.len);
    p = ngx_cpymem(p, "Content-Length: ", sizeof("Content-Length: ") - 1);
    p = ngx_http_llm_decimal(p, hr.body.len);
    *p++ = CR; *p++ = LF;

    if (close) {
        p = ngx_cpymem(p, "Connection: close" CRLF,
                       sizeof("Connection: close" CRLF) - 1);
    }

    if (hr.accept) {
        p = ngx_cpymem(p, "Accept: ", sizeof("Accept: ") - 1);
        p = ngx_cpymem(p, hr.accept, alen);
        *p++ = CR; *p++ = LF;
    }

    for (i = 0; i < hr.nheaders; i++) {
        p = ngx_cpymem(p, hr.headers[i].name, nlen[i]);
        *p++ = ':'; *p++ = ' ';
        p = ngx_cpymem(p, hr.headers[i].value, vlen[i]);
        *p++ = CR; *p++ = LF;
    }

    *p++ = CR; *p++ = LF;
    b->last = ngx_cpymem(p, hr.body.data, hr.body.len);
    b->flush = 1;

    llm_http_req_free(&hr);

    return b;
}


static ngx_int_t
ngx_http_llm_check_header(const char *s, size_t len)
{
    if (memchr(s, CR, len) || memchr(s, LF, len)) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_create_request(ngx_http_request_t *r)
{
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    r->upstream->request_bufs = ctx->prebuilt;

    return NGX_OK;
}


/* a new try: forget what the last one parsed */
static ngx_int_t
ngx_http_llm_reinit_request(ngx_http_request_t *r)
{
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    ctx->state = NGX_HTTP_LLM_RESP_STATUS;
    ctx->length = -1;
    ctx->is_chunked = 0;
    ctx->conn_close = 0;
    ctx->body_done = 0;
    ctx->out = NULL;
    ctx->pass = NULL;
    ctx->pass_seen = 0;
    ctx->status_retry = 0;
    ngx_memzero(&ctx->status, sizeof(ngx_http_status_t));
    ngx_memzero(&ctx->chunked, sizeof(ngx_http_chunked_t));
    llm_buf_reset(&ctx->body);
    ngx_str_null(&ctx->resp);

    if (ctx->stream) {
        llm_stream_free(ctx->stream);
        ctx->stream = NULL;
    }

    return NGX_OK;
}


static void
ngx_http_llm_abort_request(ngx_http_request_t *r)
{
    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "abort http llm request");
}


static void
ngx_http_llm_finalize_request(ngx_http_request_t *r, ngx_int_t rc)
{
    ngx_http_llm_ctx_t  *ctx;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "finalize http llm request: %i", rc);

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    if (ctx && ctx->stream && r->upstream->header_sent) {
        ngx_http_llm_finalize_stream(r, ctx, rc);
    }
}
