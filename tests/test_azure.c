/*
 * Copyright (C) ngx_llm authors
 *
 * The Azure OpenAI adapter, with the examples of
 * ../shared/providers/azure.md.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_azure_auth.h"


#define T_ID       "chatcmpl-gw1"
#define T_CREATED  1700000000


typedef struct {
    llm_deployment_t   dep;
    llm_call_t         call;
    cJSON             *req;
} t_ctx_t;


static const llm_adapter_t *
t_adapter(void)
{
    const llm_adapter_t  *a;

    a = llm_adapter_get(LLM_PROVIDER_AZURE);
    assert_non_null(a);
    assert_string_equal(a->name, "azure");

    return a;
}


/*
 * a deployment (params: JSON text, NULL: none) and a call for req (JSON
 * text; NULL: {})
 */
static void
t_setup(t_ctx_t *t, const char *params, const char *req,
    llm_endpoint_e endpoint)
{
    const cJSON  *v, *so;

    memset(t, 0, sizeof(t_ctx_t));

    t->dep.provider = LLM_PROVIDER_AZURE;
    t->dep.model_name = (char *) "gpt-4o-eu";
    t->dep.model_id = (char *) "my-gpt4o-deployment";
    t->dep.api_key = (char *) "az-key-1";
    t->dep.base.path = (char *) "";
    t->dep.drop_params = -1;

    if (params) {
        t->dep.params = cJSON_Parse(params);
        assert_non_null(t->dep.params);
    }

    t->req = cJSON_Parse(req ? req : "{}");
    assert_non_null(t->req);

    t->call.endpoint = endpoint;
    t->call.dep = &t->dep;
    t->call.req = t->req;
    t->call.model_name = "gpt-4o-eu";
    t->call.created = T_CREATED;
    snprintf(t->call.id, sizeof(t->call.id), "%s", T_ID);

    v = cJSON_GetObjectItemCaseSensitive(t->req, "stream");
    t->call.stream = cJSON_IsTrue(v);

    so = cJSON_GetObjectItemCaseSensitive(t->req, "stream_options");
    v = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
    t->call.include_usage = t->call.stream && cJSON_IsTrue(v);
}


static void
t_teardown(t_ctx_t *t)
{
    cJSON_Delete(t->req);
    cJSON_Delete(t->dep.params);
    cJSON_Delete(t->dep.defaults);
}


/* asserts that two JSON texts are the same value */
static void
t_json_eq(const char *got, const char *expect)
{
    cJSON  *a, *b;

    a = cJSON_Parse(got);
    b = cJSON_Parse(expect);

    if (a == NULL || b == NULL || !cJSON_Compare(a, b, 1)) {
        fprintf(stderr, "got:    %s\nexpect: %s\n", got, expect);
        cJSON_Delete(a);
        cJSON_Delete(b);
        fail();
    }

    cJSON_Delete(a);
    cJSON_Delete(b);
}


static const char *
t_header(const llm_http_req_t *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->nheaders; i++) {
        if (strcmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }

    return NULL;
}


static void
t_build_ok(t_ctx_t *t, llm_http_req_t *r)
{
    int          rc;
    llm_error_t  err;

    memset(&err, 0, sizeof(llm_error_t));
    rc = llm_request_build(&t->call, r, &err);

    if (rc != LLM_OK) {
        fprintf(stderr, "build failed: %d %s\n", err.status, err.message);
    }

    assert_int_equal(rc, LLM_OK);
}


/* builds and checks the path and the body */
static void
t_build_check(t_ctx_t *t, const char *path, const char *body)
{
    llm_http_req_t  r;

    t_build_ok(t, &r);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data, path);
    t_json_eq(r.body.data, body);
    llm_http_req_free(&r);
}


/*
 * requests
 */


static void
test_request_dated(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    /* the example of azure.md */
    t_setup(&t, "{\"api_version\":\"2024-10-21\"}",
            "{\"model\":\"gpt-4o-eu\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Say hi\"}],\"max_tokens\":10}",
            LLM_ENDPOINT_CHAT);
    t.dep.defaults = cJSON_Parse("{\"temperature\":0.3,\"max_tokens\":99}");

    t_build_ok(&t, &r);

    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data,
                        "/openai/deployments/my-gpt4o-deployment/"
                        "chat/completions?api-version=2024-10-21");
    assert_string_equal(r.accept, "application/json");
    assert_string_equal(t_header(&r, "api-key"), "az-key-1");
    assert_null(t_header(&r, "Authorization"));
    assert_int_equal(r.nheaders, 1);

    /* the deployment is in the path: no "model"; defaults merged under */
    t_json_eq(r.body.data,
              "{\"messages\":[{\"role\":\"user\",\"content\":\"Say hi\"}],"
              "\"max_tokens\":10,\"temperature\":0.3}");

    llm_http_req_free(&r);
    t_teardown(&t);

    /* an api_base with a path prefix (an APIM gateway), odd names */
    t_setup(&t, "{\"api_version\":\"2025-04-01-preview\"}",
            "{\"model\":\"x\",\"messages\":[]}", LLM_ENDPOINT_CHAT);
    t.dep.base.path = (char *) "/aoai/eu";
    t.dep.model_id = (char *) "dep one/ä";

    t_build_check(&t, "/aoai/eu/openai/deployments/dep%20one%2F%C3%A4/"
                  "chat/completions?api-version=2025-04-01-preview",
                  "{\"messages\":[]}");
    t_teardown(&t);

    /* an api_base already ending in /openai is not doubled */
    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", "{\"messages\":[]}",
            LLM_ENDPOINT_CHAT);
    t.dep.base.path = (char *) "/openai";

    t_build_check(&t, "/openai/deployments/my-gpt4o-deployment/"
                  "chat/completions?api-version=2024-10-21",
                  "{\"messages\":[]}");
    t_teardown(&t);
}


