/*
 * Copyright (C) ngx_llm authors
 *
 * Cohere v2 (../shared/providers/cohere.md): the adapter table, the
 * request mapping for /v2/chat and /v2/embed, and error mapping.
 * Messages and tools are mapped in llm_cohere_messages.c, responses in
 * llm_cohere_response.c, streams in llm_cohere_stream.c.
 *
 * Cohere's message list is close to OpenAI's, so the request body is
 * the prepared client body edited in place: messages are rebuilt,
 * sampling parameters renamed and clamped to Cohere's ranges, and
 * parameters Cohere has no use for removed.  Unknown fields pass
 * through, so Cohere-native ones (documents, safety_mode, ...) work.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_adapter.h"


#define LLM_COHERE_NAME  "cohere"


/* llm_cohere_response.c */
int llm_cohere_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);

/* llm_cohere_stream.c */
int llm_cohere_stream_init(llm_stream_t *s);
int llm_cohere_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_cohere_stream_eof(llm_stream_t *s);
void llm_cohere_stream_free(llm_stream_t *s);

/* llm_cohere_messages.c */
cJSON *llm_cohere_messages(const cJSON *msgs, llm_error_t *err);
int llm_cohere_tools(cJSON *b, llm_error_t *err);

/* also used by the other files */
void llm_cohere_error(llm_error_t *err, int status, const char *message);
void llm_cohere_oom(llm_error_t *err);


static int llm_cohere_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static int llm_cohere_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err);
static int llm_cohere_chat_body(const llm_call_t *call, cJSON *b,
    llm_error_t *err);
static void llm_cohere_drop_nulls(cJSON *b);
static int llm_cohere_params(cJSON *b);
static void llm_cohere_rename(cJSON *b, const char *from, const char *to);
static void llm_cohere_clamp(cJSON *b, const char *name, double lo,
    double hi);
static int llm_cohere_response_format(cJSON *b, llm_error_t *err);
static int llm_cohere_reasoning(cJSON *b, llm_error_t *err);
static cJSON *llm_cohere_embed_body(const cJSON *b, llm_error_t *err);
static int llm_cohere_copy(cJSON *to, const char *to_name,
    const cJSON *from, const char *from_name);
static cJSON *llm_cohere_texts(const cJSON *input, llm_error_t *err);
static void llm_cohere_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);


const llm_adapter_t  llm_cohere_adapter = {
    LLM_COHERE_NAME,
    llm_cohere_build_request,
    llm_cohere_parse_response,
    llm_cohere_parse_error,
    llm_cohere_stream_init,
    llm_cohere_stream_feed,
    llm_cohere_stream_eof,
    llm_cohere_stream_free
};


/*
 * OpenAI parameters without a Cohere counterpart that change what the
 * client gets back: a 400 unless drop_params.
 */
static const char *const  llm_cohere_unsupported[] = {
    "n",
    "logit_bias",
    "top_logprobs",
    "functions",
    "function_call",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    NULL
};


/*
 * OpenAI parameters that only carry bookkeeping for OpenAI or the
 * gateway (cohere.md: "drop"); removed silently.
 */
static const char *const  llm_cohere_ignored[] = {
    "user",
    "parallel_tool_calls",
    "stream_options",
    "store",
    "metadata",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
    NULL
};


void
llm_cohere_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "cohere: out of memory building the request");
}


