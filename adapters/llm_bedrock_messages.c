/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI messages -> Converse "system" and "messages"
 * (../shared/providers/bedrock.md, "Converse request mapping").
 *
 * System and developer messages become system text blocks.  The rest
 * become user/assistant turns whose content is always an array of
 * blocks; Converse wants the roles alternating, so a turn of the same
 * role as the previous one is merged into it.  Tool results travel in
 * a user turn: consecutive role:tool messages collect there, and a user
 * message that follows joins the same turn after them.  Empty text
 * blocks are refused by the API and are never sent.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_bedrock.h"


typedef struct {
    llm_bedrock_conv_t  *cv;
    cJSON               *system;        /* blocks */
    cJSON               *turns;         /* the "messages" array */
    int                  i;             /* index of the message mapped */
    int                  part;          /* index of the part mapped */
    int                  failed;        /* err is filled */
    llm_error_t         *err;
} llm_bedrock_mapper_t;


static int llm_bedrock_message(llm_bedrock_mapper_t *mp, const cJSON *m);
static int llm_bedrock_system(llm_bedrock_mapper_t *mp, const cJSON *m);
static int llm_bedrock_user(llm_bedrock_mapper_t *mp, const cJSON *m);
static int llm_bedrock_assistant(llm_bedrock_mapper_t *mp, const cJSON *m);
static int llm_bedrock_thinking(cJSON *blocks, const cJSON *m);
static int llm_bedrock_tool_calls(llm_bedrock_mapper_t *mp, cJSON *blocks,
    const cJSON *calls);
static int llm_bedrock_tool_result(llm_bedrock_mapper_t *mp,
    const cJSON *m);
static int llm_bedrock_parts(llm_bedrock_mapper_t *mp, const cJSON *content,
    cJSON *blocks, int text_only);
static cJSON *llm_bedrock_part(llm_bedrock_mapper_t *mp, const cJSON *part,
    int text_only);
static cJSON *llm_bedrock_text(const char *text);
static cJSON *llm_bedrock_media(llm_bedrock_mapper_t *mp, const char *url,
    const cJSON *file);
static const char *llm_bedrock_doc_format(const char *mime);
static void llm_bedrock_doc_name(char *buf, size_t size,
    llm_bedrock_mapper_t *mp, const cJSON *file);
static int llm_bedrock_cache_point(cJSON *blocks, const cJSON *holder);
static int llm_bedrock_add_turn(llm_bedrock_mapper_t *mp, const char *role,
    cJSON *blocks);
static int llm_bedrock_bad(llm_bedrock_mapper_t *mp, const char *msg);
static int llm_bedrock_map_oom(llm_bedrock_mapper_t *mp);


int
llm_bedrock_messages(llm_bedrock_conv_t *cv, cJSON *out,
    const cJSON *messages, llm_error_t *err)
{
    int                    rc;
    const cJSON           *m;
    llm_bedrock_mapper_t   mp;

    memset(&mp, 0, sizeof(llm_bedrock_mapper_t));
    mp.cv = cv;
    mp.err = err;
    mp.system = cJSON_CreateArray();
    mp.turns = cJSON_CreateArray();
    cv->tool_names = cJSON_CreateArray();

    if (mp.system == NULL || mp.turns == NULL || cv->tool_names == NULL) {
        rc = llm_bedrock_map_oom(&mp);
        goto done;
    }

    rc = LLM_OK;

    cJSON_ArrayForEach(m, messages) {
        rc = llm_bedrock_message(&mp, m);
        if (rc != LLM_OK) {
            goto done;
        }

        mp.i++;
    }

    if (cJSON_GetArraySize(mp.system)) {
        rc = llm_bedrock_put(out, "system", mp.system);
        mp.system = NULL;

        if (rc != LLM_OK) {
            rc = llm_bedrock_map_oom(&mp);
            goto done;
        }
    }

    rc = llm_bedrock_put(out, "messages", mp.turns);
    mp.turns = NULL;

    if (rc != LLM_OK) {
        rc = llm_bedrock_map_oom(&mp);
    }

done:

    cJSON_Delete(mp.system);
    cJSON_Delete(mp.turns);

    return rc;
}