static void
test_request_v1(void **state)
{
    size_t          i;
    t_ctx_t         t;
    llm_http_req_t  r;

    static const char  *params[] = {
        NULL, "{}", "{\"api_version\":\"\"}", "{\"api_version\":\"v1\"}",
        "{\"api_version\":\"latest\"}", "{\"api_version\":null}",
        "{\"api_version\":7}"
    };

    /* no (usable) api_version: the v1 API, "model" is the deployment */
    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        t_setup(&t, params[i],
                "{\"model\":\"gpt-4o-eu\",\"messages\":[{\"role\":\"user\","
                "\"content\":\"hi\"}]}", LLM_ENDPOINT_CHAT);

        t_build_ok(&t, &r);
        assert_string_equal(r.path.data, "/openai/v1/chat/completions");
        assert_string_equal(t_header(&r, "api-key"), "az-key-1");
        t_json_eq(r.body.data,
                  "{\"model\":\"my-gpt4o-deployment\",\"messages\":[{"
                  "\"role\":\"user\",\"content\":\"hi\"}]}");
        llm_http_req_free(&r);
        t_teardown(&t);
    }

    /* v1's preview features take api-version=preview */
    t_setup(&t, "{\"api_version\":\"preview\"}", "{\"messages\":[]}",
            LLM_ENDPOINT_CHAT);
    t_build_check(&t, "/openai/v1/chat/completions?api-version=preview",
                  "{\"model\":\"my-gpt4o-deployment\",\"messages\":[]}");
    t_teardown(&t);

    /* an api_base given as .../openai/v1 (the OpenAI SDK's base URL) */
    t_setup(&t, NULL, "{\"messages\":[]}", LLM_ENDPOINT_CHAT);
    t.dep.base.path = (char *) "/openai/v1";
    t_build_check(&t, "/openai/v1/chat/completions",
                  "{\"model\":\"my-gpt4o-deployment\",\"messages\":[]}");
    t_teardown(&t);
}


