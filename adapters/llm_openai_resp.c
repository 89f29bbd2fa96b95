/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI-dialect responses: chat completions, embeddings and errors.
 * The body already is OpenAI-shaped; the gateway rewrites id, created
 * and model, fills the keys the spec requires, reads usage, and evens
 * out Mistral's and Groq's deviations.
 */


#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_openai.h"


/* the members of an answer's root that the fast path reads or sets */
typedef struct {
    const llm_json_member_t   *id;
    const llm_json_member_t   *object;
    const llm_json_member_t   *created;
    const llm_json_member_t   *model;
    const llm_json_member_t   *choices;
    const llm_json_member_t   *data;
    const llm_json_member_t   *usage;
} llm_openai_root_t;


static int llm_openai_fast_root(const llm_json_obj_t *o, const char *p,
    llm_openai_root_t *r);
static int llm_openai_fast_choice(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, llm_json_splice_t *sp, llm_json_obj_t *c,
    llm_json_obj_t *m);
static long long llm_openai_fast_count(const llm_json_member_t *m,
    const char *p);
static int llm_openai_chat(const llm_call_t *call, cJSON *root,
    llm_usage_t *usage, llm_error_t *err);
static int llm_openai_embeddings(const llm_call_t *call, cJSON *root,
    llm_usage_t *usage, llm_error_t *err);
static int llm_openai_choice(const llm_call_t *call, cJSON *c);
static cJSON *llm_openai_embed_usage(const llm_usage_t *usage);
static int llm_put(cJSON *o, const char *key, cJSON *v);
static int llm_openai_ensure_null(cJSON *o, const char *key);
static int llm_openai_join_part(const cJSON *part, llm_buf_t *text,
    llm_buf_t *thinking);
static long long llm_openai_count(const cJSON *o, const char *key);
static const char *llm_openai_text(const cJSON *o, const char *key);
static const char *llm_openai_str(const cJSON *o, const char *key, char *buf,
    size_t size);
static void llm_openai_invalid(const llm_call_t *call, llm_error_t *err);
static int llm_openai_error_status(int status, const cJSON *eo,
    const char *code, const char *msg);


int
llm_openai_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int  rc;

    rc = llm_openai_fast_response(call, body, len, out, usage);

    if (rc == LLM_DECLINED) {
        return llm_openai_response_tree(call, body, len, out, usage, err);
    }

    if (rc != LLM_OK) {
        llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
    }

    return rc;
}


int
llm_openai_response_tree(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    int     rc;
    char   *json;
    cJSON  *root;

    memset(usage, 0, sizeof(llm_usage_t));

    root = cJSON_ParseWithLength(body, len);

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        llm_openai_invalid(call, err);
        return LLM_ERROR;
    }

    rc = call->endpoint == LLM_ENDPOINT_EMBEDDINGS
         ? llm_openai_embeddings(call, root, usage, err)
         : llm_openai_chat(call, root, usage, err);

    if (rc != LLM_OK) {
        cJSON_Delete(root);
        return rc;
    }

    json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);

    if (json == NULL || llm_buf_appends(out, json) != 0) {
        free(json);
        llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
        return LLM_ERROR;
    }

    free(json);

    return LLM_OK;
}


/*
 * An OpenAI answer already is what the client gets, but for id, object,
 * created and model, and the keys llm_openai_choice() fills in when a
 * server leaves them out.  So the upstream bytes are spliced, and only
 * usage is read.  Each object is read in one pass over its members.
 * Declined: a body the cJSON path would refuse or rewrite more deeply
 * (content parts, escaped keys, or a key read here that appears twice:
 * which one counts would depend on the reader; other duplicates are
 * relayed, by both paths).
 */
