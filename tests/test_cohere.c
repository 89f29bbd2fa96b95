/*
 * Copyright (C) ngx_llm authors
 *
 * The Cohere v2 adapter against ../shared/providers/cohere.md: the
 * document's example pairs, the rest of the mapping tables, streams in
 * every split, embeddings and errors.
 */


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_adapter.h"
#include "test_util.h"


extern const llm_adapter_t  llm_cohere_adapter;


static llm_deployment_t  dep;
static cJSON            *req;
static llm_call_t        call;


static void
setup_call(const char *json, llm_endpoint_e endpoint)
{
    const cJSON  *v;

    memset(&dep, 0, sizeof(dep));
    dep.model_name = "command-a";
    dep.model = "cohere/command-a-03-2025";
    dep.prefix = "cohere";
    dep.model_id = "command-a-03-2025";
    dep.provider = LLM_PROVIDER_COHERE;
    dep.base.tls = 1;
    dep.base.host = "api.cohere.com";
    dep.base.port = 443;
    dep.base.path = "";
    dep.api_key = "sk-test";
    dep.drop_params = -1;
    dep.num_retries = -1;

    cJSON_Delete(req);
    req = cJSON_Parse(q(json));
    assert_non_null(req);

    memset(&call, 0, sizeof(call));
    call.endpoint = endpoint;
    call.dep = &dep;
    call.req = req;
    call.model_name = "command-a";
    snprintf(call.id, sizeof(call.id), "chatcmpl-c0a1");
    call.created = 1735689600;

    v = cJSON_GetObjectItemCaseSensitive(req, "stream");
    call.stream = cJSON_IsTrue(v);
}


static int
teardown(void **state)
{
    cJSON_Delete(req);
    req = NULL;
    return 0;
}


/* builds the request; asserts success and the body */
static void
build_ok(const char *expected_body, const char *expected_path)
{
    llm_error_t     err;
    llm_http_req_t  r;

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path.data, expected_path);
    assert_json_eq(r.body.data, r.body.len, q(expected_body));

    llm_http_req_free(&r);
}


static void
build_fails(int status, const char *param, const char *code)
{
    llm_error_t     err;
    llm_http_req_t  r;

    memset(&err, 0, sizeof(err));

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_ERROR);
    assert_int_equal(err.status, status);

    if (param) {
        assert_string_equal(err.param, param);
    }

    if (code) {
        assert_string_equal(err.code, code);
    }
}


/*
 * Requests.
 */

static void
test_request_doc_example(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call("{'model':'command-a','messages':[{'role':'system',"
        "'content':'Be brief.'},{'role':'user','content':"
        "'Sales on 2023-09-29?'}],'tools':[{'type':'function','function':"
        "{'name':'query_daily_sales_report','description':'Daily sales',"
        "'parameters':{'type':'object','properties':{'day':{'type':"
        "'string'}},'required':['day']}}}],'tool_choice':'required',"
        "'top_p':0.9,'stop':['###'],'max_tokens':200}", LLM_ENDPOINT_CHAT);

    build_ok("{'model':'command-a-03-2025','messages':[{'role':'system',"
        "'content':'Be brief.'},{'role':'user','content':"
        "'Sales on 2023-09-29?'}],'tools':[{'type':'function','function':"
        "{'name':'query_daily_sales_report','description':'Daily sales',"
        "'parameters':{'type':'object','properties':{'day':{'type':"
        "'string'}},'required':['day']}}}],'tool_choice':'REQUIRED',"
        "'p':0.9,'stop_sequences':['###'],'max_tokens':200}", "/v2/chat");

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(header(&r, "Authorization"), "Bearer sk-test");
    assert_string_equal(r.accept, "application/json");
    llm_http_req_free(&r);
}


static void
test_request_messages(void **state)
{
    setup_call("{'model':'command-a','messages':["
        "{'role':'developer','content':[{'type':'text','text':'Rules.'}]},"
        "{'role':'user','name':'ann','content':[{'type':'text','text':"
        "'What is this?'},{'type':'image_url','image_url':{'url':"
        "'https://x/y.png','detail':'low'}},{'type':'image_url',"
        "'image_url':'data:image/png;base64,AAAA'}]},"
        "{'role':'assistant','content':null,'tool_calls':[{'id':'c1',"
        "'type':'function','function':{'name':'look','arguments':"
        "'{}'}},{'function':{'name':'see','arguments':{'a':1}},"
        "'id':'c2'}]},"
        "{'role':'tool','tool_call_id':'c1','content':'a cat'},"
        "{'role':'tool','tool_call_id':'c2','content':[{'type':'text',"
        "'text':'a dog'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'A cat.'},"
        "{'type':'refusal','refusal':'no'}]},"
        "{'role':'user','content':'Thanks'}]}", LLM_ENDPOINT_CHAT);

    build_ok("{'model':'command-a-03-2025','messages':["
        "{'role':'system','content':[{'type':'text','text':'Rules.'}]},"
        "{'role':'user','content':[{'type':'text','text':'What is this?'},"
        "{'type':'image_url','image_url':{'url':'https://x/y.png',"
        "'detail':'low'}},{'type':'image_url','image_url':{'url':"
        "'data:image/png;base64,AAAA'}}]},"
        "{'role':'assistant','tool_calls':[{'id':'c1','type':'function',"
        "'function':{'name':'look','arguments':'{}'}},{'id':'c2',"
        "'type':'function','function':{'name':'see','arguments':"
        "'{\\'a\\':1}'}}]},"
        "{'role':'tool','tool_call_id':'c1','content':'a cat'},"
        "{'role':'tool','tool_call_id':'c2','content':[{'type':'text',"
        "'text':'a dog'}]},"
        "{'role':'assistant','content':[{'type':'text','text':'A cat.'}]},"
        "{'role':'user','content':'Thanks'}]}", "/v2/chat");
}


