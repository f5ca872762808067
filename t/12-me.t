#!/usr/bin/perl
# "My dossiers" (issue 3): an applicant lists and reads only their own dossiers and
# downloads their own files (through X-Accel-Redirect); another applicant gets 404
# even with the right code and file hash.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Tthc::Test;

my $probe = api_get('/api/v1/me/dossiers');
plan skip_all => 'the edge has no "my dossiers" yet (GET /api/v1/me/dossiers is 404 NOT_FOUND)'
  if endpoint_missing($probe);
error_is($probe, 401, 'UNAUTHENTICATED', 'my dossiers without a session: 401');

my $a = signin_applicant('cd-002') or BAIL_OUT('cd-002 cannot sign in');
my $b = signin_applicant('cd-003') or BAIL_OUT('cd-003 cannot sign in');

my $pdf  = sample_pdf(23_456);
my $khac = sample_pdf(7_890);
my $png  = sample_png(12_345);
my $bpdf = sample_pdf(4_321);
my $fname = 'tờ khai số 1.pdf';
my $a1 = submit_ok(client => $a, files => [
  { name => 'TK', filename => $fname, content_type => 'application/pdf', data => $pdf },
  { name => 'KHAC', filename => 'giấy tờ khác.pdf', content_type => 'application/pdf', data => $khac } ]);
my $a2 = submit_ok(client => $a, files => [
  { name => 'TK', filename => 'anh.png', content_type => 'image/png', data => $png } ]);
my $b1 = submit_ok(client => $b, files => [
  { name => 'TK', filename => 'b.pdf', content_type => 'application/pdf', data => $bpdf } ]);
ok($a1 && $a2 && $b1, 'A sends two dossiers, B one') or BAIL_OUT('submissions failed');
ok(wait_in_db([ $a1, $a2, $b1 ], 30), 'they reach MariaDB');

