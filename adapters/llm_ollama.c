/*
 * Copyright (C) ngx_llm authors
 *
 * Ollama's native API (../shared/providers/ollama.md): the adapter
 * table and the request mapping for /api/chat and /api/embed.
 * The message list is mapped in llm_ollama_messages.c, responses and
 * errors in llm_ollama_response.c, streams in llm_ollama_stream.c.
 *
 * The provider body is built fresh from the prepared client body
 * rather than edited in place: Ollama moves most sampling parameters
 * under "options", and only the fields it knows are worth sending.
 * Ollama-native fields (options, format, think, keep_alive, top_k,
 * num_ctx, ...) given by the client or the deployment pass through.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"


#define LLM_OLLAMA_NAME  "ollama"


/* llm_ollama_response.c */
int llm_ollama_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err);
void llm_ollama_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);

/* llm_ollama_messages.c */
int llm_ollama_messages(const llm_call_t *call, const cJSON *msgs,
    cJSON *out, llm_error_t *err);

/* llm_ollama_stream.c */
int llm_ollama_stream_init(llm_stream_t *s);
int llm_ollama_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_ollama_stream_eof(llm_stream_t *s);
void llm_ollama_stream_free(llm_stream_t *s);


static int llm_ollama_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static int llm_ollama_auth(const llm_deployment_t *dep, llm_http_req_t *out,
    llm_error_t *err);
static cJSON *llm_ollama_chat_body(const llm_call_t *call, cJSON *in,
    llm_error_t *err);
static int llm_ollama_unsupported(const llm_call_t *call, cJSON *in,
    llm_error_t *err);
static int llm_ollama_options(const cJSON *in, cJSON *out);
static int llm_ollama_format(const cJSON *in, cJSON *out);
static int llm_ollama_think(const cJSON *in, cJSON *out);
static cJSON *llm_ollama_embed_body(const llm_call_t *call, cJSON *in,
    llm_error_t *err);
static int llm_ollama_copy(const cJSON *in, const char *name, cJSON *out,
    const char *as);


const llm_adapter_t  llm_ollama_adapter = {
    LLM_OLLAMA_NAME,
    llm_ollama_build_request,
    llm_ollama_parse_response,
    llm_ollama_parse_error,
    llm_ollama_stream_init,
    llm_ollama_stream_feed,
    llm_ollama_stream_eof,
    llm_ollama_stream_free
};


/*
 * OpenAI parameters /api/chat has no counterpart for and that change
 * what the client gets back: a 400 unless drop_params.  Harmless
 * values (n: 1, tool_choice: "auto", ...) are removed before the check.
 */
static const char *const  llm_ollama_unsupported_params[] = {
    "n",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "tool_choice",
    "parallel_tool_calls",
    "functions",
    "function_call",
    "modalities",
    "audio",
    "prediction",
    "web_search_options",
    NULL
};


/* Ollama option names a client may give at the top level (LiteLLM does) */
static const char *const  llm_ollama_native_options[] = {
    "top_k",
    "num_ctx",
    "min_p",
    "typical_p",
    "repeat_last_n",
    "repeat_penalty",
    "mirostat",
    "mirostat_tau",
    "mirostat_eta",
    "num_keep",
    "num_batch",
    "num_gpu",
    "num_thread",
    "num_predict",
    NULL
};


static void
llm_ollama_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "ollama: out of memory building the request");
}


static void
llm_ollama_bad(llm_error_t *err, const char *param, const char *what)
{
    llm_error_set(err, 400, "invalid_request_error", NULL, param,
                  "ollama: %s", what);
}


static int
llm_ollama_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    char                    *json;
    cJSON                   *in, *b;
    const char              *base, *path;
    const llm_deployment_t  *dep;

    dep = call->dep;

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", NULL, NULL,
                      "environment variable %s for model \"%s\" is not set",
                      dep->missing_env,
                      call->model_name ? call->model_name : "");
        return LLM_ERROR;
    }

    in = llm_request_prepare(call);
    if (in == NULL) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        b = llm_ollama_embed_body(call, in, err);
        path = "/api/embed";

    } else {
        b = llm_ollama_chat_body(call, in, err);
        path = "/api/chat";
    }

    cJSON_Delete(in);

    if (b == NULL) {
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);

    if (json == NULL) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    base = dep->base.path ? dep->base.path : "";

    rc = llm_buf_appends(&out->body, json);
    free(json);

    if (rc != 0 || llm_buf_printf(&out->path, "%s%s", base, path) != 0) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    out->accept = (call->endpoint == LLM_ENDPOINT_CHAT && call->stream)
                  ? "application/x-ndjson" : "application/json";

    return llm_ollama_auth(dep, out, err);
}


