/*
 * Copyright (C) ngx_llm authors
 *
 * A growable byte buffer.  adapters/ never sees an nginx pool, so the
 * buffers are malloc()ed; the nginx glue frees them from pool cleanups.
 */

#ifndef _LLM_BUF_H_INCLUDED_
#define _LLM_BUF_H_INCLUDED_


#include <stddef.h>
#include <stdarg.h>


typedef struct {
    char    *data;
    size_t   len;
    size_t   cap;
} llm_buf_t;


/* all functions returning int: 0 on success, -1 on allocation failure */
int llm_buf_reserve(llm_buf_t *b, size_t extra);
int llm_buf_append(llm_buf_t *b, const void *p, size_t n);
int llm_buf_appends(llm_buf_t *b, const char *s);
int llm_buf_printf(llm_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* appends a JSON string literal (with quotes), escaping as RFC 8259 wants */
int llm_buf_append_json_str(llm_buf_t *b, const char *s, size_t n);
/* drops n bytes from the front, keeping the rest */
void llm_buf_consume(llm_buf_t *b, size_t n);
void llm_buf_reset(llm_buf_t *b);
void llm_buf_free(llm_buf_t *b);


#endif /* _LLM_BUF_H_INCLUDED_ */
