# Anthropic (Messages API) through the gateway: request mapping checked on
# what the Anthropic mock received (the mock also validates every request
# the way the API does and answers 400 to a bad translation), response and
# stream mapping, errors, drop_params, api_base; then the official SDKs:
# @anthropic-ai/sdk against the mock alone, and openai against the gateway.
#
# The mock is t/mock/providers/anthropic.js (scenarios by upstream model id).
# Its usage: input_tokens = 3 + words(system) + sum(4 + words(message))
# (+ 2 per tool_result/tool_use, + 20 per tool), cache_creation 20,
# cache_read 300; output_tokens = words of the text.
use LlmTest;
use IPC::Run ();

my @names = qw(ok ok-split tools tools-split tools2 tools2-split long thinking slow-release
    stream-error stream-cut stream-eof garbage
    err-400 err-400-context err-401 err-402 err-403 err-404 err-413 err-429 err-500 err-504 err-529
    stop-refusal stop-pause_turn stop-max_tokens stop-stop_sequence stop-model_context_window_exceeded
    stop-some_new_reason);
set_default(models => join '', map { <<"EOF" } @names);
- model_name: c-$_
  litellm_params:
    model: anthropic/mock-$_
    api_base: \$MOCK_URL
    api_key: sk-ant-yaml-key-10
EOF

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

# node --test on t/sdk files (as t/50-sdk.t does), its output as TAP
# comments; returns node's exit status.
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/openai" && -d "$SDK_DIR/node_modules/\@anthropic-ai/sdk") {
        print STDERR "# npm ci in $SDK_DIR\n";
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/\@anthropic-ai/sdk") {
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

