/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the Anthropic adapter.  The input is used as a
 * Messages response body, as an error body, as an SSE stream fed whole,
 * one byte at a time and in pieces whose sizes come from the input,
 * and, when it is a JSON object, as a client request.  Half of the
 * inputs (by the first byte) run with response_format json_schema, so
 * the forced-tool paths are reached too.
 *
 * Every split must give byte-identical output.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_anthropic.h"


static llm_deployment_t  dep = {
    .model_name = "claude-sonnet",
    .model = "anthropic/claude-3-7-sonnet-20250219",
    .prefix = "anthropic",
    .model_id = "claude-3-7-sonnet-20250219",
    .provider = LLM_PROVIDER_ANTHROPIC,
    .base = { 1, "api.anthropic.com", 443, "" },
    .api_key = "k",
};


static const char  fuzz_json_req[] =
    "{\"model\":\"claude-sonnet\",\"messages\":[{\"role\":\"user\","
    "\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\","
    "\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"object\"}}}}";


static void
fuzz_call(llm_call_t *call, const cJSON *req)
{
    memset(call, 0, sizeof(llm_call_t));
    call->endpoint = LLM_ENDPOINT_CHAT;
    call->dep = &dep;
    call->req = req;
    call->model_name = "claude-sonnet";
    strcpy(call->id, "chatcmpl-fuzz");
    call->created = 1735689600;
    call->stream = 1;
    call->include_usage = 1;
}


/* step 0: whole, 1: bytes; otherwise piece sizes drawn from the input */
static char *
fuzz_stream(const llm_call_t *call, const uint8_t *in, size_t len,
    size_t step, size_t *out_len)
{
    char          *res;
    size_t         off, n;
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

        if (s->adapter->stream_feed(s, (const char *) in + off, n) != LLM_OK)
        {
            abort();
        }
    }

    if (s->adapter->stream_eof(s) != LLM_OK || !s->done) {
        abort();
    }

    *out_len = s->out.len;
    res = malloc(s->out.len + 1);
    if (res == NULL) {
        abort();
    }

    memcpy(res, s->out.data ? s->out.data : "", s->out.len);

    llm_stream_free(s);

    return res;
}


static void
fuzz_streams(const llm_call_t *call, const uint8_t *in, size_t len)
{
    char    *whole, *other;
    size_t   wlen, olen, step;

    whole = fuzz_stream(call, in, len, 0, &wlen);

    for (step = 1; step < 4; step++) {
        /* one byte at a time is slow on big inputs */
        if (step == 1 && len > 4096) {
            continue;
        }

        other = fuzz_stream(call, in, len, step, &olen);

        if (olen != wlen || memcmp(whole, other, wlen) != 0) {
            abort();
        }

        free(other);
    }

    free(whole);
}


static void
fuzz_request(const uint8_t *in, size_t len)
{
    cJSON           *req;
    llm_call_t       call;
    llm_error_t      err;
    llm_http_req_t   r;

    req = cJSON_ParseWithLength((const char *) in, len);

    if (cJSON_IsObject(req)) {
        fuzz_call(&call, req);
        call.stream = cJSON_IsTrue(cJSON_GetObjectItem(req, "stream"));
        call.drop_params = len & 1;

        if (llm_request_build(&call, &r, &err) == LLM_OK) {
            llm_http_req_free(&r);
        }
    }

    cJSON_Delete(req);
}


int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    cJSON        *req;
    llm_buf_t     out;
    llm_call_t    call;
    llm_error_t   err;
    llm_usage_t   usage;

    req = cJSON_Parse(len && (in[0] & 1) ? fuzz_json_req
                      : "{\"model\":\"claude-sonnet\",\"messages\":[]}");
    if (req == NULL) {
        abort();
    }

    fuzz_call(&call, req);

    memset(&out, 0, sizeof(out));

    if (llm_anthropic_adapter.parse_response(&call, (const char *) in, len,
                                             &out, &usage, &err) == LLM_OK)
    {
        if (out.len == 0) {
            abort();
        }
    }

    llm_buf_free(&out);

    llm_anthropic_adapter.parse_error(&call, 400 + (len % 200),
                                      (const char *) in, len, &err);

    fuzz_streams(&call, in, len);

    cJSON_Delete(req);

    fuzz_request(in, len);

    return 0;
}
