#!/usr/bin/env python3
"""fake-eid.py - a tiny stand-in for the e-ID provider, for hand tests of the
workers' auth.eid.exchange (the real simulator is sim/eid/).

  workers/scripts/fake-eid.py PORT [ISSUER]      (ISSUER default http://127.0.0.1:PORT)

  GET  /issue?sub=cd-001&nonce=N&verifier=V[&mode=M]  -> {"code": ...}
       mode: ok (default) | badsig | nonce | expired | aud | iss | kid | future | hs256
  POST /token   (form: grant_type, code, redirect_uri, code_verifier, client_id)
       codes are single use; PKCE S256 is not checked here (plain compare of the
       verifier given at /issue); unknown/used code -> 400 invalid_grant
  GET  /jwks
  GET  /down    -> makes /token answer 503 until /up
"""
import base64, hashlib, hmac, json, secrets, sys, time, urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
ISS = sys.argv[2] if len(sys.argv) > 2 else "http://127.0.0.1:%d" % PORT
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "k1"
PEOPLE = {
    "cd-001": ("Nguyễn Văn An", "001090000001", "citizen"),
    "cd-002": ("Trần Thị Bình", "001190000002", "citizen"),
    "cd-003": ("Lê Văn Cường", "038095000003", "citizen"),
    "tc-001": ("Công ty TNHH Sơn La Xanh", "5500123456", "organisation"),
}
codes = {}
state = {"down": False}


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def int_b64u(n):
    return b64u(n.to_bytes((n.bit_length() + 7) // 8, "big"))


def sign(claims, mode):
    hdr = {"alg": "RS256", "typ": "JWT", "kid": KID}
    if mode == "kid":
        hdr["kid"] = "unknown"
    if mode == "hs256":
        hdr["alg"] = "HS256"
    si = b64u(json.dumps(hdr).encode()) + "." + b64u(json.dumps(claims, ensure_ascii=False).encode())
    if mode == "hs256":
        sig = hmac.new(b"secret", si.encode(), hashlib.sha256).digest()
    else:
        key = OTHER if mode == "badsig" else KEY
        sig = key.sign(si.encode(), padding.PKCS1v15(), hashes.SHA256())
    return si + "." + b64u(sig)


class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, status, obj):
        body = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/jwks":
            pub = KEY.public_key().public_numbers()
            return self.send(200, {"keys": [{"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
                                             "n": int_b64u(pub.n), "e": int_b64u(pub.e)}]})
        if u.path == "/issue":
            code = secrets.token_urlsafe(24)
            codes[code] = dict(q, t=time.time())
            return self.send(200, {"code": code})
        if u.path in ("/down", "/up"):
            state["down"] = u.path == "/down"
            return self.send(200, {"down": state["down"]})
        self.send(404, {"error": "not_found"})

    def do_POST(self):
        if state["down"]:
            return self.send(503, {"error": "temporarily_unavailable"})
        n = int(self.headers.get("Content-Length", "0"))
        f = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
        c = codes.pop(f.get("code", ""), None)
        if self.path != "/token" or f.get("grant_type") != "authorization_code":
            return self.send(400, {"error": "unsupported_grant_type"})
        if c is None or time.time() - c["t"] > 60 or f.get("code_verifier") != c.get("verifier"):
            return self.send(400, {"error": "invalid_grant"})
        name, ident, typ = PEOPLE.get(c.get("sub", "cd-001"), PEOPLE["cd-001"])
        now = int(time.time())
        mode = c.get("mode", "ok")
        claims = {"iss": ISS + ("x" if mode == "iss" else ""), "sub": c.get("sub", "cd-001"),
                  "aud": f.get("client_id", "") + ("x" if mode == "aud" else ""),
                  "exp": now - 120 if mode == "expired" else now + 300,
                  "iat": now + 600 if mode == "future" else now,
                  "nonce": c.get("nonce", "") + ("x" if mode == "nonce" else ""),
                  "name": name, "identity_number": ident, "applicant_type": typ,
                  "email": "an@example.vn", "phone_number": "0912345678"}
        self.send(200, {"access_token": "at-" + secrets.token_hex(8), "token_type": "Bearer",
                        "expires_in": 300, "id_token": sign(claims, mode)})


HTTPServer(("127.0.0.1", PORT), H).serve_forever()
