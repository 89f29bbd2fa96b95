# Deployment host names follow DNS at run time: with nginx's "resolver" in
# http{}, each worker re-resolves every host name of the model file every
# llm_resolver_refresh, without blocking and without a reload.  A name that
# does not resolve at load is no configuration error: the worker resolves
# it at start, and until then calls to it answer 502 (so a group falls back
# to its other deployments).  A failed refresh keeps the last good
# addresses and warns once per failure streak; a change or a recovery is a
# notice.  Without "resolver" nothing changes: names are resolved once, at
# load.
#
# t/mock/dns.js is the DNS server (UDP on loopback): this file starts it
# before the blocks, its port is ${ENV:LLM_DNS_PORT}, and the blocks change
# its answers at run time through its control port.  Names under llm.test
# never resolve with the system resolver.  Every block uses its own names,
# preset below, so that no block sees another's answers.
use LlmTest;
use File::Temp qw(tempdir);
use JSON::PP ();
use POSIX ();
use Time::HiRes ();

# seconds a DNS change may take to show (the refresh is 1 s)
our $VG = $ENV{LLM_TEST_VALGRIND} ? 1 : 0;
our $WAIT = $VG ? 40 : 8;

our $TMP = tempdir('ngx_llm_dns_XXXXXX', TMPDIR => 1, CLEANUP => 1);
our ($DNS_PID, $DNS_CTL, @CHILDREN);

# node t/mock/dns.js (or t/mock/server.js on another address), as a child
# that goes away with us; returns (pid, ready-file JSON)
sub spawn_node {
    my ($script, $ready, @args) = @_;
    unlink $ready;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$ready.log";
        open STDERR, '>>', "$ready.log";
        no warnings 'exec';
        exec $LlmTest::NODE_BIN, "$LlmTest::REPO_ROOT/t/mock/$script",
            '--ready-file', $ready, '--parent-pid', getppid(), @args;
        POSIX::_exit(127);
    }
    push @CHILDREN, $pid;
    my $deadline = Time::HiRes::time() + 20;
    until (-s $ready) {
        die "$script exited at startup:\n" . LlmTest::_slurp("$ready.log")
            if waitpid($pid, POSIX::WNOHANG()) != 0;
        die "$script not ready after 20 s" if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
    return ($pid, JSON::PP::decode_json(LlmTest::_slurp($ready)));
}

sub stop_child {
    my ($pid) = @_;
    return unless $pid && kill 0, $pid;
    kill 'TERM', $pid;
    waitpid($pid, 0);
    @CHILDREN = grep { $_ != $pid } @CHILDREN;
}

END {
    local $?;          # waitpid must not set the exit status of the test
    stop_child($_) for @{[@CHILDREN]};
}

sub dns_call {
    my ($method, $path) = @_;
    my $r = http_request(port => $DNS_CTL, method => $method, path => $path,
                         timeout => 5);
    die "dns control $path: " . ($r->{error} || $r->{status})
        unless $r->{complete} && $r->{status} == 200;
    return $r->{json};
}

# dns_set('x.llm.test', 'ok', '127.0.0.1,127.0.0.2') or ('x.llm.test', 'servfail')
sub dns_set {
    my ($name, $mode, $a) = @_;
    dns_call('GET', "/__set?name=$name&mode=$mode" . ($a ? "&a=$a" : ''));
}

