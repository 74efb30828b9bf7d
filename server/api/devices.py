"""Devices: a phone registers itself once after sign-in and names itself in every push and pull. A phone also
fetches its own wrap key here: a random key that wraps the phone's data key a second time, so a forgotten PIN
costs an online sign-in, never unsynced work (SECURITY.md)."""

from __future__ import annotations

import base64
import secrets
import uuid

from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .. import sync
from ..auth import end_current_session, has_revoked_device, use_device
from ..db import write_transaction
from ..errors import ApiError
from ..extensions import ErrorSchema
from ..models import AuditEvent, Device
from ..schemas import DeviceCreatedSchema, DeviceCreateSchema

blp = Blueprint("devices_api", __name__, url_prefix="/api/v1/devices", description="Register a field device")
REVOKED = ("This device was signed out by a coordinator. Its local data will be removed; sign in again on a "
           "trusted device.")


class DeviceNamedSchema(Schema):
    device_id = fields.String()
    name = fields.String()


class DeviceKeySchema(Schema):
    key = fields.String(required=True, metadata={"description": "32 random bytes, base64: this device's wrap key"})


@blp.route("", methods=["POST"])
@blp.arguments(DeviceCreateSchema)
@blp.response(201, DeviceCreatedSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="csrf_failed, or device_revoked: this sign-in used a "
                  "device that has since been revoked (the session has ended)")
def create_device(args):
    """Register this device for the signed-in user; keep the returned device_id for push and pull."""
    user = current_user._get_current_object()
    if has_revoked_device(user):
        end_current_session()
        raise ApiError(403, "device_revoked", REVOKED)
    device = sync.register_device(user, args["name"])
    use_device(user, device)
    with write_transaction():
        AuditEvent.record(user, "device.register", "device", device.uuid)
    return {"device_id": str(device.uuid)}


def own_device(device_id) -> Device:
    """The signed-in user's own, unrevoked device (a UUID or its text), or the sync contract's 403."""
    try:
        key = device_id if isinstance(device_id, uuid.UUID) else uuid.UUID(device_id)
    except ValueError as exc:
        raise ApiError(403, "unknown_device", "This device is not registered to you.") from exc
    user = current_user._get_current_object()
    try:
        device = sync.device_for(user, key)
    except sync.SyncError as exc:
        if exc.code == "device_revoked":  # a sign-in that shows a revoked device ends with it
            end_current_session()
        raise ApiError(exc.status, exc.code, exc.message) from exc
    use_device(user, device)
    return device


@blp.route("/<string:device_id>", methods=["PATCH"])
@blp.arguments(DeviceCreateSchema)
@blp.response(200, DeviceNamedSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="csrf_failed, unknown_device or device_revoked")
@blp.alt_response(422, schema=ErrorSchema, description="No name, or longer than 80 characters")
def rename_device(args, device_id):
    """Rename this device (the name coordinators see in the device list, e.g. "Work phone")."""
    name = args["name"].strip()
    if not name:
        raise ApiError(422, "validation_failed", errors={"name": ["Give the device a name."]})
    device = own_device(device_id)  # outside the write: a revoked device's sign-in must end even as this fails
    with write_transaction():
        Device.update(name=name).where(Device.id == device.id).execute()
    return {"device_id": str(device.uuid), "name": name}


@blp.route("/<string:device_id>/key", methods=["GET"])
@blp.response(200, DeviceKeySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="unknown_device (not yours) or device_revoked (wipe)")
@blp.alt_response(404, schema=ErrorSchema, description="No key made for this device yet")
def get_device_key(device_id):
    """This device's wrap key, only to its own signed-in user and only while the device is not revoked."""
    device = own_device(device_id)
    if not device.wrap_key:
        raise ApiError(404, "no_key", "This device has no key yet.")
    return {"key": device.wrap_key}


@blp.route("/<string:device_id>/key", methods=["POST"])
@blp.response(200, DeviceKeySchema)
@blp.alt_response(401, schema=ErrorSchema, description="Not signed in")
@blp.alt_response(403, schema=ErrorSchema, description="csrf_failed, unknown_device or device_revoked")
def make_device_key(device_id):
    """Make this device's wrap key once (32 random bytes) and return it; later calls return the same key."""
    device = own_device(device_id)
    with write_transaction():
        if not device.wrap_key:
            device.wrap_key = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
            Device.update(wrap_key=device.wrap_key).where(
                (Device.id == device.id) & Device.wrap_key.is_null()).execute()
            device = Device.get_by_id(device.id)
    return {"key": device.wrap_key}
