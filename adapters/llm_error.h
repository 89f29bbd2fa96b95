/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI-shaped errors: {"error":{"message","type","param","code"}}.
 */

#ifndef _LLM_ERROR_H_INCLUDED_
#define _LLM_ERROR_H_INCLUDED_


#include "llm_buf.h"


typedef struct {
    int     status;             /* HTTP status for the client */
    char    type[48];
    char    code[48];           /* "" renders as null */
    char    param[64];          /* "" renders as null */
    char    message[1024];
} llm_error_t;


void llm_error_set(llm_error_t *e, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* appends {"error":{...}} */
int llm_error_json(const llm_error_t *e, llm_buf_t *out);

/*
 * The gateway convention of ../shared/providers/README.md section 6:
 * maps an upstream status (and what the provider body said) to the
 * client status, type and code.  "provider" prefixes the message.
 * hint_type/hint_code are the provider's own type/code strings (may be
 * NULL); they pick out context length, quota and overload cases.
 */
void llm_error_from_upstream(llm_error_t *e, const char *provider,
    int status, const char *hint_type, const char *hint_code,
    const char *message);


#endif /* _LLM_ERROR_H_INCLUDED_ */
