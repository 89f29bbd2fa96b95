/*
 * Copyright (C) ngx_llm authors
 *
 * Anthropic's SSE stream -> OpenAI chunks (../shared/providers/
 * anthropic.md, "Translation to OpenAI chunks").
 *
 * Content arrives in numbered blocks.  OpenAI counts tool calls only,
 * so each tool_use block gets the next OpenAI tool index, remembered in
 * a small map from the block index.  Usage is split: input counts come
 * with message_start, cumulative output counts with message_delta.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_anthropic.h"
#include "llm_sse.h"


/* a stream with more blocks than this is not one the API sends */
#define LLM_ANTHROPIC_MAX_BLOCKS  4096


typedef enum {
    LLM_ANTHROPIC_BLOCK_OTHER = 0,
    LLM_ANTHROPIC_BLOCK_TEXT,
    LLM_ANTHROPIC_BLOCK_TOOL,
    LLM_ANTHROPIC_BLOCK_JSON,       /* the forced JSON tool: content */
    LLM_ANTHROPIC_BLOCK_THINKING
} llm_anthropic_block_e;


typedef struct {
    int                     index;  /* Anthropic's block index */
    llm_anthropic_block_e   kind;
    int                     k;      /* OpenAI tool index */
} llm_anthropic_block_t;


struct llm_anthropic_tr_s {
    llm_anthropic_block_t  *blocks;
    size_t                  nblocks;
    size_t                  nalloc;
    llm_anthropic_usage_t   usage;
    char                    stop_reason[48];
    unsigned                json_mode:1;
};


typedef struct {
    llm_sse_t              sse;
    llm_anthropic_tr_t    *tr;
    llm_stream_t          *s;
    unsigned               oom:1;
} llm_anthropic_sse_ctx_t;


static int llm_anthropic_sse_event(void *data, const char *event,
    size_t event_len, const char *payload, size_t payload_len);
static int llm_anthropic_broken(llm_stream_t *s, const char *msg);
static int llm_anthropic_dispatch(llm_stream_t *s, llm_anthropic_tr_t *t,
    const char *name, const cJSON *ev);
static int llm_anthropic_on_start(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev);
static int llm_anthropic_on_block(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev);
static int llm_anthropic_on_tool(llm_stream_t *s, llm_anthropic_tr_t *t,
    llm_anthropic_block_t *b, const cJSON *cb);
static int llm_anthropic_on_delta(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev);
static int llm_anthropic_on_message_delta(llm_stream_t *s,
    llm_anthropic_tr_t *t, const cJSON *ev);
static int llm_anthropic_on_stop(llm_stream_t *s, llm_anthropic_tr_t *t);
static int llm_anthropic_on_error(llm_stream_t *s, const cJSON *ev);
static int llm_anthropic_block_index(const cJSON *ev);
static llm_anthropic_block_t *llm_anthropic_block_find(
    llm_anthropic_tr_t *t, int index);
static llm_anthropic_block_t *llm_anthropic_block_add(
    llm_anthropic_tr_t *t, int index);
static const char *llm_anthropic_str(const cJSON *o, const char *name);


llm_anthropic_tr_t *
llm_anthropic_tr_new(const llm_call_t *call)
{
    llm_anthropic_tr_t  *t;

    t = calloc(1, sizeof(llm_anthropic_tr_t));
    if (t == NULL) {
        return NULL;
    }

    t->json_mode = llm_anthropic_json_mode(call);

    return t;
}


void
llm_anthropic_tr_free(llm_anthropic_tr_t *t)
{
    if (t) {
        free(t->blocks);
        free(t);
    }
}


int
llm_anthropic_tr_event(llm_stream_t *s, llm_anthropic_tr_t *t,
    const char *event, const char *json, size_t len)
{
    int           rc;
    cJSON        *ev;
    const char   *name;

    if (s->done) {
        return LLM_OK;
    }

    ev = cJSON_ParseWithLength(json, len);

    /* a data line that is not an event object carries nothing */
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        return LLM_OK;
    }

    name = llm_anthropic_str(ev, "type");

    if (name == NULL) {
        name = event ? event : "";
    }

    rc = llm_anthropic_dispatch(s, t, name, ev);
    cJSON_Delete(ev);

    return rc;
}


