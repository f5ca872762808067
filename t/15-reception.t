#!/usr/bin/perl
# Reception (issue 4; docs/contracts-workflow.md): the desk accepts an online dossier
# (status 2, T1 receipt time with the 15:00 cut-off, T2 appointment = 5 working days
# of 1.000001 to the minute, step 1 opens, receipt slip), refuses one (status 3), and
# registers one at the counter; who may do it; POST /api/v1/files.
# Every expected instant is worked out by hand from the clock set by the test
# (a base Monday in a holiday-free window, and the New Year / Tết 2027 days off).
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time);
use POSIX qw(floor);
use Digest::SHA qw(sha256_hex);
use Tthc::Test;
use Tthc::Flow;

my $why = flow_skip_reason();
plan skip_all => $why if $why;

clock_reset();
my $desk = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho   = official($A31, 'handling_official');
my $desk12 = official($A12, 'desk_officer');
my $app  = applicant('cd-001') or BAIL_OUT('no applicant');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho, $desk12, $app);
my $B = base_monday(weeks => 3);    # Mon(0) .. Sun(20) are plain working weeks
sub T { return at($B, @_) }
note('base Monday: ' . iso_of($B));

# ------------------------------------------------------------------ POST /api/v1/files
{
  my $bytes = pdf_bytes('upload-check');
  my $r = upload($desk, $bytes, 'biên bản.pdf');
  my $j = json_ok($r, 201, 'POST /api/v1/files: 201');
  is($j && $j->{sha256}, sha256_hex($bytes), 'sha256 of the bytes');
  is($j && $j->{size}, length $bytes, 'size');
  is($j && $j->{media_type}, 'application/pdf', 'media type sniffed: application/pdf');
  is($j && $j->{name}, 'biên bản.pdf', 'name decoded from X-File-Name (percent-encoded UTF-8)');
  my $k = "tthc:up:{staff:$desk->{uid}}:" . sha256_hex($bytes);
  my $alt = "tthc:up:staff:$desk->{uid}:" . sha256_hex($bytes);
  my $ttl = eval { redis('TTL', $k) };
  $ttl = eval { redis('TTL', $alt) } if !defined $ttl || $ttl < 0;
  ok(defined $ttl && $ttl > 86000 && $ttl <= 86400, "the upload is remembered for the uploader for a day (TTL $ttl)")
    or diag("no key $k");
  error_is(upload($desk, '', 'rong.pdf'), 422, 'EMPTY_FILE', 'an empty file: 422 EMPTY_FILE');
  error_is(upload($desk, sample_elf(2048), 'x.pdf'), 415, 'UNSUPPORTED_MEDIA_TYPE', 'an executable: 415');
  error_is(upload(client(), $bytes, 'a.pdf'), 401, 'UNAUTHENTICATED', 'without a session: 401');
  error_is(upload($desk, $bytes, 'a.pdf', csrf => 'not-the-token'), 403, 'CSRF_FAILED', 'a wrong CSRF token: 403');
  my $ra = upload($app, pdf_bytes('applicant-upload'), 'bo-sung.pdf');
  is($ra->{status}, 201, 'an applicant uploads too');
}

# ------------------------------------------------------------------ dossiers to receive
my @codes;
for my $i (1 .. 11) {
  my $c = submit_online(client => $app);
  push @codes, $c;
}
ok(!grep({ !defined } @codes), 'eleven online dossiers submitted (status 1)') or BAIL_OUT('submissions failed');
my ($D1, $D2, $D3, $D4, $D5, $D6, $D7, $D8, $D9, $D10, $D11) = @codes;
ok(wait_until(sub { !grep { !view_of($desk, $_) } @codes }, 20), 'the desk reads them all');
my $wf0 = workflow_of($desk, $D1);
ok($wf0, 'the staff view has a workflow object') or diag(explain(view_of($desk, $D1)));
is(status_of($wf0), 1, 'status 1 before reception');
is($wf0 && $wf0->{stage}, 'reception', 'stage reception');
ok($wf0 && !defined $wf0->{receipt_at} && !defined $wf0->{due_at}, 'no receipt time, no appointment yet');

