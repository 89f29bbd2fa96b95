# Azure OpenAI (azure/<deployment>): the dated API (deployment in the path,
# api-version in the query) and the v1 API, api-key and Entra ID (Bearer)
# auth, Azure's stream quirks (an empty-choices first event, content filter
# annotations), content_filter finish reasons, Azure's error bodies,
# embeddings; then the official openai SDK against the mock (AzureOpenAI)
# and against the gateway; then Entra ID client credentials (tenant_id,
# client_id, client_secret): the token request to the mock's Entra
# endpoint, its cache, refusals, a revoked token, a reload that rotates the
# secret.
use LlmTest;
use IPC::Run ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

# the mock's Azure resource is $MOCK_URL/azure; one dated deployment per
# scenario (az-<scenario>), plus v1 ones (az1-<scenario>)
my @dated = qw(ok ok-split ok-async-split tools-split content-filter
               slow-release stream-error stream-cut err-400-filter
               err-400-context err-401 err-404 err-429 err-500 err-503);
my @v1 = qw(ok ok-async tools content-filter);

set_default(models => join('', map { <<"EOF" } @dated) . join('', map { <<"EOF" } @v1) . <<'EOF');
- model_name: az-$_
  litellm_params:
    model: azure/mock-$_
    api_base: \$MOCK_URL/azure
    api_version: "2024-10-21"
    api_key: az-yaml-key-20
EOF
- model_name: az1-$_
  litellm_params:
    model: azure/mock-$_
    api_base: \$MOCK_URL/azure/
    api_key: az-yaml-key-20
EOF
- model_name: az-old
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-02-01"
    api_key: az-yaml-key-20
- model_name: az-emb
  litellm_params:
    model: azure/text-embedding-3-small
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    api_key: az-yaml-key-20
  model_info:
    mode: embedding
- model_name: az1-emb
  litellm_params:
    model: azure/text-embedding-3-small
    api_base: $MOCK_URL/azure
    api_key: az-yaml-key-20
  model_info:
    mode: embedding
EOF