static void
test_request_params(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call("{'model':'command-a','messages':[{'role':'user','content':"
        "'hi'}],'temperature':1.5,'top_p':1,'top_k':900,'max_tokens':10,"
        "'max_completion_tokens':20,'stop':'END','seed':7,"
        "'frequency_penalty':-1,'presence_penalty':0.5,'logprobs':true,"
        "'response_format':{'type':'json_schema','json_schema':{'name':"
        "'x','schema':{'type':'object'}}},'stream':true,"
        "'stream_options':{'include_usage':true},'user':'u1','n':1,"
        "'parallel_tool_calls':false,'reasoning_effort':'high',"
        "'safety_mode':'OFF'}", LLM_ENDPOINT_CHAT);

    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'hi'}],'temperature':1,'p':0.99,'k':500,"
        "'max_tokens':20,'stop_sequences':['END'],'seed':7,"
        "'frequency_penalty':0,'presence_penalty':0.5,'logprobs':true,"
        "'response_format':{'type':'json_object','json_schema':{'type':"
        "'object'}},'stream':true,'thinking':{'type':'enabled',"
        "'token_budget':4096},'safety_mode':'OFF'}", "/v2/chat");

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_string_equal(r.accept, "text/event-stream");
    llm_http_req_free(&r);

    /* json_object as is, text dropped, stream false omitted */
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'response_format':{'type':'json_object'},'stream':false,"
        "'reasoning_effort':'none','temperature':0.2}", LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}],'response_format':{'type':'json_object'},"
        "'thinking':{'type':'disabled'},'temperature':0.2}", "/v2/chat");

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'response_format':{'type':'text'},'stop':null,'seed':null,"
        "'max_tokens':null,'temperature':null,'prompt_cache_key':'k',"
        "'logit_bias':null,'n':null}",
        LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}]}", "/v2/chat");

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'response_format':{'type':'yaml'}}", LLM_ENDPOINT_CHAT);
    build_fails(400, "response_format", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'reasoning_effort':'extreme'}", LLM_ENDPOINT_CHAT);
    build_fails(400, "reasoning_effort", NULL);
}


static void
test_request_deployment_defaults(void **state)
{
    cJSON  *defaults;

    setup_call("{'model':'command-a','messages':[{'role':'user',"
        "'content':'x'}],'temperature':0.1}", LLM_ENDPOINT_CHAT);

    defaults = cJSON_Parse(q("{'temperature':0.9,'max_tokens':64}"));
    dep.defaults = defaults;
    dep.base.path = "/proxy";

    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}],'temperature':0.1,'max_tokens':64}",
        "/proxy/v2/chat");

    cJSON_Delete(defaults);
    dep.defaults = NULL;
}


static void
test_request_tool_choice(void **state)
{
    static const char  *tools =
        "'tools':[{'type':'function','function':{'name':'a',"
        "'parameters':{'type':'object'},'strict':true}},"
        "{'type':'function','function':{'name':'b'}}]";

    char  buf[1024];

    snprintf(buf, sizeof(buf), "{'model':'m','messages':[{'role':'user',"
             "'content':'x'}],%s,'tool_choice':'none'}", tools);
    setup_call(buf, LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}],'tools':[{'type':'function','function':{'name':"
        "'a','parameters':{'type':'object'}}},{'type':'function',"
        "'function':{'name':'b','parameters':{'type':'object',"
        "'properties':{}}}}],'tool_choice':'NONE'}", "/v2/chat");

    snprintf(buf, sizeof(buf), "{'model':'m','messages':[{'role':'user',"
             "'content':'x'}],%s,'tool_choice':'auto'}", tools);
    setup_call(buf, LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}],'tools':[{'type':'function','function':{'name':"
        "'a','parameters':{'type':'object'}}},{'type':'function',"
        "'function':{'name':'b','parameters':{'type':'object',"
        "'properties':{}}}}]}", "/v2/chat");

    /* one named tool: only that tool, REQUIRED */
    snprintf(buf, sizeof(buf), "{'model':'m','messages':[{'role':'user',"
             "'content':'x'}],%s,'tool_choice':{'type':'function',"
             "'function':{'name':'b'}}}", tools);
    setup_call(buf, LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}],'tools':[{'type':'function','function':{'name':"
        "'b','parameters':{'type':'object','properties':{}}}}],"
        "'tool_choice':'REQUIRED'}", "/v2/chat");

    snprintf(buf, sizeof(buf), "{'model':'m','messages':[{'role':'user',"
             "'content':'x'}],%s,'tool_choice':{'type':'function',"
             "'function':{'name':'zz'}}}", tools);
    setup_call(buf, LLM_ENDPOINT_CHAT);
    build_fails(400, "tool_choice", NULL);

    snprintf(buf, sizeof(buf), "{'model':'m','messages':[{'role':'user',"
             "'content':'x'}],%s,'tool_choice':'sometimes'}", tools);
    setup_call(buf, LLM_ENDPOINT_CHAT);
    build_fails(400, "tool_choice", NULL);

    /* no tools: a tool_choice means nothing */
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'tools':[],'tool_choice':'required'}", LLM_ENDPOINT_CHAT);
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}]}", "/v2/chat");

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'tools':[{'type':'retrieval'}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "tools", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'tools':[{'type':'function','function':{}}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "tools", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'tools':{}}", LLM_ENDPOINT_CHAT);
    build_fails(400, "tools", NULL);
}


static void
test_request_drop_params(void **state)
{
    static const char  *body =
        "{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'logit_bias':{'1':2},'top_logprobs':2,'n':2}";

    setup_call(body, LLM_ENDPOINT_CHAT);
    build_fails(400, "n", "unsupported_parameter");

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}],"
        "'logit_bias':{'1':2}}", LLM_ENDPOINT_CHAT);
    build_fails(400, "logit_bias", "unsupported_parameter");

    setup_call(body, LLM_ENDPOINT_CHAT);
    call.drop_params = 1;
    build_ok("{'model':'command-a-03-2025','messages':[{'role':'user',"
        "'content':'x'}]}", "/v2/chat");
}


