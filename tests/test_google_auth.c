/*
 * Copyright (C) ngx_llm authors
 *
 * Google service-account auth (llm_google_auth.c): key loading, the
 * RS256 JWT checked with the key's public half, the token request body
 * and the token endpoint's answers.  The RSA key is generated here.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <cjson/cJSON.h>

#include "llm_google_auth.h"


#define SA_EMAIL  "gw@my-proj.iam.gserviceaccount.com"

/* a literal and its length, for the (body, len) arguments */
#define STR(s)    s, sizeof(s) - 1


static EVP_PKEY  *test_key;
static char      *test_pem;         /* PKCS#8 private key */
static char      *test_pem_escaped; /* the same with "\n" escapes */


static char *
pem_of(EVP_PKEY *k)
{
    BIO   *bio;
    char  *data, *s;
    long   n;

    bio = BIO_new(BIO_s_mem());
    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
                                              NULL), 1);

    n = BIO_get_mem_data(bio, &data);
    s = strndup(data, (size_t) n);
    assert_non_null(s);
    BIO_free(bio);

    return s;
}


/* the PEM as a JSON string body: newlines as \n escapes */
static char *
json_escaped(const char *pem)
{
    char    *out, *w;
    size_t   i;

    out = malloc(strlen(pem) * 2 + 1);
    assert_non_null(out);

    for (i = 0, w = out; pem[i]; i++) {
        if (pem[i] == '\n') {
            *w++ = '\\';
            *w++ = 'n';

        } else {
            *w++ = pem[i];
        }
    }

    *w = '\0';

    return out;
}


static int
group_setup(void **state)
{
    test_key = EVP_RSA_gen(2048);
    if (test_key == NULL) {
        return -1;
    }

    test_pem = pem_of(test_key);
    test_pem_escaped = json_escaped(test_pem);

    return 0;
}


static int
group_teardown(void **state)
{
    EVP_PKEY_free(test_key);
    free(test_pem);
    free(test_pem_escaped);

    return 0;
}


/* a key file's JSON; extra is spliced in before the closing brace */
static char *
sa_json(const char *kid, const char *token_uri, const char *extra)
{
    char    *s;
    size_t   n;

    n = strlen(test_pem_escaped) + 1024 + (extra ? strlen(extra) : 0);
    s = malloc(n);
    assert_non_null(s);

    snprintf(s, n, "{\"type\":\"service_account\",\"project_id\":\"my-proj\","
             "%s%s%s\"private_key\":\"%s\",\"client_email\":\"" SA_EMAIL "\","
             "\"client_id\":\"1234\"%s%s%s%s}",
             kid ? "\"private_key_id\":\"" : "", kid ? kid : "",
             kid ? "\"," : "", test_pem_escaped,
             token_uri ? ",\"token_uri\":\"" : "",
             token_uri ? token_uri : "", token_uri ? "\"" : "",
             extra ? extra : "");

    return s;
}


static size_t
b64url_decode(const char *in, size_t len, unsigned char *out)
{
    int      n;
    char     buf[4096];
    size_t   i, pad;

    assert_true(len + 4 < sizeof(buf));

    for (i = 0; i < len; i++) {
        /* base64url, no padding */
        assert_true(in[i] != '+' && in[i] != '/' && in[i] != '=');
        buf[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }

    pad = (4 - len % 4) % 4;
    assert_true(pad != 3);

    for (i = 0; i < pad; i++) {
        buf[len + i] = '=';
    }

    n = EVP_DecodeBlock(out, (unsigned char *) buf, (int) (len + pad));
    assert_true(n >= 0);

    return (size_t) n - pad;
}


/* splits a JWT; asserts three segments */
static void
jwt_split(const char *jwt, const char **seg, size_t *len)
{
    const char  *d1, *d2;

    d1 = strchr(jwt, '.');
    assert_non_null(d1);
    d2 = strchr(d1 + 1, '.');
    assert_non_null(d2);
    assert_null(strchr(d2 + 1, '.'));

    seg[0] = jwt;
    len[0] = (size_t) (d1 - jwt);
    seg[1] = d1 + 1;
    len[1] = (size_t) (d2 - d1 - 1);
    seg[2] = d2 + 1;
    len[2] = strlen(d2 + 1);
}


static cJSON *
jwt_json(const char *seg, size_t len)
{
    unsigned char  buf[4096];
    size_t         n;

    n = b64url_decode(seg, len, buf);

    return cJSON_ParseWithLength((char *) buf, n);
}


static int
jwt_verify(const char *jwt, EVP_PKEY *pub)
{
    int             ok;
    size_t          len[3], siglen;
    const char     *seg[3];
    EVP_MD_CTX     *md;
    unsigned char   sig[1024];

    jwt_split(jwt, seg, len);
    siglen = b64url_decode(seg[2], len[2], sig);

    md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub),
                     1);

    ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *) jwt,
                          len[0] + 1 + len[1]) == 1;

    EVP_MD_CTX_free(md);

    return ok;
}