int
llm_openai_fast_response(const llm_call_t *call, const char *p, size_t len,
    llm_buf_t *out, llm_usage_t *usage)
{
    int                 rc;
    char                created[24];
    size_t              count, pos, v, ve, saved;
    const char         *model, *ct;
    llm_json_obj_t      root, c, m;
    llm_json_tape_t     tape;
    llm_openai_root_t   r;
    llm_json_splice_t   sp;

    memset(usage, 0, sizeof(llm_usage_t));

    if (call->dep->provider != LLM_PROVIDER_OPENAI
        || llm_json_scan(p, len, &root, &tape) != 0
        || root.escaped
        || llm_openai_fast_root(&root, p, &r) != LLM_OK)
    {
        return LLM_DECLINED;
    }

    llm_json_splice_init(&sp, p, &root);
    count = root.n;
    model = call->model_name ? call->model_name : "";

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        if (r.data == NULL || p[r.data->val] != '[') {
            return LLM_DECLINED;
        }

        llm_json_put(&sp, &root, r.model, &count, "model", 5, model,
                     strlen(model), 1);

    } else {
        if (r.choices == NULL || p[r.choices->val] != '[') {
            return LLM_DECLINED;
        }

        pos = 0;

        while ((rc = llm_json_array_next(p, &tape, r.choices->val,
                                         r.choices->val_end, &pos, &v, &ve))
               == 1)
        {
            if (p[v] == '{'
                && llm_openai_fast_choice(p, &tape, v, ve, &sp, &c, &m)
                   != LLM_OK)
            {
                return LLM_DECLINED;
            }
        }

        if (rc != 0) {
            return LLM_DECLINED;
        }

        ct = llm_json_int(created, call->created);

        llm_json_put(&sp, &root, r.id, &count, "id", 2, call->id,
                     strlen(call->id), 1);
        llm_json_put(&sp, &root, r.object, &count, "object", 6,
                     "chat.completion", sizeof("chat.completion") - 1, 1);
        llm_json_put(&sp, &root, r.created, &count, "created", 7, ct,
                     created + 23 - ct, 0);
        llm_json_put(&sp, &root, r.model, &count, "model", 5, model,
                     strlen(model), 1);
    }

    if (r.usage && p[r.usage->val] == '{'
        && llm_openai_fast_usage(p, &tape, r.usage, usage) != LLM_OK)
    {
        memset(usage, 0, sizeof(llm_usage_t));
        return LLM_DECLINED;
    }

    saved = out->len;

    if (llm_json_splice(&sp, out) != 0) {
        /* out of memory, most likely: the cJSON path will tell */
        out->len = saved;

        if (out->data) {
            out->data[saved] = '\0';
        }

        memset(usage, 0, sizeof(llm_usage_t));
        return LLM_DECLINED;
    }

    return LLM_OK;
}


static int
llm_openai_fast_root(const llm_json_obj_t *o, const char *p,
    llm_openai_root_t *r)
{
    uint32_t                   i;
    const llm_json_member_t   *m, **slot;

    memset(r, 0, sizeof(llm_openai_root_t));

    for (i = 0; i < o->n; i++) {
        m = &o->m[i];

        switch (m->key_len) {

        case 2:
            slot = llm_json_key_is(m, p, "id", 2) ? &r->id : NULL;
            break;

        case 4:
            slot = llm_json_key_is(m, p, "data", 4) ? &r->data : NULL;
            break;

        case 5:
            slot = llm_json_key_is(m, p, "model", 5) ? &r->model
                   : llm_json_key_is(m, p, "usage", 5) ? &r->usage : NULL;
            break;

        case 6:
            slot = llm_json_key_is(m, p, "object", 6) ? &r->object : NULL;
            break;

        case 7:
            slot = llm_json_key_is(m, p, "created", 7) ? &r->created
                   : llm_json_key_is(m, p, "choices", 7) ? &r->choices
                   : NULL;
            break;

        default:
            slot = NULL;
        }

        if (slot && llm_json_take(slot, m) != 0) {
            return LLM_DECLINED;
        }
    }

    return LLM_OK;
}


