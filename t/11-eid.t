#!/usr/bin/perl
# Applicants' sign-in through the national e-ID (OpenID Connect code flow + PKCE):
# 1. the simulator itself (sim/eid/eid_sim.py) behaves like the provider the
#    contract describes; 2. the edge + workers run the flow against it and refuse a
#    tampered/missing/replayed state, a replayed code, a denial, a wrong nonce, a bad
#    signature, a wrong audience/issuer, an expired token and a provider failure,
#    each with the contract's code and without setting a session.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64 decode_base64);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use Tthc::Test;

sub b64u { my $s = encode_base64($_[0], ''); $s =~ tr{+/}{-_}; $s =~ s/=+$//; return $s }
sub unb64u { my $s = shift // ''; $s =~ tr{-_}{+/}; $s .= '=' x ((4 - length($s) % 4) % 4); return decode_base64($s) }
sub jwt_parts {
  my ($t) = @_;
  my ($h, $p, $sig) = split /\./, $t // '', -1;
  return (decode_json_safe(unb64u($h)), decode_json_safe(unb64u($p)), $sig, "$h.$p");
}
sub qparams { my ($url) = @_; my ($q) = ($url // '') =~ /\?(.*)$/; my %p;
  for (split /&/, $q // '') { my ($k, $v) = split /=/, $_, 2; $v //= ''; $v =~ tr/+/ /;
    $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $p{$k} = $v } return \%p }
# a Location on this site, without the scheme and host nginx may add (absolute_redirect)
sub local_path { my ($l) = @_; $l //= ''; $l =~ s{^\Qhttp://127.0.0.1:$PORT\E(?=/)}{}; return $l }
sub form { my (%f) = @_; return join '&', map { "$_=" . Tthc::Test::_uri_escape($f{$_}) } sort keys %f }

my $tmp = tempdir(CLEANUP => 1);
my $secret_file = "$ROOT/etc/eid-client.secret";
my $secret = do { open(my $fh, '<', $secret_file) or BAIL_OUT("$secret_file: $!"); local $/; my $x = <$fh>; $x =~ s/\s+$//; $x };
my $REDIRECT = "$BASE/api/v1/auth/eid/callback";
my $http = HTTP::Tiny->new(timeout => 30, max_redirect => 0);

sub sim_token {
  my (%f) = @_;
  my $r = $http->post("$SIM/token", { headers => { 'Content-Type' => 'application/x-www-form-urlencoded' },
                                      content => form(%f) });
  $r->{json} = decode_json_safe($r->{content});
  return $r;
}
# an authorization request of our own (the edge's is tested below)
sub sim_code {
  my (%o) = @_;
  my $verifier = $o{verifier} // b64u(join '', map { chr int rand 256 } 1 .. 32);
  my %p = (response_type => 'code', client_id => 'tthc-portal', redirect_uri => $REDIRECT,
           scope => 'openid profile', state => 'st-' . int(rand 1e9), nonce => $o{nonce} // 'n-' . int(rand 1e9),
           code_challenge => b64u(sha256($verifier)), code_challenge_method => 'S256', %{ $o{params} // {} });
  my $r = sim_get('/authorize?' . form(%p));
  my $q = qparams($r->{headers}{location});
  return { res => $r, code => $q->{code}, state => $q->{state}, q => $q, verifier => $verifier, nonce => $p{nonce} };
}
sub redeem { my ($g, %over) = @_;
  return sim_token(grant_type => 'authorization_code', code => $g->{code}, redirect_uri => $REDIRECT,
                   code_verifier => $g->{verifier}, client_id => 'tthc-portal', client_secret => $secret, %over) }

# ---------------------------------------------------------------- 1. the simulator
ok(sim_reset(), "simulator answers on $SIM (test controls reset)") or BAIL_OUT("no e-ID simulator on $SIM");
my $disc = json_ok(sim_get('/.well-known/openid-configuration'), 200, 'discovery document');
is($disc->{issuer}, $SIM, 'issuer is the simulator URL');
is($disc->{authorization_endpoint}, "$SIM/authorize", 'authorization endpoint');
is($disc->{token_endpoint}, "$SIM/token", 'token endpoint');
is($disc->{jwks_uri}, "$SIM/jwks", 'jwks uri');
is_deeply($disc->{code_challenge_methods_supported}, ['S256'], 'PKCE S256');
is_deeply($disc->{id_token_signing_alg_values_supported}, ['RS256'], 'RS256');

my $jwks = json_ok(sim_get('/jwks'), 200, 'JWKS');
my ($jwk) = @{ $jwks->{keys} // [] };
ok($jwk && $jwk->{kty} eq 'RSA' && $jwk->{alg} eq 'RS256' && length($jwk->{kid} // ''), 'one RSA key with a kid');
is(length(unb64u($jwk->{n})) * 8, 2048, 'RSA-2048');
my $keyfile = "$ROOT/etc/eid-sim-key.pem";
ok(-f $keyfile, 'the key is in ROOT/etc/eid-sim-key.pem');
is((stat $keyfile)[2] & 0777, 0600, 'key file mode 0600');
my ($modulus) = `openssl rsa -in '$keyfile' -noout -modulus 2>/dev/null` =~ /Modulus=([0-9A-F]+)/;
is(lc($modulus // ''), unpack('H*', unb64u($jwk->{n})), 'JWKS publishes the public half of that key');
system("openssl pkey -in '$keyfile' -pubout -out '$tmp/pub.pem' 2>/dev/null");
sub sig_ok {
  my ($jwt) = @_;
  my (undef, undef, $sig, $input) = jwt_parts($jwt);
  open(my $a, '>', "$tmp/in") or die; print $a $input; close $a;
  open(my $b, '>', "$tmp/sig") or die; binmode $b; print $b unb64u($sig); close $b;
  return `openssl dgst -sha256 -verify '$tmp/pub.pem' -signature '$tmp/sig' '$tmp/in' 2>&1` =~ /Verified OK/;
}

# authorization requests the simulator refuses
my $r = sim_get('/authorize?' . form(response_type => 'code', client_id => 'evil', redirect_uri => $REDIRECT,
                                     scope => 'openid', code_challenge => 'x' x 43, code_challenge_method => 'S256'));
is($r->{status}, 400, 'unknown client_id: 400 page, no redirect');
$r = sim_get('/authorize?' . form(response_type => 'code', client_id => 'tthc-portal',
                                  redirect_uri => "$REDIRECT/../evil", scope => 'openid',
                                  code_challenge => 'x' x 43, code_challenge_method => 'S256'));
is($r->{status}, 400, 'redirect_uri not registered exactly: 400 page, no redirect');
my $g = sim_code(params => { response_type => 'token' }, sub => 'cd-001');
is($g->{q}{error}, 'unsupported_response_type', 'response_type=token refused');
$g = sim_code(params => { scope => 'profile', login_hint => 'cd-001', prompt => 'none' });
is($g->{q}{error}, 'invalid_scope', 'scope without openid refused');
$g = sim_code(params => { code_challenge_method => 'plain', login_hint => 'cd-001', prompt => 'none' });
is($g->{q}{error}, 'invalid_request', 'PKCE plain refused');
$g = sim_code(params => { deny => 1 });
is($g->{q}{error}, 'access_denied', 'deny=1: error=access_denied');
like($g->{q}{state} // '', qr/^st-/, 'state returned with the error');

# the consent page
$r = sim_get('/authorize?' . form(response_type => 'code', client_id => 'tthc-portal', redirect_uri => $REDIRECT,
                                  scope => 'openid profile', state => 's', nonce => 'n',
                                  code_challenge => 'x' x 43, code_challenge_method => 'S256'));
is($r->{status}, 200, 'without login_hint: the sign-in page');
like($r->{headers}{'content-type'} // '', qr{^text/html}, 'HTML');
my $page = $r->{content}; utf8::decode($page);
like($page, qr/lang="vi"/, 'a Vietnamese page');
for my $who ('Nguyễn Văn An', 'Trần Thị Bình', 'Lê Văn Cường', 'Công ty TNHH Sơn La Xanh') {
  like($page, qr/\Q$who\E/, "lists $who");
}
like($page, qr/login_hint=cd-001&amp;prompt=none/, 'each identity links to an approving request');

# the code flow
$g = sim_code(params => { login_hint => 'cd-002', prompt => 'none' });
is($g->{res}{status}, 302, 'login_hint + prompt=none: 302 back');
like($g->{res}{headers}{location} // '', qr{^\Q$REDIRECT\E\?}, 'to the registered redirect_uri');
like($g->{code} // '', qr/^[A-Za-z0-9_-]{43}$/, 'with a code');
my $t = redeem($g, client_secret => 'wrong');
is($t->{status}, 401, 'wrong client secret: 401');
is($t->{json} && $t->{json}{error}, 'invalid_client', 'invalid_client');
$t = redeem($g, code_verifier => b64u('x' x 32));
is($t->{status}, 400, 'wrong PKCE verifier: 400');
is($t->{json} && $t->{json}{error}, 'invalid_grant', 'invalid_grant');
$t = redeem($g);
is($t->{status}, 400, 'a code is burnt by a failed PKCE attempt (single use)');

$g = sim_code(params => { login_hint => 'cd-002', prompt => 'none' });
$t = redeem($g, redirect_uri => "$BASE/other");
is($t->{json} && $t->{json}{error}, 'invalid_grant', 'redirect_uri differing from the request: invalid_grant');

$g = sim_code(params => { login_hint => 'cd-002', prompt => 'none' });
$t = redeem($g);
my $tok = json_ok($t, 200, 'code + verifier + secret: tokens');
is($tok->{token_type}, 'Bearer', 'token_type Bearer');
ok($tok->{access_token} && $tok->{expires_in} > 0, 'access_token and expires_in');
my ($h, $c) = jwt_parts($tok->{id_token});
is($h && $h->{alg}, 'RS256', 'id_token alg RS256');
is($h && $h->{kid}, $jwk->{kid}, 'id_token kid = the JWKS kid');
ok(sig_ok($tok->{id_token}), 'id_token signature verifies with the JWKS key');
is($c->{iss}, $SIM, 'iss');
is($c->{aud}, 'tthc-portal', 'aud = client id');
is($c->{nonce}, $g->{nonce}, 'nonce of the request');
is($c->{sub}, 'cd-002', 'sub');
is($c->{name}, 'Trần Thị Bình', 'name');
is($c->{identity_number}, '001190000002', 'identity_number');
is($c->{applicant_type}, 'citizen', 'applicant_type');
ok($c->{email} && $c->{phone_number}, 'email and phone_number');
ok(abs($c->{iat} - time) < 30 && $c->{exp} > time && $c->{auth_time} <= time + 1, 'iat/exp/auth_time');
my $ui = $http->get("$SIM/userinfo", { headers => { Authorization => "Bearer $tok->{access_token}" } });
is($ui->{status}, 200, 'userinfo with the access token');
is(decode_json_safe($ui->{content})->{identity_number}, '001190000002', 'userinfo claims');
is($http->get("$SIM/userinfo", { headers => { Authorization => 'Bearer nope' } })->{status}, 401,
   'userinfo with a wrong token: 401');
$t = redeem($g);
is($t->{status}, 400, 'the same code again: 400');
is($t->{json} && $t->{json}{error}, 'invalid_grant', 'replayed code: invalid_grant');
is($http->get("$SIM/userinfo", { headers => { Authorization => "Bearer $tok->{access_token}" } })->{status}, 401,
   'a replayed code revokes the tokens issued from it');

$g = sim_code(params => { login_hint => 'tc-001', prompt => 'none' });
(undef, $c) = jwt_parts(json_ok(redeem($g), 200, 'organisation tc-001')->{id_token});
is($c->{applicant_type}, 'organisation', 'tc-001 is an organisation');
is($c->{identity_number}, '5500123456', 'with its tax code');

# hostile token answers (test controls)
my %check = (
  wrong_nonce   => sub { $_[1]{nonce} ne $_[2] },
  wrong_aud     => sub { $_[1]{aud} ne 'tthc-portal' },
  wrong_iss     => sub { $_[1]{iss} ne $SIM },
  expired       => sub { $_[1]{exp} < time - 60 },
  bad_signature => sub { !sig_ok($_[3]) && $_[0]{kid} eq $jwk->{kid} },
);
for my $mode (sort keys %check) {
  ok(sim_mode($mode), "mode $mode");
  $g = sim_code(params => { login_hint => 'cd-001', prompt => 'none' });
  my $x = redeem($g)->{json};
  my ($hh, $cc) = jwt_parts($x && $x->{id_token});
  ok($hh && $cc && $check{$mode}->($hh, $cc, $g->{nonce}, $x->{id_token}), "$mode: the token is hostile as asked");
  $g = sim_code(params => { login_hint => 'cd-001', prompt => 'none' });
  ok(sig_ok(redeem($g)->{json}{id_token} // ''), "$mode applies to the next answer only");
}
ok(sim_mode('error500'), 'mode error500');
$g = sim_code(params => { login_hint => 'cd-001', prompt => 'none' });
is(redeem($g)->{status}, 500, 'error500: the token endpoint fails');
ok(sim_mode('wrong_aud', sticky => 1), 'sticky mode');
for (1 .. 2) { $g = sim_code(params => { login_hint => 'cd-001', prompt => 'none' });
  is((jwt_parts(redeem($g)->{json}{id_token}))[1]{aud}, 'another-client', "sticky: answer $_ hostile") }
ok(sim_mode('normal'), 'back to normal');
is(json_ok(sim_get('/_sim/mode'), 200, 'GET /_sim/mode')->{token_mode}, 'normal', 'mode is normal');

# what the simulator recorded and logged holds no secret
my @req = sim_requests();
ok(scalar(grep { $_->{path} eq '/token' } @req) >= 5, '/_sim/requests lists the token requests');
my $dump = encode_json_c(\@req);
ok(index($dump, $g->{code}) < 0 && index($dump, $secret) < 0 && index($dump, $g->{verifier}) < 0,
   '/_sim/requests shows no code, verifier or client secret');
my $log = "$ROOT/log/eid-sim.log";
ok(-s $log, 'the simulator logs to ROOT/log/eid-sim.log');
ok(!log_contains($log, $g->{code}) && !log_contains($log, $secret) && !log_contains($log, $tok->{access_token})
   && !log_contains($log, substr($tok->{id_token}, -40)), 'its log holds no code, token or secret');

# every refusal: status, code, no session cookie, not signed in
sub refused {
  my ($c, $res, $status, $code, $what) = @_;
  error_is($res, $status, $code, "$what: $status $code");
  ok(!$res->{cookies}{tthc_sid} && !$c->sid, "$what: no session cookie");
  my $s = $c->session;
  ok($s && !$s->{authenticated}, "$what: not signed in");
}
sub fresh_flow {    # -> (client, authorize URL)
  my $c = client();
  my (undef, $a) = $c->eid_start(return_to => '/');
  return ($c, $a);
}


# ---------------------------------------------------------------- 2. the flow through the edge
SKIP: {
  my $probe = api_get('/api/v1/auth/eid/start');
  skip 'the edge has no e-ID sign-in yet (GET /api/v1/auth/eid/start is 404 NOT_FOUND)', 1
    if endpoint_missing($probe);
  sim_reset();

  # start
  my $cl = client(name => 'flow');
  my ($st, $auth) = $cl->eid_start(return_to => '/ho-so/cua-toi?x=1');
  is($st->{status}, 302, 'start: 302');
  like($auth // '', qr{^\Q$SIM\E/authorize\?}, 'to the provider authorize URL');
  my $q = qparams($auth);
  is($q->{response_type}, 'code', 'response_type=code');
  is($q->{client_id}, 'tthc-portal', 'client_id');
  is($q->{redirect_uri}, $REDIRECT, 'redirect_uri');
  is($q->{scope}, 'openid profile', 'scope=openid profile');
  is($q->{code_challenge_method}, 'S256', 'code_challenge_method=S256');
  like($q->{$_} // '', qr/^[A-Za-z0-9_-]{43}$/, "$_: 43 chars base64url") for qw(state nonce code_challenge);
  my $oc = $st->{cookies}{tthc_oidc};
  ok($oc, 'tthc_oidc cookie set');
  is($oc && $oc->{value}, $q->{state}, 'it holds the state');
  is($oc && $oc->{attrs}{path}, '/api/v1/auth/eid', 'Path=/api/v1/auth/eid');
  ok($oc && $oc->{attrs}{httponly} && $oc->{attrs}{secure}, 'HttpOnly; Secure');
  is($oc && lc($oc->{attrs}{samesite} // ''), 'lax', 'SameSite=Lax');
  is($oc && $oc->{attrs}{'max-age'}, 600, 'Max-Age=600');
  my $okey = redis_key_of('tthc:oidc:', sha256_hex($q->{state} // ''));
  my $pending = decode_json_safe(eval { redis('GET', $okey) });
  ok($pending, "pending sign-in in Redis under tthc:oidc:{sha256(state)} ($okey)");
  is($pending && $pending->{nonce}, $q->{nonce}, 'with the nonce');
  is($pending && b64u(sha256($pending->{verifier} // '')), $q->{code_challenge}, 'and the verifier of the challenge');
  my $ttl = eval { redis('TTL', $okey) } // -2;
  ok($ttl > 0 && $ttl <= 600, "expires within 600 s ($ttl)");
  is(eval { redis('EXISTS', "tthc:oidc:$q->{state}") } + eval { redis('EXISTS', "tthc:oidc:{$q->{state}}") }, 0, 'the state itself is not a Redis key');

  # return_to that leaves the site is replaced by /
  for my $evil ('//evil.example/x', 'http://evil.example/', 'evil') {
    my $c2 = client();
    my ($s2, $a2) = $c2->eid_start(return_to => $evil);
    my $cb = sim_authorize($a2, 'cd-003')->{headers}{location};
    my $done = $c2->callback($cb);
    is(local_path($done->{headers}{location}), '/', "return_to '$evil' becomes /");
  }

  # the provider's approval, then the callback
  my $cb = sim_authorize($auth, 'cd-003')->{headers}{location};
  like($cb // '', qr{^\Q$REDIRECT\E\?.*code=}, 'the simulator sends the browser back with a code');
  my $before_rows = sql_value("SELECT COUNT(*) FROM applicants WHERE eid_sub = 'cd-003'") // 0;
  my $done = $cl->callback($cb);
  is($done->{status}, 302, 'callback: 302');
  is(local_path($done->{headers}{location}), '/ho-so/cua-toi?x=1', 'to return_to (query kept)');
  ok($done->{cookies}{tthc_sid} && $cl->sid, 'tthc_sid set');
  ok(!$cl->cookie('tthc_oidc'), 'tthc_oidc cleared');
  my $sess = $cl->session;
  ok($sess && $sess->{authenticated}, 'GET /api/v1/session: authenticated');
  is($sess && $sess->{kind}, 'applicant', 'kind applicant');
  is($sess && $sess->{name}, 'Lê Văn Cường', 'name from the id_token');
  is($sess && $sess->{applicant_type}, 'citizen', 'applicant_type');
  is(eval { redis('EXISTS', $okey) }, 0, 'the pending sign-in is consumed');
  my $hg = eval { redis('HGETALL', session_key($cl->sid // '')) };
  my %h = ref $hg eq 'ARRAY' ? @$hg : ();
  is($h{ident}, '038095000003', 'session holds the identity number');
  is($h{kind}, 'applicant', 'session kind');
  my $row = sql_value("SELECT COUNT(*) FROM applicants WHERE eid_sub = 'cd-003'");
  is($row, 1, 'the applicant account exists (created at first sign-in)');
  is(sql_value("SELECT CONCAT(name, '|', identity_number, '|', type) FROM applicants WHERE eid_sub = 'cd-003'"),
     'Lê Văn Cường|038095000003|citizen', 'with name, identity number and type');
  is($h{uid}, sql_value("SELECT id FROM applicants WHERE eid_sub = 'cd-003'"), 'session uid = applicant id');
  my $tr = (grep { $_->{path} eq '/token' } sim_requests())[-1];
  is($tr && $tr->{params}{grant_type}, 'authorization_code', 'the worker redeemed the code: grant_type');
  is($tr && $tr->{params}{client_secret}, '<ok>', 'with the client secret (client_secret_post)');
  is($tr && $tr->{params}{redirect_uri}, $REDIRECT, 'with the redirect_uri');
  like($tr && $tr->{result} // '', qr/^ok/, 'and the verifier matched (PKCE)');

  # signing in again with the same e-ID: same account, new session
  my $again = signin_applicant('cd-003');
  ok($again, 'second sign-in of cd-003');
  is(sql_value("SELECT COUNT(*) FROM applicants WHERE eid_sub = 'cd-003'"), 1, 'still one account');
  isnt($again && $again->sid, $cl->sid, 'another session id');
  my $org = signin_applicant('tc-001');
  is($org && $org->session->{applicant_type}, 'organisation', 'tc-001 signs in as an organisation');

  # tampered state
  my ($c1, $a1) = fresh_flow();
  my $l1 = sim_authorize($a1, 'cd-001')->{headers}{location};
  my $st1 = qparams($l1)->{state};
  (my $tampered = $l1) =~ s/state=([^&]+)/'state=' . (substr($1, 0, -1) . (substr($1, -1) eq 'A' ? 'B' : 'A'))/e;
  refused($c1, $c1->callback($tampered), 400, 'EID_STATE_INVALID', 'tampered state');
  # missing state
  (my $nostate = $l1) =~ s/[&?]state=[^&]+//;
  refused($c1, $c1->callback($nostate), 400, 'EID_STATE_INVALID', 'no state');
  # missing state cookie (right state)
  my ($c2, $a2) = fresh_flow();
  my $l2 = sim_authorize($a2, 'cd-001')->{headers}{location};
  $c2->set_cookie('tthc_oidc', undef);
  refused($c2, $c2->callback($l2), 400, 'EID_STATE_INVALID', 'no tthc_oidc cookie');
  # a state cookie of another sign-in
  my ($c3, $a3) = fresh_flow();
  my ($c3b, $a3b) = fresh_flow();
  my $l3 = sim_authorize($a3, 'cd-001')->{headers}{location};
  $c3->set_cookie('tthc_oidc', $c3b->cookie('tthc_oidc'), '/api/v1/auth/eid');
  refused($c3, $c3->callback($l3), 400, 'EID_STATE_INVALID', "another sign-in's state cookie");

  # replayed state: the same callback (state and its cookie) twice
  my ($c4, $a4) = fresh_flow();
  my $l4 = sim_authorize($a4, 'cd-001')->{headers}{location};
  my $oidc4 = $c4->cookie('tthc_oidc');
  my $c4b = $c4->clone;
  ok($c4->callback($l4)->{status} == 302 && $c4->sid, 'a sign-in goes through');
  refused($c4b, $c4b->callback($l4), 400, 'EID_STATE_INVALID', 'replayed state (same callback again)');

  # replayed code: the provider's redirect used once, then its code with a fresh state
  my ($c5, $a5) = fresh_flow();
  my $l5 = sim_authorize($a5, 'cd-001')->{headers}{location};
  my $code5 = qparams($l5)->{code};
  ok($c5->callback($l5)->{status} == 302 && $c5->sid, 'first use of the code signs in');
  my ($c6, $a6) = fresh_flow();
  my $state6 = qparams($a6)->{state};
  refused($c6, $c6->callback("$REDIRECT?code=" . $code5 . "&state=$state6"), 401, 'EID_CODE_INVALID',
          'replayed code (fresh state)');

  # the applicant refuses at the provider
  my ($c7, $a7) = fresh_flow();
  my $l7 = sim_authorize($a7, undef, deny => 1)->{headers}{location};
  like($l7 // '', qr/error=access_denied/, 'the provider reports access_denied');
  refused($c7, $c7->callback($l7), 401, 'EID_DENIED', 'denied at the provider');

  # hostile id_tokens
  for my $case ([ wrong_nonce => 'wrong nonce' ], [ bad_signature => 'bad signature' ],
                [ wrong_aud => 'wrong audience' ], [ expired => 'expired id_token' ],
                [ wrong_iss => 'wrong issuer' ], [ unknown_kid => 'unknown key id' ],
                [ alg_none => 'unsigned token (alg none)' ]) {
    my ($mode, $what) = @$case;
    my ($cx, $ax) = fresh_flow();
    my $lx = sim_authorize($ax, 'cd-001')->{headers}{location};
    ok(sim_mode($mode), "simulator: next token $mode");
    refused($cx, $cx->callback($lx), 401, 'EID_TOKEN_INVALID', $what);
    sim_mode('normal');
  }

  # the provider fails
  my ($c8, $a8) = fresh_flow();
  my $l8 = sim_authorize($a8, 'cd-001')->{headers}{location};
  ok(sim_mode('error500'), 'simulator: next token answer is a 500');
  refused($c8, $c8->callback($l8), 503, 'EID_UNAVAILABLE', 'provider error 500');
  sim_mode('normal');

  # the provider is unreachable (stopped between its redirect and the callback)
  my ($c9, $a9) = fresh_flow();
  my $l9 = sim_authorize($a9, 'cd-001')->{headers}{location};
  ok(svc('stop-eid'), 'e-ID simulator stopped');
  refused($c9, $c9->callback($l9), 503, 'EID_UNAVAILABLE', 'provider unreachable');
  ok(svc('start-eid'), 'e-ID simulator started again');

  # and after all that, a normal sign-in still works
  ok(signin_applicant('cd-001'), 'a normal sign-in works afterwards');
}
sim_reset();

done_testing();
