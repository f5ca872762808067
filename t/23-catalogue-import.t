#!/usr/bin/perl
# Catalogue import from the national procedure database (issue 5 item 3, DOMAIN X2;
# docs/exchange-catalogue.md): `tthcctl catalogue import FILE [--dry-run]` and
# `tthcctl catalogue pull`.  The demo sample changes nothing; a changed export shows
# through GET /api/v1/procedures; a procedure that disappears is retired (kept, with
# its dossiers, not listed, refused for new submissions) and comes back when listed
# again; local settings (processes, upload rules) survive; hostile or invalid files
# change nothing; the pull answers 200 then 304.  The demo catalogue is restored at
# the end (END block), whatever happened.
use strict;
use warnings;
use utf8;
use Test::More;
use HTTP::Tiny;
use Tthc::Test;

plan skip_all => 'tthcctl has no catalogue command' unless tthcctl_has('catalogue');
plan skip_all => 'the stack does not answer' unless stack_ready();

my $SAMPLE  = "$REPO/exchange/samples/DanhSachThuTuc.xml";
my $DATA    = "$REPO/t/data";
my $NEWP    = '1.009999.000.00.00.H41';     # new in catalogue-changed.xml
my $NEWA    = '000.00.45.H41';
my $RENAMED = '1.001193.000.00.00.H41';
my $GONE    = '1.001022.000.00.00.H41';     # absent from catalogue-retire.xml
my $UNKNOWN = '9.999999.000.00.00.H41';

