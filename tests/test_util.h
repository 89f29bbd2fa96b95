/*
 * Copyright (C) ngx_llm authors
 *
 * What the adapter tests share: JSON written with single quotes, JSON
 * and header checks, and the comparison of translated SSE events.
 * Include it after <cmocka.h> and "llm_adapter.h"; functions are static
 * inline so that a test file that uses only some of them still builds
 * without warnings.
 */

#ifndef _TEST_UTIL_H_INCLUDED_
#define _TEST_UTIL_H_INCLUDED_


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/*
 * JSON in the tests below is written with ' for " to stay readable;
 * q() turns it back.  Strings that need a real ' or \" are written in C.
 */
static inline char *
q(const char *s)
{
    static char    bufs[8][65536];
    static int     next;
    char          *b;
    size_t         i;

    b = bufs[next++ % 8];

    for (i = 0; s[i] && i < sizeof(bufs[0]) - 1; i++) {
        b[i] = (s[i] == '\'') ? '"' : s[i];
    }

    b[i] = '\0';

    return b;
}

static inline void
assert_json_eq(const char *actual, size_t len, const char *expected)
{
    int     eq;
    cJSON  *a, *e;

    a = cJSON_ParseWithLength(actual, len);
    e = cJSON_Parse(expected);

    assert_non_null(e);

    eq = a && cJSON_Compare(a, e, 1);

    if (!eq) {
        print_error("actual:   %.*s\nexpected: %s\n", (int) len, actual,
                    expected);
    }

    cJSON_Delete(a);
    cJSON_Delete(e);

    assert_true(eq);
}

static inline const char *
header(const llm_http_req_t *r, const char *name)
{
    size_t  i;

    for (i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            return r->headers[i].value;
        }
    }

    return NULL;
}

/*
 * Compares the events of an OpenAI SSE output with the expected ones as
 * JSON.  The shared emitters also write "logprobs":null in each choice,
 * which the document's lines leave out: it is ignored when null.
 */
static inline void
assert_events_eq(const char *actual, const char *expected)
{
    int          na, ne;
    char        *a, *e, *pa, *pe, *la, *le;
    cJSON       *ja, *je, *c;

    a = strdup(actual);
    e = strdup(expected);
    assert_non_null(a);
    assert_non_null(e);

    na = 0;
    ne = 0;
    la = strtok_r(a, "\n", &pa);
    le = strtok_r(e, "\n", &pe);

    while (la && le) {
        na++;
        ne++;

        assert_true(strncmp(la, "data: ", 6) == 0);
        assert_true(strncmp(le, "data: ", 6) == 0);

        if (strcmp(le, "data: [DONE]") == 0 || strcmp(la, "data: [DONE]") == 0)
        {
            assert_string_equal(la, le);

        } else {
            ja = cJSON_Parse(la + 6);
            je = cJSON_Parse(le + 6);
            assert_non_null(ja);
            assert_non_null(je);

            cJSON_ArrayForEach(c, cJSON_GetObjectItem(ja, "choices")) {
                if (cJSON_IsNull(cJSON_GetObjectItem(c, "logprobs"))) {
                    cJSON_DeleteItemFromObject(c, "logprobs");
                }
            }

            if (!cJSON_Compare(ja, je, 1)) {
                print_error("event %d\nactual:   %s\nexpected: %s\n", na,
                            la, le);
                fail();
            }

            cJSON_Delete(ja);
            cJSON_Delete(je);
        }

        la = strtok_r(NULL, "\n", &pa);
        le = strtok_r(NULL, "\n", &pe);
    }

    if (la || le) {
        print_error("extra event: %s\n", la ? la : le);
        fail();
    }

    free(a);
    free(e);
}


#endif /* _TEST_UTIL_H_INCLUDED_ */
