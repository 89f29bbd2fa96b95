/*
 * Copyright (C) ngx_llm authors
 *
 * The Bedrock adapter against ../shared/providers/bedrock.md: the
 * document's SigV4 vector through the whole adapter, its example pairs,
 * the rest of the mapping tables, event-stream translation in every
 * split, exceptions, errors and embeddings.
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
#include "llm_bedrock.h"
#include "llm_eventstream.h"
#include "llm_sigv4.h"
#include "test_util.h"


#define AKID    "AKIDEXAMPLE"
#define SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T_2015  ((time_t) 1440938160)


static llm_deployment_t  dep;
static cJSON            *req;
static llm_call_t        call;


static void
set_params(const char *json)
{
    cJSON_Delete(dep.params);
    dep.params = cJSON_Parse(q(json));
    assert_non_null(dep.params);
}


static void
setup_model(const char *model_id, const char *json)
{
    const cJSON  *v;

    cJSON_Delete(dep.params);
    memset(&dep, 0, sizeof(dep));
    dep.model_name = "claude-bedrock";
    dep.model = "bedrock/x";
    dep.prefix = "bedrock";
    dep.model_id = (char *) model_id;
    dep.provider = LLM_PROVIDER_BEDROCK;
    dep.base.tls = 1;
    dep.base.host = "bedrock-runtime.us-east-1.amazonaws.com";
    dep.base.port = 443;
    dep.base.path = "";
    dep.drop_params = -1;
    dep.num_retries = -1;
    dep.params = cJSON_Parse(q("{'aws_access_key_id':'" AKID "',"
                               "'aws_secret_access_key':'" SECRET "',"
                               "'aws_region_name':'us-east-1'}"));

    cJSON_Delete(req);
    req = cJSON_Parse(json);
    assert_non_null(req);

    memset(&call, 0, sizeof(call));
    call.endpoint = LLM_ENDPOINT_CHAT;
    call.dep = &dep;
    call.req = req;
    call.model_name = "claude-bedrock";
    snprintf(call.id, sizeof(call.id), "chatcmpl-br1");
    call.created = 1735689600;
    call.now = T_2015;

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
    setup_model("us.anthropic.claude-3-7-sonnet-20250219-v1:0", json);
}


static int
teardown(void **state)
{
    cJSON_Delete(req);
    cJSON_Delete(dep.params);
    req = NULL;
    dep.params = NULL;
    return 0;
}


static void
build(llm_http_req_t *r)
{
    llm_error_t  err;

    memset(&err, 0, sizeof(err));

    if (llm_request_build(&call, r, &err) != LLM_OK) {
        print_error("build failed: %d %s\n", err.status, err.message);
        fail();
    }
}


static void
request_ok(const char *client, const char *expected_body)
{
    llm_http_req_t  r;

    setup_call(q(client));
    build(&r);
    assert_json_eq(r.body.data, r.body.len, q(expected_body));
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


static cJSON *
body_of(const char *client)
{
    cJSON           *b;
    llm_http_req_t   r;

    setup_call(q(client));
    build(&r);
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

    if (llm_bedrock_adapter.parse_response(&call, body, strlen(body), &out,
                                           &u, &err) != LLM_OK)
    {
        print_error("parse failed: %s\n", err.message);
        fail();
    }

    assert_json_eq(out.data, out.len, expected);
    llm_buf_free(&out);

    if (usage) {
        *usage = u;
    }
}


/*
 * Event-stream frames, built as Bedrock sends them.
 */

static void
put_header(llm_buf_t *h, const char *name, const char *value)
{
    unsigned char  b[3];
    size_t         n, v;

    n = strlen(name);
    v = strlen(value);

    b[0] = (unsigned char) n;
    assert_int_equal(llm_buf_append(h, b, 1), 0);
    assert_int_equal(llm_buf_append(h, name, n), 0);
    b[0] = LLM_ES_STRING;
    b[1] = v >> 8;
    b[2] = v & 0xff;
    assert_int_equal(llm_buf_append(h, b, 3), 0);
    assert_int_equal(llm_buf_append(h, value, v), 0);
}


static void
put_be32(llm_buf_t *out, uint32_t v)
{
    unsigned char  b[4];

    b[0] = v >> 24;
    b[1] = v >> 16;
    b[2] = v >> 8;
    b[3] = v;
    assert_int_equal(llm_buf_append(out, b, 4), 0);
}


static void
put_frame(llm_buf_t *out, const char *kind_header, const char *kind,
    const char *message_type, const char *payload)
{
    size_t     start, t;
    llm_buf_t  h;

    memset(&h, 0, sizeof(h));

    if (kind_header) {
        put_header(&h, kind_header, kind);
    }

    put_header(&h, ":content-type", "application/json");
    put_header(&h, ":message-type", message_type);

    start = out->len;
    t = 16 + h.len + strlen(payload);

    put_be32(out, t);
    put_be32(out, h.len);
    put_be32(out, llm_crc32(0, out->data + start, 8));
    assert_int_equal(llm_buf_append(out, h.data, h.len), 0);
    assert_int_equal(llm_buf_appends(out, payload), 0);
    put_be32(out, llm_crc32(0, out->data + start, t - 4));

    llm_buf_free(&h);
}


static void
ev(llm_buf_t *out, const char *type, const char *json)
{
    put_frame(out, ":event-type", type, "event", q(json));
}


static void
exc(llm_buf_t *out, const char *type, const char *json)
{
    put_frame(out, ":exception-type", type, "exception", q(json));
}


/*
 * Streams.
 */

#define SPLIT_WHOLE   0
#define SPLIT_BYTE    1
#define SPLIT_RANDOM  2


static char *
run_stream(const char *input, size_t len, int split, unsigned seed, int eof)
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
            n = 1 + rand_r(&seed) % 29;
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
stream_all_splits(const llm_buf_t *in, int eof)
{
    char      *whole, *other;
    unsigned   seed;

    whole = run_stream(in->data, in->len, SPLIT_WHOLE, 0, eof);

    other = run_stream(in->data, in->len, SPLIT_BYTE, 0, eof);
    assert_string_equal(other, whole);
    free(other);

    for (seed = 1; seed <= 20; seed++) {
        other = run_stream(in->data, in->len, SPLIT_RANDOM, seed, eof);
        assert_string_equal(other, whole);
        free(other);
    }

    return whole;
}


/*
 * A compact account of an OpenAI SSE output: "role", "c:<text>",
 * "r:<text>", "ts<k>:<id>:<name>", "ta<k>:<args>", "f:<reason>",
 * "u:<prompt>/<completion>/<cached>", "e:<status>:<type>:<code>",
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
stream_ok(const char *client, llm_buf_t *in, int eof, const char *expected)
{
    char  *out;

    setup_call(q(client));
    out = stream_all_splits(in, eof);
    assert_string_equal(summary(out), expected);
    free(out);
    llm_buf_free(in);
}


#define STREAM_REQ                                                       \
    "{'model':'claude-bedrock','stream':true,"                           \
    "'stream_options':{'include_usage':true},"                           \
    "'messages':[{'role':'user','content':'hi'}]}"


/*
 * The document's examples.
 */

#define DOC_SIGV4_BODY                                                   \
    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]," \
    "\"inferenceConfig\":{\"maxTokens\":64}}"


