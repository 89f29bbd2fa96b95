/*
 * Copyright (C) ngx_llm authors
 *
 * Anthropic responses, usage and errors -> OpenAI
 * (../shared/providers/anthropic.md, "Response mapping" and "Errors").
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_anthropic.h"


/* what the content blocks of one message amount to */
typedef struct {
    const llm_call_t  *call;
    llm_buf_t          text;
    unsigned           has_text:1;
    unsigned           json_mode:1;
    llm_buf_t          reasoning;
    cJSON             *thinking_blocks;  /* for the client to hand back */
    cJSON             *tool_calls;
    char              *json;             /* the JSON tool's input */
} llm_anthropic_msg_t;


static int llm_anthropic_read_blocks(llm_anthropic_msg_t *m,
    const cJSON *content);
static int llm_anthropic_read_block(llm_anthropic_msg_t *m,
    const cJSON *block);
static int llm_anthropic_read_tool(llm_anthropic_msg_t *m,
    const cJSON *block);
static int llm_anthropic_read_thinking(llm_anthropic_msg_t *m,
    const cJSON *block);
static cJSON *llm_anthropic_completion(const llm_call_t *call,
    llm_anthropic_msg_t *m, const char *finish, const llm_usage_t *usage);
static cJSON *llm_anthropic_message_json(llm_anthropic_msg_t *m);
static void llm_anthropic_msg_free(llm_anthropic_msg_t *m);
static int llm_anthropic_error_status(const char *type);
static void llm_anthropic_invalid(llm_error_t *err);
static long long llm_anthropic_count(const cJSON *v, long long dflt);


int
llm_anthropic_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int                     rc;
    char                   *json;
    cJSON                  *root, *res;
    const char             *finish;
    const cJSON            *type, *content, *reason, *e;
    llm_anthropic_msg_t     m;
    llm_anthropic_usage_t   au;

    root = cJSON_ParseWithLength(body, len);
    type = cJSON_GetObjectItemCaseSensitive(root, "type");

    if (cJSON_IsString(type) && strcmp(type->valuestring, "error") == 0) {
        e = cJSON_GetObjectItemCaseSensitive(root, "error");
        type = cJSON_GetObjectItemCaseSensitive(e, "type");
        reason = cJSON_GetObjectItemCaseSensitive(e, "message");

        llm_anthropic_error(err, 0,
                            cJSON_IsString(type) ? type->valuestring : NULL,
                            cJSON_IsString(reason) ? reason->valuestring
                                                   : NULL);
        cJSON_Delete(root);
        return LLM_ERROR;
    }

    content = cJSON_GetObjectItemCaseSensitive(root, "content");

    if (!cJSON_IsObject(root) || !cJSON_IsArray(content)) {
        cJSON_Delete(root);
        llm_anthropic_invalid(err);
        return LLM_ERROR;
    }

    memset(&au, 0, sizeof(llm_anthropic_usage_t));
    llm_anthropic_usage_read(&au, cJSON_GetObjectItemCaseSensitive(root,
                                                                   "usage"));
    llm_anthropic_usage_set(usage, &au);

    memset(&m, 0, sizeof(llm_anthropic_msg_t));
    m.json_mode = llm_anthropic_json_mode(call);
    m.call = call;

    reason = cJSON_GetObjectItemCaseSensitive(root, "stop_reason");
    finish = llm_anthropic_finish(cJSON_IsString(reason)
                                  ? reason->valuestring : NULL);

    res = NULL;
    json = NULL;
    rc = llm_anthropic_read_blocks(&m, content);

    if (rc == LLM_OK) {
        /* "tool_use" answered by the JSON tool alone is a plain stop */
        if (strcmp(finish, "tool_calls") == 0
            && cJSON_GetArraySize(m.tool_calls) == 0)
        {
            finish = "stop";
        }

        res = llm_anthropic_completion(call, &m, finish, usage);
        json = res ? cJSON_PrintUnformatted(res) : NULL;
    }

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        llm_anthropic_oom(err);
        rc = LLM_ERROR;
    }

    free(json);
    cJSON_Delete(res);
    cJSON_Delete(root);
    llm_anthropic_msg_free(&m);

    return rc;
}


