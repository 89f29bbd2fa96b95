/*
 * Copyright (C) ngx_llm authors
 *
 * The Vertex AI adapter against ../shared/providers/vertex.md: the
 * document's example pairs verbatim, URLs (regions, global, api_base,
 * endpoints), auth, the Gemini request and response mapping tables,
 * streams in every split, errors in Google's and Anthropic's shapes,
 * Claude on Vertex and embeddings.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_adapter.h"
#include "llm_vertex.h"
#include "test_util.h"


/* the examples of vertex.md, verbatim */

static const char  DOC_REQ[] =
    "{\"model\":\"gemini-flash\",\"messages\":[{\"role\":\"system\",\"conte"
    "nt\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Capital of France"
    "?\"}],\n"
    " \"max_tokens\":50,\"temperature\":0.2,\"stop\":[\"\\n\\n\"],\"respons"
    "e_format\":{\"type\":\"json_object\"}}\n";

static const char  DOC_REQ_OUT[] =
    "{\"systemInstruction\":{\"parts\":[{\"text\":\"Be brief.\"}]},\n"
    " \"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Capital of Fr"
    "ance?\"}]}],\n"
    " \"generationConfig\":{\"maxOutputTokens\":50,\"temperature\":0.2,\"st"
    "opSequences\":[\"\\n\\n\"],\"responseMimeType\":\"application/json\"}}"
    "\n";

static const char  DOC_RESP[] =
    "{\"candidates\":[{\"index\":0,\"content\":{\"role\":\"model\",\"parts"
    "\":[{\"text\":\"{\\\"capital\\\":\\\"Paris\\\"}\"}]},\"finishReason\":"
    "\"STOP\"}],\n"
    " \"usageMetadata\":{\"promptTokenCount\":9,\"candidatesTokenCount\":7,"
    "\"totalTokenCount\":16},\n"
    " \"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\",\"createT"
    "ime\":\"2025-07-01T10:00:00Z\"}\n";

static const char  DOC_RESP_OUT[] =
    "{\"id\":\"chatcmpl-r1\",\"object\":\"chat.completion\",\"created\":175"
    "1364000,\"model\":\"gemini-flash\",\n"
    " \"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"conte"
    "nt\":\"{\\\"capital\\\":\\\"Paris\\\"}\",\"refusal\":null},\"logprobs"
    "\":null,\"finish_reason\":\"stop\"}],\n"
    " \"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,\"total_tokens"
    "\":16}}\n";

static const char  DOC_STREAM[] =
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\""
    "text\":\"Par\"}]}}],\"usageMetadata\":{\"promptTokenCount\":9,\"totalT"
    "okenCount\":9},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\""
    "r2\"}\n"
    "\n"
    "data: {\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\""
    "text\":\"is.\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"pro"
    "mptTokenCount\":9,\"candidatesTokenCount\":2,\"totalTokenCount\":11},"
    "\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r2\"}\n";

static const char  DOC_STREAM_OUT[] =
    "data: {\"id\":\"chatcmpl-r2\",\"object\":\"chat.completion.chunk\",\"c"
    "reated\":1751364000,\"model\":\"gemini-flash\",\"choices\":[{\"index\""
    ":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason"
    "\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-r2\",\"object\":\"chat.completion.chunk\",\"c"
    "reated\":1751364000,\"model\":\"gemini-flash\",\"choices\":[{\"index\""
    ":0,\"delta\":{\"content\":\"Par\"},\"finish_reason\":null}],\"usage\":"
    "null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-r2\",\"object\":\"chat.completion.chunk\",\"c"
    "reated\":1751364000,\"model\":\"gemini-flash\",\"choices\":[{\"index\""
    ":0,\"delta\":{\"content\":\"is.\"},\"finish_reason\":null}],\"usage\":"
    "null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-r2\",\"object\":\"chat.completion.chunk\",\"c"
    "reated\":1751364000,\"model\":\"gemini-flash\",\"choices\":[{\"index\""
    ":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-r2\",\"object\":\"chat.completion.chunk\",\"c"
    "reated\":1751364000,\"model\":\"gemini-flash\",\"choices\":[],\"usage"
    "\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}"
    "\n"
    "\n"
    "data: [DONE]\n";

static const char  DOC_CLAUDE_BODY[] =
    "{\"anthropic_version\":\"vertex-2023-10-16\",\"max_tokens\":256,\"mess"
    "ages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}";

static const char  DOC_ERR_429[] =
    "{\"error\":{\"code\":429,\"message\":\"Resource exhausted. Please try "
    "again later.\",\"status\":\"RESOURCE_EXHAUSTED\",\"details\":[]}}";


static llm_deployment_t  dep;
static cJSON            *params;
static cJSON            *req;
static llm_call_t        call;


/* a deployment of model_id; params in q() JSON, NULL for the default */
static void
use_model(const char *model_id, const char *params_json)
{
    static char  model[256];

    cJSON_Delete(params);
    params = cJSON_Parse(q(params_json ? params_json
                           : "{'vertex_project':'my-gcp-project',"
                             "'vertex_location':'us-central1'}"));
    assert_non_null(params);

    snprintf(model, sizeof(model), "vertex_ai/%s", model_id);

    memset(&dep, 0, sizeof(dep));
    dep.model_name = "gemini-flash";
    dep.model = model;
    dep.prefix = "vertex_ai";
    dep.model_id = (char *) model_id;
    dep.provider = LLM_PROVIDER_VERTEX;
    dep.base.tls = 1;
    dep.base.host = "us-central1-aiplatform.googleapis.com";
    dep.base.port = 443;
    dep.base.path = "";
    dep.params = params;
    dep.drop_params = -1;
    dep.num_retries = -1;
}


static void
setup_call_raw(const char *json)
{
    const cJSON  *v;

    if (dep.model_id == NULL) {
        use_model("gemini-2.5-flash", NULL);
    }

    cJSON_Delete(req);
    req = cJSON_Parse(json);
    assert_non_null(req);

    memset(&call, 0, sizeof(call));
    call.endpoint = LLM_ENDPOINT_CHAT;
    call.dep = &dep;
    call.req = req;
    call.model_name = "gemini-flash";
    snprintf(call.id, sizeof(call.id), "chatcmpl-r1");
    call.created = 1751364000;
    call.access_token = "ya29.test-token";

    call.stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req,
                                                                "stream"));
    v = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
    call.include_usage = cJSON_IsTrue(
                             cJSON_GetObjectItemCaseSensitive(v,
                                                     "include_usage"));
}


static void
setup_call(const char *json)
{
    setup_call_raw(q(json));
}


static int
setup(void **state)
{
    use_model("gemini-2.5-flash", NULL);
    return 0;
}


static int
teardown(void **state)
{
    cJSON_Delete(req);
    req = NULL;
    cJSON_Delete(params);
    params = NULL;
    memset(&dep, 0, sizeof(dep));
    return 0;
}


/* builds the request for the current call; asserts path and body */
static void
build_ok(const char *path, const char *expected_body)
{
    llm_error_t     err;
    llm_http_req_t  r;

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.method, "POST");

    if (path) {
        assert_string_equal(r.path.data, path);
    }

    if (expected_body) {
        assert_json_eq(r.body.data, r.body.len, expected_body);
    }

    llm_http_req_free(&r);
}


static void
build_fails(int status, const char *type, const char *param,
    const char *code)
{
    llm_error_t     err;
    llm_http_req_t  r;

    memset(&err, 0, sizeof(err));

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, status);
    assert_string_equal(err.type, type);

    if (param) {
        assert_string_equal(err.param, param);
    }

    if (code) {
        assert_string_equal(err.code, code);
    }
}


/* the body of the request for client, as a tree the caller frees */
static cJSON *
body_of(const char *client)
{
    cJSON           *b;
    llm_error_t      err;
    llm_http_req_t   r;

    setup_call(client);

    memset(&err, 0, sizeof(err));

    if (llm_request_build(&call, &r, &err) != LLM_OK) {
        print_error("build failed: %d %s\n", err.status, err.message);
        fail();
    }

    b = cJSON_ParseWithLength(r.body.data, r.body.len);
    assert_non_null(b);
    llm_http_req_free(&r);

    return b;
}