static int
llm_anthropic_dispatch(llm_stream_t *s, llm_anthropic_tr_t *t,
    const char *name, const cJSON *ev)
{
    if (strcmp(name, "message_start") == 0) {
        return llm_anthropic_on_start(s, t, ev);
    }

    if (strcmp(name, "content_block_start") == 0) {
        return llm_anthropic_on_block(s, t, ev);
    }

    if (strcmp(name, "content_block_delta") == 0) {
        return llm_anthropic_on_delta(s, t, ev);
    }

    if (strcmp(name, "message_delta") == 0) {
        return llm_anthropic_on_message_delta(s, t, ev);
    }

    if (strcmp(name, "message_stop") == 0) {
        return llm_anthropic_on_stop(s, t);
    }

    if (strcmp(name, "error") == 0) {
        return llm_anthropic_on_error(s, ev);
    }

    /* ping, content_block_stop and event types yet to come */
    return LLM_OK;
}


static int
llm_anthropic_on_start(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev)
{
    const cJSON  *msg;

    msg = cJSON_GetObjectItemCaseSensitive(ev, "message");

    llm_anthropic_usage_read(&t->usage,
                             cJSON_GetObjectItemCaseSensitive(msg, "usage"));
    llm_anthropic_usage_set(&s->usage, &t->usage);

    return llm_chunk_role(s);
}


static int
llm_anthropic_on_block(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev)
{
    int                     index;
    const char             *type, *text;
    const cJSON            *cb;
    llm_anthropic_block_t  *b;

    index = llm_anthropic_block_index(ev);
    cb = cJSON_GetObjectItemCaseSensitive(ev, "content_block");
    type = llm_anthropic_str(cb, "type");

    if (index < 0 || type == NULL) {
        return LLM_OK;
    }

    b = llm_anthropic_block_add(t, index);
    if (b == NULL) {
        return LLM_OK;
    }

    if (strcmp(type, "text") == 0) {
        b->kind = LLM_ANTHROPIC_BLOCK_TEXT;
        text = llm_anthropic_str(cb, "text");

        return text ? llm_chunk_content(s, text, strlen(text)) : LLM_OK;
    }

    if (strcmp(type, "thinking") == 0) {
        b->kind = LLM_ANTHROPIC_BLOCK_THINKING;
        text = llm_anthropic_str(cb, "thinking");

        return text ? llm_chunk_reasoning(s, text, strlen(text)) : LLM_OK;
    }

    if (strcmp(type, "tool_use") == 0) {
        return llm_anthropic_on_tool(s, t, b, cb);
    }

    /* redacted thinking, server tool blocks */
    b->kind = LLM_ANTHROPIC_BLOCK_OTHER;

    return LLM_OK;
}


static int
llm_anthropic_on_tool(llm_stream_t *s, llm_anthropic_tr_t *t,
    llm_anthropic_block_t *b, const cJSON *cb)
{
    char         buf[128];
    const char  *id, *name;

    id = llm_anthropic_str(cb, "id");
    name = llm_anthropic_str(cb, "name");

    /* the forced JSON tool streams the answer: its input is content */
    if (t->json_mode && name && strcmp(name, LLM_ANTHROPIC_JSON_TOOL) == 0) {
        b->kind = LLM_ANTHROPIC_BLOCK_JSON;
        return LLM_OK;
    }

    b->kind = LLM_ANTHROPIC_BLOCK_TOOL;
    b->k = s->ntools;

    if (id == NULL || id[0] == '\0') {
        llm_anthropic_tool_id(buf, sizeof(buf), s->call, b->k);
        id = buf;
    }

    return llm_chunk_tool_start(s, b->k, id, name ? name : "");
}


