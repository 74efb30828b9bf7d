"""Field devices: registration, the caller's own unrevoked device, and when it was last seen or synced."""

from __future__ import annotations

from ..db import utcnow, write_transaction
from ..models import Device, User
from ..prepared import Prepared
from .errors import SyncError

DEVICE_TOUCH_SECONDS = 15
_SYNCED = Prepared(lambda device, now: Device.update(last_seen_at=now, last_sync_at=now).where(Device.id == device),
                   device=Device.id, now=Device.last_seen_at)  # every push
_DEVICE = Prepared(lambda uuid: Device.select().where(Device.uuid == uuid).limit(1), uuid=Device.uuid)  # every sync


def register_device(user: User, name: str) -> Device:
    with write_transaction():
        return Device.create(user=user, name=name.strip()[:80] or "Phone", last_seen_at=utcnow())


def device_for(user: User, device_id) -> Device:
    """The caller's own, unrevoked device, or SyncError (403)."""
    device = _DEVICE.first(uuid=device_id)
    if device is None or device.user_id != user.id:
        raise SyncError(403, "unknown_device", "This device is not registered to you. Sign in again to register it.")
    if device.revoked_at is not None:
        raise SyncError(403, "device_revoked", "This device was signed out by a coordinator. Its local data will be "
                                               "removed; sign in again on a trusted device.")
    return device


def touch_device(device: Device, synced: bool) -> None:
    """Keep last_seen_at / last_sync_at fresh without turning every pull into a write."""
    now = utcnow()
    last = device.last_sync_at if synced else device.last_seen_at
    if last is not None and (now - last).total_seconds() < DEVICE_TOUCH_SECONDS:
        return
    values = {Device.last_seen_at: now}
    if synced:
        values[Device.last_sync_at] = now
    with write_transaction():
        Device.update(values).where(Device.id == device.id).execute()
    device.last_seen_at = now
    if synced:
        device.last_sync_at = now


def mark_synced(device: Device) -> None:
    """Inside a push's write transaction: the device was seen and synced now."""
    _SYNCED.execute(device=device.id, now=utcnow())
