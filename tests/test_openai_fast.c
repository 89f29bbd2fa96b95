/*
 * Copyright (C) ngx_llm authors
 *
 * The OpenAI adapter's fast paths (spliced bytes) against its cJSON
 * paths: on every input either both give the same JSON, usage and
 * stream state, or the fast path declines and the cJSON path runs.
 * The inputs: the examples of test_openai.c, fuzz/corpus/openai/, the
 * bench's, edge cases, and seeded mutations of all of them.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_openai.h"


#define T_ID       "chatcmpl-gw1"
#define T_CREATED  1700000000

#define T_EITHER   -1           /* the fast path may take it or not */
#define T_SLOW      0           /* the fast path must decline */
#define T_FAST      1           /* the fast path must take it */


typedef struct {
    llm_deployment_t   dep;
    llm_call_t         call;
    cJSON             *req;
} t_ctx_t;


#define T_USAGE_REQ                                                          \
    "{\"stream\":true,\"stream_options\":{\"include_usage\":true}}"


static int  t_fast_taken;       /* how often the fast path answered */


static void
t_setup(t_ctx_t *t, llm_provider_e provider, const char *req, size_t len,
    const char *defaults, llm_endpoint_e endpoint)
{
    const cJSON  *v, *so;

    memset(t, 0, sizeof(t_ctx_t));

    t->dep.provider = provider;
    t->dep.model_name = (char *) "client-model";
    t->dep.model_id = (char *) "provider-model";
    t->dep.api_key = (char *) "sk-test";
    t->dep.bearer = (char *) "Bearer sk-test";
    t->dep.base.path = (char *) "/v1";
    t->dep.drop_params = -1;

    if (defaults) {
        t->dep.defaults = cJSON_Parse(defaults);
        assert_non_null(t->dep.defaults);
    }

    t->req = req ? cJSON_ParseWithLength(req, len) : NULL;

    t->call.endpoint = endpoint;
    t->call.dep = &t->dep;
    t->call.req = t->req;
    t->call.model_name = "client-model";
    t->call.created = T_CREATED;
    t->call.body = req;
    t->call.body_len = len;
    snprintf(t->call.id, sizeof(t->call.id), "%s", T_ID);

    /* as ngx_http_llm_init_call() */
    v = cJSON_GetObjectItemCaseSensitive(t->req, "stream");
    t->call.stream = endpoint == LLM_ENDPOINT_CHAT && cJSON_IsTrue(v);

    so = cJSON_GetObjectItemCaseSensitive(t->req, "stream_options");
    v = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
    t->call.include_usage = t->call.stream && cJSON_IsTrue(v);
}


static void
t_teardown(t_ctx_t *t)
{
    cJSON_Delete(t->req);
    cJSON_Delete(t->dep.defaults);
}


/*
 * the same JSON value, member order included: both paths keep the
 * upstream's order and add members in the same order.  Unlike
 * cJSON_Compare(), duplicate keys are compared pairwise.
 */
static int
t_value_same(const cJSON *x, const cJSON *y)
{
    double        m;
    const cJSON  *a, *b;

    if ((x->type & 0xff) != (y->type & 0xff)) {
        return 0;
    }

    if ((x->string == NULL) != (y->string == NULL)
        || (x->string && strcmp(x->string, y->string) != 0))
    {
        return 0;
    }

    switch (x->type & 0xff) {

    case cJSON_Number:
        m = fabs(x->valuedouble) > fabs(y->valuedouble)
            ? fabs(x->valuedouble) : fabs(y->valuedouble);
        return fabs(x->valuedouble - y->valuedouble) <= m * DBL_EPSILON;

    case cJSON_String:
        return strcmp(x->valuestring, y->valuestring) == 0;

    case cJSON_Array:
    case cJSON_Object:
        for (a = x->child, b = y->child; a && b; a = a->next, b = b->next) {
            if (!t_value_same(a, b)) {
                return 0;
            }
        }

        return a == NULL && b == NULL;

    default:
        return 1;
    }
}


static int
t_json_same(const char *a, const char *b)
{
    int     rc;
    cJSON  *x, *y;

    x = cJSON_Parse(a);
    y = cJSON_Parse(b);

    rc = x && y && t_value_same(x, y);

    cJSON_Delete(x);
    cJSON_Delete(y);

    return rc;
}


/* what the fast path sends is compact, like cJSON's print */
static void
t_compact(const char *s)
{
    llm_json_obj_t  o;

    if (llm_json_scan(s, strlen(s), &o, NULL) != 0 || o.space) {
        fprintf(stderr, "not compact JSON: %s\n", s);
        fail();
    }
}


static void
t_expect(int rc, int expect, const char *what, const char *in, size_t len)
{
    if ((expect == T_FAST && rc != LLM_OK)
        || (expect == T_SLOW && rc != LLM_DECLINED))
    {
        fprintf(stderr, "%s: fast path %s, expected %s: %.*s\n", what,
                rc == LLM_OK ? "taken" : "declined",
                expect == T_FAST ? "taken" : "declined", (int) len, in);
        fail();
    }

    if (rc == LLM_OK) {
        t_fast_taken++;
    }
}


/*
 * requests
 */


static void
t_request_len(llm_provider_e provider, const char *req, size_t len,
    const char *defaults, llm_endpoint_e endpoint, int expect)
{
    int              rc, rs;
    t_ctx_t          t;
    llm_buf_t        fast, slow;
    llm_error_t      err;
    llm_http_req_t   r;

    t_setup(&t, provider, req, len, defaults, endpoint);

    if (t.req == NULL
        || llm_request_validate(t.req, endpoint, &err) != LLM_OK)
    {
        /* the glue answers these itself */
        t_teardown(&t);
        return;
    }

    memset(&fast, 0, sizeof(llm_buf_t));
    memset(&slow, 0, sizeof(llm_buf_t));

    rc = llm_openai_fast_request(&t.call, &fast);
    rs = llm_openai_request_tree(&t.call, &slow, &err);

    t_expect(rc, expect, "request", req, len);

    if (rc == LLM_OK) {
        if (rs != LLM_OK || !t_json_same(fast.data, slow.data)) {
            fprintf(stderr, "request: %.*s\nfast: %s\nslow: %s\n", (int) len,
                    req, fast.data, rs == LLM_OK ? slow.data : err.message);
            fail();
        }

        t_compact(fast.data);

        /* and through the adapter, as the glue calls it */
        assert_int_equal(llm_request_build(&t.call, &r, &err), LLM_OK);
        assert_string_equal(r.body.data, fast.data);
        llm_http_req_free(&r);

    } else {
        assert_int_equal(rc, LLM_DECLINED);
        assert_null(fast.data);
    }

    llm_buf_free(&fast);
    llm_buf_free(&slow);
    t_teardown(&t);
}


