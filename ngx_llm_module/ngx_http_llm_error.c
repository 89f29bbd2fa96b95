
/*
 * Copyright (C) ngx_llm authors
 *
 * Every error on an llm_pass route is OpenAI-shaped JSON.  Errors the
 * gateway finds itself go out through ngx_http_llm_send_error(); the
 * ones nginx finds (413 before the handler runs, an upstream that cannot
 * be reached, a timeout) would be HTML pages, so a header and body
 * filter replaces those with JSON.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_llm_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static void ngx_http_llm_generic_error(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t status, llm_error_t *err);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_llm_send_error(ngx_http_request_t *r, const llm_error_t *err)
{
    ngx_int_t  rc;
    ngx_str_t  json;

    /* keep the connection usable when the body was never read */
    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_llm_error_to_str(r->pool, err, &json) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_llm_send_json(r, err->status, json.data, json.len);
}


ngx_int_t
ngx_http_llm_send_json(ngx_http_request_t *r, ngx_uint_t status,
    u_char *data, size_t len)
{
    ngx_int_t            rc;
    ngx_buf_t           *b;
    ngx_chain_t          out;
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_llm_get_ctx(r);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->json_sent = 1;

    r->headers_out.status = status;
    r->headers_out.content_length_n = len;
    (void) ngx_http_llm_content_type(r, "application/json");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = data;
    b->last = data + len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_llm_header_filter(ngx_http_request_t *r)
{
    llm_error_t               err;
    ngx_http_llm_ctx_t       *ctx;
    ngx_http_llm_loc_conf_t  *llcf;

    llcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_module);

    if (!llcf->enable || r != r->main
        || r->headers_out.status < NGX_HTTP_BAD_REQUEST)
    {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    if (ctx && ctx->json_sent) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_llm_get_ctx(r);
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    if (ctx->error_set) {
        err = *ctx->error;

    } else {
        ngx_http_llm_generic_error(r, ctx, r->headers_out.status, &err);
    }

    if (ngx_http_llm_error_to_str(r->pool, &err, &ctx->replacement)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->replaced = 1;

    if (ngx_http_llm_litellm_headers(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    r->headers_out.status = err.status;
    r->headers_out.status_line.len = 0;
    r->headers_out.content_length_n = ctx->replacement.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    (void) ngx_http_llm_content_type(r, "application/json");
    r->headers_out.charset.len = 0;

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_llm_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t           *b;
    ngx_chain_t         *cl, out;
    ngx_http_llm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);

    if (ctx == NULL || !ctx->replaced) {
        return ngx_http_next_body_filter(r, in);
    }

    /* nginx's own error page is swallowed */
    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    if (ctx->replaced_sent) {
        return NGX_OK;
    }

    ctx->replaced_sent = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->replacement.data;
    b->last = ctx->replacement.data + ctx->replacement.len;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static void
ngx_http_llm_generic_error(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, llm_error_t *err)
{
    int          len;
    const char  *model;

    len = ctx->deploy ? (int) ctx->deploy->name.len : 0;
    model = ctx->group ? (char *) ctx->group->name.data : "";

    switch (status) {

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        llm_error_set(err, status, "invalid_request_error",
                      "request_too_large", NULL, "request body is larger "
                      "than this gateway accepts (client_max_body_size)");
        break;

    case NGX_HTTP_BAD_GATEWAY:
        llm_error_set(err, status, "server_error", NULL, NULL,
                      "the provider for model \"%.*s\" (%.*s) could not be "
                      "reached or sent an invalid response",
                      ctx->group ? (int) ctx->group->name.len : 0, model,
                      len, ctx->deploy ? (char *) ctx->deploy->name.data
                                       : "");
        break;

    case NGX_HTTP_GATEWAY_TIME_OUT:
        llm_error_set(err, status, "server_error", "timeout", NULL,
                      "the provider for model \"%.*s\" (%.*s) timed out",
                      ctx->group ? (int) ctx->group->name.len : 0, model,
                      len, ctx->deploy ? (char *) ctx->deploy->name.data
                                       : "");
        break;

    case NGX_HTTP_REQUEST_TIME_OUT:
        llm_error_set(err, status, "invalid_request_error", "timeout", NULL,
                      "the client was too slow sending the request");
        break;

    case NGX_HTTP_NOT_FOUND:
        llm_error_set(err, status, "invalid_request_error", "unknown_url",
                      NULL, "not found");
        break;

    default:
        if (status >= NGX_HTTP_INTERNAL_SERVER_ERROR) {
            llm_error_set(err, status, "server_error", NULL, NULL,
                          "the gateway failed to handle the request "
                          "(HTTP %d)", (int) status);

        } else {
            llm_error_set(err, status, "invalid_request_error", NULL, NULL,
                          "the request was refused (HTTP %d)", (int) status);
        }
    }
}


ngx_int_t
ngx_http_llm_error_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_llm_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_llm_body_filter;

    return NGX_OK;
}
