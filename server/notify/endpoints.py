"""Which push endpoints the server will ever send to. A subscription comes from an unauthenticated page,
so its endpoint is a request the server would make on someone else's say-so: in production only HTTPS on
port 443 to a host on the push-service allow-list, and never a numeric, loopback, private, link-local or
single-label host (checked when a subscription is saved and again before each send)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from urllib.parse import urlsplit

from .settings import NotifySettings

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")
_NUMERIC = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home", ".intranet", ".corp", ".arpa")


class SubscriptionError(ValueError):
    pass


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    for pattern in allowed:
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif host == pattern:
            return True
    return False


def endpoint_problem(endpoint, settings: NotifySettings) -> str | None:
    """None if the server may send to this endpoint, else why not (for logs and tests, no URL in it)."""
    if not isinstance(endpoint, str) or len(endpoint) > 2000 or any(c.isspace() for c in endpoint):
        return "bad endpoint"
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "bad endpoint"
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host or parts.username or parts.password:
        return "bad endpoint"
    if settings.allow_local_push and not settings.production:
        return None
    if parts.scheme != "https" or port not in (None, 443):
        return "not https on port 443"
    try:
        ipaddress.ip_address(host.strip("[]"))
        return "numeric host"
    except ValueError:
        pass
    if _NUMERIC.match(host) or not _HOST.match(host):
        return "numeric or malformed host"
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return "local host"
    if not host_allowed(host, settings.push_hosts):
        return "host not on the push-service allow-list"
    return None


def _b64url(value, size: int) -> bytes:
    if not isinstance(value, str) or len(value) > 200:
        raise SubscriptionError("bad key")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SubscriptionError("bad key") from exc
    if len(raw) != size:
        raise SubscriptionError("bad key")
    return raw


def clean_subscription(data, settings: NotifySettings) -> dict:
    """A browser PushSubscription's JSON, checked: an endpoint the server may send to, a P-256 point and
    a 16-byte auth secret. Returns {"endpoint", "p256dh", "auth"}."""
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise SubscriptionError("subscription missing")
    problem = endpoint_problem(data.get("endpoint"), settings)
    if problem:
        raise SubscriptionError(problem)
    p256dh, auth = data["keys"].get("p256dh"), data["keys"].get("auth")
    if _b64url(p256dh, 65)[0] != 4:
        raise SubscriptionError("bad key")
    _b64url(auth, 16)
    return {"endpoint": data["endpoint"], "p256dh": p256dh, "auth": auth}
