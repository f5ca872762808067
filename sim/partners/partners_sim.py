#!/usr/bin/python3
# -*- coding: utf-8 -*-
"""Partner simulators: the national public-service portal, the postal operator and the
payment platform, as tthc's workers and edge see them (docs/contracts-exchange.md).

One process, three listeners on loopback, Debian's python3 + python3-cryptography only:

  /usr/bin/python3 sim/partners/partners_sim.py --portal-port 8190 --postal-port 8200 \
      --payment-port 8210 --etc var/etc --tthc-url http://127.0.0.1:8080 \
      --catalogue exchange/samples/DanhSachThuTuc.xml --state-dir var/partners \
      --pidfile var/run/partners-sim.pid --log var/log/partners-sim.log [--postal-auto 30]

Partner API (bearer token of each partner, Idempotency-Key on every POST):
  portal   POST /dvc/v1/hoso, POST /dvc/v1/tientrinh, GET /dvc/v1/hoso/{MaHoSo},
           GET /dvc/v1/thutuc (ETag / If-None-Match)
  postal   POST /vnpost/v1/donhang; tracking updates POSTed to tthc (HMAC-SHA256)
  payment  POST /payment/v1/yeucau; GET /pay/{id} (payer's page), POST /pay/{id}/confirm;
           signed vouchers (Ed25519) POSTed to tthc; GET /bienlai/{code} (the e-receipt)
Test controls under /_sim/ on every port (JSON, no auth, loopback clients only): see
sim/partners/README.md. The log never holds tokens, secrets or message bodies.
"""

import argparse
import base64
import hashlib
import hmac
import html
import http.client
import ipaddress
import json
import os
import random
import re
import secrets
import signal
import socket
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 1024 * 1024            # partner API request bodies
MAX_CONTROL = 1024 * 1024         # control API JSON bodies
MAX_CATALOGUE = 64 * 1024 * 1024  # PUT /_sim/catalogue
CALLBACK_TIMEOUT_S = 10
VN = timezone(timedelta(hours=7))   # Asia/Ho_Chi_Minh, no DST
FAIL_MODES = ("500", "503", "drop", "slow", "malformed", "oversized", "hostile", "after")
POSTAL_TEXT = {
    "100": "Bưu cục đã tiếp nhận đơn hàng",
    "200": "Bưu tá đã nhận hàng từ người gửi",
    "300": "Đang vận chuyển",
    "500": "Phát thành công",
    "600": "Phát không thành công",
    "700": "Chuyển hoàn cho người gửi",
}
POSTAL_AUTO_STEPS = ("100", "200", "300", "500")
PAY_STATUS_TEXT = {"1": "Đã thanh toán", "2": "Thanh toán không thành công", "3": "Đã hủy"}

# partner name -> {path: (kind, root element, required children)}
ROUTES = {
    "portal": {"/dvc/v1/hoso": ("hoso", "HoSo", ("MaHoSo",)),
               "/dvc/v1/tientrinh": ("tientrinh", "TienTrinhXuLy", ("MaHoSo",))},
    "postal": {"/vnpost/v1/donhang": ("order", "DonHangBuuChinh", ("MaHoSo",))},
    "payment": {"/payment/v1/yeucau": ("payment_request", "YeuCauThanhToan", ("MaGiaoDich", "MaHoSo"))},
}
TOKEN_FILES = {"portal": "portal.token", "postal": "postal.token", "payment": "payment.token"}


def now_vn():
    return datetime.now(VN).strftime("%Y%m%d%H%M%S")


def iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)


def jdump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def xesc(s):
    return html.escape(str(s), quote=False)


def ketqua(code, text):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<KetQua><MaLoi>%s</MaLoi><MoTa>%s</MoTa></KetQua>\n'
            % (code, xesc(text)))


def read_first_line(path, required=True):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        if required:
            sys.exit("partners_sim: cannot read %s: %s" % (path, e.strerror))
        return None
    line = re.split(rb"[\r\n]", data, maxsplit=1)[0]
    if required and not line:
        sys.exit("partners_sim: %s is empty" % path)
    return line


def default_config():
    return {"fail_rate": 0.0, "fail_modes": ["500"], "down": False, "reject_contains": None,
            "slow_ms": 3000, "seed": None}


# Replies of the hostile modes, built once.
OVERSIZED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<KetQua><MaLoi>0</MaLoi><MoTa>'
             + b"A" * (2 * 1024 * 1024) + b"</MoTa></KetQua>\n")
HOSTILE = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<!DOCTYPE KetQua [\n'
           '  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n'
           '  <!ENTITY % pe SYSTEM "http://127.0.0.1:1/evil.dtd">\n'
           '  <!ENTITY lol "lol">\n'
           + "".join('  <!ENTITY lol%d "%s">\n' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                     for i in range(1, 10))
           + ']>\n<KetQua><MaLoi>0</MaLoi><MoTa>&lol9;&xxe;</MoTa></KetQua>\n').encode("utf-8")
MALFORMED = b'<?xml version="1.0" encoding="UTF-8"?>\n<KetQua><MaLoi>0</MaLoi><MoTa>Th\xc3\xa0nh c'


