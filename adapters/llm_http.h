/*
 * Copyright (C) ngx_llm authors
 *
 * A whole HTTP/1.x response, parsed: for the gateway's own calls (token
 * exchanges, health probes), which read a short answer to its end.
 */

#ifndef _LLM_HTTP_H_INCLUDED_
#define _LLM_HTTP_H_INCLUDED_


#include <stddef.h>

#include "llm_buf.h"


typedef struct {
    int         status;
    llm_buf_t   body;           /* de-chunked */
    char        retry_after[32];
} llm_http_resp_t;


/*
 * Parses buf[0..len) as one complete response; a body without a length
 * runs to the end.  Returns 0, or -1 with a reason in err.
 */
int llm_http_parse(const char *buf, size_t len, llm_http_resp_t *resp,
    char *err, size_t errlen);
void llm_http_resp_free(llm_http_resp_t *resp);


#endif /* _LLM_HTTP_H_INCLUDED_ */
