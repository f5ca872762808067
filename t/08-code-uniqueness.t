#!/usr/bin/perl
# D1: a dossier code is never given twice, even when Redis loses its counters.
use strict;
use warnings;
use utf8;
use Test::More;
use Time::HiRes qw(sleep);
use POSIX ();
use Tthc::Test;

sub seq_of { my ($c) = @_; return defined $c && $c =~ /-(\d{4})$/ ? 0 + $1 : -1 }
my $agency = agency_of($PROC) or BAIL_OUT('catalogue not published');
my $today = today_yymmdd();
sub max_seq_db {
  return sql_value("SELECT COALESCE(MAX(CAST(SUBSTRING_INDEX(code, '-', -1) AS UNSIGNED)), 0) FROM dossiers "
                 . "WHERE code LIKE '$agency-$today-%'") // -1;
}
sub codes_in_db { return map { $_->[0] } sql("SELECT code FROM dossiers WHERE code LIKE '$agency-$today-%'") }

ok(svc('start-workers', 2), 'workers running');
default_applicant();    # signed in before the children fork; signs in again after Redis loses the session
my @before = grep { defined } map { submit_ok(wait => 10) } 1 .. 3;
is(scalar @before, 3, '3 dossiers accepted');
ok(wait_in_db(\@before, 30), 'they reach MariaDB');

# --- 0. concurrent submissions: distinct, gap-free numbers
{
  my ($kids, $each) = (4, 8);
  my @pipes;
  for my $k (1 .. $kids) {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
      close $r;
      my @c = map { submit_ok(wait => 10) // 'FAILED' } 1 .. $each;
      print $w join("\n", @c), "\n";
      close $w;
      POSIX::_exit(0);
    }
    close $w;
    push @pipes, [ $pid, $r ];
  }
  my @codes;
  for (@pipes) { my ($pid, $r) = @$_; push @codes, map { chomp; $_ } <$r>; waitpid $pid, 0 }
  is(scalar(grep { $_ ne 'FAILED' } @codes), $kids * $each, "$kids clients x $each concurrent submissions accepted");
  my %u = map { $_ => 1 } @codes;
  is(scalar keys %u, scalar @codes, 'all codes distinct');
  my @s = sort { $a <=> $b } map { seq_of($_) } @codes;
  is_deeply(\@s, [ $s[0] .. $s[0] + $#s ], 'their numbers form one gap-free range');
  ok(wait_in_db([ grep { $_ ne 'FAILED' } @codes ], 60), 'all reach MariaDB');
}

# --- 1. FLUSHALL
my %seen = map { $_ => 1 } codes_in_db();
my $max = max_seq_db();
ok($max >= 3, "highest number today in MariaDB: $max");
is(eval { redis('FLUSHALL') }, 'OK', 'FLUSHALL');
my $c1 = submit_ok(wait => 60);
ok($c1, 'submissions work again after FLUSHALL (after reseeding)');
ok($c1 && !$seen{$c1}, 'the new code was never given before');
cmp_ok(seq_of($c1), '>', $max, 'its number is above every number in MariaDB');
ok(wait_until(sub { api_get("/api/v1/procedures/$PROC")->{status} == 200 }, 30), 'catalogue re-published');
ok(wait_until(sub { api_get("/api/v1/dossiers/$before[0]")->{status} == 200 }, 30),
   'status views of older dossiers served again');
ok(wait_in_db($c1, 30), 'the new dossier reaches MariaDB');

# --- 2. Redis restarted without its data (AOF lost)
$seen{$_} = 1 for codes_in_db();
$max = max_seq_db();
ok(svc('kill-redis'), 'Redis killed');
system('rm', '-rf', glob("$ROOT/redis/*"));
ok(!glob("$ROOT/redis/*"), 'Redis data removed');
ok(svc('start-redis'), 'Redis started empty');
my $c2 = submit_ok(wait => 60);
ok($c2 && !$seen{$c2}, 'fresh code after losing the AOF');
cmp_ok(seq_of($c2), '>', $max, 'number above every number in MariaDB');
ok(wait_in_db($c2, 30), 'it reaches MariaDB');

# --- 3. a dossier only in the journal (accepted, not yet ingested) when Redis loses everything
$seen{$_} = 1 for codes_in_db();
ok(svc('pause-workers'), 'workers frozen');
my $j = submit_ok();
ok($j && -f "$ROOT/store/journal/$j.json", 'accepted dossier is in the journal only');
is(eval { redis('FLUSHALL') }, 'OK', 'FLUSHALL (its job and the counter are gone)');
ok(svc('kill-workers') && svc('start-workers', 2), 'workers restarted');
my $c3 = submit_ok(wait => 60);
ok($c3 && !$seen{$c3} && $c3 ne ($j // ''), 'new code differs from the journal-only one');
cmp_ok(seq_of($c3), '>', seq_of($j), 'its number is above the journal-only one');
ok(wait_in_db([ grep { defined } $j, $c3 ], 60), 'the journal-only dossier and the new one reach MariaDB');

is(scalar(() = sql('SELECT code FROM dossiers GROUP BY code HAVING COUNT(*) > 1')), 0, 'no duplicate code in MariaDB');
my @all = codes_in_db();
my %n; $n{ seq_of($_) }++ for @all;
is(scalar(grep { $n{$_} > 1 } keys %n), 0, 'no number given twice today');

done_testing();