static int
llm_cohere_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    char                    *json;
    cJSON                   *b, *e;
    const char              *path;
    const llm_deployment_t  *dep;

    dep = call->dep;

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL,
                      "environment variable %s for model \"%s\" is not set",
                      dep->missing_env,
                      call->model_name ? call->model_name : "");
        return LLM_ERROR;
    }

    b = llm_request_prepare(call);
    if (b == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        e = llm_cohere_embed_body(b, err);
        cJSON_Delete(b);
        b = e;
        rc = (b == NULL) ? LLM_ERROR : LLM_OK;
        path = "/v2/embed";

    } else {
        rc = llm_cohere_chat_body(call, b, err);
        path = "/v2/chat";
    }

    if (rc != LLM_OK) {
        cJSON_Delete(b);
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);

    if (json == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    rc = llm_buf_appends(&out->body, json);
    free(json);

    if (rc != 0
        || llm_buf_printf(&out->path, "%s%s",
                          dep->base.path ? dep->base.path : "", path) != 0)
    {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    out->accept = (call->endpoint == LLM_ENDPOINT_CHAT && call->stream)
                  ? "text/event-stream" : "application/json";

    return llm_cohere_auth(call, out, err);
}


static int
llm_cohere_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int          rc;
    llm_buf_t    v;
    const char  *key;

    key = call->dep->api_key;

    /* no key configured: let Cohere answer the 401 */
    if (key == NULL || key[0] == '\0') {
        return LLM_OK;
    }

    memset(&v, 0, sizeof(llm_buf_t));

    rc = llm_buf_printf(&v, "Bearer %s", key) == 0
         && llm_http_req_add_header(out, "Authorization", v.data) == LLM_OK;

    llm_buf_free(&v);

    if (!rc) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * Chat.
 */

static int
llm_cohere_chat_body(const llm_call_t *call, cJSON *b, llm_error_t *err)
{
    cJSON              *msgs, *v;
    const char *const  *n;

    msgs = llm_cohere_messages(
               cJSON_GetObjectItemCaseSensitive(b, "messages"), err);
    if (msgs == NULL) {
        return LLM_ERROR;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(b, "messages");
    cJSON_AddItemToObject(b, "messages", msgs);

    llm_cohere_drop_nulls(b);

    if (llm_cohere_params(b) != LLM_OK) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    if (llm_cohere_response_format(b, err) != LLM_OK
        || llm_cohere_tools(b, err) != LLM_OK
        || llm_cohere_reasoning(b, err) != LLM_OK)
    {
        return LLM_ERROR;
    }

    /* "n": 1 asks for nothing Cohere does not already do */
    v = cJSON_GetObjectItemCaseSensitive(b, "n");
    if (cJSON_IsNumber(v) && v->valuedouble == 1) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "n");
    }

    for (n = llm_cohere_ignored; *n; n++) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, *n);
    }

    if (llm_request_drop_unsupported(b, llm_cohere_unsupported,
                                     call->drop_params, LLM_COHERE_NAME,
                                     err)
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    /* Cohere reports usage in every stream's message-end: no flag */
    cJSON_DeleteItemFromObjectCaseSensitive(b, "stream");

    if (call->stream && cJSON_AddTrueToObject(b, "stream") == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* OpenAI reads a null parameter as "the default": that is leaving it out */
static void
llm_cohere_drop_nulls(cJSON *b)
{
    cJSON  *v, *next;

    for (v = b->child; v; v = next) {
        next = v->next;

        if (cJSON_IsNull(v)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(b, v));
        }
    }
}


/*
 * Sampling parameters: Cohere's names, clamped into Cohere's ranges
 * (OpenAI allows temperature up to 2 and penalties from -2).
 */
static int
llm_cohere_params(cJSON *b)
{
    cJSON  *stop, *arr;

    llm_cohere_rename(b, "max_completion_tokens", "max_tokens");
    llm_cohere_rename(b, "top_p", "p");
    llm_cohere_rename(b, "top_k", "k");
    llm_cohere_rename(b, "stop", "stop_sequences");

    stop = cJSON_GetObjectItemCaseSensitive(b, "stop_sequences");

    if (cJSON_IsString(stop)) {
        arr = cJSON_CreateArray();
        stop = cJSON_DetachItemViaPointer(b, stop);

        if (arr == NULL) {
            cJSON_Delete(stop);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(arr, stop);
        cJSON_AddItemToObject(b, "stop_sequences", arr);
    }

    llm_cohere_clamp(b, "temperature", 0, 1);
    llm_cohere_clamp(b, "p", 0.01, 0.99);
    llm_cohere_clamp(b, "k", 0, 500);
    llm_cohere_clamp(b, "frequency_penalty", 0, 1);
    llm_cohere_clamp(b, "presence_penalty", 0, 1);

    return LLM_OK;
}


/* the OpenAI name wins over a Cohere name the client also sent */
static void
llm_cohere_rename(cJSON *b, const char *from, const char *to)
{
    cJSON  *v;

    v = cJSON_DetachItemFromObjectCaseSensitive(b, from);
    if (v == NULL) {
        return;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(b, to);
    cJSON_AddItemToObject(b, to, v);
}


static void
llm_cohere_clamp(cJSON *b, const char *name, double lo, double hi)
{
    cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, name);

    /* a wrong type is Cohere's to reject */
    if (!cJSON_IsNumber(v)) {
        return;
    }

    if (v->valuedouble < lo) {
        cJSON_SetNumberValue(v, lo);

    } else if (v->valuedouble > hi) {
        cJSON_SetNumberValue(v, hi);
    }
}


static int
llm_cohere_response_format(cJSON *b, llm_error_t *err)
{
    cJSON        *rf, *nrf;
    const cJSON  *type, *schema;

    rf = cJSON_GetObjectItemCaseSensitive(b, "response_format");
    if (rf == NULL) {
        return LLM_OK;
    }

    type = cJSON_GetObjectItemCaseSensitive(rf, "type");

    if (cJSON_IsString(type) && strcmp(type->valuestring, "text") == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "response_format");
        return LLM_OK;
    }

    if (!cJSON_IsString(type)
        || (strcmp(type->valuestring, "json_object") != 0
            && strcmp(type->valuestring, "json_schema") != 0))
    {
        llm_error_set(err, 400, "invalid_request_error", NULL,
                      "response_format", "cohere: response_format must be "
                      "of type text, json_object or json_schema");
        return LLM_ERROR;
    }

    schema = cJSON_GetObjectItemCaseSensitive(
                 cJSON_GetObjectItemCaseSensitive(rf, "json_schema"),
                 "schema");

    nrf = cJSON_CreateObject();

    if (nrf == NULL
        || cJSON_AddStringToObject(nrf, "type", "json_object") == NULL
        || (cJSON_IsObject(schema)
            && !cJSON_AddItemToObject(nrf, "json_schema",
                                      cJSON_Duplicate(schema, 1))))
    {
        cJSON_Delete(nrf);
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    cJSON_ReplaceItemInObjectCaseSensitive(b, "response_format", nrf);

    return LLM_OK;
}


/* reasoning_effort -> thinking, unless the client sent thinking itself */
static int
llm_cohere_reasoning(cJSON *b, llm_error_t *err)
{
    int           budget;
    cJSON        *re, *th;
    const char   *s;

    re = cJSON_DetachItemFromObjectCaseSensitive(b, "reasoning_effort");
    if (re == NULL) {
        return LLM_OK;
    }

    s = cJSON_IsString(re) ? re->valuestring : NULL;

    if (s == NULL || cJSON_GetObjectItemCaseSensitive(b, "thinking")) {
        cJSON_Delete(re);
        return LLM_OK;
    }

    budget = strcmp(s, "none") == 0 ? 0
             : (strcmp(s, "minimal") == 0 || strcmp(s, "low") == 0) ? 1024
             : strcmp(s, "medium") == 0 ? 2048
             : strcmp(s, "high") == 0 ? 4096
             : -1;

    cJSON_Delete(re);

    if (budget < 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL,
                      "reasoning_effort", "cohere: reasoning_effort must be "
                      "none, minimal, low, medium or high");
        return LLM_ERROR;
    }

    th = cJSON_AddObjectToObject(b, "thinking");

    if (th == NULL
        || cJSON_AddStringToObject(th, "type",
                                   budget ? "enabled" : "disabled") == NULL
        || (budget
            && cJSON_AddNumberToObject(th, "token_budget", budget) == NULL))
    {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * Embeddings: a new body, since /v2/embed shares almost nothing with
 * OpenAI's.  Floats are always asked for; base64 is OpenAI's packing
 * of them, done on the way back.
 */
static cJSON *
llm_cohere_embed_body(const cJSON *b, llm_error_t *err)
{
    cJSON        *e, *texts, *types;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "encoding_format");

    if (v && !cJSON_IsNull(v)
        && !(cJSON_IsString(v) && (strcmp(v->valuestring, "float") == 0
                                   || strcmp(v->valuestring, "base64") == 0)))
    {
        llm_error_set(err, 400, "invalid_request_error", NULL,
                      "encoding_format", "cohere: encoding_format must be "
                      "float or base64");
        return NULL;
    }

    texts = llm_cohere_texts(cJSON_GetObjectItemCaseSensitive(b, "input"),
                             err);
    if (texts == NULL) {
        return NULL;
    }

    e = cJSON_CreateObject();
    types = cJSON_CreateStringArray((const char *[]) { "float" }, 1);

    if (e == NULL || types == NULL) {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "model");
    if (!cJSON_AddItemToObject(e, "model", cJSON_Duplicate(v, 1))) {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "input_type");

    if (cJSON_AddStringToObject(e, "input_type",
                                cJSON_IsString(v) ? v->valuestring
                                : "search_document") == NULL)
    {
        goto oom;
    }

    cJSON_AddItemToObject(e, "texts", texts);
    cJSON_AddItemToObject(e, "embedding_types", types);
    texts = NULL;
    types = NULL;

    if (llm_cohere_copy(e, "output_dimension", b, "dimensions") != LLM_OK
        || llm_cohere_copy(e, "truncate", b, "truncate") != LLM_OK
        || llm_cohere_copy(e, "max_tokens", b, "max_tokens") != LLM_OK)
    {
        goto oom;
    }

    return e;

oom:

    cJSON_Delete(e);
    cJSON_Delete(texts);
    cJSON_Delete(types);
    llm_cohere_oom(err);
    return NULL;
}


static int
llm_cohere_copy(cJSON *to, const char *to_name, const cJSON *from,
    const char *from_name)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(from, from_name);

    if (v == NULL || cJSON_IsNull(v)) {
        return LLM_OK;
    }

    return cJSON_AddItemToObject(to, to_name, cJSON_Duplicate(v, 1))
           ? LLM_OK : LLM_ERROR;
}


static cJSON *
llm_cohere_texts(const cJSON *input, llm_error_t *err)
{
    cJSON        *texts;
    const cJSON  *t;

    if (cJSON_IsString(input)) {
        texts = cJSON_CreateStringArray((const char *[]) {
                                            input->valuestring }, 1);
        if (texts == NULL) {
            llm_cohere_oom(err);
        }

        return texts;
    }

    if (!cJSON_IsArray(input) || cJSON_GetArraySize(input) == 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                      "cohere: 'input' must be a string or a non-empty "
                      "array of strings");
        return NULL;
    }

    cJSON_ArrayForEach(t, input) {
        if (!cJSON_IsString(t)) {
            llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                          "cohere: embeddings take text input only, not "
                          "token arrays");
            return NULL;
        }
    }

    texts = cJSON_Duplicate(input, 1);
    if (texts == NULL) {
        llm_cohere_oom(err);
    }

    return texts;
}


