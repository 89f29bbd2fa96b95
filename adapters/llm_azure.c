/*
 * Copyright (C) ngx_llm authors
 *
 * Azure OpenAI (azure/<deployment>).  Azure serves OpenAI's chat body
 * unchanged, so this adapter is the OpenAI one (llm_openai*.c) with a
 * different URL and auth, and a stream filter for Azure's content
 * filtering annotations (../shared/providers/azure.md):
 *
 *   dated API  {api_base}/openai/deployments/{dep}/chat/completions
 *              ?api-version={api_version}
 *   v1 API     {api_base}/openai/v1/chat/completions, "model": {dep},
 *              when api_version is absent, "v1" or "latest" (and
 *              "preview", which v1 takes as its api-version)
 *
 * Auth is "api-key: <api_key>", else "Authorization: Bearer <token>"
 * with litellm_params.azure_ad_token (an Entra ID access token).
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_openai.h"
#include "llm_sse.h"


/* the first dated version that takes stream_options (2024-08-01-preview) */
#define LLM_AZURE_USAGE_VERSION  "2024-08-01"


typedef struct {
    llm_sse_t   sse;
    unsigned    nomem:1;
} llm_azure_stream_ctx_t;


static int llm_azure_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static const char *llm_azure_version(const llm_deployment_t *dep);
static int llm_azure_body(const llm_call_t *call, const char *version,
    llm_http_req_t *out);
static int llm_azure_path(const llm_call_t *call, const char *version,
    llm_buf_t *path);
static int llm_azure_append_escaped(llm_buf_t *b, const char *s);
static int llm_azure_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err);
static void llm_azure_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);
static void llm_azure_error_json(const llm_call_t *call, int status,
    cJSON *root, llm_error_t *e);
static int llm_azure_stream_init(llm_stream_t *s);
static int llm_azure_stream_feed(llm_stream_t *s, const char *p, size_t n);
static int llm_azure_stream_eof(llm_stream_t *s);
static void llm_azure_stream_free(llm_stream_t *s);
static int llm_azure_stream_fail(llm_stream_t *s, const char *what);
static int llm_azure_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len);
static int llm_azure_chunk(llm_stream_t *s, cJSON *root);
static void llm_azure_clean(cJSON *root);
static int llm_azure_chunk_usage(llm_stream_t *s, cJSON *root);
static int llm_azure_set(cJSON *o, const char *key, cJSON *v);


const llm_adapter_t  llm_azure_adapter = {
    "azure",
    llm_azure_build_request,
    llm_openai_parse_response,
    llm_azure_parse_error,
    llm_azure_stream_init,
    llm_azure_stream_feed,
    llm_azure_stream_eof,
    llm_azure_stream_free
};


static int
llm_azure_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    const char              *version;
    const llm_deployment_t  *dep = call->dep;

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "environment variable %s for model \"%s\" is "
                      "not set", dep->missing_env, call->model_name);
        return LLM_ERROR;
    }

    if (llm_azure_auth(call, out, err) != LLM_OK) {
        return LLM_ERROR;
    }

    version = llm_azure_version(dep);

    if (llm_azure_body(call, version, out) != LLM_OK
        || llm_azure_path(call, version, &out->path) != LLM_OK)
    {
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      "out of memory building the azure request");
        return LLM_ERROR;
    }

    out->method = "POST";
    out->accept = call->stream ? "text/event-stream" : "application/json";

    return LLM_OK;
}


/* the dated api-version, or NULL for the v1 API */
static const char *
llm_azure_version(const llm_deployment_t *dep)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(dep->params, "api_version");

    if (!cJSON_IsString(v) || v->valuestring[0] == '\0'
        || strcmp(v->valuestring, "v1") == 0
        || strcmp(v->valuestring, "latest") == 0)
    {
        return NULL;
    }

    return v->valuestring;
}


