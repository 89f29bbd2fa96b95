/*
 * Copyright (C) ngx_llm authors
 *
 * The OpenAI-dialect adapter: OpenAI (and any OpenAI-compatible server
 * behind an api_base), Mistral and Groq.  This file builds requests;
 * the provider quirks are mostly here, because Mistral's schema is
 * strict (unknown fields are a 422) and Groq rejects a few OpenAI
 * params with a 400 (../shared/providers/{openai,mistral,groq}.md).
 */


#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/sha.h>

#include "llm_openai.h"


static int llm_openai_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static int llm_openai_body(const llm_call_t *call, cJSON *b,
    llm_error_t *err);
static int llm_openai_headers(const llm_call_t *call, llm_http_req_t *out);
static void llm_openai_rename(cJSON *b, const char *from, const char *to);
static void llm_openai_max_tokens(cJSON *b);
static int llm_mistral_body(const llm_call_t *call, cJSON *b,
    llm_error_t *err);
static void llm_mistral_messages(cJSON *msgs);
static int llm_mistral_message(cJSON *m);
static void llm_mistral_keep_only(cJSON *m, const char *const *keep);
static void llm_mistral_tool_id(cJSON *holder, const char *key);
static int llm_groq_body(const llm_call_t *call, cJSON *b, llm_error_t *err);
static int llm_groq_names(const llm_call_t *call, cJSON *b,
    llm_error_t *err);


const llm_adapter_t  llm_openai_adapter = {
    "openai",
    llm_openai_build_request,
    llm_openai_parse_response,
    llm_openai_parse_error,
    llm_openai_stream_init,
    llm_openai_stream_feed,
    llm_openai_stream_eof,
    llm_openai_stream_free
};


const char *
llm_openai_provider(const llm_call_t *call)
{
    switch (call->dep->provider) {

    case LLM_PROVIDER_MISTRAL:
        return "mistral";

    case LLM_PROVIDER_GROQ:
        return "groq";

    case LLM_PROVIDER_AZURE:
        return "azure";

    default:
        return "openai";
    }
}


const char *
llm_openai_finish(const llm_call_t *call, const char *reason)
{
    if (call->dep->provider != LLM_PROVIDER_MISTRAL || reason == NULL) {
        return reason;
    }

    if (strcmp(reason, "model_length") == 0) {
        return "length";
    }

    /* LiteLLM's choice; the text so far is still worth delivering */
    if (strcmp(reason, "error") == 0) {
        return "stop";
    }

    return reason;
}


static int
llm_openai_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    const char              *path;
    const llm_deployment_t  *dep = call->dep;

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "environment variable %s for model \"%s\" is "
                      "not set", dep->missing_env, call->model_name);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS
        && dep->provider == LLM_PROVIDER_GROQ)
    {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "groq does not offer embeddings (model \"%s\")",
                      call->model_name);
        return LLM_ERROR;
    }

    rc = llm_openai_fast_request(call, &out->body);

    if (rc == LLM_DECLINED) {
        if (llm_openai_request_tree(call, &out->body, err) != LLM_OK) {
            return LLM_ERROR;
        }

    } else if (rc != LLM_OK) {
        goto nomem;
    }

    path = call->endpoint == LLM_ENDPOINT_EMBEDDINGS
           ? "/embeddings" : "/chat/completions";

    if (llm_buf_appends(&out->path, dep->base.path ? dep->base.path : "")
           != 0
        || llm_buf_appends(&out->path, path) != 0
        || llm_openai_headers(call, out) != LLM_OK)
    {
        goto nomem;
    }

    out->method = "POST";
    out->accept = call->stream ? "text/event-stream" : "application/json";

    return LLM_OK;

nomem:

    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "out of memory building the %s request",
                  llm_openai_provider(call));
    return LLM_ERROR;
}