class Partner:
    """One partner: its token, what it received (idempotent per Idempotency-Key), its
    failure configuration and counters; persisted as an event log (STATE_DIR/NAME.jsonl)."""

    def __init__(self, sim, name, token, state_dir):
        self.sim = sim
        self.name = name
        self.token = token
        self.lock = threading.RLock()
        self.records = {}       # key -> record
        self.counters = {"seq": 0, "order": 0, "tx": 0, "receipt": 0}
        self.catalogue = None   # portal: bytes put through /_sim/catalogue (None = the file)
        self.last_sent = None   # the last callback sent (replay)
        self.state_path = os.path.join(state_dir, name + ".jsonl") if state_dir else None
        self._reset_runtime()
        self._load()
        self.state_file = self._open_state("a") if self.state_path else None

    def _open_state(self, mode):
        """The event log, 0600 (it holds the messages' personal data)."""
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
        fd = os.open(self.state_path, flags, 0o600)
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, mode, encoding="utf-8")

    def _reset_runtime(self):
        self.config = default_config()
        self.rng = random.Random()
        self.calls = 0
        self.failed_calls = 0
        self.conflicts = 0

    # ------------------------------------------------------------ persistence
    def _load(self):
        if not self.state_path or not os.path.exists(self.state_path):
            return
        n = 0
        with open(self.state_path, "r", encoding="utf-8") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue        # a line cut by a crash
                self._apply(ev)
                n += 1
        self.sim.log("%s: %d records reloaded from %s" % (self.name, len(self.records), self.state_path))

    def _apply(self, ev):
        e = ev.get("ev")
        if e == "store":
            rec = ev["rec"]
            self.records[rec["key"]] = rec
        elif e == "delivery":
            if ev["key"] in self.records:
                self.records[ev["key"]]["deliveries"] += 1
        elif e == "update":
            if ev["key"] in self.records:
                self.records[ev["key"]].update(ev["set"])
        elif e == "forget":
            self.records.pop(ev["key"], None)
        elif e == "reset":
            self.records = {}
            self.catalogue = None
        elif e == "catalogue":
            self.catalogue = ev["xml"].encode("utf-8") if ev.get("xml") is not None else None
        for k, v in (ev.get("counters") or {}).items():
            self.counters[k] = max(self.counters.get(k, 0), int(v))

    def _event(self, ev):
        """Applies nothing: appends an event already applied (caller holds the lock)."""
        if self.state_file is None:
            return
        ev["counters"] = dict(self.counters)
        try:
            self.state_file.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")) + "\n")
            self.state_file.flush()
        except (OSError, ValueError) as e:
            self.sim.log("%s: cannot write %s: %s" % (self.name, self.state_path, e))

    def update(self, key, **fields):
        with self.lock:
            rec = self.records.get(key)
            if rec is None:
                return
            rec.update(fields)
            self._event({"ev": "update", "key": key, "set": fields})

    def next_counter(self, name):
        with self.lock:
            self.counters[name] = self.counters.get(name, 0) + 1
            return self.counters[name]

    # ------------------------------------------------------------ controls
    def set_config(self, doc):
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is required")
        new = dict(self.config)
        for k, v in doc.items():
            if k == "fail_rate":
                v = float(v)
                if not 0 <= v <= 1:
                    raise ValueError("fail_rate must be within 0..1")
            elif k == "fail_modes":
                if isinstance(v, str):
                    v = [v]
                if not isinstance(v, list) or not v or any(str(m) not in FAIL_MODES for m in v):
                    raise ValueError("fail_modes: a non-empty list of " + ", ".join(FAIL_MODES))
                v = [str(m) for m in v]
            elif k == "down":
                v = bool(v)
            elif k == "reject_contains":
                if v is not None and (not isinstance(v, str) or v == ""):
                    raise ValueError("reject_contains: a non-empty string or null")
            elif k == "slow_ms":
                v = int(v)
                if not 0 <= v <= 600000:
                    raise ValueError("slow_ms must be within 0..600000")
            elif k == "seed":
                v = None if v is None else int(v)
            else:
                raise ValueError("unknown setting: %s" % k)
            new[k] = v
        with self.lock:
            self.config = new
            if "seed" in doc:
                self.rng = random.Random(new["seed"])
        return dict(new)

    def reset(self):
        with self.lock:
            self.records = {}
            self.catalogue = None
            self.last_sent = None
            self._reset_runtime()
            if self.state_file is not None:
                # the counters survive a reset: order numbers and platform ids never repeat
                try:
                    self.state_file.close()
                    self.state_file = self._open_state("w")
                except OSError as e:
                    self.sim.log("%s: cannot rewrite %s: %s" % (self.name, self.state_path, e))
            self._event({"ev": "reset"})

    def forget(self, key):
        with self.lock:
            if self.records.pop(key, None) is None:
                return False
            self._event({"ev": "forget", "key": key})
            return True

    def set_catalogue(self, xml_bytes):
        with self.lock:
            self.catalogue = xml_bytes
            self._event({"ev": "catalogue",
                         "xml": xml_bytes.decode("utf-8", "replace") if xml_bytes is not None else None})

    def received(self, kind=None, ma_ho_so=None, key=None):
        with self.lock:
            items = [dict(r) for r in self.records.values()
                     if (kind is None or r.get("kind") == kind)
                     and (ma_ho_so is None or r.get("ma_ho_so") == ma_ho_so)
                     and (key is None or r.get("key") == key)]
            stats = {"calls": self.calls, "failed_calls": self.failed_calls, "conflicts": self.conflicts}
        items.sort(key=lambda r: r["seq"])
        return dict({"items": items}, **stats)

    def draw_failure(self):
        """-> the failure mode of this call or None (fail_rate, seeded RNG)."""
        with self.lock:
            c = self.config
            if c["fail_rate"] <= 0:
                return None
            if self.rng.random() < c["fail_rate"]:
                return self.rng.choice(c["fail_modes"])
            return None

    def count(self, ok):
        with self.lock:
            self.calls += 1
            if not ok:
                self.failed_calls += 1

    # ------------------------------------------------------------ the idempotent store
    def store(self, key, body, kind, fields, make_reply):
        """-> (status, reply bytes, stored record or None, outcome) where outcome is
        "stored", "duplicate" or "conflict". make_reply(rec) builds the reply of a new message."""
        h = hashlib.sha256(body).hexdigest()
        with self.lock:
            old = self.records.get(key)
            if old is not None:
                if old["sha256"] == h:
                    old["deliveries"] += 1
                    self._event({"ev": "delivery", "key": key})
                    return old["reply_status"], old["reply"].encode("utf-8"), old, "duplicate"
                self.conflicts += 1
                return 409, ketqua(409, "Idempotency-Key đã được dùng cho một nội dung khác").encode(
                    "utf-8"), None, "conflict"
            self.counters["seq"] += 1
            rec = {"seq": self.counters["seq"], "kind": kind, "key": key,
                   "ma_ho_so": fields.pop("ma_ho_so", None), "body": body.decode("utf-8", "replace"),
                   "sha256": h, "at": iso_now(), "deliveries": 1}
            rec.update(fields)
            status, reply = make_reply(rec)
            rec["reply_status"] = status
            rec["reply"] = reply
            self.records[key] = rec
            self._event({"ev": "store", "rec": rec})
            return status, reply.encode("utf-8"), rec, "stored"


