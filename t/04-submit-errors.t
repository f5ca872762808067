#!/usr/bin/perl
# The bad paths of POST /api/v1/dossiers (and of the status lookup): each answers the
# right status and stable code with a Vietnamese message in {"error":{...}}, fast,
# and leaves nothing behind in store/tmp.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(time sleep);
use Tthc::Test;

my $agency = agency_of($PROC) or BAIL_OUT('catalogue not published');
sub seq_of { my ($c) = @_; return defined $c && $c =~ /-(\d{4})$/ ? 0 + $1 : -1 }
sub app_part { return { name => 'application', content_type => 'application/json', data => $_[0] // valid_application() } }
sub tk { my ($data, %o) = @_; return { name => 'TK', filename => $o{filename} // 'tk.pdf',
                                       content_type => $o{content_type} // 'application/pdf', data => $data } }
# as the default signed-in applicant (its session cookie and CSRF token), once the edge has sessions
sub post { return api_post_multipart('/api/v1/dossiers', \@_, auth => 1) }
sub dpost { my ($body, %o) = @_; return raw_post('/api/v1/dossiers', $body, %o, auth => 1) }
sub tmp_clean { my ($what) = @_;
  ok(wait_until(sub { !store_tmp_files() }, 5, 0.1), "$what: store/tmp is empty")
    or diag('left: ' . join(' ', store_tmp_files())) }

my $before = submit_ok();
ok($before, 'a valid dossier first (reference number)');

# --- the application
error_is(post(app_part(valid_application(procedure => '9.999999.000.00.00.H41')), tk(sample_pdf(2000))),
         422, 'UNKNOWN_PROCEDURE', 'unknown procedure');
error_is(post(app_part(valid_application(procedure => undef)), tk(sample_pdf(2000))),
         422, 'INVALID_APPLICATION', 'application without a procedure');
if (identity_enabled()) {
  # issue 3: only a signed-in applicant sends dossiers; name and identity come from the session
  my $anon = api_post_multipart('/api/v1/dossiers', [ app_part(), tk(sample_pdf(2000)) ]);
  error_is($anon, 401, 'UNAUTHENTICATED', 'no session: 401 UNAUTHENTICATED');
  my $h = auth_headers(1);
  error_is(api_post_multipart('/api/v1/dossiers', [ app_part(), tk(sample_pdf(2000)) ],
                              headers => { Cookie => $h->{Cookie} // '' }),
           403, 'CSRF_FAILED', 'a session but no X-CSRF-Token: 403 CSRF_FAILED');
  error_is(api_post_multipart('/api/v1/dossiers', [ app_part(), tk(sample_pdf(2000)) ],
                              headers => { Cookie => $h->{Cookie} // '', 'X-CSRF-Token' => 'A' x 43 }),
           403, 'CSRF_FAILED', 'a wrong X-CSRF-Token: 403 CSRF_FAILED');
  error_is(api_post_multipart('/api/v1/dossiers', [ app_part(), tk(sample_pdf(2000)) ],
                              headers => { Cookie => 'tthc_sid=' . ('x' x 43) }),
           401, 'UNAUTHENTICATED', 'an unknown session id: 401 UNAUTHENTICATED');
} else {
  error_is(post(app_part(valid_application(applicant => { name => undef })), tk(sample_pdf(2000))),
           422, 'INVALID_APPLICATION', 'applicant without a name');
  error_is(post(app_part(valid_application(applicant => { identity_number => undef })), tk(sample_pdf(2000))),
           422, 'INVALID_APPLICATION', 'applicant without an identity number');
}
error_is(post(app_part(valid_application(result_channel => 'pigeon')), tk(sample_pdf(2000))),
         422, 'INVALID_APPLICATION', 'unknown result channel');
error_is(post(app_part(valid_application(result_channel => 'postal')), tk(sample_pdf(2000))),
         422, 'INVALID_APPLICATION', 'postal result channel without a postal address');
error_is(post(app_part('{"procedure": "1.000001.000.00.00.H41", "applicant": {'), tk(sample_pdf(2000))),
         400, 'MALFORMED_JSON', 'truncated JSON');
error_is(post(app_part('not json at all'), tk(sample_pdf(2000))), 400, 'MALFORMED_JSON', 'garbage instead of JSON');
error_is(post(app_part("{\"procedure\":\"\xff\xfe\"}"), tk(sample_pdf(2000))), 400, 'MALFORMED_JSON',
         'JSON with invalid UTF-8');
error_is(post(app_part('[1,2,3]'), tk(sample_pdf(2000))), [ 400, 422 ], [ 'MALFORMED_JSON', 'INVALID_APPLICATION' ],
         'JSON array instead of an object');
error_is(post(tk(sample_pdf(2000))), 400, 'MISSING_APPLICATION', 'no application part');
tmp_clean('application errors');

# --- components
error_is(post(app_part(), tk(sample_pdf(2000)),
              { name => 'XYZ', filename => 'x.pdf', content_type => 'application/pdf', data => sample_pdf(2000) }),
         422, 'UNKNOWN_COMPONENT', 'unknown component');
error_is(post(app_part(), { name => 'KHAC', filename => 'k.pdf', content_type => 'application/pdf',
                            data => sample_pdf(2000) }),
         422, 'MISSING_COMPONENT', 'required component TK missing');
error_is(post(app_part()), 422, 'MISSING_COMPONENT', 'no file at all');
error_is(post(app_part(), tk('')), 422, 'EMPTY_FILE', 'empty TK file');
tmp_clean('component errors');

# --- sizes
my $t0 = time;
error_is(post(app_part(), tk(sample_pdf(5 * 1024 * 1024 + 1))), 413, 'FILE_TOO_LARGE', 'TK one byte over 5 MiB');
tmp_clean('FILE_TOO_LARGE');
error_is(post(app_part(), tk(sample_pdf(20 * 1024 * 1024))), 413, 'FILE_TOO_LARGE', 'TK of 20 MiB');
tmp_clean('FILE_TOO_LARGE (20 MiB)');
error_is(post(app_part(), tk(sample_pdf(2000)),
              { name => 'KHAC', filename => 'k.pdf', content_type => 'application/pdf', data => sample_pdf(1024 * 1024 + 1) }),
         413, 'FILE_TOO_LARGE', 'KHAC one byte over 1 MiB');
tmp_clean('FILE_TOO_LARGE (KHAC)');
my $r = api_post_multipart('/api/v1/dossiers', [ app_part(), tk(sample_pdf(6 * 1024 * 1024)) ],
                           chunked => 1, chunk_size => 65536, auth => 1);
error_is($r, 413, 'FILE_TOO_LARGE', 'TK over 5 MiB sent chunked');
tmp_clean('FILE_TOO_LARGE (chunked)');
for my $mib (101, 200) {
  $r = dpost('', content_type => 'multipart/form-data; boundary=xyz',
                content_length => $mib * 1024 * 1024, timeout => 10);
  error_is($r, 413, 'REQUEST_TOO_LARGE', "Content-Length of $mib MiB refused before the body");
  ok($r->{elapsed} < 3, 'and at once') or diag("took $r->{elapsed}s");
}

# --- media types (judged by content, not by name or declared type)
error_is(post(app_part(), tk(sample_elf(4000), filename => 'don.pdf')), 415, 'UNSUPPORTED_MEDIA_TYPE',
         'an ELF executable named .pdf');
error_is(post(app_part(), tk("MZ\x90\0\3\0\0\0" . ("\0" x 2000), filename => 'setup.exe',
                             content_type => 'application/x-msdownload')),
         415, 'UNSUPPORTED_MEDIA_TYPE', 'a Windows .exe');
error_is(post(app_part(), tk("Xin chào, đây là văn bản thường.\n" x 50, filename => 'thu.pdf')), 415,
         'UNSUPPORTED_MEDIA_TYPE', 'plain text named .pdf');
error_is(post(app_part(), tk(sample_pdf(2000)),
              { name => 'KHAC', filename => 'anh.png', content_type => 'image/png', data => sample_png(2000) }),
         415, 'UNSUPPORTED_MEDIA_TYPE', 'PNG for KHAC (PDF only)');
tmp_clean('media type errors');

# --- the envelope
my $b = 'tthcB0undary';
my $body = multipart_body([ app_part(), tk(sample_pdf(3000)) ], $b);
(my $open_body = $body) =~ s/--\Q$b\E--\r\n$//;
error_is(dpost($open_body, content_type => "multipart/form-data; boundary=$b"),
         400, 'MALFORMED_MULTIPART', 'no closing boundary');
error_is(dpost("garbage\r\n" x 100, content_type => "multipart/form-data; boundary=$b"),
         400, 'MALFORMED_MULTIPART', 'garbage body');
error_is(dpost($body, content_type => 'multipart/form-data'),
         [ 400, 415 ], [ 'MALFORMED_MULTIPART', 'UNSUPPORTED_CONTENT_TYPE' ], 'multipart without a boundary parameter');
error_is(dpost("--$b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--$b--\r\n",
                  content_type => "multipart/form-data; boundary=$b"),
         400, 'MALFORMED_MULTIPART', 'part without Content-Disposition');
error_is(dpost("--$b\r\nContent-Disposition: form-data; name=\"TK\"; filename=\"a.pdf\"\r\n"
                  . ('X-Long: ' . ('a' x 20000) . "\r\n") . "\r\n%PDF-1.4\r\n--$b--\r\n",
                  content_type => "multipart/form-data; boundary=$b"),
         400, 'MALFORMED_MULTIPART', 'huge part header');
error_is(dpost($open_body, content_type => "multipart/form-data; boundary=$b", chunked => 1),
         400, 'MALFORMED_MULTIPART', 'no closing boundary, chunked');
error_is(dpost('', content_type => "multipart/form-data; boundary=$b"),
         400, 'MALFORMED_MULTIPART', 'empty body');
tmp_clean('malformed multipart');
error_is(dpost(valid_application(), content_type => 'application/json'),
         415, 'UNSUPPORTED_CONTENT_TYPE', 'JSON body instead of multipart');
error_is(dpost('a=b&c=d', content_type => 'application/x-www-form-urlencoded'),
         415, 'UNSUPPORTED_CONTENT_TYPE', 'urlencoded form');
error_is(dpost($body), 415, 'UNSUPPORTED_CONTENT_TYPE', 'no Content-Type');

# --- so far nothing was accepted: no dossier number was used
my $mid = submit_ok();
is(seq_of($mid), seq_of($before) + 1, 'rejected submissions did not consume dossier numbers')
  or diag("before $before, after $mid");
$before = $mid;

# --- issue 3: the applicant's identity comes from the session, not from the form
SKIP: {
  skip 'the edge has no sessions yet', 3 unless identity_enabled();
  my $own = submit_ok();
  my $none = submit_ok(app => { applicant => { name => undef, identity_number => undef, type => undef } });
  my $other = submit_ok(app => { applicant => { name => 'Phạm Văn Giả Mạo', identity_number => '079099999999' } });
  ok($own && $none && $other, 'accepted with, without and with somebody else\'s name and identity number in the form');
  my @v = map { api_get("/api/v1/dossiers/$_")->{json} // {} } grep { defined } $own, $none, $other;
  is_deeply([ map { $_->{applicant}{name} // '' } @v[1, 2] ], [ ($v[0]{applicant}{name} // '-') x 2 ],
            'each view shows the signed-in applicant (same masked name)');
  is_deeply([ map { $_->{applicant}{identity_number} // '' } @v[1, 2] ],
            [ ($v[0]{applicant}{identity_number} // '-') x 2 ], 'and the same masked identity number');
}
$before = submit_ok();

# --- hostile file names are data, never paths
for my $fn ('../../../../../tmp/tthc-evil.pdf', '/etc/tthc-evil.pdf', "a\"b.pdf", "..\\..\\x.pdf") {
  my $res = post(app_part(), tk(sample_pdf(2500), filename => $fn));
  ok(($res->{status} == 202 || $res->{status} == 400 || $res->{status} == 422) && ref $res->{json} eq 'HASH',
     "file name '$fn' is accepted as data or refused cleanly ($res->{status})");
}
ok(!-e '/tmp/tthc-evil.pdf' && !-e '/etc/tthc-evil.pdf', 'nothing written outside the store');
tmp_clean('hostile file names');
$before = submit_ok();    # the names above may have used numbers

# --- a client that goes away mid-upload leaves nothing behind
{
  my $full = multipart_body([ app_part(), tk(sample_pdf(3 * 1024 * 1024)) ], $b);
  my $half = substr($full, 0, int(length($full) / 2));
  my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $PORT, Proto => 'tcp');
  my $ah = auth_headers(1);
  print $s "POST /api/v1/dossiers HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=$b\r\n"
         . join('', map { "$_: $ah->{$_}\r\n" } sort keys %$ah)
         . 'Content-Length: ' . length($full) . "\r\n\r\n" . $half;
  sleep 0.5;
  close $s;
  tmp_clean('client gone mid-upload');
}

# --- the status lookup
error_is(api_get("/api/v1/dossiers/$agency-010101-9999"), 404, 'DOSSIER_NOT_FOUND', 'unknown dossier code');
error_is(api_get('/api/v1/dossiers/abc'), 400, 'INVALID_DOSSIER_CODE', 'code "abc"');
error_is(api_get("/api/v1/dossiers/$agency-010101-99999"), 400, 'INVALID_DOSSIER_CODE', '5-digit sequence');
error_is(api_get('/api/v1/dossiers/000.00.31.h41-261128-0001'), 400, 'INVALID_DOSSIER_CODE', 'lower-case agency');
error_is(api_get('/api/v1/dossiers/000.00.31.H41-261128-0001%27%20OR%201=1'), 400, 'INVALID_DOSSIER_CODE',
         'injection attempt');
error_is(api_get("/api/v1/dossiers/" . ('9' x 5000)), 400, 'INVALID_DOSSIER_CODE', 'very long code');

# --- rejected submissions use no dossier number
my $after = submit_ok();
is(seq_of($after), seq_of($before) + 1, 'later rejections did not consume dossier numbers either')
  or diag("before $before, after $after");

# --- Redis down: 503 SERVICE_UNAVAILABLE quickly, then recovery
ok(svc('stop-redis'), 'Redis stopped');
my $t = time;
error_is(api_get('/healthz'), 503, 'SERVICE_UNAVAILABLE', 'healthz with Redis down');
error_is(submit_dossier(), 503, 'SERVICE_UNAVAILABLE', 'submission with Redis down');
error_is(api_get("/api/v1/dossiers/$before"), 503, 'SERVICE_UNAVAILABLE', 'status lookup with Redis down');
ok(time - $t < 10, 'the three 503s came quickly') or diag(sprintf '%.1fs', time - $t);
tmp_clean('Redis down');
ok(svc('start-redis'), 'Redis restarted');
ok(wait_until(sub { api_get('/healthz')->{status} == 200 }, 20), 'healthy again');

# --- Redis hanging (socket open, no answer): 503 after tthc_redis_timeout (2 s), then recovery
ok(svc('pause-redis'), 'Redis frozen (SIGSTOP)');
for my $case ([ 'healthz', sub { api_get('/healthz') } ],
              [ 'submission', sub { submit_dossier() } ],
              [ 'status lookup', sub { api_get("/api/v1/dossiers/$before") } ]) {
  my $t1 = time;
  my $res = $case->[1]->();
  my $dt = time - $t1;
  error_is($res, 503, 'SERVICE_UNAVAILABLE', "$case->[0] with Redis hanging");
  ok($dt < 6, sprintf('%s answered in %.1fs', $case->[0], $dt));
}
tmp_clean('Redis hanging');
ok(svc('resume-redis'), 'Redis resumed');
ok(wait_until(sub { api_get('/healthz')->{status} == 200 }, 20), 'healthy again after the hang');

my $again = submit_ok(wait => 30);
ok($again, 'submissions work again');
is(seq_of($again), seq_of($after) + 1, 'numbering goes on after the restart');
ok(wait_in_db([ grep { defined } $before, $after, $again ], 30), 'accepted dossiers reach MariaDB');

# D1: four digits a day per agency; the 10,000th submission of a day is refused clearly
{
  my ($agency, $day) = $again =~ /^(.+)-(\d{6})-\d{4}$/;
  my $key = "tthc:{seq:$agency}:$day";
  my $was = redis('GET', $key);
  redis('SET', $key, 9999, 'EX', 345600);
  my $r = submit_dossier();
  error_is($r, 429, 'DAILY_LIMIT_REACHED', "the agency's 9,999 codes of the day used up: 429 DAILY_LIMIT_REACHED");
  like($r->{content} // '', qr/9\.999/, 'the message says why (in Vietnamese)');
  redis('SET', $key, $was // 0, 'EX', 345600);
  ok(submit_ok(wait => 10), 'with numbers left, submissions are accepted again');
}

done_testing();
