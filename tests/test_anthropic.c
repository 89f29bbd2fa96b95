/*
 * Copyright (C) ngx_llm authors
 *
 * The Anthropic adapter against ../shared/providers/anthropic.md: the
 * document's example pairs verbatim, the rest of the mapping tables,
 * the JSON-tool fallback, streams in every split, errors.
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
#include "llm_anthropic.h"
#include "test_util.h"


/* the examples of anthropic.md, verbatim (generated from the file) */

static const char  DOC_RESP_TOOL[] =
    "{\"id\":\"msg_01X\",\"type\":\"message\",\"role\":\"assistant\",\"mode"
    "l\":\"claude-3-7-sonnet-20250219\",\n"
    " \"content\":[{\"type\":\"text\",\"text\":\"Let me check.\"},\n"
    "            {\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"get"
    "_weather\",\"input\":{\"city\":\"Paris\"}}],\n"
    " \"stop_reason\":\"tool_use\",\"stop_sequence\":null,\n"
    " \"usage\":{\"input_tokens\":412,\"output_tokens\":58,\"cache_creation"
    "_input_tokens\":0,\"cache_read_input_tokens\":0}}\n";


static const char  DOC_ERR_TOO_LONG[] =
    "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"me"
    "ssage\":\"prompt is too long: 208113 tokens > 200000 maximum\"},\"requ"
    "est_id\":\"req_011\"}\n";


static const char  DOC_ERR_TOO_LONG_OUT[] =
    "{\"error\":{\"message\":\"anthropic: prompt is too long: 208113 tokens"
    " > 200000 maximum\",\"type\":\"invalid_request_error\",\"param\":\"mes"
    "sages\",\"code\":\"context_length_exceeded\"}}\n";


static const char  DOC_REQ[] =
    "{\"model\":\"claude-sonnet\",\"max_tokens\":256,\n"
    " \"messages\":[\n"
    "  {\"role\":\"system\",\"content\":\"You are terse.\"},\n"
    "  {\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Weathe"
    "r in Paris?\"},\n"
    "                            {\"type\":\"image_url\",\"image_url\":{\"u"
    "rl\":\"data:image/png;base64,iVBORw0KGgo=\"}}]},\n"
    "  {\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"t"
    "oolu_01A\",\"type\":\"function\",\"function\":{\"name\":\"get_weather"
    "\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}}]},\n"
    "  {\"role\":\"tool\",\"tool_call_id\":\"toolu_01A\",\"content\":\"18C,"
    " sunny\"}],\n"
    " \"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weathe"
    "r\",\"description\":\"Current weather\",\"parameters\":{\"type\":\"obj"
    "ect\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\""
    "city\"]}}}],\n"
    " \"tool_choice\":\"auto\",\"temperature\":0.2,\"stop\":[\"END\"],\"use"
    "r\":\"u-42\"}\n";


static const char  DOC_REQ_OUT[] =
    "{\"model\":\"claude-3-7-sonnet-20250219\",\"max_tokens\":256,\"system"
    "\":\"You are terse.\",\n"
    " \"messages\":[\n"
    "  {\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Weathe"
    "r in Paris?\"},\n"
    "     {\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type"
    "\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}}]},\n"
    "  {\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":"
    "\"toolu_01A\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}}"
    "]},\n"
    "  {\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use"
    "_id\":\"toolu_01A\",\"content\":\"18C, sunny\"}]}],\n"
    " \"tools\":[{\"name\":\"get_weather\",\"description\":\"Current weathe"
    "r\",\"input_schema\":{\"type\":\"object\",\"properties\":{\"city\":{\""
    "type\":\"string\"}},\"required\":[\"city\"]}}],\n"
    " \"tool_choice\":{\"type\":\"auto\"},\"temperature\":0.2,\"stop_sequen"
    "ces\":[\"END\"],\"metadata\":{\"user_id\":\"u-42\"}}\n";


static const char  DOC_RESP[] =
    "{\"id\":\"msg_01Y\",\"type\":\"message\",\"role\":\"assistant\",\"mode"
    "l\":\"claude-3-7-sonnet-20250219\",\n"
    " \"content\":[{\"type\":\"text\",\"text\":\"Sunny, 18°C.\"}],\"stop_re"
    "ason\":\"end_turn\",\"stop_sequence\":null,\n"
    " \"usage\":{\"input_tokens\":120,\"cache_creation_input_tokens\":0,\"c"
    "ache_read_input_tokens\":300,\"output_tokens\":9}}\n";


static const char  DOC_RESP_OUT[] =
    "{\"id\":\"chatcmpl-msg_01Y\",\"object\":\"chat.completion\",\"created"
    "\":1735689600,\"model\":\"claude-sonnet\",\n"
    " \"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"conte"
    "nt\":\"Sunny, 18°C.\",\"refusal\":null},\"logprobs\":null,\"finish_rea"
    "son\":\"stop\"}],\n"
    " \"usage\":{\"prompt_tokens\":420,\"completion_tokens\":9,\"total_toke"
    "ns\":429,\"prompt_tokens_details\":{\"cached_tokens\":300}}}\n";


static const char  DOC_STREAM[] =
    "event: message_start\n"
    "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_02\",\"typ"
    "e\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-7-sonnet-2"
    "0250219\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":380,\"cache_creation_input_tokens\":0,\"ca"
    "che_read_input_tokens\":0,\"output_tokens\":1}}}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"text\",\"text\":\"\"}}\n"
    "\n"
    "event: ping\n"
    "data: {\"type\":\"ping\"}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type"
    "\":\"text_delta\",\"text\":\"Checking.\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":0}\n"
    "\n"
    "event: content_block_start\n"
    "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
    "{\"type\":\"tool_use\",\"id\":\"toolu_02\",\"name\":\"get_weather\",\""
    "input\":{}}}\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type"
    "\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Par\"}}"
    "\n"
    "\n"
    "event: content_block_delta\n"
    "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type"
    "\":\"input_json_delta\",\"partial_json\":\"is\\\"}\"}}\n"
    "\n"
    "event: content_block_stop\n"
    "data: {\"type\":\"content_block_stop\",\"index\":1}\n"
    "\n"
    "event: message_delta\n"
    "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_us"
    "e\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":41}}\n"
    "\n"
    "event: message_stop\n"
    "data: {\"type\":\"message_stop\"}\n";


static const char  DOC_STREAM_OUT[] =
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_r"
    "eason\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{\"content\":\"Checking.\"},\"finish_reason\":null}]"
    ",\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"toolu_02\",\""
    "type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments"
    "\":\"\"}}]},\"finish_reason\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"argume"
    "nts\":\"{\\\"city\\\": \\\"Par\"}}]},\"finish_reason\":null}],\"usage"
    "\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"argume"
    "nts\":\"is\\\"}\"}}]},\"finish_reason\":null}],\"usage\":null}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[{\"in"
    "dex\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null"
    "}\n"
    "\n"
    "data: {\"id\":\"chatcmpl-msg_02\",\"object\":\"chat.completion.chunk\""
    ",\"created\":1735689600,\"model\":\"claude-sonnet\",\"choices\":[],\"u"
    "sage\":{\"prompt_tokens\":380,\"completion_tokens\":41,\"total_tokens"
    "\":421}}\n"
    "\n"
    "data: [DONE]\n";


