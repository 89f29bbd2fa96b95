/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI-dialect streams.  Upstream chunks already are OpenAI chunks,
 * so they are relayed with id/created/model rewritten; what changes is
 * usage (always requested upstream for spend tracking, shown only when
 * the client asked), Mistral's finish values and content arrays,
 * Groq's x_groq, and the end: [DONE] or an error event, never silence.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_openai.h"
#include "llm_sse.h"


typedef struct {
    llm_sse_t          sse;
    const char        *created;      /* call->created in decimal */
    const char        *model;        /* the client's model name, or "" */
    size_t             created_len;
    size_t             model_len;
    size_t             id_len;
    char               created_buf[24];
    unsigned           top_usage:1;  /* a top-level usage object was seen */
    unsigned           nomem:1;
    unsigned           slow:1;       /* no fast path: not OpenAI, or a test */

    /* the state of the last full scan of a chunk at its "choices" */
    llm_json_ckpt_t    ckpt;
} llm_openai_stream_ctx_t;


/* the members of a chunk's root that the fast path reads or sets */
typedef struct {
    const llm_json_member_t   *id;
    const llm_json_member_t   *created;
    const llm_json_member_t   *model;
    const llm_json_member_t   *choices;
    const llm_json_member_t   *usage;
} llm_openai_chunk_root_t;


/* what one chunk does to the stream, kept until the chunk is relayed */
typedef struct {
    const char   *reason;       /* the first finish_reason, or NULL */
    size_t        reason_len;
    int           ntools;
    unsigned      content:1;
    unsigned      role:1;       /* the first choice's delta has one */
} llm_openai_fast_t;


static int llm_openai_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len);
static int llm_openai_chunk(llm_stream_t *s, cJSON *root);
static int llm_openai_chunk_usage(llm_stream_t *s, cJSON *root);
static void llm_openai_chunk_delta(llm_stream_t *s, cJSON *delta,
    int finished);
static int llm_openai_stream_fail(llm_stream_t *s, const char *what);
static int llm_openai_fast_root(const llm_json_obj_t *o, const char *p,
    llm_openai_chunk_root_t *r);
static int llm_openai_fast_choice(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, int first, llm_json_splice_t *sp,
    llm_openai_fast_t *f, const llm_stream_t *s);
static int llm_openai_fast_delta(const char *p, const llm_json_tape_t *tape,
    const llm_json_member_t *dm, int first, int finished,
    llm_json_splice_t *sp, llm_openai_fast_t *f);
static int llm_openai_case_eq(const char *p, const char *key, size_t len);


int
llm_openai_stream_init(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx;

    ctx = malloc(sizeof(llm_openai_stream_ctx_t));
    if (ctx == NULL) {
        return LLM_ERROR;
    }

    /* the checkpoint's arrays are written before they are read */
    memset(ctx, 0, offsetof(llm_openai_stream_ctx_t, ckpt));
    ctx->ckpt.off = 0;
    ctx->ckpt.valid = 0;

    llm_sse_init(&ctx->sse, llm_openai_event, s);
    ctx->slow = (s->call->dep->provider != LLM_PROVIDER_OPENAI);
    s->priv = ctx;

    return LLM_OK;
}


void
llm_openai_stream_slow(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx = s->priv;

    ctx->slow = 1;
}


int
llm_openai_stream_feed(llm_stream_t *s, const char *p, size_t n)
{
    int                       rc;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    /* whatever follows [DONE] or an error is of no interest */
    if (s->done) {
        return LLM_OK;
    }

    rc = llm_sse_feed(&ctx->sse, p, n);

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (rc == -1 && !s->done) {
        return llm_openai_stream_fail(s, "sent an oversized stream event");
    }

    return LLM_OK;
}


int
llm_openai_stream_eof(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (!s->done) {
        /* the last event may lack its blank line */
        (void) llm_sse_finish(&ctx->sse);
    }

    if (ctx->nomem) {
        return LLM_ERROR;
    }

    if (!s->done) {
        return llm_openai_stream_fail(s,
                                      "closed the stream before it ended");
    }

    return LLM_OK;
}


void
llm_openai_stream_free(llm_stream_t *s)
{
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (ctx == NULL) {
        return;
    }

    llm_sse_free(&ctx->sse);
    free(ctx);
    s->priv = NULL;
}


