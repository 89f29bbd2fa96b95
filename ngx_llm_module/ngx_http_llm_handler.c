
/*
 * Copyright (C) ngx_llm authors
 *
 * The content handler of llm_pass: routes the OpenAI surface, reads and
 * checks the client body, picks the model group and hands the call to
 * the upstream.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_http_llm_route_e ngx_http_llm_route(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_models(ngx_http_request_t *r,
    ngx_http_llm_main_conf_t *lmcf);
static void ngx_http_llm_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_start(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_read_body(ngx_http_request_t *r,
    ngx_str_t *body, llm_error_t *err);
static ngx_int_t ngx_http_llm_scan_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_endpoint_e endpoint);
static ngx_int_t ngx_http_llm_parse_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_endpoint_e endpoint, llm_error_t *err);
static void ngx_http_llm_init_call(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_endpoint_e endpoint);
static void ngx_http_llm_read_litellm_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);


typedef struct {
    ngx_str_t              suffix;
    ngx_http_llm_route_e   route;
    ngx_uint_t             method;
} ngx_http_llm_route_t;


static ngx_http_llm_route_t  ngx_http_llm_routes[] = {
    { ngx_string("/chat/completions"), NGX_HTTP_LLM_ROUTE_CHAT,
      NGX_HTTP_POST },
    { ngx_string("/health/liveliness"), NGX_HTTP_LLM_ROUTE_LIVENESS,
      NGX_HTTP_GET|NGX_HTTP_HEAD },
    { ngx_string("/health/liveness"), NGX_HTTP_LLM_ROUTE_LIVENESS,
      NGX_HTTP_GET|NGX_HTTP_HEAD },
    { ngx_string("/health/readiness"), NGX_HTTP_LLM_ROUTE_READINESS,
      NGX_HTTP_GET|NGX_HTTP_HEAD },
    { ngx_string("/health"), NGX_HTTP_LLM_ROUTE_HEALTH,
      NGX_HTTP_GET },
    { ngx_string("/embeddings"), NGX_HTTP_LLM_ROUTE_EMBEDDINGS,
      NGX_HTTP_POST },
    { ngx_string("/models"), NGX_HTTP_LLM_ROUTE_MODELS,
      NGX_HTTP_GET|NGX_HTTP_HEAD },
    { ngx_null_string, NGX_HTTP_LLM_ROUTE_NONE, 0 }
};


ngx_int_t
ngx_http_llm_handler(ngx_http_request_t *r)
{
    ngx_int_t                  rc;
    llm_error_t                err;
    ngx_table_elt_t           *h;
    ngx_http_llm_ctx_t        *ctx;
    ngx_http_llm_route_t      *rt;
    ngx_http_llm_main_conf_t  *lmcf;

    lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_module);

    ctx = ngx_http_llm_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->route = ngx_http_llm_route(r);

    if (ctx->route == NGX_HTTP_LLM_ROUTE_NONE) {
        llm_error_set(&err, NGX_HTTP_NOT_FOUND, "invalid_request_error",
                      "unknown_url", NULL, "Unknown request URL: %.*s %.*s",
                      (int) r->method_name.len, r->method_name.data,
                      (int) ngx_min(r->uri.len, 256), r->uri.data);
        return ngx_http_llm_send_error(r, &err);
    }

    for (rt = ngx_http_llm_routes; rt->route != ctx->route; rt++) {
        /* void */
    }

    if (!(r->method & rt->method)) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Allow");

        if (rt->method & NGX_HTTP_POST) {
            ngx_str_set(&h->value, "POST");

        } else {
            ngx_str_set(&h->value, "GET, HEAD");
        }

        llm_error_set(&err, NGX_HTTP_NOT_ALLOWED, "invalid_request_error",
                      "method_not_allowed", NULL,
                      "Method %.*s is not allowed on %.*s",
                      (int) r->method_name.len, r->method_name.data,
                      (int) ngx_min(r->uri.len, 256), r->uri.data);
        return ngx_http_llm_send_error(r, &err);
    }

    switch (ctx->route) {

    case NGX_HTTP_LLM_ROUTE_MODELS:
        return ngx_http_llm_models(r, lmcf);

    case NGX_HTTP_LLM_ROUTE_LIVENESS:
        return ngx_http_llm_health_static(r, 0);

    case NGX_HTTP_LLM_ROUTE_READINESS:
        return ngx_http_llm_health_static(r, 1);

    case NGX_HTTP_LLM_ROUTE_HEALTH:
        return ngx_http_llm_health(r);

    default:
        break;
    }

    rc = ngx_http_read_client_request_body(r, ngx_http_llm_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_http_llm_ctx_t *
ngx_http_llm_get_ctx(ngx_http_request_t *r)
{
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);
    if (ctx) {
        return ctx;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_llm_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    ctx->request = r;
    ctx->lmcf = ngx_http_get_module_main_conf(r, ngx_http_llm_module);
    ctx->length = -1;

    if (ngx_http_llm_add_cleanup_ctx(r->pool, ctx) != NGX_OK) {
        return NULL;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_llm_module);

    return ctx;
}


/* LiteLLM serves the same routes with and without "/v1" */
static ngx_http_llm_route_e
ngx_http_llm_route(ngx_http_request_t *r)
{
    ngx_str_t             *s;
    ngx_http_llm_route_t  *rt;

    for (rt = ngx_http_llm_routes; rt->route; rt++) {
        s = &rt->suffix;

        if (r->uri.len >= s->len
            && ngx_strncmp(r->uri.data + r->uri.len - s->len, s->data,
                           s->len) == 0)
        {
            return rt->route;
        }
    }

    return NGX_HTTP_LLM_ROUTE_NONE;
}


static ngx_int_t
ngx_http_llm_models(ngx_http_request_t *r, ngx_http_llm_main_conf_t *lmcf)
{
    ngx_int_t  rc;

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_llm_send_json(r, NGX_HTTP_OK, lmcf->models_json.data,
                                  lmcf->models_json.len);
}


static void
ngx_http_llm_body_handler(ngx_http_request_t *r)
{
    ngx_int_t            rc;
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    rc = ngx_http_llm_start(r, ctx);

    if (rc == NGX_DONE) {
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_llm_start(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    llm_error_t      err;
    ngx_str_t        body;
    llm_endpoint_e   endpoint;

    endpoint = ctx->route == NGX_HTTP_LLM_ROUTE_EMBEDDINGS
               ? LLM_ENDPOINT_EMBEDDINGS : LLM_ENDPOINT_CHAT;

    if (ngx_http_llm_read_body(r, &body, &err) != NGX_OK) {
        return ngx_http_llm_send_error(r, &err);
    }

    ctx->call.body = (const char *) body.data;
    ctx->call.body_len = body.len;

    /*
     * the usual body passes the scanner and is never parsed unless an
     * adapter needs the tree; anything else takes the cJSON path, which
     * also words the errors
     */
    if (ngx_http_llm_scan_body(r, ctx, endpoint) != NGX_OK
        && ngx_http_llm_parse_body(r, ctx, endpoint, &err) != NGX_OK)
    {
        return ngx_http_llm_send_error(r, &err);
    }

    ctx->group = ngx_http_llm_find_group(ctx->lmcf, ctx->call.model_name);

    if (ctx->group == NULL) {
        llm_error_set(&err, NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                      "model_not_found", "model",
                      "Invalid model name passed in model=%.200s. Call "
                      "/v1/models to view available models.",
                      ctx->call.model_name);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm: unknown model \"%.200s\"", ctx->call.model_name);
        return ngx_http_llm_send_error(r, &err);
    }

    ngx_http_llm_init_call(r, ctx, endpoint);

    return ngx_http_llm_upstream_start(r, ctx);
}


/* the checks of llm_request_validate() on the bytes, see llm_request_scan.c */
static ngx_int_t
ngx_http_llm_scan_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_endpoint_e endpoint)
{
    u_char          *model;
    llm_call_t      *call;
    llm_req_scan_t   s;
    llm_json_obj_t  *root;

    call = &ctx->call;

    /* the tape is only needed here: on the stack, not in the pool */
    if (llm_request_scan(call->body, call->body_len, endpoint, &s) != LLM_OK) {
        return NGX_DECLINED;
    }

    /* the members are kept for every try's request (llm_openai.c) */
    root = ngx_palloc(r->pool, sizeof(llm_json_obj_t));
    model = ngx_pnalloc(r->pool, s.model_len + 1);

    if (root == NULL || model == NULL) {
        return NGX_DECLINED;
    }

    ngx_memcpy(root, &s.root,
               offsetof(llm_json_obj_t, m)
               + s.root.n * sizeof(llm_json_member_t));

    *ngx_cpymem(model, s.model, s.model_len) = '\0';

    call->model_name = (const char *) model;
    call->stream = s.stream;
    call->include_usage = s.include_usage;
    call->root = root;
    call->lazy = &ctx->lazy;

    return NGX_OK;
}


/* the cJSON path: the tree, validated; err says what is wrong */
static ngx_int_t
ngx_http_llm_parse_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_endpoint_e endpoint, llm_error_t *err)
{
    cJSON       *json, *v, *opts;
    llm_call_t  *call;

    call = &ctx->call;

    json = cJSON_ParseWithLength(call->body, call->body_len);

    if (json == NULL) {
        llm_error_set(err, NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                      NULL, NULL, "request body is not valid JSON (error "
                      "near byte %d, or nested deeper than %d levels)",
                      (int) (cJSON_GetErrorPtr()
                             ? cJSON_GetErrorPtr() - call->body : 0),
                      CJSON_NESTING_LIMIT);
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm: client sent invalid JSON");
        return NGX_ERROR;
    }

    if (ngx_http_llm_add_cleanup_json(r->pool, json) != NGX_OK) {
        cJSON_Delete(json);
        llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                      NULL, NULL, "out of memory");
        return NGX_ERROR;
    }

    if (llm_request_validate(json, endpoint, err) != LLM_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "llm: bad request: %s", err->message);
        return NGX_ERROR;
    }

    call->req = json;
    call->model_name = cJSON_GetObjectItemCaseSensitive(json,
                                                        "model")->valuestring;

    v = cJSON_GetObjectItemCaseSensitive(json, "stream");
    call->stream = (endpoint == LLM_ENDPOINT_CHAT && cJSON_IsTrue(v));

    opts = cJSON_GetObjectItemCaseSensitive(json, "stream_options");
    v = cJSON_GetObjectItemCaseSensitive(opts, "include_usage");
    call->include_usage = call->stream && cJSON_IsTrue(v);

    return NGX_OK;
}


