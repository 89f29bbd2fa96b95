/*
 * Copyright (C) ngx_llm authors
 *
 * Gemini's streamGenerateContent?alt=sse -> OpenAI chunks
 * (../shared/providers/vertex.md, "Gemini streaming").
 *
 * Each event is a whole GenerateContentResponse carrying new parts.
 * There is no end marker: the stream ends when the body does, after an
 * event with a finishReason.  So the finish chunk goes out when the
 * finishReason comes, and the usage chunk and [DONE] at the end of the
 * body, with the last (cumulative) usageMetadata.
 *
 * The framing is read here rather than by llm_sse.c: an error in the
 * middle of a stream may come as a bare, multi-line JSON object without
 * "data:", which an SSE parser would silently drop.  Such lines are
 * gathered until they parse as JSON.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_vertex.h"


#define LLM_VERTEX_MAX_EVENT  (16 * 1024 * 1024)
#define LLM_VERTEX_MAX_BARE   (1024 * 1024)


typedef struct {
    llm_buf_t   line;           /* a partial line */
    llm_buf_t   data;           /* data: lines of the current event */
    llm_buf_t   bare;           /* lines outside SSE: an error object */
    unsigned    has_data:1;
    unsigned    cr:1;           /* the last byte was '\r' */
    unsigned    finished:1;     /* a finishReason (or a block) came */
} llm_vertex_sse_t;


static int llm_vertex_line(llm_stream_t *s, llm_vertex_sse_t *ctx);
static int llm_vertex_field(const char *line, size_t len, const char *name);
static int llm_vertex_bare(llm_stream_t *s, llm_vertex_sse_t *ctx,
    const char *line, size_t len);
static int llm_vertex_dispatch(llm_stream_t *s, llm_vertex_sse_t *ctx);
static int llm_vertex_object(llm_stream_t *s, llm_vertex_sse_t *ctx,
    const cJSON *o);
static int llm_vertex_event(llm_stream_t *s, llm_vertex_sse_t *ctx,
    const cJSON *ev);
static int llm_vertex_candidate(llm_stream_t *s, llm_vertex_sse_t *ctx,
    const cJSON *cand);
static int llm_vertex_part(llm_stream_t *s, const cJSON *part);
static int llm_vertex_broken(llm_stream_t *s, const char *msg);


int
llm_vertex_stream_init_gemini(llm_stream_t *s)
{
    s->priv = calloc(1, sizeof(llm_vertex_sse_t));

    return s->priv ? LLM_OK : LLM_ERROR;
}


void
llm_vertex_stream_free_gemini(llm_stream_t *s)
{
    llm_vertex_sse_t  *ctx;

    ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_buf_free(&ctx->line);
    llm_buf_free(&ctx->data);
    llm_buf_free(&ctx->bare);
    free(ctx);
    s->priv = NULL;
}


