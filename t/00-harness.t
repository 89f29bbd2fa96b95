# Self-test of the harness and the mock, WITHOUT the module: plain nginx
# (proxy_pass) in front of t/mock/server.js.  If this file fails, the
# other files' results mean nothing.  Its twin t/00-harness-negative.t
# proves that the checks used here can fail.
use LlmTest;

# NGINX is read by nginx itself (inherited sockets): a visible way to see
# that --- env reaches the nginx process.  Every block removes it by
# default ("!NGINX"); TEST 13 sets it.
$ENV{NGINX} = 'from-the-harness;';
set_default(no_module => '', env => '!NGINX', config => <<'EOF');
location / {
    proxy_pass $MOCK_URL;
    proxy_http_version 1.1;
    proxy_buffering off;
    proxy_set_header Authorization "Bearer sk-selftest-upstream";
    proxy_set_header Accept-Encoding identity;
    proxy_set_header Connection "";
}
EOF

run_tests();

__DATA__

=== TEST 1: non-stream chat through proxy_pass; mock records what it got
--- request
POST /v1/chat/completions
{"model":"mock-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"héllo 你好"}],"temperature":0.3}
--- more_headers
Authorization: Bearer sk-client-secret-0001
--- error_code: 200
--- response_headers
Content-Type: application/json
!Transfer-Encoding
--- response_headers_like
X-Request-Id: ^req_mock\d+$
--- response_json
{"object":"chat.completion","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"echo: héllo 你好"}}],
 "usage":{"prompt_tokens":15,"completion_tokens":4,"total_tokens":19}}
--- mock_request_json
{"model":"mock-ok","temperature":0.3,"messages":[{"role":"system"},{"role":"user","content":"héllo 你好"}]}
--- mock_request_headers
Authorization: Bearer sk-selftest-upstream
Accept-Encoding: identity
Host ~ ^127\.0\.0\.1:\d+$
!X-Mock-Split
--- mock_request
{ path => '/v1/chat/completions', method => 'POST', tls => JSON::PP::false, servername => undef, query => {} }
--- mock_request_count: 1
--- no_error_log
sk-client-secret-0001
sk-selftest-upstream


=== TEST 2: any path prefix is OpenAI; query string recorded; Perl-form expectations
--- request
POST /openai/v1/chat/completions?api-version=2024-10-21
{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"parts "},{"type":"text","text":"joined"}]}]}
--- error_code: 200
--- response_json
{ id => qr/^chatcmpl-mock\d+$/, created => sub { $_[0] =~ /^\d+$/ }, model => 'gpt-4o-mini',
  choices => [ { message => { content => 'echo: parts joined', tool_calls => absent() } } ] }
--- mock_request
{ path => '/openai/v1/chat/completions', query => { 'api-version' => '2024-10-21' } }
--- mock_request_like
"text":"joined"


=== TEST 3: stream split at awkward byte boundaries, include_usage
--- request
POST /v1/chat/completions
{"model":"mock-ok-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"héllo 你好 🌍 ça va"}]}
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => "echo: héllo 你好 🌍 ça va", finish_reason => 'stop', usage_chunk => 1, usage_null => 1,
  usage => { prompt_tokens => 12, completion_tokens => 7, total_tokens => 19 },
  chunks => { object => 'chat.completion.chunk', model => 'mock-ok-split' },
  first_chunk => { choices => [ { delta => { role => 'assistant', content => '' } } ] },
  min_events => 5 }
--- check
sub {
    my $t = shift;
    my $r = $t->response;
    # split mode really splits: many tiny chunked-encoding chunks reached the client
    $t->ok(@{$r->{chunks}} > 50, "many small transfer chunks (" . scalar(@{$r->{chunks}}) . ")");
}


=== TEST 4: stream without include_usage has no usage anywhere
--- request
POST /v1/chat/completions
{"model":"mock-ok","stream":true,"messages":[{"role":"user","content":"plain"}]}
--- stream_check
{ content => "echo: plain", usage_chunk => 0, no_usage => 1, done => 1 }


