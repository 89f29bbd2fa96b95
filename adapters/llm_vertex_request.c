/*
 * Copyright (C) ngx_llm authors
 *
 * The Gemini generateContent body (../shared/providers/vertex.md,
 * "Gemini request mapping").  Built afresh from the prepared client
 * body: Google rejects fields it does not know, so only mapped
 * parameters are sent.  Messages are mapped in llm_vertex_contents.c.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_vertex.h"


static int llm_vertex_drop(cJSON *b, const llm_call_t *call,
    llm_error_t *err);
static int llm_vertex_generation(cJSON *out, const cJSON *b,
    const llm_call_t *call, llm_error_t *err);
static int llm_vertex_numbers(cJSON *gc, const cJSON *b, llm_error_t *err);
static int llm_vertex_max_tokens(cJSON *gc, const cJSON *b,
    llm_error_t *err);
static int llm_vertex_stop(cJSON *gc, const cJSON *stop);
static int llm_vertex_format(cJSON *gc, const cJSON *rf, llm_error_t *err);
static int llm_vertex_logprobs(cJSON *gc, const cJSON *b);
static int llm_vertex_thinking(cJSON *gc, const cJSON *b,
    const llm_call_t *call, llm_error_t *err);
static int llm_vertex_tools(cJSON *out, const cJSON *b, llm_error_t *err);
static int llm_vertex_function(cJSON *decls, const cJSON *fn);
static int llm_vertex_native_tool(cJSON *tools, const cJSON *tool);
static int llm_vertex_tool_config(cJSON *out, const cJSON *tc,
    llm_error_t *err);
static int llm_vertex_extras(cJSON *out, const cJSON *b);
static int llm_vertex_label_ok(const char *s);
static const cJSON *llm_vertex_get(const cJSON *b, const char *a,
    const char *b_name);


/* OpenAI parameters with no generateContent counterpart */
static const char *const  llm_vertex_unsupported[] = {
    "logit_bias",
    NULL
};


/* Google's own tools, passed through as they are */
static const char *const  llm_vertex_native_tools[] = {
    "googleSearch",
    "googleSearchRetrieval",
    "codeExecution",
    "urlContext",
    "retrieval",
    "enterpriseWebSearch",
    "googleMaps",
    NULL
};


cJSON *
llm_vertex_gemini_body(const llm_call_t *call, llm_error_t *err)
{
    cJSON  *b, *out;

    b = llm_request_prepare(call);
    out = cJSON_CreateObject();

    if (b == NULL || out == NULL) {
        llm_vertex_oom(err);
        goto failed;
    }

    if (llm_vertex_drop(b, call, err) != LLM_OK
        || llm_vertex_contents(out, cJSON_GetObjectItemCaseSensitive(
                                        b, "messages"), err) != LLM_OK
        || llm_vertex_tools(out, b, err) != LLM_OK
        || llm_vertex_generation(out, b, call, err) != LLM_OK)
    {
        goto failed;
    }

    if (llm_vertex_extras(out, b) != LLM_OK) {
        llm_vertex_oom(err);
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
 * Values that ask for nothing (null, false) are not "unsupported".
 * Streams translate one candidate only, so n > 1 is refused there.
 */
static int
llm_vertex_drop(cJSON *b, const llm_call_t *call, llm_error_t *err)
{
    cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "logit_bias");

    if (v && (cJSON_IsNull(v) || (cJSON_IsObject(v) && v->child == NULL))) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "logit_bias");
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "n");

    if (call->stream && cJSON_IsNumber(v) && v->valuedouble > 1) {
        if (!call->drop_params) {
            llm_error_set(err, 400, "invalid_request_error",
                          "unsupported_parameter", "n",
                          LLM_VERTEX_NAME " does not support n > 1 with "
                          "stream; set drop_params: true to drop it");
            return LLM_ERROR;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(b, "n");
    }

    return llm_request_drop_unsupported(b, llm_vertex_unsupported,
                                        call->drop_params, LLM_VERTEX_NAME,
                                        err);
}


