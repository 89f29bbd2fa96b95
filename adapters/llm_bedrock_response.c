/*
 * Copyright (C) ngx_llm authors
 *
 * Converse responses, usage and errors -> OpenAI
 * (../shared/providers/bedrock.md, "Converse response mapping" and
 * "Errors").
 */


#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_bedrock.h"


/* what the content blocks of the output message amount to */
typedef struct {
    const llm_call_t  *call;
    llm_buf_t          text;
    unsigned           has_text:1;
    llm_buf_t          reasoning;
    cJSON             *thinking_blocks;
    cJSON             *tool_calls;
} llm_bedrock_msg_t;


static int llm_bedrock_read_block(llm_bedrock_msg_t *m, const cJSON *block);
static int llm_bedrock_read_tool(llm_bedrock_msg_t *m, const cJSON *tu);
static int llm_bedrock_read_reasoning(llm_bedrock_msg_t *m,
    const cJSON *rc);
static cJSON *llm_bedrock_completion(const llm_call_t *call,
    llm_bedrock_msg_t *m, const char *finish, const llm_usage_t *usage);
static cJSON *llm_bedrock_message_json(llm_bedrock_msg_t *m);
static void llm_bedrock_msg_free(llm_bedrock_msg_t *m);
static long long llm_bedrock_count(const cJSON *v);
static int llm_bedrock_guess_status(int status, const char *msg);
static const char *llm_bedrock_type_name(const char *type, char *buf,
    size_t size);


int
llm_bedrock_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int                 rc;
    char               *json;
    cJSON              *root, *res;
    const char         *finish;
    const cJSON        *msg, *content, *block, *reason;
    llm_bedrock_msg_t   m;

    root = cJSON_ParseWithLength(body, len);

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        rc = llm_bedrock_embed_response(call, root, out, usage, err);
        cJSON_Delete(root);
        return rc;
    }

    msg = cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(root, "output"), "message");
    content = cJSON_GetObjectItemCaseSensitive(msg, "content");

    if (!cJSON_IsArray(content)) {
        cJSON_Delete(root);
        llm_bedrock_invalid(err);
        return LLM_ERROR;
    }

    memset(usage, 0, sizeof(llm_usage_t));
    llm_bedrock_usage(usage, cJSON_GetObjectItemCaseSensitive(root, "usage"));

    memset(&m, 0, sizeof(llm_bedrock_msg_t));
    m.call = call;
    m.tool_calls = cJSON_CreateArray();
    m.thinking_blocks = cJSON_CreateArray();

    rc = (m.tool_calls && m.thinking_blocks) ? LLM_OK : LLM_ERROR;

    cJSON_ArrayForEach(block, content) {
        if (rc == LLM_OK) {
            rc = llm_bedrock_read_block(&m, block);
        }
    }

    reason = cJSON_GetObjectItemCaseSensitive(root, "stopReason");
    finish = llm_bedrock_finish(cJSON_IsString(reason) ? reason->valuestring
                                                       : NULL);
    res = NULL;
    json = NULL;

    if (rc == LLM_OK) {
        res = llm_bedrock_completion(call, &m, finish, usage);
        json = res ? cJSON_PrintUnformatted(res) : NULL;
    }

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        llm_bedrock_oom(err);
        rc = LLM_ERROR;
    }

    free(json);
    cJSON_Delete(res);
    cJSON_Delete(root);
    llm_bedrock_msg_free(&m);

    return rc;
}


/* text, toolUse and reasoningContent; images, citations... not mapped */
static int
llm_bedrock_read_block(llm_bedrock_msg_t *m, const cJSON *block)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(block, "text");

    if (cJSON_IsString(v)) {
        m->has_text = 1;

        return llm_buf_appends(&m->text, v->valuestring) == 0
               ? LLM_OK : LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(block, "toolUse");

    if (cJSON_IsObject(v)) {
        return llm_bedrock_read_tool(m, v);
    }

    v = cJSON_GetObjectItemCaseSensitive(block, "reasoningContent");

    if (cJSON_IsObject(v)) {
        return llm_bedrock_read_reasoning(m, v);
    }

    return LLM_OK;
}