/* the Bedrock SigV4 vector, produced by the adapter from a client call */
static void
test_doc_sigv4_vector(void **state)
{
    llm_http_req_t  r;

    setup_model("anthropic.claude-3-haiku-20240307-v1:0",
                q("{'model':'claude-bedrock','max_tokens':64,"
                  "'messages':[{'role':'user','content':'Hi'}]}"));
    build(&r);

    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    assert_int_equal(r.body.len, 91);
    assert_memory_equal(r.body.data, DOC_SIGV4_BODY, 91);
    assert_string_equal(r.accept, "application/json");
    assert_string_equal(header(&r, "X-Amz-Date"), "20150830T123600Z");
    assert_null(header(&r, "X-Amz-Security-Token"));
    assert_string_equal(header(&r, "Authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
        "bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date,"
        " Signature=4e695fb0b2a4354d996741d54fc5502cf897a33edb0f41a5a88004"
        "5bb55a5eca");

    llm_http_req_free(&r);
}


static const char  DOC_REQ[] =
    "{'model':'claude-bedrock','max_tokens':300,'temperature':0.3,"
    " 'messages':[{'role':'system','content':'Be brief.'},"
    "{'role':'user','content':'Weather in Paris?'}],"
    " 'tools':[{'type':'function','function':{'name':'get_weather',"
    "'parameters':{'type':'object','properties':{'city':{'type':'string'}},"
    "'required':['city']}}}],"
    " 'tool_choice':'auto'}";


static const char  DOC_REQ_OUT[] =
    "{'system':[{'text':'Be brief.'}],"
    " 'messages':[{'role':'user','content':[{'text':'Weather in Paris?'}]}],"
    " 'inferenceConfig':{'maxTokens':300,'temperature':0.3},"
    " 'toolConfig':{'tools':[{'toolSpec':{'name':'get_weather',"
    "'inputSchema':{'json':{'type':'object','properties':{'city':{"
    "'type':'string'}},'required':['city']}}}}],"
    "               'toolChoice':{'auto':{}}}}";


static const char  DOC_RESP[] =
    "{'output':{'message':{'role':'assistant','content':["
    "   {'text':'Let me check.'},"
    "   {'toolUse':{'toolUseId':'tooluse_Ab1','name':'get_weather',"
    "'input':{'city':'Paris'}}}]}},"
    " 'stopReason':'tool_use',"
    " 'usage':{'inputTokens':310,'outputTokens':52,'totalTokens':362,"
    "'cacheReadInputTokens':0,'cacheWriteInputTokens':0},"
    " 'metrics':{'latencyMs':812}}";


static void
test_doc_request(void **state)
{
    llm_http_req_t  r;

    setup_call(q(DOC_REQ));
    build(&r);

    assert_string_equal(r.path.data,
        "/model/us.anthropic.claude-3-7-sonnet-20250219-v1%3A0/converse");
    assert_json_eq(r.body.data, r.body.len, q(DOC_REQ_OUT));
    assert_non_null(strstr(header(&r, "Authorization"),
                           "SignedHeaders=content-type;host;x-amz-date, "));

    llm_http_req_free(&r);
}


/*
 * The document shows "prompt_tokens_details":{"cached_tokens":0}; the
 * shared usage emitter leaves the details out when both cache counts
 * are 0.
 */
static void
test_doc_response(void **state)
{
    llm_usage_t  u;

    setup_call(q(DOC_REQ));
    response_ok(q(DOC_RESP), q(
        "{'id':'chatcmpl-br1','object':'chat.completion',"
        "'created':1735689600,'model':'claude-bedrock',"
        " 'choices':[{'index':0,'logprobs':null,'finish_reason':'tool_calls',"
        "   'message':{'role':'assistant','content':'Let me check.',"
        "'refusal':null,"
        "     'tool_calls':[{'id':'tooluse_Ab1','type':'function',"
        "'function':{'name':'get_weather',"
        "'arguments':'{\\'city\\':\\'Paris\\'}'}}]}}],"
        " 'usage':{'prompt_tokens':310,'completion_tokens':52,"
        "'total_tokens':362}}"), &u);

    assert_int_equal(u.prompt_tokens, 310);
    assert_int_equal(u.completion_tokens, 52);
    assert_int_equal(u.total_tokens, 362);
    assert_int_equal(u.cached_tokens, 0);
    assert_true(u.present);
}


static const char  DOC_STREAM_OUT[] =
    "data: {\"id\":\"chatcmpl-br2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"claude-bedrock\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
    "\"finish_reason\":null}],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-br2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"claude-bedrock\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"content\":\"Sunny\"},\"finish_reason\":null}],"
    "\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-br2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"claude-bedrock\",\"choices\":[{"
    "\"index\":0,\"delta\":{\"content\":\", 18°C.\"},\"finish_reason\":null}"
    "],\"usage\":null}\n\n"
    "data: {\"id\":\"chatcmpl-br2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"claude-bedrock\",\"choices\":[{"
    "\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}"
    "\n\n"
    "data: {\"id\":\"chatcmpl-br2\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"claude-bedrock\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":25,\"completion_tokens\":7,"
    "\"total_tokens\":32}}\n\n"
    "data: [DONE]\n\n";


static void
test_doc_stream(void **state)
{
    char       *out;
    llm_buf_t   in;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant','p':'abcd'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'Sunny'},'p':'abcdefgh'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':', 18°C.'},'p':'ab'}");
    ev(&in, "contentBlockStop", "{'contentBlockIndex':0}");
    ev(&in, "messageStop", "{'stopReason':'end_turn'}");
    ev(&in, "metadata", "{'usage':{'inputTokens':25,'outputTokens':7,"
       "'totalTokens':32},'metrics':{'latencyMs':640}}");

    setup_call(q(STREAM_REQ));
    snprintf(call.id, sizeof(call.id), "chatcmpl-br2");

    out = stream_all_splits(&in, 1);
    assert_events_eq(out, DOC_STREAM_OUT);
    free(out);
    llm_buf_free(&in);
}


static void
test_doc_error(void **state)
{
    llm_buf_t    out;
    llm_error_t  err;
    const char  *body = "{\"message\":\"Input is too long for requested "
                        "model.\"}";

    setup_call(q(DOC_REQ));
    memset(&out, 0, sizeof(out));

    llm_bedrock_adapter.parse_error(&call, 400, body, strlen(body), &err);
    assert_int_equal(err.status, 400);
    assert_int_equal(llm_error_json(&err, &out), 0);

    /* the shared convention names the "messages" param */
    assert_json_eq(out.data, out.len,
        "{\"error\":{\"message\":\"bedrock: Input is too long for requested "
        "model.\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
        "\"code\":\"context_length_exceeded\"}}");

    llm_buf_free(&out);
}


/*
 * Endpoints and authentication.
 */

