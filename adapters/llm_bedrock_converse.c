/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI chat request -> Converse body (../shared/providers/bedrock.md,
 * "Converse request mapping").  The body is built afresh: Converse has
 * no "model" (it is in the path), no "stream" (that is the endpoint)
 * and rejects members it does not know.
 *
 * The messages themselves are mapped in llm_bedrock_messages.c.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_bedrock.h"


static int llm_bedrock_drop(cJSON *b, const llm_call_t *call, int claude,
    llm_error_t *err);
static int llm_bedrock_inference(cJSON *out, cJSON *b, int claude,
    llm_error_t *err);
static int llm_bedrock_max_tokens(cJSON *ic, cJSON *b, int claude,
    int budget, llm_error_t *err);
static int llm_bedrock_budget(const cJSON *b, llm_error_t *err);
static int llm_bedrock_stop(cJSON *ic, const cJSON *stop);
static int llm_bedrock_model_fields(cJSON *out, cJSON *b, int budget);
static int llm_bedrock_tools(cJSON *out, cJSON *b,
    const llm_bedrock_conv_t *cv, llm_error_t *err);
static int llm_bedrock_tool_specs(cJSON *tools, const cJSON *list);
static cJSON *llm_bedrock_tool_spec(const char *name, const char *desc,
    const cJSON *params);
static int llm_bedrock_history_tools(cJSON *tools, const cJSON *names);
static int llm_bedrock_tool_choice(cJSON *tc, const cJSON *choice,
    llm_error_t *err);
static int llm_bedrock_output(cJSON *out, const cJSON *rf, llm_error_t *err);
static int llm_bedrock_metadata(cJSON *out, cJSON *b);
static int llm_bedrock_passthrough(cJSON *out, cJSON *b);
static int llm_bedrock_is_claude(const char *model_id);
static int llm_bedrock_empty(const cJSON *v);


/* OpenAI parameters with no Converse counterpart */
static const char *const  llm_bedrock_unsupported[] = {
    "seed",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "frequency_penalty",
    "presence_penalty",
    "n",
    NULL
};


/* extended thinking exists for Anthropic's models only */
static const char *const  llm_bedrock_no_reasoning[] = {
    "reasoning_effort",
    NULL
};


cJSON *
llm_bedrock_converse_body(const llm_call_t *call, llm_error_t *err)
{
    int                  claude;
    cJSON               *b, *out;
    llm_bedrock_conv_t   cv;

    claude = llm_bedrock_is_claude(llm_bedrock_model_id(call->dep));

    memset(&cv, 0, sizeof(llm_bedrock_conv_t));

    b = llm_request_prepare(call);
    out = cJSON_CreateObject();

    if (b == NULL || out == NULL) {
        llm_bedrock_oom(err);
        goto failed;
    }

    if (llm_bedrock_drop(b, call, claude, err) != LLM_OK
        || llm_bedrock_messages(&cv, out,
                                cJSON_GetObjectItemCaseSensitive(b,
                                                                 "messages"),
                                err) != LLM_OK
        || llm_bedrock_inference(out, b, claude, err) != LLM_OK
        || llm_bedrock_tools(out, b, &cv, err) != LLM_OK
        || llm_bedrock_output(out,
                              cJSON_GetObjectItemCaseSensitive(b,
                                                        "response_format"),
                              err) != LLM_OK)
    {
        goto failed;
    }

    if (llm_bedrock_metadata(out, b) != LLM_OK
        || llm_bedrock_passthrough(out, b) != LLM_OK)
    {
        llm_bedrock_oom(err);
        goto failed;
    }

    llm_bedrock_conv_free(&cv);
    cJSON_Delete(b);

    return out;

failed:

    llm_bedrock_conv_free(&cv);
    cJSON_Delete(b);
    cJSON_Delete(out);

    return NULL;
}


/* Anthropic's models need maxTokens and take "thinking" */
static int
llm_bedrock_is_claude(const char *model_id)
{
    return strstr(model_id, "anthropic.") != NULL
           || strstr(model_id, "claude") != NULL;
}


/* null, false and n: 1 ask for nothing */
static int
llm_bedrock_empty(const cJSON *v)
{
    return cJSON_IsNull(v) || cJSON_IsFalse(v)
           || (strcmp(v->string, "n") == 0 && cJSON_IsNumber(v)
               && v->valuedouble <= 1);
}


/*
 * Values that ask for nothing are removed before the drop_params check;
 * what is left is dropped or refused.
 */
