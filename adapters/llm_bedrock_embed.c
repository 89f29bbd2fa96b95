/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI embeddings through InvokeModel (../shared/providers/bedrock.md,
 * "Embeddings via InvokeModel"): the Titan Text Embeddings body
 * {"inputText"} and the Cohere Embed body {"texts", "input_type"}, and
 * their answers back to OpenAI's list of embeddings.
 */


#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "llm_bedrock.h"


static int llm_bedrock_embed_inputs(const cJSON *input, cJSON *texts,
    llm_error_t *err);
static int llm_bedrock_embed_format(const cJSON *b, llm_error_t *err);
static cJSON *llm_bedrock_titan(cJSON *b, cJSON *texts,
    llm_bedrock_embed_e kind, const llm_call_t *call, llm_error_t *err);
static cJSON *llm_bedrock_cohere(cJSON *b, cJSON *texts,
    const llm_call_t *call, llm_error_t *err);
static cJSON *llm_bedrock_embedding(const cJSON *vec, int index, int b64);
static cJSON *llm_bedrock_b64_vector(const cJSON *vec);


/* dimensions exist for Titan V2 only */
static const char *const  llm_bedrock_no_dimensions[] = {
    "dimensions",
    NULL
};


cJSON *
llm_bedrock_embed_body(const llm_call_t *call, llm_error_t *err)
{
    cJSON                *b, *texts, *out;
    const char           *id;
    llm_bedrock_embed_e   kind;

    id = llm_bedrock_model_id(call->dep);
    kind = llm_bedrock_embed_kind(id);

    if (kind == LLM_BEDROCK_EMBED_NONE) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "bedrock model \"%s\" (%s) is not a Titan or Cohere "
                      "embedding model", call->model_name, id);
        return NULL;
    }

    b = llm_request_prepare(call);
    texts = cJSON_CreateArray();
    out = NULL;

    if (b == NULL || texts == NULL) {
        llm_bedrock_oom(err);

    } else if (llm_bedrock_embed_inputs(
                   cJSON_GetObjectItemCaseSensitive(b, "input"), texts, err)
               == LLM_OK
               && llm_bedrock_embed_format(b, err) == LLM_OK)
    {
        out = (kind == LLM_BEDROCK_EMBED_COHERE)
              ? llm_bedrock_cohere(b, texts, call, err)
              : llm_bedrock_titan(b, texts, kind, call, err);
    }

    cJSON_Delete(texts);
    cJSON_Delete(b);

    return out;
}


/* input: a string or an array of strings; token arrays have no body */
static int
llm_bedrock_embed_inputs(const cJSON *input, cJSON *texts, llm_error_t *err)
{
    const cJSON  *v;

    if (cJSON_IsString(input)) {
        return cJSON_AddItemToArray(texts,
                                    cJSON_CreateString(input->valuestring))
               ? LLM_OK : (llm_bedrock_oom(err), LLM_ERROR);
    }

    if (!cJSON_IsArray(input) || cJSON_GetArraySize(input) == 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                      "'input' must be a string or a non-empty array of "
                      "strings");
        return LLM_ERROR;
    }

    cJSON_ArrayForEach(v, input) {
        if (!cJSON_IsString(v)) {
            llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                          "bedrock embeds text only: 'input' must be a "
                          "string or an array of strings, not tokens");
            return LLM_ERROR;
        }

        if (!cJSON_AddItemToArray(texts, cJSON_CreateString(v->valuestring)))
        {
            llm_bedrock_oom(err);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


/* float or base64: the gateway packs base64 from the floats */
static int
llm_bedrock_embed_format(const cJSON *b, llm_error_t *err)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "encoding_format");

    if (v == NULL || cJSON_IsNull(v)
        || (cJSON_IsString(v) && (strcmp(v->valuestring, "float") == 0
                                  || strcmp(v->valuestring, "base64") == 0)))
    {
        return LLM_OK;
    }

    llm_error_set(err, 400, "invalid_request_error", NULL, "encoding_format",
                  "'encoding_format' must be \"float\" or \"base64\"");

    return LLM_ERROR;
}