static void
path_is(const char *model_id, int stream, const char *base_path,
    const char *expected)
{
    llm_http_req_t  r;

    setup_model(model_id, q(stream
        ? "{'model':'m','stream':true,"
          "'messages':[{'role':'user','content':'x'}]}"
        : "{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    dep.base.path = (char *) base_path;
    build(&r);
    assert_string_equal(r.path.data, expected);
    assert_string_equal(r.accept, stream ? "application/vnd.amazon.eventstream"
                                         : "application/json");
    llm_http_req_free(&r);
}


static void
test_paths(void **state)
{
    path_is("amazon.nova-lite-v1:0", 0, "",
            "/model/amazon.nova-lite-v1%3A0/converse");
    path_is("amazon.nova-lite-v1:0", 1, "",
            "/model/amazon.nova-lite-v1%3A0/converse-stream");
    path_is("converse/eu.anthropic.claude-3-haiku-20240307-v1:0", 0, "",
            "/model/eu.anthropic.claude-3-haiku-20240307-v1%3A0/converse");
    path_is("invoke/amazon.nova-pro-v1:0", 1, "",
            "/model/amazon.nova-pro-v1%3A0/converse-stream");
    path_is("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
            "us.anthropic.claude-3-haiku-20240307-v1:0", 0, "",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
            "inference-profile%2Fus.anthropic.claude-3-haiku-20240307-v1%3A0"
            "/converse");
    path_is("meta.llama3-8b-instruct-v1:0", 0, "/proxy/bedrock/",
            "/proxy/bedrock/model/meta.llama3-8b-instruct-v1%3A0/converse");
}


/* the host signed is the Host the glue sends: with a non-default port */
static void
test_signed_host(void **state)
{
    llm_sigv4_t               sig;
    llm_http_req_t            r;
    llm_sigv4_req_t           sr;
    llm_sigv4_header_t        h[2];
    static llm_sigv4_creds_t  c = {
        AKID, SECRET, NULL, "eu-west-3", "bedrock"
    };

    setup_model("mistral.mistral-large-2402-v1:0",
                q("{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    set_params("{'aws_access_key_id':'" AKID "','aws_secret_access_key':'"
               SECRET "','aws_region_name':'eu-west-3'}");
    dep.base.tls = 0;
    dep.base.host = "127.0.0.1";
    dep.base.port = 8080;
    build(&r);

    h[0].name = "content-type";
    h[0].value = "application/json";
    h[1].name = "host";
    h[1].value = "127.0.0.1:8080";

    memset(&sr, 0, sizeof(sr));
    sr.method = "POST";
    sr.path = r.path.data;
    sr.headers = h;
    sr.nheaders = 2;
    sr.payload = r.body.data;
    sr.payload_len = r.body.len;

    assert_int_equal(llm_sigv4_sign(&c, &sr, T_2015, &sig), 0);
    assert_string_equal(header(&r, "Authorization"), sig.authorization.data);
    assert_non_null(strstr(sig.authorization.data,
                           "/20150830/eu-west-3/bedrock/aws4_request"));
    llm_sigv4_free(&sig);
    llm_http_req_free(&r);

    /* the default port of the scheme is left out; IPv6 in brackets */
    dep.base.tls = 1;
    dep.base.port = 443;
    dep.base.host = "::1";
    build(&r);
    h[1].value = "[::1]";
    sr.path = r.path.data;
    sr.payload = r.body.data;
    assert_int_equal(llm_sigv4_sign(&c, &sr, T_2015, &sig), 0);
    assert_string_equal(header(&r, "Authorization"), sig.authorization.data);
    llm_sigv4_free(&sig);
    llm_http_req_free(&r);
}


static void
test_session_token(void **state)
{
    llm_http_req_t  r;

    setup_call(q("{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    set_params("{'aws_access_key_id':'ASIAEXAMPLE','aws_secret_access_key':"
               "'" SECRET "','aws_session_token':'IQoJb3JpZ2luX2VjEXAMPLE==',"
               "'aws_region_name':'us-west-2'}");
    build(&r);

    assert_string_equal(header(&r, "X-Amz-Security-Token"),
                        "IQoJb3JpZ2luX2VjEXAMPLE==");
    assert_non_null(strstr(header(&r, "Authorization"),
        "Credential=ASIAEXAMPLE/20150830/us-west-2/bedrock/aws4_request, "
        "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
        "Signature="));
    llm_http_req_free(&r);
}


static void
test_api_key(void **state)
{
    llm_http_req_t  r;

    setup_call(q("{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    dep.api_key = "bedrock-api-key-ABSKexample";
    build(&r);

    assert_string_equal(header(&r, "Authorization"),
                        "Bearer bedrock-api-key-ABSKexample");
    assert_null(header(&r, "X-Amz-Date"));
    assert_null(header(&r, "X-Amz-Security-Token"));
    llm_http_req_free(&r);
}


static void
test_credentials_missing(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call(q("{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    set_params("{'aws_region_name':'us-east-1','aws_access_key_id':'AKID'}");
    build_fails(401, "authentication_error", NULL, "invalid_api_key");

    set_params("{'aws_access_key_id':'','aws_secret_access_key':''}");
    build_fails(401, "authentication_error", NULL, "invalid_api_key");

    set_params("{'aws_access_key_id':null,'aws_secret_access_key':null}");
    dep.missing_env = "MY_AWS_KEY";
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, 401);
    assert_non_null(strstr(err.message, "MY_AWS_KEY"));
    dep.missing_env = NULL;

    /* no region: us-east-1, as the loader would have said */
    set_params("{'aws_access_key_id':'" AKID "','aws_secret_access_key':'"
               SECRET "'}");
    setup_model("anthropic.claude-3-haiku-20240307-v1:0",
                q("{'model':'claude-bedrock','max_tokens':64,"
                  "'messages':[{'role':'user','content':'Hi'}]}"));
    set_params("{'aws_access_key_id':'" AKID "','aws_secret_access_key':'"
               SECRET "'}");
    build(&r);
    assert_non_null(strstr(header(&r, "Authorization"),
                           "Signature=4e695fb0b2a4354d996741d54fc5502cf8"
                           "97a33edb0f41a5a880045bb55a5eca"));
    llm_http_req_free(&r);
}


/*
 * Request mapping.
 */

static void
test_request_messages(void **state)
{
    /* system and developer -> system blocks; roles merged; empty skipped */
    request_ok("{'model':'m','max_tokens':10,'messages':["
        "{'role':'system','content':'one'},"
        "{'role':'developer','content':[{'type':'text','text':'two'},"
        "{'type':'text','text':''}]},"
        "{'role':'user','content':'a'},"
        "{'role':'user','content':[{'type':'text','text':'b'}]},"
        "{'role':'assistant','content':''},"
        "{'role':'assistant','content':'c'},"
        "{'role':'user','content':''},"
        "{'role':'user','content':'d'}]}",
        "{'system':[{'text':'one'},{'text':'two'}],"
        "'messages':[{'role':'user','content':[{'text':'a'},{'text':'b'}]},"
        "{'role':'assistant','content':[{'text':'c'}]},"
        "{'role':'user','content':[{'text':'d'}]}],"
        "'inferenceConfig':{'maxTokens':10}}");
}


static void
test_request_tools_roundtrip(void **state)
{
    /* tool calls -> toolUse; tool results merge into one user turn */
    request_ok("{'model':'m','max_tokens':10,'messages':["
        "{'role':'user','content':'weather?'},"
        "{'role':'assistant','content':'Let me check.','tool_calls':["
        "{'id':'tooluse_1','type':'function','function':{'name':'get_weather',"
        "'arguments':'{\\'city\\':\\'Paris\\'}'}},"
        "{'id':'tooluse_2','type':'function','function':{'name':'get_time',"
        "'arguments':'not json'}}]},"
        "{'role':'tool','tool_call_id':'tooluse_1','content':'18C'},"
        "{'role':'tool','tool_call_id':'tooluse_2','status':'error',"
        "'content':[{'type':'text','text':'no clock'}]},"
        "{'role':'user','content':'thanks'}],"
        "'tools':[{'type':'function','function':{'name':'get_weather',"
        "'description':'Weather now'}}]}",
        "{'messages':[{'role':'user','content':[{'text':'weather?'}]},"
        "{'role':'assistant','content':[{'text':'Let me check.'},"
        "{'toolUse':{'toolUseId':'tooluse_1','name':'get_weather',"
        "'input':{'city':'Paris'}}},"
        "{'toolUse':{'toolUseId':'tooluse_2','name':'get_time','input':{}}}]},"
        "{'role':'user','content':["
        "{'toolResult':{'toolUseId':'tooluse_1','content':[{'text':'18C'}]}},"
        "{'toolResult':{'toolUseId':'tooluse_2','content':[{'text':"
        "'no clock'}],'status':'error'}},"
        "{'text':'thanks'}]}],"
        "'inferenceConfig':{'maxTokens':10},"
        "'toolConfig':{'tools':[{'toolSpec':{'name':'get_weather',"
        "'description':'Weather now','inputSchema':{'json':{'type':'object',"
        "'properties':{}}}}}]}}");

    /* tool blocks in the history without tools: declared from it */
    request_ok("{'model':'m','max_tokens':10,'tool_choice':'none',"
        "'messages':[{'role':'user','content':'x'},"
        "{'role':'assistant','tool_calls':["
        "{'id':'a','type':'function','function':{'name':'f','arguments':'{}'}},"
        "{'id':'b','type':'function','function':{'name':'f','arguments':'{}'}},"
        "{'id':'c','type':'function','function':{'name':'g','arguments':'{}'}}"
        "]},"
        "{'role':'tool','tool_call_id':'a','content':'1'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]},"
        "{'role':'assistant','content':["
        "{'toolUse':{'toolUseId':'a','name':'f','input':{}}},"
        "{'toolUse':{'toolUseId':'b','name':'f','input':{}}},"
        "{'toolUse':{'toolUseId':'c','name':'g','input':{}}}]},"
        "{'role':'user','content':[{'toolResult':{'toolUseId':'a',"
        "'content':[{'text':'1'}]}}]}],"
        "'inferenceConfig':{'maxTokens':10},"
        "'toolConfig':{'tools':["
        "{'toolSpec':{'name':'f','inputSchema':{'json':{'type':'object',"
        "'properties':{}}}}},"
        "{'toolSpec':{'name':'g','inputSchema':{'json':{'type':'object',"
        "'properties':{}}}}}]}}");
}


static void
test_request_tool_choice(void **state)
{
    cJSON  *b, *tc;

#define TOOLS "'tools':[{'type':'function','function':{'name':'f'}}],"

    b = body_of("{'model':'m'," TOOLS "'tool_choice':'required',"
                "'messages':[{'role':'user','content':'x'}]}");
    tc = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "toolConfig"),
                             "toolChoice");
    assert_non_null(cJSON_GetObjectItem(tc, "any"));
    cJSON_Delete(b);

    b = body_of("{'model':'m'," TOOLS "'tool_choice':{'type':'function',"
                "'function':{'name':'f'}},"
                "'messages':[{'role':'user','content':'x'}]}");
    tc = cJSON_GetObjectItem(cJSON_GetObjectItem(b, "toolConfig"),
                             "toolChoice");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(tc, "tool"),
                                            "name")->valuestring, "f");
    cJSON_Delete(b);

    /* none without tool history: no toolConfig at all */
    b = body_of("{'model':'m'," TOOLS "'tool_choice':'none',"
                "'messages':[{'role':'user','content':'x'}]}");
    assert_null(cJSON_GetObjectItem(b, "toolConfig"));
    cJSON_Delete(b);

    /* no choice: tools only (Converse's default is auto) */
    b = body_of("{'model':'m'," TOOLS
                "'messages':[{'role':'user','content':'x'}]}");
    assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "toolConfig"),
                                    "toolChoice"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
        cJSON_GetObjectItem(b, "toolConfig"), "tools")), 1);
    cJSON_Delete(b);

    /* a choice without tools is left out */
    b = body_of("{'model':'m','tool_choice':'auto',"
                "'messages':[{'role':'user','content':'x'}]}");
    assert_null(cJSON_GetObjectItem(b, "toolConfig"));
    cJSON_Delete(b);

    setup_call(q("{'model':'m'," TOOLS "'tool_choice':'sometimes',"
                 "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "tool_choice", NULL);

#undef TOOLS
}


static void
test_request_media(void **state)
{
    request_ok("{'model':'m','max_tokens':5,'messages':[{'role':'user',"
        "'content':[{'type':'text','text':'what?'},"
        "{'type':'image_url','image_url':{'url':'data:image/png;base64,iVBO'}},"
        "{'type':'image_url','image_url':'data:image/jpg;base64,/9j/'},"
        "{'type':'file','file':{'filename':'Q3 report (final).v2.pdf',"
        "'file_data':'data:application/pdf;base64,JVBERi0='}},"
        "{'type':'file','file':{'file_data':'data:text/plain;base64,aGk='}},"
        "{'type':'input_audio','input_audio':{}}]}]}",
        "{'messages':[{'role':'user','content':[{'text':'what?'},"
        "{'image':{'format':'png','source':{'bytes':'iVBO'}}},"
        "{'image':{'format':'jpeg','source':{'bytes':'/9j/'}}},"
        "{'document':{'format':'pdf','name':'Q3 report (final)-v2',"
        "'source':{'bytes':'JVBERi0='}}},"
        "{'document':{'format':'txt','name':'document-0-4',"
        "'source':{'bytes':'aGk='}}}]}],"
        "'inferenceConfig':{'maxTokens':5}}");

    /* links cannot be sent */
    setup_call(q("{'model':'m','messages':[{'role':'user','content':["
                 "{'type':'image_url','image_url':{'url':"
                 "'https://example.com/a.png'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'m','messages':[{'role':'user','content':["
                 "{'type':'image_url','image_url':{'url':"
                 "'data:image/tiff;base64,AAAA'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'m','messages':[{'role':'user','content':["
                 "{'type':'file','file':{'file_id':'file-1'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'m','messages':[{'role':'system','content':["
                 "{'type':'image_url','image_url':{'url':"
                 "'data:image/png;base64,AAAA'}}]}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);

    setup_call(q("{'model':'m','messages':[{'role':'wizard','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "messages", NULL);
}


static void
test_request_cache_points(void **state)
{
    request_ok("{'model':'m','max_tokens':5,'messages':["
        "{'role':'system','content':'long',"
        "'cache_control':{'type':'ephemeral'}},"
        "{'role':'user','content':[{'type':'text','text':'doc',"
        "'cache_control':{'type':'ephemeral'}},{'type':'text','text':'q'}]}]}",
        "{'system':[{'text':'long'},{'cachePoint':{'type':'default'}}],"
        "'messages':[{'role':'user','content':[{'text':'doc'},"
        "{'cachePoint':{'type':'default'}},{'text':'q'}]}],"
        "'inferenceConfig':{'maxTokens':5}}");
}


static void
test_request_params(void **state)
{
    cJSON           *b;
    llm_http_req_t   r;

    /* Claude: maxTokens defaults; the rest of inferenceConfig; top_k */
    request_ok("{'model':'m','temperature':0.2,'top_p':0.9,'top_k':40,"
        "'stop':['END','','STOP'],'n':1,'seed':null,'logprobs':false,"
        "'user':'user-42@example.com','parallel_tool_calls':true,"
        "'stream_options':{'include_usage':true},"
        "'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':4096,'temperature':0.2,'topP':0.9,"
        "'stopSequences':['END','STOP']},"
        "'additionalModelRequestFields':{'top_k':40},"
        "'requestMetadata':{'user':'user-42@example.com'}}");

    /* max_completion_tokens wins; a stop string; odd user ids are left out */
    request_ok("{'model':'m','max_tokens':9,'max_completion_tokens':7,"
        "'stop':'##','user':'naïve\\nuser',"
        "'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':7,'stopSequences':['##']}}");

    /* not Claude: no default maxTokens, no inferenceConfig at all */
    setup_model("amazon.nova-lite-v1:0",
                q("{'model':'m','messages':[{'role':'user','content':'x'}]}"));
    build(&r);
    assert_json_eq(r.body.data, r.body.len,
        q("{'messages':[{'role':'user','content':[{'text':'x'}]}]}"));
    llm_http_req_free(&r);

    setup_call(q("{'model':'m','max_tokens':0,"
                 "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "max_tokens", NULL);

    setup_call(q("{'model':'m','max_completion_tokens':'lots',"
                 "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "max_completion_tokens", NULL);

    /* unsupported: refused, or dropped with drop_params */
    setup_call(q("{'model':'m','seed':7,"
                 "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "seed",
                "unsupported_parameter");

    setup_call(q("{'model':'m','n':2,'frequency_penalty':0.5,"
                 "'messages':[{'role':'user','content':'x'}]}"));
    call.drop_params = 1;
    build(&r);
    b = cJSON_ParseWithLength(r.body.data, r.body.len);
    assert_null(cJSON_GetObjectItem(b, "n"));
    assert_null(cJSON_GetObjectItem(b, "frequency_penalty"));
    cJSON_Delete(b);
    llm_http_req_free(&r);

    /* passed through as they are */
    b = body_of("{'model':'m','max_tokens':3,"
                "'guardrailConfig':{'guardrailIdentifier':'g1',"
                "'guardrailVersion':'1'},"
                "'performanceConfig':{'latency':'optimized'},"
                "'additionalModelResponseFieldPaths':['/stop_sequence'],"
                "'additionalModelRequestFields':{'x':1,'top_k':2},'top_k':3,"
                "'requestMetadata':{'team':'a'},"
                "'messages':[{'role':'user','content':'x'}]}");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
        "guardrailConfig"), "guardrailIdentifier")->valuestring, "g1");
    assert_non_null(cJSON_GetObjectItem(b, "performanceConfig"));
    assert_non_null(cJSON_GetObjectItem(b,
                                        "additionalModelResponseFieldPaths"));
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
        "additionalModelRequestFields"), "x")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
        "additionalModelRequestFields"), "top_k")->valueint, 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b,
        "requestMetadata"), "team")->valuestring, "a");
    assert_null(cJSON_GetObjectItem(b, "model"));
    assert_null(cJSON_GetObjectItem(b, "stream"));
    cJSON_Delete(b);
}


static void
test_request_reasoning(void **state)
{
    /* Claude: thinking, and maxTokens raised above the budget */
    request_ok("{'model':'m','max_tokens':1000,'reasoning_effort':'medium',"
        "'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':3048},"
        "'additionalModelRequestFields':{'thinking':{'type':'enabled',"
        "'budget_tokens':2048}}}");

    request_ok("{'model':'m','max_tokens':9000,'reasoning_effort':'none',"
        "'thinking':{'type':'enabled','budget_tokens':5000},"
        "'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':9000},"
        "'additionalModelRequestFields':{'thinking':{'type':'enabled',"
        "'budget_tokens':5000}}}");

    /* thinking blocks handed back lead the assistant turn */
    request_ok("{'model':'m','max_tokens':5,'messages':["
        "{'role':'user','content':'x'},"
        "{'role':'assistant','content':'y','thinking_blocks':["
        "{'type':'thinking','thinking':'hmm','signature':'sig1'},"
        "{'type':'redacted_thinking','data':'xyz'}]}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]},"
        "{'role':'assistant','content':["
        "{'reasoningContent':{'reasoningText':{'text':'hmm',"
        "'signature':'sig1'}}},"
        "{'reasoningContent':{'redactedContent':'xyz'}},{'text':'y'}]}],"
        "'inferenceConfig':{'maxTokens':5}}");

    setup_call(q("{'model':'m','reasoning_effort':'extreme',"
                 "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "reasoning_effort", NULL);

    /* not Claude: an unsupported parameter */
    setup_model("amazon.nova-pro-v1:0",
                q("{'model':'m','reasoning_effort':'low',"
                  "'messages':[{'role':'user','content':'x'}]}"));
    build_fails(400, "invalid_request_error", "reasoning_effort",
                "unsupported_parameter");
}


static void
test_request_response_format(void **state)
{
    request_ok("{'model':'m','max_tokens':5,'response_format':{"
        "'type':'json_schema','json_schema':{'name':'city',"
        "'description':'A city','schema':{'type':'object',"
        "'properties':{'name':{'type':'string'}}}}},"
        "'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':5},"
        "'outputConfig':{'textFormat':{'type':'json_schema',"
        "'structure':{'jsonSchema':{"
        "'schema':'{\\'type\\':\\'object\\',\\'properties\\':{\\'name\\':"
        "{\\'type\\':\\'string\\'}}}','name':'city','description':"
        "'A city'}}}}}");

    request_ok("{'model':'m','max_tokens':5,'response_format':{"
        "'type':'json_object'},'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':5},"
        "'outputConfig':{'textFormat':{'type':'json_schema',"
        "'structure':{'jsonSchema':{'schema':'{\\'type\\':\\'object\\'}',"
        "'name':'response'}}}}}");

    request_ok("{'model':'m','max_tokens':5,'response_format':{"
        "'type':'text'},'messages':[{'role':'user','content':'x'}]}",
        "{'messages':[{'role':'user','content':[{'text':'x'}]}],"
        "'inferenceConfig':{'maxTokens':5}}");
}


static void
test_request_deployment_defaults(void **state)
{
    llm_http_req_t  r;

    setup_call(q("{'model':'m','temperature':0.5,"
                 "'messages':[{'role':'user','content':'hi'}]}"));
    dep.defaults = cJSON_Parse(q("{'temperature':0.1,'max_tokens':77}"));
    build(&r);
    assert_json_eq(r.body.data, r.body.len,
        q("{'messages':[{'role':'user','content':[{'text':'hi'}]}],"
          "'inferenceConfig':{'maxTokens':77,'temperature':0.5}}"));
    llm_http_req_free(&r);
    cJSON_Delete(dep.defaults);
    dep.defaults = NULL;
}


/*
 * Responses.
 */

static void
finish_is(const char *stop_reason, const char *finish)
{
    char         body[512], *p;
    llm_buf_t    out;
    llm_error_t  err;
    llm_usage_t  u;
    cJSON       *o;

    snprintf(body, sizeof(body), "{\"output\":{\"message\":{\"role\":"
             "\"assistant\",\"content\":[{\"text\":\"x\"}]}},"
             "\"stopReason\":\"%s\"}", stop_reason);
    memset(&out, 0, sizeof(out));

    assert_int_equal(llm_bedrock_adapter.parse_response(&call, body,
                                                        strlen(body), &out,
                                                        &u, &err), LLM_OK);
    o = cJSON_Parse(out.data);
    p = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o,
                                        "choices"), 0),
                            "finish_reason")->valuestring;
    assert_string_equal(p, finish);
    cJSON_Delete(o);
    llm_buf_free(&out);
}


static void
test_response_finish_reasons(void **state)
{
    setup_call(q(DOC_REQ));

    finish_is("end_turn", "stop");
    finish_is("stop_sequence", "stop");
    finish_is("max_tokens", "length");
    finish_is("tool_use", "tool_calls");
    finish_is("guardrail_intervened", "content_filter");
    finish_is("content_filtered", "content_filter");
    finish_is("model_context_window_exceeded", "length");
    finish_is("malformed_model_output", "stop");
    finish_is("malformed_tool_use", "stop");
    finish_is("something_new", "stop");
}


static void
test_response_cache_and_reasoning(void **state)
{
    llm_usage_t  u;

    setup_call(q(DOC_REQ));
    response_ok(q("{'output':{'message':{'role':'assistant','content':["
        "{'reasoningContent':{'reasoningText':{'text':'think',"
        "'signature':'s1'}}},"
        "{'reasoningContent':{'redactedContent':'cmVk'}},"
        "{'text':'Hello'},{'citationsContent':{}},{'text':' world'}]}},"
        "'stopReason':'end_turn','usage':{'inputTokens':10,"
        "'outputTokens':5,'totalTokens':999,'cacheReadInputTokens':100,"
        "'cacheWriteInputTokens':20},'trace':{},'metrics':{},"
        "'additionalModelResponseFields':{'x':1}}"),
        q("{'id':'chatcmpl-br1','object':'chat.completion',"
          "'created':1735689600,'model':'claude-bedrock','choices':[{"
          "'index':0,'message':{'role':'assistant','content':'Hello world',"
          "'refusal':null,'reasoning_content':'think','thinking_blocks':["
          "{'type':'thinking','thinking':'think','signature':'s1'},"
          "{'type':'redacted_thinking','data':'cmVk'}]},"
          "'logprobs':null,'finish_reason':'stop'}],"
          "'usage':{'prompt_tokens':130,'completion_tokens':5,"
          "'total_tokens':135,'prompt_tokens_details':{'cached_tokens':100,"
          "'cache_write_tokens':20}}}"), &u);

    assert_int_equal(u.prompt_tokens, 130);
    assert_int_equal(u.cached_tokens, 100);
    assert_int_equal(u.cache_write_tokens, 20);
    assert_int_equal(u.total_tokens, 135);
}


static void
test_response_missing_fields(void **state)
{
    llm_buf_t    out;
    llm_error_t  err;
    llm_usage_t  u;
    size_t       i;
    static const char  *bad[] = {
        "", "not json", "[]", "{}", "{\"output\":{}}",
        "{\"output\":{\"message\":{\"content\":{}}}}",
        "{\"message\":\"Internal error\"}",
    };

    setup_call(q(DOC_REQ));

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&out, 0, sizeof(out));
        memset(&err, 0, sizeof(err));
        assert_int_equal(llm_bedrock_adapter.parse_response(&call, bad[i],
                                                            strlen(bad[i]),
                                                            &out, &u, &err),
                         LLM_ERROR);
        assert_int_equal(err.status, 502);
        assert_string_equal(err.type, "server_error");
        llm_buf_free(&out);
    }

    /* no usage, no stopReason, odd blocks, a toolUse without id/input */
    response_ok(q("{'output':{'message':{'content':[5,{'text':7},"
        "{'toolUse':{'name':'f'}},{'toolUse':{'toolUseId':'t2',"
        "'input':[1]}},{'reasoningContent':{}}]}}}"),
        q("{'id':'chatcmpl-br1','object':'chat.completion',"
          "'created':1735689600,'model':'claude-bedrock','choices':[{"
          "'index':0,'message':{'role':'assistant','content':null,"
          "'refusal':null,'thinking_blocks':[{'type':'thinking',"
          "'thinking':''}],'tool_calls':["
          "{'id':'call_br1_0','type':'function','function':{'name':'f',"
          "'arguments':'{}'}},"
          "{'id':'t2','type':'function','function':{'name':'',"
          "'arguments':'[1]'}}]},"
          "'logprobs':null,'finish_reason':'stop'}],"
          "'usage':{'prompt_tokens':0,'completion_tokens':0,"
          "'total_tokens':0}}"), &u);
    assert_false(u.present);
}