/* the public half only, as a verifier would hold it */
static EVP_PKEY *
public_half(EVP_PKEY *k)
{
    BIO       *bio;
    EVP_PKEY  *pub;

    bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
    pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    assert_non_null(pub);
    BIO_free(bio);

    return pub;
}


static void
test_load_inline(void **state)
{
    char             *json, err[256];
    llm_google_sa_t   sa;

    json = sa_json("kid-1", NULL, NULL);

    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), 0);
    assert_int_equal(sa.type, LLM_GOOGLE_SERVICE_ACCOUNT);
    assert_string_equal(sa.client_email, SA_EMAIL);
    assert_string_equal(sa.private_key_id, "kid-1");
    assert_string_equal(sa.project_id, "my-proj");
    assert_string_equal(sa.token_uri, "https://oauth2.googleapis.com/token");
    assert_string_equal(sa.private_key, test_pem);

    llm_google_sa_free(&sa);
    free(json);
}


static void
test_load_file(void **state)
{
    int               fd;
    char             *json, path[] = "/tmp/test_google_auth_XXXXXX", err[256];
    FILE             *f;
    llm_google_sa_t   sa;

    json = sa_json(NULL, "http://127.0.0.1:9/token", NULL);

    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("\n  ", f);
    fputs(json, f);
    fclose(f);

    assert_int_equal(llm_google_sa_load(path, &sa, err, sizeof(err)), 0);
    assert_string_equal(sa.token_uri, "http://127.0.0.1:9/token");
    assert_null(sa.private_key_id);
    llm_google_sa_free(&sa);

    /* leading blanks do not make a path out of inline JSON */
    assert_int_equal(llm_google_sa_load("  \n{\"type\":\"service_account\"}",
                                        &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "client_email"));

    unlink(path);

    assert_int_equal(llm_google_sa_load(path, &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "cannot open"));

    free(json);
}


static void
test_load_errors(void **state)
{
    char              err[256], *json, *ec_pem, *ec_json, *ec_esc;
    EVP_PKEY         *ec;
    llm_google_sa_t   sa;

    assert_int_equal(llm_google_sa_load("{not json", &sa, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "not a JSON object"));

    assert_int_equal(llm_google_sa_load("", &sa, err, sizeof(err)), -1);
    assert_int_equal(llm_google_sa_load(NULL, &sa, err, sizeof(err)), -1);

    assert_int_equal(llm_google_sa_load("{\"type\":\"external_account\"}",
                                        &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "external_account"));

    assert_int_equal(llm_google_sa_load("{\"client_email\":\"a@b\","
                                        "\"private_key\":\"garbage\"}",
                                        &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "not a PEM RSA private key"));
    /* the message never quotes the key */
    assert_null(strstr(err, "garbage"));

    assert_int_equal(llm_google_sa_load("{\"client_email\":5,"
                                        "\"private_key\":\"x\"}",
                                        &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "client_email"));

    json = sa_json(NULL, NULL, ",\"token_uri\":\"\"");
    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), -1);
    free(json);

    /* RS256 needs an RSA key: an EC key is refused at load */
    ec = EVP_EC_gen("P-256");
    assert_non_null(ec);
    ec_pem = pem_of(ec);
    ec_esc = json_escaped(ec_pem);
    ec_json = malloc(strlen(ec_esc) + 128);
    sprintf(ec_json, "{\"client_email\":\"a@b\",\"private_key\":\"%s\"}",
            ec_esc);

    assert_int_equal(llm_google_sa_load(ec_json, &sa, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "RSA"));

    free(ec_json);
    free(ec_esc);
    free(ec_pem);
    EVP_PKEY_free(ec);
}


