# Google Vertex AI (vertex_ai/<model>, alias vertexai/) through the gateway:
# the service-account token (an RS256 JWT the mock's token endpoint
# verifies, fetched once and cached), URL shapes (regions, global,
# api_base, Claude's publisher), the Gemini request mapping checked on what
# the mock received (the mock also refuses what Vertex refuses: unknown
# fields, empty parts, unanswered function calls...), response and stream
# mapping, Google's error model, Claude on Vertex (rawPredict /
# streamRawPredict), embeddings (:predict); then the official SDKs:
# @google/genai and @anthropic-ai/vertex-sdk against the mock alone, the
# openai SDK against the gateway.
#
# The mock is t/mock/providers/vertex.js (scenarios by the model id in the
# URL).  Its usage: promptTokenCount = words of every text part (+ 20 per
# function declaration, + 258 per image or file); candidatesTokenCount =
# words of the answer.
#
# The gateway's side of the token (reading vertex_credentials at config
# time, the POST to the key's token_uri, the shared-memory cache) is the
# nginx glue: it hands the token to the adapter in call->access_token.
use LlmTest;
use IPC::Run ();
use JSON::PP ();
use MIME::Base64 ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";
our $FIX = "$LlmTest::REPO_ROOT/tests/fixtures/vertex";

# The test service account (its public half is what the mock verifies
# with), as one line of JSON whose token_uri is the mock's /token; for a
# YAML single-quoted scalar.  "$MOCK_URL" stays literal here: the harness
# expands it in every section.
sub creds_json {
    my ($file) = @_;
    open my $fh, '<', "$FIX/$file" or die "$FIX/$file: $!";
    local $/;
    my $sa = JSON::PP->new->decode(<$fh>);
    $sa->{token_uri} = '$MOCK_URL/token';
    return JSON::PP->new->canonical->encode($sa);
}

our $CREDS = creds_json('sa.json');
our $CREDS_UNKNOWN = creds_json('sa-unknown-key.json');
our $SA_EMAIL = 'ngx-llm-test@ngx-llm-mock.iam.gserviceaccount.com';
our $SA_KID = '0a1b2c3d4e5f60718293a4b5c6d7e8f901234567';

my @gemini = qw(ok ok-split long tools tools-split tools2-split thinking cached safety blocked
    max-tokens slow-release stream-error stream-cut stream-eof garbage
    err-400 err-400-context err-401 err-403 err-404 err-429 err-500 err-503 err-504);
my @claude = qw(ok tools-split err-429 err-529 stream-error);

set_default(models => join('', map { <<"EOF" } @gemini) . join('', map { <<"EOF" } @claude) . <<"EOF");
- model_name: vx-$_
  litellm_params:
    model: vertex_ai/mock-$_
    vertex_project: ngx-llm-mock
    vertex_location: us-central1
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
EOF
- model_name: cx-$_
  litellm_params:
    model: vertex_ai/claude-mock-$_\@20250219
    vertex_project: ngx-llm-mock
    vertex_location: us-east5
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
EOF
- model_name: gemini-flash
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_project: my-gcp-project
    vertex_location: us-central1
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
- model_name: claude-on-vertex
  litellm_params:
    model: vertex_ai/claude-3-7-sonnet\@20250219
    vertex_project: my-gcp-project
    vertex_location: us-east5
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
- model_name: vx-embed
  litellm_params:
    model: vertex_ai/text-embedding-005
    vertex_project: ngx-llm-mock
    vertex_location: us-central1
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
  model_info:
    mode: embedding
- model_name: vx-gemini-embed
  litellm_params:
    model: vertex_ai/gemini-embedding-001
    vertex_project: ngx-llm-mock
    vertex_location: us-central1
    vertex_credentials: '$CREDS'
    api_base: \$MOCK_URL
  model_info:
    mode: embedding
EOF

