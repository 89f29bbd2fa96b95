/*
 * Copyright (C) ngx_llm authors
 *
 * The OpenAI-dialect adapter (OpenAI, Mistral, Groq), with the examples
 * of ../shared/providers/{openai,mistral,groq}.md.
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

    a = llm_adapter_get(LLM_PROVIDER_OPENAI);
    assert_non_null(a);
    assert_ptr_equal(a, llm_adapter_get(LLM_PROVIDER_MISTRAL));
    assert_ptr_equal(a, llm_adapter_get(LLM_PROVIDER_GROQ));

    return a;
}


/* a deployment and a call for req (JSON text); NULL req: {} */
static void
t_setup(t_ctx_t *t, llm_provider_e provider, const char *model_name,
    const char *model_id, const char *req, llm_endpoint_e endpoint)
{
    const cJSON  *v, *so;

    memset(t, 0, sizeof(t_ctx_t));

    t->dep.provider = provider;
    t->dep.model_name = (char *) model_name;
    t->dep.model_id = (char *) model_id;
    t->dep.api_key = (char *) "sk-test";
    t->dep.bearer = (char *) "Bearer sk-test";      /* as loaded */
    t->dep.base.path = (char *) (provider == LLM_PROVIDER_GROQ
                                 ? "/openai/v1" : "/v1");
    t->dep.drop_params = -1;

    t->req = cJSON_Parse(req ? req : "{}");
    assert_non_null(t->req);

    t->call.endpoint = endpoint;
    t->call.dep = &t->dep;
    t->call.req = t->req;
    t->call.model_name = model_name;
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


static void
t_build_fails(t_ctx_t *t, int status, const char *param,
    llm_error_t *err)
{
    llm_http_req_t  r;

    memset(err, 0, sizeof(llm_error_t));
    assert_int_equal(llm_request_build(&t->call, &r, err), LLM_ERROR);
    assert_int_equal(err->status, status);

    if (param) {
        assert_string_equal(err->param, param);
    }
}


/*
 * requests
 */


static void
test_openai_request(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt-mini", "gpt-4o-mini",
            "{\"model\":\"gpt-mini\",\"messages\":["
            "{\"role\":\"developer\",\"content\":\"Answer in one word.\"},"
            "{\"role\":\"user\",\"content\":\"Capital of France?\"}],"
            "\"max_completion_tokens\":16,\"temperature\":0,"
            "\"logprobs\":true,\"user\":\"u-1\"}",
            LLM_ENDPOINT_CHAT);
    t.dep.params = cJSON_Parse("{\"organization\":\"org-1\"}");
    t.dep.organization = (char *) "org-1";
    t.dep.defaults = cJSON_Parse("{\"temperature\":0.7,\"top_p\":0.5}");

    t_build_ok(&t, &r);

    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data, "/v1/chat/completions");
    assert_string_equal(r.accept, "application/json");
    assert_string_equal(t_header(&r, "Authorization"), "Bearer sk-test");
    assert_string_equal(t_header(&r, "OpenAI-Organization"), "org-1");
    llm_http_req_free(&r);

    /* the values made at load are sent as they are, not copied */
    t.dep.bearer = (char *) "Bearer sk-made-at-load";
    t.dep.organization = (char *) "org-made-at-load";
    t_build_ok(&t, &r);
    assert_ptr_equal(t_header(&r, "Authorization"), t.dep.bearer);
    assert_ptr_equal(t_header(&r, "OpenAI-Organization"),
                     t.dep.organization);

    /* defaults merged under the request, the model rewritten */
    t_json_eq(r.body.data,
              "{\"model\":\"gpt-4o-mini\",\"messages\":["
              "{\"role\":\"developer\",\"content\":\"Answer in one word.\"},"
              "{\"role\":\"user\",\"content\":\"Capital of France?\"}],"
              "\"max_completion_tokens\":16,\"temperature\":0,"
              "\"logprobs\":true,\"user\":\"u-1\",\"top_p\":0.5}");

    llm_http_req_free(&r);
    t_teardown(&t);
}


static void
test_openai_request_stream(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    /* the client did not ask for usage: the gateway still does */
    t_setup(&t, LLM_PROVIDER_OPENAI, "local", "qwen",
            "{\"model\":\"local\",\"stream\":true,"
            "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            LLM_ENDPOINT_CHAT);
    t.dep.api_key = NULL;
    t.dep.bearer = NULL;
    t.dep.base.path = (char *) "";

    t_build_ok(&t, &r);

    assert_string_equal(r.path.data, "/chat/completions");
    assert_string_equal(r.accept, "text/event-stream");
    assert_null(t_header(&r, "Authorization"));
    assert_null(t_header(&r, "OpenAI-Organization"));
    t_json_eq(r.body.data,
              "{\"model\":\"qwen\",\"stream\":true,"
              "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
              "\"stream_options\":{\"include_usage\":true}}");

    llm_http_req_free(&r);
    t_teardown(&t);

    /* other stream options are kept */
    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt", "gpt-4o",
            "{\"model\":\"gpt\",\"stream\":true,\"stream_options\":"
            "{\"include_usage\":false,\"include_obfuscation\":false},"
            "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            LLM_ENDPOINT_CHAT);

    t_build_ok(&t, &r);
    t_json_eq(r.body.data,
              "{\"model\":\"gpt-4o\",\"stream\":true,\"stream_options\":"
              "{\"include_usage\":true,\"include_obfuscation\":false},"
              "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    llm_http_req_free(&r);
    t_teardown(&t);
}


static void
test_openai_missing_env(void **state)
{
    t_ctx_t      t;
    llm_error_t  err;

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt", "gpt-4o",
            "{\"model\":\"gpt\",\"messages\":[]}", LLM_ENDPOINT_CHAT);
    t.dep.missing_env = (char *) "OPENAI_API_KEY";

    t_build_fails(&t, 401, NULL, &err);
    assert_string_equal(err.type, "authentication_error");
    assert_string_equal(err.message, "environment variable OPENAI_API_KEY "
                        "for model \"gpt\" is not set");

    t_teardown(&t);
}


static void
test_mistral_request(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    /* mistral.md's example pair */
    t_setup(&t, LLM_PROVIDER_MISTRAL, "mistral-large", "mistral-large-latest",
            "{\"model\":\"mistral-large\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"2+2?\",\"name\":\"alice\"}],"
            "\"seed\":7,\"user\":\"u-1\",\"max_tokens\":20,"
            "\"tool_choice\":\"required\",\"tools\":[{\"type\":\"function\","
            "\"function\":{\"name\":\"calc\",\"parameters\":{\"type\":"
            "\"object\",\"properties\":{\"expr\":{\"type\":\"string\"}}}}}]}",
            LLM_ENDPOINT_CHAT);

    t_build_ok(&t, &r);

    assert_string_equal(r.path.data, "/v1/chat/completions");
    assert_string_equal(t_header(&r, "Authorization"), "Bearer sk-test");
    t_json_eq(r.body.data,
              "{\"model\":\"mistral-large-latest\",\"messages\":[{\"role\":"
              "\"user\",\"content\":\"2+2?\"}],\"random_seed\":7,"
              "\"max_tokens\":20,\"tool_choice\":\"any\",\"tools\":[{\"type\":"
              "\"function\",\"function\":{\"name\":\"calc\",\"parameters\":"
              "{\"type\":\"object\",\"properties\":{\"expr\":{\"type\":"
              "\"string\"}}}}}]}");

    llm_http_req_free(&r);
    t_teardown(&t);
}


static int
t_is_mistral_id(const char *id)
{
    size_t  i;

    if (strlen(id) != 9) {
        return 0;
    }

    for (i = 0; i < 9; i++) {
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z')
              || (id[i] >= '0' && id[i] <= '9')))
        {
            return 0;
        }
    }

    return 1;
}


