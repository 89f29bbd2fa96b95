/*
 * Copyright (C) ngx_llm authors
 *
 * Google OAuth2 for Vertex AI: service-account keys, the RS256 JWT
 * bearer grant (RFC 7523) and the token endpoint's answer.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "llm_google_auth.h"
#include "llm_azure_auth.h"


#define LLM_GOOGLE_JWT_GRANT                                                 \
    "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"


static int llm_google_sa_fields(const cJSON *root, llm_google_sa_t *sa,
    char *err, size_t errlen);
static int llm_google_sa_user(const cJSON *root, llm_google_sa_t *sa,
    char *err, size_t errlen);
static int llm_google_dup(const cJSON *root, const char *name, char **dst,
    int required, char *err, size_t errlen);
static void llm_google_fix_newlines(char *pem);
static EVP_PKEY *llm_google_pkey(const char *pem);
static int llm_google_sign(const char *pem, const char *input, size_t len,
    llm_buf_t *out);
static int llm_google_json_segment(llm_buf_t *out, const llm_buf_t *json);
static int llm_google_read_file(const char *path, llm_buf_t *out, char *err,
    size_t errlen);


int
llm_google_sa_load(const char *value, llm_google_sa_t *sa, char *err,
    size_t errlen)
{
    int          rc;
    char         msg[256];
    const char  *p;
    llm_buf_t    file;

    memset(sa, 0, sizeof(llm_google_sa_t));

    if (value == NULL) {
        snprintf(err, errlen, "no credentials given");
        return -1;
    }

    for (p = value; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
    {
        /* void */
    }

    if (*p == '{') {
        return llm_google_sa_parse(p, strlen(p), sa, err, errlen);
    }

    if (*p == '\0') {
        snprintf(err, errlen, "credentials are empty");
        return -1;
    }

    memset(&file, 0, sizeof(llm_buf_t));

    if (llm_google_read_file(value, &file, err, errlen) != 0) {
        llm_buf_free(&file);
        return -1;
    }

    rc = llm_google_sa_parse(file.data ? file.data : "", file.len, sa, err,
                             errlen);

    /* the file held a private key: leave no copy behind */
    if (file.data) {
        memset(file.data, 0, file.len);
    }

    llm_buf_free(&file);

    if (rc != 0) {
        /* name the file, which is not a secret */
        snprintf(msg, sizeof(msg), "%s", err);
        snprintf(err, errlen, "%s: %s", value, msg);
    }

    return rc;
}


static int
llm_google_read_file(const char *path, llm_buf_t *out, char *err,
    size_t errlen)
{
    FILE    *f;
    char     buf[4096];
    size_t   n;

    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }

    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (out->len + n > LLM_GOOGLE_SA_MAX) {
            fclose(f);
            snprintf(err, errlen, "%s: larger than %d bytes", path,
                     LLM_GOOGLE_SA_MAX);
            return -1;
        }

        if (llm_buf_append(out, buf, n) != 0) {
            fclose(f);
            snprintf(err, errlen, "%s: out of memory", path);
            return -1;
        }
    }

    if (ferror(f)) {
        fclose(f);
        snprintf(err, errlen, "%s: read error", path);
        return -1;
    }

    fclose(f);

    return 0;
}


int
llm_google_sa_parse(const char *json, size_t len, llm_google_sa_t *sa,
    char *err, size_t errlen)
{
    int           rc;
    cJSON        *root;
    const cJSON  *type;

    memset(sa, 0, sizeof(llm_google_sa_t));

    root = cJSON_ParseWithLength(json, len);

    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        snprintf(err, errlen, "credentials are not a JSON object");
        return -1;
    }

    type = cJSON_GetObjectItemCaseSensitive(root, "type");

    if (cJSON_IsString(type)
        && strcmp(type->valuestring, "authorized_user") == 0)
    {
        rc = llm_google_sa_user(root, sa, err, errlen);

    } else if (type == NULL || (cJSON_IsString(type)
                                && strcmp(type->valuestring,
                                          "service_account") == 0))
    {
        rc = llm_google_sa_fields(root, sa, err, errlen);

    } else {
        snprintf(err, errlen, "credentials of type \"%.64s\" are not "
                 "supported (use a service_account key)",
                 cJSON_IsString(type) ? type->valuestring : "?");
        rc = -1;
    }

    if (rc == 0
        && llm_google_dup(root, "token_uri", &sa->token_uri, 0, err, errlen)
           == 0
        && llm_google_dup(root, "project_id", &sa->project_id, 0, err,
                          errlen) == 0
        && sa->token_uri == NULL)
    {
        sa->token_uri = strdup(LLM_GOOGLE_TOKEN_URI);

        if (sa->token_uri == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }

    if (rc == 0 && (sa->token_uri == NULL || sa->token_uri[0] == '\0')) {
        snprintf(err, errlen, "credentials have an empty \"token_uri\"");
        rc = -1;
    }

    cJSON_Delete(root);

    if (rc != 0) {
        llm_google_sa_free(sa);
    }

    return rc;
}


