#!/usr/bin/perl
# Submitting dossiers: 202, code format and numbering, stored files, journal, ingestion.
# Submissions are sent by a signed-in applicant (Tthc::Test's default applicant) once the
# edge has sessions (issue 3).
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Tthc::Test;

my $agency = agency_of($PROC);
ok($agency, "agency of $PROC known from the catalogue") or BAIL_OUT('catalogue not published');
my $today = today_yymmdd();

sub seq_of { my ($c) = @_; return defined $c && $c =~ /-(\d{4})$/ ? 0 + $1 : -1 }

# 1. the simplest valid dossier
my $pdf = sample_pdf(10_000);
my $r = submit_dossier(files => [ { name => 'TK', filename => 'to-khai.pdf', content_type => 'application/pdf',
                                    data => $pdf } ]);
my $j = json_ok($r, 202, 'valid dossier is accepted with 202');
my $code = $j && $j->{code};
like($code // '', $CODE_RE, 'code has the D1 format');
is((split /-/, $code // '')[0], $agency, 'code starts with the agency of the procedure');
is((split /-/, $code // '')[1], $today, "code carries today's Asia/Ho_Chi_Minh date ($today)");
is($j && $j->{status_url}, "/api/v1/dossiers/$code", 'status_url points to the dossier');
like($r->{headers}{'content-type'} // '', qr{^application/json}, '202 is application/json');

my $sha = sha256_hex($pdf);
my $stored = "$ROOT/store/files/" . substr($sha, 0, 2) . '/' . substr($sha, 2, 2) . "/$sha";
ok(-f $stored, 'the file is in the store, named by its sha256');
ok(-f $stored && -s $stored == length $pdf, 'stored file has the uploaded size');
is_deeply([ store_tmp_files() ], [], 'store/tmp is empty after a successful upload');
ok(wait_in_db($code, 30), 'the dossier reaches MariaDB');
ok(wait_until(sub { !-e "$ROOT/store/journal/$code.json" }, 15), 'its journal file is removed after commit');

# 2. sequential submissions get sequential numbers
my @codes;
for my $i (1 .. 5) {
  my $c = submit_ok();
  push @codes, $c;
}
ok(!grep({ !defined } @codes), '5 more dossiers accepted');
my @seqs = map { seq_of($_) } ($code, @codes);
is_deeply(\@seqs, [ map { $seqs[0] + $_ } 0 .. 5 ], 'their numbers follow each other') or diag("@seqs");

# 3. all components, other media types, Vietnamese file names
my $png = sample_png(300_000);
my $khac = sample_pdf(1024 * 1024);    # exactly the limit of KHAC
my $c2 = submit_ok(files => [
  { name => 'TK', filename => 'ảnh tờ khai.png', content_type => 'image/png', data => $png },
  { name => 'KHAC', filename => 'giấy tờ khác.pdf', content_type => 'application/pdf', data => $khac },
]);
ok($c2, 'TK as PNG + KHAC as PDF at exactly its 1 MiB limit accepted');
my $c3 = submit_ok(files => [ { name => 'TK', filename => 'scan.jpg', content_type => 'image/jpeg',
                                data => sample_jpeg(5 * 1024 * 1024) } ]);
ok($c3, 'TK as JPEG at exactly its 5 MiB limit accepted');
my $c4 = submit_ok(files => [ { name => 'TK', filename => 'no-type.pdf', data => sample_pdf(3000) } ]);
ok($c4, 'a file part without Content-Type is judged by its content');
my $c5 = submit_ok(files => [ { name => 'TK', filename => 'lie.bin', content_type => 'application/octet-stream',
                                data => sample_pdf(3000) } ]);
ok($c5, 'a PDF declared as octet-stream is judged by its content');

# 4. channels
my $c6 = submit_ok(app => { result_channel => 'postal',
  postal_address => { street => '12 Lê Lợi', ward => 'Phường Thạch Thang', district => 'Quận Hải Châu',
                      province => 'Đà Nẵng' } });
ok($c6, 'postal result channel with an address accepted');
my $c7 = submit_ok(app => { result_channel => 'desk' });
ok($c7, 'desk result channel accepted');

# 5. chunked transfer encoding (HTTP/1.1 clients streaming uploads)
$r = submit_dossier(http => { chunked => 1, chunk_size => 4000 },
                    files => [ { name => 'TK', filename => 'chunked.pdf', content_type => 'application/pdf',
                                 data => sample_pdf(200_000) } ]);
$j = json_ok($r, 202, 'chunked upload accepted');
like($j && $j->{code} // '', $CODE_RE, 'chunked upload gets a code');

# 6. parts in another order (files before the application)
$r = api_post_multipart('/api/v1/dossiers', [
  { name => 'TK', filename => 'first.pdf', content_type => 'application/pdf', data => sample_pdf(5000) },
  { name => 'application', content_type => 'application/json', data => valid_application() },
], auth => 1);
json_ok($r, 202, 'file part before the application part accepted');

# 7. the same bytes twice are stored once
my $same = sample_pdf(7777);
my $d1 = submit_ok(files => [ { name => 'TK', filename => 'a.pdf', content_type => 'application/pdf', data => $same } ]);
my $d2 = submit_ok(files => [ { name => 'TK', filename => 'b.pdf', content_type => 'application/pdf', data => $same } ]);
ok($d1 && $d2 && $d1 ne $d2, 'identical files in two dossiers: two codes');
my $ss = sha256_hex($same);
ok(-f "$ROOT/store/files/" . substr($ss, 0, 2) . '/' . substr($ss, 2, 2) . "/$ss", 'stored once by content hash');

my @all = grep { defined } ($code, @codes, $c2, $c3, $c4, $c5, $c6, $c7, $d1, $d2);
ok(wait_in_db(\@all, 60), 'every accepted dossier reaches MariaDB');
is(sql_value("SELECT COUNT(*) FROM dossiers WHERE code IN (" . join(',', map { "'$_'" } @all) . ")"),
   scalar @all, 'exactly once each');
is_deeply([ store_tmp_files() ], [], 'store/tmp is empty at the end');

done_testing();
