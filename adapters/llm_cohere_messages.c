/*
 * Copyright (C) ngx_llm authors
 *
 * Cohere v2 (../shared/providers/cohere.md): the conversation and the
 * tool definitions.  Cohere's message list is OpenAI's with a few
 * differences: "developer" is "system", only user turns take images,
 * an assistant turn that calls tools carries no empty text, and
 * Cohere cannot be forced to call one named tool.
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_adapter.h"


/* the entry points, called from llm_cohere.c */
cJSON *llm_cohere_messages(const cJSON *msgs, llm_error_t *err);
int llm_cohere_tools(cJSON *b, llm_error_t *err);

/* llm_cohere.c */
void llm_cohere_oom(llm_error_t *err);


static void llm_cohere_bad(llm_error_t *err, const char *param, int i,
    const char *what);
static cJSON *llm_cohere_message(const cJSON *m, int i, llm_error_t *err);
static cJSON *llm_cohere_content(const cJSON *c, int i, int images,
    llm_error_t *err);
static cJSON *llm_cohere_part(const cJSON *p, const cJSON *type, int i,
    int images, llm_error_t *err);
static cJSON *llm_cohere_image(const cJSON *p, int i, llm_error_t *err);
static cJSON *llm_cohere_new_string(const char *s, llm_error_t *err);
static cJSON *llm_cohere_assistant(const cJSON *m, int i, llm_error_t *err);
static cJSON *llm_cohere_tool_calls(const cJSON *tc, int i,
    llm_error_t *err);
static cJSON *llm_cohere_tool_call(const cJSON *t, int i, llm_error_t *err);
static cJSON *llm_cohere_tool_result(const cJSON *m, int i,
    llm_error_t *err);
static cJSON *llm_cohere_tool(const cJSON *t, llm_error_t *err);
static int llm_cohere_tool_choice(cJSON *b, cJSON *tools, llm_error_t *err);
static int llm_cohere_tool_named(cJSON *b, cJSON *tools, const cJSON *name,
    llm_error_t *err);


static void
llm_cohere_bad(llm_error_t *err, const char *param, int i, const char *what)
{
    llm_error_set(err, 400, "invalid_request_error", NULL, param,
                  "cohere: messages[%d]: %s", i, what);
}


cJSON *
llm_cohere_messages(const cJSON *msgs, llm_error_t *err)
{
    int           i;
    cJSON        *out, *cm;
    const cJSON  *m;

    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                      "'messages' must be a non-empty array");
        return NULL;
    }

    out = cJSON_CreateArray();
    if (out == NULL) {
        llm_cohere_oom(err);
        return NULL;
    }

    i = 0;

    cJSON_ArrayForEach(m, msgs) {
        cm = llm_cohere_message(m, i++, err);
        if (cm == NULL) {
            cJSON_Delete(out);
            return NULL;
        }

        cJSON_AddItemToArray(out, cm);
    }

    return out;
}


static cJSON *
llm_cohere_message(const cJSON *m, int i, llm_error_t *err)
{
    cJSON        *cm, *content;
    const char   *r;
    const cJSON  *role, *c;

    role = cJSON_GetObjectItemCaseSensitive(m, "role");

    if (!cJSON_IsObject(m) || !cJSON_IsString(role)) {
        llm_cohere_bad(err, "messages", i,
                       "must be an object with a string 'role'");
        return NULL;
    }

    r = role->valuestring;
    c = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (strcmp(r, "assistant") == 0) {
        return llm_cohere_assistant(m, i, err);
    }

    if (strcmp(r, "tool") == 0) {
        return llm_cohere_tool_result(m, i, err);
    }

    if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0) {
        r = "system";
        content = llm_cohere_content(c, i, 0, err);

    } else if (strcmp(r, "user") == 0) {
        content = llm_cohere_content(c, i, 1, err);

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                      "cohere: messages[%d]: role \"%.32s\" is not "
                      "supported", i, r);
        return NULL;
    }

    if (content == NULL) {
        return NULL;
    }

    cm = cJSON_CreateObject();

    if (cm == NULL || cJSON_AddStringToObject(cm, "role", r) == NULL) {
        cJSON_Delete(cm);
        cJSON_Delete(content);
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_AddItemToObject(cm, "content", content);

    return cm;
}


/*
 * A message's content: a string stays a string, an array of parts
 * becomes Cohere's parts.  Only user turns may carry images; refusal
 * parts of an earlier assistant turn carry nothing to send back.
 */
