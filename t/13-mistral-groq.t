# Mistral and Groq through the gateway, against the strict mocks
# t/mock/providers/mistral.js (under /mistral/v1) and groq.js (under
# /groq/openai/v1): request mapping checked on what the mock received (and
# the mocks reject what the real APIs reject, so a wrong mapping also shows
# as an upstream 4xx), response and stream mapping, error mapping, auth.
# The last block points the official Mistral and Groq SDKs (and the openai
# SDK) at the mocks (t/sdk/mock-mistral-groq.test.mjs).
use LlmTest;
use IPC::Run ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

my @mi = qw(ok ok-split tools tools-split length cached think think-split slow-release stream-error stream-cut
    err-422 err-422-wrapped err-400-context err-401 err-404 err-429 err-500 err-503);
my @gq = qw(ok ok-split tools xgroq-only slow-release stream-error stream-cut err-400-context err-401
    err-404 err-413 err-429 err-498 err-500);
set_default(models => join('', map { <<"EOF" } @mi) . join('', map { <<"EOF" } @gq) . <<'EOF');
- model_name: mi-$_
  litellm_params:
    model: mistral/mock-$_
    api_base: \$MOCK_URL/mistral/v1
    api_key: sk-mistral-yaml-key-3
EOF
- model_name: gq-$_
  litellm_params:
    model: groq/mock-$_
    api_base: \$MOCK_URL/groq/openai/v1
    api_key: gsk_groq_yaml_key_4
EOF
- model_name: mi-drop
  litellm_params:
    model: mistral/mock-ok
    api_base: $MOCK_URL/mistral/v1
    api_key: sk-mistral-yaml-key-3
    drop_params: true
- model_name: mi-no-v1
  litellm_params:
    model: mistral/mock-ok
    api_base: $MOCK_URL/mistral
    api_key: sk-mistral-yaml-key-3
- model_name: mi-nokey
  litellm_params:
    model: mistral/mock-ok
    api_base: $MOCK_URL/mistral/v1
- model_name: gq-drop
  litellm_params:
    model: groq/mock-ok
    api_base: $MOCK_URL/groq/openai/v1
    api_key: gsk_groq_yaml_key_4
    drop_params: true
EOF

