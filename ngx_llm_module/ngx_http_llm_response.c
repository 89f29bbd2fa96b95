
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
#include "llm_http.h"


static ngx_int_t ngx_http_llm_parse_headers(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_header(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, llm_http_header_t *h);
static ngx_int_t ngx_http_llm_keep_header(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx, ngx_str_t *key, ngx_str_t *value);
static ngx_int_t ngx_http_llm_read_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_int_t ngx_http_llm_commit_body(ngx_http_request_t *r,
    ngx_http_llm_ctx_t *ctx);
static ngx_msec_int_t ngx_http_llm_retry_after(ngx_http_llm_ctx_t *ctx);


/*
 * The provider headers the gateway reads, in lowercase: those that frame
 * the body, and those passed on to the client (everything else is the
 * gateway's own).  The rate-limit headers are OpenAI's (also Azure's,
 * Groq's, Mistral's); LiteLLM returns them so that a client can pace
 * itself.
 */
typedef enum {
    NGX_HTTP_LLM_H_LENGTH = 0,
    NGX_HTTP_LLM_H_CHUNKED,
    NGX_HTTP_LLM_H_CONNECTION,
    NGX_HTTP_LLM_H_PASS
} ngx_http_llm_header_e;


typedef struct {
    ngx_str_t                name;
    ngx_http_llm_header_e    kind;
} ngx_http_llm_header_name_t;


/*
 * Those of one length are together, for ngx_http_llm_header_find().
 * Each has eight bytes or more and at most NGX_HTTP_LLM_HEADER_MAX; no
 * more than there are bits in ctx->pass_seen.
 */
#define NGX_HTTP_LLM_HEADER_MAX  32

static ngx_http_llm_header_name_t  ngx_http_llm_headers[] = {
    { ngx_string("connection"), NGX_HTTP_LLM_H_CONNECTION },          /* 10 */
    { ngx_string("retry-after"), NGX_HTTP_LLM_H_PASS },               /* 11 */
    { ngx_string("x-request-id"), NGX_HTTP_LLM_H_PASS },              /* 12 */
    { ngx_string("content-length"), NGX_HTTP_LLM_H_LENGTH },          /* 14 */
    { ngx_string("retry-after-ms"), NGX_HTTP_LLM_H_PASS },
    { ngx_string("transfer-encoding"), NGX_HTTP_LLM_H_CHUNKED },       /* 17 */
    { ngx_string("x-ratelimit-limit-tokens"), NGX_HTTP_LLM_H_PASS },  /* 24 */
    { ngx_string("x-ratelimit-reset-tokens"), NGX_HTTP_LLM_H_PASS },
    { ngx_string("x-ratelimit-limit-requests"), NGX_HTTP_LLM_H_PASS },
    { ngx_string("x-ratelimit-reset-requests"), NGX_HTTP_LLM_H_PASS },
    { ngx_string("x-ratelimit-remaining-tokens"), NGX_HTTP_LLM_H_PASS },
    { ngx_string("x-ratelimit-remaining-requests"), NGX_HTTP_LLM_H_PASS },
    { ngx_null_string, 0 }
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

        if (ctx->call.stream && ctx->status.code / 100 == 2
            && !ctx->token_phase)
        {
            ctx->stream = llm_stream_new(&ctx->call);
            if (ctx->stream == NULL) {
                return NGX_ERROR;
            }

            ctx->state = NGX_HTTP_LLM_RESP_STREAM;

        } else {
            ctx->state = NGX_HTTP_LLM_RESP_BODY;
        }
    }

    if (ctx->state == NGX_HTTP_LLM_RESP_STREAM) {
        return ngx_http_llm_stream_gate(r, ctx);
    }

    rc = ngx_http_llm_read_body(r, ctx);
    if (rc != NGX_OK) {
        return rc;
    }

    return ngx_http_llm_commit_body(r, ctx);
}


/*
 * The provider's header lines, as they arrive.  nginx's own parser
 * hashes and lowercases every byte of every header for a table lookup;
 * of a provider's twenty or so headers the gateway reads a few, so a
 * line is only split and checked here (llm_http_header_line()): a
 * whole line is taken at a time, and u->buffer keeps a partial one
 * until the rest is read.
 */
