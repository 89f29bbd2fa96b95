/*
 * Copyright (C) ngx_llm authors
 *
 * Cohere v2 non-streaming responses (../shared/providers/cohere.md):
 * ChatResponseV2 -> chat.completion, /v2/embed -> an embeddings list,
 * plus the finish_reason and usage mappings the stream shares.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "llm_adapter.h"


/* llm_cohere.c */
void llm_cohere_error(llm_error_t *err, int status, const char *message);

/* also used by llm_cohere_stream.c */
int llm_cohere_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
const char *llm_cohere_finish(const char *reason, int ntools);
int llm_cohere_failed(const char *reason, const char *error,
    llm_error_t *err);
void llm_cohere_usage(const cJSON *u, llm_usage_t *usage);


static int llm_cohere_chat_response(const llm_call_t *call,
    const cJSON *root, cJSON *o, llm_usage_t *usage, llm_error_t *err);
static int llm_cohere_resp_message(const cJSON *m, cJSON *msg, int *ntools);
static int llm_cohere_resp_texts(const cJSON *content, llm_buf_t *text,
    llm_buf_t *reasoning, int *has_text);
static cJSON *llm_cohere_resp_tool_calls(const cJSON *calls);
static cJSON *llm_cohere_resp_tool_call(const cJSON *t);
static int llm_cohere_embed_response(const llm_call_t *call,
    const cJSON *root, cJSON *o, llm_usage_t *usage, llm_error_t *err);
static cJSON *llm_cohere_vector(const cJSON *vec, int base64);
static long long llm_cohere_count(const cJSON *v);
static void llm_cohere_invalid(llm_error_t *err);


int
llm_cohere_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int     rc;
    char   *json;
    cJSON  *root, *o;

    memset(usage, 0, sizeof(llm_usage_t));

    root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        llm_cohere_invalid(err);
        return LLM_ERROR;
    }

    o = cJSON_CreateObject();
    if (o == NULL) {
        cJSON_Delete(root);
        llm_cohere_invalid(err);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        rc = llm_cohere_embed_response(call, root, o, usage, err);

    } else {
        rc = llm_cohere_chat_response(call, root, o, usage, err);
    }

    cJSON_Delete(root);

    if (rc != LLM_OK) {
        cJSON_Delete(o);
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        free(json);
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      "cohere: out of memory translating the response");
        return LLM_ERROR;
    }

    free(json);

    return LLM_OK;
}


static void
llm_cohere_invalid(llm_error_t *err)
{
    llm_cohere_error(err, 502, "upstream sent an invalid response");
}


/*
 * Chat.
 */

static int
llm_cohere_chat_response(const llm_call_t *call, const cJSON *root,
    cJSON *o, llm_usage_t *usage, llm_error_t *err)
{
    int           ntools;
    cJSON        *choices, *choice, *msg, *u;
    const char   *reason;
    const cJSON  *m, *fr;

    m = cJSON_GetObjectItemCaseSensitive(root, "message");

    /* an error body that came with a 2xx: {"id", "message": "..."} */
    if (cJSON_IsString(m)) {
        llm_cohere_error(err, 502, m->valuestring);
        return LLM_ERROR;
    }

    if (!cJSON_IsObject(m)) {
        llm_cohere_invalid(err);
        return LLM_ERROR;
    }

    llm_cohere_usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), usage);

    fr = cJSON_GetObjectItemCaseSensitive(root, "finish_reason");
    reason = cJSON_IsString(fr) ? fr->valuestring : NULL;

    if (llm_cohere_failed(reason, NULL, err)) {
        return LLM_ERROR;
    }

    cJSON_AddStringToObject(o, "id", call->id);
    cJSON_AddStringToObject(o, "object", "chat.completion");
    cJSON_AddNumberToObject(o, "created", (double) call->created);
    cJSON_AddStringToObject(o, "model",
                            call->model_name ? call->model_name : "");

    choices = cJSON_AddArrayToObject(o, "choices");
    choice = cJSON_CreateObject();
    msg = cJSON_CreateObject();

    if (choices == NULL || choice == NULL || msg == NULL) {
        cJSON_Delete(choice);
        cJSON_Delete(msg);
        goto oom;
    }

    cJSON_AddItemToArray(choices, choice);
    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON_AddItemToObject(choice, "message", msg);

    if (llm_cohere_resp_message(m, msg, &ntools) != LLM_OK) {
        goto oom;
    }

    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason",
                            llm_cohere_finish(reason, ntools));

    u = llm_usage_to_json(usage);
    if (u == NULL) {
        goto oom;
    }

    cJSON_AddItemToObject(o, "usage", u);

    return LLM_OK;