static int
llm_vertex_generation(cJSON *out, const cJSON *b, const llm_call_t *call,
    llm_error_t *err)
{
    cJSON  *gc;

    gc = cJSON_CreateObject();
    if (gc == NULL) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    if (llm_vertex_max_tokens(gc, b, err) != LLM_OK
        || llm_vertex_numbers(gc, b, err) != LLM_OK
        || llm_vertex_format(gc, cJSON_GetObjectItemCaseSensitive(
                                     b, "response_format"), err) != LLM_OK
        || llm_vertex_thinking(gc, b, call, err) != LLM_OK)
    {
        cJSON_Delete(gc);
        return LLM_ERROR;
    }

    if (llm_vertex_stop(gc, cJSON_GetObjectItemCaseSensitive(b, "stop"))
        != LLM_OK
        || llm_vertex_logprobs(gc, b) != LLM_OK)
    {
        cJSON_Delete(gc);
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    if (gc->child == NULL) {
        cJSON_Delete(gc);
        return LLM_OK;
    }

    if (llm_vertex_put(out, "generationConfig", gc) != LLM_OK) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* sampling numbers that keep their meaning under a new name */
static int
llm_vertex_numbers(cJSON *gc, const cJSON *b, llm_error_t *err)
{
    static const char *const  map[][2] = {
        { "temperature", "temperature" },
        { "top_p", "topP" },
        { "top_k", "topK" },
        { "seed", "seed" },
        { "presence_penalty", "presencePenalty" },
        { "frequency_penalty", "frequencyPenalty" },
        { "n", "candidateCount" },
        { NULL, NULL }
    };

    int           i;
    const cJSON  *v;

    for (i = 0; map[i][0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(b, map[i][0]);

        if (v == NULL || cJSON_IsNull(v)) {
            continue;
        }

        if (!cJSON_IsNumber(v)) {
            llm_error_set(err, 400, "invalid_request_error", NULL,
                          map[i][0], "'%s' must be a number", map[i][0]);
            return LLM_ERROR;
        }

        /* one candidate is the default: keep the body minimal */
        if (i == 6 && v->valuedouble == 1) {
            continue;
        }

        if (cJSON_AddNumberToObject(gc, map[i][1], v->valuedouble) == NULL) {
            llm_vertex_oom(err);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_vertex_max_tokens(cJSON *gc, const cJSON *b, llm_error_t *err)
{
    const char   *name;
    const cJSON  *v;

    name = "max_completion_tokens";
    v = cJSON_GetObjectItemCaseSensitive(b, name);

    if (v == NULL || cJSON_IsNull(v)) {
        name = "max_tokens";
        v = cJSON_GetObjectItemCaseSensitive(b, name);
    }

    if (v == NULL || cJSON_IsNull(v)) {
        return LLM_OK;
    }

    if (!cJSON_IsNumber(v) || v->valuedouble < 1) {
        llm_error_set(err, 400, "invalid_request_error", NULL, name,
                      "'%s' must be a positive integer", name);
        return LLM_ERROR;
    }

    if (cJSON_AddNumberToObject(gc, "maxOutputTokens",
                                v->valuedouble > 1e9
                                ? 1e9 : (double) (long) v->valuedouble)
        == NULL)
    {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_vertex_stop(cJSON *gc, const cJSON *stop)
{
    return llm_request_stop(gc, "stopSequences", stop, 0);
}


/*
 * json_object -> responseMimeType; json_schema adds responseSchema in
 * Vertex's OpenAPI subset (llm_vertex_schema.c).
 */
static int
llm_vertex_format(cJSON *gc, const cJSON *rf, llm_error_t *err)
{
    cJSON        *schema;
    const char   *t;
    const cJSON  *type, *s;

    if (rf == NULL || cJSON_IsNull(rf)) {
        return LLM_OK;
    }

    type = cJSON_GetObjectItemCaseSensitive(rf, "type");
    t = cJSON_IsString(type) ? type->valuestring : "";

    if (strcmp(t, "text") == 0) {
        return LLM_OK;
    }

    if (strcmp(t, "json_object") != 0 && strcmp(t, "json_schema") != 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL,
                      "response_format", "'response_format.type' must be "
                      "\"text\", \"json_object\" or \"json_schema\"");
        return LLM_ERROR;
    }

    if (cJSON_AddStringToObject(gc, "responseMimeType", "application/json")
        == NULL)
    {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    s = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(rf, "json_schema"), "schema");

    if (strcmp(t, "json_schema") != 0 || !cJSON_IsObject(s)) {
        return LLM_OK;
    }

    schema = llm_vertex_schema(s, s);

    if (schema == NULL || llm_vertex_put(gc, "responseSchema", schema)
                          != LLM_OK)
    {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_vertex_logprobs(cJSON *gc, const cJSON *b)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "logprobs");

    if (!cJSON_IsTrue(v)) {
        return LLM_OK;
    }

    if (cJSON_AddTrueToObject(gc, "responseLogprobs") == NULL) {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "top_logprobs");

    if (cJSON_IsNumber(v) && v->valuedouble >= 1
        && cJSON_AddNumberToObject(gc, "logprobs",
                                   (double) (int) v->valuedouble) == NULL)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * reasoning_effort -> thinkingConfig: a token budget (LiteLLM's values)
 * for Gemini 2.x, a thinkingLevel for Gemini 3.  Anthropic's "thinking"
 * object is understood too.  Thoughts are asked for, so that they come
 * back as reasoning_content.
 */
static int
llm_vertex_thinking(cJSON *gc, const cJSON *b, const llm_call_t *call,
    llm_error_t *err)
{
    int           budget, level;
    cJSON        *tc;
    const char   *e, *m;
    const cJSON  *v, *th;

    budget = -1;
    level = 0;
    m = call->dep->model_id ? call->dep->model_id : "";
    v = cJSON_GetObjectItemCaseSensitive(b, "reasoning_effort");
    th = cJSON_GetObjectItemCaseSensitive(b, "thinking");

    if (v && !cJSON_IsNull(v)) {
        e = cJSON_IsString(v) ? v->valuestring : "";

        if (strcmp(e, "none") == 0 || strcmp(e, "disable") == 0) {
            budget = 0;

        } else if (strcmp(e, "minimal") == 0) {
            budget = 128;

        } else if (strcmp(e, "low") == 0) {
            budget = 1024;

        } else if (strcmp(e, "medium") == 0) {
            budget = 2048;

        } else if (strcmp(e, "high") == 0) {
            budget = 4096;

        } else {
            llm_error_set(err, 400, "invalid_request_error", NULL,
                          "reasoning_effort", "'reasoning_effort' must be "
                          "one of minimal, low, medium, high or none");
            return LLM_ERROR;
        }

        level = strncmp(m, "gemini-3", 8) == 0;

    } else if (cJSON_IsObject(th)) {
        v = cJSON_GetObjectItemCaseSensitive(th, "type");
        e = cJSON_IsString(v) ? v->valuestring : "";
        v = cJSON_GetObjectItemCaseSensitive(th, "budget_tokens");

        if (strcmp(e, "disabled") == 0) {
            budget = 0;

        } else if (cJSON_IsNumber(v) && v->valuedouble >= 0) {
            budget = v->valuedouble > 1e7 ? 10000000 : (int) v->valuedouble;
        }
    }

    if (budget < 0) {
        return LLM_OK;
    }

    /* Gemini 3 always thinks: "none" leaves the model's default */
    if (level && budget == 0) {
        return LLM_OK;
    }

    tc = cJSON_AddObjectToObject(gc, "thinkingConfig");

    if (tc == NULL
        || (level && cJSON_AddStringToObject(tc, "thinkingLevel",
                                             budget <= 1024 ? "low" : "high")
                     == NULL)
        || (!level && cJSON_AddNumberToObject(tc, "thinkingBudget", budget)
                      == NULL)
        || (budget && cJSON_AddTrueToObject(tc, "includeThoughts") == NULL))
    {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* tools -> [{functionDeclarations:[...]}, native tools...], toolConfig */
static int
llm_vertex_tools(cJSON *out, const cJSON *b, llm_error_t *err)
{
    cJSON        *tools, *decls, *t;
    const cJSON  *tool, *fn;

    tools = cJSON_CreateArray();
    decls = cJSON_CreateArray();

    if (tools == NULL || decls == NULL) {
        goto oom;
    }

    cJSON_ArrayForEach(tool, cJSON_GetObjectItemCaseSensitive(b, "tools")) {
        fn = cJSON_GetObjectItemCaseSensitive(tool, "function");

        if (cJSON_IsObject(fn)) {
            if (llm_vertex_function(decls, fn) != LLM_OK) {
                goto oom;
            }

        } else if (llm_vertex_native_tool(tools, tool) != LLM_OK) {
            goto oom;
        }
    }

    if (decls->child) {
        t = cJSON_CreateObject();

        if (t == NULL || !cJSON_InsertItemInArray(tools, 0, t)) {
            cJSON_Delete(t);
            goto oom;
        }

        cJSON_AddItemToObject(t, "functionDeclarations", decls);
        decls = NULL;
    }

    cJSON_Delete(decls);

    /* a toolConfig without tools is refused */
    if (tools->child == NULL) {
        cJSON_Delete(tools);
        return LLM_OK;
    }

    if (llm_vertex_put(out, "tools", tools) != LLM_OK) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return llm_vertex_tool_config(out,
               cJSON_GetObjectItemCaseSensitive(b, "tool_choice"), err);

oom:

    cJSON_Delete(tools);
    cJSON_Delete(decls);
    llm_vertex_oom(err);

    return LLM_ERROR;
}


/* {name, description, parameters} of an OpenAI function */
static int
llm_vertex_function(cJSON *decls, const cJSON *fn)
{
    cJSON        *d, *params;
    const cJSON  *name, *desc;

    name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    desc = cJSON_GetObjectItemCaseSensitive(fn, "description");

    if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
        return LLM_OK;
    }

    d = cJSON_CreateObject();

    if (d == NULL || !cJSON_AddItemToArray(decls, d)) {
        cJSON_Delete(d);
        return LLM_ERROR;
    }

    if (cJSON_AddStringToObject(d, "name", name->valuestring) == NULL
        || (cJSON_IsString(desc) && desc->valuestring[0]
            && cJSON_AddStringToObject(d, "description", desc->valuestring)
               == NULL))
    {
        return LLM_ERROR;
    }

    params = llm_vertex_parameters(cJSON_GetObjectItemCaseSensitive(
                                       fn, "parameters"));

    if (params && llm_vertex_put(d, "parameters", params) != LLM_OK) {
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* {"googleSearch": {}} and the like, as Google spells them */
static int
llm_vertex_native_tool(cJSON *tools, const cJSON *tool)
{
    cJSON              *t;
    const cJSON        *v;
    const char *const  *n;

    for (n = llm_vertex_native_tools; *n; n++) {
        v = cJSON_GetObjectItemCaseSensitive(tool, *n);

        if (!cJSON_IsObject(v)) {
            continue;
        }

        t = cJSON_CreateObject();

        if (t == NULL || !cJSON_AddItemToArray(tools, t)
            || llm_vertex_put(t, *n, cJSON_Duplicate(v, 1)) != LLM_OK)
        {
            cJSON_Delete(t);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_vertex_tool_config(cJSON *out, const cJSON *tc, llm_error_t *err)
{
    cJSON        *cfg, *fcc, *names;
    const char   *s, *mode;
    const cJSON  *name;

    if (tc == NULL || cJSON_IsNull(tc)) {
        return LLM_OK;
    }

    s = cJSON_IsString(tc) ? tc->valuestring : NULL;
    name = NULL;

    if (s == NULL) {
        name = cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(tc, "function"), "name");
    }

    if (s && strcmp(s, "auto") == 0) {
        mode = "AUTO";

    } else if (s && strcmp(s, "required") == 0) {
        mode = "ANY";

    } else if (s && strcmp(s, "none") == 0) {
        mode = "NONE";

    } else if (cJSON_IsString(name)) {
        mode = "ANY";

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "'tool_choice' must be \"auto\", \"required\", "
                      "\"none\" or {\"type\":\"function\",\"function\":"
                      "{\"name\":...}}");
        return LLM_ERROR;
    }

    cfg = cJSON_AddObjectToObject(out, "toolConfig");
    fcc = cfg ? cJSON_AddObjectToObject(cfg, "functionCallingConfig") : NULL;

    if (fcc == NULL || cJSON_AddStringToObject(fcc, "mode", mode) == NULL) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    if (cJSON_IsString(name)) {
        names = cJSON_AddArrayToObject(fcc, "allowedFunctionNames");

        if (names == NULL
            || !cJSON_AddItemToArray(names,
                                     cJSON_CreateString(name->valuestring)))
        {
            llm_vertex_oom(err);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


/*
 * Vertex-only members a client (or the deployment) may set, in
 * LiteLLM's snake_case or Google's camelCase: safetySettings, labels,
 * cachedContent.  "user" becomes a label when it is a valid one.
 */
static int
llm_vertex_extras(cJSON *out, const cJSON *b)
{
    cJSON        *labels;
    const cJSON  *v;

    v = llm_vertex_get(b, "safety_settings", "safetySettings");

    if (cJSON_IsArray(v)
        && llm_vertex_put(out, "safetySettings", cJSON_Duplicate(v, 1))
           != LLM_OK)
    {
        return LLM_ERROR;
    }

    v = llm_vertex_get(b, "cached_content", "cachedContent");

    if (cJSON_IsString(v) && v->valuestring[0]
        && cJSON_AddStringToObject(out, "cachedContent", v->valuestring)
           == NULL)
    {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "labels");

    if (cJSON_IsObject(v)) {
        labels = cJSON_Duplicate(v, 1);

    } else {
        labels = cJSON_CreateObject();
    }

    if (labels == NULL) {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "user");

    if (cJSON_IsString(v) && llm_vertex_label_ok(v->valuestring)
        && cJSON_GetObjectItemCaseSensitive(labels, "user") == NULL
        && cJSON_AddStringToObject(labels, "user", v->valuestring) == NULL)
    {
        cJSON_Delete(labels);
        return LLM_ERROR;
    }

    if (labels->child == NULL) {
        cJSON_Delete(labels);
        return LLM_OK;
    }

    return llm_vertex_put(out, "labels", labels);
}


/* label values: at most 63 lowercase letters, digits, '_' and '-' */
static int
llm_vertex_label_ok(const char *s)
{
    size_t  n;

    for (n = 0; s[n]; n++) {
        if (n == 63
            || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9')
                 || s[n] == '_' || s[n] == '-'))
        {
            return 0;
        }
    }

    return n > 0;
}


static const cJSON *
llm_vertex_get(const cJSON *b, const char *a, const char *b_name)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, a);

    return v ? v : cJSON_GetObjectItemCaseSensitive(b, b_name);
}
