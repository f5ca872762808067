#!/usr/bin/perl
# The job queue: the job matches the journal, a replayed job is a no-op, two workers
# share one stream and every dossier lands exactly once.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(sleep);
use Tthc::Test;

my $STREAM = 'tthc:{jobs}:stream';
my $DEAD   = 'tthc:{jobs}:dead';
sub seq_of { my ($c) = @_; return defined $c && $c =~ /-(\d{4})$/ ? 0 + $1 : -1 }
sub stream_entries { my $r = eval { redis('XRANGE', $STREAM, '-', '+') }; return ref $r eq 'ARRAY' ? @$r : () }
sub fields_of { my ($e) = @_; my %f = @{ $e->[1] }; return \%f }
sub pending_count { my $r = eval { redis('XPENDING', $STREAM, 'workers') }; return ref $r eq 'ARRAY' ? $r->[0] : 0 }
sub drained { return redis('XLEN', $STREAM) == 0 && pending_count() == 0 }
sub dead_keys { my $r = eval { redis('XRANGE', $DEAD, '-', '+') } // [];
                return map { fields_of($_)->{key} // '' } @{ ref $r eq 'ARRAY' ? $r : [] } }

# --- 1. with the workers stopped, the job waits in the stream, next to its journal
default_applicant();    # sign in while the workers run (sign-in is a worker RPC)
ok(svc('stop-workers'), 'workers stopped');
my $code = submit_ok();
ok($code, 'dossier accepted with no worker running');
my @e = grep { (fields_of($_)->{key} // '') eq ($code // '') } stream_entries();
is(scalar @e, 1, 'one job for it in the stream');
my $f = @e ? fields_of($e[0]) : {};
is($f->{type}, 'dossier.submitted', 'job type');
is($f->{attempt}, '0', 'attempt 0');
my $m = decode_json_safe($f->{payload});
ok($m, 'payload is JSON');
is($m && $m->{code}, $code, 'payload code');
is($m && $m->{v}, 1, 'manifest version 1');
is($m && $m->{seq}, seq_of($code), 'payload seq');
is($m && $m->{procedure}, $PROC, 'payload procedure');
like($m && $m->{files}[0]{sha256} // '', qr/^[0-9a-f]{64}$/, 'payload file sha256');
is($m && $m->{files}[0]{storage}, $m && 'files/' . substr($m->{files}[0]{sha256}, 0, 2) . '/'
   . substr($m->{files}[0]{sha256}, 2, 2) . '/' . $m->{files}[0]{sha256}, 'payload file storage path');
my $jf = "$ROOT/store/journal/$code.json";
ok(-f $jf, 'journal file written before the 202');
my $journal;
if (open(my $jh, '<', $jf)) { local $/; $journal = <$jh>; close $jh }
is($journal, $f->{payload}, 'journal file holds the same bytes as the job payload');
is(dossier_in_db($code), 0, 'not in MariaDB yet');
my $v = api_get("/api/v1/dossiers/$code")->{json};
ok($v && $v->{provisional}, 'provisional view served meanwhile');

ok(svc('start-workers', 2), 'workers started');
ok(wait_in_db($code, 30), 'the waiting job is processed');
ok(wait_until(sub { !-e $jf }, 15), 'journal file deleted after commit');
ok(wait_until(\&drained, 15), 'stream drained (acked and deleted)');

# --- 2. the same job again is a no-op
my $id = redis('XADD', $STREAM, '*', map { ($_ => $f->{$_}) } qw(type key payload attempt));
ok($id && !ref $id, 'job replayed into the stream');
ok(wait_until(\&drained, 20), 'replayed job consumed and acknowledged');
is(dossier_in_db($code), 1, 'still exactly one dossier');
ok(!grep({ $_ eq $code } dead_keys()), 'replayed job did not go to the dead-letter stream');
my $v2 = api_get("/api/v1/dossiers/$code")->{json};
ok($v2 && !$v2->{provisional} && $v2->{status}{code} == 1, 'view unchanged and authoritative');

# --- 3. two workers share the stream
# wait until both running workers read the stream (consumer "host:pid" exists);
# a worker that just started may first spend a grace period seeding counters
sub worker_pids {
  my @p;
  for my $f (glob "$ROOT/run/worker-*.pid") {
    open(my $fh, '<', $f) or next;
    my $p = <$fh>;
    chomp $p if defined $p;
    push @p, $p if $p;
  }
  return @p;
}
sub consumer_names {
  my $c = eval { redis('XINFO', 'CONSUMERS', $STREAM, 'workers') };
  return map { my %h = @$_; $h{name} } grep { ref eq 'ARRAY' } @{ ref $c eq 'ARRAY' ? $c : [] };
}
my @pids = worker_pids();
is(scalar @pids, 2, 'two worker pidfiles');
ok(wait_until(sub { my %n = map { (/:(\d+)$/)[0] // '' => 1 } consumer_names(); !grep { !$n{$_} } @pids }, 30),
   'both workers are reading the stream') or diag('consumers: ' . join(' ', consumer_names()) . "; pids @pids");
my $consumers;
my @codes;
for my $i (1 .. 20) {
  push @codes, submit_ok(wait => 5);
  sleep 0.1;
}
is(scalar(grep { defined } @codes), 20, '20 dossiers accepted');
my %uniq = map { ($_ // '') => 1 } @codes;
is(scalar keys %uniq, 20, '20 distinct codes');
my @seq = map { seq_of($_) } @codes;
is_deeply(\@seq, [ map { $seq[0] + $_ } 0 .. 19 ], 'consecutive numbers');
ok(wait_in_db([ grep { defined } @codes ], 60), 'all 20 reach MariaDB');
is(sql_value('SELECT COUNT(*) FROM dossiers WHERE code IN (' . join(',', map { "'$_'" } grep { defined } @codes) . ')'),
   20, 'each exactly once');
is(scalar(() = sql('SELECT code FROM dossiers GROUP BY code HAVING COUNT(*) > 1')), 0, 'no duplicate code in MariaDB');
ok(wait_until(\&drained, 20), 'stream drained');
$consumers = eval { redis('XINFO', 'CONSUMERS', $STREAM, 'workers') };
ok(ref $consumers eq 'ARRAY' && @$consumers >= 2, 'at least two consumers in group "workers"');
# each worker takes jobs from the shared stream: with the other one paused
# (SIGSTOP), two more submissions are ingested by this one. (How 20 jobs split
# between two running workers is not fixed: the one delivering the outbox to
# the partners leaves them to the other.)
for my $n (1, 2) {
  my $other = $n == 1 ? 2 : 1;
  my $opid = do { open(my $fh, '<', "$ROOT/run/worker-$other.pid"); my $p = <$fh> // ''; chomp $p; $p };
  ok($opid && kill('STOP', $opid), "worker $other paused");
  my @mine = grep { defined } map { submit_ok(wait => 5) } 1 .. 2;
  ok(wait_in_db(\@mine, 30), "with worker $other paused, two more dossiers reach MariaDB");
  my $log = "$ROOT/log/worker-$n.log";
  my $did = grep { log_contains($log, $_) } @mine;
  is($did, scalar @mine, "worker $n processed them");
  kill('CONT', $opid) if $opid;
}
is_deeply([ grep { my $k = $_; grep { $_ eq $k } @codes } dead_keys() ], [], 'none dead-lettered');

done_testing();
