/*
 * Copyright (C) ngx_llm authors
 *
 * What every adapter does to a client request before the provider
 * mapping: validation, deployment defaults, unsupported parameters.
 */


#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "llm_adapter.h"


static int llm_request_validate_messages(const cJSON *msgs, llm_error_t *err);
static int llm_request_blank(const char *s, int no_blank);


int
llm_request_validate(const cJSON *req, llm_endpoint_e endpoint,
    llm_error_t *err)
{
    const cJSON  *model, *v;

    if (!cJSON_IsObject(req)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, NULL,
                      "request body must be a JSON object");
        return LLM_ERROR;
    }

    model = cJSON_GetObjectItemCaseSensitive(req, "model");

    if (model == NULL || cJSON_IsNull(model)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "missing required parameter: 'model'");
        return LLM_ERROR;
    }

    if (!cJSON_IsString(model) || model->valuestring[0] == '\0') {
        llm_error_set(err, 400, "invalid_request_error", NULL, "model",
                      "'model' must be a non-empty string");
        return LLM_ERROR;
    }

    v = cJSON_GetObjectItemCaseSensitive(req, "stream");

    if (v && !cJSON_IsBool(v) && !cJSON_IsNull(v)) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "stream",
                      "'stream' must be a boolean");
        return LLM_ERROR;
    }

    if (endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        v = cJSON_GetObjectItemCaseSensitive(req, "input");

        if (v == NULL || !(cJSON_IsString(v) || cJSON_IsArray(v))) {
            llm_error_set(err, 400, "invalid_request_error", NULL, "input",
                          "'input' must be a string or an array");
            return LLM_ERROR;
        }

        return LLM_OK;
    }

    return llm_request_validate_messages(
               cJSON_GetObjectItemCaseSensitive(req, "messages"), err);
}


static int
llm_request_validate_messages(const cJSON *msgs, llm_error_t *err)
{
    int           i;
    const cJSON  *m, *role;

    if (msgs == NULL) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                      "missing required parameter: 'messages'");
        return LLM_ERROR;
    }

    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                      "'messages' must be a non-empty array");
        return LLM_ERROR;
    }

    i = 0;

    cJSON_ArrayForEach(m, msgs) {
        role = cJSON_GetObjectItemCaseSensitive(m, "role");

        if (!cJSON_IsObject(m) || !cJSON_IsString(role)) {
            llm_error_set(err, 400, "invalid_request_error", NULL, "messages",
                          "messages[%d] must be an object with a string "
                          "'role'", i);
            return LLM_ERROR;
        }

        i++;
    }

    return LLM_OK;
}


const cJSON *
llm_call_req(const llm_call_t *call)
{
    if (call->req != NULL) {
        return call->req;
    }

    if (call->lazy == NULL || call->body == NULL) {
        return NULL;
    }

    if (call->lazy->tree == NULL) {
        call->lazy->tree = cJSON_ParseWithLength(call->body, call->body_len);
    }

    return call->lazy->tree;
}


cJSON *
llm_request_prepare(const llm_call_t *call)
{
    cJSON  *body, *d, *v;

    body = cJSON_Duplicate(llm_call_req(call), 1);
    if (body == NULL) {
        return NULL;
    }

    /* deployment defaults sit under the client's own values */
    if (call->dep->defaults) {
        cJSON_ArrayForEach(d, call->dep->defaults) {
            if (d->string == NULL
                || cJSON_GetObjectItemCaseSensitive(body, d->string))
            {
                continue;
            }

            v = cJSON_Duplicate(d, 1);
            if (v == NULL) {
                cJSON_Delete(body);
                return NULL;
            }

            cJSON_AddItemToObject(body, d->string, v);
        }
    }

    v = cJSON_CreateString(call->dep->model_id ? call->dep->model_id : "");
    if (v == NULL) {
        cJSON_Delete(body);
        return NULL;
    }

    if (cJSON_GetObjectItemCaseSensitive(body, "model")) {
        cJSON_ReplaceItemInObjectCaseSensitive(body, "model", v);

    } else {
        cJSON_AddItemToObject(body, "model", v);
    }

    return body;
}