static void
test_request_auth(void **state)
{
    t_ctx_t         t;
    llm_error_t     err;
    llm_http_req_t  r;

    /* an Entra ID token, resolved from os.environ/ by the config loader */
    t_setup(&t, "{\"api_version\":\"2024-10-21\","
            "\"azure_ad_token\":\"eyJ0eXAi.entra\"}", "{\"messages\":[]}",
            LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;

    t_build_ok(&t, &r);
    assert_string_equal(t_header(&r, "Authorization"),
                        "Bearer eyJ0eXAi.entra");
    assert_null(t_header(&r, "api-key"));
    assert_int_equal(r.nheaders, 1);
    llm_http_req_free(&r);

    /* a key wins over a token, as in LiteLLM */
    t.dep.api_key = (char *) "az-key-2";
    t_build_ok(&t, &r);
    assert_string_equal(t_header(&r, "api-key"), "az-key-2");
    assert_null(t_header(&r, "Authorization"));
    llm_http_req_free(&r);
    t_teardown(&t);

    /* a token the glue obtained */
    t_setup(&t, NULL, "{\"messages\":[]}", LLM_ENDPOINT_CHAT);
    t.dep.api_key = (char *) "";
    t.call.access_token = "glue-token";
    t_build_ok(&t, &r);
    assert_string_equal(t_header(&r, "Authorization"), "Bearer glue-token");
    llm_http_req_free(&r);

    /* no credentials at all: a 401 before anything is sent */
    t.call.access_token = NULL;
    memset(&err, 0, sizeof(llm_error_t));
    assert_int_equal(llm_request_build(&t.call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, 401);
    assert_string_equal(err.type, "authentication_error");
    assert_non_null(strstr(err.message, "\"gpt-4o-eu\""));
    t_teardown(&t);

    /* an unset os.environ/ variable is named */
    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", "{\"messages\":[]}",
            LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    t.dep.missing_env = (char *) "AZURE_AD_TOKEN_EU";

    memset(&err, 0, sizeof(llm_error_t));
    assert_int_equal(llm_request_build(&t.call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, 401);
    assert_string_equal(err.type, "authentication_error");
    assert_string_equal(err.code, "invalid_api_key");
    assert_string_equal(err.message, "environment variable AZURE_AD_TOKEN_EU "
                        "for model \"gpt-4o-eu\" is not set");
    t_teardown(&t);
}


/* Entra ID client credentials: which deployments use them, the token URL */
static void
test_entra_load(void **state)
{
    char              err[256];
    t_ctx_t           t;
    llm_buf_t         body;
    llm_google_sa_t   sa;

    /* none of the three: not an Entra deployment */
    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), 0);
    t_teardown(&t);

#define T_ENTRA  "\"tenant_id\":\"0f0e0d0c-aaaa-4bbb-8ccc-123456789abc\"," \
                 "\"client_id\":\"app-1\",\"client_secret\":\"s3cr&t=+/ \""

    /* all three, no key: the default authority and scope */
    t_setup(&t, "{" T_ENTRA "}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), 1);
    assert_int_equal(sa.type, LLM_ENTRA_CLIENT_SECRET);
    assert_string_equal(sa.provider, "azure");
    assert_string_equal(sa.token_uri, "https://login.microsoftonline.com/"
                        "0f0e0d0c-aaaa-4bbb-8ccc-123456789abc/oauth2/v2.0/"
                        "token");
    assert_string_equal(sa.scope, LLM_ENTRA_SCOPE);

    /* the form body, every reserved byte of the secret escaped */
    memset(&body, 0, sizeof(llm_buf_t));
    assert_int_equal(llm_google_token_request(&sa, 0, &body), 0);
    assert_string_equal(body.data, "grant_type=client_credentials"
                        "&client_id=app-1&client_secret=s3cr%26t%3D%2B%2F%20"
                        "&scope=https%3A%2F%2Fcognitiveservices.azure.com%2F"
                        ".default");
    llm_buf_free(&body);
    llm_google_sa_free(&sa);
    assert_null(sa.client_secret);

    /* the fingerprint follows every field: a changed secret is noticed */
    {
        unsigned char  a[LLM_OAUTH_FINGERPRINT], b[LLM_OAUTH_FINGERPRINT];
        char          *saved;

        assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                              sizeof(err)), 1);
        assert_int_equal(llm_oauth_fingerprint(&sa, a), 0);
        assert_int_equal(llm_oauth_fingerprint(&sa, b), 0);
        assert_memory_equal(a, b, sizeof(a));

        saved = sa.client_secret;
        sa.client_secret = (char *) "s3cr&t=+/!";
        assert_int_equal(llm_oauth_fingerprint(&sa, b), 0);
        assert_memory_not_equal(a, b, sizeof(a));

        /* a field moved to the next one is another credential too */
        sa.client_secret = NULL;
        assert_int_equal(llm_oauth_fingerprint(&sa, b), 0);
        assert_memory_not_equal(a, b, sizeof(a));

        sa.client_secret = saved;
        llm_google_sa_free(&sa);
    }

    /* AZURE_AUTHORITY_HOST (sovereign clouds), trailing slashes dropped */
    assert_int_equal(llm_azure_entra_load(&t.dep,
                                          "https://login.microsoftonline.us//",
                                          &sa, err, sizeof(err)), 1);
    assert_string_equal(sa.token_uri, "https://login.microsoftonline.us/"
                        "0f0e0d0c-aaaa-4bbb-8ccc-123456789abc/oauth2/v2.0/"
                        "token");
    llm_google_sa_free(&sa);

    /* a key wins, as in LiteLLM; so does a fixed azure_ad_token */
    t.dep.api_key = (char *) "az-key-1";
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), 0);
    t_teardown(&t);

    t_setup(&t, "{" T_ENTRA ",\"azure_ad_token\":\"eyJ.fixed\"}", NULL,
            LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), 0);
    t_teardown(&t);

    /* an unset variable: the adapter names it, no token is fetched */
    t_setup(&t, "{" T_ENTRA "}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    t.dep.missing_env = (char *) "AZURE_CLIENT_SECRET_EU";
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), 0);
    t_teardown(&t);

    /* the parameters' authority and scope win over the defaults */
    t_setup(&t, "{" T_ENTRA ",\"azure_authority_host\":"
            "\"http://127.0.0.1:9/\",\"azure_scope\":"
            "\"https://ai.azure.com/.default\"}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, "https://elsewhere", &sa,
                                          err, sizeof(err)), 1);
    assert_string_equal(sa.token_uri, "http://127.0.0.1:9/0f0e0d0c-aaaa-"
                        "4bbb-8ccc-123456789abc/oauth2/v2.0/token");
    assert_string_equal(sa.scope, "https://ai.azure.com/.default");
    llm_google_sa_free(&sa);
    t_teardown(&t);

    /* refused at load: an incomplete set, a tenant that is no name */
    t_setup(&t, "{\"tenant_id\":\"contoso.onmicrosoft.com\","
            "\"client_id\":\"app-1\"}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), -1);
    assert_non_null(strstr(err, "client_secret is missing"));
    t_teardown(&t);

    t_setup(&t, "{\"tenant_id\":\"../x?y\",\"client_id\":\"a\","
            "\"client_secret\":\"b\"}", NULL, LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), -1);
    assert_non_null(strstr(err, "is not a tenant GUID"));
    t_teardown(&t);

    t_setup(&t, "{" T_ENTRA ",\"azure_authority_host\":\"login.x\"}", NULL,
            LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    assert_int_equal(llm_azure_entra_load(&t.dep, NULL, &sa, err,
                                          sizeof(err)), -1);
    assert_non_null(strstr(err, "not an http(s) URL"));
    assert_null(strstr(err, "s3cr"));
    t_teardown(&t);

#undef T_ENTRA
}


/* Entra's answers: the token, or its error named as Azure's */
static void
test_entra_response(void **state)
{
    char         tok[64];
    long         exp;
    llm_error_t  err;

    static const char  ok[] = "{\"token_type\":\"Bearer\",\"expires_in\":"
        "3599,\"ext_expires_in\":3599,\"access_token\":\"eyJ0.eyJ1.c2ln\"}";
    static const char  bad[] = "{\"error\":\"invalid_client\","
        "\"error_description\":\"AADSTS7000215: Invalid client secret "
        "provided.\",\"error_codes\":[7000215]}";

    assert_int_equal(llm_oauth_token_response("azure", ok, strlen(ok), tok,
                                              sizeof(tok), &exp, &err), 0);
    assert_string_equal(tok, "eyJ0.eyJ1.c2ln");
    assert_int_equal(exp, 3599);

    memset(&err, 0, sizeof(llm_error_t));
    assert_int_equal(llm_oauth_token_response("azure", bad, strlen(bad), tok,
                                              sizeof(tok), &exp, &err), -1);
    assert_int_equal(err.status, 401);
    assert_string_equal(err.type, "authentication_error");
    assert_string_equal(err.message, "azure: the token endpoint refused the "
                        "credentials: invalid_client: AADSTS7000215: Invalid "
                        "client secret provided.");

    memset(&err, 0, sizeof(llm_error_t));
    assert_int_equal(llm_oauth_token_response("azure", "<html>", 6, tok,
                                              sizeof(tok), &exp, &err), -1);
    assert_int_equal(err.status, 502);
    assert_string_equal(err.message, "azure: the token endpoint sent an "
                        "invalid response");
}


