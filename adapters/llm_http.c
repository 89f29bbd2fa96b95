/*
 * Copyright (C) ngx_llm authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_http.h"


#if defined(__SSE2__)
#include <emmintrin.h>
#define LLM_HTTP_SSE2  1
#else
#define LLM_HTTP_SSE2  0
#endif


static size_t llm_http_stop(const char *p, size_t i, size_t len,
    size_t *colon);
static const char *llm_http_line(const char *p, const char *end,
    const char **next);
static long long llm_http_length(const char *p, size_t len);
static int llm_http_dechunk(const char *p, const char *end, llm_buf_t *out,
    char *err, size_t errlen);


static const char *
llm_http_line(const char *p, const char *end, const char **next)
{
    const char  *lf;

    lf = memchr(p, '\n', end - p);
    if (lf == NULL) {
        return NULL;
    }

    *next = lf + 1;

    return (lf > p && lf[-1] == '\r') ? lf - 1 : lf;
}


/*
 * The first of '\n', '\r' or NUL from p[i] on, or len; *colon is set to
 * the first ':' before it, if there is one and it is not yet set.
 */
static size_t
llm_http_stop(const char *p, size_t i, size_t len, size_t *colon)
{
#if (LLM_HTTP_SSE2)
    unsigned  stop, col;
    __m128i   v;

    for ( ; i + 16 <= len; i += 16) {
        v = _mm_loadu_si128((const __m128i *) (const void *) (p + i));

        stop = (unsigned) _mm_movemask_epi8(
                   _mm_or_si128(_mm_or_si128(
                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
                       _mm_cmpeq_epi8(v, _mm_setzero_si128())));

        col = (unsigned) _mm_movemask_epi8(
                  _mm_cmpeq_epi8(v, _mm_set1_epi8(':')));

        if (stop) {
            /* only the colons before the stop */
            col &= (1u << __builtin_ctz(stop)) - 1;
        }

        if (col && *colon == len) {
            *colon = i + __builtin_ctz(col);
        }

        if (stop) {
            return i + __builtin_ctz(stop);
        }
    }
#endif

    for ( ; i < len; i++) {
        if (p[i] == '\n' || p[i] == '\r' || p[i] == '\0') {
            return i;
        }

        if (p[i] == ':' && *colon == len) {
            *colon = i;
        }
    }

    return len;
}


ssize_t
llm_http_header_line(const char *p, size_t len, llm_http_header_t *h)
{
    size_t       eol, lf, colon;
    const char  *v, *e;

    colon = len;
    eol = llm_http_stop(p, 0, len, &colon);

    if (eol == len) {
        return 0;
    }

    /* a NUL could end a value early for one reader and not another */
    if (p[eol] == '\0') {
        return -1;
    }

    lf = eol;

    if (p[eol] == '\r') {
        if (eol + 1 == len) {
            return 0;
        }

        if (p[eol + 1] != '\n') {
            return -1;
        }

        lf = eol + 1;
    }

    h->name = p;
    h->name_len = 0;
    h->value = p + eol;
    h->value_len = 0;

    if (eol == 0) {
        return lf + 1;
    }

    if (p[0] == ' ' || p[0] == '\t') {
        return -1;
    }

    if (colon == len || colon == 0) {
        h->name = NULL;
        return lf + 1;
    }

    for (v = p + colon + 1; *v == ' ' || *v == '\t'; v++) {
        /* void: p[eol] stops it */
    }

    for (e = p + eol; e > v && (e[-1] == ' ' || e[-1] == '\t'); e--) {
        /* void */
    }

    h->name_len = colon;
    h->value = v;
    h->value_len = e - v;

    return lf + 1;
}


int
llm_http_parse(const char *buf, size_t len, llm_http_resp_t *resp,
    char *err, size_t errlen)
{
    int                 chunked;
    ssize_t             n;
    long long           clen, v;
    const char         *p, *end, *eol, *next;
    llm_http_header_t   h;

    memset(resp, 0, sizeof(llm_http_resp_t));

    p = buf;
    end = buf + len;

    eol = llm_http_line(p, end, &next);

    if (eol == NULL || eol - p < 12 || strncmp(p, "HTTP/1.", 7) != 0
        || p[8] != ' ')
    {
        snprintf(err, errlen, "not an HTTP/1.x response");
        return -1;
    }

    resp->status = atoi(p + 9);

    if (resp->status < 100 || resp->status > 999) {
        snprintf(err, errlen, "invalid HTTP status");
        return -1;
    }

    chunked = 0;
    clen = -1;

    for (p = next; ; p += n) {
        n = llm_http_header_line(p, end - p, &h);

        if (n <= 0) {
            snprintf(err, errlen, n ? "invalid HTTP header line"
                                    : "truncated HTTP header");
            return -1;
        }

        if (h.name == NULL) {
            continue;
        }

        if (h.name_len == 0) {
            p += n;
            break;
        }

        if (h.name_len == 14
            && strncasecmp(h.name, "content-length", 14) == 0)
        {
            v = llm_http_length(h.value, h.value_len);

            if (v < 0 || (clen >= 0 && clen != v)) {
                snprintf(err, errlen, "invalid Content-Length");
                return -1;
            }

            clen = v;

        } else if (h.name_len == 17
                   && strncasecmp(h.name, "transfer-encoding", 17) == 0)
        {
            chunked = (h.value_len >= 7
                       && strncasecmp(h.value + h.value_len - 7, "chunked", 7)
                          == 0);

        } else if (h.name_len == 11
                   && strncasecmp(h.name, "retry-after", 11) == 0)
        {
            snprintf(resp->retry_after, sizeof(resp->retry_after), "%.*s",
                     (int) h.value_len, h.value);
        }
    }

    if (chunked) {
        return llm_http_dechunk(p, end, &resp->body, err, errlen);
    }

    if (clen >= 0) {
        if ((long long) (end - p) < clen) {
            snprintf(err, errlen, "truncated HTTP body");
            return -1;
        }

        end = p + clen;
    }

    if (llm_buf_append(&resp->body, p, end - p) != 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


/* a Content-Length: digits only, or -1 */
static long long
llm_http_length(const char *p, size_t len)
{
    size_t     i;
    long long  n;

    if (len == 0 || len > 15) {
        return -1;
    }

    n = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        n = n * 10 + (p[i] - '0');
    }

    return n;
}


static int
llm_http_dechunk(const char *p, const char *end, llm_buf_t *out, char *err,
    size_t errlen)
{
    char        *e;
    long long    size;
    const char  *eol, *next;

    for ( ;; ) {
        eol = llm_http_line(p, end, &next);

        if (eol == NULL) {
            snprintf(err, errlen, "truncated chunked body");
            return -1;
        }

        size = strtoll(p, &e, 16);

        if (e == p || size < 0) {
            snprintf(err, errlen, "invalid chunk size");
            return -1;
        }

        if (size == 0) {
            return 0;
        }

        p = next;

        if (end - p < size + 2) {
            snprintf(err, errlen, "truncated chunk");
            return -1;
        }

        if (llm_buf_append(out, p, (size_t) size) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        p += size;

        if (p[0] == '\r') {
            p++;
        }

        if (p < end && p[0] == '\n') {
            p++;
        }
    }
}


void
llm_http_resp_free(llm_http_resp_t *resp)
{
    llm_buf_free(&resp->body);
}
