/*
 * Copyright (C) ngx_llm authors
 *
 * The client body checked on its bytes (llm_request_scan()) against
 * llm_request_validate() on the cJSON tree of the same bytes: what the
 * scanner accepts the tree accepts, with the same model, stream and
 * include_usage; what it declines is either refused by the tree too or
 * a case it declines on purpose.  And llm_call_req(), the lazy parse.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_request_scan.h"
#include "test_util.h"


#define T_CHAT     LLM_ENDPOINT_CHAT
#define T_EMBED    LLM_ENDPOINT_EMBEDDINGS

#define T_REFUSED     0         /* cJSON or llm_request_validate() refuses */
#define T_ON_PURPOSE  1         /* the tree passes; the scanner declines */

#define T_MSGS     "'messages':[{'role':'user','content':'Hi'}]"


typedef struct {
    const char      *body;      /* ' for ", see q() */
    llm_endpoint_e   endpoint;
    const char      *model;
    int              stream;
    int              include_usage;
} t_good_t;


typedef struct {
    const char      *body;      /* ' for ", see q() */
    size_t           len;       /* 0: strlen(body) */
    llm_endpoint_e   endpoint;
    int              tree;      /* T_REFUSED or T_ON_PURPOSE */
} t_bad_t;


static char *t_qn(const char *s, size_t len);
static void t_show(const char *what, const char *p, size_t len);
static int t_equiv(const char *p, size_t len, llm_endpoint_e endpoint);
static void t_accept(const char *p, size_t len, llm_endpoint_e endpoint,
    const char *model, int stream, int include_usage);
static void t_decline(const char *p, size_t len, llm_endpoint_e endpoint,
    int tree);
static char *t_members(llm_buf_t *b, int n);
static char *t_nested(llm_buf_t *b, int depth);
static char *t_many_messages(llm_buf_t *b, int n);


