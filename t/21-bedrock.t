# AWS Bedrock through the gateway (bedrock/ models): Converse and
# ConverseStream against the Bedrock mock, which VERIFIES THE SIGV4
# SIGNATURE of every request (t/mock/providers/bedrock.js) and answers
# binary event-stream frames with real CRCs.  A 200 from the mock means
# the gateway's signature was right; the bad-secret blocks prove the
# check can fail.
use LlmTest;

our $KEY = 'AKIDMOCKBEDROCK';
our $SECRET = 'mock/Secret+Key/EXAMPLEKEY0123456789';

my @ids = qw(ok ok-split tools tools-split tools2 cache slow-release stream-throttle stream-throttle-split
             stream-error stream-internal stream-cut stream-eof err-throttle err-validation err-context
             err-access err-notfound err-timeout err-model err-notready err-500 err-503 stopseq maxtok guardrail);
set_default(models => join('', map { <<"EOF" } @ids) . <<"EOF");
- model_name: br-$_
  litellm_params:
    model: bedrock/anthropic.mock-$_-v1:0
    api_base: \$MOCK_URL
    aws_access_key_id: $KEY
    aws_secret_access_key: $SECRET
    aws_region_name: us-west-2
EOF
- model_name: br-titan
  litellm_params:
    model: bedrock/amazon.titan-embed-text-v2:0
    api_base: \$MOCK_URL
    aws_access_key_id: $KEY
    aws_secret_access_key: $SECRET
    aws_region_name: eu-central-1
  model_info:
    mode: embedding
- model_name: br-cohere
  litellm_params:
    model: bedrock/cohere.embed-multilingual-v3
    api_base: \$MOCK_URL
    aws_access_key_id: $KEY
    aws_secret_access_key: $SECRET
    aws_region_name: eu-central-1
  model_info:
    mode: embedding
EOF

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

# node --test on t/sdk files (as t/50-sdk.t does), output as TAP comments;
# installs t/sdk/node_modules with "npm ci" when the AWS SDK is missing
sub run_node_tests {
    my ($t, $env, @files) = @_;
    require IPC::Run;
    unless (-d "$SDK_DIR/node_modules/\@aws-sdk/client-bedrock-runtime") {
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/\@aws-sdk/client-bedrock-runtime") {
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

=== TEST 1: Converse: the mock accepted the SigV4 signature; model id ':' percent-encoded
--- request
POST /v1/chat/completions
{"model":"br-ok","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"héllo 你好"}],"max_tokens":64,"temperature":0.3}
--- error_code: 200
--- response_json
{ object => 'chat.completion', model => 'br-ok', id => qr/^chatcmpl-/,
  choices => [ { index => 0, finish_reason => 'stop',
                 message => { role => 'assistant', content => 'echo: héllo 你好' } } ],
  usage => { prompt_tokens => 12, completion_tokens => 4, total_tokens => 16 } }
--- mock_request
{ path => '/model/anthropic.mock-ok-v1%3A0/converse', route => 'converse',
  sigv4 => { ok => JSON::PP::true, access_key => 'AKIDMOCKBEDROCK', region => 'us-west-2', service => 'bedrock',
             signed_headers => 'content-type;host;x-amz-date',
             canonical_request => qr{^POST\n/model/anthropic\.mock-ok-v1%253A0/converse\n\n} } }
--- mock_request_json
{"system":[{"text":"Be brief."}],"messages":[{"role":"user","content":[{"text":"héllo 你好"}]}],
 "inferenceConfig":{"maxTokens":64,"temperature":0.3}}
--- mock_request_headers
X-Amz-Date ~ ^\d{8}T\d{6}Z$
Authorization ~ ^AWS4-HMAC-SHA256 Credential=AKIDMOCKBEDROCK/\d{8}/us-west-2/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$
Host ~ ^127\.0\.0\.1:\d+$
!X-Amz-Security-Token
--- no_error_log
mock/Secret+Key


=== TEST 2: a wrong secret: the mock refuses the signature (403) -> 401 for the client
--- models
- model_name: br-bad
  litellm_params:
    model: bedrock/anthropic.mock-ok-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: not-the-secret
    aws_region_name: us-west-2
- model_name: br-unknown
  litellm_params:
    model: bedrock/anthropic.mock-ok-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDNOBODYKNOWS
    aws_secret_access_key: x
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-unknown', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 401, openai_error => { type => 'authentication_error', code => 'invalid_api_key',
                                                    message => qr/security token included in the request is invalid/ } } },
 { path => '/v1/chat/completions', json => { model => 'br-bad', messages => [ { role => 'user', content => 'x' } ] } }]
