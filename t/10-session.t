#!/usr/bin/perl
# Sessions at the edge (issue 3): cookie flags, opaque ids stored hashed, rotation on
# sign-in, sign-out that really ends the session, idle and absolute expiry, CSRF.
use strict;
use warnings;
use utf8;
use Test::More;
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(time sleep);
use Tthc::Test;

my $probe = api_get('/api/v1/session');
plan skip_all => 'the edge has no sessions yet (GET /api/v1/session is 404 NOT_FOUND)' if endpoint_missing($probe);

# --- no session
my $anon = json_ok($probe, 200, 'GET /api/v1/session without a cookie');
is_deeply($anon, { authenticated => JSON::PP::false() }, '{"authenticated":false}');
like($probe->{headers}{'cache-control'} // '', qr/no-store/, 'GET /api/v1/session: Cache-Control: no-store');
error_is(api_get('/api/v1/me/dossiers'), 401, 'UNAUTHENTICATED', '/api/v1/me/dossiers without a session: 401');
error_is(api_get('/api/v1/me/dossiers', headers => { Cookie => 'tthc_sid=' . ('A' x 43) }), 401, 'UNAUTHENTICATED',
         'a made-up session id: 401');
is_deeply(api_get('/api/v1/session', headers => { Cookie => 'tthc_sid=' . ('A' x 43) })->{json},
          { authenticated => JSON::PP::false() }, 'a made-up session id is not a session');

# --- sign in: the cookie
my $c = client(name => 'session');
ok($c->signin_applicant('cd-001'), 'applicant cd-001 signs in') or diag($c->flow_summary);
my $cb = $c->{flow}[-1][1];
my $ck = $cb->{cookies}{tthc_sid} // {};
my $sid = $c->sid // '';
like($sid, qr/^[A-Za-z0-9_-]{43}$/, 'session id: 43 chars base64url (32 random bytes)');
ok($ck->{attrs}{httponly}, 'HttpOnly');
ok($ck->{attrs}{secure}, 'Secure');
is(lc($ck->{attrs}{samesite} // ''), 'lax', 'SameSite=Lax');
is($ck->{attrs}{path}, '/', 'Path=/');
ok(!exists $ck->{attrs}{'max-age'} && !exists $ck->{attrs}{expires}, 'no Max-Age/Expires: a browser session');

# --- the session in Redis: hashed id, fields, idle TTL
my $key = session_key($sid);
is(eval { redis('EXISTS', $key) }, 1, 'Redis holds tthc:sess:{sha256(sid)}');
is(eval { redis('EXISTS', "tthc:sess:$sid") } + eval { redis('EXISTS', "tthc:sess:{$sid}") }, 0, 'and not the session id itself');
my $keys = eval { redis('KEYS', 'tthc:sess:*') } // [];
ok(!grep({ index($_, $sid) >= 0 } @$keys), 'no Redis key contains the session id');
my $hg = eval { redis('HGETALL', $key) };
my %f = ref $hg eq 'ARRAY' ? @$hg : ();
utf8::decode($_) for values %f;
is($f{kind}, 'applicant', 'kind applicant');
is($f{name}, 'Nguyễn Văn An', 'name');
is($f{ident}, '001090000001', 'identity number');
is($f{atype}, 'citizen', 'applicant type');
like($f{uid} // '', qr/^\d+$/, 'uid');
like($f{csrf} // '', qr/^[A-Za-z0-9_-]{43}$/, 'csrf token: 43 chars');
ok(($f{abs_exp} // 0) > time + 43200 - 120 && ($f{abs_exp} // 0) <= time + 43200 + 5, 'abs_exp = created + 12 h');
ok(!grep({ index($_ // '', $sid) >= 0 } values %f), 'the session hash does not hold its own id');
my $ttl = eval { redis('TTL', $key) } // -2;
ok($ttl > 1700 && $ttl <= 1800, "idle TTL about 1800 s ($ttl)");

my $s = $c->session;
ok($s && $s->{authenticated}, 'GET /api/v1/session: authenticated');
is($s && $s->{kind}, 'applicant', 'kind');
is($s && $s->{name}, 'Nguyễn Văn An', 'name');
is($s && $s->{applicant_type}, 'citizen', 'applicant_type');
is($s && $s->{csrf_token}, $f{csrf}, 'csrf_token = the session\'s');
ok($s && !exists $s->{sid} && !grep({ ($_ // '') eq $sid } values %$s), 'the session id is not in the answer');

# idle TTL is refreshed on every request
redis('EXPIRE', $key, 100);
$c->session;
$ttl = eval { redis('TTL', $key) } // -2;
ok($ttl > 1700, "a request refreshes the idle TTL ($ttl)");

# --- rotation: signing in again gives a new id; the old one is dead
my $old = $c->clone;
ok($c->signin_applicant('cd-001'), 'sign in again with the session cookie present');
my $sid2 = $c->sid // '';
ok(length $sid2 && $sid2 ne $sid, 'a new session id (rotation)');
ok(wait_until(sub { redis('EXISTS', $key) == 0 }, 5), 'the old session is deleted');
ok(!$old->session->{authenticated}, 'the old cookie is refused');
ok($c->session->{authenticated}, 'the new one works');
isnt($c->{csrf}, $f{csrf}, 'with a new CSRF token');

# the sign-in of someone else on the same browser also replaces the session
my $third = $c->clone;
ok($third->signin_applicant('cd-002'), 'another applicant signs in on the same browser');
is($third->session->{name}, 'Trần Thị Bình', 'the session is now theirs');
ok(!$c->session->{authenticated}, "the previous applicant's session is gone");
$c = $third;

# --- CSRF
my $k2 = session_key($c->sid);
error_is($c->signout(no_csrf => 1), 403, 'CSRF_FAILED', 'sign-out without X-CSRF-Token: 403 CSRF_FAILED');
error_is($c->signout(csrf => 'A' x 43), 403, 'CSRF_FAILED', 'sign-out with a wrong token: 403');
error_is($c->signout(csrf => ''), 403, 'CSRF_FAILED', 'sign-out with an empty token: 403');
error_is($c->signout(csrf => substr($c->{csrf}, 0, 42)), 403, 'CSRF_FAILED', 'sign-out with a truncated token: 403');
my $other = signin_applicant('cd-003');
error_is($c->signout(csrf => $other && $other->{csrf}), 403, 'CSRF_FAILED', "another session's token: 403");
ok($c->session->{authenticated}, 'the session survived the refused sign-outs');
my $sub = $c->post_multipart('/api/v1/dossiers', [
  { name => 'application', content_type => 'application/json', data => valid_application() },
  { name => 'TK', filename => 'tk.pdf', content_type => 'application/pdf', data => sample_pdf(2000) } ], no_csrf => 1);
error_is($sub, 403, 'CSRF_FAILED', 'a dossier without X-CSRF-Token: 403');
SKIP: {
  my $r = $c->post_json('/api/v1/staff/accounts', { username => 'x' }, no_csrf => 1);
  skip 'no staff accounts API yet', 1 if endpoint_missing($r);
  error_is($r, 403, 'CSRF_FAILED', 'POST /api/v1/staff/accounts without a token: 403 CSRF_FAILED');
}

# requests without a session that change state must not come from another site
SKIP: {
  my $r = client()->post_json('/api/v1/staff/signin', { username => 'nobody.here', password => 'x' x 12 },
                              headers => { Origin => 'http://evil.example' });
  skip 'no staff sign-in yet', 3 if endpoint_missing($r);
  error_is($r, 403, 'CSRF_FAILED', 'sign-in with a cross-site Origin: 403 CSRF_FAILED');
  error_is(client()->post_json('/api/v1/staff/signin', { username => 'nobody.here', password => 'x' x 12 },
                               headers => { Origin => "http://127.0.0.1:${PORT}0" }),
           403, 'CSRF_FAILED', 'an Origin on another port: 403');
  error_is(client()->post_json('/api/v1/staff/signin', { username => 'nobody.here', password => 'x' x 12 },
                               headers => { Origin => "http://127.0.0.1:$PORT" }),
           401, 'SIGNIN_FAILED', 'the same-site Origin passes (then 401 SIGNIN_FAILED)');
}

# --- sign-out really ends the session
my $before = $c->clone;
my $out = $c->signout;
ok($out->{status} == 200 || $out->{status} == 204, "sign-out: $out->{status}");
my $clr = $out->{cookies}{tthc_sid};
ok($clr && defined $clr->{attrs}{'max-age'} && $clr->{attrs}{'max-age'} == 0, 'the cookie is cleared (Max-Age=0)');
is(eval { redis('EXISTS', $k2) }, 0, 'the session is deleted from Redis');
ok(!$before->session->{authenticated}, 'the old cookie, sent again, is not a session');
error_is($before->get('/api/v1/me/dossiers'), 401, 'UNAUTHENTICATED', 'nor can it read my dossiers');
error_is($before->signout, [ 401, 403 ], [ 'UNAUTHENTICATED', 'CSRF_FAILED' ], 'nor sign out again');

# --- idle expiry: the session key's TTL runs out
my $idle = signin_applicant('cd-001');
ok($idle && $idle->session->{authenticated}, 'a fresh session');
redis('EXPIRE', session_key($idle->sid), 1);
sleep 1.6;
ok(!$idle->session->{authenticated}, 'idle for longer than its TTL: signed out');
error_is($idle->get('/api/v1/me/dossiers'), 401, 'UNAUTHENTICATED', 'and refused');

# --- absolute expiry: abs_exp in the past ends it even while in use
my $abs = signin_applicant('cd-001');
ok($abs && $abs->session->{authenticated}, 'another fresh session');
my $ak = session_key($abs->sid);
redis('HSET', $ak, 'abs_exp', int(time) - 1);
ok(!$abs->session->{authenticated}, 'past its absolute lifetime: signed out');
is(eval { redis('EXISTS', $ak) }, 0, 'and the session is deleted');

done_testing();