# node --test on the given files with extra environment (as in t/50-sdk.t)
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/groq-sdk" && -d "$SDK_DIR/node_modules/\@mistralai/mistralai") {
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/groq-sdk") {
            $t->ok(0, "npm ci in t/sdk", $out, $@);
            return -1;
        }
    }
    local @ENV{keys %$env} = values %$env;
    my $buf = '';
    my $emit = sub {
        $buf .= shift;
        while ($buf =~ s/\A([^\n]*)\n//) { print STDERR "#   $1\n" }
    };
    my $h = IPC::Run::start(
        [$ENV{NODE_BIN} || 'node', '--test', '--test-concurrency=1', '--test-reporter=spec', @files],
        '<', \undef, '>', $emit, '2>', $emit,
        init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
    eval { $h->finish; 1 } or do { $h->kill_kill; $t->ok(0, "node finished within 600 s", $@) };
    $emit->("\n") if length $buf;
    return $h->result(0);
}

run_tests();

__DATA__

=== TEST 1: mistral: seed -> random_seed, user / logprobs / message names dropped, max_completion_tokens -> max_tokens, required -> any
--- request
POST /v1/chat/completions
{"model":"mi-ok","messages":[{"role":"developer","content":"sys","name":"ops"},{"role":"user","content":"2+2?","name":"alice"}],"seed":7,"user":"u-1","logprobs":false,"max_completion_tokens":20,"temperature":0.3,"tool_choice":"required","tools":[{"type":"function","function":{"name":"calc","parameters":{"type":"object","properties":{"expr":{"type":"string"}}}}}]}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 200
--- response_json
{ object => 'chat.completion', id => qr/^chatcmpl-/, model => 'mi-ok', created => qr/^\d+$/,
  choices => [ { index => 0, finish_reason => 'stop', logprobs => undef,
                 message => { role => 'assistant', content => 'echo: 2+2?', refusal => undef } } ],
  usage => { prompt_tokens => 16, completion_tokens => 6, total_tokens => 22, num_cached_tokens => absent() } }
--- mock_request
{ method => 'POST', path => '/mistral/v1/chat/completions', provider => 'mistral' }
--- mock_request_json
{ model => 'mock-ok', random_seed => 7, max_tokens => 20, temperature => 0.3, tool_choice => 'any',
  seed => absent(), user => absent(), logprobs => absent(), max_completion_tokens => absent(), stream_options => absent(),
  messages => [ { role => 'system', content => 'sys', name => absent() }, { role => 'user', content => '2+2?', name => absent() } ] }
--- mock_request_headers
Authorization: Bearer sk-mistral-yaml-key-3
--- no_error_log
sk-mistral-yaml-key-3
sk-client-side-secret


=== TEST 2: mistral: foreign tool-call ids rewritten to 9 alphanumerics, the same in the call and its result; conforming ids kept
--- request
POST /v1/chat/completions
{"model":"mi-ok","messages":[
 {"role":"user","content":"weather?"},
 {"role":"assistant","content":null,"tool_calls":[
   {"id":"call_Xy12abCDef34","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
   {"id":"toolu_01A09q90qw90lq917835lq9","type":"function","function":{"name":"get_time","arguments":"{}"}},
   {"id":"D681PevKs","type":"function","function":{"name":"get_date","arguments":"{}"}}]},
 {"role":"tool","tool_call_id":"toolu_01A09q90qw90lq917835lq9","name":"get_time","content":"09:00"},
 {"role":"tool","tool_call_id":"call_Xy12abCDef34","content":"22C"},
 {"role":"tool","tool_call_id":"D681PevKs","content":"Monday"},
 {"role":"user","content":"thanks"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: thanks"}}]}
--- mock_request_json
{ messages => [ {}, { tool_calls => [ { id => qr/^[a-zA-Z0-9]{9}$/, function => { name => 'get_weather', arguments => '{"city":"Paris"}' } },
                                      { id => qr/^[a-zA-Z0-9]{9}$/ }, { id => 'D681PevKs' } ] },
                { role => 'tool', tool_call_id => qr/^[a-zA-Z0-9]{9}$/, name => 'get_time' },
                { role => 'tool', tool_call_id => qr/^[a-zA-Z0-9]{9}$/ },
                { role => 'tool', tool_call_id => 'D681PevKs' }, { role => 'user' } ] }
--- check
sub {
    my $t = shift;
    my $m = $t->mock_requests->[-1]{json}{messages};
    my @ids = map { $_->{id} } @{$m->[1]{tool_calls}};
    $t->ok($m->[2]{tool_call_id} eq $ids[1] && $m->[3]{tool_call_id} eq $ids[0], "each tool result carries its call's rewritten id", "calls: @ids; results: $m->[2]{tool_call_id} $m->[3]{tool_call_id}");
    $t->ok($ids[0] ne $ids[1], "distinct ids stay distinct");
}


=== TEST 3: mistral: the same foreign id is rewritten the same way in every request (deterministic)
--- requests
[ map { { path => '/v1/chat/completions', json => { model => 'mi-ok', messages => [
    { role => 'user', content => 'q' },
    { role => 'assistant', content => undef, tool_calls => [ { id => 'call_same_id_1', type => 'function', function => { name => 'f', arguments => '{}' } } ] },
    { role => 'tool', tool_call_id => 'call_same_id_1', content => 'r' }, { role => 'user', content => "turn $_" } ] },
    expect => { error_code => 200 } } } 1 .. 2 ]
--- check
sub {
    my $t = shift;
    my @r = @{$t->mock_requests};
    my @ids = map { $_->{json}{messages}[1]{tool_calls}[0]{id} } @r;
    $t->ok(@ids == 2 && $ids[0] =~ /^[a-zA-Z0-9]{9}$/ && $ids[0] eq $ids[1], "same rewritten id twice", "got @ids");
}


=== TEST 4: mistral: an empty assistant turn is dropped (Mistral rejects it)
--- request
POST /v1/chat/completions
{"model":"mi-ok","messages":[{"role":"user","content":"a"},{"role":"assistant","content":""},{"role":"user","content":"b"}]}
--- error_code: 200
--- mock_request_json
{ messages => [ { role => 'user', content => 'a' }, { role => 'user', content => 'b' } ] }


=== TEST 5: mistral: tool call answer: content "" -> null, Mistral's id kept, finish tool_calls
--- request
POST /v1/chat/completions
{"model":"mi-tools","messages":[{"role":"user","content":"2+2?"}],"tools":[{"type":"function","function":{"name":"calc","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls', message => { content => undef,
    tool_calls => [ { id => qr/^[a-zA-Z0-9]{9}$/, type => 'function', function => { name => 'calc', arguments => '{"city":"Paris","query":"2+2?"}' } } ] } } ] }


=== TEST 6: mistral: finish model_length -> length; num_cached_tokens -> prompt_tokens_details.cached_tokens
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-length', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'length' } ] } } },
  { path => '/v1/chat/completions', json => { model => 'mi-cached', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200, response_json => { usage => { prompt_tokens => 8, prompt_tokens_details => { cached_tokens => 5 }, num_cached_tokens => absent() } } } } ]


=== TEST 7: mistral stream (split): no stream_options upstream; usage from the finish chunk shown as one usage chunk
--- request
POST /v1/chat/completions
{"model":"mi-ok-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"héllo 你好 🌍"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍', finish_reason => 'stop', done => 1, usage_chunk => 1, usage_null => 1,
  usage => { prompt_tokens => 10, completion_tokens => 5, total_tokens => 15 },
  chunks => { object => 'chat.completion.chunk', model => 'mi-ok-split', id => qr/^chatcmpl-/ } }
--- mock_request_json
{ stream => JSON::PP::true, stream_options => absent() }


=== TEST 8: mistral stream without include_usage: no usage anywhere; model_length -> length
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-ok', stream => JSON::PP::true, messages => [ { role => 'user', content => 'plain' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: plain', finish_reason => 'stop', usage_chunk => 0, no_usage => 1 } } },
  { path => '/v1/chat/completions', json => { model => 'mi-length', stream => JSON::PP::true, messages => [ { role => 'user', content => 'l' } ] },
    expect => { error_code => 200, stream_check => { finish_reason => 'length', done => 1 } } } ]


