/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI messages -> Anthropic "system" and "messages".
 *
 * System and developer messages leave the list for the top-level
 * "system".  The rest become user/assistant turns: the API wants them
 * alternating, so a turn of the same role as the previous one is merged
 * into it.  Tool results belong in a user turn, first in it, so
 * consecutive role:tool messages collect there and a user message that
 * follows joins the same turn after them.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_anthropic.h"


typedef struct {
    cJSON       *system;        /* text blocks */
    int          system_cache;  /* a system block has cache_control */
    cJSON       *turns;         /* the "messages" array */
    int          i;             /* index of the message being mapped */
    int          failed;        /* err is filled */
    llm_error_t *err;
} llm_anthropic_conv_t;


static int llm_anthropic_message(llm_anthropic_conv_t *cv, const cJSON *m);
static int llm_anthropic_system(llm_anthropic_conv_t *cv, const cJSON *m);
static int llm_anthropic_user(llm_anthropic_conv_t *cv, const cJSON *m);
static int llm_anthropic_assistant(llm_anthropic_conv_t *cv,
    const cJSON *m);
static int llm_anthropic_tool_calls(cJSON *blocks, const cJSON *calls);
static int llm_anthropic_tool_result(llm_anthropic_conv_t *cv,
    const cJSON *m);
static int llm_anthropic_parts(llm_anthropic_conv_t *cv,
    const cJSON *content, cJSON *blocks);
static cJSON *llm_anthropic_part(llm_anthropic_conv_t *cv,
    const cJSON *part);
static cJSON *llm_anthropic_text(const char *text, const cJSON *cc);
static cJSON *llm_anthropic_url(llm_anthropic_conv_t *cv, const char *url,
    int document);
static int llm_anthropic_cache_last(cJSON *blocks, const cJSON *m);
static int llm_anthropic_add_turn(llm_anthropic_conv_t *cv,
    const char *role, cJSON *content, int tool_results);
static int llm_anthropic_insert(cJSON *array, int pos, cJSON *items);
static cJSON *llm_anthropic_blocks(cJSON *turn);
static int llm_anthropic_system_out(llm_anthropic_conv_t *cv, cJSON *body);
static int llm_anthropic_bad(llm_anthropic_conv_t *cv, const char *fmt,
    const char *what);
static int llm_anthropic_conv_oom(llm_anthropic_conv_t *cv);


int
llm_anthropic_messages(cJSON *body, const cJSON *messages, llm_error_t *err)
{
    int                    rc;
    const cJSON           *m;
    llm_anthropic_conv_t   cv;

    cv.system = cJSON_CreateArray();
    cv.system_cache = 0;
    cv.turns = cJSON_CreateArray();
    cv.i = 0;
    cv.failed = 0;
    cv.err = err;

    rc = LLM_OK;

    if (cv.system == NULL || cv.turns == NULL) {
        llm_anthropic_oom(err);
        rc = LLM_ERROR;
    }

    if (rc == LLM_OK) {
        cJSON_ArrayForEach(m, messages) {
            rc = llm_anthropic_message(&cv, m);
            if (rc != LLM_OK) {
                break;
            }

            cv.i++;
        }
    }

    if (rc == LLM_OK) {
        rc = llm_anthropic_system_out(&cv, body);
    }

    if (rc == LLM_OK) {
        rc = llm_anthropic_put(body, "messages", cv.turns);
        cv.turns = NULL;

        if (rc != LLM_OK) {
            llm_anthropic_oom(err);
        }
    }

    cJSON_Delete(cv.system);
    cJSON_Delete(cv.turns);

    return rc;
}


static int
llm_anthropic_message(llm_anthropic_conv_t *cv, const cJSON *m)
{
    const char   *r;
    const cJSON  *role;

    role = cJSON_GetObjectItemCaseSensitive(m, "role");
    r = cJSON_IsString(role) ? role->valuestring : "";

    if (strcmp(r, "system") == 0 || strcmp(r, "developer") == 0) {
        return llm_anthropic_system(cv, m);
    }

    if (strcmp(r, "user") == 0) {
        return llm_anthropic_user(cv, m);
    }

    if (strcmp(r, "assistant") == 0) {
        return llm_anthropic_assistant(cv, m);
    }

    if (strcmp(r, "tool") == 0) {
        return llm_anthropic_tool_result(cv, m);
    }

    return llm_anthropic_bad(cv, "role \"%s\" is not supported", r);
}


