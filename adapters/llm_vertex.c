/*
 * Copyright (C) ngx_llm authors
 *
 * Google Vertex AI: the adapter table, the URL, auth, errors, and the
 * dispatch between Gemini, Claude and embeddings (see llm_vertex.h).
 *
 * URL: {base}/v1/projects/{project}/locations/{location}/publishers/
 * {google|anthropic}/models/{model}:{method}.  The host comes from
 * dep->base, which the config loader builds from vertex_location (or
 * api_base); the path from vertex_project and vertex_location, which it
 * writes back into params.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_vertex.h"
#include "llm_anthropic.h"


static int llm_vertex_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static cJSON *llm_vertex_claude_body(const llm_call_t *call,
    llm_error_t *err);
static int llm_vertex_path(const llm_call_t *call, llm_vertex_kind_e kind,
    llm_http_req_t *out, llm_error_t *err);
static const char *llm_vertex_project(const llm_call_t *call, char *buf,
    size_t size);
static int llm_vertex_segment(llm_buf_t *b, const char *s);
static int llm_vertex_digits(const char *s);
static int llm_vertex_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err);
static int llm_vertex_parse_response(const llm_call_t *call,
    const char *body, size_t len, llm_buf_t *out, llm_usage_t *usage,
    llm_error_t *err);
static void llm_vertex_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err);
static int llm_vertex_status_of(const char *status);
static int llm_vertex_stream_init(llm_stream_t *s);
static int llm_vertex_stream_feed(llm_stream_t *s, const char *p, size_t n);
static int llm_vertex_stream_eof(llm_stream_t *s);
static void llm_vertex_stream_free(llm_stream_t *s);


const llm_adapter_t  llm_vertex_adapter = {
    LLM_VERTEX_NAME,
    llm_vertex_build_request,
    llm_vertex_parse_response,
    llm_vertex_parse_error,
    llm_vertex_stream_init,
    llm_vertex_stream_feed,
    llm_vertex_stream_eof,
    llm_vertex_stream_free
};


llm_vertex_kind_e
llm_vertex_kind(const llm_call_t *call)
{
    const char  *m;

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        return LLM_VERTEX_EMBED;
    }

    m = call->dep->model_id ? call->dep->model_id : "";

    /* claude-3-7-sonnet@20250219, claude-sonnet-4@... */
    return strncmp(m, "claude", 6) == 0 ? LLM_VERTEX_CLAUDE
                                        : LLM_VERTEX_GEMINI;
}


void
llm_vertex_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  LLM_VERTEX_NAME ": out of memory");
}


void
llm_vertex_invalid(llm_error_t *err)
{
    llm_error_set(err, 502, "server_error", NULL, NULL,
                  LLM_VERTEX_NAME ": upstream sent an invalid response");
}


int
llm_vertex_put(cJSON *obj, const char *key, cJSON *item)
{
    if (item == NULL) {
        return LLM_ERROR;
    }

    if (obj == NULL || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return LLM_ERROR;
    }

    return LLM_OK;
}


static int
llm_vertex_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                 rc;
    char               *json;
    cJSON              *body;
    const char         *m;
    llm_vertex_kind_e   kind;

    if (call->dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "environment variable %s for model \"%s\" is "
                      "not set", call->dep->missing_env, call->model_name);
        return LLM_ERROR;
    }

    kind = llm_vertex_kind(call);
    m = call->dep->model_id ? call->dep->model_id : "";

    if (kind == LLM_VERTEX_EMBED && strncmp(m, "claude", 6) == 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "model \"%s\" is a Claude model, which has no "
                      "embeddings on Vertex AI", call->model_name);
        return LLM_ERROR;
    }

    switch (kind) {

    case LLM_VERTEX_CLAUDE:
        body = llm_vertex_claude_body(call, err);
        break;

    case LLM_VERTEX_EMBED:
        body = llm_vertex_embed_body(call, err);
        break;

    default:
        body = llm_vertex_gemini_body(call, err);
        break;
    }

    if (body == NULL) {
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);

    if (json == NULL) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    rc = llm_buf_appends(&out->body, json);
    free(json);

    if (rc != 0) {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    if (llm_vertex_path(call, kind, out, err) != LLM_OK
        || llm_vertex_auth(call, out, err) != LLM_OK)
    {
        return LLM_ERROR;
    }

    out->method = "POST";
    out->accept = (call->stream && kind != LLM_VERTEX_EMBED)
                  ? "text/event-stream" : "application/json";

    return LLM_OK;
}