/*
 * Errors.
 */

static void
error_is(int status, const char *body, int cstatus, const char *type,
    const char *code, const char *message)
{
    llm_error_t  err;

    memset(&err, 0, sizeof(err));
    llm_bedrock_adapter.parse_error(&call, status, body, strlen(body), &err);

    if (err.status != cstatus || strcmp(err.type, type) != 0
        || strcmp(err.code, code) != 0)
    {
        print_error("%d %s -> %d %s %s (%s)\n", status, body, err.status,
                    err.type, err.code, err.message);
        fail();
    }

    if (message) {
        assert_string_equal(err.message, message);
    }
}


static void
test_errors(void **state)
{
    setup_call(q(DOC_REQ));

    error_is(400, "{\"message\":\"1 validation error detected: Value at "
             "'inferenceConfig.maxTokens' failed to satisfy constraint\"}",
             400, "invalid_request_error", "", NULL);
    error_is(400, "{\"message\":\"prompt is too long: 208000 tokens > "
             "200000 maximum\"}", 400, "invalid_request_error",
             "context_length_exceeded", NULL);
    error_is(403, "{\"message\":\"You don't have access to the model with "
             "the specified model ID.\"}", 403, "permission_error", "",
             "bedrock: You don't have access to the model with the "
             "specified model ID.");
    error_is(403, "{\"message\":\"The request signature we calculated does "
             "not match the signature you provided. Check your AWS Secret "
             "Access Key and signing method.\"}", 401,
             "authentication_error", "invalid_api_key", NULL);
    error_is(403, "{\"message\":\"The security token included in the "
             "request is invalid.\"}", 401, "authentication_error",
             "invalid_api_key", NULL);
    error_is(403, "{\"Message\":\"User: anonymous is not authorized to "
             "perform: bedrock:InvokeModel with an explicit deny\"}", 403,
             "permission_error", "", NULL);
    error_is(404, "{\"message\":\"The provided model identifier is "
             "invalid.\"}", 404, "invalid_request_error", "model_not_found",
             NULL);
    error_is(408, "{\"message\":\"Model has timed out in processing the "
             "request.\"}", 504, "server_error", "timeout", NULL);
    error_is(424, "{\"message\":\"Received error from model\","
             "\"originalStatusCode\":500}", 502, "server_error", "", NULL);
    error_is(429, "{\"message\":\"Too many requests, please wait before "
             "trying again.\"}", 429, "rate_limit_error",
             "rate_limit_exceeded", NULL);
    error_is(429, "{\"message\":\"Model is not ready for inference. Wait "
             "and try your request again.\"}", 503, "server_error",
             "overloaded", NULL);
    error_is(400, "{\"message\":\"Your request exceeds the service quota "
             "for your account.\"}", 429, "rate_limit_error",
             "rate_limit_exceeded", NULL);
    error_is(500, "{\"message\":\"Internal server error\"}", 502,
             "server_error", "", NULL);
    error_is(503, "{\"message\":\"Bedrock is unable to process your "
             "request.\"}", 503, "server_error", "overloaded", NULL);

    /* a body that names the exception decides over the status */
    error_is(400, "{\"__type\":\"com.amazon.coral.service#"
             "ThrottlingException\",\"message\":\"slow\"}", 429,
             "rate_limit_error", "rate_limit_exceeded", "bedrock: slow");
    error_is(403, "{\"__type\":\"UnrecognizedClientException:http://"
             "internal.amazon.com/coral/com.amazon.coral.service/\","
             "\"message\":\"x\"}", 401, "authentication_error",
             "invalid_api_key", NULL);
    error_is(400, "{\"__type\":\"ModelNotReadyException\"}", 503,
             "server_error", "overloaded",
             "bedrock: upstream returned HTTP 503");

    /* bodies that are not Bedrock's */
    error_is(502, "<html>Bad Gateway</html>", 502, "server_error", "",
             "bedrock: <html>Bad Gateway</html>");
    error_is(500, "", 502, "server_error", "",
             "bedrock: upstream returned HTTP 500");
    error_is(403, "{\"message\":7}", 403, "permission_error", "",
             "bedrock: upstream returned HTTP 403");
}


