/*
 * Copyright (C) ngx_llm authors
 *
 * The provider adapter contract.  The OpenAI chat format is the hub;
 * every provider answers four questions (ARCHITECTURE.md):
 *
 *   request   OpenAI request + deployment -> method, path, headers, body
 *   response  provider JSON body -> OpenAI chat.completion JSON + usage
 *   stream    provider bytes, in any split -> OpenAI chunk SSE events
 *   error     provider status + body -> OpenAI error + client status
 *
 * Embeddings use the same entry points with call->endpoint set.
 * Nothing here knows about nginx: buffers in, buffers out.
 */

#ifndef _LLM_ADAPTER_H_INCLUDED_
#define _LLM_ADAPTER_H_INCLUDED_


#include <time.h>
#include <cjson/cJSON.h>

#include "llm_buf.h"
#include "llm_error.h"
#include "llm_config.h"
#include "llm_json.h"


typedef enum {
    LLM_ENDPOINT_CHAT = 0,
    LLM_ENDPOINT_EMBEDDINGS
} llm_endpoint_e;


/*
 * The parse of the client body, made on first use: the glue checks
 * the body with the scanner only (llm_request_scan.h), and the tree
 * costs more than the rest of a forwarded call.  Owned by the glue,
 * which frees tree.
 */
typedef struct {
    cJSON                    *tree;
} llm_call_lazy_t;


/* one client call, as seen by an adapter on one try */
typedef struct {
    llm_endpoint_e            endpoint;
    const llm_deployment_t   *dep;
    /*
     * the client body, never modified; NULL when only scanned: read it
     * with llm_call_req(), which parses body into lazy on first use
     */
    const cJSON              *req;
    llm_call_lazy_t          *lazy;
    const char               *model_name;   /* as the client asked */
    int                       stream;       /* req "stream": true */
    int                       include_usage; /* stream_options.include_usage */
    int                       drop_params;  /* effective drop_params */
    char                      id[64];       /* "chatcmpl-..." for the reply */
    long long                 created;      /* unix seconds for the reply */
    time_t                    now;          /* for request signatures */

    /*
     * a bearer token the glue obtained for this deployment (Vertex AI's
     * OAuth2 access token), or NULL
     */
    const char               *access_token;

    /*
     * the client body exactly as received, req being its parse, or
     * NULL; the OpenAI adapter then forwards these bytes spliced
     * instead of printing a copy of req (llm_openai.c)
     */
    const char               *body;
    size_t                    body_len;

    /* body's members, when the glue scanned it already; or NULL */
    const llm_json_obj_t     *root;
} llm_call_t;


typedef struct {
    char    *name;
    char    *value;     /* in the name's block: only name is freed */
    int      ref;       /* neither is the request's: nothing is freed */
} llm_header_t;


#define LLM_MAX_HEADERS  16

/*
 * What to send upstream.  The glue adds Host, Content-Length,
 * Content-Type: application/json, Accept-Encoding: identity and
 * Connection; adapters add auth and provider headers.
 */
typedef struct {
    const char    *method;                  /* static string, "POST" */
    llm_buf_t      path;                    /* path and query, from '/' */
    llm_header_t   headers[LLM_MAX_HEADERS];
    size_t         nheaders;
    const char    *accept;                  /* static, or NULL */
    llm_buf_t      body;
} llm_http_req_t;


typedef struct {
    long long   prompt_tokens;
    long long   completion_tokens;
    long long   total_tokens;
    long long   cached_tokens;          /* cache reads, part of prompt */
    long long   cache_write_tokens;
    long long   reasoning_tokens;       /* part of completion */
    int         present;                /* the provider reported usage */
} llm_usage_t;


typedef struct llm_adapter_s  llm_adapter_t;
typedef struct llm_stream_s   llm_stream_t;


/*
 * The incremental translator.  Adapters append OpenAI SSE bytes to
 * s->out through the llm_chunk_* helpers; the glue drains s->out.
 */
struct llm_stream_s {
    const llm_adapter_t  *adapter;
    const llm_call_t     *call;         /* outlives the stream */
    llm_buf_t             out;          /* translated bytes not yet sent */
    llm_usage_t           usage;
    char                  finish_reason[32];
    int                   ntools;       /* OpenAI tool-call indexes used */

    unsigned              started:1;    /* the role chunk was emitted */
    unsigned              content:1;    /* a content or tool delta was */
    unsigned              finished:1;   /* the finish chunk was */
    unsigned              done:1;       /* data: [DONE] was */
    unsigned              failed:1;     /* an error event was */

    llm_error_t           error;        /* set when failed */
    void                 *priv;         /* adapter state */
};


/* return codes of adapter functions */
#define LLM_OK       0
#define LLM_ERROR   -1          /* err/s->error filled */


struct llm_adapter_s {
    const char  *name;

    int   (*build_request)(const llm_call_t *call, llm_http_req_t *out,
              llm_error_t *err);

