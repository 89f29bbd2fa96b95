/*
 * Copyright (C) ngx_llm authors
 *
 * Ollama's native answers (../shared/providers/ollama.md): /api/chat
 * with stream:false and /api/embed bodies become OpenAI's
 * chat.completion and embeddings list; {"error": "..."} bodies become
 * OpenAI errors.  The helpers at the end are shared with
 * llm_ollama_stream.c.
 */


#define _GNU_SOURCE
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "llm_adapter.h"


#define LLM_OLLAMA_NAME  "ollama"


/* also used by llm_ollama.c and llm_ollama_stream.c */
int llm_ollama_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
void llm_ollama_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);
void llm_ollama_error_json(llm_error_t *err, int status, const cJSON *root);
int llm_ollama_tool_call(const cJSON *tc, char *id, size_t size,
    const char **name, char **args);
const char *llm_ollama_finish(const char *reason, int tools);
void llm_ollama_usage(const cJSON *root, llm_usage_t *usage);


static int llm_ollama_chat_response(const llm_call_t *call,
    const cJSON *root, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
static cJSON *llm_ollama_message_json(const cJSON *msg, int *ntools);
static int llm_ollama_message_tools(const cJSON *calls, cJSON **arr,
    int *ntools);
static int llm_ollama_embed_response(const llm_call_t *call, cJSON *root,
    llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
static int llm_ollama_embed_valid(const cJSON *embs);
static cJSON *llm_ollama_base64_floats(const cJSON *vec);
static int llm_ollama_print(cJSON *o, llm_buf_t *out);
static void llm_ollama_error(llm_error_t *err, int status, const char *type,
    const char *message);
static long long llm_ollama_count(const cJSON *v);


static int
llm_ollama_invalid(llm_error_t *err)
{
    llm_error_set(err, 502, "server_error", NULL, NULL,
                  "ollama: upstream sent an invalid response");

    return LLM_ERROR;
}


static int
llm_ollama_resp_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "ollama: out of memory translating the response");

    return LLM_ERROR;
}


int
llm_ollama_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int     rc;
    cJSON  *root;

    memset(usage, 0, sizeof(llm_usage_t));

    root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return llm_ollama_invalid(err);
    }

    /* a 2xx that still carries Ollama's error shape */
    if (cJSON_GetObjectItemCaseSensitive(root, "error")) {
        llm_ollama_error_json(err, 500, root);
        cJSON_Delete(root);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        rc = llm_ollama_embed_response(call, root, out, usage, err);

    } else {
        rc = llm_ollama_chat_response(call, root, out, usage, err);
    }

    cJSON_Delete(root);

    return rc;
}


static int
llm_ollama_chat_response(const llm_call_t *call, const cJSON *root,
    llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int           ntools;
    cJSON        *r, *choices, *choice, *m, *u;
    const char   *reason;
    const cJSON  *msg;

    msg = cJSON_GetObjectItemCaseSensitive(root, "message");

    if (!cJSON_IsObject(msg)) {
        return llm_ollama_invalid(err);
    }

    llm_ollama_usage(root, usage);

    r = cJSON_CreateObject();
    if (r == NULL) {
        return llm_ollama_resp_oom(err);
    }

    cJSON_AddStringToObject(r, "id", call->id);
    cJSON_AddStringToObject(r, "object", "chat.completion");
    cJSON_AddNumberToObject(r, "created", (double) call->created);
    cJSON_AddStringToObject(r, "model",
                            call->model_name ? call->model_name : "");

    choices = cJSON_AddArrayToObject(r, "choices");
    choice = cJSON_CreateObject();

    if (choices == NULL || choice == NULL) {
        cJSON_Delete(choice);
        goto oom;
    }

    cJSON_AddItemToArray(choices, choice);

    m = llm_ollama_message_json(msg, &ntools);
    if (m == NULL) {
        goto oom;
    }

    reason = llm_ollama_finish(cJSON_GetStringValue(
                 cJSON_GetObjectItemCaseSensitive(root, "done_reason")),
                 ntools);

    cJSON_AddNumberToObject(choice, "index", 0);
    cJSON_AddItemToObject(choice, "message", m);
    cJSON_AddNullToObject(choice, "logprobs");
    cJSON_AddStringToObject(choice, "finish_reason", reason);

    u = llm_usage_to_json(usage);
    if (u == NULL) {
        goto oom;
    }

    cJSON_AddItemToObject(r, "usage", u);

    if (llm_ollama_print(r, out) != 0) {
        return llm_ollama_resp_oom(err);
    }

    return LLM_OK;

oom:

    cJSON_Delete(r);

    return llm_ollama_resp_oom(err);
}