static int
llm_anthropic_bad(llm_anthropic_conv_t *cv, const char *fmt,
    const char *what)
{
    char  msg[256];

    snprintf(msg, sizeof(msg), fmt, what);
    llm_error_set(cv->err, 400, "invalid_request_error", NULL, "messages",
                  "messages[%d]: %s", cv->i, msg);
    cv->failed = 1;

    return LLM_ERROR;
}


static int
llm_anthropic_conv_oom(llm_anthropic_conv_t *cv)
{
    llm_anthropic_oom(cv->err);
    cv->failed = 1;

    return LLM_ERROR;
}


static int
llm_anthropic_system(llm_anthropic_conv_t *cv, const cJSON *m)
{
    int           n;
    cJSON        *b;
    const cJSON  *content, *part, *type;

    content = cJSON_GetObjectItemCaseSensitive(m, "content");
    n = cJSON_GetArraySize(cv->system);

    if (cJSON_IsString(content) && content->valuestring[0]) {
        b = llm_anthropic_text(content->valuestring, NULL);
        if (b == NULL) {
            return llm_anthropic_conv_oom(cv);
        }

        cJSON_AddItemToArray(cv->system, b);

    } else if (cJSON_IsArray(content)) {
        cJSON_ArrayForEach(part, content) {
            type = cJSON_GetObjectItemCaseSensitive(part, "type");

            if (!cJSON_IsString(type) || strcmp(type->valuestring, "text"))
            {
                return llm_anthropic_bad(cv, "%s", "a system message may "
                                         "carry text parts only");
            }

            b = llm_anthropic_part(cv, part);

            if (b == NULL) {
                if (cv->failed) {
                    return LLM_ERROR;
                }

                continue;
            }

            cJSON_AddItemToArray(cv->system, b);
        }
    }

    /* message-level cache_control marks the last block of the message */
    if (cJSON_GetArraySize(cv->system) > n
        && llm_anthropic_cache_last(cv->system, m) != LLM_OK)
    {
        return llm_anthropic_conv_oom(cv);
    }

    for (b = cv->system->child; b; b = b->next) {
        if (cJSON_GetObjectItemCaseSensitive(b, "cache_control")) {
            cv->system_cache = 1;
        }
    }

    return LLM_OK;
}


/*
 * One string when no block carries cache_control (texts joined by a
 * newline); else the blocks, which is where cache_control can go.
 */
static int
llm_anthropic_system_out(llm_anthropic_conv_t *cv, cJSON *body)
{
    int           rc;
    cJSON        *b;
    llm_buf_t     text;
    const cJSON  *t;

    if (cJSON_GetArraySize(cv->system) == 0) {
        return LLM_OK;
    }

    if (cv->system_cache) {
        b = cv->system;
        cv->system = NULL;

        if (llm_anthropic_put(body, "system", b) != LLM_OK) {
            return llm_anthropic_conv_oom(cv);
        }

        return LLM_OK;
    }

    memset(&text, 0, sizeof(llm_buf_t));
    rc = 0;

    for (b = cv->system->child; b && rc == 0; b = b->next) {
        t = cJSON_GetObjectItemCaseSensitive(b, "text");

        if (text.len) {
            rc = llm_buf_append(&text, "\n", 1);
        }

        if (rc == 0) {
            rc = llm_buf_appends(&text, t->valuestring);
        }
    }

    if (rc != 0 || cJSON_AddStringToObject(body, "system", text.data) == NULL)
    {
        llm_buf_free(&text);
        return llm_anthropic_conv_oom(cv);
    }

    llm_buf_free(&text);

    return LLM_OK;
}