static ngx_int_t
ngx_http_llm_parse_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ssize_t             n;
    ngx_buf_t          *b;
    llm_http_header_t   h;

    b = &r->upstream->buffer;

    for ( ;; ) {
        n = llm_http_header_line((char *) b->pos, b->last - b->pos, &h);

        if (n == 0) {
            return NGX_AGAIN;
        }

        if (n < 0) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: upstream sent an invalid header line");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        b->pos += n;

        if (h.name == NULL) {
            continue;
        }

        if (h.name_len == 0) {
            if (ctx->status.http_version < NGX_HTTP_VERSION_11) {
                ctx->conn_close = 1;
            }

            return NGX_OK;
        }

        n = ngx_http_llm_header(r, ctx, &h);

        if (n != NGX_OK) {
            return n;
        }
    }
}


/*
 * Whether a header name is lower, which has only lowercase letters and
 * '-', ignoring case: setting the 0x20 bit of a byte gives one of those
 * only from itself or from its uppercase letter ('-' also from CR,
 * which a name never has), so the words are compared eight bytes at a
 * time, the last word overlapping the one before.
 */
static ngx_inline ngx_uint_t
ngx_http_llm_header_is(const u_char *name, const ngx_str_t *lower)
{
    size_t    i, n;
    uint64_t  a, b;

    n = lower->len;

    for (i = 0; i + 8 < n; i += 8) {
        ngx_memcpy(&a, name + i, 8);
        ngx_memcpy(&b, lower->data + i, 8);

        if ((a | 0x2020202020202020ULL) != b) {
            return 0;
        }
    }

    ngx_memcpy(&a, name + n - 8, 8);
    ngx_memcpy(&b, lower->data + n - 8, 8);

    return (a | 0x2020202020202020ULL) == b;
}



/*
 * The entry for a header name, or NULL.  A provider sends twenty or so
 * headers: most are turned away by their length, with the index of the
 * first name of each length, made on the first call.
 */
static ngx_http_llm_header_name_t *
ngx_http_llm_header_find(const u_char *name, size_t len)
{
    ngx_uint_t                   i;
    ngx_http_llm_header_name_t  *hn;

    static u_char                first[NGX_HTTP_LLM_HEADER_MAX + 1];

    /* once made, first[0] is the end of the table: no name is empty */
    if (first[0] == 0) {
        for (i = 0; i <= NGX_HTTP_LLM_HEADER_MAX; i++) {
            for (hn = ngx_http_llm_headers; hn->name.len; hn++) {
                if (hn->name.len == i) {
                    break;
                }
            }

            first[i] = (u_char) (hn - ngx_http_llm_headers);
        }
    }

    if (len > NGX_HTTP_LLM_HEADER_MAX) {
        return NULL;
    }

    for (hn = &ngx_http_llm_headers[first[len]]; hn->name.len == len; hn++) {
        if (ngx_http_llm_header_is(name, &hn->name)) {
            return hn;
        }
    }

    return NULL;
}


/*
 * The header strings live in u->buffer, which the body overwrites:
 * what is kept is copied.
 */
