#!/usr/bin/perl
# A 5 MiB upload is streamed to the store: it never raises an nginx worker's
# memory (peak RSS, VmHWM) by more than 1 MiB (issue "Foundation", done-when).
use strict;
use warnings;
use utf8;
use Test::More;
use Tthc::Test;

plan skip_all => 'peak RSS is not meaningful under AddressSanitizer' if $ENV{TTHC_ASAN};

sub workers {
  open my $fh, '<', "$ROOT/run/nginx.pid" or return ();
  chomp(my $master = <$fh> // '');
  my @w;
  for my $st (glob '/proc/[0-9]*/stat') {
    open my $s, '<', $st or next;
    my $line = <$s> // '';
    my ($pid, $ppid) = $line =~ /^(\d+) \(.*\) \S+ (\d+)/ or next;
    push @w, $pid if $ppid == $master;
  }
  return @w;
}

sub hwm {
  my ($pid) = @_;
  open my $fh, '<', "/proc/$pid/status" or return undef;
  while (my $l = <$fh>) { return $1 * 1024 if $l =~ /^VmHWM:\s+(\d+) kB/ }
  return undef;
}

my @w = workers();
ok(@w >= 1, 'nginx workers found: ' . join(',', @w)) or BAIL_OUT('no nginx workers');

# warm up every worker once with a small dossier so one-time allocations
# (catalogue cache, libmagic, pools) are not counted
submit_ok(wait => 10) for 1 .. 2 * @w;
my %before = map { my $p = $_; ($p => hwm($p)) } @w;

my $big = sample_pdf(5 * 1024 * 1024);
my $accepted = 0;
for (1 .. 3 * @w) {
  my $r = api_post_multipart('/api/v1/dossiers', [
    { name => 'application', content_type => 'application/json',
      data => valid_application(procedure => '2.000002.000.00.00.H41', result_channel => 'online') },
    { name => 'GT', filename => 'giay-de-nghi.pdf', content_type => 'application/pdf', data => $big },
  ], auth => 1);
  $accepted++ if $r->{status} == 202;
}
is($accepted, 3 * @w, 'every 5 MiB dossier was accepted');

for my $pid (@w) {
  my $grew = hwm($pid) - $before{$pid};
  cmp_ok($grew, '<=', 1024 * 1024, "worker $pid peak RSS grew by $grew bytes (<= 1 MiB)");
}

done_testing;