/* the body as one contiguous buffer, whether in memory bufs or a file */
static ngx_int_t
ngx_http_llm_read_body(ngx_http_request_t *r, ngx_str_t *body,
    llm_error_t *err)
{
    off_t         len;
    u_char       *p, *data;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    len = 0;

    for (cl = r->request_body ? r->request_body->bufs : NULL;
         cl;
         cl = cl->next)
    {
        len += ngx_buf_size(cl->buf);
    }

    if (len == 0) {
        llm_error_set(err, NGX_HTTP_BAD_REQUEST, "invalid_request_error",
                      NULL, NULL, "request body is empty; expected JSON");
        return NGX_ERROR;
    }

    cl = r->request_body->bufs;

    /*
     * the usual case, one buffer in memory, needs no copy; the bytes
     * live in the request's memory, for every try
     */
    if (cl->next == NULL && !cl->buf->in_file) {
        body->data = cl->buf->pos;
        body->len = len;
        return NGX_OK;
    }

    data = ngx_pnalloc(r->pool, len);
    if (data == NULL) {
        llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR, "server_error",
                      NULL, NULL, "out of memory");
        return NGX_ERROR;
    }

    p = data;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (!b->in_file) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        /* a large body was spooled to a file: one short local read */
        n = ngx_read_file(b->file, p, b->file_last - b->file_pos,
                          b->file_pos);

        if (n != b->file_last - b->file_pos) {
            llm_error_set(err, NGX_HTTP_INTERNAL_SERVER_ERROR,
                          "server_error", NULL, NULL,
                          "could not read the request body");
            return NGX_ERROR;
        }

        p += n;
    }

    body->data = data;
    body->len = len;

    return NGX_OK;
}


