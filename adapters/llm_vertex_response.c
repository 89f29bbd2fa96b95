/*
 * Copyright (C) ngx_llm authors
 *
 * Gemini generateContent responses -> OpenAI chat.completion
 * (../shared/providers/vertex.md, "Gemini response mapping").  Also the
 * pieces the stream shares: finish reasons, usage, tool-call ids.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_vertex.h"


/* what the parts of one candidate amount to */
typedef struct {
    llm_buf_t   text;
    llm_buf_t   reasoning;
    cJSON      *tool_calls;
    unsigned    has_text:1;
} llm_vertex_msg_t;


static cJSON *llm_vertex_choices(const llm_call_t *call,
    const cJSON *cands);
static cJSON *llm_vertex_choice(const llm_call_t *call, const cJSON *cand,
    int index, int *k);
static int llm_vertex_read_part(const llm_call_t *call,
    llm_vertex_msg_t *m, const cJSON *part, int *k);
static cJSON *llm_vertex_tool_call(const llm_call_t *call, int k,
    const cJSON *part);
static cJSON *llm_vertex_message(llm_vertex_msg_t *m);
static cJSON *llm_vertex_blocked_choice(void);
static cJSON *llm_vertex_logprobs(const cJSON *lr);
static cJSON *llm_vertex_logprob(const cJSON *c, const cJSON *top);
static long long llm_vertex_count(const cJSON *o, const char *name);


int
llm_vertex_gemini_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int           rc;
    char         *json;
    cJSON        *root, *res, *choices;
    const cJSON  *cands, *fb, *e;

    root = cJSON_ParseWithLength(body, len);
    e = cJSON_GetObjectItemCaseSensitive(root, "error");

    if (cJSON_IsObject(e)) {
        llm_vertex_google_error(err, 0, e);
        cJSON_Delete(root);
        return LLM_ERROR;
    }

    cands = cJSON_GetObjectItemCaseSensitive(root, "candidates");
    fb = cJSON_GetObjectItemCaseSensitive(root, "promptFeedback");

    /* no candidates is an answer only when the prompt was blocked */
    if (!cJSON_IsObject(root)
        || (!cJSON_IsArray(cands)
            && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                                   fb, "blockReason"))))
    {
        cJSON_Delete(root);
        llm_vertex_invalid(err);
        return LLM_ERROR;
    }

    llm_vertex_usage(usage, cJSON_GetObjectItemCaseSensitive(root,
                                                             "usageMetadata"));

    rc = LLM_ERROR;
    json = NULL;
    res = cJSON_CreateObject();
    choices = llm_vertex_choices(call, cands);

    if (res == NULL || choices == NULL
        || cJSON_AddStringToObject(res, "id", call->id) == NULL
        || cJSON_AddStringToObject(res, "object", "chat.completion") == NULL
        || cJSON_AddNumberToObject(res, "created", (double) call->created)
           == NULL
        || cJSON_AddStringToObject(res, "model", call->model_name
                                                 ? call->model_name : "")
           == NULL)
    {
        cJSON_Delete(choices);
        goto done;
    }

    cJSON_AddItemToObject(res, "choices", choices);

    if (llm_vertex_put(res, "usage", llm_usage_to_json(usage)) != LLM_OK) {
        goto done;
    }

    json = cJSON_PrintUnformatted(res);

    if (json && llm_buf_appends(out, json) == 0) {
        rc = LLM_OK;
    }

done:

    if (rc != LLM_OK) {
        llm_vertex_oom(err);
    }

    free(json);
    cJSON_Delete(res);
    cJSON_Delete(root);

    return rc;
}