static llm_deployment_t  dep;
static cJSON            *req;
static llm_call_t        call;


static void
setup_call(const char *json)
{
    const cJSON  *v;

    memset(&dep, 0, sizeof(dep));
    dep.model_name = "claude-sonnet";
    dep.model = "anthropic/claude-3-7-sonnet-20250219";
    dep.prefix = "anthropic";
    dep.model_id = "claude-3-7-sonnet-20250219";
    dep.provider = LLM_PROVIDER_ANTHROPIC;
    dep.base.tls = 1;
    dep.base.host = "api.anthropic.com";
    dep.base.port = 443;
    dep.base.path = "";
    dep.api_key = "sk-ant-test";
    dep.drop_params = -1;
    dep.num_retries = -1;

    cJSON_Delete(req);
    req = cJSON_Parse(json);
    assert_non_null(req);

    memset(&call, 0, sizeof(call));
    call.endpoint = LLM_ENDPOINT_CHAT;
    call.dep = &dep;
    call.req = req;
    call.model_name = "claude-sonnet";
    snprintf(call.id, sizeof(call.id), "chatcmpl-msg_01Y");
    call.created = 1735689600;

    call.stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req,
                                                                "stream"));
    v = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
    call.include_usage = cJSON_IsTrue(
                             cJSON_GetObjectItemCaseSensitive(v,
                                                     "include_usage"));
}


static int
teardown(void **state)
{
    cJSON_Delete(req);
    req = NULL;
    return 0;
}


/* builds the request for the current call; asserts the body */
static void
build_ok(const char *expected_body)
{
    llm_error_t     err;
    llm_http_req_t  r;

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data, "/v1/messages");
    assert_json_eq(r.body.data, r.body.len, expected_body);

    llm_http_req_free(&r);
}


static void
request_ok(const char *client, const char *expected_body)
{
    setup_call(q(client));
    build_ok(q(expected_body));
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

    setup_call(q(client));

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    b = cJSON_ParseWithLength(r.body.data, r.body.len);
    assert_non_null(b);
    llm_http_req_free(&r);

    return b;
}