/* what llm_openai_choice() does to a choice object, as edits */
static int
llm_openai_fast_choice(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, llm_json_splice_t *sp, llm_json_obj_t *c,
    llm_json_obj_t *m)
{
    size_t                     count, pos, v, ve;
    uint32_t                   i;
    const llm_json_member_t   *x, *msg, *logprobs, *content, *refusal,
                              *calls;

    if (llm_json_object(p, tape, start, end, c) != 0 || c->escaped) {
        return LLM_DECLINED;
    }

    /* finish_reason: only Mistral's are mapped */

    msg = NULL;
    logprobs = NULL;

    for (i = 0; i < c->n; i++) {
        x = &c->m[i];

        if ((llm_json_key_is(x, p, "message", 7)
             && llm_json_take(&msg, x) != 0)
            || (llm_json_key_is(x, p, "logprobs", 8)
                && llm_json_take(&logprobs, x) != 0))
        {
            return LLM_DECLINED;
        }
    }

    if (msg && p[msg->val] == '{') {
        if (llm_json_object(p, tape, msg->val, msg->val_end, m) != 0
            || m->escaped)
        {
            return LLM_DECLINED;
        }

        content = NULL;
        refusal = NULL;
        calls = NULL;

        for (i = 0; i < m->n; i++) {
            x = &m->m[i];

            if ((llm_json_key_is(x, p, "content", 7)
                 && llm_json_take(&content, x) != 0)
                || (llm_json_key_is(x, p, "refusal", 7)
                    && llm_json_take(&refusal, x) != 0)
                || (llm_json_key_is(x, p, "tool_calls", 10)
                    && llm_json_take(&calls, x) != 0))
            {
                return LLM_DECLINED;
            }
        }

        if (content && p[content->val] == '[') {
            /* parts to join */
            return LLM_DECLINED;
        }

        count = m->n;

        if (content == NULL) {
            llm_json_add(sp, m, &count, "content", 7, "null", 4, 0);
        }

        if (refusal == NULL) {
            llm_json_add(sp, m, &count, "refusal", 7, "null", 4, 0);
        }

        pos = 0;

        if (content && content->val_end - content->val == 2
            && p[content->val] == '"'
            && calls && p[calls->val] == '['
            && llm_json_array_next(p, tape, calls->val, calls->val_end,
                                   &pos, &v, &ve) == 1)
        {
            llm_json_replace(sp, content->val, content->val_end, "null", 4,
                             0);
        }
    }

    if (logprobs == NULL) {
        count = c->n;
        llm_json_add(sp, c, &count, "logprobs", 8, "null", 4, 0);
    }

    return LLM_OK;
}


/* llm_openai_usage() on the bytes of an accepted document */
int
llm_openai_fast_usage(const char *p, const llm_json_tape_t *tape,
    const llm_json_member_t *um, llm_usage_t *usage)
{
    uint32_t                   i;
    llm_json_obj_t             u, d;
    const llm_json_member_t   *x, *pt, *ct, *ptd, *ptd2, *nct, *ctd;

    if (llm_json_object(p, tape, um->val, um->val_end, &u) != 0 || u.escaped) {
        return LLM_DECLINED;
    }

    /* the first of each, as cJSON's lookups find */
    pt = NULL;
    ct = NULL;
    ptd = NULL;
    ptd2 = NULL;
    nct = NULL;
    ctd = NULL;

    for (i = 0; i < u.n; i++) {
        x = &u.m[i];

        switch (x->key_len) {

        case 13:
            if (pt == NULL && llm_json_key_is(x, p, "prompt_tokens", 13)) {
                pt = x;
            }
            break;

        case 17:
            if (ct == NULL
                && llm_json_key_is(x, p, "completion_tokens", 17))
            {
                ct = x;

            } else if (nct == NULL
                       && llm_json_key_is(x, p, "num_cached_tokens", 17))
            {
                nct = x;
            }
            break;

        case 20:
            if (ptd2 == NULL
                && llm_json_key_is(x, p, "prompt_token_details", 20))
            {
                ptd2 = x;
            }
            break;

        case 21:
            if (ptd == NULL
                && llm_json_key_is(x, p, "prompt_tokens_details", 21))
            {
                ptd = x;
            }
            break;

        case 25:
            if (ctd == NULL
                && llm_json_key_is(x, p, "completion_tokens_details", 25))
            {
                ctd = x;
            }
            break;
        }
    }

    usage->present = 1;
    usage->prompt_tokens = llm_openai_fast_count(pt, p);
    usage->completion_tokens = llm_openai_fast_count(ct, p);
    usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;

    x = (ptd && p[ptd->val] == '{') ? ptd : ptd2;

    if (x && p[x->val] == '{') {
        if (llm_json_object(p, tape, x->val, x->val_end, &d) != 0
            || d.escaped)
        {
            return LLM_DECLINED;
        }

        usage->cached_tokens = llm_openai_fast_count(
                                   llm_json_get(&d, p, "cached_tokens", 13),
                                   p);
        usage->cache_write_tokens = llm_openai_fast_count(
                              llm_json_get(&d, p, "cache_write_tokens", 18),
                              p);
    }

    if (usage->cached_tokens == 0) {
        usage->cached_tokens = llm_openai_fast_count(nct, p);
    }

    if (ctd && p[ctd->val] == '{') {
        if (llm_json_object(p, tape, ctd->val, ctd->val_end, &d) != 0
            || d.escaped)
        {
            return LLM_DECLINED;
        }

        usage->reasoning_tokens = llm_openai_fast_count(
                                llm_json_get(&d, p, "reasoning_tokens", 16),
                                p);
    }

    return LLM_OK;
}


