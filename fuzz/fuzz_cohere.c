/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the Cohere v2 adapter.  The input is used as a
 * /v2/chat and /v2/embed response body, as an error body, as an SSE
 * stream fed whole, one byte at a time and in pieces whose sizes come
 * from the input, and, when it is a JSON object, as a client request.
 *
 * Every split must give the same output; minted tool-call ids are
 * random but of a fixed length, so output lengths are compared.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"


extern const llm_adapter_t  llm_cohere_adapter;


static llm_deployment_t  dep = {
    .model_name = "command-a",
    .model = "cohere/command-a-03-2025",
    .prefix = "cohere",
    .model_id = "command-a-03-2025",
    .provider = LLM_PROVIDER_COHERE,
    .base = { 1, "api.cohere.com", 443, "" },
    .api_key = "k",
};


static void
fuzz_call(llm_call_t *call, llm_endpoint_e endpoint, const cJSON *req)
{
    memset(call, 0, sizeof(llm_call_t));
    call->endpoint = endpoint;
    call->dep = &dep;
    call->req = req;
    call->model_name = "command-a";
    strcpy(call->id, "chatcmpl-fuzz");
    call->created = 1735689600;
}


/* step 0: whole; otherwise piece sizes drawn from the input */
static size_t
fuzz_stream(const llm_call_t *call, const uint8_t *in, size_t len,
    size_t step)
{
    size_t         off, n, out;
    llm_stream_t  *s;

    s = llm_stream_new(call);
    if (s == NULL) {
        abort();
    }

    for (off = 0; off < len; off += n) {
        n = (step == 0) ? len
            : (step == 1) ? 1
            : 1 + (in[(off + step) % len] + step) % 31;

        if (n > len - off) {
            n = len - off;
        }

        if (llm_cohere_adapter.stream_feed(s, (const char *) in + off, n)
            != LLM_OK)
        {
            abort();
        }
    }

    if (llm_cohere_adapter.stream_eof(s) != LLM_OK || !s->done) {
        abort();
    }

    out = s->out.len;
    llm_stream_free(s);

    return out;
}


static void
fuzz_response(const llm_call_t *call, const uint8_t *in, size_t len)
{
    llm_buf_t    out;
    llm_usage_t  u;
    llm_error_t  e;

    memset(&out, 0, sizeof(out));
    llm_cohere_adapter.parse_response(call, (const char *) in, len, &out,
                                      &u, &e);
    llm_buf_free(&out);
}


static void
fuzz_build(llm_call_t *call)
{
    llm_error_t     e;
    llm_http_req_t  r;

    if (llm_request_build(call, &r, &e) == LLM_OK) {
        llm_http_req_free(&r);
    }
}


static void
fuzz_request(const uint8_t *in, size_t len)
{
    cJSON       *req;
    llm_call_t   call;

    req = cJSON_ParseWithLength((const char *) in, len);

    if (cJSON_IsObject(req)) {
        fuzz_call(&call, LLM_ENDPOINT_CHAT, req);
        call.stream = cJSON_IsTrue(cJSON_GetObjectItem(req, "stream"));
        fuzz_build(&call);

        call.drop_params = 1;
        fuzz_build(&call);

        fuzz_call(&call, LLM_ENDPOINT_EMBEDDINGS, req);
        fuzz_build(&call);
    }

    cJSON_Delete(req);
}


int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    size_t        whole;
    cJSON        *b64;
    llm_call_t    call;
    llm_error_t   e;

    fuzz_call(&call, LLM_ENDPOINT_CHAT, NULL);
    fuzz_response(&call, in, len);

    b64 = cJSON_Parse("{\"encoding_format\":\"base64\"}");
    fuzz_call(&call, LLM_ENDPOINT_EMBEDDINGS, NULL);
    fuzz_response(&call, in, len);
    call.req = b64;
    fuzz_response(&call, in, len);
    cJSON_Delete(b64);

    fuzz_call(&call, LLM_ENDPOINT_CHAT, NULL);
    llm_cohere_adapter.parse_error(&call, 400 + (len % 200),
                                   (const char *) in, len, &e);

    call.stream = 1;
    call.include_usage = len & 1;

    whole = fuzz_stream(&call, in, len, 0);

    if (len
        && ((len <= 4096 && fuzz_stream(&call, in, len, 1) != whole)
            || fuzz_stream(&call, in, len, 3) != whole
            || fuzz_stream(&call, in, len, 11) != whole))
    {
        abort();
    }

    fuzz_request(in, len);

    return 0;
}
