package LlmTest;

# In-house integration test harness for ngx_llm (Test::Base block style).
#
#   prove -r -I t/lib t/
#
# A .t file:
#
#   use LlmTest;
#   set_default(models => "...");      # optional per-file defaults
#   run_tests();
#   __DATA__
#   === TEST 1: chat answers
#   --- models
#   - model_name: gpt
#     litellm_params: {model: openai/mock-ok, api_base: $MOCK_URL/v1, api_key: sk-1}
#   --- request
#   POST /v1/chat/completions
#   {"model":"gpt","messages":[{"role":"user","content":"hi"}]}
#   --- error_code: 200
#   --- response_json
#   {"choices":[{"message":{"content":"echo: hi"}}]}
#
# Environment
#   NGINX_BIN          nginx binary (default /usr/sbin/nginx)
#   LLM_MODULE         absolute path of the module .so (default
#                      <repo>/objs/ngx_http_llm_module.so, the repo being two
#                      levels above this file).  A block that needs the module
#                      FAILS (never skips) when the file does not exist.
#   NODE_BIN           node (default: node from PATH)
#   LLM_TEST_TIMEOUT   seconds one response may take (default 10)
#   LLM_TEST_LOG_LEVEL default error_log level (default info)
#   LLM_TEST_KEEP=1    keep the temp dirs (they are always kept when a block fails)
#   LLM_TEST_VERBOSE=1 print every request and response
#   LLM_TEST_VALGRIND=1 run nginx (master and workers) under valgrind
#                      memcheck; a block fails on an invalid access, a use
#                      of uninitialised memory or a definite leak
#                      (t/valgrind.supp holds nginx's own known leaks)
#
# Per .t file the harness generates a test CA and a server certificate
# (SAN DNS:localhost, IP:127.0.0.1) with the openssl CLI, starts
# t/mock/server.js once (HTTP + HTTPS, free loopback ports) and stops it
# by PID at the end, also on die / SIGINT / SIGTERM.
#
# Per block: a temp dir with nginx.conf and models.yaml; nginx is started
# in the foreground (daemon off, master_process on, worker_processes 1,
# every path inside the dir), the requests are sent, nginx gets SIGQUIT
# (then SIGTERM after 10 s, SIGKILL after 5 s more), and error.log is
# checked: any "[alert]", "[emerg]", "[crit]", "exited on signal" or
# "segfault" line fails the block (unless matched by --- log_allow).
#
# Variables, expanded in every section before it is used:
#   $MOCK_PORT $MOCK_TLS_PORT $MOCK_URL (http://127.0.0.1:port)
#   $MOCK_TLS_URL (https://localhost:tlsport) $TEST_CA (CA cert path)
#   $SERVER_PORT (nginx) $SERVER_URL (http://127.0.0.1:port) $TEST_DIR
#   (the block dir) $CLOSED_PORT (a loopback port nothing listens on)
#   ${ENV:NAME} (the harness's environment).  ${NAME} works for all of them.
#
# Sections (a trailing "2" on a request/check section means "after the
# reload", see --- reload_models):
#
#  configuration
#   --- models              models.yaml content (written to $TEST_DIR/models.yaml)
#   --- env                 NAME=value lines for nginx's environment; "!NAME"
#                           removes NAME from it
#   --- main_config         extra directives at the main level
#   --- http_config         extra directives inside http{}
#   --- config              the server{} body (default: location / { llm_pass; })
#   --- no_llm_config       do not write "llm_config $TEST_DIR/models.yaml;"
#   --- no_module           do not load the module (harness self-tests)
#   --- log_level: debug    error_log level (default info)
#   --- log_allow           lines (literal or /regex/): alert/emerg/crit lines
#                           matching one of them do not fail the block
#   --- timeout: 5          seconds per response (bound only, never asserted)
#
#  nginx -t
#   --- must_die            nginx -t must fail; nothing is started
#   --- nginx_t_like        lines (literal or /regex/) that the output of
#                           "nginx -t" (stderr + its -e log) must contain; without
#                           must_die, nginx -t must succeed and the block goes on
#   --- nginx_t_unlike      lines that output must NOT contain
#
#  requests (each on a fresh client connection unless --- client_keepalive)
#   --- request             "METHOD /path" then the body (final newline dropped)
#   --- more_headers        "Name: value" lines added to every request
#   --- requests            Perl: an array of requests, each a string like
#                           --- request or a hash {method, path, body | json
#                           (Perl data, encoded), headers => [k => v, ...],
#                           raw (bytes sent as they are), release_on (regex),
#                           timeout, expect => {check sections as keys}}
#   --- release_on          regex: once the response body read so far
#                           matches it, POST /__release is sent to the mock
#                           (mock-slow-release).  If it never matches within
#                           the timeout the block fails: a buffering gateway
#                           cannot pass.
#   --- client_keepalive    send all requests of a phase on one connection
#
#  checks on the LAST response of the phase (or per request via expect)
#   --- error_code: 200
#   --- response_body       exact (add the "chomp" filter to drop the final \n)
#   --- response_body_like  regex (/s), on the raw de-chunked bytes
#   --- response_body_unlike
#   --- response_json       JSON or Perl data: must be a SUBSET of the
#                           response JSON (hashes: listed keys; arrays: same
#                           length, element-wise; qr// and sub{} allowed;
#                           absent() = key must not exist)
#   --- openai_error        subset of the "error" object; also asserts the
#                           OpenAI shape: JSON content type, all four keys
#                           message/type/param/code present
#   --- response_headers    "Name: value" exact, "!Name" absent
#   --- response_headers_like  "Name: regex"
#   --- raw_response_like   regex on the raw bytes (status line, headers, chunks)
#   --- stream_check        Perl hash, SSE checks (see check_stream below):
#                           content, content_like, done, finish_reason,
#                           usage_chunk, usage, usage_null, no_usage,
#                           error_event, tool_calls, chunks, first_chunk,
#                           min_events, strict_sse (default 1),
#                           allow_truncated, code
#
#  checks on what the mock provider RECEIVED (in this phase)
#   --- mock_request        subset of the recorded request (path, query,
#                           headers (lower-case), json, tls, servername, ...);
#                           a hash = the last request, an array = the first N
#   --- mock_request_json   subset of the JSON body (hash = last, array = per index)
#   --- mock_request_headers  lines "Name: value" / "!Name" / "Name ~ regex",
#                           or a Perl hash (undef = absent, qr// allowed): last request
#   --- mock_request_like   regex on the raw body of the last request
#   --- mock_request_count: 2
#
#  logs and custom code
#   --- error_log           lines (literal or /regex/) error.log must contain
#   --- no_error_log        lines error.log must NOT contain
#   --- check               Perl: sub { my ($t) = @_; ... } run while nginx is
#                           still up; $t is an LlmTest::Ctx (responses,
#                           mock_requests, request, release, error_log, ...)
#
#  reload
#   --- reload_models       new models.yaml written after phase 1; then
#   --- reload_config       (optional) a new server{} body, and
#   --- reload_http_config  (optional) new http{} extras; SIGHUP to the
#                           master, then the harness waits until every old
#                           worker has exited and a new one started (the new
#                           generation alone serves), then runs phase 2:
#   --- request2 / requests2 / error_code2 / response_json2 / ... / check2
#   --- reload_must_fail    the reload must be refused (an [emerg] is logged, no
#                           new worker starts); phase 2 then runs against the
#                           old generation.  Add the emerg text to --- log_allow.
#
#  harness self-test only
#   --- expect_failure      names of checks that must fail (t/selftest/fail.tt)
#
# Perl sections are evaluated after variable expansion, as UTF-8 text,
# in package main; JSON is tried first when the text starts with { or [.
# Do not use Test::Base's "eval" filter on them (it runs before expansion).

use Test::Base -base;
use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Time::HiRes qw(time sleep);
use File::Temp qw(tempdir);
use File::Path qw(make_path remove_tree);
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Encode qw(decode encode);
use JSON::PP;
use IPC::Run ();

our @EXPORT = qw(
    run_tests set_default absent json_subset_errors
    http_request parse_sse mock_requests mock_clear mock_release
);

our $REPO_ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../..');
our $NGINX_BIN = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
our $LLM_MODULE = $ENV{LLM_MODULE} || "$REPO_ROOT/objs/ngx_http_llm_module.so";
our $NODE_BIN = $ENV{NODE_BIN} || 'node';
our $TIMEOUT = $ENV{LLM_TEST_TIMEOUT} || 10;
our $LOG_LEVEL = $ENV{LLM_TEST_LOG_LEVEL} || 'info';
our $VERBOSE = $ENV{LLM_TEST_VERBOSE};

our ($MOCK_PORT, $MOCK_TLS_PORT, $TEST_CA, $MOCK_PID, $BASE_DIR);
our %DEFAULTS;
our $NGINX_PID;         # the running master, if any
our $KEEP;              # keep $BASE_DIR (a block failed)

