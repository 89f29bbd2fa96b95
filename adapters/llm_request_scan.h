/*
 * Copyright (C) ngx_llm authors
 *
 * The client body checked on its bytes, without a parse tree
 * (llm_request_scan.c).
 */

#ifndef _LLM_REQUEST_SCAN_H_INCLUDED_
#define _LLM_REQUEST_SCAN_H_INCLUDED_


#include "llm_adapter.h"
#include "llm_json.h"


typedef struct {
    llm_json_obj_t    root;         /* the body's members */
    llm_json_tape_t   tape;
    const char       *model;        /* "model", as written (no escapes), */
    size_t            model_len;    /* not NUL-terminated */
    int               stream;
    int               include_usage;
} llm_req_scan_t;


/*
 * LLM_OK: the body passes llm_request_validate() and s holds what the
 * glue needs of it; LLM_DECLINED: parse it with cJSON and validate the
 * tree, which then says what is wrong, if anything
 */
int llm_request_scan(const char *p, size_t len, llm_endpoint_e endpoint,
    llm_req_scan_t *s);


#endif /* _LLM_REQUEST_SCAN_H_INCLUDED_ */