/* a key pasted with its JSON escapes still in it */
static void
test_load_escaped_newlines(void **state)
{
    char             *json, *w, err[256];
    size_t            n;
    llm_google_sa_t   sa;

    /* every "\n" escape of the key doubled: the JSON string has "\\n" */
    n = strlen(test_pem_escaped);
    json = malloc(n * 2 + 256);
    assert_non_null(json);

    w = json + sprintf(json, "{\"client_email\":\"a@b\",\"private_key\":\"");

    for (size_t i = 0; i < n; i++) {
        if (test_pem_escaped[i] == '\\') {
            *w++ = '\\';
        }

        *w++ = test_pem_escaped[i];
    }

    strcpy(w, "\"}");

    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), 0);
    assert_string_equal(sa.private_key, test_pem);

    llm_google_sa_free(&sa);
    free(json);
}


/* vertex.md's worked values: header and claims encode exactly */
static void
test_jwt_doc_values(void **state)
{
    char             *json, err[256];
    size_t            len[3];
    llm_buf_t         jwt;
    const char       *seg[3];
    llm_google_sa_t   sa;

    json = sa_json(NULL, NULL, NULL);
    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), 0);

    memset(&jwt, 0, sizeof(jwt));
    assert_int_equal(llm_google_jwt(&sa, 1700000000, &jwt), 0);

    jwt_split(jwt.data, seg, len);

    assert_int_equal(len[0], strlen("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9"));
    assert_memory_equal(seg[0], "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9",
                        len[0]);

    assert_int_equal(len[1], strlen(
        "eyJpc3MiOiJnd0BteS1wcm9qLmlhbS5nc2VydmljZWFjY291bnQuY29tIiwic2NvcGU"
        "iOiJodHRwczovL3d3dy5nb29nbGVhcGlzLmNvbS9hdXRoL2Nsb3VkLXBsYXRmb3JtIi"
        "wiYXVkIjoiaHR0cHM6Ly9vYXV0aDIuZ29vZ2xlYXBpcy5jb20vdG9rZW4iLCJpYXQiO"
        "jE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0"));
    assert_memory_equal(seg[1],
        "eyJpc3MiOiJnd0BteS1wcm9qLmlhbS5nc2VydmljZWFjY291bnQuY29tIiwic2NvcGU"
        "iOiJodHRwczovL3d3dy5nb29nbGVhcGlzLmNvbS9hdXRoL2Nsb3VkLXBsYXRmb3JtIi"
        "wiYXVkIjoiaHR0cHM6Ly9vYXV0aDIuZ29vZ2xlYXBpcy5jb20vdG9rZW4iLCJpYXQiO"
        "jE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0", len[1]);

    /* 2048-bit key: 256 signature bytes, 342 base64url characters */
    assert_int_equal(len[2], 342);

    llm_buf_free(&jwt);
    llm_google_sa_free(&sa);
    free(json);
}