static int
llm_azure_body(const llm_call_t *call, const char *version,
    llm_http_req_t *out)
{
    int     rc, usage;
    char   *json;
    cJSON  *b;

    b = llm_request_prepare(call);
    if (b == NULL) {
        return LLM_ERROR;
    }

    /*
     * spend tracking needs usage in streams; dated versions before
     * stream_options reject it with a 400, so those are left as asked
     */
    usage = call->endpoint == LLM_ENDPOINT_CHAT && call->stream
            && (version == NULL || version[0] < '0' || version[0] > '9'
                || strcmp(version, LLM_AZURE_USAGE_VERSION) >= 0);

    if (usage && llm_openai_stream_usage(b) != LLM_OK) {
        cJSON_Delete(b);
        return LLM_ERROR;
    }

    /* the dated API takes the deployment from the path, v1 from "model" */
    if (version && strcmp(version, "preview") != 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(b, "model");
    }

    json = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);

    if (json == NULL) {
        return LLM_ERROR;
    }

    rc = llm_buf_appends(&out->body, json) == 0 ? LLM_OK : LLM_ERROR;
    free(json);

    return rc;
}


static int
llm_azure_path(const llm_call_t *call, const char *version, llm_buf_t *path)
{
    int          v1;
    size_t       len;
    const char  *base, *endpoint;

    base = call->dep->base.path ? call->dep->base.path : "";
    len = strlen(base);

    /* an api_base given down to ".../openai" or ".../openai/v1" */
    if (len >= 10 && strcmp(base + len - 10, "/openai/v1") == 0) {
        len -= 10;

    } else if (len >= 7 && strcmp(base + len - 7, "/openai") == 0) {
        len -= 7;
    }

    endpoint = call->endpoint == LLM_ENDPOINT_EMBEDDINGS
               ? "/embeddings" : "/chat/completions";

    v1 = version == NULL || strcmp(version, "preview") == 0;

    if (llm_buf_append(path, base, len) != 0) {
        return LLM_ERROR;
    }

    if (v1) {
        if (llm_buf_printf(path, "/openai/v1%s", endpoint) != 0) {
            return LLM_ERROR;
        }

    } else if (llm_buf_appends(path, "/openai/deployments/") != 0
               || llm_azure_append_escaped(path, call->dep->model_id) != 0
               || llm_buf_appends(path, endpoint) != 0)
    {
        return LLM_ERROR;
    }

    if (version == NULL) {
        return LLM_OK;
    }

    if (llm_buf_appends(path, "?api-version=") != 0
        || llm_azure_append_escaped(path, version) != 0)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* percent-encodes all but RFC 3986 unreserved characters */
static int
llm_azure_append_escaped(llm_buf_t *b, const char *s)
{
    unsigned char  c;

    for ( /* void */ ; s && *s; s++) {
        c = (unsigned char) *s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            if (llm_buf_append(b, s, 1) != 0) {
                return -1;
            }

            continue;
        }

        if (llm_buf_printf(b, "%%%02X", c) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
llm_azure_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    llm_buf_t                v;
    const char              *token;
    const llm_deployment_t  *dep = call->dep;

    /* LiteLLM's order: the key wins over an Entra ID token */
    if (dep->api_key && dep->api_key[0]) {
        if (llm_http_req_add_header(out, "api-key", dep->api_key) != LLM_OK) {
            goto nomem;
        }

        return LLM_OK;
    }

    token = llm_deployment_str(dep, "azure_ad_token");

    if (token == NULL) {
        token = call->access_token;
    }

    if (token == NULL || token[0] == '\0') {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "azure model \"%s\" has neither api_key nor "
                      "azure_ad_token", call->model_name);
        return LLM_ERROR;
    }

    memset(&v, 0, sizeof(llm_buf_t));

    rc = llm_buf_printf(&v, "Bearer %s", token) == 0
         ? llm_http_req_add_header(out, "Authorization", v.data)
         : LLM_ERROR;

    llm_buf_free(&v);

    if (rc == LLM_OK) {
        return LLM_OK;
    }

nomem:

    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "out of memory building the azure request");
    return LLM_ERROR;
}


/*
 * errors
 */


static void
llm_azure_parse_error(const llm_call_t *call, int status, const char *body,
    size_t len, llm_error_t *err)
{
    cJSON  *root;

    root = cJSON_ParseWithLength(body, len);

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        /* an HTML page from a proxy or plain text */
        llm_openai_parse_error(call, status, body, len, err);
        return;
    }

    llm_azure_error_json(call, status, root, err);
    cJSON_Delete(root);
}