static void
test_mistral_request_conversation(void **state)
{
    char            *p;
    cJSON           *b, *msgs, *m;
    t_ctx_t          t;
    const char      *id1, *id2, *id3;
    llm_http_req_t   r, r2;

    t_setup(&t, LLM_PROVIDER_MISTRAL, "mistral", "mistral-small-latest",
            "{\"model\":\"mistral\",\"stream\":true,"
            "\"stream_options\":{\"include_usage\":true},"
            "\"max_completion_tokens\":50,\"max_tokens\":10,"
            "\"logprobs\":true,\"top_logprobs\":2,\"logit_bias\":{},"
            "\"service_tier\":\"auto\",\"store\":false,\"metadata\":{},"
            "\"messages\":["
            "{\"role\":\"developer\",\"content\":\"be brief\",\"name\":\"x\"},"
            "{\"role\":\"user\",\"content\":\"weather?\"},"
            "{\"role\":\"assistant\",\"content\":null,\"refusal\":null,"
            "\"tool_calls\":[{\"id\":\"call_abc123\",\"type\":\"function\","
            "\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}},"
            "{\"id\":\"D681PevKs\",\"type\":\"function\","
            "\"function\":{\"name\":\"w\",\"arguments\":\"{}\"}}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"call_abc123\","
            "\"name\":\"w\",\"content\":\"sunny\"},"
            "{\"role\":\"tool\",\"tool_call_id\":\"D681PevKs\","
            "\"content\":\"rain\"},"
            "{\"role\":\"assistant\",\"content\":\"\"},"
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[]},"
            "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
            "\"text\":\"ok\"}]}]}",
            LLM_ENDPOINT_CHAT);

    t_build_ok(&t, &r);

    b = cJSON_Parse(r.body.data);
    assert_non_null(b);

    /* dropped and renamed params */
    assert_null(cJSON_GetObjectItem(b, "stream_options"));
    assert_null(cJSON_GetObjectItem(b, "logprobs"));
    assert_null(cJSON_GetObjectItem(b, "top_logprobs"));
    assert_null(cJSON_GetObjectItem(b, "logit_bias"));
    assert_null(cJSON_GetObjectItem(b, "service_tier"));
    assert_null(cJSON_GetObjectItem(b, "store"));
    assert_null(cJSON_GetObjectItem(b, "metadata"));
    assert_null(cJSON_GetObjectItem(b, "max_completion_tokens"));
    assert_int_equal(cJSON_GetObjectItem(b, "max_tokens")->valueint, 50);

    msgs = cJSON_GetObjectItem(b, "messages");
    assert_int_equal(cJSON_GetArraySize(msgs), 6);

    m = cJSON_GetArrayItem(msgs, 0);
    p = cJSON_PrintUnformatted(m);
    t_json_eq(p, "{\"role\":\"system\",\"content\":\"be brief\"}");
    free(p);

    m = cJSON_GetArrayItem(msgs, 2);
    assert_null(cJSON_GetObjectItem(m, "refusal"));
    id1 = cJSON_GetObjectItem(cJSON_GetArrayItem(
              cJSON_GetObjectItem(m, "tool_calls"), 0), "id")->valuestring;
    id3 = cJSON_GetObjectItem(cJSON_GetArrayItem(
              cJSON_GetObjectItem(m, "tool_calls"), 1), "id")->valuestring;
    assert_true(t_is_mistral_id(id1));
    assert_string_equal(id3, "D681PevKs");

    /* the call and its result still match; the tool name stays */
    m = cJSON_GetArrayItem(msgs, 3);
    id2 = cJSON_GetObjectItem(m, "tool_call_id")->valuestring;
    assert_string_equal(id1, id2);
    assert_string_equal(cJSON_GetObjectItem(m, "name")->valuestring, "w");

    m = cJSON_GetArrayItem(msgs, 4);
    assert_string_equal(cJSON_GetObjectItem(m, "tool_call_id")->valuestring,
                        "D681PevKs");

    /* the same on another request: deterministic */
    t_build_ok(&t, &r2);
    assert_string_equal(r.body.data, r2.body.data);

    m = cJSON_GetArrayItem(msgs, 5);
    assert_string_equal(cJSON_GetObjectItem(m, "role")->valuestring, "user");

    cJSON_Delete(b);
    llm_http_req_free(&r);
    llm_http_req_free(&r2);
    t_teardown(&t);
}


