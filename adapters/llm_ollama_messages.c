/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI's message list -> Ollama's /api/chat messages
 * (../shared/providers/ollama.md): developer turns become system ones,
 * content parts are joined into one string with images as bare base64
 * beside it, tool-call arguments become objects, and tool results are
 * named by function, which Ollama wants and OpenAI's tool_call_id
 * alone does not say.
 */


#include <stdio.h>
#include <string.h>

#include "llm_adapter.h"


/* also used by llm_ollama.c */
int llm_ollama_messages(const llm_call_t *call, const cJSON *msgs,
    cJSON *out, llm_error_t *err);


static int llm_ollama_message(const llm_call_t *call, const cJSON *msgs,
    const cJSON *m, int i, cJSON *om, llm_error_t *err);
static int llm_ollama_content(const llm_call_t *call, const cJSON *m, int i,
    cJSON *om, llm_error_t *err);
static int llm_ollama_image(const llm_call_t *call, const cJSON *part,
    int i, cJSON **images, llm_error_t *err);
static int llm_ollama_tool_calls(const cJSON *m, int i, cJSON *om,
    llm_error_t *err);
static cJSON *llm_ollama_tool_args(const cJSON *args);
static const char *llm_ollama_tool_name(const cJSON *msgs, int upto,
    const char *id);


static void
llm_ollama_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "ollama: out of memory building the request");
}


/* a 400 naming message i; fmt has one %d for it */
static int
llm_ollama_bad(llm_error_t *err, const char *fmt, int i)
{
    char  what[256];

    snprintf(what, sizeof(what), fmt, i);
    llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                  "ollama: %s", what);

    return LLM_ERROR;
}


int
llm_ollama_messages(const llm_call_t *call, const cJSON *msgs, cJSON *out,
    llm_error_t *err)
{
    int           i;
    cJSON        *om;
    const cJSON  *m;

    if (!cJSON_IsArray(msgs)) {
        return llm_ollama_bad(err, "'messages' must be an array", 0);
    }

    i = 0;

    cJSON_ArrayForEach(m, msgs) {
        om = cJSON_CreateObject();
        if (om == NULL) {
            llm_ollama_oom(err);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(out, om);

        if (llm_ollama_message(call, msgs, m, i, om, err) != LLM_OK) {
            return LLM_ERROR;
        }

        i++;
    }

    return LLM_OK;
}


static int
llm_ollama_message(const llm_call_t *call, const cJSON *msgs,
    const cJSON *m, int i, cJSON *om, llm_error_t *err)
{
    const char   *role, *name;
    const cJSON  *v, *id;

    v = cJSON_GetObjectItemCaseSensitive(m, "role");

    if (!cJSON_IsObject(m) || !cJSON_IsString(v)) {
        return llm_ollama_bad(err, "messages[%d] must be an "
                              "object with a string 'role'", i);
    }

    role = v->valuestring;

    /* OpenAI's legacy "function" role is a tool result named by "name" */
    if (strcmp(role, "developer") == 0) {
        role = "system";

    } else if (strcmp(role, "function") == 0) {
        role = "tool";
    }

    if (cJSON_AddStringToObject(om, "role", role) == NULL) {
        goto oom;
    }

    if (llm_ollama_content(call, m, i, om, err) != LLM_OK) {
        return LLM_ERROR;
    }

    if (strcmp(role, "assistant") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(m, "reasoning_content");

        if (cJSON_IsString(v) && v->valuestring[0]
            && cJSON_AddStringToObject(om, "thinking", v->valuestring) == NULL)
        {
            goto oom;
        }

        return llm_ollama_tool_calls(m, i, om, err);
    }

    if (strcmp(role, "tool") != 0) {
        return LLM_OK;
    }

    /* Ollama names tool results by function, OpenAI by call id */
    id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
    name = llm_ollama_tool_name(msgs, i, cJSON_GetStringValue(id));

    if (name == NULL) {
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
                                                                  "name"));
    }

    if ((name && cJSON_AddStringToObject(om, "tool_name", name) == NULL)
        || (cJSON_IsString(id)
            && cJSON_AddStringToObject(om, "tool_call_id", id->valuestring)
               == NULL))
    {
        goto oom;
    }

    return LLM_OK;