# the mock's Entra ID token requests, and its Azure model requests
sub entra_tokens {
    my ($t) = @_;
    return grep { ($_->{route} // '') eq 'entra-token' } @{$t->mock_requests};
}

sub azure_calls {
    my ($t) = @_;
    my %model = map { $_ => 1 } qw(chat embeddings v1-chat v1-embeddings);
    return grep { ($_->{provider} // '') eq 'azure' && $model{$_->{route} // ''} } @{$t->mock_requests};
}

# one application/x-www-form-urlencoded value
sub form_value {
    my ($v) = @_;
    $v //= '';
    $v =~ tr/+/ /;
    $v =~ s/%([0-9A-Fa-f]{2})/chr(hex $1)/ge;
    return $v;
}

# Runs node --test on the given files with extra environment, streaming its
# output as TAP comments; returns node's exit status.
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/openai" && -d "$SDK_DIR/node_modules/\@azure/identity") {
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/openai") {
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

=== TEST 1: dated API: deployment in the path, api-version in the query, api-key header, no model in the body
--- request
POST /v1/chat/completions
{"model":"az-ok","messages":[{"role":"user","content":"héllo 你好"}],"max_tokens":10}
--- more_headers
Authorization: Bearer sk-client-azure-secret
--- error_code: 200
--- response_json
{ object => 'chat.completion', model => 'az-ok', id => qr/^chatcmpl-/,
  choices => [ { index => 0, finish_reason => 'stop', logprobs => undef,
                 message => { role => 'assistant', content => 'echo: héllo 你好' } } ],
  usage => { prompt_tokens => qr/^[1-9]\d*$/, completion_tokens => qr/^[1-9]\d*$/ } }
--- mock_request
{"provider":"azure","path":"/azure/openai/deployments/mock-ok/chat/completions",
 "query":{"api-version":"2024-10-21"}}
--- mock_request_json
{ model => absent(), max_tokens => 10, messages => [ { role => 'user', content => 'héllo 你好' } ] }
--- mock_request_headers
api-key: az-yaml-key-20
!Authorization
--- no_error_log
az-yaml-key-20
sk-client-azure-secret


=== TEST 2: v1 API (no api_version): /openai/v1/..., no query, model = deployment
--- request
POST /v1/chat/completions
{"model":"az1-ok","messages":[{"role":"user","content":"v1"}]}
--- error_code: 200
--- response_json
{"model":"az1-ok","choices":[{"message":{"content":"echo: v1"},"finish_reason":"stop"}]}
--- mock_request
{"provider":"azure","route":"v1-chat","path":"/azure/openai/v1/chat/completions","query":{}}
--- mock_request_json
{"model":"mock-ok"}
--- mock_request_headers
api-key: az-yaml-key-20


=== TEST 3: azure_ad_token from the environment is sent as a Bearer token
--- models
- model_name: az-entra
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2025-04-01-preview"
    azure_ad_token: os.environ/AZURE_AD_TOKEN_T20
--- env
AZURE_AD_TOKEN_T20=entra-token-t20-secret
!AZURE_API_KEY
--- request
POST /v1/chat/completions
{"model":"az-entra","messages":[{"role":"user","content":"entra"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: entra"}}]}
--- mock_request
{"path":"/azure/openai/deployments/mock-ok/chat/completions","query":{"api-version":"2025-04-01-preview"}}
--- mock_request_headers
Authorization: Bearer entra-token-t20-secret
!api-key
--- mock_request_json
{ azure_ad_token => absent(), api_version => absent() }
--- no_error_log
entra-token-t20-secret


=== TEST 4: an unset azure_ad_token variable -> 401 naming it, nothing sent upstream
--- models
- model_name: az-entra
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    azure_ad_token: os.environ/AZURE_AD_TOKEN_T20_UNSET
--- env
!AZURE_AD_TOKEN_T20_UNSET
!AZURE_API_KEY
--- request
POST /v1/chat/completions
{"model":"az-entra","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/AZURE_AD_TOKEN_T20_UNSET/ }
--- mock_request_count: 0


=== TEST 5: stream: Azure's empty-choices first event is dropped, the role chunk comes first, no filter fields
--- request
POST /v1/chat/completions
{"model":"az-ok","stream":true,"messages":[{"role":"user","content":"stream please"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: stream please', finish_reason => 'stop', done => 1, usage_chunk => 0, no_usage => 1,
  first_chunk => { choices => [ { index => 0, delta => { role => 'assistant' } } ] },
  chunks => { object => 'chat.completion.chunk', model => 'az-ok', id => qr/\S/,
              prompt_filter_results => absent(),
              choices => sub { @{$_[0]} == 1 && ref $_[0][0]{delta} eq 'HASH'
                               && !exists $_[0][0]{content_filter_results} } } }
--- response_body_unlike
content_filter|prompt_filter|"object":""
--- mock_request_json
{ stream => JSON::PP::true, stream_options => { include_usage => JSON::PP::true }, model => absent() }


=== TEST 6: stream with asynchronous filter annotations (no delta, empty id), split at awkward bytes
--- request
POST /v1/chat/completions
{"model":"az-ok-async-split","stream":true,"messages":[{"role":"user","content":"héllo 你好 🌍 — ça va ñ"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍 — ça va ñ', finish_reason => 'stop', done => 1, no_usage => 1,
  first_chunk => { choices => [ { delta => { role => 'assistant' } } ] },
  chunks => { object => 'chat.completion.chunk', id => qr/^chatcmpl-/, model => 'az-ok-async-split',
              choices => sub { @{$_[0]} == 1 && ref $_[0][0]{delta} eq 'HASH' } } }
--- response_body_unlike
content_filter|"id":""


=== TEST 7: v1 stream with include_usage: usage null on chunks, one usage chunk
--- request
POST /v1/chat/completions
{"model":"az1-ok-async","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: count me', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 9, completion_tokens => 4, total_tokens => 13 } }
--- mock_request
{"path":"/azure/openai/v1/chat/completions"}


=== TEST 8: a dated version from before stream_options: the gateway does not send it (Azure would 400)
--- request
POST /v1/chat/completions
{"model":"az-old","stream":true,"messages":[{"role":"user","content":"old"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: old', finish_reason => 'stop', done => 1 }
--- mock_request
{"query":{"api-version":"2024-02-01"}}
--- mock_request_json
{ stream => JSON::PP::true, stream_options => absent() }


=== TEST 9: content filter on the output: finish_reason content_filter (non-stream)
--- request
POST /v1/chat/completions
{"model":"az-content-filter","messages":[{"role":"user","content":"bad"}]}
--- error_code: 200
--- response_json
{ model => 'az-content-filter',
  choices => [ { index => 0, finish_reason => 'content_filter', message => { role => 'assistant', content => undef } } ] }


=== TEST 10: content filter on the output, streamed (dated and v1): the text so far, then content_filter
--- requests
["POST /v1/chat/completions\n{\"model\":\"az-content-filter\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"bad\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"az1-content-filter\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"bad\"}]}"]
--- error_code: 200
--- stream_check
{ content => 'echo: ', finish_reason => 'content_filter', done => 1,
  chunks => { object => 'chat.completion.chunk', model => 'az1-content-filter', id => qr/\S/,
              choices => sub { ref $_[0][0]{delta} eq 'HASH' } } }
--- check
sub {
    my $t = shift;
    my $ev = LlmTest::parse_sse($t->response(0)->{body});
    my @fr = grep { defined } map { $_->{json} && $_->{json}{choices} ? $_->{json}{choices}[0]{finish_reason} : undef } @$ev;
    $t->ok("@fr" eq 'content_filter', "dated stream finishes with content_filter", "got: @fr");
}


=== TEST 11: a streamed tool call (split upstream) reassembles
--- request
POST /v1/chat/completions
{"model":"az-tools-split","stream":true,"messages":[{"role":"user","content":"où?"}],"tools":[{"type":"function","function":{"name":"locate","parameters":{"type":"object"}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  first_chunk => { choices => [ { delta => { role => 'assistant' } } ] },
  tool_calls => [ { id => qr/^call_az/, type => 'function', function => { name => 'locate', arguments => '{"city":"Paris","query":"où?"}' } } ] }


=== TEST 12: non-stream tool call (v1)
--- request
POST /v1/chat/completions
{"model":"az1-tools","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object"}}}]}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls',
                 message => { content => undef, tool_calls => [ { id => qr/^call_az/, type => 'function', function => { name => 'lookup' } } ] } } ] }


=== TEST 13: the first content event reaches the client while Azure still holds the rest
--- request
POST /v1/chat/completions
{"model":"az-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 14: prompt refused by the content filter -> 400 content_filter, param prompt
--- request
POST /v1/chat/completions
{"model":"az-err-400-filter","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{ type => 'invalid_request_error', code => 'content_filter', param => 'prompt',
  message => qr/^azure: The response was filtered due to the prompt triggering Azure OpenAI's content management policy/ }


=== TEST 15: 400 context length -> 400 context_length_exceeded
--- request
POST /v1/chat/completions
{"model":"az-err-400-context","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","code":"context_length_exceeded","param":"messages"}


=== TEST 16: Azure 429 (code "429") -> 429 rate_limit_exceeded, retry-after and retry-after-ms passed on
--- request
POST /v1/chat/completions
{"model":"az-err-429","messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{ type => 'rate_limit_error', code => 'rate_limit_exceeded',
  message => qr/^azure: Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded .* Please retry after 6 seconds\. .* increase the default rate limit\.$/ }
--- response_headers
Retry-After: 6
Retry-After-Ms: 6000


=== TEST 17: a streaming request answered with 429 is a plain JSON error
--- request
POST /v1/chat/completions
{"model":"az-err-429","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 429
--- openai_error
{"code":"rate_limit_exceeded"}
--- response_headers
Retry-After: 6


=== TEST 18: Azure 401 (code "401") -> 401 authentication_error
--- request
POST /v1/chat/completions
{"model":"az-err-401","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', code => 'invalid_api_key', message => qr/^azure: Access denied due to invalid subscription key/ }


=== TEST 19: DeploymentNotFound -> 404 model_not_found
--- request
POST /v1/chat/completions
{"model":"az-err-404","messages":[{"role":"user","content":"x"}]}
--- error_code: 404
--- openai_error
{ type => 'invalid_request_error', code => 'model_not_found', message => qr/^azure: The API deployment for this resource does not exist/ }


=== TEST 20: 500 -> 502 server_error; 503 -> 503 with retry-after
--- requests
["POST /v1/chat/completions\n{\"model\":\"az-err-500\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"az-err-503\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"]
--- error_code: 503
--- openai_error
{ type => 'server_error', code => 'overloaded', message => qr/^azure: / }
--- response_headers
Retry-After: 2
--- check
sub {
    my $t = shift;
    my $r = $t->response(0);
    my $j = eval { JSON::PP::decode_json($r->{body}) } || {};
    $t->ok($r->{status} == 502, "500 -> 502", "got $r->{status}");
    $t->ok(($j->{error}{type} // '') eq 'server_error', "500 -> server_error", $r->{body});
}


=== TEST 21: a mid-stream error becomes a data: {"error":...} event
--- request
POST /v1/chat/completions
{"model":"az-stream-error","stream":true,"messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- stream_check
{ error_event => { message => qr/^azure: mock: the model failed/ }, content_like => qr/^echo: / }


=== TEST 22: Azure cuts the stream -> an error event, no hang
--- request
POST /v1/chat/completions
{"model":"az-stream-cut","stream":true,"messages":[{"role":"user","content":"x"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1 }


=== TEST 23: embeddings, dated: deployment URL, api-version, no model in the body
--- request
POST /v1/embeddings
{"model":"az-emb","input":["un","deux"],"dimensions":4}
--- error_code: 200
--- response_json
{ object => 'list', model => 'az-emb',
  data => [ { object => 'embedding', index => 0, embedding => sub { @{$_[0]} == 4 } }, { index => 1 } ],
  usage => { prompt_tokens => 2, total_tokens => 2 } }
--- mock_request
{"provider":"azure","path":"/azure/openai/deployments/text-embedding-3-small/embeddings","query":{"api-version":"2024-10-21"}}
--- mock_request_json
{ model => absent(), input => ['un', 'deux'], dimensions => 4 }
--- mock_request_headers
api-key: az-yaml-key-20


=== TEST 24: embeddings, v1: model = deployment; base64 passes through
--- request
POST /v1/embeddings
{"model":"az1-emb","input":"x","encoding_format":"base64"}
--- error_code: 200
--- response_json
{ model => 'az1-emb', data => [ { embedding => qr/^[A-Za-z0-9+\/]+=*$/ } ] }
--- mock_request
{"path":"/azure/openai/v1/embeddings","query":{}}
--- mock_request_json
{"model":"text-embedding-3-small","encoding_format":"base64"}


=== TEST 25: the openai SDK's AzureOpenAI client, and @azure/identity's ClientSecretCredential for Entra ID, against the mock directly (the mock is faithful)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
        MOCK_TLS_URL => "https://localhost:" . $t->mock_tls_port, MOCK_CA => $t->test_ca }, 'mock-azure.test.mjs');
    $t->ok($rc == 0, "node --test mock-azure.test.mjs exits 0 (got $rc)");
}


=== TEST 26: the plain openai SDK -> gateway -> Azure mock
--- config
location / {
    llm_pass;
}
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-azure.test.mjs');
    $t->ok($rc == 0, "node --test gateway-azure.test.mjs exits 0 (got $rc)");
}
--- no_error_log
az-yaml-key-20
sk-anything-client-side


=== TEST 27: Entra ID client credentials: one client_credentials POST to the tenant's token URL; the token is cached (three calls, one a stream) and sent as Bearer, no api-key; no credential in the body or the log
--- models
- model_name: az-sp
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: os.environ/AZURE_CLIENT_ID_T20
    client_secret: os.environ/AZURE_CLIENT_SECRET_T20
    azure_authority_host: $MOCK_URL
--- env
AZURE_CLIENT_ID_T20=mock-client-id
AZURE_CLIENT_SECRET_T20=mock-client-secret
!AZURE_API_KEY
!AZURE_AUTHORITY_HOST
--- requests
[ (map { +{ path => '/v1/chat/completions', json => { model => 'az-sp', messages => [ { role => 'user', content => "call $_" } ] } } } 1 .. 2),
  { path => '/v1/chat/completions', json => { model => 'az-sp', stream => JSON::PP::true, messages => [ { role => 'user', content => 'stream' } ] } } ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @tok = main::entra_tokens($t);
    my @calls = main::azure_calls($t);
    $t->ok(@calls == 3, "three model requests", "got " . scalar(@calls));
    $t->ok(@tok == 1, "exactly one token request for three calls (the token is cached)", "got " . scalar(@tok));
    return unless @tok;
    my $r = $tok[0];
    $t->ok($r->{path} eq '/mock-tenant/oauth2/v2.0/token', "POST to {authority}/{tenant}/oauth2/v2.0/token", "path $r->{path}");
    $t->ok(($r->{headers}{'content-type'} // '') =~ m{^application/x-www-form-urlencoded}, "form-encoded", $r->{headers}{'content-type'});
    my %f = map { my ($k, $v) = split /=/, $_, 2; $k => main::form_value($v) } split /&/, $r->{body};
    $t->ok(($f{grant_type} // '') eq 'client_credentials', "grant_type client_credentials", $r->{body} =~ s/client_secret=[^&]*/client_secret=.../r);
    $t->ok(($f{client_id} // '') eq 'mock-client-id', "client_id from os.environ/", $f{client_id});
    $t->ok(($f{client_secret} // '') eq 'mock-client-secret', "client_secret from os.environ/");
    $t->ok(($f{scope} // '') eq 'https://cognitiveservices.azure.com/.default', "the default scope", $f{scope});
    my %auth = map { ($_->{headers}{authorization} // '') => 1 } @calls;
    my ($a) = keys %auth;
    $t->ok(keys(%auth) == 1 && $a =~ /^Bearer eyJ[\w-]+\.[\w-]+\.[\w-]+$/, "every call carries the one JWT", keys %auth);
    $t->ok(!grep({ exists $_->{headers}{'api-key'} } @calls), "no api-key header");
    $t->ok(!grep({ ($_->{body} // '') =~ /tenant_id|client_id|client_secret|mock-client/ } @calls), "no credential in a model request's body");
}
--- no_error_log
mock-client-secret
eyJ


=== TEST 28: AZURE_AUTHORITY_HOST (another cloud's authority) and azure_scope; the token endpoint's answer is used for the v1 API too
--- models
- model_name: az-sp1
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    tenant_id: 00000000-0000-0000-0000-00000000aaaa
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_scope: https://ai.azure.com/.default
--- env
AZURE_AUTHORITY_HOST=$MOCK_URL/
!AZURE_API_KEY
--- request
POST /v1/chat/completions
{"model":"az-sp1","messages":[{"role":"user","content":"v1 entra"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: v1 entra"}}]}
--- check
sub {
    my $t = shift;
    my @tok = main::entra_tokens($t);
    $t->ok(@tok == 1, "one token request", "got " . scalar(@tok));
    return unless @tok;
    $t->ok($tok[0]{path} eq '/00000000-0000-0000-0000-00000000aaaa/oauth2/v2.0/token', "the tenant GUID in the path; one slash after the authority", $tok[0]{path});
    $t->ok($tok[0]{body} =~ /(?:^|&)scope=https%3A%2F%2Fai\.azure\.com%2F\.default(?:&|$)/, "azure_scope", $tok[0]{body} =~ s/client_secret=[^&]*/client_secret=.../r);
    my @calls = main::azure_calls($t);
    $t->ok(@calls == 1 && $calls[0]{path} eq '/azure/openai/v1/chat/completions'
           && ($calls[0]{headers}{authorization} // '') =~ /^Bearer eyJ/, "the v1 call with the token");
}


=== TEST 29: a secret Entra refuses (AADSTS7000215) -> 401 authentication_error naming the refusal; no model call; the secret never logged
--- models
- model_name: az-badsecret
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: mock-client-id
    client_secret: not-the-secret-t20
    azure_authority_host: $MOCK_URL
--- env
!AZURE_API_KEY
--- request
POST /v1/chat/completions
{"model":"az-badsecret","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/^azure: could not get an access token for model "az-badsecret": azure: the token endpoint refused the credentials: invalid_client: AADSTS7000215/ }
--- check
sub {
    my $t = shift;
    $t->ok(main::entra_tokens($t) >= 1, "the token endpoint was asked");
    $t->ok(main::azure_calls($t) == 0, "no model request without a token");
}
--- error_log
AADSTS7000215
--- no_error_log
not-the-secret-t20


=== TEST 30: a token Azure no longer accepts (revoked): its 401 makes the gateway fetch a new token and retry once
--- models
- model_name: az-sp
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_authority_host: $MOCK_URL
--- env
!AZURE_API_KEY
--- requests
[ { path => '/v1/chat/completions', json => { model => 'az-sp', messages => [ { role => 'user', content => 'first' } ] } } ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my $r = LlmTest::http_request(port => $t->mock_port, method => 'POST', path => '/mock-entra/revoke',
        headers => [ 'Content-Type' => 'application/x-www-form-urlencoded' ], body => 'token=*');
    $t->ok($r->{status} == 200, "revoked", $r->{raw});
    my $again = $t->request(path => '/v1/chat/completions', json => { model => 'az-sp', messages => [ { role => 'user', content => 'second' } ] });
    $t->ok($again->{status} == 200, "the call after the revocation succeeds", $again->{body});
    $t->ok(($again->{json}{choices}[0]{message}{content} // '') eq 'echo: second', "its answer");
    my @tok = main::entra_tokens($t);
    $t->ok(@tok == 2, "a second token was fetched", "token requests: " . scalar(@tok));
    my @calls = main::azure_calls($t);
    $t->ok(@calls == 3, "first call, refused call, retried call", "model requests: " . scalar(@calls));
    $t->ok(@calls == 3 && $calls[1]{headers}{authorization} ne $calls[2]{headers}{authorization}, "the retry carries the new token");
}
--- error_log
access token refused, fetching a new one


=== TEST 31: the token endpoint answers garbage -> 502 naming it; a 500 (AADSTS50000) -> 502 too; neither hangs
--- models
- model_name: az-garbage
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant-garbage
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_authority_host: $MOCK_URL
- model_name: az-500
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant-500
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_authority_host: $MOCK_URL
--- env
!AZURE_API_KEY
--- requests
[ { path => '/v1/chat/completions', json => { model => 'az-garbage', messages => [ { role => 'user', content => 'x' } ] } },
  { path => '/v1/chat/completions', json => { model => 'az-500', messages => [ { role => 'user', content => 'x' } ] } } ]
--- check
sub {
    my $t = shift;
    my @r = @{$t->responses};
    $t->ok($r[0]{status} == 502 && ($r[0]{json}{error}{message} // '') =~ /azure: the token endpoint sent an invalid response/, "garbage -> 502", $r[0]{body});
    $t->ok($r[1]{status} == 502 && ($r[1]{json}{error}{message} // '') =~ /azure: the token endpoint answered server_error/, "server_error -> 502", $r[1]{body});
    $t->ok(main::azure_calls($t) == 0, "no model request without a token");
}
--- no_error_log
mock-client-secret


=== TEST 32: Entra credentials that cannot work fail nginx -t: only two of the three; a tenant that is no name
--- models
- model_name: az-half
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    tenant_id: mock-tenant
    client_id: mock-client-id
--- must_die
--- nginx_t_like
/models\.yaml:1\b/
/tenant_id, client_id and client_secret go together.*client_secret is missing/


=== TEST 33: a reload that fixes the secret takes effect at once: the refusal cached for the old credential (5 s of back-off) is not the new one's, and its token is fetched
--- models
- model_name: az-rotate
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: mock-client-id
    client_secret: old-secret-t20
    azure_authority_host: $MOCK_URL
--- env
!AZURE_API_KEY
--- request
POST /v1/chat/completions
{"model":"az-rotate","messages":[{"role":"user","content":"before"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/AADSTS7000215/ }
--- reload_models
- model_name: az-rotate
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_authority_host: $MOCK_URL
--- request2
POST /v1/chat/completions
{"model":"az-rotate","messages":[{"role":"user","content":"after"}]}
--- error_code2: 200
--- response_json2
{"choices":[{"message":{"content":"echo: after"}}]}
--- no_error_log
old-secret-t20
mock-client-secret


=== TEST 34: the first deployment cannot take the request, the second waits for a token that never comes (the token endpoint hangs): a clean 502 with the second's reason, not a garbled answer
--- models
- model_name: az-mix
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    api_key: os.environ/AZURE_KEY_T20_UNSET
    order: 1
- model_name: az-mix
  litellm_params:
    model: azure/mock-ok
    api_base: $MOCK_URL/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant-hang
    client_id: mock-client-id
    client_secret: mock-client-secret
    azure_authority_host: $MOCK_URL
    order: 2
--- env
!AZURE_API_KEY
!AZURE_KEY_T20_UNSET
--- timeout: 60
--- request
POST /v1/chat/completions
{"model":"az-mix","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{ type => 'authentication_error', message => qr/^azure: could not get an access token for model "az-mix": .*(timed out|timeout)/i }
--- check
sub {
    my $t = shift;
    $t->ok(main::entra_tokens($t) >= 1, "the token endpoint was asked");
    $t->ok(main::azure_calls($t) == 0, "no model request");
}
--- no_error_log
mock-client-secret