static void
test_request_errors(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}",
               LLM_ENDPOINT_CHAT);
    dep.missing_env = "COHERE_API_KEY";
    build_fails(401, NULL, "invalid_api_key");
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_ERROR);
    assert_non_null(strstr(err.message, "COHERE_API_KEY"));
    assert_string_equal(err.type, "authentication_error");

    setup_call("{'model':'m','messages':[{'role':'wizard','content':'x'}]}",
               LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'function','name':'f',"
               "'content':'x'}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'system','content':"
        "[{'type':'image_url','image_url':{'url':'x'}}]}]}",
        LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':"
        "[{'type':'input_audio','input_audio':{}}]}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':"
        "[{'type':'image_url','image_url':{}}]}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':"
        "[{'text':'no type'}]}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'user','content':7}]}",
               LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'tool','content':'x'}]}",
               LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[{'role':'assistant','tool_calls':"
        "[{'id':'x','function':{}}]}]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m'}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);

    setup_call("{'model':'m','messages':[7]}", LLM_ENDPOINT_CHAT);
    build_fails(400, "messages", NULL);
}


static void
test_request_missing_fields(void **state)
{
    llm_error_t     err;
    llm_http_req_t  r;

    /* absent contents, a tool call without id: filled, not crashed */
    setup_call("{'model':'m','messages':[{'role':'user'},"
        "{'role':'assistant','tool_calls':[{'function':{'name':'f'}}]},"
        "{'role':'tool','tool_call_id':'t'},{'role':'assistant'}]}",
        LLM_ENDPOINT_CHAT);

    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_non_null(strstr(r.body.data, "\"id\":\"call_"));
    assert_non_null(strstr(r.body.data, "\"arguments\":\"{}\""));
    llm_http_req_free(&r);

    /* no key configured: no Authorization, Cohere answers the 401 */
    setup_call("{'model':'m','messages':[{'role':'user','content':'x'}]}",
               LLM_ENDPOINT_CHAT);
    dep.api_key = NULL;
    assert_int_equal(llm_request_build(&call, &r, &err), LLM_OK);
    assert_null(header(&r, "Authorization"));
    llm_http_req_free(&r);
}


/*
 * Responses.
 */

static int
respond(const char *body, llm_buf_t *out, llm_usage_t *u, llm_error_t *err)
{
    memset(out, 0, sizeof(llm_buf_t));

    return llm_cohere_adapter.parse_response(&call, body, strlen(body), out,
                                             u, err);
}


static void
respond_ok(const char *body, const char *expected, llm_usage_t *u)
{
    llm_buf_t    out;
    llm_error_t  err;

    assert_int_equal(respond(q(body), &out, u, &err), LLM_OK);
    assert_json_eq(out.data, out.len, q(expected));
    llm_buf_free(&out);
}


static void
respond_fails(const char *body, int status, const char *type)
{
    llm_buf_t    out;
    llm_usage_t  u;
    llm_error_t  err;

    memset(&err, 0, sizeof(err));

    assert_int_equal(respond(body, &out, &u, &err), LLM_ERROR);
    assert_int_equal(err.status, status);
    assert_string_equal(err.type, type);
    assert_int_equal(out.len, 0);
    llm_buf_free(&out);
}


static void
test_response_doc_example(void **state)
{
    llm_usage_t  u;

    setup_call("{'model':'command-a','messages':[]}", LLM_ENDPOINT_CHAT);

    respond_ok("{'id':'c0a1','finish_reason':'TOOL_CALL','message':{'role':"
        "'assistant','tool_plan':'I will look up the report.','tool_calls':"
        "[{'id':'query_daily_sales_report_x1','type':'function','function':"
        "{'name':'query_daily_sales_report','arguments':"
        "'{\\'day\\': \\'2023-09-29\\'}'}}]},'usage':{'billed_units':"
        "{'input_tokens':37,'output_tokens':21},'tokens':{'input_tokens':"
        "980,'output_tokens':48}}}",

        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'tool_calls','message':{'role':'assistant',"
        "'content':null,'refusal':null,'tool_calls':[{'id':"
        "'query_daily_sales_report_x1','type':'function','function':"
        "{'name':'query_daily_sales_report','arguments':"
        "'{\\'day\\': \\'2023-09-29\\'}'}}]}}],'usage':{'prompt_tokens':"
        "980,'completion_tokens':48,'total_tokens':1028}}", &u);

    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, 980);
    assert_int_equal(u.completion_tokens, 48);
    assert_int_equal(u.total_tokens, 1028);
    assert_int_equal(u.cached_tokens, 0);
}


static void
test_response_text(void **state)
{
    llm_usage_t  u;

    setup_call("{'model':'command-a','messages':[]}", LLM_ENDPOINT_CHAT);

    respond_ok("{'id':'x','finish_reason':'COMPLETE','message':{'role':"
        "'assistant','content':[{'type':'thinking','thinking':'Hmm.'},"
        "{'type':'text','text':'Hello'},{'type':'text','text':' world'},"
        "{'type':'image','x':1},{'text':'untyped'}],'citations':[{'start':"
        "0}]},'usage':{'tokens':{'input_tokens':12.0,'output_tokens':3.0},"
        "'cached_tokens':8.0},'logprobs':[{'token_ids':[1]}],'extra':1}",

        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'stop','message':{'role':'assistant',"
        "'content':'Hello world','refusal':null,'reasoning_content':"
        "'Hmm.'}}],'usage':{'prompt_tokens':12,'completion_tokens':3,"
        "'total_tokens':15,'prompt_tokens_details':{'cached_tokens':8}}}",
        &u);

    assert_int_equal(u.cached_tokens, 8);

    /* billed_units only when tokens is missing */
    respond_ok("{'finish_reason':'MAX_TOKENS','message':{'content':[{"
        "'type':'text','text':'Hel'}]},'usage':{'billed_units':"
        "{'input_tokens':5,'output_tokens':1}}}",

        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'length','message':{'role':'assistant',"
        "'content':'Hel','refusal':null}}],'usage':{'prompt_tokens':5,"
        "'completion_tokens':1,'total_tokens':6}}", &u);

    /* STOP_SEQUENCE and unknown values are stop */
    respond_ok("{'finish_reason':'STOP_SEQUENCE','message':{'content':"
        "[]}}",
        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'stop','message':{'role':'assistant',"
        "'content':'','refusal':null}}],'usage':{'prompt_tokens':0,"
        "'completion_tokens':0,'total_tokens':0}}", &u);
    assert_false(u.present);

    respond_ok("{'finish_reason':'NEW_REASON','message':{}}",
        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'stop','message':{'role':'assistant',"
        "'content':'','refusal':null}}],'usage':{'prompt_tokens':0,"
        "'completion_tokens':0,'total_tokens':0}}", &u);
}


static void
test_response_tool_calls(void **state)
{
    char         *json;
    const char   *id;
    cJSON        *o, *tc;
    llm_buf_t     out;
    llm_usage_t   u;
    llm_error_t   err;

    setup_call("{'model':'command-a','messages':[]}", LLM_ENDPOINT_CHAT);

    /* missing id, type and arguments as an object; text kept */
    assert_int_equal(respond(q("{'finish_reason':'COMPLETE','message':{"
        "'content':[{'type':'text','text':'Calling.'}],'tool_plan':'plan',"
        "'tool_calls':[{'function':{'name':'f','arguments':{'a':[1]}}},"
        "{'id':'','function':{}},7]}}"), &out, &u, &err), LLM_OK);

    o = cJSON_ParseWithLength(out.data, out.len);
    assert_non_null(o);

    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(
        cJSON_GetObjectItem(o, "choices"), 0), "finish_reason")->valuestring,
        "tool_calls");

    tc = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
             cJSON_GetObjectItem(o, "choices"), 0), "message"), "tool_calls");
    assert_int_equal(cJSON_GetArraySize(tc), 2);

    id = cJSON_GetObjectItem(cJSON_GetArrayItem(tc, 0), "id")->valuestring;
    assert_int_equal(strncmp(id, "call_", 5), 0);
    assert_int_equal(strlen(id), 29);

    /* minted ids are random: pin them, then compare the rest */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(tc, 0), "id",
                              cJSON_CreateString("ID0"));
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(tc, 1), "id",
                              cJSON_CreateString("ID1"));
    json = cJSON_PrintUnformatted(o);

    assert_json_eq(json, strlen(json), q("{'id':'chatcmpl-c0a1','object':"
        "'chat.completion','created':1735689600,'model':'command-a',"
        "'choices':[{'index':0,'logprobs':null,'finish_reason':"
        "'tool_calls','message':{'role':'assistant','content':'Calling.',"
        "'refusal':null,'tool_calls':[{'id':'ID0','type':'function',"
        "'function':{'name':'f','arguments':'{\\'a\\':[1]}'}},{'id':'ID1',"
        "'type':'function','function':{'name':'','arguments':'{}'}}]}}],"
        "'usage':{'prompt_tokens':0,'completion_tokens':0,'total_tokens':"
        "0}}"));

    free(json);
    cJSON_Delete(o);
    llm_buf_free(&out);
}


