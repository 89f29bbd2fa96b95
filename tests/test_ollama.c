/*
 * Copyright (C) ngx_llm authors
 *
 * The Ollama adapter against ../shared/providers/ollama.md: request
 * mapping, responses, NDJSON streams in any split, embeddings, errors.
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


extern const llm_adapter_t  llm_ollama_adapter;


static llm_deployment_t  dep;
static llm_call_t        call;
static cJSON            *req;


/* a fresh local deployment and a non-streaming call for each test */
static int
setup(void **state)
{
    memset(&dep, 0, sizeof(dep));
    dep.model_name = "llama-local";
    dep.model = "ollama_chat/llama3.2";
    dep.prefix = "ollama_chat";
    dep.model_id = "llama3.2";
    dep.provider = LLM_PROVIDER_OLLAMA;
    dep.base.host = "localhost";
    dep.base.port = 11434;
    dep.base.path = "";

    memset(&call, 0, sizeof(call));
    call.endpoint = LLM_ENDPOINT_CHAT;
    call.dep = &dep;
    call.model_name = "llama-local";
    snprintf(call.id, sizeof(call.id), "chatcmpl-ol1");
    call.created = 1751920373;

    req = NULL;

    return 0;
}


static int
teardown(void **state)
{
    cJSON_Delete(req);
    cJSON_Delete(dep.defaults);
    req = NULL;
    dep.defaults = NULL;

    return 0;
}


static void
set_req(const char *json)
{
    const cJSON  *v;

    cJSON_Delete(req);
    req = cJSON_Parse(json);
    assert_non_null(req);

    call.req = req;
    v = cJSON_GetObjectItemCaseSensitive(req, "stream");
    call.stream = cJSON_IsTrue(v);
}


static void
assert_json_equal(const char *got, size_t len, const char *want)
{
    cJSON  *g, *w;
    int     same;

    g = cJSON_ParseWithLength(got, len);
    w = cJSON_Parse(want);
    assert_non_null(w);

    if (g == NULL) {
        fail_msg("not JSON: %.*s", (int) len, got);
    }

    same = cJSON_Compare(g, w, 1);

    if (!same) {
        char  *a = cJSON_PrintUnformatted(g);
        char  *b = cJSON_PrintUnformatted(w);

        print_error("got:  %s\nwant: %s\n", a, b);
        free(a);
        free(b);
    }

    cJSON_Delete(g);
    cJSON_Delete(w);
    assert_true(same);
}


/* builds the request for the current call; the body must equal want */
static void
expect_body(const char *want)
{
    llm_http_req_t  r;
    llm_error_t     e;

    memset(&e, 0, sizeof(e));
    assert_int_equal(llm_request_build(&call, &r, &e), LLM_OK);
    assert_string_equal(r.method, "POST");
    assert_json_equal(r.body.data, r.body.len, want);
    llm_http_req_free(&r);
}


/* builds the request for the current call; it must fail as said */
static void
expect_fail(int status, const char *type, const char *code,
    const char *param, const char *in_message)
{
    llm_http_req_t  r;
    llm_error_t     e;

    memset(&e, 0, sizeof(e));
    assert_int_equal(llm_request_build(&call, &r, &e), LLM_ERROR);
    assert_int_equal(e.status, status);
    assert_string_equal(e.type, type);
    assert_string_equal(e.code, code);
    assert_string_equal(e.param, param);

    if (strstr(e.message, in_message) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", e.message, in_message);
    }
}


/* ---- requests ---------------------------------------------------- */


static void
test_request_doc_example(void **state)
{
    llm_http_req_t  r;
    llm_error_t     e;

    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"Weather in Tokyo?\"}],"
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
            "\"get_weather\",\"parameters\":{\"type\":\"object\","
            "\"properties\":{\"city\":{\"type\":\"string\"}},"
            "\"required\":[\"city\"]}}}],"
            "\"max_tokens\":128,\"temperature\":0}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,"
                "\"messages\":[{\"role\":\"user\",\"content\":"
                "\"Weather in Tokyo?\"}],"
                "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
                "\"get_weather\",\"parameters\":{\"type\":\"object\","
                "\"properties\":{\"city\":{\"type\":\"string\"}},"
                "\"required\":[\"city\"]}}}],"
                "\"options\":{\"num_predict\":128,\"temperature\":0}}");

    assert_int_equal(llm_request_build(&call, &r, &e), LLM_OK);
    assert_string_equal(r.path.data, "/api/chat");
    assert_string_equal(r.accept, "application/json");
    /* local Ollama takes no key */
    assert_int_equal(r.nheaders, 0);
    llm_http_req_free(&r);
}


static void
test_request_stream_and_auth(void **state)
{
    llm_http_req_t  r;
    llm_error_t     e;

    dep.api_key = "ok-secret";
    dep.base.path = "/ollama";

    set_req("{\"model\":\"llama-local\",\"stream\":true,"
            "\"stream_options\":{\"include_usage\":true},"
            "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":true,"
                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

    assert_int_equal(llm_request_build(&call, &r, &e), LLM_OK);
    assert_string_equal(r.path.data, "/ollama/api/chat");
    assert_string_equal(r.accept, "application/x-ndjson");
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(r.headers[0].name, "Authorization");
    assert_string_equal(r.headers[0].value, "Bearer ok-secret");
    llm_http_req_free(&r);

    /* an empty key is no key */
    dep.api_key = "";
    assert_int_equal(llm_request_build(&call, &r, &e), LLM_OK);
    assert_int_equal(r.nheaders, 0);
    llm_http_req_free(&r);
}


static void
test_request_missing_env(void **state)
{
    dep.missing_env = "OLLAMA_API_KEY";

    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}]}");

    expect_fail(401, "authentication_error", "", "",
                "environment variable OLLAMA_API_KEY for model "
                "\"llama-local\" is not set");
}