static void
test_request_stream(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    /* usage is always asked for, so that spend is tracked */
    t_setup(&t, "{\"api_version\":\"2024-10-21\"}",
            "{\"messages\":[],\"stream\":true}", LLM_ENDPOINT_CHAT);
    t_build_ok(&t, &r);
    assert_string_equal(r.accept, "text/event-stream");
    t_json_eq(r.body.data, "{\"messages\":[],\"stream\":true,"
              "\"stream_options\":{\"include_usage\":true}}");
    llm_http_req_free(&r);
    t_teardown(&t);

    t_setup(&t, NULL, "{\"messages\":[],\"stream\":true,"
            "\"stream_options\":{\"include_usage\":false}}",
            LLM_ENDPOINT_CHAT);
    t_build_check(&t, "/openai/v1/chat/completions",
                  "{\"model\":\"my-gpt4o-deployment\",\"messages\":[],"
                  "\"stream\":true,\"stream_options\":"
                  "{\"include_usage\":true}}");
    t_teardown(&t);

    t_setup(&t, "{\"api_version\":\"2024-08-01-preview\"}",
            "{\"messages\":[],\"stream\":true}", LLM_ENDPOINT_CHAT);
    t_build_check(&t, "/openai/deployments/my-gpt4o-deployment/"
                  "chat/completions?api-version=2024-08-01-preview",
                  "{\"messages\":[],\"stream\":true,\"stream_options\":"
                  "{\"include_usage\":true}}");
    t_teardown(&t);

    /* versions before stream_options would answer 400: left as asked */
    t_setup(&t, "{\"api_version\":\"2024-02-01\"}",
            "{\"messages\":[],\"stream\":true}", LLM_ENDPOINT_CHAT);
    t_build_check(&t, "/openai/deployments/my-gpt4o-deployment/"
                  "chat/completions?api-version=2024-02-01",
                  "{\"messages\":[],\"stream\":true}");
    t_teardown(&t);
}


static void
test_request_embeddings(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    t_setup(&t, "{\"api_version\":\"2024-10-21\"}",
            "{\"model\":\"emb\",\"input\":[\"a\",\"b\"],\"dimensions\":256,"
            "\"encoding_format\":\"base64\",\"user\":\"u1\"}",
            LLM_ENDPOINT_EMBEDDINGS);
    t.dep.model_id = (char *) "te3-small";

    t_build_ok(&t, &r);
    assert_string_equal(r.path.data, "/openai/deployments/te3-small/"
                        "embeddings?api-version=2024-10-21");
    assert_string_equal(t_header(&r, "api-key"), "az-key-1");
    t_json_eq(r.body.data, "{\"input\":[\"a\",\"b\"],\"dimensions\":256,"
              "\"encoding_format\":\"base64\",\"user\":\"u1\"}");
    llm_http_req_free(&r);
    t_teardown(&t);

    t_setup(&t, NULL, "{\"model\":\"emb\",\"input\":\"a\",\"stream\":true}",
            LLM_ENDPOINT_EMBEDDINGS);
    t.dep.model_id = (char *) "te3-small";

    /* no stream_options on embeddings, whatever the body says */
    t_build_check(&t, "/openai/v1/embeddings",
                  "{\"model\":\"te3-small\",\"input\":\"a\","
                  "\"stream\":true}");
    t_teardown(&t);
}


/*
 * responses
 */


static char *
t_response(t_ctx_t *t, const char *body, llm_usage_t *u)
{
    int          rc;
    llm_buf_t    out;
    llm_error_t  err;

    memset(&out, 0, sizeof(llm_buf_t));
    rc = t_adapter()->parse_response(&t->call, body, strlen(body), &out, u,
                                     &err);
    if (rc != LLM_OK) {
        fprintf(stderr, "parse_response: %s\n", err.message);
    }

    assert_int_equal(rc, LLM_OK);

    return out.data;
}


