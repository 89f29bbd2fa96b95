# Ollama through the gateway: ollama/ and ollama_chat/ both reach the native
# /api/chat (NDJSON) and /api/embed of the mock (t/mock/providers/ollama.js).
# Checks the request mapping on what the mock received, the response and
# stream mapping, error mapping and the Authorization rules; the last two
# blocks run the official `ollama` SDK against the mock and the `openai` SDK
# through the gateway (t/sdk/mock-ollama.test.mjs, gateway-ollama.test.mjs).
use LlmTest;
use IPC::Run ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

my @olm = qw(ok ok-split tools tools-split tools2 think slow-release stream-error
    stream-cut stream-eof err-404 err-500 err-429 err-context err-400);
set_default(models => join('', map { <<"EOF" } @olm) . <<'EOF');
- model_name: ol-$_
  litellm_params:
    model: ollama/mock-$_
    api_base: \$MOCK_URL
EOF
- model_name: olc-ok
  litellm_params:
    model: ollama_chat/mock-ok
    api_base: $MOCK_URL/some/prefix
- model_name: olc-tools
  litellm_params:
    model: ollama_chat/mock-tools
    api_base: $MOCK_URL
- model_name: ol-keyed
  litellm_params:
    model: ollama/mock-ok
    api_base: $MOCK_URL
    api_key: sk-ollama-cloud-key-12
- model_name: ol-tagged
  litellm_params:
    model: ollama_chat/llama3.2:3b
    api_base: $MOCK_URL
- model_name: ol-defaults
  litellm_params:
    model: ollama/mock-ok
    api_base: $MOCK_URL
    temperature: 0.4
    max_tokens: 99
    num_ctx: 4096
- model_name: ol-drop
  litellm_params:
    model: ollama/mock-ok
    api_base: $MOCK_URL
    drop_params: true
- model_name: ol-slash
  litellm_params:
    model: ollama_chat/mock-ok
    api_base: $MOCK_URL/
- model_name: ol-embed
  litellm_params:
    model: ollama/nomic-embed-text
    api_base: $MOCK_URL
  model_info:
    mode: embedding
EOF

# node --test on the given files with extra environment (as in t/50-sdk.t);
# returns node's exit status
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/ollama") {
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/ollama") {
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