/* the client body through cJSON: parse tree, merge, map, print */
int
llm_openai_request_tree(const llm_call_t *call, llm_buf_t *body,
    llm_error_t *err)
{
    int     rc;
    char   *json;
    cJSON  *b;

    b = llm_request_prepare(call);
    if (b == NULL) {
        goto nomem;
    }

    rc = llm_openai_body(call, b, err);
    if (rc != LLM_OK) {
        cJSON_Delete(b);
        return rc;
    }

    json = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);

    if (json == NULL) {
        goto nomem;
    }

    rc = llm_buf_appends(body, json);
    free(json);

    if (rc != 0) {
        goto nomem;
    }

    return LLM_OK;

nomem:

    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "out of memory building the %s request",
                  llm_openai_provider(call));
    return LLM_ERROR;
}


/*
 * OpenAI takes the client's request as it is, but for "model", the
 * deployment's defaults and, on a stream, stream_options.include_usage
 * (llm_request_prepare() and llm_openai_stream_usage()).  So the
 * client's bytes are spliced rather than parsed into a copy and
 * printed: the same JSON for a fraction of the cost.  Anything out of
 * the ordinary (duplicate or escaped keys, stream_options among the
 * defaults, more members than the scanner holds) is declined.
 */
int
llm_openai_fast_request(const llm_call_t *call, llm_buf_t *body)
{
    int                        stream, rc;
    char                      *dflt[LLM_JSON_MAX_EDITS];
    size_t                     i, nd, count, socount, klen;
    cJSON                     *d, *added[LLM_JSON_MAX_EDITS];
    const char                *p, *model;
    llm_json_obj_t             so, scanned;
    llm_json_splice_t          sp;
    const llm_json_obj_t      *rp;
    const llm_json_member_t   *m, *som, *iu;

    p = call->body;

    if (p == NULL || call->dep->provider != LLM_PROVIDER_OPENAI) {
        return LLM_DECLINED;
    }

    /* the glue's scan (llm_request_scan()) already refused the rest */
    rp = call->root;

    if (rp == NULL) {
        if (llm_json_scan(p, call->body_len, &scanned, NULL) != 0
            || scanned.escaped
            || llm_json_has_dups(&scanned, p)
            /* the bytes are those req was parsed from */
            || (call->req != NULL
                && (int) scanned.n != cJSON_GetArraySize(call->req)))
        {
            return LLM_DECLINED;
        }

        rp = &scanned;
    }

    m = llm_json_get(rp, p, "model", 5);
    if (m == NULL) {
        return LLM_DECLINED;
    }

    llm_json_splice_init(&sp, p, rp);
    count = rp->n;

    model = call->dep->model_id ? call->dep->model_id : "";
    llm_json_replace(&sp, m->val, m->val_end, model, strlen(model), 1);

    stream = call->stream && call->endpoint == LLM_ENDPOINT_CHAT;
    som = stream ? llm_json_get(rp, p, "stream_options", 14) : NULL;

    if (som && p[som->val] == '{') {
        if (llm_json_object(p, NULL, som->val, som->val_end, &so) != 0
            || so.escaped || llm_json_has_dups(&so, p))
        {
            return LLM_DECLINED;
        }

        iu = llm_json_get(&so, p, "include_usage", 13);

        if (iu) {
            llm_json_replace(&sp, iu->val, iu->val_end, "true", 4, 0);

        } else {
            socount = so.n;
            llm_json_add(&sp, &so, &socount, "include_usage", 13, "true", 4,
                         0);
        }

    } else if (som) {
        /* not an object: it is dropped, and a new one added at the end */
        count = llm_json_remove(&sp, rp,
                                (uint64_t) 1 << (som - rp->m));
    }

    /* the defaults the client did not send, under its own values */
    nd = 0;
    rc = LLM_OK;

    cJSON_ArrayForEach(d, call->dep->defaults) {
        if (d->string == NULL) {
            continue;
        }

        klen = strlen(d->string);

        if (llm_json_get(rp, p, d->string, klen)) {
            continue;
        }

        for (i = 0; i < nd; i++) {
            if (strcmp(added[i]->string, d->string) == 0) {
                break;
            }
        }

        if (i < nd) {
            continue;
        }

        if (nd == LLM_JSON_MAX_EDITS - 4
            || (stream && strcmp(d->string, "stream_options") == 0))
        {
            rc = LLM_DECLINED;
            break;
        }

        dflt[nd] = cJSON_PrintUnformatted(d);
        if (dflt[nd] == NULL) {
            rc = LLM_ERROR;
            break;
        }

        added[nd] = d;
        llm_json_add(&sp, rp, &count, d->string, klen, dflt[nd],
                     strlen(dflt[nd]), 0);
        nd++;
    }

    if (rc == LLM_OK && stream && (som == NULL || p[som->val] != '{')) {
        llm_json_add(&sp, rp, &count, "stream_options", 14,
                     "{\"include_usage\":true}", 22, 0);
    }

    if (rc == LLM_OK && llm_json_splice(&sp, body) != 0) {
        /* out of memory, most likely: the cJSON path will tell */
        llm_buf_free(body);
        rc = LLM_DECLINED;
    }

    for (i = 0; i < nd; i++) {
        free(dflt[i]);
    }

    return rc;
}