static void
test_request_messages(void **state)
{
    set_req("{\"model\":\"llama-local\",\"messages\":["
            "{\"role\":\"system\",\"content\":\"Be brief.\"},"
            "{\"role\":\"developer\",\"content\":[{\"type\":\"text\","
            "\"text\":\"Use metric.\"}]},"
            "{\"role\":\"user\",\"name\":\"ann\",\"content\":["
            "{\"type\":\"text\",\"text\":\"What is \"},"
            "{\"type\":\"image_url\",\"image_url\":{\"url\":"
            "\"data:image/png;base64,iVBORw0KGgo=\",\"detail\":\"low\"}},"
            "{\"type\":\"text\",\"text\":\"this?\"},"
            "{\"type\":\"image_url\",\"image_url\":"
            "\"data:image/jpeg;base64,/9j/4AAQ\"}]},"
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
            "{\"id\":\"call_7f3k\",\"type\":\"function\",\"function\":"
            "{\"name\":\"get_weather\",\"arguments\":"
            "\"{\\\"city\\\":\\\"Tokyo\\\"}\"}},"
            "{\"id\":\"call_2\",\"type\":\"function\",\"function\":"
            "{\"name\":\"get_time\",\"arguments\":\"\"}}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"call_7f3k\","
            "\"content\":\"22C\"},"
            "{\"role\":\"tool\",\"tool_call_id\":\"call_2\","
            "\"content\":[{\"type\":\"text\",\"text\":\"09:00\"}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"call_unknown\","
            "\"content\":\"?\"},"
            "{\"role\":\"function\",\"name\":\"legacy_fn\","
            "\"content\":\"ok\"},"
            "{\"role\":\"assistant\",\"content\":\"It is 22C.\","
            "\"reasoning_content\":\"easy\"},"
            "{\"role\":\"assistant\",\"content\":[{\"type\":"
            "\"refusal\",\"refusal\":\"No.\"}]}]}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"system\",\"content\":\"Be brief.\"},"
                "{\"role\":\"system\",\"content\":\"Use metric.\"},"
                "{\"role\":\"user\",\"content\":\"What is this?\","
                "\"images\":[\"iVBORw0KGgo=\",\"/9j/4AAQ\"]},"
                "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
                "{\"function\":{\"name\":\"get_weather\",\"arguments\":"
                "{\"city\":\"Tokyo\"}},\"id\":\"call_7f3k\"},"
                "{\"function\":{\"name\":\"get_time\",\"arguments\":{}},"
                "\"id\":\"call_2\"}]},"
                "{\"role\":\"tool\",\"content\":\"22C\","
                "\"tool_name\":\"get_weather\","
                "\"tool_call_id\":\"call_7f3k\"},"
                "{\"role\":\"tool\",\"content\":\"09:00\","
                "\"tool_name\":\"get_time\",\"tool_call_id\":\"call_2\"},"
                "{\"role\":\"tool\",\"content\":\"?\","
                "\"tool_call_id\":\"call_unknown\"},"
                "{\"role\":\"tool\",\"content\":\"ok\","
                "\"tool_name\":\"legacy_fn\"},"
                "{\"role\":\"assistant\",\"content\":\"It is 22C.\","
                "\"thinking\":\"easy\"},"
                "{\"role\":\"assistant\",\"content\":\"No.\"}]}");
}