class Sim:
    def __init__(self, args):
        self.args = args
        self.log_lock = threading.Lock()
        self.log_file = open(args.log, "a", encoding="utf-8") if args.log else sys.stderr
        etc = args.etc
        self.postal_secret = read_first_line(os.path.join(etc, "postal-hmac.secret"))
        seed = read_first_line(os.path.join(etc, "payment-platform.seed")).decode("ascii", "replace").strip()
        if not re.fullmatch(r"[0-9a-fA-F]{64}", seed):
            sys.exit("partners_sim: payment-platform.seed must hold 64 hex digits")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        self.pay_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
        self.tthc_url = args.tthc_url.rstrip("/")
        self.ports = {"portal": args.portal_port, "postal": args.postal_port, "payment": args.payment_port}
        if args.state_dir:
            os.makedirs(args.state_dir, mode=0o700, exist_ok=True)
        self.partners = {}
        for name in ("portal", "postal", "payment"):
            tok = read_first_line(os.path.join(etc, TOKEN_FILES[name])).decode("utf-8", "replace")
            self.partners[name] = Partner(self, name, tok, args.state_dir)
        self._cat_cache = (None, None)   # ((mtime, size), bytes)
        self.send_lock = threading.Lock()

    def log(self, msg):
        line = "%s partners-sim[%d] %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                             os.getpid(), msg)
        with self.log_lock:
            try:
                self.log_file.write(line)
                self.log_file.flush()
            except (OSError, ValueError):
                pass

    def base(self, name):
        return "http://127.0.0.1:%d" % self.ports[name]

    # ------------------------------------------------------------ catalogue
    def catalogue(self):
        p = self.partners["portal"]
        with p.lock:
            if p.catalogue is not None:
                return p.catalogue
        path = self.args.catalogue
        if not path:
            return None
        try:
            st = os.stat(path)
            sig = (st.st_mtime_ns, st.st_size)
            if self._cat_cache[0] == sig:
                return self._cat_cache[1]
            with open(path, "rb") as f:
                data = f.read()
            self._cat_cache = (sig, data)
            return data
        except OSError:
            return None

    # ------------------------------------------------------------ callbacks to tthc
    def post_tthc(self, path, body, headers):
        """POSTs body to tthc; -> (http status or 0, reply text or error)."""
        u = urllib.parse.urlsplit(self.tthc_url)
        hdrs = {"Content-Type": "application/xml; charset=utf-8", "User-Agent": "tthc-partners-sim/1"}
        hdrs.update(headers)
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=CALLBACK_TIMEOUT_S)
        try:
            conn.request("POST", (u.path.rstrip("/") or "") + path, body=body, headers=hdrs)
            r = conn.getresponse()
            data = r.read(1024 * 1024)
            return r.status, data.decode("utf-8", "replace")
        except (OSError, http.client.HTTPException) as e:
            return 0, "transport error: %s" % e.__class__.__name__
        finally:
            conn.close()

    # postal tracking ---------------------------------------------------------
    def postal_sign(self, ts, body):
        return hmac.new(self.postal_secret, ts.encode("ascii") + b"\n" + body, hashlib.sha256).hexdigest()

    def postal_send(self, body, ts, sig, note):
        status, reply = self.post_tthc("/api/v1/partners/postal/tracking", body,
                                       {"X-Tthc-Timestamp": ts, "X-Tthc-Signature": sig})
        self.log("postal tracking %s -> %s" % (note, status))
        return status, reply

    def postal_advance(self, doc):
        p = self.partners["postal"]
        if doc.get("replay"):
            with p.lock:
                last = None
                if doc.get("so_hieu"):
                    rec = self._order(doc["so_hieu"])
                    last = rec.get("last_sent") if rec else None
                else:
                    last = p.last_sent
            if not last:
                raise LookupError("nothing sent yet to replay")
            body = last["body"].encode("utf-8")
            status, reply = self.postal_send(body, last["timestamp"], last["signature"], "replay")
            return {"http_status": status, "body": reply, "sent": last["body"],
                    "timestamp": last["timestamp"], "signature": last["signature"], "replay": True}
        so_hieu = doc.get("so_hieu")
        if not isinstance(so_hieu, str) or not so_hieu:
            raise ValueError("so_hieu is required")
        rec = self._order(so_hieu)
        ma_ho_so = doc.get("ma_ho_so") or (rec or {}).get("ma_ho_so")
        if not ma_ho_so:
            raise LookupError("unknown so_hieu (give ma_ho_so to send for an order the simulator does not hold)")
        status_code = str(doc.get("status") or self._next_step(rec) or "")
        if not re.fullmatch(r"[0-9A-Za-z_.\-]{1,32}", status_code):
            raise ValueError("status: a code such as 100, 200, 300, 500, 600, 700")
        text = doc.get("message") or POSTAL_TEXT.get(status_code, "Cập nhật trạng thái bưu gửi")
        thoi_diem = str(doc.get("thoi_diem") or now_vn())
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<TrangThaiBuuChinh><MaHoSo>%s</MaHoSo>'
               '<SoHieuBuuGui>%s</SoHieuBuuGui><MaTrangThai>%s</MaTrangThai><NoiDung>%s</NoiDung>'
               '<ThoiDiem>%s</ThoiDiem></TrangThaiBuuChinh>\n'
               % (xesc(ma_ho_so), xesc(so_hieu), xesc(status_code), xesc(text), xesc(thoi_diem)))
        body = xml.encode("utf-8")
        ts = str(int(time.time() + float(doc.get("timestamp_offset") or 0)))
        sig = self.postal_sign(ts, body)
        if doc.get("tamper"):
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        status, reply = self.postal_send(body, ts, sig, "%s %s" % (so_hieu, status_code))
        sent = {"body": xml, "timestamp": ts, "signature": sig}
        with p.lock:
            p.last_sent = sent
        if rec is not None:
            with p.lock:
                statuses = list(rec.get("statuses") or [])
                statuses.append({"status": status_code, "at": iso_now(), "http_status": status,
                                 "tampered": bool(doc.get("tamper"))})
            p.update(rec["key"], statuses=statuses, last_sent=sent)
        return {"http_status": status, "body": reply, "sent": xml, "timestamp": ts, "signature": sig}

    def _order(self, so_hieu):
        p = self.partners["postal"]
        with p.lock:
            for r in p.records.values():
                if r.get("so_hieu") == so_hieu:
                    return r
        return None

    @staticmethod
    def _next_step(rec):
        if rec is None:
            return "100"
        done = [s["status"] for s in rec.get("statuses") or [] if 200 <= s.get("http_status", 0) < 300]
        for step in POSTAL_AUTO_STEPS:
            if step not in done:
                return step
        return None

    def postal_auto_loop(self, interval, stop):
        """Demo: every order advances 100 -> 200 -> 300 -> 500, one step per interval."""
        p = self.partners["postal"]
        while not stop.wait(min(1.0, interval)):
            now = time.time()
            with p.lock:
                due = []
                for r in p.records.values():
                    if r.get("kind") != "order" or r.get("auto_done"):
                        continue
                    if now - r.get("auto_last", r.get("auto_since", 0)) >= interval:
                        due.append(dict(r))
            for r in due:
                step = self._next_step(r)
                if step is None or r.get("auto_failures", 0) >= 10:
                    p.update(r["key"], auto_done=True)
                    continue
                try:
                    res = self.postal_advance({"so_hieu": r["so_hieu"], "status": step})
                except (ValueError, LookupError):
                    p.update(r["key"], auto_done=True)
                    continue
                ok = 200 <= res["http_status"] < 300
                p.update(r["key"], auto_last=time.time(),
                         auto_failures=0 if ok else r.get("auto_failures", 0) + 1,
                         auto_done=ok and step == POSTAL_AUTO_STEPS[-1])

    # payment vouchers --------------------------------------------------------
    def _request(self, tx):
        p = self.partners["payment"]
        with p.lock:
            for r in p.records.values():
                if r.get("tx") == tx:
                    return r
        return None

    def payment_pay(self, doc):
        p = self.partners["payment"]
        tx = doc.get("tx")
        if doc.get("replay"):
            with p.lock:
                if tx:
                    rec = self._request(tx)
                    last = rec.get("last_sent") if rec else None
                else:
                    last = p.last_sent
            if not last:
                raise LookupError("nothing sent yet to replay")
            status, reply = self.post_tthc("/api/v1/partners/payment/voucher", last["body"].encode("utf-8"), {})
            self.log("payment voucher replay -> %s" % status)
            return {"http_status": status, "body": reply, "sent": last["body"], "replay": True}
        if not isinstance(tx, str) or not tx:
            raise ValueError("tx (MaGiaoDichNenTang) is required")
        rec = self._request(tx)
        if rec is None:
            raise LookupError("unknown tx %s" % tx)
        st = str(doc.get("status") or "1")
        if st not in ("1", "2", "3"):
            raise ValueError("status must be 1 (paid), 2 (failed) or 3 (cancelled)")
        amount = doc.get("amount_override")
        amount = str(int(amount)) if amount is not None else rec.get("amount") or "0"
        f = {"MaGiaoDich": doc.get("ma_giao_dich") or rec["ma_giao_dich"], "MaGiaoDichNenTang": tx,
             "MaHoSo": doc.get("ma_ho_so") or rec["ma_ho_so"], "SoTien": amount,
             "TrangThaiThanhToan": st, "ThoiDiemThanhToan": str(doc.get("thoi_diem") or now_vn()),
             "NguoiNop": doc.get("payer") or None,
             "KyHieuBienLai": None, "SoBienLai": None, "MaTraCuuBienLai": None, "DuongDanBienLai": None}
        if st == "1":
            f["KyHieuBienLai"] = "BLTT" + datetime.now(VN).strftime("%y")
            f["SoBienLai"] = "%07d" % p.next_counter("receipt")
            f["MaTraCuuBienLai"] = secrets.token_hex(6).upper()
            f["DuongDanBienLai"] = "%s/bienlai/%s" % (self.base("payment"), f["MaTraCuuBienLai"])
        signed = "|".join(f[k] or "" for k in ("MaGiaoDich", "MaGiaoDichNenTang", "MaHoSo", "SoTien",
                                               "TrangThaiThanhToan", "ThoiDiemThanhToan", "KyHieuBienLai",
                                               "SoBienLai", "MaTraCuuBienLai", "NguoiNop", "DuongDanBienLai"))
        sig = self.pay_key.sign(signed.encode("utf-8"))
        if doc.get("tamper"):
            sig = bytes([sig[0] ^ 0x01]) + sig[1:]
        f["ChuKySo"] = base64.b64encode(sig).decode("ascii")
        order = ("MaGiaoDich", "MaGiaoDichNenTang", "MaHoSo", "SoTien", "TrangThaiThanhToan",
                 "ThoiDiemThanhToan", "NguoiNop", "KyHieuBienLai", "SoBienLai", "MaTraCuuBienLai",
                 "DuongDanBienLai", "ChuKySo")
        xml = ('<?xml version="1.0" encoding="UTF-8"?>\n<BienLaiThanhToan>'
               + "".join("<%s>%s</%s>" % (k, xesc(f[k]), k) for k in order if f[k] is not None)
               + "</BienLaiThanhToan>\n")
        status, reply = self.post_tthc("/api/v1/partners/payment/voucher", xml.encode("utf-8"), {})
        self.log("payment voucher %s status %s -> %s" % (tx, st, status))
        sent = {"body": xml}
        with p.lock:
            p.last_sent = sent
            vouchers = list(rec.get("vouchers") or [])
        vouchers.append({"at": iso_now(), "status": st, "amount": amount, "http_status": status,
                         "tampered": bool(doc.get("tamper")), "ma_tra_cuu": f["MaTraCuuBienLai"],
                         "so_bien_lai": f["SoBienLai"], "ky_hieu": f["KyHieuBienLai"],
                         "thoi_diem": f["ThoiDiemThanhToan"], "xml": xml})
        upd = {"vouchers": vouchers, "last_sent": sent}
        if 200 <= status < 300:
            upd["status"] = st
        p.update(rec["key"], **upd)
        return {"http_status": status, "body": reply, "sent": xml}


