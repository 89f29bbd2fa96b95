# Routing inside a model group (LiteLLM's router_settings): several
# model_list entries with one model_name, picked by routing_strategy
# (simple-shuffle by weight / rpm, least-busy, latency-based-routing,
# usage-based-routing, cost-based-routing), `order` tiers,
# model_group_alias, the x-litellm-* response headers, and num_retries /
# timeout / stream_timeout from the config and from request headers.
#
# Each deployment has its own api_base path prefix ($MOCK_URL/a/v1,
# $MOCK_URL/b/v1, ...), so the mock's request log tells which one a try
# went to.
use LlmTest;

# the deployment ("a", "b", ...) of every request the mock received
sub deps_seen { map { ($_->{path} =~ m{^/([^/]+)/})[0] // '?' } @{ LlmTest::mock_requests() } }
sub count_of { my ($d, @l) = @_; scalar grep { $_ eq $d } @l }

# a chat request for --- requests / $t->request
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

# waits until the wall clock is not within the last seconds of a minute
# (rpm / tpm count per minute)
sub away_from_minute_end { sleep 1 while time % 60 >= 54 }

run_tests();

__DATA__

=== TEST 1: simple-shuffle, equal weights: both deployments serve; the headers name the one that answered
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b}
    model_info: {id: dep-b}
--- requests
[ map { main::chat_req(text => "n$_", expect => { error_code => 200, response_json => { choices => [ { message => { content => "echo: n$_" } } ] } }) } 1 .. 40 ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok(@d == 40, "one provider request per client request", "got " . scalar(@d));
    my ($a, $b) = (main::count_of('a', @d), main::count_of('b', @d));
    $t->ok($a >= 6 && $b >= 6, "both deployments serve (a=$a b=$b of 40)");
    my @bad;
    for my $i (0 .. $#d) {
        my $h = $t->response($i)->{header};
        my $want_id = "dep-$d[$i]";
        my $want_base = "http://127.0.0.1:" . $t->mock_port . "/$d[$i]/v1";
        push @bad, "#$i: id $h->{'x-litellm-model-id'} (want $want_id), base $h->{'x-litellm-model-api-base'} (want $want_base)"
            unless ($h->{'x-litellm-model-id'} // '') eq $want_id
                && ($h->{'x-litellm-model-api-base'} // '') eq $want_base
                && ($h->{'x-litellm-model-group'} // '') eq 'gpt'
                && ($h->{'x-litellm-attempted-retries'} // '') eq '0'
                && ($h->{'x-litellm-attempted-fallbacks'} // '') eq '0';
    }
    $t->ok(!@bad, "x-litellm-* headers name the deployment that answered", @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
}


=== TEST 2: simple-shuffle, weight 1 : 9
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, weight: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, weight: 9}
--- requests
[ map { main::chat_req() } 1 .. 60 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    my ($a, $b) = (main::count_of('a', @d), main::count_of('b', @d));
    # expected 6 : 54; 1:1 would give 30 : 30
    $t->ok(@d == 60 && $b >= 44 && $a <= 16, "weights 1:9 -> a=$a b=$b of 60");
}


=== TEST 3: simple-shuffle without weights: rpm weighs (10 : 90)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, rpm: 1000}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, rpm: 9000}
--- requests
[ map { main::chat_req() } 1 .. 60 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    my ($a, $b) = (main::count_of('a', @d), main::count_of('b', @d));
    $t->ok(@d == 60 && $b >= 44 && $a <= 16, "rpm 1000:9000 -> a=$a b=$b of 60");
}


=== TEST 4: order tiers: order 1 takes everything while it answers, whatever the weights
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 2, weight: 100}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 1, weight: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/c/v1, api_key: sk-c, weight: 1000}
--- requests
[ map { main::chat_req() } 1 .. 20 ]
--- error_code: 200
--- response_headers
x-litellm-attempted-retries: 0
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok(@d == 20 && main::count_of('b', @d) == 20, "all 20 went to the order-1 deployment", "got: @d");
}


=== TEST 5: order tiers: order 1 fails with a 500, order 2 answers; the headers count the retry
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 2}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 1}
    model_info: {id: dep-b}
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"tiered"}]}
--- error_code: 200
--- response_json
{"object":"chat.completion","choices":[{"message":{"content":"echo: tiered"}}]}
--- response_headers
x-litellm-model-id: dep-a
x-litellm-model-api-base: http://127.0.0.1:$MOCK_PORT/a/v1
x-litellm-model-group: gpt
x-litellm-attempted-retries: 1
x-litellm-attempted-fallbacks: 0
--- mock_request
[{"path":"/b/v1/chat/completions"},{"path":"/a/v1/chat/completions","headers":{"authorization":"Bearer sk-a"}}]
--- mock_request_count: 2