=== TEST 1: ollama/ -> POST /api/chat, "stream": false said explicitly, sampling params under options, no key no Authorization
--- request
POST /v1/chat/completions
{"model":"ol-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}],"max_tokens":64,"temperature":0.2,"top_p":0.9,"seed":42,"stop":"END","frequency_penalty":0.1,"presence_penalty":0.3}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- response_json
{ object => 'chat.completion', id => qr/^chatcmpl-/, model => 'ol-ok', created => qr/^\d+$/,
  choices => [ { index => 0, finish_reason => 'stop', logprobs => undef,
                 message => { role => 'assistant', content => 'echo: hello there' } } ],
  usage => { prompt_tokens => 15, completion_tokens => 4, total_tokens => 19 } }
--- mock_request
{ method => 'POST', path => '/api/chat', provider => 'ollama' }
--- mock_request_json
{ model => 'mock-ok', stream => JSON::PP::false,
  messages => [ { role => 'system', content => 'be brief' }, { role => 'user', content => 'hello there' } ],
  options => { num_predict => 64, temperature => 0.2, top_p => 0.9, seed => 42, stop => ['END'],
               frequency_penalty => 0.1, presence_penalty => 0.3 },
  max_tokens => absent(), temperature => absent(), top_p => absent(), seed => absent(), stop => absent(),
  frequency_penalty => absent(), presence_penalty => absent(), n => absent() }
--- mock_request_headers
!Authorization
Content-Type ~ ^application/json
--- no_error_log
sk-client-side-secret


=== TEST 2: ollama_chat/ -> the same /api/chat, below the api_base path; max_completion_tokens wins over max_tokens
--- request
POST /v1/chat/completions
{"model":"olc-ok","messages":[{"role":"user","content":"chat prefix"}],"max_tokens":10,"max_completion_tokens":20,"stop":["a","b"]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: chat prefix"},"finish_reason":"stop"}]}
--- mock_request
{ path => '/some/prefix/api/chat' }
--- mock_request_json
{ model => 'mock-ok', stream => JSON::PP::false, options => { num_predict => 20, stop => ['a','b'] } }


=== TEST 3: the model id keeps its :tag; no options object when nothing maps there
--- request
POST /v1/chat/completions
{"model":"ol-tagged","messages":[{"role":"user","content":"t"}]}
--- error_code: 200
--- response_json
{ model => 'ol-tagged', choices => [ { message => { content => 'echo: t' } } ] }
--- mock_request_json
{ model => 'llama3.2:3b', stream => JSON::PP::false, options => absent() }


=== TEST 4: deployment defaults land in options too (num_ctx, temperature, num_predict)
--- request
POST /v1/chat/completions
{"model":"ol-defaults","messages":[{"role":"user","content":"d"}],"temperature":0.8}
--- error_code: 200
--- mock_request_json
{ options => { temperature => 0.8, num_predict => 99, num_ctx => 4096 }, num_ctx => absent(), temperature => absent() }


=== TEST 5: response_format json_object -> format "json"; json_schema -> format <schema>
--- requests
[ { path => '/v1/chat/completions', json => { model => 'ol-ok', response_format => { type => 'json_object' }, messages => [ { role => 'user', content => 'j' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => '{"echo":"j"}' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'ol-ok', messages => [ { role => 'user', content => 's' } ],
      response_format => { type => 'json_schema', json_schema => { name => 'x', schema => { type => 'object', properties => { echo => { type => 'string' } } } } } },
    expect => { error_code => 200 } } ]
--- mock_request_json
[ { format => 'json', response_format => absent() },
  { format => { type => 'object', properties => { echo => { type => 'string' } } }, response_format => absent() } ]


=== TEST 6: content parts joined into one string; a data: URL image -> images: [bare base64]; developer -> system
--- request
POST /v1/chat/completions
{"model":"ol-ok","messages":[{"role":"developer","content":"dev says"},{"role":"user","content":[{"type":"text","text":"what is "},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"text","text":"this? 你好"}]}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: what is this? 你好"}}]}
--- mock_request_json
{ messages => [ { role => 'system', content => 'dev says' },
                { role => 'user', content => 'what is this? 你好', images => ['iVBORw0KGgo='] } ] }


=== TEST 7: an http(s) image URL cannot go to Ollama -> 400 before any upstream request
--- request
POST /v1/chat/completions
{"model":"ol-ok","messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"https://example.com/cat.png"}}]}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/image/i }
--- mock_request_count: 0


=== TEST 8: tool round trip: assistant arguments string -> OBJECT, tool result gets tool_name from the earlier call id
--- request
POST /v1/chat/completions
{"model":"olc-ok","messages":[
 {"role":"user","content":"weather in Paris and Tokyo?"},
 {"role":"assistant","content":null,"tool_calls":[
   {"id":"call_aaa","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
   {"id":"call_bbb","type":"function","function":{"name":"get_time","arguments":"{\"tz\":\"Asia/Tokyo\"}"}}]},
 {"role":"tool","tool_call_id":"call_bbb","content":"09:00"},
 {"role":"tool","tool_call_id":"call_aaa","content":"22C"},
 {"role":"user","content":"thanks"}],
 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
          {"type":"function","function":{"name":"get_time","parameters":{"type":"object"}}}],
 "tool_choice":"auto"}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: thanks"}}]}
--- mock_request_json
{ tool_choice => absent(),
  tools => [ { type => 'function', function => { name => 'get_weather' } }, { type => 'function', function => { name => 'get_time' } } ],
  messages => [
    { role => 'user' },
    { role => 'assistant', content => '', tool_calls => [
        { function => { name => 'get_weather', arguments => { city => 'Paris' } } },
        { function => { name => 'get_time', arguments => { tz => 'Asia/Tokyo' } } } ] },
    { role => 'tool', tool_name => 'get_time', content => '09:00' },
    { role => 'tool', tool_name => 'get_weather', content => '22C' },
    { role => 'user', content => 'thanks' } ] }


=== TEST 9: tool call answer (no id from Ollama): id minted, arguments a JSON string, content null, finish tool_calls
--- request
POST /v1/chat/completions
{"model":"ol-tools","messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls',
    message => { role => 'assistant', content => undef,
      tool_calls => [ { id => qr/^call_[A-Za-z0-9]+$/, type => 'function',
                        function => { name => 'locate', arguments => sub { my $a = JSON::PP->new->decode($_[0]); $a->{city} eq 'Paris' && $a->{query} eq "o\x{f9}?" } } } ] } } ] }
--- mock_request_json
{ stream => JSON::PP::false, tools => [ { function => { name => 'locate' } } ] }


=== TEST 10: two tool calls in one answer: two distinct minted ids
--- request
POST /v1/chat/completions
{"model":"ol-tools2","messages":[{"role":"user","content":"two"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}
--- error_code: 200
--- check
sub {
    my $t = shift;
    my $j = JSON::PP->new->decode($t->responses->[-1]{body});
    my $calls = $j->{choices}[0]{message}{tool_calls};
    $t->ok(ref $calls eq 'ARRAY' && @$calls == 2, "two tool calls");
    $t->ok($calls->[0]{id} && $calls->[1]{id} && $calls->[0]{id} ne $calls->[1]{id}, "distinct ids", "got $calls->[0]{id} $calls->[1]{id}");
    $t->ok($calls->[1]{function}{name} eq 'b' && $calls->[1]{function}{arguments} eq '{"city":"Tokyo","query":"two"}', "second call", JSON::PP->new->canonical->encode($calls));
}


=== TEST 11: num_predict reached (done_reason length) -> finish_reason length
--- request
POST /v1/chat/completions
{"model":"ol-ok","max_tokens":3,"messages":[{"role":"user","content":"one two three four"}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'length', message => { content => 'echo: one' } } ], usage => { completion_tokens => 3 } }
--- mock_request_json
{"options":{"num_predict":3}}


=== TEST 12: thinking -> reasoning_content (also streamed); reasoning_effort -> think ("none" -> false)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'ol-think', reasoning_effort => 'low', messages => [ { role => 'user', content => 'pi' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: pi', reasoning_content => 'thinking about pi' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'ol-think', stream => JSON::PP::true, reasoning_effort => 'none', messages => [ { role => 'user', content => 'pi' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: pi', finish_reason => 'stop', done => 1,
      code => sub { my ($ev, $r, $t) = @_;
        my $rc = join '', map { my $c = $_->{json}; my $d = $c && $c->{choices} && $c->{choices}[0] ? $c->{choices}[0]{delta} : undef;
                                ref $d eq 'HASH' && defined $d->{reasoning_content} ? $d->{reasoning_content} : '' } @$ev;
        LlmTest::_ok($t, $rc eq 'thinking about pi', "streamed reasoning_content", "got: $rc") } } } } ]
--- mock_request_json
[ { think => 'low', reasoning_effort => absent() }, { think => JSON::PP::false, reasoning_effort => absent() } ]


=== TEST 13: stream: NDJSON split at awkward bytes -> OpenAI SSE; upstream asked with stream true
--- request
POST /v1/chat/completions
{"model":"ol-ok-split","stream":true,"messages":[{"role":"user","content":"héllo 你好 🌍 — ça va ñ"}]}
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => 'echo: héllo 你好 🌍 — ça va ñ', finish_reason => 'stop', done => 1, usage_chunk => 0, no_usage => 1,
  chunks => { object => 'chat.completion.chunk', model => 'ol-ok-split', id => qr/^chatcmpl-/ },
  first_chunk => { choices => [ { index => 0, delta => { role => 'assistant', content => '' } } ] } }
--- mock_request
{ path => '/api/chat' }
--- mock_request_json
{ stream => JSON::PP::true, stream_options => absent() }


=== TEST 14: stream with include_usage: usage from prompt_eval_count / eval_count in one last chunk
--- request
POST /v1/chat/completions
{"model":"ol-ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 9, completion_tokens => 4, total_tokens => 13 } }
--- mock_request_json
{ stream => JSON::PP::true, stream_options => absent() }


=== TEST 15: streamed tool call (whole in one NDJSON line, split upstream): minted id, arguments as one JSON string
--- request
POST /v1/chat/completions
{"model":"ol-tools-split","stream":true,"messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  tool_calls => [ { id => qr/^call_[A-Za-z0-9]+$/, type => 'function', function => { name => 'locate', arguments => '{"city":"Paris","query":"où?"}' } } ] }


=== TEST 16: stream finish length when num_predict cuts the reply
--- request
POST /v1/chat/completions
{"model":"ol-ok","stream":true,"max_completion_tokens":2,"messages":[{"role":"user","content":"a b c d"}]}
--- stream_check
{ content => 'echo:', finish_reason => 'length', done => 1 }
--- mock_request_json
{"options":{"num_predict":2}}


=== TEST 17: unbuffered: the first NDJSON line reaches the client while Ollama holds the rest
--- request
POST /v1/chat/completions
{"model":"ol-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 18: {"error": ...} line mid-stream -> an OpenAI error event keeping Ollama's text
--- request
POST /v1/chat/completions
{"model":"ol-stream-error","stream":true,"messages":[{"role":"user","content":"abcdef"}]}
--- error_code: 200
--- stream_check
{ error_event => { message => qr/llama runner process has terminated/ }, content_like => qr/^echo: / }


=== TEST 19: connection reset mid-stream -> an error event, no hang
--- request
POST /v1/chat/completions
{"model":"ol-stream-cut","stream":true,"messages":[{"role":"user","content":"abcdef"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1 }


=== TEST 20: body ends without the "done": true line -> an error event
--- request
POST /v1/chat/completions
{"model":"ol-stream-eof","stream":true,"messages":[{"role":"user","content":"abcdef"}]}
--- error_code: 200
--- stream_check
{ error_event => 1, content_like => qr/^echo: / }


=== TEST 21: Ollama 404 (model not found) -> 404 model_not_found, Ollama's text kept
--- request
POST /v1/chat/completions
{"model":"ol-err-404","messages":[{"role":"user","content":"x"}]}
--- error_code: 404
--- openai_error
{ type => 'invalid_request_error', code => 'model_not_found', message => qr/model "mock-err-404" not found/ }


=== TEST 22: Ollama 404 on a streaming request is still a JSON 404 (nothing was sent yet)
--- request
POST /v1/chat/completions
{"model":"ol-err-404","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 404
--- openai_error
{ code => 'model_not_found' }


=== TEST 23: Ollama 500 -> 502 server_error
--- request
POST /v1/chat/completions
{"model":"ol-err-500","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{ type => 'server_error', message => qr/llama runner/ }


=== TEST 24: Ollama 429 -> 429 rate_limit_exceeded, Retry-After passed through
--- request
POST /v1/chat/completions
{"model":"ol-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{ type => 'rate_limit_error', code => 'rate_limit_exceeded' }
--- response_headers
Retry-After: 3


=== TEST 25: Ollama 400 -> 400 invalid_request_error
--- request
POST /v1/chat/completions
{"model":"ol-err-400","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', message => qr/mock-err-400/ }


=== TEST 26: "input length exceeds the context length" (a 500 from Ollama) -> 400 context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"ol-err-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ code => 'context_length_exceeded' }


=== TEST 27: api_key set (ollama.com) -> Authorization: Bearer <key>, never the client's
--- request
POST /v1/chat/completions
{"model":"ol-keyed","messages":[{"role":"user","content":"k"}]}
--- more_headers
Authorization: Bearer sk-client-side-secret
--- error_code: 200
--- mock_request_headers
Authorization: Bearer sk-ollama-cloud-key-12
--- no_error_log
sk-ollama-cloud-key-12


=== TEST 28: params Ollama cannot honour: n>1 / logprobs -> 400 naming them (no upstream request)
--- requests
[ { path => '/v1/chat/completions', json => { model => 'ol-ok', n => 2, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { param => 'n', type => 'invalid_request_error' } } },
  { path => '/v1/chat/completions', json => { model => 'ol-ok', logprobs => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { param => 'logprobs' } } } ]
--- mock_request_count: 0


=== TEST 29: drop_params: true drops them instead; n: 1 and tool_choice auto are harmless anyway
--- requests
[ { path => '/v1/chat/completions', json => { model => 'ol-drop', n => 2, logprobs => JSON::PP::true, logit_bias => { 1 => 1 }, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200 } },
  { path => '/v1/chat/completions', json => { model => 'ol-ok', n => 1, tool_choice => 'auto', messages => [ { role => 'user', content => 'y' } ] },
    expect => { error_code => 200 } } ]
--- mock_request_json
[ { n => absent(), logprobs => absent(), logit_bias => absent() },
  { n => absent(), tool_choice => absent(), model => 'mock-ok' } ]


=== TEST 30: /v1/embeddings -> POST /api/embed (see also t/14-embeddings.t)
--- request
POST /v1/embeddings
{"model":"ol-embed","input":["héllo","world"],"dimensions":4}
--- error_code: 200
--- response_json
{ object => 'list', model => 'ol-embed', usage => { prompt_tokens => 2, total_tokens => 2 },
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } },
            { object => 'embedding', index => 1, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } } ] }
--- mock_request
{ path => '/api/embed' }
--- mock_request_json
{ model => 'nomic-embed-text', input => ['héllo','world'], dimensions => 4, encoding_format => absent() }


=== TEST 31: api_base with a trailing slash -> /api/chat, not //api/chat
--- request
POST /v1/chat/completions
{"model":"ol-slash","messages":[{"role":"user","content":"slash"}]}
--- error_code: 200
--- mock_request
{ path => '/api/chat' }


=== TEST 32: non-streaming: a body cut short or a reset connection -> 502 JSON
--- requests
[ { path => '/v1/chat/completions', json => { model => 'ol-stream-eof', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } },
  { path => '/v1/chat/completions', json => { model => 'ol-stream-cut', messages => [ { role => 'user', content => 'x' } ] },
    timeout => 8, expect => { error_code => 502, openai_error => {} } } ]


=== TEST 33: official ollama SDK -> mock directly (the mock is faithful)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-ollama.test.mjs');
    $t->ok($rc == 0, "node --test mock-ollama.test.mjs exits 0 (got $rc)");
}


=== TEST 34: openai SDK -> gateway -> Ollama mock (t/sdk/gateway-ollama.test.mjs)
--- models
- model_name: ollama-mock
  litellm_params:
    model: ollama/mock-ok
    api_base: $MOCK_URL
- model_name: ollama-chat-split
  litellm_params:
    model: ollama_chat/mock-ok-split
    api_base: $MOCK_URL
- model_name: ollama-tools
  litellm_params:
    model: ollama_chat/mock-tools-split
    api_base: $MOCK_URL
- model_name: ollama-404
  litellm_params:
    model: ollama/mock-err-404
    api_base: $MOCK_URL
- model_name: ollama-embed
  litellm_params:
    model: ollama/nomic-embed-text
    api_base: $MOCK_URL
  model_info:
    mode: embedding
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-ollama.test.mjs');
    $t->ok($rc == 0, "node --test gateway-ollama.test.mjs exits 0 (got $rc)");
}
