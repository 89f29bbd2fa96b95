/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI messages -> Gemini "contents" and "systemInstruction"
 * (../shared/providers/vertex.md, "Gemini request mapping").
 *
 * System and developer messages go to systemInstruction, one part
 * each.  Assistant turns become role "model" with text and functionCall
 * parts; tool results become functionResponse parts in a user turn,
 * named by the function of the tool call they answer (OpenAI only
 * carries tool_call_id).  Consecutive turns of one role are merged:
 * several tool results in a row become one turn with several parts.
 * Empty messages are skipped: Gemini refuses empty parts.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_vertex.h"


typedef struct {
    cJSON              *contents;
    cJSON              *system;         /* systemInstruction.parts */
    const cJSON        *messages;
    int                 i;              /* the message being mapped */
    llm_error_t        *err;
} llm_vertex_msgs_t;


static int llm_vertex_message(llm_vertex_msgs_t *ctx, const cJSON *m);
static int llm_vertex_system(llm_vertex_msgs_t *ctx, const cJSON *content);
static int llm_vertex_user_parts(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *content);
static int llm_vertex_part(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *p);
static int llm_vertex_media(llm_vertex_msgs_t *ctx, cJSON *parts,
    const char *url, const char *mime);
static int llm_vertex_audio(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *p);
static int llm_vertex_file(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *p);
static const char *llm_vertex_guess_mime(const char *url);
static int llm_vertex_assistant(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *m);
static int llm_vertex_call(llm_vertex_msgs_t *ctx, cJSON *parts,
    const char *id, const char *name, const cJSON *arguments);
static int llm_vertex_tool_result(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *m);
static cJSON *llm_vertex_result_object(const cJSON *content);
static const char *llm_vertex_call_name(const cJSON *messages, int upto,
    const char *id);
static int llm_vertex_text(cJSON *parts, const char *text);
static int llm_vertex_append(llm_vertex_msgs_t *ctx, const char *role,
    cJSON *parts);
static int llm_vertex_bad(llm_vertex_msgs_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));


int
llm_vertex_contents(cJSON *out, const cJSON *messages, llm_error_t *err)
{
    cJSON              *si;
    const cJSON        *m;
    llm_vertex_msgs_t   ctx;

    memset(&ctx, 0, sizeof(llm_vertex_msgs_t));
    ctx.messages = messages;
    ctx.err = err;
    ctx.contents = cJSON_CreateArray();
    ctx.system = cJSON_CreateArray();

    if (ctx.contents == NULL || ctx.system == NULL) {
        goto oom;
    }

    cJSON_ArrayForEach(m, messages) {
        if (llm_vertex_message(&ctx, m) != LLM_OK) {
            cJSON_Delete(ctx.contents);
            cJSON_Delete(ctx.system);
            return LLM_ERROR;
        }

        ctx.i++;
    }

    if (ctx.system->child) {
        si = cJSON_CreateObject();

        if (llm_vertex_put(out, "systemInstruction", si) != LLM_OK) {
            goto oom;
        }

        cJSON_AddItemToObject(si, "parts", ctx.system);
        ctx.system = NULL;
    }

    cJSON_Delete(ctx.system);
    ctx.system = NULL;

    /* a request of system messages only: Gemini needs one user turn */
    if (ctx.contents->child == NULL) {
        cJSON_Delete(ctx.contents);
        llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                      LLM_VERTEX_NAME ": 'messages' must contain at least "
                      "one non-empty user or assistant message");
        return LLM_ERROR;
    }

    if (llm_vertex_put(out, "contents", ctx.contents) != LLM_OK) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;

oom:

    cJSON_Delete(ctx.contents);
    cJSON_Delete(ctx.system);
    llm_vertex_oom(err);

    return LLM_ERROR;
}


