/*
 * Copyright (C) ngx_llm authors
 *
 * ConverseStream -> OpenAI chunks (../shared/providers/bedrock.md,
 * "ConverseStream event sequence" and "Translation to OpenAI chunks").
 * The body is binary event-stream framing (llm_eventstream.c); each
 * frame's :event-type names the event and its payload is the event's
 * JSON.  Exception frames may come at any point after the 200 and
 * become an in-stream OpenAI error.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_bedrock.h"
#include "llm_eventstream.h"


/* contentBlockIndex -> OpenAI tool-call index */
typedef struct {
    long long   block;
    int         k;
} llm_bedrock_tool_t;


typedef struct {
    llm_es_t             es;
    llm_stream_t        *s;
    llm_bedrock_tool_t  *tools;
    size_t               ntools;
    size_t               cap;
    unsigned             stopped:1;     /* messageStop came */
} llm_bedrock_st_t;


/* a handler's answer that is not a decoding error */
#define LLM_BEDROCK_NOMEM  1


static int llm_bedrock_frame(void *data, const llm_es_message_t *m);
static int llm_bedrock_event(llm_bedrock_st_t *st, const char *type,
    const cJSON *ev);
static int llm_bedrock_block_start(llm_bedrock_st_t *st, const cJSON *ev);
static int llm_bedrock_block_delta(llm_bedrock_st_t *st, const cJSON *ev);
static int llm_bedrock_tool_index(llm_bedrock_st_t *st, long long block,
    const char *id, const char *name);
static int llm_bedrock_exception(llm_bedrock_st_t *st,
    const llm_es_message_t *m, const char *header);
static void llm_bedrock_header_str(const llm_es_message_t *m,
    const char *name, char *buf, size_t size);
static long long llm_bedrock_block(const cJSON *ev);


int
llm_bedrock_stream_init(llm_stream_t *s)
{
    llm_bedrock_st_t  *st;

    st = calloc(1, sizeof(llm_bedrock_st_t));
    if (st == NULL) {
        return LLM_ERROR;
    }

    st->s = s;
    llm_es_init(&st->es, llm_bedrock_frame, st);
    s->priv = st;

    return LLM_OK;
}


void
llm_bedrock_stream_free(llm_stream_t *s)
{
    llm_bedrock_st_t  *st;

    st = s->priv;

    if (st) {
        llm_es_free(&st->es);
        free(st->tools);
        free(st);
        s->priv = NULL;
    }
}


int
llm_bedrock_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    int                rc;
    llm_error_t        e;
    llm_bedrock_st_t  *st;

    st = s->priv;

    if (s->done || n == 0) {
        return LLM_OK;
    }

    rc = llm_es_feed(&st->es, p, n);

    if (rc == 0 || s->done) {
        return LLM_OK;
    }

    if (rc == LLM_BEDROCK_NOMEM || rc == LLM_ES_ERR_NOMEM) {
        return LLM_ERROR;
    }

    /* a corrupted or misaligned stream cannot be read on */
    llm_error_set(&e, 502, "server_error", NULL, NULL,
                  "bedrock: %s", llm_es_strerror(rc));

    return llm_chunk_error(s, &e);
}


/*
 * The end is messageStop then metadata; a stream cut after messageStop
 * only lacks the usage and ends normally.
 */
int
llm_bedrock_stream_eof(llm_stream_t *s)
{
    llm_error_t        e;
    llm_bedrock_st_t  *st;

    st = s->priv;

    if (s->done) {
        return LLM_OK;
    }

    if (st->stopped && llm_es_finish(&st->es) == 0) {
        return llm_chunk_end(s);
    }

    llm_error_set(&e, 502, "server_error", NULL, NULL,
                  "bedrock: upstream closed the stream before it ended");

    return llm_chunk_error(s, &e);
}


static int
llm_bedrock_frame(void *data, const llm_es_message_t *m)
{
    int                rc;
    char               type[64];
    cJSON             *ev;
    llm_bedrock_st_t  *st;

    st = data;

    /* frames after the end or an error are not read */
    if (st->s->done) {
        return 0;
    }

    if (llm_es_header_is(m, ":message-type", "exception")) {
        return llm_bedrock_exception(st, m, ":exception-type");
    }

    if (llm_es_header_is(m, ":message-type", "error")) {
        return llm_bedrock_exception(st, m, ":error-code");
    }

    llm_bedrock_header_str(m, ":event-type", type, sizeof(type));

    ev = cJSON_ParseWithLength(m->payload, m->payload_len);

    /* an event whose payload is not an object carries nothing to map */
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        return 0;
    }

    rc = llm_bedrock_event(st, type, ev);
    cJSON_Delete(ev);

    return rc == LLM_OK ? 0 : LLM_BEDROCK_NOMEM;
}


static int
llm_bedrock_event(llm_bedrock_st_t *st, const char *type, const cJSON *ev)
{
    const cJSON  *v;

    if (strcmp(type, "messageStart") == 0) {
        return llm_chunk_role(st->s);
    }

    if (strcmp(type, "contentBlockStart") == 0) {
        return llm_bedrock_block_start(st, ev);
    }

    if (strcmp(type, "contentBlockDelta") == 0) {
        return llm_bedrock_block_delta(st, ev);
    }

    if (strcmp(type, "messageStop") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(ev, "stopReason");
        st->stopped = 1;

        return llm_chunk_finish(st->s,
                                llm_bedrock_finish(cJSON_IsString(v)
                                                   ? v->valuestring : NULL));
    }

    if (strcmp(type, "metadata") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(ev, "usage");
        llm_bedrock_usage(&st->s->usage, v);

        return llm_chunk_end(st->s);
    }

    /* contentBlockStop and events yet to come */
    return LLM_OK;
}


