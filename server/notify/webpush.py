"""Web Push: the only module that uses pywebpush (for RFC 8291 aes128gcm encryption). The request is
made here, so strict push services get what RFC 8030 asks for: Content-Type application/octet-stream,
Content-Encoding aes128gcm, a VAPID Authorization (RFC 8292), TTL and Urgency; redirects are not followed
and the endpoint is checked against the allow-list again just before sending."""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import urlsplit

import urllib3
from py_vapid import Vapid02
from pywebpush import WebPusher

from .channels import Outcome, Send, from_status, retry_after_seconds
from .endpoints import endpoint_problem
from .settings import NotifySettings


class VapidSigner:
    """Signs one VAPID JWT per push-service origin and reuses it until an hour before it expires."""

    def __init__(self, pem: str, subject: str, lifetime: int):
        self._vapid = Vapid02.from_pem(pem.encode())
        self._subject = subject
        self._lifetime = lifetime
        self._cache: dict[str, tuple[int, str]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key, even in a traceback's locals
        return "<VapidSigner>"

    def authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        aud = f"{parts.scheme}://{parts.netloc}"
        now = int(time.time())
        with self._lock:
            cached = self._cache.get(aud)
            if cached and cached[0] - now > 3600:
                return cached[1]
            exp = now + self._lifetime
            header = self._vapid.sign({"aud": aud, "exp": exp, "sub": self._subject})["Authorization"]
            self._cache[aud] = (exp, header)
            return header


def payload(send: Send) -> bytes:
    """What the phone's service worker receives: fixed words, a path, a tag. No names, no typed text."""
    r = send.rendered
    return json.dumps({"title": r.push_title, "body": r.push_body, "url": r.url, "tag": send.tag}).encode()


class WebPushTransport:
    def __init__(self, settings: NotifySettings):
        self.settings = settings
        self.signer = VapidSigner(settings.vapid_pem, settings.vapid_subject, settings.limits.vapid_lifetime)
        self._local = threading.local()

    def __repr__(self) -> str:
        return "<WebPushTransport>"

    def _pool(self) -> urllib3.PoolManager:
        """Keep-alive connections per sending thread. urllib3 directly: requests' per-call overhead (cookies,
        environment proxies, hooks) cost more than the encryption; nothing here needs it."""
        pool = getattr(self._local, "pool", None)
        if pool is None:
            timeout = self.settings.limits.request_timeout
            pool = urllib3.PoolManager(num_pools=8, maxsize=4, retries=False,
                                       timeout=urllib3.Timeout(connect=timeout, read=timeout))
            self._local.pool = pool
        return pool

    def request(self, send: Send) -> tuple[str, dict, bytes]:
        """The endpoint, headers and encrypted body of one push (also what the tests inspect)."""
        info = send.push_info
        encoded = WebPusher(info).encode(payload(send), "aes128gcm")
        headers = {
            "Authorization": self.signer.authorization(info["endpoint"]),
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
            "TTL": str(max(0, int(send.ttl))),
            "Urgency": send.urgency,
        }
        return info["endpoint"], headers, encoded["body"]

    def send(self, send: Send) -> Outcome:
        problem = endpoint_problem(send.push_info.get("endpoint"), self.settings)
        if problem:
            return Outcome("failed", None, f"endpoint refused: {problem}")
        try:
            endpoint, headers, body = self.request(send)
            response = self._pool().request("POST", endpoint, body=body, headers=headers, redirect=False,
                                            preload_content=True)
        except urllib3.exceptions.TimeoutError:
            return Outcome("retry", None, "timed out")
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ProtocolError,
                urllib3.exceptions.MaxRetryError, ConnectionError):
            return Outcome("retry", None, "could not connect")
        except Exception as exc:  # noqa: BLE001 - one bad subscription must not stop the batch
            return Outcome("failed", None, f"could not send: {type(exc).__name__}")
        return from_status(response.status, retry_after_seconds(response.headers.get("Retry-After")),
                           service="push service")
