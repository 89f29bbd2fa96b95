/*
 * Copyright (C) ngx_llm authors
 *
 * Google Vertex AI (../shared/providers/vertex.md), private to the
 * llm_vertex*.c files.  One adapter, three kinds of call:
 *
 *   Gemini      :generateContent / :streamGenerateContent?alt=sse
 *   Claude      :rawPredict / :streamRawPredict with the Anthropic body,
 *               translated by the Anthropic adapter's functions
 *   embeddings  :predict (text-embedding-*, gemini-embedding-*)
 *
 * The files:
 *
 *   llm_vertex.c           adapter table, URL, auth, errors, dispatch
 *   llm_vertex_request.c   Gemini body: generationConfig, tools
 *   llm_vertex_contents.c  messages -> contents and systemInstruction
 *   llm_vertex_schema.c    JSON Schema -> Vertex's OpenAPI subset
 *   llm_vertex_response.c  candidates -> choices, usage, finish reasons
 *   llm_vertex_stream.c    the Gemini SSE stream
 *   llm_vertex_embed.c     :predict request and response
 *
 * The OAuth2 token comes from the glue in call->access_token (see
 * llm_google_auth.h for how it is obtained).
 */

#ifndef _LLM_VERTEX_H_INCLUDED_
#define _LLM_VERTEX_H_INCLUDED_


#include "llm_adapter.h"


#define LLM_VERTEX_NAME               "vertex_ai"
#define LLM_VERTEX_ANTHROPIC_VERSION  "vertex-2023-10-16"

/*
 * Gemini's thoughtSignature rides in the tool-call id handed to the
 * client ("call_..." LLM_VERTEX_THOUGHT_SEP "<signature>"), as LiteLLM
 * does, so that it comes back with the assistant turn.
 */
#define LLM_VERTEX_THOUGHT_SEP        "__thought__"


typedef enum {
    LLM_VERTEX_GEMINI = 0,
    LLM_VERTEX_CLAUDE,
    LLM_VERTEX_EMBED
} llm_vertex_kind_e;


extern const llm_adapter_t  llm_vertex_adapter;


llm_vertex_kind_e llm_vertex_kind(const llm_call_t *call);

void llm_vertex_oom(llm_error_t *err);
void llm_vertex_invalid(llm_error_t *err);

/* adds item to obj, or frees it: ownership passes either way */
int llm_vertex_put(cJSON *obj, const char *key, cJSON *item);

/* the generateContent body for the call; NULL with err filled */
cJSON *llm_vertex_gemini_body(const llm_call_t *call, llm_error_t *err);

/* "contents" and "systemInstruction" of out from OpenAI messages */
int llm_vertex_contents(cJSON *out, const cJSON *messages,
    llm_error_t *err);

/*
 * A JSON Schema reduced to what Vertex's Schema object takes; root is
 * where "#/$defs/..." references are looked up.  NULL when s is not a
 * schema object or on allocation failure.
 */
cJSON *llm_vertex_schema(const cJSON *s, const cJSON *root);

/* an OpenAI tool/function parameters schema, or NULL to send none */
cJSON *llm_vertex_parameters(const cJSON *params);

/* a 2xx generateContent body -> chat.completion (adapter signature) */
int llm_vertex_gemini_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);

/* finishReason -> OpenAI finish_reason; tools: a functionCall was seen */
const char *llm_vertex_finish(const char *reason, int tools);

/* usageMetadata -> usage (left untouched when um is not an object) */
void llm_vertex_usage(llm_usage_t *u, const cJSON *um);

/*
 * The id handed to the client for the k-th functionCall part of a
 * reply: functionCall.id, else call_<reply id>_<k>; plus the part's
 * thoughtSignature.  malloc()ed; NULL on allocation failure.
 */
char *llm_vertex_tool_id(const llm_call_t *call, int k, const cJSON *part);

/*
 * A Google API error object {"code","message","status"} -> OpenAI
 * error; status 0 takes the HTTP status from the object.
 */
void llm_vertex_google_error(llm_error_t *err, int status, const cJSON *e);

/* the Gemini SSE stream (s->priv) */
int llm_vertex_stream_init_gemini(llm_stream_t *s);
int llm_vertex_stream_feed_gemini(llm_stream_t *s, const char *p,
    size_t n);
int llm_vertex_stream_eof_gemini(llm_stream_t *s);
void llm_vertex_stream_free_gemini(llm_stream_t *s);

/* :predict */
cJSON *llm_vertex_embed_body(const llm_call_t *call, llm_error_t *err);
int llm_vertex_embed_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);


#endif /* _LLM_VERTEX_H_INCLUDED_ */