/* the token request: form body, JWT verified with the public key */
static void
test_token_request(void **state)
{
    char             *json, err[256];
    size_t            len[3], plen;
    cJSON            *h, *c;
    EVP_PKEY         *pub;
    llm_buf_t         body, again;
    const char       *seg[3], *jwt;
    llm_google_sa_t   sa;

    static const char  prefix[] =
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
        "&assertion=";

    json = sa_json("0123abcd", "http://127.0.0.1:4000/token", NULL);
    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), 0);

    memset(&body, 0, sizeof(body));
    assert_int_equal(llm_google_token_request(&sa, 1751364000, &body), 0);

    plen = sizeof(prefix) - 1;
    assert_true(body.len > plen);
    assert_memory_equal(body.data, prefix, plen);

    jwt = body.data + plen;
    jwt_split(jwt, seg, len);

    h = jwt_json(seg[0], len[0]);
    c = jwt_json(seg[1], len[1]);
    assert_non_null(h);
    assert_non_null(c);

    assert_string_equal(cJSON_GetObjectItem(h, "alg")->valuestring, "RS256");
    assert_string_equal(cJSON_GetObjectItem(h, "typ")->valuestring, "JWT");
    assert_string_equal(cJSON_GetObjectItem(h, "kid")->valuestring,
                        "0123abcd");

    assert_string_equal(cJSON_GetObjectItem(c, "iss")->valuestring, SA_EMAIL);
    assert_string_equal(cJSON_GetObjectItem(c, "scope")->valuestring,
                        "https://www.googleapis.com/auth/cloud-platform");
    assert_string_equal(cJSON_GetObjectItem(c, "aud")->valuestring,
                        "http://127.0.0.1:4000/token");
    assert_true(cJSON_GetObjectItem(c, "iat")->valuedouble == 1751364000);
    assert_true(cJSON_GetObjectItem(c, "exp")->valuedouble
                == 1751364000 + 3600);
    assert_null(cJSON_GetObjectItem(c, "sub"));
    assert_int_equal(cJSON_GetArraySize(c), 5);

    pub = public_half(test_key);
    assert_true(jwt_verify(jwt, pub));

    /* PKCS#1 v1.5 is deterministic: the same input, the same JWT */
    memset(&again, 0, sizeof(again));
    assert_int_equal(llm_google_token_request(&sa, 1751364000, &again), 0);
    assert_string_equal(again.data, body.data);

    /* a changed claim no longer matches the signature */
    body.data[plen + len[0] + 3] ^= 1;
    assert_false(jwt_verify(jwt, pub));

    EVP_PKEY_free(pub);
    cJSON_Delete(h);
    cJSON_Delete(c);
    llm_buf_free(&body);
    llm_buf_free(&again);
    llm_google_sa_free(&sa);
    free(json);
}


/* another key's public half does not verify the JWT */
static void
test_jwt_other_key(void **state)
{
    char             *json, err[256];
    EVP_PKEY         *other, *pub;
    llm_buf_t         jwt;
    llm_google_sa_t   sa;

    json = sa_json("k", NULL, NULL);
    assert_int_equal(llm_google_sa_load(json, &sa, err, sizeof(err)), 0);

    memset(&jwt, 0, sizeof(jwt));
    assert_int_equal(llm_google_jwt(&sa, 1, &jwt), 0);

    other = EVP_RSA_gen(2048);
    assert_non_null(other);
    pub = public_half(other);

    assert_false(jwt_verify(jwt.data, pub));

    EVP_PKEY_free(pub);
    EVP_PKEY_free(other);
    llm_buf_free(&jwt);
    llm_google_sa_free(&sa);
    free(json);
}


static void
test_authorized_user(void **state)
{
    char             err[256];
    llm_buf_t        body;
    llm_google_sa_t  sa;

    assert_int_equal(llm_google_sa_load(
        "{\"type\":\"authorized_user\",\"client_id\":\"cid.apps\","
        "\"client_secret\":\"s e/c+r=t\",\"refresh_token\":\"1//0g-x_y\"}",
        &sa, err, sizeof(err)), 0);

    assert_int_equal(sa.type, LLM_GOOGLE_AUTHORIZED_USER);
    assert_string_equal(sa.token_uri, LLM_GOOGLE_TOKEN_URI);

    memset(&body, 0, sizeof(body));
    assert_int_equal(llm_google_token_request(&sa, 0, &body), 0);
    assert_string_equal(body.data, "grant_type=refresh_token&client_id="
                        "cid.apps&client_secret=s%20e%2Fc%2Br%3Dt&"
                        "refresh_token=1%2F%2F0g-x_y");

    /* no JWT for a user credential */
    llm_buf_reset(&body);
    assert_int_equal(llm_google_jwt(&sa, 0, &body), -1);

    llm_buf_free(&body);
    llm_google_sa_free(&sa);

    assert_int_equal(llm_google_sa_load("{\"type\":\"authorized_user\","
                                        "\"client_id\":\"x\"}", &sa, err,
                                        sizeof(err)), -1);
    assert_non_null(strstr(err, "client_secret"));
}


