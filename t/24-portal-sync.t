#!/usr/bin/perl
# National portal sync (issue 5 item 2, DOMAIN X1; docs/exchange.md "Outbox delivery"):
# every history entry of a worked dossier reaches the portal simulator exactly once as a
# fact and in order, while the simulator fails half the calls (5xx, dropped connections,
# "stored then 500", malformed/hostile/oversized replies) and a worker is killed during
# delivery; a 10-minute outage on the simulated clock ends with everything delivered; a
# poisoned message lands in dead-letter, blocks only its own dossier, and is delivered
# after the fix by `tthcctl outbox replay`; reconciliation re-sends what the portal lost.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep);
use Tthc::Test;
use Tthc::Flow;
use Tthc::Partners;

my $why = flow_skip_reason();
plan skip_all => $why if $why;
plan skip_all => 'the portal simulator does not answer'
  unless eval { partner_reset('portal'); 1 };

clock_reset();
my $desk   = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho     = official($A31, 'handling_official', name => 'Chuyên viên Đồng Bộ');
my $leader = official($A31, 'agency_leader', name => 'Giám đốc Đồng Bộ');
my $app    = applicant('cd-001') or BAIL_OUT('no applicant');

# ------------------------------------------------------------------ helpers
sub ob_rows {   # [id, kind, state, idem_key, attempts] of a dossier's portal messages, in id order
  my ($code) = @_;
  return eval { sql("SELECT o.id, o.kind, o.state, IFNULL(o.idem_key, ''), o.attempts FROM outbox o"
                  . " JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$code' AND o.target = 'portal'"
                  . " ORDER BY o.id") };
}
sub unsent { my ($codes) = @_;
  my $in = join ',', map { "'$_'" } @$codes;
  return sql_value("SELECT COUNT(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                 . " WHERE d.code IN ($in) AND o.target = 'portal' AND o.state <> 'sent'") }
# wait until every portal message of the dossiers is sent; the clock moves 20 s per
# step so that backoffs (on the legal clock) come due without sleeping through them
sub drain {
  my ($codes, $secs, $label) = @_;
  my $ok = wait_until(sub { clock_advance('20s'); !unsent($codes) }, $secs // 90, 0.3);
  ok($ok, $label // 'every message delivered')
    or diag(join "\n", map { join ' ', map { $_ // '-' } @$_ }
              @{ [ eval { sql("SELECT o.id, d.code, o.kind, o.state, o.attempts, o.last_http, o.last_error"
                            . " FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE o.state <> 'sent'"
                            . " AND o.target = 'portal' ORDER BY o.id LIMIT 20") } ] });
  return $ok;
}
# the portal's stored facts of a dossier, in arrival order
sub portal_items {
  my ($code, $kind) = @_;
  my $r = partner_received('portal', kind => $kind, ma_ho_so => $code) // {};
  return @{ $r->{items} // [] };
}
# the whole check of one dossier: each history entry exactly once, in order, same body
sub exactly_once_in_order {
  my ($code, $any_order) = @_;
  my @hist = grep { $_->[1] eq 'history' } ob_rows($code);
  my @got = portal_items($code, 'tientrinh');
  my %seen;
  $seen{ $_->{key} }++ for @got;
  is(scalar(@got), scalar(@hist), "$code: the portal holds " . scalar(@hist) . " history entries")
    or diag(join ', ', map { $_->{key} } @got);
  ok(!grep({ $_ > 1 } values %seen), "$code: no entry stored twice");
  if ($any_order) {   # an entry the portal lost and got again arrives last
    is_deeply([ sort map { $_->{key} } @got ], [ sort map { $_->[3] } @hist ], "$code: every entry, once");
    my %by = map { $_->{key} => $_ } @got;
    @got = map { $by{ $_->[3] } } @hist;
  } else {
    is_deeply([ map { $_->{key} } @got ], [ map { $_->[3] } @hist ], "$code: in the order they were made");
  }
  my $bad = 0;
  for my $i (0 .. $#hist) {
    my $want = sql_value("SELECT SHA2(body, 256) FROM outbox WHERE id = $hist[$i][0]") // 'none';
    my $b = $got[$i] ? $got[$i]{body} // '' : '';
    utf8::encode($b) if utf8::is_utf8($b);
    $bad++ unless sha256_hex($b) eq $want;
  }
  is($bad, 0, "$code: the portal has exactly the bytes tthc froze");
  my @hoso = portal_items($code, 'hoso');
  ok(@hoso >= 1, "$code: the dossier itself (HoSo) is there");
  my ($last) = reverse @hoso;
  my $st = sql_value("SELECT status FROM dossiers WHERE code = '$code'");
  like($last && $last->{body}, qr{<TrangThaiHoSo>$st</TrangThaiHoSo>}, "$code: its last HoSo has status $st");
}
# a dossier through the whole simple process (accept, forward x2, result, return)
sub work_through {
  my ($code, %o) = @_;
  act_ok($desk, $code, 'accept', name => "$code accepted") or return;
  $o{mid}->() if $o{mid};
  act_ok($ho, $code, 'forward', note => 'Hồ sơ hợp lệ, đề nghị phê duyệt', name => "$code forwarded") or return;
  act_ok($leader, $code, 'forward', note => 'Đồng ý', name => "$code approved") or return;
  my $res = file_ref($desk, 'result', 'Giấy chứng nhận.pdf');
  act_ok($desk, $code, 'confirm_result', files => [$res], name => "$code result confirmed") or return;
  act_ok($desk, $code, 'return_result', name => "$code returned") or return;
  return 1;
}

# let what earlier tests left be delivered before the simulator misbehaves
partner_config('portal', fail_rate => 0);
my @backlog = map { $_->[0] } @{ [ eval { sql("SELECT DISTINCT d.code FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                                             . " WHERE o.target = 'portal' AND o.state = 'pending' AND NOT EXISTS"
                                             . " (SELECT 1 FROM outbox x WHERE x.dossier_id = o.dossier_id AND x.state = 'dead')") } ] };
drain(@backlog ? \@backlog : ['-'], 120, 'the backlog of earlier tests is delivered first (' . scalar(@backlog) . ' dossiers)');
my $dead0 = sql_value("SELECT COUNT(*) FROM outbox WHERE state = 'dead'") // 0;
diag("$dead0 dead letters from earlier tests:\n"
     . join("\n", map { join ' ', map { $_ // '-' } @$_ } @{ [ eval { sql("SELECT id, kind, last_error FROM outbox WHERE state = 'dead' LIMIT 10") } ] }))
  if $dead0;
partner_reset('portal');

# ------------------------------------------------------------------ half the calls fail, a worker is killed
partner_config('portal', fail_rate => 0.5, seed => 20261128,
               fail_modes => [qw(500 503 drop after malformed hostile oversized)]);  # the same as @modes below
my @codes;
push @codes, submit_online(client => $app) for 1 .. 4;
ok(!grep({ !defined } @codes), 'four online dossiers') or BAIL_OUT('submissions failed');
ok(wait_until(sub { !grep { !view_of($desk, $_) } @codes }, 20), 'in the staff views');
my ($killed, $inflight) = (0, undef);
my @modes = qw(500 503 drop after malformed hostile oversized);
for my $i (0 .. $#codes) {
  work_through($codes[$i], mid => $i == 1 ? sub {
    # kill -9 the worker that holds a message in flight (the portal answers slowly
    # for a moment, so a delivery is under way), then bring it back
    partner_config('portal', fail_rate => 1, fail_modes => ['slow'], slow_ms => 1500);
    my $owner;
    wait_until(sub { ($inflight, $owner) = map { @$_ } eval { sql("SELECT id, lease_owner FROM outbox"
                       . " WHERE lease_owner IS NOT NULL AND state = 'pending' AND target = 'portal' LIMIT 1") };
                     $owner }, 15, 0.05);
    my ($pid) = ($owner // '') =~ /:(\d+)$/;
    $killed = $pid && kill('KILL', $pid) ? $pid : 0;
    partner_config('portal', fail_rate => 0.5, seed => 20261128, fail_modes => \@modes);
    svc('start-workers', 2);
  } : undef);
}
ok($killed, "a worker (pid $killed) was killed with kill -9 while delivering message " . ($inflight // '?'));
ok($inflight && wait_until(sub { clock_advance('10s'); sql_value("SELECT state FROM outbox WHERE id = $inflight") eq 'sent' }, 60),
   'the message it was sending is delivered by another worker');
drain(\@codes, 150, 'with half the calls failing, every message is delivered');
my $rcv = partner_received('portal') // {};
ok(($rcv->{failed_calls} // 0) > 0, "the simulator failed $rcv->{failed_calls} of $rcv->{calls} calls");
is($rcv->{conflicts} // -1, 0, 'never a different body under the same key');
my $dups = grep { ($_->{deliveries} // 1) > 1 } @{ $rcv->{items} // [] };
ok($dups > 0, "$dups messages arrived more than once (stored-then-500, lost replies) and were kept once");
my $retried = sql_value("SELECT COUNT(*) FROM outbox WHERE attempts > 1 AND target = 'portal'");
ok($retried > 0, "$retried messages needed more than one attempt");
exactly_once_in_order($_) for @codes;
partner_config('portal', fail_rate => 0);

# ------------------------------------------------------------------ a 10-minute outage (simulated clock)
partner_reset('portal');
partner_config('portal', down => 1);
my $O = submit_online(client => $app);
ok($O && wait_until(sub { view_of($desk, $O) }, 20), 'a dossier during the outage');
work_through($O);
for my $m (1 .. 10) {
  clock_advance('60s');
  sleep 0.7;
}
my $att = sql_value("SELECT MAX(o.attempts) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$O'") // 0;
ok($att >= 3, "during 10 minutes of outage the head was tried $att times (backoff on the legal clock)");
is(scalar(portal_items($O, 'tientrinh')), 0, 'nothing reached the portal meanwhile');
is(sql_value("SELECT COUNT(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$O' AND o.state = 'dead'"),
   0, 'nothing went to dead-letter (a transient failure)');
partner_config('portal', down => 0);
drain([$O], 90, 'the outage ends: everything delivered');
exactly_once_in_order($O);

# ------------------------------------------------------------------ a poisoned message
partner_reset('portal');
my $P = submit_online(client => $app);
my $Q = submit_online(client => $app);
ok($P && $Q, 'two more dossiers');
partner_config('portal', reject_contains => $P);   # the portal refuses every message about P (400)
ok(wait_until(sub { view_of($desk, $P) && view_of($desk, $Q) }, 20), 'in the staff views');
work_through($P);
work_through($Q);
ok(wait_until(sub { clock_advance('5s');
                    sql_value("SELECT COUNT(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                            . " WHERE d.code = '$P' AND o.state = 'dead'") == 1 }, 30), "P's first message is a dead letter");
drain([$Q], 60, 'Q is not held up by P');
my @prow = ob_rows($P);
my ($di) = grep { $prow[$_][2] eq 'dead' } 0 .. $#prow;
ok(defined $di, "one of P's messages is dead") or BAIL_OUT('no dead letter');
my $dead = $prow[$di];
ok(!grep({ $_->[2] ne 'sent' } @prow[0 .. $di - 1]), "P's messages before it were delivered");
ok(!grep({ $_->[2] eq 'sent' } @prow[$di + 1 .. $#prow]), "none of P's later messages overtook it");
ok($di < $#prow, 'and later ones wait behind it');
is(sql_value("SELECT last_http FROM outbox WHERE id = $dead->[0]"), 400, 'refused with 400');
is(sql_value("SELECT attempts FROM outbox WHERE id = $dead->[0]"), 1, 'a permanent refusal is not retried');
my ($rc, $out) = tthcctl('outbox', 'list', '--state', 'dead', '--dossier', $P);
is($rc, 0, 'tthcctl outbox list --state dead');
like($out, qr/^$dead->[0]\t\Q$P\E\t$dead->[1]\tportal\tdead\t1\t400\t/m, 'shows the dead letter with its HTTP status');
($rc, $out) = tthcctl('outbox', 'stats');
like($out, qr/blocked by a dead letter: [1-9]/, 'tthcctl outbox stats counts the blocked dossier');
($rc, $out) = tthcctl('outbox', 'replay', $prow[$di + 1][0]);
is($rc, 1, 'replaying a message that is not dead is refused');
partner_config('portal', reject_contains => undef);   # the fix (on the portal side)
($rc, $out) = tthcctl('outbox', 'replay', $dead->[0]);
is($rc, 0, 'tthcctl outbox replay ID') or diag($out);
like($out, qr/replayed 1 message/, 'one message replayed');
drain([$P], 60, 'after the fix every message of P is delivered');
exactly_once_in_order($P);

# ------------------------------------------------------------------ reconciliation
my @h = grep { $_->[1] eq 'history' } ob_rows($Q);
ok(portal_forget($h[2][3]), "the portal loses one of Q's entries ($h[2][3])");
($rc, $out) = tthcctl('outbox', 'check', $P);
is($rc, 0, 'tthcctl outbox check P');
like($out, qr/\Q$P\E\tin step/, 'P is in step');
($rc, $out) = tthcctl('outbox', 'check', $Q);
is($rc, 0, 'tthcctl outbox check Q');
like($out, qr/\Q$Q\E\tresent\n  1 message/, 'Q: the lost entry is queued again');
drain([$Q], 60, 'and delivered');
exactly_once_in_order($Q, 1);
# the portal lost the whole dossier P: everything again, HoSo first, under the same keys
my @Prows = ob_rows($P);
my $nP = scalar @Prows;
portal_forget($_->{key}) for portal_items($P, 'hoso'), portal_items($P, 'tientrinh');
is(scalar(portal_items($P, 'tientrinh')) + scalar(portal_items($P, 'hoso')), 0, 'the portal has forgotten P');
($rc, $out) = tthcctl('outbox', 'check', $P);
like($out, qr/\Q$P\E\tresent\n  $nP message/, "P unknown to the portal: all $nP messages queued again");
drain([$P], 60, 'and delivered');
exactly_once_in_order($P);
($rc, $out) = tthcctl('outbox', 'check', 'KHONG-CO');
is($rc, 1, 'check of an unknown dossier: error');

# ------------------------------------------------------------------ bad usage
($rc, $out) = tthcctl('outbox', 'list', '--state', 'bogus');
is($rc, 2, 'outbox list --state bogus: usage error');
($rc, $out) = tthcctl('outbox', 'replay', 'abc');
is($rc, 2, 'outbox replay abc: usage error');

partner_reset('portal');
clock_reset();
done_testing();