/*
 * The Messages body without "model" (it is in the URL) and with the
 * Vertex anthropic_version; "stream" stays and matches the method.
 */
static cJSON *
llm_vertex_claude_body(const llm_call_t *call, llm_error_t *err)
{
    cJSON  *b;

    b = llm_anthropic_body(call, err);
    if (b == NULL) {
        return NULL;
    }

    cJSON_DeleteItemFromObjectCaseSensitive(b, "model");

    if (cJSON_AddStringToObject(b, "anthropic_version",
                                LLM_VERTEX_ANTHROPIC_VERSION) == NULL)
    {
        cJSON_Delete(b);
        llm_vertex_oom(err);
        return NULL;
    }

    return b;
}


static int
llm_vertex_path(const llm_call_t *call, llm_vertex_kind_e kind,
    llm_http_req_t *out, llm_error_t *err)
{
    int                      rc;
    char                     pbuf[256];
    size_t                   len;
    const char              *base, *project, *location, *model, *method;
    const cJSON             *v;
    const llm_deployment_t  *dep;

    dep = call->dep;
    project = llm_vertex_project(call, pbuf, sizeof(pbuf));

    if (project == NULL) {
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      LLM_VERTEX_NAME ": model \"%s\" has no vertex_project "
                      "(set litellm_params.vertex_project or "
                      "VERTEXAI_PROJECT)", call->model_name);
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(dep->params, "vertex_location");
    location = (cJSON_IsString(v) && v->valuestring[0]) ? v->valuestring
                                                        : "us-central1";
    model = dep->model_id ? dep->model_id : "";

    switch (kind) {

    case LLM_VERTEX_CLAUDE:
        method = call->stream ? ":streamRawPredict" : ":rawPredict";
        break;

    case LLM_VERTEX_EMBED:
        method = ":predict";
        break;

    default:
        method = call->stream ? ":streamGenerateContent?alt=sse"
                              : ":generateContent";
        break;
    }

    base = dep->base.path ? dep->base.path : "";
    len = strlen(base);

    while (len && base[len - 1] == '/') {
        len--;
    }

    rc = llm_buf_append(&out->path, base, len)
         || llm_buf_appends(&out->path, "/v1/projects/")
         || llm_vertex_segment(&out->path, project)
         || llm_buf_appends(&out->path, "/locations/")
         || llm_vertex_segment(&out->path, location);

    if (rc == 0) {
        /* a bare number is a deployed (tuned) endpoint */
        if (kind == LLM_VERTEX_GEMINI && llm_vertex_digits(model)) {
            rc = llm_buf_appends(&out->path, "/endpoints/");

        } else {
            rc = llm_buf_appends(&out->path,
                                 kind == LLM_VERTEX_CLAUDE
                                 ? "/publishers/anthropic/models/"
                                 : "/publishers/google/models/");
        }
    }

    if (rc != 0
        || llm_vertex_segment(&out->path, model) != 0
        || llm_buf_appends(&out->path, method) != 0)
    {
        llm_vertex_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * vertex_project, else the project_id of inline credentials: LiteLLM
 * takes the key's project when none is configured.
 */
static const char *
llm_vertex_project(const llm_call_t *call, char *buf, size_t size)
{
    cJSON        *root;
    const char   *s;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(call->dep->params, "vertex_project");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        return v->valuestring;
    }

    v = cJSON_GetObjectItemCaseSensitive(call->dep->params,
                                         "vertex_credentials");

    if (cJSON_IsObject(v)) {
        v = cJSON_GetObjectItemCaseSensitive(v, "project_id");

        if (cJSON_IsString(v) && v->valuestring[0]
            && strlen(v->valuestring) < size)
        {
            return strcpy(buf, v->valuestring);
        }

        return NULL;
    }

    if (!cJSON_IsString(v)) {
        return NULL;
    }

    for (s = v->valuestring; *s == ' ' || *s == '\n' || *s == '\t'; s++) {
        /* void */
    }

    if (*s != '{') {
        return NULL;
    }

    root = cJSON_Parse(s);
    v = cJSON_GetObjectItemCaseSensitive(root, "project_id");
    s = NULL;

    if (cJSON_IsString(v) && v->valuestring[0]
        && strlen(v->valuestring) < size)
    {
        s = strcpy(buf, v->valuestring);
    }

    cJSON_Delete(root);

    return s;
}


/* a path segment: RFC 3986 unreserved characters and '@' stay */
static int
llm_vertex_segment(llm_buf_t *b, const char *s)
{
    unsigned char  c;

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~' || c == '@')
        {
            if (llm_buf_append(b, s, 1) != 0) {
                return -1;
            }

        } else if (llm_buf_printf(b, "%%%02X", c) != 0) {
            return -1;
        }
    }

    return 0;
}


