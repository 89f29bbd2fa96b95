/*
 * Copyright (C) ngx_llm authors
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_buf.h"


/*
 * Freed blocks kept for the next buffer: every call builds and frees the
 * same few buffers (the provider request, the translated answer), and
 * taking a block back from here costs less than malloc() and free().
 * Per process, not per thread: the adapters run on nginx's one thread
 * per worker (and in the single-threaded tests and fuzzers).
 */
#define LLM_BUF_CACHE      8
#define LLM_BUF_CACHE_MAX  (64 * 1024)

static struct {
    char    *data;
    size_t   cap;
} llm_buf_cache[LLM_BUF_CACHE];

static size_t  llm_buf_ncache;

/*
 * A reused block hides a use after free from the memory checkers, so no
 * block is kept under AddressSanitizer (the tests' and fuzzers' builds),
 * under valgrind's memcheck (its preload is in the environment the module
 * is loaded with, before nginx trims the workers' one), or with
 * LLM_BUF_NOCACHE set.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LLM_BUF_ASAN  1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LLM_BUF_ASAN  1
#endif
#endif

static size_t  llm_buf_ncache_max = LLM_BUF_CACHE;


__attribute__((constructor)) static void
llm_buf_cache_init(void)
{
    const char  *preload;

    preload = getenv("LD_PRELOAD");

#if defined(LLM_BUF_ASAN)
    llm_buf_ncache_max = 0;
#endif

    if ((preload && strstr(preload, "vgpreload_memcheck"))
        || getenv("LLM_BUF_NOCACHE"))
    {
        llm_buf_ncache_max = 0;
    }
}


static char *
llm_buf_cached(size_t need, size_t *cap)
{
    char    *p;
    size_t   i;

    for (i = llm_buf_ncache; i-- > 0; /* void */) {
        if (llm_buf_cache[i].cap >= need) {
            p = llm_buf_cache[i].data;
            *cap = llm_buf_cache[i].cap;
            llm_buf_cache[i] = llm_buf_cache[--llm_buf_ncache];
            return p;
        }
    }

    return NULL;
}


int
llm_buf_reserve(llm_buf_t *b, size_t extra)
{
    char    *p;
    size_t   cap;

    if (b->len + extra <= b->cap) {
        return 0;
    }

    if (b->data == NULL && b->len + extra <= LLM_BUF_CACHE_MAX) {
        p = llm_buf_cached(b->len + extra, &cap);

        if (p) {
            b->data = p;
            b->cap = cap;
            return 0;
        }
    }

    cap = b->cap ? b->cap : 256;

    while (cap < b->len + extra) {
        if (cap > ((size_t) -1) / 2) {
            return -1;
        }

        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


int
llm_buf_append(llm_buf_t *b, const void *p, size_t n)
{
    /* keep one spare byte so data can always be NUL-terminated */
    if (llm_buf_reserve(b, n + 1) != 0) {
        return -1;
    }

    if (n) {
        memcpy(b->data + b->len, p, n);
    }

    b->len += n;
    b->data[b->len] = '\0';

    return 0;
}


int
llm_buf_appends(llm_buf_t *b, const char *s)
{
    return llm_buf_append(b, s, strlen(s));
}


int
llm_buf_printf(llm_buf_t *b, const char *fmt, ...)
{
    int      n;
    va_list  ap;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);

    if (n < 0 || llm_buf_reserve(b, (size_t) n + 1) != 0) {
        return -1;
    }

    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);

    b->len += n;

    return 0;
}


int
llm_buf_append_json_str(llm_buf_t *b, const char *s, size_t n)
{
    size_t          i;
    unsigned char   c;
    static const char  hex[] = "0123456789abcdef";

    /* worst case: every byte becomes \u00XX */
    if (llm_buf_reserve(b, n * 6 + 3) != 0) {
        return -1;
    }

    b->data[b->len++] = '"';

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        switch (c) {
        case '"':
        case '\\':
            b->data[b->len++] = '\\';
            b->data[b->len++] = c;
            break;
        case '\n':
            b->data[b->len++] = '\\';
            b->data[b->len++] = 'n';
            break;
        case '\r':
            b->data[b->len++] = '\\';
            b->data[b->len++] = 'r';
            break;
        case '\t':
            b->data[b->len++] = '\\';
            b->data[b->len++] = 't';
            break;
        default:
            if (c < 0x20) {
                b->data[b->len++] = '\\';
                b->data[b->len++] = 'u';
                b->data[b->len++] = '0';
                b->data[b->len++] = '0';
                b->data[b->len++] = hex[c >> 4];
                b->data[b->len++] = hex[c & 0xf];

            } else {
                b->data[b->len++] = c;
            }
        }
    }

    b->data[b->len++] = '"';
    b->data[b->len] = '\0';

    return 0;
}


void
llm_buf_consume(llm_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;

    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }

    if (b->data) {
        b->data[b->len] = '\0';
    }
}


void
llm_buf_reset(llm_buf_t *b)
{
    b->len = 0;

    if (b->data) {
        b->data[0] = '\0';
    }
}


void
llm_buf_free(llm_buf_t *b)
{
    if (b->data && b->cap <= LLM_BUF_CACHE_MAX
        && llm_buf_ncache < llm_buf_ncache_max)
    {
        llm_buf_cache[llm_buf_ncache].data = b->data;
        llm_buf_cache[llm_buf_ncache].cap = b->cap;
        llm_buf_ncache++;

    } else {
        free(b->data);
    }

    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
