/*
 * Copyright (C) ngx_llm authors
 *
 * The adapter hot path of one gateway request, in a loop, on the inputs
 * of bench/run.sh: the client body of bench/chat.lua, the mock's
 * 477-byte chat.completion and its 10-chunk SSE stream.  Run it under
 * callgrind for instruction counts (deterministic) or bare for ns/op;
 * bench/micro/run.sh does both.
 *
 *   micro PIECE ITERATIONS      one piece, timed; prints ns/op
 *   micro check                 prints what each piece produces
 *
 * Each piece is warmed up once outside micro_loop(), so that one-time
 * costs (OpenSSL's first RAND_bytes, lazy seeding) stay out of a
 * callgrind run made with --toggle-collect=micro_loop.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm_adapter.h"
#if (MICRO_SCAN)
#include "llm_request_scan.h"
#endif


#define MICRO_ID       "chatcmpl-B9mXq2Lw7RkT4yHn8VcP1aZs0Df3"
#define MICRO_PREFIX   "{\"id\":\"" MICRO_ID "\",\"object\":"


typedef void (*micro_piece_pt)(void);

typedef struct {
    const char      *name;
    micro_piece_pt   run;
    const char      *what;
} micro_piece_t;


static void micro_inputs(void);
static void micro_sse_event(const char *delta, const char *finish);
static void micro_call(llm_call_t *call, const char *body, size_t len,
    cJSON *req);
static void micro_parse(void);
static void micro_build_one(const llm_call_t *call);
static void micro_build(void);
static void micro_build_stream(void);
static void micro_mint(void);
static void micro_response(void);
static void micro_stream(void);
static void micro_request(void);
static void micro_loop(micro_piece_pt run, long n);
static void micro_check(void);


static const char  micro_body[] =
    "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"system\",\"content\":"
    "\"You are a helpful assistant. Answer concisely and accurately, and "
    "say so when you are unsure.\"},{\"role\":\"user\",\"content\":"
    "\"Summarize the main differences between TCP and UDP in three short "
    "bullet points for a beginner.\"}],\"temperature\":0.7,"
    "\"max_tokens\":256}";

static const char  micro_body_stream[] =
    "{\"model\":\"gpt-4o-stream\",\"stream\":true,\"messages\":[{\"role\":"
    "\"system\",\"content\":\"You are a helpful assistant. Answer "
    "concisely and accurately, and say so when you are unsure.\"},"
    "{\"role\":\"user\",\"content\":\"Summarize the main differences "
    "between TCP and UDP in three short bullet points for a beginner.\"}],"
    "\"temperature\":0.7,\"max_tokens\":256}";

/* MOCK_JSON of bench/run.sh, as nginx sends it: 477 bytes */
static const char  micro_resp[] =
    MICRO_PREFIX "\"chat.completion\",\"created\":1732838400,"
    "\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":\"- TCP: connection-oriented, "
    "reliable, ordered.\\n- UDP: connectionless, no delivery guarantees."
    "\\n- UDP suits real-time traffic.\",\"refusal\":null},\"logprobs\":"
    "null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":41,"
    "\"completion_tokens\":38,\"total_tokens\":79},\"system_fingerprint\":"
    "\"fp_a7d06e42a7\"}";

static llm_buf_t          micro_sse;        /* MOCK_SSE: 2721 bytes */
static llm_deployment_t   micro_dep;
static llm_deployment_t   micro_dep_stream;
static cJSON             *micro_req;
static cJSON             *micro_req_stream;
static llm_call_t         micro_c;
static llm_call_t         micro_c_stream;
static volatile size_t    micro_sink;


static const micro_piece_t  micro_pieces[] = {
    { "parse", micro_parse,
      "glue: the client body checked (scanner, or cJSON parse + validate)" },
    { "build", micro_build,
      "llm_request_build, non-streaming (+ llm_http_req_free)" },
    { "build_stream", micro_build_stream,
      "llm_request_build, streaming" },
    { "mint", micro_mint, "llm_mint_id" },
    { "response", micro_response,
      "parse_response of the 477-byte chat.completion" },
    { "stream", micro_stream,
      "stream new + feed 10 chunks + [DONE] + eof + free" },
    { "request", micro_request,
      "one non-streaming request: check, mint, build, response" },
    { NULL, NULL, NULL }
};


static void
micro_sse_event(const char *delta, const char *finish)
{
    llm_buf_printf(&micro_sse, "data: " MICRO_PREFIX
                   "\"chat.completion.chunk\",\"created\":1732838400,"
                   "\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":"
                   "\"fp_a7d06e42a7\",\"choices\":[{\"index\":0,\"delta\":"
                   "%s,\"logprobs\":null,\"finish_reason\":%s}]}\n\n",
                   delta, finish);
}


