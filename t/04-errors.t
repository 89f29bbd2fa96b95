# Every error is OpenAI-shaped JSON with the right status, never HTML:
# client mistakes, gateway limits, transport failures, provider errors.
use LlmTest;

my @mocks = qw(ok err-400-context err-401 err-404 err-429 err-500 err-503 garbage close hang
               raw-fold raw-fold-tab raw-nul raw-cr raw-cl-differ raw-cl-same raw-cl-invalid
               raw-upper raw-429 raw-trickle);
set_default(models => join('', map { <<"EOF" } @mocks) . <<'EOF');
- model_name: m-$_
  litellm_params:
    model: openai/mock-$_
    api_base: \$MOCK_URL/v1
    api_key: sk-err-yaml-key-7
EOF
- model_name: m-refused
  litellm_params:
    model: openai/mock-ok
    api_base: http://127.0.0.1:$CLOSED_PORT/v1
    api_key: sk-err-yaml-key-7
EOF

run_tests();

__DATA__

=== TEST 1: malformed JSON -> 400
--- request
POST /v1/chat/completions
{"model":"m-ok","messages":[
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}
--- response_body_unlike
<html
--- mock_request_count: 0


=== TEST 2: empty body -> 400
--- request
POST /v1/chat/completions
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}
--- mock_request_count: 0


=== TEST 3: body is JSON but not an object -> 400
--- request
POST /v1/chat/completions
[1,2,3]
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}


=== TEST 4: missing model -> 400, param model
--- request
POST /v1/chat/completions
{"messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","param":"model"}
--- mock_request_count: 0


=== TEST 5: non-string model -> 400, param model
--- request
POST /v1/chat/completions
{"model":42,"messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","param":"model"}


=== TEST 6: missing messages -> 400, param messages
--- request
POST /v1/chat/completions
{"model":"m-ok"}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","param":"messages"}
--- mock_request_count: 0


=== TEST 7: unknown model -> 400 naming the model and /v1/models
--- request
POST /v1/chat/completions
{"model":"no-such-model-abc","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr{no-such-model-abc.*/v1/models|/v1/models.*no-such-model-abc}s }
--- mock_request_count: 0


=== TEST 8: unknown model on a streaming request is still a JSON error
--- request
POST /v1/chat/completions
{"model":"no-such-model-abc","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ message => qr/no-such-model-abc/ }


=== TEST 9: GET on /v1/chat/completions -> 405
--- request
GET /v1/chat/completions
--- error_code: 405
--- openai_error
{}
--- response_body_unlike
<html


=== TEST 10: body larger than client_max_body_size -> 413 JSON
--- http_config
client_max_body_size 1k;
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'x' x 5000 } ] } }]
--- error_code: 413
--- openai_error
{"type":"invalid_request_error","code":"request_too_large"}
--- response_body_unlike
<html
--- mock_request_count: 0


=== TEST 11: 100000 levels of nesting -> 400, no crash
--- requests
[{ path => '/v1/chat/completions', body => '{"model":"m-ok","messages":' . ('[' x 100000) . (']' x 100000) . '}' }]
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}
--- mock_request_count: 0


=== TEST 12: unknown path under llm_pass -> 404 JSON
--- request
GET /v1/nothing-here
--- error_code: 404
--- openai_error
{}
--- response_body_unlike
<html


