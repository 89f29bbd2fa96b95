/*
 * Copyright (C) ngx_llm authors
 *
 * libFuzzer target for the HTTP/1.x response parser.  The input is read
 * as header lines, one after the other, and each answer is checked: it
 * stays within the line, and it is the one a plain byte-by-byte reading
 * gives (the parser scans 16 bytes at a time where it can); a prefix of
 * a line is never taken for a line.  The input is then parsed as a
 * whole response.
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llm_http.h"


#define fuzz_check(c)  do { if (!(c)) abort(); } while (0)


/* the reading of the header contract, one byte at a time */
static ssize_t
fuzz_reference(const char *p, size_t len, llm_http_header_t *h)
{
    size_t  eol, lf, colon, v, e;

    colon = len;

    for (eol = 0; eol < len; eol++) {
        if (p[eol] == '\n' || p[eol] == '\r' || p[eol] == '\0') {
            break;
        }

        if (p[eol] == ':' && colon == len) {
            colon = eol;
        }
    }

    if (eol == len) {
        return 0;
    }

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

    for (v = colon + 1; v < eol && (p[v] == ' ' || p[v] == '\t'); v++) {
        /* void */
    }

    for (e = eol; e > v && (p[e - 1] == ' ' || p[e - 1] == '\t'); e--) {
        /* void */
    }

    h->name_len = colon;
    h->value = p + v;
    h->value_len = e - v;

    return lf + 1;
}


static void
fuzz_lines(const char *data, size_t size)
{
    size_t             off, left, i, k;
    ssize_t            n, r;
    const char        *p;
    llm_http_header_t  h, ref, part;

    for (off = 0; off < size; off += n) {
        p = data + off;
        left = size - off;

        n = llm_http_header_line(p, left, &h);
        r = fuzz_reference(p, left, &ref);

        fuzz_check(n == r);
        fuzz_check(n <= (ssize_t) left);

        if (n > 0) {
            /* no prefix of the line is a line */
            k = (size_t) (n - 1);
            fuzz_check(llm_http_header_line(p, k, &part) == 0);
            k = (size_t) (unsigned char) p[0] % (size_t) n;
            fuzz_check(llm_http_header_line(p, k, &part) == 0);

        } else {
            /* a prefix is incomplete or refused as well */
            k = left ? (size_t) (unsigned char) p[0] % left : 0;
            r = llm_http_header_line(p, k, &part);
            fuzz_check(r == 0 || (n == -1 && r == -1));
            break;
        }

        fuzz_check(p[n - 1] == '\n');

        if (h.name == NULL) {
            fuzz_check(ref.name == NULL);
            continue;
        }

        fuzz_check(h.name == p && ref.name == p);
        fuzz_check(h.name_len == ref.name_len);
        fuzz_check(h.value_len == ref.value_len);

        for (i = 0; i + 1 < (size_t) n; i++) {
            fuzz_check(p[i] != '\0' && p[i] != '\n');
            fuzz_check(p[i] != '\r' || i + 2 == (size_t) n);
        }

        if (h.name_len == 0) {
            fuzz_check(n <= 2);
            continue;
        }

        fuzz_check(h.name_len < (size_t) n);
        fuzz_check(h.name[h.name_len] == ':');
        fuzz_check(memchr(h.name, ':', h.name_len) == NULL);
        fuzz_check(h.name[0] != ' ' && h.name[0] != '\t');

        fuzz_check(h.value >= h.name + h.name_len + 1);
        fuzz_check(h.value + h.value_len <= p + n - 1);

        if (h.value_len) {
            fuzz_check(h.value == ref.value);
            fuzz_check(h.value[0] != ' ' && h.value[0] != '\t');
            fuzz_check(h.value[h.value_len - 1] != ' '
                       && h.value[h.value_len - 1] != '\t');
            fuzz_check(memchr(h.value, '\r', h.value_len) == NULL);
        }
    }
}


static void
fuzz_parse(const char *data, size_t size)
{
    int              rc;
    char             err[128];
    llm_http_resp_t  resp;

    err[0] = '\0';
    rc = llm_http_parse(data, size, &resp, err, sizeof(err));

    if (rc == 0) {
        fuzz_check(resp.status >= 100 && resp.status <= 999);
        fuzz_check(resp.body.len <= size);
        fuzz_check(memchr(resp.retry_after, '\0', sizeof(resp.retry_after))
                   != NULL);

    } else {
        fuzz_check(rc == -1 && err[0] != '\0');
    }

    llm_http_resp_free(&resp);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_lines((const char *) data, size);
    fuzz_parse((const char *) data, size);

    return 0;
}