# A queries the server got for a name
sub dns_queries { dns_call('GET', '/__stats')->{queries}{$_[0]}{A} // 0 }

# polls until $cond->() is true, at most $secs; returns its last value
sub poll {
    my ($cond, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs // $WAIT);
    while (1) {
        my $v = $cond->();
        return $v if $v || Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
}

# waits until error.log (from byte $from on) matches $re
sub wait_log {
    my ($t, $re, $from) = @_;
    return poll(sub { substr($t->error_log, $from // 0) =~ $re });
}

sub count_log {
    my ($t, $re) = @_;
    return scalar(() = $t->error_log =~ /$re/g);
}

sub chat {
    my ($t, $text, $model) = @_;
    return $t->request(path => '/v1/chat/completions',
        json => { model => $model // 'gpt',
                  messages => [ { role => 'user', content => $text } ] });
}

sub chat_ok {
    my ($t, $text, $what, $model) = @_;
    my $r = chat($t, $text, $model);
    my $c = ref $r->{json} eq 'HASH'
        ? $r->{json}{choices}[0]{message}{content} // '' : '';
    $t->ok(($r->{status} // 0) == 200 && $c eq "echo: $text", $what,
           "got: " . ($r->{status} // 'nothing') . " " . substr($r->{raw}, 0, 600));
    return $r;
}

# the texts of the chat requests a mock received
sub texts_of {
    my ($reqs) = @_;
    return map { $_->{json}{messages}[0]{content} // '?' } @$reqs;
}

($DNS_PID, my $info) = spawn_node('dns.js', "$TMP/dns.json");
$DNS_CTL = $info->{http_port};
$ENV{LLM_DNS_PORT} = $info->{dns_port};

dns_set("mock-$_.llm.test", 'ok', '127.0.0.1') for qw(b c d shared);
dns_set('az-e.llm.test', 'ok', '127.0.0.1');

run_tests();

__DATA__

=== TEST 1: a name the system cannot resolve: nginx -t passes with a warning, calls answer 502 "has not resolved yet" until the DNS knows it, then reach the mock
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 2s;
llm_resolver_refresh 1s;
--- models
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-a.llm.test:$MOCK_PORT/v1
    api_key: sk-1
--- nginx_t_like
/\[warn\].*could not resolve "mock-a\.llm\.test:\d+" for model "gpt" \(.*\); the workers will resolve it with "resolver"/
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"too early"}]}
--- error_code: 502
--- openai_error
+{ type => 'server_error', message => qr/^the host "mock-a\.llm\.test:\d+" of model "gpt" has not resolved yet$/ }
--- check
sub {
    my $t = shift;
    $t->ok(main::wait_log($t, qr/\[warn\].*could not resolve "mock-a\.llm\.test": Host not found; calls to it fail until it resolves/),
           "the worker asked at start and warned");
    main::dns_set('mock-a.llm.test', 'ok', '127.0.0.1');
    $t->ok(main::wait_log($t, qr/\[notice\].*"mock-a\.llm\.test" now resolves to 127\.0\.0\.1 \(was nothing\)/),
           "resolved on a later refresh, without a reload");
    $t->mock_clear;
    main::chat_ok($t, 'resolved', 'the call reaches the mock');
    my @seen = main::texts_of($t->mock_requests);
    $t->ok("@seen" eq 'resolved', "the mock got it", "got: @seen");
}


=== TEST 2: the answer changes from 127.0.0.1 to 127.0.0.2: after a refresh new calls go to the new address
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 2s;
llm_resolver_refresh 1s;
--- models
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-b.llm.test:$MOCK_PORT/v1
    api_key: sk-1
--- timeout: 60
--- check
sub {
    my $t = shift;
    $t->ok(main::wait_log($t, qr/"mock-b\.llm\.test" now resolves to 127\.0\.0\.1 \(was nothing\)/),
           "resolved by the worker at start");
    main::chat_ok($t, 'one', 'answered at 127.0.0.1');
    my @seen = main::texts_of($t->mock_requests);
    $t->ok("@seen" eq 'one', "the 127.0.0.1 mock got it", "got: @seen");

    # a second mock on 127.0.0.2, the same port
    my ($pid, $info) = main::spawn_node('server.js', "$main::TMP/mock2.json",
        '--host', '127.0.0.2', '--port', $t->mock_port, '--quiet');
    main::dns_set('mock-b.llm.test', 'ok', '127.0.0.2');
    $t->ok(main::wait_log($t, qr/\[notice\].*"mock-b\.llm\.test" now resolves to 127\.0\.0\.2 \(was 127\.0\.0\.1\)/),
           "the change is noticed and logged");

    $t->mock_clear;
    main::chat_ok($t, "two-$_", "call $_ after the change answered") for 1 .. 3;
    my $r = LlmTest::http_request(host => '127.0.0.2', port => $t->mock_port,
                                  path => '/__requests', timeout => 5);
    my @new = main::texts_of(JSON::PP::decode_json($r->{body} || '[]'));
    my @old = main::texts_of($t->mock_requests);
    $t->ok("@new" eq 'two-1 two-2 two-3', "the 127.0.0.2 mock got every new call", "got: @new");
    $t->ok(!@old, "the 127.0.0.1 mock got none", "got: @old");
    main::stop_child($pid);
}


=== TEST 3: the DNS fails (SERVFAIL, then no answer): calls keep the last good address; one warning per failure streak, a notice on recovery
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 1s;
llm_resolver_refresh 1s;
--- models
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-c.llm.test:$MOCK_PORT/v1
    api_key: sk-1
--- timeout: 60
--- check
sub {
    my $t = shift;
    my $fail = qr/\[warn\].*could not resolve "mock-c\.llm\.test": (Server failure|Operation timed out); its deployments keep the last addresses/;
    $t->ok(main::wait_log($t, qr/"mock-c\.llm\.test" now resolves to 127\.0\.0\.1/), "resolved at start");
    main::chat_ok($t, 'before', 'answered');

    main::dns_set('mock-c.llm.test', 'servfail');
    $t->ok(main::wait_log($t, qr/could not resolve "mock-c\.llm\.test": Server failure; its deployments keep the last addresses/),
           "SERVFAIL: a warning naming the host and the error");
    main::chat_ok($t, 'servfail', 'answered at the last good address');

    # two more failed refreshes, then a refresh that gets no answer at all
    my $n = main::dns_queries('mock-c.llm.test');
    $t->ok(main::poll(sub { main::dns_queries('mock-c.llm.test') >= $n + 2 }), "refreshes go on");
    main::dns_set('mock-c.llm.test', 'drop');
    $n = main::dns_queries('mock-c.llm.test');
    $t->ok(main::poll(sub { main::dns_queries('mock-c.llm.test') >= $n + 2 }), "a dropped query times out and the next one is sent");
    main::chat_ok($t, 'dropped', 'answered while the DNS is silent');
    my $warned = main::count_log($t, $fail);
    $t->ok($warned == 1, "one warning for the whole streak", "got $warned");

    main::dns_set('mock-c.llm.test', 'ok', '127.0.0.1');
    $t->ok(main::wait_log($t, qr/\[notice\].*"mock-c\.llm\.test" resolves again, to 127\.0\.0\.1/), "the recovery is a notice");

    # a new streak warns again
    my $from = length $t->error_log;
    main::dns_set('mock-c.llm.test', 'drop');
    $t->ok(main::wait_log($t, qr/could not resolve "mock-c\.llm\.test": Operation timed out; its deployments keep the last addresses/, $from),
           "a timeout: a warning, in a new streak");
    main::chat_ok($t, 'after', 'still answered');
    main::dns_set('mock-c.llm.test', 'ok', '127.0.0.1');
}
--- no_error_log
now resolves to 127.0.0.1 (was 127.0.0.1)


=== TEST 4: no resolver: a host name the system resolves (localhost) works, resolved once at load
--- models
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: http://localhost:$MOCK_PORT/v1
    api_key: sk-1
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"local"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: local"}}]}
--- no_error_log
/resolves|could not resolve/


=== TEST 5: no resolver: an unresolvable name is a warning at load (nginx -t passes) and its calls answer 502 as before; other models work
--- models
- model_name: gone
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-x.llm.test:$MOCK_PORT/v1
    api_key: sk-1
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-1
--- nginx_t_like
/\[warn\].*could not resolve "mock-x\.llm\.test:\d+" for model "gone" \(.*\); calls to it will fail/
--- requests
[{ path => '/v1/chat/completions', json => { model => 'gone', messages => [ { role => 'user', content => 'x' } ] },
   expect => { error_code => 502, openai_error => { type => 'server_error', message => qr/^the host "mock-x\.llm\.test:\d+" of model "gone" did not resolve when the configuration was loaded$/ } } },
 { path => '/v1/chat/completions', json => { model => 'gpt', messages => [ { role => 'user', content => 'fine' } ] } }]
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: fine"}}]}
--- no_error_log
resolves


=== TEST 6: a deployment on a name that does not resolve yet: its group falls back to the other deployment
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 2s;
llm_resolver_refresh 1s;
--- models
model_list:
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: "http://mock-e.llm.test:$MOCK_PORT/v1", api_key: sk-e, order: 1}
    model_info: {id: dep-dns}
  - model_name: gpt
    litellm_params: {model: openai/mock-ok, api_base: "$MOCK_URL/v1", api_key: sk-ip, order: 2}
    model_info: {id: dep-ip}
--- request
POST /v1/chat/completions
{"model":"gpt","messages":[{"role":"user","content":"fall back"}]}
--- error_code: 200
--- response_json
{"choices":[{"message":{"content":"echo: fall back"}}]}
--- response_headers
x-litellm-model-id: dep-ip
--- mock_request_headers
Authorization: Bearer sk-ip


=== TEST 7: one query per host name and interval, not per deployment; an address literal is never asked for
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 2s;
llm_resolver_refresh 1s;
--- models
- model_name: one
  litellm_params: {model: openai/mock-ok, api_base: "http://mock-shared.llm.test:$MOCK_PORT/one/v1", api_key: sk-1}
- model_name: two
  litellm_params: {model: openai/mock-ok, api_base: "http://MOCK-SHARED.llm.test:$MOCK_PORT/two/v1", api_key: sk-2}
- model_name: three
  litellm_params: {model: openai/mock-ok, api_base: "http://mock-shared.llm.test:$CLOSED_PORT/v1", api_key: sk-3}
- model_name: gpt
  litellm_params: {model: openai/mock-ok, api_base: "$MOCK_URL/v1", api_key: sk-4}
--- timeout: 30
--- check
sub {
    my $t = shift;
    $t->ok(main::wait_log($t, qr/"mock-shared\.llm\.test" now resolves to 127\.0\.0\.1/), "resolved");
    my $t0 = Time::HiRes::time();
    my $n0 = main::dns_queries('mock-shared.llm.test');
    Time::HiRes::sleep(3.5);
    my $n = main::dns_queries('mock-shared.llm.test') - $n0;
    my $secs = Time::HiRes::time() - $t0;
    $t->ok($n >= 1 && $n <= int($secs) + 2, "one query a second for three deployments", "got $n queries in ${secs}s");
    my $notices = main::count_log($t, qr/now resolves to/);
    $t->ok($notices == 1, "one notice for the name", "got $notices");
    my $stats = main::dns_call('GET', '/__stats')->{queries};
    my @ips = grep { /^[\d.]+$/ } keys %$stats;
    $t->ok(!@ips, "no query for an address", "got: @ips");
    main::chat_ok($t, 'a', 'model one answered', 'one');
    main::chat_ok($t, 'b', 'model two answered', 'two');
    main::chat_ok($t, 'c', 'the address literal answered', 'gpt');
    my @paths = map { $_->{path} } @{ $t->mock_requests };
    $t->ok("@paths" eq '/one/v1/chat/completions /two/v1/chat/completions /v1/chat/completions',
           "each deployment kept its own port and path", "got: @paths");
}


=== TEST 8: a reload while refreshes run, with a query in flight: the old worker exits at once, the new one resolves and serves
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 10s;
llm_resolver_refresh 1s;
--- models
- model_name: gpt
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-d.llm.test:$MOCK_PORT/v1
    api_key: sk-1
--- timeout: 60
--- check
sub {
    my $t = shift;
    $t->ok(main::wait_log($t, qr/"mock-d\.llm\.test" now resolves to 127\.0\.0\.1/), "resolved");
    main::chat_ok($t, 'first', 'answered before the reload');
    # one query goes unanswered: the old worker waits for it (10 s) when
    # the reload comes; the answers after it are good again
    main::dns_set('mock-d.llm.test', 'drop');
    my $n = main::dns_queries('mock-d.llm.test');
    $t->ok(main::poll(sub { main::dns_queries('mock-d.llm.test') > $n }), "a query is in flight");
    main::dns_set('mock-d.llm.test', 'ok', '127.0.0.1');
    $main::LOG_AT = length $t->error_log;
    $main::RELOAD_AT = Time::HiRes::time();
}
--- reload_models
- model_name: gpt-new
  litellm_params:
    model: openai/mock-ok
    api_base: http://mock-d.llm.test:$MOCK_PORT/v1
    api_key: sk-1
--- check2
sub {
    my $t = shift;
    my $took = Time::HiRes::time() - $main::RELOAD_AT;
    # the resolver would resend the query after 5 s and time out after 10
    $t->ok($main::VG || $took < 4.5, "the old worker did not wait for its DNS query", "the reload took ${took}s");
    $t->ok(main::wait_log($t, qr/"mock-d\.llm\.test" now resolves to 127\.0\.0\.1 \(was nothing\)/, $main::LOG_AT),
           "the new worker resolved the name");
    main::chat_ok($t, 'second', 'the new generation answers', 'gpt-new');
}


=== TEST 9: an OAuth2 token endpoint host follows DNS too (Azure, Entra ID): unresolvable at load, resolved by the worker; when its address changes, the next token comes from the new one
--- http_config
resolver 127.0.0.1:${ENV:LLM_DNS_PORT};
resolver_timeout 2s;
llm_resolver_refresh 1s;
--- models
- model_name: az
  litellm_params:
    model: azure/mock-ok
    api_base: http://az-e.llm.test:$MOCK_PORT/azure
    api_version: "2024-10-21"
    tenant_id: mock-tenant
    client_id: mock-client-id-ttl-2
    client_secret: mock-client-secret
    azure_authority_host: http://login-e.llm.test:$MOCK_PORT
--- env
!AZURE_API_KEY
--- nginx_t_like
/\[warn\].*could not resolve the token_uri host "login-e\.llm\.test:\d+" of model "az"; calls to it will fail until it resolves/
--- timeout: 60
--- check
sub {
    my $t = shift;
    $t->ok(main::wait_log($t, qr/"az-e\.llm\.test" now resolves to 127\.0\.0\.1 \(was nothing\)/),
           "the provider host resolved at start");
    $t->ok(main::wait_log($t, qr/\[warn\].*could not resolve "login-e\.llm\.test" \(token endpoint\): Host not found; calls to it fail until it resolves/),
           "the worker asked for the token host at start and warned");
    my $r = main::chat($t, 'too early', 'az');
    $t->ok(($r->{status} // 0) == 502 && ($r->{json}{error}{message} // '') =~ /^azure: the token endpoint host "login-e\.llm\.test:\d+" of model "az" has not resolved yet$/,
           "no token host yet: 502 at once (no wait for a token nobody fetches)", substr($r->{raw}, 0, 400));

    main::dns_set('login-e.llm.test', 'ok', '127.0.0.1');
    $t->ok(main::wait_log($t, qr/\[notice\].*"login-e\.llm\.test" now resolves to 127\.0\.0\.1 \(was nothing\)/),
           "resolved on a later refresh, without a reload");
    $t->mock_clear;
    main::chat_ok($t, 'one', 'a token, then the call', 'az');
    my @tok = grep { ($_->{route} // '') eq 'entra-token' } @{$t->mock_requests};
    $t->ok(@tok == 1 && ($tok[0]{headers}{host} // '') =~ /^login-e\.llm\.test:\d+$/,
           "the token came from login-e.llm.test at 127.0.0.1", join(' ', map { $_->{headers}{host} // '?' } @tok));

    # a second mock on 127.0.0.2 (it issues and accepts its own tokens);
    # both names move there
    my ($pid, $info) = main::spawn_node('server.js', "$main::TMP/mock9.json",
        '--host', '127.0.0.2', '--port', $t->mock_port, '--quiet');
    main::dns_set("$_.llm.test", 'ok', '127.0.0.2') for qw(login-e az-e);
    $t->ok(main::wait_log($t, qr/\[notice\].*"login-e\.llm\.test" now resolves to 127\.0\.0\.2 \(was 127\.0\.0\.1\)/),
           "the token host's change is noticed and logged");
    $t->ok(main::wait_log($t, qr/\[notice\].*"az-e\.llm\.test" now resolves to 127\.0\.0\.2 \(was 127\.0\.0\.1\)/),
           "so is the provider host's");

    # the ttl-2 client's tokens are good for 2 s (used for 1): the next
    # call needs a new one
    Time::HiRes::sleep(1.2);
    $t->mock_clear;
    main::chat_ok($t, 'two', 'a new token from the new address, then the call', 'az');
    my $q = LlmTest::http_request(host => '127.0.0.2', port => $t->mock_port,
                                  path => '/__requests', timeout => 5);
    my @new = @{ JSON::PP::decode_json($q->{body} || '[]') };
    my @newtok = grep { ($_->{route} // '') eq 'entra-token' } @new;
    $t->ok(@newtok >= 1, "the 127.0.0.2 mock issued the token", "routes: " . join(' ', map { $_->{route} // '?' } @new));
    my @oldtok = grep { ($_->{route} // '') eq 'entra-token' } @{$t->mock_requests};
    $t->ok(!@oldtok, "the 127.0.0.1 mock was not asked", "got " . scalar(@oldtok));
    main::stop_child($pid);
}
--- no_error_log
mock-client-secret
