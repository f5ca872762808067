#!/usr/bin/perl
# Durability of workflow actions (issue 4; docs/contracts-workflow.md, the
# rule "a 2xx answer to a state-changing request is a promise"): what an
# action's 200 accepted survives a Redis kill -9 and restart (MariaDB keeps
# it, the reconciler rebuilds the inbox), an action sent while MariaDB is down
# answers 503 and changes nothing, an action the paused workers could not
# answer in time is never applied late, and a worker killed with kill -9
# (between actions or holding a request) duplicates nothing. Every retry uses
# the same idempotency_key: applied exactly once (one history entry, one
# outbox row). The services are restored at the end whatever happens.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX ();
use Cwd ();
use Tthc::Test;
use Tthc::Flow;

# ./tthc svc recognises a service by its pid file AND its command line holding
# ROOT: without TTHC_TEST_ROOT, ROOT is <repo>/t/lib/Tthc/../../../var/test,
# which no command line holds, and svc would start a second Redis/MariaDB next
# to the running ones (and delete their sockets). Use the canonical path.
{ my $real = Cwd::abs_path($Tthc::Test::ROOT); $Tthc::Test::ROOT = $real if defined $real }

# every service svc is going to kill or stop must be one it recognises
sub foreign_services {
  my @bad;
  for my $pf ("$ROOT/run/redis.pid", "$ROOT/run/mysqld.pid", glob("$ROOT/run/worker-*.pid")) {
    open(my $fh, '<', $pf) or do { push @bad, "$pf missing"; next };
    my ($pid) = (<$fh> // '') =~ /(\d+)/;
    close $fh;
    my $cmd = '';
    if ($pid && open(my $c, '<', "/proc/$pid/cmdline")) { local $/; $cmd = <$c> // ''; close $c }
    push @bad, "$pf: pid " . ($pid // '?') . ' is not a process of this stack' if index($cmd, $ROOT) < 0;
  }
  return @bad;
}

my $why = flow_skip_reason();
plan skip_all => $why if $why;
if (my @bad = foreign_services()) { plan skip_all => "svc cannot manage the stack under $ROOT: @bad" }

# ------------------------------------------------------------------ restore the stack, whatever happens
my $NWORKERS;    # set once the checks passed: END restores only then
my $PARENT = $$;
my $restored = 0;
sub restore_services {
  return if $restored++ || $$ != $PARENT || !$NWORKERS;
  local ($?, $!, $@);
  svc('resume-workers');
  svc('start-redis');
  svc('start-mysql');
  svc('start-workers', $NWORKERS);
  eval { clock_reset() };
}
END { restore_services() }
$SIG{INT} = $SIG{TERM} = sub { restore_services(); exit 1 };

$NWORKERS = scalar(() = glob "$ROOT/run/worker-*.pid") || 2;
clock_reset();
ok(svc('start-workers', $NWORKERS), "$NWORKERS workers running");

my $desk   = official($A31, 'desk_officer', tag => 'dur');
my $ho     = official($A31, 'handling_official', tag => 'dur');
my $leader = official($A31, 'agency_leader', tag => 'dur');
my $app    = applicant('cd-001');
BAIL_OUT('could not create or sign in the officials and the applicant') if grep { !defined } ($desk, $ho, $leader, $app);

my %d;
for my $k (qw(R M P W K)) { $d{$k} = submit_online(client => $app) }
ok(!grep({ !defined } values %d), 'five online dossiers') or BAIL_OUT('submissions failed');
ok(wait_until(sub { !grep { !view_of($desk, $_) } values %d }, 20), 'in the staff views');
act_ok($desk, $d{$_}, 'accept', name => "the desk accepts $_") for sort keys %d;

my $RUN = sprintf('%x%04x', time, $$ % 65536);    # idempotency keys unique to this run
sub ikey { return "dur-$RUN-$_[0]" }

# history entries of a dossier written under an idempotency key (stored as KEY:s:UID)
sub key_rows {
  my ($code, $key) = @_;
  return sql_value("SELECT COUNT(*) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id"
                 . " WHERE d.code = '$code' AND h.idem_key LIKE '$key:%'");
}
sub actions_of { my ($code) = @_; return map { $_->[2] } grep { $_->[2] ne '' } history_rows($code) }

# the official's session, signed in again if Redis lost it (sign-in is a worker RPC: retried)
my %resigned;
sub ensure_session {
  my ($c) = @_;
  return wait_until(sub {
    my $s = $c->session;
    return 1 if $s && $s->{authenticated};
    $resigned{ $c->{name} }++;
    my $r = $c->signin_staff($c->{username}, $c->{password});
    return $r->{status} == 200 && $c->sid;
  }, 30, 0.5);
}

# act() retried while the edge answers 503/504 (a service coming back)
sub act_retry {
  my ($c, $code, $action, %a) = @_;
  my $r;
  wait_until(sub { $r = act($c, $code, $action, %a); $r->{status} != 503 && $r->{status} != 504 }, 30, 0.5);
  return $r;
}

# "request past its deadline dropped ... type=staff.action" lines in the workers' logs
sub dropped_lines {
  my $n = 0;
  for my $f (glob "$ROOT/log/worker-*.log") {
    open(my $fh, '<', $f) or next;
    while (<$fh>) { $n++ if /request past its deadline dropped.*type=staff\.action/ }
    close $fh;
  }
  return $n;
}

# ================================================================== 1. Redis kill -9 and restart
subtest 'Redis killed after an accept and a forward' => sub {
  my $D = $d{R};
  my $stale = redis('GET', "tthc:d:{$D}:private");    # the view before the forward
  my $j = act_ok($ho, $D, 'forward', note => 'Hồ sơ hợp lệ, trình phê duyệt', idempotency_key => ikey('r1'),
                 name => 'the handling official forwards (200)');
  is(step_of($j), 2, 'step 2 in the reply');
  my $row = dossier_row($D);
  my @acts = actions_of($D);
  is_deeply([ grep { $_ ne 'submit' } @acts ], [qw(accept forward)], 'history: accept, forward');
  ok(inbox_item($leader, $D), "in the leader's inbox");

  # as if the last writes to the inbox were lost with Redis: only a rebuild brings the item back
  redis('HDEL', "tthc:ib:{ag:$A31}:items", $D);
  redis('ZREM', "tthc:ib:{ag:$A31}:q:agency_leader", $D);
  redis('DEL', "tthc:d:{$D}:ib");
  ok(!inbox_item($leader, $D), 'its inbox entry removed (lost writes)');
  # and the forward's view write lost too: the old view still exists, only a refresh repairs it
  redis('SET', "tthc:d:{$D}:private", $stale) if defined $stale && !ref $stale;

  my $t_kill = time;
  ok(svc('kill-redis'), 'Redis killed with -9');
  ok(svc('start-redis'), 'Redis restarted (from its AOF, new run_id)');

  my $now = dossier_row($D) // {};
  my @diff = grep { $_ ne 'warning' && ($row->{$_} // 'NULL') ne ($now->{$_} // 'NULL') } sort keys %$row;
  ok(!@diff, 'MariaDB: the dossier is intact (status 4, step 2)') or diag(join '; ', map { "$_ $row->{$_} -> $now->{$_}" } @diff);
  is($now->{stage}, 'step', 'stage step');
  is($now->{step_position}, 2, 'step_position 2');
  is_deeply([ actions_of($D) ], \@acts, 'history unchanged');

  ok(ensure_session($_), "$_->{name} has a session") for ($desk, $ho, $leader);
  note('signed in again after the Redis restart: ' . (join(', ', sort keys %resigned) || 'none (AOF kept the sessions)'));

  ok(wait_until(sub { my $b = redis('GET', 'tthc:{ib}:built'); defined $b && !ref $b && $b >= int($t_kill) }, 30, 0.5),
     'the reconciler rebuilt the inbox after the restart (tthc:{ib}:built renewed)')
    or diag('tthc:{ib}:built = ' . (eval { redis('GET', 'tthc:{ib}:built') } // 'undef'));
  my $it;
  ok(wait_until(sub { $it = inbox_item($leader, $D) }, 30, 0.5), "the item is back in the leader's inbox");
  is(status_of($it), 4, 'item: status 4');
  is($it && ref $it->{step} eq 'HASH' ? $it->{step}{position} : undef, 2, 'item: step 2');
  ok(!inbox_item($ho, $D), "not in the handling official's inbox");

  my $wf = wait_view($leader, $D, sub { step_of($_[0]) && step_of($_[0]) == 2 }, 30);
  ok($wf, 'GET /api/v1/staff/dossiers/{code} shows the workflow at step 2');
  is(status_of($wf), 4, 'view: status 4');
  my @vh = grep { $_->{action} } @{ (view_of($leader, $D) // {})->{history} // [] };
  is_deeply([ map { $_->{action} } grep { $_->{action} ne 'submit' } @vh ], [qw(accept forward)], 'view: history accept, forward');

  # the replay of the forward answers from MariaDB, and the work goes on
  my $r = act_retry($ho, $D, 'forward', note => 'Hồ sơ hợp lệ, trình phê duyệt', idempotency_key => ikey('r1'));
  my $rj = json_ok($r, 200, 'the same forward again (same idempotency_key): 200');
  ok($rj && $rj->{replayed}, 'replayed, not applied again');
  is(key_rows($D, ikey('r1')), 1, 'one history entry for it');
  $j = act_ok($leader, $D, 'forward', note => 'Đồng ý', name => 'the leader forwards after the restart');
  is($j && $j->{stage}, 'result', 'stage result');
  ok(wait_until(sub { inbox_item($desk, $D) }, 10), "in the desk's inbox");
};

# ================================================================== 2. MariaDB down
subtest 'MariaDB stopped while an action is sent' => sub {
  my $D = $d{M};
  my $snap = snapshot($desk, $D);
  my $ob0 = outbox_count($D);
  my $K = ikey('m1');
  my %args = (note => 'Đủ điều kiện, trình lãnh đạo', idempotency_key => $K);
  ok(svc('stop-mysql'), 'MariaDB stopped');
  my $t0 = time;
  my $r = act($ho, $D, 'forward', %args);
  my $el = time - $t0;
  error_in($r, [ 503, 504 ], [qw(SERVICE_UNAVAILABLE GATEWAY_TIMEOUT)], "the forward answers $r->{status} "
           . err_code($r) . sprintf(' (%.1f s)', $el));
  ok(svc('start-mysql'), 'MariaDB restarted');
  unchanged($desk, $D, $snap, 'nothing changed in MariaDB');
  is(key_rows($D, $K), 0, 'no history entry under its key');
  is(outbox_count($D), $ob0, 'no outbox row');

  $r = act_retry($ho, $D, 'forward', %args);
  my $j = json_ok($r, 200, 'the same action (same idempotency_key) after the restart: 200');
  ok($j && !$j->{replayed}, 'applied now (not a replay)');
  is(step_of($j), 2, 'step 2');
  $r = act($ho, $D, 'forward', %args);
  my $j2 = json_ok($r, 200, 'sent once more: 200');
  ok($j2 && $j2->{replayed}, 'a replay');
  is($j2 && $j2->{history_id}, $j && $j->{history_id}, 'with the same history_id');
  is(key_rows($D, $K), 1, 'exactly one history entry for it');
  is(history_count($D), $snap->{hist} + 1, 'history +1');
  is(outbox_count($D), $ob0 + 1, 'outbox +1');
  my $wf = wait_view($desk, $D, sub { step_of($_[0]) && step_of($_[0]) == 2 }, 10);
  ok($wf, 'the staff view shows step 2');
};

# ================================================================== 3. workers paused (SIGSTOP)
subtest 'workers paused while an action is sent' => sub {
  my $D = $d{P};
  my $snap = snapshot($desk, $D);
  my $ob0 = outbox_count($D);
  my $K = ikey('p1');
  my %args = (note => 'Hồ sơ hợp lệ', idempotency_key => $K);
  my $drop0 = dropped_lines();
  sleep 0.3;
  ok(svc('pause-workers'), 'workers frozen (SIGSTOP)');
  my $t0 = time;
  my $r = act($ho, $D, 'forward', %args);
  my $el = time - $t0;
  error_in($r, [ 503, 504 ], [qw(SERVICE_UNAVAILABLE GATEWAY_TIMEOUT)], "the edge gives up: $r->{status} "
           . err_code($r) . sprintf(' after %.1f s', $el));
  ok($el >= 5 && $el < 20, sprintf('after its RPC timeout (%.1f s)', $el));
  ok(svc('resume-workers'), 'workers resumed (SIGCONT)');
  ok(wait_until(sub { dropped_lines() > $drop0 }, 10, 0.2), 'a worker drops the request past its deadline (log)');
  sleep 1;
  unchanged($desk, $D, $snap, 'the timed-out request was not applied late');
  is(key_rows($D, $K), 0, 'no history entry under its key');
  is(outbox_count($D), $ob0, 'no outbox row');

  $r = act_retry($ho, $D, 'forward', %args);
  my $j = json_ok($r, 200, 'retried with the same idempotency_key: 200');
  ok($j && !$j->{replayed}, 'applied now (not a replay)');
  is(step_of($j), 2, 'step 2');
  is(key_rows($D, $K), 1, 'exactly one history entry for it');
  is(history_count($D), $snap->{hist} + 1, 'history +1');
  is(outbox_count($D), $ob0 + 1, 'outbox +1');
};

# ================================================================== 4. a worker killed with kill -9
subtest 'a worker killed between actions' => sub {
  my $D = $d{W};
  act_ok($ho, $D, 'forward', note => 'Hợp lệ', idempotency_key => ikey('w1'), name => 'forward');
  ok(svc('kill-worker', 1), 'worker 1 killed with -9');
  act_ok($leader, $D, 'forward', note => 'Đồng ý', idempotency_key => ikey('w2'), name => 'the next action works (worker 2)');
  ok(svc('start-worker', 1), 'worker 1 started again');
  my $res = file_ref($desk, 'result', 'kq-dur.pdf');
  if ($NWORKERS >= 2) {
    ok(svc('kill-worker', 2), 'worker 2 killed with -9');
  }
  my $j = act_ok($desk, $D, 'confirm_result', files => [$res], idempotency_key => ikey('w3'), name => 'confirm_result');
  is(status_of($j), 9, 'status 9');
  ok(svc('start-workers', $NWORKERS), 'all workers running again');
  $j = act_ok($desk, $D, 'return_result', idempotency_key => ikey('w4'), name => 'return_result');
  is(status_of($j), 10, 'status 10');
  is_deeply([ grep { $_ ne 'submit' } actions_of($D) ], [qw(accept forward forward confirm_result return_result)],
            'history: every action once, in order');
  is(key_rows($D, ikey("w$_")), 1, "one entry for action w$_") for 1 .. 4;
};

subtest 'a worker killed holding the request' => sub {
  my $D = $d{K};
  my $snap = snapshot($desk, $D);
  my $K = ikey('k1');
  my %args = (note => 'Hồ sơ hợp lệ', idempotency_key => $K);
  my $out = "/tmp/tthc-dur-$$.json";
  unlink $out;
  sleep 0.3;
  ok(svc('pause-workers'), 'workers frozen');
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if (!$pid) {    # the official's request, answered while the workers die
    my $r = eval { act($ho, $D, 'forward', %args) } // { status => 599, content => $@ };
    if (open(my $fh, '>', $out)) { print $fh encode_json_c({ status => $r->{status}, content => $r->{content} }); close $fh }
    POSIX::_exit(0);
  }
  sleep 1;    # the request is in the stream (or already delivered to a frozen worker)
  my $pend = eval { redis('XPENDING', 'tthc:{jobs}:rpc', 'workers') };
  note('requests delivered, not acknowledged: ' . (ref $pend eq 'ARRAY' ? $pend->[0] // 0 : '?'));
  ok(svc('kill-workers'), 'the frozen workers killed with -9');
  ok(svc('start-workers', $NWORKERS), 'fresh workers started');
  waitpid($pid, 0);
  my $raw;
  if (open(my $fh, '<', $out)) { local $/; $raw = <$fh>; close $fh }
  my $res = decode_json_safe($raw) // { status => 0 };
  unlink $out;
  my $st = $res->{status};
  ok($st == 200 || $st == 503 || $st == 504, "the request answered $st (200 if a fresh worker ran it in time, else 503/504)")
    or diag(substr($res->{content} // '', 0, 300));
  sleep 2;    # a late run would show now
  is(key_rows($D, $K), $st == 200 ? 1 : 0, $st == 200 ? 'applied once' : 'not applied');
  my $r = act_retry($ho, $D, 'forward', %args);
  my $j = json_ok($r, 200, 'retried with the same idempotency_key: 200');
  ok($j && ($st == 200 ? $j->{replayed} : !$j->{replayed}), $st == 200 ? 'a replay' : 'applied now');
  is(key_rows($D, $K), 1, 'exactly one history entry for it');
  is(history_count($D), $snap->{hist} + 1, 'history +1');
  is(step_of(workflow_of($desk, $D)), 2, 'at step 2');
};

# ================================================================== nothing duplicated
outbox_check([ @d{qw(R M P W K)} ]);
is(scalar(() = sql("SELECT h.dossier_id, h.idem_key FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id"
                 . " WHERE h.idem_key LIKE 'dur-$RUN-%' GROUP BY h.dossier_id, h.idem_key HAVING COUNT(*) > 1")),
   0, 'no idempotency key applied twice');

restore_services();
done_testing();