static int
llm_vertex_message(llm_vertex_msgs_t *ctx, const cJSON *m)
{
    int           rc;
    cJSON        *parts;
    const char   *role, *gr;
    const cJSON  *content;

    role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
    content = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (role == NULL) {
        return llm_vertex_bad(ctx, "messages[%d] has no 'role'", ctx->i);
    }

    if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
        return llm_vertex_system(ctx, content);
    }

    parts = cJSON_CreateArray();
    if (parts == NULL) {
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    if (strcmp(role, "user") == 0) {
        gr = "user";
        rc = llm_vertex_user_parts(ctx, parts, content);

    } else if (strcmp(role, "assistant") == 0) {
        gr = "model";
        rc = llm_vertex_assistant(ctx, parts, m);

    } else if (strcmp(role, "tool") == 0 || strcmp(role, "function") == 0) {
        gr = "user";
        rc = llm_vertex_tool_result(ctx, parts, m);

    } else {
        cJSON_Delete(parts);
        return llm_vertex_bad(ctx, "messages[%d]: role \"%.32s\" is not "
                              "supported", ctx->i, role);
    }

    if (rc != LLM_OK) {
        cJSON_Delete(parts);
        return LLM_ERROR;
    }

    return llm_vertex_append(ctx, gr, parts);
}


/* one part per text; system images have nowhere to go */
static int
llm_vertex_system(llm_vertex_msgs_t *ctx, const cJSON *content)
{
    const cJSON  *p, *t;

    if (cJSON_IsString(content)) {
        return llm_vertex_text(ctx->system, content->valuestring) == 0
               ? LLM_OK : (llm_vertex_oom(ctx->err), LLM_ERROR);
    }

    cJSON_ArrayForEach(p, content) {
        t = cJSON_GetObjectItemCaseSensitive(p, "text");

        if (cJSON_IsString(t) && llm_vertex_text(ctx->system, t->valuestring)
                                 != 0)
        {
            llm_vertex_oom(ctx->err);
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_vertex_user_parts(llm_vertex_msgs_t *ctx, cJSON *parts,
    const cJSON *content)
{
    const cJSON  *p;

    if (content == NULL || cJSON_IsNull(content)) {
        return LLM_OK;
    }

    if (cJSON_IsString(content)) {
        return llm_vertex_text(parts, content->valuestring) == 0
               ? LLM_OK : (llm_vertex_oom(ctx->err), LLM_ERROR);
    }

    if (!cJSON_IsArray(content)) {
        return llm_vertex_bad(ctx, "messages[%d].content must be a string "
                              "or an array of parts", ctx->i);
    }

    cJSON_ArrayForEach(p, content) {
        if (llm_vertex_part(ctx, parts, p) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_vertex_part(llm_vertex_msgs_t *ctx, cJSON *parts, const cJSON *p)
{
    const char   *type, *url, *mime;
    const cJSON  *v, *iu;

    type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "type"));

    if (type == NULL || strcmp(type, "text") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(p, "text");

        if (!cJSON_IsString(v)) {
            return llm_vertex_bad(ctx, "messages[%d]: a text part needs a "
                                  "string 'text'", ctx->i);
        }

        return llm_vertex_text(parts, v->valuestring) == 0
               ? LLM_OK : (llm_vertex_oom(ctx->err), LLM_ERROR);
    }

    if (strcmp(type, "image_url") == 0) {
        iu = cJSON_GetObjectItemCaseSensitive(p, "image_url");
        url = cJSON_IsString(iu)
              ? iu->valuestring
              : cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iu,
                                                                   "url"));

        /* LiteLLM's "format" names the MIME type of a remote file */
        mime = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iu,
                                                                "format"));

        if (url == NULL) {
            return llm_vertex_bad(ctx, "messages[%d]: an image_url part "
                                  "needs a 'url'", ctx->i);
        }

        return llm_vertex_media(ctx, parts, url, mime);
    }

    if (strcmp(type, "input_audio") == 0) {
        return llm_vertex_audio(ctx, parts, p);
    }

    if (strcmp(type, "file") == 0) {
        return llm_vertex_file(ctx, parts, p);
    }

    return llm_vertex_bad(ctx, "messages[%d]: content part type \"%.32s\" "
                          "is not supported", ctx->i, type);
}


/*
 * A data: URL -> inlineData; gs:// and http(s) URLs -> fileData, which
 * Vertex fetches itself.  Vertex needs the MIME type of a file.
 */