void
llm_bedrock_conv_free(llm_bedrock_conv_t *cv)
{
    cJSON_Delete(cv->tool_names);
    cv->tool_names = NULL;
}


static int
llm_bedrock_message(llm_bedrock_mapper_t *mp, const cJSON *m)
{
    char          msg[128];
    const char   *r;
    const cJSON  *role;

    role = cJSON_GetObjectItemCaseSensitive(m, "role");
    r = cJSON_IsString(role) ? role->valuestring : "";
    mp->part = 0;

    if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0) {
        return llm_bedrock_system(mp, m);
    }

    if (strcmp(r, "user") == 0) {
        return llm_bedrock_user(mp, m);
    }

    if (strcmp(r, "assistant") == 0) {
        return llm_bedrock_assistant(mp, m);
    }

    if (strcmp(r, "tool") == 0) {
        return llm_bedrock_tool_result(mp, m);
    }

    snprintf(msg, sizeof(msg), "role \"%.64s\" is not supported", r);

    return llm_bedrock_bad(mp, msg);
}


static int
llm_bedrock_bad(llm_bedrock_mapper_t *mp, const char *msg)
{
    llm_error_set(mp->err, 400, "invalid_request_error", NULL, "messages",
                  "messages[%d]: %s", mp->i, msg);
    mp->failed = 1;

    return LLM_ERROR;
}


static int
llm_bedrock_map_oom(llm_bedrock_mapper_t *mp)
{
    llm_bedrock_oom(mp->err);
    mp->failed = 1;

    return LLM_ERROR;
}