static void
test_mistral_request_unsupported(void **state)
{
    t_ctx_t         t;
    llm_error_t     err;
    llm_http_req_t  r;

    t_setup(&t, LLM_PROVIDER_MISTRAL, "mistral", "mistral-small-latest",
            "{\"model\":\"mistral\",\"modalities\":[\"text\"],"
            "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
            LLM_ENDPOINT_CHAT);

    t_build_fails(&t, 400, "modalities", &err);
    assert_string_equal(err.type, "invalid_request_error");

    t.call.drop_params = 1;
    t_build_ok(&t, &r);
    t_json_eq(r.body.data, "{\"model\":\"mistral-small-latest\","
              "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    llm_http_req_free(&r);
    t_teardown(&t);
}


static void
test_groq_request(void **state)
{
    t_ctx_t         t;
    llm_http_req_t  r;

    /* groq.md's example pair, with drop_params */
    t_setup(&t, LLM_PROVIDER_GROQ, "llama-70b", "llama-3.3-70b-versatile",
            "{\"model\":\"llama-70b\",\"messages\":[{\"role\":\"user\","
            "\"name\":\"bob\",\"content\":\"Hi\"}],"
            "\"logprobs\":true,\"temperature\":0,\"max_tokens\":16}",
            LLM_ENDPOINT_CHAT);
    t.call.drop_params = 1;

    t_build_ok(&t, &r);

    assert_string_equal(r.path.data, "/openai/v1/chat/completions");
    assert_string_equal(t_header(&r, "Authorization"), "Bearer sk-test");
    t_json_eq(r.body.data,
              "{\"model\":\"llama-3.3-70b-versatile\",\"messages\":[{\"role\":"
              "\"user\",\"content\":\"Hi\"}],\"temperature\":0,"
              "\"max_tokens\":16}");

    llm_http_req_free(&r);
    t_teardown(&t);
}


static void
test_groq_request_rejects(void **state)
{
    t_ctx_t         t;
    llm_error_t     err;
    llm_http_req_t  r;

    t_setup(&t, LLM_PROVIDER_GROQ, "llama", "llama-3.1-8b-instant",
            "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hi\"}],\"logprobs\":true}", LLM_ENDPOINT_CHAT);
    t_build_fails(&t, 400, "logprobs", &err);
    assert_non_null(strstr(err.message, "groq"));
    t_teardown(&t);

    t_setup(&t, LLM_PROVIDER_GROQ, "llama", "llama-3.1-8b-instant",
            "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hi\"}],\"logit_bias\":{\"1\":2}}",
            LLM_ENDPOINT_CHAT);
    t_build_fails(&t, 400, "logit_bias", &err);
    t_teardown(&t);

    t_setup(&t, LLM_PROVIDER_GROQ, "llama", "llama-3.1-8b-instant",
            "{\"model\":\"llama\",\"messages\":[{\"role\":\"system\","
            "\"content\":\"s\"},{\"role\":\"user\",\"name\":\"bob\","
            "\"content\":\"Hi\"}]}", LLM_ENDPOINT_CHAT);
    t_build_fails(&t, 400, "messages[].name", &err);
    assert_non_null(strstr(err.message, "messages[1].name"));
    t_teardown(&t);

    t_setup(&t, LLM_PROVIDER_GROQ, "llama", "llama-3.1-8b-instant",
            "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hi\"}],\"n\":3}", LLM_ENDPOINT_CHAT);
    t_build_fails(&t, 400, "n", &err);

    t.call.drop_params = 1;
    t_build_ok(&t, &r);
    assert_null(strstr(r.body.data, "\"n\""));
    llm_http_req_free(&r);
    t_teardown(&t);

    /* n: 1 and logprobs: false ask for nothing Groq lacks */
    t_setup(&t, LLM_PROVIDER_GROQ, "llama", "llama-3.1-8b-instant",
            "{\"model\":\"llama\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hi\"}],\"n\":1,\"logprobs\":false,\"stream\":true,"
            "\"max_completion_tokens\":9,\"seed\":3,\"user\":\"u\"}",
            LLM_ENDPOINT_CHAT);
    t_build_ok(&t, &r);
    t_json_eq(r.body.data,
              "{\"model\":\"llama-3.1-8b-instant\",\"messages\":[{\"role\":"
              "\"user\",\"content\":\"Hi\"}],\"stream\":true,\"seed\":3,"
              "\"user\":\"u\",\"max_tokens\":9,"
              "\"stream_options\":{\"include_usage\":true}}");
    llm_http_req_free(&r);
    t_teardown(&t);
}


static void
test_embeddings_request(void **state)
{
    t_ctx_t         t;
    llm_error_t     err;
    llm_http_req_t  r;

    t_setup(&t, LLM_PROVIDER_OPENAI, "embed", "text-embedding-3-small",
            "{\"model\":\"embed\",\"input\":[\"a\",\"b\"],"
            "\"encoding_format\":\"base64\",\"dimensions\":256}",
            LLM_ENDPOINT_EMBEDDINGS);
    t_build_ok(&t, &r);
    assert_string_equal(r.path.data, "/v1/embeddings");
    t_json_eq(r.body.data,
              "{\"model\":\"text-embedding-3-small\",\"input\":[\"a\",\"b\"],"
              "\"encoding_format\":\"base64\",\"dimensions\":256}");
    llm_http_req_free(&r);
    t_teardown(&t);

    t_setup(&t, LLM_PROVIDER_MISTRAL, "membed", "mistral-embed",
            "{\"model\":\"membed\",\"input\":\"hello\",\"user\":\"u\","
            "\"encoding_format\":\"float\",\"dimensions\":256}",
            LLM_ENDPOINT_EMBEDDINGS);
    t_build_ok(&t, &r);
    assert_string_equal(r.path.data, "/v1/embeddings");
    t_json_eq(r.body.data,
              "{\"model\":\"mistral-embed\",\"input\":\"hello\","
              "\"encoding_format\":\"float\",\"output_dimension\":256}");
    llm_http_req_free(&r);
    t_teardown(&t);

    t_setup(&t, LLM_PROVIDER_GROQ, "gembed", "x",
            "{\"model\":\"gembed\",\"input\":\"hello\"}",
            LLM_ENDPOINT_EMBEDDINGS);
    t_build_fails(&t, 400, "model", &err);
    assert_string_equal(err.type, "invalid_request_error");
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
test_openai_response(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_usage_t   u;

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt-mini", "gpt-4o-mini", NULL,
            LLM_ENDPOINT_CHAT);

    out = t_response(&t,
        "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\","
        "\"created\":1735689600,\"model\":\"gpt-4o-2024-08-06\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Paris.\",\"refusal\":null},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":21,"
        "\"completion_tokens\":2,\"total_tokens\":23,"
        "\"prompt_tokens_details\":{\"cached_tokens\":16,\"audio_tokens\":0},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":1,"
        "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
        "\"rejected_prediction_tokens\":0}},\"system_fingerprint\":\"fp_x\"}",
        &u);

    /* unformatted, id/created/model rewritten, the rest kept */
    assert_null(strchr(out, '\n'));
    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"gpt-mini\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Paris.\",\"refusal\":null},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":21,"
        "\"completion_tokens\":2,\"total_tokens\":23,"
        "\"prompt_tokens_details\":{\"cached_tokens\":16,\"audio_tokens\":0},"
        "\"completion_tokens_details\":{\"reasoning_tokens\":1,"
        "\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
        "\"rejected_prediction_tokens\":0}},\"system_fingerprint\":\"fp_x\"}");

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 21);
    assert_int_equal(u.completion_tokens, 2);
    assert_int_equal(u.total_tokens, 23);
    assert_int_equal(u.cached_tokens, 16);
    assert_int_equal(u.reasoning_tokens, 1);

    free(out);

    /* missing keys are added, unknown ones kept, no usage is no usage */
    out = t_response(&t,
        "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"x\",\"extra\":1},\"finish_reason\":\"length\"},7],"
        "\"usage\":\"bogus\"}", &u);
    t_json_eq(out,
        "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"x\",\"extra\":1,\"refusal\":null},"
        "\"finish_reason\":\"length\",\"logprobs\":null},7],"
        "\"usage\":\"bogus\",\"id\":\"" T_ID "\","
        "\"object\":\"chat.completion\",\"created\":1700000000,"
        "\"model\":\"gpt-mini\"}");
    assert_int_equal(u.present, 0);
    free(out);

    t_teardown(&t);
}