/*
 * Titan embeds one text per call; the adapter makes one call per
 * request, so an array must hold a single text.
 */
static cJSON *
llm_bedrock_titan(cJSON *b, cJSON *texts, llm_bedrock_embed_e kind,
    const llm_call_t *call, llm_error_t *err)
{
    cJSON        *out;
    const cJSON  *v;

    if (cJSON_GetArraySize(texts) != 1) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                      "bedrock: Titan embedding models take one text per "
                      "request, got %d", cJSON_GetArraySize(texts));
        return NULL;
    }

    if (kind == LLM_BEDROCK_EMBED_TITAN_V1
        && llm_request_drop_unsupported(b, llm_bedrock_no_dimensions,
                                        call->drop_params, LLM_BEDROCK_NAME,
                                        err) != LLM_OK)
    {
        return NULL;
    }

    out = cJSON_CreateObject();

    if (out == NULL
        || cJSON_AddStringToObject(out, "inputText",
                                   texts->child->valuestring) == NULL)
    {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "dimensions");

    if (cJSON_IsNumber(v)
        && cJSON_AddNumberToObject(out, "dimensions", v->valuedouble)
           == NULL)
    {
        goto oom;
    }

    /* Titan V2's own switch, passed through when the client gives it */
    v = cJSON_GetObjectItemCaseSensitive(b, "normalize");

    if (kind == LLM_BEDROCK_EMBED_TITAN && cJSON_IsBool(v)
        && cJSON_AddBoolToObject(out, "normalize", cJSON_IsTrue(v)) == NULL)
    {
        goto oom;
    }

    return out;

oom:

    cJSON_Delete(out);
    llm_bedrock_oom(err);

    return NULL;
}


/* input_type (Cohere's extension param) defaults to search_document */
static cJSON *
llm_bedrock_cohere(cJSON *b, cJSON *texts, const llm_call_t *call,
    llm_error_t *err)
{
    cJSON        *out;
    const cJSON  *v;

    if (llm_request_drop_unsupported(b, llm_bedrock_no_dimensions,
                                     call->drop_params, LLM_BEDROCK_NAME,
                                     err) != LLM_OK)
    {
        return NULL;
    }

    out = cJSON_CreateObject();

    if (out == NULL
        || llm_bedrock_put(out, "texts", cJSON_Duplicate(texts, 1)) != LLM_OK)
    {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "input_type");

    if (cJSON_AddStringToObject(out, "input_type",
                                cJSON_IsString(v) && v->valuestring[0]
                                ? v->valuestring : "search_document") == NULL)
    {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "truncate");

    if (cJSON_IsString(v)
        && cJSON_AddStringToObject(out, "truncate", v->valuestring) == NULL)
    {
        goto oom;
    }

    return out;

oom:

    cJSON_Delete(out);
    llm_bedrock_oom(err);

    return NULL;
}


/*
 * Titan {"embedding":[...],"inputTextTokenCount":n}; Cohere
 * {"embeddings":[[...],...]} (or {"embeddings":{"float":[[...]]}} when
 * types were asked for).  Cohere on Bedrock reports its token count in
 * a response header only, so its usage is 0.
 */