/* a local server takes no key; ollama.com wants a Bearer token */
static int
llm_ollama_auth(const llm_deployment_t *dep, llm_http_req_t *out,
    llm_error_t *err)
{
    int    rc;
    char  *auth;

    if (dep->api_key == NULL || dep->api_key[0] == '\0') {
        return LLM_OK;
    }

    auth = malloc(sizeof("Bearer ") + strlen(dep->api_key));
    if (auth == NULL) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    sprintf(auth, "Bearer %s", dep->api_key);
    rc = llm_http_req_add_header(out, "Authorization", auth);
    free(auth);

    if (rc != LLM_OK) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * The /api/chat body, in the order of ollama.md's example:
 * model, stream, messages, tools, format, options, think, keep_alive.
 */
static cJSON *
llm_ollama_chat_body(const llm_call_t *call, cJSON *in, llm_error_t *err)
{
    cJSON        *b, *msgs;
    const cJSON  *tools;

    if (llm_ollama_unsupported(call, in, err) != LLM_OK) {
        return NULL;
    }

    b = cJSON_CreateObject();
    if (b == NULL) {
        llm_ollama_oom(err);
        return NULL;
    }

    /* Ollama streams when "stream" is absent: always say which */
    if (llm_ollama_copy(in, "model", b, NULL) != 0
        || cJSON_AddBoolToObject(b, "stream", call->stream) == NULL)
    {
        goto oom;
    }

    msgs = cJSON_AddArrayToObject(b, "messages");
    if (msgs == NULL) {
        goto oom;
    }

    if (llm_ollama_messages(call, cJSON_GetObjectItemCaseSensitive(in,
                                                                 "messages"),
                            msgs, err)
        != LLM_OK)
    {
        cJSON_Delete(b);
        return NULL;
    }

    /* same {type:"function", function:{...}} shape as OpenAI's */
    tools = cJSON_GetObjectItemCaseSensitive(in, "tools");

    if (cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0
        && llm_ollama_copy(in, "tools", b, NULL) != 0)
    {
        goto oom;
    }

    if (llm_ollama_format(in, b) != 0
        || llm_ollama_options(in, b) != 0
        || llm_ollama_think(in, b) != 0
        || llm_ollama_copy(in, "keep_alive", b, NULL) != 0)
    {
        goto oom;
    }

    return b;

oom:

    cJSON_Delete(b);
    llm_ollama_oom(err);

    return NULL;
}


/* removes what is harmless, then fails (or drops) on what is not */
static int
llm_ollama_unsupported(const llm_call_t *call, cJSON *in, llm_error_t *err)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(in, "n");
    if (v && (cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == 1))) {
        cJSON_DeleteItemFromObjectCaseSensitive(in, "n");
    }

    v = cJSON_GetObjectItemCaseSensitive(in, "logprobs");
    if (v && (cJSON_IsNull(v) || cJSON_IsFalse(v))) {
        cJSON_DeleteItemFromObjectCaseSensitive(in, "logprobs");
    }

    /* Ollama may call tools in parallel: only "false" asks for more */
    v = cJSON_GetObjectItemCaseSensitive(in, "parallel_tool_calls");
    if (v && (cJSON_IsNull(v) || cJSON_IsTrue(v))) {
        cJSON_DeleteItemFromObjectCaseSensitive(in, "parallel_tool_calls");
    }

    /*
     * "auto" is what Ollama does anyway, and "none" is honoured exactly
     * by not offering the tools; "required" or a named function is not
     * something Ollama can promise
     */
    v = cJSON_GetObjectItemCaseSensitive(in, "tool_choice");

    if (v && (cJSON_IsNull(v)
              || (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0)))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(in, "tool_choice");

    } else if (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(in, "tool_choice");
        cJSON_DeleteItemFromObjectCaseSensitive(in, "tools");
    }

    return llm_request_drop_unsupported(in, llm_ollama_unsupported_params,
                                        call->drop_params, LLM_OLLAMA_NAME,
                                        err);
}


/*
 * options: the client's own "options" object, under the OpenAI
 * parameters mapped onto Ollama's names; omitted when empty
 */