static void
test_response_failures(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;
    llm_error_t  err;

    setup_call("{'model':'command-a','messages':[]}", LLM_ENDPOINT_CHAT);

    respond_fails(q("{'finish_reason':'ERROR','message':{'content':[]},"
        "'usage':{'tokens':{'input_tokens':4,'output_tokens':0}}}"),
        502, "server_error");

    respond_fails(q("{'finish_reason':'TIMEOUT','message':{}}"), 504,
                  "server_error");

    respond_fails("not json", 502, "server_error");
    respond_fails("", 502, "server_error");
    respond_fails("[]", 502, "server_error");
    respond_fails(q("{'id':'x'}"), 502, "server_error");
    respond_fails(q("{'message':[]}"), 502, "server_error");

    /* an error body under a 2xx keeps its text */
    assert_int_equal(respond(q("{'id':'x','message':'internal error'}"),
                             &out, &u, &err), LLM_ERROR);
    assert_int_equal(err.status, 502);
    assert_string_equal(err.message, "cohere: internal error");
    llm_buf_free(&out);

    /* usage of a failed generation is still reported */
    assert_int_equal(respond(q("{'finish_reason':'ERROR','message':{},"
        "'usage':{'tokens':{'input_tokens':4,'output_tokens':1}}}"),
        &out, &u, &err), LLM_ERROR);
    assert_int_equal(u.prompt_tokens, 4);
    llm_buf_free(&out);
}


static void
test_response_wrong_types(void **state)
{
    llm_usage_t  u;

    setup_call("{'model':'command-a','messages':[]}", LLM_ENDPOINT_CHAT);

    respond_ok("{'finish_reason':7,'message':{'content':'plain','tool_calls':"
        "{'x':1}},'usage':{'tokens':{'input_tokens':'9','output_tokens':"
        "-3},'cached_tokens':null}}",
        "{'id':'chatcmpl-c0a1','object':'chat.completion','created':"
        "1735689600,'model':'command-a','choices':[{'index':0,'logprobs':"
        "null,'finish_reason':'stop','message':{'role':'assistant',"
        "'content':'plain','refusal':null}}],'usage':{'prompt_tokens':0,"
        "'completion_tokens':0,'total_tokens':0}}", &u);
}


/*
 * Streams.
 */

enum { WHOLE, BYTES, RANDOM };


/* feeds in, in the given split, then EOF; returns the output (free) */
static char *
run_stream(const char *in, int mode, unsigned seed)
{
    char          *res;
    size_t         len, off, n;
    llm_buf_t      all;
    llm_stream_t  *s;

    s = llm_stream_new(&call);
    assert_non_null(s);

    memset(&all, 0, sizeof(all));
    len = strlen(in);
    off = 0;
    srand(seed);

    while (off < len) {
        n = (mode == WHOLE) ? len - off
            : (mode == BYTES) ? 1
            : 1 + (size_t) rand() % 40;

        if (n > len - off) {
            n = len - off;
        }

        assert_int_equal(s->adapter->stream_feed(s, in + off, n), LLM_OK);
        off += n;

        llm_buf_append(&all, s->out.data ? s->out.data : "", s->out.len);
        llm_buf_reset(&s->out);
    }

    assert_int_equal(s->adapter->stream_eof(s), LLM_OK);
    llm_buf_append(&all, s->out.data ? s->out.data : "", s->out.len);

    llm_stream_free(s);

    res = strdup(all.data ? all.data : "");
    llm_buf_free(&all);

    return res;
}