static void
t_request(const char *req, const char *defaults, llm_endpoint_e endpoint,
    int expect)
{
    t_request_len(LLM_PROVIDER_OPENAI, req, strlen(req), defaults, endpoint,
                  expect);
}


static const char  t_bench_body[] =
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":"
    "\"You are a helpful assistant. Answer concisely and accurately, and "
    "say so when you are unsure.\"},{\"role\":\"user\",\"content\":"
    "\"Summarize the main differences between TCP and UDP in three short "
    "bullet points for a beginner.\"}],\"temperature\":0.7,"
    "\"max_tokens\":256}";

static const char  t_bench_stream_body[] =
    "{\"model\":\"gpt-4o-stream\",\"stream\":true,\"messages\":[{\"role\":"
    "\"system\",\"content\":\"You are a helpful assistant.\"},"
    "{\"role\":\"user\",\"content\":\"Summarize TCP and UDP.\"}],"
    "\"temperature\":0.7,\"max_tokens\":256}";


/* the requests of test_openai.c and the bench, and their variations */
static const char  *t_requests[] = {
    t_bench_body,
    t_bench_stream_body,
    "{\"model\":\"gpt-mini\",\"messages\":["
    "{\"role\":\"developer\",\"content\":\"Answer in one word.\"},"
    "{\"role\":\"user\",\"content\":\"Capital of France?\"}],"
    "\"max_completion_tokens\":16,\"temperature\":0,"
    "\"logprobs\":true,\"user\":\"u-1\"}",
    "{\"model\":\"local\",\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"model\":\"gpt\",\"stream\":true,\"stream_options\":"
    "{\"include_usage\":false,\"include_obfuscation\":false},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    /* stream_options in every shape */
    "{\"model\":\"m\",\"stream\":true,\"stream_options\":{},"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"stream_options\":{\"include_usage\":true},\"model\":\"m\","
    "\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"stream_options\":null,\"model\":\"m\",\"stream\":true,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}],\"stream_options\":false}",
    "{\"model\":\"m\",\"stream\":true,\"stream_options\":[1],"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1}",
    "{\"model\":\"m\",\"stream\":false,\"stream_options\":7,"
    "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
    "{\"model\":\"m\",\"stream\":null,\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}",
    /* whitespace, escapes, numbers cJSON prints otherwise */
    "{\n  \"model\" : \"m\",\n  \"messages\" : [ { \"role\" : \"user\" ,"
    " \"content\" : \"a \\\"b\\\" \\n \\u00e9 \\ud83d\\ude00 \\/\" } ] ,\n"
    "  \"temperature\" : 1.0 , \"top_p\" : 1e-1 , \"seed\" : -0 ,"
    " \"max_tokens\" : 12345678901234567890, \"x\": 1E2 \n}\n",
    "\t{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\""
    "}]} trailing bytes cJSON ignores",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
    "[{\"type\":\"text\",\"text\":\"x\"},{\"type\":\"image_url\","
    "\"image_url\":{\"url\":\"data:image/png;base64,AAAA\"}}]}],"
    "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\","
    "\"parameters\":{\"type\":\"object\",\"properties\":{}}}}],"
    "\"tool_choice\":\"auto\",\"response_format\":{\"type\":\"json_object\"},"
    "\"metadata\":{\"a\":\"b\"},\"logit_bias\":{\"50256\":-100}}",
    "{\"model\":\"\\u006d\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"hi\"}]}",
    /* nested duplicates are relayed as they are, by both paths */
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\","
    "\"content\":\"b\"}]}",
    /* embeddings-shaped, chat endpoint */
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"\"}],"
    "\"user\":\"\"}",
};


/* what the fast path declines */
static const char  *t_requests_slow[] = {
    /* duplicate and escaped top-level keys */
    "{\"model\":\"m\",\"model\":\"n\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}",
    "{\"mod\\u0065l\":\"m\",\"model\":\"m\",\"messages\":[{\"role\":"
    "\"user\",\"content\":\"hi\"}]}",
    /* cJSON reads these, but not as they are written */
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"a\\u0000b\"}]}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"tab\there\"}]}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"temperature\":01}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"temperature\":1.}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"temperature\":1e999}",
    "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
    "\"max_tokens\":1e305}",
    "\xef\xbb\xbf{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}",
    "\x01{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":"
    "\"hi\"}]}",
    /* stream_options with a duplicate inside */
    "{\"model\":\"m\",\"stream\":true,\"stream_options\":{\"include_usage\":"
    "false,\"include_usage\":false},\"messages\":[{\"role\":\"user\","
    "\"content\":\"hi\"}]}",
};


