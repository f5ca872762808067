#!/usr/bin/perl
# The published catalogue: list, filters, search (with and without diacritics), detail.
use strict;
use warnings;
use utf8;
use Test::More;
use Unicode::Normalize qw(NFD);
use Tthc::Test;

sub fold { my $s = NFD(lc shift); $s =~ s/\p{Mn}//g; $s =~ tr/đĐ/dd/; return $s }

my $ver = eval { redis('GET', 'tthc:{cat}:version') };
ok(defined $ver && !ref $ver && $ver =~ /^\d+$/ && $ver >= 1, 'catalogue version in Redis is a positive integer')
  or diag(explain $ver);

my $r = api_get('/api/v1/procedures');
my $list = json_ok($r, 200, 'GET /api/v1/procedures');
ok($list && ref $list->{items} eq 'ARRAY', 'list has items');
ok($list && $list->{total} >= 1, 'total >= 1');
is($list && $list->{page}, 1, 'page defaults to 1');
is($list && $list->{page_size}, 20, 'page_size defaults to 20');
my ($item) = grep { $_->{code} eq $PROC } @{ $list->{items} // [] };
ok($item, "demo procedure $PROC is listed");
ok($item && !exists $item->{components} && !exists $item->{fees} && !exists $item->{search},
   'summaries carry no components, fees or search text');
ok($item && $item->{name} && $item->{agency}{code} && $item->{field}{code}, 'summary has name, agency, field');

my $p = json_ok(api_get("/api/v1/procedures/$PROC"), 200, "GET /api/v1/procedures/$PROC");
is($p && $p->{code}, $PROC, 'detail code');
like($p && $p->{agency}{code}, qr/^\d{3}\.\d{2}\.\d{2}\.[A-Z]\d{2}$/, 'agency code in national format');
ok($p && !exists $p->{search}, 'detail has no search text');
my %c = map { $_->{code} => $_ } @{ $p->{components} // [] };
ok($c{TK} && $c{TK}{required}, 'component TK is required');
is($c{TK} && $c{TK}{max_size}, 5 * 1024 * 1024, 'TK max_size is 5 MiB');
is_deeply([ sort @{ $c{TK}{media_types} // [] } ], [ sort qw(application/pdf image/jpeg image/png) ],
          'TK accepts pdf, jpeg, png');
ok($c{KHAC} && !$c{KHAC}{required}, 'component KHAC is optional');
is($c{KHAC} && $c{KHAC}{max_size}, 1024 * 1024, 'KHAC max_size is 1 MiB');
is_deeply($c{KHAC}{media_types}, ['application/pdf'], 'KHAC accepts pdf only');
is_deeply([ sort @{ $p->{result_channels} // [] } ], [qw(desk online postal)], 'result channels');
ok(ref $p->{fees} eq 'ARRAY', 'fees is an array');
ok(ref $p->{processing_time} eq 'HASH' && $p->{processing_time}{amount} > 0, 'processing time');

# filters
my $agency = $p->{agency}{code};
my $f = json_ok(api_get("/api/v1/procedures?agency=$agency"), 200, 'filter by agency');
ok($f && @{ $f->{items} } && !grep({ $_->{agency}{code} ne $agency } @{ $f->{items} }),
   'agency filter returns only that agency');
$f = json_ok(api_get('/api/v1/procedures?agency=999.99.99.Z99'), 200, 'filter by unknown agency');
is($f && $f->{total}, 0, 'unknown agency: total 0');
is_deeply($f && $f->{items}, [], 'unknown agency: no items');
my $field = $p->{field}{code};
$f = json_ok(api_get("/api/v1/procedures?field=$field"), 200, 'filter by field');
ok($f && grep({ $_->{code} eq $PROC } @{ $f->{items} }), 'field filter finds the demo procedure');

# search: a word of the name, as typed with and without diacritics
my ($word) = sort { length $b <=> length $a } grep { /[^\x00-\x7f]/ } split /\s+/, $p->{name};
$word //= (split /\s+/, $p->{name})[0];
for my $q ($word, fold($word), uc $word) {
  my $qe = $q; utf8::encode($qe); $qe =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
  my $s = json_ok(api_get("/api/v1/procedures?q=$qe"), 200, "search q=$q");
  ok($s && grep({ $_->{code} eq $PROC } @{ $s->{items} }), "search '$q' finds $PROC");
}
my $s = json_ok(api_get('/api/v1/procedures?q=zzzzqqqxxyy'), 200, 'search with no match');
is($s && $s->{total}, 0, 'no match: total 0');

# paging
$s = json_ok(api_get('/api/v1/procedures?page=1&page_size=1'), 200, 'page_size=1');
is($s && scalar @{ $s->{items} }, 1, 'one item per page');
is($s && $s->{page_size}, 1, 'page_size echoed');
my $far = json_ok(api_get('/api/v1/procedures?page=100000&page_size=20'), 200, 'page past the end');
is_deeply($far && $far->{items}, [], 'page past the end is empty');
is($far && $far->{total}, $list->{total}, 'total does not depend on the page');

error_is(api_get('/api/v1/procedures?page=0'), 400, 'INVALID_PARAMETER', 'page=0 is 400');
error_is(api_get('/api/v1/procedures?page=abc'), 400, 'INVALID_PARAMETER', 'page=abc is 400');
error_is(api_get('/api/v1/procedures?page_size=0'), 400, 'INVALID_PARAMETER', 'page_size=0 is 400');
error_is(api_get('/api/v1/procedures?page_size=-5'), 400, 'INVALID_PARAMETER', 'page_size=-5 is 400');

error_is(api_get('/api/v1/procedures/9.999999.000.00.00.H41'), 404, 'PROCEDURE_NOT_FOUND',
         'unknown procedure is 404 PROCEDURE_NOT_FOUND');
{
  my $g = api_get('/api/v1/procedures/%27%3B--%20DROP');
  ok(($g->{status} == 404 || $g->{status} == 400) && ref $g->{json} eq 'HASH' && $g->{json}{error}{code},
     'garbage procedure code is a 400/404 JSON error') or diag("$g->{status} $g->{content}");
}

done_testing();