static const t_good_t  t_good[] = {

    /* chat, and "stream" in each of its shapes */
    { "{'model':'gpt-4o'," T_MSGS "}", T_CHAT, "gpt-4o", 0, 0 },
    { "{'model':'gpt-4o','stream':true," T_MSGS "}",
      T_CHAT, "gpt-4o", 1, 0 },
    { "{'model':'gpt-4o','stream':false," T_MSGS "}",
      T_CHAT, "gpt-4o", 0, 0 },
    { "{'model':'gpt-4o','stream':null," T_MSGS "}",
      T_CHAT, "gpt-4o", 0, 0 },
    { "{'model':'gpt-4o','messages':[{'role':'system','content':'Be brief.'},"
      "{'role':'user','content':'Hi'},{'role':'assistant','content':null,"
      "'tool_calls':[{'id':'c1','type':'function','function':{'name':'f',"
      "'arguments':'{}'}}]},{'role':'tool','tool_call_id':'c1',"
      "'content':'42'}],'temperature':0.7,'max_tokens':256,'top_p':1,"
      "'stop':['\\n'],'user':'u-1','tools':[{'type':'function',"
      "'function':{'name':'f','parameters':{'type':'object'}}}]}",
      T_CHAT, "gpt-4o", 0, 0 },

    /* stream_options */
    { "{'model':'m','stream':true,'stream_options':{'include_usage':true},"
      T_MSGS "}", T_CHAT, "m", 1, 1 },
    { "{'stream_options':{'include_usage':true},'model':'m'," T_MSGS ","
      "'stream':true}", T_CHAT, "m", 1, 1 },
    { "{'model':'m','stream':true,'stream_options':{'include_usage':false},"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{}," T_MSGS "}",
      T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'include_obfuscation':"
      "false}," T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':null," T_MSGS "}",
      T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':[{'include_usage':true}],"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':'include_usage',"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':true," T_MSGS "}",
      T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'include_usage':1},"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'include_usage':'true'},"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'include_usage':null},"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'x':{'include_usage':"
      "true}}," T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'Include_usage':true},"
      T_MSGS "}", T_CHAT, "m", 1, 0 },
    /* cJSON_GetObjectItemCaseSensitive() finds the first */
    { "{'model':'m','stream':true,'stream_options':{'include_usage':false,"
      "'include_usage':true}," T_MSGS "}", T_CHAT, "m", 1, 0 },
    { "{'model':'m','stream':true,'stream_options':{'include_usage':true,"
      "'include_usage':false}," T_MSGS "}", T_CHAT, "m", 1, 1 },
    /* usage only with a stream */
    { "{'model':'m','stream':false,'stream_options':{'include_usage':true},"
      T_MSGS "}", T_CHAT, "m", 0, 0 },
    { "{'model':'m','stream_options':{'include_usage':true}," T_MSGS "}",
      T_CHAT, "m", 0, 0 },

    /* whitespace wherever JSON allows it */
    { " \n\t\r{ \n 'model' \t: \r\n 'ws' , 'stream'\n:\ntrue ,"
      "'stream_options' : { 'include_usage' : true } , 'messages' : [ "
      "{ 'role' : 'user' , 'content' : ' Hi ' } , { 'role':'user' } ] "
      "} \n\t ", T_CHAT, "ws", 1, 1 },
    { "{\n  'model': 'pretty',\n  'messages': [\n    {\n      'role': "
      "'user',\n      'content': 'Hi'\n    }\n  ]\n}\n",
      T_CHAT, "pretty", 0, 0 },

    /* unicode */
    { "{'model':'m','messages':[{'role':'user','content':'h\xc3\xa9llo "
      "\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80 \\u00e9\\ud83d\\ude00 "
      "\\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t'}]}", T_CHAT, "m", 0, 0 },
    { "{'model':'mod\xc3\xa8le-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80',"
      T_MSGS "}", T_CHAT,
      "mod\xc3\xa8le-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x98\x80", 0, 0 },
    { "{'model':'a/b:c@d.e','stream':true," T_MSGS "}",
      T_CHAT, "a/b:c@d.e", 1, 0 },

    /* what messages may hold beyond a string "role" */
    { "{'model':'m','messages':[{'role':''}]}", T_CHAT, "m", 0, 0 },
    { "{'model':'m','messages':[{'role':'user','content':[{'type':'text',"
      "'text':'a'},{'type':'image_url','image_url':{'url':'data:,x'}}]}]}",
      T_CHAT, "m", 0, 0 },
    { "{'model':'m','messages':[{'role':'user','role':1}]}",
      T_CHAT, "m", 0, 0 },
    { "{'model':'m','messages':[{'content':'Hi','role':'user','name':'n'}]}",
      T_CHAT, "m", 0, 0 },

    /* a chat body that also has "input", and the reverse */
    { "{'model':'m','input':'x'," T_MSGS "}", T_CHAT, "m", 0, 0 },

    /*
     * bytes after the value are ignored, as cJSON_ParseWithLength()
     * ignores them
     */
    { "{'model':'m'," T_MSGS "} trailing", T_CHAT, "m", 0, 0 },
    { "{'model':'m'," T_MSGS "}{'model':'n'}", T_CHAT, "m", 0, 0 },
    { "{'model':'m'," T_MSGS "}]]]", T_CHAT, "m", 0, 0 },

    /* embeddings: "input" a string or an array; never a stream */
    { "{'model':'text-embedding-3-small','input':'hello'}",
      T_EMBED, "text-embedding-3-small", 0, 0 },
    { "{'model':'e','input':''}", T_EMBED, "e", 0, 0 },
    { "{'model':'e','input':['a','b','c'],'encoding_format':'float',"
      "'dimensions':256}", T_EMBED, "e", 0, 0 },
    { "{'model':'e','input':[]}", T_EMBED, "e", 0, 0 },
    { "{'model':'e','input':[[1,2],[3]]}", T_EMBED, "e", 0, 0 },
    { "{'model':'e','input':'x','stream':true,'stream_options':"
      "{'include_usage':true}}", T_EMBED, "e", 0, 0 },
    { "{'model':'e','input':'x','messages':1}", T_EMBED, "e", 0, 0 },
    { " { 'input' : [ 'a' ] , 'model' : 'e' } ", T_EMBED, "e", 0, 0 },
};


