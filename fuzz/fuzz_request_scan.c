/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target: the client body checked on its bytes
 * (llm_request_scan()) against llm_request_validate() on the cJSON
 * tree of the same bytes, for both endpoints.  Whenever the scanner
 * says LLM_OK, cJSON_ParseWithLength() must parse the body, the tree
 * must pass, and the model, stream and include_usage the glue reads
 * from the tree must be the scanner's.  The input is checked as it
 * is, and as the value of "stream_options", "messages" and "input"
 * in an otherwise valid body, so that those checks see more shapes.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_request_scan.h"


static void fuzz_check(const char *p, size_t len, llm_endpoint_e endpoint);
static void fuzz_wrapped(const uint8_t *data, size_t size, const char *pre);


static const char  *fuzz_prefixes[] = {
    "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\"}],"
    "\"stream_options\":",
    "{\"model\":\"m\",\"stream\":true,\"messages\":",
    "{\"model\":\"m\",\"input\":",
};


static void
fuzz_check(const char *p, size_t len, llm_endpoint_e endpoint)
{
    int              rc, stream, include_usage;
    cJSON           *tree;
    const cJSON     *model, *so;
    llm_error_t      err;
    llm_req_scan_t   s;

    rc = llm_request_scan(p, len, endpoint, &s);

    if (rc == LLM_DECLINED) {
        return;
    }

    if (rc != LLM_OK) {
        abort();
    }

    tree = cJSON_ParseWithLength(p, len);

    if (tree == NULL || llm_request_validate(tree, endpoint, &err) != LLM_OK) {
        abort();
    }

    model = cJSON_GetObjectItemCaseSensitive(tree, "model");

    stream = endpoint == LLM_ENDPOINT_CHAT
             && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tree, "stream"));

    so = cJSON_GetObjectItemCaseSensitive(tree, "stream_options");
    include_usage = stream
        && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));

    if (s.model == NULL
        || s.model < p
        || s.model_len > len
        || (size_t) (s.model - p) > len - s.model_len
        || s.model_len != strlen(model->valuestring)
        || memcmp(s.model, model->valuestring, s.model_len) != 0
        || s.stream != stream
        || s.include_usage != include_usage)
    {
        abort();
    }

    cJSON_Delete(tree);
}


/* pre, the input, "}": in memory of exactly that size, for ASan */
static void
fuzz_wrapped(const uint8_t *data, size_t size, const char *pre)
{
    char    *p;
    size_t   n;

    n = strlen(pre);

    p = malloc(n + size + 1);
    if (p == NULL) {
        return;
    }

    memcpy(p, pre, n);
    if (size) {
        memcpy(p + n, data, size);
    }

    p[n + size] = '}';

    fuzz_check(p, n + size + 1, LLM_ENDPOINT_CHAT);
    fuzz_check(p, n + size + 1, LLM_ENDPOINT_EMBEDDINGS);

    free(p);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t  i;

    /* libFuzzer's data is exactly size bytes: no NUL after it */
    fuzz_check((const char *) data, size, LLM_ENDPOINT_CHAT);
    fuzz_check((const char *) data, size, LLM_ENDPOINT_EMBEDDINGS);

    if (size > 4096) {
        return 0;
    }

    for (i = 0; i < sizeof(fuzz_prefixes) / sizeof(fuzz_prefixes[0]); i++) {
        fuzz_wrapped(data, size, fuzz_prefixes[i]);
    }

    return 0;
}