# what the mock received, by route
sub routed {
    my ($t, @routes) = @_;
    my %r = map { $_ => 1 } @routes;
    return grep { $r{$_->{route} // ''} } @{$t->mock_requests};
}

sub model_calls { routed($_[0], qw(gemini claude predict)) }

# node --test on t/sdk files, its output as TAP comments; node's status
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/openai" && -d "$SDK_DIR/node_modules/\@google/genai"
            && -d "$SDK_DIR/node_modules/\@anthropic-ai/vertex-sdk") {
        print STDERR "# npm ci in $SDK_DIR\n";
        my $out = '';
        my $ok = eval {
            IPC::Run::run(['npm', 'ci', '--no-audit', '--no-fund'], '<', \undef, '>&', \$out,
                init => sub { chdir $SDK_DIR or die $! }, IPC::Run::timeout(600));
        };
        unless ($ok && -d "$SDK_DIR/node_modules/\@google/genai") {
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

# One letter per SSE event (as in t/10-anthropic.t):
#   R role chunk, C content, S<k> tool start, A<k> arguments, F finish,
#   U usage chunk, E error event, D [DONE], X anything else
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
    return 'T' if $keys eq 'reasoning_content' && length $d->{reasoning_content};
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

# stream_check code: the event kinds, run-length squeezed, must be $want
sub shape {
    my ($want) = @_;
    return sub {
        my ($ev, $r, $t) = @_;
        my @sq;
        for my $k (map { kind($_) } @$ev) {
            if (@sq && ($sq[-1] eq $k || $sq[-1] eq "$k+")) { $sq[-1] = "$k+" }
            else { push @sq, $k }
        }
        my $got = join ' ', @sq;
        LlmTest::_ok($t, $got eq $want, "stream shape '$want'", "got: $got",
            map { kind($_) . "  " . substr($_->{data} // '', 0, 200) } @$ev);
    };
}

# the chunks of a response without the per-request parts, to compare two
sub normalized {
    my ($r) = @_;
    my @out;
    for my $e (@{$r->{events} || []}) {
        my $j = $e->{json};
        if (ref $j eq 'HASH') {
            $j = JSON::PP->new->decode(JSON::PP->new->encode($j));
            delete @$j{qw(id created model)};
        }
        push @out, $e->{done} ? '[DONE]' : $j;
    }
    return JSON::PP->new->canonical->encode(\@out);
}

run_tests();

__DATA__

=== TEST 1: vertex.md's example pair: URL, Bearer token from the mock's token endpoint, the generateContent body, the answer
--- request
POST /v1/chat/completions
{"model":"gemini-flash","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Capital of France?"}],"max_tokens":50,"temperature":0.2,"stop":["\n\n"],"response_format":{"type":"json_object"}}
--- more_headers
Authorization: Bearer sk-client-own-secret-22
--- error_code: 200
--- response_json
{ object => 'chat.completion', model => 'gemini-flash', id => qr/\S/,
  choices => [ { index => 0, finish_reason => 'stop',
                 message => { role => 'assistant', content => '{"echo":"Capital of France?"}' } } ],
  usage => { prompt_tokens => 7, completion_tokens => 12, total_tokens => 19 } }
--- mock_request
{ method => 'POST', route => 'gemini',
  path => '/v1/projects/my-gcp-project/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent' }
--- mock_request_json
{ systemInstruction => { parts => [ { text => 'Be brief.' } ] },
  contents => [ { role => 'user', parts => [ { text => 'Capital of France?' } ] } ],
  generationConfig => { maxOutputTokens => 50, temperature => 0.2, stopSequences => ["\n\n"], responseMimeType => 'application/json' },
  model => absent(), messages => absent(), max_tokens => absent(), stop => absent() }
--- mock_request_headers
Authorization ~ ^Bearer ya29\.mock\d+\.
Content-Type ~ ^application/json
!x-goog-api-key
--- no_error_log
sk-client-own-secret-22
ya29.mock
PRIVATE KEY


=== TEST 2: the token: one JWT-bearer POST to the key's token_uri, its RS256 JWT verified by the mock (claims, kid); cached: five calls, one token
--- requests
[ (map { +{ path => '/v1/chat/completions', json => { model => 'vx-ok', messages => [ { role => 'user', content => "call $_" } ] } } } 1 .. 4),
  { path => '/v1/chat/completions', json => { model => 'vx-ok', stream => JSON::PP::true, messages => [ { role => 'user', content => 'stream' } ] } } ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @tok = main::routed($t, 'token');
    my @calls = main::model_calls($t);
    $t->ok(@calls == 5, "five model requests", "got " . scalar(@calls));
    $t->ok(@tok == 1, "exactly one token request for five calls (the token is cached)", "got " . scalar(@tok));
    return unless @tok;
    my $r = $tok[0];
    $t->ok($r->{path} eq '/token', "POST to the key's token_uri path", "path $r->{path}");
    $t->ok(($r->{headers}{'content-type'} // '') =~ m{^application/x-www-form-urlencoded}, "form-encoded", $r->{headers}{'content-type'});
    $t->ok($r->{body} =~ m{^grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$},
        "grant_type jwt-bearer and a base64url JWT", substr($r->{body}, 0, 120));
    my $jwt = $r->{jwt};
    $t->ok(ref $jwt eq 'HASH', "the mock verified the JWT's signature and claims");
    return unless ref $jwt eq 'HASH';
    my ($h, $c) = @$jwt{qw(header claims)};
    $t->ok($h->{alg} eq 'RS256' && $h->{typ} eq 'JWT' && $h->{kid} eq $main::SA_KID, "header alg RS256, typ JWT, kid", JSON::PP->new->encode($h));
    $t->ok($c->{iss} eq $main::SA_EMAIL, "iss is client_email", $c->{iss});
    $t->ok($c->{scope} eq 'https://www.googleapis.com/auth/cloud-platform', "cloud-platform scope", $c->{scope});
    $t->ok($c->{aud} eq 'http://127.0.0.1:' . $t->mock_port . '/token', "aud is the token_uri", $c->{aud});
    $t->ok($c->{exp} - $c->{iat} == 3600 && abs($c->{iat} - time) < 120, "iat now, exp = iat + 3600", "iat $c->{iat} exp $c->{exp}");
    $t->ok(!exists $c->{sub}, "no sub claim");
    my %auth = map { $_->{headers}{authorization} => 1 } @calls;
    $t->ok(keys(%auth) == 1 && (keys %auth)[0] =~ /^Bearer ya29\.mock\d+\./, "every call carries the one token", keys %auth);
}
--- no_error_log
ya29.mock
PRIVATE KEY
assertion=
eyJ


=== TEST 3: URL shapes: region, global, the vertexai/ alias, an api_base path prefix, streams (alt=sse), Claude's publisher and methods; the models of one key share its token
--- models eval
<<"EOF"
- model_name: g-global
  litellm_params:
    model: vertex_ai/gemini-2.5-pro
    vertex_project: p-global
    vertex_location: global
    vertex_credentials: '$main::CREDS'
    api_base: \$MOCK_URL
- model_name: g-alias
  litellm_params:
    model: vertexai/gemini-2.0-flash
    vertex_project: p-alias
    vertex_location: europe-west1
    vertex_credentials: '$main::CREDS'
    api_base: \$MOCK_URL
- model_name: g-prefix
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_project: p-prefix
    vertex_location: us-central1
    vertex_credentials: '$main::CREDS'
    api_base: \$MOCK_URL/proxy/vertex/
- model_name: c-east
  litellm_params:
    model: vertex_ai/claude-3-7-sonnet\@20250219
    vertex_project: p-claude
    vertex_location: us-east5
    vertex_credentials: '$main::CREDS'
    api_base: \$MOCK_URL
EOF
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => $_->[0], ($_->[1] ? (stream => JSON::PP::true) : ()), messages => [ { role => 'user', content => 'u' } ] } } }
  [ 'g-global', 0 ], [ 'g-global', 1 ], [ 'g-alias', 0 ], [ 'g-prefix', 0 ], [ 'c-east', 0 ], [ 'c-east', 1 ] ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @got = map { $_->{url} } main::model_calls($t);
    my @want = (
        '/v1/projects/p-global/locations/global/publishers/google/models/gemini-2.5-pro:generateContent',
        '/v1/projects/p-global/locations/global/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
        '/v1/projects/p-alias/locations/europe-west1/publishers/google/models/gemini-2.0-flash:generateContent',
        '/proxy/vertex/v1/projects/p-prefix/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent',
        '/v1/projects/p-claude/locations/us-east5/publishers/anthropic/models/claude-3-7-sonnet@20250219:rawPredict',
        '/v1/projects/p-claude/locations/us-east5/publishers/anthropic/models/claude-3-7-sonnet@20250219:streamRawPredict',
    );
    $t->ok("@got" eq "@want", "request URLs", map({ "want $_" } @want), map({ "got  $_" } @got));
    # four models, one key: one token, shared
    my @tok = main::routed($t, 'token');
    $t->ok(@tok == 1, "one token for the four models of one key", "got " . scalar(@tok));
    my %auth = map { ($_->{headers}{authorization} // '') => 1 } main::model_calls($t);
    $t->ok(keys(%auth) == 1, "every call carries it", keys %auth);
}


=== TEST 4: vertex_credentials from os.environ/NAME (inline JSON in the variable); no vertex_project: the key's project_id
--- models
- model_name: g-env
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_location: us-central1
    vertex_credentials: os.environ/VERTEX_SA_JSON_22
    api_base: $MOCK_URL
--- env eval
"VERTEX_SA_JSON_22=$main::CREDS\n!VERTEXAI_PROJECT\n!VERTEX_PROJECT\n"
--- request
POST /v1/chat/completions
{"model":"g-env","messages":[{"role":"user","content":"from env"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: from env"}}]}
--- mock_request
{ path => '/v1/projects/ngx-llm-mock/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent' }
--- mock_request_headers
Authorization ~ ^Bearer ya29\.mock
--- no_error_log
PRIVATE KEY


=== TEST 5: vertex_credentials as a file path (read when the model file is loaded: here on a reload); without vertex_project, the key's project_id (as LiteLLM does)
--- env
!VERTEXAI_PROJECT
!VERTEX_PROJECT
!GOOGLE_CLOUD_PROJECT
--- check
sub {
    my $t = shift;
    # the key file, with its token_uri at the mock, for the reload below
    my $json = $main::CREDS;
    my $url = 'http://127.0.0.1:' . $t->mock_port;
    my $var = '$' . 'MOCK' . '_URL';    # (the harness would expand it whole)
    $json =~ s/\Q$var\E/$url/g;
    open my $fh, '>', $t->dir . '/sa.json' or die $!;
    print $fh $json;
    close $fh;
    chmod 0644, $t->dir . '/sa.json';
    $t->ok(-s $t->dir . '/sa.json', "key file written");
}
--- reload_models
- model_name: g-file
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_project: p-file
    vertex_location: us-central1
    vertex_credentials: $TEST_DIR/sa.json
    api_base: $MOCK_URL
- model_name: g-file-noproject
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_location: us-central1
    vertex_credentials: $TEST_DIR/sa.json
    api_base: $MOCK_URL
--- requests2
["POST /v1/chat/completions\n{\"model\":\"g-file\",\"messages\":[{\"role\":\"user\",\"content\":\"from a file\"}]}",
 "POST /v1/chat/completions\n{\"model\":\"g-file-noproject\",\"messages\":[{\"role\":\"user\",\"content\":\"no project\"}]}"]
--- error_code2: 200
--- response_json2
{"choices":[{"message":{"content":"echo: no project"}}]}
--- check2
sub {
    my $t = shift;
    my @p = map { $_->{path} } main::model_calls($t);
    $t->ok(@p == 2 && $p[0] =~ m{^/v1/projects/p-file/} && $p[1] =~ m{^/v1/projects/ngx-llm-mock/locations/us-central1/},
        "vertex_project, else the key's project_id", @p);
    $t->ok(scalar(grep { ($_->{headers}{authorization} // '') =~ /^Bearer ya29\.mock/ } main::model_calls($t)) == 2, "Bearer tokens");
}
--- no_error_log
PRIVATE KEY


=== TEST 6: credentials from an unset os.environ/NAME -> 401 naming the variable, nothing sent (no token request either)
--- models
- model_name: g-noenv
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_project: ngx-llm-mock
    vertex_credentials: os.environ/NOT_SET_VERTEX_SA_22
    api_base: $MOCK_URL
--- env
!NOT_SET_VERTEX_SA_22
--- request
POST /v1/chat/completions
{"model":"g-noenv","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/NOT_SET_VERTEX_SA_22/ }
--- mock_request_count: 0


=== TEST 7: a key the token endpoint refuses (invalid_grant: Invalid JWT Signature.) -> 401 authentication_error; no model call
--- models eval
<<"EOF"
- model_name: g-badkey
  litellm_params:
    model: vertex_ai/gemini-2.5-flash
    vertex_project: ngx-llm-mock
    vertex_location: us-central1
    vertex_credentials: '$main::CREDS_UNKNOWN'
    api_base: \$MOCK_URL
EOF
--- request
POST /v1/chat/completions
{"model":"g-badkey","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{ type => 'authentication_error', message => qr/invalid_grant|Invalid JWT Signature/ }
--- check
sub {
    my $t = shift;
    $t->ok(main::routed($t, 'token') >= 1, "the token endpoint was asked");
    $t->ok(main::model_calls($t) == 0, "no model request without a token");
}
--- no_error_log
PRIVATE KEY
assertion=


=== TEST 8: a token Google no longer accepts (revoked): the 401 UNAUTHENTICATED makes the gateway fetch a new token and retry once
--- requests
[ { path => '/v1/chat/completions', json => { model => 'vx-ok', messages => [ { role => 'user', content => 'first' } ] } } ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    # every token the mock issued so far stops working
    my $r = LlmTest::http_request(port => $t->mock_port, method => 'POST', path => '/revoke',
        headers => [ 'Content-Type' => 'application/x-www-form-urlencoded' ], body => 'token=*');
    $t->ok($r->{status} == 200, "revoked", $r->{raw});
    my $again = $t->request(path => '/v1/chat/completions', json => { model => 'vx-ok', messages => [ { role => 'user', content => 'second' } ] });
    $t->ok($again->{status} == 200, "the call after the revocation succeeds", $again->{body});
    $t->ok(($again->{json}{choices}[0]{message}{content} // '') eq 'echo: second', "its answer");
    my @tok = main::routed($t, 'token');
    $t->ok(@tok == 2, "a second token was fetched", "token requests: " . scalar(@tok));
    my @calls = main::model_calls($t);
    $t->ok(@calls == 3, "first call, refused call, retried call", "model requests: " . scalar(@calls));
}


=== TEST 9: request mapping: system + developer, multimodal parts, sampling, stop, seed, n, json_schema (additionalProperties and $schema stripped), user -> labels, merged user turns
--- request
POST /v1/chat/completions
{"model":"vx-ok","messages":[{"role":"system","content":"one"},{"role":"developer","content":[{"type":"text","text":"two"}]},{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},{"type":"image_url","image_url":{"url":"gs://bucket/cat.jpg"}}]},{"role":"user","content":"and this"}],"temperature":0.7,"top_p":0.9,"top_k":20,"seed":7,"n":2,"presence_penalty":0.1,"frequency_penalty":0.2,"max_completion_tokens":300,"stop":"END","user":"u-22","metadata":{"k":"v"},"store":false,"response_format":{"type":"json_schema","json_schema":{"name":"r","strict":true,"schema":{"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,"properties":{"echo":{"type":"string","format":"email"},"n":{"type":["integer","null"]}},"required":["echo"]}}}}
--- error_code: 200
--- response_json
{ choices => [ { index => 0, message => { content => '{"echo":"lookand this"}' } }, { index => 1, message => { content => '{"echo":"lookand this"}' } } ] }
--- mock_request_json
{ systemInstruction => { parts => [ { text => 'one' }, { text => 'two' } ] },
  contents => [ { role => 'user', parts => [ { text => 'look' },
                                             { inlineData => { mimeType => 'image/png', data => 'iVBORw0KGgo=' } },
                                             { fileData => { mimeType => 'image/jpeg', fileUri => 'gs://bucket/cat.jpg' } },
                                             { text => 'and this' } ] } ],
  generationConfig => { temperature => 0.7, topP => 0.9, topK => 20, seed => 7, candidateCount => 2,
                        presencePenalty => 0.1, frequencyPenalty => 0.2, maxOutputTokens => 300, stopSequences => ['END'],
                        responseMimeType => 'application/json',
                        responseSchema => { type => 'object', properties => { echo => { type => 'string', format => absent() },
                                                                              n => { type => 'integer', nullable => JSON::PP::true } },
                                            required => ['echo'], additionalProperties => absent(), '$schema' => absent() } },
  labels => { user => 'u-22' },
  metadata => absent(), store => absent(), user => absent(), n => absent() }


=== TEST 10: tools -> functionDeclarations (schemas reduced to Vertex's subset), tool_choice -> toolConfig; the call comes back with a minted id carrying the thoughtSignature
--- request
POST /v1/chat/completions
{"model":"vx-tools","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Current weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}}},{"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}}}
--- error_code: 200
--- response_json
{ choices => [ { finish_reason => 'tool_calls',
                 message => { role => 'assistant', content => undef,
                              tool_calls => [ { type => 'function', id => qr/^call_.+__thought__bW9jay10aG91Z2h0LXNpZ25hdHVyZS8\S+$/,
                                                function => { name => 'get_weather', arguments => '{"city":"Paris","query":"weather?"}' } } ] } } ] }
--- mock_request_json
{ tools => [ { functionDeclarations => [
    { name => 'get_weather', description => 'Current weather',
      parameters => { type => 'object', properties => { city => { type => 'string' } }, required => ['city'], additionalProperties => absent() } },
    { name => 'now', parameters => absent() } ] } ],
  toolConfig => { functionCallingConfig => { mode => 'ANY', allowedFunctionNames => ['get_weather'] } } }


=== TEST 11: a tool round trip: the function name comes from tool_call_id, the thoughtSignature from the id the gateway minted, results join one user turn
--- check
sub {
    my $t = shift;
    my @tools = ({ type => 'function', function => { name => 'get_weather', parameters => { type => 'object', properties => { city => { type => 'string' } } } } });
    my $q = [ { role => 'user', content => 'weather in two cities?' } ];
    my $r1 = $t->request(path => '/v1/chat/completions', json => { model => 'vx-tools2-split', messages => $q, tools => \@tools });
    $t->ok($r1->{status} == 200, "first call", $r1->{body});
    my $msg = $r1->{json}{choices}[0]{message};
    my @tc = @{$msg->{tool_calls} || []};
    $t->ok(@tc == 2, "two tool calls");
    return unless @tc == 2;
    my ($first) = main::model_calls($t);
    my $r2 = $t->request(path => '/v1/chat/completions', json => { model => 'vx-ok', tools => \@tools, messages => [
        @$q, $msg,
        { role => 'tool', tool_call_id => $tc[1]{id}, content => 'Tokyo: 21C' },
        { role => 'tool', tool_call_id => $tc[0]{id}, content => '{"temp":18}' },
    ] });
    $t->ok($r2->{status} == 200, "second call accepted by the mock (it checks call/response pairing)", $r2->{body});
    my $sent = (main::model_calls($t))[-1]{json};
    my $model = $sent->{contents}[1];
    my @calls = grep { $_->{functionCall} } @{$model->{parts}};
    $t->ok(@calls == 2 && $model->{role} eq 'model', "two functionCall parts in a model turn");
    for my $k (0, 1) {
        my $sig = MIME::Base64::decode_base64($calls[$k]{thoughtSignature} // '');
        $t->ok($sig eq "mock-thought-signature/$first->{seq}/$k", "thoughtSignature $k re-attached", $sig);
    }
    my $res = $sent->{contents}[2];
    $t->ok($res->{role} eq 'user' && @{$res->{parts}} == 2, "one user turn with both results");
    $t->ok($res->{parts}[0]{functionResponse}{name} eq 'get_weather'
        && $res->{parts}[0]{functionResponse}{response}{content} eq 'Tokyo: 21C', "text result wrapped as {content}",
        JSON::PP->new->encode($res->{parts}[0]));
    $t->ok($res->{parts}[1]{functionResponse}{response}{temp} == 18, "JSON object result as it is");
}


=== TEST 12: stream: exact OpenAI chunk sequence; CRLF-framed Gemini events; the last event (finishReason, empty text) -> finish; usage only when asked
--- request
POST /v1/chat/completions
{"model":"vx-ok","stream":true,"messages":[{"role":"user","content":"stream please"}]}
--- error_code: 200
--- response_headers_like
Content-Type: ^text/event-stream
--- stream_check
{ content => 'echo: stream please', finish_reason => 'stop', done => 1, no_usage => 1,
  chunks => { object => 'chat.completion.chunk', model => 'vx-ok', id => qr/\S/ },
  code => main::shape('R C+ F D') }
--- mock_request
{ url => '/v1/projects/ngx-llm-mock/locations/us-central1/publishers/google/models/mock-ok:streamGenerateContent?alt=sse' }


=== TEST 13: stream split at awkward bytes gives the same chunks; include_usage -> usage null on each chunk and one usage chunk from the last usageMetadata
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => $_, stream => JSON::PP::true, stream_options => { include_usage => JSON::PP::true },
                                                     messages => [ { role => 'user', content => 'héllo 你好 🌍 ça va' } ] } } } qw(vx-ok vx-ok-split) ]
--- error_code: 200
--- stream_check
{ content => 'echo: héllo 你好 🌍 ça va', usage_chunk => 1, usage_null => 1, done => 1,
  usage => { prompt_tokens => 5, completion_tokens => 7, total_tokens => 12 },
  code => main::shape('R C+ F U D') }
--- check
sub {
    my $t = shift;
    my ($a, $b) = map { main::normalized($t->response($_)) } 0, 1;
    $t->ok($a eq $b, "split and whole streams give the same chunks", "whole: $a", "split: $b");
}


=== TEST 14: streamed tool call (Gemini sends it whole): text, then start + arguments at index 0, finish tool_calls
--- request
POST /v1/chat/completions
{"model":"vx-tools-split","stream":true,"messages":[{"role":"user","content":"où \"est\" \\ Paris?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, content => 'Let me check.',
  tool_calls => [ { id => qr/^call_\S+__thought__\S+$/, type => 'function',
    function => { name => 'get_weather', arguments => '{"city":"Paris","query":"où \"est\" \\\\ Paris?"}' } } ],
  code => main::shape('R C+ S0 A0 F D') }


=== TEST 15: two streamed tool calls, tool_choice required (no text): indexes 0 and 1
--- request
POST /v1/chat/completions
{"model":"vx-tools2-split","stream":true,"tool_choice":"required","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"a","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1,
  code => main::shape('R S0 A0 S1 A1 F D') }
--- mock_request_json
{ toolConfig => { functionCallingConfig => { mode => 'ANY' } } }


=== TEST 16: thinking: reasoning_effort -> thinkingConfig (budget, includeThoughts); thought parts -> reasoning_content, never content; thoughts in the usage
--- requests
[ { path => '/v1/chat/completions', json => { model => 'vx-thinking', reasoning_effort => 'low', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: x', reasoning_content => 'The user said "x". I will echo it.' } } ],
                                                      usage => { prompt_tokens => 1, completion_tokens => 22, completion_tokens_details => { reasoning_tokens => 19 } } } } },
  { path => '/v1/chat/completions', json => { model => 'vx-thinking', reasoning_effort => 'low', stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: x', done => 1, code => main::shape('R T+ C+ F D') } } } ]
--- mock_request_json
{ generationConfig => { thinkingConfig => { thinkingBudget => 1024, includeThoughts => JSON::PP::true } }, reasoning_effort => absent() }


=== TEST 17: usage: cachedContentTokenCount -> prompt_tokens_details.cached_tokens (already in prompt_tokens)
--- request
POST /v1/chat/completions
{"model":"vx-cached","messages":[{"role":"user","content":"a b c d e"}]}
--- error_code: 200
--- response_json
{ usage => { prompt_tokens => 5, completion_tokens => 7, total_tokens => 12, prompt_tokens_details => { cached_tokens => 4 } } }


=== TEST 18: finish reasons: SAFETY -> content_filter, a blocked prompt -> content_filter, MAX_TOKENS -> length (also in streams)
--- requests
[ (map { my ($m, $f) = @$_; +{ path => '/v1/chat/completions', json => { model => $m, messages => [ { role => 'user', content => 'x' } ] },
                                expect => { error_code => 200, response_json => { choices => [ { finish_reason => $f } ] } } } }
   [ 'vx-safety', 'content_filter' ], [ 'vx-blocked', 'content_filter' ], [ 'vx-max-tokens', 'length' ]),
  (map { my ($m, $f, $shape) = @$_; +{ path => '/v1/chat/completions', json => { model => $m, stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
                                       expect => { error_code => 200, stream_check => { finish_reason => $f, done => 1, code => main::shape($shape) } } } }
   [ 'vx-safety', 'content_filter', 'R F D' ], [ 'vx-blocked', 'content_filter', 'R F D' ], [ 'vx-max-tokens', 'length', 'R C+ F D' ]) ]


=== TEST 19: Google's error model -> OpenAI errors: INVALID_ARGUMENT 400, input token count -> context_length_exceeded, PERMISSION_DENIED 403, NOT_FOUND 404 model_not_found, RESOURCE_EXHAUSTED 429, INTERNAL -> 502, UNAVAILABLE 503, DEADLINE_EXCEEDED 504
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => "vx-err-$_->[0]", messages => [ { role => 'user', content => 'x' } ] },
           expect => { error_code => $_->[1], openai_error => $_->[2] } } }
  [ '400', 400, { type => 'invalid_request_error', message => qr/^vertex_ai: Request contains an invalid argument/ } ],
  [ '400-context', 400, { type => 'invalid_request_error', code => 'context_length_exceeded', message => qr/input token count/ } ],
  [ '403', 403, { type => 'permission_error' } ],
  [ '404', 404, { code => 'model_not_found', message => qr/Publisher Model/ } ],
  [ '429', 429, { type => 'rate_limit_error', code => 'rate_limit_exceeded', message => qr/Resource exhausted/ } ],
  [ '500', 502, { type => 'server_error' } ],
  [ '503', 503, { type => 'server_error', code => 'overloaded' } ],
  [ '504', 504, { type => 'server_error', code => 'timeout' } ] ]
--- response_body_unlike
"status"


=== TEST 20: a model call answered 401 UNAUTHENTICATED even after a fresh token -> 401 authentication_error
--- request
POST /v1/chat/completions
{"model":"vx-err-401","messages":[{"role":"user","content":"x"}]}
--- error_code: 401
--- openai_error
{"type":"authentication_error","code":"invalid_api_key"}
--- check
sub {
    my $t = shift;
    my @calls = main::model_calls($t);
    $t->ok(@calls >= 1 && @calls <= 2, "at most one retry", "model requests: " . scalar(@calls));
}


=== TEST 21: mid-stream: Google's bare JSON error object (no data:) -> an error event; a cut connection and an end without finishReason -> error events too
--- requests
[ map { +{ path => '/v1/chat/completions', json => { model => "vx-$_->[0]", stream => JSON::PP::true, messages => [ { role => 'user', content => 'boom' } ] },
           expect => { error_code => 200, stream_check => { error_event => $_->[1], content => 'echo: ', code => main::shape('R C+ E D') } } } }
  [ 'stream-error', { type => 'server_error', message => qr/Internal error encountered/ } ],
  [ 'stream-cut', { type => 'server_error' } ],
  [ 'stream-eof', { type => 'server_error', message => qr/closed the stream before it ended/ } ] ]


=== TEST 22: unbuffered: the first text reaches the client while Vertex still holds the rest
--- request
POST /v1/chat/completions
{"model":"vx-slow-release","stream":true,"messages":[{"role":"user","content":"wait for it"}]}
--- release_on: /"content"\s*:\s*"echo: "/
--- timeout: 8
--- error_code: 200
--- stream_check
{ content => 'echo: wait for it', finish_reason => 'stop', done => 1 }


=== TEST 23: a long stream (~90 KB of multi-byte text) arrives whole; a 200 that is not JSON -> 502
--- requests
[ { path => '/v1/chat/completions', json => { model => 'vx-long', stream => JSON::PP::true, messages => [ { role => 'user', content => 'long' } ] },
    expect => { error_code => 200, stream_check => { content => 'echo: long ' . ('lorem ipsum dolor é 你好 🌍 sit amet. ' x 2500), done => 1 } } },
  { path => '/v1/chat/completions', json => { model => 'vx-garbage', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 502, openai_error => { type => 'server_error' } } } ]
--- timeout: 20


=== TEST 24: Claude on Vertex: rawPredict with the Anthropic body (no model, anthropic_version vertex-2023-10-16, max_tokens), Bearer token; the answer mapped by the Anthropic adapter
--- request
POST /v1/chat/completions
{"model":"claude-on-vertex","max_tokens":256,"messages":[{"role":"system","content":"terse"},{"role":"user","content":"Hi"}]}
--- error_code: 200
--- response_json
{ model => 'claude-on-vertex', choices => [ { finish_reason => 'stop', message => { content => 'echo: Hi' } } ],
  usage => { prompt_tokens => qr/^\d+$/, prompt_tokens_details => { cached_tokens => 300 } } }
--- mock_request
{ route => 'claude', path => '/v1/projects/my-gcp-project/locations/us-east5/publishers/anthropic/models/claude-3-7-sonnet@20250219:rawPredict' }
--- mock_request_json
{ anthropic_version => 'vertex-2023-10-16', model => absent(), max_tokens => 256, system => 'terse',
  messages => [ { role => 'user', content => 'Hi' } ], stream => absent() }
--- mock_request_headers
Authorization ~ ^Bearer ya29\.mock
!x-api-key
!anthropic-version


=== TEST 25: Claude on Vertex, streamed tool call (streamRawPredict, Anthropic SSE): text, tool start + argument fragments, finish tool_calls
--- request
POST /v1/chat/completions
{"model":"cx-tools-split","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"weather?"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]}
--- error_code: 200
--- stream_check
{ finish_reason => 'tool_calls', done => 1, content => 'Let me check.', usage_chunk => 1,
  tool_calls => [ { id => qr/^toolu_mock\d+x0$/, function => { name => 'get_weather', arguments => '{"city":"Paris","query":"weather?"}' } } ],
  code => main::shape('R C+ S0 A0+ F U D') }
--- mock_request
{ route => 'claude', url => '/v1/projects/ngx-llm-mock/locations/us-east5/publishers/anthropic/models/claude-mock-tools-split@20250219:streamRawPredict' }
--- mock_request_json
{ stream => JSON::PP::true, anthropic_version => 'vertex-2023-10-16', model => absent() }


=== TEST 26: Claude on Vertex errors: the platform's 429 in Google's shape, the model's 529 overloaded_error in Anthropic's, an Anthropic error event mid-stream
--- requests
[ { path => '/v1/chat/completions', json => { model => 'cx-err-429', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 429, openai_error => { type => 'rate_limit_error', code => 'rate_limit_exceeded' } } },
  { path => '/v1/chat/completions', json => { model => 'cx-err-529', messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 503, openai_error => { type => 'server_error', code => 'overloaded' } } },
  { path => '/v1/chat/completions', json => { model => 'cx-stream-error', stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 200, stream_check => { error_event => { type => 'server_error', code => 'overloaded' } } } } ]


=== TEST 27: embeddings: input -> instances (:predict), dimensions -> outputDimensionality, usage = the token counts; base64; one instance only for gemini-embedding -> the upstream 400
--- requests
[ { path => '/v1/embeddings', json => { model => 'vx-embed', input => [ 'one two', 'three' ], dimensions => 4 },
    expect => { error_code => 200, response_json => { object => 'list', model => 'vx-embed',
                                                      data => [ { object => 'embedding', index => 0, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } },
                                                                { object => 'embedding', index => 1, embedding => sub { ref $_[0] eq 'ARRAY' && @{$_[0]} == 4 } } ],
                                                      usage => { prompt_tokens => 3, total_tokens => 3 } } } },
  { path => '/v1/embeddings', json => { model => 'vx-embed', input => 'b64', dimensions => 2, encoding_format => 'base64' },
    expect => { error_code => 200, response_json => { data => [ { embedding => qr{^[A-Za-z0-9+/]{11}=$} } ] } } },
  { path => '/v1/embeddings', json => { model => 'vx-gemini-embed', input => [ 'a', 'b' ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', message => qr/one instance per request/ } } } ]
--- check
sub {
    my $t = shift;
    my ($first) = main::routed($t, 'predict');
    $t->ok($first && $first->{path} eq '/v1/projects/ngx-llm-mock/locations/us-central1/publishers/google/models/text-embedding-005:predict', "the :predict URL", $first && $first->{path});
    $t->ok($first && JSON::PP->new->canonical->encode($first->{json}) eq '{"instances":[{"content":"one two"},{"content":"three"}],"parameters":{"outputDimensionality":4}}',
        "the :predict body", $first && JSON::PP->new->canonical->encode($first->{json}));
}


=== TEST 28: unsupported params: logit_bias -> 400 (drop_params unset), n > 1 with stream -> 400; nothing sent
--- requests
[ { path => '/v1/chat/completions', json => { model => 'vx-ok', logit_bias => { '50256' => -100 }, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'logit_bias' } } },
  { path => '/v1/chat/completions', json => { model => 'vx-ok', n => 2, stream => JSON::PP::true, messages => [ { role => 'user', content => 'x' } ] },
    expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'n' } } } ]
--- check
sub {
    my $t = shift;
    $t->ok(main::model_calls($t) == 0, "no model request");
}


=== TEST 29: @google/genai and @anthropic-ai/vertex-sdk -> the Vertex mock directly (the mock is faithful; its token endpoint verifies the SDK's own JWT)
--- no_module
--- config
location / { return 404; }
--- timeout: 120
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-vertex.test.mjs');
    $t->ok($rc == 0, "node --test mock-vertex.test.mjs exits 0 (got $rc)");
}


=== TEST 30: openai SDK -> gateway -> the Vertex mock: Gemini chat, stream, streamed tool call, tool round trip; Claude chat and streamed tool call; embeddings; one token
--- models eval
<<"EOF"
- model_name: vx-gemini
  litellm_params: {model: vertex_ai/gemini-2.5-flash, vertex_project: ngx-llm-mock, vertex_location: us-central1, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-gemini-split
  litellm_params: {model: vertex_ai/mock-ok-split, vertex_project: ngx-llm-mock, vertex_location: us-central1, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-tools
  litellm_params: {model: vertex_ai/mock-tools-split, vertex_project: ngx-llm-mock, vertex_location: us-central1, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-429
  litellm_params: {model: vertex_ai/mock-err-429, vertex_project: ngx-llm-mock, vertex_location: us-central1, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-claude
  litellm_params: {model: vertex_ai/claude-3-7-sonnet\@20250219, vertex_project: ngx-llm-mock, vertex_location: us-east5, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-claude-tools
  litellm_params: {model: vertex_ai/claude-mock-tools-split\@20250219, vertex_project: ngx-llm-mock, vertex_location: us-east5, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
- model_name: vx-embed
  litellm_params: {model: vertex_ai/text-embedding-005, vertex_project: ngx-llm-mock, vertex_location: us-central1, vertex_credentials: '$main::CREDS', api_base: \$MOCK_URL}
  model_info: {mode: embedding}
EOF
--- timeout: 120
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-vertex.test.mjs');
    $t->ok($rc == 0, "node --test gateway-vertex.test.mjs exits 0 (got $rc)");
}
--- no_error_log
PRIVATE KEY
sk-anything-client-side-vertex
