/*
 * Copyright (C) ngx_llm authors
 *
 * AWS Signature Version 4 (../shared/providers/bedrock.md).  The steps
 * are numbered as in the document; AWS's published test suite vectors
 * are reproduced in tests/test_sigv4.c.
 */


#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "llm_sigv4.h"


#define LLM_SIGV4_ALGORITHM  "AWS4-HMAC-SHA256"


/* one header of the canonical list: name lower-cased, value trimmed */
typedef struct {
    char   *name;
    char   *value;
} llm_sigv4_hdr_t;


static int llm_sigv4_timestamp(time_t now, char amzdate[17]);
static int llm_sigv4_canonical_uri(llm_buf_t *out, const char *path,
    int single_encode);
static int llm_sigv4_canonical_query(llm_buf_t *out, const char *query);
static int llm_sigv4_query_param(llm_buf_t *out, const char *p,
    size_t n);
static int llm_sigv4_reencode(llm_buf_t *out, const char *p, size_t n);
static int llm_sigv4_xvalue(char c);
static int llm_sigv4_cmp_param(const void *a, const void *b);
static int llm_sigv4_canonical_headers(llm_sigv4_t *sig,
    const llm_sigv4_creds_t *creds, const llm_sigv4_req_t *r);
static int llm_sigv4_header(llm_sigv4_hdr_t *h, const char *name,
    const char *value);
static int llm_sigv4_cmp_header(const void *a, const void *b);
static int llm_sigv4_put_headers(llm_sigv4_t *sig, llm_sigv4_hdr_t *h,
    size_t n);
static int llm_sigv4_scope(llm_buf_t *out, const char *amzdate,
    const llm_sigv4_creds_t *creds);
static void llm_sigv4_hmac(unsigned char out[32], const void *key,
    size_t klen, const char *data, size_t dlen);
static int llm_sigv4_unreserved(unsigned char c);


static const char  llm_sigv4_xdigits[] = "0123456789abcdef";


int
llm_sigv4_sign(const llm_sigv4_creds_t *creds, const llm_sigv4_req_t *r,
    time_t now, llm_sigv4_t *sig)
{
    char            date[9], hash[65];
    unsigned char   key[32], mac[32];

    memset(sig, 0, sizeof(llm_sigv4_t));

    /* 1. timestamps */
    if (llm_sigv4_timestamp(now, sig->amzdate) != 0) {
        return -1;
    }

    memcpy(date, sig->amzdate, 8);
    date[8] = '\0';

    /* 2. payload hash */
    llm_sigv4_sha256_hex(sig->payload_hash, r->payload ? r->payload : "",
                         r->payload_len);

    /* 3-7. the canonical request */
    if (llm_buf_appends(&sig->canonical, r->method) != 0
        || llm_buf_append(&sig->canonical, "\n", 1) != 0
        || llm_sigv4_canonical_uri(&sig->canonical, r->path,
                                   r->single_encode) != 0
        || llm_buf_append(&sig->canonical, "\n", 1) != 0
        || llm_sigv4_canonical_query(&sig->canonical, r->query) != 0
        || llm_buf_append(&sig->canonical, "\n", 1) != 0
        || llm_sigv4_canonical_headers(sig, creds, r) != 0
        || llm_buf_append(&sig->canonical, "\n", 1) != 0
        || llm_buf_append(&sig->canonical, sig->signed_headers.data,
                          sig->signed_headers.len) != 0
        || llm_buf_append(&sig->canonical, "\n", 1) != 0
        || llm_buf_appends(&sig->canonical, sig->payload_hash) != 0)
    {
        goto failed;
    }

    /* 8-9. credential scope and the string to sign */
    llm_sigv4_sha256_hex(hash, sig->canonical.data, sig->canonical.len);

    if (llm_buf_appends(&sig->string_to_sign,
                        LLM_SIGV4_ALGORITHM "\n") != 0
        || llm_buf_appends(&sig->string_to_sign, sig->amzdate) != 0
        || llm_buf_append(&sig->string_to_sign, "\n", 1) != 0
        || llm_sigv4_scope(&sig->string_to_sign, sig->amzdate, creds) != 0
        || llm_buf_append(&sig->string_to_sign, "\n", 1) != 0
        || llm_buf_appends(&sig->string_to_sign, hash) != 0)
    {
        goto failed;
    }

    /* 10-11. signing key and signature */
    llm_sigv4_signing_key(creds->secret_key, date, creds->region,
                          creds->service, key);
    llm_sigv4_hmac(mac, key, sizeof(key), sig->string_to_sign.data,
                   sig->string_to_sign.len);
    llm_sigv4_hex(sig->signature, mac, sizeof(mac));

    /* the key is a secret: do not leave it on the stack */
    OPENSSL_cleanse(key, sizeof(key));

    /* 12. the Authorization header */
    if (llm_buf_appends(&sig->authorization,
                        LLM_SIGV4_ALGORITHM " Credential=") != 0
        || llm_buf_appends(&sig->authorization, creds->access_key) != 0
        || llm_buf_append(&sig->authorization, "/", 1) != 0
        || llm_sigv4_scope(&sig->authorization, sig->amzdate, creds) != 0
        || llm_buf_appends(&sig->authorization, ", SignedHeaders=") != 0
        || llm_buf_append(&sig->authorization, sig->signed_headers.data,
                          sig->signed_headers.len) != 0
        || llm_buf_appends(&sig->authorization, ", Signature=") != 0
        || llm_buf_appends(&sig->authorization, sig->signature) != 0)
    {
        goto failed;
    }

    return 0;

failed:

    llm_sigv4_free(sig);

    return -1;
}