static void
test_mistral_response(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_usage_t   u;

    t_setup(&t, LLM_PROVIDER_MISTRAL, "mistral-large", "mistral-large-latest",
            NULL, LLM_ENDPOINT_CHAT);

    out = t_response(&t,
        "{\"id\":\"cmpl-m1\",\"object\":\"chat.completion\","
        "\"created\":1735689600,\"model\":\"mistral-large-latest\","
        "\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\","
        "\"message\":{\"role\":\"assistant\",\"content\":\"\","
        "\"tool_calls\":[{\"id\":\"D681PevKs\",\"type\":\"function\","
        "\"function\":{\"name\":\"calc\",\"arguments\":"
        "\"{\\\"expr\\\": \\\"2+2\\\"}\"}}]}}],"
        "\"usage\":{\"prompt_tokens\":70,\"completion_tokens\":14,"
        "\"total_tokens\":84}}", &u);

    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"mistral-large\","
        "\"choices\":[{\"index\":0,\"finish_reason\":\"tool_calls\","
        "\"message\":{\"role\":\"assistant\",\"content\":null,"
        "\"tool_calls\":[{\"id\":\"D681PevKs\",\"type\":\"function\","
        "\"function\":{\"name\":\"calc\",\"arguments\":"
        "\"{\\\"expr\\\": \\\"2+2\\\"}\"}}],\"refusal\":null},"
        "\"logprobs\":null}],"
        "\"usage\":{\"prompt_tokens\":70,\"completion_tokens\":14,"
        "\"total_tokens\":84}}");
    assert_int_equal(u.prompt_tokens, 70);
    assert_int_equal(u.completion_tokens, 14);
    assert_int_equal(u.total_tokens, 84);
    free(out);

    /* model_length, content chunks, num_cached_tokens */
    out = t_response(&t,
        "{\"id\":\"cmpl-m3\",\"choices\":[{\"index\":0,"
        "\"finish_reason\":\"model_length\",\"message\":{\"role\":"
        "\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":["
        "{\"type\":\"text\",\"text\":\"hmm \"},{\"type\":\"text\","
        "\"text\":\"ok\"}]},{\"type\":\"text\",\"text\":\"Four\"},"
        "{\"type\":\"text\",\"text\":\".\"},{\"type\":\"image\"}]}},"
        "{\"index\":1,\"finish_reason\":\"error\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"x\"}}],"
        "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
        "\"total_tokens\":11,\"num_cached_tokens\":4}}", &u);

    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"choices\":[{\"index\":0,"
        "\"finish_reason\":\"length\",\"message\":{\"role\":\"assistant\","
        "\"content\":\"Four.\",\"reasoning_content\":\"hmm ok\","
        "\"refusal\":null},\"logprobs\":null},"
        "{\"index\":1,\"finish_reason\":\"stop\",\"message\":{\"role\":"
        "\"assistant\",\"content\":\"x\",\"refusal\":null},"
        "\"logprobs\":null}],"
        "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
        "\"total_tokens\":11,\"prompt_tokens_details\":"
        "{\"cached_tokens\":4}},\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"mistral-large\"}");
    assert_int_equal(u.cached_tokens, 4);
    free(out);

    t_teardown(&t);
}


