/*
 * Copyright (C) ngx_llm authors
 *
 * Incremental framers: Server-Sent Events (the WHATWG event-stream
 * format, minus id/retry which no provider needs) and NDJSON.
 *
 * Bytes arrive in arbitrary splits, so a line may be cut anywhere,
 * including between the '\r' and '\n' of a CRLF.  Complete lines found
 * in the input are handled in place; only a trailing partial line is
 * copied into p->line.
 */


#include <stdlib.h>
#include <string.h>

#include "llm_sse.h"


#define LLM_SSE_DEFAULT_MAX  (16 * 1024 * 1024)


static size_t llm_sse_eol(const char *buf, size_t i, size_t n);
static int llm_sse_line(llm_sse_t *p, const char *line, size_t len);
static int llm_sse_field(llm_sse_t *p, const char *line, size_t len);
static int llm_sse_dispatch(llm_sse_t *p);
static int llm_ndjson_line(llm_ndjson_t *p, const char *line, size_t len);


void
llm_sse_init(llm_sse_t *p, llm_sse_event_pt handler, void *data)
{
    memset(p, 0, sizeof(llm_sse_t));

    p->handler = handler;
    p->handler_data = data;
}


int
llm_sse_feed(llm_sse_t *p, const char *buf, size_t n)
{
    int          rc;
    size_t       max, i, start;
    const char  *line;
    size_t       len;

    max = p->max ? p->max : LLM_SSE_DEFAULT_MAX;
    i = 0;

    /* the '\n' of a CRLF whose '\r' ended the previous feed */
    if (p->cr && n > 0) {
        p->cr = 0;

        if (buf[0] == '\n') {
            i = 1;
        }
    }

    start = i;

    for ( /* void */ ; i < n; i++) {

        i = llm_sse_eol(buf, i, n);

        if (i == n) {
            break;
        }

        if (p->line.len) {
            if (p->line.len + (i - start) > max
                || llm_buf_append(&p->line, buf + start, i - start) != 0)
            {
                return -1;
            }

            line = p->line.data;
            len = p->line.len;

        } else {
            line = buf + start;
            len = i - start;

            if (len > max) {
                return -1;
            }
        }

        if (buf[i] == '\r') {
            if (i + 1 == n) {
                p->cr = 1;

            } else if (buf[i + 1] == '\n') {
                i++;
            }
        }

        start = i + 1;

        rc = llm_sse_line(p, line, len);
        llm_buf_reset(&p->line);

        if (rc != 0) {
            return rc;
        }
    }

    if (start < n) {
        if (p->line.len + (n - start) > max
            || llm_buf_append(&p->line, buf + start, n - start) != 0)
        {
            return -1;
        }
    }

    return 0;
}


/*
 * The first '\n' or '\r' from i on, or n.  Lines are long (a JSON
 * chunk each) and most streams end them with '\n' alone: two memchr()
 * calls, which look at many bytes a step, beat a loop over each byte.
 */
static size_t
llm_sse_eol(const char *buf, size_t i, size_t n)
{
    const char  *lf, *cr;

    lf = memchr(buf + i, '\n', n - i);
    cr = memchr(buf + i, '\r', (lf ? (size_t) (lf - buf) : n) - i);

    if (cr) {
        return cr - buf;
    }

    return lf ? (size_t) (lf - buf) : n;
}


static int
llm_sse_line(llm_sse_t *p, const char *line, size_t len)
{
    if (len == 0) {
        return llm_sse_dispatch(p);
    }

    if (line[0] == ':') {
        return 0;
    }

    return llm_sse_field(p, line, len);
}