static const t_bad_t  t_bad[] = {

    /* not JSON */
    { "", 0, T_CHAT, T_REFUSED },
    { "   ", 0, T_CHAT, T_REFUSED },
    { "{", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS, 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m' " T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':[1,]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':tru}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':True}", 0, T_CHAT, T_REFUSED },
    { "{model:'m'," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':'\\x'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':'\\u12'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':-}", 0, T_CHAT, T_REFUSED },
    /* surrogates cJSON refuses */
    { "{'model':'m'," T_MSGS ",'x':'\\ud800'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':'\\udc00'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':'\\ud800\\u0041'}", 0, T_CHAT,
      T_REFUSED },

    /* JSON the scanner does not vouch for, which cJSON takes */
    { "\xef\xbb\xbf{'model':'m'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "\x01{'model':'m'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS "\x0b}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':'a\x01'}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':01}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':1.}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':+1}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m'," T_MSGS ",'x':1e400}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':'\\u0000'}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':1234567890123456789012345678901234567890"
      "1234567890123456789012345678901234567890}", 0, T_CHAT, T_ON_PURPOSE },

    /* not an object */
    { "[]", 0, T_CHAT, T_REFUSED },
    { "[{'model':'m'," T_MSGS "}]", 0, T_CHAT, T_REFUSED },
    { "'model'", 0, T_CHAT, T_REFUSED },
    { "42", 0, T_CHAT, T_REFUSED },
    { "null", 0, T_CHAT, T_REFUSED },
    { "true", 0, T_EMBED, T_REFUSED },

    /* "model" */
    { "{" T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':null," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':''," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':42," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':true," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':['m']," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':{'id':'m'}," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'Model':'m'," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'','input':'x'}", 0, T_EMBED, T_REFUSED },
    /* escaped: the tree's name is not the bytes */
    { "{'model':'gpt\\u002d4o'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'a\\nb'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'\\\\'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'\\u0000x'," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'\\u0000x','input':'x'}", 0, T_EMBED, T_REFUSED },
    /* a raw NUL: the tree reads "a", or "" */
    { "{'model':'a\0b'," T_MSGS "}",
      sizeof("{'model':'a\0b'," T_MSGS "}") - 1, T_CHAT, T_ON_PURPOSE },
    { "{'model':'\0b'," T_MSGS "}",
      sizeof("{'model':'\0b'," T_MSGS "}") - 1, T_CHAT, T_REFUSED },

    /* duplicate members: the tree takes the first */
    { "{'model':'a','model':'b'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'a','model':1," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':1,'model':'a'," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','stream':true,'stream':false," T_MSGS "}", 0, T_CHAT,
      T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'messages':1}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'model':'m','messages':1," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'e','input':'x','input':2}", 0, T_EMBED, T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'x':1,'x':2}", 0, T_CHAT, T_ON_PURPOSE },

    /* escaped keys */
    { "{'m\\u006fdel':'m'," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },
    { "{'\\u006dodel':'m','input':'x'}", 0, T_EMBED, T_ON_PURPOSE },
    { "{'model':'m','str\\u0065am':'yes'," T_MSGS "}", 0, T_CHAT,
      T_REFUSED },
    { "{'model':'m','str\\u0065am':true," T_MSGS "}", 0, T_CHAT,
      T_ON_PURPOSE },
    { "{'model':'m'," T_MSGS ",'t\\u0065mperature':1}", 0, T_CHAT,
      T_ON_PURPOSE },
    { "{'model':'m','mess\\u0061ges':[]," T_MSGS "}", 0, T_CHAT,
      T_REFUSED },
    { "{'model':'m'," T_MSGS ",'mess\\u0061ges':[]}", 0, T_CHAT,
      T_ON_PURPOSE },

    /* "stream" */
    { "{'model':'m','stream':'true'," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','stream':1," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','stream':0," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','stream':[]," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','stream':{}," T_MSGS "}", 0, T_CHAT, T_REFUSED },
    { "{'model':'e','input':'x','stream':'no'}", 0, T_EMBED, T_REFUSED },

    /* "messages" */
    { "{'model':'m'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[ ]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':{}}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':{'role':'user'}}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':'Hi'}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':null}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':1}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','Messages':[{'role':'user'}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'e','input':'x'}", 0, T_CHAT, T_REFUSED },
    /* a message that is not an object with a string "role" */
    { "{'model':'m','messages':[1]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':['user']}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[null]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[[{'role':'user'}]]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':'user'},2]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':'user'},{}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'content':'Hi'}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':null}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':1}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':['user']}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':{}}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'Role':'user'}]}", 0, T_CHAT, T_REFUSED },
    { "{'model':'m','messages':[{'role':1,'role':'user'}]}", 0, T_CHAT,
      T_REFUSED },
    /* a message with an escaped key */
    { "{'model':'m','messages':[{'r\\u006fle':'user'}]}", 0, T_CHAT,
      T_ON_PURPOSE },
    { "{'model':'m','messages':[{'role':'user','c\\u006fntent':'x'}]}", 0,
      T_CHAT, T_ON_PURPOSE },
    { "{'model':'m','messages':[{'role':'user'},{'\\u0072ole':'user'}]}",
      0, T_CHAT, T_ON_PURPOSE },
    /* stream_options with an escaped key: the tree finds the usage */
    { "{'model':'m','stream':true,'stream_options':{'include\\u005fusage':"
      "true}," T_MSGS "}", 0, T_CHAT, T_ON_PURPOSE },

    /* embeddings: "input" */
    { "{'model':'e'}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e'," T_MSGS "}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e','input':1}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e','input':null}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e','input':true}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e','input':{'text':'x'}}", 0, T_EMBED, T_REFUSED },
    { "{'model':'e','Input':'x'}", 0, T_EMBED, T_REFUSED },
};


/* q() for len bytes that may hold a NUL, into memory to free */
static char *
t_qn(const char *s, size_t len)
{
    char    *b;
    size_t   i;

    b = malloc(len + 1);
    assert_non_null(b);

    for (i = 0; i < len; i++) {
        b[i] = (s[i] == '\'') ? '"' : s[i];
    }

    b[len] = '\0';

    return b;
}


/* p for a message, with bytes outside printable ASCII as \xNN */
static void
t_show(const char *what, const char *p, size_t len)
{
    size_t  i;

    fprintf(stderr, "%s (%zu bytes): ", what, len);

    for (i = 0; i < len && i < 2048; i++) {
        if ((unsigned char) p[i] >= 0x20 && (unsigned char) p[i] < 0x7f) {
            fputc(p[i], stderr);

        } else {
            fprintf(stderr, "\\x%02x", (unsigned char) p[i]);
        }
    }

    fprintf(stderr, "%s\n", len > 2048 ? "..." : "");
}


/*
 * The property: llm_request_scan() says LLM_OK only when the tree of
 * the same bytes passes llm_request_validate(), with the model, stream
 * and include_usage the glue reads from the tree.  Returns its verdict.
 */
static int
t_equiv(const char *p, size_t len, llm_endpoint_e endpoint)
{
    int              rc, stream, include_usage;
    cJSON           *tree;
    const cJSON     *model, *so;
    llm_error_t      err;
    llm_req_scan_t   s;

    rc = llm_request_scan(p, len, endpoint, &s);

    if (rc != LLM_OK) {
        if (rc != LLM_DECLINED) {
            t_show("neither LLM_OK nor LLM_DECLINED", p, len);
            fail();
        }

        return rc;
    }

    tree = cJSON_ParseWithLength(p, len);

    if (tree == NULL) {
        t_show("scanned, but cJSON refuses", p, len);
        fail();
    }

    if (llm_request_validate(tree, endpoint, &err) != LLM_OK) {
        t_show(err.message, p, len);
        fail();
    }

    model = cJSON_GetObjectItemCaseSensitive(tree, "model");

    stream = endpoint == LLM_ENDPOINT_CHAT
             && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tree, "stream"));

    so = cJSON_GetObjectItemCaseSensitive(tree, "stream_options");
    include_usage = stream
        && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(so, "include_usage"));

    if (s.model == NULL
        || s.model < p
        || s.model + s.model_len > p + len
        || s.model_len != strlen(model->valuestring)
        || memcmp(s.model, model->valuestring, s.model_len) != 0
        || s.stream != stream
        || s.include_usage != include_usage)
    {
        t_show("scanned differently", p, len);
        fprintf(stderr, "scan: model \"%.*s\" stream %d include_usage %d\n"
                "tree: model \"%s\" stream %d include_usage %d\n",
                s.model ? (int) s.model_len : 0, s.model ? s.model : "",
                s.stream, s.include_usage, model->valuestring, stream,
                include_usage);
        fail();
    }

    cJSON_Delete(tree);

    return rc;
}