static void
response_ok(const char *body, const char *expected, llm_usage_t *usage)
{
    llm_buf_t    out;
    llm_error_t  err;
    llm_usage_t  u;

    memset(&out, 0, sizeof(out));

    assert_int_equal(llm_anthropic_adapter.parse_response(&call, body,
                                                          strlen(body),
                                                          &out, &u, &err),
                     LLM_OK);
    assert_json_eq(out.data, out.len, expected);
    llm_buf_free(&out);

    if (usage) {
        *usage = u;
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
 * "u:<prompt>/<completion>/<cached>", "e:<status-less type>:<code>",
 * "DONE"; separated by '|'.
 */
static char *
summary(const char *out)
{
    static char   buf[8192];
    char         *copy, *line, *p;
    cJSON        *j, *c, *d, *tc, *u, *v;
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
            ADD("u:%d/%d/%d",
                cJSON_GetObjectItem(u, "prompt_tokens")->valueint,
                cJSON_GetObjectItem(u, "completion_tokens")->valueint,
                v ? cJSON_GetObjectItem(v, "cached_tokens")->valueint : 0);
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


static void
stream_ok(const char *client, const char *input, const char *expected)
{
    char  *out;

    setup_call(q(client));
    out = stream_all_splits(input, 1);
    assert_string_equal(summary(out), expected);
    free(out);
}


#define SSE(name, json)  "event: " name "\ndata: " json "\n\n"

#define MSG_START(in, cw, cr)                                            \
    SSE("message_start", "{\"type\":\"message_start\",\"message\":{"     \
        "\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","  \
        "\"content\":[],\"usage\":{\"input_tokens\":" #in ","            \
        "\"cache_creation_input_tokens\":" #cw ","                       \
        "\"cache_read_input_tokens\":" #cr ",\"output_tokens\":1}}}")

#define MSG_END(reason, out)                                             \
    SSE("message_delta", "{\"type\":\"message_delta\",\"delta\":{"       \
        "\"stop_reason\":\"" reason "\",\"stop_sequence\":null},"        \
        "\"usage\":{\"output_tokens\":" #out "}}")                       \
    SSE("message_stop", "{\"type\":\"message_stop\"}")

#define TEXT_BLOCK(i, text)                                              \
    SSE("content_block_start", "{\"type\":\"content_block_start\","      \
        "\"index\":" #i ",\"content_block\":{\"type\":\"text\","         \
        "\"text\":\"\"}}")                                               \
    SSE("content_block_delta", "{\"type\":\"content_block_delta\","      \
        "\"index\":" #i ",\"delta\":{\"type\":\"text_delta\","           \
        "\"text\":\"" text "\"}}")                                       \
    SSE("content_block_stop", "{\"type\":\"content_block_stop\","        \
        "\"index\":" #i "}")

#define TOOL_START(i, id, name)                                          \
    SSE("content_block_start", "{\"type\":\"content_block_start\","      \
        "\"index\":" #i ",\"content_block\":{\"type\":\"tool_use\","     \
        "\"id\":\"" id "\",\"name\":\"" name "\",\"input\":{}}}")

#define JSON_DELTA(i, frag)                                              \
    SSE("content_block_delta", "{\"type\":\"content_block_delta\","      \
        "\"index\":" #i ",\"delta\":{\"type\":\"input_json_delta\","     \
        "\"partial_json\":\"" frag "\"}}")


/*
 * The document's examples.
 */

static void
test_doc_request(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call(DOC_REQ);

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data, "/v1/messages");
    assert_string_equal(header(&r, "x-api-key"), "sk-ant-test");
    assert_string_equal(header(&r, "anthropic-version"), "2023-06-01");
    assert_json_eq(r.body.data, r.body.len, DOC_REQ_OUT);

    llm_http_req_free(&r);
}


static void
test_doc_response(void **state)
{
    llm_usage_t  u;

    setup_call(DOC_REQ);
    response_ok(DOC_RESP, DOC_RESP_OUT, &u);

    assert_int_equal(u.prompt_tokens, 420);
    assert_int_equal(u.completion_tokens, 9);
    assert_int_equal(u.total_tokens, 429);
    assert_int_equal(u.cached_tokens, 300);
    assert_int_equal(u.cache_write_tokens, 0);
    assert_true(u.present);
}


static void
test_doc_response_tool_use(void **state)
{
    llm_usage_t  u;

    setup_call(DOC_REQ);
    response_ok(DOC_RESP_TOOL, q("{'id':'chatcmpl-msg_01Y',"
        "'object':'chat.completion','created':1735689600,"
        "'model':'claude-sonnet','choices':[{'index':0,'message':{"
        "'role':'assistant','content':'Let me check.','refusal':null,"
        "'tool_calls':[{'id':'toolu_01A','type':'function','function':{"
        "'name':'get_weather','arguments':'{\\'city\\':\\'Paris\\'}'}}]},"
        "'logprobs':null,'finish_reason':'tool_calls'}],"
        "'usage':{'prompt_tokens':412,'completion_tokens':58,"
        "'total_tokens':470}}"), &u);

    assert_int_equal(u.prompt_tokens, 412);
    assert_int_equal(u.completion_tokens, 58);
}


static void
test_doc_stream(void **state)
{
    char  *out;

    setup_call("{\"model\":\"claude-sonnet\",\"stream\":true,"
               "\"stream_options\":{\"include_usage\":true},"
               "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    snprintf(call.id, sizeof(call.id), "chatcmpl-msg_02");
    assert_int_equal(call.include_usage, 1);

    out = stream_all_splits(DOC_STREAM, 1);
    assert_events_eq(out, DOC_STREAM_OUT);
    free(out);
}


static void
test_doc_error(void **state)
{
    llm_buf_t    out;
    llm_error_t  err;

    setup_call(DOC_REQ);
    memset(&out, 0, sizeof(out));

    llm_anthropic_adapter.parse_error(&call, 400, DOC_ERR_TOO_LONG,
                                      strlen(DOC_ERR_TOO_LONG), &err);
    assert_int_equal(err.status, 400);
    assert_int_equal(llm_error_json(&err, &out), 0);
    assert_json_eq(out.data, out.len, DOC_ERR_TOO_LONG_OUT);

    llm_buf_free(&out);
}


/*
 * Requests: messages.
 */

static void
test_request_stream_and_defaults(void **state)
{
    /* max_tokens is required: 4096 when absent */
    request_ok("{'model':'claude-sonnet','stream':true,"
        "'stream_options':{'include_usage':true},"
        "'messages':[{'role':'user','content':'hi'}]}",
        "{'model':'claude-3-7-sonnet-20250219','max_tokens':4096,"
        "'messages':[{'role':'user','content':'hi'}],'stream':true}");
}


static void
test_request_deployment_defaults(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call(q("{'model':'claude-sonnet','temperature':0.5,"
        "'messages':[{'role':'user','content':'hi'}]}"));
    dep.defaults = cJSON_Parse(q("{'temperature':0.1,'max_tokens':77,"
                                 "'top_k':5}"));

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_json_eq(r.body.data, r.body.len,
        q("{'model':'claude-3-7-sonnet-20250219','max_tokens':77,"
          "'messages':[{'role':'user','content':'hi'}],"
          "'temperature':0.5,'top_k':5}"));

    llm_http_req_free(&r);
    cJSON_Delete(dep.defaults);
    dep.defaults = NULL;
}


static void
test_request_consecutive_tools(void **state)
{
    request_ok("{'model':'claude-sonnet','max_tokens':100,'messages':["
        "{'role':'user','content':'weather and time in Paris?'},"
        "{'role':'assistant','content':'Checking.','tool_calls':["
        "{'id':'toolu_1','type':'function','function':{'name':'weather',"
        "'arguments':'{\\'city\\':\\'Paris\\'}'}},"
        "{'id':'toolu_2','type':'function','function':{'name':'time',"
        "'arguments':''}}]},"
        "{'role':'tool','tool_call_id':'toolu_1','content':'18C'},"
        "{'role':'tool','tool_call_id':'toolu_2','content':[{'type':'text',"
        "'text':'10:00'}]},"
        "{'role':'user','content':'and tomorrow?'}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':100,"
        "'messages':["
        "{'role':'user','content':'weather and time in Paris?'},"
        "{'role':'assistant','content':[{'type':'text','text':'Checking.'},"
        "{'type':'tool_use','id':'toolu_1','name':'weather',"
        "'input':{'city':'Paris'}},"
        "{'type':'tool_use','id':'toolu_2','name':'time','input':{}}]},"
        "{'role':'user','content':["
        "{'type':'tool_result','tool_use_id':'toolu_1','content':'18C'},"
        "{'type':'tool_result','tool_use_id':'toolu_2','content':"
        "[{'type':'text','text':'10:00'}]},"
        "{'type':'text','text':'and tomorrow?'}]}]}");
}


static void
test_request_tool_results_first(void **state)
{
    /* invalid arguments -> {}; results go before a user text */
    request_ok("{'model':'claude-sonnet','max_tokens':100,'messages':["
        "{'role':'assistant','content':null,'tool_calls':["
        "{'id':'t1','type':'function','function':{'name':'f',"
        "'arguments':'{not json'}}]},"
        "{'role':'user','content':'interrupting'},"
        "{'role':'tool','tool_call_id':'t1','content':null},"
        "{'role':'user','content':'ok'},"
        "{'role':'user','content':'again'}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':100,"
        "'messages':["
        "{'role':'assistant','content':[{'type':'tool_use','id':'t1',"
        "'name':'f','input':{}}]},"
        "{'role':'user','content':["
        "{'type':'tool_result','tool_use_id':'t1'},"
        "{'type':'text','text':'interrupting'},"
        "{'type':'text','text':'ok'},"
        "{'type':'text','text':'again'}]}]}");
}


static void
test_request_tool_results_into_blocks(void **state)
{
    /* results of two tools join a user turn of blocks, ahead of them */
    request_ok("{'model':'claude-sonnet','max_tokens':100,'messages':["
        "{'role':'user','content':[{'type':'text','text':'a'},"
        "{'type':'text','text':'b'}]},"
        "{'role':'assistant','content':''},"
        "{'role':'tool','tool_call_id':'t1','content':'r1'},"
        "{'role':'tool','tool_call_id':'t2','content':'r2'},"
        "{'role':'tool','tool_call_id':'t3','content':'r3'},"
        "{'role':'user','content':'c'}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':100,"
        "'messages':[{'role':'user','content':["
        "{'type':'tool_result','tool_use_id':'t1','content':'r1'},"
        "{'type':'tool_result','tool_use_id':'t2','content':'r2'},"
        "{'type':'tool_result','tool_use_id':'t3','content':'r3'},"
        "{'type':'text','text':'a'},{'type':'text','text':'b'},"
        "{'type':'text','text':'c'}]}]}");
}


static void
test_request_system(void **state)
{
    /* system and developer messages are concatenated, wherever they are */
    request_ok("{'model':'claude-sonnet','max_tokens':10,'messages':["
        "{'role':'system','content':'Be terse.'},"
        "{'role':'developer','content':[{'type':'text','text':'Use SI.'},"
        "{'type':'text','text':'No emoji.'}]},"
        "{'role':'user','content':'hi'},"
        "{'role':'system','content':''},"
        "{'role':'assistant','content':'hello'},"
        "{'role':'user','content':'bye'}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':10,"
        "'system':'Be terse.\\nUse SI.\\nNo emoji.',"
        "'messages':[{'role':'user','content':'hi'},"
        "{'role':'assistant','content':[{'type':'text','text':'hello'}]},"
        "{'role':'user','content':'bye'}]}");
}


static void
test_request_cache_control(void **state)
{
    /* cache_control keeps system in the array form */
    request_ok("{'model':'claude-sonnet','max_tokens':10,'messages':["
        "{'role':'system','content':[{'type':'text','text':'Long doc',"
        "'cache_control':{'type':'ephemeral'}}]},"
        "{'role':'system','content':'Be terse.'},"
        "{'role':'user','content':'hi','cache_control':"
        "{'type':'ephemeral'}},"
        "{'role':'user','content':[{'type':'text','text':'more',"
        "'cache_control':{'type':'ephemeral'}}]}],"
        "'tools':[{'type':'function','function':{'name':'f'},"
        "'cache_control':{'type':'ephemeral'}}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':10,"
        "'system':[{'type':'text','text':'Long doc',"
        "'cache_control':{'type':'ephemeral'}},"
        "{'type':'text','text':'Be terse.'}],"
        "'messages':[{'role':'user','content':["
        "{'type':'text','text':'hi','cache_control':{'type':'ephemeral'}},"
        "{'type':'text','text':'more','cache_control':"
        "{'type':'ephemeral'}}]}],"
        "'tools':[{'name':'f','input_schema':{'type':'object',"
        "'properties':{}},'cache_control':{'type':'ephemeral'}}]}");
}


static void
test_request_images(void **state)
{
    request_ok("{'model':'claude-sonnet','max_tokens':10,'messages':["
        "{'role':'user','content':["
        "{'type':'image_url','image_url':{'url':"
        "'data:image/jpeg;base64,/9j/4AAQ','detail':'high'}},"
        "{'type':'image_url','image_url':{'url':"
        "'https://example.com/cat.png'}},"
        "{'type':'image_url','image_url':'data:image/jpg;base64,AAAA'},"
        "{'type':'file','file':{'file_data':"
        "'data:application/pdf;base64,JVBERi0='}},"
        "{'type':'text','text':''},"
        "{'type':'input_audio','input_audio':{}},"
        "{'type':'text','text':'What are these?'}]}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':10,"
        "'messages':[{'role':'user','content':["
        "{'type':'image','source':{'type':'base64',"
        "'media_type':'image/jpeg','data':'/9j/4AAQ'}},"
        "{'type':'image','source':{'type':'url',"
        "'url':'https://example.com/cat.png'}},"
        "{'type':'image','source':{'type':'base64',"
        "'media_type':'image/jpeg','data':'AAAA'}},"
        "{'type':'document','source':{'type':'base64',"
        "'media_type':'application/pdf','data':'JVBERi0='}},"
        "{'type':'text','text':'What are these?'}]}]}");
}


static void
test_request_bad_images(void **state)
{
    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'user','content':[{'type':'image_url','image_url':"
        "{'url':'data:image/png,rawbytes'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'user','content':[{'type':'image_url','image_url':"
        "{'url':'ftp://example.com/x.png'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'user','content':[{'type':'image_url'}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'user','content':[{'type':'file','file':"
        "{'file_id':'file-1'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'system','content':[{'type':'image_url','image_url':"
        "{'url':'https://example.com/x.png'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'claude-sonnet','messages':["
        "{'role':'function','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);
}


/*
 * Requests: parameters.
 */

static void
test_request_params(void **state)
{
    request_ok("{'model':'claude-sonnet','max_tokens':50,"
        "'max_completion_tokens':60,'temperature':1.7,'top_p':0.9,"
        "'top_k':40,'stop':'END','user':'u-1','n':1,'logprobs':false,"
        "'seed':null,'stream':false,'stream_options':null,"
        "'metadata':{'x':'y'},'unknown_field':1,"
        "'messages':[{'role':'user','content':'hi','name':'bob'}]}",

        "{'model':'claude-3-7-sonnet-20250219','max_tokens':60,"
        "'messages':[{'role':'user','content':'hi'}],'temperature':1,"
        "'top_p':0.9,'top_k':40,'stop_sequences':['END'],"
        "'metadata':{'user_id':'u-1'}}");

    setup_call(q("{'model':'claude-sonnet','max_tokens':'many',"
        "'messages':[{'role':'user','content':'hi'}]}"));
    build_fails(400, "invalid_request_error", "max_tokens", NULL);
}


/* body[key] of the request for client equals expected (NULL: absent) */
static void
member_eq(const char *client, const char *key, const char *expected)
{
    char   *p;
    cJSON  *b, *v;

    b = body_of(client);
    v = cJSON_GetObjectItem(b, key);

    if (expected == NULL) {
        assert_null(v);

    } else {
        assert_non_null(v);
        p = cJSON_PrintUnformatted(v);
        assert_json_eq(p, strlen(p), q(expected));
        free(p);
    }

    cJSON_Delete(b);
}


#define TOOLS  "'tools':[{'type':'function','function':{'name':'f',"        \
               "'description':'F','parameters':{'type':'object'}}}],"     \
               "'messages':[{'role':'user','content':'hi'}]"


static void
test_request_tool_choice(void **state)
{
    member_eq("{'model':'m','tool_choice':'required'," TOOLS "}",
              "tool_choice", "{'type':'any'}");
    member_eq("{'model':'m','tool_choice':'none'," TOOLS "}",
              "tool_choice", "{'type':'none'}");
    member_eq("{'model':'m','tool_choice':{'type':'function','function':"
              "{'name':'f'}}," TOOLS "}",
              "tool_choice", "{'type':'tool','name':'f'}");
    member_eq("{'model':'m','parallel_tool_calls':false," TOOLS "}",
              "tool_choice",
              "{'type':'auto','disable_parallel_tool_use':true}");
    member_eq("{'model':'m','parallel_tool_calls':false,"
              "'tool_choice':'required'," TOOLS "}", "tool_choice",
              "{'type':'any','disable_parallel_tool_use':true}");
    member_eq("{'model':'m','parallel_tool_calls':false,"
              "'tool_choice':'none'," TOOLS "}", "tool_choice",
              "{'type':'none'}");
    member_eq("{'model':'m','parallel_tool_calls':true," TOOLS "}",
              "tool_choice", NULL);
    member_eq("{'model':'m'," TOOLS "}", "tools",
              "[{'name':'f','description':'F','input_schema':"
              "{'type':'object'}}]");

    /* without tools a tool_choice would be rejected upstream */
    member_eq("{'model':'m','tool_choice':'auto','tools':[],"
              "'messages':[{'role':'user','content':'hi'}]}",
              "tool_choice", NULL);

    setup_call(q("{'model':'m','tool_choice':'sometimes'," TOOLS "}"));
    build_fails(400, "invalid_request_error", "tool_choice", NULL);
}


static void
test_request_stop(void **state)
{
    member_eq("{'model':'m','stop':['a','',3,'b']," TOOLS "}",
              "stop_sequences", "['a','b']");
    member_eq("{'model':'m','stop':''," TOOLS "}", "stop_sequences", NULL);
    member_eq("{'model':'m','stop':null," TOOLS "}", "stop_sequences",
              NULL);
}


static void
test_request_reasoning(void **state)
{
    member_eq("{'model':'m','reasoning_effort':'low'," TOOLS "}",
              "thinking", "{'type':'enabled','budget_tokens':1024}");
    member_eq("{'model':'m','reasoning_effort':'medium'," TOOLS "}",
              "thinking", "{'type':'enabled','budget_tokens':2048}");
    member_eq("{'model':'m','reasoning_effort':'high'," TOOLS "}",
              "thinking", "{'type':'enabled','budget_tokens':4096}");

    /* max_tokens stays above the budget */
    member_eq("{'model':'m','reasoning_effort':'high'," TOOLS "}",
              "max_tokens", "8192");
    member_eq("{'model':'m','reasoning_effort':'medium','max_tokens':500,"
              TOOLS "}", "max_tokens", "2548");
    member_eq("{'model':'m','reasoning_effort':'low','max_tokens':3000,"
              TOOLS "}", "max_tokens", "3000");
    member_eq("{'model':'m','reasoning_effort':'none'," TOOLS "}",
              "thinking", NULL);

    /* Anthropic's own parameter passes through */
    member_eq("{'model':'m','thinking':{'type':'enabled',"
              "'budget_tokens':1500}," TOOLS "}",
              "thinking", "{'type':'enabled','budget_tokens':1500}");

    setup_call(q("{'model':'m','reasoning_effort':'extreme'," TOOLS "}"));
    build_fails(400, "invalid_request_error", "reasoning_effort", NULL);
}


static void
test_request_drop_params(void **state)
{
    static const char  *params[] = {
        "'seed':7", "'logprobs':true", "'top_logprobs':3",
        "'logit_bias':{'1':2}", "'frequency_penalty':0.5",
        "'presence_penalty':0.5", "'n':2"
    };

    char    json[512];
    char    name[32];
    size_t  i;

    for (i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
        snprintf(json, sizeof(json), "{'model':'claude-sonnet',%s,"
                 "'messages':[{'role':'user','content':'hi'}]}", params[i]);

        sscanf(params[i], "'%31[^']'", name);

        setup_call(q(json));
        build_fails(400, "invalid_request_error", name,
                    "unsupported_parameter");

        setup_call(q(json));
        call.drop_params = 1;
        build_ok(q("{'model':'claude-3-7-sonnet-20250219','max_tokens':4096,"
                   "'messages':[{'role':'user','content':'hi'}]}"));
    }
}


static void
test_request_auth_and_endpoints(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call(q("{'model':'claude-sonnet','messages':[{'role':'user',"
                 "'content':'hi'}]}"));
    dep.missing_env = "ANTHROPIC_API_KEY";
    build_fails(401, "authentication_error", NULL, NULL);

    setup_call(q("{'model':'claude-sonnet','input':'hi'}"));
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    build_fails(400, "invalid_request_error", "model", NULL);

    /* an api_base that already names the endpoint is kept */
    setup_call(q("{'model':'claude-sonnet','messages':[{'role':'user',"
                 "'content':'hi'}]}"));
    dep.base.path = "/anthropic/v1/messages";
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.path.data, "/anthropic/v1/messages");
    llm_http_req_free(&r);

    dep.base.path = "/proxy/";
    dep.api_key = NULL;
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.path.data, "/proxy/v1/messages");
    assert_null(header(&r, "x-api-key"));
    assert_string_equal(header(&r, "anthropic-version"), "2023-06-01");
    llm_http_req_free(&r);
}


static void
test_body_for_other_adapters(void **state)
{
    cJSON        *b;
    llm_error_t   err;

    setup_call(q("{'model':'claude-sonnet','stream':true,'messages':"
                 "[{'role':'user','content':'hi'}]}"));

    b = llm_anthropic_body(&call, &err);
    assert_non_null(b);
    assert_string_equal(cJSON_GetObjectItem(b, "model")->valuestring,
                        "claude-3-7-sonnet-20250219");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(b, "stream")));
    cJSON_Delete(b);

    setup_call(q("{'model':'claude-sonnet','seed':1,'messages':"
                 "[{'role':'user','content':'hi'}]}"));
    assert_null(llm_anthropic_body(&call, &err));
    assert_int_equal(err.status, 400);
}


/*
 * Structured output: the forced JSON tool.
 */

#define JSON_SCHEMA_REQ                                                    \
    "{'model':'claude-sonnet','messages':[{'role':'user','content':"       \
    "'A city?'}],'response_format':{'type':'json_schema','json_schema':"  \
    "{'name':'city','schema':{'type':'object','properties':{'city':"      \
    "{'type':'string'}},'required':['city']}}}"


static void
test_json_schema_request(void **state)
{
    request_ok(JSON_SCHEMA_REQ "}",
        "{'model':'claude-3-7-sonnet-20250219','max_tokens':4096,"
        "'messages':[{'role':'user','content':'A city?'}],"
        "'tools':[{'name':'json_tool_call',"
        "'description':'Respond with a JSON object.',"
        "'input_schema':{'type':'object','properties':{'city':"
        "{'type':'string'}},'required':['city']}}],"
        "'tool_choice':{'type':'tool','name':'json_tool_call'}}");

    request_ok("{'model':'claude-sonnet','messages':[{'role':'user',"
        "'content':'JSON please'}],'response_format':{'type':'json_object'}}",
        "{'model':'claude-3-7-sonnet-20250219','max_tokens':4096,"
        "'messages':[{'role':'user','content':'JSON please'}],"
        "'tools':[{'name':'json_tool_call',"
        "'description':'Respond with a JSON object.',"
        "'input_schema':{'type':'object'}}],"
        "'tool_choice':{'type':'tool','name':'json_tool_call'}}");

    /* with the client's tools too: the client's choice, else "any" */
    member_eq(JSON_SCHEMA_REQ ",'tools':[{'type':'function','function':"
              "{'name':'f'}}]}", "tool_choice", "{'type':'any'}");
    member_eq(JSON_SCHEMA_REQ ",'tools':[{'type':'function','function':"
              "{'name':'f'}}],'tool_choice':'auto'}", "tool_choice",
              "{'type':'auto'}");

    /* thinking refuses forced tools */
    member_eq(JSON_SCHEMA_REQ ",'reasoning_effort':'low'}", "tool_choice",
              "{'type':'auto'}");

    member_eq("{'model':'m','response_format':{'type':'text'},"
              "'messages':[{'role':'user','content':'hi'}]}", "tools",
              NULL);
}


static void
test_json_schema_response(void **state)
{
    setup_call(q(JSON_SCHEMA_REQ "}"));

    response_ok(q("{'id':'msg_3','type':'message','role':'assistant',"
        "'content':[{'type':'tool_use','id':'toolu_9',"
        "'name':'json_tool_call','input':{'city':'Paris'}}],"
        "'stop_reason':'tool_use','usage':{'input_tokens':50,"
        "'output_tokens':12}}"),
        q("{'id':'chatcmpl-msg_01Y','object':'chat.completion',"
          "'created':1735689600,'model':'claude-sonnet','choices':[{"
          "'index':0,'message':{'role':'assistant',"
          "'content':'{\\'city\\':\\'Paris\\'}','refusal':null},"
          "'logprobs':null,'finish_reason':'stop'}],"
          "'usage':{'prompt_tokens':50,'completion_tokens':12,"
          "'total_tokens':62}}"), NULL);

    /* without response_format the same tool is an ordinary call */
    setup_call(q("{'model':'claude-sonnet','messages':[]}"));

    response_ok(q("{'content':[{'type':'tool_use','id':'toolu_9',"
        "'name':'json_tool_call','input':{'city':'Paris'}}],"
        "'stop_reason':'tool_use'}"),
        q("{'id':'chatcmpl-msg_01Y','object':'chat.completion',"
          "'created':1735689600,'model':'claude-sonnet','choices':[{"
          "'index':0,'message':{'role':'assistant','content':null,"
          "'refusal':null,'tool_calls':[{'id':'toolu_9','type':'function',"
          "'function':{'name':'json_tool_call',"
          "'arguments':'{\\'city\\':\\'Paris\\'}'}}]},"
          "'logprobs':null,'finish_reason':'tool_calls'}],"
          "'usage':{'prompt_tokens':0,'completion_tokens':0,"
          "'total_tokens':0}}"), NULL);
}


static void
test_json_schema_stream(void **state)
{
    stream_ok(JSON_SCHEMA_REQ ",'stream':true}",
        MSG_START(20, 0, 0)
        TOOL_START(0, "toolu_9", "json_tool_call")
        JSON_DELTA(0, "")
        JSON_DELTA(0, "{\\\"city\\\"")
        JSON_DELTA(0, ": \\\"Paris\\\"}")
        MSG_END("tool_use", 9),
        "role|c:{\"city\"|c:: \"Paris\"}|f:stop|DONE");
}


/*
 * Responses.
 */

static void
test_response_finish_reasons(void **state)
{
    static const char  *map[][2] = {
        { "end_turn", "stop" },
        { "stop_sequence", "stop" },
        { "max_tokens", "length" },
        { "tool_use", "stop" },         /* no tool_use block came */
        { "refusal", "content_filter" },
        { "pause_turn", "stop" },
        { "model_context_window_exceeded", "length" },
        { "something_new", "stop" }
    };

    char         body[256], expected[512];
    size_t       i;

    setup_call(q("{'model':'claude-sonnet','messages':[]}"));

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        snprintf(body, sizeof(body), "{'content':[{'type':'text',"
                 "'text':'x'}],'stop_reason':'%s'}", map[i][0]);
        snprintf(expected, sizeof(expected), "{'id':'chatcmpl-msg_01Y',"
                 "'object':'chat.completion','created':1735689600,"
                 "'model':'claude-sonnet','choices':[{'index':0,"
                 "'message':{'role':'assistant','content':'x',"
                 "'refusal':null},'logprobs':null,'finish_reason':'%s'}],"
                 "'usage':{'prompt_tokens':0,'completion_tokens':0,"
                 "'total_tokens':0}}", map[i][1]);

        response_ok(q(body), q(expected), NULL);
    }

    assert_string_equal(llm_anthropic_finish(NULL), "stop");
    assert_string_equal(llm_anthropic_finish("tool_use"), "tool_calls");
}


static void
test_response_thinking_and_cache(void **state)
{
    llm_usage_t  u;

    setup_call(q("{'model':'claude-sonnet','messages':[]}"));

    response_ok(q("{'content':[{'type':'thinking','thinking':'Hmm.',"
        "'signature':'sig'},{'type':'redacted_thinking','data':'xx'},"
        "{'type':'text','text':'A'},{'type':'server_tool_use'},"
        "{'type':'text','text':'B'},{'type':'tool_use','id':'toolu_x',"
        "'name':'f'}],"
        "'stop_reason':'end_turn','usage':{'input_tokens':10,"
        "'cache_creation_input_tokens':20,'cache_read_input_tokens':30,"
        "'output_tokens':5}}"),
        q("{'id':'chatcmpl-msg_01Y','object':'chat.completion',"
          "'created':1735689600,'model':'claude-sonnet','choices':[{"
          "'index':0,'message':{'role':'assistant','content':'AB',"
          "'refusal':null,'reasoning_content':'Hmm.',"
          "'thinking_blocks':[{'type':'thinking','thinking':'Hmm.',"
          "'signature':'sig'},{'type':'redacted_thinking','data':'xx'}],"
          "'tool_calls':[{'id':'toolu_x','type':'function','function':"
          "{'name':'f','arguments':'{}'}}]},"
          "'logprobs':null,'finish_reason':'stop'}],"
          "'usage':{'prompt_tokens':60,'completion_tokens':5,"
          "'total_tokens':65,'prompt_tokens_details':{'cached_tokens':30,"
          "'cache_write_tokens':20}}}"), &u);

    assert_int_equal(u.prompt_tokens, 60);
    assert_int_equal(u.cached_tokens, 30);
    assert_int_equal(u.cache_write_tokens, 20);
}


static void
test_response_missing_fields(void **state)
{
    size_t        i;
    llm_buf_t     out;
    llm_error_t   err;
    llm_usage_t   u;
    cJSON        *j;

    static const char  *bad[] = {
        "", "not json", "[]", "{}", "{\"content\":{}}", "{\"content\":null}",
        "{\"type\":\"message\"}", "\"str\"", "{\"content\":[1,2]"
    };

    static const char  *odd[] = {
        "{\"content\":[]}",
        "{\"content\":[1,null,\"x\",{},{\"type\":7},{\"type\":\"text\"},"
        "{\"type\":\"tool_use\",\"id\":7,\"name\":[],\"input\":3}],"
        "\"stop_reason\":5,\"usage\":{\"input_tokens\":\"9\","
        "\"output_tokens\":-4,\"cache_read_input_tokens\":1e300}}"
    };

    setup_call(q("{'model':'claude-sonnet','messages':[]}"));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&out, 0, sizeof(out));
        memset(&err, 0, sizeof(err));

        assert_int_equal(llm_anthropic_adapter.parse_response(&call, bad[i],
                             strlen(bad[i]), &out, &u, &err), LLM_ERROR);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.type, "server_error");
        assert_null(out.data);
    }

    for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        memset(&out, 0, sizeof(out));

        assert_int_equal(llm_anthropic_adapter.parse_response(&call, odd[i],
                             strlen(odd[i]), &out, &u, &err), LLM_OK);

        j = cJSON_Parse(out.data);
        assert_non_null(j);
        assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(
            cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0),
            "message"), "content")));
        cJSON_Delete(j);
        llm_buf_free(&out);

        assert_int_equal(u.prompt_tokens, 0);
        assert_int_equal(u.completion_tokens, 0);
    }
}