/* llm_openai_count() on member m, or 0 */
static long long
llm_openai_fast_count(const llm_json_member_t *m, const char *p)
{
    double  v;

    if (m == NULL || !(p[m->val] == '-'
                       || (p[m->val] >= '0' && p[m->val] <= '9')))
    {
        return 0;
    }

    v = llm_json_number(p + m->val, m->val_end - m->val);

    if (v < 0 || v > 1e15) {
        return 0;
    }

    return (long long) v;
}


static void
llm_openai_invalid(const llm_call_t *call, llm_error_t *err)
{
    llm_error_set(err, 502, "server_error", NULL, NULL,
                  "%s: upstream sent an invalid response",
                  llm_openai_provider(call));
}


static int
llm_openai_chat(const llm_call_t *call, cJSON *root, llm_usage_t *usage,
    llm_error_t *err)
{
    cJSON       *choices, *c, *u;
    const char  *model;

    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");

    if (!cJSON_IsArray(choices)) {
        if (cJSON_GetObjectItemCaseSensitive(root, "error")) {
            /* a 200 carrying an error body */
            llm_openai_error_json(call, 500, root, err);

        } else {
            llm_openai_invalid(call, err);
        }

        return LLM_ERROR;
    }

    model = call->model_name ? call->model_name : "";

    if (llm_put(root, "id", cJSON_CreateString(call->id)) != LLM_OK
        || llm_put(root, "object", cJSON_CreateString("chat.completion"))
           != LLM_OK
        || llm_put(root, "created", cJSON_CreateNumber(call->created))
           != LLM_OK
        || llm_put(root, "model", cJSON_CreateString(model)) != LLM_OK)
    {
        goto nomem;
    }

    cJSON_ArrayForEach(c, choices) {
        if (cJSON_IsObject(c) && llm_openai_choice(call, c) != LLM_OK) {
            goto nomem;
        }
    }

    u = cJSON_GetObjectItemCaseSensitive(root, "usage");
    llm_openai_usage(u, usage);

    if (call->dep->provider != LLM_PROVIDER_OPENAI) {
        /*
         * Groq's timings and Mistral's num_cached_tokens are not
         * OpenAI's; the client gets the plain counts
         */
        cJSON_DeleteItemFromObjectCaseSensitive(root, "x_groq");

        if (usage->present
            && llm_put(root, "usage", llm_usage_to_json(usage)) != LLM_OK)
        {
            goto nomem;
        }
    }

    return LLM_OK;

nomem:

    llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
    return LLM_ERROR;
}


