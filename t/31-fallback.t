# Retries and fallbacks: every way a deployment can fail before the client
# saw a byte (refused, closed, hung, 429, 500, 503, 529, an answer that is
# not JSON, a stream that answers 200 and then fails or is cut before its
# first content) ends in ONE clean answer from the next deployment; then
# the fallback chain (fallbacks, default_fallbacks, max_fallbacks,
# context_window_fallbacks, content_policy_fallbacks), including OpenAI ->
# Anthropic; what is never retried (client errors, a stream that already
# sent content); loops refused at load; and no request loops at run time.
#
# Each deployment has its own api_base path prefix, so the mock's request
# log tells which one a try went to.
use LlmTest;
use IPC::Run ();

# the deployment (first path segment) of every request the mock received
sub deps_seen { map { ($_->{path} =~ m{^/([^/]+)/})[0] // '?' } @{ LlmTest::mock_requests() } }
sub count_of { my ($d, @l) = @_; scalar grep { $_ eq $d } @l }

sub chat_req {
    my (%o) = @_;
    return {
        path => '/v1/chat/completions',
        json => {
            model => $o{model} // 'gpt',
            messages => [ { role => 'user', content => $o{text} // 'hi' } ],
            ($o{stream} ? (stream => JSON::PP::true()) : ()),
        },
        headers => $o{headers} // [],
        ($o{expect} ? (expect => $o{expect}) : ()),
    };
}

# failure modes of the first deployment of group m-<mode>; the second
# one (order 2) answers.  A 429 with Retry-After cools the failing one at
# once (cools => 1): the next request goes straight to the second.
our @MODES = (
    [ 'refused',            'openai/mock-ok',                  'http://127.0.0.1:$CLOSED_PORT/f-refused/v1' ],
    [ 'close',              'openai/mock-close' ],
    [ 'hang',               'openai/mock-hang',                undef, 'timeout: 1' ],
    [ 'err-429',            'openai/mock-err-429',             undef, undef, 'cools' ],
    [ 'err-429-quota',      'openai/mock-err-429-quota' ],
    [ 'err-500',            'openai/mock-err-500' ],
    [ 'err-503',            'openai/mock-err-503' ],
    [ 'err-529',            'openai/mock-err-529' ],
    [ 'garbage',            'openai/mock-garbage' ],
    [ 'stream-error-early', 'openai/mock-stream-error-early-split' ],
    [ 'stream-cut-early',   'openai/mock-stream-cut-early' ],
    [ 'ant-529',            'anthropic/mock-err-529' ],
    [ 'ant-429',            'anthropic/mock-err-429',          undef, undef, 'cools' ],
    [ 'ant-500',            'anthropic/mock-err-500' ],
);

our $MODE_MODELS = "model_list:\n" . join '', map {
    my ($m, $model, $base, $extra) = @$_;
    $base //= ($model =~ /^anthropic/ ? "\$MOCK_URL/f-$m" : "\$MOCK_URL/f-$m/v1");
    <<"EOF" } @MODES;
  - model_name: m-$m
    litellm_params: {model: $model, api_base: $base, api_key: sk-f, order: 1@{[ $extra ? ", $extra" : '' ]}}
    model_info: {id: fail-$m}
  - model_name: m-$m
    litellm_params: {model: openai/mock-ok, api_base: \$MOCK_URL/ok-$m/v1, api_key: sk-ok, order: 2}
    model_info: {id: ok-$m}
EOF

set_default(models => $MODE_MODELS);

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

# node --test on t/sdk files; returns node's exit status
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/openai") {
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

=== TEST 1: the mock scenarios these tests use are faithful (openai SDK against the mock)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-openai-routing.test.mjs');
    $t->ok($rc == 0, "node --test mock-openai-routing.test.mjs exits 0 (got $rc)");
}


=== TEST 2: every failure before the first byte -> one clean answer from the next deployment (non-stream and stream)
--- timeout: 20
--- requests
[ map { my $m = $_->[0];
        (main::chat_req(model => "m-$m", text => "$m plain"),
         main::chat_req(model => "m-$m", text => "$m streamed", stream => 1)) } @main::MODES ]
--- check
sub {
    my $t = shift;
    my @modes = map { $_->[0] } @main::MODES;
    my %cools = map { $_->[0] => !!$_->[4] } @main::MODES;
    for my $i (0 .. $#modes) {
        my $m = $modes[$i];
        for my $k (0, 1) {
            my $r = $t->response(2 * $i + $k);
            my $what = "$m " . ($k ? 'stream' : 'plain');
            my $h = $r->{header};
            my $retries = $k && $cools{$m} ? 0 : 1;
            $t->ok(($r->{status} // 0) == 200 && $r->{complete}, "$what: 200", LlmTest::_resp_diag($r)) or next;
            $t->ok(($h->{'x-litellm-model-id'} // '') eq "ok-$m"
                    && ($h->{'x-litellm-model-group'} // '') eq "m-$m"
                    && ($h->{'x-litellm-attempted-retries'} // '') eq $retries
                    && ($h->{'x-litellm-attempted-fallbacks'} // '') eq '0',
                "$what: headers report the second deployment after $retries retry",
                map { "$_: " . ($h->{$_} // '(absent)') } qw(x-litellm-model-id x-litellm-model-group x-litellm-attempted-retries x-litellm-attempted-fallbacks));
            $t->ok(!exists $h->{'retry-after'}, "$what: no Retry-After from the failed try on the answer");
            if ($k) {
                LlmTest::check_stream($t->t, $r, { content => "echo: $m streamed", finish_reason => 'stop' }, "$what: ");
            } else {
                my $c = ref $r->{json} eq 'HASH' ? $r->{json}{choices}[0]{message}{content} : undef;
                $t->ok(($c // '') eq "echo: $m plain" && $r->{json}{object} eq 'chat.completion', "$what: the answer", $r->{body});
            }
        }
    }
    my @d = main::deps_seen();
    for my $m (@modes) {
        my $f = main::count_of("f-$m", @d);
        my $want = $m eq 'refused' ? 0 : $cools{$m} ? 1 : 2;
        # a close without a byte on a kept-alive connection looks like a
        # stale connection: one more try of the same deployment on a new
        # one is fair (nginx does the same).  stream-cut-early does that
        # to a non-streaming call; its stream gets a 200 first (TEST 3).
        my $ok = $m eq 'close' ? $f >= 2 && $f <= 4
               : $m eq 'stream-cut-early' ? $f >= 2 && $f <= 3
               : $f == $want;
        $t->ok($ok, "$m: the failing deployment got $want request(s) ($f)");
        $t->ok(main::count_of("ok-$m", @d) == 2, "$m: the next deployment answered each request once");
    }
}


=== TEST 3: a timeout, or a reset after the 200, on a kept-alive connection moves on: the failed deployment is not tried again
--- models
model_list:
  - model_name: warm
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/w/v1, api_key: sk-w}
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1, timeout: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
  - model_name: gpt2
    litellm_params: {model: openai/mock-stream-cut-early, api_base: $MOCK_URL/c/v1, api_key: sk-c, order: 1}
  - model_name: gpt2
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/d/v1, api_key: sk-d, order: 2}
    model_info: {id: dep-d}
--- timeout: 15
--- requests
[ main::chat_req(model => 'warm', expect => { error_code => 200 }),
  main::chat_req(model => 'gpt', expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-b\nx-litellm-attempted-retries: 1" }),
  main::chat_req(model => 'warm', expect => { error_code => 200 }),
  main::chat_req(model => 'gpt2', stream => 1, expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-d\nx-litellm-attempted-retries: 1" }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    # the warm-up leaves an idle connection to the mock's address, which
    # the next try (another deployment, same address) reuses
    $t->ok("@d" eq "w a b w c d", "one try of each failing deployment", "got: @d (conn ids: "
        . join(' ', map { $_->{conn_id} } @{ LlmTest::mock_requests() }) . ")");
}


=== TEST 4: the same without upstream keepalive: one try of each failing deployment
--- http_config
llm_keepalive 0;
--- models
model_list:
  - model_name: warm
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/w/v1, api_key: sk-w}
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1, timeout: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: gpt2
    litellm_params: {model: openai/mock-stream-cut-early, api_base: $MOCK_URL/c/v1, api_key: sk-c, order: 1}
  - model_name: gpt2
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/d/v1, api_key: sk-d, order: 2}
--- timeout: 15
--- requests
[ main::chat_req(model => 'warm'), main::chat_req(model => 'gpt'), main::chat_req(model => 'warm'), main::chat_req(model => 'gpt2', stream => 1) ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "w a b w c d", "one try of each failing deployment", "got: @d");
}


=== TEST 5: fallback OpenAI -> Anthropic (non-stream): the client gets an OpenAI answer from Claude; the headers say so
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-gpt}
  - model_name: claude
    litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL/c, api_key: sk-ant-c}
    model_info: {id: dep-claude}
router_settings:
  num_retries: 0
  fallbacks: [{gpt: [claude]}]
--- request
POST /v1/chat/completions
{"model":"gpt","max_tokens":50,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello claude"}]}
--- error_code: 200
--- response_json
{ object => 'chat.completion', choices => [ { index => 0, message => { role => 'assistant', content => 'echo: hello claude' }, finish_reason => 'stop' } ],
  usage => { prompt_tokens => qr/^[1-9]\d*$/, completion_tokens => qr/^[1-9]\d*$/ } }
--- response_headers
x-litellm-model-id: dep-claude
x-litellm-model-group: claude
x-litellm-model-api-base: http://127.0.0.1:$MOCK_PORT/c
x-litellm-attempted-retries: 0
x-litellm-attempted-fallbacks: 1
--- mock_request
[{"path":"/a/v1/chat/completions","headers":{"authorization":"Bearer sk-a"}},
 {"path":"/c/v1/messages","headers":{"x-api-key":"sk-ant-c"},"json":{"max_tokens":50}}]
--- mock_request_count: 2


=== TEST 6: fallback OpenAI -> Anthropic for a stream that failed before its first token: one clean OpenAI stream
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-stream-error-early, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: claude
    litellm_params: {model: anthropic/mock-ok-split, api_base: $MOCK_URL/c, api_key: sk-ant-c}
    model_info: {id: dep-claude}
router_settings:
  num_retries: 0
  fallbacks: [{gpt: [claude]}]
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream héllo 🌍"}]}
--- error_code: 200
--- stream_check
{ content => "echo: stream h\x{e9}llo \x{1F30D}", finish_reason => 'stop', usage_chunk => 1,
  first_chunk => { object => 'chat.completion.chunk', choices => [ { delta => { role => 'assistant' } } ] } }
--- response_headers
x-litellm-model-id: dep-claude
x-litellm-model-group: claude
x-litellm-attempted-fallbacks: 1
--- response_body_unlike
before its first token
--- mock_request
[{"path":"/a/v1/chat/completions"},{"path":"/c/v1/messages","json":{"stream":true}}]
--- mock_request_count: 2


=== TEST 7: fallback Anthropic -> OpenAI after a 529 overloaded
--- models
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/mock-err-529, api_base: $MOCK_URL/c, api_key: sk-ant-c}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-gpt}
router_settings:
  num_retries: 0
  fallbacks: [{claude: [gpt]}]
--- request
POST /v1/chat/completions
{"model":"claude","stream":true,"messages":[{"role":"user","content":"other way"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: other way', finish_reason => 'stop' }
--- response_headers
x-litellm-model-id: dep-gpt
x-litellm-attempted-fallbacks: 1
--- mock_request_count: 2


=== TEST 8: retries go to the other deployments of the group first, then down the chain
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-err-503, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: claude
    litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL/c, api_key: sk-ant-c}
    model_info: {id: dep-claude}
router_settings:
  num_retries: 1
  fallbacks: [{gpt: [claude]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- response_headers
x-litellm-model-id: dep-claude
x-litellm-attempted-retries: 0
x-litellm-attempted-fallbacks: 1
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b c", "tries in order a, b (the group), then c (the fallback)", "got: @d");
}


=== TEST 9: fallbacks are followed transitively, in order: gpt -> [g2, g3], g2 -> [g4]
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: openai/mock-err-503, api_base: $MOCK_URL/b/v1, api_key: sk-b}
  - model_name: g3
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/c/v1, api_key: sk-c}
    model_info: {id: dep-g3}
  - model_name: g4
    litellm_params: {model: openai/mock-err-529, api_base: $MOCK_URL/d/v1, api_key: sk-d}
router_settings:
  num_retries: 0
  fallbacks:
    - gpt: [g2, g3]
    - g2: [g4]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"deep"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: deep"}}]}
--- response_headers
x-litellm-model-id: dep-g3
x-litellm-model-group: g3
x-litellm-attempted-fallbacks: 3
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b d c", "gpt, g2, g2's own fallback g4, then g3", "got: @d");
}


=== TEST 10: max_fallbacks: 1 stops the chain; the client gets one error, not a hang
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: openai/mock-err-503, api_base: $MOCK_URL/b/v1, api_key: sk-b}
  - model_name: g3
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/c/v1, api_key: sk-c}
router_settings:
  num_retries: 0
  max_fallbacks: 1
  fallbacks: [{gpt: [g2, g3]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 503
--- openai_error
{"type":"server_error"}
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b", "gpt, then only the first fallback", "got: @d");
}


=== TEST 11: fallbacks from litellm_settings (LiteLLM reads them there too)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b}
    model_info: {id: dep-g2}
litellm_settings:
  num_retries: 0
  fallbacks: [{gpt: [g2]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- response_headers
x-litellm-model-id: dep-g2
x-litellm-attempted-fallbacks: 1
--- mock_request_count: 2


=== TEST 12: default_fallbacks serve a group without its own; a group with its own uses those
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: other
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/o/v1, api_key: sk-o}
  - model_name: spare
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/s/v1, api_key: sk-s}
    model_info: {id: dep-spare}
  - model_name: own
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/w/v1, api_key: sk-w}
    model_info: {id: dep-own}
router_settings:
  num_retries: 0
  allowed_fails: 100
  default_fallbacks: [spare]
  fallbacks: [{other: [own]}]
--- requests
[ main::chat_req(model => 'gpt', expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-spare\nx-litellm-attempted-fallbacks: 1" }),
  main::chat_req(model => 'other', expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-own" }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a s o w", "gpt -> spare (default); other -> own", "got: @d");
}


=== TEST 13: context-length error -> context_window_fallbacks (not the group's other deployment, not the general fallbacks)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-400-context, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: gpt-long
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/l/v1, api_key: sk-l}
    model_info: {id: dep-long}
  - model_name: general
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/g/v1, api_key: sk-g}
router_settings:
  context_window_fallbacks: [{gpt: [gpt-long]}]
  fallbacks: [{gpt: [general]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"a very long prompt"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: a very long prompt"}}]}
--- response_headers
x-litellm-model-id: dep-long
x-litellm-model-group: gpt-long
x-litellm-attempted-fallbacks: 1
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a l", "the context error went straight to gpt-long", "got: @d");
}
--- error_log
context_length_exceeded


=== TEST 14: context-length error without context_window_fallbacks: the client gets the 400, nothing is retried
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-400-context, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: general
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/g/v1, api_key: sk-g}
router_settings:
  fallbacks: [{gpt: [general]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","code":"context_length_exceeded"}
--- mock_request_count: 1


=== TEST 15: content policy violation -> content_policy_fallbacks
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-400-content-policy, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: gpt-safe
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/s/v1, api_key: sk-s}
    model_info: {id: dep-safe}
  - model_name: general
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/g/v1, api_key: sk-g}
router_settings:
  content_policy_fallbacks: [{gpt: [gpt-safe]}]
  fallbacks: [{gpt: [general]}]
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"messages":[{"role":"user","content":"edgy"}]}
--- error_code: 200
--- stream_check
{ content => 'echo: edgy', finish_reason => 'stop' }
--- response_headers
x-litellm-model-id: dep-safe
x-litellm-attempted-fallbacks: 1
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a s", "the policy error went to gpt-safe", "got: @d");
}


=== TEST 16: content policy violation without content_policy_fallbacks: the 400 goes to the client, once
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-400-content-policy, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: general
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/g/v1, api_key: sk-g}
router_settings:
  fallbacks: [{gpt: [general]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 400
--- openai_error
{"type":"invalid_request_error","code":"content_policy_violation"}
--- mock_request_count: 1


=== TEST 17: client errors (400, 401, 403, 404) are never retried nor fallen back from
--- models
model_list:
  - model_name: e400
    litellm_params: {model: openai/mock-err-400, api_base: $MOCK_URL/x400/v1, api_key: sk-x, order: 1}
  - model_name: e400
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/ok400/v1, api_key: sk-x, order: 2}
  - model_name: e401
    litellm_params: {model: openai/mock-err-401, api_base: $MOCK_URL/x401/v1, api_key: sk-x, order: 1}
  - model_name: e401
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/ok401/v1, api_key: sk-x, order: 2}
  - model_name: e403
    litellm_params: {model: anthropic/mock-err-403, api_base: $MOCK_URL/x403, api_key: sk-x, order: 1}
  - model_name: e403
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/ok403/v1, api_key: sk-x, order: 2}
  - model_name: e404
    litellm_params: {model: openai/mock-err-404, api_base: $MOCK_URL/x404/v1, api_key: sk-x, order: 1}
  - model_name: e404
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/ok404/v1, api_key: sk-x, order: 2}
  - model_name: spare
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/spare/v1, api_key: sk-x}
router_settings:
  num_retries: 3
  default_fallbacks: [spare]
