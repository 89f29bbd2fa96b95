# The official openai npm SDK against the mock (proves the mock faithful)
# and against the gateway (proves the gateway speaks OpenAI to real
# clients).  Installs t/sdk/node_modules with "npm ci" when missing.
use LlmTest;
use IPC::Run ();

our $SDK_DIR = "$LlmTest::REPO_ROOT/t/sdk";

# Runs node --test on the given files with extra environment, streaming its
# output as TAP comments; returns node's exit status.
sub run_node_tests {
    my ($t, $env, @files) = @_;
    unless (-d "$SDK_DIR/node_modules/openai") {
        print STDERR "# npm ci in $SDK_DIR\n";
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

=== TEST 1: openai SDK -> mock directly (the mock is faithful)
--- no_module
--- config
location / { return 404; }
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, { MOCK_URL => "http://127.0.0.1:" . $t->mock_port }, 'mock-openai.test.mjs');
    $t->ok($rc == 0, "node --test mock-openai.test.mjs exits 0 (got $rc)");
}


=== TEST 2: openai SDK -> gateway -> mock
--- models
- model_name: gpt-mock
  litellm_params:
    model: openai/mock-ok
    api_base: $MOCK_URL/v1
    api_key: sk-sdk-upstream-key-50
- model_name: gpt-mock-split
  litellm_params:
    model: openai/mock-ok-split
    api_base: $MOCK_URL/v1
    api_key: sk-sdk-upstream-key-50
- model_name: gpt-mock-tools
  litellm_params:
    model: openai/mock-tools-split
    api_base: $MOCK_URL/v1
    api_key: sk-sdk-upstream-key-50
- model_name: gpt-ratelimited
  litellm_params:
    model: openai/mock-err-429
    api_base: $MOCK_URL/v1
    api_key: sk-sdk-upstream-key-50
- model_name: embed-mock
  litellm_params:
    model: openai/text-embedding-3-small
    api_base: $MOCK_URL/v1
    api_key: sk-sdk-upstream-key-50
  model_info:
    mode: embedding
--- config
location / {
    llm_pass;
}
--- check
sub {
    my $t = shift;
    my $rc = main::run_node_tests($t, {
        GATEWAY_URL => $t->url . "/v1",
        GATEWAY_MODELS => '["gpt-mock","gpt-mock-split","gpt-mock-tools","gpt-ratelimited","embed-mock"]',
        MOCK_URL => "http://127.0.0.1:" . $t->mock_port,
    }, 'gateway-openai.test.mjs');
    $t->ok($rc == 0, "node --test gateway-openai.test.mjs exits 0 (got $rc)");
}
--- no_error_log
sk-sdk-upstream-key-50
sk-anything-client-side