static void
test_groq_response(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_usage_t   u;

    t_setup(&t, LLM_PROVIDER_GROQ, "llama-70b", "llama-3.3-70b-versatile",
            NULL, LLM_ENDPOINT_CHAT);

    out = t_response(&t,
        "{\"id\":\"chatcmpl-g1\",\"object\":\"chat.completion\","
        "\"created\":1735689600,\"model\":\"llama-3.3-70b-versatile\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Hello!\"},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"queue_time\":0.02,\"prompt_tokens\":36,"
        "\"prompt_time\":0.004,\"completion_tokens\":3,"
        "\"completion_time\":0.01,\"total_tokens\":39,"
        "\"total_time\":0.014},"
        "\"system_fingerprint\":\"fp_x\",\"x_groq\":{\"id\":\"req_01abc\"}}",
        &u);

    t_json_eq(out,
        "{\"id\":\"" T_ID "\",\"object\":\"chat.completion\","
        "\"created\":1700000000,\"model\":\"llama-70b\","
        "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
        "\"content\":\"Hello!\",\"refusal\":null},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],"
        "\"usage\":{\"prompt_tokens\":36,\"completion_tokens\":3,"
        "\"total_tokens\":39},\"system_fingerprint\":\"fp_x\"}");
    assert_int_equal(u.prompt_tokens, 36);
    assert_int_equal(u.total_tokens, 39);
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
        "", "not json", "[1,2]", "{\"id\":\"x\"}", "{\"choices\":{}}",
        "{\"choices\":[", "null",
    };

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt", "gpt-4o", NULL,
            LLM_ENDPOINT_CHAT);

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        memset(&out, 0, sizeof(llm_buf_t));
        assert_int_equal(t_adapter()->parse_response(&t.call, bodies[i],
                             strlen(bodies[i]), &out, &u, &err), LLM_ERROR);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.type, "server_error");
        assert_string_equal(err.message,
                            "openai: upstream sent an invalid response");
        assert_null(out.data);
    }

    /* a 200 that carries an error */
    memset(&out, 0, sizeof(llm_buf_t));
    assert_int_equal(t_adapter()->parse_response(&t.call,
                         "{\"error\":{\"message\":\"boom\"}}", 28, &out, &u,
                         &err), LLM_ERROR);
    assert_int_equal(err.status, 502);
    assert_string_equal(err.message, "openai: boom");

    t_teardown(&t);
}


static void
test_embeddings_response(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_buf_t     buf;
    llm_usage_t   u;
    llm_error_t   err;

    t_setup(&t, LLM_PROVIDER_MISTRAL, "membed", "mistral-embed", NULL,
            LLM_ENDPOINT_EMBEDDINGS);

    out = t_response(&t,
        "{\"id\":\"e1\",\"object\":\"list\",\"model\":\"mistral-embed\","
        "\"data\":[{\"object\":\"embedding\",\"index\":0,"
        "\"embedding\":[0.1,-0.2]}],\"usage\":{\"prompt_tokens\":8,"
        "\"completion_tokens\":0,\"total_tokens\":8}}", &u);

    /* OpenAI's shape: Mistral's own id and usage keys are not passed */
    t_json_eq(out,
        "{\"object\":\"list\",\"model\":\"membed\","
        "\"data\":[{\"object\":\"embedding\",\"index\":0,"
        "\"embedding\":[0.1,-0.2]}],\"usage\":{\"prompt_tokens\":8,"
        "\"total_tokens\":8}}");
    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 8);
    assert_int_equal(u.total_tokens, 8);
    free(out);

    memset(&buf, 0, sizeof(llm_buf_t));
    assert_int_equal(t_adapter()->parse_response(&t.call, "{\"object\":1}",
                         12, &buf, &u, &err), LLM_ERROR);
    assert_int_equal(err.status, 502);

    t_teardown(&t);
}


/*
 * streams
 */


/* feeds in pieces: mode 0 whole, 1 bytewise, 2 at split, 3 random */
static char *
t_stream(t_ctx_t *t, const char *in, int mode, size_t split,
    unsigned seed, llm_usage_t *usage)
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

    if (usage) {
        *usage = s->usage;
    }

    llm_buf_append(&s->out, "", 0);
    out = strdup(s->out.data);
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
    size_t       glen, elen;

    glen = strlen(got);
    elen = strlen(expect);

    if (glen < 2 || strcmp(got + glen - 2, "\n\n") != 0) {
        fprintf(stderr, "got: %s\n", got);
        fail_msg("the stream does not end with a blank line");
    }

    assert_true(elen >= 2);

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
    llm_usage_t *usage)
{
    char      *out, *whole;
    size_t     k, len;
    unsigned   seed;

    whole = t_stream(t, in, 0, 0, 0, usage);
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


#define T_HEAD(model)                                                        \
    "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","      \
    "\"created\":1700000000,\"model\":\"" model "\",\"choices\":[{"        \
    "\"index\":0,\"delta\":"

/* the rest of a relayed chunk: id/created/model (compared as JSON) */
#define T_TAIL(model)                                                        \
    "\"id\":\"" T_ID "\",\"created\":1700000000,\"model\":\"" model "\"}\n\n"


static const char  t_openai_text[] =
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o-mini\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o-mini\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"content\":\"Paris\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o-mini\",\"choices\":[{"
    "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o-mini\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":1,"
    "\"total_tokens\":22}}\n\n"
    "data: [DONE]\n\n";


static void
test_openai_stream_text(void **state)
{
    t_ctx_t      t;
    llm_usage_t  u;

    /* the client asked for usage */
    t_setup(&t, LLM_PROVIDER_OPENAI, "mini", "gpt-4o-mini",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            LLM_ENDPOINT_CHAT);

    t_stream_check(&t, t_openai_text,
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null,\"logprobs\":null}],\"usage\":null,"
        T_TAIL("mini")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"content\":\"Paris\"},"
        "\"finish_reason\":null,\"logprobs\":null}],\"usage\":null,"
        T_TAIL("mini")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\","
        "\"logprobs\":null}],\"usage\":null,"
        T_TAIL("mini")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"mini\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":21,\"completion_tokens\":1,"
        "\"total_tokens\":22}}\n\n"
        "data: [DONE]\n\n", &u);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 21);
    assert_int_equal(u.completion_tokens, 1);
    t_teardown(&t);

    /* the client did not: no usage anywhere, still recorded */
    t_setup(&t, LLM_PROVIDER_OPENAI, "mini", "gpt-4o-mini",
            "{\"stream\":true}", LLM_ENDPOINT_CHAT);

    t_stream_check(&t, t_openai_text,
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null,\"logprobs\":null}],"
        T_TAIL("mini")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"content\":\"Paris\"},"
        "\"finish_reason\":null,\"logprobs\":null}],"
        T_TAIL("mini")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\","
        "\"logprobs\":null}],"
        T_TAIL("mini")
        "data: [DONE]\n\n", &u);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.total_tokens, 22);
    t_teardown(&t);
}