--- requests
[ main::chat_req(model => 'e400', expect => { error_code => 400, openai_error => { type => 'invalid_request_error', param => 'temperature' } }),
  main::chat_req(model => 'e401', expect => { error_code => 401, openai_error => { type => 'authentication_error' } }),
  main::chat_req(model => 'e403', expect => { error_code => 403, openai_error => { type => 'permission_error' } }),
  main::chat_req(model => 'e404', stream => 1, expect => { error_code => 404, openai_error => { code => 'model_not_found' } }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "x400 x401 x403 x404", "one try each", "got: @d");
}


=== TEST 18: a stream that already sent content is never retried: it ends with an OpenAI error event
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-stream-error, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: spare
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/s/v1, api_key: sk-s}
router_settings:
  fallbacks: [{gpt: [spare]}]
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"messages":[{"role":"user","content":"half way"}]}
--- error_code: 200
--- stream_check
{ error_event => { message => qr/\S/ }, content_like => qr/^echo: / }
--- response_headers
x-litellm-model-id: dep-a
x-litellm-attempted-retries: 0
--- mock_request_count: 1


=== TEST 19: a stream cut after its first content is not retried either: error event, no hang
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-stream-cut, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"messages":[{"role":"user","content":"cut"}]}
--- timeout: 8
--- error_code: 200
--- stream_check
{ error_event => 1, allow_truncated => 1, content_like => qr/^echo: / }
--- mock_request_count: 1


