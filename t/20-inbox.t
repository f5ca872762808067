#!/usr/bin/perl
# The officials' inbox (issue 4; docs/contracts-workflow.md "Inbox read model",
# DOMAIN T9, 004 Art.14): GET /api/v1/staff/inbox shows the desk its reception items,
# then each handling official the dossiers waiting for its role (or assigned to it),
# with colours computed at the (test) clock's now: green, yellow once less than one
# working day remains before the appointment, red once it has passed; the step's due
# state; filters colour/procedure/status/q, paging (limit/offset/total), urgency order.
# The warner marks dossiers.warning in MariaDB by itself as the clock moves.
# Everything runs at Sở Kế hoạch và Đầu tư (000.00.12.H41) with procedure 2.001610
# (3 working days = 1440 min: step 1 864 min, step 2 576 min), filtered by procedure
# so that dossiers of other test files do not matter.
use strict;
use warnings;
use utf8;
use Test::More;
use POSIX qw(floor);
use Tthc::Test;
use Tthc::Flow;

my $why = flow_skip_reason();
plan skip_all => $why if $why;

clock_reset();
my $desk   = official($A12, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho     = official($A12, 'handling_official');
my $ho_b   = official($A12, 'handling_official', tag => 'b', name => 'Chuyên viên Đinh Thị Bê');
my $leader = official($A12, 'agency_leader');
my $ho31   = official($A31, 'handling_official');
my $app    = applicant('cd-003') or BAIL_OUT('no applicant');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho, $ho_b, $leader, $ho31, $app);
my $B = base_monday(weeks => 2);
sub T { return at($B, @_) }
note('base Monday: ' . iso_of($B));
my %P = (procedure => $P_INBOX);
my $probe = $desk->get('/api/v1/staff/inbox');
BAIL_OUT("no inbox route: $probe->{status} $probe->{content}") if endpoint_missing($probe);