=== TEST 13: provider refuses the connection -> 502
--- request
POST /v1/chat/completions
{"model":"m-refused","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{}
--- response_body_unlike
<html


=== TEST 14: provider never answers, llm_read_timeout 1s -> 504
--- config
location / {
    llm_pass;
    llm_read_timeout 1s;
}
--- request
POST /v1/chat/completions
{"model":"m-hang","messages":[{"role":"user","content":"x"}]}
--- timeout: 15
--- error_code: 504
--- openai_error
{}
--- mock_request_json
{"model":"mock-hang"}


=== TEST 15: provider closes without answering -> 502
--- request
POST /v1/chat/completions
{"model":"m-close","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{}


=== TEST 16: provider 401 -> 401 authentication_error
--- request
POST /v1/chat/completions
{"model":"m-err-401","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{"type":"authentication_error","code":"invalid_api_key"}
--- no_error_log
sk-err-yaml-key-7


=== TEST 17: provider 404 -> 404
--- request
POST /v1/chat/completions
{"model":"m-err-404","messages":[{"role":"user","content":"x"}]}
--- error_code: 404
--- openai_error
{"code":"model_not_found"}


=== TEST 18: provider 429 -> 429 with Retry-After passed through
--- request
POST /v1/chat/completions
{"model":"m-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- response_headers
Retry-After: 7
--- openai_error
{"code":"rate_limit_exceeded"}


=== TEST 19: provider 500 -> 502 server_error
--- request
POST /v1/chat/completions
{"model":"m-err-500","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{"type":"server_error"}


=== TEST 20: provider 503 -> 503
--- request
POST /v1/chat/completions
{"model":"m-err-503","messages":[{"role":"user","content":"x"}]}
--- error_code: 503
--- openai_error
{"type":"server_error"}


=== TEST 21: provider 400 context length -> 400 context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"m-err-400-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => 'context_length_exceeded', message => qr/context length/ }


=== TEST 22: provider 200 with a non-JSON body -> 502 JSON
--- request
POST /v1/chat/completions
{"model":"m-garbage","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{"type":"server_error"}
--- response_body_unlike
this is not JSON


=== TEST 23: errors do not leak secrets into the log
--- requests
[map { +{ path => '/v1/chat/completions', headers => [ Authorization => 'Bearer sk-client-err-secret-5' ],
         json => { model => $_, messages => [ { role => 'user', content => 'x' } ] } } } qw(m-err-401 m-err-500 m-refused m-close m-garbage no-such)]
--- no_error_log
sk-err-yaml-key-7
sk-client-err-secret-5


=== TEST 24: provider header folded onto the line before (SP) -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-fold', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html|folded/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 25: provider header folded onto the line before (HTAB) -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-fold-tab', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 26: folded provider header on a stream -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-fold', stream => \1, messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html|data:/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 27: NUL in a provider header value -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-nul', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 28: NUL in a provider header value on a stream -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-nul', stream => \1, messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html|data:/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 29: lone CR in a provider header line -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-cr', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
llm: upstream sent an invalid header line


=== TEST 30: two different Content-Length headers -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-cl-differ', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
/llm: upstream sent an invalid or a second, different Content-Length/


=== TEST 31: a Content-Length that is not a number -> 502 JSON, the gateway stays up
--- requests
[{ path => '/v1/chat/completions', json => { model => 'm-raw-cl-invalid', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => {}, response_body_unlike => qr/<html/ } },
 { path => '/v1/chat/completions', json => { model => 'm-ok', messages => [ { role => 'user', content => 'still up' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: still up' } } ] } } }]
--- error_log
/llm: upstream sent an invalid or a second, different Content-Length/


=== TEST 32: two equal Content-Length headers are one length
--- request
POST /v1/chat/completions
{"model":"m-raw-cl-same","messages":[{"role":"user","content":"same length"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: same length"},"finish_reason":"stop"}]}
--- no_error_log
[error]


=== TEST 33: provider header names in upper case
--- request
POST /v1/chat/completions
{"model":"m-raw-upper","messages":[{"role":"user","content":"loud headers"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: loud headers"},"finish_reason":"stop"}]}
--- response_headers
X-Request-Id: req_raw_upper
--- no_error_log
[error]


=== TEST 34: upper-case TRANSFER-ENCODING: CHUNKED on a stream
--- request
POST /v1/chat/completions
{"model":"m-raw-upper","stream":true,"messages":[{"role":"user","content":"loud stream"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: loud stream', finish_reason => 'stop', done => 1 }
--- response_headers
X-Request-Id: req_raw_upper
--- no_error_log
[error]


=== TEST 35: provider 429 with RETRY-AFTER in upper case -> Retry-After passed
--- request
POST /v1/chat/completions
{"model":"m-raw-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- response_headers
Retry-After: 7
--- openai_error
{"code":"rate_limit_exceeded"}


=== TEST 36: provider headers in 1..7-byte pieces, cut inside lines and CRLFs
--- request
POST /v1/chat/completions
{"model":"m-raw-trickle","messages":[{"role":"user","content":"slowly"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: slowly"},"finish_reason":"stop"}]}
--- response_headers_like
X-Request-Id: ^req_mock\d+$
--- no_error_log
[error]


=== TEST 37: stream headers in 1..7-byte pieces, cut inside lines and CRLFs
--- request
POST /v1/chat/completions
{"model":"m-raw-trickle","stream":true,"messages":[{"role":"user","content":"slow stream"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: slow stream', finish_reason => 'stop', done => 1 }
--- no_error_log
[error]
