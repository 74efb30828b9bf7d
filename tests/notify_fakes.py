"""Local stand-ins for the outside services, for tests and the benchmark: a GOV.UK Notify API server that
checks each request's JWT (HS256 with the API key's secret, iss = the service id, iat = now) and answers 201
with an id, or whatever a test scripts (400, 429, 500); and a real SMTP server (aiosmtpd) keeping what it got.
Bound to 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from aiosmtpd.controller import Controller

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"alongside_test-{SERVICE_ID}-{SECRET}"
SMS_TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"
EMAIL_TEMPLATE = "7c2d2e8f-7a7e-4c9d-a0a4-0b1f7b2e7d11"


class NotifyFake:
    def __init__(self, secret: str = SECRET, service_id: str = SERVICE_ID, verify_every: int = 1):
        self.secret, self.service_id, self.verify_every = secret, service_id, verify_every
        self.count = 0
        self.received: list[dict] = []
        self.problems: list[str] = []
        self.script: list = []  # statuses to answer in turn before 201s
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, as a real server's do

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = fake.handle(self.path, self.headers.get("Authorization", ""), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, authorization: str, body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.count += 1
            check = self.count % self.verify_every == 0
        if not check:  # the benchmark checks every Nth request only, so the stand-in costs less than the sender
            data = json.loads(body)
            with self.lock:
                self.received.append({"path": path, "data": data, "status": 201})
            return 201, {"id": str(uuid.uuid4()), "reference": data.get("reference"), "content": {}}
        try:
            scheme, _, token = authorization.partition(" ")
            assert scheme == "Bearer", "Authorization: Bearer <JWT>"
            assert jwt.get_unverified_header(token)["alg"] == "HS256", "alg"
            claims = jwt.decode(token, self.secret, algorithms=["HS256"], options={"verify_iat": False})
            assert claims["iss"] == self.service_id, "iss is not the service id"
            assert abs(claims["iat"] - time.time()) < 30, "iat is not now"
            data = json.loads(body)
            assert path in ("/v2/notifications/sms", "/v2/notifications/email"), path
            field = "phone_number" if path.endswith("sms") else "email_address"
            assert data[field] and data["template_id"], "address and template"
        except Exception as exc:  # noqa: BLE001 - a test asserts problems == []
            with self.lock:
                self.problems.append(repr(exc))
            return 403, {"errors": [{"error": "AuthError", "message": "Invalid token"}], "status_code": 403}
        with self.lock:
            status = self.script.pop(0) if self.script else 201
            self.received.append({"path": path, "data": data, "status": status})
        if status != 201:
            return status, {"errors": [{"error": "Error", "message": "scripted"}], "status_code": status}
        return 201, {"id": str(uuid.uuid4()), "reference": data.get("reference"), "content": {}}


class _Keep:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.sink.refuse:
            return self.sink.refuse.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default_policy) if self.sink.parse else None
        self.sink.received.append({"to": envelope.rcpt_tos, "from": envelope.mail_from, "message": message})
        return "250 Message accepted"


class SmtpFake:
    """aiosmtpd on 127.0.0.1; `refuse` holds RCPT replies to give in turn (e.g. "451 try later")."""

    def __init__(self, parse: bool = True):
        self.received: list[dict] = []
        self.refuse: list[str] = []
        self.parse = parse  # the benchmark keeps the raw message only
        with socket.socket() as probe:  # aiosmtpd checks readiness by connecting, so it needs a real port
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.controller = Controller(_Keep(self), hostname="127.0.0.1", port=port, server_hostname="localhost")
        self.controller.start()
        self.url = f"smtp+plain://127.0.0.1:{port}"

    def close(self):
        self.controller.stop()
