# Cohere v2 through the gateway (/work/shared/providers/cohere.md): the
# OpenAI request mapped to /v2/chat and /v2/embed (checked on what the mock
# received; the mock also refuses any field Cohere does not know with 422,
# as Cohere does), the response, stream and error mapping back to OpenAI,
# drop_params, and the official SDKs (cohere-ai against the mock, openai
# against the gateway).
use LlmTest;
use IPC::Run ();
use MIME::Base64 ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

my @mocks = qw(ok ok-split tools tools2-split think cached finish-error finish-timeout slow-release stream-error stream-cut
               err-400 err-400-context err-401 err-402 err-404 err-422 err-429 err-500 err-503);
set_default(models => join('', map { <<"EOF" } @mocks) . <<'EOF');
- model_name: co-$_
  litellm_params:
    model: cohere/mock-$_
    api_base: \$MOCK_URL
    api_key: co-yaml-key-11
EOF
- model_name: co-chat-prefix
  litellm_params:
    model: cohere_chat/mock-ok
    api_base: $MOCK_URL/cohere
    api_key: co-yaml-key-11
- model_name: co-defaults
  litellm_params:
    model: cohere/mock-ok
    api_base: $MOCK_URL
    api_key: co-yaml-key-11
    temperature: 0.5
    top_p: 0.8
    max_tokens: 50
- model_name: co-drop
  litellm_params:
    model: cohere/mock-ok
    api_base: $MOCK_URL
    api_key: co-yaml-key-11
    drop_params: true
- model_name: co-embed
  litellm_params:
    model: cohere/embed-v4.0
    api_base: $MOCK_URL
    api_key: co-yaml-key-11
  model_info:
    mode: embedding
EOF

# Runs node --test on the given files in t/sdk with extra environment,
# streaming its output as TAP comments; returns node's exit status.
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/cohere-ai" && -d "$SDK_DIR/node_modules/openai") {
        print STDERR "# npm ci in $SDK_DIR\n";
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/cohere-ai") {
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

# the float32 little-endian vector packed in an OpenAI base64 embedding
sub unpack_b64 { [ unpack 'f<*', MIME::Base64::decode_base64($_[0]) ] }

run_tests();

__DATA__

=== TEST 1: chat: /v2/chat with the configured key (never the client's), mapped answer, usage from usage.tokens
--- request
POST /v1/chat/completions
{"model":"co-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}
--- more_headers
Authorization: Bearer sk-client-own-secret-11
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- response_json
{ object => 'chat.completion', id => qr/^chatcmpl-/, created => qr/^\d+$/, model => 'co-ok',
  choices => [ { index => 0, finish_reason => 'stop',
                 message => { role => 'assistant', content => 'echo: hello there', tool_calls => absent() } } ],
  usage => { prompt_tokens => 484, completion_tokens => 6, total_tokens => 490 } }
--- mock_request
{ method => 'POST', path => '/v2/chat', provider => 'cohere', route => 'chat' }
--- mock_request_json
{ model => 'mock-ok', stream => absent(),
  messages => [ { role => 'system', content => 'be brief' }, { role => 'user', content => 'hello there' } ] }
--- mock_request_headers
Authorization: Bearer co-yaml-key-11
Content-Type ~ ^application/json
Accept ~ application/json
--- mock_request_count: 1
--- no_error_log
co-yaml-key-11
sk-client-own-secret-11


=== TEST 2: cohere_chat/ prefix and an api_base with a path both reach /v2/chat
--- request
POST /v1/chat/completions
{"model":"co-chat-prefix","messages":[{"role":"user","content":"prefixed"}]}
--- error_code: 200
--- response_json
{ choices => [ { message => { content => 'echo: prefixed' }, finish_reason => 'stop' } ] }
--- mock_request
{ path => '/cohere/v2/chat' }
--- mock_request_json
{ model => 'mock-ok' }


=== TEST 3: request mapping: roles, parts, assistant tool_calls + tool result in history, tools, renamed and clamped parameters
--- request
POST /v1/chat/completions
{"model":"co-ok",
 "messages":[
   {"role":"system","content":"Be brief."},
   {"role":"developer","content":[{"type":"text","text":"dev rules"}]},
   {"role":"user","name":"bob","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://example.com/a.png","detail":"low"}}]},
   {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_def","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Oslo\"}"}}]},
   {"role":"tool","tool_call_id":"call_abc","content":"{\"temp\":21}"},
   {"role":"tool","tool_call_id":"call_def","content":[{"type":"text","text":"{\"temp\":3}"}]},
   {"role":"assistant","content":"It is 21."},
   {"role":"user","content":"and tomorrow?"}],
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}}],
 "tool_choice":"required",
 "top_p":0.9,"top_k":40,"stop":"###","max_completion_tokens":200,"temperature":1.7,"frequency_penalty":-1,"presence_penalty":0.5,"seed":42,
 "n":1,"user":"end-user-1","parallel_tool_calls":false,"store":false,"metadata":{"a":"b"},
 "response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object","properties":{"t":{"type":"number"}}}}}}
