#!/usr/bin/perl
# A one-agency procedure from submission to the return of the result (issue 4;
# docs/contracts-workflow.md, DOMAIN T1-T5, T7, H1-H2): 1.000001 at Sở Tư pháp,
# demo process "Thẩm định hồ sơ" (handling official, 1440 min) then "Phê duyệt"
# (agency leader, 960 min). Outcomes early / on time / late, an apology (T5), a
# refusal during handling, withdrawals (applicant, desk), a stop, a batch forward
# with one illegal item, a handover, the desk sending a result back to the last step,
# and one outbox row per history entry.
# The clock is set to fixed instants of a plain working week; events of one dossier
# are placed 10-40 s after the minute so that whole working minutes are exact.
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
my $desk   = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho     = official($A31, 'handling_official', name => 'Chuyên viên Lê Thẩm Định');
my $ho_b   = official($A31, 'handling_official', tag => 'b', name => 'Chuyên viên Võ Tiếp Nhận');
my $leader = official($A31, 'agency_leader', name => 'Giám đốc Trần Phê Duyệt');
my $app    = applicant('cd-001') or BAIL_OUT('no applicant');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho, $ho_b, $leader, $app);
my $B = base_monday(weeks => 3);
sub T { return at($B, @_) }
note('base Monday: ' . iso_of($B));

my %d;
for my $k (qw(A B C E F G H I J K M H0 I0)) { $d{$k} = submit_online(client => $app) }
ok(!grep({ !defined } values %d), 'thirteen online dossiers') or BAIL_OUT('submissions failed');
ok(wait_until(sub { !grep { !view_of($desk, $_) } values %d }, 20), 'in the staff views');
my ($A, $Bd, $C, $E, $F, $G, $H, $I, $J, $K, $M) = @d{qw(A B C E F G H I J K M)};

