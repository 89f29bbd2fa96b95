/*
 * Copyright (C) ngx_llm authors
 *
 * The adapter registry and the parts of the contract every adapter
 * shares: request headers and the stream object.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"


/*
 * Weak so that the registry links while a provider is being written;
 * llm_adapter_get() answers NULL for a provider without an adapter.
 */
extern const llm_adapter_t  llm_openai_adapter __attribute__((weak));
extern const llm_adapter_t  llm_anthropic_adapter __attribute__((weak));
extern const llm_adapter_t  llm_ollama_adapter __attribute__((weak));
extern const llm_adapter_t  llm_cohere_adapter __attribute__((weak));
extern const llm_adapter_t  llm_azure_adapter __attribute__((weak));
extern const llm_adapter_t  llm_bedrock_adapter __attribute__((weak));
extern const llm_adapter_t  llm_vertex_adapter __attribute__((weak));


const llm_adapter_t *
llm_adapter_get(llm_provider_e provider)
{
    switch (provider) {

    /* Mistral and Groq speak OpenAI's dialect; quirks live in llm_openai.c */
    case LLM_PROVIDER_OPENAI:
    case LLM_PROVIDER_MISTRAL:
    case LLM_PROVIDER_GROQ:
        return &llm_openai_adapter;

    case LLM_PROVIDER_ANTHROPIC:
        return &llm_anthropic_adapter;

    case LLM_PROVIDER_OLLAMA:
        return &llm_ollama_adapter;

    case LLM_PROVIDER_COHERE:
        return &llm_cohere_adapter;

    case LLM_PROVIDER_AZURE:
        return &llm_azure_adapter;

    case LLM_PROVIDER_BEDROCK:
        return &llm_bedrock_adapter;

    case LLM_PROVIDER_VERTEX:
        return &llm_vertex_adapter;

    default:
        return NULL;
    }
}


int
llm_request_build(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    const llm_adapter_t  *a;

    a = llm_adapter_get(call->dep->provider);

    if (a == NULL || a->build_request == NULL) {
        llm_error_set(err, 400, "invalid_request_error", "model_not_found",
                      "model", "model \"%s\": provider \"%s\" is not "
                      "supported by this gateway build", call->model_name,
                      llm_provider_name(call->dep->provider));
        return LLM_ERROR;
    }

    memset(out, 0, sizeof(llm_http_req_t));
    out->method = "POST";

    if (a->build_request(call, out, err) != LLM_OK) {
        llm_http_req_free(out);
        return LLM_ERROR;
    }

    return LLM_OK;
}


int
llm_http_req_add_header(llm_http_req_t *r, const char *name,
    const char *value)
{
    size_t         nlen, vlen;
    llm_header_t  *h;

    if (r->nheaders == LLM_MAX_HEADERS) {
        return LLM_ERROR;
    }

    h = &r->headers[r->nheaders];

    /* name and value in one block: one allocation per header */
    nlen = strlen(name) + 1;
    vlen = strlen(value) + 1;

    h->name = malloc(nlen + vlen);
    if (h->name == NULL) {
        return LLM_ERROR;
    }

    h->value = h->name + nlen;
    h->ref = 0;

    memcpy(h->name, name, nlen);
    memcpy(h->value, value, vlen);

    r->nheaders++;

    return LLM_OK;
}


int
llm_http_req_ref_header(llm_http_req_t *r, const char *name,
    const char *value)
{
    llm_header_t  *h;

    if (r->nheaders == LLM_MAX_HEADERS) {
        return LLM_ERROR;
    }

    h = &r->headers[r->nheaders++];

    h->name = (char *) name;
    h->value = (char *) value;
    h->ref = 1;

    return LLM_OK;
}


void
llm_http_req_free(llm_http_req_t *r)
{
    size_t  i;

    for (i = 0; i < r->nheaders; i++) {
        /* the value shares the name's block */
        if (!r->headers[i].ref) {
            free(r->headers[i].name);
        }
    }

    r->nheaders = 0;
    llm_buf_free(&r->path);
    llm_buf_free(&r->body);
}


llm_stream_t *
llm_stream_new(const llm_call_t *call)
{
    llm_stream_t         *s;
    const llm_adapter_t  *a;

    a = llm_adapter_get(call->dep->provider);
    if (a == NULL || a->stream_feed == NULL) {
        return NULL;
    }

    s = calloc(1, sizeof(llm_stream_t));
    if (s == NULL) {
        return NULL;
    }

    s->adapter = a;
    s->call = call;

    if (a->stream_init && a->stream_init(s) != LLM_OK) {
        free(s);
        return NULL;
    }

    return s;
}


void
llm_stream_free(llm_stream_t *s)
{
    if (s == NULL) {
        return;
    }

    if (s->adapter->stream_free) {
        s->adapter->stream_free(s);
    }

    llm_buf_free(&s->out);
    free(s);
}