static void
test_openai_stream_tools(void **state)
{
    t_ctx_t      t;
    llm_usage_t  u;

    /* openai.md's tool-call sequence, CRLF framed */
    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt-4o", "gpt-4o",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            LLM_ENDPOINT_CHAT);

    t_stream_check(&t,
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_a1\",\"type\":\"function\",\"function\":{"
        "\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
        "\"finish_reason\":null}],\"usage\":null}\r\n\r\n"
        ": keep-alive\r\n\r\n"
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"{\\\"city\\\":\"}}]},\"finish_reason\":null}],\"usage\":null}"
        "\r\n\r\n"
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}],\"usage\":null}"
        "\r\n\r\n"
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
        "\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}"
        "\r\n\r\n"
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":60,\"completion_tokens\":15,"
        "\"total_tokens\":75}}\r\n\r\n"
        "data: [DONE]\r\n\r\n",

        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{"
        "\"index\":0,\"id\":\"call_a1\",\"type\":\"function\",\"function\":{"
        "\"name\":\"get_weather\",\"arguments\":\"\"}}]},"
        "\"finish_reason\":null,\"logprobs\":null}],\"usage\":null,"
        T_TAIL("gpt-4o")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"{\\\"city\\\":\"}}]},\"finish_reason\":null,\"logprobs\":null}],"
        "\"usage\":null,"
        T_TAIL("gpt-4o")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
        "\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null,\"logprobs\":null}],"
        "\"usage\":null,"
        T_TAIL("gpt-4o")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{},\"finish_reason\":\"tool_calls\",\"logprobs\":null}],"
        "\"usage\":null,"
        T_TAIL("gpt-4o")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"gpt-4o\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":60,\"completion_tokens\":15,"
        "\"total_tokens\":75}}\n\n"
        "data: [DONE]\n\n", &u);

    assert_int_equal(u.prompt_tokens, 60);
    assert_int_equal(u.completion_tokens, 15);
    t_teardown(&t);
}


static void
test_openai_stream_error(void **state)
{
    t_ctx_t  t;

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt", "gpt-4o", "{\"stream\":true}",
            LLM_ENDPOINT_CHAT);

    /* mid-stream error: relayed mapped, then nothing more */
    t_stream_check(&t,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"finish_reason\":null}]}\n\n"
        "data: {\"error\":{\"message\":\"The server had an error\","
        "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},"
        "\"finish_reason\":null}]}\n\n",

        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"finish_reason\":null,\"logprobs\":null}],"
        T_TAIL("gpt")
        "data: {\"error\":{\"message\":\"openai: The server had an error\","
        "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
        "data: [DONE]\n\n", NULL);

    /* a rate limit reported in the stream */
    t_stream_check(&t,
        "data: {\"error\":{\"message\":\"Rate limit reached\","
        "\"type\":\"tokens\",\"code\":\"rate_limit_exceeded\"}}\n\n",

        "data: {\"error\":{\"message\":\"openai: Rate limit reached\","
        "\"type\":\"rate_limit_error\",\"param\":null,"
        "\"code\":\"rate_limit_exceeded\"}}\n\n"
        "data: [DONE]\n\n", NULL);

    t_teardown(&t);
}


static void
test_openai_stream_cut(void **state)
{
    char         *out;
    t_ctx_t       t;
    llm_stream_t *s;

    t_setup(&t, LLM_PROVIDER_OPENAI, "gpt", "gpt-4o", "{\"stream\":true}",
            LLM_ENDPOINT_CHAT);

    /* the upstream went away before [DONE]; the role chunk is added */
    t_stream_check(&t,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
        "\"finish_reason\":null}]}\n\ndata: {\"choi",

        T_HEAD("gpt") "{\"role\":\"assistant\",\"content\":\"\"},"
        "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
        "\"finish_reason\":null,\"logprobs\":null}],"
        T_TAIL("gpt")
        "data: {\"error\":{\"message\":\"openai: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n", NULL);

    /* nothing at all */
    t_stream_check(&t, "",
        "data: {\"error\":{\"message\":\"openai: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n", NULL);

    /* a final [DONE] without its blank line still ends the stream */
    t_stream_check(&t,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},"
        "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]",

        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},"
        "\"finish_reason\":\"stop\",\"logprobs\":null}],"
        T_TAIL("gpt")
        "data: [DONE]\n\n", NULL);

    /* no finish chunk upstream: the gateway adds one; junk is ignored */
    t_stream_check(&t,
        "data: not json\n\nevent: x\ndata: [1]\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
        "data: [DONE]\n\n",

        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\","
        "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]},"
        "\"logprobs\":null}],"
        T_TAIL("gpt")
        T_HEAD("gpt") "{},\"logprobs\":null,\"finish_reason\":"
        "\"tool_calls\"}]}\n\n"
        "data: [DONE]\n\n", NULL);

    /* an oversized event fails the stream */
    s = llm_stream_new(&t.call);
    assert_non_null(s);
    out = malloc(17 * 1024 * 1024);
    memset(out, 'x', 17 * 1024 * 1024);
    memcpy(out, "data: ", 6);
    assert_int_equal(s->adapter->stream_feed(s, out, 17 * 1024 * 1024),
                     LLM_OK);
    assert_int_equal(s->failed, 1);
    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
    free(out);
    llm_stream_free(s);

    t_teardown(&t);
}


