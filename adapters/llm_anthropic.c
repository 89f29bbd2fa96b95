/*
 * Copyright (C) ngx_llm authors
 *
 * Anthropic Messages API: the adapter table and the request body
 * (../shared/providers/anthropic.md).  Messages are mapped in
 * llm_anthropic_messages.c, responses and errors in
 * llm_anthropic_response.c, streams in llm_anthropic_stream.c.
 *
 * Unlike the OpenAI-dialect providers the body is built afresh from
 * the prepared client body: Anthropic rejects fields it does not know,
 * so only mapped parameters are sent.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_anthropic.h"


#define LLM_ANTHROPIC_NAME     "anthropic"
#define LLM_ANTHROPIC_VERSION  "2023-06-01"
#define LLM_ANTHROPIC_PATH     "/v1/messages"


static int llm_anthropic_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static int llm_anthropic_request_path(const llm_call_t *call,
    llm_http_req_t *out);
static int llm_anthropic_drop(cJSON *b, const llm_call_t *call,
    llm_error_t *err);
static int llm_anthropic_limits(cJSON *out, cJSON *b, llm_error_t *err);
static int llm_anthropic_thinking_budget(cJSON *b, llm_error_t *err);
static int llm_anthropic_tools(cJSON *out, cJSON *b, llm_error_t *err);
static int llm_anthropic_tool_list(cJSON *tools, const cJSON *list);
static cJSON *llm_anthropic_json_tool(const cJSON *rf);
static int llm_anthropic_tool_choice(cJSON *out, cJSON *b, int json_tool,
    int user_tools, llm_error_t *err);
static cJSON *llm_anthropic_choice(const cJSON *tc, llm_error_t *err);
static int llm_anthropic_sampling(cJSON *out, cJSON *b);
static int llm_anthropic_stop(cJSON *out, const cJSON *stop);
static int llm_anthropic_json_format(const cJSON *rf);


const llm_adapter_t  llm_anthropic_adapter = {
    LLM_ANTHROPIC_NAME,
    llm_anthropic_build_request,
    llm_anthropic_parse_response,
    llm_anthropic_parse_error,
    llm_anthropic_stream_init,
    llm_anthropic_stream_feed,
    llm_anthropic_stream_eof,
    llm_anthropic_stream_free
};


/* OpenAI parameters with no Messages API counterpart */
static const char *const  llm_anthropic_unsupported[] = {
    "seed",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "frequency_penalty",
    "presence_penalty",
    "n",
    NULL
};


/* adds item to obj, or frees it: ownership passes either way */
int
llm_anthropic_put(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL) {
        return LLM_ERROR;
    }

    if (obj == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return LLM_ERROR;
    }

    return LLM_OK;
}


void
llm_anthropic_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "anthropic: out of memory");
}