--- error_code: 401
--- openai_error
{ type => 'authentication_error', code => 'invalid_api_key', message => qr/signature we calculated does not match/ }
--- mock_request
{ sigv4 => { ok => JSON::PP::false, access_key => 'AKIDMOCKBEDROCK' } }


=== TEST 3: credentials from os.environ/, with a session token (signed, sent as X-Amz-Security-Token)
--- models
- model_name: br-session
  litellm_params:
    model: bedrock/amazon.mock-ok-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: os.environ/T21_AWS_KEY
    aws_secret_access_key: os.environ/T21_AWS_SECRET
    aws_session_token: os.environ/T21_AWS_TOKEN
    aws_region_name: os.environ/T21_AWS_REGION
--- env
T21_AWS_KEY=ASIAMOCKSESSION
T21_AWS_SECRET=mock-session-secret/EXAMPLE
T21_AWS_TOKEN=mock//session+token=EXAMPLE
T21_AWS_REGION=ap-southeast-2
--- request
POST /v1/chat/completions
{"model":"br-session","messages":[{"role":"user","content":"temp creds"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: temp creds"}}]}
--- mock_request
{ sigv4 => { ok => JSON::PP::true, access_key => 'ASIAMOCKSESSION', region => 'ap-southeast-2',
             signed_headers => 'content-type;host;x-amz-date;x-amz-security-token' } }
--- mock_request_headers
X-Amz-Security-Token: mock//session+token=EXAMPLE
--- no_error_log
mock-session-secret
mock//session+token


=== TEST 4: an ARN model id and LiteLLM's bedrock/converse/ prefix; aws_bedrock_runtime_endpoint
--- models
- model_name: br-arn
  litellm_params:
    model: bedrock/arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.mock-ok-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
    aws_region_name: us-east-1
- model_name: br-converse
  litellm_params:
    model: bedrock/converse/eu.mock-ok-v1:0
    aws_bedrock_runtime_endpoint: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
    aws_region_name: eu-west-1
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-arn', messages => [ { role => 'user', content => 'arn' } ] },
   expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: arn' } } ] },
               mock_request => { path => '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.mock-ok-v1%3A0/converse',
                                 model_id => 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.mock-ok-v1:0',
                                 sigv4 => { ok => JSON::PP::true } } } },
 { path => '/v1/chat/completions', json => { model => 'br-converse', messages => [ { role => 'user', content => 'conv' } ] } }]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: conv"}}]}
--- mock_request
{ path => '/model/eu.mock-ok-v1%3A0/converse', sigv4 => { ok => JSON::PP::true, region => 'eu-west-1' } }


=== TEST 5: a Bedrock API key (api_key) is sent as a Bearer token, unsigned
--- models
- model_name: br-apikey
  litellm_params:
    model: bedrock/amazon.mock-ok-v1:0
    api_base: $MOCK_URL
    api_key: bedrock-api-key-t21secret
- model_name: br-apikey-bad
  litellm_params:
    model: bedrock/amazon.mock-ok-v1:0
    api_base: $MOCK_URL
    api_key: not-a-bedrock-key
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-apikey-bad', messages => [ { role => 'user', content => 'k' } ] },
   expect => { error_code => 401, openai_error => { type => 'authentication_error' } } },
 { path => '/v1/chat/completions', json => { model => 'br-apikey', messages => [ { role => 'user', content => 'key' } ] } }]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: key"}}]}