=== TEST 6: least-busy: while a stream is parked on a, every other request goes to b, on both workers (shared in-flight counts)
--- main_config
worker_processes 2;
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-release, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b}
    model_info: {id: dep-b}
router_settings:
  routing_strategy: least-busy
--- config
location / {
    llm_pass;
    add_header X-Worker $pid always;
}
--- timeout: 20
--- check
sub {
    my $t = shift;
    my $body = '{"model":"gpt","stream":true,"messages":[{"role":"user","content":"park"}]}';
    my ($sock, $head);
    # both idle: either may take it; b answers at once, a parks the stream
    for my $try (1 .. 30) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port, Proto => 'tcp', Timeout => 5)
            or die "connect: $!";
        print $s "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        my $got = '';
        my $sel = IO::Select->new($s);
        my $deadline = time + 5;
        while (time < $deadline && $sel->can_read(0.2)) {
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $got .= $buf;
            last if $got =~ /echo: / && $got =~ /\r\n\r\n/ && LlmTest::_mock_call('GET', '/__waiting')->{waiting};
        }
        if (LlmTest::_mock_call('GET', '/__waiting')->{waiting}) {
            ($sock, $head) = ($s, $got);
            last;
        }
        close $s;
    }
    $t->ok($sock, "a stream is parked on deployment a") or return;
    my ($parked) = $head =~ /^X-Worker: (\d+)/mi;
    $t->ok($head =~ /^x-litellm-model-id: dep-a/mi, "the parked stream is a's", $head);
    LlmTest::mock_clear();

    # A request that lands on a parks there (until the timeout).  One may,
    # rarely: a worker writes an answer a moment before it counts that
    # try done, and the next request can be planned on the other worker
    # in between (seen under valgrind).  Per-worker counts would send
    # about half of the other worker's requests to a.
    my (%by, @bad, $strays);
    $strays = 0;
    for my $i (1 .. 200) {
        my $r = $t->request(path => '/v1/chat/completions', timeout => 5,
                            json => { model => 'gpt', messages => [ { role => 'user', content => "q$i" } ] });
        my $w = $r->{header}{'x-worker'} // '?';
        $by{$w eq $parked ? 'same' : 'other'}++;
        unless (($r->{status} // 0) == 200 && ($r->{header}{'x-litellm-model-id'} // '') eq 'dep-b') {
            push @bad, "request $i (worker $w): status " . ($r->{status} // '-') . " id " . ($r->{header}{'x-litellm-model-id'} // '-');
            last if ++$strays >= 3;
        }
        last if $i >= 20 && ($by{other} // 0) >= 10 && ($by{same} // 0) >= 5;
    }
    $t->ok($strays <= 1, "every request went to the idle deployment b (strays: $strays)", @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
    Test::More::diag("$strays request(s) of " . (($by{other} // 0) + ($by{same} // 0)) . " went to the busy deployment") if $strays;
    $t->ok(($by{other} // 0) >= 10 || $strays >= 3, "requests served by the worker that does not hold the parked stream: " . ($by{other} // 0)
        . " (same worker: " . ($by{same} // 0) . ")");
    my @d = main::deps_seen();
    $t->ok(main::count_of('a', @d) <= $strays, "deployment a got nothing more", "got: @d");

    # the parked stream still ends cleanly
    $t->release;
    my $rest = '';
    my $sel = IO::Select->new($sock);
    my $deadline = time + 10;
    while (time < $deadline && $sel->can_read(1)) {
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $rest .= $buf;
    }
    close $sock;
    $t->ok($rest =~ /data: \[DONE\]/, "the parked stream finished", $rest);
}


=== TEST 7: latency-based-routing: the deployment with the slow first token is mostly avoided
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-first-token-400, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b}
router_settings:
  routing_strategy: latency-based-routing
--- timeout: 20
--- check
sub {
    my $t = shift;
    # until both were measured, unmeasured ones go first
    for my $i (1 .. 4) {
        my $r = $t->request(%{ main::chat_req(stream => 1) });
        $t->ok(($r->{status} // 0) == 200, "warm-up $i answered");
    }
    LlmTest::mock_clear();
    for my $i (1 .. 20) {
        my $r = $t->request(%{ main::chat_req(stream => 1, text => "s$i") });
        $t->ok(($r->{status} // 0) == 200 && $r->{body} =~ /data: \[DONE\]/, "stream $i answered")
            or last;
    }
    my @d = main::deps_seen();
    my ($a, $b) = (main::count_of('a', @d), main::count_of('b', @d));
    # the fast one leads except on exploration (10 %, half of it picks the fast one anyway)
    $t->ok(@d == 20 && $b >= 15, "fast deployment b took $b of 20 (slow a: $a)", "got: @d");
}


=== TEST 8: usage-based-routing: rpm headroom fills both deployments up to their limits (4 and 10)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, rpm: 4}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, rpm: 10}
router_settings:
  routing_strategy: usage-based-routing-v2
--- requests
do { main::away_from_minute_end(); [ map { main::chat_req() } 1 .. 14 ] }
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    my ($a, $b) = (main::count_of('a', @d), main::count_of('b', @d));
    # (used + 1) / limit, lowest first: exactly 4 and 10 after 14 requests
    $t->ok($a == 4 && $b == 10, "a=$a (rpm 4), b=$b (rpm 10)", "order: @d");
    $t->ok($d[0] eq 'b' && $d[1] eq 'b', "the deployment with more headroom first", "order: @d");
}


=== TEST 9: cost-based-routing: the cheapest deployment (prices in litellm_params or model_info); unknown price last
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, input_cost_per_token: 0.00001, output_cost_per_token: 0.00003}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b}
    model_info: {input_cost_per_token: 0.0000001, output_cost_per_token: 0.0000004}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/c/v1, api_key: sk-c}
router_settings:
  routing_strategy: cost-based-routing
--- requests
[ map { main::chat_req() } 1 .. 12 ]
--- error_code: 200
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok(@d == 12 && main::count_of('b', @d) == 12, "all to the cheapest (b)", "got: @d");
}


=== TEST 10: cost-based-routing: the cheapest fails, the next cheapest answers (not the unpriced one)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a, input_cost_per_token: 0.00001, output_cost_per_token: 0.00003}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-err-503, api_base: $MOCK_URL/b/v1, api_key: sk-b, input_cost_per_token: 0.0000001}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/c/v1, api_key: sk-c}
router_settings:
  routing_strategy: cost-based-routing
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"cheap"}]}
--- error_code: 200
--- response_headers
x-litellm-model-id: dep-a
x-litellm-attempted-retries: 1
--- mock_request
[{"path":"/b/v1/chat/completions"},{"path":"/a/v1/chat/completions"}]
--- mock_request_count: 2


