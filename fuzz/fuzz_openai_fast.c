/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target: the OpenAI adapter's fast paths against its cJSON
 * paths.  The input is a client body (request), an upstream body
 * (chat and embeddings responses) and a stream fed whole and in
 * input-derived pieces.  Wherever the fast path answers, the cJSON
 * path must answer the same JSON (member order included), the same
 * usage, and for streams the same events and stream state.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <float.h>

#include "llm_openai.h"


static int fuzz_same(const cJSON *x, const cJSON *y);
static int fuzz_json_same(const char *a, const char *b);
static void fuzz_setup(llm_call_t *call, llm_deployment_t *dep,
    const char *data, size_t size, cJSON *req, int variant);
static void fuzz_request(llm_call_t *call);
static void fuzz_response(llm_call_t *call, const char *data, size_t size);
static void fuzz_stream(llm_call_t *call, const uint8_t *data, size_t size,
    size_t seed);


static const char  *fuzz_defaults[] = {
    NULL,
    "{\"temperature\":0.5,\"user\":\"u\\\"\",\"stop\":[\"\\n\"]}",
    "{\"stream_options\":{\"x\":1},\"model\":\"m\",\"messages\":[]}",
};

static cJSON  *fuzz_dflt[3];


static int
fuzz_same(const cJSON *x, const cJSON *y)
{
    double        m;
    const cJSON  *a, *b;

    if ((x->type & 0xff) != (y->type & 0xff)
        || (x->string == NULL) != (y->string == NULL)
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
            if (!fuzz_same(a, b)) {
                return 0;
            }
        }

        return a == NULL && b == NULL;

    default:
        return 1;
    }
}


/* the same value; and the fast one (a) is valid, compact JSON */
static int
fuzz_json_same(const char *a, const char *b)
{
    int              rc;
    cJSON           *x, *y;
    llm_json_obj_t   o;

    if (llm_json_scan(a, strlen(a), &o, NULL) != 0 || o.space) {
        return 0;
    }

    x = cJSON_Parse(a);
    y = cJSON_Parse(b);

    rc = x && y && fuzz_same(x, y);

    cJSON_Delete(x);
    cJSON_Delete(y);

    return rc;
}


static void
fuzz_setup(llm_call_t *call, llm_deployment_t *dep, const char *data,
    size_t size, cJSON *req, int variant)
{
    const cJSON  *v, *so;

    memset(dep, 0, sizeof(llm_deployment_t));
    memset(call, 0, sizeof(llm_call_t));

    dep->provider = LLM_PROVIDER_OPENAI;
    dep->model_name = (char *) "client-model";
    dep->model_id = (char *) ((variant & 8) ? "id \"quoted\"\n" : "gpt-4o");
    dep->api_key = (char *) "sk-fuzz";
    dep->base.path = (char *) "/v1";
    dep->drop_params = -1;
    dep->defaults = fuzz_dflt[variant % 3];

    call->dep = dep;
    call->req = req;
    call->body = data;
    call->body_len = size;
    call->model_name = (variant & 8) ? "client \"model\"\x01" : "client";
    call->endpoint = (variant & 4) ? LLM_ENDPOINT_EMBEDDINGS
                                   : LLM_ENDPOINT_CHAT;
    call->created = (variant & 16) ? -5 : 1700000000;
    memcpy(call->id, "chatcmpl-fuzz", sizeof("chatcmpl-fuzz"));

    v = cJSON_GetObjectItemCaseSensitive(req, "stream");
    call->stream = call->endpoint == LLM_ENDPOINT_CHAT && cJSON_IsTrue(v);

    so = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
    v = cJSON_GetObjectItemCaseSensitive(so, "include_usage");
    call->include_usage = call->stream && cJSON_IsTrue(v);
}


static void
fuzz_request(llm_call_t *call)
{
    int          rc, rs;
    llm_buf_t    fast, slow;
    llm_error_t  err;

    if (call->req == NULL
        || llm_request_validate(call->req, call->endpoint, &err) != LLM_OK)
    {
        return;
    }

    memset(&fast, 0, sizeof(llm_buf_t));
    memset(&slow, 0, sizeof(llm_buf_t));

    rc = llm_openai_fast_request(call, &fast);
    rs = llm_openai_request_tree(call, &slow, &err);

    if (rc == LLM_OK) {
        if (rs != LLM_OK || !fuzz_json_same(fast.data, slow.data)) {
            abort();
        }

    } else if (rc != LLM_DECLINED || fast.data != NULL) {
        abort();
    }

    llm_buf_free(&fast);
    llm_buf_free(&slow);
}