my $JSON = JSON::PP->new->utf8->allow_nonref->canonical;
my $JSON_CHARS = JSON::PP->new->allow_nonref->canonical;

umask 022;
$SIG{PIPE} = 'IGNORE';

# ---------------------------------------------------------------------------
# public helpers

# set_default(models => "...", http_config => "..."): sections used by
# blocks that do not have them.
sub set_default {
    my %kv = @_;
    @DEFAULTS{keys %kv} = values %kv;
}

my $ABSENT = bless {}, 'LlmTest::Absent';
sub absent() { $ABSENT }

# ---------------------------------------------------------------------------
# process management

sub _kill_mock {
    return unless $MOCK_PID;
    kill 'TERM', $MOCK_PID;
    my $t = time + 5;
    while (time < $t) {
        last if waitpid($MOCK_PID, WNOHANG) != 0;
        sleep 0.05;
    }
    if (kill 0, $MOCK_PID) {
        kill 'KILL', $MOCK_PID;
        waitpid($MOCK_PID, 0);
    }
    undef $MOCK_PID;
}

sub _cleanup {
    _stop_nginx_quietly();
    _kill_mock();
}

END {
    my $rc = $?;
    _cleanup();
    if ($BASE_DIR && -d $BASE_DIR) {
        if ($KEEP || $ENV{LLM_TEST_KEEP}) {
            print STDERR "# test files kept in $BASE_DIR\n";
        } else {
            remove_tree($BASE_DIR);
        }
    }
    $? = $rc;
}

for my $sig (qw(INT TERM HUP)) {
    $SIG{$sig} = sub {
        print STDERR "# caught SIG$sig, cleaning up\n";
        _cleanup();
        $KEEP = 1;
        exit(128 + ($sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1));
    };
}

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', Listen => 1, ReuseAddr => 1)
        or die "cannot bind a loopback port: $!";
    my $p = $s->sockport;
    close $s;
    return $p;
}

sub _run_cmd {
    my ($cmd, $timeout) = @_;
    my ($out, $err) = ('', '');
    my $ok = eval {
        IPC::Run::run($cmd, '<', \undef, '>', \$out, '2>', \$err,
            IPC::Run::timeout($timeout || 30));
    };
    my $rc = $@ ? -1 : $?;
    $err .= "\n$@" if $@;
    return ($rc, $out, $err);
}

sub _gen_certs {
    my ($dir) = @_;
    my $ossl = 'openssl';
    my @ec = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes');
    my @steps = (
        [$ossl, 'req', '-x509', @ec, '-keyout', "$dir/ca.key", '-out', "$dir/ca.crt",
            '-days', '3', '-subj', '/CN=ngx_llm test CA',
            '-addext', 'basicConstraints=critical,CA:TRUE',
            '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
        [$ossl, 'req', @ec, '-keyout', "$dir/server.key", '-out', "$dir/server.csr",
            '-subj', '/CN=localhost'],
    );
    open my $fh, '>', "$dir/server.ext" or die "$dir/server.ext: $!";
    print $fh "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n",
        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n";
    close $fh;
    push @steps, [$ossl, 'x509', '-req', '-in', "$dir/server.csr", '-CA', "$dir/ca.crt",
        '-CAkey', "$dir/ca.key", '-CAcreateserial', '-out', "$dir/server.crt",
        '-days', '3', '-extfile', "$dir/server.ext"];
    for my $c (@steps) {
        my ($rc, $out, $err) = _run_cmd($c, 30);
        die "openssl failed (@$c): $err$out" if $rc != 0;
    }
    chmod 0644, glob("$dir/*");
}

sub _start_mock {
    my $dir = "$BASE_DIR/mock";
    make_path($dir);
    chmod 0755, $dir;
    _gen_certs($dir);
    $TEST_CA = "$dir/ca.crt";
    my $ready = "$dir/ready.json";
    my $script = "$REPO_ROOT/t/mock/server.js";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/mock.log";
        open STDERR, '>>', "$dir/mock.log";
        no warnings 'exec';
        exec $NODE_BIN, $script, '--host', '127.0.0.1', '--port', '0', '--tls-port', '0',
            '--cert', "$dir/server.crt", '--key', "$dir/server.key",
            '--ready-file', $ready, '--parent-pid', getppid();
        print STDERR "exec $NODE_BIN: $!\n";
        POSIX::_exit(127);
    }
    $MOCK_PID = $pid;
    my $deadline = time + 20;
    while (!-f $ready) {
        if (waitpid($pid, WNOHANG) != 0) {
            undef $MOCK_PID;
            die "mock server exited at startup:\n" . _tail("$dir/mock.log", 40);
        }
        die "mock server not ready after 20 s:\n" . _tail("$dir/mock.log", 40) if time > $deadline;
        sleep 0.05;
    }
    my $info = $JSON->decode(_slurp($ready));
    ($MOCK_PORT, $MOCK_TLS_PORT) = ($info->{port}, $info->{tls_port});
}

sub _slurp {
    my ($f) = @_;
    open my $fh, '<:raw', $f or return '';
    local $/;
    my $s = <$fh>;
    return defined $s ? $s : '';
}

sub _spew {
    my ($f, $s) = @_;
    open my $fh, '>:raw', $f or die "$f: $!";
    print $fh $s;
    close $fh;
    chmod 0644, $f;
}

sub _tail {
    my ($f, $n) = @_;
    my @l = split /\n/, _slurp($f);
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l) . "\n";
}

# nginx in the foreground (daemon off) as our child
sub _start_nginx {
    my ($t) = @_;
    my $dir = $t->{dir};
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        for my $k (keys %{$t->{env}}) {
            if (defined $t->{env}{$k}) { $ENV{$k} = $t->{env}{$k} } else { delete $ENV{$k} }
        }
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/nginx.stderr";
        open STDERR, '>>', "$dir/nginx.stderr";
        no warnings 'exec';
        my @nginx = ($NGINX_BIN, '-p', "$dir/", '-c', "$dir/nginx.conf", '-e', "$dir/error.log");
        if ($ENV{LLM_TEST_VALGRIND}) {
            my $supp = "$REPO_ROOT/t/valgrind.supp";
            unshift @nginx, 'valgrind', '--trace-children=yes', '--quiet',
                "--log-file=$dir/valgrind.%p.log", '--leak-check=full',
                '--show-leak-kinds=definite', '--errors-for-leak-kinds=definite',
                '--num-callers=30', "--suppressions=$supp";
        }
        exec @nginx;
        print STDERR "exec $NGINX_BIN: $!\n";
        POSIX::_exit(127);
    }
    $NGINX_PID = $pid;
    $t->{master_pid} = $pid;
    # valgrind makes nginx start (and resolve, and load) much slower
    my $deadline = time + ($ENV{LLM_TEST_VALGRIND} ? 90 : 10);
    while (1) {
        if (waitpid($pid, WNOHANG) != 0) {
            undef $NGINX_PID;
            $t->{nginx_exited} = $?;
            return "nginx exited at startup (status $?):\n"
                . _tail("$dir/nginx.stderr", 20) . _tail("$dir/error.log", 30);
        }
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->{port},
            Proto => 'tcp', Timeout => 1);
        if ($s) { close $s; last }
        return "nginx does not accept on port $t->{port} after 10 s:\n" . _tail("$dir/error.log", 30)
            if time > $deadline;
        sleep 0.02;
    }
    return undef;
}

sub _worker_pids {
    my ($dir, $from) = @_;
    my $log = substr(_slurp("$dir/error.log"), $from || 0);
    my %w;
    $w{$1} = 1 while $log =~ /start worker process (\d+)/g;
    delete $w{$1} while $log =~ /worker process (\d+) exited/g;
    return sort keys %w;
}

sub _wait_exit {
    my ($pid, $secs) = @_;
    my $t = time + $secs;
    while (time < $t) {
        my $r = waitpid($pid, WNOHANG);
        return 1 if $r == $pid || $r == -1;
        sleep 0.02;
    }
    return 0;
}

# SIGQUIT, then SIGTERM after 10 s, then SIGKILL (master and the workers
# it started, by PID).  Returns a complaint or undef.
sub _stop_nginx {
    my ($dir) = @_;
    my $pid = $NGINX_PID or return undef;
    my $problem;
    kill 'QUIT', $pid;
    unless (_wait_exit($pid, 10)) {
        $problem = "nginx did not exit 10 s after SIGQUIT (a request still open?); sent SIGTERM";
        kill 'TERM', $pid;
        unless (_wait_exit($pid, 5)) {
            $problem = "nginx did not exit after SIGQUIT nor SIGTERM; killed";
            my @w = $dir ? _worker_pids($dir) : ();
            kill 'KILL', $pid;
            _wait_exit($pid, 5);
            for my $w (@w) {
                my $stat = _slurp("/proc/$w/stat");
                kill 'KILL', $w if $stat =~ /\(nginx\)/;
            }
        }
    }
    undef $NGINX_PID;
    return $problem;
}

