package Tthc::Partners;
# Helpers for tests that involve the partner simulators (sim/partners/partners_sim.py,
# started by ./tthc on the stack's PORT + 110 (portal), + 120 (postal), + 130 (payment)).
# Control API: sim/partners/README.md. Core Perl modules only.
#
#   partner_url($name)                 base URL of 'portal', 'postal' or 'payment'
#   partner_config($name, %cfg)        POST /_sim/config; -> the config now in force (hashref) or undef
#                                      (fail_rate, fail_modes => [...], down, reject_contains, slow_ms, seed)
#   partner_reset($name)               POST /_sim/reset (store, config, counters); -> true on success
#   partners_reset_all()               the three of them; -> true when all succeeded
#   partner_received($name, %filters)  GET /_sim/received (kind, ma_ho_so, key) ->
#                                      {items => [...], calls, failed_calls, conflicts}
#   portal_forget($key)                the portal drops one stored message; -> true if it held it
#   portal_put_catalogue($xml)         PUT /_sim/catalogue; -> {ok, bytes, etag} or undef
#   postal_advance(%args)              POST /_sim/postal/advance (so_hieu, status, message, ma_ho_so,
#                                      tamper, replay, timestamp_offset, thoi_diem) ->
#                                      {http_status, body, sent, timestamp, signature} (undef on error)
#   payment_pay(%args)                 POST /_sim/payment/pay (tx, status, amount_override, payer,
#                                      ma_giao_dich, ma_ho_so, tamper, replay) -> {http_status, body, sent}
#   payment_requests()                 GET /_sim/payment/requests -> [records] (tx, ma_giao_dich, amount,
#                                      status, vouchers => [{xml, http_status, ...}], ...)
#   partner_secret($file)              first line of $ROOT/etc/$file (e.g. 'postal-hmac.secret')
#   postal_sign($ts, $body)            hex HMAC-SHA256 of "$ts\n$body" with the postal secret
#   post_xml($path, $body, %headers)   POST to the stack's edge (Content-Type application/xml;
#                                      charset=utf-8 unless given) -> the HTTP::Tiny response
#   partner_request($name, $method, $path, %opt)
#                                      a call to a partner's API: opt body, key (Idempotency-Key),
#                                      token (default: the partner's; '' = none), headers, timeout
#                                      -> the HTTP::Tiny response
# The control calls' last HTTP::Tiny response is in $Tthc::Partners::LAST (diagnostics).
use strict;
use warnings;
use utf8;
use Exporter 'import';
use HTTP::Tiny;
use JSON::PP ();
use Digest::SHA qw(hmac_sha256_hex);
use Tthc::Test qw($ROOT $PORT $BASE);

our @EXPORT = qw(
  partner_url partner_config partner_reset partners_reset_all partner_received
  portal_forget portal_put_catalogue postal_advance payment_pay payment_requests
  partner_secret postal_sign post_xml partner_request
);

our %OFFSET = (portal => 110, postal => 120, payment => 130);
our %TOKEN_FILE = (portal => 'portal.token', postal => 'postal.token', payment => 'payment.token');
our $LAST;
my %BOOL = map { $_ => 1 } qw(down tamper replay);
my $JSON = JSON::PP->new->utf8->canonical;
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0, agent => 'tthc-test/1');

sub partner_url {
  my ($name) = @_;
  die "unknown partner '$name'" unless $OFFSET{$name};
  return "http://127.0.0.1:" . ($PORT + $OFFSET{$name});
}

sub _json_args {
  my (%a) = @_;
  for my $k (keys %a) {
    $a{$k} = $a{$k} ? JSON::PP::true : JSON::PP::false if $BOOL{$k};
  }
  return $JSON->encode(\%a);
}

# _control($name, $method, $path, $content?, $ctype?) -> decoded JSON (undef unless 2xx)
sub _control {
  my ($name, $method, $path, $content, $ctype) = @_;
  my $res = $http->request($method, partner_url($name) . $path, {
    (defined $content ? (content => $content,
                         headers => { 'Content-Type' => $ctype // 'application/json' }) : ()),
  });
  $LAST = $res;
  return undef unless $res->{success};
  my $v = eval { $JSON->decode($res->{content}) };
  return $v;
}

sub partner_config {
  my ($name, %cfg) = @_;
  return _control($name, 'GET', '/_sim/config') unless %cfg;
  return _control($name, 'POST', '/_sim/config', _json_args(%cfg));
}

sub partner_reset { my ($name) = @_; my $r = _control($name, 'POST', '/_sim/reset', '{}'); return $r && $r->{ok} }

sub partners_reset_all {
  my $ok = 1;
  partner_reset($_) or $ok = 0 for qw(portal postal payment);
  return $ok;
}

sub partner_received {
  my ($name, %f) = @_;
  my $q = join '&', map { "$_=" . _esc($f{$_}) } sort grep { defined $f{$_} } keys %f;
  return _control($name, 'GET', '/_sim/received' . ($q ? "?$q" : ''));
}

sub portal_forget {
  my ($key) = @_;
  my $r = _control('portal', 'POST', '/_sim/forget', _json_args(key => $key));
  return $r && $r->{forgotten};
}

sub portal_put_catalogue {
  my ($xml) = @_;
  utf8::encode($xml) if utf8::is_utf8($xml);
  return _control('portal', 'PUT', '/_sim/catalogue', $xml, 'application/xml');
}

sub postal_advance { my (%a) = @_; return _control('postal', 'POST', '/_sim/postal/advance', _json_args(%a)) }
sub payment_pay    { my (%a) = @_; return _control('payment', 'POST', '/_sim/payment/pay', _json_args(%a)) }

sub payment_requests {
  my $r = _control('payment', 'GET', '/_sim/payment/requests');
  return $r ? $r->{items} : [];
}

sub partner_secret {
  my ($file) = @_;
  open(my $fh, '<:raw', "$ROOT/etc/$file") or die "$ROOT/etc/$file: $!";
  my $line = <$fh> // '';
  close $fh;
  $line =~ s/[\r\n].*//s;
  return $line;
}

sub postal_sign {
  my ($ts, $body) = @_;
  utf8::encode($body) if utf8::is_utf8($body);
  return hmac_sha256_hex("$ts\n" . $body, partner_secret('postal-hmac.secret'));
}

sub post_xml {
  my ($path, $body, %h) = @_;
  utf8::encode($body) if utf8::is_utf8($body);
  my %headers = ('Content-Type' => 'application/xml; charset=utf-8', %h);
  return $http->request('POST', $BASE . $path, { headers => \%headers, content => $body });
}

sub partner_request {
  my ($name, $method, $path, %o) = @_;
  my $tok = exists $o{token} ? $o{token} : partner_secret($TOKEN_FILE{$name});
  my %headers = (
    (defined $tok && length $tok ? (Authorization => "Bearer $tok") : ()),
    (defined $o{key} ? ('Idempotency-Key' => $o{key}) : ()),
    (defined $o{body} ? ('Content-Type' => 'application/xml; charset=utf-8') : ()),
    %{ $o{headers} // {} },
  );
  my $body = $o{body};
  utf8::encode($body) if defined $body && utf8::is_utf8($body);
  my $h = $o{timeout} ? HTTP::Tiny->new(timeout => $o{timeout}, keep_alive => 0) : $http;
  return $h->request($method, partner_url($name) . $path,
                     { headers => \%headers, (defined $body ? (content => $body) : ()) });
}

sub _esc {
  my ($s) = @_;
  utf8::encode($s) if utf8::is_utf8($s);
  $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
  return $s;
}

1;