static int
llm_anthropic_on_delta(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev)
{
    const char             *type, *text;
    const cJSON            *d;
    llm_anthropic_block_t  *b;

    d = cJSON_GetObjectItemCaseSensitive(ev, "delta");
    type = llm_anthropic_str(d, "type");

    if (type == NULL) {
        return LLM_OK;
    }

    if (strcmp(type, "text_delta") == 0) {
        text = llm_anthropic_str(d, "text");
        return text ? llm_chunk_content(s, text, strlen(text)) : LLM_OK;
    }

    if (strcmp(type, "thinking_delta") == 0) {
        text = llm_anthropic_str(d, "thinking");
        return text ? llm_chunk_reasoning(s, text, strlen(text)) : LLM_OK;
    }

    if (strcmp(type, "input_json_delta") != 0) {
        /* signature_delta, citations_delta and new types */
        return LLM_OK;
    }

    text = llm_anthropic_str(d, "partial_json");
    b = llm_anthropic_block_find(t, llm_anthropic_block_index(ev));

    /* the emitters skip empty fragments */
    if (text == NULL || b == NULL) {
        return LLM_OK;
    }

    if (b->kind == LLM_ANTHROPIC_BLOCK_TOOL) {
        return llm_chunk_tool_args(s, b->k, text, strlen(text));
    }

    if (b->kind == LLM_ANTHROPIC_BLOCK_JSON) {
        return llm_chunk_content(s, text, strlen(text));
    }

    return LLM_OK;
}


/* stop_reason, and usage whose counts are cumulative */
static int
llm_anthropic_on_message_delta(llm_stream_t *s, llm_anthropic_tr_t *t,
    const cJSON *ev)
{
    const char  *reason;

    reason = llm_anthropic_str(cJSON_GetObjectItemCaseSensitive(ev, "delta"),
                               "stop_reason");

    if (reason) {
        snprintf(t->stop_reason, sizeof(t->stop_reason), "%s", reason);
    }

    llm_anthropic_usage_read(&t->usage,
                             cJSON_GetObjectItemCaseSensitive(ev, "usage"));
    llm_anthropic_usage_set(&s->usage, &t->usage);

    return LLM_OK;
}


static int
llm_anthropic_on_stop(llm_stream_t *s, llm_anthropic_tr_t *t)
{
    const char  *finish;

    finish = NULL;

    if (t->stop_reason[0]) {
        finish = llm_anthropic_finish(t->stop_reason);

        /* "tool_use" answered by the JSON tool alone is a plain stop */
        if (strcmp(finish, "tool_calls") == 0 && s->ntools == 0) {
            finish = "stop";
        }
    }

    if (llm_chunk_finish(s, finish) != LLM_OK) {
        return LLM_ERROR;
    }

    return llm_chunk_end(s);
}


/* what would have been an HTTP error (overloaded_error: 529) */
static int
llm_anthropic_on_error(llm_stream_t *s, const cJSON *ev)
{
    const cJSON  *e;
    llm_error_t   err;

    e = cJSON_GetObjectItemCaseSensitive(ev, "error");

    llm_anthropic_error(&err, 0, llm_anthropic_str(e, "type"),
                        llm_anthropic_str(e, "message"));

    return llm_chunk_error(s, &err);
}


int
llm_anthropic_tr_eof(llm_stream_t *s, llm_anthropic_tr_t *t)
{
    if (s->done) {
        return LLM_OK;
    }

    return llm_anthropic_broken(s, "anthropic: upstream closed the stream "
                                "before it ended");
}


static int
llm_anthropic_broken(llm_stream_t *s, const char *msg)
{
    llm_error_t  err;

    llm_error_set(&err, 502, "server_error", NULL, NULL, "%s", msg);

    return llm_chunk_error(s, &err);
}


static int
llm_anthropic_block_index(const cJSON *ev)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(ev, "index");

    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble > 1e9)
    {
        return -1;
    }

    return (int) v->valuedouble;
}