static int
llm_openai_stream_fail(llm_stream_t *s, const char *what)
{
    llm_error_t  e;

    llm_error_set(&e, 502, "server_error", NULL, NULL, "%s: upstream %s",
                  llm_openai_provider(s->call), what);

    return llm_chunk_error(s, &e);
}


/* returns 0 to go on, 1 at the end of the stream, -1 out of memory */
static int
llm_openai_event(void *data, const char *event, size_t event_len,
    const char *payload, size_t payload_len)
{
    int                       rc;
    cJSON                    *root;
    llm_error_t               e;
    llm_stream_t             *s = data;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    if (s->done) {
        return 1;
    }

    while (payload_len && (payload[0] == ' ' || payload[0] == '\n')) {
        payload++;
        payload_len--;
    }

    while (payload_len && (payload[payload_len - 1] == ' '
                           || payload[payload_len - 1] == '\n'))
    {
        payload_len--;
    }

    if (payload_len == 6 && memcmp(payload, "[DONE]", 6) == 0) {
        rc = llm_chunk_end(s) == LLM_OK ? 1 : -1;
        goto done;
    }

    if (!ctx->slow) {
        rc = llm_openai_fast_chunk(s, payload, payload_len);

        if (rc == LLM_OK) {
            return 0;
        }

        if (rc == LLM_ERROR) {
            rc = -1;
            goto done;
        }
    }

    root = cJSON_ParseWithLength(payload, payload_len);

    if (!cJSON_IsObject(root)) {
        /* not a chunk: a keep-alive or a server's own noise */
        cJSON_Delete(root);
        return 0;
    }

    if (cJSON_GetObjectItemCaseSensitive(root, "error")
        && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(root, "error")))
    {
        llm_openai_error_json(s->call, 0, root, &e);
        cJSON_Delete(root);
        rc = llm_chunk_error(s, &e) == LLM_OK ? 1 : -1;
        goto done;
    }

    rc = llm_openai_chunk(s, root) == LLM_OK ? 0 : -1;
    cJSON_Delete(root);

done:

    if (rc < 0) {
        ctx->nomem = 1;
    }

    return rc;
}


static int
llm_openai_chunk(llm_stream_t *s, cJSON *root)
{
    cJSON         *choices, *c, *delta;
    const cJSON   *first;

    if (llm_openai_chunk_usage(s, root) != LLM_OK) {
        return LLM_ERROR;
    }

    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");

    /* a usage-only chunk: llm_chunk_end shows usage when asked */
    if (!cJSON_IsArray(choices) || cJSON_GetArraySize(choices) == 0) {
        return LLM_OK;
    }

    cJSON_ArrayForEach(c, choices) {
        if (cJSON_IsObject(c) && llm_openai_chunk_choice(s, c) != LLM_OK) {
            return LLM_ERROR;
        }
    }

    /* every client sees a role chunk first, whatever the server does */
    first = cJSON_GetArrayItem(choices, 0);
    delta = cJSON_GetObjectItemCaseSensitive(first, "delta");

    if (!s->started && !cJSON_HasObjectItem(delta, "role")
        && llm_chunk_role(s) != LLM_OK)
    {
        return LLM_ERROR;
    }

    return llm_chunk_json(s, root);
}


static int
llm_openai_chunk_usage(llm_stream_t *s, cJSON *root)
{
    cJSON                    *u, *xg;
    llm_openai_stream_ctx_t  *ctx = s->priv;

    u = cJSON_GetObjectItemCaseSensitive(root, "usage");

    if (cJSON_IsObject(u)) {
        memset(&s->usage, 0, sizeof(llm_usage_t));
        llm_openai_usage(u, &s->usage);
        ctx->top_usage = 1;

    } else if (!ctx->top_usage) {
        /* Groq's older form, on the finish chunk */
        xg = cJSON_GetObjectItemCaseSensitive(root, "x_groq");
        u = cJSON_GetObjectItemCaseSensitive(xg, "usage");

        if (cJSON_IsObject(u)) {
            memset(&s->usage, 0, sizeof(llm_usage_t));
            llm_openai_usage(u, &s->usage);
        }
    }

    cJSON_DeleteItemFromObjectCaseSensitive(root, "x_groq");

    if (!s->call->include_usage) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "usage");
        return LLM_OK;
    }

    /* with include_usage every chunk but the usage chunk has null */
    u = cJSON_CreateNull();
    if (u == NULL) {
        return LLM_ERROR;
    }

    if (cJSON_HasObjectItem(root, "usage")) {
        if (!cJSON_ReplaceItemInObjectCaseSensitive(root, "usage", u)) {
            /* the one there is spelled in another case: it stays */
            cJSON_Delete(u);
        }

    } else {
        cJSON_AddItemToObject(root, "usage", u);
    }

    return LLM_OK;
}