/* the doc's next turn: tool_name comes from the earlier assistant turn */
static void
test_request_tool_result_doc(void **state)
{
    set_req("{\"model\":\"llama-local\",\"messages\":["
            "{\"role\":\"user\",\"content\":\"Weather in Tokyo?\"},"
            "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":["
            "{\"id\":\"call_7f3k\",\"type\":\"function\",\"function\":"
            "{\"name\":\"get_weather\",\"arguments\":"
            "\"{\\\"city\\\":\\\"Tokyo\\\"}\"}}]},"
            "{\"role\":\"tool\",\"tool_call_id\":\"call_7f3k\","
            "\"content\":\"22C\"}]}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"Weather in Tokyo?\"},"
                "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":["
                "{\"id\":\"call_7f3k\",\"function\":{\"name\":"
                "\"get_weather\",\"arguments\":{\"city\":\"Tokyo\"}}}]},"
                "{\"role\":\"tool\",\"tool_name\":\"get_weather\","
                "\"tool_call_id\":\"call_7f3k\",\"content\":\"22C\"}]}");
}


static void
test_request_bad_messages(void **state)
{
    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
            "\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
            "\"function\":{\"name\":\"f\",\"arguments\":\"[1,2]\"}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "must be a JSON object");

    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
            "\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
            "\"function\":{\"name\":\"f\",\"arguments\":\"{oops\"}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "must be a JSON object");

    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\","
            "\"tool_calls\":[{\"id\":\"c\",\"function\":{}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "without a function name");

    set_req("{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "messages[0]");

    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
            "\"content\":42}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "messages[0].content");

    set_req("{\"model\":\"m\",\"messages\":\"hi\"}");
    expect_fail(400, "invalid_request_error", "", "messages", "array");

    set_req("{\"model\":\"m\"}");
    expect_fail(400, "invalid_request_error", "", "messages", "array");

    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
            "\"content\":[{\"type\":\"image_url\",\"image_url\":"
            "{\"url\":\"data:image/svg+xml,<svg/>\"}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages", "base64");

    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
            "\"content\":[{\"type\":\"image_url\",\"image_url\":{}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "without a url");
}


/* Ollama takes image bytes only: remote URLs fail unless dropped */
static void
test_request_image_urls(void **state)
{
    static const char  *r =
        "{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
        "\"content\":[{\"type\":\"text\",\"text\":\"Describe\"},"
        "{\"type\":\"image_url\",\"image_url\":{\"url\":"
        "\"https://example.com/cat.png\"}},"
        "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAA\","
        "\"format\":\"wav\"}}]}]}";

    set_req(r);
    expect_fail(400, "invalid_request_error", "", "messages",
                "image URLs are not supported");

    call.drop_params = 1;
    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"Describe\"}]}");

    /* without the URL, the audio part is what fails */
    call.drop_params = 0;
    set_req("{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
            "\"content\":[{\"type\":\"input_audio\",\"input_audio\":{}}]}]}");
    expect_fail(400, "invalid_request_error", "", "messages",
                "only text and image_url parts");
}


static void
test_request_options(void **state)
{
    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}],"
            "\"temperature\":0.2,\"top_p\":0.9,\"seed\":7,"
            "\"stop\":\"END\",\"max_tokens\":10,"
            "\"max_completion_tokens\":20,"
            "\"frequency_penalty\":0.5,\"presence_penalty\":-0.5,"
            "\"top_k\":40,\"num_ctx\":8192,"
            "\"options\":{\"repeat_penalty\":1.1,\"temperature\":1},"
            "\"response_format\":{\"type\":\"json_object\"},"
            "\"reasoning_effort\":\"none\",\"keep_alive\":\"5m\","
            "\"user\":\"u-1\",\"metadata\":{\"a\":1},\"store\":false,"
            "\"unknown_field\":true}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"format\":\"json\","
                "\"options\":{\"repeat_penalty\":1.1,\"temperature\":0.2,"
                "\"top_p\":0.9,\"seed\":7,\"stop\":[\"END\"],"
                "\"num_predict\":20,\"frequency_penalty\":0.5,"
                "\"presence_penalty\":-0.5,\"top_k\":40,\"num_ctx\":8192},"
                "\"think\":false,\"keep_alive\":\"5m\"}");

    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}],\"stop\":[\"a\",\"b\"],"
            "\"max_tokens\":10,\"max_completion_tokens\":null,"
            "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
            "{\"name\":\"x\",\"schema\":{\"type\":\"object\","
            "\"properties\":{\"a\":{\"type\":\"integer\"}}}}},"
            "\"reasoning_effort\":\"high\"}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"format\":{\"type\":\"object\",\"properties\":"
                "{\"a\":{\"type\":\"integer\"}}},"
                "\"options\":{\"num_predict\":10,\"stop\":[\"a\",\"b\"]},"
                "\"think\":\"high\"}");

    /* a native "format" and "think" pass; "text" asks for nothing */
    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}],\"format\":\"json\",\"think\":true,"
            "\"reasoning_effort\":\"low\","
            "\"response_format\":{\"type\":\"text\"}}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"format\":\"json\",\"think\":true}");

    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}],\"reasoning_effort\":\"minimal\","
            "\"response_format\":{\"type\":\"json_schema\"},"
            "\"tools\":[]}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"format\":\"json\",\"think\":\"low\"}");
}


static void
test_request_defaults(void **state)
{
    dep.defaults = cJSON_Parse("{\"temperature\":0.7,\"max_tokens\":256,"
                               "\"num_ctx\":4096}");

    set_req("{\"model\":\"llama-local\",\"messages\":[{\"role\":\"user\","
            "\"content\":\"hi\"}],\"temperature\":0.1}");

    expect_body("{\"model\":\"llama3.2\",\"stream\":false,\"messages\":["
                "{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"options\":{\"temperature\":0.1,\"num_predict\":256,"
                "\"num_ctx\":4096}}");
}


static void
test_request_unsupported(void **state)
{
    static const char  *msgs =
        "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    char  buf[512];

    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"logit_bias\":"
             "{\"1\":2}}", msgs);
    set_req(buf);
    expect_fail(400, "invalid_request_error", "unsupported_parameter",
                "logit_bias", "logit_bias");

    call.drop_params = 1;
    expect_body("{\"model\":\"llama3.2\",\"stream\":false,"
                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    call.drop_params = 0;

    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"n\":2}", msgs);
    set_req(buf);
    expect_fail(400, "invalid_request_error", "unsupported_parameter", "n",
                "'n'");

    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"tool_choice\":"
             "\"required\",\"tools\":[{\"type\":\"function\",\"function\":"
             "{\"name\":\"f\"}}]}", msgs);
    set_req(buf);
    expect_fail(400, "invalid_request_error", "unsupported_parameter",
                "tool_choice", "tool_choice");

    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"logprobs\":true}",
             msgs);
    set_req(buf);
    expect_fail(400, "invalid_request_error", "unsupported_parameter",
                "logprobs", "logprobs");

    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,"
             "\"parallel_tool_calls\":false}", msgs);
    set_req(buf);
    expect_fail(400, "invalid_request_error", "unsupported_parameter",
                "parallel_tool_calls", "parallel_tool_calls");

    /* harmless values of the same parameters pass */
    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"n\":1,"
             "\"logprobs\":false,\"parallel_tool_calls\":true,"
             "\"tool_choice\":\"auto\",\"tools\":[{\"type\":\"function\","
             "\"function\":{\"name\":\"f\"}}]}", msgs);
    set_req(buf);
    expect_body("{\"model\":\"llama3.2\",\"stream\":false,"
                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                "\"tools\":[{\"type\":\"function\",\"function\":"
                "{\"name\":\"f\"}}]}");

    /* tool_choice "none" is honoured by not offering the tools */
    snprintf(buf, sizeof(buf), "{\"model\":\"m\",%s,\"tool_choice\":"
             "\"none\",\"tools\":[{\"type\":\"function\",\"function\":"
             "{\"name\":\"f\"}}]}", msgs);
    set_req(buf);
    expect_body("{\"model\":\"llama3.2\",\"stream\":false,"
                "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
}


