
/*
 * Copyright (C) ngx_llm authors
 *
 * The provider's response.  A non-streaming answer (and any error) is
 * read whole inside process_header, so the client's status, headers and
 * body are all decided after translation.  A stream commits at the
 * provider's headers; input_filter then turns each read into OpenAI
 * chunks as it arrives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_parse_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_header(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_keep_header(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *key, ngx_str_t *value);
static ngx_int_t ngx_http_llm_read_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_commit_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_commit_stream(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_set_content_type(ngx_http_request_t *r,
    const char *type);
static ngx_int_t ngx_http_llm_add_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);
static ngx_int_t ngx_http_llm_feed(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, u_char *p, size_t n);
static ngx_chain_t *ngx_http_llm_drain(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static void ngx_http_llm_stream_fail(ngx_http_llm_ctx_t *ctx, int status,
    const char *type, const char *code, const char *msg);


/* provider headers worth passing on; everything else is the gateway's */
static ngx_str_t  ngx_http_llm_pass_headers[] = {
    ngx_string("retry-after"),
    ngx_string("retry-after-ms"),
    ngx_string("x-request-id"),
    ngx_null_string
};


ngx_int_t
ngx_http_llm_process_header(ngx_http_request_t *r)
{
    ngx_int_t             rc;
    ngx_http_upstream_t  *u;
    ngx_http_llm_ctx_t   *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_llm_module);
    u = r->upstream;

    if (ctx->state == NGX_HTTP_LLM_RESP_STATUS) {
        rc = ngx_http_parse_status_line(r, &u->buffer, &ctx->status);

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        if (rc == NGX_ERROR || ctx->status.code < 200) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: upstream sent no valid HTTP/1.x status line");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        ctx->state = NGX_HTTP_LLM_RESP_HEADERS;
    }

    if (ctx->state == NGX_HTTP_LLM_RESP_HEADERS) {
        rc = ngx_http_llm_parse_headers(r, ctx);
        if (rc != NGX_OK) {
            return rc;
        }

        if (ctx->call.stream && ctx->status.code / 100 == 2) {
            return ngx_http_llm_commit_stream(r, ctx);
        }

        ctx->state = NGX_HTTP_LLM_RESP_BODY;
    }

    rc = ngx_http_llm_read_body(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_llm_commit_body(r, ctx);
}