static void
micro_inputs(void)
{
    char         delta[128];
    size_t       i;

    static const char  *words[] = {
        "- TCP is", " connection-oriented", " and reliable.\\n", "- UDP is",
        " connectionless", " and faster.\\n", "- Use UDP for",
        " real-time traffic."
    };

    micro_sse_event("{\"role\":\"assistant\",\"content\":\"\","
                    "\"refusal\":null}", "null");

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        snprintf(delta, sizeof(delta), "{\"content\":\"%s\"}", words[i]);
        micro_sse_event(delta, "null");
    }

    micro_sse_event("{}", "\"stop\"");
    llm_buf_appends(&micro_sse, "data: [DONE]\n\n");

    /* the same bytes as bench/run.sh's mock, or the figures mean little */
    if (sizeof(micro_resp) - 1 != 477 || micro_sse.len != 2721) {
        fprintf(stderr, "micro: inputs are %zu and %zu bytes, expected "
                "477 and 2721\n", sizeof(micro_resp) - 1, micro_sse.len);
        exit(1);
    }

    /* bench/run.sh's models.yaml */
    micro_dep.model_name = (char *) "gpt-4o";
    micro_dep.model = (char *) "openai/gpt-4o";
    micro_dep.prefix = (char *) "openai";
    micro_dep.model_id = (char *) "gpt-4o";
    micro_dep.provider = LLM_PROVIDER_OPENAI;
    micro_dep.api_key = (char *) "sk-bench";
#ifdef LLM_DEPLOYMENT_BEARER
    micro_dep.bearer = (char *) "Bearer sk-bench";
#endif
    micro_dep.base.host = (char *) "127.0.0.1";
    micro_dep.base.port = 8080;
    micro_dep.base.path = (char *) "/v1";
    micro_dep.drop_params = -1;

    micro_dep_stream = micro_dep;
    micro_dep_stream.model_name = (char *) "gpt-4o-stream";
    micro_dep_stream.base.path = (char *) "/stream/v1";

    micro_req = cJSON_Parse(micro_body);
    micro_req_stream = cJSON_Parse(micro_body_stream);

    micro_call(&micro_c, micro_body, sizeof(micro_body) - 1, micro_req);
    micro_call(&micro_c_stream, micro_body_stream,
               sizeof(micro_body_stream) - 1, micro_req_stream);
    micro_c_stream.dep = &micro_dep_stream;
}


/* what ngx_http_llm_init_call() and ngx_http_llm_build_request() set */
static void
micro_call(llm_call_t *call, const char *body, size_t len, cJSON *req)
{
    const cJSON  *v, *opts;

    memset(call, 0, sizeof(llm_call_t));

    call->endpoint = LLM_ENDPOINT_CHAT;
    call->dep = &micro_dep;
    call->req = req;
    call->model_name = cJSON_GetObjectItemCaseSensitive(req,
                                                        "model")->valuestring;

    v = cJSON_GetObjectItemCaseSensitive(req, "stream");
    call->stream = cJSON_IsTrue(v);

    opts = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
    v = cJSON_GetObjectItemCaseSensitive(opts, "include_usage");
    call->include_usage = call->stream && cJSON_IsTrue(v);

    llm_mint_id(call->id, sizeof(call->id), "chatcmpl-");
    call->created = 1732838400;
    call->now = 1732838400;
    call->drop_params = 0;

#if (MICRO_RAW)
    call->body = body;
    call->body_len = len;
#else
    (void) body;
    (void) len;
#endif
}


static void
micro_parse(void)
{
#if (MICRO_SCAN)
    llm_req_scan_t  s;

    /* what ngx_http_llm_start() does: the scanner, no tree */
    if (llm_request_scan(micro_body, sizeof(micro_body) - 1,
                         LLM_ENDPOINT_CHAT, &s)
        != LLM_OK)
    {
        abort();
    }

    micro_sink += s.model_len;
#else
    cJSON        *req;
    llm_error_t   err;

    req = cJSON_ParseWithLength(micro_body, sizeof(micro_body) - 1);

    if (llm_request_validate(req, LLM_ENDPOINT_CHAT, &err) != LLM_OK) {
        abort();
    }

    micro_sink += cJSON_GetObjectItemCaseSensitive(req, "model") != NULL;
    cJSON_Delete(req);
#endif
}


static void
micro_build_one(const llm_call_t *call)
{
    llm_error_t     err;
    llm_http_req_t  r;

    if (llm_request_build(call, &r, &err) != LLM_OK) {
        abort();
    }

    micro_sink += r.body.len;
    llm_http_req_free(&r);
}


static void
micro_build(void)
{
    micro_build_one(&micro_c);
}


static void
micro_build_stream(void)
{
    micro_build_one(&micro_c_stream);
}


static void
micro_mint(void)
{
    char  id[64];

    llm_mint_id(id, sizeof(id), "chatcmpl-");
    micro_sink += (unsigned char) id[20];
}


static void
micro_response(void)
{
    llm_buf_t             out;
    llm_usage_t           u;
    llm_error_t           err;
    const llm_adapter_t  *a;

    a = llm_adapter_get(LLM_PROVIDER_OPENAI);
    memset(&out, 0, sizeof(llm_buf_t));

    if (a->parse_response(&micro_c, micro_resp, sizeof(micro_resp) - 1, &out,
                          &u, &err)
        != LLM_OK)
    {
        abort();
    }

    micro_sink += out.len + u.total_tokens;
    llm_buf_free(&out);
}