static int
llm_google_sa_fields(const cJSON *root, llm_google_sa_t *sa, char *err,
    size_t errlen)
{
    EVP_PKEY  *pkey;

    sa->type = LLM_GOOGLE_SERVICE_ACCOUNT;

    if (llm_google_dup(root, "client_email", &sa->client_email, 1, err,
                       errlen) != 0
        || llm_google_dup(root, "private_key", &sa->private_key, 1, err,
                          errlen) != 0
        || llm_google_dup(root, "private_key_id", &sa->private_key_id, 0,
                          err, errlen) != 0)
    {
        return -1;
    }

    llm_google_fix_newlines(sa->private_key);

    pkey = llm_google_pkey(sa->private_key);

    if (pkey == NULL) {
        snprintf(err, errlen, "\"private_key\" of %.200s is not a PEM RSA "
                 "private key", sa->client_email);
        return -1;
    }

    EVP_PKEY_free(pkey);

    return 0;
}


static int
llm_google_sa_user(const cJSON *root, llm_google_sa_t *sa, char *err,
    size_t errlen)
{
    sa->type = LLM_GOOGLE_AUTHORIZED_USER;

    if (llm_google_dup(root, "client_id", &sa->client_id, 1, err, errlen)
        != 0
        || llm_google_dup(root, "client_secret", &sa->client_secret, 1, err,
                          errlen) != 0
        || llm_google_dup(root, "refresh_token", &sa->refresh_token, 1, err,
                          errlen) != 0)
    {
        return -1;
    }

    return 0;
}


static int
llm_google_dup(const cJSON *root, const char *name, char **dst,
    int required, char *err, size_t errlen)
{
    const cJSON  *v;

    v = cJSON_GetObjectItemCaseSensitive(root, name);

    if (v == NULL || cJSON_IsNull(v)) {
        if (required) {
            snprintf(err, errlen, "credentials have no \"%s\"", name);
            return -1;
        }

        return 0;
    }

    if (!cJSON_IsString(v) || (required && v->valuestring[0] == '\0')) {
        snprintf(err, errlen, "\"%s\" of the credentials must be a "
                 "non-empty string", name);
        return -1;
    }

    *dst = strdup(v->valuestring);

    if (*dst == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    return 0;
}


/*
 * A key pasted through an environment variable often keeps its JSON
 * escapes: a PEM without a real newline gets its "\n" pairs turned
 * into newlines.
 */
static void
llm_google_fix_newlines(char *pem)
{
    char  *r, *w;

    if (strchr(pem, '\n') != NULL) {
        return;
    }

    for (r = pem, w = pem; *r; r++) {
        if (r[0] == '\\' && r[1] == 'n') {
            *w++ = '\n';
            r++;
            continue;
        }

        *w++ = *r;
    }

    *w = '\0';
}


static EVP_PKEY *
llm_google_pkey(const char *pem)
{
    BIO       *bio;
    EVP_PKEY  *pkey;

    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL) {
        return NULL;
    }

    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (pkey && EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        EVP_PKEY_free(pkey);
        return NULL;
    }

    return pkey;
}


void
llm_google_sa_free(llm_google_sa_t *sa)
{
    if (sa->private_key) {
        memset(sa->private_key, 0, strlen(sa->private_key));
    }

    if (sa->client_secret) {
        memset(sa->client_secret, 0, strlen(sa->client_secret));
    }

    if (sa->refresh_token) {
        memset(sa->refresh_token, 0, strlen(sa->refresh_token));
    }

    free(sa->client_email);
    free(sa->private_key);
    free(sa->private_key_id);
    free(sa->token_uri);
    free(sa->project_id);
    free(sa->client_id);
    free(sa->client_secret);
    free(sa->refresh_token);
    free(sa->scope);

    memset(sa, 0, sizeof(llm_google_sa_t));
}


int
llm_google_base64url(llm_buf_t *out, const void *data, size_t len)
{
    int            n, i;
    unsigned char  *enc;

    if (len > (size_t) 0x3fffffff) {
        return -1;
    }

    enc = malloc((len + 2) / 3 * 4 + 1);
    if (enc == NULL) {
        return -1;
    }

    n = EVP_EncodeBlock(enc, data, (int) len);

    while (n > 0 && enc[n - 1] == '=') {
        n--;
    }

    for (i = 0; i < n; i++) {
        if (enc[i] == '+') {
            enc[i] = '-';

        } else if (enc[i] == '/') {
            enc[i] = '_';
        }
    }

    n = llm_buf_append(out, enc, (size_t) n);
    free(enc);

    return n;
}