static int
llm_sse_field(llm_sse_t *p, const char *line, size_t len)
{
    size_t       nlen, vlen, max;
    const char  *colon, *value;

    colon = memchr(line, ':', len);

    if (colon) {
        nlen = colon - line;
        value = colon + 1;
        vlen = len - nlen - 1;

        if (vlen && value[0] == ' ') {
            value++;
            vlen--;
        }

    } else {
        /* a bare field name has an empty value */
        nlen = len;
        value = "";
        vlen = 0;
    }

    if (nlen == 5 && memcmp(line, "event", 5) == 0) {
        llm_buf_reset(&p->event);
        return llm_buf_append(&p->event, value, vlen);
    }

    if (nlen != 4 || memcmp(line, "data", 4) != 0) {
        /* id, retry and unknown fields */
        return 0;
    }

    max = p->max ? p->max : LLM_SSE_DEFAULT_MAX;

    if (p->data.len + vlen + 1 > max) {
        return -1;
    }

    if (p->has_data && llm_buf_append(&p->data, "\n", 1) != 0) {
        return -1;
    }

    p->has_data = 1;

    return llm_buf_append(&p->data, value, vlen);
}


static int
llm_sse_dispatch(llm_sse_t *p)
{
    int          rc;
    const char  *event, *data;

    if (!p->has_data) {
        /* an event without data lines is not dispatched */
        llm_buf_reset(&p->event);
        return 0;
    }

    /* both are NUL-terminated for handlers that want C strings */
    event = p->event.data ? p->event.data : "";
    data = p->data.data ? p->data.data : "";

    rc = p->handler(p->handler_data, event, p->event.len, data, p->data.len);

    llm_buf_reset(&p->event);
    llm_buf_reset(&p->data);
    p->has_data = 0;

    return rc;
}


int
llm_sse_finish(llm_sse_t *p)
{
    int  rc;

    p->cr = 0;

    if (p->line.len) {
        rc = llm_sse_line(p, p->line.data, p->line.len);
        llm_buf_reset(&p->line);

        if (rc != 0) {
            return rc;
        }
    }

    /* providers such as Gemini close without the final blank line */
    return llm_sse_dispatch(p);
}


void
llm_sse_free(llm_sse_t *p)
{
    llm_buf_free(&p->line);
    llm_buf_free(&p->event);
    llm_buf_free(&p->data);
    p->has_data = 0;
    p->cr = 0;
}


void
llm_ndjson_init(llm_ndjson_t *p, llm_ndjson_line_pt handler, void *data)
{
    memset(p, 0, sizeof(llm_ndjson_t));

    p->handler = handler;
    p->handler_data = data;
}


int
llm_ndjson_feed(llm_ndjson_t *p, const char *buf, size_t n)
{
    int          rc;
    size_t       max, start;
    const char  *nl, *line;
    size_t       len;

    max = p->max ? p->max : LLM_SSE_DEFAULT_MAX;
    start = 0;

    while (start < n) {
        nl = memchr(buf + start, '\n', n - start);

        if (nl == NULL) {
            break;
        }

        len = nl - (buf + start);

        if (p->line.len) {
            if (p->line.len + len > max
                || llm_buf_append(&p->line, buf + start, len) != 0)
            {
                return -1;
            }

            line = p->line.data;
            len = p->line.len;

        } else {
            line = buf + start;
        }

        start = nl - buf + 1;

        rc = llm_ndjson_line(p, line, len);
        llm_buf_reset(&p->line);

        if (rc != 0) {
            return rc;
        }
    }

    if (start < n) {
        if (p->line.len + (n - start) > max
            || llm_buf_append(&p->line, buf + start, n - start) != 0)
        {
            return -1;
        }
    }

    return 0;
}


static int
llm_ndjson_line(llm_ndjson_t *p, const char *line, size_t len)
{
    size_t  max, i;

    max = p->max ? p->max : LLM_SSE_DEFAULT_MAX;

    if (len && line[len - 1] == '\r') {
        len--;
    }

    if (len > max) {
        return -1;
    }

    /* blank and whitespace-only lines carry no object */
    for (i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
            return p->handler(p->handler_data, line, len);
        }
    }

    return 0;
}


int
llm_ndjson_finish(llm_ndjson_t *p)
{
    int  rc;

    if (p->line.len == 0) {
        return 0;
    }

    rc = llm_ndjson_line(p, p->line.data, p->line.len);
    llm_buf_reset(&p->line);

    return rc;
}


void
llm_ndjson_free(llm_ndjson_t *p)
{
    llm_buf_free(&p->line);
}