/* body_of(client) must equal expected (both in q() JSON) */
static void
request_ok(const char *client, const char *expected)
{
    char   *json;
    cJSON  *b;

    b = body_of(client);
    json = cJSON_PrintUnformatted(b);
    assert_json_eq(json, strlen(json), q(expected));
    free(json);
    cJSON_Delete(b);
}


/* a member of the request body for client, compared with expected */
static void
request_member(const char *client, const char *key, const char *expected)
{
    char   *json;
    cJSON  *b, *v;

    b = body_of(client);
    v = cJSON_GetObjectItemCaseSensitive(b, key);

    if (expected == NULL) {
        assert_null(v);

    } else {
        assert_non_null(v);
        json = cJSON_PrintUnformatted(v);
        assert_json_eq(json, strlen(json), q(expected));
        free(json);
    }

    cJSON_Delete(b);
}


static void
response_ok(const char *body, const char *expected, llm_usage_t *usage)
{
    llm_buf_t    out;
    llm_error_t  err;
    llm_usage_t  u;

    memset(&out, 0, sizeof(out));
    memset(&err, 0, sizeof(err));

    if (llm_vertex_adapter.parse_response(&call, body, strlen(body), &out,
                                          &u, &err) != LLM_OK)
    {
        print_error("parse_response failed: %d %s\n", err.status,
                    err.message);
        fail();
    }

    assert_json_eq(out.data, out.len, expected);
    llm_buf_free(&out);

    if (usage) {
        *usage = u;
    }
}


static void
response_fails(const char *body, int status, const char *type)
{
    llm_buf_t    out;
    llm_error_t  err;
    llm_usage_t  u;

    memset(&out, 0, sizeof(out));

    assert_int_equal(llm_vertex_adapter.parse_response(&call, body,
                                                       strlen(body), &out,
                                                       &u, &err),
                     LLM_ERROR);
    assert_int_equal(err.status, status);
    assert_string_equal(err.type, type);
    llm_buf_free(&out);
}


static void
error_is(int status, const char *body, int want_status, const char *type,
    const char *code, const char *msg_part)
{
    llm_error_t  err;

    memset(&err, 0, sizeof(err));
    llm_vertex_adapter.parse_error(&call, status, body, strlen(body), &err);

    if (err.status != want_status || strcmp(err.type, type) != 0
        || strcmp(err.code, code ? code : "") != 0
        || (msg_part && strstr(err.message, msg_part) == NULL))
    {
        print_error("got %d %s %s \"%s\"\n", err.status, err.type, err.code,
                    err.message);
        fail();
    }
}


/*
 * Streams.
 */

#define SPLIT_WHOLE   0
#define SPLIT_BYTE    1
#define SPLIT_RANDOM  2


/* the translated output of input fed in the given split; caller frees */
static char *
run_stream(const char *input, size_t len, int split, unsigned seed,
    int eof)
{
    char          *res;
    size_t         off, n;
    llm_stream_t  *s;

    s = llm_stream_new(&call);
    assert_non_null(s);

    for (off = 0; off < len; off += n) {
        n = len - off;

        if (split == SPLIT_BYTE) {
            n = 1;

        } else if (split == SPLIT_RANDOM) {
            n = 1 + rand_r(&seed) % 17;
            n = n > len - off ? len - off : n;
        }

        assert_int_equal(s->adapter->stream_feed(s, input + off, n), LLM_OK);
    }

    if (eof) {
        assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
        assert_true(s->done);
    }

    res = strndup(s->out.data ? s->out.data : "", s->out.len);
    assert_non_null(res);

    llm_stream_free(s);

    return res;
}


/* the same output whole, one byte at a time and in random splits */
static char *
stream_all_splits(const char *input, int eof)
{
    char      *whole, *other;
    unsigned   seed;

    whole = run_stream(input, strlen(input), SPLIT_WHOLE, 0, eof);

    other = run_stream(input, strlen(input), SPLIT_BYTE, 0, eof);
    assert_string_equal(other, whole);
    free(other);

    for (seed = 1; seed <= 20; seed++) {
        other = run_stream(input, strlen(input), SPLIT_RANDOM, seed, eof);
        assert_string_equal(other, whole);
        free(other);
    }

    return whole;
}


/*
 * A compact account of an OpenAI SSE output: "role" for the role chunk,
 * "c:<text>" content, "r:<text>" reasoning, "ts<k>:<id>:<name>" tool
 * start, "ta<k>:<args>", "f:<reason>",
 * "u:<prompt>/<completion>/<cached>/<reasoning>", "e:<status>:<type>:
 * <code>", "DONE"; separated by '|'.
 */
static char *
summary(const char *out)
{
    static char   buf[16384];
    char         *copy, *line, *p;
    cJSON        *j, *c, *d, *tc, *u, *v, *w;
    size_t        n;

    buf[0] = '\0';
    n = 0;
    copy = strdup(out);
    assert_non_null(copy);

#define ADD(...)                                                         \
    n += snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__)

    for (line = strtok_r(copy, "\n", &p); line;
         line = strtok_r(NULL, "\n", &p))
    {
        if (n) {
            ADD("|");
        }

        if (strcmp(line, "data: [DONE]") == 0) {
            ADD("DONE");
            continue;
        }

        j = cJSON_Parse(line + 6);
        assert_non_null(j);

        if ((v = cJSON_GetObjectItem(j, "error"))) {
            ADD("e:%s:%s",
                cJSON_GetObjectItem(v, "type")->valuestring,
                cJSON_IsString(cJSON_GetObjectItem(v, "code"))
                ? cJSON_GetObjectItem(v, "code")->valuestring : "null");
            cJSON_Delete(j);
            continue;
        }

        c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
        u = cJSON_GetObjectItem(j, "usage");

        if (c == NULL && cJSON_IsObject(u)) {
            v = cJSON_GetObjectItem(u, "prompt_tokens_details");
            w = cJSON_GetObjectItem(u, "completion_tokens_details");
            ADD("u:%d/%d/%d/%d",
                cJSON_GetObjectItem(u, "prompt_tokens")->valueint,
                cJSON_GetObjectItem(u, "completion_tokens")->valueint,
                v ? cJSON_GetObjectItem(v, "cached_tokens")->valueint : 0,
                w ? cJSON_GetObjectItem(w, "reasoning_tokens")->valueint : 0);
            cJSON_Delete(j);
            continue;
        }

        d = cJSON_GetObjectItem(c, "delta");
        tc = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "tool_calls"), 0);
        v = cJSON_GetObjectItem(c, "finish_reason");

        if (cJSON_IsString(v)) {
            ADD("f:%s", v->valuestring);

        } else if (cJSON_GetObjectItem(d, "role")) {
            ADD("role");

        } else if ((v = cJSON_GetObjectItem(d, "content"))) {
            ADD("c:%s", v->valuestring);

        } else if ((v = cJSON_GetObjectItem(d, "reasoning_content"))) {
            ADD("r:%s", v->valuestring);

        } else if (tc && cJSON_GetObjectItem(tc, "id")) {
            v = cJSON_GetObjectItem(tc, "id");
            ADD("ts%d:%s:%s", cJSON_GetObjectItem(tc, "index")->valueint,
                v->valuestring,
                cJSON_GetObjectItem(cJSON_GetObjectItem(tc, "function"),
                                    "name")->valuestring);

        } else if (tc) {
            ADD("ta%d:%s", cJSON_GetObjectItem(tc, "index")->valueint,
                cJSON_GetObjectItem(cJSON_GetObjectItem(tc, "function"),
                                    "arguments")->valuestring);

        } else {
            ADD("?");
        }

        cJSON_Delete(j);
    }