oom:

    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "cohere: out of memory translating the response");
    return LLM_ERROR;
}


/*
 * message: text items joined into content, thinking items into
 * reasoning_content.  tool_plan is the model narrating what it is
 * about to call: it is not the answer, so it is dropped (cohere.md).
 */
static int
llm_cohere_resp_message(const cJSON *m, cJSON *msg, int *ntools)
{
    int        rc, has_text;
    cJSON     *calls;
    llm_buf_t  text, reasoning;

    memset(&text, 0, sizeof(llm_buf_t));
    memset(&reasoning, 0, sizeof(llm_buf_t));

    *ntools = 0;
    calls = NULL;
    rc = LLM_ERROR;

    if (llm_cohere_resp_texts(cJSON_GetObjectItemCaseSensitive(m, "content"),
                         &text, &reasoning, &has_text)
        != LLM_OK)
    {
        goto done;
    }

    calls = llm_cohere_resp_tool_calls(cJSON_GetObjectItemCaseSensitive(
                                      m, "tool_calls"));
    if (calls == NULL) {
        goto done;
    }

    *ntools = cJSON_GetArraySize(calls);

    cJSON_AddStringToObject(msg, "role", "assistant");

    if (has_text || *ntools == 0) {
        cJSON_AddStringToObject(msg, "content", text.data ? text.data : "");

    } else {
        cJSON_AddNullToObject(msg, "content");
    }

    cJSON_AddNullToObject(msg, "refusal");

    if (*ntools) {
        cJSON_AddItemToObject(msg, "tool_calls", calls);
        calls = NULL;
    }

    if (reasoning.len) {
        cJSON_AddStringToObject(msg, "reasoning_content", reasoning.data);
    }

    rc = LLM_OK;

done:

    cJSON_Delete(calls);
    llm_buf_free(&text);
    llm_buf_free(&reasoning);

    return rc;
}


static int
llm_cohere_resp_texts(const cJSON *content, llm_buf_t *text,
    llm_buf_t *reasoning, int *has_text)
{
    const cJSON  *c, *type, *v;

    *has_text = 0;

    /* not Cohere's shape, but cheap to accept */
    if (cJSON_IsString(content)) {
        *has_text = 1;
        return llm_buf_appends(text, content->valuestring) == 0
               ? LLM_OK : LLM_ERROR;
    }

    if (!cJSON_IsArray(content)) {
        return LLM_OK;
    }

    cJSON_ArrayForEach(c, content) {
        type = cJSON_GetObjectItemCaseSensitive(c, "type");

        if (!cJSON_IsString(type)) {
            continue;
        }

        if (strcmp(type->valuestring, "text") == 0) {
            v = cJSON_GetObjectItemCaseSensitive(c, "text");

            if (cJSON_IsString(v)) {
                *has_text = 1;

                if (llm_buf_appends(text, v->valuestring) != 0) {
                    return LLM_ERROR;
                }
            }

        } else if (strcmp(type->valuestring, "thinking") == 0) {
            v = cJSON_GetObjectItemCaseSensitive(c, "thinking");

            if (cJSON_IsString(v)
                && llm_buf_appends(reasoning, v->valuestring) != 0)
            {
                return LLM_ERROR;
            }
        }
    }

    return LLM_OK;
}


/* always an array (maybe empty); NULL only when out of memory */
static cJSON *
llm_cohere_resp_tool_calls(const cJSON *calls)
{
    cJSON        *out, *call;
    const cJSON  *t;

    out = cJSON_CreateArray();
    if (out == NULL) {
        return NULL;
    }

    if (!cJSON_IsArray(calls)) {
        return out;
    }

    cJSON_ArrayForEach(t, calls) {
        if (!cJSON_IsObject(t)) {
            continue;
        }

        call = llm_cohere_resp_tool_call(t);
        if (call == NULL) {
            cJSON_Delete(out);
            return NULL;
        }

        cJSON_AddItemToArray(out, call);
    }

    return out;
}