static ngx_int_t
ngx_http_llm_parse_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_int_t  rc;

    for ( ;; ) {
        rc = ngx_http_parse_header_line(r, &r->upstream->buffer, 1);

        if (rc == NGX_OK) {
            if (ngx_http_llm_header(r, ctx) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            if (ctx->status.http_version < NGX_HTTP_VERSION_11) {
                ctx->conn_close = 1;
            }

            return NGX_OK;
        }

        if (rc == NGX_AGAIN) {
            return NGX_AGAIN;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: upstream sent an invalid header line");

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
}


/*
 * The header strings live in u->buffer, which the body overwrites:
 * what is kept is copied.
 */
static ngx_int_t
ngx_http_llm_header(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    size_t       klen;
    u_char      *key;
    ngx_str_t    v, *h;
    ngx_uint_t   i;

    key = r->lowcase_header;
    klen = r->header_name_end - r->header_name_start;
    v.data = r->header_start;
    v.len = r->header_end - r->header_start;

    if (klen == sizeof("content-length") - 1
        && ngx_strncmp(key, "content-length", klen) == 0)
    {
        ctx->length = ngx_atoof(v.data, v.len);
        return NGX_OK;
    }

    if (klen == sizeof("transfer-encoding") - 1
        && ngx_strncmp(key, "transfer-encoding", klen) == 0)
    {
        ctx->is_chunked = ngx_strlcasestrn(v.data, v.data + v.len,
                                           (u_char *) "chunked",
                                           sizeof("chunked") - 2)
                          != NULL;
        return NGX_OK;
    }

    if (klen == sizeof("connection") - 1
        && ngx_strncmp(key, "connection", klen) == 0)
    {
        ctx->conn_close = ngx_strlcasestrn(v.data, v.data + v.len,
                                           (u_char *) "close",
                                           sizeof("close") - 2)
                          != NULL;
        return NGX_OK;
    }

    for (h = ngx_http_llm_pass_headers; h->len; h++) {
        if (h->len == klen && ngx_strncmp(h->data, key, klen) == 0) {
            break;
        }
    }

    if (h->len == 0) {
        return NGX_OK;
    }

    if (ctx->pass == NULL) {
        ctx->pass = ngx_array_create(r->pool, 2, sizeof(ngx_keyval_t));
        if (ctx->pass == NULL) {
            return NGX_ERROR;
        }
    }

    for (i = 0; i < ctx->pass->nelts; i++) {
        if (((ngx_keyval_t *) ctx->pass->elts)[i].key.data == h->data) {
            return NGX_OK;
        }
    }

    return ngx_http_llm_keep_header(r, ctx, h, &v);
}


static ngx_int_t
ngx_http_llm_keep_header(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_str_t *key, ngx_str_t *value)
{
    ngx_keyval_t  *kv;

    kv = ngx_array_push(ctx->pass);
    if (kv == NULL) {
        return NGX_ERROR;
    }

    kv->key = *key;
    kv->value.len = value->len;
    kv->value.data = ngx_pstrdup(r->pool, value);

    return kv->value.data ? NGX_OK : NGX_ERROR;
}


/* collects the whole body, de-chunked, consuming u->buffer as it goes */
static ngx_int_t
ngx_http_llm_read_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    size_t                     n;
    ngx_int_t                  rc;
    ngx_buf_t                 *b;
    ngx_http_llm_loc_conf_t   *llcf;

    b = &r->upstream->buffer;
    llcf = ngx_http_get_module_loc_conf(r, ngx_http_llm_module);

    while (!ctx->body_done && b->pos < b->last) {

        if (ctx->is_chunked) {
            rc = ngx_http_parse_chunked(r, b, &ctx->chunked);

            if (rc == NGX_DONE) {
                ctx->body_done = 1;
                break;
            }

            if (rc == NGX_AGAIN) {
                break;
            }

            if (rc != NGX_OK) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "llm: upstream sent invalid chunked response");
                return NGX_HTTP_UPSTREAM_INVALID_HEADER;
            }

            n = ngx_min((off_t) (b->last - b->pos), ctx->chunked.size);
            ctx->chunked.size -= n;

        } else if (ctx->length >= 0) {
            n = ngx_min((off_t) (b->last - b->pos),
                        ctx->length - (off_t) ctx->body.len);

        } else {
            /* only the connection's close would end this body */
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: upstream response has neither "
                          "Content-Length nor chunked encoding");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (ctx->body.len + n > llcf->max_response_size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: upstream response is larger than "
                          "llm_max_response_size %uz",
                          llcf->max_response_size);
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        if (llm_buf_append(&ctx->body, b->pos, n) != 0) {
            return NGX_ERROR;
        }

        b->pos += n;

        if (!ctx->is_chunked && (off_t) ctx->body.len == ctx->length) {
            ctx->body_done = 1;
        }
    }

    if (!ctx->is_chunked && ctx->length == 0) {
        ctx->body_done = 1;
    }

    if (ctx->body_done) {
        return NGX_OK;
    }

    /* everything is copied: the whole buffer is free for the next read */
    b->pos = b->start;
    b->last = b->start;

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_llm_commit_body(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    int                   status;
    ngx_buf_t            *b;
    llm_buf_t             out;
    ngx_uint_t            i;
    llm_error_t          *err;
    llm_usage_t           usage;
    ngx_keyval_t         *kv;
    ngx_http_upstream_t  *u;
    const llm_adapter_t  *a;

    u = r->upstream;
    a = llm_adapter_get(ctx->deploy->dep->provider);
    err = &ctx->error;
    status = ctx->status.code;

    ngx_memzero(&out, sizeof(llm_buf_t));
    ngx_memzero(&usage, sizeof(llm_usage_t));

    if (status / 100 == 2) {
        if (a->parse_response(&ctx->call, ctx->body.data, ctx->body.len, &out,
                              &usage, err)
            != LLM_OK)
        {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: model \"%V\": upstream %V sent a response "
                          "that could not be translated: %s",
                          &ctx->group->name, &ctx->deploy->name,
                          err->message);
            status = 0;
        }

    } else {
        a->parse_error(&ctx->call, status, ctx->body.data, ctx->body.len,
                       err);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: model \"%V\": upstream %V answered %d: %s",
                      &ctx->group->name, &ctx->deploy->name, status,
                      err->message);
        status = 0;
    }

    if (status == 0) {
        llm_buf_reset(&out);
        status = err->status;

        if (llm_error_json(err, &out) != 0) {
            llm_buf_free(&out);
            return NGX_ERROR;
        }

        if (ctx->pass) {
            kv = ctx->pass->elts;

            for (i = 0; i < ctx->pass->nelts; i++) {
                if (ngx_http_llm_add_header(r, (char *) kv[i].key.data,
                                            &kv[i].value)
                    != NGX_OK)
                {
                    llm_buf_free(&out);
                    return NGX_ERROR;
                }
            }
        }
    }

    ctx->usage = usage;

    b = ngx_create_temp_buf(r->pool, out.len ? out.len : 1);
    ctx->out = ngx_alloc_chain_link(r->pool);

    if (b == NULL || ctx->out == NULL) {
        llm_buf_free(&out);
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, out.data, out.len);
    b->flush = 1;
    b->tag = u->output.tag;
    ctx->out->buf = b;
    ctx->out->next = NULL;

    u->headers_in.status_n = status;
    u->headers_in.content_length_n = out.len;
    u->keepalive = !ctx->conn_close;
    ctx->json_sent = 1;

    llm_buf_free(&out);

    return ngx_http_llm_set_content_type(r, "application/json");
}