static ngx_int_t
ngx_http_llm_header(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_http_header_t *h)
{
    off_t                        length;
    ngx_str_t                    v;
    ngx_uint_t                   bit;
    ngx_http_llm_header_name_t  *hn;

    v.data = (u_char *) h->value;
    v.len = h->value_len;

    hn = ngx_http_llm_header_find((u_char *) h->name, h->name_len);

    if (hn == NULL) {
        return NGX_OK;
    }

    switch (hn->kind) {

    case NGX_HTTP_LLM_H_LENGTH:

        /* two lengths that differ: which body is this? */
        length = ngx_atoof(v.data, v.len);

        if (length < 0 || (ctx->length >= 0 && ctx->length != length)) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "llm: upstream sent an invalid or a second, "
                          "different Content-Length");
            return NGX_HTTP_UPSTREAM_INVALID_HEADER;
        }

        ctx->length = length;
        return NGX_OK;

    case NGX_HTTP_LLM_H_CHUNKED:
        ctx->is_chunked = llm_http_is_chunked((char *) v.data, v.len);
        return NGX_OK;

    case NGX_HTTP_LLM_H_CONNECTION:
        ctx->conn_close = ngx_strlcasestrn(v.data, v.data + v.len,
                                           (u_char *) "close",
                                           sizeof("close") - 2)
                          != NULL;
        return NGX_OK;

    default: /* NGX_HTTP_LLM_H_PASS */
        break;
    }

    if (ctx->pass == NULL) {
        ctx->pass = ngx_array_create(r->pool, 8, sizeof(ngx_keyval_t));
        if (ctx->pass == NULL) {
            return NGX_ERROR;
        }
    }

    /* the first of a header sent twice */
    bit = (ngx_uint_t) 1 << (hn - ngx_http_llm_headers);

    if (ctx->pass_seen & bit) {
        return NGX_OK;
    }

    ctx->pass_seen |= bit;

    return ngx_http_llm_keep_header(r, ctx, &hn->name, &v);
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

    /*
     * the usual answer came whole with its headers: it is read where it
     * lies, NUL-terminated in the spare byte after it, as llm_buf_t
     * bodies are; it stays there until the answer is committed
     */
    if (!ctx->is_chunked && ctx->body.len == 0 && ctx->length >= 0
        && b->last - b->pos == ctx->length && b->last < b->end
        && (size_t) ctx->length <= llcf->max_response_size)
    {
        *b->last = '\0';
        ctx->resp.data = b->pos;
        ctx->resp.len = (size_t) ctx->length;
        ctx->body_done = 1;
        b->pos = b->last;

        return NGX_OK;
    }

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
        ctx->resp.data = (u_char *) ctx->body.data;
        ctx->resp.len = ctx->body.len;
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
    llm_buf_t             out;
    llm_error_t          *err, error;
    llm_usage_t           usage;
    const llm_adapter_t  *a;

    if (ctx->token_phase) {
        return ngx_http_llm_auth_answer(r, ctx);
    }

    a = llm_adapter_get(ctx->deploy->dep->provider);
    err = &error;

    ngx_memzero(&out, sizeof(llm_buf_t));
    ngx_memzero(&usage, sizeof(llm_usage_t));

    if (ctx->status.code / 100 != 2) {
        a->parse_error(&ctx->call, ctx->status.code,
                       (const char *) ctx->resp.data, ctx->resp.len, err);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: model \"%V\": upstream %V answered %ui: %s",
                      &ctx->group->name, &ctx->deploy->name,
                      ctx->status.code, err->message);

        return ngx_http_llm_fail_try(r, ctx, err);
    }

    if (a->parse_response(&ctx->call, (const char *) ctx->resp.data,
                          ctx->resp.len, &out, &usage, err)
        != LLM_OK)
    {
        llm_buf_free(&out);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "llm: model \"%V\": upstream %V sent a response "
                      "that could not be translated: %s",
                      &ctx->group->name, &ctx->deploy->name, err->message);

        return ngx_http_llm_fail_try(r, ctx, err);
    }

    ctx->usage = usage;

    if (ctx->slot) {
        ngx_http_llm_state_success(ctx->lmcf, ctx->slot,
                                   ngx_current_msec - ctx->try_start, 0,
                                   usage.prompt_tokens
                                   + usage.completion_tokens);
    }

    if (ngx_http_llm_commit(r, ctx, NGX_HTTP_OK, (u_char *) out.data, out.len)
        != NGX_OK)
    {
        llm_buf_free(&out);
        return NGX_ERROR;
    }

    llm_buf_free(&out);

    return NGX_OK;
}


/*
 * A try that failed with an answer: another try if the router has one
 * for this failure, else the client gets the error.
 */