=== TEST 9: mistral streamed tool call (whole in one delta, split upstream)
--- request
POST /v1/chat/completions
{"model":"mi-tools-split","stream":true,"messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  tool_calls => [ { id => qr/^[a-zA-Z0-9]{9}$/, type => 'function', function => { name => 'locate', arguments => '{"city":"Paris","query":"où?"}' } } ] }


=== TEST 10: mistral unbuffered stream; mid-stream failure and a cut both end in an error event
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-slow-release', stream => JSON::PP::true, messages => [ { role => 'user', content => 'wait for it' } ] },
    release_on => qr/"content"\s*:\s*"echo: "/, timeout => 8,
    expect => { error_code => 200, stream_check => { content => 'echo: wait for it', finish_reason => 'stop' } } },
  { path => '/v1/chat/completions', json => { model => 'mi-stream-error', stream => JSON::PP::true, messages => [ { role => 'user', content => 'abcdef' } ] },
    expect => { error_code => 200, stream_check => { error_event => 1, content_like => qr/^echo: / } } },
  { path => '/v1/chat/completions', json => { model => 'mi-stream-cut', stream => JSON::PP::true, messages => [ { role => 'user', content => 'abcdef' } ] },
    timeout => 8, expect => { error_code => 200, stream_check => { error_event => 1, allow_truncated => 1 } } } ]