static int
llm_google_json_segment(llm_buf_t *out, const llm_buf_t *json)
{
    return llm_google_base64url(out, json->data, json->len);
}


int
llm_google_jwt(const llm_google_sa_t *sa, time_t now, llm_buf_t *out)
{
    int        rc;
    size_t     start;
    llm_buf_t  header, claims;

    if (sa->type != LLM_GOOGLE_SERVICE_ACCOUNT || sa->private_key == NULL
        || sa->client_email == NULL || sa->token_uri == NULL)
    {
        return -1;
    }

    memset(&header, 0, sizeof(llm_buf_t));
    memset(&claims, 0, sizeof(llm_buf_t));

    rc = -1;
    start = out->len;

    if (llm_buf_appends(&header, "{\"alg\":\"RS256\",\"typ\":\"JWT\"") != 0
        || (sa->private_key_id && sa->private_key_id[0]
            && (llm_buf_appends(&header, ",\"kid\":") != 0
                || llm_buf_append_json_str(&header, sa->private_key_id,
                                           strlen(sa->private_key_id))
                   != 0))
        || llm_buf_appends(&header, "}") != 0)
    {
        goto done;
    }

    if (llm_buf_appends(&claims, "{\"iss\":") != 0
        || llm_buf_append_json_str(&claims, sa->client_email,
                                   strlen(sa->client_email)) != 0
        || llm_buf_appends(&claims, ",\"scope\":\"" LLM_GOOGLE_SCOPE
                           "\",\"aud\":") != 0
        || llm_buf_append_json_str(&claims, sa->token_uri,
                                   strlen(sa->token_uri)) != 0
        || llm_buf_printf(&claims, ",\"iat\":%lld,\"exp\":%lld}",
                          (long long) now,
                          (long long) now + LLM_GOOGLE_JWT_TTL) != 0)
    {
        goto done;
    }

    if (llm_google_json_segment(out, &header) != 0
        || llm_buf_appends(out, ".") != 0
        || llm_google_json_segment(out, &claims) != 0)
    {
        goto done;
    }

    /* the signing input is what out holds from start on */
    if (llm_google_sign(sa->private_key, out->data + start, out->len - start,
                        out) != 0)
    {
        goto done;
    }

    rc = 0;

done:

    if (rc != 0 && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }

    llm_buf_free(&header);
    llm_buf_free(&claims);

    return rc;
}


/* appends "." and the base64url RS256 signature of input */
static int
llm_google_sign(const char *pem, const char *input, size_t len,
    llm_buf_t *out)
{
    int             rc;
    size_t          siglen;
    EVP_PKEY       *pkey;
    EVP_MD_CTX     *md;
    unsigned char  *sig;

    pkey = llm_google_pkey(pem);
    if (pkey == NULL) {
        return -1;
    }

    rc = -1;
    sig = NULL;
    md = EVP_MD_CTX_new();

    if (md == NULL
        || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
    {
        goto done;
    }

    siglen = (size_t) EVP_PKEY_get_size(pkey);
    sig = malloc(siglen);

    /* input may live in out: copy nothing from it after this append */
    if (sig == NULL
        || EVP_DigestSign(md, sig, &siglen, (const unsigned char *) input,
                          len) != 1
        || llm_buf_appends(out, ".") != 0
        || llm_google_base64url(out, sig, siglen) != 0)
    {
        goto done;
    }

    rc = 0;

done:

    free(sig);
    EVP_MD_CTX_free(md);
    EVP_PKEY_free(pkey);

    return rc;
}


int
llm_google_token_request(const llm_google_sa_t *sa, time_t now,
    llm_buf_t *body)
{
    if (sa->type == LLM_ENTRA_CLIENT_SECRET) {
        return llm_azure_entra_request(sa, body);
    }

    if (sa->type == LLM_GOOGLE_AUTHORIZED_USER) {
        if (llm_buf_appends(body, "grant_type=refresh_token&client_id=")
            != 0
            || llm_oauth_form_value(body, sa->client_id) != 0
            || llm_buf_appends(body, "&client_secret=") != 0
            || llm_oauth_form_value(body, sa->client_secret) != 0
            || llm_buf_appends(body, "&refresh_token=") != 0
            || llm_oauth_form_value(body, sa->refresh_token) != 0)
        {
            return -1;
        }

        return 0;
    }

    /* a JWT is base64url and dots only: nothing to escape */
    if (llm_buf_appends(body, "grant_type=" LLM_GOOGLE_JWT_GRANT
                        "&assertion=") != 0
        || llm_google_jwt(sa, now, body) != 0)
    {
        return -1;
    }

    return 0;
}


int
llm_oauth_fingerprint(const llm_google_sa_t *sa, unsigned char *out)
{
    int            rc;
    size_t         i;
    unsigned int   len;
    EVP_MD_CTX    *md;
    const char    *f[9];

    f[0] = sa->type == LLM_ENTRA_CLIENT_SECRET ? "entra"
           : sa->type == LLM_GOOGLE_AUTHORIZED_USER ? "user" : "sa";
    f[1] = sa->token_uri;
    f[2] = sa->client_email;
    f[3] = sa->private_key_id;
    f[4] = sa->private_key;
    f[5] = sa->client_id;
    f[6] = sa->client_secret;
    f[7] = sa->refresh_token;
    f[8] = sa->scope;

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return -1;
    }

    rc = EVP_DigestInit_ex(md, EVP_sha256(), NULL);

    /* each field with its NUL, so that no two lists hash alike */
    for (i = 0; rc && i < sizeof(f) / sizeof(f[0]); i++) {
        rc = EVP_DigestUpdate(md, f[i] ? f[i] : "", f[i] ? strlen(f[i]) + 1
                                                       : 0)
             && EVP_DigestUpdate(md, f[i] ? "+" : "-", 1);
    }

    rc = rc && EVP_DigestFinal_ex(md, out, &len) && len == 32;

    EVP_MD_CTX_free(md);

    return rc ? 0 : -1;
}


