#!/usr/bin/perl
# What the workflow refuses (issue 4; docs/contracts-workflow.md "Stages, statuses and
# actions"): every illegal transition is 409 ILLEGAL_TRANSITION, a wrong actor 403
# NOT_STEP_HOLDER (other agency, wrong role, not the assignee after a handover), a
# missing note 422 NOTE_REQUIRED, a file the actor did not upload 422
# FILE_NOT_UPLOADED, and in each case nothing changes (history, dossier row). An
# idempotency_key replays the same reply and applies once. Bad input: malformed JSON,
# unknown action, bad code, CSRF, sessions, batch limits.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use POSIX ();
use Tthc::Test;
use Tthc::Flow;

my $why = flow_skip_reason();
plan skip_all => $why if $why;

clock_reset();
my $desk   = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho     = official($A31, 'handling_official');
my $ho_b   = official($A31, 'handling_official', tag => 'b');
my $ho_c   = official($A31, 'handling_official', tag => 'c');
my $leader = official($A31, 'agency_leader');
my $head   = official($A31, 'department_head');
my $ho12   = official($A12, 'handling_official');
my $desk12 = official($A12, 'desk_officer');
my $app    = applicant('cd-001') or BAIL_OUT('no applicant');
BAIL_OUT('could not create or sign in the officials and applicants') if grep { !defined } ($desk, $ho, $ho_b, $ho_c, $leader, $head, $ho12, $desk12, $app);
my $mon = do {
  my $u = staff_account(prefix => 't19.mon', roles => ['monitor']);
  my $c = signin_staff($u->{username}, $u->{password});
  $c->{name} = 'monitor';
  $c;
};
my $B = base_monday(weeks => 3);
sub T { return at($B, @_) }

my %d;
for my $k (qw(N S1 S2 RES REF WD ST DONE HO IDEM IDEM2 BL RACE)) { $d{$k} = submit_online(client => $app) }
ok(!grep({ !defined } values %d), 'dossiers submitted') or BAIL_OUT('submissions failed');
ok(wait_until(sub { !grep { !view_of($desk, $_) } values %d }, 20), 'in the staff views');

# ------------------------------------------------------------------ states
clock_to(T(0, '09:00:00'));
act_ok($desk, $d{$_}, 'accept', name => "accept $_") for qw(S1 S2 RES WD ST DONE HO IDEM IDEM2 BL RACE);
clock_to(T(0, '10:00:00'));
act_ok($ho, $d{$_}, 'forward', note => 'Hợp lệ', name => "$_ to step 2") for qw(S2 RES DONE);
act_ok($leader, $d{$_}, 'forward', note => 'Đồng ý', name => "$_ to the desk") for qw(RES DONE);
act_ok($desk, $d{DONE}, 'confirm_result', files => [ file_ref($desk, 'result') ], name => 'DONE: result');
act_ok($desk, $d{DONE}, 'return_result', name => 'DONE: returned (status 10)');
act_ok($desk, $d{REF}, 'refuse_reception', note => 'Sai thẩm quyền', name => 'REF: refused at reception (status 3)');
ok(json_ok(me_act($app, $d{WD}, 'withdraw'), 200, 'WD: withdrawn by the applicant (status 7)'), 'withdrawn');
act_ok($leader, $d{ST}, 'stop', note => 'Dừng', name => 'ST: stopped (status 8)');
act_ok($ho, $d{HO}, 'handover', to_official => $ho_b->{uid}, note => 'Giao đồng chí B', name => 'HO: handed over to B');
is(status_of(workflow_of($desk, $d{$_->[0]})), $_->[1], "$_->[0] has status $_->[1]")
  for [ N => 1 ], [ S1 => 2 ], [ S2 => 4 ], [ RES => 4 ], [ REF => 3 ], [ WD => 7 ], [ ST => 8 ], [ DONE => 10 ];

clock_to(T(1, '09:00:00'));
my $res  = file_ref($desk, 'result');
my $ext  = file_ref($ho, 'extension');
my $hres = file_ref($ho, 'output');
my $hresult = file_ref($ho, 'result');

