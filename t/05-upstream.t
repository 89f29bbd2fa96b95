# Upstream connections: keepalive reuse, never across TLS server names,
# TLS verification with llm_ssl_trusted_certificate or the system CAs.
use LlmTest;

# helpers for --- check code: the mock's record of each request
sub conns { my $t = shift; [ map { $_->{conn_id} } @{$t->mock_requests} ] }

run_tests();

__DATA__

=== TEST 1: two sequential requests to one deployment reuse one upstream connection
--- models
- model_name: m
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-up-key-1
--- requests
["POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}"]
--- error_code: 200
--- mock_request_count: 2
--- check
sub {
    my $t = shift;
    my $r = $t->mock_requests;
    $t->ok($r->[0]{conn_id} == $r->[1]{conn_id} && $r->[0]{remote_port} == $r->[1]{remote_port},
        "same upstream connection (conn $r->[0]{conn_id} port $r->[0]{remote_port} / conn $r->[1]{conn_id} port $r->[1]{remote_port})");
}


=== TEST 2: a finished stream leaves its connection reusable
--- models
- model_name: m
  litellm_params:
    model: openai/mock-ok-split
    api_base: $MOCK_URL/v1
    api_key: sk-up-key-1
--- requests
["POST /v1/chat/completions\n{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"s\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"n\"}]}"]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: n"}}]}
--- check
sub {
    my $t = shift;
    my $c = main::conns($t);
    $t->ok(@$c == 2 && $c->[0] == $c->[1], "stream then request on one upstream connection (@$c)");
}


=== TEST 3: a connection cut mid-stream is not reused; the next request works
--- models
- model_name: cut
  litellm_params:
    model: openai/mock-stream-cut
    api_base: $MOCK_URL/v1
    api_key: sk-up-key-1
- model_name: ok
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-up-key-1
--- requests
[{ path => '/v1/chat/completions', json => { model => 'cut', stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] } },
 { path => '/v1/chat/completions', json => { model => 'ok', messages => [ { role => 'user', content => 'after' } ] } }]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: after"}}]}
--- check
sub {
    my $t = shift;
    my $c = main::conns($t);
    $t->ok(@$c == 2 && $c->[0] != $c->[1], "new connection after the cut (@$c)");
}


=== TEST 4: llm_keepalive 0 disables reuse (the check above can fail)
--- http_config
llm_keepalive 0;
--- models
- model_name: m
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-up-key-1
--- requests
["POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"one\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}"]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my $c = main::conns($t);
    $t->ok(@$c == 2 && $c->[0] != $c->[1], "two upstream connections (@$c)");
}


=== TEST 5: TLS with llm_ssl_trusted_certificate: works, SNI and Host are the api_base host
--- http_config
llm_ssl_trusted_certificate $TEST_CA;
--- models
- model_name: tls
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_TLS_URL/v1
    api_key: sk-up-tls-key-5
--- request
POST /v1/chat/completions
{"model":"tls","messages":[{"role":"user","content":"secure"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: secure"}}]}
--- mock_request
{ tls => JSON::PP::true, servername => 'localhost', path => '/v1/chat/completions' }
--- mock_request_headers
Host: localhost:$MOCK_TLS_PORT
Authorization: Bearer sk-up-tls-key-5
--- no_error_log
sk-up-tls-key-5


=== TEST 6: TLS keepalive never shares a connection between server names
--- http_config
llm_ssl_trusted_certificate $TEST_CA;
--- models
- model_name: by-name
  litellm_params:
    model: openai/mock-ok
    api_base: https://localhost:$MOCK_TLS_PORT/v1
    api_key: sk-up-tls-key-6
- model_name: by-ip
  litellm_params:
    model: openai/mock-ok
    api_base: https://127.0.0.1:$MOCK_TLS_PORT/v1
    api_key: sk-up-tls-key-6
--- requests
[map { +{ path => '/v1/chat/completions', json => { model => $_, messages => [ { role => 'user', content => $_ } ] },
         expect => { error_code => 200 } } } qw(by-name by-ip by-name by-ip)]
--- mock_request_count: 4
--- mock_request
[{"servername":"localhost","tls":true},{"servername":null,"tls":true},{"servername":"localhost"},{"servername":null}]
--- check
sub {
    my $t = shift;
    my $r = $t->mock_requests;
    my %names;
    for my $q (@$r) { push @{$names{$q->{conn_id}}}, $q->{servername} // '(none)' }
    my @mixed = grep { my %u = map { $_ => 1 } @{$names{$_}}; keys(%u) > 1 } keys %names;
    $t->ok(!@mixed, "no connection carried two server names",
        map { "conn $_: @{$names{$_}}" } sort keys %names);
    $t->ok($r->[0]{conn_id} == $r->[2]{conn_id}, "by-name requests reuse their connection");
    $t->ok($r->[1]{conn_id} == $r->[3]{conn_id}, "by-ip requests reuse their connection");
    $t->ok($r->[0]{conn_id} != $r->[1]{conn_id}, "by-name and by-ip use different connections");
}


=== TEST 7: without llm_ssl_trusted_certificate (system CAs) the test CA is not trusted -> 502
--- models
- model_name: tls
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_TLS_URL/v1
    api_key: sk-up-tls-key-7
--- request
POST /v1/chat/completions
{"model":"tls","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{}
--- mock_request_count: 0
--- error_log
/certificate verif|verify error|verification/i
--- no_error_log
sk-up-tls-key-7


=== TEST 8: Host header of a plain http api_base
--- models
- model_name: m
  litellm_params:
    model: openai/mock-ok
    api_base: http://localhost:$MOCK_PORT/v1
    api_key: sk-up-key-8
--- request
POST /v1/chat/completions
{"model":"m","messages":[{"role":"user","content":"host"}]}
--- error_code: 200
--- mock_request_headers
Host: localhost:$MOCK_PORT