static ngx_int_t
ngx_http_llm_commit_stream(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_str_t             v;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    ctx->stream = llm_stream_new(&ctx->call);
    if (ctx->stream == NULL) {
        return NGX_ERROR;
    }

    ctx->state = NGX_HTTP_LLM_RESP_STREAM;

    u->headers_in.status_n = NGX_HTTP_OK;
    u->headers_in.content_length_n = -1;
    ctx->json_sent = 1;

    ngx_str_set(&v, "no-cache");
    if (ngx_http_llm_add_header(r, "Cache-Control", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    /* so that a proxy in front of this nginx does not buffer either */
    ngx_str_set(&v, "no");
    if (ngx_http_llm_add_header(r, "X-Accel-Buffering", &v) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_llm_set_content_type(r, "text/event-stream");
}


static ngx_int_t
ngx_http_llm_set_content_type(ngx_http_request_t *r, const char *type)
{
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_add_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value = *value;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_input_filter_init(void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_http_upstream_t  *u;

    u = ctx->request->upstream;

    if (ctx->stream == NULL) {
        /* the translated body is whole already */
        u->out_bufs = ctx->out;
        u->length = 0;
        return NGX_OK;
    }

    u->length = -1;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_input_filter(void *data, ssize_t bytes)
{
    ngx_http_llm_ctx_t *ctx = data;

    size_t                n;
    ngx_int_t             rc;
    ngx_buf_t            *b;
    ngx_chain_t          *cl, **ll;
    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = ctx->request;
    u = r->upstream;
    b = &u->buffer;

    b->pos = b->last;
    b->last += bytes;

    if (ctx->stream == NULL || ctx->stream->failed) {
        /* nothing more is wanted from this response */
        b->pos = b->last;
        return NGX_OK;
    }

    while (b->pos < b->last && !ctx->body_done) {

        if (!ctx->is_chunked) {
            n = b->last - b->pos;

            if (ctx->length >= 0) {
                n = ngx_min((off_t) n, ctx->length);
                ctx->length -= n;
                ctx->body_done = (ctx->length == 0);
            }

            rc = ngx_http_llm_feed(r, ctx, b->pos, n);
            b->pos = b->last;

            if (rc != NGX_OK) {
                break;
            }

            continue;
        }

        rc = ngx_http_parse_chunked(r, b, &ctx->chunked);

        if (rc == NGX_OK) {
            n = ngx_min((off_t) (b->last - b->pos), ctx->chunked.size);
            ctx->chunked.size -= n;
            rc = ngx_http_llm_feed(r, ctx, b->pos, n);
            b->pos += n;

            if (rc != NGX_OK) {
                break;
            }

            continue;
        }

        if (rc == NGX_DONE) {
            ctx->body_done = 1;
            break;
        }

        if (rc == NGX_AGAIN) {
            break;
        }

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: upstream sent invalid chunked response");
        ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                 "upstream sent an invalid chunked stream");
        break;
    }

    if (ctx->body_done && !ctx->stream->done) {
        if (ctx->stream->adapter->stream_eof(ctx->stream) != LLM_OK) {
            ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                     "upstream stream ended unexpectedly");
        }
    }

    if (ctx->body_done || ctx->stream->failed) {
        u->length = 0;
        u->keepalive = ctx->body_done && !ctx->conn_close
                       && !ctx->stream->failed;
    }

    cl = ngx_http_llm_drain(r, ctx);
    if (cl == NGX_CHAIN_ERROR) {
        return NGX_ERROR;
    }

    for (ll = &u->out_bufs; *ll; ll = &(*ll)->next) { /* void */ }

    *ll = cl;

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_feed(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx, u_char *p,
    size_t n)
{
    llm_stream_t  *s;

    s = ctx->stream;

    if (n == 0 || s->done) {
        return NGX_OK;
    }

    if (s->adapter->stream_feed(s, (char *) p, n) != LLM_OK && !s->done) {
        ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                 "could not translate the upstream stream");
    }

    if (s->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: model \"%V\": upstream %V stream failed: %s",
                      &ctx->group->name, &ctx->deploy->name,
                      s->error.message);
        return NGX_ERROR;
    }

    return NGX_OK;
}


static void
ngx_http_llm_stream_fail(ngx_http_llm_ctx_t *ctx, int status,
    const char *type, const char *code, const char *msg)
{
    llm_error_t  err;

    if (ctx->stream->done) {
        return;
    }

    llm_error_set(&err, status, type, code, NULL, "%s", msg);
    (void) llm_chunk_error(ctx->stream, &err);
}


/* moves the translated bytes into a buffer nginx can send */
static ngx_chain_t *
ngx_http_llm_drain(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    size_t                size;
    u_char               *start, *end;
    ngx_buf_t            *b;
    llm_buf_t            *out;
    ngx_chain_t          *cl;
    ngx_http_upstream_t  *u;

    out = &ctx->stream->out;
    u = r->upstream;

    if (out->len == 0) {
        return NULL;
    }

    cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
    if (cl == NULL) {
        return NGX_CHAIN_ERROR;
    }

    b = cl->buf;
    start = b->start;
    end = b->end;

    ngx_memzero(b, sizeof(ngx_buf_t));

    if (start == NULL || (size_t) (end - start) < out->len) {
        size = ngx_max(out->len, 4096);

        start = ngx_palloc(r->pool, size);
        if (start == NULL) {
            return NGX_CHAIN_ERROR;
        }

        end = start + size;
    }

    b->start = start;
    b->end = end;
    b->pos = start;
    b->last = ngx_cpymem(start, out->data, out->len);
    b->temporary = 1;
    b->flush = 1;
    b->tag = u->output.tag;

    llm_buf_reset(out);

    return cl;
}


void
ngx_http_llm_finalize_stream(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_int_t rc)
{
    llm_stream_t  *s;
    ngx_chain_t   *cl;

    s = ctx->stream;

    if (s->done || r->connection->error
        || rc == NGX_HTTP_CLIENT_CLOSED_REQUEST)
    {
        return;
    }

    if (rc == 0) {
        /* the provider closed the connection: was the stream complete? */
        if (s->adapter->stream_eof(s) != LLM_OK) {
            ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                     "upstream stream ended unexpectedly");
        }

    } else if (rc == NGX_HTTP_GATEWAY_TIME_OUT) {
        ngx_http_llm_stream_fail(ctx, 504, "server_error", "timeout",
                                 "upstream timed out in the middle of the "
                                 "stream");

    } else {
        ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                 "upstream connection failed in the middle "
                                 "of the stream");
    }

    if (s->failed) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: model \"%V\": upstream %V stream ended early: %s",
                      &ctx->group->name, &ctx->deploy->name,
                      s->error.message);
    }

    cl = ngx_http_llm_drain(r, ctx);

    if (cl && cl != NGX_CHAIN_ERROR) {
        (void) ngx_http_output_filter(r, cl);
    }
}