# refused($actor, $key, $action, $status, $error, $name, %args): one assertion on the
# answer and one that nothing changed
sub refused {
  my ($c, $k, $action, $st, $err, $name, %a) = @_;
  my $code = $d{$k};
  my $snap = snapshot($c, $code);
  my $r = act($c, $code, $action, %a);
  if (ref $st) { error_in($r, $st, $err, "$k: $name") } else { error_is($r, $st, $err, "$k: $name") }
  unchanged($c, $code, $snap, "$k: nothing changed");
}

# ------------------------------------------------------------------ 409 ILLEGAL_TRANSITION
refused($desk, 'N', 'forward', 409, 'ILLEGAL_TRANSITION', 'forward before the dossier is accepted', note => 'x');
refused($desk, 'N', 'confirm_result', 409, 'ILLEGAL_TRANSITION', 'confirm_result at reception', files => [$res]);
refused($desk, 'S1', 'accept', 409, 'ILLEGAL_TRANSITION', 'accept twice');
refused($desk, 'S1', 'refuse_reception', 409, 'ILLEGAL_TRANSITION', 'refuse_reception after the accept', note => 'x');
refused($desk, 'S1', 'confirm_result', 409, 'ILLEGAL_TRANSITION', 'confirm_result at a step', files => [$res]);
refused($desk, 'S1', 'return_result', 409, 'ILLEGAL_TRANSITION', 'return_result at a step');
refused($ho, 'S1', 'return', 409, 'ILLEGAL_TRANSITION', 'return at step 1 (no earlier step)', note => 'x');
refused($ho, 'S1', 'extend', 409, 'ILLEGAL_TRANSITION', 'extend on a one-agency procedure', note => 'x', days => 2, files => [$ext]);
refused($leader, 'S2', 'return', [ 400, 409, 422 ], [ 'ILLEGAL_TRANSITION', 'INVALID_REQUEST' ], 'return to the current step',
        note => 'x', to_step => 2);
refused($desk, 'RES', 'return_result', 409, 'ILLEGAL_TRANSITION', 'return_result before confirm_result');
refused($desk, 'RES', 'accept', 409, 'ILLEGAL_TRANSITION', 'accept at the result stage');
refused($desk, 'RES', 'supplement', 409, 'ILLEGAL_TRANSITION', 'a supplement request at the result stage', note => 'x');
refused($desk, 'RES', 'handover', 409, 'ILLEGAL_TRANSITION', 'a handover at the result stage', note => 'x', to_official => $desk->{uid});
refused($desk, 'DONE', 'apologise', 409, 'ILLEGAL_TRANSITION', 'an apology after the result', note => 'x', days => 1,
        files => [ file_ref($desk, 'apology') ]);
for my $k (qw(REF WD ST DONE)) {
  refused($desk, $k, 'accept', 409, 'ILLEGAL_TRANSITION', 'accept on a closed dossier');
  refused($desk, $k, 'withdraw', 409, 'ILLEGAL_TRANSITION', 'withdraw on a closed dossier', note => 'x');
  refused($desk, $k, 'stop', 409, 'ILLEGAL_TRANSITION', 'stop on a closed dossier', note => 'x');
  refused($desk, $k, 'confirm_result', 409, 'ILLEGAL_TRANSITION', 'confirm_result on a closed dossier', files => [$res]);
  refused($desk, $k, 'return_result', 409, 'ILLEGAL_TRANSITION', 'return_result on a closed dossier');
  refused($ho, $k, 'forward', 409, 'ILLEGAL_TRANSITION', 'forward on a closed dossier', note => 'x');
  my $snap = snapshot($desk, $d{$k});
  error_is(me_act($app, $d{$k}, 'withdraw'), 409, 'ILLEGAL_TRANSITION', "$k: the applicant cannot withdraw a closed dossier");
  unchanged($desk, $d{$k}, $snap, "$k: nothing changed");
}
{
  my $snap = snapshot($desk, $d{S1});
  error_is(me_act($app, $d{S1}, 'supplement', files => []), 409, 'ILLEGAL_TRANSITION',
           'S1: the applicant cannot supplement without a request');
  unchanged($desk, $d{S1}, $snap, 'S1: nothing changed');
}