static cJSON *
llm_cohere_content(const cJSON *c, int i, int images, llm_error_t *err)
{
    cJSON        *out, *part;
    const cJSON  *p, *type;

    if (c == NULL || cJSON_IsNull(c)) {
        return llm_cohere_new_string("", err);
    }

    if (cJSON_IsString(c)) {
        return llm_cohere_new_string(c->valuestring, err);
    }

    if (!cJSON_IsArray(c)) {
        llm_cohere_bad(err, "messages", i,
                       "'content' must be a string or an array of parts");
        return NULL;
    }

    out = cJSON_CreateArray();
    if (out == NULL) {
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_ArrayForEach(p, c) {
        type = cJSON_GetObjectItemCaseSensitive(p, "type");

        if (cJSON_IsString(type) && strcmp(type->valuestring, "refusal") == 0)
        {
            continue;
        }

        part = llm_cohere_part(p, type, i, images, err);
        if (part == NULL) {
            cJSON_Delete(out);
            return NULL;
        }

        cJSON_AddItemToArray(out, part);
    }

    return out;
}


static cJSON *
llm_cohere_part(const cJSON *p, const cJSON *type, int i, int images,
    llm_error_t *err)
{
    cJSON        *part;
    const cJSON  *text;

    if (!cJSON_IsString(type)) {
        llm_cohere_bad(err, "messages", i,
                       "every content part needs a string 'type'");
        return NULL;
    }

    if (strcmp(type->valuestring, "text") == 0) {
        text = cJSON_GetObjectItemCaseSensitive(p, "text");

        if (!cJSON_IsString(text)) {
            llm_cohere_bad(err, "messages", i,
                           "a text part needs a string 'text'");
            return NULL;
        }

        part = cJSON_CreateObject();

        if (part == NULL
            || cJSON_AddStringToObject(part, "type", "text") == NULL
            || cJSON_AddStringToObject(part, "text", text->valuestring)
               == NULL)
        {
            cJSON_Delete(part);
            llm_cohere_oom(err);
            return NULL;
        }

        return part;
    }

    if (images && strcmp(type->valuestring, "image_url") == 0) {
        return llm_cohere_image(p, i, err);
    }

    llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                  "cohere: messages[%d]: content part type \"%.32s\" is not "
                  "supported", i, type->valuestring);
    return NULL;
}