static void
t_accept(const char *p, size_t len, llm_endpoint_e endpoint,
    const char *model, int stream, int include_usage)
{
    llm_req_scan_t  s;

    if (t_equiv(p, len, endpoint) != LLM_OK) {
        t_show("declined", p, len);
        fail();
    }

    assert_int_equal(llm_request_scan(p, len, endpoint, &s), LLM_OK);
    assert_int_equal(s.model_len, strlen(model));
    assert_memory_equal(s.model, model, s.model_len);
    assert_int_equal(s.stream, stream);
    assert_int_equal(s.include_usage, include_usage);
}


/* declined, and the tree refuses it too or passes it as "tree" says */
static void
t_decline(const char *p, size_t len, llm_endpoint_e endpoint, int tree)
{
    int           rc;
    cJSON        *t;
    llm_error_t   err;

    if (t_equiv(p, len, endpoint) != LLM_DECLINED) {
        t_show("not declined", p, len);
        fail();
    }

    t = cJSON_ParseWithLength(p, len);
    rc = t ? llm_request_validate(t, endpoint, &err) : LLM_ERROR;
    cJSON_Delete(t);

    if (rc != (tree == T_REFUSED ? LLM_ERROR : LLM_OK)) {
        t_show(tree == T_REFUSED ? "the tree passes" : "the tree refuses",
               p, len);
        fail();
    }
}