static void
test_response_minted_tool_id(void **state)
{
    const char   *body = "{\"content\":[{\"type\":\"tool_use\","
                         "\"name\":\"f\",\"input\":{\"a\":[1]}}],"
                         "\"stop_reason\":\"tool_use\"}";
    llm_buf_t     out;
    llm_error_t   err;
    llm_usage_t   u;
    cJSON        *j, *tc;

    setup_call(q("{'model':'claude-sonnet','messages':[]}"));
    memset(&out, 0, sizeof(out));

    assert_int_equal(llm_anthropic_adapter.parse_response(&call, body,
                         strlen(body), &out, &u, &err), LLM_OK);

    j = cJSON_Parse(out.data);
    tc = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
             cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0),
             "message"), "tool_calls"), 0);

    assert_string_equal(cJSON_GetObjectItem(tc, "id")->valuestring,
                        "call_msg_01Y_0");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(tc,
                            "function"), "arguments")->valuestring,
                        "{\"a\":[1]}");

    cJSON_Delete(j);
    llm_buf_free(&out);
}


static void
test_response_error_body_on_2xx(void **state)
{
    const char   *body = "{\"type\":\"error\",\"error\":{\"type\":"
                         "\"overloaded_error\",\"message\":\"Overloaded\"}}";
    llm_buf_t     out;
    llm_error_t   err;
    llm_usage_t   u;

    setup_call(q("{'model':'claude-sonnet','messages':[]}"));
    memset(&out, 0, sizeof(out));

    assert_int_equal(llm_anthropic_adapter.parse_response(&call, body,
                         strlen(body), &out, &u, &err), LLM_ERROR);
    assert_int_equal(err.status, 503);
    assert_string_equal(err.code, "overloaded");
}


