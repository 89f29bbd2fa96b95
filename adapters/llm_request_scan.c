/*
 * Copyright (C) ngx_llm authors
 *
 * The client body checked without a parse tree.  Most requests are
 * forwarded almost as they came (an OpenAI-dialect deployment splices
 * the client's bytes, llm_openai_fast_request()), so building a cJSON
 * tree only to read "model" and "stream" and to check "messages" is
 * the largest cost of a call.  The scanner does those checks on the
 * bytes; the tree is parsed later, from the same bytes, only when an
 * adapter asks for it (llm_call_req()).
 *
 * The verdict must be the one llm_request_validate() gives on the
 * tree: so anything the two could read differently (escaped or
 * duplicate keys, an escaped model name, a document the scanner does
 * not vouch for) is declined, and every failed check too: the cJSON
 * path then finds the same fault and words the error.
 */


#include <string.h>

#include "llm_adapter.h"
#include "llm_request_scan.h"


static int llm_request_scan_messages(const char *p, llm_req_scan_t *s,
    const llm_json_member_t *msgs);
static int llm_request_scan_usage(const char *p, llm_req_scan_t *s);


int
llm_request_scan(const char *p, size_t len, llm_endpoint_e endpoint,
    llm_req_scan_t *s)
{
    const char               *bs;
    const llm_json_member_t  *m, *v;

    s->model = NULL;
    s->model_len = 0;
    s->stream = 0;
    s->include_usage = 0;

    if (p == NULL
        || llm_json_scan(p, len, &s->root, &s->tape) != 0
        || s->root.escaped
        || llm_json_has_dups(&s->root, p))
    {
        return LLM_DECLINED;
    }

    /* "model": a non-empty string without escapes, used as written */
    m = llm_json_get(&s->root, p, "model", 5);

    if (m == NULL || p[m->val] != '"' || m->val_end - m->val < 3) {
        return LLM_DECLINED;
    }

    bs = memchr(p + m->val + 1, '\\', m->val_end - m->val - 2);
    if (bs != NULL) {
        return LLM_DECLINED;
    }

    s->model = p + m->val + 1;
    s->model_len = m->val_end - m->val - 2;

    v = llm_json_get(&s->root, p, "stream", 6);

    if (v != NULL) {
        switch (p[v->val]) {
        case 't':
            s->stream = 1;
            break;
        case 'f':
        case 'n':
            break;
        default:
            return LLM_DECLINED;
        }
    }

    if (endpoint == LLM_ENDPOINT_EMBEDDINGS) {
        s->stream = 0;
        v = llm_json_get(&s->root, p, "input", 5);

        return (v != NULL && (p[v->val] == '"' || p[v->val] == '['))
               ? LLM_OK : LLM_DECLINED;
    }

    if (llm_request_scan_messages(p, s,
                                  llm_json_get(&s->root, p, "messages", 8))
        != LLM_OK)
    {
        return LLM_DECLINED;
    }

    return s->stream ? llm_request_scan_usage(p, s) : LLM_OK;
}


/* a non-empty array of objects, each with a string "role" */
static int
llm_request_scan_messages(const char *p, llm_req_scan_t *s,
    const llm_json_member_t *msgs)
{
    int                       rc, n;
    size_t                    pos, val, val_end;
    llm_json_obj_t            o;
    const llm_json_member_t  *role;

    if (msgs == NULL || p[msgs->val] != '[') {
        return LLM_DECLINED;
    }

    n = 0;
    pos = 0;

    for ( ;; ) {
        rc = llm_json_array_next(p, &s->tape, msgs->val, msgs->val_end, &pos,
                                 &val, &val_end);
        if (rc == 0) {
            break;
        }

        if (rc < 0
            || p[val] != '{'
            || llm_json_object(p, &s->tape, val, val_end, &o) != 0
            || o.escaped)
        {
            return LLM_DECLINED;
        }

        role = llm_json_get(&o, p, "role", 4);

        if (role == NULL || p[role->val] != '"') {
            return LLM_DECLINED;
        }

        n++;
    }

    return n > 0 ? LLM_OK : LLM_DECLINED;
}


/* stream_options.include_usage, as cJSON_IsTrue() would read it */
static int
llm_request_scan_usage(const char *p, llm_req_scan_t *s)
{
    llm_json_obj_t            o;
    const llm_json_member_t  *so, *iu;

    so = llm_json_get(&s->root, p, "stream_options", 14);

    /* anything but an object has no members: no usage asked for */
    if (so == NULL || p[so->val] != '{') {
        return LLM_OK;
    }

    if (llm_json_object(p, &s->tape, so->val, so->val_end, &o) != 0
        || o.escaped)
    {
        return LLM_DECLINED;
    }

    iu = llm_json_get(&o, p, "include_usage", 13);
    s->include_usage = (iu != NULL && p[iu->val] == 't');

    return LLM_OK;
}