static int
llm_openai_headers(const llm_call_t *call, llm_http_req_t *out)
{
    /*
     * both made at load (llm_config.c); an OpenAI-compatible local
     * server may well have no key
     */
    if (call->dep->bearer
        && llm_http_req_ref_header(out, "Authorization", call->dep->bearer)
           != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (call->dep->organization
        && llm_http_req_ref_header(out, "OpenAI-Organization",
                                   call->dep->organization)
           != LLM_OK)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_openai_body(const llm_call_t *call, cJSON *b, llm_error_t *err)
{
    llm_provider_e  p = call->dep->provider;

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        if (p == LLM_PROVIDER_MISTRAL) {
            llm_openai_rename(b, "dimensions", "output_dimension");
            /* a strict schema: "user" would be a 422 */
            cJSON_DeleteItemFromObjectCaseSensitive(b, "user");
        }

        return LLM_OK;
    }

    if (p == LLM_PROVIDER_MISTRAL) {
        return llm_mistral_body(call, b, err);
    }

    /*
     * spend tracking needs usage even when the client did not ask for
     * it; the chunk emitters only show it when the client did
     */
    if (call->stream && llm_openai_stream_usage(b) != LLM_OK) {
        llm_error_set(err, 500, "server_error", NULL, NULL, "out of memory");
        return LLM_ERROR;
    }

    if (p == LLM_PROVIDER_GROQ) {
        return llm_groq_body(call, b, err);
    }

    return LLM_OK;
}


int
llm_openai_stream_usage(cJSON *b)
{
    cJSON  *so, *t;

    so = cJSON_GetObjectItemCaseSensitive(b, "stream_options");

    if (!cJSON_IsObject(so)) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "stream_options");

        so = cJSON_AddObjectToObject(b, "stream_options");
        if (so == NULL) {
            return LLM_ERROR;
        }
    }

    t = cJSON_CreateTrue();
    if (t == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_GetObjectItemCaseSensitive(so, "include_usage")) {
        cJSON_ReplaceItemInObjectCaseSensitive(so, "include_usage", t);

    } else {
        cJSON_AddItemToObject(so, "include_usage", t);
    }

    return LLM_OK;
}


/* moves b[from] to b[to]; a value already at b[to] wins */
static void
llm_openai_rename(cJSON *b, const char *from, const char *to)
{
    cJSON  *v;

    v = cJSON_DetachItemFromObjectCaseSensitive(b, from);
    if (v == NULL) {
        return;
    }

    if (cJSON_GetObjectItemCaseSensitive(b, to)) {
        cJSON_Delete(v);
        return;
    }

    cJSON_AddItemToObject(b, to, v);
}


