#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""e-ID simulator: a small OpenID Connect provider playing the national e-ID
(VNeID through the national portal's SSO) for the demo stack and the tests.

Contract: docs/contracts-identity.md, "Applicant sign-in". Runs on loopback only,
with Debian's python3 and python3-cryptography:

  /usr/bin/python3 sim/eid/eid_sim.py --port 8180 --client-id tthc-portal \
      --client-secret-file var/etc/eid-client.secret \
      --redirect-uri http://127.0.0.1:8080/api/v1/auth/eid/callback \
      --key var/etc/eid-sim-key.pem --pidfile var/run/eid-sim.pid --log var/log/eid-sim.log

Endpoints: /.well-known/openid-configuration, /authorize, /token, /jwks, /userinfo.
Test controls (loopback clients only; see sim/eid/README.md):
  POST /_sim/mode      {"token_mode": "normal|bad_signature|wrong_nonce|wrong_aud|expired|
                         wrong_iss|unknown_kid|alg_none|error500|slow",
                        "sticky": false, "slow_s": 12}
                       a hostile mode applies to the next /token answer only, or to every
                       one until "normal" when "sticky" is true
  GET  /_sim/mode      the current mode
  GET  /_sim/requests  what the simulator received (secrets redacted)
  POST /_sim/reset     mode normal, request list emptied
The log never holds codes, tokens, states, nonces or the client secret: request lines
are logged without their query string.
"""

import argparse
import base64
import hashlib
import hmac
import html
import ipaddress
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

CODE_TTL_S = 60          # authorization codes: single use, 60 s
TOKEN_TTL_S = 300        # id_token and access_token lifetime
MAX_RECORDED = 500       # /_sim/requests keeps the last N requests
MODES = ("normal", "bad_signature", "wrong_nonce", "wrong_aud", "expired", "wrong_iss",
         "unknown_kid", "alg_none", "error500", "slow")

# Demo identities (contract: sub -> name, identity_number, applicant_type).
IDENTITIES = [
    {"sub": "cd-001", "name": "Nguyễn Văn An", "identity_number": "001090000001",
     "applicant_type": "citizen", "email": "an.nguyen@example.vn", "phone_number": "0912000001"},
    {"sub": "cd-002", "name": "Trần Thị Bình", "identity_number": "001190000002",
     "applicant_type": "citizen", "email": "binh.tran@example.vn", "phone_number": "0912000002"},
    {"sub": "cd-003", "name": "Lê Văn Cường", "identity_number": "038095000003",
     "applicant_type": "citizen", "email": "cuong.le@example.vn", "phone_number": "0912000003"},
    {"sub": "tc-001", "name": "Công ty TNHH Sơn La Xanh", "identity_number": "5500123456",
     "applicant_type": "organisation", "email": "lienhe@sonlaxanh.example.vn",
     "phone_number": "02123800001"},
]
BY_SUB = {i["sub"]: i for i in IDENTITIES}
CLAIMS = ("sub", "name", "identity_number", "applicant_type", "email", "phone_number")


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_int(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Provider:
    """State of the provider: key, registered client, codes, tokens, test modes."""

    def __init__(self, args):
        self.issuer = args.issuer.rstrip("/")
        self.client_id = args.client_id
        self.client_secret = self._read_secret(args.client_secret_file)
        self.redirect_uris = list(args.redirect_uri)
        self.key = self._load_key(args.key)
        pub = self.key.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "use": "sig", "alg": "RS256",
                    "n": b64u_int(pub.n), "e": b64u_int(pub.e)}
        # kid: RFC 7638 thumbprint of the public key
        thumb = json.dumps({"e": self.jwk["e"], "kty": "RSA", "n": self.jwk["n"]},
                           separators=(",", ":"), sort_keys=True).encode("ascii")
        self.kid = b64u(hashlib.sha256(thumb).digest())
        self.jwk["kid"] = self.kid
        self.lock = threading.Lock()
        self.codes = {}           # sha256(code) -> grant
        self.used_codes = {}      # sha256(code) -> access token hashes issued from it
        self.tokens = {}          # sha256(access_token) -> {"sub", "exp"}
        self.mode = "normal"
        self.sticky = False
        self.slow_s = 12.0
        self.requests = []
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr

    @staticmethod
    def _read_secret(path):
        try:
            with open(path, "r", encoding="utf-8") as f:
                s = f.read().strip()
        except OSError as e:
            sys.exit("eid_sim: cannot read --client-secret-file %s: %s" % (path, e.strerror))
        if not s:
            sys.exit("eid_sim: %s is empty" % path)
        return s

    @staticmethod
    def _load_key(path):
        if os.path.exists(path):
            with open(path, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), password=None)
            if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
                sys.exit("eid_sim: %s is not an RSA key of at least 2048 bits" % path)
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        tmp = "%s.tmp.%d" % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, path)
        return key

    # ------------------------------------------------------------ logging
    def log(self, msg):
        line = "%s eid-sim[%d] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                        os.getpid(), msg)
        with self.lock:
            try:
                self.log_file.write(line)
                self.log_file.flush()
            except (OSError, ValueError):
                pass

    def record(self, entry):
        entry["t"] = round(time.time(), 3)
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-MAX_RECORDED]

    # ------------------------------------------------------------ modes
    def take_mode(self):
        """The mode for this /token answer (one-shot unless sticky)."""
        with self.lock:
            m = self.mode
            if not self.sticky:
                self.mode = "normal"
            return m, self.slow_s

    def set_mode(self, mode, sticky, slow_s):
        with self.lock:
            self.mode = mode
            self.sticky = bool(sticky) and mode != "normal"
            if slow_s is not None:
                self.slow_s = float(slow_s)

    def mode_doc(self):
        with self.lock:
            return {"token_mode": self.mode, "sticky": self.sticky, "slow_s": self.slow_s}

    # ------------------------------------------------------------ codes and tokens
    def new_code(self, grant):
        code = b64u(secrets.token_bytes(32))
        grant["exp"] = time.time() + CODE_TTL_S
        with self.lock:
            now = time.time()
            for h in [h for h, g in self.codes.items() if g["exp"] < now - 600]:
                del self.codes[h]
            self.codes[hashlib.sha256(code.encode()).hexdigest()] = grant
        return code

    def redeem(self, code):
        """-> (grant, None) or (None, reason). A code is consumed by its first use;
        a second use also revokes the access tokens issued from the first (RFC 6749 4.1.2)."""
        h = hashlib.sha256(code.encode()).hexdigest()
        with self.lock:
            if h in self.used_codes:
                for th in self.used_codes[h]:
                    self.tokens.pop(th, None)
                return None, "replayed"
            g = self.codes.pop(h, None)
            if g is None:
                return None, "unknown"
            self.used_codes[h] = []
            if g["exp"] < time.time():
                return None, "expired"
            return g, None

    def issue_access_token(self, code, sub):
        tok = b64u(secrets.token_bytes(32))
        th = hashlib.sha256(tok.encode()).hexdigest()
        h = hashlib.sha256(code.encode()).hexdigest()
        with self.lock:
            self.tokens[th] = {"sub": sub, "exp": time.time() + TOKEN_TTL_S}
            self.used_codes.setdefault(h, []).append(th)
        return tok

    def access_token_sub(self, tok):
        th = hashlib.sha256(tok.encode()).hexdigest()
        with self.lock:
            t = self.tokens.get(th)
            if t is None or t["exp"] < time.time():
                return None
            return t["sub"]

    def id_token(self, grant, access_token, mode):
        now = int(time.time())
        ident = BY_SUB[grant["sub"]]
        claims = {"iss": self.issuer, "aud": self.client_id, "exp": now + TOKEN_TTL_S, "iat": now,
                  "auth_time": grant["auth_time"]}
        if grant.get("nonce") is not None:
            claims["nonce"] = grant["nonce"]
        for c in CLAIMS:
            claims[c] = ident[c]
        # at_hash: left half of SHA-256 of the access token (OIDC Core 3.1.3.6)
        claims["at_hash"] = b64u(hashlib.sha256(access_token.encode("ascii")).digest()[:16])
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        if mode == "wrong_nonce":
            claims["nonce"] = b64u(secrets.token_bytes(32))
        elif mode == "wrong_aud":
            claims["aud"] = "another-client"
        elif mode == "expired":
            claims["iat"] = now - 7200
            claims["exp"] = now - 3600
            claims["auth_time"] = now - 7200
        elif mode == "wrong_iss":
            claims["iss"] = self.issuer + "/not-the-issuer"
        elif mode == "unknown_kid":
            header["kid"] = "unknown-" + self.kid[:16]
        elif mode == "alg_none":
            header = {"alg": "none", "typ": "JWT"}
        signing_input = (b64u(jdump(header)) + "." + b64u(jdump(claims))).encode("ascii")
        if mode == "alg_none":
            return signing_input.decode("ascii") + "."
        sig = self.key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        if mode == "bad_signature":
            sig = bytes([sig[0] ^ 0x01]) + sig[1:]
        return signing_input.decode("ascii") + "." + b64u(sig)

    def discovery(self):
        i = self.issuer
        return {
            "issuer": i,
            "authorization_endpoint": i + "/authorize",
            "token_endpoint": i + "/token",
            "jwks_uri": i + "/jwks",
            "userinfo_endpoint": i + "/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["iss", "aud", "exp", "iat", "auth_time", "nonce"] + list(CLAIMS),
        }


PAGE = """<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Định danh điện tử (mô phỏng)</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.3rem;color:#b00}} .note{{color:#555;font-size:.9rem}}
ul{{list-style:none;padding:0}} li{{margin:.5rem 0}}
a.id{{display:block;padding:.7rem 1rem;border:1px solid #ccc;border-radius:.4rem;text-decoration:none;color:#222}}
a.id:hover{{background:#f4f4f4}} small{{color:#666}} a.deny{{color:#b00}}
</style></head><body>
<h1>Đăng nhập bằng tài khoản định danh điện tử</h1>
<p class="note">Đây là máy chủ <strong>mô phỏng</strong> dùng để thử nghiệm, không phải hệ thống
định danh quốc gia. Ứng dụng <strong>{client}</strong> yêu cầu thông tin: họ tên, số định danh,
thư điện tử, số điện thoại.</p>
<p>Chọn danh tính để đăng nhập:</p>
<ul>
{items}
</ul>
<p><a class="deny" href="{deny}">Từ chối cấp quyền</a></p>
</body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "tthc-eid-sim/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    @property
    def p(self):
        return self.server.provider

    # no default stderr logging: it would print query strings (codes, states)
    def log_message(self, fmt, *args):
        pass

    def _log_request(self, status, note=""):
        path = self.path.split("?", 1)[0]
        self.p.log("%s %s %s %d%s" % (self.client_address[0], self.command, path, status,
                                     (" " + note) if note else ""))

    def _send(self, status, body, ctype="application/json; charset=utf-8", headers=None, note=""):
        if isinstance(body, (dict, list)):
            body = jdump(body)
        elif isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log_request(status, note)
        return status

    def _redirect(self, location, note=""):
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self._log_request(302, note)
        return 302

    def _query(self):
        q = urllib.parse.urlsplit(self.path).query
        return {k: v[0] for k, v in urllib.parse.parse_qs(q, keep_blank_values=True).items()}

    def _body(self, limit=65536):
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > limit:
            return None
        return self.rfile.read(n) if n else b""

    def _loopback(self):
        try:
            return ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            return False

    # ------------------------------------------------------------ dispatch
    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/.well-known/openid-configuration":
                return self._send(200, self.p.discovery())
            if path == "/jwks":
                return self._send(200, {"keys": [self.p.jwk]})
            if path == "/authorize":
                return self.authorize()
            if path == "/userinfo":
                return self.userinfo()
            if path == "/_sim/requests":
                return self.sim_requests()
            if path == "/_sim/mode":
                return self.sim_mode_get()
            if path == "/token":
                return self._send(405, {"error": "invalid_request",
                                        "error_description": "use POST"}, headers={"Allow": "POST"})
            return self._send(404, {"error": "not_found"})
        except BrokenPipeError:
            return None

    do_HEAD = do_GET

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        try:
            if path == "/token":
                return self.token()
            if path == "/userinfo":
                return self.userinfo()
            if path == "/_sim/mode":
                return self.sim_mode_post()
            if path == "/_sim/reset":
                return self.sim_reset()
            return self._send(404, {"error": "not_found"})
        except BrokenPipeError:
            return None

    # ------------------------------------------------------------ /authorize
    def authorize(self):
        q = self._query()
        p = self.p
        rec = {"method": "GET", "path": "/authorize",
               "params": {k: (v if k in ("client_id", "redirect_uri", "response_type", "scope",
                                         "code_challenge_method", "login_hint", "prompt", "deny")
                              else "<%d chars>" % len(v)) for k, v in q.items()}}
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        # errors about the client or the redirect target are shown, never redirected
        if client_id != p.client_id:
            rec["result"] = "unknown_client"
            p.record(rec)
            return self._send(400, self._error_page("Ứng dụng không được đăng ký (client_id)."),
                              ctype="text/html; charset=utf-8", note="unknown client")
        if redirect_uri not in p.redirect_uris:
            rec["result"] = "bad_redirect_uri"
            p.record(rec)
            return self._send(400, self._error_page("Địa chỉ chuyển hướng (redirect_uri) không được đăng ký."),
                              ctype="text/html; charset=utf-8", note="redirect_uri not registered")
        state = q.get("state")

        def back(params, note):
            if state is not None:
                params["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            rec["result"] = params.get("error", "code")
            p.record(rec)
            return self._redirect(redirect_uri + sep + urllib.parse.urlencode(params), note)

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"}, "unsupported_response_type")
        if "openid" not in q.get("scope", "").split():
            return back({"error": "invalid_scope"}, "invalid_scope")
        challenge = q.get("code_challenge", "")
        if q.get("code_challenge_method") != "S256" or not (43 <= len(challenge) <= 128):
            return back({"error": "invalid_request",
                         "error_description": "PKCE S256 required"}, "PKCE missing")
        if q.get("deny") == "1":
            return back({"error": "access_denied"}, "denied")
        hint = q.get("login_hint")
        if q.get("prompt") == "none":
            if hint not in BY_SUB:
                return back({"error": "login_required"}, "login_required")
            code = p.new_code({"client_id": client_id, "redirect_uri": redirect_uri, "sub": hint,
                               "nonce": q.get("nonce"), "challenge": challenge,
                               "auth_time": int(time.time())})
            return back({"code": code}, "approved sub=%s" % hint)
        # the consent page: one link per demo identity (same request + login_hint&prompt=none)
        base = {k: v for k, v in q.items() if k not in ("login_hint", "prompt", "deny")}
        items = []
        for i in IDENTITIES:
            href = "/authorize?" + urllib.parse.urlencode(dict(base, login_hint=i["sub"], prompt="none"))
            kind = "Công dân" if i["applicant_type"] == "citizen" else "Tổ chức"
            items.append('<li><a class="id" href="%s"><strong>%s</strong><br><small>%s · %s · %s</small></a></li>'
                         % (html.escape(href), html.escape(i["name"]), kind,
                            html.escape(i["identity_number"]), html.escape(i["sub"])))
        deny = "/authorize?" + urllib.parse.urlencode(dict(base, deny="1"))
        rec["result"] = "page"
        p.record(rec)
        page = PAGE.format(client=html.escape(client_id), items="\n".join(items), deny=html.escape(deny))
        return self._send(200, page, ctype="text/html; charset=utf-8")

    @staticmethod
    def _error_page(msg):
        return ('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Lỗi</title></head>'
                '<body><h1>Yêu cầu đăng nhập không hợp lệ</h1><p>%s</p></body></html>' % html.escape(msg))

    # ------------------------------------------------------------ /token
    def token(self):
        p = self.p
        raw = self._body()
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        form = {}
        if raw is not None and ctype == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace"),
                                                               keep_blank_values=True).items()}
        shown = {}
        for k, v in form.items():
            if k in ("grant_type", "client_id", "redirect_uri"):
                shown[k] = v
            elif k == "client_secret":
                shown[k] = "<ok>" if hmac.compare_digest(v.encode(), p.client_secret.encode()) else "<wrong>"
            else:
                shown[k] = "<%d chars>" % len(v)
        rec = {"method": "POST", "path": "/token", "content_type": ctype, "params": shown}

        def fail(status, err, why, headers=None):
            rec["status"] = status
            rec["result"] = "%s: %s" % (err, why)
            p.record(rec)
            return self._send(status, {"error": err, "error_description": why}, headers=headers,
                              note="%s (%s)" % (err, why))

        if raw is None:
            return fail(400, "invalid_request", "body too large")
        if ctype != "application/x-www-form-urlencoded":
            return fail(400, "invalid_request", "form body (application/x-www-form-urlencoded) required")
        if form.get("client_id") != p.client_id or not hmac.compare_digest(
                form.get("client_secret", "").encode(), p.client_secret.encode()):
            return fail(401, "invalid_client", "client authentication failed",
                        headers={"WWW-Authenticate": 'Basic realm="eid-sim"'})
        if form.get("grant_type") != "authorization_code":
            return fail(400, "unsupported_grant_type", "authorization_code only")
        for k in ("code", "redirect_uri", "code_verifier"):
            if not form.get(k):
                return fail(400, "invalid_request", "%s missing" % k)
        mode, slow_s = p.take_mode()
        rec["mode"] = mode
        if mode == "error500":
            rec["status"] = 500
            rec["result"] = "error500 (test mode)"
            p.record(rec)
            return self._send(500, "Internal Server Error\n", ctype="text/plain", note="error500 mode")
        if mode == "slow":
            time.sleep(slow_s)
        grant, why = p.redeem(form["code"])
        if grant is None:
            return fail(400, "invalid_grant", "code %s" % why)
        if grant["client_id"] != form["client_id"]:
            return fail(400, "invalid_grant", "code issued to another client")
        if grant["redirect_uri"] != form["redirect_uri"]:
            return fail(400, "invalid_grant", "redirect_uri differs from the authorization request")
        verifier = form["code_verifier"]
        if not (43 <= len(verifier) <= 128) or not hmac.compare_digest(
                b64u(hashlib.sha256(verifier.encode("ascii", "replace")).digest()), grant["challenge"]):
            return fail(400, "invalid_grant", "PKCE verification failed")
        access = p.issue_access_token(form["code"], grant["sub"])
        idt = p.id_token(grant, access, mode)
        rec["status"] = 200
        rec["result"] = "ok sub=%s" % grant["sub"]
        p.record(rec)
        return self._send(200, {"access_token": access, "token_type": "Bearer",
                                "expires_in": TOKEN_TTL_S, "id_token": idt, "scope": "openid profile"},
                          note="issued sub=%s mode=%s" % (grant["sub"], mode))

    # ------------------------------------------------------------ /userinfo
    def userinfo(self):
        auth = self.headers.get("Authorization") or ""
        rec = {"method": self.command, "path": "/userinfo"}
        sub = None
        if auth[:7].lower() == "bearer ":
            sub = self.p.access_token_sub(auth[7:].strip())
        if sub is None:
            rec["status"] = 401
            self.p.record(rec)
            return self._send(401, {"error": "invalid_token"},
                              headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        rec["status"] = 200
        self.p.record(rec)
        ident = BY_SUB[sub]
        return self._send(200, {c: ident[c] for c in CLAIMS})

    # ------------------------------------------------------------ test controls
    def _control_allowed(self):
        if self._loopback():
            return True
        self._send(403, {"error": "forbidden", "error_description": "test controls are loopback-only"})
        return False

    def sim_requests(self):
        if not self._control_allowed():
            return None
        with self.p.lock:
            items = list(self.p.requests)
        return self._send(200, {"requests": items})

    def sim_mode_get(self):
        if not self._control_allowed():
            return None
        return self._send(200, self.p.mode_doc())

    def sim_mode_post(self):
        if not self._control_allowed():
            return None
        raw = self._body()
        try:
            doc = json.loads(raw or b"{}")
            mode = doc.get("token_mode", "normal")
            if mode not in MODES:
                raise ValueError("token_mode must be one of " + ", ".join(MODES))
            slow_s = doc.get("slow_s")
            if slow_s is not None and not (0 <= float(slow_s) <= 120):
                raise ValueError("slow_s out of range")
        except (ValueError, AttributeError, TypeError) as e:
            return self._send(400, {"error": "invalid_request", "error_description": str(e)})
        self.p.set_mode(mode, doc.get("sticky", False), slow_s)
        self.p.log("mode %s sticky=%s" % (mode, bool(doc.get("sticky", False))))
        return self._send(200, self.p.mode_doc())

    def sim_reset(self):
        if not self._control_allowed():
            return None
        self._body()
        self.p.set_mode("normal", False, 12.0)
        with self.p.lock:
            self.p.requests = []
        return self._send(200, self.p.mode_doc())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser(description="tthc e-ID simulator (OpenID Connect provider)")
    ap.add_argument("--host", default="127.0.0.1", help="listen address (loopback; default 127.0.0.1)")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--issuer", help="issuer URL (default http://HOST:PORT)")
    ap.add_argument("--client-id", default="tthc-portal")
    ap.add_argument("--client-secret-file", required=True)
    ap.add_argument("--redirect-uri", action="append", required=True,
                    help="registered redirect URI (repeatable; matched exactly)")
    ap.add_argument("--key", required=True, help="RSA private key (PEM); generated (0600) if absent")
    ap.add_argument("--pidfile")
    ap.add_argument("--log", help="log file (default stderr)")
    args = ap.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        sys.exit("eid_sim: --host must be a loopback address")
    if not args.issuer:
        args.issuer = "http://%s:%d" % (args.host, args.port)

    provider = Provider(args)
    try:
        httpd = Server((args.host, args.port), Handler)
    except OSError as e:
        sys.exit("eid_sim: cannot listen on %s:%d: %s" % (args.host, args.port, e.strerror))
    httpd.provider = provider
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)

    def stop(signum, frame):
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    provider.log("listening on %s:%d issuer %s client %s kid %s" % (args.host, args.port, provider.issuer,
                                                                  provider.client_id, provider.kid))
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        httpd.server_close()
        provider.log("stopped")
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    if f.read().strip() == str(os.getpid()):
                        os.unlink(args.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()
