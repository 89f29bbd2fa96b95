# Cooldowns (LiteLLM's allowed_fails / cooldown_time / disable_cooldowns):
# past allowed_fails failures in a minute a deployment is left out for
# cooldown_time seconds; a 429's Retry-After (or retry-after-ms) sets the
# cooldown directly; client errors do not count; a group whose
# deployments all cool down answers 429 saying so (or falls back).  The
# state is in shared memory: every worker sees it (worker_processes 2),
# and it survives a reload.
#
# Each deployment has its own api_base path prefix, so the mock's request
# log tells which one a try went to.
use LlmTest;

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

# sends requests until both workers have served at least $min each (at
# most $max requests); returns ({pid => count}, [responses])
sub spread {
    my ($t, $min, $max, %o) = @_;
    my (%by, @resps);
    for my $i (1 .. $max) {
        my $r = $t->request(%{ chat_req(%o, text => "r$i") });
        push @resps, $r;
        $by{$r->{header}{'x-worker'} // '?'}++;
        last if keys(%by) >= 2 && !grep { $_ < $min } values %by;
    }
    return (\%by, \@resps);
}

# two deployments: a (order 1) fails with $mock, b (order 2) answers
sub pair {
    my ($mock, $router) = @_;
    return <<"EOF";
model_list:
  - model_name: gpt
    litellm_params: {model: openai/$mock, api_base: \$MOCK_URL/a/v1, api_key: sk-a, order: 1}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: \$MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
router_settings:
$router
EOF
}

run_tests();

__DATA__

=== TEST 1: allowed_fails 1: the second failure in a minute cools the deployment; the next requests skip it
--- models eval
main::pair('mock-err-500', "  allowed_fails: 1\n  cooldown_time: 60")
--- requests
[ map { main::chat_req(text => "n$_", expect => { error_code => 200, response_json => { choices => [ { message => { content => "echo: n$_" } } ] } }) } 1 .. 6 ]
--- response_headers
x-litellm-model-id: dep-b
x-litellm-attempted-retries: 0
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b a b b b b b", "a tried on requests 1 and 2 only", "got: @d");
    $t->ok(($t->response(1)->{header}{'x-litellm-attempted-retries'} // '') eq '1', "request 2 still retried");
}
--- error_log
/deployment "dep-a" of model "gpt" cools down/


=== TEST 2: allowed_fails 0: the first failure cools it
--- models eval
main::pair('mock-err-503', "  allowed_fails: 0\n  cooldown_time: 60")
--- requests
[ map { main::chat_req() } 1 .. 4 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b b b", "a tried once", "got: @d");
}


=== TEST 3: default allowed_fails (3): the fourth failure in a minute cools it
--- models eval
main::pair('mock-err-529', "  cooldown_time: 60")
--- requests
[ map { main::chat_req() } 1 .. 6 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok(main::count_of('a', @d) == 4 && main::count_of('b', @d) == 6, "a failed 4 times, then was left out", "got: @d");
}


=== TEST 4: a 429's Retry-After cools the deployment at once, whatever allowed_fails says
--- models eval
main::pair('mock-err-429', "  allowed_fails: 100\n  cooldown_time: 1")
--- requests
[ map { main::chat_req() } 1 .. 4 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b b b", "a tried once (Retry-After: 7)", "got: @d");
}


=== TEST 5: the Retry-After length is the cooldown: Retry-After: 1 ends it after a second although cooldown_time is 60
--- models eval
main::pair('mock-err-429-retry-1', "  allowed_fails: 100\n  cooldown_time: 60")
--- timeout: 15
--- check
sub {
    my $t = shift;
    $t->ok(($t->request(%{ main::chat_req() })->{status} // 0) == 200, "request 1 answered");
    $t->ok(($t->request(%{ main::chat_req() })->{status} // 0) == 200, "request 2 answered");
    Time::HiRes::sleep(2.2);
    $t->ok(($t->request(%{ main::chat_req() })->{status} // 0) == 200, "request 3 answered");
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b a b", "a left out right after its 429, tried again 2 s later", "got: @d");
}


=== TEST 6: retry-after-ms sets the cooldown too
--- models eval
main::pair('mock-err-429-ms', "  allowed_fails: 100\n  cooldown_time: 60")
--- timeout: 15
--- check
sub {
    my $t = shift;
    $t->request(%{ main::chat_req() });
    $t->request(%{ main::chat_req() });
    Time::HiRes::sleep(2.5);
    my $r = $t->request(%{ main::chat_req() });
    $t->ok(($r->{status} // 0) == 200, "request 3 answered");
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b a b", "a left out for 1.5 s, then tried again", "got: @d");
}


=== TEST 7: cooldown_time is honoured: still out 2 s later with cooldown_time 60, back after cooldown_time 1
--- models
model_list:
  - model_name: long
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: long
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
router_settings:
  allowed_fails: 0
  cooldown_time: 60
--- timeout: 15
--- check
sub {
    my $t = shift;
    $t->request(%{ main::chat_req(model => 'long') });
    Time::HiRes::sleep(2.2);
    $t->request(%{ main::chat_req(model => 'long') });
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b", "still cooling 2 s later", "got: @d");
}


=== TEST 8: cooldown_time 1: after it the deployment is tried again
--- models eval
main::pair('mock-err-500', "  allowed_fails: 0\n  cooldown_time: 1")
--- timeout: 15
--- check
sub {
    my $t = shift;
    $t->request(%{ main::chat_req() });
    $t->request(%{ main::chat_req() });
    Time::HiRes::sleep(2.2);
    $t->request(%{ main::chat_req() });
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b b a b", "out for a second, then back", "got: @d");
}


=== TEST 9: disable_cooldowns: a failing deployment keeps being tried
--- models eval
main::pair('mock-err-500', "  allowed_fails: 0\n  disable_cooldowns: true")
--- requests
[ map { main::chat_req() } 1 .. 4 ]
--- error_code: 200
--- response_headers
x-litellm-attempted-retries: 1
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b a b a b a b", "a tried every time", "got: @d");
}


=== TEST 10: client errors (400, 401, context length) do not count as failures
--- models
model_list:
  - model_name: e400
    litellm_params: {model: openai/mock-err-400, api_base: $MOCK_URL/x/v1, api_key: sk-x, order: 1}
  - model_name: e400
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/y/v1, api_key: sk-y, order: 2}
  - model_name: e401
    litellm_params: {model: openai/mock-err-401, api_base: $MOCK_URL/z/v1, api_key: sk-z}
  - model_name: ctx
    litellm_params: {model: openai/mock-err-400-context, api_base: $MOCK_URL/c/v1, api_key: sk-c}
router_settings:
  allowed_fails: 0
  cooldown_time: 60
--- requests
[ (map { main::chat_req(model => 'e400', expect => { error_code => 400 }) } 1 .. 3),
  (map { main::chat_req(model => 'e401', expect => { error_code => 401 }) } 1 .. 2),
  (map { main::chat_req(model => 'ctx', expect => { error_code => 400, openai_error => { code => 'context_length_exceeded' } }) } 1 .. 2) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "x x x z z c c", "the same deployments every time, never cooled", "got: @d");
}
--- no_error_log
cools down


=== TEST 11: every deployment cooling: 429 saying so, with Retry-After; no provider request
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/b/v1, api_key: sk-b}
router_settings:
  num_retries: 1
  allowed_fails: 0
  cooldown_time: 30
--- requests
[ main::chat_req(expect => { error_code => 502, openai_error => { type => 'server_error' } }),
  main::chat_req(expect => { error_code => 429, openai_error => { type => 'rate_limit_error', message => qr/gpt.*cool|cool.*gpt/i } }),
  main::chat_req(stream => 1) ]
--- error_code: 429
--- openai_error
{ type => 'rate_limit_error', message => qr/All deployments of model "gpt" are cooling down/ }
--- response_headers_like
Retry-After: ^([1-9]|[12][0-9]|30)$
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b" || "@d" eq "b a", "two tries on request 1, none after", "got: @d");
}


=== TEST 12: a group whose deployments all cool down falls back instead, when it has fallbacks
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: g2
    litellm_params: {model: anthropic/mock-ok, api_base: $MOCK_URL/g, api_key: sk-g}
    model_info: {id: dep-g2}
router_settings:
  num_retries: 0
  allowed_fails: 0
  cooldown_time: 60
  fallbacks: [{gpt: [g2]}]
--- requests
[ main::chat_req(expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-g2\nx-litellm-attempted-fallbacks: 1" }),
  # the answer still comes from a fallback: the header says one was attempted
  main::chat_req(expect => { error_code => 200, response_headers => "x-litellm-model-id: dep-g2\nx-litellm-model-group: g2\nx-litellm-attempted-fallbacks: 1" }),
  main::chat_req(stream => 1, expect => { error_code => 200, stream_check => { content => 'echo: hi', finish_reason => 'stop' } }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a g g g", "gpt tried once, then straight to g2", "got: @d");
}


=== TEST 13: failures that never reached the provider or timed out count too (refused, timeout, stream failing before content)
--- models
model_list:
  - model_name: refused
    litellm_params: {model: openai/mock-ok, api_base: "http://127.0.0.1:$CLOSED_PORT/r/v1", api_key: sk-r, order: 1}
  - model_name: refused
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/r2/v1, api_key: sk-r, order: 2}
  - model_name: hang
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/h/v1, api_key: sk-h, order: 1, timeout: 1}
  - model_name: hang
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/h2/v1, api_key: sk-h, order: 2}
  - model_name: early
    litellm_params: {model: openai/mock-stream-error-early, api_base: $MOCK_URL/e/v1, api_key: sk-e, order: 1}
  - model_name: early
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/e2/v1, api_key: sk-e, order: 2}
router_settings:
  allowed_fails: 0
  cooldown_time: 60
--- timeout: 20
--- requests
[ main::chat_req(model => 'refused', expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 1" }),
  main::chat_req(model => 'refused', expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 0" }),
  main::chat_req(model => 'hang', expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 1" }),
  main::chat_req(model => 'hang', expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 0" }),
  main::chat_req(model => 'early', stream => 1, expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 1" }),
  main::chat_req(model => 'early', stream => 1, expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 0" }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    my @after = map { main::count_of($_, @d) } qw(r2 h2 e2);
    $t->ok("@after" eq "2 2 2", "the second deployment answered both requests of each group", "got: @d");
    $t->ok(main::count_of('e', @d) == 1, "the stream that failed before content was tried once", "got: @d");
    $t->ok(main::count_of('h', @d) >= 1 && main::count_of('h', @d) <= 2, "the hanging one only on the first request", "got: @d");
}


=== TEST 14: cooldowns are shared by the workers: one failure on one worker keeps every worker away
--- main_config
worker_processes 2;
--- models eval
main::pair('mock-err-500', "  allowed_fails: 0\n  cooldown_time: 60")
--- config
location / {
    llm_pass;
    add_header X-Worker $pid always;
}
--- timeout: 20
--- check
sub {
    my $t = shift;
    my ($by, $resps) = main::spread($t, 3, 200);
    my @w = sort keys %$by;
    $t->ok(@w >= 2, "both workers served requests: " . join(', ', map { "$_: $by->{$_}" } @w));
    my @bad = grep { ($_->{status} // 0) != 200 } @$resps;
    $t->ok(!@bad, "every request answered 200 (" . scalar(@$resps) . ")");
    my @d = main::deps_seen();
    $t->ok(main::count_of('a', @d) == 1, "the failing deployment was tried once in all (" . main::count_of('a', @d) . ")",
        "got: @d");
}


=== TEST 15: cooldowns survive nginx -s reload (the shared memory is kept; slots are keyed by deployment id)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: gpt2
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/c/v1, api_key: sk-c, order: 1}
    model_info: {id: dep-c}
  - model_name: gpt2
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/d/v1, api_key: sk-d, order: 2}
router_settings:
  allowed_fails: 0
  cooldown_time: 120
--- requests
[ main::chat_req(model => 'gpt'), main::chat_req(model => 'gpt2') ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a b c d", "phase 1: a and c failed once", "got: @d");
}
--- reload_models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
  - model_name: gpt2
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/c/v1, api_key: sk-c, order: 1}
    model_info: {id: dep-c}
  - model_name: gpt2
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/d/v1, api_key: sk-d, order: 2}
  - model_name: added-after-reload
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/n/v1, api_key: sk-n}
router_settings:
  allowed_fails: 0
  cooldown_time: 120
--- requests2
[ map { (main::chat_req(model => 'gpt'), main::chat_req(model => 'gpt2')) } 1 .. 3 ]
--- error_code2: 200
--- response_headers2
x-litellm-attempted-retries: 0
--- check2
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "b d b d b d", "after the reload a and c still cool down", "got: @d");
}


=== TEST 16: cooldown state survives a reload with worker_processes 2 as well
--- main_config
worker_processes 2;
--- models eval
main::pair('mock-err-500', "  allowed_fails: 0\n  cooldown_time: 120")
--- config
location / {
    llm_pass;
    add_header X-Worker $pid always;
}
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- reload_models eval
main::pair('mock-err-500', "  allowed_fails: 0\n  cooldown_time: 120\n  num_retries: 3")
--- timeout: 20
--- check2
sub {
    my $t = shift;
    my ($by, $resps) = main::spread($t, 3, 200);
    my @w = sort keys %$by;
    $t->ok(@w >= 2, "both new workers served requests: " . join(', ', map { "$_: $by->{$_}" } @w));
    my @d = main::deps_seen();
    $t->ok(@d > 0 && main::count_of('a', @d) == 0, "the cooled deployment was not tried after the reload", "got: @d");
}