static int
llm_vertex_media(llm_vertex_msgs_t *ctx, cJSON *parts, const char *url,
    const char *mime)
{
    char         type[128];
    cJSON        *part, *d;
    const char   *comma, *semi;
    size_t        n;

    part = cJSON_CreateObject();

    if (part == NULL || !cJSON_AddItemToArray(parts, part)) {
        cJSON_Delete(part);
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    if (strncmp(url, "data:", 5) == 0) {
        comma = strchr(url, ',');
        semi = comma ? memchr(url, ';', comma - url) : NULL;

        if (comma == NULL || semi == NULL
            || strncmp(semi, ";base64,", 8) != 0)
        {
            return llm_vertex_bad(ctx, "messages[%d]: data URLs must be "
                                  "base64-encoded", ctx->i);
        }

        n = (size_t) (semi - url - 5);

        if (n == 0 || n >= sizeof(type)) {
            return llm_vertex_bad(ctx, "messages[%d]: a data URL needs a "
                                  "MIME type", ctx->i);
        }

        memcpy(type, url + 5, n);
        type[n] = '\0';

        d = cJSON_AddObjectToObject(part, "inlineData");

        if (d == NULL
            || cJSON_AddStringToObject(d, "mimeType", type) == NULL
            || cJSON_AddStringToObject(d, "data", comma + 1) == NULL)
        {
            llm_vertex_oom(ctx->err);
            return LLM_ERROR;
        }

        return LLM_OK;
    }

    d = cJSON_AddObjectToObject(part, "fileData");

    if (d == NULL
        || cJSON_AddStringToObject(d, "mimeType",
                                   mime ? mime : llm_vertex_guess_mime(url))
           == NULL
        || cJSON_AddStringToObject(d, "fileUri", url) == NULL)
    {
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* {"input_audio":{"data":"<base64>","format":"wav"}} */
static int
llm_vertex_audio(llm_vertex_msgs_t *ctx, cJSON *parts, const cJSON *p)
{
    int           rc;
    const char   *data, *fmt;
    llm_buf_t     url;
    const cJSON  *a;

    a = cJSON_GetObjectItemCaseSensitive(p, "input_audio");
    data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "data"));
    fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "format"));

    if (data == NULL) {
        return llm_vertex_bad(ctx, "messages[%d]: an input_audio part needs "
                              "'data'", ctx->i);
    }

    if (fmt == NULL || strlen(fmt) > 32 || strchr(fmt, ';')) {
        fmt = "wav";
    }

    memset(&url, 0, sizeof(llm_buf_t));

    if (llm_buf_printf(&url, "data:audio/%s;base64,%s",
                       strcmp(fmt, "mp3") == 0 ? "mpeg" : fmt, data) != 0)
    {
        llm_buf_free(&url);
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    rc = llm_vertex_media(ctx, parts, url.data, NULL);
    llm_buf_free(&url);

    return rc;
}


/* {"file":{"file_data":"data:...","file_id":"gs://...","format":...}} */
static int
llm_vertex_file(llm_vertex_msgs_t *ctx, cJSON *parts, const cJSON *p)
{
    const char   *data, *id, *fmt;
    const cJSON  *f;

    f = cJSON_GetObjectItemCaseSensitive(p, "file");
    data = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f,
                                                                "file_data"));
    id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "file_id"));
    fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "format"));

    if (data) {
        return llm_vertex_media(ctx, parts, data, fmt);
    }

    if (id) {
        return llm_vertex_media(ctx, parts, id, fmt);
    }

    return llm_vertex_bad(ctx, "messages[%d]: a file part needs 'file_data' "
                          "or 'file_id'", ctx->i);
}


static const char *
llm_vertex_guess_mime(const char *url)
{
    static const char *const  map[][2] = {
        { ".png", "image/png" }, { ".jpg", "image/jpeg" },
        { ".jpeg", "image/jpeg" }, { ".gif", "image/gif" },
        { ".webp", "image/webp" }, { ".heic", "image/heic" },
        { ".heif", "image/heif" }, { ".pdf", "application/pdf" },
        { ".txt", "text/plain" }, { ".mp3", "audio/mpeg" },
        { ".wav", "audio/wav" }, { ".flac", "audio/flac" },
        { ".mp4", "video/mp4" }, { ".mov", "video/quicktime" },
        { ".webm", "video/webm" }, { NULL, NULL }
    };

    int          i;
    size_t       n, e;
    const char  *end;

    /* the extension of the path, before any query */
    end = url + strcspn(url, "?#");
    n = (size_t) (end - url);

    for (i = 0; map[i][0]; i++) {
        e = strlen(map[i][0]);

        if (n >= e && strncasecmp(end - e, map[i][0], e) == 0) {
            return map[i][1];
        }
    }

    return "image/jpeg";
}