#undef ADD

    free(copy);

    return buf;
}


/* the stream of input for client, every split, summarized */
static void
stream_ok(const char *client, const char *input, const char *expected)
{
    char  *out;

    setup_call(client);
    out = stream_all_splits(q(input), 1);

    if (strcmp(summary(out), expected) != 0) {
        print_error("actual:   %s\nexpected: %s\n", summary(out), expected);
        free(out);
        fail();
    }

    free(out);
}


/* one Gemini SSE event (JSON in q() quotes) */
#define EV(json)  "data: " json "\n\n"

#define STREAM_REQ                                                       \
    "{'model':'gemini-flash','stream':true,"                             \
    "'stream_options':{'include_usage':true},"                           \
    "'messages':[{'role':'user','content':'hi'}]}"


/*
 * The document's examples.
 */

static void
test_doc_request(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call_raw(DOC_REQ);

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.path.data, "/v1/projects/my-gcp-project/locations/"
                        "us-central1/publishers/google/models/"
                        "gemini-2.5-flash:generateContent");
    assert_json_eq(r.body.data, r.body.len, DOC_REQ_OUT);
    assert_string_equal(header(&r, "Authorization"), "Bearer ya29.test-token");
    assert_null(header(&r, "x-goog-api-key"));
    assert_string_equal(r.accept, "application/json");

    llm_http_req_free(&r);
}


static void
test_doc_response(void **state)
{
    llm_usage_t  u;

    setup_call_raw(DOC_REQ);
    response_ok(DOC_RESP, DOC_RESP_OUT, &u);

    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, 9);
    assert_int_equal(u.completion_tokens, 7);
    assert_int_equal(u.total_tokens, 16);
}


static void
test_doc_stream(void **state)
{
    char  *out;

    setup_call(STREAM_REQ);
    snprintf(call.id, sizeof(call.id), "chatcmpl-r2");

    out = stream_all_splits(DOC_STREAM, 1);
    assert_events_eq(out, DOC_STREAM_OUT);
    free(out);
}


/* the same events with CRLF line ends and a comment line */
static void
test_stream_crlf(void **state)
{
    stream_ok(STREAM_REQ,
              ": keepalive\r\n\r\n"
              "data: {'candidates':[{'content':{'parts':[{'text':'a'}]}}]}"
              "\r\n\r\n"
              "data:{'candidates':[{'content':{'parts':[{'text':'b'}]},"
              "'finishReason':'STOP'}],'usageMetadata':{"
              "'promptTokenCount':3,'candidatesTokenCount':2}}\r\r",
              "role|c:a|c:b|f:stop|u:3/2/0/0|DONE");
}


/*
 * URLs and auth.
 */

static void
test_url_shapes(void **state)
{
    const char  *p;

    p = "/v1/projects/my-gcp-project/locations/us-central1/publishers/"
        "google/models/gemini-2.5-flash:streamGenerateContent?alt=sse";

    setup_call("{'model':'m','stream':true,'messages':[{'role':'user',"
               "'content':'x'}]}");
    build_ok(p, NULL);

    /* global: the location in the path is "global" too */
    use_model("gemini-2.5-pro", "{'vertex_project':'p-1',"
              "'vertex_location':'global'}");
    dep.base.host = "aiplatform.googleapis.com";
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/p-1/locations/global/publishers/google/models/"
             "gemini-2.5-pro:generateContent", NULL);

    /* an api_base path prefix is kept */
    use_model("gemini-2.0-flash", NULL);
    dep.base.path = "/proxy/vertex/";
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/proxy/vertex/v1/projects/my-gcp-project/locations/"
             "us-central1/publishers/google/models/gemini-2.0-flash:"
             "generateContent", NULL);

    /* a bare number is a deployed endpoint */
    use_model("1234567890", NULL);
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/my-gcp-project/locations/us-central1/endpoints/"
             "1234567890:generateContent", NULL);

    /* Claude: the Anthropic publisher, rawPredict */
    use_model("claude-3-7-sonnet@20250219", "{'vertex_project':"
              "'my-gcp-project','vertex_location':'us-east5'}");
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/my-gcp-project/locations/us-east5/publishers/"
             "anthropic/models/claude-3-7-sonnet@20250219:rawPredict", NULL);

    setup_call("{'model':'m','stream':true,'messages':[{'role':'user',"
               "'content':'x'}]}");
    build_ok("/v1/projects/my-gcp-project/locations/us-east5/publishers/"
             "anthropic/models/claude-3-7-sonnet@20250219:streamRawPredict",
             NULL);

    /* odd characters in the configuration do not break the path */
    use_model("gemini x/y", "{'vertex_project':'a b','vertex_location':"
              "'us-central1'}");
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/a%20b/locations/us-central1/publishers/google/"
             "models/gemini%20x%2Fy:generateContent", NULL);
}


static void
test_url_embeddings(void **state)
{
    use_model("text-embedding-005", NULL);
    setup_call("{'model':'e','input':'hi'}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;

    build_ok("/v1/projects/my-gcp-project/locations/us-central1/publishers/"
             "google/models/text-embedding-005:predict", NULL);
}


static void
test_project_fallbacks(void **state)
{
    /* LiteLLM takes the key's project when none is configured */
    use_model("gemini-2.5-flash", "{'vertex_location':'europe-west1',"
              "'vertex_credentials':'{\\'type\\':\\'service_account\\',"
              "\\'project_id\\':\\'from-key\\'}'}");
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/from-key/locations/europe-west1/publishers/"
             "google/models/gemini-2.5-flash:generateContent", NULL);

    /* a YAML mapping of the key works the same */
    use_model("gemini-2.5-flash", "{'vertex_credentials':"
              "{'project_id':'mapped'}}");
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_ok("/v1/projects/mapped/locations/us-central1/publishers/"
             "google/models/gemini-2.5-flash:generateContent", NULL);

    /* a key file path says nothing here: no project, a clear error */
    use_model("gemini-2.5-flash", "{'vertex_credentials':'/etc/sa.json'}");
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    build_fails(500, "server_error", NULL, NULL);
}


static void
test_auth(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");
    call.access_token = NULL;
    build_fails(401, "authentication_error", NULL, "invalid_api_key");

    call.access_token = "";
    build_fails(401, "authentication_error", NULL, "invalid_api_key");

    /* an express-mode API key */
    dep.api_key = "AIza-test";
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(header(&r, "x-goog-api-key"), "AIza-test");
    assert_null(header(&r, "Authorization"));
    llm_http_req_free(&r);

    /* the OAuth token wins */
    call.access_token = "tok";
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(header(&r, "Authorization"), "Bearer tok");
    assert_null(header(&r, "x-goog-api-key"));
    llm_http_req_free(&r);

    dep.missing_env = "VERTEX_SA_JSON";
    memset(&err, 0, sizeof(err));
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, 401);
    assert_non_null(strstr(err.message, "VERTEX_SA_JSON"));
    dep.missing_env = NULL;
}


/*
 * Gemini request mapping.
 */

