# Proves the harness's checks CAN fail: runs t/selftest/fail.tt (blocks
# built to fail, each naming the check that must say "not ok") and checks
# that every one of them failed the way it said, and for no other reason
# (a harness error does not count).
use strict;
use warnings;
use Test::More;
use IPC::Run ();
use File::Basename qw(dirname);
use Cwd qw(abs_path);

my $root = abs_path(dirname(abs_path(__FILE__)) . '/..');
my $tt = "$root/t/selftest/fail.tt";

open my $fh, '<', $tt or die "$tt: $!";
my $src = do { local $/; <$fh> };
my (undef, $data) = split /^__DATA__\n/m, $src, 2;
my @blocks;
for my $b (split /^(?==== )/m, $data) {
    next unless $b =~ /^=== (.*)\n/;
    (my $name = $1) =~ s/\s+/ /g;
    $name =~ s/\s+$//;
    my @exp;
    if ($b =~ /^--- expect_failure:\s*(.+)$/m) {
        @exp = ($1);
    } elsif ($b =~ /^--- expect_failure\n((?:(?!---|===).*\n)+)/m) {
        @exp = grep { /\S/ } map { s/^\s+|\s+$//gr } split /\n/, $1;
    }
    push @blocks, [$name, \@exp];
}
ok(@blocks >= 20, scalar(@blocks) . " must-fail blocks found");

local $ENV{LLM_MODULE} = '/nonexistent/ngx_http_llm_module.so';
local $ENV{LLM_TEST_VERBOSE};
my ($out, $err) = ('', '');
my @cmd = ($^X, "-I$root/t/lib", $tt);
eval { IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err, IPC::Run::timeout(600)) };
my $run_error = $@;
my $rc = $?;
ok(!$run_error, "fail.tt ran to the end") or diag($run_error);
isnt($rc, 0, "fail.tt exits non-zero");

my @notok = grep { /^not ok \d+ - / } split /\n/, $out;
my @harness = grep { /harness error|block ran without dying/ } @notok;
ok(!@harness, "no harness errors in fail.tt") or diag(join "\n", @harness, $err);

for my $b (@blocks) {
    my ($name, $exp) = @$b;
    ok(@$exp, "$name: declares expect_failure") or next;
    for my $e (@$exp) {
        my @hit = grep { index($_, " - $name - ") >= 0 && index($_, $e) >= 0 } @notok;
        ok(@hit, "$name: '$e' reported not ok")
            or diag("not ok lines of this block:\n" . join("\n", grep { index($_, " - $name - ") >= 0 } @notok));
    }
}
unless (Test::More->builder->is_passing) {
    diag("fail.tt stdout:\n$out");
    diag("fail.tt stderr (tail):\n" . join("\n", (split /\n/, $err)[-40 .. -1]));
}
done_testing();