static long long
llm_bedrock_block(const cJSON *ev)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(ev, "contentBlockIndex");

    return cJSON_IsNumber(v) ? (long long) v->valuedouble : -1;
}


/* a toolUse block opens the next OpenAI tool call */
static int
llm_bedrock_block_start(llm_bedrock_st_t *st, const cJSON *ev)
{
    const cJSON  *tu, *id, *name;

    tu = cJSON_GetObjectItemCaseSensitive(
             cJSON_GetObjectItemCaseSensitive(ev, "start"), "toolUse");

    if (!cJSON_IsObject(tu)) {
        return LLM_OK;
    }

    id = cJSON_GetObjectItemCaseSensitive(tu, "toolUseId");
    name = cJSON_GetObjectItemCaseSensitive(tu, "name");

    return llm_bedrock_tool_index(st, llm_bedrock_block(ev),
                                  cJSON_IsString(id) ? id->valuestring : NULL,
                                  cJSON_IsString(name) ? name->valuestring
                                                       : "")
           >= 0 ? LLM_OK : LLM_ERROR;
}


static int
llm_bedrock_block_delta(llm_bedrock_st_t *st, const cJSON *ev)
{
    int           k;
    const cJSON  *d, *v;

    d = cJSON_GetObjectItemCaseSensitive(ev, "delta");

    v = cJSON_GetObjectItemCaseSensitive(d, "text");

    if (cJSON_IsString(v)) {
        return llm_chunk_content(st->s, v->valuestring,
                                 strlen(v->valuestring));
    }

    v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(d, "toolUse"), "input");

    if (cJSON_IsString(v)) {
        k = llm_bedrock_tool_index(st, llm_bedrock_block(ev), NULL, "");
        if (k < 0) {
            return LLM_ERROR;
        }

        return llm_chunk_tool_args(st->s, k, v->valuestring,
                                   strlen(v->valuestring));
    }

    /* reasoning text is shown; its signature and redactions are not */
    v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(d, "reasoningContent"), "text");

    if (cJSON_IsString(v)) {
        return llm_chunk_reasoning(st->s, v->valuestring,
                                   strlen(v->valuestring));
    }

    return LLM_OK;
}


/*
 * The OpenAI index of the tool call in a content block, opening one
 * (and emitting its start chunk) the first time the block is seen.  A
 * toolUse delta without its start still gets a call, with an id made
 * from the reply's so that every split gives the same output.
 */
static int
llm_bedrock_tool_index(llm_bedrock_st_t *st, long long block,
    const char *id, const char *name)
{
    int                  k;
    char                 minted[128];
    size_t               i;
    llm_bedrock_tool_t  *t;

    for (i = 0; i < st->ntools; i++) {
        if (st->tools[i].block == block) {
            return st->tools[i].k;
        }
    }

    if (st->ntools == st->cap) {
        t = realloc(st->tools, (st->cap ? st->cap * 2 : 8)
                               * sizeof(llm_bedrock_tool_t));
        if (t == NULL) {
            return -1;
        }

        st->tools = t;
        st->cap = st->cap ? st->cap * 2 : 8;
    }

    k = st->s->ntools;

    if (id == NULL || id[0] == '\0') {
        snprintf(minted, sizeof(minted), "call_%s_%d",
                 strncmp(st->s->call->id, "chatcmpl-", 9) == 0
                 ? st->s->call->id + 9 : st->s->call->id, k);
        id = minted;
    }

    st->tools[st->ntools].block = block;
    st->tools[st->ntools].k = k;
    st->ntools++;

    return llm_chunk_tool_start(st->s, k, id, name) == LLM_OK ? k : -1;
}


/*
 * An exception frame ({"message"} payload, the name in
 * :exception-type) or an unmodelled error (:error-code and
 * :error-message headers) -> an in-stream error, then the end.
 */
static int
llm_bedrock_exception(llm_bedrock_st_t *st, const llm_es_message_t *m,
    const char *header)
{
    char          type[64], text[1024];
    cJSON        *p;
    llm_error_t   e;
    const cJSON  *v;

    llm_bedrock_header_str(m, header, type, sizeof(type));
    llm_bedrock_header_str(m, ":error-message", text, sizeof(text));

    p = cJSON_ParseWithLength(m->payload, m->payload_len);

    v = cJSON_GetObjectItemCaseSensitive(p, "message");
    if (!cJSON_IsString(v)) {
        v = cJSON_GetObjectItemCaseSensitive(p, "Message");
    }

    if (!cJSON_IsString(v)) {
        v = cJSON_GetObjectItemCaseSensitive(p, "originalMessage");
    }

    if (cJSON_IsString(v)) {
        snprintf(text, sizeof(text), "%s", v->valuestring);
    }

    cJSON_Delete(p);

    llm_bedrock_error(&e, 0, type[0] ? type : NULL,
                      text[0] ? text : NULL);

    return llm_chunk_error(st->s, &e) == LLM_OK ? 0 : LLM_BEDROCK_NOMEM;
}


/* a string header's value, NUL-terminated and cut to size; "" if none */
static void
llm_bedrock_header_str(const llm_es_message_t *m, const char *name,
    char *buf, size_t size)
{
    size_t                  n;
    const llm_es_header_t  *h;

    h = llm_es_header(m, name);
    buf[0] = '\0';

    if (h == NULL || (h->type != LLM_ES_STRING && h->type != LLM_ES_BYTES)) {
        return;
    }

    n = h->value_len < size - 1 ? h->value_len : size - 1;
    memcpy(buf, h->value, n);
    buf[n] = '\0';
}