static const char  t_mistral_text[] =
    "data: {\"id\":\"cmpl-m2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"mistral-small-latest\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"cmpl-m2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"mistral-small-latest\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"content\":\"Four.\"},"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"cmpl-m2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"mistral-small-latest\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
    "\"total_tokens\":11}}\n\n"
    "data: [DONE]\n\n";


static void
test_mistral_stream(void **state)
{
    t_ctx_t      t;
    llm_usage_t  u;

    t_setup(&t, LLM_PROVIDER_MISTRAL, "small", "mistral-small-latest",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            LLM_ENDPOINT_CHAT);

    t_stream_check(&t, t_mistral_text,
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"finish_reason\":null,\"logprobs\":null}],\"usage\":null,"
        T_TAIL("small")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"content\":\"Four.\"},"
        "\"finish_reason\":null,\"logprobs\":null}],\"usage\":null,"
        T_TAIL("small")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\","
        "\"logprobs\":null}],\"usage\":null,"
        T_TAIL("small")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"small\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
        "\"total_tokens\":11}}\n\n"
        "data: [DONE]\n\n", &u);

    assert_int_equal(u.prompt_tokens, 8);
    assert_int_equal(u.completion_tokens, 3);

    /* model_length, thinking chunks */
    t_stream_check(&t,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":[{\"type\":\"thinking\",\"thinking\":[{\"type\":"
        "\"text\",\"text\":\"hm\"}]}]}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},"
        "\"finish_reason\":\"model_length\"}],\"usage\":{\"prompt_tokens\":"
        "1,\"completion_tokens\":2,\"total_tokens\":3,"
        "\"num_cached_tokens\":1}}\n\n"
        "data: [DONE]\n\n",

        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\",\"reasoning_content\":\"hm\"},\"logprobs\":null}],"
        "\"usage\":null,"
        T_TAIL("small")
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},"
        "\"finish_reason\":\"length\",\"logprobs\":null}],\"usage\":null,"
        T_TAIL("small")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"small\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,"
        "\"total_tokens\":3,\"prompt_tokens_details\":"
        "{\"cached_tokens\":1}}}\n\n"
        "data: [DONE]\n\n", &u);

    assert_int_equal(u.cached_tokens, 1);
    t_teardown(&t);
}