/*
 * Streams.
 */

static void
test_stream_text_cache_usage(void **state)
{
    llm_buf_t  in;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'héllo 你好'},'p':'abc'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,'delta':{'text':''}}");
    ev(&in, "someNewEvent", "{'x':1}");
    ev(&in, "contentBlockStop", "{'contentBlockIndex':0}");
    ev(&in, "messageStop", "{'stopReason':'max_tokens',"
       "'additionalModelResponseFields':{}}");
    ev(&in, "metadata", "{'usage':{'inputTokens':3,'outputTokens':4,"
       "'cacheReadInputTokens':50,'cacheWriteInputTokens':7},"
       "'metrics':{'latencyMs':1},'p':'xyz'}");

    stream_ok(STREAM_REQ, &in, 1,
              "role|c:héllo 你好|f:length|u:60/4/50|DONE");
}


static void
test_stream_without_usage(void **state)
{
    char       *out;
    llm_buf_t   in;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'x'}}");
    ev(&in, "messageStop", "{'stopReason':'end_turn'}");
    ev(&in, "metadata", "{'usage':{'inputTokens':3,'outputTokens':4}}");

    setup_call(q("{'model':'m','stream':true,"
                 "'messages':[{'role':'user','content':'hi'}]}"));
    out = stream_all_splits(&in, 1);
    assert_string_equal(summary(out), "role|c:x|f:stop|DONE");
    assert_null(strstr(out, "\"usage\""));
    free(out);
    llm_buf_free(&in);
}


