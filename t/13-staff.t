#!/usr/bin/perl
# Officials (issue 3): for every role, what it may do and a denial across agency or
# role; account administration in scope (000 Art.10.1); lockout after repeated
# failed sign-ins; TOTP as a second factor.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(hmac_sha1);
use Time::HiRes qw(time sleep);
use Tthc::Test;

my $probe = client()->post_json('/api/v1/staff/signin', { username => 'nobody.at.all', password => 'x' x 12 });
plan skip_all => 'the edge has no staff sign-in yet (POST /api/v1/staff/signin is 404 NOT_FOUND)'
  if endpoint_missing($probe);
plan skip_all => 'tthcctl has no "user" command yet' unless tthcctl_has('user');

my $A31 = '000.00.31.H41';    # Sở Tư pháp: receives $PROC
my $A12 = '000.00.12.H41';    # Sở Kế hoạch và Đầu tư: receives 2.000002
my $P12 = '2.000002.000.00.00.H41';

# --- accounts (tthcctl user create) and one dossier per agency
my %u;
for my $role (qw(desk_officer handling_official department_head agency_leader agency_admin)) {
  $u{"$role\@31"} = staff_account(prefix => "t13.$role", roles => [$role], agency => $A31);
}
$u{'desk_officer@12'} = staff_account(prefix => 't13.desk12', roles => ['desk_officer'], agency => $A12);
$u{'agency_admin@12'} = staff_account(prefix => 't13.admin12', roles => ['agency_admin'], agency => $A12);
$u{monitor}  = staff_account(prefix => 't13.monitor', roles => ['monitor']);
$u{sysadmin} = staff_account(prefix => 't13.sysadmin', roles => ['sysadmin']);
ok(!grep({ !$_->{ok} } values %u), 'tthcctl user create made an account for every role') or BAIL_OUT('no accounts');

my $pdf31 = sample_pdf(5_555);
my $pdf12 = sample_pdf(6_666);
my $d31 = submit_ok(files => [ { name => 'TK', filename => 'tk.pdf', content_type => 'application/pdf', data => $pdf31 } ]);
my $d12 = submit_ok(app => { procedure => $P12 },
                    files => [ { name => 'GT', filename => 'gt.pdf', content_type => 'application/pdf', data => $pdf12 } ]);
ok($d31 && $d12, "one dossier for $A31 ($d31), one for $A12 ($d12)") or BAIL_OUT('no dossiers');
ok(wait_in_db([ $d31, $d12 ], 30), 'both in MariaDB');
my $sha31 = Digest::SHA::sha256_hex($pdf31);
my $sha12 = Digest::SHA::sha256_hex($pdf12);