static void
test_groq_stream(void **state)
{
    t_ctx_t      t;
    llm_usage_t  u;
    const char  *expect_head;

    static const char  in[] =
        "data: {\"id\":\"chatcmpl-g2\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"llama-3.3-70b-versatile\","
        "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}],"
        "\"x_groq\":{\"id\":\"req_02\"}}\n\n"
        "data: {\"id\":\"chatcmpl-g2\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"llama-3.3-70b-versatile\","
        "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello!\","
        "\"tool_calls\":[]},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        "data: {\"id\":\"chatcmpl-g2\",\"object\":\"chat.completion.chunk\","
        "\"created\":1735689600,\"model\":\"llama-3.3-70b-versatile\","
        "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"x_groq\":{\"id\":\"req_02\","
        "\"usage\":{\"prompt_tokens\":36,\"completion_tokens\":3,"
        "\"total_tokens\":39,\"queue_time\":0.02,\"total_time\":0.014}}}\n\n"
        "data: [DONE]\n\n";

    /* both usage forms: the top-level chunk wins, shown once */
    static const char  both[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"Hi\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"x_groq\":{\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
        "\"total_tokens\":2}}}\n\n"
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":36,"
        "\"completion_tokens\":3,\"total_tokens\":39}}\n\n"
        "data: [DONE]\n\n";

    t_setup(&t, LLM_PROVIDER_GROQ, "llama-70b", "llama-3.3-70b-versatile",
            "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}",
            LLM_ENDPOINT_CHAT);

    expect_head =
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null,"
        T_TAIL("llama-70b")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{\"content\":\"Hello!\"},\"logprobs\":null,"
        "\"finish_reason\":null}],\"usage\":null,"
        T_TAIL("llama-70b")
        "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{"
        "\"index\":0,\"delta\":{},\"logprobs\":null,"
        "\"finish_reason\":\"stop\"}],\"usage\":null,"
        T_TAIL("llama-70b")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"llama-70b\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":36,\"completion_tokens\":3,"
        "\"total_tokens\":39}}\n\n"
        "data: [DONE]\n\n";

    t_stream_check(&t, in, expect_head, &u);
    assert_int_equal(u.prompt_tokens, 36);

    t_stream_check(&t, both,
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
        "\"content\":\"Hi\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
        "\"usage\":null,"
        T_TAIL("llama-70b")
        "data: {\"id\":\"" T_ID "\",\"object\":\"chat.completion.chunk\","
        "\"created\":1700000000,\"model\":\"llama-70b\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":36,\"completion_tokens\":3,"
        "\"total_tokens\":39}}\n\n"
        "data: [DONE]\n\n", &u);
    assert_int_equal(u.total_tokens, 39);

    t_teardown(&t);
}


/*
 * errors
 */


static void
t_error(llm_provider_e p, int status, const char *body, int expect_status,
    const char *type, const char *code, const char *param, const char *msg)
{
    t_ctx_t      t;
    llm_error_t  e;

    t_setup(&t, p, "m", "m-1", NULL, LLM_ENDPOINT_CHAT);

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
    t_error(LLM_PROVIDER_OPENAI, 400,
            "{\"error\":{\"message\":\"This model's maximum context length "
            "is 128000 tokens.\",\"type\":\"invalid_request_error\","
            "\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}",
            400, "invalid_request_error", "context_length_exceeded",
            "messages", "openai: This model's maximum context length is "
            "128000 tokens.");

    t_error(LLM_PROVIDER_OPENAI, 400,
            "{\"error\":{\"message\":\"Invalid value\",\"type\":"
            "\"invalid_request_error\",\"param\":\"temperature\","
            "\"code\":\"invalid_value\"}}",
            400, "invalid_request_error", "invalid_value", "temperature",
            "openai: Invalid value");

    t_error(LLM_PROVIDER_OPENAI, 401,
            "{\"error\":{\"message\":\"Incorrect API key provided\","
            "\"type\":\"invalid_request_error\",\"param\":null,"
            "\"code\":\"invalid_api_key\"}}",
            401, "authentication_error", "invalid_api_key", "",
            "openai: Incorrect API key provided");

    t_error(LLM_PROVIDER_OPENAI, 429,
            "{\"error\":{\"message\":\"You exceeded your current quota\","
            "\"type\":\"insufficient_quota\",\"param\":null,"
            "\"code\":\"insufficient_quota\"}}",
            429, "insufficient_quota", "insufficient_quota", "",
            "openai: You exceeded your current quota");

    t_error(LLM_PROVIDER_OPENAI, 404,
            "{\"error\":{\"message\":\"The model does not exist\","
            "\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}",
            404, "invalid_request_error", "model_not_found", "",
            "openai: The model does not exist");

    t_error(LLM_PROVIDER_MISTRAL, 422,
            "{\"detail\":[{\"loc\":[\"body\",\"user\"],\"msg\":\"Extra inputs "
            "are not permitted\",\"type\":\"extra_forbidden\"}]}",
            400, "invalid_request_error", "", "user",
            "mistral: Extra inputs are not permitted");

    t_error(LLM_PROVIDER_MISTRAL, 400,
            "{\"object\":\"error\",\"message\":\"Tool call id was turn1_0 but "
            "must be a-z, A-Z, 0-9, with a length of 9.\",\"type\":"
            "\"invalid_function_call\",\"param\":null,\"code\":\"3280\"}",
            400, "invalid_request_error", "", "",
            "mistral: Tool call id was turn1_0 but must be a-z, A-Z, 0-9, "
            "with a length of 9. (invalid_function_call, code 3280)");

    t_error(LLM_PROVIDER_MISTRAL, 400,
            "{\"object\":\"error\",\"message\":\"Prompt contains 40000 tokens, "
            "too large for model with 32768 maximum context length\","
            "\"type\":\"invalid_request_error_prompt\",\"code\":3051}",
            400, "invalid_request_error", "context_length_exceeded",
            "messages", "mistral: Prompt contains 40000 tokens, too large "
            "for model with 32768 maximum context length "
            "(invalid_request_error_prompt, code 3051)");

    t_error(LLM_PROVIDER_MISTRAL, 401, "{\"detail\":\"Unauthorized\"}",
            401, "authentication_error", "invalid_api_key", "",
            "mistral: Unauthorized");

    t_error(LLM_PROVIDER_GROQ, 429,
            "{\"error\":{\"message\":\"Rate limit reached for model `llama`. "
            "Please try again in 2.5s.\",\"type\":\"tokens\","
            "\"code\":\"rate_limit_exceeded\"}}",
            429, "rate_limit_error", "rate_limit_exceeded", "",
            "groq: Rate limit reached for model `llama`. Please try again "
            "in 2.5s.");

    t_error(LLM_PROVIDER_GROQ, 498,
            "{\"error\":{\"message\":\"Capacity exceeded\","
            "\"type\":\"capacity_exceeded\"}}",
            503, "server_error", "overloaded", "",
            "groq: Capacity exceeded");

    t_error(LLM_PROVIDER_GROQ, 413,
            "{\"error\":{\"message\":\"Please reduce the length of the "
            "messages; it exceeds the context length\","
            "\"type\":\"invalid_request_error\"}}",
            400, "invalid_request_error", "context_length_exceeded",
            "messages", "groq: Please reduce the length of the messages; it "
            "exceeds the context length");

    t_error(LLM_PROVIDER_GROQ, 424, "{\"error\":\"tool failed\"}",
            502, "server_error", "", "", "groq: tool failed");

    t_error(LLM_PROVIDER_OPENAI, 502,
            "<html>\r\n<body>Bad\tGateway</body>\n</html>\n",
            502, "server_error", "", "",
            "openai: <html> <body>Bad Gateway</body> </html>");

    t_error(LLM_PROVIDER_OPENAI, 500, "", 502, "server_error", "", "",
            "openai: upstream returned HTTP 500");

    t_error(LLM_PROVIDER_OPENAI, 503, "{\"error\":{\"message\":7}}",
            503, "server_error", "overloaded", "",
            "openai: upstream returned HTTP 503");
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openai_request),
        cmocka_unit_test(test_openai_request_stream),
        cmocka_unit_test(test_openai_missing_env),
        cmocka_unit_test(test_mistral_request),
        cmocka_unit_test(test_mistral_request_conversation),
        cmocka_unit_test(test_mistral_request_unsupported),
        cmocka_unit_test(test_groq_request),
        cmocka_unit_test(test_groq_request_rejects),
        cmocka_unit_test(test_embeddings_request),
        cmocka_unit_test(test_openai_response),
        cmocka_unit_test(test_mistral_response),
        cmocka_unit_test(test_groq_response),
        cmocka_unit_test(test_response_invalid),
        cmocka_unit_test(test_embeddings_response),
        cmocka_unit_test(test_openai_stream_text),
        cmocka_unit_test(test_openai_stream_tools),
        cmocka_unit_test(test_openai_stream_error),
        cmocka_unit_test(test_openai_stream_cut),
        cmocka_unit_test(test_mistral_stream),
        cmocka_unit_test(test_groq_stream),
        cmocka_unit_test(test_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
