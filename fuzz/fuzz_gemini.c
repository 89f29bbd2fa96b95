/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the Vertex AI adapter's Gemini side and the
 * Google auth parsers.  The input is used as a generateContent
 * response body, an error body, a :predict response, a
 * streamGenerateContent?alt=sse stream fed whole, one byte at a time
 * and in pieces whose sizes come from the input, a token endpoint
 * answer, a service-account key and, when it is a JSON object, a
 * client request (chat and embeddings).
 *
 * Every split must give byte-identical output, and every stream must
 * end (s->done) at stream_eof.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_google_auth.h"


static llm_deployment_t  dep = {
    .model_name = "gemini-flash",
    .model = "vertex_ai/gemini-2.5-flash",
    .prefix = "vertex_ai",
    .model_id = "gemini-2.5-flash",
    .provider = LLM_PROVIDER_VERTEX,
    .base = { 1, "us-central1-aiplatform.googleapis.com", 443, "" },
};


static void
fuzz_call(llm_call_t *call, const cJSON *req)
{
    memset(call, 0, sizeof(llm_call_t));
    call->endpoint = LLM_ENDPOINT_CHAT;
    call->dep = &dep;
    call->req = req;
    call->model_name = "gemini-flash";
    strcpy(call->id, "chatcmpl-fuzz");
    call->created = 1751364000;
    call->stream = 1;
    call->include_usage = 1;
    call->access_token = "ya29.fuzz";
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

        call.endpoint = LLM_ENDPOINT_EMBEDDINGS;

        if (llm_request_build(&call, &r, &err) == LLM_OK) {
            llm_http_req_free(&r);
        }
    }

    cJSON_Delete(req);
}


static void
fuzz_auth(const uint8_t *in, size_t len)
{
    char             *s, err[256], tok[128];
    long              exp;
    llm_error_t       e;
    llm_google_sa_t   sa;

    llm_google_token_response((const char *) in, len, tok, sizeof(tok), &exp,
                              &e);

    if (len == 0 || in[0] != '{') {
        return;
    }

    s = malloc(len + 1);
    if (s == NULL) {
        abort();
    }

    memcpy(s, in, len);
    s[len] = '\0';

    if (llm_google_sa_load(s, &sa, err, sizeof(err)) == 0) {
        llm_google_sa_free(&sa);
    }

    free(s);
}


int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    cJSON        *req;
    llm_buf_t     out;
    llm_call_t    call;
    llm_error_t   err;
    llm_usage_t   usage;

    const llm_adapter_t  *a;

    /* kept for the whole run: the path needs a project */
    if (dep.params == NULL) {
        dep.params = cJSON_Parse("{\"vertex_project\":\"p\","
                                 "\"vertex_location\":\"us-central1\"}");
    }

    req = cJSON_Parse("{\"model\":\"gemini-flash\",\"messages\":[],"
                      "\"encoding_format\":\"base64\"}");
    if (req == NULL) {
        abort();
    }

    fuzz_call(&call, req);
    a = llm_adapter_get(LLM_PROVIDER_VERTEX);

    memset(&out, 0, sizeof(out));

    if (a->parse_response(&call, (const char *) in, len, &out, &usage, &err)
        == LLM_OK && out.len == 0)
    {
        abort();
    }

    llm_buf_free(&out);

    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;

    if (a->parse_response(&call, (const char *) in, len, &out, &usage, &err)
        == LLM_OK && out.len == 0)
    {
        abort();
    }

    llm_buf_free(&out);
    call.endpoint = LLM_ENDPOINT_CHAT;

    a->parse_error(&call, 400 + (len % 200), (const char *) in, len, &err);

    fuzz_streams(&call, in, len);

    cJSON_Delete(req);

    fuzz_request(in, len);
    fuzz_auth(in, len);

    return 0;
}