static int
llm_anthropic_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    char                    *json;
    cJSON                   *body;
    const llm_deployment_t  *dep;

    dep = call->dep;

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "anthropic has no embeddings endpoint; model \"%s\" "
                      "cannot embed", call->model_name);
        return LLM_ERROR;
    }

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "environment variable %s for model \"%s\" is "
                      "not set", dep->missing_env, call->model_name);
        return LLM_ERROR;
    }

    body = llm_anthropic_body(call, err);
    if (body == NULL) {
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);

    if (json == NULL) {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    rc = llm_buf_appends(&out->body, json);
    free(json);

    if (rc != 0
        || llm_anthropic_request_path(call, out) != LLM_OK
        || (dep->api_key
            && llm_http_req_add_header(out, "x-api-key", dep->api_key)
               != LLM_OK)
        || llm_http_req_add_header(out, "anthropic-version",
                                   LLM_ANTHROPIC_VERSION) != LLM_OK)
    {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    out->method = "POST";
    out->accept = call->stream ? "text/event-stream" : "application/json";

    return LLM_OK;
}


/*
 * LiteLLM accepts an api_base that already ends in /v1/messages; the
 * path is appended only when it is not there.
 */
static int
llm_anthropic_request_path(const llm_call_t *call, llm_http_req_t *out)
{
    size_t       len, plen;
    const char  *base;

    base = call->dep->base.path ? call->dep->base.path : "";
    len = strlen(base);
    plen = sizeof(LLM_ANTHROPIC_PATH) - 1;

    while (len && base[len - 1] == '/') {
        len--;
    }

    if (llm_buf_append(&out->path, base, len) != 0) {
        return LLM_ERROR;
    }

    if (len >= plen && memcmp(base + len - plen, LLM_ANTHROPIC_PATH, plen)
                       == 0)
    {
        return LLM_OK;
    }

    return llm_buf_appends(&out->path, LLM_ANTHROPIC_PATH) == 0
           ? LLM_OK : LLM_ERROR;
}


cJSON *
llm_anthropic_body(const llm_call_t *call, llm_error_t *err)
{
    cJSON  *b, *out, *v;

    b = llm_request_prepare(call);
    out = cJSON_CreateObject();

    if (b == NULL || out == NULL) {
        llm_anthropic_oom(err);
        goto failed;
    }

    if (llm_anthropic_drop(b, call, err) != LLM_OK) {
        goto failed;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "model");

    if (cJSON_AddStringToObject(out, "model",
                                cJSON_IsString(v) ? v->valuestring : "")
        == NULL)
    {
        llm_anthropic_oom(err);
        goto failed;
    }

    if (llm_anthropic_limits(out, b, err) != LLM_OK
        || llm_anthropic_messages(out,
                                  cJSON_GetObjectItemCaseSensitive(b,
                                                                "messages"),
                                  err) != LLM_OK
        || llm_anthropic_tools(out, b, err) != LLM_OK)
    {
        goto failed;
    }

    if (llm_anthropic_sampling(out, b) != LLM_OK) {
        llm_anthropic_oom(err);
        goto failed;
    }

    /* set from reasoning_effort, or Anthropic's own, passed through */
    v = cJSON_DetachItemFromObjectCaseSensitive(b, "thinking");

    if (cJSON_IsObject(v)) {
        if (llm_anthropic_put(out, "thinking", v) != LLM_OK) {
            llm_anthropic_oom(err);
            goto failed;
        }

    } else {
        cJSON_Delete(v);
    }

    if ((call->stream || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
                                          b, "stream")))
        && cJSON_AddTrueToObject(out, "stream") == NULL)
    {
        llm_anthropic_oom(err);
        goto failed;
    }

    cJSON_Delete(b);

    return out;

failed:

    cJSON_Delete(b);
    cJSON_Delete(out);

    return NULL;
}


/*
 * Values that ask for nothing (n: 1, logprobs: false, null) are not
 * "unsupported": they are removed before the drop_params check.
 */
static int
llm_anthropic_drop(cJSON *b, const llm_call_t *call, llm_error_t *err)
{
    cJSON              *v;
    const char *const  *n;

    for (n = llm_anthropic_unsupported; *n; n++) {
        v = cJSON_GetObjectItemCaseSensitive(b, *n);

        if (v == NULL) {
            continue;
        }

        if (cJSON_IsNull(v) || cJSON_IsFalse(v)
            || (strcmp(*n, "n") == 0 && cJSON_IsNumber(v)
                && v->valuedouble <= 1))
        {
            cJSON_DeleteItemFromObjectCaseSensitive(b, *n);
        }
    }

    return llm_request_drop_unsupported(b, llm_anthropic_unsupported,
                                        call->drop_params,
                                        LLM_ANTHROPIC_NAME, err);
}


/*
 * max_tokens is required.  With reasoning_effort the thinking budget
 * counts against max_tokens, which must stay above it: a smaller
 * max_tokens is raised by the budget so the visible answer keeps the
 * room the client asked for.
 */
