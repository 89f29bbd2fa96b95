/*
 * Copyright (C) ngx_llm authors
 *
 * HTTP/1.x responses: the header lines of a provider's answer, one at a
 * time as they arrive; and a whole response, for the gateway's own calls
 * (token exchanges, health probes), which read a short answer to its end.
 */

#ifndef _LLM_HTTP_H_INCLUDED_
#define _LLM_HTTP_H_INCLUDED_


#include <stddef.h>
#include <sys/types.h>

#include "llm_buf.h"


typedef struct {
    const char  *name;          /* NULL: a line to ignore */
    size_t       name_len;      /* 0: the blank line after the headers */
    const char  *value;         /* without the whitespace around it */
    size_t       value_len;
} llm_http_header_t;


typedef struct {
    int         status;
    llm_buf_t   body;           /* de-chunked */
    char        retry_after[32];
} llm_http_resp_t;


/*
 * The header line at p[0 .. len - 1]: returns the bytes it takes, LF
 * included, with the header in h; 0 when its LF has not arrived yet; -1
 * for a line no peer may send: a NUL, a CR but before the LF, or a line
 * folded onto the one before (obs-fold, which would let a header hide
 * inside another).  A line without a colon, or with nothing before it,
 * is ignored: h->name is NULL.  The name is not checked further: a
 * caller compares it with the names it reads, which are tokens, so a
 * name with other bytes (a space before the colon, say) is one it
 * ignores, as nginx ignores invalid headers.
 */
ssize_t llm_http_header_line(const char *p, size_t len,
    llm_http_header_t *h);

/* whether the last coding of a Transfer-Encoding value is "chunked" */
int llm_http_is_chunked(const char *v, size_t len);

/*
 * Parses buf[0..len) as one complete response; a body without a length
 * runs to the end.  Returns 0, or -1 with a reason in err.
 */
int llm_http_parse(const char *buf, size_t len, llm_http_resp_t *resp,
    char *err, size_t errlen);
void llm_http_resp_free(llm_http_resp_t *resp);


#endif /* _LLM_HTTP_H_INCLUDED_ */