/* max_completion_tokens is the newer name and wins over max_tokens */
static void
llm_openai_max_tokens(cJSON *b)
{
    if (cJSON_GetObjectItemCaseSensitive(b, "max_completion_tokens")) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "max_tokens");
        llm_openai_rename(b, "max_completion_tokens", "max_tokens");
    }
}


static int
llm_mistral_body(const llm_call_t *call, cJSON *b, llm_error_t *err)
{
    cJSON               *tc, *any;
    const char *const   *n;

    /* OpenAI-only params LiteLLM drops for Mistral without asking */
    static const char *const  silent[] = {
        "user", "logprobs", "top_logprobs", "logit_bias", "service_tier",
        "store", "metadata", "stream_options", NULL
    };

    /* not in Mistral's schema either, but meaningful: drop_params decides */
    static const char *const  unsupported[] = {
        "modalities", "audio", "web_search_options", "verbosity",
        "safety_identifier", "functions", "function_call", NULL
    };

    for (n = silent; *n; n++) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, *n);
    }

    if (llm_request_drop_unsupported(b, unsupported, call->drop_params,
                                     "mistral", err) != LLM_OK)
    {
        return LLM_ERROR;
    }

    llm_openai_rename(b, "seed", "random_seed");
    llm_openai_max_tokens(b);

    tc = cJSON_GetObjectItemCaseSensitive(b, "tool_choice");

    if (cJSON_IsString(tc) && strcmp(tc->valuestring, "required") == 0) {
        any = cJSON_CreateString("any");
        if (any == NULL) {
            llm_error_set(err, 500, "server_error", NULL, NULL,
                          "out of memory");
            return LLM_ERROR;
        }

        cJSON_ReplaceItemInObjectCaseSensitive(b, "tool_choice", any);
    }

    llm_mistral_messages(cJSON_GetObjectItemCaseSensitive(b, "messages"));

    return LLM_OK;
}


static void
llm_mistral_messages(cJSON *msgs)
{
    cJSON  *m, *next;

    if (!cJSON_IsArray(msgs)) {
        return;
    }

    for (m = msgs->child; m; m = next) {
        next = m->next;

        if (cJSON_IsObject(m) && llm_mistral_message(m) != LLM_OK) {
            /* LiteLLM skips empty assistant turns; Mistral rejects them */
            cJSON_Delete(cJSON_DetachItemViaPointer(msgs, m));
        }
    }
}