--- mock_request_headers
Authorization: Bearer bedrock-api-key-t21secret
!X-Amz-Date
--- mock_request
{ sigv4 => { ok => JSON::PP::true, bearer => 'bedrock-api-key-t21secret' } }
--- no_error_log
bedrock-api-key-t21secret


=== TEST 6: no credentials at all, or an unset os.environ/: 401 without calling Bedrock
--- models
- model_name: br-nocreds
  litellm_params:
    model: bedrock/amazon.mock-ok-v1:0
    api_base: $MOCK_URL
- model_name: br-unset
  litellm_params:
    model: bedrock/amazon.mock-ok-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: os.environ/T21_NOT_SET_ANYWHERE
--- env
!T21_NOT_SET_ANYWHERE
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-nocreds', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 401, openai_error => { type => 'authentication_error', message => qr/aws_access_key_id/ } } },
 { path => '/v1/chat/completions', json => { model => 'br-unset', messages => [ { role => 'user', content => 'x' } ] } }]
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/T21_NOT_SET_ANYWHERE/ }
--- mock_request_count: 0
--- log_allow
/T21_NOT_SET_ANYWHERE/


=== TEST 7: mapping: tools, tool history, images, stop, top_p, user; Claude's default maxTokens
--- request
POST /v1/chat/completions
{"model":"br-tools","temperature":0.5,"top_p":0.9,"stop":"END","user":"u-21",
 "tool_choice":"required",
 "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}],
 "messages":[{"role":"developer","content":"dev rules"},
   {"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
   {"role":"assistant","content":null,"tool_calls":[{"id":"tooluse_prev","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Rome\"}"}}]},
   {"role":"tool","tool_call_id":"tooluse_prev","content":"20C"},
   {"role":"user","content":"and Paris?"}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls',
                 message => { role => 'assistant', content => undef,
                              tool_calls => [ { id => qr/^tooluse_mock\d+x0$/, type => 'function',
                                                function => { name => 'get_weather', arguments => '{"city":"Paris","query":"and Paris?"}' } } ] } } ] }
--- mock_request_json
{"system":[{"text":"dev rules"}],
 "messages":[{"role":"user","content":[{"text":"look"},{"image":{"format":"png","source":{"bytes":"iVBORw0KGgo="}}}]},
             {"role":"assistant","content":[{"toolUse":{"toolUseId":"tooluse_prev","name":"get_weather","input":{"city":"Rome"}}}]},
             {"role":"user","content":[{"toolResult":{"toolUseId":"tooluse_prev","content":[{"text":"20C"}]}},{"text":"and Paris?"}]}],
 "inferenceConfig":{"maxTokens":4096,"temperature":0.5,"topP":0.9,"stopSequences":["END"]},
 "toolConfig":{"tools":[{"toolSpec":{"name":"get_weather","description":"Weather now","inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}}],
               "toolChoice":{"any":{}}},
 "requestMetadata":{"user":"u-21"}}
--- mock_request
{ json => { model => absent(), stream => absent() }, sigv4 => { ok => JSON::PP::true } }


=== TEST 8: stop reasons and cache-token usage
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-stopseq', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'stop' } ] } } },
 { path => '/v1/chat/completions', json => { model => 'br-maxtok', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'length' } ] } } },
 { path => '/v1/chat/completions', json => { model => 'br-guardrail', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 200, response_json => { choices => [ { finish_reason => 'content_filter' } ] } } },
 { path => '/v1/chat/completions', json => { model => 'br-cache', messages => [ { role => 'user', content => 'cached words' } ] } }]
--- error_code: 200
--- response_json
{ usage => { prompt_tokens => 129, completion_tokens => 4, total_tokens => 133,
             prompt_tokens_details => { cached_tokens => 100, cache_write_tokens => 20 } } }