static void
test_requests(void **state)
{
    int          i, k;
    char        *big;
    size_t       n;
    llm_buf_t    b;

    static const char  *defaults[] = {
        NULL,
        "{}",
        "{\"temperature\":0.2,\"top_p\":0.5,\"user\":\"u \\\"q\\\"\","
        "\"stop\":[\"\\n\",\"END\"],\"metadata\":{\"team\":\"x\"},"
        "\"max_tokens\":1e3,\"model\":\"ignored\",\"stream\":true}",
        "{\"weird \\\"key\\\"\\n\":1,\"seed\":-1.5e-7,\"n\":null}",
    };

    for (k = 0; k < (int) (sizeof(defaults) / sizeof(defaults[0])); k++) {
        for (i = 0; i < (int) (sizeof(t_requests) / sizeof(t_requests[0]));
             i++)
        {
            t_request(t_requests[i], defaults[k], LLM_ENDPOINT_CHAT,
                      T_FAST);
        }

        for (i = 0;
             i < (int) (sizeof(t_requests_slow) / sizeof(t_requests_slow[0]));
             i++)
        {
            t_request(t_requests_slow[i], defaults[k], LLM_ENDPOINT_CHAT,
                      T_SLOW);
        }

        t_request("{\"model\":\"embed\",\"input\":[\"a\",\"b\"],"
                  "\"encoding_format\":\"base64\",\"dimensions\":256}",
                  defaults[k], LLM_ENDPOINT_EMBEDDINGS, T_FAST);

        /* "stream" means nothing to embeddings */
        t_request("{\"model\":\"embed\",\"input\":\"x\",\"stream\":true,"
                  "\"stream_options\":null}", defaults[k],
                  LLM_ENDPOINT_EMBEDDINGS, T_FAST);
    }

    /* defaults that go through the cJSON path */
    t_request(t_bench_stream_body, "{\"stream_options\":{\"a\":1}}",
              LLM_ENDPOINT_CHAT, T_SLOW);
    t_request(t_bench_body, "{\"stream_options\":{\"a\":1}}",
              LLM_ENDPOINT_CHAT, T_FAST);

    /* a default given twice: the first wins, as in the cJSON path */
    {
        t_ctx_t         t;
        llm_buf_t       fast, slow;
        llm_error_t     err;

        t_setup(&t, LLM_PROVIDER_OPENAI, t_bench_body, strlen(t_bench_body),
                "{}", LLM_ENDPOINT_CHAT);
        cJSON_AddNumberToObject(t.dep.defaults, "top_p", 0.1);
        cJSON_AddNumberToObject(t.dep.defaults, "top_p", 0.9);
        cJSON_AddItemToArray(t.dep.defaults, cJSON_CreateNull());

        memset(&fast, 0, sizeof(llm_buf_t));
        memset(&slow, 0, sizeof(llm_buf_t));
        assert_int_equal(llm_openai_fast_request(&t.call, &fast), LLM_OK);
        assert_int_equal(llm_openai_request_tree(&t.call, &slow, &err),
                         LLM_OK);
        assert_string_equal(fast.data, slow.data);
        assert_non_null(strstr(fast.data, "\"top_p\":0.1}"));

        llm_buf_free(&fast);
        llm_buf_free(&slow);
        t_teardown(&t);
    }

    /* other providers, no raw body, or raw body and tree that differ */
    t_request_len(LLM_PROVIDER_MISTRAL, t_bench_body, strlen(t_bench_body),
                  NULL, LLM_ENDPOINT_CHAT, T_SLOW);
    t_request_len(LLM_PROVIDER_GROQ, t_bench_body, strlen(t_bench_body),
                  NULL, LLM_ENDPOINT_CHAT, T_SLOW);

    {
        t_ctx_t     t;
        llm_buf_t   fast;

        memset(&fast, 0, sizeof(llm_buf_t));

        t_setup(&t, LLM_PROVIDER_OPENAI, t_bench_body, strlen(t_bench_body),
                NULL, LLM_ENDPOINT_CHAT);
        t.call.body = NULL;
        assert_int_equal(llm_openai_fast_request(&t.call, &fast),
                         LLM_DECLINED);
        t.call.body = "{\"model\":\"m\"}";
        t.call.body_len = strlen(t.call.body);
        assert_int_equal(llm_openai_fast_request(&t.call, &fast),
                         LLM_DECLINED);
        assert_null(fast.data);
        t_teardown(&t);
    }

    /* more members than the scanner holds */
    memset(&b, 0, sizeof(llm_buf_t));
    llm_buf_appends(&b, "{\"model\":\"m\",\"messages\":[{\"role\":\"user\","
                    "\"content\":\"hi\"}]");

    for (n = 0; n < LLM_JSON_MAX_MEMBERS; n++) {
        llm_buf_printf(&b, ",\"p%zu\":%zu", n, n);
    }

    llm_buf_appends(&b, "}");
    t_request_len(LLM_PROVIDER_OPENAI, b.data, b.len, NULL,
                  LLM_ENDPOINT_CHAT, T_SLOW);
    llm_buf_free(&b);

    /* a long conversation */
    memset(&b, 0, sizeof(llm_buf_t));
    llm_buf_appends(&b, "{\"model\":\"m\",\"stream\":true,\"messages\":[");

    for (n = 0; n < 500; n++) {
        llm_buf_printf(&b, "%s{\"role\":\"%s\",\"content\":\"turn %zu: "
                       "\\\"quoted\\\" \\u00e9 text\"}", n ? "," : "",
                       n % 2 ? "assistant" : "user", n);
    }

    llm_buf_appends(&b, "]}");
    big = strdup(b.data);
    t_request(big, NULL, LLM_ENDPOINT_CHAT, T_FAST);
    free(big);
    llm_buf_free(&b);
}


static char *
t_read(const char *name)
{
    char    path[512], *data;
    long    n;
    FILE   *f;
    size_t  dir;

    /* the corpus sits beside tests/, wherever the build ran from */
    dir = strrchr(__FILE__, '/') ? (size_t) (strrchr(__FILE__, '/')
                                             - __FILE__ + 1)
                                 : 0;

    snprintf(path, sizeof(path), "%.*s../fuzz/corpus/openai/%s", (int) dir,
             __FILE__, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        fail();
    }

    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);

    data = malloc(n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, n, f), (size_t) n);
    data[n] = '\0';
    fclose(f);

    return data;
}


static void
test_requests_corpus(void **state)
{
    char  *s;

    s = t_read("request.json");
    t_request(s, NULL, LLM_ENDPOINT_CHAT, T_FAST);
    t_request(s, "{\"temperature\":1}", LLM_ENDPOINT_CHAT, T_FAST);
    free(s);

    s = t_read("embed_request.json");
    t_request(s, NULL, LLM_ENDPOINT_EMBEDDINGS, T_EITHER);
    free(s);
}


