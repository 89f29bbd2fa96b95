/*
 * Copyright (C) ngx_llm authors
 *
 * SigV4 against ../shared/providers/bedrock.md: AWS's published test
 * suite vectors (get-vanilla, post-vanilla, post-x-www-form-urlencoded),
 * the signing-key derivations, and the composed Bedrock vector whose
 * model id carries a ':' that must be encoded twice.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "llm_sigv4.h"


#define AKID    "AKIDEXAMPLE"
#define SECRET  "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* 2015-08-30T12:36:00Z */
#define T_2015  ((time_t) 1440938160)


static const llm_sigv4_creds_t  suite = {
    AKID, SECRET, NULL, "us-east-1", "service"
};


static void
sign_ok(const llm_sigv4_creds_t *c, const llm_sigv4_req_t *r, time_t t,
    llm_sigv4_t *sig)
{
    assert_int_equal(llm_sigv4_sign(c, r, t, sig), 0);
}


static void
assert_sha256(const llm_buf_t *b, const char *hex)
{
    char  h[65];

    llm_sigv4_sha256_hex(h, b->data, b->len);
    assert_string_equal(h, hex);
}


static void
test_get_vanilla(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    static llm_sigv4_header_t  h[] = { { "Host", "example.amazonaws.com" } };

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/";
    r.headers = h;
    r.nheaders = 1;

    sign_ok(&suite, &r, T_2015, &sig);

    assert_string_equal(sig.amzdate, "20150830T123600Z");
    assert_string_equal(sig.canonical.data,
        "GET\n"
        "/\n"
        "\n"
        "host:example.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "host;x-amz-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_string_equal(sig.string_to_sign.data,
        "AWS4-HMAC-SHA256\n"
        "20150830T123600Z\n"
        "20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    assert_string_equal(sig.signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    assert_string_equal(sig.authorization.data,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
        "service/aws4_request, SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae"
        "1d763fbf31");

    llm_sigv4_free(&sig);
}


static void
test_post_vanilla(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    static llm_sigv4_header_t  h[] = { { "Host", "example.amazonaws.com" } };

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/";
    r.headers = h;
    r.nheaders = 1;

    sign_ok(&suite, &r, T_2015, &sig);

    assert_sha256(&sig.canonical,
        "553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401ae622fc87");
    assert_string_equal(sig.signature,
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");

    llm_sigv4_free(&sig);
}


static void
test_post_form(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    static llm_sigv4_header_t  h[] = {
        { "Content-Type", "application/x-www-form-urlencoded" },
        { "Host", "example.amazonaws.com" },
        { "Content-Length", "13" },
    };

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/";
    r.headers = h;
    r.nheaders = 3;
    r.payload = "Param1=value1";
    r.payload_len = 13;
    r.content_sha256 = 1;

    sign_ok(&suite, &r, T_2015, &sig);

    assert_string_equal(sig.payload_hash,
        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    assert_string_equal(sig.signed_headers.data,
        "content-length;content-type;host;x-amz-content-sha256;x-amz-date");
    assert_sha256(&sig.canonical,
        "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb");
    assert_string_equal(sig.signature,
        "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");

    llm_sigv4_free(&sig);
}


static void
hmac(unsigned char out[32], const void *k, size_t klen, const char *d)
{
    unsigned int  len = 32;

    assert_non_null(HMAC(EVP_sha256(), k, (int) klen,
                         (const unsigned char *) d, strlen(d), out, &len));
}


static void
test_signing_keys(void **state)
{
    char           hex[65];
    unsigned char  key[32], a[32], b[32];

    /* AWS's documentation example (service iam) */
    llm_sigv4_signing_key(SECRET, "20150830", "us-east-1", "iam", key);
    llm_sigv4_hex(hex, key, 32);
    assert_string_equal(hex,
        "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");

    llm_sigv4_signing_key(SECRET, "20150830", "us-east-1", "service", key);
    llm_sigv4_hex(hex, key, 32);
    assert_string_equal(hex,
        "938127b5336810ddb6a5d6af445fcac9e371f9ed418ed386b022aed82901be75");

    llm_sigv4_signing_key(SECRET, "20150830", "us-east-1", "bedrock", key);
    llm_sigv4_hex(hex, key, 32);
    assert_string_equal(hex,
        "90e694a0eeb93605dc6a1e798b98fe0e790776a911d2494317b06246c599ba53");

    /* the document's intermediate values of the chain */
    hmac(a, "AWS4" SECRET, sizeof("AWS4" SECRET) - 1, "20150830");
    llm_sigv4_hex(hex, a, 32);
    assert_string_equal(hex,
        "0138c7a6cbd60aa727b2f653a522567439dfb9f3e72b21f9b25941a42f04a7cd");

    hmac(b, a, 32, "us-east-1");
    llm_sigv4_hex(hex, b, 32);
    assert_string_equal(hex,
        "f33d5808504bf34812e5fade63308b424b244c59189be2a591dd2282c7cb563f");

    hmac(a, b, 32, "service");
    llm_sigv4_hex(hex, a, 32);
    assert_string_equal(hex,
        "f7fd819348e53789a8474fb1aebea778f5af85c40612e0f064eecd5642c81bc1");
}


#define BEDROCK_BODY                                                     \
    "{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Hi\"}]}]," \
    "\"inferenceConfig\":{\"maxTokens\":64}}"


static void
test_bedrock_vector(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    llm_sigv4_creds_t         c;
    static llm_sigv4_header_t  h[] = {
        { "Content-Type", "application/json" },
        { "Host", "bedrock-runtime.us-east-1.amazonaws.com" },
    };

    c = suite;
    c.service = "bedrock";

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse";
    r.headers = h;
    r.nheaders = 2;
    r.payload = BEDROCK_BODY;
    r.payload_len = sizeof(BEDROCK_BODY) - 1;

    assert_int_equal(r.payload_len, 91);

    sign_ok(&c, &r, T_2015, &sig);

    assert_string_equal(sig.canonical.data,
        "POST\n"
        "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse\n"
        "\n"
        "content-type:application/json\n"
        "host:bedrock-runtime.us-east-1.amazonaws.com\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "content-type;host;x-amz-date\n"
        "9fe85f2d1d832f88fa910da82e4380943a72b2d8f884106428ba8c4588a20b85");
    assert_sha256(&sig.canonical,
        "08476ac8a4736213d5f3e965c2832b82b904e977f5d98c3e74addbdd38bcc881");
    assert_string_equal(sig.signature,
        "4e695fb0b2a4354d996741d54fc5502cf897a33edb0f41a5a880045bb55a5eca");
    assert_string_equal(sig.authorization.data,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
        "bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date,"
        " Signature=4e695fb0b2a4354d996741d54fc5502cf897a33edb0f41a5a88004"
        "5bb55a5eca");

    llm_sigv4_free(&sig);
}


/* a session token is signed too, in its sorted place */
static void
test_session_token(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    llm_sigv4_creds_t         c;
    static llm_sigv4_header_t  h[] = {
        { "host", "example.amazonaws.com" },
    };

    c = suite;
    c.session_token = "FQoGZXIvYXdzE  token/with+chars";

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/";
    r.headers = h;
    r.nheaders = 1;

    sign_ok(&c, &r, T_2015, &sig);

    assert_string_equal(sig.signed_headers.data,
                        "host;x-amz-date;x-amz-security-token");
    assert_non_null(strstr(sig.canonical.data,
        "x-amz-date:20150830T123600Z\n"
        "x-amz-security-token:FQoGZXIvYXdzE token/with+chars\n\n"));
    assert_non_null(strstr(sig.authorization.data,
                           "SignedHeaders=host;x-amz-date;"
                           "x-amz-security-token, Signature="));
    llm_sigv4_free(&sig);

    /* an empty token is no token */
    c.session_token = "";
    sign_ok(&c, &r, T_2015, &sig);
    assert_string_equal(sig.signed_headers.data, "host;x-amz-date");
    assert_string_equal(sig.signature,
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    llm_sigv4_free(&sig);
}


/* step 5: names lower-cased and sorted, values trimmed and collapsed */
static void
test_header_values(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    static llm_sigv4_header_t  h[] = {
        { "My-Header1", "  value1  " },
        { "Host", "example.amazonaws.com" },
        { "My-Header2", "\"a   b   c\"" },
        { "My-Header1", "value2" },
    };

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/";
    r.headers = h;
    r.nheaders = 4;

    sign_ok(&suite, &r, T_2015, &sig);

    assert_string_equal(sig.canonical.data,
        "GET\n/\n\n"
        "host:example.amazonaws.com\n"
        "my-header1:value1,value2\n"
        "my-header2:\"a b c\"\n"
        "x-amz-date:20150830T123600Z\n"
        "\n"
        "host;my-header1;my-header2;x-amz-date\n"
        LLM_SIGV4_EMPTY_SHA256);

    llm_sigv4_free(&sig);
}


static void
canonical_uri(const char *path, int single, const char *expected)
{
    char                      *nl;
    llm_sigv4_t                sig;
    llm_sigv4_req_t            r;
    static llm_sigv4_header_t  h[] = { { "host", "h" } };

    memset(&r, 0, sizeof(r));
    r.method = "POST";
    r.path = path;
    r.headers = h;
    r.nheaders = 1;
    r.single_encode = single;

    sign_ok(&suite, &r, T_2015, &sig);

    nl = strchr(sig.canonical.data + 5, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_string_equal(sig.canonical.data + 5, expected);

    llm_sigv4_free(&sig);
}


/* step 3: the path as sent is encoded again (not for S3) */
static void
test_canonical_uri(void **state)
{
    canonical_uri("", 0, "/");
    canonical_uri("/", 0, "/");
    canonical_uri("/model/amazon.nova-lite-v1%3A0/converse-stream", 0,
                  "/model/amazon.nova-lite-v1%253A0/converse-stream");
    canonical_uri("/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012"
                  "%3Ainference-profile%2Fus.anthropic.claude-v1%3A0/converse",
                  0,
                  "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A"
                  "123456789012%253Ainference-profile%252Fus.anthropic."
                  "claude-v1%253A0/converse");
    canonical_uri("/a b/~x_y-z.", 0, "/a%20b/~x_y-z.");
    canonical_uri("/model/x%3A0", 1, "/model/x%3A0");
}


static void
canonical_query(const char *query, const char *expected)
{
    char                      *p, *nl;
    llm_sigv4_t                sig;
    llm_sigv4_req_t            r;
    static llm_sigv4_header_t  h[] = { { "host", "h" } };

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/";
    r.query = query;
    r.headers = h;
    r.nheaders = 1;

    sign_ok(&suite, &r, T_2015, &sig);

    p = sig.canonical.data + sizeof("GET\n/\n") - 1;
    nl = strchr(p, '\n');
    assert_non_null(nl);
    *nl = '\0';
    assert_string_equal(p, expected);

    llm_sigv4_free(&sig);
}


/* step 4 */
static void
test_canonical_query(void **state)
{
    canonical_query(NULL, "");
    canonical_query("", "");
    canonical_query("Param2=value2&Param1=value1",
                    "Param1=value1&Param2=value2");
    canonical_query("Param1=value2&Param1=Value1",
                    "Param1=Value1&Param1=value2");
    canonical_query("a-b=1&a=2", "a=2&a-b=1");
    canonical_query("flag&x=%7e%41+b", "flag=&x=~A%2Bb");
    canonical_query("k=a%20b%2F%3a", "k=a%20b%2F%3A");
    canonical_query("&&z=1&", "z=1");
}


static void
test_uri_encode(void **state)
{
    llm_buf_t  b;

    memset(&b, 0, sizeof(b));
    assert_int_equal(llm_sigv4_uri_encode(&b, "aZ09-_.~ /:%\xc3\xa9", 14,
                                          0), 0);
    assert_string_equal(b.data, "aZ09-_.~%20%2F%3A%25%C3%A9");
    llm_buf_free(&b);

    assert_int_equal(llm_sigv4_uri_encode(&b, "/a/b:c", 6, 1), 0);
    assert_string_equal(b.data, "/a/b%3Ac");
    llm_buf_free(&b);
}


static void
test_timestamps(void **state)
{
    llm_sigv4_t               sig;
    llm_sigv4_req_t           r;
    static llm_sigv4_header_t  h[] = { { "host", "h" } };

    memset(&r, 0, sizeof(r));
    r.method = "GET";
    r.path = "/";
    r.headers = h;
    r.nheaders = 1;

    sign_ok(&suite, &r, 0, &sig);
    assert_string_equal(sig.amzdate, "19700101T000000Z");
    assert_non_null(strstr(sig.authorization.data, "/19700101/us-east-1/"));
    llm_sigv4_free(&sig);

    sign_ok(&suite, &r, (time_t) 1735689599, &sig);
    assert_string_equal(sig.amzdate, "20241231T235959Z");
    llm_sigv4_free(&sig);

    /* a year that does not fit the format */
    assert_int_equal(llm_sigv4_sign(&suite, &r, (time_t) 400000000000LL,
                                     &sig), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_get_vanilla),
        cmocka_unit_test(test_post_vanilla),
        cmocka_unit_test(test_post_form),
        cmocka_unit_test(test_signing_keys),
        cmocka_unit_test(test_bedrock_vector),
        cmocka_unit_test(test_session_token),
        cmocka_unit_test(test_header_values),
        cmocka_unit_test(test_canonical_uri),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_timestamps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