=== TEST 9: ConverseStream split at awkward byte boundaries -> OpenAI SSE with usage
--- request
POST /v1/chat/completions
{"model":"br-ok-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"héllo 你好 🌍 ça va"}]}
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => 'echo: héllo 你好 🌍 ça va', finish_reason => 'stop', done => 1, usage_chunk => 1, usage_null => 1,
  usage => { prompt_tokens => 12, completion_tokens => 7, total_tokens => 19 },
  first_chunk => { choices => [ { delta => { role => 'assistant' } } ] } }
--- mock_request
{ path => '/model/anthropic.mock-ok-split-v1%3A0/converse-stream', route => 'converse-stream', sigv4 => { ok => JSON::PP::true } }
--- mock_request_headers
Accept: application/vnd.amazon.eventstream


=== TEST 10: a streamed tool call (split frames) reassembles
--- request
POST /v1/chat/completions
{"model":"br-tools-split","stream":true,"messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, no_usage => 1,
  tool_calls => [ { id => qr/^tooluse_mock\d+x0$/, type => 'function',
                    function => { name => 'locate', arguments => '{"city":"Paris","query":"où?"}' } } ] }


=== TEST 11: two streamed tool calls get OpenAI indexes 0 and 1
--- request
POST /v1/chat/completions
{"model":"br-tools2","stream":true,"messages":[{"role":"user","content":"two"}],"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]}
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  tool_calls => [ { function => { name => 'a', arguments => '{"city":"Paris","query":"two"}' } },
                  { function => { name => 'b', arguments => '{"city":"Tokyo","query":"two"}' } } ] }


=== TEST 12: unbuffered: the first delta reaches the client while Bedrock holds the rest
--- request
POST /v1/chat/completions
{"model":"br-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 13: Bedrock errors before any answer -> OpenAI errors with the mapped status
--- requests
[ map {
    my ($m, $st, $type, $code) = @$_;
    map { +{ path => '/v1/chat/completions',
             json => { model => "br-$m", ($_ ? (stream => \1) : ()), messages => [ { role => 'user', content => 'x' } ] },
             expect => { error_code => $st, openai_error => { type => $type, code => $code, message => qr/^bedrock: \S/ } } } } (0, 1)
  } (['err-throttle', 429, 'rate_limit_error', 'rate_limit_exceeded'],
     ['err-validation', 400, 'invalid_request_error', undef],
     ['err-context', 400, 'invalid_request_error', 'context_length_exceeded'],
     ['err-access', 403, 'permission_error', undef],
     ['err-notfound', 404, 'invalid_request_error', 'model_not_found'],
     ['err-timeout', 504, 'server_error', 'timeout'],
     ['err-model', 502, 'server_error', undef],
     ['err-notready', 503, 'server_error', 'overloaded'],
     ['err-500', 502, 'server_error', undef],
     ['err-503', 503, 'server_error', 'overloaded']) ]
--- error_code: 503
--- log_allow
/upstream/


=== TEST 14: a throttlingException frame mid-stream -> an OpenAI error event after the text
--- request
POST /v1/chat/completions
{"model":"br-stream-throttle-split","stream":true,"messages":[{"role":"user","content":"abcdefghi"}]}
--- error_code: 200
--- stream_check
{ error_event => { type => 'rate_limit_error', code => 'rate_limit_exceeded', message => qr/^bedrock: Too many requests/ },
  content_like => qr/^echo: / }


=== TEST 15: modelStreamErrorException mid-stream -> a server_error event; an exception as the first frame -> a JSON 502
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-stream-internal', stream => \1, messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => { type => 'server_error', message => qr/^bedrock: The server encountered an internal error/ } } },
 { path => '/v1/chat/completions', json => { model => 'br-stream-error', stream => \1, messages => [ { role => 'user', content => 'abcdefghi' } ] } }]
--- error_code: 200
--- stream_check
{ error_event => { type => 'server_error', message => qr/Received error from model/ }, content_like => qr/^echo: / }