static void
test_messages_multimodal(void **state)
{
    request_member(
        "{'model':'m','messages':["
        "{'role':'system','content':'one'},"
        "{'role':'developer','content':[{'type':'text','text':'two'}]},"
        "{'role':'user','content':[{'type':'text','text':'look'},"
        "{'type':'image_url','image_url':{'url':"
        "'data:image/png;base64,iVBORw0KGgo='}},"
        "{'type':'image_url','image_url':{'url':'gs://b/cat.JPG'}},"
        "{'type':'image_url','image_url':'https://x.test/a.webp?s=1'},"
        "{'type':'image_url','image_url':{'url':'https://x.test/doc',"
        "'format':'application/pdf'}},"
        "{'type':'input_audio','input_audio':{'data':'UklG','format':'mp3'}},"
        "{'type':'file','file':{'file_id':'gs://b/r.pdf'}}]}]}",
        "contents",
        "[{'role':'user','parts':[{'text':'look'},"
        "{'inlineData':{'mimeType':'image/png','data':'iVBORw0KGgo='}},"
        "{'fileData':{'mimeType':'image/jpeg','fileUri':'gs://b/cat.JPG'}},"
        "{'fileData':{'mimeType':'image/webp','fileUri':"
        "'https://x.test/a.webp?s=1'}},"
        "{'fileData':{'mimeType':'application/pdf','fileUri':"
        "'https://x.test/doc'}},"
        "{'inlineData':{'mimeType':'audio/mpeg','data':'UklG'}},"
        "{'fileData':{'mimeType':'application/pdf','fileUri':"
        "'gs://b/r.pdf'}}]}]");

    request_member(
        "{'model':'m','messages':[{'role':'system','content':'one'},"
        "{'role':'developer','content':[{'type':'text','text':'two'}]},"
        "{'role':'user','content':'x'}]}",
        "systemInstruction", "{'parts':[{'text':'one'},{'text':'two'}]}");

    /* no system message, no systemInstruction */
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}]}",
                   "systemInstruction", NULL);
}


/*
 * A tool round trip: the call comes back by id, results are named by
 * the call they answer, consecutive results are one user turn, and the
 * thoughtSignature carried in the id is re-attached.
 */
static void
test_messages_tools(void **state)
{
    request_member(
        "{'model':'m','messages':["
        "{'role':'user','content':'weather?'},"
        "{'role':'assistant','content':'Let me check.','tool_calls':["
        "{'id':'call_a__thought__CiQBsig','type':'function','function':"
        "{'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}},"
        "{'id':'call_b','type':'function','function':"
        "{'name':'get_time','arguments':''}}]},"
        "{'role':'tool','tool_call_id':'call_b','content':'12:00'},"
        "{'role':'tool','tool_call_id':'call_a__thought__CiQBsig',"
        "'content':'{\\'temp\\':18}'},"
        "{'role':'user','content':'and tomorrow?'},"
        "{'role':'assistant','content':''},"
        "{'role':'user','content':'?'}]}",
        "contents",
        "[{'role':'user','parts':[{'text':'weather?'}]},"
        "{'role':'model','parts':[{'text':'Let me check.'},"
        "{'functionCall':{'name':'get_weather','args':{'city':'Paris'}},"
        "'thoughtSignature':'CiQBsig'},"
        "{'functionCall':{'name':'get_time','args':{}}}]},"
        "{'role':'user','parts':["
        "{'functionResponse':{'name':'get_time','response':"
        "{'content':'12:00'}}},"
        "{'functionResponse':{'name':'get_weather','response':{'temp':18}}},"
        "{'text':'and tomorrow?'},{'text':'?'}]}]");

    /* text parts of a tool result are joined; a JSON array is wrapped */
    request_member(
        "{'model':'m','messages':[{'role':'user','content':'x'},"
        "{'role':'assistant','tool_calls':[{'id':'c1','type':'function',"
        "'function':{'name':'f','arguments':'{}'}},{'id':'c2','type':"
        "'function','function':{'name':'g','arguments':'{}'}}]},"
        "{'role':'tool','tool_call_id':'c1','content':[{'type':'text',"
        "'text':'a'},{'type':'text','text':'b'}]},"
        "{'role':'tool','tool_call_id':'c2','content':'[1,2]'}]}",
        "contents",
        "[{'role':'user','parts':[{'text':'x'}]},"
        "{'role':'model','parts':[{'functionCall':{'name':'f','args':{}}},"
        "{'functionCall':{'name':'g','args':{}}}]},"
        "{'role':'user','parts':[{'functionResponse':{'name':'f',"
        "'response':{'content':'ab'}}},{'functionResponse':{'name':'g',"
        "'response':{'content':'[1,2]'}}}]}]");

    /* the legacy function role carries its name */
    request_member(
        "{'model':'m','messages':[{'role':'user','content':'x'},"
        "{'role':'assistant','function_call':{'name':'f','arguments':"
        "'{\\'a\\':1}'}},{'role':'function','name':'f','content':'ok'}]}",
        "contents",
        "[{'role':'user','parts':[{'text':'x'}]},"
        "{'role':'model','parts':[{'functionCall':{'name':'f','args':"
        "{'a':1}}}]},"
        "{'role':'user','parts':[{'functionResponse':{'name':'f',"
        "'response':{'content':'ok'}}}]}]");
}


static void
test_messages_errors(void **state)
{
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'},"
               "{'role':'tool','tool_call_id':'nope','content':'r'}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'wizard','content':'x'}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'system','content':'x'}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':''}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':[{'type':"
               "'image_url','image_url':{'url':'data:image/png,raw'}}]}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':[{'type':"
               "'video_url','video_url':{}}]}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'},"
               "{'role':'assistant','tool_calls':[{'id':'c','type':"
               "'function','function':{'name':'f','arguments':'[1]'}}]}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':42}]}");
    build_fails(400, "invalid_request_error", "messages", NULL);
}


static void
test_generation_config(void **state)
{
    request_member(
        "{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'temperature':1.5,'top_p':0.9,'top_k':40,'seed':7,"
        "'presence_penalty':0.5,'frequency_penalty':-0.5,'n':2,"
        "'max_completion_tokens':300,'max_tokens':99,'stop':'END',"
        "'logprobs':true,'top_logprobs':3}",
        "generationConfig",
        "{'temperature':1.5,'topP':0.9,'topK':40,'seed':7,"
        "'presencePenalty':0.5,'frequencyPenalty':-0.5,'candidateCount':2,"
        "'maxOutputTokens':300,'stopSequences':['END'],"
        "'responseLogprobs':true,'logprobs':3}");

    /* nothing to say: no generationConfig; n 1 and logprobs false */
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'n':1,'logprobs':false,'stop':[],"
                   "'response_format':{'type':'text'}}",
                   "generationConfig", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'max_tokens':0}");
    build_fails(400, "invalid_request_error", "max_tokens", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'temperature':'hot'}");
    build_fails(400, "invalid_request_error", "temperature", NULL);
}


/* deployment defaults sit under the client's values */
static void
test_deployment_defaults(void **state)
{
    cJSON  *d;

    d = cJSON_Parse(q("{'temperature':0.1,'max_tokens':64,"
                      "'safety_settings':[{'category':"
                      "'HARM_CATEGORY_HARASSMENT','threshold':"
                      "'BLOCK_NONE'}]}"));
    dep.defaults = d;

    request_ok("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'temperature':0.7}",
               "{'contents':[{'role':'user','parts':[{'text':'x'}]}],"
               "'generationConfig':{'temperature':0.7,'maxOutputTokens':64},"
               "'safetySettings':[{'category':'HARM_CATEGORY_HARASSMENT',"
               "'threshold':'BLOCK_NONE'}]}");

    dep.defaults = NULL;
    cJSON_Delete(d);
}


static void
test_json_mode(void **state)
{
    request_member(
        "{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'response_format':{'type':'json_schema','json_schema':{'name':'r',"
        "'strict':true,'schema':{'$schema':'http://json-schema.org/draft-07/"
        "schema#','type':'object','additionalProperties':false,"
        "'properties':{'city':{'type':'string','format':'uri',"
        "'description':'a city'},"
        "'when':{'type':'string','format':'date-time'},"
        "'n':{'type':['integer','null']},"
        "'kind':{'enum':['a','b']},"
        "'fixed':{'const':'k'},"
        "'tags':{'type':'array','items':{'$ref':'#/$defs/Tag'}},"
        "'alt':{'anyOf':[{'type':'string'},{'type':'null'}]},"
        "'either':{'oneOf':[{'type':'string'},{'type':'number'}]}},"
        "'required':['city'],'$defs':{'Tag':{'type':'object',"
        "'additionalProperties':false,'properties':{'v':{'type':'string'}}}}"
        "}}}}",
        "generationConfig",
        "{'responseMimeType':'application/json','responseSchema':{"
        "'type':'object','properties':{"
        "'city':{'type':'string','description':'a city'},"
        "'when':{'type':'string','format':'date-time'},"
        "'n':{'type':'integer','nullable':true},"
        "'kind':{'type':'string','enum':['a','b']},"
        "'fixed':{'type':'string','enum':['k']},"
        "'tags':{'type':'array','items':{'type':'object','properties':"
        "{'v':{'type':'string'}}}},"
        "'alt':{'nullable':true,'type':'string'},"
        "'either':{'anyOf':[{'type':'string'},{'type':'number'}]}},"
        "'required':['city']}}");

    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'response_format':{'type':'json_object'}}",
                   "generationConfig",
                   "{'responseMimeType':'application/json'}");

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'response_format':{'type':'yaml'}}");
    build_fails(400, "invalid_request_error", "response_format", NULL);
}