/* every split gives the expected bytes */
static void
stream_is(const char *in, const char *expected)
{
    int       mode;
    char     *out;
    unsigned  seed;

    for (mode = WHOLE; mode <= RANDOM; mode++) {
        for (seed = 1; seed <= (mode == RANDOM ? 20u : 1u); seed++) {
            out = run_stream(in, mode, seed);

            if (strcmp(out, expected) != 0) {
                print_error("mode %d seed %u\nactual:\n%s\nexpected:\n%s\n",
                            mode, seed, out, expected);
            }

            assert_string_equal(out, expected);
            free(out);
        }
    }
}


#define DOC_STREAM                                                          \
    "event: message-start\n"                                                \
    "data: {'id':'c0a2','type':'message-start','delta':{'message':"        \
    "{'role':'assistant','content':[],'tool_plan':'','tool_calls':[],"     \
    "'citations':[]}}}\n\n"                                                 \
    "event: content-start\n"                                                \
    "data: {'type':'content-start','index':0,'delta':{'message':"          \
    "{'content':{'type':'text','text':''}}}}\n\n"                           \
    "event: content-delta\n"                                                \
    "data: {'type':'content-delta','index':0,'delta':{'message':"          \
    "{'content':{'text':'LLMs'}}}}\n\n"                                     \
    "event: content-delta\n"                                                \
    "data: {'type':'content-delta','index':0,'delta':{'message':"          \
    "{'content':{'text':' predict text.'}}}}\n\n"                           \
    "event: content-end\n"                                                  \
    "data: {'type':'content-end','index':0}\n\n"                            \
    "event: message-end\n"                                                  \
    "data: {'type':'message-end','delta':{'finish_reason':'COMPLETE',"     \
    "'usage':{'billed_units':{'input_tokens':5.0,'output_tokens':4.0},"    \
    "'tokens':{'input_tokens':498.0,'output_tokens':6.0}}}}\n\n"

#define CHUNK(delta, finish, usage)                                         \
    "data: {'id':'chatcmpl-c0a2','object':'chat.completion.chunk',"        \
    "'created':1735689600,'model':'command-a','choices':[{'index':0,"      \
    "'delta':" delta ",'logprobs':null,'finish_reason':" finish "}]"       \
    usage "}\n\n"

#define ROLE_CHUNK(usage)                                                   \
    CHUNK("{'role':'assistant','content':''}", "null", usage)


static void
setup_stream(int include_usage)
{
    setup_call("{'model':'command-a','messages':[{'role':'user',"
               "'content':'x'}],'stream':true}", LLM_ENDPOINT_CHAT);
    snprintf(call.id, sizeof(call.id), "chatcmpl-c0a2");
    call.include_usage = include_usage;
}


static void
test_stream_doc_example(void **state)
{
    char  expected[4096];
    llm_usage_t  u;
    char  *out;
    llm_stream_t *s;

    setup_stream(1);

    snprintf(expected, sizeof(expected), "%s", q(
        ROLE_CHUNK(",'usage':null")
        CHUNK("{'content':'LLMs'}", "null", ",'usage':null")
        CHUNK("{'content':' predict text.'}", "null", ",'usage':null")
        CHUNK("{}", "'stop'", ",'usage':null")
        "data: {'id':'chatcmpl-c0a2','object':'chat.completion.chunk',"
        "'created':1735689600,'model':'command-a','choices':[],'usage':"
        "{'prompt_tokens':498,'completion_tokens':6,'total_tokens':504}}"
        "\n\n"
        "data: [DONE]\n\n"));

    stream_is(q(DOC_STREAM), expected);

    /* usage and finish are recorded on the stream */
    s = llm_stream_new(&call);
    out = q(DOC_STREAM);
    assert_int_equal(s->adapter->stream_feed(s, out, strlen(out)), LLM_OK);
    u = s->usage;
    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, 498);
    assert_int_equal(u.completion_tokens, 6);
    assert_string_equal(s->finish_reason, "stop");
    assert_true(s->done);
    assert_false(s->failed);
    llm_stream_free(s);

    /* without include_usage: no usage fields, no usage chunk */
    setup_stream(0);

    snprintf(expected, sizeof(expected), "%s", q(
        ROLE_CHUNK("")
        CHUNK("{'content':'LLMs'}", "null", "")
        CHUNK("{'content':' predict text.'}", "null", "")
        CHUNK("{}", "'stop'", "")
        "data: [DONE]\n\n"));

    stream_is(q(DOC_STREAM), expected);
}