/* system text; a cache_control marks a cachePoint after the message */
static int
llm_bedrock_system(llm_bedrock_mapper_t *mp, const cJSON *m)
{
    int  n;

    n = cJSON_GetArraySize(mp->system);

    if (llm_bedrock_parts(mp, cJSON_GetObjectItemCaseSensitive(m, "content"),
                          mp->system, 1) != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (cJSON_GetArraySize(mp->system) > n
        && llm_bedrock_cache_point(mp->system, m) != LLM_OK)
    {
        return llm_bedrock_map_oom(mp);
    }

    return LLM_OK;
}


static int
llm_bedrock_user(llm_bedrock_mapper_t *mp, const cJSON *m)
{
    cJSON  *blocks;

    blocks = cJSON_CreateArray();
    if (blocks == NULL) {
        return llm_bedrock_map_oom(mp);
    }

    if (llm_bedrock_parts(mp, cJSON_GetObjectItemCaseSensitive(m, "content"),
                          blocks, 0) != LLM_OK)
    {
        cJSON_Delete(blocks);
        return LLM_ERROR;
    }

    if (cJSON_GetArraySize(blocks)
        && llm_bedrock_cache_point(blocks, m) != LLM_OK)
    {
        cJSON_Delete(blocks);
        return llm_bedrock_map_oom(mp);
    }

    return llm_bedrock_add_turn(mp, "user", blocks);
}


/* thinking blocks handed back, text, then the tool calls */
static int
llm_bedrock_assistant(llm_bedrock_mapper_t *mp, const cJSON *m)
{
    cJSON  *blocks;

    blocks = cJSON_CreateArray();

    if (blocks == NULL || llm_bedrock_thinking(blocks, m) != LLM_OK) {
        cJSON_Delete(blocks);
        return llm_bedrock_map_oom(mp);
    }

    if (llm_bedrock_parts(mp, cJSON_GetObjectItemCaseSensitive(m, "content"),
                          blocks, 1) != LLM_OK)
    {
        cJSON_Delete(blocks);
        return LLM_ERROR;
    }

    if (llm_bedrock_tool_calls(mp, blocks,
                               cJSON_GetObjectItemCaseSensitive(m,
                                                               "tool_calls"))
        != LLM_OK)
    {
        cJSON_Delete(blocks);
        return llm_bedrock_map_oom(mp);
    }

    return llm_bedrock_add_turn(mp, "assistant", blocks);
}


/*
 * LiteLLM's thinking_blocks (Anthropic's shape) -> reasoningContent:
 * Claude wants its signed reasoning back when thinking meets tools.
 */
static int
llm_bedrock_thinking(cJSON *blocks, const cJSON *m)
{
    cJSON        *b, *rc, *rt;
    const cJSON  *tb, *type, *text, *sig, *data;

    cJSON_ArrayForEach(tb, cJSON_GetObjectItemCaseSensitive(m,
                                                          "thinking_blocks"))
    {
        type = cJSON_GetObjectItemCaseSensitive(tb, "type");
        text = cJSON_GetObjectItemCaseSensitive(tb, "thinking");
        sig = cJSON_GetObjectItemCaseSensitive(tb, "signature");
        data = cJSON_GetObjectItemCaseSensitive(tb, "data");

        if (!cJSON_IsString(type)) {
            continue;
        }

        b = cJSON_CreateObject();
        rc = cJSON_AddObjectToObject(b, "reasoningContent");

        if (rc == NULL) {
            cJSON_Delete(b);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(blocks, b);

        if (strcmp(type->valuestring, "redacted_thinking") == 0
            && cJSON_IsString(data))
        {
            if (cJSON_AddStringToObject(rc, "redactedContent",
                                        data->valuestring) == NULL)
            {
                return LLM_ERROR;
            }

            continue;
        }

        rt = cJSON_AddObjectToObject(rc, "reasoningText");

        if (rt == NULL
            || cJSON_AddStringToObject(rt, "text", cJSON_IsString(text)
                                                   ? text->valuestring : "")
               == NULL
            || (cJSON_IsString(sig)
                && cJSON_AddStringToObject(rt, "signature",
                                           sig->valuestring) == NULL))
        {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


/* tool_calls[i] -> toolUse; arguments that are not an object -> {} */
static int
llm_bedrock_tool_calls(llm_bedrock_mapper_t *mp, cJSON *blocks,
    const cJSON *calls)
{
    char          id[64];
    cJSON        *b, *tu, *input;
    const cJSON  *call, *fn, *cid, *name, *args, *seen;

    cJSON_ArrayForEach(call, calls) {
        cid = cJSON_GetObjectItemCaseSensitive(call, "id");
        fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");

        input = cJSON_IsString(args) ? cJSON_Parse(args->valuestring)
                : cJSON_IsObject(args) ? cJSON_Duplicate(args, 1) : NULL;

        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            input = cJSON_CreateObject();
        }

        if (cJSON_IsString(cid) && cid->valuestring[0]) {
            snprintf(id, sizeof(id), "%s", cid->valuestring);

        } else {
            llm_mint_id(id, sizeof(id), "tooluse_");
        }

        b = cJSON_CreateObject();
        tu = cJSON_AddObjectToObject(b, "toolUse");

        if (tu == NULL
            || cJSON_AddStringToObject(tu, "toolUseId", id) == NULL
            || cJSON_AddStringToObject(tu, "name", cJSON_IsString(name)
                                                   ? name->valuestring : "")
               == NULL
            || llm_bedrock_put(tu, "input", input) != LLM_OK)
        {
            if (tu == NULL) {
                cJSON_Delete(input);
            }

            cJSON_Delete(b);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(blocks, b);
        mp->cv->tool_blocks = 1;

        /* the names, once each, for a toolConfig on a turn without tools */
        if (!cJSON_IsString(name) || name->valuestring[0] == '\0') {
            continue;
        }

        cJSON_ArrayForEach(seen, mp->cv->tool_names) {
            if (strcmp(seen->valuestring, name->valuestring) == 0) {
                break;
            }
        }

        if (seen == NULL
            && !cJSON_AddItemToArray(mp->cv->tool_names,
                                     cJSON_CreateString(name->valuestring)))
        {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


/*
 * role:tool -> a toolResult block in a user turn.  The text goes as
 * text blocks ("json" blocks exist, but not every model takes them); a
 * non-standard "status": "error" on the message marks a failed call.
 */
static int
llm_bedrock_tool_result(llm_bedrock_mapper_t *mp, const cJSON *m)
{
    cJSON        *blocks, *b, *tr, *content;
    const cJSON  *id, *c, *st;

    id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
    c = cJSON_GetObjectItemCaseSensitive(m, "content");
    st = cJSON_GetObjectItemCaseSensitive(m, "status");

    blocks = cJSON_CreateArray();
    b = cJSON_CreateObject();
    tr = cJSON_AddObjectToObject(b, "toolResult");
    content = cJSON_CreateArray();

    if (blocks == NULL || tr == NULL || content == NULL
        || cJSON_AddStringToObject(tr, "toolUseId", cJSON_IsString(id)
                                                    ? id->valuestring : "")
           == NULL)
    {
        goto oom;
    }

    if (llm_bedrock_parts(mp, c, content, 0) != LLM_OK) {
        cJSON_Delete(blocks);
        cJSON_Delete(b);
        cJSON_Delete(content);
        return LLM_ERROR;
    }

    if (llm_bedrock_put(tr, "content", content) != LLM_OK) {
        content = NULL;
        goto oom;
    }

    content = NULL;

    if (cJSON_IsString(st) && strcmp(st->valuestring, "error") == 0
        && cJSON_AddStringToObject(tr, "status", "error") == NULL)
    {
        goto oom;
    }

    cJSON_AddItemToArray(blocks, b);
    mp->cv->tool_blocks = 1;

    return llm_bedrock_add_turn(mp, "user", blocks);

oom:

    cJSON_Delete(blocks);
    cJSON_Delete(b);
    cJSON_Delete(content);

    return llm_bedrock_map_oom(mp);
}


/* a string or an array of parts, appended to blocks as content blocks */
static int
llm_bedrock_parts(llm_bedrock_mapper_t *mp, const cJSON *content,
    cJSON *blocks, int text_only)
{
    cJSON        *b;
    const cJSON  *part;

    if (cJSON_IsString(content)) {
        if (content->valuestring[0] == '\0') {
            return LLM_OK;
        }

        b = llm_bedrock_text(content->valuestring);
        if (b == NULL) {
            return llm_bedrock_map_oom(mp);
        }

        cJSON_AddItemToArray(blocks, b);

        return LLM_OK;
    }

    cJSON_ArrayForEach(part, content) {
        b = llm_bedrock_part(mp, part, text_only);
        mp->part++;

        if (b == NULL) {
            if (mp->failed) {
                return LLM_ERROR;
            }

            continue;
        }

        cJSON_AddItemToArray(blocks, b);

        if (llm_bedrock_cache_point(blocks, part) != LLM_OK) {
            return llm_bedrock_map_oom(mp);
        }
    }

    return LLM_OK;
}


/*
 * One OpenAI content part -> one block.  NULL without mp->failed means
 * "nothing to send" (an empty text, an unknown part type).
 */
static cJSON *
llm_bedrock_part(llm_bedrock_mapper_t *mp, const cJSON *part,
    int text_only)
{
    cJSON        *b;
    const char   *t;
    const cJSON  *type, *v;

    type = cJSON_GetObjectItemCaseSensitive(part, "type");
    t = cJSON_IsString(type) ? type->valuestring : "";

    if (strcmp(t, "text") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "text");

        if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            return NULL;
        }

        b = llm_bedrock_text(v->valuestring);

        if (b == NULL) {
            llm_bedrock_map_oom(mp);
        }

        return b;
    }

    if (text_only && (strcmp(t, "image_url") == 0 || strcmp(t, "file") == 0))
    {
        llm_bedrock_bad(mp, "only text parts are allowed in this message");
        return NULL;
    }

    if (strcmp(t, "image_url") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "image_url");

        if (cJSON_IsObject(v)) {
            v = cJSON_GetObjectItemCaseSensitive(v, "url");
        }

        if (!cJSON_IsString(v)) {
            llm_bedrock_bad(mp, "image_url part without a url");
            return NULL;
        }

        return llm_bedrock_media(mp, v->valuestring, NULL);
    }

    if (strcmp(t, "file") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "file");

        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v,
                                                             "file_data")))
        {
            llm_bedrock_bad(mp, "file parts need file_data (a data: URL); "
                                "file_id is not supported");
            return NULL;
        }

        return llm_bedrock_media(mp,
                   cJSON_GetObjectItemCaseSensitive(v,
                                                   "file_data")->valuestring,
                   v);
    }

    /* refusal parts, audio and unknown types have no block */
    return NULL;
}


static cJSON *
llm_bedrock_text(const char *text)
{
    cJSON  *b;

    b = cJSON_CreateObject();

    if (b == NULL || cJSON_AddStringToObject(b, "text", text) == NULL) {
        cJSON_Delete(b);
        return NULL;
    }

    return b;
}


/*
 * data:<media type>;base64,<data> -> an image block (png, jpeg, gif,
 * webp) or a document block (pdf, csv, doc, docx, xls, xlsx, html, txt,
 * md): blobs travel as base64 strings.  Converse takes no image URL
 * (only bytes or S3), and fetching one is not the gateway's to do.
 */
static cJSON *
llm_bedrock_media(llm_bedrock_mapper_t *mp, const char *url,
    const cJSON *file)
{
    char         mt[64], name[80];
    cJSON       *b, *o, *src;
    size_t       n;
    const char  *semi, *comma, *fmt;

    if (strncmp(url, "data:", 5) != 0) {
        llm_bedrock_bad(mp, "Bedrock takes images and files as base64 "
                            "data: URLs only, not links");
        return NULL;
    }

    semi = strchr(url + 5, ';');
    comma = strchr(url + 5, ',');

    if (semi == NULL || comma == NULL || semi > comma
        || strncmp(semi, ";base64,", 8) != 0
        || (size_t) (semi - url - 5) >= sizeof(mt) || semi == url + 5)
    {
        llm_bedrock_bad(mp, "only base64 data: URLs with a media type are "
                            "supported");
        return NULL;
    }

    n = semi - url - 5;
    memcpy(mt, url + 5, n);
    mt[n] = '\0';

    fmt = NULL;

    if (strncmp(mt, "image/", 6) == 0) {
        fmt = strcmp(mt + 6, "jpg") == 0 ? "jpeg" : mt + 6;

        if (strcmp(fmt, "png") && strcmp(fmt, "jpeg") && strcmp(fmt, "gif")
            && strcmp(fmt, "webp"))
        {
            fmt = NULL;
        }
    }

    if (fmt == NULL && (fmt = llm_bedrock_doc_format(mt)) == NULL) {
        llm_bedrock_bad(mp, "unsupported media type: Bedrock takes png, "
                            "jpeg, gif, webp images and pdf, csv, doc, docx, "
                            "xls, xlsx, html, txt, md documents");
        return NULL;
    }

    b = cJSON_CreateObject();
    o = cJSON_AddObjectToObject(b, strncmp(mt, "image/", 6) == 0
                                   ? "image" : "document");
    src = cJSON_CreateObject();

    if (o == NULL || src == NULL
        || cJSON_AddStringToObject(o, "format", fmt) == NULL)
    {
        goto oom;
    }

    if (strncmp(mt, "image/", 6) != 0) {
        llm_bedrock_doc_name(name, sizeof(name), mp, file);

        if (cJSON_AddStringToObject(o, "name", name) == NULL) {
            goto oom;
        }
    }

    if (cJSON_AddStringToObject(src, "bytes", comma + 1) == NULL
        || llm_bedrock_put(o, "source", src) != LLM_OK)
    {
        cJSON_Delete(b);
        llm_bedrock_map_oom(mp);
        return NULL;
    }

    return b;

oom:

    cJSON_Delete(src);
    cJSON_Delete(b);
    llm_bedrock_map_oom(mp);

    return NULL;
}


static const char *
llm_bedrock_doc_format(const char *mime)
{
    size_t  i;
    static const char  *map[][2] = {
        { "application/pdf", "pdf" },
        { "text/csv", "csv" },
        { "application/msword", "doc" },
        { "application/vnd.openxmlformats-officedocument.wordprocessingml."
          "document", "docx" },
        { "application/vnd.ms-excel", "xls" },
        { "application/vnd.openxmlformats-officedocument.spreadsheetml."
          "sheet", "xlsx" },
        { "text/html", "html" },
        { "text/plain", "txt" },
        { "text/markdown", "md" },
    };

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(mime, map[i][0]) == 0) {
            return map[i][1];
        }
    }

    return NULL;
}