# One letter per SSE event, for checking the exact shape of a stream:
#   R  role chunk: delta exactly {"role":"assistant","content":""}
#   C  content chunk: delta exactly {"content": non-empty string}
#   S<k> tool call start: delta {"tool_calls":[{index:k, id, type:"function",
#      function:{name, arguments:""}}]} and nothing else
#   A<k> arguments fragment: delta {"tool_calls":[{index:k, function:
#      {arguments: non-empty}}]} and nothing else
#   F  finish chunk: delta {} with finish_reason set
#   U  usage chunk: choices [] and a usage object
#   E  error event, D  data: [DONE], X  anything else
sub kind {
    my ($ev) = @_;
    return 'D' if $ev->{done};
    my $j = $ev->{json};
    return 'X' unless ref $j eq 'HASH';
    return 'E' if exists $j->{error};
    my $ch = $j->{choices};
    return 'X' unless ref $ch eq 'ARRAY' && ($j->{object} // '') eq 'chat.completion.chunk';
    return (ref $j->{usage} eq 'HASH' ? 'U' : 'X') unless @$ch;
    return 'X' if @$ch != 1 || ($ch->[0]{index} // -1) != 0;
    my ($d, $f) = ($ch->[0]{delta}, $ch->[0]{finish_reason});
    return 'X' unless ref $d eq 'HASH';
    my $keys = join ' ', sort keys %$d;
    return $keys eq '' ? 'F' : 'X' if defined $f;
    return 'R' if $keys eq 'content role' && $d->{role} eq 'assistant' && defined $d->{content} && $d->{content} eq '';
    return 'C' if $keys eq 'content' && defined $d->{content} && !ref $d->{content} && length $d->{content};
    if ($keys eq 'tool_calls' && ref $d->{tool_calls} eq 'ARRAY' && @{$d->{tool_calls}} == 1) {
        my $tc = $d->{tool_calls}[0];
        my $tk = join ' ', sort keys %$tc;
        my $fk = ref $tc->{function} eq 'HASH' ? join(' ', sort keys %{$tc->{function}}) : '';
        return "S$tc->{index}" if $tk eq 'function id index type' && $tc->{type} eq 'function'
            && $fk eq 'arguments name' && length($tc->{function}{name}) && $tc->{function}{arguments} eq ''
            && length $tc->{id};
        return "A$tc->{index}" if $tk eq 'function index' && $fk eq 'arguments'
            && !ref $tc->{function}{arguments} && length $tc->{function}{arguments};
    }
    return 'X';
}

# stream_check code: the event kinds, run-length squeezed ("R C C C F D" ->
# "R C+ F D"), must equal $want; the events are shown when they do not
sub shape {
    my ($want) = @_;
    return sub {
        my ($ev, $r, $t) = @_;
        my @k = map { kind($_) } @$ev;
        my @sq;
        for my $k (@k) {
            if (@sq && ($sq[-1] eq $k || $sq[-1] eq "$k+")) { $sq[-1] = "$k+" }
            else { push @sq, $k }
        }
        my $got = join ' ', @sq;
        t_ok($t, $got eq $want, "stream shape '$want'", "got: $got",
            map { kind($_) . "  " . substr($_->{data} // '', 0, 200) } @$ev);
    };
}

# the chunks of a response with the per-request parts (id, created, tool
# call ids) blanked, for comparing two streams
sub normalized {
    my ($r) = @_;
    my @out;
    for my $e (@{$r->{events} || []}) {
        my $j = $e->{json};
        if (ref $j eq 'HASH') {
            $j = JSON::PP->new->decode(JSON::PP->new->encode($j));
            delete @$j{qw(id created model)};
            for my $c (@{$j->{choices} || []}) {
                for my $tc (@{ref $c->{delta} eq 'HASH' && $c->{delta}{tool_calls} || []}) {
                    $tc->{id} = 'ID' if exists $tc->{id};
                }
            }
        }
        push @out, $e->{done} ? '[DONE]' : $j;
    }
    return JSON::PP->new->canonical->encode(\@out);
}

# a check from a stream_check code sub (given the harness's raw block
# state) or from a --- check sub (given an LlmTest::Ctx)
sub t_ok {
    my ($t, @rest) = @_;
    return Scalar::Util::blessed($t) ? $t->ok(@rest) : LlmTest::_ok($t, @rest);
}

run_tests();

__DATA__

=== TEST 1: request mapping: /v1/messages, x-api-key from the yaml (never the client's), anthropic-version, system extracted, default max_tokens
--- request
POST /v1/chat/completions
{"model":"c-ok","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there"}]}
--- more_headers
Authorization: Bearer sk-client-own-secret-10
X-Api-Key: sk-client-xkey-secret-10
--- error_code: 200
--- response_headers_like
Content-Type: ^application/json
--- mock_request
{ method => 'POST', path => '/v1/messages', provider => 'anthropic', route => 'messages' }
--- mock_request_headers
x-api-key: sk-ant-yaml-key-10
anthropic-version: 2023-06-01
!Authorization
Content-Type ~ ^application/json
Host: 127.0.0.1:$MOCK_PORT
--- mock_request_json
{ model => 'mock-ok', max_tokens => 4096, system => 'be brief',
  messages => [ { role => 'user', content => 'hello there' } ],
  stream => absent(), temperature => absent(), tools => absent(), tool_choice => absent(), metadata => absent() }
--- mock_request_count: 1
--- response_json
{ object => 'chat.completion', id => qr/\S/, created => qr/^\d+$/, model => 'c-ok',
  choices => [ { index => 0, finish_reason => 'stop', logprobs => undef,
                 message => { role => 'assistant', content => 'echo: hello there', tool_calls => absent() } } ],
  usage => { prompt_tokens => 331, completion_tokens => 4, total_tokens => 335,
             prompt_tokens_details => { cached_tokens => 300 } } }
--- no_error_log
sk-ant-yaml-key-10
sk-client-own-secret-10
sk-client-xkey-secret-10


=== TEST 2: system + developer messages join into one system string; max_completion_tokens wins over max_tokens; sampling, stop, user; messages[].name not sent
--- request
POST /v1/chat/completions
{"model":"c-ok","max_tokens":20,"max_completion_tokens":50,"temperature":0.3,"top_p":0.9,"stop":"END","user":"u-42","n":1,"logprobs":false,
 "messages":[{"role":"system","content":"one"},{"role":"developer","content":"two"},{"role":"user","content":"hi","name":"alice"}]}
--- error_code: 200
--- mock_request_json
{ max_tokens => 50, system => "one\ntwo", temperature => 0.3, top_p => 0.9, stop_sequences => ['END'],
  metadata => { user_id => 'u-42' }, n => absent(), logprobs => absent(), max_completion_tokens => absent(), user => absent(),
  stop => absent(), messages => [ { role => 'user', content => 'hi' } ] }
--- response_json
{"choices":[{"message":{"content":"echo: hi"},"finish_reason":"stop"}]}


=== TEST 3: max_tokens alone maps; temperature above Anthropic's 1 is clamped; stop list -> stop_sequences
--- request
POST /v1/chat/completions
{"model":"c-ok","max_tokens":33,"temperature":1.7,"stop":["END","STOP"],"messages":[{"role":"user","content":"hi"}]}
--- error_code: 200
--- mock_request_json
{ max_tokens => 33, temperature => 1, stop_sequences => ['END', 'STOP'] }


=== TEST 3b: whitespace-only stop sequences (the API refuses them: "each stop sequence must contain non-whitespace") are left out, as LiteLLM does
--- requests
[ { path => '/v1/chat/completions', json => { model => 'c-ok', stop => ["\n\n", 'END', ' '], messages => [ { role => 'user', content => 'hi' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: hi' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'c-ok', stop => "\n", messages => [ { role => 'user', content => 'hi' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: hi' } } ] } } } ]
--- mock_request_json
[ { stop_sequences => ['END'] }, { stop_sequences => absent() } ]


=== TEST 3c: OpenAI-only fields (metadata map, store, stream_options on a non-stream call, service_tier, prediction) are not sent to Anthropic
--- request
POST /v1/chat/completions
{"model":"c-ok","metadata":{"k":"v"},"store":true,"stream_options":{"include_usage":true},"service_tier":"default","modalities":["text"],"messages":[{"role":"user","content":"only mine"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: only mine"}}]}
--- mock_request_json
{ metadata => absent(), store => absent(), stream_options => absent(), service_tier => absent(), modalities => absent() }


=== TEST 4: system parts with cache_control stay blocks (where cache_control can go)
--- request
POST /v1/chat/completions
{"model":"c-ok","messages":[{"role":"system","content":[{"type":"text","text":"cached sys","cache_control":{"type":"ephemeral"}}]},{"role":"user","content":"hi"}]}
--- error_code: 200
--- mock_request_json
{ system => [ { type => 'text', text => 'cached sys', cache_control => { type => 'ephemeral' } } ] }


=== TEST 5: deployment defaults (max_tokens, temperature) are merged under the request
--- models
- model_name: c-defaults
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL
    api_key: sk-ant-yaml-key-10
    max_tokens: 77
    temperature: 0.5
    rpm: 10
--- requests
["POST /v1/chat/completions\n{\"model\":\"c-defaults\",\"messages\":[{\"role\":\"user\",\"content\":\"d\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"c-defaults\",\"max_tokens\":9,\"temperature\":0.1,\"messages\":[{\"role\":\"user\",\"content\":\"d\"}]}"]
--- error_code: 200
--- mock_request_json
[ { max_tokens => 77, temperature => 0.5, rpm => absent(), api_key => absent() },
  { max_tokens => 9, temperature => 0.1 } ]


=== TEST 6: tools -> {name, description, input_schema}; a tool without parameters gets an empty object schema; tool_choice auto
--- request
POST /v1/chat/completions
{"model":"c-ok","tool_choice":"auto","messages":[{"role":"user","content":"hi"}],
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
          {"type":"function","function":{"name":"now"}}]}
--- error_code: 200
--- mock_request_json
{ tools => [ { name => 'get_weather', description => 'Current weather',
               input_schema => { type => 'object', properties => { city => { type => 'string' } }, required => ['city'] },
               type => absent(), function => absent(), parameters => absent() },
             { name => 'now', input_schema => { type => 'object', properties => {} }, description => absent() } ],
  tool_choice => { type => 'auto' } }


=== TEST 7: tool_choice required -> any, named function -> tool, none -> none; parallel_tool_calls false -> disable_parallel_tool_use
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => 'c-ok', messages => [ { role => 'user', content => 'hi' } ],
      tools => [ { type => 'function', function => { name => 'get_weather', parameters => { type => 'object' } } } ], %$_ },
      expect => { error_code => 200 } } }
  { tool_choice => 'required' },
  { tool_choice => { type => 'function', function => { name => 'get_weather' } } },
  { tool_choice => 'none' },
  { parallel_tool_calls => JSON::PP::false },
  { tool_choice => 'required', parallel_tool_calls => JSON::PP::false } ]
