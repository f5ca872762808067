#!/usr/bin/perl
# Online payment of fees (issue 5 item 5, DOMAIN A8; docs/exchange-payment.md,
# docs/contracts-exchange.md "Payment platform", "Edge endpoints partners call").
# Procedure 2.000488 (Phiếu lý lịch tư pháp, Sở Tư pháp, 200.000 đồng) has a
# beneficiary account (demo seed; ensured here): an online dossier gets status 6 at
# reception, handling actions are refused with 409 PAYMENT_REQUIRED, the applicant
# starts the payment (YeuCauThanhToan to the payment simulator), the simulator's
# signed voucher (BienLaiThanhToan) moves it on to status 2 with the e-receipt kept
# and shown. The voucher endpoint refuses, with nothing changed: a wrong content
# type, an empty, malformed, schema-invalid, XXE, billion-laughs and oversized body
# (also chunked), a bad signature, an unknown transaction, another dossier's code, a
# wrong amount and replays. Cancelled/failed vouchers keep the dossier at status 6.
# Two concurrent paid vouchers for one request: exactly one wins. Counter
# registrations are paid at the desk (no status 6). The platform down: 503.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time);
use POSIX ();
use JSON::PP ();
use HTTP::Tiny;
use Tthc::Test;
use Tthc::Flow;
use Tthc::Partners;

my $why = flow_skip_reason();
plan skip_all => $why if $why;
plan skip_all => 'no payment schema (payment_requests) yet'
  unless defined sql_value('SELECT COUNT(*) FROM payment_requests');
plan skip_all => 'the payment simulator is not running'
  unless partner_config('payment');

my $P = '2.000488.000.00.00.H41';
my $JSON = JSON::PP->new->utf8->canonical;

# the beneficiary account of the demo seed (a local setting): make sure it is there
sql("INSERT IGNORE INTO agency_accounts (agency_id, procedure_key, account_no, account_name, bank_code)"
  . " SELECT agency_id, id, '3511.0.9052341', 'Sở Tư pháp tỉnh H41 - thu phí, lệ phí', '01701001'"
  . " FROM procedures WHERE code = '$P'");
sql("UPDATE agency_accounts a JOIN procedures p ON p.id = a.procedure_key SET a.active = 1 WHERE p.code = '$P'");
# the fees as the catalogue has them now (200.000 đồng in the demo; a catalogue import may change them)
my $FEE = sql_value("SELECT SUM(amount) FROM procedure_fees f JOIN procedures p ON p.id = f.procedure_id WHERE p.code = '$P'") // 0;
my $NFEES = sql_value("SELECT COUNT(*) FROM procedure_fees f JOIN procedures p ON p.id = f.procedure_id WHERE p.code = '$P'") // 0;
ok($FEE > 0, "$P has fees ($FEE đồng)") or BAIL_OUT("$P has no fees");
(my $FEE_TEXT = reverse $FEE) =~ s/(\d{3})(?=\d)/$1./g;
$FEE_TEXT = reverse($FEE_TEXT) . ' đồng';

clock_reset();
partner_reset('payment');
my $desk = official($A31, 'desk_officer') or BAIL_OUT('no desk officer');
my $ho   = official($A31, 'handling_official') or BAIL_OUT('no handling official');
my $app  = applicant('cd-003') or BAIL_OUT('no applicant');
my $other = applicant('cd-002') or BAIL_OUT('no second applicant');