static int
llm_anthropic_user(llm_anthropic_conv_t *cv, const cJSON *m)
{
    cJSON        *content;
    const cJSON  *c;

    c = cJSON_GetObjectItemCaseSensitive(m, "content");

    /* a string stays a string, unless cache_control needs a block */
    if (cJSON_IsString(c)
        && !cJSON_GetObjectItemCaseSensitive(m, "cache_control"))
    {
        content = cJSON_CreateString(c->valuestring);
        if (content == NULL) {
            return llm_anthropic_conv_oom(cv);
        }

        return llm_anthropic_add_turn(cv, "user", content, 0);
    }

    content = cJSON_CreateArray();
    if (content == NULL) {
        return llm_anthropic_conv_oom(cv);
    }

    if (llm_anthropic_parts(cv, c, content) != LLM_OK) {
        cJSON_Delete(content);
        return LLM_ERROR;
    }

    if (llm_anthropic_cache_last(content, m) != LLM_OK) {
        cJSON_Delete(content);
        return llm_anthropic_conv_oom(cv);
    }

    if (cJSON_GetArraySize(content) == 0) {
        cJSON_Delete(content);
        return LLM_OK;
    }

    return llm_anthropic_add_turn(cv, "user", content, 0);
}


static int
llm_anthropic_assistant(llm_anthropic_conv_t *cv, const cJSON *m)
{
    cJSON        *blocks, *b;
    const cJSON  *tb;

    blocks = cJSON_CreateArray();
    if (blocks == NULL) {
        return llm_anthropic_conv_oom(cv);
    }

    /*
     * thinking blocks handed back (LiteLLM's thinking_blocks) must lead
     * the turn when extended thinking is used with tools
     */
    cJSON_ArrayForEach(tb, cJSON_GetObjectItemCaseSensitive(m,
                                                        "thinking_blocks"))
    {
        if (cJSON_IsObject(tb)) {
            b = cJSON_Duplicate(tb, 1);
            if (b == NULL) {
                goto oom;
            }

            cJSON_AddItemToArray(blocks, b);
        }
    }

    if (llm_anthropic_parts(cv, cJSON_GetObjectItemCaseSensitive(m,
                                                                 "content"),
                            blocks) != LLM_OK)
    {
        cJSON_Delete(blocks);
        return LLM_ERROR;
    }

    if (llm_anthropic_tool_calls(blocks,
                                 cJSON_GetObjectItemCaseSensitive(m,
                                                             "tool_calls"))
        != LLM_OK)
    {
        goto oom;
    }

    /* an empty assistant turn is rejected by the API: leave it out */
    if (cJSON_GetArraySize(blocks) == 0) {
        cJSON_Delete(blocks);
        return LLM_OK;
    }

    return llm_anthropic_add_turn(cv, "assistant", blocks, 0);

oom:

    cJSON_Delete(blocks);
    return llm_anthropic_conv_oom(cv);
}


/* tool_calls[i] -> tool_use; arguments that are not a JSON object -> {} */
static int
llm_anthropic_tool_calls(cJSON *blocks, const cJSON *calls)
{
    char          id[64];
    cJSON        *b, *input;
    const cJSON  *call, *fn, *cid, *name, *args;

    cJSON_ArrayForEach(call, calls) {
        cid = cJSON_GetObjectItemCaseSensitive(call, "id");
        fn = cJSON_GetObjectItemCaseSensitive(call, "function");
        name = cJSON_GetObjectItemCaseSensitive(fn, "name");
        args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");

        input = NULL;

        if (cJSON_IsString(args)) {
            input = cJSON_Parse(args->valuestring);

        } else if (cJSON_IsObject(args)) {
            input = cJSON_Duplicate(args, 1);
        }

        if (!cJSON_IsObject(input)) {
            cJSON_Delete(input);
            input = cJSON_CreateObject();
        }

        b = cJSON_CreateObject();

        if (b == NULL || input == NULL
            || cJSON_AddStringToObject(b, "type", "tool_use") == NULL)
        {
            cJSON_Delete(b);
            cJSON_Delete(input);
            return LLM_ERROR;
        }

        /* the API requires an id; a later tool_result cannot match it */
        if (cJSON_IsString(cid) && cid->valuestring[0]) {
            snprintf(id, sizeof(id), "%s", cid->valuestring);

        } else {
            llm_mint_id(id, sizeof(id), "toolu_");
        }

        if (cJSON_AddStringToObject(b, "id", id) == NULL
            || cJSON_AddStringToObject(b, "name", cJSON_IsString(name)
                                                  ? name->valuestring : "")
               == NULL
            || llm_anthropic_put(b, "input", input) != LLM_OK)
        {
            cJSON_Delete(b);
            return LLM_ERROR;
        }

        cJSON_AddItemToArray(blocks, b);
    }

    return LLM_OK;
}