--- mock_request_json
[ { tool_choice => { type => 'any', disable_parallel_tool_use => absent() }, parallel_tool_calls => absent() },
  { tool_choice => { type => 'tool', name => 'get_weather' } },
  { tool_choice => { type => 'none', disable_parallel_tool_use => absent() } },
  { tool_choice => { type => 'auto', disable_parallel_tool_use => JSON::PP::true }, parallel_tool_calls => absent() },
  { tool_choice => { type => 'any', disable_parallel_tool_use => JSON::PP::true } } ]


=== TEST 8: a tool round trip: assistant text + tool_calls -> tool_use blocks (arguments parsed), consecutive tool messages -> ONE user turn of tool_result blocks, a user message after them joins that turn
--- request
POST /v1/chat/completions
{"model":"c-ok","tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}],
 "messages":[
  {"role":"user","content":"Weather in Paris and Tokyo?"},
  {"role":"assistant","content":"Checking both.","tool_calls":[
     {"id":"toolu_01A","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
     {"id":"toolu_01B","type":"function","function":{"name":"get_weather","arguments":"not json"}}]},
  {"role":"tool","tool_call_id":"toolu_01A","content":"18C, sunny"},
  {"role":"tool","tool_call_id":"toolu_01B","content":[{"type":"text","text":"22C"}]},
  {"role":"user","content":"which is warmer?"}]}
--- error_code: 200
--- mock_request_json
{ messages => [
  { role => 'user', content => 'Weather in Paris and Tokyo?' },
  { role => 'assistant', content => [
      { type => 'text', text => 'Checking both.' },
      { type => 'tool_use', id => 'toolu_01A', name => 'get_weather', input => { city => 'Paris' } },
      { type => 'tool_use', id => 'toolu_01B', name => 'get_weather', input => {} } ] },
  { role => 'user', content => [
      { type => 'tool_result', tool_use_id => 'toolu_01A', content => '18C, sunny' },
      { type => 'tool_result', tool_use_id => 'toolu_01B', content => [ { type => 'text', text => '22C' } ] },
      { type => 'text', text => 'which is warmer?' } ] } ] }
--- response_json
{"choices":[{"message":{"content":"echo: which is warmer?"},"finish_reason":"stop"}]}


=== TEST 9: assistant turn with tool_calls only (content null) and the tool result last: the API's pairing rules hold
--- request
POST /v1/chat/completions
{"model":"c-ok","messages":[
  {"role":"user","content":"Weather?"},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_abc-1","type":"function","function":{"name":"get_weather","arguments":"{}"}}]},
  {"role":"tool","tool_call_id":"call_abc-1","content":"rain"}]}
--- error_code: 200
--- mock_request_json
{ messages => [
  { role => 'user', content => 'Weather?' },
  { role => 'assistant', content => [ { type => 'tool_use', id => 'call_abc-1', name => 'get_weather', input => {} } ] },
  { role => 'user', content => [ { type => 'tool_result', tool_use_id => 'call_abc-1', content => 'rain' } ] } ] }
--- response_json
{"choices":[{"message":{"content":"echo: rain"}}]}


=== TEST 10: consecutive user messages merge into one turn (the API wants alternating roles)
--- request
POST /v1/chat/completions
{"model":"c-ok","messages":[{"role":"user","content":"first"},{"role":"user","content":[{"type":"text","text":"second"}]},{"role":"assistant","content":"a1"},{"role":"assistant","content":"a2"},{"role":"user","content":"third"}]}
--- error_code: 200
--- mock_request_json
{ messages => [
  { role => 'user', content => [ { type => 'text', text => 'first' }, { type => 'text', text => 'second' } ] },
  { role => 'assistant', content => [ { type => 'text', text => 'a1' }, { type => 'text', text => 'a2' } ] },
  { role => 'user', content => 'third' } ] }


=== TEST 11: images: data: URL -> base64 source (image/jpg -> image/jpeg), https URL -> url source, detail dropped
--- request
POST /v1/chat/completions
{"model":"c-ok","messages":[{"role":"user","content":[
  {"type":"text","text":"look"},
  {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},
  {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},
  {"type":"image_url","image_url":{"url":"data:image/jpg;base64,/9j/4AAQ"}}]}]}
--- error_code: 200
--- mock_request_json
{ messages => [ { role => 'user', content => [
  { type => 'text', text => 'look' },
  { type => 'image', source => { type => 'base64', media_type => 'image/png', data => 'iVBORw0KGgo=' } },
  { type => 'image', source => { type => 'url', url => 'https://example.com/cat.jpg' } },
  { type => 'image', source => { type => 'base64', media_type => 'image/jpeg', data => '/9j/4AAQ' } } ] } ] }
--- response_json
{"choices":[{"message":{"content":"echo: look"}}]}


=== TEST 12: response mapping: text block + tool_use -> content and tool_calls (arguments a JSON string), finish_reason tool_calls
--- request
POST /v1/chat/completions
{"model":"c-tools","messages":[{"role":"user","content":"weather? ça"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { index => 0, finish_reason => 'tool_calls',
  message => { role => 'assistant', content => 'Let me check.',
    tool_calls => [ { id => qr/^toolu_mock\d+x0$/, type => 'function',
      function => { name => 'get_weather',
        arguments => sub { my $a = eval { JSON::PP->new->utf8(0)->decode($_[0]) }; !ref $_[0] && $a && $a->{city} eq 'Paris' && $a->{query} eq 'weather? ça' && keys(%$a) == 2 } } } ] } } ],
  usage => { prompt_tokens => sub { $_[0] > 320 }, prompt_tokens_details => { cached_tokens => 300 } } }


=== TEST 13: two tool_use blocks -> two tool_calls; no text -> content null
--- request
POST /v1/chat/completions
{"model":"c-tools2","tool_choice":"required","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls', message => { content => undef,
  tool_calls => [ { id => qr/x0$/, function => { name => 'a', arguments => '{"city":"Paris","query":"x"}' } },
                  { id => qr/x1$/, function => { name => 'b', arguments => '{"city":"Tokyo","query":"x"}' } } ] } } ] }