/*
 * Document names may hold letters, digits, single spaces, hyphens,
 * parentheses and square brackets only; the file name is reduced to
 * that (its extension dropped), else one is made up.
 */
static void
llm_bedrock_doc_name(char *buf, size_t size, llm_bedrock_mapper_t *mp,
    const cJSON *file)
{
    char          c;
    size_t        i, k;
    const char   *s, *dot;
    const cJSON  *fn;

    fn = cJSON_GetObjectItemCaseSensitive(file, "filename");
    s = cJSON_IsString(fn) ? fn->valuestring : "";
    dot = strrchr(s, '.');
    k = 0;

    for (i = 0; s[i] && &s[i] != dot && k + 1 < size; i++) {
        c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '(' || c == ')'
              || c == '[' || c == ']'))
        {
            c = (c == ' ') ? ' ' : '-';
        }

        if (c == ' ' && (k == 0 || buf[k - 1] == ' ')) {
            continue;
        }

        buf[k++] = c;
    }

    while (k && buf[k - 1] == ' ') {
        k--;
    }

    buf[k] = '\0';

    if (k == 0) {
        snprintf(buf, size, "document-%d-%d", mp->i, mp->part);
    }
}


/* LiteLLM's cache_control on a message or part -> a cachePoint after it */
static int
llm_bedrock_cache_point(cJSON *blocks, const cJSON *holder)
{
    cJSON  *b, *cp;

    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(holder,
                                                         "cache_control")))
    {
        return LLM_OK;
    }

    b = cJSON_CreateObject();
    cp = cJSON_AddObjectToObject(b, "cachePoint");

    if (cp == NULL || cJSON_AddStringToObject(cp, "type", "default") == NULL)
    {
        cJSON_Delete(b);
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(blocks, b);

    return LLM_OK;
}