=== TEST 11: mistral 422 (FastAPI detail) -> 400 invalid_request_error, param = last loc element, message = msg
--- request
POST /v1/chat/completions
{"model":"mi-err-422","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', param => 'temperature', message => qr/less than or equal to 1\.5/ }


=== TEST 12: mistral prompt too long (400) -> 400 context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"mi-err-400-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => 'context_length_exceeded', message => qr/maximum context length/ }


=== TEST 13: mistral 401 / 404 / 429 (+Retry-After) / 500 / 503
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-err-401', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 401, openai_error => { type => 'authentication_error', code => 'invalid_api_key' } } },
  { path => '/v1/chat/completions', json => { model => 'mi-err-404', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 404, openai_error => { code => 'model_not_found' } } },
  { path => '/v1/chat/completions', json => { model => 'mi-err-429', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 429, openai_error => { code => 'rate_limit_exceeded' }, response_headers => "Retry-After: 5" } },
  { path => '/v1/chat/completions', json => { model => 'mi-err-500', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'mi-err-503', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 503, openai_error => { type => 'server_error' } } } ]


=== TEST 14: mistral: params with no Mistral counterpart -> 400 naming them; drop_params drops them
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-ok', modalities => ['text'], messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'modalities' } } },
  { path => '/v1/chat/completions', json => { model => 'mi-drop', modalities => ['text'], logit_bias => { 1 => 1 }, store => JSON::PP::true, messages => [ { role => 'user', content => 'y' } ] },
    expect => { error_code => 200 } } ]
--- mock_request_count: 1
--- mock_request_json
{ modalities => absent(), logit_bias => absent(), store => absent() }


=== TEST 15: groq: pass-through request; x_groq removed and usage reduced to the three counts
--- request
POST /v1/chat/completions
{"model":"gq-ok","messages":[{"role":"user","content":"Hi"}],"temperature":0,"max_completion_tokens":16,"seed":3,"user":"u-9","logprobs":false}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 200
--- response_json
{ object => 'chat.completion', model => 'gq-ok', x_groq => absent(),
  choices => [ { finish_reason => 'stop', message => { role => 'assistant', content => 'echo: Hi', refusal => undef } } ],
  usage => { prompt_tokens => 8, completion_tokens => 3, total_tokens => 11, queue_time => absent(), total_time => absent() } }
--- mock_request
{ path => '/groq/openai/v1/chat/completions', provider => 'groq' }
--- mock_request_json
{ model => 'mock-ok', temperature => 0, seed => 3, user => 'u-9', logprobs => absent(), stream_options => absent(),
  messages => [ { role => 'user', content => 'Hi' } ] }
--- mock_request_headers
Authorization: Bearer gsk_groq_yaml_key_4
--- no_error_log
gsk_groq_yaml_key_4


