/*
 * Copyright (C) ngx_llm authors
 *
 * AWS Bedrock: the adapter table, the endpoint and the authentication
 * (../shared/providers/bedrock.md, "Endpoints and auth" and "SigV4
 * signing").  Chat goes to Converse (/converse, /converse-stream), the
 * Titan and Cohere embedding models to InvokeModel (/invoke).
 *
 * Requests are signed with SigV4 from the deployment's static
 * credentials, or carry a Bedrock API key as a Bearer token.  The
 * credentials come from litellm_params only, as the configuration
 * loader resolved them: a worker's environment is not the one the
 * model file was read with.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_bedrock.h"
#include "llm_sigv4.h"


static int llm_bedrock_build_request(const llm_call_t *call,
    llm_http_req_t *out, llm_error_t *err);
static int llm_bedrock_path(const llm_call_t *call, llm_http_req_t *out);
static int llm_bedrock_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err);
static int llm_bedrock_sign(const llm_call_t *call, llm_http_req_t *out,
    const llm_sigv4_creds_t *creds, llm_error_t *err);
static int llm_bedrock_host(const llm_deployment_t *dep, char *buf,
    size_t size);


const llm_adapter_t  llm_bedrock_adapter = {
    LLM_BEDROCK_NAME,
    llm_bedrock_build_request,
    llm_bedrock_parse_response,
    llm_bedrock_parse_error,
    llm_bedrock_stream_init,
    llm_bedrock_stream_feed,
    llm_bedrock_stream_eof,
    llm_bedrock_stream_free
};


void
llm_bedrock_oom(llm_error_t *err)
{
    llm_error_set(err, 500, "server_error", NULL, NULL,
                  "bedrock: out of memory");
}


void
llm_bedrock_invalid(llm_error_t *err)
{
    llm_error_set(err, 502, "server_error", NULL, NULL,
                  "bedrock: upstream sent an invalid response");
}


int
llm_bedrock_put(cJSON *obj, const char *key, cJSON *item)
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


/*
 * LiteLLM's "bedrock/converse/<id>" forces Converse and
 * "bedrock/invoke/<id>" InvokeModel; this gateway speaks Converse to
 * every chat model, so both route prefixes only name the model.
 */
const char *
llm_bedrock_model_id(const llm_deployment_t *dep)
{
    const char  *id;

    id = dep->model_id ? dep->model_id : "";

    if (strncmp(id, "converse/", 9) == 0) {
        return id + 9;
    }

    if (strncmp(id, "invoke/", 7) == 0) {
        return id + 7;
    }

    return id;
}


llm_bedrock_embed_e
llm_bedrock_embed_kind(const char *model_id)
{
    if (strstr(model_id, "titan-embed-text-v1")
        || strstr(model_id, "titan-embed-g1-text"))
    {
        return LLM_BEDROCK_EMBED_TITAN_V1;
    }

    if (strstr(model_id, "titan-embed")) {
        return LLM_BEDROCK_EMBED_TITAN;
    }

    if (strstr(model_id, "cohere.embed")) {
        return LLM_BEDROCK_EMBED_COHERE;
    }

    return LLM_BEDROCK_EMBED_NONE;
}


static int
llm_bedrock_build_request(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    int                      rc;
    char                    *json;
    cJSON                   *body;
    const llm_deployment_t  *dep;

    dep = call->dep;

    if (dep->missing_env) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "environment variable %s for model \"%s\" is "
                      "not set", dep->missing_env, call->model_name);
        return LLM_ERROR;
    }

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        body = llm_bedrock_embed_body(call, err);

    } else {
        body = llm_bedrock_converse_body(call, err);
    }

    if (body == NULL) {
        return LLM_ERROR;
    }

    json = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);

    if (json == NULL) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    rc = llm_buf_appends(&out->body, json);
    free(json);

    if (rc != 0 || llm_bedrock_path(call, out) != LLM_OK) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    out->method = "POST";
    out->accept = (call->stream && call->endpoint == LLM_ENDPOINT_CHAT)
                  ? "application/vnd.amazon.eventstream"
                  : "application/json";

    return llm_bedrock_auth(call, out, err);
}


/*
 * base path + /model/{modelId}/{operation}.  The model id is one path
 * segment: ':' and the '/' of an ARN are percent-encoded
 * (anthropic.claude-3-haiku-20240307-v1:0 -> ...-v1%3A0).
 */