static int
llm_openai_choice(const llm_call_t *call, cJSON *c)
{
    cJSON       *m, *fr, *content, *calls;
    const char  *mapped;

    if (llm_openai_ensure_null(c, "logprobs") != LLM_OK) {
        return LLM_ERROR;
    }

    fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");

    if (cJSON_IsString(fr)) {
        mapped = llm_openai_finish(call, fr->valuestring);

        if (mapped != fr->valuestring
            && llm_put(c, "finish_reason", cJSON_CreateString(mapped))
               != LLM_OK)
        {
            return LLM_ERROR;
        }
    }

    m = cJSON_GetObjectItemCaseSensitive(c, "message");
    if (!cJSON_IsObject(m)) {
        return LLM_OK;
    }

    if (llm_openai_join_content(m) != LLM_OK
        || llm_openai_ensure_null(m, "content") != LLM_OK
        || llm_openai_ensure_null(m, "refusal") != LLM_OK)
    {
        return LLM_ERROR;
    }

    /* Mistral answers tool calls with "content": "" */
    content = cJSON_GetObjectItemCaseSensitive(m, "content");
    calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");

    if (cJSON_IsString(content) && content->valuestring[0] == '\0'
        && cJSON_IsArray(calls) && cJSON_GetArraySize(calls) > 0)
    {
        return llm_put(m, "content", cJSON_CreateNull());
    }

    return LLM_OK;
}


int
llm_openai_join_content(cJSON *m)
{
    int         rc;
    cJSON      *content, *part;
    llm_buf_t   text, thinking;

    content = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (!cJSON_IsArray(content)) {
        return LLM_OK;
    }

    memset(&text, 0, sizeof(llm_buf_t));
    memset(&thinking, 0, sizeof(llm_buf_t));
    rc = LLM_OK;

    cJSON_ArrayForEach(part, content) {
        if (llm_openai_join_part(part, &text, &thinking) != 0) {
            rc = LLM_ERROR;
            break;
        }
    }

    if (rc == LLM_OK) {
        rc = llm_put(m, "content",
                     cJSON_CreateString(text.data ? text.data : ""));
    }

    if (rc == LLM_OK && thinking.len) {
        rc = llm_put(m, "reasoning_content",
                     cJSON_CreateString(thinking.data));
    }

    llm_buf_free(&text);
    llm_buf_free(&thinking);

    return rc;
}


/* {"type":"text","text"} or {"type":"thinking","thinking":[text...]} */
static int
llm_openai_join_part(const cJSON *part, llm_buf_t *text, llm_buf_t *thinking)
{
    const cJSON  *type, *t, *sub;

    type = cJSON_GetObjectItemCaseSensitive(part, "type");
    if (!cJSON_IsString(type)) {
        return 0;
    }

    if (strcmp(type->valuestring, "text") == 0) {
        t = cJSON_GetObjectItemCaseSensitive(part, "text");
        return cJSON_IsString(t) ? llm_buf_appends(text, t->valuestring) : 0;
    }

    if (strcmp(type->valuestring, "thinking") != 0) {
        return 0;
    }

    t = cJSON_GetObjectItemCaseSensitive(part, "thinking");

    if (cJSON_IsString(t)) {
        return llm_buf_appends(thinking, t->valuestring);
    }

    cJSON_ArrayForEach(sub, t) {
        if (llm_openai_join_part(sub, thinking, thinking) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
llm_openai_embeddings(const llm_call_t *call, cJSON *root,
    llm_usage_t *usage, llm_error_t *err)
{
    const char  *model;

    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "data"))) {
        llm_openai_invalid(call, err);
        return LLM_ERROR;
    }

    model = call->model_name ? call->model_name : "";

    if (llm_put(root, "model", cJSON_CreateString(model)) != LLM_OK) {
        llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
        return LLM_ERROR;
    }

    llm_openai_usage(cJSON_GetObjectItemCaseSensitive(root, "usage"), usage);

    if (call->dep->provider == LLM_PROVIDER_OPENAI) {
        return LLM_OK;
    }

    /*
     * others (Mistral) add their own keys: the client gets OpenAI's
     * shape, whichever provider answered
     */
    cJSON_DeleteItemFromObjectCaseSensitive(root, "id");

    if (llm_put(root, "usage", llm_openai_embed_usage(usage)) != LLM_OK) {
        llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
        return LLM_ERROR;
    }

    return LLM_OK;
}


