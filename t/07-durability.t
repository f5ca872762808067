#!/usr/bin/perl
# Durability: an accepted dossier (202) reaches MariaDB whatever dies afterwards.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time sleep);
use Tthc::Test;

my $STREAM = 'tthc:{jobs}:stream';
my $DEAD   = 'tthc:{jobs}:dead';
sub pending_count { my $r = eval { redis('XPENDING', $STREAM, 'workers') }; return ref $r eq 'ARRAY' ? $r->[0] : 0 }
sub dead_keys { my $r = eval { redis('XRANGE', $DEAD, '-', '+') };
                return map { my %f = @{ $_->[1] }; $f{key} // '' } @{ ref $r eq 'ARRAY' ? $r : [] } }
sub view_ok { my ($c) = @_; my $r = api_get("/api/v1/dossiers/$c"); return $r->{status} == 200 && $r->{json}
                && ($r->{json}{code} // '') eq $c }
sub workers_alive {
  my $alive = 0;
  for my $pf (glob "$ROOT/run/worker-*.pid") {
    open(my $h, '<', $pf) or next; my $pid = <$h>; close $h; chomp $pid;
    $alive++ if $pid && kill(0, $pid);
  }
  return $alive;
}
ok(svc('start-workers', 2), 'two workers running');
default_applicant();    # sign in while workers and MariaDB run (sign-in is a worker RPC)

# --- 1. kill -9 a worker holding a job (delivered, not acknowledged)
{
  sleep 0.5;                                      # let the workers block in XREADGROUP
  ok(svc('pause-workers'), 'workers frozen (SIGSTOP) while waiting for jobs');
  my $code = submit_ok();
  ok($code, 'dossier accepted');
  my $held = wait_until(sub { pending_count() >= 1 }, 3);
  note($held ? 'the job was delivered to a frozen worker' : 'the job was not delivered before the kill');
  ok(svc('kill-workers'), 'workers killed with -9');
  is(dossier_in_db($code), 0, 'not in MariaDB while no worker runs');
  ok(svc('start-workers', 2), 'fresh workers started');
  ok(wait_in_db($code, 40), 'the orphaned job is taken over and the dossier reaches MariaDB');
  ok(wait_until(sub { pending_count() == 0 }, 20), 'nothing left pending');
  ok(wait_until(sub { !-e "$ROOT/store/journal/$code.json" }, 15), 'journal file removed');
}

# --- 2. kill -9 Redis right after a 202 (the XADD may be lost: the journal is not)
{
  ok(svc('pause-workers'), 'workers frozen so the job is still queued');
  my $code = submit_ok();
  ok($code, 'dossier accepted');
  ok(svc('kill-redis'), 'Redis killed with -9 right after the 202');
  ok(svc('kill-workers'), 'frozen workers killed');
  ok(svc('start-redis'), 'Redis restarted (from its AOF)');
  ok(svc('start-workers', 2), 'workers restarted');
  ok(wait_in_db($code, 60), 'the dossier reaches MariaDB (stream or journal)');
  ok(wait_until(sub { view_ok($code) && !api_get("/api/v1/dossiers/$code")->{json}{provisional} }, 30),
     'its status lookup works again');
  ok(wait_until(sub { !-e "$ROOT/store/journal/$code.json" }, 20), 'journal file removed');
  my $next = submit_ok(wait => 30);
  ok($next && $next ne $code, 'new submissions work after the Redis crash');
  ok(wait_in_db($next, 30), 'and reach MariaDB');
}

# --- 3. MariaDB down for ~10 s: the edge keeps accepting, nothing is lost
{
  ok(svc('stop-mysql'), 'MariaDB stopped');
  my $t0 = time;
  my @codes;
  while (time - $t0 < 10) {
    push @codes, submit_ok();
    sleep 1;
  }
  ok(@codes >= 5 && !grep({ !defined } @codes), scalar(@codes) . ' dossiers accepted (202) while MariaDB is down');
  ok(view_ok($codes[0]), 'status lookup works while MariaDB is down') if defined $codes[0];
  is(workers_alive(), 2, 'workers survive the outage');
  ok(svc('start-mysql'), 'MariaDB restarted');
  ok(wait_in_db([ grep { defined } @codes ], 60), 'all of them reach MariaDB after the restart');
  my @dead = grep { my $k = $_; grep { defined && $_ eq $k } @codes } dead_keys();
  is_deeply(\@dead, [], 'none of them was dead-lettered');
  ok(wait_until(sub { !grep { defined && -e "$ROOT/store/journal/$_.json" } @codes }, 30), 'journal files removed');
}

is(scalar(() = sql('SELECT code FROM dossiers GROUP BY code HAVING COUNT(*) > 1')), 0, 'no duplicate code in MariaDB');
is_deeply([ store_tmp_files() ], [], 'store/tmp is empty');

done_testing();