/* $ref cycles and exponential expansions are cut, not followed */
static void
test_schema_limits(void **state)
{
    char   *json;
    cJSON  *b;

    b = body_of("{'model':'m','messages':[{'role':'user','content':'x'}],"
                "'response_format':{'type':'json_schema','json_schema':{"
                "'name':'r','schema':{'$ref':'#/$defs/A','$defs':{'A':{"
                "'type':'object','properties':{'x':{'$ref':'#/$defs/A'},"
                "'y':{'$ref':'#/$defs/A'}}}}}}}}");

    json = cJSON_PrintUnformatted(b);
    assert_true(strlen(json) < 1024 * 1024);
    free(json);
    cJSON_Delete(b);
}


static void
test_tools(void **state)
{
    request_ok(
        "{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'tools':[{'type':'function','function':{'name':'get_weather',"
        "'description':'Current weather','parameters':{'type':'object',"
        "'properties':{'city':{'type':'string'}},'required':['city'],"
        "'additionalProperties':false}}},"
        "{'type':'function','function':{'name':'now','parameters':"
        "{'type':'object','properties':{}}}},"
        "{'type':'function','function':{'name':'ping'}},"
        "{'googleSearch':{}}],"
        "'tool_choice':'required','parallel_tool_calls':false}",
        "{'contents':[{'role':'user','parts':[{'text':'x'}]}],"
        "'tools':[{'functionDeclarations':[{'name':'get_weather',"
        "'description':'Current weather','parameters':{'type':'object',"
        "'properties':{'city':{'type':'string'}},'required':['city']}},"
        "{'name':'now'},{'name':'ping'}]},{'googleSearch':{}}],"
        "'toolConfig':{'functionCallingConfig':{'mode':'ANY'}}}");

#define TOOLS  "'tools':[{'type':'function','function':{'name':'f'}}]"

    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   TOOLS ",'tool_choice':'auto'}", "toolConfig",
                   "{'functionCallingConfig':{'mode':'AUTO'}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   TOOLS ",'tool_choice':'none'}", "toolConfig",
                   "{'functionCallingConfig':{'mode':'NONE'}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   TOOLS ",'tool_choice':{'type':'function','function':"
                   "{'name':'f'}}}", "toolConfig",
                   "{'functionCallingConfig':{'mode':'ANY',"
                   "'allowedFunctionNames':['f']}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   TOOLS "}", "toolConfig", NULL);

    /* without tools, a tool_choice says nothing */
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'tool_choice':'auto'}", "toolConfig", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               TOOLS ",'tool_choice':'sometimes'}");
    build_fails(400, "invalid_request_error", "tool_choice", NULL);

#undef TOOLS
}


static void
test_thinking(void **state)
{
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'reasoning_effort':'low'}", "generationConfig",
                   "{'thinkingConfig':{'thinkingBudget':1024,"
                   "'includeThoughts':true}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'reasoning_effort':'high'}", "generationConfig",
                   "{'thinkingConfig':{'thinkingBudget':4096,"
                   "'includeThoughts':true}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'reasoning_effort':'none'}", "generationConfig",
                   "{'thinkingConfig':{'thinkingBudget':0}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'thinking':{'type':'enabled','budget_tokens':2000}}",
                   "generationConfig",
                   "{'thinkingConfig':{'thinkingBudget':2000,"
                   "'includeThoughts':true}}");

    use_model("gemini-3-pro-preview", NULL);
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'reasoning_effort':'medium'}", "generationConfig",
                   "{'thinkingConfig':{'thinkingLevel':'high',"
                   "'includeThoughts':true}}");
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'reasoning_effort':'none'}", "generationConfig", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'reasoning_effort':'max'}");
    build_fails(400, "invalid_request_error", "reasoning_effort", NULL);
}


static void
test_extras_and_unsupported(void **state)
{
    request_ok("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'user':'u-42','cached_content':'projects/p/cachedContents/1',"
               "'labels':{'team':'a'},'logit_bias':null,'store':true,"
               "'metadata':{'k':'v'},'stream_options':{'include_usage':true}}",
               "{'contents':[{'role':'user','parts':[{'text':'x'}]}],"
               "'cachedContent':'projects/p/cachedContents/1',"
               "'labels':{'team':'a','user':'u-42'}}");

    /* a user id that is no valid label value is not sent */
    request_member("{'model':'m','messages':[{'role':'user','content':'x'}],"
                   "'user':'Bob@example.com'}", "labels", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'logit_bias':{'50256':-100}}");
    build_fails(400, "invalid_request_error", "logit_bias",
                "unsupported_parameter");

    call.drop_params = 1;
    build_ok(NULL, q("{'contents':[{'role':'user','parts':[{'text':'x'}]}]}"));

    /* streams translate one candidate */
    setup_call("{'model':'m','stream':true,'n':3,'messages':[{'role':'user',"
               "'content':'x'}]}");
    build_fails(400, "invalid_request_error", "n", "unsupported_parameter");

    call.drop_params = 1;
    build_ok(NULL, q("{'contents':[{'role':'user','parts':[{'text':'x'}]}]}"));
}


/*
 * Gemini responses.
 */

static void
test_response_tools_and_thoughts(void **state)
{
    llm_usage_t  u;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    response_ok(q(
        "{'candidates':[{'index':0,'content':{'role':'model','parts':["
        "{'text':'Thinking about it.','thought':true},"
        "{'text':'Let me check.'},"
        "{'functionCall':{'name':'get_weather','args':{'city':'Paris'}},"
        "'thoughtSignature':'CiQBsig'},"
        "{'functionCall':{'name':'get_time','args':{},'id':'fc-7'}}]},"
        "'finishReason':'STOP','safetyRatings':[]}],"
        "'usageMetadata':{'promptTokenCount':120,'candidatesTokenCount':14,"
        "'thoughtsTokenCount':30,'totalTokenCount':164,"
        "'cachedContentTokenCount':100,'toolUsePromptTokenCount':5},"
        "'modelVersion':'gemini-2.5-flash','responseId':'xYz123'}"),
        q("{'id':'chatcmpl-r1','object':'chat.completion',"
          "'created':1751364000,'model':'gemini-flash','choices':[{"
          "'index':0,'message':{'role':'assistant','content':"
          "'Let me check.','refusal':null,'reasoning_content':"
          "'Thinking about it.','tool_calls':["
          "{'id':'call_r1_0__thought__CiQBsig','type':'function',"
          "'function':{'name':'get_weather','arguments':"
          "'{\\'city\\':\\'Paris\\'}'}},"
          "{'id':'fc-7','type':'function','function':{'name':'get_time',"
          "'arguments':'{}'}}]},"
          "'logprobs':null,'finish_reason':'tool_calls'}],"
          "'usage':{'prompt_tokens':125,'completion_tokens':44,"
          "'total_tokens':169,'prompt_tokens_details':{'cached_tokens':100},"
          "'completion_tokens_details':{'reasoning_tokens':30}}}"),
        &u);

    assert_int_equal(u.prompt_tokens, 125);
    assert_int_equal(u.completion_tokens, 44);
    assert_int_equal(u.cached_tokens, 100);
    assert_int_equal(u.reasoning_tokens, 30);
}