=== TEST 16: the connection cut inside a frame, or a clean end without messageStop -> an error event
--- requests
[{ path => '/v1/chat/completions', json => { model => 'br-stream-cut', stream => \1, messages => [ { role => 'user', content => 'abcdefghi' } ] },
   expect => { error_code => 200, stream_check => { error_event => 1, allow_truncated => 1 } } },
 { path => '/v1/chat/completions', json => { model => 'br-stream-eof', stream => \1, messages => [ { role => 'user', content => 'abcdefghi' } ] } }]
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => { type => 'server_error', message => qr/closed the stream before it ended/ }, allow_truncated => 1 }


=== TEST 17: embeddings through Titan (InvokeModel), float and base64
--- requests
[{ path => '/v1/embeddings', json => { model => 'br-titan', input => 'hello world', dimensions => 256, encoding_format => 'base64' },
   expect => { error_code => 200,
               response_json => { object => 'list', data => [ { object => 'embedding', index => 0,
                                   embedding => sub { require MIME::Base64; length(MIME::Base64::decode_base64($_[0])) == 1024 } } ] } } },
 { path => '/v1/embeddings', json => { model => 'br-titan', input => ['one text'], dimensions => 512 } }]
--- error_code: 200
--- response_json
{ object => 'list', model => 'br-titan',
  data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 512 } } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{ path => '/model/amazon.titan-embed-text-v2%3A0/invoke', route => 'invoke',
  json => { inputText => 'one text', dimensions => 512 },
  sigv4 => { ok => JSON::PP::true, region => 'eu-central-1' } }


=== TEST 18: embeddings through Cohere (texts + input_type); Titan refuses several inputs
--- requests
[{ path => '/v1/embeddings', json => { model => 'br-titan', input => ['a', 'b'] },
   expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'input' } } },
 { path => '/v1/embeddings', json => { model => 'br-cohere', input => ['a', 'bb b'] } }]
--- error_code: 200
--- response_json
{ object => 'list', model => 'br-cohere',
  data => [ { index => 0, embedding => sub { @{$_[0]} == 1024 } }, { index => 1, embedding => sub { @{$_[0]} == 1024 } } ] }
--- mock_request
{ path => '/model/cohere.embed-multilingual-v3/invoke',
  json => { texts => ['a', 'bb b'], input_type => 'search_document' }, sigv4 => { ok => JSON::PP::true } }
--- mock_request_count: 1


=== TEST 19: @aws-sdk/client-bedrock-runtime -> mock directly (the mock's SigV4 check and framing are AWS's)
--- no_module
--- config
location / { return 404; }
--- timeout: 60
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-bedrock.test.mjs');
    $t->ok($rc == 0, "node --test mock-bedrock.test.mjs exits 0 (got $rc)");
}


=== TEST 20: openai SDK -> gateway -> Bedrock mock: chat, stream, streamed tool call, errors, embeddings
--- models
- model_name: br-sdk
  litellm_params:
    model: bedrock/anthropic.mock-ok-split-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
    aws_region_name: us-east-1
- model_name: br-sdk-tools
  litellm_params:
    model: bedrock/us.anthropic.mock-tools-split-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
- model_name: br-sdk-throttle
  litellm_params:
    model: bedrock/anthropic.mock-err-throttle-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
- model_name: br-sdk-stream-throttle
  litellm_params:
    model: bedrock/anthropic.mock-stream-throttle-split-v1:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
- model_name: br-sdk-titan
  litellm_params:
    model: bedrock/amazon.titan-embed-text-v2:0
    api_base: $MOCK_URL
    aws_access_key_id: AKIDMOCKBEDROCK
    aws_secret_access_key: mock/Secret+Key/EXAMPLEKEY0123456789
  model_info:
    mode: embedding
--- timeout: 60
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-bedrock.test.mjs');
    $t->ok($rc == 0, "node --test gateway-bedrock.test.mjs exits 0 (got $rc)");
}
--- no_error_log
mock/Secret+Key
sk-anything-client-side