=== TEST 20: loops in fallbacks are refused at load, naming the loop
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: claude
    litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL/c, api_key: sk-c}
  - model_name: llama
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/l/v1, api_key: sk-l}
router_settings:
  fallbacks:
    - gpt: [claude]
    - claude: [llama]
    - llama: [gpt]
--- must_die
--- nginx_t_like
/gpt -> claude -> llama -> gpt: fallbacks loop/


=== TEST 21: a context_window_fallbacks loop (a group to itself) is refused too
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
litellm_settings:
  context_window_fallbacks: [{gpt: [gpt]}]
--- must_die
--- nginx_t_like
/gpt -> gpt: fallbacks loop/


=== TEST 22: a fallback to a name that is no model_name is refused at load
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
router_settings:
  fallbacks: [{gpt: [gpt-4o-typo]}]
--- must_die
--- nginx_t_like
/fallback "gpt-4o-typo" of "gpt" is not a model_name/


=== TEST 23: a request never loops: every group fails, default_fallbacks lead back to the start, each group is tried once
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: openai/mock-err-503, api_base: $MOCK_URL/b/v1, api_key: sk-b}
  - model_name: g3
    litellm_params: {model: anthropic/mock-err-529, api_base: $MOCK_URL/c, api_key: sk-c}
router_settings:
  num_retries: 0
  allowed_fails: 100
  fallbacks: [{gpt: [g2]}, {g2: [g3]}]
  default_fallbacks: [gpt, g2]