ngx_int_t
ngx_http_llm_fail_try(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    llm_error_t *err)
{
    llm_buf_t       out;
    ngx_int_t       rc;
    ngx_msec_int_t  ra;

    if (ctx->slot
        && (err->status == NGX_HTTP_TOO_MANY_REQUESTS
            || err->status >= NGX_HTTP_INTERNAL_SERVER_ERROR))
    {
        ra = err->status == NGX_HTTP_TOO_MANY_REQUESTS
             ? ngx_http_llm_retry_after(ctx) : -1;

        if (ngx_http_llm_state_fail(ctx->lmcf, ctx->slot, ra)) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "llm: deployment \"%s\" of model \"%V\" cools "
                          "down", ctx->deploy->dep->id, &ctx->group->name);
        }
    }

    /* an access token the provider no longer takes: a new one, once */
    if (err->status == NGX_HTTP_UNAUTHORIZED && ctx->deploy->sa
        && !ctx->token_refreshed)
    {
        ngx_http_llm_auth_invalidate(ctx->lmcf, ctx->deploy);

        ctx->token_refreshed = 1;
        ctx->need_token = 1;
        ctx->status_retry = 1;

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llm: model \"%V\": access token refused, fetching "
                      "a new one", &ctx->group->name);

        (void) ngx_http_llm_retry_same(r, ctx);

        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    if (ngx_http_llm_retry(r, ctx, err) == NGX_OK) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "llm: model \"%V\": trying the next deployment after "
                      "\"%s\"", &ctx->group->name, err->message);

        /* not a protocol error: the way to ask nginx for the next try */
        ctx->status_retry = 1;
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }

    /* a stream that failed before its first content is answered as JSON */
    llm_stream_free(ctx->stream);
    ctx->stream = NULL;

    ngx_memzero(&out, sizeof(llm_buf_t));

    if (llm_error_json(err, &out) != 0) {
        llm_buf_free(&out);
        return NGX_ERROR;
    }

    rc = ngx_http_llm_commit(r, ctx, err->status, (u_char *) out.data,
                             out.len);
    llm_buf_free(&out);

    return rc;
}


/* the whole translated answer, status and headers as the client gets them */
ngx_int_t
ngx_http_llm_commit(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx,
    ngx_uint_t status, u_char *data, size_t len)
{
    ngx_buf_t            *b;
    ngx_http_upstream_t  *u;

    u = r->upstream;

    b = ngx_create_temp_buf(r->pool, len ? len : 1);
    ctx->out = ngx_alloc_chain_link(r->pool);

    if (b == NULL || ctx->out == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->pos, data, len);
    b->flush = 1;
    b->tag = u->output.tag;
    ctx->out->buf = b;
    ctx->out->next = NULL;

    u->headers_in.status_n = status;
    u->headers_in.content_length_n = len;
    u->keepalive = !ctx->conn_close;
    ctx->json_sent = 1;

    if (ngx_http_llm_litellm_headers(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_llm_content_type(r, "application/json");
}


/* the provider's headers that the client gets too */
ngx_int_t
ngx_http_llm_provider_headers(ngx_http_request_t *r, ngx_http_llm_ctx_t *ctx)
{
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    if (ctx->pass == NULL) {
        return NGX_OK;
    }

    kv = ctx->pass->elts;

    for (i = 0; i < ctx->pass->nelts; i++) {
        if (ngx_http_llm_push_header(r, (char *) kv[i].key.data,
                                     kv[i].key.len, kv[i].value.data,
                                     kv[i].value.len)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* Retry-After in seconds (or an HTTP date), or retry-after-ms */
static ngx_msec_int_t
ngx_http_llm_retry_after(ngx_http_llm_ctx_t *ctx)
{
    time_t         t;
    ngx_int_t      n;
    ngx_uint_t     i;
    ngx_keyval_t  *kv;

    if (ctx->pass == NULL) {
        return -1;
    }

    kv = ctx->pass->elts;

    for (i = 0; i < ctx->pass->nelts; i++) {
        if (ngx_strcmp(kv[i].key.data, "retry-after-ms") == 0) {
            n = ngx_atoi(kv[i].value.data, kv[i].value.len);
            if (n >= 0) {
                return n;
            }
        }
    }

    for (i = 0; i < ctx->pass->nelts; i++) {
        if (ngx_strcmp(kv[i].key.data, "retry-after") != 0) {
            continue;
        }

        n = ngx_atoi(kv[i].value.data, kv[i].value.len);
        if (n >= 0) {
            return (ngx_msec_int_t) n * 1000;
        }

        t = ngx_parse_http_time(kv[i].value.data, kv[i].value.len);
        if (t != NGX_ERROR) {
            return t > ngx_time() ? (ngx_msec_int_t) (t - ngx_time()) * 1000
                                  : 0;
        }
    }

    return -1;
}


ngx_int_t
ngx_http_llm_content_type(ngx_http_request_t *r, const char *type)
{
    r->headers_out.content_type.data = (u_char *) type;
    r->headers_out.content_type.len = ngx_strlen(type);
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    return NGX_OK;
}
