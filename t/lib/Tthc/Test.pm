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
use File::Basename qw(dirname);
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
);

our $REPO = $ENV{TTHC_REPO}
  // File::Spec->rel2abs(File::Spec->catdir(dirname(__FILE__), '..', '..', '..'));
our $ROOT = $ENV{TTHC_TEST_ROOT} // "$REPO/var/test";
our $PORT = $ENV{TTHC_TEST_PORT} // 18080;
our $BASE = "http://127.0.0.1:$PORT";
our $PROC = '1.000001.000.00.00.H41';    # demo procedure: TK required, KHAC optional
our $CODE_RE = qr/^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}-\d{6}-\d{4}$/;

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
    headers => $opt{headers} // {},
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

# api_post_multipart($path, \@parts, %opt): opt boundary, headers, chunked => 1 (sent raw)
sub api_post_multipart {
  my ($path, $parts, %opt) = @_;
  my $b = $opt{boundary} // _boundary();
  my $body = multipart_body($parts, $b);
  my $ct = "multipart/form-data; boundary=$b";
  if ($opt{chunked}) {
    return raw_post($path, $body, content_type => $ct, chunked => 1,
                    chunk_size => $opt{chunk_size}, headers => $opt{headers});
  }
  return api_request('POST', $path, headers => { 'Content-Type' => $ct, %{ $opt{headers} // {} } },
                     content => $body);
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
# content_length (override, e.g. a lie), timeout, pause.
sub raw_post {
  my ($path, $body, %opt) = @_;
  my $req = "POST $path HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\nConnection: close\r\n";
  $req .= "Content-Type: $opt{content_type}\r\n" if defined $opt{content_type};
  for my $k (sort keys %{ $opt{headers} // {} }) { $req .= "$k: $opt{headers}{$k}\r\n" }
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
  my $cmd = join ' ', map { "'$_'" } "$REPO/$dir/tthcctl", '-c', "$ROOT/etc/tthc.conf", @args;
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
# files (arrayref of parts; default one TK pdf), parts (full replacement).
sub submit_dossier {
  my (%opt) = @_;
  my $parts = $opt{parts} // [
    { name => 'application', content_type => 'application/json',
      data => valid_application(%{ $opt{app} // {} }) },
    @{ $opt{files} // [ { name => 'TK', filename => 'to-khai.pdf', content_type => 'application/pdf',
                           data => sample_pdf(4096) } ] },
  ];
  return api_post_multipart('/api/v1/dossiers', $parts, %{ $opt{http} // {} });
}

# submit_ok(%opt) -> code or undef; retries while the edge answers 503
# (Redis restarting, sequence not seeded yet) for up to $opt{wait} seconds.
sub submit_ok {
  my (%opt) = @_;
  my $wait = delete $opt{wait} // 0;
  my $t0 = time;
  my $res;
  while (1) {
    $res = submit_dossier(%opt);
    last if $res->{status} == 202 || $res->{status} != 503 || time - $t0 > $wait;
    sleep 0.5;
  }
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

# log_contains($file, $string) -> true if the file contains the string
sub log_contains {
  my ($file, $s) = @_;
  open(my $fh, '<', $file) or return 0;
  local $/;
  my $c = <$fh>;
  return index($c // '', $s) >= 0;
}

1;
