/*
 * Copyright (C) ngx_llm authors
 *
 * AWS event-stream framing (application/vnd.amazon.eventstream), the
 * binary framing of Bedrock's ConverseStream (../shared/providers/
 * bedrock.md, "ConverseStream: event-stream framing").  Feed bytes in
 * any split; a callback gets each complete, CRC-checked message with
 * its headers parsed.
 */

#ifndef _LLM_EVENTSTREAM_H_INCLUDED_
#define _LLM_EVENTSTREAM_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>

#include "llm_buf.h"


#define LLM_ES_PRELUDE        12
#define LLM_ES_OVERHEAD       16        /* prelude + message CRC */
#define LLM_ES_MAX_MESSAGE    (24 * 1024 * 1024)
#define LLM_ES_MAX_HEADERS    32        /* kept; more are checked, dropped */

/* header value types */
#define LLM_ES_TRUE           0
#define LLM_ES_FALSE          1
#define LLM_ES_BYTE           2
#define LLM_ES_SHORT          3
#define LLM_ES_INT            4
#define LLM_ES_LONG           5
#define LLM_ES_BYTES          6
#define LLM_ES_STRING         7
#define LLM_ES_TIMESTAMP      8
#define LLM_ES_UUID           9

/* decoding errors (negative, so a handler's positive rc stays apart) */
#define LLM_ES_ERR_LENGTH     -2        /* total/headers length out of range */
#define LLM_ES_ERR_PRELUDE    -3        /* prelude CRC mismatch */
#define LLM_ES_ERR_CRC        -4        /* message CRC mismatch */
#define LLM_ES_ERR_HEADER     -5        /* a malformed header */
#define LLM_ES_ERR_NOMEM      -6
#define LLM_ES_ERR_TRUNCATED  -7        /* the input ended inside a message */


typedef struct {
    const char  *name;
    size_t       name_len;
    int          type;
    /* bytes, string and UUID values; the raw bytes of any other type */
    const char  *value;
    size_t       value_len;
    /* booleans (1/0), byte, short, int, long, timestamp */
    int64_t      integer;
} llm_es_header_t;


typedef struct {
    llm_es_header_t   headers[LLM_ES_MAX_HEADERS];
    size_t            nheaders;
    const char       *payload;
    size_t            payload_len;
} llm_es_message_t;


/* return non-zero from a callback to stop feeding (the rc is kept) */
typedef int (*llm_es_message_pt)(void *data, const llm_es_message_t *m);


typedef struct {
    llm_buf_t           buf;        /* a partial message */
    size_t              max;        /* 0: LLM_ES_MAX_MESSAGE */
    int                 rc;         /* sticky: the first failure */
    llm_es_message_pt   handler;
    void               *handler_data;
} llm_es_t;


void llm_es_init(llm_es_t *p, llm_es_message_pt handler, void *data);
/* 0, an LLM_ES_ERR_* code, or the handler's non-zero rc */
int llm_es_feed(llm_es_t *p, const char *buf, size_t n);
/* 0 at a message boundary, LLM_ES_ERR_TRUNCATED inside a message */
int llm_es_finish(llm_es_t *p);
void llm_es_free(llm_es_t *p);

/* one whole message of exactly n bytes; m points into p */
int llm_es_decode(const char *p, size_t n, llm_es_message_t *m);

/* the first header of that name, or NULL */
const llm_es_header_t *llm_es_header(const llm_es_message_t *m,
    const char *name);
/* 1 if the header is a string (or bytes) equal to value */
int llm_es_header_is(const llm_es_message_t *m, const char *name,
    const char *value);

const char *llm_es_strerror(int rc);

/* IEEE CRC-32 (zlib's crc32()): crc 0 to start, then chain */
uint32_t llm_crc32(uint32_t crc, const void *p, size_t n);


#endif /* _LLM_EVENTSTREAM_H_INCLUDED_ */