=== TEST 11: model_group_alias: an alias (and a hidden one) reaches the group; the headers name the group
--- models
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-a}
router_settings:
  model_group_alias:
    gpt4: gpt-4o
    secret: {model: gpt-4o, hidden: true}
--- requests
[ main::chat_req(model => 'gpt4', text => 'via alias',
      expect => { error_code => 200, response_json => { choices => [ { message => { content => 'echo: via alias' } } ] },
                  response_headers => "x-litellm-model-group: gpt-4o\nx-litellm-model-id: dep-a" }),
  main::chat_req(model => 'secret', text => 'hidden',
      expect => { error_code => 200, response_headers => "x-litellm-model-group: gpt-4o" }),
  { path => '/v1/models' } ]
--- error_code: 200
--- response_json
{"object":"list","data":[{"id":"gpt-4o"},{"id":"gpt4"}]}


=== TEST 12: model_group_alias to a name that is no model_name is refused at load
--- models
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
router_settings:
  model_group_alias: {gpt4: gpt-5}
--- must_die
--- nginx_t_like
/model_group_alias "gpt4" does not name a model_name/


=== TEST 13: an unknown routing_strategy is refused at load, naming it
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
router_settings:
  routing_strategy: fastest-first
--- must_die
--- nginx_t_like
/unknown routing_strategy "fastest-first"/


