/*
 * Copyright (C) ngx_llm authors
 *
 * Vertex AI embeddings through :predict (text-embedding-*,
 * gemini-embedding-*; ../shared/providers/vertex.md, "Embeddings"):
 *
 *   {"instances":[{"content":"..."}],"parameters":{...}}
 *   -> {"predictions":[{"embeddings":{"values":[...],
 *                       "statistics":{"token_count":5}}}]}
 */


#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "llm_vertex.h"


static int llm_vertex_instance(cJSON *instances, const char *text,
    const char *task);
static int llm_vertex_embed_params(cJSON *out, const cJSON *b,
    llm_error_t *err);
static int llm_vertex_embed_bad(llm_error_t *err, const char *param,
    const char *msg);
static int llm_vertex_predictions_ok(const cJSON *preds);
static cJSON *llm_vertex_base64_floats(const cJSON *vec);


cJSON *
llm_vertex_embed_body(const llm_call_t *call, llm_error_t *err)
{
    cJSON        *b, *out, *inst;
    const char   *task;
    const cJSON  *in, *v;

    b = llm_request_prepare(call);
    out = cJSON_CreateObject();
    inst = out ? cJSON_AddArrayToObject(out, "instances") : NULL;

    if (b == NULL || inst == NULL) {
        llm_vertex_oom(err);
        goto failed;
    }

    in = cJSON_GetObjectItemCaseSensitive(b, "input");
    task = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b,
                                                                "task_type"));

    if (cJSON_IsString(in)) {
        if (llm_vertex_instance(inst, in->valuestring, task) != 0) {
            llm_vertex_oom(err);
            goto failed;
        }

    } else if (cJSON_IsArray(in) && in->child) {
        cJSON_ArrayForEach(v, in) {
            if (!cJSON_IsString(v)) {
                llm_vertex_embed_bad(err, "input", LLM_VERTEX_NAME
                                     " embeddings take text: 'input' must "
                                     "be a string or an array of strings");
                goto failed;
            }

            if (llm_vertex_instance(inst, v->valuestring, task) != 0) {
                llm_vertex_oom(err);
                goto failed;
            }
        }

    } else {
        llm_vertex_embed_bad(err, "input", "'input' must be a non-empty "
                             "string or array of strings");
        goto failed;
    }

    if (llm_vertex_embed_params(out, b, err) != LLM_OK) {
        goto failed;
    }

    cJSON_Delete(b);

    return out;

failed:

    cJSON_Delete(b);
    cJSON_Delete(out);

    return NULL;
}


static int
llm_vertex_instance(cJSON *instances, const char *text, const char *task)
{
    cJSON  *i;

    i = cJSON_CreateObject();

    if (i == NULL || !cJSON_AddItemToArray(instances, i)) {
        cJSON_Delete(i);
        return -1;
    }

    if (cJSON_AddStringToObject(i, "content", text) == NULL
        || (task && cJSON_AddStringToObject(i, "task_type", task) == NULL))
    {
        return -1;
    }

    return 0;
}


