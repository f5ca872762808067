#!/usr/bin/perl
# The stack answers: health, routing errors, static files; the benchmark
# routes exist only in stacks started with TTHC_BENCH=1 (bench/run).
use strict;
use warnings;
use utf8;
use Test::More;
use Tthc::Test;

my $r = api_get('/healthz');
my $j = json_ok($r, 200, 'GET /healthz is 200 with JSON');
is($j && $j->{status}, 'ok', 'healthz says {"status":"ok"}');
like($r->{headers}{'content-type'} // '', qr{^application/json}, 'healthz is application/json');

$r = api_get('/bench/return200');
is($r->{status}, 404, 'no benchmark route in a normal stack');

error_is(api_get('/api/v1/no-such-thing'), 404, 'NOT_FOUND', 'unknown API route is 404 NOT_FOUND');
error_is(api_get('/api/v2/procedures'), 404, 'NOT_FOUND', 'unknown API version is 404 NOT_FOUND');
error_is(api_request('DELETE', '/api/v1/procedures'), 405, 'METHOD_NOT_ALLOWED',
         'DELETE on the catalogue is 405 METHOD_NOT_ALLOWED');
error_is(api_request('PUT', '/api/v1/dossiers', content => 'x'), 405, 'METHOD_NOT_ALLOWED',
         'PUT /api/v1/dossiers is 405 METHOD_NOT_ALLOWED');
error_is(api_request('POST', '/healthz', content => ''), 405, 'METHOD_NOT_ALLOWED',
         'POST /healthz is 405 METHOD_NOT_ALLOWED');

SKIP: {
  skip 'no www/index.html', 1 unless -f "$REPO/www/index.html";
  is(api_get('/')->{status}, 200, 'GET / serves www/index.html');
}

# several requests on one keep-alive connection are fine
my $ka = HTTP::Tiny->new(keep_alive => 1, timeout => 5);
my $all = 1;
$all &&= $ka->get("$BASE/healthz")->{status} == 200 for 1 .. 20;
ok($all, '20 health checks over one keep-alive connection');

done_testing();