static int
llm_vertex_digits(const char *s)
{
    if (*s == '\0') {
        return 0;
    }

    for ( /* void */ ; *s; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }

    return 1;
}


/*
 * The OAuth2 token the glue obtained from vertex_credentials; without
 * one, an api_key is a Vertex "express mode" key.
 */
static int
llm_vertex_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int         rc;
    llm_buf_t   h;

    if (call->access_token && call->access_token[0]) {
        memset(&h, 0, sizeof(llm_buf_t));

        rc = llm_buf_printf(&h, "Bearer %s", call->access_token) == 0
             && llm_http_req_add_header(out, "Authorization", h.data)
                == LLM_OK;

        if (h.data) {
            memset(h.data, 0, h.len);
        }

        llm_buf_free(&h);

        if (!rc) {
            llm_vertex_oom(err);
            return LLM_ERROR;
        }

        return LLM_OK;
    }

    if (call->dep->api_key && call->dep->api_key[0]) {
        if (llm_http_req_add_header(out, "x-goog-api-key",
                                    call->dep->api_key) != LLM_OK)
        {
            llm_vertex_oom(err);
            return LLM_ERROR;
        }

        return LLM_OK;
    }

    llm_error_set(err, 401, "authentication_error", "invalid_api_key", NULL,
                  LLM_VERTEX_NAME ": no access token for model \"%s\" "
                  "(set vertex_credentials to a service-account key, or "
                  "GOOGLE_APPLICATION_CREDENTIALS)", call->model_name);

    return LLM_ERROR;
}


static int
llm_vertex_parse_response(const llm_call_t *call, const char *body,
    size_t len, llm_buf_t *out, llm_usage_t *usage, llm_error_t *err)
{
    memset(usage, 0, sizeof(llm_usage_t));

    switch (llm_vertex_kind(call)) {

    case LLM_VERTEX_CLAUDE:
        return llm_anthropic_parse_response(call, body, len, out, usage,
                                            err);

    case LLM_VERTEX_EMBED:
        return llm_vertex_embed_response(call, body, len, out, usage, err);

    default:
        return llm_vertex_gemini_response(call, body, len, out, usage, err);
    }
}


/*
 * Platform errors (auth, quota, region) come in Google's shape, also
 * for Claude; Claude's own errors in Anthropic's.  Google sometimes
 * wraps the error object in an array.
 */
static void
llm_vertex_parse_error(const llm_call_t *call, int status,
    const char *body, size_t len, llm_error_t *err)
{
    char          text[256];
    size_t        n;
    cJSON        *root;
    const cJSON  *node, *e, *type;

    root = cJSON_ParseWithLength(body, len);
    node = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, 0) : root;
    type = cJSON_GetObjectItemCaseSensitive(node, "type");
    e = cJSON_GetObjectItemCaseSensitive(node, "error");

    if (cJSON_IsString(type) && strcmp(type->valuestring, "error") == 0) {
        cJSON_Delete(root);
        llm_anthropic_parse_error(call, status, body, len, err);
        return;
    }

    if (cJSON_IsObject(e)) {
        llm_vertex_google_error(err, status, e);
        cJSON_Delete(root);
        return;
    }

    if (cJSON_IsString(e)) {
        llm_error_from_upstream(err, LLM_VERTEX_NAME, status, NULL, NULL,
                                e->valuestring);
        cJSON_Delete(root);
        return;
    }

    cJSON_Delete(root);

    /* a proxy's text or HTML page: its start is the best clue */
    n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;

    while (n < len && n && (body[n] & 0xc0) == 0x80) {
        n--;
    }

    if (n) {
        memcpy(text, body, n);
    }

    text[n] = '\0';

    llm_error_from_upstream(err, LLM_VERTEX_NAME, status, NULL, NULL,
                            n ? text : NULL);
}