sub _stop_nginx_quietly {
    return unless $NGINX_PID;
    kill 'QUIT', $NGINX_PID;
    return if _wait_exit($NGINX_PID, 5);
    kill 'KILL', $NGINX_PID;
    _wait_exit($NGINX_PID, 2);
    undef $NGINX_PID;
}

# ---------------------------------------------------------------------------
# raw HTTP/1.1 client

# http_request(port => P, method => 'POST', path => '/x', headers => [k => v],
#   body => bytes, raw => bytes, timeout => s, sock => reuse, keepalive => 1,
#   release_on => qr//, on_release => sub {})
# Returns {status, reason, headers => [[k, v]], header => {lc k => v},
# raw, body (de-chunked), chunks => [sizes], complete, error, events (SSE),
# json, sock (when kept alive)}.
sub http_request {
    my %o = @_;
    my $host = $o{host} || '127.0.0.1';
    my $timeout = $o{timeout} || $TIMEOUT;
    my $r = { raw => '', body => '', complete => 0, chunks => [] };
    my $sock = $o{sock};
    unless ($sock) {
        $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $o{port},
            Proto => 'tcp', Timeout => 5);
        unless ($sock) {
            $r->{error} = "connect to $host:$o{port}: $!";
            return $r;
        }
    }
    binmode $sock;
    $sock->blocking(0);
    my $req;
    if (defined $o{raw}) {
        $req = $o{raw};
    } else {
        my $method = $o{method} || 'GET';
        my @h = @{$o{headers} || []};
        my %have;
        for (my $i = 0; $i < @h; $i += 2) { $have{lc $h[$i]} = 1 }
        my $body = $o{body};
        $req = "$method $o{path} HTTP/1.1\r\n";
        $req .= "Host: localhost\r\n" unless $have{host};
        if (defined $body && !$have{'content-length'} && !$have{'transfer-encoding'}) {
            $req .= "Content-Length: " . length($body) . "\r\n";
        } elsif (!defined $body && $method =~ /^(POST|PUT|PATCH)$/ && !$have{'content-length'}) {
            $req .= "Content-Length: 0\r\n";
        }
        $req .= "Content-Type: application/json\r\n"
            if defined $body && length $body && !$have{'content-type'};
        $req .= "Connection: " . ($o{keepalive} ? 'keep-alive' : 'close') . "\r\n"
            unless $have{connection};
        for (my $i = 0; $i < @h; $i += 2) { $req .= "$h[$i]: $h[$i + 1]\r\n" }
        $req .= "\r\n";
        $req .= $body if defined $body;
    }
    $r->{request} = $req;
    print STDERR "# >>> " . (_short($req, 2000) =~ s/\n/\n# /gr) . "\n" if $VERBOSE;

    my $deadline = time + $timeout;
    my $sel = IO::Select->new($sock);
    my $off = 0;
    # write (the server may answer early and close: keep reading then)
    while ($off < length $req) {
        my $left = $deadline - time;
        if ($left <= 0) { $r->{error} = "timeout writing the request"; last }
        next unless $sel->can_write($left);
        my $n = syswrite($sock, $req, 65536, $off);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EINTR};
            $r->{write_error} = "$!";
            last;
        }
        $off += $n;
    }
    # read
    my $released = 0;
    while (!$r->{complete} && !$r->{error}) {
        if ($o{release_on} && !$released && $r->{headers_done} && $r->{body} =~ $o{release_on}) {
            $released = 1;
            $r->{released} = 1;
            $o{on_release}->() if $o{on_release};
        }
        my $left = $deadline - time;
        if ($left <= 0) {
            $r->{error} = "timeout: no complete response within ${timeout}s"
                . ($o{release_on} && !$released
                   ? " (release_on $o{release_on} never matched: is the gateway buffering the stream?)"
                   : '');
            $r->{timed_out} = 1;
            last;
        }
        next unless $sel->can_read($left);
        my $n = sysread($sock, my $buf, 65536);
        if (!defined $n) {
            next if $!{EAGAIN} || $!{EINTR};
            $r->{eof} = 1;
            $r->{read_error} = "$!";
            _progress($r, $o{method}, 1);
            last;
        }
        if ($n == 0) {
            $r->{eof} = 1;
            _progress($r, $o{method}, 1);
            last;
        }
        $r->{raw} .= $buf;
        _progress($r, $o{method}, 0);
    }
    if ($o{release_on} && !$released && $r->{headers_done} && $r->{body} =~ $o{release_on}) {
        # matched only with the last bytes: nothing proved about streaming
        $r->{released_late} = 1;
        $o{on_release}->() if $o{on_release};
    }
    if (!$r->{complete} && !$r->{error}) {
        $r->{error} = $r->{headers_done}
            ? "connection closed before the end of the response body"
            : "connection closed before a complete response header"
              . (length $r->{raw} ? '' : ' (nothing received)');
        $r->{truncated} = 1;
    }
    my $keep = $o{keepalive} && $r->{complete} && !$r->{eof}
        && lc($r->{header}{connection} || '') ne 'close';
    if ($keep) { $r->{sock} = $sock } else { close $sock }
    _decode_body($r);
    print STDERR "# <<< " . (_short($r->{raw}, 3000) =~ s/\n/\n# /gr) . ($r->{error} ? "\n# !!! $r->{error}" : '') . "\n"
        if $VERBOSE;
    return $r;
}

sub _short {
    my ($s, $n) = @_;
    $s = substr($s, 0, $n) . "...[" . (length($s) - $n) . " more bytes]" if length $s > $n;
    return $s;
}

sub _progress {
    my ($r, $method, $eof) = @_;
    unless ($r->{headers_done}) {
        my $i = index($r->{raw}, "\r\n\r\n");
        return if $i < 0;
        my $head = substr($r->{raw}, 0, $i);
        $r->{body_off} = $i + 4;
        my @lines = split /\r\n/, $head;
        my $sl = shift @lines;
        if ($sl =~ m{^HTTP/(\d\.\d) (\d{3})(?: (.*))?$}) {
            ($r->{version}, $r->{status}, $r->{reason}) = ($1, $2, defined $3 ? $3 : '');
        } else {
            $r->{error} = "bad status line: $sl";
            return;
        }
        for my $l (@lines) {
            my ($k, $v) = $l =~ /^([^:]+):\s*(.*?)\s*$/ or next;
            push @{$r->{headers}}, [$k, $v];
            my $lk = lc $k;
            $r->{header}{$lk} = exists $r->{header}{$lk} ? "$r->{header}{$lk}, $v" : $v;
        }
        $r->{headers_done} = 1;
        my $te = lc($r->{header}{'transfer-encoding'} || '');
        if (($method || '') eq 'HEAD' || $r->{status} =~ /^(1\d\d|204|304)$/) {
            $r->{framing} = 'none';
        } elsif ($te =~ /chunked/) {
            $r->{framing} = 'chunked';
            $r->{cpos} = $r->{body_off};
        } elsif (defined $r->{header}{'content-length'}) {
            $r->{framing} = 'length';
        } else {
            $r->{framing} = 'close';
        }
    }
    my $f = $r->{framing};
    if ($f eq 'none') {
        $r->{complete} = 1;
    } elsif ($f eq 'length') {
        my $len = $r->{header}{'content-length'};
        $r->{body} = substr($r->{raw}, $r->{body_off}, $len);
        $r->{complete} = 1 if length($r->{raw}) - $r->{body_off} >= $len;
    } elsif ($f eq 'close') {
        $r->{body} = substr($r->{raw}, $r->{body_off});
        $r->{complete} = 1 if $eof;
    } else {
        while (1) {
            my $nl = index($r->{raw}, "\r\n", $r->{cpos});
            last if $nl < 0;
            my $line = substr($r->{raw}, $r->{cpos}, $nl - $r->{cpos});
            unless ($line =~ /^([0-9a-fA-F]+)(?:;.*)?$/) {
                $r->{error} = "bad chunk size line: '" . substr($line, 0, 80) . "'";
                last;
            }
            my $size = hex $1;
            if ($size == 0) {
                # last-chunk, optional trailers, CRLF
                my $rest = $nl + 2;
                if (substr($r->{raw}, $rest, 2) eq "\r\n") {
                    $r->{complete} = 1;
                } elsif (index($r->{raw}, "\r\n\r\n", $rest) >= 0) {
                    $r->{complete} = 1;
                }
                last;
            }
            my $data = $nl + 2;
            last if length($r->{raw}) < $data + $size + 2;
            $r->{body} .= substr($r->{raw}, $data, $size);
            push @{$r->{chunks}}, $size;
            if (substr($r->{raw}, $data + $size, 2) ne "\r\n") {
                $r->{error} = "chunk of $size bytes not followed by CRLF";
                last;
            }
            $r->{cpos} = $data + $size + 2;
        }
    }
}