static void
test_stream_tools(void **state)
{
    llm_buf_t  in;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'reasoningContent':{'text':'plan'}}}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'reasoningContent':{'signature':'sig'}}}");
    ev(&in, "contentBlockStop", "{'contentBlockIndex':0}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':1,"
       "'delta':{'text':'Checking.'}}");
    ev(&in, "contentBlockStart", "{'contentBlockIndex':2,'start':{"
       "'toolUse':{'toolUseId':'tooluse_A','name':'get_weather'}}}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':2,"
       "'delta':{'toolUse':{'input':'{\\'city\\':'}}}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':2,"
       "'delta':{'toolUse':{'input':'\\'Paris\\'}'}}}");
    ev(&in, "contentBlockStop", "{'contentBlockIndex':2}");
    ev(&in, "contentBlockStart", "{'contentBlockIndex':3,'start':{"
       "'toolUse':{'toolUseId':'tooluse_B','name':'get_time'}}}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':3,"
       "'delta':{'toolUse':{'input':'{}'}}}");
    /* a delta for a block that never started: a call of its own */
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':4,"
       "'delta':{'toolUse':{'input':'{}'}}}");
    ev(&in, "messageStop", "{'stopReason':'tool_use'}");
    ev(&in, "metadata", "{'usage':{'inputTokens':3,'outputTokens':4}}");

    stream_ok(STREAM_REQ, &in, 1,
              "role|r:plan|c:Checking.|ts0:tooluse_A:get_weather|"
              "ta0:{\"city\":|ta0:\"Paris\"}|ts1:tooluse_B:get_time|"
              "ta1:{}|ts2:call_br1_2:|ta2:{}|f:tool_calls|u:3/4/0|DONE");
}


