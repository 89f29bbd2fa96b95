# nginx -s reload applies a changed model file; a broken one is refused
# and the running generation keeps serving.
use LlmTest;

run_tests();

__DATA__

=== TEST 1: reload with a new models.yaml: the new list is served
--- models
- model_name: before-reload
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-reload-key-1
--- request
GET /v1/models
--- response_json
{"data":[{"id":"before-reload"}]}
--- reload_models
- model_name: after-one
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-reload-key-2
- model_name: after-two
  litellm_params:
    model: openai/mock-tools
    api_base: $MOCK_URL/v1
    api_key: sk-reload-key-2
--- requests2
[{ path => '/v1/chat/completions', json => { model => 'before-reload', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 400, openai_error => { message => qr/before-reload/ } } },
 { path => '/v1/chat/completions', json => { model => 'after-one', messages => [ { role => 'user', content => 'new' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: new' } } ] } } },
 { path => '/v1/models' }]
--- error_code2: 200
--- response_json2
{"object":"list","data":[{"id":"after-one"},{"id":"after-two"}]}
--- mock_request_headers2
Authorization: Bearer sk-reload-key-2
--- no_error_log
sk-reload-key-1
sk-reload-key-2


=== TEST 2: a broken models.yaml on reload is refused; the old models keep serving
--- models
- model_name: stays
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: k
--- request
GET /v1/models
--- response_json
{"data":[{"id":"stays"}]}
--- reload_models
- model_name: broken
  litellm_params:
    api_base: http://x: y
--- reload_must_fail
--- log_allow
models.yaml
--- request2
POST /v1/chat/completions
{"model":"stays","messages":[{"role":"user","content":"still here"}]}
--- error_code2: 200
--- response_json2
{"choices":[{"message":{"content":"echo: still here"}}]}