void
llm_vertex_google_error(llm_error_t *err, int status, const cJSON *e)
{
    int           st;
    const char   *gs, *msg;
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(e, "status");
    gs = cJSON_IsString(v) ? v->valuestring : NULL;

    v = cJSON_GetObjectItemCaseSensitive(e, "message");
    msg = cJSON_IsString(v) ? v->valuestring : NULL;

    st = llm_vertex_status_of(gs);

    if (st == 0) {
        v = cJSON_GetObjectItemCaseSensitive(e, "code");

        if (status >= 400) {
            st = status;

        } else if (cJSON_IsNumber(v) && v->valuedouble >= 400
                   && v->valuedouble < 600)
        {
            st = (int) v->valuedouble;

        } else {
            st = 500;
        }
    }

    /* CANCELLED (499) is not the client's doing here */
    if (st == 499) {
        st = 502;
    }

    llm_error_from_upstream(err, LLM_VERTEX_NAME, st, gs, gs, msg);
}


/* the canonical HTTP status of a google.rpc.Code name, 0 if unknown */
static int
llm_vertex_status_of(const char *status)
{
    static const struct {
        const char  *name;
        int          status;
    } map[] = {
        { "INVALID_ARGUMENT", 400 },
        { "FAILED_PRECONDITION", 400 },
        { "OUT_OF_RANGE", 400 },
        { "UNAUTHENTICATED", 401 },
        { "PERMISSION_DENIED", 403 },
        { "NOT_FOUND", 404 },
        { "ALREADY_EXISTS", 409 },
        { "ABORTED", 409 },
        { "RESOURCE_EXHAUSTED", 429 },
        { "CANCELLED", 499 },
        { "UNKNOWN", 500 },
        { "INTERNAL", 500 },
        { "DATA_LOSS", 500 },
        { "UNIMPLEMENTED", 501 },
        { "UNAVAILABLE", 503 },
        { "DEADLINE_EXCEEDED", 504 },
        { NULL, 0 }
    };

    int  i;

    if (status == NULL) {
        return 0;
    }

    for (i = 0; map[i].name; i++) {
        if (strcmp(map[i].name, status) == 0) {
            return map[i].status;
        }
    }

    return 0;
}


/*
 * Streams: Claude's is Anthropic's SSE unchanged; Gemini's has its own
 * translator.  Embeddings do not stream.
 */

static int
llm_vertex_stream_init(llm_stream_t *s)
{
    if (llm_vertex_kind(s->call) == LLM_VERTEX_CLAUDE) {
        return llm_anthropic_stream_init(s);
    }

    return llm_vertex_stream_init_gemini(s);
}


static int
llm_vertex_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    if (llm_vertex_kind(s->call) == LLM_VERTEX_CLAUDE) {
        return llm_anthropic_stream_feed(s, p, n);
    }

    return llm_vertex_stream_feed_gemini(s, p, n);
}


static int
llm_vertex_stream_eof(llm_stream_t *s)
{
    if (llm_vertex_kind(s->call) == LLM_VERTEX_CLAUDE) {
        return llm_anthropic_stream_eof(s);
    }

    return llm_vertex_stream_eof_gemini(s);
}


static void
llm_vertex_stream_free(llm_stream_t *s)
{
    if (llm_vertex_kind(s->call) == LLM_VERTEX_CLAUDE) {
        llm_anthropic_stream_free(s);
        return;
    }

    llm_vertex_stream_free_gemini(s);
}
