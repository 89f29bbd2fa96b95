# Non-streaming chat (and embeddings) through the gateway to the OpenAI mock.
use LlmTest;

set_default(models => <<'EOF');
- model_name: gpt-ok
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
- model_name: gpt-defaults
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
    temperature: 0.3
    max_tokens: 77
    rpm: 100
    tpm: 100000
- model_name: gpt-prefixed
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/openai/v1
    api_key: sk-mock-yaml-key-123
- model_name: gpt-tools
  litellm_params:
    model: openai/mock-tools
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
- model_name: gpt-split
  litellm_params:
    model: openai/mock-ok-split
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
- model_name: embedder
  litellm_params:
    model: openai/text-embedding-3-small
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
  model_info:
    mode: embedding
EOF

run_tests();

__DATA__

=== TEST 1: /v1/chat/completions: provider model id, yaml key (never the client's), identity encoding
--- request
POST /v1/chat/completions
{"model":"gpt-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}
--- more_headers
Authorization: Bearer sk-client-own-secret-999
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- response_json
{ object => 'chat.completion', id => qr/\S/,
  choices => [ { index => 0, finish_reason => 'stop', message => { role => 'assistant', content => 'echo: hello there' } } ],
  usage => { prompt_tokens => 15, completion_tokens => 4, total_tokens => 19 } }
--- mock_request
{ method => 'POST', path => '/v1/chat/completions', tls => JSON::PP::false }
--- mock_request_json
{"model":"mock-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}
--- mock_request_headers
Authorization: Bearer sk-mock-yaml-key-123
Accept-Encoding: identity
Content-Type ~ ^application/json
Host: 127.0.0.1:$MOCK_PORT
--- mock_request_count: 1
--- no_error_log
sk-mock-yaml-key-123
sk-client-own-secret-999


=== TEST 2: /chat/completions (no /v1) works the same
--- request
POST /chat/completions
{"model":"gpt-ok","messages":[{"role":"user","content":"short path"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: short path"}}]}
--- mock_request_json
{"model":"mock-ok"}


=== TEST 3: deployment defaults are merged under the request (request has none)
--- request
POST /v1/chat/completions
{"model":"gpt-defaults","messages":[{"role":"user","content":"d"}]}
--- error_code: 200
--- mock_request_json
{ model => 'mock-ok', temperature => 0.3, max_tokens => 77,
  rpm => absent(), tpm => absent(), api_key => absent(), api_base => absent() }
--- mock_request_like
/^(?!.*sk-mock-yaml-key-123)/s


=== TEST 4: the request's own values win over deployment defaults
--- request
POST /v1/chat/completions
{"model":"gpt-defaults","temperature":0.9,"messages":[{"role":"user","content":"d"}]}
--- error_code: 200
--- mock_request_json
{"model":"mock-ok","temperature":0.9,"max_tokens":77}


=== TEST 5: api_base path prefix is kept (.../openai/v1/chat/completions)
--- request
POST /v1/chat/completions
{"model":"gpt-prefixed","messages":[{"role":"user","content":"p"}]}
--- error_code: 200
--- mock_request
{"path":"/openai/v1/chat/completions"}


=== TEST 6: OpenAI request fields pass through untouched; multi-byte text survives
--- request
POST /v1/chat/completions
{"model":"gpt-ok","messages":[{"role":"user","content":[{"type":"text","text":"héllo 你好 🌍"}]}],"seed":7,"user":"u-1","response_format":{"type":"json_object"},"stop":["\n\n"],"top_p":0.5,"n":1,"metadata":{"k":"v"}}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: héllo 你好 🌍"}}]}
--- mock_request_json
{"model":"mock-ok","seed":7,"user":"u-1","response_format":{"type":"json_object"},"stop":["\n\n"],"top_p":0.5,"n":1,"metadata":{"k":"v"},
 "messages":[{"role":"user","content":[{"type":"text","text":"héllo 你好 🌍"}]}]}


=== TEST 7: tool call response passes through
--- request
POST /v1/chat/completions
{"model":"gpt-tools","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls', message => { role => 'assistant', content => undef,
  tool_calls => [ { id => qr/^call_/, type => 'function', function => { name => 'get_weather', arguments => '{"city":"Paris","query":"weather?"}' } } ] } } ] }
--- mock_request_json
{"tools":[{"type":"function","function":{"name":"get_weather"}}]}


=== TEST 8: upstream body written in 1..7-byte pieces is reassembled
--- request
POST /v1/chat/completions
{"model":"gpt-split","messages":[{"role":"user","content":"pièce par pièce 你好"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: pièce par pièce 你好"}}]}


=== TEST 9: a large request body (buffered to a temp file by nginx) reaches the provider whole
--- http_config
client_body_buffer_size 8k;
--- requests
[{ path => '/v1/chat/completions', json => { model => 'gpt-ok', messages => [ { role => 'user', content => ('0123456789abcdef' x 20000) . 'END' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: ' . ('0123456789abcdef' x 20000) . 'END' } } ] } } }]
--- mock_request_json
{ messages => [ { content => sub { length($_[0]) == 320003 && $_[0] =~ /END\z/ } } ] }


=== TEST 10: several requests on one client keepalive connection
--- client_keepalive
--- requests
["POST /v1/chat/completions\n{\"model\":\"gpt-ok\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "GET /v1/models",
 "POST /v1/chat/completions\n{\"model\":\"gpt-ok\",\"messages\":[{\"role\":\"user\",\"content\":\"three\"}]}"]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: three"}}]}
--- check
sub {
    my $t = shift;
    my @r = @{$t->responses};
    $t->ok((grep { $_->{complete} && $_->{status} == 200 } @r) == 3, "three complete 200 responses");
}


=== TEST 11: embeddings
--- request
POST /v1/embeddings
{"model":"embedder","input":["a","b"],"encoding_format":"float","dimensions":4}
--- error_code: 200
--- response_json
{ object => 'list', data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } },
                              { object => 'embedding', index => 1 } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/v1/embeddings', json => { model => 'text-embedding-3-small', input => ['a', 'b'], encoding_format => 'float', dimensions => 4 } }
--- mock_request_headers
Authorization: Bearer sk-mock-yaml-key-123


=== TEST 12: embeddings in base64 (the openai SDK's default) pass through
--- request
POST /v1/embeddings
{"model":"embedder","input":"x","encoding_format":"base64"}
--- error_code: 200
--- response_json
{ data => [ { embedding => qr/^[A-Za-z0-9+\/]+=*$/ } ] }


=== TEST 13: a body the scanner does not vouch for (escaped key and model name) takes the cJSON path and works the same
--- request
POST /v1/chat/completions
{"model":"gpt\u002dok","mess\u0061ges":[{"role":"user","content":"esc"}],"seed":3}
--- error_code: 200
--- response_json
{"model":"gpt-ok","choices":[{"message":{"content":"echo: esc"}}]}
--- mock_request_json
{"model":"mock-ok","seed":3,"messages":[{"role":"user","content":"esc"}]}


=== TEST 14: the same checks whichever path: an escaped key that hides "messages" is still refused
--- request
POST /v1/chat/completions
{"model":"gpt-ok","mess\u0061ge":[{"role":"user","content":"x"}]}
--- error_code: 400
--- response_json
{"error":{"type":"invalid_request_error","param":"messages"}}
--- mock_request_count: 0


=== TEST 15: litellm_params.organization (from the environment too) goes upstream as OpenAI-Organization, on every call
--- env
LLM_TEST_ORG=org-from-env-7
--- models
- model_name: gpt-org
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-mock-yaml-key-123
    organization: os.environ/LLM_TEST_ORG
--- requests
["POST /v1/chat/completions\n{\"model\":\"gpt-org\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"gpt-org\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}"]
--- error_code: 200
--- mock_request_count: 2
--- check
sub {
    my $t = shift;
    my @org = map { $_->{headers}{'openai-organization'} // '(none)' } @{$t->mock_requests};
    $t->ok(@org == 2 && !grep({ $_ ne 'org-from-env-7' } @org), "OpenAI-Organization on both calls (@org)");
}