static int
llm_bedrock_path(const llm_call_t *call, llm_http_req_t *out)
{
    size_t       len;
    const char  *base, *id, *op;

    base = call->dep->base.path ? call->dep->base.path : "";
    len = strlen(base);

    while (len && base[len - 1] == '/') {
        len--;
    }

    id = llm_bedrock_model_id(call->dep);

    if (call->endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        op = "/invoke";

    } else {
        op = call->stream ? "/converse-stream" : "/converse";
    }

    if (llm_buf_append(&out->path, base, len) != 0
        || llm_buf_appends(&out->path, "/model/") != 0
        || llm_sigv4_uri_encode(&out->path, id, strlen(id), 0) != 0
        || llm_buf_appends(&out->path, op) != 0)
    {
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * An api_key is a Bedrock API key (Bearer); otherwise SigV4 with the
 * static credentials.  Without either the call cannot be authorized.
 */
static int
llm_bedrock_auth(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err)
{
    char                     bearer[4096];
    llm_sigv4_creds_t        creds;
    const llm_deployment_t  *dep;

    dep = call->dep;

    if (dep->api_key && dep->api_key[0]) {
        if ((size_t) snprintf(bearer, sizeof(bearer), "Bearer %s",
                              dep->api_key) >= sizeof(bearer))
        {
            llm_error_set(err, 500, "server_error", NULL, NULL,
                          "bedrock: the api_key of model \"%s\" is too long",
                          call->model_name);
            return LLM_ERROR;
        }

        if (llm_http_req_add_header(out, "Authorization", bearer) != LLM_OK)
        {
            llm_bedrock_oom(err);
            return LLM_ERROR;
        }

        return LLM_OK;
    }

    creds.access_key = llm_deployment_str(dep, "aws_access_key_id");
    creds.secret_key = llm_deployment_str(dep, "aws_secret_access_key");
    creds.session_token = llm_deployment_str(dep, "aws_session_token");
    creds.region = llm_deployment_str(dep, "aws_region_name");
    creds.service = "bedrock";

    if (creds.access_key == NULL || creds.secret_key == NULL) {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "bedrock model \"%s\" has no credentials: set "
                      "aws_access_key_id and aws_secret_access_key, or "
                      "api_key (a Bedrock API key)", call->model_name);
        return LLM_ERROR;
    }

    if (creds.region == NULL) {
        creds.region = "us-east-1";
    }

    return llm_bedrock_sign(call, out, &creds, err);
}


/*
 * Signs what the glue will send: Host as "host[:port]" (the port only
 * when it is not the scheme's default) and Content-Type:
 * application/json.  Content-Length and the hop-by-hop headers are
 * left out of the signature.
 */
static int
llm_bedrock_sign(const llm_call_t *call, llm_http_req_t *out,
    const llm_sigv4_creds_t *creds, llm_error_t *err)
{
    int                  rc;
    char                 host[600];
    llm_sigv4_t          sig;
    llm_sigv4_req_t      r;
    llm_sigv4_header_t   h[2];

    if (llm_bedrock_host(call->dep, host, sizeof(host)) != LLM_OK) {
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      "bedrock: the host name of model \"%s\" is too long",
                      call->model_name);
        return LLM_ERROR;
    }

    h[0].name = "content-type";
    h[0].value = "application/json";
    h[1].name = "host";
    h[1].value = host;

    memset(&r, 0, sizeof(llm_sigv4_req_t));
    r.method = out->method;
    r.path = out->path.data;
    r.headers = h;
    r.nheaders = 2;
    r.payload = out->body.data;
    r.payload_len = out->body.len;

    if (llm_sigv4_sign(creds, &r, call->now, &sig) != 0) {
        llm_error_set(err, 500, "server_error", NULL, NULL,
                      "bedrock: could not sign the request of model \"%s\"",
                      call->model_name);
        return LLM_ERROR;
    }

    rc = llm_http_req_add_header(out, "X-Amz-Date", sig.amzdate);

    if (rc == LLM_OK && creds->session_token) {
        rc = llm_http_req_add_header(out, "X-Amz-Security-Token",
                                     creds->session_token);
    }

    if (rc == LLM_OK) {
        rc = llm_http_req_add_header(out, "Authorization",
                                     sig.authorization.data);
    }

    llm_sigv4_free(&sig);

    if (rc != LLM_OK) {
        llm_bedrock_oom(err);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* the Host header as the glue writes it: "[v6]" literals, default ports */
static int
llm_bedrock_host(const llm_deployment_t *dep, char *buf, size_t size)
{
    int          n, dflt;
    const char  *host, *fmt;

    host = dep->base.host ? dep->base.host : "";
    dflt = dep->base.port == 0 || dep->base.port == (dep->base.tls ? 443 : 80);

    if (strchr(host, ':')) {
        fmt = dflt ? "[%s]" : "[%s]:%d";

    } else {
        fmt = dflt ? "%s" : "%s:%d";
    }

    n = snprintf(buf, size, fmt, host, dep->base.port);

    return (n < 0 || (size_t) n >= size) ? LLM_ERROR : LLM_OK;
}