static cJSON *
llm_vertex_choices(const llm_call_t *call, const cJSON *cands)
{
    int           i, k;
    cJSON        *choices, *c;
    const cJSON  *cand;

    choices = cJSON_CreateArray();
    if (choices == NULL) {
        return NULL;
    }

    i = 0;
    k = 0;

    cJSON_ArrayForEach(cand, cands) {
        c = llm_vertex_choice(call, cand, i++, &k);

        if (c == NULL || !cJSON_AddItemToArray(choices, c)) {
            cJSON_Delete(c);
            cJSON_Delete(choices);
            return NULL;
        }
    }

    /* a blocked prompt: no candidates, promptFeedback.blockReason */
    if (choices->child == NULL) {
        c = llm_vertex_blocked_choice();

        if (c == NULL || !cJSON_AddItemToArray(choices, c)) {
            cJSON_Delete(c);
            cJSON_Delete(choices);
            return NULL;
        }
    }

    return choices;
}


static cJSON *
llm_vertex_choice(const llm_call_t *call, const cJSON *cand, int index,
    int *k)
{
    cJSON             *c, *lp;
    const char        *reason;
    const cJSON       *v, *part;
    llm_vertex_msg_t   m;

    memset(&m, 0, sizeof(llm_vertex_msg_t));
    m.tool_calls = cJSON_CreateArray();
    c = cJSON_CreateObject();

    if (m.tool_calls == NULL || c == NULL) {
        goto failed;
    }

    cJSON_ArrayForEach(part, cJSON_GetObjectItemCaseSensitive(
                                 cJSON_GetObjectItemCaseSensitive(cand,
                                                                  "content"),
                                 "parts"))
    {
        if (llm_vertex_read_part(call, &m, part, k) != LLM_OK) {
            goto failed;
        }
    }

    v = cJSON_GetObjectItemCaseSensitive(cand, "index");

    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e6) {
        index = (int) v->valuedouble;
    }

    reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                      cand, "finishReason"));

    /* before llm_vertex_message() takes the tool calls */
    reason = llm_vertex_finish(reason, cJSON_GetArraySize(m.tool_calls) > 0);

    lp = llm_vertex_logprobs(cJSON_GetObjectItemCaseSensitive(
                                 cand, "logprobsResult"));

    if (cJSON_AddNumberToObject(c, "index", index) == NULL
        || llm_vertex_put(c, "message", llm_vertex_message(&m)) != LLM_OK
        || llm_vertex_put(c, "logprobs", lp ? lp : cJSON_CreateNull())
           != LLM_OK
        || cJSON_AddStringToObject(c, "finish_reason", reason) == NULL)
    {
        goto failed;
    }

    llm_buf_free(&m.text);
    llm_buf_free(&m.reasoning);
    cJSON_Delete(m.tool_calls);

    return c;

failed:

    llm_buf_free(&m.text);
    llm_buf_free(&m.reasoning);
    cJSON_Delete(m.tool_calls);
    cJSON_Delete(c);

    return NULL;
}


static int
llm_vertex_read_part(const llm_call_t *call, llm_vertex_msg_t *m,
    const cJSON *part, int *k)
{
    cJSON        *tc;
    const cJSON  *text;

    text = cJSON_GetObjectItemCaseSensitive(part, "text");

    if (cJSON_IsString(text)) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(part, "thought")))
        {
            return llm_buf_appends(&m->reasoning, text->valuestring) == 0
                   ? LLM_OK : LLM_ERROR;
        }

        m->has_text = 1;

        return llm_buf_appends(&m->text, text->valuestring) == 0
               ? LLM_OK : LLM_ERROR;
    }

    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(part,
                                                         "functionCall")))
    {
        /* inline data, executable code and parts yet to come */
        return LLM_OK;
    }

    tc = llm_vertex_tool_call(call, (*k)++, part);

    if (tc == NULL) {
        return LLM_ERROR;
    }

    cJSON_AddItemToArray(m->tool_calls, tc);

    return LLM_OK;
}


