/*
 * Copyright (C) ngx_llm authors
 *
 * Google OAuth2 access tokens for Vertex AI (../shared/providers/
 * vertex.md, "OAuth2 access token from a service-account key").
 *
 * Pure functions: the nginx glue loads the key at configuration time
 * (llm_google_sa_load, in the master), builds the token request body
 * when a token is needed (llm_google_token_request), does the HTTP POST
 * to sa->token_uri itself, and reads the answer with
 * llm_google_token_response.  Nothing here does I/O after the load.
 */

#ifndef _LLM_GOOGLE_AUTH_H_INCLUDED_
#define _LLM_GOOGLE_AUTH_H_INCLUDED_


#include <time.h>

#include "llm_buf.h"
#include "llm_error.h"


#define LLM_GOOGLE_TOKEN_URI  "https://oauth2.googleapis.com/token"
#define LLM_GOOGLE_SCOPE      "https://www.googleapis.com/auth/cloud-platform"

/* the JWT's lifetime: Google refuses assertions living longer */
#define LLM_GOOGLE_JWT_TTL    3600

/* the largest key file read from disk */
#define LLM_GOOGLE_SA_MAX     (256 * 1024)


typedef enum {
    LLM_GOOGLE_SERVICE_ACCOUNT = 0,     /* JWT bearer grant */
    LLM_GOOGLE_AUTHORIZED_USER,         /* gcloud ADC: refresh_token grant */
    LLM_ENTRA_CLIENT_SECRET             /* Azure: client_credentials grant,
                                           see llm_azure_auth.h */
} llm_google_cred_e;


/*
 * An OAuth2 credential the glue fetches access tokens with: Google's two
 * kinds, and Microsoft Entra ID's client secret.  All strings malloc()ed;
 * NULL when absent.
 */
typedef struct {
    llm_google_cred_e   type;
    const char         *provider;           /* in messages: "vertex_ai" */
    char               *client_email;       /* service account */
    char               *private_key;        /* PEM, service account */
    char               *private_key_id;     /* optional: the JWT "kid" */
    char               *token_uri;          /* never NULL once loaded */
    char               *project_id;         /* optional */
    char               *client_id;          /* authorized user */
    char               *client_secret;      /* authorized user */
    char               *refresh_token;      /* authorized user */
    char               *scope;              /* Entra ID */
} llm_google_sa_t;


/*
 * value is the key itself (inline JSON: its first non-blank character
 * is '{') or the path of a file holding it.  The private key is parsed
 * once here, so a broken key fails at configuration time.  Returns 0,
 * or -1 with a message in err (never quoting the key).  On success the
 * caller frees sa with llm_google_sa_free().
 */
int llm_google_sa_load(const char *value, llm_google_sa_t *sa, char *err,
    size_t errlen);

/* the same from JSON text already in memory */
int llm_google_sa_parse(const char *json, size_t len, llm_google_sa_t *sa,
    char *err, size_t errlen);

void llm_google_sa_free(llm_google_sa_t *sa);


/*
 * The signed JWT assertion (header.claims.signature, base64url without
 * padding) for iat = now, exp = now + LLM_GOOGLE_JWT_TTL.  Appended to
 * out.  0, or -1 when signing failed or out of memory.
 */
int llm_google_jwt(const llm_google_sa_t *sa, time_t now, llm_buf_t *out);

/*
 * The application/x-www-form-urlencoded body of the POST to
 * sa->token_uri, appended to body:
 *   service account:  grant_type=urn%3Aietf%3Aparams%3Aoauth%3A
 *                     grant-type%3Ajwt-bearer&assertion=<JWT>
 *   authorized user:  grant_type=refresh_token&client_id=..&
 *                     client_secret=..&refresh_token=..
 *   Entra ID secret:  grant_type=client_credentials&client_id=..&
 *                     client_secret=..&scope=..
 * 0, or -1.  The body is a secret: never log it.
 */
int llm_google_token_request(const llm_google_sa_t *sa, time_t now,
    llm_buf_t *body);

/*
 * The token endpoint's answer (any HTTP status: its body says what
 * happened).  On success copies access_token into token (NUL-terminated)
 * and sets *expires_in (seconds; 3600 when the answer has none) and
 * returns 0.  Otherwise -1 with err: 401 authentication_error for a
 * refused grant (invalid_grant, invalid_client, ...), else 502.  The
 * messages begin with who ("vertex_ai", "azure"); the _google_ form is
 * llm_oauth_token_response("vertex_ai", ...).
 */
int llm_oauth_token_response(const char *who, const char *body, size_t len,
    char *token, size_t toklen, long *expires_in, llm_error_t *err);
int llm_google_token_response(const char *body, size_t len, char *token,
    size_t toklen, long *expires_in, llm_error_t *err);

/*
 * SHA-256 over every field of the credential, into out: a token cached
 * under one fingerprint is not used with a credential a reload changed
 * (the cache outlives the configuration).  0, or -1.
 */
#define LLM_OAUTH_FINGERPRINT  32

int llm_oauth_fingerprint(const llm_google_sa_t *sa, unsigned char *out);

/* application/x-www-form-urlencoded: unreserved characters stay; 0, -1 */
int llm_oauth_form_value(llm_buf_t *out, const char *s);

/* base64url without padding, appended to out; 0 or -1 */
int llm_google_base64url(llm_buf_t *out, const void *data, size_t len);


#endif /* _LLM_GOOGLE_AUTH_H_INCLUDED_ */