--- error_code: 200
--- response_json
{ choices => [ { message => { content => 'echo: and tomorrow?' }, finish_reason => 'stop' } ] }
--- mock_request_json
{ model => 'mock-ok',
  messages => [
    { role => 'system', content => 'Be brief.' },
    { role => 'system', content => [ { type => 'text', text => 'dev rules' } ] },
    { role => 'user', name => absent(), content => [ { type => 'text', text => 'look' },
                                  { type => 'image_url', image_url => { url => 'https://example.com/a.png', detail => 'low' } } ] },
    { role => 'assistant', content => absent(),
      tool_calls => [ { id => 'call_abc', type => 'function', function => { name => 'get_weather', arguments => '{"city":"Paris"}' } },
                      { id => 'call_def', type => 'function', function => { name => 'get_weather', arguments => '{"city":"Oslo"}' } } ] },
    { role => 'tool', tool_call_id => 'call_abc', content => '{"temp":21}' },
    { role => 'tool', tool_call_id => 'call_def', content => [ { type => 'text', text => '{"temp":3}' } ] },
    { role => 'assistant', content => 'It is 21.' },
    { role => 'user', content => 'and tomorrow?' } ],
  tools => [ { type => 'function', function => { name => 'get_weather', description => 'Weather', strict => absent(),
               parameters => { type => 'object', properties => { city => { type => 'string' } }, required => ['city'] } } } ],
  tool_choice => 'REQUIRED',
  p => 0.9, top_p => absent(), k => 40, top_k => absent(),
  stop_sequences => ['###'], stop => absent(),
  max_tokens => 200, max_completion_tokens => absent(),
  temperature => 1, frequency_penalty => 0, presence_penalty => 0.5, seed => 42,
  response_format => { type => 'json_object', json_schema => { type => 'object', properties => { t => { type => 'number' } } } },
  n => absent(), user => absent(), parallel_tool_calls => absent(), store => absent(), metadata => absent(),
  stream => absent(), stream_options => absent() }


=== TEST 4: tool_choice: none -> NONE, auto -> omitted, a named function -> that tool only + REQUIRED; a tool without parameters gets some
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-ok', tool_choice => 'none',
    messages => [ { role => 'user', content => 'a' } ],
    tools => [ { type => 'function', function => { name => 'f1', parameters => { type => 'object' } } },
               { type => 'function', function => { name => 'f2', parameters => { type => 'object' } } } ] },
    expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'co-ok', tool_choice => 'auto',
    messages => [ { role => 'user', content => 'b' } ],
    tools => [ { type => 'function', function => { name => 'f1', parameters => { type => 'object' } } } ] },
    expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'co-ok', tool_choice => { type => 'function', function => { name => 'f2' } },
    messages => [ { role => 'user', content => 'c' } ],
    tools => [ { type => 'function', function => { name => 'f1', parameters => { type => 'object' } } },
               { type => 'function', function => { name => 'f2', parameters => { type => 'object' } } } ] },
    expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'co-ok', messages => [ { role => 'user', content => 'd' } ],
    tools => [ { type => 'function', function => { name => 'noparams', description => 'no schema' } } ] },
    expect => { error_code => 200 } } ]
