package Tthc::Test;
# Helpers for the t/*.t integration tests. They run against a private stack
# started by ./tthc test (or by hand: ./tthc stack var/test 18080 up) and read
#   TTHC_TEST_ROOT  stack root (default: <repo>/var/test)
#   TTHC_TEST_PORT  nginx port (default 18080)
#   TTHC_REPO       repository (default: two levels above this file)
# Debian-packaged Perl modules only.
use strict;
use warnings;
use utf8;
use Exporter 'import';
use Test::More ();
use HTTP::Tiny;
use JSON::PP ();
use IO::Socket::INET;
use IO::Socket::UNIX;
use Time::HiRes qw(time sleep);
use Cwd ();
use File::Basename qw(dirname);
use Cwd ();
use File::Spec;
use Digest::SHA qw(sha256_hex);
use POSIX qw(strftime);

our @EXPORT = qw(
  $ROOT $PORT $REPO $BASE $PROC $CODE_RE
  api_get api_request api_post_multipart multipart_body raw_request raw_post
  json_ok error_is decode_json_safe encode_json_c
  redis redis_ok sql sql_value wait_until svc tthcctl
  sample_pdf sample_png sample_jpeg sample_elf
  valid_application submit_dossier submit_ok today_yymmdd procedure agency_of
  dossier_in_db wait_in_db store_tmp_files journal_files log_contains
  stack_ready
  client signin_applicant signin_staff csrf identity_enabled default_applicant auth_headers
  endpoint_missing session_key redis_key_of
  $EID_PORT $SIM sim_get sim_post_json sim_mode sim_reset sim_requests sim_authorize
  tthcctl_has staff_account unique_name
);

# the real path: ./tthc recognises a stack's processes by ROOT in their command line
our $REPO = $ENV{TTHC_REPO}
  // Cwd::abs_path(File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), '..', '..', '..')));
