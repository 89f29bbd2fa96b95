/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI-dialect streams.  Upstream chunks already are OpenAI chunks,
 * so they are relayed with id/created/model rewritten; what changes is
 * usage (always requested upstream for spend tracking, shown only when
 * the client asked), Mistral's finish values and content arrays,
 * Groq's x_groq, and the end: [DONE] or an error event, never silence.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_openai.h"
#include "llm_sse.h"


typedef struct {
    llm_sse_t   sse;
    unsigned    top_usage:1;    /* a top-level usage object was seen */
    unsigned    nomem:1;
} llm_openai_stream_ctx_t;


static int llm_openai_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len);
static int llm_openai_chunk(llm_stream_t *s, cJSON *root);
static int llm_openai_chunk_usage(llm_stream_t *s, cJSON *root);
static void llm_openai_chunk_delta(llm_stream_t *s, cJSON *delta,
    int finished);
static int llm_openai_stream_fail(llm_stream_t *s, const char *what);


int
llm_openai_stream_init(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx;

    ctx = calloc(1, sizeof(llm_openai_stream_ctx_t));
    if (ctx == NULL) {
        return LLM_ERROR;
    }

    llm_sse_init(&ctx->sse, llm_openai_event, s);
    s->priv = ctx;

    return LLM_OK;
}


int
llm_openai_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    int                       rc;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    /* whatever follows [DONE] or an error is of no interest */
    if (s->done) {
        return LLM_OK;
    }

    rc = llm_sse_feed(&ctx->sse, p, n);

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (rc == -1 && !s->done) {
        return llm_openai_stream_fail(s, "sent an oversized stream event");
    }

    return LLM_OK;
}


int
llm_openai_stream_eof(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (!s->done) {
        /* the last event may lack its blank line */
        (void) llm_sse_finish(&ctx->sse);
    }

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (!s->done) {
        return llm_openai_stream_fail(s,
                                      "closed the stream before it ended");
    }

    return LLM_OK;
}


void
llm_openai_stream_free(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_sse_free(&ctx->sse);
    free(ctx);
    s->priv = NULL;
}


static int
llm_openai_stream_fail(llm_stream_t *s, const char *what)
{
    llm_error_t  e;

    llm_error_set(&e, 502, "server_error", NULL, NULL, "%s: upstream %s",
                  llm_openai_provider(s->call), what);

    return llm_chunk_error(s, &e);
}


/* returns 0 to go on, 1 at the end of the stream, -1 out of memory */
static int
llm_openai_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    int                       rc;
    cJSON                    *root;
    llm_error_t               e;
    llm_stream_t             *s = data;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (s->done) {
        return 1;
    }

    while (payload_len && (payload[0] == ' ' || payload[0] == '\n')) {
        payload++;
        payload_len--;
    }

    while (payload_len && (payload[payload_len - 1] == ' '
                           || payload[payload_len - 1] == '\n'))
    {
        payload_len--;
    }

    if (payload_len == 6 && memcmp(payload, "[DONE]", 6) == 0) {
        rc = llm_chunk_end(s) == LLM_OK ? 1 : -1;
        goto done;
    }

    root = cJSON_ParseWithLength(payload, payload_len);

    if (!cJSON_IsObject(root)) {
        /* not a chunk: a keep-alive or a server's own noise */
        cJSON_Delete(root);
        return 0;
    }

    if (cJSON_GetObjectItemCaseSensitive(root, "error")
        && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "error")))
    {
        llm_openai_error_json(s->call, 0, root, &e);
        cJSON_Delete(root);
        rc = llm_chunk_error(s, &e) == LLM_OK ? 1 : -1;
        goto done;
    }

    rc = llm_openai_chunk(s, root) == LLM_OK ? 0 : -1;
    cJSON_Delete(root);

done:

    if (rc < 0) {
        ctx->nomem = 1;
    }

    return rc;
}