--- requests
[ main::chat_req(model => 'gpt', expect => { error_code => 503, openai_error => { type => 'server_error' } }),
  main::chat_req(model => 'g3', stream => 1, expect => { error_code => 503, openai_error => { type => 'server_error' } }) ]
--- timeout: 15
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b c c a b", "gpt: a b c; g3: c a b", "got: @d");
    my $h = $t->response(0)->{header};
    $t->ok(($h->{'x-litellm-attempted-fallbacks'} // '') eq '2', "the error reports 2 fallbacks",
        "got: " . ($h->{'x-litellm-attempted-fallbacks'} // '(absent)'));
}


=== TEST 24: many retries and fallbacks stay bounded: one error for the client, a finite number of tries
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/b/v1, api_key: sk-b}
  - model_name: g3
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/c/v1, api_key: sk-c}
router_settings:
  num_retries: 20
  disable_cooldowns: true
  fallbacks: [{gpt: [g2, g3]}]
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- timeout: 20
--- error_code: 502
--- openai_error
{"type":"server_error"}
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    my $n = @d;
    $t->ok($n >= 21 && $n <= 63, "a bounded number of tries ($n)");
    $t->ok(main::count_of('a', @d) == 21, "the group first: 1 + num_retries tries of gpt (" . main::count_of('a', @d) . ")");
    $t->ok(main::count_of('b', @d) >= 1, "then the fallback g2");
}


=== TEST 25: a fallback that cannot take the request (the adapter refuses a parameter) is skipped; the chain goes on
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: claude
    litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL/c, api_key: sk-c}
  - model_name: g3
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/g/v1, api_key: sk-g}
    model_info: {id: dep-g3}
router_settings:
  num_retries: 0
  fallbacks: [{gpt: [claude, g3]}]
--- request
POST /v1/chat/completions
{"model":"gpt","logit_bias":{"50256":-100},"messages":[{"role":"user","content":"biased"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: biased"}}]}
--- response_headers
x-litellm-model-id: dep-g3
x-litellm-model-group: g3
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a g", "gpt failed, claude could not take logit_bias, g3 answered", "got: @d");
}