/* Ollama's message -> OpenAI's; content is null beside tool calls only */
static cJSON *
llm_ollama_message_json(const cJSON *msg, int *ntools)
{
    cJSON        *m, *tools;
    const char   *content, *thinking;

    *ntools = 0;
    tools = NULL;

    if (llm_ollama_message_tools(cJSON_GetObjectItemCaseSensitive(
                                     msg, "tool_calls"), &tools, ntools)
        != 0)
    {
        return NULL;
    }

    m = cJSON_CreateObject();
    if (m == NULL) {
        cJSON_Delete(tools);
        return NULL;
    }

    content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                       msg, "content"));
    thinking = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                        msg, "thinking"));

    if (content == NULL || content[0] == '\0') {
        content = *ntools ? NULL : "";
    }

    if (cJSON_AddStringToObject(m, "role", "assistant") == NULL
        || (content ? cJSON_AddStringToObject(m, "content", content)
                    : cJSON_AddNullToObject(m, "content")) == NULL
        || cJSON_AddNullToObject(m, "refusal") == NULL
        || (thinking && thinking[0]
            && cJSON_AddStringToObject(m, "reasoning_content", thinking)
               == NULL))
    {
        cJSON_Delete(tools);
        cJSON_Delete(m);
        return NULL;
    }

    if (tools) {
        cJSON_AddItemToObject(m, "tool_calls", tools);
    }

    return m;
}


/* *arr: the OpenAI tool_calls array, or NULL when there is none */
static int
llm_ollama_message_tools(const cJSON *calls, cJSON **arr, int *ntools)
{
    int           rc;
    char          id[64], *args;
    cJSON        *tc;
    const char   *name;
    const cJSON  *c;

    cJSON_ArrayForEach(c, calls) {
        rc = llm_ollama_tool_call(c, id, sizeof(id), &name, &args);

        if (rc > 0) {
            continue;
        }

        if (rc < 0) {
            goto failed;
        }

        if (*arr == NULL) {
            *arr = cJSON_CreateArray();
        }

        tc = *arr ? llm_tool_call_new(id, name, args) : NULL;
        free(args);

        if (tc == NULL) {
            goto failed;
        }

        cJSON_AddItemToArray(*arr, tc);
        (*ntools)++;
    }

    return 0;

failed:

    cJSON_Delete(*arr);
    *arr = NULL;

    return -1;
}


/*
 * {"embeddings": [[...], ...], "prompt_eval_count": n} -> OpenAI's
 * list.  Ollama has no base64 option, so encoding_format "base64" is
 * done here: each vector as little-endian float32, base64-encoded.
 */
