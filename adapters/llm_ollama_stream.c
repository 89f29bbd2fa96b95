/*
 * Copyright (C) ngx_llm authors
 *
 * Ollama's native stream (../shared/providers/ollama.md): NDJSON, one
 * whole JSON object per line, ending with the object that has
 * "done": true.  Each line is translated at once into OpenAI chunks;
 * tool calls arrive whole, so each becomes a start and one arguments
 * chunk.  A {"error": "..."} line is Ollama's mid-stream failure.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_sse.h"


/* llm_ollama_response.c */
void llm_ollama_error_json(llm_error_t *err, int status, const cJSON *root);
int llm_ollama_tool_call(const cJSON *tc, char *id, size_t size,
    const char **name, char **args);
const char *llm_ollama_finish(const char *reason, int tools);
void llm_ollama_usage(const cJSON *root, llm_usage_t *usage);

/* also used by llm_ollama.c */
int llm_ollama_stream_init(llm_stream_t *s);
int llm_ollama_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_ollama_stream_eof(llm_stream_t *s);
void llm_ollama_stream_free(llm_stream_t *s);


typedef struct {
    llm_ndjson_t   ndjson;
    unsigned       oom:1;       /* an emitter failed: give up */
} llm_ollama_stream_ctx_t;


static int llm_ollama_stream_line(void *data, const char *line, size_t len);
static int llm_ollama_stream_object(llm_stream_t *s, const cJSON *root);
static int llm_ollama_stream_tools(llm_stream_t *s, const cJSON *calls);
static int llm_ollama_stream_rc(llm_stream_t *s, int rc);
static int llm_ollama_stream_fail(llm_stream_t *s, const char *message);


int
llm_ollama_stream_init(llm_stream_t *s)
{
    llm_ollama_stream_ctx_t  *ctx;

    ctx = calloc(1, sizeof(llm_ollama_stream_ctx_t));
    if (ctx == NULL) {
        return LLM_ERROR;
    }

    llm_ndjson_init(&ctx->ndjson, llm_ollama_stream_line, s);
    s->priv = ctx;

    return LLM_OK;
}


int
llm_ollama_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    llm_ollama_stream_ctx_t  *ctx = s->priv;

    /* whatever follows the end (or an error) is not the client's */
    if (ctx == NULL || s->done) {
        return LLM_OK;
    }

    return llm_ollama_stream_rc(s, llm_ndjson_feed(&ctx->ndjson, p, n));
}


int
llm_ollama_stream_eof(llm_stream_t *s)
{
    llm_ollama_stream_ctx_t  *ctx = s->priv;

    if (ctx == NULL || s->done) {
        return LLM_OK;
    }

    /* the last line may lack its '\n' */
    if (llm_ollama_stream_rc(s, llm_ndjson_finish(&ctx->ndjson)) != LLM_OK) {
        return LLM_ERROR;
    }

    if (s->done) {
        return LLM_OK;
    }

    return llm_ollama_stream_fail(s, "ollama: upstream closed the stream "
                                  "before it ended");
}


void
llm_ollama_stream_free(llm_stream_t *s)
{
    llm_ollama_stream_ctx_t  *ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_ndjson_free(&ctx->ndjson);
    free(ctx);
    s->priv = NULL;
}


/* the framer's answer: -1 is its own failure (a line over its limit) */
static int
llm_ollama_stream_rc(llm_stream_t *s, int rc)
{
    llm_ollama_stream_ctx_t  *ctx = s->priv;

    if (ctx->oom) {
        return LLM_ERROR;
    }

    if (rc < 0 && !s->done) {
        return llm_ollama_stream_fail(s, "ollama: upstream sent an "
                                      "oversized stream line");
    }

    return LLM_OK;
}


static int
llm_ollama_stream_fail(llm_stream_t *s, const char *message)
{
    llm_error_t  e;

    llm_error_set(&e, 502, "server_error", NULL, NULL, "%s", message);

    return llm_chunk_error(s, &e);
}


/* returns non-zero to stop the framer: the stream ended or failed */
static int
llm_ollama_stream_line(void *data, const char *line, size_t len)
{
    int                       rc;
    cJSON                    *root;
    llm_stream_t             *s = data;
    llm_ollama_stream_ctx_t  *ctx = s->priv;

    if (s->done) {
        return 1;
    }

    root = cJSON_ParseWithLength(line, len);

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        rc = llm_ollama_stream_fail(s, "ollama: upstream sent an invalid "
                                    "stream line");

    } else {
        rc = llm_ollama_stream_object(s, root);
        cJSON_Delete(root);
    }

    if (rc != LLM_OK) {
        ctx->oom = 1;
        return 1;
    }

    return s->done;
}


static int
llm_ollama_stream_object(llm_stream_t *s, const cJSON *root)
{
    llm_error_t   e;
    const char   *text;
    const cJSON  *v, *msg;

    v = cJSON_GetObjectItemCaseSensitive(root, "error");

    /* the 200 is already sent: the error goes in-band */
    if (v && !cJSON_IsNull(v)) {
        llm_ollama_error_json(&e, 500, root);
        return llm_chunk_error(s, &e);
    }

    if (llm_chunk_role(s) != LLM_OK) {
        return LLM_ERROR;
    }

    msg = cJSON_GetObjectItemCaseSensitive(root, "message");

    text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg,
                                                                 "thinking"));
    if (text && llm_chunk_reasoning(s, text, strlen(text)) != LLM_OK) {
        return LLM_ERROR;
    }

    text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg,
                                                                 "content"));
    if (text && llm_chunk_content(s, text, strlen(text)) != LLM_OK) {
        return LLM_ERROR;
    }

    if (llm_ollama_stream_tools(s, cJSON_GetObjectItemCaseSensitive(
                                       msg, "tool_calls"))
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "done"))) {
        return LLM_OK;
    }

    llm_ollama_usage(root, &s->usage);

    text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
                                    root, "done_reason"));

    if (llm_chunk_finish(s, llm_ollama_finish(text, s->ntools)) != LLM_OK) {
        return LLM_ERROR;
    }

    return llm_chunk_end(s);
}


/* whole tool calls: a start chunk, then all the arguments at once */
static int
llm_ollama_stream_tools(llm_stream_t *s, const cJSON *calls)
{
    int           rc, k;
    char          id[64], *args;
    const char   *name;
    const cJSON  *c;

    cJSON_ArrayForEach(c, calls) {
        rc = llm_ollama_tool_call(c, id, sizeof(id), &name, &args);

        if (rc > 0) {
            continue;
        }

        if (rc < 0) {
            return LLM_ERROR;
        }

        k = s->ntools;

        rc = llm_chunk_tool_start(s, k, id, name);

        if (rc == LLM_OK) {
            rc = llm_chunk_tool_args(s, k, args, strlen(args));
        }

        free(args);

        if (rc != LLM_OK) {
            return LLM_ERROR;
        }
    }

    return LLM_OK;
}
