/*
 * Copyright (C) ngx_llm authors
 *
 * Cohere v2 streams (../shared/providers/cohere.md, "Streaming"): SSE
 * with named events, each data object repeating its type, ending with
 * message-end.  Translated into OpenAI chunks as they arrive.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "llm_sse.h"


typedef struct {
    llm_sse_t      sse;
    llm_stream_t  *stream;
    int            tool;        /* OpenAI index of the open call, or -1 */
    unsigned       oom:1;       /* an emitter failed: not the upstream's */
} llm_cohere_stream_t;


/* llm_cohere.c */
void llm_cohere_error(llm_error_t *err, int status, const char *message);

/* llm_cohere_response.c */
const char *llm_cohere_finish(const char *reason, int ntools);
int llm_cohere_failed(const char *reason, const char *error,
    llm_error_t *err);
void llm_cohere_usage(const cJSON *u, llm_usage_t *usage);

/* the adapter table in llm_cohere.c */
int llm_cohere_stream_init(llm_stream_t *s);
int llm_cohere_stream_feed(llm_stream_t *s, const char *p, size_t n);
int llm_cohere_stream_eof(llm_stream_t *s);
void llm_cohere_stream_free(llm_stream_t *s);


static int llm_cohere_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t len);
static int llm_cohere_dispatch(llm_cohere_stream_t *cs, const char *name,
    const cJSON *ev);
static const cJSON *llm_cohere_delta_message(const cJSON *ev,
    const char *name);
static int llm_cohere_content(llm_stream_t *s, const cJSON *ev);
static int llm_cohere_tool_start(llm_cohere_stream_t *cs, const cJSON *ev);
static int llm_cohere_tool_delta(llm_cohere_stream_t *cs, const cJSON *ev);
static int llm_cohere_message_end(llm_stream_t *s, const cJSON *ev);
static int llm_cohere_error_event(llm_stream_t *s, const cJSON *ev,
    const char *payload, size_t len);
static int llm_cohere_broken(llm_stream_t *s, const char *why);


int
llm_cohere_stream_init(llm_stream_t *s)
{
    llm_cohere_stream_t  *cs;

    cs = calloc(1, sizeof(llm_cohere_stream_t));
    if (cs == NULL) {
        return LLM_ERROR;
    }

    llm_sse_init(&cs->sse, llm_cohere_event, cs);
    cs->stream = s;
    cs->tool = -1;

    s->priv = cs;

    return LLM_OK;
}


int
llm_cohere_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    llm_cohere_stream_t  *cs;

    cs = s->priv;

    /* anything after message-end (or an error) has nowhere to go */
    if (s->done || n == 0) {
        return LLM_OK;
    }

    if (llm_sse_feed(&cs->sse, p, n) == 0) {
        return LLM_OK;
    }

    if (cs->oom) {
        return LLM_ERROR;
    }

    return llm_cohere_broken(s, "upstream sent an invalid stream");
}


int
llm_cohere_stream_eof(llm_stream_t *s)
{
    llm_cohere_stream_t  *cs;

    cs = s->priv;

    if (s->done) {
        return LLM_OK;
    }

    /* a last event not followed by a blank line still counts */
    if (llm_sse_finish(&cs->sse) != 0) {
        if (cs->oom) {
            return LLM_ERROR;
        }

        return llm_cohere_broken(s, "upstream sent an invalid stream");
    }

    if (s->done) {
        return LLM_OK;
    }

    return llm_cohere_broken(s, "upstream closed the stream before it ended");
}


void
llm_cohere_stream_free(llm_stream_t *s)
{
    llm_cohere_stream_t  *cs;

    cs = s->priv;

    if (cs) {
        llm_sse_free(&cs->sse);
        free(cs);
        s->priv = NULL;
    }
}


static int
llm_cohere_broken(llm_stream_t *s, const char *why)
{
    llm_error_t  e;

    llm_cohere_error(&e, 502, why);

    return llm_chunk_error(s, &e);
}


/* the framer's callback: non-zero only when an emitter ran out of memory */
static int
llm_cohere_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t len)
{
    int                   rc;
    cJSON                *ev;
    const char           *name;
    const cJSON          *type;
    llm_cohere_stream_t  *cs;

    cs = data;

    if (cs->stream->done) {
        return 0;
    }

    ev = cJSON_ParseWithLength(payload, len);
    type = cJSON_GetObjectItemCaseSensitive(ev, "type");

    /* the event: line names the type; the data repeats it */
    name = event_len ? event : cJSON_IsString(type) ? type->valuestring : "";

    if (strcmp(name, "error") == 0) {
        rc = llm_cohere_error_event(cs->stream, ev, payload, len);

    } else if (cJSON_IsObject(ev)) {
        rc = llm_cohere_dispatch(cs, name, ev);

    } else {
        /* not JSON: nothing we could translate */
        rc = LLM_OK;
    }

    cJSON_Delete(ev);

    if (rc != LLM_OK) {
        cs->oom = 1;
        return -1;
    }

    return 0;
}


/*
 * content-end, tool-plan-delta, citation-* and debug carry nothing an
 * OpenAI client can use; tool_plan is narration, not the answer.
 */
static int
llm_cohere_dispatch(llm_cohere_stream_t *cs, const char *name,
    const cJSON *ev)
{
    llm_stream_t  *s;

    s = cs->stream;

    if (strcmp(name, "message-start") == 0) {
        return llm_chunk_role(s);
    }

    if (strcmp(name, "content-start") == 0
        || strcmp(name, "content-delta") == 0)
    {
        return llm_cohere_content(s, ev);
    }

    if (strcmp(name, "tool-call-start") == 0) {
        return llm_cohere_tool_start(cs, ev);
    }

    if (strcmp(name, "tool-call-delta") == 0) {
        return llm_cohere_tool_delta(cs, ev);
    }

    if (strcmp(name, "tool-call-end") == 0) {
        cs->tool = -1;
        return LLM_OK;
    }

    if (strcmp(name, "message-end") == 0) {
        return llm_cohere_message_end(s, ev);
    }

    return LLM_OK;
}