static llm_anthropic_block_t *
llm_anthropic_block_find(llm_anthropic_tr_t *t, int index)
{
    size_t  i;

    /* the latest block is the one being streamed */
    for (i = t->nblocks; i > 0; i--) {
        if (t->blocks[i - 1].index == index) {
            return &t->blocks[i - 1];
        }
    }

    return NULL;
}


static llm_anthropic_block_t *
llm_anthropic_block_add(llm_anthropic_tr_t *t, int index)
{
    size_t                  n;
    llm_anthropic_block_t  *b;

    b = llm_anthropic_block_find(t, index);

    if (b) {
        b->kind = LLM_ANTHROPIC_BLOCK_OTHER;
        return b;
    }

    if (t->nblocks == LLM_ANTHROPIC_MAX_BLOCKS) {
        return NULL;
    }

    if (t->nblocks == t->nalloc) {
        n = t->nalloc ? t->nalloc * 2 : 8;

        b = realloc(t->blocks, n * sizeof(llm_anthropic_block_t));
        if (b == NULL) {
            return NULL;
        }

        t->blocks = b;
        t->nalloc = n;
    }

    b = &t->blocks[t->nblocks++];
    b->index = index;
    b->kind = LLM_ANTHROPIC_BLOCK_OTHER;
    b->k = 0;

    return b;
}


static const char *
llm_anthropic_str(const cJSON *o, const char *name)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}


/*
 * The SSE framing of the direct API and Vertex's streamRawPredict.
 */

int
llm_anthropic_stream_init(llm_stream_t *s)
{
    llm_anthropic_sse_ctx_t  *ctx;

    ctx = calloc(1, sizeof(llm_anthropic_sse_ctx_t));
    if (ctx == NULL) {
        return LLM_ERROR;
    }

    ctx->tr = llm_anthropic_tr_new(s->call);
    if (ctx->tr == NULL) {
        free(ctx);
        return LLM_ERROR;
    }

    llm_sse_init(&ctx->sse, llm_anthropic_sse_event, ctx);
    ctx->s = s;
    s->priv = ctx;

    return LLM_OK;
}


static int
llm_anthropic_sse_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    llm_anthropic_sse_ctx_t  *ctx;

    ctx = data;

    if (llm_anthropic_tr_event(ctx->s, ctx->tr, event_len ? event : NULL,
                               payload, payload_len) != LLM_OK)
    {
        ctx->oom = 1;
        return -1;
    }

    return 0;
}


int
llm_anthropic_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    llm_anthropic_sse_ctx_t  *ctx;

    ctx = s->priv;

    /* anything after message_stop (or an error) has nowhere to go */
    if (ctx == NULL || s->done || n == 0) {
        return ctx ? LLM_OK : LLM_ERROR;
    }

    ctx->s = s;

    if (llm_sse_feed(&ctx->sse, p, n) == 0) {
        return LLM_OK;
    }

    if (ctx->oom) {
        return LLM_ERROR;
    }

    return llm_anthropic_broken(s, "anthropic: upstream sent an invalid "
                                "stream");
}


int
llm_anthropic_stream_eof(llm_stream_t *s)
{
    llm_anthropic_sse_ctx_t  *ctx;

    ctx = s->priv;

    if (ctx == NULL) {
        return LLM_ERROR;
    }

    if (s->done) {
        return LLM_OK;
    }

    ctx->s = s;

    /* a last event not followed by a blank line still counts */
    if (llm_sse_finish(&ctx->sse) != 0) {
        if (ctx->oom) {
            return LLM_ERROR;
        }

        return llm_anthropic_broken(s, "anthropic: upstream sent an invalid "
                                    "stream");
    }

    return llm_anthropic_tr_eof(s, ctx->tr);
}


void
llm_anthropic_stream_free(llm_stream_t *s)
{
    llm_anthropic_sse_ctx_t  *ctx;

    ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_sse_free(&ctx->sse);
    llm_anthropic_tr_free(ctx->tr);
    free(ctx);
    s->priv = NULL;
}