static void
test_base64url(void **state)
{
    llm_buf_t  b;

    memset(&b, 0, sizeof(b));

    assert_int_equal(llm_google_base64url(&b, "", 0), 0);
    assert_int_equal(b.len, 0);

    assert_int_equal(llm_google_base64url(&b, "f", 1), 0);
    assert_string_equal(b.data, "Zg");
    llm_buf_reset(&b);

    assert_int_equal(llm_google_base64url(&b, "fo", 2), 0);
    assert_string_equal(b.data, "Zm8");
    llm_buf_reset(&b);

    assert_int_equal(llm_google_base64url(&b, "foo", 3), 0);
    assert_string_equal(b.data, "Zm9v");
    llm_buf_reset(&b);

    /* the two characters that differ from base64 */
    assert_int_equal(llm_google_base64url(&b, "\xfb\xff\xbf", 3), 0);
    assert_string_equal(b.data, "-_-_");
    llm_buf_reset(&b);

    assert_int_equal(llm_google_base64url(&b, "{\"alg\":\"RS256\",\"typ\":"
                                          "\"JWT\"}", 27), 0);
    assert_string_equal(b.data, "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9");

    llm_buf_free(&b);
}


static void
test_token_response(void **state)
{
    char          tok[64];
    long          exp;
    llm_error_t   err;

    static const char  ok[] =
        "{\"access_token\":\"ya29.c.abc\",\"expires_in\":3599,"
        "\"token_type\":\"Bearer\"}";

    assert_int_equal(llm_google_token_response(ok, strlen(ok), tok,
                                               sizeof(tok), &exp, &err), 0);
    assert_string_equal(tok, "ya29.c.abc");
    assert_int_equal(exp, 3599);

    assert_int_equal(llm_google_token_response(
                         STR("{\"access_token\":\"t\",\"expires_in\":\"120\"}"),
                         tok, sizeof(tok), &exp, &err), 0);
    assert_string_equal(tok, "t");
    assert_int_equal(exp, 120);

    assert_int_equal(llm_google_token_response(STR("{\"access_token\":\"t2\"}"),
                                               tok, sizeof(tok), &exp,
                                               &err), 0);
    assert_int_equal(exp, 3600);

    /* refused grants are the credentials' fault: 401 */
    assert_int_equal(llm_google_token_response(
        STR("{\"error\":\"invalid_grant\",\"error_description\":\"Invalid "
            "JWT Signature.\"}"), tok, sizeof(tok), &exp, &err), -1);
    assert_int_equal(err.status, 401);
    assert_string_equal(err.type, "authentication_error");
    assert_non_null(strstr(err.message, "invalid_grant"));
    assert_non_null(strstr(err.message, "Invalid JWT Signature."));

    assert_int_equal(llm_google_token_response(
        STR("{\"error\":\"temporarily_unavailable\"}"), tok, sizeof(tok),
        &exp, &err), -1);
    assert_int_equal(err.status, 502);

    assert_int_equal(llm_google_token_response("<html>", 6, tok, sizeof(tok),
                                               &exp, &err), -1);
    assert_int_equal(err.status, 502);
    assert_string_equal(err.type, "server_error");

    assert_int_equal(llm_google_token_response("", 0, tok, sizeof(tok),
                                               &exp, &err), -1);

    /* a token that does not fit is not cut */
    assert_int_equal(llm_google_token_response(ok, strlen(ok), tok, 5, &exp,
                                               &err), -1);
    assert_int_equal(err.status, 502);
    assert_non_null(strstr(err.message, "longer"));

    assert_int_equal(llm_google_token_response(
        STR("{\"access_token\":\"\",\"expires_in\":3599}"), tok, sizeof(tok),
        &exp, &err), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_load_inline),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_load_escaped_newlines),
        cmocka_unit_test(test_jwt_doc_values),
        cmocka_unit_test(test_token_request),
        cmocka_unit_test(test_jwt_other_key),
        cmocka_unit_test(test_authorized_user),
        cmocka_unit_test(test_base64url),
        cmocka_unit_test(test_token_response),
    };

    return cmocka_run_group_tests_name("google_auth", tests, group_setup,
                                       group_teardown);
}