int
llm_openai_chunk_choice(llm_stream_t *s, cJSON *c)
{
    int          finished;
    cJSON       *fr, *delta, *v;
    const char  *reason;

    finished = 0;
    fr = cJSON_GetObjectItemCaseSensitive(c, "finish_reason");

    if (cJSON_IsString(fr)) {
        reason = llm_openai_finish(s->call, fr->valuestring);

        if (reason != fr->valuestring) {
            v = cJSON_CreateString(reason);
            if (v == NULL) {
                return LLM_ERROR;
            }

            cJSON_ReplaceItemInObjectCaseSensitive(c, "finish_reason", v);
            fr = v;
        }

        finished = 1;

        if (!s->finished) {
            s->finished = 1;
            memset(s->finish_reason, 0, sizeof(s->finish_reason));
            strncpy(s->finish_reason, fr->valuestring,
                    sizeof(s->finish_reason) - 1);
        }
    }

    if (!cJSON_HasObjectItem(c, "logprobs")
        && cJSON_AddNullToObject(c, "logprobs") == NULL)
    {
        return LLM_ERROR;
    }

    delta = cJSON_GetObjectItemCaseSensitive(c, "delta");

    if (cJSON_IsObject(delta)) {
        if (llm_openai_join_content(delta) != LLM_OK) {
            return LLM_ERROR;
        }

        llm_openai_chunk_delta(s, delta, finished);
    }

    return LLM_OK;
}


static void
llm_openai_chunk_delta(llm_stream_t *s, cJSON *delta, int finished)
{
    int          idx;
    cJSON       *v, *tc, *calls;

    v = cJSON_GetObjectItemCaseSensitive(delta, "content");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        s->content = 1;

    } else if (finished && cJSON_IsString(v)) {
        /* Mistral's finish chunk says "content": "" */
        cJSON_DeleteItemFromObjectCaseSensitive(delta, "content");
    }

    v = cJSON_GetObjectItemCaseSensitive(delta, "reasoning_content");

    if (cJSON_IsString(v) && v->valuestring[0]) {
        s->content = 1;
    }

    calls = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");

    if (!cJSON_IsArray(calls)) {
        return;
    }

    if (cJSON_GetArraySize(calls) == 0) {
        /* Groq sends "tool_calls": [] */
        cJSON_DeleteItemFromObjectCaseSensitive(delta, "tool_calls");
        return;
    }

    s->content = 1;

    cJSON_ArrayForEach(tc, calls) {
        idx = 0;
        v = cJSON_GetObjectItemCaseSensitive(tc, "index");

        if (cJSON_IsNumber(v) && v->valuedouble >= 0
            && v->valuedouble < 1024)
        {
            idx = (int) v->valuedouble;
        }

        if (idx >= s->ntools) {
            s->ntools = idx + 1;
        }
    }
}


/*
 * An OpenAI chunk is relayed as it came but for id, created, model and
 * usage, and the few keys llm_openai_chunk_choice() fills in or drops;
 * so its bytes are spliced, with what llm_openai_chunk() would record
 * read from them.  Nothing in s changes until the chunk is relayed, so
 * a decline at any point leaves the chunk to the cJSON path whole.
 * Each object is read in one pass over its members.  Declined: errors,
 * x_groq, content parts, escaped keys, a key read or set here that
 * appears twice (which one counts would depend on the reader; other
 * duplicates are relayed, by both paths), and keys that differ from
 * ours only in case, which cJSON_HasObjectItem() would see.
 */
