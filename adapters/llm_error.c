/*
 * Copyright (C) ngx_llm authors
 *
 * OpenAI-shaped errors, and the gateway's mapping of provider failures
 * onto them (../shared/providers/README.md section 6).
 */


#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "llm_error.h"


static int llm_error_is_context_length(const char *code, const char *msg);


void
llm_error_set(llm_error_t *e, int status, const char *type,
    const char *code, const char *param, const char *fmt, ...)
{
    va_list  ap;

    e->status = status;
    snprintf(e->type, sizeof(e->type), "%s", type ? type : "");
    snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
    snprintf(e->param, sizeof(e->param), "%s", param ? param : "");

    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
}


static int
llm_error_append_field(llm_buf_t *out, const char *name, const char *value)
{
    if (llm_buf_printf(out, "\"%s\":", name) != 0) {
        return -1;
    }

    if (value[0] == '\0') {
        return llm_buf_appends(out, "null");
    }

    return llm_buf_append_json_str(out, value, strlen(value));
}


int
llm_error_json(const llm_error_t *e, llm_buf_t *out)
{
    if (llm_buf_appends(out, "{\"error\":{\"message\":") != 0
        || llm_buf_append_json_str(out, e->message, strlen(e->message)) != 0
        || llm_buf_appends(out, ",") != 0
        || llm_error_append_field(out, "type", e->type) != 0
        || llm_buf_appends(out, ",") != 0
        || llm_error_append_field(out, "param", e->param) != 0
        || llm_buf_appends(out, ",") != 0
        || llm_error_append_field(out, "code", e->code) != 0
        || llm_buf_appends(out, "}}") != 0)
    {
        return -1;
    }

    return 0;
}


/* each provider words "the prompt is too long" differently */
static int
llm_error_is_context_length(const char *code, const char *msg)
{
    static const char  *needles[] = {
        "context_length_exceeded",
        "prompt is too long",
        "maximum context length",
        "context length",
        "context window",
        "too many tokens",
        "input token count",
        "input is too long",
        "exceeds the maximum number of tokens",
        NULL
    };

    const char  **n;

    if (code && strcmp(code, "context_length_exceeded") == 0) {
        return 1;
    }

    if (msg == NULL) {
        return 0;
    }

    for (n = needles; *n; n++) {
        if (strcasestr(msg, *n)) {
            return 1;
        }
    }

    return 0;
}


static int
llm_error_is(const char *s, const char *what)
{
    return s && strcmp(s, what) == 0;
}


void
llm_error_from_upstream(llm_error_t *e, const char *provider, int status,
    const char *hint_type, const char *hint_code, const char *message)
{
    int          st;
    const char  *type, *code, *param;

    st = status;
    type = "invalid_request_error";
    code = NULL;
    param = NULL;

    if (status == 400 || status == 422) {
        st = 400;

        if (llm_error_is_context_length(hint_code, message)) {
            code = "context_length_exceeded";
            param = "messages";

        } else {
            code = hint_code;
        }

    } else if (status == 401) {
        type = "authentication_error";
        code = "invalid_api_key";

    } else if (status == 402 || llm_error_is(hint_type, "insufficient_quota")
               || llm_error_is(hint_code, "insufficient_quota"))
    {
        st = 429;
        type = "insufficient_quota";
        code = "insufficient_quota";

    } else if (status == 403) {
        type = "permission_error";

    } else if (status == 404) {
        code = "model_not_found";

    } else if (status == 408 || status == 504) {
        st = 504;
        type = "server_error";
        code = "timeout";

    } else if (status == 413) {
        code = "request_too_large";

    } else if (status == 429) {
        type = "rate_limit_error";
        code = "rate_limit_exceeded";

    } else if (status == 498 || status == 503 || status == 529) {
        /* Groq's 498 and Anthropic's 529 both mean "overloaded, retry" */
        st = 503;
        type = "server_error";
        code = "overloaded";

    } else if (status >= 500 || status < 400) {
        st = 502;
        type = "server_error";
    }

    if (message && message[0]) {
        llm_error_set(e, st, type, code, param, "%s: %s", provider, message);

    } else {
        llm_error_set(e, st, type, code, param,
                      "%s: upstream returned HTTP %d", provider, status);
    }
}