static void
test_stream_tool_calls(void **state)
{
    char  expected[8192];

    setup_stream(0);

    snprintf(expected, sizeof(expected), "%s", q(
        ROLE_CHUNK("")
        CHUNK("{'tool_calls':[{'index':0,'id':'get_weather_1','type':"
              "'function','function':{'name':'get_weather','arguments':"
              "''}}]}", "null", "")
        CHUNK("{'tool_calls':[{'index':0,'function':{'arguments':"
              "'{\\'city'}}]}", "null", "")
        CHUNK("{'tool_calls':[{'index':0,'function':{'arguments':"
              "'\\': \\'Paris\\'}'}}]}", "null", "")
        CHUNK("{'tool_calls':[{'index':1,'id':'get_time_2','type':"
              "'function','function':{'name':'get_time','arguments':"
              "''}}]}", "null", "")
        CHUNK("{'tool_calls':[{'index':1,'function':{'arguments':"
              "'{}'}}]}", "null", "")
        CHUNK("{}", "'tool_calls'", "")
        "data: [DONE]\n\n"));

    stream_is(q(
        "event: message-start\n"
        "data: {'id':'t1','type':'message-start','delta':{'message':"
        "{'role':'assistant'}}}\n\n"
        "event: tool-plan-delta\n"
        "data: {'type':'tool-plan-delta','delta':{'message':{'tool_plan':"
        "'I will check.'}}}\n\n"
        "event: tool-call-start\n"
        "data: {'type':'tool-call-start','index':0,'delta':{'message':"
        "{'tool_calls':{'id':'get_weather_1','type':'function','function':"
        "{'name':'get_weather','arguments':''}}}}}\n\n"
        "event: tool-call-delta\n"
        "data: {'type':'tool-call-delta','index':0,'delta':{'message':"
        "{'tool_calls':{'function':{'arguments':'{\\'city'}}}}}\n\n"
        "event: tool-call-delta\n"
        "data: {'type':'tool-call-delta','index':0,'delta':{'message':"
        "{'tool_calls':{'function':{'arguments':'\\': \\'Paris\\'}'}}}}}"
        "\n\n"
        "event: tool-call-end\n"
        "data: {'type':'tool-call-end','index':0}\n\n"
        "event: tool-call-start\n"
        "data: {'type':'tool-call-start','index':1,'delta':{'message':"
        "{'tool_calls':{'id':'get_time_2','type':'function','function':"
        "{'name':'get_time','arguments':'{}'}}}}}\n\n"
        "event: tool-call-end\n"
        "data: {'type':'tool-call-end','index':1}\n\n"
        "event: message-end\n"
        "data: {'type':'message-end','delta':{'finish_reason':'TOOL_CALL',"
        "'usage':{'tokens':{'input_tokens':10,'output_tokens':20}}}}\n\n"),
        expected);
}


#define ERROR_CHUNK(msg, type, param, code)                                 \
    "data: {'error':{'message':'" msg "','type':'" type "','param':"      \
    param ",'code':" code "}}\n\ndata: [DONE]\n\n"


static void
test_stream_thinking_and_unknown(void **state)
{
    setup_stream(0);

    /* CRLF, a comment, data-only events, unknown and ignored events */
    stream_is(q(
        ": keep-alive\r\n\r\n"
        "data: {'id':'t2','type':'message-start','delta':{}}\r\n\r\n"
        "event: content-start\r\n"
        "data: {'type':'content-start','index':0,'delta':{'message':"
        "{'content':{'type':'thinking','thinking':''}}}}\r\n\r\n"
        "event: content-delta\r\n"
        "data: {'type':'content-delta','index':0,'delta':{'message':"
        "{'content':{'thinking':'Let me see.'}}}}\r\n\r\n"
        "event: citation-start\r\n"
        "data: {'type':'citation-start','index':0,'delta':{'message':"
        "{'citations':{'start':0,'end':2,'text':'Hi'}}}}\r\n\r\n"
        "event: debug\r\n"
        "data: {'type':'debug','prompt':'secret'}\r\n\r\n"
        "event: something-new\r\n"
        "data: {'type':'something-new','delta':{'message':{'content':"
        "{'text':'NOT SHOWN'}}}}\r\n\r\n"
        "event: content-delta\r\n"
        "data: not json at all\r\n\r\n"
        "data: {'type':'content-delta','index':1,'delta':{'message':"
        "{'content':{'text':'Hi'}}}}\r\n\r\n"
        "event: content-delta\r\n"
        "data: {'type':'content-delta','delta':{'message':7}}\r\n\r\n"
        "event: tool-call-delta\r\n"
        "data: {'type':'tool-call-delta','delta':{'message':{'tool_calls':"
        "{'function':{'arguments':'orphan'}}}}}\r\n\r\n"
        "event: citation-end\r\n"
        "data: {'type':'citation-end','index':0}\r\n\r\n"
        "event: message-end\r\n"
        "data: {'type':'message-end','delta':{'finish_reason':'COMPLETE'}}"
        "\r\n\r\n"),
        q(ROLE_CHUNK("")
          CHUNK("{'reasoning_content':'Let me see.'}", "null", "")
          CHUNK("{'content':'Hi'}", "null", "")
          CHUNK("{}", "'stop'", "")
          "data: [DONE]\n\n"));
}


static void
test_stream_minted_tool_id(void **state)
{
    char          *out, *in;
    llm_stream_t  *s;

    setup_stream(0);

    s = llm_stream_new(&call);
    in = q("event: tool-call-start\n"
           "data: {'type':'tool-call-start','index':0,'delta':{'message':"
           "{'tool_calls':[{'function':{'name':'f','arguments':'{}'}}]}}}"
           "\n\n"
           "event: message-end\n"
           "data: {'type':'message-end','delta':{'finish_reason':"
           "'COMPLETE'}}\n\n");

    assert_int_equal(s->adapter->stream_feed(s, in, strlen(in)), LLM_OK);
    out = s->out.data;

    /* a minted id, and COMPLETE with tool calls is tool_calls */
    assert_non_null(strstr(out, "\"id\":\"call_"));
    assert_non_null(strstr(out, "\"arguments\":\"{}\""));
    assert_non_null(strstr(out, "\"finish_reason\":\"tool_calls\""));
    assert_int_equal(s->ntools, 1);

    llm_stream_free(s);
}