/*
 * Errors.
 */

static void
error_is(int status, const char *body, int cstatus, const char *type,
    const char *code, const char *param, const char *message)
{
    llm_error_t  err;

    memset(&err, 0, sizeof(err));
    llm_anthropic_adapter.parse_error(&call, status, body, strlen(body),
                                      &err);

    assert_int_equal(err.status, cstatus);
    assert_string_equal(err.type, type);
    assert_string_equal(err.code, code);
    assert_string_equal(err.param, param);

    if (message) {
        assert_string_equal(err.message, message);
    }
}


#define ERR(type, msg)                                                   \
    "{\"type\":\"error\",\"error\":{\"type\":\"" type "\",\"message\":\""   \
    msg "\"},\"request_id\":\"req_1\"}"


static void
test_errors(void **state)
{
    setup_call(q("{'model':'claude-sonnet','messages':[]}"));

    error_is(529, ERR("overloaded_error", "Overloaded"), 503,
             "server_error", "overloaded", "", "anthropic: Overloaded");
    error_is(429, ERR("rate_limit_error", "Number of request tokens has "
             "exceeded your per-minute rate limit"), 429,
             "rate_limit_error", "rate_limit_exceeded", "", NULL);
    error_is(400, ERR("invalid_request_error", "prompt is too long: "
             "208113 tokens > 200000 maximum"), 400,
             "invalid_request_error", "context_length_exceeded",
             "messages", NULL);
    error_is(400, ERR("invalid_request_error", "max_tokens: Field "
             "required"), 400, "invalid_request_error", "", "",
             "anthropic: max_tokens: Field required");
    error_is(401, ERR("authentication_error", "invalid x-api-key"), 401,
             "authentication_error", "invalid_api_key", "",
             "anthropic: invalid x-api-key");
    error_is(402, ERR("billing_error", "credit balance too low"), 429,
             "insufficient_quota", "insufficient_quota", "", NULL);
    error_is(403, ERR("permission_error", "no"), 403, "permission_error",
             "", "", NULL);
    error_is(404, ERR("not_found_error", "model: claude-9"), 404,
             "invalid_request_error", "model_not_found", "", NULL);
    error_is(413, ERR("request_too_large", "too big"), 413,
             "invalid_request_error", "request_too_large", "", NULL);
    error_is(500, ERR("api_error", "oops"), 502, "server_error", "", "",
             NULL);
    error_is(504, ERR("timeout_error", "slow"), 504, "server_error",
             "timeout", "", NULL);

    /* bodies that are not Anthropic's */
    error_is(502, "<html>Bad Gateway</html>", 502, "server_error", "", "",
             "anthropic: <html>Bad Gateway</html>");
    error_is(503, "", 503, "server_error", "overloaded", "",
             "anthropic: upstream returned HTTP 503");
    error_is(429, "{\"error\":\"slow down\"}", 429, "rate_limit_error",
             "rate_limit_exceeded", "", "anthropic: slow down");
    error_is(400, "{\"error\":{\"type\":5}}", 400,
             "invalid_request_error", "", "",
             "anthropic: upstream returned HTTP 400");
}