void
llm_sigv4_free(llm_sigv4_t *sig)
{
    llm_buf_free(&sig->canonical);
    llm_buf_free(&sig->string_to_sign);
    llm_buf_free(&sig->signed_headers);
    llm_buf_free(&sig->authorization);
}


static int
llm_sigv4_timestamp(time_t now, char amzdate[17])
{
    struct tm  tm;

    if (gmtime_r(&now, &tm) == NULL
        || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
    {
        return -1;
    }

    return strftime(amzdate, 17, "%Y%m%dT%H%M%SZ", &tm) == 16 ? 0 : -1;
}


/*
 * 3. The path as sent is encoded once more, segment by segment: a
 * model id sent as "v1%3A0" is signed as "v1%253A0".
 */
static int
llm_sigv4_canonical_uri(llm_buf_t *out, const char *path, int single_encode)
{
    if (path == NULL || path[0] == '\0') {
        return llm_buf_append(out, "/", 1);
    }

    if (single_encode) {
        return llm_buf_appends(out, path);
    }

    return llm_sigv4_uri_encode(out, path, strlen(path), 1);
}


/*
 * 4. Parameters are decoded from their sent form, encoded by the strict
 * rule and sorted by name, then value.
 */
static int
llm_sigv4_canonical_query(llm_buf_t *out, const char *query)
{
    int          rc;
    char       **params;
    size_t       n, i, len;
    llm_buf_t    one;
    const char  *p, *amp;

    if (query == NULL || query[0] == '\0') {
        return 0;
    }

    n = 1;

    for (p = query; *p; p++) {
        n += (*p == '&');
    }

    params = calloc(n, sizeof(char *));
    if (params == NULL) {
        return -1;
    }

    rc = 0;
    n = 0;

    for (p = query; rc == 0; p = amp + 1) {
        amp = strchr(p, '&');
        len = amp ? (size_t) (amp - p) : strlen(p);

        if (len) {
            memset(&one, 0, sizeof(llm_buf_t));
            rc = llm_sigv4_query_param(&one, p, len);
            params[n++] = one.data;
        }

        if (amp == NULL) {
            break;
        }
    }

    if (rc == 0) {
        qsort(params, n, sizeof(char *), llm_sigv4_cmp_param);
    }

    for (i = 0; i < n; i++) {
        if (rc == 0 && i) {
            rc = llm_buf_append(out, "&", 1);
        }

        if (rc == 0) {
            rc = llm_buf_appends(out, params[i] ? params[i] : "");
        }

        free(params[i]);
    }

    free(params);

    return rc;
}


/* "name=value" (or "name") as sent -> canonical "name=value" */
static int
llm_sigv4_query_param(llm_buf_t *out, const char *p, size_t n)
{
    const char  *eq;

    eq = memchr(p, '=', n);

    if (eq == NULL) {
        return llm_sigv4_reencode(out, p, n) == 0
               && llm_buf_append(out, "=", 1) == 0 ? 0 : -1;
    }

    if (llm_sigv4_reencode(out, p, eq - p) != 0
        || llm_buf_append(out, "=", 1) != 0
        || llm_sigv4_reencode(out, eq + 1, n - (eq - p) - 1) != 0)
    {
        return -1;
    }

    return 0;
}


/* decodes %XX escapes of the sent form, then encodes by the strict rule */
static int
llm_sigv4_reencode(llm_buf_t *out, const char *p, size_t n)
{
    int     hi, lo, rc;
    char   *dec;
    size_t  i, k;

    dec = malloc(n + 1);
    if (dec == NULL) {
        return -1;
    }

    k = 0;

    for (i = 0; i < n; i++) {
        hi = (p[i] == '%' && i + 2 < n) ? llm_sigv4_xvalue(p[i + 1]) : -1;
        lo = hi >= 0 ? llm_sigv4_xvalue(p[i + 2]) : -1;

        if (hi >= 0 && lo >= 0) {
            dec[k++] = (char) (hi << 4 | lo);
            i += 2;

        } else {
            dec[k++] = p[i];
        }
    }

    rc = llm_sigv4_uri_encode(out, dec, k, 0);
    free(dec);

    return rc;
}


static int
llm_sigv4_xvalue(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }

    return -1;
}