static void
test_stream_errors(void **state)
{
    setup_stream(0);

    /* message-end reporting a failed generation */
    stream_is(q(
        "event: message-start\n"
        "data: {'type':'message-start'}\n\n"
        "event: content-delta\n"
        "data: {'type':'content-delta','delta':{'message':{'content':"
        "{'text':'Par'}}}}\n\n"
        "event: message-end\n"
        "data: {'type':'message-end','delta':{'finish_reason':'ERROR',"
        "'error':'model overloaded'}}\n\n"
        "event: content-delta\n"
        "data: {'type':'content-delta','delta':{'message':{'content':"
        "{'text':'AFTER'}}}}\n\n"),
        q(ROLE_CHUNK("")
          CHUNK("{'content':'Par'}", "null", "")
          ERROR_CHUNK("cohere: model overloaded", "server_error", "null",
                      "null")));

    stream_is(q(
        "event: message-end\n"
        "data: {'type':'message-end','delta':{'finish_reason':'TIMEOUT'}}"
        "\n\n"),
        q(ERROR_CHUNK("cohere: generation timed out (finish_reason "
                      "TIMEOUT)", "server_error", "null", "'timeout'")));

    stream_is(q(
        "event: message-end\n"
        "data: {'type':'message-end','delta':{'finish_reason':'ERROR'}}"
        "\n\n"),
        q(ERROR_CHUNK("cohere: generation failed (finish_reason ERROR)",
                      "server_error", "null", "null")));

    /* the connection closed before message-end */
    stream_is(q(
        "event: message-start\n"
        "data: {'type':'message-start'}\n\n"
        "event: content-delta\n"
        "data: {'type':'content-delta','delta':{'message':{'content':"
        "{'text':'Par'}}}}\n\n"
        "event: message-en"),
        q(ROLE_CHUNK("")
          CHUNK("{'content':'Par'}", "null", "")
          ERROR_CHUNK("cohere: upstream closed the stream before it ended",
                      "server_error", "null", "null")));

    stream_is("",
        q(ERROR_CHUNK("cohere: upstream closed the stream before it ended",
                      "server_error", "null", "null")));

    /* an error event, with and without JSON */
    stream_is(q(
        "event: error\n"
        "data: {'message':'too many tokens: 9000 > 4096','status':400}\n\n"),
        q(ERROR_CHUNK("cohere: too many tokens: 9000 > 4096",
                      "invalid_request_error", "'messages'",
                      "'context_length_exceeded'")));

    stream_is("event: error\ndata: Internal failure\n\n",
        q(ERROR_CHUNK("cohere: Internal failure", "server_error", "null",
                      "null")));

    stream_is(q("data: {'type':'error','error':{'message':'bad'}}\n\n"),
        q(ERROR_CHUNK("cohere: bad", "server_error", "null", "null")));
}


static void
test_stream_end_without_blank_line(void **state)
{
    setup_stream(1);

    stream_is(q(
        "event: message-end\n"
        "data: {'type':'message-end','delta':{'finish_reason':"
        "'MAX_TOKENS','usage':{'tokens':{'input_tokens':3,"
        "'output_tokens':2},'cached_tokens':1}}}"),
        q(ROLE_CHUNK(",'usage':null")
          CHUNK("{}", "'length'", ",'usage':null")
          "data: {'id':'chatcmpl-c0a2','object':'chat.completion.chunk',"
          "'created':1735689600,'model':'command-a','choices':[],'usage':"
          "{'prompt_tokens':3,'completion_tokens':2,'total_tokens':5,"
          "'prompt_tokens_details':{'cached_tokens':1}}}\n\n"
          "data: [DONE]\n\n"));
}


/*
 * Embeddings.
 */

static void
setup_embed(const char *json)
{
    setup_call(json, LLM_ENDPOINT_EMBEDDINGS);
    dep.model_id = "embed-v4.0";
    call.model_name = "cohere-embed";
}


static void
test_embed_request(void **state)
{
    setup_embed("{'model':'cohere-embed','input':'hello','dimensions':512,"
                "'user':'u'}");
    build_ok("{'model':'embed-v4.0','input_type':'search_document',"
        "'texts':['hello'],'embedding_types':['float'],"
        "'output_dimension':512}", "/v2/embed");

    setup_embed("{'model':'cohere-embed','input':['a','b'],"
                "'encoding_format':'base64','input_type':'search_query',"
                "'truncate':'END'}");
    build_ok("{'model':'embed-v4.0','input_type':'search_query',"
        "'texts':['a','b'],'embedding_types':['float'],'truncate':'END'}",
        "/v2/embed");

    setup_embed("{'model':'e','input':'x','encoding_format':'int8'}");
    build_fails(400, "encoding_format", NULL);

    setup_embed("{'model':'e','input':[[1,2,3]]}");
    build_fails(400, "input", NULL);

    setup_embed("{'model':'e','input':[]}");
    build_fails(400, "input", NULL);

    setup_embed("{'model':'e'}");
    build_fails(400, "input", NULL);
}


static void
test_embed_response(void **state)
{
    llm_buf_t    out;
    llm_usage_t  u;
    llm_error_t  err;

    setup_embed("{'model':'cohere-embed','input':['a','b']}");

    respond_ok("{'id':'e1','embeddings':{'float':[[0.5,-1],[2,3]]},"
        "'texts':['a','b'],'meta':{'api_version':{'version':'2'},"
        "'billed_units':{'input_tokens':4}},'response_type':'embeddings'}",
        "{'object':'list','data':[{'object':'embedding','index':0,"
        "'embedding':[0.5,-1]},{'object':'embedding','index':1,"
        "'embedding':[2,3]}],'model':'cohere-embed','usage':"
        "{'prompt_tokens':4,'total_tokens':4}}", &u);

    assert_true(u.present);
    assert_int_equal(u.prompt_tokens, 4);
    assert_int_equal(u.completion_tokens, 0);

    /* v1-style bare arrays, no meta */
    respond_ok("{'embeddings':[[1]]}",
        "{'object':'list','data':[{'object':'embedding','index':0,"
        "'embedding':[1]}],'model':'cohere-embed','usage':"
        "{'prompt_tokens':0,'total_tokens':0}}", &u);
    assert_false(u.present);

    setup_embed("{'model':'cohere-embed','input':'a',"
                "'encoding_format':'base64'}");

    /* float32 little-endian: 1.0 = 00 00 80 3f, -2.0 = 00 00 00 c0 */
    respond_ok("{'embeddings':{'float':[[1.0,-2.0]]},'meta':{"
        "'billed_units':{'input_tokens':1.0}}}",
        "{'object':'list','data':[{'object':'embedding','index':0,"
        "'embedding':'AACAPwAAAMA='}],'model':'cohere-embed','usage':"
        "{'prompt_tokens':1,'total_tokens':1}}", &u);

    respond_ok("{'embeddings':{'float':[[]]}}",
        "{'object':'list','data':[{'object':'embedding','index':0,"
        "'embedding':''}],'model':'cohere-embed','usage':"
        "{'prompt_tokens':0,'total_tokens':0}}", &u);

    respond_fails(q("{'embeddings':{'int8':[[1]]}}"), 502, "server_error");
    respond_fails(q("{'embeddings':{'float':[1,2]}}"), 502, "server_error");
    respond_fails(q("{'id':'x'}"), 502, "server_error");

    assert_int_equal(respond("{", &out, &u, &err), LLM_ERROR);
    llm_buf_free(&out);
}