/* ---- responses --------------------------------------------------- */


static void
parse_ok(const char *body, llm_buf_t *out, llm_usage_t *u)
{
    llm_error_t  e;

    memset(out, 0, sizeof(llm_buf_t));
    assert_int_equal(llm_ollama_adapter.parse_response(&call, body,
                                                       strlen(body), out, u,
                                                       &e),
                     LLM_OK);
}


static void
parse_fail(const char *body, size_t len, int status, const char *type)
{
    llm_buf_t    out;
    llm_usage_t  u;
    llm_error_t  e;

    memset(&out, 0, sizeof(out));
    assert_int_equal(llm_ollama_adapter.parse_response(&call, body, len,
                                                       &out, &u, &e),
                     LLM_ERROR);
    assert_int_equal(e.status, status);
    assert_string_equal(e.type, type);
    llm_buf_free(&out);
}


static void
test_response_doc_example(void **state)
{
    cJSON        *r, *tc, *id;
    llm_buf_t     out;
    llm_usage_t   u;

    set_req("{\"model\":\"llama-local\",\"messages\":[]}");

    parse_ok("{\"model\":\"llama3.2\",\"created_at\":"
             "\"2025-07-07T20:32:53.844124Z\",\"message\":{\"role\":"
             "\"assistant\",\"content\":\"\",\"tool_calls\":[{\"function\":"
             "{\"name\":\"get_weather\",\"arguments\":{\"city\":"
             "\"Tokyo\"}}}]},\"done_reason\":\"stop\",\"done\":true,"
             "\"total_duration\":3244883583,\"load_duration\":2969184542,"
             "\"prompt_eval_count\":169,\"prompt_eval_duration\":141656333,"
             "\"eval_count\":18,\"eval_duration\":133293625}", &out, &u);

    /* the minted id is random: check its shape, then pin it */
    r = cJSON_Parse(out.data);
    assert_non_null(r);
    tc = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
             cJSON_GetArrayItem(cJSON_GetObjectItem(r, "choices"), 0),
             "message"), "tool_calls"), 0);
    id = cJSON_GetObjectItem(tc, "id");
    assert_true(cJSON_IsString(id));
    assert_int_equal(strncmp(id->valuestring, "call_", 5), 0);
    assert_int_equal(strlen(id->valuestring), 5 + 24);
    cJSON_SetValuestring(id, "call_7f3k");

    llm_buf_free(&out);
    out.data = cJSON_PrintUnformatted(r);
    out.len = strlen(out.data);
    cJSON_Delete(r);

    assert_json_equal(out.data, out.len,
        "{\"id\":\"chatcmpl-ol1\",\"object\":\"chat.completion\","
        "\"created\":1751920373,\"model\":\"llama-local\","
        "\"choices\":[{\"index\":0,\"logprobs\":null,"
        "\"finish_reason\":\"tool_calls\",\"message\":{\"role\":"
        "\"assistant\",\"content\":null,\"refusal\":null,\"tool_calls\":["
        "{\"id\":\"call_7f3k\",\"type\":\"function\",\"function\":{"
        "\"name\":\"get_weather\",\"arguments\":"
        "\"{\\\"city\\\":\\\"Tokyo\\\"}\"}}]}}],"
        "\"usage\":{\"prompt_tokens\":169,\"completion_tokens\":18,"
        "\"total_tokens\":187}}");
    free(out.data);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 169);
    assert_int_equal(u.completion_tokens, 18);
    assert_int_equal(u.total_tokens, 187);
}


static void
test_response_text(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;

    set_req("{\"model\":\"llama-local\",\"messages\":[]}");

    parse_ok("{\"model\":\"llama3.2\",\"message\":{\"role\":\"assistant\","
             "\"content\":\"Blue.\",\"thinking\":\"Rayleigh.\","
             "\"tool_calls\":[{\"id\":\"call_a\",\"function\":{\"index\":0,"
             "\"name\":\"f\",\"arguments\":{}}},"
             "{\"function\":{\"name\":\"g\",\"arguments\":\"{\\\"x\\\":1}\"}},"
             "{\"function\":{\"arguments\":{}}},\"junk\"],\"extra\":1},"
             "\"done_reason\":\"length\",\"done\":true,\"eval_count\":3,"
             "\"new_field\":[1,2]}", &out, &u);

    /* g's id is minted: compare everything else */
    {
        cJSON  *r, *tcs;

        r = cJSON_Parse(out.data);
        tcs = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
                  cJSON_GetObjectItem(r, "choices"), 0), "message"),
                  "tool_calls");
        assert_int_equal(cJSON_GetArraySize(tcs), 2);
        cJSON_SetValuestring(cJSON_GetObjectItem(cJSON_GetArrayItem(tcs, 1),
                                                 "id"), "call_b");
        llm_buf_free(&out);
        out.data = cJSON_PrintUnformatted(r);
        out.len = strlen(out.data);
        cJSON_Delete(r);
    }

    assert_json_equal(out.data, out.len,
        "{\"id\":\"chatcmpl-ol1\",\"object\":\"chat.completion\","
        "\"created\":1751920373,\"model\":\"llama-local\","
        "\"choices\":[{\"index\":0,\"logprobs\":null,"
        "\"finish_reason\":\"length\",\"message\":{\"role\":\"assistant\","
        "\"content\":\"Blue.\",\"refusal\":null,"
        "\"reasoning_content\":\"Rayleigh.\",\"tool_calls\":["
        "{\"id\":\"call_a\",\"type\":\"function\",\"function\":{"
        "\"name\":\"f\",\"arguments\":\"{}\"}},"
        "{\"id\":\"call_b\",\"type\":\"function\",\"function\":{"
        "\"name\":\"g\",\"arguments\":\"{\\\"x\\\":1}\"}}]}}],"
        "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":3,"
        "\"total_tokens\":3}}");
    free(out.data);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 0);
    assert_int_equal(u.completion_tokens, 3);
}