/* a chat body with n top-level members */
static char *
t_members(llm_buf_t *b, int n)
{
    int  i;

    llm_buf_reset(b);
    llm_buf_appends(b, q("{'model':'m'," T_MSGS));

    for (i = 2; i < n; i++) {
        llm_buf_printf(b, ",\"k%d\":%d", i, i);
    }

    llm_buf_appends(b, "}");

    return b->data;
}


/* a chat body with a value nested depth arrays and objects deep */
static char *
t_nested(llm_buf_t *b, int depth)
{
    int  i;

    llm_buf_reset(b);
    llm_buf_appends(b, q("{'model':'m'," T_MSGS ",'x':"));

    for (i = 0; i < depth; i++) {
        llm_buf_appends(b, (i % 2) ? "{\"a\":" : "[");
    }

    llm_buf_appends(b, "1");

    for (i = depth - 1; i >= 0; i--) {
        llm_buf_appends(b, (i % 2) ? "}" : "]");
    }

    llm_buf_appends(b, "}");

    return b->data;
}


static char *
t_many_messages(llm_buf_t *b, int n)
{
    int  i;

    llm_buf_reset(b);
    llm_buf_appends(b, q("{'model':'many','stream':true,'messages':["));

    for (i = 0; i < n; i++) {
        llm_buf_printf(b, "%s{\"role\":\"%s\",\"content\":\"message %d: "
                       "\\u00e9 \xe2\x82\xac\",\"x\":[{\"y\":[%d]}]}",
                       i ? "," : "", (i % 2) ? "assistant" : "user", i, i);
    }

    llm_buf_appends(b, q("],'stream_options':{'include_usage':true}}"));

    return b->data;
}


static void
test_accepted(void **state)
{
    size_t       i;
    const char  *p;

    for (i = 0; i < sizeof(t_good) / sizeof(t_good[0]); i++) {
        p = q(t_good[i].body);

        t_accept(p, strlen(p), t_good[i].endpoint, t_good[i].model,
                 t_good[i].stream, t_good[i].include_usage);

        /* and the other endpoint agrees, or declines */
        t_equiv(p, strlen(p), (llm_endpoint_e) !t_good[i].endpoint);
    }
}


static void
test_accepted_large(void **state)
{
    char        *p;
    llm_buf_t    b;

    memset(&b, 0, sizeof(llm_buf_t));

    p = t_many_messages(&b, 1);
    t_accept(p, b.len, T_CHAT, "many", 1, 1);

    /* more messages than the tape has room for */
    p = t_many_messages(&b, 500);
    t_accept(p, b.len, T_CHAT, "many", 1, 1);
    t_decline(p, b.len, T_EMBED, T_REFUSED);

    /* as many members as the scanner lists */
    p = t_members(&b, LLM_JSON_MAX_MEMBERS);
    t_accept(p, b.len, T_CHAT, "m", 0, 0);

    /* nested, but not as deep as the scanner's limit */
    p = t_nested(&b, 100);
    t_accept(p, b.len, T_CHAT, "m", 0, 0);

    /* a long content */
    llm_buf_reset(&b);
    llm_buf_appends(&b, q("{'model':'long','messages':[{'role':'user',"
                          "'content':'"));

    while (b.len < 200000) {
        llm_buf_appends(&b, "lorem ipsum \\n dolor \xc3\xa9 ");
    }

    llm_buf_appends(&b, q("'}]}"));
    t_accept(b.data, b.len, T_CHAT, "long", 0, 0);

    llm_buf_free(&b);
}