static int
llm_anthropic_tool_result(llm_anthropic_conv_t *cv, const cJSON *m)
{
    cJSON        *blocks, *r, *content;
    const cJSON  *id, *c;

    id = cJSON_GetObjectItemCaseSensitive(m, "tool_call_id");
    c = cJSON_GetObjectItemCaseSensitive(m, "content");

    blocks = cJSON_CreateArray();
    r = cJSON_CreateObject();

    if (blocks == NULL || r == NULL) {
        cJSON_Delete(blocks);
        cJSON_Delete(r);
        goto oom;
    }

    cJSON_AddItemToArray(blocks, r);

    if (cJSON_AddStringToObject(r, "type", "tool_result") == NULL
        || cJSON_AddStringToObject(r, "tool_use_id", cJSON_IsString(id)
                                                     ? id->valuestring : "")
           == NULL)
    {
        cJSON_Delete(blocks);
        goto oom;
    }

    if (cJSON_IsString(c)) {
        content = cJSON_CreateString(c->valuestring);

    } else if (cJSON_IsArray(c)) {
        content = cJSON_CreateArray();

        if (content && llm_anthropic_parts(cv, c, content) != LLM_OK) {
            cJSON_Delete(content);
            cJSON_Delete(blocks);
            return LLM_ERROR;
        }

    } else {
        /* null: a result without content is allowed */
        return llm_anthropic_add_turn(cv, "user", blocks, 1);
    }

    if (llm_anthropic_put(r, "content", content) != LLM_OK) {
        cJSON_Delete(blocks);
        goto oom;
    }

    return llm_anthropic_add_turn(cv, "user", blocks, 1);

oom:

    return llm_anthropic_conv_oom(cv);
}


/* a string or an array of parts, appended to blocks as content blocks */
static int
llm_anthropic_parts(llm_anthropic_conv_t *cv, const cJSON *content,
    cJSON *blocks)
{
    cJSON        *b;
    const cJSON  *part;

    if (cJSON_IsString(content)) {
        if (content->valuestring[0] == '\0') {
            return LLM_OK;
        }

        b = llm_anthropic_text(content->valuestring, NULL);
        if (b == NULL) {
            return llm_anthropic_conv_oom(cv);
        }

        cJSON_AddItemToArray(blocks, b);

        return LLM_OK;
    }

    cJSON_ArrayForEach(part, content) {
        b = llm_anthropic_part(cv, part);

        if (b == NULL) {
            if (cv->failed) {
                return LLM_ERROR;
            }

            continue;
        }

        cJSON_AddItemToArray(blocks, b);
    }

    return LLM_OK;
}


/*
 * One OpenAI content part -> one block.  NULL without cv->failed means
 * "nothing to send" (an empty text, an unknown part type).
 */
static cJSON *
llm_anthropic_part(llm_anthropic_conv_t *cv, const cJSON *part)
{
    cJSON        *b;
    const char   *t;
    const cJSON  *type, *v, *cc;

    type = cJSON_GetObjectItemCaseSensitive(part, "type");
    t = cJSON_IsString(type) ? type->valuestring : "";
    cc = cJSON_GetObjectItemCaseSensitive(part, "cache_control");
    b = NULL;

    if (strcmp(t, "text") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "text");

        /* the API rejects empty text blocks */
        if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            return NULL;
        }

        b = llm_anthropic_text(v->valuestring, cc);

    } else if (strcmp(t, "image_url") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(part, "image_url");

        if (cJSON_IsObject(v)) {
            v = cJSON_GetObjectItemCaseSensitive(v, "url");
        }

        if (!cJSON_IsString(v)) {
            llm_anthropic_bad(cv, "%s", "image_url part without a url");
            return NULL;
        }

        b = llm_anthropic_url(cv, v->valuestring, 0);

    } else if (strcmp(t, "file") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(part, "file"), "file_data");

        if (!cJSON_IsString(v)) {
            llm_anthropic_bad(cv, "%s", "file parts need file_data (a data: "
                                        "URL); file_id is not supported");
            return NULL;
        }

        b = llm_anthropic_url(cv, v->valuestring, 1);

    } else {
        /* refusal parts, audio and unknown types have no block */
        return NULL;
    }

    if (b == NULL) {
        if (!cv->failed) {
            llm_anthropic_conv_oom(cv);
        }

        return NULL;
    }

    if (cJSON_IsObject(cc)
        && cJSON_GetObjectItemCaseSensitive(b, "cache_control") == NULL
        && llm_anthropic_put(b, "cache_control", cJSON_Duplicate(cc, 1))
           != LLM_OK)
    {
        cJSON_Delete(b);
        llm_anthropic_conv_oom(cv);
        return NULL;
    }

    return b;
}