/*
 * Streams.
 */

static void
test_stream_text_and_usage(void **state)
{
    /* newer API versions repeat the input counts in message_delta */
    stream_ok("{'model':'claude-sonnet','stream':true,"
        "'stream_options':{'include_usage':true},'messages':[]}",
        MSG_START(100, 10, 20)
        ": a comment\n\n"
        SSE("ping", "{\"type\":\"ping\"}")
        TEXT_BLOCK(0, "Hel")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\","
            "\"index\":0,\"delta\":{\"type\":\"text_delta\","
            "\"text\":\"lo\"}}")
        SSE("brand_new_event", "{\"type\":\"brand_new_event\"}")
        SSE("message_delta", "{\"type\":\"message_delta\",\"delta\":"
            "{\"stop_reason\":\"max_tokens\"},\"usage\":{\"input_tokens\":"
            "150,\"cache_read_input_tokens\":25,\"output_tokens\":7}}")
        SSE("message_delta", "{\"type\":\"message_delta\",\"delta\":{},"
            "\"usage\":{\"output_tokens\":9}}")
        SSE("message_stop", "{\"type\":\"message_stop\"}")
        "event: ping\ndata: {\"type\":\"ping\"}\n\n",
        "role|c:Hel|c:lo|f:length|u:185/9/25|DONE");
}