/*
 * Errors.
 */

typedef struct {
    int          status;
    const char  *body;
    int          client_status;
    const char  *type;
    const char  *code;
    const char  *message;
} error_case_t;


static void
test_errors(void **state)
{
    size_t              i;
    llm_error_t         e;
    const error_case_t  *c;

    static const error_case_t  cases[] = {
        { 400, "{'id':'1','message':'too many tokens: size limit exceeded "
               "by 1000 tokens'}", 400, "invalid_request_error",
          "context_length_exceeded",
          "cohere: too many tokens: size limit exceeded by 1000 tokens" },
        { 400, "{'message':'invalid request: message must not be empty'}",
          400, "invalid_request_error", "", NULL },
        { 401, "{'message':'invalid api token'}", 401,
          "authentication_error", "invalid_api_key",
          "cohere: invalid api token" },
        { 402, "{'message':'Please add a payment method'}", 429,
          "insufficient_quota", "insufficient_quota", NULL },
        { 403, "{'message':'forbidden'}", 403, "permission_error", "", NULL },
        { 404, "{'message':'model x not found'}", 404,
          "invalid_request_error", "model_not_found", NULL },
        { 422, "{'message':'unprocessable'}", 400, "invalid_request_error",
          "", NULL },
        { 429, "{'message':'You are using a Trial key'}", 429,
          "rate_limit_error", "rate_limit_exceeded", NULL },
        { 498, "{'message':'invalid token'}", 401, "authentication_error",
          "invalid_api_key", NULL },
        { 499, "{'message':'request cancelled'}", 502, "server_error", "",
          NULL },
        { 500, "{'message':'internal server error'}", 502, "server_error",
          "", "cohere: internal server error" },
        { 501, "{}", 502, "server_error", "",
          "cohere: upstream returned HTTP 501" },
        { 503, "{'message':'unavailable'}", 503, "server_error",
          "overloaded", NULL },
        { 504, "{'message':'timeout'}", 504, "server_error", "timeout",
          NULL },
        { 502, "<html>Bad\nGateway</html>\n", 502, "server_error", "",
          "cohere: <html>Bad Gateway</html>" },
        { 500, "", 502, "server_error", "",
          "cohere: upstream returned HTTP 500" },
        { 400, "{'error':{'message':'nested'}}", 400,
          "invalid_request_error", "", "cohere: nested" },
        { 400, "{'error':'flat'}", 400, "invalid_request_error", "",
          "cohere: flat" },
        { 400, "{'message':7}", 400, "invalid_request_error", "",
          "cohere: upstream returned HTTP 400" },
    };

    setup_call("{'model':'m','messages':[]}", LLM_ENDPOINT_CHAT);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        c = &cases[i];

        memset(&e, 0, sizeof(e));
        llm_cohere_adapter.parse_error(&call, c->status, q(c->body),
                                       strlen(c->body), &e);

        if (e.status != c->client_status
            || strcmp(e.type, c->type) != 0
            || strcmp(e.code, c->code) != 0)
        {
            print_error("case %zu: %d %s %s\n", i, e.status, e.type, e.code);
        }

        assert_int_equal(e.status, c->client_status);
        assert_string_equal(e.type, c->type);
        assert_string_equal(e.code, c->code);

        if (c->message) {
            assert_string_equal(e.message, c->message);
        }
    }

    /* NULL body */
    llm_cohere_adapter.parse_error(&call, 429, NULL, 0, &e);
    assert_int_equal(e.status, 429);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test_teardown(test_request_doc_example, teardown),
        cmocka_unit_test_teardown(test_request_messages, teardown),
        cmocka_unit_test_teardown(test_request_params, teardown),
        cmocka_unit_test_teardown(test_request_deployment_defaults,
                                  teardown),
        cmocka_unit_test_teardown(test_request_tool_choice, teardown),
        cmocka_unit_test_teardown(test_request_drop_params, teardown),
        cmocka_unit_test_teardown(test_request_errors, teardown),
        cmocka_unit_test_teardown(test_request_missing_fields, teardown),
        cmocka_unit_test_teardown(test_response_doc_example, teardown),
        cmocka_unit_test_teardown(test_response_text, teardown),
        cmocka_unit_test_teardown(test_response_tool_calls, teardown),
        cmocka_unit_test_teardown(test_response_failures, teardown),
        cmocka_unit_test_teardown(test_response_wrong_types, teardown),
        cmocka_unit_test_teardown(test_stream_doc_example, teardown),
        cmocka_unit_test_teardown(test_stream_tool_calls, teardown),
        cmocka_unit_test_teardown(test_stream_thinking_and_unknown,
                                  teardown),
        cmocka_unit_test_teardown(test_stream_minted_tool_id, teardown),
        cmocka_unit_test_teardown(test_stream_errors, teardown),
        cmocka_unit_test_teardown(test_stream_end_without_blank_line,
                                  teardown),
        cmocka_unit_test_teardown(test_embed_request, teardown),
        cmocka_unit_test_teardown(test_embed_response, teardown),
        cmocka_unit_test_teardown(test_errors, teardown),
    };

    return cmocka_run_group_tests_name("cohere", tests, NULL, NULL);
}
