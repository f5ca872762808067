#!/usr/bin/perl
# A joint (inter-agency) procedure (issue 4; DOMAIN T7, T8, T9; 004 Art.13):
# 1.004227 registered at the counter of UBND huyện Nam Đàn (000.00.36.H41, lead) with
# the components DON and GIAYTO; step 1 "Thẩm định hồ sơ" @36 (2400 min), step 2
# "Xác minh, đo đạc địa chính" @ Sở TN&MT 000.00.20.H41 (4800 min), step 3 "Phê duyệt"
# @36 (2400 min); 20 working days in all.
# Step 2 returns the dossier to step 1 (the time goes back to agency 36), step 1
# forwards again, step 2 extends by 2 working days with an extension slip (agency 20's
# transfer deadline moves by 2 working days; 960 extension minutes against agency 20).
# Agencies' used minutes are checked exactly after known clock moves. A second dossier
# turns red when agency 20's transfer deadline passes, long before the appointment.
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
my $desk   = official($A36, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho36   = official($A36, 'handling_official');
my $lead36 = official($A36, 'agency_leader');
my $ho20   = official($A20, 'handling_official') or BAIL_OUT('no official of 20');
my $lead20 = official($A20, 'agency_leader');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho36, $lead36, $ho20, $lead20);
my $B = base_monday(weeks => 6);
sub T { return at($B, @_) }
note('base Monday: ' . iso_of($B));
sub ag { my ($x) = @_; return ref $x eq 'HASH' ? $x->{code} : $x }
sub agency_row {    # agency_row($workflow, $agency) -> its workflow.agencies entry
  my ($wf, $a) = @_;
  my ($r) = grep { (ag($_->{agency}) // '') eq $a } @{ ($wf // {})->{agencies} // [] };
  return $r;
}
sub plus_wd {    # plus_wd($epoch, $n): n working days later in a plain Mon-Fri week
  my ($e, $n) = @_;
  while ($n > 0) { $e += 86400; $n-- unless dow_name($e) =~ /^(Sat|Sun)$/ }
  return $e;
}

# ------------------------------------------------------------------ counter registration
clock_to(T(0, '09:00:00'));
my @f1 = ({ sha256 => upload_ok($desk, 'Đơn đăng ký 04a.pdf')->{sha256}, component => 'DON' },
          { sha256 => upload_ok($desk, 'Giấy tờ quyền sử dụng đất.pdf')->{sha256}, component => 'GIAYTO' });
my $r = register_counter($desk, procedure => $P_JOINT, files => \@f1);
my $j = json_ok($r, 201, 'the desk of 36 registers 1.004227 at the counter: 201');
my $J1 = $j && $j->{code};
like($J1 // '', qr/^\Q$A36\E-\d{6}-\d{4}$/, "code of the lead agency: $J1");
my @f2 = ({ sha256 => upload_ok($desk, 'don-2.pdf')->{sha256}, component => 'DON' },
          { sha256 => upload_ok($desk, 'giayto-2.pdf')->{sha256}, component => 'GIAYTO' });
my $J2 = (json_ok(register_counter($desk, procedure => $P_JOINT, files => \@f2), 201, 'a second one') // {})->{code};
BAIL_OUT('no joint dossier') unless $J1 && $J2;
error_is(register_counter($desk, procedure => $P_JOINT, files => [ $f1[0] ]), 422, 'MISSING_COMPONENT',
         'without GIAYTO: 422 MISSING_COMPONENT');

my $wf = workflow_of($desk, $J1);
is(status_of($wf), 2, 'status 2 at once');
ok($wf && $wf->{joint}, 'joint');
instant_is($wf && $wf->{receipt_at}, T(0, '09:00:00'), 'receipt Mon 09:00', 3);
my $sec = floor(epoch_of($wf && $wf->{receipt_at}) // T(0, '09:00:00')) - T(0, '09:00:00');
instant_is($wf && $wf->{due_at}, T(28, '09:00:00') + $sec, 'appointment: 20 working days = 4 weeks later, Mon 09:00');
is(step_of($wf), 1, 'step 1');
is(ag($wf && $wf->{step} && $wf->{step}{agency}), $A36, 'at agency 36');
my $a36 = agency_row($wf, $A36);
ok($a36, 'workflow.agencies has agency 36');
is($a36 && $a36->{budget_minutes}, 4800, 'agency 36 budget: steps 1 + 3 = 4800 minutes');
instant_is($a36 && $a36->{transfer_due_at}, T(14, '09:00:00') + $sec, 'its transfer deadline: 10 working days (Mon+14 09:00)');

# agency 20 cannot act before the dossier reaches it
$r = act($ho20, $J1, 'forward', note => 'x');
ok($r->{status} == 403 || $r->{status} == 404, "an official of 20 cannot act on step 1 ($r->{status})") or diag($r->{content});

# J2 goes to agency 20 at Mon 10:00 (its transfer deadline there: Mon+14 10:00)
clock_to(T(0, '10:00:00'));
act_ok($ho36, $J2, 'forward', note => 'Chuyển Sở TN&MT xác minh', name => 'J2 to agency 20 (Mon 10:00)');

# ------------------------------------------------------------------ Wed 09:00:10: step 1 forwards
clock_to(T(2, '09:00:10'));
$j = act_ok($ho36, $J1, 'forward', note => 'Đủ điều kiện, chuyển Sở TN&MT', files => [ file_ref($ho36, 'output', 'Phiếu thẩm định.pdf') ],
            name => 'step 1 @36 forwards (Wed 09:00)');
is(step_of($j), 2, 'step 2');
is(ag($j && $j->{step} && $j->{step}{agency}), $A20, 'at agency 20');
is(status_of($j), 4, 'status 4');
act_err($ho36, $J1, 'forward', 403, 'NOT_STEP_HOLDER', note => 'x', name => 'agency 36 no longer holds it: 403 NOT_STEP_HOLDER');
my $r20 = $ho20->get("/api/v1/staff/dossiers/$J1");
is($r20->{status}, 200, 'agency 20 now reads the dossier (scope: currently sent to it)') or diag($r20->{content});
$wf = workflow_of($desk, $J1);
# Mon 09:00-17:00 390 + Tue 480 + Wed 07:30-09:00 90 = 960
is(agency_row($wf, $A36) && agency_row($wf, $A36)->{used_minutes}, 960, 'agency 36 used 960 working minutes');
is(ctl_elapsed(iso_of(T(0, '09:00:00')), iso_of(T(2, '09:00:00'))), 960, '(tthcctl elapsed agrees with the hand count)');
my $a20 = agency_row($wf, $A20);
ok($a20, 'agency 20 in workflow.agencies');
instant_is($a20 && $a20->{received_at}, T(2, '09:00:10'), 'agency 20 received it Wed 09:00', 2);
is($a20 && $a20->{budget_minutes}, 4800, 'agency 20 budget 4800');
instant_is($a20 && $a20->{transfer_due_at}, T(16, '09:00:10'), 'its transfer deadline: 10 working days later (Wed+14)', 2);
my $it = inbox_item($ho20, $J1);
ok($it, "J1 in the inbox of agency 20's handling officials");
ok($it && $it->{joint}, 'item: joint');
is($it && $it->{transfer_due_at}, floor(epoch_of($a20 && $a20->{transfer_due_at}) // 0), 'item: transfer_due_at (epoch s)');
ok(!inbox_item($ho36, $J1), "no longer in 36's handling inbox");

# ------------------------------------------------------------------ Fri 09:00:20: step 2 returns to step 1
clock_to(T(4, '09:00:20'));
act_err($ho20, $J1, 'return', 422, 'NOTE_REQUIRED', to_step => 1, name => 'return without a note: 422');
$j = act_ok($ho20, $J1, 'return', to_step => 1, note => 'Đề nghị làm rõ nguồn gốc đất', name => 'step 2 @20 returns to step 1 (Fri 09:00)');
is(step_of($j), 1, 'back at step 1');
is(ag($j && $j->{step} && $j->{step}{agency}), $A36, 'at agency 36 again');
$wf = workflow_of($desk, $J1);
my @st = @{ ($wf // {})->{steps} // [] };
is($st[1] && $st[1]{used_minutes}, 960, 'step 2 visit: 960 minutes (Wed 09:00 -> Fri 09:00)');
is($st[1] && $st[1]{end_action}, 'return', 'ended by return');
is(agency_row($wf, $A20) && agency_row($wf, $A20)->{used_minutes}, 960, 'agency 20 used 960');

# ------------------------------------------------------------------ Mon+7 09:00:30: step 1 forwards again
clock_to(T(7, '09:00:30'));
act_ok($ho36, $J1, 'forward', note => 'Đã làm rõ, chuyển lại Sở TN&MT', name => 'step 1 forwards again (Mon+7 09:00)');
$wf = workflow_of($desk, $J1);
@st = @{ ($wf // {})->{steps} // [] };
is($st[2] && $st[2]{position} == 1 && $st[2]{used_minutes}, 480, 'the second visit of step 1: 480 minutes (Fri 09:00 -> Mon 09:00)');
# T8: the return put the time back on agency 36: 960 + 480
is(agency_row($wf, $A36) && agency_row($wf, $A36)->{used_minutes}, 1440, 'agency 36 used 960 + 480 = 1440 (T8)');
my $before = agency_row(workflow_of($desk, $J1), $A20);
note('agency 20 transfer deadline after the second transfer: ' . ($before && $before->{transfer_due_at} // 'undef'));
ok($before && epoch_of($before->{transfer_due_at}), 'agency 20 has a transfer deadline again');

# ------------------------------------------------------------------ Tue+7 09:00:40: step 2 extends by 2 days
clock_to(T(8, '09:00:40'));
my $due0 = $wf && $wf->{due_at};
act_err($ho20, $J1, 'extend', 422, 'FILE_REQUIRED', days => 2, note => 'Cần đo đạc lại',
        name => 'extend without an extension slip: 422 FILE_REQUIRED');
$r = act($ho20, $J1, 'extend', days => 0, note => 'x', files => [ file_ref($ho20, 'extension') ]);
ok($r->{status} == 400 || $r->{status} == 422, "extend by 0 days refused ($r->{status})");
act_err($ho36, $J1, 'extend', 403, 'NOT_STEP_HOLDER', days => 2, note => 'x', files => [ file_ref($ho36, 'extension') ],
        name => 'agency 36 cannot extend step 2: 403');
$j = act_ok($ho20, $J1, 'extend', days => 2, note => 'Cần đo đạc lại thực địa', files => [ file_ref($ho20, 'extension', 'Phiếu gia hạn.pdf') ],
            name => 'agency 20 extends by 2 working days with its slip');
is(step_of($j), 2, 'still at step 2');
$wf = workflow_of($desk, $J1);
my $after = agency_row($wf, $A20);
my $b0 = epoch_of($before && $before->{transfer_due_at});
instant_is($after && $after->{transfer_due_at}, defined $b0 ? plus_wd(floor($b0), 2) : undef,
           "agency 20's transfer deadline moves by 2 working days");
is($after && $after->{extension_minutes}, 960, 'extension_minutes 960 against agency 20 (T8)');
is(agency_row($wf, $A36) && agency_row($wf, $A36)->{extension_minutes} // 0, 0, 'none against agency 36');
ok(same_instant($wf && $wf->{due_at}, $due0), 'the appointment itself does not move (only an apology moves it, T5)');

# ------------------------------------------------------------------ Wed+7 09:00:50: step 2 forwards
clock_to(T(9, '09:00:50'));
$j = act_ok($ho20, $J1, 'forward', note => 'Đã đo đạc, đủ điều kiện', files => [ file_ref($ho20, 'output', 'Trích đo.pdf') ],
            name => 'step 2 forwards (Wed+7 09:00)');
is(step_of($j), 3, 'step 3');
is($j && $j->{step} && $j->{step}{role}, 'agency_leader', 'the leader of 36');
$wf = workflow_of($desk, $J1);
# agency 20: Wed 09:00 -> Fri 09:00 (960) + Mon+7 09:00 -> Wed+7 09:00 (960)
is(agency_row($wf, $A20) && agency_row($wf, $A20)->{used_minutes}, 1920, 'agency 20 used 960 + 960 = 1920');
ok(!(agency_row($wf, $A20) // {})->{late}, 'agency 20 not late');

# ------------------------------------------------------------------ Thu+7: step 3, result
clock_to(T(10, '09:01:00'));
act_err($lead20, $J1, 'forward', 403, 'NOT_STEP_HOLDER', note => 'x', name => "the leader of 20 is not the holder of step 3") ;
$j = act_ok($lead36, $J1, 'forward', note => 'Ký Giấy chứng nhận', files => [ file_ref($lead36, 'result', 'GCN.pdf') ],
            name => 'step 3 @36 (leader) forwards with the certificate');
is($j && $j->{stage}, 'result', 'to the desk');
$wf = workflow_of($desk, $J1);
is(agency_row($wf, $A36) && agency_row($wf, $A36)->{used_minutes}, 1920, 'agency 36 used 1440 + 480 = 1920');
clock_to(T(10, '09:01:10'));
$j = act_ok($desk, $J1, 'confirm_result', name => 'the desk of 36 confirms the result');
is(status_of($j), 9, 'status 9');
is($j && $j->{outcome}, 'early', 'early');
$j = act_ok($desk, $J1, 'return_result', name => 'and hands it over');
is(status_of($j), 10, 'status 10');
my @acts = map { $_->[2] } grep { $_->[2] ne '' && $_->[2] !~ /^(submit|register)$/ } history_rows($J1);
is_deeply(\@acts, [qw(accept forward return forward extend forward forward confirm_result return_result)],
          'history of J1') or diag("@acts");

# ------------------------------------------------------------------ J2: red on the transfer deadline (T9)
my $t2 = agency_row(workflow_of($desk, $J2), $A20);
instant_is($t2 && $t2->{transfer_due_at}, T(14, '10:00:00'), "J2: agency 20's transfer deadline Mon+14 10:00", 3);
clock_to(T(14, '10:01:00'));
$it = inbox_item($ho20, $J2);
is($it && $it->{colour}, 'red', 'J2 red in the inbox once the transfer deadline passed (appointment still 2 weeks away)')
  or diag(explain($it));
ok(wait_until(sub { (sql_value("SELECT warning FROM dossiers WHERE code = '$J2'") // '') eq 'red' }, 15),
   'the warner marks it red in MariaDB');

outbox_check([ $J1, $J2 ]);

clock_reset();
done_testing();