/* dimensions -> outputDimensionality; encoding_format is done here */
static int
llm_vertex_embed_params(cJSON *out, const cJSON *b, llm_error_t *err)
{
    cJSON        *p;
    const char   *fmt;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "encoding_format");
    fmt = cJSON_GetStringValue(v);

    if (v && !cJSON_IsNull(v)
        && (fmt == NULL
            || (strcmp(fmt, "float") != 0 && strcmp(fmt, "base64") != 0)))
    {
        return llm_vertex_embed_bad(err, "encoding_format",
                                    "'encoding_format' must be \"float\" or "
                                    "\"base64\"");
    }

    p = cJSON_CreateObject();
    if (p == NULL) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "dimensions");

    if (v && !cJSON_IsNull(v)) {
        if (!cJSON_IsNumber(v) || v->valuedouble < 1
            || v->valuedouble > 100000)
        {
            cJSON_Delete(p);
            return llm_vertex_embed_bad(err, "dimensions", "'dimensions' "
                                        "must be a positive integer");
        }

        if (cJSON_AddNumberToObject(p, "outputDimensionality",
                                    (double) (int) v->valuedouble) == NULL)
        {
            cJSON_Delete(p);
            llm_vertex_oom(err);
            return LLM_ERROR;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "auto_truncate");

    if (cJSON_IsBool(v)
        && cJSON_AddBoolToObject(p, "autoTruncate", cJSON_IsTrue(v)) == NULL)
    {
        cJSON_Delete(p);
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    if (p->child == NULL) {
        cJSON_Delete(p);
        return LLM_OK;
    }

    if (llm_vertex_put(out, "parameters", p) != LLM_OK) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_vertex_embed_bad(llm_error_t *err, const char *param, const char *msg)
{
    llm_error_set(err, 400, "invalid_request_error", NULL, param, "%s", msg);
    return LLM_ERROR;
}


int
llm_vertex_embed_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int           b64, i;
    char         *json;
    cJSON        *root, *r, *data, *d, *vec, *u;
    const char   *fmt;
    const cJSON  *preds, *p, *e, *tc;

    root = cJSON_ParseWithLength(body, len);
    preds = cJSON_GetObjectItemCaseSensitive(root, "predictions");

    if (!llm_vertex_predictions_ok(preds)) {
        cJSON_Delete(root);
        llm_vertex_invalid(err);
        return LLM_ERROR;
    }

    fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                   llm_call_req(call), "encoding_format"));
    b64 = (fmt && strcmp(fmt, "base64") == 0);

    memset(usage, 0, sizeof(llm_usage_t));
    usage->present = 1;

    r = cJSON_CreateObject();
    data = r ? cJSON_AddArrayToObject(r, "data") : NULL;

    if (data == NULL || cJSON_AddStringToObject(r, "object", "list") == NULL) {
        goto oom;
    }

    i = 0;

    cJSON_ArrayForEach(p, preds) {
        e = cJSON_GetObjectItemCaseSensitive(p, "embeddings");

        tc = cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(e, "statistics"),
                 "token_count");

        /* checked by llm_vertex_predictions_ok() */
        if (cJSON_IsNumber(tc)) {
            usage->prompt_tokens += (long long) tc->valuedouble;
        }

        vec = cJSON_GetObjectItemCaseSensitive(e, "values");
        vec = b64 ? llm_vertex_base64_floats(vec) : cJSON_Duplicate(vec, 1);
        d = cJSON_CreateObject();

        if (vec == NULL || d == NULL || !cJSON_AddItemToArray(data, d)) {
            cJSON_Delete(vec);
            cJSON_Delete(d);
            goto oom;
        }

        if (cJSON_AddStringToObject(d, "object", "embedding") == NULL
            || cJSON_AddNumberToObject(d, "index", i++) == NULL
            || llm_vertex_put(d, "embedding", vec) != LLM_OK)
        {
            goto oom;
        }
    }

    usage->total_tokens = usage->prompt_tokens;

    if (cJSON_AddStringToObject(r, "model", call->model_name
                                            ? call->model_name : "") == NULL
        || (u = cJSON_AddObjectToObject(r, "usage")) == NULL
        || cJSON_AddNumberToObject(u, "prompt_tokens",
                                   (double) usage->prompt_tokens) == NULL
        || cJSON_AddNumberToObject(u, "total_tokens",
                                   (double) usage->total_tokens) == NULL)
    {
        goto oom;
    }

    json = cJSON_PrintUnformatted(r);

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        free(json);
        goto oom;
    }

    free(json);
    cJSON_Delete(r);
    cJSON_Delete(root);

    return LLM_OK;

oom:

    cJSON_Delete(r);
    cJSON_Delete(root);
    llm_vertex_oom(err);

    return LLM_ERROR;
}


/* an array of {"embeddings":{"values":[numbers]}} */
static int
llm_vertex_predictions_ok(const cJSON *preds)
{
    const cJSON  *p, *vec, *x, *tc;

    if (!cJSON_IsArray(preds) || preds->child == NULL) {
        return 0;
    }

    cJSON_ArrayForEach(p, preds) {
        vec = cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(p, "embeddings"), "values");

        if (!cJSON_IsArray(vec)) {
            return 0;
        }

        cJSON_ArrayForEach(x, vec) {
            if (!cJSON_IsNumber(x)) {
                return 0;
            }
        }

        tc = cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(p, "embeddings"),
                     "statistics"),
                 "token_count");

        if (tc && (!cJSON_IsNumber(tc) || !(tc->valuedouble >= 0)
                   || tc->valuedouble > 1e12))
        {
            return 0;
        }
    }

    return 1;
}


/* what OpenAI sends for encoding_format "base64": float32 LE */
static cJSON *
llm_vertex_base64_floats(const cJSON *vec)
{
    int             n;
    float           f;
    double          v;
    cJSON          *s;
    size_t          i;
    uint32_t        bits;
    unsigned char  *raw, *enc;

    n = cJSON_GetArraySize(vec);

    raw = malloc((size_t) n * 4 + 1);
    enc = malloc(((size_t) n * 4 + 2) / 3 * 4 + 1);

    if (raw == NULL || enc == NULL) {
        free(raw);
        free(enc);
        return NULL;
    }

    i = 0;

    cJSON_ArrayForEach(s, vec) {
        v = s->valuedouble;
        f = v > FLT_MAX ? INFINITY : v < -FLT_MAX ? -INFINITY : (float) v;

        memcpy(&bits, &f, sizeof(bits));

        raw[i++] = (unsigned char) (bits & 0xff);
        raw[i++] = (unsigned char) ((bits >> 8) & 0xff);
        raw[i++] = (unsigned char) ((bits >> 16) & 0xff);
        raw[i++] = (unsigned char) ((bits >> 24) & 0xff);
    }

    EVP_EncodeBlock(enc, raw, (int) i);

    s = cJSON_CreateString((char *) enc);

    free(raw);
    free(enc);

    return s;
}