    /* a 2xx non-streaming body -> OpenAI JSON in out */
    int   (*parse_response)(const llm_call_t *call, const char *body,
              size_t len, llm_buf_t *out, llm_usage_t *usage,
              llm_error_t *err);

    /* a non-2xx response (or a 2xx the provider uses for errors) */
    void  (*parse_error)(const llm_call_t *call, int status,
              const char *body, size_t len, llm_error_t *err);

    int   (*stream_init)(llm_stream_t *s);
    /* feeds decoded body bytes (no HTTP chunking); may emit into s->out */
    int   (*stream_feed)(llm_stream_t *s, const char *p, size_t n);
    /*
     * the upstream body ended: flush, and if the provider's end marker
     * never came, emit an error event and [DONE]
     */
    int   (*stream_eof)(llm_stream_t *s);
    void  (*stream_free)(llm_stream_t *s);
};


const llm_adapter_t *llm_adapter_get(llm_provider_e provider);

/* builds the request through the deployment's adapter */
int llm_request_build(const llm_call_t *call, llm_http_req_t *out,
    llm_error_t *err);
int llm_http_req_add_header(llm_http_req_t *r, const char *name,
    const char *value);
/*
 * a header whose name and value outlive the request (a literal, the
 * deployment's strings): referenced, not copied
 */
int llm_http_req_ref_header(llm_http_req_t *r, const char *name,
    const char *value);
void llm_http_req_free(llm_http_req_t *r);

llm_stream_t *llm_stream_new(const llm_call_t *call);
void llm_stream_free(llm_stream_t *s);


/*
 * Shared request helpers (llm_request.c).
 */

/*
 * the client body's tree: req, or the parse of body cached in lazy;
 * NULL when there is neither, or out of memory
 */
const cJSON *llm_call_req(const llm_call_t *call);

/* checks the client body: model, messages / input; fills err (400) */
int llm_request_validate(const cJSON *req, llm_endpoint_e endpoint,
    llm_error_t *err);

/*
 * a copy of the client body with the deployment's defaults merged
 * under it and "model" set to the provider model id; caller frees
 */
cJSON *llm_request_prepare(const llm_call_t *call);

/*
 * removes params the provider does not take: with drop_params they are
 * deleted, else the first one present fails with a 400 naming it
 */
int llm_request_drop_unsupported(cJSON *body, const char *const *names,
    int drop, const char *provider, llm_error_t *err);

/*
 * OpenAI's "stop" (a string or a list) as the list of sequences the
 * provider takes under key of out, leaving out empty ones (and with
 * no_blank those of only whitespace); nothing is added when none is left
 */
int llm_request_stop(cJSON *out, const char *key, const cJSON *stop,
    int no_blank);

/* "call_" + 24 random alphanumerics, NUL-terminated, into buf */
void llm_mint_id(char *buf, size_t size, const char *prefix);

/*
 * llm_mint_id() draws from a per-process generator seeded from
 * RAND_bytes() on first use; a forked process must reseed it, or it
 * repeats its parent's ids (nginx: in each worker's init_process)
 */
void llm_rand_reseed(void);


/*
 * Chunk emitters (llm_chunk.c): every translator produces its output
 * through these, so all providers look alike to the client
 * (../shared/providers/README.md section 5).
 */
int llm_chunk_role(llm_stream_t *s);
int llm_chunk_content(llm_stream_t *s, const char *text, size_t len);
int llm_chunk_reasoning(llm_stream_t *s, const char *text, size_t len);
int llm_chunk_tool_start(llm_stream_t *s, int index, const char *id,
    const char *name);
int llm_chunk_tool_args(llm_stream_t *s, int index, const char *frag,
    size_t len);
/* emits the finish chunk once; reason is the OpenAI value */
int llm_chunk_finish(llm_stream_t *s, const char *reason);
/* the usage chunk if the client asked for it, then [DONE] */
int llm_chunk_end(llm_stream_t *s);
/* data: {"error":...} then [DONE]; marks the stream failed */
int llm_chunk_error(llm_stream_t *s, const llm_error_t *e);
/* an already OpenAI-shaped chunk object: id/model/created are rewritten */
int llm_chunk_json(llm_stream_t *s, cJSON *chunk);


/*
 * Usage JSON for responses (llm_chunk.c).
 */
cJSON *llm_usage_to_json(const llm_usage_t *u);

/*
 * One OpenAI tool call of a response message (llm_chunk.c):
 * {"id","type":"function","function":{"name","arguments"}}; NULL on
 * allocation failure.  name may be NULL.
 */
cJSON *llm_tool_call_new(const char *id, const char *name,
    const char *arguments);

/*
 * The assistant message of a chat.completion (llm_chunk.c): content
 * (NULL: null), refusal null, reasoning_content when given, and the
 * thinking_blocks and tool_calls arrays when not empty; those two move
 * into the message (the pointers become NULL), else stay the caller's.
 */
cJSON *llm_message_new(const char *content, const char *reasoning,
    cJSON **thinking_blocks, cJSON **tool_calls);


#endif /* _LLM_ADAPTER_H_INCLUDED_ */