sub files_488 {
  return [ { name => 'TK', filename => 'to-khai.pdf', content_type => 'application/pdf', data => pdf_bytes() },
           { name => 'CMND', filename => 'cccd.pdf', content_type => 'application/pdf', data => pdf_bytes() } ];
}
sub submit_488 { return submit_online(client => $_[0] // $app, procedure => $P, files => files_488()) }

sub last_label { my ($code) = @_;
  return sql_value("SELECT h.label FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$code'"
                 . " ORDER BY h.id DESC LIMIT 1") // '' }
sub pay_start { my ($c, $code, %o) = @_; return $c->post_json("/api/v1/me/dossiers/$code/payment", {}, %o) }
sub preq { my ($code) = @_;
  return [ sql("SELECT r.transaction, r.state, r.platform_tx, r.amount, COALESCE(r.voucher_sha256, '')"
             . " FROM payment_requests r JOIN dossiers d ON d.id = r.dossier_id WHERE d.code = '$code' ORDER BY r.seq") ] }
sub pstate { my ($tx) = @_; return sql_value("SELECT state FROM payment_requests WHERE transaction = '$tx'") }
sub view_payment { my ($c, $code) = @_; my $v = $c->get(($c == $desk ? '/api/v1/staff/dossiers/' : '/api/v1/me/dossiers/') . $code);
  return $v->{status} == 200 && ref $v->{json} eq 'HASH' ? $v->{json}{payment} : undef }
# a refusal of the voucher endpoint, with nothing changed (dossier, history, requests)
# the simulator's answer (payment_pay) as an edge response
sub sim_res { my ($p) = @_; my $b = ($p // {})->{body} // '';
  utf8::encode($b) if utf8::is_utf8($b);
  return tjson({ status => ($p // {})->{http_status} // 0, content => $b, headers => { 'content-type' => 'application/json' } }) }
sub tjson { my ($res) = @_; $res->{json} = eval { $JSON->decode($res->{content} // '') }; return $res }
sub refused_voucher {
  my ($res, $status, $code, $dossier, $name) = @_;
  my $snap = snapshot($desk, $dossier);
  my $reqs = preq($dossier);
  $res = $res->() if ref $res eq 'CODE';
  tjson($res) unless exists $res->{json};
  error_is($res, $status, $code, $name);
  unchanged($desk, $dossier, $snap, "$name: the dossier did not change");
  is_deeply(preq($dossier), $reqs, "$name: the payment requests did not change");
}

# ------------------------------------------------------------------ reception -> status 6
my $D = submit_488();
ok($D, "an online dossier of $P") or BAIL_OUT('submission failed');
ok(wait_until(sub { view_of($desk, $D) }, 20), 'in the staff view');
my $ja = act_ok($desk, $D, 'accept', name => 'the desk accepts it');
is(status_of($ja), 6, 'status 6 (Yêu cầu thực hiện nghĩa vụ tài chính) instead of 2');
is($ja && $ja->{stage}, 'step', 'the handling step is open (the clock is not paused)');
ok($ja && $ja->{receipt} && $ja->{due_at}, 'with its receipt slip and appointment (T1, T2)');
like(last_label($D), qr/Yêu cầu thực hiện nghĩa vụ tài chính: \Q$FEE_TEXT\E/, 'history: the fee request with the amount');
is(sql_value("SELECT fee_amount FROM dossiers WHERE code = '$D'"), $FEE, 'the amount owed is frozen on the dossier');
my @ob = outbox_rows($D);
like($ob[-1][1] // '', qr/"TrangThai":\s*6/, 'the outbox carries status 6 to the national portal (X1)');
my $pv = view_payment($desk, $D);
is($pv && $pv->{state}, 'owed', 'staff view: payment owed');
is($pv && $pv->{amount}, $FEE, 'staff view: amount');
is($pv && scalar @{ $pv->{fees} // [] }, $NFEES, 'staff view: the fee lines');
my $sum = 0;
$sum += $_->{amount} for @{ ($pv // {})->{fees} // [] };
is($sum, $FEE, 'fee lines add up to the amount');
ok($pv && $pv->{due}, 'due');
is(view_payment($app, $D) && view_payment($app, $D)->{state}, 'owed', "the applicant's view: owed");

# ------------------------------------------------------------------ status 6 refuses handling
{
  my $s = snapshot($desk, $D);
  act_err($ho, $D, 'forward', 409, 'PAYMENT_REQUIRED', note => 'Hồ sơ hợp lệ', name => 'forward while unpaid: 409 PAYMENT_REQUIRED');
  act_err($ho, $D, 'handover', 409, 'PAYMENT_REQUIRED', note => 'x', to_official => $desk->{uid},
          name => 'handover while unpaid: 409 PAYMENT_REQUIRED');
  act_err($desk, $D, 'accept', 409, 'PAYMENT_REQUIRED', name => 'accept again: 409 PAYMENT_REQUIRED');
  unchanged($desk, $D, $s, 'nothing changed');
}

# ------------------------------------------------------------------ applicant starts the payment
error_is(pay_start($app, $D, no_csrf => 1), 403, 'CSRF_FAILED', 'payment start without the CSRF token: 403');
error_is(pay_start($other, $D), 404, 'DOSSIER_NOT_FOUND', "another applicant's dossier: 404");
error_is(pay_start($desk, $D), 403, 'FORBIDDEN', 'an official cannot start a payment: 403');
error_is(pay_start($app, "$A31-991231-9999"), 404, 'DOSSIER_NOT_FOUND', 'an unknown dossier: 404');
my $r = pay_start($app, $D);
is($r->{status}, 200, 'payment start: 200') or diag($r->{content});
my $st = $r->{json} // {};
is($st->{amount}, $FEE, 'amount');
like($st->{transaction} // '', qr/^TT\d+N1$/, 'our transaction id (MaGiaoDich)');
like($st->{payment_url} // '', qr{^http://127\.0\.0\.1:\d+/pay/}, "the platform's payment page");
my $r2 = pay_start($app, $D);
is($r2->{json} && $r2->{json}{transaction}, $st->{transaction}, 'a second click reuses the open request');
is($r2->{json} && $r2->{json}{payment_url}, $st->{payment_url}, '... and its payment page');
my $rec = partner_received('payment') // {};
my @items = grep { ($_->{key} // '') eq ($st->{transaction} // '-') } @{ $rec->{items} // [] };
is(scalar @items, 1, 'the platform received one request under Idempotency-Key = MaGiaoDich');
my ($tx1, $ptx1) = @{ (preq($D))->[0] // [] }[0, 2];
is(pstate($tx1), 'open', 'request open');
{
  my $xml = sql_value("SELECT request_xml FROM payment_requests WHERE transaction = '$tx1'") // '';
  like($xml, qr{<TongTien>$FEE</TongTien>}, 'YeuCauThanhToan: TongTien');
  like($xml, qr{<SoTaiKhoan>3511\.0\.9052341</SoTaiKhoan>}, 'YeuCauThanhToan: the beneficiary account');
  like($xml, qr{<MaDonViThuHuong>\Q$A31\E</MaDonViThuHuong>}, 'YeuCauThanhToan: the beneficiary agency');
  like($xml, qr{<DuongDanTraVe>http[^<]*\?hoso=\Q$D\E</DuongDanTraVe>}, 'YeuCauThanhToan: back to the dossier page');
}

# ------------------------------------------------------------------ hostile vouchers
my $V = '/api/v1/partners/payment/voucher';
my $good = sub {    # a schema-valid voucher for $D (signature not valid)
  my (%f) = @_;
  my %v = (MaGiaoDich => $tx1, MaGiaoDichNenTang => $ptx1, MaHoSo => $D, SoTien => $FEE, TrangThaiThanhToan => 1,
           ThoiDiemThanhToan => '20261128100000', KyHieuBienLai => 'BLTT26', SoBienLai => '0000001',
           MaTraCuuBienLai => 'ABC123', ChuKySo => 'AAAA' . ('A' x 84), %f);
  return '<?xml version="1.0" encoding="UTF-8"?><BienLaiThanhToan>'
       . join('', map { defined $v{$_} ? "<$_>$v{$_}</$_>" : '' }
              qw(MaGiaoDich MaGiaoDichNenTang MaHoSo SoTien TrangThaiThanhToan ThoiDiemThanhToan NguoiNop
                 KyHieuBienLai SoBienLai MaTraCuuBienLai DuongDanBienLai ChuKySo))
       . '</BienLaiThanhToan>';
};
refused_voucher(post_xml($V, $good->(), 'Content-Type' => 'text/plain'), 415, 'UNSUPPORTED_CONTENT_TYPE', $D,
                'voucher as text/plain: 415');
refused_voucher(sub { tjson(HTTP::Tiny->new->request('POST', "$BASE$V", { content => $good->() })) },
                415, 'UNSUPPORTED_CONTENT_TYPE', $D, 'voucher without a content type: 415');
refused_voucher(post_xml($V, ''), 400, 'XML_MALFORMED', $D, 'empty voucher: 400 XML_MALFORMED');
{
  my $g = tjson(HTTP::Tiny->new->request('GET', "$BASE$V"));
  error_is($g, 405, 'METHOD_NOT_ALLOWED', 'GET on the voucher endpoint: 405');
  is($g->{headers}{allow}, 'POST', 'Allow: POST');
  error_is(tjson(post_xml('/api/v1/partners/payment/other', $good->())), 404, 'NOT_FOUND', 'an unknown partner path: 404');
  error_is(tjson(post_xml('/api/v1/partners/postal/tracking', '<x/>', 'Content-Type' => 'application/json')), 415,
           'UNSUPPORTED_CONTENT_TYPE', 'the postal tracking endpoint: the same edge rules (415)');
  error_is(tjson(post_xml('/api/v1/partners/postal/tracking', '')), 400, 'XML_MALFORMED', '... (empty: 400)');
  error_is(tjson(post_xml('/api/v1/partners/postal/tracking', 'x' x (64 * 1024 + 1))), 413, 'REQUEST_TOO_LARGE', '... (413)');
  # a partner call needs no session and no CSRF token, even with a foreign Origin
  error_is(tjson(post_xml($V, $good->(), Origin => 'https://evil.example')), 401, 'BAD_SIGNATURE',
           'no CSRF check on partner routes (the signature decides)');
}
refused_voucher(post_xml($V, '<BienLaiThanhToan><MaGiaoDich>' . $tx1), 400, 'XML_MALFORMED', $D,
                'malformed voucher: 400 XML_MALFORMED');
refused_voucher(post_xml($V, $good->(SoTien => undef)), 400, 'XML_INVALID', $D,
                'voucher without SoTien: 400 XML_INVALID');
refused_voucher(post_xml($V, $good->(TrangThaiThanhToan => 4)), 400, 'XML_INVALID', $D,
                'voucher with status 4: 400 XML_INVALID');
refused_voucher(post_xml($V, $good->(ThoiDiemThanhToan => '2026-11-28')), 400, 'XML_INVALID', $D,
                'voucher with an ISO date: 400 XML_INVALID');
refused_voucher(post_xml($V, '<?xml version="1.0"?><!DOCTYPE BienLaiThanhToan [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                         . '<BienLaiThanhToan><MaGiaoDich>&x;</MaGiaoDich></BienLaiThanhToan>'),
                400, 'XML_FORBIDDEN', $D, 'XXE: 400 XML_FORBIDDEN');
{
  my $ents = '<!ENTITY lol0 "lol">';
  $ents .= "<!ENTITY lol$_ \"" . ('&lol' . ($_ - 1) . ';') x 10 . '">' for 1 .. 9;
  refused_voucher(post_xml($V, "<?xml version=\"1.0\"?><!DOCTYPE BienLaiThanhToan [$ents]>"
                           . '<BienLaiThanhToan><MaGiaoDich>&lol9;</MaGiaoDich></BienLaiThanhToan>'),
                  400, 'XML_FORBIDDEN', $D, 'billion laughs: 400 XML_FORBIDDEN');
}
refused_voucher(post_xml($V, ('<a>' x 70) . ('</a>' x 70)), 400, 'XML_FORBIDDEN', $D, 'nesting 70 deep: 400 XML_FORBIDDEN');
{
  my $big = $good->(NguoiNop => 'x' x (65 * 1024));
  refused_voucher(post_xml($V, $big), 413, 'REQUEST_TOO_LARGE', $D, 'a 65 KiB voucher: 413 REQUEST_TOO_LARGE');
  my $exact = $good->(NguoiNop => 'x');
  $exact .= ' ' x (64 * 1024 + 1 - length $exact);
  refused_voucher(post_xml($V, $exact), 413, 'REQUEST_TOO_LARGE', $D, '64 KiB + 1 byte: 413');
  # chunked: refused as soon as it passes the limit, without the rest being sent
  my $sent = 0;
  my $t0 = time;
  my $res = HTTP::Tiny->new(timeout => 20)->request('POST', "$BASE$V", {
    headers => { 'Content-Type' => 'application/xml' },
    content => sub { return undef if $sent >= 8 * 1024 * 1024; $sent += 16384; return 'x' x 16384 } });
  refused_voucher($res, 413, 'REQUEST_TOO_LARGE', $D, 'a chunked 8 MiB voucher: 413');
  ok(time - $t0 < 15, 'answered quickly');
}
refused_voucher(post_xml($V, $good->()), 401, 'BAD_SIGNATURE', $D, 'a voucher not signed by the platform: 401 BAD_SIGNATURE');
{
  my $p = payment_pay(tx => $ptx1, status => 1, tamper => 1);
  refused_voucher(sim_res($p),
                  401, 'BAD_SIGNATURE', $D, 'a tampered signature: 401 BAD_SIGNATURE');
  $p = payment_pay(tx => $ptx1, status => 1, ma_giao_dich => 'TT999999N1');
  refused_voucher(sim_res($p),
                  404, 'DOSSIER_NOT_FOUND', $D, 'signed, for an unknown transaction: 404 DOSSIER_NOT_FOUND');
  $p = payment_pay(tx => $ptx1, status => 1, ma_ho_so => "$A31-991231-9999");
  refused_voucher(sim_res($p),
                  404, 'DOSSIER_NOT_FOUND', $D, "signed, with another dossier's code: 404 DOSSIER_NOT_FOUND");
  $p = payment_pay(tx => $ptx1, status => 1, amount_override => $FEE + 1000);
  refused_voucher(sim_res($p),
                  422, 'AMOUNT_MISMATCH', $D, 'signed, with a wrong amount: 422 AMOUNT_MISMATCH');
}
is(status_of(workflow_of($desk, $D)), 6, 'still status 6 after all of them');

# ------------------------------------------------------------------ cancelled, then a new attempt
{
  my $s = snapshot($desk, $D);
  my $p = payment_pay(tx => $ptx1, status => 3);
  is($p && $p->{http_status}, 200, 'a cancelled voucher (status 3) is taken: 200');
  is(pstate($tx1), 'cancelled', 'recorded on the request');
  unchanged($desk, $D, $s, 'the dossier stays at status 6');
  $p = payment_pay(replay => 1, tx => $ptx1);
  refused_voucher(sim_res($p),
                  409, 'REPLAYED_MESSAGE', $D, 'the same voucher again: 409 REPLAYED_MESSAGE');
  $p = payment_pay(tx => $ptx1, status => 1);
  refused_voucher(sim_res($p),
                  409, 'REPLAYED_MESSAGE', $D, 'a paid voucher for the settled request: 409 REPLAYED_MESSAGE');
}
my $r3 = pay_start($app, $D);
is($r3->{status}, 200, 'the applicant tries again: 200');
like($r3->{json} && $r3->{json}{transaction} // '', qr/^TT\d+N2$/, 'a new request (seq 2)');
isnt($r3->{json} && $r3->{json}{payment_url}, $st->{payment_url}, 'with a new payment page');
my ($tx2, $ptx2) = @{ (preq($D))->[1] // [] }[0, 2];

# ------------------------------------------------------------------ a failed attempt, then paid on the same page
{
  my $s = snapshot($desk, $D);
  my $p = payment_pay(tx => $ptx2, status => 2);
  is($p && $p->{http_status}, 200, 'a failed attempt (status 2) is taken: 200');
  is(pstate($tx2), 'failed', 'recorded on the request');
  unchanged($desk, $D, $s, 'the dossier stays at status 6');
  $p = payment_pay(tx => $ptx2, status => 3);
  refused_voucher(sim_res($p), 409, 'REPLAYED_MESSAGE', $D,
                  'after a failed attempt, a cancellation: 409 REPLAYED_MESSAGE');
}

# ------------------------------------------------------------------ paid (after the failed attempt): the round trip
{
  my $hist = history_count($D);
  my $p = payment_pay(tx => $ptx2, status => 1, payer => 'Nguyễn Văn Nộp');
  is($p && $p->{http_status}, 200, 'the paid voucher (status 1) is taken: 200') or diag(explain($p));
  is($p && $JSON->decode($p->{body} // '{}')->{ok}, JSON::PP::true, '{"ok":true}') if $p && ($p->{body} // '') =~ /^\{/;
  is(pstate($tx2), 'paid', 'request paid');
  my $wf = workflow_of($desk, $D);
  is(status_of($wf), 2, 'the dossier moves on to status 2 (as after an acceptance)');
  is(step_of($wf), 1, 'at step 1');
  is(history_count($D), $hist + 1, 'one history entry');
  my $lab = last_label($D);
  like($lab, qr/Đã hoàn thành nghĩa vụ tài chính/, 'history: "Đã hoàn thành nghĩa vụ tài chính"');
  my ($series, $no, $lookup) = $p->{sent} =~ m{<KyHieuBienLai>(.*?)</KyHieuBienLai><SoBienLai>(.*?)</SoBienLai><MaTraCuuBienLai>(.*?)</MaTraCuuBienLai>};
  like($lab, qr/\Q$no\E/, 'with the receipt number') if $no;
  my @o = outbox_rows($D);
  like($o[-1][1] // '', qr/"TrangThai":\s*2/, 'the outbox carries the move on (status 2)');
  is(sql_value("SELECT COUNT(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$D' AND o.kind = 'history'"),
     history_count($D), 'one outbox row per history entry (X1)');
  is(sql_value("SELECT actor_kind FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$D'"
             . " ORDER BY h.id DESC LIMIT 1"), 'system', 'written by the system (the platform)');
  for my $c ($desk, $app) {
    my $v = view_payment($c, $D);
    is($v && $v->{state}, 'paid', ($c == $desk ? 'staff' : 'applicant') . ' view: paid');
    is($v && $v->{receipt} && $v->{receipt}{SoBienLai}, $no, '... with the receipt number');
    is($v && $v->{receipt} && $v->{receipt}{KyHieuBienLai}, $series, '... the receipt series');
    is($v && $v->{receipt} && $v->{receipt}{MaTraCuuBienLai}, $lookup, '... the lookup code');
    like($v && $v->{receipt} && $v->{receipt}{DuongDanBienLai} // '', qr{^http}, '... the receipt link');
    ok($v && $v->{receipt} && $v->{receipt}{paid_at}, '... and when it was paid');
  }
  is(sql_value("SELECT receipt_no FROM payment_requests WHERE transaction = '$tx2'"), $no, 'e-receipt data kept');
  my $payer = 'Nguyễn Văn Nộp';
  utf8::encode($payer);
  ok(!grep({ log_contains($_, $payer) } glob("$ROOT/log/worker-*.log"), glob("$ROOT/log/nginx*.log")),
     "the payer's name is not in the logs");
  my $s = snapshot($desk, $D);
  $p = payment_pay(replay => 1, tx => $ptx2);
  refused_voucher(sim_res($p),
                  409, 'REPLAYED_MESSAGE', $D, 'the paid voucher replayed: 409 REPLAYED_MESSAGE');
  error_is(pay_start($app, $D), 409, 'PAYMENT_NOT_DUE', 'paying again: 409 PAYMENT_NOT_DUE');
  my $j = act_ok($ho, $D, 'forward', note => 'Hồ sơ hợp lệ, đề nghị phê duyệt', name => 'now the handling goes on');
  is(status_of($j), 4, 'status 4');
}

# ------------------------------------------------------------------ two paid vouchers at once
{
  my $E = submit_488();
  ok($E && act_ok($desk, $E, 'accept', name => 'a second dossier accepted (status 6)'), 'second dossier');
  my $ps = pay_start($app, $E);
  my ($ptx) = @{ (preq($E))->[0] // [] }[2];
  ok($ptx, 'its payment request is open') or diag($ps->{content});
  my @kids;
  for my $i (1, 2) {
    pipe(my $rd, my $wr) or die;
    my $pid = fork();
    if ($pid == 0) {
      close $rd;
      my $x = payment_pay(tx => $ptx, status => 1);
      print $wr ($x ? $x->{http_status} : 0);
      close $wr;
      POSIX::_exit(0);
    }
    close $wr;
    push @kids, [ $pid, $rd ];
  }
  my @codes;
  for my $k (@kids) { my $fh = $k->[1]; local $/; push @codes, <$fh> // 0; waitpid($k->[0], 0) }
  is(join(',', sort @codes), '200,409', 'two concurrent paid vouchers: one 200, one 409 REPLAYED_MESSAGE');
  is(status_of(workflow_of($desk, $E)), 2, 'the dossier moved on once');
  is(sql_value("SELECT COUNT(*) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$E'"
             . " AND h.action = 'payment'"), 1, 'one payment history entry');
}

# ------------------------------------------------------------------ endings while unpaid
{
  my $F = submit_488();
  act_ok($desk, $F, 'accept', name => 'a third dossier accepted (status 6)');
  act_err($desk, $F, 'refuse_reception', 422, 'NOTE_REQUIRED', name => 'refuse_reception needs a note');
  my $j = act_ok($desk, $F, 'refuse_reception', note => 'Không nộp phí, lệ phí', name => 'the desk refuses it while unpaid');
  is(status_of($j), 3, 'status 3');
  error_is(pay_start($app, $F), 409, 'PAYMENT_NOT_DUE', 'no payment for a refused dossier: 409 PAYMENT_NOT_DUE');
  my $G = submit_488();
  act_ok($desk, $G, 'accept', name => 'a fourth dossier accepted (status 6)');
  my $w = me_act_ok($app, $G, 'withdraw', name => 'the applicant withdraws it while unpaid');
  is(status_of($w), 7, 'status 7');
}

# ------------------------------------------------------------------ the counter: paid at the desk
{
  my $tk = upload_ok($desk, 'to-khai.pdf');
  my $cm = upload_ok($desk, 'cccd.pdf');
  my $rr = register_counter($desk, procedure => $P, result_channel => 'desk',
                            applicant => { type => 'citizen', name => 'Trần Văn Quầy', identity_number => '040090005555' },
                            form => { ly_do => 'Xin việc' },
                            files => [ { sha256 => $tk->{sha256}, component => 'TK' }, { sha256 => $cm->{sha256}, component => 'CMND' } ]);
  is($rr->{status}, 201, 'a counter registration of the same procedure') or diag($rr->{content});
  is(status_of($rr->{json}), 2, 'status 2: fees are collected at the desk (no status 6)') if $rr->{json};
}

# ------------------------------------------------------------------ the platform down
{
  my $H = submit_488();
  act_ok($desk, $H, 'accept', name => 'a fifth dossier accepted (status 6)');
  partner_config('payment', down => 1);
  my $t0 = time;
  error_is(pay_start($app, $H), 503, 'PARTNER_UNAVAILABLE', 'the platform down: 503 PARTNER_UNAVAILABLE');
  ok(time - $t0 < 9, 'within the RPC deadline');
  partner_config('payment', down => 0, fail_rate => 1, fail_modes => ['slow'], slow_ms => 7000);
  $t0 = time;
  error_is(pay_start($app, $H), 503, 'PARTNER_UNAVAILABLE', 'the platform too slow (7 s): 503 PARTNER_UNAVAILABLE');
  my $dt = time - $t0;
  ok($dt >= 4 && $dt < 9, "after the 5 s timeout, within the 10 s RPC deadline ($dt s)");
  partner_config('payment', fail_rate => 0);
  my $rr = pay_start($app, $H);
  is($rr->{status}, 200, 'back up: the same request goes through') or diag($rr->{content});
  like($rr->{json} && $rr->{json}{transaction} // '', qr/N1$/, 'still the first request (same Idempotency-Key)');
  my $got = partner_received('payment') // {};
  my %keys = map { ($_->{key} // '') => 1 } @{ $got->{items} // [] };
  ok($keys{ $rr->{json}{transaction} // '-' }, 'the platform holds it once under its key') if $rr->{json};
  partner_reset('payment');
}

done_testing();