static int
llm_anthropic_limits(cJSON *out, cJSON *b, llm_error_t *err)
{
    int     budget;
    double  max;
    cJSON  *v, *t;

    v = cJSON_GetObjectItemCaseSensitive(b, "max_completion_tokens");

    if (v == NULL || cJSON_IsNull(v)) {
        v = cJSON_GetObjectItemCaseSensitive(b, "max_tokens");
    }

    if (v == NULL || cJSON_IsNull(v)) {
        max = LLM_ANTHROPIC_DEFAULT_MAX_TOKENS;

    } else if (cJSON_IsNumber(v) && v->valuedouble >= 1) {
        max = v->valuedouble > 1e9 ? 1e9 : (double) (long) v->valuedouble;

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL,
                      v->string ? v->string : "max_tokens",
                      "'%s' must be a positive integer",
                      v->string ? v->string : "max_tokens");
        return LLM_ERROR;
    }

    budget = llm_anthropic_thinking_budget(b, err);
    if (budget < 0) {
        return LLM_ERROR;
    }

    if (budget && max <= budget) {
        max += budget;
    }

    if (cJSON_AddNumberToObject(out, "max_tokens", max) == NULL) {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    if (budget == 0) {
        return LLM_OK;
    }

    /* reasoning_effort wins over a native "thinking" the body may carry */
    cJSON_DeleteItemFromObjectCaseSensitive(b, "thinking");

    t = cJSON_AddObjectToObject(b, "thinking");

    if (t == NULL
        || cJSON_AddStringToObject(t, "type", "enabled") == NULL
        || cJSON_AddNumberToObject(t, "budget_tokens", budget) == NULL)
    {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* reasoning_effort -> budget_tokens; 0: no thinking, -1: bad value */
static int
llm_anthropic_thinking_budget(cJSON *b, llm_error_t *err)
{
    const char  *e;
    cJSON       *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "reasoning_effort");

    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }

    e = cJSON_IsString(v) ? v->valuestring : "";

    if (strcmp(e, "none") == 0) {
        return 0;
    }

    if (strcmp(e, "low") == 0 || strcmp(e, "minimal") == 0) {
        return 1024;
    }

    if (strcmp(e, "medium") == 0) {
        return 2048;
    }

    if (strcmp(e, "high") == 0) {
        return 4096;
    }

    llm_error_set(err, 400, "invalid_request_error", NULL,
                  "reasoning_effort", "'reasoning_effort' must be one of "
                  "minimal, low, medium, high or none");
    return -1;
}