static void
ngx_http_llm_init_call(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_endpoint_e endpoint)
{
    llm_call_t  *call;

    call = &ctx->call;

    call->endpoint = endpoint;

    llm_mint_id(call->id, sizeof(call->id),
                endpoint == LLM_ENDPOINT_CHAT ? "chatcmpl-" : "emb-");
    call->created = (long long) ngx_time();
    call->now = ngx_time();

    ngx_http_llm_read_litellm_headers(r, ctx);
}


/* LiteLLM's per-request overrides of the router settings */
static void
ngx_http_llm_read_litellm_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx)
{
    ngx_int_t         n;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    ctx->retries = NGX_CONF_UNSET_UINT;
    ctx->timeout = 0;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("x-litellm-num-retries") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "x-litellm-num-retries",
                               h[i].key.len) == 0)
        {
            n = ngx_atoi(h[i].value.data, h[i].value.len);
            if (n >= 0 && n < NGX_HTTP_LLM_MAX_PLAN) {
                ctx->retries = n;
            }

        } else if (h[i].key.len == sizeof("x-litellm-timeout") - 1
                   && ngx_strncasecmp(h[i].key.data,
                                      (u_char *) "x-litellm-timeout",
                                      h[i].key.len) == 0)
        {
            /* seconds, possibly fractional */
            n = ngx_atofp(h[i].value.data, h[i].value.len, 3);
            if (n > 0) {
                ctx->timeout = (ngx_msec_t) n;
            }
        }
    }
}