oom:

    llm_ollama_oom(err);

    return LLM_ERROR;
}


/*
 * content: a string, or parts whose text is joined (as LiteLLM does,
 * without a separator) and whose images go to "images" as base64
 */
static int
llm_ollama_content(const llm_call_t *call, const cJSON *m, int i,
    cJSON *om, llm_error_t *err)
{
    int           rc;
    cJSON        *images;
    llm_buf_t     text;
    const char   *type;
    const cJSON  *c, *part, *t;

    c = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (c == NULL || cJSON_IsNull(c)) {
        rc = cJSON_AddStringToObject(om, "content", "") ? LLM_OK : LLM_ERROR;
        goto done;
    }

    if (cJSON_IsString(c)) {
        rc = cJSON_AddStringToObject(om, "content", c->valuestring)
             ? LLM_OK : LLM_ERROR;
        goto done;
    }

    if (!cJSON_IsArray(c)) {
        return llm_ollama_bad(err, "messages[%d].content must "
                              "be a string or an array of parts", i);
    }

    memset(&text, 0, sizeof(llm_buf_t));
    images = NULL;
    rc = LLM_OK;

    cJSON_ArrayForEach(part, c) {
        type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(part,
                                                                  "type"));
        t = cJSON_GetObjectItemCaseSensitive(part, "text");

        /* an earlier assistant refusal is still what it said */
        if (type && strcmp(type, "refusal") == 0) {
            t = cJSON_GetObjectItemCaseSensitive(part, "refusal");
            type = "text";
        }

        if (type && strcmp(type, "text") == 0 && cJSON_IsString(t)) {
            if (llm_buf_appends(&text, t->valuestring) != 0) {
                rc = LLM_ERROR;
                break;
            }

            continue;
        }

        if (type && strcmp(type, "image_url") == 0) {
            if (llm_ollama_image(call, part, i, &images, err) != LLM_OK) {
                llm_buf_free(&text);
                cJSON_Delete(images);
                return LLM_ERROR;
            }

            continue;
        }

        /* audio, files, ...: nothing in /api/chat carries them */
        if (!call->drop_params) {
            llm_buf_free(&text);
            cJSON_Delete(images);
            return llm_ollama_bad(err, "messages[%d].content: "
                                  "only text and image_url parts are "
                                  "supported", i);
        }
    }

    if (rc == LLM_OK
        && cJSON_AddStringToObject(om, "content", text.len ? text.data : "")
           == NULL)
    {
        rc = LLM_ERROR;
    }

    llm_buf_free(&text);

    if (images) {
        cJSON_AddItemToObject(om, "images", images);
    }

done:

    if (rc != LLM_OK) {
        llm_ollama_oom(err);
    }

    return rc;
}


/* a data: URL becomes bare base64 in "images"; remote URLs cannot */
static int
llm_ollama_image(const llm_call_t *call, const cJSON *part, int i,
    cJSON **images, llm_error_t *err)
{
    cJSON        *s;
    const char   *url, *comma;
    const cJSON  *iu;

    iu = cJSON_GetObjectItemCaseSensitive(part, "image_url");

    url = cJSON_IsString(iu)
          ? iu->valuestring
          : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iu, "url"));

    if (url == NULL) {
        return llm_ollama_bad(err, "messages[%d]: image_url part "
                              "without a url", i);
    }

    if (strncmp(url, "data:", 5) != 0) {
        /* Ollama only takes image bytes; the gateway does not fetch URLs */
        if (call->drop_params) {
            return LLM_OK;
        }

        return llm_ollama_bad(err, "messages[%d]: image URLs are "
                              "not supported, send the image as a base64 "
                              "data: URL", i);
    }

    comma = strchr(url, ',');

    if (comma == NULL || comma - url < 12
        || strncmp(comma - 7, ";base64", 7) != 0)
    {
        return llm_ollama_bad(err, "messages[%d]: image data: "
                              "URLs must be base64-encoded", i);
    }

    if (*images == NULL) {
        *images = cJSON_CreateArray();
        if (*images == NULL) {
            llm_ollama_oom(err);
            return LLM_ERROR;
        }
    }

    s = cJSON_CreateString(comma + 1);
    if (s == NULL) {
        llm_ollama_oom(err);
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(*images, s);

    return LLM_OK;
}