static cJSON *
llm_anthropic_text(const char *text, const cJSON *cc)
{
    cJSON  *b;

    b = cJSON_CreateObject();

    if (b == NULL
        || cJSON_AddStringToObject(b, "type", "text") == NULL
        || cJSON_AddStringToObject(b, "text", text) == NULL
        || (cJSON_IsObject(cc)
            && llm_anthropic_put(b, "cache_control", cJSON_Duplicate(cc, 1))
               != LLM_OK))
    {
        cJSON_Delete(b);
        return NULL;
    }

    return b;
}


/*
 * data:<media type>;base64,<data> -> a base64 source (a PDF makes a
 * document block); http(s) URLs -> a url source.
 */
static cJSON *
llm_anthropic_url(llm_anthropic_conv_t *cv, const char *url, int document)
{
    char         mt[64];
    cJSON       *b, *src;
    size_t       n;
    const char  *semi, *comma, *kind;

    if (strncmp(url, "data:", 5) == 0) {
        semi = strchr(url + 5, ';');
        comma = strchr(url + 5, ',');

        if (semi == NULL || comma == NULL || semi > comma
            || strncmp(semi, ";base64,", 8) != 0
            || (size_t) (semi - url - 5) >= sizeof(mt) || semi == url + 5)
        {
            llm_anthropic_bad(cv, "%s", "only base64 data: URLs with a media "
                                        "type are supported");
            return NULL;
        }

        n = semi - url - 5;
        memcpy(mt, url + 5, n);
        mt[n] = '\0';

        if (strcmp(mt, "image/jpg") == 0) {
            snprintf(mt, sizeof(mt), "image/jpeg");
        }

        kind = strcmp(mt, "application/pdf") == 0 ? "document" : "image";

    } else if (strncmp(url, "https://", 8) == 0
               || strncmp(url, "http://", 7) == 0)
    {
        comma = NULL;
        kind = document ? "document" : "image";

    } else {
        llm_anthropic_bad(cv, "%s", "image and file URLs must be data: or "
                                    "http(s): URLs");
        return NULL;
    }

    b = cJSON_CreateObject();

    if (b == NULL || cJSON_AddStringToObject(b, "type", kind) == NULL) {
        cJSON_Delete(b);
        return NULL;
    }

    src = cJSON_CreateObject();

    if (llm_anthropic_put(b, "source", src) != LLM_OK) {
        cJSON_Delete(b);
        return NULL;
    }

    if ((comma
            && (cJSON_AddStringToObject(src, "type", "base64") == NULL
                || cJSON_AddStringToObject(src, "media_type", mt) == NULL
                || cJSON_AddStringToObject(src, "data", comma + 1) == NULL))
        || (comma == NULL
            && (cJSON_AddStringToObject(src, "type", "url") == NULL
                || cJSON_AddStringToObject(src, "url", url) == NULL)))
    {
        cJSON_Delete(b);
        return NULL;
    }

    return b;
}


/* LiteLLM puts cache_control on a message; it goes on its last block */
static int
llm_anthropic_cache_last(cJSON *blocks, const cJSON *m)
{
    cJSON        *last;
    const cJSON  *cc;

    cc = cJSON_GetObjectItemCaseSensitive(m, "cache_control");
    last = cJSON_GetArrayItem(blocks, cJSON_GetArraySize(blocks) - 1);

    if (!cJSON_IsObject(cc) || last == NULL
        || cJSON_GetObjectItemCaseSensitive(last, "cache_control"))
    {
        return LLM_OK;
    }

    return llm_anthropic_put(last, "cache_control", cJSON_Duplicate(cc, 1));
}


