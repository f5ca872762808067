#!/usr/bin/perl
# Supplement requests (issue 4; DOMAIN T6, 000 Art.14.5, 004 Art.12.2.a, 002 Art.12.3):
# the holder of a step asks for a supplement (status 5, the clock pauses), the
# applicant resubmits on the portal (POST /api/v1/me/dossiers/{code}/actions
# {action:"supplement"}) with a file they uploaded: supplement_count 1, the same code,
# back to the step that asked (status 4). supplement_mode restart: a new receipt at
# the resubmission and a new appointment from zero; resume: the appointment moves by
# the paused working time. A supplement once the appointment has passed: 409
# SUPPLEMENT_AFTER_DEADLINE.
use strict;
use warnings;
use utf8;
use Test::More;
use POSIX qw(floor);
use Time::HiRes qw(time);
use Tthc::Test;
use Tthc::Flow;

my $why = flow_skip_reason();
plan skip_all => $why if $why;

clock_reset();
my $desk   = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho     = official($A31, 'handling_official');
my $leader = official($A31, 'agency_leader');
my $app    = applicant('cd-002') or BAIL_OUT('no applicant');
my $other  = applicant('cd-003');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho, $leader, $app, $other);
my $B = base_monday(weeks => 3);
sub T { return at($B, @_) }
note('base Monday: ' . iso_of($B));
my $mode0 = setting_get('supplement_mode');
is($mode0 // 'restart', 'restart', 'supplement_mode defaults to restart (000 Art.14.5.b)');

my %d;
for my $k (qw(R S X Y)) { $d{$k} = submit_online(client => $app) }
ok(!grep({ !defined } values %d), 'four online dossiers') or BAIL_OUT('submissions failed');
ok(wait_until(sub { !grep { !view_of($desk, $_) } values %d }, 20), 'in the staff views');
my ($R, $S, $X, $Y) = @d{qw(R S X Y)};

# Mon 09:00: reception (appointment next Mon 09:00)
clock_to(T(0, '09:00:00'));
my %acc;
$acc{$_} = act_ok($desk, $d{$_}, 'accept', name => "accept $_") for qw(R S X Y);
my %sec = map { $_ => floor(epoch_of(($acc{$_} // {})->{receipt_at}) // T(0, '09:00:00')) - T(0, '09:00:00') } keys %acc;
ok(!grep({ $sec{$_} < 0 || $sec{$_} > 5 } keys %sec), 'received Mon 09:00:0x') or diag(explain(\%sec));

# Y goes to step 2 first (the leader will ask)
clock_to(T(0, '10:00:00'));
act_ok($ho, $Y, 'forward', note => 'Hợp lệ', name => 'Y to step 2');

# ------------------------------------------------------------------ Tue 09:00:10: the requests
clock_to(T(1, '09:00:10'));
act_err($ho, $R, 'supplement', 422, 'NOTE_REQUIRED', name => 'a supplement request needs a note (what is missing): 422');
my $j = act_ok($ho, $R, 'supplement', note => 'Đề nghị bổ sung bản sao giấy khai sinh', files => [ file_ref($ho, 'supplement_request', 'Phiếu yêu cầu bổ sung.pdf') ],
               name => 'the handling official asks for a supplement of R');
is(status_of($j), 5, 'status 5 (Yêu cầu bổ sung giấy tờ)');
is($j && $j->{stage}, 'supplement', 'stage supplement');
instant_is($j && $j->{paused_at}, T(1, '09:00:10'), 'the clock pauses (paused_at Tue 09:00)', 2);
$j = act_ok($ho, $S, 'supplement', note => 'Đề nghị bổ sung tờ khai có chữ ký', name => 'and of S');
is(status_of($j), 5, 'S: status 5');
$j = act_ok($leader, $Y, 'supplement', note => 'Đề nghị bổ sung giấy ủy quyền', name => 'the leader asks for a supplement of Y (step 2)');
is(status_of($j), 5, 'Y: status 5');
my $rs = dossier_row($R);
is($rs && $rs->{stage}, 'supplement', 'MariaDB: stage supplement');
my $open = sql_value("SELECT COUNT(*) FROM dossier_pauses p JOIN dossiers d ON d.id = p.dossier_id WHERE d.code = '$R' AND p.ended_at IS NULL");
is($open, 1, 'an open pause row');
act_err($ho, $R, 'forward', 409, 'ILLEGAL_TRANSITION', note => 'x', name => 'no forward while waiting for the applicant: 409');
act_err($ho, $R, 'supplement', 409, 'ILLEGAL_TRANSITION', note => 'x', name => 'no second request while paused: 409');

# ------------------------------------------------------------------ two days pass (paused: not counted)
my $off0 = clock_offset_ms();
ok(clock_advance('2d'), 'tthcctl clock advance 2d');
my $off1 = clock_offset_ms();
is($off1 - $off0, 2 * 86400 * 1000, 'the offset grew by exactly 2 days');
# now: Thu 09:00:1x

# --- the applicant resubmits
my $up = upload($app, pdf_bytes('giay-khai-sinh'), 'giấy khai sinh.pdf');
my $uj = json_ok($up, 201, 'the applicant uploads the missing document');
my $sha = $uj && $uj->{sha256};
my $deskfile = upload_ok($desk, 'desk-file.pdf');
error_is(me_act($app, $R, 'supplement', files => [ { sha256 => $deskfile->{sha256}, component => 'TK' } ]), 422,
         'FILE_NOT_UPLOADED', "a file the applicant did not upload: 422 FILE_NOT_UPLOADED");
my $osha = (upload_ok($other, 'cua-nguoi-khac.pdf') // {})->{sha256};
my $ro = me_act($other, $R, 'supplement', files => [ { sha256 => $osha, component => 'TK' } ]);
error_is($ro, 404, 'DOSSIER_NOT_FOUND', "another applicant cannot supplement R, even with a file of their own: 404 as for a missing dossier");
error_is(me_act($app, $X, 'supplement', files => [ { sha256 => $sha, component => 'TK' } ]), 409, 'ILLEGAL_TRANSITION',
         'no supplement where none was asked: 409');
my $hc = history_count($R);

setting_set('supplement_mode', 'restart');
is(setting_get('supplement_mode'), 'restart', 'tthcctl setting set supplement_mode restart');
my $r = me_act($app, $R, 'supplement', note => 'Đã bổ sung bản sao giấy khai sinh', files => [ { sha256 => $sha, component => 'TK' } ],
               idempotency_key => "sup-R-$$");
$j = json_ok($r, 200, 'R resubmitted (restart)');
my $t_res = sql_epoch(sql_value("SELECT MAX(h.at) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$R'"));
ok($t_res && $t_res >= T(3, '09:00:10') && $t_res < T(3, '09:00:40'), 'at Thu 09:00 (the clock moved 2 days)')
  or diag(iso_of($t_res));
is($j && $j->{code}, $R, 'the same code (D2)');
is(status_of($j), 4, 'status 4: back in handling');
is($j && $j->{stage}, 'step', 'stage step');
is(step_of($j), 1, 'at the step that asked (1)');
is($j && $j->{supplement_count}, 1, 'supplement_count 1');
ok($j && !defined $j->{paused_at}, 'no longer paused');
instant_is($j && $j->{receipt_at}, floor($t_res // 0), 'restart: a new receipt at the resubmission (T1 of Thu 09:00)');
instant_is($j && $j->{due_at}, floor($t_res // 0) + 7 * 86400, 'a new appointment from zero: 5 working days (next Thu 09:00)');
ok($j && same_instant($j->{first_due_at}, $j->{due_at}), 'first_due_at of the new receipt');
my $r2 = me_act($app, $R, 'supplement', note => 'Đã bổ sung bản sao giấy khai sinh', files => [ { sha256 => $sha, component => 'TK' } ],
                idempotency_key => "sup-R-$$");
is($r2->{status}, 200, 'the same request again (idempotency_key): 200');
is(history_count($R), $hc + 1, 'applied once');
my $wf = workflow_of($desk, $R);
my @p = @{ ($wf // {})->{pauses} // [] };
is(scalar @p, 1, 'one pause');
is($p[0] && $p[0]{minutes}, 960, 'the pause lasted 960 working minutes (Tue 09:00 -> Thu 09:00)');
ok($p[0] && defined $p[0]{ended_at}, 'and is closed');
my $mine = json_ok($app->get("/api/v1/me/dossiers/$R"), 200, "the applicant's view");
is($mine && $mine->{workflow} && $mine->{workflow}{supplement_count}, 1, 'shows supplement_count 1');
is(sql_value("SELECT COUNT(*) FROM dossier_outputs o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$R'"
           . " AND o.kind = 'supplement' AND o.sha256 = '$sha'"), 1, 'the supplement file is attached to the dossier');

setting_set('supplement_mode', 'resume');
is(setting_get('supplement_mode'), 'resume', 'supplement_mode resume (002 Art.12.3)');
$r = me_act($app, $S, 'supplement', files => [ { sha256 => $sha, component => 'TK' } ]);
$j = json_ok($r, 200, 'S resubmitted (resume)');
my $t_s = sql_epoch(sql_value("SELECT MAX(h.at) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$S'"));
my $extra = floor($t_s // 0) - T(3, '09:00:10');    # seconds past 2 days of pause (if counted to the second)
is($j && $j->{supplement_count}, 1, 'supplement_count 1');
instant_is($j && $j->{receipt_at}, T(0, '09:00:00') + $sec{S}, 'resume: the receipt stays Mon 09:00');
# paused Tue 09:00:10 -> Thu 09:00:1x: 960 working minutes (plus seconds); appointment Mon -> Wed 09:00
my $due_s = epoch_of($j && $j->{due_at});
ok(defined $due_s && $due_s >= T(9, '09:00:00') + $sec{S} - 2 && $due_s <= T(9, '09:00:00') + $sec{S} + $extra + 2,
   'the appointment moves by the paused working time: next Mon 09:00 -> next Wed 09:00')
  or diag('due_at ' . ($j && $j->{due_at} // 'undef') . ', want ' . iso_of(T(9, '09:00:00') + $sec{S}));
is(step_of($j), 1, 'back at step 1');

$r = me_act($app, $Y, 'supplement', files => [ { sha256 => $sha, component => 'TK' } ]);
$j = json_ok($r, 200, 'Y resubmitted');
is(step_of($j), 2, 'Y goes back to step 2, the step that asked');
is($j && $j->{step} && $j->{step}{role}, 'agency_leader', 'held by the leader');

# ------------------------------------------------------------------ the time of step 1, pauses excluded
clock_to(T(3, '10:00:40'));
act_ok($ho, $S, 'forward', note => 'Hồ sơ đã đủ', name => 'S forwarded (Thu 10:00)');
act_ok($ho, $R, 'forward', note => 'Hồ sơ đã đủ', name => 'R forwarded (Thu 10:00)');
sub step1_minutes {
  my ($code) = @_;
  my $t = 0;
  $t += $_->{used_minutes} // 0 for grep { $_->{position} == 1 } @{ (workflow_of($desk, $code) // {})->{steps} // [] };
  return $t;
}
# Mon 09:00 -> Tue 09:00 (480) + Thu 09:00 -> Thu 10:00 (60); the two paused days are not counted
is(step1_minutes($S), 540, 'resume: step 1 used 480 + 60 = 540 working minutes (the pause not counted)');
my $rm = step1_minutes($R);
ok($rm == 540 || $rm == 60, "restart: step 1 used $rm working minutes (540, or 60 if the step restarts too), never the pause");

# ------------------------------------------------------------------ after the appointment: too late to ask
clock_to(T(7, '09:30:00'));    # X: appointment Mon 09:00 passed
my $snap = snapshot($desk, $X);
act_err($ho, $X, 'supplement', 409, 'SUPPLEMENT_AFTER_DEADLINE', note => 'Đề nghị bổ sung',
        name => 'a supplement request after the appointment: 409 SUPPLEMENT_AFTER_DEADLINE');
unchanged($desk, $X, $snap, 'X unchanged');

outbox_check([ $R, $S, $X, $Y ]);

setting_set('supplement_mode', $mode0 // 'restart');
clock_reset();
done_testing();