=== TEST 16: groq stream without include_usage: include_usage asked upstream anyway, shown to nobody; x_groq stripped
--- request
POST /v1/chat/completions
{"model":"gq-ok-split","stream":true,"messages":[{"role":"user","content":"héllo 你好 🌍"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍', finish_reason => 'stop', done => 1, usage_chunk => 0, no_usage => 1,
  chunks => { x_groq => absent(), model => 'gq-ok-split' } }
--- mock_request_json
{ stream => JSON::PP::true, stream_options => { include_usage => JSON::PP::true } }


=== TEST 17: groq stream with include_usage: exactly one usage chunk although Groq reports usage twice
--- request
POST /v1/chat/completions
{"model":"gq-ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 9, completion_tokens => 4, total_tokens => 13, queue_time => absent() },
  chunks => { x_groq => absent() } }


=== TEST 18: groq streamed tool call; unbuffered stream; mid-stream error event
--- requests
[ { path => '/v1/chat/completions', json => { model => 'gq-tools', stream => JSON::PP::true, messages => [ { role => 'user', content => 'w?' } ],
      tools => [ { type => 'function', function => { name => 'get_weather', parameters => { type => 'object' } } } ] },
    expect => { error_code => 200, stream_check => { finish_reason => 'tool_calls',
      tool_calls => [ { id => qr/^call_/, type => 'function', function => { name => 'get_weather', arguments => '{"city":"Paris","query":"w?"}' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'gq-slow-release', stream => JSON::PP::true, messages => [ { role => 'user', content => 'wait for it' } ] },
    release_on => qr/"content"\s*:\s*"echo: "/, timeout => 8,
    expect => { error_code => 200, stream_check => { content => 'echo: wait for it', finish_reason => 'stop' } } },
  { path => '/v1/chat/completions', json => { model => 'gq-stream-error', stream => JSON::PP::true, messages => [ { role => 'user', content => 'abcdef' } ] },
    expect => { error_code => 200, stream_check => { error_event => { message => qr/middle of the stream/ }, content_like => qr/^echo: / } } } ]


=== TEST 19: groq: logprobs / logit_bias / top_logprobs / n != 1 / messages[].name -> 400 naming them, nothing sent upstream
--- requests
[ map { my ($extra, $param) = @$_; { path => '/v1/chat/completions',
    json => { model => 'gq-ok', messages => [ { role => 'user', content => 'x' } ], %$extra },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => $param, message => qr/\Q$param\E|name/ } } } }
  [ { logprobs => JSON::PP::true }, 'logprobs' ],
  [ { logit_bias => { 50256 => -100 } }, 'logit_bias' ],
  [ { top_logprobs => 2 }, 'top_logprobs' ],
  [ { n => 2 }, 'n' ] ]
--- mock_request_count: 0


=== TEST 20: groq: a message "name" -> 400 unless drop_params
--- request
POST /v1/chat/completions
{"model":"gq-ok","messages":[{"role":"user","name":"bob","content":"Hi"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/name/ }
--- mock_request_count: 0


=== TEST 21: groq with drop_params: true: all of them dropped, the request goes through (n: 1 is harmless anyway)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'gq-drop', logprobs => JSON::PP::true, top_logprobs => 2, logit_bias => { 1 => 1 }, n => 2,
      messages => [ { role => 'user', name => 'bob', content => 'Hi' } ] }, expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'gq-ok', n => 1, messages => [ { role => 'user', content => 'n1' } ] }, expect => { error_code => 200 } } ]
--- mock_request_json
[ { logprobs => absent(), top_logprobs => absent(), logit_bias => absent(), n => absent(), messages => [ { role => 'user', name => absent(), content => 'Hi' } ] },
  { n => absent() } ]


=== TEST 22: groq 498 (flex capacity) -> 503 overloaded
--- request
POST /v1/chat/completions
{"model":"gq-err-498","messages":[{"role":"user","content":"x"}]}
--- error_code: 503
--- openai_error
{ type => 'server_error', code => 'overloaded', message => qr/capacity/ }


=== TEST 23: groq 429 -> 429 with Retry-After copied; 401; 404; 500 -> 502; context 400; 413
--- requests
[ { path => '/v1/chat/completions', json => { model => 'gq-err-429', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 429, openai_error => { code => 'rate_limit_exceeded' }, response_headers => "Retry-After: 2" } },
  { path => '/v1/chat/completions', json => { model => 'gq-err-401', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 401, openai_error => { type => 'authentication_error' } } },
  { path => '/v1/chat/completions', json => { model => 'gq-err-404', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 404, openai_error => { code => 'model_not_found' } } },
  { path => '/v1/chat/completions', json => { model => 'gq-err-500', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'gq-err-400-context', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { code => 'context_length_exceeded' } } },
  { path => '/v1/chat/completions', json => { model => 'gq-err-413', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 413, openai_error => { message => qr/Request too large/ } } } ]


=== TEST 24: mistral reasoning model: content chunks joined into a string, thinking -> reasoning_content (and in a stream)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'mi-think', messages => [ { role => 'user', content => 'pi' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: pi', reasoning_content => 'thinking about pi' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'mi-think-split', stream => JSON::PP::true, messages => [ { role => 'user', content => 'pi' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: pi', finish_reason => 'stop', done => 1,
      code => sub { my ($ev, $r, $t) = @_;
        my $rc = join '', map { my $d = $_->{json} && $_->{json}{choices} && $_->{json}{choices}[0] ? $_->{json}{choices}[0]{delta} : undef;
                                ref $d eq 'HASH' && defined $d->{reasoning_content} && !ref $d->{reasoning_content} ? $d->{reasoning_content} : '' } @$ev;
        my @arr = grep { my $d = $_->{json} && $_->{json}{choices} && $_->{json}{choices}[0] ? $_->{json}{choices}[0]{delta} : undef; ref $d eq 'HASH' && ref $d->{content} } @$ev;
        LlmTest::_ok($t, !@arr, "no delta.content is an array");
        LlmTest::_ok($t, $rc eq 'thinking about pi', "streamed reasoning_content", "got: $rc") } } } } ]


