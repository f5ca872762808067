package Tthc::Flow;
# Helpers for the workflow tests of issue 4 (t/15-*.t .. t/20-*.t), against
# docs/contracts-workflow.md: officials per agency and role (created with
# tthcctl, signed in once, cached), uploads (POST /api/v1/files), actions
# (single, batch, applicant), counter registration, the test clock
# (tthcctl clock), fixed local instants, the staff view's workflow object,
# history/outbox rows in MariaDB and the inbox.
#
# Time: every instant a test cares about is an epoch second built from a
# "base" Monday (local midnight, Asia/Ho_Chi_Minh = UTC+7) chosen in the future
# with no holiday or make-up day in the weeks the test needs (holidays table),
# so that expected deadlines can be worked out by hand: "Wed 09:00 + 5 working
# days = the next Wed 09:00". clock_to(EPOCH) sets the clock offset so that the
# workers' and the inbox's "now" is EPOCH at the moment of the call (plus the
# few milliseconds the following request takes).
use strict;
use warnings;
use utf8;
use Exporter 'import';
use Test::More ();
use Time::HiRes qw(time sleep);
use POSIX qw(strftime floor);
use Time::Local qw(timegm);
use Digest::SHA qw(sha256_hex);
use Tthc::Test;

our @EXPORT = qw(
  $A31 $A12 $A20 $A36 $P_SIMPLE $P_JOINT $P_INBOX
  flow_skip_reason official official_uid applicant upload upload_ok pdf_bytes file_ref
  act act_ok act_err batch me_act me_act_ok register_counter submit_online
  clock_reset clock_to clock_advance clock_offset_ms setting_set setting_get
  base_monday at iso_of epoch_of sql_epoch instant_is same_instant dow_name
  workflow_of view_of wait_view status_of step_of
  dossier_id dossier_row history_rows history_count outbox_rows outbox_count outbox_check
  inbox inbox_item inbox_codes ctl_deadline ctl_elapsed snapshot unchanged error_in err_code
);

our $A31 = '000.00.31.H41';    # Sở Tư pháp: receives $P_SIMPLE
our $A12 = '000.00.12.H41';    # Sở Kế hoạch và Đầu tư
our $A20 = '000.00.20.H41';    # Sở Tài nguyên và Môi trường: step 2 of the joint process
our $A36 = '000.00.36.H41';    # UBND huyện Nam Đàn: lead of the joint process
our $P_SIMPLE = '1.000001.000.00.00.H41';    # 5 working days: 1440 + 960
our $P_JOINT  = '1.004227.000.00.00.H41';    # 20 working days: 2400 @36, 4800 @20, 2400 @36
our $P_INBOX  = '2.001610.000.00.00.H41';    # @12, 3 working days: 864 + 576; components TB, QD

my $TZ = 7 * 3600;

