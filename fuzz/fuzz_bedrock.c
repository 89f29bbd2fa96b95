/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the Bedrock adapter.  The input is used as a
 * Converse response, as an embeddings response, as an error body, as
 * a ConverseStream body (as it is, and with the CRCs of the frames it
 * describes fixed up so that the translator sees fuzzed events) fed
 * whole, one byte at a time and in pieces whose sizes come from the
 * input, as a client request when it is a JSON object, and as the path
 * and query of a SigV4 signature.
 *
 * Every split must give byte-identical output.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_bedrock.h"
#include "llm_eventstream.h"
#include "llm_sigv4.h"


static llm_deployment_t  dep = {
    .model_name = "claude-bedrock",
    .model = "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
    .prefix = "bedrock",
    .model_id = "anthropic.claude-3-haiku-20240307-v1:0",
    .provider = LLM_PROVIDER_BEDROCK,
    .base = { 1, "bedrock-runtime.us-east-1.amazonaws.com", 443, "" },
};


static void
fuzz_call(llm_call_t *call, const cJSON *req, llm_endpoint_e endpoint)
{
    memset(call, 0, sizeof(llm_call_t));
    call->endpoint = endpoint;
    call->dep = &dep;
    call->req = req;
    call->model_name = "claude-bedrock";
    strcpy(call->id, "chatcmpl-fuzz");
    call->created = 1735689600;
    call->now = 1440938160;
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
fuzz_put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}


/* writes the prelude and message CRCs of the frames in buf */
static void
fuzz_fixup(uint8_t *buf, size_t len)
{
    size_t    pos;
    uint32_t  t;

    for (pos = 0; len - pos >= 12; pos += t) {
        t = (uint32_t) buf[pos] << 24 | (uint32_t) buf[pos + 1] << 16
            | (uint32_t) buf[pos + 2] << 8 | buf[pos + 3];

        fuzz_put32(buf + pos + 8, llm_crc32(0, buf + pos, 8));

        if (t < 16 || t > len - pos) {
            break;
        }

        fuzz_put32(buf + pos + t - 4, llm_crc32(0, buf + pos, t - 4));
    }
}


static void
fuzz_request(const uint8_t *in, size_t len)
{
    cJSON           *req;
    llm_call_t       call;
    llm_error_t      err;
    llm_http_req_t   r;
    static char     *ids[] = {
        "anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0",
        "amazon.titan-embed-text-v2:0", "cohere.embed-english-v3",
    };

    req = cJSON_ParseWithLength((const char *) in, len);

    if (cJSON_IsObject(req)) {
        dep.model_id = ids[len % 4];
        dep.api_key = (len & 4) ? "br-key" : NULL;

        fuzz_call(&call, req, (len % 4) >= 2 ? LLM_ENDPOINT_EMBEDDINGS
                                             : LLM_ENDPOINT_CHAT);
        call.stream = cJSON_IsTrue(cJSON_GetObjectItem(req, "stream"));
        call.drop_params = (len >> 3) & 1;

        if (llm_request_build(&call, &r, &err) == LLM_OK) {
            llm_http_req_free(&r);
        }

        dep.model_id = ids[0];
        dep.api_key = NULL;
    }

    cJSON_Delete(req);
}


static void
fuzz_sign(const uint8_t *in, size_t len)
{
    char                      *s;
    llm_sigv4_t                sig;
    llm_sigv4_req_t            r;
    static llm_sigv4_header_t  h[] = { { "Host", "h" }, { "X-A", " a  b " } };
    static llm_sigv4_creds_t   c = { "AK", "SK", "TOKEN", "us-east-1",
                                     "bedrock" };

    s = malloc(len + 1);
    if (s == NULL) {
        abort();
    }

    memcpy(s, in, len);
    s[len] = '\0';

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = s;
    r.query = s;
    r.headers = h;
    r.nheaders = 2;
    r.payload = in;
    r.payload_len = len;
    r.content_sha256 = len & 1;
    r.single_encode = (len >> 1) & 1;

    if (llm_sigv4_sign(&c, &r, (time_t) len * 86401, &sig) == 0) {
        llm_sigv4_free(&sig);
    }

    free(s);
}


int
LLVMFuzzerTestOneInput(const uint8_t *in, size_t len)
{
    cJSON        *req;
    uint8_t      *fixed;
    llm_buf_t     out;
    llm_call_t    call;
    llm_error_t   err;
    llm_usage_t   usage;

    /* credentials for SigV4; kept for the whole run */
    if (dep.params == NULL) {
        dep.params = cJSON_Parse("{\"aws_access_key_id\":\"AK\","
                                 "\"aws_secret_access_key\":\"SK\","
                                 "\"aws_session_token\":\"T\","
                                 "\"aws_region_name\":\"us-west-2\"}");
        if (dep.params == NULL) {
            abort();
        }
    }

    req = cJSON_Parse(len && (in[0] & 1)
                      ? "{\"model\":\"e\",\"input\":\"x\","
                        "\"encoding_format\":\"base64\"}"
                      : "{\"model\":\"m\",\"messages\":[]}");
    if (req == NULL) {
        abort();
    }

    fuzz_call(&call, req, LLM_ENDPOINT_CHAT);

    memset(&out, 0, sizeof(out));

    if (llm_bedrock_adapter.parse_response(&call, (const char *) in, len,
                                           &out, &usage, &err) == LLM_OK
        && out.len == 0)
    {
        abort();
    }

    llm_buf_free(&out);

    call.endpoint = LLM_ENDPOINT_EMBEDDINGS;

    if (llm_bedrock_adapter.parse_response(&call, (const char *) in, len,
                                           &out, &usage, &err) == LLM_OK
        && out.len == 0)
    {
        abort();
    }

    llm_buf_free(&out);
    call.endpoint = LLM_ENDPOINT_CHAT;

    llm_bedrock_adapter.parse_error(&call, 400 + (len % 200),
                                    (const char *) in, len, &err);

    fuzz_streams(&call, in, len);

    fixed = malloc(len ? len : 1);
    if (fixed == NULL) {
        abort();
    }

    memcpy(fixed, in, len);
    fuzz_fixup(fixed, len);
    fuzz_streams(&call, fixed, len);
    free(fixed);

    cJSON_Delete(req);

    fuzz_request(in, len);
    fuzz_sign(in, len);

    return 0;
}
