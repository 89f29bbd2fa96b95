
/*
 * Copyright (C) ngx_llm authors
 *
 * A streamed answer.  Until the first content reaches the translator the
 * try can still fail over to another deployment, so the provider's
 * bytes are read inside process_header ("first-token gating"); from the
 * first content on, the client has a 200 and each read becomes OpenAI
 * chunks at once.  Once a byte went out nothing is retried: a stream
 * that breaks ends with an OpenAI error event.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_llm_module.h"


static ngx_int_t ngx_http_llm_stream_bytes(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_uint_t gate);
static ngx_int_t ngx_http_llm_stream_commit(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_feed(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, u_char *p, size_t n);
static ngx_chain_t *ngx_http_llm_drain(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static void ngx_http_llm_stream_fail(ngx_http_llm_ctx_t *ctx, int status,
    const char *type, const char *code, const char *msg);


#define ngx_http_llm_gate_open(s)  ((s)->content || (s)->done)


ngx_int_t
ngx_http_llm_stream_gate(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_buf_t     *b;
    llm_stream_t  *s;
    llm_error_t    err;

    s = ctx->stream;
    b = &r->upstream->buffer;

    if (ngx_http_llm_stream_bytes(r, ctx, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    if (s->failed && !s->content) {
        /* nothing reached the client: this try failed like any other */
        err = s->error;
        return ngx_http_llm_fail_try(r, ctx, &err);
    }

    if (ngx_http_llm_gate_open(s)) {
        return ngx_http_llm_stream_commit(r, ctx);
    }

    /* all read so far is in the translator: the buffer is free again */
    b->pos = b->start;
    b->last = b->start;

    return NGX_AGAIN;
}


/*
 * De-chunks and feeds what u->buffer holds; with gate set it stops at
 * the first content so that the rest is left for input_filter.
 */
static ngx_int_t
ngx_http_llm_stream_bytes(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t gate)
{
    size_t         n;
    ngx_int_t      rc;
    ngx_buf_t     *b;
    llm_stream_t  *s;

    b = &r->upstream->buffer;
    s = ctx->stream;

    while (b->pos < b->last && !ctx->body_done && !s->failed) {

        if (gate && ngx_http_llm_gate_open(s)) {
            return NGX_OK;
        }

        if (!ctx->is_chunked) {
            n = b->last - b->pos;

            if (ctx->length >= 0) {
                n = ngx_min((off_t) n, ctx->length);
                ctx->length -= n;
                ctx->body_done = (ctx->length == 0);
            }

            rc = ngx_http_llm_feed(r, ctx, b->pos, n);
            b->pos += n;

            if (rc != NGX_OK) {
                return rc;
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
                return rc;
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

    if (ctx->body_done && !s->done
        && s->adapter->stream_eof(s) != LLM_OK)
    {
        ngx_http_llm_stream_fail(ctx, 502, "server_error", NULL,
                                 "upstream stream ended unexpectedly");
    }

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
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_llm_stream_commit(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_http_upstream_t  *u;

    u = r->upstream;

    if (ctx->slot) {
        /* latency-based routing ranks streams by time to first token */
        ngx_http_llm_state_success(ctx->lmcf, ctx->slot,
                                   ngx_current_msec - ctx->try_start, 1, 0);
    }

    u->headers_in.status_n = NGX_HTTP_OK;
    u->headers_in.content_length_n = -1;
    ctx->json_sent = 1;

    if (ngx_http_llm_push(r, "Cache-Control", (u_char *) "no-cache",
                          sizeof("no-cache") - 1) != NGX_OK
        /* so that a proxy in front of this nginx does not buffer either */
        || ngx_http_llm_push(r, "X-Accel-Buffering", (u_char *) "no",
                             sizeof("no") - 1) != NGX_OK
        || ngx_http_llm_litellm_headers(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->out = ngx_http_llm_drain(r, ctx);
    if (ctx->out == NGX_CHAIN_ERROR) {
        return NGX_ERROR;
    }

    return ngx_http_llm_content_type(r, "text/event-stream");
}


ngx_int_t
ngx_http_llm_input_filter_init(void *data)
{
    ngx_http_llm_ctx_t *ctx = data;

    ngx_http_request_t   *r;
    ngx_http_upstream_t  *u;

    r = ctx->request;
    u = r->upstream;

    if (ctx->stream == NULL) {
        /*
         * the translated body is whole already; sent from here it leaves
         * in one write with the header, before the upstream code's flush
         */
        u->length = 0;
        u->keepalive = u->keepalive && ctx->body_done;

        return ngx_http_output_filter(r, ctx->out) == NGX_ERROR
               ? NGX_ERROR : NGX_OK;
    }

    u->length = -1;

    if (ctx->body_done || ctx->stream->failed) {
        u->length = 0;
        u->keepalive = ctx->body_done && !ctx->conn_close
                       && !ctx->stream->failed;
    }

    if (ctx->out == NULL) {
        return NGX_OK;
    }

    /*
     * the gated bytes go out now: the upstream code writes its own
     * buffers only after its next read
     */
    if (ngx_http_output_filter(r, ctx->out) == NGX_ERROR) {
        return NGX_ERROR;
    }

    ctx->out = NULL;

    return NGX_OK;
}


ngx_int_t
ngx_http_llm_input_filter(void *data, ssize_t bytes)
{
    ngx_http_llm_ctx_t *ctx = data;

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

    if (ngx_http_llm_stream_bytes(r, ctx, 0) != NGX_OK) {
        return NGX_ERROR;
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

    if (ctx->slot) {
        ngx_http_llm_state_success(ctx->lmcf, ctx->slot,
                                   ngx_current_msec - ctx->try_start, 0,
                                   s->usage.prompt_tokens
                                   + s->usage.completion_tokens);
    }

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