# import(file, args) -> (exit code, output, {counts})
sub import_file {
  my ($file, @args) = @_;
  my ($rc, $out) = tthcctl('catalogue', 'import', $file, @args);
  return ($rc, $out, counts($out));
}
sub counts {
  my ($out) = @_;
  my %c;
  for my $k (qw(agencies fields procedures)) {
    next unless $out =~ /^$k: (.*)$/m;
    my $l = $1;
    $c{"${k}_$1"} = $2 while $l =~ /(\w+)=(\d+)/g;
  }
  $c{changes} = $1 if $out =~ /^changes=(\d+)$/m;
  return \%c;
}
sub counts_are {
  my ($c, $want, $name) = @_;
  my @bad = grep { ($c->{$_} // -1) != $want->{$_} } sort keys %$want;
  ok(!@bad, $name) or diag(join ', ', map { "$_=" . ($c->{$_} // 'missing') . " (want $want->{$_})" } @bad);
}
# checksum of the catalogue, its local settings and the dossiers
# (dossiers themselves are compared row by row below: the warner may mark them meanwhile)
my @TABLES = qw(agencies fields procedures procedure_fees components procedure_form_fields processes
                process_steps settings departments officials agency_accounts dossier_files catalogue_imports);
sub tables_sum { return join ' ', map { "$_->[0]=$_->[1]" } sql('CHECKSUM TABLE ' . join(', ', @TABLES)) }
sub status_of { return sql_value("SELECT status FROM procedures WHERE code = '$_[0]'") // '' }
sub detail { my $r = api_get("/api/v1/procedures/$_[0]"); return $r->{status} == 200 ? $r->{json} : undef }
sub listed {
  my ($code) = @_;
  my $r = api_get('/api/v1/procedures?page_size=100');
  return scalar grep { $_->{code} eq $code } @{ ($r->{json} // {})->{items} // [] };
}
# the edge picks up a new catalogue version on its own: wait for it
sub wait_detail {
  my ($code, $cond, $name) = @_;
  my $ok = wait_until(sub { my $d = detail($code); $cond->($d) }, 10, 0.2);
  ok($ok, $name) or diag(explain(detail($code)));
}
sub process_of {
  my ($code) = @_;
  return join '|', map { join ',', map { $_ // 'NULL' } @$_ }
    sql("SELECT pr.version, pr.status, s.position, s.name, IFNULL(s.agency_id, 'NULL'), s.role, s.budget_minutes,"
      . " s.actions FROM processes pr JOIN procedures p ON p.id = pr.procedure_id"
      . " LEFT JOIN process_steps s ON s.process_id = pr.id WHERE p.code = '$code' ORDER BY pr.version, s.position");
}

my $restored = 0;
my $SIM = 'http://127.0.0.1:' . ($PORT + 110);
my $sim_put = 0;
END {
  local $?;    # keep the test's exit status
  HTTP::Tiny->new(timeout => 5)->request('DELETE', "$SIM/_sim/catalogue") if $sim_put;
  tthcctl('catalogue', 'import', $SAMPLE) unless $restored;
}

# ------------------------------------------------------------------ the demo sample changes nothing
my $sum0 = tables_sum();
my ($rc, $out, $c) = import_file($SAMPLE, '--dry-run');
is($rc, 0, 'dry run of the demo sample: exit 0') or diag($out);
like($out, qr/^dry run/m, 'the dry run says so');
is($c->{changes}, 0, 'dry run of the demo sample: 0 changes') or diag($out);
is(tables_sum(), $sum0, 'dry run: no table changed');

my $imports0 = sql_value('SELECT COUNT(*) FROM catalogue_imports') // 0;
($rc, $out, $c) = import_file($SAMPLE);
is($rc, 0, 'import of the demo sample: exit 0') or diag($out);
counts_are($c, { agencies_added => 0, agencies_updated => 0, agencies_unchanged => 4, fields_added => 0,
                 fields_updated => 0, fields_unchanged => 5, procedures_added => 0, procedures_updated => 0,
                 procedures_unchanged => 10, procedures_retired => 0, changes => 0 },
           'the demo sample: 4 agencies, 5 fields, 10 procedures unchanged, 0 changes');
is(sql_value('SELECT COUNT(*) FROM catalogue_imports'), $imports0 + 1, 'the import is recorded');
my $sha = Digest::SHA::sha256_hex(do { local $/; open(my $fh, '<:raw', $SAMPLE) or die; <$fh> });
is(sql_value('SELECT sha256 FROM catalogue_imports ORDER BY id DESC LIMIT 1'), $sha,
   'catalogue_imports holds the sha256 of the file');
is(sql_value("SELECT COUNT(*) FROM audit_log WHERE action = 'catalogue.import'"
           . " AND object = CONCAT('catalogue_import:', (SELECT MAX(id) FROM catalogue_imports))"), 1,
   'an audit entry names the import');
{
  my $s1 = tables_sum();
  $s1 =~ s/catalogue_imports=\S+//; (my $s0 = $sum0) =~ s/catalogue_imports=\S+//;
  is($s1, $s0, 'the demo sample changed no catalogue table');
}

# ------------------------------------------------------------------ a dossier of the procedure to retire
my $dossier = submit_ok(app => { procedure => $GONE }, wait => 10,
  files => [ { name => 'TK',  filename => 'to-khai.pdf',   content_type => 'application/pdf', data => sample_pdf(3000) },
             { name => 'GBT', filename => 'giay-bao-tu.pdf', content_type => 'application/pdf', data => sample_pdf(3000) } ]);
ok($dossier, "a dossier of $GONE is submitted");
ok($dossier && wait_in_db($dossier, 30), 'it reaches MariaDB');
my $dossier_row = sub {
  return join '|', map { $_ // 'NULL' } @{ (sql("SELECT d.status, d.procedure_id, d.stage, d.received_at,"
    . " (SELECT COUNT(*) FROM dossier_files f WHERE f.dossier_id = d.id)"
    . " FROM dossiers d WHERE d.code = '$dossier'"))[0] // [] };
};
my $drow0 = $dossier ? $dossier_row->() : '';

# ------------------------------------------------------------------ a changed export
my $proc_before  = process_of($RENAMED);
my $procs_sum    = join ' ', map { "$_->[0]=$_->[1]" } sql('CHECKSUM TABLE processes, process_steps');
my $maxsize_sql  = "SELECT GROUP_CONCAT(c.code, ':', c.max_size, ':', c.media_types ORDER BY c.code) FROM components c"
                 . " JOIN procedures p ON p.id = c.procedure_id WHERE p.code = '$RENAMED'";
my $maxsize0     = sql_value($maxsize_sql);
my $settings0    = join ' ', map { "$_->[0]=$_->[1]" } sql('SELECT name, value FROM settings ORDER BY name');
my $fresh_a      = !sql_value("SELECT COUNT(*) FROM agencies WHERE code = '$NEWA'");
my $fresh_f      = !sql_value("SELECT COUNT(*) FROM fields WHERE code = 'VH'");
my $fresh_p      = !sql_value("SELECT COUNT(*) FROM procedures WHERE code = '$NEWP'");
my $total0       = (api_get('/api/v1/procedures')->{json} // {})->{total} // 0;

($rc, $out, $c) = import_file("$DATA/catalogue-changed.xml");
is($rc, 0, 'import of catalogue-changed.xml: exit 0') or diag($out);
counts_are($c, { agencies_added => $fresh_a ? 1 : 0, agencies_unchanged => $fresh_a ? 4 : 5, agencies_updated => 0,
                 fields_added => $fresh_f ? 1 : 0, fields_unchanged => $fresh_f ? 5 : 6, fields_updated => 0,
                 procedures_added => $fresh_p ? 1 : 0, procedures_updated => $fresh_p ? 3 : 4,
                 procedures_unchanged => 7, procedures_retired => 0,
                 changes => ($fresh_a + $fresh_f + 4) },
           'changed export: new agency, field and procedure; 3 procedures updated (name, fee, time)');
like($out, qr/^catalogue published version=\d+$/m, 'the catalogue is republished');

wait_detail($RENAMED, sub { ($_[0] // {})->{name} && $_[0]->{name} =~ /\(tên mới\)$/ },
            'GET /api/v1/procedures: the renamed procedure has its new name');
my $d = detail('2.000488.000.00.00.H41');
is_deeply([ map { $_->{amount} } @{ ($d // {})->{fees} // [] } ], [250000], 'the changed fee is served');
$d = detail('1.003003.000.00.00.H41');
is(($d // {})->{processing_time}{amount}, 12, 'the changed processing time is served');
$d = detail($NEWP);
ok($d, 'the new procedure is served');
is($d && $d->{agency}{code}, $NEWA, 'with its new agency');
is($d && $d->{field}{code}, 'VH', 'and its new field');
is($d && $d->{processing_time}{amount}, 6, 'its time is the counter channel\'s (KenhThucHien 1)');
is_deeply([ sort @{ ($d // {})->{result_channels} // [] } ], [qw(desk online)], 'its channels are those listed');
is_deeply([ map { $_->{code} } @{ ($d // {})->{components} // [] } ], [qw(DON XN)], 'its components, in order');
is($d && $d->{components}[0]{max_size}, 10 * 1024 * 1024, 'a new component gets the default upload rule');
is(sql_value("SELECT GROUP_CONCAT(f.code, ':', f.kind, ':', f.required) FROM procedure_form_fields f"
           . " JOIN procedures p ON p.id = f.procedure_id WHERE p.code = '$NEWP'"), 'so_thanh_vien:number:1',
   'its form field is stored');
ok(listed($NEWP), 'the new procedure is listed');
is((api_get('/api/v1/procedures')->{json} // {})->{total}, $total0 + 1, 'the list has one more procedure');

($rc, $out, $c) = import_file("$DATA/catalogue-changed.xml");
is($rc, 0, 'the same export again: exit 0');
is($c->{changes}, 0, 'the same export again: 0 changes (idempotent)') or diag($out);
is($c->{procedures_unchanged}, 11, '11 procedures unchanged');
is(process_of($RENAMED), $proc_before, 'the internal process of the renamed procedure is untouched');
is(join(' ', map { "$_->[0]=$_->[1]" } sql('CHECKSUM TABLE processes, process_steps')), $procs_sum,
   'no process or step changed');
is(sql_value($maxsize_sql), $maxsize0, 'its components keep their local upload rules');
is(join(' ', map { "$_->[0]=$_->[1]" } sql('SELECT name, value FROM settings ORDER BY name')), $settings0,
   'settings untouched');

# ------------------------------------------------------------------ a procedure with dossiers disappears
($rc, $out, $c) = import_file("$DATA/catalogue-retire.xml");
is($rc, 0, 'import of catalogue-retire.xml: exit 0') or diag($out);
counts_are($c, { procedures_added => 0, procedures_updated => 1, procedures_unchanged => 9,
                 procedures_retired => 1, changes => 2 },
           "$GONE retired, $NEWP updated (a component dropped)");
is(status_of($GONE), 'retired', "$GONE is retired");
ok(sql_value("SELECT retired_at IS NOT NULL FROM procedures WHERE code = '$GONE'"), 'retired_at is set');
is(sql_value("SELECT COUNT(*) FROM components c JOIN procedures p ON p.id = c.procedure_id WHERE p.code = '$GONE'"),
   2, 'its components stay');
is($dossier ? $dossier_row->() : '', $drow0, 'its dossier is intact');
ok(wait_until(sub { !listed($GONE) }, 10, 0.2), 'it is no longer listed');
my $r_gone = api_get("/api/v1/procedures/$GONE");
my $r_unkn = api_get("/api/v1/procedures/$UNKNOWN");
is($r_gone->{status}, $r_unkn->{status}, 'its detail answers like an unknown procedure');
error_is($r_gone, 404, 'PROCEDURE_NOT_FOUND', 'GET of the retired procedure: 404 PROCEDURE_NOT_FOUND');
my @files = ({ name => 'TK', filename => 'a.pdf', content_type => 'application/pdf', data => sample_pdf(2000) },
             { name => 'GBT', filename => 'b.pdf', content_type => 'application/pdf', data => sample_pdf(2000) });
my $s_gone = submit_dossier(app => { procedure => $GONE }, files => \@files);
my $s_unkn = submit_dossier(app => { procedure => $UNKNOWN }, files => \@files);
error_is($s_gone, 422, 'UNKNOWN_PROCEDURE', 'a submission to the retired procedure is refused: 422 UNKNOWN_PROCEDURE');
is($s_gone->{status}, $s_unkn->{status}, 'the same way as an unknown procedure');
is(sql_value("SELECT COUNT(*) FROM components c JOIN procedures p ON p.id = c.procedure_id"
           . " WHERE p.code = '$NEWP' AND c.code = 'XN'"), 0, 'a dropped component no dossier uses is deleted');
ok(!grep({ $_->{code} eq 'XN' } @{ (detail($NEWP) // {})->{components} // [] }), 'and no longer served');

# ------------------------------------------------------------------ back to the demo catalogue
($rc, $out, $c) = import_file($SAMPLE);
is($rc, 0, 'the demo sample again: exit 0') or diag($out);
counts_are($c, { agencies_unchanged => 4, agencies_added => 0, agencies_updated => 0, fields_unchanged => 5,
                 procedures_added => 0, procedures_updated => 4, procedures_unchanged => 6, procedures_retired => 1,
                 changes => 5 },
           "restored: 3 procedures back, $GONE active again, $NEWP retired");
$restored = 1 if $rc == 0;
is(status_of($GONE), 'active', "$GONE is active again");
ok(!sql_value("SELECT retired_at IS NOT NULL FROM procedures WHERE code = '$GONE'"), 'retired_at is cleared');
ok(wait_until(sub { listed($GONE) }, 10, 0.2), 'it is listed again');
is(status_of($NEWP), 'retired', "$NEWP (no dossiers) is retired, not deleted");
ok(wait_until(sub { !listed($NEWP) }, 10, 0.2), 'and not listed');
is(sql_value("SELECT COUNT(*) FROM agencies WHERE code = '$NEWA'"), 1, 'an agency the export drops stays');
is(process_of($RENAMED), $proc_before, 'the internal process survived every import');

# ------------------------------------------------------------------ a component with dossiers disappears
my $gbt_sql = "SELECT CONCAT(c.active, ':', c.max_size, ':', c.media_types) FROM components c"
            . " JOIN procedures p ON p.id = c.procedure_id WHERE p.code = '$GONE' AND c.code = 'GBT'";
my $gbt0 = sql_value($gbt_sql);
($rc, $out, $c) = import_file("$DATA/catalogue-nocomp.xml");
is($rc, 0, 'import of catalogue-nocomp.xml: exit 0') or diag($out);
counts_are($c, { procedures_updated => 1, procedures_unchanged => 9, changes => 1 }, 'one procedure updated');
(my $gbt_off = $gbt0 // '') =~ s/^1:/0:/;
is(sql_value($gbt_sql), $gbt_off, 'the component a dossier uses is kept, inactive, with its upload rule');
($rc, $out, $c) = import_file($SAMPLE);
counts_are($c, { procedures_updated => 1, changes => 1 }, 'listed again: one procedure updated');
is(sql_value($gbt_sql), $gbt0, 'the component is active again, its local upload rule unchanged');

# ------------------------------------------------------------------ TrangThai 0: retired nationally
($rc, $out, $c) = import_file("$DATA/catalogue-withdrawn.xml");
counts_are($c, { procedures_retired => 1, procedures_unchanged => 9, changes => 1 },
           'TrangThai 0 retires the procedure');
is(status_of('2.000815.000.00.00.H41'), 'retired', '2.000815 is retired');
($rc, $out, $c) = import_file($SAMPLE);
counts_are($c, { procedures_updated => 1, changes => 1 }, 'TrangThai 1 again: active again');
is(status_of('2.000815.000.00.00.H41'), 'active', '2.000815 is active');

# ------------------------------------------------------------------ refused files change nothing
my $big = "/tmp/tthc-catalogue-big.$$.xml";
{
  open(my $fh, '>:raw', $big) or die "$big: $!";
  print $fh "<?xml version=\"1.0\"?>\n<DanhSachThuTuc><!-- ";
  print $fh ('x' x 65536) for 1 .. 256;
  print $fh " --></DanhSachThuTuc>\n";
  close $fh;
}
my $empty = "/tmp/tthc-catalogue-empty.$$.xml";
{ open(my $fh, '>', $empty) or die; close $fh }
my $sum1 = tables_sum();
my $n_imports = sql_value('SELECT COUNT(*) FROM catalogue_imports');
for my $case (['catalogue-malformed.xml', 'XML_MALFORMED', 'malformed XML'],
              ['catalogue-invalid.xml', 'XML_INVALID', 'schema-invalid export'],
              ['catalogue-xxe.xml', 'XML_FORBIDDEN', 'XXE (external entity)'],
              ['catalogue-laughs.xml', 'XML_FORBIDDEN', 'billion laughs'],
              ['catalogue-dupcomp.xml', 'CATALOGUE_INVALID', 'a component code listed twice'],
              [$big, 'TOO_LARGE', 'an export over 16 MiB'],
              [$empty, 'XML_MALFORMED', 'an empty file']) {
  my ($f, $class, $what) = @$case;
  my $path = $f =~ m{^/} ? $f : "$DATA/$f";
  ($rc, $out) = tthcctl('catalogue', 'import', $path);
  is($rc, 1, "$what: refused (exit 1)");
  like($out, qr/catalogue import refused: \Q$class\E/, "$what: the message names $class");
  unlike($out, qr/root:|lollol|^imported/m, "$what: no data echoed, nothing imported");
}
like((tthcctl('catalogue', 'import', "$DATA/catalogue-malformed.xml"))[1], qr/line \d+/,
     'a malformed file: the message names the line');
is(tables_sum(), $sum1, 'refused files: no table changed');
is(sql_value('SELECT COUNT(*) FROM catalogue_imports'), $n_imports, 'refused files are not recorded as imports');
unlink $big, $empty;

($rc, $out) = tthcctl('catalogue', 'import');
is($rc, 2, 'catalogue import without a file: usage (exit 2)');

# ------------------------------------------------------------------ pull from the portal (simulator)
SKIP: {
  my $sim = $SIM;
  my $http = HTTP::Tiny->new(timeout => 10);
  my $h = $http->get("$sim/_sim/health");
  skip 'the portal simulator does not answer', 13 unless $h->{success};
  # a suspiciously small export (would retire 9 of 10) is refused by the pull
  $sim_put = 1;
  my $one = do { local $/; open(my $fh, '<:raw', "$DATA/catalogue-one.xml") or die; <$fh> };
  $http->request('PUT', "$sim/_sim/catalogue", { headers => { 'Content-Type' => 'application/xml' }, content => $one });
  my $sum2 = tables_sum();
  ($rc, $out) = tthcctl('catalogue', 'pull');
  is($rc, 1, 'pull of an export that would retire most procedures: refused (exit 1)');
  like($out, qr/CATALOGUE_SUSPICIOUS/, 'the message says why');
  is(tables_sum(), $sum2, 'nothing changed');
  is(status_of('2.000002.000.00.00.H41'), 'active', 'the catalogue stays as it was');
  my $xml = do { local $/; open(my $fh, '<:raw', "$DATA/catalogue-changed.xml") or die; <$fh> };
  my $put = $http->request('PUT', "$sim/_sim/catalogue",
                           { headers => { 'Content-Type' => 'application/xml' }, content => $xml });
  ok($put->{success}, 'the simulator serves catalogue-changed.xml') or diag($put->{status});
  $restored = 0;
  ($rc, $out) = tthcctl('catalogue', 'pull');
  is($rc, 0, 'pull: exit 0') or diag($out);
  like($out, qr/^imported source=pull/m, 'pull: 200, imported');
  ok(counts($out)->{changes} > 0, 'pull: the changes are applied') or diag($out);
  is(sql_value('SELECT source FROM catalogue_imports ORDER BY id DESC LIMIT 1'), 'pull', 'recorded as a pull');
  ($rc, $out) = tthcctl('catalogue', 'pull');
  is($rc, 0, 'pull again: exit 0');
  like($out, qr/^unchanged$/m, 'pull again: 304, unchanged') or diag($out);
  $http->request('DELETE', "$sim/_sim/catalogue");
  $sim_put = 0;
  ($rc, $out) = tthcctl('catalogue', 'pull');
  like($out, qr/^imported source=pull/m, 'the simulator\'s default export (the demo sample) is pulled back');
  $restored = 1 if $rc == 0;
  is(status_of($NEWP), 'retired', 'and the demo catalogue is back');
}

done_testing();