int
llm_openai_fast_chunk(llm_stream_t *s, const char *p, size_t n)
{
    int                        rc, first, has_usage, started;
    size_t                     count, pos, v, ve, saved;
    llm_usage_t                usage;
    llm_json_obj_t             root;
    llm_json_tape_t            tape;
    llm_openai_fast_t          f;
    llm_json_splice_t          sp;
    llm_openai_chunk_root_t    r;
    const llm_json_member_t   *u, *choices;
    llm_openai_stream_ctx_t   *ctx = s->priv;

    /*
     * the chunks of a stream mostly begin with the same bytes up to
     * "choices", which are scanned once
     */
    if (llm_json_scan_ckpt(p, n, &root, &tape, "choices", 7, &ctx->ckpt)
        != 0
        || root.escaped
        || llm_openai_fast_root(&root, p, &r) != LLM_OK)
    {
        return LLM_DECLINED;
    }

    u = r.usage;
    has_usage = (u && p[u->val] == '{');

    if (has_usage) {
        memset(&usage, 0, sizeof(llm_usage_t));

        if (llm_openai_fast_usage(p, &tape, u, &usage) != LLM_OK) {
            return LLM_DECLINED;
        }
    }

    choices = r.choices;
    pos = 0;

    if (choices == NULL || p[choices->val] != '['
        || llm_json_array_next(p, &tape, choices->val, choices->val_end,
                               &pos, &v, &ve) != 1)
    {
        /* usage only, or nothing: llm_chunk_end() shows usage if asked */
        if (has_usage) {
            s->usage = usage;
            ctx->top_usage = 1;
        }

        return LLM_OK;
    }

    llm_json_splice_init(&sp, p, &root);
    count = root.n;

    /* with include_usage every chunk but the usage chunk has null */
    if (!s->call->include_usage) {
        if (u) {
            count = llm_json_remove(&sp, &root,
                                    (uint64_t) 1 << (u - root.m));
        }

    } else if (u) {
        llm_json_replace(&sp, u->val, u->val_end, "null", 4, 0);

    } else {
        llm_json_add(&sp, &root, &count, "usage", 5, "null", 4, 0);
    }

    memset(&f, 0, sizeof(llm_openai_fast_t));
    f.ntools = s->ntools;
    first = 1;

    /* pos, v and ve hold the first element already */
    do {
        if (p[v] == '{'
            && llm_openai_fast_choice(p, &tape, v, ve, first, &sp, &f, s)
               != LLM_OK)
        {
            return LLM_DECLINED;
        }

        first = 0;

    } while ((rc = llm_json_array_next(p, &tape, choices->val,
                                       choices->val_end, &pos, &v, &ve))
             == 1);

    if (rc != 0) {
        return LLM_DECLINED;
    }

    /* the same on every chunk of a call: printed and measured once */
    if (ctx->created == NULL) {
        ctx->created = llm_json_int(ctx->created_buf, s->call->created);
        ctx->created_len = ctx->created_buf + 23 - ctx->created;
        ctx->model = s->call->model_name ? s->call->model_name : "";
        ctx->model_len = strlen(ctx->model);
        ctx->id_len = strlen(s->call->id);
    }

    /* one id, one created and the client's model name on every chunk */
    llm_json_put(&sp, &root, r.id, &count, "id", 2, s->call->id,
                 ctx->id_len, 1);
    llm_json_put(&sp, &root, r.created, &count, "created", 7, ctx->created,
                 ctx->created_len, 0);
    llm_json_put(&sp, &root, r.model, &count, "model", 5, ctx->model,
                 ctx->model_len, 1);

    /* every client sees a role chunk first, whatever the server does */
    saved = s->out.len;
    started = s->started;

    if ((!s->started && !f.role && llm_chunk_role(s) != LLM_OK)
        || llm_buf_append(&s->out, "data: ", 6) != 0
        || llm_json_splice(&sp, &s->out) != 0
        || llm_buf_append(&s->out, "\n\n", 2) != 0)
    {
        /* out of memory, most likely: the cJSON path will tell */
        s->out.len = saved;

        if (s->out.data) {
            s->out.data[saved] = '\0';
        }

        s->started = started;

        return LLM_DECLINED;
    }

    s->started = 1;

    if (has_usage) {
        s->usage = usage;
        ctx->top_usage = 1;
    }

    if (f.reason) {
        s->finished = 1;
        memset(s->finish_reason, 0, sizeof(s->finish_reason));
        memcpy(s->finish_reason, f.reason,
               f.reason_len < sizeof(s->finish_reason) - 1
               ? f.reason_len : sizeof(s->finish_reason) - 1);
    }

    if (f.content) {
        s->content = 1;
    }

    s->ntools = f.ntools;

    return LLM_OK;
}


