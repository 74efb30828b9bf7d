"""A local Web Push service for tests: checks the VAPID JWT (ES256 signature, aud, exp, sub) and the
headers, decrypts the aes128gcm body with the subscription's private key (http_ece), and answers
201 or whatever status a test asks for (404, 410, 429, 500, or a slow answer for time-outs)."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushEndpoint:
    def __init__(self, vapid_public_key: str, subject: str):
        self.vapid_public_key = vapid_public_key
        self.subject = subject
        self.keys: dict[str, tuple] = {}  # id -> (private key, auth secret)
        self.script: dict[str, list] = {}  # id -> statuses to answer in turn (int, or ("slow", seconds))
        self.received: list[dict] = []  # every decrypted push
        self.problems: list[str] = []  # anything that failed verification
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as a real server's do

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                status = endpoint.handle(self.path, dict(self.headers.items()), body)
                if isinstance(status, tuple):
                    time.sleep(status[1])
                    status = 201
                headers = {"Retry-After": "1"} if status == 429 else {}
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def new_subscription(self, answers=None) -> dict:
        """A browser-like subscription for this endpoint; `answers` scripts its responses."""
        sub_id = os.urandom(8).hex()
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.keys[sub_id] = (key, auth)
        if answers:
            self.script[sub_id] = list(answers)
        public = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.origin}/push/{sub_id}", "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    # --- checks -------------------------------------------------------------------------------

    def verify_vapid(self, authorization: str) -> None:
        scheme, _, params = authorization.partition(" ")
        assert scheme == "vapid", "scheme"
        parts = dict(p.strip().split("=", 1) for p in params.split(","))
        assert parts["k"] == self.vapid_public_key, "k is not the server's VAPID public key"
        header_b64, payload_b64, sig_b64 = parts["t"].split(".")
        header = json.loads(unb64url(header_b64))
        assert header["alg"] == "ES256", "alg"
        signature = unb64url(sig_b64)
        assert len(signature) == 64, "ES256 signature is r||s"
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
        try:
            public.verify(der, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise AssertionError("bad VAPID signature") from exc
        claims = json.loads(unb64url(payload_b64))
        assert claims["aud"] == self.origin, f"aud {claims['aud']}"
        now = time.time()
        assert now < claims["exp"] <= now + 24 * 3600, "exp must be in the future, within 24 h"
        assert claims["sub"] == self.subject, "sub"

    def handle(self, path: str, headers: dict, body: bytes):
        lower = {k.lower(): v for k, v in headers.items()}
        sub_id = path.rsplit("/", 1)[-1]
        with self.lock:
            script = self.script.get(sub_id)
            answer = script.pop(0) if script else 201
        if sub_id not in self.keys:
            return 404
        try:
            self.verify_vapid(lower.get("authorization", ""))
            assert lower.get("content-type") == "application/octet-stream", "content-type"
            assert lower.get("content-encoding") == "aes128gcm", "content-encoding"
            assert int(lower.get("ttl", "0")) > 0, "TTL must be set"
            assert lower.get("urgency") in ("very-low", "low", "normal", "high"), "Urgency must be set"
            key, auth = self.keys[sub_id]
            plaintext = http_ece.decrypt(body, private_key=key, auth_secret=auth, version="aes128gcm")
        except Exception as exc:  # noqa: BLE001 - a test asserts problems == []
            with self.lock:
                self.problems.append(f"{sub_id}: {exc!r}")
            return 400
        with self.lock:
            self.received.append({"sub": sub_id, "payload": json.loads(plaintext), "ttl": int(lower["ttl"]),
                                  "urgency": lower["urgency"], "status": answer, "headers": lower})
        return answer