# ------------------------------------------------------------------ 403 NOT_STEP_HOLDER
refused($leader, 'S1', 'forward', 403, 'NOT_STEP_HOLDER', 'the leader on the handling official\'s step', note => 'x');
refused($head, 'S1', 'forward', 403, 'NOT_STEP_HOLDER', 'a department head on the handling official\'s step', note => 'x');
refused($desk, 'S1', 'forward', 403, 'NOT_STEP_HOLDER', 'the desk on a handling step', note => 'x');
refused($ho, 'S2', 'forward', 403, 'NOT_STEP_HOLDER', 'a handling official on the leader\'s step', note => 'x');
refused($ho, 'N', 'accept', 403, 'NOT_STEP_HOLDER', 'a handling official accepting');
refused($ho, 'RES', 'confirm_result', 403, 'NOT_STEP_HOLDER', 'a handling official confirming a result', files => [$hresult]);
refused($ho, 'HO', 'forward', 403, 'NOT_STEP_HOLDER', 'the former holder after a handover', note => 'x');
refused($ho_c, 'HO', 'forward', 403, 'NOT_STEP_HOLDER', 'another official of the role, not the assignee', note => 'x');
for my $case ([ $ho12, 'forward', note => 'x' ], [ $desk12, 'accept' ]) {
  my ($c, $action, %a) = @$case;
  my $k = $action eq 'accept' ? 'N' : 'S1';
  my $snap = snapshot($desk, $d{$k});
  my $r = act($c, $d{$k}, $action, %a);
  my $e = (($r->{json} // {})->{error} // {})->{code} // '';
  ok(($r->{status} == 403 && ($e eq 'NOT_STEP_HOLDER' || $e eq 'FORBIDDEN')) || ($r->{status} == 404 && $e eq 'DOSSIER_NOT_FOUND'),
     "$k: $c->{name} of another agency: $r->{status} $e") or diag($r->{content});
  unchanged($desk, $d{$k}, $snap, "$k: nothing changed");
}
{
  my $snap = snapshot($desk, $d{S1});
  my $r = act($mon, $d{S1}, 'stop', note => 'x');
  error_in($r, [403], [ 'FORBIDDEN', 'NOT_STEP_HOLDER' ], 'S1: a monitor only reads: 403');
  error_is(act($app, $d{S1}, 'forward', note => 'x'), 403, 'FORBIDDEN', 'S1: an applicant on the staff route: 403 FORBIDDEN');
  unchanged($desk, $d{S1}, $snap, 'S1: nothing changed');
}

# ------------------------------------------------------------------ 422
refused($ho, 'S1', 'forward', 422, 'NOTE_REQUIRED', 'forward without a note');
refused($ho, 'S1', 'forward', 422, 'NOTE_REQUIRED', 'forward with an empty note', note => '');
refused($ho, 'BL', 'forward', 422, 'NOTE_REQUIRED', 'forward with a blank note (spaces only)', note => "  \t ");
refused($leader, 'S2', 'stop', 422, 'NOTE_REQUIRED', 'stop without a note');
refused($desk, 'N', 'refuse_reception', 422, 'NOTE_REQUIRED', 'refuse_reception without a reason');
refused($ho, 'S1', 'forward', 422, 'FILE_NOT_UPLOADED', "a file uploaded by the desk, not by the actor",
        note => 'x', files => [ { sha256 => $res->{sha256}, kind => 'output' } ]);
refused($ho, 'S1', 'forward', 422, 'FILE_NOT_UPLOADED', 'a file nobody uploaded',
        note => 'x', files => [ { sha256 => sha256_hex("nothing $$"), kind => 'output' } ]);
refused($ho, 'S1', 'refuse', 422, 'FILE_REQUIRED', 'refuse without a refusal file', note => 'x');
refused($ho, 'S1', 'refuse', 422, 'FILE_REQUIRED', 'refuse with only an output file', note => 'x', files => [$hres]);
{
  my $snap = snapshot($desk, $d{S1});
  my $r = act($ho, $d{S1}, 'handover', note => 'x', to_official => $ho12->{uid});
  ok($r->{status} >= 400 && $r->{status} < 500, "S1: handover to an official of another agency refused ($r->{status})");
  unchanged($desk, $d{S1}, $snap, 'S1: nothing changed');
}

# ------------------------------------------------------------------ idempotency
my $key = "idem-$$-" . int(rand(1e6));
my $h0 = history_count($d{IDEM});
my $r1 = act($ho, $d{IDEM}, 'forward', note => 'Chuyển phê duyệt', idempotency_key => $key);
my $j1 = json_ok($r1, 200, 'forward with an idempotency_key');
my $r2 = act($ho, $d{IDEM}, 'forward', note => 'Chuyển phê duyệt', idempotency_key => $key);
my $j2 = json_ok($r2, 200, 'the same request again: 200, not 409');
is($j2 && $j2->{history_id}, $j1 && $j1->{history_id}, 'the same history_id');
is(status_of($j2), status_of($j1), 'the same status');
is(step_of($j2), 2, 'the same step (2)');
is(history_count($d{IDEM}), $h0 + 1, 'applied once (one history entry)');
is(sql_value("SELECT COUNT(*) FROM dossier_steps s JOIN dossiers d ON d.id = s.dossier_id WHERE d.code = '$d{IDEM}'"), 2,
   'two step visits, not three');
my $r3 = act($ho, $d{IDEM}, 'forward', note => 'Chuyển phê duyệt', idempotency_key => "$key-2");
error_is($r3, 403, 'NOT_STEP_HOLDER', 'a new key is a new request (the step has moved on): 403');
like($key, qr/^[A-Za-z0-9_-]{1,64}$/, 'key format');
my $snapI = snapshot($desk, $d{IDEM2});
my $bad = act($ho, $d{IDEM2}, 'forward', note => 'x', idempotency_key => 'bad key with spaces');
ok($bad->{status} == 400 || $bad->{status} == 422, "an idempotency_key outside [A-Za-z0-9_-]{1,64} refused ($bad->{status})");
$bad = act($ho, $d{IDEM2}, 'forward', note => 'x', idempotency_key => 'k' x 65);
ok($bad->{status} == 400 || $bad->{status} == 422, "a key of 65 characters refused ($bad->{status})");
unchanged($desk, $d{IDEM2}, $snapI, 'IDEM2: nothing changed');
{   # batch replay
  my $bk = "batch-$$";
  my $hb = history_count($d{IDEM2});
  my $b1 = batch($ho, [ $d{IDEM2} ], 'forward', note => 'Hợp lệ', idempotency_key => $bk);
  my $b2 = batch($ho, [ $d{IDEM2} ], 'forward', note => 'Hợp lệ', idempotency_key => $bk);
  my ($x1) = @{ (($b1->{json} // {})->{results}) // [] };
  my ($x2) = @{ (($b2->{json} // {})->{results}) // [] };
  ok($x1 && $x1->{ok} && $x2 && $x2->{ok}, 'a batch replayed with its idempotency_key: ok both times');
  is(history_count($d{IDEM2}), $hb + 1, 'applied once');
}

# ------------------------------------------------------------------ concurrent forwards: one wins
{
  my $code = $d{RACE};
  my $h0 = history_count($code);
  my @kids;
  for my $i (1 .. 6) {
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
      close $rd;
      my $r = act($ho, $code, 'forward', note => "Chuyển lần $i");
      print $wr $r->{status} . ' ' . err_code($r);
      close $wr;
      POSIX::_exit(0);
    }
    close $wr;
    push @kids, [ $pid, $rd ];
  }
  my @got;
  for (@kids) { my ($pid, $rd) = @$_; local $/; push @got, scalar <$rd>; waitpid $pid, 0 }
  my $wins = grep { /^200 / } @got;
  is($wins, 1, 'six concurrent forwards of one dossier: exactly one succeeds') or diag("@got");
  ok(!grep({ !/^(200 |409 (ILLEGAL_TRANSITION|STALE_DOSSIER)|403 NOT_STEP_HOLDER)/ } @got),
     'the others: 409 ILLEGAL_TRANSITION / STALE_DOSSIER or 403 NOT_STEP_HOLDER') or diag("@got");
  is(history_count($code), $h0 + 1, 'one history entry');
  is(step_of(workflow_of($desk, $code)), 2, 'at step 2');
  is(sql_value("SELECT COUNT(*) FROM dossier_steps s JOIN dossiers d ON d.id = s.dossier_id WHERE d.code = '$code'"), 2,
     'two step visits');
}

# ------------------------------------------------------------------ bad input
my $S1 = $d{S1};
my $snap = snapshot($desk, $S1);
my $url = "/api/v1/staff/dossiers/$S1/actions";
error_is($ho->request('POST', $url, content => '{"action":"forward","note":', headers => { 'Content-Type' => 'application/json' }),
         400, 'MALFORMED_JSON', 'malformed JSON: 400 MALFORMED_JSON');
# the JSON body is read as it arrives: a chunked one grows its buffer, a too big one is refused at 64 KiB
my $big = encode_json_c({ action => 'forward', note => ('x' x 70000) });
error_is(raw_post($url, $big, content_type => 'application/json', auth => $ho, chunked => 1, chunk_size => 8192),
         413, 'REQUEST_TOO_LARGE', 'a chunked body over 64 KiB: 413 REQUEST_TOO_LARGE');
error_is(raw_post($url, $big, content_type => 'application/json', auth => $ho),
         413, 'REQUEST_TOO_LARGE', 'a Content-Length over 64 KiB: 413 REQUEST_TOO_LARGE');
my $mid = encode_json_c({ action => 'teleport', note => ('y' x 3000) });
error_in(raw_post($url, $mid, content_type => 'application/json', auth => $ho, chunked => 1, chunk_size => 500),
         [ 400, 409 ], [ 'INVALID_REQUEST', 'ILLEGAL_TRANSITION' ], 'a 3 KiB body in 500-byte chunks is read whole');
error_in($ho->request('POST', $url, content => '[1,2]', headers => { 'Content-Type' => 'application/json' }),
         [400], [ 'INVALID_REQUEST', 'MALFORMED_JSON' ], 'a JSON array: 400');
error_is(act($ho, $S1, undef, note => 'x'), 400, 'INVALID_REQUEST', 'no action: 400 INVALID_REQUEST');
my $unk = act($ho, $S1, 'teleport', note => 'x');
error_in($unk, [ 400, 409 ], [ 'INVALID_REQUEST', 'ILLEGAL_TRANSITION' ], 'an unknown action: refused (' . err_code($unk) . ')');
error_in(act($ho, $S1, 'forward', note => 'x', files => 'abc'), [ 400, 422 ], ['INVALID_REQUEST'], 'files not an array: refused');
error_in(act($ho, $S1, 'forward', note => 'x', files => [ { sha256 => 'zz', kind => 'output' } ]), [ 400, 422 ],
         [ 'INVALID_REQUEST', 'FILE_NOT_UPLOADED' ], 'a malformed sha256: refused');
error_in(act($ho, $S1, 'forward', note => 'x', files => [ { sha256 => $hres->{sha256}, kind => 'poem' } ]), [ 400, 422 ],
         ['INVALID_REQUEST'], 'an unknown file kind: refused');
error_is(act($ho, 'abc', 'forward', note => 'x'), [ 400, 404 ], [ 'INVALID_DOSSIER_CODE', 'DOSSIER_NOT_FOUND' ],
         'a malformed code');
error_is(act($ho, "$A31-991231-9999", 'forward', note => 'x'), 404, 'DOSSIER_NOT_FOUND', 'an unknown code: 404');
error_is(act($ho, $S1, 'forward', note => 'x', csrf => 'wrong-token'), 403, 'CSRF_FAILED', 'a wrong CSRF token: 403 CSRF_FAILED');
error_is(act($ho, $S1, 'forward', note => 'x', no_csrf => 1), 403, 'CSRF_FAILED', 'no CSRF token: 403 CSRF_FAILED');
error_is(client()->post_json($url, { action => 'forward', note => 'x' }), 401, 'UNAUTHENTICATED', 'no session: 401');
my $g = $ho->get($url);
ok($g->{status} == 405 || $g->{status} == 404, "GET on the actions route: $g->{status}");
unchanged($desk, $S1, $snap, 'S1: none of that changed anything');
# the applicant's route and the counter registration
my $murl = "/api/v1/me/dossiers/$d{N}/actions";
error_is($app->request('POST', $murl, content => '{"action":', headers => { 'Content-Type' => 'application/json' }),
         400, 'MALFORMED_JSON', 'applicant action, malformed JSON: 400');
error_in(me_act($app, $d{N}, 'accept'), [ 400, 403, 409 ], [ 'INVALID_REQUEST', 'FORBIDDEN', 'ILLEGAL_TRANSITION' ],
         'an applicant cannot accept');
error_in(me_act($app, $d{N}, 'teleport'), [ 400, 409 ], [ 'INVALID_REQUEST', 'ILLEGAL_TRANSITION' ], 'applicant, unknown action');
error_is(me_act($app, $d{N}, 'withdraw', csrf => 'wrong'), 403, 'CSRF_FAILED', 'applicant, wrong CSRF token: 403');
error_in(me_act($app, 'abc', 'withdraw'), [ 400, 404 ], [ 'INVALID_DOSSIER_CODE', 'DOSSIER_NOT_FOUND' ], 'applicant, malformed code');
error_is(me_act($ho, $d{N}, 'withdraw'), 403, 'FORBIDDEN', 'an official on the applicant route: 403');
is(status_of(workflow_of($desk, $d{N})), 1, 'N still status 1');
error_is($desk->request('POST', '/api/v1/staff/dossiers', content => '{"procedure":', headers => { 'Content-Type' => 'application/json' }),
         400, 'MALFORMED_JSON', 'counter registration, malformed JSON: 400');
error_in(register_counter($desk, procedure => '9.999999.000.00.00.H41', files => []), [ 404, 422 ],
         [ 'UNKNOWN_PROCEDURE', 'PROCEDURE_NOT_FOUND' ], 'counter registration of an unknown procedure');
error_in(register_counter($desk, procedure => $P_SIMPLE, channel => 'pigeon', files => [ { sha256 => $res->{sha256}, component => 'TK' } ]),
         [ 400, 422 ], [ 'INVALID_REQUEST', 'INVALID_APPLICATION' ], 'counter registration with an unknown channel');

error_is(batch($ho, [ $S1 ], 'forward', note => 'x', csrf => 'wrong'), 403, 'CSRF_FAILED', 'batch, wrong CSRF token: 403');
error_is($ho->request('POST', '/api/v1/staff/actions', content => '{"codes":[', headers => { 'Content-Type' => 'application/json' }),
         400, 'MALFORMED_JSON', 'batch, malformed JSON: 400');
# batch limits
my $bj = batch($ho, [ map { $S1 } 1 .. 101 ], 'forward', note => 'x');
error_is($bj, 413, 'TOO_MANY_DOSSIERS', '101 codes in a batch: 413 TOO_MANY_DOSSIERS');
$bj = batch($ho, [], 'forward', note => 'x');
ok($bj->{status} == 400 || $bj->{status} == 422 || ($bj->{status} == 200 && !@{ $bj->{json}{results} // [1] }),
   "an empty batch: $bj->{status}");
$bj = batch($ho, [ 'abc', $S1 ], 'forward');
my $bjj = $bj->{json} // {};
ok(($bj->{status} == 400) || ($bj->{status} == 200 && @{ $bjj->{results} // [] } == 2 && !grep({ $_->{ok} } @{ $bjj->{results} })),
   "a batch with a bad code and no note: refused as a whole or item by item ($bj->{status})") or diag($bj->{content});
unchanged($desk, $S1, $snap, 'S1: unchanged');

outbox_check([ map { $d{$_} } qw(S1 S2 RES REF WD ST DONE HO IDEM IDEM2 RACE) ]);

clock_reset();
done_testing();