static void
test_response(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_usage_t   u;

    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", NULL, LLM_ENDPOINT_CHAT);

    /* the example of azure.md: filter results may stay, model rewritten */
    out = t_response(&t,
        "{\"id\":\"chatcmpl-az1\",\"object\":\"chat.completion\","
        "\"created\":1735689600,\"model\":\"gpt-4o-2024-08-06\","
        "\"prompt_filter_results\":[{\"prompt_index\":0,"
        "\"content_filter_results\":{\"hate\":{\"filtered\":false,"
        "\"severity\":\"safe\"}}}],"
        "\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
        "\"logprobs\":null,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Hi!\",\"refusal\":null},"
        "\"content_filter_results\":{\"hate\":{\"filtered\":false,"
        "\"severity\":\"safe\"}}}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
        "\"total_tokens\":11,\"prompt_tokens_details\":"
        "{\"cached_tokens\":4}}}", &u);

    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"gpt-4o-eu\","
        "\"prompt_filter_results\":[{\"prompt_index\":0,"
        "\"content_filter_results\":{\"hate\":{\"filtered\":false,"
        "\"severity\":\"safe\"}}}],"
        "\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
        "\"logprobs\":null,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Hi!\",\"refusal\":null},"
        "\"content_filter_results\":{\"hate\":{\"filtered\":false,"
        "\"severity\":\"safe\"}}}],"
        "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,"
        "\"total_tokens\":11,\"prompt_tokens_details\":"
        "{\"cached_tokens\":4}}}");
    free(out);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 9);
    assert_int_equal(u.completion_tokens, 2);
    assert_int_equal(u.cached_tokens, 4);

    /* the output was filtered: content_filter, content absent -> null */
    out = t_response(&t,
        "{\"id\":\"chatcmpl-az3\",\"object\":\"chat.completion\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{"
        "\"index\":0,\"finish_reason\":\"content_filter\","
        "\"message\":{\"role\":\"assistant\"},"
        "\"content_filter_results\":{\"violence\":{\"filtered\":true,"
        "\"severity\":\"medium\"}}}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":0,"
        "\"total_tokens\":12}}", &u);

    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"gpt-4o-eu\",\"choices\":[{"
        "\"index\":0,\"finish_reason\":\"content_filter\",\"logprobs\":null,"
        "\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"refusal\":null},\"content_filter_results\":{\"violence\":{"
        "\"filtered\":true,\"severity\":\"medium\"}}}],"
        "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":0,"
        "\"total_tokens\":12}}");
    free(out);

    t_teardown(&t);
}


static void
test_response_invalid(void **state)
{
    size_t        i;
    t_ctx_t       t;
    llm_buf_t     out;
    llm_usage_t   u;
    llm_error_t   err;

    static const char  *bodies[] = {
        "", "not json", "[]", "{}", "{\"choices\":{}}", "{\"choices\":",
        "<html>502</html>"
    };

    t_setup(&t, NULL, NULL, LLM_ENDPOINT_CHAT);

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        memset(&out, 0, sizeof(llm_buf_t));
        assert_int_equal(t_adapter()->parse_response(&t.call, bodies[i],
                                                     strlen(bodies[i]), &out,
                                                     &u, &err),
                         LLM_ERROR);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.type, "server_error");
        assert_string_equal(err.message,
                            "azure: upstream sent an invalid response");
        llm_buf_free(&out);
    }

    t_teardown(&t);
}


static void
test_response_embeddings(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_usage_t   u;

    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", NULL,
            LLM_ENDPOINT_EMBEDDINGS);
    t.call.model_name = "emb-eu";

    out = t_response(&t,
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
        "\"index\":0,\"embedding\":[0.5,-0.25]}],"
        "\"model\":\"text-embedding-3-small\","
        "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}", &u);

    t_json_eq(out,
        "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\","
        "\"index\":0,\"embedding\":[0.5,-0.25]}],\"model\":\"emb-eu\","
        "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}");
    free(out);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 3);
    assert_int_equal(u.completion_tokens, 0);

    t_teardown(&t);
}


/*
 * streams
 */


/* feeds in pieces: mode 0 whole, 1 bytewise, 2 at split, 3 random */
static char *
t_stream(t_ctx_t *t, const char *in, int mode, size_t split,
    unsigned seed, llm_stream_t *copy)
{
    char          *out;
    size_t         len, off, n;
    llm_stream_t  *s;

    s = llm_stream_new(&t->call);
    assert_non_null(s);

    len = strlen(in);
    srand(seed);

    for (off = 0; off < len; off += n) {
        switch (mode) {
        case 0:
            n = len;
            break;
        case 1:
            n = 1;
            break;
        case 2:
            n = off < split ? split - off : len - off;
            break;
        default:
            n = 1 + rand() % 40;
        }

        if (n > len - off) {
            n = len - off;
        }

        assert_int_equal(s->adapter->stream_feed(s, in + off, n), LLM_OK);
    }

    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);

    llm_buf_append(&s->out, "", 0);
    out = strdup(s->out.data);

    if (copy) {
        *copy = *s;
        memset(&copy->out, 0, sizeof(llm_buf_t));
        copy->priv = NULL;
    }

    llm_stream_free(s);

    return out;
}


/*
 * compares SSE outputs event by event; the JSON payloads as values, so
 * that the key order of a relayed chunk does not matter
 */
static void
t_sse_eq(const char *got, const char *expect)
{
    char        *g, *e, *gs, *es, *gn, *en;
    size_t       glen;

    glen = strlen(got);

    if (glen < 2 || strcmp(got + glen - 2, "\n\n") != 0) {
        fprintf(stderr, "got: %s\n", got);
        fail_msg("the stream does not end with a blank line");
    }

    g = strdup(got);
    e = strdup(expect);

    for (gs = g, es = e; *gs && *es; gs = gn + 2, es = en + 2) {
        gn = strstr(gs, "\n\n");
        en = strstr(es, "\n\n");
        assert_non_null(gn);
        assert_non_null(en);
        *gn = '\0';
        *en = '\0';

        if (strncmp(gs, "data: ", 6) != 0 || strncmp(es, "data: ", 6) != 0
            || strchr(gs, '\n'))
        {
            fprintf(stderr, "got: %s\nexpect: %s\n", gs, es);
            fail_msg("not a data: event");
        }

        if (strcmp(es + 6, "[DONE]") == 0) {
            assert_string_equal(gs + 6, "[DONE]");

        } else {
            t_json_eq(gs + 6, es + 6);
        }
    }

    if (*gs || *es) {
        fprintf(stderr, "got: %s\nexpect: %s\n", got, expect);
        fail_msg("a different number of events");
    }

    free(g);
    free(e);
}