=== TEST 14: every documented routing_strategy name loads
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/a/v1, api_key: sk-a}
router_settings:
  routing_strategy: simple-shuffle
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- check
sub {
    my $t = shift;
    for my $s (qw(least-busy latency-based-routing usage-based-routing usage-based-routing-v2 cost-based-routing)) {
        my $dir = $t->dir;
        (my $y = LlmTest::_slurp("$dir/models.yaml")) =~ s/routing_strategy: \S+/routing_strategy: $s/;
        LlmTest::_spew("$dir/models-$s.yaml", $y);
        (my $c = LlmTest::_slurp("$dir/nginx.conf")) =~ s{llm_config \S+;}{llm_config $dir/models-$s.yaml;};
        $c =~ s{^pid .*$}{pid $dir/nginx-t.pid;}m;
        LlmTest::_spew("$dir/nginx-$s.conf", $c);
        my ($rc, $out, $err) = LlmTest::_run_cmd([$LlmTest::NGINX_BIN, '-t', '-p', "$dir/", '-c', "$dir/nginx-$s.conf", '-e', "$dir/nginx-t-$s.log"], 30);
        $t->ok($rc == 0, "routing_strategy $s loads", $out, $err, LlmTest::_slurp("$dir/nginx-t-$s.log"));
    }
}


=== TEST 15: litellm_settings.num_retries: 0 (no router_settings): one try, the client gets the failure
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
litellm_settings:
  num_retries: 0
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- openai_error
{"type":"server_error"}
--- mock_request_count: 1


=== TEST 16: router_settings.num_retries wins over litellm_settings
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
litellm_settings:
  num_retries: 0
router_settings:
  num_retries: 1
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 200
--- response_headers
x-litellm-attempted-retries: 1
--- mock_request_count: 2


=== TEST 17: x-litellm-num-retries: 0 overrides router_settings; 1 lets the retry happen
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
router_settings:
  num_retries: 5
  allowed_fails: 100
--- requests
[ main::chat_req(headers => ['x-litellm-num-retries' => '0'],
      expect => { error_code => 502, openai_error => { type => 'server_error' } }),
  main::chat_req(headers => ['x-litellm-num-retries' => '1'],
      expect => { error_code => 200, response_headers => "x-litellm-attempted-retries: 1" }) ]
--- check
sub {
    my $t = shift;
    my @d = main::deps_seen();
    $t->ok("@d" eq "a a b", "tries: a | a, b", "got: @d");
}


=== TEST 18: per-deployment num_retries: 0 (litellm_params) stops the retry
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1, num_retries: 0}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
router_settings:
  num_retries: 3
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- error_code: 502
--- mock_request_count: 1


=== TEST 19: x-litellm-timeout: a hanging deployment times out, the next one answers
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"in time"}]}
--- more_headers
x-litellm-timeout: 1
--- timeout: 15
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: in time"}}]}
--- response_headers
x-litellm-model-id: dep-b
x-litellm-attempted-retries: 1
--- mock_request
[{"path":"/a/v1/chat/completions"},{"path":"/b/v1/chat/completions"}]
--- mock_request_count: 2
--- error_log
/timed out/


=== TEST 20: timeout in litellm_params: the hanging deployment times out, the next one answers
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1, timeout: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- timeout: 15
--- error_code: 200
--- response_headers
x-litellm-model-id: dep-b
--- mock_request_count: 2