/*
 * The root's members, classified by key length, then bytes.  error and
 * x_groq take the cJSON path whatever their value; so does a usage
 * spelled in another case: cJSON_HasObjectItem() in
 * llm_openai_chunk_usage() would find it.
 */
static int
llm_openai_fast_root(const llm_json_obj_t *o, const char *p,
    llm_openai_chunk_root_t *r)
{
    uint32_t                   i;
    const llm_json_member_t   *m, **slot;

    memset(r, 0, sizeof(llm_openai_chunk_root_t));

    for (i = 0; i < o->n; i++) {
        m = &o->m[i];

        switch (m->key_len) {

        case 2:
            slot = llm_json_key_is(m, p, "id", 2) ? &r->id : NULL;
            break;

        case 5:
            if (llm_json_key_is(m, p, "model", 5)) {
                slot = &r->model;

            } else if (llm_json_key_is(m, p, "usage", 5)) {
                slot = &r->usage;

            } else if (llm_json_key_is(m, p, "error", 5)
                       || llm_openai_case_eq(p + m->key + 1, "usage", 5))
            {
                return LLM_DECLINED;

            } else {
                slot = NULL;
            }

            break;

        case 6:
            if (llm_json_key_is(m, p, "x_groq", 6)) {
                return LLM_DECLINED;
            }

            slot = NULL;
            break;

        case 7:
            slot = llm_json_key_is(m, p, "created", 7) ? &r->created
                   : llm_json_key_is(m, p, "choices", 7) ? &r->choices
                   : NULL;
            break;

        default:
            slot = NULL;
        }

        if (slot && llm_json_take(slot, m) != 0) {
            return LLM_DECLINED;
        }
    }

    return LLM_OK;
}


/* llm_openai_chunk_choice() on the bytes of one choice object */
static int
llm_openai_fast_choice(const char *p, const llm_json_tape_t *tape,
    size_t start, size_t end, int first, llm_json_splice_t *sp,
    llm_openai_fast_t *f, const llm_stream_t *s)
{
    int                        finished, logprobs;
    size_t                     count;
    uint32_t                   i;
    llm_json_obj_t             c;
    const llm_json_member_t   *x, *fr, *delta;

    if (llm_json_object(p, tape, start, end, &c) != 0 || c.escaped) {
        return LLM_DECLINED;
    }

    fr = NULL;
    delta = NULL;

    /* only whether there is one, as cJSON_HasObjectItem(): one or two */
    logprobs = 0;

    for (i = 0; i < c.n; i++) {
        x = &c.m[i];

        switch (x->key_len) {

        case 5:
            if (llm_json_key_is(x, p, "delta", 5)
                && llm_json_take(&delta, x) != 0)
            {
                return LLM_DECLINED;
            }

            break;

        case 8:
            if (llm_json_key_is(x, p, "logprobs", 8)) {
                logprobs = 1;

            } else if (llm_openai_case_eq(p + x->key + 1, "logprobs", 8)) {
                /* cJSON_HasObjectItem() would see it */
                return LLM_DECLINED;
            }

            break;

        case 13:
            if (llm_json_key_is(x, p, "finish_reason", 13)
                && llm_json_take(&fr, x) != 0)
            {
                return LLM_DECLINED;
            }

            break;
        }
    }

    /* Mistral's finish values are mapped; OpenAI's are relayed */
    finished = 0;

    if (fr && p[fr->val] == '"') {
        finished = 1;

        if (!s->finished && f->reason == NULL) {
            f->reason = p + fr->val + 1;
            f->reason_len = fr->val_end - fr->val - 2;

            if (memchr(f->reason, '\\', f->reason_len)) {
                return LLM_DECLINED;
            }
        }
    }

    if (!logprobs) {
        count = c.n;
        llm_json_add(sp, &c, &count, "logprobs", 8, "null", 4, 0);
    }

    if (delta && p[delta->val] == '{') {
        return llm_openai_fast_delta(p, tape, delta, first, finished, sp,
                                     f);
    }

    return LLM_OK;
}