static void
test_response_missing_fields(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;
    const char  *s;

    set_req("{\"model\":\"llama-local\",\"messages\":[]}");

    parse_ok("{\"message\":{}}", &out, &u);
    assert_json_equal(out.data, out.len,
        "{\"id\":\"chatcmpl-ol1\",\"object\":\"chat.completion\","
        "\"created\":1751920373,\"model\":\"llama-local\","
        "\"choices\":[{\"index\":0,\"logprobs\":null,"
        "\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\","
        "\"content\":\"\",\"refusal\":null}}],"
        "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
        "\"total_tokens\":0}}");
    llm_buf_free(&out);
    assert_int_equal(u.present, 0);

    /* wrong types are treated as absent */
    parse_ok("{\"message\":{\"content\":5,\"tool_calls\":\"x\","
             "\"thinking\":[]},\"done_reason\":7,\"prompt_eval_count\":\"9\","
             "\"eval_count\":-4}", &out, &u);
    assert_json_equal(out.data, out.len,
        "{\"id\":\"chatcmpl-ol1\",\"object\":\"chat.completion\","
        "\"created\":1751920373,\"model\":\"llama-local\","
        "\"choices\":[{\"index\":0,\"logprobs\":null,"
        "\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\","
        "\"content\":\"\",\"refusal\":null}}],"
        "\"usage\":{\"prompt_tokens\":0,\"completion_tokens\":0,"
        "\"total_tokens\":0}}");
    llm_buf_free(&out);

    parse_fail("", 0, 502, "server_error");
    parse_fail("not json", 8, 502, "server_error");
    parse_fail("[1,2]", 5, 502, "server_error");
    parse_fail("{\"done\":true}", 13, 502, "server_error");
    parse_fail("{\"message\":\"hi\"}", 16, 502, "server_error");

    s = "{\"message\":{\"content\":\"cut\"";
    parse_fail(s, strlen(s), 502, "server_error");

    /* a 2xx carrying Ollama's error shape */
    s = "{\"error\":\"model crashed\"}";
    parse_fail(s, strlen(s), 502, "server_error");
}


/* ---- streams ----------------------------------------------------- */


/* a small deterministic generator, so the random splits repeat */
static unsigned long  rnd_state;

static unsigned
rnd(void)
{
    rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned) (rnd_state >> 33);
}


#define SPLIT_WHOLE   0
#define SPLIT_BYTE    1
#define SPLIT_RANDOM  2


/* feeds input in the given split, then EOF; returns the SSE out (malloc) */
static char *
run_stream(const char *input, int split, llm_stream_t **keep)
{
    char          *r;
    size_t         len, off, n;
    llm_stream_t  *s;

    s = llm_stream_new(&call);
    assert_non_null(s);
    assert_ptr_equal(s->adapter, &llm_ollama_adapter);

    len = strlen(input);
    off = 0;

    while (off < len) {
        switch (split) {
        case SPLIT_WHOLE:
            n = len;
            break;
        case SPLIT_BYTE:
            n = 1;
            break;
        default:
            n = 1 + rnd() % 17;
        }

        if (n > len - off) {
            n = len - off;
        }

        assert_int_equal(llm_ollama_adapter.stream_feed(s, input + off, n),
                         LLM_OK);
        off += n;
    }

    assert_int_equal(llm_ollama_adapter.stream_eof(s), LLM_OK);

    r = strndup(s->out.data ? s->out.data : "", s->out.len);

    if (keep) {
        *keep = s;

    } else {
        llm_stream_free(s);
    }

    return r;
}


/* every split gives want; the random one is tried with several seeds */
static void
expect_stream(const char *input, const char *want)
{
    int    seed;
    char  *got;

    got = run_stream(input, SPLIT_WHOLE, NULL);
    assert_string_equal(got, want);
    free(got);

    got = run_stream(input, SPLIT_BYTE, NULL);
    assert_string_equal(got, want);
    free(got);

    for (seed = 1; seed <= 20; seed++) {
        rnd_state = seed;
        got = run_stream(input, SPLIT_RANDOM, NULL);
        assert_string_equal(got, want);
        free(got);
    }
}


#define CHUNK(delta, finish)                                                 \
    "data: {\"id\":\"chatcmpl-ol2\",\"object\":\"chat.completion.chunk\","   \
    "\"created\":1751919739,\"model\":\"llama-local\",\"choices\":"          \
    "[{\"index\":0,\"delta\":" delta ",\"logprobs\":null,"                   \
    "\"finish_reason\":" finish "}]}\n\n"

#define CHUNK_U(delta, finish)                                               \
    "data: {\"id\":\"chatcmpl-ol2\",\"object\":\"chat.completion.chunk\","   \
    "\"created\":1751919739,\"model\":\"llama-local\",\"choices\":"          \
    "[{\"index\":0,\"delta\":" delta ",\"logprobs\":null,"                   \
    "\"finish_reason\":" finish "}],\"usage\":null}\n\n"