static int
llm_ollama_embed_response(const llm_call_t *call, cJSON *root,
    llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int           b64, i;
    cJSON        *r, *data, *vec, *d, *u, *e;
    const char   *fmt;

    vec = cJSON_GetObjectItemCaseSensitive(root, "embeddings");

    if (!llm_ollama_embed_valid(vec)) {
        return llm_ollama_invalid(err);
    }

    fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                   llm_call_req(call), "encoding_format"));
    b64 = (fmt && strcmp(fmt, "base64") == 0);

    llm_ollama_usage(root, usage);
    usage->completion_tokens = 0;
    usage->total_tokens = usage->prompt_tokens;

    r = cJSON_CreateObject();
    if (r == NULL) {
        return llm_ollama_resp_oom(err);
    }

    cJSON_AddStringToObject(r, "object", "list");
    data = cJSON_AddArrayToObject(r, "data");

    if (data == NULL) {
        goto oom;
    }

    i = 0;

    /* the vectors move from Ollama's tree into ours, one at a time */
    while ((e = vec->child) != NULL) {
        cJSON_DetachItemViaPointer(vec, e);

        if (b64) {
            d = llm_ollama_base64_floats(e);
            cJSON_Delete(e);
            e = d;
        }

        d = cJSON_CreateObject();

        if (e == NULL || d == NULL) {
            cJSON_Delete(e);
            cJSON_Delete(d);
            goto oom;
        }

        cJSON_AddItemToArray(data, d);
        cJSON_AddStringToObject(d, "object", "embedding");
        cJSON_AddNumberToObject(d, "index", i++);
        cJSON_AddItemToObject(d, "embedding", e);
    }

    cJSON_AddStringToObject(r, "model",
                            call->model_name ? call->model_name : "");

    u = cJSON_AddObjectToObject(r, "usage");
    if (u == NULL) {
        goto oom;
    }

    cJSON_AddNumberToObject(u, "prompt_tokens", (double) usage->prompt_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", (double) usage->total_tokens);

    if (llm_ollama_print(r, out) != 0) {
        return llm_ollama_resp_oom(err);
    }

    return LLM_OK;

oom:

    cJSON_Delete(r);

    return llm_ollama_resp_oom(err);
}


/* an array of arrays of numbers */
static int
llm_ollama_embed_valid(const cJSON *embs)
{
    const cJSON  *vec, *x;

    if (!cJSON_IsArray(embs)) {
        return 0;
    }

    cJSON_ArrayForEach(vec, embs) {
        if (!cJSON_IsArray(vec)) {
            return 0;
        }

        cJSON_ArrayForEach(x, vec) {
            if (!cJSON_IsNumber(x)) {
                return 0;
            }
        }
    }

    return 1;
}


/* what OpenAI sends for encoding_format "base64" */
static cJSON *
llm_ollama_base64_floats(const cJSON *vec)
{
    int            n;
    float          f;
    double         v;
    cJSON         *s;
    size_t         i;
    uint32_t       bits;
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

        /* out-of-range doubles round to infinity, as IEEE casts do */
        if (v > FLT_MAX) {
            f = INFINITY;

        } else if (v < -FLT_MAX) {
            f = -INFINITY;

        } else {
            f = (float) v;
        }

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


/* prints and frees o */
static int
llm_ollama_print(cJSON *o, llm_buf_t *out)
{
    int    rc;
    char  *json;

    json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);

    if (json == NULL) {
        return -1;
    }

    rc = llm_buf_appends(out, json);
    free(json);

    return rc;
}


void
llm_ollama_parse_error(const llm_call_t *call, int status, const char *body,
    size_t len, llm_error_t *err)
{
    char    text[512];
    size_t  i, n;
    cJSON  *root;

    root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;

    if (cJSON_IsObject(root)) {
        llm_ollama_error_json(err, status, root);
        cJSON_Delete(root);
        return;
    }

    cJSON_Delete(root);

    /* a proxy's HTML or plain text: its first line, trimmed, is the message */
    n = 0;

    for (i = 0; body && i < len && n < sizeof(text) - 1; i++) {
        if (body[i] == '\n' && n) {
            break;
        }

        if ((unsigned char) body[i] >= ' ' && (n || body[i] != ' ')) {
            text[n++] = body[i];
        }
    }

    while (n && text[n - 1] == ' ') {
        n--;
    }

    text[n] = '\0';

    llm_ollama_error(err, status, NULL, n ? text : NULL);
}


