#!/usr/bin/perl
# The partner simulators themselves (sim/partners/partners_sim.py; docs/contracts-exchange.md):
# the national portal, the postal operator and the payment platform answer as the contract
# says (bearer token, Idempotency-Key, replies), store each message once per key, count
# conflicts, and their test controls work: fail_rate (seeded), every failure mode, down,
# reject_contains, forget, the reconciliation reply, the catalogue's ETag, the payer's page,
# signed vouchers and tracking updates, persistence over a restart, reset.
# tthc's own handling of the partners' callbacks is tested elsewhere.
# The stack's workers may still be delivering earlier tests' messages to the portal meanwhile:
# every check here looks at its own dossier codes (dated 2024, never today's) and keys only,
# and the seeded run is on the postal simulator, which nothing else calls.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64);
use Time::HiRes qw(time sleep);
use Tthc::Test;
use Tthc::Partners;

my $C1 = '000.00.31.H41-240102-0001';
my $C2 = '000.00.31.H41-240102-0002';
my $C3 = '000.00.31.H41-240102-0003';

sub hoso_xml {
  my ($code, $st, $extra) = @_;
  return qq{<?xml version="1.0" encoding="UTF-8"?>\n<HoSo><MaHoSo>$code</MaHoSo><MaTTHC>1.000001.000.00.00.H41</MaTTHC>}
       . qq{<TenTTHC>Cấp bản sao trích lục hộ tịch</TenTTHC><TrangThaiHoSo>$st</TrangThaiHoSo>}
       . ($extra // '') . qq{</HoSo>\n};
}
sub tientrinh_xml {
  my ($code, $st, $text) = @_;
  return qq{<?xml version="1.0" encoding="UTF-8"?>\n<TienTrinhXuLy><MaHoSo>$code</MaHoSo><NguoiXuLy>Trần Thị Bình</NguoiXuLy>}
       . qq{<ThoiDiemXuLy>20260105090000</ThoiDiemXuLy><NoiDungXuLy>${\ ($text // 'Tiếp nhận')}</NoiDungXuLy>}
       . qq{<TrangThai>$st</TrangThai><NgayBatDau>20260105090000</NgayBatDau></TienTrinhXuLy>\n};
}
sub order_xml {
  my ($code, $type) = @_;
  return qq{<?xml version="1.0" encoding="UTF-8"?>\n<DonHangBuuChinh><MaHoSo>$code</MaHoSo><LoaiDonHang>$type</LoaiDonHang>}
       . qq{<MoTa>Chuyển trả kết quả</MoTa><SoTienThuHo>0</SoTienThuHo><NgayTao>20260105090000</NgayTao></DonHangBuuChinh>\n};
}
sub payreq_xml {
  my ($tx, $code, $amount) = @_;
  return qq{<?xml version="1.0" encoding="UTF-8"?>\n<YeuCauThanhToan><MaGiaoDich>$tx</MaGiaoDich><MaHoSo>$code</MaHoSo>}
       . qq{<MaTTHC>1.000001.000.00.00.H41</MaTTHC><TongTien>$amount</TongTien>}
       . qq{<NoiDungThanhToan>Lệ phí hồ sơ $code</NoiDungThanhToan><NgayTao>20260105090000</NgayTao>}
       . qq{<ThoiHanThanhToan>20260112090000</ThoiHanThanhToan><DuongDanTraVe>$BASE/ho-so/$code</DuongDanTraVe></YeuCauThanhToan>\n};
}
sub portal_post {
  my ($path, $body, $key, %o) = @_;
  return partner_request('portal', 'POST', $path, body => $body, key => $key, %o);
}
sub maloi { my ($c) = @_; return ($c // '') =~ m{<MaLoi>([^<]*)</MaLoi>} ? $1 : undef }
sub el { my ($xml, $name) = @_; return ($xml // '') =~ m{<$name>([^<]*)</$name>} ? $1 : undef }
sub text_of { my ($b) = @_; my $t = $b // ''; utf8::decode($t); return $t }
sub items { my ($name, %f) = @_; my $r = partner_received($name, %f); return $r ? @{ $r->{items} } : () }

# ------------------------------------------------------------------ health, reset, tokens
for my $p (qw(portal postal payment)) {
  my $r = HTTP::Tiny->new(timeout => 5)->get(partner_url($p) . '/_sim/health');
  is($r->{status}, 200, "$p simulator answers /_sim/health on " . partner_url($p))
    or diag("is the stack up with the partner simulators? ($ROOT)");
}
ok(partners_reset_all(), 'the three simulators reset');
is_deeply([ scalar items('postal'), scalar items('payment'), scalar items('portal', ma_ho_so => $C1) ], [0, 0, 0],
          'nothing stored after reset');

for my $case (['portal', '/dvc/v1/hoso', hoso_xml($C1, 1)],
              ['postal', '/vnpost/v1/donhang', order_xml($C1, 2)],
              ['payment', '/payment/v1/yeucau', payreq_xml('GD-TOK', $C1, 1000)]) {
  my ($p, $path, $xml) = @$case;
  my $r = partner_request($p, 'POST', $path, body => $xml, key => 'k-tok', token => '');
  is($r->{status}, 401, "$p: no bearer token -> 401");
  is(maloi($r->{content}), '401', "$p: KetQua MaLoi 401");
  $r = partner_request($p, 'POST', $path, body => $xml, key => 'k-tok', token => 'not-the-token');
  is($r->{status}, 401, "$p: a wrong token -> 401");
  is(scalar items($p, key => 'k-tok'), 0, "$p: nothing stored without the token");
}
{
  my $r = partner_request('portal', 'GET', "/dvc/v1/hoso/$C1", token => '');
  is($r->{status}, 401, 'portal: GET hoso without a token -> 401');
  $r = partner_request('portal', 'GET', '/dvc/v1/thutuc', token => 'wrong');
  is($r->{status}, 401, 'portal: GET thutuc with a wrong token -> 401');
}

# ------------------------------------------------------------------ idempotent store
{
  my $xml = hoso_xml($C1, 2);
  my $r1 = portal_post('/dvc/v1/hoso', $xml, "$C1:1");
  is($r1->{status}, 200, 'portal: HoSo accepted');
  is(maloi($r1->{content}), '0', 'portal: KetQua MaLoi 0');
  like(text_of($r1->{content}), qr{<MoTa>Thành công</MoTa>}, 'portal: MoTa Thành công');
  my $r2 = portal_post('/dvc/v1/hoso', $xml, "$C1:1");
  is($r2->{status}, 200, 'the same key and body again -> 200');
  is($r2->{content}, $r1->{content}, 'the same reply as the first time');
  my @it = items('portal', key => "$C1:1");
  is(scalar @it, 1, 'stored once');
  is($it[0]{deliveries}, 2, 'deliveries 2');
  is($it[0]{kind}, 'hoso', 'kind hoso');
  is($it[0]{ma_ho_so}, $C1, 'ma_ho_so recorded');
  is($it[0]{body}, $xml, 'body recorded as received');
  ok($it[0]{seq} && $it[0]{at}, 'seq and at recorded');

  my $conflicts = partner_received('portal')->{conflicts};
  my $r3 = portal_post('/dvc/v1/hoso', hoso_xml($C1, 4), "$C1:1");
  is($r3->{status}, 409, 'the same key with another body -> 409');
  is(maloi($r3->{content}), '409', 'KetQua MaLoi 409');
  my $rcv = partner_received('portal');
  is($rcv->{conflicts}, $conflicts + 1, 'conflicts counted');
  @it = items('portal', key => "$C1:1");
  is(scalar @it, 1, 'still one record');
  is($it[0]{body}, $xml, 'the first body is kept');
  is($it[0]{deliveries}, 2, 'a conflict is not a delivery');

  my $r = portal_post('/dvc/v1/hoso', hoso_xml($C2, 1), undef);
  is($r->{status}, 400, 'no Idempotency-Key -> 400');
  $r = portal_post('/dvc/v1/hoso', qq{<?xml version="1.0"?>\n<!DOCTYPE HoSo [<!ENTITY x "y">]>\n<HoSo><MaHoSo>$C2</MaHoSo></HoSo>}, 'k-dt');
  is($r->{status}, 400, 'a DOCTYPE -> 400');
  is(maloi($r->{content}), '400', 'KetQua MaLoi 400');
  $r = portal_post('/dvc/v1/hoso', tientrinh_xml($C2, 2), 'k-root');
  is($r->{status}, 400, 'the wrong root element -> 400');
  $r = portal_post('/dvc/v1/tientrinh', '<TienTrinhXuLy><NguoiXuLy>X</NguoiXuLy></TienTrinhXuLy>', 'k-noc');
  is($r->{status}, 400, 'no MaHoSo -> 400');
  $r = portal_post('/dvc/v1/hoso', '<HoSo><MaHoSo>', 'k-bad');
  is($r->{status}, 400, 'malformed XML -> 400');
  $r = portal_post('/dvc/v1/hoso', hoso_xml($C2, 1, '<X>' . ('A' x (1024 * 1024)) . '</X>'), 'k-big');
  is($r->{status}, 413, 'a body over 1 MiB -> 413');
  is(scalar(items('portal', ma_ho_so => $C2)), 0, 'none of the refused messages was stored');
  $rcv = partner_received('portal');
  ok($rcv->{calls} >= 8 && $rcv->{failed_calls} >= 6, "calls ($rcv->{calls}) and failed_calls ($rcv->{failed_calls}) counted");
}

# ------------------------------------------------------------------ fail_rate with a seed
{
  my @runs;
  for my $run (1, 2) {
    ok(partner_config('postal', fail_rate => 0.5, fail_modes => ['500'], seed => 42), "run $run: fail_rate 0.5, seed 42");
    my @st;
    for my $i (1 .. 16) {
      push @st, partner_request('postal', 'POST', '/vnpost/v1/donhang', body => order_xml($C3, 1 + $i % 2),
                                key => "$C3:r$run-$i")->{status};
    }
    push @runs, \@st;
  }
  is_deeply($runs[0], $runs[1], 'the same seed gives the same failures: ' . join(',', @{ $runs[0] }));
  my $n500 = grep { $_ == 500 } @{ $runs[0] };
  my $n200 = grep { $_ == 200 } @{ $runs[0] };
  ok($n500 > 0 && $n200 > 0 && $n500 + $n200 == 16, "both outcomes ($n200 x 200, $n500 x 500)");
  is(scalar(items('postal', kind => 'order', ma_ho_so => $C3)), 2 * $n200, 'only the accepted ones stored');
  ok(partner_config('postal', fail_rate => 0), 'postal: fail_rate 0');
  ok(partner_reset('postal'), 'postal reset');
  my $cfg = partner_config('portal', fail_rate => 0);
  is($cfg->{fail_rate}, 0, 'fail_rate back to 0');
  is_deeply(partner_config('portal'), $cfg, 'GET /_sim/config');
  ok(!partner_config('portal', fail_rate => 2), 'fail_rate 2 refused');
  ok(!partner_config('portal', fail_modes => ['nope']), 'an unknown mode refused');
}

# ------------------------------------------------------------------ failure modes
{
  my $n = 0;
  my $try = sub {
    my ($mode, %o) = @_;
    partner_config('portal', fail_rate => 1, fail_modes => [$mode], %{ $o{cfg} // {} });
    my $key = "k-mode-$mode-" . ++$n;
    my $r = portal_post('/dvc/v1/hoso', hoso_xml($C2, 2), $key, %{ $o{req} // {} });
    partner_config('portal', fail_rate => 0);
    return ($r, $key);
  };
  my ($r, $key) = $try->('500');
  is($r->{status}, 500, 'mode 500 -> 500');
  is(scalar(items('portal', key => $key)), 0, 'mode 500: not stored');
  ($r, $key) = $try->('503');
  is($r->{status}, 503, 'mode 503 -> 503');
  is(scalar(items('portal', key => $key)), 0, 'mode 503: not stored');
  ($r, $key) = $try->('drop');
  is($r->{status}, 599, 'mode drop -> the connection closes without an answer');
  like($r->{content}, qr/closed|reset|EOF|Unexpected end/i, 'drop: connection error (' . substr($r->{content}, 0, 60) . ')');
  is(scalar(items('portal', key => $key)), 0, 'mode drop: not stored');
  ($r, $key) = $try->('malformed');
  is($r->{status}, 200, 'mode malformed -> 200');
  unlike($r->{content}, qr{</KetQua>}, 'malformed: the XML is cut');
  ($r, $key) = $try->('oversized');
  is($r->{status}, 200, 'mode oversized -> 200');
  ok(length($r->{content}) >= 2 * 1024 * 1024, 'oversized: a 2 MiB body (' . length($r->{content}) . ' bytes)');
  ($r, $key) = $try->('hostile');
  is($r->{status}, 200, 'mode hostile -> 200');
  like($r->{content}, qr/<!DOCTYPE/, 'hostile: a DOCTYPE');
  like($r->{content}, qr/<!ENTITY xxe SYSTEM "file:/, 'hostile: an external entity (XXE)');
  like($r->{content}, qr/<!ENTITY lol9 /, 'hostile: billion laughs');
  is(scalar(items('portal', key => $key)), 0, 'hostile: not stored');

  my $t0 = time;
  ($r, $key) = $try->('slow', cfg => { slow_ms => 1500 }, req => { timeout => 0.5 });
  is($r->{status}, 599, 'mode slow, slower than the client -> a timeout');
  ok(wait_until(sub { scalar items('portal', key => $key) }, 5, 0.2), 'slow: answered late, but stored');
  $t0 = time;
  ($r, $key) = $try->('slow', cfg => { slow_ms => 600 });
  is($r->{status}, 200, 'mode slow, a patient client -> 200');
  ok(time - $t0 >= 0.55, sprintf('slow: after %.2fs', time - $t0));

  ($r, $key) = $try->('after');
  is($r->{status}, 500, 'mode after -> 500');
  my @it = items('portal', key => $key);
  is(scalar @it, 1, 'after: stored all the same');
  $r = portal_post('/dvc/v1/hoso', hoso_xml($C2, 2), $key);
  is($r->{status}, 200, 'after: the retry is answered 200');
  is(maloi($r->{content}), '0', 'after: MaLoi 0');
  @it = items('portal', key => $key);
  is($it[0]{deliveries}, 2, 'after: the retry is a second delivery of one message');

  partner_config('portal', down => 1);
  $r = portal_post('/dvc/v1/hoso', hoso_xml($C2, 2), 'k-down');
  is($r->{status}, 503, 'down: POST -> 503');
  is(partner_request('portal', 'GET', '/dvc/v1/thutuc')->{status}, 503, 'down: GET thutuc -> 503');
  is(partner_request('portal', 'GET', '/_sim/health', token => '')->{status}, 200, 'down: the controls still answer');
  partner_config('portal', down => 0);
  is(portal_post('/dvc/v1/hoso', hoso_xml($C2, 2), 'k-down')->{status}, 200, 'up again: 200');

  partner_config('postal', fail_rate => 1, fail_modes => ['503']);
  is(partner_request('postal', 'POST', '/vnpost/v1/donhang', body => order_xml($C2, 2), key => 'k-p503')->{status}, 503,
     'the config is per partner: postal fails');
  is(portal_post('/dvc/v1/hoso', hoso_xml($C2, 3), 'k-portal-ok')->{status}, 200, '... while the portal does not');
  partner_config('postal', fail_rate => 0);
}

# ------------------------------------------------------------------ reject_contains
{
  my $cfg = partner_config('portal', reject_contains => 'THUOC-DOC');
  is($cfg->{reject_contains}, 'THUOC-DOC', 'reject_contains set');
  my $r = portal_post('/dvc/v1/tientrinh', tientrinh_xml($C2, 4, 'THUOC-DOC'), 'k-poison');
  is($r->{status}, 400, 'a poisoned message -> 400');
  is(maloi($r->{content}), '400', 'MaLoi 400');
  is(scalar(items('portal', key => 'k-poison')), 0, 'not stored');
  is(portal_post('/dvc/v1/tientrinh', tientrinh_xml($C2, 4, 'Bình thường'), 'k-clean')->{status}, 200, 'another message passes');
  partner_config('portal', reject_contains => undef);
  is(portal_post('/dvc/v1/tientrinh', tientrinh_xml($C2, 4, 'THUOC-DOC'), 'k-poison')->{status}, 200, 'reject_contains null: accepted');
}

# ------------------------------------------------------------------ reconciliation (DoiSoatHoSo) and forget
{
  ok(partner_reset('portal'), 'portal reset');
  portal_post('/dvc/v1/hoso', hoso_xml($C1, 2), "$C1:10");
  portal_post('/dvc/v1/tientrinh', tientrinh_xml($C1, 2, 'Tiếp nhận'), "$C1:11");
  portal_post('/dvc/v1/tientrinh', tientrinh_xml($C1, 4, 'Chuyển xử lý'), "$C1:12");
  portal_post('/dvc/v1/hoso', hoso_xml($C1, 4), "$C1:13");
  portal_post('/dvc/v1/tientrinh', tientrinh_xml($C2, 2), "$C2:20");
  my $r = partner_request('portal', 'GET', "/dvc/v1/hoso/$C1");
  is($r->{status}, 200, 'GET /dvc/v1/hoso/{MaHoSo} -> 200');
  is(el($r->{content}, 'MaHoSo'), $C1, 'DoiSoatHoSo MaHoSo');
  is(el($r->{content}, 'TrangThaiHoSo'), '4', 'TrangThaiHoSo of the latest HoSo');
  is_deeply([ $r->{content} =~ m{<Khoa>([^<]*)</Khoa>}g ], ["$C1:11", "$C1:12"], 'the history keys in arrival order');
  like($r->{content}, qr{^<\?xml[^>]*>\s*<DoiSoatHoSo><MaHoSo>.*</MaHoSo><TrangThaiHoSo>.*</TrangThaiHoSo><DanhSachTienTrinh>.*</DanhSachTienTrinh></DoiSoatHoSo>\s*$}s,
       'DoiSoatHoSo element order');
  ok(portal_forget("$C1:11"), 'forget one history entry');
  ok(!portal_forget('no-such-key'), 'forget an unknown key -> false');
  $r = partner_request('portal', 'GET', "/dvc/v1/hoso/$C1");
  is_deeply([ $r->{content} =~ m{<Khoa>([^<]*)</Khoa>}g ], ["$C1:12"], 'the forgotten entry is gone');
  is(scalar(items('portal', ma_ho_so => $C1)), 3, 'three messages of the dossier left');
  ok(portal_forget("$C1:13"), 'forget the latest HoSo');
  is(el(partner_request('portal', 'GET', "/dvc/v1/hoso/$C1")->{content}, 'TrangThaiHoSo'), '2', 'the status falls back to the earlier HoSo');
  is(partner_request('portal', 'GET', "/dvc/v1/hoso/$C3")->{status}, 404, 'an unknown dossier -> 404');
  is(scalar(grep { $_->{ma_ho_so} eq $C1 || $_->{ma_ho_so} eq $C2 } items('portal', kind => 'tientrinh')), 2,
     'received?kind=tientrinh');
  is(scalar(items('portal', kind => 'tientrinh', ma_ho_so => $C2)), 1, 'received?kind&ma_ho_so');
}

# ------------------------------------------------------------------ catalogue (ETag, 304)
{
  my $cat = qq{<?xml version="1.0" encoding="UTF-8"?>\n<DanhSachThuTuc><ThuTuc><MaTTHC>1.000001.000.00.00.H41</MaTTHC>}
          . qq{<TenTTHC>Cấp bản sao trích lục hộ tịch</TenTTHC></ThuTuc></DanhSachThuTuc>\n};
  my $bytes = $cat; utf8::encode($bytes);
  my $put = portal_put_catalogue($cat);
  ok($put && $put->{ok}, 'PUT /_sim/catalogue');
  my $etag = '"' . sha256_hex($bytes) . '"';
  is($put->{etag}, $etag, 'its ETag');
  my $r = partner_request('portal', 'GET', '/dvc/v1/thutuc');
  is($r->{status}, 200, 'GET /dvc/v1/thutuc -> 200');
  is($r->{content}, $bytes, 'the catalogue as put');
  is($r->{headers}{etag}, $etag, 'ETag = "sha256 hex of the body"');
  $r = partner_request('portal', 'GET', '/dvc/v1/thutuc', headers => { 'If-None-Match' => $etag });
  is($r->{status}, 304, 'If-None-Match with the ETag -> 304');
  is($r->{content} // '', '', '304 without a body');
  $r = partner_request('portal', 'GET', '/dvc/v1/thutuc', headers => { 'If-None-Match' => '"' . ('0' x 64) . '"' });
  is($r->{status}, 200, 'another ETag -> 200');
  (my $cat2 = $cat) =~ s/Cấp bản sao/Cấp lại bản sao/;
  portal_put_catalogue($cat2);
  $r = partner_request('portal', 'GET', '/dvc/v1/thutuc', headers => { 'If-None-Match' => $etag });
  is($r->{status}, 200, 'a new catalogue: the old ETag -> 200');
  isnt($r->{headers}{etag}, $etag, 'and a new ETag');
  ok(partner_reset('portal'), 'portal reset');
  my $sample = "$REPO/exchange/samples/DanhSachThuTuc.xml";
  $r = partner_request('portal', 'GET', '/dvc/v1/thutuc');
  if (-s $sample) {
    is($r->{status}, 200, 'after reset: the sample catalogue export is served');
    is($r->{headers}{etag}, '"' . sha256_hex(do { open(my $f, '<:raw', $sample) or die; local $/; <$f> }) . '"', 'its ETag');
  } else {
    is($r->{status}, 404, 'after reset, no sample catalogue file: 404');
    pass('(no sample catalogue yet)');
  }
}

# ------------------------------------------------------------------ postal
{
  my $ptok = 'postal';
  my $r1 = partner_request($ptok, 'POST', '/vnpost/v1/donhang', body => order_xml($C1, 2), key => "$C1:30");
  is($r1->{status}, 200, 'postal: order accepted');
  my $n1 = el($r1->{content}, 'SoHieuBuuGui');
  like($n1 // '', qr/^EB\d{9}VN$/, "SoHieuBuuGui $n1");
  is(maloi($r1->{content}), '0', 'KetQuaDonHang MaLoi 0');
  my $r2 = partner_request($ptok, 'POST', '/vnpost/v1/donhang', body => order_xml($C2, 1), key => "$C2:31");
  my $n2 = el($r2->{content}, 'SoHieuBuuGui');
  my ($d1) = ($n1 // '') =~ /(\d+)/; my ($d2) = ($n2 // '') =~ /(\d+)/;
  is($d2 + 0, $d1 + 1, "sequential numbers ($n2)");
  my $r3 = partner_request($ptok, 'POST', '/vnpost/v1/donhang', body => order_xml($C1, 2), key => "$C1:30");
  is(el($r3->{content}, 'SoHieuBuuGui'), $n1, 'the same key -> the same number');
  my @o = items('postal', kind => 'order', ma_ho_so => $C1);
  is(scalar @o, 1, 'one order of the dossier');
  is($o[0]{so_hieu}, $n1, 'order record: so_hieu');
  is($o[0]{loai_don_hang}, '2', 'order record: LoaiDonHang');
  is($o[0]{deliveries}, 2, 'order record: deliveries 2');

  my $a = postal_advance(so_hieu => $n1, status => '500');
  ok($a, 'postal_advance') or diag($Tthc::Partners::LAST->{content});
  $a //= {};
  like($a->{http_status} // '', qr/^[1-5]\d\d$/, "tthc answered the tracking update (HTTP $a->{http_status})");
  my $sent = $a->{sent} // '';
  is_deeply([ $sent =~ m{<(\w+)>[^<]*</\1>}g ], [qw(MaHoSo SoHieuBuuGui MaTrangThai NoiDung ThoiDiem)], 'TrangThaiBuuChinh elements in order');
  is(el($sent, 'MaHoSo'), $C1, 'MaHoSo');
  is(el($sent, 'SoHieuBuuGui'), $n1, 'SoHieuBuuGui');
  is(el($sent, 'MaTrangThai'), '500', 'MaTrangThai');
  is(el($sent, 'NoiDung'), 'Phát thành công', 'NoiDung in Vietnamese');
  like(el($sent, 'ThoiDiem') // '', qr/^\d{14}$/, 'ThoiDiem yyyyMMddHHmmss');
  ok(abs(($a->{timestamp} // 0) - time) < 10, 'X-Tthc-Timestamp: now');
  is($a->{signature}, postal_sign($a->{timestamp}, $sent), 'X-Tthc-Signature = HMAC-SHA256(secret, ts "\n" body)');
  my $rp = postal_advance(replay => 1);
  is($rp->{sent}, $sent, 'replay: the same body');
  is($rp->{signature}, $a->{signature}, 'replay: the same signature');
  is($rp->{timestamp}, $a->{timestamp}, 'replay: the same timestamp');
  my $tp = postal_advance(so_hieu => $n1, status => '300', tamper => 1);
  isnt($tp->{signature}, postal_sign($tp->{timestamp}, $tp->{sent}), 'tamper: a bad signature');
  is(el($tp->{sent}, 'NoiDung'), 'Đang vận chuyển', 'NoiDung of 300');
  my $old = postal_advance(so_hieu => $n1, status => '600', timestamp_offset => -900, message => 'Người nhận vắng nhà');
  ok(abs(($old->{timestamp} // 0) - (time - 900)) < 10, 'timestamp_offset moves X-Tthc-Timestamp');
  is(el($old->{sent}, 'NoiDung'), 'Người nhận vắng nhà', 'message overrides NoiDung');
  @o = items('postal', key => "$C1:30");
  is(scalar @{ $o[0]{statuses} // [] }, 3, 'the order records what was sent (replays aside)');
  ok(!postal_advance(so_hieu => 'EB999999999VN', status => '500'), 'an unknown so_hieu without ma_ho_so is refused');
  is($Tthc::Partners::LAST->{status}, 404, '... with 404');
  my $u = postal_advance(so_hieu => 'EB999999999VN', ma_ho_so => $C3, status => '500');
  ok($u && el($u->{sent}, 'MaHoSo') eq $C3, 'with ma_ho_so: an update for an order the simulator never had');
}

# ------------------------------------------------------------------ payment
my $PYTHON3 = '/usr/bin/python3';
sub ed25519_ok {
  my ($pubhex, $sig_b64, $msg) = @_;
  return undef unless -x $PYTHON3;
  my $code = 'import sys,base64\nfrom cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as P\n'
           . 'k=P.from_public_bytes(bytes.fromhex(sys.argv[1]))\ntry:\n  k.verify(base64.b64decode(sys.argv[2]),sys.argv[3].encode())\n  print("valid")\n'
           . 'except Exception:\n  print("invalid")\n';
  $code =~ s/\\n/\n/g;
  my $m = $msg; utf8::encode($m) if utf8::is_utf8($m);
  open(my $fh, '-|', $PYTHON3, '-c', $code, $pubhex, $sig_b64, $m) or return undef;
  my $out = <$fh> // ''; close $fh; chomp $out;
  return $out eq 'valid' ? 1 : 0;
}
sub signed_string {
  my ($x) = @_;
  return join '|', map { el($x, $_) // '' } qw(MaGiaoDich MaGiaoDichNenTang MaHoSo SoTien TrangThaiThanhToan
                                               ThoiDiemThanhToan KyHieuBienLai SoBienLai MaTraCuuBienLai
                                               NguoiNop DuongDanBienLai);
}
{
  my $r = partner_request('payment', 'POST', '/payment/v1/yeucau', body => payreq_xml('GD-0001', $C1, 150000), key => 'GD-0001');
  is($r->{status}, 200, 'payment: request accepted');
  is(maloi($r->{content}), '0', 'KetQuaYeuCau MaLoi 0');
  my $tx = el($r->{content}, 'MaGiaoDichNenTang') // '';
  like($tx, qr/^PT[0-9A-Za-z]+$/, "MaGiaoDichNenTang $tx");
  my $url = el($r->{content}, 'DuongDanThanhToan') // '';
  is($url, partner_url('payment') . "/pay/$tx", 'DuongDanThanhToan');
  my $again = partner_request('payment', 'POST', '/payment/v1/yeucau', body => payreq_xml('GD-0001', $C1, 150000), key => 'GD-0001');
  is(el($again->{content}, 'MaGiaoDichNenTang'), $tx, 'the same key -> the same transaction');
  my $req = HTTP::Tiny->new(timeout => 15)->get($url);
  is($req->{status}, 200, "GET $url");
  like($req->{headers}{'content-type'}, qr{^text/html}, 'an HTML page');
  my $page = text_of($req->{content});
  like($page, qr/\Q$C1\E/, 'the page shows MaHoSo');
  like($page, qr/150\.000/, 'the page shows the amount');
  like($page, qr/Lệ phí hồ sơ/, 'the page shows the content');
  like($page, qr{<form method="post" action="/pay/\Q$tx\E/confirm">}, 'a form posting to /pay/{id}/confirm');
  like($page, qr{<button[^>]*name="action" value="pay">Thanh toán</button>}, 'button Thanh toán (action=pay)');
  like($page, qr{<button[^>]*name="action" value="cancel">Hủy</button>}, 'button Hủy (action=cancel)');
  is(HTTP::Tiny->new->get(partner_url('payment') . '/pay/PT-NONE')->{status}, 404, 'an unknown transaction -> 404 page');

  my $pub = partner_secret('payment-platform.pub');
  like($pub, qr/^[0-9a-f]{64}$/, 'payment-platform.pub: 64 hex');
  my $p = payment_pay(tx => $tx);
  ok($p, 'payment_pay') or diag($Tthc::Partners::LAST->{content});
  $p //= {};
  like($p->{http_status} // '', qr/^[1-5]\d\d$/, "tthc answered the voucher (HTTP $p->{http_status})");
  my $v = $p->{sent} // '';
  is_deeply([ $v =~ m{<(\w+)>[^<]*</\1>}g ],
            [qw(MaGiaoDich MaGiaoDichNenTang MaHoSo SoTien TrangThaiThanhToan ThoiDiemThanhToan
                KyHieuBienLai SoBienLai MaTraCuuBienLai DuongDanBienLai ChuKySo)], 'BienLaiThanhToan elements in XSD order');
  is(el($v, 'MaGiaoDich'), 'GD-0001', 'MaGiaoDich (tthc\'s)');
  is(el($v, 'MaGiaoDichNenTang'), $tx, 'MaGiaoDichNenTang');
  is(el($v, 'SoTien'), '150000', 'SoTien = TongTien');
  is(el($v, 'TrangThaiThanhToan'), '1', 'TrangThaiThanhToan 1');
  like(el($v, 'ThoiDiemThanhToan') // '', qr/^\d{14}$/, 'ThoiDiemThanhToan yyyyMMddHHmmss');
  like(el($v, 'KyHieuBienLai') // '', qr/^BLTT\d\d$/, 'KyHieuBienLai');
  like(el($v, 'DuongDanBienLai') // '', qr{^\Q${\ partner_url('payment')}\E/bienlai/}, 'DuongDanBienLai');
  is(HTTP::Tiny->new->get(el($v, 'DuongDanBienLai'))->{status}, 200, 'the e-receipt page answers');
  SKIP: {
    skip "$PYTHON3 missing", 3 unless -x $PYTHON3;
    is(ed25519_ok($pub, el($v, 'ChuKySo'), signed_string($v)), 1, 'ChuKySo: Ed25519 over the contract\'s string, verified with payment-platform.pub');
    my $t = payment_pay(tx => $tx, tamper => 1);
    is(ed25519_ok($pub, el($t->{sent}, 'ChuKySo'), signed_string($t->{sent})), 0, 'tamper: the signature does not verify');
    my $o = payment_pay(tx => $tx, amount_override => 1000);
    is(ed25519_ok($pub, el($o->{sent}, 'ChuKySo'), signed_string($o->{sent})) && el($o->{sent}, 'SoTien'), '1000',
       'amount_override: SoTien changed, validly signed');
  }
  my $rp = payment_pay(replay => 1, tx => $tx);
  ok($rp && $rp->{sent} eq (payment_pay(replay => 1)->{sent} // ''), 'replay: the last voucher again, byte for byte');
  my $c = payment_pay(tx => $tx, status => '3');
  is(el($c->{sent}, 'TrangThaiThanhToan'), '3', 'status 3: cancelled');
  is(el($c->{sent}, 'SoBienLai'), undef, 'no receipt for a cancelled payment');
  ok(!payment_pay(tx => 'PT-NONE'), 'an unknown tx is refused');

  # the payer's buttons: a second request, cancelled on the page
  $r = partner_request('payment', 'POST', '/payment/v1/yeucau', body => payreq_xml('GD-0002', $C2, 50000), key => 'GD-0002');
  my $tx2 = el($r->{content}, 'MaGiaoDichNenTang');
  my $cf = HTTP::Tiny->new(timeout => 30, max_redirect => 0)->post_form(partner_url('payment') . "/pay/$tx2/confirm", { action => 'cancel' });
  is($cf->{status}, 303, 'Hủy -> 303');
  is($cf->{headers}{location}, "$BASE/ho-so/$C2", '... to DuongDanTraVe');
  my @req = @{ payment_requests() };
  my ($rec) = grep { ($_->{tx} // '') eq $tx2 } @req;
  ok($rec, '/_sim/payment/requests lists it');
  is(el($rec->{vouchers}[-1]{xml}, 'TrangThaiThanhToan'), '3', 'the page sent a cancelled voucher');
  is($rec->{amount}, '50000', 'the request record: amount');
  is($rec->{ma_giao_dich}, 'GD-0002', 'the request record: MaGiaoDich');
}

# ------------------------------------------------------------------ restart: what was received is kept
{
  my $before = partner_received('postal');
  my $n = scalar @{ $before->{items} };
  ok(svc('stop-partners'), 'partner simulators stopped');
  is(HTTP::Tiny->new(timeout => 2)->get(partner_url('postal') . '/_sim/health')->{status}, 599, 'down');
  ok(svc('start-partners'), 'partner simulators started again');
  my $after = partner_received('postal');
  is(scalar @{ $after->{items} // [] }, $n, "the postal simulator still holds its $n orders");
  is_deeply([ map { $_->{so_hieu} } @{ $after->{items} } ], [ map { $_->{so_hieu} } @{ $before->{items} } ], 'the same orders');
  my $r = partner_request('postal', 'POST', '/vnpost/v1/donhang', body => order_xml($C1, 2), key => "$C1:30");
  is(el($r->{content}, 'SoHieuBuuGui'), $before->{items}[0]{so_hieu}, 'idempotency survives the restart');
  ok(scalar(items('payment')) >= 2, 'the payment requests too');
}

# ------------------------------------------------------------------ logs hold no secrets
{
  my $log = '';
  if (open(my $f, '<:raw', "$ROOT/log/partners-sim.log")) { local $/; $log = <$f> // ''; close $f }
  ok(length $log, 'the simulator logs');
  for my $s (qw(portal.token postal.token payment.token postal-hmac.secret payment-platform.seed)) {
    my $v = partner_secret($s);
    ok(length($v) >= 32 && index($log, $v) < 0, "the log does not hold $s");
  }
  my @st = stat("$ROOT/etc/payment-platform.seed");
  is($st[2] & 0777, 0600, 'payment-platform.seed is 0600');
}

# ------------------------------------------------------------------ reset
{
  partner_config('postal', fail_rate => 0.3, seed => 7);
  ok(partners_reset_all(), 'reset');
  my $r = partner_received('postal');
  is(scalar @{ $r->{items} }, 0, 'reset: nothing stored');
  is($r->{calls}, 0, 'reset: counters at 0');
  is(partner_config('postal')->{fail_rate}, 0, 'reset: the config back to its defaults');
  my $o = partner_request('postal', 'POST', '/vnpost/v1/donhang', body => order_xml($C3, 2), key => "$C3:40");
  like(el($o->{content}, 'SoHieuBuuGui') // '', qr/^EB\d{9}VN$/, 'a new order after reset');
}

done_testing();