# ------------------------------------------------------------------ pages
PAGE_STYLE = ("body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}"
              "h1{font-size:1.3rem;color:#0a5} .note{color:#555;font-size:.9rem} table{border-collapse:collapse}"
              "td{padding:.3rem .6rem;border-bottom:1px solid #eee} button{font-size:1rem;padding:.5rem 1.2rem;"
              "margin-right:.5rem} .pay{background:#0a5;color:#fff;border:0} .cancel{background:#eee;border:1px solid #ccc}")


def money(s):
    try:
        return "{:,}".format(int(s)).replace(",", ".") + " ₫"
    except (TypeError, ValueError):
        return str(s)


def vn_time(s):
    """yyyyMMddHHmmss -> dd/MM/yyyy HH:mm (as given otherwise)"""
    m = re.fullmatch(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)\d\d", s or "")
    return "%s/%s/%s %s:%s" % (m.group(3), m.group(2), m.group(1), m.group(4), m.group(5)) if m else (s or "")


def page(title, inner):
    return ('<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body>%s</body></html>\n'
            % (html.escape(title), PAGE_STYLE, inner))


def pay_page(rec):
    rows = [("Mã giao dịch", rec["tx"]), ("Mã hồ sơ", rec["ma_ho_so"]),
            ("Nội dung", rec.get("content") or ""), ("Số tiền", money(rec.get("amount"))),
            ("Hạn thanh toán", vn_time(rec.get("deadline")))]
    table = "".join("<tr><td>%s</td><td><strong>%s</strong></td></tr>" % (html.escape(k), html.escape(str(v)))
                    for k, v in rows)
    st = rec.get("status") or "pending"
    if st != "pending":
        form = "<p><strong>%s</strong></p>" % html.escape(PAY_STATUS_TEXT.get(st, st))
    else:
        form = ('<form method="post" action="/pay/%s/confirm">'
                '<p><label>Người nộp (không bắt buộc): <input name="nguoi_nop" maxlength="255"></label></p>'
                '<button class="pay" name="action" value="pay">Thanh toán</button>'
                '<button class="cancel" name="action" value="cancel">Hủy</button></form>'
                % urllib.parse.quote(rec["tx"]))
    return page("Thanh toán trực tuyến (mô phỏng)",
                '<h1>Thanh toán phí, lệ phí hồ sơ</h1><p class="note">Đây là nền tảng thanh toán '
                '<strong>mô phỏng</strong> dùng để thử nghiệm; không có giao dịch thật nào được thực hiện.</p>'
                '<table>%s</table>%s' % (table, form))