static int
llm_bedrock_read_tool(llm_bedrock_msg_t *m, const cJSON *tu)
{
    char          id[128];
    char         *args;
    cJSON        *tc;
    const cJSON  *tid, *name, *input;

    tid = cJSON_GetObjectItemCaseSensitive(tu, "toolUseId");
    name = cJSON_GetObjectItemCaseSensitive(tu, "name");
    input = cJSON_GetObjectItemCaseSensitive(tu, "input");

    args = input ? cJSON_PrintUnformatted(input) : strdup("{}");
    if (args == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_IsString(tid) && tid->valuestring[0]) {
        snprintf(id, sizeof(id), "%s", tid->valuestring);

    } else {
        snprintf(id, sizeof(id), "call_%s_%d",
                 strncmp(m->call->id, "chatcmpl-", 9) == 0
                 ? m->call->id + 9 : m->call->id,
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
 * reasoningText.text -> reasoning_content; the block also goes to
 * LiteLLM's thinking_blocks (Anthropic's shape, with the signature) so
 * that a client can hand it back on the next turn.
 */
static int
llm_bedrock_read_reasoning(llm_bedrock_msg_t *m, const cJSON *rc)
{
    cJSON        *tb;
    const cJSON  *rt, *text, *sig, *red;

    rt = cJSON_GetObjectItemCaseSensitive(rc, "reasoningText");
    text = cJSON_GetObjectItemCaseSensitive(rt, "text");
    sig = cJSON_GetObjectItemCaseSensitive(rt, "signature");
    red = cJSON_GetObjectItemCaseSensitive(rc, "redactedContent");

    tb = cJSON_CreateObject();
    if (tb == NULL) {
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(m->thinking_blocks, tb);

    if (cJSON_IsString(red)) {
        return cJSON_AddStringToObject(tb, "type", "redacted_thinking")
               && cJSON_AddStringToObject(tb, "data", red->valuestring)
               ? LLM_OK : LLM_ERROR;
    }

    if (cJSON_IsString(text)
        && llm_buf_appends(&m->reasoning, text->valuestring) != 0)
    {
        return LLM_ERROR;
    }

    if (cJSON_AddStringToObject(tb, "type", "thinking") == NULL
        || cJSON_AddStringToObject(tb, "thinking", cJSON_IsString(text)
                                                   ? text->valuestring : "")
           == NULL
        || (cJSON_IsString(sig)
            && cJSON_AddStringToObject(tb, "signature", sig->valuestring)
               == NULL))
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


static cJSON *
llm_bedrock_completion(const llm_call_t *call, llm_bedrock_msg_t *m,
    const char *finish, const llm_usage_t *usage)
{
    cJSON  *o, *choices, *c;

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
        return NULL;
    }

    choices = cJSON_AddArrayToObject(o, "choices");
    c = cJSON_CreateObject();

    if (choices == NULL || c == NULL) {
        cJSON_Delete(c);
        cJSON_Delete(o);
        return NULL;
    }

    cJSON_AddItemToArray(choices, c);

    if (cJSON_AddNumberToObject(c, "index", 0) == NULL
        || llm_bedrock_put(c, "message", llm_bedrock_message_json(m))
           != LLM_OK
        || cJSON_AddNullToObject(c, "logprobs") == NULL
        || cJSON_AddStringToObject(c, "finish_reason", finish) == NULL
        || llm_bedrock_put(o, "usage", llm_usage_to_json(usage)) != LLM_OK)
    {
        cJSON_Delete(o);
        return NULL;
    }

    return o;
}


static cJSON *
llm_bedrock_message_json(llm_bedrock_msg_t *m)
{
    const char  *content;

    content = m->has_text ? (m->text.data ? m->text.data : "") : NULL;

    return llm_message_new(content, m->reasoning.len ? m->reasoning.data
                                                     : NULL,
                           &m->thinking_blocks, &m->tool_calls);
}


static void
llm_bedrock_msg_free(llm_bedrock_msg_t *m)
{
    llm_buf_free(&m->text);
    llm_buf_free(&m->reasoning);
    cJSON_Delete(m->thinking_blocks);
    cJSON_Delete(m->tool_calls);
}


const char *
llm_bedrock_finish(const char *stop_reason)
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

    if (strcmp(stop_reason, "guardrail_intervened") == 0
        || strcmp(stop_reason, "content_filtered") == 0)
    {
        return "content_filter";
    }

    /* end_turn, stop_sequence, malformed_* and values yet to come */
    return "stop";
}


/* a token count, or 0 when absent or not a sane number */
static long long
llm_bedrock_count(const cJSON *v)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble > 1e15)
    {
        return 0;
    }

    return (long long) v->valuedouble;
}


/*
 * inputTokens is the uncached part only: the prompt is the sum of it
 * and the cache reads and writes.
 */