# accept_at($code, $epoch) -> (reply, the accept instant recorded in the history)
sub accept_at {
  my ($code, $when, $name) = @_;
  clock_to($when);
  my $j = act_ok($desk, $code, 'accept', name => $name // ('accept at ' . dow_name($when) . ' ' . iso_of($when)));
  my $at = sql_value("SELECT MAX(h.at) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id"
                   . " WHERE d.code = '$code' AND h.action = 'accept'");
  return ($j, sql_epoch($at));
}
# landed($actual, $want): the action happened within the intended second
sub landed {
  my ($actual, $want) = @_;
  return 1 if defined $actual && floor($actual) == $want;
  diag('the accept was recorded at ' . (defined $actual ? iso_of($actual) : 'undef') . ', not ' . iso_of($want)
       . ': the request took too long to check this second exactly');
  return 0;
}

# --- Wed 09:00: receipt at once; appointment 5 working days later (next Wed 09:00)
my ($j, $at) = accept_at($D1, T(2, '09:00:00'));
is(status_of($j), 2, 'status 2 (Được tiếp nhận)');
is($j && $j->{status}{label}, 'Được tiếp nhận', 'with its label');
is($j && $j->{stage}, 'step', 'stage step');
is(step_of($j), 1, 'at step 1');
is($j && $j->{step}{name}, 'Thẩm định hồ sơ', 'step 1: Thẩm định hồ sơ');
is($j && $j->{step}{role}, 'handling_official', 'held by a handling official');
like($j && (ref $j->{step}{agency} ? $j->{step}{agency}{code} : $j->{step}{agency}) // '', qr/^\Q$A31\E$/, 'of the receiving agency');
ok($j && !defined $j->{assignee}, 'nobody assigned yet');
instant_is($j && $j->{receipt_at}, T(2, '09:00:00'), 'T1: receipt at Wed 09:00', 1);
my $rs = floor(epoch_of($j && $j->{receipt_at}) // 0) - T(2, '09:00:00');    # the seconds the request took
instant_is($j && $j->{due_at}, T(9, '09:00:00') + $rs, 'T2: appointment next Wed 09:00 (5 working days)');
ok($j && same_instant($j->{first_due_at}, $j->{due_at}), 'first_due_at = due_at');
is($j && $j->{supplement_count}, 0, 'supplement_count 0');
ok($j && !$j->{apologised}, 'not apologised');
ok($j && !$j->{joint}, 'not joint');
ok($j && !defined $j->{result_at} && !defined $j->{outcome}, 'no result, no outcome');
like($j && $j->{receipt_at} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$/, 'instants in ISO 8601 with +07:00');
my $slip = $j && $j->{receipt};
ok(ref $slip eq 'HASH', 'the reply carries the receipt slip');
is($slip && $slip->{code}, $D1, 'slip: code');
ok($slip && $slip->{procedure}, 'slip: procedure');
ok($slip && $slip->{applicant}, 'slip: applicant');
ok($slip && same_instant($slip->{receipt_at}, $j->{receipt_at}) && same_instant($slip->{due_at}, $j->{due_at}),
   'slip: receipt_at and due_at');
ok($slip && ref $slip->{components} eq 'ARRAY' && @{ $slip->{components} } >= 1, 'slip: components');
is($slip && $slip->{supplement_count}, 0, 'slip: supplement_count');
my $wf = workflow_of($desk, $D1);
is(status_of($wf), 2, 'the staff view follows at once (written before the reply)');
my $s1 = $wf && ($wf->{steps} // [])->[0];
ok($s1 && $s1->{visit} == 1 && $s1->{position} == 1, 'workflow.steps: visit 1 of step 1 open');
ok($s1 && !defined $s1->{ended_at}, 'not ended');
instant_is($s1 && $s1->{started_at}, T(2, '09:00:00'), 'step 1 started at the receipt', 1);
# step 1 budget 1440 min = 3 working days: Wed 09:00 -> Mon 09:00
instant_is($s1 && $s1->{budget_due_at}, T(7, '09:00:00') + $rs, 'step 1 due after 1440 working minutes (Mon 09:00)');
my ($h) = grep { ($_->{action} // '') eq 'accept' } @{ (view_of($desk, $D1) // {})->{history} // [] };
ok($h, 'the history shows the accept');
is(dossier_row($D1)->{stage}, 'step', 'MariaDB: stage step');

# --- T1 cut-off at 15:00 (tthc_calendar.h: 15:00:00 is at the cut-off, 14:59:59 before it)
($j, $at) = accept_at($D2, T(3, '14:59:59'));
SKIP: {
  skip 'timing', 2 unless landed($at, T(3, '14:59:59'));
  instant_is($j && $j->{receipt_at}, T(3, '14:59:59'), 'accepted Thu 14:59:59: receipt the same instant');
  instant_is($j && $j->{due_at}, T(10, '14:59:59'), 'appointment Thu 14:59:59 a week later');
}
($j, $at) = accept_at($D3, T(3, '15:00:00'));
SKIP: {
  skip 'timing', 2 unless landed($at, T(3, '15:00:00'));
  instant_is($j && $j->{receipt_at}, T(4, '07:30:00'), 'accepted Thu 15:00:00: receipt Fri 07:30 (next working day)');
  instant_is($j && $j->{due_at}, T(11, '07:30:00'), 'appointment Fri 07:30 a week later');
}
($j, $at) = accept_at($D4, T(3, '15:00:01'));
instant_is($j && $j->{receipt_at}, T(4, '07:30:00'), 'accepted Thu 15:00:01: receipt Fri 07:30');
instant_is($j && $j->{due_at}, T(11, '07:30:00'), 'appointment Fri 07:30 a week later');
for my $case ([ '2026-12-02 14:59:59', '2026-12-02T14:59:59+07:00' ],
              [ '2026-12-02 15:00:00', '2026-12-03T07:30:00+07:00' ],
              [ '2026-12-02 15:00:01', '2026-12-03T07:30:00+07:00' ]) {
  my $e = ctl_deadline(from => "$case->[0]", days => 0, receipt => 1);
  instant_is($e, epoch_of($case->[1]), "tthcctl deadline --receipt --days 0 from $case->[0]: $case->[1]");
}

# --- outside working time: next working period
($j) = accept_at($D5, T(5, '10:00:00'));
instant_is($j && $j->{receipt_at}, T(7, '07:30:00'), 'accepted Saturday 10:00: receipt Mon 07:30');
instant_is($j && $j->{due_at}, T(14, '07:30:00'), 'appointment Mon 07:30 a week later');
($j) = accept_at($D6, T(8, '12:00:00'));
instant_is($j && $j->{receipt_at}, T(8, '13:00:00'), 'accepted Tue 12:00 (lunch): receipt Tue 13:00');
instant_is($j && $j->{due_at}, T(15, '13:00:00'), 'appointment Tue 13:00 a week later');
($j) = accept_at($D7, T(9, '07:00:00'));
instant_is($j && $j->{receipt_at}, T(9, '07:30:00'), 'accepted Wed 07:00: receipt Wed 07:30');
instant_is($j && $j->{due_at}, T(16, '07:30:00'), 'appointment Wed 07:30 a week later');
($j) = accept_at($D8, T(9, '17:30:00'));
instant_is($j && $j->{receipt_at}, T(10, '07:30:00'), 'accepted Wed 17:30: receipt Thu 07:30');
instant_is($j && $j->{due_at}, T(17, '07:30:00'), 'appointment Thu 07:30 a week later');

# --- who may receive
my $snap = snapshot($desk, $D9);
act_err($ho, $D9, 'accept', 403, 'NOT_STEP_HOLDER', name => 'a handling official cannot accept: 403 NOT_STEP_HOLDER');
my $r = act($desk12, $D9, 'accept');
ok(($r->{status} == 403 || $r->{status} == 404) && ref $r->{json} eq 'HASH',
   "the desk of another agency cannot accept ($r->{status})");
unchanged($desk, $D9, $snap, 'refused attempts changed nothing');

# --- refuse_reception: note required; status 3, closed
clock_to(T(10, '09:00:00'));
act_err($desk, $D9, 'refuse_reception', 422, 'NOTE_REQUIRED', name => 'refuse_reception without a reason: 422 NOTE_REQUIRED');
unchanged($desk, $D9, $snap, 'nothing changed');
$j = act_ok($desk, $D9, 'refuse_reception', note => 'Hồ sơ không thuộc thẩm quyền giải quyết của Sở Tư pháp');
is(status_of($j), 3, 'status 3 (Không được tiếp nhận)');
is($j && $j->{stage}, 'closed', 'stage closed');
ok($j && !defined $j->{due_at}, 'no appointment');
my $snap9 = snapshot($desk, $D9);
act_err($desk, $D9, 'accept', 409, 'ILLEGAL_TRANSITION', name => 'accept after a refusal: 409 ILLEGAL_TRANSITION');
unchanged($desk, $D9, $snap9, 'nothing changed');

# --- counter registration (D3, 001 Art.19.1) of 1.000001 by the desk: already received
clock_to(T(10, '10:00:00'));
my $tk = upload_ok($desk, 'to-khai-quet.pdf');
$r = register_counter($desk, procedure => $P_SIMPLE, files => [ { sha256 => $tk->{sha256}, component => 'TK' } ],
                      applicant => { type => 'citizen', name => 'Phan Thị Quầy', identity_number => '040190009876',
                                     phone => '0911222333' }, result_channel => 'desk', form => { so_ban_sao => 2 });
my $reg = json_ok($r, 201, 'POST /api/v1/staff/dossiers: 201');
my $RC = $reg && $reg->{code};
like($RC // '', qr/^\Q$A31\E-\d{6}-\d{4}$/, "a code of the receiving agency ($RC)");
my $rwf = $RC && workflow_of($desk, $RC);
is(status_of($rwf), 2, 'registered at the counter: status 2 at once');
instant_is($rwf && $rwf->{receipt_at}, T(10, '10:00:00'), 'receipt Thu 10:00', 1);
instant_is($rwf && $rwf->{due_at}, floor(epoch_of($rwf && $rwf->{receipt_at}) // 0) + 7 * 86400,
           'appointment Thu a week later, same time');
is(sql_value("SELECT channel FROM dossiers WHERE code = '" . ($RC // '') . "'"), 'counter', 'channel counter in MariaDB');
my $f = sql_value("SELECT COUNT(*) FROM dossier_files f JOIN dossiers d ON d.id = f.dossier_id WHERE d.code = '"
                  . ($RC // '') . "' AND f.sha256 = '$tk->{sha256}'")
     + sql_value("SELECT COUNT(*) FROM dossier_outputs o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '"
                  . ($RC // '') . "' AND o.sha256 = '$tk->{sha256}'");
ok($f >= 1, 'the digitised file belongs to the dossier');
error_is(register_counter($desk, procedure => $P_SIMPLE, files => []), 422, 'MISSING_COMPONENT',
         'without the required component: 422 MISSING_COMPONENT');
error_is(register_counter($desk, procedure => $P_SIMPLE, files => [ { sha256 => sha256_hex('never uploaded'), component => 'TK' } ]),
         422, 'FILE_NOT_UPLOADED', 'a file the desk never uploaded: 422 FILE_NOT_UPLOADED');
my $tk2 = upload_ok($ho, 'tk-ho.pdf');
$r = register_counter($ho, procedure => $P_SIMPLE, files => [ { sha256 => $tk2->{sha256}, component => 'TK' } ]);
ok(($r->{status} == 403) && ref $r->{json} eq 'HASH', "a handling official cannot register at the counter ($r->{status})")
  or diag($r->{content});
$r = register_counter($desk, procedure => $P_JOINT,
                      files => [ { sha256 => upload_ok($desk, 'don.pdf')->{sha256}, component => 'DON' },
                                 { sha256 => upload_ok($desk, 'gt.pdf')->{sha256}, component => 'GIAYTO' } ]);
ok($r->{status} == 403 && ref $r->{json} eq 'HASH', "nor the desk of $A31 for a procedure of $A36 ($r->{status})")
  or diag($r->{content});

# ------------------------------------------------------------------ T2a: days off (data of the holidays table)
sub holidays_between {
  my ($a, $b) = @_;
  return join ',', map { "$_->[0]:$_->[1]" } sql("SELECT day, kind FROM holidays WHERE day BETWEEN '$a' AND '$b' ORDER BY day");
}
my @late;    # [epoch, code, expected due, label]
if (epoch_of('2026-12-30T10:00:00+07:00') > time + 3600) {
  push @late, [ epoch_of('2026-12-30T10:00:00+07:00'), $D10,
                holidays_between('2026-12-28', '2027-01-10') eq '2027-01-01:holiday'
                  ? epoch_of('2027-01-07T10:00:00+07:00')    # Thu 31, (Fri 1 off), Mon 4, Tue 5, Wed 6, Thu 7
                  : ctl_deadline(from => '2026-12-30T10:00:00+07:00', days => 5, receipt => 1),
                'accepted Wed 30/12/2026 10:00: appointment Thu 7/1/2027 10:00 (1/1 is a day off)' ];
}
if (epoch_of('2027-02-04T09:00:00+07:00') > time + 3600) {
  my $tet = holidays_between('2027-02-01', '2027-02-21');
  my $std = $tet eq '2027-02-05:holiday,2027-02-08:holiday,2027-02-09:holiday,2027-02-10:holiday,2027-02-11:holiday';
  diag("Tết 2027 in the holidays table: $tet (not the projection of 0002): expecting tthcctl deadline's answer") unless $std;
  push @late, [ epoch_of('2027-02-04T09:00:00+07:00'), $D11,
                $std ? epoch_of('2027-02-18T09:00:00+07:00')    # Fri 12, Mon 15, Tue 16, Wed 17, Thu 18
                     : ctl_deadline(from => '2027-02-04T09:00:00+07:00', days => 5, receipt => 1),
                'accepted Thu 4/2/2027 09:00 (before Tết): appointment Thu 18/2/2027 09:00' ];
}
for my $c (sort { $a->[0] <=> $b->[0] } grep { $_->[0] > T(10, '10:00:00') } @late) {
  my ($jj) = accept_at($c->[1], $c->[0]);
  instant_is($jj && $jj->{due_at}, $c->[2], $c->[3], 1);
  instant_is(ctl_deadline(from => iso_of($c->[0]), days => 5, receipt => 1), $c->[2],
             'tthcctl deadline agrees: ' . iso_of($c->[2]));
}

# ------------------------------------------------------------------ outbox
outbox_check([ $D1, $D2, $D3, $D5, $D9, $RC ]);

clock_reset();
done_testing();