/*
 * Appends a turn (content: a string or an array of blocks, owned from
 * here), merging it into the previous turn of the same role.  Tool
 * results go after the tool results already at the head of the turn.
 */
static int
llm_anthropic_add_turn(llm_anthropic_conv_t *cv, const char *role,
    cJSON *content, int tool_results)
{
    int           pos;
    cJSON        *last, *blocks, *b, *t;
    const cJSON  *r;

    last = cJSON_GetArrayItem(cv->turns, cJSON_GetArraySize(cv->turns) - 1);
    r = cJSON_GetObjectItemCaseSensitive(last, "role");

    if (last == NULL || !cJSON_IsString(r) || strcmp(r->valuestring, role))
    {
        t = cJSON_CreateObject();

        if (t == NULL || cJSON_AddStringToObject(t, "role", role) == NULL) {
            cJSON_Delete(t);
            cJSON_Delete(content);
            return llm_anthropic_conv_oom(cv);
        }

        if (llm_anthropic_put(t, "content", content) != LLM_OK) {
            cJSON_Delete(t);
            return llm_anthropic_conv_oom(cv);
        }

        cJSON_AddItemToArray(cv->turns, t);

        return LLM_OK;
    }

    blocks = llm_anthropic_blocks(last);
    if (blocks == NULL) {
        cJSON_Delete(content);
        return llm_anthropic_conv_oom(cv);
    }

    if (cJSON_IsString(content)) {
        b = llm_anthropic_text(content->valuestring, NULL);
        cJSON_Delete(content);

        if (b == NULL) {
            return llm_anthropic_conv_oom(cv);
        }

        cJSON_AddItemToArray(blocks, b);

        return LLM_OK;
    }

    pos = cJSON_GetArraySize(blocks);

    if (tool_results) {
        pos = 0;

        for (b = blocks->child; b; b = b->next, pos++) {
            t = cJSON_GetObjectItemCaseSensitive(b, "type");

            if (!cJSON_IsString(t) || strcmp(t->valuestring, "tool_result"))
            {
                break;
            }
        }
    }

    if (llm_anthropic_insert(blocks, pos, content) != LLM_OK) {
        return llm_anthropic_conv_oom(cv);
    }

    return LLM_OK;
}


/*
 * Moves the items of "items" into array at pos, and frees "items".
 * cJSON_InsertItemInArray() of cJSON 1.7.15 loses items inserted after
 * an insert at the head, so the tail is set aside and put back instead.
 */
static int
llm_anthropic_insert(cJSON *array, int pos, cJSON *items)
{
    cJSON  *rest, *b;

    rest = cJSON_CreateArray();
    if (rest == NULL) {
        cJSON_Delete(items);
        return LLM_ERROR;
    }

    while ((b = cJSON_DetachItemFromArray(array, pos)) != NULL) {
        cJSON_AddItemToArray(rest, b);
    }

    while (items->child) {
        b = cJSON_DetachItemViaPointer(items, items->child);
        cJSON_AddItemToArray(array, b);
    }

    while (rest->child) {
        b = cJSON_DetachItemViaPointer(rest, rest->child);
        cJSON_AddItemToArray(array, b);
    }

    cJSON_Delete(items);
    cJSON_Delete(rest);

    return LLM_OK;
}


/* the content of a turn as an array of blocks, converting a string */
static cJSON *
llm_anthropic_blocks(cJSON *turn)
{
    cJSON  *c, *blocks, *b;

    c = cJSON_GetObjectItemCaseSensitive(turn, "content");

    if (cJSON_IsArray(c)) {
        return c;
    }

    blocks = cJSON_CreateArray();
    b = llm_anthropic_text(cJSON_IsString(c) ? c->valuestring : "", NULL);

    if (blocks == NULL || b == NULL) {
        cJSON_Delete(blocks);
        cJSON_Delete(b);
        return NULL;
    }

    cJSON_AddItemToArray(blocks, b);
    cJSON_DeleteItemFromObjectCaseSensitive(turn, "content");

    return llm_anthropic_put(turn, "content", blocks) == LLM_OK
           ? blocks : NULL;
}
