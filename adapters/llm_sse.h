/*
 * Copyright (C) ngx_llm authors
 *
 * Incremental framers: Server-Sent Events and NDJSON.  Feed bytes in
 * any split; a callback gets each complete event or line.
 */

#ifndef _LLM_SSE_H_INCLUDED_
#define _LLM_SSE_H_INCLUDED_


#include <stddef.h>

#include "llm_buf.h"


/* return non-zero from a callback to stop feeding (the error is kept) */
typedef int (*llm_sse_event_pt)(void *data, const char *event,
    size_t event_len, const char *payload, size_t payload_len);

typedef struct {
    llm_buf_t          line;        /* a partial line */
    llm_buf_t          event;       /* event: of the current event */
    llm_buf_t          data;        /* data: lines joined with '\n' */
    unsigned           has_data:1;
    unsigned           cr:1;        /* last byte was '\r' */
    size_t             max;         /* 0: 16 MiB; longer events fail */
    llm_sse_event_pt   handler;
    void              *handler_data;
} llm_sse_t;

void llm_sse_init(llm_sse_t *p, llm_sse_event_pt handler, void *data);
/* 0 ok, -1 oversized event or out of memory, or the handler's rc */
int llm_sse_feed(llm_sse_t *p, const char *buf, size_t n);
/* dispatches a final event not followed by a blank line */
int llm_sse_finish(llm_sse_t *p);
void llm_sse_free(llm_sse_t *p);


typedef int (*llm_ndjson_line_pt)(void *data, const char *line, size_t len);

typedef struct {
    llm_buf_t            line;
    size_t               max;       /* 0: 16 MiB */
    llm_ndjson_line_pt   handler;
    void                *handler_data;
} llm_ndjson_t;

void llm_ndjson_init(llm_ndjson_t *p, llm_ndjson_line_pt handler, void *data);
int llm_ndjson_feed(llm_ndjson_t *p, const char *buf, size_t n);
int llm_ndjson_finish(llm_ndjson_t *p);
void llm_ndjson_free(llm_ndjson_t *p);


#endif /* _LLM_SSE_H_INCLUDED_ */
