/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI chat.completion.chunk events.  Every stream translator emits
 * through these so that, whichever provider answered, the client sees
 * the same sequence: role, deltas, finish, usage (when asked), [DONE].
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"


static int llm_chunk_open(llm_stream_t *s);
static int llm_chunk_close(llm_stream_t *s, const char *finish_reason);


/* data: {"id":..,"object":..,"created":..,"model":..,"choices":[{"index":0,"delta": */
static int
llm_chunk_open(llm_stream_t *s)
{
    const llm_call_t  *call = s->call;
    const char        *model;

    model = call->model_name ? call->model_name : "";

    if (llm_buf_appends(&s->out, "data: {\"id\":") != 0
        || llm_buf_append_json_str(&s->out, call->id, strlen(call->id)) != 0
        || llm_buf_printf(&s->out, ",\"object\":\"chat.completion.chunk\","
                          "\"created\":%lld,\"model\":", call->created) != 0
        || llm_buf_append_json_str(&s->out, model, strlen(model)) != 0
        || llm_buf_appends(&s->out,
                           ",\"choices\":[{\"index\":0,\"delta\":") != 0)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_chunk_close(llm_stream_t *s, const char *finish_reason)
{
    if (llm_buf_appends(&s->out, ",\"logprobs\":null,\"finish_reason\":")
        != 0)
    {
        return LLM_ERROR;
    }

    if (finish_reason) {
        if (llm_buf_append_json_str(&s->out, finish_reason,
                                    strlen(finish_reason)) != 0)
        {
            return LLM_ERROR;
        }

    } else if (llm_buf_appends(&s->out, "null") != 0) {
        return LLM_ERROR;
    }

    if (llm_buf_appends(&s->out, "}]") != 0) {
        return LLM_ERROR;
    }

    /* with include_usage every chunk but the last carries "usage": null */
    if (s->call->include_usage
        && llm_buf_appends(&s->out, ",\"usage\":null") != 0)
    {
        return LLM_ERROR;
    }

    return llm_buf_appends(&s->out, "}\n\n") == 0 ? LLM_OK : LLM_ERROR;
}


int
llm_chunk_role(llm_stream_t *s)
{
    if (s->started) {
        return LLM_OK;
    }

    s->started = 1;

    if (llm_chunk_open(s) != LLM_OK
        || llm_buf_appends(&s->out,
                           "{\"role\":\"assistant\",\"content\":\"\"}") != 0)
    {
        return LLM_ERROR;
    }

    return llm_chunk_close(s, NULL);
}


static int
llm_chunk_text(llm_stream_t *s, const char *key, const char *text,
    size_t len)
{
    if (len == 0) {
        return LLM_OK;
    }

    if (llm_chunk_role(s) != LLM_OK || llm_chunk_open(s) != LLM_OK) {
        return LLM_ERROR;
    }

    s->content = 1;

    if (llm_buf_printf(&s->out, "{\"%s\":", key) != 0
        || llm_buf_append_json_str(&s->out, text, len) != 0
        || llm_buf_appends(&s->out, "}") != 0)
    {
        return LLM_ERROR;
    }

    return llm_chunk_close(s, NULL);
}


int
llm_chunk_content(llm_stream_t *s, const char *text, size_t len)
{
    return llm_chunk_text(s, "content", text, len);
}


int
llm_chunk_reasoning(llm_stream_t *s, const char *text, size_t len)
{
    return llm_chunk_text(s, "reasoning_content", text, len);
}


int
llm_chunk_tool_start(llm_stream_t *s, int index, const char *id,
    const char *name)
{
    if (llm_chunk_role(s) != LLM_OK || llm_chunk_open(s) != LLM_OK) {
        return LLM_ERROR;
    }

    s->content = 1;

    if (index >= s->ntools) {
        s->ntools = index + 1;
    }

    if (llm_buf_printf(&s->out, "{\"tool_calls\":[{\"index\":%d,\"id\":",
                       index) != 0
        || llm_buf_append_json_str(&s->out, id, strlen(id)) != 0
        || llm_buf_appends(&s->out,
                           ",\"type\":\"function\",\"function\":{\"name\":")
           != 0
        || llm_buf_append_json_str(&s->out, name, strlen(name)) != 0
        || llm_buf_appends(&s->out, ",\"arguments\":\"\"}}]}") != 0)
    {
        return LLM_ERROR;
    }

    return llm_chunk_close(s, NULL);
}


int
llm_chunk_tool_args(llm_stream_t *s, int index, const char *frag,
    size_t len)
{
    if (len == 0) {
        return LLM_OK;
    }

    if (llm_chunk_role(s) != LLM_OK || llm_chunk_open(s) != LLM_OK) {
        return LLM_ERROR;
    }

    s->content = 1;

    if (llm_buf_printf(&s->out, "{\"tool_calls\":[{\"index\":%d,"
                       "\"function\":{\"arguments\":", index) != 0
        || llm_buf_append_json_str(&s->out, frag, len) != 0
        || llm_buf_appends(&s->out, "}}]}") != 0)
    {
        return LLM_ERROR;
    }

    return llm_chunk_close(s, NULL);
}


int
llm_chunk_finish(llm_stream_t *s, const char *reason)
{
    if (s->finished) {
        return LLM_OK;
    }

    if (reason == NULL || reason[0] == '\0') {
        reason = s->ntools ? "tool_calls" : "stop";
    }

    if (llm_chunk_role(s) != LLM_OK || llm_chunk_open(s) != LLM_OK) {
        return LLM_ERROR;
    }

    s->finished = 1;
    snprintf(s->finish_reason, sizeof(s->finish_reason), "%s", reason);

    if (llm_buf_appends(&s->out, "{}") != 0) {
        return LLM_ERROR;
    }

    return llm_chunk_close(s, reason);
}


int
llm_chunk_end(llm_stream_t *s)
{
    char        *json;
    cJSON       *usage;
    const char  *model;

    if (s->done) {
        return LLM_OK;
    }

    if (llm_chunk_finish(s, NULL) != LLM_OK) {
        return LLM_ERROR;
    }

    s->done = 1;

    if (s->call->include_usage) {
        usage = llm_usage_to_json(&s->usage);
        if (usage == NULL) {
            return LLM_ERROR;
        }

        json = cJSON_PrintUnformatted(usage);
        cJSON_Delete(usage);

        if (json == NULL) {
            return LLM_ERROR;
        }

        model = s->call->model_name ? s->call->model_name : "";

        if (llm_buf_appends(&s->out, "data: {\"id\":") != 0
            || llm_buf_append_json_str(&s->out, s->call->id,
                                       strlen(s->call->id)) != 0
            || llm_buf_printf(&s->out,
                              ",\"object\":\"chat.completion.chunk\","
                              "\"created\":%lld,\"model\":",
                              s->call->created) != 0
            || llm_buf_append_json_str(&s->out, model, strlen(model)) != 0
            || llm_buf_printf(&s->out, ",\"choices\":[],\"usage\":%s}\n\n",
                              json) != 0)
        {
            free(json);
            return LLM_ERROR;
        }

        free(json);
    }

    return llm_buf_appends(&s->out, "data: [DONE]\n\n") == 0
           ? LLM_OK : LLM_ERROR;
}


int
llm_chunk_error(llm_stream_t *s, const llm_error_t *e)
{
    if (s->done) {
        return LLM_OK;
    }

    if (e != &s->error) {
        s->error = *e;
    }

    s->failed = 1;
    s->done = 1;

    if (llm_buf_appends(&s->out, "data: ") != 0
        || llm_error_json(e, &s->out) != 0
        || llm_buf_appends(&s->out, "\n\ndata: [DONE]\n\n") != 0)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* replaces in place, so the provider's key order is kept */
static int
llm_chunk_set(cJSON *obj, const char *key, cJSON *v)
{
    if (v == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_GetObjectItemCaseSensitive(obj, key)) {
        return cJSON_ReplaceItemInObjectCaseSensitive(obj, key, v)
               ? LLM_OK : LLM_ERROR;
    }

    return cJSON_AddItemToObject(obj, key, v) ? LLM_OK : LLM_ERROR;
}


int
llm_chunk_json(llm_stream_t *s, cJSON *chunk)
{
    char        *json;
    const char  *model;

    model = s->call->model_name ? s->call->model_name : "";

    /* one id, one created and the client's model name on every chunk */
    if (llm_chunk_set(chunk, "id", cJSON_CreateString(s->call->id)) != LLM_OK
        || llm_chunk_set(chunk, "created",
                         cJSON_CreateNumber((double) s->call->created))
           != LLM_OK
        || llm_chunk_set(chunk, "model", cJSON_CreateString(model))
           != LLM_OK)
    {
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(chunk);
    if (json == NULL) {
        return LLM_ERROR;
    }

    s->started = 1;

    if (llm_buf_printf(&s->out, "data: %s\n\n", json) != 0) {
        free(json);
        return LLM_ERROR;
    }

    free(json);

    return LLM_OK;
}


cJSON *
llm_usage_to_json(const llm_usage_t *u)
{
    cJSON  *o, *d;

    o = cJSON_CreateObject();
    if (o == NULL) {
        return NULL;
    }

    cJSON_AddNumberToObject(o, "prompt_tokens", (double) u->prompt_tokens);
    cJSON_AddNumberToObject(o, "completion_tokens",
                            (double) u->completion_tokens);
    cJSON_AddNumberToObject(o, "total_tokens",
                            (double) (u->prompt_tokens
                                      + u->completion_tokens));

    if (u->cached_tokens || u->cache_write_tokens) {
        d = cJSON_AddObjectToObject(o, "prompt_tokens_details");
        if (d) {
            cJSON_AddNumberToObject(d, "cached_tokens",
                                    (double) u->cached_tokens);
            if (u->cache_write_tokens) {
                cJSON_AddNumberToObject(d, "cache_write_tokens",
                                        (double) u->cache_write_tokens);
            }
        }
    }

    if (u->reasoning_tokens) {
        d = cJSON_AddObjectToObject(o, "completion_tokens_details");
        if (d) {
            cJSON_AddNumberToObject(d, "reasoning_tokens",
                                    (double) u->reasoning_tokens);
        }
    }

    return o;
}


cJSON *
llm_tool_call_new(const char *id, const char *name, const char *arguments)
{
    cJSON  *tc, *fn;

    tc = cJSON_CreateObject();
    if (tc == NULL) {
        return NULL;
    }

    if (cJSON_AddStringToObject(tc, "id", id) == NULL
        || cJSON_AddStringToObject(tc, "type", "function") == NULL
        || (fn = cJSON_AddObjectToObject(tc, "function")) == NULL
        || cJSON_AddStringToObject(fn, "name", name ? name : "") == NULL
        || cJSON_AddStringToObject(fn, "arguments", arguments) == NULL)
    {
        cJSON_Delete(tc);
        return NULL;
    }

    return tc;
}


cJSON *
llm_message_new(const char *content, const char *reasoning,
    cJSON **thinking_blocks, cJSON **tool_calls)
{
    cJSON  *msg;

    msg = cJSON_CreateObject();
    if (msg == NULL) {
        return NULL;
    }

    if (cJSON_AddStringToObject(msg, "role", "assistant") == NULL
        || (content ? cJSON_AddStringToObject(msg, "content", content)
                    : cJSON_AddNullToObject(msg, "content")) == NULL
        || cJSON_AddNullToObject(msg, "refusal") == NULL
        || (reasoning
            && cJSON_AddStringToObject(msg, "reasoning_content", reasoning)
               == NULL))
    {
        cJSON_Delete(msg);
        return NULL;
    }

    if (cJSON_GetArraySize(*thinking_blocks)) {
        cJSON_AddItemToObject(msg, "thinking_blocks", *thinking_blocks);
        *thinking_blocks = NULL;
    }

    if (cJSON_GetArraySize(*tool_calls)) {
        cJSON_AddItemToObject(msg, "tool_calls", *tool_calls);
        *tool_calls = NULL;
    }

    return msg;
}