=== TEST 21: router_settings.timeout, all deployments hang: every try times out, the client gets one 504 and the tries stop
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/a/v1, api_key: sk-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-hang, api_base: $MOCK_URL/b/v1, api_key: sk-b}
router_settings:
  timeout: 1
  num_retries: 1
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"x"}]}
--- timeout: 15
--- error_code: 504
--- openai_error
{"type":"server_error"}
--- mock_request_count: 2


=== TEST 22: stream_timeout (deployment): a stream whose first token is late goes to the next deployment
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-first-token-4000, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1, stream_timeout: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"messages":[{"role":"user","content":"quick"}]}
--- timeout: 15
--- error_code: 200
--- stream_check
{ content => 'echo: quick', finish_reason => 'stop' }
--- response_headers
x-litellm-model-id: dep-b
x-litellm-attempted-retries: 1
--- mock_request_count: 2


=== TEST 23: stream_timeout does not apply to a non-streaming call
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-first-token-1500, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
router_settings:
  stream_timeout: 1
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"patient"}]}
--- timeout: 15
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: patient"}}]}
--- response_headers
x-litellm-model-id: dep-a
--- mock_request_count: 1


=== TEST 24: a stream from the next tier after a failure carries the x-litellm-* headers too
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-err-429-quota, api_base: $MOCK_URL/a/v1, api_key: sk-a, order: 1}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok-split, api_base: $MOCK_URL/b/v1, api_key: sk-b, order: 2}
    model_info: {id: dep-b}
--- request
POST /v1/chat/completions
{"model":"gpt","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"héllo 🌍"}]}
--- error_code: 200
--- stream_check
{ content => "echo: h\x{e9}llo \x{1F30D}", finish_reason => 'stop', usage_chunk => 1 }
--- response_headers
x-litellm-model-id: dep-b
x-litellm-model-group: gpt
x-litellm-attempted-retries: 1
x-litellm-attempted-fallbacks: 0


=== TEST 25: least-busy: in-flight counts drop when a client walks away from a stream (no leak)
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-release, api_base: $MOCK_URL/a/v1, api_key: sk-a}
    model_info: {id: dep-a}
  - model_name: gpt
    litellm_params: {model: openai/mock-slow-release, api_base: $MOCK_URL/b/v1, api_key: sk-b}
    model_info: {id: dep-b}
router_settings:
  routing_strategy: least-busy
--- timeout: 30
--- check
sub {
    my $t = shift;
    my $body = '{"model":"gpt","stream":true,"messages":[{"role":"user","content":"park"}]}';
    # opens a stream and reads until its first content: parked at the mock
    my $park = sub {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port, Proto => 'tcp', Timeout => 5)
            or die "connect: $!";
        print $s "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            . "Content-Length: " . length($body) . "\r\nConnection: close\r\n\r\n$body";
        my $got = '';
        my $sel = IO::Select->new($s);
        my $deadline = time + 5;
        while (time < $deadline && $got !~ /echo: /) {
            next unless $sel->can_read(0.2);
            my $n = sysread($s, my $buf, 65536);
            last unless $n;
            $got .= $buf;
        }
        my ($id) = $got =~ /^x-litellm-model-id: (\S+)/mi;
        return ($s, $id // '?');
    };
    my ($s1, $d1) = $park->();
    my ($s2, $d2) = $park->();
    $t->ok($d1 =~ /^dep-[ab]$/ && $d2 =~ /^dep-[ab]$/ && $d1 ne $d2, "two parked streams, one per deployment ($d1, $d2)")
        or return;
    my @got;
    for my $round (1 .. 6) {
        close $s1;                  # the client walks away from d1's stream
        Time::HiRes::sleep(0.4);
        my ($s3, $d3) = $park->();
        push @got, $d3;
        $s1 = $s3;
    }
    $t->ok(!grep({ $_ ne $d1 } @got), "each new stream went to the deployment the client left ($d1)", "got: @got");
    close $s1;
    close $s2;
    Time::HiRes::sleep(0.3);
    $t->ok(LlmTest::_mock_call('GET', '/__waiting')->{waiting} == 0, "nothing left parked at the mock");
}