/* llm_openai_chunk_delta(), and whether the first delta has a role */
static int
llm_openai_fast_delta(const char *p, const llm_json_tape_t *tape,
    const llm_json_member_t *dm, int first, int finished,
    llm_json_splice_t *sp, llm_openai_fast_t *f)
{
    int                        rc, k;
    double                     idx;
    size_t                     pos, v, ve;
    uint32_t                   j;
    uint64_t                   drop;
    llm_json_obj_t             d, t;
    const llm_json_member_t   *x, *i, *content, *reasoning, *calls;

    if (llm_json_object(p, tape, dm->val, dm->val_end, &d) != 0
        || d.escaped)
    {
        return LLM_DECLINED;
    }

    content = NULL;
    reasoning = NULL;
    calls = NULL;

    for (j = 0; j < d.n; j++) {
        x = &d.m[j];

        switch (x->key_len) {

        case 4:
            /*
             * cJSON_HasObjectItem() ignores case; a role seen twice is
             * seen all the same
             */
            if (first && !f->role
                && (llm_json_key_is(x, p, "role", 4)
                    || llm_openai_case_eq(p + x->key + 1, "role", 4)))
            {
                f->role = 1;
            }

            break;

        case 7:
            if (llm_json_key_is(x, p, "content", 7)
                && llm_json_take(&content, x) != 0)
            {
                return LLM_DECLINED;
            }

            break;

        case 10:
            if (llm_json_key_is(x, p, "tool_calls", 10)
                && llm_json_take(&calls, x) != 0)
            {
                return LLM_DECLINED;
            }

            break;

        case 17:
            if (llm_json_key_is(x, p, "reasoning_content", 17)
                && llm_json_take(&reasoning, x) != 0)
            {
                return LLM_DECLINED;
            }

            break;
        }
    }

    drop = 0;
    x = content;

    if (x && p[x->val] == '[') {
        /* parts to join */
        return LLM_DECLINED;
    }

    if (x && p[x->val] == '"') {
        if (x->val_end - x->val > 2) {
            f->content = 1;

        } else if (finished) {
            /* Mistral's finish chunk says "content": "" */
            drop |= (uint64_t) 1 << (x - d.m);
        }
    }

    x = reasoning;

    if (x && p[x->val] == '"' && x->val_end - x->val > 2) {
        f->content = 1;
    }

    x = calls;

    if (x && p[x->val] == '[') {
        pos = 0;
        k = 0;

        while ((rc = llm_json_array_next(p, tape, x->val, x->val_end, &pos,
                                         &v, &ve))
               == 1)
        {
            k++;
            idx = 0;

            if (p[v] == '{') {
                if (llm_json_object(p, tape, v, ve, &t) != 0 || t.escaped) {
                    return LLM_DECLINED;
                }

                i = llm_json_get(&t, p, "index", 5);

                if (i && (p[i->val] == '-'
                          || (p[i->val] >= '0' && p[i->val] <= '9')))
                {
                    idx = llm_json_number(p + i->val, i->val_end - i->val);

                    if (!(idx >= 0 && idx < 1024)) {
                        idx = 0;
                    }
                }
            }

            if ((int) idx >= f->ntools) {
                f->ntools = (int) idx + 1;
            }
        }

        if (rc != 0) {
            return LLM_DECLINED;
        }

        if (k == 0) {
            /* Groq sends "tool_calls": [] */
            drop |= (uint64_t) 1 << (x - d.m);

        } else {
            f->content = 1;
        }
    }

    if (drop) {
        (void) llm_json_remove(sp, &d, drop);
    }

    return LLM_OK;
}


/*
 * whether key, lowercase, matches the len bytes at p ignoring ASCII
 * case, as cJSON's case-insensitive lookups do; called for a key of
 * that length that is not key exactly
 */
static int
llm_openai_case_eq(const char *p, const char *key, size_t len)
{
    size_t         k;
    unsigned char  c;

    for (k = 0; k < len; k++) {
        c = (unsigned char) p[k];

        if (c >= 'A' && c <= 'Z') {
            c |= 0x20;
        }

        if (c != (unsigned char) key[k]) {
            return 0;
        }
    }

    return 1;
}