my %cl;
sub staff {    # signed-in client of an account key (cached)
  my ($k) = @_;
  return $cl{$k} //= do {
    my ($c, $r) = signin_staff($u{$k}{username}, $u{$k}{password});
    diag("sign-in of $k: $r->{status} $r->{content}") unless $c->sid;
    $c;
  };
}
sub roles_of { my ($s) = @_; my $r = $s->{roles} // ''; return ref $r ? join(',', @$r) : $r }
sub denied { my ($res) = @_; return ($res->{status} == 403 || $res->{status} == 404) && ref $res->{json} eq 'HASH' }
sub acct_id { my ($name) = @_; return sql_value("SELECT id FROM officials WHERE username = '$name'") }
sub items { my ($j) = @_; return ref $j eq 'ARRAY' ? @$j : @{ ($j // {})->{items} // [] } }

my $sys = staff('sysadmin');
ok($sys->sid, 'the system administrator signs in');
ok(wait_until(sub { $sys->get("/api/v1/staff/dossiers/$d31")->{status} == 200
                    && $sys->get("/api/v1/staff/dossiers/$d12")->{status} == 200 }, 30),
   'the private views of both dossiers are there');

# --- who is not staff
error_is(api_get("/api/v1/staff/dossiers/$d31"), 401, 'UNAUTHENTICATED', 'staff dossier without a session: 401');
my $app = default_applicant();
error_is($app->get("/api/v1/staff/dossiers/$d31"), 403, 'FORBIDDEN', 'an applicant on a staff route: 403 FORBIDDEN');
error_is($app->get("/api/v1/staff/accounts"), 403, 'FORBIDDEN', 'an applicant listing accounts: 403');
error_is($sys->get('/api/v1/me/dossiers'), 403, 'FORBIDDEN', 'an official on "my dossiers": 403');

# --- each role of agency 31: reads its agency, not the other one
for my $role (qw(desk_officer handling_official department_head agency_leader agency_admin)) {
  my $k = "$role\@31";
  my $c = staff($k);
  ok($c->sid, "$role signs in");
  my $s = $c->session // {};
  is($s->{kind}, 'staff', "$role: session kind staff");
  is($s->{username}, $u{$k}{username}, "$role: username");
  like(roles_of($s), qr/\b$role\b/, "$role: roles");
  is($s->{agency}, $A31, "$role: agency");
  my $r = $c->get("/api/v1/staff/dossiers/$d31");
  my $j = json_ok($r, 200, "$role reads a dossier of its agency");
  is($j && $j->{code}, $d31, "$role: the dossier");
  my $f = $c->get("/api/v1/staff/dossiers/$d31/files/$sha31");
  ok($f->{status} == 200 && $f->{content} eq $pdf31, "$role downloads its file");
  ok(denied($c->get("/api/v1/staff/dossiers/$d12")), "$role cannot read a dossier of another agency (403/404)");
  ok(denied($c->get("/api/v1/staff/dossiers/$d12/files/$sha12")), "$role cannot download its file");
  ok(denied($c->get("/api/v1/staff/dossiers/$d31/files/$sha12")), "$role cannot reach another dossier's file through its own");
  next if $role eq 'agency_admin';
  error_is($c->get('/api/v1/staff/accounts'), 403, 'FORBIDDEN', "$role cannot list accounts");
  error_is($c->post_json('/api/v1/staff/accounts', { username => unique_name('t13.x'), name => 'X',
                                                     password => 'Dai-Mat-Khau-123', roles => ['desk_officer'],
                                                     agency => $A31 }),
           403, 'FORBIDDEN', "$role cannot create accounts");
}
my $c12 = staff('desk_officer@12');
json_ok($c12->get("/api/v1/staff/dossiers/$d12"), 200, "desk officer of $A12 reads its dossier");
ok(denied($c12->get("/api/v1/staff/dossiers/$d31")), "and not one of $A31");

# --- monitor: reads everything, changes nothing
my $mon = staff('monitor');
ok($mon->sid, 'monitor signs in');
json_ok($mon->get("/api/v1/staff/dossiers/$d31"), 200, "monitor reads a dossier of $A31");
json_ok($mon->get("/api/v1/staff/dossiers/$d12"), 200, "monitor reads a dossier of $A12");
is($mon->get("/api/v1/staff/dossiers/$d12/files/$sha12")->{status}, 200, 'monitor downloads a file');
error_is($mon->post_json('/api/v1/staff/accounts', { username => unique_name('t13.m'), name => 'M',
                                                     password => 'Dai-Mat-Khau-123', roles => ['desk_officer'],
                                                     agency => $A31 }),
         403, 'FORBIDDEN', 'monitor cannot create an account');
error_is($mon->patch_json('/api/v1/staff/accounts/' . acct_id($u{'desk_officer@31'}{username}), { locked => JSON::PP::true() }),
         403, 'FORBIDDEN', 'monitor cannot lock an account');

# --- agency administrator of 31: accounts of 31 only
my $adm = staff('agency_admin@31');
my $list = json_ok($adm->get('/api/v1/staff/accounts'), 200, 'agency_admin lists accounts');
my %names = map { ($_->{username} // '') => 1 } items($list);
ok($names{ $u{'desk_officer@31'}{username} }, 'the list shows an account of its agency');
ok(!$names{ $u{'desk_officer@12'}{username} }, 'and not one of another agency');
ok(!$names{ $u{sysadmin}{username} } && !$names{ $u{monitor}{username} }, 'nor the monitor or system administrator');

my $new = unique_name('t13.new');
my $cr = $adm->post_json('/api/v1/staff/accounts', { username => $new, name => 'Nguyễn Thị Mới',
                                                     password => 'Mat-Khau-Du-Dai-1', roles => ['desk_officer'],
                                                     agency => $A31 });
ok($cr->{status} == 200 || $cr->{status} == 201, "agency_admin creates a desk officer in its agency ($cr->{status})")
  or diag($cr->{content});
my ($nc, $nr) = signin_staff($new, 'Mat-Khau-Du-Dai-1');
ok($nc->sid, 'the new account signs in');
error_is($adm->post_json('/api/v1/staff/accounts', { username => $new, name => 'Trùng', password => 'Mat-Khau-Du-Dai-1',
                                                     roles => ['desk_officer'], agency => $A31 }),
         409, 'USERNAME_TAKEN', 'the same username again: 409');
error_is($adm->post_json('/api/v1/staff/accounts', { username => unique_name('t13.weak'), name => 'Yếu',
                                                     password => 'ngan', roles => ['desk_officer'], agency => $A31 }),
         422, 'WEAK_PASSWORD', 'a password under 12 characters: 422');
for my $case ([ 'in another agency', { roles => ['desk_officer'], agency => $A12 } ],
              [ 'granting sysadmin', { roles => ['sysadmin'], agency => $A31 } ],
              [ 'granting monitor', { roles => ['monitor'], agency => $A31 } ],
              [ 'granting sysadmin with another role', { roles => [ 'desk_officer', 'sysadmin' ], agency => $A31 } ]) {
  my $r = $adm->post_json('/api/v1/staff/accounts', { username => unique_name('t13.no'), name => 'Không',
                                                      password => 'Mat-Khau-Du-Dai-1', %{ $case->[1] } });
  error_is($r, 403, 'FORBIDDEN', "agency_admin cannot create an account $case->[0]");
}
my $id31 = acct_id($new);
my $open = signin_staff($new, 'Mat-Khau-Du-Dai-1');     # a session open while the account gets locked
is($open->get('/api/v1/session')->{json}{authenticated} ? 1 : 0, 1, 'the account has an open session');
my $r = $adm->patch_json("/api/v1/staff/accounts/$id31", { locked => JSON::PP::true() });
ok($r->{status} == 200 || $r->{status} == 204, 'agency_admin locks an account of its agency') or diag($r->{content});
is($open->get('/api/v1/session')->{json}{authenticated} ? 1 : 0, 0, 'locking ends its open sessions at once');
error_is(client()->post_json('/api/v1/staff/signin', { username => $new, password => 'Mat-Khau-Du-Dai-1' }),
         423, 'ACCOUNT_LOCKED', 'the locked account cannot sign in: 423');
$r = $adm->patch_json("/api/v1/staff/accounts/$id31", { locked => JSON::PP::false() });
ok($r->{status} == 200 || $r->{status} == 204, 'and unlocks it');
ok(signin_staff($new, 'Mat-Khau-Du-Dai-1')->sid, 'it signs in again');
{   # the operator's lock (tthcctl) ends open sessions too
  my $o2 = signin_staff($new, 'Mat-Khau-Du-Dai-1');
  tthcctl('user', 'lock', $new);
  is($o2->get('/api/v1/session')->{json}{authenticated} ? 1 : 0, 0, 'tthcctl user lock ends open sessions');
  tthcctl('user', 'unlock', $new);
}
error_is($adm->patch_json("/api/v1/staff/accounts/$id31", { agency => $A12 }), 403, 'FORBIDDEN',
         'agency_admin cannot move an account to another agency');
error_is($adm->patch_json("/api/v1/staff/accounts/$id31", { roles => ['sysadmin'] }), 403, 'FORBIDDEN',
         'nor make it a system administrator');
my $id12 = acct_id($u{'desk_officer@12'}{username});
ok(denied($adm->patch_json("/api/v1/staff/accounts/$id12", { locked => JSON::PP::true() })),
   'nor lock an account of another agency (403/404)');
ok(signin_staff($u{'desk_officer@12'}{username}, $u{'desk_officer@12'}{password})->sid, 'which still signs in');
ok(denied($adm->patch_json('/api/v1/staff/accounts/' . acct_id($u{monitor}{username}), { locked => JSON::PP::true() })),
   'nor lock the monitor');
ok(denied($adm->patch_json('/api/v1/staff/accounts/' . acct_id($u{sysadmin}{username}), { locked => JSON::PP::true() })),
   'nor the system administrator');
error_is($adm->patch_json('/api/v1/staff/accounts/999999999', { locked => JSON::PP::true() }), [ 404, 403 ],
         [ 'ACCOUNT_NOT_FOUND', 'FORBIDDEN' ], 'an account that does not exist');

# the administrator of 12 is symmetric
my $adm12 = staff('agency_admin@12');
ok(denied($adm12->patch_json("/api/v1/staff/accounts/$id31", { locked => JSON::PP::true() })),
   "agency_admin of $A12 cannot lock an account of $A31");

# --- system administrator: anywhere
json_ok($sys->get("/api/v1/staff/dossiers/$d31"), 200, "sysadmin reads a dossier of $A31");
json_ok($sys->get("/api/v1/staff/dossiers/$d12"), 200, "sysadmin reads a dossier of $A12");
my %all = map { ($_->{username} // '') => 1 } items(json_ok($sys->get('/api/v1/staff/accounts'), 200, 'sysadmin lists accounts'));
ok($all{ $u{'desk_officer@31'}{username} } && $all{ $u{'desk_officer@12'}{username} }, 'of every agency');
for my $case ([ "a desk officer in $A12", { roles => ['desk_officer'], agency => $A12 } ],
              [ 'a monitor', { roles => ['monitor'] } ],
              [ 'another system administrator', { roles => ['sysadmin'] } ]) {
  my $r2 = $sys->post_json('/api/v1/staff/accounts', { username => unique_name('t13.sys'), name => 'Tạo bởi quản trị',
                                                       password => 'Mat-Khau-Du-Dai-1', %{ $case->[1] } });
  ok($r2->{status} == 200 || $r2->{status} == 201, "sysadmin creates $case->[0]") or diag($r2->{content});
}
$r = $sys->patch_json("/api/v1/staff/accounts/$id31", { agency => $A12 });
ok($r->{status} == 200 || $r->{status} == 204, "sysadmin moves an account to $A12") or diag($r->{content});
my $moved = signin_staff($new, 'Mat-Khau-Du-Dai-1');
is(($moved->session // {})->{agency}, $A12, 'its next session is in the new agency');
json_ok($moved->get("/api/v1/staff/dossiers/$d12"), 200, 'and it now reads dossiers of that agency');
ok(denied($moved->get("/api/v1/staff/dossiers/$d31")), 'and no longer those of the old one');

# --- brute force: 5 consecutive failures lock the account (15 min)
my $bf = staff_account(prefix => 't13.bf', roles => ['desk_officer'], agency => $A31);
my $unknown = client()->post_json('/api/v1/staff/signin', { username => 'no.such.user.' . $$, password => 'Sai-Mat-Khau-123' });
error_is($unknown, 401, 'SIGNIN_FAILED', 'unknown user: 401 SIGNIN_FAILED');
for my $i (1 .. 4) {
  my $w = client()->post_json('/api/v1/staff/signin', { username => $bf->{username}, password => "Sai-Mat-Khau-$i$i" });
  error_is($w, 401, 'SIGNIN_FAILED', "wrong password $i: 401 SIGNIN_FAILED");
  is($w->{content}, $unknown->{content}, "wrong password $i answers exactly as an unknown user") if $i == 1;
}
my $fifth = client()->post_json('/api/v1/staff/signin', { username => $bf->{username}, password => 'Sai-Mat-Khau-55' });
error_is($fifth, [ 401, 423 ], [ 'SIGNIN_FAILED', 'ACCOUNT_LOCKED' ], 'wrong password 5');
error_is(client()->post_json('/api/v1/staff/signin', { username => $bf->{username}, password => $bf->{password} }),
         423, 'ACCOUNT_LOCKED', 'after 5 failures even the right password: 423 ACCOUNT_LOCKED');
my $until = sql_value("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), locked_until) FROM officials WHERE username = '$bf->{username}'");
ok(defined $until && $until > 800 && $until <= 900, "locked for 15 minutes ($until s left)");
sql("UPDATE officials SET locked_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE username = '$bf->{username}'");
ok(signin_staff($bf->{username}, $bf->{password})->sid, 'once the lockout has passed, the right password works');

my $rs = staff_account(prefix => 't13.rs', roles => ['desk_officer'], agency => $A31);
my $fails = sub { client()->post_json('/api/v1/staff/signin', { username => $rs->{username}, password => 'Sai-Mat-Khau-00' }) for 1 .. 4 };
$fails->();
ok(signin_staff($rs->{username}, $rs->{password})->sid, '4 failures, then the right password: signed in');
$fails->();
ok(signin_staff($rs->{username}, $rs->{password})->sid, 'a success resets the count: 4 more failures do not lock');

# --- TOTP (RFC 6238: SHA-1, 30 s, 6 digits)
sub b32dec { my $s = uc shift; $s =~ s/[=\s]//g; my $bits = join '', map { sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', $_) } split //, $s;
  return pack 'B*', substr($bits, 0, int(length($bits) / 8) * 8) }
sub totp { my ($key, $t) = @_; my $h = hmac_sha1(pack('NN', 0, int(($t // time) / 30)), $key);
  my $o = ord(substr($h, -1)) & 0xf; return sprintf '%06d', (unpack('N', substr($h, $o, 4)) & 0x7fffffff) % 1_000_000 }
SKIP: {
  my $tu = staff_account(prefix => 't13.totp', roles => ['desk_officer'], agency => $A31);
  my ($rc, $out) = tthcctl('user', 'totp', $tu->{username});
  skip "tthcctl user totp not available ($rc: $out)", 6 if $rc && $out =~ /unknown|usage/i;
  my ($uri) = $out =~ m{(otpauth://totp/\S+)};
  ok($uri, 'tthcctl user totp prints an otpauth:// URI') or diag($out);
  my ($secret) = ($uri // '') =~ /[?&]secret=([A-Z2-7=]+)/i;
  my $key = b32dec($secret // '');
  error_is(client()->post_json('/api/v1/staff/signin', { username => $tu->{username}, password => $tu->{password} }),
           401, 'TOTP_REQUIRED', 'password alone: 401 TOTP_REQUIRED');
  my $wrong = sprintf '%06d', (totp($key) + 1) % 1_000_000;
  error_is(client()->post_json('/api/v1/staff/signin', { username => $tu->{username}, password => $tu->{password},
                                                         totp => $wrong }), 401, 'SIGNIN_FAILED', 'a wrong code: 401');
  my $t0 = time;
  sleep(31 - ($t0 - 30 * int($t0 / 30))) if $t0 - 30 * int($t0 / 30) > 27;    # not at the edge of a step
  my $code = totp($key);
  my ($tc, $tr) = signin_staff($tu->{username}, $tu->{password}, totp => $code);
  ok($tc->sid, 'password + the right code: signed in') or diag("$tr->{status} $tr->{content}");
  my ($tc2, $tr2) = signin_staff($tu->{username}, $tu->{password}, totp => $code);
  ok(!$tc2->sid && $tr2->{status} == 401, 'the same code cannot be used twice');
  my @rows = eval { sql('SELECT * FROM audit_log') };
  ok(!grep({ index($_ // '', $secret // 'x') >= 0 } map { @$_ } @rows), 'the TOTP secret is not in the audit log');
}

done_testing();