=== TEST 14: finish_reason mapping of every stop_reason
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => "c-stop-$_->[0]", messages => [ { role => 'user', content => 'x' } ] },
           expect => { error_code => 200, response_json => { choices => [ { finish_reason => $_->[1] } ] } } } }
  [ 'refusal', 'content_filter' ], [ 'pause_turn', 'stop' ], [ 'max_tokens', 'length' ], [ 'stop_sequence', 'stop' ],
  [ 'model_context_window_exceeded', 'length' ], [ 'some_new_reason', 'stop' ] ]


=== TEST 14b: finish_reason mapping in streams too (refusal, max_tokens, stop_sequence)
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => "c-stop-$_->[0]", stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
           expect => { error_code => 200, stream_check => { finish_reason => $_->[1], done => 1, content => 'echo: x', code => main::shape('R C+ F D') } } } }
  [ 'refusal', 'content_filter' ], [ 'max_tokens', 'length' ], [ 'stop_sequence', 'stop' ] ]


=== TEST 15: stop -> stop_sequences honoured upstream (stop_reason stop_sequence -> stop); a small max_tokens -> length
--- requests
[ { path => '/v1/chat/completions', json => { model => 'c-ok', stop => 'STOP', messages => [ { role => 'user', content => 'one STOP two' } ] },
    expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'stop', message => { content => 'echo: one ' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'c-ok', max_tokens => 3, messages => [ { role => 'user', content => 'one two three four' } ] },
    expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'length', message => { content => 'echo: one' } } ],
                                                      usage => { completion_tokens => 3 } } } } ]
