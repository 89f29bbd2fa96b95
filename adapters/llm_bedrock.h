/*
 * Copyright (C) ngx_llm authors
 *
 * AWS Bedrock: Converse / ConverseStream for chat, InvokeModel for the
 * Titan and Cohere embedding models (../shared/providers/bedrock.md).
 * The adapter is split along its seams:
 *
 *   llm_bedrock.c           adapter table, endpoint, SigV4 or API key
 *   llm_bedrock_converse.c  OpenAI request -> Converse body
 *   llm_bedrock_messages.c  OpenAI messages -> Converse system, messages
 *   llm_bedrock_response.c  Converse and embedding responses, errors
 *   llm_bedrock_stream.c    event-stream frames -> OpenAI chunks
 *   llm_bedrock_embed.c     OpenAI embeddings <-> Titan / Cohere bodies
 */

#ifndef _LLM_BEDROCK_H_INCLUDED_
#define _LLM_BEDROCK_H_INCLUDED_


#include "llm_adapter.h"


#define LLM_BEDROCK_NAME  "bedrock"

/*
 * Claude on Bedrock needs maxTokens; this is sent to Anthropic models
 * when neither the client nor the deployment gave a limit
 */
#define LLM_BEDROCK_DEFAULT_MAX_TOKENS  4096


extern const llm_adapter_t  llm_bedrock_adapter;


/* which embedding body a model id takes */
typedef enum {
    LLM_BEDROCK_EMBED_NONE = 0,
    LLM_BEDROCK_EMBED_TITAN,        /* amazon.titan-embed-text-v2:0 */
    LLM_BEDROCK_EMBED_TITAN_V1,     /* no dimensions / normalize */
    LLM_BEDROCK_EMBED_COHERE        /* cohere.embed-*-v3 */
} llm_bedrock_embed_e;


/* the Bedrock model id of the deployment, without converse/ or invoke/ */
const char *llm_bedrock_model_id(const llm_deployment_t *dep);
llm_bedrock_embed_e llm_bedrock_embed_kind(const char *model_id);

/* what the mapped messages say about tools */
typedef struct {
    cJSON       *tool_names;    /* names of the toolUse blocks sent */
    int          tool_blocks;   /* toolUse or toolResult blocks were sent */
} llm_bedrock_conv_t;

/* "system" and "messages" of out from the OpenAI messages array */
int llm_bedrock_messages(llm_bedrock_conv_t *cv, cJSON *out,
    const cJSON *messages, llm_error_t *err);
void llm_bedrock_conv_free(llm_bedrock_conv_t *cv);

/* the Converse body for the call; NULL with err filled */
cJSON *llm_bedrock_converse_body(const llm_call_t *call, llm_error_t *err);
/* the InvokeModel body of an embedding model; NULL with err filled */
cJSON *llm_bedrock_embed_body(const llm_call_t *call, llm_error_t *err);

int llm_bedrock_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
int llm_bedrock_embed_response(const llm_call_t *call, const cJSON *root,
    llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
void llm_bedrock_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);

/*
 * An exception name (ThrottlingException, throttlingException, with or
 * without a "ns#" prefix or ":url" suffix) and message -> OpenAI error.
 * status is the HTTP status seen (0 inside a stream); a known name
 * decides the status itself.
 */
void llm_bedrock_error(llm_error_t *err, int status, const char *type,
    const char *message);

/* stopReason -> OpenAI finish_reason; NULL/unknown -> "stop" */
const char *llm_bedrock_finish(const char *stop_reason);
/* a Converse usage object -> u (prompt includes cache reads and writes) */
void llm_bedrock_usage(llm_usage_t *u, const cJSON *usage);

int llm_bedrock_stream_init(llm_stream_t *s);
int llm_bedrock_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_bedrock_stream_eof(llm_stream_t *s);
void llm_bedrock_stream_free(llm_stream_t *s);

void llm_bedrock_oom(llm_error_t *err);
/* adds item to obj, or frees it: ownership passes either way */
int llm_bedrock_put(cJSON *obj, const char *key, cJSON *item);
void llm_bedrock_invalid(llm_error_t *err);


#endif /* _LLM_BEDROCK_H_INCLUDED_ */