static void
test_stream_without_usage(void **state)
{
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        MSG_START(100, 0, 0) TEXT_BLOCK(0, "Hi") MSG_END("end_turn", 3),
        "role|c:Hi|f:stop|DONE");
}


static void
test_stream_tools_and_thinking(void **state)
{
    /* tool indexes count tool calls only; a missing id is made up */
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        MSG_START(5, 0, 0)
        SSE("content_block_start", "{\"type\":\"content_block_start\","
            "\"index\":0,\"content_block\":{\"type\":\"thinking\","
            "\"thinking\":\"\"}}")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\","
            "\"index\":0,\"delta\":{\"type\":\"thinking_delta\","
            "\"thinking\":\"Let me think.\"}}")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\","
            "\"index\":0,\"delta\":{\"type\":\"signature_delta\","
            "\"signature\":\"abc\"}}")
        SSE("content_block_start", "{\"type\":\"content_block_start\","
            "\"index\":1,\"content_block\":{\"type\":\"redacted_thinking\","
            "\"data\":\"xx\"}}")
        TEXT_BLOCK(2, "ok")
        TOOL_START(3, "toolu_a", "f")
        JSON_DELTA(3, "{}")
        SSE("content_block_start", "{\"type\":\"content_block_start\","
            "\"index\":4,\"content_block\":{\"type\":\"tool_use\","
            "\"name\":\"g\"}}")
        JSON_DELTA(4, "")
        JSON_DELTA(4, "{\\\"x\\\":1}")
        JSON_DELTA(9, "{\\\"lost\\\":1}")
        JSON_DELTA(1, "{\\\"other\\\":1}")
        MSG_END("tool_use", 30),
        "role|r:Let me think.|c:ok|ts0:toolu_a:f|ta0:{}|ts1:call_msg_01Y_1:g|"
        "ta1:{\"x\":1}|f:tool_calls|DONE");
}


static void
test_stream_error_event(void **state)
{
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        MSG_START(5, 0, 0)
        TEXT_BLOCK(0, "par")
        SSE("error", "{\"type\":\"error\",\"error\":{\"type\":"
            "\"overloaded_error\",\"message\":\"Overloaded\"}}")
        TEXT_BLOCK(1, "ignored")
        MSG_END("end_turn", 3),
        "role|c:par|e:server_error:overloaded|DONE");

    /* the event name alone, and an error without details */
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        SSE("error", "{\"error\":{\"type\":\"rate_limit_error\","
            "\"message\":\"slow\"}}"),
        "e:rate_limit_error:rate_limit_exceeded|DONE");

    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        SSE("error", "{\"type\":\"error\"}"),
        "e:server_error:null|DONE");
}


