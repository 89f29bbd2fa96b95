/*
 * Copyright (C) ngx_llm authors
 *
 * AWS Signature Version 4 (../shared/providers/bedrock.md, "SigV4
 * signing, step by step").  Pure functions: the caller hands in the
 * request as it will be sent and the time; the signer answers the
 * canonical request, the string to sign, the signature and the value
 * of the Authorization header.  The x-amz-date header (and, when there
 * is a session token, x-amz-security-token) is signed here; the caller
 * sends the values this module returns.
 */

#ifndef _LLM_SIGV4_H_INCLUDED_
#define _LLM_SIGV4_H_INCLUDED_


#include <stddef.h>
#include <time.h>

#include "llm_buf.h"


#define LLM_SIGV4_EMPTY_SHA256                                           \
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


typedef struct {
    const char  *access_key;
    const char  *secret_key;
    const char  *session_token;     /* NULL or "": none */
    const char  *region;
    const char  *service;
} llm_sigv4_creds_t;


typedef struct {
    const char  *name;
    const char  *value;
} llm_sigv4_header_t;


typedef struct {
    const char                *method;
    const char                *path;      /* as sent (percent-encoded) */
    const char                *query;     /* as sent, without '?'; NULL */

    /* headers to sign besides x-amz-date and x-amz-security-token */
    const llm_sigv4_header_t  *headers;
    size_t                     nheaders;

    const void                *payload;
    size_t                     payload_len;

    /* also sign (and send) x-amz-content-sha256 */
    unsigned                   content_sha256:1;
    /* S3 signs the path as it is; every other service encodes it again */
    unsigned                   single_encode:1;
} llm_sigv4_req_t;


typedef struct {
    char        amzdate[17];            /* 20150830T123600Z */
    char        payload_hash[65];
    char        signature[65];
    llm_buf_t   canonical;              /* the canonical request */
    llm_buf_t   string_to_sign;
    llm_buf_t   signed_headers;         /* "content-type;host;x-amz-date" */
    llm_buf_t   authorization;          /* the Authorization header value */
} llm_sigv4_t;


/* 0, or -1 on allocation failure or a time that cannot be formatted */
int llm_sigv4_sign(const llm_sigv4_creds_t *creds, const llm_sigv4_req_t *r,
    time_t now, llm_sigv4_t *out);
void llm_sigv4_free(llm_sigv4_t *sig);

/* kSigning of the HMAC chain; date is "YYYYMMDD" */
void llm_sigv4_signing_key(const char *secret, const char *date,
    const char *region, const char *service, unsigned char key[32]);

/*
 * Percent-encodes every byte but A-Z a-z 0-9 - _ . ~ (and '/' when
 * keep_slash) as %XX with upper-case hex.
 */
int llm_sigv4_uri_encode(llm_buf_t *out, const char *s, size_t n,
    int keep_slash);

/* lower-case hex of bytes; out has room for 2 * n + 1 */
void llm_sigv4_hex(char *out, const unsigned char *p, size_t n);

/* lower-case hex SHA-256 of p, into out[65] */
void llm_sigv4_sha256_hex(char *out, const void *p, size_t n);


#endif /* _LLM_SIGV4_H_INCLUDED_ */