/* the output must not depend on how the upstream bytes were split */
static void
t_stream_check(t_ctx_t *t, const char *in, const char *expect,
    llm_stream_t *end)
{
    char      *out, *whole;
    size_t     k, len;
    unsigned   seed;

    whole = t_stream(t, in, 0, 0, 0, end);
    t_sse_eq(whole, expect);

    out = t_stream(t, in, 1, 0, 0, NULL);
    assert_string_equal(out, whole);
    free(out);

    len = strlen(in);

    for (k = 1; k < len; k++) {
        out = t_stream(t, in, 2, k, 0, NULL);
        assert_string_equal(out, whole);
        free(out);
    }

    for (seed = 1; seed <= 20; seed++) {
        out = t_stream(t, in, 3, 0, seed, NULL);
        assert_string_equal(out, whole);
        free(out);
    }

    free(whole);
}


/* what every relayed chunk gets: one id, created, model and object */
#define T_TAIL                                                               \
    "\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","             \
    "\"created\":1700000000,\"model\":\"gpt-4o-eu\"}\n\n"

#define T_ROLE                                                               \
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","    \
    "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],"

#define T_DONE  "data: [DONE]\n\n"


/* the example of azure.md, with a usage chunk */
static const char  t_azure_text[] =
    "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
    "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,"
    "\"content_filter_results\":{}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"finish_reason\":null,\"content_filter_results\":{}"
    "}],\"created\":1735689600,\"id\":\"chatcmpl-az2\","
    "\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\"}"
    "\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi! \xc3\xa9"
    "\xe4\xbd\xa0\"},\"finish_reason\":null,\"content_filter_results\":{"
    "\"hate\":{\"filtered\":false,\"severity\":\"safe\"}}}],"
    "\"created\":1735689600,\"id\":\"chatcmpl-az2\","
    "\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\"}"
    "\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
    "\"stop\",\"content_filter_results\":{}}],\"created\":1735689600,"
    "\"id\":\"chatcmpl-az2\",\"model\":\"gpt-4o-2024-08-06\","
    "\"object\":\"chat.completion.chunk\"}\n\n"
    "data: {\"choices\":[],\"created\":1735689600,\"id\":\"chatcmpl-az2\","
    "\"model\":\"gpt-4o-2024-08-06\",\"object\":\"chat.completion.chunk\","
    "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,"
    "\"total_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":0},"
    "\"completion_tokens_details\":{\"reasoning_tokens\":0}}}\n\n"
    "data: [DONE]\n\n";


static void
test_stream_text(void **state)
{
    t_ctx_t       t;
    llm_stream_t  end;

    /* the prompt_filter_results event is dropped; no usage unasked */
    t_setup(&t, NULL, "{\"stream\":true}", LLM_ENDPOINT_CHAT);

    t_stream_check(&t, t_azure_text,
        T_ROLE T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi! "
        "\xc3\xa9\xe4\xbd\xa0\"},\"logprobs\":null,\"finish_reason\":null}],"
        T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}]," T_TAIL
        T_DONE, &end);

    assert_int_equal(end.usage.present, 1);
    assert_int_equal(end.usage.prompt_tokens, 9);
    assert_int_equal(end.usage.completion_tokens, 3);
    assert_string_equal(end.finish_reason, "stop");
    assert_int_equal(end.failed, 0);
    assert_int_equal(end.done, 1);
    t_teardown(&t);

    /* asked for: usage null on every chunk, then the usage chunk */
    t_setup(&t, NULL, "{\"stream\":true,\"stream_options\":"
            "{\"include_usage\":true}}", LLM_ENDPOINT_CHAT);

    t_stream_check(&t, t_azure_text,
        T_ROLE "\"usage\":null," T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi! "
        "\xc3\xa9\xe4\xbd\xa0\"},\"logprobs\":null,\"finish_reason\":null}],"
        "\"usage\":null," T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"usage\":null," T_TAIL
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,"
        "\"completion_tokens\":3,\"total_tokens\":12}," T_TAIL
        T_DONE, NULL);

    t_teardown(&t);
}


static void
test_stream_filter(void **state)
{
    t_ctx_t       t;
    llm_stream_t  end;

    t_setup(&t, NULL, "{\"stream\":true}", LLM_ENDPOINT_CHAT);

    /*
     * asynchronous filtering: the first chunk with text has no role
     * (the gateway adds the role chunk), annotation-only chunks with
     * no delta come after the text and are dropped, the output is cut
     * with finish_reason content_filter, and the finish chunk has no
     * delta at all
     */
    t_stream_check(&t,
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
        "\"object\":\"\",\"prompt_filter_results\":[{\"prompt_index\":0,"
        "\"content_filter_results\":{\"jailbreak\":{\"filtered\":false,"
        "\"detected\":false}}}]}\n\n"
        "data: {\"choices\":[{\"content_filter_results\":{},\"delta\":{"
        "\"content\":\"Once\"},\"finish_reason\":null,\"index\":0,"
        "\"logprobs\":null}],\"created\":1735689600,\"id\":\"chatcmpl-az4\","
        "\"model\":\"gpt-4o\",\"object\":\"chat.completion.chunk\","
        "\"system_fingerprint\":\"fp_az\"}\n\n"
        "data: {\"choices\":[{\"content_filter_offsets\":{\"check_offset\":0,"
        "\"start_offset\":0,\"end_offset\":4},\"content_filter_results\":{"
        "\"violence\":{\"filtered\":false,\"severity\":\"low\"}},"
        "\"finish_reason\":null,\"index\":0}],\"created\":0,\"id\":\"\","
        "\"model\":\"\",\"object\":\"\"}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":null,"
        "\"index\":0}],\"object\":\"\"}\n\n"
        "data: {\"choices\":[{\"content_filter_results\":{\"violence\":{"
        "\"filtered\":true,\"severity\":\"high\"}},\"finish_reason\":"
        "\"content_filter\",\"index\":0}],\"created\":0,\"id\":\"\","
        "\"model\":\"\",\"object\":\"\"}\n\n"
        "data: [DONE]\n\n",

        T_ROLE T_TAIL
        "data: {\"choices\":[{\"delta\":{\"content\":\"Once\"},"
        "\"finish_reason\":null,\"index\":0,\"logprobs\":null}],"
        "\"system_fingerprint\":\"fp_az\"," T_TAIL
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":"
        "\"content_filter\",\"index\":0,\"logprobs\":null}]," T_TAIL
        T_DONE, &end);

    assert_string_equal(end.finish_reason, "content_filter");
    assert_int_equal(end.usage.present, 0);
    t_teardown(&t);
}