static void
fuzz_response(llm_call_t *call, const char *data, size_t size)
{
    int           rc, rs;
    llm_buf_t     fast, slow;
    llm_usage_t   fu, su;
    llm_error_t   err;

    memset(&fast, 0, sizeof(llm_buf_t));
    memset(&slow, 0, sizeof(llm_buf_t));

    rc = llm_openai_fast_response(call, data, size, &fast, &fu);
    rs = llm_openai_response_tree(call, data, size, &slow, &su, &err);

    if (rc == LLM_OK) {
        if (rs != LLM_OK || !fuzz_json_same(fast.data, slow.data)
            || memcmp(&fu, &su, sizeof(llm_usage_t)) != 0)
        {
            abort();
        }

    } else if (rc != LLM_DECLINED || fast.data != NULL || fu.present) {
        abort();
    }

    llm_buf_free(&fast);
    llm_buf_free(&slow);
}


typedef struct {
    llm_buf_t     out;
    llm_usage_t   usage;
    char          finish_reason[32];
    int           ntools;
    int           flags;
    int           rc;
} fuzz_run_t;


static void
fuzz_stream_run(llm_call_t *call, const uint8_t *data, size_t size,
    size_t seed, int slow, fuzz_run_t *r)
{
    int            rc;
    size_t         off, n;
    llm_stream_t  *s;

    memset(r, 0, sizeof(fuzz_run_t));

    s = llm_stream_new(call);
    if (s == NULL) {
        abort();
    }

    if (slow) {
        llm_openai_stream_slow(s);
    }

    rc = 0;

    for (off = 0; off < size && rc == 0; off += n) {
        n = seed ? 1 + (data[(off + seed) % size] + seed) % 23 : size;
        if (n > size - off) {
            n = size - off;
        }

        rc = s->adapter->stream_feed(s, (const char *) data + off, n);
        llm_buf_append(&r->out, s->out.data, s->out.len);
        llm_buf_reset(&s->out);
    }

    if (rc == 0) {
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


/* event by event; "data: {...}" payloads compared as JSON */
static int
fuzz_sse_same(char *x, char *y)
{
    char  *xn, *yn;

    for ( ;; ) {
        xn = strstr(x, "\n\n");
        yn = strstr(y, "\n\n");

        if (xn == NULL || yn == NULL) {
            return xn == yn && strcmp(x, y) == 0;
        }

        *xn = '\0';
        *yn = '\0';

        if (strncmp(x, "data: {", 7) == 0 && strncmp(y, "data: {", 7) == 0) {
            if (!fuzz_json_same(x + 6, y + 6)) {
                return 0;
            }

        } else if (strcmp(x, y) != 0) {
            return 0;
        }

        x = xn + 2;
        y = yn + 2;
    }
}


static void
fuzz_stream(llm_call_t *call, const uint8_t *data, size_t size, size_t seed)
{
    fuzz_run_t  fast, slow;

    fuzz_stream_run(call, data, size, seed, 0, &fast);
    fuzz_stream_run(call, data, size, seed, 1, &slow);

    if (fast.rc != slow.rc || fast.flags != slow.flags
        || fast.ntools != slow.ntools
        || memcmp(&fast.usage, &slow.usage, sizeof(llm_usage_t)) != 0
        || strcmp(fast.finish_reason, slow.finish_reason) != 0
        || !fuzz_sse_same(fast.out.data, slow.out.data))
    {
        abort();
    }

    llm_buf_free(&fast.out);
    llm_buf_free(&slow.out);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int                variant, i;
    cJSON             *req;
    llm_call_t         call;
    llm_deployment_t   dep;

    static int         parsed;

    if (!parsed) {
        for (i = 1; i < 3; i++) {
            fuzz_dflt[i] = cJSON_Parse(fuzz_defaults[i]);
        }

        parsed = 1;
    }

    req = cJSON_ParseWithLength((const char *) data, size);

    for (variant = 0; variant < 6; variant++) {
        fuzz_setup(&call, &dep, (const char *) data, size, req,
                   variant | (size ? (data[0] & 24) : 0));

        fuzz_request(&call);
        fuzz_response(&call, (const char *) data, size);

        if (call.endpoint == LLM_ENDPOINT_CHAT) {
            /* whether the client asked for usage changes the relay */
            call.stream = 1;
            call.include_usage = variant & 1;
            fuzz_stream(&call, data, size, variant ? variant + 1 : 0);
        }
    }

    cJSON_Delete(req);

    return 0;
}