/*
 * Errors.
 */

static void
llm_cohere_parse_error(const llm_call_t *call, int status, const char *body,
    size_t len, llm_error_t *err)
{
    char          text[256];
    size_t        i, n;
    cJSON        *root;
    const char   *msg;
    const cJSON  *m;

    root = (body && len) ? cJSON_ParseWithLength(body, len) : NULL;
    msg = NULL;

    /* {"id": "...", "message": "..."}; be lenient about other shapes */
    m = cJSON_GetObjectItemCaseSensitive(root, "message");

    if (!cJSON_IsString(m)) {
        m = cJSON_GetObjectItemCaseSensitive(root, "error");

        if (cJSON_IsObject(m)) {
            m = cJSON_GetObjectItemCaseSensitive(m, "message");
        }
    }

    if (cJSON_IsString(m)) {
        msg = m->valuestring;

    } else if (root == NULL && body && len) {
        /* a proxy's HTML or plain text: keep a printable prefix */
        n = 0;

        for (i = 0; i < len && n < sizeof(text) - 1; i++) {
            text[n++] = ((unsigned char) body[i] < 0x20) ? ' ' : body[i];
        }

        while (n && text[n - 1] == ' ') {
            n--;
        }

        text[n] = '\0';
        msg = n ? text : NULL;
    }

    llm_cohere_error(err, status, msg);

    cJSON_Delete(root);
}


void
llm_cohere_error(llm_error_t *err, int status, const char *message)
{
    const char  *hint;

    /* Cohere's 498 is an invalid token, not Groq's "overloaded" */
    if (status == 498) {
        status = 401;

    } else if (status == 499) {
        status = 500;
    }

    hint = (message && strncasecmp(message, "too many tokens", 15) == 0)
           ? "context_length_exceeded" : NULL;

    llm_error_from_upstream(err, LLM_COHERE_NAME, status, NULL, hint,
                            message);
}
