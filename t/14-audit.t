#!/usr/bin/perl
# The audit log (issue 3, DOMAIN O2): sign-ins, failed sign-ins, account changes and
# officials' dossier/file reads are recorded (who, when, from where, what) in a
# hash chain; `tthcctl audit verify` checks it and names the first edited entry.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Tthc::Test;

my $probe = client()->post_json('/api/v1/staff/signin', { username => 'nobody.at.all', password => 'x' x 12 });
plan skip_all => 'the edge has no staff sign-in yet' if endpoint_missing($probe);
plan skip_all => 'no audit_log table yet' unless defined sql_value('SELECT COUNT(*) FROM audit_log');
plan skip_all => 'tthcctl has no "user" command yet' unless tthcctl_has('user');
plan skip_all => 'tthcctl has no "audit" command yet' unless tthcctl_has('audit');

my $A31 = '000.00.31.H41';
my $last0 = sql_value('SELECT COALESCE(MAX(id), 0) FROM audit_log');
sub rows_since {    # audit rows after the start of this test matching a condition
  my ($where) = @_;
  return sql("SELECT id, actor_kind, COALESCE(actor_id, ''), COALESCE(actor_name, ''), COALESCE(ip, ''), action, object, "
           . "detail, at FROM audit_log WHERE id > $last0 AND ($where) ORDER BY id");
}
sub wait_row { my ($where, $t) = @_; return wait_until(sub { my @r = rows_since($where); @r ? $r[0] : undef }, $t // 15) }

my $adm = staff_account(prefix => 't14.admin', roles => ['agency_admin'], agency => $A31);
my $off = staff_account(prefix => 't14.desk', roles => ['desk_officer'], agency => $A31);
ok($adm->{ok} && $off->{ok}, 'two officials') or BAIL_OUT('tthcctl user create failed');
my $off_id = sql_value("SELECT id FROM officials WHERE username = '$off->{username}'");

# a failed sign-in, then a sign-in
my $bad = client()->post_json('/api/v1/staff/signin', { username => $off->{username}, password => 'Sai-Mat-Khau-999' });
is($bad->{status}, 401, 'a wrong password');
my $row = wait_row("action = 'signin.failed' AND CONCAT_WS('|', actor_id, actor_name, object, detail) LIKE '%$off->{username}%'"
                 . " OR action = 'signin.failed' AND actor_id = $off_id");
ok($row, 'signin.failed is in the audit log') or diag(explain [ rows_since('1') ]);
is($row && $row->[4], '127.0.0.1', 'with the client address');
unlike(join('|', @{ $row // [] }), qr/Sai-Mat-Khau-999/, 'and not the password tried');

my $c = signin_staff($off->{username}, $off->{password});
ok($c->sid, 'the official signs in');
$row = wait_row("action = 'signin' AND actor_kind = 'staff' AND actor_id = $off_id");
ok($row, 'signin is in the audit log: actor_kind staff, actor_id = the official');
my $signin_id = $row && $row->[0];
is($row && $row->[4], '127.0.0.1', 'from 127.0.0.1');
like($row && $row->[8], qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/, 'at, to the microsecond');
unlike(join('|', @{ $row // [] }), qr/\Q$off->{password}\E/, 'no password');
ok(!grep({ index(join('|', @$_), $c->sid) >= 0 } rows_since('1')), 'no session id in the audit log');

# an applicant's sign-in
my $ap = signin_applicant('cd-001');
my $ap_id = sql_value("SELECT id FROM applicants WHERE eid_sub = 'cd-001'");
ok(wait_row("action = 'signin' AND actor_kind = 'applicant' AND actor_id = $ap_id"),
   "an applicant's sign-in is in the audit log");

# account changes
my $admc = signin_staff($adm->{username}, $adm->{password});
my $new = unique_name('t14.new');
my $cr = $admc->post_json('/api/v1/staff/accounts', { username => $new, name => 'Tài khoản kiểm toán',
                                                      password => 'Mat-Khau-Du-Dai-1', roles => ['desk_officer'],
                                                      agency => $A31 });
ok($cr->{status} == 200 || $cr->{status} == 201, 'an account is created') or diag($cr->{content});
my $adm_id = sql_value("SELECT id FROM officials WHERE username = '$adm->{username}'");
my $new_id = sql_value("SELECT id FROM officials WHERE username = '$new'") // 0;
$row = wait_row("action = 'account.create' AND actor_id = $adm_id");
ok($row, 'account.create is in the audit log, by the administrator');
like(join('|', @{ $row // [] }), qr/\Q$new\E|\b$new_id\b/, 'naming the new account');
is($row && $row->[4], '127.0.0.1', 'from where (the administrator\'s address)');
unlike(join('|', @{ $row // [] }), qr/Mat-Khau-Du-Dai-1/, 'without its password');
$admc->patch_json("/api/v1/staff/accounts/$new_id", { locked => JSON::PP::true() });
ok(wait_row("action = 'account.update' AND actor_id = $adm_id"), 'account.update (lock) is in the audit log');

# an official reads a dossier and a file
my $pdf = sample_pdf(3_141);
my $code = submit_ok(files => [ { name => 'TK', filename => 'tk.pdf', content_type => 'application/pdf', data => $pdf } ]);
ok($code && wait_in_db($code, 30), 'a dossier');
ok(wait_until(sub { $c->get("/api/v1/staff/dossiers/$code")->{status} == 200 }, 20), 'the official reads it');
$row = wait_row("action = 'dossier.read' AND actor_id = $off_id AND object = '$code'");
ok($row, 'dossier.read is in the audit log: who and which dossier');
is($row && $row->[1], 'staff', 'actor_kind staff');
is($c->get("/api/v1/staff/dossiers/$code/files/" . sha256_hex($pdf))->{status}, 200, 'and downloads its file');
ok(wait_row("action = 'file.read' AND actor_id = $off_id AND CONCAT_WS('|', object, detail) LIKE '%$code%'"),
   'file.read is in the audit log');
my $mine = $ap->get('/api/v1/me/dossiers');
ok(!rows_since("action = 'dossier.read' AND actor_kind = 'applicant'"), "applicants' own reads are not officials' reads");

# the chain
my ($rc, $out) = tthcctl('audit', 'verify');
is($rc, 0, 'tthcctl audit verify: exit 0') or diag($out);
my ($n) = $out =~ /^ok (\d+) entries/m;
ok($n && $n >= 6, "ok N entries ($out)");
my $bad_prev = sql_value('SELECT COUNT(*) FROM audit_log a JOIN audit_log b ON b.id = a.id + 1 WHERE b.prev_hash <> a.hash');
is($bad_prev, 0, 'each entry carries the hash of the one before');
is(sql_value('SELECT last_hash FROM audit_head WHERE id = 1'), sql_value('SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1'),
   'audit_head holds the hash of the last entry');

# edit one entry: verify names it and exits 1; restore: ok again
my $victim = ($row // [])->[0] // $signin_id // sql_value("SELECT MAX(id) FROM audit_log WHERE id > $last0");
BAIL_OUT('no audit entry to edit') unless $victim;
my $orig = sql_value("SELECT object FROM audit_log WHERE id = $victim");
my $orig_action = sql_value("SELECT action FROM audit_log WHERE id = $victim");
sql("UPDATE audit_log SET object = 'sửa-trái-phép' WHERE id = $victim");
($rc, $out) = tthcctl('audit', 'verify');
is($rc, 1, 'after editing entry ' . $victim . ' with SQL: exit 1');
like($out, qr/broken at id $victim\b/, "names entry $victim") or diag($out);
sql("UPDATE audit_log SET object = '$orig' WHERE id = $victim");
($rc, $out) = tthcctl('audit', 'verify');
is($rc, 0, 'restored: exit 0 again') or diag($out);

my $d = sql_value("SELECT detail FROM audit_log WHERE id = $victim");
sql("UPDATE audit_log SET detail = JSON_SET(detail, '\$.tampered', 1) WHERE id = $victim");
($rc, $out) = tthcctl('audit', 'verify');
ok($rc == 1 && $out =~ /broken at id $victim\b/, 'an edited detail is detected too') or diag($out);
(my $dq = $d) =~ s/'/''/g;
$dq =~ s/\\/\\\\/g;
sql("UPDATE audit_log SET detail = '$dq' WHERE id = $victim");

sql("UPDATE audit_log SET action = 'signout' WHERE id = $victim");
($rc, $out) = tthcctl('audit', 'verify');
ok($rc == 1 && $out =~ /broken at id $victim\b/, 'an edited action is detected') or diag($out);
sql("UPDATE audit_log SET action = '$orig_action' WHERE id = $victim");
($rc, $out) = tthcctl('audit', 'verify');
is($rc, 0, 'restored again') or diag($out);

# deleting an entry breaks the chain at the next one
my $mid = sql_value("SELECT MIN(id) FROM audit_log WHERE id > $last0");
sql('DROP TABLE IF EXISTS t14_audit_keep');
sql("CREATE TABLE t14_audit_keep AS SELECT * FROM audit_log WHERE id = $mid");
sql("DELETE FROM audit_log WHERE id = $mid");
($rc, $out) = tthcctl('audit', 'verify');
my ($at) = $out =~ /broken at id (\d+)/;
ok($rc == 1 && defined $at && ($at == $mid || $at == $mid + 1), "a deleted entry ($mid) is detected ($out)");
sql("INSERT INTO audit_log SELECT * FROM t14_audit_keep");
sql('DROP TABLE t14_audit_keep');
($rc, $out) = tthcctl('audit', 'verify');
is($rc, 0, 'restored: the chain verifies again') or diag($out);

done_testing();
