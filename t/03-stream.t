# Streaming chat: OpenAI SSE out, unbuffered, any upstream split,
# include_usage honoured, upstream failures become error events.
use LlmTest;

my @names = qw(ok ok-split slow-release stream-error stream-cut stream-eof tools tools2-split long err-429);
set_default(models => join '', map { <<"EOF" } @names);
- model_name: m-$_
  litellm_params:
    model: openai/mock-$_
    api_base: \$MOCK_URL/v1
    api_key: sk-stream-yaml-key-42
EOF

run_tests();

__DATA__

=== TEST 1: stream: event-stream headers, OpenAI chunks, [DONE], no usage unless asked
--- request
POST /v1/chat/completions
{"model":"m-ok","stream":true,"messages":[{"role":"user","content":"stream please"}]}
--- more_headers
Authorization: Bearer sk-client-stream-secret
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
Cache-Control: no-cache
--- stream_check
{ content => 'echo: stream please', finish_reason => 'stop', done => 1,
  usage_chunk => 0, no_usage => 1,
  chunks => { object => 'chat.completion.chunk', id => qr/\S/, created => qr/^\d+$/ },
  first_chunk => { choices => [ { index => 0, delta => { role => 'assistant' } } ] } }
--- mock_request_json
{"model":"mock-ok","stream":true}
--- mock_request_headers
Authorization: Bearer sk-stream-yaml-key-42
Accept-Encoding: identity
--- no_error_log
sk-stream-yaml-key-42
sk-client-stream-secret


=== TEST 2: unbuffered: the first content event reaches the client while the provider still holds the rest
--- request
POST /v1/chat/completions
{"model":"m-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 3: provider SSE split at awkward byte boundaries (mid-line, mid-UTF-8)
--- request
POST /v1/chat/completions
{"model":"m-ok-split","stream":true,"messages":[{"role":"user","content":"héllo 你好 🌍 — ça va ñ"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍 — ça va ñ', finish_reason => 'stop', done => 1, no_usage => 1 }


=== TEST 4: include_usage: usage null on every chunk, then one usage chunk with choices []
--- request
POST /v1/chat/completions
{"model":"m-ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 9, completion_tokens => 4, total_tokens => 13 } }


=== TEST 5: include_usage false is the same as absent
--- request
POST /v1/chat/completions
{"model":"m-ok-split","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"no usage"}]}
--- stream_check
{ content => 'echo: no usage', usage_chunk => 0, no_usage => 1 }


=== TEST 6: streamed tool calls (two, split upstream) reassemble
--- request
POST /v1/chat/completions
{"model":"m-tools2-split","stream":true,"messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  tool_calls => [ { id => qr/^call_/, type => 'function', function => { name => 'locate', arguments => '{"city":"Paris","query":"où?"}' } },
                  { id => qr/^call_/, type => 'function', function => { name => 'locate', arguments => '{"city":"Tokyo","query":"où?"}' } } ] }


=== TEST 7: a long stream (~90 KB of content) arrives whole
--- request
POST /v1/chat/completions
{"model":"m-long","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"long"}]}
--- timeout: 20
--- stream_check
{ content => 'echo: long ' . ('lorem ipsum dolor é 你好 🌍 sit amet. ' x 2500), usage_chunk => 1, done => 1 }


=== TEST 8: mid-stream provider error -> a data: {"error":...} event for the client
--- request
POST /v1/chat/completions
{"model":"m-stream-error","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- stream_check
{ error_event => { message => qr/\S/ }, content_like => qr/^echo: / }


=== TEST 9: provider connection cut before [DONE] -> the stream ends with an error event, no hang
--- request
POST /v1/chat/completions
{"model":"m-stream-cut","stream":true,"messages":[{"role":"user","content":"x"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1 }


=== TEST 10: provider body ends cleanly but without [DONE] -> error event too
--- request
POST /v1/chat/completions
{"model":"m-stream-eof","stream":true,"messages":[{"role":"user","content":"x"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1 }


=== TEST 11: an error before the stream starts is a plain JSON error, not SSE
--- request
POST /v1/chat/completions
{"model":"m-err-429","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{"code":"rate_limit_exceeded"}
--- response_headers
Retry-After: 7


=== TEST 12: two streams in a row on one client connection
--- client_keepalive
--- requests
["POST /v1/chat/completions\n{\"model\":\"m-ok-split\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"un\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"m-ok\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"deux\"}]}"]
--- stream_check
{ content => 'echo: deux', done => 1 }
--- check
sub {
    my $t = shift;
    my $first = $t->response(0);
    my $text = join '', map { $_->{json}{choices}[0]{delta}{content} // '' }
        grep { ref $_->{json} eq 'HASH' && @{$_->{json}{choices} || []} } @{$first->{events} || []};
    $t->ok($first->{complete} && $text eq 'echo: un' && $first->{body} =~ /data: \[DONE\]\n\n\z/,
        "first stream complete ($text)");
}