static cJSON *
llm_openai_embed_usage(const llm_usage_t *usage)
{
    cJSON  *u;

    u = cJSON_CreateObject();

    if (u == NULL
        || cJSON_AddNumberToObject(u, "prompt_tokens",
                                   (double) usage->prompt_tokens) == NULL
        || cJSON_AddNumberToObject(u, "total_tokens",
                                   (double) usage->prompt_tokens) == NULL)
    {
        cJSON_Delete(u);
        return NULL;
    }

    return u;
}


static long long
llm_openai_count(const cJSON *o, const char *key)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15) {
        return 0;
    }

    return (long long) v->valuedouble;
}


void
llm_openai_usage(const cJSON *u, llm_usage_t *usage)
{
    const cJSON  *d;

    if (!cJSON_IsObject(u)) {
        return;
    }

    usage->present = 1;
    usage->prompt_tokens = llm_openai_count(u, "prompt_tokens");
    usage->completion_tokens = llm_openai_count(u, "completion_tokens");
    usage->total_tokens = usage->prompt_tokens + usage->completion_tokens;

    d = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details");
    if (!cJSON_IsObject(d)) {
        /* Mistral's schema also spells it this way */
        d = cJSON_GetObjectItemCaseSensitive(u, "prompt_token_details");
    }

    usage->cached_tokens = llm_openai_count(d, "cached_tokens");
    usage->cache_write_tokens = llm_openai_count(d, "cache_write_tokens");

    if (usage->cached_tokens == 0) {
        usage->cached_tokens = llm_openai_count(u, "num_cached_tokens");
    }

    d = cJSON_GetObjectItemCaseSensitive(u, "completion_tokens_details");
    usage->reasoning_tokens = llm_openai_count(d, "reasoning_tokens");
}


/* replaces or adds o[key]; takes v, NULL (failed create) is an error */
static int
llm_put(cJSON *o, const char *key, cJSON *v)
{
    if (v == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);

    } else {
        cJSON_AddItemToObject(o, key, v);
    }

    return LLM_OK;
}


static int
llm_openai_ensure_null(cJSON *o, const char *key)
{
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
        return LLM_OK;
    }

    return cJSON_AddNullToObject(o, key) ? LLM_OK : LLM_ERROR;
}


void
llm_openai_parse_error(const llm_call_t *call, int status, const char *body,
    size_t len, llm_error_t *err)
{
    int         n;
    cJSON      *root;
    size_t      i;
    char        text[256];

    root = cJSON_ParseWithLength(body, len);

    if (cJSON_IsObject(root)) {
        llm_openai_error_json(call, status, root, err);
        cJSON_Delete(root);
        return;
    }

    cJSON_Delete(root);

    /* a proxy's HTML page or plain text: keep a printable excerpt */
    n = 0;

    for (i = 0; i < len && n < (int) sizeof(text) - 1; i++) {
        if ((unsigned char) body[i] >= 0x20 && body[i] != 0x7f) {
            text[n++] = body[i];

        } else if (n && text[n - 1] != ' ') {
            text[n++] = ' ';
        }
    }

    while (n && text[n - 1] == ' ') {
        n--;
    }

    text[n] = '\0';

    llm_error_from_upstream(err, llm_openai_provider(call), status, NULL,
                            NULL, n ? text : NULL);
}


static const char *
llm_openai_text(const cJSON *o, const char *key)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}


/* a string, or a number rendered as one (codes), or NULL */
static const char *
llm_openai_str(const cJSON *o, const char *key, char *buf, size_t size)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (cJSON_IsString(v)) {
        return v->valuestring;
    }

    if (cJSON_IsNumber(v)) {
        snprintf(buf, size, "%.0f", v->valuedouble);
        return buf;
    }

    return NULL;
}