static int
llm_bedrock_drop(cJSON *b, const llm_call_t *call, int claude,
    llm_error_t *err)
{
    cJSON              *v;
    const char *const  *n;

    for (n = llm_bedrock_unsupported; *n; n++) {
        v = cJSON_GetObjectItemCaseSensitive(b, *n);

        if (v && llm_bedrock_empty(v)) {
            cJSON_DeleteItemFromObjectCaseSensitive(b, *n);
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "reasoning_effort");

    if (v && (cJSON_IsNull(v)
              || (cJSON_IsString(v) && strcmp(v->valuestring, "none") == 0)))
    {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "reasoning_effort");
    }

    if (llm_request_drop_unsupported(b, llm_bedrock_unsupported,
                                     call->drop_params, LLM_BEDROCK_NAME,
                                     err) != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (claude) {
        return LLM_OK;
    }

    return llm_request_drop_unsupported(b, llm_bedrock_no_reasoning,
                                        call->drop_params, LLM_BEDROCK_NAME,
                                        err);
}


/* maxTokens, temperature, topP, stopSequences */
static int
llm_bedrock_inference(cJSON *out, cJSON *b, int claude, llm_error_t *err)
{
    int     budget;
    cJSON  *ic, *v;

    budget = claude ? llm_bedrock_budget(b, err) : 0;
    if (budget < 0) {
        return LLM_ERROR;
    }

    ic = cJSON_CreateObject();
    if (ic == NULL) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    if (llm_bedrock_max_tokens(ic, b, claude, budget, err) != LLM_OK) {
        cJSON_Delete(ic);
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "temperature");

    if (cJSON_IsNumber(v)
        && cJSON_AddNumberToObject(ic, "temperature", v->valuedouble)
           == NULL)
    {
        goto oom;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "top_p");

    if (cJSON_IsNumber(v)
        && cJSON_AddNumberToObject(ic, "topP", v->valuedouble) == NULL)
    {
        goto oom;
    }

    if (llm_bedrock_stop(ic, cJSON_GetObjectItemCaseSensitive(b, "stop"))
        != LLM_OK)
    {
        goto oom;
    }

    if (cJSON_GetArraySize(ic) == 0) {
        cJSON_Delete(ic);

    } else if (llm_bedrock_put(out, "inferenceConfig", ic) != LLM_OK) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    if (llm_bedrock_model_fields(out, b, budget) != LLM_OK) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;

oom:

    cJSON_Delete(ic);
    llm_bedrock_oom(err);

    return LLM_ERROR;
}


/*
 * max_completion_tokens, else max_tokens, else (Claude) a default.
 * The thinking budget counts against maxTokens, which must stay above
 * it: a smaller limit is raised by the budget.
 */
static int
llm_bedrock_max_tokens(cJSON *ic, cJSON *b, int claude, int budget,
    llm_error_t *err)
{
    double       max;
    cJSON       *v;
    const char  *name;

    v = cJSON_GetObjectItemCaseSensitive(b, "max_completion_tokens");

    if (v == NULL || cJSON_IsNull(v)) {
        v = cJSON_GetObjectItemCaseSensitive(b, "max_tokens");
    }

    if (v == NULL || cJSON_IsNull(v)) {
        if (!claude) {
            return LLM_OK;
        }

        max = LLM_BEDROCK_DEFAULT_MAX_TOKENS;

    } else if (cJSON_IsNumber(v) && v->valuedouble >= 1) {
        max = v->valuedouble > 1e9 ? 1e9 : (double) (long) v->valuedouble;

    } else {
        name = v->string ? v->string : "max_tokens";
        llm_error_set(err, 400, "invalid_request_error", NULL, name,
                      "'%s' must be a positive integer", name);
        return LLM_ERROR;
    }

    if (budget && max <= budget) {
        max += budget;
    }

    if (cJSON_AddNumberToObject(ic, "maxTokens", max) == NULL) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* reasoning_effort -> Claude's budget_tokens; 0 none, -1 a bad value */
static int
llm_bedrock_budget(const cJSON *b, llm_error_t *err)
{
    const char   *e;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(b, "reasoning_effort");

    if (v == NULL) {
        return 0;
    }

    e = cJSON_IsString(v) ? v->valuestring : "";

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
llm_bedrock_stop(cJSON *ic, const cJSON *stop)
{
    /* Claude on Bedrock refuses whitespace-only ones as Anthropic does */
    return llm_request_stop(ic, "stopSequences", stop, 1);
}


/*
 * additionalModelRequestFields: the client's own, plus top_k and
 * Claude's "thinking" (from reasoning_effort, or passed as is).
 */
static int
llm_bedrock_model_fields(cJSON *out, cJSON *b, int budget)
{
    cJSON  *f, *v, *t;

    v = cJSON_GetObjectItemCaseSensitive(b, "additionalModelRequestFields");
    f = cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();

    if (f == NULL) {
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "top_k");

    if (cJSON_IsNumber(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(f, "top_k");

        if (cJSON_AddNumberToObject(f, "top_k", v->valuedouble) == NULL) {
            goto failed;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "thinking");

    if (budget || cJSON_IsObject(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(f, "thinking");

        if (budget) {
            t = cJSON_AddObjectToObject(f, "thinking");

            if (t == NULL
                || cJSON_AddStringToObject(t, "type", "enabled") == NULL
                || cJSON_AddNumberToObject(t, "budget_tokens", budget)
                   == NULL)
            {
                goto failed;
            }

        } else if (llm_bedrock_put(f, "thinking", cJSON_Duplicate(v, 1))
                   != LLM_OK)
        {
            goto failed;
        }
    }

    if (cJSON_GetArraySize(f) == 0) {
        cJSON_Delete(f);
        return LLM_OK;
    }

    return llm_bedrock_put(out, "additionalModelRequestFields", f);

failed:

    cJSON_Delete(f);

    return LLM_ERROR;
}


/*
 * toolConfig.  Once the history holds toolUse or toolResult blocks
 * Converse wants a toolConfig, even on a turn without tools: the tools
 * named in the history are declared then, with a permissive schema.
 * Converse has no tool_choice "none": toolChoice is left out, and so
 * are the tools when the history allows.
 */
static int
llm_bedrock_tools(cJSON *out, cJSON *b, const llm_bedrock_conv_t *cv,
    llm_error_t *err)
{
    int           none;
    cJSON        *tc, *tools;
    const cJSON  *choice;

    choice = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");
    none = cJSON_IsString(choice) && strcmp(choice->valuestring, "none") == 0;

    if (none && !cv->tool_blocks) {
        return LLM_OK;
    }

    tc = cJSON_CreateObject();
    tools = cJSON_AddArrayToObject(tc, "tools");

    if (tools == NULL
        || llm_bedrock_tool_specs(tools,
                                  cJSON_GetObjectItemCaseSensitive(b, "tools"))
           != LLM_OK
        || (cJSON_GetArraySize(tools) == 0 && cv->tool_blocks
            && llm_bedrock_history_tools(tools, cv->tool_names) != LLM_OK))
    {
        cJSON_Delete(tc);
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    /* a toolChoice without tools is refused by the API */
    if (cJSON_GetArraySize(tools) == 0) {
        cJSON_Delete(tc);
        return LLM_OK;
    }

    if (!none && choice && !cJSON_IsNull(choice)
        && llm_bedrock_tool_choice(tc, choice, err) != LLM_OK)
    {
        cJSON_Delete(tc);
        return LLM_ERROR;
    }

    if (llm_bedrock_put(out, "toolConfig", tc) != LLM_OK) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* OpenAI {type:function, function:{name, description, parameters}} */
static int
llm_bedrock_tool_specs(cJSON *tools, const cJSON *list)
{
    cJSON        *t;
    const cJSON  *tool, *fn, *name, *desc;

    cJSON_ArrayForEach(tool, list) {
        fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn, "name");

        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            continue;
        }

        desc = cJSON_GetObjectItemCaseSensitive(fn, "description");

        t = llm_bedrock_tool_spec(name->valuestring,
                                  cJSON_IsString(desc) && desc->valuestring[0]
                                  ? desc->valuestring : NULL,
                                  cJSON_GetObjectItemCaseSensitive(fn,
                                                              "parameters"));
        if (t == NULL) {
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(tools, t);
    }

    return LLM_OK;
}


static cJSON *
llm_bedrock_tool_spec(const char *name, const char *desc,
    const cJSON *params)
{
    cJSON  *t, *spec, *schema, *json;

    t = cJSON_CreateObject();
    spec = cJSON_AddObjectToObject(t, "toolSpec");

    if (spec == NULL
        || cJSON_AddStringToObject(spec, "name", name) == NULL
        || (desc && cJSON_AddStringToObject(spec, "description", desc)
                    == NULL))
    {
        cJSON_Delete(t);
        return NULL;
    }

    schema = cJSON_AddObjectToObject(spec, "inputSchema");

    if (cJSON_IsObject(params)) {
        json = cJSON_Duplicate(params, 1);

    } else {
        json = cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
    }

    if (llm_bedrock_put(schema, "json", json) != LLM_OK) {
        cJSON_Delete(t);
        return NULL;
    }

    return t;
}


static int
llm_bedrock_history_tools(cJSON *tools, const cJSON *names)
{
    cJSON        *t;
    const cJSON  *name;

    cJSON_ArrayForEach(name, names) {
        t = llm_bedrock_tool_spec(name->valuestring, NULL, NULL);
        if (t == NULL) {
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(tools, t);
    }

    return LLM_OK;
}


static int
llm_bedrock_tool_choice(cJSON *tc, const cJSON *choice, llm_error_t *err)
{
    cJSON        *c, *o;
    const char   *s;
    const cJSON  *name;

    s = cJSON_IsString(choice) ? choice->valuestring : NULL;
    name = cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(choice, "function"), "name");

    c = cJSON_AddObjectToObject(tc, "toolChoice");
    if (c == NULL) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    if (s && strcmp(s, "auto") == 0) {
        o = cJSON_AddObjectToObject(c, "auto");

    } else if (s && strcmp(s, "required") == 0) {
        o = cJSON_AddObjectToObject(c, "any");

    } else if (s == NULL && cJSON_IsString(name) && name->valuestring[0]) {
        o = cJSON_AddObjectToObject(c, "tool");

        if (o && cJSON_AddStringToObject(o, "name", name->valuestring)
                 == NULL)
        {
            o = NULL;
        }

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "'tool_choice' must be \"auto\", \"required\", "
                      "\"none\" or {\"type\":\"function\",\"function\":"
                      "{\"name\":...}}");
        return LLM_ERROR;
    }

    if (o == NULL) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * response_format json_schema -> outputConfig.textFormat, whose schema
 * is the JSON schema as a string; json_object asks for any object.
 */
static int
llm_bedrock_output(cJSON *out, const cJSON *rf, llm_error_t *err)
{
    char         *schema;
    cJSON        *oc, *tf, *js;
    const char   *t;
    const cJSON  *type, *jsd, *s, *name, *desc;

    type = cJSON_GetObjectItemCaseSensitive(rf, "type");
    t = cJSON_IsString(type) ? type->valuestring : "";

    if (strcmp(t, "json_schema") != 0 && strcmp(t, "json_object") != 0) {
        return LLM_OK;
    }

    jsd = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    s = cJSON_GetObjectItemCaseSensitive(jsd, "schema");
    name = cJSON_GetObjectItemCaseSensitive(jsd, "name");
    desc = cJSON_GetObjectItemCaseSensitive(jsd, "description");

    schema = cJSON_IsObject(s) ? cJSON_PrintUnformatted(s)
                               : strdup("{\"type\":\"object\"}");

    oc = cJSON_CreateObject();
    tf = cJSON_AddObjectToObject(oc, "textFormat");
    js = cJSON_AddObjectToObject(cJSON_AddObjectToObject(tf, "structure"),
                                 "jsonSchema");

    if (schema == NULL || js == NULL
        || cJSON_AddStringToObject(tf, "type", "json_schema") == NULL
        || cJSON_AddStringToObject(js, "schema", schema) == NULL
        || cJSON_AddStringToObject(js, "name",
                                   cJSON_IsString(name) && name->valuestring[0]
                                   ? name->valuestring : "response") == NULL
        || (cJSON_IsString(desc)
            && cJSON_AddStringToObject(js, "description", desc->valuestring)
               == NULL)
        || llm_bedrock_put(out, "outputConfig", oc) != LLM_OK)
    {
        free(schema);
        cJSON_Delete(oc);
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    free(schema);

    return LLM_OK;
}


/*
 * requestMetadata: the client's own, plus "user" when it fits what the
 * API allows there (up to 256 of a limited set of characters), so that
 * an unusual user id never costs the call.
 */
static int
llm_bedrock_metadata(cJSON *out, cJSON *b)
{
    int          ok;
    cJSON       *md, *v;
    const char  *u;

    v = cJSON_GetObjectItemCaseSensitive(b, "user");
    u = cJSON_IsString(v) ? v->valuestring : "";
    ok = u[0] && strlen(u) <= 256
         && strspn(u, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789 :_@$#=/+,-.") == strlen(u);

    v = cJSON_GetObjectItemCaseSensitive(b, "requestMetadata");

    if (!ok && !cJSON_IsObject(v)) {
        return LLM_OK;
    }

    md = cJSON_IsObject(v) ? cJSON_Duplicate(v, 1) : cJSON_CreateObject();
    if (md == NULL) {
        return LLM_ERROR;
    }

    if (ok && cJSON_GetObjectItemCaseSensitive(md, "user") == NULL
        && cJSON_AddStringToObject(md, "user", u) == NULL)
    {
        cJSON_Delete(md);
        return LLM_ERROR;
    }

    return llm_bedrock_put(out, "requestMetadata", md);
}


/* Converse members a client (or the deployment) may give as they are */
static int
llm_bedrock_passthrough(cJSON *out, cJSON *b)
{
    cJSON              *v;
    const char *const  *n;
    static const char  *names[] = {
        "guardrailConfig", "performanceConfig", "promptVariables",
        "additionalModelResponseFieldPaths", NULL
    };

    for (n = names; *n; n++) {
        v = cJSON_GetObjectItemCaseSensitive(b, *n);

        if ((cJSON_IsObject(v) || cJSON_IsArray(v))
            && llm_bedrock_put(out, *n, cJSON_Duplicate(v, 1)) != LLM_OK)
        {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}