static void
micro_stream(void)
{
    llm_stream_t  *s;

    s = llm_stream_new(&micro_c_stream);

    if (s == NULL
        || s->adapter->stream_feed(s, micro_sse.data, micro_sse.len)
           != LLM_OK
        || s->adapter->stream_eof(s) != LLM_OK
        || !s->done || s->failed)
    {
        abort();
    }

    micro_sink += s->out.len;
    llm_stream_free(s);
}


/* the adapter work of one non-streaming request, as the glue does it */
static void
micro_request(void)
{
    llm_call_t        call;
#if (MICRO_SCAN)
    llm_req_scan_t    s;
    llm_call_lazy_t   lazy;

    if (llm_request_scan(micro_body, sizeof(micro_body) - 1,
                         LLM_ENDPOINT_CHAT, &s)
        != LLM_OK)
    {
        abort();
    }

    /* micro_call() reads the tree of the setup; the glue's fields are set */
    micro_call(&call, micro_body, sizeof(micro_body) - 1, micro_req);
    call.req = NULL;
    call.root = &s.root;
    lazy.tree = NULL;
    call.lazy = &lazy;

    micro_build_one(&call);
    micro_response();

    cJSON_Delete(lazy.tree);
#else
    cJSON        *req;
    llm_error_t   err;

    req = cJSON_ParseWithLength(micro_body, sizeof(micro_body) - 1);

    if (llm_request_validate(req, LLM_ENDPOINT_CHAT, &err) != LLM_OK) {
        abort();
    }

    micro_call(&call, micro_body, sizeof(micro_body) - 1, req);
    micro_build_one(&call);
    micro_response();

    cJSON_Delete(req);
#endif
}


/* callgrind --toggle-collect=micro_loop counts only this */
__attribute__((noinline)) static void
micro_loop(micro_piece_pt run, long n)
{
    long  i;

    for (i = 0; i < n; i++) {
        run();
    }
}


static void
micro_check(void)
{
    llm_buf_t             out;
    llm_usage_t           u;
    llm_error_t           err;
    llm_stream_t         *s;
    llm_http_req_t        r;
    const llm_adapter_t  *a;

    if (llm_request_build(&micro_c, &r, &err) != LLM_OK) {
        abort();
    }

    printf("build:        %s\n", r.body.data);
    llm_http_req_free(&r);

    if (llm_request_build(&micro_c_stream, &r, &err) != LLM_OK) {
        abort();
    }

    printf("build_stream: %s\n", r.body.data);
    llm_http_req_free(&r);

    a = llm_adapter_get(LLM_PROVIDER_OPENAI);
    memset(&out, 0, sizeof(llm_buf_t));

    if (a->parse_response(&micro_c, micro_resp, sizeof(micro_resp) - 1, &out,
                          &u, &err)
        != LLM_OK)
    {
        abort();
    }

    printf("response:     %s\nusage:        %lld %lld %lld\n", out.data,
           u.prompt_tokens, u.completion_tokens, u.total_tokens);
    llm_buf_free(&out);

    s = llm_stream_new(&micro_c_stream);
    s->adapter->stream_feed(s, micro_sse.data, micro_sse.len);
    s->adapter->stream_eof(s);
    printf("stream:\n%.*s", (int) s->out.len, s->out.data);
    llm_stream_free(s);
}


int
main(int argc, char **argv)
{
    long                  n, k;
    double                ns, best;
    struct timespec       t0, t1;
    const micro_piece_t  *p;

    micro_inputs();

    if (argc == 2 && strcmp(argv[1], "check") == 0) {
        micro_check();
        return 0;
    }

    if (argc != 3) {
        fprintf(stderr, "usage: micro PIECE ITERATIONS | micro check\n");
        for (p = micro_pieces; p->name; p++) {
            fprintf(stderr, "  %-13s %s\n", p->name, p->what);
        }
        return 2;
    }

    for (p = micro_pieces; p->name; p++) {
        if (strcmp(p->name, argv[1]) == 0) {
            break;
        }
    }

    if (p->name == NULL) {
        fprintf(stderr, "micro: unknown piece \"%s\"\n", argv[1]);
        return 2;
    }

    n = atol(argv[2]);
    if (n <= 0) {
        n = 1;
    }

    /* warm-up: lazy initialisations happen here, not in micro_loop */
    p->run();

    /* the best of 5 runs: the least disturbed by other work */
    best = 0;

    for (k = 0; k < 5; k++) {
        clock_gettime(CLOCK_MONOTONIC, &t0);
        micro_loop(p->run, n);
        clock_gettime(CLOCK_MONOTONIC, &t1);

        ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;

        if (k == 0 || ns < best) {
            best = ns;
        }

        if (getenv("MICRO_ONCE")) {
            break;
        }
    }

    printf("%-13s %10.0f ns/op\n", p->name, best);

    cJSON_Delete(micro_req);
    cJSON_Delete(micro_req_stream);
    llm_buf_free(&micro_sse);

    return 0;
}