/*
 * Appends a turn (blocks owned from here), merging it into the previous
 * turn of the same role.  A turn without blocks is left out.
 */
static int
llm_bedrock_add_turn(llm_bedrock_mapper_t *mp, const char *role,
    cJSON *blocks)
{
    cJSON        *last, *content, *t, *b;
    const cJSON  *r;

    if (cJSON_GetArraySize(blocks) == 0) {
        cJSON_Delete(blocks);
        return LLM_OK;
    }

    last = cJSON_GetArrayItem(mp->turns, cJSON_GetArraySize(mp->turns) - 1);
    r = cJSON_GetObjectItemCaseSensitive(last, "role");
    content = cJSON_GetObjectItemCaseSensitive(last, "content");

    if (last && cJSON_IsString(r) && strcmp(r->valuestring, role) == 0
        && cJSON_IsArray(content))
    {
        while (blocks->child) {
            b = cJSON_DetachItemViaPointer(blocks, blocks->child);
            cJSON_AddItemToArray(content, b);
        }

        cJSON_Delete(blocks);

        return LLM_OK;
    }

    t = cJSON_CreateObject();

    if (t == NULL || cJSON_AddStringToObject(t, "role", role) == NULL) {
        cJSON_Delete(t);
        cJSON_Delete(blocks);
        return llm_bedrock_map_oom(mp);
    }

    if (llm_bedrock_put(t, "content", blocks) != LLM_OK) {
        cJSON_Delete(t);
        return llm_bedrock_map_oom(mp);
    }

    cJSON_AddItemToArray(mp->turns, t);

    return LLM_OK;
}