/* the id handed out comes back and finds its name and signature */
static void
test_tool_id_round_trip(void **state)
{
    char         *id;
    cJSON        *part;
    llm_buf_t     client;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    part = cJSON_Parse(q("{'functionCall':{'name':'f','args':{}},"
                         "'thoughtSignature':'Sig+/='}"));
    id = llm_vertex_tool_id(&call, 3, part);
    assert_string_equal(id, "call_r1_3__thought__Sig+/=");

    memset(&client, 0, sizeof(client));
    assert_int_equal(llm_buf_printf(&client,
        "{'model':'m','messages':[{'role':'user','content':'x'},"
        "{'role':'assistant','tool_calls':[{'id':'%s','type':'function',"
        "'function':{'name':'f','arguments':'{}'}}]},"
        "{'role':'tool','tool_call_id':'%s','content':'done'}]}", id, id),
        0);

    request_member(client.data, "contents",
                   "[{'role':'user','parts':[{'text':'x'}]},"
                   "{'role':'model','parts':[{'functionCall':{'name':'f',"
                   "'args':{}},'thoughtSignature':'Sig+/='}]},"
                   "{'role':'user','parts':[{'functionResponse':{'name':'f',"
                   "'response':{'content':'done'}}}]}]");

    llm_buf_free(&client);
    cJSON_Delete(part);
    free(id);
}


static void
test_response_finish_reasons(void **state)
{
    static const char *const  cases[][2] = {
        { "STOP", "stop" },
        { "MAX_TOKENS", "length" },
        { "SAFETY", "content_filter" },
        { "RECITATION", "content_filter" },
        { "BLOCKLIST", "content_filter" },
        { "PROHIBITED_CONTENT", "content_filter" },
        { "SPII", "content_filter" },
        { "LANGUAGE", "content_filter" },
        { "OTHER", "content_filter" },
        { "IMAGE_SAFETY", "content_filter" },
        { "MALFORMED_FUNCTION_CALL", "stop" },
        { "UNEXPECTED_TOOL_CALL", "stop" },
        { "FINISH_REASON_UNSPECIFIED", "stop" },
        { "SOMETHING_NEW", "stop" },
        { NULL, NULL }
    };

    int        i;
    llm_buf_t  body, exp;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    for (i = 0; cases[i][0]; i++) {
        memset(&body, 0, sizeof(body));
        memset(&exp, 0, sizeof(exp));

        assert_int_equal(llm_buf_printf(&body, "{\"candidates\":[{\"content\""
                         ":{\"parts\":[{\"text\":\"t\"}]},\"finishReason\":"
                         "\"%s\"}]}", cases[i][0]), 0);
        assert_int_equal(llm_buf_printf(&exp, "{\"id\":\"chatcmpl-r1\","
                         "\"object\":\"chat.completion\",\"created\":"
                         "1751364000,\"model\":\"gemini-flash\",\"choices\":"
                         "[{\"index\":0,\"message\":{\"role\":\"assistant\","
                         "\"content\":\"t\",\"refusal\":null},\"logprobs\":"
                         "null,\"finish_reason\":\"%s\"}],\"usage\":{"
                         "\"prompt_tokens\":0,\"completion_tokens\":0,"
                         "\"total_tokens\":0}}", cases[i][1]), 0);

        response_ok(body.data, exp.data, NULL);

        llm_buf_free(&body);
        llm_buf_free(&exp);
    }
}


static void
test_response_blocked_and_candidates(void **state)
{
    llm_usage_t  u;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    /* a blocked prompt: no candidates */
    response_ok(q("{'promptFeedback':{'blockReason':'PROHIBITED_CONTENT'},"
                  "'usageMetadata':{'promptTokenCount':8,"
                  "'totalTokenCount':8}}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':[{"
                  "'index':0,'message':{'role':'assistant','content':null,"
                  "'refusal':null},'logprobs':null,"
                  "'finish_reason':'content_filter'}],'usage':{"
                  "'prompt_tokens':8,'completion_tokens':0,"
                  "'total_tokens':8}}"),
                &u);
    assert_int_equal(u.prompt_tokens, 8);

    /* a safety stop with no content at all */
    response_ok(q("{'candidates':[{'finishReason':'SAFETY','safetyRatings':"
                  "[{'category':'HARM_CATEGORY_HATE_SPEECH','probability':"
                  "'HIGH','blocked':true}]}]}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':[{"
                  "'index':0,'message':{'role':'assistant','content':null,"
                  "'refusal':null},'logprobs':null,"
                  "'finish_reason':'content_filter'}],'usage':{"
                  "'prompt_tokens':0,'completion_tokens':0,"
                  "'total_tokens':0}}"),
                NULL);

    /* n = 2: two candidates, two choices; tool ids stay unique */
    response_ok(q("{'candidates':[{'index':0,'content':{'parts':[{"
                  "'functionCall':{'name':'f','args':{'a':1}}}]},"
                  "'finishReason':'STOP'},{'index':1,'content':{'parts':[{"
                  "'functionCall':{'name':'f','args':{'a':2}}}]},"
                  "'finishReason':'STOP'}]}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':["
                  "{'index':0,'message':{'role':'assistant','content':null,"
                  "'refusal':null,'tool_calls':[{'id':'call_r1_0','type':"
                  "'function','function':{'name':'f','arguments':"
                  "'{\\'a\\':1}'}}]},'logprobs':null,"
                  "'finish_reason':'tool_calls'},"
                  "{'index':1,'message':{'role':'assistant','content':null,"
                  "'refusal':null,'tool_calls':[{'id':'call_r1_1','type':"
                  "'function','function':{'name':'f','arguments':"
                  "'{\\'a\\':2}'}}]},'logprobs':null,"
                  "'finish_reason':'tool_calls'}],"
                  "'usage':{'prompt_tokens':0,'completion_tokens':0,"
                  "'total_tokens':0}}"),
                NULL);
}


static void
test_response_logprobs(void **state)
{
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
               "'logprobs':true,'top_logprobs':1}");

    response_ok(q("{'candidates':[{'content':{'parts':[{'text':'Hi'}]},"
                  "'finishReason':'STOP','logprobsResult':{"
                  "'topCandidates':[{'candidates':[{'token':'Hi',"
                  "'logProbability':-0.1}]}],'chosenCandidates':[{"
                  "'token':'Hi','logProbability':-0.1}]}}]}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':[{"
                  "'index':0,'message':{'role':'assistant','content':'Hi',"
                  "'refusal':null},'logprobs':{'content':[{'token':'Hi',"
                  "'logprob':-0.1,'bytes':null,'top_logprobs':[{"
                  "'token':'Hi','logprob':-0.1,'bytes':null}]}]},"
                  "'finish_reason':'stop'}],'usage':{'prompt_tokens':0,"
                  "'completion_tokens':0,'total_tokens':0}}"),
                NULL);
}


static void
test_response_invalid(void **state)
{
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    response_fails("", 502, "server_error");
    response_fails("<html>", 502, "server_error");
    response_fails("[]", 502, "server_error");
    response_fails("{}", 502, "server_error");
    response_fails("{\"candidates\":{}}", 502, "server_error");

    /* an error object in a 2xx body is an error */
    response_fails(DOC_ERR_429, 429, "rate_limit_error");

    /* wrong types inside are ignored, not fatal */
    response_ok(q("{'candidates':[7,{'content':{'parts':[1,{'text':5},"
                  "{'functionCall':'x'},{'text':'ok','thought':'yes'}]},"
                  "'finishReason':9,'index':'one'}],'usageMetadata':"
                  "{'promptTokenCount':-4,'candidatesTokenCount':'x'}}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':["
                  "{'index':0,'message':{'role':'assistant','content':null,"
                  "'refusal':null},'logprobs':null,'finish_reason':'stop'},"
                  "{'index':1,'message':{'role':'assistant','content':'ok',"
                  "'refusal':null},'logprobs':null,'finish_reason':'stop'}],"
                  "'usage':{'prompt_tokens':0,'completion_tokens':0,"
                  "'total_tokens':0}}"),
                NULL);
}