/*
 * responses
 */


static void
t_response_p(llm_provider_e provider, const char *body, size_t len,
    llm_endpoint_e endpoint, int expect)
{
    int           rc, rs;
    t_ctx_t       t;
    llm_buf_t     fast, slow;
    llm_usage_t   fu, su;
    llm_error_t   err;

    t_setup(&t, provider, NULL, 0, NULL, endpoint);

    memset(&fast, 0, sizeof(llm_buf_t));
    memset(&slow, 0, sizeof(llm_buf_t));
    memset(&fu, 0x5a, sizeof(llm_usage_t));

    rc = llm_openai_fast_response(&t.call, body, len, &fast, &fu);
    rs = llm_openai_response_tree(&t.call, body, len, &slow, &su, &err);

    t_expect(rc, expect, "response", body, len);

    if (rc == LLM_OK) {
        if (rs != LLM_OK || !t_json_same(fast.data, slow.data)
            || memcmp(&fu, &su, sizeof(llm_usage_t)) != 0)
        {
            fprintf(stderr, "response: %.*s\nfast: %s\nslow: %s\n"
                    "usage: %lld %lld %lld %lld %lld %lld %d / "
                    "%lld %lld %lld %lld %lld %lld %d\n", (int) len, body,
                    fast.data, rs == LLM_OK ? slow.data : err.message,
                    fu.prompt_tokens, fu.completion_tokens, fu.total_tokens,
                    fu.cached_tokens, fu.cache_write_tokens,
                    fu.reasoning_tokens, fu.present,
                    su.prompt_tokens, su.completion_tokens, su.total_tokens,
                    su.cached_tokens, su.cache_write_tokens,
                    su.reasoning_tokens, su.present);
            fail();
        }

        t_compact(fast.data);

    } else {
        /* declined: nothing written, usage cleared */
        assert_int_equal(rc, LLM_DECLINED);
        assert_null(fast.data);
        assert_int_equal(fu.present, 0);
        assert_int_equal(fu.prompt_tokens, 0);
    }

    llm_buf_free(&fast);
    llm_buf_free(&slow);
    t_teardown(&t);
}


static void
t_response(const char *body, llm_endpoint_e endpoint, int expect)
{
    t_response_p(LLM_PROVIDER_OPENAI, body, strlen(body), endpoint, expect);
}


static const char  t_bench_response[] =
    "{\"id\":\"chatcmpl-B9mXq2Lw7RkT4yHn8VcP1aZs0Df3\",\"object\":"
    "\"chat.completion\",\"created\":1732838400,\"model\":"
    "\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":\"- TCP: connection-oriented, "
    "reliable, ordered.\\n- UDP: connectionless, no delivery guarantees."
    "\\n- UDP suits real-time traffic.\",\"refusal\":null},\"logprobs\":"
    "null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":41,"
    "\"completion_tokens\":38,\"total_tokens\":79},\"system_fingerprint\":"
    "\"fp_a7d06e42a7\"}";


static const char  *t_responses[] = {
    t_bench_response,
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
    /* keys added, unknown ones kept, usage that is not one */
    "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"x\",\"extra\":1},\"finish_reason\":\"length\"},7],"
    "\"usage\":\"bogus\"}",
    /* the way api.openai.com formats it */
    "{\n  \"id\": \"chatcmpl-Aa1\",\n  \"object\": \"chat.completion\",\n"
    "  \"created\": 1735689600,\n  \"model\": \"gpt-4o-mini-2024-07-18\",\n"
    "  \"choices\": [\n    {\n      \"index\": 0,\n      \"message\": {\n"
    "        \"role\": \"assistant\",\n        \"content\": \"Hello! How "
    "can I help?\",\n        \"refusal\": null,\n"
    "        \"annotations\": []\n      },\n      \"logprobs\": null,\n"
    "      \"finish_reason\": \"stop\"\n    }\n  ],\n  \"usage\": {\n"
    "    \"prompt_tokens\": 9,\n    \"completion_tokens\": 9,\n"
    "    \"total_tokens\": 18,\n    \"prompt_tokens_details\": {\n"
    "      \"cached_tokens\": 0,\n      \"audio_tokens\": 0\n    },\n"
    "    \"completion_tokens_details\": {\n      \"reasoning_tokens\": 0,\n"
    "      \"audio_tokens\": 0\n    }\n  },\n  \"service_tier\": "
    "\"default\",\n  \"system_fingerprint\": \"fp_b8bc95a0ac\"\n}\n",
    /* tool calls: "" content with calls becomes null */
    "{\"id\":\"c\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_1\","
    "\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":"
    "\"{\\\"a\\\": 1}\"}}]},\"finish_reason\":\"tool_calls\"}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\",\"tool_calls\":[]}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"\",\"tool_calls\":{}}}]}",
    "{\"choices\":[{\"message\":{\"content\":null,\"tool_calls\":[1]}}]}",
    "{\"choices\":[{\"message\":{\"role\":\"assistant\"}}]}",
    "{\"choices\":[{\"message\":{\"refusal\":\"no\"},\"logprobs\":{"
    "\"content\":[]}}]}",
    "{\"choices\":[{\"message\":\"text\"},{\"message\":null},{},[],null]}",
    "{\"choices\":[]}",
    "{\"choices\":[],\"id\":7,\"object\":null,\"created\":\"x\","
    "\"model\":[]}",
    /* usage in every shape llm_openai_usage() reads */
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":3,"
    "\"total_tokens\":99,\"num_cached_tokens\":4}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":8,\"prompt_token_details\":"
    "{\"cached_tokens\":5,\"cache_write_tokens\":2}}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens_details\":7,"
    "\"prompt_token_details\":{\"cached_tokens\":5}}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":"
    "0},\"num_cached_tokens\":3,\"completion_tokens_details\":"
    "{\"reasoning_tokens\":2.9}}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":"
    "1e16,\"total_tokens\":\"3\",\"cached_tokens\":true}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":999999999999999,"
    "\"completion_tokens\":1000000000000000,\"total_tokens\":1e15}}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":1.5e2,"
    "\"completion_tokens\":-0,\"prompt_tokens\":7}}",
    "{\"choices\":[],\"usage\":{}}",
    "{\"choices\":[],\"usage\":null}",
    "{\"choices\":[],\"usage\":[1,2]}",
    /* kept as they are for OpenAI */
    "{\"choices\":[{\"finish_reason\":\"model_length\",\"message\":{"
    "\"content\":\"x\"}}],\"x_groq\":{\"id\":\"r\"}}",
    "{\"choices\":[],\"error\":null}",
    "  {\"choices\":[]}  \n  trailing",
    "{\"choices\":[{\"message\":{\"content\":\"\\u00e9\\ud83d\\ude00 "
    "\\\"q\\\"\",\"refusal\":null},\"logprobs\":null}],"
    "\"model\":\"\\u0067pt\"}",
};