static void
stream_call(int include_usage)
{
    set_req("{\"model\":\"llama-local\",\"stream\":true,"
            "\"messages\":[{\"role\":\"user\",\"content\":\"sky?\"}]}");
    snprintf(call.id, sizeof(call.id), "chatcmpl-ol2");
    call.created = 1751919739;
    call.include_usage = include_usage;
}


static const char  doc_stream[] =
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.18Z\","
    "\"message\":{\"role\":\"assistant\",\"content\":\"The\"},"
    "\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.19Z\","
    "\"message\":{\"role\":\"assistant\",\"content\":\" sky\"},"
    "\"done\":false}\n"
    "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19.20Z\","
    "\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,"
    "\"done_reason\":\"stop\",\"prompt_eval_count\":26,\"eval_count\":2,"
    "\"total_duration\":48000000}\n";


static void
test_stream_doc_example(void **state)
{
    char          *got;
    llm_stream_t  *s;

    stream_call(0);

    expect_stream(doc_stream,
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"The\"}", "null")
        CHUNK("{\"content\":\" sky\"}", "null")
        CHUNK("{}", "\"stop\"")
        "data: [DONE]\n\n");

    got = run_stream(doc_stream, SPLIT_WHOLE, &s);
    free(got);
    assert_int_equal(s->usage.present, 1);
    assert_int_equal(s->usage.prompt_tokens, 26);
    assert_int_equal(s->usage.completion_tokens, 2);
    assert_int_equal(s->usage.total_tokens, 28);
    assert_string_equal(s->finish_reason, "stop");
    assert_false(s->failed);
    assert_true(s->done);
    llm_stream_free(s);
}


static void
test_stream_usage_crlf(void **state)
{
    stream_call(1);

    /* CRLF line ends and blank lines are tolerated */
    expect_stream(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hi\"},"
        "\"done\":false}\r\n\r\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"done\":true,\"done_reason\":\"length\","
        "\"prompt_eval_count\":5,\"eval_count\":1}",
        CHUNK_U("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK_U("{\"content\":\"Hi\"}", "null")
        CHUNK_U("{}", "\"length\"")
        "data: {\"id\":\"chatcmpl-ol2\",\"object\":\"chat.completion.chunk\","
        "\"created\":1751919739,\"model\":\"llama-local\",\"choices\":[],"
        "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1,"
        "\"total_tokens\":6}}\n\n"
        "data: [DONE]\n\n");
}


static void
test_stream_tools_thinking(void **state)
{
    char          *got;
    llm_stream_t  *s;
    static const char  in[] =
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\","
        "\"thinking\":\"Need weather.\"},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\","
        "\"tool_calls\":[{\"id\":\"call_x\",\"function\":{\"index\":0,"
        "\"name\":\"get_weather\",\"arguments\":{\"city\":\"Tokyo\"}}},"
        "{\"id\":\"call_y\",\"function\":{\"index\":1,\"name\":\"get_time\","
        "\"arguments\":{}}}]},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\","
        "\"tool_calls\":[{\"id\":\"call_z\",\"function\":{\"name\":\"noop\"}},"
        "{\"function\":{}},7]},\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
        "\"done\":true,\"done_reason\":\"stop\",\"eval_count\":9}\n";

    stream_call(0);

    expect_stream(in,
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"reasoning_content\":\"Need weather.\"}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":0,\"id\":\"call_x\",\"type\":"
              "\"function\",\"function\":{\"name\":\"get_weather\","
              "\"arguments\":\"\"}}]}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":"
              "\"{\\\"city\\\":\\\"Tokyo\\\"}\"}}]}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":1,\"id\":\"call_y\",\"type\":"
              "\"function\",\"function\":{\"name\":\"get_time\","
              "\"arguments\":\"\"}}]}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":"
              "\"{}\"}}]}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":2,\"id\":\"call_z\",\"type\":"
              "\"function\",\"function\":{\"name\":\"noop\","
              "\"arguments\":\"\"}}]}", "null")
        CHUNK("{\"tool_calls\":[{\"index\":2,\"function\":{\"arguments\":"
              "\"{}\"}}]}", "null")
        CHUNK("{}", "\"tool_calls\"")
        "data: [DONE]\n\n");

    /* tool calls without ids get minted ones */
    got = run_stream("{\"message\":{\"tool_calls\":[{\"function\":"
                     "{\"name\":\"f\",\"arguments\":{\"a\":[1]}}}]},"
                     "\"done\":true}\n", SPLIT_WHOLE, &s);

    assert_non_null(strstr(got, "\"index\":0,\"id\":\"call_"));
    assert_non_null(strstr(got, "\"arguments\":\"{\\\"a\\\":[1]}\""));
    assert_non_null(strstr(got, "\"finish_reason\":\"tool_calls\""));
    assert_int_equal(s->ntools, 1);
    assert_int_equal(s->usage.present, 0);
    free(got);
    llm_stream_free(s);
}