--- mock_request_json
[ { tool_choice => 'NONE', tools => [ { function => { name => 'f1' } }, { function => { name => 'f2' } } ] },
  { tool_choice => absent(), tools => [ { function => { name => 'f1' } } ] },
  { tool_choice => 'REQUIRED', tools => [ { type => 'function', function => { name => 'f2', parameters => { type => 'object' } } } ] },
  { tools => [ { type => 'function', function => { name => 'noparams', parameters => { type => 'object' } } } ] } ]
--- mock_request_count: 4


=== TEST 5: litellm_params defaults are mapped too (top_p -> p); the client's values win, also under another name
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-defaults', temperature => 0.1, messages => [ { role => 'user', content => 'defaults' } ] },
    expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'co-defaults', top_p => 0.3, max_completion_tokens => 10, stream => JSON::PP::false,
                                              messages => [ { role => 'user', content => 'override' } ] },
    expect => { error_code => 200 } } ]
--- mock_request_json
[ { temperature => 0.1, p => 0.8, top_p => absent(), max_tokens => 50 },
  { temperature => 0.5, p => 0.3, top_p => absent(), max_tokens => 10, max_completion_tokens => absent(), stream => absent() } ]


=== TEST 5b: reasoning_effort -> thinking {type, token_budget}
--- request
POST /v1/chat/completions
{"model":"co-ok","reasoning_effort":"low","messages":[{"role":"user","content":"think"}]}
--- error_code: 200
--- mock_request_json
{ thinking => { type => 'enabled', token_budget => 1024 }, reasoning_effort => absent() }


=== TEST 6: tool call answer: content null, tool_calls copied (Cohere's id), finish TOOL_CALL -> tool_calls, tool_plan not in content
--- request
POST /v1/chat/completions
{"model":"co-tools","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls',
    message => { role => 'assistant', content => undef,
      tool_calls => [ { id => qr/^get_weather_mock\d+x0$/, type => 'function',
                        function => { name => 'get_weather', arguments => '{"city":"Paris","query":"weather?"}' } } ] } } ],
  usage => { prompt_tokens => sub { $_[0] > 480 }, completion_tokens => sub { $_[0] > 2 } } }
--- response_body_unlike
I will look this up


=== TEST 7: finish_reason MAX_TOKENS -> length (max_tokens cuts the answer)
--- request
POST /v1/chat/completions
{"model":"co-ok","max_tokens":3,"messages":[{"role":"user","content":"one two three four"}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'length', message => { content => 'echo: one' } } ] }
--- mock_request_json
{ max_tokens => 3 }


=== TEST 8: finish_reason STOP_SEQUENCE -> stop
--- request
POST /v1/chat/completions
{"model":"co-ok","stop":["###","@@"],"messages":[{"role":"user","content":"alpha ### beta"}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'stop', message => { content => 'echo: alpha ' } } ] }
--- mock_request_json
{ stop_sequences => ['###', '@@'] }


=== TEST 9: a thinking item never lands in content (stream or not)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-think', messages => [ { role => 'user', content => 'hm' } ] },
    expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'stop', message => { content => 'echo: hm' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'co-think', stream => JSON::PP::true, messages => [ { role => 'user', content => 'hm' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: hm', finish_reason => 'stop', done => 1 } } } ]
--- response_body_unlike
The user wants an echo.*"content"


=== TEST 9b: usage.cached_tokens -> prompt_tokens_details.cached_tokens (stream or not)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-cached', messages => [ { role => 'user', content => 'cache me' } ] },
    expect => { error_code => 200, response_json => { usage => { prompt_tokens => 482, completion_tokens => 6, total_tokens => 488,
                                                                 prompt_tokens_details => { cached_tokens => 400 } } } } },
  { path => '/v1/chat/completions', json => { model => 'co-cached', stream => JSON::PP::true, stream_options => { include_usage => JSON::PP::true },
                                              messages => [ { role => 'user', content => 'cache me' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: cache me', usage_chunk => 1,
                usage => { prompt_tokens => 482, completion_tokens => 6, prompt_tokens_details => { cached_tokens => 400 } } } } } ]


=== TEST 9c: finish_reason ERROR / TIMEOUT: an error, not a normal answer (stream or not)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-finish-error', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'co-finish-timeout', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 504, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'co-finish-error', stream => JSON::PP::true, messages => [ { role => 'user', content => 'x y' } ] },
    expect => { error_code => 200, stream_check => { error_event => { type => 'server_error' }, content_like => qr/^echo/ } } },
  { path => '/v1/chat/completions', json => { model => 'co-finish-timeout', stream => JSON::PP::true, messages => [ { role => 'user', content => 'x y' } ] },
    expect => { error_code => 200, stream_check => { error_event => 1 } } } ]