static int
llm_vertex_assistant(llm_vertex_msgs_t *ctx, cJSON *parts, const cJSON *m)
{
    const char   *id, *name;
    const cJSON  *content, *tc, *fn, *p, *t;

    content = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (cJSON_IsString(content)) {
        if (llm_vertex_text(parts, content->valuestring) != 0) {
            llm_vertex_oom(ctx->err);
            return LLM_ERROR;
        }

    } else {
        cJSON_ArrayForEach(p, content) {
            t = cJSON_GetObjectItemCaseSensitive(p, "text");

            if (cJSON_IsString(t) && llm_vertex_text(parts, t->valuestring)
                                     != 0)
            {
                llm_vertex_oom(ctx->err);
                return LLM_ERROR;
            }
        }
    }

    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(m, "tool_calls")) {
        fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
        id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc, "id"));
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn,
                                                                    "name"));

        if (name == NULL || name[0] == '\0') {
            return llm_vertex_bad(ctx, "messages[%d]: a tool call needs a "
                                  "function name", ctx->i);
        }

        if (llm_vertex_call(ctx, parts, id, name,
                            cJSON_GetObjectItemCaseSensitive(fn, "arguments"))
            != LLM_OK)
        {
            return LLM_ERROR;
        }
    }

    /* the legacy single function_call */
    fn = cJSON_GetObjectItemCaseSensitive(m, "function_call");
    name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fn, "name"));

    if (name && name[0]) {
        return llm_vertex_call(ctx, parts, NULL, name,
                               cJSON_GetObjectItemCaseSensitive(fn,
                                                             "arguments"));
    }

    return LLM_OK;
}


/*
 * {functionCall:{name, args}} with the arguments parsed (OpenAI sends a
 * JSON string); the thoughtSignature carried in the id goes back.
 */
static int
llm_vertex_call(llm_vertex_msgs_t *ctx, cJSON *parts, const char *id,
    const char *name, const cJSON *arguments)
{
    cJSON       *part, *fc, *args;
    const char  *sig;

    if (cJSON_IsString(arguments)) {
        args = arguments->valuestring[0]
               ? cJSON_Parse(arguments->valuestring)
               : cJSON_CreateObject();

        if (!cJSON_IsObject(args)) {
            cJSON_Delete(args);
            return llm_vertex_bad(ctx, "messages[%d]: the arguments of tool "
                                  "call \"%.64s\" are not a JSON object",
                                  ctx->i, name);
        }

    } else if (cJSON_IsObject(arguments)) {
        args = cJSON_Duplicate(arguments, 1);

    } else {
        args = cJSON_CreateObject();
    }

    part = cJSON_CreateObject();
    fc = part ? cJSON_AddObjectToObject(part, "functionCall") : NULL;

    if (fc == NULL || !cJSON_AddItemToArray(parts, part)) {
        cJSON_Delete(part);
        cJSON_Delete(args);
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    sig = id ? strstr(id, LLM_VERTEX_THOUGHT_SEP) : NULL;

    if (cJSON_AddStringToObject(fc, "name", name) == NULL
        || llm_vertex_put(fc, "args", args) != LLM_OK
        || (sig && sig[sizeof(LLM_VERTEX_THOUGHT_SEP) - 1]
            && cJSON_AddStringToObject(part, "thoughtSignature",
                                       sig + sizeof(LLM_VERTEX_THOUGHT_SEP)
                                       - 1) == NULL))
    {
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* {functionResponse:{name, response:{...}}} */
static int
llm_vertex_tool_result(llm_vertex_msgs_t *ctx, cJSON *parts, const cJSON *m)
{
    cJSON        *part, *fr, *resp;
    const char   *id, *name;

    id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
                                                              "tool_call_id"));
    name = id ? llm_vertex_call_name(ctx->messages, ctx->i, id) : NULL;

    if (name == NULL) {
        name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m,
                                                                    "name"));
    }

    if (name == NULL || name[0] == '\0') {
        return llm_vertex_bad(ctx, "messages[%d]: tool_call_id \"%.64s\" "
                              "matches no tool call of an earlier assistant "
                              "message", ctx->i, id ? id : "");
    }

    resp = llm_vertex_result_object(cJSON_GetObjectItemCaseSensitive(
                                         m, "content"));
    part = cJSON_CreateObject();
    fr = part ? cJSON_AddObjectToObject(part, "functionResponse") : NULL;

    if (resp == NULL || fr == NULL || !cJSON_AddItemToArray(parts, part)) {
        cJSON_Delete(resp);
        cJSON_Delete(part);
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    if (cJSON_AddStringToObject(fr, "name", name) == NULL
        || llm_vertex_put(fr, "response", resp) != LLM_OK)
    {
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * "response" must be an object: a JSON object in the content is used
 * as it is, anything else is wrapped as {"content": value}.
 */
static cJSON *
llm_vertex_result_object(const cJSON *content)
{
    cJSON        *v, *o;
    llm_buf_t     text;
    const cJSON  *p, *t;

    v = NULL;

    if (cJSON_IsString(content)) {
        v = cJSON_Parse(content->valuestring);

        if (cJSON_IsObject(v)) {
            return v;
        }

        cJSON_Delete(v);
        v = cJSON_CreateString(content->valuestring);

    } else if (cJSON_IsArray(content)) {
        memset(&text, 0, sizeof(llm_buf_t));

        cJSON_ArrayForEach(p, content) {
            t = cJSON_GetObjectItemCaseSensitive(p, "text");

            if (cJSON_IsString(t) && llm_buf_appends(&text, t->valuestring)
                                     != 0)
            {
                llm_buf_free(&text);
                return NULL;
            }
        }

        v = cJSON_CreateString(text.data ? text.data : "");
        llm_buf_free(&text);

    } else {
        v = cJSON_CreateString("");
    }

    o = cJSON_CreateObject();

    if (llm_vertex_put(o, "content", v) != LLM_OK) {
        cJSON_Delete(o);
        return NULL;
    }

    return o;
}


/* the function name of tool call id in the assistant messages before */
static const char *
llm_vertex_call_name(const cJSON *messages, int upto, const char *id)
{
    int           i;
    const char   *tid;
    const cJSON  *m, *tc;

    i = 0;

    cJSON_ArrayForEach(m, messages) {
        if (i++ >= upto) {
            break;
        }

        cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(m,
                                                              "tool_calls"))
        {
            tid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc,
                                                                      "id"));

            if (tid && strcmp(tid, id) == 0) {
                return cJSON_GetStringValue(
                           cJSON_GetObjectItemCaseSensitive(
                               cJSON_GetObjectItemCaseSensitive(tc,
                                                                "function"),
                               "name"));
            }
        }
    }

    return NULL;
}