static void
test_stream_exceptions(void **state)
{
    llm_buf_t  in;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'par'}}");
    exc(&in, "throttlingException", "{'message':'Too many requests'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'never'}}");
    stream_ok(STREAM_REQ, &in, 1,
              "role|c:par|e:rate_limit_error:rate_limit_exceeded|DONE");

    memset(&in, 0, sizeof(in));
    exc(&in, "modelStreamErrorException", "{'message':'model failed',"
        "'originalStatusCode':500,'originalMessage':'boom'}");
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:null|DONE");

    memset(&in, 0, sizeof(in));
    exc(&in, "validationException", "{'message':'Input is too long for "
        "requested model.'}");
    stream_ok(STREAM_REQ, &in, 1,
              "e:invalid_request_error:context_length_exceeded|DONE");

    memset(&in, 0, sizeof(in));
    exc(&in, "serviceUnavailableException", "{'message':'busy'}");
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:overloaded|DONE");

    memset(&in, 0, sizeof(in));
    exc(&in, "internalServerException", "not json");
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:null|DONE");

    memset(&in, 0, sizeof(in));
    exc(&in, "somethingNewException", "{}");
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:null|DONE");

}


/* an unmodelled error: its code and message in headers, no payload */
static void
test_stream_error_frame(void **state)
{
    char       *out;
    size_t      start, t;
    llm_buf_t   in, h;

    memset(&in, 0, sizeof(in));
    memset(&h, 0, sizeof(h));
    put_header(&h, ":message-type", "error");
    put_header(&h, ":error-code", "ThrottlingException");
    put_header(&h, ":error-message", "Rate exceeded");
    start = in.len;
    t = 16 + h.len;
    put_be32(&in, t);
    put_be32(&in, h.len);
    put_be32(&in, llm_crc32(0, in.data + start, 8));
    assert_int_equal(llm_buf_append(&in, h.data, h.len), 0);
    put_be32(&in, llm_crc32(0, in.data + start, t - 4));
    llm_buf_free(&h);

    setup_call(q(STREAM_REQ));
    out = stream_all_splits(&in, 1);
    assert_string_equal(summary(out),
                        "e:rate_limit_error:rate_limit_exceeded|DONE");
    assert_non_null(strstr(out, "bedrock: Rate exceeded"));
    free(out);
    llm_buf_free(&in);
}


static void
test_stream_framing_errors(void **state)
{
    llm_buf_t  in;

    /* a corrupted frame: the error, nothing after it */
    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'ok'}}");
    in.data[in.len - 10] ^= 0x20;
    ev(&in, "messageStop", "{'stopReason':'end_turn'}");
    stream_ok(STREAM_REQ, &in, 1, "role|e:server_error:null|DONE");

    /* JSON where frames were expected (an error page on a 200) */
    memset(&in, 0, sizeof(in));
    assert_int_equal(llm_buf_appends(&in, "{\"message\":\"oops\"}"), 0);
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:null|DONE");

    /* cut inside a frame */
    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'ok'}}");
    in.len -= 7;
    stream_ok(STREAM_REQ, &in, 1, "role|e:server_error:null|DONE");

    /* closed between frames before messageStop */
    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "{'role':'assistant'}");
    stream_ok(STREAM_REQ, &in, 1, "role|e:server_error:null|DONE");

    /* nothing at all */
    memset(&in, 0, sizeof(in));
    stream_ok(STREAM_REQ, &in, 1, "e:server_error:null|DONE");

    /* messageStop without metadata: the end, without usage */
    memset(&in, 0, sizeof(in));
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'ok'}}");
    ev(&in, "messageStop", "{'stopReason':'stop_sequence'}");
    stream_ok(STREAM_REQ, &in, 1, "role|c:ok|f:stop|u:0/0/0|DONE");

    /* frames after the end are not read; payloads that are not objects */
    memset(&in, 0, sizeof(in));
    ev(&in, "messageStart", "[1]");
    ev(&in, "contentBlockDelta", "garbage");
    ev(&in, "messageStop", "{'stopReason':5}");
    ev(&in, "metadata", "{'usage':'many'}");
    ev(&in, "contentBlockDelta", "{'contentBlockIndex':0,"
       "'delta':{'text':'late'}}");
    exc(&in, "throttlingException", "{}");
    stream_ok(STREAM_REQ, &in, 1, "role|f:stop|u:0/0/0|DONE");
}


/* the stream's usage is what spend tracking reads */
static void
test_stream_usage_recorded(void **state)
{
    llm_buf_t      in;
    llm_stream_t  *s;

    memset(&in, 0, sizeof(in));
    ev(&in, "messageStop", "{'stopReason':'end_turn'}");
    ev(&in, "metadata", "{'usage':{'inputTokens':11,'outputTokens':4,"
       "'cacheReadInputTokens':5}}");

    setup_call(q("{'model':'m','stream':true,"
                 "'messages':[{'role':'user','content':'hi'}]}"));
    s = llm_stream_new(&call);
    assert_non_null(s);
    assert_int_equal(s->adapter->stream_feed(s, in.data, in.len), LLM_OK);
    assert_true(s->done);
    assert_false(s->failed);
    assert_true(s->usage.present);
    assert_int_equal(s->usage.prompt_tokens, 16);
    assert_int_equal(s->usage.completion_tokens, 4);
    assert_int_equal(s->usage.cached_tokens, 5);
    assert_string_equal(s->finish_reason, "stop");
    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
    llm_stream_free(s);
    llm_buf_free(&in);
}


/*
 * Embeddings.
 */