static void
test_stream_tools(void **state)
{
    t_ctx_t       t;
    llm_stream_t  end;

    t_setup(&t, "{\"api_version\":\"2024-10-21\"}", "{\"stream\":true}",
            LLM_ENDPOINT_CHAT);

    t_stream_check(&t,
        "data: {\"choices\":[],\"created\":0,\"id\":\"\",\"model\":\"\","
        "\"object\":\"\",\"prompt_filter_results\":[]}\n\n"
        "data: {\"choices\":[{\"delta\":{\"content\":null,\"role\":"
        "\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":\"\","
        "\"name\":\"get_weather\"},\"id\":\"call_az1\",\"index\":0,"
        "\"type\":\"function\"}]},\"finish_reason\":null,\"index\":0}],"
        "\"object\":\"chat.completion.chunk\"}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{"
        "\"arguments\":\"{\\\"city\"},\"index\":0}]},\"finish_reason\":null,"
        "\"index\":0}],\"object\":\"chat.completion.chunk\"}\n\n"
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{"
        "\"arguments\":\"\\\":\\\"Paris\\\"}\"},\"index\":0}]},"
        "\"finish_reason\":null,\"index\":0}],"
        "\"object\":\"chat.completion.chunk\"}\n\n"
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\","
        "\"index\":0}],\"object\":\"chat.completion.chunk\"}\n\n"
        "data: [DONE]\n\n",

        "data: {\"choices\":[{\"delta\":{\"content\":null,\"role\":"
        "\"assistant\",\"tool_calls\":[{\"function\":{\"arguments\":\"\","
        "\"name\":\"get_weather\"},\"id\":\"call_az1\",\"index\":0,"
        "\"type\":\"function\"}]},\"finish_reason\":null,\"index\":0,"
        "\"logprobs\":null}]," T_TAIL
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{"
        "\"arguments\":\"{\\\"city\"},\"index\":0}]},\"finish_reason\":null,"
        "\"index\":0,\"logprobs\":null}]," T_TAIL
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{"
        "\"arguments\":\"\\\":\\\"Paris\\\"}\"},\"index\":0}]},"
        "\"finish_reason\":null,\"index\":0,\"logprobs\":null}]," T_TAIL
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\","
        "\"index\":0,\"logprobs\":null}]," T_TAIL
        T_DONE, &end);

    assert_int_equal(end.ntools, 1);
    assert_string_equal(end.finish_reason, "tool_calls");
    t_teardown(&t);
}


static void
test_stream_errors(void **state)
{
    char          *out;
    t_ctx_t        t;
    llm_stream_t  *s;

    t_setup(&t, NULL, "{\"stream\":true}", LLM_ENDPOINT_CHAT);

    /* a mid-stream error in Azure's shape: code is the status */
    t_stream_check(&t,
        "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"error\":{\"code\":\"429\",\"message\":\"Requests have "
        "exceeded token rate limit.\"}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},"
        "\"finish_reason\":null}]}\n\n",

        T_ROLE T_TAIL
        "data: {\"error\":{\"message\":\"azure: Requests have exceeded "
        "token rate limit.\",\"type\":\"rate_limit_error\",\"param\":null,"
        "\"code\":\"rate_limit_exceeded\"}}\n\n"
        T_DONE, NULL);

    /* the upstream went away before [DONE] */
    t_stream_check(&t,
        "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
        "\"finish_reason\":null}]}\n\ndata: {\"choi",

        T_ROLE T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
        "\"finish_reason\":null,\"logprobs\":null}]," T_TAIL
        "data: {\"error\":{\"message\":\"azure: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        T_DONE, NULL);

    /* only the prompt filter event, then the end: a finish is added */
    t_stream_check(&t,
        "data: {\"choices\":[],\"prompt_filter_results\":[]}\n\n"
        "data: not json\n\n: keep-alive\n\ndata: [1]\n\n"
        "data: {\"choices\":[1,\"x\",null]}\n\n"
        "data: [DONE]",

        T_ROLE T_TAIL
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}]," T_TAIL
        T_DONE, NULL);

    /* nothing at all */
    t_stream_check(&t, "",
        "data: {\"error\":{\"message\":\"azure: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        T_DONE, NULL);

    /* an oversized event fails the stream */
    s = llm_stream_new(&t.call);
    assert_non_null(s);
    out = malloc(17 * 1024 * 1024);
    assert_non_null(out);
    memset(out, 'x', 17 * 1024 * 1024);
    memcpy(out, "data: ", 6);
    assert_int_equal(s->adapter->stream_feed(s, out, 17 * 1024 * 1024),
                     LLM_OK);
    assert_int_equal(s->failed, 1);
    assert_int_equal(s->error.status, 502);
    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
    free(out);
    llm_stream_free(s);

    t_teardown(&t);
}


/*
 * errors
 */


static void
t_error(int status, const char *body, int expect_status, const char *type,
    const char *code, const char *param, const char *msg)
{
    t_ctx_t      t;
    llm_error_t  e;

    t_setup(&t, NULL, NULL, LLM_ENDPOINT_CHAT);

    memset(&e, 0, sizeof(llm_error_t));
    t_adapter()->parse_error(&t.call, status, body, strlen(body), &e);

    assert_int_equal(e.status, expect_status);
    assert_string_equal(e.type, type);
    assert_string_equal(e.code, code);
    assert_string_equal(e.param, param);
    assert_string_equal(e.message, msg);

    t_teardown(&t);
}


static void
test_errors(void **state)
{
    /* the prompt tripped the content filter */
    t_error(400,
        "{\"error\":{\"message\":\"The response was filtered due to the "
        "prompt triggering Azure OpenAI's content management policy.\","
        "\"type\":null,\"param\":\"prompt\",\"code\":\"content_filter\","
        "\"status\":400,\"innererror\":{\"code\":"
        "\"ResponsibleAIPolicyViolation\",\"content_filter_result\":{"
        "\"hate\":{\"filtered\":true,\"severity\":\"high\"}}}}}",
        400, "invalid_request_error", "content_filter", "prompt",
        "azure: The response was filtered due to the prompt triggering "
        "Azure OpenAI's content management policy.");

    /* ... saying so only in innererror */
    t_error(400,
        "{\"error\":{\"message\":\"Filtered.\",\"code\":null,"
        "\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\"}}}",
        400, "invalid_request_error", "content_filter", "",
        "azure: Filtered.");

    t_error(400,
        "{\"error\":{\"message\":\"This model's maximum context length is "
        "128000 tokens.\",\"type\":\"invalid_request_error\",\"param\":"
        "\"messages\",\"code\":\"context_length_exceeded\"}}",
        400, "invalid_request_error", "context_length_exceeded", "messages",
        "azure: This model's maximum context length is 128000 tokens.");

    t_error(401,
        "{\"error\":{\"code\":\"401\",\"message\":\"Access denied due to "
        "invalid subscription key or wrong API endpoint.\"}}",
        401, "authentication_error", "invalid_api_key", "",
        "azure: Access denied due to invalid subscription key or wrong API "
        "endpoint.");

    /* the older APIM shape */
    t_error(401,
        "{\"statusCode\":401,\"message\":\"Unauthorized. Access token is "
        "missing, invalid, audience is incorrect, or have expired.\"}",
        401, "authentication_error", "invalid_api_key", "",
        "azure: Unauthorized. Access token is missing, invalid, audience is "
        "incorrect, or have expired.");

    t_error(404,
        "{\"error\":{\"code\":\"DeploymentNotFound\",\"message\":\"The API "
        "deployment for this resource does not exist.\"}}",
        404, "invalid_request_error", "model_not_found", "",
        "azure: The API deployment for this resource does not exist.");

    t_error(404, "{\"error\":{\"code\":\"404\",\"message\":"
            "\"Resource not found\"}}",
            404, "invalid_request_error", "model_not_found", "",
            "azure: Resource not found");

    t_error(429,
        "{\"error\":{\"code\":\"429\",\"message\":\"Requests to the "
        "ChatCompletions_Create Operation under Azure OpenAI API version "
        "2024-10-21 have exceeded token rate limit of your current pricing "
        "tier. Please retry after 6 seconds.\"}}",
        429, "rate_limit_error", "rate_limit_exceeded", "",
        "azure: Requests to the ChatCompletions_Create Operation under Azure "
        "OpenAI API version 2024-10-21 have exceeded token rate limit of "
        "your current pricing tier. Please retry after 6 seconds.");

    t_error(429, "{\"error\":{\"code\":429,\"message\":\"Too many\"}}",
            429, "rate_limit_error", "rate_limit_exceeded", "",
            "azure: Too many");

    t_error(400, "{\"error\":{\"code\":\"BadRequest\",\"message\":"
            "\"API version not supported\"}}",
            400, "invalid_request_error", "BadRequest", "",
            "azure: API version not supported");

    t_error(500, "{\"error\":{\"code\":\"InternalServerError\",\"message\":"
            "\"The server had an error.\"}}",
            502, "server_error", "", "", "azure: The server had an error.");

    t_error(503, "{\"error\":{\"code\":\"503\",\"message\":\"busy\"}}",
            503, "server_error", "overloaded", "", "azure: busy");

    t_error(502, "<html>\r\n<body>Bad\tGateway</body>\n</html>\n",
            502, "server_error", "", "",
            "azure: <html> <body>Bad Gateway</body> </html>");

    t_error(500, "", 502, "server_error", "", "",
            "azure: upstream returned HTTP 500");

    t_error(400, "{\"error\":{\"code\":[1],\"message\":{}}}",
            400, "invalid_request_error", "", "",
            "azure: upstream returned HTTP 400");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_dated),
        cmocka_unit_test(test_entra_load),
        cmocka_unit_test(test_entra_response),
        cmocka_unit_test(test_request_v1),
        cmocka_unit_test(test_request_auth),
        cmocka_unit_test(test_request_stream),
        cmocka_unit_test(test_request_embeddings),
        cmocka_unit_test(test_response),
        cmocka_unit_test(test_response_invalid),
        cmocka_unit_test(test_response_embeddings),
        cmocka_unit_test(test_stream_text),
        cmocka_unit_test(test_stream_filter),
        cmocka_unit_test(test_stream_tools),
        cmocka_unit_test(test_stream_errors),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