--- mock_request_json
[ { stop_sequences => ['STOP'] }, { max_tokens => 3 } ]


=== TEST 16: thinking: reasoning_effort -> thinking budget (max_tokens raised above it); thinking -> reasoning_content, never content
--- request
POST /v1/chat/completions
{"model":"c-thinking","reasoning_effort":"low","max_tokens":100,"messages":[{"role":"user","content":"ponder"}]}
--- error_code: 200
--- mock_request_json
{ thinking => { type => 'enabled', budget_tokens => 1024 }, max_tokens => sub { $_[0] > 1024 }, reasoning_effort => absent() }
--- response_json
{ choices => [ { message => { content => 'echo: ponder', reasoning_content => 'The user said "ponder". I will echo it.' } } ] }


=== TEST 17: stream: exact OpenAI chunk sequence (role, content deltas, finish, [DONE]); pings dropped; no usage unless asked
--- request
POST /v1/chat/completions
{"model":"c-ok","stream":true,"messages":[{"role":"user","content":"stream please"}]}
--- more_headers
Authorization: Bearer sk-client-stream-secret-10
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => 'echo: stream please', finish_reason => 'stop', done => 1, usage_chunk => 0, no_usage => 1,
  chunks => { object => 'chat.completion.chunk', model => 'c-ok', id => qr/\S/, created => qr/^\d+$/ },
  code => main::shape('R C+ F D') }
--- mock_request_json
{ model => 'mock-ok', stream => JSON::PP::true, max_tokens => 4096 }
--- mock_request_headers
x-api-key: sk-ant-yaml-key-10
anthropic-version: 2023-06-01
!Authorization
--- no_error_log
sk-ant-yaml-key-10
sk-client-stream-secret-10


=== TEST 18: stream: a split upstream (mid-line, mid-UTF-8) gives exactly the same chunks as a whole one
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => $_, stream => JSON::PP::true, stream_options => { include_usage => JSON::PP::true },
      messages => [ { role => 'user', content => 'héllo 你好 🌍 — ça va ñ' } ] },
      expect => { error_code => 200, stream_check => { content => 'echo: héllo 你好 🌍 — ça va ñ', code => main::shape('R C+ F U D') } } } }
  qw(c-ok c-ok-split) ]
--- check
sub {
    my $t = shift;
    my ($a, $b) = map { main::normalized($t->response($_)) } 0, 1;
    $t->ok($a eq $b, "split and whole streams give the same chunks", "whole: $a", "split: $b");
}


