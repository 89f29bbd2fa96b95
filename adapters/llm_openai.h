/*
 * Copyright (C) ngx_llm authors
 *
 * Internal to the OpenAI-dialect adapter (OpenAI, Mistral, Groq), which
 * is split along its seams: llm_openai.c (requests), llm_openai_resp.c
 * (responses, embeddings, errors) and llm_openai_stream.c (streams).
 */

#ifndef _LLM_OPENAI_H_INCLUDED_
#define _LLM_OPENAI_H_INCLUDED_


#include "llm_adapter.h"
#include "llm_json.h"


/*
 * "openai", "mistral", "groq" or "azure" (llm_azure.c reuses this
 * adapter's parts): message prefix and error flavour
 */
const char *llm_openai_provider(const llm_call_t *call);

/* Mistral's finish_reason values mapped to OpenAI's; others unchanged */
const char *llm_openai_finish(const llm_call_t *call, const char *reason);

/*
 * Mistral may send content as an array of text and thinking chunks:
 * joins the text into "content" and the thinking into
 * "reasoning_content" of the message or delta object m
 */
int llm_openai_join_content(cJSON *m);

/* reads an OpenAI/Mistral/Groq usage object; NULL-safe */
void llm_openai_usage(const cJSON *u, llm_usage_t *usage);

/* an error body or stream error event (already parsed) -> e */
void llm_openai_error_json(const llm_call_t *call, int status,
    const cJSON *root, llm_error_t *e);

int llm_openai_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
void llm_openai_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);

/* sets stream_options.include_usage in a request body b */
int llm_openai_stream_usage(cJSON *b);

/*
 * one choice of an upstream chunk, in place: finish_reason mapped and
 * recorded in s, logprobs filled, content and tool-call state noted
 */
int llm_openai_chunk_choice(llm_stream_t *s, cJSON *c);

/*
 * The fast paths, for provider "openai" only: the upstream body (or
 * chunk) is the client's (or upstream's) bytes spliced, with the same
 * JSON as the cJSON path gives.  They return LLM_OK, LLM_ERROR (out of
 * memory) or LLM_DECLINED, having changed nothing, and then the cJSON
 * path runs.  Tests call both paths to compare them.
 */
int llm_openai_fast_request(const llm_call_t *call, llm_buf_t *body);
int llm_openai_fast_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage);
int llm_openai_fast_chunk(llm_stream_t *s, const char *p, size_t n);
/* reads a usage object of an accepted document; LLM_DECLINED if odd */
int llm_openai_fast_usage(const char *p, const llm_json_tape_t *tape,
    const llm_json_member_t *u, llm_usage_t *usage);

/* the cJSON paths */
int llm_openai_request_tree(const llm_call_t *call, llm_buf_t *body,
    llm_error_t *err);
int llm_openai_response_tree(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
/* this stream takes the cJSON path for every chunk (tests) */
void llm_openai_stream_slow(llm_stream_t *s);

int llm_openai_stream_init(llm_stream_t *s);
int llm_openai_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_openai_stream_eof(llm_stream_t *s);
void llm_openai_stream_free(llm_stream_t *s);


#endif /* _LLM_OPENAI_H_INCLUDED_ */