static cJSON *
llm_vertex_tool_call(const llm_call_t *call, int k, const cJSON *part)
{
    char         *id, *args;
    cJSON        *tc;
    const char   *name;
    const cJSON  *fc, *a;

    fc = cJSON_GetObjectItemCaseSensitive(part, "functionCall");
    name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(fc, "name"));
    a = cJSON_GetObjectItemCaseSensitive(fc, "args");

    id = llm_vertex_tool_id(call, k, part);
    args = cJSON_IsObject(a) ? cJSON_PrintUnformatted(a) : strdup("{}");

    tc = (id && args) ? llm_tool_call_new(id, name, args) : NULL;

    free(id);
    free(args);

    return tc;
}


char *
llm_vertex_tool_id(const llm_call_t *call, int k, const cJSON *part)
{
    const char   *fid, *sig, *rid;
    llm_buf_t     b;

    fid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                   cJSON_GetObjectItemCaseSensitive(
                                       part, "functionCall"), "id"));
    sig = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                   part, "thoughtSignature"));

    memset(&b, 0, sizeof(llm_buf_t));

    rid = call->id;

    if (strncmp(rid, "chatcmpl-", 9) == 0) {
        rid += 9;
    }

    /* derived from the reply id: the same whatever the stream's split */
    if ((fid && fid[0] ? llm_buf_appends(&b, fid)
                       : llm_buf_printf(&b, "call_%s_%d", rid, k)) != 0
        || (sig && sig[0]
            && (llm_buf_appends(&b, LLM_VERTEX_THOUGHT_SEP) != 0
                || llm_buf_appends(&b, sig) != 0)))
    {
        llm_buf_free(&b);
        return NULL;
    }

    return b.data;
}


static cJSON *
llm_vertex_message(llm_vertex_msg_t *m)
{
    cJSON  *msg, *content;

    msg = cJSON_CreateObject();
    if (msg == NULL) {
        return NULL;
    }

    if (m->has_text) {
        content = cJSON_CreateString(m->text.data ? m->text.data : "");

    } else {
        content = cJSON_CreateNull();
    }

    if (cJSON_AddStringToObject(msg, "role", "assistant") == NULL
        || llm_vertex_put(msg, "content", content) != LLM_OK
        || cJSON_AddNullToObject(msg, "refusal") == NULL
        || (m->reasoning.len
            && cJSON_AddStringToObject(msg, "reasoning_content",
                                       m->reasoning.data) == NULL))
    {
        cJSON_Delete(msg);
        return NULL;
    }

    if (cJSON_GetArraySize(m->tool_calls)) {
        cJSON_AddItemToObject(msg, "tool_calls", m->tool_calls);
        m->tool_calls = NULL;
    }

    return msg;
}


static cJSON *
llm_vertex_blocked_choice(void)
{
    return cJSON_Parse("{\"index\":0,\"message\":{\"role\":\"assistant\","
                       "\"content\":null,\"refusal\":null},\"logprobs\":null,"
                       "\"finish_reason\":\"content_filter\"}");
}


/*
 * logprobsResult {chosenCandidates:[{token, logProbability}],
 * topCandidates:[{candidates:[...]}]} -> {content:[{token, logprob,
 * bytes, top_logprobs}]}
 */
static cJSON *
llm_vertex_logprobs(const cJSON *lr)
{
    int           i;
    cJSON        *o, *content, *e;
    const cJSON  *chosen, *top, *c;

    chosen = cJSON_GetObjectItemCaseSensitive(lr, "chosenCandidates");

    if (!cJSON_IsArray(chosen)) {
        return NULL;
    }

    top = cJSON_GetObjectItemCaseSensitive(lr, "topCandidates");

    o = cJSON_CreateObject();
    content = o ? cJSON_AddArrayToObject(o, "content") : NULL;

    if (content == NULL) {
        cJSON_Delete(o);
        return NULL;
    }

    i = 0;

    cJSON_ArrayForEach(c, chosen) {
        e = llm_vertex_logprob(c, cJSON_GetObjectItemCaseSensitive(
                                      cJSON_GetArrayItem(top, i++),
                                      "candidates"));

        if (e == NULL || !cJSON_AddItemToArray(content, e)) {
            cJSON_Delete(e);
            cJSON_Delete(o);
            return NULL;
        }
    }

    return o;
}