# ------------------------------------------------------------------ readiness
# flow_skip_reason() -> undef when the stack has the workflow (edge routes,
# tthcctl clock), else why the test file should skip
sub flow_skip_reason {
  return 'the stack is not running' unless stack_ready();
  my $r = client()->post_json("/api/v1/staff/dossiers/$A31-261201-0001/actions", { action => 'accept' });
  return "the edge has no workflow actions yet (POST /api/v1/staff/dossiers/{code}/actions: $r->{status})"
    if endpoint_missing($r) || $r->{status} == 405;
  return 'no workflow schema (dossier_steps) yet' unless defined sql_value('SELECT COUNT(*) FROM dossier_steps');
  return 'tthcctl has no "user" command' unless tthcctl_has('user');
  my ($rc, $out) = tthcctl('clock', 'show');
  return "tthcctl clock show failed ($rc): $out" if $rc && !_no_ctl_clock($out);
  return undef;
}
sub _no_ctl_clock { my ($out) = @_; return ($out // '') =~ /unknown command|usage/i }

# ------------------------------------------------------------------ officials
# official($agency, $role, tag => 'b', dept => ID) -> a signed-in client
# (Tthc::Test::Client) with {uid, username, agency, role}; one account per
# (agency, role, tag, dept), created with tthcctl user create, cached per process
my %officials;
sub official {
  my ($agency, $role, %o) = @_;
  my $key = join '/', $agency, $role, $o{tag} // '', $o{dept} // '';
  return $officials{$key} if $officials{$key};
  my $u = unique_name('t4.' . substr($role, 0, 4) . '.' . (split /\./, $agency)[2]);
  my $pw = 'Mk-' . join('', map { ('a' .. 'z', 'A' .. 'Z', 0 .. 9)[rand 62] } 1 .. 18);
  my $name = $o{name} // "Cán bộ $role $u";
  my $f = "/tmp/tthc-flow-pw.$$." . int(rand(1e9));
  { my $old = umask 077; open(my $fh, '>', $f) or die "$f: $!"; print $fh $pw; close $fh; umask $old }
  my @args = ('user', 'create', '--username', $u, '--name', $name, '--role', $role, '--agency', $agency);
  push @args, '--department', $o{dept} if defined $o{dept};
  push @args, '--password-file', $f;
  my ($rc, $out);
  for my $try (1 .. 3) {    # tthcctl may be being rebuilt at this very moment: try again
    ($rc, $out) = tthcctl(@args);
    last unless $rc;
    sleep 1;
  }
  unlink $f;
  if ($rc) { Test::More::diag("tthcctl user create $u ($role\@$agency) failed ($rc): $out"); return undef }
  my ($c, $r);
  for my $try (1 .. 3) {
    ($c, $r) = signin_staff($u, $pw);
    last if $c->sid;
    sleep 0.5;
  }
  if (!$c->sid) { Test::More::diag("sign-in of $u failed: $r->{status} $r->{content}"); return undef }
  $c->{name} = "$role\@" . (split /\./, $agency)[2] . ($o{tag} ? "/$o{tag}" : '');
  $c->{username} = $u;
  $c->{password} = $pw;
  $c->{agency} = $agency;
  $c->{role} = $role;
  $c->{display} = $name;
  my $uid = sql_value("SELECT id FROM officials WHERE username = '$u'");
  $c->{uid} = defined $uid ? 0 + $uid : undef;
  return $officials{$key} = $c;
}
sub official_uid { my ($c) = @_; return $c ? $c->{uid} : undef }

# applicant($sub) -> a signed-in applicant client (cached)
my %applicants;
sub applicant {
  my ($sub) = @_;
  $sub //= 'cd-001';
  return $applicants{$sub} //= do {
    my $c = signin_applicant($sub);
    Test::More::diag("applicant $sub cannot sign in") unless $c;
    $c->{name} = "applicant $sub" if $c;
    $c;
  };
}

# ------------------------------------------------------------------ files
# pdf_bytes($tag, $size) -> a small PDF whose bytes (and hash) depend on $tag
my $pdfn = 0;
sub pdf_bytes {
  my ($tag, $size) = @_;
  $tag //= 'f' . $$ . '.' . ++$pdfn . '.' . int(rand(1e9));
  my $p = sample_pdf($size // 3000);
  my $t = "$tag";
  utf8::encode($t) if utf8::is_utf8($t);
  substr($p, index($p, "\n% ") + 3, length($t) + 1) = "$t ";
  return $p;
}

# upload($client, $bytes, $name, %opt) -> the response of POST /api/v1/files
sub upload {
  my ($c, $bytes, $name, %o) = @_;
  $name //= 'tep.pdf';
  my $enc = $name;
  utf8::encode($enc) if utf8::is_utf8($enc);
  $enc =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
  return $c->request('POST', '/api/v1/files', content => $bytes,
                     headers => { 'Content-Type' => 'application/octet-stream',
                                  (defined $name ? ('X-File-Name' => $enc) : ()), %{ $o{headers} // {} } },
                     map { $_ => $o{$_} } grep { $_ ne 'headers' } keys %o);
}

# upload_ok($client, $name, $bytes?) -> {sha256, size, media_type, name} or undef (diag)
sub upload_ok {
  my ($c, $name, $bytes) = @_;
  $bytes //= pdf_bytes();
  my $r = upload($c, $bytes, $name);
  if ($r->{status} != 201 || ref $r->{json} ne 'HASH' || !$r->{json}{sha256}) {
    Test::More::diag("upload of $name by $c->{name} failed: $r->{status} " . substr($r->{content} // '', 0, 300));
    return { sha256 => sha256_hex($bytes), failed => 1 };
  }
  return $r->{json};
}

# file_ref($client, $kind, $name) -> {sha256, kind} of a fresh upload by $client
sub file_ref {
  my ($c, $kind, $name) = @_;
  my $u = upload_ok($c, $name // "$kind.pdf");
  return { sha256 => $u->{sha256}, kind => $kind };
}

# ------------------------------------------------------------------ actions
# act($client, $code, $action, %args) -> response of
# POST /api/v1/staff/dossiers/{code}/actions {action, %args}
sub act {
  my ($c, $code, $action, %a) = @_;
  my %http = map { $_ => delete $a{$_} } grep { exists $a{$_} } qw(csrf no_csrf headers);
  return $c->post_json("/api/v1/staff/dossiers/$code/actions", { (defined $action ? (action => $action) : ()), %a }, %http);
}

# act_ok(...) -> the reply (workflow object) or undef; one assertion (200)
sub act_ok {
  my ($c, $code, $action, %a) = @_;
  my $name = delete $a{name} // "$action by $c->{name}";
  my $r = act($c, $code, $action, %a);
  my $ok = $r->{status} == 200 && ref $r->{json} eq 'HASH';
  Test::More::ok($ok, $name) or Test::More::diag("$code: got $r->{status}: " . substr($r->{content} // '', 0, 600));
  return $ok ? $r->{json} : undef;
}

# act_err($client, $code, $action, $status, $error, %args): one assertion
sub act_err {
  my ($c, $code, $action, $status, $error, %a) = @_;
  my $name = delete $a{name} // "$action by $c->{name}: $status $error";
  return error_is(act($c, $code, $action, %a), $status, $error, $name);
}

# batch($client, \@codes, $action, %args) -> response of POST /api/v1/staff/actions
sub batch {
  my ($c, $codes, $action, %a) = @_;
  my %http = map { $_ => delete $a{$_} } grep { exists $a{$_} } qw(csrf no_csrf headers);
  return $c->post_json('/api/v1/staff/actions', { action => $action, codes => $codes, %a }, %http);
}

# me_act($applicant, $code, $action, %args) -> response of POST /api/v1/me/dossiers/{code}/actions
sub me_act {
  my ($c, $code, $action, %a) = @_;
  my %http = map { $_ => delete $a{$_} } grep { exists $a{$_} } qw(csrf no_csrf headers);
  return $c->post_json("/api/v1/me/dossiers/$code/actions", { action => $action, %a }, %http);
}
sub me_act_ok {
  my ($c, $code, $action, %a) = @_;
  my $name = delete $a{name} // "applicant $action";
  my $r = me_act($c, $code, $action, %a);
  my $ok = $r->{status} == 200 && ref $r->{json} eq 'HASH';
  Test::More::ok($ok, $name) or Test::More::diag("$code: got $r->{status}: " . substr($r->{content} // '', 0, 600));
  return $ok ? $r->{json} : undef;
}

# register_counter($desk, procedure => CODE, files => [{sha256, component}], %body)
# -> response of POST /api/v1/staff/dossiers
sub register_counter {
  my ($c, %o) = @_;
  my $body = {
    procedure => $o{procedure} // $P_JOINT,
    channel   => $o{channel} // 'counter',
    applicant => $o{applicant} // { type => 'citizen', name => 'Hồ Văn Đất', identity_number => '040090001234',
                                    email => 'hovandat@example.vn', phone => '0988123456' },
    form      => $o{form} // { thua_dat => 'Thửa 123, tờ bản đồ số 7', dien_tich_m2 => 250 },
    result_channel => $o{result_channel} // 'desk',
    files     => $o{files} // [],
    map { $_ => $o{$_} } grep { !/^(procedure|channel|applicant|form|result_channel|files)$/ } keys %o,
  };
  return $c->post_json('/api/v1/staff/dossiers', $body);
}

# submit_online(client => $applicant, procedure => CODE, files => [parts]) ->
# code (in MariaDB, status 1) or undef
sub submit_online {
  my (%o) = @_;
  my $c = $o{client} // applicant('cd-001');
  my %app = $o{procedure} ? (app => { procedure => $o{procedure} }) : ();
  my $files = $o{files} // [ { name => 'TK', filename => 'to-khai.pdf', content_type => 'application/pdf',
                               data => pdf_bytes() } ];
  my $code = submit_ok(client => $c, files => $files, %app, wait => 10);
  return undef unless $code;
  return undef unless wait_in_db($code, 30);
  return $code;
}

# ------------------------------------------------------------------ the clock
my $KEY = 'tthc:{clock}:offset_ms';
my $ctl_clock;    # 1 tthcctl clock, 0 Redis directly (tthcctl has no clock yet)
sub _clock_cmd {
  my (@a) = @_;
  if (!defined $ctl_clock || $ctl_clock) {
    my ($rc, $out) = tthcctl('clock', @a);
    if ($rc && _no_ctl_clock($out)) {
      Test::More::diag("tthcctl has no clock command: setting $KEY in Redis directly") unless defined $ctl_clock;
      $ctl_clock = 0;
    } else {
      $ctl_clock = 1;
      Test::More::diag("tthcctl clock @a failed ($rc): $out") if $rc;
      return !$rc;
    }
  }
  my $r;
  if ($a[0] eq 'reset') { $r = redis('DEL', $KEY) }
  elsif ($a[0] eq 'set') { $r = redis('SET', $KEY, $a[1]) }
  elsif ($a[0] eq 'advance') {
    my ($n, $u) = $a[1] =~ /^(\d+)([smhd])$/ or die "duration $a[1]";
    $r = redis('INCRBY', $KEY, $n * { s => 1, m => 60, h => 3600, d => 86400 }->{$u} * 1000);
  }
  return !(ref $r eq 'HASH' && $r->{error});
}
sub clock_reset { return _clock_cmd('reset') }
sub clock_offset_ms { my $v = eval { redis('GET', $KEY) }; return defined $v && !ref $v ? $v : 0 }

# clock_to($epoch) -> the offset set (ms); dies when $epoch is in the past
sub clock_to {
  my ($epoch) = @_;
  my $off = int(($epoch - time) * 1000);
  die 'clock_to(' . iso_of($epoch) . "): in the past\n" if $off < 0;
  _clock_cmd('set', $off) or die "clock set $off failed\n";
  return $off;
}
sub clock_advance { my ($d) = @_; return _clock_cmd('advance', $d) }

sub setting_set {
  my ($name, $value) = @_;
  my ($rc, $out) = tthcctl('setting', 'set', $name, $value);
  if ($rc) {
    Test::More::diag("tthcctl setting set $name $value failed ($rc): $out; writing settings directly");
    sql("INSERT INTO settings (name, value) VALUES ('$name', '$value') ON DUPLICATE KEY UPDATE value = VALUES(value)");
  }
  return 1;
}
sub setting_get { return sql_value("SELECT value FROM settings WHERE name = '$_[0]'") }

# ------------------------------------------------------------------ instants
# base_monday(weeks => N, ahead => DAYS) -> epoch of 00:00 local of the first
# Monday at least DAYS days after today such that the N weeks from it hold no
# holiday and no make-up working day (holidays table): plain Mon-Fri weeks
sub base_monday {
  my (%o) = @_;
  my $weeks = $o{weeks} // 3;
  my $d = int((time + $TZ) / 86400) + ($o{ahead} // 3);    # local day number
  $d++ while (($d + 4) % 7) != 1;                            # 1970-01-01 was a Thursday
  for (1 .. 300) {
    my $from = strftime('%Y-%m-%d', gmtime($d * 86400));
    my $to = strftime('%Y-%m-%d', gmtime(($d + $weeks * 7 - 1) * 86400));
    my $n = sql_value("SELECT COUNT(*) FROM holidays WHERE day BETWEEN '$from' AND '$to'");
    return $d * 86400 - $TZ if defined $n && $n == 0;
    $d += 7;
  }
  die "no holiday-free window of $weeks weeks found\n";
}

# at($base, $day, 'HH:MM[:SS]') -> epoch of local time HH:MM:SS on base + $day days
sub at {
  my ($base, $day, $hm) = @_;
  my ($h, $m, $s) = split /:/, $hm;
  return $base + $day * 86400 + $h * 3600 + $m * 60 + ($s // 0);
}

sub iso_of {
  my ($e) = @_;
  return 'undef' unless defined $e;
  return strftime('%Y-%m-%dT%H:%M:%S+07:00', gmtime(floor($e) + $TZ));
}
sub dow_name { my ($e) = @_; return (qw(Sun Mon Tue Wed Thu Fri Sat))[ (int((floor($e) + $TZ) / 86400) + 4) % 7 ] }

# epoch_of('2026-12-02T09:00:00+07:00' | '...Z' | epoch integer) -> epoch (fractions kept)
sub epoch_of {
  my ($s) = @_;
  return undef unless defined $s && length $s;
  return $s + 0 if $s =~ /^\d+(\.\d+)?$/;
  my ($Y, $M, $D, $h, $m, $sec, $frac, $tz) =
    $s =~ /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(\.\d+)?)?\s*(Z|[+-]\d\d:?\d\d)?$/ or return undef;
  my $e = timegm($sec // 0, $m, $h, $D, $M - 1, $Y) + ($frac // 0);
  if (defined $tz && $tz ne 'Z') {
    my ($sg, $th, $tm) = $tz =~ /^([+-])(\d\d):?(\d\d)$/;
    $e -= ($sg eq '-' ? -1 : 1) * ($th * 3600 + $tm * 60);
  }
  return $e;
}
# a MariaDB DATETIME (UTC) -> epoch
sub sql_epoch { my ($s) = @_; return defined $s && $s ne 'NULL' && length $s ? epoch_of("${s}Z") : undef }

# instant_is($got, $want_epoch, $name, $tol_s): one assertion; $got an ISO string
# (or an epoch); equal to the second (or within [0, $tol] seconds after $want)
sub instant_is {
  my ($got, $want, $name, $tol) = @_;
  my $g = epoch_of($got);
  my $ok = defined $g && defined $want && floor($g) - $want >= 0 && floor($g) - $want <= ($tol // 0);
  Test::More::ok($ok, $name)
    or Test::More::diag('got ' . ($got // 'undef') . ' (' . (defined $g ? iso_of($g) : 'unparsable')
                        . '), want ' . iso_of($want) . ($tol ? " (+0..${tol}s)" : '') . ' ' . dow_name($want));
  return $ok;
}
sub same_instant { my ($a, $b) = @_; my ($x, $y) = (epoch_of($a), epoch_of($b));
  return defined $x && defined $y && floor($x) == floor($y) }

# ------------------------------------------------------------------ views
# view_of($client, $code) -> the staff private view (GET /api/v1/staff/dossiers/{code}) or undef
sub view_of {
  my ($c, $code) = @_;
  my $r = $c->get("/api/v1/staff/dossiers/$code");
  return $r->{status} == 200 && ref $r->{json} eq 'HASH' ? $r->{json} : undef;
}
# workflow_of($client, $code) -> its "workflow" object or undef
sub workflow_of { my $v = view_of(@_); return $v ? $v->{workflow} : undef }
# wait_view($client, $code, sub { my ($wf) = @_; ... }, $timeout) -> the workflow once the sub is true
sub wait_view {
  my ($c, $code, $cond, $t) = @_;
  my $last;
  my $ok = wait_until(sub { $last = workflow_of($c, $code); $last && $cond->($last) }, $t // 10, 0.2);
  return $ok ? $last : undef;
}
# status_of($obj) -> the status number of a workflow object / item ({code,label} or N)
sub status_of {
  my ($o) = @_;
  return undef unless ref $o eq 'HASH';
  my $s = $o->{status};
  return ref $s eq 'HASH' ? $s->{code} : $s;
}
sub step_of { my ($o) = @_; return ref $o eq 'HASH' && ref $o->{step} eq 'HASH' ? $o->{step}{position} : undef }

# ------------------------------------------------------------------ MariaDB
sub dossier_id { my ($code) = @_; return sql_value("SELECT id FROM dossiers WHERE code = '$code'") }
# dossier_row($code) -> hashref of the workflow columns (UTC DATETIMEs as text)
sub dossier_row {
  my ($code) = @_;
  my @cols = qw(id status stage step_position assignee_id receipt_at due_at first_due_at result_at returned_at
                outcome result_kind apologised supplement_count paused_at warning row_version current_agency_id);
  my @r = eval { sql('SELECT ' . join(',', map { "COALESCE($_, 'NULL')" } @cols) . " FROM dossiers WHERE code = '$code'") };
  return undef unless @r;
  my %h;
  @h{@cols} = map { $_ eq 'NULL' ? undef : $_ } @{ $r[0] };
  return \%h;
}
sub history_rows {
  my ($code) = @_;
  return eval { sql("SELECT h.id, h.status, COALESCE(h.action, ''), h.at, COALESCE(h.idem_key, ''), COALESCE(h.note, '')"
                  . " FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$code' ORDER BY h.id") };
}
sub history_count { my ($code) = @_;
  return sql_value("SELECT COUNT(*) FROM dossier_history h JOIN dossiers d ON d.id = h.dossier_id WHERE d.code = '$code'") }
sub outbox_rows {
  my ($code) = @_;
  return eval { sql("SELECT o.history_id, o.payload FROM outbox o JOIN dossiers d ON d.id = o.dossier_id"
                  . " WHERE d.code = '$code' AND o.kind = 'history' ORDER BY o.id") };
}
sub outbox_count { my ($code) = @_;
  return sql_value("SELECT COUNT(*) FROM outbox o JOIN dossiers d ON d.id = o.dossier_id WHERE d.code = '$code'"
                  . " AND o.kind = 'history'") }

# outbox_check(\@codes): for each dossier, one outbox row per history entry, each
# payload with MaHoSo = the code, TrangThai and NgayKetThucTheoQuyDinh (two assertions per code)
sub outbox_check {
  my ($codes) = @_;
  for my $code (@$codes) {
    next unless defined $code;
    my $h = history_count($code) // -1;
    my $o = outbox_count($code) // -2;
    Test::More::is($o, $h, "$code: one outbox row per history entry ($h)")
      or Test::More::diag(join "\n", map { join ' | ', @$_ } history_rows($code));
    my @bad;
    my %hid = map { $_->[0] => 1 } history_rows($code);
    for my $row (outbox_rows($code)) {
      my $p = decode_json_safe(do { my $x = $row->[1]; utf8::encode($x) if utf8::is_utf8($x); $x });
      push @bad, "history $row->[0]: payload not JSON" and next unless ref $p eq 'HASH';
      push @bad, "history $row->[0]: no TrangThai" unless defined $p->{TrangThai};
      push @bad, "history $row->[0]: no NgayKetThucTheoQuyDinh" unless exists $p->{NgayKetThucTheoQuyDinh};
      push @bad, "history $row->[0]: MaHoSo " . ($p->{MaHoSo} // 'missing') if ($p->{MaHoSo} // '') ne $code;
      push @bad, "history $row->[0]: not a history entry of the dossier" unless $hid{ $row->[0] };
      for my $k (grep { defined $p->{$_} } qw(ThoiDiemXuLy NgayBatDau NgayKetThucTheoQuyDinh NgayHenTra)) {
        push @bad, "history $row->[0]: $k '$p->{$k}' is not yyyyMMddHHmmss" unless $p->{$k} =~ /^\d{14}$/;
      }
    }
    Test::More::ok(!@bad, "$code: outbox payloads carry MaHoSo, TrangThai, NgayKetThucTheoQuyDinh")
      or Test::More::diag(join "\n", @bad[0 .. ($#bad > 9 ? 9 : $#bad)]);
  }
}

# ------------------------------------------------------------------ inbox
# inbox($client, %query) -> the JSON of GET /api/v1/staff/inbox?... or undef
sub inbox {
  my ($c, %q) = @_;
  my $qs = join '&', map { "$_=" . Tthc::Test::_uri_escape($q{$_}) } sort keys %q;
  my $r = $c->get('/api/v1/staff/inbox' . (length $qs ? "?$qs" : ''));
  return $r->{status} == 200 && ref $r->{json} eq 'HASH' ? $r->{json} : undef;
}
sub inbox_codes { my ($j) = @_; return map { $_->{code} } @{ ($j // {})->{items} // [] } }
# inbox_item($client, $code, %query) -> the item of $code (searching with q=code) or undef
sub inbox_item {
  my ($c, $code, %q) = @_;
  my $j = inbox($c, q => $code, limit => 100, %q) or return undef;
  my ($it) = grep { ($_->{code} // '') eq $code } @{ $j->{items} // [] };
  return $it;
}

# ------------------------------------------------------------------ tthcctl time
# ctl_deadline(from => ISO, days|hours|minutes => N, receipt => 1) -> epoch or undef
sub ctl_deadline {
  my (%o) = @_;
  my @a = ('deadline', '--from', $o{from});
  for (qw(days hours minutes)) { push @a, "--$_", $o{$_} if defined $o{$_} }
  push @a, '--receipt' if $o{receipt};
  my ($rc, $out) = tthcctl(@a);
  my ($line) = grep { /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/ } split /\n/, $out // '';
  return $rc || !defined $line ? undef : epoch_of($line);
}
sub ctl_elapsed {
  my ($from, $to) = @_;
  my ($rc, $out) = tthcctl('elapsed', '--from', $from, '--to', $to);
  my ($n) = grep { /^-?\d+$/ } split /\n/, $out // '';    # log lines may come first (stderr)
  return $rc || !defined $n ? undef : $n + 0;
}

# err_code($res) -> the error code of an error answer ('' if none)
sub err_code { my ($r) = @_; my $j = $r->{json}; return ref $j eq 'HASH' && ref $j->{error} eq 'HASH' ? $j->{error}{code} // '' : '' }

# error_in($res, [statuses], [codes], $name): one assertion that the answer is an
# error with one of the statuses and one of the codes (JSON body, message)
sub error_in {
  my ($r, $sts, $codes, $name) = @_;
  my $c = err_code($r);
  my $j = $r->{json};
  my $ok = (grep { $_ == $r->{status} } @$sts) && (grep { $_ eq $c } @$codes)
    && ref $j eq 'HASH' && length(($j->{error} // {})->{message} // '');
  Test::More::ok($ok, $name)
    or Test::More::diag("got $r->{status} $c, want " . join('/', @$sts) . ' ' . join('/', @$codes) . ': '
                        . substr($r->{content} // '', 0, 300));
  return $ok;
}

# snapshot($client, $code) -> [history count, row_version, dossier row, workflow]
# unchanged($client, $code, $snap, $name): one assertion that nothing changed
sub snapshot {
  my ($c, $code) = @_;
  my $row = dossier_row($code) // {};
  return { hist => history_count($code), row => $row };
}
sub unchanged {
  my ($c, $code, $s, $name) = @_;
  my $now = snapshot($c, $code);
  my @diff;
  push @diff, "history $s->{hist} -> $now->{hist}" if ($s->{hist} // -1) != ($now->{hist} // -2);
  for my $k (sort keys %{ $s->{row} }) {
    my ($x, $y) = ($s->{row}{$k} // 'NULL', $now->{row}{$k} // 'NULL');
    next if $k eq 'warning';    # the warner may re-mark the colour at any time
    push @diff, "$k $x -> $y" if $x ne $y;
  }
  Test::More::ok(!@diff, $name // "$code: nothing changed") or Test::More::diag(join '; ', @diff);
  return !@diff;
}

1;
