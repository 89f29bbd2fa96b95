/*
 * Copyright (C) ngx_llm authors
 *
 * Anthropic Messages API (../shared/providers/anthropic.md).  The same
 * body, response and stream are spoken by Claude on Vertex (rawPredict)
 * and on Bedrock (InvokeModel), so the pieces are exported for those
 * adapters.  The adapter is split along its seams:
 *
 *   llm_anthropic.c           adapter table, request body parameters
 *   llm_anthropic_messages.c  messages, content parts, system
 *   llm_anthropic_response.c  responses, usage, errors
 *   llm_anthropic_stream.c    the SSE stream translator
 */

#ifndef _LLM_ANTHROPIC_H_INCLUDED_
#define _LLM_ANTHROPIC_H_INCLUDED_


#include "llm_adapter.h"


/*
 * Anthropic requires max_tokens; this is sent when neither the client
 * nor the deployment gave max_completion_tokens or max_tokens
 */
#define LLM_ANTHROPIC_DEFAULT_MAX_TOKENS  4096

/* the forced tool that carries response_format json_schema/json_object */
#define LLM_ANTHROPIC_JSON_TOOL  "json_tool_call"


extern const llm_adapter_t  llm_anthropic_adapter;


/*
 * For other adapters (Vertex Claude, Bedrock InvokeModel).
 */

/*
 * The Messages API body for the call, from llm_request_prepare():
 * "model" is dep->model_id and "stream" is set when call->stream.
 * Vertex deletes "model" and adds anthropic_version; Bedrock deletes
 * both and adds its own anthropic_version.  NULL with err filled.
 */
cJSON *llm_anthropic_body(const llm_call_t *call, llm_error_t *err);

/* a 2xx Messages body -> chat.completion JSON (adapter signature) */
int llm_anthropic_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);

/* an Anthropic error body -> OpenAI error (adapter signature) */
void llm_anthropic_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);

/*
 * An error type and message -> OpenAI error; status 0 (or 2xx) derives
 * the status from the type (overloaded_error -> 529 -> 503 ...).
 */
void llm_anthropic_error(llm_error_t *err, int status, const char *type,
    const char *message);

/* stop_reason -> OpenAI finish_reason; NULL/unknown -> "stop" */
const char *llm_anthropic_finish(const char *stop_reason);

/* the SSE stream (Anthropic direct, Vertex streamRawPredict): s->priv */
int llm_anthropic_stream_init(llm_stream_t *s);
int llm_anthropic_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_anthropic_stream_eof(llm_stream_t *s);
void llm_anthropic_stream_free(llm_stream_t *s);

/*
 * The translator without a framer, for Bedrock's event-stream whose
 * frames carry the same event JSON.  event may be NULL: the JSON's
 * "type" names the event.  eof emits the "closed before it ended"
 * error when message_stop never came.
 */
typedef struct llm_anthropic_tr_s  llm_anthropic_tr_t;

llm_anthropic_tr_t *llm_anthropic_tr_new(const llm_call_t *call);
int llm_anthropic_tr_event(llm_stream_t *s, llm_anthropic_tr_t *t,
    const char *event, const char *json, size_t len);
int llm_anthropic_tr_eof(llm_stream_t *s, llm_anthropic_tr_t *t);
void llm_anthropic_tr_free(llm_anthropic_tr_t *t);


/*
 * Shared between the llm_anthropic*.c files.
 */

typedef struct {
    long long   input;
    long long   cache_write;        /* cache_creation_input_tokens */
    long long   cache_read;         /* cache_read_input_tokens */
    long long   output;
    int         present;
} llm_anthropic_usage_t;

/* takes the counts present in an Anthropic usage object; NULL-safe */
void llm_anthropic_usage_read(llm_anthropic_usage_t *au, const cJSON *u);
void llm_anthropic_usage_set(llm_usage_t *u, const llm_anthropic_usage_t *au);

/* response_format asked for JSON: the forced-tool fallback is in use */
int llm_anthropic_json_mode(const llm_call_t *call);

/* "system" and "messages" of body from the OpenAI messages array */
int llm_anthropic_messages(cJSON *body, const cJSON *messages,
    llm_error_t *err);

void llm_anthropic_oom(llm_error_t *err);

/* adds item to obj, or frees it: ownership passes either way */
int llm_anthropic_put(cJSON *obj, const char *key, cJSON *item);

/* an id for a tool call that came without one: call_<reply id>_<k> */
void llm_anthropic_tool_id(char *buf, size_t size, const llm_call_t *call,
    int k);


#endif /* _LLM_ANTHROPIC_H_INCLUDED_ */