int
llm_bedrock_embed_response(const llm_call_t *call, const cJSON *root,
    llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int           i, b64;
    char         *json;
    cJSON        *res, *data, *e;
    const cJSON  *vecs, *vec, *fmt;

    fmt = cJSON_GetObjectItemCaseSensitive(llm_call_req(call),
                                           "encoding_format");
    b64 = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "base64") == 0;

    vec = cJSON_GetObjectItemCaseSensitive(root, "embedding");
    vecs = cJSON_GetObjectItemCaseSensitive(root, "embeddings");

    if (cJSON_IsObject(vecs)) {
        vecs = cJSON_GetObjectItemCaseSensitive(vecs, "float");
    }

    if (!cJSON_IsArray(vec) && !cJSON_IsArray(vecs)) {
        llm_bedrock_invalid(err);
        return LLM_ERROR;
    }

    memset(usage, 0, sizeof(llm_usage_t));

    e = cJSON_GetObjectItemCaseSensitive(root, "inputTextTokenCount");

    if (cJSON_IsNumber(e) && e->valuedouble >= 0 && e->valuedouble < 1e15) {
        usage->prompt_tokens = (long long) e->valuedouble;
        usage->total_tokens = usage->prompt_tokens;
        usage->present = 1;
    }

    res = cJSON_CreateObject();
    data = cJSON_CreateArray();

    if (res == NULL || data == NULL
        || cJSON_AddStringToObject(res, "object", "list") == NULL)
    {
        cJSON_Delete(data);
        goto oom;
    }

    cJSON_AddItemToObject(res, "data", data);

    if (cJSON_IsArray(vec)) {
        e = llm_bedrock_embedding(vec, 0, b64);

        if (e == NULL) {
            goto oom;
        }

        cJSON_AddItemToArray(data, e);

    } else {
        i = 0;

        cJSON_ArrayForEach(vec, vecs) {
            e = llm_bedrock_embedding(vec, i++, b64);

            if (e == NULL) {
                goto oom;
            }

            cJSON_AddItemToArray(data, e);
        }
    }

    e = cJSON_CreateObject();

    if (cJSON_AddStringToObject(res, "model", call->model_name
                                              ? call->model_name : "") == NULL
        || llm_bedrock_put(res, "usage", e) != LLM_OK
        || cJSON_AddNumberToObject(e, "prompt_tokens",
                                   (double) usage->prompt_tokens) == NULL
        || cJSON_AddNumberToObject(e, "total_tokens",
                                   (double) usage->total_tokens) == NULL)
    {
        goto oom;
    }

    json = cJSON_PrintUnformatted(res);
    cJSON_Delete(res);

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        free(json);
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    free(json);

    return LLM_OK;

oom:

    cJSON_Delete(res);
    llm_bedrock_oom(err);

    return LLM_ERROR;
}


static cJSON *
llm_bedrock_embedding(const cJSON *vec, int index, int b64)
{
    cJSON  *e, *v;

    e = cJSON_CreateObject();

    if (e == NULL
        || cJSON_AddStringToObject(e, "object", "embedding") == NULL
        || cJSON_AddNumberToObject(e, "index", index) == NULL)
    {
        cJSON_Delete(e);
        return NULL;
    }

    v = b64 ? llm_bedrock_b64_vector(vec) : cJSON_Duplicate(vec, 1);

    if (llm_bedrock_put(e, "embedding", v) != LLM_OK) {
        cJSON_Delete(e);
        return NULL;
    }

    return e;
}


/* OpenAI's base64: the vector as little-endian float32, base64-encoded */
static cJSON *
llm_bedrock_b64_vector(const cJSON *vec)
{
    int             n, i;
    float           f;
    uint32_t        w;
    cJSON          *s;
    unsigned char  *raw, *enc;
    const cJSON    *v;

    n = cJSON_GetArraySize(vec);
    raw = malloc((size_t) n * 4 + 1);
    enc = malloc(((size_t) n * 4 + 2) / 3 * 4 + 1);

    if (raw == NULL || enc == NULL) {
        free(raw);
        free(enc);
        return NULL;
    }

    i = 0;

    cJSON_ArrayForEach(v, vec) {
        f = cJSON_IsNumber(v) ? (float) v->valuedouble : 0.0f;
        memcpy(&w, &f, 4);
        raw[i * 4] = w & 0xff;
        raw[i * 4 + 1] = (w >> 8) & 0xff;
        raw[i * 4 + 2] = (w >> 16) & 0xff;
        raw[i * 4 + 3] = (w >> 24) & 0xff;
        i++;
    }

    EVP_EncodeBlock(enc, raw, n * 4);
    s = cJSON_CreateString((char *) enc);

    free(raw);
    free(enc);

    return s;
}