/*
 * Gemini streams.
 */

static void
test_stream_tool_call(void **state)
{
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'role':'model','parts':[{"
                 "'text':'Hmm.','thought':true}]}}],'responseId':'r'}")
              EV("{'candidates':[{'content':{'role':'model','parts':[{"
                 "'text':'Checking.'}]}}]}")
              EV("{'candidates':[{'content':{'role':'model','parts':[{"
                 "'functionCall':{'name':'get_weather','args':{'city':"
                 "'Paris'}},'thoughtSignature':'SIG'},{'functionCall':{"
                 "'name':'get_time','args':{}}}]},'finishReason':'STOP'}],"
                 "'usageMetadata':{'promptTokenCount':20,"
                 "'candidatesTokenCount':10,'thoughtsTokenCount':5,"
                 "'cachedContentTokenCount':4}}"),
              "role|r:Hmm.|c:Checking.|"
              "ts0:call_r1_0__thought__SIG:get_weather|"
              "ta0:{\"city\":\"Paris\"}|ts1:call_r1_1:get_time|ta1:{}|"
              "f:tool_calls|u:20/15/4/5|DONE");
}


static void
test_stream_finish_and_usage(void **state)
{
    /* safety stop */
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}")
              EV("{'candidates':[{'finishReason':'SAFETY'}],"
                 "'usageMetadata':{'promptTokenCount':3}}"),
              "role|c:a|f:content_filter|u:3/0/0/0|DONE");

    /* MAX_TOKENS; the usage of a later event still counts */
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]},"
                 "'finishReason':'MAX_TOKENS'}]}")
              EV("{'candidates':[{'content':{'parts':[{'text':'late'}]}}],"
                 "'usageMetadata':{'promptTokenCount':3,"
                 "'candidatesTokenCount':1}}"),
              "role|c:a|f:length|u:3/1/0/0|DONE");

    /* a blocked prompt */
    stream_ok(STREAM_REQ,
              EV("{'promptFeedback':{'blockReason':'SAFETY'},"
                 "'usageMetadata':{'promptTokenCount':6}}"),
              "role|f:content_filter|u:6/0/0/0|DONE");

    /* a last event without its blank line, at the end of the body */
    stream_ok(STREAM_REQ,
              "data: {'candidates':[{'content':{'parts':[{'text':'x'}]},"
              "'finishReason':'STOP'}]}",
              "role|c:x|f:stop|u:0/0/0/0|DONE");

    /* without include_usage: no usage chunk */
    stream_ok("{'model':'m','stream':true,'messages':[{'role':'user',"
              "'content':'x'}]}",
              EV("{'candidates':[{'content':{'parts':[{'text':'x'}]},"
                 "'finishReason':'STOP'}],'usageMetadata':{"
                 "'promptTokenCount':3}}"),
              "role|c:x|f:stop|DONE");
}


static void
test_stream_broken(void **state)
{
    /* no finishReason before the end: not a complete answer */
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}"),
              "role|c:a|e:server_error:null|DONE");

    stream_ok(STREAM_REQ, "", "e:server_error:null|DONE");

    /* an event that is not JSON */
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}")
              EV("{'candidates':[")
              EV("{'candidates':[{'finishReason':'STOP'}]}"),
              "role|c:a|e:server_error:null|DONE");

    /* bytes that are neither SSE nor JSON */
    stream_ok(STREAM_REQ, "<html>oops</html>\n",
              "e:server_error:null|DONE");
}


/* Google's mid-stream error: a bare multi-line JSON object, no "data:" */
static void
test_stream_error_object(void **state)
{
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}")
              "{\n"
              "  'error': {\n"
              "    'code': 429,\n"
              "    'message': 'Resource exhausted. {braces} in text',\n"
              "    'status': 'RESOURCE_EXHAUSTED'\n"
              "  }\n"
              "}\n"
              EV("{'candidates':[{'content':{'parts':[{'text':'after'}]},"
                 "'finishReason':'STOP'}]}"),
              "role|c:a|e:rate_limit_error:rate_limit_exceeded|DONE");

    /* wrapped in an array, as Google sometimes does */
    stream_ok(STREAM_REQ,
              "[{\n'error': {'code': 500, 'message': 'Internal error',\n"
              "'status': 'INTERNAL'}}]\n",
              "e:server_error:null|DONE");

    /* or as an event */
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'content':{'parts':[{'text':'a'}]}}]}")
              EV("{'error':{'code':503,'message':'overloaded',"
                 "'status':'UNAVAILABLE'}}"),
              "role|c:a|e:server_error:overloaded|DONE");
}


/* the first candidate only; others (never asked for) are not shown */
static void
test_stream_other_candidates(void **state)
{
    stream_ok(STREAM_REQ,
              EV("{'candidates':[{'index':1,'content':{'parts':[{'text':"
                 "'no'}]},'finishReason':'STOP'},{'index':0,'content':{"
                 "'parts':[{'text':'yes'}]}}]}")
              EV("{'candidates':[{'finishReason':'STOP'}]}"),
              "role|c:yes|f:stop|u:0/0/0/0|DONE");
}


/*
 * Errors.
 */

static void
test_errors(void **state)
{
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}");

    error_is(429, DOC_ERR_429, 429, "rate_limit_error",
             "rate_limit_exceeded", "vertex_ai: Resource exhausted.");

    error_is(400, q("{'error':{'code':400,'message':'The input token count "
                    "(1200000) exceeds the maximum number of tokens allowed "
                    "(1048576).','status':'INVALID_ARGUMENT'}}"),
             400, "invalid_request_error", "context_length_exceeded",
             "input token count");

    error_is(400, q("{'error':{'code':400,'message':'Request contains an "
                    "invalid argument.','status':'INVALID_ARGUMENT'}}"),
             400, "invalid_request_error", "INVALID_ARGUMENT", NULL);

    error_is(401, q("{'error':{'code':401,'message':'Request had invalid "
                    "authentication credentials.','status':"
                    "'UNAUTHENTICATED'}}"),
             401, "authentication_error", "invalid_api_key", NULL);

    error_is(403, q("{'error':{'code':403,'message':'Permission denied',"
                    "'status':'PERMISSION_DENIED'}}"),
             403, "permission_error", NULL, NULL);

    error_is(404, q("{'error':{'code':404,'message':'Publisher Model was not "
                    "found','status':'NOT_FOUND'}}"),
             404, "invalid_request_error", "model_not_found", NULL);

    error_is(500, q("{'error':{'code':500,'message':'Internal error',"
                    "'status':'INTERNAL'}}"),
             502, "server_error", NULL, NULL);

    error_is(503, q("{'error':{'code':503,'message':'unavailable',"
                    "'status':'UNAVAILABLE'}}"),
             503, "server_error", "overloaded", NULL);

    error_is(504, q("{'error':{'code':504,'message':'deadline',"
                    "'status':'DEADLINE_EXCEEDED'}}"),
             504, "server_error", "timeout", NULL);

    error_is(499, q("{'error':{'code':499,'message':'cancelled',"
                    "'status':'CANCELLED'}}"),
             502, "server_error", NULL, NULL);

    /* the status name wins over an odd HTTP status */
    error_is(400, DOC_ERR_429, 429, "rate_limit_error",
             "rate_limit_exceeded", NULL);

    /* an array around the error */
    error_is(429, q("[{'error':{'code':429,'message':'quota',"
                    "'status':'RESOURCE_EXHAUSTED'}}]"),
             429, "rate_limit_error", "rate_limit_exceeded", "quota");

    /* not JSON: the start of the body is the message */
    error_is(502, "<html><body>Bad Gateway</body></html>", 502,
             "server_error", NULL, "Bad Gateway");

    error_is(503, "", 503, "server_error", "overloaded", "HTTP 503");

    error_is(400, "{\"error\":\"plain\"}", 400, "invalid_request_error",
             NULL, "plain");
}