my %d;
for my $k (1 .. 7) {
  $d{$k} = submit_online(client => $app, procedure => $P_INBOX, files => [
    { name => 'TB', filename => 'thong-bao.pdf', content_type => 'application/pdf', data => pdf_bytes() },
    { name => 'QD', filename => 'quyet-dinh.pdf', content_type => 'application/pdf', data => pdf_bytes() } ]);
}
ok(!grep({ !defined } values %d), "seven online dossiers of $P_INBOX") or BAIL_OUT('submissions failed');
my ($D1, $D2, $D3, $D4, $D5, $D6, $D7) = @d{ 1 .. 7 };
# dossiers of earlier runs on the same stack may share the procedure: the checks
# look at this run's dossiers (in the order the inbox gives them), and at every item
# for what a filter promises
my %mine = map { $_ => 1 } values %d;
sub mine { my ($j) = @_; return grep { $mine{$_} } inbox_codes($j) }
sub all_have { my ($j, $k, $v) = @_; return $j && !grep { ($_->{$k} // '') ne $v } @{ $j->{items} // [] } }

# ------------------------------------------------------------------ the desk: reception items
ok(wait_until(sub { my $j = inbox($desk, %P, limit => 100); my %h = map { $_ => 1 } inbox_codes($j);
                    !grep { !$h{$_} } values %d }, 20), 'the desk sees all seven waiting for reception');
my $ib = inbox($desk, %P, limit => 100);
ok($ib, 'GET /api/v1/staff/inbox: 200');
my ($i7) = grep { $_->{code} eq $D7 } @{ ($ib // {})->{items} // [] };
is($i7 && $i7->{stage}, 'reception', 'item: stage reception');
is($i7 && $i7->{status}, 1, 'item: status 1');
is($i7 && $i7->{procedure} && $i7->{procedure}{code}, $P_INBOX, 'item: procedure code');
ok($i7 && $i7->{procedure}{name}, 'and name');
ok($i7 && $i7->{applicant}, 'item: applicant');
ok(!mine(inbox($ho, %P)), 'nothing for the handling official yet');
ok(!grep({ $_ eq $D7 } inbox_codes(inbox($ho31, q => $D7))), 'nor for an official of another agency');

# ------------------------------------------------------------------ Mon: reception
clock_to(T(0, '09:00:00'));
act_ok($desk, $D1, 'accept', name => 'D1 accepted Mon 09:00');
clock_to(T(0, '10:00:00'));
act_ok($desk, $d{$_}, 'accept', name => "D$_ accepted Mon 10:00") for 2 .. 6;
clock_to(T(0, '10:30:00'));
act_ok($ho, $D4, 'supplement', note => 'Bổ sung nghị quyết có chữ ký', name => 'D4: supplement requested (paused)');
ok(json_ok(me_act($app, $D5, 'withdraw'), 200, 'D5 withdrawn by the applicant'), 'D5 closed');
act_ok($ho, $D3, 'handover', to_official => $ho_b->{uid}, note => 'Giao chị Bê', name => 'D3 handed over to official B');
clock_to(T(0, '11:00:00'));
act_ok($ho, $D2, 'forward', note => 'Hợp lệ', name => 'D2 forwarded to the leader');

my %dc = map { $_ => 1 } inbox_codes(inbox($desk, %P, limit => 100));
ok($dc{$D7} && !grep({ $dc{$_} } $D1, $D2, $D3, $D4, $D5, $D6), "the desk's inbox: only D7 left (accepted, paused, closed ones gone)")
  or diag(explain([ sort keys %dc ]));
my $hi = inbox($ho, %P, limit => 100);
is_deeply([ mine($hi) ], [ $D1, $D6 ], "the handling official's inbox: D1 then D6 (most urgent first)");
is($hi && $hi->{total}, scalar inbox_codes($hi), 'total = the number of items (all on one page)');
is_deeply([ mine(inbox($ho_b, %P)) ], [ $D1, $D3, $D6 ], 'official B: D3 (assigned to B) with the unassigned D1, D6, by urgency');
is_deeply([ mine(inbox($leader, %P)) ], [$D2], "the leader's inbox: D2");
ok(!grep({ $_ eq $D4 } map { inbox_codes(inbox($_, %P, limit => 100)) } $desk, $ho, $leader), 'D4 (paused) in no inbox');

my ($i1) = grep { $_->{code} eq $D1 } @{ ($hi // {})->{items} // [] };
my $s1 = ($i1 && $i1->{receipt_at} // T(0, '09:00:00')) - T(0, '09:00:00');
ok($s1 >= 0 && $s1 <= 3, 'D1 item: receipt_at Mon 09:00 (epoch seconds)') or diag($i1 && $i1->{receipt_at});
is($i1 && $i1->{due_at}, T(3, '09:00:00') + $s1, 'due_at Thu 09:00 (3 working days)');
# the contract's yellow_at is "one working day before due_at"; DOMAIN T9 says "less than one
# working day left", i.e. one second later: either is accepted
my $yd = ($i1 && $i1->{yellow_at} // 0) - (T(2, '09:00:00') + $s1);
ok($yd == 0 || $yd == 1, 'yellow_at Wed 09:00 (one working day before; +1 s accepted)') or diag($i1 && $i1->{yellow_at});
is($i1 && $i1->{red_at}, T(3, '09:00:00') + $s1, 'red_at = due_at');
# step 1: 864 min from Mon 09:00: Mon 390 + Tue 474 -> Tue 16:54; warn 432 min earlier -> Tue 08:12
is($i1 && $i1->{step_due_at}, T(1, '16:54:00') + $s1, 'step_due_at Tue 16:54 (864 working minutes)');
my $wd = ($i1 && $i1->{step_warn_at} // 0) - (T(1, '08:12:00') + $s1);
ok($wd == 0 || $wd == 1, 'step_warn_at Tue 08:12 (min(480, 864/2) before; +1 s accepted)') or diag($i1 && $i1->{step_warn_at});
ok($i1 && !defined $i1->{transfer_due_at}, 'no transfer deadline (one agency)');
ok($i1 && !$i1->{joint}, 'not joint');
is($i1 && $i1->{status}, 2, 'status 2');
is($i1 && $i1->{stage}, 'step', 'stage step');
is($i1 && $i1->{step} && $i1->{step}{position}, 1, 'step 1');
is($i1 && $i1->{step} && $i1->{step}{role}, 'handling_official', 'role');
ok($i1 && !defined $i1->{assignee}, 'no assignee');
is($i1 && $i1->{supplement_count}, 0, 'supplement_count 0');
is($i1 && $i1->{colour}, 'green', 'green');
is($i1 && $i1->{step_state}, 'ok', 'step ok');
my $i3 = inbox_item($ho_b, $D3, %P);
is($i3 && $i3->{assignee} && $i3->{assignee}{id}, $ho_b->{uid}, "D3's item names its assignee");
is($i3 && $i3->{assignee} && $i3->{assignee}{name}, 'Chuyên viên Đinh Thị Bê', 'by name');
like($hi && $hi->{now} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/, 'the inbox says its now');
my $hn = epoch_of($hi && $hi->{now});
ok($hn && $hn >= T(0, '11:00:00') && $hn < T(0, '11:01:00'), 'which is the test clock (Mon 11:00)') or diag($hi && $hi->{now});

# --- the desk stages: result and done, then gone
clock_to(T(0, '11:10:00'));
act_ok($leader, $D2, 'forward', note => 'Đồng ý', files => [ file_ref($leader, 'result') ], name => 'the leader sends D2 to the desk');
is_deeply([ grep { $_ eq $D2 } inbox_codes(inbox($desk, %P)) ], [$D2], "D2 in the desk's inbox (stage result)");
ok(!grep({ $_ eq $D2 } inbox_codes(inbox($leader, %P))), "and no longer in the leader's");
act_ok($desk, $D2, 'confirm_result', name => 'result confirmed');
my $i2 = inbox_item($desk, $D2, %P);
is($i2 && $i2->{stage}, 'done', 'still in the desk\'s inbox (stage done: to hand over)');
is($i2 && $i2->{status}, 9, 'status 9');
act_ok($desk, $D2, 'return_result', name => 'result handed over');
ok(!inbox_item($desk, $D2, %P), 'closed: gone from every inbox');

# ------------------------------------------------------------------ filters and paging
my $full = inbox($ho, %P, limit => 100);
my @full = inbox_codes($full);
my $tot = $full && $full->{total};
cmp_ok(scalar @full, '>=', 2, 'the full list (limit=100)');
for my $i (0 .. $#full) {
  my $p = inbox($ho, %P, limit => 1, offset => $i);
  is_deeply([ inbox_codes($p) ], [ $full[$i] ], "limit=1 offset=$i: item $i of the full list");
  is($p && $p->{total}, $tot, "total $tot on that page");
}
my $pe = inbox($ho, %P, limit => 1, offset => scalar @full);
is_deeply([ inbox_codes($pe) ], [], 'offset=total: empty');
is($pe && $pe->{total}, $tot, 'with the same total');
my $p2 = inbox($ho, %P, limit => 2, offset => 1);
is_deeply([ inbox_codes($p2) ], [ @full[ 1 .. ($#full < 2 ? $#full : 2) ] ], 'limit=2 offset=1');
is_deeply([ inbox_codes(inbox($ho, q => $D6)) ], [$D6], 'q=code: that dossier');
# names match without case or diacritics (common/tthc_text fold, as the catalogue search)
my $qn = inbox($ho, %P, q => 'le van cuong', limit => 100);
ok(scalar(grep { $_ eq $D6 } inbox_codes($qn)), 'q=le van cuong finds Lê Văn Cường (no diacritics)');
$qn = inbox($ho, %P, q => 'LÊ VĂN', limit => 100);
ok(scalar(grep { $_ eq $D6 } inbox_codes($qn)), 'q=LÊ VĂN finds it too');
is_deeply([ inbox_codes(inbox($ho, %P, q => 'trần thị bình', limit => 100)) ], [], 'another name finds none of them');
my $f = inbox($ho, %P, status => 2, limit => 100);
is_deeply([ mine($f) ], [ $D1, $D6 ], 'status=2: D1, D6');
ok(all_have($f, status => 2), 'and only items of status 2');
$f = inbox($ho, %P, status => 4, limit => 100);
is_deeply([ mine($f) ], [], 'status=4: none of ours');
ok(all_have($f, status => 4), 'only items of status 4');
$f = inbox($desk, %P, status => 1, limit => 100);
is_deeply([ mine($f) ], [$D7], 'the desk, status=1: D7');
ok(all_have($f, status => 1), 'only items of status 1');
$f = inbox($ho, %P, colour => 'green', limit => 100);
is_deeply([ mine($f) ], [ $D1, $D6 ], 'colour=green');
ok(all_have($f, colour => 'green'), 'only green items');
is_deeply([ mine(inbox($ho, %P, colour => 'red', limit => 100)) ], [], 'colour=red: none of ours yet');
is_deeply([ inbox_codes(inbox($ho, procedure => '1.000001.000.00.00.H41')) ], [], 'another procedure: none');
my $all = inbox($ho, limit => 100);
my @ord = map { [ $_->{red_at} // 9e9, $_->{code} ] } @{ ($all // {})->{items} // [] };
ok(!grep({ $ord[$_ - 1][0] > $ord[$_][0] || ($ord[$_ - 1][0] == $ord[$_][0] && $ord[$_ - 1][1] gt $ord[$_][1]) } 1 .. $#ord),
   'the whole inbox sorted by red_at, then code');
for my $bad ([ limit => 0 ], [ limit => 101 ], [ offset => -1 ], [ offset => 10001 ], [ colour => 'purple' ], [ status => 'x' ]) {
  my $r = $ho->get("/api/v1/staff/inbox?$bad->[0]=$bad->[1]");
  error_is($r, 400, 'INVALID_PARAMETER', "$bad->[0]=$bad->[1]: 400 INVALID_PARAMETER");
}
error_is(client()->get('/api/v1/staff/inbox'), 401, 'UNAUTHENTICATED', 'no session: 401');
error_is($app->get('/api/v1/staff/inbox'), 403, 'FORBIDDEN', 'an applicant: 403');

# ------------------------------------------------------------------ colours move with the clock
clock_to(T(1, '08:30:00'));
$i1 = inbox_item($ho, $D1, %P);
is($i1 && $i1->{step_state}, 'due_soon', 'Tue 08:30: D1 step due soon (after 08:12)');
is($i1 && $i1->{colour}, 'green', 'still green');
is((inbox_item($ho, $D6, %P) // {})->{step_state}, 'ok', 'D6 step ok (its warning at Tue 09:12)');

clock_to(T(2, '09:00:30'));    # Wed 09:00:30
ok(wait_until(sub { (sql_value("SELECT warning FROM dossiers WHERE code = '$D1'") // '') eq 'yellow' }, 15),
   'the warner marks D1 yellow in MariaDB (Wed 09:00)');
$i1 = inbox_item($ho, $D1, %P);
is($i1 && $i1->{colour}, 'yellow', 'D1 yellow: less than one working day left');
is($i1 && $i1->{step_state}, 'overdue', 'its step overdue (Tue 16:54)');
is((inbox_item($ho, $D6, %P) // {})->{colour}, 'green', 'D6 still green until Wed 10:00');
$f = inbox($ho, %P, colour => 'yellow', limit => 100);
is_deeply([ mine($f) ], [$D1], 'colour=yellow: D1');
ok(all_have($f, colour => 'yellow'), 'only yellow items');

clock_to(T(3, '09:00:30'));    # Thu 09:00:30: D1's appointment passed
ok(wait_until(sub { (sql_value("SELECT warning FROM dossiers WHERE code = '$D1'") // '') eq 'red' }, 15),
   'the warner marks D1 red in MariaDB without any inbox request');
# a colour is not a status change: no history entry, hence nothing for the national portal (contract "Warner")
is(sql_value("SELECT COUNT(*) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$D1'"
           . " AND h.action IS NULL AND h.status <> 1"), 0, 'the mark adds no history entry');
is((sql_value("SELECT warning FROM dossiers WHERE code = '$D6'") // ''), 'yellow', 'D6 yellow in MariaDB');
$i1 = inbox_item($ho, $D1, %P);
is($i1 && $i1->{colour}, 'red', 'D1 red in the inbox');
is($i1 && $i1->{warning}, 'red', "its item's warning says so too");
is((inbox_item($ho, $D6, %P) // {})->{colour}, 'yellow', 'D6 yellow');
$f = inbox($ho, %P, colour => 'red', limit => 100);
is_deeply([ mine($f) ], [$D1], 'colour=red: D1');
ok(all_have($f, colour => 'red'), 'only red items');
is_deeply([ mine(inbox($ho, %P, limit => 100)) ], [ $D1, $D6 ], 'the red one first');
is(status_of(workflow_of($desk, $D1)), 2, 'turning red changes no status');

clock_to(T(3, '10:00:30'));
ok(wait_until(sub { (sql_value("SELECT warning FROM dossiers WHERE code = '$D6'") // '') eq 'red' }, 15),
   'D6 red at Thu 10:00');
is((dossier_row($D4) // {})->{stage}, 'supplement', 'D4 still paused');
isnt(sql_value("SELECT warning FROM dossiers WHERE code = '$D4'") // '', 'red', 'a paused dossier is not marked red (no colour)');

outbox_check([ $D1, $D2, $D3, $D6 ]);

clock_reset();
done_testing();