/* Cohere's tool calls are OpenAI's shape; fill in what may be missing */
static cJSON *
llm_cohere_resp_tool_call(const cJSON *t)
{
    char         id[64], *args;
    cJSON        *call;
    const cJSON  *idv, *f, *name, *a;

    idv = cJSON_GetObjectItemCaseSensitive(t, "id");
    f = cJSON_GetObjectItemCaseSensitive(t, "function");
    name = cJSON_GetObjectItemCaseSensitive(f, "name");
    a = cJSON_GetObjectItemCaseSensitive(f, "arguments");

    if (cJSON_IsString(idv) && idv->valuestring[0]) {
        snprintf(id, sizeof(id), "%s", idv->valuestring);

    } else {
        llm_mint_id(id, sizeof(id), "call_");
    }

    args = NULL;

    if (a && !cJSON_IsString(a) && !cJSON_IsNull(a)) {
        args = cJSON_PrintUnformatted(a);
    }

    call = llm_tool_call_new(cJSON_IsString(idv) && idv->valuestring[0]
                             ? idv->valuestring : id,
                             cJSON_GetStringValue(name),
                             args ? args
                             : cJSON_IsString(a) ? a->valuestring : "{}");
    free(args);

    return call;
}


/* README section 3; unknown values fall back to stop */
const char *
llm_cohere_finish(const char *reason, int ntools)
{
    if (reason && strcmp(reason, "MAX_TOKENS") == 0) {
        return "length";
    }

    if ((reason && strcmp(reason, "TOOL_CALL") == 0) || ntools) {
        return "tool_calls";
    }

    return "stop";
}


/*
 * ERROR and TIMEOUT mean the generation did not finish: an error is
 * more honest than LiteLLM's "stop" (cohere.md).  Returns 1 with err
 * filled when the answer failed.
 */
int
llm_cohere_failed(const char *reason, const char *error, llm_error_t *err)
{
    if (reason && strcmp(reason, "TIMEOUT") == 0) {
        llm_cohere_error(err, 504, (error && error[0]) ? error
                         : "generation timed out (finish_reason TIMEOUT)");
        return 1;
    }

    if ((reason && strcmp(reason, "ERROR") == 0) || (error && error[0])) {
        llm_cohere_error(err, 500, (error && error[0]) ? error
                         : "generation failed (finish_reason ERROR)");
        return 1;
    }

    return 0;
}


/*
 * usage.tokens is what the model processed (LiteLLM's choice);
 * billed_units only when tokens is absent.  Counts may be floats.
 */
void
llm_cohere_usage(const cJSON *u, llm_usage_t *usage)
{
    const cJSON  *tokens, *billed, *in, *out;

    if (!cJSON_IsObject(u)) {
        return;
    }

    tokens = cJSON_GetObjectItemCaseSensitive(u, "tokens");
    billed = cJSON_GetObjectItemCaseSensitive(u, "billed_units");

    in = cJSON_GetObjectItemCaseSensitive(tokens, "input_tokens");
    out = cJSON_GetObjectItemCaseSensitive(tokens, "output_tokens");

    if (!cJSON_IsNumber(in) && !cJSON_IsNumber(out)) {
        in = cJSON_GetObjectItemCaseSensitive(billed, "input_tokens");
        out = cJSON_GetObjectItemCaseSensitive(billed, "output_tokens");
    }

    usage->present = 1;
    usage->prompt_tokens = llm_cohere_count(in);
    usage->completion_tokens = llm_cohere_count(out);
    usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;
    usage->cached_tokens = llm_cohere_count(
                               cJSON_GetObjectItemCaseSensitive(
                                   u, "cached_tokens"));
}


static long long
llm_cohere_count(const cJSON *v)
{
    double  d;

    if (!cJSON_IsNumber(v)) {
        return 0;
    }

    d = v->valuedouble;

    /* also rejects NaN */
    if (!(d >= 0 && d < 1e15)) {
        return 0;
    }

    return (long long) (d + 0.5);
}