static void
test_declined(void **state)
{
    char    *p;
    size_t   i, len;

    for (i = 0; i < sizeof(t_bad) / sizeof(t_bad[0]); i++) {
        len = t_bad[i].len ? t_bad[i].len : strlen(t_bad[i].body);
        p = t_qn(t_bad[i].body, len);

        t_decline(p, len, t_bad[i].endpoint, t_bad[i].tree);
        t_equiv(p, len, (llm_endpoint_e) !t_bad[i].endpoint);

        free(p);
    }

    /* "p" NULL, as for a request without a body */
    {
        llm_req_scan_t  s;

        assert_int_equal(llm_request_scan(NULL, 0, T_CHAT, &s), LLM_DECLINED);
    }
}


static void
test_declined_large(void **state)
{
    char        *p;
    llm_buf_t    b;

    memset(&b, 0, sizeof(llm_buf_t));

    /* more members than the scanner lists: cJSON takes them */
    p = t_members(&b, LLM_JSON_MAX_MEMBERS + 1);
    t_decline(p, b.len, T_CHAT, T_ON_PURPOSE);

    p = t_members(&b, 200);
    t_decline(p, b.len, T_CHAT, T_ON_PURPOSE);

    /* deeper than the scanner goes; cJSON goes to 1000 */
    p = t_nested(&b, LLM_JSON_MAX_DEPTH + 10);
    t_decline(p, b.len, T_CHAT, T_ON_PURPOSE);

    p = t_nested(&b, 1200);
    t_decline(p, b.len, T_CHAT, T_REFUSED);

    /* a message with more members than the scanner lists */
    llm_buf_reset(&b);
    llm_buf_appends(&b, q("{'model':'m','messages':[{'role':'user'"));

    while (b.len < 1000) {
        llm_buf_printf(&b, ",\"k%zu\":1", b.len);
    }

    llm_buf_appends(&b, "}]}");
    t_decline(b.data, b.len, T_CHAT, T_ON_PURPOSE);

    llm_buf_free(&b);
}


/*
 * The property on every body above and on seeded mutations of them:
 * bytes replaced, the body cut short, JSON's punctuation inserted.
 */
static void
test_equivalence(void **state)
{
    int          i, k, n, ep, accepted, declined;
    char        *buf;
    size_t       len, pos, nbase, j;
    unsigned     seed;
    llm_buf_t    big;
    const char  *base[sizeof(t_good) / sizeof(t_good[0])
                      + sizeof(t_bad) / sizeof(t_bad[0]) + 4];
    size_t       base_len[sizeof(base) / sizeof(base[0])];

    static const char  ins[] = "{}[]\",:\\ 0tfn";

    nbase = 0;

    for (j = 0; j < sizeof(t_good) / sizeof(t_good[0]); j++) {
        base[nbase] = strdup(q(t_good[j].body));
        assert_non_null(base[nbase]);
        base_len[nbase] = strlen(base[nbase]);
        nbase++;
    }

    for (j = 0; j < sizeof(t_bad) / sizeof(t_bad[0]); j++) {
        len = t_bad[j].len ? t_bad[j].len : strlen(t_bad[j].body);
        base[nbase] = t_qn(t_bad[j].body, len);
        base_len[nbase] = len;
        nbase++;
    }

    memset(&big, 0, sizeof(llm_buf_t));

    for (j = 0; j < 4; j++) {
        switch (j) {
        case 0:
            t_many_messages(&big, 3);
            break;
        case 1:
            t_members(&big, LLM_JSON_MAX_MEMBERS);
            break;
        case 2:
            t_nested(&big, 8);
            break;
        default:
            t_members(&big, LLM_JSON_MAX_MEMBERS + 1);
            break;
        }

        base[nbase] = strdup(big.data);
        assert_non_null(base[nbase]);
        base_len[nbase] = big.len;
        nbase++;
    }

    llm_buf_free(&big);

    assert_true(nbase >= 60);

    accepted = 0;
    declined = 0;

    for (j = 0; j < nbase; j++) {
        for (ep = 0; ep < 2; ep++) {
            t_equiv(base[j], base_len[j], (llm_endpoint_e) ep);
        }
    }

    buf = malloc(65536);
    assert_non_null(buf);

    seed = 20261129;

    for (i = 0; i < 200000; i++) {
        seed = seed * 1103515245 + 12345;
        j = (seed >> 8) % nbase;
        len = base_len[j];
        memcpy(buf, base[j], len);

        for (k = 0, n = 1 + (seed >> 20) % 3; k < n; k++) {
            seed = seed * 1103515245 + 12345;

            switch ((seed >> 16) % 4) {

            case 0:     /* a byte replaced by any byte */
                if (len) {
                    seed = seed * 1103515245 + 12345;
                    pos = (seed >> 8) % len;
                    buf[pos] = (char) (seed >> 16);
                }
                break;

            case 1:     /* cut short */
                if (len) {
                    seed = seed * 1103515245 + 12345;
                    len = (seed >> 8) % len;
                }
                break;

            default:    /* punctuation inserted */
                if (len < 65536) {
                    seed = seed * 1103515245 + 12345;
                    pos = (seed >> 8) % (len + 1);
                    memmove(buf + pos + 1, buf + pos, len - pos);
                    buf[pos] = ins[(seed >> 20) % (sizeof(ins) - 1)];
                    len++;
                }
                break;
            }
        }

        for (ep = 0; ep < 2; ep++) {
            if (t_equiv(buf, len, (llm_endpoint_e) ep) == LLM_OK) {
                accepted++;

            } else {
                declined++;
            }
        }
    }

    /* the test means something only if mutations are taken and not */
    assert_true(accepted > 5000);
    assert_true(declined > 100000);

    free(buf);

    for (j = 0; j < nbase; j++) {
        free((void *) base[j]);
    }
}