static int
llm_anthropic_tools(cJSON *out, cJSON *b, llm_error_t *err)
{
    int     user_tools;
    cJSON  *tools, *jt;

    tools = cJSON_CreateArray();
    if (tools == NULL) {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    if (llm_anthropic_tool_list(tools,
                                cJSON_GetObjectItemCaseSensitive(b, "tools"))
        != LLM_OK)
    {
        cJSON_Delete(tools);
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    user_tools = cJSON_GetArraySize(tools);
    jt = NULL;

    if (llm_anthropic_json_format(
            cJSON_GetObjectItemCaseSensitive(b, "response_format")))
    {
        jt = llm_anthropic_json_tool(
                 cJSON_GetObjectItemCaseSensitive(b, "response_format"));

        if (jt == NULL) {
            cJSON_Delete(tools);
            llm_anthropic_oom(err);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(tools, jt);
    }

    /* a tool_choice without tools is rejected by the API */
    if (cJSON_GetArraySize(tools) == 0) {
        cJSON_Delete(tools);
        return LLM_OK;
    }

    if (llm_anthropic_put(out, "tools", tools) != LLM_OK) {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    return llm_anthropic_tool_choice(out, b, jt != NULL, user_tools, err);
}


/* OpenAI {type:function, function:{name, description, parameters}} */
static int
llm_anthropic_tool_list(cJSON *tools, const cJSON *list)
{
    cJSON        *t, *schema;
    const cJSON  *tool, *fn, *name, *desc, *params, *cc;

    cJSON_ArrayForEach(tool, list) {
        fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn, "name");

        if (!cJSON_IsString(name)) {
            continue;
        }

        desc = cJSON_GetObjectItemCaseSensitive(fn, "description");
        params = cJSON_GetObjectItemCaseSensitive(fn, "parameters");
        cc = cJSON_GetObjectItemCaseSensitive(tool, "cache_control");

        t = cJSON_CreateObject();
        if (t == NULL) {
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(tools, t);

        if (cJSON_AddStringToObject(t, "name", name->valuestring) == NULL
            || (cJSON_IsString(desc)
                && cJSON_AddStringToObject(t, "description",
                                           desc->valuestring) == NULL))
        {
            return LLM_ERROR;
        }

        if (cJSON_IsObject(params)) {
            schema = cJSON_Duplicate(params, 1);

        } else {
            schema = cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
        }

        if (llm_anthropic_put(t, "input_schema", schema) != LLM_OK
            || (cJSON_IsObject(cc)
                && llm_anthropic_put(t, "cache_control",
                                     cJSON_Duplicate(cc, 1)) != LLM_OK))
        {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_anthropic_json_format(const cJSON *rf)
{
    const cJSON  *type;

    type = cJSON_GetObjectItemCaseSensitive(rf, "type");

    return cJSON_IsString(type)
           && (strcmp(type->valuestring, "json_schema") == 0
               || strcmp(type->valuestring, "json_object") == 0);
}


int
llm_anthropic_json_mode(const llm_call_t *call)
{
    const cJSON  *rf;

    rf = cJSON_GetObjectItemCaseSensitive(llm_call_req(call),
                                          "response_format");

    if (rf == NULL && call->dep && call->dep->defaults) {
        rf = cJSON_GetObjectItemCaseSensitive(call->dep->defaults,
                                              "response_format");
    }

    return llm_anthropic_json_format(rf);
}


/*
 * The forced-tool fallback for structured output: the schema becomes
 * the input_schema of a tool the model must call; json_object gets a
 * permissive schema.
 */
static cJSON *
llm_anthropic_json_tool(const cJSON *rf)
{
    cJSON        *t, *schema;
    const cJSON  *js, *s, *desc;

    js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    s = cJSON_GetObjectItemCaseSensitive(js, "schema");
    desc = cJSON_GetObjectItemCaseSensitive(js, "description");

    t = cJSON_CreateObject();
    if (t == NULL) {
        return NULL;
    }

    if (cJSON_AddStringToObject(t, "name", LLM_ANTHROPIC_JSON_TOOL) == NULL
        || cJSON_AddStringToObject(t, "description",
                                   cJSON_IsString(desc)
                                   ? desc->valuestring
                                   : "Respond with a JSON object.") == NULL)
    {
        cJSON_Delete(t);
        return NULL;
    }

    if (cJSON_IsObject(s)) {
        schema = cJSON_Duplicate(s, 1);

    } else {
        schema = cJSON_Parse("{\"type\":\"object\"}");
    }

    if (llm_anthropic_put(t, "input_schema", schema) != LLM_OK) {
        cJSON_Delete(t);
        return NULL;
    }

    return t;
}


/*
 * With the JSON tool and no tools of the client's, the JSON tool is
 * forced.  Extended thinking refuses forced tool use, so there it is
 * only offered ("auto").  With client tools too, the client's choice
 * stands ("any" when none: some tool must answer).
 */
static int
llm_anthropic_tool_choice(cJSON *out, cJSON *b, int json_tool,
    int user_tools, llm_error_t *err)
{
    int     thinking;
    cJSON  *tc, *choice, *ptc, *v;

    tc = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");
    ptc = cJSON_GetObjectItemCaseSensitive(b, "parallel_tool_calls");
    v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(b, "thinking"), "type");
    thinking = cJSON_IsString(v) && strcmp(v->valuestring, "enabled") == 0;

    if (json_tool && (user_tools == 0 || tc == NULL || cJSON_IsNull(tc))) {
        if (thinking) {
            choice = cJSON_Parse("{\"type\":\"auto\"}");

        } else if (user_tools == 0) {
            choice = cJSON_Parse("{\"type\":\"tool\",\"name\":\""
                                 LLM_ANTHROPIC_JSON_TOOL "\"}");

        } else {
            choice = cJSON_Parse("{\"type\":\"any\"}");
        }

        if (choice == NULL) {
            llm_anthropic_oom(err);
            return LLM_ERROR;
        }

    } else if (tc && !cJSON_IsNull(tc)) {
        choice = llm_anthropic_choice(tc, err);
        if (choice == NULL) {
            return LLM_ERROR;
        }

    } else if (cJSON_IsFalse(ptc)) {
        choice = cJSON_Parse("{\"type\":\"auto\"}");
        if (choice == NULL) {
            llm_anthropic_oom(err);
            return LLM_ERROR;
        }

    } else {
        return LLM_OK;
    }

    if (llm_anthropic_put(out, "tool_choice", choice) != LLM_OK) {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    /* "none" has no disable_parallel_tool_use */
    if (cJSON_IsFalse(ptc)
        && strcmp(cJSON_GetObjectItemCaseSensitive(choice, "type")
                  ->valuestring, "none") != 0
        && cJSON_AddTrueToObject(choice, "disable_parallel_tool_use")
           == NULL)
    {
        llm_anthropic_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static cJSON *
llm_anthropic_choice(const cJSON *tc, llm_error_t *err)
{
    cJSON        *c;
    const char   *type, *s;
    const cJSON  *name;

    name = NULL;
    s = cJSON_IsString(tc) ? tc->valuestring : NULL;

    if (s == NULL) {
        name = cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(tc, "function"), "name");
    }

    if (s && strcmp(s, "auto") == 0) {
        type = "auto";

    } else if (s && strcmp(s, "required") == 0) {
        type = "any";

    } else if (s && strcmp(s, "none") == 0) {
        type = "none";

    } else if (cJSON_IsString(name)) {
        type = "tool";

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "'tool_choice' must be \"auto\", \"required\", "
                      "\"none\" or {\"type\":\"function\",\"function\":"
                      "{\"name\":...}}");
        return NULL;
    }

    c = cJSON_CreateObject();

    if (c == NULL
        || cJSON_AddStringToObject(c, "type", type) == NULL
        || (name && cJSON_AddStringToObject(c, "name", name->valuestring)
                    == NULL))
    {
        cJSON_Delete(c);
        llm_anthropic_oom(err);
        return NULL;
    }

    return c;
}


/* temperature (Anthropic's range is 0-1), top_p, top_k, stop, user */
static int
llm_anthropic_sampling(cJSON *out, cJSON *b)
{
    double  t;
    cJSON  *v, *md;

    v = cJSON_GetObjectItemCaseSensitive(b, "temperature");

    if (cJSON_IsNumber(v)) {
        t = v->valuedouble > 1 ? 1 : v->valuedouble;

        if (cJSON_AddNumberToObject(out, "temperature", t) == NULL) {
            return LLM_ERROR;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "top_p");

    if (cJSON_IsNumber(v)
        && cJSON_AddNumberToObject(out, "top_p", v->valuedouble) == NULL)
    {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "top_k");

    if (cJSON_IsNumber(v)
        && cJSON_AddNumberToObject(out, "top_k", v->valuedouble) == NULL)
    {
        return LLM_ERROR;
    }

    if (llm_anthropic_stop(out, cJSON_GetObjectItemCaseSensitive(b, "stop"))
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "user");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        md = cJSON_AddObjectToObject(out, "metadata");

        if (md == NULL
            || cJSON_AddStringToObject(md, "user_id", v->valuestring)
               == NULL)
        {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_anthropic_stop(cJSON *out, const cJSON *stop)
{
    /* Anthropic refuses stop sequences of only whitespace */
    return llm_request_stop(out, "stop_sequences", stop, 1);
}