static cJSON *
llm_vertex_logprob(const cJSON *c, const cJSON *top)
{
    cJSON        *e, *tl, *t;
    const char   *tok;
    const cJSON  *lp, *x;

    tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "token"));
    lp = cJSON_GetObjectItemCaseSensitive(c, "logProbability");

    e = cJSON_CreateObject();

    if (e == NULL
        || cJSON_AddStringToObject(e, "token", tok ? tok : "") == NULL
        || cJSON_AddNumberToObject(e, "logprob", cJSON_IsNumber(lp)
                                                 ? lp->valuedouble : 0)
           == NULL
        || cJSON_AddNullToObject(e, "bytes") == NULL
        || (tl = cJSON_AddArrayToObject(e, "top_logprobs")) == NULL)
    {
        cJSON_Delete(e);
        return NULL;
    }

    cJSON_ArrayForEach(x, top) {
        tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x,
                                                                   "token"));
        lp = cJSON_GetObjectItemCaseSensitive(x, "logProbability");

        t = cJSON_CreateObject();

        if (t == NULL || !cJSON_AddItemToArray(tl, t)
            || cJSON_AddStringToObject(t, "token", tok ? tok : "") == NULL
            || cJSON_AddNumberToObject(t, "logprob", cJSON_IsNumber(lp)
                                                     ? lp->valuedouble : 0)
               == NULL
            || cJSON_AddNullToObject(t, "bytes") == NULL)
        {
            cJSON_Delete(t);
            cJSON_Delete(e);
            return NULL;
        }
    }

    return e;
}


const char *
llm_vertex_finish(const char *reason, int tools)
{
    static const char *const  filtered[] = {
        "SAFETY", "RECITATION", "LANGUAGE", "BLOCKLIST",
        "PROHIBITED_CONTENT", "SPII", "OTHER", "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "IMAGE_OTHER",
        "NO_IMAGE", NULL
    };

    const char *const  *f;

    if (reason == NULL) {
        return tools ? "tool_calls" : "stop";
    }

    if (strcmp(reason, "MAX_TOKENS") == 0) {
        return "length";
    }

    for (f = filtered; *f; f++) {
        if (strcmp(*f, reason) == 0) {
            return "content_filter";
        }
    }

    /* STOP, MALFORMED_FUNCTION_CALL, FINISH_REASON_UNSPECIFIED, ... */
    return tools ? "tool_calls" : "stop";
}


/* a token count, 0 when absent or not a sane number */
static long long
llm_vertex_count(const cJSON *o, const char *name)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0)
        || v->valuedouble > 1e15)
    {
        return 0;
    }

    return (long long) v->valuedouble;
}


/*
 * promptTokenCount already includes the cached tokens; thoughts are
 * billed as output, so they are part of completion_tokens.
 */
void
llm_vertex_usage(llm_usage_t *u, const cJSON *um)
{
    long long  thoughts;

    if (!cJSON_IsObject(um)) {
        return;
    }

    thoughts = llm_vertex_count(um, "thoughtsTokenCount");

    memset(u, 0, sizeof(llm_usage_t));

    u->prompt_tokens = llm_vertex_count(um, "promptTokenCount")
                       + llm_vertex_count(um, "toolUsePromptTokenCount");
    u->completion_tokens = llm_vertex_count(um, "candidatesTokenCount")
                           + thoughts;
    u->total_tokens = u->prompt_tokens + u->completion_tokens;
    u->cached_tokens = llm_vertex_count(um, "cachedContentTokenCount");
    u->reasoning_tokens = thoughts;
    u->present = 1;
}