/*
 * Azure's bodies are OpenAI's with a twist: "code" is often the HTTP
 * status as a string ("429"), which tells an OpenAI client nothing,
 * and a prompt refused by the content filter may say so only in
 * innererror.code.  status 0: a stream error event.
 */
static void
llm_azure_error_json(const llm_call_t *call, int status, cJSON *root,
    llm_error_t *e)
{
    int           n;
    char         *end;
    cJSON        *eo, *code, *inner;
    const char   *s;

    eo = cJSON_GetObjectItemCaseSensitive(root, "error");
    if (!cJSON_IsObject(eo)) {
        eo = root;
    }

    code = cJSON_GetObjectItemCaseSensitive(eo, "code");
    n = 0;

    if (cJSON_IsNumber(code)) {
        n = code->valuedouble >= 100 && code->valuedouble < 1000
            ? (int) code->valuedouble : 1;

    } else if (cJSON_IsString(code)) {
        s = code->valuestring;

        if (s[0] >= '0' && s[0] <= '9') {
            n = (int) strtol(s, &end, 10);
            n = (*end == '\0' && n) ? n : 0;
        }
    }

    if (n) {
        cJSON_DeleteItemFromObjectCaseSensitive(eo, "code");
        code = NULL;

        if (status == 0 && n >= 400 && n < 600) {
            status = n;
        }
    }

    inner = cJSON_GetObjectItemCaseSensitive(eo, "innererror");
    inner = cJSON_GetObjectItemCaseSensitive(inner, "code");

    if ((code == NULL || cJSON_IsNull(code)) && cJSON_IsString(inner)
        && strcmp(inner->valuestring, "ResponsibleAIPolicyViolation") == 0)
    {
        (void) llm_azure_set(eo, "code", cJSON_CreateString("content_filter"));
    }

    llm_openai_error_json(call, status, root, e);
}


/*
 * streams: OpenAI chunks, less Azure's filter annotations
 */


static int
llm_azure_stream_init(llm_stream_t *s)
{
    llm_azure_stream_ctx_t  *ctx;

    ctx = calloc(1, sizeof(llm_azure_stream_ctx_t));
    if (ctx == NULL) {
        return LLM_ERROR;
    }

    llm_sse_init(&ctx->sse, llm_azure_event, s);
    s->priv = ctx;

    return LLM_OK;
}


static int
llm_azure_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    int                      rc;
    llm_azure_stream_ctx_t  *ctx = s->priv;

    /* whatever follows [DONE] or an error is of no interest */
    if (s->done) {
        return LLM_OK;
    }

    rc = llm_sse_feed(&ctx->sse, p, n);

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (rc == -1 && !s->done) {
        return llm_azure_stream_fail(s, "sent an oversized stream event");
    }

    return LLM_OK;
}


static int
llm_azure_stream_eof(llm_stream_t *s)
{
    llm_azure_stream_ctx_t  *ctx = s->priv;

    if (!s->done) {
        /* the last event may lack its blank line */
        (void) llm_sse_finish(&ctx->sse);
    }

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (!s->done) {
        return llm_azure_stream_fail(s, "closed the stream before it ended");
    }

    return LLM_OK;
}


static void
llm_azure_stream_free(llm_stream_t *s)
{
    llm_azure_stream_ctx_t  *ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_sse_free(&ctx->sse);
    free(ctx);
    s->priv = NULL;
}


static int
llm_azure_stream_fail(llm_stream_t *s, const char *what)
{
    llm_error_t  e;

    llm_error_set(&e, 502, "server_error", NULL, NULL, "azure: upstream %s",
                  what);

    return llm_chunk_error(s, &e);
}