static int
llm_sigv4_cmp_param(const void *a, const void *b)
{
    int          rc;
    size_t       nx, ny;
    const char  *x, *y;

    x = *(char *const *) a;
    y = *(char *const *) b;
    x = x ? x : "";
    y = y ? y : "";

    /* by name first: "a=2" before "a-b=1" although '-' < '=' */
    nx = strcspn(x, "=");
    ny = strcspn(y, "=");

    rc = strncmp(x, y, nx < ny ? nx : ny);

    if (rc == 0 && nx != ny) {
        return nx < ny ? -1 : 1;
    }

    return rc ? rc : strcmp(x + nx, y + ny);
}


/* 5-6. canonical headers and the signed header list */
static int
llm_sigv4_canonical_headers(llm_sigv4_t *sig, const llm_sigv4_creds_t *creds,
    const llm_sigv4_req_t *r)
{
    int               rc;
    size_t            i, n;
    llm_sigv4_hdr_t  *h;

    h = calloc(r->nheaders + 3, sizeof(llm_sigv4_hdr_t));
    if (h == NULL) {
        return -1;
    }

    rc = 0;
    n = 0;

    for (i = 0; i < r->nheaders && rc == 0; i++) {
        rc = llm_sigv4_header(&h[n++], r->headers[i].name,
                              r->headers[i].value);
    }

    if (rc == 0) {
        rc = llm_sigv4_header(&h[n++], "x-amz-date", sig->amzdate);
    }

    if (rc == 0 && creds->session_token && creds->session_token[0]) {
        rc = llm_sigv4_header(&h[n++], "x-amz-security-token",
                              creds->session_token);
    }

    if (rc == 0 && r->content_sha256) {
        rc = llm_sigv4_header(&h[n++], "x-amz-content-sha256",
                              sig->payload_hash);
    }

    if (rc == 0) {
        rc = llm_sigv4_put_headers(sig, h, n);
    }

    for (i = 0; i < n; i++) {
        free(h[i].name);
        free(h[i].value);
    }

    free(h);

    return rc;
}


/* the name lower-cased; the value trimmed, inner runs of spaces as one */
static int
llm_sigv4_header(llm_sigv4_hdr_t *h, const char *name, const char *value)
{
    char    *v;
    size_t   i, k;

    h->name = strdup(name);
    h->value = malloc(strlen(value) + 1);

    if (h->name == NULL || h->value == NULL) {
        return -1;
    }

    for (i = 0; h->name[i]; i++) {
        if (h->name[i] >= 'A' && h->name[i] <= 'Z') {
            h->name[i] += 'a' - 'A';
        }
    }

    v = h->value;
    k = 0;

    for (i = 0; value[i]; i++) {
        if (value[i] == ' ' || value[i] == '\t') {
            if (k && v[k - 1] != ' ') {
                v[k++] = ' ';
            }

            continue;
        }

        v[k++] = value[i];
    }

    while (k && v[k - 1] == ' ') {
        k--;
    }

    v[k] = '\0';

    return 0;
}


static int
llm_sigv4_cmp_header(const void *a, const void *b)
{
    const llm_sigv4_hdr_t  *x = a, *y = b;

    return strcmp(x->name, y->name);
}