/*
 * {"error":{"message","type","param","code"}} (OpenAI, Groq, streams),
 * {"object":"error","message",...} (Mistral) or a FastAPI
 * {"detail":[{"loc":[...],"msg","type"}]} (Mistral's 422)
 */
void
llm_openai_error_json(const llm_call_t *call, int status, const cJSON *root,
    llm_error_t *e)
{
    char          cbuf[32], pbuf[32], lbuf[32], msgbuf[1024];
    const char   *msg, *type, *code, *param, *provider;
    const cJSON  *eo, *detail, *d0, *loc;

    provider = llm_openai_provider(call);
    eo = cJSON_GetObjectItemCaseSensitive(root, "error");

    if (!cJSON_IsObject(eo)) {
        eo = root;
    }

    msg = llm_openai_text(eo, "message");
    type = llm_openai_str(eo, "type", lbuf, sizeof(lbuf));
    code = llm_openai_str(eo, "code", cbuf, sizeof(cbuf));
    param = llm_openai_str(eo, "param", pbuf, sizeof(pbuf));

    if (msg == NULL) {
        /* {"error":"text"} */
        msg = llm_openai_text(root, "error");
    }

    detail = cJSON_GetObjectItemCaseSensitive(eo, "detail");

    if (msg == NULL && detail == NULL) {
        /* Mistral's older form: {"message": {"detail": [...]}} */
        detail = cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetObjectItemCaseSensitive(eo, "message"),
                     "detail");
    }

    if (msg == NULL && cJSON_IsString(detail)) {
        msg = detail->valuestring;

    } else if (msg == NULL && cJSON_IsArray(detail)) {
        d0 = cJSON_GetArrayItem(detail, 0);
        msg = llm_openai_text(d0, "msg");
        type = llm_openai_str(d0, "type", lbuf, sizeof(lbuf));

        loc = cJSON_GetObjectItemCaseSensitive(d0, "loc");
        loc = cJSON_GetArrayItem(loc, cJSON_GetArraySize(loc) - 1);

        if (cJSON_IsString(loc)) {
            param = loc->valuestring;
        }
    }

    /* Mistral's numeric codes mean nothing to an OpenAI client */
    if (code && code[0] >= '0' && code[0] <= '9' && msg) {
        snprintf(msgbuf, sizeof(msgbuf), "%s (%s%s%s)", msg,
                 type ? type : "", type ? ", code " : "code ", code);
        msg = msgbuf;
        code = NULL;
    }

    status = llm_openai_error_status(status, eo, code, msg);

    llm_error_from_upstream(e, provider, status, type, code, msg);

    if (param && param[0]) {
        snprintf(e->param, sizeof(e->param), "%s", param);
    }
}


static int
llm_openai_error_status(int status, const cJSON *eo, const char *code,
    const char *msg)
{
    const cJSON  *v;

    if (status == 0) {
        /* a stream error event has no HTTP status; some carry one */
        v = cJSON_GetObjectItemCaseSensitive(eo, "status");
        if (!cJSON_IsNumber(v)) {
            v = cJSON_GetObjectItemCaseSensitive(eo, "code");
        }

        status = 500;

        if (cJSON_IsNumber(v) && v->valuedouble >= 400
            && v->valuedouble < 600)
        {
            status = (int) v->valuedouble;
        }

        if (code && strcmp(code, "rate_limit_exceeded") == 0) {
            status = 429;
        }

        if (code && strcmp(code, "context_length_exceeded") == 0) {
            status = 400;
        }
    }

    /* Groq's 413 also means "prompt too long" when it says so */
    if (status == 413
        && ((code && strcmp(code, "context_length_exceeded") == 0)
            || (msg && strcasestr(msg, "context length"))))
    {
        return 400;
    }

    /* Groq's failed dependency is an upstream failure */
    if (status == 424) {
        return 500;
    }

    return status;
}