=== TEST 10: stream: OpenAI chunks from Cohere's named events, [DONE], no usage unless asked
--- request
POST /v1/chat/completions
{"model":"co-ok","stream":true,"messages":[{"role":"user","content":"stream please"}]}
--- more_headers
Authorization: Bearer sk-client-stream-secret-11
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => 'echo: stream please', finish_reason => 'stop', done => 1, usage_chunk => 0, no_usage => 1,
  chunks => { object => 'chat.completion.chunk', id => qr/^chatcmpl-/, model => 'co-ok', created => qr/^\d+$/ },
  first_chunk => { choices => [ { index => 0, delta => { role => 'assistant' } } ] } }
--- response_body_unlike
event:
content-delta
--- check
sub {
    my $t = shift;
    # README section 5: role chunk, content chunks, finish chunk (delta {}), [DONE]
    my @ev = @{ LlmTest::parse_sse($t->response->{body}) };
    my @c = map { $_->{json} } grep { !$_->{done} } @ev;
    my $js = JSON::PP->new->canonical;
    my @d = map { $js->encode($_->{choices}[0]{delta}) . ' ' . ($_->{choices}[0]{finish_reason} // 'null') } @c;
    $t->ok(@ev && $ev[-1]{done}, 'ends with [DONE]');
    $t->ok(@d >= 3 && $d[0] eq '{"content":"","role":"assistant"} null', 'first chunk: role assistant, content ""', "got: @d[0..0]");
    $t->ok(@d >= 3 && $d[-1] eq '{} stop', 'last chunk: delta {} and finish_reason stop', "got: $d[-1]");
    my @mid = @d[1 .. $#d - 1];
    $t->ok(@mid && !grep({ !/^\{"content":"[^"]*"\} null$/ } @mid), 'middle chunks: content only, finish_reason null', join("\n", @mid));
}
=== TEST 11: stream include_usage: usage null on every chunk, then one usage chunk, integer counts (Cohere sent 482.0)
--- request
POST /v1/chat/completions
{"model":"co-ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', finish_reason => 'stop', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 482, completion_tokens => 6, total_tokens => 488 } }
--- response_body_like
"prompt_tokens":482[,}]
--- response_body_unlike
"prompt_tokens":482\.
--- mock_request_json
{ stream => JSON::PP::true, stream_options => absent() }


=== TEST 12: stream split at awkward byte boundaries (mid-line, mid-UTF-8): same result
--- request
POST /v1/chat/completions
{"model":"co-ok-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"héllo 你好 🌍 — ça va ñ"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍 — ça va ñ', finish_reason => 'stop', done => 1, usage_chunk => 1,
  usage => { prompt_tokens => 487, completion_tokens => 11, total_tokens => 498 } }


=== TEST 13: streamed tool calls (two, split upstream): start chunk with id/name, argument fragments, finish tool_calls, no tool_plan text
--- request
POST /v1/chat/completions
{"model":"co-tools2-split","stream":true,"messages":[{"role":"user","content":"où? \"q\""}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}},{"type":"function","function":{"name":"clock","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, content => '',
  tool_calls => [ { id => qr/^locate_mock\d+x0$/, type => 'function', function => { name => 'locate', arguments => '{"city":"Paris","query":"où? \"q\""}' } },
                  { id => qr/^clock_mock\d+x1$/, type => 'function', function => { name => 'clock', arguments => '{"city":"Tokyo","query":"où? \"q\""}' } } ] }
--- response_body_unlike
look this up
--- check
sub {
    my $t = shift;
    my @ev = @{ LlmTest::parse_sse($t->response->{body}) };
    my @tc = map { @{ $_->{json}{choices}[0]{delta}{tool_calls} || [] } }
             grep { ref $_->{json} eq 'HASH' && ref $_->{json}{choices} eq 'ARRAY' && @{$_->{json}{choices}} } @ev;
    my @starts = grep { defined $_->{id} } @tc;
    $t->ok(@starts == 2 && $starts[0]{index} == 0 && $starts[1]{index} == 1, 'one start chunk per call, indexes 0 and 1',
           JSON::PP->new->canonical->encode(\@starts));
    $t->ok((grep { defined $_->{function}{name} && $_->{type} eq 'function' && ($_->{function}{arguments} // 'x') eq '' } @starts) == 2,
           'start chunks carry type, name and empty arguments');
    $t->ok(@tc - @starts > 10, 'arguments arrive as many fragments', scalar(@tc));
}


=== TEST 14: unbuffered: the first content event reaches the client while Cohere still holds the rest
--- request
POST /v1/chat/completions
{"model":"co-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 15: stream: MAX_TOKENS -> finish_reason length
--- request
POST /v1/chat/completions
{"model":"co-ok","stream":true,"max_completion_tokens":2,"messages":[{"role":"user","content":"a b c d"}]}
--- error_code: 200
--- stream_check
{ content => 'echo:', finish_reason => 'length', done => 1 }
--- mock_request_json
{ max_tokens => 2, max_completion_tokens => absent() }


=== TEST 16: 429 -> 429 rate_limit_error, Retry-After passed through, Cohere's message kept
--- request
POST /v1/chat/completions
{"model":"co-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- response_headers
Retry-After: 7
--- openai_error
{ type => 'rate_limit_error', code => 'rate_limit_exceeded', message => qr/per minute request limit/ }


=== TEST 17: 429 on a stream request is still a JSON error (nothing was sent yet)
--- request
POST /v1/chat/completions
{"model":"co-err-429","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- response_headers
Retry-After: 7
--- openai_error
{ type => 'rate_limit_error' }


=== TEST 18: 401 -> 401 authentication_error invalid_api_key
--- request
POST /v1/chat/completions
{"model":"co-err-401","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', code => 'invalid_api_key', message => qr/invalid api token/ }
--- no_error_log
co-yaml-key-11


=== TEST 19: 400 "too many tokens" -> 400 context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"co-err-400-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => 'context_length_exceeded', message => qr/too many tokens/ }


=== TEST 20: other 400 -> 400 invalid_request_error, not context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"co-err-400","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => sub { !defined $_[0] || $_[0] ne 'context_length_exceeded' }, message => qr/invalid request/ }


=== TEST 21: 402 billing -> 429 insufficient_quota
--- request
POST /v1/chat/completions
{"model":"co-err-402","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{ type => 'insufficient_quota', code => 'insufficient_quota', message => qr/payment method/ }


=== TEST 22: 404 -> 404 model_not_found; 422 -> 400; 500 -> 502; 503 -> 503
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-err-404', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 404, openai_error => { code => 'model_not_found', message => qr/not found/ } } },
  { path => '/v1/chat/completions', json => { model => 'co-err-422', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', message => qr/unknown field/ } } },
  { path => '/v1/chat/completions', json => { model => 'co-err-500', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'co-err-503', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 503, openai_error => { type => 'server_error' } } } ]


=== TEST 23: mid-stream failure (message-end with finish ERROR and delta.error) -> an error event, no finish stop
--- request
POST /v1/chat/completions
{"model":"co-stream-error","stream":true,"messages":[{"role":"user","content":"xyz abc"}]}
--- error_code: 200
--- stream_check
{ error_event => { message => qr/the model failed while generating/ }, content_like => qr/^echo/ }
--- response_body_unlike
"finish_reason":"stop"


=== TEST 24: Cohere connection cut mid-stream -> the stream ends with an error event, no hang
--- request
POST /v1/chat/completions
{"model":"co-stream-cut","stream":true,"messages":[{"role":"user","content":"xyz abc"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1, content_like => qr/^echo/ }


=== TEST 25: non-stream: Cohere 500 -> 502; Cohere cut mid-body -> 502
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-stream-error', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => {} } },
  { path => '/v1/chat/completions', json => { model => 'co-stream-cut', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => {} } } ]


=== TEST 26: embeddings, string input: /v2/embed with texts, input_type, embedding_types float; usage from meta.billed_units
--- request
POST /v1/embeddings
{"model":"co-embed","input":"hello embeddings world"}
--- error_code: 200
--- response_json
{ object => 'list', model => 'co-embed',
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 8 } } ],
  usage => { prompt_tokens => 3, total_tokens => 3 } }
--- mock_request
{ path => '/v2/embed', route => 'embed' }
--- mock_request_json
{ model => 'embed-v4.0', texts => ['hello embeddings world'], input_type => 'search_document', embedding_types => ['float'],
  input => absent(), encoding_format => absent() }
--- mock_request_headers
Authorization: Bearer co-yaml-key-11


=== TEST 27: embeddings, array input, float and base64 decode to the same vectors, dimensions -> output_dimension
--- requests
[ { path => '/v1/embeddings', json => { model => 'co-embed', input => ['a', 'b c', 'ñ 你好'], encoding_format => 'float' },
    expect => { error_code => 200, response_json => { data => [ { index => 0 }, { index => 1 }, { index => 2 } ], usage => { prompt_tokens => 5 } } } },
  { path => '/v1/embeddings', json => { model => 'co-embed', input => ['a', 'b c', 'ñ 你好'], encoding_format => 'base64' },
    expect => { error_code => 200, response_json => { data => [ { embedding => qr/^[A-Za-z0-9+\/]+=*$/ }, { index => 1 }, { index => 2 } ] } } },
  { path => '/v1/embeddings', json => { model => 'co-embed', input => ['d'], dimensions => 256, input_type => 'search_query' },
    expect => { error_code => 200, response_json => { data => [ { embedding => sub { @{$_[0]} == 256 } } ] } } } ]
--- mock_request_json
[ { texts => ['a', 'b c', 'ñ 你好'], embedding_types => ['float'] },
  { texts => ['a', 'b c', 'ñ 你好'], embedding_types => ['float'], encoding_format => absent() },
  { texts => ['d'], output_dimension => 256, dimensions => absent(), input_type => 'search_query' } ]
--- check
sub {
    my $t = shift;
    my $js = JSON::PP->new->utf8;
    my $f = $js->decode($t->response(0)->{body});
    my $b = $js->decode($t->response(1)->{body});
    my @same = grep {
        my $x = main::unpack_b64($b->{data}[$_]{embedding});
        my $y = $f->{data}[$_]{embedding};
        @$y == 8 && @$x == @$y && !grep { $x->[$_] != $y->[$_] } 0 .. $#$y
    } 0 .. 2;
    $t->ok(@same == 3, 'base64 embeddings decode to the float ones');
}


=== TEST 28: embeddings: token-array input and a bad encoding_format are refused before Cohere
--- requests
[ { path => '/v1/embeddings', json => { model => 'co-embed', input => [[1, 2, 3]] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'input' } } },
  { path => '/v1/embeddings', json => { model => 'co-embed', input => 'x', encoding_format => 'int8' },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error' } } } ]
--- mock_request_count: 0


=== TEST 29: an unsupported parameter (logit_bias, top_logprobs) is a 400 without drop_params; nothing reaches Cohere
--- requests
[ { path => '/v1/chat/completions', json => { model => 'co-ok', logit_bias => { '50256' => -100 }, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'logit_bias', message => qr/drop_params/ } } },
  { path => '/v1/chat/completions', json => { model => 'co-ok', top_logprobs => 2, logprobs => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { param => 'top_logprobs' } } },
  { path => '/v1/chat/completions', json => { model => 'co-ok', n => 2, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { param => 'n' } } } ]
--- mock_request_count: 0


=== TEST 30: drop_params: true in litellm_params drops them; the rest goes through
--- request
POST /v1/chat/completions
{"model":"co-drop","logit_bias":{"50256":-100},"top_logprobs":2,"logprobs":true,"n":1,"messages":[{"role":"user","content":"dropped"}]}
--- error_code: 200
--- response_json
{ choices => [ { message => { content => 'echo: dropped' } } ] }
--- mock_request_json
{ logit_bias => absent(), top_logprobs => absent(), n => absent(), logprobs => JSON::PP::true }


=== TEST 31: drop_params: true in litellm_settings (config.yaml form) drops them too
--- models
model_list:
  - model_name: co-ok
    litellm_params:
      model: cohere/mock-ok
      api_base: $MOCK_URL
      api_key: co-yaml-key-11
litellm_settings:
  drop_params: true
--- request
POST /v1/chat/completions
{"model":"co-ok","logit_bias":{"1":1},"messages":[{"role":"user","content":"settings"}]}
--- error_code: 200
--- response_json
{ choices => [ { message => { content => 'echo: settings' } } ] }
--- mock_request_json
{ logit_bias => absent() }


=== TEST 32: no api_key in the yaml: COHERE_API_KEY from the environment is used
--- models
- model_name: co-env
  litellm_params:
    model: cohere/mock-ok
    api_base: $MOCK_URL
--- main_config
env COHERE_API_KEY;
--- env
COHERE_API_KEY=co-env-key-32
--- request
POST /v1/chat/completions
{"model":"co-env","messages":[{"role":"user","content":"env"}]}
--- error_code: 200
--- mock_request_headers
Authorization: Bearer co-env-key-32


=== TEST 32b: no api_key and no COHERE_API_KEY: 401 authentication_error, no Authorization invented
--- models
- model_name: co-nokey
  litellm_params:
    model: cohere/mock-ok
    api_base: $MOCK_URL
--- env
!COHERE_API_KEY
--- request
POST /v1/chat/completions
{"model":"co-nokey","messages":[{"role":"user","content":"x"}]}
--- more_headers
Authorization: Bearer sk-client-nokey-secret
--- error_code: 401
--- openai_error
{ type => 'authentication_error' }
--- check
sub {
    my $t = shift;
    my @leak = grep { ($_->{headers}{authorization} // '') ne '' } @{ $t->mock_requests };
    $t->ok(!@leak, 'no Authorization header went upstream', map { $_->{headers}{authorization} } @leak);
}
--- no_error_log
sk-client-nokey-secret


=== TEST 33: cohere-ai SDK -> the Cohere mock directly (the mock is faithful)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-cohere.test.mjs');
    $t->ok($rc == 0, "node --test mock-cohere.test.mjs exits 0 (got $rc)");
}


=== TEST 34: openai SDK -> gateway -> Cohere mock
--- models
- model_name: co-sdk
  litellm_params:
    model: cohere/mock-ok
    api_base: $MOCK_URL
    api_key: co-sdk-upstream-key-11
- model_name: co-sdk-chat
  litellm_params:
    model: cohere_chat/mock-ok-split
    api_base: $MOCK_URL
    api_key: co-sdk-upstream-key-11
- model_name: co-sdk-tools
  litellm_params:
    model: cohere/mock-tools-split
    api_base: $MOCK_URL
    api_key: co-sdk-upstream-key-11
- model_name: co-sdk-429
  litellm_params:
    model: cohere/mock-err-429
    api_base: $MOCK_URL
    api_key: co-sdk-upstream-key-11
- model_name: co-sdk-embed
  litellm_params:
    model: cohere/embed-v4.0
    api_base: $MOCK_URL
    api_key: co-sdk-upstream-key-11
  model_info:
    mode: embedding
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-cohere.test.mjs');
    $t->ok($rc == 0, "node --test gateway-cohere.test.mjs exits 0 (got $rc)");
}
--- no_error_log
co-sdk-upstream-key-11
sk-anything-client-side