static void
test_stream_errors(void **state)
{
    char          *got;
    llm_stream_t  *s;

    stream_call(0);

    /* Ollama's mid-stream error line */
    expect_stream(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
        "\"done\":false}\n"
        "{\"error\":\"an error was encountered while running the model\"}\n"
        "{\"message\":{\"content\":\"ignored\"},\"done\":true}\n",
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"Hel\"}", "null")
        "data: {\"error\":{\"message\":\"ollama: an error was encountered "
        "while running the model\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n");

    got = run_stream("{\"error\":\"boom\"}\n", SPLIT_WHOLE, &s);
    free(got);
    assert_true(s->failed);
    assert_int_equal(s->error.status, 502);
    llm_stream_free(s);

    /* the upstream went away before "done": true */
    expect_stream(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
        "\"done\":false}\n"
        "{\"message\":{\"role\":\"assistant\",\"content\":\"lo\"},\"done\"",
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"Hel\"}", "null")
        "data: {\"error\":{\"message\":\"ollama: upstream sent an invalid "
        "stream line\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n");

    expect_stream(
        "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},"
        "\"done\":false}\n",
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"Hel\"}", "null")
        "data: {\"error\":{\"message\":\"ollama: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n");

    expect_stream("",
        "data: {\"error\":{\"message\":\"ollama: upstream closed the stream "
        "before it ended\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n");

    expect_stream("<html>502 Bad Gateway</html>\n",
        "data: {\"error\":{\"message\":\"ollama: upstream sent an invalid "
        "stream line\",\"type\":\"server_error\",\"param\":null,"
        "\"code\":null}}\n\n"
        "data: [DONE]\n\n");

    /* a context-length refusal mid-stream is the client's fault */
    got = run_stream("{\"error\":\"the input length exceeds the context "
                     "length\"}", SPLIT_BYTE, &s);
    free(got);
    assert_true(s->failed);
    assert_int_equal(s->error.status, 400);
    assert_string_equal(s->error.code, "context_length_exceeded");
    llm_stream_free(s);
}


/* after the end, nothing more reaches the client */
static void
test_stream_after_done(void **state)
{
    stream_call(0);

    expect_stream(
        "{\"message\":{\"content\":\"A\"},\"done\":true}\n"
        "{\"message\":{\"content\":\"B\"},\"done\":false}\n"
        "garbage\n",
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"A\"}", "null")
        CHUNK("{}", "\"stop\"")
        "data: [DONE]\n\n");

    /* odd but valid lines: no message, wrong types, unknown fields */
    expect_stream(
        "{}\n"
        "{\"message\":[],\"done\":\"yes\"}\n"
        "{\"message\":{\"content\":1,\"thinking\":{},\"tool_calls\":{}}}\n"
        "{\"message\":{\"content\":\"x\",\"images\":null},\"new\":1}\n"
        "{\"done\":true,\"done_reason\":null,\"error\":null}\n",
        CHUNK("{\"role\":\"assistant\",\"content\":\"\"}", "null")
        CHUNK("{\"content\":\"x\"}", "null")
        CHUNK("{}", "\"stop\"")
        "data: [DONE]\n\n");
}


/* ---- embeddings -------------------------------------------------- */


static void
embed_call(const char *json)
{
    set_req(json);
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    call.model_name = "embedder";
    dep.model_id = "nomic-embed-text";
}


static void
test_embed_request(void **state)
{
    llm_http_req_t  r;
    llm_error_t     e;

    embed_call("{\"model\":\"embedder\",\"input\":\"hello\","
               "\"encoding_format\":\"base64\",\"user\":\"u\"}");

    expect_body("{\"model\":\"nomic-embed-text\",\"input\":\"hello\"}");

    assert_int_equal(llm_request_build(&call, &r, &e), LLM_OK);
    assert_string_equal(r.path.data, "/api/embed");
    assert_string_equal(r.accept, "application/json");
    llm_http_req_free(&r);

    embed_call("{\"model\":\"embedder\",\"input\":[\"a\",\"b\"],"
               "\"dimensions\":256,\"truncate\":false,"
               "\"encoding_format\":\"float\",\"keep_alive\":-1}");

    expect_body("{\"model\":\"nomic-embed-text\",\"input\":[\"a\",\"b\"],"
                "\"dimensions\":256,\"truncate\":false,\"keep_alive\":-1}");

    embed_call("{\"model\":\"embedder\",\"input\":[[1,2,3]]}");
    expect_fail(400, "invalid_request_error", "", "input",
                "only text input");

    embed_call("{\"model\":\"embedder\",\"input\":7}");
    expect_fail(400, "invalid_request_error", "", "input", "'input'");

    embed_call("{\"model\":\"embedder\",\"input\":\"x\","
               "\"encoding_format\":\"int8\"}");
    expect_fail(400, "invalid_request_error", "", "encoding_format",
                "encoding_format");
}


static void
test_embed_response(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;

    embed_call("{\"model\":\"embedder\",\"input\":[\"a\",\"b\"]}");

    parse_ok("{\"model\":\"nomic-embed-text\",\"embeddings\":"
             "[[0.25,-1.5,3],[0,1e-3,-0.0625]],"
             "\"total_duration\":14143917,\"prompt_eval_count\":8}",
             &out, &u);

    assert_json_equal(out.data, out.len,
        "{\"object\":\"list\",\"data\":["
        "{\"object\":\"embedding\",\"index\":0,"
        "\"embedding\":[0.25,-1.5,3]},"
        "{\"object\":\"embedding\",\"index\":1,"
        "\"embedding\":[0,0.001,-0.0625]}],"
        "\"model\":\"embedder\","
        "\"usage\":{\"prompt_tokens\":8,\"total_tokens\":8}}");
    llm_buf_free(&out);

    assert_int_equal(u.present, 1);
    assert_int_equal(u.prompt_tokens, 8);
    assert_int_equal(u.completion_tokens, 0);
    assert_int_equal(u.total_tokens, 8);

    /* no count, no vectors: an empty list */
    parse_ok("{\"embeddings\":[]}", &out, &u);
    assert_json_equal(out.data, out.len,
        "{\"object\":\"list\",\"data\":[],\"model\":\"embedder\","
        "\"usage\":{\"prompt_tokens\":0,\"total_tokens\":0}}");
    llm_buf_free(&out);
    assert_int_equal(u.present, 0);

    parse_fail("{\"embedding\":[1,2]}", 19, 502, "server_error");
    parse_fail("{\"embeddings\":[1,2]}", 20, 502, "server_error");
    parse_fail("{\"embeddings\":[[1,\"2\"]]}", 24, 502, "server_error");
    parse_fail("{\"embeddings\":{}}", 17, 502, "server_error");
}