our $ROOT = $ENV{TTHC_TEST_ROOT} // "$REPO/var/test";
our $PORT = $ENV{TTHC_TEST_PORT} // 18080;
our $BASE = "http://127.0.0.1:$PORT";
our $PROC = '1.000001.000.00.00.H41';    # demo procedure: TK required, KHAC optional
our $CODE_RE = qr/^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$/;
# the e-ID simulator of the stack (./tthc starts it on PORT + 100)
our $EID_PORT = $ENV{TTHC_EID_PORT} // do {
  my $p;
  if (open(my $fh, '<', "$ROOT/etc/eid-port")) { chomp($p = <$fh> // ''); close $fh }
  ($p && $p =~ /^\d+$/) ? $p : $PORT + 100;
};
our $SIM = "http://127.0.0.1:$EID_PORT";

my $JSON = JSON::PP->new->utf8->canonical;

{   # test names and diagnostics may carry Vietnamese text
  my $b = Test::More->builder;
  binmode $_, ':encoding(UTF-8)' for $b->output, $b->failure_output, $b->todo_output;
}
my $http = HTTP::Tiny->new(timeout => 15, keep_alive => 0, agent => 'tthc-test/1');

sub encode_json_c { $JSON->encode($_[0]) }

# _show($bytes): printable text of a response body for diagnostics
sub _show {
  my ($b, $n) = @_;
  $b = substr($b // '', 0, $n // 400);
  my $t = $b;
  utf8::decode($t) or return $b =~ s/([^\x20-\x7e\n])/sprintf('\\x%02x', ord $1)/ger;
  return $t;
}

sub decode_json_safe {
  my ($bytes) = @_;
  return undef unless defined $bytes && length $bytes;
  my $v = eval { $JSON->decode($bytes) };
  return $v;
}

# ------------------------------------------------------------------ HTTP
sub _wrap {
  my ($res) = @_;
  $res->{json} = decode_json_safe($res->{content});
  return $res;
}

sub api_request {
  my ($method, $path, %opt) = @_;
  my $res = $http->request($method, $BASE . $path, {
    headers => { %{ auth_headers($opt{auth}) }, %{ $opt{headers} // {} } },
    (defined $opt{content} ? (content => $opt{content}) : ()),
  });
  return _wrap($res);
}

sub api_get { my ($path, %opt) = @_; return api_request('GET', $path, %opt) }

# multipart_body(\@parts, $boundary) -> bytes. A part is
# {name, filename?, content_type?, data, headers?(raw extra header lines)}
sub multipart_body {
  my ($parts, $boundary) = @_;
  my $body = '';
  for my $p (@$parts) {
    my $data = $p->{data} // '';
    utf8::encode($data) if utf8::is_utf8($data);
    my $disp = qq{form-data; name="$p->{name}"};
    if (defined $p->{filename}) {
      my $fn = $p->{filename};
      utf8::encode($fn) if utf8::is_utf8($fn);
      $disp .= qq{; filename="$fn"};
    }
    $body .= "--$boundary\r\nContent-Disposition: $disp\r\n";
    $body .= "Content-Type: $p->{content_type}\r\n" if defined $p->{content_type};
    $body .= $_ . "\r\n" for @{ $p->{headers} // [] };
    $body .= "\r\n" . $data . "\r\n";
  }
  $body .= "--$boundary--\r\n";
  return $body;
}

sub _boundary { return '----tthcTest' . sprintf('%08x%08x', int(rand(2**32)), int(rand(2**32))) }

# api_post_multipart($path, \@parts, %opt): opt boundary, headers, chunked => 1 (sent raw),
# auth => 1 (the default applicant's session) or a Tthc::Test::Client (its session)
sub api_post_multipart {
  my ($path, $parts, %opt) = @_;
  my $b = $opt{boundary} // _boundary();
  my $body = multipart_body($parts, $b);
  my $ct = "multipart/form-data; boundary=$b";
  if ($opt{chunked}) {
    return raw_post($path, $body, content_type => $ct, chunked => 1,
                    chunk_size => $opt{chunk_size}, headers => $opt{headers}, auth => $opt{auth});
  }
  return api_request('POST', $path, headers => { 'Content-Type' => $ct, %{ $opt{headers} // {} } },
                     content => $body, auth => $opt{auth});
}

# raw_request($bytes, %opt): writes arbitrary bytes to the server and reads the
# answer until the server closes (Connection: close is up to the caller).
# opt: timeout (s, default 15), pause (s between writes), pieces (arrayref of byte
# strings written one by one instead of $bytes), half_close => 1.
sub raw_request {
  my ($bytes, %opt) = @_;
  my $timeout = $opt{timeout} // 15;
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp',
                                Timeout => 5)
    or return { status => 599, reason => "connect: $!", headers => {}, content => '' };
  binmode $s;
  local $SIG{PIPE} = 'IGNORE';
  my $t0 = time;
  for my $piece (@{ $opt{pieces} // [$bytes] }) {
    my $off = 0;
    while ($off < length $piece) {
      my $n = syswrite($s, $piece, 65536, $off);
      last unless defined $n;    # server closed early (e.g. 413 before the body ended)
      $off += $n;
    }
    sleep($opt{pause}) if $opt{pause};
  }
  shutdown($s, 1) if $opt{half_close};
  my $buf = '';
  my $sel = '';
  vec($sel, fileno($s), 1) = 1;
  while (time - $t0 < $timeout) {
    my $r = $sel;
    my $n = select($r, undef, undef, 0.5);
    next unless $n;
    my $got = sysread($s, my $chunk, 65536);
    last unless $got;
    $buf .= $chunk;
    last if _complete($buf);
  }
  my $elapsed = time - $t0;
  close $s;
  return _parse_response($buf, $elapsed);
}

# _complete($buf): a whole HTTP response (headers and body) is in $buf
sub _complete {
  my ($buf) = @_;
  my $i = index($buf, "\r\n\r\n");
  return 0 if $i < 0;
  my $head = substr($buf, 0, $i);
  return length($buf) - $i - 4 >= $1 if $head =~ /^content-length:\s*(\d+)/mi;
  return $buf =~ /\r\n0\r\n\r\n$/ if $head =~ /^transfer-encoding:\s*chunked/mi;
  return 0;
}

sub _parse_response {
  my ($buf, $elapsed) = @_;
  my %res = (status => 599, reason => 'no response', headers => {}, content => '', raw => $buf,
             elapsed => $elapsed);
  my $i = index($buf, "\r\n\r\n");
  return \%res if $i < 0;
  my ($head, $body) = (substr($buf, 0, $i), substr($buf, $i + 4));
  my @lines = split /\r\n/, $head;
  my $sl = shift @lines;
  if ($sl =~ m{^HTTP/\d\.\d (\d{3}) ?(.*)$}) { @res{qw(status reason)} = ($1, $2) }
  for (@lines) {
    my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
    $res{headers}{ lc $k } = $v;
  }
  if (($res{headers}{'transfer-encoding'} // '') =~ /chunked/i) {
    my $out = '';
    while ($body =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
      my $len = hex $1;
      last if $len == 0;
      $out .= substr($body, 0, $len, '');
      $body =~ s/^\r\n//;
    }
    $body = $out;
  } elsif (defined $res{headers}{'content-length'}) {
    $body = substr($body, 0, $res{headers}{'content-length'});
  }
  $res{content} = $body;
  $res{success} = $res{status} =~ /^2/ ? 1 : 0;
  return _wrap(\%res);
}

# raw_post($path, $body, %opt): POST with full control of the bytes.
# opt: content_type (undef = no header), chunked => 1, chunk_size, headers (hashref),
# content_length (override, e.g. a lie), timeout, pause, auth (as api_post_multipart).
sub raw_post {
  my ($path, $body, %opt) = @_;
  my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nConnection: close\r\n";
  $req .= "Content-Type: $opt{content_type}\r\n" if defined $opt{content_type};
  my %h = (%{ auth_headers($opt{auth}) }, %{ $opt{headers} // {} });
  for my $k (sort keys %h) { $req .= "$k: $h{$k}\r\n" }
  my @pieces;
  if ($opt{chunked}) {
    $req .= "Transfer-Encoding: chunked\r\n\r\n";
    push @pieces, $req;
    my $cs = $opt{chunk_size} // 7919;
    for (my $o = 0; $o < length $body; $o += $cs) {
      my $c = substr($body, $o, $cs);
      push @pieces, sprintf("%x\r\n", length $c) . $c . "\r\n";
    }
    push @pieces, "0\r\n\r\n";
    @pieces = (join '', @pieces) unless $opt{pause};
  } else {
    my $len = $opt{content_length} // length $body;
    $req .= "Content-Length: $len\r\n\r\n";
    push @pieces, $req . $body;
  }
  return raw_request(undef, pieces => \@pieces, timeout => $opt{timeout}, pause => $opt{pause});
}

# ------------------------------------------------------------------ assertions
# json_ok($res, $status, $name) -> decoded JSON (or undef); one assertion.
sub json_ok {
  my ($res, $status, $name) = @_;
  $status //= 200;
  $name //= "HTTP $status with a JSON body";
  my $ok = $res->{status} == $status && defined $res->{json};
  Test::More::ok($ok, $name)
    or Test::More::diag("got $res->{status}: " . _show($res->{content}, 500));
  return $res->{json};
}

# error_is($res, $status, $code, $name): one assertion that the answer is the
# error $code with HTTP $status, a JSON body {"error":{"code","message"}} and a
# Vietnamese (non-ASCII) message. $status and $code may be array refs of
# acceptable alternatives (same index = same alternative).
sub error_is {
  my ($res, $status, $code, $name) = @_;
  my @st = ref $status ? @$status : ($status);
  my @cd = ref $code ? @$code : ($code);
  $name //= "$st[0] $cd[0]";
  my @why;
  my ($alt) = grep { $res->{status} == $st[$_] } 0 .. $#st;
  push @why, "status $res->{status} is not " . join('/', @st) unless defined $alt;
  $code = $cd[ defined $alt && $alt <= $#cd ? $alt : 0 ];
  my $j = $res->{json};
  if (!defined $j || ref $j ne 'HASH') {
    push @why, 'body is not a JSON object';
  } else {
    my $e = $j->{error};
    if (ref $e ne 'HASH') { push @why, 'no "error" object' }
    else {
      push @why, 'error.code is ' . ($e->{code} // 'missing') . ", want $code"
        if ($e->{code} // '') ne $code;
      my $m = $e->{message};
      push @why, 'error.message missing' unless defined $m && length $m;
      push @why, 'error.message has no Vietnamese (non-ASCII) letters'
        if defined $m && $m !~ /[^\x00-\x7f]/;
    }
  }
  my $ct = $res->{headers}{'content-type'} // '';
  push @why, "content-type is '$ct'" unless $ct =~ m{^application/json}i;
  Test::More::ok(!@why, $name)
    or Test::More::diag(join('; ', @why) . "\n  body: " . _show($res->{content}));
  return !@why;
}

# ------------------------------------------------------------------ Redis (tiny RESP client)
sub _resp_read {
  my ($s) = @_;
  my $line = <$s>;
  die "redis: connection closed\n" unless defined $line;
  $line =~ s/\r\n$//;
  my ($t, $rest) = (substr($line, 0, 1), substr($line, 1));
  return $rest if $t eq '+';
  return { error => $rest } if $t eq '-';
  return 0 + $rest if $t eq ':';
  if ($t eq '$') {
    return undef if $rest < 0;
    my $data = '';
    while (length $data < $rest + 2) {
      my $n = read($s, $data, $rest + 2 - length $data, length $data);
      die "redis: short read\n" unless $n;
    }
    return substr($data, 0, $rest);
  }
  if ($t eq '*') {
    return undef if $rest < 0;
    return [ map { _resp_read($s) } 1 .. $rest ];
  }
  die "redis: bad reply '$line'\n";
}

# redis(@cmd): one command on a fresh connection; returns the reply (array refs
# for arrays, {error=>...} for errors) or dies when Redis cannot be reached.
sub redis {
  my @cmd = @_;
  my $s = IO::Socket::UNIX->new(Peer => "$ROOT/run/redis.sock", Type => SOCK_STREAM)
    or die "redis: cannot connect to $ROOT/run/redis.sock: $!\n";
  binmode $s;
  my $req = '*' . scalar(@cmd) . "\r\n";
  for my $a (@cmd) {
    my $b = $a;
    utf8::encode($b) if utf8::is_utf8($b);
    $req .= '$' . length($b) . "\r\n$b\r\n";
  }
  print $s $req;
  my $r = _resp_read($s);
  close $s;
  return $r;
}

sub redis_ok { my $r = eval { redis('PING') }; return defined $r && !ref $r && $r eq 'PONG' }

# ------------------------------------------------------------------ MariaDB
# sql($query) -> list of rows (array refs) in list context, first column of the
# first row in scalar context. Runs as root over the stack's socket.
sub sql {
  my ($q) = @_;
  my @cmd = ('mariadb', '--no-defaults', '-S', "$ROOT/run/mysqld.sock", '-u', 'root', '-N', '-B',
             '--default-character-set=utf8mb4', 'tthc', '-e', $q);
  open(my $fh, '-|', @cmd) or die "sql: $!";
  binmode $fh, ':encoding(UTF-8)';
  my @rows = map { chomp; [ split /\t/, $_, -1 ] } <$fh>;
  close $fh;
  die "sql failed ($?): $q\n" if $?;
  return wantarray ? @rows : (@rows ? $rows[0][0] : undef);
}
sub sql_value { my $v = eval { scalar sql($_[0]) }; return $v }

# ------------------------------------------------------------------ stack control
sub wait_until {
  my ($cond, $timeout, $interval) = @_;
  $timeout //= 30;
  $interval //= 0.2;
  my $t0 = time;
  while (1) {
    my $v = eval { $cond->() };
    return $v if $v;
    return undef if time - $t0 > $timeout;
    sleep $interval;
  }
}

# svc($action, @args): ./tthc svc ROOT ACTION ARGS; returns true on success.
# Output goes to the TAP stream as comments only on failure.
sub svc {
  my @args = @_;
  my $out = qx{"$REPO/tthc" svc "$ROOT" @args 2>&1};
  my $rc = $?;
  Test::More::diag("./tthc svc $ROOT @args failed ($rc):\n$out") if $rc;
  Test::More::note("svc @args: $out") unless $rc;
  return $rc == 0;
}

# tthcctl(@args) -> (exit code, output)
sub tthcctl {
  my @args = @_;
  my $dir = ($ENV{TTHC_ASAN} // '') eq '1' ? 'workers/build-asan' : 'workers/build';
  my $cmd = join ' ', map { my $a = $_; utf8::encode($a) if utf8::is_utf8($a); $a =~ s/'/'\\''/g; "'$a'" }
    "$REPO/$dir/tthcctl", '-c', "$ROOT/etc/tthc.conf", @args;
  my $out = qx{$cmd 2>&1};
  return ($? >> 8, $out);
}

# stack_ready(): the API accepts a submission-free request and Redis answers.
sub stack_ready {
  return wait_until(sub { api_get('/healthz')->{status} == 200 }, 30);
}

# ------------------------------------------------------------------ sample files (real magic bytes)
sub _pad {
  my ($head, $size, $tail) = @_;
  $tail //= '';
  my $fill = $size - length($head) - length($tail);
  $fill = 0 if $fill < 0;
  my $pat = "tthc sample file padding 0123456789\n";
  my $pad = substr($pat x (int($fill / length $pat) + 1), 0, $fill);
  return $head . $pad . $tail;
}

sub sample_pdf {
  my ($size) = @_;
  $size //= 2048;
  my $head = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    . "2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n% ";
  my $tail = "\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
  return _pad($head, $size, $tail);
}

sub sample_png {
  my ($size) = @_;
  $size //= 2048;
  # signature + IHDR (1x1 RGB) as in a real file; the rest is an ancillary chunk's data
  my $ihdr = pack('N', 13) . 'IHDR' . pack('NNCCCCC', 1, 1, 8, 2, 0, 0, 0);
  $ihdr .= pack('N', 0x907753de);    # CRC of that IHDR
  return _pad("\x89PNG\r\n\x1a\n" . $ihdr, $size);
}

sub sample_jpeg {
  my ($size) = @_;
  $size //= 2048;
  my $head = "\xff\xd8\xff\xe0" . pack('n', 16) . "JFIF\0\x01\x01\0\0\x01\0\x01\0\0";
  return _pad($head, $size, "\xff\xd9");
}

sub sample_elf {
  my ($size) = @_;
  $size //= 1024;
  return _pad("\x7fELF\x02\x01\x01\0" . ("\0" x 8) . "\x02\0\x3e\0", $size);
}

# ------------------------------------------------------------------ domain helpers
sub today_yymmdd {    # Asia/Ho_Chi_Minh is UTC+7 all year
  return strftime('%y%m%d', gmtime(time + 7 * 3600));
}

my %proc_cache;
sub procedure {
  my ($code) = @_;
  $code //= $PROC;
  return $proc_cache{$code} //= do {
    my $r = api_get("/api/v1/procedures/$code");
    $r->{status} == 200 ? $r->{json} : undef;
  };
}
sub agency_of { my $p = procedure($_[0]); return $p ? $p->{agency}{code} : undef }

sub _merge {
  my ($base, $over) = @_;
  for my $k (keys %$over) {
    if (!defined $over->{$k}) { delete $base->{$k} }
    elsif (ref $over->{$k} eq 'HASH' && ref $base->{$k} eq 'HASH') { _merge($base->{$k}, $over->{$k}) }
    else { $base->{$k} = $over->{$k} }
  }
  return $base;
}

# valid_application(%overrides) -> JSON bytes of a valid application for $PROC.
# Overrides merge into nested objects; an undef value deletes the key.
sub valid_application {
  my (%over) = @_;
  my $app = {
    procedure => $PROC,
    applicant => {
      type            => 'citizen',
      name            => 'Nguyễn Thị Minh Khai',
      identity_number => '001190012345',
      email           => 'minhkhai@example.vn',
      phone           => '0912345678',
    },
    form           => { ly_do => 'Đăng ký khai sinh cho con', so_ban_sao => 1 },
    result_channel => 'online',
  };
  _merge($app, \%over);
  return $JSON->encode($app);
}

# submit_dossier(%opt): POST a valid dossier. opt: app (hashref of overrides),
# files (arrayref of parts; default one TK pdf), parts (full replacement),
# client (a signed-in Tthc::Test::Client; default: the process' applicant, see
# default_applicant, once the edge has sessions), anonymous => 1 (no session).
# Dossiers need a signed-in applicant (issue 3): the applicant's name, identity
# number and type come from the session; the form may still carry email/phone.
sub submit_dossier {
  my (%opt) = @_;
  my $parts = $opt{parts} // [
    { name => 'application', content_type => 'application/json',
      data => valid_application(%{ $opt{app} // {} }) },
    @{ $opt{files} // [ { name => 'TK', filename => 'to-khai.pdf', content_type => 'application/pdf',
                           data => sample_pdf(4096) } ] },
  ];
  my $auth = $opt{anonymous} ? undef : ($opt{client} // 1);
  my $res = api_post_multipart('/api/v1/dossiers', $parts, %{ $opt{http} // {} }, auth => $auth);
  # the default session may be gone (Redis flushed or restarted without its data):
  # sign in again once and repeat
  if (!$opt{anonymous} && !$opt{client} && $res->{status} == 401
      && (($res->{json} // {})->{error}{code} // '') eq 'UNAUTHENTICATED') {
    Test::More::note('default applicant session gone: signing in again');
    default_applicant(renew => 1);
    $res = api_post_multipart('/api/v1/dossiers', $parts, %{ $opt{http} // {} }, auth => 1);
  }
  return $res;
}

# submit_ok(%opt) -> code or undef; retries while the edge answers 503
# (Redis restarting, sequence not seeded yet) or 401 (the session is being
# re-established after Redis lost it) for up to $opt{wait} seconds.
sub submit_ok {
  my (%opt) = @_;
  my $wait = delete $opt{wait} // 0;
  my $t0 = time;
  my $res;
  while (1) {
    $res = submit_dossier(%opt);
    last if $res->{status} == 202 || ($res->{status} != 503 && $res->{status} != 401) || time - $t0 > $wait;
    sleep 0.5;
  }
  Test::More::diag("submission refused: $res->{status} " . _show($res->{content}, 300))
    if $res->{status} != 202 && !$opt{quiet};
  return $res->{status} == 202 && $res->{json} ? $res->{json}{code} : undef;
}

# MariaDB: does the dossier exist? (table `dossiers`, column `code`)
sub dossier_in_db {
  my ($code) = @_;
  my $n = sql_value("SELECT COUNT(*) FROM dossiers WHERE code = '$code'");
  return $n // 0;
}

sub wait_in_db {
  my ($codes, $timeout) = @_;
  $codes = [$codes] unless ref $codes;
  return wait_until(sub { !grep { dossier_in_db($_) != 1 } @$codes }, $timeout // 30, 0.3);
}

sub _ls { my ($d) = @_; opendir(my $h, $d) or return (); my @f = grep { !/^\.\.?$/ } readdir $h; return @f }
sub store_tmp_files { return _ls("$ROOT/store/tmp") }
sub journal_files { return _ls("$ROOT/store/journal") }

# ------------------------------------------------------------------ identity and access (issue 3)
# client(%opt) -> a cookie-aware HTTP client (Tthc::Test::Client, below)
sub client { return Tthc::Test::Client->new(@_) }

# endpoint_missing($res): the edge does not know the route (yet): 404 NOT_FOUND
sub endpoint_missing {
  my ($res) = @_;
  return $res->{status} == 404 && (($res->{json} // {})->{error}{code} // '') eq 'NOT_FOUND';
}

# identity_enabled(): the edge has sessions (GET /api/v1/session is routed)
my $identity;
sub identity_enabled {
  return $identity if defined $identity;
  my $r = api_get('/api/v1/session');
  return 1 if $r->{status} >= 500;    # Redis down just now: do not cache a guess
  return $identity = endpoint_missing($r) ? 0 : 1;
}

# session_key($sid) -> the Redis key of a session (the hash of the id, not the id):
# tthc:sess:{H} (braces literal, as every {..} in the contracts' key names); the
# form without braces is accepted too when only that one exists
sub session_key { return redis_key_of('tthc:sess:', sha256_hex($_[0] // '')) }
sub redis_key_of {
  my ($prefix, $h) = @_;
  my $k = "$prefix\{$h}";
  return $k if eval { redis('EXISTS', $k) };
  return "$prefix$h" if eval { redis('EXISTS', "$prefix$h") };
  return $k;
}

# default_applicant(renew => 1) -> the signed-in client this process submits
# dossiers with (demo citizen cd-001, or TTHC_TEST_APPLICANT), or undef when the
# edge has no sessions yet or the sign-in failed (then dossiers go without one)
my $default_client;
my $default_failed = 0;
sub default_applicant {
  my (%opt) = @_;
  return undef unless identity_enabled();
  return $default_client if $default_client && !$opt{renew};
  my $sub = $ENV{TTHC_TEST_APPLICANT} // 'cd-001';
  my $t0 = time;
  my $c;
  while (1) {    # sign-in needs the workers; they may be catching up after a restart
    $c = client(name => "default applicant $sub");
    last if $c->signin_applicant($sub);
    last if time - $t0 > ($opt{wait} // 20);
    sleep 0.5;
  }
  if ($c->sid) {
    $default_client = $c;
    $default_failed = 0;
  } else {
    Test::More::diag("default applicant $sub could not sign in: " . $c->flow_summary) unless $default_failed++;
    $default_client = undef;
  }
  return $default_client;
}

# auth_headers($auth) -> {Cookie, X-CSRF-Token} of a client; $auth = 1 means the
# default applicant; undef/0 -> {}
sub auth_headers {
  my ($auth) = @_;
  return {} unless $auth;
  my $c = ref $auth ? $auth : default_applicant();
  return {} unless $c;
  my %h;
  my $ck = $c->cookie_header('/api/v1/dossiers');
  $h{Cookie} = $ck if length $ck;
  $h{'X-CSRF-Token'} = $c->{csrf} if defined $c->{csrf};
  return \%h;
}

# signin_applicant($sub, %opt) -> a new client signed in through the e-ID flow, or undef
sub signin_applicant {
  my ($sub, %opt) = @_;
  my $c = client(name => "applicant $sub");
  return $c->signin_applicant($sub, %opt) ? $c : undef;
}

# signin_staff($user, $pass, %opt) -> a new client (signed in when $c->sid), and the response
sub signin_staff {
  my ($user, $pass, %opt) = @_;
  my $c = client(name => "staff $user");
  my $r = $c->signin_staff($user, $pass, %opt);
  return wantarray ? ($c, $r) : $c;
}

# csrf($client) -> the session's CSRF token (GET /api/v1/session)
sub csrf { my ($c) = @_; return $c->csrf }

# --- the e-ID simulator (sim/eid/eid_sim.py)
my $sim_http = HTTP::Tiny->new(timeout => 30, keep_alive => 0, max_redirect => 0, agent => 'tthc-test/1');
sub sim_get {
  my ($path, %opt) = @_;
  my $url = $path =~ m{^https?://} ? $path : $SIM . $path;
  return _wrap($sim_http->request('GET', $url, { headers => $opt{headers} // {} }));
}
sub sim_post_json {
  my ($path, $data) = @_;
  return _wrap($sim_http->request('POST', $SIM . $path, {
    headers => { 'Content-Type' => 'application/json' }, content => $JSON->encode($data) }));
}
# sim_mode($mode, %opt): make the next (sticky => 1: every) token answer hostile
sub sim_mode {
  my ($mode, %opt) = @_;
  my $r = sim_post_json('/_sim/mode', { token_mode => $mode, %opt });
  return $r->{status} == 200;
}
sub sim_reset { return sim_post_json('/_sim/reset', {})->{status} == 200 }
sub sim_requests { my $r = sim_get('/_sim/requests'); return $r->{json} ? @{ $r->{json}{requests} } : () }

# sim_authorize($authorize_url, $sub, %extra) -> the simulator's answer to the
# authorization request with login_hint=$sub&prompt=none appended (a 302 to the
# callback with code and state); $sub undef = no login hint; %extra more params
sub sim_authorize {
  my ($url, $sub, %extra) = @_;
  my %p = ((defined $sub ? (login_hint => $sub, prompt => 'none') : ()), %extra);
  my $q = join '&', map { "$_=" . _uri_escape($p{$_}) } sort keys %p;
  $url .= ($url =~ /\?/ ? '&' : '?') . $q if length $q;
  return sim_get($url);
}

sub _uri_escape {
  my ($s) = @_;
  utf8::encode($s) if utf8::is_utf8($s);
  $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
  return $s;
}

# --- officials' accounts through tthcctl
# tthcctl_has('user') / tthcctl_has('audit'): the command exists in this build
my %ctl_has;
sub tthcctl_has {
  my ($cmd) = @_;
  return $ctl_has{$cmd} //= do {
    my ($rc, $out) = tthcctl($cmd);
    $out =~ /unknown command/i ? 0 : 1;
  };
}

# unique_name($prefix) -> a username nobody used yet (^[a-z0-9._-]{3,64}$)
my $uniq = 0;
sub unique_name {
  my ($prefix) = @_;
  return lc(sprintf('%s.%d%04d', $prefix, $$ % 100000, ++$uniq + int(rand(1000)) * 10));
}

# staff_account(username, name, roles => [..], agency, password) -> {username,
# password, ok, out}; created with `tthcctl user create ... --password-file F`
sub staff_account {
  my (%o) = @_;
  my $u = $o{username} // unique_name($o{prefix} // 't');
  my $pw = $o{password} // ('Mk-' . join('', map { ('a' .. 'z', 'A' .. 'Z', 0 .. 9)[rand 62] } 1 .. 18));
  my $f = "/tmp/tthc-test-pw.$$." . int(rand(1e9));
  { my $old = umask 077; open(my $fh, '>', $f) or die "$f: $!"; print $fh $pw; close $fh; umask $old }
  my @args = ('user', 'create', '--username', $u, '--name', $o{name} // "Cán bộ $u");
  push @args, '--role', $_ for @{ $o{roles} // ['desk_officer'] };
  push @args, '--agency', $o{agency} if defined $o{agency};
  push @args, '--password-file', $f;
  my ($rc, $out) = tthcctl(@args);
  unlink $f;
  Test::More::diag("tthcctl user create $u failed ($rc): $out") if $rc;
  return { username => $u, password => $pw, ok => !$rc, out => $out, roles => $o{roles}, agency => $o{agency} };
}

# log_contains($file, $string) -> true if the file contains the string
sub log_contains {
  my ($file, $s) = @_;
  open(my $fh, '<', $file) or return 0;
  local $/;
  my $c = <$fh>;
  return index($c // '', $s) >= 0;
}

# ------------------------------------------------------------------ a cookie-aware client
# Tthc::Test::Client: keeps the cookies the edge sets (tthc_sid, tthc_oidc; the
# Secure flag is ignored: the test stack is plain HTTP on loopback), sends them
# back to the stack (never to the simulator), and sends X-CSRF-Token on every
# request that is not GET/HEAD once it knows the session's token.
package Tthc::Test::Client;
use strict;
use warnings;
use HTTP::Tiny;
use JSON::PP ();

my $CJSON = JSON::PP->new->utf8->canonical;

sub new {
  my ($class, %o) = @_;
  return bless {
    name => $o{name} // 'client',
    jar  => {},            # name -> {value, path, attrs (raw Set-Cookie)}
    csrf => undef,
    http => HTTP::Tiny->new(timeout => $o{timeout} // 30, keep_alive => 0, max_redirect => 0,
                            agent => 'tthc-test/1'),
    flow => [],
  }, $class;
}

sub sid { my ($s) = @_; return $s->{jar}{tthc_sid} ? $s->{jar}{tthc_sid}{value} : undef }
sub cookie { my ($s, $n) = @_; return $s->{jar}{$n} ? $s->{jar}{$n}{value} : undef }
sub set_cookie { my ($s, $n, $v, $path) = @_;
  if (defined $v) { $s->{jar}{$n} = { value => $v, path => $path // '/' } } else { delete $s->{jar}{$n} } }
sub clone {    # another client holding the same cookies (an old copy of a session)
  my ($s) = @_;
  my $c = (ref $s)->new(name => "$s->{name} (copy)");
  $c->{jar} = { map { $_ => { %{ $s->{jar}{$_} } } } keys %{ $s->{jar} } };
  $c->{csrf} = $s->{csrf};
  return $c;
}

sub cookie_header {
  my ($s, $path) = @_;
  $path //= '/';
  return join '; ', map { "$_=$s->{jar}{$_}{value}" }
    grep { index($path, $s->{jar}{$_}{path} // '/') == 0 } sort keys %{ $s->{jar} };
}

# _take_cookies($res): applies the Set-Cookie headers of a response to the jar;
# $res->{cookies}{NAME} = {value, attrs => {lc attr => value|1}, raw}
sub _take_cookies {
  my ($s, $res) = @_;
  my $sc = $res->{headers}{'set-cookie'};
  my @sc = !defined $sc ? () : ref $sc ? @$sc : ($sc);
  $res->{set_cookie} = \@sc;
  $res->{cookies} = {};
  for my $raw (@sc) {
    my ($nv, @attrs) = split /;\s*/, $raw;
    my ($n, $v) = $nv =~ /^\s*([^=]+)=(.*)$/ or next;
    my %a;
    for (@attrs) { my ($k, $val) = split /=/, $_, 2; $a{ lc $k } = $val // 1 }
    $res->{cookies}{$n} = { value => $v, attrs => \%a, raw => $raw };
    my $gone = (defined $a{'max-age'} && $a{'max-age'} =~ /^-?\d+$/ && $a{'max-age'} <= 0) || $v eq '';
    if ($gone) { delete $s->{jar}{$n} }
    else { $s->{jar}{$n} = { value => $v, path => $a{path} // '/', raw => $raw } }
  }
}

# request($method, $path_or_url, %opt): opt headers, content, json (data, sent as
# JSON), csrf (override value), no_csrf => 1, no_cookies => 1, cookie (raw header)
sub request {
  my ($s, $method, $url, %o) = @_;
  my $to_stack = $url !~ m{^https?://} || index($url, $Tthc::Test::BASE . '/') == 0;
  $url = $Tthc::Test::BASE . $url unless $url =~ m{^https?://};
  (my $path = $url) =~ s{^https?://[^/]+}{};
  $path =~ s/\?.*//;
  my %h = %{ $o{headers} // {} };
  if ($to_stack && !$o{no_cookies}) {
    my $ck = $o{cookie} // $s->cookie_header($path);
    $h{Cookie} = $ck if length $ck;
  }
  if ($to_stack && $method ne 'GET' && $method ne 'HEAD' && !$o{no_csrf}) {
    my $t = exists $o{csrf} ? $o{csrf} : $s->{csrf};
    $h{'X-CSRF-Token'} = $t if defined $t;
  }
  my $content = $o{content};
  if (exists $o{json}) {
    $content = $CJSON->encode($o{json});
    $h{'Content-Type'} //= 'application/json';
  }
  my $res = $s->{http}->request($method, $url, { headers => \%h, (defined $content ? (content => $content) : ()) });
  $res->{json} = Tthc::Test::decode_json_safe($res->{content});
  $s->_take_cookies($res) if $to_stack;
  return $res;
}

sub get        { my ($s, $p, %o) = @_; return $s->request('GET', $p, %o) }
sub post_json  { my ($s, $p, $d, %o) = @_; return $s->request('POST', $p, json => $d, %o) }
sub patch_json { my ($s, $p, $d, %o) = @_; return $s->request('PATCH', $p, json => $d, %o) }
sub post_multipart {
  my ($s, $p, $parts, %o) = @_;
  my $b = '----tthcTest' . sprintf('%08x%08x', int(rand(2**32)), int(rand(2**32)));
  return $s->request('POST', $p, content => Tthc::Test::multipart_body($parts, $b),
                     headers => { 'Content-Type' => "multipart/form-data; boundary=$b", %{ $o{headers} // {} } },
                     map { $_ => $o{$_} } grep { $_ ne 'headers' } keys %o);
}

# session() -> the JSON of GET /api/v1/session (remembers csrf_token)
sub session {
  my ($s) = @_;
  my $r = $s->get('/api/v1/session');
  my $j = $r->{status} == 200 ? $r->{json} : undef;
  $s->{csrf} = $j->{csrf_token} if $j && $j->{authenticated} && defined $j->{csrf_token};
  return $j;
}
sub csrf { my ($s) = @_; $s->session; return $s->{csrf} }

# eid_start(return_to => '/x') -> (response, authorize URL or undef)
sub eid_start {
  my ($s, %o) = @_;
  my $q = defined $o{return_to} ? '?return_to=' . Tthc::Test::_uri_escape($o{return_to}) : '';
  my $r = $s->get("/api/v1/auth/eid/start$q");
  my $loc = $r->{status} == 302 ? $r->{headers}{location} : undef;
  return ($r, $loc);
}

# callback($url) -> the edge's answer to the simulator's redirect (a URL on the stack)
sub callback { my ($s, $url) = @_; return $s->get($url) }

# signin_applicant($sub, return_to => '/') -> true when the whole e-ID flow ended
# with a tthc_sid cookie; each step is kept in $s->{flow} for diagnostics
sub signin_applicant {
  my ($s, $sub, %o) = @_;
  $s->{flow} = [];
  my $old = $s->sid;
  my ($r, $auth) = $s->eid_start(return_to => $o{return_to} // '/');
  push @{ $s->{flow} }, [ start => $r ];
  return 0 unless $auth;
  my $a = Tthc::Test::sim_authorize($auth, $sub);
  push @{ $s->{flow} }, [ authorize => $a ];
  my $cb = $a->{status} == 302 ? $a->{headers}{location} : undef;
  return 0 unless $cb && $cb =~ /[?&]code=/;
  my $c = $s->callback($cb);
  push @{ $s->{flow} }, [ callback => $c ];
  return 0 unless $c->{status} == 302 && $c->{cookies}{tthc_sid} && $s->sid && (!defined $old || $s->sid ne $old);
  $s->{csrf} = undef;
  $s->csrf;
  return 1;
}

# signin_staff($user, $pass, totp => '123456') -> the response (cookie kept on success)
sub signin_staff {
  my ($s, $user, $pass, %o) = @_;
  my $r = $s->post_json('/api/v1/staff/signin',
                        { username => $user, password => $pass, (defined $o{totp} ? (totp => $o{totp}) : ()) },
                        headers => $o{headers} // {});
  if ($r->{status} == 200 && $r->{cookies}{tthc_sid}) { $s->{csrf} = undef; $s->csrf }
  return $r;
}

sub signout { my ($s, %o) = @_; return $s->request('POST', '/api/v1/auth/signout', content => '', %o) }

sub flow_summary {
  my ($s) = @_;
  return join '; ', map { my ($k, $r) = @$_;
    "$k: $r->{status} " . ($r->{headers}{location} ? "-> $r->{headers}{location} " : '')
      . Tthc::Test::_show($r->{content}, 200) } @{ $s->{flow} };
}

1;