/*
 * {"error": "message"} (native) or {"error": {"message", "type"}}
 * (Ollama's /v1 layer, should an api_base point there)
 */
void
llm_ollama_error_json(llm_error_t *err, int status, const cJSON *root)
{
    const char   *msg, *type;
    const cJSON  *e;

    e = cJSON_GetObjectItemCaseSensitive(root, "error");
    type = NULL;

    if (cJSON_IsObject(e)) {
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                       e, "message"));
        type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                        e, "type"));

    } else if (cJSON_IsString(e)) {
        msg = e->valuestring;

    } else {
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                       root, "message"));
    }

    llm_ollama_error(err, status, type, msg);
}


/*
 * Ollama truncates over-long prompts unless told not to; when it does
 * refuse ("the input length exceeds the context length") the status
 * may be a 500, but it is the client's request that is too long.
 */
static void
llm_ollama_error(llm_error_t *err, int status, const char *type,
    const char *message)
{
    const char   **n;
    static const char  *needles[] = {
        "context length", "context window", "maximum context",
        "prompt is too long", "prompt too long", NULL
    };

    for (n = needles; message && *n; n++) {
        if (strcasestr(message, *n)) {
            llm_error_from_upstream(err, LLM_OLLAMA_NAME, 400, type,
                                    "context_length_exceeded", message);
            return;
        }
    }

    llm_error_from_upstream(err, LLM_OLLAMA_NAME, status, type, NULL,
                            message);
}


/*
 * One of Ollama's tool calls, whole: 0 with id, name and the arguments
 * as a JSON string (malloc()ed) filled; 1 when tc is not a tool call;
 * -1 on allocation failure.  Older servers send no id: one is minted.
 */
int
llm_ollama_tool_call(const cJSON *tc, char *id, size_t size,
    const char **name, char **args)
{
    const char   *s;
    const cJSON  *f, *a;

    f = cJSON_GetObjectItemCaseSensitive(tc, "function");
    *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "name"));

    if (!cJSON_IsObject(f) || *name == NULL) {
        return 1;
    }

    s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc, "id"));

    if (s && s[0]) {
        snprintf(id, size, "%s", s);

    } else {
        llm_mint_id(id, size, "call_");
    }

    a = cJSON_GetObjectItemCaseSensitive(f, "arguments");

    if (a == NULL || cJSON_IsNull(a)) {
        *args = strdup("{}");

    } else if (cJSON_IsString(a)) {
        *args = strdup(a->valuestring);

    } else {
        *args = cJSON_PrintUnformatted(a);
    }

    return *args ? 0 : -1;
}


/* done_reason -> finish_reason (ollama.md, like Ollama's own /v1 layer) */
const char *
llm_ollama_finish(const char *reason, int tools)
{
    if (reason && strcmp(reason, "length") == 0) {
        return "length";
    }

    return tools ? "tool_calls" : "stop";
}


/* prompt_eval_count is absent when the prompt came from the KV cache */
void
llm_ollama_usage(const cJSON *root, llm_usage_t *usage)
{
    const cJSON  *p, *c;

    p = cJSON_GetObjectItemCaseSensitive(root, "prompt_eval_count");
    c = cJSON_GetObjectItemCaseSensitive(root, "eval_count");

    usage->prompt_tokens = llm_ollama_count(p);
    usage->completion_tokens = llm_ollama_count(c);
    usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;
    usage->present = cJSON_IsNumber(p) || cJSON_IsNumber(c);
}


/* a token count, sane whatever the JSON held */
static long long
llm_ollama_count(const cJSON *v)
{
    double  d;

    if (!cJSON_IsNumber(v)) {
        return 0;
    }

    d = v->valuedouble;

    if (!(d >= 0)) {
        return 0;
    }

    return d > 1e15 ? 1000000000000000LL : (long long) d;
}