/* ev.delta.message.<name> */
static const cJSON *
llm_cohere_delta_message(const cJSON *ev, const char *name)
{
    const cJSON  *m;

    m = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ev, "delta"), "message");

    return cJSON_GetObjectItemCaseSensitive(m, name);
}


static int
llm_cohere_content(llm_stream_t *s, const cJSON *ev)
{
    const cJSON  *c, *text, *thinking;

    c = llm_cohere_delta_message(ev, "content");
    text = cJSON_GetObjectItemCaseSensitive(c, "text");
    thinking = cJSON_GetObjectItemCaseSensitive(c, "thinking");

    if (cJSON_IsString(thinking)
        && llm_chunk_reasoning(s, thinking->valuestring,
                               strlen(thinking->valuestring)) != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (cJSON_IsString(text)) {
        return llm_chunk_content(s, text->valuestring,
                                 strlen(text->valuestring));
    }

    return LLM_OK;
}


/*
 * Cohere's event index already counts tool calls only, but the OpenAI
 * index is assigned here so that a stray or repeated index cannot
 * leave gaps: deltas belong to the call opened last.
 */
static int
llm_cohere_tool_start(llm_cohere_stream_t *cs, const cJSON *ev)
{
    char           idbuf[64];
    const char    *id;
    const cJSON   *tc, *idv, *fn, *name, *args;
    llm_stream_t  *s;

    s = cs->stream;
    tc = llm_cohere_delta_message(ev, "tool_calls");

    if (cJSON_IsArray(tc)) {
        tc = cJSON_GetArrayItem(tc, 0);
    }

    idv = cJSON_GetObjectItemCaseSensitive(tc, "id");
    fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
    name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");

    if (cJSON_IsString(idv) && idv->valuestring[0]) {
        id = idv->valuestring;

    } else {
        llm_mint_id(idbuf, sizeof(idbuf), "call_");
        id = idbuf;
    }

    cs->tool = s->ntools;

    if (llm_chunk_tool_start(s, cs->tool, id,
                             cJSON_IsString(name) ? name->valuestring : "")
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    if (cJSON_IsString(args)) {
        return llm_chunk_tool_args(s, cs->tool, args->valuestring,
                                   strlen(args->valuestring));
    }

    return LLM_OK;
}


static int
llm_cohere_tool_delta(llm_cohere_stream_t *cs, const cJSON *ev)
{
    const cJSON  *tc, *args;

    if (cs->tool < 0) {
        return LLM_OK;
    }

    tc = llm_cohere_delta_message(ev, "tool_calls");

    if (cJSON_IsArray(tc)) {
        tc = cJSON_GetArrayItem(tc, 0);
    }

    args = cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(tc, "function"), "arguments");

    if (!cJSON_IsString(args)) {
        return LLM_OK;
    }

    return llm_chunk_tool_args(cs->stream, cs->tool, args->valuestring,
                               strlen(args->valuestring));
}


/* finish, usage (when asked) and [DONE]; or the error that ended it */
static int
llm_cohere_message_end(llm_stream_t *s, const cJSON *ev)
{
    llm_error_t   e;
    const cJSON  *d, *fr, *error;

    d = cJSON_GetObjectItemCaseSensitive(ev, "delta");
    fr = cJSON_GetObjectItemCaseSensitive(d, "finish_reason");
    error = cJSON_GetObjectItemCaseSensitive(d, "error");

    /* usage first: a failed generation may still be billed */
    llm_cohere_usage(cJSON_GetObjectItemCaseSensitive(d, "usage"),
                     &s->usage);

    if (llm_cohere_failed(cJSON_IsString(fr) ? fr->valuestring : NULL,
                          cJSON_IsString(error) ? error->valuestring : NULL,
                          &e))
    {
        return llm_chunk_error(s, &e);
    }

    if (llm_chunk_finish(s, llm_cohere_finish(cJSON_IsString(fr)
                                              ? fr->valuestring : NULL,
                                              s->ntools))
        != LLM_OK)
    {
        return LLM_ERROR;
    }

    return llm_chunk_end(s);
}


/*
 * Not in Cohere's event list, but an error can reach a stream from
 * Cohere or a proxy in front of it; its text is what the client needs.
 */
static int
llm_cohere_error_event(llm_stream_t *s, const cJSON *ev, const char *payload,
    size_t len)
{
    int           status;
    char          text[256];
    llm_error_t   e;
    const cJSON  *m, *st;

    m = cJSON_GetObjectItemCaseSensitive(ev, "message");

    if (!cJSON_IsString(m)) {
        m = cJSON_GetObjectItemCaseSensitive(ev, "error");

        if (cJSON_IsObject(m)) {
            m = cJSON_GetObjectItemCaseSensitive(m, "message");
        }
    }

    st = cJSON_GetObjectItemCaseSensitive(ev, "status");
    status = (cJSON_IsNumber(st) && st->valuedouble >= 400
              && st->valuedouble < 600) ? (int) st->valuedouble : 500;

    if (!cJSON_IsString(m) && ev == NULL) {
        len = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
        memcpy(text, payload, len);
        text[len] = '\0';
    }

    llm_cohere_error(&e, status,
                     cJSON_IsString(m) ? m->valuestring
                     : ev == NULL ? text : "upstream reported an error");

    return llm_chunk_error(s, &e);
}