sub _decode_body {
    my ($r) = @_;
    return unless $r->{headers_done};
    my $ct = $r->{header}{'content-type'} || '';
    if ($ct =~ m{text/event-stream}i) {
        $r->{events} = parse_sse($r->{body});
    }
    my $j = eval { $JSON->decode($r->{body}) };
    $r->{json} = $j unless $@;
}

# SSE parser (WHATWG rules: \n, \r\n or \r line ends, ":" comments,
# several data: lines joined with "\n").  Returns a list of events
# {data, event, id, json (decoded data, if JSON), done (data eq [DONE])}.
sub parse_sse {
    my ($body) = @_;
    my @events;
    my $cur = {};
    my @lines = split /\r\n|\n|\r/, $body, -1;
    # a final partial line (no line end) is not an event line
    pop @lines if @lines && $body !~ /(?:\r\n|\n|\r)\z/;
    for my $l (@lines) {
        if ($l eq '') {
            if (exists $cur->{data}) {
                my $e = $cur;
                if ($e->{data} eq '[DONE]') {
                    $e->{done} = 1;
                } else {
                    my $j = eval { $JSON->decode($e->{data}) };
                    $e->{json} = $j unless $@;
                }
                push @events, $e;
            }
            $cur = {};
            next;
        }
        next if $l =~ /^:/;
        my ($f, $v) = $l =~ /^([^:]*)(?::[ ]?(.*))?$/;
        $v = '' unless defined $v;
        if ($f eq 'data') {
            $cur->{data} = exists $cur->{data} ? "$cur->{data}\n$v" : $v;
        } elsif ($f eq 'event' || $f eq 'id' || $f eq 'retry') {
            $cur->{$f} = $v;
        }
    }
    return \@events;
}

# ---------------------------------------------------------------------------
# the mock's control endpoints

sub _mock_call {
    my ($method, $path) = @_;
    my $r = http_request(port => $MOCK_PORT, method => $method, path => $path, timeout => 10,
        ($method eq 'POST' || $method eq 'DELETE') ? (body => '') : ());
    die "mock control $method $path failed: " . ($r->{error} || "status $r->{status}")
        unless $r->{complete} && $r->{status} == 200;
    return $JSON->decode($r->{body});
}

sub mock_requests { _mock_call('GET', '/__requests') }
sub mock_clear { _mock_call('DELETE', '/__requests') }
sub mock_release { _mock_call('POST', '/__release')->{released} }

# ---------------------------------------------------------------------------
# subset matching

# Returns a list of mismatch descriptions (empty: $got contains $exp).
sub json_subset_errors {
    my ($got, $exp, $path) = @_;
    $path = '$' unless defined $path;
    my @e;
    if (ref $exp eq 'LlmTest::Absent') {
        return ("$path: should be absent");
    }
    if (ref $exp eq 'HASH') {
        return ("$path: expected an object, got " . _dump($got)) unless ref $got eq 'HASH';
        for my $k (sort keys %$exp) {
            my $ev = $exp->{$k};
            if (ref $ev eq 'LlmTest::Absent') {
                push @e, "$path.$k: should be absent, got " . _dump($got->{$k}) if exists $got->{$k};
                next;
            }
            unless (exists $got->{$k}) {
                push @e, "$path.$k: missing (expected " . _dump($ev) . ")";
                next;
            }
            push @e, json_subset_errors($got->{$k}, $ev, "$path.$k");
        }
        return @e;
    }
    if (ref $exp eq 'ARRAY') {
        return ("$path: expected an array, got " . _dump($got)) unless ref $got eq 'ARRAY';
        push @e, "$path: expected " . scalar(@$exp) . " elements, got " . scalar(@$got)
            if @$exp != @$got;
        for my $i (0 .. $#$exp) {
            last if $i > $#$got;
            push @e, json_subset_errors($got->[$i], $exp->[$i], "$path\[$i]");
        }
        return @e;
    }
    if (ref $exp eq 'Regexp') {
        return ("$path: expected a string matching $exp, got " . _dump($got))
            if !defined $got || ref $got && !JSON::PP::is_bool($got) || "$got" !~ $exp;
        return ();
    }
    if (ref $exp eq 'CODE') {
        local $_ = $got;
        my $ok = eval { $exp->($got) };
        return ("$path: predicate " . ($@ ? "died: $@" : 'failed') . " for " . _dump($got)) unless $ok;
        return ();
    }
    if (JSON::PP::is_bool($exp)) {
        return ("$path: expected " . ($exp ? 'true' : 'false') . ", got " . _dump($got))
            unless JSON::PP::is_bool($got) && !!$got == !!$exp;
        return ();
    }
    if (!defined $exp) {
        return defined $got ? ("$path: expected null, got " . _dump($got)) : ();
    }
    # scalar
    return ("$path: expected " . _dump($exp) . ", got " . _dump($got))
        if !defined $got || ref $got && !JSON::PP::is_bool($got);
    if (JSON::PP::is_bool($got)) {
        return ("$path: expected " . _dump($exp) . ", got " . _dump($got));
    }
    if (_is_num($exp) && _is_num($got)) {
        return $exp == $got ? () : ("$path: expected $exp, got $got");
    }
    return "$exp" eq "$got" ? () : ("$path: expected " . _dump($exp) . ", got " . _dump($got));
}

sub _is_num { Scalar::Util::looks_like_number($_[0]) && $_[0] !~ /^\s|\s$|^(?:inf|nan)/i }
use Scalar::Util ();

sub _dump {
    my ($v) = @_;
    return 'undef' unless defined $v;
    return "$v" if ref $v eq 'Regexp';
    return 'absent()' if ref $v eq 'LlmTest::Absent';
    my $s = eval { JSON::PP->new->allow_nonref->canonical->allow_blessed->convert_blessed->ascii->encode($v) };
    $s = "$v" unless defined $s;
    return length $s > 300 ? substr($s, 0, 300) . '...' : $s;
}

# ---------------------------------------------------------------------------
# block plumbing

sub _expand {
    my ($t, $s) = @_;
    return $s unless defined $s && !ref $s;
    my %v = (
        MOCK_PORT => $MOCK_PORT,
        MOCK_TLS_PORT => $MOCK_TLS_PORT,
        MOCK_URL => "http://127.0.0.1:$MOCK_PORT",
        MOCK_TLS_URL => "https://localhost:$MOCK_TLS_PORT",
        TEST_CA => $TEST_CA,
        SERVER_PORT => $t->{port},
        SERVER_URL => "http://127.0.0.1:$t->{port}",
        TEST_DIR => $t->{dir},
        CLOSED_PORT => $t->{closed_port},
    );
    my $names = join '|', sort { length $b <=> length $a } keys %v;
    $s =~ s/\$\{ENV:(\w+)\}/defined $ENV{$1} ? $ENV{$1} : ''/ge;
    $s =~ s/\$\{($names)\}/$v{$1}/g;
    $s =~ s/\$($names)\b/$v{$1}/g;
    return $s;
}

# the raw (filtered by Test::Base) text of a section, expanded; undef if absent
sub _sec {
    my ($t, $name) = @_;
    my $b = $t->{block};
    my $v;
    if (exists $b->{$name}) {
        my @v = @{$b->{$name}};
        $v = @v == 1 ? $v[0] : \@v;
    } elsif (exists $DEFAULTS{$name}) {
        $v = $DEFAULTS{$name};
    } else {
        return undef;
    }
    return ref $v ? $v : _expand($t, $v);
}

sub _has { my ($t, $name) = @_; exists $t->{block}{$name} || exists $DEFAULTS{$name} }