int
llm_vertex_stream_feed_gemini(llm_stream_t *s, const char *p, size_t n)
{
    size_t             i;
    llm_vertex_sse_t  *ctx;

    ctx = s->priv;

    if (ctx == NULL) {
        return LLM_ERROR;
    }

    while (n && !s->done) {
        /* the '\n' of a "\r\n" split across two reads */
        if (ctx->cr) {
            ctx->cr = 0;

            if (*p == '\n') {
                p++;
                n--;
                continue;
            }
        }

        for (i = 0; i < n && p[i] != '\n' && p[i] != '\r'; i++) {
            /* void */
        }

        if (ctx->line.len + i > LLM_VERTEX_MAX_EVENT) {
            return llm_vertex_broken(s, LLM_VERTEX_NAME ": upstream sent "
                                     "an oversized stream event");
        }

        if (llm_buf_append(&ctx->line, p, i) != 0) {
            return LLM_ERROR;
        }

        if (i == n) {
            break;
        }

        ctx->cr = (p[i] == '\r');
        p += i + 1;
        n -= i + 1;

        if (llm_vertex_line(s, ctx) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


int
llm_vertex_stream_eof_gemini(llm_stream_t *s)
{
    size_t             i;
    llm_vertex_sse_t  *ctx;

    ctx = s->priv;

    if (ctx == NULL) {
        return LLM_ERROR;
    }

    if (s->done) {
        return LLM_OK;
    }

    /* a last line, or a last event, without its terminator */
    if (ctx->line.len && llm_vertex_line(s, ctx) != LLM_OK) {
        return LLM_ERROR;
    }

    if (!s->done && ctx->has_data && llm_vertex_dispatch(s, ctx) != LLM_OK) {
        return LLM_ERROR;
    }

    if (s->done) {
        return LLM_OK;
    }

    for (i = 0; i < ctx->bare.len; i++) {
        if (ctx->bare.data[i] != ' ' && ctx->bare.data[i] != '\n'
            && ctx->bare.data[i] != '\t')
        {
            return llm_vertex_broken(s, LLM_VERTEX_NAME ": upstream sent an "
                                     "invalid stream");
        }
    }

    if (ctx->finished) {
        return llm_chunk_end(s);
    }

    return llm_vertex_broken(s, LLM_VERTEX_NAME ": upstream closed the "
                             "stream before it ended");
}


/* one complete line, in ctx->line */
static int
llm_vertex_line(llm_stream_t *s, llm_vertex_sse_t *ctx)
{
    int          rc;
    size_t       len;
    const char  *line, *v;

    line = ctx->line.data;
    len = ctx->line.len;
    rc = LLM_OK;

    if (len == 0) {
        if (ctx->has_data) {
            rc = llm_vertex_dispatch(s, ctx);
        }

    } else if (line[0] == ':') {
        /* a comment */

    } else if (llm_vertex_field(line, len, "data")) {
        v = line + 4;
        v += (v < line + len && *v == ':');
        v += (v < line + len && *v == ' ');

        if ((ctx->has_data && llm_buf_append(&ctx->data, "\n", 1) != 0)
            || llm_buf_append(&ctx->data, v, (size_t) (line + len - v)) != 0)
        {
            rc = LLM_ERROR;
        }

        ctx->has_data = 1;

    } else if (!llm_vertex_field(line, len, "event")
               && !llm_vertex_field(line, len, "id")
               && !llm_vertex_field(line, len, "retry"))
    {
        rc = llm_vertex_bare(s, ctx, line, len);
    }

    ctx->line.len = 0;

    return rc;
}


/* "name:..." or the bare "name" */
static int
llm_vertex_field(const char *line, size_t len, const char *name)
{
    size_t  n;

    n = strlen(name);

    return len >= n && memcmp(line, name, n) == 0
           && (len == n || line[n] == ':');
}


/*
 * A line outside SSE.  Google sends a mid-stream error as a bare JSON
 * object spread over lines: they are gathered until they parse.
 */
static int
llm_vertex_bare(llm_stream_t *s, llm_vertex_sse_t *ctx, const char *line,
    size_t len)
{
    int     rc;
    cJSON  *o;

    if (ctx->bare.len + len + 1 > LLM_VERTEX_MAX_BARE) {
        return llm_vertex_broken(s, LLM_VERTEX_NAME ": upstream sent an "
                                 "invalid stream");
    }

    if (llm_buf_append(&ctx->bare, line, len) != 0
        || llm_buf_append(&ctx->bare, "\n", 1) != 0)
    {
        return LLM_ERROR;
    }

    /* only a closing bracket can complete the JSON */
    if (memchr(line, '}', len) == NULL && memchr(line, ']', len) == NULL) {
        return LLM_OK;
    }

    o = cJSON_ParseWithLength(ctx->bare.data, ctx->bare.len);
    if (o == NULL) {
        return LLM_OK;
    }

    ctx->bare.len = 0;

    rc = llm_vertex_object(s, ctx, o);
    cJSON_Delete(o);

    return rc;
}


static int
llm_vertex_dispatch(llm_stream_t *s, llm_vertex_sse_t *ctx)
{
    int     rc;
    cJSON  *o;

    o = cJSON_ParseWithLength(ctx->data.data ? ctx->data.data : "",
                              ctx->data.len);

    ctx->data.len = 0;
    ctx->has_data = 0;

    if (o == NULL) {
        return llm_vertex_broken(s, LLM_VERTEX_NAME ": upstream sent an "
                                 "invalid stream event");
    }

    rc = llm_vertex_object(s, ctx, o);
    cJSON_Delete(o);

    return rc;
}


/* a response, an error object, or an array of them */
static int
llm_vertex_object(llm_stream_t *s, llm_vertex_sse_t *ctx, const cJSON *o)
{
    const cJSON  *e;
    llm_error_t   err;

    if (cJSON_IsArray(o)) {
        cJSON_ArrayForEach(e, o) {
            if (cJSON_IsArray(e) || s->done) {
                continue;
            }

            if (llm_vertex_object(s, ctx, e) != LLM_OK) {
                return LLM_ERROR;
            }
        }

        return LLM_OK;
    }

    if (!cJSON_IsObject(o)) {
        return LLM_OK;
    }

    e = cJSON_GetObjectItemCaseSensitive(o, "error");

    if (cJSON_IsObject(e)) {
        llm_vertex_google_error(&err, 0, e);
        return llm_chunk_error(s, &err);
    }

    return llm_vertex_event(s, ctx, o);
}


static int
llm_vertex_event(llm_stream_t *s, llm_vertex_sse_t *ctx, const cJSON *ev)
{
    const cJSON  *cands, *cand, *block;

    if (llm_chunk_role(s) != LLM_OK) {
        return LLM_ERROR;
    }

    /* cumulative: the last one counts */
    llm_vertex_usage(&s->usage, cJSON_GetObjectItemCaseSensitive(
                                    ev, "usageMetadata"));

    cands = cJSON_GetObjectItemCaseSensitive(ev, "candidates");

    cJSON_ArrayForEach(cand, cands) {
        if (llm_vertex_candidate(s, ctx, cand) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    block = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(ev, "promptFeedback"),
                "blockReason");

    if (cJSON_GetArraySize(cands) == 0 && cJSON_IsString(block)
        && !ctx->finished)
    {
        ctx->finished = 1;
        return llm_chunk_finish(s, "content_filter");
    }

    return LLM_OK;
}


/* requests that stream ask for one candidate: others are not shown */
static int
llm_vertex_candidate(llm_stream_t *s, llm_vertex_sse_t *ctx,
    const cJSON *cand)
{
    const char   *reason;
    const cJSON  *v, *part;

    v = cJSON_GetObjectItemCaseSensitive(cand, "index");

    if ((v && !cJSON_IsNumber(v)) || (cJSON_IsNumber(v) && v->valuedouble)
        || ctx->finished)
    {
        return LLM_OK;
    }

    cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetObjectItemCaseSensitive(cand,
                                                                  "content"),
                                 "parts"))
    {
        if (llm_vertex_part(s, part) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                      cand, "finishReason"));

    if (reason == NULL) {
        return LLM_OK;
    }

    ctx->finished = 1;

    return llm_chunk_finish(s, llm_vertex_finish(reason, s->ntools > 0));
}


static int
llm_vertex_part(llm_stream_t *s, const cJSON *part)
{
    int           rc, k;
    char         *id, *args;
    const char   *name;
    const cJSON  *text, *fc, *a;

    text = cJSON_GetObjectItemCaseSensitive(part, "text");

    if (cJSON_IsString(text)) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "thought")))
        {
            return llm_chunk_reasoning(s, text->valuestring,
                                       strlen(text->valuestring));
        }

        return llm_chunk_content(s, text->valuestring,
                                 strlen(text->valuestring));
    }

    fc = cJSON_GetObjectItemCaseSensitive(part, "functionCall");

    if (!cJSON_IsObject(fc)) {
        return LLM_OK;
    }

    /* a whole call per part: its start and all its arguments */
    k = s->ntools;
    name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fc, "name"));
    a = cJSON_GetObjectItemCaseSensitive(fc, "args");

    id = llm_vertex_tool_id(s->call, k, part);
    args = cJSON_IsObject(a) ? cJSON_PrintUnformatted(a) : strdup("{}");

    rc = LLM_ERROR;

    if (id && args
        && llm_chunk_tool_start(s, k, id, name ? name : "") == LLM_OK
        && llm_chunk_tool_args(s, k, args, strlen(args)) == LLM_OK)
    {
        rc = LLM_OK;
    }

    free(id);
    free(args);

    return rc;
}


static int
llm_vertex_broken(llm_stream_t *s, const char *msg)
{
    llm_error_t  err;

    llm_error_set(&err, 502, "server_error", NULL, NULL, "%s", msg);

    return llm_chunk_error(s, &err);
}
