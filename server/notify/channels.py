"""What every transport gives the dispatcher: an Outcome per send. delivered (done), retry (429, 5xx,
time-out, no connection: try again later, honouring Retry-After), gone (the address no longer exists:
a push subscription answered 404/410), failed (refused for good). Errors carry a status or an exception
type only: never an address, a key or a body."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime


@dataclass
class Outcome:
    outcome: str  # delivered | retry | gone | failed
    http_status: int | None = None
    error: str = ""
    retry_after: int | None = None
    provider_id: str = ""


@dataclass
class Send:
    """One message, resolved: where to (address or push subscription info) and what (rendered bodies)."""

    message_id: int
    channel: str
    transport: str
    address: str  # phone number or email address; the endpoint for webpush
    push_info: dict | None
    rendered: object  # templates.Rendered
    ttl: int
    urgency: str
    tag: str


def from_status(status: int, retry_after: int | None = None, provider_id: str = "",
                service: str = "service") -> Outcome:
    if status in (200, 201, 202):
        return Outcome("delivered", status, provider_id=provider_id)
    if status in (404, 410):
        return Outcome("gone", status, f"{service} answered {status}")
    if status == 429 or status >= 500:
        return Outcome("retry", status, f"{service} answered {status}", retry_after)
    return Outcome("failed", status, f"{service} refused: {status}")


def retry_after_seconds(value) -> int | None:
    if not value:
        return None
    try:
        return max(0, int(value))
    except ValueError:
        try:
            return max(0, int(parsedate_to_datetime(value).timestamp() - time.time()))
        except (TypeError, ValueError):
            return None