/*
 * Embeddings: {embeddings:{float:[[...]]}, meta:{billed_units}} ->
 * {object:"list", data:[{object, index, embedding}], model, usage}.
 */
static int
llm_cohere_embed_response(const llm_call_t *call, const cJSON *root,
    cJSON *o, llm_usage_t *usage, llm_error_t *err)
{
    int           i, base64;
    cJSON        *data, *item, *emb, *u;
    const cJSON  *e, *vecs, *vec, *meta, *in, *fmt;

    e = cJSON_GetObjectItemCaseSensitive(root, "embeddings");

    /* v1-style responses carry the float array directly */
    vecs = cJSON_IsArray(e) ? e : cJSON_GetObjectItemCaseSensitive(e, "float");

    if (!cJSON_IsArray(vecs)) {
        llm_cohere_invalid(err);
        return LLM_ERROR;
    }

    fmt = cJSON_GetObjectItemCaseSensitive(llm_call_req(call),
                                           "encoding_format");
    base64 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "base64") == 0;

    cJSON_AddStringToObject(o, "object", "list");

    data = cJSON_AddArrayToObject(o, "data");
    if (data == NULL) {
        goto oom;
    }

    i = 0;

    cJSON_ArrayForEach(vec, vecs) {
        if (!cJSON_IsArray(vec)) {
            llm_cohere_invalid(err);
            return LLM_ERROR;
        }

        emb = llm_cohere_vector(vec, base64);
        item = cJSON_CreateObject();

        if (emb == NULL || item == NULL) {
            cJSON_Delete(emb);
            cJSON_Delete(item);
            goto oom;
        }

        cJSON_AddItemToArray(data, item);
        cJSON_AddStringToObject(item, "object", "embedding");
        cJSON_AddNumberToObject(item, "index", i++);
        cJSON_AddItemToObject(item, "embedding", emb);
    }

    cJSON_AddStringToObject(o, "model",
                            call->model_name ? call->model_name : "");

    meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
    in = cJSON_GetObjectItemCaseSensitive(
             cJSON_GetObjectItemCaseSensitive(meta, "billed_units"),
             "input_tokens");

    if (!cJSON_IsNumber(in)) {
        in = cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(meta, "tokens"),
                 "input_tokens");
    }

    usage->present = cJSON_IsNumber(in);
    usage->prompt_tokens = llm_cohere_count(in);
    usage->total_tokens = usage->prompt_tokens;

    u = cJSON_AddObjectToObject(o, "usage");

    if (u == NULL
        || cJSON_AddNumberToObject(u, "prompt_tokens",
                                   (double) usage->prompt_tokens) == NULL
        || cJSON_AddNumberToObject(u, "total_tokens",
                                   (double) usage->total_tokens) == NULL)
    {
        goto oom;
    }

    return LLM_OK;

oom:

    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "cohere: out of memory translating the response");
    return LLM_ERROR;
}


/*
 * OpenAI's base64 encoding is the vector as little-endian float32,
 * base64-encoded.  NULL when out of memory.
 */
static cJSON *
llm_cohere_vector(const cJSON *vec, int base64)
{
    int            n, i;
    float          f;
    cJSON         *s;
    uint32_t       bits;
    const cJSON   *v;
    unsigned char  *raw, *b64;

    if (!base64) {
        return cJSON_Duplicate(vec, 1);
    }

    n = cJSON_GetArraySize(vec);

    raw = malloc((size_t) n * 4 + 1);
    b64 = malloc(((size_t) n * 4 + 2) / 3 * 4 + 1);

    if (raw == NULL || b64 == NULL) {
        free(raw);
        free(b64);
        return NULL;
    }

    i = 0;

    cJSON_ArrayForEach(v, vec) {
        f = cJSON_IsNumber(v) ? (float) v->valuedouble : 0.0f;
        memcpy(&bits, &f, sizeof(uint32_t));

        raw[i++] = (unsigned char) (bits & 0xff);
        raw[i++] = (unsigned char) ((bits >> 8) & 0xff);
        raw[i++] = (unsigned char) ((bits >> 16) & 0xff);
        raw[i++] = (unsigned char) (bits >> 24);
    }

    EVP_EncodeBlock(b64, raw, i);

    s = cJSON_CreateString((char *) b64);

    free(raw);
    free(b64);

    return s;
}