/* sorted "name:value\n" lines; a repeated name joins its values by ',' */
static int
llm_sigv4_put_headers(llm_sigv4_t *sig, llm_sigv4_hdr_t *h, size_t n)
{
    size_t           i, j;
    llm_sigv4_hdr_t  t;

    /* an insertion sort: stable, so repeated names keep their order */
    for (i = 1; i < n; i++) {
        t = h[i];
        j = i;

        while (j > 0 && llm_sigv4_cmp_header(&h[j - 1], &t) > 0) {
            h[j] = h[j - 1];
            j--;
        }

        h[j] = t;
    }

    for (i = 0; i < n; i++) {
        if (i && strcmp(h[i].name, h[i - 1].name) == 0) {
            if (llm_buf_append(&sig->canonical, ",", 1) != 0
                || llm_buf_appends(&sig->canonical, h[i].value) != 0)
            {
                return -1;
            }

            continue;
        }

        if ((i && llm_buf_append(&sig->canonical, "\n", 1) != 0)
            || (i && llm_buf_append(&sig->signed_headers, ";", 1) != 0)
            || llm_buf_appends(&sig->signed_headers, h[i].name) != 0
            || llm_buf_appends(&sig->canonical, h[i].name) != 0
            || llm_buf_append(&sig->canonical, ":", 1) != 0
            || llm_buf_appends(&sig->canonical, h[i].value) != 0)
        {
            return -1;
        }
    }

    /* the list ends with its own '\n': a blank line follows it */
    return n ? llm_buf_append(&sig->canonical, "\n", 1) : 0;
}


/* 8. datestamp/region/service/aws4_request */
static int
llm_sigv4_scope(llm_buf_t *out, const char *amzdate,
    const llm_sigv4_creds_t *creds)
{
    if (llm_buf_append(out, amzdate, 8) != 0
        || llm_buf_append(out, "/", 1) != 0
        || llm_buf_appends(out, creds->region) != 0
        || llm_buf_append(out, "/", 1) != 0
        || llm_buf_appends(out, creds->service) != 0
        || llm_buf_appends(out, "/aws4_request") != 0)
    {
        return -1;
    }

    return 0;
}


/* 10. kDate, kRegion, kService, kSigning */
void
llm_sigv4_signing_key(const char *secret, const char *date,
    const char *region, const char *service, unsigned char key[32])
{
    char           *k;
    size_t          n;
    unsigned char   a[32], b[32];

    n = strlen(secret) + 4;
    k = malloc(n + 1);

    if (k == NULL) {
        /* a key nobody can match: the request fails, nothing crashes */
        memset(key, 0, 32);
        return;
    }

    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, n - 4);

    llm_sigv4_hmac(a, k, n, date, strlen(date));
    llm_sigv4_hmac(b, a, 32, region, strlen(region));
    llm_sigv4_hmac(a, b, 32, service, strlen(service));
    llm_sigv4_hmac(key, a, 32, "aws4_request", sizeof("aws4_request") - 1);

    OPENSSL_cleanse(k, n);
    OPENSSL_cleanse(a, sizeof(a));
    OPENSSL_cleanse(b, sizeof(b));
    free(k);
}


static void
llm_sigv4_hmac(unsigned char out[32], const void *key, size_t klen,
    const char *data, size_t dlen)
{
    unsigned int  len;

    len = 32;

    if (HMAC(EVP_sha256(), key, (int) klen, (const unsigned char *) data,
             dlen, out, &len) == NULL)
    {
        memset(out, 0, 32);
    }
}


void
llm_sigv4_sha256_hex(char *out, const void *p, size_t n)
{
    unsigned int   len;
    unsigned char  md[32];

    len = 32;

    if (EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) != 1) {
        memset(md, 0, sizeof(md));
    }

    llm_sigv4_hex(out, md, sizeof(md));
}


void
llm_sigv4_hex(char *out, const unsigned char *p, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[2 * i] = llm_sigv4_xdigits[p[i] >> 4];
        out[2 * i + 1] = llm_sigv4_xdigits[p[i] & 0x0f];
    }

    out[2 * n] = '\0';
}


static int
llm_sigv4_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9')
           || c == '-' || c == '_' || c == '.' || c == '~';
}


int
llm_sigv4_uri_encode(llm_buf_t *out, const char *s, size_t n, int keep_slash)
{
    size_t          i;
    unsigned char   c;
    static const char  upper[] = "0123456789ABCDEF";

    if (llm_buf_reserve(out, n * 3 + 1) != 0) {
        return -1;
    }

    for (i = 0; i < n; i++) {
        c = (unsigned char) s[i];

        if (llm_sigv4_unreserved(c) || (keep_slash && c == '/')) {
            out->data[out->len++] = (char) c;
            continue;
        }

        out->data[out->len++] = '%';
        out->data[out->len++] = upper[c >> 4];
        out->data[out->len++] = upper[c & 0x0f];
    }

    out->data[out->len] = '\0';

    return 0;
}