/* little-endian float32, base64: what the OpenAI SDK decodes */
static void
test_embed_base64(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;

    embed_call("{\"model\":\"embedder\",\"input\":[\"a\",\"b\",\"c\"],"
               "\"encoding_format\":\"base64\"}");

    parse_ok("{\"embeddings\":[[1.0,-2.0,0.5],[0.1,3.25],[]],"
             "\"prompt_eval_count\":3}", &out, &u);

    assert_json_equal(out.data, out.len,
        "{\"object\":\"list\",\"data\":["
        "{\"object\":\"embedding\",\"index\":0,"
        "\"embedding\":\"AACAPwAAAMAAAAA/\"},"
        "{\"object\":\"embedding\",\"index\":1,"
        "\"embedding\":\"zczMPQAAUEA=\"},"
        "{\"object\":\"embedding\",\"index\":2,\"embedding\":\"\"}],"
        "\"model\":\"embedder\","
        "\"usage\":{\"prompt_tokens\":3,\"total_tokens\":3}}");
    llm_buf_free(&out);

    /* out-of-range values saturate instead of tripping the cast */
    parse_ok("{\"embeddings\":[[1e300,-1e300]]}", &out, &u);
    assert_non_null(strstr(out.data, "\"AACAfwAAgP8=\""));
    llm_buf_free(&out);
}


/* ---- errors ------------------------------------------------------ */


static void
error_of(int status, const char *body, llm_error_t *e)
{
    memset(e, 0, sizeof(llm_error_t));
    llm_ollama_adapter.parse_error(&call, status, body,
                                   body ? strlen(body) : 0, e);
}


static void
test_errors(void **state)
{
    llm_error_t  e;

    set_req("{\"model\":\"llama-local\",\"messages\":[]}");

    error_of(404, "{\"error\":\"model \\\"llama9\\\" not found, try pulling "
             "it first\"}", &e);
    assert_int_equal(e.status, 404);
    assert_string_equal(e.type, "invalid_request_error");
    assert_string_equal(e.code, "model_not_found");
    assert_string_equal(e.message, "ollama: model \"llama9\" not found, try "
                        "pulling it first");

    error_of(400, "{\"error\":\"invalid options: foo\"}", &e);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "invalid_request_error");
    assert_string_equal(e.message, "ollama: invalid options: foo");

    error_of(429, "{\"error\":\"too many requests\"}", &e);
    assert_int_equal(e.status, 429);
    assert_string_equal(e.code, "rate_limit_exceeded");

    error_of(500, "{\"error\":\"llama runner process has terminated\"}", &e);
    assert_int_equal(e.status, 502);
    assert_string_equal(e.type, "server_error");

    error_of(502, "{\"error\":\"cloud model unreachable\"}", &e);
    assert_int_equal(e.status, 502);

    /* truncate:false on /api/embed: the input is too long */
    error_of(500, "{\"error\":\"the input length exceeds the context "
             "length\"}", &e);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.type, "invalid_request_error");
    assert_string_equal(e.code, "context_length_exceeded");

    error_of(400, "{\"error\":\"prompt too long; exceeded max context "
             "length by 12 tokens\"}", &e);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "context_length_exceeded");

    /* Ollama's /v1 shape, should api_base point there */
    error_of(404, "{\"error\":{\"message\":\"model \\\"x\\\" not found\","
             "\"type\":\"not_found_error\"}}", &e);
    assert_int_equal(e.status, 404);
    assert_string_equal(e.code, "model_not_found");
    assert_string_equal(e.message, "ollama: model \"x\" not found");

    /* not JSON: the first line of the text */
    error_of(502, "  <html>Bad Gateway</html>  \r\n<body>x</body>", &e);
    assert_int_equal(e.status, 502);
    assert_string_equal(e.message, "ollama: <html>Bad Gateway</html>");

    error_of(503, "", &e);
    assert_int_equal(e.status, 503);
    assert_string_equal(e.message, "ollama: upstream returned HTTP 503");

    error_of(500, NULL, &e);
    assert_int_equal(e.status, 502);

    error_of(401, "{\"error\":42}", &e);
    assert_int_equal(e.status, 401);
    assert_string_equal(e.type, "authentication_error");
    assert_string_equal(e.message, "ollama: upstream returned HTTP 401");

    error_of(400, "[\"x\"]", &e);
    assert_int_equal(e.status, 400);
}


static void
test_registry(void **state)
{
    assert_ptr_equal(llm_adapter_get(LLM_PROVIDER_OLLAMA),
                     &llm_ollama_adapter);
    assert_string_equal(llm_ollama_adapter.name, "ollama");
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_setup_teardown(test_request_doc_example,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_stream_and_auth,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_missing_env,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_messages,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_tool_result_doc,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_bad_messages,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_image_urls,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_options,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_defaults,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_unsupported,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_doc_example,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_text,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_response_missing_fields,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_doc_example,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_usage_crlf,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_tools_thinking,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_errors,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_after_done,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_embed_request,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_embed_response,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_embed_base64,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