static void
test_stream_eof(void **state)
{
    llm_stream_t  *s;

    /* the end never came */
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        MSG_START(5, 0, 0) TEXT_BLOCK(0, "cut"),
        "role|c:cut|e:server_error:null|DONE");

    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}", "",
        "e:server_error:null|DONE");

    /* message_stop without its blank line still ends the stream */
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        MSG_START(5, 0, 0) TEXT_BLOCK(0, "x")
        "event: message_stop\r\ndata: {\"type\":\"message_stop\"}",
        "role|c:x|f:stop|DONE");

    /* the error says so */
    setup_call(q("{'model':'claude-sonnet','stream':true,'messages':[]}"));
    s = llm_stream_new(&call);
    assert_non_null(s);
    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
    assert_true(s->failed);
    assert_int_equal(s->error.status, 502);
    assert_string_equal(s->error.message,
                        "anthropic: upstream closed the stream before it "
                        "ended");
    llm_stream_free(s);
}


static void
test_stream_garbage(void **state)
{
    /* events that are not what they claim are skipped */
    stream_ok("{'model':'claude-sonnet','stream':true,'messages':[]}",
        "data: not json\n\n"
        "data: [1,2]\n\n"
        SSE("message_start", "{\"type\":\"message_start\"}")
        SSE("message_start", "{\"type\":\"message_start\",\"message\":"
            "{\"usage\":{\"input_tokens\":\"x\"}}}")
        SSE("content_block_start", "{\"type\":\"content_block_start\"}")
        SSE("content_block_start", "{\"type\":\"content_block_start\","
            "\"index\":-1,\"content_block\":{\"type\":\"text\"}}")
        SSE("content_block_start", "{\"type\":\"content_block_start\","
            "\"index\":0,\"content_block\":{\"type\":\"text\","
            "\"text\":\"start \"}}")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\"}")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\","
            "\"index\":0,\"delta\":{\"type\":\"text_delta\"}}")
        SSE("content_block_delta", "{\"type\":\"content_block_delta\","
            "\"index\":\"0\",\"delta\":{\"type\":\"input_json_delta\","
            "\"partial_json\":\"x\"}}")
        SSE("message_delta", "{\"type\":\"message_delta\",\"delta\":7,"
            "\"usage\":[]}")
        SSE("message_stop", "{\"type\":\"message_stop\"}"),
        "role|c:start |f:stop|DONE");
}


static void
test_stream_after_end(void **state)
{
    char          *out;
    llm_stream_t  *s;
    const char    *input = MSG_START(1, 0, 0) MSG_END("end_turn", 1);

    setup_call(q("{'model':'claude-sonnet','stream':true,'messages':[]}"));

    s = llm_stream_new(&call);
    assert_non_null(s);
    assert_int_equal(s->adapter->stream_feed(s, input, strlen(input)),
                     LLM_OK);
    assert_true(s->done);
    assert_false(s->failed);

    /* bytes after the end go nowhere; eof is quiet */
    assert_int_equal(s->adapter->stream_feed(s, input, strlen(input)),
                     LLM_OK);
    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);

    out = strndup(s->out.data, s->out.len);
    assert_string_equal(summary(out), "role|f:stop|DONE");
    free(out);

    llm_stream_free(s);
}


static void
test_translator_without_framer(void **state)
{
    char                *out;
    llm_stream_t        *s;
    llm_anthropic_tr_t  *t;
    const char          *ev[] = {
        "{\"type\":\"message_start\",\"message\":{\"usage\":"
        "{\"input_tokens\":3}}}",
        "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
        "{\"type\":\"text\",\"text\":\"Hi\"}}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
        "\"end_turn\"},\"usage\":{\"output_tokens\":2}}",
        "{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{}}"
    };
    size_t               i;

    setup_call(q("{'model':'claude-sonnet','stream':true,'messages':[]}"));

    s = llm_stream_new(&call);
    t = llm_anthropic_tr_new(&call);
    assert_non_null(t);

    for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
        assert_int_equal(llm_anthropic_tr_event(s, t, NULL, ev[i],
                                                strlen(ev[i])), LLM_OK);
    }

    assert_int_equal(llm_anthropic_tr_eof(s, t), LLM_OK);
    assert_int_equal(s->usage.prompt_tokens, 3);
    assert_int_equal(s->usage.completion_tokens, 2);

    out = strndup(s->out.data, s->out.len);
    assert_string_equal(summary(out), "role|c:Hi|f:stop|DONE");
    free(out);

    llm_anthropic_tr_free(t);
    llm_stream_free(s);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_doc_request, teardown),
        cmocka_unit_test_teardown(test_doc_response, teardown),
        cmocka_unit_test_teardown(test_doc_response_tool_use, teardown),
        cmocka_unit_test_teardown(test_doc_stream, teardown),
        cmocka_unit_test_teardown(test_doc_error, teardown),
        cmocka_unit_test_teardown(test_request_stream_and_defaults,
                                  teardown),
        cmocka_unit_test_teardown(test_request_deployment_defaults,
                                  teardown),
        cmocka_unit_test_teardown(test_request_consecutive_tools, teardown),
        cmocka_unit_test_teardown(test_request_tool_results_first,
                                  teardown),
        cmocka_unit_test_teardown(test_request_tool_results_into_blocks,
                                  teardown),
        cmocka_unit_test_teardown(test_request_system, teardown),
        cmocka_unit_test_teardown(test_request_cache_control, teardown),
        cmocka_unit_test_teardown(test_request_images, teardown),
        cmocka_unit_test_teardown(test_request_bad_images, teardown),
        cmocka_unit_test_teardown(test_request_params, teardown),
        cmocka_unit_test_teardown(test_request_tool_choice, teardown),
        cmocka_unit_test_teardown(test_request_stop, teardown),
        cmocka_unit_test_teardown(test_request_reasoning, teardown),
        cmocka_unit_test_teardown(test_request_drop_params, teardown),
        cmocka_unit_test_teardown(test_request_auth_and_endpoints,
                                  teardown),
        cmocka_unit_test_teardown(test_body_for_other_adapters, teardown),
        cmocka_unit_test_teardown(test_json_schema_request, teardown),
        cmocka_unit_test_teardown(test_json_schema_response, teardown),
        cmocka_unit_test_teardown(test_json_schema_stream, teardown),
        cmocka_unit_test_teardown(test_response_finish_reasons, teardown),
        cmocka_unit_test_teardown(test_response_thinking_and_cache,
                                  teardown),
        cmocka_unit_test_teardown(test_response_missing_fields, teardown),
        cmocka_unit_test_teardown(test_response_minted_tool_id, teardown),
        cmocka_unit_test_teardown(test_response_error_body_on_2xx,
                                  teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_stream_text_and_usage, teardown),
        cmocka_unit_test_teardown(test_stream_without_usage, teardown),
        cmocka_unit_test_teardown(test_stream_tools_and_thinking, teardown),
        cmocka_unit_test_teardown(test_stream_error_event, teardown),
        cmocka_unit_test_teardown(test_stream_eof, teardown),
        cmocka_unit_test_teardown(test_stream_garbage, teardown),
        cmocka_unit_test_teardown(test_stream_after_end, teardown),
        cmocka_unit_test_teardown(test_translator_without_framer, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