static const char  *t_responses_slow[] = {
    "", "not json", "[1,2]", "{\"id\":\"x\"}", "{\"choices\":{}}",
    "{\"choices\":[", "null", "{\"error\":{\"message\":\"boom\"}}",
    ("{\"choices\":[{\"message\":{\"content\":[{\"type\":\"text\","
     "\"text\":\"a\"}]}}]}"),
    "{\"choices\":[],\"choices\":[]}",
    "{\"choices\":[{\"message\":{\"content\":\"a\",\"content\":\"b\"}}]}",
    "{\"choices\":[{\"logprobs\":null,\"logprobs\":1}]}",
    "{\"choices\":[],\"usage\":{\"prompt_\\u0074okens\":1}}",
    "{\"choices\":[],\"\\u0069d\":\"x\"}",
    "{\"choices\":[{\"message\":{\"content\":\"a\\u0000b\"}}]}",
    "{\"choices\":[{\"message\":{\"content\":\"raw\ttab\"}}]}",
    "{\"choices\":[],\"usage\":{\"prompt_tokens\":1e400}}",
};


static void
test_responses(void **state)
{
    size_t      i, n;
    llm_buf_t   b;

    for (i = 0; i < sizeof(t_responses) / sizeof(t_responses[0]); i++) {
        t_response(t_responses[i], LLM_ENDPOINT_CHAT, T_FAST);
    }

    for (i = 0; i < sizeof(t_responses_slow) / sizeof(t_responses_slow[0]);
         i++)
    {
        t_response(t_responses_slow[i], LLM_ENDPOINT_CHAT, T_SLOW);
    }

    /* Mistral and Groq keep their full mapping */
    t_response_p(LLM_PROVIDER_MISTRAL, t_bench_response,
                 strlen(t_bench_response), LLM_ENDPOINT_CHAT, T_SLOW);
    t_response_p(LLM_PROVIDER_GROQ, t_bench_response,
                 strlen(t_bench_response), LLM_ENDPOINT_CHAT, T_SLOW);

    /* embeddings */
    t_response("{\"id\":\"e1\",\"object\":\"list\",\"model\":\"x\","
               "\"data\":[{\"object\":\"embedding\",\"index\":0,"
               "\"embedding\":[0.1,-0.2,1.5e-05]}],\"usage\":{"
               "\"prompt_tokens\":8,\"total_tokens\":8}}",
               LLM_ENDPOINT_EMBEDDINGS, T_FAST);
    t_response("{\"object\":\"list\",\"data\":[]}", LLM_ENDPOINT_EMBEDDINGS,
               T_FAST);
    t_response("{\"object\":1}", LLM_ENDPOINT_EMBEDDINGS, T_SLOW);
    t_response("{\"data\":{}}", LLM_ENDPOINT_EMBEDDINGS, T_SLOW);

    memset(&b, 0, sizeof(llm_buf_t));
    llm_buf_appends(&b, "{\"object\":\"list\",\"data\":[{\"object\":"
                    "\"embedding\",\"index\":0,\"embedding\":[");

    for (n = 0; n < 1536; n++) {
        llm_buf_printf(&b, "%s%.17g", n ? "," : "",
                       (double) ((int) (n * 2654435761u % 20001) - 10000)
                       / 654321.0);
    }

    llm_buf_appends(&b, "]}],\"model\":\"text-embedding-3-small\","
                    "\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5}}");
    t_response_p(LLM_PROVIDER_OPENAI, b.data, b.len, LLM_ENDPOINT_EMBEDDINGS,
                 T_FAST);
    llm_buf_free(&b);
}


static void
test_responses_corpus(void **state)
{
    char  *s;

    s = t_read("response.json");
    t_response(s, LLM_ENDPOINT_CHAT, T_FAST);
    free(s);

    s = t_read("embed_response.json");
    t_response(s, LLM_ENDPOINT_EMBEDDINGS, T_FAST);
    free(s);

    s = t_read("error_422.json");
    t_response(s, LLM_ENDPOINT_CHAT, T_SLOW);
    free(s);

    s = t_read("error_mistral.json");
    t_response(s, LLM_ENDPOINT_CHAT, T_SLOW);
    free(s);
}


/*
 * streams
 */


typedef struct {
    llm_buf_t     out;
    llm_usage_t   usage;
    char          finish_reason[32];
    int           ntools;
    int           flags;
    int           rc;
} t_run_t;