=== TEST 5: unbuffered proof: first content seen, then released
--- request
POST /v1/chat/completions
{"model":"mock-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content":"echo: "/
--- timeout: 5
--- stream_check
{ content => "echo: wait for it", finish_reason => 'stop' }


=== TEST 6: streamed tool calls reassemble
--- request
POST /v1/chat/completions
{"model":"mock-tools2","stream":true,"messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}
--- stream_check
{ finish_reason => 'tool_calls',
  tool_calls => [ { id => qr/^call_/, type => 'function', function => { name => 'lookup', arguments => '{"city":"Paris","query":"weather?"}' } },
                  { id => qr/^call_/, function => { name => 'lookup', arguments => '{"city":"Tokyo","query":"weather?"}' } } ] }


=== TEST 7: upstream error statuses keep their body and retry-after
--- request
POST /v1/chat/completions
{"model":"mock-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- response_headers
Retry-After: 7
--- openai_error
{"type":"requests","code":"rate_limit_exceeded","param":null}


=== TEST 8: mock-stream-error gives an error event and no [DONE]
--- request
POST /v1/chat/completions
{"model":"mock-stream-error","stream":true,"messages":[{"role":"user","content":"x"}]}
--- stream_check
{ error_event => { type => 'server_error', code => 'mock_stream_error' }, done => 0 }


=== TEST 9: mock-stream-cut: the harness sees a truncated chunked body, no hang
--- request
POST /v1/chat/completions
{"model":"mock-stream-cut","stream":true,"messages":[{"role":"user","content":"x"}]}
--- stream_check
{ allow_truncated => 1, done => 0, content => 'echo: ' }
--- check
sub { my $t = shift; $t->ok($t->response->{truncated}, "response marked truncated") }
--- log_allow
/upstream prematurely closed/


=== TEST 10: keepalive upstream: one connection for two requests (conn_id)
--- http_config
upstream mock_ka {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 4;
}
--- config
location / {
    proxy_pass http://mock_ka;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Authorization "Bearer k";
}
--- requests
["POST /v1/chat/completions\n{\"model\":\"mock-ok\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 { method => 'POST', path => '/v1/chat/completions', json => { model => 'mock-ok', messages => [ { role => 'user', content => 'two' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: two' } } ] } } }]
--- mock_request_count: 2
--- mock_request_json
[{"messages":[{"content":"one"}]}, {"messages":[{"content":"two"}]}]
--- check
sub {
    my $t = shift;
    my $r = $t->mock_requests;
    $t->ok($r->[0]{conn_id} == $r->[1]{conn_id} && $r->[0]{remote_port} == $r->[1]{remote_port},
        "same upstream connection ($r->[0]{conn_id}/$r->[0]{remote_port} vs $r->[1]{conn_id}/$r->[1]{remote_port})");
}


=== TEST 11: TLS upstream with the test CA: SNI recorded
--- config
location / {
    proxy_pass https://localhost:$MOCK_TLS_PORT;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate $TEST_CA;
    proxy_ssl_server_name on;
    proxy_set_header Authorization "Bearer k";
}
--- request
POST /v1/chat/completions
{"model":"mock-ok","messages":[{"role":"user","content":"tls"}]}
--- error_code: 200
--- mock_request
{"tls":true,"servername":"localhost"}


=== TEST 12: TLS upstream without the CA fails verification
--- config
location / {
    proxy_pass https://localhost:$MOCK_TLS_PORT;
    proxy_ssl_verify on;
    proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
    proxy_ssl_server_name on;
}
--- request
POST /v1/chat/completions
{"model":"mock-ok","messages":[{"role":"user","content":"tls"}]}
--- error_code: 502
--- error_log
/certificate verif|verify error/
--- mock_request_count: 0


=== TEST 13: --- env reaches nginx (it logs the NGINX variable it inherited)
--- env
NGINX=abc;
--- config
location = /x { return 200 "ok\n"; }
--- request
GET /x
--- response_body
ok
--- error_log
invalid socket number "abc;" in NGINX environment variable
--- log_allow
invalid socket number "abc;"


=== TEST 13b: "!NAME" in --- env removes a variable of the harness's environment
--- config
location = /x { return 200 "ok\n"; }
--- request
GET /x
--- response_body
ok
--- no_error_log
NGINX environment variable


=== TEST 14: must_die + nginx_t_like
--- config
bogus_directive_xyz on;
--- must_die
--- nginx_t_like
unknown directive "bogus_directive_xyz"
/nginx\.conf:\d+/


=== TEST 15: reload: HUP, new generation serves, phase 2 checks
--- config
location = /v { return 200 "one\n"; }
--- reload_config
location = /v { return 200 "two\n"; }
--- request
GET /v
--- response_body
one
--- request2
GET /v
--- response_body2
two


=== TEST 16: early 413 while the body is still being sent
--- http_config
client_max_body_size 1k;
--- request eval
"POST /v1/chat/completions\n" . ('x' x 300000)
--- error_code: 413
--- mock_request_count: 0


=== TEST 17: client keepalive: both requests on one connection
--- client_keepalive
--- config
location = /x { return 200 "$connection\n"; }
--- requests
["GET /x", "GET /x"]
--- check
sub {
    my $t = shift;
    my ($a, $b) = map { $_->{body} } @{$t->responses};
    $t->ok(defined $a && $a eq $b, "same connection serial ($a)");
}


=== TEST 18: 100000 nested brackets reach the mock, which answers 400 JSON
--- requests
[{ method => 'POST', path => '/v1/chat/completions', body => '{"model":"mock-ok","messages":' . ('[' x 100000) }]
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}
--- mock_request_count: 1


=== TEST 19: hang upstream: proxy_read_timeout gives 504, no hang in the harness
--- config
location / {
    proxy_pass $MOCK_URL;
    proxy_read_timeout 1s;
    proxy_set_header Authorization "Bearer k";
}
--- request
POST /v1/chat/completions
{"model":"mock-hang","messages":[{"role":"user","content":"x"}]}
--- error_code: 504
--- error_log
upstream timed out


=== TEST 20: embeddings and models
--- requests
[{ json => { model => 'text-embedding-3-small', input => ['a', 'b'], dimensions => 4 }, path => '/v1/embeddings',
   expect => { error_code => 200, response_json => { object => 'list', data => [ { index => 0, embedding => sub { @{$_[0]} == 4 } }, { index => 1 } ] } } },
 { path => '/v1/models', expect => { response_json => { object => 'list', data => sub { grep { $_->{id} eq 'mock-ok' } @{$_[0]} } } } }]


=== TEST 21: strict SSE framing accepts comments, multi-line JSON not allowed
--- config
location = /sse {
    default_type text/event-stream;
    return 200 ": keepalive\n\ndata: {\"id\":\"a\",\"object\":\"chat.completion.chunk\",\"created\":1,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: [DONE]\n\n";
}
--- request
GET /sse
--- stream_check
{ content => 'x' }
