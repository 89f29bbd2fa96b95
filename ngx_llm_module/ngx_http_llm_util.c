
/*
 * Copyright (C) ngx_llm authors
 *
 * Ties malloc()ed adapter memory (cJSON trees, llm_buf_t, streams) to
 * the request pool, so that no error path can leak it.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static void ngx_http_llm_cleanup_json(void *data);
static void ngx_http_llm_cleanup_ctx(void *data);


ngx_int_t
ngx_http_llm_add_cleanup_json(ngx_pool_t *pool, cJSON *json)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_llm_cleanup_json;
    cln->data = json;

    return NGX_OK;
}


static void
ngx_http_llm_cleanup_json(void *data)
{
    cJSON_Delete(data);
}


ngx_int_t
ngx_http_llm_add_cleanup_ctx(ngx_pool_t *pool, ngx_http_llm_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_llm_cleanup_ctx;
    cln->data = ctx;

    return NGX_OK;
}


static void
ngx_http_llm_cleanup_ctx(void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    llm_buf_free(&ctx->body);
    llm_stream_free(ctx->stream);
    ctx->stream = NULL;
    cJSON_Delete(ctx->lazy.tree);
    ctx->lazy.tree = NULL;
}


ngx_int_t
ngx_http_llm_error_to_str(ngx_pool_t *pool, const llm_error_t *err,
    ngx_str_t *out)
{
    llm_buf_t  b;

    ngx_memzero(&b, sizeof(llm_buf_t));

    if (llm_error_json(err, &b) != 0) {
        llm_buf_free(&b);
        return NGX_ERROR;
    }

    out->len = b.len;
    out->data = ngx_pnalloc(pool, b.len);

    if (out->data == NULL) {
        llm_buf_free(&b);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, b.data, b.len);
    llm_buf_free(&b);

    return NGX_OK;
}


/* n in decimal, by the adapters' printer: ngx_sprintf() parses a format */
u_char *
ngx_http_llm_decimal(u_char *p, size_t n)
{
    char         buf[24];
    const char  *s;

    s = llm_json_int(buf, (long long) n);

    return ngx_cpymem(p, s, buf + 23 - s);
}


ngx_int_t
ngx_http_llm_push_header(ngx_http_request_t *r, const char *key,
    size_t key_len, u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = key_len;
    h->value.data = value;
    h->value.len = len;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_add_cleanup(ngx_pool_t *pool, ngx_pool_cleanup_pt handler,
    void *data)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = handler;
    cln->data = data;

    return NGX_OK;
}