/* {text}; empty text is skipped (Gemini refuses it) */
static int
llm_vertex_text(cJSON *parts, const char *text)
{
    cJSON  *p;

    if (text[0] == '\0') {
        return 0;
    }

    p = cJSON_CreateObject();

    if (p == NULL || !cJSON_AddItemToArray(parts, p)) {
        cJSON_Delete(p);
        return -1;
    }

    return cJSON_AddStringToObject(p, "text", text) ? 0 : -1;
}


/* a new turn, or the parts join the previous turn of the same role */
static int
llm_vertex_append(llm_vertex_msgs_t *ctx, const char *role, cJSON *parts)
{
    cJSON        *turn, *last, *p;
    const char   *lr;

    if (parts->child == NULL) {
        cJSON_Delete(parts);
        return LLM_OK;
    }

    last = cJSON_GetArrayItem(ctx->contents,
                              cJSON_GetArraySize(ctx->contents) - 1);
    lr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "role"));

    if (lr && strcmp(lr, role) == 0) {
        turn = cJSON_GetObjectItemCaseSensitive(last, "parts");

        while ((p = parts->child) != NULL) {
            cJSON_DetachItemViaPointer(parts, p);
            cJSON_AddItemToArray(turn, p);
        }

        cJSON_Delete(parts);
        return LLM_OK;
    }

    turn = cJSON_CreateObject();

    if (turn == NULL || !cJSON_AddItemToArray(ctx->contents, turn)) {
        cJSON_Delete(turn);
        cJSON_Delete(parts);
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    if (cJSON_AddStringToObject(turn, "role", role) == NULL
        || llm_vertex_put(turn, "parts", parts) != LLM_OK)
    {
        llm_vertex_oom(ctx->err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_vertex_bad(llm_vertex_msgs_t *ctx, const char *fmt, ...)
{
    char     msg[512];
    va_list  ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    llm_error_set(ctx->err, 400, "invalid_request_error", NULL, "messages",
                  "%s", msg);

    return LLM_ERROR;
}
