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


static size_t llm_http_stop(const char *p, size_t len, size_t *colon);
static const char *llm_http_line(const char *p, const char *end,
    const char **next);
static long long llm_http_length(const char *p, size_t len);
static int llm_http_dechunk(const char *p, const char *end, llm_buf_t *out,
    char *err, size_t errlen);
static int llm_http_chunk_size(const char *p, const char *eol,
    size_t *size);


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
 * The first of '\n', '\r' or NUL in p[0 .. len - 1], or len; *colon is
 * the first ':' before it, or len.  Sixteen bytes a step: the colon is
 * looked for only until it is found, as a name is short and a value long.
 */
static size_t
llm_http_stop(const char *p, size_t len, size_t *colon)
{
    size_t    i, col;
#if (LLM_HTTP_SSE2)
    unsigned  stop, cm;
    __m128i   v;
#endif

    i = 0;
    col = len;

#if (LLM_HTTP_SSE2)
    for ( ; i + 16 <= len; i += 16) {
        v = _mm_loadu_si128((const __m128i *) (const void *) (p + i));

        stop = (unsigned) _mm_movemask_epi8(
                   _mm_or_si128(_mm_or_si128(
                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                       _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
                       _mm_cmpeq_epi8(v, _mm_setzero_si128())));

        if (col == len) {
            cm = (unsigned) _mm_movemask_epi8(
                     _mm_cmpeq_epi8(v, _mm_set1_epi8(':')));

            /* only a colon before the stop */
            if (stop) {
                cm &= (1u << __builtin_ctz(stop)) - 1;
            }

            if (cm) {
                col = i + __builtin_ctz(cm);
            }
        }

        if (stop) {
            *colon = col;
            return i + __builtin_ctz(stop);
        }
    }
#endif

    for ( ; i < len; i++) {
        if (p[i] == '\n' || p[i] == '\r' || p[i] == '\0') {
            break;
        }

        if (p[i] == ':' && col == len) {
            col = i;
        }
    }

    *colon = col;

    return i;
}


ssize_t
llm_http_header_line(const char *p, size_t len, llm_http_header_t *h)
{
    size_t       eol, lf, colon;
    const char  *v, *e;

    eol = llm_http_stop(p, len, &colon);

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
            chunked = llm_http_is_chunked(h.value, h.value_len);

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
    size_t       size;
    const char  *eol, *next;

    for ( ;; ) {
        eol = llm_http_line(p, end, &next);

        if (eol == NULL) {
            snprintf(err, errlen, "truncated chunked body");
            return -1;
        }

        if (llm_http_chunk_size(p, eol, &size) != 0) {
            snprintf(err, errlen, "invalid chunk size");
            return -1;
        }

        if (size == 0) {
            return 0;
        }

        p = next;

        if ((size_t) (end - p) < size) {
            snprintf(err, errlen, "truncated chunk");
            return -1;
        }

        if (llm_buf_append(out, p, size) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }

        p += size;

        /* the data ends with its CRLF (or LF), nothing else */
        eol = llm_http_line(p, end, &next);

        if (eol != p) {
            snprintf(err, errlen, eol ? "invalid chunk end"
                                      : "truncated chunked body");
            return -1;
        }

        p = next;
    }
}


/*
 * The hex size at the start of a chunk line p .. eol - 1, before any
 * extension (";name=value") or whitespace; at most 15 digits, so that
 * no sum with it overflows.
 */
static int
llm_http_chunk_size(const char *p, const char *eol, size_t *size)
{
    size_t         n, digits;
    unsigned char  c;

    n = 0;

    for (digits = 0; p < eol; p++, digits++) {
        c = (unsigned char) *p;

        if (c >= '0' && c <= '9') {
            c -= '0';

        } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
            c = (c | 0x20) - 'a' + 10;

        } else {
            break;
        }

        if (digits == 15) {
            return -1;
        }

        n = n * 16 + c;
    }

    if (digits == 0
        || (p < eol && *p != ';' && *p != ' ' && *p != '\t'))
    {
        return -1;
    }

    *size = n;

    return 0;
}


int
llm_http_is_chunked(const char *v, size_t len)
{
    return len >= 7 && strncasecmp(v + len - 7, "chunked", 7) == 0
           && (len == 7 || v[len - 8] == ',' || v[len - 8] == ' '
               || v[len - 8] == '\t');
}


void
llm_http_resp_free(llm_http_resp_t *resp)
{
    llm_buf_free(&resp->body);
}