/* mode 0: whole; 1: bytewise; else pieces of a seeded random size */
static void
t_stream_run(const llm_call_t *call, const char *in, size_t len, int slow,
    int mode, t_run_t *r)
{
    int            rc;
    size_t         off, n;
    unsigned       seed;
    llm_stream_t  *s;

    memset(r, 0, sizeof(t_run_t));

    s = llm_stream_new(call);
    assert_non_null(s);

    if (slow) {
        llm_openai_stream_slow(s);
    }

    seed = (unsigned) mode * 2654435761u;
    rc = LLM_OK;

    for (off = 0; off < len && rc == LLM_OK; off += n) {
        if (mode == 0) {
            n = len;

        } else if (mode == 1) {
            n = 1;

        } else {
            seed = seed * 1103515245 + 12345;
            n = 1 + (seed >> 16) % 61;
        }

        if (n > len - off) {
            n = len - off;
        }

        rc = s->adapter->stream_feed(s, in + off, n);

        /* the glue drains as it goes */
        llm_buf_append(&r->out, s->out.data, s->out.len);
        llm_buf_reset(&s->out);
    }

    if (rc == LLM_OK) {
        rc = s->adapter->stream_eof(s);
        llm_buf_append(&r->out, s->out.data, s->out.len);
    }

    llm_buf_append(&r->out, "", 0);

    r->rc = rc;
    r->usage = s->usage;
    memcpy(r->finish_reason, s->finish_reason, sizeof(r->finish_reason));
    r->ntools = s->ntools;
    r->flags = s->started | s->content << 1 | s->finished << 2
               | s->done << 3 | s->failed << 4;

    llm_stream_free(s);
}


/* SSE outputs, event by event, payloads as JSON values */
static int
t_sse_same(const char *a, const char *b)
{
    int          same;
    char        *x, *y, *xs, *ys, *xn, *yn;

    x = strdup(a);
    y = strdup(b);
    same = 1;

    for (xs = x, ys = y; same && *xs && *ys; xs = xn + 2, ys = yn + 2) {
        xn = strstr(xs, "\n\n");
        yn = strstr(ys, "\n\n");

        if (xn == NULL || yn == NULL) {
            same = (xn == yn) && strcmp(xs, ys) == 0;
            break;
        }

        *xn = '\0';
        *yn = '\0';

        if (strncmp(xs, "data: ", 6) != 0 || strncmp(ys, "data: ", 6) != 0) {
            same = strcmp(xs, ys) == 0;

        } else if (xs[6] == '{') {
            same = t_json_same(xs + 6, ys + 6);

            /* compact, as the cJSON path prints it */
            if (same && strchr(xs, '\n')) {
                same = 0;
            }

        } else {
            same = strcmp(xs, ys) == 0;
        }
    }

    if (same && (*xs || *ys)) {
        same = strcmp(xs, ys) == 0;
    }

    free(x);
    free(y);

    return same;
}


static void
t_stream_call(const llm_call_t *call, const char *in, size_t len)
{
    int       mode;
    t_run_t   fast, slow;

    for (mode = 0; mode < 6; mode++) {
        t_stream_run(call, in, len, 0, mode, &fast);
        t_stream_run(call, in, len, 1, mode, &slow);

        if (fast.rc != slow.rc || fast.flags != slow.flags
            || fast.ntools != slow.ntools
            || memcmp(&fast.usage, &slow.usage, sizeof(llm_usage_t)) != 0
            || strcmp(fast.finish_reason, slow.finish_reason) != 0
            || !t_sse_same(fast.out.data, slow.out.data))
        {
            fprintf(stderr, "stream (mode %d, include_usage %d): %.*s\n"
                    "fast: rc %d flags %x ntools %d finish %s usage %lld\n"
                    "%s\nslow: rc %d flags %x ntools %d finish %s usage "
                    "%lld\n%s\n", mode, call->include_usage, (int) len, in,
                    fast.rc, fast.flags, fast.ntools, fast.finish_reason,
                    fast.usage.total_tokens, fast.out.data, slow.rc,
                    slow.flags, slow.ntools, slow.finish_reason,
                    slow.usage.total_tokens, slow.out.data);
            fail();
        }

        llm_buf_free(&fast.out);
        llm_buf_free(&slow.out);
    }
}


static void
t_stream(const char *in, size_t len)
{
    int       usage;
    t_ctx_t   t;

    for (usage = 0; usage < 2; usage++) {
        t_setup(&t, LLM_PROVIDER_OPENAI,
                usage ? T_USAGE_REQ : "{\"stream\":true}",
                usage ? strlen(T_USAGE_REQ) : 15, NULL, LLM_ENDPOINT_CHAT);
        assert_int_equal(t.call.include_usage, usage);

        t_stream_call(&t.call, in, len);
        t_teardown(&t);
    }
}


/* whether the fast path takes one chunk (its payload) on a new stream */
static void
t_chunk(const char *payload, int expect)
{
    int            rc;
    t_ctx_t        t;
    llm_stream_t  *s;

    t_setup(&t, LLM_PROVIDER_OPENAI, "{\"stream\":true}", 15, NULL,
            LLM_ENDPOINT_CHAT);

    s = llm_stream_new(&t.call);
    assert_non_null(s);

    rc = llm_openai_fast_chunk(s, payload, strlen(payload));
    t_expect(rc, expect, "chunk", payload, strlen(payload));

    if (rc != LLM_OK) {
        assert_int_equal(s->out.len, 0);
        assert_int_equal(s->started, 0);
    }

    llm_stream_free(s);
    t_teardown(&t);
}


/* the first chunk: duplicates the fast path need not decline for */
#define T_DUPS  "data: {\"x\":1,\"choices\":[{\"index\":0,\"index\":1,"      \
    "\"delta\":{\"role\":\"assistant\",\"role\":\"user\",\"tool_calls\":"    \
    "[{\"index\":1,\"index\":3}]}}],\"x\":[2],\"system_fingerprint\":"       \
    "\"a\",\"system_fingerprint\":\"b\"}\n\n"


#define T_CHUNK(body)  "data: {\"id\":\"chatcmpl-2\",\"object\":"        \
    "\"chat.completion.chunk\",\"created\":1735689600,\"model\":"          \
    "\"gpt-4o-mini\"," body "}\n\n"


