#!/usr/bin/perl
# The public status view: right content, applicant data masked, served as stored.
use strict;
use warnings;
use utf8;
use Test::More;
use Tthc::Test;

# Once the edge has sessions (issue 3) the applicant is the signed-in one (demo citizen
# cd-002 of the e-ID simulator); the form still carries an e-mail and a phone.
my $who = identity_enabled() ? signin_applicant('cd-002') : undef;
BAIL_OUT('demo citizen cd-002 cannot sign in') if identity_enabled() && !$who;
my $name = $who ? 'Trần Thị Bình' : 'Trần Thị Bích Ngọc';
my $id   = $who ? '001190000002' : '079198765432';
my $mail = 'bichngoc.tran@example.vn';
my $tel  = '0987654321';
my @more = $who ? ('Thị Bình', 'binh.tran', '0912000002') : ('Bích Ngọc');    # more that must not show
my $p = procedure($PROC) or BAIL_OUT('catalogue not published');

my $r = submit_dossier(
  client => $who,
  app   => { applicant => { name => $name, identity_number => $id, email => $mail, phone => $tel } },
  files => [ { name => 'TK', filename => 'tờ khai đăng ký.pdf', content_type => 'application/pdf',
               data => sample_pdf(12_345) } ]);
my $j = json_ok($r, 202, 'dossier accepted');
my $code = $j && $j->{code};

sub check_view {
  my ($v, $raw, $when) = @_;
  is($v->{code}, $code, "$when: code");
  is($v->{status}{code}, 1, "$when: status 1");
  is($v->{status}{label}, 'Mới đăng ký', "$when: label in Vietnamese");
  is($v->{procedure}{code}, $PROC, "$when: procedure code");
  ok($v->{procedure}{name}, "$when: procedure name");
  is($v->{agency}{code}, $p->{agency}{code}, "$when: agency");
  like($v->{submitted_at} // '', qr/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/, "$when: submitted_at in +07:00");
  my $d = today_yymmdd();
  like($v->{submitted_at} // '', qr/^20\Q@{[substr($d,0,2)]}\E-\Q@{[substr($d,2,2)]}\E-\Q@{[substr($d,4,2)]}\E/,
       "$when: submitted today (Asia/Ho_Chi_Minh)");
  is($v->{result_channel}, 'online', "$when: result channel");
  is_deeply([ map { [ $_->{component}, $_->{name}, $_->{size} ] } @{ $v->{files} // [] } ],
            [ [ 'TK', 'tờ khai đăng ký.pdf', 12_345 ] ], "$when: files (component, name, size)");
  is($v->{history}[0]{status}, 1, "$when: history starts with status 1");
  ok(ref $v->{applicant} eq 'HASH' && $v->{applicant}{name} && $v->{applicant}{identity_number},
     "$when: applicant present (masked)");
  isnt($v->{applicant}{name}, $name, "$when: name is masked");
  isnt($v->{applicant}{identity_number}, $id, "$when: identity number is masked");
  # nothing of the personal data in clear, anywhere in the body
  my $txt = $raw; utf8::decode($txt);
  for my $secret ($name, $id, $mail, $tel, @more, substr($id, 0, 9), 'example.vn') {
    unlike($txt, qr/\Q$secret\E/, "$when: '$secret' does not appear");
  }
  ok(!exists $v->{applicant}{email} || $v->{applicant}{email} !~ /\Q$mail\E/, "$when: no clear e-mail");
}

# right after the 202 (provisional or not, it must already be served)
$r = api_get("/api/v1/dossiers/$code");
my $v = json_ok($r, 200, 'status view served right after the 202');
like($r->{headers}{'content-type'} // '', qr{^application/json}, 'application/json');
check_view($v, $r->{content}, 'first view') if $v;

# after the worker committed: authoritative view
ok(wait_in_db($code, 30), 'dossier in MariaDB');
ok(wait_until(sub { my $x = api_get("/api/v1/dossiers/$code")->{json}; $x && !$x->{provisional} }, 20),
   'view becomes authoritative (provisional false)');
$r = api_get("/api/v1/dossiers/$code");
$v = json_ok($r, 200, 'authoritative view');
check_view($v, $r->{content}, 'authoritative view') if $v;

my $stored = eval { redis('GET', "tthc:d:{$code}:view") };
ok(defined $stored && !ref $stored, 'the view is in Redis under tthc:d:{CODE}:view');
is_deeply(decode_json_safe($stored), $v, 'the API serves the stored view');

# applicant data is kept (in clear) in the system of record only
is(sql_value("SELECT COUNT(*) FROM dossiers WHERE code = '$code'"), 1, 'one row in dossiers');

# an organisation applicant (short names without sessions): still masked
my $org = identity_enabled() ? signin_applicant('tc-001') : undef;
my $tax = $org ? '5500123456' : '0101234567';
$r = submit_dossier(client => $org,
                    app => { applicant => { type => 'organisation', name => 'An', identity_number => $tax } });
my $c2 = json_ok($r, 202, 'organisation applicant accepted');
$v = json_ok(api_get("/api/v1/dossiers/$c2->{code}"), 200, 'its view') if $c2;
ok($v && $v->{applicant}{identity_number} ne $tax, 'tax code masked');
ok($v && ($v->{applicant}{name} // '') !~ /Sơn La Xanh/, 'organisation name masked') if $org;

done_testing();