static int
llm_anthropic_read_blocks(llm_anthropic_msg_t *m, const cJSON *content)
{
    const cJSON  *block;

    m->tool_calls = cJSON_CreateArray();
    m->thinking_blocks = cJSON_CreateArray();

    if (m->tool_calls == NULL || m->thinking_blocks == NULL) {
        return LLM_ERROR;
    }

    cJSON_ArrayForEach(block, content) {
        if (llm_anthropic_read_block(m, block) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}


static int
llm_anthropic_read_block(llm_anthropic_msg_t *m, const cJSON *block)
{
    const char   *t;
    const cJSON  *type, *text;

    type = cJSON_GetObjectItemCaseSensitive(block, "type");
    t = cJSON_IsString(type) ? type->valuestring : "";

    if (strcmp(t, "text") == 0) {
        text = cJSON_GetObjectItemCaseSensitive(block, "text");

        if (!cJSON_IsString(text)) {
            return LLM_OK;
        }

        m->has_text = 1;

        return llm_buf_appends(&m->text, text->valuestring) == 0
               ? LLM_OK : LLM_ERROR;
    }

    if (strcmp(t, "tool_use") == 0) {
        return llm_anthropic_read_tool(m, block);
    }

    if (strcmp(t, "thinking") == 0 || strcmp(t, "redacted_thinking") == 0) {
        return llm_anthropic_read_thinking(m, block);
    }

    /* server tool blocks, citations and new types are not mapped */
    return LLM_OK;
}


static int
llm_anthropic_read_tool(llm_anthropic_msg_t *m, const cJSON *block)
{
    char          id[128];
    char         *args;
    cJSON        *tc;
    const cJSON  *bid, *name, *input;

    bid = cJSON_GetObjectItemCaseSensitive(block, "id");
    name = cJSON_GetObjectItemCaseSensitive(block, "name");
    input = cJSON_GetObjectItemCaseSensitive(block, "input");

    args = input ? cJSON_PrintUnformatted(input) : strdup("{}");
    if (args == NULL) {
        return LLM_ERROR;
    }

    /* the forced JSON tool carries the answer, not a call */
    if (m->json_mode && m->json == NULL && cJSON_IsString(name)
        && strcmp(name->valuestring, LLM_ANTHROPIC_JSON_TOOL) == 0)
    {
        m->json = args;
        return LLM_OK;
    }

    if (cJSON_IsString(bid) && bid->valuestring[0]) {
        snprintf(id, sizeof(id), "%s", bid->valuestring);

    } else {
        llm_anthropic_tool_id(id, sizeof(id), m->call,
                              cJSON_GetArraySize(m->tool_calls));
    }

    tc = llm_tool_call_new(id, cJSON_GetStringValue(name), args);
    free(args);

    if (tc == NULL) {
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(m->tool_calls, tc);

    return LLM_OK;
}


/*
 * Thinking goes to reasoning_content, never into content; the blocks
 * themselves (with signatures) go to LiteLLM's thinking_blocks so that
 * a client can hand them back in the next assistant turn.
 */
static int
llm_anthropic_read_thinking(llm_anthropic_msg_t *m, const cJSON *block)
{
    cJSON        *copy;
    const cJSON  *text;

    text = cJSON_GetObjectItemCaseSensitive(block, "thinking");

    if (cJSON_IsString(text)
        && llm_buf_appends(&m->reasoning, text->valuestring) != 0)
    {
        return LLM_ERROR;
    }

    copy = cJSON_Duplicate(block, 1);
    if (copy == NULL) {
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(m->thinking_blocks, copy);

    return LLM_OK;
}


static cJSON *
llm_anthropic_completion(const llm_call_t *call, llm_anthropic_msg_t *m,
    const char *finish, const llm_usage_t *usage)
{
    cJSON  *o, *choices, *c;

    c = cJSON_CreateObject();

    if (c == NULL
        || cJSON_AddNumberToObject(c, "index", 0) == NULL
        || llm_anthropic_put(c, "message", llm_anthropic_message_json(m))
           != LLM_OK
        || cJSON_AddNullToObject(c, "logprobs") == NULL
        || cJSON_AddStringToObject(c, "finish_reason", finish) == NULL)
    {
        cJSON_Delete(c);
        return NULL;
    }

    choices = cJSON_CreateArray();
    if (choices == NULL) {
        cJSON_Delete(c);
        return NULL;
    }

    cJSON_AddItemToArray(choices, c);

    o = cJSON_CreateObject();

    if (o == NULL
        || cJSON_AddStringToObject(o, "id", call->id) == NULL
        || cJSON_AddStringToObject(o, "object", "chat.completion") == NULL
        || cJSON_AddNumberToObject(o, "created", (double) call->created)
           == NULL
        || cJSON_AddStringToObject(o, "model", call->model_name
                                               ? call->model_name : "")
           == NULL)
    {
        cJSON_Delete(o);
        cJSON_Delete(choices);
        return NULL;
    }

    if (llm_anthropic_put(o, "choices", choices) != LLM_OK
        || llm_anthropic_put(o, "usage", llm_usage_to_json(usage)) != LLM_OK)
    {
        cJSON_Delete(o);
        return NULL;
    }

    return o;
}


static cJSON *
llm_anthropic_message_json(llm_anthropic_msg_t *m)
{
    const char  *content;

    /* JSON mode: the forced tool's input is the answer */
    content = m->json ? m->json
              : m->has_text ? (m->text.data ? m->text.data : "") : NULL;

    return llm_message_new(content, m->reasoning.len ? m->reasoning.data
                                                     : NULL,
                           &m->thinking_blocks, &m->tool_calls);
}


static void
llm_anthropic_msg_free(llm_anthropic_msg_t *m)
{
    llm_buf_free(&m->text);
    llm_buf_free(&m->reasoning);
    cJSON_Delete(m->thinking_blocks);
    cJSON_Delete(m->tool_calls);
    free(m->json);
}


const char *
llm_anthropic_finish(const char *stop_reason)
{
    if (stop_reason == NULL) {
        return "stop";
    }

    if (strcmp(stop_reason, "max_tokens") == 0
        || strcmp(stop_reason, "model_context_window_exceeded") == 0)
    {
        return "length";
    }

    if (strcmp(stop_reason, "tool_use") == 0) {
        return "tool_calls";
    }

    if (strcmp(stop_reason, "refusal") == 0) {
        return "content_filter";
    }

    /* end_turn, stop_sequence, pause_turn and values yet to come */
    return "stop";
}


/* a token count, or dflt when absent or not a sane number */
static long long
llm_anthropic_count(const cJSON *v, long long dflt)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble > 1e15)
    {
        return dflt;
    }

    return (long long) v->valuedouble;
}


/*
 * Anthropic always names its tool calls; should one come without, the
 * id is derived from the reply's so that a stream translates the same
 * whatever the split.
 */
void
llm_anthropic_tool_id(char *buf, size_t size, const llm_call_t *call, int k)
{
    const char  *id;

    id = call->id;

    if (strncmp(id, "chatcmpl-", 9) == 0) {
        id += 9;
    }

    snprintf(buf, size, "call_%s_%d", id, k);
}


void
llm_anthropic_usage_read(llm_anthropic_usage_t *au, const cJSON *u)
{
    if (!cJSON_IsObject(u)) {
        return;
    }

    au->present = 1;
    au->input = llm_anthropic_count(
                    cJSON_GetObjectItemCaseSensitive(u, "input_tokens"),
                    au->input);
    au->cache_write = llm_anthropic_count(
                          cJSON_GetObjectItemCaseSensitive(u,
                                        "cache_creation_input_tokens"),
                          au->cache_write);
    au->cache_read = llm_anthropic_count(
                         cJSON_GetObjectItemCaseSensitive(u,
                                           "cache_read_input_tokens"),
                         au->cache_read);
    au->output = llm_anthropic_count(
                     cJSON_GetObjectItemCaseSensitive(u, "output_tokens"),
                     au->output);
}


/* Anthropic's input_tokens excludes the cache reads and writes */
void
llm_anthropic_usage_set(llm_usage_t *u, const llm_anthropic_usage_t *au)
{
    memset(u, 0, sizeof(llm_usage_t));

    u->prompt_tokens = au->input + au->cache_write + au->cache_read;
    u->completion_tokens = au->output;
    u->total_tokens = u->prompt_tokens + u->completion_tokens;
    u->cached_tokens = au->cache_read;
    u->cache_write_tokens = au->cache_write;
    u->present = au->present;
}


static void
llm_anthropic_invalid(llm_error_t *err)
{
    llm_error_set(err, 502, "server_error", NULL, NULL,
                  "anthropic: upstream sent an invalid response");
}


void
llm_anthropic_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err)
{
    char          text[256];
    size_t        n;
    cJSON        *root;
    const char   *type, *msg;
    const cJSON  *e, *v;

    root = cJSON_ParseWithLength(body, len);
    e = cJSON_GetObjectItemCaseSensitive(root, "error");

    v = cJSON_GetObjectItemCaseSensitive(e, "type");
    type = cJSON_IsString(v) ? v->valuestring : NULL;

    v = cJSON_IsString(e) ? e : cJSON_GetObjectItemCaseSensitive(e,
                                                                 "message");
    msg = cJSON_IsString(v) ? v->valuestring : NULL;

    if (msg == NULL && root == NULL && len) {
        /* a proxy's text or HTML page: its start is the best clue */
        n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

        /* not in the middle of a UTF-8 sequence */
        while (n < len && n && (body[n] & 0xc0) == 0x80) {
            n--;
        }

        memcpy(text, body, n);
        text[n] = '\0';
        msg = text;
    }

    llm_anthropic_error(err, status, type, msg);

    cJSON_Delete(root);
}


void
llm_anthropic_error(llm_error_t *err, int status, const char *type,
    const char *message)
{
    if (status < 400 && type) {
        status = llm_anthropic_error_status(type);
    }

    llm_error_from_upstream(err, "anthropic", status, type, NULL, message);
}


/* the HTTP status Anthropic pairs with an error type */
static int
llm_anthropic_error_status(const char *type)
{
    static const struct {
        const char  *type;
        int          status;
    } map[] = {
        { "invalid_request_error", 400 },
        { "authentication_error", 401 },
        { "billing_error", 402 },
        { "permission_error", 403 },
        { "not_found_error", 404 },
        { "request_too_large", 413 },
        { "rate_limit_error", 429 },
        { "api_error", 500 },
        { "timeout_error", 504 },
        { "overloaded_error", 529 },
        { NULL, 0 }
    };

    int  i;

    for (i = 0; map[i].type; i++) {
        if (strcmp(map[i].type, type) == 0) {
            return map[i].status;
        }
    }

    return 500;
}