int
llm_request_drop_unsupported(cJSON *body, const char *const *names,
    int drop, const char *provider, llm_error_t *err)
{
    const char *const  *n;

    for (n = names; *n; n++) {
        if (cJSON_GetObjectItemCaseSensitive(body, *n) == NULL) {
            continue;
        }

        if (drop) {
            cJSON_DeleteItemFromObjectCaseSensitive(body, *n);
            continue;
        }

        llm_error_set(err, 400, "invalid_request_error",
                      "unsupported_parameter", *n,
                      "%s does not support parameter '%s'; set "
                      "drop_params: true to drop it", provider, *n);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/*
 * Ids must be unique, not secret.  RAND_bytes() cost microseconds and a
 * getpid() per id; a xoshiro256** generator seeded from it once per
 * process costs nanoseconds.  The state is per process and unlocked:
 * nginx workers are single-threaded.  A process forked from one that
 * has drawn ids would repeat its parent's sequence, so the nginx glue
 * reseeds in each worker's init_process.
 */
static uint64_t  llm_rand_state[4];
static int       llm_rand_seeded;


static uint64_t
llm_rand_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}


static uint64_t
llm_rand_next(void)
{
    uint64_t   r, t, *s;

    s = llm_rand_state;

    r = llm_rand_rotl(s[1] * 5, 7) * 9;
    t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = llm_rand_rotl(s[3], 45);

    return r;
}


void
llm_rand_reseed(void)
{
    size_t           i;
    uint64_t         z, seed[4];
    struct timespec  ts;

    if (RAND_bytes((unsigned char *) seed, sizeof(seed)) != 1) {
        /* never expected; the time, pid and stack still tell us apart */
        clock_gettime(CLOCK_REALTIME, &ts);
        seed[0] = (uint64_t) ts.tv_sec;
        seed[1] = (uint64_t) ts.tv_nsec;
        seed[2] = (uint64_t) getpid();
        seed[3] = (uint64_t) (uintptr_t) &ts;
    }

    /* splitmix64 spreads each seed word; the state must not be all zero */
    for (i = 0; i < 4; i++) {
        z = seed[i] + 0x9e3779b97f4a7c15ULL * (i + 1);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        llm_rand_state[i] = z ^ (z >> 31);
    }

    if ((llm_rand_state[0] | llm_rand_state[1] | llm_rand_state[2]
         | llm_rand_state[3]) == 0)
    {
        llm_rand_state[0] = 1;
    }

    llm_rand_seeded = 1;
}


static char  llm_id_chars[256];


void
llm_mint_id(char *buf, size_t size, const char *prefix)
{
    size_t          i, n, plen;
    uint64_t        r;
    unsigned char   rnd[24];
    static const char  alnum[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    if (size == 0) {
        return;
    }

    plen = strlen(prefix);
    if (plen >= size) {
        plen = size - 1;
    }

    memcpy(buf, prefix, plen);

    if (!llm_rand_seeded) {
        llm_rand_reseed();
    }

    for (i = 0; i < sizeof(rnd); i += 8) {
        r = llm_rand_next();
        memcpy(rnd + i, &r, 8);
    }

    /* one lookup per character: llm_id_chars[b] is alnum[b % 62] */
    if (llm_id_chars[0] == '\0') {
        for (i = 0; i < 256; i++) {
            llm_id_chars[i] = alnum[i % (sizeof(alnum) - 1)];
        }
    }

    n = size - 1 - plen < 24 ? size - 1 - plen : 24;

    for (i = 0; i < n; i++) {
        buf[plen + i] = llm_id_chars[rnd[i]];
    }

    buf[plen + i] = '\0';
}


int
llm_request_stop(cJSON *out, const char *key, const cJSON *stop,
    int no_blank)
{
    cJSON        *seqs;
    const cJSON  *v, *one;

    if (!cJSON_IsString(stop) && !cJSON_IsArray(stop)) {
        return LLM_OK;
    }

    seqs = cJSON_CreateArray();
    if (seqs == NULL) {
        return LLM_ERROR;
    }

    one = cJSON_IsString(stop) ? stop : NULL;

    for (v = one ? one : stop->child; v; v = one ? NULL : v->next) {
        if (!cJSON_IsString(v) || llm_request_blank(v->valuestring, no_blank))
        {
            continue;
        }

        if (!cJSON_AddItemToArray(seqs, cJSON_CreateString(v->valuestring))) {
            cJSON_Delete(seqs);
            return LLM_ERROR;
        }
    }

    if (seqs->child == NULL) {
        cJSON_Delete(seqs);
        return LLM_OK;
    }

    if (!cJSON_AddItemToObject(out, key, seqs)) {
        cJSON_Delete(seqs);
        return LLM_ERROR;
    }

    return LLM_OK;
}


/* Anthropic's API refuses "\n\n" as a stop sequence, and so on */
static int
llm_request_blank(const char *s, int no_blank)
{
    if (!no_blank) {
        return s[0] == '\0';
    }

    for ( /* void */ ; *s; s++) {
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r'
            && *s != '\v' && *s != '\f')
        {
            return 0;
        }
    }

    return 1;
}