static void
setup_embed(const char *model_id, const char *json)
{
    setup_model(model_id, q(json));
    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;
    call.model_name = "embed";
}


static void
embed_request_ok(const char *model_id, const char *client,
    const char *expected_path, const char *expected_body)
{
    llm_http_req_t  r;

    setup_embed(model_id, client);
    build(&r);
    assert_string_equal(r.path.data, expected_path);
    assert_string_equal(r.accept, "application/json");
    assert_non_null(strstr(header(&r, "Authorization"), "AWS4-HMAC-SHA256"));
    assert_json_eq(r.body.data, r.body.len, q(expected_body));
    llm_http_req_free(&r);
}


static void
test_embed_requests(void **state)
{
    embed_request_ok("amazon.titan-embed-text-v2:0",
        "{'model':'embed','input':'hello','dimensions':256,"
        "'encoding_format':'base64','user':'u1'}",
        "/model/amazon.titan-embed-text-v2%3A0/invoke",
        "{'inputText':'hello','dimensions':256}");

    embed_request_ok("amazon.titan-embed-text-v2:0",
        "{'model':'embed','input':['one'],'normalize':false}",
        "/model/amazon.titan-embed-text-v2%3A0/invoke",
        "{'inputText':'one','normalize':false}");

    embed_request_ok("amazon.titan-embed-text-v1",
        "{'model':'embed','input':'x'}",
        "/model/amazon.titan-embed-text-v1/invoke", "{'inputText':'x'}");

    embed_request_ok("cohere.embed-english-v3",
        "{'model':'embed','input':['a','b']}",
        "/model/cohere.embed-english-v3/invoke",
        "{'texts':['a','b'],'input_type':'search_document'}");

    embed_request_ok("cohere.embed-multilingual-v3",
        "{'model':'embed','input':'q','input_type':'search_query',"
        "'truncate':'END'}",
        "/model/cohere.embed-multilingual-v3/invoke",
        "{'texts':['q'],'input_type':'search_query','truncate':'END'}");

    /* refused */
    setup_embed("amazon.titan-embed-text-v2:0",
                "{'model':'embed','input':['a','b']}");
    build_fails(400, "invalid_request_error", "input", NULL);

    setup_embed("amazon.titan-embed-text-v2:0",
                "{'model':'embed','input':[[1,2,3]]}");
    build_fails(400, "invalid_request_error", "input", NULL);

    setup_embed("amazon.titan-embed-text-v2:0",
                "{'model':'embed','input':'x','encoding_format':'int8'}");
    build_fails(400, "invalid_request_error", "encoding_format", NULL);

    setup_embed("amazon.titan-embed-text-v1",
                "{'model':'embed','input':'x','dimensions':256}");
    build_fails(400, "invalid_request_error", "dimensions",
                "unsupported_parameter");

    setup_embed("cohere.embed-english-v3",
                "{'model':'embed','input':'x','dimensions':256}");
    build_fails(400, "invalid_request_error", "dimensions",
                "unsupported_parameter");

    setup_embed("anthropic.claude-3-haiku-20240307-v1:0",
                "{'model':'embed','input':'x'}");
    build_fails(400, "invalid_request_error", "model", NULL);
}


static void
test_embed_responses(void **state)
{
    llm_usage_t  u;
    llm_buf_t    out;
    llm_error_t  err;

    setup_embed("amazon.titan-embed-text-v2:0",
                "{'model':'embed','input':'hello'}");
    response_ok(q("{'embedding':[0.5,-0.25,1],'inputTextTokenCount':3}"),
                q("{'object':'list','data':[{'object':'embedding',"
                  "'index':0,'embedding':[0.5,-0.25,1]}],'model':'embed',"
                  "'usage':{'prompt_tokens':3,'total_tokens':3}}"), &u);
    assert_int_equal(u.prompt_tokens, 3);
    assert_true(u.present);

    /* base64: little-endian float32 (0.5 = 00 00 00 3f) */
    setup_embed("amazon.titan-embed-text-v2:0",
                "{'model':'embed','input':'hello','encoding_format':"
                "'base64'}");
    response_ok(q("{'embedding':[0.5,-0.25],'inputTextTokenCount':1}"),
                q("{'object':'list','data':[{'object':'embedding',"
                  "'index':0,'embedding':'AAAAPwAAgL4='}],'model':'embed',"
                  "'usage':{'prompt_tokens':1,'total_tokens':1}}"), &u);

    setup_embed("cohere.embed-english-v3",
                "{'model':'embed','input':['a','b']}");
    response_ok(q("{'embeddings':[[1,2],[3,4]],'id':'e1','texts':['a','b'],"
                  "'response_type':'embeddings_floats'}"),
                q("{'object':'list','data':["
                  "{'object':'embedding','index':0,'embedding':[1,2]},"
                  "{'object':'embedding','index':1,'embedding':[3,4]}],"
                  "'model':'embed','usage':{'prompt_tokens':0,"
                  "'total_tokens':0}}"), &u);
    assert_false(u.present);

    response_ok(q("{'embeddings':{'float':[[1]]},'response_type':"
                  "'embeddings_by_type'}"),
                q("{'object':'list','data':["
                  "{'object':'embedding','index':0,'embedding':[1]}],"
                  "'model':'embed','usage':{'prompt_tokens':0,"
                  "'total_tokens':0}}"), NULL);

    memset(&out, 0, sizeof(out));
    assert_int_equal(llm_bedrock_adapter.parse_response(&call, "{}", 2, &out,
                                                        &u, &err),
                     LLM_ERROR);
    assert_int_equal(err.status, 502);
    llm_buf_free(&out);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_doc_sigv4_vector, teardown),
        cmocka_unit_test_teardown(test_doc_request, teardown),
        cmocka_unit_test_teardown(test_doc_response, teardown),
        cmocka_unit_test_teardown(test_doc_stream, teardown),
        cmocka_unit_test_teardown(test_doc_error, teardown),
        cmocka_unit_test_teardown(test_paths, teardown),
        cmocka_unit_test_teardown(test_signed_host, teardown),
        cmocka_unit_test_teardown(test_session_token, teardown),
        cmocka_unit_test_teardown(test_api_key, teardown),
        cmocka_unit_test_teardown(test_credentials_missing, teardown),
        cmocka_unit_test_teardown(test_request_messages, teardown),
        cmocka_unit_test_teardown(test_request_tools_roundtrip, teardown),
        cmocka_unit_test_teardown(test_request_tool_choice, teardown),
        cmocka_unit_test_teardown(test_request_media, teardown),
        cmocka_unit_test_teardown(test_request_cache_points, teardown),
        cmocka_unit_test_teardown(test_request_params, teardown),
        cmocka_unit_test_teardown(test_request_reasoning, teardown),
        cmocka_unit_test_teardown(test_request_response_format, teardown),
        cmocka_unit_test_teardown(test_request_deployment_defaults,
                                  teardown),
        cmocka_unit_test_teardown(test_response_finish_reasons, teardown),
        cmocka_unit_test_teardown(test_response_cache_and_reasoning,
                                  teardown),
        cmocka_unit_test_teardown(test_response_missing_fields, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
        cmocka_unit_test_teardown(test_stream_text_cache_usage, teardown),
        cmocka_unit_test_teardown(test_stream_without_usage, teardown),
        cmocka_unit_test_teardown(test_stream_tools, teardown),
        cmocka_unit_test_teardown(test_stream_exceptions, teardown),
        cmocka_unit_test_teardown(test_stream_error_frame, teardown),
        cmocka_unit_test_teardown(test_stream_framing_errors, teardown),
        cmocka_unit_test_teardown(test_stream_usage_recorded, teardown),
        cmocka_unit_test_teardown(test_embed_requests, teardown),
        cmocka_unit_test_teardown(test_embed_responses, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