/* OpenAI's tool_calls with string arguments -> Ollama's, with objects */
static int
llm_ollama_tool_calls(const cJSON *m, int i, cJSON *om, llm_error_t *err)
{
    cJSON        *calls, *tc, *fn, *args;
    const cJSON  *call, *f, *id, *name;

    calls = NULL;

    cJSON_ArrayForEach(call, cJSON_GetObjectItemCaseSensitive(m,
                                                              "tool_calls"))
    {
        f = cJSON_GetObjectItemCaseSensitive(call, "function");
        name = cJSON_GetObjectItemCaseSensitive(f, "name");

        if (!cJSON_IsString(name)) {
            return llm_ollama_bad(err, "messages[%d]: a tool call "
                                  "without a function name", i);
        }

        args = llm_ollama_tool_args(cJSON_GetObjectItemCaseSensitive(
                                        f, "arguments"));
        if (args == NULL) {
            return llm_ollama_bad(err, "messages[%d]: tool call "
                                  "arguments must be a JSON object", i);
        }

        if (calls == NULL) {
            calls = cJSON_AddArrayToObject(om, "tool_calls");
        }

        tc = cJSON_CreateObject();
        fn = cJSON_AddObjectToObject(tc, "function");

        if (calls == NULL || tc == NULL || fn == NULL
            || cJSON_AddStringToObject(fn, "name", name->valuestring) == NULL)
        {
            cJSON_Delete(tc);
            cJSON_Delete(args);
            llm_ollama_oom(err);
            return LLM_ERROR;
        }

        cJSON_AddItemToObject(fn, "arguments", args);
        cJSON_AddItemToArray(calls, tc);

        id = cJSON_GetObjectItemCaseSensitive(call, "id");

        if (cJSON_IsString(id)
            && cJSON_AddStringToObject(tc, "id", id->valuestring) == NULL)
        {
            llm_ollama_oom(err);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


/*
 * The arguments object for Ollama, or NULL when they are not one.
 * Missing or empty arguments are an empty object; a client that
 * already sends an object is taken at its word.
 */
static cJSON *
llm_ollama_tool_args(const cJSON *args)
{
    cJSON       *o;
    const char  *p;

    if (args == NULL || cJSON_IsNull(args)) {
        return cJSON_CreateObject();
    }

    if (cJSON_IsObject(args)) {
        return cJSON_Duplicate(args, 1);
    }

    if (!cJSON_IsString(args)) {
        return NULL;
    }

    for (p = args->valuestring; *p == ' ' || *p == '\t' || *p == '\n'
                                || *p == '\r'; p++)
    {
        /* void */
    }

    if (*p == '\0') {
        return cJSON_CreateObject();
    }

    o = cJSON_Parse(p);

    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return NULL;
    }

    return o;
}


/* the function name of call "id" among the assistant turns before upto */
static const char *
llm_ollama_tool_name(const cJSON *msgs, int upto, const char *id)
{
    int           i;
    const char   *name, *cid;
    const cJSON  *m, *tc;

    if (id == NULL) {
        return NULL;
    }

    name = NULL;
    i = 0;

    /* the latest match wins should a client reuse an id */
    cJSON_ArrayForEach(m, msgs) {
        if (i++ >= upto) {
            break;
        }

        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(m,
                                                                "tool_calls"))
        {
            cid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc,
                                                                      "id"));

            if (cid && strcmp(cid, id) == 0) {
                name = cJSON_GetStringValue(
                           cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(tc,
                                                                "function"),
                               "name"));
            }
        }
    }

    return name;
}