/* Cohere v2 takes OpenAI's image part as it is: {url, detail} */
static cJSON *
llm_cohere_image(const cJSON *p, int i, llm_error_t *err)
{
    cJSON        *part, *img;
    const cJSON  *iu, *url, *detail;

    iu = cJSON_GetObjectItemCaseSensitive(p, "image_url");

    /* some clients send the URL as a bare string */
    url = cJSON_IsString(iu) ? iu
                             : cJSON_GetObjectItemCaseSensitive(iu, "url");
    detail = cJSON_GetObjectItemCaseSensitive(iu, "detail");

    if (!cJSON_IsString(url)) {
        llm_cohere_bad(err, "messages", i,
                       "an image_url part needs 'image_url.url'");
        return NULL;
    }

    part = cJSON_CreateObject();
    img = cJSON_CreateObject();

    if (part == NULL || img == NULL
        || cJSON_AddStringToObject(part, "type", "image_url") == NULL
        || cJSON_AddStringToObject(img, "url", url->valuestring) == NULL
        || (cJSON_IsString(detail)
            && cJSON_AddStringToObject(img, "detail", detail->valuestring)
               == NULL))
    {
        cJSON_Delete(part);
        cJSON_Delete(img);
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_AddItemToObject(part, "image_url", img);

    return part;
}


static cJSON *
llm_cohere_new_string(const char *s, llm_error_t *err)
{
    cJSON  *v;

    v = cJSON_CreateString(s);
    if (v == NULL) {
        llm_cohere_oom(err);
    }

    return v;
}


static cJSON *
llm_cohere_assistant(const cJSON *m, int i, llm_error_t *err)
{
    cJSON        *cm, *content, *calls;
    const cJSON  *c, *tc;

    c = cJSON_GetObjectItemCaseSensitive(m, "content");
    tc = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");

    calls = NULL;
    content = NULL;

    if (cJSON_IsArray(tc) && cJSON_GetArraySize(tc) > 0) {
        calls = llm_cohere_tool_calls(tc, i, err);
        if (calls == NULL) {
            return NULL;
        }
    }

    /* a tool-calling turn usually has no text; Cohere wants none then */
    if (calls == NULL
        || !(c == NULL || cJSON_IsNull(c)
             || (cJSON_IsString(c) && c->valuestring[0] == '\0')))
    {
        content = llm_cohere_content(c, i, 0, err);
        if (content == NULL) {
            cJSON_Delete(calls);
            return NULL;
        }
    }

    cm = cJSON_CreateObject();

    if (cm == NULL
        || cJSON_AddStringToObject(cm, "role", "assistant") == NULL)
    {
        cJSON_Delete(cm);
        cJSON_Delete(content);
        cJSON_Delete(calls);
        llm_cohere_oom(err);
        return NULL;
    }

    if (content) {
        cJSON_AddItemToObject(cm, "content", content);
    }

    if (calls) {
        cJSON_AddItemToObject(cm, "tool_calls", calls);
    }

    return cm;
}


static cJSON *
llm_cohere_tool_calls(const cJSON *tc, int i, llm_error_t *err)
{
    cJSON        *out, *call;
    const cJSON  *t;

    out = cJSON_CreateArray();
    if (out == NULL) {
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_ArrayForEach(t, tc) {
        call = llm_cohere_tool_call(t, i, err);
        if (call == NULL) {
            cJSON_Delete(out);
            return NULL;
        }

        cJSON_AddItemToArray(out, call);
    }

    return out;
}


static cJSON *
llm_cohere_tool_call(const cJSON *t, int i, llm_error_t *err)
{
    char         idbuf[64], *args;
    cJSON        *call, *fn;
    const char   *id;
    const cJSON  *f, *name, *a, *idv;

    f = cJSON_GetObjectItemCaseSensitive(t, "function");
    name = cJSON_GetObjectItemCaseSensitive(f, "name");

    if (!cJSON_IsString(name)) {
        llm_cohere_bad(err, "messages", i,
                       "every tool call needs 'function.name'");
        return NULL;
    }

    idv = cJSON_GetObjectItemCaseSensitive(t, "id");

    if (cJSON_IsString(idv) && idv->valuestring[0]) {
        id = idv->valuestring;

    } else {
        llm_mint_id(idbuf, sizeof(idbuf), "call_");
        id = idbuf;
    }

    /* OpenAI sends arguments as a JSON string; tolerate an object */
    a = cJSON_GetObjectItemCaseSensitive(f, "arguments");
    args = NULL;

    if (a && !cJSON_IsString(a) && !cJSON_IsNull(a)) {
        args = cJSON_PrintUnformatted(a);
    }

    call = cJSON_CreateObject();
    fn = cJSON_CreateObject();

    if (call == NULL || fn == NULL
        || cJSON_AddStringToObject(call, "id", id) == NULL
        || cJSON_AddStringToObject(call, "type", "function") == NULL
        || cJSON_AddStringToObject(fn, "name", name->valuestring) == NULL
        || cJSON_AddStringToObject(fn, "arguments",
                                   args ? args
                                   : cJSON_IsString(a) ? a->valuestring
                                   : "{}") == NULL)
    {
        free(args);
        cJSON_Delete(call);
        cJSON_Delete(fn);
        llm_cohere_oom(err);
        return NULL;
    }

    free(args);
    cJSON_AddItemToObject(call, "function", fn);

    return call;
}


static cJSON *
llm_cohere_tool_result(const cJSON *m, int i, llm_error_t *err)
{
    cJSON        *cm, *content;
    const cJSON  *id;

    id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");

    if (!cJSON_IsString(id)) {
        llm_cohere_bad(err, "messages", i,
                       "a tool message needs a string 'tool_call_id'");
        return NULL;
    }

    content = llm_cohere_content(cJSON_GetObjectItemCaseSensitive(m,
                                                                  "content"),
                                 i, 0, err);
    if (content == NULL) {
        return NULL;
    }

    cm = cJSON_CreateObject();

    if (cm == NULL
        || cJSON_AddStringToObject(cm, "role", "tool") == NULL
        || cJSON_AddStringToObject(cm, "tool_call_id", id->valuestring)
           == NULL)
    {
        cJSON_Delete(cm);
        cJSON_Delete(content);
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_AddItemToObject(cm, "content", content);

    return cm;
}




int
llm_cohere_tools(cJSON *b, llm_error_t *err)
{
    cJSON        *tools, *nt, *t;
    const cJSON  *ot;

    tools = cJSON_GetObjectItemCaseSensitive(b, "tools");

    if (tools == NULL || cJSON_IsNull(tools)
        || (cJSON_IsArray(tools) && cJSON_GetArraySize(tools) == 0))
    {
        /* a tool_choice without tools means nothing to Cohere */
        cJSON_DeleteItemFromObjectCaseSensitive(b, "tools");
        cJSON_DeleteItemFromObjectCaseSensitive(b, "tool_choice");
        return LLM_OK;
    }

    if (!cJSON_IsArray(tools)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tools",
                      "cohere: 'tools' must be an array");
        return LLM_ERROR;
    }

    nt = cJSON_CreateArray();
    if (nt == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    cJSON_ArrayForEach(ot, tools) {
        t = llm_cohere_tool(ot, err);
        if (t == NULL) {
            cJSON_Delete(nt);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(nt, t);
    }

    cJSON_ReplaceItemInObjectCaseSensitive(b, "tools", nt);

    return llm_cohere_tool_choice(b, nt, err);
}


/* {type, function:{name, description, parameters}}; parameters required */
static cJSON *
llm_cohere_tool(const cJSON *t, llm_error_t *err)
{
    cJSON        *nt, *fn, *params;
    const cJSON  *type, *f, *name, *desc, *p;

    type = cJSON_GetObjectItemCaseSensitive(t, "type");
    f = cJSON_GetObjectItemCaseSensitive(t, "function");
    name = cJSON_GetObjectItemCaseSensitive(f, "name");

    if (cJSON_IsString(type) && strcmp(type->valuestring, "function") != 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tools",
                      "cohere: tool type \"%.32s\" is not supported",
                      type->valuestring);
        return NULL;
    }

    if (!cJSON_IsString(name)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tools",
                      "cohere: every tool needs 'function.name'");
        return NULL;
    }

    desc = cJSON_GetObjectItemCaseSensitive(f, "description");
    p = cJSON_GetObjectItemCaseSensitive(f, "parameters");

    params = cJSON_IsObject(p)
             ? cJSON_Duplicate(p, 1)
             : cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");

    nt = cJSON_CreateObject();
    fn = cJSON_CreateObject();

    if (nt == NULL || fn == NULL || params == NULL
        || cJSON_AddStringToObject(nt, "type", "function") == NULL
        || cJSON_AddStringToObject(fn, "name", name->valuestring) == NULL
        || (cJSON_IsString(desc)
            && cJSON_AddStringToObject(fn, "description", desc->valuestring)
               == NULL))
    {
        cJSON_Delete(nt);
        cJSON_Delete(fn);
        cJSON_Delete(params);
        llm_cohere_oom(err);
        return NULL;
    }

    cJSON_AddItemToObject(fn, "parameters", params);
    cJSON_AddItemToObject(nt, "function", fn);

    return nt;
}


static int
llm_cohere_tool_choice(cJSON *b, cJSON *tools, llm_error_t *err)
{
    cJSON        *tc, *v;
    const char   *s;
    const cJSON  *name;

    tc = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");

    if (tc == NULL) {
        return LLM_OK;
    }

    if (cJSON_IsObject(tc)) {
        name = cJSON_GetObjectItemCaseSensitive(
                   cJSON_GetObjectItemCaseSensitive(tc, "function"), "name");

        return llm_cohere_tool_named(b, tools, name, err);
    }

    s = cJSON_IsString(tc) ? tc->valuestring : NULL;

    if (cJSON_IsNull(tc) || (s && strcmp(s, "auto") == 0)) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "tool_choice");
        return LLM_OK;
    }

    if (s && strcasecmp(s, "required") == 0) {
        s = "REQUIRED";

    } else if (s && strcasecmp(s, "none") == 0) {
        s = "NONE";

    } else {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "cohere: tool_choice must be auto, required, none or "
                      "a function");
        return LLM_ERROR;
    }

    v = cJSON_CreateString(s);
    if (v == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    cJSON_ReplaceItemInObjectCaseSensitive(b, "tool_choice", v);

    return LLM_OK;
}