void
llm_bedrock_usage(llm_usage_t *u, const cJSON *usage)
{
    long long  in, rd, wr;

    if (!cJSON_IsObject(usage)) {
        return;
    }

    in = llm_bedrock_count(cJSON_GetObjectItemCaseSensitive(usage,
                                                            "inputTokens"));
    rd = llm_bedrock_count(cJSON_GetObjectItemCaseSensitive(usage,
                                                    "cacheReadInputTokens"));
    wr = llm_bedrock_count(cJSON_GetObjectItemCaseSensitive(usage,
                                                   "cacheWriteInputTokens"));

    u->prompt_tokens = in + rd + wr;
    u->completion_tokens = llm_bedrock_count(
                               cJSON_GetObjectItemCaseSensitive(usage,
                                                            "outputTokens"));
    u->total_tokens = u->prompt_tokens + u->completion_tokens;
    u->cached_tokens = rd;
    u->cache_write_tokens = wr;
    u->present = 1;
}


/*
 * rest-json errors name the exception in the x-amzn-ErrorType header,
 * which the glue does not hand over; a body's "__type" (other AWS
 * protocols, proxies) is used when present, else the status and the
 * message tell the exceptions that share a status apart.
 */
void
llm_bedrock_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err)
{
    char          text[256];
    size_t        n;
    cJSON        *root;
    const char   *type, *msg;
    const cJSON  *v;

    root = cJSON_ParseWithLength(body, len);

    v = cJSON_GetObjectItemCaseSensitive(root, "message");
    if (!cJSON_IsString(v)) {
        v = cJSON_GetObjectItemCaseSensitive(root, "Message");
    }

    msg = cJSON_IsString(v) ? v->valuestring : NULL;

    v = cJSON_GetObjectItemCaseSensitive(root, "__type");
    type = cJSON_IsString(v) ? v->valuestring : NULL;

    if (msg == NULL && root == NULL && len) {
        /* a proxy's text or HTML page: its start is the best clue */
        n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

        while (n < len && n && (body[n] & 0xc0) == 0x80) {
            n--;
        }

        memcpy(text, body, n);
        text[n] = '\0';
        msg = text;
    }

    llm_bedrock_error(err, status, type, msg);

    cJSON_Delete(root);
}


void
llm_bedrock_error(llm_error_t *err, int status, const char *type,
    const char *message)
{
    int          i, st;
    char         name[64];
    const char  *t;

    static const struct {
        const char  *name;
        int          status;
    } map[] = {
        { "ValidationException", 400 },
        { "AccessDeniedException", 403 },
        { "UnrecognizedClientException", 401 },
        { "InvalidSignatureException", 401 },
        { "IncompleteSignatureException", 401 },
        { "MissingAuthenticationTokenException", 401 },
        { "ExpiredTokenException", 401 },
        { "ResourceNotFoundException", 404 },
        { "ModelTimeoutException", 408 },
        { "ModelErrorException", 424 },
        { "ModelStreamErrorException", 424 },
        { "ThrottlingException", 429 },
        { "ServiceQuotaExceededException", 429 },
        { "ModelNotReadyException", 503 },
        { "InternalServerException", 500 },
        { "ServiceUnavailableException", 503 },
        { NULL, 0 }
    };

    t = llm_bedrock_type_name(type, name, sizeof(name));
    st = 0;

    for (i = 0; t && map[i].name; i++) {
        if (strcasecmp(map[i].name, t) == 0) {
            st = map[i].status;
            break;
        }
    }

    if (st == 0) {
        st = llm_bedrock_guess_status(status, message);
    }

    /* the model failed (ModelErrorException): not the client's fault */
    if (st == 424) {
        st = 502;
    }

    llm_error_from_upstream(err, LLM_BEDROCK_NAME, st, t, NULL, message);
}


/* "ns#Name:url" -> "Name" */
static const char *
llm_bedrock_type_name(const char *type, char *buf, size_t size)
{
    size_t       n;
    const char  *p;

    if (type == NULL || type[0] == '\0') {
        return NULL;
    }

    p = strrchr(type, '#');
    p = p ? p + 1 : type;
    n = strcspn(p, ":");

    if (n == 0 || n >= size) {
        return NULL;
    }

    memcpy(buf, p, n);
    buf[n] = '\0';

    return buf;
}


/* the status an exception without a name stands for */
static int
llm_bedrock_guess_status(int status, const char *msg)
{
    static const char  *auth[] = {
        "signature", "security token", "authentication token",
        "authorization header", "credential", "api key", "bearer",
        "not authorized to use this api key", NULL
    };

    const char  **a;

    if (status == 0) {
        /* in a stream: an unnamed failure of the service */
        return 500;
    }

    if (msg == NULL) {
        return status;
    }

    /* the front door refuses bad credentials with a 403 */
    if (status == 403) {
        for (a = auth; *a; a++) {
            if (strcasestr(msg, *a)) {
                return 401;
            }
        }
    }

    if (status == 429 && strcasestr(msg, "not ready")) {
        return 503;
    }

    if (status == 400 && strcasestr(msg, "service quota")) {
        return 429;
    }

    return status;
}