/* returns LLM_ERROR when the message is to be dropped */
static int
llm_mistral_message(cJSON *m)
{
    cJSON        *role, *content, *calls, *c;
    const char   *r;

    static const char *const  keep_assistant[] = {
        "role", "content", "tool_calls", "prefix", NULL
    };
    static const char *const  keep_tool[] = {
        "role", "content", "tool_call_id", "name", NULL
    };
    static const char *const  keep_other[] = { "role", "content", NULL };

    role = cJSON_GetObjectItemCaseSensitive(m, "role");
    r = cJSON_IsString(role) ? role->valuestring : "";

    if (strcmp(r, "developer") == 0) {
        cJSON_SetValuestring(role, "system");
    }

    if (strcmp(r, "tool") == 0) {
        llm_mistral_keep_only(m, keep_tool);
        llm_mistral_tool_id(m, "tool_call_id");
        return LLM_OK;
    }

    if (strcmp(r, "assistant") != 0) {
        /* a "name" would be extra_forbidden */
        llm_mistral_keep_only(m, keep_other);
        return LLM_OK;
    }

    llm_mistral_keep_only(m, keep_assistant);

    calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");

    if (cJSON_IsArray(calls) && cJSON_GetArraySize(calls) > 0) {
        cJSON_ArrayForEach(c, calls) {
            llm_mistral_tool_id(c, "id");
        }

        return LLM_OK;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(m, "tool_calls");

    content = cJSON_GetObjectItemCaseSensitive(m, "content");

    if (content == NULL || cJSON_IsNull(content)
        || (cJSON_IsString(content) && content->valuestring[0] == '\0')
        || (cJSON_IsArray(content) && cJSON_GetArraySize(content) == 0))
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


static void
llm_mistral_keep_only(cJSON *m, const char *const *keep)
{
    cJSON               *f, *next;
    const char *const   *k;

    for (f = m->child; f; f = next) {
        next = f->next;

        for (k = keep; *k; k++) {
            if (f->string && strcmp(f->string, *k) == 0) {
                break;
            }
        }

        if (*k == NULL) {
            cJSON_Delete(cJSON_DetachItemViaPointer(m, f));
        }
    }
}


/*
 * Mistral wants tool-call ids of exactly 9 characters of [a-zA-Z0-9].
 * Other ids become 9 base-62 digits of their SHA-256, so an assistant
 * call and its tool result still match; conforming ids (Mistral's own)
 * are kept as they are.
 */
static void
llm_mistral_tool_id(cJSON *holder, const char *key)
{
    int             i, ok;
    char            id[10];
    cJSON          *v;
    size_t          len;
    uint64_t        h;
    unsigned char   md[SHA256_DIGEST_LENGTH];

    static const char  b62[] =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    v = cJSON_GetObjectItemCaseSensitive(holder, key);
    if (!cJSON_IsString(v)) {
        return;
    }

    len = strlen(v->valuestring);
    ok = (len == 9);

    for (i = 0; ok && i < 9; i++) {
        if (strchr(b62, v->valuestring[i]) == NULL) {
            ok = 0;
        }
    }

    if (ok) {
        return;
    }

    SHA256((const unsigned char *) v->valuestring, len, md);

    h = 0;
    for (i = 0; i < 8; i++) {
        h = (h << 8) | md[i];
    }

    for (i = 0; i < 9; i++) {
        id[i] = b62[h % 62];
        h /= 62;
    }

    id[9] = '\0';

    cJSON_SetValuestring(v, id);
}


static int
llm_groq_body(const llm_call_t *call, cJSON *b, llm_error_t *err)
{
    cJSON  *v;

    static const char *const  unsupported[] = {
        "logprobs", "logit_bias", "top_logprobs", NULL
    };

    /* asking for nothing is not worth a 400 */
    v = cJSON_GetObjectItemCaseSensitive(b, "logprobs");
    if (cJSON_IsFalse(v) || cJSON_IsNull(v)) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "logprobs");
    }

    v = cJSON_GetObjectItemCaseSensitive(b, "n");
    if (cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == 1)) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "n");

    } else if (v && !call->drop_params) {
        llm_error_set(err, 400, "invalid_request_error",
                      "unsupported_parameter", "n",
                      "groq does not support parameter 'n' other than 1; "
                      "set drop_params: true to drop it");
        return LLM_ERROR;

    } else {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "n");
    }

    if (llm_request_drop_unsupported(b, unsupported, call->drop_params,
                                     "groq", err) != LLM_OK
        || llm_groq_names(call, b, err) != LLM_OK)
    {
        return LLM_ERROR;
    }

    llm_openai_max_tokens(b);

    return LLM_OK;
}


static int
llm_groq_names(const llm_call_t *call, cJSON *b, llm_error_t *err)
{
    int     i;
    cJSON  *msgs, *m;

    msgs = cJSON_GetObjectItemCaseSensitive(b, "messages");
    i = 0;

    cJSON_ArrayForEach(m, msgs) {
        if (cJSON_GetObjectItemCaseSensitive(m, "name") == NULL) {
            i++;
            continue;
        }

        if (!call->drop_params) {
            llm_error_set(err, 400, "invalid_request_error",
                          "unsupported_parameter", "messages[].name",
                          "groq does not support parameter "
                          "'messages[%d].name'; set drop_params: true to "
                          "drop it", i);
            return LLM_ERROR;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(m, "name");
        i++;
    }

    return LLM_OK;
}