/*
 * Cohere cannot force one named tool; sending only that tool with
 * REQUIRED has the same effect (cohere.md, gateway choice).
 */
static int
llm_cohere_tool_named(cJSON *b, cJSON *tools, const cJSON *name,
    llm_error_t *err)
{
    cJSON        *t, *v;
    const cJSON  *n;

    if (!cJSON_IsString(name)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "cohere: tool_choice needs 'function.name'");
        return LLM_ERROR;
    }

    for (t = tools->child; t; t = t->next) {
        n = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(t, "function"), "name");

        if (cJSON_IsString(n) && strcmp(n->valuestring, name->valuestring)
                                 == 0)
        {
            break;
        }
    }

    if (t == NULL) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "tool_choice",
                      "cohere: tool_choice names \"%.64s\", which is not in "
                      "tools", name->valuestring);
        return LLM_ERROR;
    }

    /* keep the one tool: detach the others */
    while (tools->child != t) {
        cJSON_Delete(cJSON_DetachItemViaPointer(tools, tools->child));
    }

    while (t->next) {
        cJSON_Delete(cJSON_DetachItemViaPointer(tools, t->next));
    }

    v = cJSON_CreateString("REQUIRED");
    if (v == NULL) {
        llm_cohere_oom(err);
        return LLM_ERROR;
    }

    cJSON_ReplaceItemInObjectCaseSensitive(b, "tool_choice", v);

    return LLM_OK;
}