def receipt_page(rec, v):
    rows = [("Ký hiệu", v.get("ky_hieu") or ""), ("Số biên lai", v.get("so_bien_lai") or ""),
            ("Mã tra cứu", v.get("ma_tra_cuu") or ""), ("Mã hồ sơ", rec["ma_ho_so"]),
            ("Số tiền", money(v.get("amount"))), ("Thời điểm", vn_time(v.get("thoi_diem")) or v.get("at"))]
    table = "".join("<tr><td>%s</td><td><strong>%s</strong></td></tr>" % (html.escape(k), html.escape(str(x)))
                    for k, x in rows)
    return page("Biên lai điện tử (mô phỏng)", "<h1>Biên lai thu phí, lệ phí</h1><table>%s</table>" % table)


# ------------------------------------------------------------------ HTTP
class Handler(BaseHTTPRequestHandler):
    server_version = "tthc-partners-sim/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"

    @property
    def sim(self):
        return self.server.sim

    @property
    def partner(self):
        return self.server.sim.partners[self.server.partner_name]

    def log_message(self, fmt, *args):
        pass

    def _log(self, status, note=""):
        path = self.path.split("?", 1)[0]
        self.sim.log("%s %s %s %s %s%s" % (self.server.partner_name, self.client_address[0], self.command,
                                           path, status, (" " + note) if note else ""))

    def _send(self, status, body, ctype="application/xml; charset=utf-8", headers=None, note=""):
        if isinstance(body, (dict, list)):
            body = jdump(body)
            ctype = "application/json; charset=utf-8"
        elif isinstance(body, str):
            body = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD" and status != 304:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
        self._log(status, note)
        return status

    def _err(self, status, text, note=""):
        return self._send(status, ketqua(status, text), note=note or text)

    def _read_body(self, limit):
        """-> bytes, or None when over the limit (the connection is then closed)."""
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(1024)
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                if len(data) + n > limit:
                    self.close_connection = True
                    return None
                data += self.rfile.read(n)
                self.rfile.readline(16)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > limit:
            self.close_connection = True
            # read (and drop) a body of reasonable size, so that the client gets the answer
            # instead of a reset
            left = n if 0 < n <= 16 * MAX_BODY else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            return None
        return self.rfile.read(n) if n else b""

    def _loopback(self):
        try:
            return ipaddress.ip_address(self.client_address[0]).is_loopback
        except ValueError:
            return False

    def _split(self):
        u = urllib.parse.urlsplit(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(u.query, keep_blank_values=True).items()}
        return u.path, q

    # ------------------------------------------------------------ dispatch
    def _dispatch(self):
        path, q = self._split()
        try:
            if path.startswith("/_sim/"):
                return self.control(path, q)
            name = self.server.partner_name
            if name == "payment" and (path.startswith("/pay/") or path.startswith("/bienlai/")):
                return self.payer_pages(path)
            return self.partner_call(path)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True
            return None
        except Exception as e:   # a bug or a bad request line: answer, log the class only
            self.close_connection = True
            self.sim.log("%s: internal error %s on %s %s" % (self.server.partner_name, e.__class__.__name__,
                                                             self.command, path))
            try:
                return self._err(500, "Lỗi hệ thống (mô phỏng)")
            except Exception:
                return None

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch

    # ------------------------------------------------------------ partner API
    def _route(self, path):
        """-> (kind, root, required, code for GET hoso) or None"""
        name = self.server.partner_name
        if self.command == "POST" and path in ROUTES[name]:
            return ROUTES[name][path] + (None,)
        if name == "portal" and self.command == "GET":
            if path == "/dvc/v1/thutuc":
                return ("thutuc", None, (), None)
            m = re.fullmatch(r"/dvc/v1/hoso/([^/]+)", path)
            if m:
                return ("doisoat", None, (), urllib.parse.unquote(m.group(1)))
        return None

    def partner_call(self, path):
        p = self.partner
        route = self._route(path)
        if route is None:
            known = any(path == r for r in ROUTES[self.server.partner_name]) or (
                self.server.partner_name == "portal" and path.startswith("/dvc/v1/"))
            if known:
                return self._err(405, "Phương thức không được hỗ trợ")
            return self._err(404, "Không tìm thấy")
        kind, root_name, required, code = route
        cfg = p.config
        if cfg["down"]:
            self._read_body(MAX_BODY)
            p.count(False)
            self.close_connection = True
            return self._err(503, "Hệ thống đang bảo trì", note="down")
        auth = self.headers.get("Authorization") or ""
        tok = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not tok or not hmac.compare_digest(tok.encode("utf-8"), p.token.encode("utf-8")):
            self._read_body(MAX_BODY)
            p.count(False)
            return self._send(401, ketqua(401, "Chưa xác thực: thiếu hoặc sai mã truy cập"),
                              headers={"WWW-Authenticate": 'Bearer realm="%s"' % p.name}, note="bad token")
        body = self._read_body(MAX_BODY) if self.command == "POST" else (self._read_body(MAX_BODY) or b"")
        if body is None:
            p.count(False)
            return self._err(413, "Nội dung quá lớn")
        mode = p.draw_failure()
        if mode is not None and mode not in ("slow", "after"):
            p.count(False)
            return self._fail(mode)
        if mode == "slow":
            time.sleep(cfg["slow_ms"] / 1000.0)
        if kind == "thutuc":
            return self._thutuc(mode)
        if kind == "doisoat":
            return self._doisoat(code, mode)
        key = self.headers.get("Idempotency-Key")
        if not key or len(key) > 256:
            p.count(False)
            return self._err(400, "Thiếu tiêu đề Idempotency-Key")
        if re.search(rb"<!DOCTYPE", body, re.I) or re.search(rb"<!ENTITY", body, re.I):
            p.count(False)
            return self._err(400, "Không chấp nhận DOCTYPE hay khai báo thực thể", note="DOCTYPE refused")
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            p.count(False)
            return self._err(400, "XML không hợp lệ")
        if root.tag != root_name:
            p.count(False)
            return self._err(400, "Phần tử gốc phải là %s" % root_name)
        vals = {}
        for child in required:
            el = root.find(child)
            if el is None or not (el.text or "").strip():
                p.count(False)
                return self._err(400, "Thiếu %s" % child)
            vals[child] = el.text.strip()
        rc = cfg["reject_contains"]
        if rc is not None and rc.encode("utf-8") in body:
            p.count(False)
            return self._err(400, "Thông điệp bị từ chối", note="rejected (reject_contains)")

        def txt(tag):
            el = root.find(tag)
            return (el.text or "").strip() if el is not None and el.text else None

        fields = {"ma_ho_so": vals.get("MaHoSo")}
        if kind in ("hoso", "tientrinh"):
            fields["trang_thai"] = txt("TrangThaiHoSo" if kind == "hoso" else "TrangThai")
            make = lambda rec: (200, ketqua(0, "Thành công"))
        elif kind == "order":
            fields.update(loai_don_hang=txt("LoaiDonHang"), statuses=[], auto_since=time.time())

            def make(rec):
                rec["so_hieu"] = "EB%09dVN" % p.next_counter("order")
                return 200, ('<?xml version="1.0" encoding="UTF-8"?>\n<KetQuaDonHang><MaLoi>0</MaLoi>'
                             '<SoHieuBuuGui>%s</SoHieuBuuGui></KetQuaDonHang>\n' % rec["so_hieu"])
        else:
            fields.update(ma_giao_dich=vals["MaGiaoDich"], amount=txt("TongTien") or "0",
                          content=txt("NoiDungThanhToan"), return_url=txt("DuongDanTraVe"),
                          deadline=txt("ThoiHanThanhToan"), status="pending", vouchers=[])

            def make(rec):
                rec["tx"] = "PT%010d" % p.next_counter("tx")
                url = "%s/pay/%s" % (self.sim.base("payment"), rec["tx"])
                return 200, ('<?xml version="1.0" encoding="UTF-8"?>\n<KetQuaYeuCau><MaLoi>0</MaLoi>'
                             '<MaGiaoDichNenTang>%s</MaGiaoDichNenTang><DuongDanThanhToan>%s'
                             '</DuongDanThanhToan></KetQuaYeuCau>\n' % (rec["tx"], xesc(url)))
        status, reply, rec, outcome = p.store(key, body, kind, fields, make)
        note = "%s key=%s %s" % (kind, key, outcome)
        if mode == "after" and outcome != "conflict":
            p.count(False)
            return self._err(500, "Lỗi hệ thống", note=note + " then 500 (after)")
        p.count(200 <= status < 300)
        return self._send(status, reply, note=note)

    def _fail(self, mode):
        if mode == "500":
            return self._err(500, "Lỗi hệ thống", note="fail 500")
        if mode == "503":
            return self._send(503, ketqua(503, "Dịch vụ tạm thời không sẵn sàng"),
                              headers={"Retry-After": "1"}, note="fail 503")
        if mode == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._log("-", "fail drop")
            return None
        if mode == "malformed":
            return self._send(200, MALFORMED, note="fail malformed")
        if mode == "oversized":
            return self._send(200, OVERSIZED, note="fail oversized")
        if mode == "hostile":
            return self._send(200, HOSTILE, note="fail hostile")
        return self._err(500, "Lỗi hệ thống")

    def _thutuc(self, mode):
        p = self.partner
        data = self.sim.catalogue()
        if mode == "after":
            p.count(False)
            return self._err(500, "Lỗi hệ thống", note="after")
        if data is None:
            p.count(False)
            return self._err(404, "Chưa có danh mục thủ tục")
        etag = '"%s"' % hashlib.sha256(data).hexdigest()
        inm = self.headers.get("If-None-Match")
        p.count(True)
        if inm:
            tags = [t.strip() for t in inm.split(",")]
            if "*" in tags or any((t[2:] if t.startswith("W/") else t) == etag for t in tags):
                return self._send(304, b"", headers={"ETag": etag}, note="not modified")
        return self._send(200, data, headers={"ETag": etag})

    def _doisoat(self, code, mode):
        p = self.partner
        if mode == "after":
            p.count(False)
            return self._err(500, "Lỗi hệ thống", note="after")
        with p.lock:
            recs = sorted((r for r in p.records.values() if r.get("ma_ho_so") == code), key=lambda r: r["seq"])
        if not recs:
            p.count(True)
            return self._err(404, "Không tìm thấy hồ sơ")
        hoso = [r for r in recs if r["kind"] == "hoso"]
        st = hoso[-1].get("trang_thai") or "" if hoso else ""
        keys = "".join("<Khoa>%s</Khoa>" % xesc(r["key"]) for r in recs if r["kind"] == "tientrinh")
        p.count(True)
        return self._send(200, '<?xml version="1.0" encoding="UTF-8"?>\n<DoiSoatHoSo><MaHoSo>%s</MaHoSo>'
                               '<TrangThaiHoSo>%s</TrangThaiHoSo><DanhSachTienTrinh>%s</DanhSachTienTrinh>'
                               '</DoiSoatHoSo>\n' % (xesc(code), xesc(st), keys))

    # ------------------------------------------------------------ payer's pages
    def payer_pages(self, path):
        sim = self.sim
        m = re.fullmatch(r"/pay/([0-9A-Za-z_.\-]{1,32})(/confirm)?", path)
        if m and self.command == "GET" and not m.group(2):
            rec = sim._request(m.group(1))
            if rec is None:
                return self._send(404, page("Không tìm thấy", "<h1>Không tìm thấy giao dịch</h1>"),
                                  ctype="text/html; charset=utf-8")
            return self._send(200, pay_page(rec), ctype="text/html; charset=utf-8")
        if m and self.command == "POST" and m.group(2):
            raw = self._read_body(65536) or b""
            form = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode("utf-8", "replace")).items()}
            rec = sim._request(m.group(1))
            if rec is None:
                return self._send(404, page("Không tìm thấy", "<h1>Không tìm thấy giao dịch</h1>"),
                                  ctype="text/html; charset=utf-8")
            action = form.get("action")
            if action not in ("pay", "cancel"):
                return self._send(400, page("Yêu cầu không hợp lệ", "<h1>Yêu cầu không hợp lệ</h1>"),
                                  ctype="text/html; charset=utf-8")
            note = "already settled"
            if (rec.get("status") or "pending") == "pending":
                res = sim.payment_pay({"tx": rec["tx"], "status": "1" if action == "pay" else "3",
                                       "payer": (form.get("nguoi_nop") or "").strip()[:255] or None})
                note = "%s, voucher -> %s" % (action, res["http_status"])
            back = rec.get("return_url")
            if not back:
                return self._send(200, pay_page(sim._request(rec["tx"])), ctype="text/html; charset=utf-8",
                                  note=note)
            return self._send(303, b"", ctype="text/plain", headers={"Location": back}, note=note)
        m = re.fullmatch(r"/bienlai/([0-9A-Za-z]{1,32})", path)
        if m and self.command == "GET":
            p = self.partner
            with p.lock:
                for r in p.records.values():
                    for v in r.get("vouchers") or []:
                        if v.get("ma_tra_cuu") == m.group(1):
                            return self._send(200, receipt_page(r, v), ctype="text/html; charset=utf-8")
            return self._send(404, page("Không tìm thấy", "<h1>Không tìm thấy biên lai</h1>"),
                              ctype="text/html; charset=utf-8")
        return self._err(404, "Không tìm thấy")

    # ------------------------------------------------------------ control API
    def _json_body(self):
        raw = self._read_body(MAX_CONTROL)
        if raw is None:
            raise ValueError("body too large")
        doc = json.loads(raw.decode("utf-8") or "{}") if raw.strip() else {}
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is required")
        return doc

    def control(self, path, q):
        if not self._loopback():
            return self._send(403, {"ok": False, "error": "loopback only"})
        p = self.partner
        sim = self.sim
        c = self.command
        try:
            if path == "/_sim/health" and c == "GET":
                return self._send(200, {"ok": True, "partner": p.name})
            if path == "/_sim/config" and c == "GET":
                return self._send(200, p.config)
            if path == "/_sim/config" and c == "POST":
                cfg = p.set_config(self._json_body())
                sim.log("%s config %s" % (p.name, json.dumps(
                    {k: (v if k != "reject_contains" or v is None else "<set>") for k, v in cfg.items()})))
                return self._send(200, cfg)
            if path == "/_sim/received" and c == "GET":
                return self._send(200, p.received(q.get("kind"), q.get("ma_ho_so"), q.get("key")))
            if path == "/_sim/reset" and c == "POST":
                self._read_body(MAX_CONTROL)
                p.reset()
                sim.log("%s reset" % p.name)
                return self._send(200, {"ok": True})
            if path == "/_sim/forget" and c == "POST":
                key = self._json_body().get("key")
                if not isinstance(key, str):
                    raise ValueError("key is required")
                if p.forget(key):
                    return self._send(200, {"ok": True, "forgotten": 1})
                return self._send(404, {"ok": False, "forgotten": 0})
            if path == "/_sim/catalogue" and c in ("PUT", "DELETE") and p.name == "portal":
                if c == "DELETE":
                    self._read_body(MAX_CONTROL)
                    p.set_catalogue(None)
                    return self._send(200, {"ok": True})
                data = self._read_body(MAX_CATALOGUE)
                if data is None:
                    raise ValueError("catalogue too large")
                p.set_catalogue(data)
                return self._send(200, {"ok": True, "bytes": len(data),
                                        "etag": '"%s"' % hashlib.sha256(data).hexdigest()})
            if path == "/_sim/postal/advance" and c == "POST":
                return self._send(200, sim.postal_advance(self._json_body()))
            if path == "/_sim/payment/pay" and c == "POST":
                return self._send(200, sim.payment_pay(self._json_body()))
            if path == "/_sim/payment/requests" and c == "GET":
                return self._send(200, {"items": sim.partners["payment"].received("payment_request")["items"]})
            if path == "/_sim/postal/orders" and c == "GET":
                return self._send(200, {"items": sim.partners["postal"].received("order")["items"]})
        except LookupError as e:
            return self._send(404, {"ok": False, "error": str(e)})
        except (ValueError, TypeError, AttributeError) as e:
            return self._send(400, {"ok": False, "error": str(e)})
        return self._send(404, {"ok": False, "error": "unknown control %s %s" % (c, path)})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def handle_error(self, request, client_address):
        # a client that went away (timeouts, drop mode) is not an error; nothing goes to stderr
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, socket.timeout)):
            return
        self.sim.log("%s: error on a connection: %s" % (self.partner_name, exc.__class__.__name__))