=== TEST 25: mistral 422 in the older wrapped form {"object":"error","message":{"detail":[...]}} still gives the client Mistral's reason
--- request
POST /v1/chat/completions
{"model":"mi-err-422-wrapped","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/Extra inputs are not permitted/ }


=== TEST 26: mistral api_base without /v1 (LiteLLM appends it) -> /mistral/v1/chat/completions
--- request
POST /v1/chat/completions
{"model":"mi-no-v1","messages":[{"role":"user","content":"v1?"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: v1?"}}]}
--- mock_request
{ path => '/mistral/v1/chat/completions' }


=== TEST 27: mistral without api_key: no Authorization header sent, Mistral's 401 -> 401
--- request
POST /v1/chat/completions
{"model":"mi-nokey","messages":[{"role":"user","content":"x"}]}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 401
--- openai_error
{ type => 'authentication_error' }
--- mock_request_headers
!Authorization


=== TEST 28: groq usage only in x_groq (no top-level usage chunk upstream) -> still one usage chunk for an include_usage client
--- request
POST /v1/chat/completions
{"model":"gq-xgroq-only","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, done => 1, usage => { prompt_tokens => 9, completion_tokens => 4, total_tokens => 13 },
  chunks => { x_groq => absent() } }


=== TEST 29: official Mistral and Groq SDKs (and openai) -> mocks directly (the mocks are faithful)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-mistral-groq.test.mjs');
    $t->ok($rc == 0, "node --test mock-mistral-groq.test.mjs exits 0 (got $rc)");
}


=== TEST 30: groq's x-request-id and x-ratelimit-* headers reach the client, as LiteLLM returns them
--- request
POST /v1/chat/completions
{"model":"gq-ok","messages":[{"role":"user","content":"limits"}]}
--- error_code: 200
--- response_headers_like
X-Request-Id: ^req_01mock[0-9a-f]{18}$
X-Ratelimit-Limit-Requests: ^14400$
X-Ratelimit-Limit-Tokens: ^6000$
X-Ratelimit-Remaining-Requests: ^14399$
X-Ratelimit-Remaining-Tokens: ^5900$
X-Ratelimit-Reset-Requests: ^6s$
X-Ratelimit-Reset-Tokens: ^1s$
--- response_json
{"object":"chat.completion","choices":[{"message":{"content":"echo: limits"}}]}


=== TEST 31: ... and on a stream
--- request
POST /v1/chat/completions
{"model":"gq-ok-split","stream":true,"messages":[{"role":"user","content":"limits"}]}
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
X-Request-Id: ^req_01mock[0-9a-f]{18}$
X-Ratelimit-Remaining-Requests: ^14399$
X-Ratelimit-Reset-Tokens: ^1s$
--- stream_check
{ content => 'echo: limits', done => 1 }