/* returns 0 to go on, 1 at the end of the stream, -1 out of memory */
static int
llm_azure_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    int                      rc;
    cJSON                   *root, *eo;
    llm_error_t              e;
    llm_stream_t            *s = data;
    llm_azure_stream_ctx_t  *ctx = s->priv;

    if (s->done) {
        return 1;
    }

    while (payload_len && (payload[0] == ' ' || payload[0] == '\n')) {
        payload++;
        payload_len--;
    }

    while (payload_len && (payload[payload_len - 1] == ' '
                           || payload[payload_len - 1] == '\n'))
    {
        payload_len--;
    }

    if (payload_len == 6 && memcmp(payload, "[DONE]", 6) == 0) {
        rc = llm_chunk_end(s) == LLM_OK ? 1 : -1;
        goto done;
    }

    root = cJSON_ParseWithLength(payload, payload_len);

    if (!cJSON_IsObject(root)) {
        /* not a chunk: a keep-alive or a proxy's noise */
        cJSON_Delete(root);
        return 0;
    }

    eo = cJSON_GetObjectItemCaseSensitive(root, "error");

    if (eo && !cJSON_IsNull(eo)) {
        llm_azure_error_json(s->call, 0, root, &e);
        cJSON_Delete(root);
        rc = llm_chunk_error(s, &e) == LLM_OK ? 1 : -1;
        goto done;
    }

    rc = llm_azure_chunk(s, root) == LLM_OK ? 0 : -1;
    cJSON_Delete(root);

done:

    if (rc < 0) {
        ctx->nomem = 1;
    }

    return rc;
}


static int
llm_azure_chunk(llm_stream_t *s, cJSON *root)
{
    cJSON  *choices, *c, *delta;

    if (llm_azure_chunk_usage(s, root) != LLM_OK) {
        return LLM_ERROR;
    }

    llm_azure_clean(root);

    /*
     * the prompt_filter_results event before the role chunk, a
     * filter-only one, or the usage chunk (llm_chunk_end shows usage
     * when the client asked for it): nothing to relay
     */
    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");

    if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) == 0) {
        return LLM_OK;
    }

    /* filter-only events say "object": "" */
    if (llm_azure_set(root, "object",
                      cJSON_CreateString("chat.completion.chunk"))
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    cJSON_ArrayForEach(c, choices) {
        if (llm_openai_chunk_choice(s, c) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    /* every client sees a role chunk first, whatever Azure does */
    delta = cJSON_GetObjectItemCaseSensitive(choices->child, "delta");

    if (!s->started && !cJSON_HasObjectItem(delta, "role")
        && llm_chunk_role(s) != LLM_OK)
    {
        return LLM_ERROR;
    }

    return llm_chunk_json(s, root);
}


/*
 * Drops the content filter annotations, and the choices that carry
 * nothing else (asynchronous filtering sends those after the text,
 * without a delta); what is left is a plain OpenAI chunk.
 */
static void
llm_azure_clean(cJSON *root)
{
    cJSON         *choices, *c, *next, *delta;
    const cJSON   *fr;

    cJSON_DeleteItemFromObjectCaseSensitive(root, "prompt_filter_results");
    cJSON_DeleteItemFromObjectCaseSensitive(root, "prompt_annotations");

    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (!cJSON_IsArray(choices)) {
        return;
    }

    for (c = choices->child; c; c = next) {
        next = c->next;

        if (!cJSON_IsObject(c)) {
            cJSON_Delete(cJSON_DetachItemViaPointer(choices, c));
            continue;
        }

        cJSON_DeleteItemFromObjectCaseSensitive(c, "content_filter_results");
        cJSON_DeleteItemFromObjectCaseSensitive(c, "content_filter_offsets");

        fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");
        delta = cJSON_GetObjectItemCaseSensitive(c, "delta");

        if (cJSON_IsString(fr)) {
            if (!cJSON_IsObject(delta)) {
                (void) llm_azure_set(c, "delta", cJSON_CreateObject());
            }

            continue;
        }

        if (!cJSON_IsObject(delta) || delta->child == NULL) {
            cJSON_Delete(cJSON_DetachItemViaPointer(choices, c));
        }
    }
}


static int
llm_azure_chunk_usage(llm_stream_t *s, cJSON *root)
{
    cJSON  *u;

    u = cJSON_GetObjectItemCaseSensitive(root, "usage");

    if (cJSON_IsObject(u)) {
        memset(&s->usage, 0, sizeof(llm_usage_t));
        llm_openai_usage(u, &s->usage);
    }

    if (!s->call->include_usage) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "usage");
        return LLM_OK;
    }

    /* with include_usage every chunk but the usage chunk has null */
    return llm_azure_set(root, "usage", cJSON_CreateNull());
}


/* replaces or adds o[key]; takes v, NULL (failed create) is an error */
static int
llm_azure_set(cJSON *o, const char *key, cJSON *v)
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