# Perl or JSON value of a section (or of an expect{} entry)
sub _perl {
    my ($t, $text, $what) = @_;
    return $text if ref $text || !defined $text;
    my $chars = eval { decode('UTF-8', $text, Encode::FB_CROAK) };
    $chars = $text unless defined $chars;
    if ($chars =~ /\A\s*[\[\{]/) {
        my $v = eval { $JSON_CHARS->decode($chars) };
        return $v unless $@;
    }
    my $v = eval "package main; no strict; no warnings; sub { $chars }->()";
    die "section '$what' is neither JSON nor valid Perl: $@" if $@;
    return $v;
}

sub _lines {
    my ($text) = @_;
    return () unless defined $text;
    return @$text if ref $text eq 'ARRAY';
    return ($text) if ref $text;
    return grep { /\S/ } map { s/^\s+|\s+$//gr } split /\n/, $text;
}

# "/re/" or "qr/re/flags" -> qr; anything else -> literal
sub _matcher {
    my ($l) = @_;
    return $l if ref $l eq 'Regexp';
    if ($l =~ m{\Aqr/(.*)/([msixn]*)\z}s || $l =~ m{\A/(.*)/([msixn]*)\z}s) {
        my ($re, $fl) = ($1, $2);
        return $fl ? qr/(?$fl)$re/ : qr/$re/;
    }
    return $l;
}

sub _contains {
    my ($hay, $m) = @_;
    return ref $m ? $hay =~ $m : index($hay, $m) >= 0;
}

sub _env_of {
    my ($t) = @_;
    my %env;
    for my $l (_lines(_sec($t, 'env'))) {
        if ($l =~ /^!\s*(\w+)$/) { $env{$1} = undef; next }
        my ($k, $v) = $l =~ /^(\w+)=(.*)$/ or die "bad --- env line: $l";
        $env{$k} = $v;
    }
    return \%env;
}

sub _write_conf {
    my ($t, $phase) = @_;
    my $dir = $t->{dir};
    my $b = $t->{block};
    my $models = $phase == 2 && _has($t, 'reload_models') ? _sec($t, 'reload_models') : _sec($t, 'models');
    _spew("$dir/models.yaml", $models) if defined $models;
    my $no_module = _has($t, 'no_module');
    my $http = ($phase == 2 && _has($t, 'reload_http_config') ? _sec($t, 'reload_http_config') : _sec($t, 'http_config')) // '';
    my $server = $phase == 2 && _has($t, 'reload_config') ? _sec($t, 'reload_config') : _sec($t, 'config');
    $server = "location / {\n    llm_pass;\n}\n" unless defined $server;
    my $main = _sec($t, 'main_config') // '';
    # a block's own worker_processes replaces the default one
    my $workers = $main =~ /^\s*worker_processes\b/m ? '' : "worker_processes 1;";
    my $level = _sec($t, 'log_level') // $LOG_LEVEL;
    my $llm_config = ($no_module || _has($t, 'no_llm_config')) ? '' : "    llm_config $dir/models.yaml;\n";
    my $load = $no_module ? '' : "load_module $LLM_MODULE;\n";
    (my $name = $b->name) =~ s/\n/ /g;
    my $conf = <<"EOF";
# generated by t/lib/LlmTest.pm for: $name
$load
daemon off;
master_process on;
$workers
pid $dir/nginx.pid;
error_log $dir/error.log $level;

$main

events {
    worker_connections 1024;
}

http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;
    default_type application/octet-stream;
$llm_config
$http

    server {
        listen 127.0.0.1:$t->{port};
        server_name localhost;

$server
    }
}
EOF
    _spew("$dir/nginx.conf", $conf);
}

# requests of a phase: list of hashes
sub _requests_of {
    my ($t, $sfx) = @_;
    my @specs;
    if (_has($t, "requests$sfx")) {
        my $v = _perl($t, _sec($t, "requests$sfx"), "requests$sfx");
        die "--- requests$sfx must be an array" unless ref $v eq 'ARRAY';
        @specs = @$v;
    } elsif (_has($t, "request$sfx")) {
        @specs = (_sec($t, "request$sfx"));
    }
    my @more;
    for my $l (_lines(_sec($t, "more_headers$sfx") // _sec($t, 'more_headers'))) {
        my ($k, $v) = $l =~ /^([^:]+):\s*(.*)$/ or die "bad more_headers line: $l";
        push @more, $k, $v;
    }
    my @out;
    for my $s (@specs) {
        my $r;
        if (!ref $s) {
            my ($first, $body) = split /\n/, $s, 2;
            my ($m, $p) = $first =~ /^\s*(\S+)\s+(\S+)/ or die "bad request line: $first";
            $body =~ s/\n\z// if defined $body;
            $body = undef if defined $body && $body eq '' && $m eq 'GET';
            $r = { method => $m, path => $p, body => $body };
        } else {
            $r = { %$s };
            $r->{body} = $JSON->encode($r->{json}) if exists $r->{json};
            $r->{method} ||= defined $r->{body} ? 'POST' : 'GET';
        }
        my @h = ref $r->{headers} eq 'HASH' ? %{$r->{headers}} : @{$r->{headers} || []};
        $r->{headers} = [@more, @h];
        push @out, $r;
    }
    return @out;
}

sub _expect_of {
    my ($t, $sfx) = @_;
    my %e;
    for my $k (qw(error_code response_body response_body_like response_body_unlike
                  response_json openai_error response_headers response_headers_like
                  raw_response_like stream_check)) {
        $e{$k} = _sec($t, "$k$sfx") if _has($t, "$k$sfx");
    }
    return \%e;
}

# ---------------------------------------------------------------------------
# checks

sub _ok {
    my ($t, $ok, $what, @diag) = @_;
    my $tb = Test::More->builder;
    $tb->ok($ok, "$t->{name} - $what");
    unless ($ok) {
        $tb->diag(join "\n", map { my $s = $_ // ''; $s = encode('UTF-8', $s) if utf8::is_utf8($s); $s } @diag) if @diag;
        $t->{failed}++;
    }
    return $ok;
}

sub _resp_diag {
    my ($r) = @_;
    return "response: " . ($r->{error} ? "[$r->{error}] " : '') . _short($r->{raw}, 1500);
}

sub check_response {
    my ($t, $r, $e, $label) = @_;
    my $L = $label ? "$label: " : '';
    my $sc = defined $e->{stream_check} ? _perl($t, $e->{stream_check}, 'stream_check') : undef;
    my $allow_trunc = $sc && $sc->{allow_truncated};
    unless ($r->{complete} || $allow_trunc) {
        _ok($t, 0, "${L}complete response", _resp_diag($r));
        return;
    }
    if (defined $e->{error_code}) {
        (my $want = $e->{error_code}) =~ s/\s+//g;
        _ok($t, defined $r->{status} && $r->{status} == $want, "${L}status $want",
            "got " . ($r->{status} // 'nothing'), _resp_diag($r));
    }
    if (defined $e->{response_body}) {
        _ok($t, $r->{body} eq $e->{response_body}, "${L}response_body",
            "expected: $e->{response_body}", "got: " . _short($r->{body}, 2000));
    }
    for my $k (qw(response_body_like response_body_unlike raw_response_like)) {
        next unless defined $e->{$k};
        my $want = $k =~ /unlike/ ? 0 : 1;
        my $hay = $k eq 'raw_response_like' ? $r->{raw} : $r->{body};
        for my $re (ref $e->{$k} eq 'ARRAY' ? @{$e->{$k}} : ($e->{$k})) {
            my $rx = ref $re ? $re : do { (my $s = $re) =~ s/\n\z//; qr/$s/s };
            _ok($t, ($hay =~ $rx ? 1 : 0) == $want, "${L}$k $rx", "got: " . _short($hay, 2000));
        }
    }
    if (defined $e->{response_json}) {
        my $exp = _perl($t, $e->{response_json}, 'response_json');
        if (!defined $r->{json} && $r->{body} ne 'null') {
            _ok($t, 0, "${L}response_json", "body is not JSON: " . _short($r->{body}, 1000));
        } else {
            my @err = json_subset_errors($r->{json}, $exp);
            _ok($t, !@err, "${L}response_json", @err, "got: " . _dump($r->{json}));
        }
    }
    if (defined $e->{openai_error}) {
        my $exp = _perl($t, $e->{openai_error}, 'openai_error');
        $exp = {} unless ref $exp eq 'HASH';
        my $ct = $r->{header}{'content-type'} || '';
        _ok($t, $ct =~ m{^application/json\b}i, "${L}error content-type is JSON", "got '$ct'", _resp_diag($r));
        my $err = ref $r->{json} eq 'HASH' ? $r->{json}{error} : undef;
        if (ref $err ne 'HASH') {
            _ok($t, 0, "${L}OpenAI error body", "no {\"error\":{...}} object", _resp_diag($r));
        } else {
            my @miss = grep { !exists $err->{$_} } qw(message type param code);
            my @bad;
            push @bad, "message is not a non-empty string"
                unless defined $err->{message} && !ref $err->{message} && length $err->{message};
            push @bad, "type is not a string" unless defined $err->{type} && !ref $err->{type};
            for my $k (qw(param code)) {
                push @bad, "$k is neither a string nor null" if defined $err->{$k} && ref $err->{$k};
            }
            _ok($t, !@miss && !@bad, "${L}OpenAI error shape",
                (@miss ? "missing keys: @miss" : ()), @bad, "got: " . _dump($r->{json}));
            my @e = json_subset_errors($err, $exp, '$.error');
            _ok($t, !@e, "${L}openai_error", @e, "got: " . _dump($r->{json}));
        }
    }
    if (defined $e->{response_headers}) {
        for my $l (_lines($e->{response_headers})) {
            if ($l =~ /^!\s*(\S+)$/) {
                my $h = lc $1;
                _ok($t, !exists $r->{header}{$h}, "${L}no header $1", "got: $1: " . ($r->{header}{$h} // ''));
            } elsif ($l =~ /^([^:]+):\s*(.*)$/) {
                my ($h, $v) = (lc $1, $2);
                _ok($t, defined $r->{header}{$h} && $r->{header}{$h} eq $v, "${L}header $1: $v",
                    "got: " . ($r->{header}{$h} // '(absent)'));
            } else {
                die "bad response_headers line: $l";
            }
        }
    }
    if (defined $e->{response_headers_like}) {
        for my $l (_lines($e->{response_headers_like})) {
            my ($h, $re) = $l =~ /^([^:]+):\s*(.*)$/ or die "bad response_headers_like line: $l";
            my $v = $r->{header}{lc $h};
            _ok($t, defined $v && $v =~ /$re/, "${L}header $h =~ /$re/", "got: " . ($v // '(absent)'));
        }
    }
    check_stream($t, $r, $sc, $L) if $sc;
}

# stream_check keys (all optional):
#   content => 'text'        choices[0].delta.content fragments joined
#   content_like => qr//
#   done => 1|0              the last event is data: [DONE] (default 1 unless
#                            error_event is expected); 0: no [DONE] at all
#   finish_reason => 'stop'  the finish_reason seen (exactly one)
#   usage_chunk => 1|0       a chunk with "choices": [] and a usage object
#   usage => {subset}        of that usage object
#   usage_null => 1          every other chunk has "usage": null
#   no_usage => 1            no chunk carries a non-null usage
#   error_event => 1|{subset of the error object}; default: no error event
#   tool_calls => [...]      reassembled from the deltas, subset-matched
#   chunks => {subset}       every chat.completion.chunk contains this
#   first_chunk => {subset}
#   same_id => 1             (default) every chunk has the same id and created
#   min_events => n
#   strict_sse => 1          (default) every event is exactly one "data: ..."
#                            line followed by a blank line ("\n\n"), no event:
#                            lines (":" comments allowed)
#   allow_truncated => 1     accept a response whose body did not end properly
#   code => sub { my ($events, $resp) = @_; ... }   more Test::More checks
sub check_stream {
    my ($t, $r, $sc, $L) = @_;
    $L //= '';
    my $ct = $r->{header}{'content-type'} || '';
    _ok($t, $ct =~ m{^text/event-stream}i, "${L}stream content-type text/event-stream", "got '$ct'");
    my @ev = @{$r->{events} || parse_sse($r->{body})};
    my $strict = exists $sc->{strict_sse} ? $sc->{strict_sse} : 1;
    if ($strict) {
        my @bad;
        my $b = $r->{body};
        if ($b ne '' && $b !~ /\n\n\z/ && !($sc->{allow_truncated} && !$r->{complete})) {
            push @bad, "body does not end with a blank line";
        }
        for my $blk (split /\n\n/, $b) {
            my @l = grep { !/^:/ } split /\n/, $blk;
            next unless @l;
            push @bad, "event is not one 'data: ' line: " . _short($blk, 200)
                if @l != 1 || $l[0] !~ /^data: /;
            push @bad, "carriage return in event" if $blk =~ /\r/;
        }
        _ok($t, !@bad, "${L}SSE framing: data: lines separated by blank lines", @bad[0 .. ($#bad > 4 ? 4 : $#bad)]);
    }
    my @chunks = map { $_->{json} } grep { ref $_->{json} eq 'HASH' && !exists $_->{json}{error} } @ev;
    my @errors = map { $_->{json}{error} } grep { ref $_->{json} eq 'HASH' && exists $_->{json}{error} } @ev;
    my @nonjson = grep { !$_->{done} && !defined $_->{json} } @ev;
    _ok($t, !@nonjson, "${L}every event is JSON or [DONE]", map { "not JSON: " . _short($_->{data}, 200) } @nonjson[0 .. ($#nonjson > 2 ? 2 : $#nonjson)]);

    my $want_done = exists $sc->{done} ? $sc->{done} : ($sc->{error_event} ? undef : 1);
    if (defined $want_done) {
        my $last_done = @ev && $ev[-1]{done} ? 1 : 0;
        my $any_done = grep { $_->{done} } @ev;
        if ($want_done) {
            _ok($t, $last_done, "${L}stream ends with data: [DONE]", "last event: " . (@ev ? _short($ev[-1]{data}, 200) : 'none'));
        } else {
            _ok($t, !$any_done, "${L}no data: [DONE]");
        }
    }
    if ($sc->{error_event}) {
        _ok($t, scalar(@errors), "${L}an error event", "events: " . scalar(@ev));
        if (@errors && ref $sc->{error_event} eq 'HASH') {
            my @e = json_subset_errors($errors[0], $sc->{error_event}, '$.error');
            _ok($t, !@e, "${L}error event content", @e);
        }
        if (@errors) {
            my @miss = grep { !exists $errors[0]{$_} } qw(message type param code);
            _ok($t, !@miss, "${L}error event has message/type/param/code", "missing: @miss");
        }
    } else {
        _ok($t, !@errors, "${L}no error event", map { _dump($_) } @errors);
    }
    my @choice_chunks = grep { ref $_->{choices} eq 'ARRAY' && @{$_->{choices}} } @chunks;
    if (exists $sc->{content} || exists $sc->{content_like}) {
        my $text = join '', map {
            my $d = $_->{choices}[0]{delta};
            ref $d eq 'HASH' && defined $d->{content} && !ref $d->{content} ? $d->{content} : ''
        } grep { ($_->{choices}[0]{index} // 0) == 0 } @choice_chunks;
        if (exists $sc->{content}) {
            _ok($t, $text eq $sc->{content}, "${L}streamed content", "expected: $sc->{content}", "got:      $text");
        }
        if (exists $sc->{content_like}) {
            _ok($t, $text =~ $sc->{content_like}, "${L}streamed content =~ $sc->{content_like}", "got: $text");
        }
    }
    if (exists $sc->{finish_reason}) {
        my @f = grep { defined } map { $_->{choices}[0]{finish_reason} } @choice_chunks;
        _ok($t, @f == 1 && $f[0] eq $sc->{finish_reason}, "${L}finish_reason $sc->{finish_reason}",
            "got: " . join(',', @f));
    }
    my @usage_chunks = grep { ref $_->{choices} eq 'ARRAY' && !@{$_->{choices}} && ref $_->{usage} eq 'HASH' } @chunks;
    if (exists $sc->{usage_chunk}) {
        if ($sc->{usage_chunk}) {
            _ok($t, @usage_chunks == 1, "${L}one usage chunk (choices: [])", "got " . scalar(@usage_chunks));
            if (@usage_chunks) {
                my $pos = 0;
                for my $i (0 .. $#chunks) { $pos = $i if $chunks[$i] == $usage_chunks[0] }
                _ok($t, $pos == $#chunks, "${L}usage chunk is the last chunk");
            }
        } else {
            _ok($t, !@usage_chunks, "${L}no usage chunk", map { _dump($_) } @usage_chunks);
        }
    }
    if ($sc->{usage}) {
        my @e = @usage_chunks ? json_subset_errors($usage_chunks[0]{usage}, $sc->{usage}, '$.usage') : ('no usage chunk');
        _ok($t, !@e, "${L}usage", @e);
    }
    if ($sc->{usage_null}) {
        my @bad = grep { !exists $_->{usage} || defined $_->{usage} } grep { @{$_->{choices} || []} } @chunks;
        _ok($t, !@bad, "${L}every choice chunk has \"usage\": null", map { _dump($_) } @bad[0 .. ($#bad > 1 ? 1 : $#bad)]);
    }
    if ($sc->{no_usage}) {
        my @bad = grep { defined $_->{usage} } @chunks;
        _ok($t, !@bad, "${L}no chunk carries usage", map { _dump($_) } @bad[0 .. ($#bad > 1 ? 1 : $#bad)]);
    }
    if ($sc->{tool_calls}) {
        my @calls;
        for my $c (@choice_chunks) {
            my $d = $c->{choices}[0]{delta};
            next unless ref $d eq 'HASH' && ref $d->{tool_calls} eq 'ARRAY';
            for my $tc (@{$d->{tool_calls}}) {
                my $i = $tc->{index} // 0;
                my $acc = $calls[$i] ||= { function => { arguments => '' } };
                $acc->{id} = $tc->{id} if defined $tc->{id};
                $acc->{type} = $tc->{type} if defined $tc->{type};
                if (ref $tc->{function} eq 'HASH') {
                    $acc->{function}{name} = $tc->{function}{name} if defined $tc->{function}{name};
                    $acc->{function}{arguments} .= $tc->{function}{arguments} if defined $tc->{function}{arguments};
                }
            }
        }
        my @e = json_subset_errors(\@calls, $sc->{tool_calls}, '$.tool_calls');
        _ok($t, !@e, "${L}streamed tool_calls", @e, "got: " . _dump(\@calls));
    }
    if ($sc->{chunks}) {
        my @e = map { json_subset_errors($_, $sc->{chunks}, '$chunk') } @chunks;
        _ok($t, !@e && @chunks, "${L}every chunk matches", @chunks ? @e[0 .. ($#e > 4 ? 4 : $#e)] : 'no chunks');
    }
    if ($sc->{first_chunk}) {
        my @e = @chunks ? json_subset_errors($chunks[0], $sc->{first_chunk}, '$first') : ('no chunks');
        _ok($t, !@e, "${L}first chunk", @e);
    }
    if (!exists $sc->{same_id} || $sc->{same_id}) {
        my %ids = map { (($_->{id} // 'undef') . '/' . ($_->{created} // 'undef')) => 1 } @chunks;
        _ok($t, keys(%ids) <= 1, "${L}all chunks share id and created", "got: " . join(' ', sort keys %ids));
    }
    if ($sc->{min_events}) {
        _ok($t, @ev >= $sc->{min_events}, "${L}at least $sc->{min_events} events", "got " . scalar(@ev));
    }
    if (ref $sc->{code} eq 'CODE') {
        $sc->{code}->(\@ev, $r, $t);
    }
}

sub _check_mock {
    my ($t, $sfx) = @_;
    my @secs = grep { _has($t, "$_$sfx") }
        qw(mock_request mock_request_json mock_request_headers mock_request_like mock_request_count);
    return unless @secs;
    my $reqs = eval { mock_requests() };
    unless ($reqs) {
        _ok($t, 0, "mock requests fetched", $@);
        return;
    }
    $t->{mock_requests} = $reqs;
    my $sum = sub { join "\n", map { "  #$_->{seq} $_->{method} $_->{path} " . _short($_->{body}, 300) } @$reqs };
    if (_has($t, "mock_request_count$sfx")) {
        (my $n = _sec($t, "mock_request_count$sfx")) =~ s/\s+//g;
        _ok($t, @$reqs == $n, "mock received $n request(s)", "got " . scalar(@$reqs), $sum->());
    }
    for my $k (qw(mock_request mock_request_json)) {
        next unless _has($t, "$k$sfx");
        my $exp = _perl($t, _sec($t, "$k$sfx"), "$k$sfx");
        my @pairs = ref $exp eq 'ARRAY' ? map { [$_, $exp->[$_]] } 0 .. $#$exp : ([$#$reqs, $exp]);
        for my $p (@pairs) {
            my ($i, $x) = @$p;
            next unless defined $x;
            my $rec = $i >= 0 ? $reqs->[$i] : undef;
            unless ($rec) {
                _ok($t, 0, "$k: mock request #$i exists", "mock received " . scalar(@$reqs) . " request(s)");
                next;
            }
            my $got = $k eq 'mock_request_json' ? $rec->{json} : $rec;
            my @e = json_subset_errors($got, $x, $k eq 'mock_request_json' ? '$body' : '$req');
            _ok($t, !@e, "$k [$i]", @e, "got: " . _dump($got));
        }
    }
    if (_has($t, "mock_request_headers$sfx")) {
        my $rec = $reqs->[-1];
        my $text = _sec($t, "mock_request_headers$sfx");
        my @checks;
        if (ref $text || $text =~ /\A\s*\{/) {
            my $h = _perl($t, $text, "mock_request_headers$sfx");
            @checks = map { [$_, $h->{$_}] } sort keys %$h;
        } else {
            for my $l (_lines($text)) {
                if ($l =~ /^!\s*(\S+)$/) { push @checks, [$1, undef] }
                elsif ($l =~ /^([^:~\s]+)\s*~\s*(.*)$/) { push @checks, [$1, qr/$2/] }
                elsif ($l =~ /^([^:]+):\s*(.*)$/) { push @checks, [$1, $2] }
                else { die "bad mock_request_headers line: $l" }
            }
        }
        if (!$rec) {
            _ok($t, 0, "mock_request_headers: the mock received a request");
        } else {
            for my $c (@checks) {
                my ($h, $want) = ($c->[0], $c->[1]);
                my $got = $rec->{headers}{lc $h};
                if (!defined $want) {
                    _ok($t, !defined $got, "mock request has no $h header", "got: $h: " . ($got // ''));
                } elsif (ref $want eq 'Regexp') {
                    _ok($t, defined $got && $got =~ $want, "mock request header $h =~ $want", "got: " . ($got // '(absent)'));
                } else {
                    _ok($t, defined $got && $got eq $want, "mock request header $h: $want", "got: " . ($got // '(absent)'));
                }
            }
        }
    }
    if (_has($t, "mock_request_like$sfx")) {
        my $rec = $reqs->[-1];
        for my $l (_lines(_sec($t, "mock_request_like$sfx"))) {
            my $m = _matcher($l);
            $m = qr/$m/ unless ref $m;
            my $body = $rec ? _bytes($rec->{body}) : '';
            _ok($t, $rec && $body =~ $m, "mock request body =~ $m", "got: " . _short($body, 1000));
        }
    }
}

sub _bytes { my ($s) = @_; $s = '' unless defined $s; utf8::is_utf8($s) ? encode('UTF-8', $s) : $s }

# ---------------------------------------------------------------------------
# running a block

sub _run_phase {
    my ($t, $sfx) = @_;
    my @reqs = _requests_of($t, $sfx);
    my $keep = _has($t, 'client_keepalive');
    my $release_on = _sec($t, "release_on$sfx") // _sec($t, 'release_on');
    my $sock;
    my @resps;
    for my $i (0 .. $#reqs) {
        my $q = $reqs[$i];
        my $rel = exists $q->{release_on} ? $q->{release_on} : $release_on;
        $rel = _matcher($rel) if defined $rel && !ref $rel;
        $rel = qr/\Q$rel\E/ if defined $rel && !ref $rel;
        my $r = http_request(
            port => $t->{port}, %$q, sock => $sock, keepalive => $keep,
            timeout => $q->{timeout} || $t->{timeout},
            release_on => $rel,
            on_release => sub { eval { mock_release() }; },
        );
        $sock = delete $r->{sock};
        push @resps, $r;
        if ($rel) {
            _ok($t, $r->{released} ? 1 : 0,
                "request " . ($i + 1) . ": streamed part seen before the mock released the rest (release_on $rel)",
                ($r->{released_late} ? "matched only at the very end of the response" : ()),
                $r->{error} || (), _resp_diag($r));
        }
        if ($q->{expect}) {
            my %e = %{$q->{expect}};
            check_response($t, $r, \%e, "request " . ($i + 1));
        }
    }
    close $sock if $sock;
    $t->{responses} = \@resps;
    if (@resps) {
        check_response($t, $resps[-1], _expect_of($t, $sfx), @resps > 1 ? "last response" : '');
    }
    _check_mock($t, $sfx);
    if (_has($t, "check$sfx")) {
        my $code = _perl($t, _sec($t, "check$sfx"), "check$sfx");
        if (ref $code eq 'CODE') {
            my $before = _fail_count();
            eval { $code->(bless { t => $t }, 'LlmTest::Ctx'); 1 }
                or _ok($t, 0, "check$sfx code", "died: $@");
            $t->{failed}++ if _fail_count() > $before;
        } else {
            die "--- check$sfx must be a sub { ... }";
        }
    }
}

sub _fail_count { scalar grep { !$_ } Test::More->builder->summary }

sub _nginx_t {
    my ($t) = @_;
    my $dir = $t->{dir};
    unlink "$dir/nginx-t.log";
    my $env = $t->{env};
    local %ENV = %ENV;
    for my $k (keys %$env) { if (defined $env->{$k}) { $ENV{$k} = $env->{$k} } else { delete $ENV{$k} } }
    my ($rc, $out, $err) = _run_cmd([$NGINX_BIN, '-t', '-p', "$dir/", '-c', "$dir/nginx.conf",
        '-e', "$dir/nginx-t.log"], 30);
    my $all = $out . $err . _slurp("$dir/nginx-t.log");
    return ($rc, $all);
}

# every valgrind log of the block's processes must be free of errors
sub _check_valgrind {
    my ($t) = @_;
    my @bad;
    for my $f (glob "$t->{dir}/valgrind.*.log") {
        my $log = _slurp($f);
        push @bad, "$f:\n" . substr($log, 0, 4000)
            if $log =~ /Invalid (read|write|free)|uninitialised|definitely lost|Mismatched free|overlap/;
    }
    _ok($t, !@bad, "valgrind finds no error", @bad);
}

sub _check_error_log {
    my ($t) = @_;
    my $log = _slurp("$t->{dir}/error.log");
    my @allow = map { _matcher($_) } _lines(_sec($t, 'log_allow'));
    my @bad = grep {
        my $l = $_;
        ($l =~ /\[(alert|emerg|crit)\]/ || $l =~ /exited on signal/ || $l =~ /segfault/i)
            && !grep { _contains($l, $_) } @allow
    } split /\n/, $log;
    _ok($t, !@bad, "error.log has no alert/emerg/crit/crash lines", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
    _check_valgrind($t) if $ENV{LLM_TEST_VALGRIND};
    for my $l (_lines(_sec($t, 'error_log'))) {
        my $m = _matcher($l);
        _ok($t, _contains($log, $m), "error.log contains " . (ref $m ? $m : "'$m'"), "error.log tail:\n" . _tail("$t->{dir}/error.log", 20));
    }
    for my $l (_lines(_sec($t, 'no_error_log'))) {
        my $m = _matcher($l);
        my @hits = grep { _contains($_, $m) } split /\n/, $log;
        _ok($t, !@hits, "error.log does not contain " . (ref $m ? $m : "'$m'"), @hits[0 .. ($#hits > 4 ? 4 : $#hits)]);
    }
}

sub _reload {
    my ($t) = @_;
    my $dir = $t->{dir};
    my $off = length _slurp("$dir/error.log");
    my @old = _worker_pids($dir);
    _write_conf($t, 2);
    kill 'HUP', $t->{master_pid};
    my $deadline = time + 15;
    my $must_fail = _has($t, 'reload_must_fail');
    while (time < $deadline) {
        my $new = substr(_slurp("$dir/error.log"), $off);
        if ($must_fail) {
            my @started = ($new =~ /start worker process (\d+)/g);
            return "reload was expected to fail but a new worker started:\n$new" if @started;
            return undef if $new =~ /\[emerg\]/;
            sleep 0.05;
            next;
        }
        my %gone = map { $_ => 1 } ($new =~ /worker process (\d+) exited/g);
        my @started = ($new =~ /start worker process (\d+)/g);
        my @still = grep { !$gone{$_} } @old;
        return undef if @started && !@still;
        return "reload failed:\n$new" if $new =~ /\[emerg\]/ && !@started;
        sleep 0.05;
    }
    return "new worker generation not serving 15 s after SIGHUP:\n" . substr(_slurp("$dir/error.log"), $off);
}

my @PHASED = qw(request requests more_headers release_on error_code response_body
    response_body_like response_body_unlike response_json openai_error response_headers
    response_headers_like raw_response_like stream_check mock_request mock_request_json
    mock_request_headers mock_request_like mock_request_count check);
my %KNOWN = map { $_ => 1 } @PHASED, (map { "${_}2" } @PHASED), qw(
    models env main_config http_config config no_llm_config no_module log_level
    log_allow timeout must_die nginx_t_like nginx_t_unlike client_keepalive
    error_log no_error_log reload_models reload_config reload_http_config
    reload_must_fail expect_failure ONLY SKIP LAST);

sub _run_block {
    my ($block, $n) = @_;
    my $dir = "$BASE_DIR/b" . sprintf('%02d', $n);
    remove_tree($dir);
    make_path($dir);
    chmod 0755, $dir;
    (my $name = $block->name) =~ s/\s+/ /g;
    my $t = {
        block => $block, dir => $dir, name => $name, failed => 0,
        port => free_port(), closed_port => free_port(),
    };
    my @unknown = grep { !$KNOWN{$_} } @{$block->{_section_order}[0] || []};
    if (@unknown) {
        _ok($t, 0, "known sections only", "unknown section(s): @unknown (see the top of t/lib/LlmTest.pm)");
        return $t;
    }
    $t->{timeout} = _sec($t, 'timeout') || $TIMEOUT;
    $t->{env} = _env_of($t);

    unless (_has($t, 'no_module') || -f $LLM_MODULE) {
        _ok($t, 0, "module present",
            "LLM_MODULE $LLM_MODULE does not exist: build it first (make module), "
            . "or point LLM_MODULE at the built ngx_http_llm_module.so");
        return $t;
    }
    eval { mock_clear() };
    _ok($t, 0, "mock server alive", $@) if $@;

    _write_conf($t, 1);

    if (_has($t, 'must_die') || _has($t, 'nginx_t_like') || _has($t, 'nginx_t_unlike')) {
        my ($rc, $out) = _nginx_t($t);
        $t->{nginx_t_output} = $out;
        if (_has($t, 'must_die')) {
            _ok($t, $rc != 0, "nginx -t fails", "nginx -t exit status $rc, output:\n$out");
        } else {
            _ok($t, $rc == 0, "nginx -t succeeds", "nginx -t exit status $rc, output:\n$out");
        }
        for my $l (_lines(_sec($t, 'nginx_t_like'))) {
            my $m = _matcher($l);
            _ok($t, _contains($out, $m), "nginx -t output contains " . (ref $m ? $m : "'$m'"), "output:\n$out");
        }
        for my $l (_lines(_sec($t, 'nginx_t_unlike'))) {
            my $m = _matcher($l);
            _ok($t, !_contains($out, $m), "nginx -t output does not contain " . (ref $m ? $m : "'$m'"), "output:\n$out");
        }
        return $t if _has($t, 'must_die') || $t->{failed};
    }

    my $err = _start_nginx($t);
    if ($err) {
        _ok($t, 0, "nginx starts", $err);
        return $t;
    }
    eval {
        _run_phase($t, '');
        if (_has($t, 'reload_models') || _has($t, 'reload_config') || _has($t, 'reload_http_config')) {
            eval { mock_clear() };
            my $e = _reload($t);
            if ($e) { _ok($t, 0, "reload", $e) }
            else { _run_phase($t, '2') }
        }
        1;
    } or _ok($t, 0, "block ran without dying", "$@");
    eval { mock_release() };    # nothing may stay parked at the gate
    my $problem = _stop_nginx($dir);
    _ok($t, !$problem, "nginx stops", $problem) if $problem;
    _check_error_log($t);
    return $t;
}

sub run_tests {
    # a plan through Test::Builder::plan, so Test::Base's END hook does not
    # try to run its own comparisons (and plan a second time)
    Test::More::plan('no_plan');
    my @blocks = blocks();
    $BASE_DIR = tempdir('ngx_llm_t_XXXXXX', TMPDIR => 1, CLEANUP => 0);
    chmod 0755, $BASE_DIR;
    eval { _start_mock(); 1 } or do {
        Test::More::fail("mock server starts");
        Test::More::diag($@);
        $KEEP = 1;
        return;
    };
    my $n = 0;
    for my $b (@blocks) {
        $n++;
        my $t = eval { _run_block($b, $n) };
        if (!$t) {
            Test::More::fail($b->name . " - harness error");
            Test::More::diag("$@");
            _stop_nginx_quietly();
            $KEEP = 1;
            next;
        }
        if ($t->{failed}) {
            $KEEP = 1;
            Test::More::diag("block dir: $t->{dir}");
            Test::More::diag("error.log tail:\n" . _tail("$t->{dir}/error.log", 15)) if -s "$t->{dir}/error.log";
        }
    }
}

# ---------------------------------------------------------------------------
# what --- check code gets

package LlmTest::Ctx;

sub t { $_[0]{t} }
sub dir { $_[0]{t}{dir} }
sub port { $_[0]{t}{port} }
sub url { "http://127.0.0.1:$_[0]{t}{port}" }
sub master_pid { $_[0]{t}{master_pid} }
sub block { $_[0]{t}{block} }
sub responses { $_[0]{t}{responses} }
sub response { $_[0]{t}{responses}[$_[1] // -1] }
sub mock_requests { LlmTest::mock_requests() }
sub mock_clear { LlmTest::mock_clear() }
sub release { LlmTest::mock_release() }
sub error_log { LlmTest::_slurp("$_[0]{t}{dir}/error.log") }
sub worker_pids { LlmTest::_worker_pids($_[0]{t}{dir}) }
sub mock_port { $LlmTest::MOCK_PORT }
sub mock_tls_port { $LlmTest::MOCK_TLS_PORT }
sub test_ca { $LlmTest::TEST_CA }
sub section { LlmTest::_sec($_[0]{t}, $_[1]) }
# $t->request(method => 'POST', path => '/v1/...', json => {...}) on the gateway
sub request {
    my ($self, %o) = @_;
    $o{body} = JSON::PP->new->utf8->canonical->encode($o{json}) if exists $o{json};
    $o{method} ||= defined $o{body} ? 'POST' : 'GET';
    return LlmTest::http_request(port => $self->port, timeout => $self->{t}{timeout}, %o);
}
# a failing check that also marks the block failed
sub ok { my ($self, $ok, $name, @diag) = @_; LlmTest::_ok($self->{t}, $ok, $name, @diag) }

1;
