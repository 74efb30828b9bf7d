"""Keeping push subscriptions: one row per endpoint (a browser that subscribes again with the same endpoint
moves the row to its new owner and keys). The endpoint's hash is the unique key."""

from __future__ import annotations

import hashlib

from ..models import PushSubscription


def endpoint_hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def save_push_subscription(sub: dict, *, person=None, device=None, user=None) -> PushSubscription:
    """Insert or move a checked subscription ({"endpoint", "p256dh", "auth"}) to a person's device or a
    staff user. Call inside a write transaction."""
    if (person is None) == (user is None):
        raise ValueError("a subscription belongs to a person or to a staff user")
    key = endpoint_hash(sub["endpoint"])
    row = PushSubscription.get_or_none(PushSubscription.endpoint_hash == key)
    if row is None:
        return PushSubscription.create(person=person, user=user, device=device, endpoint=sub["endpoint"],
                                       endpoint_hash=key, p256dh=sub["p256dh"], auth=sub["auth"])
    row.person, row.user, row.device, row.p256dh, row.auth = person, user, device, sub["p256dh"], sub["auth"]
    row.save()
    return row