# --- the list
sub list_of { my ($c) = @_; my $r = $c->get('/api/v1/me/dossiers'); return $r->{status} == 200 ? $r->{json} : undef }
sub codes_of { my ($l) = @_; return map { $_->{code} } @{ ($l // {})->{items} // [] } }
ok(wait_until(sub { my %h = map { $_ => 1 } codes_of(list_of($a)); $h{$a1} && $h{$a2} }, 20),
   "A's list shows both dossiers");
my $r = $a->get('/api/v1/me/dossiers');
my $la = json_ok($r, 200, 'GET /api/v1/me/dossiers as A');
my @ca = codes_of($la);
ok(!grep({ $_ eq $b1 } @ca), "A's list does not show B's dossier");
my ($i1) = grep { $_->{code} eq $a1 } @{ $la->{items} };
ok($i1 && $i1->{procedure}{code} eq $PROC && $i1->{procedure}{name}, 'item: procedure code and name');
ok($i1 && $i1->{agency}{code} && $i1->{agency}{name}, 'item: agency');
ok($i1 && $i1->{status}{code} == 1 && $i1->{status}{label}, 'item: status');
like($i1 && $i1->{submitted_at} // '', qr/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$/, 'item: submitted_at');
my %pos; @pos{@ca} = 0 .. $#ca;
ok(defined $pos{$a2} && defined $pos{$a1} && $pos{$a2} < $pos{$a1}, 'newest first');
is($la->{page}, 1, 'page 1 by default');
cmp_ok($la->{total}, '>=', 2, 'total counts all of A\'s dossiers');
my $p1 = json_ok($a->get('/api/v1/me/dossiers?page=1&page_size=1'), 200, 'page_size=1');
my $p2 = json_ok($a->get('/api/v1/me/dossiers?page=2&page_size=1'), 200, 'page 2');
is(scalar @{ $p1->{items} // [] }, 1, 'one item on a page of one');
is($p1->{items}[0]{code}, $ca[0], 'page 1 holds the newest');
is($p2->{items}[0]{code}, $ca[1], 'page 2 the next one');
is($p1->{total}, $la->{total}, 'the same total on every page');
error_is($a->get('/api/v1/me/dossiers?page_size=1000'), 400, 'INVALID_PARAMETER', 'page_size over 100 refused');
error_is($a->get('/api/v1/me/dossiers?page=0'), 400, 'INVALID_PARAMETER', 'page 0 refused');
ok(wait_until(sub { grep { $_ eq $b1 } codes_of(list_of($b)) }, 20), "B's list shows B's dossier");
ok(!grep({ $_ eq $a1 || $_ eq $a2 } codes_of(list_of($b))), "and none of A's");
my $dbids = sql_value("SELECT COUNT(DISTINCT d.applicant_id) FROM dossiers d WHERE d.code IN ('$a1','$a2')");
is($dbids, 1, "A's dossiers belong to one applicant in MariaDB");

# --- the detail
ok(wait_until(sub { $a->get("/api/v1/me/dossiers/$a1")->{status} == 200 }, 20), 'A reads the detail of A1');
my $d = json_ok($a->get("/api/v1/me/dossiers/$a1"), 200, 'detail of A1');
is($d->{code}, $a1, 'detail: code');
is($d->{applicant}{name}, 'Trần Thị Bình', 'the owner sees the name unmasked');
is($d->{applicant}{identity_number}, '001190000002', 'and the identity number');
my %files = map { $_->{sha256} => $_ } @{ $d->{files} // [] };
ok($files{ sha256_hex($pdf) } && $files{ sha256_hex($khac) }, 'files listed with their sha256');
is($files{ sha256_hex($pdf) }{media_type}, 'application/pdf', 'with their media type');
ok(ref $d->{application} eq 'HASH', 'and the application as submitted');

for my $who ([ B => $b ], [ 'B again' => $b ]) {
  error_is($who->[1]->get("/api/v1/me/dossiers/$a1"), 404, 'DOSSIER_NOT_FOUND', "$who->[0] cannot read A1 (404)");
}
my $ghost = (split /-/, $a1)[0] . '-' . (split /-/, $a1)[1] . '-9999';
my $rg = $b->get("/api/v1/me/dossiers/$ghost");
error_is($rg, 404, 'DOSSIER_NOT_FOUND', 'a dossier that does not exist: the same 404');
is($b->get("/api/v1/me/dossiers/$a1")->{content}, $rg->{content}, "someone else's dossier and a missing one look the same");
error_is(api_get("/api/v1/me/dossiers/$a1"), 401, 'UNAUTHENTICATED', 'without a session: 401');
error_is($a->get('/api/v1/me/dossiers/abc'), [ 400, 404 ], [ 'INVALID_DOSSIER_CODE', 'DOSSIER_NOT_FOUND' ],
         'malformed code');

# --- files
my $sha = sha256_hex($pdf);
my $fr = $a->get("/api/v1/me/dossiers/$a1/files/$sha");
is($fr->{status}, 200, 'the owner downloads TK');
ok($fr->{content} eq $pdf, 'bytes identical') or diag('got ' . length($fr->{content}) . ' bytes');
like($fr->{headers}{'content-type'} // '', qr{^application/pdf}, 'Content-Type application/pdf');
like($fr->{headers}{'content-disposition'} // '', qr/^attachment;/, 'Content-Disposition: attachment');
my $enc = $fname; utf8::encode($enc); $enc =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
like($fr->{headers}{'content-disposition'} // '', qr/filename\*=UTF-8''\Q$enc\E/i, "filename*=UTF-8''<name>");
ok(!exists $fr->{headers}{'x-accel-redirect'}, 'the internal redirect does not leak to the client');
like($fr->{headers}{'cache-control'} // '', qr/no-store/, 'a personal file is never cached (Cache-Control: no-store)');
is($fr->{headers}{'x-content-type-options'} // '', 'nosniff', 'X-Content-Type-Options: nosniff');
my $fr2 = $a->get("/api/v1/me/dossiers/$a2/files/" . sha256_hex($png));
ok($fr2->{status} == 200 && $fr2->{content} eq $png, 'PNG downloaded intact');
like($fr2->{headers}{'content-type'} // '', qr{^image/png}, 'as image/png');

error_is($b->get("/api/v1/me/dossiers/$a1/files/$sha"), 404, 'DOSSIER_NOT_FOUND',
         "B cannot download A's file even with the right code and hash");
my $nf = $a->get("/api/v1/me/dossiers/$a1/files/" . sha256_hex($bpdf));
ok($nf->{status} == 404 && ref $nf->{json} eq 'HASH', "A cannot fetch B's file (it exists in the store) through A's dossier");
is($a->get("/api/v1/me/dossiers/$a1/files/" . sha256_hex($png))->{status}, 404,
   "nor A2's file through A1");
ok($a->get("/api/v1/me/dossiers/$a1/files/" . uc $sha)->{status} =~ /^40[04]$/, 'upper-case hash: 400/404');
ok($a->get("/api/v1/me/dossiers/$a1/files/../../../../etc/passwd")->{content} !~ /root:/, 'no path traversal');
error_is(api_get("/api/v1/me/dossiers/$a1/files/$sha"), 401, 'UNAUTHENTICATED', 'file without a session: 401');

# the store is never reachable directly
my $path = 'files/' . substr($sha, 0, 2) . '/' . substr($sha, 2, 2) . "/$sha";
ok(-f "$ROOT/store/$path", 'the file is in the store');
is(api_get("/_tthc_store/$path")->{status}, 404, '/_tthc_store/ is internal (404 from outside)');
is($a->get("/_tthc_store/$path")->{status}, 404, 'even with a session');
ok(api_get("/store/$path")->{status} == 404 && api_get("/$path")->{status} == 404, 'no public path to it');
my $pub = api_get("/api/v1/dossiers/$a1")->{json};
ok($pub && !grep({ exists $_->{sha256} } @{ $pub->{files} // [] }), 'the public status view carries no file hashes');

done_testing();