static int
llm_openai_chunk(llm_stream_t *s, cJSON *root)
{
    cJSON         *choices, *c, *delta;
    const cJSON   *first;

    if (llm_openai_chunk_usage(s, root) != LLM_OK) {
        return LLM_ERROR;
    }

    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");

    /* a usage-only chunk: llm_chunk_end shows usage when asked */
    if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) == 0) {
        return LLM_OK;
    }

    cJSON_ArrayForEach(c, choices) {
        if (cJSON_IsObject(c) && llm_openai_chunk_choice(s, c) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    /* every client sees a role chunk first, whatever the server does */
    first = cJSON_GetArrayItem(choices, 0);
    delta = cJSON_GetObjectItemCaseSensitive(first, "delta");

    if (!s->started && !cJSON_HasObjectItem(delta, "role")
        && llm_chunk_role(s) != LLM_OK)
    {
        return LLM_ERROR;
    }

    return llm_chunk_json(s, root);
}


static int
llm_openai_chunk_usage(llm_stream_t *s, cJSON *root)
{
    cJSON                    *u, *xg;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    u = cJSON_GetObjectItemCaseSensitive(root, "usage");

    if (cJSON_IsObject(u)) {
        memset(&s->usage, 0, sizeof(llm_usage_t));
        llm_openai_usage(u, &s->usage);
        ctx->top_usage = 1;

    } else if (!ctx->top_usage) {
        /* Groq's older form, on the finish chunk */
        xg = cJSON_GetObjectItemCaseSensitive(root, "x_groq");
        u = cJSON_GetObjectItemCaseSensitive(xg, "usage");

        if (cJSON_IsObject(u)) {
            memset(&s->usage, 0, sizeof(llm_usage_t));
            llm_openai_usage(u, &s->usage);
        }
    }

    cJSON_DeleteItemFromObjectCaseSensitive(root, "x_groq");

    if (!s->call->include_usage) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "usage");
        return LLM_OK;
    }

    /* with include_usage every chunk but the usage chunk has null */
    u = cJSON_CreateNull();
    if (u == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_HasObjectItem(root, "usage")) {
        cJSON_ReplaceItemInObjectCaseSensitive(root, "usage", u);

    } else {
        cJSON_AddItemToObject(root, "usage", u);
    }

    return LLM_OK;
}


int
llm_openai_chunk_choice(llm_stream_t *s, cJSON *c)
{
    int          finished;
    cJSON       *fr, *delta, *v;
    const char  *reason;

    finished = 0;
    fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");

    if (cJSON_IsString(fr)) {
        reason = llm_openai_finish(s->call, fr->valuestring);

        if (reason != fr->valuestring) {
            v = cJSON_CreateString(reason);
            if (v == NULL) {
                return LLM_ERROR;
            }

            cJSON_ReplaceItemInObjectCaseSensitive(c, "finish_reason", v);
            fr = v;
        }

        finished = 1;

        if (!s->finished) {
            s->finished = 1;
            memset(s->finish_reason, 0, sizeof(s->finish_reason));
            strncpy(s->finish_reason, fr->valuestring,
                    sizeof(s->finish_reason) - 1);
        }
    }

    if (!cJSON_HasObjectItem(c, "logprobs")
        && cJSON_AddNullToObject(c, "logprobs") == NULL)
    {
        return LLM_ERROR;
    }

    delta = cJSON_GetObjectItemCaseSensitive(c, "delta");

    if (cJSON_IsObject(delta)) {
        if (llm_openai_join_content(delta) != LLM_OK) {
            return LLM_ERROR;
        }

        llm_openai_chunk_delta(s, delta, finished);
    }

    return LLM_OK;
}


static void
llm_openai_chunk_delta(llm_stream_t *s, cJSON *delta, int finished)
{
    int          idx;
    cJSON       *v, *tc, *calls;

    v = cJSON_GetObjectItemCaseSensitive(delta, "content");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        s->content = 1;

    } else if (finished && cJSON_IsString(v)) {
        /* Mistral's finish chunk says "content": "" */
        cJSON_DeleteItemFromObjectCaseSensitive(delta, "content");
    }

    v = cJSON_GetObjectItemCaseSensitive(delta, "reasoning_content");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        s->content = 1;
    }

    calls = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");

    if (!cJSON_IsArray(calls)) {
        return;
    }

    if (cJSON_GetArraySize(calls) == 0) {
        /* Groq sends "tool_calls": [] */
        cJSON_DeleteItemFromObjectCaseSensitive(delta, "tool_calls");
        return;
    }

    s->content = 1;

    cJSON_ArrayForEach(tc, calls) {
        idx = 0;
        v = cJSON_GetObjectItemCaseSensitive(tc, "index");

        if (cJSON_IsNumber(v) && v->valuedouble >= 0
            && v->valuedouble < 1024)
        {
            idx = (int) v->valuedouble;
        }

        if (idx >= s->ntools) {
            s->ntools = idx + 1;
        }
    }
}