def main():
    ap = argparse.ArgumentParser(description="tthc partner simulators (portal, postal operator, payment platform)")
    ap.add_argument("--host", default="127.0.0.1", help="listen address (loopback; default 127.0.0.1)")
    ap.add_argument("--portal-port", type=int, required=True)
    ap.add_argument("--postal-port", type=int, required=True)
    ap.add_argument("--payment-port", type=int, required=True)
    ap.add_argument("--etc", required=True, help="directory of the partner secrets (ROOT/etc)")
    ap.add_argument("--tthc-url", required=True, help="tthc's base URL (callbacks), e.g. http://127.0.0.1:8080")
    ap.add_argument("--catalogue", help="catalogue export (DanhSachThuTuc) served by the portal; read when asked")
    ap.add_argument("--state-dir", help="where what was received is kept (JSONL), reloaded at start")
    ap.add_argument("--postal-auto", type=float, default=0,
                    help="demo: every order advances 100->200->300->500, one step per SECONDS (0 = off)")
    ap.add_argument("--pidfile")
    ap.add_argument("--log", help="log file (default stderr)")
    args = ap.parse_args()
    if not ipaddress.ip_address(args.host).is_loopback:
        sys.exit("partners_sim: --host must be a loopback address")

    sim = Sim(args)
    servers = []
    for name in ("portal", "postal", "payment"):
        try:
            s = Server((args.host, sim.ports[name]), Handler)
        except OSError as e:
            for o in servers:
                o.server_close()
            sys.exit("partners_sim: cannot listen on %s:%d: %s" % (args.host, sim.ports[name], e.strerror))
        s.sim = sim
        s.partner_name = name
        servers.append(s)
    if args.pidfile:
        tmp = args.pidfile + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(tmp, args.pidfile)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
               for s in servers]
    for t in threads:
        t.start()
    if args.postal_auto and args.postal_auto > 0:
        threading.Thread(target=sim.postal_auto_loop, args=(args.postal_auto, stop), daemon=True).start()
    sim.log("listening: portal %d, postal %d, payment %d; tthc %s; postal auto %s" % (
        args.portal_port, args.postal_port, args.payment_port, sim.tthc_url, args.postal_auto or "off"))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
        for p in sim.partners.values():
            with p.lock:
                if p.state_file is not None:
                    p.state_file.close()
                    p.state_file = None
        sim.log("stopped")
        if args.pidfile:
            try:
                with open(args.pidfile) as f:
                    if f.read().strip() == str(os.getpid()):
                        os.unlink(args.pidfile)
            except OSError:
                pass


if __name__ == "__main__":
    main()
