/*
 * Copyright (C) ngx_llm authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_http.h"


static const char *llm_http_line(const char *p, const char *end,
    const char **next);
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


int
llm_http_parse(const char *buf, size_t len, llm_http_resp_t *resp,
    char *err, size_t errlen)
{
    int          chunked;
    long long    clen;
    size_t       klen;
    const char  *p, *end, *eol, *next, *colon, *v;

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

    for (p = next; ; p = next) {
        eol = llm_http_line(p, end, &next);

        if (eol == NULL) {
            snprintf(err, errlen, "truncated HTTP header");
            return -1;
        }

        if (eol == p) {
            break;
        }

        colon = memchr(p, ':', eol - p);
        if (colon == NULL) {
            continue;
        }

        klen = colon - p;

        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++) {
            /* void */
        }

        if (klen == 14 && strncasecmp(p, "content-length", 14) == 0) {
            clen = strtoll(v, NULL, 10);

        } else if (klen == 17
                   && strncasecmp(p, "transfer-encoding", 17) == 0)
        {
            chunked = (eol - v >= 7 && strncasecmp(eol - 7, "chunked", 7)
                                       == 0);

        } else if (klen == 11 && strncasecmp(p, "retry-after", 11) == 0) {
            snprintf(resp->retry_after, sizeof(resp->retry_after), "%.*s",
                     (int) (eol - v), v);
        }
    }

    p = next;

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