/*
 * Claude on Vertex.
 */

static void
test_claude_request(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    use_model("claude-3-7-sonnet@20250219", "{'vertex_project':"
              "'my-gcp-project','vertex_location':'us-east5'}");

    setup_call("{'model':'claude-on-vertex','max_tokens':256,'messages':"
               "[{'role':'user','content':'Hi'}]}");

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.path.data, "/v1/projects/my-gcp-project/locations/"
                        "us-east5/publishers/anthropic/models/"
                        "claude-3-7-sonnet@20250219:rawPredict");
    assert_json_eq(r.body.data, r.body.len, DOC_CLAUDE_BODY);
    assert_string_equal(header(&r, "Authorization"), "Bearer ya29.test-token");
    assert_null(header(&r, "x-api-key"));
    assert_null(header(&r, "anthropic-version"));
    llm_http_req_free(&r);

    /* max_tokens is required: the Anthropic default; stream in the body */
    request_ok("{'model':'c','stream':true,'messages':[{'role':'system',"
               "'content':'terse'},{'role':'user','content':'Hi'}]}",
               "{'anthropic_version':'vertex-2023-10-16','max_tokens':4096,"
               "'system':'terse','messages':[{'role':'user','content':"
               "'Hi'}],'stream':true}");

    setup_call("{'model':'c','input':'x'}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_fails(400, "invalid_request_error", "model", NULL);
}


static void
test_claude_response_and_errors(void **state)
{
    use_model("claude-3-7-sonnet@20250219", NULL);
    setup_call("{'model':'c','messages':[{'role':'user','content':'Hi'}]}");

    response_ok(q("{'id':'msg_vrtx_01','type':'message','role':'assistant',"
                  "'model':'claude-3-7-sonnet-20250219','content':[{"
                  "'type':'text','text':'Hello!'}],'stop_reason':'end_turn',"
                  "'usage':{'input_tokens':10,'output_tokens':3}}"),
                q("{'id':'chatcmpl-r1','object':'chat.completion',"
                  "'created':1751364000,'model':'gemini-flash','choices':[{"
                  "'index':0,'message':{'role':'assistant','content':"
                  "'Hello!','refusal':null},'logprobs':null,"
                  "'finish_reason':'stop'}],'usage':{'prompt_tokens':10,"
                  "'completion_tokens':3,'total_tokens':13}}"),
                NULL);

    /* model errors in Anthropic's shape, platform errors in Google's */
    error_is(529, q("{'type':'error','error':{'type':'overloaded_error',"
                    "'message':'Overloaded'}}"),
             503, "server_error", "overloaded", "Overloaded");

    error_is(429, DOC_ERR_429, 429, "rate_limit_error",
             "rate_limit_exceeded", "Resource exhausted");
}


static void
test_claude_stream(void **state)
{
    use_model("claude-3-7-sonnet@20250219", NULL);

    stream_ok(STREAM_REQ,
              "event: message_start\n"
              "data: {'type':'message_start','message':{'id':'msg_1',"
              "'type':'message','role':'assistant','content':[],'usage':{"
              "'input_tokens':12,'output_tokens':1}}}\n\n"
              "event: content_block_start\n"
              "data: {'type':'content_block_start','index':0,"
              "'content_block':{'type':'tool_use','id':'toolu_1',"
              "'name':'get_weather','input':{}}}\n\n"
              "event: content_block_delta\n"
              "data: {'type':'content_block_delta','index':0,'delta':{"
              "'type':'input_json_delta','partial_json':'{}'}}\n\n"
              "event: message_delta\n"
              "data: {'type':'message_delta','delta':{'stop_reason':"
              "'tool_use'},'usage':{'output_tokens':9}}\n\n"
              "event: message_stop\n"
              "data: {'type':'message_stop'}\n\n",
              "role|ts0:toolu_1:get_weather|ta0:{}|f:tool_calls|"
              "u:12/9/0/0|DONE");

    /* cut before message_stop */
    stream_ok(STREAM_REQ,
              "event: message_start\n"
              "data: {'type':'message_start','message':{'usage':{"
              "'input_tokens':1}}}\n\n",
              "role|e:server_error:null|DONE");
}


/*
 * Embeddings.
 */

static void
test_embeddings(void **state)
{
    llm_usage_t  u;

    use_model("text-embedding-005", NULL);

    setup_call("{'model':'e','input':['a','b'],'dimensions':3,"
               "'task_type':'RETRIEVAL_QUERY'}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_ok(NULL, q("{'instances':[{'content':'a','task_type':"
                     "'RETRIEVAL_QUERY'},{'content':'b','task_type':"
                     "'RETRIEVAL_QUERY'}],'parameters':"
                     "{'outputDimensionality':3}}"));

    response_ok(q("{'predictions':[{'embeddings':{'values':[0.5,-0.25,1],"
                  "'statistics':{'token_count':2,'truncated':false}}},"
                  "{'embeddings':{'values':[0,0,0],'statistics':"
                  "{'token_count':3}}}],'metadata':{'billableCharacterCount':"
                  "2}}"),
                q("{'object':'list','data':[{'object':'embedding','index':0,"
                  "'embedding':[0.5,-0.25,1]},{'object':'embedding',"
                  "'index':1,'embedding':[0,0,0]}],'model':'gemini-flash',"
                  "'usage':{'prompt_tokens':5,'total_tokens':5}}"),
                &u);
    assert_int_equal(u.prompt_tokens, 5);

    /* base64: little-endian float32 (0.5 = 00 00 00 3f) */
    setup_call("{'model':'e','input':'a','encoding_format':'base64'}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_ok(NULL, q("{'instances':[{'content':'a'}]}"));
    response_ok(q("{'predictions':[{'embeddings':{'values':[0.5]}}]}"),
                q("{'object':'list','data':[{'object':'embedding','index':0,"
                  "'embedding':'AAAAPw=='}],'model':'gemini-flash',"
                  "'usage':{'prompt_tokens':0,'total_tokens':0}}"),
                NULL);

    response_fails("{\"predictions\":[{\"embeddings\":{\"values\":[\"x\"]}}]}",
                   502, "server_error");
    response_fails("{\"predictions\":[]}", 502, "server_error");

    setup_call("{'model':'e','input':[[1,2,3]]}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_fails(400, "invalid_request_error", "input", NULL);

    setup_call("{'model':'e','input':'a','encoding_format':'int8'}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_fails(400, "invalid_request_error", "encoding_format", NULL);

    setup_call("{'model':'e','input':'a','dimensions':-1}");
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_fails(400, "invalid_request_error", "dimensions", NULL);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
#define T(name)  cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_doc_request),
        T(test_doc_response),
        T(test_doc_stream),
        T(test_stream_crlf),
        T(test_url_shapes),
        T(test_url_embeddings),
        T(test_project_fallbacks),
        T(test_auth),
        T(test_messages_multimodal),
        T(test_messages_tools),
        T(test_messages_errors),
        T(test_generation_config),
        T(test_deployment_defaults),
        T(test_json_mode),
        T(test_schema_limits),
        T(test_tools),
        T(test_thinking),
        T(test_extras_and_unsupported),
        T(test_response_tools_and_thoughts),
        T(test_tool_id_round_trip),
        T(test_response_finish_reasons),
        T(test_response_blocked_and_candidates),
        T(test_response_logprobs),
        T(test_response_invalid),
        T(test_stream_tool_call),
        T(test_stream_finish_and_usage),
        T(test_stream_broken),
        T(test_stream_error_object),
        T(test_stream_other_candidates),
        T(test_errors),
        T(test_claude_request),
        T(test_claude_response_and_errors),
        T(test_claude_stream),
        T(test_embeddings),
#undef T
    };

    return cmocka_run_group_tests_name("vertex", tests, NULL, NULL);
}