static int
llm_ollama_options(const cJSON *in, cJSON *out)
{
    cJSON               *o, *stop;
    const char          *max;
    const cJSON         *v;
    const char *const   *n;
    static const char   *same[] = {
        "temperature", "top_p", "seed", "frequency_penalty",
        "presence_penalty", NULL
    };

    v = cJSON_GetObjectItemCaseSensitive(in, "options");

    o = cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
    if (o == NULL) {
        return -1;
    }

    for (n = llm_ollama_native_options; *n; n++) {
        if (llm_ollama_copy(in, *n, o, NULL) != 0) {
            goto oom;
        }
    }

    for (n = same; *n; n++) {
        if (llm_ollama_copy(in, *n, o, NULL) != 0) {
            goto oom;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(in, "max_completion_tokens");
    max = (v && !cJSON_IsNull(v)) ? "max_completion_tokens" : "max_tokens";

    if (llm_ollama_copy(in, max, o, "num_predict") != 0) {
        goto oom;
    }

    /* Ollama wants a list of stop sequences */
    v = cJSON_GetObjectItemCaseSensitive(in, "stop");

    if (cJSON_IsString(v)) {
        stop = cJSON_CreateArray();

        if (stop == NULL || !cJSON_AddItemToArray(stop,
                                 cJSON_CreateString(v->valuestring)))
        {
            cJSON_Delete(stop);
            goto oom;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(o, "stop");
        cJSON_AddItemToObject(o, "stop", stop);

    } else if (cJSON_IsArray(v) && llm_ollama_copy(in, "stop", o, NULL) != 0) {
        goto oom;
    }

    if (o->child == NULL) {
        cJSON_Delete(o);
        return 0;
    }

    cJSON_AddItemToObject(out, "options", o);

    return 0;

oom:

    cJSON_Delete(o);

    return -1;
}


/* response_format -> format: "json" or the schema itself */
static int
llm_ollama_format(const cJSON *in, cJSON *out)
{
    const char   *type;
    const cJSON  *rf, *schema;

    rf = cJSON_GetObjectItemCaseSensitive(in, "response_format");
    type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rf, "type"));

    if (type && strcmp(type, "json_schema") == 0) {
        schema = cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(rf, "json_schema"),
                     "schema");

        if (cJSON_IsObject(schema)) {
            return cJSON_AddItemToObject(out, "format",
                                         cJSON_Duplicate(schema, 1))
                   ? 0 : -1;
        }

        /* a schema-less json_schema still asks for JSON */
        type = "json_object";
    }

    if (type && strcmp(type, "json_object") == 0) {
        return cJSON_AddStringToObject(out, "format", "json") ? 0 : -1;
    }

    /* "text" or none: Ollama's own "format" may come from the client */
    return llm_ollama_copy(in, "format", out, NULL);
}


/* reasoning_effort -> think; the client's own "think" wins */
static int
llm_ollama_think(const cJSON *in, cJSON *out)
{
    const char  *effort;

    if (cJSON_GetObjectItemCaseSensitive(in, "think")) {
        return llm_ollama_copy(in, "think", out, NULL);
    }

    effort = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                      in, "reasoning_effort"));

    if (effort == NULL) {
        return 0;
    }

    if (strcmp(effort, "none") == 0) {
        return cJSON_AddFalseToObject(out, "think") ? 0 : -1;
    }

    /* Ollama's lowest level is "low" */
    if (strcmp(effort, "minimal") == 0) {
        effort = "low";
    }

    return cJSON_AddStringToObject(out, "think", effort) ? 0 : -1;
}


/* /api/embed: {model, input, dimensions, truncate, keep_alive, options} */
static cJSON *
llm_ollama_embed_body(const llm_call_t *call, cJSON *in, llm_error_t *err)
{
    cJSON        *b;
    const char   *fmt;
    const cJSON  *input, *v;

    input = cJSON_GetObjectItemCaseSensitive(in, "input");

    if (!cJSON_IsString(input) && !cJSON_IsArray(input)) {
        llm_ollama_bad(err, "input", "'input' must be a string or an array "
                       "of strings");
        return NULL;
    }

    cJSON_ArrayForEach(v, input) {
        if (!cJSON_IsString(v)) {
            /* OpenAI's token-array inputs have no Ollama counterpart */
            llm_ollama_bad(err, "input", "only text input is supported; "
                           "'input' must be a string or an array of "
                           "strings");
            return NULL;
        }
    }

    /* Ollama answers floats only; base64 is encoded by the gateway */
    v = cJSON_GetObjectItemCaseSensitive(in, "encoding_format");
    fmt = cJSON_GetStringValue(v);

    if (v && !cJSON_IsNull(v)
        && (fmt == NULL
            || (strcmp(fmt, "float") != 0 && strcmp(fmt, "base64") != 0)))
    {
        llm_ollama_bad(err, "encoding_format", "'encoding_format' must be "
                       "\"float\" or \"base64\"");
        return NULL;
    }

    b = cJSON_CreateObject();

    if (b == NULL
        || llm_ollama_copy(in, "model", b, NULL) != 0
        || llm_ollama_copy(in, "input", b, NULL) != 0
        || llm_ollama_copy(in, "dimensions", b, NULL) != 0
        || llm_ollama_copy(in, "truncate", b, NULL) != 0
        || llm_ollama_copy(in, "keep_alive", b, NULL) != 0
        || llm_ollama_copy(in, "options", b, NULL) != 0)
    {
        cJSON_Delete(b);
        llm_ollama_oom(err);
        return NULL;
    }

    return b;
}


/*
 * copies in[name] to out[as ? as : name] unless absent or null,
 * replacing what out had; -1 on allocation failure
 */
static int
llm_ollama_copy(const cJSON *in, const char *name, cJSON *out,
    const char *as)
{
    cJSON        *dup;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(in, name);

    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }

    dup = cJSON_Duplicate(v, 1);
    if (dup == NULL) {
        return -1;
    }

    as = as ? as : name;

    cJSON_DeleteItemFromObjectCaseSensitive(out, as);
    cJSON_AddItemToObject(out, as, dup);

    return 0;
}
