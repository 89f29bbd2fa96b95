/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the Azure OpenAI adapter.  The input is used as
 * a client body (request mapping, dated and v1 APIs), as a response
 * body (chat and embeddings), as an error body, and as a stream fed
 * whole and in input-derived splits; a split must never change the
 * translated stream.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"


static void fuzz_call(llm_call_t *call, llm_deployment_t *dep,
    const cJSON *req, const cJSON *params, int variant);
static void fuzz_request(llm_call_t *call);
static void fuzz_response(llm_call_t *call, const char *data, size_t size);
static int fuzz_stream(llm_call_t *call, const uint8_t *data, size_t size,
    size_t seed, llm_buf_t *out);


static void
fuzz_call(llm_call_t *call, llm_deployment_t *dep, const cJSON *req,
    const cJSON *params, int variant)
{
    memset(dep, 0, sizeof(llm_deployment_t));
    memset(call, 0, sizeof(llm_call_t));

    dep->provider = LLM_PROVIDER_AZURE;
    dep->model_name = (char *) "client-model";
    dep->model_id = (char *) "my dep/1";
    dep->api_key = (variant & 1) ? (char *) "az-fuzz" : NULL;
    dep->base.path = (char *) ((variant & 8) ? "/openai" : "");
    dep->drop_params = -1;
    dep->params = (cJSON *) params;

    call->dep = dep;
    call->req = req;
    call->model_name = "client-model";
    call->endpoint = (variant & 4) ? LLM_ENDPOINT_EMBEDDINGS
                                   : LLM_ENDPOINT_CHAT;
    call->stream = (variant & 2) != 0;
    call->include_usage = (variant & 2) != 0;
    call->drop_params = (variant & 1) != 0;
    call->created = 1700000000;
    memcpy(call->id, "chatcmpl-fuzz", sizeof("chatcmpl-fuzz"));
}


static void
fuzz_request(llm_call_t *call)
{
    cJSON           *check;
    llm_error_t      err;
    llm_http_req_t   r;

    if (call->req == NULL
        || llm_request_validate(call->req, call->endpoint, &err) != LLM_OK)
    {
        return;
    }

    if (llm_request_build(call, &r, &err) != LLM_OK) {
        return;
    }

    /* whatever the client sent, the provider gets valid JSON */
    check = r.body.data ? cJSON_Parse(r.body.data) : NULL;
    if (check == NULL || r.path.data == NULL || r.path.data[0] != '/') {
        abort();
    }

    cJSON_Delete(check);
    llm_http_req_free(&r);
}


static void
fuzz_response(llm_call_t *call, const char *data, size_t size)
{
    cJSON                *check;
    llm_buf_t             out;
    llm_usage_t           u;
    llm_error_t           err;
    const llm_adapter_t  *a;

    a = llm_adapter_get(call->dep->provider);
    memset(&out, 0, sizeof(llm_buf_t));

    if (a->parse_response(call, data, size, &out, &u, &err) == LLM_OK) {
        check = cJSON_Parse(out.data);
        if (check == NULL) {
            abort();
        }

        cJSON_Delete(check);
    }

    llm_buf_free(&out);

    a->parse_error(call, 400 + (int) (size % 200), data, size, &err);

    if (err.status < 400 || err.status > 599) {
        abort();
    }
}


/* seed 0 feeds the input whole; other seeds cut it into small pieces */
static int
fuzz_stream(llm_call_t *call, const uint8_t *data, size_t size, size_t seed,
    llm_buf_t *out)
{
    int            rc;
    size_t         off, n;
    llm_stream_t  *s;

    s = llm_stream_new(call);
    if (s == NULL) {
        return -1;
    }

    rc = 0;

    for (off = 0; off < size && rc == 0; off += n) {
        n = seed ? 1 + (data[(off + seed) % size] + seed) % 23 : size;
        if (n > size - off) {
            n = size - off;
        }

        rc = s->adapter->stream_feed(s, (const char *) data + off, n);

        /* the glue drains the output as it goes */
        llm_buf_append(out, s->out.data, s->out.len);
        llm_buf_reset(&s->out);
    }

    if (rc == 0) {
        rc = s->adapter->stream_eof(s);
        llm_buf_append(out, s->out.data, s->out.len);
    }

    /* every stream ends with [DONE], whether it succeeded or failed */
    if (rc == 0 && (out->len < 14
                    || memcmp(out->data + out->len - 14, "data: [DONE]\n\n",
                              14) != 0))
    {
        abort();
    }

    llm_stream_free(s);

    return rc;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                variant, rc1, rc2;
    cJSON             *req, *params[3];
    llm_buf_t          whole, split;
    llm_call_t         call;
    llm_deployment_t   dep;

    req = cJSON_ParseWithLength((const char *) data, size);

    params[0] = NULL;
    params[1] = cJSON_Parse("{\"api_version\":\"2024-10-21\","
                            "\"azure_ad_token\":\"tok\"}");
    params[2] = cJSON_Parse("{\"api_version\":\"2024-02-01\"}");

    for (variant = 0; variant < 16; variant++) {
        fuzz_call(&call, &dep, req,
                  params[(variant + (size ? data[0] : 0)) % 3], variant);

        fuzz_request(&call);
        fuzz_response(&call, (const char *) data, size);

        if (call.endpoint == LLM_ENDPOINT_EMBEDDINGS || (variant & 8)) {
            continue;
        }

        memset(&whole, 0, sizeof(llm_buf_t));
        memset(&split, 0, sizeof(llm_buf_t));

        rc1 = fuzz_stream(&call, data, size, 0, &whole);
        rc2 = fuzz_stream(&call, data, size, 1 + variant, &split);

        if (rc1 != rc2 || whole.len != split.len
            || (whole.len && memcmp(whole.data, split.data, whole.len)))
        {
            abort();
        }

        llm_buf_free(&whole);
        llm_buf_free(&split);
    }

    cJSON_Delete(params[1]);
    cJSON_Delete(params[2]);
    cJSON_Delete(req);

    return 0;
}