=== TEST 19: stream tool call: text first, then tool start with index 0 (Anthropic block 1), argument fragments, finish tool_calls
--- request
POST /v1/chat/completions
{"model":"c-tools","stream":true,"messages":[{"role":"user","content":"où \"est\" \\ Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, content => 'Let me check.', no_usage => 1,
  tool_calls => [ { id => qr/^toolu_mock\d+x0$/, type => 'function',
    function => { name => 'get_weather', arguments => sub { my $a = eval { JSON::PP->new->decode($_[0]) }; $a && $a->{city} eq 'Paris' && $a->{query} eq 'où "est" \\ Paris?' } } } ],
  code => main::shape('R C+ S0 A0+ F D') }


=== TEST 20: stream, two tool calls, split upstream: indexes 0 and 1, ids kept
--- request
POST /v1/chat/completions
{"model":"c-tools2-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object"}}},{"type":"function","function":{"name":"b","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, usage_chunk => 1, usage_null => 1,
  tool_calls => [ { id => qr/^toolu_mock\d+x0$/, function => { name => 'a', arguments => '{"city":"Paris","query":"x"}' } },
                  { id => qr/^toolu_mock\d+x1$/, function => { name => 'b', arguments => '{"city":"Tokyo","query":"x"}' } } ],
  code => main::shape('R C+ S0 A0+ S1 A1+ F U D') }


=== TEST 21: include_usage: usage null on every chunk, one usage chunk last: input from message_start + output from message_delta, cache reads included
--- request
POST /v1/chat/completions
{"model":"c-ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, usage_null => 1, done => 1, finish_reason => 'stop',
  usage => { prompt_tokens => 329, completion_tokens => 4, total_tokens => 333, prompt_tokens_details => { cached_tokens => 300 } },
  code => main::shape('R C+ F U D') }


=== TEST 22: stream thinking: reasoning_content deltas, never content
--- request
POST /v1/chat/completions
{"model":"c-thinking","stream":true,"reasoning_effort":"low","messages":[{"role":"user","content":"ponder"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: ponder', finish_reason => 'stop', done => 1,
  code => sub {
      my ($ev, $r, $t) = @_;
      my $rc = join '', map { $_->{json}{choices}[0]{delta}{reasoning_content} // '' }
          grep { ref $_->{json} eq 'HASH' && @{$_->{json}{choices} || []} } @$ev;
      main::t_ok($t, $rc eq 'The user said "ponder". I will echo it.', "streamed reasoning_content", "got: $rc");
  } }


=== TEST 23: unbuffered: the first text delta reaches the client while the provider still holds the rest
--- request
POST /v1/chat/completions
{"model":"c-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 24: a long stream (~90 KB) arrives whole
--- request
POST /v1/chat/completions
{"model":"c-long","stream":true,"max_tokens":100000,"messages":[{"role":"user","content":"long"}]}
--- timeout: 20
--- stream_check
{ content => 'echo: long ' . ('lorem ipsum dolor é 你好 🌍 sit amet. ' x 2500), done => 1, code => main::shape('R C+ F D') }


=== TEST 25: mid-stream "event: error" (overloaded_error) -> an OpenAI error event, then the end
--- request
POST /v1/chat/completions
{"model":"c-stream-error","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- stream_check
{ error_event => { type => 'server_error', code => 'overloaded', message => qr/Overloaded/ }, content => 'echo: ',
  code => sub {
      my ($ev, $r, $t) = @_;
      my @k = map { main::kind($_) } @$ev;
      my $s = join ' ', @k;
      main::t_ok($t, $s =~ /^R C C E( D)?$/, "role, two content chunks, the error event, at most [DONE] after it", "got: $s");
  } }


=== TEST 26: upstream connection cut before message_stop -> an error event, no hang, no finish_reason
--- request
POST /v1/chat/completions
{"model":"c-stream-cut","stream":true,"messages":[{"role":"user","content":"x"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => { type => 'server_error' }, allow_truncated => 1, content => 'echo: ',
  code => sub {
      my ($ev, $r, $t) = @_;
      my @f = grep { ref $_->{json} eq 'HASH' && defined(($_->{json}{choices} || [])->[0]{finish_reason}) } @$ev;
      main::t_ok($t, !@f, "no finish chunk");
  } }


=== TEST 27: upstream body ends cleanly without message_stop -> an error event too
--- request
POST /v1/chat/completions
{"model":"c-stream-eof","stream":true,"messages":[{"role":"user","content":"x"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => { type => 'server_error', message => qr/anthropic/ }, allow_truncated => 1 }


=== TEST 28: an upstream error before the stream starts is a plain JSON error with Retry-After
--- request
POST /v1/chat/completions
{"model":"c-err-429","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{"type":"rate_limit_error","code":"rate_limit_exceeded"}
--- response_headers
Retry-After: 7


=== TEST 29: 529 overloaded_error -> 503 server_error code overloaded
--- request
POST /v1/chat/completions
{"model":"c-err-529","messages":[{"role":"user","content":"x"}]}
--- error_code: 503
--- openai_error
{ type => 'server_error', code => 'overloaded', message => qr/Overloaded/ }


=== TEST 30: 429 rate_limit_error -> 429 rate_limit_exceeded, Retry-After passed through
--- request
POST /v1/chat/completions
{"model":"c-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{ type => 'rate_limit_error', code => 'rate_limit_exceeded', message => qr/rate limit/ }
--- response_headers
Retry-After: 7


=== TEST 31: "prompt is too long" -> 400 context_length_exceeded, the provider's text kept
--- request
POST /v1/chat/completions
{"model":"c-err-400-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => 'context_length_exceeded', param => 'messages', message => qr/^anthropic: prompt is too long: 208113 tokens > 200000 maximum$/ }


=== TEST 32: the other upstream errors: 400, 401, 402 billing, 403, 404, 413, 500, 504
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => "c-err-$_->[0]", messages => [ { role => 'user', content => 'x' } ] },
           expect => { error_code => $_->[1], openai_error => $_->[2] } } }
  [ '400', 400, { type => 'invalid_request_error', code => undef, message => qr/^anthropic: max_tokens: 999999/ } ],
  [ '401', 401, { type => 'authentication_error', code => 'invalid_api_key' } ],
  [ '402', 429, { type => 'insufficient_quota', code => 'insufficient_quota', message => qr/credit balance/ } ],
  [ '403', 403, { type => 'permission_error' } ],
  [ '404', 404, { code => 'model_not_found' } ],
  [ '413', 413, { code => 'request_too_large' } ],
  [ '500', 502, { type => 'server_error' } ],
  [ '504', 504, { type => 'server_error', code => 'timeout' } ] ]
--- no_error_log
sk-ant-yaml-key-10


=== TEST 33: a 200 whose body is not JSON -> 502
--- request
POST /v1/chat/completions
{"model":"c-garbage","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{"type":"server_error"}
--- response_body_unlike
this is not JSON


=== TEST 34: drop_params unset: seed, logit_bias, n > 1, frequency_penalty -> 400 naming the param; nothing sent upstream
--- requests
[ map { my ($k, $v) = @$_; +{ path => '/v1/chat/completions', json => { model => 'c-ok', $k => $v, messages => [ { role => 'user', content => 'x' } ] },
           expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => $k, message => qr/\Q$k\E/ } } } }
  [ seed => 7 ], [ logit_bias => { '50256' => -100 } ], [ n => 2 ], [ frequency_penalty => 0.5 ], [ presence_penalty => 0.1 ], [ top_logprobs => 2 ] ]
--- mock_request_count: 0


=== TEST 35: drop_params: true on the model: seed and logit_bias are dropped, the request goes through
--- models
- model_name: c-drop
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL
    api_key: sk-ant-yaml-key-10
    drop_params: true
--- request
POST /v1/chat/completions
{"model":"c-drop","seed":7,"logit_bias":{"50256":-100},"messages":[{"role":"user","content":"dropped"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: dropped"}}]}
--- mock_request_json
{ seed => absent(), logit_bias => absent(), drop_params => absent() }


=== TEST 36: litellm_settings.drop_params: true (config.yaml form) applies to every model; a model's own drop_params: false wins
--- models
model_list:
  - model_name: c-global
    litellm_params:
      model: anthropic/mock-ok
      api_base: $MOCK_URL
      api_key: sk-ant-yaml-key-10
  - model_name: c-strict
    litellm_params:
      model: anthropic/mock-ok
      api_base: $MOCK_URL
      api_key: sk-ant-yaml-key-10
      drop_params: false
litellm_settings:
  drop_params: true
--- requests
[ { path => '/v1/chat/completions', json => { model => 'c-global', seed => 7, messages => [ { role => 'user', content => 'g' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: g' } } ] } } },
  { path => '/v1/chat/completions', json => { model => 'c-strict', seed => 7, messages => [ { role => 'user', content => 's' } ] },
    expect => { error_code => 400, openai_error => { param => 'seed' } } } ]
--- mock_request_count: 1
--- mock_request_json
[ { seed => absent() } ]


=== TEST 37: api_base with a path prefix (and a trailing slash) is kept; an api_base that already ends in /v1/messages is not doubled
--- models
- model_name: c-prefix
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL/anthropic/proxy/
    api_key: sk-ant-yaml-key-10
- model_name: c-full
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL/gw/v1/messages
    api_key: sk-ant-yaml-key-10
--- requests
["POST /v1/chat/completions\n{\"model\":\"c-prefix\",\"messages\":[{\"role\":\"user\",\"content\":\"p\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"c-full\",\"messages\":[{\"role\":\"user\",\"content\":\"f\"}]}"]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: f"}}]}
--- mock_request
[ { path => '/anthropic/proxy/v1/messages', provider => 'anthropic' }, { path => '/gw/v1/messages', provider => 'anthropic' } ]


=== TEST 38: api_base over TLS (llm_ssl_trusted_certificate): SNI and Host are the api_base host
--- http_config
llm_ssl_trusted_certificate $TEST_CA;
--- models
- model_name: c-tls
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_TLS_URL
    api_key: sk-ant-yaml-key-10
--- request
POST /v1/chat/completions
{"model":"c-tls","stream":true,"messages":[{"role":"user","content":"secure"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: secure', done => 1 }
--- mock_request
{ tls => JSON::PP::true, servername => 'localhost', path => '/v1/messages' }
--- mock_request_headers
Host: localhost:$MOCK_TLS_PORT
x-api-key: sk-ant-yaml-key-10


=== TEST 39: api_key from os.environ/NAME; without api_key, ANTHROPIC_API_KEY is the default
--- models
- model_name: c-env
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL
    api_key: os.environ/MY_ANTHROPIC_KEY_10
- model_name: c-default-env
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL
--- env
MY_ANTHROPIC_KEY_10=sk-ant-from-env-10
ANTHROPIC_API_KEY=sk-ant-default-env-10
--- requests
["POST /v1/chat/completions\n{\"model\":\"c-env\",\"messages\":[{\"role\":\"user\",\"content\":\"e\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"c-default-env\",\"messages\":[{\"role\":\"user\",\"content\":\"d\"}]}"]
--- error_code: 200
--- mock_request
[ { headers => { 'x-api-key' => 'sk-ant-from-env-10' } }, { headers => { 'x-api-key' => 'sk-ant-default-env-10' } } ]
--- no_error_log
sk-ant-from-env-10
sk-ant-default-env-10


=== TEST 40: a missing key environment variable -> 401 from the gateway, nothing sent
--- models
- model_name: c-noenv
  litellm_params:
    model: anthropic/mock-ok
    api_base: $MOCK_URL
    api_key: os.environ/NOT_SET_ANTHROPIC_KEY_10
--- env
!NOT_SET_ANTHROPIC_KEY_10
--- request
POST /v1/chat/completions
{"model":"c-noenv","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/NOT_SET_ANTHROPIC_KEY_10/ }
--- mock_request_count: 0


=== TEST 41: embeddings on an Anthropic model -> 400 (Anthropic has no embeddings endpoint), nothing sent
--- request
POST /v1/embeddings
{"model":"c-ok","input":"x"}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error"}
--- mock_request_count: 0


=== TEST 42: response_format json_schema -> the forced-tool fallback; its input comes back as content, finish_reason stop
--- request
POST /v1/chat/completions
{"model":"c-tools","response_format":{"type":"json_schema","json_schema":{"name":"w","schema":{"type":"object","properties":{"city":{"type":"string"}}}}},"messages":[{"role":"user","content":"json please"}]}
--- error_code: 200
--- mock_request_json
{ tools => [ { name => 'json_tool_call', input_schema => { type => 'object', properties => { city => { type => 'string' } } } } ],
  tool_choice => { type => 'tool', name => 'json_tool_call' }, response_format => absent() }
--- response_json
{ choices => [ { finish_reason => 'stop', message => { content => '{"city":"Paris","query":"json please"}', tool_calls => absent() } } ] }


=== TEST 42b: response_format json_schema, streamed: the forced tool's input_json_delta fragments become content
--- request
POST /v1/chat/completions
{"model":"c-tools-split","stream":true,"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"json ça"}]}
--- error_code: 200
--- mock_request_json
{ tools => [ { name => 'json_tool_call', input_schema => { type => 'object' } } ], tool_choice => { type => 'tool', name => 'json_tool_call' } }
--- stream_check
{ content => '{"city":"Paris","query":"json ça"}', finish_reason => 'stop', done => 1, code => main::shape('R C+ F D') }


=== TEST 43: @anthropic-ai/sdk -> the Anthropic mock directly (the mock is faithful)
--- no_module
--- config
location / { return 404; }
--- timeout: 120
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-anthropic.test.mjs');
    $t->ok($rc == 0, "node --test mock-anthropic.test.mjs exits 0 (got $rc)");
}


=== TEST 44: openai SDK -> gateway -> the Anthropic mock
--- models
- model_name: claude-sdk
  litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-split
  litellm_params: {model: anthropic/mock-ok-split, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-tools
  litellm_params: {model: anthropic/mock-tools-split, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-tools2
  litellm_params: {model: anthropic/mock-tools2, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-429
  litellm_params: {model: anthropic/mock-err-429, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-529
  litellm_params: {model: anthropic/mock-err-529, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
- model_name: claude-sdk-error
  litellm_params: {model: anthropic/mock-stream-error, api_base: $MOCK_URL, api_key: sk-ant-sdk-upstream-10}
--- timeout: 120
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-anthropic.test.mjs');
    $t->ok($rc == 0, "node --test gateway-anthropic.test.mjs exits 0 (got $rc)");
}
--- no_error_log
sk-ant-sdk-upstream-10
sk-client-side-anthropic-sdk