# ------------------------------------------------------------------ Mon 09:00: reception
clock_to(T(0, '09:00:00'));
my $ja = act_ok($desk, $A, 'accept', name => 'the desk accepts A (Mon 09:00)');
act_ok($desk, $d{$_}, 'accept', name => "the desk accepts $_") for qw(B C E F G H I J K M H0 I0);
instant_is($ja && $ja->{receipt_at}, T(0, '09:00:00'), 'A: receipt Mon 09:00', 2);
my $sec = floor(epoch_of($ja && $ja->{receipt_at}) // 0) - T(0, '09:00:00');
instant_is($ja && $ja->{due_at}, T(7, '09:00:00') + $sec, 'A: appointment next Mon 09:00 (5 working days)');

# ------------------------------------------------------------------ A: the whole way, early
clock_to(T(1, '10:30:10'));
act_err($ho, $A, 'forward', 422, 'NOTE_REQUIRED', name => 'forward without a note: 422 NOTE_REQUIRED');
my $out = file_ref($ho, 'output', 'Phiếu thẩm định.pdf');
my $j = act_ok($ho, $A, 'forward', note => 'Hồ sơ hợp lệ, đề nghị phê duyệt', files => [$out],
               name => 'the handling official forwards A with an opinion and its file (Tue 10:30)');
is(status_of($j), 4, 'status 4 (Đang xử lý)');
is($j && $j->{stage}, 'step', 'stage step');
is(step_of($j), 2, 'step 2');
is($j && $j->{step}{name}, 'Phê duyệt', 'Phê duyệt');
is($j && $j->{step}{role}, 'agency_leader', 'held by the agency leader');
ok($j && same_instant($j->{due_at}, $ja->{due_at}), 'the appointment does not move');
my $wf = workflow_of($desk, $A);
my @st = @{ ($wf // {})->{steps} // [] };
is(scalar @st, 2, 'two step visits');
# Mon 09:00-11:30 150 + 13:00-17:00 240, Tue 07:30-10:30 180 = 570
is($st[0] && $st[0]{used_minutes}, 570, 'step 1 used 570 working minutes (Mon 09:00 -> Tue 10:30)');
is($st[0] && $st[0]{end_action}, 'forward', 'step 1 ended by forward');
instant_is($st[0] && $st[0]{ended_at}, T(1, '10:30:10'), 'step 1 ended Tue 10:30', 2);
like(($st[0] // {})->{official} // '', qr/Lê Thẩm Định/, 'by the handling official (named in the staff view)') if $st[0] && !ref $st[0]{official};
ok($st[1] && $st[1]{position} == 2 && !defined $st[1]{ended_at}, 'step 2 open');
instant_is($st[1] && $st[1]{started_at}, T(1, '10:30:10'), 'step 2 started Tue 10:30', 2);
# 960 min from Tue 10:30: Tue 300, Wed 480, Thu 180 -> Thu 10:30
instant_is($st[1] && $st[1]{budget_due_at}, T(3, '10:30:10'), 'step 2 due after 960 working minutes (Thu 10:30)', 2);
is(sql_value("SELECT COUNT(*) FROM dossier_outputs o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$A'"
           . " AND o.kind = 'output' AND o.sha256 = '$out->{sha256}'"), 1, 'the opinion file is kept as an output (H2)');
{
  # internal opinions are in the private view's "outputs": officials download them, the applicant does not
  my $vf = $desk->get("/api/v1/staff/dossiers/$A/files/$out->{sha256}");
  is($vf->{status}, 200, 'and the desk downloads it through the dossier');
  my $va = $app->get("/api/v1/me/dossiers/$A/files/$out->{sha256}");
  is($va->{status}, 404, 'the applicant cannot download an internal opinion');
}

# ------------------------------------------------------------------ B: on time; C: late
clock_to(T(1, '10:31:00'));
act_ok($ho, $_, 'forward', note => 'Đủ điều kiện', name => "forward $_ to step 2") for ($Bd, $C);
# ------------------------------------------------------------------ F: refusal during handling
clock_to(T(1, '11:00:00'));
act_err($ho, $F, 'refuse', 422, 'FILE_REQUIRED', note => 'Không đủ điều kiện',
        name => 'refuse without the refusal slip: 422 FILE_REQUIRED');
my $rf = file_ref($ho, 'refusal', 'Văn bản trả lời không giải quyết.pdf');
$j = act_ok($ho, $F, 'refuse', note => 'Người yêu cầu không có quyền yêu cầu cấp bản sao', files => [$rf],
            name => 'the handling official refuses F ("trả không giải quyết")');
is($j && $j->{stage}, 'result', 'to the desk (stage result)');
is($j && $j->{result_kind}, 'refusal', 'result_kind refusal');
clock_to(T(1, '11:00:10'));
$j = act_ok($desk, $F, 'confirm_result', name => 'the desk confirms the refusal (its slip is attached)');
is(status_of($j), 9, 'status 9');
is($j && $j->{outcome}, 'early', 'outcome early (T4: the refusal with its file is the result)');
instant_is($j && $j->{result_at}, T(1, '11:00:10'), 'result_at', 2);
$j = act_ok($desk, $F, 'return_result', name => 'the refusal handed over');
is(status_of($j), 10, 'status 10');

# ------------------------------------------------------------------ G, H: withdrawal; I: stop
clock_to(T(1, '13:30:00'));
my $r = me_act($app, $G, 'withdraw', note => 'Tôi không còn nhu cầu');
my $gj = json_ok($r, 200, 'the applicant withdraws G on the portal');
is(status_of($gj), 7, 'status 7 (Công dân yêu cầu rút hồ sơ)');
is($gj && $gj->{stage}, 'closed', 'closed');
{ my $sn = snapshot($desk, $d{H0});
  act_err($desk, $d{H0}, 'withdraw', 422, 'NOTE_REQUIRED', name => 'desk withdraw without a note: 422');
  unchanged($desk, $d{H0}, $sn, 'nothing changed'); }
$j = act_ok($desk, $H, 'withdraw', note => 'Công dân có đơn xin rút hồ sơ ngày hôm nay',
            name => 'the desk withdraws H at the applicant\'s written request');
is(status_of($j), 7, 'status 7');
act_err($leader, $I, 'stop', 422, 'NOTE_REQUIRED', name => 'stop without a note: 422');
{ my $sn = snapshot($desk, $d{I0});
  act_err($ho, $d{I0}, 'stop', 403, 'NOT_STEP_HOLDER', note => 'Dừng', name => 'a handling official cannot stop (the leader or the desk does): 403');
  unchanged($desk, $d{I0}, $sn, 'nothing changed'); }
$j = act_ok($leader, $I, 'stop', note => 'Dừng xử lý theo yêu cầu của cơ quan có thẩm quyền', name => 'the leader stops I');
is(status_of($j), 8, 'status 8 (Dừng xử lý)');
is($j && $j->{stage}, 'closed', 'closed');

# ------------------------------------------------------------------ batch forward (004 Art.10.5)
clock_to(T(1, '14:00:00'));
my $bo = file_ref($ho, 'output', 'to-trinh-chung.pdf');
my $hJ = history_count($J);
my $hG = history_count($G);
$r = batch($ho, [ $J, $G, $K ], 'forward', note => 'Hồ sơ hợp lệ', files => [$bo]);
my $bj = json_ok($r, 200, 'POST /api/v1/staff/actions with three codes');
my %br = map { ($_->{code} // '') => $_ } @{ ($bj // {})->{results} // [] };
is(scalar keys %br, 3, 'one result per code');
is_deeply([ map { $_->{code} } @{ ($bj // {})->{results} // [] } ], [ $J, $G, $K ], 'in the order asked');
ok($br{$J} && $br{$J}{ok} && status_of($br{$J}) == 4, 'J forwarded (status 4)');
ok($br{$K} && $br{$K}{ok} && status_of($br{$K}) == 4, 'K forwarded');
ok($br{$J} && ref $br{$J}{dossier} eq 'HASH' && step_of($br{$J}{dossier}) == 2 && ($br{$J}{dossier}{code} // '') eq $J,
   "an ok result carries the dossier's workflow object") or diag(explain($br{$J}));
ok($br{$G} && !$br{$G}{ok} && ($br{$G}{error} // '') eq 'ILLEGAL_TRANSITION' && length($br{$G}{message} // ''),
   'G (withdrawn) refused with ILLEGAL_TRANSITION and a message') or diag(explain($br{$G}));
is(step_of(workflow_of($desk, $J)), 2, 'J is at step 2');
is(history_count($J), $hJ + 1, 'one history entry for J');
is(history_count($G), $hG, 'none for G');

# ------------------------------------------------------------------ the desk returns a result to the last step
clock_to(T(1, '15:00:00'));
act_ok($leader, $K, 'forward', note => 'Đồng ý', name => 'K to the desk');
act_err($desk, $K, 'return', 422, 'NOTE_REQUIRED', name => 'return without a note: 422');
$j = act_ok($desk, $K, 'return', note => 'Kết quả thiếu chữ ký, đề nghị hoàn thiện', name => 'the desk returns K to the last step');
is($j && $j->{stage}, 'step', 'back to a step');
is(step_of($j), 2, 'step 2 again (T7)');
my @ks = @{ (workflow_of($desk, $K) // {})->{steps} // [] };
ok(@ks == 3 && $ks[2]{position} == 2 && $ks[2]{visit} == 3 && !defined $ks[2]{ended_at}, 'a new visit of step 2');

# ------------------------------------------------------------------ handover
clock_to(T(1, '15:30:00'));
act_err($ho, $M, 'handover', 422, 'NOTE_REQUIRED', to_official => $ho_b->{uid}, name => 'handover without a note: 422');
$r = act($ho, $M, 'handover', note => 'Chuyển đồng chí Võ xử lý', to_official => $leader->{uid});
ok($r->{status} >= 400 && $r->{status} < 500 && $r->{status} != 404, "handover to someone without the step's role refused ($r->{status})")
  or diag($r->{content});
$j = act_ok($ho, $M, 'handover', note => 'Chuyển đồng chí Võ xử lý', to_official => $ho_b->{uid},
            name => 'handover to another handling official of the agency');
is($j && $j->{assignee} && $j->{assignee}{id}, $ho_b->{uid}, 'the assignee is the new official');
is(step_of($j), 1, 'same step');
act_err($ho, $M, 'forward', 403, 'NOT_STEP_HOLDER', note => 'x', name => 'the former holder may no longer act: 403');
clock_to(T(1, '15:30:30'));
$j = act_ok($ho_b, $M, 'forward', note => 'Hợp lệ', name => 'the assignee forwards');
is(step_of($j), 2, 'M at step 2');

# ------------------------------------------------------------------ E: apology (T5)
clock_to(T(2, '10:00:00'));
my $snapE = snapshot($desk, $E);
act_err($desk, $E, 'apologise', 422, 'FILE_REQUIRED', note => 'Xin lỗi vì chậm trễ', days => 2,
        name => 'apologise without the apology slip: 422 FILE_REQUIRED');
act_err($ho, $E, 'apologise', 403, 'NOT_STEP_HOLDER', note => 'x', days => 2, files => [ file_ref($ho, 'apology') ],
        name => 'a handling official cannot apologise: 403');
unchanged($desk, $E, $snapE, 'E unchanged');
my $ap = file_ref($desk, 'apology', 'Phiếu xin lỗi và hẹn lại.pdf');
$j = act_ok($desk, $E, 'apologise', note => 'Xin lỗi, cần xác minh thêm', days => 2, files => [$ap],
            name => 'the desk apologises: 2 more working days');
my $esec = floor(epoch_of((workflow_of($desk, $E) // {})->{receipt_at}) // T(0, '09:00:00')) - T(0, '09:00:00');
instant_is($j && $j->{due_at}, T(9, '09:00:00') + $esec, 'the appointment moves from Mon to Wed 09:00');
instant_is($j && $j->{first_due_at}, T(7, '09:00:00') + $esec, 'first_due_at keeps the first appointment');
ok($j && $j->{apologised}, 'apologised');
clock_to(T(2, '10:00:10'));
act_ok($ho, $E, 'forward', note => 'Đã xác minh', name => 'E forwarded');
clock_to(T(2, '10:00:20'));
act_ok($leader, $E, 'forward', note => 'Đồng ý', name => 'E approved');
# ------------------------------------------------------------------ A: approval, result, return
clock_to(T(2, '14:00:20'));
act_err($ho, $A, 'forward', 403, 'NOT_STEP_HOLDER', note => 'x', name => 'the handling official no longer holds A: 403');
$j = act_ok($leader, $A, 'forward', note => 'Đồng ý, ký duyệt', name => 'the leader forwards A (Wed 14:00)');
is($j && $j->{stage}, 'result', 'stage result (back to the desk)');
is(status_of($j), 4, 'status still 4');
ok($j && !defined $j->{step}, 'no step');
$wf = workflow_of($desk, $A);
@st = @{ ($wf // {})->{steps} // [] };
# Tue 10:30-11:30 60 + 240, Wed 240 + 13:00-14:00 60 = 600
is($st[1] && $st[1]{used_minutes}, 600, 'step 2 used 600 working minutes (Tue 10:30 -> Wed 14:00)');

clock_to(T(2, '14:01:00'));
act_ok($leader, $Bd, 'forward', note => 'Đồng ý', files => [ file_ref($leader, 'result', 'kq-B.pdf') ],
       name => 'the leader forwards B with the result attached');
act_ok($leader, $C, 'forward', note => 'Đồng ý', name => 'the leader forwards C');

clock_to(T(2, '15:00:30'));
act_err($desk, $A, 'confirm_result', 422, 'FILE_REQUIRED', name => 'confirm_result without a result file: 422 FILE_REQUIRED');
act_err($leader, $A, 'confirm_result', 403, 'NOT_STEP_HOLDER', files => [ file_ref($leader, 'result') ],
        name => 'the leader cannot confirm a result (the desk does): 403');
my $res = file_ref($desk, 'result', 'Bản sao trích lục.pdf');
$j = act_ok($desk, $A, 'confirm_result', files => [$res], name => 'the desk confirms the result (Wed 15:00)');
is(status_of($j), 9, 'status 9 (Đã xử lý xong)');
is($j && $j->{stage}, 'done', 'stage done');
instant_is($j && $j->{result_at}, T(2, '15:00:30'), 'result_at Wed 15:00 (T4)', 2);
is($j && $j->{outcome}, 'early', 'outcome early: result on Wed, appointment next Mon (T3)');
is($j && $j->{result_kind}, 'result', 'result_kind result');

clock_to(T(3, '08:00:40'));
$j = act_ok($desk, $A, 'return_result', name => 'the desk hands the result over (Thu 08:00)');
is(status_of($j), 10, 'status 10 (Đã trả kết quả)');
is($j && $j->{stage}, 'closed', 'closed');
instant_is($j && $j->{returned_at}, T(3, '08:00:40'), 'returned_at Thu 08:00', 2);
is($j && $j->{outcome}, 'early', 'the outcome stays');
my @acts = map { $_->[2] } grep { $_->[2] ne '' && $_->[2] ne 'submit' } history_rows($A);
is_deeply(\@acts, [qw(accept forward forward confirm_result return_result)], 'history: every action once, in order')
  or diag("@acts");
my $v = view_of($desk, $A);
my @vh = grep { $_->{action} } @{ ($v // {})->{history} // [] };
ok(@vh >= 5 && !grep({ !exists $_->{actor} || !exists $_->{step} || !exists $_->{files} } @vh),
   'history entries in the staff view carry action, actor, step, files');
my $mine = $app->get("/api/v1/me/dossiers/$A");
my $mj = json_ok($mine, 200, "the applicant's view");
is(status_of($mj && $mj->{workflow}), 10, "the applicant's view has the workflow (status 10)");
unlike($mine->{content} // '', qr/Lê Thẩm Định|Trần Phê Duyệt/, "without the officials' names");

# ------------------------------------------------------------------ E: the result before the new appointment
clock_to(T(3, '09:00:30'));
$j = act_ok($desk, $E, 'confirm_result', files => [ file_ref($desk, 'result', 'kq-E.pdf') ],
            name => 'E: result on Thu, before the new appointment');
is($j && $j->{outcome}, 'late', 'outcome late all the same (apologised, T5)');

# ------------------------------------------------------------------ next Mon: B on time, C late
clock_to(T(7, '08:00:00'));
$j = act_ok($desk, $Bd, 'confirm_result', name => 'B: the result attached at the last step suffices');
is($j && $j->{outcome}, 'on_time', 'B: result Mon 08:00, appointment Mon 09:00: on_time');
clock_to(T(7, '09:30:00'));
$j = act_ok($desk, $C, 'confirm_result', files => [ file_ref($desk, 'result', 'kq-C.pdf') ], name => 'C: result Mon 09:30');
is($j && $j->{outcome}, 'late', 'C: after the appointment: late');
act_ok($desk, $_, 'return_result', name => 'return_result') for ($Bd, $C);

# ------------------------------------------------------------------ one outbox row per history entry (X1)
outbox_check([ $A, $Bd, $C, $E, $F, $G, $H, $I, $J, $K, $M, $d{H0}, $d{I0} ]);
my @ob = outbox_rows($A);
my $lastp = @ob ? decode_json_safe(do { my $x = $ob[-1][1]; utf8::encode($x); $x }) : undef;
is($lastp && $lastp->{TrangThai}, 10, "A's last outbox payload: TrangThai 10");
is($lastp && $lastp->{MaHoSo}, $A, 'MaHoSo');
my ($accp) = grep { $_ && ($_->{TrangThai} // 0) == 2 }
  map { decode_json_safe(do { my $x = $_->[1]; utf8::encode($x); $x }) } @ob;
my $due_a = epoch_of($ja && $ja->{due_at});
is($accp && $accp->{NgayHenTra}, $due_a ? POSIX::strftime('%Y%m%d%H%M%S', gmtime($due_a + 7 * 3600)) : 'no due_at',
   "the accept's payload: TrangThai 2, NgayHenTra = the appointment (yyyyMMddHHmmss, local time)");

clock_reset();
done_testing();