static const char  *t_streams[] = {
    /* test_openai.c's */
    T_CHUNK("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
            "\"content\":\"\"},\"finish_reason\":null}],\"usage\":null")
    T_CHUNK("\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Paris\"},"
            "\"finish_reason\":null}],\"usage\":null")
    T_CHUNK("\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
            "\"stop\"}],\"usage\":null")
    T_CHUNK("\"choices\":[],\"usage\":{\"prompt_tokens\":21,"
            "\"completion_tokens\":1,\"total_tokens\":22}")
    "data: [DONE]\n\n",

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
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":"
    "2,\"function\":{\"arguments\":\"x\"}},{\"index\":-1},{\"index\":2000},"
    "{\"index\":\"1\"},{\"index\":1.9},7]},\"finish_reason\":null}]}\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":null}"
    "\r\n\r\n"
    "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
    "\"created\":1735689600,\"model\":\"gpt-4o\",\"choices\":[],"
    "\"usage\":{\"prompt_tokens\":60,\"completion_tokens\":15,"
    "\"total_tokens\":75}}\r\n\r\n"
    "data: [DONE]\r\n\r\n",

    /* errors, cuts, junk */
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"content\":\"\"},\"finish_reason\":null}]}\n\n"
    "data: {\"error\":{\"message\":\"The server had an error\","
    "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},"
    "\"finish_reason\":null}]}\n\n",

    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Par\"},"
    "\"finish_reason\":null}]}\n\ndata: {\"choi",

    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},"
    "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]",

    "data: not json\n\nevent: x\ndata: [1]\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
    "\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\","
    "\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}}]}\n\n"
    "data: [DONE]\n\n",

    /* an Ollama-like server: no logprobs, no usage, no role first */
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"llama3\",\"system_fingerprint\":"
    "\"fp_ollama\",\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"Hi\"},\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-9\",\"object\":\"chat.completion.chunk\","
    "\"created\":1,\"model\":\"llama3\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"\"},\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n",

    /* two choices, odd ones, a role in another case, reasoning */
    "data: {\"choices\":[7,{\"index\":1,\"delta\":{\"content\":\"b\"}}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"ROLE\":\"assistant\","
    "\"reasoning_content\":\"think\"},\"logprobs\":{\"content\":[]}},"
    "{\"index\":1,\"delta\":{\"content\":\"\",\"tool_calls\":[]},"
    "\"finish_reason\":\"length\"},{\"index\":2,\"delta\":null,"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[{\"delta\":\"x\"}],\"usage\":{\"prompt_tokens\":"
    "3}}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":4,"
    "\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":"
    "2},\"completion_tokens_details\":{\"reasoning_tokens\":1}}}\n\n"
    "data: {\"usage\":{\"prompt_tokens\":6}}\n\n"
    "data: {}\n\n"
    "data: {\"choices\":{}}\n\n"
    "data: [DONE]\n\n",

    /* whitespace in the payload, and a payload on two data lines */
    "data:   { \"choices\" : [ { \"index\" : 0 , \"delta\" : { \"content\" :"
    " \"a b\" } , \"finish_reason\" : null } ] , \"usage\" : null }  \n\n"
    "data: {\"choices\":[{\"index\":0,\n"
    "data: \"delta\":{\"content\":\"c\"}}]}\n\n"
    "data: [DONE]\n\n",

    /* an empty first delta, the finish on a content chunk */
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":null}]}"
    "\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},"
    "\"finish_reason\":\"content_filter\"}]}\n\n"
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"y\"},"
    "\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n",

    /* duplicates of keys neither path reads are relayed, by both */
    T_DUPS
    "data: {\"object\":1,\"choices\":[{\"index\":0,\"delta\":{\"Role\":"
    "1,\"role\":2,\"content\":\"b\",\"x\":1,\"x\":2},\"logprobs\":1,"
    "\"logprobs\":2}],\"object\":2}\n\n"
    "data: [DONE]\n\n",
};


/* what the fast path leaves to cJSON; the stream must still agree */
static const char  *t_streams_slow[] = {
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
    "\"x_groq\":{\"usage\":{\"prompt_tokens\":1}}}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
    "\"error\":null}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
    "\"Usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
    "\"LogProbs\":null}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":[{\"type\":"
    "\"text\",\"text\":\"a\"}]}}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
    "\"finish_reason\":\"st\\u006fp\"}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\","
    "\"content\":\"b\"}}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\\u0000\"}}]}"
    "\n\ndata: [DONE]\n\n",

    /* a key the fast path reads or sets, twice */
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
    "\"choices\":[]}\n\ndata: [DONE]\n\n",
    "data: {\"id\":1,\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"a\"}}],\"id\":2}\n\ndata: [DONE]\n\n",
    "data: {\"created\":1,\"created\":2,\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n",
    "data: {\"model\":1,\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"a\"}}],\"model\":2}\n\ndata: [DONE]\n\n",
    "data: {\"usage\":null,\"choices\":[{\"index\":0,\"delta\":{\"content\":"
    "\"a\"}}],\"usage\":{\"prompt_tokens\":1}}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
    "\"finish_reason\":null,\"finish_reason\":\"stop\"}]}\n\n"
    "data: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},"
    "\"delta\":{}}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[],"
    "\"tool_calls\":[{\"index\":0}]}}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":"
    "\"\",\"reasoning_content\":\"a\"}}]}\n\ndata: [DONE]\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}],"
    "\"uSAGE\":null}\n\ndata: [DONE]\n\n",
};


static llm_buf_t  t_bench_sse;


static void
t_bench_event(const char *delta, const char *finish)
{
    llm_buf_printf(&t_bench_sse, "data: {\"id\":\"chatcmpl-B9mXq2Lw7RkT4yHn8"
                   "VcP1aZs0Df3\",\"object\":\"chat.completion.chunk\","
                   "\"created\":1732838400,\"model\":\"gpt-4o-2024-08-06\","
                   "\"system_fingerprint\":\"fp_a7d06e42a7\",\"choices\":[{"
                   "\"index\":0,\"delta\":%s,\"logprobs\":null,"
                   "\"finish_reason\":%s}]}\n\n", delta, finish);
}


static void
test_streams(void **state)
{
    size_t       i;
    const char  *e;

    memset(&t_bench_sse, 0, sizeof(llm_buf_t));
    t_bench_event("{\"role\":\"assistant\",\"content\":\"\","
                  "\"refusal\":null}", "null");
    t_bench_event("{\"content\":\"- TCP is\"}", "null");
    t_bench_event("{\"content\":\" and reliable.\\n\"}", "null");
    t_bench_event("{}", "\"stop\"");
    llm_buf_appends(&t_bench_sse, "data: [DONE]\n\n");

    t_stream(t_bench_sse.data, t_bench_sse.len);

    for (i = 0; i < sizeof(t_streams) / sizeof(t_streams[0]); i++) {
        t_stream(t_streams[i], strlen(t_streams[i]));
    }

    for (i = 0; i < sizeof(t_streams_slow) / sizeof(t_streams_slow[0]);
         i++)
    {
        t_stream(t_streams_slow[i], strlen(t_streams_slow[i]));

        /* the first event's payload is declined */
        e = t_streams_slow[i] + 6;
        {
            char  *payload = strndup(e, strstr(e, "\n\n") - e);

            t_chunk(payload, T_SLOW);
            free(payload);
        }
    }

    /* the bench's chunks all take the fast path */
    t_chunk("{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":"
            "1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":"
            "{\"content\":\"x\"},\"logprobs\":null,\"finish_reason\":null}]}",
            T_FAST);
    t_chunk("{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":"
            "\"stop\"}]}", T_FAST);
    t_chunk("{\"choices\":[],\"usage\":{\"prompt_tokens\":1}}", T_FAST);
    t_chunk("[1]", T_SLOW);

    /* duplicates of keys not read here: relayed */
    {
        char  *payload = strndup(T_DUPS + 6, sizeof(T_DUPS) - 1 - 6 - 2);

        t_chunk(payload, T_FAST);
        free(payload);
    }

    t_chunk("{\"choices\":[{\"index\":0,\"delta\":{\"rOLE\":1,\"role\":2},"
            "\"logprobs\":null,\"logprobs\":1}],\"object\":1,\"object\":2}",
            T_FAST);
    t_chunk("not json", T_SLOW);

    /* Mistral and Groq streams take the cJSON path, unchanged */
    {
        t_ctx_t        t;
        llm_stream_t  *s;

        t_setup(&t, LLM_PROVIDER_MISTRAL, "{\"stream\":true}", 15, NULL,
                LLM_ENDPOINT_CHAT);
        s = llm_stream_new(&t.call);
        assert_int_equal(s->adapter->stream_feed(s, t_bench_sse.data,
                                                 t_bench_sse.len), LLM_OK);
        assert_int_equal(s->done, 1);
        llm_stream_free(s);
        t_teardown(&t);
    }

    llm_buf_free(&t_bench_sse);
}


/*
 * Seeded mutations of the inputs above: byte changes, insertions and
 * cuts.  Mostly they break the JSON (both paths refuse, or the fast one
 * declines); where they do not, the two paths must agree.
 */
static void
t_mutate(const char *in, size_t len, unsigned *seed, llm_buf_t *out)
{
    int      k, n;
    size_t   pos;

    static const char  bytes[] = "{}[]:,\"\\ 0123456789-.eEtrufalsn\t\n"
                                 "\x01\xc3\xa9xyzDONE";

    llm_buf_reset(out);
    llm_buf_append(out, in, len);

    *seed = *seed * 1103515245 + 12345;
    n = 1 + (*seed >> 16) % 3;

    for (k = 0; k < n && out->len; k++) {
        *seed = *seed * 1103515245 + 12345;
        pos = (*seed >> 8) % out->len;
        *seed = *seed * 1103515245 + 12345;

        switch ((*seed >> 16) % 3) {

        case 0:
            out->data[pos] = bytes[(*seed >> 20) % (sizeof(bytes) - 1)];
            break;

        case 1:
            llm_buf_append(out, "", 0);
            memmove(out->data + pos + 1, out->data + pos, out->len - pos);
            out->data[pos] = bytes[(*seed >> 20) % (sizeof(bytes) - 1)];
            out->len++;
            break;

        default:
            memmove(out->data + pos, out->data + pos + 1, out->len - pos - 1);
            out->len--;
        }
    }

    llm_buf_append(out, "", 0);
}


static void
test_mutations(void **state)
{
    int          i;
    size_t       k;
    unsigned     seed;
    llm_buf_t    m;
    t_ctx_t      t;

    memset(&m, 0, sizeof(llm_buf_t));
    seed = 4242;

    for (i = 0; i < 3000; i++) {
        k = i % (sizeof(t_requests) / sizeof(t_requests[0]));
        t_mutate(t_requests[k], strlen(t_requests[k]), &seed, &m);
        t_request_len(LLM_PROVIDER_OPENAI, m.data, m.len,
                      i % 3 ? NULL : "{\"top_p\":0.5}", LLM_ENDPOINT_CHAT,
                      T_EITHER);

        k = i % (sizeof(t_responses) / sizeof(t_responses[0]));
        t_mutate(t_responses[k], strlen(t_responses[k]), &seed, &m);
        t_response_p(LLM_PROVIDER_OPENAI, m.data, m.len, LLM_ENDPOINT_CHAT,
                     T_EITHER);
    }

    for (i = 0; i < 600; i++) {
        k = i % (sizeof(t_streams) / sizeof(t_streams[0]));
        t_mutate(t_streams[k], strlen(t_streams[k]), &seed, &m);

        t_setup(&t, LLM_PROVIDER_OPENAI, T_USAGE_REQ, strlen(T_USAGE_REQ),
                NULL, LLM_ENDPOINT_CHAT);
        t.call.include_usage = i % 2;
        t_stream_call(&t.call, m.data, m.len);
        t_teardown(&t);
    }

    llm_buf_free(&m);
}


static void
test_taken(void **state)
{
    /* the fast paths ran, and often: the comparisons above mean something */
    assert_true(t_fast_taken > 100);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests),
        cmocka_unit_test(test_requests_corpus),
        cmocka_unit_test(test_responses),
        cmocka_unit_test(test_responses_corpus),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_taken),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