static void
test_call_req(void **state)
{
    const char        *body;
    cJSON             *req, *v;
    const cJSON       *t, *t2;
    llm_call_t         call;
    llm_call_lazy_t    lazy;

    body = q("{'model':'m'," T_MSGS "}");

    /* a tree the glue parsed: that one, the body untouched */
    req = cJSON_Parse(body);
    assert_non_null(req);

    memset(&call, 0, sizeof(llm_call_t));
    memset(&lazy, 0, sizeof(llm_call_lazy_t));
    call.req = req;
    call.lazy = &lazy;
    call.body = body;
    call.body_len = strlen(body);

    assert_ptr_equal(llm_call_req(&call), req);
    assert_null(lazy.tree);

    call.lazy = NULL;
    call.body = NULL;
    assert_ptr_equal(llm_call_req(&call), req);

    cJSON_Delete(req);

    /* only scanned: parsed on first use, once */
    memset(&call, 0, sizeof(llm_call_t));
    call.lazy = &lazy;
    call.body = body;
    call.body_len = strlen(body);

    t = llm_call_req(&call);
    assert_non_null(t);
    assert_ptr_equal(lazy.tree, t);

    v = cJSON_GetObjectItemCaseSensitive(t, "model");
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, "m");

    t2 = llm_call_req(&call);
    assert_ptr_equal(t2, t);
    assert_ptr_equal(lazy.tree, t);

    /* body_len bounds the parse: the bytes after it are not read */
    cJSON_Delete(lazy.tree);
    lazy.tree = NULL;
    body = q("{'model':'short'}{'model':'long'}");
    call.body = body;
    call.body_len = 17;

    t = llm_call_req(&call);
    assert_non_null(t);
    assert_string_equal(
        cJSON_GetObjectItemCaseSensitive(t, "model")->valuestring, "short");
    cJSON_Delete(lazy.tree);
    lazy.tree = NULL;

    /* a body that is not JSON: NULL, every time */
    call.body = "{\"model\":";
    call.body_len = strlen(call.body);
    assert_null(llm_call_req(&call));
    assert_null(lazy.tree);
    assert_null(llm_call_req(&call));

    /* neither a tree nor a body to parse */
    call.body = NULL;
    call.body_len = 0;
    assert_null(llm_call_req(&call));
    assert_null(lazy.tree);

    call.body = body;
    call.body_len = strlen(body);
    call.lazy = NULL;
    assert_null(llm_call_req(&call));

    memset(&call, 0, sizeof(llm_call_t));
    assert_null(llm_call_req(&call));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_accepted_large),
        cmocka_unit_test(test_declined),
        cmocka_unit_test(test_declined_large),
        cmocka_unit_test(test_equivalence),
        cmocka_unit_test(test_call_req),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