int
llm_oauth_form_value(llm_buf_t *out, const char *s)
{
    unsigned char  c;

    if (s == NULL) {
        return -1;
    }

    for ( /* void */ ; *s; s++) {
        c = (unsigned char) *s;

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'
            || c == '~')
        {
            if (llm_buf_append(out, s, 1) != 0) {
                return -1;
            }

        } else if (llm_buf_printf(out, "%%%02X", c) != 0) {
            return -1;
        }
    }

    return 0;
}


int
llm_google_token_response(const char *body, size_t len, char *token,
    size_t toklen, long *expires_in, llm_error_t *err)
{
    return llm_oauth_token_response("vertex_ai", body, len, token, toklen,
                                    expires_in, err);
}


int
llm_oauth_token_response(const char *who, const char *body, size_t len,
    char *token, size_t toklen, long *expires_in, llm_error_t *err)
{
    cJSON        *root;
    const char   *e, *desc;
    const cJSON  *at, *exp, *v;

    root = cJSON_ParseWithLength(body, len);
    at = cJSON_GetObjectItemCaseSensitive(root, "access_token");

    if (cJSON_IsString(at) && at->valuestring[0]
        && strlen(at->valuestring) < toklen)
    {
        memcpy(token, at->valuestring, strlen(at->valuestring) + 1);

        exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");

        /* some token servers send the number as a string */
        if (cJSON_IsString(exp)) {
            *expires_in = strtol(exp->valuestring, NULL, 10);

        } else if (cJSON_IsNumber(exp) && exp->valuedouble > 0
                   && exp->valuedouble < 1e9)
        {
            *expires_in = (long) exp->valuedouble;

        } else {
            *expires_in = 0;
        }

        if (*expires_in <= 0) {
            *expires_in = 3600;
        }

        cJSON_Delete(root);
        return 0;
    }

    v = cJSON_GetObjectItemCaseSensitive(root, "error");

    /* OAuth2 says a string; a Google API error object is possible too */
    if (cJSON_IsObject(v)) {
        v = cJSON_GetObjectItemCaseSensitive(v, "status");
    }

    e = cJSON_IsString(v) ? v->valuestring : NULL;

    v = cJSON_GetObjectItemCaseSensitive(root, "error_description");
    desc = cJSON_IsString(v) ? v->valuestring : NULL;

    if (e && (strcmp(e, "invalid_grant") == 0
              || strcmp(e, "invalid_client") == 0
              || strcmp(e, "unauthorized_client") == 0
              || strcmp(e, "invalid_scope") == 0
              || strcmp(e, "access_denied") == 0
              || strcmp(e, "UNAUTHENTICATED") == 0))
    {
        llm_error_set(err, 401, "authentication_error", "invalid_api_key",
                      NULL, "%s: the token endpoint refused the "
                      "credentials: %s%s%s", who, e, desc ? ": " : "",
                      desc ? desc : "");

    } else if (e) {
        llm_error_set(err, 502, "server_error", NULL, NULL,
                      "%s: the token endpoint answered %s%s%s", who, e,
                      desc ? ": " : "", desc ? desc : "");

    } else if (cJSON_IsString(at) && at->valuestring[0]) {
        llm_error_set(err, 502, "server_error", NULL, NULL,
                      "%s: the access token is longer than %zu "
                      "bytes", who, toklen ? toklen - 1 : 0);

    } else {
        llm_error_set(err, 502, "server_error", NULL, NULL,
                      "%s: the token endpoint sent an invalid "
                      "response", who);
    }

    cJSON_Delete(root);

    return -1;
}
